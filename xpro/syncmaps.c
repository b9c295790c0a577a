// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpro syncmaps (docs/sync.md): the BPF maps <-> this proxy's local Redis
 * (the paper's sync_maps_and_ldb), each period:
 *   1. push: every record whose dc or mark changed is queued for syncdb
 *      (l:{D}:q, one RPUSH per destination in one transaction); only after
 *      Redis accepted it does the take program subtract that dc from the
 *      BPF record (so an absent Redis leaves the delta in the map);
 *   2. apply: records syncdb merged (list l:u, or every l:{D} with
 *      --full-scan) go back into the BPF map through the apply program
 *      (c_l += base - c_m atomically: packets counted meanwhile stay), or
 *      are created when only the master knew them;
 *   3. the aggregates are recomputed from the records (xpro/agg.c);
 *   4. the workload W (packets/s seen by the XDP program) goes to l:w.
 * Between periods it writes back at once what syncdb announces on l:upd.
 * Keys: xpro/keys.h; values: xpro/formats.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agg.h"
#include "formats.h"
#include "keys.h"
#include "log.h"
#include "master.h"
#include "period.h"
#include "proxy.h"
#include "stats.h"
#include "sync.h"
#include "xpro.skel.h"
#include "xredis.h"

#define BATCH XPRO_SYNC_BATCH
#define PUSH_MAX 8192 /* records per push transaction */

struct maps_stats {
	uint64_t pushed, taken, stale, applied, created, skipped_bad, redis_errors;
	uint64_t invalid;       /* L_DB values that failed validation */
	uint64_t ahead;         /* records deleted: their last packet in the future (a backward clock step) */
	uint64_t reattached;    /* detach + attach followed */
};

struct maps_ctx {
	struct xpro_config *cfg;
	const struct xpro_sync_opts *o;
	struct xpro_proxy px;
	struct xpro_bpf *s;
	struct xredis lr;
	struct xsub usub;         /* local: l:upd (syncdb merged something) */
	struct maps_stats st;
	uint64_t rx_prev, t_prev, w, events;
	int detached;             /* no pins: nothing to sync, unhealthy */
	struct xpro_limits lim;   /* what an L_DB value may hold, this period */
};

/* The sync's syscall programs, bound to the proxy's pinned maps. */
static struct xpro_bpf *load_progs(struct xpro_proxy *px)
{
	struct xpro_bpf *s = xpro_bpf__open();
	int err;

	if (!s) {
		pr_warn("%s: open BPF object: %s\n", px->ifname, strerror(errno));
		return NULL;
	}
	bpf_program__set_autoload(s->progs.xpro_xdp, false);
	err = bpf_map__reuse_fd(s->maps.xpro_records, px->fd[M_RECORDS]);
	err = err ?: bpf_map__reuse_fd(s->maps.xpro_aggs, px->fd[M_AGGS]);
	err = err ?: bpf_map__reuse_fd(s->maps.xpro_tf2, px->fd[M_TF2]);
	err = err ?: bpf_map__reuse_fd(s->maps.xpro_config, px->fd[M_CONFIG]);
	err = err ?: bpf_map__reuse_fd(s->maps.xpro_counters, px->fd[M_COUNTERS]);
	err = err ?: bpf_map__reuse_fd(s->maps.xpro_warnings, px->fd[M_WARNINGS]);
	err = err ?: xpro_bpf__load(s);
	if (err) {
		pr_warn("%s: load the sync programs: %s\n", px->ifname, strerror(-err));
		xpro_bpf__destroy(s);
		return NULL;
	}
	return s;
}

static int run_syscall(int fd, void *ctx, size_t len)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = ctx, .ctx_size_in = (__u32)len);

	return bpf_prog_test_run_opts(fd, &o) ? -errno : 0;
}

/* ---- push ------------------------------------------------------------------- */

/* A record of the period's dump with a delta to hand over (ns). */
struct qrec {
	struct xpro_key key;
	struct xpro_record v;
};

static int qrec_cmp(const void *a, const void *b)
{
	const struct qrec *x = a, *y = b;

	return xpro_addr_cmp(&x->key.dest, &y->key.dest);
}

/*
 * Queue n records (sorted by destination) in one transaction: per
 * destination one RPUSH of its lines onto l:{D}:q, and D into l:q. Only
 * after Redis accepted it does the take program subtract each dc from its
 * BPF record (an absent Redis leaves the deltas in the map).
 */
static int push_flush(struct maps_ctx *m, const struct qrec *q, size_t n)
{
	redisContext *c = m->lr.c;
	redisReply *rep, *ex = NULL;
	char *buf = malloc(n * XPRO_QLINE_MAX + 1), ds[XPRO_ADDR_STRLEN], key[XK_NAME_MAX];
	size_t i = 0, j, k, g, ncmd = 0;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	redisAppendCommand(c, "MULTI");
	ncmd++;
	while (i < n) {
		char *p = buf;

		for (j = i; j < n && xpro_addr_eq(&q[j].key.dest, &q[i].key.dest); j++) {
			struct xpro_qline x = xpro_qline_from_record(&q[j].key, &q[j].v);

			p = xpro_qline_put(p, &x);
		}
		xpro_addr_str(ds, &q[i].key.dest);
		xk_lqueue(key, sizeof(key), ds);
		redisAppendCommand(c, "RPUSH %s %b", key, buf, (size_t)(p - buf));
		redisAppendCommand(c, "PEXPIRE %s %" PRIu64, key, xpro_sync_ttl_ms(m->cfg));
		redisAppendCommand(c, "SADD " XK_QUEUES " %s", ds);
		ncmd += 3;
		i = j;
	}
	free(buf);
	redisAppendCommand(c, "EXEC");
	ncmd++;
	for (k = 0; k < ncmd; k++) {
		if (redisGetReply(c, (void **)&rep) != REDIS_OK || !rep) {
			if (ex)
				freeReplyObject(ex);
			xredis_fail(&m->lr, c->errstr);
			return -EIO; /* nothing taken: pushed again next period */
		}
		if (k == ncmd - 1)
			ex = rep; /* EXEC: one reply per queued command */
		else
			freeReplyObject(rep);
	}
	/* A transaction is not rolled back: a destination whose RPUSH or SADD
	 * failed (a key of another type) keeps its deltas in the map, the
	 * others' are taken. A transaction refused whole (EXECABORT) ran
	 * nothing. */
	if (ex->type != REDIS_REPLY_ARRAY || ex->elements != ncmd - 2) {
		if (m->st.redis_errors++ < 5)
			pr_warn("syncmaps: local Redis refused a push: %s\n",
				ex->type == REDIS_REPLY_ERROR ? ex->str : "unexpected reply");
		freeReplyObject(ex);
		return -EPROTO;
	}
	for (i = 0, g = 0; i < n; i = j, g++) {
		int good = ex->element[3 * g]->type == REDIS_REPLY_INTEGER &&
			   ex->element[3 * g + 2]->type == REDIS_REPLY_INTEGER;

		for (j = i; j < n && xpro_addr_eq(&q[j].key.dest, &q[i].key.dest); j++)
			;
		if (!good) {
			const redisReply *e = ex->element[3 * g]->type == REDIS_REPLY_ERROR ? ex->element[3 * g]
											   : ex->element[3 * g + 2];

			err = -EPROTO;
			if (m->st.redis_errors++ < 5) {
				xk_lqueue(key, sizeof(key), xpro_addr_str(ds, &q[i].key.dest));
				pr_warn("syncmaps: local Redis refused the push of %s: %s\n", key,
					e->type == REDIS_REPLY_ERROR ? e->str : "unexpected reply");
			}
			continue;
		}
		for (k = i; k < j; k++) {
			struct xpro_sync_take t = { .key = q[k].key, .ts1_seen = q[k].v.ts1_l,
						    .dc_seen = q[k].v.dc, .mark_seen = q[k].v.mark ? 1 : 0 };

			m->st.pushed++;
			if (!run_syscall(bpf_program__fd(m->s->progs.xpro_sync_take), &t, sizeof(t)) && t.ret == 0)
				m->st.taken++;
			else
				m->st.stale++;
		}
	}
	freeReplyObject(ex);
	return err;
}

/* Queue the records of the period's dump (rk, rv) whose dc or mark changed. */
static int maps_push(struct maps_ctx *m, const struct xpro_key *rk, const struct xpro_record *rv, size_t nrec)
{
	struct qrec *q;
	size_t i, n = 0;
	int err = 0;

	q = malloc((nrec ? nrec : 1) * sizeof(*q));
	if (!q)
		return -ENOMEM;
	for (i = 0; i < nrec; i++) {
		if (!rv[i].dc && !rv[i].mark)
			continue;
		q[n++] = (struct qrec){ .key = rk[i], .v = rv[i] };
	}
	qsort(q, n, sizeof(*q), qrec_cmp);
	for (i = 0; !err && i < n; i += PUSH_MAX)
		err = push_flush(m, q + i, n - i < PUSH_MAX ? n - i : PUSH_MAX);
	free(q);
	return err;
}

/* ---- apply (write-back) ------------------------------------------------------ */

/* Apply one local record (value v of l:{D} field i) to the BPF map. */
static void apply_one(struct maps_ctx *m, const struct xpro_addr *client, const struct xpro_addr *dest,
		      const redisReply *v, uint64_t now)
{
	struct xpro_sync_apply a;
	struct xpro_lstate ls;
	char name[XK_NAME_MAX], ds[XPRO_ADDR_STRLEN], cs[XPRO_ADDR_STRLEN];
	int bad;

	if (v->type == REDIS_REPLY_NIL)
		return; /* expired meanwhile */
	bad = v->type != REDIS_REPLY_STRING || xpro_lstate_parse(v->str, v->len, &ls);
	if (!bad) {
		const char *why, *f = xpro_check_lstate(&m->lim, &ls, &why);

		if (f) {
			/* never written into the map */
			m->st.skipped_bad++;
			xk_lrec(name, xpro_addr_str(ds, dest), xpro_addr_str(cs, client));
			xpro_reject("syncmaps", &m->st.invalid, name, f, v->str, why);
			return;
		}
	}
	if (bad || xpro_lstate_to_apply(&ls, client, dest, m->cfg->params.tt1_ns, now, &a)) {
		if (m->st.skipped_bad++ < 5) {
			xk_lrec(name, xpro_addr_str(ds, dest), xpro_addr_str(cs, client));
			if (bad)
				pr_warn("syncmaps: local record %s is not 7 non-negative integers; skipped\n", name);
			else
				pr_warn("syncmaps: local record %s: absurd window (ts1 %" PRIu64 ", ts2 %" PRIu64
					" us); skipped\n", name, ls.ts1, ls.ts2);
		}
		return;
	}
	/* a record idle for 7/8 of TT1 is left alone (a.idle_ns): the next
	 * packet may reset it, and the write-back must never race a reset */
	if (run_syscall(bpf_program__fd(m->s->progs.xpro_sync_apply), &a, sizeof(a)))
		return;
	if (a.ret == 0) {
		m->st.applied++;
	} else if (a.ret == -ENOENT && (int64_t)(now - a.ts2) <= (int64_t)a.idle_ns) {
		/* learned from the master: create it, unless a packet just did */
		struct xpro_record r = xpro_record_from_apply(&a);

		if (!bpf_map_update_elem(m->px.fd[M_RECORDS], &a.key, &r, BPF_NOEXIST))
			m->st.created++;
	}
}

/* Write back the records of l (sorted): one HMGET l:{D} per destination
 * and BATCH clients, all pipelined. */
static int apply_pairs(struct maps_ctx *m, const struct xpro_pairs *l, uint64_t now)
{
	static struct xredis_argv a;
	static char cs[BATCH][XPRO_ADDR_STRLEN];
	redisContext *c = m->lr.c;
	redisReply *rep;
	char key[XK_NAME_MAX], ds[XPRO_ADDR_STRLEN];
	size_t i = 0, j, k, ncmd = 0, at;

	/* all commands first, then the replies in the same order */
	while (i < l->n) {
		for (j = i; j < l->n && j - i < BATCH && xpro_addr_eq(&l->p[j].dest, &l->p[i].dest); j++)
			;
		xk_ldb(key, sizeof(key), xpro_addr_str(ds, &l->p[i].dest));
		xredis_argv_reset(&a, "HMGET");
		xredis_argv_str(&a, key);
		for (k = i; k < j; k++)
			xredis_argv_str(&a, xpro_addr_str(cs[k - i], &l->p[k].client));
		xredis_append(c, &a);
		ncmd++;
		i = j;
	}
	for (i = 0, at = 0; i < ncmd; i++) {
		if (redisGetReply(c, (void **)&rep) != REDIS_OK || !rep) {
			xredis_fail(&m->lr, c->errstr);
			return -EIO;
		}
		for (j = at; j < l->n && j - at < BATCH && xpro_addr_eq(&l->p[j].dest, &l->p[at].dest); j++)
			;
		if (rep->type == REDIS_REPLY_ARRAY && rep->elements == j - at) {
			for (k = at; k < j; k++)
				apply_one(m, &l->p[k].client, &l->p[k].dest, rep->element[k - at], now);
		} else {
			m->st.skipped_bad += j - at;
		}
		freeReplyObject(rep);
		at = j;
	}
	return 0;
}

/* Every record of L_DB (--full-scan): SCAN l:{*}, HGETALL each. */
static int apply_all(struct maps_ctx *m, uint64_t now)
{
	redisContext *c = m->lr.c;
	redisReply *rep, *h;
	char cursor[32] = "0";
	struct xpro_addr dest, client;
	size_t i, j;

	do {
		rep = redisCommand(c, "SCAN %s MATCH %s COUNT 100", cursor, XK_LDB_MATCH);
		if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
			if (rep)
				freeReplyObject(rep);
			xredis_fail(&m->lr, c->errstr);
			return -EIO;
		}
		snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
		for (i = 0; i < rep->element[1]->elements; i++)
			redisAppendCommand(c, "HGETALL %s", rep->element[1]->element[i]->str);
		for (i = 0; i < rep->element[1]->elements; i++) {
			if (redisGetReply(c, (void **)&h) != REDIS_OK || !h) {
				freeReplyObject(rep);
				xredis_fail(&m->lr, c->errstr);
				return -EIO;
			}
			const char *hk = rep->element[1]->element[i]->str;

			if (xpro_hash_dest(hk, &dest)) {
				m->st.skipped_bad++;
				xpro_reject("syncmaps", &m->st.invalid, "L_DB " XK_LDB_MATCH, "name", hk,
					    "not a destination in canonical form; skipped");
			} else if (h->type == REDIS_REPLY_ARRAY) {
				for (j = 0; j + 1 < h->elements; j += 2) {
					const redisReply *f = h->element[j];

					if (f->type == REDIS_REPLY_STRING && !xpro_addr_parse(f->str, f->len, &client)) {
						apply_one(m, &client, &dest, h->element[j + 1], now);
					} else {
						m->st.skipped_bad++;
						xpro_reject("syncmaps", &m->st.invalid, hk, "name",
							    f->type == REDIS_REPLY_STRING ? f->str : "",
							    "not a client in canonical form; skipped");
					}
				}
			}
			freeReplyObject(h);
		}
		freeReplyObject(rep);
	} while (strcmp(cursor, "0"));
	rep = redisCommand(c, "DEL " XK_UPDATED);
	if (rep)
		freeReplyObject(rep);
	return 0;
}

/* Write back what syncdb merged: the list l:u, taken whole (or, full
 * scan, every l:{D}). */
static int maps_apply(struct maps_ctx *m, int full)
{
	redisContext *c = m->lr.c;
	uint64_t now = xpro_now_tai();
	struct xpro_pairs l = { 0 };
	redisReply *rep = NULL;
	size_t i;
	int err;

	if (full)
		return apply_all(m, now);
	redisAppendCommand(c, "MULTI");
	redisAppendCommand(c, "LRANGE " XK_UPDATED " 0 -1");
	redisAppendCommand(c, "DEL " XK_UPDATED);
	redisAppendCommand(c, "EXEC");
	for (i = 0; i < 4; i++) {
		if (rep)
			freeReplyObject(rep);
		if (redisGetReply(c, (void **)&rep) != REDIS_OK || !rep) {
			xredis_fail(&m->lr, c->errstr);
			return -EIO;
		}
	}
	if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 && rep->element[0]->type == REDIS_REPLY_ARRAY)
		for (i = 0; i < rep->element[0]->elements; i++) {
			const redisReply *e = rep->element[0]->element[i];

			if (e->type == REDIS_REPLY_STRING)
				xpro_upd_parse(e->str, e->len, xpro_pairs_add_cb, &l);
		}
	freeReplyObject(rep);
	xpro_pairs_sort(&l);
	err = apply_pairs(m, &l, now);
	free(l.p);
	return err;
}

/* ---- the period ----------------------------------------------------------- */

/* Until the period's end, write back what syncdb merged as soon as it says
 * so (l:upd), without waiting for the period. */
static int maps_wait(void *arg, struct xpro_period *p)
{
	struct maps_ctx *m = arg;
	int ufd = m->o->full_scan ? -1 : xsub_fd(&m->usub);

	for (;;) {
		struct pollfd pf = { .fd = ufd, .events = POLLIN };
		int64_t wait_ms = ((int64_t)(p->next - xredis_mono_ns())) / 1000000;
		double cpu0;

		if (ufd < 0 || wait_ms <= 0 || *m->o->stop)
			break;
		if (poll(&pf, 1, (int)wait_ms) <= 0)
			break;
		if (xsub_read(&m->usub, xpro_on_wakeup, NULL))
			break;
		if (!m->lr.c || !m->s)
			break;
		cpu0 = xpro_cpu_ms();
		if (!maps_apply(m, 0))
			m->events++;
		p->cpu_total += xpro_cpu_ms() - cpu0;
	}
	xpro_sleep_until(p->next);
	return 1;
}

static void maps_reconfig(void *arg)
{
	struct maps_ctx *m = arg;
	struct xredis *const local[] = { &m->lr, &m->usub.r };

	xpro_sync_reconnect(m->cfg, local, 2, NULL, 0);
}

static void maps_status(void *arg, const struct xpro_period *p, double wall_ms, char *json, size_t len)
{
	const struct maps_ctx *m = arg;

	snprintf(json, len,
		 "{\"daemon\":\"syncmaps\",\"pid\":%d,\"ts_ns\":%" PRIu64 ",\"last_ok_ns\":%" PRIu64
		 ",\"period_ms\":%u,\"periods\":%" PRIu64 ",\"redis\":\"%s\",\"w\":%" PRIu64
		 ",\"pushed\":%" PRIu64 ",\"taken\":%" PRIu64 ",\"stale\":%" PRIu64 ",\"applied\":%" PRIu64
		 ",\"created\":%" PRIu64 ",\"rejected\":%" PRIu64 ",\"invalid\":%" PRIu64 ",\"ahead\":%" PRIu64
		 ",\"attached\":%s,\"reattached\":%" PRIu64 ",\"tt1_ms\":%" PRIu64 ",\"tt4_ms\":%" PRIu64 ",\"r\":%u"
		 ",\"events\":%" PRIu64 ",\"period_wall_ms\":%.3f"
		 ",\"cpu_ms_per_period\":%.3f}",
		 (int)getpid(), xpro_now_tai(), p->last_ok_ns, m->cfg->sync_period_ms, p->periods,
		 m->lr.c ? "up" : "down", m->w, m->st.pushed, m->st.taken, m->st.stale, m->st.applied,
		 m->st.created, m->st.skipped_bad, m->st.invalid, m->st.ahead, m->detached ? "false" : "true",
		 m->st.reattached, (uint64_t)(m->cfg->params.tt1_ns / 1000000), (uint64_t)(m->cfg->params.tt4_ns / 1000000),
		 m->cfg->params.r, m->events, wall_ms, p->cpu_total / (double)p->periods);
}

/* W: packets/s the filter handled (not what it passed to the kernel
 * untouched: ARP, frames flooded by a bridge), to l:w. */
static void maps_workload(struct maps_ctx *m)
{
	uint64_t counters[XPRO_C__MAX];

	if (!xpro_read_counters(m->px.fd[M_COUNTERS], counters)) {
		uint64_t t = xredis_mono_ns(), rx = counters[XPRO_C_RX] - counters[XPRO_C_NOT_TUNNEL];

		if (m->t_prev && t > m->t_prev)
			m->w = (rx - m->rx_prev) * 1000000000ULL / (t - m->t_prev);
		m->rx_prev = rx;
		m->t_prev = t;
	}
	if (m->lr.c) {
		redisReply *rep = redisCommand(m->lr.c, "SET " XK_LW " %" PRIu64 " PX %u", m->w,
					       3 * m->cfg->sync_period_ms + 1000);
		if (rep)
			freeReplyObject(rep);
		else
			xredis_fail(&m->lr, m->lr.c->errstr);
	}
}

/*
 * The pins and the run-time keys, each period: after a detach the daemon
 * has nothing to sync (unhealthy: no complete period) until an attach
 * pins new maps, which it then follows (new maps, the sync programs loaded
 * again); `xpro set` writes the run-time keys (TT1..TT4, r, ...) into the
 * config map, read here. 1: go on with the period.
 */
static int follow_pins(struct maps_ctx *m)
{
	int pins = xpro_follow_pins(&m->px);

	if (pins < 0) {
		if (!m->detached)
			pr_warn("syncmaps %s: detached (no pins at %s): nothing to sync until an attach\n", m->px.ifname,
				m->px.pin_dir);
		m->detached = 1;
		if (m->s) {
			xpro_bpf__destroy(m->s); /* lets the old maps go */
			m->s = NULL;
		}
		return 0;
	}
	if (pins > 0 || !m->s) {
		if (m->s)
			xpro_bpf__destroy(m->s);
		m->s = load_progs(&m->px);
		if (!m->s)
			return 0;
		m->st.reattached++;
		m->t_prev = 0; /* new counters: W starts again */
		pr_warn("syncmaps %s: attached again (new maps): following them\n", m->px.ifname);
	}
	m->detached = 0;
	xpro_sync_params(&m->px, m->cfg);
	return 1;
}

/*
 * A backward step of the clock (docs/sync.md, Clocks): a record whose
 * last packet lies ahead of the data plane's clock by more than the clock
 * bound would keep its window open, and its checks off, until the clock
 * caught up. It is deleted: its next packet starts a fresh window. The
 * dump (rk, rv) keeps the others; their number.
 */
static size_t drop_ahead(struct maps_ctx *m, struct xpro_key *rk, struct xpro_record *rv, size_t n)
{
	uint64_t lim = xpro_now_tai() + m->lim.future_us * XPRO_NS_PER_US;
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (rv[i].ts2_l > lim && !bpf_map_delete_elem(m->px.fd[M_RECORDS], &rk[i])) {
			if (!m->st.ahead++)
				pr_warn("syncmaps %s: records ahead of the clock (a backward step): deleted; their next packets start fresh windows\n",
					m->px.ifname);
			continue;
		}
		rk[k] = rk[i];
		rv[k++] = rv[i];
	}
	return k;
}

static int maps_step(void *arg, int period_end)
{
	struct maps_ctx *m = arg;
	const struct xpro_config *cfg = m->cfg;
	struct xpro_recompute_stats rst;
	struct xpro_agg_snap *snap;
	struct xpro_key *rk = NULL;
	struct xpro_record *rv = NULL;
	size_t nrec = 0;
	int ok = 0;

	(void)period_end;
	if (!follow_pins(m))
		return 0;
	m->lim = xpro_sync_limits(m->cfg, xpro_sync_now(m->cfg));
	/* one dump of the records per period, for the push and the
	 * recompute; the aggregates' deltas are read before it */
	snap = xpro_recompute_begin(m->px.fd[M_AGGS]);
	if (xpro_records_dump(m->px.fd[M_RECORDS], &rk, &rv, &nrec)) {
		nrec = 0;
		xpro_recompute_abort(snap);
		snap = NULL;
	}
	nrec = drop_ahead(m, rk, rv, nrec);
	if (xredis_get(&m->lr)) {
		uint64_t pushed0 = m->st.pushed;

		if (!maps_push(m, rk, rv, nrec) && m->lr.c && !maps_apply(m, m->o->full_scan))
			ok = 1;
		if (ok && m->st.pushed != pushed0 && !m->o->full_scan) {
			/* wake syncdb: deltas to merge */
			redisReply *rep = redisCommand(m->lr.c, "PUBLISH " XK_KICK " 1");

			if (rep)
				freeReplyObject(rep);
		}
	}
	/* the recompute runs also while Redis is away */
	if (snap)
		xpro_recompute_finish(snap, bpf_program__fd(m->s->progs.xpro_fold_agg), m->px.fd[M_AGGS], rk, rv,
				      nrec, cfg->params.tt1_ns, cfg->agg_window_ns, xpro_now_tai(), &rst);
	free(rk);
	free(rv);
	maps_workload(m);
	return ok;
}

int xpro_syncmaps(struct xpro_config *cfg, const struct xpro_sync_opts *o)
{
	static const struct xpro_period_ops ops = {
		.name = "syncmaps", .wait = maps_wait, .reconfig = maps_reconfig,
		.step = maps_step, .status = maps_status,
	};
	struct maps_ctx m = { .cfg = cfg, .o = o };
	struct xpro_period p = { .t0 = xredis_mono_ns() };
	int err;

	err = xpro_proxy_init(&m.px, cfg, o->ifname);
	err = err ?: xpro_proxy_open(&m.px);
	if (err)
		return err;
	if (xredis_init(&m.lr, "local", cfg->redis_local, cfg->redis_user, cfg->redis_password)) {
		pr_warn("syncmaps: redis_local '%s' is not ADDR:PORT\n", cfg->redis_local);
		xpro_proxy_close(&m.px);
		return -EINVAL;
	}
	xsub_init(&m.usub, "local (write-back)", cfg->redis_local, cfg->redis_user, cfg->redis_password, XK_UPD);
	m.s = load_progs(&m.px);
	if (!m.s) {
		xpro_proxy_close(&m.px);
		return -EINVAL;
	}
	pr_info("syncmaps %s: local Redis %s, period %u ms\n", m.px.ifname, cfg->redis_local, cfg->sync_period_ms);
	xpro_period_loop(cfg, o, &m.px, &ops, &m, &p);
	pr_info("syncmaps %s: stopped after %" PRIu64 " periods\n", m.px.ifname, p.periods);
	xredis_close(&m.lr);
	xredis_close(&m.usub.r);
	xpro_bpf__destroy(m.s);
	xpro_proxy_close(&m.px);
	return 0;
}
