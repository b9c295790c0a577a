// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* JSON output of the read commands: compact or indented, and the config's
 * "key = value" lines as an object. */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "json.h"
#include "output.h"

static void indent(FILE *f, int level)
{
	fputc('\n', f);
	for (int i = 0; i < level; i++)
		fputs("  ", f);
}

void xpro_json_emit(FILE *f, const char *s, int pretty)
{
	int level = 0, in_str = 0;
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
		n--;
	if (!pretty) {
		fwrite(s, 1, n, f);
		fputc('\n', f);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (in_str) {
			fputc(c, f);
			if (c == '\\' && i + 1 < n)
				fputc(s[++i], f);
			else if (c == '"')
				in_str = 0;
			continue;
		}
		switch (c) {
		case '"':
			in_str = 1;
			fputc(c, f);
			break;
		case '{':
		case '[':
			fputc(c, f);
			/* an empty object or array stays on its line */
			if (i + 1 < n && (s[i + 1] == '}' || s[i + 1] == ']')) {
				fputc(s[++i], f);
				break;
			}
			indent(f, ++level);
			break;
		case '}':
		case ']':
			indent(f, --level);
			fputc(c, f);
			break;
		case ',':
			fputc(c, f);
			indent(f, level);
			break;
		case ':':
			fputs(": ", f);
			break;
		default:
			fputc(c, f);
		}
	}
	fputc('\n', f);
}

void xpro_kv_json(FILE *f, const char *text)
{
	const char *p = text, *e, *eq;
	char key[128], val[1024], q[2100];
	int first = 1;
	size_t kl, vl, i;

	fputc('{', f);
	for (; *p; p = *e ? e + 1 : e) {
		e = strchr(p, '\n');
		if (!e)
			e = p + strlen(p);
		eq = memchr(p, '=', (size_t)(e - p));
		if (*p == '#' || !eq)
			continue;
		kl = (size_t)(eq - p);
		while (kl && p[kl - 1] == ' ')
			kl--;
		eq++;
		while (*eq == ' ' && eq < e)
			eq++;
		vl = (size_t)(e - eq);
		if (!kl || kl >= sizeof(key) || vl >= sizeof(val))
			continue;
		memcpy(key, p, kl);
		key[kl] = '\0';
		memcpy(val, eq, vl);
		val[vl] = '\0';
		for (i = 0; val[i] && isdigit((unsigned char)val[i]); i++)
			;
		fprintf(f, "%s%s:", first ? "" : ",", xp_json_q(q, sizeof(q), key));
		if (vl && !val[i] && (vl == 1 || val[0] != '0') && vl < 16)
			fputs(val, f);
		else
			fputs(xp_json_q(q, sizeof(q), val), f);
		first = 0;
	}
	fputs("}", f);
}

/* xpro status -j: the same facts as one object */
void xpro_status_json(const struct xpro_proxy *px, const struct xpro_snapshot *s, uint32_t id, uint32_t max_records,
		      int pretty)
{
	static const char *const daemons[] = { "syncmaps", "syncdb" };
	static char st[8192];
	char *buf = NULL, path[700], line[256], q[1400], q2[300], q3[300];
	size_t blen;
	double lag;
	FILE *f = open_memstream(&buf, &blen), *a;

	if (!f)
		return;
	fprintf(f, "{\"interface\":%s,\"netns\":%s,\"attached\":%s,\"prog_id\":%u,\"pins\":%s",
		xp_json_q(q2, sizeof(q2), px->ifname), xp_json_q(q3, sizeof(q3), px->nsname), id ? "true" : "false", id,
		xp_json_q(q, sizeof(q), px->pin_dir));
	fprintf(f, ",\"records\":%" PRIu64 ",\"records_max\":%u,\"dests\":%" PRIu64 ",\"policy\":\"%s\",\"filter\":%s,\"ipv6\":\"%s\"",
		s->records, max_records, s->dests, xpro_policy_name(s->params.policy), s->params.filter ? "true" : "false",
		xpro_ipv6_name(s->params.ipv6));
	fprintf(f, ",\"tt1_ms\":%" PRIu64 ",\"tt2_ms\":%" PRIu64 ",\"tt3_ms\":%" PRIu64 ",\"tt4_ms\":%" PRIu64
		",\"tf1\":%" PRIu64 ",\"tf2\":%" PRIu64 ",\"tf2_overrides\":%u,\"r\":%u,\"load\":",
		(uint64_t)s->params.tt1_ns / 1000000, (uint64_t)s->params.tt2_ns / 1000000,
		(uint64_t)s->params.tt3_ns / 1000000, (uint64_t)s->params.tt4_ns / 1000000, (uint64_t)s->params.tf1,
		(uint64_t)s->params.tf2, s->params.tf2_overrides, s->params.r);
	/* the load-time keys attach used */
	snprintf(path, sizeof(path), "%s/attached.conf", px->state_dir);
	a = fopen(path, "r");
	if (a) {
		char *kv = NULL;
		size_t kl;
		FILE *k = open_memstream(&kv, &kl);

		while (k && fgets(line, sizeof(line), a))
			if (!strncmp(line, "mode", 4) || !strncmp(line, "tunnel_", 7) || !strncmp(line, "xdp_mode", 8))
				fputs(line, k);
		if (k)
			fclose(k);
		xpro_kv_json(f, kv ? kv : "");
		free(kv);
		fclose(a);
	} else {
		fputs("null", f);
	}
	fputs(",\"sync\":{", f);
	for (int i = 0; i < 2; i++) {
		fprintf(f, "%s\"%s\":", i ? "," : "", daemons[i]);
		if (xpro_sync_state(px, daemons[i], st, sizeof(st), &lag))
			fputs("null", f);
		else
			fprintf(f, "{\"lag_ms\":%.1f,\"state\":%s}", lag, st);
	}
	fputs("}}", f);
	fclose(f);
	xpro_json_emit(stdout, buf ? buf : "{}", pretty);
	free(buf);
}
