// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Load, pin, attach and detach the X-Pro XDP program on one interface, and
 * open its pinned maps for the other commands and daemons.
 *
 * Pins: <bpffs>/<netns>/<ifname>/<map>, reused across reloads so that a
 * restart loses no state. State (alerts, locks): <state_dir>/<netns>/<ifname>/.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_link.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "xpro.skel.h"
#include "log.h"
#include "proxy.h"
#include "guard.h"
#include "mapwalk.h"
#include "clock.h"

const char *const xpro_map_names[M__MAX] = {
	[M_RECORDS] = "xpro_records",
	[M_AGGS] = "xpro_aggs",
	[M_TF2] = "xpro_tf2",
	[M_CONFIG] = "xpro_config",
	[M_COUNTERS] = "xpro_counters",
	[M_WARNINGS] = "xpro_warnings",
};

uint64_t xpro_now_tai(void)
{
	return xp_tai_ns();
}

void xpro_netns_name(char *buf, size_t len)
{
	struct stat self, st, init;
	struct dirent *de;
	char path[512];
	DIR *d;

	if (stat("/proc/self/ns/net", &self)) {
		snprintf(buf, len, "unknown");
		return;
	}
	d = opendir("/run/netns");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", de->d_name);
		if (!stat(path, &st) && st.st_ino == self.st_ino && st.st_dev == self.st_dev) {
			snprintf(buf, len, "%s", de->d_name);
			closedir(d);
			return;
		}
	}
	if (d)
		closedir(d);
	if (!stat("/proc/1/ns/net", &init) && init.st_ino == self.st_ino) {
		snprintf(buf, len, "init");
		return;
	}
	snprintf(buf, len, "net-%lu", (unsigned long)self.st_ino);
}

int xpro_sysctl_read(const char *path, long *val)
{
	char buf[64];
	FILE *f = fopen(path, "r");
	int err = 0;

	if (!f)
		return -errno;
	if (!fgets(buf, sizeof(buf), f))
		err = -EIO;
	else
		*val = strtol(buf, NULL, 10);
	fclose(f);
	return err;
}

int xpro_proxy_init(struct xpro_proxy *px, const struct xpro_config *c, const char *ifname)
{
	int i;

	memset(px, 0, sizeof(*px));
	for (i = 0; i < M__MAX; i++)
		px->fd[i] = -1;
	if (!ifname || !*ifname) {
		pr_warn("no interface given (-i IFACE)\n");
		return -EINVAL;
	}
	if (strlen(ifname) >= sizeof(px->ifname) || strchr(ifname, '/')) {
		pr_warn("'%s' is not an interface name\n", ifname);
		return -EINVAL;
	}
	snprintf(px->ifname, sizeof(px->ifname), "%s", ifname);
	px->ifindex = (int)if_nametoindex(ifname);
	xpro_netns_name(px->nsname, sizeof(px->nsname));
	snprintf(px->pin_dir, sizeof(px->pin_dir), "%s/%s/%s", c->bpffs, px->nsname, ifname);
	snprintf(px->state_dir, sizeof(px->state_dir), "%s/%s/%s", c->state_dir, px->nsname, ifname);
	return 0;
}

int xpro_mkdir_p(const char *path)
{
	char tmp[700], *p;

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

struct map_shape {
	__u32 key, value;
};

static const struct map_shape shapes[M__MAX] = {
	[M_RECORDS] = { sizeof(struct xpro_key), sizeof(struct xpro_record) },
	[M_AGGS] = { sizeof(struct xpro_addr), sizeof(struct xpro_agg) },
	[M_TF2] = { sizeof(struct xpro_addr), sizeof(__u64) },
	[M_CONFIG] = { sizeof(__u32), sizeof(struct xpro_params) },
	[M_COUNTERS] = { sizeof(__u32), sizeof(__u64) },
	[M_WARNINGS] = { 0, 0 },
};

int xpro_proxy_open(struct xpro_proxy *px)
{
	struct bpf_map_info info;
	__u32 len;
	char path[700];
	int i, err;

	for (i = 0; i < M__MAX; i++) {
		snprintf(path, sizeof(path), "%s/%s", px->pin_dir, xpro_map_names[i]);
		px->fd[i] = bpf_obj_get(path);
		if (px->fd[i] < 0) {
			err = -errno;
			if (err == -ENOENT)
				pr_warn("%s: X-Pro is not attached here (no pins at %s; run xpro attach -i %s)\n",
					px->ifname, px->pin_dir, px->ifname);
			else
				pr_warn("%s: open %s: %s\n", px->ifname, path, strerror(-err));
			xpro_proxy_close(px);
			return err;
		}
		memset(&info, 0, sizeof(info));
		len = sizeof(info);
		if (bpf_obj_get_info_by_fd(px->fd[i], &info, &len)) {
			err = -errno;
			xpro_proxy_close(px);
			return err;
		}
		if (i != M_WARNINGS && (info.key_size != shapes[i].key || info.value_size != shapes[i].value)) {
			pr_warn("%s: pinned map %s has key/value size %u/%u, this xpro expects %u/%u (built from another version: detach and attach again)\n",
				px->ifname, path, info.key_size, info.value_size, shapes[i].key, shapes[i].value);
			xpro_proxy_close(px);
			return -EPROTO;
		}
	}
	return 0;
}

void xpro_proxy_close(struct xpro_proxy *px)
{
	int i;

	for (i = 0; i < M__MAX; i++) {
		if (px->fd[i] >= 0)
			close(px->fd[i]);
		px->fd[i] = -1;
	}
}

static __u32 count_entries(int fd, __u32 key_size)
{
	char key[64], next[64];
	void *prev = NULL;
	__u32 n = 0;

	if (key_size > sizeof(key))
		return 0;
	__u32 left = xpro_map_bound(fd);

	while (left-- && !bpf_map_get_next_key(fd, prev, next)) {
		memcpy(key, next, key_size);
		prev = key;
		n++;
	}
	return n;
}

int xpro_write_params(struct xpro_proxy *px, const struct xpro_config *c)
{
	struct xpro_params p = c->params;
	__u32 zero = 0;

	p.tf2_overrides = count_entries(px->fd[M_TF2], sizeof(struct xpro_addr));
	if (bpf_map_update_elem(px->fd[M_CONFIG], &zero, &p, BPF_ANY))
		return -errno;
	return 0;
}

int xpro_read_params(struct xpro_proxy *px, struct xpro_params *p)
{
	__u32 zero = 0;

	if (bpf_map_lookup_elem(px->fd[M_CONFIG], &zero, p))
		return -errno;
	return 0;
}

static int first_ipv4(const char *ifname, __u32 *addr)
{
	struct ifaddrs *ifa, *i;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && !strcmp(i->ifa_name, ifname)) {
			*addr = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
			freeifaddrs(ifa);
			return 0;
		}
	}
	freeifaddrs(ifa);
	return -EADDRNOTAVAIL;
}

/*
 * Every interface this proxy may redirect to must accept XDP frames
 * (ndo-xmit in its XDP features): on a veth that means a NAPI on its peer
 * (an XDP program there, or GRO switched on after link up). Without it every
 * redirected frame is lost silently (docs/veth.md). A kernel without the
 * netdev family (before 6.3) cannot say: the check is skipped with a warning.
 */
static int check_redirect_targets(const char *ingress)
{
	struct ifaddrs *ifa, *i;
	char seen[64][IF_NAMESIZE];
	int nseen = 0, bad = 0, k, dup;
	uint64_t feat;
	int err;

	if (getifaddrs(&ifa))
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		if (!(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (!strcmp(i->ifa_name, ingress))
			continue;
		for (dup = 0, k = 0; k < nseen; k++)
			dup |= !strcmp(seen[k], i->ifa_name);
		if (dup || nseen >= 64)
			continue;
		snprintf(seen[nseen++], IF_NAMESIZE, "%s", i->ifa_name);
		err = xpro_xdp_features((int)if_nametoindex(i->ifa_name), &feat);
		if (err == -ENOTSUP) {
			/* Linux < 6.3 (Debian 12's 6.1): the check cannot run; say so and go on */
			pr_warn("attach %s: check skipped: XDP features of the redirect targets (no netdev netlink family: Linux older than 6.3); each veth this proxy forwards to needs GRO switched on with the link up, or an XDP program, on its peer (docs/veth.md)\n",
				ingress);
			break;
		}
		if (err) {
			pr_warn("attach %s: XDP features of %s: %s\n", ingress, i->ifa_name, strerror(-err));
			bad++;
			continue;
		}
		if (!(feat & XPRO_XDP_ACT_NDO_XMIT)) {
			pr_warn("attach %s: %s cannot receive XDP redirects (no ndo-xmit in its XDP features); on a veth, attach an XDP program to its peer or turn GRO on there after the link is up (docs/veth.md)\n",
				ingress, i->ifa_name);
			bad++;
		}
	}
	freeifaddrs(ifa);
	return bad ? -EOPNOTSUPP : 0;
}

static int lock_state(const char *state_dir)
{
	char path[700];
	int fd;

	snprintf(path, sizeof(path), "%s/lock", state_dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX)) {
		close(fd);
		return -errno;
	}
	return fd;
}

static const char *attach_hint(int err)
{
	switch (err) {
	case -ERANGE: return "Peer MTU too large for native XDP (at most 3506 on a veth without xdp.frags)";
	case -EOPNOTSUPP: return "native XDP not supported by this interface (set xdp_mode = generic to use generic mode)";
	case -EEXIST:
	case -EBUSY: return "another XDP program is attached";
	default: return strerror(-err);
	}
}

int xpro_attach(const struct xpro_config *c, const char *ifname, const struct attach_opts *o)
{
	struct xpro_proxy px;
	struct xpro_bpf *skel = NULL;
	struct bpf_map *maps[M__MAX];
	LIBBPF_OPTS(bpf_xdp_attach_opts, aopts);
	__u32 tun_addr = c->tunnel_addr, old_id = 0, prog_id = 0;
	__u32 mode_flag = c->xdp_generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	char path[700], abuf[INET_ADDRSTRLEN];
	int err, i, lock_fd = -1, old_fd = -1;
	long fwd;

	err = xpro_proxy_init(&px, c, ifname);
	if (err)
		return err;
	if (!px.ifindex) {
		pr_warn("attach %s: no such interface in network namespace %s (ENODEV)\n", ifname, px.nsname);
		return -ENODEV;
	}
	if (xpro_config_validate(c))
		return -EINVAL;
	err = xpro_sysctl_read("/proc/sys/net/ipv4/ip_forward", &fwd);
	if (err || fwd != 1) {
		pr_warn("attach %s: IPv4 forwarding is off in network namespace %s (sysctl -w net.ipv4.ip_forward=1); bpf_fib_lookup needs it\n",
			ifname, px.nsname);
		return -EPERM;
	}
	if (c->params.ipv6 == XPRO_IPV6_KERNEL) {
		err = xpro_sysctl_read("/proc/sys/net/ipv6/conf/all/forwarding", &fwd);
		if (!err && fwd != 0) {
			pr_warn("attach %s: ipv6 = kernel needs IPv6 forwarding off (net.ipv6.conf.all.forwarding=0), or IPv6 would be forwarded unfiltered\n",
				ifname);
			return -EPERM;
		}
	}
	if (c->params.ipv6 == XPRO_IPV6_FILTER && c->mode == XPRO_MODE_INLINE) {
		/* routed IPv6 through Algorithm 2: the IPv6 FIB lookup needs it */
		err = xpro_sysctl_read("/proc/sys/net/ipv6/conf/all/forwarding", &fwd);
		if (err || fwd != 1) {
			pr_warn("attach %s: ipv6 = filter needs IPv6 forwarding on in network namespace %s (sysctl -w net.ipv6.conf.all.forwarding=1); bpf_fib_lookup needs it\n",
				ifname, px.nsname);
			return -EPERM;
		}
	}
	if (c->mode == XPRO_MODE_TUNNEL && !tun_addr) {
		err = first_ipv4(ifname, &tun_addr);
		if (err) {
			pr_warn("attach %s: no IPv4 address on %s to receive the tunnel; set tunnel_addr\n", ifname, ifname);
			return -EADDRNOTAVAIL;
		}
	}
	if (!bpf_xdp_query_id(px.ifindex, 0, &old_id) && old_id && !o->replace) {
		pr_warn("attach %s: a program is already attached (id %u); run xpro detach -i %s first, or attach --replace to reload keeping the state\n",
			ifname, old_id, ifname);
		return -EEXIST;
	}
	if (!o->force) {
		err = check_redirect_targets(ifname);
		if (err)
			return err;
	}

	err = xpro_mkdir_p(px.pin_dir);
	if (!err)
		err = xpro_mkdir_p(px.state_dir);
	if (err) {
		pr_warn("attach %s: cannot create %s or %s: %s (is bpffs mounted at %s? run make deps)\n",
			ifname, px.pin_dir, px.state_dir, strerror(-err), c->bpffs);
		return err;
	}
	lock_fd = lock_state(px.state_dir);
	if (lock_fd < 0) {
		err = lock_fd;
		goto cleanup;
	}

	skel = xpro_bpf__open();
	if (!skel) {
		err = -errno;
		pr_warn("attach %s: open BPF object: %s\n", ifname, strerror(-err));
		goto cleanup;
	}
	skel->rodata->cfg_mode = c->mode;
	skel->rodata->cfg_tun_addr = tun_addr;
	skel->rodata->cfg_tun_port = htons(c->tunnel_port);
	skel->rodata->cfg_test_clock = 0; /* never set by attach */
	{
		int ng, nd;

		char e[320];

		xpro_guard_count(c, &ng, &nd);
		skel->rodata->cfg_guard = ng > 0;
		skel->rodata->cfg_devnets = nd > 0;
		/* client identity: on when the key file names at least one device */
		skel->rodata->cfg_keys = *c->device_keys && xpro_keys_load(c->device_keys, -1, -1, e, sizeof(e)) > 0;
		skel->rodata->cfg_v1 = !c->tunnel_v1_refuse;
		/* inner IPv6 sources device_embed6::<client> (docs/protocol.md) */
		skel->rodata->cfg_embed6 = c->device_embed6_len == 96;
		memcpy((void *)skel->rodata->cfg_embed6_net, &c->device_embed6, 12);
	}
	maps[M_RECORDS] = skel->maps.xpro_records;
	maps[M_AGGS] = skel->maps.xpro_aggs;
	maps[M_TF2] = skel->maps.xpro_tf2;
	maps[M_CONFIG] = skel->maps.xpro_config;
	maps[M_COUNTERS] = skel->maps.xpro_counters;
	maps[M_WARNINGS] = skel->maps.xpro_warnings;
	bpf_map__set_max_entries(maps[M_RECORDS], c->max_records);
	bpf_map__set_max_entries(maps[M_AGGS], c->max_dests);
	bpf_map__set_max_entries(maps[M_TF2], c->max_dests);
	for (i = 0; i < M__MAX; i++) {
		snprintf(path, sizeof(path), "%s/%s", px.pin_dir, xpro_map_names[i]);
		err = bpf_map__set_pin_path(maps[i], path);
		if (err)
			goto cleanup;
	}
	err = xpro_bpf__load(skel);
	if (err) {
		pr_warn("attach %s: load failed: %s%s\n", ifname, strerror(-err),
			err == -EINVAL ? " (pinned maps of another size or version? detach first)" : "");
		goto cleanup;
	}
	err = xpro_guard_fill(c, bpf_map__fd(skel->maps.xpro_guard), bpf_map__fd(skel->maps.xpro_devnets));
	if (!err && skel->rodata->cfg_keys) {
		char e[320];
		int n = xpro_keys_load(c->device_keys, bpf_map__fd(skel->maps.xpro_devkeys),
				       bpf_map__fd(skel->maps.xpro_keyidx), e, sizeof(e));

		if (n < 0) {
			pr_warn("attach %s: device_keys: %s\n", ifname, e);
			err = n;
			goto cleanup;
		}
	}
	if (err) {
		pr_warn("attach %s: write the reverse firewall's prefixes: %s\n", ifname, strerror(-err));
		goto cleanup;
	}
	for (i = 0; i < M__MAX; i++)
		px.fd[i] = bpf_map__fd(maps[i]);
	err = xpro_write_params(&px, c);
	for (i = 0; i < M__MAX; i++)
		px.fd[i] = -1; /* owned by the skeleton */
	if (err) {
		pr_warn("attach %s: write config map: %s\n", ifname, strerror(-err));
		goto cleanup;
	}

	if (old_id && o->replace) {
		old_fd = bpf_prog_get_fd_by_id(old_id);
		aopts.old_prog_fd = old_fd;
		err = bpf_xdp_attach(px.ifindex, bpf_program__fd(skel->progs.xpro_xdp),
				     mode_flag | XDP_FLAGS_REPLACE, &aopts);
	} else {
		err = bpf_xdp_attach(px.ifindex, bpf_program__fd(skel->progs.xpro_xdp),
				     mode_flag | XDP_FLAGS_UPDATE_IF_NOEXIST, NULL);
	}
	if (err) {
		pr_warn("attach %s: %s (%s)\n", ifname, attach_hint(err), strerror(-err));
		goto cleanup;
	}
	bpf_xdp_query_id(px.ifindex, mode_flag, &prog_id);
	inet_ntop(AF_INET, &tun_addr, abuf, sizeof(abuf));
	if (c->mode == XPRO_MODE_TUNNEL)
		printf("xpro: attached to %s (%s, tunnel %s:%u, policy %s, filter %s), prog id %u, pins %s\n",
		       ifname, c->xdp_generic ? "generic" : "native", abuf, c->tunnel_port,
		       xpro_policy_name(c->params.policy), c->params.filter ? "on" : "off",
		       prog_id, px.pin_dir);
	else
		printf("xpro: attached to %s (%s, inline, policy %s, filter %s), prog id %u, pins %s\n",
		       ifname, c->xdp_generic ? "generic" : "native",
		       xpro_policy_name(c->params.policy), c->params.filter ? "on" : "off",
		       prog_id, px.pin_dir);

	/* Keep the effective config for status and the daemons. */
	snprintf(path, sizeof(path), "%s/attached.conf", px.state_dir);
	FILE *f = fopen(path, "w");
	if (f) {
		struct xpro_config eff = *c;

		eff.tunnel_addr = tun_addr;
		xpro_config_print(&eff, f);
		fclose(f);
	}
	err = 0;
cleanup:
	if (old_fd >= 0)
		close(old_fd);
	xpro_bpf__destroy(skel); /* the link is the netlink attachment; maps stay pinned */
	if (err && !old_id) {
		/* a failed first attach leaves nothing behind */
		for (i = 0; i < M__MAX; i++) {
			snprintf(path, sizeof(path), "%s/%s", px.pin_dir, xpro_map_names[i]);
			unlink(path);
		}
		rmdir(px.pin_dir);
		snprintf(path, sizeof(path), "%s/%s", c->bpffs, px.nsname);
		rmdir(path);
	}
	if (lock_fd >= 0)
		close(lock_fd);
	return err;
}

static void rm_state(const struct xpro_config *c, struct xpro_proxy *px)
{
	static const char *const files[] = { "attached.conf", "alerts.jsonl", "warnd.pid", "lock" };
	char path[700];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", px->state_dir, files[i]);
		unlink(path);
	}
	rmdir(px->state_dir);
	snprintf(path, sizeof(path), "%s/%s", c->state_dir, px->nsname);
	rmdir(path);
}

int xpro_detach(const struct xpro_config *c, const char *ifname, int keep_maps)
{
	struct xpro_proxy px;
	__u32 id = 0;
	char path[700];
	int err, i, removed = 0, had_prog = 0;

	err = xpro_proxy_init(&px, c, ifname);
	if (err)
		return err;
	if (px.ifindex && !bpf_xdp_query_id(px.ifindex, 0, &id) && id) {
		had_prog = 1;
		err = bpf_xdp_detach(px.ifindex, XDP_FLAGS_DRV_MODE, NULL);
		if (err)
			err = bpf_xdp_detach(px.ifindex, XDP_FLAGS_SKB_MODE, NULL);
		if (err) {
			pr_warn("detach %s: %s\n", ifname, strerror(-err));
			return err;
		}
	}
	if (!keep_maps) {
		for (i = 0; i < M__MAX; i++) {
			snprintf(path, sizeof(path), "%s/%s", px.pin_dir, xpro_map_names[i]);
			removed += unlink(path) == 0;
		}
		rmdir(px.pin_dir);
		snprintf(path, sizeof(path), "%s/%s", c->bpffs, px.nsname);
		rmdir(path);
		rm_state(c, &px);
	}
	if (!had_prog && !removed && !keep_maps) {
		pr_warn("detach %s: nothing attached and no pins at %s\n", ifname, px.pin_dir);
		return -ENOENT;
	}
	printf("xpro: detached from %s%s%s\n", ifname,
	       had_prog ? "" : " (no program was attached)",
	       keep_maps ? ", maps kept at " : ", pins removed");
	if (keep_maps)
		printf("%s\n", px.pin_dir);
	return 0;
}
