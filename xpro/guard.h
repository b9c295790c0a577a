/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The reverse firewall's config keys (docs/config.md: proxies, mgmt_prefixes,
 * device_prefixes): parsed here, written into the XDP program's LPM maps
 * xpro_guard and xpro_devnets by `xpro attach` (docs/protocol.md).
 */
#ifndef XPRO_GUARD_H
#define XPRO_GUARD_H

#include <stddef.h>
#include <stdint.h>

struct xpro_config;

#include "xpro.h"

struct xpro_guard_ent {
	uint32_t client;      /* network order; device_prefixes only (an IPv4 address) */
	struct xpro_addr net; /* IPv6, or IPv4 v4-mapped; host bits cleared */
	uint32_t len;         /* prefix length over the 128 bits: IPv4 /L is 96 + L */
};

/*
 * Parse a list of prefixes, IPv4 (A.B.C.D or A.B.C.D/LEN) or IPv6 in its
 * canonical form (ADDR or ADDR/LEN, as inet_ntop writes ADDR; v4-mapped
 * ones are refused: write them as IPv4), or with per_client of
 * CLIENT=PREFIX (CLIENT an IPv4 address), separated by commas or spaces;
 * "" and "none" are the empty list. Fills up to max entries of out (may be
 * NULL). Returns the count, or -EINVAL with a message in err.
 */
int xpro_guard_parse(const char *v, int per_client, struct xpro_guard_ent *out, size_t max,
		     char *err, size_t errlen);
/* One prefix of such a list: 0 with the network (host bits cleared) and
 * its length over the 128 bits, or -EINVAL. */
int xpro_guard_prefix(const char *s, struct xpro_addr *net, uint32_t *len);
/* Entries of the two maps the config asks for: proxies + mgmt_prefixes, and
 * device_prefixes. */
void xpro_guard_count(const struct xpro_config *c, int *nguard, int *ndevnets);
/* Write them into the loaded program's maps. 0 or -errno. */
int xpro_guard_fill(const struct xpro_config *c, int guard_fd, int devnets_fd);

/*
 * Client identity (docs/protocol.md): a device key file has one line per
 * device, "A.B.C.D KEY", KEY the 16 key bytes as 32 hex digits; # starts
 * a comment; a device's key index (in its version-2 headers) is the place
 * of its line among the file's entries, from 0. xpro_key_hex parses KEY
 * (k0: bytes 0-7, k1: bytes 8-15, little endian); xpro_keys_load reads the
 * file and, with fd >= 0, writes every key with a fresh replay window into
 * xpro_devkeys (fd) and its index into xpro_keyidx (idx_fd). Count or
 * -errno (err says where; a device listed twice is EEXIST). KEY is read by
 * xpro_key_hex (bpf/xpro_mac.h).
 */
int xpro_keys_load(const char *path, int fd, int idx_fd, char *err, size_t errlen);

#endif
