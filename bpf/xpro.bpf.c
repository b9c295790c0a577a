// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * X-Pro proxy: Algorithm 2 at the XDP hook.
 *
 * Tunnel mode (default): IPv4/UDP to cfg_tun_addr:cfg_tun_port carrying an
 * X-Pro header and the device's IPv4 or IPv6 packet (docs/protocol.md). Key:
 * (outer source, inner destination), both as struct xpro_addr. A passed
 * packet is decapsulated and forwarded with bpf_fib_lookup +
 * redirect/XDP_TX, or handed to the kernel when the FIB needs it (no
 * neighbour, fragmentation needed, TTL or hop limit). Outer IPv6: neighbour
 * discovery to the kernel, the rest by the ipv6 setting.
 * Inline mode: plain routed IPv4, key (source, destination); routed IPv6
 * the same with ipv6 = filter.
 * Everything else goes to the kernel untouched.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "xpro.h"
#include "xpro_decide.h"
#include "xpro_mac.h"
#include "xpro_maps.bpf.h"

#define ETH_P_IP_    0x0800
#define ETH_P_IPV6_  0x86DD
#define IP_MF_       0x2000
#define IP_OFFSET_   0x1FFF
#define AF_INET_     2
#define AF_INET6_    10

/* IPv6 next-header values the walk knows (docs/protocol.md, "Inner IPv6") */
#define NH_HOP_      0
#define NH_TCP_      6
#define NH_UDP_      17
#define NH_ROUTING_  43
#define NH_FRAGMENT_ 44
#define NH_ICMPV6_   58
#define NH_NONE_     59
#define NH_DSTOPTS_  60
/* extension headers skipped before the upper layer; one more is exthdr */
#define XPRO_EXTHDRS_MAX 4

/* Inline mode: encapsulations a kernel forwards without this filter. */
static __always_inline int is_encap(__be16 proto)
{
	return proto == bpf_htons(0x8100) || /* 802.1Q VLAN */
	       proto == bpf_htons(0x88A8) || /* 802.1ad QinQ */
	       proto == bpf_htons(0x9100) || /* old QinQ */
	       proto == bpf_htons(0x8863) || /* PPPoE discovery */
	       proto == bpf_htons(0x8864);   /* PPPoE session */
}

/* Fixed at load (docs/config.md); never a policy. */
const volatile __u32 cfg_mode = 0;        /* 0 tunnel, 1 inline */
const volatile __be32 cfg_tun_addr = 0;   /* proxy's tunnel address */
const volatile __be16 cfg_tun_port = 0;   /* tunnel UDP port */
const volatile __u8 cfg_test_clock = 0;   /* tests only: time from test_now */
const volatile __u8 cfg_guard = 0;        /* xpro_guard has entries */
const volatile __u8 cfg_devnets = 0;      /* xpro_devnets has entries */
const volatile __u8 cfg_keys = 0;         /* xpro_devkeys has entries: identity on */
const volatile __u8 cfg_v1 = 1;           /* 1: accept header version 1 (tunnel_v1) */
const volatile __u8 cfg_embed6 = 0;       /* device_embed6 set: cfg_embed6_net is its /96 */
const volatile __be32 cfg_embed6_net[3] = { 0, 0, 0 };

/* Written by tests through the skeleton when cfg_test_clock is set. */
__u64 test_now = 0;

static __always_inline __u64 xpro_now(void)
{
	if (cfg_test_clock)
		return test_now;
	return bpf_ktime_get_tai_ns();
}

static __always_inline void count(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&xpro_counters, &idx);

	if (v)
		*v += 1; /* per-CPU slot */
}

static __always_inline int drop(__u32 idx)
{
	count(idx);
	return XDP_DROP;
}

static __always_inline int to_kernel_untouched(void)
{
	count(XPRO_C_NOT_TUNNEL);
	return XDP_PASS;
}



static __always_inline void send_warning(const struct xpro_key *key,
					 const struct xpro_record *rec,
					 __u64 now, __u32 reason)
{
	struct xpro_warning *w;

	w = bpf_ringbuf_reserve(&xpro_warnings, sizeof(*w), 0);
	if (!w) {
		count(XPRO_C_WARN_LOST);
		return;
	}
	w->ts = now;
	w->client = key->client;
	w->dest = key->dest;
	w->count = rec->c_l;
	w->window_ns = rec->ts2_l - rec->ts1_l;
	w->reason = reason;
	w->pad = 0;
	bpf_ringbuf_submit(w, 0);
	count(XPRO_C_WARN_SENT);
}

/*
 * Run the shared decision for key at now, with the map plumbing: a missing
 * record or aggregate is decided on this CPU's scratch copy (xpro_scratch:
 * the stack holds at most 512 bytes, and newer clangs spill more) and
 * inserted with BPF_NOEXIST; if another CPU
 * inserted it meanwhile, this packet's counts are added to that one, so no
 * packet goes uncounted. The scratch lookup cannot fail (index 0 of a
 * one-entry array); if it did, the packet is dropped as drop_no_config.
 */
#define XPRO_R_NO_SCRATCH_ 255 /* filter's reason when xpro_scratch is unreadable */

static __always_inline __u32 filter(const struct xpro_key *key,
				    const struct xpro_params *p, __u64 now,
				    __u32 *reason, struct xpro_agg **agg_io)
{
	struct xpro_record *rec, *rec_new = NULL;
	struct xpro_agg *agg_new = NULL, *agg = *agg_io;
	struct xpro_scratch *scr = NULL;
	__u64 tf2 = p->tf2, *over;
	__u32 verdict, flags = 0, zero = 0;
	int rec_found = 1, agg_found = 1, agg_counted;

	rec = bpf_map_lookup_elem(&xpro_records, key);
	if (!rec || !agg) {
		scr = bpf_map_lookup_elem(&xpro_scratch, &zero);
		if (!scr) {
			*reason = XPRO_R_NO_SCRATCH_;
			return XPRO_DROP;
		}
	}
	if (!rec && scr) {
		rec_new = &scr->rec;
		__builtin_memset(rec_new, 0, sizeof(*rec_new));
		rec = rec_new;
		rec_found = 0;
	}
	if (!agg && scr) {
		agg_new = &scr->agg;
		__builtin_memset(agg_new, 0, sizeof(*agg_new));
		agg = agg_new;
		agg_found = 0;
	}
	if (p->tf2_overrides) {
		over = bpf_map_lookup_elem(&xpro_tf2, &key->dest);
		if (over)
			tf2 = *over;
	}

	verdict = xpro_decide(rec, rec_found, agg, agg_found, p, tf2, now,
			      reason, &flags);

	if (!rec_found && rec_new) {
		if (bpf_map_update_elem(&xpro_records, key, rec_new, BPF_NOEXIST) == 0) {
			count(XPRO_C_RECORD_NEW);
		} else {
			rec = bpf_map_lookup_elem(&xpro_records, key);
			if (rec) {
				__sync_fetch_and_add(&rec->c_l, 1);
				__sync_fetch_and_add(&rec->dc, 1);
			} else {
				count(XPRO_C_RECORD_FULL);
			}
		}
	}
	if (!agg_found && agg_new) {
		agg_counted = p->policy != XPRO_POLICY_FAIR || *reason != XPRO_R_TF1;
		if (bpf_map_update_elem(&xpro_aggs, &key->dest, agg_new, BPF_NOEXIST) == 0) {
			count(XPRO_C_AGG_NEW);
		} else {
			agg = bpf_map_lookup_elem(&xpro_aggs, &key->dest);
			if (agg) {
				__sync_fetch_and_add(&agg->nact, 1);
				if (agg_counted)
					__sync_fetch_and_add(&agg->dc, 1);
			}
		}
	}
	if ((flags & XPRO_F_WARN) && rec)
		send_warning(key, rec, now, *reason);
	*agg_io = agg_found ? agg : NULL; /* the map's value, for the route cache */
	return verdict;
}

static __always_inline int count_drop_reason(__u32 reason)
{
	if (reason == XPRO_R_NO_SCRATCH_)
		return drop(XPRO_C_DROP_NO_CONFIG);
	if (reason == XPRO_R_TF1)
		return drop(XPRO_C_DROP_TF1);
	if (reason == XPRO_R_TF2)
		return drop(XPRO_C_DROP_TF2);
	return drop(XPRO_C_DROP_TF2_FAIR);
}

/* TTL decrement with incremental checksum update (RFC 1624). */
static __always_inline void ip_decrease_ttl(struct iphdr *iph)
{
	__u32 check = (__u32)iph->check;

	check += (__u32)bpf_htons(0x0100);
	iph->check = (__sum16)(check + (check >= 0xFFFF));
	iph->ttl--;
}

static __always_inline int fib_prepare(struct xdp_md *ctx, struct bpf_fib_lookup *fib,
				       const struct iphdr *iph)
{
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = AF_INET_;
	fib->tos = iph->tos;
	fib->l4_protocol = iph->protocol;
	fib->tot_len = bpf_ntohs(iph->tot_len);
	fib->ipv4_src = iph->saddr;
	fib->ipv4_dst = iph->daddr;
	fib->ifindex = ctx->ingress_ifindex;
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
}

/* The same for an IPv6 packet (flow label, next header, hop limit). */
static __always_inline int fib_prepare6(struct xdp_md *ctx, struct bpf_fib_lookup *fib,
					const struct ipv6hdr *ip6h, __u8 l4proto)
{
	__builtin_memset(fib, 0, sizeof(*fib));
	fib->family = AF_INET6_;
	fib->flowinfo = *(const __be32 *)ip6h & bpf_htonl(0x0FFFFFFF);
	fib->l4_protocol = l4proto;
	fib->tot_len = sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len);
	__builtin_memcpy(fib->ipv6_src, &ip6h->saddr, 16);
	__builtin_memcpy(fib->ipv6_dst, &ip6h->daddr, 16);
	fib->ifindex = ctx->ingress_ifindex;
	return bpf_fib_lookup(ctx, fib, sizeof(*fib), 0);
}

/*
 * Forward an IPv4 (v6 = 0) or IPv6 packet that starts right after the
 * Ethernet header at data, after a FIB lookup that returned rc. IPv6 has no
 * header checksum: the hop limit is decremented as it is.
 */
static __always_inline int forward(struct xdp_md *ctx, struct bpf_fib_lookup *fib, int rc, int v6)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = data + sizeof(*eth);
	struct ipv6hdr *ip6h = data + sizeof(*eth);

	if (v6 ? (void *)(ip6h + 1) > data_end : (void *)(iph + 1) > data_end)
		return drop(XPRO_C_DROP_TRUNCATED);

	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		if (v6) {
			if (ip6h->hop_limit <= 1)
				break; /* the kernel answers with ICMPv6 time exceeded */
			ip6h->hop_limit--;
		} else {
			if (iph->ttl <= 1)
				break; /* the kernel answers with ICMP time exceeded */
			ip_decrease_ttl(iph);
		}
		__builtin_memcpy(eth->h_dest, fib->dmac, 6);
		__builtin_memcpy(eth->h_source, fib->smac, 6);
		if (fib->ifindex == ctx->ingress_ifindex) {
			count(XPRO_C_PASS_TX);
			return XDP_TX;
		}
		count(XPRO_C_PASS_REDIRECT);
		return bpf_redirect(fib->ifindex, 0);
	case BPF_FIB_LKUP_RET_NO_NEIGH:
	case BPF_FIB_LKUP_RET_FRAG_NEEDED:
		break;
	default: /* blackhole, unreachable, prohibit, not forwarded, forwarding off */
		return drop(XPRO_C_DROP_FIB);
	}
	count(XPRO_C_PASS_KERNEL);
	return XDP_PASS;
}

/*
 * Remove the outer IPv4/UDP/X-Pro headers (outer_len bytes after Ethernet),
 * keeping the original Ethernet header in front of the inner packet so that
 * a packet handed to the kernel is still addressed to this host; proto is
 * the inner packet's EtherType.
 */
static __always_inline int decap(struct xdp_md *ctx, __u32 outer_len, __be16 proto)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr eth_copy, *eth = data;

	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(&eth_copy, eth, sizeof(eth_copy));
	if (bpf_xdp_adjust_head(ctx, (int)outer_len))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(eth, &eth_copy, sizeof(*eth));
	eth->h_proto = proto;
	return 0;
}

/*
 * The reverse firewall (docs/protocol.md): is src a source the client may
 * use? Its own address, or a prefix registered for it (device_prefixes).
 */
static __always_inline int source_ok(__be32 client, __be32 src)
{
	struct xpro_devnet_key k;

	if (src == client)
		return 1;
	if (!cfg_devnets)
		return 0;
	k.prefixlen = 32 + 128;
	k.client = client;
	xpro_addr_set4(&k.net, src);
	return bpf_map_lookup_elem(&xpro_devnets, &k) != NULL;
}

/*
 * The same for an inner IPv6 source: a prefix registered for the client,
 * or device_embed6's /96 with the client's IPv4 address in the low 32 bits
 * (docs/protocol.md). A v4-mapped source is never one: such an address is
 * not used on the wire (RFC 4291 2.5.5.2).
 */
static __always_inline int source_ok6(__be32 client, const struct xpro_addr *src)
{
	struct xpro_devnet_key k;

	if (xpro_addr_is4(src))
		return 0;
	if (cfg_embed6 && src->w[3] == client && src->w[0] == cfg_embed6_net[0] &&
	    src->w[1] == cfg_embed6_net[1] && src->w[2] == cfg_embed6_net[2])
		return 1;
	if (!cfg_devnets)
		return 0;
	k.prefixlen = 32 + 128;
	k.client = client;
	k.net = *src;
	return bpf_map_lookup_elem(&xpro_devnets, &k) != NULL;
}

/*
 * Destinations no device may reach through the proxy: a proxy (this one's
 * tunnel address, or one listed in proxies), where tunnel traffic to its
 * port is a nested tunnel, and management-only prefixes. Returns the drop
 * counter, or 0.
 */
static __always_inline __u32 guard_dest(const struct iphdr *iph, __u32 ihl, void *data_end)
{
	struct xpro_guard_key k;
	struct udphdr *udp;
	__u32 *kind;
	int proxy = iph->daddr == cfg_tun_addr;

	if (!proxy && cfg_guard) {
		k.prefixlen = 128;
		xpro_addr_set4(&k.addr, iph->daddr);
		kind = bpf_map_lookup_elem(&xpro_guard, &k);
		if (kind && *kind == XPRO_GUARD_MGMT)
			return XPRO_C_DROP_TO_MGMT;
		proxy = kind && *kind == XPRO_GUARD_PROXY;
	}
	if (!proxy)
		return 0;
	if (cfg_mode == 0 && iph->protocol == IPPROTO_UDP && ihl <= 60) {
		udp = (void *)iph + ihl;
		if ((void *)(udp + 1) <= data_end && udp->dest == cfg_tun_port)
			return XPRO_C_DROP_NESTED;
	}
	return XPRO_C_DROP_TO_PROXY;
}

/* guard_dest for an inner IPv6 destination: a proxy or management prefix
 * (IPv6 entries of proxies, mgmt_prefixes); l4proto and l4 are the upper
 * layer the extension-header walk found. */
static __always_inline __u32 guard_dest6(const struct xpro_addr *dst, __u8 l4proto, void *l4,
					 void *data_end)
{
	struct xpro_guard_key k;
	struct udphdr *udp = l4;
	__u32 *kind;

	if (!cfg_guard)
		return 0;
	k.prefixlen = 128;
	k.addr = *dst;
	kind = bpf_map_lookup_elem(&xpro_guard, &k);
	if (!kind)
		return 0;
	if (*kind == XPRO_GUARD_MGMT)
		return XPRO_C_DROP_TO_MGMT;
	if (*kind != XPRO_GUARD_PROXY)
		return 0;
	if (cfg_mode == 0 && l4proto == NH_UDP_ && (void *)(udp + 1) <= data_end &&
	    udp->dest == cfg_tun_port)
		return XPRO_C_DROP_NESTED;
	return XPRO_C_DROP_TO_PROXY;
}

/*
 * Client identity (docs/protocol.md): a version-2 header must carry a MAC
 * under the client's key and a sequence number inside its replay window;
 * a version-1 header is accepted only with tunnel_v1 = accept and from a
 * client without a key (no downgrade). Returns the drop counter, or 0.
 * The MAC is checked before the window is touched, so a forger cannot move
 * a device's window.
 */
static __always_inline __u32 identity(__be32 client, const __u8 *xh, __u32 xhl,
				      const __u8 *in, void *data_end, int v6)
{
	struct xpro_devkey *dk;
	__u64 mac, seq, top, d, win, nwin;
	__u32 idx;
	int i;

	if (xhl != XPRO_TUN_HDR2_LEN) {
		if (!cfg_v1)
			return XPRO_C_DROP_V1;
		if (!cfg_keys)
			return 0; /* identity off: version 1 is all there is */
		if (bpf_map_lookup_elem(&xpro_keyidx, &client))
			return XPRO_C_DROP_V1; /* a device with a key never sends version 1 */
		count(XPRO_C_V1_ACCEPTED);
		return 0;
	}
	if (!cfg_keys)
		return XPRO_C_DROP_NO_KEY;
	if ((void *)(xh + XPRO_TUN_HDR2_LEN) > data_end || (void *)(in + (v6 ? 40 : 20)) > data_end)
		return XPRO_C_DROP_BAD_LEN;
	idx = (__u32)xh[8] << 24 | (__u32)xh[9] << 16 | (__u32)xh[10] << 8 | xh[11];
	dk = bpf_map_lookup_elem(&xpro_devkeys, &idx);
	if (!dk || dk->client != client)
		return XPRO_C_DROP_NO_KEY;
	/* IPv4: inner bytes 12-19; IPv6: 8-39 (its source and destination) */
	mac = v6 ? xpro_tun_mac6(dk->k0, dk->k1, client, cfg_tun_addr, xh, in + 8) :
		   xpro_tun_mac(dk->k0, dk->k1, client, cfg_tun_addr, xh, in + 12);
	if (mac != xpro_le64(xh + 12))
		return XPRO_C_DROP_BAD_MAC;
	/* the replay window, after the MAC: a forger cannot move it */
	seq = (__u64)xh[4] << 24 | (__u64)xh[5] << 16 | (__u64)xh[6] << 8 | xh[7];
	if (!seq)
		return XPRO_C_DROP_REPLAY;
	for (i = 0; i < 4; i++) {
		win = dk->win;
		top = win >> 32;
		if (seq > top) {
			d = seq - top;
			nwin = seq << 32 | (d >= XPRO_REPLAY_WINDOW ? 1 : ((win << d) & 0xffffffffULL) | 1);
		} else {
			d = top - seq;
			if (d >= XPRO_REPLAY_WINDOW || (win >> d) & 1)
				return XPRO_C_DROP_REPLAY;
			nwin = win | 1ULL << d;
		}
		if (__sync_val_compare_and_swap(&dk->win, win, nwin) == win)
			return 0;
	}
	return XPRO_C_DROP_REPLAY; /* four CPUs raced on this device's window: counted as a replay */
}

/* Route results the packet path carries on (the others are drop_fib). */
static __always_inline int fib_usable(int rc)
{
	return rc == BPF_FIB_LKUP_RET_SUCCESS || rc == BPF_FIB_LKUP_RET_NO_NEIGH ||
	       rc == BPF_FIB_LKUP_RET_FRAG_NEEDED;
}

/* filter = off (a baseline): the packet decapsulated and handed to the kernel */
static __always_inline int pass_nofilter(struct xdp_md *ctx, __u32 outer_len, __be16 proto)
{
	if (decap(ctx, outer_len, proto))
		return drop(XPRO_C_DROP_TRUNCATED);
	count(XPRO_C_PASS_NOFILTER);
	return XDP_PASS;
}

/*
 * A tunnel packet that passed the header checks and the reverse firewall:
 * its route (D's cached one when fresh and the packet fits, else a lookup,
 * whose success refreshes the cache; decided before the filter, so that
 * unroutable packets create no record), Algorithm 2, then decapsulation
 * and forwarding. inner is the inner IPv4 (v6 = 0) or IPv6 header, tot_len
 * its length, l4proto (IPv6) the upper layer the walk found.
 */
static __always_inline int tunnel_pass(struct xdp_md *ctx, const struct xpro_params *p,
				       const struct xpro_key *key, void *inner, int v6, __u8 l4proto,
				       __u32 outer_len, __u32 tot_len)
{
	struct bpf_fib_lookup fib;
	struct xpro_agg *agg;
	__u32 reason;
	__u64 now;
	int fresh_route = 0;
	int rc;

	now = xpro_now();
	agg = bpf_map_lookup_elem(&xpro_aggs, &key->dest);
	if (agg && p->fib_cache_ms && agg->fib_ts &&
	    xpro_sdiff(now, agg->fib_ts) >= 0 &&
	    xpro_sdiff(now, agg->fib_ts) < (__s64)p->fib_cache_ms * 1000000 &&
	    tot_len <= agg->fib_okmax && agg->fib_ifindex) {
		rc = BPF_FIB_LKUP_RET_SUCCESS;
		fib.ifindex = agg->fib_ifindex;
		__builtin_memcpy(fib.dmac, agg->fib_dmac, 6);
		__builtin_memcpy(fib.smac, agg->fib_smac, 6);
	} else {
		rc = v6 ? fib_prepare6(ctx, &fib, inner, l4proto) : fib_prepare(ctx, &fib, inner);
		fresh_route = rc == BPF_FIB_LKUP_RET_SUCCESS;
	}
	if (!fib_usable(rc))
		return drop(XPRO_C_DROP_FIB);
	/* no hairpin: tunnel traffic never leaves by the side it came in
	 * (with FRAG_NEEDED the lookup stops before it knows the interface) */
	if (rc != BPF_FIB_LKUP_RET_FRAG_NEEDED && fib.ifindex == ctx->ingress_ifindex)
		return drop(XPRO_C_DROP_HAIRPIN);

	if (filter(key, p, now, &reason, &agg) == XPRO_DROP)
		return count_drop_reason(reason);
	if (fresh_route && agg && p->fib_cache_ms) {
		agg->fib_ifindex = fib.ifindex;
		__builtin_memcpy(agg->fib_dmac, fib.dmac, 6);
		__builtin_memcpy(agg->fib_smac, fib.smac, 6);
		agg->fib_okmax = (__u16)tot_len;
		agg->fib_ts = now;
	}
	if (decap(ctx, outer_len, v6 ? bpf_htons(ETH_P_IPV6_) : bpf_htons(ETH_P_IP_)))
		return drop(XPRO_C_DROP_TRUNCATED);
	return forward(ctx, &fib, rc, v6);
}

/*
 * The inner packet is IPv6 (docs/protocol.md, "Inner IPv6"): its lengths,
 * the extension headers up to the upper layer (hop-by-hop first, routing
 * and destination options skipped, at most XPRO_EXTHDRS_MAX; a fragment
 * header is inner_frag, anything else exthdr), then as IPv4: identity,
 * the reverse firewall, the route, Algorithm 2 on (outer source, inner
 * destination).
 */
static __always_inline int xpro_tunnel6(struct xdp_md *ctx, const struct xpro_params *p,
					struct iphdr *oiph, struct xpro_tun_hdr *xh, __u32 xhl,
					__u32 ulen, __u32 ohl, void *inner, void *data_end)
{
	struct ipv6hdr *ip6h = inner;
	struct xpro_addr src;
	struct xpro_key key;
	__u32 inner_len, off, outer_len, g;
	__u8 nh, *eh;
	int i;

	if (ulen < sizeof(struct udphdr) + xhl + sizeof(*ip6h))
		return drop(XPRO_C_DROP_TRUNCATED);
	if ((void *)(ip6h + 1) > data_end)
		return drop(XPRO_C_DROP_INNER_BOUNDS);
	inner_len = bpf_ntohs(xh->inner_len);
	if (inner_len != ulen - sizeof(struct udphdr) - xhl ||
	    inner_len != sizeof(*ip6h) + bpf_ntohs(ip6h->payload_len))
		return drop(XPRO_C_DROP_BAD_LEN);

	nh = ip6h->nexthdr;
	off = sizeof(*ip6h);
#pragma unroll
	for (i = 0; i <= XPRO_EXTHDRS_MAX; i++) {
		if (nh == NH_UDP_ || nh == NH_TCP_ || nh == NH_ICMPV6_ || nh == NH_NONE_)
			break;
		if (nh == NH_FRAGMENT_)
			return drop(XPRO_C_DROP_INNER_FRAG);
		if (i == XPRO_EXTHDRS_MAX || (nh == NH_HOP_ && i) ||
		    (nh != NH_HOP_ && nh != NH_ROUTING_ && nh != NH_DSTOPTS_))
			return drop(XPRO_C_DROP_EXTHDR);
		eh = (void *)ip6h + off;
		if (off + 8 > inner_len || (void *)(eh + 2) > data_end)
			return drop(XPRO_C_DROP_INNER_BOUNDS);
		nh = eh[0];
		off += ((__u32)eh[1] + 1) * 8;
		/* at most 40 + 4 x 2048: the mask, kept by the barrier, bounds
		 * the offset for the verifier (6.1 included) */
		barrier_var(off);
		off &= 0x3fff;
	}
	if (off > inner_len)
		return drop(XPRO_C_DROP_INNER_BOUNDS);

	xpro_addr_set4(&key.client, oiph->saddr);
	__builtin_memcpy(&key.dest, &ip6h->daddr, sizeof(key.dest));
	outer_len = ohl + sizeof(struct udphdr) + xhl;

	if (!p->filter)
		return pass_nofilter(ctx, outer_len, bpf_htons(ETH_P_IPV6_));
	g = identity(oiph->saddr, (const __u8 *)xh, xhl, (const __u8 *)ip6h, data_end, 1);
	if (g)
		return drop(g);
	__builtin_memcpy(&src, &ip6h->saddr, sizeof(src));
	if (!source_ok6(oiph->saddr, &src))
		return drop(XPRO_C_DROP_SPOOFED);
	g = guard_dest6(&key.dest, nh, (void *)ip6h + off, data_end);
	if (g)
		return drop(g);
	return tunnel_pass(ctx, p, &key, ip6h, 1, nh, outer_len, inner_len);
}

static __always_inline int xpro_tunnel(struct xdp_md *ctx, const struct xpro_params *p,
				       struct iphdr *oiph, void *data_end)
{
	struct xpro_tun_hdr *xh;
	struct xpro_key key;
	struct iphdr *iph;
	struct udphdr *udp;
	__u32 ohl, ulen, inner_len, ihl, outer_len, xhl, g;
	__u8 *vbyte;

	if (oiph->daddr != cfg_tun_addr || oiph->protocol != IPPROTO_UDP)
		return to_kernel_untouched();
	ohl = oiph->ihl * 4;
	if (ohl < sizeof(*oiph))
		return to_kernel_untouched(); /* the kernel drops a bad IP header */
	if (oiph->frag_off & bpf_htons(IP_MF_ | IP_OFFSET_))
		return drop(XPRO_C_DROP_OUTER_FRAG);
	if (ohl > 60)
		return to_kernel_untouched();
	udp = (void *)oiph + ohl;
	if ((void *)(udp + 1) > data_end)
		return to_kernel_untouched();
	if (udp->dest != cfg_tun_port)
		return to_kernel_untouched();

	/* From here on it is tunnel traffic: malformed means dropped. */
	ulen = bpf_ntohs(udp->len);
	/* 6.1's verifier does not bound a byte swap: the mask, kept by the
	 * barrier, gives ulen its 16 bits back before it moves a packet pointer */
	barrier_var(ulen);
	ulen &= 0xffff;
	if (ulen < sizeof(*udp) + sizeof(*xh) + sizeof(*iph))
		return drop(XPRO_C_DROP_TRUNCATED);
	if ((void *)udp + ulen > data_end || bpf_ntohs(oiph->tot_len) < ohl + ulen)
		return drop(XPRO_C_DROP_BAD_LEN);
	xh = (void *)(udp + 1);
	if ((void *)(xh + 1) > data_end)
		return drop(XPRO_C_DROP_TRUNCATED);
	if (xh->magic != XPRO_TUN_MAGIC)
		return drop(XPRO_C_DROP_BAD_VERSION);
	if (xh->version == XPRO_TUN_VERSION)
		xhl = XPRO_TUN_HDR_LEN;
	else if (xh->version == XPRO_TUN_VERSION2)
		xhl = XPRO_TUN_HDR2_LEN;
	else
		return drop(XPRO_C_DROP_BAD_VERSION);
	if (ulen < sizeof(*udp) + xhl + sizeof(*iph))
		return drop(XPRO_C_DROP_TRUNCATED);
	vbyte = (void *)xh + xhl;
	if ((void *)(vbyte + 1) > data_end)
		return drop(XPRO_C_DROP_TRUNCATED);
	if ((*vbyte >> 4) == 6)
		return xpro_tunnel6(ctx, p, oiph, xh, xhl, ulen, ohl, vbyte, data_end);
	if ((*vbyte >> 4) != 4)
		return drop(XPRO_C_DROP_NOT_IPV4);
	iph = (void *)vbyte;
	if ((void *)(iph + 1) > data_end)
		return drop(XPRO_C_DROP_INNER_BOUNDS);
	ihl = iph->ihl * 4;
	if (ihl < sizeof(*iph) || (void *)iph + ihl > data_end)
		return drop(XPRO_C_DROP_INNER_BOUNDS);
	inner_len = bpf_ntohs(xh->inner_len);
	if (inner_len != ulen - sizeof(*udp) - xhl ||
	    inner_len != bpf_ntohs(iph->tot_len) || inner_len < ihl)
		return drop(XPRO_C_DROP_BAD_LEN);
	if (iph->frag_off & bpf_htons(IP_MF_ | IP_OFFSET_))
		return drop(XPRO_C_DROP_INNER_FRAG);

	xpro_addr_set4(&key.client, oiph->saddr);
	xpro_addr_set4(&key.dest, iph->daddr);
	outer_len = ohl + sizeof(*udp) + xhl;

	if (!p->filter)
		return pass_nofilter(ctx, outer_len, bpf_htons(ETH_P_IP_));

	/* Who sent it, then the reverse firewall: before any record is touched. */
	g = identity(oiph->saddr, (const __u8 *)xh, xhl, (const __u8 *)iph, data_end, 0);
	if (g)
		return drop(g);
	if (!source_ok(oiph->saddr, iph->saddr))
		return drop(XPRO_C_DROP_SPOOFED);
	g = guard_dest(iph, ihl, data_end);
	if (g)
		return drop(g);

	return tunnel_pass(ctx, p, &key, iph, 0, 0, outer_len, inner_len);
}

/*
 * Inline mode after the route lookup, both families (v6: l3 is the IPv6
 * header, else the IPv4 one): not forwarded here or filter off -> the
 * kernel, unroutable -> drop_fib (before any record is created), a guarded
 * destination, then Algorithm 2 on key and the forward.
 */
static __always_inline int inline_finish(struct xdp_md *ctx, const struct xpro_params *p,
					 struct bpf_fib_lookup *fib, int rc, const struct xpro_key *key,
					 void *l3, int v6, void *data_end)
{
	struct xpro_agg *agg;
	__u32 reason, g;

	if (rc == BPF_FIB_LKUP_RET_NOT_FWDED)
		return to_kernel_untouched(); /* for this host, or not routable */
	if (!p->filter) {
		count(XPRO_C_PASS_NOFILTER);
		return XDP_PASS;
	}
	if (!fib_usable(rc))
		return drop(XPRO_C_DROP_FIB);
	g = v6 ? guard_dest6(&key->dest, 0, (struct ipv6hdr *)l3 + 1, data_end) :
		 guard_dest(l3, ((struct iphdr *)l3)->ihl * 4, data_end);
	if (g)
		return drop(g);
	agg = bpf_map_lookup_elem(&xpro_aggs, &key->dest);
	if (filter(key, p, xpro_now(), &reason, &agg) == XPRO_DROP)
		return count_drop_reason(reason);
	return forward(ctx, fib, rc, v6);
}

/*
 * Inline mode, routed IPv6 (ipv6 = filter): Algorithm 2 on (source,
 * destination) as for IPv4. Link-local sources or destinations and
 * multicast stay on the link: the kernel's.
 */
static __always_inline int xpro_inline6(struct xdp_md *ctx, const struct xpro_params *p,
					struct ipv6hdr *ip6h, void *data_end)
{
	struct bpf_fib_lookup fib;
	struct xpro_key key;
	int rc;

	__builtin_memcpy(&key.client, &ip6h->saddr, sizeof(key.client));
	__builtin_memcpy(&key.dest, &ip6h->daddr, sizeof(key.dest));
	/* fe80::/10 either side, ff00::/8 destination (network order) */
	if ((key.client.w[0] & bpf_htonl(0xffc00000)) == bpf_htonl(0xfe800000) ||
	    (key.dest.w[0] & bpf_htonl(0xffc00000)) == bpf_htonl(0xfe800000) ||
	    (key.dest.w[0] & bpf_htonl(0xff000000)) == bpf_htonl(0xff000000))
		return to_kernel_untouched();
	rc = fib_prepare6(ctx, &fib, ip6h, ip6h->nexthdr);
	return inline_finish(ctx, p, &fib, rc, &key, ip6h, 1, data_end);
}

/*
 * An IPv6 frame (docs/protocol.md): ICMPv6 neighbour discovery (types
 * 133-137 right after the fixed header) goes to the kernel; the rest as
 * the ipv6 setting says (filter: inline mode's Algorithm 2).
 */
static __always_inline int ipv6_verdict(struct xdp_md *ctx, const struct xpro_params *p, void *l3,
					void *data_end)
{
	struct ipv6hdr *ip6h = l3;
	__u8 *type = (void *)(ip6h + 1);

	if ((void *)(type + 1) <= data_end && ip6h->nexthdr == NH_ICMPV6_ &&
	    *type >= 133 && *type <= 137)
		return to_kernel_untouched();
	if (p->ipv6 == XPRO_IPV6_KERNEL)
		return to_kernel_untouched();
	if (cfg_mode == 1 && p->ipv6 == XPRO_IPV6_FILTER) {
		if ((void *)(ip6h + 1) > data_end)
			return to_kernel_untouched();
		return xpro_inline6(ctx, p, ip6h, data_end);
	}
	return drop(XPRO_C_DROP_IPV6);
}

static __always_inline int xpro_inline(struct xdp_md *ctx, const struct xpro_params *p,
				       struct iphdr *iph, void *data_end)
{
	struct bpf_fib_lookup fib;
	struct xpro_key key;
	int rc;

	if (iph->ihl < 5 || (void *)iph + iph->ihl * 4 > data_end)
		return to_kernel_untouched();
	rc = fib_prepare(ctx, &fib, iph);
	xpro_addr_set4(&key.client, iph->saddr);
	xpro_addr_set4(&key.dest, iph->daddr);
	return inline_finish(ctx, p, &fib, rc, &key, iph, 0, data_end);
}

SEC("xdp")
int xpro_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xpro_params *p;
	struct ethhdr *eth = data;
	struct iphdr *iph;
	__u32 zero = 0;

	if ((void *)(eth + 1) > data_end)
		return to_kernel_untouched();
	p = bpf_map_lookup_elem(&xpro_config, &zero);
	if (!p)
		return drop(XPRO_C_DROP_NO_CONFIG);
	if (eth->h_proto == bpf_htons(ETH_P_IPV6_))
		return ipv6_verdict(ctx, p, eth + 1, data_end);
	if (cfg_mode == 1 && is_encap(eth->h_proto))
		return drop(XPRO_C_DROP_ENCAP); /* the kernel would forward it unfiltered */
	if (eth->h_proto != bpf_htons(ETH_P_IP_))
		return to_kernel_untouched();
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end)
		return to_kernel_untouched();
	if (cfg_mode == 1)
		return xpro_inline(ctx, p, iph, data_end);
	return xpro_tunnel(ctx, p, iph, data_end);
}

/* The syscall programs below answer in ctx->ret (0 or -errno); the run
 * itself always returns 0. */
#define ENOENT_ 2
#define ESTALE_ 116

static __always_inline int sys_ret(__s32 *ret, __s32 err)
{
	*ret = err;
	return 0;
}

/* The record of the key a sync program is handed, looked up with a copy of
 * the key on the stack (a macro: the copy keeps the context's alignment). */
#define sync_record(ctx) ({						\
	struct xpro_key key_ = (ctx)->key;				\
	(struct xpro_record *)bpf_map_lookup_elem(&xpro_records, &key_);	\
})

/* The recompute's write-back of one aggregate (docs/algorithms.md, Recompute). */
SEC("syscall")
int xpro_fold_agg(struct xpro_fold_agg *ctx)
{
	struct xpro_addr dest = ctx->dest;
	struct xpro_agg *a = bpf_map_lookup_elem(&xpro_aggs, &dest);

	if (!a)
		return sys_ret(&ctx->ret, -ENOENT_);
	a->ts1 = ctx->ts1;
	if (xpro_sdiff(ctx->ts2, a->ts2) > 0)
		a->ts2 = ctx->ts2;
	a->c = ctx->c;
	a->nact = ctx->nact;
	__sync_fetch_and_add(&a->dc, -ctx->dc_seen);
	return sys_ret(&ctx->ret, 0);
}

/* syncmaps: hand a record's local delta to the sync (struct xpro_sync_take). */
SEC("syscall")
int xpro_sync_take(struct xpro_sync_take *ctx)
{
	struct xpro_record *rec = sync_record(ctx);

	if (!rec)
		return sys_ret(&ctx->ret, -ENOENT_);
	if (rec->ts1_l != ctx->ts1_seen)
		return sys_ret(&ctx->ret, -ESTALE_);
	if (ctx->mark_seen) {
		rec->mark = 0;
		rec->c_m = ctx->dc_seen;
	} else {
		rec->c_m += ctx->dc_seen;
	}
	__sync_fetch_and_add(&rec->dc, -ctx->dc_seen);
	return sys_ret(&ctx->ret, 0);
}

/* syncmaps: write the merged view back (struct xpro_sync_apply). */
SEC("syscall")
int xpro_sync_apply(struct xpro_sync_apply *ctx)
{
	struct xpro_record *rec = sync_record(ctx);
	__u64 now = xpro_now();

	if (!rec)
		return sys_ret(&ctx->ret, -ENOENT_);
	if (rec->mark || xpro_sdiff(now, rec->ts2_l) > (__s64)ctx->idle_ns)
		return sys_ret(&ctx->ret, -ESTALE_);
	rec->ts1_l = ctx->ts1;
	if (xpro_sdiff(ctx->ts2, rec->ts2_l) > 0)
		rec->ts2_l = ctx->ts2;
	__sync_fetch_and_add(&rec->c_l, ctx->base - rec->c_m);
	rec->c_m = ctx->base;
	rec->ts1_m = ctx->ts1_m;
	rec->ts2_m = ctx->ts2_m;
	return sys_ret(&ctx->ret, 0);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
