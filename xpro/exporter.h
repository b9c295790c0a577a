/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `xpro exporter` and `xpro stats --prom`: the Prometheus metrics of one
 * proxy (docs/operations.md, Metrics). */
#ifndef XPRO_EXPORTER_H
#define XPRO_EXPORTER_H

#include <signal.h>
#include <stdio.h>
#include "config.h"
#include "proxy.h"
#include "stats.h"

struct xpro_exporter_opts {
	const char *listen;            /* "ADDR:PORT" of /metrics; NULL: no HTTP */
	const char *textfile;          /* node_exporter textfile (.prom), or NULL */
	double interval;               /* seconds between textfile writes */
	double duration;               /* seconds; <= 0: until *stop */
	volatile sig_atomic_t *stop;
};

/* Every metric family of the proxy px (its snapshot s, already collected,
 * or NULL when its maps could not be read: xpro_up 0) and of its sync
 * daemons' state files, in the Prometheus text format (0.0.4). */
void xpro_metrics_write(FILE *f, const struct xpro_config *c, const struct xpro_proxy *px,
			const struct xpro_snapshot *s);

int xpro_exporter(const struct xpro_config *c, const char *ifname, const struct xpro_exporter_opts *o);

#endif
