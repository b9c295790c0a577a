/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* One proxy = one interface in one network namespace: its pins and state. */
#ifndef XPRO_PROXY_H
#define XPRO_PROXY_H

#include <net/if.h>
#include "config.h"

enum xpro_map_id { M_RECORDS, M_AGGS, M_TF2, M_CONFIG, M_COUNTERS, M_WARNINGS, M__MAX };
extern const char *const xpro_map_names[M__MAX];

struct xpro_proxy {
	char ifname[IF_NAMESIZE];
	int ifindex;
	char nsname[128];
	char pin_dir[600];   /* <bpffs>/<netns>/<ifname> */
	char state_dir[600]; /* <state_dir>/<netns>/<ifname> */
	int fd[M__MAX];
};

/* Fill names and paths for ifname in the current network namespace. */
int xpro_proxy_init(struct xpro_proxy *px, const struct xpro_config *c, const char *ifname);
/* Open the pinned maps, checking key and value sizes against xpro.h. */
int xpro_proxy_open(struct xpro_proxy *px);
void xpro_proxy_close(struct xpro_proxy *px);

struct attach_opts {
	int replace;  /* replace an attached X-Pro program, keeping its maps */
	int force;    /* skip the redirect-target checks */
};
int xpro_attach(const struct xpro_config *c, const char *ifname, const struct attach_opts *o);
int xpro_detach(const struct xpro_config *c, const char *ifname, int keep_maps);

/* mkdir -p (mode 0700): 0 or -errno. */
int xpro_mkdir_p(const char *path);
/* Name of the current network namespace: its /run/netns name, "init", or "net-<inode>". */
void xpro_netns_name(char *buf, size_t len);
/* Read an integer sysctl under /proc/sys; -errno on failure. */
int xpro_sysctl_read(const char *path, long *val);
/* XDP features of ifindex from the kernel's netdev genl family. */
int xpro_xdp_features(int ifindex, uint64_t *features);
#define XPRO_XDP_ACT_NDO_XMIT (1ULL << 2)
/* Load the config map from c (and the TF2 override count). */
int xpro_write_params(struct xpro_proxy *px, const struct xpro_config *c);
int xpro_read_params(struct xpro_proxy *px, struct xpro_params *p);
/* CLOCK_TAI now, ns: the data plane's clock. */
uint64_t xpro_now_tai(void);

#endif
