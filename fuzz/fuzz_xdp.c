// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: random frames through the X-Pro XDP program
 * (bpf/xpro.bpf.c) with bpf_prog_test_run_opts, in the BPF tests' private
 * network namespace (tests/bpf/harness.h: its FIB, its reverse-firewall
 * prefixes and device keys). Needs root; state is kept across inputs (the
 * records, aggregates and replay windows of the inputs before), as on a
 * proxy. Input: byte 0 = bit 0 mode (tunnel, inline), bits 1-3 a step of
 * the test clock before the frame, bit 4 filter off, bit 5 policy fair;
 * the rest is the frame (14 to 3000 bytes).
 * Invariants, per frame:
 *  - the verdict is DROP, PASS, TX or REDIRECT (never ABORTED or another);
 *  - exactly one outcome counter moved, by one, and it agrees with the
 *    verdict (a drop reason with DROP, PASS_TX with TX, ...);
 *  - tunnel mode, a passed packet (PASS_REDIRECT, PASS_TX, PASS_KERNEL,
 *    PASS_NOFILTER) leaves Ethernet + a well-formed IPv4 packet: version
 *    4, IHL >= 5, total length within the frame and >= the header, not a
 *    fragment, its header the input's inner one (TTL one lower when
 *    forwarded by XDP, the header checksum valid whenever it was), or
 *    (EtherType 0x86DD) a well-formed IPv6 one: its length within the
 *    frame, at most 4 extension headers and no fragment header before
 *    TCP, UDP, ICMPv6 or no next header, its header the input's inner
 *    one (hop limit one lower when forwarded by XDP);
 * and every 256 frames: the record and aggregate maps within capacity.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "csum.h"
#include "harness.h"
#include "fuzz.h"

static struct xpro_bpf *objs[2];
static struct xpro_params params[2];
static uint8_t cur_flags[2] = { 0xff, 0xff };
static int ncpu;
static uint64_t *vals;
static unsigned long runs;
/* Coverage of the BPF program, which libFuzzer cannot instrument: the
 * outcome and the events of each frame, per mode, as extra counters. */
static uint8_t bpf_cov[2][XPRO_C__MAX] __attribute__((used, section("__libfuzzer_extra_counters")));

static void apply_params(int m, uint8_t flags)
{
	struct xpro_params p;
	uint32_t k0 = 0;

	if (cur_flags[m] == flags)
		return;
	p = params[m];
	if (flags & 1)
		p.filter = 0;
	if (flags & 2)
		p.policy = XPRO_POLICY_FAIR;
	if (bpf_map_update_elem(bpf_map__fd(objs[m]->maps.xpro_config), &k0, &p, BPF_ANY))
		abort();
	cur_flags[m] = flags;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int m;

	(void)argc;
	(void)argv;
	if (geteuid() != 0 || h_netns_setup()) {
		fprintf(stderr, "fuzz_xdp: needs root and a private network namespace\n");
		exit(1);
	}
	fz_quiet();
	h_max_records = 1024; /* the smallest map the config allows: eviction is reached */
	for (m = 0; m < 2; m++) {
		objs[m] = h_load((uint32_t)m);
		if (!objs[m] || h_guard(objs[m]) || (m == 0 && h_keys(objs[m]))) {
			fprintf(fz_err, "fuzz_xdp: load failed\n");
			exit(1);
		}
		h_params(&params[m]);
		params[m].fib_cache_ms = 50;
		h_reset(objs[m], &params[m]);
	}
	ncpu = libbpf_num_possible_cpus();
	vals = calloc((size_t)ncpu * XPRO_C__MAX, sizeof(uint64_t));
	if (!vals)
		abort();
	return 0;
}

/* The outcome counters summed over the CPUs into c. */
static void counters(struct xpro_bpf *s, uint64_t *c)
{
	int fd = bpf_map__fd(s->maps.xpro_counters), cpu;
	uint32_t keys[XPRO_C__MAX], count = XPRO_C__MAX, out = 0, k;
	int err = bpf_map_lookup_batch(fd, NULL, &out, keys, vals, &count, NULL);

	FZ_CHECK((!err || errno == ENOENT) && count == XPRO_C__MAX);
	for (k = 0; k < XPRO_C__MAX; k++) {
		c[k] = 0;
		for (cpu = 0; cpu < ncpu; cpu++)
			c[k] += vals[(size_t)k * ncpu + cpu];
	}
}

static int verdict_of(unsigned int idx)
{
	switch (idx) {
	case XPRO_C_NOT_TUNNEL:
	case XPRO_C_PASS_KERNEL:
	case XPRO_C_PASS_NOFILTER:
		return XDP_PASS;
	case XPRO_C_PASS_TX:
		return XDP_TX;
	case XPRO_C_PASS_REDIRECT:
		return XDP_REDIRECT;
	}
	return XDP_DROP;
}

static unsigned long entries(int fd, size_t ksz, unsigned long max)
{
	uint8_t key[64], next[64];
	unsigned long n = 0;
	void *prev = NULL;

	FZ_CHECK(ksz <= sizeof(key));
	while (n <= max && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, ksz);
		prev = key;
		n++;
	}
	return n;
}

static void capacity(struct xpro_bpf *s)
{
	FZ_CHECK(entries(bpf_map__fd(s->maps.xpro_records), sizeof(struct xpro_key),
			 bpf_map__max_entries(s->maps.xpro_records)) <= bpf_map__max_entries(s->maps.xpro_records));
	FZ_CHECK(entries(bpf_map__fd(s->maps.xpro_aggs), sizeof(struct xpro_addr), bpf_map__max_entries(s->maps.xpro_aggs)) <=
		 bpf_map__max_entries(s->maps.xpro_aggs));
}

/* The same for an inner IPv6 packet (EtherType 0x86DD): its lengths, no
 * fragment header and at most 4 extension headers (docs/protocol.md,
 * "Inner IPv6"), its header the input's (hop limit one lower when
 * forwarded by XDP). */
static void inner6_well_formed(const uint8_t *in, size_t n, const uint8_t *out, size_t olen, int act)
{
	const uint8_t *ip = out + 14, *was = in + 14 + (n - olen);
	size_t tot, off = 40;
	uint8_t nh;
	int k;

	FZ_CHECK(olen >= 14 + 40 && olen <= n && ip[0] >> 4 == 6);
	tot = 40 + (size_t)(ip[4] << 8 | ip[5]);
	FZ_CHECK(14 + tot <= olen);
	for (nh = ip[6], k = 0; k < 4 && (nh == 0 || nh == 43 || nh == 60) && off + 8 <= tot; k++) {
		nh = ip[off];
		off += ((size_t)ip[off + 1] + 1) * 8;
	}
	FZ_CHECK(off <= tot && (nh == 6 || nh == 17 || nh == 58 || nh == 59));
	FZ_CHECK(!memcmp(was, ip, 7) && !memcmp(was + 8, ip + 8, 32));
	if (act == XDP_TX || act == XDP_REDIRECT)
		FZ_CHECK(ip[7] == (uint8_t)(was[7] - 1) && was[7] > 1);
	else
		FZ_CHECK(ip[7] == was[7]);
}

/* in: the frame sent (n bytes); out: the frame passed (olen bytes). */
static void inner_well_formed(const uint8_t *in, size_t n, const uint8_t *out, size_t olen, int act)
{
	const uint8_t *ip = out + 14, *was;
	size_t ihl, tot;

	if (olen >= 14 && out[12] == 0x86 && out[13] == 0xdd) {
		inner6_well_formed(in, n, out, olen, act);
		return;
	}
	FZ_CHECK(olen >= 14 + 20 && olen <= n && out[12] == 0x08 && out[13] == 0x00);
	FZ_CHECK(ip[0] >> 4 == 4);
	ihl = (size_t)(ip[0] & 15) * 4;
	tot = (size_t)(ip[2] << 8 | ip[3]);
	FZ_CHECK(ihl >= 20 && tot >= ihl && 14 + tot <= olen);
	FZ_CHECK(!((ip[6] << 8 | ip[7]) & 0x3fff));
	/* decapsulation removed the outer headers from the front */
	was = in + 14 + (n - olen);
	FZ_CHECK(!memcmp(was, ip, 8) && !memcmp(was + 9, ip + 9, 1) && !memcmp(was + 12, ip + 12, ihl - 12));
	if (act == XDP_TX || act == XDP_REDIRECT)
		FZ_CHECK(ip[8] == (uint8_t)(was[8] - 1) && was[8] > 1);
	else
		FZ_CHECK(ip[8] == was[8] && !memcmp(was + 10, ip + 10, 2));
	if (xpro_csum(was, ihl, 0) == 0)
		FZ_CHECK(xpro_csum(ip, ihl, 0) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t steps[8] = { 0, 1000000, 10000000, 100000000, 1000000000ULL,
					   2000000000ULL, 11000000000ULL, 0 };
	static uint8_t out[65536];
	uint64_t before[XPRO_C__MAX], after[XPRO_C__MAX];
	unsigned int k, moved = 0, idx = 0;
	struct xpro_bpf *s;
	size_t n, olen = sizeof(out);
	uint8_t *frame;
	int m, act;

	if (size < 1 + 14 || size > 1 + 3000)
		return 0;
	m = data[0] & 1;
	s = objs[m];
	apply_params(m, (uint8_t)((data[0] >> 4) & 3));
	s->bss->test_now += steps[(data[0] >> 1) & 7];
	n = size - 1;
	frame = (uint8_t *)fz_dup(data + 1, n);
	counters(s, before);
	act = h_run(s, frame, n, out, &olen);
	counters(s, after);
	FZ_CHECK(act == XDP_DROP || act == XDP_PASS || act == XDP_TX || act == XDP_REDIRECT);
	for (k = XPRO_C__OUTCOME_FIRST; k < XPRO_C__MAX; k++)
		if (after[k] != before[k])
			bpf_cov[m][k]++;
	for (k = XPRO_C__OUTCOME_FIRST; k <= XPRO_C__OUTCOME_LAST; k++)
		if (after[k] != before[k]) {
			FZ_CHECK(after[k] == before[k] + 1);
			moved++;
			idx = k;
		}
	FZ_CHECK(moved == 1);
	FZ_CHECK(verdict_of(idx) == act);
	if (m == 0 && (idx == XPRO_C_PASS_REDIRECT || idx == XPRO_C_PASS_TX || idx == XPRO_C_PASS_KERNEL ||
		       idx == XPRO_C_PASS_NOFILTER))
		inner_well_formed(frame, n, out, olen, act);
	if (++runs % 256 == 0)
		capacity(s);
	free(frame);
	return 0;
}
