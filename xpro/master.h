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
#include <hiredis/hiredis.h>
#include "merge.h"

extern const char xpro_lua_merge[];
/* The batched form (many keys in one call; publishes what changed on the
 * channel xpro:chg). */
extern const char xpro_lua_merge_batch[];

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

#endif
