// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpro-tun: the device side of the X-Pro tunnel, TC (clsact) egress.
 *
 * Every IPv4 packet leaving the interface is wrapped into the tunnel of
 * docs/protocol.md: outer IPv4 (source = the inner source, i.e. the
 * device's own address, which the proxy keys on; destination = the chosen
 * proxy), UDP to the proxy's tunnel port, struct xpro_tun_hdr, the packet.
 * Left untouched: what is not IPv4 (ARP), and anything addressed to a
 * proxy itself (which includes tunnel packets: the redirect below sends the
 * wrapped packet through this hook a second time).
 *
 * IPv6 packets go into the same IPv4 tunnel (docs/protocol.md, "Inner
 * IPv6"): the outer source is the IPv4 address in the low 32 bits of the
 * inner source (the /96 embedding, 2001:db8::c612:1005 -> 198.18.16.5), which
 * also keys tun_src and tun_keys. Left on the link: ICMPv6 neighbour
 * discovery (types 133-137), multicast and link-local packets, and packets
 * to a proxy's own IPv6 name (2001:db8:: + its IPv4 address).
 *
 * Proxy choice: a per-source entry of tun_src (xpro-device's per-device
 * failover), else the mode: fixed (slot 0), spread (hash of the inner
 * destination), failover (the first slot marked alive).
 *
 * The outer destination is then routed by bpf_redirect_neigh: the kernel's
 * FIB and neighbour table (ARP included) pick the proxy's MAC.
 * docs/xpro-tun.md has the design, the MTU note and the counters.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bpf_map.h"
#include "xpro.h"
#include "xpro_mac.h"
#include "tun_maps.h"

#define TC_ACT_OK_    0
#define TC_ACT_SHOT_  2
#define ETH_P_IP_     0x0800
#define ETH_P_IPV6_   0x86DD
#define NEXTHDR_FRAG_ 44
#define NEXTHDR_ICMP6_ 58
#define ETH_HLEN_     14
#define IP_MF_        0x2000
#define IP_DF_        0x4000
#define IP_OFFSET_    0x1FFF
#define ADJ_ROOM_ENCAP_L2(len) (((__u64)(len) & BPF_ADJ_ROOM_ENCAP_L2_MASK) << BPF_ADJ_ROOM_ENCAP_L2_SHIFT)

/* the maps of tun_maps.h */
XPRO_MAP(tun_cfg, BPF_MAP_TYPE_ARRAY, 1, __u32, struct xtun_cfg);
XPRO_MAP(tun_proxies, BPF_MAP_TYPE_ARRAY, XTUN_MAX_PROXIES, __u32, struct xtun_proxy);
XPRO_MAP(tun_pstats, BPF_MAP_TYPE_PERCPU_ARRAY, XTUN_MAX_PROXIES, __u32, struct xtun_pstat);
XPRO_MAP(tun_src, BPF_MAP_TYPE_HASH, XTUN_MAX_SOURCES, __be32, __u32);
XPRO_MAP(tun_counters, BPF_MAP_TYPE_PERCPU_ARRAY, XTUN_C__MAX, __u32, __u64);
XPRO_MAP(tun_keys, BPF_MAP_TYPE_HASH, XTUN_MAX_KEYS, __be32, struct xtun_key);

struct outer {
	struct iphdr ip;
	struct udphdr udp;
	struct xpro_tun_hdr xh;
};
_Static_assert(sizeof(struct outer) == XPRO_TUN_OUTER_LEN, "outer headers are 32 bytes");

static __always_inline int count(__u32 idx, int verdict)
{
	__u64 *v = bpf_map_lookup_elem(&tun_counters, &idx);

	if (v)
		*v += 1;
	return verdict;
}

static __always_inline __u16 ip_csum(const struct iphdr *iph)
{
	const __u16 *w = (const __u16 *)iph;
	__u32 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < 10; i++)
		sum += w[i];
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* header version 2 (a source with a key in tun_keys) */
struct outer2 {
	struct iphdr ip;
	struct udphdr udp;
	struct xpro_tun_hdr2 xh;
};
#define OUTER2_LEN (20 + 8 + XPRO_TUN_HDR2_LEN)
_Static_assert(sizeof(struct outer2) == OUTER2_LEN, "outer headers of version 2 are 48 bytes");

/*
 * Turn the version-1 headers o into version 2 in o2 under key k: the next
 * sequence number of the device, the key index, the MAC (bpf/xpro_mac.h)
 * over outer source, proxy, header bytes 0-7 and the inner addresses.
 */
static __always_inline void sign(struct outer2 *o2, const struct outer *o, struct xtun_key *k, __be32 daddr,
				 const __u8 *in6)
{
	__u32 seq = (__u32)__sync_fetch_and_add(&k->seq, 1) + 1;
	__be32 inner[2] = { o->ip.saddr, daddr };
	__u64 mac;
	int b;

	o2->ip = o->ip;
	o2->ip.tot_len = bpf_htons(bpf_ntohs(o->ip.tot_len) + XPRO_TUN_HDR2_LEN - XPRO_TUN_HDR_LEN);
	o2->ip.check = 0;
	o2->ip.check = ip_csum(&o2->ip);
	o2->udp = o->udp;
	o2->udp.len = bpf_htons(bpf_ntohs(o->udp.len) + XPRO_TUN_HDR2_LEN - XPRO_TUN_HDR_LEN);
	o2->xh.magic = XPRO_TUN_MAGIC;
	o2->xh.version = XPRO_TUN_VERSION2;
	o2->xh.inner_len = o->xh.inner_len;
	o2->xh.seq = bpf_htonl(seq);
	o2->xh.key_index = bpf_htonl(k->index);
	/* inner IPv6: its source and destination (in6, 32 bytes) */
	if (in6)
		mac = xpro_tun_mac6(k->k0, k->k1, o->ip.saddr, o->ip.daddr, (const __u8 *)&o2->xh, in6);
	else
		mac = xpro_tun_mac(k->k0, k->k1, o->ip.saddr, o->ip.daddr, (const __u8 *)&o2->xh, (const __u8 *)inner);
#pragma unroll
	for (b = 0; b < 8; b++)
		o2->xh.mac[b] = (__u8)(mac >> (8 * b));
}

/* the slot for this packet, or -1 */
static __always_inline int choose(const struct xtun_cfg *cfg, __be32 saddr, __be32 daddr)
{
	__u32 *pinned = bpf_map_lookup_elem(&tun_src, &saddr);
	__u32 n = cfg->nproxies, i;

	if (n == 0 || n > XTUN_MAX_PROXIES)
		return -1;
	if (pinned && *pinned < n)
		return *pinned;
	switch (cfg->mode) {
	case XTUN_MODE_SPREAD: {
		__u32 h = bpf_ntohl(daddr) * 2654435761u; /* Fibonacci hashing */

		return (h >> 16) % n;
	}
	case XTUN_MODE_FAILOVER:
		for (i = 0; i < XTUN_MAX_PROXIES; i++) {
			struct xtun_proxy *p;
			__u32 k = i;

			if (i >= n)
				break;
			p = bpf_map_lookup_elem(&tun_proxies, &k);
			if (p && p->alive)
				return i;
		}
		return -1;
	default:
		return 0;
	}
}

SEC("tc")
int xpro_tun_egress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct xtun_proxy *px;
	struct xtun_pstat *ps;
	struct xtun_cfg *cfg;
	struct iphdr *iph;
	struct outer o = {};
	struct outer2 o2 = {};
	struct xtun_key *key;
	__u32 zero = 0, i, slot, inner_len;
	__be32 saddr, daddr;
	__u8 tos, proto, in6[32];
	__u16 dport = 0;
	int s, is6 = 0;

	if ((void *)(eth + 1) > data_end)
		return count(XTUN_C_PASS_OTHER, TC_ACT_OK_);
	if (eth->h_proto == bpf_htons(ETH_P_IPV6_)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		__u32 hi[3];

		if ((void *)(ip6 + 1) > data_end || ip6->version != 6)
			return count(XTUN_C_DROP_MALFORMED, TC_ACT_SHOT_);
		/* what stays on the link: multicast, link-local, neighbour discovery */
		if (ip6->daddr.in6_u.u6_addr8[0] == 0xff ||
		    (ip6->daddr.in6_u.u6_addr8[0] == 0xfe && (ip6->daddr.in6_u.u6_addr8[1] & 0xc0) == 0x80) ||
		    (ip6->saddr.in6_u.u6_addr8[0] == 0xfe && (ip6->saddr.in6_u.u6_addr8[1] & 0xc0) == 0x80))
			return count(XTUN_C_PASS_OTHER, TC_ACT_OK_);
		if (ip6->nexthdr == NEXTHDR_ICMP6_) {
			__u8 *t = (void *)(ip6 + 1);

			if ((void *)(t + 1) <= data_end && *t >= 133 && *t <= 137)
				return count(XTUN_C_PASS_OTHER, TC_ACT_OK_);
		}
		is6 = 1;
		__builtin_memcpy(in6, &ip6->saddr, 16);
		__builtin_memcpy(in6 + 16, &ip6->daddr, 16);
		saddr = ip6->saddr.in6_u.u6_addr32[3];
		daddr = ip6->daddr.in6_u.u6_addr32[3];
		hi[0] = ip6->daddr.in6_u.u6_addr32[0];
		hi[1] = ip6->daddr.in6_u.u6_addr32[1];
		hi[2] = ip6->daddr.in6_u.u6_addr32[2];
		if (hi[0] != bpf_htonl(0x20010db8) || hi[1] || hi[2])
			daddr = 0; /* not a testbed IPv4 name: no proxy's */
		tos = (__u8)(bpf_ntohs(*(__be16 *)ip6) >> 4);
		proto = ip6->nexthdr;
		inner_len = 40 + bpf_ntohs(ip6->payload_len);
		if (proto == IPPROTO_UDP) {
			struct udphdr *udp = (void *)(ip6 + 1);

			if ((void *)(udp + 1) <= data_end)
				dport = udp->dest;
		}
		goto parsed;
	}
	if (eth->h_proto != bpf_htons(ETH_P_IP_))
		return count(XTUN_C_PASS_OTHER, TC_ACT_OK_);
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end || iph->version != 4 || iph->ihl < 5)
		return count(XTUN_C_DROP_MALFORMED, TC_ACT_SHOT_);
	saddr = iph->saddr;
	daddr = iph->daddr;
	tos = iph->tos;
	proto = iph->protocol;
	inner_len = bpf_ntohs(iph->tot_len);
	if (proto == IPPROTO_UDP && iph->ihl == 5) {
		struct udphdr *udp = (void *)(iph + 1);

		if ((void *)(udp + 1) <= data_end)
			dport = udp->dest;
	}
parsed:
	cfg = bpf_map_lookup_elem(&tun_cfg, &zero);
	if (!cfg)
		return count(XTUN_C_DROP_NO_PROXY, TC_ACT_SHOT_);

	/* a proxy's own address: tunnel packets (our second pass) and the rest */
	for (i = 0; i < XTUN_MAX_PROXIES; i++) {
		__u32 k = i;

		if (i >= cfg->nproxies)
			break;
		px = bpf_map_lookup_elem(&tun_proxies, &k);
		if (px && px->addr == daddr) {
			if (proto == IPPROTO_UDP && dport == px->port)
				return count(XTUN_C_PASS_TUNNEL, TC_ACT_OK_);
			return count(XTUN_C_PASS_PROXY, TC_ACT_OK_);
		}
	}

	if (is6) {
		/* a fragment header right after the fixed header: proxies drop it */
		if (proto == NEXTHDR_FRAG_)
			return count(XTUN_C_DROP_FRAG, TC_ACT_SHOT_);
		if (inner_len != skb->len - ETH_HLEN_)
			return count(XTUN_C_DROP_MALFORMED, TC_ACT_SHOT_);
	} else {
		if (iph->frag_off & bpf_htons(IP_MF_ | IP_OFFSET_))
			return count(XTUN_C_DROP_FRAG, TC_ACT_SHOT_);
		if (inner_len < iph->ihl * 4 || inner_len != skb->len - ETH_HLEN_)
			return count(XTUN_C_DROP_MALFORMED, TC_ACT_SHOT_);
	}
	if (skb->gso_segs > 1)
		return count(XTUN_C_DROP_GSO, TC_ACT_SHOT_);

	s = choose(cfg, saddr, daddr);
	if (s < 0)
		return count(XTUN_C_DROP_NO_PROXY, TC_ACT_SHOT_);
	slot = s;
	px = bpf_map_lookup_elem(&tun_proxies, &slot);
	if (!px || !px->addr)
		return count(XTUN_C_DROP_NO_PROXY, TC_ACT_SHOT_);

	o.ip.version = 4;
	o.ip.ihl = 5;
	o.ip.tos = tos;
	o.ip.tot_len = bpf_htons(inner_len + XPRO_TUN_OUTER_LEN);
	o.ip.id = 0;
	o.ip.frag_off = bpf_htons(IP_DF_);
	o.ip.ttl = 64;
	o.ip.protocol = IPPROTO_UDP;
	o.ip.saddr = saddr;
	o.ip.daddr = px->addr;
	o.ip.check = ip_csum(&o.ip);
	/* source port: the flow's hash, for the proxy's RSS; 49152-65535 */
	o.udp.source = bpf_htons(49152 | (bpf_get_hash_recalc(skb) & 0x3fff));
	o.udp.dest = px->port;
	o.udp.len = bpf_htons(inner_len + 8 + XPRO_TUN_HDR_LEN);
	o.udp.check = 0; /* IPv4: none; the proxy's XDP does not check it */
	o.xh.magic = XPRO_TUN_MAGIC;
	o.xh.version = XPRO_TUN_VERSION;
	o.xh.inner_len = bpf_htons(inner_len);

	key = bpf_map_lookup_elem(&tun_keys, &saddr);
	/* the kernel no longer checks the MTU in adjust_room at TC: do it here */
	{
		__u32 mtu = 0;

		if (bpf_check_mtu(skb, 0, &mtu, key ? OUTER2_LEN : XPRO_TUN_OUTER_LEN, 0))
			return count(XTUN_C_DROP_TOO_BIG, TC_ACT_SHOT_);
	}
	if (key) {
		sign(&o2, &o, key, daddr, is6 ? in6 : NULL);
		s = bpf_skb_adjust_room(skb, OUTER2_LEN, BPF_ADJ_ROOM_MAC,
					BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP |
					ADJ_ROOM_ENCAP_L2(XPRO_TUN_HDR2_LEN));
		if (s || bpf_skb_store_bytes(skb, ETH_HLEN_, &o2, sizeof(o2), 0))
			return count(XTUN_C_DROP_ERROR, TC_ACT_SHOT_);
	} else {
		s = bpf_skb_adjust_room(skb, XPRO_TUN_OUTER_LEN, BPF_ADJ_ROOM_MAC,
					BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP |
					ADJ_ROOM_ENCAP_L2(XPRO_TUN_HDR_LEN));
		if (s || bpf_skb_store_bytes(skb, ETH_HLEN_, &o, sizeof(o), 0))
			return count(XTUN_C_DROP_ERROR, TC_ACT_SHOT_);
	}

	if (is6) {
		/* the frame is IPv4 now (adjust_room set skb->protocol) */
		__be16 ethp = bpf_htons(ETH_P_IP_);

		if (bpf_skb_store_bytes(skb, 12, &ethp, 2, 0))
			return count(XTUN_C_DROP_ERROR, TC_ACT_SHOT_);
	}
	ps = bpf_map_lookup_elem(&tun_pstats, &slot);
	if (ps) {
		ps->packets += 1;
		ps->bytes += inner_len;
	}
	count(XTUN_C_ENCAP, 0);
	/* route the outer destination: FIB + neighbour (ARP) of this interface */
	return bpf_redirect_neigh(skb->ifindex, NULL, 0, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
