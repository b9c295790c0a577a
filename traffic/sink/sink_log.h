/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Per-second flow accounting shared by xpro-sink and xpro-replay:
 * class maps ("legit=198.18.16.0/20,bot=198.18.32.0/20"), a hash table of
 * (src, dst, class) counters, and the common per-second CSV
 * `ts,src,dst,class,packets,bytes` (the brief's "Common log formats").
 * Addresses are IPv4 in network byte order.
 */
#ifndef XPRO_SINK_LOG_H
#define XPRO_SINK_LOG_H

#include <stdint.h>
#include <stdio.h>
#include "flowlog.h"

#define XS_CLASS_MAX     32   /* classes in a map, plus the default */
#define XS_CLASS_NAMELEN 32

struct xs_class_map {
	int n;                          /* entries */
	uint32_t net[XS_CLASS_MAX];     /* network order */
	uint32_t mask[XS_CLASS_MAX];    /* network order */
	int cls[XS_CLASS_MAX];          /* class index of each entry */
	uint8_t v6[XS_CLASS_MAX];       /* 1: an IPv6 entry, 2001:db8::P/(96 + L) kept as P/L */
	int nclass;                     /* distinct names, default included */
	int defcls;                     /* class of addresses no entry matches */
	char name[XS_CLASS_MAX + 1][XS_CLASS_NAMELEN];
};

/* Parses "NAME=A.B.C.D/LEN,..." (may be empty); default class DEF.
 * Names: 1-31 of [A-Za-z0-9_.-]. Returns 0 or -EINVAL (message printed). */
int xs_class_map_parse(struct xs_class_map *m, const char *spec, const char *def, const char *tool);
/* Class index of an address: first matching entry, else the default. */
int xs_class_of(const struct xs_class_map *m, uint32_t addr);
/* The same for the IPv6 address whose testbed name embeds v4 (2001:db8::/96
 * + v4): only IPv6 entries match it. */
int xs_class_of6(const struct xs_class_map *m, uint32_t v4);
/* Index of a class name, adding it when absent; -ENOSPC when full. */
int xs_class_add(struct xs_class_map *m, const char *name);

/* Parses "A.B.C.D/LEN" into network-order address and length; with v6
 * non-NULL also "2001:db8::P/LEN" (LEN 96..128, *v6 = 1, address P, length
 * LEN - 96). */
int xs_parse_cidr(const char *s, uint32_t *addr, int *plen);
int xs_parse_cidr_af(const char *s, uint32_t *addr, int *plen, uint8_t *v6);

/* A flow's cls with this bit: an IPv6 flow (its src and dst the IPv4
 * addresses its testbed names embed) */
#define XS_FLOW_V6 0x80000000u

struct xs_flow {
	uint32_t src, dst;   /* network order */
	uint32_t cls;
	uint32_t used;
	uint64_t packets, bytes, requests;
};

struct xs_ftab {
	struct xs_flow *v;
	size_t cap, n, max;  /* max: entries never exceed it */
	uint64_t overflow;   /* updates refused because the table was full */
};

int xs_ftab_init(struct xs_ftab *t, size_t max);
void xs_ftab_free(struct xs_ftab *t);
void xs_ftab_clear(struct xs_ftab *t);
/* The entry of (src, dst, cls), created with zero counters when absent;
 * NULL when the table holds max entries (t->overflow counts it). */
struct xs_flow *xs_ftab_get(struct xs_ftab *t, uint32_t src, uint32_t dst, uint32_t cls);
/* Live entries copied into a new array sorted by packets (descending) when
 * by_packets, else by (src, dst, cls); caller frees. -ENOMEM. */
int xs_ftab_sorted(const struct xs_ftab *t, int by_packets, struct xs_flow **out, size_t *n);

/* Opens FILE ("-" = stdout) and writes the header (XP_FLOWLOG_HEADER for
 * the flow log, lib/flowlog.h). NULL on error (printed). */
FILE *xs_log_open(const char *path, const char *header, const char *tool);
/* One flow-log row of x (an IPv6 flow by its addresses' IPv6 names). */
void xs_flowlog_row(FILE *f, long ts, const struct xs_flow *x, const struct xs_class_map *m);
/* One row per entry with packets > 0, sorted by (src, dst, class). */
int xs_log_write_second(FILE *f, long ts, const struct xs_ftab *t, const struct xs_class_map *m);

#endif
