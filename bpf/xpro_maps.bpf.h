/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * X-Pro maps. Sizes here are defaults; `xpro attach` sets max_entries from
 * the config before load. All maps are pinned by `xpro attach` under
 * <bpffs>/<netns>/<ifname>/ and reused across reloads.
 */
#ifndef XPRO_MAPS_BPF_H
#define XPRO_MAPS_BPF_H

/* (i, D) -> record (L_DB). LRU: a full map evicts the coldest pair. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1 << 20);
	__type(key, struct xpro_key);
	__type(value, struct xpro_record);
} xpro_records SEC(".maps");

/* D -> aggregate (step 5 in O(1)). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1 << 16);
	__type(key, __be32);
	__type(value, struct xpro_agg);
} xpro_aggs SEC(".maps");

/* D -> TF2 override (a victim's declared capacity, packets/s). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 16);
	__type(key, __be32);
	__type(value, __u64);
} xpro_tf2 SEC(".maps");

/* Runtime thresholds and policy: one struct xpro_params. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xpro_params);
} xpro_config SEC(".maps");

/* Counters by verdict and reason (enum xpro_counter), per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, XPRO_C__MAX);
	__type(key, __u32);
	__type(value, __u64);
} xpro_counters SEC(".maps");

/* Overload warnings (struct xpro_warning), one consumer: `xpro warnd`. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} xpro_warnings SEC(".maps");

#endif /* XPRO_MAPS_BPF_H */
