/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The Internet checksum (RFC 1071) of the userspace tools that build or
 * rewrite packets: xpro-bot's vectors, xpro-replay, xpro-topo-ping, the
 * tunnel builder (lib/tunnel.c) and the tests' packet builder. The BPF
 * programs use the kernel's helpers instead.
 */
#ifndef XP_CSUM_H
#define XP_CSUM_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 1071 checksum of len bytes plus the partial sum sum (host order),
 * folded and complemented, in network order. An odd last byte counts as
 * the high half of a 16-bit word. */
static inline uint16_t xpro_csum(const void *data, size_t len, uint32_t sum0)
{
	const uint8_t *p = data;
	uint64_t sum = sum0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)(p[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* The TCP/UDP checksum of len bytes at l4 (its checksum field zeroed) with
 * the IPv4 pseudo-header of saddr, daddr (network order) and proto, in
 * network order. (UDP sends a result of 0 as 0xffff: the caller's part.) */
static inline uint16_t xpro_csum_l4(uint32_t saddr, uint32_t daddr, uint8_t proto, const void *l4, size_t len)
{
	uint32_t s = ntohl(saddr), d = ntohl(daddr);

	return xpro_csum(l4, len, (s >> 16) + (s & 0xffff) + (d >> 16) + (d & 0xffff) + proto + (uint32_t)len);
}

#endif
