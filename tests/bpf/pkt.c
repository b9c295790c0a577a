// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <string.h>
#include "pkt.h"
#include "tunnel.h"
#include "xpro_mac.h"

uint32_t ip4(const char *dotted)
{
	struct in_addr a;

	inet_pton(AF_INET, dotted, &a);
	return a.s_addr;
}

static void put16(uint8_t *p, uint16_t host)
{
	p[0] = (uint8_t)(host >> 8);
	p[1] = (uint8_t)host;
}

void ip6(const char *text, uint8_t *a)
{
	inet_pton(AF_INET6, text, a);
}

void pkt_key(const struct pkt_spec *s, struct xpro_addr *client, struct xpro_addr *dest)
{
	xpro_addr_set4(client, s->no_outer ? s->i_src : s->o_src);
	if (s->no_outer && s->i6)
		memcpy(client, s->i6_src, 16);
	if (s->i6)
		memcpy(dest, s->i6_dst, 16);
	else
		xpro_addr_set4(dest, s->i_dst);
}

void pkt_defaults(struct pkt_spec *s)
{
	static const uint8_t dst[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const uint8_t src[6] = { 0x02, 0, 0, 0, 0, 0xd0 };

	memset(s, 0, sizeof(*s));
	memcpy(s->eth_dst, dst, 6);
	memcpy(s->eth_src, src, 6);
	s->o_src = ip4("198.18.0.2");
	s->o_dst = ip4("198.18.0.1");
	s->i_src = ip4("198.18.0.2");
	s->i_dst = ip4("198.18.1.2");
	s->i_sport = 40000;
	s->i_dport = 7;
	s->payload = 18;
	ip6("2001:db8::c612:2", s->i6_src);    /* 198.18.0.2 under device_embed6 */
	ip6("2001:db8::c612:102", s->i6_dst);  /* the IPv6 of 198.18.1.2 */
}

/* The inner IPv6 packet at in (extension headers, upper layer, payload);
 * returns its length. */
static size_t build6(const struct pkt_spec *s, uint8_t *in)
{
	size_t off = 40, i;
	uint8_t l4 = s->l4 ? s->l4 : 17, *u;
	int k;

	in[0] = 0x60;
	in[6] = s->n_ext ? s->ext[0] : l4;
	in[7] = s->i_ttl ? s->i_ttl : 64;
	memcpy(in + 8, s->i6_src, 16);
	memcpy(in + 24, s->i6_dst, 16);
	for (k = 0; k < s->n_ext; k++) {
		in[off] = k + 1 < s->n_ext ? s->ext[k + 1] : l4;
		in[off + 1] = s->ext_len[k];
		off += 8 + 8 * (size_t)s->ext_len[k];
	}
	u = in + off;
	if (l4 == 58) {
		u[0] = s->icmp_type;
	} else {
		put16(u, s->i_sport);
		put16(u + 2, s->i_dport);
		put16(u + 4, (uint16_t)(8 + s->payload));
	}
	for (i = 0; i < s->payload; i++)
		u[8 + i] = (uint8_t)('a' + i % 26);
	off += 8 + s->payload;
	put16(in + 4, (uint16_t)((int)off - 40 + s->i_totlen_delta));
	return off;
}

size_t pkt_inner_off(const struct pkt_spec *s)
{
	return s->no_outer ? 14 : 14 + 20 + 8 + (s->v2 ? XPRO_TUN_HDR2_LEN : 4);
}

size_t pkt_build(const struct pkt_spec *s, uint8_t *buf, size_t cap)
{
	size_t ihl = (s->i_ihl ? s->i_ihl : 5) * 4, inner_hl = ihl < 20 ? 20 : ihl;
	size_t inner_len = inner_hl + 8 + s->payload;
	int k;
	size_t off = pkt_inner_off(s), len = off + inner_len, i;
	uint8_t *e = buf, *o = buf + 14, *u = o + 20, *x = u + 8, *in = buf + off, *iu;

	if (len > cap)
		return 0;
	if (s->i6) {
		inner_len = 40 + 8 + s->payload;
		for (k = 0; k < s->n_ext; k++)
			inner_len += 8 + 8 * (size_t)s->ext_len[k];
		len = off + inner_len;
		if (len > cap)
			return 0;
	}
	memset(buf, 0, len);
	memcpy(e, s->eth_dst, 6);
	memcpy(e + 6, s->eth_src, 6);
	put16(e + 12, s->eth_proto ? s->eth_proto : s->i6 && s->no_outer ? 0x86DD : 0x0800);

	if (s->i6) {
		build6(s, in);
	} else {
		/* inner IPv4 + UDP */
		in[0] = (uint8_t)((s->i_version ? s->i_version : 4) << 4 | (s->i_ihl ? s->i_ihl : 5));
		put16(in + 2, (uint16_t)((int)inner_len + s->i_totlen_delta));
		put16(in + 4, 0x1234);
		put16(in + 6, s->i_frag);
		in[8] = s->i_ttl ? s->i_ttl : 64;
		in[9] = 17;
		memcpy(in + 12, &s->i_src, 4);
		memcpy(in + 16, &s->i_dst, 4);
		memcpy(in + 10, (uint16_t[]){ xpro_csum(in, inner_hl, 0) }, 2);
		iu = in + inner_hl;
		put16(iu, s->i_sport);
		put16(iu + 2, s->i_dport);
		put16(iu + 4, (uint16_t)(8 + s->payload));
		for (i = 0; i < s->payload; i++)
			iu[8 + i] = (uint8_t)('a' + i % 26);
	}

	if (!s->no_outer) {
		size_t ulen = 8 + (s->v2 ? XPRO_TUN_HDR2_LEN : 4) + inner_len;

		o[0] = 0x45;
		put16(o + 2, (uint16_t)(20 + ulen));
		put16(o + 6, s->o_frag);
		o[8] = 64;
		o[9] = s->o_proto ? s->o_proto : 17;
		memcpy(o + 12, &s->o_src, 4);
		memcpy(o + 16, &s->o_dst, 4);
		memcpy(o + 10, (uint16_t[]){ xpro_csum(o, 20, 0) }, 2);
		put16(u, 50000);
		put16(u + 2, s->o_dport ? s->o_dport : 5683);
		put16(u + 4, (uint16_t)((int)ulen + s->udp_len_delta));
		x[0] = s->x_magic ? s->x_magic : 0x58;
		x[1] = s->x_version ? s->x_version : (s->v2 ? 2 : 1);
		put16(x + 2, (uint16_t)((int)inner_len + s->x_len_delta));
		if (s->v2) {
			uint64_t mac;

			x[4] = (uint8_t)(s->x_seq >> 24);
			x[5] = (uint8_t)(s->x_seq >> 16);
			x[6] = (uint8_t)(s->x_seq >> 8);
			x[7] = (uint8_t)s->x_seq;
			x[8] = (uint8_t)(s->x_key_index >> 24);
			x[9] = (uint8_t)(s->x_key_index >> 16);
			x[10] = (uint8_t)(s->x_key_index >> 8);
			x[11] = (uint8_t)s->x_key_index;
			mac = (s->i6 ? xpro_tun_mac6(s->x_k0, s->x_k1, s->o_src, s->o_dst, x, in + 8) :
				       xpro_tun_mac(s->x_k0, s->x_k1, s->o_src, s->o_dst, x, in + 12)) ^ s->x_mac_xor;
			for (i = 0; i < 8; i++)
				x[12 + i] = (uint8_t)(mac >> (8 * i));
		}
	}
	if (s->truncate && s->truncate < len)
		len = s->truncate;
	return len;
}
