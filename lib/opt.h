/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * One table-driven option parser for every X-Pro tool. One row per option
 * gives its parsing, its range check and its line of --help; the table ends
 * with a zeroed row ({ 0 }).
 *
 *   static int quiet; static double duration = -1;
 *   static const struct xp_opt tab[] = {
 *       XP_TEXT("Options:"),
 *       XP_DOUBLE("duration", 0, &duration, 0, 3600, "S", "run time (required)", .flags = XP_OPT_GT),
 *       XP_FLAG("quiet", 'q', &quiet, "no progress lines"),
 *       { 0 },
 *   };
 *   int first = xp_opt_parse("xpro-foo", "usage: xpro-foo --duration S [options]\n", tab, argc, argv);
 *
 * Syntax: --name VALUE, --name=VALUE, a unique prefix of a long name
 * (--dur 5), -c VALUE, -cVALUE, bundled short flags (-qv), "--" ends the
 * options. Operands may come before, between or after the options: the
 * parser moves them to the end of argv (as GNU getopt does) and returns the
 * index of the first one. --help (and -h unless a row claims 'h') prints the
 * usage to stdout and exits 0; --version prints "TOOL XP_VERSION" and exits 0.
 *
 * Numbers are strict: the whole string must parse, in base 10, no blanks,
 * no sign for unsigned types, finite doubles only, inside [min, max]
 * (integers: max >= 2^64 means no upper bound). Any error -- unknown
 * option, missing argument, "10x", "nan", "inf", "-1", overflow, "", out of
 * range, a callback's refusal -- prints ONE line to stderr naming the tool
 * and the option, e.g.
 *   xpro-bot: --duration: "10x" is not a number
 * and exits with status 2.
 */
#ifndef XP_OPT_H
#define XP_OPT_H

#include <stdint.h>
#include <stdio.h>

enum xp_opt_type {
	XP_OPT_END = 0, /* the zeroed row that ends a table */
	XP_OPT_FLAG,    /* no value; int *dst is incremented (0 -> 1, -vv -> 2) */
	XP_OPT_INT,     /* int *dst, in [min, max] */
	XP_OPT_LONG,    /* long *dst */
	XP_OPT_UINT,    /* unsigned int *dst, no sign */
	XP_OPT_U64,     /* uint64_t *dst, no sign */
	XP_OPT_DOUBLE,  /* double *dst, finite */
	XP_OPT_STR,     /* const char **dst = the argument itself */
	XP_OPT_IPV4,    /* uint32_t *dst, network order (inet_pton) */
	XP_OPT_CHOICE,  /* int *dst = the value's index in arg, "a|b|c" (a -> 0) */
	XP_OPT_FN,      /* fn(value, dst): NULL or the reason it refuses */
	XP_OPT_TEXT,    /* not an option: help is printed as is in the usage */
};

enum {
	XP_OPT_GT = 1,     /* min is exclusive: value > min */
	XP_OPT_OPTARG = 2, /* the value is optional (--name or --name=VALUE; fn gets NULL) */
};

struct xp_opt {
	const char *name;         /* long name without "--", or NULL (short only) */
	char shrt;                /* short letter or 0 */
	enum xp_opt_type type;
	void *dst;
	double min, max;          /* numbers only; both 0: no range check */
	const char *arg;          /* metavar in the usage ("S", "ADDR") */
	const char *help;         /* one line (may hold \n for more) */
	/* XP_OPT_FN: NULL on success, else a reason printed after the value,
	 * e.g. "is not tunnel or inline". */
	const char *(*fn)(const char *val, void *dst);
	int flags;                /* XP_OPT_GT, XP_OPT_OPTARG */
};

/* Rows; extra designated fields may follow (.flags = XP_OPT_GT). */
#define XP_ROW(t, n, s, d, lo, hi, a, h, ...) \
	{ .name = (n), .shrt = (s), .type = (t), .dst = (d), .min = (lo), .max = (hi), .arg = (a), .help = (h), __VA_ARGS__ }
#define XP_FLAG(n, s, d, h, ...) XP_ROW(XP_OPT_FLAG, n, s, d, 0, 0, NULL, h, __VA_ARGS__)
#define XP_INT(n, s, d, lo, hi, a, h, ...) XP_ROW(XP_OPT_INT, n, s, d, lo, hi, a, h, __VA_ARGS__)
#define XP_LONG(n, s, d, lo, hi, a, h, ...) XP_ROW(XP_OPT_LONG, n, s, d, lo, hi, a, h, __VA_ARGS__)
#define XP_UINT(n, s, d, lo, hi, a, h, ...) XP_ROW(XP_OPT_UINT, n, s, d, lo, hi, a, h, __VA_ARGS__)
#define XP_U64(n, s, d, lo, hi, a, h, ...) XP_ROW(XP_OPT_U64, n, s, d, lo, hi, a, h, __VA_ARGS__)
#define XP_DOUBLE(n, s, d, lo, hi, a, h, ...) XP_ROW(XP_OPT_DOUBLE, n, s, d, lo, hi, a, h, __VA_ARGS__)
#define XP_STR(n, s, d, a, h, ...) XP_ROW(XP_OPT_STR, n, s, d, 0, 0, a, h, __VA_ARGS__)
#define XP_IPV4(n, s, d, a, h, ...) XP_ROW(XP_OPT_IPV4, n, s, d, 0, 0, a, h, __VA_ARGS__)
#define XP_CHOICE(n, s, d, a, h, ...) XP_ROW(XP_OPT_CHOICE, n, s, d, 0, 0, a, h, __VA_ARGS__)
#define XP_FN(n, s, f, d, a, h, ...) XP_ROW(XP_OPT_FN, n, s, d, 0, 0, a, h, .fn = (f), __VA_ARGS__)
#define XP_TEXT(h) { .type = XP_OPT_TEXT, .help = (h) }

/* The version of every X-Pro tool (debian/changelog says the same). */
#define XP_VERSION "0.1.0"

/* a number macro as a string, for help texts: XP_STRINGIFY(MAX_SECONDS) */
#define XP_STRINGIFY_(x) #x
#define XP_STRINGIFY(x) XP_STRINGIFY_(x)

/* Parse argv[1..argc-1] against tab; returns the index of the first operand
 * (argc if none). Exits 2 on any error (one line on stderr), 0 after --help. */
int xp_opt_parse(const char *tool, const char *usage, const struct xp_opt *tab, int argc, char **argv);

/* usage text, then one line per row of tab. */
void xp_opt_usage(FILE *f, const char *usage, const struct xp_opt *tab);

/* The number parsers behind the table, for callbacks and other strings:
 * 0 on success, -1 not a number (or not finite), -2 out of range or
 * overflow. Same rules as above; min/max of the range inclusive. */
int xp_parse_i64(const char *s, int64_t min, int64_t max, int64_t *v);
int xp_parse_u64(const char *s, uint64_t max, uint64_t *v);
int xp_parse_double(const char *s, double min, double max, double *v);

/* Print "TOOL: MSG\n" (printf-style) to stderr and exit 2: for the checks
 * a tool makes after parsing (a required option missing, two that go
 * together). */
void xp_opt_die(const char *tool, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));

#endif
