// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the sync's storage formats (xpro/formats.h), every
 * parser of a value or line read from Redis. The first byte picks the
 * parser, the rest is the value (an exact-size heap copy: a read past it
 * is an ASan report). Invariants: what parses obeys the documented rules
 * (ts1 <= ts2, mark <= 1, numbers <= 2^53 - 1) and formats back to a
 * value that parses to the same thing; the escape writes printable ASCII
 * only, within its documented size; the semantic checks accept only
 * windows inside their limits.
 */
#include <arpa/inet.h>
#include "formats.h"
#include "fuzz.h"

static void count_cb(const struct xpro_addr *dest, const struct xpro_addr *client, void *arg)
{
	(void)dest;
	(void)client;
	(*(int *)arg)++;
}

static const struct xpro_limits LIM = {
	.now_us = 1000000000000000ULL, .future_us = 6000000, .past_us = 3600000000ULL,
	.slack_us = 70000000, .max_pps = 14880952,
};

static void check_window_result(const struct xpro_limits *lim, uint64_t ts1, uint64_t ts2, uint64_t c)
{
	const char *why = NULL, *f = xpro_check_window(lim, ts1, ts2, c, &why);
	uint64_t max = xpro_count_max(lim, ts1, ts2);

	FZ_CHECK(max <= XPRO_U53_MAX);
	if (!f) {
		FZ_CHECK(ts1 <= ts2 && c <= max);
		FZ_CHECK(ts2 <= lim->now_us + lim->future_us || lim->now_us + lim->future_us < lim->now_us);
	} else {
		FZ_CHECK(!strcmp(f, "ts1") || !strcmp(f, "ts2") || !strcmp(f, "c"));
	}
}

static void one_lstate(const char *v, size_t n)
{
	struct xpro_lstate s, t;
	char buf[XPRO_LSTATE_MAX];
	size_t len;

	if (xpro_lstate_parse(v, n, &s))
		return;
	FZ_CHECK(s.ts1 <= s.ts2 && s.mark <= 1);
	FZ_CHECK(s.gc <= XPRO_U53_MAX && s.dc <= XPRO_U53_MAX && s.mts2 <= XPRO_U53_MAX);
	len = xpro_lstate_format(buf, &s);
	FZ_CHECK(len < sizeof(buf) && strlen(buf) == len);
	FZ_CHECK(!xpro_lstate_parse(buf, len, &t) && !memcmp(&s, &t, sizeof(s)));
	xpro_check_lstate(&LIM, &s, NULL);
	(void)xpro_lstate_lrec(&s);
	(void)xpro_lstate_decays(&s, 10000000);
}

static void one_qline(const char *v, size_t n)
{
	struct xpro_qline q = { .dest = xpro_addr4(0x0100000a) }, r = { .dest = xpro_addr4(0x0100000a) };
	char buf[XPRO_QLINE_MAX + 1], *end;
	struct xpro_lstate s = { 0 };
	int found = 0;

	if (xpro_qline_parse(v, n, &q))
		return;
	FZ_CHECK(q.ts1 <= q.ts2 && q.mark <= 1 && q.c <= XPRO_U53_MAX && q.dc <= XPRO_U53_MAX);
	end = xpro_qline_put(buf, &q);
	FZ_CHECK(end > buf && (size_t)(end - buf) <= XPRO_QLINE_MAX && end[-1] == '\n');
	FZ_CHECK(!xpro_qline_parse(buf, (size_t)(end - buf) - 1, &r));
	FZ_CHECK(xpro_addr_eq(&r.client, &q.client) && r.ts1 == q.ts1 && r.ts2 == q.ts2 && r.c == q.c &&
		 r.dc == q.dc && r.mark == q.mark);
	xpro_check_qline(&LIM, &q, NULL);
	xpro_lstate_apply(&s, &found, &q);
	FZ_CHECK(found == 1);
}

static void one_mval(const char *v, size_t n)
{
	struct xpro_mrec m, k;
	char buf[XPRO_MVAL_MAX];
	size_t len;

	if (xpro_mval_parse(v, n, &m))
		return;
	FZ_CHECK(m.ts1 <= XPRO_U53_MAX && m.ts2 <= XPRO_U53_MAX && m.c <= XPRO_U53_MAX);
	len = xpro_mval_format(buf, &m);
	FZ_CHECK(len < sizeof(buf));
	FZ_CHECK(!xpro_mval_parse(buf, len, &k) && !memcmp(&m, &k, sizeof(m)));
	check_window_result(&LIM, m.ts1, m.ts2, m.c);
}

static void one_clock(const char *v, size_t n)
{
	struct xpro_clock_val c, d;
	char buf[XPRO_CLOCK_VAL_MAX];
	size_t len;
	int leap;

	if (xpro_clock_parse(v, n, &c))
		return;
	FZ_CHECK(c.off_us <= XPRO_CLOCK_MAX_US && c.off_us >= -XPRO_CLOCK_MAX_US);
	FZ_CHECK(c.tai_real_us <= XPRO_CLOCK_MAX_US && c.tai_real_us >= -XPRO_CLOCK_MAX_US);
	len = xpro_clock_format(buf, &c);
	FZ_CHECK(len < sizeof(buf));
	FZ_CHECK(!xpro_clock_parse(buf, len, &d) && !memcmp(&c, &d, sizeof(c)));
	(void)xpro_clock_offset(&c, &d, &leap);
}

static void one_escape(const char *v, size_t n)
{
	size_t cap = 6 * XPRO_MSG_MAX + 16, i, len;
	char *out = malloc(cap);

	if (!out)
		abort();
	xpro_msg_escape(out, v, n);
	len = strlen(out);
	FZ_CHECK(len < cap);
	for (i = 0; i < len; i++)
		FZ_CHECK(out[i] >= 0x20 && out[i] < 0x7f);
	free(out);
}

FZ_INIT_QUIET

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t x[4], w;
	struct xpro_addr a, b;
	int cnt = 0, r;
	char *v, *s;
	size_t n;

	if (size < 1)
		return 0;
	n = size - 1;
	v = fz_dup(data + 1, n);
	switch (data[0] % 11) {
	case 0:
		one_lstate(v, n);
		break;
	case 1:
		one_qline(v, n);
		break;
	case 2:
		one_mval(v, n);
		break;
	case 3:
		one_clock(v, n);
		break;
	case 4:
		if (!xpro_w_parse(v, n, &w))
			FZ_CHECK(w <= XPRO_U53_MAX);
		break;
	case 5:
		r = xpro_upd_parse(v, n, count_cb, &cnt);
		FZ_CHECK(r == -1 || r == cnt);
		break;
	case 6:
		r = xpro_feed_parse(v, n, "px1", count_cb, &cnt);
		FZ_CHECK(r == -1 || r == cnt);
		break;
	case 7:
		s = fz_str(data + 1, n);
		if (!xpro_parse_key(s, 'x', &a, &b)) {
			char buf[2 * XPRO_ADDR_STRLEN + 8], da[XPRO_ADDR_STRLEN], ca[XPRO_ADDR_STRLEN];

			struct xpro_addr a2, b2;

			/* one address, one name: the name is the one it was parsed from */
			snprintf(buf, sizeof(buf), "x:{%s}:%s", xpro_addr_str(da, &b), xpro_addr_str(ca, &a));
			FZ_CHECK(!strcmp(buf, s));
			FZ_CHECK(!xpro_parse_key(buf, 'x', &a2, &b2) && xpro_addr_eq(&a2, &a) && xpro_addr_eq(&b2, &b));
		}
		xpro_hash_dest(s, &b);
		free(s);
		break;
	case 8:
		one_escape(v, n);
		break;
	case 9:
		if (!xpro_parse_u53s(v, n, x, 4))
			FZ_CHECK(x[0] <= XPRO_U53_MAX && x[3] <= XPRO_U53_MAX);
		if (!xpro_addr_parse(v, n, &a)) {
			char da[XPRO_ADDR_STRLEN];

			/* canonical: formats back to the very bytes parsed */
			FZ_CHECK(strlen(xpro_addr_str(da, &a)) == n && !memcmp(da, v, n));
			FZ_CHECK(!xpro_addr_parse(da, strlen(da), &b) && xpro_addr_eq(&a, &b));
		}
		break;
	case 10:
		/* the count bound and the window check under any limits */
		if (n >= 8 * 8) {
			struct xpro_limits l;
			uint64_t t[3];

			/* within the ranges xpro/config.c allows: max_client_pps
			 * <= 10^12, TT1 + TT4 <= 2 days, max_window_ms <= 30
			 * days, skew + period <= 1 h + 1 min; a clock < 2^62 */
			memcpy(&l, v, 5 * 8);
			memcpy(t, v + 5 * 8, 3 * 8);
			l.now_us %= 1ULL << 62;
			l.future_us %= 3660000000ULL + 1;
			l.past_us %= 30ULL * 86400000000ULL + 1;
			l.slack_us %= 2ULL * 86400000000ULL + 1;
			l.max_pps = 1 + l.max_pps % 1000000000000ULL;
			check_window_result(&l, t[0], t[1], t[2]);
		}
		break;
	}
	free(v);
	return 0;
}
