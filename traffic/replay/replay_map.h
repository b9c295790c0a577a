/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xpro-replay's packet work, free of I/O: find the IPv4 packet in a captured
 * frame, map its addresses into the testbed (seeded, deterministic), fix
 * its checksums, and build the X-Pro tunnel packet around it.
 * docs/xpro-replay.md gives the mapping as a formula.
 */
#ifndef XPRO_REPLAY_MAP_H
#define XPRO_REPLAY_MAP_H

#include <stddef.h>
#include <stdint.h>
#include "tunnel.h"

/* What a captured frame holds. */
enum xr_frame {
	XR_IPV4 = 0,     /* a complete IPv4 packet */
	XR_IPV6,         /* a complete IPv6 packet (40 + payload length) */
	XR_NONIP,        /* ARP, LLDP, anything else: skipped */
	XR_TRUNCATED,    /* the capture holds less than the IPv4 total length */
	XR_MALFORMED,    /* IPv4 with a header length or total length that lies */
};

/*
 * Finds the IPv4 packet in a frame of link type dlt (DLT_EN10MB with
 * 802.1Q/802.1ad tags, DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_LINUX_SLL,
 * DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP). On XR_IPV4 and XR_IPV6, *ip points
 * at the packet and *iplen is its total length (Ethernet padding dropped).
 */
enum xr_frame xr_frame_ipv4(int dlt, const uint8_t *frame, size_t caplen, const uint8_t **ip,
			    size_t *iplen);
/* 1 when xr_frame_ipv4 understands link type dlt. */
int xr_dlt_supported(int dlt);

/* A mapping range: base address (network order) and prefix length. */
struct xr_range {
	uint32_t base;
	int plen;
};

/* splitmix64 of (seed << 32) ^ addr (addr in host order). */
uint64_t xr_hash(uint64_t seed, uint32_t addr_host);
/* Maps addr (network order) into r; returns network order. Ranges of 4 or
 * more addresses never yield their first or last address. */
uint32_t xr_map(uint64_t seed, const struct xr_range *r, uint32_t addr);

/*
 * Rewrites the IPv4 packet pkt (len bytes, its total length) in place with
 * new source and destination and fixes the checksums: the IPv4 header's;
 * TCP's and UDP's recomputed over the pseudo-header when the packet is not
 * a fragment (a UDP result of 0 is sent as 0xffff); in a first fragment,
 * TCP's and UDP's updated incrementally for the address change (RFC 1624).
 */
void xr_rewrite(uint8_t *pkt, size_t len, uint32_t src, uint32_t dst);

/*
 * IPv6: an address of the capture folded into 32 bits (host order): h = 0,
 * then for each of its four 32-bit words w (big-endian) h = low 32 bits of
 * xr_hash(seed, h ^ w). xr_map6 maps that as an IPv4 address into r
 * (network order); the packet then carries the result's testbed IPv6 name,
 * 2001:db8:: + it.
 */
uint32_t xr_fold6(uint64_t seed, const uint8_t a[16]);
uint32_t xr_map6(uint64_t seed, const struct xr_range *r, const uint8_t a[16]);
/*
 * Rewrites the IPv6 packet pkt (len bytes) with the IPv6 names of src and
 * dst (network order) and fixes the TCP, UDP or ICMPv6 checksum after at
 * most 8 extension headers: recomputed, or in a first fragment updated for
 * the address change (RFC 1624); a later fragment has none.
 */
void xr_rewrite6(uint8_t *pkt, size_t len, uint32_t src, uint32_t dst);


/*
 * Writes the tunnel packet: outer IPv4 (src -> proxy, DF, TTL 64, ID id),
 * UDP (sport -> port, checksum computed), X-Pro header (bpf/xpro.h), then
 * the inner packet. out must hold 48 + inner_len bytes. Returns the length.
 * key: header version 2 under that key (its next sequence number), NULL:
 * version 1 (docs/protocol.md, "Client identity").
 */
size_t xr_tunnel(uint8_t *out, uint32_t src, uint32_t proxy, uint16_t sport, uint16_t port,
		 uint16_t id, const uint8_t *inner, size_t inner_len, struct xpro_tun_key *key);

#endif
