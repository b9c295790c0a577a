// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The storage formats of the sync: see formats.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "formats.h"
#include "json.h"
#include "keys.h"

/* ---- numbers and addresses --------------------------------------------- */

int xpro_parse_u53s(const char *v, size_t len, uint64_t *x, int n)
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
		if (!digits || x[k] > XPRO_U53_MAX)
			return -1;
		if (k < n - 1) {
			if (i >= len || v[i] != ' ')
				return -1;
			i++;
		}
	}
	return i == len ? 0 : -1;
}

char *xpro_put_u64(char *p, uint64_t x)
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

/* ---- names ---------------------------------------------------------------- */

int xpro_parse_key(const char *key, char prefix, struct xpro_addr *client, struct xpro_addr *dest)
{
	const char *close;
	struct xpro_addr c, d;

	if (key[0] != prefix || key[1] != ':' || key[2] != '{')
		return -EINVAL;
	close = strchr(key + 3, '}');
	if (!close || close[1] != ':')
		return -EINVAL;
	if (xpro_addr_parse(key + 3, (size_t)(close - (key + 3)), &d) || xpro_addr_parse_str(close + 2, &c))
		return -EINVAL;
	*client = c;
	*dest = d;
	return 0;
}

int xpro_hash_dest(const char *k, struct xpro_addr *dest)
{
	size_t n = strlen(k);

	if (n < 5 || k[1] != ':' || k[2] != '{' || k[n - 1] != '}')
		return -1;
	return xpro_addr_parse(k + 3, n - 4, dest);
}

/* ---- L_DB value ------------------------------------------------------------ */

int xpro_lstate_parse(const char *v, size_t len, struct xpro_lstate *s)
{
	uint64_t x[7];

	if (xpro_parse_u53s(v, len, x, 7) || x[0] > x[1] || x[4] > 1)
		return -1;
	*s = (struct xpro_lstate){ x[0], x[1], x[2], x[3], x[4], x[5], x[6] };
	return 0;
}

size_t xpro_lstate_format(char *buf, const struct xpro_lstate *s)
{
	const uint64_t x[7] = { s->ts1, s->ts2, s->gc, s->dc, s->mark, s->mts1, s->mts2 };
	char *p = buf;
	int k;

	for (k = 0; k < 7; k++) {
		if (k)
			*p++ = ' ';
		p = xpro_put_u64(p, x[k]);
	}
	*p = '\0';
	return (size_t)(p - buf);
}

/* ---- queue line ------------------------------------------------------------- */

int xpro_qline_parse(const char *v, size_t len, struct xpro_qline *q)
{
	const char *sp = memchr(v, ' ', len);
	uint64_t x[5];
	size_t n;

	if (!sp)
		return -1;
	n = (size_t)(sp - v);
	if (xpro_addr_parse(v, n, &q->client))
		return -1;
	if (xpro_parse_u53s(sp + 1, len - n - 1, x, 5) || x[0] > x[1] || x[4] > 1)
		return -1;
	q->ts1 = x[0];
	q->ts2 = x[1];
	q->c = x[2];
	q->dc = x[3];
	q->mark = (uint32_t)x[4];
	return 0;
}

char *xpro_qline_put(char *p, const struct xpro_qline *q)
{
	char cs[XPRO_ADDR_STRLEN];
	const uint64_t v[4] = { q->ts1, q->ts2, q->c, q->dc };
	int k;

	p += strlen(strcpy(p, xpro_addr_str(cs, &q->client)));
	for (k = 0; k < 4; k++) {
		*p++ = ' ';
		p = xpro_put_u64(p, v[k]);
	}
	*p++ = ' ';
	*p++ = q->mark ? '1' : '0';
	*p++ = '\n';
	return p;
}

struct xpro_qline xpro_qline_from_record(const struct xpro_key *k, const struct xpro_record *r)
{
	return (struct xpro_qline){ .dest = k->dest, .client = k->client, .ts1 = r->ts1_l / XPRO_NS_PER_US,
				    .ts2 = r->ts2_l / XPRO_NS_PER_US, .c = r->c_l, .dc = r->dc,
				    .mark = r->mark ? 1 : 0 };
}

void xpro_lstate_apply(struct xpro_lstate *s, int *found, const struct xpro_qline *q)
{
	if (q->mark || !*found) {
		*s = (struct xpro_lstate){ q->ts1, q->ts2, q->c > q->dc ? q->c - q->dc : 0, q->dc, q->mark, 0, 0 };
		*found = 1;
	} else {
		s->dc += q->dc;
		if (q->ts2 > s->ts2)
			s->ts2 = q->ts2;
	}
}

/* ---- L_DB value <-> the merge --------------------------------------------- */

struct xpro_lrec xpro_lstate_lrec(const struct xpro_lstate *s)
{
	return (struct xpro_lrec){ .ts1 = s->ts1, .ts2 = s->ts2, .c = s->gc + s->dc, .dc = s->dc,
				   .mark = (uint32_t)s->mark, .mts1 = s->mts1 };
}

struct xpro_lstate xpro_lstate_merged(int branch, const struct xpro_lrec *l, const struct xpro_mrec *m)
{
	if (branch == XPRO_MERGE_PULL)
		return (struct xpro_lstate){ l->ts1, l->ts2, l->c, 0, 0, l->ts1, l->ts2 };
	return (struct xpro_lstate){ l->ts1, l->ts2, l->c, 0, 0, m->ts1, m->ts2 };
}

int xpro_lstate_decays(const struct xpro_lstate *s, uint64_t tt4_us)
{
	return (int64_t)(s->ts2 - s->mts1) > (int64_t)tt4_us;
}

/* ---- L_DB value -> the BPF map ---------------------------------------------- */

int xpro_lstate_to_apply(const struct xpro_lstate *s, const struct xpro_addr *client,
			 const struct xpro_addr *dest, uint64_t tt1_ns, uint64_t now_ns, struct xpro_sync_apply *a)
{
	if (s->ts2 > (now_ns / XPRO_NS_PER_US) + 3600ULL * 1000000ULL)
		return -1;
	*a = (struct xpro_sync_apply){ 0 };
	a->key.client = *client;
	a->key.dest = *dest;
	a->ts1 = s->ts1 * XPRO_NS_PER_US;
	a->ts2 = s->ts2 * XPRO_NS_PER_US;
	a->base = s->gc + s->dc;
	a->ts1_m = s->mts1 * XPRO_NS_PER_US;
	a->ts2_m = s->mts2 * XPRO_NS_PER_US;
	a->idle_ns = tt1_ns - tt1_ns / 8;
	return 0;
}

struct xpro_record xpro_record_from_apply(const struct xpro_sync_apply *a)
{
	return (struct xpro_record){ .ts1_l = a->ts1, .ts2_l = a->ts2, .c_l = a->base, .c_m = a->base,
				     .ts1_m = a->ts1_m, .ts2_m = a->ts2_m };
}

/* ---- M_DB value -------------------------------------------------------------- */

int xpro_mval_parse(const char *v, size_t len, struct xpro_mrec *m)
{
	uint64_t x[3];

	if (xpro_parse_u53s(v, len, x, 3))
		return -1;
	m->ts1 = x[0];
	m->ts2 = x[1];
	m->c = x[2];
	return 0;
}

size_t xpro_mval_format(char *buf, const struct xpro_mrec *m)
{
	char *p = buf;

	p = xpro_put_u64(p, m->ts1);
	*p++ = ' ';
	p = xpro_put_u64(p, m->ts2);
	*p++ = ' ';
	p = xpro_put_u64(p, m->c);
	*p = '\0';
	return (size_t)(p - buf);
}

/* ---- l:u entries ---------------------------------------------------------- */

size_t xpro_upd_format(char *buf, const struct xpro_addr *dest, const struct xpro_addr *clients, size_t n)
{
	char *p = buf;
	size_t i;

	p += strlen(xpro_addr_str(p, dest));
	for (i = 0; i < n; i++) {
		*p++ = ' ';
		p += strlen(xpro_addr_str(p, &clients[i]));
	}
	return (size_t)(p - buf);
}

int xpro_upd_parse(const char *v, size_t len, xpro_pair_cb *cb, void *arg)
{
	struct xpro_addr dest = { 0 }, client;
	const char *p, *end, *sp;
	int first = 1, n = 0;

	for (p = v, end = v + len; p < end; p = sp + 1) {
		sp = memchr(p, ' ', (size_t)(end - p));
		if (!sp)
			sp = end;
		if (xpro_addr_parse(p, (size_t)(sp - p), first ? &dest : &client))
			return -1;
		if (!first) {
			cb(&dest, &client, arg);
			n++;
		}
		first = 0;
	}
	return first ? -1 : n;
}

/* ---- the change feed -------------------------------------------------------- */

size_t xpro_feed_start(char *buf, size_t len, const char *id)
{
	int n = snprintf(buf, len, "%s", id);

	return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}

size_t xpro_feed_add(char *buf, size_t len, size_t at, const char *hash, const char *field)
{
	size_t h = strlen(hash), f = strlen(field);

	if (at + h + f + 3 > len)
		return at;
	buf[at++] = '\n';
	memcpy(buf + at, hash, h);
	at += h;
	buf[at++] = ':';
	memcpy(buf + at, field, f + 1);
	return at + f;
}

int xpro_feed_parse(const char *msg, size_t len, const char *self, xpro_pair_cb *cb, void *arg)
{
	const char *p = msg, *end = msg + len, *nl;
	char key[XK_NAME_MAX];
	struct xpro_addr cl, de;
	size_t n;
	int named = 0;

	nl = memchr(p, '\n', len);
	if (!nl)
		return -1;
	if ((size_t)(nl - p) == strlen(self) && !memcmp(p, self, (size_t)(nl - p)))
		return -1; /* our own merges */
	for (p = nl + 1; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		n = (size_t)(nl - p);
		if (n < sizeof(key) && !memchr(p, '\0', n)) {
			memcpy(key, p, n);
			key[n] = '\0';
			if (!xpro_parse_key(key, XK_MREC_PREFIX, &cl, &de)) {
				cb(&de, &cl, arg);
				named++;
			}
		}
	}
	return named;
}

/* ---- W ---------------------------------------------------------------------- */

int xpro_w_parse(const char *v, size_t len, uint64_t *w)
{
	uint64_t x;

	if (xpro_parse_u53s(v, len, &x, 1))
		return -1;
	*w = x;
	return 0;
}

int xpro_alert_format(char *buf, size_t len, const char *id, uint64_t w, uint64_t t_w, uint64_t ts_ns)
{
	char q[400];

	return snprintf(buf, len,
			"{\"type\":\"overload\",\"proxy\":%s,\"w\":%" PRIu64 ",\"t_w\":%" PRIu64
			",\"ts_ns\":%" PRIu64 "}",
			xp_json_q(q, sizeof(q), id), w, t_w, ts_ns);
}

/* ---- the clock ------------------------------------------------------------------- */

static int parse_s64(const char *v, size_t len, int64_t *x)
{
	uint64_t u;
	int neg = len && v[0] == '-';

	if (xpro_parse_u53s(v + neg, len - (size_t)neg, &u, 1) || u > (uint64_t)XPRO_CLOCK_MAX_US)
		return -1;
	*x = neg ? -(int64_t)u : (int64_t)u;
	return 0;
}

int xpro_clock_parse(const char *v, size_t len, struct xpro_clock_val *c)
{
	const char *sp = memchr(v, ' ', len);
	struct xpro_clock_val t;

	if (!sp || parse_s64(v, (size_t)(sp - v), &t.off_us) ||
	    parse_s64(sp + 1, len - (size_t)(sp - v) - 1, &t.tai_real_us))
		return -1;
	*c = t;
	return 0;
}

size_t xpro_clock_format(char *buf, const struct xpro_clock_val *c)
{
	int n = snprintf(buf, XPRO_CLOCK_VAL_MAX, "%" PRId64 " %" PRId64, c->off_us, c->tai_real_us);

	return n < 0 ? 0 : (size_t)n;
}

int64_t xpro_clock_offset(const struct xpro_clock_val *me, const struct xpro_clock_val *peer, int *leap)
{
	int64_t dtr = peer->tai_real_us - me->tai_real_us;

	if (dtr < 0)
		dtr = -dtr;
	if (leap)
		*leap = dtr > 36000000 && dtr < 38000000;
	return peer->off_us - me->off_us;
}

/* ---- semantic checks ---------------------------------------------------------- */

uint64_t xpro_count_max(const struct xpro_limits *lim, uint64_t ts1, uint64_t ts2)
{
	uint64_t len = (ts2 > ts1 ? ts2 - ts1 : 0), q, r;

	if (len > XPRO_U53_MAX - lim->slack_us)
		return XPRO_U53_MAX;
	len += lim->slack_us;
	/* max_pps * len / 10^6 without overflow */
	q = len / 1000000ULL;
	r = len % 1000000ULL;
	if (lim->max_pps && q >= (XPRO_U53_MAX - 1) / lim->max_pps)
		return XPRO_U53_MAX;
	return lim->max_pps * q + lim->max_pps * r / 1000000ULL + 1;
}

static int in_time(const struct xpro_limits *lim, uint64_t t, const char **why)
{
	if (t > lim->now_us + lim->future_us) {
		*why = "in the future beyond the clock bound";
		return 0;
	}
	if (t + lim->past_us < lim->now_us) {
		*why = "older than max_window_ms";
		return 0;
	}
	return 1;
}

const char *xpro_check_window(const struct xpro_limits *lim, uint64_t ts1, uint64_t ts2, uint64_t c,
			      const char **why)
{
	const char *w = NULL;

	if (!why)
		why = &w;
	*why = NULL;
	if (ts1 > ts2) {
		*why = "after ts2";
		return "ts1";
	}
	if (!in_time(lim, ts2, why))
		return "ts2";
	if (!in_time(lim, ts1, why))
		return "ts1";
	if (c > xpro_count_max(lim, ts1, ts2)) {
		*why = "more than the window can hold at max_client_pps";
		return "c";
	}
	return NULL;
}

const char *xpro_check_lstate(const struct xpro_limits *lim, const struct xpro_lstate *s, const char **why)
{
	const char *f, *w = NULL;

	if (!why)
		why = &w;
	if (s->gc > XPRO_U53_MAX - s->dc) {
		*why = "gc + dc past 2^53";
		return "dc";
	}
	f = xpro_check_window(lim, s->ts1, s->ts2, s->gc + s->dc, why);
	if (f)
		return !strcmp(f, "c") ? "gc" : f;
	if (s->mts1 && !in_time(lim, s->mts1, why))
		return "mts1";
	if (s->mts2 && !in_time(lim, s->mts2, why))
		return "mts2";
	return NULL;
}

const char *xpro_check_qline(const struct xpro_limits *lim, const struct xpro_qline *q, const char **why)
{
	const char *w = NULL;

	if (!why)
		why = &w;
	if (q->dc > q->c) {
		*why = "above c'";
		return "dc";
	}
	return xpro_check_window(lim, q->ts1, q->ts2, q->c, why);
}

const char *xpro_check_mval(const struct xpro_limits *lim, const struct xpro_mrec *m, const char **why)
{
	return xpro_check_window(lim, m->ts1, m->ts2, m->c, why);
}

int xpro_w_check(uint64_t w)
{
	return w <= XPRO_W_MAX ? 0 : -1;
}

int xpro_msg_escape(char *out, const char *msg, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	int changed = 0, cut = 0;
	size_t i;
	char *p = out;

	if (len > XPRO_MSG_MAX) {
		len = XPRO_MSG_MAX;
		changed = cut = 1;
	}
	for (i = 0; i < len; i++) {
		unsigned char b = (unsigned char)msg[i];

		if (b >= 0x20 && b < 0x7f) {
			*p++ = (char)b;
			continue;
		}
		/* inside a JSON string, \u00HH is the same character */
		changed = 1;
		memcpy(p, "\\u00", 4);
		p += 4;
		*p++ = hex[b >> 4];
		*p++ = hex[b & 15];
	}
	if (cut)
		p += strlen(strcpy(p, "...(cut)"));
	*p = '\0';
	return changed;
}
