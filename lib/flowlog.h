/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The per-second flow log every traffic tool writes (xpro-bot, xpro-device,
 * xpro-replay: what they sent; xpro-sink: what it received):
 *
 *   ts,src,dst,class,packets,bytes
 *
 * one row per second (Unix seconds) and (src, dst, class) with packets > 0;
 * addresses dotted-quad, bytes the IPv4 lengths. analysis/ and the
 * experiments read it; this file is its one writer.
 */
#ifndef XP_FLOWLOG_H
#define XP_FLOWLOG_H

#include <stdint.h>
#include <stdio.h>

#define XP_FLOWLOG_HEADER "ts,src,dst,class,packets,bytes"

/* Open PATH for writing ("-": stdout) and write the header line. NULL with
 * errno set on failure; the caller says so. */
FILE *xp_csv_open(const char *path, const char *header);
#define xp_flowlog_open(path) xp_csv_open((path), XP_FLOWLOG_HEADER)

/* One row; src and dst in network order. */
void xp_flowlog_row(FILE *f, int64_t ts, uint32_t src, uint32_t dst, const char *cls, uint64_t packets,
		    uint64_t bytes);

/* One row of an AF_INET (4-byte) or AF_INET6 (16-byte) pair, RFC 5952 text
 * for IPv6; bytes then the IPv6 lengths (40 + payload). */
void xp_flowlog_row_af(FILE *f, int64_t ts, int af, const void *src, const void *dst, const char *cls,
		       uint64_t packets, uint64_t bytes);

/* Flush, and close unless it is stdout. NULL is fine. */
void xp_csv_close(FILE *f);

#endif
