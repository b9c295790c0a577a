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
 * (unless -q) and a summary "N transmitted, M received". Destinations must lie
 * in 198.18.0.0/15, and it refuses to run outside a testbed namespace (the
 * checks of lib/safety.h). Exit status: 0 when at least one reply came back (as
 * iputils ping), 1 when none did, 2 on a usage or socket error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
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

int main(int argc, char **argv)
{
	double timeout = 1, interval = 1;
	long count = 1;
	int quiet = 0, fd, received = 0;
	uint16_t id = (uint16_t)(getpid() & 0xffff);
	struct sockaddr_in dst = { .sin_family = AF_INET };
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
	if (first != argc - 1 || inet_pton(AF_INET, argv[first], &dst.sin_addr) != 1)
		xp_opt_die("xpro-topo-ping", "one IPv4 ADDR expected (try -h)");
	if (xpro_check_dest("xpro-topo-ping", dst.sin_addr.s_addr) || xpro_testbed_check("xpro-topo-ping"))
		return 2;
	fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (fd < 0) {
		pr_warn("raw ICMP socket: %s (run as root)\n", strerror(errno));
		return 2;
	}
	for (seq = 1; seq <= count; seq++) {
		unsigned char pkt[64], buf[1500];
		struct icmphdr *ic = (struct icmphdr *)pkt;
		double sent, deadline, next = xp_mono_s() + interval;
		int got = 0;

		memset(pkt, 0, sizeof(pkt));
		ic->type = ICMP_ECHO;
		ic->un.echo.id = htons(id);
		ic->un.echo.sequence = htons((uint16_t)seq);
		memcpy(pkt + sizeof(*ic), "xpro-topo-ping", 14);
		ic->checksum = xpro_csum(pkt, sizeof(pkt), 0);
		sent = xp_mono_s();
		if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
			if (!quiet)
				pr_warn("send to %s: %s\n", argv[optind], strerror(errno));
		}
		deadline = sent + timeout;
		while (!got) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			double left = deadline - xp_mono_s();
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			const struct iphdr *ih;
			const struct icmphdr *r;
			ssize_t n;

			if (left <= 0)
				break;
			if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
				continue;
			n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
			if (n < (ssize_t)sizeof(struct iphdr))
				continue;
			ih = (const struct iphdr *)buf;
			if (n < (ssize_t)(ih->ihl * 4 + sizeof(struct icmphdr)))
				continue;
			r = (const struct icmphdr *)(buf + ih->ihl * 4);
			if (r->type != ICMP_ECHOREPLY || ntohs(r->un.echo.id) != id ||
			    ntohs(r->un.echo.sequence) != (uint16_t)seq ||
			    from.sin_addr.s_addr != dst.sin_addr.s_addr)
				continue;
			got = 1;
			received++;
			if (!quiet)
				printf("reply from %s: seq=%ld ttl=%d time=%.3f ms\n", argv[optind], seq,
				       ih->ttl, (xp_mono_s() - sent) * 1000);
		}
		if (seq < count) {
			double w = next - xp_mono_s();

			if (w > 0) {
				struct timespec ts = { (time_t)w, (long)((w - (double)(time_t)w) * 1e9) };
				nanosleep(&ts, NULL);
			}
		}
	}
	printf("%s: %ld transmitted, %d received\n", argv[optind], count, received);
	close(fd);
	return received > 0 ? 0 : 1;
}
