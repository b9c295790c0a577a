/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xpro-bot: what crosses the kernel/user boundary of the fast path
 * (traffic/bot/botgen.bpf.c <-> traffic/bot/fastpath.c), and the vector
 * IDs every part of the bot shares (traffic/bot/vectors.h includes this).
 *
 * Included by the XDP program (after vmlinux.h) and by userspace. Fixed-width
 * types only. Addresses in network order unless said otherwise.
 */
#ifndef XPRO_BOTGEN_H
#define XPRO_BOTGEN_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Mirai's attack IDs (docs/mirai-vectors.md); 8 (app proxy) is not one. */
enum vec_id {
	VEC_UDP = 0,
	VEC_VSE = 1,
	VEC_DNS = 2,
	VEC_SYN = 3,
	VEC_ACK = 4,
	VEC_STOMP = 5,
	VEC_GREIP = 6,
	VEC_GREETH = 7,
	VEC_UDPPLAIN = 9,
	VEC_HTTP = 10,
	VEC_NONE = -1,
};
#define VEC_MAX VEC_HTTP

#define VEC_RANDOM16 0xffff /* Mirai's "65535 means random" */

/* How the source address is chosen (Mirai's `source` option). */
enum vec_src_mode {
	VEC_SRC_LOCAL = 0,  /* the bot's own address (LOCAL_ADDR) */
	VEC_SRC_FIXED = 1,  /* a fixed (spoofed) address */
	VEC_SRC_RANDOM = 2, /* random per packet; inside 198.18.0.0/15 here */
};

/*
 * A vector as the fast path rewrites it: the part of its descriptor
 * (traffic/bot/vectors.c) the XDP program reads. The packet is IPv4, then,
 * for a vector with an inner packet (greip, greeth), `inner` bytes (GRE,
 * greeth's Ethernet header) and the inner IPv4 header; then the L4 header
 * (`l4`) whose checksum covers the rest of the packet.
 */
struct botgen_vec {
	__u32 flags;    /* BOTGEN_V_*: what varies per packet */
	__u32 l4;       /* IPPROTO_UDP or IPPROTO_TCP */
	__u32 inner;    /* bytes between the IPv4 header and the inner one; 0: none */
};
#define BOTGEN_V_FAST     (1u << 0) /* the fast path supports the vector */
#define BOTGEN_V_SOURCE   (1u << 1) /* source per --source (else the bot's own) */
#define BOTGEN_V_RESOLVER (1u << 2) /* destination: the resolver (first target), as is */
#define BOTGEN_V_SPORT    (1u << 3) /* source port random whatever --sport says */
#define BOTGEN_V_SEQACK   (1u << 4) /* TCP seq and ack per --seqnum, --acknum */
#define BOTGEN_V_URG      (1u << 5) /* TCP urgent pointer random with --urg 1 */
#define BOTGEN_V_DNS      (1u << 6) /* DNS header ID per --dhid, random label */
#define BOTGEN_V_PAYLOAD  (1u << 7) /* payload after the L4 header random with --rand 1 */
#define BOTGEN_V_ETH      (1u << 8) /* the inner Ethernet addresses random */

/* Wire headers the kernel has no struct for (in its uapi). */
struct vec_greh {      /* GRE, no options */
	__be16 flags;
	__be16 proto;  /* ETH_P_IP (greip), ETH_P_TEB (greeth) */
};
struct vec_dnsh {      /* DNS header */
	__be16 id, flags, qdcount, ancount, nscount, arcount;
};

#define BOTGEN_MAX_TGT   16 /* targets */
#define BOTGEN_MAX_PROXY 16 /* proxies / next hops */
#define BOTGEN_HDR_WORDS 16 /* the template's first 128 bytes, restored per frame */

/* A checksummed region: 4-byte chunks of at most 512 bytes, then 0-3 bytes. */
struct botgen_span {
	__u32 c0, c1, c2, tail;
};

/*
 * The load-time configuration: `const volatile struct botgen_cfg cfg` in
 * the program, filled by fast_open() through skel->rodata before load. The
 * verifier sees every field as a constant.
 */
struct botgen_cfg {
	struct botgen_vec vec;
	__u32 tunnel;                 /* the frame carries the X-Pro tunnel headers */
	__u32 off_ip;                 /* Mirai's IPv4 header in the frame */
	__u32 nbots, ntgt, nprox;
	__u32 pmode;                  /* 0 fixed, 1 spread, 2 hop */
	__u32 hop;                    /* packets per proxy in hop mode */
	__u32 src_base;               /* host order: bot b has src_base + b */
	__u32 src_mode;               /* enum vec_src_mode */
	__u32 tgt[BOTGEN_MAX_TGT];    /* host order */
	__u32 tmask[BOTGEN_MAX_TGT];  /* >= 32: one host */
	__be32 prox[BOTGEN_MAX_PROXY];
	__u8 pmac[BOTGEN_MAX_PROXY][6];
	/* Mirai's options (VEC_RANDOM16: random per packet) */
	__u32 ident, sport, dport, dhid;
	__u32 seq_rand, ack_rand, urg, gcip, rand;
	__u32 pl_words, pl_tail;      /* random payload: 4-byte words, tail bytes */
	__u32 lbl_len;                /* dns: the random label's length */
	struct botgen_span cs;        /* the L4 checksum's region, from the L4 header */
	__u32 log_flows;              /* count per (src, dst) in `flows` */
	/* the template's first hdr_words 8-byte words, written back before every
	 * repetition: a receiver that rewrites a frame in place (X-Pro's
	 * decapsulation and MAC rewrite, the kernel's TTL decrement) returns its
	 * page to the generator's pool with those bytes changed */
	__u32 hdr_words;
	__u64 hdr[BOTGEN_HDR_WORDS];
};

/* flows: hash, (src, dst) -> counts, drained by fast_drain() */
struct botgen_flow_key {
	__be32 src, dst;
};
struct botgen_flow_val {
	__u64 packets, bytes;
};

#endif
