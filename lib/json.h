/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The one JSON string writer of the tools: a string value goes out quoted,
 * with '"' and '\' escaped and every control character (< 0x20) as \u00XX;
 * other bytes, UTF-8 included, as they are. Numbers and the rest of an
 * object stay printf's.
 *
 *   printf("{\"interface\":%s,\"packets\":%llu}\n", xp_json_q(q, sizeof(q), dev), n);
 */
#ifndef XP_JSON_H
#define XP_JSON_H

#include <stddef.h>
#include <stdio.h>

/* s as a JSON string, quotes included, to f */
void xp_json_str(FILE *f, const char *s);

/* s as a JSON string, quotes included, in buf (n >= 3); a string too long
 * for buf is cut before an escape, never inside one: the result is always
 * valid JSON. Returns buf. */
const char *xp_json_q(char *buf, size_t n, const char *s);

#endif
