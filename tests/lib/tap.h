/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Minimal TAP producer for the C tests: tests/run.sh counts "ok",
 * "not ok" and "# SKIP" lines from every layer the same way.
 */
#ifndef XPRO_TAP_H
#define XPRO_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed;

static inline int tap_ok(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond) {
		tap_failed++;
		printf("#   failed at %s:%d\n", file, line);
	}
	fflush(stdout);
	return cond;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* Equality of unsigned 64-bit values, printing both on failure. */
#define is_u64(got, want, ...) do {                                          \
	unsigned long long g_ = (unsigned long long)(got);                   \
	unsigned long long w_ = (unsigned long long)(want);                  \
	if (!ok(g_ == w_, __VA_ARGS__))                                      \
		printf("#   got %llu, want %llu\n", g_, w_);                 \
} while (0)

static inline void tap_skip(const char *why)
{
	tap_n++;
	printf("ok %d # SKIP %s\n", tap_n, why);
	fflush(stdout);
}

static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

static inline int tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif /* XPRO_TAP_H */
