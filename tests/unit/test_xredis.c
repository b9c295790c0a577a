// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The sync's command batching (xpro/xredis.h): the RESP bytes it writes
 * without hiredis' printf equal hiredis' own formatting of the same
 * command, redisFormatCommandArgv and redisFormatCommand, for short, empty,
 * binary and long arguments and for the sync's big commands.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <hiredis/hiredis.h>
#include "tap.h"
#include "xredis.h"

static char *buf;
static size_t cap;

/* Our bytes of argv equal redisFormatCommandArgv's. */
static int same_as_argv(int argc, const char **v, const size_t *l)
{
	char *ref = NULL;
	int rn = redisFormatCommandArgv(&ref, argc, v, l);
	size_t n = xredis_format_argv(&buf, &cap, argc, v, l);
	int same = rn > 0 && n == (size_t)rn && !memcmp(buf, ref, n);

	if (!same)
		tap_diag("ours %zu bytes, hiredis %d", n, rn);
	free(ref);
	return same;
}

/* Our bytes of a's command equal those of hiredis' printf form (ref, rn). */
static int same_as(const struct xredis_argv *a, char *ref, int rn)
{
	size_t n = xredis_format_argv(&buf, &cap, a->n, a->v, a->l);
	int same = !a->oom && rn > 0 && n == (size_t)rn && !memcmp(buf, ref, n);

	if (!same)
		tap_diag("ours %zu bytes, hiredis %d", n, rn);
	free(ref);
	return same;
}

/* "CMD key <len bytes>" through the vector, against hiredis' "%s %s %b". */
static int same_as_b(const char *cmd, const char *key, const char *b, size_t len)
{
	static struct xredis_argv a;
	char *ref;
	int rn;

	xredis_argv_reset(&a, cmd);
	xredis_argv_str(&a, key);
	xredis_argv_mem(&a, b, len);
	rn = redisFormatCommand(&ref, "%s %s %b", cmd, key, b, len);
	return same_as(&a, ref, rn);
}

int main(void)
{
	static struct xredis_argv a;
	char *ref, bin[] = { 'a', '\0', '\r', '\n', '$', '*', (char)0xff, 'z' };
	size_t n;
	int rn, i;

	{
		const char *v[] = { "PING" };
		size_t l[] = { 4 };

		ok(same_as_argv(1, v, l), "PING");
		n = xredis_format_argv(&buf, &cap, 1, v, l);
		ok(n == 14 && !memcmp(buf, "*1\r\n$4\r\nPING\r\n", 14), "PING is *1 $4 PING, worked by hand");
	}
	{
		const char *v[] = { "HSET", "l:{198.18.1.101}", "198.18.32.5", "1000 2000 26 4 0 900 1900" };
		size_t l[] = { 4, 16, 11, 25 };

		ok(same_as_argv(4, v, l), "HSET of one L_DB value");
	}
	{
		const char *v[] = { "SET", "", "" };
		size_t l[] = { 3, 0, 0 };

		ok(same_as_argv(3, v, l), "empty arguments");
		n = xredis_format_argv(&buf, &cap, 3, v, l);
		ok(n == 25 && !memcmp(buf, "*3\r\n$3\r\nSET\r\n$0\r\n\r\n$0\r\n\r\n", 25), "an empty argument is $0 and CRLF");
	}
	{
		const char *v[] = { "RPUSH", "k", bin };
		size_t l[] = { 5, 1, sizeof(bin) };

		ok(same_as_argv(3, v, l), "a binary argument (NUL, CR, LF, '$', '*', 0xff)");
	}
	{
		size_t big = 1 << 20;
		char *s = malloc(big);
		const char *v[] = { "SET", "k", s };
		size_t l[] = { 3, 1, big };

		for (n = 0; n < big; n++)
			s[n] = (char)('a' + n % 26);
		ok(s && same_as_argv(3, v, l), "a 1 MiB argument");
		free(s);
	}
	{
		/* an HMGET of a batch of 2048 clients, the size syncdb sends */
		static char cs[2048][16];
		static const char *v[2050];
		static size_t l[2050];

		v[0] = "HMGET";
		v[1] = "l:{198.18.1.101}";
		for (i = 0; i < 2048; i++) {
			snprintf(cs[i], sizeof(cs[i]), "198.18.%d.%d", 32 + i / 256, i % 256);
			v[i + 2] = cs[i];
		}
		for (i = 0; i < 2050; i++)
			l[i] = strlen(v[i]);
		ok(same_as_argv(2050, v, l), "HMGET of 2048 fields");
		/* the same through the argument vector, which grows meanwhile */
		xredis_argv_reset(&a, "HMGET");
		xredis_argv_str(&a, "l:{198.18.1.101}");
		for (i = 0; i < 2048; i++)
			xredis_argv_str(&a, cs[i]);
		n = xredis_format_argv(&buf, &cap, a.n, a.v, a.l);
		{
			char *r2 = NULL;
			int rn2 = redisFormatCommandArgv(&r2, 2050, v, l);

			ok(a.n == 2050 && !a.oom && n == (size_t)rn2 && !memcmp(buf, r2, n),
			   "the argument vector gives the same bytes");
			free(r2);
		}
	}

	/* numbers: the digits of xredis_argv_u64 equal printf's */
	xredis_argv_reset(&a, "EVALSHA");
	xredis_argv_str(&a, "0123456789abcdef0123456789abcdef01234567");
	xredis_argv_u64(&a, 1);
	xredis_argv_str(&a, "x:{198.18.1.101}");
	xredis_argv_u64(&a, 1000000);
	xredis_argv_u64(&a, 0);
	xredis_argv_u64(&a, 9007199254740991ULL);
	xredis_argv_u64(&a, UINT64_MAX);
	xredis_argv_str(&a, "px1");
	rn = redisFormatCommand(&ref, "EVALSHA %s %d %s %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %s",
				"0123456789abcdef0123456789abcdef01234567", 1, "x:{198.18.1.101}", (uint64_t)1000000,
				(uint64_t)0, (uint64_t)9007199254740991ULL, (uint64_t)UINT64_MAX, "px1");
	ok(same_as(&a, ref, rn), "EVALSHA with numbers 0, 10^6, 2^53 - 1 and 2^64 - 1 equals hiredis' printf");

	/* %b: binary-safe in hiredis' printf, and in the vector */
	ok(same_as_b("PUBLISH", "xpro:chg", "px1\nx:{198.18.1.1}:198.18.0.1", 29),
	   "PUBLISH of a change feed message (%%b) equals hiredis' printf");
	ok(same_as_b("RPUSH", "l:{198.18.1.101}:q", bin, sizeof(bin)), "RPUSH of binary bytes (%%b) equals hiredis' printf");
	ok(same_as_b("SADD", "l:q", "", 0), "an empty %%b argument equals hiredis' printf");

	/* a command appended to a context lands in its output as it is */
	{
		redisContext *c = redisConnectUnix("/nonexistent/xpro-test.sock");
		const char *v[] = { "HMGET", "l:{198.18.1.101}", "198.18.32.5" };
		size_t l[] = { 5, 16, 11 };

		if (!c) {
			tap_skip("no hiredis context");
		} else {
			size_t before = c->obuf ? strlen(c->obuf) : 0;
			char *r2 = NULL;
			int rn2 = redisFormatCommandArgv(&r2, 3, v, l);

			ok(xredis_append_argv(c, 3, v, l) == 0 && c->obuf && strlen(c->obuf) == before + (size_t)rn2 &&
			   !memcmp(c->obuf + before, r2, (size_t)rn2), "appended: the context's output holds the same bytes");
			free(r2);
			redisFree(c);
		}
	}
	xredis_argv_free(&a);
	free(buf);
	return tap_done();
}
