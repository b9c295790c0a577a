/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The sync daemons of the X-Pro paper (docs/sync.md):
 *   syncmaps  BPF maps <-> this proxy's local Redis (sync_maps_and_ldb), and
 *             the periodic recompute of the per-destination aggregates;
 *   syncdb    local Redis <-> the master (Algorithm 1), workload W, alerts.
 * Local Redis: hash l:{D}, field i, value "ts1 ts2 gc dc mark mts1 mts2"
 * (us), written by syncdb only; syncmaps queues its deltas on l:{D}:q
 * (docs/sync.md, "Local Redis"). Master: hash x:{D}, field i
 * (xpro/master.h). Times in Redis are
 * microseconds of CLOCK_TAI; the BPF maps hold nanoseconds.
 */
#ifndef XPRO_SYNC_H
#define XPRO_SYNC_H

#include <signal.h>
#include <stdint.h>
#include "config.h"

struct xpro_sync_opts {
	const char *ifname;
	const char *conf_path;      /* reread on SIGHUP (NULL: none) */
	const char *const *sets;    /* --set overrides, reapplied on SIGHUP */
	int nsets;
	double duration;            /* seconds; <= 0: until SIGTERM */
	long periods;               /* > 0: stop after this many periods */
	int full_scan;              /* syncdb: the reference full scan (default: changed only) */
	volatile sig_atomic_t *stop;
	volatile sig_atomic_t *reload;
};

int xpro_syncmaps(struct xpro_config *c, const struct xpro_sync_opts *o);
int xpro_syncdb(struct xpro_config *c, const struct xpro_sync_opts *o);

/* Parse "P:{D}:i" (P one character) into addresses; 0 or -EINVAL. */
int xpro_parse_key(const char *key, char prefix, uint32_t *client, uint32_t *dest);

#endif
