// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The sync daemons (docs/sync.md). Both run one period at a time, never
 * block the data plane, and lose no local delta when a Redis is away:
 *
 * syncmaps, each period:
 *   1. push: every record whose dc or mark changed goes to the local Redis
 *      (script PUSH: dc added, or the window restarted when mark = 1); only
 *      after Redis accepted it does the take program subtract that dc from
 *      the BPF record (so an absent Redis leaves the delta in the map);
 *   2. apply: records the syncdb rewrote (set l:upd, or every key with
 *      --full-scan) go back into the BPF map through the apply program
 *      (c_l += base - c_m atomically: packets counted meanwhile stay), or
 *      are created when only the master knew them;
 *   3. the aggregates are recomputed from the records (xpro/agg.c);
 *   4. the workload W (packets/s seen by the XDP program) goes to l:w.
 * syncdb, each period:
 *   1. W to the master with an expiry, the other proxies' W read, an alert
 *      published when W > T_W;
 *   2. Algorithm 1 for every local record that changed (set l:dirty), that
 *      may decay (set l:decay), or that another proxy changed (the master's
 *      change feed) -- or, with --full-scan, for every local key: TAKE the
 *      pending delta locally, merge on the master atomically (Lua), PUT the
 *      result back (skipped if the window restarted meanwhile), UNTAKE when
 *      the master failed;
 *   3. records only the master knows are pulled (PULL).
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

#define BATCH 512
#define NS_PER_US 1000ULL

/* ---- local Redis scripts ------------------------------------------------ */

/*
 * The local scripts work on batches (KEYS[1..n]) so that a period costs one
 * call per BATCH records, not one per record. Each script runs atomically.
 */

/* PUSH: ARGV[1] = expiry ms; per key: ts1 ts2 (us) c' dc mark. A window
 * that restarted (mark 1), or a record new here, replaces the local one
 * (gc = c' - dc); otherwise dc is added and ts2 moves forward. */
static const char lua_push[] =
"local ttl = ARGV[1]\n"
"for i = 1, #KEYS do\n"
"  local k, b = KEYS[i], 1 + (i - 1) * 5\n"
"  local ts1, ts2, cl, dc, mark = ARGV[b + 1], ARGV[b + 2], tonumber(ARGV[b + 3]), ARGV[b + 4], ARGV[b + 5]\n"
"  if mark == '1' or redis.call('EXISTS', k) == 0 then\n"
"    redis.call('HSET', k, 'ts1', ts1, 'ts2', ts2, 'gc', string.format('%.0f', cl - tonumber(dc)), 'dc', dc, 'mark', mark, 'mts1', 0, 'mts2', 0)\n"
"    redis.call('HINCRBY', k, 'gen', 1)\n"
"  else\n"
"    redis.call('HINCRBY', k, 'dc', dc)\n"
"    local cur = tonumber(redis.call('HGET', k, 'ts2'))\n"
"    if cur == nil or tonumber(ts2) > cur then redis.call('HSET', k, 'ts2', ts2) end\n"
"  end\n"
"  redis.call('PEXPIRE', k, ttl)\n"
"  redis.call('SADD', 'l:dirty', k)\n"
"end\n"
"return #KEYS\n";

/* TAKE: per key {ts1, ts2, gc, dc, mark, gen, mts1}, and dc = mark = 0; false
 * (nil) when absent */
static const char lua_take[] =
"local out = {}\n"
"for i = 1, #KEYS do\n"
"  local v = redis.call('HMGET', KEYS[i], 'ts1', 'ts2', 'gc', 'dc', 'mark', 'gen', 'mts1')\n"
"  if v[1] then\n"
"    redis.call('HSET', KEYS[i], 'dc', 0, 'mark', 0)\n"
"    out[i] = v\n"
"  else\n"
"    out[i] = false\n"
"  end\n"
"end\n"
"return out\n";

/* PUT: ARGV[1] = expiry ms, ARGV[2] = TT4 (us); per key: gen ts1 ts2 c
 * mts1 mts2. Skipped (0) when the window restarted since the TAKE (gen). */
static const char lua_put[] =
"local ttl, tt4, out = ARGV[1], tonumber(ARGV[2]), {}\n"
"for i = 1, #KEYS do\n"
"  local k, b = KEYS[i], 2 + (i - 1) * 6\n"
"  if redis.call('HGET', k, 'gen') ~= ARGV[b + 1] then\n"
"    out[i] = 0\n"
"  else\n"
"    redis.call('HSET', k, 'ts1', ARGV[b + 2], 'gc', ARGV[b + 4], 'mts1', ARGV[b + 5], 'mts2', ARGV[b + 6])\n"
"    local cur = tonumber(redis.call('HGET', k, 'ts2'))\n"
"    local ts2 = tonumber(ARGV[b + 3])\n"
"    if cur == nil or ts2 > cur then redis.call('HSET', k, 'ts2', ARGV[b + 3]); cur = ts2 end\n"
"    redis.call('PEXPIRE', k, ttl)\n"
"    redis.call('SADD', 'l:upd', k)\n"
"    if cur - tonumber(ARGV[b + 5]) > tt4 then redis.call('SADD', 'l:decay', k) else redis.call('SREM', 'l:decay', k) end\n"
"    out[i] = 1\n"
"  end\n"
"end\n"
"return out\n";

/* PULL: ARGV[1] = expiry ms; per key: ts1 ts2 c. A record only the master
 * knows; 0 when the key exists meanwhile. */
static const char lua_pull[] =
"local ttl, out = ARGV[1], {}\n"
"for i = 1, #KEYS do\n"
"  local k, b = KEYS[i], 1 + (i - 1) * 3\n"
"  if redis.call('EXISTS', k) == 1 then\n"
"    out[i] = 0\n"
"  else\n"
"    redis.call('HSET', k, 'ts1', ARGV[b + 1], 'ts2', ARGV[b + 2], 'gc', ARGV[b + 3], 'dc', 0, 'mark', 0, 'gen', 0, 'mts1', ARGV[b + 1], 'mts2', ARGV[b + 2])\n"
"    redis.call('PEXPIRE', k, ttl)\n"
"    redis.call('SADD', 'l:upd', k)\n"
"    out[i] = 1\n"
"  end\n"
"end\n"
"return out\n";

/* UNTAKE KEYS[1] ARGV: gen dc mark: give a taken delta back */
static const char lua_untake[] =
"if redis.call('HGET', KEYS[1], 'gen') ~= ARGV[1] then return 0 end\n"
"redis.call('HINCRBY', KEYS[1], 'dc', ARGV[2])\n"
"if ARGV[3] == '1' then redis.call('HSET', KEYS[1], 'mark', 1) end\n"
"redis.call('SADD', 'l:dirty', KEYS[1])\n"
"return 1\n";

/* ---- keys ------------------------------------------------------------- */

void xpro_local_key(char *buf, size_t len, uint32_t client, uint32_t dest)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &client, a, sizeof(a));
	inet_ntop(AF_INET, &dest, b, sizeof(b));
	snprintf(buf, len, "l:{%s}:%s", b, a);
}

int xpro_parse_key(const char *key, char prefix, uint32_t *client, uint32_t *dest)
{
	char d[INET_ADDRSTRLEN];
	const char *close;
	size_t n;

	if (key[0] != prefix || key[1] != ':' || key[2] != '{')
		return -EINVAL;
	close = strchr(key + 3, '}');
	if (!close || close[1] != ':')
		return -EINVAL;
	n = (size_t)(close - (key + 3));
	if (n >= sizeof(d))
		return -EINVAL;
	memcpy(d, key + 3, n);
	d[n] = '\0';
	if (inet_pton(AF_INET, d, dest) != 1 || inet_pton(AF_INET, close + 2, client) != 1)
		return -EINVAL;
	return 0;
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

struct pushed {
	struct xpro_key key;
	uint64_t ts1, ts2, c, dc;
	uint32_t mark;
};

struct maps_stats {
	uint64_t pushed, taken, stale, applied, created, skipped_bad, redis_errors;
};

/* An argument vector for redisCommandArgv, for one batched script call. */
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

/* EVALSHA sha n keys... then the caller adds the arguments */
static void av_script(struct av *a, const char *sha, char (*keys)[64], const int *sel, int n)
{
	int i;

	a->n = 0;
	av_str(a, "EVALSHA");
	av_str(a, sha);
	snprintf(a->buf[2], sizeof(a->buf[0]), "%d", n);
	av_str(a, a->buf[2]);
	for (i = 0; i < n; i++)
		av_str(a, keys[sel ? sel[i] : i]);
}

/* PUSH one batch, then take what Redis accepted out of the BPF records. */
static int push_flush(struct xredis *lr, struct xpro_bpf *s, const char *sha, char (*keys)[64],
		      struct pushed *b, int n, const struct xpro_config *cfg, struct maps_stats *st)
{
	static struct av a;
	redisReply *rep;
	int i;

	av_script(&a, sha, keys, NULL, n);
	av_u64(&a, ttl_ms(cfg));
	for (i = 0; i < n; i++) {
		av_u64(&a, b[i].ts1 / NS_PER_US);
		av_u64(&a, b[i].ts2 / NS_PER_US);
		av_u64(&a, b[i].c);
		av_u64(&a, b[i].dc);
		av_u64(&a, b[i].mark);
	}
	rep = redisCommandArgv(lr->c, a.n, a.v, a.l);
	if (!rep) {
		xredis_fail(lr, lr->c->errstr);
		return -EIO; /* nothing taken: pushed again next period */
	}
	if (rep->type != REDIS_REPLY_INTEGER || rep->integer != n) {
		if (st->redis_errors++ < 5)
			pr_warn("syncmaps: local Redis refused a push: %s\n",
				rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
		freeReplyObject(rep);
		return -EPROTO;
	}
	freeReplyObject(rep);
	for (i = 0; i < n; i++) {
		struct xpro_sync_take t = { .key = b[i].key, .ts1_seen = b[i].ts1,
					    .dc_seen = b[i].dc, .mark_seen = b[i].mark };

		st->pushed++;
		if (!run_syscall(bpf_program__fd(s->progs.xpro_sync_take), &t, sizeof(t)) && t.ret == 0)
			st->taken++;
		else
			st->stale++;
	}
	return 0;
}

/* Push the records of the period's dump (rk, rv) whose dc or mark changed. */
static int maps_push(struct xpro_bpf *s, struct xredis *lr, const char *sha,
		     const struct xpro_key *rk, const struct xpro_record *rv, size_t nrec,
		     const struct xpro_config *cfg, struct maps_stats *st)
{
	static struct pushed b[BATCH];
	static char keys[BATCH][64];
	size_t i;
	int n = 0, err = 0;

	for (i = 0; !err && i < nrec; i++) {
		const struct xpro_record *v = &rv[i];

		if (!v->dc && !v->mark)
			continue;
		xpro_local_key(keys[n], sizeof(keys[n]), rk[i].client, rk[i].dest);
		b[n].key = rk[i];
		b[n].ts1 = v->ts1_l;
		b[n].ts2 = v->ts2_l;
		b[n].c = v->c_l;
		b[n].dc = v->dc;
		b[n].mark = v->mark ? 1 : 0;
		if (++n == BATCH) {
			err = push_flush(lr, s, sha, keys, b, n, cfg, st);
			n = 0;
		}
	}
	if (!err && n)
		err = push_flush(lr, s, sha, keys, b, n, cfg, st);
	return err;
}

/* Apply one HMGET reply {ts1 ts2 gc dc mts1 mts2} of key to the BPF map. */
static void apply_one(struct xpro_proxy *px, struct xpro_bpf *s, const char *key,
		      const redisReply *rep, const struct xpro_config *cfg, uint64_t now,
		      struct maps_stats *st)
{
	struct xpro_sync_apply a = { 0 };
	uint64_t f[6];
	size_t i;

	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 6) {
		st->skipped_bad++;
		return;
	}
	if (rep->element[0]->type == REDIS_REPLY_NIL)
		return; /* expired meanwhile */
	for (i = 0; i < 6; i++)
		if (xredis_u53(rep->element[i], &f[i])) {
			if (st->skipped_bad++ < 5)
				pr_warn("syncmaps: local record %s: a field is not a non-negative integer; skipped\n", key);
			return;
		}
	if (xpro_parse_key(key, 'l', &a.key.client, &a.key.dest)) {
		st->skipped_bad++;
		return;
	}
	if (f[0] > f[1] || f[1] > (now / NS_PER_US) + 3600ULL * 1000000ULL) {
		if (st->skipped_bad++ < 5)
			pr_warn("syncmaps: local record %s: absurd window (ts1 %" PRIu64 ", ts2 %" PRIu64 " us); skipped\n",
				key, f[0], f[1]);
		return;
	}
	a.ts1 = f[0] * NS_PER_US;
	a.ts2 = f[1] * NS_PER_US;
	a.base = f[2] + f[3];
	a.ts1_m = f[4] * NS_PER_US;
	a.ts2_m = f[5] * NS_PER_US;
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

static int apply_keys(struct xpro_proxy *px, struct xpro_bpf *s, struct xredis *lr,
		      redisReply **keys, size_t nkeys, const struct xpro_config *cfg, uint64_t now,
		      struct maps_stats *st)
{
	redisContext *c = lr->c;
	redisReply *rep;
	size_t i, j;

	for (i = 0; i < nkeys; i += BATCH) {
		size_t n = nkeys - i < BATCH ? nkeys - i : BATCH;

		for (j = 0; j < n; j++)
			redisAppendCommand(c, "HMGET %s ts1 ts2 gc dc mts1 mts2", keys[i + j]->str);
		for (j = 0; j < n; j++) {
			if (redisGetReply(c, (void **)&rep) != REDIS_OK || !rep) {
				xredis_fail(lr, c->errstr);
				return -EIO;
			}
			apply_one(px, s, keys[i + j]->str, rep, cfg, now, st);
			freeReplyObject(rep);
		}
	}
	return 0;
}

/* Keys to write back: SPOP l:upd (or, full scan, every l:{ key). */
static int maps_apply(struct xpro_proxy *px, struct xpro_bpf *s, struct xredis *lr,
		      const struct xpro_config *cfg, int full, struct maps_stats *st)
{
	redisContext *c = lr->c;
	uint64_t now = xpro_now_tai();
	redisReply *rep;
	char cursor[32] = "0";
	int err = 0;

	if (!full) {
		for (;;) {
			rep = redisCommand(c, "SPOP l:upd 4096");
			if (!rep) {
				xredis_fail(lr, c->errstr);
				return -EIO;
			}
			if (rep->type != REDIS_REPLY_ARRAY || rep->elements == 0) {
				freeReplyObject(rep);
				return 0;
			}
			err = apply_keys(px, s, lr, rep->element, rep->elements, cfg, now, st);
			freeReplyObject(rep);
			if (err)
				return err;
		}
	}
	do {
		rep = redisCommand(c, "SCAN %s MATCH l:{* COUNT 1000", cursor);
		if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
			if (rep)
				freeReplyObject(rep);
			xredis_fail(lr, c->errstr);
			return -EIO;
		}
		snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
		err = apply_keys(px, s, lr, rep->element[1]->element, rep->element[1]->elements, cfg, now, st);
		freeReplyObject(rep);
	} while (!err && strcmp(cursor, "0"));
	if (!err) {
		rep = redisCommand(c, "DEL l:upd");
		if (rep)
			freeReplyObject(rep);
	}
	return err;
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
	char sha[1][41] = { "" }, json[1024];
	const char *src[1] = { lua_push };
	double cpu0, cpu_total = 0;
	int err, have_scripts = 0;

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
			if (lr.c && have_scripts) {
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
			have_scripts = 0;
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
			if (!have_scripts)
				have_scripts = !load_scripts(&lr, src, sha, 1);
			uint64_t pushed0 = st.pushed;

			if (have_scripts && !maps_push(s, &lr, sha[0], rk, rv, nrec, cfg, &st) &&
			    lr.c && !maps_apply(&px, s, &lr, cfg, o->full_scan, &st))
				ok = 1;
			if (ok && st.pushed != pushed0 && !o->full_scan) {
				/* wake syncdb: deltas to merge */
				redisReply *rep = redisCommand(lr.c, "PUBLISH l:kick 1");

				if (rep)
					freeReplyObject(rep);
			}
			if (!lr.c)
				have_scripts = 0; /* a restarted server has no scripts */
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
		if (o->periods > 0 && (long)periods >= o->periods)
			break;
		if (o->duration > 0 && (double)(xredis_mono_ns() - t0) / 1e9 >= o->duration)
			break;
		next += (uint64_t)cfg->sync_period_ms * 1000000ULL;
		if (next < xredis_mono_ns())
			next = xredis_mono_ns(); /* overran: no burst of catch-up periods */
	}
	pr_info("syncmaps %s: stopped after %" PRIu64 " periods\n", px.ifname, periods);
	xredis_close(&lr);
	xredis_close(&usub.r);
	xpro_bpf__destroy(s);
	xpro_proxy_close(&px);
	return 0;
}

/* ---- syncdb ---------------------------------------------------------------- */

enum { S_TAKE, S_PUT, S_UNTAKE, S_PULL, S__N };

struct db_stats {
	uint64_t merged, put_stale, untaken, pulled, rejected, branches[7], feed_keys, events, full_passes;
	uint64_t conflicts, lua_batches;
};

struct keylist {
	char (*k)[64];
	size_t n, cap;
};

struct db_ctx {
	struct xpro_config *cfg;
	struct xredis lr, mr;
	struct xsub msub;         /* master: xpro:chg (fast exchange) */
	struct xsub lsub;         /* local: l:kick (syncmaps pushed something) */
	char lsha[S__N][41], msha[41];
	int have_l, have_m;
	const char *id;
	struct xpro_merge_params mp;
	struct db_stats st;
	struct keylist feed;      /* keys other proxies changed, waiting */
};

static void kl_add(struct keylist *l, const char *key)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 1024;
		void *p = realloc(l->k, cap * sizeof(*l->k));

		if (!p)
			return; /* out of memory: the key waits for the next full pass */
		l->k = p;
		l->cap = cap;
	}
	snprintf(l->k[l->n++], sizeof(l->k[0]), "%s", key);
}

static int kl_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Sort (keys "l:{D}:i" of one destination end up adjacent) and dedupe. */
static void kl_sort_unique(struct keylist *l)
{
	size_t i, j = 0;

	if (!l->n)
		return;
	qsort(l->k, l->n, sizeof(l->k[0]), kl_cmp);
	for (i = 1; i < l->n; i++)
		if (strcmp(l->k[i], l->k[j]))
			memcpy(l->k[++j], l->k[i], sizeof(l->k[0]));
	l->n = j + 1;
}

/* Add the keys of a reply array, converted to local keys. */
static void kl_add_reply(struct keylist *l, redisReply **e, size_t n, char prefix)
{
	char key[64];
	uint32_t cl, de;
	size_t i;

	for (i = 0; i < n; i++) {
		if (e[i]->type != REDIS_REPLY_STRING || xpro_parse_key(e[i]->str, prefix, &cl, &de))
			continue;
		xpro_local_key(key, sizeof(key), cl, de);
		kl_add(l, key);
	}
}

/* A message on xpro:chg: "origin\nx:{D}:i\n...": the keys others changed. */
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
				xpro_local_key(key, sizeof(key), cl, de);
				kl_add(&d->feed, key);
				d->st.feed_keys++;
			}
		}
	}
}

struct taken {
	struct xpro_lrec l;
	struct xpro_mrec m;
	uint64_t gen;
	int found, ok;
};

/*
 * Algorithm 1 for n local keys of one destination: TAKE each locally (a
 * missing one merges as "not in L_DB"), merge all on the master in one
 * script call (atomic per record; publishes the changed keys), then PUT
 * each result back, PULL what only the master knew, UNTAKE what failed.
 */
/* The result of one record's merge on the master. */
struct mres {
	int rc;                 /* 0; -EPROTO: refused (bad master value); -ENOENT: not merged */
	int branch;
	struct xpro_lrec l;
	struct xpro_mrec m;
	const char *why;
};

/* "ts1 ts2 c": three decimal integers <= 2^53, one space apart. */
static int parse_mval(const char *v, size_t len, struct xpro_mrec *m)
{
	uint64_t x[3] = { 0 };
	size_t i = 0;
	int k;

	for (k = 0; k < 3; k++) {
		size_t digits = 0;

		while (i < len && v[i] >= '0' && v[i] <= '9') {
			if (++digits > 16)
				return -1;
			x[k] = x[k] * 10 + (uint64_t)(v[i] - '0');
			i++;
		}
		if (!digits || x[k] > 9007199254740991ULL)
			return -1;
		if (k < 2) {
			if (i >= len || v[i] != ' ')
				return -1;
			i++;
		}
	}
	if (i != len)
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
static int master_watch_merge(struct db_ctx *d, const char *hash, char (*keys)[64],
			      const struct taken *t, size_t n, struct mres *res)
{
	static struct av a;
	static char msg[BATCH * 48 + 256], vals[BATCH][64];
	redisContext *mc = d->mr.c;
	redisReply *rep = NULL, *w = NULL;
	size_t i, mlen, nw = 0;
	int err = 0;

	redisAppendCommand(mc, "WATCH %s", hash);
	a.n = 0;
	av_str(&a, "HMGET");
	av_str(&a, hash);
	for (i = 0; i < n; i++)
		av_str(&a, strchr(keys[i], '}') + 2);
	redisAppendCommandArgv(mc, a.n, a.v, a.l);
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
		if (!t[i].ok) {
			res[i].rc = -ENOENT;
			continue;
		}
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
			snprintf(vals[nw], sizeof(vals[0]), "%" PRIu64 " %" PRIu64 " %" PRIu64,
				 res[i].m.ts1, res[i].m.ts2, res[i].m.c);
			av_str(&a, strchr(keys[i], '}') + 2);
			av_str(&a, vals[nw]);
			nw++;
			mlen += (size_t)snprintf(msg + mlen, sizeof(msg) - mlen, "\n%s:%s", hash,
						 strchr(keys[i], '}') + 2);
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
	redisAppendCommandArgv(mc, a.n, a.v, a.l);
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

static int db_merge_keys(struct db_ctx *d, char (*keys)[64], size_t n, int *changed)
{
	static struct taken t[BATCH];
	static char xk[1][64]; /* the batch's hash x:{D} */
	static struct av a, put, pull;
	static int put_i[BATCH], pull_i[BATCH];
	static struct mres res[BATCH];
	redisContext *lc = d->lr.c, *mc = d->mr.c;
	redisReply *rep, *mrep = NULL;
	size_t i, j, nput = 0, npull = 0, nun = 0;
	int err = 0;

	/* 1. TAKE, one call */
	av_script(&a, d->lsha[S_TAKE], keys, NULL, (int)n);
	rep = redisCommandArgv(lc, a.n, a.v, a.l);
	if (!rep) {
		xredis_fail(&d->lr, lc->errstr);
		return -EIO; /* nothing was taken, or the connection died with it (docs/sync.md) */
	}
	if (rep->type != REDIS_REPLY_ARRAY || rep->elements != n) {
		if (d->st.rejected++ < 5)
			pr_warn("syncdb: local Redis refused a TAKE: %s\n",
				rep->type == REDIS_REPLY_ERROR ? rep->str : "unexpected reply");
		freeReplyObject(rep);
		return -EPROTO;
	}
	for (i = 0; i < n; i++) {
		const redisReply *e = rep->element[i];
		uint64_t f[7];
		int good = 1;

		memset(&t[i], 0, sizeof(t[i]));
		if (e->type == REDIS_REPLY_ARRAY && e->elements == 7) {
			for (j = 0; j < 7 && good; j++)
				good = !xredis_u53(e->element[j], &f[j]);
			if (good && f[0] <= f[1] && f[4] <= 1) {
				t[i].l.ts1 = f[0];
				t[i].l.ts2 = f[1];
				t[i].l.c = f[2] + f[3];
				t[i].l.dc = f[3];
				t[i].l.mark = (uint32_t)f[4];
				t[i].gen = f[5];
				t[i].l.mts1 = f[6];
				t[i].found = 1;
				t[i].ok = 1;
			} else if (d->st.rejected++ < 5) {
				pr_warn("syncdb: local record %s has a bad field; not merged\n", keys[i]);
			}
		} else if (e->type == REDIS_REPLY_NIL) {
			t[i].ok = 1; /* only the master may know it */
		}
	}
	freeReplyObject(rep);

	/* 2. the merge on the master: every key is of one destination, whose
	 * hash x:{D} holds a field per client. WATCH/MULTI first (a few tries),
	 * the Lua script when other proxies keep writing the same hash */
	{
		/* "l:{D}:i" -> "x:{D}" */
		const char *close = strchr(keys[0], '}');

		snprintf(xk[0], sizeof(xk[0]), "x:%.*s", (int)(close - keys[0] - 1), keys[0] + 2);
	}
	for (i = 0; i < 4; i++) {
		err = master_watch_merge(d, xk[0], keys, t, n, res);
		if (err != -EAGAIN)
			break;
		d->st.conflicts++;
	}
	if (err == -EAGAIN) {
		d->st.lua_batches++;
		err = 0;
		av_script(&a, d->msha, xk, NULL, 1);
		av_u64(&a, d->mp.tt1_ns);
		av_u64(&a, d->mp.tt4_ns);
		av_u64(&a, d->mp.r);
		av_u64(&a, d->mp.ttl_ms);
		av_str(&a, d->id);
		for (i = 0; i < n; i++) {
			/* a bad local record merges as absent: it is never written */
			av_str(&a, strchr(keys[i], '}') + 2); /* the client i of l:{D}:i */
			av_u64(&a, t[i].l.ts1);
			av_u64(&a, t[i].l.ts2);
			av_u64(&a, t[i].l.c);
			av_u64(&a, t[i].l.dc);
			av_u64(&a, t[i].l.mark);
			av_u64(&a, (uint64_t)t[i].found);
			av_u64(&a, t[i].l.mts1);
		}
		mrep = redisCommandArgv(mc, a.n, a.v, a.l);
		if (!mrep) {
			xredis_fail(&d->mr, mc->errstr);
			err = -EIO;
		} else if (mrep->type != REDIS_REPLY_ARRAY || mrep->elements != n) {
			if (d->st.rejected++ < 5)
				pr_warn("syncdb: master refused a merge batch: %s\n",
					mrep->type == REDIS_REPLY_ERROR ? mrep->str : "unexpected reply");
			err = -EPROTO;
		} else {
			for (i = 0; i < n; i++) {
				memset(&res[i], 0, sizeof(res[i]));
				res[i].l = t[i].l;
				if (!t[i].ok)
					res[i].rc = -ENOENT;
				else if (xpro_master_merge_parse(mrep->element[i], &res[i].l, &res[i].m,
								 &res[i].branch, &res[i].why))
					res[i].rc = -EPROTO;
			}
		}
		if (mrep)
			freeReplyObject(mrep);
	}

	/* 3. PUT and PULL (one call each), UNTAKE what failed */
	put.n = pull.n = 0;
	for (i = 0; i < n; i++) {
		struct xpro_lrec l;
		struct xpro_mrec m;
		int branch;

		if (!t[i].ok)
			continue;
		if (err || res[i].rc) {
			if (!err && d->st.rejected++ < 5)
				pr_warn("syncdb: master refused the merge of %s: %s\n", keys[i],
					res[i].why ? res[i].why : "?");
			if (t[i].found && (t[i].l.dc || t[i].l.mark)) {
				/* give the delta back: merged next time, never lost */
				char g[24], dc[24];

				snprintf(g, sizeof(g), "%" PRIu64, t[i].gen);
				snprintf(dc, sizeof(dc), "%" PRIu64, t[i].l.dc);
				redisAppendCommand(lc, "EVALSHA %s 1 %s %s %s %u", d->lsha[S_UNTAKE], keys[i],
						   g, dc, t[i].l.mark);
				nun++;
			}
			continue;
		}
		l = res[i].l;
		m = res[i].m;
		branch = res[i].branch;
		if (branch >= 0 && branch < 7)
			d->st.branches[branch]++;
		if (branch == 0)
			continue;
		d->st.merged++;
		if (branch == XPRO_MERGE_PULL) {
			t[i].l = l;
			pull_i[npull++] = (int)i;
		} else {
			t[i].l = l;
			t[i].m = m;
			put_i[nput++] = (int)i;
		}
	}
	for (i = 0; i < nun; i++) {
		if (redisGetReply(lc, (void **)&rep) != REDIS_OK || !rep) {
			xredis_fail(&d->lr, lc->errstr);
			return -EIO;
		}
		if (rep->type == REDIS_REPLY_INTEGER && rep->integer == 1)
			d->st.untaken++;
		freeReplyObject(rep);
	}
	if (nput) {
		av_script(&put, d->lsha[S_PUT], keys, put_i, (int)nput);
		av_u64(&put, ttl_ms(d->cfg));
		av_u64(&put, d->mp.tt4_ns);
		for (i = 0; i < nput; i++) {
			const struct taken *x = &t[put_i[i]];

			av_u64(&put, x->gen);
			av_u64(&put, x->l.ts1);
			av_u64(&put, x->l.ts2);
			av_u64(&put, x->l.c);
			av_u64(&put, x->m.ts1);
			av_u64(&put, x->m.ts2);
		}
		rep = redisCommandArgv(lc, put.n, put.v, put.l);
		if (!rep) {
			xredis_fail(&d->lr, lc->errstr);
			return -EIO;
		}
		for (i = 0; rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++) {
			if (rep->element[i]->type == REDIS_REPLY_INTEGER && rep->element[i]->integer == 1)
				(*changed)++;
			else
				d->st.put_stale++;
		}
		freeReplyObject(rep);
	}
	if (npull) {
		av_script(&pull, d->lsha[S_PULL], keys, pull_i, (int)npull);
		av_u64(&pull, ttl_ms(d->cfg));
		for (i = 0; i < npull; i++) {
			const struct taken *x = &t[pull_i[i]];

			av_u64(&pull, x->l.ts1);
			av_u64(&pull, x->l.ts2);
			av_u64(&pull, x->l.c);
		}
		rep = redisCommandArgv(lc, pull.n, pull.v, pull.l);
		if (!rep) {
			xredis_fail(&d->lr, lc->errstr);
			return -EIO;
		}
		for (i = 0; rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++)
			if (rep->element[i]->type == REDIS_REPLY_INTEGER && rep->element[i]->integer == 1) {
				d->st.pulled++;
				(*changed)++;
			}
		freeReplyObject(rep);
	}
	return err == -EPROTO ? 0 : err;
}

/* Merge a sorted list of local keys, one script call per destination (at
 * most BATCH keys): the hash tag {D} keeps each call on one shard. */
static int db_merge_list(struct db_ctx *d, struct keylist *l, int *changed)
{
	size_t i = 0, j;
	int err;

	kl_sort_unique(l);
	while (i < l->n) {
		const char *close = strchr(l->k[i], '}');
		size_t plen = close ? (size_t)(close - l->k[i]) + 1 : 0;

		for (j = i + 1; j < l->n && j - i < BATCH && !strncmp(l->k[j], l->k[i], plen); j++)
			;
		err = db_merge_keys(d, &l->k[i], j - i, changed);
		if (err)
			return err;
		i = j;
	}
	return 0;
}

/* SCAN one server for MATCH into l (as local keys). */
static int scan_into(struct xredis *r, const char *match, char prefix, struct keylist *l)
{
	char cursor[32] = "0";
	redisReply *rep;

	do {
		rep = redisCommand(r->c, "SCAN %s MATCH %s COUNT 1000", cursor, match);
		if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
			if (rep)
				freeReplyObject(rep);
			xredis_fail(r, r->c ? r->c->errstr : NULL);
			return -EIO;
		}
		snprintf(cursor, sizeof(cursor), "%s", rep->element[0]->str);
		kl_add_reply(l, rep->element[1]->element, rep->element[1]->elements, prefix);
		freeReplyObject(rep);
	} while (strcmp(cursor, "0"));
	return 0;
}

/* Every record of the master (hashes x:{D}, fields i) into l, as local keys. */
static int scan_master_into(struct xredis *r, struct keylist *l)
{
	char cursor[32] = "0", key[64];
	redisReply *rep, *f;
	size_t i, j;

	do {
		rep = redisCommand(r->c, "SCAN %s MATCH x:{* COUNT 1000", cursor);
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
			const char *h = rep->element[1]->element[i]->str;

			if (redisGetReply(r->c, (void **)&f) != REDIS_OK || !f) {
				freeReplyObject(rep);
				xredis_fail(r, r->c->errstr);
				return -EIO;
			}
			for (j = 0; f->type == REDIS_REPLY_ARRAY && j < f->elements; j++) {
				uint32_t cl, de;

				if (f->element[j]->type != REDIS_REPLY_STRING)
					continue;
				snprintf(key, sizeof(key), "%s:%s", h, f->element[j]->str);
				if (!xpro_parse_key(key, 'x', &cl, &de)) {
					xpro_local_key(key, sizeof(key), cl, de);
					kl_add(l, key);
				}
			}
			freeReplyObject(f);
		}
		freeReplyObject(rep);
	} while (strcmp(cursor, "0"));
	return 0;
}

/*
 * One round. full: the reference, Algorithm 1 over every record of L_DB
 * and M_DB. Otherwise the fast exchange: the records this proxy changed
 * (l:dirty), those due to decay (l:decay), and those others changed (the
 * master's feed, collected in d->feed).
 */
static int db_round(struct db_ctx *d, int full, int *changed)
{
	struct keylist l = { 0 };
	redisReply *rep;
	int err = 0;

	if (full) {
		d->st.full_passes++;
		err = scan_into(&d->lr, "l:{*", 'l', &l);
		err = err ?: scan_master_into(&d->mr, &l);
		if (!err) {
			rep = redisCommand(d->lr.c, "DEL l:dirty");
			if (rep)
				freeReplyObject(rep);
		}
	} else {
		for (;;) {
			rep = redisCommand(d->lr.c, "SPOP l:dirty 4096");
			if (!rep) {
				xredis_fail(&d->lr, NULL);
				err = -EIO;
				break;
			}
			if (rep->type != REDIS_REPLY_ARRAY || !rep->elements) {
				freeReplyObject(rep);
				break;
			}
			kl_add_reply(&l, rep->element, rep->elements, 'l');
			freeReplyObject(rep);
		}
		if (!err) {
			rep = redisCommand(d->lr.c, "SMEMBERS l:decay");
			if (rep && rep->type == REDIS_REPLY_ARRAY)
				kl_add_reply(&l, rep->element, rep->elements, 'l');
			if (rep)
				freeReplyObject(rep);
			else
				err = -EIO;
		}
	}
	for (size_t i = 0; i < d->feed.n; i++)
		kl_add(&l, d->feed.k[i]);
	d->feed.n = 0;
	if (!err)
		err = db_merge_list(d, &l, changed);
	if (err && !full) {
		/* what was popped and not merged: back to the dirty set */
		for (size_t i = 0; i < l.n && d->lr.c; i++) {
			rep = redisCommand(d->lr.c, "SADD l:dirty %s", l.k[i]);
			if (rep)
				freeReplyObject(rep);
		}
	}
	free(l.k);
	return err;
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
	for (i = 0; i < ids->elements; i++) {
		uint64_t pw;

		if (ids->element[i]->type != REDIS_REPLY_STRING || !strcmp(ids->element[i]->str, id))
			continue;
		rep = redisCommand(d->mr.c, "GET xw:%s", ids->element[i]->str);
		if (rep && rep->type == REDIS_REPLY_STRING && !xredis_u53(rep, &pw) && off + 100 < plen)
			off += (size_t)snprintf(peers + off, plen - off, "%s\"%s\":%" PRIu64,
						off ? "," : "", ids->element[i]->str, pw);
		if (rep)
			freeReplyObject(rep);
	}
	freeReplyObject(ids);
}


int xpro_syncdb(struct xpro_config *cfg, const struct xpro_sync_opts *o)
{
	static const char *const lsrc[S__N] = { lua_take, lua_put, lua_untake, lua_pull };
	const char *msrc[1] = { xpro_lua_merge_batch };
	struct xpro_proxy px;
	struct db_ctx d;
	uint64_t next, t0 = xredis_mono_ns(), periods = 0, last_ok_ns = 0, w = 0, last_alert = 0;
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
			d.have_l = d.have_m = 0;
		}
		/* master times are microseconds */
		d.mp.tt1_ns = cfg->params.tt1_ns / NS_PER_US;
		d.mp.tt4_ns = cfg->params.tt4_ns / NS_PER_US;
		d.mp.r = cfg->params.r;
		d.mp.ttl_ms = ttl_ms(cfg);
		if (xredis_get(&d.lr) && xredis_get(&d.mr)) {
			if (!d.have_l)
				d.have_l = !load_scripts(&d.lr, lsrc, d.lsha, S__N);
			if (!d.have_m)
				d.have_m = !load_scripts(&d.mr, msrc, &d.msha, 1);
			if (d.have_l && d.have_m && d.lr.c && d.mr.c) {
				if (timed_out)
					db_workload(&d, id, peers, sizeof(peers), &w, &last_alert);
				if (d.lr.c && d.mr.c && !db_round(&d, o->full_scan || need_full, &changed)) {
					ok = 1;
					need_full = 0;
				}
				if (changed && d.lr.c) {
					/* wake syncmaps: merged records to write back */
					redisReply *rep = redisCommand(d.lr.c, "PUBLISH l:upd 1");

					if (rep)
						freeReplyObject(rep);
				}
			}
		}
		if (!d.lr.c)
			d.have_l = 0;
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
			 ",\"peers_w\":{%s},\"merged\":%" PRIu64 ",\"pulled\":%" PRIu64 ",\"put_stale\":%" PRIu64
			 ",\"untaken\":%" PRIu64 ",\"rejected\":%" PRIu64 ",\"events\":%" PRIu64 ",\"feed_keys\":%" PRIu64
			 ",\"full_passes\":%" PRIu64 ",\"watch_conflicts\":%" PRIu64 ",\"lua_batches\":%" PRIu64
			 ",\"branches\":{\"reset\":%" PRIu64 ",\"learn\":%" PRIu64 ",\"decay\":%" PRIu64 ",\"tell\":%" PRIu64
			 ",\"pull\":%" PRIu64 ",\"push\":%" PRIu64 "},\"period_wall_ms\":%.3f,\"cpu_ms_per_period\":%.3f}",
			 (int)getpid(), id, xpro_now_tai(), last_ok_ns, cfg->sync_period_ms, periods,
			 o->full_scan ? "full" : "changed", d.lr.c ? "up" : "down", d.mr.c ? "up" : "down", w,
			 ok ? peers : "", d.st.merged, d.st.pulled, d.st.put_stale, d.st.untaken, d.st.rejected,
			 d.st.events, d.st.feed_keys, d.st.full_passes, d.st.conflicts, d.st.lua_batches,
			 d.st.branches[XPRO_MERGE_RESET], d.st.branches[XPRO_MERGE_LEARN],
			 d.st.branches[XPRO_MERGE_DECAY], d.st.branches[XPRO_MERGE_TELL],
			 d.st.branches[XPRO_MERGE_PULL], d.st.branches[XPRO_MERGE_PUSH],
			 (double)(xredis_mono_ns() - tstart) / 1e6, cpu_total / (double)periods);
		write_status(&px, "syncdb", json);
		if (o->periods > 0 && (long)periods >= o->periods)
			break;
		if (o->duration > 0 && (double)(xredis_mono_ns() - t0) / 1e9 >= o->duration)
			break;
		next += (uint64_t)cfg->sync_period_ms * 1000000ULL;
		if (next < xredis_mono_ns())
			next = xredis_mono_ns();
	}
	pr_info("syncdb %s: stopped after %" PRIu64 " periods, %" PRIu64 " merges\n", id, periods, d.st.merged);
	free(d.feed.k);
	xredis_close(&d.lr);
	xredis_close(&d.mr);
	xredis_close(&d.msub.r);
	xredis_close(&d.lsub.r);
	return 0;
}
