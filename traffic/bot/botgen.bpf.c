// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpro-bot's fast path (docs/xpro-bot.md): an XDP program run by
 * bpf_prog_test_run_opts with BPF_F_TEST_XDP_LIVE_FRAMES. Userspace hands
 * it one frame built by the normal vector code (traffic/bot/vectors.c); on every
 * repetition this program picks the bot and target, rewrites the fields
 * Mirai varies per packet (docs/mirai-vectors.md), as the vector's
 * descriptor says (cfg.vec: traffic/bot/botgen.h), fixes the checksums and
 * returns XDP_TX: the frame leaves through the bot's veth.
 *
 * Fields Mirai fixes per attack (TOS, TTL, DF, lengths, TCP options, MSS,
 * TSval, window, the GRE inner source) stay as the template has them: the
 * template's first 128 bytes are written back first (a receiver may have
 * changed a recycled page in place), and every variable field is rewritten
 * every time.
 *
 * Also here: xdp_count, an XDP_DROP program that counts what a receiving
 * veth gets (bench/parts/gen.sh).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bpf_map.h"
#include "botgen.h"

#define R16 VEC_RANDOM16
#define IP_HLEN sizeof(struct iphdr)

/* Fixed at load by traffic/bot/fastpath.c (skel->rodata->cfg). */
const volatile struct botgen_cfg cfg = {};

/* Written by userspace before the run, advanced here (one CPU runs it). */
__u64 g_idx = 0;
__u32 g_rs[4] = { 1, 2, 3, 4 };

XPRO_MAP(flows, BPF_MAP_TYPE_HASH, 1 << 18, struct botgen_flow_key, struct botgen_flow_val);

/* [0] frames the generator could not log per flow (map full) */
XPRO_MAP(gen_stats, BPF_MAP_TYPE_ARRAY, 2, __u32, __u64);

/* receiver side: [0] packets, [1] bytes */
XPRO_MAP(rx_count, BPF_MAP_TYPE_PERCPU_ARRAY, 2, __u32, __u64);

static __always_inline __u32 rnd(void)
{
	__u32 t = g_rs[0];

	t ^= t << 11;
	t ^= t >> 8;
	g_rs[0] = g_rs[1];
	g_rs[1] = g_rs[2];
	g_rs[2] = g_rs[3];
	g_rs[3] ^= g_rs[3] >> 19;
	g_rs[3] ^= t;
	return g_rs[3];
}

static __always_inline __u16 fold(__u64 s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

/* IPv4 header checksum at ip (20 bytes, checked by the caller) */
static __always_inline void ip_csum(struct iphdr *ip)
{
	ip->check = 0;
	ip->check = fold((__u32)bpf_csum_diff(NULL, 0, (__be32 *)ip, IP_HLEN, 0));
}

/* Checksum of cfg.cs's region from l4 plus a pseudo-header sum, written at
 * check. Native-order sums, as the kernel does. */
static __always_inline int l4_csum(void *l4, __sum16 *check, void *end, __u64 pseudo)
{
	__u8 *p = l4;
	__u64 s = pseudo;

	if ((void *)(check + 1) > end)
		return -1;
	*check = 0;
	if ((void *)p + cfg.cs.c0 > end)
		return -1;
	s += (__u32)bpf_csum_diff(NULL, 0, (__be32 *)p, cfg.cs.c0, 0);
	p += cfg.cs.c0;
	if (cfg.cs.c1) {
		if ((void *)p + cfg.cs.c1 > end)
			return -1;
		s += (__u32)bpf_csum_diff(NULL, 0, (__be32 *)p, cfg.cs.c1, 0);
		p += cfg.cs.c1;
	}
	if (cfg.cs.c2) {
		if ((void *)p + cfg.cs.c2 > end)
			return -1;
		s += (__u32)bpf_csum_diff(NULL, 0, (__be32 *)p, cfg.cs.c2, 0);
		p += cfg.cs.c2;
	}
	if (cfg.cs.tail >= 2) {
		if ((void *)p + 2 > end)
			return -1;
		s += *(__u16 *)p;
		p += 2;
	}
	if (cfg.cs.tail & 1) { /* an odd last byte: the low half of a native word */
		if ((void *)p + 1 > end)
			return -1;
		s += p[0];
	}
	*check = fold(s);
	return 0;
}

/* The pseudo-header sum of the L4 packet behind ip */
static __always_inline __u64 pseudo(const struct iphdr *ip)
{
	return (__u64)ip->saddr + ip->daddr + bpf_htons((__u16)ip->protocol) +
	       bpf_htons((__u16)(bpf_ntohs(ip->tot_len) - IP_HLEN));
}

static __always_inline __be32 testbed_random(void)
{
	return bpf_htonl(0xC6120000u | (rnd() & 0x1ffff));
}

static __always_inline __be32 target_host(__u32 t)
{
	__u32 m = cfg.tmask[t & (BOTGEN_MAX_TGT - 1)];
	__u32 a = cfg.tgt[t & (BOTGEN_MAX_TGT - 1)];

	if (m < 32)
		a += rnd() >> m;
	return bpf_htonl(a);
}

/* A 16-bit option: random (the draw as a little-endian bot stores it), or
 * as the template has it */
static __always_inline void rand16(__be16 *p, __u32 opt)
{
	if (opt == R16)
		*p = (__u16)rnd();
}

/* --len bytes at pl, 4 per draw, a tail of 1-3 from one more */
static __always_inline int fill_payload(void *pl, void *end)
{
	__u32 w;

	for (w = 0; w < 512; w++) {
		__u32 *p;

		if (w >= cfg.pl_words)
			break;
		p = pl + w * 4;
		if ((void *)(p + 1) > end)
			return -1;
		*p = rnd();
	}
	if (cfg.pl_tail) {
		__u8 *t = pl + cfg.pl_words * 4;
		__u32 v = rnd();

#pragma unroll
		for (__u32 k = 0; k < 3; k++) {
			if (k >= cfg.pl_tail)
				break;
			if ((void *)(t + k + 1) > end)
				return -1;
			t[k] = (__u8)(v >> (8 * k));
		}
	}
	return 0;
}

/* <len> chars at lbl, 4 per draw, each from the top 5 bits of a byte: a-w,
 * 0-8; a tail of len % 4 gets the raw 5-bit values (as traffic/bot/vectors.c) */
static __always_inline int dns_label(__u8 *lbl, void *end)
{
	__u32 full = cfg.lbl_len & ~3u, i;

	for (i = 0; i < 256; i += 4) {
		__u32 v;

		if (i >= cfg.lbl_len)
			break;
		v = rnd();
#pragma unroll
		for (__u32 k = 0; k < 4; k++) {
			__u8 *p = lbl + i + k;
			__u8 c = ((__u8)(v >> (8 * k))) >> 3;

			if (i + k >= cfg.lbl_len)
				break;
			if ((void *)(p + 1) > end)
				return -1;
			*p = i + k < full ? (c < 23 ? 'a' + c : '0' + (c - 23)) : c;
		}
	}
	return 0;
}

static __always_inline __u32 proxy_of(__u32 b, __u64 k)
{
	__u32 p = 0;

	if (cfg.nprox <= 1)
		return 0;
	if (cfg.pmode == 1)
		p = b % cfg.nprox;
	else if (cfg.pmode == 2)
		p = (__u32)((b + k / cfg.hop) % cfg.nprox);
	return p & (BOTGEN_MAX_PROXY - 1);
}

/* greip, greeth: greeth's inner MACs, the inner destination, the inner ID */
static __always_inline void inner(struct iphdr *ip, struct iphdr *in, __be32 dst)
{
	__u16 oid;

	if (cfg.vec.flags & BOTGEN_V_ETH) {
		__u32 *m = (void *)((struct ethhdr *)in - 1); /* h_dest, h_source */

		m[0] = rnd();
		m[1] = rnd();
		m[2] = rnd();
	}
	in->daddr = cfg.gcip ? dst : testbed_random();
	oid = ip->id; /* the little-endian view of the outer field */
	in->id = cfg.ident == R16 ? (__u16)~(__u16)(oid - 1000) : (__u16)~oid;
}

/* The L4 header behind cip and what follows it; then its checksum */
static __always_inline int rewrite_l4(struct iphdr *cip, void *end)
{
	__sum16 *check;
	void *pl;

	if (cfg.vec.l4 == IPPROTO_TCP) {
		struct tcphdr *tcp = (void *)(cip + 1);

		if ((void *)(tcp + 1) > end)
			return -1;
		rand16(&tcp->source, cfg.sport);
		rand16(&tcp->dest, cfg.dport);
		if ((cfg.vec.flags & BOTGEN_V_SEQACK) && cfg.seq_rand)
			tcp->seq = rnd();
		if ((cfg.vec.flags & BOTGEN_V_SEQACK) && cfg.ack_rand)
			tcp->ack_seq = rnd();
		if ((cfg.vec.flags & BOTGEN_V_URG) && cfg.urg)
			tcp->urg_ptr = (__u16)rnd();
		check = &tcp->check;
		pl = tcp + 1;
	} else {
		struct udphdr *udp = (void *)(cip + 1);

		if ((void *)(udp + 1) > end)
			return -1;
		rand16(&udp->source, cfg.vec.flags & BOTGEN_V_SPORT ? R16 : cfg.sport);
		rand16(&udp->dest, cfg.dport);
		if (cfg.vec.flags & BOTGEN_V_DNS) {
			struct vec_dnsh *dns = (void *)(udp + 1);

			if ((void *)(dns + 1) > end)
				return -1;
			rand16(&dns->id, cfg.dhid);
			if (dns_label((__u8 *)(dns + 1) + 1, end)) /* after the label's length */
				return -1;
		}
		check = &udp->check;
		pl = udp + 1;
	}
	if ((cfg.vec.flags & BOTGEN_V_PAYLOAD) && cfg.rand && fill_payload(pl, end))
		return -1;
	return l4_csum(cip + 1, check, end, pseudo(cip));
}

SEC("xdp")
int xdp_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u64 i = g_idx++, q, k;
	struct ethhdr *eth = data;
	struct iphdr *ip, *cip;
	__be32 src, dst, bot;
	__u32 t, b, p, v;

	t = (__u32)(i % cfg.ntgt);
	q = i / cfg.ntgt;
	b = (__u32)(q % cfg.nbots);
	k = (q / cfg.nbots) * cfg.ntgt + t;
	bot = bpf_htonl(cfg.src_base + b);
	p = proxy_of(b, k);

	for (v = 0; v < BOTGEN_HDR_WORDS && v < cfg.hdr_words; v++) {
		__u64 *w = data + v * 8;

		if ((void *)(w + 1) > end)
			return XDP_ABORTED;
		*w = cfg.hdr[v];
	}
	if ((void *)(eth + 1) > end)
		return XDP_ABORTED;
	__builtin_memcpy(eth->h_dest, (void *)cfg.pmac[p], sizeof(eth->h_dest));
	if (cfg.tunnel) {
		struct iphdr *o = (void *)(eth + 1);

		if ((void *)(o + 1) > end)
			return XDP_ABORTED;
		o->saddr = bot;
		o->daddr = cfg.prox[p];
		v = rnd();
		o->id = (__u16)(v | 1);
		ip_csum(o);
	}
	ip = data + cfg.off_ip;
	if ((void *)(ip + 1) > end)
		return XDP_ABORTED;

	/* destination, then source, then ID: Mirai's order */
	if (cfg.vec.flags & BOTGEN_V_RESOLVER)
		dst = bpf_htonl(cfg.tgt[0]);
	else
		dst = target_host(t);
	if (!(cfg.vec.flags & BOTGEN_V_SOURCE) || cfg.src_mode == VEC_SRC_LOCAL)
		src = bot;
	else if (cfg.src_mode == VEC_SRC_RANDOM)
		src = testbed_random();
	else
		src = ip->saddr; /* fixed: as the template has it */
	ip->saddr = src;
	ip->daddr = dst;
	rand16(&ip->id, cfg.ident);

	cip = ip; /* the IPv4 header in front of the L4 header */
	if (cfg.vec.inner) {
		cip = (void *)(ip + 1) + cfg.vec.inner;
		if ((void *)(cip + 1) > end)
			return XDP_ABORTED;
		inner(ip, cip, dst);
	}
	if (rewrite_l4(cip, end))
		return XDP_ABORTED;
	if (cfg.vec.inner)
		ip_csum(cip);
	ip_csum(ip);

	if (cfg.log_flows) {
		struct botgen_flow_key key = { .src = src, .dst = dst };
		struct botgen_flow_val *fv = bpf_map_lookup_elem(&flows, &key);

		if (fv) {
			fv->packets++;
			fv->bytes += bpf_ntohs(ip->tot_len);
		} else {
			struct botgen_flow_val nv = { 1, bpf_ntohs(ip->tot_len) };

			if (bpf_map_update_elem(&flows, &key, &nv, BPF_NOEXIST)) {
				__u32 z = 0;
				__u64 *lost = bpf_map_lookup_elem(&gen_stats, &z);

				if (lost)
					*lost += 1;
			}
		}
	}
	return XDP_TX;
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	__u32 k0 = 0, k1 = 1;
	__u64 *n = bpf_map_lookup_elem(&rx_count, &k0), *by = bpf_map_lookup_elem(&rx_count, &k1);

	if (n)
		*n += 1;
	if (by)
		*by += ctx->data_end - ctx->data;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
