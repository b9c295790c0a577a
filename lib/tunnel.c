// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <string.h>
#include "tunnel.h"

void xpro_tun_outer(uint8_t *out, uint32_t src, uint32_t proxy, uint16_t sport, uint16_t dport,
		    uint16_t id, size_t inner_len)
{
	size_t ulen = 8 + XPRO_TUN_HDR_LEN + inner_len, tot = 20 + ulen;
	struct xpro_tun_hdr *x = (struct xpro_tun_hdr *)(out + 28);
	uint8_t *udp = out + 20;
	uint16_t c;

	out[0] = 0x45;
	out[1] = 0;
	out[2] = (uint8_t)(tot >> 8);
	out[3] = (uint8_t)tot;
	out[4] = (uint8_t)(id >> 8);
	out[5] = (uint8_t)id;
	out[6] = 0x40; /* DF: the proxy drops outer fragments */
	out[7] = 0;
	out[8] = 64;
	out[9] = 17;
	out[10] = out[11] = 0;
	memcpy(out + 12, &src, 4);
	memcpy(out + 16, &proxy, 4);
	c = xpro_csum(out, 20, 0);
	memcpy(out + 10, &c, 2);
	udp[0] = (uint8_t)(sport >> 8);
	udp[1] = (uint8_t)sport;
	udp[2] = (uint8_t)(dport >> 8);
	udp[3] = (uint8_t)dport;
	udp[4] = (uint8_t)(ulen >> 8);
	udp[5] = (uint8_t)ulen;
	udp[6] = udp[7] = 0;
	x->magic = XPRO_TUN_MAGIC;
	x->version = XPRO_TUN_VERSION;
	x->inner_len = htons((uint16_t)inner_len);
}
