// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of xpro_merge() (Algorithm 1, one record), branch by branch.
 * TT1 = 1000 ms, TT4 = 10000 ms, r = 2; times written in ms. Every expected
 * value is worked by hand in the comment above it from docs/algorithms.md.
 */
#include <string.h>
#include "tap.h"
#include "merge.h"

#define MS 1000000ULL

static const struct xpro_merge_params P = { 1000 * MS, 10000 * MS, 2, 0 };

static struct xpro_lrec L(uint64_t ts1, uint64_t ts2, uint64_t c, uint64_t dc, uint32_t mark)
{
	return (struct xpro_lrec){ ts1 * MS, ts2 * MS, c, dc, mark, 0 };
}

static struct xpro_mrec M(uint64_t ts1, uint64_t ts2, uint64_t c)
{
	return (struct xpro_mrec){ ts1 * MS, ts2 * MS, c };
}

static int same_l(struct xpro_lrec a, struct xpro_lrec b)
{
	return a.ts1 == b.ts1 && a.ts2 == b.ts2 && a.c == b.c && a.dc == b.dc && a.mark == b.mark;
}

static int same_m(struct xpro_mrec a, struct xpro_mrec b)
{
	return a.ts1 == b.ts1 && a.ts2 == b.ts2 && a.c == b.c;
}

int main(void)
{
	struct xpro_lrec l;
	struct xpro_mrec m;
	struct xpro_merge_params p3 = P;
	int b;

	/* mark = 1 and ts1' - ts1 = 5000 - 3000 = 2000 > TT1: the master takes the
	 * local window (c = 7, others' 40 dropped), mark' = dc' = 0 */
	l = L(5000, 5200, 7, 7, 1);
	m = M(3000, 3500, 40);
	b = xpro_merge(&l, 1, &m, 1, &P);
	ok(b == XPRO_MERGE_RESET, "reset branch when the local window restarted > TT1 after the master's");
	ok(same_m(m, M(5000, 5200, 7)), "reset: master = local window (5000, 5200, 7)");
	ok(same_l(l, L(5000, 5200, 7, 0, 0)), "reset: mark' = 0, dc' = 0, local window kept");

	/* mark = 1 but ts1' - ts1 = 1000, exactly TT1: merge instead.
	 * ts2' 4300 >= ts2 4100, ts2' - ts1 = 1300 <= TT4: ts2 = 4300.
	 * ts1' 4000 > ts1 3000: ts1' = 3000. c' = 20 + 5 = 25 = c. */
	l = L(4000, 4300, 5, 5, 1);
	m = M(3000, 4100, 20);
	b = xpro_merge(&l, 1, &m, 1, &P);
	ok(b == XPRO_MERGE_TELL, "exactly TT1 apart: no reset, the master learns the later last-seen");
	ok(same_l(l, L(3000, 4300, 25, 0, 0)), "merge: local (3000, 4300, 25), dc' = 0, mark' = 0");
	ok(same_m(m, M(3000, 4300, 25)), "merge: master (3000, 4300, 25) grew by the delta 5");

	/* ts2' 3200 < ts2 3600: ts2' = 3600; ts1' 3000 > 2500: ts1' = 2500;
	 * c' = 50 + 4 = 54 */
	l = L(3000, 3200, 30, 4, 0);
	m = M(2500, 3600, 50);
	b = xpro_merge(&l, 1, &m, 1, &P);
	ok(b == XPRO_MERGE_LEARN, "the local side learns the master's later last-seen");
	ok(same_l(l, L(2500, 3600, 54, 0, 0)) && same_m(m, M(2500, 3600, 54)),
	   "learn: local and master (2500, 3600, 54)");

	/* ts2' - ts1 = 14000 - 2000 = 12000 > TT4: ts1' = 14000 - 12000 / 2 = 8000,
	 * c = 120 / 2 = 60, ts1 = 8000, ts2 = 14000; then c' = 60 + 10 = 70 */
	l = L(2000, 14000, 100, 10, 0);
	m = M(2000, 13000, 120);
	b = xpro_merge(&l, 1, &m, 1, &P);
	ok(b == XPRO_MERGE_DECAY, "a window longer than TT4 decays");
	ok(same_l(l, L(8000, 14000, 70, 0, 0)) && same_m(m, M(8000, 14000, 70)),
	   "decay by r = 2: (8000, 14000, 60 + 10 = 70)");

	/* r = 3: ts1' = 14000 - 12000 / 3 = 10000, c = floor(100 / 3) = 33, + 1 */
	p3.r = 3;
	l = L(2000, 14000, 100, 1, 0);
	m = M(2000, 13000, 100);
	xpro_merge(&l, 1, &m, 1, &p3);
	ok(same_l(l, L(10000, 14000, 34, 0, 0)) && same_m(m, M(10000, 14000, 34)),
	   "decay by r = 3: floor(100 / 3) + 1 = 34, ts1 = 10000");

	/* ts2' 12000 < 12500: learn; ts1' 1000 <= 5000 and ts2' - ts1' = 11500 > TT4:
	 * the master takes the earlier start ts1 = 1000; c' = 10 + 3 = 13 */
	l = L(1000, 12000, 13, 3, 0);
	m = M(5000, 12500, 10);
	xpro_merge(&l, 1, &m, 1, &P);
	ok(same_l(l, L(1000, 12500, 13, 0, 0)) && same_m(m, M(1000, 12500, 13)),
	   "a local window longer than TT4 gives the master its earlier start");

	/* only the master knows the pair: the local side copies it */
	memset(&l, 0xff, sizeof(l));
	m = M(100, 900, 9);
	b = xpro_merge(&l, 0, &m, 1, &P);
	ok(b == XPRO_MERGE_PULL && same_l(l, L(100, 900, 9, 0, 0)), "pull: local = master, dc' = 0, mark' = 0");

	/* only this proxy knows it: push, and dc' = 0 (the paper omits it) */
	l = L(100, 400, 6, 6, 0);
	memset(&m, 0xff, sizeof(m));
	b = xpro_merge(&l, 1, &m, 0, &P);
	ok(b == XPRO_MERGE_PUSH && same_m(m, M(100, 400, 6)) && l.dc == 0, "push: master = local, dc' = 0");
	/* the next sync with no new packet must not count the window twice:
	 * with dc' left at 6 the master would become 12 */
	b = xpro_merge(&l, 1, &m, 1, &P);
	is_u64(m.c, 6, "a second sync after a push does not double the count");

	/* two proxies: the master grows by each proxy's delta, not its whole count */
	m = M(1000, 1100, 10);  /* proxy A's 10 */
	l = L(1050, 1200, 5, 5, 0);
	xpro_merge(&l, 1, &m, 1, &P);
	is_u64(m.c, 15, "proxy B's delta of 5 added to A's 10");
	is_u64(l.c, 15, "proxy B now knows the global 15");

	/* skewed clocks: this proxy is 400 ms behind, its mark = 1 window starts
	 * at 10000 while the master's started at 10500: ts1' - ts1 = -400, signed,
	 * not > TT1 (unsigned it would be ~1.8e19 and reset wrongly) */
	l = L(10000, 10100, 3, 3, 1);
	m = M(10500, 10600, 8);
	b = xpro_merge(&l, 1, &m, 1, &P);
	ok(b == XPRO_MERGE_LEARN, "skewed clocks: negative difference is no reset");
	ok(same_l(l, L(10000, 10600, 11, 0, 0)) && same_m(m, M(10500, 10600, 11)),
	   "skewed clocks: local (10000, 10600, 11), master keeps its start 10500");

	/* decay with several proxies (docs/algorithms.md): proxy A decayed the
	 * master's window to start at 15000 (c 50). Proxy B still holds its old
	 * start 0, ts2' = 20000, delta 10.
	 * Paper, B does not know the master moved (mts1 unknown): ts2' - ts1 =
	 * 5000 <= TT4: ts2 = 20000 (tell); ts1' 0 < 15000 and ts2' - ts1' =
	 * 20000 > TT4: ts1 = ts1' = 0 -- A's decay is undone; c' = 50 + 10 = 60 */
	l = L(0, 20000, 100, 10, 0);
	m = M(15000, 20000, 50);
	b = xpro_merge(&l, 1, &m, 1, &P);
	ok(b == XPRO_MERGE_TELL && same_m(m, M(0, 20000, 60)) && same_l(l, L(0, 20000, 60, 0, 0)),
	   "mts1 unknown: the paper's lines push the old start 0 back onto the master");
	/* Ours: B saw the master start at 5000 at its last merge; it is now
	 * 15000 > 5000 and ts1' 0 < 15000: ts1' = 15000. Then ts1' = ts1 and
	 * ts2' - ts1' = 5000 <= TT4: the master keeps 15000; c' = 60 */
	l = L(0, 20000, 100, 10, 0);
	l.mts1 = 5000 * MS;
	m = M(15000, 20000, 50);
	b = xpro_merge(&l, 1, &m, 1, &P);
	ok(b == XPRO_MERGE_TELL && same_m(m, M(15000, 20000, 60)) && same_l(l, L(15000, 20000, 60, 0, 0)),
	   "the master's start moved forward since B's last merge: B takes it, the decay stands");
	/* the same with mts1 = 15000 (B already saw that start): no adoption */
	l = L(0, 20000, 100, 10, 0);
	l.mts1 = 15000 * MS;
	m = M(15000, 20000, 50);
	xpro_merge(&l, 1, &m, 1, &P);
	ok(same_m(m, M(0, 20000, 60)), "a start B had already seen moves nothing: the paper's lines apply");

	ok(xpro_merge(&l, 0, &m, 0, &P) == 0, "neither side: nothing to do");
	return tap_done();
}
