/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The kernel's "netdev" generic netlink family (Linux 6.3+), which Debian 12's
 * libbpf and iproute2 do not report: the XDP features of an interface and its
 * NAPI instances. Used by `xpro attach` and xpro-topo-probe (topo/probe.c);
 * the code is in xpro/netlink.c. The constants are spelled out because
 * Debian 12's UAPI headers predate the family.
 */
#ifndef XPRO_NLHELP_H
#define XPRO_NLHELP_H

#include <stdint.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>

#define NETDEV_CMD_DEV_GET        1
#define NETDEV_CMD_NAPI_GET       11
#define NETDEV_A_DEV_IFINDEX      1
#define NETDEV_A_DEV_XDP_FEATURES 3
#define NETDEV_A_NAPI_IFINDEX     1
#define NETDEV_A_NAPI_ID          2

/* XPRO_FORCE_MISSING=netdev,napi (or "all"): the kernel features named there
 * are reported missing, so that the code paths of older kernels (Debian 12's
 * 6.1: no netdev family, no NAPI information) run on any kernel
 * (docs/kernels.md). 1 when FEATURE is listed, else 0. */
int xpro_forced_missing(const char *feature);

/* A connected generic netlink socket with the netdev family resolved.
 * 0, or -ENOMEM (no socket), -ENOTCONN (cannot connect), -ENOTSUP (no
 * netdev family: kernel older than 6.3, or "netdev" in XPRO_FORCE_MISSING);
 * on an error nothing is left open. */
int nlh_netdev_open(struct nl_sock **skp, int *family);

/* One request (a dump when dump is set) carrying attr = ifindex; each reply
 * goes to cb(msg, arg). 0, or -ENOMEM (no message), -EIO (send failed),
 * -ENODEV (the kernel answered with an error, e.g. no such ifindex). */
int nlh_request(struct nl_sock *sk, int family, int cmd, int attr, int dump,
		int ifindex, nl_recvmsg_msg_cb_t cb, void *arg);

/* The XDP features of a NETDEV_CMD_DEV_GET reply: nlh_on_dev is its cb. */
struct nlh_feat {
	uint64_t features;
	int found;
};
int nlh_on_dev(struct nl_msg *msg, void *arg);

#endif
