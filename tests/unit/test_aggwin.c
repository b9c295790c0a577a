// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of xpro_agg_account(): one destination's aggregate as the
 * recompute finds it, unbounded (the paper's step 5) and with the window
 * agg_window_ms (docs/algorithms.md, "Aggregate window"). Times in ms, now =
 * 20 000 ms. Every expected value is worked by hand in the comment above
 * its check.
 */
#include <string.h>
#include "tap.h"
#include "agg.h"

#define MS 1000000ULL
#define NOW (20000 * MS)

static struct xpro_record R(uint64_t ts1, uint64_t ts2, uint64_t c)
{
	struct xpro_record r;

	memset(&r, 0, sizeof(r));
	r.ts1_l = ts1 * MS;
	r.ts2_l = ts2 * MS;
	r.c_l = c;
	r.c_m = c;
	return r;
}

static struct xpro_agg_acc run(const struct xpro_record *r, int n, uint64_t win_ms)
{
	struct xpro_agg_acc a;

	memset(&a, 0, sizeof(a));
	for (int i = 0; i < n; i++)
		xpro_agg_account(&a, &r[i], NOW, win_ms * MS);
	return a;
}

int main(void)
{
	struct xpro_agg_acc a;

	/*
	 * A legitimate client since 10 s ago at 10 packets/s (window
	 * 10 000-19 950 ms, 100 packets), and a bot since 300 ms ago at
	 * 1000 packets/s (window 19 700-19 990 ms, 290 packets).
	 */
	struct xpro_record lowrate[2] = { R(10000, 19950, 100), R(19700, 19990, 290) };

	/* Unbounded: ts1* = min = 10 000, ts2* = max = 19 990, c* = 390, two
	 * active clients. Over the 10 000 ms to now: 39 packets/s. */
	a = run(lowrate, 2, 0);
	ok(a.win && a.ts1 == 10000 * MS && a.ts2 == 19990 * MS && a.c == 390 && a.nact == 2,
	   "unbounded: min ts1', max ts2', sum c' (the paper's step 5)");

	/* Window 500 ms: lo = 19 500. The legitimate record keeps
	 * floor(100 * (19 950 - 19 500) / (19 950 - 10 000)) = floor(45 000 /
	 * 9 950) = 4 packets; the bot's window starts after lo: all 290.
	 * ts1* = lo = 19 500, ts2* = 19 990, c* = 294: 588 packets/s over the
	 * 500 ms to now. */
	a = run(lowrate, 2, 500);
	ok(a.win && a.ts1 == 19500 * MS && a.ts2 == 19990 * MS && a.c == 294 && a.nact == 2,
	   "window 500 ms: the old window cut at now - 500 ms, pro rata; the new one whole");

	/* The same records in the other order: the same aggregate. */
	{
		struct xpro_record rev[2] = { lowrate[1], lowrate[0] };

		a = run(rev, 2, 500);
		ok(a.ts1 == 19500 * MS && a.ts2 == 19990 * MS && a.c == 294 && a.nact == 2,
		   "window 500 ms: independent of the order of the records");
	}

	/* A window longer than every record's: nothing is cut, same as
	 * unbounded (ts1* = 10 000 >= lo = 0). */
	a = run(lowrate, 2, 20000);
	ok(a.ts1 == 10000 * MS && a.c == 390, "window 20 000 ms: no record is cut");

	/*
	 * A client whose last packet was 1 200 ms ago (window 15 000-18 800,
	 * 50 packets): active (1 200 <= TT1 is the caller's test), but with a
	 * 1 000 ms window (lo = 19 000) it has no packet inside: it adds a
	 * client and its ts2', no count and no window start.
	 */
	{
		struct xpro_record quiet[1] = { R(15000, 18800, 50) };

		a = run(quiet, 1, 1000);
		ok(!a.win && a.c == 0 && a.nact == 1 && a.ts2 == 18800 * MS,
		   "window 1 000 ms: a record quiet since before the window counts a client, no packet");
		a = run(quiet, 1, 0);
		ok(a.win && a.c == 50 && a.ts1 == 15000 * MS, "unbounded: the same record counts whole");
	}

	/*
	 * Burst at one instant (ts1' = ts2' = 19 800, 7 packets) beside the
	 * quiet client: window 1 000 ms, lo = 19 000. The burst is inside:
	 * all 7; ts1* = 19 800 (the only record inside), ts2* = 19 800.
	 */
	{
		struct xpro_record two[2] = { R(15000, 18800, 50), R(19800, 19800, 7) };

		a = run(two, 2, 1000);
		ok(a.win && a.c == 7 && a.ts1 == 19800 * MS && a.ts2 == 19800 * MS && a.nact == 2,
		   "window 1 000 ms: a one-instant burst inside counts whole; ts1* is its instant");
	}

	/*
	 * A record straddling lo exactly at its last packet (window 18 000-
	 * 19 000, 1 000 packets, lo = 19 000): floor(1 000 * 0 / 1 000) = 0
	 * packets, but its ts2' = lo is inside: ts1* = lo.
	 */
	{
		struct xpro_record edge[1] = { R(18000, 19000, 1000) };

		a = run(edge, 1, 1000);
		ok(a.win && a.c == 0 && a.ts1 == 19000 * MS, "ts2' = now - window: inside, with none of its packets");
	}

	/*
	 * No overflow: c' = 2^62 over a window of 2^40 ns ending now, window
	 * 2^39 ns: half the packets, 2^61 (c * part needs 102 bits).
	 */
	{
		struct xpro_record big;

		memset(&big, 0, sizeof(big));
		big.ts2_l = NOW;
		big.ts1_l = NOW - (1ULL << 40);
		big.c_l = 1ULL << 62;
		memset(&a, 0, sizeof(a));
		xpro_agg_account(&a, &big, NOW, 1ULL << 39);
		ok(a.c == 1ULL << 61 && a.ts1 == NOW - (1ULL << 39), "c' = 2^62 cut in half without overflow");
	}
	return tap_done();
}
