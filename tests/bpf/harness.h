/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * BPF test-run harness: a private network namespace with a known FIB, the
 * X-Pro object loaded once per mode with the test clock on and pinning off,
 * maps reset between cases.
 */
#ifndef XPRO_TEST_HARNESS_H
#define XPRO_TEST_HARNESS_H

#include <stdint.h>
#include <stddef.h>
#include "xpro.h"
#include "xpro.skel.h"

/* The namespace (made by h_netns_setup):
 *   in0  02:00:00:00:00:01  198.18.0.1/24   (ingress; peer in0p)
 *   out0 02:00:00:00:00:02  198.18.1.1/24   (egress;  peer out0p)
 *   neighbours: 198.18.1.2 -> 02:00:00:00:01:02 on out0 (permanent)
 *               198.18.0.5 -> 02:00:00:00:00:05 on in0 (permanent)
 *   198.18.1.3 has no neighbour entry; 198.18.200.0/24 is a blackhole.
 * The same in IPv6, each address 2001:db8:: + its IPv4 (/120 for a /24):
 *   in0 2001:db8::c612:1, out0 2001:db8::c612:101; neighbours
 *   2001:db8::c612:102 and 2001:db8::c612:5; 2001:db8::c612:103 none;
 *   2001:db8::c612:c800/120 a blackhole; IPv6 forwarding on.
 * Every object is loaded with device_embed6 = 2001:db8::/96.
 */
extern int h_if_in, h_if_out;
extern const uint8_t H_MAC_IN[6], H_MAC_OUT[6], H_MAC_VIC[6], H_MAC_DEV5[6];

int h_netns_setup(void);                 /* 0, or -1 (prints why) */

/*
 * The start of a BPF test's main() (tap.h included before): without root
 * the whole program is skipped, naming what; without a private network
 * namespace it fails. Both return from main().
 */
#define H_BEGIN(what)                                                              \
	do {                                                                       \
		if (geteuid() != 0) {                                              \
			tap_skip(what " needs root (CAP_BPF, CAP_NET_ADMIN)");     \
			return tap_done();                                         \
		}                                                                  \
		if (h_netns_setup()) {                                             \
			ok(0, "private network namespace");                        \
			return tap_done();                                         \
		}                                                                  \
	} while (0)
struct xpro_bpf *h_load(uint32_t mode);  /* tunnel (0) or inline (1), tunnel 198.18.0.1:5683 */
void h_reset(struct xpro_bpf *s, const struct xpro_params *p);
void h_params(struct xpro_params *p);    /* test thresholds */
/* The reverse firewall's test prefixes: 198.18.0.7 is another proxy,
 * 198.18.1.128/25 management-only, 198.18.5.0/24 registered for
 * 198.18.0.2; in IPv6, 2001:db8::c612:7 a proxy, 2001:db8::c612:180/121
 * management-only, 2001:db8:5::/48 registered for 198.18.0.2. 0 or -1. */
int h_guard(struct xpro_bpf *s);
/* Client identity: h_load's objects check version-2 MACs and accept
 * version 1 from clients without a key; h_load_v1(mode, 0) refuses version 1.
 * h_keys writes the keys of 198.18.0.2 (H_KEY_A, index 0) and 198.18.0.3
 * (H_KEY_B, index 1) with fresh replay windows; h_unkey removes them. 0 or -1. */
extern const uint64_t H_KEY_A[2], H_KEY_B[2];
struct xpro_bpf *h_load_v1(uint32_t mode, int v1);
extern uint32_t h_max_records;           /* the record map's size at the next load (1 << 16) */
extern int h_embed6;                     /* 0: the next load has device_embed6 = none */
int h_keys(struct xpro_bpf *s);
int h_unkey(struct xpro_bpf *s);
/* Run one frame; returns the XDP action, output in out (*out_len). */
int h_run(struct xpro_bpf *s, const uint8_t *pkt, size_t len, uint8_t *out, size_t *out_len);
uint64_t h_counter(struct xpro_bpf *s, unsigned int idx);
/* The record of (client, dest) and the aggregate of dest, IPv4 addresses
 * (network order, looked up v4-mapped), or any address (h_record6, h_agg6): 1 if found. */
int h_record(struct xpro_bpf *s, uint32_t client, uint32_t dest, struct xpro_record *r);
int h_agg(struct xpro_bpf *s, uint32_t dest, struct xpro_agg *a);
int h_record6(struct xpro_bpf *s, const struct xpro_addr *client, const struct xpro_addr *dest,
	      struct xpro_record *r);
int h_agg6(struct xpro_bpf *s, const struct xpro_addr *dest, struct xpro_agg *a);
/* A TF2 override for the IPv4 destination dest. 0 or -1. */
int h_tf2(struct xpro_bpf *s, uint32_t dest, uint64_t tf2);

#endif
