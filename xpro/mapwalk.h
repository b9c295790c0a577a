/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Bounded map walks. bpf_map_get_next_key restarts from the first key when
 * the previous one was deleted or evicted meanwhile, so a walk of an LRU map
 * that the packet path keeps churning may never reach the end. Every walk
 * in the daemons and the CLI is therefore counted: at most the map's
 * max_entries steps (a table size is a bound, not a hope). A walk cut short
 * by churn misses keys, never hangs; the next period walks again.
 *
 *   uint32_t left = xpro_map_bound(fd);
 *   while (left-- && !bpf_map_get_next_key(fd, prev, &next)) { ... }
 */
#ifndef XPRO_MAPWALK_H
#define XPRO_MAPWALK_H

#include <stdint.h>
#include <string.h>
#include <bpf/bpf.h>

/* The map's max_entries (the most keys one walk visits); 0 if unreadable. */
static inline uint32_t xpro_map_bound(int fd)
{
	struct bpf_map_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.max_entries;
}

#endif
