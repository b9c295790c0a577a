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

int xpro_testbed_check(const char *tool)
{
	if (in_init_netns()) {
		fprintf(stderr, "%s: refusing to run in the initial network namespace: run it inside a testbed namespace (addresses from %s)\n",
			tool, XPRO_TESTBED_STR);
		return -1;
	}
	if (routes_leave_testbed(tool))
		return -1;
	return 0;
}
