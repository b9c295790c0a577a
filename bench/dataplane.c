// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench-dataplane: ns per packet of X-Pro's drop and pass paths next to a
 * bare XDP_DROP and a one-lookup LRU per-source filter, measured in the
 * same run on the same packets with bpf_prog_test_run_opts.
 *
 * Every program runs once per call on a fresh copy of the frame (the pass
 * path decapsulates, so test_run's repeat would run it on an already
 * decapsulated frame, and live-frames mode does not restore the bytes of
 * recycled pages). The per-call timer overhead is measured in the same run
 * as XDP_DROP timed per call minus XDP_DROP timed with repeat, and
 * subtracted from every figure. The redirect itself is not executed by
 * test_run (only bpf_redirect's bookkeeping); the FIB lookup,
 * decapsulation and rewrites are.
 *
 * 1,024 distinct sources with randomised fields (seeded), 1,048,576 other
 * records present in the map (-p: another count, for the curves). -f MAP
 * only writes -p records into X-Pro's pinned record map MAP and exits (the
 * veth part's records on a live proxy). Each figure is the median of --runs runs.
 * Prints one JSON object. Speed is never asserted; `make bench` reports.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "addr.h"
#include "harness.h"
#include "config.h"
#include "pkt.h"
#include "opt.h"
#include "baseline.skel.h"
#include "log.h"
#include "xpro_mac.h"

#define NSRC 1024
#define NVICTIMS 16
#define PREFILL_MAX (1u << 23)
#define NCAL 16 /* frames timed with repeat, for the overhead */

static uint8_t frames[NSRC][256];
static size_t lens[NSRC];
/* client identity on: before every call, frame i gets its next sequence
 * number and a fresh MAC (outside the timed run) */
static void (*resign)(int i);
static unsigned int repeat = 20000, runs = 5, prefill_n = 1u << 20;

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Average ns per packet over nsrc frames, one run. per_call: every call runs
 * the program once on a fresh copy of the frame (8 calls per frame);
 * otherwise one call per frame with repeat runs.
 */
static double run_once(int prog_fd, int per_call, int nsrc)
{
	double total_ns = 0, total_pkts = 0;
	unsigned int rep = per_call ? 1 : repeat, calls = per_call ? 8 : 1, k;
	int i;

	for (i = 0; i < nsrc; i++) {
		struct xdp_md ctx_in = { .data_end = (uint32_t)lens[i], .ingress_ifindex = (uint32_t)h_if_in };
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frames[i], .data_size_in = (uint32_t)lens[i],
			    .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in), .repeat = rep);

		for (k = 0; k < calls; k++) {
			if (resign)
				resign(i);
			if (bpf_prog_test_run_opts(prog_fd, &o)) {
				pr_warn("test_run: %s\n", strerror(errno));
				return -1;
			}
			/* o.duration is the mean ns per repeat */
			total_ns += (double)o.duration * rep;
			total_pkts += rep;
		}
	}
	return total_ns / total_pkts;
}

static double measure(int prog_fd, int per_call, int nsrc)
{
	double v[16];
	unsigned int r;

	for (r = 0; r < runs; r++) {
		v[r] = run_once(prog_fd, per_call, nsrc);
		if (v[r] < 0)
			return -1;
	}
	qsort(v, runs, sizeof(v[0]), cmp_d);
	return v[runs / 2];
}

/* prefill_n entries written into fd by batches of 65536; fill(keys, vals,
 * first, n) writes the n keys and values of entries first .. first + n - 1. */
static int prefill(int fd, size_t ksz, size_t vsz, void (*fill)(void *, void *, uint32_t, uint32_t))
{
	const uint32_t chunk = 65536;
	void *keys = calloc(chunk, ksz), *vals = calloc(chunk, vsz);
	uint32_t done = 0, n;
	int err = 0;

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	while (done < prefill_n) {
		n = prefill_n - done < chunk ? prefill_n - done : chunk;
		fill(keys, vals, done, n);
		LIBBPF_OPTS(bpf_map_batch_opts, bo);
		err = bpf_map_update_batch(fd, keys, vals, &n, &bo);
		if (err) {
			err = -errno;
			break;
		}
		done += n;
	}
	free(keys);
	free(vals);
	return err;
}

/* X-Pro's records: clients 198.19.0.0/16 x 16 destinations, never the bench's keys. */
static void fill_records(void *kp, void *vp, uint32_t first, uint32_t n)
{
	struct xpro_key *keys = kp;
	struct xpro_record *vals = vp;
	uint32_t i;

	for (i = 0; i < n; i++) {
		uint32_t k = first + i;

		keys[i].client = xpro_addr4(htonl(0xC6130000u | (k & 0xffff)));
		keys[i].dest = xpro_addr4(htonl(0xC6128000u | (k >> 16)));
		vals[i].ts1_l = vals[i].ts2_l = 1;
		vals[i].c_l = 1;
	}
}

/* The LRU baseline gets the same 1M other entries, so both maps are alike. */
static void fill_lru(void *kp, void *vp, uint32_t first, uint32_t n)
{
	uint32_t *keys = kp;
	uint64_t (*vals)[2] = vp;
	uint32_t i;

	for (i = 0; i < n; i++) {
		keys[i] = htonl(0xC6130000u + first + i); /* 198.19.0.0 + k: never a bench source */
		vals[i][0] = 1;
		vals[i][1] = 1;
	}
}

/* Client identity (docs/protocol.md): source i's key, and its frame re-signed
 * with the next sequence number. The frame is built by pkt_build with v2. */
static uint32_t seqs[NSRC];

static void src_key(int i, uint64_t *k0, uint64_t *k1)
{
	*k0 = 0x0706050403020100ULL ^ (uint64_t)i;
	*k1 = 0x0f0e0d0c0b0a0908ULL ^ ((uint64_t)i << 32);
}

static void resign_v2(int i)
{
	uint8_t *o = frames[i] + 14, *x = o + 28, *in = x + XPRO_TUN_HDR2_LEN;
	uint32_t idx = (uint32_t)i;
	uint64_t k0, k1, mac;
	uint32_t src, dst, seq = ++seqs[i];
	int b;

	src_key(i, &k0, &k1);
	memcpy(&src, o + 12, 4);
	memcpy(&dst, o + 16, 4);
	x[4] = (uint8_t)(seq >> 24);
	x[5] = (uint8_t)(seq >> 16);
	x[6] = (uint8_t)(seq >> 8);
	x[7] = (uint8_t)seq;
	x[8] = (uint8_t)(idx >> 24);
	x[9] = (uint8_t)(idx >> 16);
	x[10] = (uint8_t)(idx >> 8);
	x[11] = (uint8_t)idx;
	mac = xpro_tun_mac(k0, k1, src, dst, x, in + 12);
	for (b = 0; b < 8; b++)
		x[12 + b] = (uint8_t)(mac >> (8 * b));
}

/* The same seeded packets for every program; v2: header version 2 (the
 * identity's sequence number and MAC are written per call by resign_v2) */
static void build_frames(unsigned int seed, int v2)
{
	struct pkt_spec spec;
	int i;

	srand(seed);
	for (i = 0; i < NSRC; i++) {
		pkt_defaults(&spec);
		spec.o_src = htonl(0xC6121000u + (uint32_t)i); /* 198.18.16.0 + i */
		spec.i_src = spec.o_src;
		spec.i_dst = htonl(0xC612010Au + (uint32_t)(rand() % NVICTIMS));
		spec.i_sport = (uint16_t)(1024 + rand() % 60000);
		spec.i_dport = (uint16_t)(1 + rand() % 65535);
		spec.payload = (size_t)(16 + rand() % 49);
		spec.v2 = v2;
		lens[i] = pkt_build(&spec, frames[i], sizeof(frames[i]));
	}
}

/* X-Pro loaded (keys: the client identity on) with prefill_n other records */
static struct xpro_bpf *xpro_load(int keys)
{
	struct xpro_bpf *s = xpro_bpf__open();

	if (!s)
		return NULL;
	s->rodata->cfg_mode = 0;
	s->rodata->cfg_tun_addr = ip4("198.18.0.1");
	s->rodata->cfg_tun_port = htons(5683);
	s->rodata->cfg_keys = keys;
	bpf_map__set_max_entries(s->maps.xpro_records, prefill_n + prefill_n / 8 + 65536);
	if (xpro_bpf__load(s) || prefill(bpf_map__fd(s->maps.xpro_records), sizeof(struct xpro_key),
					 sizeof(struct xpro_record), fill_records)) {
		pr_warn("load or prefill of %u records failed (identity %s)\n", prefill_n, keys ? "on" : "off");
		xpro_bpf__destroy(s);
		return NULL;
	}
	return s;
}

/* The pass path's parameters: thresholds out of reach, the route cache as
 * xpro attach sets it by default (docs/config.md) */
static void pass_params(struct xpro_params *p)
{
	struct xpro_config defaults;

	h_params(p);
	xpro_config_defaults(&defaults);
	p->fib_cache_ms = defaults.params.fib_cache_ms;
	p->tt1_ns = 60ULL * 1000000000ULL;
	p->tf1 = p->tf2 = 1ULL << 32;
}

/* *ns: ns/packet of s's program per call, less the overhead; checked: the
 * counter idx grew by exactly one per packet (else the path did not run) */
static int timed(struct xpro_bpf *s, unsigned int idx, const char *what, double overhead, double *ns)
{
	uint64_t before = h_counter(s, idx), after;

	*ns = measure(bpf_program__fd(s->progs.xpro_xdp), 1, NSRC) - overhead;
	after = h_counter(s, idx);
	if (after - before != (uint64_t)runs * NSRC * 8) {
		pr_warn("%s: %llu counted, expected %llu\n", what, (unsigned long long)(after - before),
			(unsigned long long)runs * NSRC * 8);
		return -1;
	}
	return 0;
}

/* The drop path: p with TF1 = 1 pps after TT2 = 1 ms, so every source is
 * over it; timed as above, counted as TF1 drops */
static int drop_timed(struct xpro_bpf *s, struct xpro_params *p, const char *what, double overhead, double *ns)
{
	uint32_t k0 = 0;

	p->tf1 = 1;
	p->tt2_ns = 1000000ULL;
	bpf_map_update_elem(bpf_map__fd(s->maps.xpro_config), &k0, p, BPF_ANY);
	usleep(5000);
	return timed(s, XPRO_C_DROP_TF1, what, overhead, ns);
}

int main(int argc, char **argv)
{
	struct xpro_params p;
	struct xpro_bpf *x;
	struct baseline_bpf *b;
	uint32_t k0 = 0;
	unsigned int seed = 42;
	double drop_id_ns, pass_id_ns;
	double drop_ns, pass_ns, xdrop_ns, lru_ns, xdrop_rep_ns, xdrop1_ns, drop_rep_ns, overhead_ns, lru1m_ns, pass_nocache_ns;
	int i;
	char cmd[256];
	const char *fill_pin = NULL;

	const struct xp_opt tab[] = {
		XP_UINT(NULL, 'r', &runs, 1, 15, "RUNS", "runs, the median is reported (default 5)"),
		XP_UINT(NULL, 'n', &repeat, 1, 0xffffffffu, "REPEAT", "test_run repeat (default 20000)"),
		XP_UINT(NULL, 's', &seed, 0, 0, "SEED", "packet seed (default 42)"),
		XP_UINT(NULL, 'p', &prefill_n, 1, PREFILL_MAX, "RECORDS", "other records present (default 1048576)"),
		XP_STR(NULL, 'f', &fill_pin, "MAP", "only fill X-Pro's pinned record map MAP with RECORDS records"),
		{ 0 },
	};

	xpro_prog = "bench-dataplane";
	if (xp_opt_parse("bench-dataplane", "usage: bench-dataplane [-r RUNS] [-n REPEAT] [-s SEED] [-p RECORDS] [-f MAP]\n", tab, argc,
			 argv) < argc)
		xp_opt_die("bench-dataplane", "unexpected argument (try -h)");
	if (fill_pin) {
		int fd = bpf_obj_get(fill_pin);

		if (fd < 0 || prefill(fd, sizeof(struct xpro_key), sizeof(struct xpro_record), fill_records)) {
			pr_warn("%s: filling %u records failed: %s\n", fill_pin, prefill_n, strerror(errno));
			return 1;
		}
		printf("{\"filled\":%u}\n", prefill_n);
		return 0;
	}
	if (h_netns_setup())
		return 1;
	/* redirect targets need a NAPI on out0's peer: GRO on after link up */
	if (system("ethtool -K out0p gro on >/dev/null 2>&1"))
		pr_warn("warning: could not turn GRO on for out0p\n");
	for (i = 0; i < NVICTIMS; i++) {
		snprintf(cmd, sizeof(cmd), "ip neigh replace 198.18.1.%d lladdr 02:00:00:00:01:%02x dev out0 nud permanent",
			 10 + i, 10 + i);
		if (system(cmd))
			return 1;
	}

	build_frames(seed, 0);
	x = xpro_load(0);
	if (!x)
		return 1;

	b = baseline_bpf__open();
	if (!b)
		return 1;
	b->rodata->lru_threshold = 0; /* count, compare, drop */
	bpf_map__set_max_entries(b->maps.lru_src, prefill_n + prefill_n / 8 + 65536);
	if (baseline_bpf__load(b)) {
		pr_warn("load baselines failed\n");
		return 1;
	}

	/*
	 * Per-call timer overhead: XDP_DROP timed per call minus the same timed
	 * with repeat (on NCAL frames: each repeat call costs a dispatcher
	 * update of tens of ms). Subtracted from every per-call figure.
	 */
	xdrop_rep_ns = measure(bpf_program__fd(b->progs.xdp_drop), 0, NCAL);
	xdrop1_ns = measure(bpf_program__fd(b->progs.xdp_drop), 1, NSRC);
	overhead_ns = xdrop1_ns - xdrop_rep_ns;
	xdrop_ns = xdrop1_ns - overhead_ns;
	/* the official baseline: the LRU map holds only the bench's sources */
	lru_ns = measure(bpf_program__fd(b->progs.lru_filter), 1, NSRC) - overhead_ns;
	/* for reference: the same with 1M other entries present, as X-Pro has */
	if (prefill(bpf_map__fd(b->maps.lru_src), sizeof(uint32_t), 2 * sizeof(uint64_t), fill_lru)) {
		pr_warn("prefill of the LRU baseline failed\n");
		return 1;
	}
	lru1m_ns = measure(bpf_program__fd(b->progs.lru_filter), 1, NSRC) - overhead_ns;

	/* pass path: every packet decapsulated and redirected */
	pass_params(&p);
	bpf_map_update_elem(bpf_map__fd(x->maps.xpro_config), &k0, &p, BPF_ANY);
	if (timed(x, XPRO_C_PASS_REDIRECT, "pass path (redirects)", overhead_ns, &pass_ns))
		return 1;

	/* for reference: the pass path with the route cache off (a FIB lookup
	 * for every packet) */
	p.fib_cache_ms = 0;
	bpf_map_update_elem(bpf_map__fd(x->maps.xpro_config), &k0, &p, BPF_ANY);
	pass_nocache_ns = measure(bpf_program__fd(x->progs.xpro_xdp), 1, NSRC) - overhead_ns;

	if (drop_timed(x, &p, "drop path (TF1 drops)", overhead_ns, &drop_ns))
		return 1;
	drop_rep_ns = measure(bpf_program__fd(x->progs.xpro_xdp), 0, NCAL);

	/*
	 * Client identity on (docs/protocol.md): the same sources with keys,
	 * header version 2, every call a fresh sequence number and MAC; the
	 * drop and pass paths again, as ratios to the same LRU baseline.
	 */
	{
		struct xpro_bpf *xi = xpro_load(1);

		if (!xi)
			return 1;
		build_frames(seed, 1);
		for (i = 0; i < NSRC; i++) {
			struct xpro_devkey dk;
			uint32_t src = htonl(0xC6121000u + (uint32_t)i);
			uint64_t kk[2];

			src_key(i, &kk[0], &kk[1]);
			memset(&dk, 0, sizeof(dk));
			dk.client = src;
			dk.k0 = kk[0];
			dk.k1 = kk[1];
			if (bpf_map_update_elem(bpf_map__fd(xi->maps.xpro_devkeys), &i, &dk, BPF_ANY) ||
			    bpf_map_update_elem(bpf_map__fd(xi->maps.xpro_keyidx), &src, &i, BPF_ANY))
				return 1;
		}
		resign = resign_v2;
		pass_params(&p);
		bpf_map_update_elem(bpf_map__fd(xi->maps.xpro_config), &k0, &p, BPF_ANY);
		if (timed(xi, XPRO_C_PASS_REDIRECT, "pass path with identity (redirects)", overhead_ns, &pass_id_ns))
			return 1;
		if (drop_timed(xi, &p, "drop path with identity (TF1 drops)", overhead_ns, &drop_id_ns))
			return 1;
		resign = NULL;
		xpro_bpf__destroy(xi);
	}

	printf("{\"dataplane_drop_id_ns\":%.1f,\"dataplane_pass_id_ns\":%.1f,"
	       "\"dataplane_drop_id_vs_lru\":%.2f,\"dataplane_pass_id_vs_lru\":%.2f,"
	       "\"dataplane_drop_id_vs_off\":%.2f,\"dataplane_pass_id_vs_off\":%.2f,",
	       drop_id_ns, pass_id_ns, drop_id_ns / lru_ns, pass_id_ns / lru_ns,
	       drop_id_ns / drop_ns, pass_id_ns / pass_ns);
	printf("\"dataplane_drop_ns\":%.1f,\"dataplane_pass_ns\":%.1f,\"xdp_drop_ns\":%.1f,\"lru_filter_ns\":%.1f,"
	       "\"dataplane_drop_vs_lru\":%.2f,\"dataplane_pass_vs_lru\":%.2f,"
	       "\"dataplane_sources\":%d,\"dataplane_records_present\":%u,\"dataplane_repeat\":%u,\"dataplane_runs\":%u,"
	       "\"test_run_call_overhead_ns\":%.1f,\"dataplane_drop_repeat_ns\":%.1f,\"lru_filter_1m_ns\":%.1f,"
	       "\"dataplane_pass_nocache_ns\":%.1f,\"dataplane_pass_nocache_vs_lru\":%.2f}\n",
	       drop_ns, pass_ns, xdrop_ns, lru_ns, drop_ns / lru_ns, pass_ns / lru_ns,
	       NSRC, prefill_n, repeat, runs, overhead_ns, drop_rep_ns, lru1m_ns,
	       pass_nocache_ns, pass_nocache_ns / lru_ns);
	baseline_bpf__destroy(b);
	xpro_bpf__destroy(x);
	return 0;
}
