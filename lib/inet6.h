/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * IPv6 for the traffic tools (xpro-bot, xpro-device, xpro-replay, xpro-sink):
 * the testbed's naming of IPv4 addresses in IPv6 (2001:db8::/96 with the
 * IPv4 address in the low 32 bits: 198.18.0.100 is 2001:db8::c612:64, a
 * prefix P/L is 2001:db8::P/(96 + L)), and an IPv4 packet rewritten as the
 * same packet over IPv6. The text forms of struct xpro_addr are lib/addr.h's.
 */
#ifndef XP_INET6_H
#define XP_INET6_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#define XP6_EMBED_STR "2001:db8::/96"

/* 2001:db8:: + v4 (network order), 16 bytes at out (any alignment) */
void xp6_embed(void *out, uint32_t v4);
/* 1 if a lies in 2001:db8::/96 (then *v4, network order, is its low 32 bits) */
int xp6_embedded(const struct in6_addr *a, uint32_t *v4);
/*
 * "ADDR" or "ADDR/LEN", IPv6, inside 2001:db8::/96 with LEN 96..128 (no
 * LEN: 128): its IPv4 form, *v4 (network order, not masked) and *len4 =
 * LEN - 96. 0, or -1 with the reason in err.
 */
int xp6_parse_embedded(const char *s, uint32_t *v4, int *len4, char *err, size_t errlen);
/* 1 if s looks like an IPv6 address (it holds a ':') */
int xp6_is_text6(const char *s);
/* "A.B.C.D" or its IPv6 name, by af (AF_INET, AF_INET6), into buf (>= 46) */
const char *xp6_name(int af, uint32_t v4, char *buf);

/*
 * The IPv4 packet at p4 (len bytes, header without options), a UDP, TCP or
 * ICMP-free transport, as an IPv6 packet at p6: addresses as their IPv6
 * names, traffic class = TOS, hop limit = TTL, the transport's checksum
 * (UDP, TCP) computed again over the IPv6 pseudo-header. p6 may be p4 - 20
 * (the buffers overlap: the header is read first). Returns the IPv6 length
 * (len + 20), or -1 when p4 is not such a packet.
 */
int xp6_from_ipv4(uint8_t *p6, const uint8_t *p4, size_t len);
/* The transport checksum (UDP, TCP, ICMPv6: field zeroed by the caller) of
 * len bytes at l4 over the IPv6 pseudo-header; UDP's 0 is the caller's. */
uint16_t xp6_l4_csum(const uint8_t src[16], const uint8_t dst[16], uint8_t proto, const void *l4, size_t len);
/* Set the UDP or TCP checksum of the IPv6 packet p6 (fixed header only,
 * next header UDP or TCP); -1 for anything else. */
int xp6_fix_l4(uint8_t *p6, size_t len);

#endif
