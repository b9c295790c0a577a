/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * X-Pro maps. Sizes here are defaults; `xpro attach` sets max_entries from
 * the config before load. All maps are pinned by `xpro attach` under
 * <bpffs>/<netns>/<ifname>/ and reused across reloads.
 */
#ifndef XPRO_MAPS_BPF_H
#define XPRO_MAPS_BPF_H

#include "bpf_map.h"

/* (i, D) -> record (L_DB). LRU: a full map evicts the coldest pair. */
XPRO_MAP(xpro_records, BPF_MAP_TYPE_LRU_HASH, 1 << 20, struct xpro_key, struct xpro_record);

/* D -> aggregate (step 5 in O(1)). */
XPRO_MAP(xpro_aggs, BPF_MAP_TYPE_LRU_HASH, 1 << 16, struct xpro_addr, struct xpro_agg);

/* D -> TF2 override (a victim's declared capacity, packets/s). */
XPRO_MAP(xpro_tf2, BPF_MAP_TYPE_HASH, 1 << 16, struct xpro_addr, __u64);

/* One CPU's record and aggregate under construction (filter(): a pair or
 * destination seen for the first time is decided on them, then inserted);
 * not pinned. */
struct xpro_scratch {
	struct xpro_agg agg;
	struct xpro_record rec;
};
XPRO_MAP(xpro_scratch, BPF_MAP_TYPE_PERCPU_ARRAY, 1, __u32, struct xpro_scratch);

/* Runtime thresholds and policy: one struct xpro_params. */
XPRO_MAP(xpro_config, BPF_MAP_TYPE_ARRAY, 1, __u32, struct xpro_params);

/* Counters by verdict and reason (enum xpro_counter), per CPU. */
XPRO_MAP(xpro_counters, BPF_MAP_TYPE_PERCPU_ARRAY, XPRO_C__MAX, __u32, __u64);

/* The reverse firewall's prefixes (struct xpro_guard_key, xpro_devnet_key),
 * written by `xpro attach` from the config; not pinned: they live as long
 * as the program that was loaded with them. */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XPRO_GUARD_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xpro_guard_key);
	__type(value, __u32);
} xpro_guard SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, XPRO_DEVNETS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct xpro_devnet_key);
	__type(value, __u32);
} xpro_devnets SEC(".maps");

/* Client identity (docs/protocol.md): key index -> key and replay window,
 * and client -> key index (for version 1's downgrade check); written by
 * `xpro attach` from device_keys; not pinned either. */
XPRO_MAP(xpro_devkeys, BPF_MAP_TYPE_ARRAY, XPRO_DEVKEYS_MAX, __u32, struct xpro_devkey);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, XPRO_DEVKEYS_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __be32);
	__type(value, __u32);
} xpro_keyidx SEC(".maps");

/* Overload warnings (struct xpro_warning), one consumer: `xpro warnd`. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} xpro_warnings SEC(".maps");

#endif /* XPRO_MAPS_BPF_H */
