// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Prometheus metrics of one proxy: its data plane (packets by verdict,
 * packets by reason, events, map fill against capacity, thresholds) and its
 * two sync daemons (their state files: lag, periods, overruns, W and T_W,
 * the peers' W, clock offsets, Redis). `xpro stats --prom` prints them once;
 * `xpro exporter` serves them on /metrics (libmicrohttpd) and/or writes
 * them as a node_exporter textfile, atomically. Names and labels:
 * docs/operations.md, Metrics.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <microhttpd.h>
#include "exporter.h"
#include "log.h"
#include "period.h"

/* ---- the daemons' state files: a small reader of one JSON object ------ */

static const char *ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')
		p++;
	return p;
}

/* p at '"': past the closing quote, or NULL */
static const char *skip_str(const char *p)
{
	for (p++; *p && *p != '"'; p++)
		if (*p == '\\' && p[1])
			p++;
	return *p ? p + 1 : NULL;
}

/* past one value (string, object, array, number, literal), or NULL */
static const char *skip_val(const char *p)
{
	int depth = 0;

	p = ws(p);
	if (*p == '"')
		return skip_str(p);
	if (*p != '{' && *p != '[') {
		while (*p && *p != ',' && *p != '}' && *p != ']')
			p++;
		return p;
	}
	while (*p) {
		if (*p == '"') {
			p = skip_str(p);
			if (!p)
				return NULL;
			continue;
		}
		if (*p == '{' || *p == '[')
			depth++;
		else if ((*p == '}' || *p == ']') && --depth == 0)
			return p + 1;
		p++;
	}
	return NULL;
}

/* Each member of the object at obj: fn(key, key length, value); a nonzero
 * return stops and is returned. Keys are given as written (no unescaping). */
static int members(const char *obj, int (*fn)(const char *k, size_t kl, const char *v, void *arg), void *arg)
{
	const char *p = obj ? ws(obj) : NULL, *k, *ke;
	int r;

	if (!p || *p != '{')
		return 0;
	p = ws(p + 1);
	while (*p == '"') {
		k = p + 1;
		ke = skip_str(p);
		if (!ke)
			return 0;
		p = ws(ke);
		if (*p != ':')
			return 0;
		p = ws(p + 1);
		r = fn(k, (size_t)(ke - 1 - k), p, arg);
		if (r)
			return r;
		p = skip_val(p);
		if (!p)
			return 0;
		p = ws(p);
		if (*p != ',')
			break;
		p = ws(p + 1);
	}
	return 0;
}

struct find {
	const char *key, *val;
};

static int find_fn(const char *k, size_t kl, const char *v, void *arg)
{
	struct find *f = arg;

	if (strlen(f->key) != kl || strncmp(k, f->key, kl))
		return 0;
	f->val = v;
	return 1;
}

/* The value of obj's member key (not of a nested object's), or NULL. */
static const char *get(const char *obj, const char *key)
{
	struct find f = { key, NULL };

	members(obj, find_fn, &f);
	return f.val;
}

/* A number member: 1 and *v, or 0 when absent or not a number. */
static int num(const char *obj, const char *key, double *v)
{
	const char *p = get(obj, key);
	char *end;

	if (!p || !((*p >= '0' && *p <= '9') || *p == '-'))
		return 0;
	*v = strtod(p, &end);
	return end != p;
}

/* A string member equal to s. */
static int str_is(const char *obj, const char *key, const char *s)
{
	const char *p = get(obj, key);
	size_t n = strlen(s);

	return p && *p == '"' && !strncmp(p + 1, s, n) && p[n + 1] == '"';
}

/* ---- the text format ---------------------------------------------------- */

/* A label value: backslash, quote and newline escaped; cut to fit. */
static const char *lv(char *buf, size_t n, const char *s, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < len && s[i] && o + 3 < n; i++) {
		char ch = s[i];

		if (ch == '\\' || ch == '"' || ch == '\n') {
			buf[o++] = '\\';
			ch = ch == '\n' ? 'n' : ch;
		}
		buf[o++] = ch;
	}
	buf[o] = '\0';
	return buf;
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{LABELS[,extra]} value */
static void sample(FILE *f, const char *name, const char *labels, const char *extra, double v)
{
	fprintf(f, "%s{%s%s%s} %.15g\n", name, labels, extra && *extra ? "," : "", extra ? extra : "", v);
}

static void sample_u(FILE *f, const char *name, const char *labels, const char *extra, uint64_t v)
{
	fprintf(f, "%s{%s%s%s} %" PRIu64 "\n", name, labels, extra && *extra ? "," : "", extra ? extra : "", v);
}

/* ---- the data plane ----------------------------------------------------- */

/* verdict and reason of an outcome counter: "drop_tf1" -> drop, tf1 */
static void outcome(unsigned int i, const char **verdict, const char **reason)
{
	const char *n = xpro_counter_name(i);

	if (!strncmp(n, "pass_", 5)) {
		*verdict = "pass";
		*reason = n + 5;
	} else if (!strncmp(n, "drop_", 5)) {
		*verdict = "drop";
		*reason = n + 5;
	} else {
		*verdict = "untouched"; /* not_tunnel: to the kernel as it came */
		*reason = n;
	}
}

static uint32_t capacity(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) ? info.max_entries : 0;
}

static void dataplane(FILE *f, const char *L, const struct xpro_proxy *px, const struct xpro_snapshot *s)
{
	static const char *const verdicts[] = { "pass", "drop", "untouched" };
	const char *v, *r;
	char x[128];
	uint64_t sum;
	unsigned int i, k;

	family(f, "xpro_packets_verdict_total", "counter",
	       "Packets the XDP program decided, by verdict (their sum is every packet seen).");
	for (k = 0; k < 3; k++) {
		sum = 0;
		for (i = XPRO_C__OUTCOME_FIRST; i <= XPRO_C__OUTCOME_LAST; i++) {
			outcome(i, &v, &r);
			if (!strcmp(v, verdicts[k]))
				sum += s->counters[i];
		}
		snprintf(x, sizeof(x), "verdict=\"%s\"", verdicts[k]);
		sample_u(f, "xpro_packets_verdict_total", L, x, sum);
	}
	family(f, "xpro_packets_reason_total", "counter",
	       "Packets the XDP program decided, by verdict and reason (one series per outcome; their sum is every packet seen).");
	for (i = XPRO_C__OUTCOME_FIRST; i <= XPRO_C__OUTCOME_LAST; i++) {
		outcome(i, &v, &r);
		snprintf(x, sizeof(x), "verdict=\"%s\",reason=\"%s\"", v, r);
		sample_u(f, "xpro_packets_reason_total", L, x, s->counters[i]);
	}
	family(f, "xpro_records_created_total", "counter", "(client, destination) records created.");
	sample_u(f, "xpro_records_created_total", L, NULL, s->counters[XPRO_C_RECORD_NEW]);
	family(f, "xpro_records_full_total", "counter",
	       "Records that could not be created (map full; the packet was still decided).");
	sample_u(f, "xpro_records_full_total", L, NULL, s->counters[XPRO_C_RECORD_FULL]);
	family(f, "xpro_destinations_created_total", "counter", "Per-destination aggregates created.");
	sample_u(f, "xpro_destinations_created_total", L, NULL, s->counters[XPRO_C_AGG_NEW]);
	family(f, "xpro_warnings_total", "counter",
	       "Overload warnings of the data plane: sent on the ring buffer, or lost (ring full).");
	sample_u(f, "xpro_warnings_total", L, "result=\"sent\"", s->counters[XPRO_C_WARN_SENT]);
	sample_u(f, "xpro_warnings_total", L, "result=\"lost\"", s->counters[XPRO_C_WARN_LOST]);
	family(f, "xpro_records", "gauge", "Live (client, destination) records.");
	sample_u(f, "xpro_records", L, NULL, s->records);
	family(f, "xpro_records_capacity", "gauge", "Size of the records map (max_records).");
	sample_u(f, "xpro_records_capacity", L, NULL, capacity(px->fd[M_RECORDS]));
	family(f, "xpro_destinations", "gauge", "Live per-destination aggregates.");
	sample_u(f, "xpro_destinations", L, NULL, s->dests);
	family(f, "xpro_destinations_capacity", "gauge", "Size of the aggregates map (max_dests).");
	sample_u(f, "xpro_destinations_capacity", L, NULL, capacity(px->fd[M_AGGS]));
	family(f, "xpro_threshold_pps", "gauge", "The thresholds in force: TF1 (one pair) and TF2 (one destination), packets/s.");
	sample_u(f, "xpro_threshold_pps", L, "threshold=\"tf1\"", (uint64_t)s->params.tf1);
	sample_u(f, "xpro_threshold_pps", L, "threshold=\"tf2\"", (uint64_t)s->params.tf2);
}

/* ---- the sync daemons --------------------------------------------------- */

struct daemon_state {
	const char *name;
	char json[8192];
	int present;       /* a state file that parses as an object */
	double lag_ms;
};

struct peers_ctx {
	FILE *f;
	const char *L;
};

static int peer_w(const char *k, size_t kl, const char *v, void *arg)
{
	struct peers_ctx *pc = arg;
	char id[200], x[240];
	double w;
	char *end;

	/* ids are plain (validated by the sync); anything escaped is skipped */
	if (memchr(k, '\\', kl))
		return 0;
	w = strtod(v, &end);
	if (end == v)
		return 0;
	snprintf(x, sizeof(x), "peer=\"%s\"", lv(id, sizeof(id), k, kl));
	sample(pc->f, "xpro_peer_workload_pps", pc->L, x, w);
	return 0;
}

/* One family over both daemons: field (a number of the state file) times
 * scale, when present. */
static void per_daemon(FILE *f, const char *L, struct daemon_state *d, const char *name, const char *type,
		       const char *help, const char *field, double scale)
{
	char x[64];
	double v;
	int any = 0;

	for (int i = 0; i < 2; i++) {
		if (!d[i].present || !num(d[i].json, field, &v))
			continue;
		if (!any++)
			family(f, name, type, help);
		snprintf(x, sizeof(x), "daemon=\"%s\"", d[i].name);
		sample(f, name, L, x, v * scale);
	}
}

static int pid_alive(const char *json)
{
	double pid;

	return num(json, "pid", &pid) && pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

static void sync_metrics(FILE *f, const char *L, const struct xpro_config *c, const struct xpro_proxy *px)
{
	struct daemon_state d[2] = { { .name = "syncmaps" }, { .name = "syncdb" } };
	const char *clk, *wp;
	char x[240], id[200];
	double v;
	int i;

	for (i = 0; i < 2; i++)
		d[i].present = !xpro_sync_state(px, d[i].name, d[i].json, sizeof(d[i].json), &d[i].lag_ms);
	family(f, "xpro_sync_running", "gauge", "1 when the daemon's state file names a live process.");
	for (i = 0; i < 2; i++) {
		snprintf(x, sizeof(x), "daemon=\"%s\"", d[i].name);
		sample_u(f, "xpro_sync_running", L, x, d[i].present && pid_alive(d[i].json));
	}
	family(f, "xpro_sync_lag_seconds", "gauge", "Time since the daemon's last complete period.");
	for (i = 0; i < 2; i++) {
		if (!d[i].present || d[i].lag_ms < 0)
			continue;
		snprintf(x, sizeof(x), "daemon=\"%s\"", d[i].name);
		sample(f, "xpro_sync_lag_seconds", L, x, d[i].lag_ms / 1e3);
	}
	per_daemon(f, L, d, "xpro_sync_periods_total", "counter", "Sync periods completed.", "periods", 1);
	per_daemon(f, L, d, "xpro_sync_period_overruns_total", "counter",
		   "Periods that ended after the next one should have begun.", "overruns", 1);
	per_daemon(f, L, d, "xpro_sync_period_seconds", "gauge", "The configured sync period (sync_period_ms).",
		   "period_ms", 1e-3);
	per_daemon(f, L, d, "xpro_sync_period_wall_seconds", "gauge", "Wall time of the daemon's last period.",
		   "period_wall_ms", 1e-3);
	per_daemon(f, L, d, "xpro_sync_cpu_seconds_per_period", "gauge", "CPU time per period, on average.",
		   "cpu_ms_per_period", 1e-3);
	per_daemon(f, L, d, "xpro_sync_invalid_total", "counter", "Values read from Redis and rejected by validation.",
		   "invalid", 1);
	per_daemon(f, L, d, "xpro_sync_events_total", "counter", "Change notifications handled between periods.",
		   "events", 1);
	per_daemon(f, L, d, "xpro_redis_errors_total", "counter",
		   "Redis failures of the daemon (connect, AUTH, a command), each followed by a backoff.", "redis_errors", 1);
	family(f, "xpro_redis_up", "gauge", "1 when the daemon is connected to that Redis server.");
	if (d[0].present && get(d[0].json, "redis"))
		sample_u(f, "xpro_redis_up", L, "daemon=\"syncmaps\",server=\"local\"", str_is(d[0].json, "redis", "up"));
	if (d[1].present && get(d[1].json, "local")) {
		sample_u(f, "xpro_redis_up", L, "daemon=\"syncdb\",server=\"local\"", str_is(d[1].json, "local", "up"));
		sample_u(f, "xpro_redis_up", L, "daemon=\"syncdb\",server=\"master\"", str_is(d[1].json, "master", "up"));
	}
	/* W (syncmaps measures it) against T_W (the config) */
	family(f, "xpro_workload_pps", "gauge", "W: packets/s the filter handled over the last period.");
	if (d[0].present && num(d[0].json, "w", &v))
		sample(f, "xpro_workload_pps", L, NULL, v);
	family(f, "xpro_workload_threshold_pps", "gauge", "T_W: the workload above which the proxy alerts (t_w).");
	sample_u(f, "xpro_workload_threshold_pps", L, NULL, c->t_w);
	family(f, "xpro_peer_workload_pps", "gauge", "The other proxies' W, as read from the master.");
	wp = d[1].present ? get(d[1].json, "peers_w") : NULL;
	if (wp)
		members(wp, peer_w, &(struct peers_ctx){ f, L });
	/* clocks (syncdb compares its clock with the peers') */
	clk = d[1].present ? get(d[1].json, "clock") : NULL;
	if (!clk)
		return;
	family(f, "xpro_clock_offset_seconds", "gauge", "This proxy's clock against its peers' (median offset).");
	if (num(clk, "offset_us", &v))
		sample(f, "xpro_clock_offset_seconds", L, NULL, v / 1e6);
	family(f, "xpro_clock_peers", "gauge", "Peers whose clock was compared.");
	if (num(clk, "peers", &v))
		sample(f, "xpro_clock_peers", L, NULL, v);
	family(f, "xpro_clock_peers_beyond", "gauge", "Peers whose clock is beyond max_clock_skew_ms.");
	if (num(clk, "peers_beyond", &v))
		sample(f, "xpro_clock_peers_beyond", L, NULL, v);
	family(f, "xpro_clock_steps_total", "counter", "Steps of this host's clock seen by syncdb.");
	if (num(clk, "steps", &v))
		sample(f, "xpro_clock_steps_total", L, NULL, v);
	family(f, "xpro_clock_peer_offset_seconds", "gauge", "The offset of the farthest peer's clock to ours.");
	wp = get(clk, "worst_peer");
	if (wp && *wp == '"' && wp[1] != '"' && num(clk, "worst_offset_us", &v)) {
		const char *e = skip_str(wp);

		if (e && !memchr(wp + 1, '\\', (size_t)(e - wp - 2))) {
			snprintf(x, sizeof(x), "peer=\"%s\"", lv(id, sizeof(id), wp + 1, (size_t)(e - wp - 2)));
			sample(f, "xpro_clock_peer_offset_seconds", L, x, v / 1e6);
		}
	}
}

void xpro_metrics_write(FILE *f, const struct xpro_config *c, const struct xpro_proxy *px,
			const struct xpro_snapshot *s)
{
	char L[400], a[200], b[64];
	const char *id = c->proxy_id[0] ? c->proxy_id : px->nsname;

	snprintf(L, sizeof(L), "proxy=\"%s\",interface=\"%s\"", lv(a, sizeof(a), id, strlen(id)),
		 lv(b, sizeof(b), px->ifname, strlen(px->ifname)));
	family(f, "xpro_up", "gauge", "1 when the proxy's pinned maps could be read.");
	sample_u(f, "xpro_up", L, NULL, s != NULL);
	if (s)
		dataplane(f, L, px, s);
	sync_metrics(f, L, c, px);
}

/* ---- xpro exporter ------------------------------------------------------ */

struct exporter {
	const struct xpro_config *cfg;
	struct xpro_proxy px;
	struct xpro_snapshot s;
	pthread_mutex_t lock;
	uint64_t scrapes;
};

/* The metrics now, in a malloc'ed buffer (*len bytes); NULL on no memory. */
static char *render(struct exporter *e, size_t *len)
{
	char *buf = NULL;
	FILE *f;
	int ok;

	pthread_mutex_lock(&e->lock);
	f = open_memstream(&buf, len);
	if (f) {
		/* reopen after a detach and attach; nothing while detached */
		ok = xpro_follow_pins(&e->px) >= 0 && !xpro_collect(&e->px, &e->s, 0);
		xpro_metrics_write(f, e->cfg, &e->px, ok ? &e->s : NULL);
		e->scrapes++;
		if (fclose(f))
			buf = NULL;
	}
	pthread_mutex_unlock(&e->lock);
	return buf;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned int code, const char *type, char *body,
			     size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	if (code == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

/* GET or HEAD /metrics: the metrics; / : a pointer to them; anything
 * else 404 or 405. A request body is read and thrown away. */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_len, void **state)
{
	static char seen, index_html[] = "X-Pro exporter: /metrics\n", nf[] = "not found\n", na[] = "GET only\n";
	struct exporter *e = cls;
	char *body;
	size_t len;

	(void)version;
	(void)upload;
	if (!*state) {
		*state = &seen; /* headers only so far */
		return MHD_YES;
	}
	if (*upload_len) {
		*upload_len = 0;
		return MHD_YES;
	}
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", na, sizeof(na) - 1, MHD_RESPMEM_PERSISTENT);
	if (!strcmp(url, "/"))
		return reply(conn, MHD_HTTP_OK, "text/plain", index_html, sizeof(index_html) - 1, MHD_RESPMEM_PERSISTENT);
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, "text/plain", nf, sizeof(nf) - 1, MHD_RESPMEM_PERSISTENT);
	body = render(e, &len);
	if (!body)
		return MHD_NO;
	return reply(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len, MHD_RESPMEM_MUST_FREE);
}

/* The textfile, whole or not at all: written beside, then renamed. */
static int write_textfile(struct exporter *e, const char *path)
{
	char tmp[4200], *buf;
	size_t len;
	FILE *f;
	int ok;

	buf = render(e, &len);
	if (!buf)
		return -ENOMEM;
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	f = fopen(tmp, "w");
	if (!f) {
		free(buf);
		return -errno;
	}
	ok = fwrite(buf, 1, len, f) == len;
	ok = !fflush(f) && !fsync(fileno(f)) && ok;
	ok = !fclose(f) && ok;
	free(buf);
	if (!ok || rename(tmp, path)) {
		unlink(tmp);
		return -EIO;
	}
	return 0;
}

static int listen_addr(const char *s, struct sockaddr_in *sa)
{
	char host[64];
	int port;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	if (xpro_hostport(s, host, sizeof(host), &port) || port <= 0 || port > 65535 ||
	    inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return -EINVAL;
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

int xpro_exporter(const struct xpro_config *c, const char *ifname, const struct xpro_exporter_opts *o)
{
	static struct exporter e;
	struct MHD_Daemon *httpd = NULL;
	struct sockaddr_in sa;
	double t0 = (double)xpro_now_tai() / 1e9, next = 0, now;
	int err;

	e.cfg = c;
	pthread_mutex_init(&e.lock, NULL);
	err = xpro_proxy_init(&e.px, c, ifname);
	if (err)
		return err;
	if (xpro_proxy_open(&e.px))
		pr_warn("exporter %s: no pinned maps (not attached?): xpro_up 0 until it is\n", e.px.ifname);
	if (o->listen) {
		if (listen_addr(o->listen, &sa)) {
			pr_warn("exporter: --listen '%s' is not IPv4ADDR:PORT\n", o->listen);
			err = -EINVAL;
			goto out;
		}
		/* one thread; hostile clients get little: 32 connections (8 per
		 * address), 16 KiB of memory each, 10 s to finish a request */
		httpd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY, 0, NULL, NULL,
					 on_request, &e, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
					 MHD_OPTION_CONNECTION_LIMIT, (unsigned int)32,
					 MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned int)8,
					 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
					 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10, MHD_OPTION_END);
		if (!httpd) {
			err = -errno ? -errno : -EIO;
			pr_warn("exporter: cannot listen on %s: %s\n", o->listen, strerror(-err));
			goto out;
		}
		pr_info("exporter %s: http://%s/metrics\n", e.px.ifname, o->listen);
	}
	if (o->textfile)
		pr_info("exporter %s: writing %s every %.1f s\n", e.px.ifname, o->textfile, o->interval);
	while (!*o->stop) {
		now = (double)xpro_now_tai() / 1e9;
		if (o->duration > 0 && now - t0 >= o->duration)
			break;
		if (o->textfile && now >= next) {
			err = write_textfile(&e, o->textfile);
			if (err)
				pr_warn("exporter: %s: %s\n", o->textfile, strerror(-err));
			err = 0;
			next = now + o->interval;
		}
		sleep_s(0.05);
	}
	pr_info("exporter %s: %" PRIu64 " scrapes\n", e.px.ifname, e.scrapes);
out:
	if (httpd)
		MHD_stop_daemon(httpd);
	xpro_proxy_close(&e.px);
	return err;
}
