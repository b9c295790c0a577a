/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Testbed safety for every X-Pro traffic tool. These tools send attack
 * traffic; they must not be usable against anything real:
 *   - every destination must lie in 198.18.0.0/15 (RFC 2544 benchmarking),
 *     or for IPv6 in 2001:db8::/32 (RFC 3849 documentation); a v4-mapped
 *     IPv6 destination (::ffff:a.b.c.d) only when a.b.c.d is in 198.18.0.0/15;
 *   - they refuse to run in the initial network namespace;
 *   - they refuse to run where a route of the main table, other than
 *     loopback, leads outside 198.18.0.0/15 (a default route, say), or an
 *     IPv6 route outside 2001:db8::/32 (link-local fe80::/10, multicast
 *     ff00::/8 and the kernel's local routes aside).
 */
#ifndef XPRO_SAFETY_H
#define XPRO_SAFETY_H

#include <stdint.h>
#include <netinet/in.h>

#define XPRO_TESTBED_NET   0xC6120000u /* 198.18.0.0, host order */
#define XPRO_TESTBED_MASK  0xFFFE0000u /* /15 */
#define XPRO_TESTBED_STR   "198.18.0.0/15"
#define XPRO_TESTBED6_STR  "2001:db8::/32"

/* addr in network order: 1 if inside the testbed range. */
int xpro_in_testbed(uint32_t addr);
/* A prefix (network order, length) lies wholly inside the testbed range. */
int xpro_prefix_in_testbed(uint32_t addr, int plen);
/* 0 if this process may send here; otherwise prints why (naming
 * 198.18.0.0/15) and returns -1. tool names the caller. */
int xpro_testbed_check(const char *tool);
/* Check one destination; prints the refusal. */
int xpro_check_dest(const char *tool, uint32_t addr);

/* IPv6 (16 bytes, network order): 1 if inside 2001:db8::/32, or v4-mapped
 * with its IPv4 address inside 198.18.0.0/15. */
int xpro_in_testbed6(const struct in6_addr *a);
/* An IPv6 prefix lies wholly inside 2001:db8::/32 (length 32..128). */
int xpro_prefix6_in_testbed(const struct in6_addr *a, int plen);
/* Check one IPv6 destination; prints "TOOL: refusing destination ADDR: ..." */
int xpro_check_dest6(const char *tool, const struct in6_addr *a);

#endif
