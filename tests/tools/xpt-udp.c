// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpt-udp: a small, bounded UDP sender and receiver for the data-plane
 * tests (the full generators are xpro-bot and xpro-device).
 *
 *   xpt-udp send --proxy ADDR --dst ADDR --dport P --count N
 *                [--port 5683] [--sport P] [--interval-us U] [--plain]
 *                [--wait-ms W] [--payload BYTES] [--bind ADDR]
 *       wraps each datagram into the X-Pro tunnel (docs/protocol.md) and
 *       sends it to the proxy; with --plain sends it directly. Counts the
 *       replies that come back to --sport within --wait-ms after the last
 *       send. Prints {"sent":N,"replies":R}. With --six the inner packet
 *       is IPv6, from and to the testbed's IPv6 names of the addresses
 *       (2001:db8:: + IPv4), and replies are read over IPv6.
 *   xpt-udp echo --port P --duration S [--reply] [--expect N] [--six]
 *       counts datagrams per source, optionally echoes them back, stops
 *       after S seconds or N datagrams. Prints {"received":N,"sources":{...}}.
 *       --six: over IPv6 (IPv6 datagrams only).
 *
 * Same testbed safety as every X-Pro generator: destinations inside
 * 198.18.0.0/15 (IPv6: 2001:db8::/32) only, never in the initial network namespace, never where a
 * route leads outside the testbed. Every loop is bounded in count and time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "xpro.h"
#include "xpro_mac.h"
#include "safety.h"
#include "clock.h"
#include "tunnel.h"
#include "inet6.h"
#include "opt.h"
#include "log.h"

#define MAX_COUNT 10000000L
#define MAX_SECONDS 600.0

#define USAGE "usage: xpt-udp send --proxy ADDR --dst ADDR --dport P --count N [--port 5683] [--sport P]\n" \
	"                    [--interval-us U] [--plain] [--wait-ms W] [--payload BYTES] [--bind ADDR]\n" \
	"                    [--key HEX --key-index I [--seq N]]  (header version 2, docs/protocol.md) [--six]\n" \
	"       xpt-udp echo --port P --duration S [--reply] [--expect N] [--six]\n" \
	"Destinations must lie in " XPRO_TESTBED_STR "; runs only inside a testbed namespace.\n"

struct opts {
	uint32_t proxy, dst, src, bind_addr;
	long count, expect;
	int port, dport, sport, plain, reply, wait_ms, payload, six;
	long interval_us;
	double duration;
	const char *key;          /* header version 2 with this key (32 hex digits) */
	long key_index, seq;      /* its index in the proxy's key file; the first sequence number */
};

static int do_send(struct opts *o)
{
	size_t hl = o->key ? XPRO_TUN_HDR2_LEN : XPRO_TUN_HDR_LEN, ihl = o->six ? 40 : 20;
	uint8_t buf[2048], *x = buf, *ip = buf + hl, *udp = ip + ihl, src6[16], dst6[16];
	__u64 k0 = 0, k1 = 0, mac;
	uint32_t seq;
	int b;
	struct sockaddr_in to = { .sin_family = AF_INET }, me = { .sin_family = AF_INET };
	struct sockaddr_in6 me6 = { .sin6_family = AF_INET6 }, from;
	socklen_t sl = sizeof(me);
	int tx, rx, on = 1;
	long i, replies = 0;
	size_t inner_len = ihl + 8 + (size_t)o->payload;
	double t_end, t0 = xp_mono_s();

	xp6_embed(dst6, o->dst);
	if (xpro_check_dest("xpt-udp", o->dst) || (!o->plain && xpro_check_dest("xpt-udp", o->proxy)) ||
	    (o->six && xpro_check_dest6("xpt-udp", (const struct in6_addr *)dst6)))
		return 1;
	/* receive replies on sport: the inner packet's source port (IPv6: any address) */
	rx = socket(o->six ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
	setsockopt(rx, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	me.sin_port = htons((uint16_t)o->sport);
	me.sin_addr.s_addr = o->bind_addr;
	me6.sin6_port = me.sin_port;
	if (o->six ? bind(rx, (struct sockaddr *)&me6, sizeof(me6)) : bind(rx, (struct sockaddr *)&me, sizeof(me))) {
		pr_warn("bind port %d: %s\n", o->sport, strerror(errno));
		return 1;
	}
	tx = o->plain ? rx : socket(AF_INET, SOCK_DGRAM, 0);
	if (!o->plain && o->bind_addr) {
		struct sockaddr_in b = { .sin_family = AF_INET, .sin_addr.s_addr = o->bind_addr };

		if (bind(tx, (struct sockaddr *)&b, sizeof(b))) {
			pr_warn("bind %s: %s\n", "--bind address", strerror(errno));
			return 1;
		}
	}
	to.sin_addr.s_addr = o->plain ? o->dst : o->proxy;
	to.sin_port = htons((uint16_t)(o->plain ? o->dport : o->port));
	if (connect(tx, (struct sockaddr *)&to, sizeof(to))) {
		pr_warn("connect: %s\n", strerror(errno));
		return 1;
	}
	/* the inner source is this device's address towards the proxy */
	if (!o->src) {
		if (getsockname(tx, (struct sockaddr *)&me, &sl)) {
			pr_warn("getsockname: %s\n", strerror(errno));
			return 1;
		}
		o->src = me.sin_addr.s_addr;
	}
	xp6_embed(src6, o->src);
	if (o->key && xpro_key_hex(o->key, &k0, &k1)) {
		pr_warn("--key: not 32 hex digits\n");
		return 1;
	}
	memset(buf, 0, sizeof(buf));
	x[0] = XPRO_TUN_MAGIC;
	x[1] = o->key ? XPRO_TUN_VERSION2 : XPRO_TUN_VERSION;
	x[2] = (uint8_t)(inner_len >> 8);
	x[3] = (uint8_t)inner_len;
	if (o->six) {
		/* IPv6: payload length, next header UDP, hop limit 64 */
		ip[0] = 0x60;
		ip[4] = (uint8_t)((inner_len - 40) >> 8);
		ip[5] = (uint8_t)(inner_len - 40);
		ip[6] = 17;
		ip[7] = 64;
		memcpy(ip + 8, src6, 16);
		memcpy(ip + 24, dst6, 16);
	} else {
		ip[0] = 0x45;
		ip[2] = (uint8_t)(inner_len >> 8);
		ip[3] = (uint8_t)inner_len;
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, &o->src, 4);
		memcpy(ip + 16, &o->dst, 4);
	}
	udp[0] = (uint8_t)(o->sport >> 8);
	udp[1] = (uint8_t)o->sport;
	udp[2] = (uint8_t)(o->dport >> 8);
	udp[3] = (uint8_t)o->dport;
	udp[4] = (uint8_t)((8 + o->payload) >> 8);
	udp[5] = (uint8_t)(8 + o->payload);
	for (i = 0; i < o->payload; i++)
		udp[8 + i] = (uint8_t)('a' + i % 26);
	if (o->six) /* a UDP checksum is required over IPv6 */
		memcpy(udp + 6, (uint16_t[]){ xp6_l4_csum(src6, dst6, 17, udp, 8 + (size_t)o->payload) }, 2);

	for (i = 0; i < o->count && xp_mono_s() - t0 < MAX_SECONDS; i++) {
		if (!o->six) {
			ip[4] = (uint8_t)(i >> 8);
			ip[5] = (uint8_t)i;
			ip[10] = ip[11] = 0;
			memcpy(ip + 10, (uint16_t[]){ xpro_csum(ip, 20, 0) }, 2);
		}
		if (o->key) {
			/* version 2: sequence number, key index, MAC (docs/protocol.md) */
			seq = (uint32_t)(o->seq + i);
			for (b = 0; b < 4; b++) {
				x[4 + b] = (uint8_t)(seq >> (24 - 8 * b));
				x[8 + b] = (uint8_t)((uint32_t)o->key_index >> (24 - 8 * b));
			}
			mac = o->six ? xpro_tun_mac6(k0, k1, o->src, o->proxy, x, ip + 8) :
				       xpro_tun_mac(k0, k1, o->src, o->proxy, x, ip + 12);
			for (b = 0; b < 8; b++)
				x[12 + b] = (uint8_t)(mac >> (8 * b));
		}
		if (o->plain) {
			if (send(tx, udp + 8, (size_t)o->payload, 0) < 0)
				break;
		} else if (send(tx, buf, hl + inner_len, 0) < 0) {
			break;
		}
		if (o->interval_us > 0)
			usleep((useconds_t)o->interval_us);
		/* drain replies as they come */
		while (recvfrom(rx, buf + 1024, 1024, MSG_DONTWAIT, (struct sockaddr *)&from, &sl) >= 0)
			replies++;
	}
	t_end = xp_mono_s() + o->wait_ms / 1000.0;
	while (xp_mono_s() < t_end) {
		struct pollfd p = { rx, POLLIN, 0 };
		int ms = (int)((t_end - xp_mono_s()) * 1000) + 1;

		if (poll(&p, 1, ms) <= 0)
			break;
		while (recvfrom(rx, buf + 1024, 1024, MSG_DONTWAIT, (struct sockaddr *)&from, &sl) >= 0)
			replies++;
	}
	printf("{\"sent\":%ld,\"replies\":%ld}\n", i, replies);
	return i == o->count ? 0 : 1;
}

#define MAX_SRC 1024

static int do_echo(struct opts *o)
{
	struct sockaddr_in me = { .sin_family = AF_INET };
	struct sockaddr_in6 me6 = { .sin6_family = AF_INET6 }, from6;
	struct sockaddr_in *from = (struct sockaddr_in *)&from6;
	socklen_t sl = sizeof(from6);
	uint8_t srcs[MAX_SRC][16], a16[16];
	long cnt[MAX_SRC], received = 0;
	int n = 0, k, fd, on = 1;
	uint8_t buf[2048];
	double t_end = xp_mono_s() + o->duration;
	ssize_t len;

	fd = socket(o->six ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
	me.sin_port = htons((uint16_t)o->port);
	me6.sin6_port = me.sin_port;
	if (o->six)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (o->six ? bind(fd, (struct sockaddr *)&me6, sizeof(me6)) : bind(fd, (struct sockaddr *)&me, sizeof(me))) {
		pr_warn("bind port %d: %s\n", o->port, strerror(errno));
		return 1;
	}
	while (xp_mono_s() < t_end && (o->expect <= 0 || received < o->expect)) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (poll(&p, 1, 50) <= 0)
			continue;
		sl = sizeof(from6);
		while ((len = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from6, &sl)) >= 0) {
			received++;
			memset(a16, 0, sizeof(a16));
			if (o->six)
				memcpy(a16, &from6.sin6_addr, 16);
			else
				memcpy(a16, &from->sin_addr, 4);
			for (k = 0; k < n && memcmp(srcs[k], a16, 16); k++)
				;
			if (k == n && n < MAX_SRC) {
				memcpy(srcs[n], a16, 16);
				cnt[n++] = 0;
			}
			if (k < n)
				cnt[k]++;
			if (o->reply && (o->six ? xpro_in_testbed6(&from6.sin6_addr) : xpro_in_testbed(from->sin_addr.s_addr)))
				sendto(fd, buf, (size_t)len, 0, (struct sockaddr *)&from6, sl);
			sl = sizeof(from6);
		}
	}
	printf("{\"received\":%ld,\"sources\":{", received);
	for (k = 0; k < n; k++) {
		char a[INET6_ADDRSTRLEN];

		inet_ntop(o->six ? AF_INET6 : AF_INET, srcs[k], a, sizeof(a));
		printf("%s\"%s\":%ld", k ? "," : "", a, cnt[k]);
	}
	printf("}}\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .port = XPRO_TUN_PORT_DEFAULT, .sport = 40000, .wait_ms = 500, .seq = 1,
			  .payload = 16, .duration = 5, .count = -1 };
	const struct xp_opt tab[] = {
		XP_IPV4("proxy", 0, &o.proxy, "ADDR", "send: the proxy (tunnel mode)"),
		XP_IPV4("dst", 0, &o.dst, "ADDR", "send: the inner destination"),
		XP_INT("dport", 0, &o.dport, 0, 65535, "P", "send: its port"),
		XP_LONG("count", 0, &o.count, 1, MAX_COUNT, "N", "send: datagrams"),
		XP_INT("port", 0, &o.port, 0, 65535, "P", "send: the tunnel port; echo: the port to listen on"),
		XP_INT("sport", 0, &o.sport, 0, 65535, "P", "send: source port (default 40000)"),
		XP_LONG("interval-us", 0, &o.interval_us, 0, 1e9, "U", "send: pause between datagrams"),
		XP_FLAG("plain", 0, &o.plain, "send: plain UDP to --dst, no tunnel"),
		XP_INT("wait-ms", 0, &o.wait_ms, 0, 60000, "W", "send: wait for replies (default 500)"),
		XP_INT("payload", 0, &o.payload, 0, 1400, "BYTES", "send: payload size (default 16)"),
		XP_IPV4("src", 0, &o.src, "ADDR", "send: inner source address"),
		XP_STR("key", 0, &o.key, "HEX", "send: header version 2, MAC under this key (32 hex digits)"),
		XP_LONG("key-index", 0, &o.key_index, 0, 0xffffffffL, "I", "send: the key's index (its line among the key file's entries)"),
		XP_LONG("seq", 0, &o.seq, 0, 0xffffffffL, "N", "send: the first sequence number (default 1)"),
		XP_IPV4("bind", 0, &o.bind_addr, "ADDR", "bind to ADDR"),
		XP_DOUBLE("duration", 0, &o.duration, 0, MAX_SECONDS, "S", "echo: run time (default 5)", .flags = XP_OPT_GT),
		XP_FLAG("reply", 0, &o.reply, "echo: send each datagram back"),
		XP_FLAG("six", 0, &o.six, "send: an inner IPv6 packet (2001:db8:: + the addresses); echo: over IPv6"),
		XP_LONG("expect", 0, &o.expect, 0, MAX_COUNT, "N", "echo: stop after N datagrams"),
		{ 0 },
	};
	int first = xp_opt_parse("xpt-udp", USAGE, tab, argc, argv);
	const char *mode = first < argc ? argv[first] : "";

	xpro_prog = "xpt-udp";
	if (first + 1 < argc)
		xp_opt_die("xpt-udp", "unexpected argument '%s' (try --help)", argv[first + 1]);
	if (strcmp(mode, "send") && strcmp(mode, "echo"))
		xp_opt_die("xpt-udp", "send or echo expected (try --help)");
	if (xpro_testbed_check("xpt-udp"))
		return 3;
	if (!strcmp(mode, "send")) {
		if (!o.dst || !o.dport || o.count < 1 || (!o.plain && !o.proxy) || (o.plain && o.six)) {
			fprintf(stderr, "xpt-udp send: need --dst, --dport, --count 1..%ld, --proxy (unless --plain; --six tunnels), --payload 0..1400\n",
				MAX_COUNT);
			return 2;
		}
		return do_send(&o);
	}
	if (!o.port) {
		fprintf(stderr, "xpt-udp echo: need --port and --duration in (0, %.0f] s\n", MAX_SECONDS);
		return 2;
	}
	return do_echo(&o);
}
