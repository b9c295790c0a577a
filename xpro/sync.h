/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The sync daemons of the X-Pro paper (docs/sync.md):
 *   syncmaps  BPF maps <-> this proxy's local Redis (sync_maps_and_ldb), and
 *             the periodic recompute of the per-destination aggregates
 *             (xpro/syncmaps.c);
 *   syncdb    local Redis <-> the master (Algorithm 1), workload W, alerts
 *             (xpro/syncdb.c, with the master side in xpro/master.c).
 * Both run the period loop of xpro/period.c. Keys: xpro/keys.h; the values
 * stored under them (L_DB, the queues, M_DB, the change feed):
 * xpro/formats.h. Times in Redis are microseconds of CLOCK_TAI; the BPF
 * maps hold nanoseconds.
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

/* xpro_parse_key() ("P:{D}:i" into addresses) is in formats.h. */
#include "formats.h"

#endif
