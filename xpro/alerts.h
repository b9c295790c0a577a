/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `xpro warnd` and `xpro alerts`: the overload warnings of the data plane. */
#ifndef XPRO_ALERTS_H
#define XPRO_ALERTS_H

#include <signal.h>
#include "config.h"

struct xpro_watch {
	double duration;               /* seconds; <= 0: no limit */
	long count;                    /* lines; < 0: no limit */
	int follow;                    /* alerts: keep reading the file */
	volatile sig_atomic_t *stop;   /* set by SIGINT/SIGTERM */
};

/* The one consumer of ifname's warnings: appends them to alerts.jsonl in its
 * state folder and publishes them on the master (redis_master) if set. */
int xpro_warnd(const struct xpro_config *c, const char *ifname, const struct xpro_watch *w);
/* Print ifname's published warnings (alerts.jsonl). */
int xpro_alerts(const struct xpro_config *c, const char *ifname, const struct xpro_watch *w);
/* Every proxy's warnings and overload alerts, from the master's channels. */
int xpro_alerts_all(const struct xpro_config *c, const struct xpro_watch *w);

#endif
