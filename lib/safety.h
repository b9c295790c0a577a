/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Testbed safety for every X-Pro traffic tool. These tools send attack
 * traffic; they must not be usable against anything real:
 *   - every destination must lie in 198.18.0.0/15 (RFC 2544 benchmarking);
 *   - they refuse to run in the initial network namespace;
 *   - they refuse to run where a route of the main table, other than
 *     loopback, leads outside 198.18.0.0/15 (a default route, say).
 */
#ifndef XPRO_SAFETY_H
#define XPRO_SAFETY_H

#include <stdint.h>

#define XPRO_TESTBED_NET   0xC6120000u /* 198.18.0.0, host order */
#define XPRO_TESTBED_MASK  0xFFFE0000u /* /15 */
#define XPRO_TESTBED_STR   "198.18.0.0/15"

/* addr in network order: 1 if inside the testbed range. */
int xpro_in_testbed(uint32_t addr);
/* A prefix (network order, length) lies wholly inside the testbed range. */
int xpro_prefix_in_testbed(uint32_t addr, int plen);
/* 0 if this process may send here; otherwise prints why (naming
 * 198.18.0.0/15) and returns -1. tool names the caller. */
int xpro_testbed_check(const char *tool);
/* Check one destination; prints the refusal. */
int xpro_check_dest(const char *tool, uint32_t addr);

#endif
