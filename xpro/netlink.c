// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The kernel's "netdev" generic netlink family (xpro/nlhelp.h), shared with
 * xpro-topo-probe, and the XDP features of an interface, which libbpf 1.1
 * does not report.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "nlhelp.h"
#include "proxy.h"

int xpro_forced_missing(const char *feature)
{
	const char *p = getenv("XPRO_FORCE_MISSING");
	size_t n = strlen(feature), l;

	while (p && *p) {
		l = strcspn(p, ",");
		if ((l == n && !strncmp(p, feature, n)) || (l == 3 && !strncmp(p, "all", 3)))
			return 1;
		p += l + (p[l] == ',');
	}
	return 0;
}

int nlh_netdev_open(struct nl_sock **skp, int *family)
{
	struct nl_sock *sk;

	if (xpro_forced_missing("netdev"))
		return -ENOTSUP;
	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	if (genl_connect(sk) < 0) {
		nl_socket_free(sk);
		return -ENOTCONN;
	}
	*family = genl_ctrl_resolve(sk, "netdev");
	if (*family < 0) {
		nl_socket_free(sk);
		return -ENOTSUP;
	}
	*skp = sk;
	return 0;
}

int nlh_request(struct nl_sock *sk, int family, int cmd, int attr, int dump,
		int ifindex, nl_recvmsg_msg_cb_t cb, void *arg)
{
	struct nl_msg *msg = nlmsg_alloc();
	int err;

	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, dump ? NLM_F_DUMP : 0, cmd, 1) ||
	    nla_put_u32(msg, attr, (uint32_t)ifindex) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, cb, arg);
	err = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (err < 0)
		return -EIO;
	return nl_recvmsgs_default(sk) < 0 ? -ENODEV : 0;
}

int nlh_on_dev(struct nl_msg *msg, void *arg)
{
	struct nlh_feat *f = arg;
	struct nlattr *tb[NETDEV_A_DEV_XDP_FEATURES + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, NETDEV_A_DEV_XDP_FEATURES, NULL) < 0)
		return NL_SKIP;
	if (tb[NETDEV_A_DEV_XDP_FEATURES]) {
		f->features = nla_get_u64(tb[NETDEV_A_DEV_XDP_FEATURES]);
		f->found = 1;
	}
	return NL_OK;
}

int xpro_xdp_features(int ifindex, uint64_t *features)
{
	struct nlh_feat fc = { 0, 0 };
	struct nl_sock *sk;
	int family, err;

	err = nlh_netdev_open(&sk, &family);
	if (err)
		return err == -ENOTCONN ? -ENOTSUP : err;
	err = nlh_request(sk, family, NETDEV_CMD_DEV_GET, NETDEV_A_DEV_IFINDEX, 0, ifindex,
			  nlh_on_dev, &fc);
	if (!err) {
		err = fc.found ? 0 : -ENOTSUP;
		*features = fc.features;
	}
	nl_socket_free(sk);
	return err;
}
