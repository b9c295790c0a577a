/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What every libFuzzer target of X-Pro shares (docs/reliability.md,
 * "Fuzzing"): the parsers' warnings silenced (stderr pointed at /dev/null;
 * sanitizer and libFuzzer reports still reach fd 2), an invariant that
 * aborts with its line, and an exact-size copy of the input so that
 * AddressSanitizer sees any read past the bytes a parser was given.
 */
#ifndef XPRO_FUZZ_H
#define XPRO_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FZ_CHECK(cond)                                                                  \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(fz_err, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, \
				__LINE__);                                              \
			abort();                                                        \
		}                                                                       \
	} while (0)

static FILE *fz_err;

static inline void fz_quiet(void)
{
	FILE *null = fopen("/dev/null", "w");

	fz_err = stderr;
	if (null)
		stderr = null;
}

/* The LLVMFuzzerInitialize of a target that needs nothing but quiet. */
#define FZ_INIT_QUIET                                                \
	int LLVMFuzzerInitialize(int *argc, char ***argv);           \
	int LLVMFuzzerInitialize(int *argc, char ***argv)            \
	{                                                            \
		(void)argc;                                          \
		(void)argv;                                          \
		fz_quiet();                                          \
		return 0;                                            \
	}

/* A heap copy of exactly n bytes (at least 1 allocated: a zero-length
 * buffer is still a distinct pointer); free() it. */
static inline char *fz_dup(const uint8_t *d, size_t n)
{
	char *p = malloc(n ? n : 1);

	if (!p)
		abort();
	memcpy(p, d, n);
	return p;
}

/* The same, terminated (n + 1 bytes). */
static inline char *fz_str(const uint8_t *d, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		abort();
	memcpy(p, d, n);
	p[n] = '\0';
	return p;
}

#endif
