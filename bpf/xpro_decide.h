/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Algorithm 2 of the X-Pro paper as one decision function over plain
 * structs. Compiled into the XDP program and into userspace (tests, sync
 * daemons, simulator). Parsing and map plumbing stay outside.
 *
 * The reading is docs/algorithms.md; every choice is
 * pinned in tests/unit/test_decide.c. In short:
 *   - all comparisons are strict (">"), as the paper writes them;
 *   - time differences are signed: a negative one never resets a window
 *     and never opens a check;
 *   - rate > TF is c * 1e9 > TF * window, computed without overflow as
 *     c > floor(TF * window / 1e9);
 *   - every packet is counted in its record before any check (paper step 3);
 *   - paper policy: every packet also counts in D's aggregate; a TF1 drop
 *     ends the decision;
 *   - fair policy: the aggregate counts only packets that passed TF1, and
 *     when D is above TF2 only clients above TF2 / (active clients) drop.
 */
#ifndef XPRO_DECIDE_H
#define XPRO_DECIDE_H

#include "xpro.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define XPRO_U64_MAX (~0ULL)

/* Flags reported next to the verdict. */
#define XPRO_F_WARN      (1u << 0) /* send an overload warning for (i, D) */
#define XPRO_F_REC_NEW   (1u << 1) /* record created (step 2, not found) */
#define XPRO_F_REC_RESET (1u << 2) /* record window reset (idle > TT1) */
#define XPRO_F_AGG_NEW   (1u << 3)
#define XPRO_F_AGG_RESET (1u << 4)

static __always_inline __s64 xpro_sdiff(__u64 a, __u64 b)
{
	return (__s64)(a - b);
}

/*
 * floor(tf * win_ns / 1e9) without overflow. tf is clamped to XPRO_TF_MAX
 * (2^32), so with q = whole seconds < 2^32, tf * q <= 2^64 - 2^32 and the
 * sub-second part adds less than 2^32: no overflow. Windows of 2^32 s and
 * more (136 years) saturate.
 */
static __always_inline __u64 xpro_allowed(__u64 tf, __u64 win_ns)
{
	__u64 q = win_ns / XPRO_NSEC, rem = win_ns % XPRO_NSEC;

	if (tf > XPRO_TF_MAX)
		tf = XPRO_TF_MAX;
	if (q >= (1ULL << 32))
		return XPRO_U64_MAX;
	return tf * q + tf * rem / XPRO_NSEC;
}

/*
 * Is c packets over win_ns nanoseconds a rate above tf packets/s, i.e.
 * c * 1e9 > tf * win_ns? When both products fit in 64 bits (c < 2^34, and
 * tf < 2^32 with win < 2^32 ns, or tf < 2^16 with win < 2^48 ns) they are
 * compared directly: no division on the packet path (BPF has no multiply-
 * high, so each division by 1e9 is a real div). Otherwise the exact,
 * overflow-free floor form above.
 */
static __always_inline int xpro_rate_exceeds(__u64 c, __u64 win_ns, __u64 tf)
{
	if (c < (1ULL << 34) &&
	    ((tf < (1ULL << 32) && win_ns < (1ULL << 32)) ||
	     (tf < (1ULL << 16) && win_ns < (1ULL << 48))))
		return c * XPRO_NSEC > tf * win_ns;
	return c > xpro_allowed(tf, win_ns);
}

/*
 * A window starts at now, for a new record or after an idle reset (> TT1):
 * the local count and the unsynced delta restart at 0; mark says "reset
 * locally since the last sync" (0 for a new record). ts2_l and the master's
 * copy are the caller's.
 */
static __always_inline void xpro_rec_window(struct xpro_record *rec, __u64 now, __u32 mark)
{
	rec->ts1_l = now;
	rec->c_l = 0;
	rec->dc = 0;
	rec->mark = mark;
}

/* D's aggregate window starts at now: count, delta and active clients at 0. */
static __always_inline void xpro_agg_window(struct xpro_agg *agg, __u64 now)
{
	agg->ts1 = now;
	agg->c = 0;
	agg->dc = 0;
	agg->nact = 0;
}

/*
 * Decide one packet of (i, D) at time now.
 *   rec, rec_found: the (i, D) record; when !rec_found it is initialised here.
 *   agg, agg_found: D's aggregate; likewise.
 *   tf2: D's TF2 (its override, or p->tf2).
 * Returns XPRO_PASS or XPRO_DROP; *reason is an enum xpro_reason and
 * *flags a set of XPRO_F_*. Counters are added atomically; timestamps and
 * window resets are plain stores (docs/algorithms.md, "Who writes").
 */
static __always_inline __u32
xpro_decide(struct xpro_record *rec, int rec_found,
	    struct xpro_agg *agg, int agg_found,
	    const struct xpro_params *p, __u64 tf2, __u64 now,
	    __u32 *reason, __u32 *flags)
{
	__s64 tt1 = (__s64)p->tt1_ns, win, awin;
	__u64 c, ac, old, n, share;
	__u32 f = 0;
	int fair = p->policy == XPRO_POLICY_FAIR;

	*reason = XPRO_R_OK;

	/* Steps 1-2: find or start the record's window. */
	if (!rec_found) {
		xpro_rec_window(rec, now, 0);
		rec->ts2_l = now;
		rec->ts1_m = 0;
		rec->ts2_m = 0;
		rec->c_m = 0;
		rec->warn_ts = 0;
		f |= XPRO_F_REC_NEW;
	} else if (xpro_sdiff(now, rec->ts2_l) > tt1) {
		xpro_rec_window(rec, now, 1);
		f |= XPRO_F_REC_RESET;
	}

	/* D's aggregate window: starts or resets like a record does. */
	if (!agg_found) {
		xpro_agg_window(agg, now);
		agg->ts2 = now;
		f |= XPRO_F_AGG_NEW;
	} else if (xpro_sdiff(now, agg->ts2) > tt1) {
		xpro_agg_window(agg, now);
		f |= XPRO_F_AGG_RESET;
	}
	if (f & (XPRO_F_REC_NEW | XPRO_F_REC_RESET | XPRO_F_AGG_NEW | XPRO_F_AGG_RESET))
		__sync_fetch_and_add(&agg->nact, 1);

	/* Step 3: count the packet, whatever the verdict. */
	c = __sync_fetch_and_add(&rec->c_l, 1) + 1;
	__sync_fetch_and_add(&rec->dc, 1);
	rec->ts2_l = now;
	win = xpro_sdiff(now, rec->ts1_l);

	if (!fair) {
		/* Paper: the packet is in D's aggregate before any check. */
		__sync_fetch_and_add(&agg->dc, 1);
		agg->ts2 = now;
	}

	/* Step 4: per-client check. */
	if (win > (__s64)p->tt2_ns && xpro_rate_exceeds(c, (__u64)win, p->tf1)) {
		*reason = XPRO_R_TF1;
		old = rec->warn_ts;
		if ((old == 0 || xpro_sdiff(now, old) >= (__s64)p->warn_interval_ns) &&
		    __sync_val_compare_and_swap(&rec->warn_ts, old, now) == old)
			f |= XPRO_F_WARN;
		*flags = f;
		return XPRO_DROP;
	}

	if (fair) {
		/* Fair: the aggregate holds what passed the per-client check. */
		__sync_fetch_and_add(&agg->dc, 1);
		agg->ts2 = now;
	}

	/* Step 5: aggregate check, O(1): c* = c + dc, ts1* = ts1, ts2* = now. */
	ac = agg->c + agg->dc;
	awin = xpro_sdiff(now, agg->ts1);
	if (awin > (__s64)p->tt3_ns && xpro_rate_exceeds(ac, (__u64)awin, tf2)) {
		if (!fair) {
			*reason = XPRO_R_TF2;
			*flags = f;
			return XPRO_DROP;
		}
		/* Fair share: TF2 / active clients, over this client's window. */
		n = agg->nact ? agg->nact : 1;
		if (win > (__s64)p->tt2_ns) {
			share = xpro_allowed(tf2, (__u64)win) / n;
			if (c > share) {
				*reason = XPRO_R_TF2_FAIR;
				*flags = f;
				return XPRO_DROP;
			}
		}
	}

	/* Step 6: forward. */
	*flags = f;
	return XPRO_PASS;
}

#endif /* XPRO_DECIDE_H */
