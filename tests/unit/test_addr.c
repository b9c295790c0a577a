// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * lib/addr.h: struct xpro_addr's one text form, its strict parser, order,
 * hash and prefixes. Every address below is written byte by byte (worked by
 * hand from RFC 4291 and RFC 5952), never through inet_pton, which the code
 * under test uses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tap.h"
#include "addr.h"

/* 16 bytes in network order */
static struct xpro_addr B(const unsigned char b[16])
{
	struct xpro_addr a;

	memcpy(&a, b, 16);
	return a;
}

/* v4-mapped a.b.c.d: ::ffff:a.b.c.d */
static struct xpro_addr V4(unsigned char a, unsigned char b, unsigned char c, unsigned char d)
{
	const unsigned char x[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d };

	return B(x);
}

/* 2001:db8:: with the eight groups g0..g7 */
static struct xpro_addr V6(const uint16_t g[8])
{
	unsigned char x[16];
	int i;

	for (i = 0; i < 8; i++) {
		x[2 * i] = (unsigned char)(g[i] >> 8);
		x[2 * i + 1] = (unsigned char)g[i];
	}
	return B(x);
}

static const uint16_t G_TESTBED_HOST[8] = { 0x2001, 0x0db8, 0, 0, 0, 0, 0xc612, 0x0064 }; /* 198.18.0.100 */
static const uint16_t G_LONGEST_RUN[8] = { 0x2001, 0x0db8, 0, 1, 0, 0, 0, 1 };
static const uint16_t G_EQUAL_RUNS[8] = { 0x2001, 0x0db8, 0, 0, 1, 0, 0, 1 };
static const uint16_t G_ONE_ZERO[8] = { 0x2001, 0x0db8, 0, 1, 1, 1, 1, 1 };
static const uint16_t G_ALL_ONES[8] = { 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff };
static const uint16_t G_ZERO[8] = { 0 };
static const uint16_t G_LOOPBACK[8] = { 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint16_t G_DOC[8] = { 0x2001, 0x0db8, 0, 0, 0, 0, 0, 0 };
static const uint16_t G_DOC1[8] = { 0x2001, 0x0db8, 0, 0, 0, 0, 0, 1 };
static const uint16_t G_DOC2[8] = { 0x2001, 0x0db8, 0, 0, 0, 0, 0, 2 };

/* Each address written by hand, its one name and why: xpro_addr_str()
 * writes the name, and xpro_addr_parse() takes it back to these bytes. */
static void names(void)
{
	static const struct {
		const char *s;
		int v4;
		const uint16_t *g;
		unsigned char d[4];
		const char *why;
	} t[] = {
		{ "198.18.0.100", 1, NULL, { 198, 18, 0, 100 }, "v4-mapped ::ffff:198.18.0.100 is written dotted" },
		{ "0.0.0.0", 1, NULL, { 0, 0, 0, 0 }, "::ffff:0.0.0.0 is 0.0.0.0" },
		{ "255.255.255.255", 1, NULL, { 255, 255, 255, 255 }, "::ffff:255.255.255.255" },
		{ "2001:db8::c612:64", 0, G_TESTBED_HOST, { 0 }, "the testbed's name, lowercase, no leading zeros" },
		{ "2001:db8:0:1::1", 0, G_LONGEST_RUN, { 0 }, "the longest run of zero groups becomes ::" },
		{ "2001:db8::1:0:0:1", 0, G_EQUAL_RUNS, { 0 }, "of two equal runs, the first becomes ::" },
		{ "2001:db8:0:1:1:1:1:1", 0, G_ONE_ZERO, { 0 }, "a single zero group is not shortened" },
		{ "::", 0, G_ZERO, { 0 }, "all zeros" },
		{ "::1", 0, G_LOOPBACK, { 0 }, "loopback" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, G_ALL_ONES, { 0 }, "all ones, 39 characters" },
	};
	char buf[XPRO_ADDR_STRLEN];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct xpro_addr got, want = t[i].v4 ? V4(t[i].d[0], t[i].d[1], t[i].d[2], t[i].d[3]) : V6(t[i].g);

		ok(!strcmp(xpro_addr_str(buf, &want), t[i].s), "text: %s (%s)", t[i].s, t[i].why);
		ok(!xpro_addr_parse(t[i].s, strlen(t[i].s), &got) && xpro_addr_eq(&got, &want) &&
		   !xpro_addr_is4(&got) == !t[i].v4, "parse: \"%s\" accepted, its bytes", t[i].s);
	}
	ok(XPRO_ADDR_STRLEN == 46 && XPRO_PREFIX_STRLEN == 50, "text: buffers of 46 (INET6_ADDRSTRLEN) and 50 bytes");
}

static void refused(void)
{
	static const struct {
		const char *s;
		const char *why;
	} t[] = {
		{ "", "empty" },
		{ "1.2.3.4.5", "five parts" },
		{ "1.2.3", "three parts" },
		{ "1.2.3.04", "a leading zero" },
		{ "01.2.3.4", "a leading zero in front" },
		{ "1.2.3.256", "a part above 255" },
		{ "1.2.3.-4", "a sign" },
		{ "0x1.2.3.4", "hexadecimal" },
		{ "1.2.3.4 ", "a trailing space" },
		{ " 1.2.3.4", "a leading space" },
		{ "1.2.3.4/32", "a prefix length" },
		{ "::ffff:1.2.3.4", "v4-mapped written as IPv6 (its name is 1.2.3.4)" },
		{ "::ffff:102:304", "v4-mapped in hexadecimal groups" },
		{ "::FFFF:1.2.3.4", "v4-mapped, uppercase" },
		{ "2001:DB8::1", "uppercase" },
		{ "2001:Db8::1", "mixed case" },
		{ "2001:db8:0:0:0:0:0:1", "zero groups not shortened" },
		{ "2001:db8::0:1", "a zero group left beside ::" },
		{ "2001:0db8::1", "a leading zero in a group" },
		{ "2001:db8:0:1:0:0:0:1", "a shorter run shortened, or none" },
		{ "2001:db8:0:0:1::1", "the second of two equal runs shortened" },
		{ "2001:db8:0:1:1:1:1::", "one zero group as ::" },
		{ "2001:db8::1::2", "two ::" },
		{ ":::", "three colons" },
		{ "2001:db8::1:", "a trailing colon" },
		{ ":2001:db8::1", "a leading single colon" },
		{ "2001:db8::12345", "a group of five digits" },
		{ "2001:db8::g", "not hexadecimal" },
		{ "2001:db8::1%eth0", "a zone index" },
		{ "[2001:db8::1]", "brackets" },
		{ "2001:db8::1 ", "a trailing space (IPv6)" },
		{ "2001:db8:1:2:3:4:5:6:7", "nine groups" },
		{ "0000:0000:0000:0000:0000:0000:0000:0001", "::1 at full length (39 characters)" },
	};
	struct xpro_addr a = V4(9, 9, 9, 9), keep = a;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ok(xpro_addr_parse(t[i].s, strlen(t[i].s), &a) == -1 && xpro_addr_eq(&a, &keep),
		   "parse: \"%s\" refused (%s), the output untouched", t[i].s, t[i].why);
}

/* lengths and bytes: the parser reads len bytes, no more, and a '\0' among them is refused */
static void limits(void)
{
	struct xpro_addr a, want = V4(198, 18, 0, 1);
	char *exact, big[200];

	ok(!xpro_addr_parse("198.18.0.1xyz", 10, &a) && xpro_addr_eq(&a, &want), "limits: only len bytes are read");
	ok(xpro_addr_parse("198.18.0.1", 9, &a), "limits: a name cut short (198.18.0.) is refused");
	ok(xpro_addr_parse("198.18.0.1\0", 11, &a), "limits: a '\\0' inside len is refused");
	ok(xpro_addr_parse("198.18\0.0.1", 11, &a), "limits: a '\\0' in the middle is refused");
	ok(xpro_addr_parse("::1\0:2", 6, &a), "limits: a '\\0' inside an IPv6 name is refused");
	memset(big, '1', sizeof(big));
	ok(xpro_addr_parse(big, sizeof(big), &a), "limits: 200 bytes are refused");
	memcpy(big, "2001:db8::1", 11);
	ok(xpro_addr_parse(big, 46, &a), "limits: 46 bytes (no name is that long) are refused");
	/* an exact-size heap copy without a terminator (under ASan a read past it is a report) */
	exact = malloc(17);
	if (!exact)
		abort();
	memcpy(exact, "2001:db8::c612:64", 17);
	want = V6(G_TESTBED_HOST);
	ok(!xpro_addr_parse(exact, 17, &a) && xpro_addr_eq(&a, &want), "limits: an unterminated buffer of exactly the name");
	free(exact);
	ok(!xpro_addr_parse_str("2001:db8::1", &a) && xpro_addr_parse_str("2001:db8::1 ", &a) &&
	   xpro_addr_parse_str("", &a), "parse_str: a terminated string, the same rules");
}

static void order(void)
{
	struct xpro_addr a = V4(198, 18, 0, 1), b = V4(198, 18, 0, 2), c = V4(9, 0, 0, 0), d = V4(10, 0, 0, 0);
	struct xpro_addr e = V6(G_DOC1), f = V6(G_DOC2), lo = V6(G_LOOPBACK), a2 = V4(198, 18, 0, 1);

	ok(xpro_addr_eq(&a, &a2) && !xpro_addr_eq(&a, &b) && !xpro_addr_eq(&e, &f), "eq: the 16 bytes");
	ok(xpro_addr_cmp(&a, &b) < 0 && xpro_addr_cmp(&b, &a) > 0 && xpro_addr_cmp(&a, &a2) == 0,
	   "cmp: 198.18.0.1 < 198.18.0.2");
	ok(xpro_addr_cmp(&c, &d) < 0, "cmp: IPv4 in numeric order (9.0.0.0 < 10.0.0.0)");
	ok(xpro_addr_cmp(&e, &f) < 0, "cmp: 2001:db8::1 < 2001:db8::2");
	ok(xpro_addr_cmp(&lo, &a) < 0 && xpro_addr_cmp(&a, &e) < 0, "cmp: ::1 < every IPv4 address < 2001:db8::1");
	ok(xpro_addr_hash(&a) == xpro_addr_hash(&a2), "hash: equal addresses, equal hashes");
}

/* 4096 consecutive IPv4 clients into 4096 slots by the hash's low bits: a
 * uniform hash fills 4096 (1 - 1/e) = 2589 slots on average; a hash that
 * ignored the low bytes would fill one */
static void spread(void)
{
	static unsigned char used[4096];
	unsigned int i, n = 0;

	for (i = 0; i < 4096; i++) {
		struct xpro_addr a = V4(198, 18, (unsigned char)(i >> 8), (unsigned char)i);
		uint32_t h = xpro_addr_hash(&a) & 4095;

		n += !used[h];
		used[h] = 1;
	}
	ok(n >= 2400 && n <= 2800, "hash: 4096 consecutive clients fill %u of 4096 slots (2589 expected)", n);
}

static void prefixes(void)
{
	struct xpro_addr net, a, m, keep;
	unsigned int len = 7;
	char buf[XPRO_PREFIX_STRLEN];
	const uint16_t g116[8] = { 0x2001, 0x0db8, 0, 0, 0, 0, 0xc612, 0x1000 };
	const uint16_t g_in[8] = { 0x2001, 0x0db8, 0, 0, 0, 0, 0xc612, 0x1005 };
	const uint16_t g_out[8] = { 0x2001, 0x0db8, 0, 0, 0, 0, 0xc612, 0x2005 };
	const uint16_t g_ff[8] = { 0x2001, 0x0db8, 0xffff, 0, 0, 0, 0, 0 };
	const uint16_t g_33[8] = { 0x2001, 0x0db8, 0x8000, 0, 0, 0, 0, 0 };

	net = V4(198, 18, 16, 0);
	a = V4(198, 18, 16, 5);
	ok(xpro_addr_in_prefix(&a, &net, 96 + 20), "in: 198.18.16.5 in 198.18.16.0/20 (96 + 20)");
	a = V4(198, 18, 32, 5);
	ok(!xpro_addr_in_prefix(&a, &net, 96 + 20), "in: 198.18.32.5 not in 198.18.16.0/20");
	net = V6(g116);
	a = V6(g_in);
	ok(xpro_addr_in_prefix(&a, &net, 116), "in: 2001:db8::c612:1005 in 2001:db8::c612:1000/116");
	a = V6(g_out);
	ok(!xpro_addr_in_prefix(&a, &net, 116), "in: 2001:db8::c612:2005 not in it");
	net = V6(G_ZERO);
	a = V4(198, 18, 0, 1);
	ok(xpro_addr_in_prefix(&a, &net, 0), "in: every address in ::/0, IPv4 included");
	net = V6(G_DOC);
	ok(!xpro_addr_in_prefix(&a, &net, 32), "in: an IPv4 address is not in 2001:db8::/32");
	a = V6(G_DOC1);
	ok(xpro_addr_in_prefix(&a, &a, 128) && !xpro_addr_in_prefix(&a, &net, 128) && !xpro_addr_in_prefix(&a, &a, 129),
	   "in: /128 is the address alone; a length above 128 holds nothing");
	a = V6(g_ff);
	m = xpro_addr_mask(&a, 33);
	net = V6(g_33);
	ok(xpro_addr_eq(&m, &net), "mask: 2001:db8:ffff:: masked to /33 is 2001:db8:8000::");

	ok(!xpro_addr_prefix_parse("198.18.0.0/15", 13, &net, &len) && len == 111 &&
	   (a = V4(198, 18, 0, 0), xpro_addr_eq(&net, &a)), "prefix: 198.18.0.0/15 is v4-mapped, length 96 + 15");
	ok(!xpro_addr_prefix_parse("2001:db8::/32", 13, &net, &len) && len == 32 && (a = V6(G_DOC), xpro_addr_eq(&net, &a)),
	   "prefix: 2001:db8::/32");
	ok(!xpro_addr_prefix_parse("2001:db8::c612:1000/116", 23, &net, &len) && len == 116 &&
	   (a = V6(g116), xpro_addr_eq(&net, &a)), "prefix: 2001:db8::c612:1000/116 (198.18.16.0/20 mapped)");
	ok(!xpro_addr_prefix_parse("0.0.0.0/0", 9, &net, &len) && len == 96, "prefix: 0.0.0.0/0 is ::ffff:0:0/96");
	ok(!xpro_addr_prefix_parse("::/0", 4, &net, &len) && len == 0, "prefix: ::/0");
	ok(!xpro_addr_prefix_parse("198.18.0.1/32", 13, &net, &len) && len == 128, "prefix: a host /32 is /128");
	{
		static const char *const bad[] = {
			"198.18.0.1/15", "2001:db8::1/32", "198.18.0.0/33", "2001:db8::/129", "198.18.0.0/015",
			"198.18.0.0/", "198.18.0.0", "/32", "::ffff:198.18.0.0/111", "2001:DB8::/32",
			"198.18.0.0/1x", "198.18.0.0/-1", "198.18.0.0/15 ", "2001:db8::/32/1", "2001:db8::/1000",
			"", "198.18.0.0 /15",
		};
		size_t i;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			keep = net = V4(1, 2, 3, 4);
			len = 7;
			ok(xpro_addr_prefix_parse(bad[i], strlen(bad[i]), &net, &len) == -1 && xpro_addr_eq(&net, &keep) &&
			   len == 7, "prefix: \"%s\" refused, outputs untouched", bad[i]);
		}
	}
	ok(xpro_addr_prefix_parse("198.18.0.0/15\0", 14, &net, &len), "prefix: a '\\0' inside len is refused");
	net = V4(198, 18, 0, 0);
	ok(!strcmp(xpro_addr_prefix_str(buf, &net, 111), "198.18.0.0/15"), "prefix text: 198.18.0.0/15");
	net = V6(G_DOC);
	ok(!strcmp(xpro_addr_prefix_str(buf, &net, 32), "2001:db8::/32"), "prefix text: 2001:db8::/32");
	net = V6(G_ALL_ONES);
	ok(!strcmp(xpro_addr_prefix_str(buf, &net, 128), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128"),
	   "prefix text: the longest, 43 characters, fits XPRO_PREFIX_STRLEN");
}

int main(void)
{
	names();
	refused();
	limits();
	order();
	spread();
	prefixes();
	return tap_done();
}
