// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libbpf's messages through lib/log.h's levels, for the programs that link libbpf. */
#include <stdarg.h>
#include <bpf/libbpf.h>
#include "log.h" /* lib/log.h; its variables live in lib/log.c */

/* libbpf's warnings show with -v, its info and debug output with -vv. */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN && xpro_log_level < XPRO_LOG_INFO)
		return 0;
	if (level != LIBBPF_WARN && xpro_log_level < XPRO_LOG_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

void xpro_log_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
