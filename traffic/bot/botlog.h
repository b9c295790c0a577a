/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xpro-bot's logs (the brief's common formats): a CSV row per second and
 * (src, dst, class) with nonzero packets,
 *   ts,src,dst,class,packets,bytes
 * and a summary JSON at exit. src/dst are the victim-facing (inner)
 * addresses, bytes the inner IPv4 lengths (IPv6: the addresses' IPv6 names,
 * 2001:db8:: + the IPv4 address the bot works with, and the IPv6 lengths).
 */
#ifndef XPRO_BOTLOG_H
#define XPRO_BOTLOG_H

#include <stdint.h>
#include <stdio.h>
#include "clock.h"

struct botlog_ent {
	uint32_t src, dst; /* network order; src == 0 && dst == 0: empty */
	uint64_t packets, bytes;
};

struct botlog {
	FILE *f;           /* NULL: no CSV */
	const char *cls;
	int64_t ts;        /* the open bucket (Unix seconds) */
	struct botlog_ent *tab;
	uint32_t cap, used;
	uint64_t packets, bytes; /* totals */
	int64_t started;
	int v6;            /* 1: the addresses are written as their IPv6 names (lib/inet6.h) */
};

int botlog_open(struct botlog *l, const char *path, const char *cls);
/* Count n packets of len bytes each at second ts. */
int botlog_add(struct botlog *l, int64_t ts, uint32_t src, uint32_t dst, uint64_t n, uint64_t bytes);
/* Write the open bucket. */
void botlog_flush(struct botlog *l);
void botlog_close(struct botlog *l);
int botlog_summary(const struct botlog *l, const char *path, uint64_t seed, int64_t ended, uint64_t errors);

#endif
