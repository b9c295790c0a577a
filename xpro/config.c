// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The X-Pro config file: `key = value` lines, `#` comments, one key per
 * line, every key optional (docs/config.md lists them with units and
 * defaults). The same file is read by `xpro` and the sync daemons.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "config.h"
#include "guard.h"
#include "log.h"
#include "rcluster.h"

enum ktype { K_U64, K_MS, K_ENUM, K_ADDR, K_PATH, K_HOSTPORT, K_MASTER, K_STR, K_SMS, K_NETS, K_KEYS, K_PASSFILE, K_EMBED6 };

struct key {
	const char *name;
	enum ktype type;
	uint64_t min, max;
	const char *choices; /* K_ENUM: "a|b" in value order */
	const char *unit;
	const char *help;
};

static const struct key keys[] = {
	{ "mode", K_ENUM, 0, 1, "tunnel|inline", "", "tunnel: UDP-encapsulated device traffic; inline: routed IPv4" },
	{ "tunnel_addr", K_ADDR, 0, 0, NULL, "IPv4", "address the tunnel is sent to (default: the interface's first IPv4 address)" },
	{ "tunnel_port", K_U64, 1, 65535, NULL, "UDP port", "tunnel port" },
	{ "xdp_mode", K_ENUM, 0, 1, "native|generic", "", "XDP attach mode; generic only when asked" },
	{ "max_records", K_U64, 1024, 1ULL << 26, NULL, "entries", "(client, destination) records map size" },
	{ "max_dests", K_U64, 16, 1ULL << 24, NULL, "entries", "per-destination aggregates map size" },
	{ "policy", K_ENUM, 0, 1, "paper|fair", "", "paper: Algorithm 2 as written; fair: keep legitimate clients of an attacked destination" },
	{ "ipv6", K_ENUM, 0, 2, "drop|kernel|filter", "", "IPv6 frames (not the tunnel's inner IPv6; neighbour discovery always to the kernel): drop (counted), hand to the kernel (only with IPv6 forwarding off), or filter (inline mode: Algorithm 2 as for IPv4; tunnel mode: drop)" },
	{ "filter", K_ENUM, 0, 1, "off|on", "", "off: decapsulate and pass only (baselines)" },
	{ "tt1_ms", K_MS, 1, 86400000, NULL, "ms", "TT1: idle time that resets a window" },
	{ "tt2_ms", K_MS, 0, 86400000, NULL, "ms", "TT2: minimum record window before TF1 applies" },
	{ "tt3_ms", K_MS, 0, 86400000, NULL, "ms", "TT3: minimum aggregate window before TF2 applies" },
	{ "tt4_ms", K_MS, 1, 86400000, NULL, "ms", "TT4: window length beyond which the sync decays counts" },
	{ "tf1", K_U64, 1, XPRO_TF_MAX, NULL, "packets/s", "TF1: highest rate of one (client, destination)" },
	{ "tf2", K_U64, 1, XPRO_TF_MAX, NULL, "packets/s", "TF2: highest rate towards one destination (its capacity)" },
	{ "r", K_U64, 1, 1000, NULL, "", "decay factor of Algorithm 1" },
	{ "warn_interval_ms", K_MS, 1, 86400000, NULL, "ms", "at most one overload warning per (client, destination) per interval" },
	{ "fib_cache_ms", K_U64, 0, 1000, NULL, "ms", "lifetime of a destination's cached route in the data plane (0: look up every packet)" },
	{ "t_w", K_U64, 1, 1ULL << 40, NULL, "packets/s", "T_W: workload above which a proxy alerts" },
	{ "agg_window_ms", K_MS, 0, 86400000, NULL, "ms", "window of a destination's aggregate: only packets of the last agg_window_ms count (0: unbounded, the paper's step 5)" },
	{ "sync_period_ms", K_U64, 1, 60000, NULL, "ms", "sync period of the daemons" },
	{ "max_client_pps", K_U64, 1, 1000000000000ULL, NULL, "packets/s", "highest packet rate one client can send (default: 10 Gb/s of minimum-size frames); a count read from Redis above what its window holds at this rate is rejected" },
	{ "max_window_ms", K_MS, 1000, 30ULL * 86400000, NULL, "ms", "a window read from Redis may start at most this long before now" },
	{ "max_clock_skew_ms", K_MS, 1, 3600000, NULL, "ms", "largest clock offset to a peer the sync merges with; also how far ahead of ours a time read from Redis may be" },
	{ "clock_offset_ms", K_SMS, 0, 86400000, NULL, "ms", "tests only: added to the sync daemons' clock (a proxy with a skewed clock)" },
	{ "master_merge", K_ENUM, 0, 1, "watch|lua", "", "watch: WATCH/MULTI per batch, the script after four conflicts; lua: every batch through the script" },
	{ "redis_local", K_HOSTPORT, 0, 0, NULL, "ADDR:PORT", "this proxy's local Redis (L_DB)" },
	{ "redis_master", K_MASTER, 0, 0, NULL, "ADDR:PORT or ADDR:PORT,ADDR:PORT,...", "the master Redis (M_DB): one server, or a Redis Cluster's seed list" },
	{ "redis_user", K_STR, 0, 63, NULL, "", "Redis ACL user (both servers)" },
	{ "redis_password", K_STR, 0, 127, NULL, "", "Redis password (both servers); a '#' starts a comment: use redis_password_file" },
	{ "redis_password_file", K_PASSFILE, 0, 0, NULL, "path", "file holding the Redis password, read verbatim (one trailing newline dropped); mode 0600 or stricter" },
	{ "proxy_id", K_STR, 1, 63, NULL, "", "this proxy's name on the master (default <netns>/<interface>)" },
	{ "proxies", K_NETS, 0, XPRO_GUARD_MAX, NULL, "IPv4 list", "every proxy's tunnel address: device traffic to them is dropped (this proxy's is always one)" },
	{ "mgmt_prefixes", K_NETS, 0, XPRO_GUARD_MAX, NULL, "prefix list", "management-only segments (master, sync): device traffic into them is dropped" },
	{ "device_prefixes", K_NETS, 1, XPRO_DEVNETS_MAX, NULL, "DEVICE=PREFIX list", "inner sources a device may use besides its own address" },
	{ "device_embed6", K_EMBED6, 0, 0, NULL, "IPv6 /96 prefix", "an inner IPv6 source a device may use: this /96 prefix with the device's IPv4 address in its low 32 bits (none: off)" },
	{ "device_keys", K_KEYS, 0, 0, NULL, "path", "file of device keys ('A.B.C.D KEY' lines): version-2 headers are checked against them (none: identity off)" },
	{ "tunnel_v1", K_ENUM, 0, 1, "accept|refuse", "", "header version 1 (no MAC): accepted from devices without a key, or refused" },
	{ "bpffs", K_PATH, 0, 0, NULL, "path", "bpffs mount that holds the pins" },
	{ "state_dir", K_PATH, 0, 0, NULL, "path", "folder for alerts, locks and daemon state" },
	{ "log_dir", K_PATH, 0, 0, NULL, "path", "folder of warnd's alert log <log_dir>/<netns>/<interface>/alerts.jsonl (default /var/log/xpro; state_dir when only state_dir is set)" },
	{ "log_max_kb", K_U64, 1, 1ULL << 22, NULL, "KiB", "size at which the alert log is rotated (alerts.jsonl.1 ...)" },
	{ "log_keep", K_U64, 1, 100, NULL, "files", "rotated alert logs kept" },
	{ "notify", K_PATH, 0, 0, NULL, "path", "command run (no shell) with each warning's JSON on stdin, at most once per notify_interval_ms" },
	{ "notify_interval_ms", K_MS, 0, 86400000, NULL, "ms", "least time between two runs of the notify command" },
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

void xpro_config_defaults(struct xpro_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = XPRO_MODE_TUNNEL;
	c->tunnel_port = XPRO_TUN_PORT_DEFAULT;
	c->max_records = 1 << 20;
	c->max_dests = 1 << 16;
	c->params.tt1_ns = 2000ULL * 1000000;
	c->params.tt2_ns = 500ULL * 1000000;
	c->params.tt3_ns = 500ULL * 1000000;
	c->params.tt4_ns = 10000ULL * 1000000;
	c->params.tf1 = 100;
	c->params.tf2 = 10000;
	c->params.r = 2;
	c->params.warn_interval_ns = 1000ULL * 1000000;
	c->params.policy = XPRO_POLICY_PAPER;
	c->params.ipv6 = XPRO_IPV6_DROP;
	c->params.filter = 1;
	c->params.fib_cache_ms = 20;
	c->t_w = 500000;
	c->sync_period_ms = 100;
	c->max_client_pps = 14880952; /* 10 Gb/s / (64 + 20) bytes on the wire */
	c->max_window_ns = 3600000ULL * 1000000;
	c->max_clock_skew_ns = 100ULL * 1000000;
	snprintf(c->bpffs, sizeof(c->bpffs), "/run/xpro/bpf");
	snprintf(c->state_dir, sizeof(c->state_dir), "/run/xpro/state");
	c->log_max_kb = 10240;
	c->log_keep = 5;
	c->notify_interval_ns = 10000ULL * 1000000;
	snprintf(c->redis_local, sizeof(c->redis_local), "127.0.0.1:6379");
}

int xpro_hostport(const char *s, char *host, size_t hlen, int *port)
{
	const char *colon = strrchr(s, ':');
	struct in_addr a;
	char h[INET_ADDRSTRLEN];
	char *end;
	long p;

	if (!colon || (size_t)(colon - s) >= sizeof(h))
		return -EINVAL;
	memcpy(h, s, (size_t)(colon - s));
	h[colon - s] = '\0';
	if (inet_pton(AF_INET, h, &a) != 1)
		return -EINVAL;
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (errno || *end || !colon[1] || p < 1 || p > 65535)
		return -EINVAL;
	if (host)
		snprintf(host, hlen, "%s", h);
	if (port)
		*port = (int)p;
	return 0;
}

const char *xpro_policy_name(uint32_t p)
{
	return p == XPRO_POLICY_FAIR ? "fair" : "paper";
}

const char *xpro_ipv6_name(uint32_t v)
{
	return v == XPRO_IPV6_KERNEL ? "kernel" : v == XPRO_IPV6_FILTER ? "filter" : "drop";
}

static int enum_index(const char *choices, const char *v)
{
	const char *p = choices;
	size_t n = strlen(v);
	int i = 0;

	while (p && *p) {
		const char *e = strchr(p, '|');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len == n && !strncmp(p, v, n))
			return i;
		i++;
		p = e ? e + 1 : NULL;
	}
	return -1;
}

static int store(struct xpro_config *c, size_t k, uint64_t u, const char *s)
{
	const char *n = keys[k].name;

#define IS(x) (!strcmp(n, x))
	if (IS("mode")) c->mode = (uint32_t)u;
	else if (IS("tunnel_addr")) c->tunnel_addr = (uint32_t)u;
	else if (IS("tunnel_port")) c->tunnel_port = (uint16_t)u;
	else if (IS("xdp_mode")) c->xdp_generic = (int)u;
	else if (IS("max_records")) c->max_records = (uint32_t)u;
	else if (IS("max_dests")) c->max_dests = (uint32_t)u;
	else if (IS("policy")) c->params.policy = (uint32_t)u;
	else if (IS("ipv6")) c->params.ipv6 = (uint32_t)u;
	else if (IS("filter")) c->params.filter = (uint32_t)u;
	else if (IS("tt1_ms")) c->params.tt1_ns = u;
	else if (IS("tt2_ms")) c->params.tt2_ns = u;
	else if (IS("tt3_ms")) c->params.tt3_ns = u;
	else if (IS("tt4_ms")) c->params.tt4_ns = u;
	else if (IS("tf1")) c->params.tf1 = u;
	else if (IS("tf2")) c->params.tf2 = u;
	else if (IS("r")) c->params.r = (uint32_t)u;
	else if (IS("warn_interval_ms")) c->params.warn_interval_ns = u;
	else if (IS("fib_cache_ms")) c->params.fib_cache_ms = (uint32_t)u;
	else if (IS("t_w")) c->t_w = u;
	else if (IS("agg_window_ms")) c->agg_window_ns = u;
	else if (IS("sync_period_ms")) c->sync_period_ms = (uint32_t)u;
	else if (IS("max_client_pps")) c->max_client_pps = u;
	else if (IS("max_window_ms")) c->max_window_ns = u;
	else if (IS("max_clock_skew_ms")) c->max_clock_skew_ns = u;
	else if (IS("clock_offset_ms")) c->clock_offset_ns = (int64_t)u;
	else if (IS("master_merge")) c->master_merge_lua = (int)u;
	else if (IS("redis_local")) snprintf(c->redis_local, sizeof(c->redis_local), "%s", s);
	else if (IS("redis_master")) snprintf(c->redis_master, sizeof(c->redis_master), "%s", s);
	else if (IS("redis_user")) snprintf(c->redis_user, sizeof(c->redis_user), "%s", s);
	else if (IS("redis_password")) snprintf(c->redis_password, sizeof(c->redis_password), "%s", s);
	else if (IS("redis_password_file")) snprintf(c->redis_password_file, sizeof(c->redis_password_file), "%s", s);
	else if (IS("proxy_id")) snprintf(c->proxy_id, sizeof(c->proxy_id), "%s", s);
	else if (IS("proxies")) snprintf(c->proxies, sizeof(c->proxies), "%s", s);
	else if (IS("mgmt_prefixes")) snprintf(c->mgmt_prefixes, sizeof(c->mgmt_prefixes), "%s", s);
	else if (IS("device_prefixes")) snprintf(c->device_prefixes, sizeof(c->device_prefixes), "%s", s);
	else if (IS("device_embed6")) {
		if (xpro_guard_prefix(s, &c->device_embed6, &c->device_embed6_len))
			c->device_embed6_len = 0; /* "none" */
	}
	else if (IS("device_keys")) snprintf(c->device_keys, sizeof(c->device_keys), "%s", strcmp(s, "none") ? s : "");
	else if (IS("tunnel_v1")) c->tunnel_v1_refuse = (int)u;
	else if (IS("bpffs")) snprintf(c->bpffs, sizeof(c->bpffs), "%s", s);
	else if (IS("state_dir")) snprintf(c->state_dir, sizeof(c->state_dir), "%s", s);
	else if (IS("log_dir")) snprintf(c->log_dir, sizeof(c->log_dir), "%s", s);
	else if (IS("log_max_kb")) c->log_max_kb = u;
	else if (IS("log_keep")) c->log_keep = (uint32_t)u;
	else if (IS("notify")) snprintf(c->notify, sizeof(c->notify), "%s", s);
	else if (IS("notify_interval_ms")) c->notify_interval_ns = u;
#undef IS
	c->set_mask |= 1ULL << k;
	return 0;
}

/* The password file of redis_password_file: a regular file, no access for
 * group or others, its bytes verbatim (spaces and '#' included) but for one
 * trailing "\n" (or "\r\n"); no NUL or other line break, 1-127 bytes. */
static int read_passfile(const char *path, char *out, size_t olen, char *e, size_t elen)
{
	char buf[256];
	struct stat st;
	size_t n;
	FILE *f;

	f = fopen(path, "r");
	if (!f) {
		snprintf(e, elen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		snprintf(e, elen, "%s is not a regular file", path);
		fclose(f);
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(e, elen, "%s is readable or writable by group or others (mode %03o): chmod 600 it", path,
			 (unsigned)(st.st_mode & 0777));
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if (n && buf[n - 1] == '\n')
		n--;
	if (n && buf[n - 1] == '\r')
		n--;
	if (!n || n >= olen) {
		snprintf(e, elen, "%s: the password must be 1-%zu bytes", path, olen - 1);
		return -1;
	}
	if (memchr(buf, '\0', n) || memchr(buf, '\n', n) || memchr(buf, '\r', n)) {
		snprintf(e, elen, "%s: one line, no NUL byte", path);
		return -1;
	}
	memcpy(out, buf, n);
	out[n] = '\0';
	return 0;
}

/* Set key k from text v; origin names where it came from for messages. */
static int set_key(struct xpro_config *c, size_t k, const char *v, const char *origin)
{
	const struct key *K = &keys[k];
	uint64_t u = 0;
	char *end;
	int i;

	switch (K->type) {
	case K_U64:
	case K_MS:
		if (!*v || !isdigit((unsigned char)*v)) {
			pr_warn("%s: %s: '%s' is not a whole number\n", origin, K->name, v);
			return -EINVAL;
		}
		errno = 0;
		u = strtoull(v, &end, 10);
		if (errno || *end) {
			pr_warn("%s: %s: '%s' is not a whole number\n", origin, K->name, v);
			return -EINVAL;
		}
		if (u < K->min || u > K->max) {
			pr_warn("%s: %s: %" PRIu64 " is out of range [%" PRIu64 ", %" PRIu64 "]%s%s\n",
				origin, K->name, u, K->min, K->max, *K->unit ? " " : "", K->unit);
			return -ERANGE;
		}
		if (K->type == K_MS)
			u *= 1000000ULL;
		return store(c, k, u, v);
	case K_SMS: {
		long long sv;

		errno = 0;
		sv = strtoll(v, &end, 10);
		if (!*v || errno || *end || (*v != '-' && !isdigit((unsigned char)*v))) {
			pr_warn("%s: %s: '%s' is not a whole number\n", origin, K->name, v);
			return -EINVAL;
		}
		if (sv < -(long long)K->max || sv > (long long)K->max) {
			pr_warn("%s: %s: %lld is out of range [-%" PRIu64 ", %" PRIu64 "] %s\n", origin, K->name, sv,
				K->max, K->max, K->unit);
			return -ERANGE;
		}
		return store(c, k, (uint64_t)(sv * 1000000LL), v);
	}
	case K_ENUM:
		i = enum_index(K->choices, v);
		if (i < 0) {
			pr_warn("%s: %s: '%s' is not one of %s\n", origin, K->name, v, K->choices);
			return -EINVAL;
		}
		return store(c, k, (uint64_t)i, v);
	case K_ADDR: {
		struct in_addr a;

		if (inet_pton(AF_INET, v, &a) != 1) {
			pr_warn("%s: %s: '%s' is not an IPv4 address\n", origin, K->name, v);
			return -EINVAL;
		}
		return store(c, k, a.s_addr, v);
	}
	case K_HOSTPORT:
		if (*v && xpro_hostport(v, NULL, 0, NULL)) {
			pr_warn("%s: %s: '%s' is not IPv4-ADDRESS:PORT\n", origin, K->name, v);
			return -EINVAL;
		}
		return store(c, k, 0, v);
	case K_MASTER:
		/* one server (ADDR:PORT), or a Redis Cluster's seed list: two
		 * or more, comma-separated (xpro/rcluster.h) */
		if (*v && !strchr(v, ',') && xpro_hostport(v, NULL, 0, NULL)) {
			pr_warn("%s: %s: '%s' is not IPv4-ADDRESS:PORT (or a cluster seed list ADDR:PORT,ADDR:PORT,...)\n",
				origin, K->name, v);
			return -EINVAL;
		}
		if (strchr(v, ',')) {
			static struct rc_addr seeds[RC_MAX_SEEDS];
			char why[160];

			if (strlen(v) >= sizeof(c->redis_master)) {
				pr_warn("%s: %s: the seed list is longer than %zu characters\n", origin, K->name,
					sizeof(c->redis_master) - 1);
				return -EINVAL;
			}
			if (rc_parse_seeds(v, seeds, why, sizeof(why)) < 2) {
				pr_warn("%s: %s: not a cluster seed list: %s\n", origin, K->name, why);
				return -EINVAL;
			}
		}
		return store(c, k, 0, v);
	case K_STR:
		if (strlen(v) > K->max || strlen(v) < K->min) {
			pr_warn("%s: %s: length must be %" PRIu64 "-%" PRIu64 " characters\n", origin, K->name, K->min, K->max);
			return -EINVAL;
		}
		for (i = 0; v[i]; i++)
			if (!isgraph((unsigned char)v[i])) {
				pr_warn("%s: %s: spaces and control characters are not allowed\n", origin, K->name);
				return -EINVAL;
			}
		return store(c, k, 0, v);
	case K_NETS: {
		/* K->min: 1 for DEVICE=PREFIX entries; K->max: entries */
		char e[160];
		int n = xpro_guard_parse(v, (int)K->min, NULL, 0, e, sizeof(e));

		if (n < 0 || strlen(v) >= sizeof(c->proxies) * (K->min ? 2 : 1)) {
			pr_warn("%s: %s: %s\n", origin, K->name, n < 0 ? e : "list too long");
			return -EINVAL;
		}
		if ((uint64_t)n > K->max) {
			pr_warn("%s: %s: %d entries, at most %" PRIu64 "\n", origin, K->name, n, K->max);
			return -ERANGE;
		}
		return store(c, k, 0, v);
	}
	case K_EMBED6: {
		/* "none", or an IPv6 /96 written as inet_ntop writes it, host bits 0 */
		struct xpro_addr a;
		char t[INET6_ADDRSTRLEN + 4];
		uint32_t len;

		if (!strcmp(v, "none") || !*v)
			return store(c, k, 0, "none");
		if (xpro_guard_prefix(v, &a, &len) || xpro_addr_is4(&a) || len != 96 ||
		    !inet_ntop(AF_INET6, &a, t, INET6_ADDRSTRLEN) || !strcat(t, "/96") || strcmp(t, v)) {
			pr_warn("%s: %s: '%s' is not an IPv6 /96 prefix in canonical form (e.g. 2001:db8::/96)\n",
				origin, K->name, v);
			return -EINVAL;
		}
		return store(c, k, 0, v);
	}
	case K_KEYS: {
		char e[320];
		int n;

		if (!strcmp(v, "none") || !*v)
			return store(c, k, 0, v);
		if (v[0] != '/' || strlen(v) >= sizeof(c->device_keys)) {
			pr_warn("%s: %s: '%s' is not an absolute path\n", origin, K->name, v);
			return -EINVAL;
		}
		n = xpro_keys_load(v, -1, -1, e, sizeof(e));
		if (n < 0) {
			pr_warn("%s: %s: %s\n", origin, K->name, e);
			return -EINVAL;
		}
		return store(c, k, 0, v);
	}
	case K_PASSFILE: {
		char e[320];

		if (v[0] != '/' || strlen(v) >= sizeof(c->redis_password_file)) {
			pr_warn("%s: %s: '%s' is not an absolute path\n", origin, K->name, v);
			return -EINVAL;
		}
		if (read_passfile(v, c->redis_password, sizeof(c->redis_password), e, sizeof(e))) {
			pr_warn("%s: %s: %s\n", origin, K->name, e);
			return -EINVAL;
		}
		return store(c, k, 0, v);
	}
	case K_PATH:
		if (v[0] != '/' || strlen(v) >= sizeof(c->bpffs)) {
			pr_warn("%s: %s: '%s' is not an absolute path\n", origin, K->name, v);
			return -EINVAL;
		}
		return store(c, k, 0, v);
	}
	return -EINVAL;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static long find_key(const char *name)
{
	size_t k;

	for (k = 0; k < NKEYS; k++)
		if (!strcmp(keys[k].name, name))
			return (long)k;
	return -1;
}

int xpro_config_set(struct xpro_config *c, const char *kv, const char *origin)
{
	char buf[512], *eq, *name, *val;
	long k;

	if (strlen(kv) >= sizeof(buf)) {
		pr_warn("%s: setting too long\n", origin);
		return -EINVAL;
	}
	strcpy(buf, kv);
	eq = strchr(buf, '=');
	if (!eq) {
		pr_warn("%s: '%s' is not key=value\n", origin, kv);
		return -EINVAL;
	}
	*eq = '\0';
	name = trim(buf);
	val = trim(eq + 1);
	k = find_key(name);
	if (k < 0) {
		pr_warn("%s: unknown key '%s' (see docs/config.md)\n", origin, name);
		return -EINVAL;
	}
	return set_key(c, (size_t)k, val, origin);
}

int xpro_config_load(struct xpro_config *c, const char *path, int *nerr)
{
	char line[1024], origin[300], *s, *hash;
	uint64_t seen = 0;
	int lineno = 0;
	long k;
	FILE *f;

	*nerr = 0;
	f = fopen(path, "r");
	if (!f) {
		int err = -errno;

		pr_warn("config %s: %s\n", path, strerror(errno));
		(*nerr)++;
		return err;
	}
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		snprintf(origin, sizeof(origin), "%s:%d", path, lineno);
		if (!strchr(line, '\n') && !feof(f)) {
			pr_warn("%s: line too long\n", origin);
			(*nerr)++;
			break;
		}
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		s = trim(line);
		if (!*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			pr_warn("%s: expected 'key = value', got '%s'\n", origin, s);
			(*nerr)++;
			continue;
		}
		*eq = '\0';
		k = find_key(trim(s));
		if (k < 0) {
			pr_warn("%s: unknown key '%s' (see docs/config.md)\n", origin, trim(s));
			(*nerr)++;
			continue;
		}
		if (seen & (1ULL << k)) {
			pr_warn("%s: '%s' is set twice\n", origin, keys[k].name);
			(*nerr)++;
			continue;
		}
		seen |= 1ULL << k;
		if (set_key(c, (size_t)k, trim(eq + 1), origin))
			(*nerr)++;
		/* a password cut at its '#' would fail AUTH with no clue */
		else if (hash && !strcmp(keys[k].name, "redis_password"))
			pr_warn("%s: redis_password: the text from '#' on is a comment; a password with '#' needs redis_password_file\n",
				origin);
	}
	fclose(f);
	if ((seen & (1ULL << find_key("redis_password"))) && (seen & (1ULL << find_key("redis_password_file")))) {
		pr_warn("config %s: redis_password and redis_password_file are both set: keep one\n", path);
		(*nerr)++;
	}
	return *nerr ? -EINVAL : 0;
}

int xpro_config_validate(const struct xpro_config *c)
{
	const struct xpro_params *p = &c->params;
	int n = 0;

	if (p->tt2_ns >= p->tt1_ns) {
		pr_warn("config: tt2_ms (%" PRIu64 ") must be below tt1_ms (%" PRIu64 "): a window is reset before it is ever checked\n",
			(uint64_t)(p->tt2_ns / 1000000), (uint64_t)(p->tt1_ns / 1000000));
		n++;
	}
	if (p->tt3_ns >= p->tt1_ns) {
		pr_warn("config: tt3_ms (%" PRIu64 ") must be below tt1_ms (%" PRIu64 ")\n",
			(uint64_t)(p->tt3_ns / 1000000), (uint64_t)(p->tt1_ns / 1000000));
		n++;
	}
	if ((uint64_t)c->sync_period_ms * 2000000ULL >= p->tt1_ns) {
		pr_warn("config: sync_period_ms (%u) must be below half of tt1_ms (%" PRIu64 "): the sync never touches a record its next packet may reset\n",
			c->sync_period_ms, (uint64_t)(p->tt1_ns / 1000000));
		n++;
	}
	if (c->agg_window_ns && c->agg_window_ns < p->tt3_ns) {
		pr_warn("config: agg_window_ms (%" PRIu64 ") must be 0 or at least tt3_ms (%" PRIu64 "): a shorter aggregate window never reaches TT3 and TF2 never applies\n",
			(uint64_t)(c->agg_window_ns / 1000000), (uint64_t)(p->tt3_ns / 1000000));
		n++;
	}
	if (c->max_clock_skew_ns > p->tt1_ns) {
		pr_warn("config: max_clock_skew_ms (%" PRIu64 ") must be at most tt1_ms (%" PRIu64 ") (keep it well under tt2_ms)\n",
			c->max_clock_skew_ns / 1000000, (uint64_t)(p->tt1_ns / 1000000));
		n++;
	}
	{
		/* the count bound of a window read from Redis, twice (a merge
		 * adds two), must stay below 2^53 */
		long double span = (long double)(c->max_window_ns + c->max_clock_skew_ns + p->tt1_ns + p->tt4_ns) / 1e9L +
				   (long double)c->sync_period_ms / 1e3L;

		if (2.0L * (long double)c->max_client_pps * span + 2.0L >= 9007199254740992.0L) {
			pr_warn("config: max_client_pps (%" PRIu64 ") times max_window_ms (%" PRIu64 ") and TT1 + TT4: a count could pass 2^53; lower one\n",
				c->max_client_pps, c->max_window_ns / 1000000);
			n++;
		}
	}
	if (p->tf1 > p->tf2) {
		pr_warn("config: tf1 (%" PRIu64 ") above tf2 (%" PRIu64 "): one client could exceed the destination's capacity\n",
			(uint64_t)p->tf1, (uint64_t)p->tf2);
		n++;
	}
	return n;
}

void xpro_config_print(const struct xpro_config *c, FILE *f)
{
	const struct xpro_params *p = &c->params;
	char a[INET_ADDRSTRLEN] = "auto";

	if (c->tunnel_addr)
		inet_ntop(AF_INET, &c->tunnel_addr, a, sizeof(a));
	fprintf(f, "mode = %s\n", c->mode == XPRO_MODE_INLINE ? "inline" : "tunnel");
	fprintf(f, "tunnel_addr = %s\n", a);
	fprintf(f, "tunnel_port = %u\n", c->tunnel_port);
	fprintf(f, "xdp_mode = %s\n", c->xdp_generic ? "generic" : "native");
	fprintf(f, "max_records = %u\nmax_dests = %u\n", c->max_records, c->max_dests);
	fprintf(f, "policy = %s\n", xpro_policy_name(p->policy));
	fprintf(f, "ipv6 = %s\n", xpro_ipv6_name(p->ipv6));
	fprintf(f, "filter = %s\n", p->filter ? "on" : "off");
	fprintf(f, "tt1_ms = %" PRIu64 "\ntt2_ms = %" PRIu64 "\ntt3_ms = %" PRIu64 "\ntt4_ms = %" PRIu64 "\n",
		(uint64_t)p->tt1_ns / 1000000, (uint64_t)p->tt2_ns / 1000000,
		(uint64_t)p->tt3_ns / 1000000, (uint64_t)p->tt4_ns / 1000000);
	fprintf(f, "tf1 = %" PRIu64 "\ntf2 = %" PRIu64 "\nr = %u\n", (uint64_t)p->tf1, (uint64_t)p->tf2, p->r);
	fprintf(f, "warn_interval_ms = %" PRIu64 "\n", (uint64_t)p->warn_interval_ns / 1000000);
	fprintf(f, "fib_cache_ms = %u\n", p->fib_cache_ms);
	fprintf(f, "agg_window_ms = %" PRIu64 "\n", c->agg_window_ns / 1000000);
	fprintf(f, "t_w = %" PRIu64 "\nsync_period_ms = %u\n", c->t_w, c->sync_period_ms);
	fprintf(f, "max_client_pps = %" PRIu64 "\nmax_window_ms = %" PRIu64 "\nmax_clock_skew_ms = %" PRIu64 "\n",
		c->max_client_pps, c->max_window_ns / 1000000, c->max_clock_skew_ns / 1000000);
	fprintf(f, "master_merge = %s\n", c->master_merge_lua ? "lua" : "watch");
	if (c->clock_offset_ns)
		fprintf(f, "clock_offset_ms = %" PRId64 "\n", c->clock_offset_ns / 1000000);
	fprintf(f, "redis_local = %s\nredis_master = %s\nredis_user = %s\nredis_password = %s\n%sredis_password_file = %s\nproxy_id = %s\n",
		c->redis_local, c->redis_master, c->redis_user, *c->redis_password ? "(set)" : "",
		*c->redis_password_file ? "" : "# ", *c->redis_password_file ? c->redis_password_file : "(none)",
		*c->proxy_id ? c->proxy_id : "(<netns>/<interface>)");
	fprintf(f, "proxies = %s\nmgmt_prefixes = %s\ndevice_prefixes = %s\n", *c->proxies ? c->proxies : "none",
		*c->mgmt_prefixes ? c->mgmt_prefixes : "none", *c->device_prefixes ? c->device_prefixes : "none");
	if (c->device_embed6_len) {
		char e6[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6, &c->device_embed6, e6, sizeof(e6));
		fprintf(f, "device_embed6 = %s/96\n", e6);
	} else {
		fprintf(f, "device_embed6 = none\n");
	}
	fprintf(f, "device_keys = %s\ntunnel_v1 = %s\n", *c->device_keys ? c->device_keys : "none",
		c->tunnel_v1_refuse ? "refuse" : "accept");
	fprintf(f, "bpffs = %s\nstate_dir = %s\n", c->bpffs, c->state_dir);
	fprintf(f, "log_dir = %s\nlog_max_kb = %" PRIu64 "\nlog_keep = %u\n%snotify = %s\nnotify_interval_ms = %" PRIu64 "\n",
		xpro_log_dir(c), c->log_max_kb, c->log_keep, *c->notify ? "" : "# ", *c->notify ? c->notify : "(none)",
		c->notify_interval_ns / 1000000);
}

const char *xpro_log_dir(const struct xpro_config *c)
{
	if (*c->log_dir)
		return c->log_dir;
	/* a testbed that moves state_dir keeps its logs there too */
	return strcmp(c->state_dir, "/run/xpro/state") ? c->state_dir : "/var/log/xpro";
}
