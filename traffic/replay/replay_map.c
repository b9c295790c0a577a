// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xpro-replay's packet work (replay_map.h, docs/xpro-replay.md). */
#include <arpa/inet.h>
#include <pcap/dlt.h>
#include <string.h>
#include "xpro.h"
#include "replay_map.h"
#include "tunnel.h"
#include "inet6.h"

#define ETH_IP   0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100
#define ETH_QINQ 0x88a8

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int xr_dlt_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_NULL:
	case DLT_LOOP:
		return 1;
	}
	return 0;
}

/* The packet at p (n bytes), known to be IPv6: its total length 40 +
 * payload length (a jumbogram's 0 is malformed here) */
static enum xr_frame check_ipv6(const uint8_t *p, size_t n, const uint8_t **ip, size_t *iplen)
{
	size_t tot;

	if (n < 40)
		return XR_TRUNCATED;
	if (p[0] >> 4 != 6)
		return XR_MALFORMED;
	tot = 40 + (size_t)be16(p + 4);
	if (tot == 40 && p[6] == 0)
		return XR_MALFORMED; /* hop-by-hop with no payload length: a jumbogram */
	if (n < tot)
		return XR_TRUNCATED;
	*ip = p;
	*iplen = tot;
	return XR_IPV6;
}

/* The packet at p (n bytes), known by its link layer to be IPv4. */
static enum xr_frame check_ipv4(const uint8_t *p, size_t n, const uint8_t **ip, size_t *iplen)
{
	size_t ihl, tot;

	if (n >= 1 && p[0] >> 4 == 6)
		return check_ipv6(p, n, ip, iplen);
	if (n < 20)
		return XR_TRUNCATED;
	if (p[0] >> 4 != 4)
		return XR_NONIP;
	ihl = (size_t)(p[0] & 15) * 4;
	tot = be16(p + 2);
	if (ihl < 20 || tot < ihl)
		return XR_MALFORMED;
	if (n < tot)
		return XR_TRUNCATED;
	*ip = p;
	*iplen = tot;
	return XR_IPV4;
}

static enum xr_frame by_ethertype(uint16_t et, const uint8_t *p, size_t n, const uint8_t **ip,
				  size_t *iplen)
{
	if (et == ETH_IP)
		return check_ipv4(p, n, ip, iplen);
	if (et == ETH_IPV6)
		return check_ipv6(p, n, ip, iplen);
	return XR_NONIP;
}

enum xr_frame xr_frame_ipv4(int dlt, const uint8_t *f, size_t n, const uint8_t **ip, size_t *iplen)
{
	size_t off;
	uint16_t et;
	uint32_t fam;

	switch (dlt) {
	case DLT_EN10MB:
		if (n < 14)
			return XR_TRUNCATED;
		et = be16(f + 12);
		off = 14;
		while (et == ETH_VLAN || et == ETH_QINQ) {
			if (n < off + 4)
				return XR_TRUNCATED;
			et = be16(f + off + 2);
			off += 4;
		}
		return by_ethertype(et, f + off, n - off, ip, iplen);
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		if (n < 1)
			return XR_TRUNCATED;
		if (f[0] >> 4 == 6)
			return check_ipv6(f, n, ip, iplen);
		if (f[0] >> 4 != 4)
			return XR_NONIP;
		return check_ipv4(f, n, ip, iplen);
	case DLT_LINUX_SLL:
		if (n < 16)
			return XR_TRUNCATED;
		return by_ethertype(be16(f + 14), f + 16, n - 16, ip, iplen);
	case DLT_LINUX_SLL2:
		if (n < 20)
			return XR_TRUNCATED;
		return by_ethertype(be16(f), f + 20, n - 20, ip, iplen);
	case DLT_NULL:
	case DLT_LOOP:
		if (n < 4)
			return XR_TRUNCATED;
		/* the family in the capturing host's byte order (DLT_LOOP: network) */
		memcpy(&fam, f, 4);
		if (dlt == DLT_LOOP)
			fam = ntohl(fam);
		else if (fam > 0xffff)
			fam = __builtin_bswap32(fam);
		if (fam == 2)
			return check_ipv4(f + 4, n - 4, ip, iplen);
		if (fam == 10 || fam == 24 || fam == 28 || fam == 30)
			return check_ipv6(f + 4, n - 4, ip, iplen);
		return XR_NONIP;
	}
	return XR_NONIP;
}

uint64_t xr_hash(uint64_t seed, uint32_t addr_host)
{
	uint64_t z = (seed << 32) ^ addr_host;

	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint32_t xr_map(uint64_t seed, const struct xr_range *r, uint32_t addr)
{
	uint64_t n = 1ULL << (32 - r->plen), off;
	uint32_t base = ntohl(r->base) & (uint32_t)(~0ULL << (32 - r->plen));
	uint64_t h = xr_hash(seed, ntohl(addr));

	if (n >= 4)
		off = 1 + h % (n - 2);
	else
		off = h % n;
	return htonl(base + (uint32_t)off);
}

uint32_t xr_fold6(uint64_t seed, const uint8_t a[16])
{
	uint32_t h = 0;

	for (int i = 0; i < 16; i += 4)
		h = (uint32_t)xr_hash(seed, h ^ ((uint32_t)a[i] << 24 | (uint32_t)a[i + 1] << 16 |
						  (uint32_t)a[i + 2] << 8 | a[i + 3]));
	return h;
}

uint32_t xr_map6(uint64_t seed, const struct xr_range *r, const uint8_t a[16])
{
	return xr_map(seed, r, htonl(xr_fold6(seed, a)));
}

/* RFC 1624: HC' = ~(~HC + ~m + m') for each 16-bit word m changed to m':
 * the checksum of ~HC, the ~m and the m' */
static void csum_replace_n(uint8_t *field, const uint8_t *old, const uint8_t *neu, size_t n)
{
	uint8_t w[2 + 64];
	uint16_t c;
	size_t i;

	w[0] = (uint8_t)~field[0];
	w[1] = (uint8_t)~field[1];
	for (i = 0; i < n; i++)
		w[2 + i] = (uint8_t)~old[i];
	memcpy(w + 2 + n, neu, n);
	c = xpro_csum(w, 2 + 2 * n, 0);
	memcpy(field, &c, 2);
}

static void csum_replace(uint8_t *field, const uint8_t *old4x2, const uint8_t *new4x2)
{
	csum_replace_n(field, old4x2, new4x2, 8);
}

void xr_rewrite6(uint8_t *pkt, size_t len, uint32_t src, uint32_t dst)
{
	uint8_t old[32], nh = pkt[6], *l4;
	size_t off = 40, l4len;
	int first_frag = 0, hops;

	memcpy(old, pkt + 8, 32);
	xp6_embed(pkt + 8, src);
	xp6_embed(pkt + 24, dst);
	/* the transport header: after hop-by-hop, routing, destination options
	 * and fragment headers, at most 8 of them */
	for (hops = 0; hops < 8 && off + 8 <= len; hops++) {
		if (nh == 0 || nh == 43 || nh == 60) {
			size_t hl = 8 + 8 * (size_t)pkt[off + 1];

			nh = pkt[off];
			off += hl;
		} else if (nh == 44) {
			if (be16(pkt + off + 2) & 0xfff8)
				return; /* a later fragment: no transport header */
			first_frag = (pkt[off + 3] & 1);
			nh = pkt[off];
			off += 8;
		} else {
			break;
		}
	}
	if (off > len)
		return;
	l4 = pkt + off;
	l4len = len - off;
	if (!((nh == 6 && l4len >= 20) || (nh == 17 && l4len >= 8) || (nh == 58 && l4len >= 4)))
		return;
	{
		uint8_t *field = l4 + (nh == 6 ? 16 : nh == 17 ? 6 : 2);
		uint16_t c;

		if (first_frag) {
			/* the checksum covers bytes we do not have: the address change only */
			csum_replace_n(field, old, pkt + 8, 32);
			return;
		}
		field[0] = field[1] = 0;
		c = xp6_l4_csum(pkt + 8, pkt + 24, nh, l4, l4len);
		if (nh == 17 && c == 0)
			c = 0xffff;
		memcpy(field, &c, 2);
	}
}

void xr_rewrite(uint8_t *pkt, size_t len, uint32_t src, uint32_t dst)
{
	size_t ihl = (size_t)(pkt[0] & 15) * 4, l4len = len - ihl;
	uint16_t frag = be16(pkt + 6);
	uint8_t proto = pkt[9], old[8], neu[8], *l4 = pkt + ihl;
	uint16_t c;

	memcpy(old, pkt + 12, 8);
	memcpy(pkt + 12, &src, 4);
	memcpy(pkt + 16, &dst, 4);
	memcpy(neu, pkt + 12, 8);
	pkt[10] = pkt[11] = 0;
	c = xpro_csum(pkt, ihl, 0);
	memcpy(pkt + 10, &c, 2);

	if (frag & 0x1fff)
		return; /* a later fragment: no transport header */
	if (frag & 0x2000) {
		/* first fragment: the checksum covers bytes we do not have */
		if (proto == 6 && l4len >= 18)
			csum_replace(l4 + 16, old, neu);
		else if (proto == 17 && l4len >= 8 && (l4[6] || l4[7]))
			csum_replace(l4 + 6, old, neu);
		return;
	}
	if ((proto == 6 && l4len >= 20) || (proto == 17 && l4len >= 8)) {
		uint8_t *field = l4 + (proto == 6 ? 16 : 6);

		field[0] = field[1] = 0;
		c = xpro_csum_l4(src, dst, proto, l4, l4len);
		if (proto == 17 && c == 0)
			c = 0xffff;
		memcpy(field, &c, 2);
	}
}

size_t xr_tunnel(uint8_t *out, uint32_t src, uint32_t proxy, uint16_t sport, uint16_t port,
		 uint16_t id, const uint8_t *inner, size_t inner_len, struct xpro_tun_key *key)
{
	size_t ulen = xpro_tun_outer_len(key) - 20 + inner_len;
	uint8_t *udp = out + 20;
	uint16_t c;

	/* the inner packet first: the MAC covers its addresses */
	memcpy(out + xpro_tun_outer_len(key), inner, inner_len);
	xpro_tun_outer_key(out, src, proxy, sport, port, id, inner_len, key);
	/* the UDP checksum over the whole datagram, now that it is in place */
	c = xpro_csum_l4(src, proxy, 17, udp, ulen);
	if (c == 0)
		c = 0xffff;
	memcpy(udp + 6, &c, 2);
	return 20 + ulen;
}
