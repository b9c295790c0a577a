// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "safety.h"

int xpro_in_testbed(uint32_t addr)
{
	return (ntohl(addr) & XPRO_TESTBED_MASK) == XPRO_TESTBED_NET;
}

int xpro_prefix_in_testbed(uint32_t addr, int plen)
{
	return plen >= 15 && plen <= 32 && xpro_in_testbed(addr);
}

int xpro_check_dest(const char *tool, uint32_t addr)
{
	char a[INET_ADDRSTRLEN];

	if (xpro_in_testbed(addr))
		return 0;
	inet_ntop(AF_INET, &addr, a, sizeof(a));
	fprintf(stderr, "%s: refusing destination %s: outside the testbed range %s\n", tool, a, XPRO_TESTBED_STR);
	return -1;
}

static int in_db8(const struct in6_addr *a)
{
	return a->s6_addr[0] == 0x20 && a->s6_addr[1] == 0x01 && a->s6_addr[2] == 0x0d && a->s6_addr[3] == 0xb8;
}

int xpro_in_testbed6(const struct in6_addr *a)
{
	uint32_t v4;

	if (in_db8(a))
		return 1;
	if (!IN6_IS_ADDR_V4MAPPED(a))
		return 0;
	memcpy(&v4, a->s6_addr + 12, 4);
	return xpro_in_testbed(v4);
}

int xpro_prefix6_in_testbed(const struct in6_addr *a, int plen)
{
	return plen >= 32 && plen <= 128 && in_db8(a);
}

int xpro_check_dest6(const char *tool, const struct in6_addr *a)
{
	char t[INET6_ADDRSTRLEN];

	if (xpro_in_testbed6(a))
		return 0;
	inet_ntop(AF_INET6, a, t, sizeof(t));
	if (IN6_IS_ADDR_V4MAPPED(a))
		fprintf(stderr, "%s: refusing destination %s: a v4-mapped address outside the testbed range %s\n",
			tool, t, XPRO_TESTBED_STR);
	else
		fprintf(stderr, "%s: refusing destination %s: outside the testbed range %s\n", tool, t,
			XPRO_TESTBED6_STR);
	return -1;
}

/* The initial network namespace's inode on kernels >= 6.x (PROC_NET_INIT_INO). */
#define NET_INIT_INO 0xEFFFFFF9UL

static int in_init_netns(void)
{
	struct stat self, init;

	if (stat("/proc/self/ns/net", &self))
		return 1; /* cannot tell: assume the worst */
	if (self.st_ino == NET_INIT_INO)
		return 1;
	/* older kernels number init_net dynamically: compare with PID 1 when we may */
	if (!stat("/proc/1/ns/net", &init))
		return self.st_ino == init.st_ino && self.st_dev == init.st_dev;
	return 0;
}

/* Every IPv4 route of the main table (/proc/net/route) must stay inside
 * the testbed range; loopback routes are not listed there. */
static int routes_leave_testbed(const char *tool)
{
	char line[512], ifname[64];
	unsigned int dest, gw, flags, refcnt, use, metric, mask;
	FILE *f = fopen("/proc/net/route", "r");
	int bad = 0;

	if (!f) {
		fprintf(stderr, "%s: cannot read /proc/net/route; refusing to send (testbed range %s)\n",
			tool, XPRO_TESTBED_STR);
		return 1;
	}
	if (!fgets(line, sizeof(line), f)) { /* header */
		fclose(f);
		return 0;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %x %x %x %u %u %u %x", ifname, &dest, &gw, &flags, &refcnt,
			   &use, &metric, &mask) != 8)
			continue;
		if (!strcmp(ifname, "lo"))
			continue;
		/* values are in network order as read from memory */
		if (!xpro_in_testbed(dest) || (ntohl(mask) & XPRO_TESTBED_MASK) != XPRO_TESTBED_MASK) {
			char d[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, &dest, d, sizeof(d));
			fprintf(stderr, "%s: refusing to run: route %s/%d via %s leads outside the testbed range %s\n",
				tool, d, __builtin_popcount(mask), ifname, XPRO_TESTBED_STR);
			bad = 1;
		}
	}
	fclose(f);
	return bad;
}

static int hexbytes(const char *h, uint8_t *out, int n)
{
	for (int i = 0; i < n; i++) {
		unsigned int v;

		if (sscanf(h + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	return 0;
}

/* Every IPv6 route (/proc/net/ipv6_route, all tables) must stay inside
 * 2001:db8::/32, except loopback's, the kernel's local routes (RTF_LOCAL),
 * link-local fe80::/10 and multicast ff00::/8, which lead nowhere beyond
 * the link. No file (IPv6 off): nothing to check. */
#define RTF_LOCAL6 0x80000000u
static int routes6_leave_testbed(const char *tool)
{
	char line[512], dst[40], src[40], nh[40], ifname[64];
	unsigned int dlen, slen, metric, refcnt, use, flags;
	FILE *f = fopen("/proc/net/ipv6_route", "r");
	int bad = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		struct in6_addr d;
		char t[INET6_ADDRSTRLEN];

		if (sscanf(line, "%32s %x %32s %x %32s %x %x %x %x %63s", dst, &dlen, src, &slen, nh, &metric,
			   &refcnt, &use, &flags, ifname) != 10 || hexbytes(dst, d.s6_addr, 16))
			continue;
		if (!strcmp(ifname, "lo") || (flags & RTF_LOCAL6))
			continue;
		if ((dlen >= 10 && d.s6_addr[0] == 0xfe && (d.s6_addr[1] & 0xc0) == 0x80) ||
		    (dlen >= 8 && d.s6_addr[0] == 0xff) || xpro_prefix6_in_testbed(&d, (int)dlen))
			continue;
		inet_ntop(AF_INET6, &d, t, sizeof(t));
		fprintf(stderr, "%s: refusing to run: route %s/%u via %s leads outside the testbed range %s\n", tool,
			t, dlen, ifname, XPRO_TESTBED6_STR);
		bad = 1;
	}
	fclose(f);
	return bad;
}

int xpro_testbed_check(const char *tool)
{
	if (in_init_netns()) {
		fprintf(stderr, "%s: refusing to run in the initial network namespace: run it inside a testbed namespace (addresses from %s and %s)\n",
			tool, XPRO_TESTBED_STR, XPRO_TESTBED6_STR);
		return -1;
	}
	if (routes_leave_testbed(tool) | routes6_leave_testbed(tool))
		return -1;
	return 0;
}
