/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The X-Pro tunnel for the userspace tools that build their own frames
 * (xpro-bot's raw vectors, xpro-replay): the outer headers of docs/protocol.md in front of an inner IPv4 or IPv6 packet. The
 * device-side TC program (traffic/tun/tun_egress.bpf.c) does the same in the kernel.
 */
#ifndef XPRO_TRAFFIC_TUNNEL_H
#define XPRO_TRAFFIC_TUNNEL_H

#include <stddef.h>
#include <stdint.h>
#include "xpro.h"
#include "csum.h" /* the Internet checksum, xpro_csum() */

/*
 * Write the XPRO_TUN_OUTER_LEN bytes that go in front of an inner packet of
 * inner_len bytes: IPv4 (src -> proxy, ID id, DF, TTL 64, checksum set),
 * UDP (sport -> dport, checksum 0: allowed in IPv4, the proxy does not
 * check it; a caller may set one once the inner packet is in place), and
 * the X-Pro header. Addresses in network order, ports and id in host order.
 */
void xpro_tun_outer(uint8_t *out, uint32_t src, uint32_t proxy, uint16_t sport, uint16_t dport,
		    uint16_t id, size_t inner_len);

/* A device's key (docs/protocol.md, "Client identity"): its 128 bits and its
 * index in the key file; seq the last sequence number sent (0: none yet). */
struct xpro_tun_key {
	__u64 k0, k1;
	uint32_t index;
	uint32_t seq;
};

/* The outer headers' length: version 1 without a key, version 2 with one. */
static inline size_t xpro_tun_outer_len(const struct xpro_tun_key *key)
{
	return 20 + 8 + (key ? XPRO_TUN_HDR2_LEN : XPRO_TUN_HDR_LEN);
}

/*
 * xpro_tun_outer with a key: the version-2 header (the next sequence number,
 * key index and MAC). The inner packet must already be in place at
 * out + xpro_tun_outer_len(key), its source and destination final (an inner
 * IPv6 packet, version nibble 6, is signed by xpro_tun_mac6). key NULL:
 * version 1, as xpro_tun_outer.
 */
void xpro_tun_outer_key(uint8_t *out, uint32_t src, uint32_t proxy, uint16_t sport, uint16_t dport,
			uint16_t id, size_t inner_len, struct xpro_tun_key *key);

/*
 * The key file (the proxy's device_keys, docs/config.md): '#' comments,
 * one "A.B.C.D KEY" line per device, a key's index its entry's place from 0,
 * or "A.B.C.D KEY INDEX" lines naming it (a sender's file of its own keys).
 * xpro_keyfile_load: the number of keys (>= 0, *out malloc'd: free it) or
 * -1 with a message in err. A file readable by group or others is refused.
 */
struct xpro_keyfile {
	uint32_t n;
	uint32_t *addr;            /* network order */
	struct xpro_tun_key *key;
};
int xpro_keyfile_load(const char *path, struct xpro_keyfile *out, char *err, size_t errlen);
/* The key of the device at addr (network order), or NULL. */
struct xpro_tun_key *xpro_keyfile_find(struct xpro_keyfile *kf, uint32_t addr);
void xpro_keyfile_free(struct xpro_keyfile *kf);

#endif
