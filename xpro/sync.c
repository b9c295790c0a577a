// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The sync daemons (docs/sync.md). Both run one period at a time, never
 * block the data plane, and lose no local delta when a Redis is away:
 *
 * syncmaps, each period:
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
 * syncdb, each period:
 *   1. W to the master with an expiry, the other proxies' W read, an alert
 *      published when W > T_W;
 *   2. Algorithm 1, batched by destination, for the records with queued
 *      deltas (taken whole, applied to L_DB in order), left dirty by a
 *      failed merge (l:dirty), that may decay (l:decay), or that another
 *      proxy changed (the master's change feed) -- or, with --full-scan,
 *      for every record of L_DB and M_DB: read L_DB (HMGET l:{D}), merge on
 *      the master (WATCH/MULTI, or the Lua script), write L_DB back (HSET:
 *      merged, pulled, or with the delta kept when the master failed);
 *   3. every few seconds, records idle past the expiry leave L_DB.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agg.h"
#include "log.h"
#include "master.h"
#include "proxy.h"
#include "stats.h"
#include "sync.h"
#include "xpro.skel.h"
#include "xredis.h"

#define BATCH 2048
#define NS_PER_US 1000ULL

/* ---- local Redis storage ------------------------------------------------- */
/*
 * L_DB (docs/sync.md, "Local Redis"): one hash per destination, l:{D}, field
 * the client's address, value "ts1 ts2 gc dc mark mts1 mts2" (decimal; times
 * in us; the local count c' = gc + dc). Only syncdb writes it. syncmaps hands
 * its deltas over in a queue per destination, the list l:{D}:q, whose
 * entries are lines "i ts1 ts2 c' dc mark", and names D in the set l:q;
 * syncdb takes a queue whole (MULTI, LRANGE, DEL, EXEC) and applies it to
 * L_DB before it merges. Sets of record names "l:{D}:i": l:dirty (deltas
 * kept in L_DB after a failed merge), l:decay (windows the next round may
 * decay). The list l:u: entries "D i1 i2 ...", records syncdb merged, for
 * syncmaps to write back (it takes the list whole).
 */
#define LSTATE_N 7
#define LSTATE_MAX (LSTATE_N * 17 + 1)

struct lstate {
	uint64_t ts1, ts2, gc, dc, mark, mts1, mts2;
};

/* n decimal integers <= 2^53, one space apart, nothing else: 0 or -1 */
static int parse_u53s(const char *v, size_t len, uint64_t *x, int n)
{
	size_t i = 0;
	int k;

	for (k = 0; k < n; k++) {
		size_t digits = 0;

		x[k] = 0;
		while (i < len && v[i] >= '0' && v[i] <= '9') {
			if (++digits > 16)
				return -1;
			x[k] = x[k] * 10 + (uint64_t)(v[i] - '0');
			i++;
		}
		if (!digits || x[k] > 9007199254740991ULL)
			return -1;
		if (k < n - 1) {
			if (i >= len || v[i] != ' ')
				return -1;
			i++;
		}
	}
	return i == len ? 0 : -1;
}

/* The decimal digits of x at p; returns the end. */
static char *put_u64(char *p, uint64_t x)
{
	char t[20];
	int n = 0;

	do {
		t[n++] = (char)('0' + x % 10);
		x /= 10;
	} while (x);
	while (n)
		*p++ = t[--n];
	return p;
}

/* The dotted form of a (network order) into buf (INET_ADDRSTRLEN), as
 * inet_ntop(), without its printf; returns buf. */
static char *ip4(char *buf, uint32_t a)
{
	const unsigned char *b = (const unsigned char *)&a;
	char *p = buf;
	int k;

	for (k = 0; k < 4; k++) {
		if (k)
			*p++ = '.';
		p = put_u64(p, b[k]);
	}
	*p = '\0';
	return buf;
}

static int parse_lstate(const char *v, size_t len, struct lstate *s)
{
	uint64_t x[LSTATE_N];

	if (parse_u53s(v, len, x, LSTATE_N) || x[0] > x[1] || x[4] > 1)
		return -1;
	*s = (struct lstate){ x[0], x[1], x[2], x[3], x[4], x[5], x[6] };
	return 0;
}

/* s as "ts1 ts2 gc dc mark mts1 mts2" into buf (LSTATE_MAX); its length */
static size_t fmt_lstate(char *buf, const struct lstate *s)
{
	const uint64_t x[LSTATE_N] = { s->ts1, s->ts2, s->gc, s->dc, s->mark, s->mts1, s->mts2 };
	char *p = buf;
	int k;

	for (k = 0; k < LSTATE_N; k++) {
		if (k)
			*p++ = ' ';
		p = put_u64(p, x[k]);
	}
	*p = '\0';
	return (size_t)(p - buf);
}

/* One delta syncmaps queued: "i ts1 ts2 c' dc mark" (seq: its order). */
struct lpush {
	uint32_t dest, client, seq;
	uint64_t ts1, ts2, c, dc;
	uint32_t mark;
};

static int parse_push(const char *v, size_t len, struct lpush *p)
{
	const char *sp = memchr(v, ' ', len);
	char a[INET_ADDRSTRLEN];
	uint64_t x[5];
	size_t n;

	if (!sp)
		return -1;
	n = (size_t)(sp - v);
	if (!n || n >= sizeof(a))
		return -1;
	memcpy(a, v, n);
	a[n] = '\0';
	if (inet_pton(AF_INET, a, &p->client) != 1)
		return -1;
	if (parse_u53s(sp + 1, len - n - 1, x, 5) || x[0] > x[1] || x[4] > 1)
		return -1;
	p->ts1 = x[0];
	p->ts2 = x[1];
	p->c = x[2];
	p->dc = x[3];
	p->mark = (uint32_t)x[4];
	return 0;
}

/* The line "i ts1 ts2 c' dc mark\n" of x at p (at most 112 bytes); the end. */
static char *put_push(char *p, const struct lpush *x)
{
	char cs[INET_ADDRSTRLEN];
	const uint64_t v[4] = { x->ts1, x->ts2, x->c, x->dc };
	int k;

	p += strlen(strcpy(p, ip4(cs, x->client)));
	for (k = 0; k < 4; k++) {
		*p++ = ' ';
		p = put_u64(p, v[k]);
	}
	*p++ = ' ';
	*p++ = x->mark ? '1' : '0';
	*p++ = '\n';
	return p;
}

/*
 * A queued delta onto the local record (what the paper's sync_maps_and_ldb
 * writes into L_DB): a window that restarted (mark 1), or a record new here,
 * replaces the local one (gc = c' - dc); otherwise dc is added and ts2 moves
 * forward.
 */
static void apply_push(struct lstate *s, int *found, const struct lpush *p)
{
	if (p->mark || !*found) {
		*s = (struct lstate){ p->ts1, p->ts2, p->c > p->dc ? p->c - p->dc : 0, p->dc, p->mark, 0, 0 };
		*found = 1;
	} else {
		s->dc += p->dc;
		if (p->ts2 > s->ts2)
			s->ts2 = p->ts2;
	}
}

/* "l:{D}:i" into buf (>= 64) from the dotted strings; its length */
static size_t rec_name(char *buf, const char *ds, const char *cs)
{
	size_t a = strlen(ds), b = strlen(cs);

	memcpy(buf, "l:{", 3);
	memcpy(buf + 3, ds, a);
	memcpy(buf + 3 + a, "}:", 2);
	memcpy(buf + 5 + a, cs, b + 1);
	return 5 + a + b;
}

/* The destination of a hash name "P:{D}" (P one character); 0 or -1. */
static int hash_dest(const char *k, uint32_t *dest)
{
	char d[INET_ADDRSTRLEN];
	size_t n = strlen(k);

	if (n < 5 || k[1] != ':' || k[2] != '{' || k[n - 1] != '}' || n - 4 >= sizeof(d))
		return -1;
	memcpy(d, k + 3, n - 4);
	d[n - 4] = '\0';
	return inet_pton(AF_INET, d, dest) == 1 ? 0 : -1;
}

/* (destination, client) pairs, network order, sorted by destination. */
struct pair {
	uint32_t dest, client;
};

struct plist {
	struct pair *p;
	size_t n, cap;
};

static void pl_add(struct plist *l, uint32_t dest, uint32_t client)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 1024;
		void *p = realloc(l->p, cap * sizeof(*l->p));

		if (!p)
			return; /* out of memory: the record waits for the next full pass */
		l->p = p;
		l->cap = cap;
	}
	l->p[l->n++] = (struct pair){ dest, client };
}

static int pair_cmp(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->dest != y->dest)
		return x->dest < y->dest ? -1 : 1;
	return x->client < y->client ? -1 : x->client > y->client;
}

static void pl_sort_unique(struct plist *l)
{
	size_t i, j = 0;

	if (!l->n)
		return;
	qsort(l->p, l->n, sizeof(l->p[0]), pair_cmp);
	for (i = 1; i < l->n; i++)
		if (pair_cmp(&l->p[i], &l->p[j]))
			l->p[++j] = l->p[i];
	l->n = j + 1;
}

/* The members of a reply array into l: record names "P:{D}:i" (prefix P),
 * or with prefix 0 destinations "D" (client 0); others are skipped. */
static void pl_add_reply(struct plist *l, redisReply **e, size_t n, char prefix)
{
	uint32_t cl = 0, de;
	size_t i;

	for (i = 0; i < n; i++) {
		if (e[i]->type != REDIS_REPLY_STRING)
			continue;
		if (prefix ? !xpro_parse_key(e[i]->str, prefix, &cl, &de) : inet_pton(AF_INET, e[i]->str, &de) == 1)
			pl_add(l, de, cl);
	}
}

/* ---- shared ------------------------------------------------------------ */

static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec * 1e3 + (double)ru.ru_utime.tv_usec / 1e3 +
	       (double)ru.ru_stime.tv_sec * 1e3 + (double)ru.ru_stime.tv_usec / 1e3;
}

static void sleep_until(uint64_t t_ns)
{
	uint64_t now = xredis_mono_ns();
	struct timespec ts;

	if (t_ns <= now)
		return;
	ts.tv_sec = (time_t)((t_ns - now) / 1000000000ULL);
	ts.tv_nsec = (long)((t_ns - now) % 1000000000ULL);
	nanosleep(&ts, NULL);
}

/* Write the daemon's state (JSON) atomically: <state_dir>/<name>.json. */
static void write_status(const struct xpro_proxy *px, const char *name, const char *json)
{
	char path[700], tmp[720];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.json", px->state_dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fputs(json, f);
	fputc('\n', f);
	if (fclose(f) == 0)
		rename(tmp, path);
}

static int reload_config(struct xpro_config *c, const struct xpro_sync_opts *o);

/* After a daemon's period: 1 when --periods or --duration says stop,
 * else *next moves one period on (never into the past: an overrun starts
 * no burst of catch-up periods). */
static int period_end(const struct xpro_sync_opts *o, uint64_t periods, uint64_t t0, uint32_t period_ms,
		      uint64_t *next)
{
	if (o->periods > 0 && (long)periods >= o->periods)
		return 1;
	if (o->duration > 0 && (double)(xredis_mono_ns() - t0) / 1e9 >= o->duration)
		return 1;
	*next += (uint64_t)period_ms * 1000000ULL;
	if (*next < xredis_mono_ns())
		*next = xredis_mono_ns();
	return 0;
}

/* After SIGHUP: reread the config and say so. 1 when it changed (the caller
 * reconnects with the new addresses and credentials), 0 otherwise. */
static int sighup(struct xpro_config *c, const struct xpro_sync_opts *o, const char *who)
{
	if (!*o->reload)
		return 0;
	*o->reload = 0;
	if (reload_config(c, o)) {
		pr_warn("%s: SIGHUP: config has errors; keeping the previous one\n", who);
		return 0;
	}
	pr_warn("%s: SIGHUP: config reread\n", who);
	return 1;
}

static int reload_config(struct xpro_config *c, const struct xpro_sync_opts *o)
{
	struct xpro_config n;
	int nerr = 0, i;

	xpro_config_defaults(&n);
	if (o->conf_path && xpro_config_load(&n, o->conf_path, &nerr))
		return -EINVAL;
	for (i = 0; i < o->nsets; i++)
		if (xpro_config_set(&n, o->sets[i], "--set"))
			return -EINVAL;
	if (xpro_config_validate(&n))
		return -EINVAL;
	*c = n;
	return 0;
}

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

/* Load the named scripts into the server behind r; -EIO on failure. */
static int load_scripts(struct xredis *r, const char *const *src, char (*sha)[41], int n)
{
	redisContext *c = xredis_get(r);
	int i;

	if (!c)
		return -EIO;
	for (i = 0; i < n; i++)
		if (xredis_script_load(c, src[i], sha[i])) {
			xredis_fail(r, "SCRIPT LOAD failed");
			return -EIO;
		}
	return 0;
}

static uint64_t ttl_ms(const struct xpro_config *c)
{
	return 2 * (c->params.tt1_ns / 1000000ULL) + 10ULL * c->sync_period_ms;
}

/* ---- syncmaps ------------------------------------------------------------ */

struct maps_stats {
	uint64_t pushed, taken, stale, applied, created, skipped_bad, redis_errors;
};

/* An argument vector for redisCommandArgv (HMGET / HSET of one batch). */
struct av {
	const char *v[4 + BATCH * 9];
	size_t l[4 + BATCH * 9];
	char buf[4 + BATCH * 9][24];
	int n;
};

static void av_str(struct av *a, const char *s)
{
	a->v[a->n] = s;
	a->l[a->n] = strlen(s);
	a->n++;
}

static void av_u64(struct av *a, uint64_t x)
{
	snprintf(a->buf[a->n], sizeof(a->buf[0]), "%" PRIu64, x);
	av_str(a, a->buf[a->n]);
}

/*
 * redisAppendCommandArgv without its printf: the RESP of argv (argc
 * arguments) built in one reusable buffer and appended as it is. The big
 * commands of the sync (HMGET and HSET of a batch) spent most of their
 * time in hiredis' formatting. -ENOMEM or -EIO (as hiredis).
 */
static int append_argv(redisContext *c, int argc, const char **v, const size_t *l)
{
	static char *buf;
	static size_t cap;
	size_t need = 32, n = 0;
	char *p;
	int i;

	for (i = 0; i < argc; i++)
		need += l[i] + 32;
	if (need > cap) {
		char *nb = realloc(buf, need);

		if (!nb)
			return -ENOMEM;
		buf = nb;
		cap = need;
	}
	p = buf;
	*p++ = '*';
	p = put_u64(p, (uint64_t)argc);
	*p++ = '\r';
	*p++ = '\n';
	for (i = 0; i < argc; i++) {
		*p++ = '$';
		p = put_u64(p, l[i]);
		*p++ = '\r';
		*p++ = '\n';
		memcpy(p, v[i], l[i]);
		p += l[i];
		*p++ = '\r';
		*p++ = '\n';
	}
	n = (size_t)(p - buf);
	return redisAppendFormattedCommand(c, buf, n) == REDIS_OK ? 0 : -EIO;
}

/* A record of the period's dump with a delta to hand over. */
struct qrec {
	struct xpro_key key;
	uint64_t ts1, ts2, c, dc; /* ns */
	uint32_t mark;
};

static int qrec_cmp(const void *a, const void *b)
{
	const struct qrec *x = a, *y = b;

	return x->key.dest < y->key.dest ? -1 : x->key.dest > y->key.dest;
}

/*
 * Queue n records (sorted by destination) in one transaction: per
 * destination one RPUSH of its lines onto l:{D}:q, and D into l:q. Only
 * after Redis accepted it does the take program subtract each dc from its
 * BPF record (an absent Redis leaves the deltas in the map).
 */
static int push_flush(struct xredis *lr, struct xpro_bpf *s, const struct qrec *q, size_t n,
		      const struct xpro_config *cfg, struct maps_stats *st)
{
	redisContext *c = lr->c;
	redisReply *rep, *ex = NULL;
	char *buf = malloc(n * 128 + 1), ds[INET_ADDRSTRLEN], key[48];
	size_t i = 0, j, k, g, ncmd = 0;
	int err = 0;

	if (!buf)
		return -ENOMEM;
	redisAppendCommand(c, "MULTI");
	ncmd++;
	while (i < n) {
		char *p = buf;

		for (j = i; j < n && q[j].key.dest == q[i].key.dest; j++) {
			struct lpush x = { .client = q[j].key.client, .ts1 = q[j].ts1 / NS_PER_US,
					   .ts2 = q[j].ts2 / NS_PER_US, .c = q[j].c, .dc = q[j].dc,
					   .mark = q[j].mark };

			p = put_push(p, &x);
		}
		inet_ntop(AF_INET, &q[i].key.dest, ds, sizeof(ds));
		snprintf(key, sizeof(key), "l:{%s}:q", ds);
		redisAppendCommand(c, "RPUSH %s %b", key, buf, (size_t)(p - buf));
		redisAppendCommand(c, "PEXPIRE %s %" PRIu64, key, ttl_ms(cfg));
		redisAppendCommand(c, "SADD l:q %s", ds);
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
			xredis_fail(lr, c->errstr);
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
		if (st->redis_errors++ < 5)
			pr_warn("syncmaps: local Redis refused a push: %s\n",
				ex->type == REDIS_REPLY_ERROR ? ex->str : "unexpected reply");
		freeReplyObject(ex);
		return -EPROTO;
	}
	for (i = 0, g = 0; i < n; i = j, g++) {
		int good = ex->element[3 * g]->type == REDIS_REPLY_INTEGER &&
			   ex->element[3 * g + 2]->type == REDIS_REPLY_INTEGER;

		for (j = i; j < n && q[j].key.dest == q[i].key.dest; j++)
			;
		if (!good) {
			const redisReply *e = ex->element[3 * g]->type == REDIS_REPLY_ERROR ? ex->element[3 * g]
											   : ex->element[3 * g + 2];

			err = -EPROTO;
			if (st->redis_errors++ < 5)
				pr_warn("syncmaps: local Redis refused the push of l:{%s}:q: %s\n",
					ip4(ds, q[i].key.dest), e->type == REDIS_REPLY_ERROR ? e->str : "unexpected reply");
			continue;
		}
		for (k = i; k < j; k++) {
			struct xpro_sync_take t = { .key = q[k].key, .ts1_seen = q[k].ts1,
						    .dc_seen = q[k].dc, .mark_seen = q[k].mark };

			st->pushed++;
			if (!run_syscall(bpf_program__fd(s->progs.xpro_sync_take), &t, sizeof(t)) && t.ret == 0)
				st->taken++;
			else
				st->stale++;
		}
	}
	freeReplyObject(ex);
	return err;
}

/* Queue the records of the period's dump (rk, rv) whose dc or mark changed. */
static int maps_push(struct xpro_bpf *s, struct xredis *lr, const struct xpro_key *rk,
		     const struct xpro_record *rv, size_t nrec, const struct xpro_config *cfg,
		     struct maps_stats *st)
{
	struct qrec *q;
	size_t i, n = 0;
	int err = 0;

	q = malloc((nrec ? nrec : 1) * sizeof(*q));
	if (!q)
		return -ENOMEM;
	for (i = 0; i < nrec; i++) {
		const struct xpro_record *v = &rv[i];

		if (!v->dc && !v->mark)
			continue;
		q[n++] = (struct qrec){ .key = rk[i], .ts1 = v->ts1_l, .ts2 = v->ts2_l, .c = v->c_l,
					.dc = v->dc, .mark = v->mark ? 1 : 0 };
	}
	qsort(q, n, sizeof(*q), qrec_cmp);
	for (i = 0; !err && i < n; i += 8192)
		err = push_flush(lr, s, q + i, n - i < 8192 ? n - i : 8192, cfg, st);
	free(q);
	return err;
}

/* Apply one local record (value v of l:{D} field i) to the BPF map. */
static void apply_one(struct xpro_proxy *px, struct xpro_bpf *s, uint32_t client, uint32_t dest,
		      const redisReply *v, const struct xpro_config *cfg, uint64_t now,
		      struct maps_stats *st)
{
	struct xpro_sync_apply a = { 0 };
	struct lstate ls;
	char name[64], ds[INET_ADDRSTRLEN], cs[INET_ADDRSTRLEN];

	if (v->type == REDIS_REPLY_NIL)
		return; /* expired meanwhile */
	if (v->type != REDIS_REPLY_STRING || parse_lstate(v->str, v->len, &ls)) {
		if (st->skipped_bad++ < 5) {
			inet_ntop(AF_INET, &dest, ds, sizeof(ds));
			inet_ntop(AF_INET, &client, cs, sizeof(cs));
			rec_name(name, ds, cs);
			pr_warn("syncmaps: local record %s is not 7 non-negative integers; skipped\n", name);
		}
		return;
	}
	if (ls.ts2 > (now / NS_PER_US) + 3600ULL * 1000000ULL) {
		if (st->skipped_bad++ < 5) {
			inet_ntop(AF_INET, &dest, ds, sizeof(ds));
			inet_ntop(AF_INET, &client, cs, sizeof(cs));
			rec_name(name, ds, cs);
			pr_warn("syncmaps: local record %s: absurd window (ts1 %" PRIu64 ", ts2 %" PRIu64 " us); skipped\n",
				name, ls.ts1, ls.ts2);
		}
		return;
	}
	a.key.client = client;
	a.key.dest = dest;
	a.ts1 = ls.ts1 * NS_PER_US;
	a.ts2 = ls.ts2 * NS_PER_US;
	a.base = ls.gc + ls.dc;
	a.ts1_m = ls.mts1 * NS_PER_US;
	a.ts2_m = ls.mts2 * NS_PER_US;
	/* a record idle for 7/8 of TT1 is left alone: the next packet may
	 * reset it, and the write-back must never race a reset */
	a.idle_ns = cfg->params.tt1_ns - cfg->params.tt1_ns / 8;
	if (run_syscall(bpf_program__fd(s->progs.xpro_sync_apply), &a, sizeof(a)))
		return;
	if (a.ret == 0) {
		st->applied++;
	} else if (a.ret == -ENOENT && (int64_t)(now - a.ts2) <= (int64_t)a.idle_ns) {
		/* learned from the master: create it, unless a packet just did */
		struct xpro_record r = { .ts1_l = a.ts1, .ts2_l = a.ts2, .c_l = a.base,
					 .c_m = a.base, .ts1_m = a.ts1_m, .ts2_m = a.ts2_m };

		if (!bpf_map_update_elem(px->fd[M_RECORDS], &a.key, &r, BPF_NOEXIST))
			st->created++;
	}
}

/* Write back the records of l (sorted): one HMGET l:{D} per destination
 * and BATCH clients, all pipelined. */
static int apply_pairs(struct xpro_proxy *px, struct xpro_bpf *s, struct xredis *lr,
		       const struct plist *l, const struct xpro_config *cfg, uint64_t now,
		       struct maps_stats *st)
{
	static struct av a;
	static char cs[BATCH][INET_ADDRSTRLEN];
	redisContext *c = lr->c;
	redisReply *rep;
	char key[48], ds[INET_ADDRSTRLEN];
	size_t i = 0, j, k, ncmd = 0, at;

	/* all commands first, then the replies in the same order */
	while (i < l->n) {
		for (j = i; j < l->n && j - i < BATCH && l->p[j].dest == l->p[i].dest; j++)
			;
		inet_ntop(AF_INET, &l->p[i].dest, ds, sizeof(ds));
		snprintf(key, sizeof(key), "l:{%s}", ds);
		a.n = 0;
		av_str(&a, "HMGET");
		av_str(&a, key);
		for (k = i; k < j; k++) {
			ip4(cs[k - i], l->p[k].client);
			av_str(&a, cs[k - i]);
		}
		append_argv(c, a.n, a.v, a.l);
		ncmd++;
		i = j;
	}
	for (i = 0, at = 0; i < ncmd; i++) {
		if (redisGetReply(c, (void **)&rep) != REDIS_OK || !rep) {
			xredis_fail(lr, c->errstr);
			return -EIO;
		}
		for (j = at; j < l->n && j - at < BATCH && l->p[j].dest == l->p[at].dest; j++)
			;
		if (rep->type == REDIS_REPLY_ARRAY && rep->elements == j - at) {
			for (k = at; k < j; k++)
				apply_one(px, s, l->p[k].client, l->p[k].dest, rep->element[k - at], cfg, now, st);
		} else {
			st->skipped_bad += j - at;
		}
		freeReplyObject(rep);
		at = j;
	}
	return 0;
}

/* "D i1 i2 ..." entries of l:u into l */
static void pl_add_upd(struct plist *l, const redisReply *e)
{
	char a[INET_ADDRSTRLEN];
	uint32_t dest = 0, client;
	const char *p, *end, *sp;
	int first = 1;

	if (e->type != REDIS_REPLY_STRING)
		return;
	for (p = e->str, end = e->str + e->len; p < end; p = sp + 1) {
		size_t n;

		sp = memchr(p, ' ', (size_t)(end - p));
		if (!sp)
			sp = end;
		n = (size_t)(sp - p);
		if (!n || n >= sizeof(a))
			return;
		memcpy(a, p, n);
		a[n] = '\0';
		if (inet_pton(AF_INET, a, first ? &dest : &client) != 1)
			return;
		if (!first)
			pl_add(l, dest, client);
		first = 0;
	}
}

/* Write back what syncdb merged: the list l:u, taken whole (or, full
 * scan, every l:{D}). */
static int maps_apply(struct xpro_proxy *px, struct xpro_bpf *s, struct xredis *lr,
		      const struct xpro_config *cfg, int full, struct maps_stats *st)
{
	redisContext *c = lr->c;
	uint64_t now = xpro_now_tai();
	struct plist l = { 0 };
	redisReply *rep, *h;
	char cursor[32] = "0";
	uint32_t dest, client;
	size_t i, j;
	int err = 0;

	if (!full) {
		rep = NULL;
		redisAppendCommand(c, "MULTI");
		redisAppendCommand(c, "LRANGE l:u 0 -1");
		redisAppendCommand(c, "DEL l:u");
		redisAppendCommand(c, "EXEC");
		for (i = 0; i < 4; i++) {
			if (rep)
				freeReplyObject(rep);
			if (redisGetReply(c, (void **)&rep) != REDIS_OK || !rep) {
				xredis_fail(lr, c->errstr);
				return -EIO;
			}
		}
		if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 2 &&
		    rep->element[0]->type == REDIS_REPLY_ARRAY)
			for (i = 0; i < rep->element[0]->elements; i++)
				pl_add_upd(&l, rep->element[0]->element[i]);
		freeReplyObject(rep);
		pl_sort_unique(&l);
		err = apply_pairs(px, s, lr, &l, cfg, now, st);
		free(l.p);
		return err;
	}
	do {
		rep = redisCommand(c, "SCAN %s MATCH l:{*} COUNT 100", cursor);
		if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
			if (rep)
				freeReplyObject(rep);
			xredis_fail(lr, c->errstr);
			return -EIO;
		}
		snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
		for (i = 0; i < rep->element[1]->elements; i++)
			redisAppendCommand(c, "HGETALL %s", rep->element[1]->element[i]->str);
		for (i = 0; i < rep->element[1]->elements; i++) {
			if (redisGetReply(c, (void **)&h) != REDIS_OK || !h) {
				freeReplyObject(rep);
				xredis_fail(lr, c->errstr);
				return -EIO;
			}
			if (!hash_dest(rep->element[1]->element[i]->str, &dest) && h->type == REDIS_REPLY_ARRAY)
				for (j = 0; j + 1 < h->elements; j += 2)
					if (h->element[j]->type == REDIS_REPLY_STRING &&
					    inet_pton(AF_INET, h->element[j]->str, &client) == 1)
						apply_one(px, s, client, dest, h->element[j + 1], cfg, now, st);
			freeReplyObject(h);
		}
		freeReplyObject(rep);
	} while (strcmp(cursor, "0"));
	rep = redisCommand(c, "DEL l:u");
	if (rep)
		freeReplyObject(rep);
	return 0;
}

/* A channel whose message is only a wake-up (l:upd, l:kick). */
static void on_wakeup(const char *msg, size_t len, void *arg)
{
	(void)msg;
	(void)len;
	(void)arg;
}

int xpro_syncmaps(struct xpro_config *cfg, const struct xpro_sync_opts *o)
{
	struct xpro_proxy px;
	struct xpro_bpf *s = NULL;
	struct xredis lr;
	struct maps_stats st = { 0 };
	struct xpro_recompute_stats rst;
	struct xpro_agg_snap *snap = NULL;
	struct xpro_key *rk = NULL;
	struct xpro_record *rv = NULL;
	size_t nrec = 0;
	uint64_t counters[XPRO_C__MAX], rx_prev = 0, t_prev = 0, next, t0 = xredis_mono_ns();
	uint64_t last_ok_ns = 0, periods = 0, w = 0, events = 0;
	struct xsub usub;
	char json[1024];
	double cpu0, cpu_total = 0;
	int err;

	err = xpro_proxy_init(&px, cfg, o->ifname);
	err = err ?: xpro_proxy_open(&px);
	if (err)
		return err;
	if (xredis_init(&lr, "local", cfg->redis_local, cfg->redis_user, cfg->redis_password)) {
		pr_warn("syncmaps: redis_local '%s' is not ADDR:PORT\n", cfg->redis_local);
		xpro_proxy_close(&px);
		return -EINVAL;
	}
	xsub_init(&usub, "local (write-back)", cfg->redis_local, cfg->redis_user, cfg->redis_password, "l:upd");
	s = load_progs(&px);
	if (!s) {
		xpro_proxy_close(&px);
		return -EINVAL;
	}
	pr_info("syncmaps %s: local Redis %s, period %u ms\n", px.ifname, cfg->redis_local, cfg->sync_period_ms);
	next = xredis_mono_ns();
	while (!*o->stop) {
		uint64_t tstart;
		int ok = 0, ufd = -1;
		int64_t wait_ms;

		/* until the period's end, write back what syncdb merged as soon
		 * as it says so (l:upd), without waiting for the period */
		if (!o->full_scan)
			ufd = xsub_fd(&usub);
		for (;;) {
			struct pollfd pf = { .fd = ufd, .events = POLLIN };

			wait_ms = ((int64_t)(next - xredis_mono_ns())) / 1000000;
			if (ufd < 0 || wait_ms <= 0 || *o->stop)
				break;
			if (poll(&pf, 1, (int)wait_ms) <= 0)
				break;
			if (xsub_read(&usub, on_wakeup, NULL))
				break;
			if (lr.c) {
				cpu0 = cpu_ms();
				if (!maps_apply(&px, s, &lr, cfg, 0, &st))
					events++;
				cpu_total += cpu_ms() - cpu0;
			} else {
				break;
			}
		}
		sleep_until(next);
		if (*o->stop)
			break;
		tstart = xredis_mono_ns();
		cpu0 = cpu_ms();
		if (sighup(cfg, o, "syncmaps")) {
			xredis_reconfig(&lr, cfg->redis_local, cfg->redis_user, cfg->redis_password);
			xredis_reconfig(&usub.r, cfg->redis_local, cfg->redis_user, cfg->redis_password);
		}
		/* one dump of the records per period, for the push and the
		 * recompute; the aggregates' deltas are read before it */
		snap = xpro_recompute_begin(px.fd[M_AGGS]);
		if (xpro_records_dump(px.fd[M_RECORDS], &rk, &rv, &nrec)) {
			nrec = 0;
			xpro_recompute_abort(snap);
			snap = NULL;
		}
		if (xredis_get(&lr)) {
			uint64_t pushed0 = st.pushed;

			if (!maps_push(s, &lr, rk, rv, nrec, cfg, &st) &&
			    lr.c && !maps_apply(&px, s, &lr, cfg, o->full_scan, &st))
				ok = 1;
			if (ok && st.pushed != pushed0 && !o->full_scan) {
				/* wake syncdb: deltas to merge */
				redisReply *rep = redisCommand(lr.c, "PUBLISH l:kick 1");

				if (rep)
					freeReplyObject(rep);
			}
		}
		/* the recompute runs also while Redis is away */
		if (snap)
			xpro_recompute_finish(snap, bpf_program__fd(s->progs.xpro_fold_agg), px.fd[M_AGGS],
					      rk, rv, nrec, cfg->params.tt1_ns, cfg->agg_window_ns,
					      xpro_now_tai(), &rst);
		snap = NULL;
		free(rk);
		free(rv);
		rk = NULL;
		rv = NULL;
		if (!xpro_read_counters(px.fd[M_COUNTERS], counters)) {
			uint64_t t = xredis_mono_ns();

			if (t_prev && t > t_prev)
				w = (counters[XPRO_C_RX] - counters[XPRO_C_NOT_TUNNEL] - rx_prev) * 1000000000ULL /
				    (t - t_prev);
			/* W: packets/s the filter handled (not what it passed to the
			 * kernel untouched: ARP, frames flooded by a bridge) */
			rx_prev = counters[XPRO_C_RX] - counters[XPRO_C_NOT_TUNNEL];
			t_prev = t;
		}
		if (lr.c) {
			redisReply *rep = redisCommand(lr.c, "SET l:w %" PRIu64 " PX %u", w,
						       3 * cfg->sync_period_ms + 1000);
			if (rep)
				freeReplyObject(rep);
			else
				xredis_fail(&lr, lr.c->errstr);
		}
		periods++;
		cpu_total += cpu_ms() - cpu0;
		if (ok)
			last_ok_ns = xpro_now_tai();
		snprintf(json, sizeof(json),
			 "{\"daemon\":\"syncmaps\",\"pid\":%d,\"ts_ns\":%" PRIu64 ",\"last_ok_ns\":%" PRIu64
			 ",\"period_ms\":%u,\"periods\":%" PRIu64 ",\"redis\":\"%s\",\"w\":%" PRIu64
			 ",\"pushed\":%" PRIu64 ",\"taken\":%" PRIu64 ",\"stale\":%" PRIu64 ",\"applied\":%" PRIu64
			 ",\"created\":%" PRIu64 ",\"rejected\":%" PRIu64 ",\"events\":%" PRIu64 ",\"period_wall_ms\":%.3f"
			 ",\"cpu_ms_per_period\":%.3f}",
			 (int)getpid(), xpro_now_tai(), last_ok_ns, cfg->sync_period_ms, periods,
			 lr.c ? "up" : "down", w, st.pushed, st.taken, st.stale, st.applied, st.created,
			 st.skipped_bad, events, (double)(xredis_mono_ns() - tstart) / 1e6, cpu_total / (double)periods);
		write_status(&px, "syncmaps", json);
		if (period_end(o, periods, t0, cfg->sync_period_ms, &next))
			break;
	}
	pr_info("syncmaps %s: stopped after %" PRIu64 " periods\n", px.ifname, periods);
	xredis_close(&lr);
	xredis_close(&usub.r);
	xpro_bpf__destroy(s);
	xpro_proxy_close(&px);
	return 0;
}

/* ---- syncdb ---------------------------------------------------------------- */

struct db_stats {
	uint64_t merged, pulled, rejected, branches[7], feed_keys, events, full_passes;
	uint64_t conflicts, lua_batches, queued, swept;
};

struct db_ctx {
	struct xpro_config *cfg;
	struct xredis lr, mr;
	struct xsub msub;         /* master: xpro:chg (fast exchange) */
	struct xsub lsub;         /* local: l:kick (syncmaps queued something) */
	char msha[41];
	int have_m;
	const char *id;
	struct xpro_merge_params mp;
	struct db_stats st;
	struct plist feed;        /* records other proxies changed, waiting */
	size_t lpending;          /* local replies not read yet (drain_local) */
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

/* A message on xpro:chg: "origin\nx:{D}:i\n...": the records others changed. */
static void on_feed(const char *msg, size_t len, void *arg)
{
	struct db_ctx *d = arg;
	const char *p = msg, *end = msg + len, *nl;
	char key[64];
	uint32_t cl, de;
	size_t n;

	nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl)
		return;
	if ((size_t)(nl - p) == strlen(d->id) && !memcmp(p, d->id, (size_t)(nl - p)))
		return; /* our own merges */
	for (p = nl + 1; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		n = (size_t)(nl - p);
		if (n < sizeof(key)) {
			memcpy(key, p, n);
			key[n] = '\0';
			if (!xpro_parse_key(key, 'x', &cl, &de)) {
				pl_add(&d->feed, de, cl);
				d->st.feed_keys++;
			}
		}
	}
}

/* One record of a batch: the local record after the queued deltas, and
 * the merge's result. */
struct taken {
	struct xpro_lrec l;
	struct lstate s;        /* the local record as it stands in L_DB */
	int found;              /* in L_DB (or created by a queued delta) */
	int pushed;             /* a queued delta was applied: L_DB must be written */
	int was_decay;          /* in l:decay as L_DB held it (ts2 - mts1 > TT4) */
};

/* The result of one record's merge on the master. */
struct mres {
	int rc;                 /* 0; -EPROTO: refused (bad master value) */
	int branch;
	struct xpro_lrec l;
	struct xpro_mrec m;
	const char *why;
};

/* "ts1 ts2 c": three decimal integers <= 2^53, one space apart. */
static int parse_mval(const char *v, size_t len, struct xpro_mrec *m)
{
	uint64_t x[3];

	if (parse_u53s(v, len, x, 3))
		return -1;
	m->ts1 = x[0];
	m->ts2 = x[1];
	m->c = x[2];
	return 0;
}

/*
 * One destination's batch merged on the master with optimistic locking:
 * WATCH x:{D}, HMGET its fields, merge each record with xpro_merge() (the
 * C reference of Algorithm 1), then MULTI / HSET / PEXPIRE / PUBLISH / EXEC.
 * If another proxy wrote the hash in between, EXEC fails and nothing was
 * written: -EAGAIN (the caller retries, then falls back to the Lua script).
 * -EIO when the connection failed.
 */
/* WATCH x:{D} and HMGET its n fields, without waiting for the replies. */
static void master_send_read(struct db_ctx *d, const char *hash, char (*cs)[INET_ADDRSTRLEN], size_t n)
{
	static struct av a;
	size_t i;

	redisAppendCommand(d->mr.c, "WATCH %s", hash);
	a.n = 0;
	av_str(&a, "HMGET");
	av_str(&a, hash);
	for (i = 0; i < n; i++)
		av_str(&a, cs[i]);
	append_argv(d->mr.c, a.n, a.v, a.l);
}

/* Read and drop the replies of master_send_read (the local side failed). */
static void master_unread(struct db_ctx *d)
{
	redisReply *rep;
	int i;

	for (i = 0; i < 2 && d->mr.c; i++) {
		if (redisGetReply(d->mr.c, (void **)&rep) != REDIS_OK || !rep) {
			xredis_fail(&d->mr, d->mr.c->errstr);
			return;
		}
		freeReplyObject(rep);
	}
	rep = d->mr.c ? redisCommand(d->mr.c, "UNWATCH") : NULL;
	if (rep)
		freeReplyObject(rep);
}

static int master_watch_merge(struct db_ctx *d, const char *hash, char (*cs)[INET_ADDRSTRLEN],
			      const struct taken *t, size_t n, struct mres *res, int sent)
{
	static struct av a;
	static char msg[BATCH * 48 + 256], vals[BATCH][64];
	redisContext *mc = d->mr.c;
	redisReply *rep = NULL, *w = NULL;
	size_t i, mlen, nw = 0;
	int err = 0;

	if (!sent)
		master_send_read(d, hash, cs, n);
	if (redisGetReply(mc, (void **)&w) != REDIS_OK || !w ||
	    redisGetReply(mc, (void **)&rep) != REDIS_OK || !rep) {
		if (w)
			freeReplyObject(w);
		xredis_fail(&d->mr, mc->errstr);
		return -EIO;
	}
	freeReplyObject(w);
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != n) {
		freeReplyObject(rep);
		redisReply *u = redisCommand(mc, "UNWATCH");

		if (u)
			freeReplyObject(u);
		return -EPROTO;
	}
	mlen = (size_t)snprintf(msg, sizeof(msg), "%s", d->id);
	a.n = 0;
	av_str(&a, "HSET");
	av_str(&a, hash);
	for (i = 0; i < n; i++) {
		const redisReply *e = rep->element[i];
		int mfound = 0;

		memset(&res[i], 0, sizeof(res[i]));
		res[i].l = t[i].l;
		if (e->type == REDIS_REPLY_STRING) {
			if (parse_mval(e->str, e->len, &res[i].m)) {
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
		{
			struct xpro_mrec before = res[i].m;

			res[i].branch = xpro_merge(&res[i].l, t[i].found, &res[i].m, mfound, &d->mp);
			/* a merge that leaves the master as it was writes nothing
			 * and tells nobody: no echo between proxies */
			if (mfound && before.ts1 == res[i].m.ts1 && before.ts2 == res[i].m.ts2 &&
			    before.c == res[i].m.c)
				continue;
		}
		if (res[i].branch && res[i].branch != XPRO_MERGE_PULL) {
			char *p = vals[nw];

			p = put_u64(p, res[i].m.ts1);
			*p++ = ' ';
			p = put_u64(p, res[i].m.ts2);
			*p++ = ' ';
			p = put_u64(p, res[i].m.c);
			*p = '\0';
			av_str(&a, cs[i]);
			av_str(&a, vals[nw]);
			nw++;
			/* "\nx:{D}:i" (hash is at most 22, i at most 15 bytes) */
			msg[mlen++] = '\n';
			mlen += strlen(strcpy(msg + mlen, hash));
			msg[mlen++] = ':';
			mlen += strlen(strcpy(msg + mlen, cs[i]));
		}
	}
	freeReplyObject(rep);
	if (!nw) {
		rep = redisCommand(mc, "UNWATCH");
		if (!rep) {
			xredis_fail(&d->mr, mc->errstr);
			return -EIO;
		}
		freeReplyObject(rep);
		return 0;
	}
	redisAppendCommand(mc, "MULTI");
	append_argv(mc, a.n, a.v, a.l);
	redisAppendCommand(mc, "PEXPIRE %s %" PRIu64, hash, d->mp.ttl_ms);
	redisAppendCommand(mc, "PUBLISH xpro:chg %b", msg, mlen);
	redisAppendCommand(mc, "EXEC");
	for (i = 0; i < 5; i++) {
		if (redisGetReply(mc, (void **)&rep) != REDIS_OK || !rep) {
			xredis_fail(&d->mr, mc->errstr);
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

/* The same batch through the Lua script (xpro/master.c): when WATCH keeps
 * conflicting with other proxies' writes. */
static int master_lua_merge(struct db_ctx *d, char (*xk)[64], char (*cs)[INET_ADDRSTRLEN],
			    const struct taken *t, size_t n, struct mres *res)
{
	static struct av a;
	redisReply *mrep;
	size_t i;
	int err = 0;

	a.n = 0;
	av_str(&a, "EVALSHA");
	av_str(&a, d->msha);
	av_str(&a, "1");
	av_str(&a, xk[0]);
	av_u64(&a, d->mp.tt1_ns);
	av_u64(&a, d->mp.tt4_ns);
	av_u64(&a, d->mp.r);
	av_u64(&a, d->mp.ttl_ms);
	av_str(&a, d->id);
	for (i = 0; i < n; i++) {
		av_str(&a, cs[i]);
		av_u64(&a, t[i].l.ts1);
		av_u64(&a, t[i].l.ts2);
		av_u64(&a, t[i].l.c);
		av_u64(&a, t[i].l.dc);
		av_u64(&a, t[i].l.mark);
		av_u64(&a, (uint64_t)t[i].found);
		av_u64(&a, t[i].l.mts1);
	}
	mrep = redisCommandArgv(d->mr.c, a.n, a.v, a.l);
	if (!mrep) {
		xredis_fail(&d->mr, d->mr.c->errstr);
		return -EIO;
	}
	if (mrep->type != REDIS_REPLY_ARRAY || mrep->elements != n) {
		if (d->st.rejected++ < 5)
			pr_warn("syncdb: master refused a merge batch: %s\n",
				mrep->type == REDIS_REPLY_ERROR ? mrep->str : "unexpected reply");
		err = -EPROTO;
	} else {
		for (i = 0; i < n; i++) {
			memset(&res[i], 0, sizeof(res[i]));
			res[i].l = t[i].l;
			if (xpro_master_merge_parse(mrep->element[i], &res[i].l, &res[i].m, &res[i].branch,
						    &res[i].why))
				res[i].rc = -EPROTO;
		}
	}
	freeReplyObject(mrep);
	return err;
}

/*
 * Algorithm 1 for n clients (sorted) of destination D (dotted ds): read
 * their local records (HMGET l:{D}), apply the queued deltas pu[*pi..]
 * (sorted by client, then order), merge all on the master, and write the
 * local records back (one HSET): merged, pulled from the master, or, when
 * the master failed, with their deltas kept (and named in l:dirty).
 */
static int db_merge_chunk(struct db_ctx *d, const char *ds, const uint32_t *cl, size_t n,
			  const struct lpush *pu, size_t npu, size_t *pi, int *changed)
{
	static struct taken t[BATCH];
	static struct mres res[BATCH];
	static char cs[BATCH][INET_ADDRSTRLEN], xk[1][64], vals[BATCH][LSTATE_MAX];
	static char names[BATCH][64];
	static struct av a;
	static const char *set_v[BATCH + 2];
	static size_t set_l[BATCH + 2];
	static char ubuf[BATCH * INET_ADDRSTRLEN + INET_ADDRSTRLEN];
	const char *sets[3] = { "l:decay", "l:decay", "l:dirty" };
	const char *ops[3] = { "SADD", "SREM", "SADD" };
	enum { W_NONE, W_MERGED, W_KEPT }; /* what becomes of each record */
	static int which[BATCH];
	redisContext *lc = d->lr.c;
	redisReply *rep;
	char lk[48];
	size_t i, nw = 0, ncmd = 0;
	int err, s;

	snprintf(lk, sizeof(lk), "l:{%s}", ds);
	a.n = 0;
	av_str(&a, "HMGET");
	av_str(&a, lk);
	for (i = 0; i < n; i++) {
		ip4(cs[i], cl[i]);
		av_str(&a, cs[i]);
	}
	/* sent before the previous batch's write replies are read, and
	 * with the master's read of the same records: both servers work at
	 * once */
	append_argv(lc, a.n, a.v, a.l);
	snprintf(xk[0], sizeof(xk[0]), "x:{%s}", ds);
	master_send_read(d, xk[0], cs, n);
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
		master_unread(d);
		return err;
	}
	for (i = 0; i < n; i++) {
		const redisReply *e = rep->element[i];

		memset(&t[i], 0, sizeof(t[i]));
		if (e->type == REDIS_REPLY_STRING) {
			if (!parse_lstate(e->str, e->len, &t[i].s)) {
				t[i].found = 1;
				t[i].was_decay = (int64_t)(t[i].s.ts2 - t[i].s.mts1) > (int64_t)d->mp.tt4_ns;
			} else if (d->st.rejected++ < 5) {
				rec_name(names[0], ds, cs[i]);
				pr_warn("syncdb: local record %s is not 7 non-negative integers; taken as absent\n",
					names[0]);
			}
		}
		/* the queued deltas of this client, in order */
		while (*pi < npu && pu[*pi].client < cl[i])
			(*pi)++;
		for (; *pi < npu && pu[*pi].client == cl[i]; (*pi)++) {
			apply_push(&t[i].s, &t[i].found, &pu[*pi]);
			t[i].pushed = 1;
		}
		t[i].l = (struct xpro_lrec){ .ts1 = t[i].s.ts1, .ts2 = t[i].s.ts2, .c = t[i].s.gc + t[i].s.dc,
					     .dc = t[i].s.dc, .mark = (uint32_t)t[i].s.mark, .mts1 = t[i].s.mts1 };
	}
	freeReplyObject(rep);

	/* the merge on the master: WATCH/MULTI first (a few tries), the Lua
	 * script when other proxies keep writing the same hash */
	for (i = 0; i < 4; i++) {
		err = master_watch_merge(d, xk[0], cs, t, n, res, i == 0);
		if (err != -EAGAIN)
			break;
		d->st.conflicts++;
	}
	if (err == -EAGAIN) {
		d->st.lua_batches++;
		err = master_lua_merge(d, xk, cs, t, n, res);
	}
	if (err == -EPROTO && d->st.rejected++ < 5)
		pr_warn("syncdb: the master refused the batch of %s; its deltas stay in L_DB for the next round\n",
			xk[0]);

	/* the local records back */
	a.n = 0;
	av_str(&a, "HSET");
	av_str(&a, lk);
	for (i = 0; i < n; i++) {
		struct lstate ns;

		which[i] = W_NONE;
		if (err || res[i].rc) {
			if (!err && d->st.rejected++ < 5) {
				rec_name(names[0], ds, cs[i]);
				pr_warn("syncdb: master refused the merge of %s: %s\n", names[0],
					res[i].why ? res[i].why : "?");
			}
			/* keep the delta: merged next time, never lost */
			if (t[i].pushed) {
				ns = t[i].s;
				which[i] = W_KEPT;
				goto write;
			}
			if (t[i].found && (t[i].s.dc || t[i].s.mark))
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
		if (res[i].branch == XPRO_MERGE_PULL) {
			ns = (struct lstate){ res[i].l.ts1, res[i].l.ts2, res[i].l.c, 0, 0, res[i].l.ts1, res[i].l.ts2 };
			d->st.pulled++;
		} else {
			ns = (struct lstate){ res[i].l.ts1, res[i].l.ts2, res[i].l.c, 0, 0, res[i].m.ts1, res[i].m.ts2 };
		}
write:
		fmt_lstate(vals[nw], &ns);
		av_str(&a, cs[i]);
		av_str(&a, vals[nw]);
		nw++;
	}
	if (nw) {
		append_argv(lc, a.n, a.v, a.l);
		redisAppendCommand(lc, "PEXPIRE %s %" PRIu64, lk, ttl_ms(d->cfg));
		ncmd += 2;
	}
	/* the merged into l:u (one entry "D i1 i2 ..."); the names into
	 * l:decay (a window the next round may decay), out of it when it
	 * was in and no longer is, and into l:dirty (kept deltas) */
	{
		char *p = ubuf;
		size_t nu = 0;

		p += strlen(strcpy(p, ds));
		for (i = 0; i < n; i++)
			if (which[i] == W_MERGED) {
				*p++ = ' ';
				p += strlen(strcpy(p, cs[i]));
				nu++;
			}
		if (nu) {
			redisAppendCommand(lc, "RPUSH l:u %b", ubuf, (size_t)(p - ubuf));
			ncmd++;
		}
	}
	for (s = 0; s < 3; s++) {
		size_t m = 0;

		set_v[m] = ops[s];
		set_l[m++] = strlen(ops[s]);
		set_v[m] = sets[s];
		set_l[m++] = strlen(sets[s]);
		for (i = 0; i < n; i++) {
			int in;

			if (s < 2) {
				if (which[i] != W_MERGED || res[i].branch == XPRO_MERGE_PULL)
					continue;
				in = (int64_t)(res[i].l.ts2 - res[i].m.ts1) > (int64_t)d->mp.tt4_ns;
				if (s == 0 ? !in : (in || !t[i].was_decay))
					continue;
			} else if (which[i] != W_KEPT) {
				continue;
			}
			set_l[m] = rec_name(names[i], ds, cs[i]);
			set_v[m++] = names[i];
		}
		if (m > 2) {
			append_argv(lc, (int)m, set_v, set_l);
			ncmd++;
		}
	}
	/* the replies are read before the next local command (drain_local) */
	d->lpending += ncmd;
	return err == -EPROTO ? 0 : err;
}

static int push_cmp(const void *a, const void *b)
{
	const struct lpush *x = a, *y = b;

	if (x->dest != y->dest)
		return x->dest < y->dest ? -1 : 1;
	if (x->client != y->client)
		return x->client < y->client ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Take the queues of the destinations q (sorted) whole, all in one
 * transaction (MULTI, LRANGE and DEL each, EXEC), into *pu sorted by
 * destination, client and order.
 */
static int take_queues(struct db_ctx *d, const struct plist *q, struct lpush **pu, size_t *npu)
{
	redisContext *lc = d->lr.c;
	redisReply *rep = NULL, *e;
	char qk[48], ds[INET_ADDRSTRLEN];
	size_t i, k, cap = 0;
	int err = 0;

	*pu = NULL;
	*npu = 0;
	if (!q->n)
		return 0;
	redisAppendCommand(lc, "MULTI");
	for (i = 0; i < q->n; i++) {
		snprintf(qk, sizeof(qk), "l:{%s}:q", ip4(ds, q->p[i].dest));
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
	for (k = 0; k < q->n; k++) {
		e = rep->element[2 * k];
		if (e->type != REDIS_REPLY_ARRAY && d->st.rejected++ < 5)
			pr_warn("syncdb: l:{%s}:q is not a list of deltas (%s); dropped\n", ip4(ds, q->p[k].dest),
				e->type == REDIS_REPLY_ERROR ? e->str : "unexpected reply");
		for (i = 0; e->type == REDIS_REPLY_ARRAY && i < e->elements; i++) {
			const char *p, *end, *nl;

			if (e->element[i]->type != REDIS_REPLY_STRING)
				continue;
			p = e->element[i]->str;
			end = p + e->element[i]->len;
			for (; p < end; p = nl + 1) {
				struct lpush *x;

				nl = memchr(p, '\n', (size_t)(end - p));
				if (!nl)
					nl = end;
				if (nl == p)
					continue;
				if (*npu == cap) {
					size_t nc = cap ? 2 * cap : 4096;
					void *np = realloc(*pu, nc * sizeof(**pu));

					if (!np) {
						err = -ENOMEM;
						goto out;
					}
					*pu = np;
					cap = nc;
				}
				x = &(*pu)[*npu];
				if (parse_push(p, (size_t)(nl - p), x)) {
					if (d->st.rejected++ < 5)
						pr_warn("syncdb: l:{%s}:q: a queued delta is not \"i ts1 ts2 c dc mark\"; skipped\n",
							ip4(ds, q->p[k].dest));
					continue;
				}
				x->dest = q->p[k].dest;
				x->seq = (uint32_t)*npu;
				(*npu)++;
			}
		}
	}
	d->st.queued += *npu;
	qsort(*pu, *npu, sizeof(**pu), push_cmp);
out:
	freeReplyObject(rep);
	return err;
}

/* Queue deltas taken but not applied back (sorted by destination): the
 * next round applies them. */
static void requeue(struct db_ctx *d, const struct lpush *pu, size_t n)
{
	char *buf, ds[INET_ADDRSTRLEN], qk[48];
	redisReply *rep;
	size_t i = 0, j;

	if (!n || !d->lr.c || !(buf = malloc(n * 128 + 1)))
		return;
	while (i < n && d->lr.c) {
		char *p = buf;

		for (j = i; j < n && pu[j].dest == pu[i].dest; j++)
			p = put_push(p, &pu[j]);
		snprintf(qk, sizeof(qk), "l:{%s}:q", ip4(ds, pu[i].dest));
		/* in front: older than what syncmaps queued meanwhile */
		rep = redisCommand(d->lr.c, "LPUSH %s %b", qk, buf, (size_t)(p - buf));
		if (rep)
			freeReplyObject(rep);
		rep = d->lr.c ? redisCommand(d->lr.c, "SADD l:q %s", ds) : NULL;
		if (rep)
			freeReplyObject(rep);
		i = j;
	}
	free(buf);
}

/* One destination: its n records p[] and its npu queued deltas pu[]
 * (sorted by client, then order), in batches. */
static int db_merge_dest(struct db_ctx *d, uint32_t dest, const struct pair *p, size_t n,
			 const struct lpush *pu, size_t npu, int *changed)
{
	uint32_t *cl;
	char ds[INET_ADDRSTRLEN];
	size_t ncl = 0, i, j, pi = 0;
	int err = 0;

	ip4(ds, dest);
	cl = malloc((n + npu + 1) * sizeof(*cl));
	if (!cl)
		return -ENOMEM;
	/* both lists are sorted by client: merge them */
	for (i = 0, j = 0; i < n || j < npu;) {
		uint32_t c;

		if (j >= npu || (i < n && p[i].client <= pu[j].client))
			c = p[i++].client;
		else
			c = pu[j++].client;
		if (!ncl || cl[ncl - 1] != c)
			cl[ncl++] = c;
	}
	for (i = 0; !err && i < ncl; i += BATCH)
		err = db_merge_chunk(d, ds, cl + i, ncl - i < BATCH ? ncl - i : BATCH, pu, npu, &pi,
				     changed);
	if (err) {
		/* the failed batch kept its deltas in L_DB (l:dirty); the
		 * later ones go back to the queue */
		while (pi < npu && i < ncl && pu[pi].client < cl[i])
			pi++;
		if (drain_local(d) == 0)
			requeue(d, pu + pi, npu - pi);
	}
	free(cl);
	return err;
}

/* Every record of the hashes "P:{D}" matching pattern (l:{*} for L_DB,
 * x:{*} for M_DB), field i, into l. */
static int scan_hashes_into(struct xredis *r, const char *pattern, struct plist *l)
{
	char cursor[32] = "0";
	redisReply *rep, *f;
	uint32_t dest, client;
	size_t i, j;

	do {
		rep = redisCommand(r->c, "SCAN %s MATCH %s COUNT 100", cursor, pattern);
		if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
			if (rep)
				freeReplyObject(rep);
			xredis_fail(r, r->c ? r->c->errstr : NULL);
			return -EIO;
		}
		snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
		for (i = 0; i < rep->element[1]->elements; i++)
			redisAppendCommand(r->c, "HKEYS %s", rep->element[1]->element[i]->str);
		for (i = 0; i < rep->element[1]->elements; i++) {
			if (redisGetReply(r->c, (void **)&f) != REDIS_OK || !f) {
				freeReplyObject(rep);
				xredis_fail(r, r->c->errstr);
				return -EIO;
			}
			if (!hash_dest(rep->element[1]->element[i]->str, &dest))
				for (j = 0; f->type == REDIS_REPLY_ARRAY && j < f->elements; j++)
					if (f->element[j]->type == REDIS_REPLY_STRING &&
					    inet_pton(AF_INET, f->element[j]->str, &client) == 1)
						pl_add(l, dest, client);
			freeReplyObject(f);
		}
		freeReplyObject(rep);
	} while (strcmp(cursor, "0"));
	return 0;
}

/* SPOP a set whole (in steps) into l: its members as pl_add_reply takes
 * them (prefix 'l': record names; 0: destinations). */
static int spop_into(struct xredis *r, const char *set, char prefix, struct plist *l)
{
	redisReply *rep;

	for (;;) {
		rep = redisCommand(r->c, "SPOP %s 4096", set);
		if (!rep) {
			xredis_fail(r, NULL);
			return -EIO;
		}
		if (rep->type != REDIS_REPLY_ARRAY || !rep->elements) {
			freeReplyObject(rep);
			return 0;
		}
		pl_add_reply(l, rep->element, rep->elements, prefix);
		freeReplyObject(rep);
	}
}

/* Give back what a failed round popped: records to l:dirty, destinations
 * with a queue to l:q. */
static void give_back(struct xredis *r, const struct plist *l, size_t from, const struct plist *q, size_t qfrom)
{
	char name[64], ds[INET_ADDRSTRLEN], cs[INET_ADDRSTRLEN];
	redisReply *rep;
	size_t i;

	for (i = from; i < l->n && r->c; i++) {
		inet_ntop(AF_INET, &l->p[i].dest, ds, sizeof(ds));
		inet_ntop(AF_INET, &l->p[i].client, cs, sizeof(cs));
		rec_name(name, ds, cs);
		rep = redisCommand(r->c, "SADD l:dirty %s", name);
		if (rep)
			freeReplyObject(rep);
	}
	for (i = qfrom; i < q->n && r->c; i++) {
		inet_ntop(AF_INET, &q->p[i].dest, ds, sizeof(ds));
		rep = redisCommand(r->c, "SADD l:q %s", ds);
		if (rep)
			freeReplyObject(rep);
	}
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
	struct plist l = { 0 }, q = { 0 };
	struct lpush *pu = NULL;
	redisReply *rep;
	size_t i = 0, k = 0, j, pj = 0, npu = 0;
	int err;

	err = spop_into(&d->lr, "l:q", 0, &q);
	if (full) {
		d->st.full_passes++;
		err = err ?: scan_hashes_into(&d->lr, "l:{*}", &l);
		err = err ?: scan_hashes_into(&d->mr, "x:{*}", &l);
		if (!err) {
			rep = redisCommand(d->lr.c, "DEL l:dirty");
			if (rep)
				freeReplyObject(rep);
		}
	} else {
		err = err ?: spop_into(&d->lr, "l:dirty", 'l', &l);
		if (!err) {
			rep = redisCommand(d->lr.c, "SMEMBERS l:decay");
			if (rep && rep->type == REDIS_REPLY_ARRAY)
				pl_add_reply(&l, rep->element, rep->elements, 'l');
			if (rep)
				freeReplyObject(rep);
			else
				err = -EIO;
		}
	}
	for (j = 0; j < d->feed.n; j++)
		pl_add(&l, d->feed.p[j].dest, d->feed.p[j].client);
	d->feed.n = 0;
	pl_sort_unique(&l);
	pl_sort_unique(&q);
	if (!err) {
		err = take_queues(d, &q, &pu, &npu);
		k = err ? 0 : q.n; /* the queues are taken (or still there) */
	}
	/* destination by destination: the union of l's and the queues' */
	while (!err && (i < l.n || pj < npu)) {
		uint32_t dest;
		size_t n, m;

		if (pj < npu && (i >= l.n || pu[pj].dest <= l.p[i].dest))
			dest = pu[pj].dest;
		else
			dest = l.p[i].dest;
		for (n = 0; i + n < l.n && l.p[i + n].dest == dest; n++)
			;
		for (m = 0; pj + m < npu && pu[pj + m].dest == dest; m++)
			;
		err = db_merge_dest(d, dest, &l.p[i], n, pu + pj, m, changed);
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
		give_back(&d->lr, &l, i, &q, k); /* popped and not merged: next time */
	free(pu);
	free(l.p);
	free(q.p);
	return err;
}

/*
 * Drop the local records idle longer than the expiry (their hash l:{D}
 * expires as a whole only when all of D is idle), and values that are not
 * records. Every few seconds; O(records).
 */
static void db_sweep(struct db_ctx *d)
{
	char cursor[32] = "0";
	uint64_t now_us = xpro_now_tai() / NS_PER_US, ttl_us = ttl_ms(d->cfg) * 1000ULL;
	redisReply *rep, *h, *x;
	const char **v = NULL;
	size_t i, j, n, cap = 0, *l = NULL;

	do {
		rep = redisCommand(d->lr.c, "SCAN %s MATCH l:{*} COUNT 100", cursor);
		if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
			if (rep)
				freeReplyObject(rep);
			else
				xredis_fail(&d->lr, NULL);
			goto out;
		}
		snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
		for (i = 0; i < rep->element[1]->elements; i++) {
			const char *k = rep->element[1]->element[i]->str;

			h = redisCommand(d->lr.c, "HGETALL %s", k);
			if (!h) {
				freeReplyObject(rep);
				xredis_fail(&d->lr, NULL);
				goto out;
			}
			/* the hash's stale fields in one HDEL */
			n = 2;
			if (h->type == REDIS_REPLY_ARRAY && h->elements / 2 + 2 > cap) {
				cap = h->elements / 2 + 2;
				free(v);
				free(l);
				v = malloc(cap * sizeof(*v));
				l = malloc(cap * sizeof(*l));
				if (!v || !l) {
					cap = 0;
					freeReplyObject(h);
					break;
				}
			}
			for (j = 0; h->type == REDIS_REPLY_ARRAY && j + 1 < h->elements; j += 2) {
				struct lstate ls;
				const redisReply *e = h->element[j + 1];

				if (e->type == REDIS_REPLY_STRING && !parse_lstate(e->str, e->len, &ls) &&
				    (ls.dc || ls.mark || ls.ts2 + ttl_us >= now_us))
					continue;
				v[n] = h->element[j]->str;
				l[n++] = (size_t)h->element[j]->len;
			}
			if (n > 2) {
				v[0] = "HDEL";
				l[0] = 4;
				v[1] = k;
				l[1] = strlen(k);
				x = redisCommandArgv(d->lr.c, (int)n, v, l);
				if (x && x->type == REDIS_REPLY_INTEGER)
					d->st.swept += (uint64_t)x->integer;
				if (x)
					freeReplyObject(x);
			}
			freeReplyObject(h);
		}
		freeReplyObject(rep);
	} while (strcmp(cursor, "0") && d->lr.c);
out:
	free(v);
	free(l);
}

static void db_workload(struct db_ctx *d, const char *id, char *peers, size_t plen, uint64_t *w_out,
			uint64_t *last_alert)
{
	redisReply *rep, *ids;
	uint64_t w = 0;
	size_t i, off = 0;

	peers[0] = '\0';
	rep = redisCommand(d->lr.c, "GET l:w");
	if (rep && rep->type == REDIS_REPLY_STRING)
		xredis_u53(rep, &w);
	if (rep)
		freeReplyObject(rep);
	*w_out = w;
	rep = redisCommand(d->mr.c, "SET xw:%s %" PRIu64 " PX %u", id, w, 3 * d->cfg->sync_period_ms + 1000);
	if (rep)
		freeReplyObject(rep);
	rep = redisCommand(d->mr.c, "SADD xpro:proxies %s", id);
	if (rep)
		freeReplyObject(rep);
	if (w > d->cfg->t_w && xpro_now_tai() - *last_alert >= 1000000000ULL) {
		rep = redisCommand(d->mr.c, "PUBLISH xpro:alerts {\"type\":\"overload\",\"proxy\":\"%s\",\"w\":%" PRIu64
				   ",\"t_w\":%" PRIu64 ",\"ts_ns\":%" PRIu64 "}", id, w, d->cfg->t_w, xpro_now_tai());
		if (rep)
			freeReplyObject(rep);
		*last_alert = xpro_now_tai();
		pr_warn("syncdb %s: workload %" PRIu64 " packets/s above T_W %" PRIu64 ": alert published\n",
			id, w, d->cfg->t_w);
	}
	ids = redisCommand(d->mr.c, "SMEMBERS xpro:proxies");
	if (!ids || ids->type != REDIS_REPLY_ARRAY) {
		if (ids)
			freeReplyObject(ids);
		else
			xredis_fail(&d->mr, NULL);
		return;
	}
	/* the others' W in one MGET */
	{
		const char **argv = calloc(ids->elements + 1, sizeof(*argv));
		size_t *argl = calloc(ids->elements + 1, sizeof(*argl));
		char (*keys)[80] = calloc(ids->elements + 1, sizeof(*keys));
		const char **who = calloc(ids->elements + 1, sizeof(*who));
		size_t n = 0;

		if (argv && argl && keys && who) {
			argv[0] = "MGET";
			argl[0] = 4;
			for (i = 0; i < ids->elements; i++) {
				if (ids->element[i]->type != REDIS_REPLY_STRING || !strcmp(ids->element[i]->str, id) ||
				    ids->element[i]->len > 70)
					continue;
				who[n] = ids->element[i]->str;
				snprintf(keys[n], sizeof(keys[0]), "xw:%s", who[n]);
				argv[n + 1] = keys[n];
				argl[n + 1] = strlen(keys[n]);
				n++;
			}
			rep = n ? redisCommandArgv(d->mr.c, (int)n + 1, argv, argl) : NULL;
			for (i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i < rep->elements && i < n; i++) {
				uint64_t pw;

				if (rep->element[i]->type == REDIS_REPLY_STRING && !xredis_u53(rep->element[i], &pw) &&
				    off + 100 < plen)
					off += (size_t)snprintf(peers + off, plen - off, "%s\"%s\":%" PRIu64,
								off ? "," : "", who[i], pw);
			}
			if (rep)
				freeReplyObject(rep);
			else if (n)
				xredis_fail(&d->mr, NULL);
		}
		free(argv);
		free(argl);
		free(keys);
		free(who);
	}
	freeReplyObject(ids);
}


int xpro_syncdb(struct xpro_config *cfg, const struct xpro_sync_opts *o)
{
	const char *msrc[1] = { xpro_lua_merge_batch };
	struct xpro_proxy px;
	struct db_ctx d;
	uint64_t next, t0 = xredis_mono_ns(), periods = 0, last_ok_ns = 0, w = 0, last_alert = 0;
	uint64_t last_sweep = xredis_mono_ns();
	char id[200], peers[4096] = "", json[6144];
	double cpu0, cpu_total = 0;
	int err, need_full = 1;

	memset(&d, 0, sizeof(d));
	d.cfg = cfg;
	err = xpro_proxy_init(&px, cfg, o->ifname);
	if (err)
		return err;
	if (!cfg->redis_master[0]) {
		pr_warn("syncdb: no master: set redis_master = ADDR:PORT (an isolated proxy uses a private master of its own)\n");
		return -EINVAL;
	}
	if (xredis_init(&d.lr, "local", cfg->redis_local, cfg->redis_user, cfg->redis_password) ||
	    xredis_init(&d.mr, "master", cfg->redis_master, cfg->redis_user, cfg->redis_password) ||
	    xsub_init(&d.msub, "master (feed)", cfg->redis_master, cfg->redis_user, cfg->redis_password, "xpro:chg") ||
	    xsub_init(&d.lsub, "local (kick)", cfg->redis_local, cfg->redis_user, cfg->redis_password, "l:kick")) {
		pr_warn("syncdb: redis_local / redis_master must be ADDR:PORT\n");
		return -EINVAL;
	}
	if (cfg->proxy_id[0])
		snprintf(id, sizeof(id), "%s", cfg->proxy_id);
	else
		snprintf(id, sizeof(id), "%s/%s", px.nsname, px.ifname);
	d.id = id;
	xpro_mkdir_p(px.state_dir);
	pr_info("syncdb %s: local %s, master %s, period %u ms, %s\n", id, cfg->redis_local,
		cfg->redis_master, cfg->sync_period_ms, o->full_scan ? "full scan" : "changed records");
	next = xredis_mono_ns();
	while (!*o->stop) {
		uint64_t tstart;
		struct pollfd pf[2];
		int ok = 0, changed = 0, nfd = 0, timed_out, mfd = -1, lfd = -1;
		int64_t wait_ms;

		/* wait for the period's end, or an event: syncmaps pushed
		 * (l:kick), or another proxy changed a record (xpro:chg) */
		if (!o->full_scan) {
			mfd = xsub_fd(&d.msub);
			lfd = xsub_fd(&d.lsub);
			if (d.msub.fresh) {
				need_full = 1; /* (re)subscribed: changes may have been missed */
				d.msub.fresh = 0;
			}
			d.lsub.fresh = 0;
		}
		if (mfd >= 0)
			pf[nfd++] = (struct pollfd){ .fd = mfd, .events = POLLIN };
		if (lfd >= 0)
			pf[nfd++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		wait_ms = (int64_t)(next - xredis_mono_ns()) / 1000000;
		if ((int64_t)(next - xredis_mono_ns()) <= 0)
			wait_ms = 0;
		if (nfd && wait_ms > 0 && poll(pf, (nfds_t)nfd, (int)wait_ms) > 0) {
			for (int i = 0; i < nfd; i++) {
				if (!(pf[i].revents & (POLLIN | POLLERR | POLLHUP)))
					continue;
				if (pf[i].fd == mfd)
					xsub_read(&d.msub, on_feed, &d);
				else
					xsub_read(&d.lsub, on_wakeup, NULL);
			}
			d.st.events++;
			timed_out = 0;
		} else {
			if (!nfd)
				sleep_until(next);
			timed_out = 1;
		}
		if (*o->stop)
			break;
		tstart = xredis_mono_ns();
		cpu0 = cpu_ms();
		if (sighup(cfg, o, "syncdb")) {
			xredis_reconfig(&d.lr, cfg->redis_local, cfg->redis_user, cfg->redis_password);
			xredis_reconfig(&d.mr, cfg->redis_master, cfg->redis_user, cfg->redis_password);
			xredis_reconfig(&d.msub.r, cfg->redis_master, cfg->redis_user, cfg->redis_password);
			xredis_reconfig(&d.lsub.r, cfg->redis_local, cfg->redis_user, cfg->redis_password);
			d.have_m = 0;
		}
		/* master times are microseconds */
		d.mp.tt1_ns = cfg->params.tt1_ns / NS_PER_US;
		d.mp.tt4_ns = cfg->params.tt4_ns / NS_PER_US;
		d.mp.r = cfg->params.r;
		d.mp.ttl_ms = ttl_ms(cfg);
		if (xredis_get(&d.lr) && xredis_get(&d.mr)) {
			if (!d.have_m)
				d.have_m = !load_scripts(&d.mr, msrc, &d.msha, 1);
			if (d.have_m && d.lr.c && d.mr.c) {
				if (timed_out)
					db_workload(&d, id, peers, sizeof(peers), &w, &last_alert);
				if (d.lr.c && d.mr.c && !db_round(&d, o->full_scan || need_full, &changed)) {
					ok = 1;
					need_full = 0;
				}
				if (ok && timed_out && xredis_mono_ns() - last_sweep >= ttl_ms(cfg) * 1000000ULL) {
					db_sweep(&d);
					last_sweep = xredis_mono_ns();
				}
				if (changed && d.lr.c) {
					/* wake syncmaps: merged records to write back */
					redisReply *rep = redisCommand(d.lr.c, "PUBLISH l:upd 1");

					if (rep)
						freeReplyObject(rep);
				}
			}
		}
		if (!d.mr.c) {
			d.have_m = 0;
			need_full = 1;
		}
		cpu_total += cpu_ms() - cpu0;
		if (ok)
			last_ok_ns = xpro_now_tai();
		if (!timed_out)
			continue; /* an event: the period's bookkeeping waits for its end */
		periods++;
		snprintf(json, sizeof(json),
			 "{\"daemon\":\"syncdb\",\"pid\":%d,\"proxy_id\":\"%s\",\"ts_ns\":%" PRIu64 ",\"last_ok_ns\":%" PRIu64
			 ",\"period_ms\":%u,\"periods\":%" PRIu64 ",\"exchange\":\"%s\",\"local\":\"%s\",\"master\":\"%s\",\"w\":%" PRIu64
			 ",\"peers_w\":{%s},\"merged\":%" PRIu64 ",\"pulled\":%" PRIu64 ",\"queued\":%" PRIu64
			 ",\"swept\":%" PRIu64 ",\"rejected\":%" PRIu64 ",\"events\":%" PRIu64 ",\"feed_keys\":%" PRIu64
			 ",\"full_passes\":%" PRIu64 ",\"watch_conflicts\":%" PRIu64 ",\"lua_batches\":%" PRIu64
			 ",\"branches\":{\"reset\":%" PRIu64 ",\"learn\":%" PRIu64 ",\"decay\":%" PRIu64 ",\"tell\":%" PRIu64
			 ",\"pull\":%" PRIu64 ",\"push\":%" PRIu64 "},\"period_wall_ms\":%.3f,\"cpu_ms_per_period\":%.3f}",
			 (int)getpid(), id, xpro_now_tai(), last_ok_ns, cfg->sync_period_ms, periods,
			 o->full_scan ? "full" : "changed", d.lr.c ? "up" : "down", d.mr.c ? "up" : "down", w,
			 ok ? peers : "", d.st.merged, d.st.pulled, d.st.queued, d.st.swept, d.st.rejected,
			 d.st.events, d.st.feed_keys, d.st.full_passes, d.st.conflicts, d.st.lua_batches,
			 d.st.branches[XPRO_MERGE_RESET], d.st.branches[XPRO_MERGE_LEARN],
			 d.st.branches[XPRO_MERGE_DECAY], d.st.branches[XPRO_MERGE_TELL],
			 d.st.branches[XPRO_MERGE_PULL], d.st.branches[XPRO_MERGE_PUSH],
			 (double)(xredis_mono_ns() - tstart) / 1e6, cpu_total / (double)periods);
		write_status(&px, "syncdb", json);
		if (period_end(o, periods, t0, cfg->sync_period_ms, &next))
			break;
	}
	pr_info("syncdb %s: stopped after %" PRIu64 " periods, %" PRIu64 " merges\n", id, periods, d.st.merged);
	free(d.feed.p);
	xredis_close(&d.lr);
	xredis_close(&d.mr);
	xredis_close(&d.msub.r);
	xredis_close(&d.lsub.r);
	return 0;
}
