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
 *       send. Prints {"sent":N,"replies":R}.
 *   xpt-udp echo --port P --duration S [--reply] [--expect N]
 *       counts datagrams per source, optionally echoes them back, stops
 *       after S seconds or N datagrams. Prints {"received":N,"sources":{...}}.
 *
 * Same testbed safety as every X-Pro generator: destinations inside
 * 198.18.0.0/15 only, never in the initial network namespace, never where a
 * route leads outside the testbed. Every loop is bounded in count and time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "xpro.h"
#include "safety.h"
#include "clock.h"
#include "tunnel.h"

#define MAX_COUNT 10000000L
#define MAX_SECONDS 600.0

static void usage(FILE *f)
{
	fprintf(f, "usage: xpt-udp send --proxy ADDR --dst ADDR --dport P --count N [--port 5683] [--sport P]\n"
		   "                    [--interval-us U] [--plain] [--wait-ms W] [--payload BYTES] [--bind ADDR]\n"
		   "       xpt-udp echo --port P --duration S [--reply] [--expect N]\n"
		   "Destinations must lie in %s; runs only inside a testbed namespace.\n", XPRO_TESTBED_STR);
}

static int addr_arg(const char *s, uint32_t *a)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1) {
		fprintf(stderr, "xpt-udp: '%s' is not an IPv4 address\n", s);
		return -1;
	}
	*a = in.s_addr;
	return 0;
}

struct opts {
	uint32_t proxy, dst, src, bind_addr;
	long count, expect;
	int port, dport, sport, plain, reply, wait_ms, payload;
	long interval_us;
	double duration;
};

static int do_send(struct opts *o)
{
	uint8_t buf[2048], *x = buf, *ip = buf + XPRO_TUN_HDR_LEN, *udp = ip + 20;
	struct sockaddr_in to = { .sin_family = AF_INET }, me = { .sin_family = AF_INET }, from;
	socklen_t sl = sizeof(me);
	int tx, rx, on = 1;
	long i, replies = 0;
	size_t inner_len = 20 + 8 + (size_t)o->payload;
	double t_end, t0 = xp_mono_s();

	if (xpro_check_dest("xpt-udp", o->dst) || (!o->plain && xpro_check_dest("xpt-udp", o->proxy)))
		return 1;
	/* receive replies on sport: the inner packet's source port */
	rx = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(rx, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	me.sin_port = htons((uint16_t)o->sport);
	me.sin_addr.s_addr = o->bind_addr;
	if (bind(rx, (struct sockaddr *)&me, sizeof(me))) {
		fprintf(stderr, "xpt-udp: bind port %d: %s\n", o->sport, strerror(errno));
		return 1;
	}
	tx = o->plain ? rx : socket(AF_INET, SOCK_DGRAM, 0);
	if (!o->plain && o->bind_addr) {
		struct sockaddr_in b = { .sin_family = AF_INET, .sin_addr.s_addr = o->bind_addr };

		if (bind(tx, (struct sockaddr *)&b, sizeof(b))) {
			fprintf(stderr, "xpt-udp: bind %s: %s\n", "--bind address", strerror(errno));
			return 1;
		}
	}
	to.sin_addr.s_addr = o->plain ? o->dst : o->proxy;
	to.sin_port = htons((uint16_t)(o->plain ? o->dport : o->port));
	if (connect(tx, (struct sockaddr *)&to, sizeof(to))) {
		fprintf(stderr, "xpt-udp: connect: %s\n", strerror(errno));
		return 1;
	}
	/* the inner source is this device's address towards the proxy */
	if (!o->src) {
		if (getsockname(tx, (struct sockaddr *)&me, &sl)) {
			fprintf(stderr, "xpt-udp: getsockname: %s\n", strerror(errno));
			return 1;
		}
		o->src = me.sin_addr.s_addr;
	}
	memset(buf, 0, sizeof(buf));
	x[0] = XPRO_TUN_MAGIC;
	x[1] = XPRO_TUN_VERSION;
	x[2] = (uint8_t)(inner_len >> 8);
	x[3] = (uint8_t)inner_len;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(inner_len >> 8);
	ip[3] = (uint8_t)inner_len;
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, &o->src, 4);
	memcpy(ip + 16, &o->dst, 4);
	udp[0] = (uint8_t)(o->sport >> 8);
	udp[1] = (uint8_t)o->sport;
	udp[2] = (uint8_t)(o->dport >> 8);
	udp[3] = (uint8_t)o->dport;
	udp[4] = (uint8_t)((8 + o->payload) >> 8);
	udp[5] = (uint8_t)(8 + o->payload);
	for (i = 0; i < o->payload; i++)
		udp[8 + i] = (uint8_t)('a' + i % 26);

	for (i = 0; i < o->count && xp_mono_s() - t0 < MAX_SECONDS; i++) {
		ip[4] = (uint8_t)(i >> 8);
		ip[5] = (uint8_t)i;
		ip[10] = ip[11] = 0;
		memcpy(ip + 10, (uint16_t[]){ xpro_csum(ip, 20, 0) }, 2);
		if (o->plain) {
			if (send(tx, udp + 8, (size_t)o->payload, 0) < 0)
				break;
		} else if (send(tx, buf, XPRO_TUN_HDR_LEN + inner_len, 0) < 0) {
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
	struct sockaddr_in me = { .sin_family = AF_INET }, from;
	socklen_t sl = sizeof(from);
	uint32_t srcs[MAX_SRC];
	long cnt[MAX_SRC], received = 0;
	int n = 0, k, fd;
	uint8_t buf[2048];
	double t_end = xp_mono_s() + o->duration;
	ssize_t len;

	fd = socket(AF_INET, SOCK_DGRAM, 0);
	me.sin_port = htons((uint16_t)o->port);
	if (bind(fd, (struct sockaddr *)&me, sizeof(me))) {
		fprintf(stderr, "xpt-udp: bind port %d: %s\n", o->port, strerror(errno));
		return 1;
	}
	while (xp_mono_s() < t_end && (o->expect <= 0 || received < o->expect)) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (poll(&p, 1, 50) <= 0)
			continue;
		while ((len = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &sl)) >= 0) {
			received++;
			for (k = 0; k < n && srcs[k] != from.sin_addr.s_addr; k++)
				;
			if (k == n && n < MAX_SRC) {
				srcs[n] = from.sin_addr.s_addr;
				cnt[n++] = 0;
			}
			if (k < n)
				cnt[k]++;
			if (o->reply && xpro_in_testbed(from.sin_addr.s_addr))
				sendto(fd, buf, (size_t)len, 0, (struct sockaddr *)&from, sl);
		}
	}
	printf("{\"received\":%ld,\"sources\":{", received);
	for (k = 0; k < n; k++) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &srcs[k], a, sizeof(a));
		printf("%s\"%s\":%ld", k ? "," : "", a, cnt[k]);
	}
	printf("}}\n");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "proxy", 1, NULL, 'P' }, { "dst", 1, NULL, 'd' }, { "dport", 1, NULL, 'D' },
		{ "count", 1, NULL, 'n' }, { "port", 1, NULL, 'p' }, { "sport", 1, NULL, 's' },
		{ "interval-us", 1, NULL, 'I' }, { "plain", 0, NULL, 'L' }, { "wait-ms", 1, NULL, 'w' },
		{ "payload", 1, NULL, 'y' }, { "duration", 1, NULL, 't' }, { "reply", 0, NULL, 'r' },
		{ "expect", 1, NULL, 'e' }, { "src", 1, NULL, 'S' }, { "help", 0, NULL, 'h' },
		{ "bind", 1, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .port = XPRO_TUN_PORT_DEFAULT, .sport = 40000, .wait_ms = 500,
			  .payload = 16, .duration = 5, .count = -1 };
	const char *mode;
	int c;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'P': if (addr_arg(optarg, &o.proxy)) return 2; break;
		case 'd': if (addr_arg(optarg, &o.dst)) return 2; break;
		case 'S': if (addr_arg(optarg, &o.src)) return 2; break;
		case 'B': if (addr_arg(optarg, &o.bind_addr)) return 2; break;
		case 'D': o.dport = atoi(optarg); break;
		case 'n': o.count = atol(optarg); break;
		case 'p': o.port = atoi(optarg); break;
		case 's': o.sport = atoi(optarg); break;
		case 'I': o.interval_us = atol(optarg); break;
		case 'L': o.plain = 1; break;
		case 'w': o.wait_ms = atoi(optarg); break;
		case 'y': o.payload = atoi(optarg); break;
		case 't': o.duration = atof(optarg); break;
		case 'r': o.reply = 1; break;
		case 'e': o.expect = atol(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (xpro_testbed_check("xpt-udp"))
		return 3;
	if (!strcmp(mode, "send")) {
		if (!o.dst || !o.dport || o.count < 1 || o.count > MAX_COUNT || (!o.plain && !o.proxy) ||
		    o.payload < 0 || o.payload > 1400 || o.wait_ms < 0 || o.wait_ms > 60000) {
			fprintf(stderr, "xpt-udp send: need --dst, --dport, --count 1..%ld, --proxy (unless --plain), --payload 0..1400\n",
				MAX_COUNT);
			return 2;
		}
		return do_send(&o);
	}
	if (!strcmp(mode, "echo")) {
		if (!o.port || o.duration <= 0 || o.duration > MAX_SECONDS) {
			fprintf(stderr, "xpt-udp echo: need --port and --duration in (0, %.0f] s\n", MAX_SECONDS);
			return 2;
		}
		return do_echo(&o);
	}
	usage(stderr);
	return 2;
}
