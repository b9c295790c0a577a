/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One logging header for every X-Pro tool: every line on stderr starts
 * with the tool's name ("xpro-sink: ..."), set once at the top of main();
 * warnings always show, info with -v, debug with -vv where a tool has
 * those. The format strings carry their own "\n", as fprintf's do.
 *
 *   xpro_prog = "xpro-sink";
 *   pr_warn("open %s: %s\n", path, strerror(errno));
 *
 * (Usage errors go through lib/opt.h: one line, exit status 2.)
 */
#ifndef XP_LOG_H
#define XP_LOG_H

#include <stdio.h>

enum xpro_log_level { XPRO_LOG_WARN = 0, XPRO_LOG_INFO = 1, XPRO_LOG_DEBUG = 2 };

extern int xpro_log_level;   /* XPRO_LOG_WARN unless raised */
extern const char *xpro_prog; /* the prefix of every line */

#define pr_warn(fmt, ...) fprintf(stderr, "%s: " fmt, xpro_prog, ##__VA_ARGS__)
#define pr_info(fmt, ...) do { if (xpro_log_level >= XPRO_LOG_INFO) \
	fprintf(stderr, "%s: " fmt, xpro_prog, ##__VA_ARGS__); } while (0)
#define pr_debug(fmt, ...) do { if (xpro_log_level >= XPRO_LOG_DEBUG) \
	fprintf(stderr, "%s: debug: " fmt, xpro_prog, ##__VA_ARGS__); } while (0)

/* Route libbpf's own messages through these levels (its warnings with -v,
 * the rest with -vv). In xpro/log.c: for the programs that link libbpf. */
void xpro_log_libbpf(void);

#endif
