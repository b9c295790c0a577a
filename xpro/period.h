/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the two sync daemons (xpro/syncmaps.c, xpro/syncdb.c) share: the
 * period loop (wait, SIGHUP, the period's work, the state file, the stop
 * conditions), and lists of (destination, client) pairs.
 */
#ifndef XPRO_PERIOD_H
#define XPRO_PERIOD_H

#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>
#include "addr.h"
#include "config.h"
#include "keys.h"
#include "proxy.h"
#include "sync.h"
#include "xredis.h"

struct xpro_period {
	uint64_t t0;            /* CLOCK_MONOTONIC ns: the start */
	uint64_t next;          /* CLOCK_MONOTONIC ns: the end of this period */
	uint64_t periods;       /* periods completed */
	uint64_t last_ok_ns;    /* CLOCK_TAI ns: the end of the last complete one (0: none) */
	double cpu_total;       /* ms of CPU, periods and events */
	uint64_t overruns;      /* periods that ended after the next should have begun */
};

struct xpro_period_ops {
	const char *name;       /* "syncmaps", "syncdb": messages and <name>.json */
	/* Wait for the period's end (p->next), handling what arrives
	 * meanwhile (CPU spent there goes to p->cpu_total): 1 at the period's
	 * end, 0 after an event (step then runs at once, without the period's
	 * bookkeeping). */
	int (*wait)(void *arg, struct xpro_period *p);
	/* The config was reread (SIGHUP): reconnect. */
	void (*reconfig)(void *arg);
	/* The period's (or an event's) work: 1 when it completed. */
	int (*step)(void *arg, int period_end);
	/* The state (one JSON object) after the period; wall_ms its length. */
	void (*status)(void *arg, const struct xpro_period *p, double wall_ms, char *buf, size_t len);
};

/*
 * Run periods of cfg->sync_period_ms until SIGTERM (*o->stop), --periods
 * or --duration. After each period its state goes to
 * <px->state_dir>/<name>.json, atomically. An overrun starts no burst of
 * catch-up periods.
 */
void xpro_period_loop(struct xpro_config *cfg, const struct xpro_sync_opts *o, const struct xpro_proxy *px,
		      const struct xpro_period_ops *ops, void *arg, struct xpro_period *p);

/* CPU time of the process (user + system), ms. */
double xpro_cpu_ms(void);
/* Sleep until t_ns (CLOCK_MONOTONIC). */
void xpro_sleep_until(uint64_t t_ns);
/* A subscriber's callback for a channel whose message is only a wake-up. */
void xpro_on_wakeup(const char *msg, size_t len, void *arg);
/* The expiry of what the sync writes (L_DB, the queues, M_DB): 2 TT1 + 10
 * periods, ms. */
uint64_t xpro_sync_ttl_ms(const struct xpro_config *c);

/*
 * Follow the proxy's pins (docs/sync.md, Operations): 0 when the maps held
 * open (px->fd) are still the pinned ones; 1 after a detach + attach (px
 * reopened on the new maps); -1 while detached (no pins; px closed).
 */
int xpro_follow_pins(struct xpro_proxy *px);
/* The run-time keys (xpro set writes them into the config map) from the
 * map into c->params: 0, or -errno (c untouched). */
int xpro_sync_params(struct xpro_proxy *px, struct xpro_config *c);

/* The daemons' clock: CLOCK_TAI plus the config's clock_offset_ms (0
 * unless a test sets it), ns. */
uint64_t xpro_sync_now(const struct xpro_config *c);
/* The limits of what is read from Redis (formats.h, xpro_limits) at now_ns. */
struct xpro_limits xpro_sync_limits(const struct xpro_config *c, uint64_t now_ns);
/* A value read from Redis that fails validation: counted in *n, and one
 * log line (at most ten a second per daemon, then a count of those not
 * shown) "<who>: <key> field <field>: <value> rejected (<why>)". */
void xpro_reject(const char *who, uint64_t *n, const char *key, const char *field, const char *value,
		 const char *why);

/* After SIGHUP: the nl connections to the local Redis and the nm to the
 * master take the config's addresses and credentials (and reconnect). */
void xpro_sync_reconnect(const struct xpro_config *c, struct xredis *const *local, int nl,
			 struct xredis *const *master, int nm);

/* ---- (destination, client) pairs ------------------------------------------ */

struct xpro_pair {
	struct xpro_addr dest, client;
};

struct xpro_pairs {
	struct xpro_pair *p;
	size_t n, cap;
	uint64_t bad;                 /* names refused by the readers below (not canonical, ...) */
	char bad_name[XK_NAME_MAX];   /* the last of them, cut at XK_NAME_MAX - 1 bytes */
};

/* Add one (out of memory: dropped; the record waits for a full pass). */
void xpro_pairs_add(struct xpro_pairs *l, const struct xpro_addr *dest, const struct xpro_addr *client);
/* The same, as the callback of xpro_upd_parse / xpro_feed_parse. */
void xpro_pairs_add_cb(const struct xpro_addr *dest, const struct xpro_addr *client, void *l);
/* A name read from Redis that is no record or destination name: counted
 * in l->bad, kept in l->bad_name (len bytes). */
void xpro_pairs_refuse(struct xpro_pairs *l, const char *name, size_t len);
/* Sort by destination, then client, and drop repeats. */
void xpro_pairs_sort(struct xpro_pairs *l);
/* The members of a reply array: record names "P:{D}:i" (prefix P), or
 * with prefix 0 destinations "D" (client 0); others are skipped. */
void xpro_pairs_add_reply(struct xpro_pairs *l, redisReply **e, size_t n, char prefix);

#endif
