// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpro-topo-probe: what the kernel says about an interface's XDP readiness,
 * in the current network namespace, from the "netdev" generic netlink family
 * (Linux 6.3+; Debian 12's libbpf and iproute2 do not report it).
 *
 *   xpro-topo-probe [--require-ndo-xmit] [--require-napi] IFACE...
 *
 * One line per interface:
 *   IFACE xdp=basic,redirect,ndo-xmit,rx-sg,ndo-xmit-sg napi=N
 * napi is the number of NAPI instances the device has registered: on a veth
 * it is non-zero only while GRO (switched on with the link up) or an XDP
 * program gives it one, which is what a redirect into its peer needs
 * (docs/veth.md). ndo-xmit in the XDP features of a veth only says that its
 * peer *asked* for GRO or has a program; the NAPI count says it got one.
 *
 * Exit status: 0, 1 when a --require-* condition fails for some interface,
 * 2 on a usage or netlink error. The netlink part is xpro/netlink.c.
 * A kernel without the netdev family (before 6.3) gives xdp=unknown and
 * napi=unknown, one without NAPI information (before 6.8) napi=unknown: the
 * checks that cannot run are skipped, with one "skipped:" line on stderr
 * each, and do not fail (XPRO_FORCE_MISSING=netdev,napi forces both paths).
 */
#include <errno.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "nlhelp.h"
#include "opt.h"
#include "log.h"

#define ACT_NDO_XMIT 4

static const char *const feat_names[] = {
	"basic", "redirect", "ndo-xmit", "xsk-zerocopy", "hw-offload", "rx-sg", "ndo-xmit-sg",
};

struct ctx {
	int ifindex;
	struct nlh_feat dev;
	int napis;
};

static int on_napi(struct nl_msg *msg, void *arg)
{
	struct ctx *c = arg;
	struct nlattr *tb[NETDEV_A_NAPI_ID + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, NETDEV_A_NAPI_ID, NULL) < 0)
		return NL_SKIP;
	if (tb[NETDEV_A_NAPI_IFINDEX] &&
	    (int)nla_get_u32(tb[NETDEV_A_NAPI_IFINDEX]) == c->ifindex)
		c->napis++;
	return NL_OK;
}

int main(int argc, char **argv)
{
	int need_xmit = 0, need_napi = 0, bad = 0, i, family, first, err;
	int napi_known = !xpro_forced_missing("napi"), napi_said = 0;
	struct nl_sock *sk;

	const struct xp_opt tab[] = {
		XP_FLAG("require-ndo-xmit", 0, &need_xmit, "exit 1 unless every IFACE has ndo-xmit"),
		XP_FLAG("require-napi", 0, &need_napi, "exit 1 unless every IFACE has a NAPI instance"),
		{ 0 },
	};

	xpro_prog = "xpro-topo-probe";
	i = xp_opt_parse("xpro-topo-probe",
			 "usage: xpro-topo-probe [--require-ndo-xmit] [--require-napi] IFACE...\n"
			 "  prints IFACE xdp=FEATURES napi=N for each interface of the current netns\n",
			 tab, argc, argv);
	if (i >= argc)
		xp_opt_die("xpro-topo-probe", "no IFACE (try --help)");
	err = nlh_netdev_open(&sk, &family);
	if (err == -ENOTSUP) {
		/* Linux < 6.3 (or XPRO_FORCE_MISSING=netdev): nothing to ask */
		pr_warn("skipped: the XDP features and NAPI checks (no 'netdev' generic netlink family: Linux older than 6.3)\n");
		for (; i < argc; i++) {
			if (!if_nametoindex(argv[i])) {
				pr_warn("%s: no such interface in this network namespace\n", argv[i]);
				bad = 2;
				continue;
			}
			printf("%s xdp=unknown napi=unknown\n", argv[i]);
		}
		return bad;
	}
	if (err) {
		pr_warn("cannot open a generic netlink socket\n");
		return 2;
	}
	/* one reply (or a dump ending in DONE) per request, no ACK left behind */
	nl_socket_disable_auto_ack(sk);
	for (; i < argc; i++) {
		struct ctx c = { 0 };
		unsigned int b;

		c.ifindex = (int)if_nametoindex(argv[i]);
		if (!c.ifindex) {
			pr_warn("%s: no such interface in this network namespace\n", argv[i]);
			bad = 2;
			continue;
		}
		if (nlh_request(sk, family, NETDEV_CMD_DEV_GET, NETDEV_A_DEV_IFINDEX, 0, c.ifindex,
				nlh_on_dev, &c.dev)) {
			pr_warn("%s: netlink query failed\n", argv[i]);
			bad = 2;
			continue;
		}
		/* NAPI_GET came in 6.8: refused by 6.3-6.7, where DEV_GET works */
		if (napi_known && nlh_request(sk, family, NETDEV_CMD_NAPI_GET, NETDEV_A_NAPI_IFINDEX, 1,
					      c.ifindex, on_napi, &c))
			napi_known = 0;
		if (!napi_known && !napi_said++)
			pr_warn("skipped: the NAPI check (no NAPI information from the kernel: Linux older than 6.8)\n");
		printf("%s xdp=", argv[i]);
		first = 1;
		for (b = 0; b < sizeof(feat_names) / sizeof(feat_names[0]); b++) {
			if (!(c.dev.features & (1ULL << b)))
				continue;
			printf("%s%s", first ? "" : ",", feat_names[b]);
			first = 0;
		}
		if (napi_known)
			printf("%s napi=%d\n", first ? "none" : "", c.napis);
		else
			printf("%s napi=unknown\n", first ? "none" : "");
		if ((need_xmit && !(c.dev.features & ACT_NDO_XMIT)) || (need_napi && napi_known && c.napis == 0)) {
			pr_warn("%s: %s\n", argv[i],
				need_xmit && !(c.dev.features & ACT_NDO_XMIT) ?
				"no ndo-xmit in its XDP features: its veth peer has neither GRO nor an XDP program" :
				"no NAPI: GRO was switched on while the link was down (toggle it off and on) or not at all");
			if (!bad)
				bad = 1;
		}
	}
	nl_socket_free(sk);
	return bad;
}
