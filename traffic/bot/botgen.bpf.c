// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpro-bot's fast path (docs/xpro-bot.md): an XDP program run by
 * bpf_prog_test_run_opts with BPF_F_TEST_XDP_LIVE_FRAMES. Userspace hands
 * it one frame built by the normal vector code (traffic/bot/vectors.c); on every
 * repetition this program picks the bot and target, rewrites the fields
 * Mirai varies per packet (MIRAI-VECTORS.md, "Per packet"), fixes the
 * checksums and returns XDP_TX: the frame leaves through the bot's veth.
 *
 * Fields Mirai fixes per attack (TOS, TTL, DF, lengths, TCP options, MSS,
 * TSval, window, the GRE inner source) stay as the template has them: the
 * kernel keeps each page's bytes between repetitions, and every variable
 * field is rewritten every time.
 *
 * Also here: xdp_count, an XDP_DROP program that counts what a receiving
 * veth gets (bench/parts/gen.sh).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "bpf_map.h"

#define MAX_T 16   /* targets */
#define MAX_P 16   /* proxies / next hops */
#define R16 0xffff /* Mirai's "random" */

/* Fixed at load by traffic/bot/fastpath.c. Addresses in network order unless
 * said otherwise. */
const volatile __u32 g_vec = 0;        /* enum vec_id */
const volatile __u32 g_tunnel = 0;
const volatile __u32 g_nbots = 1, g_ntgt = 1, g_nprox = 1;
const volatile __u32 g_pmode = 0;      /* 0 fixed, 1 spread, 2 hop */
const volatile __u32 g_hop = 1;
const volatile __u32 g_src_base = 0;   /* host order: bot b has g_src_base + b */
const volatile __u32 g_src_mode = 0;   /* 0 local, 1 fixed, 2 random in 198.18.0.0/15 */
const volatile __u32 g_tgt[MAX_T] = {};  /* host order */
const volatile __u32 g_tmask[MAX_T] = {};/* >= 32: one host */
const volatile __be32 g_prox[MAX_P] = {};
const volatile __u8 g_pmac[MAX_P][6] = {};
const volatile __u32 g_off_ip = 14;    /* Mirai's IPv4 header in the frame */
const volatile __u32 g_ident = R16, g_sport = R16, g_dport = R16, g_dhid = R16;
const volatile __u32 g_seq_rand = 1, g_ack_rand = 0, g_urg = 0, g_gcip = 0;
const volatile __u32 g_rand = 1;       /* payload random per packet */
const volatile __u32 g_pl_off = 0, g_pl_words = 0, g_pl_tail = 0; /* payload (from frame start) */
const volatile __u32 g_lbl_off = 0, g_lbl_len = 0; /* dns random label */
/* the L4 checksum region: offset, 4-byte chunks (<= 512 each), tail bytes */
const volatile __u32 g_cs_off = 0, g_cs_c0 = 0, g_cs_c1 = 0, g_cs_c2 = 0, g_cs_tail = 0;
const volatile __u32 g_cs_csum = 0;    /* offset of the checksum field */
const volatile __u32 g_inner_ip = 0;   /* greip/greeth: inner IPv4 offset */
const volatile __u32 g_log_flows = 0;  /* count per (src, dst) in `flows` */

/* Written by userspace before the run, advanced here (one CPU runs it). */
__u64 g_idx = 0;
__u32 g_rs[4] = { 1, 2, 3, 4 };

struct flow_key {
	__be32 src, dst;
};
struct flow_val {
	__u64 packets, bytes;
};

XPRO_MAP(flows, BPF_MAP_TYPE_HASH, 1 << 18, struct flow_key, struct flow_val);

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
	ip->check = fold((__u32)bpf_csum_diff(NULL, 0, (__be32 *)ip, 20, 0));
}

/* Checksum of [g_cs_off, + c0 + c1 + c2 + tail) plus a pseudo-header sum,
 * written at g_cs_csum. Native-order sums, as the kernel does. */
static __always_inline int l4_csum(void *data, void *end, __u64 pseudo)
{
	__u8 *p = data + g_cs_off;
	__u64 s = pseudo;
	__u16 *c = data + g_cs_csum;

	if ((void *)(c + 1) > end)
		return -1;
	*c = 0;
	if ((void *)p + g_cs_c0 > end)
		return -1;
	s += (__u32)bpf_csum_diff(NULL, 0, (__be32 *)p, g_cs_c0, 0);
	p += g_cs_c0;
	if (g_cs_c1) {
		if ((void *)p + g_cs_c1 > end)
			return -1;
		s += (__u32)bpf_csum_diff(NULL, 0, (__be32 *)p, g_cs_c1, 0);
		p += g_cs_c1;
	}
	if (g_cs_c2) {
		if ((void *)p + g_cs_c2 > end)
			return -1;
		s += (__u32)bpf_csum_diff(NULL, 0, (__be32 *)p, g_cs_c2, 0);
		p += g_cs_c2;
	}
	if (g_cs_tail >= 2) {
		if ((void *)p + 2 > end)
			return -1;
		s += *(__u16 *)p;
		p += 2;
	}
	if (g_cs_tail & 1) { /* an odd last byte: the low half of a native word */
		if ((void *)p + 1 > end)
			return -1;
		s += p[0];
	}
	*c = fold(s);
	return 0;
}

static __always_inline __u64 pseudo(__be32 s, __be32 d, __u8 proto, __u32 len)
{
	return (__u64)s + d + bpf_htons((__u16)proto) + bpf_htons((__u16)len);
}

static __always_inline __be32 testbed_random(void)
{
	return bpf_htonl(0xC6120000u | (rnd() & 0x1ffff));
}

static __always_inline __be32 target_host(__u32 t)
{
	__u32 m = g_tmask[t & (MAX_T - 1)];
	__u32 a = g_tgt[t & (MAX_T - 1)];

	if (m < 32)
		a += rnd() >> m;
	return bpf_htonl(a);
}

static __always_inline void rand_port(__u8 *p, __u32 opt)
{
	if (opt == R16) {
		__u32 v = rnd();

		p[0] = (__u8)v;
		p[1] = (__u8)(v >> 8);
	}
}

static __always_inline void rand_id(struct iphdr *ip)
{
	if (g_ident == R16)
		ip->id = (__u16)rnd();
}

static __always_inline int fill_payload(void *data, void *end)
{
	__u32 w;

	if (!g_rand)
		return 0;
	for (w = 0; w < 512; w++) {
		__u32 *p;

		if (w >= g_pl_words)
			break;
		p = data + g_pl_off + w * 4;
		if ((void *)(p + 1) > end)
			return -1;
		*p = rnd();
	}
	if (g_pl_tail) {
		__u8 *t = data + g_pl_off + g_pl_words * 4;
		__u32 v = rnd();

#pragma unroll
		for (__u32 k = 0; k < 3; k++) {
			if (k >= g_pl_tail)
				break;
			if ((void *)(t + k + 1) > end)
				return -1;
			t[k] = (__u8)(v >> (8 * k));
		}
	}
	return 0;
}

/* <len> chars, 4 per draw, each from the top 5 bits of a byte: a-w, 0-8;
 * a tail of len % 4 gets the raw 5-bit values (as traffic/bot/vectors.c) */
static __always_inline int dns_label(void *data, void *end)
{
	__u32 full = g_lbl_len & ~3u, i;

	for (i = 0; i < 256; i += 4) {
		__u32 v;

		if (i >= g_lbl_len)
			break;
		v = rnd();
#pragma unroll
		for (__u32 k = 0; k < 4; k++) {
			__u8 *p = data + g_lbl_off + i + k;
			__u8 c = ((__u8)(v >> (8 * k))) >> 3;

			if (i + k >= g_lbl_len)
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

	if (g_nprox <= 1)
		return 0;
	if (g_pmode == 1)
		p = b % g_nprox;
	else if (g_pmode == 2)
		p = (__u32)((b + k / g_hop) % g_nprox);
	return p & (MAX_P - 1);
}

SEC("xdp")
int xdp_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u64 i = g_idx++, q, k;
	__u32 t, b, p, v;
	struct iphdr *ip;
	__be32 src, dst, bot;
	__u8 *l4;

	t = (__u32)(i % g_ntgt);
	q = i / g_ntgt;
	b = (__u32)(q % g_nbots);
	k = (q / g_nbots) * g_ntgt + t;
	bot = bpf_htonl(g_src_base + b);
	p = proxy_of(b, k);

	if (data + 14 > end)
		return XDP_ABORTED;
	__builtin_memcpy(data, (void *)g_pmac[p], 6);
	if (g_tunnel) {
		struct iphdr *o = data + 14;

		if ((void *)(o + 1) > end)
			return XDP_ABORTED;
		o->saddr = bot;
		o->daddr = g_prox[p];
		v = rnd();
		o->id = (__u16)(v | 1);
		ip_csum(o);
	}
	ip = data + g_off_ip;
	if ((void *)(ip + 1) > end)
		return XDP_ABORTED;
	l4 = (__u8 *)(ip + 1);

	/* destination, then source, then ID: Mirai's order */
	if (g_vec == 2) /* dns: the resolver, always */
		dst = bpf_htonl(g_tgt[0]);
	else
		dst = target_host(t);
	if (g_vec == 1 || g_vec == 2 || g_src_mode == 0)
		src = bot;
	else if (g_src_mode == 2)
		src = testbed_random();
	else
		src = ip->saddr;
	ip->saddr = src;
	ip->daddr = dst;
	rand_id(ip);

	switch (g_vec) {
	case 0: /* udp */
	case 1: /* vse */
		if ((void *)(l4 + 8) > end)
			return XDP_ABORTED;
		rand_port(l4, g_sport);
		rand_port(l4 + 2, g_dport);
		if (g_vec == 0 && fill_payload(data, end))
			return XDP_ABORTED;
		if (l4_csum(data, end, pseudo(src, dst, 17, bpf_ntohs(ip->tot_len) - 20)))
			return XDP_ABORTED;
		break;
	case 2: /* dns */
		if ((void *)(l4 + 8 + 12) > end)
			return XDP_ABORTED;
		rand_port(l4, R16);
		rand_port(l4 + 2, g_dport);
		rand_port(l4 + 8, g_dhid);
		if (dns_label(data, end))
			return XDP_ABORTED;
		if (l4_csum(data, end, pseudo(src, dst, 17, bpf_ntohs(ip->tot_len) - 20)))
			return XDP_ABORTED;
		break;
	case 3: /* syn */
	case 4: /* ack */
		if ((void *)(l4 + 20) > end)
			return XDP_ABORTED;
		rand_port(l4, g_sport);
		rand_port(l4 + 2, g_dport);
		if (g_seq_rand)
			*(__u32 *)(l4 + 4) = rnd();
		if (g_ack_rand)
			*(__u32 *)(l4 + 8) = rnd();
		if (g_vec == 3 && g_urg)
			*(__u16 *)(l4 + 18) = (__u16)rnd();
		if (g_vec == 4 && fill_payload(data, end))
			return XDP_ABORTED;
		if (l4_csum(data, end, pseudo(src, dst, 6, bpf_ntohs(ip->tot_len) - 20)))
			return XDP_ABORTED;
		break;
	case 6: /* greip */
	case 7: { /* greeth */
		struct iphdr *in = data + g_inner_ip;
		__u16 oid;
		__be32 idst;

		if ((void *)(in + 1) + 8 > end)
			return XDP_ABORTED;
		if (g_vec == 7) {
			__u8 *m = (__u8 *)in - 14;

			if ((void *)m < data)
				return XDP_ABORTED;
			*(__u32 *)m = rnd();
			*(__u32 *)(m + 4) = rnd();
			*(__u32 *)(m + 8) = rnd();
		}
		idst = g_gcip ? dst : testbed_random();
		in->daddr = idst;
		oid = ip->id; /* the little-endian view of the outer field */
		in->id = g_ident == R16 ? (__u16)~(__u16)(oid - 1000) : (__u16)~oid;
		rand_port((__u8 *)(in + 1), g_sport);
		rand_port((__u8 *)(in + 1) + 2, g_dport);
		if (fill_payload(data, end))
			return XDP_ABORTED;
		if (l4_csum(data, end, pseudo(in->saddr, idst, 17, bpf_ntohs(in->tot_len) - 20)))
			return XDP_ABORTED;
		ip_csum(in);
		break;
	}
	default:
		return XDP_ABORTED;
	}
	ip_csum(ip);

	if (g_log_flows) {
		struct flow_key key = { .src = src, .dst = dst };
		struct flow_val *fv = bpf_map_lookup_elem(&flows, &key);

		if (fv) {
			fv->packets++;
			fv->bytes += bpf_ntohs(ip->tot_len);
		} else {
			struct flow_val nv = { 1, bpf_ntohs(ip->tot_len) };

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
