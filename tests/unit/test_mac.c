// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The X-Pro header's MAC (bpf/xpro_mac.h): SipHash-2-4 against the
 * reference implementation's published vectors (key 00 01 .. 0f, message
 * 00 01 .. n-1: n = 32 gives 0x7127512f72f27cce, n = 24 0xb8ad50c6f649af94,
 * vectors_sip64 of the SipHash paper's test code), and the message layout
 * of docs/protocol.md.
 */
#include <stdint.h>
#include <string.h>
#include "tap.h"
#include "xpro_mac.h"

int main(void)
{
	const uint64_t k0 = 0x0706050403020100ULL, k1 = 0x0f0e0d0c0b0a0908ULL;
	uint8_t m[32], hdr[8], inner[8];
	__be32 osrc, proxy;
	int i;

	for (i = 0; i < 32; i++)
		m[i] = (uint8_t)i;
	is_u64(xpro_siphash_24(k0, k1, m), 0x7127512f72f27cceULL, "SipHash-2-4 of 32 bytes: the reference vector");
	/* the message: outer source, proxy, header bytes 0-7, inner bytes 12-19;
	 * 24 bytes 00 .. 17: the reference vector of length 24 */
	memcpy(&osrc, m, 4);
	memcpy(&proxy, m + 4, 4);
	memcpy(hdr, m + 8, 8);
	memcpy(inner, m + 16, 8);
	is_u64(xpro_tun_mac(k0, k1, osrc, proxy, hdr, inner), 0xb8ad50c6f649af94ULL,
	       "xpro_tun_mac: SipHash-2-4 of outer source, proxy, header 0-7, inner 12-19 (reference vector of 24 bytes)");
	inner[7] ^= 1;
	ok(xpro_tun_mac(k0, k1, osrc, proxy, hdr, inner) != 0xb8ad50c6f649af94ULL, "one bit of the message changes the MAC");
	ok(xpro_tun_mac(k0 ^ 1, k1, osrc, proxy, hdr, inner) != xpro_tun_mac(k0, k1, osrc, proxy, hdr, inner),
	   "one bit of the key changes the MAC");
	/* a key file's KEY: the 16 bytes in order, k0 = bytes 0-7 little-endian */
	{
		__u64 a = 0, b = 0;

		ok(!xpro_key_hex("000102030405060708090a0b0c0d0e0f", &a, &b) && a == k0 && b == k1,
		   "key 000102..0f reads as the reference key (k0 0x0706050403020100, k1 0x0f0e0d0c0b0a0908)");
		ok(xpro_key_hex("000102030405060708090a0b0c0d0e0", &a, &b) && xpro_key_hex("x00102030405060708090a0b0c0d0e0f", &a, &b),
		   "a key of 31 digits, or with a non-hex digit, is refused");
	}
	return tap_done();
}
