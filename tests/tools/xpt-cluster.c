// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpt-cluster: drives the Redis Cluster client (xpro/rcluster.h) against a
 * real cluster for tests/bats/47-cluster-client.bats.
 *
 *   xpt-cluster keyslot KEY...   one line "SLOT KEY" per key (no cluster)
 *   xpt-cluster cmd --seeds LIST COMMAND KEY [ARG...]
 *       one command routed by KEY, as a batch of one: its reply ("string:",
 *       "error:", "integer:", "array:", "nil") or "failed: <why>", then the
 *       client's counters and the batch's time as JSON; exit 0 answered,
 *       1 failed
 *   xpt-cluster run --seeds LIST [--keys N] [--dests D] [--rounds R] [--duration S] ...
 *       Round r (1, 2, ...): one batch SETs every key "t:{198.18.1.d}:i" to
 *       "r<r>" (with --eval through a Lua script that --eval loads on every
 *       master first: EVALSHA), one batch GETs them all back; then a pause
 *       (--pause-ms).
 *       A read is checked against what this tool knows was written: a key
 *       whose last SET was answered OK must read that round's value; after
 *       a SET that failed (it may or may not have run) either value is
 *       right, never an older one. At exit one JSON object: the rounds,
 *       the commands answered and failed, the mismatches, the rounds that
 *       went through whole after the last failed one, the longest batch
 *       (ms), the client's counters (moved, ask, ...).
 *       --progress F: the round number is written to F after every round;
 *       --stop-file F: the run ends after the round in which F exists.
 * Bounded: at most --rounds rounds (10 unless --duration is given), no
 * round started after --duration seconds (at most 600).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "opt.h"
#include "rcluster.h"

#define TOOL "xpt-cluster"
#define MAX_KEYS 100000
#define MAX_SECONDS 600

static const char USAGE[] =
	"usage: xpt-cluster keyslot KEY...\n"
	"       xpt-cluster run --seeds ADDR:PORT,... [options]\n"
	"       xpt-cluster cmd --seeds ADDR:PORT,... [options] [--] COMMAND KEY [ARG...]\n"
	"Drives xpro's Redis Cluster client against a real cluster (tests/bats/47-cluster-client.bats).\n";

struct key {
	char name[48];
	long acked;        /* the last round whose SET was answered OK (0: none) */
	long unsure;       /* a later round whose SET failed (0: none) */
};

static char *read_pass(const char *path)
{
	static char pass[128];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		xp_opt_die(TOOL, "--pass-file: cannot open %s", path);
	n = fread(pass, 1, sizeof(pass) - 1, f);
	fclose(f);
	pass[n] = '\0';
	pass[strcspn(pass, "\r\n")] = '\0';
	return pass;
}

static int verbose, shown;
static char sha[41];        /* --eval: the SET script's SHA1 */

/* a failure on stderr: all with --verbose, else the first 5 */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	if (!verbose && shown >= 5)
		return;
	shown++;
	fprintf(stderr, "%s: ", TOOL);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double ms_since(uint64_t t0)
{
	return (double)(xredis_mono_ns() - t0) / 1e6;
}

/* one batch: CMD KEY [VAL] for every key, executed; its failures; the
 * longest batch so far in *max_ms */
static int batch(struct rcluster *rc, const struct key *k, long n, const char *cmd, const char *val, double *max_ms)
{
	uint64_t t0;
	long i;
	int failed;

	for (i = 0; i < n; i++) {
		const char *v[5] = { cmd, k[i].name, val };
		size_t l[5] = { strlen(cmd), strlen(k[i].name), val ? strlen(val) : 0 };

		if (val && sha[0]) { /* EVALSHA sha 1 key val */
			const char *e[5] = { "EVALSHA", sha, "1", k[i].name, val };
			size_t el[5] = { 7, 40, 1, l[1], l[2] };

			memcpy(v, e, sizeof(e));
			memcpy(l, el, sizeof(el));
		}
		rcluster_queue(rc, k[i].name, strlen(k[i].name), val ? (sha[0] ? 5 : 3) : 2, v, l);
	}
	t0 = xredis_mono_ns();
	failed = rcluster_exec(rc);
	if (ms_since(t0) > *max_ms)
		*max_ms = ms_since(t0);
	return failed;
}

/* cmd: ARGV (routed by ARGV[1]) as a batch of one; its reply or why it
 * failed, then the client's counters as JSON. 0 answered, 1 failed. */
static int one_cmd(struct rcluster *rc, int n, char **a)
{
	const char *v[64];
	size_t l[64];
	redisReply *rep;
	uint64_t t0 = xredis_mono_ns();
	int i, failed;

	if (n > 64)
		xp_opt_die(TOOL, "cmd: at most 64 arguments");
	for (i = 0; i < n; i++) {
		v[i] = a[i];
		l[i] = strlen(a[i]);
	}
	rcluster_queue(rc, a[1], l[1], n, v, l);
	failed = rcluster_exec(rc);
	rep = rcluster_reply(rc, 0);
	if (!rep)
		printf("failed: %s\n", rcluster_cmd_err(rc, 0));
	else if (rep->type == REDIS_REPLY_INTEGER)
		printf("integer: %lld\n", rep->integer);
	else if (rep->type == REDIS_REPLY_ARRAY)
		printf("array: %zu elements\n", rep->elements);
	else if (rep->type == REDIS_REPLY_NIL)
		printf("nil\n");
	else
		printf("%s: %s\n", rep->type == REDIS_REPLY_ERROR ? "error" : "string", rep->str);
	printf("{\"ms\":%.0f,\"moved\":%" PRIu64 ",\"ask\":%" PRIu64 ",\"tryagain\":%" PRIu64 ",\"clusterdown\":%" PRIu64
	       ",\"refreshes\":%" PRIu64 ",\"retries\":%" PRIu64 "}\n", ms_since(t0), rc->st.moved, rc->st.ask,
	       rc->st.tryagain, rc->st.clusterdown, rc->st.refreshes, rc->st.retries);
	rcluster_free(rc);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *seeds = NULL, *user = "", *pass_file = NULL, *progress = NULL, *stop_file = NULL;
	long nkeys = 1000, ndests = 50, rounds = -1;
	int pause_ms = 20, budget_ms = RC_DEF_BUDGET_MS, quiet = 0, eval = 0;
	double duration = 0, max_ms = 0;
	const struct xp_opt tab[] = {
		XP_STR("seeds", 0, &seeds, "LIST", "run: the cluster's seed list, ADDR:PORT,[IPV6]:PORT,..."),
		XP_STR("user", 0, &user, "NAME", "run: the ACL user"),
		XP_STR("pass-file", 0, &pass_file, "F", "run: the password's file (its first line)"),
		XP_LONG("keys", 0, &nkeys, 1, MAX_KEYS, "N", "run: keys (default 1000)"),
		XP_LONG("dests", 0, &ndests, 1, 250, "D", "run: hash tags {198.18.1.d}, d = 1..D (default 50)"),
		XP_LONG("rounds", 0, &rounds, 1, 1000000, "R", "run: at most R rounds (default 10 without --duration, else no limit)"),
		XP_DOUBLE("duration", 0, &duration, 0, MAX_SECONDS, "S", "run: no round starts after S seconds", .flags = XP_OPT_GT),
		XP_INT("pause-ms", 0, &pause_ms, 0, 10000, "MS", "run: pause between rounds (default 20)"),
		XP_INT("budget-ms", 0, &budget_ms, 1, 60000, "MS", "run: the client's time budget per batch (default 2000)"),
		XP_STR("progress", 0, &progress, "F", "run: write the round number to F after each round"),
		XP_STR("stop-file", 0, &stop_file, "F", "run: stop after the round in which F exists"),
		XP_FLAG("eval", 0, &eval, "run: SET through a Lua script (EVALSHA), loaded on every master first"),
		XP_FLAG("verbose", 'v', &verbose, "run: every failed command on stderr (else the first 5)"),
		XP_FLAG("quiet", 'q', &quiet, "run: no line per failed round on stderr"),
		{ 0 }
	};
	int first = xp_opt_parse(TOOL, USAGE, tab, argc, argv), i;
	static struct rcluster rc;
	struct key *k;
	uint64_t start;
	long r, ops_ok = 0, ops_failed = 0, mismatches = 0, failed_rounds = 0, ok_after = 0, last_failed = 0;
	char val[32];

	if (first >= argc)
		xp_opt_die(TOOL, "keyslot or run expected (try --help)");
	if (!strcmp(argv[first], "keyslot")) {
		for (i = first + 1; i < argc; i++)
			printf("%u %s\n", rc_keyslot(argv[i], strlen(argv[i])), argv[i]);
		return 0;
	}
	if (strcmp(argv[first], "run") && strcmp(argv[first], "cmd"))
		xp_opt_die(TOOL, "unknown command '%s' (keyslot, cmd or run)", argv[first]);
	if (!strcmp(argv[first], "run") && first + 1 < argc)
		xp_opt_die(TOOL, "unexpected argument '%s' (try --help)", argv[first + 1]);
	if (!strcmp(argv[first], "cmd") && argc - first < 3)
		xp_opt_die(TOOL, "cmd needs a command and its key");
	if (!seeds)
		xp_opt_die(TOOL, "%s needs --seeds", argv[first]);
	if (rcluster_init(&rc, seeds, user, pass_file ? read_pass(pass_file) : ""))
		xp_opt_die(TOOL, "--seeds: %s", rc.err);
	rc.budget_ms = (unsigned int)budget_ms;
	if (!strcmp(argv[first], "cmd"))
		return one_cmd(&rc, argc - first - 1, argv + first + 1);
	if (eval) {
		int n = rcluster_script_load(&rc, "return redis.call('SET', KEYS[1], ARGV[1])", sha);

		if (n <= 0) {
			fprintf(stderr, "%s: --eval: %s\n", TOOL, rc.err);
			return 1;
		}
		fprintf(stderr, "%s: the script %s loaded on %d masters\n", TOOL, sha, n);
	}
	k = calloc((size_t)nkeys, sizeof(*k));
	if (!k)
		xp_opt_die(TOOL, "out of memory");
	for (i = 0; i < nkeys; i++)
		snprintf(k[i].name, sizeof(k[i].name), "t:{198.18.1.%ld}:%d", 1 + i % ndests, i);

	if (rounds < 0)
		rounds = duration > 0 ? 0 : 10;
	start = xredis_mono_ns();
	for (r = 1; (!rounds || r <= rounds) && (duration <= 0 || ms_since(start) < duration * 1000); r++) {
		int nfail_set, nfail_get, bad = 0;

		snprintf(val, sizeof(val), "r%ld", r);

		nfail_set = batch(&rc, k, nkeys, "SET", val, &max_ms);
		for (i = 0; i < nkeys; i++) {
			redisReply *rep = rcluster_reply(&rc, i);

			if (rep && rep->type == REDIS_REPLY_STATUS && !strcmp(rep->str, "OK")) {
				k[i].acked = r;
				k[i].unsure = 0;
				ops_ok++;
			} else {
				k[i].unsure = r;
				ops_failed++;
				say("round %ld: SET %s: %s", r, k[i].name,
				    rep ? (rep->str ? rep->str : "unexpected reply") : rcluster_cmd_err(&rc, i));
			}
		}
		rcluster_reset(&rc);
		nfail_get = batch(&rc, k, nkeys, "GET", NULL, &max_ms);
		for (i = 0; i < nkeys; i++) {
			redisReply *rep = rcluster_reply(&rc, i);
			long got;
			char *end;

			if (!rep) {
				ops_failed++;
				say("round %ld: GET %s: %s", r, k[i].name, rcluster_cmd_err(&rc, i));
				continue;
			}
			ops_ok++;
			got = 0;
			if (rep->type == REDIS_REPLY_STRING && rep->len > 1 && rep->str[0] == 'r')
				got = strtol(rep->str + 1, &end, 10);
			if (rep->type == REDIS_REPLY_NIL && !k[i].acked)
				continue; /* never written for sure, and not there */
			if (got == k[i].acked || (k[i].unsure && got == k[i].unsure) ||
			    (k[i].unsure && got > k[i].acked && got <= k[i].unsure)) {
				k[i].acked = got > k[i].acked ? got : k[i].acked;
				k[i].unsure = 0;
				continue;
			}
			mismatches++;
			bad = 1;
			say("round %ld: GET %s: '%.*s', want r%ld%s", r, k[i].name,
			    rep->type == REDIS_REPLY_STRING ? (int)rep->len : 3,
			    rep->type == REDIS_REPLY_STRING ? rep->str : "nil", k[i].acked,
			    k[i].unsure ? " (or a later unsure one)" : "");
		}
		rcluster_reset(&rc);
		if (nfail_set || nfail_get || bad) {
			failed_rounds++;
			last_failed = r;
			ok_after = 0;
			if (!quiet)
				fprintf(stderr, "%s: round %ld: %d SET and %d GET failed, %s\n", TOOL, r, nfail_set, nfail_get,
					bad ? "wrong values read" : "the values read are right");
		} else {
			ok_after++;
		}
		if (progress) { /* replaced whole: a reader never sees it half written */
			char tmp[4096];
			FILE *f;

			snprintf(tmp, sizeof(tmp), "%s.tmp", progress);
			f = fopen(tmp, "w");
			if (f) {
				fprintf(f, "%ld\n", r);
				if (fclose(f) == 0)
					rename(tmp, progress);
			}
		}
		if (stop_file && !access(stop_file, F_OK)) {
			r++;
			break;
		}
		if (pause_ms) {
			struct timespec ts = { pause_ms / 1000, (long)(pause_ms % 1000) * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
	printf("{\"rounds\":%ld,\"keys\":%ld,\"ops_ok\":%ld,\"ops_failed\":%ld,\"mismatches\":%ld,"
	       "\"failed_rounds\":%ld,\"last_failed_round\":%ld,\"ok_rounds_after\":%ld,\"max_batch_ms\":%.0f,"
	       "\"moved\":%" PRIu64 ",\"ask\":%" PRIu64 ",\"tryagain\":%" PRIu64 ",\"clusterdown\":%" PRIu64
	       ",\"loading\":%" PRIu64 ",\"conn_lost\":%" PRIu64 ",\"refreshes\":%" PRIu64 ",\"refresh_failures\":%" PRIu64
	       ",\"maps_refused\":%" PRIu64 ",\"cmds_failed\":%" PRIu64 ",\"retries\":%" PRIu64 "}\n",
	       r - 1, nkeys, ops_ok, ops_failed, mismatches, failed_rounds, last_failed, ok_after, max_ms,
	       rc.st.moved, rc.st.ask, rc.st.tryagain, rc.st.clusterdown, rc.st.loading, rc.st.conn_lost,
	       rc.st.refreshes, rc.st.refresh_failures, rc.st.maps_refused, rc.st.cmds_failed, rc.st.retries);
	if (rc.map_err[0])
		fprintf(stderr, "%s: the last slot map refused: %s\n", TOOL, rc.map_err);
	if (rc.err[0])
		fprintf(stderr, "%s: the client's last error: %s\n", TOOL, rc.err);
	rcluster_free(&rc);
	free(k);
	return 0;
}
