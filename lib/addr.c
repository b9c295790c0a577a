// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* struct xpro_addr in userspace: see addr.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "addr.h"

char *xpro_addr_str(char *buf, const struct xpro_addr *a)
{
	if (xpro_addr_is4(a)) {
		if (!inet_ntop(AF_INET, &a->w[3], buf, XPRO_ADDR_STRLEN))
			buf[0] = '\0';
	} else if (!inet_ntop(AF_INET6, a->w, buf, XPRO_ADDR_STRLEN)) {
		buf[0] = '\0';
	}
	return buf;
}

int xpro_addr_parse(const char *s, size_t len, struct xpro_addr *a)
{
	char t[XPRO_ADDR_STRLEN], back[XPRO_ADDR_STRLEN];
	struct xpro_addr x;
	uint32_t v4;

	if (!len || len >= sizeof(t) || memchr(s, '\0', len))
		return -1;
	memcpy(t, s, len);
	t[len] = '\0';
	if (memchr(t, ':', len)) {
		if (inet_pton(AF_INET6, t, x.w) != 1)
			return -1;
	} else {
		if (inet_pton(AF_INET, t, &v4) != 1)
			return -1;
		xpro_addr_set4(&x, v4);
	}
	/* one address, one name: only what xpro_addr_str writes */
	if (strcmp(xpro_addr_str(back, &x), t))
		return -1;
	*a = x;
	return 0;
}

int xpro_addr_parse_str(const char *s, struct xpro_addr *a)
{
	return xpro_addr_parse(s, strnlen(s, XPRO_ADDR_STRLEN), a);
}

int xpro_addr_eq(const struct xpro_addr *a, const struct xpro_addr *b)
{
	return !memcmp(a, b, sizeof(*a));
}

int xpro_addr_cmp(const struct xpro_addr *a, const struct xpro_addr *b)
{
	return memcmp(a, b, sizeof(*a));
}

uint32_t xpro_addr_hash(const struct xpro_addr *a)
{
	/* FNV-1a over the 16 bytes, then a final avalanche (murmur3 fmix32) */
	const unsigned char *p = (const unsigned char *)a;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < sizeof(*a); i++)
		h = (h ^ p[i]) * 16777619u;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

struct xpro_addr xpro_addr_mask(const struct xpro_addr *a, unsigned int len)
{
	struct xpro_addr m = *a;
	unsigned char *p = (unsigned char *)&m;
	unsigned int i;

	if (len >= 128)
		return m;
	p[len / 8] &= (unsigned char)(0xff00u >> (len % 8));
	for (i = len / 8 + 1; i < 16; i++)
		p[i] = 0;
	return m;
}

int xpro_addr_in_prefix(const struct xpro_addr *a, const struct xpro_addr *net, unsigned int len)
{
	struct xpro_addr x, n;

	if (len > 128)
		return 0;
	x = xpro_addr_mask(a, len);
	n = xpro_addr_mask(net, len);
	return xpro_addr_eq(&x, &n);
}

int xpro_addr_prefix_parse(const char *s, size_t len, struct xpro_addr *net, unsigned int *plen)
{
	const char *slash;
	struct xpro_addr a, m;
	unsigned int l = 0;
	size_t i, n;

	if (!len || memchr(s, '\0', len))
		return -1;
	slash = memchr(s, '/', len);
	if (!slash)
		return -1;
	n = (size_t)(s + len - (slash + 1));
	if (n < 1 || n > 3 || (n > 1 && slash[1] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (slash[1 + i] < '0' || slash[1 + i] > '9')
			return -1;
		l = l * 10 + (unsigned int)(slash[1 + i] - '0');
	}
	if (xpro_addr_parse(s, (size_t)(slash - s), &a))
		return -1;
	if (xpro_addr_is4(&a)) {
		if (l > 32)
			return -1;
		l += 96;
	} else if (l > 128) {
		return -1;
	}
	m = xpro_addr_mask(&a, l);
	if (!xpro_addr_eq(&m, &a))
		return -1; /* host bits set */
	*net = a;
	*plen = l;
	return 0;
}

char *xpro_addr_prefix_str(char *buf, const struct xpro_addr *net, unsigned int len)
{
	size_t n;

	xpro_addr_str(buf, net);
	n = strlen(buf);
	snprintf(buf + n, XPRO_PREFIX_STRLEN - n, "/%u", xpro_addr_is4(net) && len >= 96 ? len - 96 : len);
	return buf;
}
