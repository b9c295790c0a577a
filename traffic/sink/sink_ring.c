// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xpro-sink's AF_PACKET / TPACKET_V3 packet counter (sink_ring.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "sink_ring.h"

#define BLOCK_SIZE (1u << 20)
#define BLOCK_NR   8u
#define FRAME_SIZE 2048u
#define RETIRE_MS  20u

struct xs_ring {
	int fd;
	int vnet;
	uint8_t *map;
	size_t map_len;
	unsigned int cur;
};

int xs_ring_fd(const struct xs_ring *r)
{
	return r->fd;
}

int xs_ring_has_vnet(const struct xs_ring *r)
{
	return r->vnet;
}

static int setup(struct xs_ring *r, unsigned int ifindex, int vnet)
{
	/* "ret #SNAP": accept every frame, truncated to its first SNAP bytes */
	struct sock_filter insn = BPF_STMT(BPF_RET | BPF_K, XS_RING_SNAP);
	struct sock_fprog prog = { .len = 1, .filter = &insn };
	int ver = TPACKET_V3, err;
	struct tpacket_req3 req = {
		.tp_block_size = BLOCK_SIZE, .tp_block_nr = BLOCK_NR,
		.tp_frame_size = FRAME_SIZE, .tp_frame_nr = BLOCK_SIZE / FRAME_SIZE * BLOCK_NR,
		.tp_retire_blk_tov = RETIRE_MS,
	};
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = (int)ifindex };

	/* protocol 0: nothing is queued before the filter and the ring exist */
	r->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (r->fd < 0)
		return -errno;
	if (setsockopt(r->fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) ||
	    (vnet && setsockopt(r->fd, SOL_PACKET, PACKET_VNET_HDR, &vnet, sizeof(vnet))) ||
	    setsockopt(r->fd, SOL_PACKET, PACKET_VERSION, &ver, sizeof(ver)) ||
	    setsockopt(r->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)))
		goto fail;
	r->map_len = (size_t)BLOCK_SIZE * BLOCK_NR;
	r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, r->fd, 0);
	if (r->map == MAP_FAILED) {
		r->map = mmap(NULL, r->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
		if (r->map == MAP_FAILED) {
			r->map = NULL;
			goto fail;
		}
	}
	if (bind(r->fd, (struct sockaddr *)&sll, sizeof(sll)))
		goto fail;
	r->vnet = vnet;
	return 0;
fail:
	err = -errno;
	if (r->map)
		munmap(r->map, r->map_len);
	r->map = NULL;
	close(r->fd);
	r->fd = -1;
	return err;
}

int xs_ring_open(struct xs_ring **rp, const char *ifname)
{
	struct xs_ring *r = calloc(1, sizeof(*r));
	unsigned int ifindex = if_nametoindex(ifname);
	int err;

	if (!r)
		return -ENOMEM;
	if (!ifindex) {
		err = -errno;
		free(r);
		return err;
	}
	/* with the virtio-net header, GRO-merged frames tell their segment size */
	err = setup(r, ifindex, 1);
	if (err)
		err = setup(r, ifindex, 0);
	if (err) {
		free(r);
		return err;
	}
	*rp = r;
	return 0;
}

size_t xs_ring_drain(struct xs_ring *r, xs_ring_cb cb, void *ctx)
{
	size_t frames = 0;
	unsigned int b;

	/* at most one lap of the ring per call: the other events get their turn */
	for (b = 0; b < BLOCK_NR; b++) {
		struct tpacket_block_desc *bd = (void *)(r->map + (size_t)r->cur * BLOCK_SIZE);
		struct tpacket3_hdr *ph;
		uint32_t i, n;

		if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
			break;
		n = bd->hdr.bh1.num_pkts;
		ph = (void *)((uint8_t *)bd + bd->hdr.bh1.offset_to_first_pkt);
		for (i = 0; i < n; i++) {
			struct sockaddr_ll *sll = (void *)((uint8_t *)ph + TPACKET_ALIGN(sizeof(*ph)));
			uint8_t *mac = (uint8_t *)ph + ph->tp_mac;
			uint32_t gso = 0;

			if (sll->sll_pkttype != PACKET_OUTGOING && ph->tp_net >= ph->tp_mac &&
			    ph->tp_snaplen >= (uint32_t)(ph->tp_net - ph->tp_mac)) {
				if (r->vnet) {
					struct virtio_net_hdr *vh = (void *)(mac - sizeof(*vh));

					if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
						gso = vh->gso_size; /* little-endian host */
				}
				cb(ctx, ntohs(sll->sll_protocol), (uint8_t *)ph + ph->tp_net,
				   ph->tp_snaplen - (uint32_t)(ph->tp_net - ph->tp_mac),
				   ph->tp_len, gso);
				frames++;
			}
			ph = (void *)((uint8_t *)ph + ph->tp_next_offset);
		}
		__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
		r->cur = (r->cur + 1) % BLOCK_NR;
	}
	return frames;
}

int xs_ring_drops(struct xs_ring *r, uint64_t *drops)
{
	struct tpacket_stats_v3 st;
	socklen_t l = sizeof(st);

	if (getsockopt(r->fd, SOL_PACKET, PACKET_STATISTICS, &st, &l))
		return -errno;
	*drops += st.tp_drops;
	return 0;
}

void xs_ring_close(struct xs_ring *r)
{
	if (!r)
		return;
	if (r->map)
		munmap(r->map, r->map_len);
	if (r->fd >= 0)
		close(r->fd);
	free(r);
}
