// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: xpro-replay's handling of a captured frame
 * (traffic/replay/replay_map.h), in the order replay.c applies it: find
 * the IPv4 packet in a frame of a link type, map its addresses, rewrite it
 * in place, wrap it in the tunnel. Input: byte 0 picks the link type, bytes
 * 1-8 the seed, byte 9 the prefix lengths, the rest is the frame (an exact-
 * size heap copy, as libpcap hands it over).
 * Invariants: a frame found to be IPv4 lies inside the capture, is version
 * 4 with a header of >= 20 bytes and its total length; after the rewrite
 * the header checksum verifies, the addresses are the mapped ones, and a
 * complete (unfragmented) UDP or TCP segment's checksum verifies; mapped
 * addresses lie inside their range, never its first or last address when
 * it has 4 or more; the tunnel packet (header version 1, or 2 under a key)
 * is the outer headers longer and both its IPv4 and UDP checksums verify.
 */
#include <arpa/inet.h>
#include <pcap/dlt.h>
#include "csum.h"
#include "replay_map.h"
#include "fuzz.h"

#define PKT_MAX 65535

static const int dlts[] = { DLT_EN10MB, DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_LINUX_SLL,
			    DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP, DLT_IEEE802_11 };

FZ_INIT_QUIET

static uint32_t mapped(uint64_t seed, const struct xr_range *r, uint32_t a)
{
	uint32_t m = xr_map(seed, r, a), n = r->plen ? ~0U >> r->plen : ~0U;
	uint32_t base = ntohl(r->base) & ~n, off = ntohl(m) - base;

	FZ_CHECK((ntohl(m) & ~n) == base);
	if (r->plen <= 30)
		FZ_CHECK(off != 0 && off != n);
	return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *ip = NULL;
	struct xr_range rs, rd;
	uint8_t *frame, *pkt, *out;
	size_t n, iplen = 0, ihl, wlen;
	uint32_t src, dst, osrc, odst;
	uint64_t seed;
	int dlt;

	if (size < 10)
		return 0;
	dlt = dlts[data[0] % (sizeof(dlts) / sizeof(dlts[0]))];
	memcpy(&seed, data + 1, 8);
	rs = (struct xr_range){ htonl(0xc6120000), 16 + (data[9] & 15) };       /* 198.18.0.0/16../31 */
	rd = (struct xr_range){ htonl(0xc6130000), 16 + ((data[9] >> 4) & 15) }; /* 198.19.0.0/16../31 */
	n = size - 10;
	frame = (uint8_t *)fz_dup(data + 10, n);
	if (xr_frame_ipv4(dlt, frame, n, &ip, &iplen) != XR_IPV4) {
		free(frame);
		return 0;
	}
	FZ_CHECK(xr_dlt_supported(dlt));
	FZ_CHECK(ip >= frame && iplen >= 20 && (size_t)(ip - frame) + iplen <= n);
	ihl = (size_t)(ip[0] & 15) * 4;
	FZ_CHECK(ip[0] >> 4 == 4 && ihl >= 20 && ihl <= iplen && (size_t)(ip[2] << 8 | ip[3]) == iplen);

	memcpy(&osrc, ip + 12, 4);
	memcpy(&odst, ip + 16, 4);
	src = mapped(seed, &rs, osrc);
	dst = mapped(seed, &rd, odst);
	pkt = (uint8_t *)fz_dup(ip, iplen);
	xr_rewrite(pkt, iplen, src, dst);
	FZ_CHECK(xpro_csum(pkt, ihl, 0) == 0);
	FZ_CHECK(!memcmp(pkt + 12, &src, 4) && !memcmp(pkt + 16, &dst, 4));
	if (!((pkt[6] << 8 | pkt[7]) & 0x3fff) &&
	    ((pkt[9] == 6 && iplen - ihl >= 20) || (pkt[9] == 17 && iplen - ihl >= 8)))
		FZ_CHECK(xpro_csum_l4(src, dst, pkt[9], pkt + ihl, iplen - ihl) == 0);

	if (iplen + 48 <= PKT_MAX) {
		/* version 1, or version 2 under a key when the seed is odd */
		struct xpro_tun_key k = { seed, ~seed, 3, 1 }, *key = (seed & 1) ? &k : NULL;
		size_t olen = xpro_tun_outer_len(key);

		out = malloc(olen + iplen);
		if (!out)
			abort();
		wlen = xr_tunnel(out, src, htonl(0xc6120001), 49152, 5683, 1, pkt, iplen, key);
		FZ_CHECK(wlen == olen + iplen);
		FZ_CHECK(xpro_csum(out, 20, 0) == 0);
		FZ_CHECK(xpro_csum_l4(src, htonl(0xc6120001), 17, out + 20, wlen - 20) == 0);
		FZ_CHECK(!memcmp(out + olen, pkt, iplen));
		free(out);
	}
	free(pkt);
	free(frame);
	return 0;
}
