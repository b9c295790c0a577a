// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "formats.h"
#include "keys.h"
#include "log.h"
#include "master.h"
#include "proxy.h"
#include "xredis.h"

int xpro_master_split(const char *name, char *hash, size_t hlen, const char **field)
{
	const char *close = strchr(name, '}');

	if (name[0] != XK_MREC_PREFIX || name[1] != ':' || name[2] != '{' || !close || close[1] != ':' ||
	    (size_t)(close - name) + 2 > hlen)
		return -EINVAL;
	memcpy(hash, name, (size_t)(close - name) + 1);
	hash[close - name + 1] = '\0';
	*field = close + 2;
	return 0;
}

int xpro_master_merge_append(redisContext *c, const char *sha, const char *key,
			     const struct xpro_lrec *l, int l_found, const struct xpro_merge_params *p)
{
	char a[11][24], hash[64];
	const char *field;

	if (xpro_master_split(key, hash, sizeof(hash), &field))
		return -EINVAL;
	snprintf(a[0], 24, "%" PRIu64, l->ts1);
	snprintf(a[1], 24, "%" PRIu64, l->ts2);
	snprintf(a[2], 24, "%" PRIu64, l->c);
	snprintf(a[3], 24, "%" PRIu64, l->dc);
	snprintf(a[4], 24, "%u", l->mark);
	snprintf(a[5], 24, "%d", l_found ? 1 : 0);
	snprintf(a[6], 24, "%" PRIu64, p->tt1_ns);
	snprintf(a[7], 24, "%" PRIu64, p->tt4_ns);
	snprintf(a[8], 24, "%u", p->r);
	snprintf(a[9], 24, "%" PRIu64, p->ttl_ms);
	snprintf(a[10], 24, "%" PRIu64, l->mts1);
	return redisAppendCommand(c, "EVALSHA %s 1 %s %s %s %s %s %s %s %s %s %s %s %s %s", sha, hash, field,
				  a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10]) ? -ENOMEM : 0;
}

int xpro_master_merge_parse(const redisReply *r, struct xpro_lrec *l, struct xpro_mrec *m,
			    int *branch, const char **err)
{
	uint64_t v[9];
	size_t i;

	*err = NULL;
	if (r->type == REDIS_REPLY_ERROR) {
		*err = r->str;
		return -EPROTO;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 9) {
		*err = "unexpected reply";
		return -EPROTO;
	}
	for (i = 0; i < 9; i++) {
		if (xredis_u53(r->element[i], &v[i])) {
			*err = "a merged field is not a non-negative integer";
			return -EPROTO;
		}
	}
	if (v[0] > XPRO_MERGE_PUSH || v[5] > 1) {
		*err = "unexpected branch or mark";
		return -EPROTO;
	}
	*branch = (int)v[0];
	l->ts1 = v[1];
	l->ts2 = v[2];
	l->c = v[3];
	l->dc = v[4];
	l->mark = (uint32_t)v[5];
	m->ts1 = v[6];
	m->ts2 = v[7];
	m->c = v[8];
	return 0;
}

int xpro_master_merge(redisContext *c, const char *sha, const char *key,
		      struct xpro_lrec *l, int l_found, const struct xpro_merge_params *p,
		      struct xpro_mrec *m, int *branch, const char **err)
{
	redisReply *r = NULL;
	int rc;

	*err = NULL;
	if (xpro_master_merge_append(c, sha, key, l, l_found, p))
		return -ENOMEM;
	if (redisGetReply(c, (void **)&r) != REDIS_OK || !r) {
		*err = c->errstr;
		return -EIO;
	}
	rc = xpro_master_merge_parse(r, l, m, branch, err);
	if (rc && r->type == REDIS_REPLY_ERROR) {
		static char msg[256];

		snprintf(msg, sizeof(msg), "%s", r->str);
		*err = msg;
	}
	freeReplyObject(r);
	return rc;
}

/* ---- a destination's batch (syncdb) ------------------------------------- */

void xpro_master_send_read(struct xpro_master *m, const char *hash, char (*cs)[INET_ADDRSTRLEN], size_t n)
{
	static struct xredis_argv a;
	size_t i;

	redisAppendCommand(m->r.c, "WATCH %s", hash);
	xredis_argv_reset(&a, "HMGET");
	xredis_argv_str(&a, hash);
	for (i = 0; i < n; i++)
		xredis_argv_str(&a, cs[i]);
	xredis_append(m->r.c, &a);
}

void xpro_master_unread(struct xpro_master *m)
{
	redisReply *rep;
	int i;

	for (i = 0; i < 2 && m->r.c; i++) {
		if (redisGetReply(m->r.c, (void **)&rep) != REDIS_OK || !rep) {
			xredis_fail(&m->r, m->r.c->errstr);
			return;
		}
		freeReplyObject(rep);
	}
	rep = m->r.c ? redisCommand(m->r.c, "UNWATCH") : NULL;
	if (rep)
		freeReplyObject(rep);
}

/* A buffer of at least need bytes (grown, kept for the next call). */
static char *room(char **buf, size_t *cap, size_t need)
{
	if (need > *cap) {
		char *nb = realloc(*buf, need);

		if (!nb)
			return NULL;
		*buf = nb;
		*cap = need;
	}
	return *buf;
}

/*
 * The batch with optimistic locking: the WATCH x:{D} and HMGET of its
 * fields (sent: already on their way, xpro_master_send_read), each record
 * merged with xpro_merge() (the C reference of Algorithm 1), then MULTI /
 * HSET / PEXPIRE / PUBLISH / EXEC. If another proxy wrote the hash in
 * between, EXEC fails and nothing was written: -EAGAIN. -EIO when the
 * connection failed, -EPROTO on a refusal.
 */
static int watch_merge(struct xpro_master *m, const char *hash, char (*cs)[INET_ADDRSTRLEN],
		       const struct xpro_lrec *l, const int *found, size_t n, struct xpro_mres *res, int sent)
{
	static struct xredis_argv a;
	static char *msg, *vals;
	static size_t msg_cap, vals_cap;
	redisContext *mc = m->r.c;
	redisReply *rep = NULL, *w = NULL;
	size_t i, mlen, nw = 0, msize = strlen(m->id) + 1 + n * (strlen(hash) + INET_ADDRSTRLEN + 2);
	int err = 0;

	if (!sent)
		xpro_master_send_read(m, hash, cs, n);
	if (redisGetReply(mc, (void **)&w) != REDIS_OK || !w ||
	    redisGetReply(mc, (void **)&rep) != REDIS_OK || !rep) {
		if (w)
			freeReplyObject(w);
		xredis_fail(&m->r, mc->errstr);
		return -EIO;
	}
	freeReplyObject(w);
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != n || !room(&msg, &msg_cap, msize) ||
	    !room(&vals, &vals_cap, n * XPRO_MVAL_MAX + 1)) {
		freeReplyObject(rep);
		redisReply *u = redisCommand(mc, "UNWATCH");

		if (u)
			freeReplyObject(u);
		return -EPROTO;
	}
	mlen = xpro_feed_start(msg, msize, m->id);
	xredis_argv_reset(&a, "HSET");
	xredis_argv_str(&a, hash);
	for (i = 0; i < n; i++) {
		const redisReply *e = rep->element[i];
		struct xpro_mrec before;
		int mfound = 0;

		memset(&res[i], 0, sizeof(res[i]));
		res[i].l = l[i];
		if (e->type == REDIS_REPLY_STRING) {
			if (xpro_mval_parse(e->str, e->len, &res[i].m)) {
				res[i].rc = -EPROTO;
				res[i].why = "bad master record";
				continue;
			}
			mfound = 1;
		} else if (e->type != REDIS_REPLY_NIL) {
			res[i].rc = -EPROTO;
			res[i].why = "bad master record";
			continue;
		}
		before = res[i].m;
		res[i].branch = xpro_merge(&res[i].l, found[i], &res[i].m, mfound, &m->mp);
		/* a merge that leaves the master as it was writes nothing and
		 * tells nobody: no echo between proxies */
		if (mfound && before.ts1 == res[i].m.ts1 && before.ts2 == res[i].m.ts2 && before.c == res[i].m.c)
			continue;
		if (res[i].branch && res[i].branch != XPRO_MERGE_PULL) {
			char *v = vals + nw * XPRO_MVAL_MAX;

			xredis_argv_mem(&a, cs[i], strlen(cs[i]));
			xredis_argv_mem(&a, v, xpro_mval_format(v, &res[i].m));
			nw++;
			mlen = xpro_feed_add(msg, msize, mlen, hash, cs[i]);
		}
	}
	freeReplyObject(rep);
	if (!nw) {
		rep = redisCommand(mc, "UNWATCH");
		if (!rep) {
			xredis_fail(&m->r, mc->errstr);
			return -EIO;
		}
		freeReplyObject(rep);
		return 0;
	}
	redisAppendCommand(mc, "MULTI");
	xredis_append(mc, &a);
	redisAppendCommand(mc, "PEXPIRE %s %" PRIu64, hash, m->mp.ttl_ms);
	redisAppendCommand(mc, "PUBLISH " XK_CHG " %b", msg, mlen);
	redisAppendCommand(mc, "EXEC");
	for (i = 0; i < 5; i++) {
		if (redisGetReply(mc, (void **)&rep) != REDIS_OK || !rep) {
			xredis_fail(&m->r, mc->errstr);
			return -EIO;
		}
		if (i == 4) {
			if (rep->type == REDIS_REPLY_NIL)
				err = -EAGAIN; /* another proxy wrote the hash: nothing written */
			else if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 ||
				 rep->element[0]->type == REDIS_REPLY_ERROR)
				err = -EPROTO;
		} else if (rep->type == REDIS_REPLY_ERROR) {
			err = -EPROTO;
		}
		freeReplyObject(rep);
	}
	return err;
}

/* The same batch through the Lua script (xpro_lua_merge_batch): when WATCH
 * keeps conflicting with other proxies' writes. */
static int lua_merge(struct xpro_master *m, const char *hash, char (*cs)[INET_ADDRSTRLEN],
		     const struct xpro_lrec *l, const int *found, size_t n, struct xpro_mres *res)
{
	static struct xredis_argv a;
	redisReply *mrep;
	size_t i;
	int err = 0;

	xredis_argv_reset(&a, "EVALSHA");
	xredis_argv_str(&a, m->sha);
	xredis_argv_str(&a, "1");
	xredis_argv_str(&a, hash);
	xredis_argv_u64(&a, m->mp.tt1_ns);
	xredis_argv_u64(&a, m->mp.tt4_ns);
	xredis_argv_u64(&a, m->mp.r);
	xredis_argv_u64(&a, m->mp.ttl_ms);
	xredis_argv_str(&a, m->id);
	for (i = 0; i < n; i++) {
		xredis_argv_str(&a, cs[i]);
		xredis_argv_u64(&a, l[i].ts1);
		xredis_argv_u64(&a, l[i].ts2);
		xredis_argv_u64(&a, l[i].c);
		xredis_argv_u64(&a, l[i].dc);
		xredis_argv_u64(&a, l[i].mark);
		xredis_argv_u64(&a, (uint64_t)found[i]);
		xredis_argv_u64(&a, l[i].mts1);
	}
	mrep = a.oom ? NULL : redisCommandArgv(m->r.c, a.n, a.v, a.l);
	if (!mrep) {
		xredis_fail(&m->r, m->r.c->errstr);
		return -EIO;
	}
	if (mrep->type != REDIS_REPLY_ARRAY || mrep->elements != n) {
		if ((*m->rejected)++ < 5)
			pr_warn("syncdb: master refused a merge batch: %s\n",
				mrep->type == REDIS_REPLY_ERROR ? mrep->str : "unexpected reply");
		err = -EPROTO;
	} else {
		for (i = 0; i < n; i++) {
			memset(&res[i], 0, sizeof(res[i]));
			res[i].l = l[i];
			if (xpro_master_merge_parse(mrep->element[i], &res[i].l, &res[i].m, &res[i].branch,
						    &res[i].why))
				res[i].rc = -EPROTO;
		}
	}
	freeReplyObject(mrep);
	return err;
}

int xpro_master_batch(struct xpro_master *m, const char *hash, char (*cs)[INET_ADDRSTRLEN],
		      const struct xpro_lrec *l, const int *found, size_t n, struct xpro_mres *res)
{
	int err = -EAGAIN, i;

	/* WATCH/MULTI first (a few tries), the Lua script when other proxies
	 * keep writing the same hash */
	for (i = 0; i < 4; i++) {
		err = watch_merge(m, hash, cs, l, found, n, res, i == 0);
		if (err != -EAGAIN)
			break;
		m->conflicts++;
	}
	if (err == -EAGAIN) {
		m->lua_batches++;
		err = lua_merge(m, hash, cs, l, found, n, res);
	}
	return err;
}

/* ---- the workload W ----------------------------------------------------- */

/* The other proxies' W (ids: the members of xpro:proxies) in one MGET,
 * into peers ("id":W,...). */
static void peers_w(struct xpro_master *m, const redisReply *ids, char *peers, size_t plen)
{
	static struct xredis_argv a;
	const char **who = calloc(ids->elements + 1, sizeof(*who));
	char (*keys)[80] = calloc(ids->elements + 1, sizeof(*keys));
	size_t i, n = 0, off = 0;
	redisReply *rep;

	if (!who || !keys)
		goto out;
	xredis_argv_reset(&a, "MGET");
	for (i = 0; i < ids->elements; i++) {
		if (ids->element[i]->type != REDIS_REPLY_STRING || !strcmp(ids->element[i]->str, m->id) ||
		    ids->element[i]->len > 70)
			continue;
		who[n] = ids->element[i]->str;
		xk_mw(keys[n], sizeof(keys[0]), who[n]);
		xredis_argv_str(&a, keys[n]);
		n++;
	}
	rep = n && !a.oom ? redisCommandArgv(m->r.c, a.n, a.v, a.l) : NULL;
	for (i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i < rep->elements && i < n; i++) {
		const redisReply *e = rep->element[i];
		uint64_t pw;

		if (e->type == REDIS_REPLY_STRING && !xpro_w_parse(e->str, e->len, &pw) && off + 100 < plen)
			off += (size_t)snprintf(peers + off, plen - off, "%s\"%s\":%" PRIu64, off ? "," : "",
						who[i], pw);
	}
	if (rep)
		freeReplyObject(rep);
	else if (n)
		xredis_fail(&m->r, NULL);
out:
	free(who);
	free(keys);
}

uint64_t xpro_master_workload(struct xpro_master *m, struct xredis *lr, const struct xpro_config *cfg,
			      uint64_t *last_alert, char *peers, size_t plen)
{
	redisReply *rep, *ids;
	char key[240], alert[512];
	uint64_t w = 0;

	peers[0] = '\0';
	rep = redisCommand(lr->c, "GET " XK_LW);
	if (rep && rep->type == REDIS_REPLY_STRING)
		xpro_w_parse(rep->str, rep->len, &w);
	if (rep)
		freeReplyObject(rep);
	xk_mw(key, sizeof(key), m->id);
	rep = redisCommand(m->r.c, "SET %s %" PRIu64 " PX %u", key, w, 3 * cfg->sync_period_ms + 1000);
	if (rep)
		freeReplyObject(rep);
	rep = redisCommand(m->r.c, "SADD " XK_PROXIES " %s", m->id);
	if (rep)
		freeReplyObject(rep);
	if (w > cfg->t_w && xpro_now_tai() - *last_alert >= 1000000000ULL) {
		xpro_alert_format(alert, sizeof(alert), m->id, w, cfg->t_w, xpro_now_tai());
		rep = redisCommand(m->r.c, "PUBLISH " XK_ALERTS " %s", alert);
		if (rep)
			freeReplyObject(rep);
		*last_alert = xpro_now_tai();
		pr_warn("syncdb %s: workload %" PRIu64 " packets/s above T_W %" PRIu64 ": alert published\n",
			m->id, w, cfg->t_w);
	}
	ids = redisCommand(m->r.c, "SMEMBERS " XK_PROXIES);
	if (!ids || ids->type != REDIS_REPLY_ARRAY) {
		if (ids)
			freeReplyObject(ids);
		else
			xredis_fail(&m->r, NULL);
		return w;
	}
	peers_w(m, ids, peers, plen);
	freeReplyObject(ids);
	return w;
}
