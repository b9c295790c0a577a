// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xpro-tun userspace library: see tun_lib.h. */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tun_lib.h"

static const char *const counter_names[XTUN_C__MAX] = {
	[XTUN_C_ENCAP] = "encap",
	[XTUN_C_PASS_OTHER] = "pass_other",
	[XTUN_C_PASS_TUNNEL] = "pass_tunnel",
	[XTUN_C_PASS_PROXY] = "pass_proxy",
	[XTUN_C_DROP_NO_PROXY] = "drop_no_proxy",
	[XTUN_C_DROP_TOO_BIG] = "drop_too_big",
	[XTUN_C_DROP_GSO] = "drop_gso",
	[XTUN_C_DROP_FRAG] = "drop_frag",
	[XTUN_C_DROP_MALFORMED] = "drop_malformed",
	[XTUN_C_DROP_ERROR] = "drop_error",
};

const char *xtun_counter_name(int idx)
{
	return idx >= 0 && idx < XTUN_C__MAX ? counter_names[idx] : "?";
}

const char *xtun_mode_name(__u32 mode)
{
	switch (mode) {
	case XTUN_MODE_FIXED: return "fixed";
	case XTUN_MODE_SPREAD: return "spread";
	case XTUN_MODE_FAILOVER: return "failover";
	}
	return "?";
}

int xtun_mode_parse(const char *s, __u32 *mode)
{
	if (!strcmp(s, "fixed"))
		*mode = XTUN_MODE_FIXED;
	else if (!strcmp(s, "spread"))
		*mode = XTUN_MODE_SPREAD;
	else if (!strcmp(s, "failover"))
		*mode = XTUN_MODE_FAILOVER;
	else
		return -EINVAL;
	return 0;
}

static void fds_init(struct xtun *t)
{
	t->prog_fd = t->cfg_fd = t->proxies_fd = t->pstats_fd = t->src_fd = t->counters_fd = t->keys_fd = -1;
}

void xtun_close(struct xtun *t)
{
	int *fds[] = { &t->prog_fd, &t->cfg_fd, &t->proxies_fd, &t->pstats_fd, &t->src_fd,
		       &t->counters_fd, &t->keys_fd };
	size_t i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}

static int open_maps(struct xtun *t)
{
	struct bpf_prog_info info;
	__u32 ids[16], len = sizeof(info), i;
	int err;

	memset(&info, 0, sizeof(info));
	info.nr_map_ids = 16;
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(t->prog_fd, &info, &len))
		return -errno;
	if (strcmp(info.name, XTUN_PROG_NAME))
		return -ENOENT; /* someone else's filter at our handle */
	for (i = 0; i < info.nr_map_ids && i < 16; i++) {
		struct bpf_map_info mi;
		__u32 mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(ids[i]);
		int *slot = NULL;

		if (fd < 0)
			return -errno;
		memset(&mi, 0, sizeof(mi));
		if (bpf_obj_get_info_by_fd(fd, &mi, &mlen)) {
			err = -errno;
			close(fd);
			return err;
		}
		if (!strcmp(mi.name, "tun_cfg"))
			slot = &t->cfg_fd;
		else if (!strcmp(mi.name, "tun_proxies"))
			slot = &t->proxies_fd;
		else if (!strcmp(mi.name, "tun_pstats"))
			slot = &t->pstats_fd;
		else if (!strcmp(mi.name, "tun_src"))
			slot = &t->src_fd;
		else if (!strcmp(mi.name, "tun_counters"))
			slot = &t->counters_fd;
		else if (!strcmp(mi.name, "tun_keys"))
			slot = &t->keys_fd;
		if (slot && *slot < 0)
			*slot = fd;
		else
			close(fd);
	}
	if (t->cfg_fd < 0 || t->proxies_fd < 0 || t->pstats_fd < 0 || t->src_fd < 0 ||
	    t->counters_fd < 0)
		return -ENOENT;
	return 0;
}

int xtun_open(const char *ifname, struct xtun *t)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XTUN_TC_HANDLE, .priority = XTUN_TC_PRIO);
	int err;

	memset(t, 0, sizeof(*t));
	fds_init(t);
	if (strlen(ifname) >= IF_NAMESIZE)
		return -ENODEV;
	strcpy(t->ifname, ifname);
	t->ifindex = (int)if_nametoindex(ifname);
	if (!t->ifindex)
		return -ENODEV;
	hook.ifindex = t->ifindex;
	/* libbpf prints its own error for a missing clsact; keep it quiet */
	{
		libbpf_print_fn_t old = libbpf_set_print(NULL);

		err = bpf_tc_query(&hook, &opts);
		libbpf_set_print(old);
	}
	if (err)
		return -ENOENT;
	t->prog_id = opts.prog_id;
	t->prog_fd = bpf_prog_get_fd_by_id(t->prog_id);
	if (t->prog_fd < 0)
		return -ENOENT;
	err = open_maps(t);
	if (err)
		xtun_close(t);
	return err;
}

int xtun_open_any(struct xtun *t)
{
	struct if_nameindex *ifs = if_nameindex(), *i;
	struct xtun cand;
	int found = 0;

	if (!ifs)
		return -errno;
	fds_init(t);
	for (i = ifs; i->if_index; i++) {
		if (xtun_open(i->if_name, &cand))
			continue;
		if (found++) {
			xtun_close(&cand);
			continue;
		}
		*t = cand;
	}
	if_freenameindex(ifs);
	if (found > 1) {
		xtun_close(t);
		return -EEXIST;
	}
	return found ? 0 : -ENOENT;
}

int xtun_get_cfg(const struct xtun *t, struct xtun_cfg *c)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(t->cfg_fd, &zero, c) ? -errno : 0;
}

int xtun_set_cfg(const struct xtun *t, const struct xtun_cfg *c)
{
	__u32 zero = 0;

	return bpf_map_update_elem(t->cfg_fd, &zero, c, BPF_ANY) ? -errno : 0;
}

int xtun_get_proxy(const struct xtun *t, __u32 slot, struct xtun_proxy *p)
{
	return bpf_map_lookup_elem(t->proxies_fd, &slot, p) ? -errno : 0;
}

int xtun_set_proxy(const struct xtun *t, __u32 slot, const struct xtun_proxy *p)
{
	return bpf_map_update_elem(t->proxies_fd, &slot, p, BPF_ANY) ? -errno : 0;
}

int xtun_slot_of(const struct xtun *t, __be32 addr)
{
	struct xtun_cfg c;
	struct xtun_proxy p;
	__u32 i;
	int err = xtun_get_cfg(t, &c);

	if (err)
		return err;
	for (i = 0; i < c.nproxies && i < XTUN_MAX_PROXIES; i++)
		if (!xtun_get_proxy(t, i, &p) && p.addr == addr)
			return (int)i;
	return -ENOENT;
}

static int ncpus(void)
{
	int n = libbpf_num_possible_cpus();

	return n > 0 ? n : 1;
}

int xtun_counters(const struct xtun *t, __u64 out[XTUN_C__MAX])
{
	int n = ncpus(), c;
	__u64 *v = calloc((size_t)n, sizeof(*v));
	__u32 k;

	if (!v)
		return -ENOMEM;
	for (k = 0; k < XTUN_C__MAX; k++) {
		out[k] = 0;
		if (bpf_map_lookup_elem(t->counters_fd, &k, v)) {
			int err = -errno;

			free(v);
			return err;
		}
		for (c = 0; c < n; c++)
			out[k] += v[c];
	}
	free(v);
	return 0;
}

int xtun_pstat(const struct xtun *t, __u32 slot, struct xtun_pstat *s)
{
	int n = ncpus(), c;
	struct xtun_pstat *v = calloc((size_t)n, sizeof(*v));

	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(t->pstats_fd, &slot, v)) {
		int err = -errno;

		free(v);
		return err;
	}
	s->packets = s->bytes = 0;
	for (c = 0; c < n; c++) {
		s->packets += v[c].packets;
		s->bytes += v[c].bytes;
	}
	free(v);
	return 0;
}

int xtun_src_set(const struct xtun *t, __be32 src, __u32 slot)
{
	return bpf_map_update_elem(t->src_fd, &src, &slot, BPF_ANY) ? -errno : 0;
}

int xtun_src_del(const struct xtun *t, __be32 src)
{
	if (bpf_map_delete_elem(t->src_fd, &src) && errno != ENOENT)
		return -errno;
	return 0;
}

int xtun_key_set(const struct xtun *t, __be32 src, const struct xtun_key *k)
{
	if (t->keys_fd < 0)
		return -EOPNOTSUPP;
	if (bpf_map_update_elem(t->keys_fd, &src, k, BPF_NOEXIST) && errno != EEXIST)
		return -errno;
	return 0;
}

int xtun_key_del(const struct xtun *t, __be32 src)
{
	if (t->keys_fd >= 0 && bpf_map_delete_elem(t->keys_fd, &src) && errno != ENOENT)
		return -errno;
	return 0;
}

int xtun_src_count(const struct xtun *t)
{
	__be32 key, next;
	int n = 0, err;

	err = bpf_map_get_next_key(t->src_fd, NULL, &next);
	while (!err) {
		n++;
		key = next;
		err = bpf_map_get_next_key(t->src_fd, &key, &next);
	}
	return errno == ENOENT ? n : -errno;
}

/* ---- ethtool ---------------------------------------------------------- */

static const struct {
	__u32 bit, get, set;
} offl[] = {
	{ XTUN_OFF_TXCSUM, ETHTOOL_GTXCSUM, ETHTOOL_STXCSUM },
	{ XTUN_OFF_TSO, ETHTOOL_GTSO, ETHTOOL_STSO },
	{ XTUN_OFF_GSO, ETHTOOL_GGSO, ETHTOOL_SGSO },
};

static int ethtool_value(int sk, const char *ifname, __u32 cmd, __u32 *data)
{
	struct ethtool_value ev = { .cmd = cmd, .data = *data };
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IF_NAMESIZE - 1);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(sk, SIOCETHTOOL, &ifr))
		return -errno;
	*data = ev.data;
	return 0;
}

int xtun_offloads_get(const char *ifname, __u32 *bits)
{
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;
	size_t i;

	if (sk < 0)
		return -errno;
	*bits = 0;
	for (i = 0; i < sizeof(offl) / sizeof(offl[0]) && !err; i++) {
		__u32 v = 0;

		err = ethtool_value(sk, ifname, offl[i].get, &v);
		if (!err && v)
			*bits |= offl[i].bit;
	}
	close(sk);
	return err;
}

int xtun_offloads_set(const char *ifname, __u32 mask, __u32 bits)
{
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;
	size_t i;

	if (sk < 0)
		return -errno;
	/* checksum first when switching on (TSO needs it), last when off */
	for (i = 0; i < sizeof(offl) / sizeof(offl[0]) && !err; i++) {
		size_t j = (bits & XTUN_OFF_TXCSUM) ? i : sizeof(offl) / sizeof(offl[0]) - 1 - i;
		__u32 v = (bits & offl[j].bit) ? 1 : 0;

		__u32 cur = 0;

		if (!(mask & offl[j].bit))
			continue;
		/* already so (a peer with XDP makes TSO fixed off on a veth): skip */
		err = ethtool_value(sk, ifname, offl[j].get, &cur);
		if (!err && !!cur != v)
			err = ethtool_value(sk, ifname, offl[j].set, &v);
	}
	close(sk);
	return err;
}

/* ---- rtnetlink: gso_max_segs ---------------------------------------------- */

struct nl_req {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
	char attrs[64];
};

/* send req, read the answer into buf; 0 or -errno (an NLMSG_ERROR's) */
static int nl_talk(struct nl_req *req, char *buf, size_t len, ssize_t *got)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), err = 0;
	struct timeval tv = { .tv_sec = 2 };
	ssize_t n;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, req, req->nh.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		err = -errno;
		goto out;
	}
	n = recv(fd, buf, len, 0);
	if (n < 0) {
		err = -errno;
		goto out;
	}
	*got = n;
	if ((size_t)n >= sizeof(struct nlmsghdr) && ((struct nlmsghdr *)buf)->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *e = NLMSG_DATA((struct nlmsghdr *)buf);

		err = e->error;
	}
out:
	close(fd);
	return err;
}

int xtun_gso_max_segs_get(int ifindex, __u32 *v)
{
	struct nl_req req;
	char buf[16384];
	ssize_t got = 0;
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct rtattr *a;
	int len, err;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	req.nh.nlmsg_type = RTM_GETLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = ifindex;
	err = nl_talk(&req, buf, sizeof(buf), &got);
	if (err)
		return err;
	if (!NLMSG_OK(nh, (__u32)got) || nh->nlmsg_type != RTM_NEWLINK)
		return -EPROTO;
	len = (int)nh->nlmsg_len - NLMSG_LENGTH(sizeof(struct ifinfomsg));
	for (a = IFLA_RTA(NLMSG_DATA(nh)); RTA_OK(a, len); a = RTA_NEXT(a, len))
		if (a->rta_type == IFLA_GSO_MAX_SEGS && RTA_PAYLOAD(a) >= 4) {
			memcpy(v, RTA_DATA(a), 4);
			return 0;
		}
	return -ENOENT;
}

int xtun_gso_max_segs_set(int ifindex, __u32 v)
{
	struct nl_req req;
	struct rtattr *a;
	char buf[1024];
	ssize_t got = 0;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_type = RTM_NEWLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = ifindex;
	a = (struct rtattr *)req.attrs;
	a->rta_type = IFLA_GSO_MAX_SEGS;
	a->rta_len = RTA_LENGTH(4);
	memcpy(RTA_DATA(a), &v, 4);
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)) + RTA_ALIGN(a->rta_len);
	return nl_talk(&req, buf, sizeof(buf), &got);
}
