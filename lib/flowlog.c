// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <string.h>
#include "flowlog.h"

FILE *xp_csv_open(const char *path, const char *header)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;

	if (f)
		fprintf(f, "%s\n", header);
	return f;
}

void xp_flowlog_row(FILE *f, int64_t ts, uint32_t src, uint32_t dst, const char *cls, uint64_t packets,
		    uint64_t bytes)
{
	xp_flowlog_row_af(f, ts, AF_INET, &src, &dst, cls, packets, bytes);
}

void xp_flowlog_row_af(FILE *f, int64_t ts, int af, const void *src, const void *dst, const char *cls,
		       uint64_t packets, uint64_t bytes)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];

	inet_ntop(af, src, s, sizeof(s));
	inet_ntop(af, dst, d, sizeof(d));
	fprintf(f, "%lld,%s,%s,%s,%llu,%llu\n", (long long)ts, s, d, cls, (unsigned long long)packets,
		(unsigned long long)bytes);
}

void xp_csv_close(FILE *f)
{
	if (!f)
		return;
	fflush(f);
	if (f != stdout)
		fclose(f);
}
