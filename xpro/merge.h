/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Algorithm 1 of the X-Pro paper, one record at a time, as a pure function:
 * the reference for the master-side script and the sync daemons. The
 * reading is docs/algorithms.md (Algorithm 1); every branch is pinned in
 * tests/unit/test_merge.c.
 */
#ifndef XPRO_MERGE_H
#define XPRO_MERGE_H

#include <stdint.h>

/* What a proxy holds for (i, D) (the primed fields), and mts1: the
 * master's window start this proxy saw at its last merge (0: unknown). */
struct xpro_lrec {
	uint64_t ts1, ts2, c, dc;
	uint32_t mark;
	uint64_t mts1;
};

/* What the master holds for (i, D). */
struct xpro_mrec {
	uint64_t ts1, ts2, c;
};

struct xpro_merge_params {
	uint64_t tt1_ns, tt4_ns;
	uint32_t r;              /* >= 1 */
	uint64_t ttl_ms;         /* master only: expiry of a written record (0: none) */
};

enum xpro_merge_branch {
	XPRO_MERGE_RESET = 1,   /* local window reset since the last sync: the master takes it */
	XPRO_MERGE_LEARN = 2,   /* merge; the local side learned the master's later last-seen */
	XPRO_MERGE_DECAY = 3,   /* merge; the long window was decayed by r */
	XPRO_MERGE_TELL  = 4,   /* merge; the master learned the local later last-seen */
	XPRO_MERGE_PULL  = 5,   /* only the master knows the pair */
	XPRO_MERGE_PUSH  = 6,   /* only this proxy knows the pair */
};

/*
 * Merge one record. l_found / m_found say which sides hold (i, D); the
 * absent side is written from the other. Returns the branch taken, or 0
 * when neither side holds the pair. Times are signed differences.
 */
int xpro_merge(struct xpro_lrec *l, int l_found, struct xpro_mrec *m, int m_found,
	       const struct xpro_merge_params *p);

#endif
