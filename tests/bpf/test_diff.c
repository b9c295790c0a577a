// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Differential test: random packet sequences (clients, destinations IPv4
 * and IPv6 mixed, inner packets of both families, times, thresholds, both
 * policies, TF2 overrides) through the XDP program
 * (bpf_prog_test_run_opts, test clock) and through the naive oracle
 * (tests/bpf/oracle.c, written from docs/algorithms.md alone, sharing no
 * code with bpf/xpro_decide.h). Verdicts, drop reasons and the whole map
 * state must be identical. At random points the aggregates are recomputed
 * (xpro/agg.c through the fold program, and the oracle's own recompute)
 * and every O(1) aggregate is compared with an O(n) scan of the records.
 *
 * XPRO_DIFF_SEQS sets the number of sequences (default 100000);
 * XPRO_DIFF_SEED the seed (default 1).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tap.h"
#include "harness.h"
#include "pkt.h"
#include "oracle.h"
#include "agg.h"

#define MS 1000000ULL

static uint64_t rs;

static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

static uint64_t pick(uint64_t lo, uint64_t hi) /* inclusive */
{
	return lo + rnd() % (hi - lo + 1);
}

/* the BPF map's form of an oracle address (both 16 bytes, network order) */
static struct xpro_addr xa(struct oaddr a)
{
	struct xpro_addr x;

	memcpy(&x, a.b, sizeof(x));
	return x;
}

static struct oaddr a6(const char *text)
{
	struct oaddr a = { { 0 } };

	ip6(text, a.b);
	return a;
}

static int h_rec(struct xpro_bpf *s, struct oaddr c, struct oaddr d, struct xpro_record *r)
{
	struct xpro_addr xc = xa(c), xd = xa(d);

	return h_record6(s, &xc, &xd, r);
}

static int h_ag(struct xpro_bpf *s, struct oaddr d, struct xpro_agg *a)
{
	struct xpro_addr xd = xa(d);

	return h_agg6(s, &xd, a);
}

static struct xpro_bpf *s;
static int fd_rec, fd_agg, fd_tf2, fd_cfg, fold_fd;
static char why[512];

static void clear(int fd)
{
	char k[64];

	while (!bpf_map_get_next_key(fd, NULL, k))
		if (bpf_map_delete_elem(fd, k))
			break;
}

/* The drop counter of each oracle reason 1..NREASONS. */
#define NREASONS 7
static const unsigned int reason_counter[NREASONS] = {
	XPRO_C_DROP_TF1, XPRO_C_DROP_TF2, XPRO_C_DROP_TF2_FAIR, XPRO_C_DROP_SPOOFED,
	XPRO_C_DROP_NESTED, XPRO_C_DROP_TO_PROXY, XPRO_C_DROP_TO_MGMT,
};

static void counters(uint64_t out[NREASONS])
{
	int i;

	for (i = 0; i < NREASONS; i++)
		out[i] = h_counter(s, reason_counter[i]);
}

static int same_state(struct oracle *o)
{
	struct xpro_record r;
	struct xpro_agg a;
	struct oracle_rec orr;
	struct oracle_agg oa;
	struct oaddr c, d;
	size_t i, nb = 0;

	for (i = 0; i < oracle_nrecords(o); i++) {
		oracle_record_at(o, i, &c, &d, &orr);
		if (!h_rec(s, c, d, &r)) {
			snprintf(why, sizeof(why), "record %zu missing in BPF", i);
			return 0;
		}
		if (r.ts1_l != orr.ts1 || r.ts2_l != orr.ts2 || r.c_l != orr.c || r.dc != orr.dc ||
		    r.mark != orr.mark || r.warn_ts != orr.warn_ts) {
			snprintf(why, sizeof(why),
				 "record %zu: bpf ts1=%llu ts2=%llu c=%llu dc=%llu mark=%u warn=%llu; oracle ts1=%llu ts2=%llu c=%llu dc=%llu mark=%u warn=%llu",
				 i, (unsigned long long)r.ts1_l, (unsigned long long)r.ts2_l,
				 (unsigned long long)r.c_l, (unsigned long long)r.dc, r.mark,
				 (unsigned long long)r.warn_ts, (unsigned long long)orr.ts1,
				 (unsigned long long)orr.ts2, (unsigned long long)orr.c,
				 (unsigned long long)orr.dc, orr.mark, (unsigned long long)orr.warn_ts);
			return 0;
		}
		if (!oracle_get_agg(o, d, &oa) || !h_ag(s, d, &a)) {
			snprintf(why, sizeof(why), "aggregate of record %zu missing", i);
			return 0;
		}
		if (a.ts1 != oa.ts1 || a.ts2 != oa.ts2 || a.c != oa.c || a.dc != oa.dc || a.nact != oa.nact) {
			snprintf(why, sizeof(why),
				 "aggregate: bpf ts1=%llu ts2=%llu c=%llu dc=%llu nact=%llu; oracle ts1=%llu ts2=%llu c=%llu dc=%llu nact=%llu",
				 (unsigned long long)a.ts1, (unsigned long long)a.ts2, (unsigned long long)a.c,
				 (unsigned long long)a.dc, (unsigned long long)a.nact,
				 (unsigned long long)oa.ts1, (unsigned long long)oa.ts2, (unsigned long long)oa.c,
				 (unsigned long long)oa.dc, (unsigned long long)oa.nact);
			return 0;
		}
	}
	{
		struct xpro_key kk, kn, *kp = NULL;

		nb = 0;
		while (!bpf_map_get_next_key(fd_rec, kp, &kn)) {
			kk = kn;
			kp = &kk;
			nb++;
		}
	}
	if (nb != oracle_nrecords(o)) {
		snprintf(why, sizeof(why), "bpf has %zu records, oracle %zu", nb, oracle_nrecords(o));
		return 0;
	}
	return 1;
}

/* After a recompute, the O(1) aggregate of every D must equal the O(n) scan. */
static int aggregates_match_scan(struct oracle *o, const struct oaddr *dests, int nd, uint64_t now)
{
	struct xpro_agg a;
	uint64_t mn, mx, sum;
	size_t n;
	int i;

	for (i = 0; i < nd; i++) {
		if (!h_ag(s, dests[i], &a))
			continue;
		n = oracle_scan(o, dests[i], now, &mn, &mx, &sum);
		if (n == 0) {
			if (a.c + a.dc != 0 || a.nact != 0) {
				snprintf(why, sizeof(why), "no active record but aggregate c*=%llu nact=%llu",
					 (unsigned long long)(a.c + a.dc), (unsigned long long)a.nact);
				return 0;
			}
			continue;
		}
		if (a.c + a.dc != sum || a.ts1 != mn || a.nact != n ||
		    (int64_t)(a.ts2 - mx) < 0) {
			snprintf(why, sizeof(why),
				 "aggregate c*=%llu ts1=%llu ts2=%llu nact=%llu; scan sum=%llu min=%llu max=%llu n=%zu",
				 (unsigned long long)(a.c + a.dc), (unsigned long long)a.ts1,
				 (unsigned long long)a.ts2, (unsigned long long)a.nact,
				 (unsigned long long)sum, (unsigned long long)mn, (unsigned long long)mx, n);
			return 0;
		}
	}
	return 1;
}

/* An oracle with the thresholds of p and the reverse firewall's test
 * prefixes (h_guard's, IPv4 and IPv6), device_embed6 2001:db8::/96. */
static struct oracle *oracle_of(const struct xpro_params *p, struct oracle_params *op)
{
	struct oracle *o;

	memset(op, 0, sizeof(*op));
	op->tt1_ns = p->tt1_ns;
	op->tt2_ns = p->tt2_ns;
	op->tt3_ns = p->tt3_ns;
	op->tf1 = p->tf1;
	op->tf2 = p->tf2;
	op->warn_interval_ns = p->warn_interval_ns;
	op->policy = (int)p->policy;
	o = oracle_new(op, 256);
	if (o) {
		oracle_add_proxy(o, oracle_v4(ip4("198.18.0.7")));
		oracle_add_mgmt(o, oracle_v4(ip4("198.18.1.128")), 96 + 25);
		oracle_add_devnet(o, ip4("198.18.0.2"), oracle_v4(ip4("198.18.5.0")), 96 + 24);
		oracle_add_proxy(o, a6("2001:db8::c612:7"));
		oracle_add_mgmt(o, a6("2001:db8::c612:180"), 121);
		oracle_add_devnet(o, ip4("198.18.0.2"), a6("2001:db8:5::"), 48);
		oracle_set_embed6(o, a6("2001:db8::"));
	}
	return o;
}

/* Run the frame of spec at now through the program: its XDP action; the
 * inner (inline: the) source and destination as the oracle names them. */
static int run_pkt(const struct pkt_spec *spec, uint64_t now, struct oaddr *src, struct oaddr *dst)
{
	uint8_t frame[256];
	size_t flen = pkt_build(spec, frame, sizeof(frame));

	s->bss->test_now = now;
	if (spec->i6) {
		memcpy(src->b, spec->i6_src, 16);
		memcpy(dst->b, spec->i6_dst, 16);
	} else {
		*src = oracle_v4(spec->i_src);
		*dst = oracle_v4(spec->i_dst);
	}
	return h_run(s, frame, flen, NULL, NULL);
}

/* A sequence's thresholds, drawn at random */
static void random_params(struct xpro_params *p)
{
	h_params(p);
	p->tt1_ns = pick(20, 2000) * MS;
	p->tt2_ns = pick(0, p->tt1_ns / MS - 1) * MS;
	p->tt3_ns = pick(0, p->tt1_ns / MS - 1) * MS;
	p->tf1 = pick(1, 300);
	/* half of the sequences get a TF2 near or below TF1, so that the
	 * aggregate check (paper and fair) decides often */
	p->tf2 = rnd() % 2 ? pick(1, 2 * p->tf1 + 10) : pick(p->tf1, 3000);
	p->warn_interval_ns = pick(1, 1000) * MS;
	p->policy = (uint32_t)pick(0, 1);
	p->tf2_overrides = 0;
}

/* destination i is host 198.18.1.2 + i, by its IPv4 or its IPv6 address
 * 2001:db8::c612:102 + i (dv6[i]): a third of the sequences all IPv4, a
 * third all IPv6, a third mixed (there a third destination is host 0
 * again, in the other family) */
static void random_dests(struct oaddr *dests, int *dv6, int nd)
{
	int i, mix = (int)pick(0, 2);

	for (i = 0; i < nd; i++) {
		uint32_t host = htonl(0xC6120102u + (uint32_t)i);

		dv6[i] = mix == 2 ? (int)(rnd() % 2) : mix;
		if (mix == 2 && i == 2) {
			dv6[2] = !dv6[0];
			host = htonl(0xC6120102u);
		}
		dests[i] = dv6[i] ? a6("2001:db8::") : oracle_v4(0);
		memcpy(dests[i].b + 12, &host, 4);
	}
}

/* time steps: bursts, gaps around TT1, long gaps, small steps back */
static void step(uint64_t *now, const struct xpro_params *p)
{
	int r = (int)(rnd() % 100);

	if (r < 40)
		*now += pick(0, 20) * MS + pick(0, 999999);
	else if (r < 55)
		*now += 0;
	else if (r < 65)
		*now += p->tt1_ns + (uint64_t)pick(0, 2) - 1;  /* TT1 - 1, TT1, TT1 + 1 */
	else if (r < 75)
		*now += p->tt2_ns + (uint64_t)pick(0, 2) - 1;
	else if (r < 85)
		*now += pick(1, 3000) * MS;
	else if (r < 92)
		*now -= pick(0, 50) * MS;              /* a clock step back */
	else
		*now += 1000000ULL / (1 + rnd() % 1000); /* fine-grained */
}

/* The oracle forgets every record the BPF map no longer has (evicted). */
static size_t forget_evicted(struct oracle *o)
{
	struct oracle_rec orr;
	struct xpro_record r;
	struct oaddr c, d;
	size_t i, n = 0;

	for (i = oracle_nrecords(o); i-- > 0;) {
		oracle_record_at(o, i, &c, &d, &orr);
		if (!h_rec(s, c, d, &r)) {
			oracle_forget(o, c, d); /* the last record moves to i: already seen */
			n++;
		}
	}
	return n;
}

/*
 * Eviction: a record map of 64 entries and 16 clients x 8 destinations. Before
 * every packet the oracle forgets what the LRU map evicted (docs/algorithms.md,
 * "What the map keeps": an evicted pair starts again); then verdicts, reasons
 * and the surviving records must agree, recomputes included.
 */
static void eviction_phase(uint64_t seed)
{
	struct xpro_bpf *keep = s, *small;
	struct oracle_params op;
	struct xpro_params p;
	struct oracle *o;
	uint64_t now = 1000000000000ULL, evicted = 0, drops = 0;
	uint32_t k0 = 0;
	int i, fail = 0;

	h_max_records = 64;
	small = h_load(0);
	h_max_records = 1 << 16;
	if (!ok(small != NULL, "eviction: an object with a 64-record map loads"))
		return;
	s = small;
	fd_rec = bpf_map__fd(s->maps.xpro_records);
	fold_fd = bpf_program__fd(s->progs.xpro_fold_agg);
	h_params(&p);
	p.tf1 = 30;
	p.tf2 = 200;
	p.tt2_ns = 50 * MS;
	p.tt3_ns = 50 * MS;
	bpf_map_update_elem(bpf_map__fd(s->maps.xpro_config), &k0, &p, BPF_ANY);
	o = oracle_of(&p, &op);
	rs = seed * 0x2545F4914F6CDD1DULL + 7;
	for (i = 0; i < 4000 && !fail; i++) {
		struct pkt_spec spec;
		uint8_t frame[256];
		size_t flen;
		int act, reason, warn, verdict;

		now += pick(0, 3) * MS;
		pkt_defaults(&spec);
		spec.o_src = spec.i_src = htonl(0xC6120040u + (uint32_t)pick(0, 15));  /* 198.18.0.64.. */
		spec.i_dst = htonl(0xC6120102u + (uint32_t)pick(0, 7));                /* 198.18.1.2.. */
		evicted += forget_evicted(o);
		flen = pkt_build(&spec, frame, sizeof(frame));
		s->bss->test_now = now;
		act = h_run(s, frame, flen, NULL, NULL);
		verdict = oracle_tunnel(o, ip4("198.18.0.1"), 5683, spec.o_src, 0, oracle_v4(spec.i_src),
					oracle_v4(spec.i_dst), spec.i_dport, now, &reason, &warn);
		drops += verdict == ORACLE_DROP;
		if ((act == XDP_DROP) != (verdict == ORACLE_DROP)) {
			snprintf(why, sizeof(why), "eviction: packet %d: XDP action %d, oracle verdict %d", i, act, verdict);
			fail = 1;
		}
		if (!fail && i % 97 == 96) {
			struct xpro_recompute_stats st;

			evicted += forget_evicted(o);
			if (xpro_recompute(fold_fd, bpf_map__fd(s->maps.xpro_records), bpf_map__fd(s->maps.xpro_aggs),
					   p.tt1_ns, 0, now, &st)) {
				snprintf(why, sizeof(why), "eviction: recompute failed");
				fail = 1;
			}
			oracle_recompute(o, now);
		}
	}
	evicted += forget_evicted(o);
	if (fail)
		tap_diag("%s", why);
	ok(!fail, "eviction: verdicts identical to the oracle over %d packets (%llu drops)", i,
	   (unsigned long long)drops);
	ok(evicted > 0 && drops > 0, "eviction: the map evicted (%llu records forgotten) and the sequence dropped",
	   (unsigned long long)evicted);
	why[0] = '\0';
	ok(!fail && same_state(o), "eviction: every surviving record and its aggregate identical to the oracle");
	if (!fail && why[0])
		tap_diag("%s", why);
	oracle_free(o);
	xpro_bpf__destroy(small);
	s = keep;
	fd_rec = bpf_map__fd(s->maps.xpro_records);
	fold_fd = bpf_program__fd(s->progs.xpro_fold_agg);
}

/*
 * Inline mode with ipv6 = filter: routed IPv4 and IPv6 packets, keyed
 * (source, destination), the destination checks and no source check; the
 * same verdicts, records and aggregates as the oracle's.
 */
static void inline_phase(uint64_t seed, long nseq)
{
	struct xpro_bpf *keep = s, *il;
	uint64_t npk = 0, n6 = 0, drops = 0;
	long seq;
	int fail = 0;

	il = h_load(1);
	if (!ok(il != NULL && !h_guard(il), "inline: an inline object loads, reverse firewall prefixes"))
		return;
	s = il;
	fd_rec = bpf_map__fd(s->maps.xpro_records);
	rs = seed * 0xD1B54A32D192ED03ULL + 3;
	for (seq = 0; seq < nseq && !fail; seq++) {
		struct xpro_params p;
		struct oracle_params op;
		struct oracle *o;
		struct oaddr dests[3];
		uint32_t k0 = 0;
		int dv6[3], nc = (int)pick(1, 4), nd = (int)pick(1, 3), len = (int)pick(1, 30), i;
		uint64_t now = 1000000000000ULL;

		random_params(&p);
		p.ipv6 = XPRO_IPV6_FILTER;
		random_dests(dests, dv6, nd);
		clear(fd_rec);
		clear(bpf_map__fd(s->maps.xpro_aggs));
		o = oracle_of(&p, &op);
		bpf_map_update_elem(bpf_map__fd(s->maps.xpro_config), &k0, &p, BPF_ANY);
		for (i = 0; i < len && !fail; i++) {
			struct pkt_spec spec;
			struct oaddr src, dst;
			int act, reason, warn, verdict, di;

			step(&now, &p);
			di = (int)(rnd() % (uint64_t)nd);
			pkt_defaults(&spec);
			spec.no_outer = 1;
			spec.i6 = dv6[di];
			spec.i_src = htonl(0xC612000Au + (uint32_t)(rnd() % (uint64_t)nc)); /* 198.18.0.10.. */
			memcpy(spec.i6_src + 12, &spec.i_src, 4);
			memcpy(&spec.i_dst, dests[di].b + 12, 4);
			memcpy(spec.i6_dst, dests[di].b, 16);
			switch (rnd() % 12) {
			case 0: /* 198.18.1.128/25 but its broadcast address .255, which the
				 * FIB hands to the kernel before any check (routed, it is not) */
				spec.i_dst = htonl(0xC6120180u + (uint32_t)pick(0, 126));
				spec.i6_dst[14] = 0x01;                                /* 2001:db8::c612:180/121 */
				spec.i6_dst[15] = (uint8_t)(0x80 + pick(0, 127));
				break;
			case 1: spec.i_dst = ip4("198.18.0.7");                        /* a proxy */
				spec.i6_dst[14] = 0;
				spec.i6_dst[15] = 7;
				break;
			}
			act = run_pkt(&spec, now, &src, &dst);
			verdict = oracle_inline(o, src, dst, now, &reason, &warn);
			npk++;
			n6 += spec.i6;
			drops += verdict == ORACLE_DROP;
			if ((act == XDP_DROP) != (verdict == ORACLE_DROP)) {
				snprintf(why, sizeof(why), "inline: sequence %ld packet %d: XDP action %d, oracle verdict %d (reason %d)",
					 seq, i, act, verdict, reason);
				fail = 1;
			}
		}
		if (!fail && !same_state(o))
			fail = 1;
		oracle_free(o);
	}
	if (fail)
		tap_diag("%s", why);
	ok(!fail && n6 && drops, "inline, ipv6 = filter: verdicts, records and aggregates identical to the oracle over %ld sequences (%llu packets, %llu IPv6, %llu dropped)",
	   seq, (unsigned long long)npk, (unsigned long long)n6, (unsigned long long)drops);
	xpro_bpf__destroy(il);
	s = keep;
	fd_rec = bpf_map__fd(s->maps.xpro_records);
}

int main(void)
{
	long nseq = getenv("XPRO_DIFF_SEQS") ? atol(getenv("XPRO_DIFF_SEQS")) : 100000;
	uint64_t seed = getenv("XPRO_DIFF_SEED") ? strtoull(getenv("XPRO_DIFF_SEED"), NULL, 10) : 1;
	uint64_t npkts = 0, n6 = 0, r6[NREASONS + 1] = { 0 }, nrecomp = 0, bpf_reasons[NREASONS] = { 0 }, or_reasons[NREASONS] = { 0 };
	int verdict_fail = 0, state_fail = 0, scan_fail = 0;
	long seq;

	H_BEGIN("the differential test");
	s = h_load(0);
	if (!ok(s != NULL && !h_guard(s), "X-Pro object loads with the test clock, reverse firewall prefixes"))
		return tap_done();
	fd_rec = bpf_map__fd(s->maps.xpro_records);
	fd_agg = bpf_map__fd(s->maps.xpro_aggs);
	fd_tf2 = bpf_map__fd(s->maps.xpro_tf2);
	fd_cfg = bpf_map__fd(s->maps.xpro_config);
	fold_fd = bpf_program__fd(s->progs.xpro_fold_agg);
	rs = seed * 0x9E3779B97F4A7C15ULL + 1;

	for (seq = 0; seq < nseq && !verdict_fail && !state_fail && !scan_fail; seq++) {
		struct xpro_params p;
		struct oracle_params op;
		struct oracle *o;
		uint32_t clients[4], k0 = 0;
		struct oaddr dests[3];
		int dv6[3];
		int nc = (int)pick(1, 4), nd = (int)pick(1, 3), len = (int)pick(1, 30), i;
		uint64_t now = 1000000000000ULL, c0[NREASONS], c1[NREASONS];
		uint64_t tally[NREASONS] = { 0 };

		random_params(&p);
		for (i = 0; i < nc; i++)
			clients[i] = htonl(0xC612000Au + (uint32_t)i);       /* 198.18.0.10.. */
		clients[0] = ip4("198.18.0.2"); /* 198.18.5.0/24 is registered for it (h_guard) */
		random_dests(dests, dv6, nd);

		clear(fd_rec);
		clear(fd_agg);
		clear(fd_tf2);
		o = oracle_of(&p, &op);
		if (rnd() % 4 == 0) {
			uint64_t v = pick(1, 3000);
			struct xpro_addr d0 = xa(dests[0]);

			p.tf2_overrides = 1;
			bpf_map_update_elem(fd_tf2, &d0, &v, BPF_ANY);
			oracle_set_tf2_override(o, dests[0], v);
		}
		bpf_map_update_elem(fd_cfg, &k0, &p, BPF_ANY);
		counters(c0);

		for (i = 0; i < len; i++) {
			struct pkt_spec spec;
			struct oaddr src, dst;
			int act, reason, warn, verdict, di;

			step(&now, &p);

			di = (int)(rnd() % (uint64_t)nd);
			pkt_defaults(&spec);
			spec.o_src = clients[rnd() % (uint64_t)nc];
			spec.i_src = spec.o_src;
			memcpy(&spec.i_dst, dests[di].b + 12, 4);
			spec.i6 = dv6[di];
			memcpy(spec.i6_dst, dests[di].b, 16);
			memcpy(spec.i6_src + 12, &spec.o_src, 4); /* its device_embed6 address */
			/* the reverse firewall now and then: a forged or registered
			 * inner source, a proxy, a nested tunnel, a management
			 * address; extension headers the walk skips */
			switch (rnd() % 24) {
			case 0: spec.i_src = htonl(0xC6120900u + (uint32_t)pick(0, 3)); /* 198.18.9.x */
				spec.i6_src[15] ^= (uint8_t)pick(1, 255); /* another device's embedded address */
				break;
			case 1: spec.i_src = htonl(0xC6120500u + (uint32_t)pick(0, 255)); /* 198.18.5.x */
				memcpy(spec.i6_src, a6("2001:db8:5::").b, 16);  /* 2001:db8:5::/48 */
				spec.i6_src[6] = (uint8_t)pick(0, 255);
				spec.i6_src[15] = (uint8_t)pick(0, 255);
				break;
			case 2: spec.i_dst = htonl(0xC6120180u + (uint32_t)pick(0, 127)); /* 198.18.1.128/25 */
				memcpy(spec.i6_dst, a6("2001:db8::c612:180").b, 16); /* its /121 */
				spec.i6_dst[15] = (uint8_t)(0x80 + pick(0, 127));
				break;
			case 3: spec.i_dst = ip4(rnd() % 2 ? "198.18.0.7" : "198.18.0.1");
				memcpy(spec.i6_dst, a6("2001:db8::c612:7").b, 16);
				spec.i_dport = rnd() % 2 ? 5683 : 7;
				break;
			case 4: spec.n_ext = (int)pick(1, 3);  /* hop-by-hop, routing, destination options */
				spec.ext[0] = 0;
				spec.ext[1] = 43;
				spec.ext[2] = 60;
				spec.ext_len[1] = (uint8_t)pick(0, 2);
				break;
			}
			if (!spec.i6)
				spec.n_ext = 0;
			act = run_pkt(&spec, now, &src, &dst);
			n6 += spec.i6;
			verdict = oracle_tunnel(o, ip4("198.18.0.1"), 5683, spec.o_src, spec.i6, src, dst,
						spec.i_dport, now, &reason, &warn);
			npkts++;
			if (reason >= 1 && reason <= NREASONS) {
				tally[reason - 1]++;
				r6[reason] += spec.i6;
			}
			if ((act == XDP_DROP) != (verdict == 1)) {
				snprintf(why, sizeof(why), "sequence %ld packet %d: XDP action %d, oracle verdict %d (reason %d)",
					 seq, i, act, verdict, reason);
				verdict_fail = 1;
				break;
			}
			if (rnd() % 8 == 0) {
				struct xpro_recompute_stats st;

				int rerr = xpro_recompute(fold_fd, fd_rec, fd_agg, p.tt1_ns, 0, now, &st);

				if (rerr) {
					snprintf(why, sizeof(why), "recompute failed: %s", strerror(-rerr));
					scan_fail = 1;
					break;
				}
				oracle_recompute(o, now);
				nrecomp++;
				if (!aggregates_match_scan(o, dests, nd, now)) {
					scan_fail = 1;
					break;
				}
			}
		}
		counters(c1);
		for (i = 0; i < NREASONS && !verdict_fail && !scan_fail; i++) {
			bpf_reasons[i] += c1[i] - c0[i];
			or_reasons[i] += tally[i];
			if (c1[i] - c0[i] != tally[i]) {
				snprintf(why, sizeof(why), "sequence %ld: reason %d counted %llu by BPF, %llu by the oracle",
					 seq, i + 1, (unsigned long long)(c1[i] - c0[i]), (unsigned long long)tally[i]);
				verdict_fail = 1;
			}
		}
		if (!verdict_fail && !scan_fail && !same_state(o)) {
			state_fail = 1;
			tap_diag("sequence %ld (policy %u, tt1 %llu ms, tt2 %llu, tt3 %llu, tf1 %llu, tf2 %llu)",
				 seq, p.policy, (unsigned long long)(p.tt1_ns / MS), (unsigned long long)(p.tt2_ns / MS),
				 (unsigned long long)(p.tt3_ns / MS), (unsigned long long)p.tf1, (unsigned long long)p.tf2);
		}
		oracle_free(o);
	}
	tap_diag("%ld sequences, %llu packets (%llu with an inner IPv6 packet), %llu recomputes; drops tf1/tf2/fair %llu/%llu/%llu (oracle %llu/%llu/%llu); spoofed/nested/to_proxy/to_mgmt %llu/%llu/%llu/%llu (oracle %llu/%llu/%llu/%llu)",
		 seq, (unsigned long long)npkts, (unsigned long long)n6, (unsigned long long)nrecomp,
		 (unsigned long long)bpf_reasons[0], (unsigned long long)bpf_reasons[1],
		 (unsigned long long)bpf_reasons[2], (unsigned long long)or_reasons[0],
		 (unsigned long long)or_reasons[1], (unsigned long long)or_reasons[2],
		 (unsigned long long)bpf_reasons[3], (unsigned long long)bpf_reasons[4],
		 (unsigned long long)bpf_reasons[5], (unsigned long long)bpf_reasons[6],
		 (unsigned long long)or_reasons[3], (unsigned long long)or_reasons[4],
		 (unsigned long long)or_reasons[5], (unsigned long long)or_reasons[6]);
	if (verdict_fail || state_fail || scan_fail)
		tap_diag("%s", why);
	ok(!verdict_fail, "verdicts and drop reasons identical to the oracle over %ld sequences", seq);
	ok(!state_fail, "record and aggregate state identical to the oracle after every sequence");
	ok(!scan_fail, "after each of %llu recomputes, every O(1) aggregate equals the O(n) scan",
	   (unsigned long long)nrecomp);
	ok(seq == nseq, "all %ld sequences ran", nseq);
	ok(bpf_reasons[0] > 0 && bpf_reasons[1] > 0 && bpf_reasons[2] > 0,
	   "the sequences exercised TF1, TF2 and fair-share drops");
	ok(bpf_reasons[3] > 0 && bpf_reasons[4] > 0 && bpf_reasons[5] > 0 && bpf_reasons[6] > 0,
	   "the sequences exercised the reverse firewall's four drops");
	ok(n6 >= npkts / 4 && r6[ORACLE_R_TF1] && r6[ORACLE_R_TF2] && r6[ORACLE_R_SPOOFED] &&
	   r6[ORACLE_R_NESTED] && r6[ORACLE_R_TO_PROXY] && r6[ORACLE_R_TO_MGMT],
	   "inner IPv6 packets (%llu of %llu) met TF1, TF2 and the reverse firewall's drops (%llu/%llu/%llu/%llu/%llu/%llu)",
	   (unsigned long long)n6, (unsigned long long)npkts, (unsigned long long)r6[1], (unsigned long long)r6[2],
	   (unsigned long long)r6[4], (unsigned long long)r6[5], (unsigned long long)r6[6], (unsigned long long)r6[7]);
	eviction_phase(seed);
	inline_phase(seed, nseq / 10 > 100 ? nseq / 10 : nseq);
	xpro_bpf__destroy(s);
	return tap_done();
}
