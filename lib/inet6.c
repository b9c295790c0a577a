// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "csum.h"
#include "inet6.h"

static const uint8_t embed96[12] = { 0x20, 0x01, 0x0d, 0xb8 };

void xp6_embed(void *out, uint32_t v4)
{
	memcpy(out, embed96, 12);
	memcpy((uint8_t *)out + 12, &v4, 4);
}

int xp6_embedded(const struct in6_addr *a, uint32_t *v4)
{
	if (memcmp(a->s6_addr, embed96, 12))
		return 0;
	if (v4)
		memcpy(v4, a->s6_addr + 12, 4);
	return 1;
}

int xp6_is_text6(const char *s)
{
	return strchr(s, ':') != NULL;
}

int xp6_parse_embedded(const char *s, uint32_t *v4, int *len4, char *err, size_t errlen)
{
	char a[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	struct in6_addr in;
	long len = 128;

	if (strlen(s) >= sizeof(a)) {
		snprintf(err, errlen, "'%.60s...': too long for an IPv6 address", s);
		return -1;
	}
	snprintf(a, sizeof(a), "%.*s", slash ? (int)(slash - s) : (int)strlen(s), s);
	if (slash) {
		char *e;

		len = strtol(slash + 1, &e, 10);
		if (!slash[1] || *e || slash[1] == '-' || slash[1] == '+' || len < 0 || len > 128) {
			snprintf(err, errlen, "'%s': prefix length not in 0..128", s);
			return -1;
		}
	}
	if (inet_pton(AF_INET6, a, &in) != 1) {
		snprintf(err, errlen, "'%s': not an IPv6 address", s);
		return -1;
	}
	if (!xp6_embedded(&in, v4) || len < 96) {
		snprintf(err, errlen, "'%s': outside %s, the testbed's IPv6 names of IPv4 addresses", s,
			 XP6_EMBED_STR);
		return -1;
	}
	*len4 = (int)len - 96;
	return 0;
}

const char *xp6_name(int af, uint32_t v4, char *buf)
{
	struct in6_addr a;

	if (af != AF_INET6)
		return inet_ntop(AF_INET, &v4, buf, INET_ADDRSTRLEN);
	xp6_embed(&a, v4);
	return inet_ntop(AF_INET6, &a, buf, INET6_ADDRSTRLEN);
}

uint16_t xp6_l4_csum(const uint8_t src[16], const uint8_t dst[16], uint8_t proto, const void *l4, size_t len)
{
	uint32_t sum = 0;

	for (int i = 0; i < 16; i += 2)
		sum += (uint32_t)(src[i] << 8 | src[i + 1]) + (uint32_t)(dst[i] << 8 | dst[i + 1]);
	sum += (uint32_t)(len >> 16) + (uint32_t)(len & 0xffff) + proto;
	return xpro_csum(l4, len, sum);
}

int xp6_fix_l4(uint8_t *p6, size_t len)
{
	uint8_t *l4 = p6 + 40;
	size_t l4len;
	uint16_t c;
	int off;

	if (len < 40 || (p6[0] >> 4) != 6)
		return -1;
	l4len = len - 40;
	switch (p6[6]) {
	case IPPROTO_UDP:
		off = 6;
		if (l4len < 8)
			return -1;
		break;
	case IPPROTO_TCP:
		off = 16;
		if (l4len < 20)
			return -1;
		break;
	default:
		return -1;
	}
	l4[off] = l4[off + 1] = 0;
	c = xp6_l4_csum(p6 + 8, p6 + 24, p6[6], l4, l4len);
	if (p6[6] == IPPROTO_UDP && !c)
		c = 0xffff; /* IPv6 forbids a zero UDP checksum */
	memcpy(l4 + off, &c, 2);
	return 0;
}

int xp6_from_ipv4(uint8_t *p6, const uint8_t *p4, size_t len)
{
	uint8_t tos, ttl, proto;
	uint32_t s, d;
	size_t pl;

	if (len < 20 || p4[0] != 0x45 || len > 65535 - 20)
		return -1;
	tos = p4[1];
	ttl = p4[8];
	proto = p4[9];
	memcpy(&s, p4 + 12, 4);
	memcpy(&d, p4 + 16, 4);
	pl = len - 20;
	if (p6 + 40 != p4 + 20)
		memmove(p6 + 40, p4 + 20, pl);
	p6[0] = (uint8_t)(0x60 | tos >> 4);
	p6[1] = (uint8_t)(tos << 4);
	p6[2] = p6[3] = 0;
	p6[4] = (uint8_t)(pl >> 8);
	p6[5] = (uint8_t)pl;
	p6[6] = proto;
	p6[7] = ttl;
	xp6_embed(p6 + 8, s);
	xp6_embed(p6 + 24, d);
	if (proto == IPPROTO_UDP || proto == IPPROTO_TCP)
		return xp6_fix_l4(p6, pl + 40) ? -1 : (int)(pl + 40);
	return -1;
}
