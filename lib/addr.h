/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * struct xpro_addr (bpf/xpro.h) in userspace: its one text form, a strict
 * parser, equality, order, a hash for userspace tables, and prefixes
 * (docs/algorithms.md, "Addresses").
 *
 * Text form: a v4-mapped address (::ffff:a.b.c.d, how an IPv4 address is
 * stored) is written dotted, "a.b.c.d"; any other as inet_ntop(AF_INET6)
 * writes it (RFC 5952: lowercase, no leading zeros, the longest run of
 * zero groups as "::"). The parser accepts exactly these forms, so one
 * address has one name: "::ffff:1.2.3.4" is refused (its name is
 * "1.2.3.4"), as are "2001:DB8::1", "2001:db8:0:0:0:0:0:1", "1.2.3.04".
 *
 * Prefixes are kept as in the kernel's LPM keys: an IPv4 prefix a.b.c.d/L
 * is the v4-mapped address with length 96 + L.
 */
#ifndef XPRO_ADDR_LIB_H
#define XPRO_ADDR_LIB_H

#include <stddef.h>
#include <stdint.h>
#include "xpro.h"

/* The longest text form with its '\0' (INET6_ADDRSTRLEN). */
#define XPRO_ADDR_STRLEN 46
/* The longest prefix text, "<address>/128", with its '\0'. */
#define XPRO_PREFIX_STRLEN (XPRO_ADDR_STRLEN + 4)

/* The v4-mapped address of v4 (network order). */
static inline struct xpro_addr xpro_addr4(uint32_t v4)
{
	struct xpro_addr a;

	xpro_addr_set4(&a, v4);
	return a;
}

/* The text form of a into buf (XPRO_ADDR_STRLEN); returns buf. */
char *xpro_addr_str(char *buf, const struct xpro_addr *a);

/* The len bytes at s (not terminated; a '\0' among them is refused) into
 * *a when they are the text form of an address: 0, else -1 (*a untouched). */
int xpro_addr_parse(const char *s, size_t len, struct xpro_addr *a);
/* The same for a terminated string. */
int xpro_addr_parse_str(const char *s, struct xpro_addr *a);

/* 1 when a and b are the same address. */
int xpro_addr_eq(const struct xpro_addr *a, const struct xpro_addr *b);
/* <0, 0, >0: the order of the 16 bytes (network order), so every IPv4
 * address sorts in numeric order, together, between ::fffe:ffff:ffff and
 * ::1:0:0:0. */
int xpro_addr_cmp(const struct xpro_addr *a, const struct xpro_addr *b);
/* A 32-bit hash of the 16 bytes (well mixed: any low bits index a table). */
uint32_t xpro_addr_hash(const struct xpro_addr *a);

/* 1 when a lies in net/len (len 0..128; IPv4 prefixes are 96 + L). */
int xpro_addr_in_prefix(const struct xpro_addr *a, const struct xpro_addr *net, unsigned int len);
/* a with every bit after the first len cleared. */
struct xpro_addr xpro_addr_mask(const struct xpro_addr *a, unsigned int len);

/*
 * A prefix "a.b.c.d/L" (L 0..32, stored as 96 + L) or "<IPv6>/L" (L
 * 0..128) of len bytes: the address in its text form, '/', L in decimal
 * without a leading zero; no host bit set. 0, else -1 (outputs untouched).
 * (An IPv6 prefix of v4-mapped addresses is written in IPv4 form: its
 * address text is dotted, and any length below 96 would leave host bits.)
 */
int xpro_addr_prefix_parse(const char *s, size_t len, struct xpro_addr *net, unsigned int *plen);
/* The text of net/len into buf (XPRO_PREFIX_STRLEN): "a.b.c.d/L" (len -
 * 96) when net is v4-mapped and len >= 96; returns buf. */
char *xpro_addr_prefix_str(char *buf, const struct xpro_addr *net, unsigned int len);

#endif
