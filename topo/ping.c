// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpro-topo-ping: a bounded ICMP echo for testbed reachability checks, so
 * that the checks do not depend on iputils-ping (not among the project's
 * Debian packages). Raw socket: run as root, inside a testbed namespace.
 *
 *   xpro-topo-ping [-c COUNT] [-W TIMEOUT_S] [-i INTERVAL_S] [-q] ADDR
 *
 * Sends COUNT echo requests (default 1), INTERVAL_S apart (default 1), and
 * waits up to TIMEOUT_S (default 1) for each reply. Prints one line per reply
 * (unless -q) and a summary "N transmitted, M received". ADDR is an IPv4
 * address in 198.18.0.0/15 (ICMP echo) or an IPv6 address in 2001:db8::/32
 * (ICMPv6 echo; the testbed's IPv6 prefix, topo/README.md); it refuses to run
 * outside a testbed namespace (the checks of lib/safety.h). Exit status: 0
 * when at least one reply came back (as iputils ping), 1 when none did, 2 on
 * a usage or socket error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/icmp6.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "safety.h"
#include "clock.h"
#include "opt.h"
#include "csum.h"
#include "log.h"

#define USAGE "usage: xpro-topo-ping [-c COUNT] [-W TIMEOUT_S] [-i INTERVAL_S] [-q] ADDR\n"

/* the testbed's IPv6 prefix 2001:db8::/32 (RFC 3849), as lib/safety's 198.18.0.0/15 */
static int in_testbed6(const struct in6_addr *a)
{
	static const unsigned char pfx[4] = { 0x20, 0x01, 0x0d, 0xb8 };

	return !memcmp(a->s6_addr, pfx, sizeof(pfx));
}

/* one echo reply of ours (ID, SEQ, from DST) in BUF of N bytes, or 0; *hops its TTL
 * (IPv4: the IP header is in BUF) or -1 (IPv6: the raw socket gives the ICMPv6
 * message alone) */
static int is_reply(int v6, const unsigned char *buf, ssize_t n, uint16_t id, long seq, int *hops)
{
	if (v6) {
		const struct icmp6_hdr *r = (const struct icmp6_hdr *)buf;

		*hops = -1;
		return n >= (ssize_t)sizeof(*r) && r->icmp6_type == ICMP6_ECHO_REPLY &&
		       ntohs(r->icmp6_id) == id && ntohs(r->icmp6_seq) == (uint16_t)seq;
	} else {
		const struct iphdr *ih = (const struct iphdr *)buf;
		const struct icmphdr *r;

		if (n < (ssize_t)sizeof(*ih) || n < (ssize_t)(ih->ihl * 4 + sizeof(*r)))
			return 0;
		r = (const struct icmphdr *)(buf + ih->ihl * 4);
		*hops = ih->ttl;
		return r->type == ICMP_ECHOREPLY && ntohs(r->un.echo.id) == id &&
		       ntohs(r->un.echo.sequence) == (uint16_t)seq;
	}
}

int main(int argc, char **argv)
{
	double timeout = 1, interval = 1;
	long count = 1;
	int quiet = 0, fd, received = 0, v6;
	uint16_t id = (uint16_t)(getpid() & 0xffff);
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct sockaddr_in6 dst6 = { .sin6_family = AF_INET6 };
	const char *name;
	long seq;

	const struct xp_opt tab[] = {
		XP_LONG(NULL, 'c', &count, 1, 100000, "COUNT", "echo requests (default 1)"),
		XP_DOUBLE(NULL, 'W', &timeout, 0, 3600, "TIMEOUT_S", "wait for each reply (default 1)", .flags = XP_OPT_GT),
		XP_DOUBLE(NULL, 'i', &interval, 0, 3600, "INTERVAL_S", "between requests (default 1)", .flags = XP_OPT_GT),
		XP_FLAG(NULL, 'q', &quiet, "only the summary"),
		{ 0 },
	};
	int first = xp_opt_parse("xpro-topo-ping", USAGE, tab, argc, argv);

	xpro_prog = "xpro-topo-ping";
	if (first != argc - 1)
		xp_opt_die("xpro-topo-ping", "one ADDR expected, IPv4 or IPv6 (try -h)");
	name = argv[first];
	v6 = inet_pton(AF_INET6, name, &dst6.sin6_addr) == 1;
	if (!v6 && inet_pton(AF_INET, name, &dst.sin_addr) != 1)
		xp_opt_die("xpro-topo-ping", "'%s' is neither an IPv4 nor an IPv6 address", name);
	if (v6 && !in_testbed6(&dst6.sin6_addr)) {
		fprintf(stderr, "xpro-topo-ping: refusing destination %s: outside the testbed range 2001:db8::/32\n",
			name);
		return 2;
	}
	if ((!v6 && xpro_check_dest("xpro-topo-ping", dst.sin_addr.s_addr)) || xpro_testbed_check("xpro-topo-ping"))
		return 2;
	fd = v6 ? socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6)
		: socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd < 0) {
		pr_warn("raw %s socket: %s (run as root)\n", v6 ? "ICMPv6" : "ICMP", strerror(errno));
		return 2;
	}
	if (v6) {
		/* echo replies only (the kernel computes the ICMPv6 checksum of what we send) */
		struct icmp6_filter flt;

		ICMP6_FILTER_SETBLOCKALL(&flt);
		ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &flt);
		if (setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &flt, sizeof(flt)) < 0) {
			pr_warn("ICMP6_FILTER: %s\n", strerror(errno));
			close(fd);
			return 2;
		}
	}
	for (seq = 1; seq <= count; seq++) {
		unsigned char pkt[64], buf[1500];
		double sent, deadline, next = xp_mono_s() + interval;
		int got = 0, rc;

		memset(pkt, 0, sizeof(pkt));
		if (v6) {
			struct icmp6_hdr *ic = (struct icmp6_hdr *)pkt;

			ic->icmp6_type = ICMP6_ECHO_REQUEST;
			ic->icmp6_id = htons(id);
			ic->icmp6_seq = htons((uint16_t)seq);
			memcpy(pkt + sizeof(*ic), "xpro-topo-ping", 14);
		} else {
			struct icmphdr *ic = (struct icmphdr *)pkt;

			ic->type = ICMP_ECHO;
			ic->un.echo.id = htons(id);
			ic->un.echo.sequence = htons((uint16_t)seq);
			memcpy(pkt + sizeof(*ic), "xpro-topo-ping", 14);
			ic->checksum = xpro_csum(pkt, sizeof(pkt), 0);
		}
		sent = xp_mono_s();
		rc = v6 ? (int)sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&dst6, sizeof(dst6))
			: (int)sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&dst, sizeof(dst));
		if (rc < 0 && !quiet)
			pr_warn("send to %s: %s\n", name, strerror(errno));
		deadline = sent + timeout;
		while (!got) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			double left = deadline - xp_mono_s();
			struct sockaddr_storage from;
			socklen_t fl = sizeof(from);
			ssize_t n;
			int hops;

			if (left <= 0)
				break;
			if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
				continue;
			n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (!is_reply(v6, buf, n, id, seq, &hops))
				continue;
			if (v6 ? memcmp(&((struct sockaddr_in6 *)&from)->sin6_addr, &dst6.sin6_addr, 16)
			       : ((struct sockaddr_in *)&from)->sin_addr.s_addr != dst.sin_addr.s_addr)
				continue;
			got = 1;
			received++;
			if (!quiet && hops >= 0)
				printf("reply from %s: seq=%ld ttl=%d time=%.3f ms\n", name, seq, hops,
				       (xp_mono_s() - sent) * 1000);
			else if (!quiet)
				printf("reply from %s: seq=%ld time=%.3f ms\n", name, seq, (xp_mono_s() - sent) * 1000);
		}
		if (seq < count) {
			double w = next - xp_mono_s();

			if (w > 0) {
				struct timespec ts = { (time_t)w, (long)((w - (double)(time_t)w) * 1e9) };
				nanosleep(&ts, NULL);
			}
		}
	}
	printf("%s: %ld transmitted, %d received\n", name, count, received);
	close(fd);
	return received > 0 ? 0 : 1;
}
