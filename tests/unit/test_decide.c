// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of xpro_decide() (Algorithm 2), branch by branch. Every
 * expected value is worked by hand from docs/algorithms.md; the working is
 * in the comment above each case.
 */
#include <string.h>
#include <stdint.h>
#include "tap.h"
#include "xpro_decide.h"

#define MS 1000000ULL
#define S  1000000000ULL
#define T0 (1000 * S) /* any non-zero start */

static struct xpro_params P;

static void params(__u32 policy)
{
	memset(&P, 0, sizeof(P));
	P.tt1_ns = 1000 * MS;
	P.tt2_ns = 100 * MS;
	P.tt3_ns = 200 * MS;
	P.tt4_ns = 10000 * MS;
	P.tf1 = 10;
	P.tf2 = 50;
	P.warn_interval_ns = 1000 * MS;
	P.r = 2;
	P.policy = policy;
	P.filter = 1;
}

struct pair {
	struct xpro_record rec;
	int rec_found;
};

struct dest {
	struct xpro_agg agg;
	int agg_found;
};

/* One packet through the shared function, keeping found-state like a map. */
static __u32 pkt(struct pair *r, struct dest *d, __u64 now, __u32 *reason, __u32 *flags)
{
	__u32 v = xpro_decide(&r->rec, r->rec_found, &d->agg, d->agg_found, &P,
			      P.tf2, now, reason, flags);
	r->rec_found = 1;
	d->agg_found = 1;
	return v;
}

static void test_rate_arithmetic(void)
{
	/* floor(10 * 1.5) = 15 */
	is_u64(xpro_allowed(10, 1500 * MS), 15, "allowed(10 pps, 1.5 s) = 15");
	/* floor(3 * 0.333333334) = floor(1.000000002) = 1 */
	is_u64(xpro_allowed(3, 333333334), 1, "allowed(3 pps, 333333334 ns) = 1");
	/* floor(3 * 0.333333333) = floor(0.999999999) = 0 */
	is_u64(xpro_allowed(3, 333333333), 0, "allowed(3 pps, 333333333 ns) = 0");
	/* TF clamped to 2^32: 2^40 pps over 1 s allows 2^32 */
	is_u64(xpro_allowed(1ULL << 40, S), 1ULL << 32, "TF above 2^32 is clamped");
	ok(xpro_rate_exceeds((1ULL << 32) + 1, S, 1ULL << 40), "2^32+1 packets in 1 s exceed a clamped TF");
	/* 2^62 packets in 1 s against TF 2^32: no overflow, exceeds */
	ok(xpro_rate_exceeds(1ULL << 62, S, 1ULL << 32), "huge count does not overflow");
	/* a window of 2^32 s saturates: nothing exceeds */
	ok(!xpro_rate_exceeds(~0ULL, (1ULL << 32) * S, 1), "window of 2^32 s saturates");
	/* 10^6 s at 2^32 pps: 2^32 * 10^6 fits */
	is_u64(xpro_allowed(1ULL << 32, 1000000 * S), (1ULL << 32) * 1000000ULL, "long window exact");
	/* exactly the rate is not above it: 20 packets in 2 s at 10 pps */
	ok(!xpro_rate_exceeds(20, 2 * S, 10), "rate exactly TF is not above TF");
	ok(xpro_rate_exceeds(21, 2 * S, 10), "one more packet is above TF");
	/* the division-free fast path agrees with the floor form everywhere */
	{
		unsigned long long x = 88172645463325252ULL;
		int i, agree = 1;

		for (i = 0; i < 1000000 && agree; i++) {
			__u64 c, w, tf;

			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			c = x >> (x & 31);
			w = (x * 2654435761ULL) >> ((x >> 8) & 31);
			tf = ((x >> 20) & 0xFFFFFFFFULL) >> ((x >> 5) & 31);
			if (i % 3 == 0) /* near the boundary: c = allowed or allowed + 1 */
				c = xpro_allowed(tf, w) + (x & 1);
			agree = xpro_rate_exceeds(c, w, tf) == (c > xpro_allowed(tf, w));
			if (!agree)
				tap_diag("c=%llu w=%llu tf=%llu", (unsigned long long)c,
					 (unsigned long long)w, (unsigned long long)tf);
		}
		ok(agree, "fast rate check agrees with floor(TF * w / 1e9) on 1e6 random cases");
	}
	ok(xpro_sdiff(T0, T0 + 1) == -1, "time differences are signed");
}

/*
 * A record whose window starts with this packet at t, new or reset: ts1' = t,
 * c' = 0 + 1, dc = 0 + 1, and mark 0 (new) or 1 (reset); one test each,
 * named "WHAT: ...".
 */
static void is_window_start(const struct xpro_record *rec, __u64 t, __u32 mark, const char *what)
{
	is_u64(rec->ts1_l, t, "%s: ts1' = t", what);
	is_u64(rec->c_l, 1, "%s: c' = 0 + 1", what);
	is_u64(rec->dc, 1, "%s: dc = 0 + 1", what);
	is_u64(rec->mark, mark, "%s: mark = %u", what, mark);
}

static void test_new_record(void)
{
	struct pair r = {0};
	struct dest d = {0};
	__u32 reason = 99, flags = 0, v;

	params(XPRO_POLICY_PAPER);
	v = pkt(&r, &d, T0, &reason, &flags);
	ok(v == XPRO_PASS && reason == XPRO_R_OK, "new record: pass");
	ok(flags == (XPRO_F_REC_NEW | XPRO_F_AGG_NEW), "new record: flags REC_NEW|AGG_NEW");
	is_window_start(&r.rec, T0, 0, "new record");
	is_u64(r.rec.ts2_l, T0, "new record: ts2' = t");
	is_u64(d.agg.ts1, T0, "new aggregate: ts1 = t");
	is_u64(d.agg.dc, 1, "new aggregate: dc = 1");
	is_u64(d.agg.c, 0, "new aggregate: base c = 0");
	is_u64(d.agg.nact, 1, "new aggregate: one active client");
}

static void test_reset_after_tt1(void)
{
	struct pair r = {0};
	struct dest d = {0};
	__u32 reason, flags;

	params(XPRO_POLICY_PAPER);
	pkt(&r, &d, T0, &reason, &flags);
	/* exactly TT1 idle: t - ts2' = 1000 ms, not > TT1: same window */
	pkt(&r, &d, T0 + 1000 * MS, &reason, &flags);
	ok(!(flags & XPRO_F_REC_RESET), "idle exactly TT1: no reset");
	is_u64(r.rec.c_l, 2, "idle exactly TT1: c' = 2");
	is_u64(r.rec.ts1_l, T0, "idle exactly TT1: ts1' kept");
	/* then 1000 ms + 1 ns idle: reset */
	pkt(&r, &d, T0 + 2000 * MS + 1, &reason, &flags);
	ok(flags & XPRO_F_REC_RESET, "idle TT1 + 1 ns: window reset");
	ok(flags & XPRO_F_AGG_RESET, "idle TT1 + 1 ns: aggregate reset too");
	is_window_start(&r.rec, T0 + 2000 * MS + 1, 1, "reset");
	is_u64(d.agg.dc, 1, "aggregate reset: dc = 0 + 1");
	is_u64(d.agg.nact, 1, "aggregate reset: nact = 0 + 1");
}

/*
 * 100 pps from one client, TT2 = 100 ms, TF1 = 10 pps. Packet k at
 * T0 + 10k ms has c' = k + 1 and w = 10k ms. k = 10: w = 100 ms, not > TT2:
 * pass. k = 11: w = 110 ms, allowed = floor(10 * 0.11) = 1 < 12: drop TF1.
 */
static void test_tf1(void)
{
	struct pair r = {0};
	struct dest d = {0};
	__u32 reason, flags, v;
	int k, first_drop = -1, warns = 0;

	params(XPRO_POLICY_PAPER);
	for (k = 0; k <= 15; k++) {
		v = pkt(&r, &d, T0 + k * 10 * MS, &reason, &flags);
		if (v == XPRO_DROP && first_drop < 0) {
			first_drop = k;
			ok(reason == XPRO_R_TF1, "first drop has reason TF1");
		}
		if (flags & XPRO_F_WARN)
			warns++;
	}
	is_u64(first_drop, 11, "TF1: first drop at packet 11 (w = 110 ms)");
	is_u64(warns, 1, "TF1: one warning within warn_interval");
	is_u64(r.rec.c_l, 16, "TF1: dropped packets are counted (c' = 16)");
	is_u64(d.agg.dc, 16, "paper: dropped packets count in the aggregate");

	/* warning rate limit: next warning at >= warn_ts + 1 s */
	__u64 w0 = r.rec.warn_ts;
	is_u64(w0, T0 + 110 * MS, "warn_ts = time of the first drop");
	r.rec.ts2_l = w0 + 999 * MS - 1; /* keep the window alive */
	pkt(&r, &d, w0 + 999 * MS, &reason, &flags);
	ok(reason == XPRO_R_TF1 && !(flags & XPRO_F_WARN), "no warning 999 ms after the last");
	pkt(&r, &d, w0 + 1000 * MS, &reason, &flags);
	ok(reason == XPRO_R_TF1 && (flags & XPRO_F_WARN), "warning again 1000 ms after the last");
}

static void test_tf1_exact(void)
{
	struct pair r = {0};
	struct dest d = {0};
	__u32 reason, flags, v;
	int i;

	params(XPRO_POLICY_PAPER);
	/* 2 packets over 200 ms is exactly 10 pps: pass; a third at the same t: drop */
	pkt(&r, &d, T0, &reason, &flags);
	v = pkt(&r, &d, T0 + 200 * MS, &reason, &flags);
	ok(v == XPRO_PASS, "rate exactly TF1 passes (2 packets / 200 ms)");
	v = pkt(&r, &d, T0 + 200 * MS, &reason, &flags);
	ok(v == XPRO_DROP && reason == XPRO_R_TF1, "3 packets / 200 ms drops");

	/* 2 packets over 200 ms - 1 ns: allowed = floor(1.99999999) = 1: drop */
	memset(&r, 0, sizeof(r));
	memset(&d, 0, sizeof(d));
	pkt(&r, &d, T0, &reason, &flags);
	v = pkt(&r, &d, T0 + 200 * MS - 1, &reason, &flags);
	ok(v == XPRO_DROP && reason == XPRO_R_TF1, "2 packets / (200 ms - 1 ns) drops");

	/* window exactly TT2 is not checked, whatever the count */
	memset(&r, 0, sizeof(r));
	memset(&d, 0, sizeof(d));
	for (i = 0; i < 5; i++)
		pkt(&r, &d, T0, &reason, &flags);
	v = pkt(&r, &d, T0 + 100 * MS, &reason, &flags);
	ok(v == XPRO_PASS, "6 packets in a window of exactly TT2: not checked");
	v = pkt(&r, &d, T0 + 100 * MS + 1, &reason, &flags);
	ok(v == XPRO_DROP && reason == XPRO_R_TF1, "window TT2 + 1 ns: checked, 7 > 1: drop");

	/* before TT2: 50 packets in 49 ms all pass */
	memset(&r, 0, sizeof(r));
	memset(&d, 0, sizeof(d));
	int drops = 0;
	for (i = 0; i < 50; i++)
		drops += pkt(&r, &d, T0 + i * MS, &reason, &flags) == XPRO_DROP;
	is_u64(drops, 0, "before TT2: 50 packets in 49 ms all pass");
}

/*
 * 5 clients round robin, one packet every 10 ms (100 pps towards D),
 * TF1 = 1000 so only TF2 = 50 acts, TT3 = 200 ms. After packet k:
 * c* = k + 1, A = 10k ms. k = 20: A = 200 ms, not > TT3: pass.
 * k = 21: A = 210 ms, allowed = floor(50 * 0.21) = 10 < 22: drop TF2.
 */
static void test_tf2_paper(void)
{
	struct pair r[5] = {0};
	struct dest d = {0};
	__u32 reason, flags, v;
	int k, first_drop = -1;

	params(XPRO_POLICY_PAPER);
	P.tf1 = 1000;
	for (k = 0; k <= 25; k++) {
		v = pkt(&r[k % 5], &d, T0 + k * 10 * MS, &reason, &flags);
		if (v == XPRO_DROP && first_drop < 0) {
			first_drop = k;
			ok(reason == XPRO_R_TF2, "first aggregate drop has reason TF2");
		}
	}
	is_u64(first_drop, 21, "TF2: first drop at packet 21 (A = 210 ms)");
	is_u64(d.agg.dc, 26, "aggregate counted all 26 packets");
	is_u64(d.agg.nact, 5, "aggregate saw 5 clients start a window");
	is_u64(d.agg.ts1, T0, "aggregate ts1* = first packet");
	is_u64(d.agg.ts2, T0 + 250 * MS, "aggregate ts2* = last packet");

	/* a TF2 override of 200 pps: allowed = floor(200 * 0.25) = 50 >= 27 */
	__u32 v2 = xpro_decide(&r[0].rec, 1, &d.agg, 1, &P, 200, T0 + 250 * MS, &reason, &flags);
	ok(v2 == XPRO_PASS, "per-destination TF2 override is used");
}

/*
 * Hand-set state at t = T0 + 300 ms, TF1 = 1000, TF2 = 50, TT3 = 200 ms.
 * D's aggregate: ts1 = T0, c = 0, dc = 60, nact = 2.
 * Heavy client H: ts1' = T0, c' = 59 -> 60; light client L: c' = 3 -> 4.
 * Aggregate after the packet: 61 > floor(50 * 0.3) = 15: over TF2.
 * paper: both dropped (TF2). fair: share = floor(15 / 2) = 7;
 * H (60 > 7) dropped TF2_FAIR, L (4 <= 7) passes.
 */
static void tf2_state(struct pair *h, struct pair *l, struct dest *d)
{
	memset(h, 0, sizeof(*h));
	memset(l, 0, sizeof(*l));
	memset(d, 0, sizeof(*d));
	d->agg.ts1 = T0;
	d->agg.ts2 = T0 + 295 * MS;
	d->agg.dc = 60;
	d->agg.nact = 2;
	d->agg_found = 1;
	h->rec.ts1_l = T0;
	h->rec.ts2_l = T0 + 295 * MS;
	h->rec.c_l = 59;
	h->rec_found = 1;
	l->rec.ts1_l = T0;
	l->rec.ts2_l = T0 + 200 * MS;
	l->rec.c_l = 3;
	l->rec_found = 1;
}

static void test_tf2_policies(void)
{
	struct pair h, l;
	struct dest d;
	__u32 reason, flags, v;

	params(XPRO_POLICY_PAPER);
	P.tf1 = 1000;
	tf2_state(&h, &l, &d);
	v = pkt(&h, &d, T0 + 300 * MS, &reason, &flags);
	ok(v == XPRO_DROP && reason == XPRO_R_TF2, "paper: heavy client dropped on TF2");
	tf2_state(&h, &l, &d);
	v = pkt(&l, &d, T0 + 300 * MS, &reason, &flags);
	ok(v == XPRO_DROP && reason == XPRO_R_TF2, "paper: light client dropped on TF2 too");

	params(XPRO_POLICY_FAIR);
	P.tf1 = 1000;
	tf2_state(&h, &l, &d);
	v = pkt(&h, &d, T0 + 300 * MS, &reason, &flags);
	ok(v == XPRO_DROP && reason == XPRO_R_TF2_FAIR, "fair: heavy client above its share dropped");
	is_u64(d.agg.dc, 61, "fair: a packet that passed TF1 counts in the aggregate");
	tf2_state(&h, &l, &d);
	v = pkt(&l, &d, T0 + 300 * MS, &reason, &flags);
	ok(v == XPRO_PASS && reason == XPRO_R_OK, "fair: light client under its share passes");
	/* exactly the share: c' = 7 after counting passes; 8 drops */
	tf2_state(&h, &l, &d);
	l.rec.c_l = 6;
	v = pkt(&l, &d, T0 + 300 * MS, &reason, &flags);
	ok(v == XPRO_PASS, "fair: exactly the fair share (7) passes");
	tf2_state(&h, &l, &d);
	l.rec.c_l = 7;
	v = pkt(&l, &d, T0 + 300 * MS, &reason, &flags);
	ok(v == XPRO_DROP && reason == XPRO_R_TF2_FAIR, "fair: one above the share (8) drops");
	/* a client whose window is not longer than TT2 is not judged */
	tf2_state(&h, &l, &d);
	h.rec.ts1_l = T0 + 200 * MS; /* w = 100 ms after the packet */
	v = pkt(&h, &d, T0 + 300 * MS, &reason, &flags);
	ok(v == XPRO_PASS, "fair: client window exactly TT2 is not judged");
}

static void test_fair_tf1_not_in_aggregate(void)
{
	struct pair r = {0};
	struct dest d = {0};
	__u32 reason, flags;
	int k, drops = 0;

	/* same flood as test_tf1: packets 11..15 are TF1 drops (5 of 16) */
	params(XPRO_POLICY_FAIR);
	for (k = 0; k <= 15; k++)
		drops += pkt(&r, &d, T0 + k * 10 * MS, &reason, &flags) == XPRO_DROP;
	is_u64(drops, 5, "fair: the same 5 TF1 drops as paper");
	is_u64(r.rec.c_l, 16, "fair: the record still counts every packet");
	is_u64(d.agg.dc, 11, "fair: the aggregate counts only the 11 that passed TF1");
	is_u64(d.agg.ts2, T0 + 100 * MS, "fair: aggregate ts2 = last packet that passed TF1");
}

static void test_negative_differences(void)
{
	struct pair r = {0};
	struct dest d = {0};
	__u32 reason, flags, v;

	params(XPRO_POLICY_PAPER);
	/* a sync wrote a master ts2' 5 s ahead of this proxy's clock */
	r.rec.ts1_l = T0 + 4000 * MS;
	r.rec.ts2_l = T0 + 5000 * MS;
	r.rec.c_l = 1000;
	r.rec_found = 1;
	v = pkt(&r, &d, T0, &reason, &flags);
	ok(!(flags & XPRO_F_REC_RESET), "t - ts2' = -5 s: no reset (signed)");
	is_u64(r.rec.mark, 0, "negative difference: mark stays 0");
	is_u64(r.rec.c_l, 1001, "negative difference: packet counted");
	is_u64(r.rec.ts2_l, T0, "ts2' = t as step 3 says");
	ok(v == XPRO_PASS, "negative window (ts1' after t): no TF1 check");
	/* with unsigned arithmetic t - ts2' would be ~1.8e19 > TT1 */
	ok((__u64)(T0 - (T0 + 5000 * MS)) > P.tt1_ns, "(the unsigned difference would have reset)");

	/* aggregate: ts2 in the future, no reset either */
	memset(&d, 0, sizeof(d));
	d.agg.ts1 = T0 + 1000 * MS;
	d.agg.ts2 = T0 + 5000 * MS;
	d.agg.dc = 1000000;
	d.agg_found = 1;
	memset(&r, 0, sizeof(r));
	v = pkt(&r, &d, T0, &reason, &flags);
	ok(!(flags & XPRO_F_AGG_RESET) && v == XPRO_PASS, "aggregate window in the future: no reset, no check");
}

int main(void)
{
	test_rate_arithmetic();
	test_new_record();
	test_reset_after_tt1();
	test_tf1();
	test_tf1_exact();
	test_tf2_paper();
	test_tf2_policies();
	test_fair_tf1_not_in_aggregate();
	test_negative_differences();
	return tap_done();
}
