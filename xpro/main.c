// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpro: load, control and observe the X-Pro XDP proxy.
 * One table (commands[] at the end) names every command: its handler, its
 * synopsis, its one-line description and its own options (lib/opt.h), from
 * which `xpro help` and `xpro COMMAND --help` are printed. docs/xpro.md
 * describes each command.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "addr.h"
#include "alerts.h"
#include "exporter.h"
#include "json.h"
#include "output.h"
#include "log.h"
#include "opt.h"
#include "proxy.h"
#include "stats.h"
#include "sync.h"
#include "mapwalk.h"

#define XPRO_VERSION XP_VERSION
#define XPRO_DEFAULT_CONF "/etc/xpro/xpro.conf"
#define XPRO_EXPORTER_LISTEN "127.0.0.1:9477"
#define CLI_USAGE 2     /* a handler's "usage error": exit status 2 */
#define CLI_MAX_SETS 64

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

/* What the options of every command fill in; a command reads its own. */
struct cli {
	const char *ifname;
	const char *conf;
	const char *listen, *textfile;
	const char *sets[CLI_MAX_SETS];
	int nsets;
	int json, pretty, prom, replace, force, keep_maps, follow, full_scan, all, generic;
	long periods;
	unsigned int top;
	double interval, duration;
	long count;
	char **args;    /* the operands (after the options are taken out) */
	int nargs;
	struct xpro_config cfg;
};

static struct cli cli;

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
	if (c->json) {
		xpro_status_json(&px, &s, id, info.max_entries, c->pretty);
		goto out;
	}
	printf("interface %s, netns %s: %s (prog id %u)\n", px.ifname, px.nsname,
	       id ? "attached" : "NOT attached (maps kept)", id);
	printf("pins %s\n", px.pin_dir);
	printf("records %" PRIu64 " / %u, destinations %" PRIu64 "\n", s.records, info.max_entries, s.dests);
	printf("policy %s, filter %s, ipv6 %s\n", xpro_policy_name(s.params.policy),
	       s.params.filter ? "on" : "off", xpro_ipv6_name(s.params.ipv6));
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

static void print_stats_json(struct cli *c, const struct xpro_proxy *px, const struct xpro_snapshot *s)
{
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return;
	xpro_print_json(px, s, f);
	fclose(f);
	xpro_json_emit(stdout, buf, c->pretty);
	free(buf);
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
			print_stats_json(c, &px, &s);
		else if (c->prom)
			xpro_metrics_write(stdout, &c->cfg, &px, &s);
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
		if (c->json) {
			/* one object a refresh, a JSON line each (-p: indented) */
			print_stats_json(c, &px, &s);
			fflush(stdout);
			goto next;
		}
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
next:
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

static int cmd_set(struct cli *c)
{
	struct xpro_proxy px;
	struct xpro_config cur;
	int err, i;

	if (!c->nargs) {
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
	for (i = 0; i < c->nargs; i++) {
		if (!runtime_key(c->args[i])) {
			pr_warn("set: '%s' is not a run-time key (policy, ipv6, filter, tt1_ms..tt4_ms, tf1, tf2, r, warn_interval_ms); load keys need detach and attach, daemon keys an edit of the config file and SIGHUP to the sync daemons (docs/config.md)\n",
				c->args[i]);
			err = -EINVAL;
			goto out;
		}
		err = xpro_config_set(&cur, c->args[i], "set");
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
		printf("xpro: %s: updated %d setting%s\n", px.ifname, c->nargs, c->nargs > 1 ? "s" : "");
out:
	xpro_proxy_close(&px);
	return err;
}

/* An address in its one text form (lib/addr.h): dotted IPv4, or IPv6 as
 * inet_ntop writes it; another spelling of an address is refused with
 * its canonical name. */
static int parse_addr(const char *s, struct xpro_addr *a, const char *what)
{
	struct xpro_addr x;
	struct in_addr in;
	char canon[XPRO_ADDR_STRLEN];
	int known = 0;

	if (!xpro_addr_parse_str(s, a))
		return 0;
	if (inet_pton(AF_INET6, s, x.w) == 1) {
		known = 1;
	} else if (inet_pton(AF_INET, s, &in) == 1) {
		xpro_addr_set4(&x, in.s_addr);
		known = 1;
	}
	if (known)
		pr_warn("%s: '%s' is not written canonically: write %s\n", what, s, xpro_addr_str(canon, &x));
	else
		pr_warn("%s: '%s' is not an IPv4 or IPv6 address\n", what, s);
	return -EINVAL;
}

static int cmd_tf2(struct cli *c)
{
	struct xpro_proxy px;
	struct xpro_params p;
	struct xpro_addr dest, k, next, *prev = NULL;
	__u32 zero = 0, left;
	__u64 v;
	char a[XPRO_ADDR_STRLEN];
	int err, n = 0;

	err = open_proxy(c, &px);
	if (err)
		return err;
	if (c->nargs == 1 && !strcmp(c->args[0], "list")) {
		if (c->json)
			fputs("[", stdout);
		left = xpro_map_bound(px.fd[M_TF2]);
		while (left-- && !bpf_map_get_next_key(px.fd[M_TF2], prev, &next)) {
			k = next;
			prev = &k;
			if (!bpf_map_lookup_elem(px.fd[M_TF2], &k, &v)) {
				xpro_addr_str(a, &k);
				if (c->json)
					printf("%s{\"dest\":\"%s\",\"pps\":%" PRIu64 "}", n++ ? "," : "", a, (uint64_t)v);
				else
					printf("%s %" PRIu64 "\n", a, (uint64_t)v);
			}
		}
		if (c->json)
			fputs("]\n", stdout);
		goto out;
	}
	if (c->nargs != 2) {
		pr_warn("tf2: usage: xpro tf2 -i IFACE DEST PPS|clear, or xpro tf2 -i IFACE list\n");
		err = -EINVAL;
		goto out;
	}
	err = parse_addr(c->args[0], &dest, "tf2");
	if (err)
		goto out;
	if (!strcmp(c->args[1], "clear")) {
		if (bpf_map_delete_elem(px.fd[M_TF2], &dest) && errno != ENOENT)
			err = -errno;
	} else {
		struct xpro_config tmp;
		char kv[64];

		xpro_config_defaults(&tmp);
		snprintf(kv, sizeof(kv), "tf2=%s", c->args[1]);
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
		left = xpro_map_bound(px.fd[M_TF2]);
		while (left-- && !bpf_map_get_next_key(px.fd[M_TF2], prev, &next)) {
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
	char key[64], next[64];
	int n = 0;
	uint32_t left = xpro_map_bound(fd); /* the packet path may refill it */

	/* always restart from the first key: deleting invalidates iteration */
	while (left-- && !bpf_map_get_next_key(fd, NULL, next)) {
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
	na = delete_all(px.fd[M_AGGS], sizeof(struct xpro_addr));
	printf("xpro: %s: flushed %d records and %d aggregates\n", px.ifname, nr, na);
	xpro_proxy_close(&px);
	return 0;
}

static int cmd_forget(struct cli *c)
{
	struct xpro_proxy px;
	struct xpro_key key;
	int err;

	if (c->nargs != 2) {
		pr_warn("forget: usage: xpro forget -i IFACE CLIENT DEST\n");
		return -EINVAL;
	}
	if (parse_addr(c->args[0], &key.client, "forget") ||
	    parse_addr(c->args[1], &key.dest, "forget"))
		return -EINVAL;
	err = open_proxy(c, &px);
	if (err)
		return err;
	if (bpf_map_delete_elem(px.fd[M_RECORDS], &key)) {
		err = -errno;
		pr_warn("forget %s: no record for (%s, %s)\n", px.ifname, c->args[0], c->args[1]);
	} else {
		printf("xpro: %s: forgot (%s, %s)\n", px.ifname, c->args[0], c->args[1]);
	}
	xpro_proxy_close(&px);
	return err;
}

static int cmd_warnd(struct cli *c)
{
	struct xpro_watch w = { .duration = c->duration, .stop = &stop, .reload = &reload };

	signal(SIGHUP, on_hup);
	return xpro_warnd(&c->cfg, c->ifname, &w);
}

static int cmd_exporter(struct cli *c)
{
	struct xpro_exporter_opts o = {
		.listen = c->listen, .textfile = c->textfile, .interval = c->interval,
		.duration = c->duration, .stop = &stop,
	};

	/* HTTP unless only a textfile is asked for */
	if (!o.listen && !o.textfile)
		o.listen = XPRO_EXPORTER_LISTEN;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, on_hup); /* a reload: nothing to reread, the state is read at each scrape */
	return xpro_exporter(&c->cfg, c->ifname, &o);
}

static int cmd_alerts(struct cli *c)
{
	struct xpro_watch w = { .duration = c->duration, .count = c->count, .follow = c->follow, .stop = &stop,
				.pretty = c->pretty };

	if (c->all)
		return xpro_alerts_all(&c->cfg, &w);
	if (!c->ifname) {
		pr_warn("alerts: no interface given (-i IFACE), or --all\n");
		return CLI_USAGE;
	}
	return xpro_alerts(&c->cfg, c->ifname, &w);
}

static int run_sync(struct cli *c, int db)
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

static int cmd_config(struct cli *c)
{
	int nerr = 0, n;

	if (!c->nargs) {
		pr_warn("config: usage: xpro config check FILE | xpro config show [-c FILE]\n");
		return -EINVAL;
	}
	if (!strcmp(c->args[0], "show")) {
		char *buf = NULL, *obj = NULL;
		size_t len, olen;
		FILE *f, *o;

		if (!c->json) {
			xpro_config_print(&c->cfg, stdout);
			return 0;
		}
		f = open_memstream(&buf, &len);
		o = open_memstream(&obj, &olen);
		if (!f || !o)
			return -ENOMEM;
		xpro_config_print(&c->cfg, f);
		fclose(f);
		xpro_kv_json(o, buf);
		fclose(o);
		xpro_json_emit(stdout, obj, c->pretty);
		free(buf);
		free(obj);
		return 0;
	}
	if (strcmp(c->args[0], "check") || c->nargs < 2) {
		pr_warn("config: usage: xpro config check FILE | xpro config show [-c FILE]\n");
		return -EINVAL;
	}
	xpro_config_defaults(&c->cfg);
	xpro_config_load(&c->cfg, c->args[1], &nerr);
	n = nerr ? 0 : xpro_config_validate(&c->cfg);
	if (c->json) {
		char q[1100], line[1200];

		snprintf(line, sizeof(line), "{\"file\":%s,\"ok\":%s,\"problems\":%d}",
			 xp_json_q(q, sizeof(q), c->args[1]), nerr || n ? "false" : "true", nerr + n);
		xpro_json_emit(stdout, line, c->pretty);
	}
	if (nerr || n) {
		pr_warn("config %s: %d problem%s\n", c->args[1], nerr + n, nerr + n > 1 ? "s" : "");
		return -EINVAL;
	}
	if (!c->json)
		printf("xpro: config %s: ok\n", c->args[1]);
	return 0;
}

static int cmd_syncmaps(struct cli *c)
{
	return run_sync(c, 0);
}

static int cmd_syncdb(struct cli *c)
{
	return run_sync(c, 1);
}
static int cmd_attach(struct cli *c)
{
	struct attach_opts ao = { .replace = c->replace, .force = c->force };

	return xpro_attach(&c->cfg, c->ifname, &ao);
}

static int cmd_detach(struct cli *c)
{
	return xpro_detach(&c->cfg, c->ifname, c->keep_maps);
}

static int cmd_version(struct cli *c)
{
	char line[128];

	if (c->json) {
		snprintf(line, sizeof(line), "{\"xpro\":\"%s\",\"libbpf\":\"%s\"}", XPRO_VERSION,
			 libbpf_version_string());
		xpro_json_emit(stdout, line, c->pretty);
		return 0;
	}
	printf("xpro %s (libbpf %s)\n", XPRO_VERSION, libbpf_version_string());
	return 0;
}

static int cmd_help(struct cli *c);

/* --set KEY=VALUE: kept in order, applied over the file after it is read */
static const char *add_set(const char *val, void *dst)
{
	struct cli *c = dst;

	if (c->nsets >= CLI_MAX_SETS)
		return "is one too many (at most 64 --set)";
	c->sets[c->nsets++] = val;
	return NULL;
}

/* The options, one row each; a command's table lists the ones it takes. */
#define OPT_IFACE { "interface", 'i', XP_OPT_STR, &cli.ifname, .arg = "IFACE", \
	.help = "the proxy's interface (in this network namespace)" }
#define OPT_IFACE_ALERTS { "interface", 'i', XP_OPT_STR, &cli.ifname, .arg = "IFACE", \
	.help = "this proxy's warnings (alerts.jsonl of its warnd)" }
#define OPT_CONFIG { "config", 'c', XP_OPT_STR, &cli.conf, .arg = "FILE", \
	.help = "config file (default " XPRO_DEFAULT_CONF " if present); keys: docs/config.md" }
#define OPT_SET { "set", 0, XP_OPT_FN, &cli, .arg = "KEY=VALUE", .fn = add_set, \
	.help = "override one key of the file (repeatable)" }
#define OPT_VERBOSE { "verbose", 'v', XP_OPT_FLAG, &xpro_log_level, \
	.help = "more output; -vv: libbpf's debug output too" }
#define OPT_DURATION(what) { "duration", 0, XP_OPT_DOUBLE, &cli.duration, 0, 1e9, "S", .help = what }
#define OPT_COUNT(what) { "count", 0, XP_OPT_LONG, &cli.count, 0, 1e15, "N", .help = what }
#define OPT_TOP { "top", 0, XP_OPT_UINT, &cli.top, 0, 4294967295.0, "N", \
	.help = "the N (client, destination) pairs of highest count (default 10, at most 64 shown)" }
#define OPT_COMMON OPT_CONFIG, OPT_SET, OPT_VERBOSE, { 0 }
/* every read command: -j JSON, -p JSON indented (docs/xpro.md, Output) */
#define OPT_JSON { "json", 'j', XP_OPT_FLAG, &cli.json, .help = "JSON output" }, \
	{ "pretty", 'p', XP_OPT_FLAG, &cli.pretty, .help = "JSON output, indented" }

static const struct xp_opt attach_opts[] = {
	OPT_IFACE,
	{ "generic", 0, XP_OPT_FLAG, &cli.generic, .help = "generic (skb) XDP mode: xdp_mode=generic" },
	{ "replace", 0, XP_OPT_FLAG, &cli.replace, .help = "swap the program of an attached X-Pro, keeping its maps" },
	{ "force", 0, XP_OPT_FLAG, &cli.force, .help = "skip the redirect-target checks" },
	OPT_COMMON,
};
static const struct xp_opt detach_opts[] = {
	OPT_IFACE,
	{ "keep-maps", 0, XP_OPT_FLAG, &cli.keep_maps, .help = "keep the pins and state: a later attach resumes" },
	OPT_COMMON,
};
static const struct xp_opt iface_opts[] = { OPT_IFACE, OPT_COMMON };
static const struct xp_opt iface_json_opts[] = { OPT_IFACE, OPT_JSON, OPT_COMMON };
static const struct xp_opt stats_opts[] = {
	OPT_IFACE,
	OPT_JSON,
	{ "prom", 0, XP_OPT_FLAG, &cli.prom, .help = "Prometheus text format" },
	OPT_TOP,
	OPT_COMMON,
};
static const struct xp_opt top_opts[] = {
	OPT_IFACE,
	{ "interval", 0, XP_OPT_DOUBLE, &cli.interval, 0.05, 1e6, "S", .help = "seconds between refreshes (default 1, at least 0.05)" },
	OPT_COUNT("stop after N refreshes (default: until Ctrl-C)"),
	OPT_TOP,
	OPT_JSON,
	OPT_COMMON,
};
static const struct xp_opt warnd_opts[] = {
	OPT_IFACE,
	OPT_DURATION("stop after S seconds (default: until SIGTERM)"),
	OPT_COMMON,
};
static const struct xp_opt alerts_opts[] = {
	OPT_IFACE_ALERTS,
	{ "all", 0, XP_OPT_FLAG, &cli.all, .help = "every proxy's warnings and alerts, from the master (redis_master)" },
	{ "follow", 0, XP_OPT_FLAG, &cli.follow, .help = "keep printing new warnings (with -i)" },
	OPT_COUNT("stop after N lines"),
	OPT_DURATION("stop after S seconds (--follow, --all)"),
	OPT_JSON,
	OPT_COMMON,
};
static const struct xp_opt sync_opts[] = {
	OPT_IFACE,
	{ "full-scan", 0, XP_OPT_FLAG, &cli.full_scan, .help = "the paper's reference: every record every period, no change feed" },
	OPT_DURATION("stop after S seconds (default: until SIGTERM)"),
	{ "periods", 0, XP_OPT_LONG, &cli.periods, 0, 1e15, "N", .help = "stop after N periods" },
	OPT_COMMON,
};
static const struct xp_opt exporter_opts[] = {
	OPT_IFACE,
	{ "listen", 0, XP_OPT_STR, &cli.listen, .arg = "ADDR:PORT",
	  .help = "serve /metrics there (default " XPRO_EXPORTER_LISTEN ", loopback; none with --textfile alone)" },
	{ "textfile", 0, XP_OPT_STR, &cli.textfile, .arg = "FILE",
	  .help = "also write the metrics to FILE (node_exporter textfile, .prom), atomically" },
	{ "interval", 0, XP_OPT_DOUBLE, &cli.interval, 0.05, 1e6, "S", .help = "seconds between textfile writes (default 1)" },
	OPT_DURATION("stop after S seconds (default: until SIGTERM)"),
	OPT_COMMON,
};
static const struct xp_opt config_opts[] = { OPT_JSON, OPT_COMMON };
static const struct xp_opt version_opts[] = { OPT_JSON, { 0 } };
static const struct xp_opt no_opts[] = { { 0 } };

enum {
	C_IFACE = 1,      /* -i IFACE is required */
	C_OPERANDS = 2,   /* takes operands after the options */
	C_NO_CONFIG = 4,  /* reads no config file */
	C_ANY_CONFIG = 8, /* a config file with problems: warn, use the rest */
};

struct command {
	const char *name;
	int (*run)(struct cli *c);
	const struct xp_opt *opts;  /* its options; the synopsis is made from them */
	int flags;                  /* C_* */
	const char *operands;       /* what follows the options in the synopsis */
	const char *summary;        /* one line */
};

static const struct command commands[] = {
	{ "attach", cmd_attach, attach_opts, C_IFACE, "", "load, pin and attach the XDP filter; print what was attached" },
	{ "detach", cmd_detach, detach_opts, C_IFACE | C_ANY_CONFIG, "", "detach and remove the pins (or keep the state)" },
	{ "status", cmd_status, iface_json_opts, C_IFACE | C_ANY_CONFIG, "", "mode, program id, thresholds, map fill, sync daemons" },
	{ "stats", cmd_stats, stats_opts, C_IFACE, "", "counters by verdict and reason, top talkers" },
	{ "top", cmd_top, top_opts, C_IFACE, "", "live view, refreshing, with rates" },
	{ "set", cmd_set, iface_opts, C_IFACE | C_OPERANDS, "KEY=VALUE...", "change thresholds or policy at run time (no reload)" },
	{ "tf2", cmd_tf2, iface_json_opts, C_IFACE | C_OPERANDS, "DEST PPS|clear, or list", "per-destination TF2 override" },
	{ "flush", cmd_flush, iface_opts, C_IFACE, "", "forget every record and aggregate" },
	{ "forget", cmd_forget, iface_opts, C_IFACE | C_OPERANDS, "CLIENT DEST", "forget one (client, destination) record" },
	{ "warnd", cmd_warnd, warnd_opts, C_IFACE, "", "the one consumer of overload warnings: JSON lines" },
	{ "alerts", cmd_alerts, alerts_opts, 0, "", "-i IFACE: its published warnings; --all: every proxy's (master)" },
	{ "exporter", cmd_exporter, exporter_opts, C_IFACE, "", "Prometheus metrics: /metrics over HTTP and/or a textfile" },
	{ "syncmaps", cmd_syncmaps, sync_opts, C_IFACE, "", "sync daemon: BPF maps <-> local Redis, aggregate recompute, W" },
	{ "syncdb", cmd_syncdb, sync_opts, C_IFACE, "", "sync daemon: local Redis <-> master (Algorithm 1), workload, alerts" },
	{ "config", cmd_config, config_opts, C_OPERANDS, "check FILE | show", "validate a config file, or print the effective config" },
	{ "version", cmd_version, version_opts, C_NO_CONFIG, "", "print the versions of xpro and libbpf" },
	{ "help", cmd_help, no_opts, C_NO_CONFIG | C_OPERANDS, "[COMMAND]", "list the commands, or one command's options" },
	{ NULL },
};

static const struct command *find_command(const char *name)
{
	for (const struct command *cmd = commands; cmd->name; cmd++)
		if (!strcmp(cmd->name, name))
			return cmd;
	return NULL;
}

/* "-i IFACE [--json] [--top N] OPERANDS": the command's own options (the
 * common -c, --set and -v left out), then its operands */
static const char *synopsis(const struct command *cmd, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (const struct xp_opt *o = cmd->opts; o->type != XP_OPT_END && n < len; o++) {
		int required = o->dst == &cli.ifname && (cmd->flags & C_IFACE);
		const char *arg = o->type == XP_OPT_FLAG ? NULL : o->arg;

		if (o->dst == &cli.conf || o->fn == add_set || o->dst == &xpro_log_level)
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s%s%s%s%s%s%s", n ? " " : "", required ? "" : "[",
				      o->shrt ? "-" : "--", o->shrt ? (char[2]){ o->shrt, 0 } : o->name,
				      arg ? " " : "", arg ? arg : "", required ? "" : "]");
	}
	if (*cmd->operands && n < len)
		snprintf(buf + n, len - n, "%s%s", n ? " " : "", cmd->operands);
	return buf;
}

static void usage(FILE *f)
{
	char syn[256];

	fprintf(f, "usage: xpro COMMAND [options]\n"
		"\nCommands (run inside the proxy's network namespace):\n");
	for (const struct command *cmd = commands; cmd->name; cmd++) {
		synopsis(cmd, syn, sizeof(syn));
		fprintf(f, "  %-*s%s\n  %-8s   %s\n", *syn ? 9 : 0, cmd->name, syn, "", cmd->summary);
	}
	fprintf(f, "\nEvery command but version and help also takes -c FILE (default\n"
		"%s if present), --set KEY=VALUE (overrides the file), -v (more\n"
		"output), -vv (libbpf debug). Config keys: docs/config.md.\n"
		"One command's options: xpro COMMAND --help, or xpro help COMMAND.\n", XPRO_DEFAULT_CONF);
}

/* "usage: xpro NAME SYNOPSIS", the summary, then the option rows follow */
static void command_usage(const struct command *cmd, char *buf, size_t len)
{
	char syn[256];

	synopsis(cmd, syn, sizeof(syn));
	snprintf(buf, len, "usage: xpro %s%s%s\n%s\n%s", cmd->name, *syn ? " " : "", syn, cmd->summary,
		 cmd->opts[0].type != XP_OPT_END ? "\nOptions:\n" : "");
}

static int cmd_help(struct cli *c)
{
	const struct command *cmd;
	char buf[512];

	if (!c->nargs) {
		usage(stdout);
		return 0;
	}
	cmd = find_command(c->args[0]);
	if (!cmd || c->nargs > 1) {
		pr_warn("help: %s '%s' (try 'xpro help')\n", cmd ? "one command at a time, not" : "unknown command",
			c->args[cmd ? 1 : 0]);
		return CLI_USAGE;
	}
	command_usage(cmd, buf, sizeof(buf));
	xp_opt_usage(stdout, buf, cmd->opts);
	return 0;
}

/* The config file (or the default one), then --generic, then each --set. */
static int load_config(const struct command *cmd, struct cli *c)
{
	int nerr = 0, err = 0;

	xpro_config_defaults(&c->cfg);
	if (!c->conf && !access(XPRO_DEFAULT_CONF, R_OK))
		c->conf = XPRO_DEFAULT_CONF;
	if (c->conf)
		err = xpro_config_load(&c->cfg, c->conf, &nerr);
	if (err) {
		/* detach and status work whatever the file says (not without it) */
		if (err != -EINVAL || !(cmd->flags & C_ANY_CONFIG))
			return err;
		pr_warn("%s: %s has %d problem%s: going on with the rest of it\n", cmd->name, c->conf, nerr,
			nerr > 1 ? "s" : "");
	}
	if (c->generic && xpro_config_set(&c->cfg, "xdp_mode=generic", "--generic"))
		return -EINVAL;
	for (int i = 0; i < c->nsets; i++)
		if (xpro_config_set(&c->cfg, c->sets[i], "--set"))
			return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	char tool[64], buf[512];
	int first, err;

	/* iproute2's place for them: xpro -j status -i IFACE */
	while (argc > 1 && (!strcmp(argv[1], "-j") || !strcmp(argv[1], "--json") || !strcmp(argv[1], "-p") ||
			    !strcmp(argv[1], "--pretty") || !strcmp(argv[1], "-jp") || !strcmp(argv[1], "-pj"))) {
		cli.json = 1;
		cli.pretty |= strchr(argv[1] + 1, 'p') != NULL;
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	cmd = find_command(!strcmp(argv[1], "--version") ? "version" : argv[1]);
	if (!cmd) {
		pr_warn("unknown command '%s' (try 'xpro help')\n", argv[1]);
		return 2;
	}
	cli.top = 10;
	cli.interval = 1.0;
	cli.count = -1;
	/* the command's own options (exit 2 on a wrong one, 0 after --help) */
	snprintf(tool, sizeof(tool), "xpro %s", cmd->name);
	command_usage(cmd, buf, sizeof(buf));
	first = xp_opt_parse(tool, buf, cmd->opts, argc - 1, argv + 1);
	cli.json |= cli.pretty;
	cli.args = argv + 1 + first;
	cli.nargs = argc - 1 - first;
	if (cli.nargs && !(cmd->flags & C_OPERANDS))
		xp_opt_die(tool, "unexpected argument '%s' (try 'xpro help %s')", cli.args[0], cmd->name);
	if ((cmd->flags & C_IFACE) && !cli.ifname) {
		pr_warn("%s: no interface given (-i IFACE)\n", cmd->name);
		return 2;
	}
	if (!(cmd->flags & C_NO_CONFIG) && load_config(cmd, &cli))
		return 2;
	xpro_log_libbpf();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	err = cmd->run(&cli);
	return err == CLI_USAGE ? 2 : err ? 1 : 0;
}
