// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * XDP features of an interface, from the kernel's "netdev" generic netlink
 * family (Linux 6.3+). libbpf 1.1 does not report them. Constants are
 * spelled out here because Debian 12's UAPI headers predate the family.
 */
#include <errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/netlink.h>
#include "proxy.h"

#define NETDEV_CMD_DEV_GET       1
#define NETDEV_A_DEV_IFINDEX     1
#define NETDEV_A_DEV_XDP_FEATURES 3

struct feat_ctx {
	uint64_t features;
	int found;
};

static int on_msg(struct nl_msg *msg, void *arg)
{
	struct feat_ctx *fc = arg;
	struct nlattr *tb[NETDEV_A_DEV_XDP_FEATURES + 1];
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(msg));

	if (nla_parse(tb, NETDEV_A_DEV_XDP_FEATURES, genlmsg_attrdata(gh, 0),
		      genlmsg_attrlen(gh, 0), NULL) < 0)
		return NL_SKIP;
	if (tb[NETDEV_A_DEV_XDP_FEATURES]) {
		fc->features = nla_get_u64(tb[NETDEV_A_DEV_XDP_FEATURES]);
		fc->found = 1;
	}
	return NL_OK;
}

int xpro_xdp_features(int ifindex, uint64_t *features)
{
	struct feat_ctx fc = { 0, 0 };
	struct nl_sock *sk;
	struct nl_msg *msg = NULL;
	int family, err;

	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	err = genl_connect(sk);
	if (err < 0) {
		err = -ENOTSUP;
		goto cleanup;
	}
	family = genl_ctrl_resolve(sk, "netdev");
	if (family < 0) {
		err = -ENOTSUP; /* kernel older than 6.3 */
		goto cleanup;
	}
	msg = nlmsg_alloc();
	if (!msg) {
		err = -ENOMEM;
		goto cleanup;
	}
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, 0, NETDEV_CMD_DEV_GET, 1) ||
	    nla_put_u32(msg, NETDEV_A_DEV_IFINDEX, (uint32_t)ifindex) < 0) {
		err = -ENOMEM;
		goto cleanup;
	}
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, on_msg, &fc);
	err = nl_send_auto(sk, msg);
	if (err < 0) {
		err = -EIO;
		goto cleanup;
	}
	err = nl_recvmsgs_default(sk);
	if (err < 0) {
		err = -ENODEV;
		goto cleanup;
	}
	err = fc.found ? 0 : -ENOTSUP;
	*features = fc.features;
cleanup:
	nlmsg_free(msg);
	nl_socket_free(sk);
	return err;
}
