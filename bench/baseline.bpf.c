// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Baselines for `make bench`, measured on the same packets as X-Pro:
 *   xdp_drop:   XDP_DROP and nothing else (the floor).
 *   lru_filter: the least any rate filter does: parse to the IPv4 source
 *               (of the outer header), read the clock, look the source up
 *               in an LRU map (insert when missing), add atomically,
 *               compare with a threshold.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bpf_map.h"

struct lru_val {
	__u64 count;
	__u64 ts;
};

XPRO_MAP(lru_src, BPF_MAP_TYPE_LRU_HASH, 1 << 20, __u32, struct lru_val);

const volatile __u64 lru_threshold = 1000;

SEC("xdp")
int xdp_drop(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}

SEC("xdp")
int lru_filter(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct lru_val init = {}, *v;
	__u32 src;
	__u64 now, c;

	if ((void *)(iph + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(0x0800))
		return XDP_PASS;
	src = iph->saddr;
	now = bpf_ktime_get_ns();
	v = bpf_map_lookup_elem(&lru_src, &src);
	if (!v) {
		init.ts = now;
		bpf_map_update_elem(&lru_src, &src, &init, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&lru_src, &src);
		if (!v)
			return XDP_PASS;
	}
	c = __sync_fetch_and_add(&v->count, 1) + 1;
	v->ts = now;
	return c > lru_threshold ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
