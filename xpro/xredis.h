/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A Redis connection for the sync daemons (hiredis 0.14): connect with a
 * timeout, AUTH with the ACL user and password of the config, log once when
 * the server goes away and once when it is back, retry with exponential
 * backoff (100 ms doubling to 1 s) without blocking the caller's period.
 */
#ifndef XPRO_XREDIS_H
#define XPRO_XREDIS_H

#include <stdint.h>
#include <hiredis/hiredis.h>

struct xredis {
	const char *name;        /* "local" or "master", for messages */
	char host[64];
	int port;
	char user[64], pass[128];
	redisContext *c;
	uint64_t next_try_ns;    /* CLOCK_MONOTONIC */
	uint32_t backoff_ms;
	int down_logged;
	uint64_t reconnects;
};

/* Fill from "ADDR:PORT" and credentials ("" = none). -EINVAL on a bad address. */
int xredis_init(struct xredis *r, const char *name, const char *hostport,
		const char *user, const char *pass);
/* A live context, or NULL while the server is down (the backoff decides
 * when the next attempt is made; the first failure is logged once). */
redisContext *xredis_get(struct xredis *r);
/* The connection failed in use: drop it, log once, back off. Every call
 * counts in xredis_failures (this process; the daemons' state files carry
 * it as redis_errors). */
extern uint64_t xredis_failures;
void xredis_fail(struct xredis *r, const char *what);
void xredis_close(struct xredis *r);
/* New address or credentials (SIGHUP): drop the connection, try again now. */
void xredis_reconfig(struct xredis *r, const char *hostport, const char *user, const char *pass);

/* Load a Lua script: 0 and sha (41 bytes), or -EIO. */
int xredis_script_load(redisContext *c, const char *src, char sha[41]);

/* Parse a reply element as a non-negative integer <= 2^53 (what Lua and
 * the master store exactly): 0, or -1 when it is missing, not a number,
 * negative or absurd. */
int xredis_u53(const redisReply *e, uint64_t *out);

uint64_t xredis_mono_ns(void);

/*
 * Command batching without hiredis' printf: the big commands of the sync
 * (HMGET and HSET of a batch, EVALSHA of a batch) spent most of their time
 * in hiredis' formatting. An argument vector is built up (it grows, and is
 * reused from command to command), its RESP written into one reusable
 * buffer and appended to the context's output as it is. The bytes equal
 * redisFormatCommandArgv's (tests/unit/test_xredis.c).
 */
struct xredis_argv {
	int n, cap;
	const char **v;
	size_t *l;
	char (*num)[24];         /* the digits of the numbers added */
	unsigned char *isnum;    /* v[i] points into num[i] */
	int oom;                 /* an add failed: the command is not sent */
};

/* Start a command: argv = { cmd }. */
void xredis_argv_reset(struct xredis_argv *a, const char *cmd);
/* Add an argument: a string (not copied: it must live until the append),
 * len bytes of memory (binary-safe), or the decimal digits of x. */
void xredis_argv_str(struct xredis_argv *a, const char *s);
void xredis_argv_mem(struct xredis_argv *a, const char *s, size_t len);
void xredis_argv_u64(struct xredis_argv *a, uint64_t x);
void xredis_argv_free(struct xredis_argv *a);

/* The RESP of the argc arguments (v[i], l[i] bytes) into *buf (grown as
 * needed, *cap its size): its length, or 0 out of memory. */
size_t xredis_format_argv(char **buf, size_t *cap, int argc, const char *const *v, const size_t *l);
/* redisAppendCommandArgv without its printf: 0, -ENOMEM or -EIO. */
int xredis_append_argv(redisContext *c, int argc, const char *const *v, const size_t *l);
int xredis_append(redisContext *c, const struct xredis_argv *a);

/*
 * A subscriber connection (its own context, in subscribe mode). The owner
 * polls xsub_fd() and calls xsub_read(), which hands every message payload
 * on the channel to cb. After a (re)subscription *fresh is set: messages
 * may have been missed, the owner should do one full pass.
 */
struct xsub {
	struct xredis r;
	char chan[64];
	int fresh;
};

int xsub_init(struct xsub *s, const char *name, const char *hostport, const char *user,
	      const char *pass, const char *chan);
/* Subscribed and connected: its fd, or -1 (down; retried with backoff). */
int xsub_fd(struct xsub *s);
/* Read what arrived; cb(payload, len, arg) per message. -EIO when the
 * connection dropped (logged once; it resubscribes later). */
int xsub_read(struct xsub *s, void (*cb)(const char *msg, size_t len, void *arg), void *arg);

#endif
