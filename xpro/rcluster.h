/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A small Redis Cluster client on hiredis 0.14 (which has none), for the
 * sync daemons (docs/sync.md, "Redis Cluster: the client").
 *
 *  - seeds: "ADDR:PORT,ADDR:PORT,..." (IPv4 dotted, IPv6 as "[ADDR]:PORT",
 *    both in their one canonical text form, lib/addr.h);
 *  - the slot map from CLUSTER SLOTS, checked whole before it replaces the
 *    old one (a reply of the wrong shape, a slot outside 0..16383, an
 *    overlap, a port outside 1..65535, an address that is not one: the old
 *    map stays and the reason is kept in rc->err);
 *  - one connection per node (struct xredis: timeout, AUTH user/password,
 *    its own backoff);
 *  - batches: commands queued with their routing key, sent as one pipeline
 *    per node, the replies handed back in the order queued. MOVED: the map
 *    is refreshed and the command resent to the owner; ASK: ASKING and the
 *    command to that node, once; TRYAGAIN, CLUSTERDOWN, LOADING: retried
 *    with backoff, bounded in count and in time; a connection lost: the map
 *    refreshed from any live node (a promoted replica takes over), the
 *    command retried once. A command that still has no answer fails with
 *    an error of its own (rcluster_cmd_err), the others keep their replies.
 */
#ifndef XPRO_RCLUSTER_H
#define XPRO_RCLUSTER_H

#include <stddef.h>
#include <stdint.h>
#include <hiredis/hiredis.h>
#include "xredis.h"

#define RC_SLOTS 16384
#define RC_MAX_SEEDS 16
#define RC_MAX_NODES 64          /* masters and replicas a map may name */
#define RC_SEEDS_MAXLEN 1024     /* the seed list's text */
#define RC_HOSTLEN 46            /* INET6_ADDRSTRLEN */
#define RC_NONE 0xffff

/* ---- pure parts (tests/unit/test_rcluster.c) ------------------------------- */

/* CRC16-XMODEM (polynomial 0x1021, initial 0, no reflection): the Redis
 * Cluster specification's key hash; "123456789" -> 0x31C3. */
uint16_t rc_crc16(const char *s, size_t len);
/* The key's slot: CRC16 of its hash tag (the bytes between the first '{'
 * and the first '}' after it, when there are any) or of the whole key,
 * mod 16384. */
unsigned int rc_keyslot(const char *key, size_t len);

struct rc_addr {
	char host[RC_HOSTLEN];   /* canonical text form */
	int port;
};

/* "ADDR:PORT" (IPv4) or "[ADDR]:PORT" (IPv6) of len bytes: 0, else -1 and
 * a reason in err. */
int rc_parse_hostport(const char *s, size_t len, struct rc_addr *a, char *err, size_t errlen);
/* The seed list into seeds[RC_MAX_SEEDS]: their number (>= 1), else -1 and
 * a reason in err (empty entry, bad address, duplicate, too many, too long). */
int rc_parse_seeds(const char *s, struct rc_addr *seeds, char *err, size_t errlen);
/* "ADDR:PORT" or "[ADDR]:PORT" into buf (RC_HOSTLEN + 8); returns buf. */
char *rc_addr_str(char *buf, const struct rc_addr *a);

/* A slot map as read from one CLUSTER SLOTS reply. */
struct rc_map {
	int nnodes;
	struct rc_addr node[RC_MAX_NODES];
	unsigned char master[RC_MAX_NODES]; /* 1: serves a range */
	uint16_t owner[RC_SLOTS];           /* index in node[], or RC_NONE */
	unsigned int covered;               /* slots with an owner */
};

/* Parse a CLUSTER SLOTS reply into *m: 0, else -1 and the reason in err
 * (*m is then garbage: parse into a scratch map). self: the address of the
 * node that answered, for a node listed with an empty address (a node that
 * has not learnt its own yet, as in a cluster of one); NULL: refused. */
int rc_parse_slots(const redisReply *r, const char *self, struct rc_map *m, char *err, size_t errlen);

/* A redirect error reply's text ("MOVED 3999 127.0.0.1:6381", "ASK 3999
 * [2001:db8::1]:7000"; Redis writes an IPv6 address without brackets,
 * "ASK 3999 2001:db8::1:7000", also accepted; an empty address, ":7000",
 * means the host of the node that answered and is left empty here).
 * 1 MOVED, 2 ASK, 0 not a redirect, -1 a malformed redirect (err says). */
#define RC_MOVED 1
#define RC_ASK 2
int rc_parse_redirect(const char *s, size_t len, unsigned int *slot, struct rc_addr *to,
		      char *err, size_t errlen);

/* ---- the client ---------------------------------------------------------- */

struct rc_node {
	struct xredis r;         /* host, port, credentials, context, backoff */
	struct rc_addr a;
	int seed;                /* from the seed list: kept across maps */
	int in_map;              /* named by the present map */
	int master;              /* serves slots in the present map */
};

struct rc_stats {
	uint64_t moved, ask, tryagain, clusterdown, loading;
	uint64_t conn_lost;      /* a node's connection failed in a batch */
	uint64_t refreshes, refresh_failures, maps_refused;
	uint64_t cmds_failed;    /* commands that ended without an answer */
	uint64_t retries;        /* rounds after the first */
};

struct rc_cmd {
	size_t off, len;         /* its RESP in rc->buf */
	unsigned int slot;
	uint16_t to;             /* the node it goes to this round, or RC_NONE */
	uint8_t asking;          /* send it to ask_to after ASKING, once */
	uint8_t state;           /* 0 pending, 1 answered, 2 failed */
	uint8_t conn_retries, redirects, busy_retries;
	struct rc_addr ask_to;
	redisReply *rep;
	char *err;               /* why it failed (state 2), malloc'd */
};

/* About 64 KiB: static or on the heap. */
struct rcluster {
	char user[64], pass[128];
	int nseeds;
	struct rc_node node[RC_MAX_SEEDS + RC_MAX_NODES];
	int nnodes;
	uint16_t owner[RC_SLOTS];    /* index in node[], or RC_NONE */
	int have_map;
	/* bounds of one rcluster_exec (defaults below; the caller may set) */
	unsigned int max_busy_retries;   /* TRYAGAIN/CLUSTERDOWN/LOADING */
	unsigned int max_redirects;      /* MOVED/ASK per command */
	unsigned int budget_ms;          /* no new round after this */
	/* A command whose node's connection was lost may have run: resent
	 * once when 1 (the default; for idempotent commands), failed at once
	 * when 0. (A MOVED, ASK, TRYAGAIN, CLUSTERDOWN or LOADING reply means
	 * it did not run: those are always resent.) */
	int resend_on_loss;
	/* the batch */
	struct rc_cmd *cmd;
	int ncmd, capcmd;
	char *buf;
	size_t buflen, bufcap;
	struct rc_map *scratch;
	struct rc_stats st;
	char err[256];               /* the last refusal or failure */
	char map_err[256];           /* the last slot map refused */
};

#define RC_DEF_BUSY_RETRIES 8
#define RC_DEF_REDIRECTS 5
#define RC_DEF_BUDGET_MS 2000

/* Seeds and credentials ("" or NULL: none). 0, else -EINVAL with the reason
 * in rc->err. No connection is made yet. */
int rcluster_init(struct rcluster *rc, const char *seeds, const char *user, const char *pass);
void rcluster_free(struct rcluster *rc);
/* Read the slot map from a live node (those of the map, then the seeds):
 * 0 when a new map is in place, else -EIO (no node answered with a good
 * map; the old one stays, rc->err says why). */
int rcluster_refresh(struct rcluster *rc);
/* The node serving slot (index in rc->node[]), or -1 (no map, no owner). */
int rcluster_slot_node(const struct rcluster *rc, unsigned int slot);

/* Queue a command (argc arguments v[i] of l[i] bytes, copied) routed by the
 * key of klen bytes: its index in the batch, or -ENOMEM. Every command is
 * redirected and resent on its own: no MULTI/EXEC or WATCH through a batch
 * (one EVALSHA is atomic). */
int rcluster_queue(struct rcluster *rc, const char *key, size_t klen, int argc,
		   const char *const *v, const size_t *l);
/* The same for an argument vector (xredis.h). */
int rcluster_queue_argv(struct rcluster *rc, const char *key, size_t klen, const struct xredis_argv *a);
/* Send the batch and collect every answer (see above): the number of
 * commands that failed (0: all answered; an error reply of the command
 * itself, e.g. WRONGTYPE, is an answer). Returns within about budget_ms
 * plus one connect or read timeout (1 s) per node. */
int rcluster_exec(struct rcluster *rc);
/* Command i's reply (owned by rc until rcluster_reset), or NULL when it
 * failed; then rcluster_cmd_err(rc, i) says why. */
redisReply *rcluster_reply(const struct rcluster *rc, int i);
const char *rcluster_cmd_err(const struct rcluster *rc, int i);
/* The same reply handed over: the caller frees it (freeReplyObject). */
redisReply *rcluster_take(struct rcluster *rc, int i);
/* Empty the batch (replies freed). */
void rcluster_reset(struct rcluster *rc);
/* SCRIPT LOAD src on every master of the map (read first when there is
 * none; scripts are per node): the number of masters, its SHA1 in sha
 * (41 bytes), or -EIO when a master failed (rc->err names it). Call it
 * again after a NOSCRIPT (a promoted replica, a new master). */
int rcluster_script_load(struct rcluster *rc, const char *src, char sha[41]);

#endif
