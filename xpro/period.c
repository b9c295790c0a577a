// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* What the two sync daemons share: see period.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "formats.h"
#include "log.h"
#include "period.h"
#include "xredis.h"

double xpro_cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec * 1e3 + (double)ru.ru_utime.tv_usec / 1e3 +
	       (double)ru.ru_stime.tv_sec * 1e3 + (double)ru.ru_stime.tv_usec / 1e3;
}

void xpro_sleep_until(uint64_t t_ns)
{
	uint64_t now = xredis_mono_ns();
	struct timespec ts;

	if (t_ns <= now)
		return;
	ts.tv_sec = (time_t)((t_ns - now) / 1000000000ULL);
	ts.tv_nsec = (long)((t_ns - now) % 1000000000ULL);
	nanosleep(&ts, NULL);
}

void xpro_on_wakeup(const char *msg, size_t len, void *arg)
{
	(void)msg;
	(void)len;
	(void)arg;
}

uint64_t xpro_sync_ttl_ms(const struct xpro_config *c)
{
	return 2 * (c->params.tt1_ns / 1000000ULL) + 10ULL * c->sync_period_ms;
}

static uint32_t map_id(int fd)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

int xpro_follow_pins(struct xpro_proxy *px)
{
	char path[700];
	int i, same = px->fd[0] >= 0;

	for (i = 0; i < M__MAX; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s", px->pin_dir, xpro_map_names[i]);
		fd = bpf_obj_get(path);
		if (fd < 0) {
			if (px->fd[0] >= 0)
				xpro_proxy_close(px);
			return -1;
		}
		if (same && map_id(fd) != map_id(px->fd[i]))
			same = 0;
		close(fd);
	}
	if (same)
		return 0;
	xpro_proxy_close(px);
	return xpro_proxy_open(px) ? -1 : 1;
}

int xpro_sync_params(struct xpro_proxy *px, struct xpro_config *c)
{
	struct xpro_params p;
	int err;

	if (px->fd[M_CONFIG] < 0)
		return -EBADF;
	err = xpro_read_params(px, &p);
	if (!err)
		c->params = p;
	return err;
}

uint64_t xpro_sync_now(const struct xpro_config *c)
{
	return xpro_now_tai() + (uint64_t)c->clock_offset_ns;
}

struct xpro_limits xpro_sync_limits(const struct xpro_config *c, uint64_t now_ns)
{
	return (struct xpro_limits){
		.now_us = now_ns / XPRO_NS_PER_US,
		.future_us = (c->max_clock_skew_ns + (uint64_t)c->sync_period_ms * 1000000ULL) / XPRO_NS_PER_US,
		.past_us = c->max_window_ns / XPRO_NS_PER_US,
		.slack_us = (c->params.tt1_ns + c->params.tt4_ns) / XPRO_NS_PER_US,
		.max_pps = c->max_client_pps,
	};
}

void xpro_reject(const char *who, uint64_t *n, const char *key, const char *field, const char *value,
		 const char *why)
{
	static uint64_t second, shown, hidden;
	uint64_t now = xredis_mono_ns() / 1000000000ULL;
	char v[6 * 64 + 16];

	(*n)++;
	if (now != second) {
		if (hidden)
			pr_warn("%s: %" PRIu64 " more values rejected (not shown)\n", who, hidden);
		second = now;
		shown = hidden = 0;
	}
	if (shown++ >= 10) {
		hidden++;
		return;
	}
	xpro_msg_escape(v, value ? value : "", value ? strnlen(value, 64) : 0);
	pr_warn("%s: %s field %s: '%s' refused (%s)\n", who, key, field, v, why ? why : "malformed");
}

void xpro_sync_reconnect(const struct xpro_config *c, struct xredis *const *local, int nl,
			 struct xredis *const *master, int nm)
{
	int i;

	for (i = 0; i < nl; i++)
		xredis_reconfig(local[i], c->redis_local, c->redis_user, c->redis_password);
	for (i = 0; i < nm; i++)
		xredis_reconfig(master[i], c->redis_master, c->redis_user, c->redis_password);
}

/* The fields of both daemons' state, before its closing brace: the
 * overruns of the period loop, the Redis failures of the process
 * (xpro exporter reads them). */
static void status_common(char *json, size_t len, const struct xpro_period *p)
{
	size_t n = strlen(json);

	if (n && json[n - 1] == '}')
		snprintf(json + n - 1, len - n + 1, ",\"overruns\":%" PRIu64 ",\"redis_errors\":%" PRIu64 "}",
			 p->overruns, xredis_failures);
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

/* After a period: 1 when --periods or --duration says stop, else p->next
 * moves one period on (never into the past). */
static int period_end(const struct xpro_sync_opts *o, struct xpro_period *p, uint32_t period_ms)
{
	if (o->periods > 0 && (long)p->periods >= o->periods)
		return 1;
	if (o->duration > 0 && (double)(xredis_mono_ns() - p->t0) / 1e9 >= o->duration)
		return 1;
	p->next += (uint64_t)period_ms * 1000000ULL;
	if (p->next < xredis_mono_ns()) {
		p->overruns++;
		p->next = xredis_mono_ns();
	}
	return 0;
}

void xpro_period_loop(struct xpro_config *cfg, const struct xpro_sync_opts *o, const struct xpro_proxy *px,
		      const struct xpro_period_ops *ops, void *arg, struct xpro_period *p)
{
	static char json[8192];

	p->next = xredis_mono_ns();
	while (!*o->stop) {
		uint64_t tstart;
		double cpu0;
		int ok, at_end;

		at_end = ops->wait(arg, p);
		if (*o->stop)
			break;
		tstart = xredis_mono_ns();
		cpu0 = xpro_cpu_ms();
		if (sighup(cfg, o, ops->name))
			ops->reconfig(arg);
		ok = ops->step(arg, at_end);
		p->cpu_total += xpro_cpu_ms() - cpu0;
		if (ok)
			p->last_ok_ns = xpro_now_tai();
		if (!at_end)
			continue; /* an event: the period's bookkeeping waits for its end */
		p->periods++;
		ops->status(arg, p, (double)(xredis_mono_ns() - tstart) / 1e6, json, sizeof(json));
		status_common(json, sizeof(json), p);
		write_status(px, ops->name, json);
		if (period_end(o, p, cfg->sync_period_ms))
			break;
	}
}

/* ---- (destination, client) pairs ------------------------------------------ */

void xpro_pairs_add(struct xpro_pairs *l, const struct xpro_addr *dest, const struct xpro_addr *client)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 1024;
		void *p = realloc(l->p, cap * sizeof(*l->p));

		if (!p)
			return; /* out of memory: the record waits for the next full pass */
		l->p = p;
		l->cap = cap;
	}
	l->p[l->n++] = (struct xpro_pair){ *dest, *client };
}

void xpro_pairs_add_cb(const struct xpro_addr *dest, const struct xpro_addr *client, void *l)
{
	xpro_pairs_add(l, dest, client);
}

void xpro_pairs_refuse(struct xpro_pairs *l, const char *name, size_t len)
{
	if (len >= sizeof(l->bad_name))
		len = sizeof(l->bad_name) - 1;
	memcpy(l->bad_name, name, len);
	l->bad_name[len] = '\0';
	l->bad++;
}

static int pair_cmp(const void *a, const void *b)
{
	const struct xpro_pair *x = a, *y = b;

	int c = xpro_addr_cmp(&x->dest, &y->dest);

	return c ? c : xpro_addr_cmp(&x->client, &y->client);
}

void xpro_pairs_sort(struct xpro_pairs *l)
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

void xpro_pairs_add_reply(struct xpro_pairs *l, redisReply **e, size_t n, char prefix)
{
	struct xpro_addr cl = { 0 }, de;
	size_t i;

	for (i = 0; i < n; i++) {
		if (e[i]->type != REDIS_REPLY_STRING)
			continue;
		if (strlen(e[i]->str) == e[i]->len &&
		    (prefix ? !xpro_parse_key(e[i]->str, prefix, &cl, &de) : !xpro_addr_parse(e[i]->str, e[i]->len, &de)))
			xpro_pairs_add(l, &de, &cl);
		else
			xpro_pairs_refuse(l, e[i]->str, e[i]->len);
	}
}
