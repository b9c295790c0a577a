// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of lib/opt.c, the option parser of every tool: each number
 * class (int, long, uint, u64, double) with a valid value, "10x", "nan",
 * "inf", "-1", an overflow, "" and a value out of range; flags, strings,
 * IPv4, callbacks, unknown options, a missing value, operands, --help.
 * An error must be exactly one stderr line naming the tool and the option,
 * and exit status 2. Each case runs the parser in a child process.
 */
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include "tap.h"
#include "opt.h"

static int i_val, flag_q, flag_v;
static long l_val;
static unsigned int u_val;
static uint64_t u64_val;
static double d_val, pos_val;
static const char *s_val;
static uint32_t ip_val;
static int mode_val, pick_val = -1;

static const char *mode_fn(const char *val, void *dst)
{
	if (!val || !strcmp(val, "a"))
		*(int *)dst = 1;
	else if (!strcmp(val, "b"))
		*(int *)dst = 2;
	else
		return "is not a or b";
	return NULL;
}

static const struct xp_opt tab[] = {
	XP_TEXT("Options:"),
	XP_INT("int", 'i', &i_val, -5, 100, "N", "an int in -5..100"),
	XP_LONG("long", 0, &l_val, 0, 0, "N", "any long"),
	XP_UINT("uint", 'u', &u_val, 1, 65535, "N", "a port"),
	XP_U64("u64", 0, &u64_val, 0, 0, "N", "any u64"),
	XP_DOUBLE("dbl", 'd', &d_val, 0, 1e6, "X", "a double in 0..1e6"),
	XP_DOUBLE("pos", 0, &pos_val, 0, 3600, "S", "0 < S <= 3600", .flags = XP_OPT_GT),
	XP_STR("str", 's', &s_val, "S", "a string"),
	XP_IPV4("addr", 0, &ip_val, "A", "an address"),
	XP_FN("mode", 0, mode_fn, &mode_val, "a|b", "a callback", .flags = XP_OPT_OPTARG),
	XP_CHOICE("pick", 0, &pick_val, "red|green|blue", "a keyword"),
	XP_FLAG("quiet", 'q', &flag_q, "quiet"),
	XP_FLAG("verbose", 'v', &flag_v, "more"),
	{ 0 },
};

struct res {
	int status;     /* exit status, or 100 + index of the first operand */
	int lines;      /* stderr lines */
	char err[512];  /* stderr */
	char out[4096]; /* stdout */
};

static void slurp(int fd, char *buf, size_t n)
{
	size_t got = 0;
	ssize_t r;

	while (got + 1 < n && (r = read(fd, buf + got, n - 1 - got)) > 0)
		got += (size_t)r;
	buf[got] = '\0';
}

/* parse ARGS (NULL-terminated after the tool name) in a child; the child
 * writes the parsed values to stdout and exits 100 + first operand */
static struct res run(const char *a0, ...)
{
	char *argv[16];
	int argc = 0, pe[2], po[2];
	struct res r;
	va_list ap;
	pid_t pid;

	memset(&r, 0, sizeof(r));
	argv[argc++] = "tool";
	va_start(ap, a0);
	for (const char *a = a0; a && argc < 15; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	if (pipe(pe) || pipe(po))
		return r;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int first;

		dup2(pe[1], 2);
		dup2(po[1], 1);
		close(pe[0]);
		close(po[0]);
		first = xp_opt_parse("tool", "usage: tool [options] [FILE...]\n", tab, argc, argv);
		printf("i=%d l=%ld u=%u u64=%llu d=%g pos=%g s=%s ip=%08x mode=%d q=%d v=%d pick=%d ops=", i_val,
		       l_val, u_val, (unsigned long long)u64_val, d_val, pos_val, s_val ? s_val : "-", ip_val,
		       mode_val, flag_q, flag_v, pick_val);
		for (int k = first; k < argc; k++)
			printf("%s%s", argv[k], k + 1 < argc ? "," : "");
		fflush(stdout);
		_exit(100 + first);
	}
	close(pe[1]);
	close(po[1]);
	slurp(po[0], r.out, sizeof(r.out));
	slurp(pe[0], r.err, sizeof(r.err));
	close(pe[0]);
	close(po[0]);
	waitpid(pid, &r.status, 0);
	r.status = WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1;
	for (const char *p = r.err; *p; p++)
		r.lines += *p == '\n';
	return r;
}

/* an error: status 2, one stderr line, naming the tool and OPT */
static void bad(const char *opt, const char *a, const char *b)
{
	struct res r = run(a, b, NULL);

	if (!ok(r.status == 2 && r.lines == 1 && !strncmp(r.err, "tool: ", 6) && strstr(r.err, opt),
		"refused: %s '%s'", a, b ? b : ""))
		tap_diag("status %d, %d lines: %s", r.status, r.lines, r.err);
}

/* parsed: status 100 + first operand, nothing on stderr, stdout has WANT */
#define GOOD(first, want, ...) do {                                                    \
	struct res r_ = run(__VA_ARGS__, NULL);                                         \
	if (!ok(r_.status == 100 + (first) && !r_.err[0] && strstr(r_.out, want),        \
		"parsed: " #__VA_ARGS__ " -> " want))                                   \
		tap_diag("status %d, out %s, err %s", r_.status, r_.out, r_.err);       \
} while (0)

/* OPT refused with each of the values every number option refuses, then
 * with each of the NULL-terminated extra values */
static void bad_each(const char *opt, ...)
{
	static const char *const all[] = { "10x", "nan", "inf", "", "99999999999999999999", NULL };
	const char *v;
	va_list ap;

	for (int k = 0; all[k]; k++)
		bad(opt, opt, all[k]);
	va_start(ap, opt);
	while ((v = va_arg(ap, const char *)))
		bad(opt, opt, v);
	va_end(ap);
}

int main(void)
{
	struct res r;

	/* int in -5..100 */
	GOOD(3, "i=42 ", "--int", "42");
	GOOD(2, "i=-5 ", "--int=-5");
	GOOD(2, "i=100 ", "-i100");
	bad_each("--int", "-6", "101", "4.5", " 5", "+x", NULL);
	bad("--int", "-i", "10x"); /* the short form is named by its long name */
	/* long, no range: the type's range */
	GOOD(2, "l=-9223372036854775808 ", "--long=-9223372036854775808");
	bad_each("--long", "9223372036854775808", "-9223372036854775809", NULL);
	/* uint in 1..65535 */
	GOOD(2, "u=65535 ", "--uint=65535");
	GOOD(2, "u=1 ", "-u1");
	bad_each("--uint", "0", "65536", "-1", "+1", NULL);
	/* u64, no range: 0..2^64-1 */
	GOOD(2, "u64=18446744073709551615 ", "--u64=18446744073709551615");
	GOOD(2, "u64=0 ", "--u64=0");
	bad_each("--u64", "18446744073709551616", "-1", "0x10", NULL);
	/* double in 0..1e6 */
	GOOD(2, "d=0.5 ", "--dbl=0.5");
	GOOD(2, "d=1e+06 ", "--dbl=1e6");
	GOOD(2, "d=0 ", "--dbl=0");
	bad_each("--dbl", "-inf", "-1", "1e400", "1000001", "0x", NULL);
	bad("--dbl", "-d", "x");
	/* double with an exclusive minimum: 0 < S <= 3600 */
	GOOD(2, "pos=0.001 ", "--pos=0.001");
	GOOD(2, "pos=3600 ", "--pos=3600");
	bad_each("--pos", "0", "3600.5", NULL);
	/* strings, addresses, callbacks */
	GOOD(3, "s=hello world ", "--str", "hello world");
	GOOD(3, "s=-x ", "--str", "-x"); /* a value may start with '-' */
	GOOD(2, "s= ", "--str=");
	GOOD(3, "ip=010012c6 ", "--addr", "198.18.0.1");
	bad("--addr", "--addr", "198.18.0.256");
	bad("--addr", "--addr", "");
	GOOD(2, "mode=1 ", "--mode");
	GOOD(2, "mode=2 ", "--mode=b");
	bad("--mode", "--mode=c", NULL);
	r = run("--mode=c", NULL);
	ok(!strcmp(r.err, "tool: --mode: \"c\" is not a or b\n"), "a callback's reason in the line");
	/* keywords: the index in the list */
	GOOD(2, "pick=0 ", "--pick=red");
	GOOD(3, "pick=2 ", "--pick", "blue");
	bad("--pick", "--pick", "blu");
	bad("--pick", "--pick", "");
	r = run("--pick", "pink", NULL);
	ok(!strcmp(r.err, "tool: --pick: \"pink\" is not red, green or blue\n"), "the line names the keywords");
	r = run("--int", "10x", NULL);
	ok(!strcmp(r.err, "tool: --int: \"10x\" is not a number\n"), "the line for 10x");
	r = run("--uint", "70000", NULL);
	ok(!strcmp(r.err, "tool: --uint: \"70000\" is out of range (1..65535)\n"), "the line for a range");
	/* flags: bundled, repeated, no value */
	GOOD(2, "q=1 v=0 ", "-q");
	GOOD(2, "q=1 v=2 ", "-qvv");
	GOOD(3, "q=1 v=1 ", "--quiet", "--verb");
	bad("--quiet", "--quiet=1", NULL);
	/* unknown options, missing values, ambiguous prefixes */
	bad("--nope", "--nope", NULL);
	bad("-z", "-z", NULL);
	bad("--int", "--int", NULL);
	bad("--uint", "-u", NULL);
	bad("--u", "--u", "5"); /* --uint or --u64 */
	/* unique prefix, operands before, between and after options, "--" */
	GOOD(3, "d=2 ", "--db", "2");
	GOOD(3, "i=1 l=0 u=0 u64=0 d=0 pos=0 s=- ip=00000000 mode=0 q=1 v=0 pick=-1 ops=a,b,c", "a", "-q", "b", "--int=1",
	     "c");
	GOOD(3, "q=1 v=0 pick=-1 ops=-v,--int", "-q", "--", "-v", "--int");
	GOOD(1, "ops=-", "-"); /* "-" is an operand (stdin) */
	/* --help: usage and every documented row on stdout, exit 0 */
	r = run("--help", NULL);
	ok(r.status == 0 && !r.err[0] && strstr(r.out, "usage: tool [options]") && strstr(r.out, "Options:\n") &&
		   strstr(r.out, "  -i, --int N          an int in -5..100\n") &&
		   strstr(r.out, "  --mode[=a|b]         a callback\n"),
	   "--help prints the usage from the table");
	r = run("-h", NULL);
	ok(r.status == 0 && strstr(r.out, "  -q, --quiet          quiet\n"), "-h is --help");
	return tap_done();
}
