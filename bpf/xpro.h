/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * X-Pro: every structure that crosses the kernel/user boundary.
 *
 * Included by the XDP program (after vmlinux.h) and by userspace (xpro,
 * tests, the sync daemons). Fixed-width types only; no twin copies
 * anywhere else. Addresses in the maps are struct xpro_addr (IPv6, or IPv4
 * v4-mapped), network byte order; the tunnel's outer addresses are IPv4;
 * times are nanoseconds of CLOCK_TAI (shared by all proxies, see
 * docs/algorithms.md).
 */
#ifndef XPRO_H
#define XPRO_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* ---- tunnel wire format (docs/protocol.md) ------------------------------ */
#define XPRO_TUN_MAGIC     0x58        /* 'X' */
#define XPRO_TUN_VERSION   1
#define XPRO_TUN_PORT_DEFAULT 5683
#define XPRO_TUN_HDR_LEN   4
/* outer IPv4 (20, no options) + UDP (8) + X-Pro header */
#define XPRO_TUN_OUTER_LEN (20 + 8 + XPRO_TUN_HDR_LEN)

struct xpro_tun_hdr {
	__u8  magic;      /* XPRO_TUN_MAGIC */
	__u8  version;    /* XPRO_TUN_VERSION */
	__be16 inner_len; /* length of the inner IPv4 packet, = its tot_len */
} __attribute__((packed));

/*
 * Version 2 (docs/protocol.md, "Client identity"): the version-1 fields,
 * a per-device sequence number, the index of the device's key in the
 * proxies' key table, and a MAC (bpf/xpro_mac.h) under that key. 20 bytes;
 * the inner packet follows.
 */
#define XPRO_TUN_VERSION2  2
#define XPRO_TUN_HDR2_LEN  20

struct xpro_tun_hdr2 {
	__u8  magic;      /* XPRO_TUN_MAGIC */
	__u8  version;    /* XPRO_TUN_VERSION2 */
	__be16 inner_len;
	__be32 seq;       /* 1, 2, ... per (device, proxy) */
	__be32 key_index; /* the device's line in the key file, from 0 */
	__u8  mac[8];     /* SipHash-1-3, least significant byte first */
} __attribute__((packed));

/*
 * A device's key and this proxy's replay window for it (xpro_devkeys, an
 * array indexed by key_index, filled by `xpro attach` from device_keys;
 * client 0: no key). win: the highest sequence number accepted in the
 * upper 32 bits; bit n of the lower 32: top - n was accepted (n < 32).
 */
struct xpro_devkey {
	__be32 client;    /* the device's (outer) address */
	__u32 pad;
	__u64 k0, k1;     /* the 128-bit key, bytes 0-7 and 8-15 little-endian */
	__u64 win;        /* replay window, changed by compare-and-swap */
};
#define XPRO_REPLAY_WINDOW 32

#define XPRO_DEVKEYS_MAX 65536

/* ---- map keys and values ------------------------------------------------ */

/*
 * An address of either family, 16 bytes in network order: IPv6 as it is,
 * IPv4 a.b.c.d as the v4-mapped ::ffff:a.b.c.d (RFC 4291 2.5.5.2). One key
 * type for both (docs/algorithms.md, "Addresses").
 */
struct xpro_addr {
	__be32 w[4];
};

/* w[2] of a v4-mapped address, network order on either endianness */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define XPRO_V4MAPPED_W2 0xffff0000U
#else
#define XPRO_V4MAPPED_W2 0x0000ffffU
#endif

static inline void xpro_addr_set4(struct xpro_addr *a, __be32 v4)
{
	a->w[0] = 0;
	a->w[1] = 0;
	a->w[2] = XPRO_V4MAPPED_W2;
	a->w[3] = v4;
}

static inline int xpro_addr_is4(const struct xpro_addr *a)
{
	return a->w[0] == 0 && a->w[1] == 0 && a->w[2] == XPRO_V4MAPPED_W2;
}

/* A record key: (i, D). client = outer source (tunnel) or source (inline). */
struct xpro_key {
	struct xpro_addr client;
	struct xpro_addr dest;
};

/*
 * Local record on one proxy (L_DB). Who writes what (docs/algorithms.md):
 * the packet path adds atomically to c_l and dc and stores ts2_l; a window
 * reset (idle > TT1) writes ts1_l, c_l, dc and mark. The sync (syncmaps,
 * through the syscall programs below) owns ts1_m, ts2_m and c_m, moves dc
 * out by subtracting what it read, and rewrites c_l by an atomic add.
 * Invariant: c_l = c_m + dc, where c_m is the part of the count the sync
 * knows (the global count plus deltas handed to it but not yet merged);
 * a window reset restarts it at 0 + 0 with mark = 1.
 * warn_ts rate-limits overload warnings for this pair.
 */
struct xpro_record {
	__u64 ts1_l;   /* ts1': start of the local window */
	__u64 ts2_l;   /* ts2': last packet seen locally */
	__u64 c_l;     /* c': packets in the window */
	__u64 dc;      /* dc: packets counted here since the last sync */
	__u64 ts1_m;   /* ts1: master's window start at the last sync */
	__u64 ts2_m;   /* ts2: master's last-seen at the last sync */
	__u64 c_m;     /* base: c_l - dc as the sync last set it (see above) */
	__u64 warn_ts; /* last overload warning sent for this pair */
	__u32 mark;    /* 1: window reset locally since the last sync */
	__u32 pad;
};

/*
 * Per-destination aggregate: O(1) stand-in for the scan of step 5.
 * c is the base the last recompute found (sum of c' over all known
 * clients; sync-owned); dc counts what the packet path added since.
 * c* = c + dc, ts1* = ts1, ts2* = ts2. nact counts clients that started a
 * window towards D (used by the fair policy; recompute sets it exactly).
 */
struct xpro_agg {
	__u64 ts1;
	__u64 ts2;
	__u64 c;
	__u64 dc;
	__u64 nact;
	/* The route towards D, cached by the packet path for fib_cache_ms
	 * (tunnel mode): a bpf_fib_lookup result that succeeded at fib_ts for
	 * inner packets of up to fib_okmax bytes. Only packets that fit and
	 * arrive within the lifetime use it; others look the route up again. */
	__u64 fib_ts;
	__u32 fib_ifindex;
	__u16 fib_okmax;
	__u8  fib_dmac[6];
	__u8  fib_smac[6];
	__u8  fib_pad[6];
};

/*
 * The reverse firewall (docs/protocol.md, "Reverse firewall"), filled by
 * `xpro attach` from the config (proxies, mgmt_prefixes, device_prefixes).
 * xpro_guard: inner destination prefix -> enum xpro_guard_kind (LPM trie).
 * xpro_devnets: (client, inner source prefix) -> 1; prefixlen counts the
 * 32 bits of the client plus the prefix's length (LPM trie).
 */
enum xpro_guard_kind {
	XPRO_GUARD_PROXY = 1, /* a proxy's address: no device traffic to it */
	XPRO_GUARD_MGMT  = 2, /* management-only segment */
};

struct xpro_guard_key {
	__u32 prefixlen; /* an IPv4 prefix /L is v4-mapped: 96 + L */
	struct xpro_addr addr;
};

struct xpro_devnet_key {
	__u32 prefixlen; /* 32 + the prefix length (IPv4: 32 + 96 + L) */
	__be32 client;   /* the device's outer (tunnel) address, IPv4 */
	struct xpro_addr net;
};

#define XPRO_GUARD_MAX   256  /* proxies + management prefixes */
#define XPRO_DEVNETS_MAX 4096 /* registered (device, prefix) pairs */

/* Runtime config: one entry of an array map, changed by `xpro set`. */
enum xpro_policy {
	XPRO_POLICY_PAPER = 0, /* docs/algorithms.md exactly */
	XPRO_POLICY_FAIR  = 1, /* aggregate counts what passed TF1; TF2 drops only above fair share */
};

enum xpro_ipv6 {
	XPRO_IPV6_DROP   = 0, /* outer IPv6: neighbour discovery to the kernel, the rest dropped (ipv6) */
	XPRO_IPV6_KERNEL = 1, /* hand outer IPv6 to the kernel (attach requires v6 forwarding off) */
	XPRO_IPV6_FILTER = 2, /* inline mode: routed IPv6 through Algorithm 2; tunnel mode: as drop */
};

struct xpro_params {
	__u64 tt1_ns;  /* idle time that resets a window */
	__u64 tt2_ns;  /* minimum record window before TF1 applies */
	__u64 tt3_ns;  /* minimum aggregate window before TF2 applies */
	__u64 tt4_ns;  /* window length beyond which the sync decays (Algorithm 1) */
	__u64 tf1;     /* packets/s allowed per (i, D); <= XPRO_TF_MAX */
	__u64 tf2;     /* packets/s allowed towards one D (all clients) */
	__u64 warn_interval_ns; /* at most one warning per (i, D) per interval */
	__u32 r;       /* decay factor of Algorithm 1, >= 1 */
	__u32 policy;  /* enum xpro_policy */
	__u32 ipv6;    /* enum xpro_ipv6 */
	__u32 filter;  /* 1: enforce; 0: decapsulate/pass only (baselines) */
	__u32 tf2_overrides; /* entries in the TF2 override map; 0 skips the lookup */
	__u32 fib_cache_ms;  /* lifetime of a destination's cached route (0: off) */
};

#define XPRO_TF_MAX (1ULL << 32)   /* thresholds above this are rejected */
#define XPRO_NSEC   1000000000ULL

/* Verdicts and reasons of the decision function. */
enum xpro_verdict {
	XPRO_PASS = 0,
	XPRO_DROP = 1,
};

enum xpro_reason {
	XPRO_R_OK = 0,       /* under every threshold */
	XPRO_R_TF1,          /* (i, D) above TF1 */
	XPRO_R_TF2,          /* D's aggregate above TF2 (paper policy) */
	XPRO_R_TF2_FAIR,     /* D above TF2 and i above its fair share (fair policy) */
};

/*
 * Per-CPU counters, one slot each (array map index). Every packet ends in
 * exactly one outcome counter (NOT_TUNNEL .. DROP_NO_CONFIG), so the
 * packets seen (XPRO_C_RX) are their sum, computed in userspace: the data
 * path spends no second counter update on it. The counters after the
 * outcomes are events.
 */
enum xpro_counter {
	XPRO_C_RX = 0,          /* userspace only: sum of the outcomes */
	XPRO_C_NOT_TUNNEL,      /* to the kernel untouched: ARP, other ports, own traffic */
	XPRO_C_PASS_REDIRECT,   /* passed, forwarded by bpf_redirect */
	XPRO_C_PASS_TX,         /* passed, forwarded by XDP_TX */
	XPRO_C_PASS_KERNEL,     /* passed, handed to the kernel (no neighbour, frag needed, TTL) */
	XPRO_C_PASS_NOFILTER,   /* filter off: decapsulated and handed to the kernel */
	XPRO_C_DROP_TF1,
	XPRO_C_DROP_TF2,
	XPRO_C_DROP_TF2_FAIR,
	XPRO_C_DROP_TRUNCATED,  /* shorter than its headers */
	XPRO_C_DROP_BAD_VERSION,/* wrong magic or version */
	XPRO_C_DROP_BAD_LEN,    /* an inner or UDP length that lies */
	XPRO_C_DROP_INNER_BOUNDS,/* inner header beyond the packet, or bad IHL */
	XPRO_C_DROP_OUTER_FRAG,
	XPRO_C_DROP_INNER_FRAG,
	XPRO_C_DROP_NOT_IPV4,   /* inner packet is neither IPv4 nor IPv6 */
	XPRO_C_DROP_IPV6,       /* IPv6, outer or inner, dropped by configuration */
	XPRO_C_DROP_FIB,        /* no route, blackhole, prohibit, local or forwarding off */
	XPRO_C_DROP_SPOOFED,    /* inner source neither the outer one nor registered for it */
	XPRO_C_DROP_NESTED,     /* inner packet is itself tunnel traffic to a proxy */
	XPRO_C_DROP_TO_PROXY,   /* inner destination is a proxy (other traffic) */
	XPRO_C_DROP_TO_MGMT,    /* inner destination in a management-only prefix */
	XPRO_C_DROP_HAIRPIN,    /* tunnel traffic routed back out of its ingress */
	XPRO_C_DROP_ENCAP,      /* inline: VLAN, QinQ or PPPoE frame */
	XPRO_C_DROP_BAD_MAC,    /* version 2: the MAC is not the device key's */
	XPRO_C_DROP_REPLAY,     /* version 2: sequence number seen, or too old */
	XPRO_C_DROP_NO_KEY,     /* version 2 from a client without a key */
	XPRO_C_DROP_V1,         /* version 1 refused (tunnel_v1 = refuse, or a keyed device) */
	XPRO_C_DROP_EXTHDR,     /* inner IPv6: an unknown extension header, or more than the walk's bound */
	XPRO_C_DROP_NO_CONFIG,  /* config map unreadable (never expected) */
	XPRO_C_RECORD_FULL,     /* event: a record could not be created (packet still decided) */
	XPRO_C_RECORD_NEW,      /* event: records created (evictions = created - live - removed) */
	XPRO_C_AGG_NEW,
	XPRO_C_WARN_SENT,
	XPRO_C_WARN_LOST,       /* ring buffer full */
	XPRO_C_V1_ACCEPTED,     /* event: version 1 accepted while keys are configured */
	XPRO_C__MAX
};
#define XPRO_C__OUTCOME_FIRST XPRO_C_NOT_TUNNEL
#define XPRO_C__OUTCOME_LAST  XPRO_C_DROP_NO_CONFIG

/* Overload warning, ring buffer -> the one consumer (`xpro warnd`). */
struct xpro_warning {
	__u64 ts;      /* CLOCK_TAI ns */
	struct xpro_addr client;
	struct xpro_addr dest;
	__u64 count;   /* c' at the drop */
	__u64 window_ns; /* ts2' - ts1' */
	__u32 reason;  /* enum xpro_reason */
	__u32 pad;
};

/*
 * Context of the fold program (SEC("syscall"), run with BPF_PROG_RUN by
 * the recompute): install D's new aggregate base and subtract, atomically,
 * the local delta the recompute read before it scanned the records, so
 * packets counted meanwhile are kept.
 */
struct xpro_fold_agg {
	struct xpro_addr dest;
	__u32 nact;    /* active clients found */
	__u32 pad0;
	__u64 ts1;     /* min ts1' of D's active records */
	__u64 ts2;     /* max ts2' */
	__u64 c;       /* sum of c' */
	__u64 dc_seen; /* aggregate dc read before the scan */
	__s32 ret;     /* out: 0, or -ENOENT when D's aggregate is gone */
	__u32 pad;
};

/*
 * syncmaps hands a record's local delta to the sync (docs/sync.md): if the
 * window is the one it read (ts1_l == ts1_seen), subtract dc_seen from dc
 * atomically, add it to the base c_m (or restart the base at dc_seen when
 * the read saw a reset, mark_seen = 1) and clear mark. ret: 0, -ENOENT
 * (evicted), -ESTALE (the window changed since the read: nothing done).
 */
struct xpro_sync_take {
	struct xpro_key key;
	__u64 ts1_seen;
	__u64 dc_seen;
	__u32 mark_seen;
	__s32 ret;
};

/*
 * syncmaps writes the merged view back: ts1_l = ts1, ts2_l = the later of
 * the two, c_l += base - c_m (atomic; packets counted meanwhile stay) and
 * c_m = base, master copies ts1_m, ts2_m. Skipped (ret -ESTALE) when the
 * window was reset since the take (mark = 1) or the record is idle for
 * more than idle_ns (7/8 of TT1): then its next packet may soon reset it,
 * and the sync never races a reset. ret -ENOENT when the record is gone.
 */
struct xpro_sync_apply {
	struct xpro_key key;
	__u64 ts1, ts2;
	__u64 base;
	__u64 ts1_m, ts2_m;
	__u64 idle_ns;
	__s32 ret;
	__u32 pad;
};

#endif /* XPRO_H */
