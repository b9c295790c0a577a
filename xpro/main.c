// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpro: load, control and observe the X-Pro XDP proxy.
 * `xpro help` lists the commands; docs/xpro.md describes each.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "log.h"
#include "proxy.h"
#include "stats.h"
#include "sync.h"
#include "xredis.h"

#define XPRO_VERSION "0.1.0"
#define XPRO_DEFAULT_CONF "/etc/xpro/xpro.conf"

static volatile sig_atomic_t stop, reload;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void on_hup(int sig)
{
	(void)sig;
	reload = 1;
}


static void usage(FILE *f)
{
	fprintf(f,
"usage: xpro COMMAND [options]\n"
"\n"
"Commands (run inside the proxy's network namespace):\n"
"  attach  -i IFACE [-c FILE] [--set K=V]... [--generic] [--replace] [--force]\n"
"                    load, pin and attach the XDP filter; print what was attached\n"
"  detach  -i IFACE [--keep-maps]   detach and remove the pins (or keep the state)\n"
"  status  -i IFACE                 mode, program id, thresholds, map fill\n"
"  stats   -i IFACE [--json|--prom] [--top N]   counters by verdict and reason, top talkers\n"
"  top     -i IFACE [--interval S] [--count N]  live view, refreshing\n"
"  set     -i IFACE K=V...          change thresholds or policy at run time (no reload)\n"
"  tf2     -i IFACE DEST PPS|clear  per-destination TF2 override; 'tf2 -i IFACE list'\n"
"  flush   -i IFACE                 forget every record and aggregate\n"
"  forget  -i IFACE CLIENT DEST     forget one (client, destination) record\n"
"  warnd   -i IFACE [--duration S]  the one consumer of overload warnings: JSON lines\n"
"  alerts  -i IFACE [--follow] [--count N] [--duration S]  show published warnings\n"
"  alerts  --all [-c FILE] [--count N] [--duration S]  every proxy's warnings and alerts (master)\n"
"  syncmaps -i IFACE [--full-scan] [--duration S] [--periods N]\n"
"                    sync daemon: BPF maps <-> local Redis, aggregate recompute, W\n"
"  syncdb  -i IFACE [--full-scan] [--duration S] [--periods N]\n"
"                    sync daemon: local Redis <-> master (Algorithm 1), workload, alerts\n"
"  config check FILE                validate a config file and say what is wrong\n"
"  config show [-c FILE] [--set K=V]...  print the effective config\n"
"  version | help\n"
"\n"
"Common options: -c FILE (default %s if present), --set KEY=VALUE (overrides\n"
"the file), -v (more output), -vv (libbpf debug). Config keys: docs/config.md.\n",
		XPRO_DEFAULT_CONF);
}

struct cli {
	const char *ifname;
	const char *conf;
	const char *sets[64];
	int nsets;
	int json, prom, replace, force, keep_maps, follow, full_scan, all;
	long periods;
	unsigned int top;
	double interval, duration;
	long count;
	struct xpro_config cfg;
};

enum {
	O_SET = 256, O_JSON, O_PROM, O_REPLACE, O_FORCE, O_KEEP, O_TOP, O_INTERVAL,
	O_COUNT, O_DURATION, O_GENERIC, O_FOLLOW, O_FULL, O_PERIODS, O_ALL,
};

static const struct option long_opts[] = {
	{ "interface", required_argument, NULL, 'i' },
	{ "config", required_argument, NULL, 'c' },
	{ "set", required_argument, NULL, O_SET },
	{ "json", no_argument, NULL, O_JSON },
	{ "prom", no_argument, NULL, O_PROM },
	{ "replace", no_argument, NULL, O_REPLACE },
	{ "force", no_argument, NULL, O_FORCE },
	{ "keep-maps", no_argument, NULL, O_KEEP },
	{ "top", required_argument, NULL, O_TOP },
	{ "interval", required_argument, NULL, O_INTERVAL },
	{ "count", required_argument, NULL, O_COUNT },
	{ "duration", required_argument, NULL, O_DURATION },
	{ "generic", no_argument, NULL, O_GENERIC },
	{ "follow", no_argument, NULL, O_FOLLOW },
	{ "full-scan", no_argument, NULL, O_FULL },
	{ "all", no_argument, NULL, O_ALL },
	{ "periods", required_argument, NULL, O_PERIODS },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int parse_num(const char *s, const char *what, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || *end || *out < 0) {
		pr_warn("%s: '%s' is not a non-negative number\n", what, s);
		return -EINVAL;
	}
	return 0;
}

static int parse_cli(struct cli *c, int argc, char **argv)
{
	int opt, generic = 0;
	double d;

	memset(c, 0, sizeof(*c));
	c->top = 10;
	c->interval = 1.0;
	c->count = -1;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "i:c:vh", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'i': c->ifname = optarg; break;
		case 'c': c->conf = optarg; break;
		case O_SET:
			if (c->nsets >= 64) {
				pr_warn("too many --set options\n");
				return -EINVAL;
			}
			c->sets[c->nsets++] = optarg;
			break;
		case O_JSON: c->json = 1; break;
		case O_PROM: c->prom = 1; break;
		case O_REPLACE: c->replace = 1; break;
		case O_FORCE: c->force = 1; break;
		case O_KEEP: c->keep_maps = 1; break;
		case O_FOLLOW: c->follow = 1; break;
		case O_FULL: c->full_scan = 1; break;
		case O_ALL: c->all = 1; break;
		case O_PERIODS:
			if (parse_num(optarg, "--periods", &d))
				return -EINVAL;
			c->periods = (long)d;
			break;
		case O_GENERIC: generic = 1; break;
		case O_TOP:
			if (parse_num(optarg, "--top", &d))
				return -EINVAL;
			c->top = (unsigned int)d;
			break;
		case O_INTERVAL:
			if (parse_num(optarg, "--interval", &c->interval) || c->interval < 0.05) {
				pr_warn("--interval: at least 0.05 s\n");
				return -EINVAL;
			}
			break;
		case O_COUNT:
			if (parse_num(optarg, "--count", &d))
				return -EINVAL;
			c->count = (long)d;
			break;
		case O_DURATION:
			if (parse_num(optarg, "--duration", &c->duration))
				return -EINVAL;
			break;
		case 'v': xpro_log_level++; break;
		case 'h': usage(stdout); exit(0);
		default: return -EINVAL;
		}
	}
	xpro_config_defaults(&c->cfg);
	if (!c->conf && !access(XPRO_DEFAULT_CONF, R_OK))
		c->conf = XPRO_DEFAULT_CONF;
	if (c->conf) {
		int nerr;

		if (xpro_config_load(&c->cfg, c->conf, &nerr))
			return -EINVAL;
	}
	if (generic && xpro_config_set(&c->cfg, "xdp_mode=generic", "--generic"))
		return -EINVAL;
	for (int i = 0; i < c->nsets; i++)
		if (xpro_config_set(&c->cfg, c->sets[i], "--set"))
			return -EINVAL;
	return 0;
}

static int open_proxy(struct cli *c, struct xpro_proxy *px)
{
	int err = xpro_proxy_init(px, &c->cfg, c->ifname);

	return err ? err : xpro_proxy_open(px);
}

static int cmd_status(struct cli *c)
{
	struct xpro_proxy px;
	struct xpro_snapshot s;
	struct bpf_map_info info;
	__u32 id = 0, len = sizeof(info);
	char path[700], line[256];
	int err;
	FILE *f;

	err = open_proxy(c, &px);
	if (err)
		return err;
	err = xpro_collect(&px, &s, 0);
	if (err)
		goto out;
	if (px.ifindex)
		bpf_xdp_query_id(px.ifindex, 0, &id);
	memset(&info, 0, sizeof(info));
	bpf_obj_get_info_by_fd(px.fd[M_RECORDS], &info, &len);
	printf("interface %s, netns %s: %s (prog id %u)\n", px.ifname, px.nsname,
	       id ? "attached" : "NOT attached (maps kept)", id);
	printf("pins %s\n", px.pin_dir);
	printf("records %" PRIu64 " / %u, destinations %" PRIu64 "\n", s.records, info.max_entries, s.dests);
	printf("policy %s, filter %s, ipv6 %s\n", xpro_policy_name(s.params.policy),
	       s.params.filter ? "on" : "off", s.params.ipv6 == XPRO_IPV6_KERNEL ? "kernel" : "drop");
	printf("TT1 %" PRIu64 " ms, TT2 %" PRIu64 " ms, TT3 %" PRIu64 " ms, TT4 %" PRIu64 " ms, TF1 %" PRIu64
	       " pps, TF2 %" PRIu64 " pps (%u overrides), r %u\n",
	       (uint64_t)s.params.tt1_ns / 1000000, (uint64_t)s.params.tt2_ns / 1000000,
	       (uint64_t)s.params.tt3_ns / 1000000, (uint64_t)s.params.tt4_ns / 1000000,
	       (uint64_t)s.params.tf1, (uint64_t)s.params.tf2, s.params.tf2_overrides, s.params.r);
	snprintf(path, sizeof(path), "%s/attached.conf", px.state_dir);
	f = fopen(path, "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "mode", 4) || !strncmp(line, "tunnel_", 7) || !strncmp(line, "xdp_mode", 8))
				printf("%s", line);
		fclose(f);
	}
	{
		static char st[8192];
		double lag;
		const char *p, *q;

		if (xpro_sync_state(&px, "syncmaps", st, sizeof(st), &lag))
			printf("syncmaps: not running here\n");
		else
			printf("syncmaps: last complete period %.0f ms ago\n", lag);
		if (xpro_sync_state(&px, "syncdb", st, sizeof(st), &lag)) {
			printf("syncdb: not running here\n");
		} else {
			printf("syncdb: last complete period %.0f ms ago\n", lag);
			p = strstr(st, "\"peers_w\":{");
			q = p ? strchr(p, '}') : NULL;
			if (p && q)
				printf("other proxies' workload (packets/s): %.*s\n", (int)(q - p - 11), p + 11);
		}
	}
out:
	xpro_proxy_close(&px);
	return err;
}

static int cmd_stats(struct cli *c)
{
	struct xpro_proxy px;
	static struct xpro_snapshot s;
	int err;

	err = open_proxy(c, &px);
	if (err)
		return err;
	err = xpro_collect(&px, &s, c->top);
	if (!err) {
		if (c->json)
			xpro_print_json(&px, &s, stdout);
		else if (c->prom)
			xpro_print_prom(&px, &s, stdout);
		else
			xpro_print_text(&px, &s, stdout);
	} else {
		pr_warn("stats %s: %s\n", px.ifname, strerror(-err));
	}
	xpro_proxy_close(&px);
	return err;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

static int cmd_top(struct cli *c)
{
	struct xpro_proxy px;
	static struct xpro_snapshot s, prev;
	long n = 0;
	int err;

	err = open_proxy(c, &px);
	if (err)
		return err;
	while (!stop && (c->count < 0 || n < c->count)) {
		err = xpro_collect(&px, &s, c->top);
		if (err)
			break;
		if (isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		printf("xpro top: %s  (every %.2f s, Ctrl-C to stop)\n", px.ifname, c->interval);
		if (n) {
			printf("  rate: rx %.0f pps, passed %.0f pps, dropped tf1 %.0f tf2 %.0f pps\n",
			       (double)(s.counters[XPRO_C_RX] - prev.counters[XPRO_C_RX]) / c->interval,
			       (double)(s.counters[XPRO_C_PASS_REDIRECT] + s.counters[XPRO_C_PASS_TX] +
					s.counters[XPRO_C_PASS_KERNEL] - prev.counters[XPRO_C_PASS_REDIRECT] -
					prev.counters[XPRO_C_PASS_TX] - prev.counters[XPRO_C_PASS_KERNEL]) / c->interval,
			       (double)(s.counters[XPRO_C_DROP_TF1] - prev.counters[XPRO_C_DROP_TF1]) / c->interval,
			       (double)(s.counters[XPRO_C_DROP_TF2] + s.counters[XPRO_C_DROP_TF2_FAIR] -
					prev.counters[XPRO_C_DROP_TF2] - prev.counters[XPRO_C_DROP_TF2_FAIR]) / c->interval);
		}
		xpro_print_text(&px, &s, stdout);
		fflush(stdout);
		prev = s;
		n++;
		if (c->count < 0 || n < c->count)
			sleep_s(c->interval);
	}
	xpro_proxy_close(&px);
	return err;
}

/* Runtime keys only: what the config map holds. */
static int runtime_key(const char *kv)
{
	static const char *const ok_keys[] = {
		"policy", "ipv6", "filter", "tt1_ms", "tt2_ms", "tt3_ms", "tt4_ms",
		"tf1", "tf2", "r", "warn_interval_ms",
	};
	size_t i, n = strcspn(kv, "= ");

	for (i = 0; i < sizeof(ok_keys) / sizeof(ok_keys[0]); i++)
		if (strlen(ok_keys[i]) == n && !strncmp(ok_keys[i], kv, n))
			return 1;
	return 0;
}

static int cmd_set(struct cli *c, int argc, char **argv)
{
	struct xpro_proxy px;
	struct xpro_config cur;
	int err, i;

	if (optind >= argc) {
		pr_warn("set: give at least one KEY=VALUE (e.g. tf1=200)\n");
		return -EINVAL;
	}
	err = open_proxy(c, &px);
	if (err)
		return err;
	/* start from what the map holds now, not from the file */
	cur = c->cfg;
	err = xpro_read_params(&px, &cur.params);
	if (err)
		goto out;
	for (i = optind; i < argc; i++) {
		if (!runtime_key(argv[i])) {
			pr_warn("set: '%s' is not a run-time key (policy, ipv6, filter, tt1_ms..tt4_ms, tf1, tf2, r, warn_interval_ms); others need detach and attach\n",
				argv[i]);
			err = -EINVAL;
			goto out;
		}
		err = xpro_config_set(&cur, argv[i], "set");
		if (err)
			goto out;
	}
	if (xpro_config_validate(&cur)) {
		err = -EINVAL;
		goto out;
	}
	err = xpro_write_params(&px, &cur);
	if (err)
		pr_warn("set %s: %s\n", px.ifname, strerror(-err));
	else
		printf("xpro: %s: updated %d setting%s\n", px.ifname, argc - optind, argc - optind > 1 ? "s" : "");
out:
	xpro_proxy_close(&px);
	return err;
}

static int parse_addr(const char *s, __u32 *a, const char *what)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1) {
		pr_warn("%s: '%s' is not an IPv4 address\n", what, s);
		return -EINVAL;
	}
	*a = in.s_addr;
	return 0;
}

static int cmd_tf2(struct cli *c, int argc, char **argv)
{
	struct xpro_proxy px;
	struct xpro_params p;
	__u32 dest, k, next, *prev = NULL, zero = 0;
	__u64 v;
	char a[INET_ADDRSTRLEN];
	int err, n = 0;

	err = open_proxy(c, &px);
	if (err)
		return err;
	if (argc - optind == 1 && !strcmp(argv[optind], "list")) {
		while (!bpf_map_get_next_key(px.fd[M_TF2], prev, &next)) {
			k = next;
			prev = &k;
			if (!bpf_map_lookup_elem(px.fd[M_TF2], &k, &v)) {
				inet_ntop(AF_INET, &k, a, sizeof(a));
				printf("%s %" PRIu64 "\n", a, (uint64_t)v);
			}
		}
		goto out;
	}
	if (argc - optind != 2) {
		pr_warn("tf2: usage: xpro tf2 -i IFACE DEST PPS|clear, or xpro tf2 -i IFACE list\n");
		err = -EINVAL;
		goto out;
	}
	err = parse_addr(argv[optind], &dest, "tf2");
	if (err)
		goto out;
	if (!strcmp(argv[optind + 1], "clear")) {
		if (bpf_map_delete_elem(px.fd[M_TF2], &dest) && errno != ENOENT)
			err = -errno;
	} else {
		struct xpro_config tmp;
		char kv[64];

		xpro_config_defaults(&tmp);
		snprintf(kv, sizeof(kv), "tf2=%s", argv[optind + 1]);
		err = xpro_config_set(&tmp, kv, "tf2");
		if (err)
			goto out;
		v = tmp.params.tf2;
		if (bpf_map_update_elem(px.fd[M_TF2], &dest, &v, BPF_ANY))
			err = -errno;
	}
	if (err) {
		pr_warn("tf2 %s: %s\n", px.ifname, strerror(-err));
		goto out;
	}
	/* keep the "any overrides?" shortcut of the data path right */
	err = xpro_read_params(&px, &p);
	if (!err) {
		prev = NULL;
		while (!bpf_map_get_next_key(px.fd[M_TF2], prev, &next)) {
			k = next;
			prev = &k;
			n++;
		}
		p.tf2_overrides = (__u32)n;
		if (bpf_map_update_elem(px.fd[M_CONFIG], &zero, &p, BPF_ANY))
			err = -errno;
	}
out:
	xpro_proxy_close(&px);
	return err;
}

static int delete_all(int fd, __u32 key_size)
{
	char key[16], next[16];
	int n = 0;

	/* always restart from the first key: deleting invalidates iteration */
	while (!bpf_map_get_next_key(fd, NULL, next)) {
		memcpy(key, next, key_size);
		if (bpf_map_delete_elem(fd, key))
			break;
		n++;
	}
	return n;
}

static int cmd_flush(struct cli *c)
{
	struct xpro_proxy px;
	int err, nr, na;

	err = open_proxy(c, &px);
	if (err)
		return err;
	nr = delete_all(px.fd[M_RECORDS], sizeof(struct xpro_key));
	na = delete_all(px.fd[M_AGGS], sizeof(__u32));
	printf("xpro: %s: flushed %d records and %d aggregates\n", px.ifname, nr, na);
	xpro_proxy_close(&px);
	return 0;
}

static int cmd_forget(struct cli *c, int argc, char **argv)
{
	struct xpro_proxy px;
	struct xpro_key key;
	int err;

	if (argc - optind != 2) {
		pr_warn("forget: usage: xpro forget -i IFACE CLIENT DEST\n");
		return -EINVAL;
	}
	if (parse_addr(argv[optind], &key.client, "forget") ||
	    parse_addr(argv[optind + 1], &key.dest, "forget"))
		return -EINVAL;
	err = open_proxy(c, &px);
	if (err)
		return err;
	if (bpf_map_delete_elem(px.fd[M_RECORDS], &key)) {
		err = -errno;
		pr_warn("forget %s: no record for (%s, %s)\n", px.ifname, argv[optind], argv[optind + 1]);
	} else {
		printf("xpro: %s: forgot (%s, %s)\n", px.ifname, argv[optind], argv[optind + 1]);
	}
	xpro_proxy_close(&px);
	return err;
}

struct warnd_ctx {
	FILE *out;
	const char *ifname, *nsname, *proxy_id;
	uint64_t n, published, unpublished;
	struct xredis *mr;      /* the master, when redis_master is set */
};

static const char *reason_name(__u32 r)
{
	switch (r) {
	case XPRO_R_TF1: return "tf1";
	case XPRO_R_TF2: return "tf2";
	case XPRO_R_TF2_FAIR: return "tf2_fair";
	default: return "ok";
	}
}

static int on_warning(void *ctx, void *data, size_t len)
{
	struct warnd_ctx *w = ctx;
	const struct xpro_warning *ev = data;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	if (len < sizeof(*ev))
		return 0;
	inet_ntop(AF_INET, &ev->client, a, sizeof(a));
	inet_ntop(AF_INET, &ev->dest, b, sizeof(b));
	char line[512];
	int ll;

	ll = snprintf(line, sizeof(line), "{\"ts_ns\":%" PRIu64 ",\"proxy\":\"%s\",\"netns\":\"%s\",\"interface\":\"%s\",\"client\":\"%s\",\"dest\":\"%s\",\"reason\":\"%s\",\"count\":%" PRIu64 ",\"window_ns\":%" PRIu64 "}",
		       (uint64_t)ev->ts, w->proxy_id, w->nsname, w->ifname, a, b, reason_name(ev->reason),
		       (uint64_t)ev->count, (uint64_t)ev->window_ns);
	fprintf(w->out, "%s\n", line);
	fflush(w->out);
	/* and on the master's channel, where every proxy's warnings meet */
	if (w->mr) {
		redisContext *rc = xredis_get(w->mr);
		redisReply *rep = rc ? redisCommand(rc, "PUBLISH xpro:warnings %b", line, (size_t)ll) : NULL;

		if (rep) {
			w->published++;
			freeReplyObject(rep);
		} else {
			if (rc)
				xredis_fail(w->mr, rc->errstr);
			w->unpublished++;
		}
	}
	w->n++;
	return 0;
}

static int cmd_warnd(struct cli *c)
{
	struct xpro_proxy px;
	struct ring_buffer *rb = NULL;
	struct warnd_ctx w = { 0 };
	struct xredis mr;
	char path[700], proxy_id[200];
	int err, lock = -1;
	double t0 = (double)xpro_now_tai() / 1e9;

	err = open_proxy(c, &px);
	if (err)
		return err;
	/* exactly one consumer per proxy */
	snprintf(path, sizeof(path), "%s/warnd.pid", px.state_dir);
	lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB)) {
		char pid[32] = "?";

		if (lock >= 0 && pread(lock, pid, sizeof(pid) - 1, 0) > 0)
			pid[strcspn(pid, "\n")] = '\0';
		pr_warn("warnd %s: another warnd already consumes the warnings (pid %s)\n", px.ifname, pid);
		err = -EBUSY;
		goto out;
	}
	if (ftruncate(lock, 0) == 0)
		dprintf(lock, "%d\n", (int)getpid());
	snprintf(path, sizeof(path), "%s/alerts.jsonl", px.state_dir);
	w.out = fopen(path, "a");
	if (!w.out) {
		err = -errno;
		pr_warn("warnd %s: open %s: %s\n", px.ifname, path, strerror(errno));
		goto out;
	}
	w.ifname = px.ifname;
	w.nsname = px.nsname;
	snprintf(proxy_id, sizeof(proxy_id), "%s", c->cfg.proxy_id[0] ? c->cfg.proxy_id : px.nsname);
	w.proxy_id = proxy_id;
	if (c->cfg.redis_master[0]) {
		if (xredis_init(&mr, "master", c->cfg.redis_master, c->cfg.redis_user, c->cfg.redis_password)) {
			pr_warn("warnd: redis_master '%s' is not ADDR:PORT\n", c->cfg.redis_master);
			err = -EINVAL;
			goto out;
		}
		w.mr = &mr;
		signal(SIGPIPE, SIG_IGN);
	}
	rb = ring_buffer__new(px.fd[M_WARNINGS], on_warning, &w, NULL);
	if (!rb) {
		err = -errno;
		pr_warn("warnd %s: ring buffer: %s\n", px.ifname, strerror(-err));
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	pr_info("warnd %s: publishing warnings to %s\n", px.ifname, path);
	while (!stop) {
		err = ring_buffer__poll(rb, 100);
		if (err < 0 && err != -EINTR)
			break;
		err = 0;
		if (c->duration > 0 && (double)xpro_now_tai() / 1e9 - t0 >= c->duration)
			break;
	}
	pr_info("warnd %s: %" PRIu64 " warnings written, %" PRIu64 " published on the master, %" PRIu64 " not (master away)\n",
		px.ifname, w.n, w.published, w.unpublished);
	if (w.mr)
		xredis_close(w.mr);
out:
	ring_buffer__free(rb);
	if (w.out)
		fclose(w.out);
	if (lock >= 0)
		close(lock);
	xpro_proxy_close(&px);
	return err;
}

static void print_msg(const char *msg, size_t len, void *arg)
{
	long *shown = arg;

	printf("%.*s\n", (int)len, msg);
	(*shown)++;
}

/* Every proxy's warnings and overload alerts, from the master's channels. */
static int alerts_all(struct cli *c)
{
	struct xsub sw, sa;
	double t0 = (double)xpro_now_tai() / 1e9;
	long shown = 0;

	if (!c->cfg.redis_master[0]) {
		pr_warn("alerts --all: no master: set redis_master = ADDR:PORT\n");
		return -EINVAL;
	}
	if (xsub_init(&sw, "master", c->cfg.redis_master, c->cfg.redis_user, c->cfg.redis_password, "xpro:warnings") ||
	    xsub_init(&sa, "master", c->cfg.redis_master, c->cfg.redis_user, c->cfg.redis_password, "xpro:alerts")) {
		pr_warn("alerts --all: redis_master '%s' is not ADDR:PORT\n", c->cfg.redis_master);
		return -EINVAL;
	}
	while (!stop && (c->count < 0 || shown < c->count)) {
		struct pollfd pf[2];
		int n = 0, fw = xsub_fd(&sw), fa = xsub_fd(&sa);

		if (fw >= 0)
			pf[n++] = (struct pollfd){ .fd = fw, .events = POLLIN };
		if (fa >= 0)
			pf[n++] = (struct pollfd){ .fd = fa, .events = POLLIN };
		if (c->duration > 0 && (double)xpro_now_tai() / 1e9 - t0 >= c->duration)
			break;
		if (!n) {
			sleep_s(0.1);
			continue;
		}
		if (poll(pf, (nfds_t)n, 100) <= 0)
			continue;
		for (int i = 0; i < n; i++)
			if (pf[i].revents)
				xsub_read(pf[i].fd == fw ? &sw : &sa, print_msg, &shown);
		fflush(stdout);
	}
	xredis_close(&sw.r);
	xredis_close(&sa.r);
	return 0;
}

static int cmd_alerts(struct cli *c)
{
	struct xpro_proxy px;
	char path[700], line[1024];
	double t0 = (double)xpro_now_tai() / 1e9;
	long shown = 0;
	FILE *f = NULL;
	int err;

	if (c->all)
		return alerts_all(c);
	err = xpro_proxy_init(&px, &c->cfg, c->ifname);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/alerts.jsonl", px.state_dir);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop) {
		if (!f) {
			f = fopen(path, "r");
			if (!f && !c->follow) {
				pr_warn("alerts %s: no warnings published yet (%s); is xpro warnd running?\n",
					px.ifname, path);
				return -ENOENT;
			}
		}
		while (f && fgets(line, sizeof(line), f)) {
			fputs(line, stdout);
			shown++;
			if (c->count >= 0 && shown >= c->count)
				goto done;
		}
		fflush(stdout);
		if (!c->follow)
			break;
		if (c->duration > 0 && (double)xpro_now_tai() / 1e9 - t0 >= c->duration)
			break;
		if (f)
			clearerr(f);
		sleep_s(0.1);
	}
done:
	if (f)
		fclose(f);
	return 0;
}

static int cmd_sync(struct cli *c, int db)
{
	struct xpro_sync_opts o = {
		.ifname = c->ifname, .conf_path = c->conf, .sets = c->sets, .nsets = c->nsets,
		.duration = c->duration, .periods = c->periods, .full_scan = c->full_scan,
		.stop = &stop, .reload = &reload,
	};

	if (xpro_config_validate(&c->cfg))
		return -EINVAL;
	signal(SIGHUP, on_hup);
	signal(SIGPIPE, SIG_IGN);
	return db ? xpro_syncdb(&c->cfg, &o) : xpro_syncmaps(&c->cfg, &o);
}

static int cmd_config(struct cli *c, int argc, char **argv)
{
	int nerr = 0, n;

	if (optind >= argc) {
		pr_warn("config: usage: xpro config check FILE | xpro config show [-c FILE]\n");
		return -EINVAL;
	}
	if (!strcmp(argv[optind], "show")) {
		xpro_config_print(&c->cfg, stdout);
		return 0;
	}
	if (strcmp(argv[optind], "check") || optind + 1 >= argc) {
		pr_warn("config: usage: xpro config check FILE | xpro config show [-c FILE]\n");
		return -EINVAL;
	}
	xpro_config_defaults(&c->cfg);
	xpro_config_load(&c->cfg, argv[optind + 1], &nerr);
	n = nerr ? 0 : xpro_config_validate(&c->cfg);
	if (nerr || n) {
		pr_warn("config %s: %d problem%s\n", argv[optind + 1], nerr + n, nerr + n > 1 ? "s" : "");
		return -EINVAL;
	}
	printf("xpro: config %s: ok\n", argv[optind + 1]);
	return 0;
}

int main(int argc, char **argv)
{
	struct attach_opts ao = { 0 };
	struct cli c;
	const char *cmd;
	int err;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("xpro %s (libbpf %s)\n", XPRO_VERSION, libbpf_version_string());
		return 0;
	}
	/* parse the options after the command */
	err = parse_cli(&c, argc - 1, argv + 1);
	if (err) {
		fprintf(stderr, "Try 'xpro help'.\n");
		return 2;
	}
	argc--;
	argv++;
	xpro_log_libbpf();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	if (!strcmp(cmd, "config"))
		err = cmd_config(&c, argc, argv);
	else if (!strcmp(cmd, "alerts") && c.all)
		err = alerts_all(&c);
	else if (!c.ifname) {
		if (!strcmp(cmd, "attach") || !strcmp(cmd, "detach") || !strcmp(cmd, "status") ||
		    !strcmp(cmd, "stats") || !strcmp(cmd, "top") || !strcmp(cmd, "set") ||
		    !strcmp(cmd, "tf2") || !strcmp(cmd, "flush") || !strcmp(cmd, "forget") ||
		    !strcmp(cmd, "warnd") || !strcmp(cmd, "alerts") ||
		    !strcmp(cmd, "syncmaps") || !strcmp(cmd, "syncdb"))
			pr_warn("%s: no interface given (-i IFACE)\n", cmd);
		else
			pr_warn("unknown command '%s' (try 'xpro help')\n", cmd);
		return 2;
	} else if (!strcmp(cmd, "attach")) {
		ao.replace = c.replace;
		ao.force = c.force;
		err = xpro_attach(&c.cfg, c.ifname, &ao);
	} else if (!strcmp(cmd, "detach")) {
		err = xpro_detach(&c.cfg, c.ifname, c.keep_maps);
	} else if (!strcmp(cmd, "status")) {
		err = cmd_status(&c);
	} else if (!strcmp(cmd, "stats")) {
		err = cmd_stats(&c);
	} else if (!strcmp(cmd, "top")) {
		err = cmd_top(&c);
	} else if (!strcmp(cmd, "set")) {
		err = cmd_set(&c, argc, argv);
	} else if (!strcmp(cmd, "tf2")) {
		err = cmd_tf2(&c, argc, argv);
	} else if (!strcmp(cmd, "flush")) {
		err = cmd_flush(&c);
	} else if (!strcmp(cmd, "forget")) {
		err = cmd_forget(&c, argc, argv);
	} else if (!strcmp(cmd, "warnd")) {
		err = cmd_warnd(&c);
	} else if (!strcmp(cmd, "alerts")) {
		err = cmd_alerts(&c);
	} else if (!strcmp(cmd, "syncmaps")) {
		err = cmd_sync(&c, 0);
	} else if (!strcmp(cmd, "syncdb")) {
		err = cmd_sync(&c, 1);
	} else {
		pr_warn("unknown command '%s' (try 'xpro help')\n", cmd);
		return 2;
	}
	return err ? 1 : 0;
}
