/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xpro-tun userspace: find the TC program attached to an interface and its
 * maps (no pins: the program on the interface is the state), read and
 * change them. Used by xpro-tun and xpro-device. Functions return 0 or
 * -errno.
 */
#ifndef XPRO_TUN_LIB_H
#define XPRO_TUN_LIB_H

#include <net/if.h>
#include <stdint.h>
#include <linux/types.h>
#include "tun_maps.h"

#define XTUN_PROG_NAME "xpro_tun_egress"

struct xtun {
	char ifname[IF_NAMESIZE];
	int ifindex;
	__u32 prog_id;
	int prog_fd, cfg_fd, proxies_fd, pstats_fd, src_fd, counters_fd;
	int keys_fd;      /* tun_keys; -1: a program from before client identity */
};

/* -ENODEV: no such interface; -ENOENT: no xpro-tun program on its egress */
int xtun_open(const char *ifname, struct xtun *t);
/* the one interface of this namespace with xpro-tun attached: -ENOENT none, -EEXIST several */
int xtun_open_any(struct xtun *t);
void xtun_close(struct xtun *t);

int xtun_get_cfg(const struct xtun *t, struct xtun_cfg *c);
int xtun_set_cfg(const struct xtun *t, const struct xtun_cfg *c);
int xtun_get_proxy(const struct xtun *t, __u32 slot, struct xtun_proxy *p);
int xtun_set_proxy(const struct xtun *t, __u32 slot, const struct xtun_proxy *p);
/* slot of a proxy address (network order) among the valid ones, or -ENOENT */
int xtun_slot_of(const struct xtun *t, __be32 addr);
int xtun_counters(const struct xtun *t, __u64 out[XTUN_C__MAX]);
int xtun_pstat(const struct xtun *t, __u32 slot, struct xtun_pstat *s);
int xtun_src_set(const struct xtun *t, __be32 src, __u32 slot);
int xtun_src_del(const struct xtun *t, __be32 src);
/* number of per-source entries */
int xtun_src_count(const struct xtun *t);
/* src's key (header version 2, docs/protocol.md): written when src has none
 * (its sequence counter from 0), kept when it has one (the counter goes on);
 * -EOPNOTSUPP: the attached program has no tun_keys */
int xtun_key_set(const struct xtun *t, __be32 src, const struct xtun_key *k);
int xtun_key_del(const struct xtun *t, __be32 src);

const char *xtun_counter_name(int idx);
const char *xtun_mode_name(__u32 mode);
int xtun_mode_parse(const char *s, __u32 *mode);

/* ethtool offloads (XTUN_OFF_* bits): read, and switch those in mask to on/off */
int xtun_offloads_get(const char *ifname, __u32 *bits);
int xtun_offloads_set(const char *ifname, __u32 mask, __u32 bits);

/* the interface's gso_max_segs (rtnetlink): attach sets it to 1 so that TCP
 * hands the egress hook one segment per packet */
int xtun_gso_max_segs_get(int ifindex, __u32 *v);
int xtun_gso_max_segs_set(int ifindex, __u32 v);

#endif
