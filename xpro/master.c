// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "formats.h"
#include "keys.h"
#include "log.h"
#include "master.h"
#include "period.h"
#include "proxy.h"
#include "scan.h"
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
	char a[11][24], hash[XK_NAME_MAX];
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

void xpro_master_send_read(struct xpro_master *m, const char *hash, char (*cs)[XPRO_ADDR_STRLEN], size_t n)
{
	static struct xredis_argv a;
	size_t i;

	if (m->rc)
		return; /* a cluster: the script only, no WATCH */
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

	if (m->rc)
		return;
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
static int watch_merge(struct xpro_master *m, const char *hash, char (*cs)[XPRO_ADDR_STRLEN],
		       const struct xpro_lrec *l, const int *found, size_t n, struct xpro_mres *res, int sent)
{
	static struct xredis_argv a;
	static char *msg, *vals;
	static size_t msg_cap, vals_cap;
	redisContext *mc = m->r.c;
	redisReply *rep = NULL, *w = NULL;
	size_t i, mlen, nw = 0, msize = strlen(m->id) + 1 + n * (strlen(hash) + XPRO_ADDR_STRLEN + 2);
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
			const char *f = NULL, *why = "not three non-negative integers below 2^53";
			char name[XK_NAME_MAX];

			if (xpro_mval_parse(e->str, e->len, &res[i].m))
				f = "value";
			else
				f = xpro_check_mval(&m->lim, &res[i].m, &why);
			if (f) {
				/* a bad master value: taken as absent (the local
				 * record, if any, replaces it), never merged */
				snprintf(name, sizeof(name), "%s:%s", hash, cs[i]);
				(*m->rejected)++;
				xpro_reject("syncdb", m->invalid, name, f, e->str, why);
				memset(&res[i].m, 0, sizeof(res[i].m));
			} else {
				mfound = 1;
			}
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
static void lua_argv(struct xpro_master *m, struct xredis_argv *ap, const char *hash,
		     char (*cs)[XPRO_ADDR_STRLEN], const struct xpro_lrec *l, const int *found, size_t n)
{
	struct xredis_argv *a = ap;
	size_t i;

	xredis_argv_reset(a, "EVALSHA");
	xredis_argv_str(a, m->sha);
	xredis_argv_str(a, "1");
	xredis_argv_str(a, hash);
	xredis_argv_u64(a, m->mp.tt1_ns);
	xredis_argv_u64(a, m->mp.tt4_ns);
	xredis_argv_u64(a, m->mp.r);
	xredis_argv_u64(a, m->mp.ttl_ms);
	xredis_argv_str(a, m->id);
	for (i = 0; i < n; i++) {
		xredis_argv_str(a, cs[i]);
		xredis_argv_u64(a, l[i].ts1);
		xredis_argv_u64(a, l[i].ts2);
		xredis_argv_u64(a, l[i].c);
		xredis_argv_u64(a, l[i].dc);
		xredis_argv_u64(a, l[i].mark);
		xredis_argv_u64(a, (uint64_t)found[i]);
		xredis_argv_u64(a, l[i].mts1);
	}
}

/* The script's reply to a batch of n: res[] (every record checked). */
static int lua_reply(struct xpro_master *m, const redisReply *mrep, const struct xpro_lrec *l, size_t n,
		     struct xpro_mres *res)
{
	size_t i;

	if (mrep->type != REDIS_REPLY_ARRAY || mrep->elements != n) {
		if ((*m->rejected)++ < 5)
			pr_warn("syncdb: master refused a merge batch: %s\n",
				mrep->type == REDIS_REPLY_ERROR ? mrep->str : "unexpected reply");
		return -EPROTO;
	}
	for (i = 0; i < n; i++) {
		memset(&res[i], 0, sizeof(res[i]));
		res[i].l = l[i];
		if (xpro_master_merge_parse(mrep->element[i], &res[i].l, &res[i].m, &res[i].branch, &res[i].why))
			res[i].rc = -EPROTO;
		else if (res[i].branch && (xpro_check_mval(&m->lim, &res[i].m, NULL) ||
					   (res[i].branch != XPRO_MERGE_PULL &&
					    xpro_check_window(&m->lim, res[i].l.ts1, res[i].l.ts2, res[i].l.c, NULL)))) {
			/* the script merged a master value outside the
			 * limits: nothing of it reaches L_DB or a map */
			res[i].rc = -EPROTO;
			res[i].why = "the merged record is outside the limits (max_window_ms, max_clock_skew_ms, max_client_pps)";
			(*m->invalid)++;
		}
	}
	return 0;
}

/* ---- Redis Cluster (docs/sync.md, "Redis Cluster: the client") ------------------- */

int xpro_master_ok(const struct xpro_master *m)
{
	return m->rc ? m->cup : m->r.c != NULL;
}

void xpro_master_cluster_lost(struct xpro_master *m, const char *why)
{
	xredis_failures++;
	m->cfailures++;
	if (m->cup)
		pr_warn("redis master (cluster): %s; retrying, the data plane keeps enforcing\n", why ? why : "failed");
	m->cup = 0;
	m->cnext_ns = xredis_mono_ns() + 500000000ULL;
}

int xpro_master_get(struct xpro_master *m)
{
	if (!m->rc)
		return xredis_get(&m->r) != NULL;
	if (m->cup)
		return 1;
	if (xredis_mono_ns() < m->cnext_ns)
		return 0;
	if (rcluster_refresh(m->rc)) {
		m->cnext_ns = xredis_mono_ns() + 500000000ULL;
		xredis_failures++;
		if (!m->cfailures++)
			pr_warn("redis master (cluster): %s; retrying, the data plane keeps enforcing\n", m->rc->err);
		return 0;
	}
	if (m->cfailures)
		pr_info("redis master (cluster): slot map read, %d nodes\n", m->rc->nnodes);
	m->cup = 1;
	return 1;
}

int xpro_master_cluster_load(struct xpro_master *m)
{
	char sha[41];

	if (rcluster_script_load(m->rc, xpro_lua_merge_batch, sha) > 0) {
		memcpy(m->sha, sha, sizeof(sha));
		return 0;
	}
	/* a master down: the others merge with the SHA1 known (one source,
	 * one SHA1; NOSCRIPT loads it where it lacks) */
	if (m->sha[0])
		return 0;
	xpro_master_cluster_lost(m, m->rc->err);
	return -EIO;
}

/* One command of key routed in the cluster (queued: its index). */
static int cq(struct rcluster *rc, const char *key, int argc, const char *const *v)
{
	size_t l[8];
	int i;

	for (i = 0; i < argc && i < 8; i++)
		l[i] = strlen(v[i]);
	return rcluster_queue(rc, key, strlen(key), argc, v, l);
}

/* The batch through the script in the cluster: one EVALSHA on the slot
 * of x:{D}, never resent after a lost connection (it may have run). */
static int lua_merge_cluster(struct xpro_master *m, const char *hash, char (*cs)[XPRO_ADDR_STRLEN],
			     const struct xpro_lrec *l, const int *found, size_t n, struct xpro_mres *res)
{
	static struct xredis_argv a;
	struct rcluster *rc = m->rc;
	redisReply *mrep;
	int err, tries;

	for (tries = 0; tries < 2; tries++) {
		lua_argv(m, &a, hash, cs, l, found, n);
		if (a.oom)
			return -ENOMEM;
		rcluster_reset(rc);
		rc->resend_on_loss = 0;
		if (rcluster_queue_argv(rc, hash, strlen(hash), &a) < 0)
			return -ENOMEM;
		rcluster_exec(rc);
		rc->resend_on_loss = 1;
		if (m->cfg) /* the time after the batch: its result is checked against it */
			m->lim = xpro_sync_limits(m->cfg, xpro_sync_now(m->cfg));
		mrep = rcluster_reply(rc, 0);
		if (!mrep) {
			xpro_master_cluster_lost(m, rcluster_cmd_err(rc, 0));
			rcluster_reset(rc);
			return -EIO;
		}
		if (tries || mrep->type != REDIS_REPLY_ERROR || strncmp(mrep->str, "NOSCRIPT", 8))
			break;
		/* that node lacks the script (a promoted replica, a restart,
		 * SCRIPT FLUSH): load it on every master, once, and retry */
		m->reloads++;
		pr_warn("syncdb: a cluster master lost the merge script (NOSCRIPT): loaded again\n");
		if (rcluster_script_load(rc, xpro_lua_merge_batch, m->sha) <= 0) {
			xpro_master_cluster_lost(m, rc->err);
			rcluster_reset(rc);
			return -EIO;
		}
	}
	err = lua_reply(m, mrep, l, n, res);
	rcluster_reset(rc);
	return err;
}

static int lua_merge(struct xpro_master *m, const char *hash, char (*cs)[XPRO_ADDR_STRLEN],
		     const struct xpro_lrec *l, const int *found, size_t n, struct xpro_mres *res)
{
	static struct xredis_argv a;
	redisReply *mrep;
	int err;

	if (m->rc)
		return lua_merge_cluster(m, hash, cs, l, found, n, res);
	lua_argv(m, &a, hash, cs, l, found, n);
	mrep = a.oom ? NULL : redisCommandArgv(m->r.c, a.n, a.v, a.l);
	if (mrep && mrep->type == REDIS_REPLY_ERROR && !strncmp(mrep->str, "NOSCRIPT", 8)) {
		/* the script cache was flushed (SCRIPT FLUSH, a restart
		 * with the same address): load it again, once, and retry */
		freeReplyObject(mrep);
		mrep = NULL;
		m->reloads++;
		pr_warn("syncdb: the master lost the merge script (NOSCRIPT): loaded again\n");
		if (!xredis_script_load(m->r.c, xpro_lua_merge_batch, m->sha))
			mrep = redisCommandArgv(m->r.c, a.n, a.v, a.l);
		else if (m->r.c)
			xredis_fail(&m->r, "SCRIPT LOAD failed");
		if (!m->r.c)
			return -EIO;
	}
	if (!mrep) {
		xredis_fail(&m->r, m->r.c->errstr);
		return -EIO;
	}
	err = lua_reply(m, mrep, l, n, res);
	freeReplyObject(mrep);
	return err;
}

int xpro_master_batch(struct xpro_master *m, const char *hash, char (*cs)[XPRO_ADDR_STRLEN],
		      const struct xpro_lrec *l, const int *found, size_t n, struct xpro_mres *res)
{
	int err = -EAGAIN, i;

	if (m->rc) {
		/* a cluster: the script only (one slot, atomic) */
		m->lua_batches++;
		return lua_merge_cluster(m, hash, cs, l, found, n, res);
	}
	if (m->lua_only) {
		xpro_master_unread(m); /* the WATCH and read already sent */
		if (!m->r.c)
			return -EIO;
		m->lua_batches++;
		return lua_merge(m, hash, cs, l, found, n, res);
	}
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

/* ---- the expiry of idle clients ---------------------------------------------- */

/* The walk on one server (r: the master, or one master node of the
 * cluster: SCAN is per node, and each hash it names lives there). */
static void expire_on(struct xpro_master *m, struct xredis *r, uint64_t now_us, uint64_t idle_us)
{
	char cursor[32] = "0";
	redisReply *rep, *x;
	size_t i, n;

	do {
		rep = r->c ? redisCommand(r->c, "SCAN %s MATCH %s COUNT 100", cursor, XK_MDB_MATCH) : NULL;
		if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
			if (rep)
				freeReplyObject(rep);
			else if (r->c)
				xredis_fail(r, NULL);
			return;
		}
		snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
		/* one round trip per page, not per hash: with thousands of
		 * destinations a walk of one EVAL at a time took a second of the
		 * period (spray.scn's syncdb lag) */
		n = rep->element[1]->elements;
		for (i = 0; i < n; i++)
			redisAppendCommand(r->c, "EVAL %s 1 %s %" PRIu64, xpro_lua_expire, rep->element[1]->element[i]->str,
					   now_us > idle_us ? now_us - idle_us : 0);
		for (i = 0; i < n && r->c; i++) {
			if (redisGetReply(r->c, (void **)&x) != REDIS_OK || !x) {
				xredis_fail(r, NULL);
				break;
			}
			if (x->type == REDIS_REPLY_INTEGER)
				m->expired += (uint64_t)x->integer;
			freeReplyObject(x);
		}
		freeReplyObject(rep);
	} while (strcmp(cursor, "0") && r->c);
}

void xpro_master_expire(struct xpro_master *m, uint64_t now_us, uint64_t idle_us)
{
	int i;

	if (!m->rc) {
		expire_on(m, &m->r, now_us, idle_us);
		return;
	}
	/* every master node of the map (a key moved meanwhile answers MOVED
	 * to its EVAL: it is walked at the next expiry) */
	for (i = 0; i < m->rc->nnodes; i++)
		if (m->rc->node[i].master && m->rc->node[i].in_map && xredis_get(&m->rc->node[i].r))
			expire_on(m, &m->rc->node[i].r, now_us, idle_us);
}

int xpro_master_cluster_scan(struct xpro_master *m, struct xpro_pairs *l)
{
	struct rcluster *rc = m->rc;
	int i, n = 0;

	if (!rc->have_map && rcluster_refresh(rc))
		return -EIO;
	for (i = 0; i < rc->nnodes; i++) {
		if (!rc->node[i].master || !rc->node[i].in_map)
			continue;
		if (!xredis_get(&rc->node[i].r) || xpro_scan_hashes(&rc->node[i].r, XK_MDB_MATCH, l)) {
			xpro_master_cluster_lost(m, "SCAN of a master node failed");
			return -EIO;
		}
		n++;
	}
	return n ? 0 : -EIO;
}

/* ---- the workload W and the clocks ------------------------------------------ */

/* A proxy id as it may appear in JSON and logs: 1-70 characters of
 * [A-Za-z0-9._:/-]. */
static int id_ok(const redisReply *e)
{
	size_t i;

	if (e->type != REDIS_REPLY_STRING || !e->len || e->len > 70)
		return 0;
	for (i = 0; i < e->len; i++) {
		char ch = e->str[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      strchr("._:/-", ch)))
			return 0;
	}
	return 1;
}

int xpro_clock_refused(const struct xpro_clock *k, const char *msg, size_t len)
{
	const char *nl = memchr(msg, '\n', len);
	size_t n = nl ? (size_t)(nl - msg) : len;
	int i;

	for (i = 0; i < k->nfar; i++)
		if (strlen(k->far[i]) == n && !memcmp(k->far[i], msg, n))
			return 1;
	return 0;
}

/* This proxy's clock against the master's TIME (the transfer clock: its
 * own error cancels out of every comparison between two proxies). */
static void measure_clock(struct xpro_master *m, struct xredis *r, const struct xpro_config *cfg, struct xpro_clock *k)
{
	struct timespec r0, r1;
	uint64_t a, b, sec, usec, mono;
	redisReply *rep;
	int64_t tai_mono;

	k->have = 0;
	a = xpro_sync_now(cfg);
	clock_gettime(CLOCK_REALTIME, &r0);
	rep = r->c ? redisCommand(r->c, "TIME") : NULL;
	b = xpro_sync_now(cfg);
	clock_gettime(CLOCK_REALTIME, &r1);
	mono = xredis_mono_ns();
	if (!rep) {
		if (r->c)
			xredis_fail(r, NULL);
		return;
	}
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 && !xredis_u53(rep->element[0], &sec) &&
	    !xredis_u53(rep->element[1], &usec)) {
		int64_t tai_us = (int64_t)((a / 2 + b / 2) / 1000), real_us;

		real_us = ((int64_t)r0.tv_sec + (int64_t)r1.tv_sec) * 500000 + ((int64_t)r0.tv_nsec + r1.tv_nsec) / 2000;
		k->me.off_us = tai_us - (int64_t)(sec * 1000000 + usec);
		k->me.tai_real_us = tai_us - real_us;
		k->have = 1;
	}
	freeReplyObject(rep);
	/* a step of this host's clock: CLOCK_TAI moved against CLOCK_MONOTONIC */
	tai_mono = (int64_t)(b / 1000) - (int64_t)(mono / 1000);
	if (k->tai_mono_us && (tai_mono - k->tai_mono_us > (int64_t)(cfg->max_clock_skew_ns / 1000) ||
			       k->tai_mono_us - tai_mono > (int64_t)(cfg->max_clock_skew_ns / 1000))) {
		k->last_step_us = tai_mono - k->tai_mono_us;
		k->steps++;
		pr_warn("syncdb %s: the clock stepped %s by %" PRId64 " ms (CLOCK_TAI against CLOCK_MONOTONIC)\n", m->id,
			k->last_step_us < 0 ? "back" : "forward", (k->last_step_us < 0 ? -k->last_step_us : k->last_step_us) / 1000);
	}
	k->tai_mono_us = tai_mono;
}

/* The other proxies' W and clocks (ids: the members of xpro:proxies, at
 * most XPRO_PEERS_MAX) in one MGET, into peers ("id":W,...) and k. */
static void peers_w(struct xpro_master *m, const struct xpro_config *cfg, const redisReply *ids, char *peers,
		    size_t plen, struct xpro_clock *k)
{
	static struct xredis_argv a;
	const char *who[XPRO_PEERS_MAX];
	static char keys[2 * XPRO_PEERS_MAX][80];
	static redisReply *cel[2 * XPRO_PEERS_MAX], nil = { .type = REDIS_REPLY_NIL };
	static redisReply carr = { .type = REDIS_REPLY_ARRAY, .element = cel };
	size_t i, n = 0, off = 0;
	int64_t bound = (int64_t)(cfg->max_clock_skew_ns / 1000);
	redisReply *rep;
	int cfail = 0;

	k->npeers = k->nfar = k->leap = 0;
	k->worst_us = 0;
	k->worst[0] = '\0';
	xredis_argv_reset(&a, "MGET");
	for (i = 0; i < ids->elements && n < XPRO_PEERS_MAX; i++) {
		if (ids->element[i]->type == REDIS_REPLY_STRING && !strcmp(ids->element[i]->str, m->id))
			continue;
		if (!id_ok(ids->element[i])) {
			(*m->invalid)++;
			continue;
		}
		who[n] = ids->element[i]->str;
		xk_mw(keys[2 * n], sizeof(keys[0]), who[n]);
		xk_mclock(keys[2 * n + 1], sizeof(keys[0]), who[n]);
		xredis_argv_str(&a, keys[2 * n]);
		xredis_argv_str(&a, keys[2 * n + 1]);
		n++;
	}
	if (m->rc) {
		/* a cluster: one MGET of one key each (each on its slot's
		 * node; MGET: what the proxies' users may send), in one batch;
		 * a key that failed reads as absent */
		rcluster_reset(m->rc);
		for (i = 0; i < 2 * n; i++) {
			const char *v[2] = { "MGET", keys[i] };

			cq(m->rc, keys[i], 2, v);
		}
		cfail = n ? rcluster_exec(m->rc) : 0;
		for (i = 0; i < 2 * n; i++) {
			const redisReply *e = rcluster_reply(m->rc, (int)i);

			cel[i] = e && e->type == REDIS_REPLY_ARRAY && e->elements == 1 ? e->element[0] : &nil;
		}
		carr.elements = 2 * n;
		rep = n ? &carr : NULL;
	} else {
		rep = n && !a.oom ? redisCommandArgv(m->r.c, a.n, a.v, a.l) : NULL;
	}
	for (i = 0; rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 * n && i < n; i++) {
		const redisReply *e = rep->element[2 * i], *c = rep->element[2 * i + 1];
		struct xpro_clock_val pc;
		uint64_t pw;

		if (e->type == REDIS_REPLY_STRING) {
			if (xpro_w_parse(e->str, e->len, &pw) || xpro_w_check(pw)) {
				/* a W stays while it lives: logged once a minute */
				if (m->wbad++ % 600 == 0)
					xpro_reject("syncdb", m->invalid, keys[2 * i], "W", e->str,
						    "not a number of packets/s up to 2^40");
				else
					(*m->invalid)++;
			}
			else if (off + 100 < plen)
				off += (size_t)snprintf(peers + off, plen - off, "%s\"%s\":%" PRIu64, off ? "," : "",
							who[i], pw);
		}
		if (c->type != REDIS_REPLY_STRING)
			continue;
		if (xpro_clock_parse(c->str, c->len, &pc)) {
			if (m->wbad++ % 600 == 0)
				xpro_reject("syncdb", m->invalid, keys[2 * i + 1], "clock", c->str, "not two integers");
			else
				(*m->invalid)++;
			continue;
		}
		if (!k->have)
			continue;
		{
			int leap;
			int64_t d = xpro_clock_offset(&k->me, &pc, &leap), ad = d < 0 ? -d : d;

			k->npeers++;
			if (ad > (k->worst_us < 0 ? -k->worst_us : k->worst_us)) {
				k->worst_us = d;
				snprintf(k->worst, sizeof(k->worst), "%s", who[i]);
			}
			if (ad > bound) {
				snprintf(k->far[k->nfar++], sizeof(k->far[0]), "%s", who[i]);
				k->leap |= leap;
			}
		}
	}
	if (m->rc) {
		rcluster_reset(m->rc);
		if (cfail)
			xpro_master_cluster_lost(m, m->rc->err);
	} else if (rep) {
		freeReplyObject(rep);
	} else if (n) {
		xredis_fail(&m->r, NULL);
	}
	k->self_refused = k->npeers && 2 * k->nfar > k->npeers;
}

/* An alert on xpro:alerts when a peer's clock is beyond the bound (at
 * most once a second). */
static void clock_alert(struct xpro_master *m, const struct xpro_config *cfg, struct xpro_clock *k)
{
	char alert[512];
	redisReply *rep;
	uint64_t now = xpro_now_tai();

	if ((!k->nfar && !k->last_step_us) || now - k->last_alert_ns < 1000000000ULL)
		return;
	k->last_alert_ns = now;
	snprintf(alert, sizeof(alert),
		 "{\"type\":\"clock\",\"proxy\":\"%s\",\"peer\":\"%s\",\"offset_us\":%" PRId64 ",\"bound_us\":%" PRIu64
		 ",\"peers_beyond\":%d,\"peers\":%d,\"refused\":%s,\"leap_table\":%s,\"step_us\":%" PRId64 "}",
		 m->id, k->worst, k->worst_us, cfg->max_clock_skew_ns / 1000, k->nfar, k->npeers,
		 k->self_refused ? "true" : "false", k->leap ? "true" : "false", k->last_step_us);
	k->last_step_us = 0;
	if (m->rc) {
		const char *v[3] = { "PUBLISH", XK_ALERTS, alert };

		/* classic PUBLISH: the cluster forwards it to every node */
		rcluster_reset(m->rc);
		cq(m->rc, XK_ALERTS, 3, v);
		rcluster_exec(m->rc);
		rcluster_reset(m->rc);
		rep = NULL;
	} else {
		rep = redisCommand(m->r.c, "PUBLISH " XK_ALERTS " %s", alert);
	}
	if (rep)
		freeReplyObject(rep);
	if (k->nfar)
		pr_warn("syncdb %s: %d of %d peers' clocks beyond max_clock_skew_ms %" PRIu64 " (%s: %+" PRId64
			" ms)%s%s\n", m->id, k->nfar, k->npeers, cfg->max_clock_skew_ns / 1000000, k->worst,
			k->worst_us / 1000, k->self_refused ? "; this proxy does not merge" : "; their changes are not merged",
			k->leap ? "; 37 s: one host has no leap-second table (CLOCK_TAI = CLOCK_REALTIME there)" : "");
}

/*
 * The same in a cluster: the clock against the TIME of the node serving
 * xpro:format's slot (one node for every proxy); W, the clock, the id and
 * the alert as single-key commands in one batch (each routed by its key);
 * the peers' one GET each (peers_w).
 */
static uint64_t workload_cluster(struct xpro_master *m, const struct xpro_config *cfg, uint64_t w,
				 uint64_t *last_alert, char *peers, size_t plen, struct xpro_clock *clk)
{
	struct rcluster *rc = m->rc;
	char wk[240], ck[240], wv[24], px[16], cv[XPRO_CLOCK_VAL_MAX], alert[512];
	int node = rcluster_slot_node(rc, rc_keyslot(XK_FORMAT, strlen(XK_FORMAT))), ids, failed;
	redisReply *idr;

	if (node >= 0 && xredis_get(&rc->node[node].r))
		measure_clock(m, &rc->node[node].r, cfg, clk);
	else
		clk->have = 0;
	xk_mw(wk, sizeof(wk), m->id);
	xk_mclock(ck, sizeof(ck), m->id);
	snprintf(wv, sizeof(wv), "%" PRIu64, w);
	snprintf(px, sizeof(px), "%u", 3 * cfg->sync_period_ms + 1000);
	rcluster_reset(rc);
	{
		const char *v[5] = { "SET", wk, wv, "PX", px };

		cq(rc, wk, 5, v);
	}
	if (clk->have) {
		const char *v[5] = { "SET", ck, cv, "PX", px };

		xpro_clock_format(cv, &clk->me);
		cq(rc, ck, 5, v);
	}
	{
		const char *v[3] = { "SADD", XK_PROXIES, m->id };

		cq(rc, XK_PROXIES, 3, v);
	}
	if (w > cfg->t_w && xpro_now_tai() - *last_alert >= 1000000000ULL) {
		const char *pv[3] = { "PUBLISH", XK_ALERTS, alert };
		const char *xv[8] = { "XADD", XK_ALERTS_LOG, "MAXLEN", "~", XK_STREAM_MAX, "*", "eve", alert };

		xpro_alert_format(alert, sizeof(alert), m->id, w, cfg->t_w, xpro_now_tai());
		cq(rc, XK_ALERTS, 3, pv);
		cq(rc, XK_ALERTS_LOG, 8, xv);
		*last_alert = xpro_now_tai();
		pr_warn("syncdb %s: workload %" PRIu64 " packets/s above T_W %" PRIu64 ": alert published\n",
			m->id, w, cfg->t_w);
	}
	{
		const char *v[2] = { "SMEMBERS", XK_PROXIES };

		ids = cq(rc, XK_PROXIES, 2, v);
	}
	failed = rcluster_exec(rc);
	idr = ids >= 0 ? rcluster_take(rc, ids) : NULL;
	if (failed)
		xpro_master_cluster_lost(m, rc->err);
	rcluster_reset(rc);
	if (!idr || idr->type != REDIS_REPLY_ARRAY) {
		if (idr)
			freeReplyObject(idr);
		return w;
	}
	peers_w(m, cfg, idr, peers, plen, clk);
	freeReplyObject(idr);
	if (m->cup)
		clock_alert(m, cfg, clk);
	return w;
}

uint64_t xpro_master_workload(struct xpro_master *m, struct xredis *lr, const struct xpro_config *cfg,
			      uint64_t *last_alert, char *peers, size_t plen, struct xpro_clock *clk)
{
	redisReply *rep, *ids;
	char key[240], alert[512], cv[XPRO_CLOCK_VAL_MAX];
	uint64_t w = 0;

	peers[0] = '\0';
	rep = redisCommand(lr->c, "GET " XK_LW);
	if (rep && rep->type == REDIS_REPLY_STRING && (xpro_w_parse(rep->str, rep->len, &w) || xpro_w_check(w))) {
		xpro_reject("syncdb", m->invalid, XK_LW, "W", rep->str, "not a number of packets/s up to 2^40");
		w = 0;
	}
	if (rep)
		freeReplyObject(rep);
	if (m->rc)
		return workload_cluster(m, cfg, w, last_alert, peers, plen, clk);
	measure_clock(m, &m->r, cfg, clk);
	if (!m->r.c)
		return w;
	xk_mw(key, sizeof(key), m->id);
	rep = redisCommand(m->r.c, "SET %s %" PRIu64 " PX %u", key, w, 3 * cfg->sync_period_ms + 1000);
	if (rep)
		freeReplyObject(rep);
	if (clk->have) {
		xk_mclock(key, sizeof(key), m->id);
		xpro_clock_format(cv, &clk->me);
		rep = redisCommand(m->r.c, "SET %s %s PX %u", key, cv, 3 * cfg->sync_period_ms + 1000);
		if (rep)
			freeReplyObject(rep);
	}
	rep = redisCommand(m->r.c, "SADD " XK_PROXIES " %s", m->id);
	if (rep)
		freeReplyObject(rep);
	if (w > cfg->t_w && xpro_now_tai() - *last_alert >= 1000000000ULL) {
		xpro_alert_format(alert, sizeof(alert), m->id, w, cfg->t_w, xpro_now_tai());
		rep = redisCommand(m->r.c, "PUBLISH " XK_ALERTS " %s", alert);
		if (rep)
			freeReplyObject(rep);
		/* and kept, for whoever was not subscribed (docs/operations.md) */
		rep = redisCommand(m->r.c, "XADD " XK_ALERTS_LOG " MAXLEN ~ " XK_STREAM_MAX " * eve %s", alert);
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
	peers_w(m, cfg, ids, peers, plen, clk);
	freeReplyObject(ids);
	if (m->r.c)
		clock_alert(m, cfg, clk);
	return w;
}
