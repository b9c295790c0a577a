/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Packet builder for the BPF fixtures, written apart from the XDP program:
 * Ethernet + outer IPv4 + UDP + X-Pro header + inner IPv4 (or IPv6 with
 * extension headers) + UDP + payload, with knobs to break each field.
 * IPv4 header checksums are computed in full; UDP checksums are 0.
 */
#ifndef XPRO_TEST_PKT_H
#define XPRO_TEST_PKT_H

#include <stddef.h>
#include <stdint.h>
#include "xpro.h"

struct pkt_spec {
	uint8_t eth_dst[6], eth_src[6];
	uint16_t eth_proto;       /* host order; 0 = IPv4 */
	uint32_t o_src, o_dst;    /* outer addresses, network order */
	uint16_t o_frag;          /* outer frag_off field, host order */
	uint8_t o_proto;          /* 0 = UDP */
	uint16_t o_dport;         /* host order; 0 = 5683 */
	int no_outer;             /* inline: no tunnel, the inner packet right after Ethernet */
	uint8_t x_magic, x_version; /* 0 = valid */
	int v2;                   /* header version 2 (20 bytes): seq, key index, a MAC under (x_k0, x_k1) */
	uint32_t x_seq;           /* v2: sequence number */
	uint32_t x_key_index;     /* v2: the key's index in the proxy's table */
	uint64_t x_k0, x_k1;      /* v2: the key the MAC is made with */
	uint64_t x_mac_xor;       /* v2: flips bits of the MAC (a forged one) */
	int x_len_delta;          /* added to the X-Pro inner_len */
	int udp_len_delta;        /* added to the outer UDP length */
	uint32_t i_src, i_dst;    /* inner addresses */
	uint8_t i_version;        /* 0 = 4 */
	uint8_t i_ihl;            /* 0 = 5 */
	uint8_t i_ttl;            /* 0 = 64 */
	uint16_t i_frag;          /* inner frag_off, host order */
	int i_totlen_delta;       /* added to the inner tot_len */
	uint16_t i_sport, i_dport;
	size_t payload;           /* inner UDP payload bytes */
	size_t truncate;          /* if non-zero, cut the frame to this length */
	/* inner IPv6 (i6 = 1): i6_src, i6_dst; i_ttl is the hop limit,
	 * i_totlen_delta is added to payload_len; n_ext extension headers of
	 * the types in ext[] (8 + 8 x ext_len[k] bytes each, zero-filled: Pad1
	 * options), then the upper layer l4 (0 = UDP; 58 = ICMPv6 of type
	 * icmp_type: 8 bytes, then the payload) */
	int i6;
	uint8_t i6_src[16], i6_dst[16];
	int n_ext;
	uint8_t ext[8], ext_len[8];
	uint8_t l4, icmp_type;
};

void pkt_defaults(struct pkt_spec *s);
/* Build into buf (size cap); returns the frame length. */
size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap);
/* Offset of the inner IPv4 header in a frame built from s. */
size_t pkt_inner_off(const struct pkt_spec *s);
uint32_t ip4(const char *dotted);
/* An IPv6 address from its text form into a (16 bytes). */
void ip6(const char *text, uint8_t *a);
/* The record key a frame built from s is counted under: (outer source,
 * inner destination), or inline (source, destination); IPv4 v4-mapped. */
void pkt_key(const struct pkt_spec *s, struct xpro_addr *client, struct xpro_addr *dest);

#endif
