/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xpro-sink's packet counter: an AF_PACKET socket with a TPACKET_V3 receive
 * ring on one interface. It sees every frame the interface receives
 * (whatever socket, if any, takes it later: SYN floods, ACK floods, GRE,
 * closed ports), truncated to its first bytes by a one-instruction socket
 * filter. Frames the host sends are skipped.
 */
#ifndef XPRO_SINK_RING_H
#define XPRO_SINK_RING_H

#include <stddef.h>
#include <stdint.h>

#define XS_RING_SNAP 128   /* bytes of each frame copied into the ring */

struct xs_ring;

/*
 * One received frame: proto is its EtherType (host order), l3 its network
 * header (caplen bytes of it present), wire_len the frame's length, gso_size
 * the segment size when GRO merged TCP segments into it (read from the
 * virtio-net header when the kernel provides one), else 0.
 */
typedef void (*xs_ring_cb)(void *ctx, uint16_t proto, const uint8_t *l3, size_t caplen,
			   uint32_t wire_len, uint32_t gso_size);

int xs_ring_open(struct xs_ring **r, const char *ifname);
int xs_ring_fd(const struct xs_ring *r);
/* Hands every frame of the blocks the kernel has released to cb, at most
 * one lap of the ring per call; returns the number of frames. */
size_t xs_ring_drain(struct xs_ring *r, xs_ring_cb cb, void *ctx);
/* Adds the kernel's drop count since the last call (ring full) to *drops. */
int xs_ring_drops(struct xs_ring *r, uint64_t *drops);
/* 1 when frames carry a virtio-net header (GRO sizes known). */
int xs_ring_has_vnet(const struct xs_ring *r);
void xs_ring_close(struct xs_ring *r);

#endif
