/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* One logging header for every X-Pro tool: levels, one format. */
#ifndef XPRO_LOG_H
#define XPRO_LOG_H

#include <stdio.h>

enum xpro_log_level { XPRO_LOG_WARN = 0, XPRO_LOG_INFO = 1, XPRO_LOG_DEBUG = 2 };

extern int xpro_log_level;
extern const char *xpro_prog;

#define pr_warn(fmt, ...) fprintf(stderr, "%s: " fmt, xpro_prog, ##__VA_ARGS__)
#define pr_info(fmt, ...) do { if (xpro_log_level >= XPRO_LOG_INFO) \
	fprintf(stderr, "%s: " fmt, xpro_prog, ##__VA_ARGS__); } while (0)
#define pr_debug(fmt, ...) do { if (xpro_log_level >= XPRO_LOG_DEBUG) \
	fprintf(stderr, "%s: debug: " fmt, xpro_prog, ##__VA_ARGS__); } while (0)

/* Route libbpf's own messages through our levels (debug unless -vv). */
void xpro_log_libbpf(void);

#endif
