/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `xpro warnd` and `xpro alerts`: the overload warnings of the data plane. */
#ifndef XPRO_ALERTS_H
#define XPRO_ALERTS_H

#include <signal.h>
#include <stddef.h>
#include "config.h"
#include "proxy.h"

struct xpro_watch {
	double duration;               /* seconds; <= 0: no limit */
	long count;                    /* lines; < 0: no limit */
	int follow;                    /* alerts: keep reading the file */
	int pretty;                    /* alerts: each line's JSON indented (-p) */
	volatile sig_atomic_t *stop;   /* set by SIGINT/SIGTERM */
	volatile sig_atomic_t *reload; /* warnd: set by SIGHUP (reopen the log), or NULL */
};

/* The one consumer of ifname's warnings: appends them to alerts.jsonl in its
 * state folder and publishes them on the master (redis_master) if set. */
int xpro_warnd(const struct xpro_config *c, const char *ifname, const struct xpro_watch *w);
/* The alert log of px: <log_dir>/<netns>/<ifname>/alerts.jsonl. */
int xpro_alert_log_path(const struct xpro_config *c, const struct xpro_proxy *px, char *buf, size_t len);
/* One warning as an EVE-style JSON line (no newline); thr the threshold it
 * crossed (packets/s). Its length, as snprintf. */
int xpro_warning_eve(char *line, size_t len, const struct xpro_warning *ev, const char *proxy_id,
		     const char *nsname, const char *ifname, uint64_t thr);
/* Print ifname's published warnings (alerts.jsonl). */
int xpro_alerts(const struct xpro_config *c, const char *ifname, const struct xpro_watch *w);
/* Every proxy's warnings and overload alerts, from the master's channels. */
int xpro_alerts_all(const struct xpro_config *c, const struct xpro_watch *w);

#endif
