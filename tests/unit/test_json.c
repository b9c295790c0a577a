// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of lib/json.c: strings with a quote, a backslash, a newline,
 * \x01, UTF-8 and nothing at all, written to a stream and into a buffer,
 * plus a buffer too small. Each expected string is written out by hand:
 * '"' -> \", '\' -> \\, a byte below 0x20 -> \u00XX, anything else as is.
 */
#include <string.h>
#include "tap.h"
#include "json.h"

static const struct {
	const char *in, *want;
} cases[] = {
	{ "eth0", "\"eth0\"" },
	{ "", "\"\"" },
	{ "a\"b", "\"a\\\"b\"" },
	{ "a\\b", "\"a\\\\b\"" },
	{ "line\nbreak", "\"line\\u000abreak\"" },
	{ "\x01", "\"\\u0001\"" },
	{ "tab\there\r", "\"tab\\u0009here\\u000d\"" },
	{ "caf\xc3\xa9 \xe2\x82\xac", "\"caf\xc3\xa9 \xe2\x82\xac\"" }, /* UTF-8 as is */
	{ "\x7f", "\"\x7f\"" },                                           /* DEL needs no escape */
	{ "\"\\\"", "\"\\\"\\\\\\\"\"" },
};

int main(void)
{
	char out[256], q[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = fmemopen(out, sizeof(out), "w");

		xp_json_str(f, cases[i].in);
		fclose(f);
		ok(!strcmp(out, cases[i].want), "xp_json_str case %zu: %s", i, cases[i].want);
		ok(!strcmp(xp_json_q(q, sizeof(q), cases[i].in), cases[i].want), "xp_json_q case %zu", i);
	}
	/* too small: "ab\"" needs 2 + 2 + 2 quotes + NUL = 7 bytes; in 6 the
	 * escape does not fit and is left out whole: "ab" */
	ok(!strcmp(xp_json_q(q, 6, "ab\"c"), "\"ab\""), "a cut string ends before an escape: %s", q);
	ok(!strcmp(xp_json_q(q, 7, "ab\"c"), "\"ab\\\"\""), "the escape whole when it fits: %s", q);
	ok(!strcmp(xp_json_q(q, 3, "abc"), "\"\""), "the smallest buffer holds an empty string");
	return tap_done();
}
