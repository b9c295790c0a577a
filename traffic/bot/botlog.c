// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "botlog.h"
#include "json.h"
#include "inet6.h"
#include "flowlog.h"

int botlog_open(struct botlog *l, const char *path, const char *cls)
{
	memset(l, 0, sizeof(*l));
	l->cls = cls;
	l->ts = -1;
	l->started = xp_real_sec();
	l->cap = 1024;
	l->tab = calloc(l->cap, sizeof(*l->tab));
	if (!l->tab)
		return -ENOMEM;
	if (!path)
		return 0;
	l->f = xp_flowlog_open(path);
	return l->f ? 0 : -errno;
}

static uint32_t hash(uint32_t s, uint32_t d)
{
	uint64_t h = ((uint64_t)s << 32 | d) * 0x9E3779B97F4A7C15ull;

	return (uint32_t)(h >> 32);
}

void botlog_flush(struct botlog *l)
{
	if (!l->used)
		return;
	for (uint32_t i = 0; i < l->cap; i++) {
		struct botlog_ent *e = &l->tab[i];

		if (!e->packets)
			continue;
		if (l->f && l->v6) {
			uint8_t s6[16], d6[16];

			xp6_embed(s6, e->src);
			xp6_embed(d6, e->dst);
			xp_flowlog_row_af(l->f, l->ts, AF_INET6, s6, d6, l->cls, e->packets, e->bytes);
		} else if (l->f) {
			xp_flowlog_row(l->f, l->ts, e->src, e->dst, l->cls, e->packets, e->bytes);
		}
		memset(e, 0, sizeof(*e));
	}
	l->used = 0;
	if (l->f)
		fflush(l->f);
}

static int grow(struct botlog *l)
{
	struct botlog_ent *old = l->tab;
	uint32_t ocap = l->cap;

	l->tab = calloc((size_t)ocap * 2, sizeof(*l->tab));
	if (!l->tab) {
		l->tab = old;
		return -ENOMEM;
	}
	l->cap = ocap * 2;
	for (uint32_t i = 0; i < ocap; i++) {
		struct botlog_ent *e = &old[i];
		uint32_t k;

		if (!e->packets)
			continue;
		for (k = hash(e->src, e->dst) & (l->cap - 1); l->tab[k].packets; k = (k + 1) & (l->cap - 1))
			;
		l->tab[k] = *e;
	}
	free(old);
	return 0;
}

int botlog_add(struct botlog *l, int64_t ts, uint32_t src, uint32_t dst, uint64_t n, uint64_t bytes)
{
	uint32_t k;

	if (!n)
		return 0;
	if (ts != l->ts) {
		botlog_flush(l);
		l->ts = ts;
	}
	l->packets += n;
	l->bytes += bytes;
	if (l->used * 2 >= l->cap && grow(l))
		return -ENOMEM;
	for (k = hash(src, dst) & (l->cap - 1); l->tab[k].packets; k = (k + 1) & (l->cap - 1))
		if (l->tab[k].src == src && l->tab[k].dst == dst)
			break;
	if (!l->tab[k].packets) {
		l->tab[k].src = src;
		l->tab[k].dst = dst;
		l->used++;
	}
	l->tab[k].packets += n;
	l->tab[k].bytes += bytes;
	return 0;
}

void botlog_close(struct botlog *l)
{
	botlog_flush(l);
	xp_csv_close(l->f);
	l->f = NULL;
	free(l->tab);
	l->tab = NULL;
}

int botlog_summary(const struct botlog *l, const char *path, uint64_t seed, int64_t ended, uint64_t errors)
{
	char q[128];
	FILE *f;

	if (!path)
		return 0;
	f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	if (!f)
		return -errno;
	fprintf(f, "{\"tool\":\"xpro-bot\",\"seed\":%llu,\"started\":%lld,\"ended\":%lld,\"packets\":%llu,"
		   "\"bytes\":%llu,\"by_class\":{%s:{\"packets\":%llu,\"bytes\":%llu}},\"errors\":%llu}\n",
		(unsigned long long)seed, (long long)l->started, (long long)ended,
		(unsigned long long)l->packets, (unsigned long long)l->bytes, xp_json_q(q, sizeof(q), l->cls),
		(unsigned long long)l->packets, (unsigned long long)l->bytes, (unsigned long long)errors);
	if (f != stdout)
		fclose(f);
	else
		fflush(f);
	return 0;
}
