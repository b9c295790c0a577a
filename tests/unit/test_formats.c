// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The storage formats of the sync (xpro/formats.h, xpro/keys.h): every
 * value and line round-trips, every malformed form is refused, and every
 * conversion between the BPF map (ns), Redis (us) and the merge gives the
 * values worked by hand below.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include "tap.h"
#include "formats.h"
#include "keys.h"

/* An address worked by hand, through inet_pton (not the code under test):
 * dotted IPv4 v4-mapped, else IPv6. */
static struct xpro_addr A(const char *s)
{
	struct xpro_addr a = { { 0 } };
	uint32_t v4;

	if (inet_pton(AF_INET, s, &v4) == 1)
		xpro_addr_set4(&a, v4);
	else
		inet_pton(AF_INET6, s, a.w);
	return a;
}

static int eq(struct xpro_addr x, const char *s)
{
	struct xpro_addr y = A(s);

	return xpro_addr_eq(&x, &y);
}

static int same(struct xpro_addr x, struct xpro_addr y)
{
	return xpro_addr_eq(&x, &y);
}

#define LEN(s) (sizeof(s) - 1)

struct got {
	int n;
	struct xpro_addr dest[8], client[8];
};

static void collect(const struct xpro_addr *dest, const struct xpro_addr *client, void *arg)
{
	struct got *g = arg;

	if (g->n < 8) {
		g->dest[g->n] = *dest;
		g->client[g->n] = *client;
	}
	g->n++;
}

static void numbers(void)
{
	uint64_t x[3];
	char buf[XPRO_ADDR_STRLEN], *e;
	const unsigned char b[4] = { 198, 18, 0, 1 };
	uint32_t a;
	struct xpro_addr ad;

	ok(!xpro_parse_u53s("0", 1, x, 1) && x[0] == 0, "u53: \"0\" is 0");
	ok(!xpro_parse_u53s("9007199254740991", 16, x, 1) && x[0] == 9007199254740991ULL, "u53: 2^53 - 1 is taken");
	ok(xpro_parse_u53s("9007199254740992", 16, x, 1), "u53: 2^53 is refused (overflow)");
	ok(xpro_parse_u53s("12345678901234567", 17, x, 1), "u53: 17 digits are refused");
	ok(!xpro_parse_u53s("1 22 333", 8, x, 3) && x[0] == 1 && x[1] == 22 && x[2] == 333, "u53: three numbers");
	ok(xpro_parse_u53s("", 0, x, 1), "u53: empty is refused");
	ok(xpro_parse_u53s("-1", 2, x, 1), "u53: a sign is refused");
	ok(xpro_parse_u53s("+1", 2, x, 1), "u53: a plus sign is refused");
	ok(xpro_parse_u53s("1e3", 3, x, 1), "u53: an exponent is refused");
	ok(xpro_parse_u53s(" 1", 2, x, 1), "u53: a leading space is refused");
	ok(xpro_parse_u53s("1 ", 2, x, 1), "u53: a trailing space is refused");
	ok(xpro_parse_u53s("1  2", 4, x, 2), "u53: two spaces are refused");
	ok(xpro_parse_u53s("1 2", 3, x, 3), "u53: a number short is refused");
	ok(xpro_parse_u53s("1 2 3", 5, x, 2), "u53: a number more is refused");
	ok(!xpro_parse_u53s("12x", 2, x, 1) && x[0] == 12, "u53: only len bytes are read");

	e = xpro_put_u64(buf, 0);
	*e = '\0';
	ok(!strcmp(buf, "0"), "put_u64: 0");
	e = xpro_put_u64(buf, UINT64_MAX);
	*e = '\0';
	ok(!strcmp(buf, "18446744073709551615"), "put_u64: 2^64 - 1");

	memcpy(&a, b, 4);
	ad = xpro_addr4(a);
	ok(!strcmp(xpro_addr_str(buf, &ad), "198.18.0.1"), "ip4: 198.18.0.1 (network order)");
	ad = xpro_addr4(0);
	ok(!strcmp(xpro_addr_str(buf, &ad), "0.0.0.0"), "ip4: 0.0.0.0");
	ad = xpro_addr4(0xffffffffu);
	ok(!strcmp(xpro_addr_str(buf, &ad), "255.255.255.255"), "ip4: 255.255.255.255");
	ok(!xpro_addr_parse("198.18.0.1", 10, &ad) && xpro_addr_is4(&ad) && !memcmp(&ad.w[3], b, 4),
	   "parse: 198.18.0.1 (v4-mapped)");
	ok(!xpro_addr_parse("198.18.0.12", 10, &ad) && !memcmp(&ad.w[3], b, 4), "parse: only len bytes are read");
	ok(xpro_addr_parse("", 0, &ad), "parse: empty is refused");
	ok(xpro_addr_parse("198.18.0", 8, &ad), "parse: three parts are refused");
	ok(xpro_addr_parse("198.18.0.256", 12, &ad), "parse: 256 is refused");
	ok(xpro_addr_parse("198.18.0.1x", 11, &ad), "parse: trailing garbage is refused");
	ok(xpro_addr_parse("198.018.000.0001", 16, &ad), "parse: leading zeros are refused");
}

static void names(void)
{
	char buf[XK_NAME_MAX];
	struct xpro_addr c, d;

	ok(xk_ldb(buf, sizeof(buf), "198.18.1.101") == 16 && !strcmp(buf, "l:{198.18.1.101}"), "key: l:{D}");
	ok(xk_lqueue(buf, sizeof(buf), "198.18.1.101") == 18 && !strcmp(buf, "l:{198.18.1.101}:q"),
	   "key: l:{D}:q");
	ok(xk_mdb(buf, sizeof(buf), "198.18.1.101") == 16 && !strcmp(buf, "x:{198.18.1.101}"), "key: x:{D}");
	ok(xk_mw(buf, sizeof(buf), "ns1/in0") == 10 && !strcmp(buf, "xw:ns1/in0"), "key: xw:<id>");
	ok(xk_lrec(buf, "198.18.1.101", "198.18.32.5") == 28 && !strcmp(buf, "l:{198.18.1.101}:198.18.32.5"),
	   "key: l:{D}:i");
	ok(!xpro_parse_key(buf, XK_LREC_PREFIX, &c, &d) && eq(c, "198.18.32.5") && eq(d, "198.18.1.101"),
	   "name: l:{D}:i round-trips");
	ok(!xpro_parse_key("x:{198.18.1.1}:198.18.0.2", 'x', &c, &d) && eq(c, "198.18.0.2") &&
	   eq(d, "198.18.1.1"), "name: x:{D}:i");
	ok(xpro_parse_key("x:{198.18.1.1}:198.18.0.2", 'l', &c, &d), "name: another prefix is refused");
	ok(xpro_parse_key("x:198.18.1.1:198.18.0.2", 'x', &c, &d), "name: no braces is refused");
	ok(xpro_parse_key("x:{198.18.1.1}198.18.0.2", 'x', &c, &d), "name: no ':' after '}' is refused");
	ok(xpro_parse_key("x:{}:198.18.0.2", 'x', &c, &d), "name: an empty destination is refused");
	ok(xpro_parse_key("x:{198.18.1}:198.18.0.2", 'x', &c, &d), "name: a destination not an address is refused");
	ok(xpro_parse_key("x:{198.18.1.1}:198.18.0.2 ", 'x', &c, &d), "name: trailing garbage is refused");
	ok(xpro_parse_key("x:{198.18.1.1}:", 'x', &c, &d), "name: an empty client is refused");
	ok(xpro_parse_key("", 'x', &c, &d), "name: empty is refused");

	ok(!xpro_hash_dest("x:{198.18.1.1}", &d) && eq(d, "198.18.1.1"), "hash: x:{D}");
	ok(!xpro_hash_dest("l:{198.18.1.101}", &d) && eq(d, "198.18.1.101"), "hash: l:{D}");
	ok(xpro_hash_dest("l:{198.18.1.101}:q", &d), "hash: a queue is not a hash of records");
	ok(xpro_hash_dest("x:{}", &d), "hash: an empty destination is refused");
	ok(xpro_hash_dest("x:198.18.1.1", &d), "hash: no braces is refused");
	ok(xpro_hash_dest("x:{198.18.1.1.1}", &d), "hash: not an address is refused");
	ok(xpro_hash_dest("", &d), "hash: empty is refused");
}

/* IPv6 names and lines (records format 2): D and i in their one text form,
 * colons inside the braces and after "}:"; any other spelling refused */
static void ipv6(void)
{
	char buf[XK_NAME_MAX], line[2 * XPRO_QLINE_MAX], *e;
	struct xpro_addr c, d;
	struct xpro_qline q = { .dest = A("2001:db8::c612:101"), .seq = 3 }, r;
	const struct xpro_addr cl[2] = { A("2001:db8::c612:2005"), A("198.18.32.6") }, ud = A("2001:db8::c612:101");
	struct got g = { 0 };
	struct xpro_key k = { .client = A("2001:db8::c612:2005"), .dest = A("2001:db8::c612:101") };
	struct xpro_lstate s = { 1000, 2000, 26, 4, 0, 900, 1900 };
	struct xpro_sync_apply a;
	size_t n;
	const char *fd = "px1\nx:{2001:db8::c612:101}:2001:db8::c612:2005\nx:{2001:db8::c612:101}:2001:DB8::c612:2006"
			 "\nx:{2001:db8:0:0:0:0:c612:101}:2001:db8::c612:2007\nx:{::ffff:198.18.1.1}:198.18.0.2";

	ok(xk_lrec(buf, "2001:db8::1", "2001:db8::2") == 27 && !strcmp(buf, "l:{2001:db8::1}:2001:db8::2"),
	   "IPv6 key: l:{D}:i");
	ok(!xpro_parse_key("x:{2001:db8::1}:2001:db8::2", 'x', &c, &d) && eq(c, "2001:db8::2") && eq(d, "2001:db8::1"),
	   "IPv6 name: x:{2001:db8::1}:2001:db8::2 parses (the first '}' closes D)");
	ok(!xpro_parse_key("x:{2001:db8::c612:101}:198.18.32.5", 'x', &c, &d) && eq(c, "198.18.32.5") &&
	   eq(d, "2001:db8::c612:101"), "IPv6 name: an IPv6 destination, an IPv4 client");
	ok(xpro_parse_key("x:{2001:db8::1}:2001:DB8::2", 'x', &c, &d), "IPv6 name: an uppercase client is refused");
	ok(xpro_parse_key("x:{2001:DB8::1}:2001:db8::2", 'x', &c, &d), "IPv6 name: an uppercase destination is refused");
	ok(xpro_parse_key("x:{2001:db8:0:0:0:0:0:1}:2001:db8::2", 'x', &c, &d),
	   "IPv6 name: a destination not shortened is refused");
	ok(xpro_parse_key("x:{2001:db8::1}:2001:0db8::2", 'x', &c, &d), "IPv6 name: a leading zero is refused");
	ok(xpro_parse_key("x:{::ffff:198.18.1.1}:198.18.0.2", 'x', &c, &d),
	   "IPv6 name: a v4-mapped destination written as IPv6 is refused (its name is 198.18.1.1)");
	ok(xpro_parse_key("x:{198.18.1.1}:::ffff:198.18.0.2", 'x', &c, &d), "IPv6 name: a v4-mapped client likewise");
	ok(xpro_parse_key("x:{2001:db8::1}:2001:db8::2%eth0", 'x', &c, &d), "IPv6 name: a zone index is refused");
	ok(xpro_parse_key("x:{2001:db8::1:2001:db8::2", 'x', &c, &d), "IPv6 name: no closing brace is refused");
	ok(!xpro_hash_dest("x:{2001:db8::c612:101}", &d) && eq(d, "2001:db8::c612:101"), "IPv6 hash: x:{D}");
	ok(xpro_hash_dest("l:{2001:db8::c612:101}:q", &d), "IPv6 hash: a queue is not a hash of records");
	ok(xpro_hash_dest("x:{2001:db8::C612:101}", &d), "IPv6 hash: uppercase is refused");

	ok(!xpro_qline_parse("2001:db8::c612:2005 1000 2000 30 4 1", 36, &q) && eq(q.client, "2001:db8::c612:2005") &&
	   q.ts1 == 1000 && q.c == 30 && q.dc == 4 && q.mark == 1 && eq(q.dest, "2001:db8::c612:101") && q.seq == 3,
	   "IPv6 queue line: the fields (dest and seq untouched)");
	e = xpro_qline_put(line, &q);
	ok(e - line == 37 && !memcmp(line, "2001:db8::c612:2005 1000 2000 30 4 1\n", 37), "IPv6 queue line: formatted back");
	ok(xpro_qline_parse("2001:DB8::c612:2005 1000 2000 30 4 1", 36, &r), "IPv6 queue line: uppercase refused");
	ok(xpro_qline_parse("::ffff:198.18.32.5 1000 2000 30 4 1", 35, &r), "IPv6 queue line: v4-mapped as IPv6 refused");
	q = (struct xpro_qline){ .client = A("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), .ts1 = UINT64_MAX,
				 .ts2 = UINT64_MAX, .c = UINT64_MAX, .dc = UINT64_MAX, .mark = 1 };
	e = xpro_qline_put(line, &q);
	ok(e - line == 39 + 4 * 21 + 3 && e - line <= XPRO_QLINE_MAX,
	   "IPv6 queue line: the longest (39 + four 20-digit numbers) fits XPRO_QLINE_MAX");

	n = xpro_upd_format(buf, &ud, cl, 2);
	ok(n == 50 && !strcmp(buf, "2001:db8::c612:101 2001:db8::c612:2005 198.18.32.6"), "IPv6 l:u entry: D then the clients");
	ok(xpro_upd_parse(buf, n, collect, &g) == 2 && same(g.dest[0], ud) && same(g.client[0], cl[0]) &&
	   same(g.client[1], cl[1]), "IPv6 l:u entry: parsed back");
	memset(&g, 0, sizeof(g));
	ok(xpro_feed_parse(fd, strlen(fd), "px2", collect, &g) == 1 && g.n == 1 && eq(g.dest[0], "2001:db8::c612:101") &&
	   eq(g.client[0], "2001:db8::c612:2005"), "IPv6 feed: the canonical name taken, three non-canonical skipped");

	q = xpro_qline_from_record(&k, &(struct xpro_record){ .ts1_l = 1000000, .ts2_l = 2000000, .c_l = 30, .dc = 4 });
	ok(same(q.client, k.client) && same(q.dest, k.dest) && q.ts1 == 1000 && q.c == 30, "IPv6 map -> queue line: the key");
	ok(!xpro_lstate_to_apply(&s, &k.client, &k.dest, 1000000000ULL, 3000000ULL, &a) && same(a.key.client, k.client) &&
	   same(a.key.dest, k.dest) && a.base == 30, "IPv6 L_DB -> write-back: the 16-byte key");
}

/* L_DB value "ts1 ts2 gc dc mark mts1 mts2" */
static void lstate(void)
{
	struct xpro_lstate s, t;
	char buf[XPRO_LSTATE_MAX];
	ok(!xpro_lstate_parse("1000 2000 26 4 1 900 1900", 25, &s) && s.ts1 == 1000 && s.ts2 == 2000 &&
	   s.gc == 26 && s.dc == 4 && s.mark == 1 && s.mts1 == 900 && s.mts2 == 1900,
	   "L_DB value: the seven fields in order");
	ok(xpro_lstate_format(buf, &s) == 25 && !strcmp(buf, "1000 2000 26 4 1 900 1900"), "L_DB value: formatted back");
	s = (struct xpro_lstate){ 9007199254740991ULL, 9007199254740991ULL, 9007199254740991ULL,
				  9007199254740991ULL, 1, 9007199254740991ULL, 9007199254740991ULL };
	ok(xpro_lstate_format(buf, &s) == 6 * 17 + 1 && strlen(buf) < sizeof(buf) &&
	   !xpro_lstate_parse(buf, strlen(buf), &t) && !memcmp(&s, &t, sizeof(s)),
	   "L_DB value: the largest round-trips within XPRO_LSTATE_MAX");
	ok(!xpro_lstate_parse("5 5 0 0 0 0 0", 13, &t) && t.ts1 == 5 && t.ts2 == 5, "L_DB value: ts1 = ts2 is taken");
}

/* queue line "i ts1 ts2 c' dc mark" */
static void qline(void)
{
	struct xpro_qline q = { .dest = A("198.18.1.77"), .seq = 9 }, r;
	char buf[2 * XPRO_QLINE_MAX], *e;
	ok(!xpro_qline_parse("198.18.32.5 1000 2000 30 4 1", 28, &q) && eq(q.client, "198.18.32.5") &&
	   q.ts1 == 1000 && q.ts2 == 2000 && q.c == 30 && q.dc == 4 && q.mark == 1 && eq(q.dest, "198.18.1.77") && q.seq == 9,
	   "queue line: the fields in order (dest and seq untouched)");
	e = xpro_qline_put(buf, &q);
	ok(e - buf == 29 && !memcmp(buf, "198.18.32.5 1000 2000 30 4 1\n", 29), "queue line: formatted back with its newline");
	q = (struct xpro_qline){ .client = A("255.255.255.255"), .ts1 = 9007199254740991ULL,
				 .ts2 = 9007199254740991ULL, .c = 9007199254740991ULL, .dc = 9007199254740991ULL,
				 .mark = 7 };
	e = xpro_qline_put(buf, &q);
	ok(e - buf <= XPRO_QLINE_MAX && e[-2] == '1' && !xpro_qline_parse(buf, (size_t)(e - buf - 1), &r) &&
	   same(r.client, q.client) && r.ts1 == q.ts1 && r.dc == q.dc && r.mark == 1,
	   "queue line: the largest fits XPRO_QLINE_MAX and round-trips; a mark not 0 is written 1");
}

/* Every malformed form of the three stored values: L_DB value (l), queue
 * line (q), M_DB value (m). */
static const struct {
	char kind;
	const char *v, *why;
} malformed[] = {
	{ 'l', "1000 2000 26 4 0 900", "a field short" },
	{ 'l', "1000 2000 26 4 0 900 1900 7", "a field more" },
	{ 'l', "1000 2000 26 x 0 900 1900", "not a number" },
	{ 'l', "2001 2000 26 4 0 900 1900", "ts1 > ts2" },
	{ 'l', "1000 2000 26 4 2 900 1900", "mark 2" },
	{ 'l', "1000 2000 9007199254740992 4 0 900 1900", "past 2^53" },
	{ 'l', "1000 2000 26 4 0 900 1900 ", "a trailing space" },
	{ 'l', "1000 2000 26 4 0 900 1900\n", "a trailing newline" },
	{ 'l', " 1000 2000 26 4 0 900 1900", "a leading space" },
	{ 'l', "1000 2000 26  4 0 900 1900", "two spaces" },
	{ 'l', "1000 2000 -26 4 0 900 1900", "negative" },
	{ 'l', "1000 2000 0x1a 4 0 900 1900", "hexadecimal" },
	{ 'l', "", "empty" },
	{ 'q', "198.18.32.5 1000 2000 30 4", "a field short" },
	{ 'q', "198.18.32.5 1000 2000 30 4 0 1", "a field more" },
	{ 'q', "198.18.32 1000 2000 30 4 0", "not an address (three parts)" },
	{ 'q', "198.18.32.5x 1000 2000 30 4 0", "not an address (trailing garbage)" },
	{ 'q', " 1000 2000 30 4 0", "no address" },
	{ 'q', "198.18.32.5 1000 2000 30 four 0", "not a number" },
	{ 'q', "198.18.32.5 2001 2000 30 4 0", "ts1 > ts2" },
	{ 'q', "198.18.32.5 1000 2000 30 4 2", "mark 2" },
	{ 'q', "198.18.32.5 1000 9007199254740992 30 4 0", "past 2^53" },
	{ 'q', "198.18.32.5  1000 2000 30 4 0", "two spaces" },
	{ 'q', "198.18.32.5 1000 2000 30 4 0 ", "a trailing space" },
	{ 'q', "198.18.32.5", "the address alone" },
	{ 'q', "", "empty" },
	{ 'm', "100 200", "a field short" },
	{ 'm', "100 200 3 4", "a field more" },
	{ 'm', "100 abc 3", "not a number" },
	{ 'm', "100 200 9007199254740992", "past 2^53" },
	{ 'm', "100 200 3 ", "a trailing space" },
	{ 'm', "100 200 3\n", "a trailing newline" },
	{ 'm', "1e300 5 7", "an exponent" },
	{ 'm', "-4 5 7", "negative" },
	{ 'm', "", "empty" },
};

static void refused(void)
{
	static const char *const what[] = { ['l'] = "L_DB value", ['q'] = "queue line", ['m'] = "M_DB value" };
	struct xpro_lstate s;
	struct xpro_qline q;
	struct xpro_mrec m;
	size_t i;

	for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		const char *v = malformed[i].v;
		size_t n = strlen(v);
		int rc = malformed[i].kind == 'l' ? xpro_lstate_parse(v, n, &s)
			 : malformed[i].kind == 'q' ? xpro_qline_parse(v, n, &q)
						     : xpro_mval_parse(v, n, &m);

		ok(rc == -1, "%s refused: %s", what[(int)malformed[i].kind], malformed[i].why);
	}
}

/* the record's way: BPF map (ns) -> queue line -> L_DB -> merge -> L_DB -> map */
static void conversions(void)
{
	struct xpro_key k = { .client = A("198.18.32.5"), .dest = A("198.18.1.101") };
	struct xpro_record rec = { .ts1_l = 1000999, .ts2_l = 2000000, .c_l = 30, .dc = 4, .mark = 5,
				   .ts1_m = 1, .ts2_m = 2, .c_m = 26 };
	struct xpro_qline q = xpro_qline_from_record(&k, &rec);
	struct xpro_lstate s = { 0 };
	struct xpro_lrec l;
	struct xpro_mrec m;
	struct xpro_sync_apply a;
	struct xpro_record back;
	int found = 0;

	ok(same(q.client, k.client) && same(q.dest, k.dest) && q.ts1 == 1000 && q.ts2 == 2000 && q.c == 30 && q.dc == 4 &&
	   q.mark == 1, "map -> queue line: ns to us (truncated), c' and dc as they are, mark 5 becomes 1");

	q.mark = 0;
	xpro_lstate_apply(&s, &found, &q);
	ok(found && s.ts1 == 1000 && s.ts2 == 2000 && s.gc == 26 && s.dc == 4 && s.mark == 0 && s.mts1 == 0 &&
	   s.mts2 == 0, "queue line -> L_DB, record new here: gc = c' - dc = 26, dc 4");
	s.mts1 = 900;
	s.mts2 = 1900;
	q = (struct xpro_qline){ .ts1 = 1500, .ts2 = 2500, .c = 40, .dc = 6 };
	xpro_lstate_apply(&s, &found, &q);
	ok(s.ts1 == 1000 && s.ts2 == 2500 && s.gc == 26 && s.dc == 10 && s.mts1 == 900 && s.mts2 == 1900,
	   "queue line -> L_DB, same window: dc 4 + 6 = 10, ts2 moves to 2500, the rest stays");
	q.ts2 = 1800;
	q.dc = 1;
	xpro_lstate_apply(&s, &found, &q);
	ok(s.ts2 == 2500 && s.dc == 11, "queue line -> L_DB: an older ts2 does not move it back; dc 11");
	q = (struct xpro_qline){ .ts1 = 5000, .ts2 = 5100, .c = 3, .dc = 3, .mark = 1 };
	xpro_lstate_apply(&s, &found, &q);
	ok(s.ts1 == 5000 && s.ts2 == 5100 && s.gc == 0 && s.dc == 3 && s.mark == 1 && s.mts1 == 0,
	   "queue line -> L_DB, window restarted (mark 1): replaced, gc 0, dc 3");
	found = 0;
	q = (struct xpro_qline){ .ts1 = 1, .ts2 = 2, .c = 2, .dc = 5 };
	xpro_lstate_apply(&s, &found, &q);
	ok(s.gc == 0 && s.dc == 5, "queue line -> L_DB: c' below dc gives gc 0, never a wrapped count");

	s = (struct xpro_lstate){ 1000, 2000, 26, 4, 1, 900, 1900 };
	l = xpro_lstate_lrec(&s);
	ok(l.ts1 == 1000 && l.ts2 == 2000 && l.c == 30 && l.dc == 4 && l.mark == 1 && l.mts1 == 900,
	   "L_DB -> merge: c' = gc + dc = 30, mts1 900");

	l = (struct xpro_lrec){ .ts1 = 1000, .ts2 = 2500, .c = 40 };
	m = (struct xpro_mrec){ .ts1 = 900, .ts2 = 2400, .c = 40 };
	s = xpro_lstate_merged(XPRO_MERGE_TELL, &l, &m);
	ok(s.ts1 == 1000 && s.ts2 == 2500 && s.gc == 40 && s.dc == 0 && s.mark == 0 && s.mts1 == 900 && s.mts2 == 2400,
	   "merge -> L_DB: gc = merged c', dc 0, mark 0, the master's window as seen");
	s = xpro_lstate_merged(XPRO_MERGE_PULL, &l, &m);
	ok(s.mts1 == 1000 && s.mts2 == 2500 && s.gc == 40, "merge -> L_DB, pulled: the master's window is its own");

	s = (struct xpro_lstate){ .ts2 = 20000001, .mts1 = 10000000 };
	ok(xpro_lstate_decays(&s, 10000000), "decay: ts2 - mts1 = TT4 + 1 us may decay");
	s.ts2 = 20000000;
	ok(!xpro_lstate_decays(&s, 10000000), "decay: ts2 - mts1 = TT4 may not");
	s.ts2 = 5;
	ok(!xpro_lstate_decays(&s, 10000000), "decay: mts1 after ts2 (skewed clocks) is a negative difference");

	s = (struct xpro_lstate){ 1000, 2000, 26, 4, 0, 900, 1900 };
	ok(!xpro_lstate_to_apply(&s, &k.client, &k.dest, 1000000000ULL, 3000000ULL, &a) && same(a.key.client, k.client) &&
	   same(a.key.dest, k.dest) && a.ts1 == 1000000 && a.ts2 == 2000000 && a.base == 30 && a.ts1_m == 900000 &&
	   a.ts2_m == 1900000 && a.idle_ns == 875000000 && a.ret == 0,
	   "L_DB -> write-back: us to ns, base = gc + dc = 30, idle 7/8 of TT1 = 875 ms");
	s.ts2 = 3000 + 3600000000ULL;
	ok(!xpro_lstate_to_apply(&s, &k.client, &k.dest, 1000000000ULL, 3000000ULL, &a),
	   "L_DB -> write-back: a window ending an hour after now is taken");
	s.ts2++;
	ok(xpro_lstate_to_apply(&s, &k.client, &k.dest, 1000000000ULL, 3000000ULL, &a),
	   "L_DB -> write-back: one us later is absurd, skipped");
	a = (struct xpro_sync_apply){ .ts1 = 10, .ts2 = 20, .base = 30, .ts1_m = 40, .ts2_m = 50 };
	back = xpro_record_from_apply(&a);
	ok(back.ts1_l == 10 && back.ts2_l == 20 && back.c_l == 30 && back.c_m == 30 && back.dc == 0 &&
	   back.ts1_m == 40 && back.ts2_m == 50 && back.mark == 0 && back.warn_ts == 0,
	   "write-back -> a record created in the map: c' = base, no delta");
}

/* M_DB value "ts1 ts2 c" */
static void mval(void)
{
	struct xpro_mrec m;
	char buf[XPRO_MVAL_MAX];
	ok(!xpro_mval_parse("100 200 3", 9, &m) && m.ts1 == 100 && m.ts2 == 200 && m.c == 3, "M_DB value: the fields");
	ok(xpro_mval_format(buf, &m) == 9 && !strcmp(buf, "100 200 3"), "M_DB value: formatted back");
	m = (struct xpro_mrec){ 9007199254740991ULL, 9007199254740991ULL, 9007199254740991ULL };
	ok(xpro_mval_format(buf, &m) == 3 * 16 + 2 && !xpro_mval_parse(buf, strlen(buf), &m) &&
	   m.c == 9007199254740991ULL, "M_DB value: the largest round-trips within XPRO_MVAL_MAX");
	ok(!xpro_mval_parse("300 200 3", 9, &m) && m.ts1 == 300,
	   "M_DB value: ts1 > ts2 is taken, as the master's script takes it");
}

/* l:u entries "D i1 i2 ..." */
static void upd(void)
{
	const struct xpro_addr cl[2] = { A("198.18.32.5"), A("198.18.32.6") }, d = A("198.18.1.101");
	char buf[3 * XPRO_ADDR_STRLEN];
	struct got g = { 0 };
	size_t n;

	n = xpro_upd_format(buf, &d, cl, 2);
	ok(n == 36 && !strcmp(buf, "198.18.1.101 198.18.32.5 198.18.32.6"), "l:u entry: D then the clients");
	ok(xpro_upd_parse(buf, n, collect, &g) == 2 && g.n == 2 && eq(g.dest[0], "198.18.1.101") &&
	   same(g.client[0], cl[0]) && same(g.dest[1], g.dest[0]) && same(g.client[1], cl[1]), "l:u entry: parsed back");
	memset(&g, 0, sizeof(g));
	ok(xpro_upd_parse("198.18.1.101", 12, collect, &g) == 0 && g.n == 0, "l:u entry: D alone names nobody");
	ok(xpro_upd_parse("198.18.1.101 198.18.32.5 bad 198.18.32.6", 40, collect, &g) == -1 && g.n == 1 &&
	   same(g.client[0], cl[0]), "l:u entry: stops at a word not an address (those before stay)");
	memset(&g, 0, sizeof(g));
	ok(xpro_upd_parse("198.18.1 198.18.32.5", 20, collect, &g) == -1 && g.n == 0,
	   "l:u entry: D not an address names nobody");
	ok(xpro_upd_parse("198.18.1.101  198.18.32.5", 25, collect, &g) == -1 && g.n == 0,
	   "l:u entry: two spaces are refused");
	ok(xpro_upd_parse("", 0, collect, &g) == -1 && g.n == 0, "l:u entry: empty is refused");
}

/* the change feed "origin\nx:{D}:i\n..." */
static void feed(void)
{
	char buf[128];
	size_t n;
	struct got g = { 0 };
	const char *mixed = "px1\nnot a key\nx:{198.18.1.1}:198.18.0.1\nl:{198.18.1.1}:198.18.0.2\n\nx:{198.18.1.2}:198.18.0.3";

	n = xpro_feed_start(buf, sizeof(buf), "px1");
	n = xpro_feed_add(buf, sizeof(buf), n, "x:{198.18.1.101}", "198.18.32.5");
	n = xpro_feed_add(buf, sizeof(buf), n, "x:{198.18.1.101}", "198.18.32.6");
	ok(n == 61 && !strcmp(buf, "px1\nx:{198.18.1.101}:198.18.32.5\nx:{198.18.1.101}:198.18.32.6"),
	   "feed: the origin, then one line per record");
	ok(xpro_feed_parse(buf, n, "px2", collect, &g) == 2 && g.n == 2 && eq(g.dest[0], "198.18.1.101") &&
	   eq(g.client[0], "198.18.32.5") && eq(g.client[1], "198.18.32.6"), "feed: parsed back by another proxy");
	memset(&g, 0, sizeof(g));
	ok(xpro_feed_parse(buf, n, "px1", collect, &g) == -1 && g.n == 0, "feed: our own message is skipped");
	ok(xpro_feed_parse(buf, n, "px", collect, &g) == 2, "feed: an origin that only starts like ours is another's");
	memset(&g, 0, sizeof(g));
	ok(xpro_feed_parse("px1", 3, "px2", collect, &g) == -1 && g.n == 0, "feed: no origin line is refused");
	ok(xpro_feed_parse(mixed, strlen(mixed), "px2", collect, &g) == 2 && g.n == 2 && eq(g.client[0], "198.18.0.1") &&
	   eq(g.client[1], "198.18.0.3"), "feed: lines that are not master names are skipped, the others taken");
	n = xpro_feed_start(buf, 24, "px1");
	ok(xpro_feed_add(buf, 24, n, "x:{198.18.1.101}", "198.18.32.5") == 3 && !strcmp(buf, "px1"),
	   "feed: a line without room is not appended");
}

static void workload(void)
{
	char buf[160];
	uint64_t w = 7;

	ok(!xpro_w_parse("12345", 5, &w) && w == 12345, "W: a number");
	ok(xpro_w_parse("12x", 3, &w) && w == 12345, "W: trailing garbage is refused, W left alone");
	ok(xpro_w_parse("", 0, &w) && xpro_w_parse("-1", 2, &w) && xpro_w_parse("9007199254740992", 16, &w) &&
	   w == 12345, "W: empty, negative and past 2^53 are refused");
	ok(xpro_alert_format(buf, sizeof(buf), "px1", 500, 100, 7) == 61 &&
	   !strcmp(buf, "{\"type\":\"overload\",\"proxy\":\"px1\",\"w\":500,\"t_w\":100,\"ts_ns\":7}"),
	   "alert: the overload JSON");
}

/*
 * The semantic checks (docs/sync.md, Validation), worked by hand with:
 * now 10^10 us, 0.2 s ahead allowed, windows of up to 1 h, slack 12 s
 * (TT1 2 s + TT4 10 s), 14,880,952 packets/s. A window [now - 1 s, now]
 * then holds at most 14,880,952 * 13 + 1 = 193,452,377 packets.
 */
static void checks(void)
{
	const uint64_t now = 10000000000ULL;
	struct xpro_limits L = { .now_us = now, .future_us = 200000, .past_us = 3600000000ULL,
				 .slack_us = 12000000, .max_pps = 14880952 };
	struct xpro_limits k = { .now_us = now, .future_us = 0, .past_us = 3600000000ULL, .slack_us = 0, .max_pps = 1000 };
	struct xpro_lstate s;
	struct xpro_qline q = { 0 };
	struct xpro_mrec m;
	const char *why = NULL;

	ok(xpro_count_max(&L, now, now) == 178571425, "count bound: an empty window holds 12 s of max_client_pps + 1");
	ok(xpro_count_max(&L, now - 1000000, now) == 193452377, "count bound: a 1 s window, 13 s");
	ok(xpro_count_max(&k, now - 1500000, now) == 1501, "count bound: 1.5 s at 1000 packets/s, + 1");
	k.max_pps = 1000000000000ULL;
	ok(xpro_count_max(&k, 0, XPRO_U53_MAX) == XPRO_U53_MAX, "count bound: capped at 2^53 - 1, no overflow");
	ok(!xpro_check_window(&L, now - 1000000, now, 193452377, &why) && !why, "window: 1 s with its largest count passes");
	ok(!strcmp(xpro_check_window(&L, now - 1000000, now, 193452378, &why), "c") && why,
	   "window: one packet more is refused (field c)");
	ok(!strcmp(xpro_check_window(&L, now - 1000000, now, XPRO_U53_MAX, NULL), "c"), "window: c = 2^53 - 1 refused");
	ok(!strcmp(xpro_check_window(&L, 0, now, 5, NULL), "ts1"), "window: ts1 = 0 refused (older than max_window_ms)");
	ok(!xpro_check_window(&L, now - 3600000000ULL, now, 5, NULL), "window: ts1 exactly max_window_ms ago passes");
	ok(!strcmp(xpro_check_window(&L, now - 3600000001ULL, now, 5, NULL), "ts1"), "window: 1 us older is refused");
	ok(!xpro_check_window(&L, now, now + 200000, 5, NULL), "window: ts2 at the clock bound passes");
	ok(!strcmp(xpro_check_window(&L, now, now + 200001, 5, NULL), "ts2"), "window: ts2 1 us beyond it is refused");
	ok(!strcmp(xpro_check_window(&L, now, now - 1, 5, NULL), "ts1"), "window: ts1 > ts2 refused (field ts1)");

	s = (struct xpro_lstate){ now - 1000000, now, 100, 5, 0, now - 1000000, now };
	ok(!xpro_check_lstate(&L, &s, NULL), "L_DB: a plausible record passes");
	s.gc = XPRO_U53_MAX;
	s.dc = 1;
	ok(!strcmp(xpro_check_lstate(&L, &s, NULL), "dc"), "L_DB: gc + dc past 2^53 refused (field dc)");
	s.gc = 193452377;
	ok(!strcmp(xpro_check_lstate(&L, &s, NULL), "gc"), "L_DB: gc + dc above the count bound refused (field gc)");
	s = (struct xpro_lstate){ now - 1000000, now, 100, 5, 0, 0, 0 };
	ok(!xpro_check_lstate(&L, &s, NULL), "L_DB: mts1 = mts2 = 0 (never merged) passes");
	s.mts1 = 5;
	ok(!strcmp(xpro_check_lstate(&L, &s, NULL), "mts1"), "L_DB: mts1 = 5 (1970) refused");
	s.mts1 = 0;
	s.mts2 = now + 3600000000ULL;
	ok(!strcmp(xpro_check_lstate(&L, &s, NULL), "mts2"), "L_DB: mts2 an hour ahead refused");

	q = (struct xpro_qline){ .ts1 = now - 1000, .ts2 = now, .c = 10, .dc = 10 };
	ok(!xpro_check_qline(&L, &q, NULL), "queue line: dc = c' passes");
	q.dc = 11;
	ok(!strcmp(xpro_check_qline(&L, &q, NULL), "dc"), "queue line: dc > c' refused");
	q = (struct xpro_qline){ .ts1 = now - 1000, .ts2 = now + 3600000000ULL, .c = 10, .dc = 1 };
	ok(!strcmp(xpro_check_qline(&L, &q, NULL), "ts2"), "queue line: ts2 an hour ahead refused");

	m = (struct xpro_mrec){ now - 10, now, 3 };
	ok(!xpro_check_mval(&L, &m, NULL), "M_DB: a plausible record passes");
	m = (struct xpro_mrec){ now, now - 10, 3 };
	ok(!strcmp(xpro_check_mval(&L, &m, NULL), "ts1"), "M_DB: ts1 > ts2 refused (the master value too)");
	m = (struct xpro_mrec){ 0, now, 3 };
	ok(!strcmp(xpro_check_mval(&L, &m, NULL), "ts1"), "M_DB: ts1 = 0 refused");

	ok(!xpro_w_check(1ULL << 40) && xpro_w_check((1ULL << 40) + 1), "W: at most 2^40 packets/s");
}

static void escape(void)
{
	static char big[3000], out[6 * XPRO_MSG_MAX + 16];

	ok(xpro_msg_escape(out, "{\"a\":1}", 7) == 0 && !strcmp(out, "{\"a\":1}"), "message: printable JSON unchanged");
	ok(xpro_msg_escape(out, "a\x1b[2Jb\n", 7) == 1 && !strcmp(out, "a\\u001b[2Jb\\u000a"),
	   "message: ESC and newline written as \\u00HH");
	ok(xpro_msg_escape(out, "\xc3\xa9", 2) == 1 && !strcmp(out, "\\u00c3\\u00a9"), "message: bytes above 0x7e escaped");
	memset(big, 'x', sizeof(big));
	ok(xpro_msg_escape(out, big, sizeof(big)) == 1 && strlen(out) == XPRO_MSG_MAX + 8 &&
	   !strcmp(out + XPRO_MSG_MAX, "...(cut)"), "message: cut at 2048 bytes, marked");
}

static void clock_values(void)
{
	struct xpro_clock_val c = { 1, 1 }, me = { 100, 37000000 }, peer = { 5100, 0 };
	char buf[XPRO_CLOCK_VAL_MAX];
	int leap = -1;

	ok(!xpro_clock_parse("-37000000 5", 11, &c) && c.off_us == -37000000 && c.tai_real_us == 5, "clock: two signed numbers");
	ok(xpro_clock_parse("1", 1, &c) && xpro_clock_parse("1 2 3", 5, &c) && xpro_clock_parse("--1 2", 5, &c) &&
	   xpro_clock_parse("1000000000001 0", 15, &c) && xpro_clock_parse("1 +2", 4, &c) && c.off_us == -37000000,
	   "clock: one number, three, a double sign, past 10^12, a plus: refused, left alone");
	c = (struct xpro_clock_val){ -5, 37000000 };
	ok(xpro_clock_format(buf, &c) == 11 && !strcmp(buf, "-5 37000000"), "clock: format");
	ok(xpro_clock_offset(&me, &peer, &leap) == 5000 && leap == 1,
	   "clock: a peer 5 ms ahead whose TAI offset is 37 s off ours (no leap-second table)");
	peer = (struct xpro_clock_val){ -900, 37000000 };
	ok(xpro_clock_offset(&me, &peer, &leap) == -1000 && leap == 0, "clock: a peer 1 ms behind, same TAI offset");
}

int main(void)
{
	numbers();
	names();
	ipv6();
	lstate();
	qline();
	refused();
	conversions();
	mval();
	upd();
	feed();
	workload();
	checks();
	escape();
	clock_values();
	return tap_done();
}
