/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The X-Pro config file (docs/config.md): parse, validate, apply. */
#ifndef XPRO_CONFIG_H
#define XPRO_CONFIG_H

#include <stdint.h>
#include <stdio.h>
#include "xpro.h"

#define XPRO_MODE_TUNNEL 0
#define XPRO_MODE_INLINE 1

struct xpro_config {
	/* fixed at load */
	uint32_t mode;            /* XPRO_MODE_* */
	uint32_t tunnel_addr;     /* network order; 0 = the interface's first IPv4 address */
	uint16_t tunnel_port;     /* host order */
	int xdp_generic;          /* 1: generic (skb) mode, only when asked */
	uint32_t max_records;
	uint32_t max_dests;
	/* runtime (config map) */
	struct xpro_params params;
	/* daemons */
	uint64_t t_w;             /* packets/s */
	uint64_t agg_window_ns;   /* aggregate window of the recompute; 0 = unbounded (paper) */
	uint32_t sync_period_ms;
	/* what the sync takes from Redis (docs/sync.md, Validation; Clocks) */
	uint64_t max_client_pps;  /* the highest packet rate of one client */
	uint64_t max_window_ns;   /* a window read from Redis starts at most this long ago */
	uint64_t max_clock_skew_ns; /* bound on a peer's clock offset, and on times ahead of ours */
	int64_t clock_offset_ns;
	int master_merge_lua;     /* master_merge = lua: every batch through the master's script */  /* tests only: added to the daemons' view of the time */
	/* redis (docs/sync.md): "" = not set */
	char redis_local[64];     /* ADDR:PORT of this proxy's local Redis */
	char redis_master[1024];  /* ADDR:PORT of the master, or a cluster seed list (RC_SEEDS_MAXLEN) */
	char redis_user[64];      /* ACL user ("" = default user) */
	char redis_password[128]; /* "" = no AUTH; redis_password_file's content when that is set */
	char redis_password_file[256]; /* "" = none */
	char proxy_id[64];        /* "" = <netns>/<ifname> */
	/* the reverse firewall (docs/protocol.md; xpro/guard.h), fixed at load */
	char proxies[512];         /* every proxy's tunnel address */
	char mgmt_prefixes[512];   /* management-only segments */
	char device_prefixes[1024]; /* DEVICE=PREFIX: inner sources a device may use */
	struct xpro_addr device_embed6; /* inner IPv6 sources PREFIX::<device's IPv4> */
	uint32_t device_embed6_len;     /* 96, or 0: device_embed6 = none */
	/* client identity (docs/protocol.md), fixed at load */
	char device_keys[256];     /* key file; "" = none (identity off) */
	int tunnel_v1_refuse;      /* tunnel_v1 = refuse: header version 1 dropped */
	/* paths */
	char bpffs[256];
	char state_dir[256];
	/* warnd's alert log and notify hook (docs/operations.md, Alerts) */
	char log_dir[256];        /* "" = /var/log/xpro, or state_dir when only that is set */
	uint64_t log_max_kb;
	uint32_t log_keep;
	char notify[256];         /* "" = none */
	uint64_t notify_interval_ns;
	/* which keys were set explicitly (bit per key index) */
	uint64_t set_mask;
};

void xpro_config_defaults(struct xpro_config *c);
/* Parse FILE over c. Returns 0 or -errno; writes one line per problem to
 * err (caller-sized) and counts them in *nerr. */
int xpro_config_load(struct xpro_config *c, const char *path, int *nerr);
/* Apply "key=value" (command-line override). Returns 0 or -EINVAL with a message. */
int xpro_config_set(struct xpro_config *c, const char *kv, const char *origin);
/* Cross-field checks (e.g. TT2 < TT1). Returns number of problems printed. */
int xpro_config_validate(const struct xpro_config *c);
/* The folder of the alert logs: log_dir, else state_dir when that was
 * moved, else /var/log/xpro. */
const char *xpro_log_dir(const struct xpro_config *c);
/* Print the effective config in file syntax. */
void xpro_config_print(const struct xpro_config *c, FILE *f);
/* Fill params from the runtime part. */
const char *xpro_policy_name(uint32_t p);
/* The ipv6 setting's name: drop, kernel or filter. */
const char *xpro_ipv6_name(uint32_t v);
/* "A.B.C.D:PORT": 0 and the parts, or -EINVAL. */
int xpro_hostport(const char *s, char *host, size_t hlen, int *port);

#endif
