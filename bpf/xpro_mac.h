/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The X-Pro header's MAC (version 2, docs/protocol.md, "Client identity"):
 * SipHash under the device's 128-bit key over a 24-byte message. One
 * definition for the XDP program, the device-side tools and the tests.
 *
 * Message (24 bytes, in this order): the outer source address (4), the
 * proxy's tunnel address (4), header bytes 0-7 (magic, version, inner
 * length, sequence number), inner packet bytes 12-19 (its source and
 * destination). The MAC goes in header bytes 12-19, least significant
 * byte first (SipHash's output order).
 *
 * SipHash-2-4, the variant its authors give as a MAC (the faster 1-3 is
 * meant for hash tables); a 24-byte message is 3 compressions and 4
 * finalisation rounds. tests/unit/test_mac.c pins it to the reference
 * vectors.
 */
#ifndef XPRO_MAC_H
#define XPRO_MAC_H

#include "xpro.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define XPRO_MAC_MSG_LEN 24

static __always_inline __u64 xpro_rotl64(__u64 x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define XPRO_SIPROUND(v0, v1, v2, v3)					\
	do {								\
		v0 += v1; v1 = xpro_rotl64(v1, 13); v1 ^= v0;		\
		v0 = xpro_rotl64(v0, 32);				\
		v2 += v3; v3 = xpro_rotl64(v3, 16); v3 ^= v2;		\
		v0 += v3; v3 = xpro_rotl64(v3, 21); v3 ^= v0;		\
		v2 += v1; v1 = xpro_rotl64(v1, 17); v1 ^= v2;		\
		v2 = xpro_rotl64(v2, 32);				\
	} while (0)

static __always_inline __u64 xpro_le64(const __u8 *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	__u64 v;

	__builtin_memcpy(&v, p, 8); /* one load where the host is little-endian */
	return v;
#else
	return (__u64)p[0] | (__u64)p[1] << 8 | (__u64)p[2] << 16 | (__u64)p[3] << 24 |
	       (__u64)p[4] << 32 | (__u64)p[5] << 40 | (__u64)p[6] << 48 | (__u64)p[7] << 56;
#endif
}

/* SipHash-c-d of a message of nw whole little-endian words w under (k0, k1). */
static __always_inline __u64 xpro_siphash(__u64 k0, __u64 k1, const __u64 *w, int nw, int c, int d)
{
	__u64 v0 = 0x736f6d6570736575ULL ^ k0, v1 = 0x646f72616e646f6dULL ^ k1;
	__u64 v2 = 0x6c7967656e657261ULL ^ k0, v3 = 0x7465646279746573ULL ^ k1;
	__u64 b = (__u64)(nw * 8) << 56;
	int i, r;

#ifdef __clang__
#pragma unroll
#endif
	for (i = 0; i < nw; i++) {
		v3 ^= w[i];
#ifdef __clang__
#pragma unroll
#endif
		for (r = 0; r < c; r++)
			XPRO_SIPROUND(v0, v1, v2, v3);
		v0 ^= w[i];
	}
	v3 ^= b;
#ifdef __clang__
#pragma unroll
#endif
	for (r = 0; r < c; r++)
		XPRO_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
#ifdef __clang__
#pragma unroll
#endif
	for (r = 0; r < d; r++)
		XPRO_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* SipHash-2-4 of 32 bytes at m (tests: the reference vectors). */
static __always_inline __u64 xpro_siphash_24(__u64 k0, __u64 k1, const __u8 *m)
{
	__u64 w[4] = { xpro_le64(m), xpro_le64(m + 8), xpro_le64(m + 16), xpro_le64(m + 24) };

	return xpro_siphash(k0, k1, w, 4, 2, 4);
}

/*
 * The message's words: osrc and proxy as they are on the wire (network
 * order), hdr the header's first 8 bytes, then nin 8-byte words of the
 * inner packet from inner (nin 1 or 4, a constant once inlined).
 */
static __always_inline __u64 xpro_tun_mac_words(__u64 k0, __u64 k1, __be32 osrc, __be32 proxy,
						const __u8 *hdr, const __u8 *inner, int nin)
{
	__u8 a[8];
	__u64 w[6];
	int i;

	__builtin_memcpy(a, &osrc, 4);
	__builtin_memcpy(a + 4, &proxy, 4);
	w[0] = xpro_le64(a);
	w[1] = xpro_le64(hdr);
	for (i = 0; i < nin && i < 4; i++)
		w[2 + i] = xpro_le64(inner + 8 * i);
	return xpro_siphash(k0, k1, w, 2 + nin, 2, 4);
}

/* The MAC of a version-2 packet, inner the inner IPv4 packet's bytes 12-19
 * (its source and destination): 24 bytes. */
static __always_inline __u64 xpro_tun_mac(__u64 k0, __u64 k1, __be32 osrc, __be32 proxy,
					  const __u8 *hdr, const __u8 *inner)
{
	return xpro_tun_mac_words(k0, k1, osrc, proxy, hdr, inner, 1);
}

/*
 * The MAC of a version-2 packet whose inner packet is IPv6 (docs/protocol.md,
 * "Inner IPv6"): 48 bytes, osrc and proxy (4 + 4, network order), the
 * header's first 8 bytes, then inner6 = the inner IPv6 header's bytes 8-39
 * (its source and destination, 32 bytes). Same SipHash-2-4.
 */
#define XPRO_MAC6_MSG_LEN 48

static __always_inline __u64 xpro_tun_mac6(__u64 k0, __u64 k1, __be32 osrc, __be32 proxy,
					   const __u8 *hdr, const __u8 *inner6)
{
	return xpro_tun_mac_words(k0, k1, osrc, proxy, hdr, inner6, 4);
}

#ifndef __VMLINUX_H__
#include <stdio.h>
#include <stdlib.h>
#include <arpa/inet.h>

/*
 * A key as the key file writes it (docs/protocol.md): its 16 bytes as 32 hex
 * digits, k0 = bytes 0-7 and k1 = bytes 8-15, little-endian. 0, or -1 when
 * it is not 32 hex digits.
 */
static inline int xpro_key_hex(const char *hex, __u64 *k0, __u64 *k1)
{
	__u64 k[2] = { 0, 0 };
	int i, v;

	for (i = 0; i < 32; i++) {
		char c = hex[i];

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return -1;
		/* digit i: the high or low half of byte i / 2 */
		k[i / 16] |= (__u64)v << (8 * ((i / 2) % 8) + (i % 2 ? 0 : 4));
	}
	if (hex[32])
		return -1;
	*k0 = k[0];
	*k1 = k[1];
	return 0;
}

/*
 * One line of the key file: 'A.B.C.D KEY', '#' to the end of the line a
 * comment (cut off in line). 1 with the address (network order) and key,
 * 0 for a blank line, -1 when malformed. For the proxy (idx NULL) and the
 * senders, whose files may name the key index in a third field
 * ('A.B.C.D KEY INDEX': a host that holds only its own keys); *idx is -1
 * when the line has none.
 */
static inline int xpro_key_line(char *line, __u32 *addr, __u64 *k0, __u64 *k1, long *idx)
{
	char a[64], hex[64], extra[16], *hash = __builtin_strchr(line, '#'), *end;
	int n;

	if (hash)
		*hash = '\0';
	n = sscanf(line, "%63s %63s %15s", a, hex, extra);
	if (n <= 0)
		return 0;
	if (idx) {
		*idx = n == 3 ? strtol(extra, &end, 10) : -1;
		if (n == 3 && (*end || *idx < 0 || *idx > 0xffffffffL))
			return -1;
	}
	return (n == 2 || (n == 3 && idx)) && inet_pton(AF_INET, a, addr) == 1 && !xpro_key_hex(hex, k0, k1) ? 1 : -1;
}
#endif

#endif /* XPRO_MAC_H */
