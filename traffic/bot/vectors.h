/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Mirai attack vectors as packet builders (docs/xpro-bot.md and
 * /work/shared/design/MIRAI-VECTORS.md). A vector builds the IPv4 packet a
 * Mirai bot would put on the wire (the "inner" packet when tunnelled):
 * vec_flow_init() does what Mirai does once per target at setup,
 * vec_next() what it does on every pass of its send loop.
 *
 * The emulated bot is little-endian (x86 or arm Mirai builds), so the
 * odd-length checksums are correct (Q1) and the 16-bit byte-swap quirks
 * (Q3, stomp) land in the upper half of the 32-bit fields.
 */
#ifndef XPRO_VECTORS_H
#define XPRO_VECTORS_H

#include <stddef.h>
#include <stdint.h>

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

/* How the source address is chosen (Mirai's `source` option). */
enum vec_src_mode {
	VEC_SRC_LOCAL = 0,  /* the bot's own address (LOCAL_ADDR) */
	VEC_SRC_FIXED = 1,  /* a fixed (spoofed) address */
	VEC_SRC_RANDOM = 2, /* random per packet; inside 198.18.0.0/15 here */
};

#define VEC_RANDOM16 0xffff /* Mirai's "65535 means random" */

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

/* Name <-> id. */
const char *vec_name(int vec);
int vec_parse(const char *name);
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
