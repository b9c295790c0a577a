/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Mirai's attack vectors (docs/mirai-vectors.md), one descriptor each
 * (struct vec_desc, the table in traffic/bot/vectors.c): the option check
 * (traffic/bot/bot.c), the packet builders and the fast path
 * (traffic/bot/fastpath.c, traffic/bot/botgen.bpf.c) all read it. A vector
 * builds the IPv4 packet a Mirai bot would put on the wire (the "inner"
 * packet when tunnelled): vec_flow_init() does what Mirai does once per
 * target at setup, vec_next() what it does on every pass of its send loop.
 *
 * The emulated bot is little-endian (x86 or arm Mirai builds), so the
 * odd-length checksums are correct (Q1) and the 16-bit byte-swap quirks
 * (Q3, stomp) land in the upper half of the 32-bit fields.
 */
#ifndef XPRO_VECTORS_H
#define XPRO_VECTORS_H

#include <stddef.h>
#include <stdint.h>
#include "botgen.h" /* enum vec_id, enum vec_src_mode, VEC_RANDOM16, struct botgen_vec */

/* Mirai's xorshift128 generator (rand_next), seeded by us, not by time. */
struct vec_rand {
	uint32_t x, y, z, w;
};

void vec_rand_seed(struct vec_rand *r, uint64_t seed, uint64_t stream);
static inline uint32_t vec_rand_next(struct vec_rand *r)
{
	uint32_t t = r->x;

	t ^= t << 11;
	t ^= t >> 8;
	r->x = r->y;
	r->y = r->z;
	r->z = r->w;
	r->w ^= r->w >> 19;
	r->w ^= t;
	return r->w;
}
/* Mirai's rand_str: 4 bytes per draw, little-endian. */
void vec_rand_fill(struct vec_rand *r, uint8_t *p, size_t len);

/* Mirai's options (attack.h IDs), after defaults are applied. */
struct vec_opts {
	int vec;
	uint32_t len;       /* 0: payload size */
	int rand;           /* 1: randomise payload per packet */
	uint8_t tos;        /* 2 */
	uint32_t ident;     /* 3: 65535 = random */
	uint8_t ttl;        /* 4 */
	int df;             /* 5 */
	uint32_t sport;     /* 6: 65535 = random */
	uint32_t dport;     /* 7: 65535 = random */
	char domain[256];   /* 8 */
	uint32_t dhid;      /* 9: 65535 = random */
	int urg, ack, psh, rst, syn, fin; /* 11..16 */
	uint32_t seqnum;    /* 17: 65535 = random */
	uint32_t acknum;    /* 18: 65535 = random, anything else = 0 */
	int gcip;           /* 19 */
	char method[16];    /* 20 */
	char postdata[1024];/* 21 */
	char path[256];     /* 22 */
	uint32_t conns;     /* 24 */
	int src_mode;       /* 25: enum vec_src_mode */
	uint32_t src_addr;  /* fixed source, network order */
};

/* A target as given: base address (network order, not masked) and length. */
struct vec_target {
	uint32_t addr;
	uint32_t netmask; /* >= 32: one host */
};

/* Per (bot, target) state fixed at setup. */
struct vec_flow {
	uint32_t local;     /* the bot's address (network order) */
	struct vec_target tgt;
	uint32_t host;      /* chosen once (stomp, udpplain, http), network order */
	uint16_t mss;       /* syn */
	uint32_t tsval;     /* syn */
	uint16_t window;    /* ack, stomp */
	uint32_t inner_src; /* greip/greeth, network order */
	/* stomp: the connection */
	uint16_t lport, rport;
	uint32_t srv_seq, my_ack;
	uint8_t fixed_payload[1500]; /* ack, stomp with rand=0 */
	struct vec_rand rnd;
};

/* Mirai's options as xpro-bot's command line names them (--len ...
 * --source): the bits of vec_desc.opts and .needs. */
enum vec_opt {
	VEC_O_LEN = 1, VEC_O_RAND, VEC_O_TOS, VEC_O_IDENT, VEC_O_TTL, VEC_O_DF, VEC_O_SPORT,
	VEC_O_DPORT, VEC_O_DOMAIN, VEC_O_DHID, VEC_O_URG, VEC_O_ACK, VEC_O_PSH, VEC_O_RST,
	VEC_O_SYN, VEC_O_FIN, VEC_O_SEQNUM, VEC_O_ACKNUM, VEC_O_GCIP, VEC_O_METHOD,
	VEC_O_POSTDATA, VEC_O_PATH, VEC_O_CONNS, VEC_O_SOURCE,
};
#define VEC_OPT(x) (1u << (x))

/* TCP flags of Mirai's urg..fin options (the flags byte of the header) */
#define VEC_TCP_FIN 0x01
#define VEC_TCP_SYN 0x02
#define VEC_TCP_RST 0x04
#define VEC_TCP_PSH 0x08
#define VEC_TCP_ACK 0x10
#define VEC_TCP_URG 0x20

struct iphdr;

/*
 * One vector. The packet: IPv4 (`proto`), then for greip/greeth
 * wire.inner bytes and an inner IPv4 header, then the L4 header
 * (wire.l4, `l4_len` bytes with its options), then `fixed` bytes plus the
 * --len bytes (if the vector takes --len) plus the encoded --domain (if it
 * takes one).
 */
struct vec_desc {
	const char *name;
	int id;                 /* enum vec_id */
	uint8_t proto;          /* IPPROTO_* of the (outer) IPv4 header */
	uint8_t raw;            /* 1: raw frames; 0: kernel sockets (stomp: its flood is built here) */
	uint32_t opts;          /* VEC_OPT() bits: what Mirai's CNC (or the bot) accepts */
	uint32_t needs;         /* VEC_OPT() bits: required */
	uint32_t len_max;       /* the largest --len accepted */
	uint32_t len_cap;       /* a larger --len is cut to this, silently (Mirai); 0: none */
	/* Mirai's defaults (VEC_RANDOM16: random) */
	uint32_t len, dport, acknum;
	uint8_t df, tcp;        /* tcp: VEC_TCP_* set by default */
	/* the packet */
	uint16_t l4_len;        /* 0: no packet built here (http) */
	uint16_t fixed;
	struct botgen_vec wire; /* the layout, and what varies per packet (the fast path) */
	/* at flow setup (NULL: nothing to do), then one packet of tot bytes */
	void (*setup)(const struct vec_opts *o, struct vec_flow *f);
	void (*build)(const struct vec_opts *o, struct vec_flow *f, struct iphdr *ip, uint16_t tot);
};

/* The descriptor of a vector, NULL if there is none with that ID. */
const struct vec_desc *vec_desc(int vec);

/* Name <-> id. vec_parse takes a name or Mirai's ID; VEC_NONE if neither. */
const char *vec_name(int vec);
int vec_parse(const char *name);
/* "udp vse ...": every vector's name, for messages */
const char *vec_names(void);
/* 1 if the vector is built from raw frames (not kernel sockets). */
int vec_is_raw(int vec);

/* Mirai's defaults for a vector (before user options). */
void vec_defaults(struct vec_opts *o, int vec);
/* IPv4 length of every packet of the vector (raw vectors), 0 if variable. */
uint32_t vec_ip_len(const struct vec_opts *o);

/* A random host of the target, as Mirai does: base + (rand >> netmask),
 * the base unmasked. */
uint32_t vec_target_host(struct vec_rand *r, const struct vec_target *t);
/* A random address inside 198.18.0.0/15 (network order). */
uint32_t vec_testbed_random(struct vec_rand *r);

/* Setup (once per bot and target). */
void vec_flow_init(const struct vec_opts *o, struct vec_flow *f, uint32_t local,
		   const struct vec_target *t, uint64_t seed, uint64_t stream);

/* The next packet of this flow into buf (cap bytes); returns its length or
 * -EMSGSIZE. The destination (for dns: the resolver passed as tgt) and the
 * source are in the packet's IPv4 header. */
int vec_next(const struct vec_opts *o, struct vec_flow *f, uint8_t *buf, size_t cap);

/* The transport checksum over the IPv4 pseudo-header (xpro_csum, lib/tunnel.h). */
uint16_t vec_l4_csum(uint32_t saddr, uint32_t daddr, uint8_t proto, const void *l4, size_t len);

#endif
