/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The master database (M_DB) side of Algorithm 1: one record's merge runs
 * atomically on the master as a Lua script that mirrors xpro_merge()
 * (xpro/merge.c, the reference; tests/unit/test_master.c checks they agree
 * on random inputs against a real redis-server).
 *
 * Storage: one hash per destination, "x:{D}", field i, value "ts1 ts2 c"
 * (D and i dotted IPv4 addresses); the hash tag {D} keeps a destination's
 * records on one Redis Cluster shard. A record is named "x:{D}:i" in
 * messages, logs and the change feed. Times on the master are microseconds of CLOCK_TAI: Redis
 * Lua numbers are doubles, exact to 2^53, and TAI nanoseconds are not.
 */
#ifndef XPRO_MASTER_H
#define XPRO_MASTER_H

#include <stdint.h>
#include <netinet/in.h>
#include <hiredis/hiredis.h>
#include "config.h"
#include "formats.h"
#include "merge.h"
#include "xredis.h"
#include "rcluster.h"

/* The scripts, from xpro/master.lua (embedded at build time): one record,
 * and the batched form (many keys in one call; publishes what changed on
 * the channel xpro:chg, the change feed). */
extern const char xpro_lua_merge[];
extern const char xpro_lua_merge_batch[];
/* The expiry of a destination's idle clients on the master. */
extern const char xpro_lua_expire[];

/* Split a name "x:{D}:i" into the hash "x:{D}" and the field i. */
int xpro_master_split(const char *name, char *hash, size_t hlen, const char **field);


/*
 * Merge one record on the master: l (times in microseconds, and p in
 * microseconds too) is this
 * proxy's side, l_found whether it holds the pair. On return l and m hold
 * the merged values and *branch the branch taken. -EIO on a Redis error
 * (message in *err), -EPROTO on a reply that fails validation.
 */
int xpro_master_merge(redisContext *c, const char *sha, const char *key,
		      struct xpro_lrec *l, int l_found, const struct xpro_merge_params *p,
		      struct xpro_mrec *m, int *branch, const char **err);

/* Pipelined form: append the EVALSHA, later parse its reply (l and m
 * filled from it). parse: 0, or -EPROTO with *err naming the problem. */
int xpro_master_merge_append(redisContext *c, const char *sha, const char *key,
			     const struct xpro_lrec *l, int l_found, const struct xpro_merge_params *p);
int xpro_master_merge_parse(const redisReply *r, struct xpro_lrec *l, struct xpro_mrec *m,
			    int *branch, const char **err);

/* ---- a destination's batch (syncdb, docs/sync.md) ---------------------- */

/* Records per batch (one HMGET, HSET or EVALSHA): at most this many. */
#define XPRO_SYNC_BATCH 2048

/* The master connection of one syncdb. */
struct xpro_master {
	struct xredis r;
	char sha[41];               /* xpro_lua_merge_batch, loaded */
	int have_sha;
	const char *id;             /* this proxy: the origin of its change feed messages */
	struct xpro_merge_params mp;  /* times in microseconds */
	uint64_t *rejected;         /* the caller's count of refusals (logged: the first five) */
	uint64_t *invalid;          /* the caller's count of values that failed validation */
	struct xpro_limits lim;     /* what a master value may hold (set each round) */
	uint64_t conflicts;         /* WATCH conflicts (retried) */
	uint64_t lua_batches;       /* batches merged by the script after four conflicts */
	uint64_t reloads;           /* the script loaded again after NOSCRIPT */
	uint64_t wbad;              /* peers' W or clock values rejected (logged once a minute) */
	int lua_only;               /* master_merge = lua: every batch through the script */
	uint64_t expired;           /* master fields dropped: idle past TT4 + TT1 + 10 periods, or malformed */
	/* Redis Cluster (redis_master a seed list; docs/sync.md): NULL for one
	 * server. Then r is unused, every batch goes through the script
	 * (lua_only), and cup says whether the cluster answered last. */
	struct rcluster *rc;
	int cup;
	uint64_t cnext_ns;          /* cluster down: the next slot map read (CLOCK_MONOTONIC) */
	uint64_t cfailures;         /* cluster batches that failed */
	const struct xpro_config *cfg; /* cluster: lim read again after each batch (a batch may wait out a failover) */
};

/* The master reachable: one server connected (xredis_get), or the
 * cluster's slot map read. _ok: as it stood after the last command. */
int xpro_master_get(struct xpro_master *m);
int xpro_master_ok(const struct xpro_master *m);
/* Cluster: the merge script on every master (xpro_lua_merge_batch). 0 or -EIO. */
int xpro_master_cluster_load(struct xpro_master *m);
/* Cluster: a batch failed (why): down until the next slot map read. */
void xpro_master_cluster_lost(struct xpro_master *m, const char *why);
/* Cluster: every hash x:{D} of every master node (SCAN is per node) into
 * l. 0, -EIO. */
struct xpro_pairs;
int xpro_master_cluster_scan(struct xpro_master *m, struct xpro_pairs *l);

/* The result of one record's merge. */
struct xpro_mres {
	int rc;                     /* 0; -EPROTO: refused (a bad master value) */
	int branch;                 /* enum xpro_merge_branch, 0: neither side holds it */
	struct xpro_lrec l;         /* the local side, merged */
	struct xpro_mrec m;         /* the master's */
	const char *why;
};

/* WATCH the hash "x:{D}" and HMGET its fields cs[0..n), without waiting for
 * the replies (sent together with the local read: both servers work at
 * once); xpro_master_unread() drops the replies when the local side failed. */
void xpro_master_send_read(struct xpro_master *m, const char *hash, char (*cs)[XPRO_ADDR_STRLEN], size_t n);
void xpro_master_unread(struct xpro_master *m);

/*
 * Merge a batch of one destination on the master, its read already sent
 * (xpro_master_send_read): l[k] this proxy's record of client cs[k],
 * found[k] whether L_DB holds it; res[k] the result. Atomic per record:
 * WATCH/MULTI with xpro_merge() (a few tries), the Lua script when other
 * proxies keep writing the same hash. The records whose master value
 * changed are announced on the change feed (XK_CHG). 0; -EIO (connection
 * lost), -EPROTO (the batch was refused: nothing merged).
 */
int xpro_master_batch(struct xpro_master *m, const char *hash, char (*cs)[XPRO_ADDR_STRLEN],
		      const struct xpro_lrec *l, const int *found, size_t n, struct xpro_mres *res);

/*
 * Drop the master's clients idle longer than idle_us (their ts2 before
 * now_us - idle_us) and values that are not records, hash by hash (SCAN
 * x:{*}, one script call each: atomic per hash). Into m->expired.
 */
void xpro_master_expire(struct xpro_master *m, uint64_t now_us, uint64_t idle_us);

/* ---- clocks (docs/sync.md, Clocks) ----------------------------------------- */
#define XPRO_PEERS_MAX 64

struct xpro_clock {
	struct xpro_clock_val me;   /* this proxy's, measured against the master's TIME */
	int have;                   /* me was measured this period */
	int npeers, nfar;           /* peers with a clock published; beyond max_clock_skew_ms */
	char far[XPRO_PEERS_MAX][72]; /* their ids: their change feed is not merged */
	int self_refused;           /* beyond the bound of more than half of the peers: no merge */
	int leap;                   /* a peer's TAI offset differs from ours by 37 s */
	int64_t worst_us;           /* the largest offset to a peer (peer - us) */
	char worst[72];
	int64_t tai_mono_us;        /* CLOCK_TAI - CLOCK_MONOTONIC last period: steps */
	int64_t last_step_us;       /* the last step seen (negative: backwards) */
	uint64_t steps;
	uint64_t last_alert_ns;
};

/* 1 when a change feed message comes from a peer beyond the bound. */
int xpro_clock_refused(const struct xpro_clock *k, const char *msg, size_t len);

/*
 * W: this proxy's (read from the local l:w) to the master (xw:<id>,
 * expiring after three periods), its id into xpro:proxies, an alert on
 * xpro:alerts when W > T_W (at most once a second: *last_alert, TAI ns),
 * and the other proxies' W read into peers ("id":W,...). With them the
 * clocks: this proxy's offset to the master's TIME to xc:<id>, the
 * peers' read, compared, and alerted on (clk). Returns W.
 */
uint64_t xpro_master_workload(struct xpro_master *m, struct xredis *lr, const struct xpro_config *cfg,
			      uint64_t *last_alert, char *peers, size_t plen, struct xpro_clock *clk);

#endif
