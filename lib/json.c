// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <stdio.h>
#include <string.h>
#include "json.h"

/* c as it goes inside a JSON string: out gets 1, 2 or 6 bytes, returned */
static size_t esc(unsigned char c, char out[7])
{
	if (c == '"' || c == '\\') {
		out[0] = '\\';
		out[1] = (char)c;
		return 2;
	}
	if (c < 0x20)
		return (size_t)snprintf(out, 7, "\\u%04x", c);
	out[0] = (char)c;
	return 1;
}

void xp_json_str(FILE *f, const char *s)
{
	char e[7];

	fputc('"', f);
	for (; *s; s++)
		fwrite(e, 1, esc((unsigned char)*s, e), f);
	fputc('"', f);
}

const char *xp_json_q(char *buf, size_t n, const char *s)
{
	size_t w = 1, k;
	char e[7];

	if (n < 3) {
		if (n)
			buf[0] = '\0';
		return buf;
	}
	buf[0] = '"';
	for (; *s; s++) {
		k = esc((unsigned char)*s, e);
		if (w + k + 2 > n)
			break;
		memcpy(buf + w, e, k);
		w += k;
	}
	buf[w++] = '"';
	buf[w] = '\0';
	return buf;
}
