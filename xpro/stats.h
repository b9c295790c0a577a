/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
#ifndef XPRO_STATS_H
#define XPRO_STATS_H

#include <stdio.h>
#include "proxy.h"

#define XPRO_TOP_MAX 64

struct xpro_talker {
	struct xpro_key key;
	struct xpro_record rec;
};

struct xpro_snapshot {
	uint64_t counters[XPRO_C__MAX]; /* summed over CPUs */
	struct xpro_params params;
	uint64_t records, dests, evicted_est;
	unsigned int ntop;
	struct xpro_talker top[XPRO_TOP_MAX];
};

const char *xpro_counter_name(unsigned int i);
int xpro_read_counters(int fd, uint64_t out[XPRO_C__MAX]);
int xpro_collect(struct xpro_proxy *px, struct xpro_snapshot *s, unsigned int ntop);
void xpro_print_text(const struct xpro_proxy *px, const struct xpro_snapshot *s, FILE *f);
void xpro_print_json(const struct xpro_proxy *px, const struct xpro_snapshot *s, FILE *f);

/* A sync daemon's state file (<state_dir>/<daemon>.json) into buf, and the
 * lag since its last complete period (ms; -1 if it never completed one).
 * -ENOENT when the daemon never ran here. */
int xpro_sync_state(const struct xpro_proxy *px, const char *daemon, char *buf, size_t len,
		    double *lag_ms);

#endif
