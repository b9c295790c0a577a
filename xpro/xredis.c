// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "config.h"
#include "formats.h"
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

uint64_t xredis_failures;

void xredis_fail(struct xredis *r, const char *what)
{
	xredis_failures++;
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

/* ---- command batching ------------------------------------------------------ */

static int argv_grow(struct xredis_argv *a)
{
	int cap = a->cap ? 2 * a->cap : 64, i;
	const char **v = realloc(a->v, (size_t)cap * sizeof(*v));
	size_t *l;
	char (*num)[24];
	unsigned char *isnum;

	if (!v)
		return -1;
	a->v = v;
	l = realloc(a->l, (size_t)cap * sizeof(*l));
	if (!l)
		return -1;
	a->l = l;
	num = realloc(a->num, (size_t)cap * sizeof(*num));
	if (!num)
		return -1;
	a->num = num;
	isnum = realloc(a->isnum, (size_t)cap);
	if (!isnum)
		return -1;
	a->isnum = isnum;
	for (i = 0; i < a->n; i++) /* the digits moved with num */
		if (a->isnum[i])
			a->v[i] = a->num[i];
	a->cap = cap;
	return 0;
}

void xredis_argv_mem(struct xredis_argv *a, const char *s, size_t len)
{
	if (a->n == a->cap && argv_grow(a)) {
		a->oom = 1;
		return;
	}
	a->v[a->n] = s;
	a->l[a->n] = len;
	a->isnum[a->n] = 0;
	a->n++;
}

void xredis_argv_str(struct xredis_argv *a, const char *s)
{
	xredis_argv_mem(a, s, strlen(s));
}

void xredis_argv_u64(struct xredis_argv *a, uint64_t x)
{
	char *e;

	if (a->n == a->cap && argv_grow(a)) {
		a->oom = 1;
		return;
	}
	e = xpro_put_u64(a->num[a->n], x);
	a->v[a->n] = a->num[a->n];
	a->l[a->n] = (size_t)(e - a->num[a->n]);
	a->isnum[a->n] = 1;
	a->n++;
}

void xredis_argv_reset(struct xredis_argv *a, const char *cmd)
{
	a->n = 0;
	a->oom = 0;
	xredis_argv_str(a, cmd);
}

void xredis_argv_free(struct xredis_argv *a)
{
	free(a->v);
	free(a->l);
	free(a->num);
	free(a->isnum);
	memset(a, 0, sizeof(*a));
}

size_t xredis_format_argv(char **buf, size_t *cap, int argc, const char *const *v, const size_t *l)
{
	size_t need = 32;
	char *p;
	int i;

	for (i = 0; i < argc; i++)
		need += l[i] + 32;
	if (need > *cap) {
		char *nb = realloc(*buf, need);

		if (!nb)
			return 0;
		*buf = nb;
		*cap = need;
	}
	p = *buf;
	*p++ = '*';
	p = xpro_put_u64(p, (uint64_t)argc);
	*p++ = '\r';
	*p++ = '\n';
	for (i = 0; i < argc; i++) {
		*p++ = '$';
		p = xpro_put_u64(p, l[i]);
		*p++ = '\r';
		*p++ = '\n';
		memcpy(p, v[i], l[i]);
		p += l[i];
		*p++ = '\r';
		*p++ = '\n';
	}
	return (size_t)(p - *buf);
}

int xredis_append_argv(redisContext *c, int argc, const char *const *v, const size_t *l)
{
	static char *buf;
	static size_t cap;
	size_t n = xredis_format_argv(&buf, &cap, argc, v, l);

	if (!n)
		return -ENOMEM;
	return redisAppendFormattedCommand(c, buf, n) == REDIS_OK ? 0 : -EIO;
}

int xredis_append(redisContext *c, const struct xredis_argv *a)
{
	if (a->oom)
		return -ENOMEM;
	return xredis_append_argv(c, a->n, a->v, a->l);
}
