// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The table-driven option parser of lib/opt.h. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "opt.h"

int xp_parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	unsigned long long x;
	char *end;

	if (!isdigit((unsigned char)s[0])) {
		/* "-1", "-0": a number, but not one an unsigned option takes */
		if (s[0] == '-' && isdigit((unsigned char)s[1])) {
			for (const char *p = s + 1; *p; p++)
				if (!isdigit((unsigned char)*p))
					return -1;
			return -2;
		}
		return -1;
	}
	errno = 0;
	x = strtoull(s, &end, 10);
	if (*end)
		return -1;
	if (errno == ERANGE || x > max)
		return -2;
	*v = x;
	return 0;
}

int xp_parse_i64(const char *s, int64_t min, int64_t max, int64_t *v)
{
	long long x;
	char *end;
	const char *d = s[0] == '-' || s[0] == '+' ? s + 1 : s;

	if (!isdigit((unsigned char)d[0]))
		return -1;
	errno = 0;
	x = strtoll(s, &end, 10);
	if (*end)
		return -1;
	if (errno == ERANGE || x < min || x > max)
		return -2;
	*v = x;
	return 0;
}

int xp_parse_double(const char *s, double min, double max, double *v)
{
	double x;
	char *end;

	if (!s[0] || isspace((unsigned char)s[0]))
		return -1;
	errno = 0;
	x = strtod(s, &end);
	if (*end || end == s)
		return -1;
	if (errno == ERANGE && (x > 1 || x < -1))
		return -2; /* 1e400 */
	if (!isfinite(x))
		return -1; /* nan, inf */
	if (!(x >= min && x <= max))
		return -2;
	*v = x;
	return 0;
}

void xp_opt_die(const char *tool, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", tool);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* "--name" or "-c" */
static const char *optname(const struct xp_opt *o, char *buf, size_t n)
{
	if (o->name)
		snprintf(buf, n, "--%s", o->name);
	else
		snprintf(buf, n, "-%c", o->shrt);
	return buf;
}

static int has_range(const struct xp_opt *o)
{
	return o->min != 0 || o->max != 0;
}

static void range_text(const struct xp_opt *o, char *buf, size_t n)
{
	if (o->type == XP_OPT_DOUBLE)
		snprintf(buf, n, o->flags & XP_OPT_GT ? "%g < value <= %g" : "%g..%g", o->min, o->max);
	else if (o->max >= 18446744073709551615.0)
		snprintf(buf, n, "%.0f..", o->min + (o->flags & XP_OPT_GT ? 1 : 0));
	else
		snprintf(buf, n, "%.0f..%.0f", o->min + (o->flags & XP_OPT_GT ? 1 : 0), o->max);
}

/* the index of val in o->arg ("a|b|c"), or "is not a, b or c" */
static const char *choice(const struct xp_opt *o, const char *val, char *why, size_t n)
{
	size_t len = strlen(val), k = 0, w;
	const char *p = o->arg;
	int i = 0;

	for (;; i++) {
		const char *e = strchr(p, '|');
		size_t l = e ? (size_t)(e - p) : strlen(p);

		if (l == len && !strncmp(p, val, l)) {
			*(int *)o->dst = i;
			return NULL;
		}
		if (!e)
			break;
		p = e + 1;
	}
	/* the list for the reason: "a|b|c" -> "a, b or c" */
	w = (size_t)snprintf(why, n, "is not ");
	for (p = o->arg; *p && w + 4 < n; p++) {
		if (*p != '|') {
			why[w++] = *p;
			continue;
		}
		k++;
		w += (size_t)snprintf(why + w, n - w, (int)k == i ? " or " : ", ");
	}
	why[w < n ? w : n - 1] = '\0';
	return why;
}

/* Store val in o->dst; NULL or the reason it is refused. */
static const char *store(const struct xp_opt *o, const char *val, char *why, size_t n)
{
	char r[96];
	int rc = 0;

	switch (o->type) {
	case XP_OPT_INT:
	case XP_OPT_LONG: {
		int64_t lo = o->type == XP_OPT_INT ? INT32_MIN : INT64_MIN;
		int64_t hi = o->type == XP_OPT_INT ? INT32_MAX : INT64_MAX;
		int64_t v;

		if (has_range(o)) {
			lo = (int64_t)o->min + (o->flags & XP_OPT_GT ? 1 : 0);
			hi = (int64_t)o->max;
		}
		rc = xp_parse_i64(val, lo, hi, &v);
		if (!rc && o->type == XP_OPT_INT)
			*(int *)o->dst = (int)v;
		else if (!rc)
			*(long *)o->dst = (long)v;
		break;
	}
	case XP_OPT_UINT:
	case XP_OPT_U64: {
		uint64_t hi = o->type == XP_OPT_UINT ? UINT32_MAX : UINT64_MAX, v;
		uint64_t lo = 0;

		if (has_range(o)) {
			lo = (uint64_t)o->min + (o->flags & XP_OPT_GT ? 1 : 0);
			if (o->max < 18446744073709551615.0)
				hi = (uint64_t)o->max;
		}
		rc = xp_parse_u64(val, hi, &v);
		if (!rc && v < lo)
			rc = -2;
		if (!rc && o->type == XP_OPT_UINT)
			*(unsigned int *)o->dst = (unsigned int)v;
		else if (!rc)
			*(uint64_t *)o->dst = v;
		break;
	}
	case XP_OPT_DOUBLE: {
		double v;

		rc = xp_parse_double(val, has_range(o) ? o->min : -HUGE_VAL, has_range(o) ? o->max : HUGE_VAL, &v);
		if (!rc && (o->flags & XP_OPT_GT) && !(v > o->min))
			rc = -2;
		if (!rc)
			*(double *)o->dst = v;
		break;
	}
	case XP_OPT_STR:
		*(const char **)o->dst = val;
		return NULL;
	case XP_OPT_IPV4: {
		struct in_addr in;

		if (inet_pton(AF_INET, val, &in) != 1)
			return "is not an IPv4 address";
		*(uint32_t *)o->dst = in.s_addr;
		return NULL;
	}
	case XP_OPT_CHOICE:
		return choice(o, val, why, n);
	case XP_OPT_FN:
		return o->fn(val, o->dst);
	default:
		return NULL;
	}
	if (rc == -1)
		return "is not a number";
	if (rc == -2) {
		if (has_range(o) || o->type == XP_OPT_UINT || o->type == XP_OPT_U64) {
			if (!has_range(o))
				snprintf(r, sizeof(r), "0..%s", o->type == XP_OPT_UINT ? "4294967295" : "18446744073709551615");
			else
				range_text(o, r, sizeof(r));
			snprintf(why, n, "is out of range (%s)", r);
		} else {
			snprintf(why, n, "is out of range");
		}
		return why;
	}
	return NULL;
}

static void fail(const char *tool, const struct xp_opt *o, const char *val, const char *why)
{
	char nb[80];

	if (val)
		fprintf(stderr, "%s: %s: \"%s\" %s\n", tool, optname(o, nb, sizeof(nb)), val, why);
	else
		fprintf(stderr, "%s: %s %s\n", tool, optname(o, nb, sizeof(nb)), why);
	exit(2);
}

static const struct xp_opt *find_long(const char *tool, const struct xp_opt *tab, const char *name, size_t len)
{
	const struct xp_opt *hit = NULL;
	int n = 0;

	for (const struct xp_opt *o = tab; o->type != XP_OPT_END; o++) {
		if (o->type == XP_OPT_TEXT || !o->name || strncmp(o->name, name, len))
			continue;
		if (strlen(o->name) == len)
			return o;
		if (!hit || hit->dst != o->dst || hit->type != o->type)
			n++;
		hit = o;
	}
	if (n > 1) {
		fprintf(stderr, "%s: option --%.*s is ambiguous (try --help)\n", tool, (int)len, name);
		exit(2);
	}
	return hit;
}

static const struct xp_opt *find_short(const struct xp_opt *tab, char c)
{
	for (const struct xp_opt *o = tab; o->type != XP_OPT_END; o++)
		if (o->type != XP_OPT_TEXT && o->shrt == c)
			return o;
	return NULL;
}

static int takes_value(const struct xp_opt *o)
{
	return o->type != XP_OPT_FLAG;
}

static void apply(const char *tool, const struct xp_opt *o, const char *val)
{
	char why[160];
	const char *r;

	if (o->type == XP_OPT_FLAG) {
		(*(int *)o->dst)++;
		return;
	}
	r = store(o, val, why, sizeof(why));
	if (r)
		fail(tool, o, val, r);
}

/* o's value: inl (--name=V, -cV), none (a flag, an optional value left
 * out) or the next argument, which is then kept among the options */
static void take(const char *tool, const struct xp_opt *o, const char *inl, int argc, char **argv, int *i, int *out)
{
	if (!takes_value(o) || inl || (o->flags & XP_OPT_OPTARG)) {
		apply(tool, o, inl);
	} else if (*i + 1 < argc) {
		argv[(*out)++] = argv[++*i];
		apply(tool, o, argv[*i]);
	} else {
		fail(tool, o, NULL, "needs a value");
	}
}

int xp_opt_parse(const char *tool, const char *usage, const struct xp_opt *tab, int argc, char **argv)
{
	char **operands = calloc((size_t)argc + 1, sizeof(*operands));
	int nops = 0, out = 1, i;

	if (!operands) {
		fprintf(stderr, "%s: out of memory\n", tool);
		exit(2);
	}
	for (i = 1; i < argc; i++) {
		char *a = argv[i];

		if (!strcmp(a, "--")) {
			argv[out++] = a;
			for (i++; i < argc; i++)
				operands[nops++] = argv[i];
			break;
		}
		if (a[0] != '-' || !a[1]) {
			operands[nops++] = a;
			continue;
		}
		argv[out++] = a;
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			const struct xp_opt *o = find_long(tool, tab, name, len);

			if (!o && len && !strncmp(name, "help", len)) {
				xp_opt_usage(stdout, usage, tab);
				exit(0);
			}
			if (!o && len == 7 && !strncmp(name, "version", 7)) {
				printf("%s %s\n", tool, XP_VERSION);
				exit(0);
			}
			if (!o) {
				fprintf(stderr, "%s: unknown option --%.*s (try --help)\n", tool, (int)len, name);
				exit(2);
			}
			if (!takes_value(o) && eq) {
				fprintf(stderr, "%s: --%s takes no value\n", tool, o->name);
				exit(2);
			}
			take(tool, o, eq ? eq + 1 : NULL, argc, argv, &i, &out);
			continue;
		}
		for (const char *p = a + 1; *p; p++) {
			const struct xp_opt *o = find_short(tab, *p);

			if (!o && *p == 'h') {
				xp_opt_usage(stdout, usage, tab);
				exit(0);
			}
			if (!o) {
				fprintf(stderr, "%s: unknown option -%c (try --help)\n", tool, *p);
				exit(2);
			}
			take(tool, o, p[1] ? p + 1 : NULL, argc, argv, &i, &out);
			if (takes_value(o))
				break;
		}
	}
	for (i = 0; i < nops; i++)
		argv[out + i] = operands[i];
	free(operands);
	return out;
}

void xp_opt_usage(FILE *f, const char *usage, const struct xp_opt *tab)
{
	if (usage)
		fputs(usage, f);
	for (const struct xp_opt *o = tab; o->type != XP_OPT_END; o++) {
		char left[64];
		int n = 0;

		if (o->type == XP_OPT_TEXT) {
			fprintf(f, "%s\n", o->help ? o->help : "");
			continue;
		}
		if (!o->help)
			continue; /* undocumented alias */
		if (o->shrt && o->name)
			n = snprintf(left, sizeof(left), "-%c, --%s", o->shrt, o->name);
		else if (o->shrt)
			n = snprintf(left, sizeof(left), "-%c", o->shrt);
		else
			n = snprintf(left, sizeof(left), "--%s", o->name);
		if (o->arg && takes_value(o) && n > 0 && (size_t)n < sizeof(left))
			snprintf(left + n, sizeof(left) - (size_t)n, (o->flags & XP_OPT_OPTARG) ? "[=%s]" : " %s",
				 o->arg);
		if (strlen(left) > 20) /* a long left column gets a line of its own */
			fprintf(f, "  %s\n  %-20s ", left, "");
		else
			fprintf(f, "  %-20s ", left);
		/* continuation lines of help align under its first */
		for (const char *h = o->help; *h; h++) {
			fputc(*h, f);
			if (*h == '\n' && h[1])
				fprintf(f, "  %-20s ", "");
		}
		fputc('\n', f);
	}
}
