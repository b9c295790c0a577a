/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xpro-tun: what crosses the kernel/user boundary of the device-side tunnel
 * (traffic/tun/tun_egress.bpf.c <-> traffic/tun/ and traffic/device/).
 *
 * Included by the TC program (after vmlinux.h) and by userspace. The wire
 * format itself is bpf/xpro.h (struct xpro_tun_hdr), never copied here.
 * Addresses and ports are in network byte order.
 */
#ifndef XPRO_TUN_MAPS_H
#define XPRO_TUN_MAPS_H

#include "xpro.h"

#define XTUN_MAX_PROXIES 16
#define XTUN_MAX_SOURCES 65536

/* tc filter identity on the clsact egress hook (one per interface) */
#define XTUN_TC_HANDLE   0x58
#define XTUN_TC_PRIO     0x58

enum xtun_mode {
	XTUN_MODE_FIXED = 0,    /* always the first proxy of the list */
	XTUN_MODE_SPREAD = 1,   /* by a hash of the inner destination */
	XTUN_MODE_FAILOVER = 2, /* the first proxy marked alive */
};

/* offload bits saved at attach, restored at detach */
#define XTUN_OFF_TXCSUM  (1u << 0)
#define XTUN_OFF_TSO     (1u << 1)
#define XTUN_OFF_GSO     (1u << 2)
#define XTUN_OFF_SAVED   (1u << 31)

/*
 * tun_cfg: an array of one. A map, not a load-time `const volatile`
 * struct (as the bot's traffic/bot/botgen.h has): the program has no
 * load-time setting: `xpro-tun set` changes the mode, the proxies and their
 * up/down marks while the program runs, and detach reads back the
 * offloads attach saved here.
 */
struct xtun_cfg {
	__u32 mode;       /* enum xtun_mode */
	__u32 nproxies;   /* valid slots of tun_proxies, 0..XTUN_MAX_PROXIES */
	__u32 offloads;   /* XTUN_OFF_* as they were before attach */
	__u32 gso_max_segs; /* the interface's, before attach (0: not changed) */
};

/* tun_proxies: array of XTUN_MAX_PROXIES, slots 0..nproxies-1 valid */
struct xtun_proxy {
	__be32 addr;      /* outer destination */
	__be16 port;      /* outer UDP destination port */
	__u8 alive;       /* failover mode: 1 may be chosen */
	__u8 pad;
};

/* tun_pstats: per-CPU array of XTUN_MAX_PROXIES, encapsulated towards each slot */
struct xtun_pstat {
	__u64 packets;
	__u64 bytes;      /* inner IPv4 bytes */
};

/*
 * tun_src (hash, inner source address -> slot): a per-device proxy choice
 * (xpro-device's failover). Takes precedence over the mode; a slot beyond
 * nproxies is ignored.
 */

/*
 * tun_keys (hash, inner source address -> struct xtun_key): client identity
 * (docs/protocol.md): packets from a source with a key get header version 2,
 * signed with it; the others version 1. seq: the last sequence number sent,
 * one counter per device for all proxies and CPUs (an atomic add).
 */
#define XTUN_MAX_KEYS 65536
struct xtun_key {
	__u64 k0, k1;     /* the key, as the proxies' device_keys file gives it */
	__u32 index;      /* its line's place in that file, from 0 */
	__u32 pad;
	__u64 seq;
};

/* tun_counters: per-CPU array; every packet seen ends in exactly one */
enum xtun_counter {
	XTUN_C_ENCAP = 0,      /* wrapped and sent to a proxy */
	XTUN_C_PASS_OTHER,     /* not IPv4 (ARP, ...): untouched */
	XTUN_C_PASS_TUNNEL,    /* already tunnel traffic (UDP to a proxy's port) */
	XTUN_C_PASS_PROXY,     /* other traffic to a proxy's own address */
	XTUN_C_DROP_NO_PROXY,  /* no proxy configured, or none alive (failover) */
	XTUN_C_DROP_TOO_BIG,   /* inner + 32 bytes exceeds the interface MTU */
	XTUN_C_DROP_GSO,       /* a GSO packet (offloads were left on) */
	XTUN_C_DROP_FRAG,      /* an inner fragment: proxies drop them */
	XTUN_C_DROP_MALFORMED, /* bad IPv4 header or tot_len */
	XTUN_C_DROP_ERROR,     /* a helper failed (adjust room, store) */
	XTUN_C__MAX
};

#endif
