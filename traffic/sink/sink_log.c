// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Per-second flow accounting shared by xpro-sink and xpro-replay (sink_log.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "sink_log.h"
#include "inet6.h"
#include "flowlog.h"


int xs_parse_cidr_af(const char *s, uint32_t *addr, int *plen, uint8_t *v6)
{
	char e[160];

	*v6 = 0;
	if (!s || !xp6_is_text6(s))
		return xs_parse_cidr(s, addr, plen);
	if (!strchr(s, '/') || xp6_parse_embedded(s, addr, plen, e, sizeof(e)))
		return -EINVAL;
	*v6 = 1;
	return 0;
}

int xs_parse_cidr(const char *s, uint32_t *addr, int *plen)
{
	char buf[64], *slash, *end;
	struct in_addr in;
	long l = 32;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		errno = 0;
		l = strtol(slash, &end, 10);
		if (errno || end == slash || *end || l < 0 || l > 32)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, buf, &in) != 1)
		return -EINVAL;
	*addr = in.s_addr;
	*plen = (int)l;
	return 0;
}

static uint32_t mask_of(int plen)
{
	return plen ? htonl(0xffffffffu << (32 - plen)) : 0;
}

static int valid_name(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len >= XS_CLASS_NAMELEN)
		return 0;
	for (i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

int xs_class_add(struct xs_class_map *m, const char *name)
{
	int i;

	for (i = 0; i < m->nclass; i++)
		if (!strcmp(m->name[i], name))
			return i;
	if (m->nclass > XS_CLASS_MAX)
		return -ENOSPC;
	snprintf(m->name[m->nclass], XS_CLASS_NAMELEN, "%s", name);
	return m->nclass++;
}

int xs_class_map_parse(struct xs_class_map *m, const char *spec, const char *def, const char *tool)
{
	const char *p = spec ? spec : "";
	int defcls;

	memset(m, 0, sizeof(*m));
	if (!valid_name(def, strlen(def))) {
		fprintf(stderr, "%s: class name '%s': 1-31 of A-Za-z0-9_.-\n", tool, def);
		return -EINVAL;
	}
	while (*p) {
		const char *comma = strchr(p, ','), *eq;
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char item[96], name[XS_CLASS_NAMELEN];
		uint32_t a;
		int plen, c;

		if (len >= sizeof(item)) {
			fprintf(stderr, "%s: class map entry '%.*s...': too long\n", tool, 20, p);
			return -EINVAL;
		}
		memcpy(item, p, len);
		item[len] = '\0';
		eq = strchr(item, '=');
		if (!eq || !valid_name(item, (size_t)(eq - item))) {
			fprintf(stderr, "%s: class map entry '%s': expected NAME=A.B.C.D/LEN (name 1-31 of A-Za-z0-9_.-)\n",
				tool, item);
			return -EINVAL;
		}
		memcpy(name, item, (size_t)(eq - item));
		name[eq - item] = '\0';
		if (xs_parse_cidr_af(eq + 1, &a, &plen, &m->v6[m->n < XS_CLASS_MAX ? m->n : 0])) {
			fprintf(stderr, "%s: class map entry '%s': '%s' is not A.B.C.D/LEN or 2001:db8::P/LEN (LEN >= 96)\n",
				tool, item, eq + 1);
			return -EINVAL;
		}
		if (m->n >= XS_CLASS_MAX) {
			fprintf(stderr, "%s: class map: more than %d entries\n", tool, XS_CLASS_MAX);
			return -EINVAL;
		}
		c = xs_class_add(m, name);
		if (c < 0) {
			fprintf(stderr, "%s: class map: more than %d classes\n", tool, XS_CLASS_MAX);
			return -EINVAL;
		}
		m->mask[m->n] = mask_of(plen);
		m->net[m->n] = a & m->mask[m->n];
		m->cls[m->n] = c;
		m->n++;
		p += len;
		if (*p == ',')
			p++;
	}
	defcls = xs_class_add(m, def);
	if (defcls < 0) {
		fprintf(stderr, "%s: class map: more than %d classes\n", tool, XS_CLASS_MAX);
		return -EINVAL;
	}
	m->defcls = defcls;
	return 0;
}

int xs_class_of(const struct xs_class_map *m, uint32_t addr)
{
	int i;

	for (i = 0; i < m->n; i++)
		if (!m->v6[i] && (addr & m->mask[i]) == m->net[i])
			return m->cls[i];
	return m->defcls;
}

int xs_class_of6(const struct xs_class_map *m, uint32_t v4)
{
	for (int i = 0; i < m->n; i++)
		if (m->v6[i] && (v4 & m->mask[i]) == m->net[i])
			return m->cls[i];
	return m->defcls;
}

/* ---- flow table ------------------------------------------------------- */

static uint64_t mix(uint32_t a, uint32_t b, uint32_t c)
{
	uint64_t x = ((uint64_t)a << 32 | b) ^ ((uint64_t)c * 0x9e3779b97f4a7c15ULL);

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

int xs_ftab_init(struct xs_ftab *t, size_t max)
{
	memset(t, 0, sizeof(*t));
	t->cap = 1024;
	t->max = max;
	t->v = calloc(t->cap, sizeof(*t->v));
	return t->v ? 0 : -ENOMEM;
}

void xs_ftab_free(struct xs_ftab *t)
{
	free(t->v);
	t->v = NULL;
	t->cap = t->n = 0;
}

void xs_ftab_clear(struct xs_ftab *t)
{
	if (t->n)
		memset(t->v, 0, t->cap * sizeof(*t->v));
	t->n = 0;
}

static struct xs_flow *slot(struct xs_flow *v, size_t cap, uint32_t s, uint32_t d, uint32_t c)
{
	size_t i = (size_t)mix(s, d, c) & (cap - 1);

	while (v[i].used && !(v[i].src == s && v[i].dst == d && v[i].cls == c))
		i = (i + 1) & (cap - 1);
	return &v[i];
}

static int grow(struct xs_ftab *t)
{
	size_t ncap = t->cap * 2, i;
	struct xs_flow *nv = calloc(ncap, sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	for (i = 0; i < t->cap; i++)
		if (t->v[i].used)
			*slot(nv, ncap, t->v[i].src, t->v[i].dst, t->v[i].cls) = t->v[i];
	free(t->v);
	t->v = nv;
	t->cap = ncap;
	return 0;
}

struct xs_flow *xs_ftab_get(struct xs_ftab *t, uint32_t src, uint32_t dst, uint32_t cls)
{
	struct xs_flow *f = slot(t->v, t->cap, src, dst, cls);

	if (f->used)
		return f;
	if (t->n >= t->max) {
		t->overflow++;
		return NULL;
	}
	if ((t->n + 1) * 2 > t->cap) {
		if (grow(t)) {
			t->overflow++;
			return NULL;
		}
		f = slot(t->v, t->cap, src, dst, cls);
	}
	f->used = 1;
	f->src = src;
	f->dst = dst;
	f->cls = cls;
	t->n++;
	return f;
}

static int cmp_key(const void *a, const void *b)
{
	const struct xs_flow *x = a, *y = b;
	uint32_t xs = ntohl(x->src), ys = ntohl(y->src), xd = ntohl(x->dst), yd = ntohl(y->dst);

	if (xs != ys)
		return xs < ys ? -1 : 1;
	if (xd != yd)
		return xd < yd ? -1 : 1;
	return x->cls < y->cls ? -1 : x->cls > y->cls;
}

static int cmp_packets(const void *a, const void *b)
{
	const struct xs_flow *x = a, *y = b;

	if (x->packets != y->packets)
		return x->packets > y->packets ? -1 : 1;
	return cmp_key(a, b);
}

int xs_ftab_sorted(const struct xs_ftab *t, int by_packets, struct xs_flow **out, size_t *n)
{
	struct xs_flow *v = malloc((t->n ? t->n : 1) * sizeof(*v));
	size_t i, k = 0;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < t->cap; i++)
		if (t->v[i].used)
			v[k++] = t->v[i];
	qsort(v, k, sizeof(*v), by_packets ? cmp_packets : cmp_key);
	*out = v;
	*n = k;
	return 0;
}

/* ---- CSV ---------------------------------------------------------------- */

FILE *xs_log_open(const char *path, const char *header, const char *tool)
{
	FILE *f = xp_csv_open(path, header);

	if (!f)
		fprintf(stderr, "%s: open %s: %s\n", tool, path, strerror(errno));
	return f;
}

void xs_flowlog_row(FILE *f, long ts, const struct xs_flow *x, const struct xs_class_map *m)
{
	uint8_t s6[16], d6[16];

	if (!(x->cls & XS_FLOW_V6)) {
		xp_flowlog_row(f, ts, x->src, x->dst, m->name[x->cls], x->packets, x->bytes);
		return;
	}
	xp6_embed(s6, x->src);
	xp6_embed(d6, x->dst);
	xp_flowlog_row_af(f, ts, AF_INET6, s6, d6, m->name[x->cls & ~XS_FLOW_V6], x->packets, x->bytes);
}

int xs_log_write_second(FILE *f, long ts, const struct xs_ftab *t, const struct xs_class_map *m)
{
	struct xs_flow *v;
	size_t n, i;
	int err;

	if (!f || !t->n)
		return 0;
	err = xs_ftab_sorted(t, 0, &v, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++)
		if (v[i].packets)
			xs_flowlog_row(f, ts, &v[i], m);
	free(v);
	return 0;
}

