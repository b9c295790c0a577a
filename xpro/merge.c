// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "merge.h"

static int64_t sd(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b);
}

int xpro_merge(struct xpro_lrec *l, int l_found, struct xpro_mrec *m, int m_found,
	       const struct xpro_merge_params *p)
{
	uint32_t r = p->r ? p->r : 1;
	int branch;

	if (l_found && m_found) {
		/* lines 6-8: the local window was reset and started after the master's */
		if (l->mark == 1 && sd(l->ts1, m->ts1) > (int64_t)p->tt1_ns) {
			l->mark = 0;
			l->dc = 0;
			m->ts1 = l->ts1;
			m->ts2 = l->ts2;
			m->c = l->c;
			return XPRO_MERGE_RESET;
		}
		/* lines 10-24 */
		l->mark = 0;
		if (sd(l->ts2, m->ts2) < 0) {
			l->ts2 = m->ts2;
			branch = XPRO_MERGE_LEARN;
		} else if (sd(l->ts2, m->ts1) > (int64_t)p->tt4_ns) {
			/* ts1' = ts2' - (ts2' - ts1) / r; c = floor(c / r) */
			l->ts1 = l->ts2 - (uint64_t)(sd(l->ts2, m->ts1) / (int64_t)r);
			m->c = m->c / r;
			m->ts1 = l->ts1;
			m->ts2 = l->ts2;
			branch = XPRO_MERGE_DECAY;
		} else {
			m->ts2 = l->ts2;
			branch = XPRO_MERGE_TELL;
		}
		/*
		 * Our reading (docs/algorithms.md, "Decay with several proxies"):
		 * when the master's window start moved forward since this proxy
		 * last merged (another proxy decayed or restarted it), the local
		 * window takes it, instead of pushing its older start back by the
		 * next line; otherwise the proxies undo each other's decay and
		 * halve the count every period.
		 */
		if (branch != XPRO_MERGE_DECAY && l->mts1 && sd(m->ts1, l->mts1) > 0 && sd(l->ts1, m->ts1) < 0)
			l->ts1 = m->ts1;
		if (sd(l->ts1, m->ts1) > 0)
			l->ts1 = m->ts1;
		else if (sd(l->ts2, l->ts1) > (int64_t)p->tt4_ns)
			m->ts1 = l->ts1;
		/* line 24: the master grows by this proxy's delta only */
		l->c = m->c + l->dc;
		m->c = l->c;
		l->dc = 0;
		return branch;
	}
	if (m_found) {
		/* lines 26-28: a record only the master knows */
		l->ts1 = m->ts1;
		l->ts2 = m->ts2;
		l->c = m->c;
		l->dc = 0;
		l->mark = 0;
		return XPRO_MERGE_PULL;
	}
	if (l_found) {
		/* lines 31-33 ("does not contain", as the draft has it) + dc' = 0 */
		m->ts1 = l->ts1;
		m->ts2 = l->ts2;
		m->c = l->c;
		l->dc = 0;
		return XPRO_MERGE_PUSH;
	}
	return 0;
}
