// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The master-side merge script against the C reference xpro_merge(), on a
 * private redis-server (real, Debian's) on a free loopback port with its
 * files in a temp folder, stopped by PID at the end.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <hiredis/hiredis.h>
#include "tap.h"
#include "master.h"
#include "xredis.h"

static pid_t redis_pid;
static char dir[64];
static int redis_port;

static void stop_redis(void)
{
	if (redis_pid > 0) {
		kill(redis_pid, SIGTERM);
		waitpid(redis_pid, NULL, 0);
		redis_pid = 0;
	}
	if (dir[0]) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd)) { /* best effort */ }
		dir[0] = '\0';
	}
}

static redisContext *start_redis(void)
{
	/* the project's one launcher (its settings, its wait for the answer);
	 * tests/run.sh runs from the repository, XPRO_REDIS overrides */
	const char *launcher = getenv("XPRO_REDIS") ? getenv("XPRO_REDIS") : "scripts/xpro-redis";
	char cmd[512], out[32];
	int port, tries, rc;
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/xpro-test-redis-XXXXXX");
	if (!mkdtemp(dir))
		return NULL;
	atexit(stop_redis);
	for (tries = 0; tries < 20; tries++) {
		redisContext *c;

		port = 20000 + (int)((getpid() * 7 + tries * 131) % 30000);
		snprintf(cmd, sizeof(cmd), "%s start %s --port %d", launcher, dir, port);
		f = popen(cmd, "r");
		if (!f)
			return NULL;
		if (!fgets(out, sizeof(out), f))
			out[0] = '\0';
		rc = pclose(f);
		if (WIFEXITED(rc) && WEXITSTATUS(rc) == 3)
			continue; /* port taken: try another */
		if (rc != 0 || atoi(out) <= 0)
			return NULL;
		redis_pid = atoi(out);
		c = redisConnect("127.0.0.1", port);
		if (!c || c->err) {
			if (c)
				redisFree(c);
			return NULL;
		}
		redis_port = port;
		return c;
	}
	return NULL;
}

static uint64_t rs = 12345;

static uint64_t rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 7;
	rs ^= rs << 17;
	return rs;
}

int main(void)
{
	struct xpro_merge_params p = { 1000000, 10000000, 2, 0 }; /* TT1 1 s, TT4 10 s, in us */
	redisContext *c;
	char sha[41], key[64];
	int i, agree = 1, branches[7] = { 0 };
	const char *err;

	if (access("/usr/bin/redis-server", X_OK)) {
		tap_skip("redis-server is not installed (run make deps)");
		return tap_done();
	}
	c = start_redis();
	if (!ok(c != NULL, "a private redis-server answers PING"))
		return tap_done();
	if (!ok(xredis_script_load(c, xpro_lua_merge, sha) == 0, "the merge script loads"))
		return tap_done();

	for (i = 0; i < 20000 && agree; i++) {
		uint64_t base = 1700000000000000ULL + (rnd() % 1000000000ULL); /* TAI us, 2023 */
		struct xpro_lrec l, lr;
		struct xpro_mrec m = { 0 }, mr = { 0 }, mstored;
		int l_found = (int)(rnd() % 8 != 0), m_found = (int)(rnd() % 8 != 0), b_ref, b_lua = -1, rc;
		redisReply *r;

		p.r = 1 + (uint32_t)(rnd() % 4);
		l.ts1 = base + rnd() % 20000000;
		l.ts2 = l.ts1 + rnd() % 15000000;
		l.dc = rnd() % 1000;
		l.c = l.dc + rnd() % 100000;
		l.mark = (uint32_t)(rnd() % 2);
		m.ts1 = base + rnd() % 20000000;
		/* the master start last seen: unknown, or before or after the
		 * master's present one (another proxy moved it forward) */
		l.mts1 = rnd() % 3 == 0 ? 0 : m.ts1 - 5000000 + rnd() % 10000000;
		m.ts2 = m.ts1 + rnd() % 15000000;
		m.c = rnd() % 1000000;
		snprintf(key, sizeof(key), "x:{198.18.1.%d}:198.18.0.%d", i % 250, i % 200);
		/* the master's storage: hash x:{D}, field i, "ts1 ts2 c" */
		r = redisCommand(c, "HDEL x:{198.18.1.%d} 198.18.0.%d", i % 250, i % 200);
		freeReplyObject(r);
		if (m_found) {
			char val[80];

			snprintf(val, sizeof(val), "%llu %llu %llu", (unsigned long long)m.ts1,
				 (unsigned long long)m.ts2, (unsigned long long)m.c);
			r = redisCommand(c, "HSET x:{198.18.1.%d} 198.18.0.%d %s", i % 250, i % 200, val);
			freeReplyObject(r);
		}
		lr = l;
		mr = m;
		b_ref = xpro_merge(&lr, l_found, &mr, m_found, &p);
		rc = xpro_master_merge(c, sha, key, &l, l_found, &p, &mstored, &b_lua, &err);
		if (rc || b_lua != b_ref) {
			tap_diag("case %d: rc %d (%s), branch lua %d ref %d", i, rc, err ? err : "", b_lua, b_ref);
			agree = 0;
			break;
		}
		if (b_ref)
			branches[b_ref]++;
		if (b_ref && b_ref != XPRO_MERGE_PULL &&
		    (mstored.ts1 != mr.ts1 || mstored.ts2 != mr.ts2 || mstored.c != mr.c))
			agree = 0;
		if (b_ref && (l.ts1 != lr.ts1 || l.ts2 != lr.ts2 || l.c != lr.c || l.dc != lr.dc || l.mark != lr.mark))
			agree = 0;
		if (!agree)
			tap_diag("case %d (branch %d): lua l=(%llu,%llu,%llu,%llu,%u) m=(%llu,%llu,%llu); ref l=(%llu,%llu,%llu,%llu,%u) m=(%llu,%llu,%llu)",
				 i, b_ref, (unsigned long long)l.ts1, (unsigned long long)l.ts2, (unsigned long long)l.c,
				 (unsigned long long)l.dc, l.mark, (unsigned long long)mstored.ts1,
				 (unsigned long long)mstored.ts2, (unsigned long long)mstored.c,
				 (unsigned long long)lr.ts1, (unsigned long long)lr.ts2, (unsigned long long)lr.c,
				 (unsigned long long)lr.dc, lr.mark, (unsigned long long)mr.ts1,
				 (unsigned long long)mr.ts2, (unsigned long long)mr.c);
	}
	ok(agree, "the Lua merge equals the C reference on %d random records", i);
	ok(branches[1] && branches[2] && branches[3] && branches[4] && branches[5] && branches[6],
	   "every branch was exercised (reset %d, learn %d, decay %d, tell %d, pull %d, push %d)",
	   branches[1], branches[2], branches[3], branches[4], branches[5], branches[6]);

	/* the batched script (fast exchange) equals the C reference too, key by
	 * key, and publishes the keys it changed with the origin */
	{
		char bsha[41], keys[16][64];
		int nb, agree_b = 1, k, published = 1, nbatch;
		redisContext *sub = redisConnect("127.0.0.1", redis_port);
		redisReply *r;

		ok(sub && !sub->err && xredis_script_load(c, xpro_lua_merge_batch, bsha) == 0,
		   "the batched merge script loads");
		r = redisCommand(sub, "SUBSCRIBE xpro:chg");
		freeReplyObject(r);
		for (nbatch = 0; nbatch < 2000 && agree_b; nbatch++) {
			struct xpro_lrec l[16], lr[16];
			struct xpro_mrec m[16], mr[16];
			int lf[16], mf[16], bref[16], nchg = 0;
			const char *argv[4 + 5 + 16 * 8];
			size_t argl[sizeof(argv) / sizeof(argv[0])];
			char vals[5 + 16 * 8][24], hash[32], fields[16][24];
			int a = 0, v = 0;

			nb = 1 + (int)(rnd() % 16);
			p.r = 1 + (uint32_t)(rnd() % 4);
			argv[a++] = "EVALSHA";
			argv[a++] = bsha;
			argv[a++] = "1";
			snprintf(hash, sizeof(hash), "x:{198.18.2.%d}", nbatch % 200);
			argv[a++] = hash;
			for (k = 0; k < nb; k++) {
				uint64_t base = 1700000000000000ULL + (rnd() % 1000000000ULL);

				snprintf(keys[k], sizeof(keys[k]), "x:{198.18.2.%d}:198.18.0.%d", nbatch % 200, k);
				snprintf(fields[k], sizeof(fields[k]), "198.18.0.%d", k);
				lf[k] = (int)(rnd() % 8 != 0);
				mf[k] = (int)(rnd() % 8 != 0);
				l[k].ts1 = base + rnd() % 20000000;
				l[k].ts2 = l[k].ts1 + rnd() % 15000000;
				l[k].dc = rnd() % 1000;
				l[k].c = l[k].dc + rnd() % 100000;
				l[k].mark = (uint32_t)(rnd() % 2);
				m[k].ts1 = base + rnd() % 20000000;
				l[k].mts1 = rnd() % 3 == 0 ? 0 : m[k].ts1 - 5000000 + rnd() % 10000000;
				m[k].ts2 = m[k].ts1 + rnd() % 15000000;
				m[k].c = rnd() % 1000000;
				r = redisCommand(c, "HDEL %s %s", hash, fields[k]);
				freeReplyObject(r);
				if (mf[k]) {
					char val[80];

					snprintf(val, sizeof(val), "%llu %llu %llu", (unsigned long long)m[k].ts1,
						 (unsigned long long)m[k].ts2, (unsigned long long)m[k].c);
					r = redisCommand(c, "HSET %s %s %s", hash, fields[k], val);
					freeReplyObject(r);
				}
				lr[k] = l[k];
				mr[k] = m[k];
				bref[k] = xpro_merge(&lr[k], lf[k], &mr[k], mf[k], &p);
				/* published: the records the merge changed on the master
				 * (a merge that leaves it as it was tells nobody) */
				if (bref[k] && bref[k] != XPRO_MERGE_PULL &&
				    (!mf[k] || mr[k].ts1 != m[k].ts1 || mr[k].ts2 != m[k].ts2 || mr[k].c != m[k].c))
					nchg++;
			}
			snprintf(vals[v], 24, "%llu", (unsigned long long)p.tt1_ns); argv[a++] = vals[v++];
			snprintf(vals[v], 24, "%llu", (unsigned long long)p.tt4_ns); argv[a++] = vals[v++];
			snprintf(vals[v], 24, "%u", p.r); argv[a++] = vals[v++];
			argv[a++] = "0";
			argv[a++] = "origin-7";
			for (k = 0; k < nb; k++) {
				argv[a++] = fields[k];
				snprintf(vals[v], 24, "%llu", (unsigned long long)l[k].ts1); argv[a++] = vals[v++];
				snprintf(vals[v], 24, "%llu", (unsigned long long)l[k].ts2); argv[a++] = vals[v++];
				snprintf(vals[v], 24, "%llu", (unsigned long long)l[k].c); argv[a++] = vals[v++];
				snprintf(vals[v], 24, "%llu", (unsigned long long)l[k].dc); argv[a++] = vals[v++];
				snprintf(vals[v], 24, "%u", l[k].mark); argv[a++] = vals[v++];
				argv[a++] = lf[k] ? "1" : "0";
				snprintf(vals[v], 24, "%llu", (unsigned long long)l[k].mts1); argv[a++] = vals[v++];
			}
			for (k = 0; k < a; k++)
				argl[k] = strlen(argv[k]);
			r = redisCommandArgv(c, a, argv, argl);
			if (!r || r->type != REDIS_REPLY_ARRAY || (int)r->elements != nb) {
				tap_diag("batch %d: bad reply", nbatch);
				agree_b = 0;
			}
			for (k = 0; agree_b && k < nb; k++) {
				struct xpro_lrec lb = l[k];
				struct xpro_mrec mb;
				int b;

				if (xpro_master_merge_parse(r->element[k], &lb, &mb, &b, &err) || b != bref[k] ||
				    (b && (lb.ts1 != lr[k].ts1 || lb.ts2 != lr[k].ts2 || lb.c != lr[k].c ||
					   lb.dc != lr[k].dc || lb.mark != lr[k].mark)) ||
				    (b && b != XPRO_MERGE_PULL && (mb.ts1 != mr[k].ts1 || mb.ts2 != mr[k].ts2 || mb.c != mr[k].c))) {
					tap_diag("batch %d key %d: branch %d, reference %d", nbatch, k, b, bref[k]);
					agree_b = 0;
				}
			}
			if (r)
				freeReplyObject(r);
			if (agree_b && nchg) {
				redisReply *msg = NULL;
				int n = 1;
				const char *q;

				if (redisGetReply(sub, (void **)&msg) != REDIS_OK || !msg || msg->type != REDIS_REPLY_ARRAY ||
				    msg->elements != 3 || strncmp(msg->element[2]->str, "origin-7\n", 9)) {
					published = 0;
				} else {
					for (q = msg->element[2]->str; (q = strchr(q, '\n')); q++)
						n++;
					if (n != nchg + 1)
						published = 0;
				}
				if (msg)
					freeReplyObject(msg);
			}
		}
		ok(agree_b, "the batched merge equals the C reference, key by key, over %d batches", nbatch);
		ok(published, "each batch publishes its origin and exactly the keys whose master value changed on xpro:chg");
		redisFree(sub);
	}

	/* a hostile master: non-numeric, negative, absurd fields are rejected */
	{
		struct xpro_lrec l = { 1, 2, 3, 3, 0, 0 };
		struct xpro_mrec m;
		int b;
		redisReply *r;

		r = redisCommand(c, "HSET x:{198.18.1.1} 198.18.0.1 %s", "abc 5 7");
		freeReplyObject(r);
		ok(xpro_master_merge(c, sha, "x:{198.18.1.1}:198.18.0.1", &l, 1, &p, &m, &b, &err) == -EPROTO,
		   "a non-numeric master field is rejected");
		r = redisCommand(c, "HSET x:{198.18.1.1} 198.18.0.1 %s", "-4 5 7");
		freeReplyObject(r);
		ok(xpro_master_merge(c, sha, "x:{198.18.1.1}:198.18.0.1", &l, 1, &p, &m, &b, &err) == -EPROTO,
		   "a negative master field is rejected");
		r = redisCommand(c, "HSET x:{198.18.1.1} 198.18.0.1 %s", "1e300 5 7");
		freeReplyObject(r);
		ok(xpro_master_merge(c, sha, "x:{198.18.1.1}:198.18.0.1", &l, 1, &p, &m, &b, &err) == -EPROTO,
		   "an absurd master field is rejected");
		ok(l.c == 3 && l.dc == 3, "a rejected merge leaves the local record untouched");
	}
	redisFree(c);
	stop_redis();
	return tap_done();
}
