// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * bench-sync: how fast a record learned on one proxy reaches the others
 * through the sync daemons (xpro syncmaps / syncdb), with many records
 * present. Run by bench/parts/sync.sh on a testbed that xpro-topo built
 * (four proxies, local Redis each, one master, daemons running).
 *
 *   bench-sync --maps P1,P2,...  [--records N] [--trials T] [--count C]
 *
 * P1..: pinned record maps (<bpffs>/<netns>/in0/xpro_records). The first
 * is where records are written (as the data plane would: a new window with
 * dc = c'); the others are watched.
 * 1. fill: N records written into P1; the time until every other map holds
 *    them all (printed, with the rate);
 * 2. trials: T times, after a random pause of 0-2 sync periods, one fresh
 *    record with c' = C is written into P1 and every other map is polled
 *    (every 0.5 ms) until it holds that record with a count >= C; the delay
 *    of the slowest is one sample. Prints JSON: p50, p99, max, samples.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "xpro.h"
#include "addr.h"
#include "agg.h"
#include "clock.h"
#include "opt.h"
#include "log.h"

#define MAXP 16

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ULL), .tv_nsec = (long)(ns % 1000000000ULL) };

	nanosleep(&ts, NULL);
}

/* Entries of a record map (xpro/agg.c's batched dump: cheap enough to poll). */
static size_t count_keys(int fd)
{
	struct xpro_key *k;
	struct xpro_record *v;
	size_t n;

	if (xpro_records_dump(fd, &k, &v, &n))
		return 0;
	free(k);
	free(v);
	return n;
}
/* "merged" of a syncdb state file, or 0 */
static uint64_t merged_of(const char *path)
{
	char buf[8192], *p;
	size_t n;
	FILE *f = path ? fopen(path, "r") : NULL;

	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strstr(buf, "\"merged\":");
	return p ? strtoull(p + 9, NULL, 10) : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void put_record(int fd, const struct xpro_key *key, uint64_t count)
{
	struct xpro_key k = *key;
	uint64_t now = xp_tai_ns();
	struct xpro_record r = {
		.ts1_l = now - 1000000000ULL, .ts2_l = now, .c_l = count, .dc = count, .mark = 0,
	};

	bpf_map_update_elem(fd, &k, &r, BPF_ANY);
}

int main(int argc, char **argv)
{
	int fds[MAXP], np = 0, i, t;
	long nrec = 100000, trials = 100, period_ms = 100;
	uint64_t count = 1000, *samples, t0, fill_ns = 0;
	char *maps = NULL, *tok, *save;
	const char *status = NULL;
	uint64_t merged0, merge_ns = 0;
	size_t base[MAXP];

	const struct xp_opt tab[] = {
		XP_STR("maps", 0, &maps, "P1,P2,...", "the pinned maps of two or more proxies (required)"),
		XP_LONG("records", 0, &nrec, 0, 4000000, "N", "records to merge (default 100000)"),
		XP_LONG("trials", 0, &trials, 1, 100000, "T", "propagation trials (default 100)"),
		XP_U64("count", 0, &count, 0, 0, "C", "packets per record (default 1000)"),
		XP_LONG("period-ms", 0, &period_ms, 1, 3600000, "MS", "the sync period (default 100)"),
		XP_STR("status", 0, &status, "FILE", "syncdb's state file"),
		{ 0 },
	};

	xpro_prog = "bench-sync";
	if (xp_opt_parse("bench-sync", "usage: bench-sync --maps P1,P2,... [options]\n", tab, argc, argv) < argc)
		xp_opt_die("bench-sync", "unexpected argument (try --help)");
	if (!maps)
		xp_opt_die("bench-sync", "--maps P1,P2,... is required");
	for (tok = strtok_r(maps, ",", &save); tok && np < MAXP; tok = strtok_r(NULL, ",", &save)) {
		fds[np] = bpf_obj_get(tok);
		if (fds[np] < 0) {
			pr_warn("open %s: %s\n", tok, strerror(errno));
			return 1;
		}
		np++;
	}
	if (np < 2) {
		pr_warn("at least two maps\n");
		return 2;
	}
	samples = calloc((size_t)trials, sizeof(*samples));
	if (!samples)
		return 1;
	srand(42);

	/* 1. fill: N records (clients 198.18.64.0/18 x 64 destinations) */
	for (i = 0; i < np; i++)
		base[i] = count_keys(fds[i]);
	merged0 = merged_of(status);
	t0 = xp_mono_ns();
	for (i = 0; i < nrec; i++) {
		struct xpro_key k = { .client = xpro_addr4(htonl(0xC6124000u + (uint32_t)(i / 64))),
				      .dest = xpro_addr4(htonl(0xC6120140u + (uint32_t)(i % 64))) };

		put_record(fds[0], &k, 10);
	}
	for (;;) {
		int done = 1;

		if (status && !merge_ns && merged_of(status) >= merged0 + (uint64_t)nrec)
			merge_ns = xp_mono_ns() - t0;
		for (i = 1; i < np && done; i++)
			done = count_keys(fds[i]) >= base[i] + (size_t)nrec;
		if (done)
			break;
		if (xp_mono_ns() - t0 > 120ULL * 1000000000ULL) {
			pr_warn("the fill did not reach every proxy within 120 s\n");
			return 1;
		}
		sleep_ns(50000000ULL);
	}
	fill_ns = xp_mono_ns() - t0;
	while (status && !merge_ns && xp_mono_ns() - t0 < 120ULL * 1000000000ULL) {
		if (merged_of(status) >= merged0 + (uint64_t)nrec)
			merge_ns = xp_mono_ns() - t0;
		sleep_ns(10000000ULL);
	}
	pr_warn("%ld records on every proxy after %.0f ms (%.0f records/s end to end)\n",
		nrec, (double)fill_ns / 1e6, (double)nrec / ((double)fill_ns / 1e9));

	/* 2. trials: one fresh record at a random phase of the period */
	for (t = 0; t < trials; t++) {
		struct xpro_key k = { .client = xpro_addr4(htonl(0xC6128000u + (uint32_t)t)),
				      .dest = xpro_addr4(htonl(0xC6120165u)) };
		struct xpro_record r;
		uint64_t start;
		int left;

		sleep_ns((uint64_t)(rand() % (2 * period_ms * 1000)) * 1000ULL);
		put_record(fds[0], &k, count);
		start = xp_mono_ns();
		for (;;) {
			left = 0;
			for (i = 1; i < np; i++)
				if (bpf_map_lookup_elem(fds[i], &k, &r) || r.c_l < count)
					left++;
			if (!left)
				break;
			if (xp_mono_ns() - start > 30ULL * 1000000000ULL) {
				pr_warn("trial %d did not reach every proxy within 30 s\n", t);
				return 1;
			}
			sleep_ns(500000ULL);
		}
		samples[t] = xp_mono_ns() - start;
	}
	qsort(samples, (size_t)trials, sizeof(*samples), cmp_u64);
	printf("{\"merge_ms\":%.1f,\"fill_records\":%ld,\"fill_ms\":%.1f,\"prop_p50_ms\":%.2f,\"prop_p99_ms\":%.2f,\"prop_max_ms\":%.2f,\"trials\":%ld}\n",
	       (double)merge_ns / 1e6, nrec, (double)fill_ns / 1e6, (double)samples[trials / 2] / 1e6,
	       (double)samples[(size_t)((double)trials * 0.99) < (size_t)trials ? (size_t)((double)trials * 0.99) : (size_t)trials - 1] / 1e6,
	       (double)samples[trials - 1] / 1e6, trials);
	free(samples);
	return 0;
}
