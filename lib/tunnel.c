// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "tunnel.h"
#include "xpro_mac.h"

void xpro_tun_outer(uint8_t *out, uint32_t src, uint32_t proxy, uint16_t sport, uint16_t dport,
		    uint16_t id, size_t inner_len)
{
	xpro_tun_outer_key(out, src, proxy, sport, dport, id, inner_len, NULL);
}

void xpro_tun_outer_key(uint8_t *out, uint32_t src, uint32_t proxy, uint16_t sport, uint16_t dport,
			uint16_t id, size_t inner_len, struct xpro_tun_key *key)
{
	size_t ulen = xpro_tun_outer_len(key) - 20 + inner_len, tot = 20 + ulen;
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
	if (key) {
		/* version 2: sequence number, key index, MAC (docs/protocol.md) */
		uint8_t *h = out + 28;
		uint32_t seq = htonl(++key->seq), idx = htonl(key->index);
		uint64_t mac;

		h[1] = XPRO_TUN_VERSION2;
		memcpy(h + 4, &seq, 4);
		memcpy(h + 8, &idx, 4);
		/* the inner packet's version nibble picks the rule (docs/protocol.md, "Inner IPv6") */
		if ((h[XPRO_TUN_HDR2_LEN] >> 4) == 6)
			mac = xpro_tun_mac6(key->k0, key->k1, src, proxy, h, h + XPRO_TUN_HDR2_LEN + 8);
		else
			mac = xpro_tun_mac(key->k0, key->k1, src, proxy, h, h + XPRO_TUN_HDR2_LEN + 12);
		for (int b = 0; b < 8; b++)
			h[12 + b] = (uint8_t)(mac >> (8 * b));
	}
}

int xpro_keyfile_load(const char *path, struct xpro_keyfile *out, char *err, size_t errlen)
{
	char line[256];
	struct xpro_keyfile kf = { 0 };
	struct stat st;
	__u32 addr;
	uint32_t cap = 0;
	int lineno = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) || (st.st_mode & 077)) {
		snprintf(err, errlen, "%s is readable or writable by group or others: chmod 600 it", path);
		fclose(f);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct xpro_tun_key k = { 0 };
		long idx;
		int n = xpro_key_line(line, &addr, &k.k0, &k.k1, &idx);

		lineno++;
		if (!n)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s:%d: expected 'A.B.C.D KEY [INDEX]' (KEY: 32 hex digits)", path, lineno);
			goto fail;
		}
		if (kf.n == cap) {
			uint32_t *a;
			struct xpro_tun_key *kk;

			cap = cap ? 2 * cap : 16;
			a = realloc(kf.addr, cap * sizeof(*a));
			if (a)
				kf.addr = a;
			kk = realloc(kf.key, cap * sizeof(*kk));
			if (kk)
				kf.key = kk;
			if (!a || !kk) {
				snprintf(err, errlen, "%s: %s", path, strerror(ENOMEM));
				goto fail;
			}
		}
		/* the entry's place in the file, from 0, unless the line names it */
		k.index = idx >= 0 ? (uint32_t)idx : kf.n;
		kf.addr[kf.n] = addr;
		kf.key[kf.n++] = k;
	}
	fclose(f);
	*out = kf;
	return (int)kf.n;
fail:
	fclose(f);
	xpro_keyfile_free(&kf);
	return -1;
}

struct xpro_tun_key *xpro_keyfile_find(struct xpro_keyfile *kf, uint32_t addr)
{
	for (uint32_t i = 0; i < kf->n; i++)
		if (kf->addr[i] == addr)
			return &kf->key[i];
	return NULL;
}

void xpro_keyfile_free(struct xpro_keyfile *kf)
{
	free(kf->addr);
	free(kf->key);
	memset(kf, 0, sizeof(*kf));
}
