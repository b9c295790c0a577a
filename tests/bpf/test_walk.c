// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The sync's map walks end under churn (issue 13): a thread inserts fresh
 * keys into small LRU maps, evicting one key per insert, while the
 * recompute's walk of the aggregates (xpro_recompute_begin) and the
 * records' dump (xpro_records_dump) run again and again. bpf_map_get_next_key
 * restarts from the first key when the previous one was evicted, so an
 * unbounded walk may never end; each walk here must end within the bound
 * mapwalk.h gives it (max_entries steps; twice max_entries records for the
 * batch dump). An alarm fails the test if a walk hangs.
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "tap.h"
#include "harness.h"
#include "agg.h"

#define AGGS 64
#define RECS 256
#define ROUNDS 300

static volatile int stop;
static int agg_fd, rec_fd;
static unsigned long inserts;

static void *churn(void *arg)
{
	struct xpro_agg a;
	struct xpro_record r;
	struct xpro_key k;
	struct xpro_addr d;
	unsigned long i;

	(void)arg;
	memset(&a, 0, sizeof(a));
	memset(&r, 0, sizeof(r));
	/* bounded: at most 2^32 inserts, or until the walks are done */
	for (i = 0; !stop && i < (1UL << 32); i++) {
		xpro_addr_set4(&d, (uint32_t)i);
		xpro_addr_set4(&k.client, (uint32_t)(i * 7));
		k.dest = d;
		bpf_map_update_elem(agg_fd, &d, &a, BPF_ANY);
		bpf_map_update_elem(rec_fd, &k, &r, BPF_ANY);
	}
	inserts = i;
	return NULL;
}

static void on_alarm(int sig)
{
	(void)sig;
	printf("not ok - a walk did not end within 120 s under churn\n");
	_exit(1);
}

int main(void)
{
	struct xpro_key *keys, kk, kn, *kp;
	struct xpro_record *vals;
	struct xpro_agg_snap *sn;
	size_t walked, max_walked = 0, max_dump = 0, n;
	unsigned long unbounded_over = 0, steps;
	int r, dump_err = 0, begin_fail = 0;
	pthread_t th;
	LIBBPF_OPTS(bpf_map_create_opts, o);

	H_BEGIN("the churn test of the sync's walks");
	agg_fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "walk_aggs", sizeof(struct xpro_addr), sizeof(struct xpro_agg), AGGS, &o);
	rec_fd = bpf_map_create(BPF_MAP_TYPE_LRU_HASH, "walk_recs", sizeof(struct xpro_key),
				sizeof(struct xpro_record), RECS, &o);
	if (!ok(agg_fd >= 0 && rec_fd >= 0, "two small LRU maps (%d aggregates, %d records)", AGGS, RECS))
		return tap_done();
	signal(SIGALRM, on_alarm);
	alarm(120);
	pthread_create(&th, NULL, churn, NULL);
	usleep(20000);
	for (r = 0; r < ROUNDS; r++) {
		sn = xpro_recompute_begin(agg_fd);
		if (!sn) {
			begin_fail++;
			continue;
		}
		walked = xpro_recompute_walked(sn);
		if (walked > max_walked)
			max_walked = walked;
		xpro_recompute_abort(sn);
		if (xpro_records_dump(rec_fd, &keys, &vals, &n))
			dump_err++;
		else if (n > max_dump)
			max_dump = n;
		free(keys);
		free(vals);
		/* every tenth round, the unbounded walk of old, slowed down (the
		 * churn evicts the key it stands on) and cut here at 20 x
		 * max_entries steps: evidence that eviction restarts it */
		if (r % 10)
			continue;
		kp = NULL;
		for (steps = 0; steps < 20UL * AGGS && !bpf_map_get_next_key(agg_fd, kp, &kn.dest); steps++) {
			kk.dest = kn.dest;
			kp = (void *)&kk.dest;
			usleep(200);
		}
		if (steps > AGGS)
			unbounded_over++;
	}
	stop = 1;
	pthread_join(th, NULL);
	alarm(0);
	tap_diag("%lu inserts meanwhile; longest aggregate walk %zu steps, largest dump %zu records; "
		 "%lu of %d slowed unbounded walks took more than %d steps", inserts, max_walked, max_dump,
		 unbounded_over, ROUNDS / 10, AGGS);
	ok(inserts > (unsigned long)AGGS, "the maps churned while they were walked (%lu inserts)", inserts);
	ok(unbounded_over > 0, "churn restarts an unbounded get_next_key walk (%lu of %d slowed walks ran past %d steps)",
	   unbounded_over, ROUNDS / 10, AGGS);
	ok(!begin_fail, "every recompute walk ended (%d rounds)", ROUNDS);
	ok(max_walked <= AGGS, "the aggregates' walk took at most max_entries = %d steps (longest %zu)", AGGS, max_walked);
	ok(!dump_err && max_dump <= 2 * RECS, "every records dump ended with at most 2 x %d records (largest %zu)",
	   RECS, max_dump);
	close(agg_fd);
	close(rec_fd);
	return tap_done();
}
