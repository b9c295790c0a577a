// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Counters, records and top talkers of one proxy: text, JSON, Prometheus. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "addr.h"
#include "log.h"
#include "stats.h"
#include "json.h"
#include "mapwalk.h"

static const char *const counter_names[XPRO_C__MAX] = {
	[XPRO_C_RX] = "rx",
	[XPRO_C_NOT_TUNNEL] = "not_tunnel",
	[XPRO_C_PASS_REDIRECT] = "pass_redirect",
	[XPRO_C_PASS_TX] = "pass_tx",
	[XPRO_C_PASS_KERNEL] = "pass_kernel",
	[XPRO_C_PASS_NOFILTER] = "pass_nofilter",
	[XPRO_C_DROP_TF1] = "drop_tf1",
	[XPRO_C_DROP_TF2] = "drop_tf2",
	[XPRO_C_DROP_TF2_FAIR] = "drop_tf2_fair",
	[XPRO_C_DROP_TRUNCATED] = "drop_truncated",
	[XPRO_C_DROP_BAD_VERSION] = "drop_bad_version",
	[XPRO_C_DROP_BAD_LEN] = "drop_bad_len",
	[XPRO_C_DROP_INNER_BOUNDS] = "drop_inner_bounds",
	[XPRO_C_DROP_OUTER_FRAG] = "drop_outer_frag",
	[XPRO_C_DROP_INNER_FRAG] = "drop_inner_frag",
	[XPRO_C_DROP_NOT_IPV4] = "drop_not_ipv4",
	[XPRO_C_DROP_IPV6] = "drop_ipv6",
	[XPRO_C_DROP_FIB] = "drop_fib",
	[XPRO_C_DROP_SPOOFED] = "drop_spoofed",
	[XPRO_C_DROP_NESTED] = "drop_nested",
	[XPRO_C_DROP_TO_PROXY] = "drop_to_proxy",
	[XPRO_C_DROP_TO_MGMT] = "drop_to_mgmt",
	[XPRO_C_DROP_HAIRPIN] = "drop_hairpin",
	[XPRO_C_DROP_ENCAP] = "drop_encap",
	[XPRO_C_DROP_BAD_MAC] = "drop_bad_mac",
	[XPRO_C_DROP_REPLAY] = "drop_replay",
	[XPRO_C_DROP_NO_KEY] = "drop_no_key",
	[XPRO_C_DROP_V1] = "drop_v1",
	[XPRO_C_DROP_EXTHDR] = "drop_exthdr",
	[XPRO_C_DROP_NO_CONFIG] = "drop_no_config",
	[XPRO_C_RECORD_FULL] = "record_full",
	[XPRO_C_RECORD_NEW] = "records_created",
	[XPRO_C_AGG_NEW] = "dests_created",
	[XPRO_C_WARN_SENT] = "warnings_sent",
	[XPRO_C_WARN_LOST] = "warnings_lost",
	[XPRO_C_V1_ACCEPTED] = "v1_accepted",
};

const char *xpro_counter_name(unsigned int i)
{
	return i < XPRO_C__MAX && counter_names[i] ? counter_names[i] : "?";
}

int xpro_read_counters(int fd, uint64_t out[XPRO_C__MAX])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;
	__u32 i;
	int c;

	if (ncpu <= 0)
		return -EINVAL;
	vals = calloc((size_t)ncpu, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (i = 0; i < XPRO_C__MAX; i++) {
		out[i] = 0;
		if (bpf_map_lookup_elem(fd, &i, vals)) {
			free(vals);
			return -errno;
		}
		for (c = 0; c < ncpu; c++)
			out[i] += vals[c];
	}
	out[XPRO_C_RX] = 0;
	for (i = XPRO_C__OUTCOME_FIRST; i <= XPRO_C__OUTCOME_LAST; i++)
		out[XPRO_C_RX] += out[i];
	free(vals);
	return 0;
}

static int cmp_count(const void *a, const void *b)
{
	const struct xpro_talker *x = a, *y = b;

	return x->rec.c_l < y->rec.c_l ? 1 : x->rec.c_l > y->rec.c_l ? -1 : 0;
}

int xpro_collect(struct xpro_proxy *px, struct xpro_snapshot *s, unsigned int ntop)
{
	struct xpro_key key, next, *prev = NULL;
	struct xpro_record rec;
	struct xpro_addr dk, dnext, *dprev = NULL;
	__u32 left;
	int err;

	memset(s, 0, sizeof(*s));
	err = xpro_read_counters(px->fd[M_COUNTERS], s->counters);
	if (err)
		return err;
	err = xpro_read_params(px, &s->params);
	if (err)
		return err;
	if (ntop > XPRO_TOP_MAX)
		ntop = XPRO_TOP_MAX;
	left = xpro_map_bound(px->fd[M_RECORDS]); /* bounded under churn */
	while (left-- && !bpf_map_get_next_key(px->fd[M_RECORDS], prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(px->fd[M_RECORDS], &key, &rec))
			continue; /* evicted meanwhile */
		s->records++;
		if (!ntop)
			continue;
		if (s->ntop < ntop) {
			s->top[s->ntop].key = key;
			s->top[s->ntop].rec = rec;
			s->ntop++;
			qsort(s->top, s->ntop, sizeof(s->top[0]), cmp_count);
		} else if (rec.c_l > s->top[s->ntop - 1].rec.c_l) {
			s->top[s->ntop - 1].key = key;
			s->top[s->ntop - 1].rec = rec;
			qsort(s->top, s->ntop, sizeof(s->top[0]), cmp_count);
		}
	}
	left = xpro_map_bound(px->fd[M_AGGS]);
	while (left-- && !bpf_map_get_next_key(px->fd[M_AGGS], dprev, &dnext)) {
		dk = dnext;
		dprev = &dk;
		s->dests++;
	}
	/* evictions: created, less what is still there, less operator removals */
	s->evicted_est = s->counters[XPRO_C_RECORD_NEW] > s->records ?
		s->counters[XPRO_C_RECORD_NEW] - s->records : 0;
	return 0;
}

static double talker_rate(const struct xpro_record *r)
{
	int64_t w = (int64_t)(r->ts2_l - r->ts1_l);

	return w > 0 ? (double)r->c_l * 1e9 / (double)w : 0.0;
}

void xpro_print_text(const struct xpro_proxy *px, const struct xpro_snapshot *s, FILE *f)
{
	char a[XPRO_ADDR_STRLEN], b[XPRO_ADDR_STRLEN];
	unsigned int i;

	fprintf(f, "%s (netns %s): %" PRIu64 " records, %" PRIu64 " destinations, ~%" PRIu64 " records evicted or removed\n",
		px->ifname, px->nsname, s->records, s->dests, s->evicted_est);
	for (i = 0; i < XPRO_C__MAX; i++)
		if (s->counters[i] || i == XPRO_C_RX)
			fprintf(f, "  %-20s %" PRIu64 "\n", xpro_counter_name(i), s->counters[i]);
	if (s->ntop) {
		fprintf(f, "  top talkers:\n  %-16s %-16s %12s %10s %10s\n", "client", "dest", "count", "pps", "window_ms");
		for (i = 0; i < s->ntop; i++) {
			const struct xpro_talker *t = &s->top[i];

			xpro_addr_str(a, &t->key.client);
			xpro_addr_str(b, &t->key.dest);
			fprintf(f, "  %-16s %-16s %12" PRIu64 " %10.1f %10.1f\n", a, b, (uint64_t)t->rec.c_l,
				talker_rate(&t->rec), (double)(int64_t)(t->rec.ts2_l - t->rec.ts1_l) / 1e6);
		}
	}
}

int xpro_sync_state(const struct xpro_proxy *px, const char *daemon, char *buf, size_t len,
		    double *lag_ms)
{
	char path[700];
	const char *p;
	size_t n;
	FILE *f;
	uint64_t last;

	snprintf(path, sizeof(path), "%s/%s.json", px->state_dir, daemon);
	f = fopen(path, "r");
	if (!f)
		return -ENOENT;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	if (n < 2 || buf[0] != '{' || buf[n - 1] != '}')
		return -EINVAL;
	p = strstr(buf, "\"last_ok_ns\":");
	last = p ? strtoull(p + 13, NULL, 10) : 0;
	*lag_ms = last ? (double)(int64_t)(xpro_now_tai() - last) / 1e6 : -1;
	return 0;
}

void xpro_print_json(const struct xpro_proxy *px, const struct xpro_snapshot *s, FILE *f)
{
	static const char *const daemons[] = { "syncmaps", "syncdb" };
	char st[8192];
	double lag;
	char a[XPRO_ADDR_STRLEN], b[XPRO_ADDR_STRLEN], qi[104], qn[800];
	unsigned int i;

	fprintf(f, "{\"interface\":%s,\"netns\":%s,\"ts_ns\":%" PRIu64 ",\"policy\":\"%s\",\"filter\":%s,",
		xp_json_q(qi, sizeof(qi), px->ifname), xp_json_q(qn, sizeof(qn), px->nsname), xpro_now_tai(),
		xpro_policy_name(s->params.policy), s->params.filter ? "true" : "false");
	fprintf(f, "\"records\":%" PRIu64 ",\"dests\":%" PRIu64 ",\"records_evicted_est\":%" PRIu64 ",\"counters\":{",
		s->records, s->dests, s->evicted_est);
	for (i = 0; i < XPRO_C__MAX; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "", xpro_counter_name(i), s->counters[i]);
	fprintf(f, "},\"top\":[");
	for (i = 0; i < s->ntop; i++) {
		const struct xpro_talker *t = &s->top[i];

		xpro_addr_str(a, &t->key.client);
		xpro_addr_str(b, &t->key.dest);
		fprintf(f, "%s{\"client\":\"%s\",\"dest\":\"%s\",\"count\":%" PRIu64 ",\"dc\":%" PRIu64
			",\"window_ns\":%" PRId64 ",\"pps\":%.1f,\"mark\":%u}",
			i ? "," : "", a, b, (uint64_t)t->rec.c_l, (uint64_t)t->rec.dc,
			(int64_t)(t->rec.ts2_l - t->rec.ts1_l), talker_rate(&t->rec), t->rec.mark);
	}
	/* the sync daemons' own state, and the lag since each one's last
	 * complete period (-1: never completed one) */
	fprintf(f, "],\"sync\":{");
	for (i = 0; i < 2; i++) {
		if (xpro_sync_state(px, daemons[i], st, sizeof(st), &lag))
			fprintf(f, "%s\"%s\":null", i ? "," : "", daemons[i]);
		else
			fprintf(f, "%s\"%s\":%s,\"%s_lag_ms\":%.1f", i ? "," : "", daemons[i], st, daemons[i], lag);
	}
	fprintf(f, "}}\n");
}
