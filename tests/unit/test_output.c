// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the read commands' JSON (xpro/output.c) and of warnd's EVE
 * line (xpro/alerts.c): the indentation of -p, "key = value" lines as an
 * object, and a warning whose proxy id holds a quote and a backslash. Each
 * expected text is written out by hand.
 */
#include <arpa/inet.h>
#include <string.h>
#include <time.h>
#include "tap.h"
#include "alerts.h"
#include "output.h"

static const char *emit(char *out, size_t n, const char *json, int pretty)
{
	FILE *f = fmemopen(out, n, "w");

	xpro_json_emit(f, json, pretty);
	fclose(f);
	return out;
}

int main(void)
{
	char out[1024], line[1024];
	struct xpro_warning ev;
	uint32_t v4;
	struct timespec now;
	FILE *f;
	int n;

	ok(!strcmp(emit(out, sizeof(out), "{\"a\":1}\n", 0), "{\"a\":1}\n"), "-j: as it is, one newline");
	/* strings keep their commas, braces and escaped quotes; an empty object
	 * stays on its line */
	ok(!strcmp(emit(out, sizeof(out), "{\"a\":[1,{}],\"s\":\"x,{y}:\\\"z\"}", 1),
		   "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"s\": \"x,{y}:\\\"z\"\n}\n"),
	   "-p: two spaces a level, strings untouched");
	f = fmemopen(out, sizeof(out), "w");
	xpro_kv_json(f, "tf1 = 100\nproxy_id = p\"x\n# notify = (none)\nlog_dir = /var/log/xpro\nzero = 0\nlead = 007\nbig = 12345678901234567\n");
	fclose(f);
	ok(!strcmp(out, "{\"tf1\":100,\"proxy_id\":\"p\\\"x\",\"log_dir\":\"/var/log/xpro\",\"zero\":0,\"lead\":\"007\","
			"\"big\":\"12345678901234567\"}"),
	   "config show -j: whole numbers as numbers, the rest as strings, comments left out: %s", out);

	/* 100 packets in 200 ms: 500 packets/s, above TF1 = 50 */
	clock_gettime(CLOCK_TAI, &now);
	memset(&ev, 0, sizeof(ev));
	ev.ts = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	inet_pton(AF_INET, "198.18.0.2", &v4);
	xpro_addr_set4(&ev.client, v4);
	inet_pton(AF_INET, "198.18.1.2", &v4);
	xpro_addr_set4(&ev.dest, v4);
	ev.count = 100;
	ev.window_ns = 200000000;
	ev.reason = XPRO_R_TF1;
	n = xpro_warning_eve(line, sizeof(line), &ev, "p\"q\\1", "ns1", "in0", 50);
	ok(n > 0 && (size_t)n == strlen(line), "EVE line: %s", line);
	ok(!strncmp(line, "{\"timestamp\":\"", 14) && line[18] == '-' && line[24] == 'T' && line[33] == '.' &&
	   line[40] == 'Z' && line[41] == '"', "timestamp: YYYY-MM-DDTHH:MM:SS.uuuuuuZ");
	ok(strstr(line, ",\"event_type\":\"alert\",\"proxy\":\"p\\\"q\\\\1\",\"netns\":\"ns1\",\"interface\":\"in0\",") != NULL,
	   "proxy id with a quote and a backslash escaped");
	ok(strstr(line, "\"client\":\"198.18.0.2\",\"destination\":\"198.18.1.2\"") != NULL, "client, destination");
	ok(strstr(line, "\"reason\":\"tf1\",\"rate_pps\":500.0,\"threshold_pps\":50,\"count\":100,\"window_ns\":200000000,")
	   != NULL, "reason, rate, threshold");
	ok(line[n - 1] == '}' && line[n - 2] == '}', "one object, closed");

	/* IPv6: dev0 2001:db8::c612:2 towards vic0 2001:db8::c612:102, their RFC 5952 names */
	{
		static const unsigned char c6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xc6, 0x12, 0x00, 0x02 };
		static const unsigned char d6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xc6, 0x12, 0x01, 0x02 };

		memcpy(&ev.client, c6, 16);
		memcpy(&ev.dest, d6, 16);
		n = xpro_warning_eve(line, sizeof(line), &ev, "px1", "ns1", "in0", 50);
		ok(n > 0 && strstr(line, ",\"src_ip\":\"2001:db8::c612:2\",\"dest_ip\":\"2001:db8::c612:102\",\"client\":"
					"\"2001:db8::c612:2\",\"destination\":\"2001:db8::c612:102\",\"dest\":\"2001:db8::c612:102\",") != NULL,
		   "EVE line, IPv6: src_ip, dest_ip, client, destination, dest by their names: %s", line);
	}
	return tap_done();
}
