/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The X-Pro tunnel for the userspace tools that build their own frames
 * (xpro-bot's raw vectors, xpro-replay): the outer headers of docs/protocol.md in front of an inner IPv4 packet. The
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

#endif
