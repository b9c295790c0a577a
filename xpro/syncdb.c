// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpro syncdb (docs/sync.md): this proxy's local Redis <-> the master,
 * each period:
 *   1. W to the master with an expiry, the other proxies' W read, an alert
 *      published when W > T_W;
 *   2. Algorithm 1, batched by destination, for the records with queued
 *      deltas (taken whole, applied to L_DB in order), left dirty by a
 *      failed merge (l:dirty), that may decay (l:decay), or that another
 *      proxy changed (the master's change feed) -- or, with --full-scan,
 *      for every record of L_DB and M_DB: read L_DB (HMGET l:{D}), merge on
 *      the master (xpro/master.c: WATCH/MULTI, or the Lua script), write
 *      L_DB back (HSET: merged, pulled, or with the delta kept when the
 *      master failed);
 *   3. every few seconds, records idle past the expiry leave L_DB.
 * Between periods it merges at once what syncmaps announces on l:kick and
 * what other proxies announce on the change feed. Keys: xpro/keys.h;
 * values: xpro/formats.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "formats.h"
#include "keys.h"
#include "log.h"
#include "master.h"
#include "period.h"
#include "proxy.h"
#include "scan.h"
#include "sync.h"
#include "xredis.h"

#define BATCH XPRO_SYNC_BATCH

struct db_stats {
	uint64_t merged, pulled, rejected, branches[7], feed_keys, events, full_passes;
	uint64_t queued, swept;
	uint64_t invalid;         /* values read from Redis that failed validation */
	uint64_t feed_dropped;    /* feed names beyond XPRO_FEED_MAX waiting */
	uint64_t bad_names;       /* names read from Redis that are no record or destination name (also in invalid) */
};

struct db_ctx {
	struct xpro_config *cfg;
	const struct xpro_sync_opts *o;
	struct xpro_proxy px;
	struct xredis lr;
	struct xpro_master m;     /* the master connection and its script */
	struct xsub msub;         /* master: xpro:chg (the change feed) */
	struct xsub lsub;         /* local: l:kick (syncmaps queued something) */
	char id[200];
	int need_full;            /* the next round is a full pass */
	int ok;                   /* the last step completed */
	uint64_t w, last_alert, last_sweep;
	char peers[4096];         /* "id":W of the other proxies */
	struct db_stats st;
	struct xpro_pairs feed;   /* records other proxies changed, waiting */
	size_t lpending;          /* local replies not read yet (drain_local) */
	struct xpro_clock clk;    /* this proxy's clock against the peers' */
	int pinned;               /* 1 attached (run-time keys from its config map), -1 detached since */
	uint64_t format;          /* the master's records format as last read (0: not yet) */
	int format_refused;       /* a format this build does not know at start: stopped */
	int format_paused;        /* ... found later: no master exchange until it changes */
	int feed_node;            /* cluster: the node (rc->node[]) the feed is subscribed on */
};

/* Read the replies of local writes sent without waiting (db_merge_chunk). */
static int drain_local(struct db_ctx *d)
{
	redisReply *rep;

	while (d->lpending) {
		if (!d->lr.c || redisGetReply(d->lr.c, (void **)&rep) != REDIS_OK || !rep) {
			d->lpending = 0;
			xredis_fail(&d->lr, d->lr.c ? d->lr.c->errstr : NULL);
			return -EIO;
		}
		d->lpending--;
		if (rep->type == REDIS_REPLY_ERROR && d->st.rejected++ < 5)
			pr_warn("syncdb: local Redis refused a write: %s\n", rep->str);
		freeReplyObject(rep);
	}
	return 0;
}

/* A message of the change feed: the records others changed. */
/* Records named by the change feed waiting for the next round, at most: a
 * flooded feed costs at most this much memory and work per round; names
 * beyond it are dropped (counted); those records merge at their next
 * change here or at the next full pass. */
#define XPRO_FEED_MAX 65536

static void feed_add(const struct xpro_addr *dest, const struct xpro_addr *client, void *arg)
{
	struct db_ctx *d = arg;

	if (d->feed.n >= XPRO_FEED_MAX) {
		d->st.feed_dropped++;
		return;
	}
	xpro_pairs_add(&d->feed, dest, client);
}

/* Names a reader refused (l->bad, the last in l->bad_name): counted,
 * one log line (rate-limited with the other rejections); nothing of them
 * is merged. where: the set, stream or store they came from. */
static void names_refused(struct db_ctx *d, struct xpro_pairs *l, const char *where)
{
	if (!l->bad)
		return;
	d->st.bad_names += l->bad;
	d->st.invalid += l->bad - 1;
	xpro_reject("syncdb", &d->st.invalid, where, "name", l->bad_name,
		    "not a record or destination name in canonical form; skipped");
	l->bad = 0;
}

static void on_feed(const char *msg, size_t len, void *arg)
{
	struct db_ctx *d = arg;
	const char *nl = memchr(msg, '\n', len), *p;
	uint64_t lines = 0;
	int n;

	if (xpro_clock_refused(&d->clk, msg, len))
		return; /* a peer beyond max_clock_skew_ms: not merged from */
	n = xpro_feed_parse(msg, len, d->id, feed_add, d);
	if (n < 0)
		return;
	d->st.feed_keys += (uint64_t)n;
	/* the lines after the origin that named no record: counted, the
	 * first named */
	for (p = nl; p && p < msg + len; p = memchr(p + 1, '\n', (size_t)(msg + len - p - 1)))
		lines++;
	if (lines > (uint64_t)n) {
		struct xpro_pairs none = { 0 };
		const char *q, *e;

		for (q = nl + 1; q <= msg + len; q = e + 1) {
			struct xpro_addr c, de;
			char k[XK_NAME_MAX];

			e = memchr(q, '\n', (size_t)(msg + len - q));
			if (!e)
				e = msg + len;
			snprintf(k, sizeof(k), "%.*s", (int)(e - q < XK_NAME_MAX - 1 ? e - q : XK_NAME_MAX - 1), q);
			if ((size_t)(e - q) >= sizeof(k) || memchr(q, '\0', (size_t)(e - q)) ||
			    xpro_parse_key(k, XK_MREC_PREFIX, &c, &de)) {
				xpro_pairs_refuse(&none, q, (size_t)(e - q));
				break;
			}
		}
		none.bad = lines - (uint64_t)n;
		names_refused(d, &none, XK_CHG);
	}
}

/* ---- the records format ---------------------------------------------------------- */

/* The two commands of format_check in a cluster (one key: one slot, routed
 * by it): 0 with both replies (the caller's), else -EIO. */
static int format_cluster(struct db_ctx *d, redisReply **set, redisReply **get)
{
	struct rcluster *rc = d->m.rc;
	char ver[16];
	const char *sv[4] = { "SET", XK_FORMAT, ver, "NX" }, *gv[2] = { "MGET", XK_FORMAT };
	size_t sl[4], gl[2] = { 4, strlen(XK_FORMAT) };
	int i;

	snprintf(ver, sizeof(ver), "%d", XPRO_FORMAT_VERSION);
	for (i = 0; i < 4; i++)
		sl[i] = strlen(sv[i]);
	rcluster_reset(rc);
	rcluster_queue(rc, XK_FORMAT, strlen(XK_FORMAT), 4, sv, sl);
	rcluster_queue(rc, XK_FORMAT, strlen(XK_FORMAT), 2, gv, gl);
	rcluster_exec(rc);
	*set = rcluster_take(rc, 0);
	*get = rcluster_take(rc, 1);
	if (!*set || !*get) {
		if (*set)
			freeReplyObject(*set);
		if (*get)
			freeReplyObject(*get);
		xpro_master_cluster_lost(&d->m, rcluster_cmd_err(rc, *set ? 1 : 0));
		rcluster_reset(rc);
		return -EIO;
	}
	rcluster_reset(rc);
	return 0;
}

/*
 * The master's records format (docs/sync.md, "Format version"), at start
 * and at every period's end (a restarted master is empty): set to ours
 * when absent (SET NX); an older one is read as it is (every name of
 * version 1 is a name of version 2); a newer one, or a value that is no
 * version number, stops the daemon at start, and later pauses the master
 * exchange until it changes (the deltas wait in the queues; one line when
 * it pauses, one when it resumes): a proxy's user that writes the key
 * stops no daemon. 0, -EIO (no answer: tried again next period) or
 * -EPROTO (refused: at start *o->stop set).
 */
static int format_check(struct db_ctx *d, int at_start)
{
	const char *act = at_start ? "refusing to run" : "master exchange paused until it changes";
	int say = at_start || !d->format_paused;
	redisContext *c = d->m.r.c;
	redisReply *set = NULL, *get = NULL;
	uint64_t v = 1;
	int err = 0;

	if (d->m.rc) {
		if (format_cluster(d, &set, &get))
			return -EIO;
		goto check;
	}
	if (!c)
		return -EIO;
	redisAppendCommand(c, "SET " XK_FORMAT " %d NX", XPRO_FORMAT_VERSION);
	redisAppendCommand(c, "MGET " XK_FORMAT); /* MGET: what the proxies' users may send (docs/sync.md, Security) */
	if (redisGetReply(c, (void **)&set) != REDIS_OK || !set || redisGetReply(c, (void **)&get) != REDIS_OK ||
	    !get) {
		if (set)
			freeReplyObject(set);
		xredis_fail(&d->m.r, c->errstr);
		return -EIO;
	}
check:
	if (get->type == REDIS_REPLY_ARRAY && get->elements == 1) {
		redisReply *one = get->element[0];

		get->element[0] = NULL;
		get->elements = 0;
		freeReplyObject(get);
		get = one;
	}
	if (get->type == REDIS_REPLY_ERROR || get->type == REDIS_REPLY_ARRAY) {
		/* a user without the key (an older ACL): the names are read as
		 * they come, each checked */
		if (d->format != 1)
			pr_warn("syncdb %s: cannot read %s on the master (%s); taken as version 1\n", d->id, XK_FORMAT,
				get->type == REDIS_REPLY_ERROR ? get->str : "unexpected reply");
	} else if (get->type != REDIS_REPLY_NIL &&
		   (get->type != REDIS_REPLY_STRING || xpro_parse_u53s(get->str, get->len, &v, 1) || !v)) {
		const char *raw = get->type == REDIS_REPLY_STRING ? get->str : "";
		char e[6 * 64 + 16];

		xpro_msg_escape(e, raw, strnlen(raw, 64));
		if (say)
			pr_warn("syncdb %s: the master's %s holds '%s', not a records format version: %s\n", d->id,
				XK_FORMAT, e, act);
		err = -EPROTO;
	} else if (v > XPRO_FORMAT_VERSION) {
		if (say)
			pr_warn("syncdb %s: the master's records format is version %" PRIu64 " (key %s); this xpro knows versions 1 to %d: %s (upgrade xpro on this proxy)\n",
				d->id, v, XK_FORMAT, XPRO_FORMAT_VERSION, act);
		err = -EPROTO;
	} else if (v != d->format) {
		pr_info("syncdb %s: the master's records format: version %" PRIu64 "%s\n", d->id, v,
			set->type == REDIS_REPLY_STATUS ? " (set by this proxy)" : "");
	}
	if (!err) {
		d->format = v;
		if (d->format_paused)
			pr_warn("syncdb %s: the master's records format is version %" PRIu64 " again: master exchange resumed\n",
				d->id, v);
		d->format_paused = 0;
	}
	freeReplyObject(set);
	freeReplyObject(get);
	if (err && at_start) {
		d->format_refused = 1;
		*d->o->stop = 1;
	} else if (err) {
		d->format_paused = 1;
	}
	return err;
}

/* ---- one batch ---------------------------------------------------------------- */

/* One record of a batch: the local record after the queued deltas. */
struct taken {
	struct xpro_lstate s;   /* the local record as it stands in L_DB */
	int pushed;             /* a queued delta was applied: L_DB must be written */
	int was_decay;          /* in l:decay as L_DB held it (ts2 - mts1 > TT4) */
};

/*
 * Read the batch's local records (the reply rep of HMGET l:{D}), and
 * apply the queued deltas pu[*pi..] (sorted by client, then order).
 */
static void take_batch(struct db_ctx *d, const char *ds, const struct xpro_addr *cl, char (*cs)[XPRO_ADDR_STRLEN],
		       size_t n, const redisReply *rep, const struct xpro_qline *pu, size_t npu, size_t *pi,
		       struct taken *t, struct xpro_lrec *l, int *found)
{
	char name[XK_NAME_MAX];
	size_t i;

	for (i = 0; i < n; i++) {
		const redisReply *e = rep->element[i];

		memset(&t[i], 0, sizeof(t[i]));
		found[i] = 0;
		if (e->type == REDIS_REPLY_STRING) {
			const char *f = NULL, *why = "not 7 non-negative integers with ts1 <= ts2, mark 0 or 1";

			if (xpro_lstate_parse(e->str, e->len, &t[i].s))
				f = "value";
			else
				f = xpro_check_lstate(&d->m.lim, &t[i].s, &why);
			if (!f) {
				found[i] = 1;
				t[i].was_decay = xpro_lstate_decays(&t[i].s, d->m.mp.tt4_ns);
			} else {
				/* taken as absent: a queued delta or the master's
				 * record replaces it */
				memset(&t[i].s, 0, sizeof(t[i].s));
				xk_lrec(name, ds, cs[i]);
				d->st.rejected++;
				xpro_reject("syncdb", &d->st.invalid, name, f, e->str, why);
			}
		}
		/* the queued deltas of this client, in order */
		while (*pi < npu && xpro_addr_cmp(&pu[*pi].client, &cl[i]) < 0)
			(*pi)++;
		for (; *pi < npu && xpro_addr_eq(&pu[*pi].client, &cl[i]); (*pi)++) {
			xpro_lstate_apply(&t[i].s, &found[i], &pu[*pi]);
			t[i].pushed = 1;
		}
		l[i] = xpro_lstate_lrec(&t[i].s);
	}
}

/*
 * Algorithm 1 for n clients (sorted) of destination D (dotted ds): read
 * their local records (HMGET l:{D}), apply the queued deltas pu[*pi..]
 * (sorted by client, then order), merge all on the master, and write the
 * local records back (one HSET): merged, pulled from the master, or, when
 * the master failed, with their deltas kept (and named in l:dirty).
 */
static int db_merge_chunk(struct db_ctx *d, const struct xpro_addr *dest, const char *ds, const struct xpro_addr *cl,
			  size_t n,
			  const struct xpro_qline *pu, size_t npu, size_t *pi, int *changed)
{
	static struct taken t[BATCH];
	static struct xpro_lrec l[BATCH];
	static int found[BATCH];
	static struct xpro_mres res[BATCH];
	static char cs[BATCH][XPRO_ADDR_STRLEN], vals[BATCH][XPRO_LSTATE_MAX];
	static char names[BATCH][XK_NAME_MAX], ubuf[(BATCH + 1) * XPRO_ADDR_STRLEN];
	static struct xpro_addr merged[BATCH];
	static struct xredis_argv a;
	const char *sets[3] = { XK_DECAY, XK_DECAY, XK_DIRTY };
	const char *ops[3] = { "SADD", "SREM", "SADD" };
	enum { W_NONE, W_MERGED, W_KEPT }; /* what becomes of each record */
	static int which[BATCH];
	redisContext *lc = d->lr.c;
	redisReply *rep;
	char lk[XK_NAME_MAX], xk[XK_NAME_MAX];
	size_t i, nw = 0, ncmd = 0, nu = 0;
	int err, s;

	if (d->m.rc)
		d->m.lim = xpro_sync_limits(d->cfg, xpro_sync_now(d->cfg));
	xk_ldb(lk, sizeof(lk), ds);
	xredis_argv_reset(&a, "HMGET");
	xredis_argv_str(&a, lk);
	for (i = 0; i < n; i++)
		xredis_argv_str(&a, xpro_addr_str(cs[i], &cl[i]));
	/* sent before the previous batch's write replies are read, and
	 * with the master's read of the same records: both servers work at
	 * once */
	xredis_append(lc, &a);
	xk_mdb(xk, sizeof(xk), ds);
	xpro_master_send_read(&d->m, xk, cs, n);
	err = drain_local(d);
	if (!err && (redisGetReply(lc, (void **)&rep) != REDIS_OK || !rep)) {
		xredis_fail(&d->lr, lc->errstr);
		err = -EIO;
	}
	if (!err && (rep->type != REDIS_REPLY_ARRAY || rep->elements != n)) {
		if (d->st.rejected++ < 5)
			pr_warn("syncdb: local Redis refused to read %s: %s\n", lk,
				rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
		freeReplyObject(rep);
		err = -EPROTO;
	}
	if (err) {
		xpro_master_unread(&d->m);
		return err;
	}
	take_batch(d, ds, cl, cs, n, rep, pu, npu, pi, t, l, found);
	freeReplyObject(rep);

	err = xpro_master_batch(&d->m, xk, cs, l, found, n, res);
	if (err == -EPROTO && d->st.rejected++ < 5)
		pr_warn("syncdb: the master refused the batch of %s; its deltas stay in L_DB for the next round\n",
			xk);

	/* the local records back */
	xredis_argv_reset(&a, "HSET");
	xredis_argv_str(&a, lk);
	for (i = 0; i < n; i++) {
		struct xpro_lstate ns;

		which[i] = W_NONE;
		if (err || res[i].rc) {
			if (!err && d->st.rejected++ < 5) {
				xk_lrec(names[0], ds, cs[i]);
				pr_warn("syncdb: master refused the merge of %s: %s\n", names[0],
					res[i].why ? res[i].why : "?");
			}
			/* keep the delta: merged next time, never lost */
			if (t[i].pushed) {
				ns = t[i].s;
				which[i] = W_KEPT;
				goto write;
			}
			if (found[i] && (t[i].s.dc || t[i].s.mark))
				which[i] = W_KEPT;
			continue;
		}
		if (res[i].branch >= 0 && res[i].branch < 7)
			d->st.branches[res[i].branch]++;
		if (res[i].branch == 0)
			continue;
		d->st.merged++;
		(*changed)++;
		which[i] = W_MERGED;
		merged[nu++] = cl[i];
		if (res[i].branch == XPRO_MERGE_PULL)
			d->st.pulled++;
		ns = xpro_lstate_merged(res[i].branch, &res[i].l, &res[i].m);
write:
		xredis_argv_str(&a, cs[i]);
		xredis_argv_mem(&a, vals[nw], xpro_lstate_format(vals[nw], &ns));
		nw++;
	}
	if (nw) {
		xredis_append(lc, &a);
		redisAppendCommand(lc, "PEXPIRE %s %" PRIu64, lk, xpro_sync_ttl_ms(d->cfg));
		ncmd += 2;
	}
	/* the merged into l:u (one entry "D i1 i2 ..."); the names into
	 * l:decay (a window the next round may decay), out of it when it
	 * was in and no longer is, and into l:dirty (kept deltas) */
	if (nu) {
		redisAppendCommand(lc, "RPUSH " XK_UPDATED " %b", ubuf, xpro_upd_format(ubuf, dest, merged, nu));
		ncmd++;
	}
	for (s = 0; s < 3; s++) {
		xredis_argv_reset(&a, ops[s]);
		xredis_argv_str(&a, sets[s]);
		for (i = 0; i < n; i++) {
			if (s < 2) {
				int in;

				if (which[i] != W_MERGED || res[i].branch == XPRO_MERGE_PULL)
					continue;
				in = (int64_t)(res[i].l.ts2 - res[i].m.ts1) > (int64_t)d->m.mp.tt4_ns;
				if (s == 0 ? !in : (in || !t[i].was_decay))
					continue;
			} else if (which[i] != W_KEPT) {
				continue;
			}
			xredis_argv_mem(&a, names[i], xk_lrec(names[i], ds, cs[i]));
		}
		if (a.n > 2) {
			xredis_append(lc, &a);
			ncmd++;
		}
	}
	/* the replies are read before the next local command (drain_local) */
	d->lpending += ncmd;
	return err == -EPROTO ? 0 : err;
}

/* ---- a round ---------------------------------------------------------------- */

static int qline_cmp(const void *a, const void *b)
{
	const struct xpro_qline *x = a, *y = b;

	int c = xpro_addr_cmp(&x->dest, &y->dest);

	c = c ? c : xpro_addr_cmp(&x->client, &y->client);
	return c ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The lines of one queue entry (a string of lines) of dest into *pu. */
static int take_lines(struct db_ctx *d, const struct xpro_addr *dest, const redisReply *e, struct xpro_qline **pu,
		      size_t *npu, size_t *cap)
{
	const char *p = e->str, *end = e->str + e->len, *nl;
	char ds[XPRO_ADDR_STRLEN], qk[XK_NAME_MAX];

	for (; p < end; p = nl + 1) {
		struct xpro_qline *x;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (nl == p)
			continue;
		if (*npu == *cap) {
			size_t nc = *cap ? 2 * *cap : 4096;
			void *np = realloc(*pu, nc * sizeof(**pu));

			if (!np)
				return -ENOMEM;
			*pu = np;
			*cap = nc;
		}
		x = &(*pu)[*npu];
		{
			const char *f = NULL, *why = "not \"i ts1 ts2 c dc mark\"";
			char v[XPRO_QLINE_MAX + 1];

			if (xpro_qline_parse(p, (size_t)(nl - p), x))
				f = "line";
			else
				f = xpro_check_qline(&d->m.lim, x, &why);
			if (f) {
				snprintf(v, sizeof(v), "%.*s", (int)(nl - p < XPRO_QLINE_MAX ? nl - p : XPRO_QLINE_MAX), p);
				xk_lqueue(qk, sizeof(qk), xpro_addr_str(ds, dest));
				d->st.rejected++;
				xpro_reject("syncdb", &d->st.invalid, qk, f, v, why);
				continue;
			}
		}
		x->dest = *dest;
		x->seq = (uint32_t)*npu;
		(*npu)++;
	}
	return 0;
}

/*
 * Take the queues of the destinations q (sorted) whole, all in one
 * transaction (MULTI, LRANGE and DEL each, EXEC), into *pu sorted by
 * destination, client and order.
 */
static int take_queues(struct db_ctx *d, const struct xpro_pairs *q, struct xpro_qline **pu, size_t *npu)
{
	redisContext *lc = d->lr.c;
	redisReply *rep = NULL, *e;
	char qk[XK_NAME_MAX], ds[XPRO_ADDR_STRLEN];
	size_t i, k, cap = 0;
	int err = 0;

	*pu = NULL;
	*npu = 0;
	if (!q->n)
		return 0;
	redisAppendCommand(lc, "MULTI");
	for (i = 0; i < q->n; i++) {
		xk_lqueue(qk, sizeof(qk), xpro_addr_str(ds, &q->p[i].dest));
		redisAppendCommand(lc, "LRANGE %s 0 -1", qk);
		redisAppendCommand(lc, "DEL %s", qk);
	}
	redisAppendCommand(lc, "EXEC");
	err = drain_local(d);
	if (err)
		return err;
	for (k = 0; k < 2 * q->n + 2; k++) {
		if (rep)
			freeReplyObject(rep);
		if (redisGetReply(lc, (void **)&rep) != REDIS_OK || !rep) {
			xredis_fail(&d->lr, lc->errstr);
			return -EIO;
		}
	}
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 2 * q->n) {
		freeReplyObject(rep);
		return -EPROTO;
	}
	for (k = 0; !err && k < q->n; k++) {
		e = rep->element[2 * k];
		if (e->type != REDIS_REPLY_ARRAY && d->st.rejected++ < 5) {
			xk_lqueue(qk, sizeof(qk), xpro_addr_str(ds, &q->p[k].dest));
			pr_warn("syncdb: %s is not a list of deltas (%s); dropped\n", qk,
				e->type == REDIS_REPLY_ERROR ? e->str : "unexpected reply");
		}
		for (i = 0; !err && e->type == REDIS_REPLY_ARRAY && i < e->elements; i++)
			if (e->element[i]->type == REDIS_REPLY_STRING)
				err = take_lines(d, &q->p[k].dest, e->element[i], pu, npu, &cap);
	}
	if (!err) {
		d->st.queued += *npu;
		if (*npu) /* *pu is NULL while nothing was taken: qsort's nonnull */
			qsort(*pu, *npu, sizeof(**pu), qline_cmp);
	}
	freeReplyObject(rep);
	return err;
}

/* Queue deltas taken but not applied back (sorted by destination): the
 * next round applies them. */
static void requeue(struct db_ctx *d, const struct xpro_qline *pu, size_t n)
{
	char *buf, ds[XPRO_ADDR_STRLEN], qk[XK_NAME_MAX];
	redisReply *rep;
	size_t i = 0, j;

	if (!n || !d->lr.c || !(buf = malloc(n * XPRO_QLINE_MAX + 1)))
		return;
	while (i < n && d->lr.c) {
		char *p = buf;

		for (j = i; j < n && xpro_addr_eq(&pu[j].dest, &pu[i].dest); j++)
			p = xpro_qline_put(p, &pu[j]);
		xk_lqueue(qk, sizeof(qk), xpro_addr_str(ds, &pu[i].dest));
		/* in front: older than what syncmaps queued meanwhile */
		rep = redisCommand(d->lr.c, "LPUSH %s %b", qk, buf, (size_t)(p - buf));
		if (rep)
			freeReplyObject(rep);
		rep = d->lr.c ? redisCommand(d->lr.c, "SADD " XK_QUEUES " %s", ds) : NULL;
		if (rep)
			freeReplyObject(rep);
		i = j;
	}
	free(buf);
}

/* One destination: its n records p[] and its npu queued deltas pu[]
 * (sorted by client, then order), in batches. */
static int db_merge_dest(struct db_ctx *d, const struct xpro_addr *dest, const struct xpro_pair *p, size_t n,
			 const struct xpro_qline *pu, size_t npu, int *changed)
{
	struct xpro_addr *cl;
	char ds[XPRO_ADDR_STRLEN];
	size_t ncl = 0, i, j, pi = 0;
	int err = 0;

	xpro_addr_str(ds, dest);
	cl = malloc((n + npu + 1) * sizeof(*cl));
	if (!cl)
		return -ENOMEM;
	/* both lists are sorted by client: merge them */
	for (i = 0, j = 0; i < n || j < npu;) {
		const struct xpro_addr *c;

		if (j >= npu || (i < n && xpro_addr_cmp(&p[i].client, &pu[j].client) <= 0))
			c = &p[i++].client;
		else
			c = &pu[j++].client;
		if (!ncl || !xpro_addr_eq(&cl[ncl - 1], c))
			cl[ncl++] = *c;
	}
	for (i = 0; !err && i < ncl; i += BATCH)
		err = db_merge_chunk(d, dest, ds, cl + i, ncl - i < BATCH ? ncl - i : BATCH, pu, npu, &pi, changed);
	if (err) {
		/* the failed batch kept its deltas in L_DB (l:dirty); the
		 * later ones go back to the queue */
		while (pi < npu && i < ncl && xpro_addr_cmp(&pu[pi].client, &cl[i]) < 0)
			pi++;
		if (drain_local(d) == 0)
			requeue(d, pu + pi, npu - pi);
	}
	free(cl);
	return err;
}

/*
 * One round. full: the reference, Algorithm 1 over every record of L_DB
 * and M_DB. Otherwise the fast exchange: the records this proxy changed
 * (the queues named in l:q, and l:dirty), those due to decay (l:decay),
 * and those others changed (the master's feed, collected in d->feed).
 * The queued deltas are applied in both.
 */
static int db_round(struct db_ctx *d, int full, int *changed)
{
	struct xpro_pairs l = { 0 }, q = { 0 };
	struct xpro_qline *pu = NULL;
	redisReply *rep;
	size_t i = 0, k = 0, j, pj = 0, npu = 0;
	int err;

	if (d->m.rc) /* a cluster's step may have waited out a failover: the limits of now */
		d->m.lim = xpro_sync_limits(d->cfg, xpro_sync_now(d->cfg));
	err = xpro_spop_into(&d->lr, XK_QUEUES, 0, &q);
	names_refused(d, &q, XK_QUEUES);
	if (full) {
		d->st.full_passes++;
		err = err ?: xpro_scan_queues(&d->lr, &q);
		names_refused(d, &q, XK_LQUEUE_MATCH);
		err = err ?: xpro_scan_hashes(&d->lr, XK_LDB_MATCH, &l);
		names_refused(d, &l, "L_DB " XK_LDB_MATCH);
		err = err ?: (d->m.rc ? xpro_master_cluster_scan(&d->m, &l) : xpro_scan_hashes(&d->m.r, XK_MDB_MATCH, &l));
		names_refused(d, &l, "M_DB " XK_MDB_MATCH);
		if (!err) {
			rep = redisCommand(d->lr.c, "DEL " XK_DIRTY);
			if (rep)
				freeReplyObject(rep);
		}
	} else {
		err = err ?: xpro_spop_into(&d->lr, XK_DIRTY, XK_LREC_PREFIX, &l);
		names_refused(d, &l, XK_DIRTY);
		if (!err) {
			rep = redisCommand(d->lr.c, "SMEMBERS " XK_DECAY);
			if (rep && rep->type == REDIS_REPLY_ARRAY)
				xpro_pairs_add_reply(&l, rep->element, rep->elements, XK_LREC_PREFIX);
			names_refused(d, &l, XK_DECAY);
			if (rep)
				freeReplyObject(rep);
			else
				err = -EIO;
		}
	}
	for (j = 0; j < d->feed.n; j++)
		xpro_pairs_add(&l, &d->feed.p[j].dest, &d->feed.p[j].client);
	d->feed.n = 0;
	xpro_pairs_sort(&l);
	xpro_pairs_sort(&q);
	if (!err) {
		err = take_queues(d, &q, &pu, &npu);
		k = err ? 0 : q.n; /* the queues are taken (or still there) */
	}
	/* destination by destination: the union of l's and the queues' */
	while (!err && (i < l.n || pj < npu)) {
		struct xpro_addr dest;
		size_t n, m;

		if (pj < npu && (i >= l.n || xpro_addr_cmp(&pu[pj].dest, &l.p[i].dest) <= 0))
			dest = pu[pj].dest;
		else
			dest = l.p[i].dest;
		for (n = 0; i + n < l.n && xpro_addr_eq(&l.p[i + n].dest, &dest); n++)
			;
		for (m = 0; pj + m < npu && xpro_addr_eq(&pu[pj + m].dest, &dest); m++)
			;
		err = db_merge_dest(d, &dest, &l.p[i], n, pu + pj, m, changed);
		i += n;
		pj += m;
		if (err)
			break;
	}
	{
		int derr = drain_local(d);

		err = err ?: derr;
	}
	if (err && pj < npu)
		requeue(d, pu + pj, npu - pj);
	if (err && !full && d->lr.c)
		xpro_give_back(&d->lr, &l, i, &q, k); /* popped and not merged: next time */
	free(pu);
	free(l.p);
	free(q.p);
	return err;
}

/* The stale fields of the hash k (the reply h of its HGETALL) in one HDEL. */
static void sweep_hash(struct db_ctx *d, const char *k, const redisReply *h, uint64_t now_us, uint64_t ttl_us)
{
	struct xpro_limits lim = xpro_sync_limits(d->cfg, now_us * XPRO_NS_PER_US);
	static struct xredis_argv a;
	redisReply *x;
	size_t j;

	xredis_argv_reset(&a, "HDEL");
	xredis_argv_str(&a, k);
	for (j = 0; h->type == REDIS_REPLY_ARRAY && j + 1 < h->elements; j += 2) {
		struct xpro_lstate ls;
		const redisReply *e = h->element[j + 1];

		if (e->type == REDIS_REPLY_STRING && !xpro_lstate_parse(e->str, e->len, &ls) &&
		    !xpro_check_lstate(&lim, &ls, NULL) && (ls.dc || ls.mark || ls.ts2 + ttl_us >= now_us))
			continue;
		xredis_argv_mem(&a, h->element[j]->str, h->element[j]->len);
	}
	if (a.n > 2 && !a.oom) {
		x = redisCommandArgv(d->lr.c, a.n, a.v, a.l);
		if (x && x->type == REDIS_REPLY_INTEGER)
			d->st.swept += (uint64_t)x->integer;
		if (x)
			freeReplyObject(x);
	}
}

/*
 * Drop the local records idle longer than the expiry (their hash l:{D}
 * expires as a whole only when all of D is idle), and values that are not
 * records. Every few seconds; O(records).
 */
static void db_sweep(struct db_ctx *d)
{
	char cursor[32] = "0";
	uint64_t now_us = xpro_sync_now(d->cfg) / XPRO_NS_PER_US, ttl_us = xpro_sync_ttl_ms(d->cfg) * 1000ULL;
	static redisReply **hs;
	static size_t hcap;
	redisReply *rep;
	size_t i, n, got;

	do {
		rep = redisCommand(d->lr.c, "SCAN %s MATCH %s COUNT 100", cursor, XK_LDB_MATCH);
		if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
			if (rep)
				freeReplyObject(rep);
			else
				xredis_fail(&d->lr, NULL);
			return;
		}
		snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
		/* the page's hashes in one round trip (one HGETALL at a time took
		 * a second of the period with thousands of destinations), then
		 * each swept (its HDEL on its own, after every reply is read) */
		n = rep->element[1]->elements;
		if (n > hcap) {
			redisReply **nh = realloc(hs, n * sizeof(*hs));

			if (!nh) {
				freeReplyObject(rep);
				return;
			}
			hs = nh;
			hcap = n;
		}
		for (i = 0; i < n; i++)
			redisAppendCommand(d->lr.c, "HGETALL %s", rep->element[1]->element[i]->str);
		for (got = 0; got < n; got++)
			if (redisGetReply(d->lr.c, (void **)&hs[got]) != REDIS_OK || !hs[got])
				break;
		for (i = 0; i < got; i++) {
			if (got == n)
				sweep_hash(d, rep->element[1]->element[i]->str, hs[i], now_us, ttl_us);
			freeReplyObject(hs[i]);
		}
		freeReplyObject(rep);
		if (got < n) {
			xredis_fail(&d->lr, NULL);
			return;
		}
	} while (strcmp(cursor, "0") && d->lr.c);
}

/* ---- the period ------------------------------------------------------------- */

/* Cluster: the feed's subscription on node d->feed_node (tried at the
 * next xsub_fd). */
static void feed_node_set(struct db_ctx *d)
{
	const struct rc_addr *a = &d->m.rc->node[d->feed_node].a;
	struct xredis *r = &d->msub.r;
	uint64_t reconnects = r->reconnects;
	int logged = r->down_logged;

	/* as xredis_reconfig, for an address of either family */
	xredis_close(r);
	memset(r, 0, sizeof(*r));
	r->name = "master (feed)";
	snprintf(r->host, sizeof(r->host), "%s", a->host);
	r->port = a->port;
	snprintf(r->user, sizeof(r->user), "%s", d->cfg->redis_user);
	snprintf(r->pass, sizeof(r->pass), "%s", d->cfg->redis_password);
	r->backoff_ms = 100;
	r->down_logged = logged;
	r->reconnects = reconnects;
}

/* Wait for the period's end, or an event: syncmaps pushed (l:kick), or
 * another proxy changed a record (the change feed). */
static int db_wait(void *arg, struct xpro_period *p)
{
	struct db_ctx *d = arg;
	struct pollfd pf[2];
	int nfd = 0, mfd = -1, lfd = -1;
	int64_t wait_ms;

	if (!d->o->full_scan) {
		mfd = xsub_fd(&d->msub);
		if (mfd < 0 && d->m.rc && d->m.rc->nnodes > 1) {
			/* a cluster forwards every PUBLISH to every node: the
			 * feed from any one; that one gone, the next */
			d->feed_node = (d->feed_node + 1) % d->m.rc->nnodes;
			feed_node_set(d);
		}
		lfd = xsub_fd(&d->lsub);
		if (d->msub.fresh) {
			d->need_full = 1; /* (re)subscribed: changes may have been missed */
			d->msub.fresh = 0;
		}
		d->lsub.fresh = 0;
	}
	if (mfd >= 0)
		pf[nfd++] = (struct pollfd){ .fd = mfd, .events = POLLIN };
	if (lfd >= 0)
		pf[nfd++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
	wait_ms = (int64_t)(p->next - xredis_mono_ns()) / 1000000;
	if ((int64_t)(p->next - xredis_mono_ns()) <= 0)
		wait_ms = 0;
	if (nfd && wait_ms > 0 && poll(pf, (nfds_t)nfd, (int)wait_ms) > 0) {
		for (int i = 0; i < nfd; i++) {
			if (!(pf[i].revents & (POLLIN | POLLERR | POLLHUP)))
				continue;
			if (pf[i].fd == mfd)
				xsub_read(&d->msub, on_feed, d);
			else
				xsub_read(&d->lsub, xpro_on_wakeup, NULL);
		}
		d->st.events++;
		return 0;
	}
	if (!nfd)
		xpro_sleep_until(p->next);
	return 1;
}

static void db_reconfig(void *arg)
{
	struct db_ctx *d = arg;
	struct xredis *const local[] = { &d->lr, &d->lsub.r }, *const master[] = { &d->m.r, &d->msub.r };

	if (d->m.rc && strchr(d->cfg->redis_master, ',')) {
		/* the cluster: the new seeds and credentials, the feed on the
		 * first seed */
		xpro_sync_reconnect(d->cfg, local, 2, master, 0);
		rcluster_free(d->m.rc);
		if (rcluster_init(d->m.rc, d->cfg->redis_master, d->cfg->redis_user, d->cfg->redis_password))
			pr_warn("syncdb %s: redis_master: %s\n", d->id, d->m.rc->err);
		d->m.cup = 0;
		d->m.cnext_ns = 0;
		d->feed_node = 0;
		feed_node_set(d);
	} else if (!d->m.rc && !strchr(d->cfg->redis_master, ',')) {
		xpro_sync_reconnect(d->cfg, local, 2, master, 2);
	} else {
		xpro_sync_reconnect(d->cfg, local, 2, master, 0);
		pr_warn("syncdb %s: redis_master changed between one server and a cluster: restart syncdb to follow it\n",
			d->id);
	}
	d->m.have_sha = 0;
	d->m.lua_only = d->m.rc ? 1 : d->cfg->master_merge_lua;
}

static int db_step(void *arg, int period_end)
{
	struct db_ctx *d = arg;
	const struct xpro_config *cfg = d->cfg;
	int ok = 0, changed = 0;

	/* the run-time keys from the config map (xpro set), when attached;
	 * after a detach the daemon goes on merging L_DB but reports
	 * unhealthy until an attach */
	if (xpro_follow_pins(&d->px) >= 0) {
		if (d->pinned < 0)
			pr_warn("syncdb %s: attached again (new maps): following them\n", d->id);
		d->pinned = 1;
		xpro_sync_params(&d->px, d->cfg);
	} else if (d->pinned > 0) {
		pr_warn("syncdb %s: detached (no pins at %s): unhealthy until an attach\n", d->id, d->px.pin_dir);
		d->pinned = -1;
	}
	/* master times are microseconds */
	d->m.mp.tt1_ns = cfg->params.tt1_ns / XPRO_NS_PER_US;
	d->m.mp.tt4_ns = cfg->params.tt4_ns / XPRO_NS_PER_US;
	d->m.mp.r = cfg->params.r;
	d->m.mp.ttl_ms = xpro_sync_ttl_ms(cfg);
	d->m.lim = xpro_sync_limits(cfg, xpro_sync_now(cfg));
	if (xredis_get(&d->lr) && xpro_master_get(&d->m)) {
		if (!d->m.have_sha && d->m.rc) {
			if (!xpro_master_cluster_load(&d->m))
				d->m.have_sha = 1;
		} else if (!d->m.have_sha) {
			redisContext *c = xredis_get(&d->m.r);

			if (c && !xredis_script_load(c, xpro_lua_merge_batch, d->m.sha))
				d->m.have_sha = 1;
			else if (c)
				xredis_fail(&d->m.r, "SCRIPT LOAD failed");
		}
		if (period_end && xpro_master_ok(&d->m))
			format_check(d, 0); /* a format refused now pauses the exchange below */
		if (d->m.have_sha && d->lr.c && xpro_master_ok(&d->m) && !d->format_paused) {
			if (period_end)
				d->w = xpro_master_workload(&d->m, &d->lr, d->cfg, &d->last_alert, d->peers,
							    sizeof(d->peers), &d->clk);
			/* a clock beyond the bound of most peers: no merge (the
			 * deltas wait in the queues; docs/sync.md, Clocks) */
			if (d->lr.c && xpro_master_ok(&d->m) && !d->clk.self_refused &&
			    !db_round(d, d->o->full_scan || d->need_full, &changed)) {
				ok = 1;
				d->need_full = 0;
			}
			if (ok && period_end && xredis_mono_ns() - d->last_sweep >= xpro_sync_ttl_ms(cfg) * 1000000ULL) {
				db_sweep(d);
				/* the master's clients idle past TT4 + TT1 + 10 periods */
				xpro_master_expire(&d->m, xpro_sync_now(cfg) / XPRO_NS_PER_US,
						   (cfg->params.tt4_ns + cfg->params.tt1_ns) / XPRO_NS_PER_US +
							   10ULL * cfg->sync_period_ms * 1000ULL);
				d->last_sweep = xredis_mono_ns();
			}
			if (changed && d->lr.c) {
				/* wake syncmaps: merged records to write back */
				redisReply *rep = redisCommand(d->lr.c, "PUBLISH " XK_UPD " 1");

				if (rep)
					freeReplyObject(rep);
			}
		}
	}
	if (!xpro_master_ok(&d->m)) {
		d->m.have_sha = 0;
		d->need_full = 1;
	}
	if (d->pinned < 0)
		ok = 0;
	d->ok = ok;
	return ok;
}

static void db_status(void *arg, const struct xpro_period *p, double wall_ms, char *json, size_t len)
{
	const struct db_ctx *d = arg;
	const struct db_stats *st = &d->st;

	snprintf(json, len,
		 "{\"daemon\":\"syncdb\",\"pid\":%d,\"proxy_id\":\"%s\",\"ts_ns\":%" PRIu64 ",\"last_ok_ns\":%" PRIu64
		 ",\"period_ms\":%u,\"periods\":%" PRIu64 ",\"exchange\":\"%s\",\"local\":\"%s\",\"master\":\"%s\",\"w\":%" PRIu64
		 ",\"peers_w\":{%s},\"merged\":%" PRIu64 ",\"pulled\":%" PRIu64 ",\"queued\":%" PRIu64
		 ",\"swept\":%" PRIu64 ",\"rejected\":%" PRIu64 ",\"events\":%" PRIu64 ",\"feed_keys\":%" PRIu64
		 ",\"full_passes\":%" PRIu64 ",\"watch_conflicts\":%" PRIu64 ",\"lua_batches\":%" PRIu64 ",\"script_reloads\":%" PRIu64 ",\"master_expired\":%" PRIu64
		 ",\"branches\":{\"reset\":%" PRIu64 ",\"learn\":%" PRIu64 ",\"decay\":%" PRIu64 ",\"tell\":%" PRIu64
		 ",\"pull\":%" PRIu64 ",\"push\":%" PRIu64 "},\"attached\":%s,\"tt1_ms\":%" PRIu64 ",\"tt4_ms\":%" PRIu64 ",\"r\":%u,\"invalid\":%" PRIu64 ",\"feed_dropped\":%" PRIu64 ",\"bad_names\":%" PRIu64 ",\"format\":%" PRIu64 ",\"format_paused\":%s"
		 ",\"clock\":{\"offset_us\":%" PRId64 ",\"tai_minus_realtime_us\":%" PRId64 ",\"peers\":%d"
		 ",\"peers_beyond\":%d,\"worst_peer\":\"%s\",\"worst_offset_us\":%" PRId64 ",\"refused\":%s"
		 ",\"leap_table_mismatch\":%s,\"steps\":%" PRIu64 "},\"period_wall_ms\":%.3f,\"cpu_ms_per_period\":%.3f}",
		 (int)getpid(), d->id, xpro_now_tai(), p->last_ok_ns, d->cfg->sync_period_ms, p->periods,
		 d->o->full_scan ? "full" : "changed", d->lr.c ? "up" : "down", xpro_master_ok(&d->m) ? "up" : "down", d->w,
		 d->ok ? d->peers : "", st->merged, st->pulled, st->queued, st->swept, st->rejected, st->events,
		 st->feed_keys, st->full_passes, d->m.conflicts, d->m.lua_batches, d->m.reloads, d->m.expired, st->branches[XPRO_MERGE_RESET],
		 st->branches[XPRO_MERGE_LEARN], st->branches[XPRO_MERGE_DECAY], st->branches[XPRO_MERGE_TELL],
		 st->branches[XPRO_MERGE_PULL], st->branches[XPRO_MERGE_PUSH],
		 d->pinned < 0 ? "false" : "true", (uint64_t)(d->cfg->params.tt1_ns / 1000000),
		 (uint64_t)(d->cfg->params.tt4_ns / 1000000), d->cfg->params.r, st->invalid, st->feed_dropped, st->bad_names, d->format, d->format_paused ? "true" : "false",
		 d->clk.me.off_us, d->clk.me.tai_real_us, d->clk.npeers, d->clk.nfar, d->clk.worst, d->clk.worst_us,
		 d->clk.self_refused ? "true" : "false", d->clk.leap ? "true" : "false", d->clk.steps, wall_ms,
		 p->cpu_total / (double)p->periods);
}

int xpro_syncdb(struct xpro_config *cfg, const struct xpro_sync_opts *o)
{
	static const struct xpro_period_ops ops = {
		.name = "syncdb", .wait = db_wait, .reconfig = db_reconfig,
		.step = db_step, .status = db_status,
	};
	static struct db_ctx d;
	struct xpro_period p = { .t0 = xredis_mono_ns() };
	int err;

	memset(&d, 0, sizeof(d));
	d.cfg = cfg;
	d.o = o;
	d.need_full = 1;
	d.last_sweep = xredis_mono_ns();
	d.m.rejected = &d.st.rejected;
	d.m.invalid = &d.st.invalid;
	d.m.lua_only = cfg->master_merge_lua;
	err = xpro_proxy_init(&d.px, cfg, o->ifname);
	if (err)
		return err;
	if (!cfg->redis_master[0]) {
		pr_warn("syncdb: no master: set redis_master = ADDR:PORT (an isolated proxy uses a private master of its own)\n");
		return -EINVAL;
	}
	if (strchr(cfg->redis_master, ',')) {
		/* a Redis Cluster's seed list (docs/sync.md, "Redis Cluster:
		 * the client"): every batch through the script */
		d.m.rc = calloc(1, sizeof(*d.m.rc));
		if (!d.m.rc)
			return -ENOMEM;
		if (rcluster_init(d.m.rc, cfg->redis_master, cfg->redis_user, cfg->redis_password) ||
		    xredis_init(&d.lr, "local", cfg->redis_local, cfg->redis_user, cfg->redis_password) ||
		    xsub_init(&d.lsub, "local (kick)", cfg->redis_local, cfg->redis_user, cfg->redis_password, XK_KICK)) {
			pr_warn("syncdb: redis_local must be ADDR:PORT, redis_master ADDR:PORT or a seed list: %s\n",
				d.m.rc->err);
			free(d.m.rc);
			return -EINVAL;
		}
		d.m.lua_only = 1;
		d.m.cfg = cfg;
		snprintf(d.msub.chan, sizeof(d.msub.chan), "%s", XK_CHG);
		feed_node_set(&d);
	} else if (xredis_init(&d.lr, "local", cfg->redis_local, cfg->redis_user, cfg->redis_password) ||
	    xredis_init(&d.m.r, "master", cfg->redis_master, cfg->redis_user, cfg->redis_password) ||
	    xsub_init(&d.msub, "master (feed)", cfg->redis_master, cfg->redis_user, cfg->redis_password, XK_CHG) ||
	    xsub_init(&d.lsub, "local (kick)", cfg->redis_local, cfg->redis_user, cfg->redis_password, XK_KICK)) {
		pr_warn("syncdb: redis_local / redis_master must be ADDR:PORT\n");
		return -EINVAL;
	}
	if (cfg->proxy_id[0])
		snprintf(d.id, sizeof(d.id), "%s", cfg->proxy_id);
	else
		snprintf(d.id, sizeof(d.id), "%s/%s", d.px.nsname, d.px.ifname);
	d.m.id = d.id;
	xpro_mkdir_p(d.px.state_dir);
	pr_info("syncdb %s: local %s, master %s, period %u ms, %s\n", d.id, cfg->redis_local,
		cfg->redis_master, cfg->sync_period_ms, o->full_scan ? "full scan" : "changed records");
	/* the records format first: a master of a newer one stops us here */
	if (!xpro_master_get(&d.m) || format_check(&d, 1) != -EPROTO)
		xpro_period_loop(cfg, o, &d.px, &ops, &d, &p);
	pr_info("syncdb %s: stopped after %" PRIu64 " periods, %" PRIu64 " merges\n", d.id, p.periods, d.st.merged);
	free(d.feed.p);
	xpro_proxy_close(&d.px);
	xredis_close(&d.lr);
	xredis_close(&d.m.r);
	xredis_close(&d.msub.r);
	if (d.m.rc) {
		rcluster_free(d.m.rc);
		free(d.m.rc);
	}
	xredis_close(&d.lsub.r);
	return d.format_refused ? -EPROTO : 0;
}
