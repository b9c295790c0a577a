// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "config.h"
#include "log.h"
#include "xredis.h"

#define XR_MAX_U53 9007199254740991ULL

uint64_t xredis_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int xredis_init(struct xredis *r, const char *name, const char *hostport,
		const char *user, const char *pass)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	if (xpro_hostport(hostport, r->host, sizeof(r->host), &r->port))
		return -EINVAL;
	snprintf(r->user, sizeof(r->user), "%s", user ? user : "");
	snprintf(r->pass, sizeof(r->pass), "%s", pass ? pass : "");
	r->backoff_ms = 100;
	return 0;
}

static void backoff(struct xredis *r)
{
	r->next_try_ns = xredis_mono_ns() + (uint64_t)r->backoff_ms * 1000000ULL;
	r->backoff_ms = r->backoff_ms >= 500 ? 1000 : r->backoff_ms * 2;
}

void xredis_fail(struct xredis *r, const char *what)
{
	if (!r->down_logged) {
		pr_warn("redis %s %s:%d: %s; retrying with backoff, the data plane keeps enforcing\n",
			r->name, r->host, r->port, what && *what ? what : "connection lost");
		r->down_logged = 1;
	}
	if (r->c) {
		redisFree(r->c);
		r->c = NULL;
	}
	backoff(r);
}

redisContext *xredis_get(struct xredis *r)
{
	struct timeval tv = { .tv_sec = 1, .tv_usec = 0 };
	redisReply *rep;
	char why[256];

	if (r->c)
		return r->c;
	if (xredis_mono_ns() < r->next_try_ns)
		return NULL;
	r->c = redisConnectWithTimeout(r->host, r->port, tv);
	if (!r->c || r->c->err) {
		snprintf(why, sizeof(why), "connect: %s", r->c ? r->c->errstr : "out of memory");
		xredis_fail(r, why);
		return NULL;
	}
	redisSetTimeout(r->c, tv);
	if (r->pass[0]) {
		if (r->user[0])
			rep = redisCommand(r->c, "AUTH %s %s", r->user, r->pass);
		else
			rep = redisCommand(r->c, "AUTH %s", r->pass);
		if (!rep || rep->type == REDIS_REPLY_ERROR) {
			snprintf(why, sizeof(why), "AUTH as '%s' refused: %s", r->user[0] ? r->user : "default",
				 rep ? rep->str : r->c->errstr);
			if (rep)
				freeReplyObject(rep);
			xredis_fail(r, why);
			return NULL;
		}
		freeReplyObject(rep);
	}
	rep = redisCommand(r->c, "PING");
	if (!rep || rep->type == REDIS_REPLY_ERROR) {
		snprintf(why, sizeof(why), "PING: %s", rep ? rep->str : r->c->errstr);
		if (rep)
			freeReplyObject(rep);
		xredis_fail(r, why);
		return NULL;
	}
	freeReplyObject(rep);
	if (r->down_logged)
		pr_warn("redis %s %s:%d: back; sync resumes\n", r->name, r->host, r->port);
	r->down_logged = 0;
	r->backoff_ms = 100;
	r->reconnects++;
	return r->c;
}

void xredis_close(struct xredis *r)
{
	if (r->c)
		redisFree(r->c);
	r->c = NULL;
}

int xredis_script_load(redisContext *c, const char *src, char sha[41])
{
	redisReply *rep = redisCommand(c, "SCRIPT LOAD %s", src);
	int err = 0;

	if (!rep || c->err || rep->type != REDIS_REPLY_STRING || rep->len != 40)
		err = -EIO;
	else
		memcpy(sha, rep->str, 41);
	if (rep)
		freeReplyObject(rep);
	return err;
}

int xredis_u53(const redisReply *e, uint64_t *out)
{
	char *end;

	if (!e)
		return -1;
	if (e->type == REDIS_REPLY_INTEGER) {
		if (e->integer < 0 || (uint64_t)e->integer > XR_MAX_U53)
			return -1;
		*out = (uint64_t)e->integer;
		return 0;
	}
	if (e->type != REDIS_REPLY_STRING || !e->len || e->len > 16 || e->str[0] < '0' || e->str[0] > '9')
		return -1;
	errno = 0;
	*out = strtoull(e->str, &end, 10);
	if (errno || *end || *out > XR_MAX_U53)
		return -1;
	return 0;
}

void xredis_reconfig(struct xredis *r, const char *hostport, const char *user, const char *pass)
{
	struct xredis n;
	int logged = r->down_logged;

	if (xredis_init(&n, r->name, hostport, user, pass))
		return; /* validated with the config: cannot happen */
	xredis_close(r);
	n.down_logged = logged; /* so that "back" is said when it connects */
	n.reconnects = r->reconnects;
	*r = n;
}

int xsub_init(struct xsub *s, const char *name, const char *hostport, const char *user,
	      const char *pass, const char *chan)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->chan, sizeof(s->chan), "%s", chan);
	return xredis_init(&s->r, name, hostport, user, pass);
}

int xsub_fd(struct xsub *s)
{
	redisContext *c;
	redisReply *rep;

	if (s->r.c)
		return s->r.c->fd;
	c = xredis_get(&s->r);
	if (!c)
		return -1;
	rep = redisCommand(c, "SUBSCRIBE %s", s->chan);
	if (!rep || rep->type != REDIS_REPLY_ARRAY) {
		if (rep)
			freeReplyObject(rep);
		xredis_fail(&s->r, "SUBSCRIBE failed");
		return -1;
	}
	freeReplyObject(rep);
	s->fresh = 1;
	return c->fd;
}

int xsub_read(struct xsub *s, void (*cb)(const char *msg, size_t len, void *arg), void *arg)
{
	redisContext *c = s->r.c;
	redisReply *rep;

	if (!c)
		return -EIO;
	if (redisBufferRead(c) != REDIS_OK) {
		xredis_fail(&s->r, c->errstr);
		return -EIO;
	}
	for (;;) {
		rep = NULL;
		if (redisGetReplyFromReader(c, (void **)&rep) != REDIS_OK) {
			xredis_fail(&s->r, c->errstr);
			return -EIO;
		}
		if (!rep)
			return 0;
		if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 &&
		    rep->element[0]->type == REDIS_REPLY_STRING && !strcmp(rep->element[0]->str, "message") &&
		    rep->element[2]->type == REDIS_REPLY_STRING)
			cb(rep->element[2]->str, rep->element[2]->len, arg);
		freeReplyObject(rep);
	}
}
