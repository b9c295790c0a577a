/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Raw frames for xpro-bot: route and neighbour look-ups (the bot picks the
 * next hop itself: a proxy per --proxy-mode), the X-Pro tunnel wrapping
 * (docs/protocol.md, struct xpro_tun_hdr), and an AF_PACKET socket that
 * sends batches with sendmmsg.
 */
#ifndef XPRO_RAWSEND_H
#define XPRO_RAWSEND_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include "tunnel.h"
#include "clock.h"
#include <sys/socket.h>
#include <linux/if_packet.h>

#define RAW_ETH_LEN 14
#define RAW_BATCH 64
#define RAW_FRAME_MAX 2048

struct raw_if {
	int ifindex;
	char name[IF_NAMESIZE];
	uint8_t mac[6];
	uint32_t addr; /* an address of the interface, network order */
	int mtu;
};

/* The kernel's route to dst (network order): output interface and gateway
 * (0 when dst is on-link). */
int raw_route(uint32_t dst, int *ifindex, uint32_t *gw);
/* Local routes of the local table (ip route add local CIDR dev lo) that
 * are wider than /32, outside 127.0.0.0/8: up to max, returns how many. */
int raw_local_ranges(uint32_t *addr, int *plen, int max);
int raw_if_info(int ifindex, struct raw_if *ifc);
/* MAC of an on-link neighbour: the kernel's table, else our own ARP
 * request on the interface (3 tries, 300 ms each). */
int raw_resolve(const struct raw_if *ifc, uint32_t nh, uint8_t mac[6]);

/* Ethernet header (+ the tunnel headers when tunnel != 0: 1 header
 * version 1, 2 version 2) in front of the IPv4 packet that starts at
 * frame + raw_inner_off(tunnel). */
static inline size_t raw_inner_off(int tunnel)
{
	return RAW_ETH_LEN + (tunnel ? XPRO_TUN_OUTER_LEN : 0) +
	       (tunnel == 2 ? XPRO_TUN_HDR2_LEN - XPRO_TUN_HDR_LEN : 0);
}
/* Returns the frame length. outer_src/proxy in network order. tunnel 2:
 * version 2 under key (the inner packet already in place), or version 1
 * when key is NULL (the inner packet then starts at raw_inner_off(1)). */
size_t raw_wrap(uint8_t *frame, const uint8_t dmac[6], const uint8_t smac[6], int tunnel,
		uint32_t outer_src, uint32_t proxy, uint16_t tun_port, uint16_t outer_id, size_t inner_len,
		struct xpro_tun_key *key);

struct raw_sock {
	int fd;
	int ifindex;
	struct sockaddr_ll to;
	struct mmsghdr msg[RAW_BATCH];
	struct iovec iov[RAW_BATCH];
	uint8_t buf[RAW_BATCH][RAW_FRAME_MAX];
};

int raw_open(struct raw_sock *s, int ifindex);
/* Sends frames [0, n) with their lengths; returns how many went out (the
 * rest: the kernel refused, errno-style code in *err). Retries ENOBUFS and
 * EAGAIN until deadline_ns (CLOCK_MONOTONIC). */
int raw_send(struct raw_sock *s, const size_t *len, int n, uint64_t deadline_ns, int *err);
void raw_close(struct raw_sock *s);

#endif
