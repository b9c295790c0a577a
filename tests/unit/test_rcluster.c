// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Redis Cluster client's pure parts (xpro/rcluster.h): CRC16-XMODEM and
 * key slots with hash tags, the seed list, the slot map from CLUSTER SLOTS
 * (reply trees built by hand, good and hostile), redirect errors.
 *
 * Expected values: CRC16-XMODEM("123456789") = 0x31C3 is the check value
 * of the CRC catalogue and of the Redis Cluster specification's appendix;
 * "somekey" -> 11058 and "foo{hash_tag}" -> 2515 are the examples of
 * Redis' CLUSTER KEYSLOT documentation; the others were computed with
 * Python's binascii.crc_hqx(key, 0) (the same CRC, an independent
 * implementation) and reduced mod 16384 by hand.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>
#include "tap.h"
#include "rcluster.h"

static unsigned int slot(const char *k)
{
	return rc_keyslot(k, strlen(k));
}

/* ---- reply trees ---- */

static redisReply *ri(long long v)
{
	redisReply *r = calloc(1, sizeof(*r));

	r->type = REDIS_REPLY_INTEGER;
	r->integer = v;
	return r;
}

static redisReply *rsl(const char *s, size_t len)
{
	redisReply *r = calloc(1, sizeof(*r));

	r->type = REDIS_REPLY_STRING;
	r->str = malloc(len + 1);
	memcpy(r->str, s, len);
	r->str[len] = '\0';
	r->len = len;
	return r;
}

static redisReply *rs(const char *s)
{
	return rsl(s, strlen(s));
}

static redisReply *ra(int n, ...)
{
	redisReply *r = calloc(1, sizeof(*r));
	va_list ap;
	int i;

	r->type = REDIS_REPLY_ARRAY;
	r->elements = (size_t)n;
	r->element = n ? calloc((size_t)n, sizeof(*r->element)) : NULL;
	va_start(ap, n);
	for (i = 0; i < n; i++)
		r->element[i] = va_arg(ap, redisReply *);
	va_end(ap);
	return r;
}

/* [start, end, [host, port, id]] */
static redisReply *range1(long long a, long long b, const char *host, long long port)
{
	return ra(3, ri(a), ri(b), ra(3, rs(host), ri(port), rs("0123456789abcdef0123456789abcdef01234567")));
}

static struct rc_map m;
static char err[256];

/* the map reply r is refused, with a reason containing want; r freed */
static int refused(redisReply *r, const char *want)
{
	int rc;

	err[0] = '\0';
	rc = rc_parse_slots(r, NULL, &m, err, sizeof(err));
	freeReplyObject(r);
	if (rc == 0 || !strstr(err, want)) {
		tap_diag("rc %d, error '%s', want '%s'", rc, err, want);
		return 0;
	}
	return 1;
}

static int seeds_refused(const char *s, const char *want)
{
	struct rc_addr a[RC_MAX_SEEDS];
	int n;

	err[0] = '\0';
	n = rc_parse_seeds(s, a, err, sizeof(err));
	if (n >= 0 || !strstr(err, want)) {
		tap_diag("'%s': %d, error '%s', want '%s'", s, n, err, want);
		return 0;
	}
	return 1;
}

static int redirect(const char *s, int kind, unsigned int wslot, const char *host, int port)
{
	struct rc_addr to;
	unsigned int sl = 99999;
	int k;

	memset(&to, 0x55, sizeof(to));
	err[0] = '\0';
	k = rc_parse_redirect(s, strlen(s), &sl, &to, err, sizeof(err));
	if (k != kind) {
		tap_diag("'%s': %d, want %d (%s)", s, k, kind, err);
		return 0;
	}
	if (kind <= 0)
		return kind == 0 || err[0];
	if (sl != wslot || strcmp(to.host, host) || to.port != port) {
		tap_diag("'%s': slot %u %s port %d", s, sl, to.host, to.port);
		return 0;
	}
	return 1;
}

int main(void)
{
	struct rc_addr a[RC_MAX_SEEDS];
	char many[RC_SEEDS_MAXLEN + 64], buf[RC_HOSTLEN + 8];
	redisReply *r;
	int n, i;

	/* ---- CRC16 and key slots ---- */
	is_u64(rc_crc16("123456789", 9), 0x31C3, "CRC16-XMODEM check value: \"123456789\" -> 0x31C3");
	is_u64(rc_crc16("", 0), 0, "CRC16 of nothing is the initial value 0");
	is_u64(slot("123456789"), 12739, "slot of \"123456789\" = 0x31C3 = 12739 (< 16384, unchanged by the mod)");
	is_u64(slot("somekey"), 11058, "slot of \"somekey\" = 11058 (Redis' CLUSTER KEYSLOT example)");
	is_u64(slot("foo{hash_tag}"), 2515, "slot of \"foo{hash_tag}\" = 2515: the tag alone (Redis' example)");
	is_u64(slot("{user1000}.following"), 3443, "\"{user1000}.following\": the slot of \"user1000\", 3443");
	is_u64(slot("{user1000}.followers"), slot("{user1000}.following"),
	       "\"{user1000}.followers\" and \"{user1000}.following\": the same slot");
	is_u64(slot("foo{}{bar}"), 8363, "\"foo{}{bar}\": an empty first tag, the whole key hashed (8363)");
	ok(slot("foo{}{bar}") != slot("bar"), "\"foo{}{bar}\" is not hashed as \"bar\"");
	is_u64(slot("foo{{bar}}zap"), 4015, "\"foo{{bar}}zap\": the tag is \"{bar\" (4015)");
	is_u64(slot("foo{{bar}}zap"), slot("{bar"), "\"foo{{bar}}zap\" and \"{bar\": the same slot");
	is_u64(slot("a{b"), 13340, "\"a{b\": no '}', the whole key (13340)");
	is_u64(slot("{}"), 15257, "\"{}\": an empty tag, the whole key (15257)");
	is_u64(slot("x:{198.18.1.5}:198.18.0.1"), 12297, "a record x:{D}:i lies in the slot of D (198.18.1.5: 12297)");
	is_u64(slot("x:{198.18.1.5}"), slot("x:{198.18.1.5}:198.18.0.9"), "x:{D} and x:{D}:i: one slot");
	is_u64(slot("x:{2001:db8::c612:105}:2001:db8::c612:64"), 14603,
	       "an IPv6 destination's tag, colons and all (2001:db8::c612:105: 14603)");
	ok(rc_keyslot("a\0{b}", 5) == slot("b"), "binary keys: a NUL before the tag is a byte like any");

	/* ---- seeds ---- */
	n = rc_parse_seeds("127.0.0.1:7000,[2001:db8::1]:7001,198.18.0.10:65535", a, err, sizeof(err));
	ok(n == 3 && !strcmp(a[0].host, "127.0.0.1") && a[0].port == 7000 && !strcmp(a[1].host, "2001:db8::1") &&
	   a[1].port == 7001 && !strcmp(a[2].host, "198.18.0.10") && a[2].port == 65535,
	   "seeds: IPv4, [IPv6] and port 65535 (%d: %s)", n, n < 0 ? err : "");
	ok(!strcmp(rc_addr_str(buf, &a[1]), "[2001:db8::1]:7001") && !strcmp(rc_addr_str(buf, &a[0]), "127.0.0.1:7000"),
	   "an address's text: [IPv6]:PORT, IPv4:PORT");
	ok(seeds_refused("", "empty"), "seeds: an empty list is refused");
	ok(seeds_refused("127.0.0.1:7000,", "seed 2 is empty"), "seeds: a trailing comma is refused");
	ok(seeds_refused(",127.0.0.1:7000", "seed 1 is empty"), "seeds: a leading comma is refused");
	ok(seeds_refused("127.0.0.1", "no :PORT"), "seeds: an address without a port is refused");
	ok(seeds_refused("127.0.0.1:0", "port"), "seeds: port 0 is refused");
	ok(seeds_refused("127.0.0.1:65536", "port"), "seeds: port 65536 is refused");
	ok(seeds_refused("127.0.0.1:07000", "port"), "seeds: a port with a leading zero is refused");
	ok(seeds_refused("127.0.0.1:+7000", "port"), "seeds: a signed port is refused");
	ok(seeds_refused(":7000", "no address"), "seeds: no address is refused");
	ok(seeds_refused("localhost:7000", "IPv4"), "seeds: a host name is refused");
	ok(seeds_refused("127.0.0.01:7000", "IPv4"), "seeds: a non-canonical IPv4 address is refused");
	ok(seeds_refused("2001:db8::1:7000", "[ADDRESS]:PORT"), "seeds: an IPv6 address without brackets is refused");
	ok(seeds_refused("[2001:DB8::1]:7000", "canonical"), "seeds: upper-case IPv6 is refused (RFC 5952 form only)");
	ok(seeds_refused("[::ffff:1.2.3.4]:7000", "canonical"), "seeds: a v4-mapped IPv6 address is refused (its name is dotted)");
	ok(seeds_refused("[127.0.0.1]:7000", "IPv6"), "seeds: IPv4 in brackets is refused");
	ok(seeds_refused("[2001:db8::1]7000", "[IPV6-ADDRESS]:PORT"), "seeds: ']' not followed by ':' is refused");
	ok(seeds_refused("127.0.0.1:7000 ,127.0.0.1:7001", "space"), "seeds: a space is refused");
	ok(seeds_refused("127.0.0.1:7000\n", "control"), "seeds: a newline is refused");
	ok(seeds_refused("127.0.0.1:7000,127.0.0.1:7000", "twice"), "seeds: a duplicate is refused");
	many[0] = '\0';
	for (i = 0; i < RC_MAX_SEEDS + 1; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "%s127.0.0.1:%d", i ? "," : "", 7000 + i);
	ok(seeds_refused(many, "more than 16"), "seeds: 17 seeds are refused");
	memset(many, '1', sizeof(many) - 1);
	many[sizeof(many) - 1] = '\0';
	ok(seeds_refused(many, "longer"), "seeds: a list over %d characters is refused", RC_SEEDS_MAXLEN);

	/* ---- the slot map ---- */
	r = ra(3,
	       ra(4, ri(0), ri(5460), ra(3, rs("127.0.0.1"), ri(7000), rs("id0")), ra(3, rs("127.0.0.1"), ri(7003), rs("id3"))),
	       ra(3, ri(5461), ri(10922), ra(2, rs("127.0.0.1"), ri(7001))),
	       /* Redis 7's fourth element: metadata (here empty) */
	       ra(3, ri(10923), ri(16383), ra(4, rs("2001:db8::1"), ri(7002), rs("id2"), ra(0))));
	n = rc_parse_slots(r, NULL, &m, err, sizeof(err));
	freeReplyObject(r);
	ok(n == 0, "a 3-master map with a replica parses (%s)", n ? err : "ok");
	ok(m.nnodes == 4 && m.covered == RC_SLOTS, "4 nodes, all 16384 slots covered (%d, %u)", m.nnodes, m.covered);
	ok(m.owner[0] == m.owner[5460] && !strcmp(m.node[m.owner[0]].host, "127.0.0.1") && m.node[m.owner[0]].port == 7000,
	   "slots 0 and 5460: 127.0.0.1:7000");
	ok(m.owner[5461] != m.owner[5460] && m.node[m.owner[5461]].port == 7001 && m.owner[10922] == m.owner[5461],
	   "slots 5461-10922: 127.0.0.1:7001");
	ok(!strcmp(m.node[m.owner[16383]].host, "2001:db8::1") && m.node[m.owner[16383]].port == 7002,
	   "slot 16383: [2001:db8::1]:7002");
	for (n = 0, i = 0; i < m.nnodes; i++)
		n += m.master[i];
	ok(n == 3, "3 masters; the replica 127.0.0.1:7003 is known but serves nothing");

	r = ra(1, range1(100, 199, "127.0.0.1", 7000));
	n = rc_parse_slots(r, NULL, &m, err, sizeof(err));
	freeReplyObject(r);
	ok(n == 0 && m.covered == 100 && m.owner[99] == RC_NONE && m.owner[200] == RC_NONE && m.owner[150] == 0,
	   "a partial map (slots 100-199) is taken: the others have no owner");

	ok(refused(rs("OK"), "not an array"), "map: a string reply is refused");
	ok(refused(ri(3), "not an array"), "map: an integer reply is refused");
	ok(refused(ra(0), "no slot range"), "map: an empty array is refused");
	ok(refused(ra(1, ra(2, ri(0), ri(16383))), "range 0 is not"), "map: a range without a master is refused");
	ok(refused(ra(1, ri(0)), "range 0 is not"), "map: a range that is not an array is refused");
	ok(refused(ra(1, range1(10, 5, "127.0.0.1", 7000)), "start <= end"), "map: start > end is refused");
	ok(refused(ra(1, range1(0, 16384, "127.0.0.1", 7000)), "slots 0-16383"), "map: slot 16384 is refused");
	ok(refused(ra(1, range1(-1, 5, "127.0.0.1", 7000)), "slots 0-16383"), "map: slot -1 is refused");
	ok(refused(ra(1, ra(3, rs("0"), ri(5), ra(2, rs("127.0.0.1"), ri(7000)))), "slots 0-16383"),
	   "map: a slot as a string is refused");
	ok(refused(ra(2, range1(0, 5460, "127.0.0.1", 7000), range1(5000, 16383, "127.0.0.1", 7001)),
		   "slot 5000 is in two ranges"), "map: overlapping ranges are refused");
	ok(refused(ra(2, range1(0, 5, "127.0.0.1", 7000), range1(5, 5, "127.0.0.1", 7000)), "slot 5 is in two ranges"),
	   "map: a slot given twice to the same node is refused");
	ok(refused(ra(1, range1(0, 16383, "127.0.0.1", 0)), "port is not 1-65535"), "map: port 0 is refused");
	ok(refused(ra(1, range1(0, 16383, "127.0.0.1", 65536)), "port is not 1-65535"), "map: port 65536 is refused");
	ok(refused(ra(1, range1(0, 16383, "127.0.0.1", -7000)), "port is not 1-65535"), "map: a negative port is refused");
	ok(refused(ra(1, ra(3, ri(0), ri(1), ra(2, rs("127.0.0.1"), rs("7000")))), "port is not 1-65535"),
	   "map: a port as a string is refused");
	ok(refused(ra(1, range1(0, 16383, "?", 7000)), "'?' is not an IP address"),
	   "map: an unknown endpoint ('?') is refused");
	ok(refused(ra(1, range1(0, 16383, "", 7000)), "is not an IP address"),
	   "map: an empty address is refused when the answering node is not known");
	r = ra(2, range1(0, 99, "", 7000), range1(100, 16383, "127.0.0.1", 7001));
	n = rc_parse_slots(r, "2001:db8::1", &m, err, sizeof(err));
	freeReplyObject(r);
	ok(n == 0 && !strcmp(m.node[m.owner[0]].host, "2001:db8::1") && m.node[m.owner[0]].port == 7000 &&
	   m.node[m.owner[100]].port == 7001, "map: an empty address is the node that answered ([2001:db8::1]:7000)");
	ok(refused(ra(1, range1(0, 16383, "redis-1.example", 7000)), "is not an IP address"),
	   "map: a host name is refused");
	ok(refused(ra(1, range1(0, 16383, "2001:DB8::1", 7000)), "is not an IP address"),
	   "map: a non-canonical IPv6 address is refused");
	ok(refused(ra(1, ra(3, ri(0), ri(1), ra(2, rsl("127.0.0.1\0x", 11), ri(7000)))), "is not an IP address"),
	   "map: an address with a NUL byte is refused");
	ok(refused(ra(1, ra(3, ri(0), ri(1), ri(7000))), "node 0 is not [address, port"),
	   "map: a node that is not an array is refused");
	ok(refused(ra(1, ra(3, ri(0), ri(1), ra(1, rs("127.0.0.1")))), "node 0 is not [address, port"),
	   "map: a node without a port is refused");
	ok(refused(ra(1, ra(4, ri(0), ri(1), ra(2, rs("127.0.0.1"), ri(7000)), ra(2, ri(1), ri(7001)))),
		   "node 1 is not [address, port"), "map: a replica with an integer address is refused");
	r = ra(0);
	r->elements = RC_MAX_NODES + 1;
	r->element = calloc(r->elements, sizeof(*r->element));
	for (i = 0; i <= RC_MAX_NODES; i++) {
		char h[32];

		snprintf(h, sizeof(h), "198.18.0.%d", i + 1);
		r->element[i] = range1(i, i, h, 7000);
	}
	ok(refused(r, "more than 64 nodes"), "map: 65 nodes are refused");

	/* ---- redirects ---- */
	ok(redirect("MOVED 3999 127.0.0.1:6381", RC_MOVED, 3999, "127.0.0.1", 6381), "MOVED 3999 127.0.0.1:6381");
	ok(redirect("ASK 3999 [2001:db8::1]:7000", RC_ASK, 3999, "2001:db8::1", 7000), "ASK 3999 [2001:db8::1]:7000");
	ok(redirect("ASK 0 2001:db8::1:7000", RC_ASK, 0, "2001:db8::1", 7000),
	   "ASK 0 2001:db8::1:7000 (Redis' own form of an IPv6 address: split at the last colon)");
	ok(redirect("MOVED 16383 :7001", RC_MOVED, 16383, "", 7001), "MOVED 16383 :7001: the host of the node that answered");
	ok(redirect("ERR unknown command", 0, 0, NULL, 0), "ERR ...: not a redirect");
	ok(redirect("MOVEDX 1 127.0.0.1:1", 0, 0, NULL, 0), "MOVEDX ...: not a redirect");
	ok(redirect("TRYAGAIN Multiple keys request during rehashing of slot", 0, 0, NULL, 0), "TRYAGAIN: not a redirect");
	ok(redirect("MOVED 16384 127.0.0.1:6381", -1, 0, NULL, 0), "MOVED to slot 16384: refused");
	ok(redirect("MOVED -1 127.0.0.1:6381", -1, 0, NULL, 0), "MOVED to slot -1: refused");
	ok(redirect("MOVED 03999 127.0.0.1:6381", -1, 0, NULL, 0), "MOVED with a leading zero: refused");
	ok(redirect("MOVED 3999127.0.0.1:6381", -1, 0, NULL, 0), "MOVED without the address: refused");
	ok(redirect("MOVED  3999 127.0.0.1:6381", -1, 0, NULL, 0), "MOVED with two spaces: refused");
	ok(redirect("MOVED 3999 127.0.0.1", -1, 0, NULL, 0), "MOVED without a port: refused");
	ok(redirect("MOVED 3999 127.0.0.1:0", -1, 0, NULL, 0), "MOVED to port 0: refused");
	ok(redirect("MOVED 3999 127.0.0.1:99999", -1, 0, NULL, 0), "MOVED to port 99999: refused");
	ok(redirect("MOVED 3999 127.0.0.1:6381 x", -1, 0, NULL, 0), "MOVED with trailing words: refused");
	ok(redirect("MOVED 3999 evil.example:6381", -1, 0, NULL, 0), "MOVED to a host name: refused");
	ok(redirect("MOVED 3999 300.0.0.1:6381", -1, 0, NULL, 0), "MOVED to 300.0.0.1: refused");
	ok(redirect("ASK 3999 [2001:db8::1]7000", -1, 0, NULL, 0), "ASK [IPv6] without ':': refused");
	ok(redirect("ASK 3999 [127.0.0.1]:7000", -1, 0, NULL, 0), "ASK to IPv4 in brackets: refused");
	ok(redirect("ASK 3999 2001:DB8::1:7000", -1, 0, NULL, 0), "ASK to upper-case IPv6: refused");
	ok(redirect("MOVED", 0, 0, NULL, 0), "MOVED alone: not a redirect (no space)");
	ok(redirect("MOVED ", -1, 0, NULL, 0), "\"MOVED \": refused");
	return tap_done();
}
