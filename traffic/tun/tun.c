// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpro-tun: the device side of the X-Pro tunnel. Attaches the TC egress
 * program (traffic/tun/tun_egress.bpf.c) to a device host's interface so that every
 * IPv4 packet the host's kernel sends leaves wrapped for a proxy
 * (docs/protocol.md); changes and shows its proxies; detaches it.
 * docs/xpro-tun.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "safety.h"
#include "tun_lib.h"
#include "tunnel.h"
#include "opt.h"
#include "json.h"
#include "tun_egress.skel.h"
#include "log.h"

#define TOOL "xpro-tun"

static const char usage[] =
		"usage: xpro-tun attach DEV --proxy A[,B,...] [--port P] [--mode fixed|spread|failover]\n"
		"                       [--keep-offloads]\n"
		"       xpro-tun set DEV [--proxy A[,B,...]] [--port P] [--mode M] [--down A]... [--up A]...\n"
		"                       [--src ADDR=PROXY]... [--src ADDR=none]...\n"
		"       xpro-tun status DEV [--json]\n"
		"       xpro-tun detach DEV\n"
		"\n"
		"Wraps every IPv4 and IPv6 packet leaving DEV into the X-Pro tunnel (outer IPv4 from the\n"
		"packet's own source to a proxy, UDP to the proxy's tunnel port, the 4-byte X-Pro header),\n"
		"except ARP and packets to a proxy's own address. An IPv6 packet's outer source is the\n"
		"IPv4 address in the low 32 bits of its source (2001:db8::c612:1005 -> 198.18.16.5);\n"
		"neighbour discovery, multicast and link-local IPv6 stay on the link. Run it inside the\n"
		"device host's namespace.\n"
		"\n"
		"\n";

static const char mtu_fmt[] =
		"MTU: each packet grows by %d bytes; routes through DEV need 'mtu' <= DEV's MTU - %d\n"
		"(ip route replace ... dev DEV mtu 1468 for a 1500-byte link), else bigger packets are\n"
		"dropped (counter drop_too_big). Exit: 0, 1 with a one-line reason, 2 usage.";

static int parse_addr(const char *s, __be32 *a)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1) {
		pr_warn("'%s' is not an IPv4 address\n", s);
		return -EINVAL;
	}
	*a = in.s_addr;
	return 0;
}

/* "A,B,C" -> addresses; each must be in the testbed */
static int parse_list(const char *s, __be32 *out, __u32 *n)
{
	char *dup = strdup(s), *tok, *save = NULL;
	int err = 0;

	if (!dup)
		return -ENOMEM;
	*n = 0;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		__u32 i;

		if (*n >= XTUN_MAX_PROXIES) {
			pr_warn("--proxy: more than %d proxies\n", XTUN_MAX_PROXIES);
			err = -E2BIG;
			break;
		}
		err = parse_addr(tok, &out[*n]);
		if (err)
			break;
		if (xpro_check_dest(TOOL, out[*n])) {
			err = -EPERM;
			break;
		}
		for (i = 0; i < *n; i++)
			if (out[i] == out[*n]) {
				pr_warn("--proxy: %s listed twice\n", tok);
				err = -EINVAL;
			}
		if (err)
			break;
		(*n)++;
	}
	if (!err && !*n) {
		pr_warn("--proxy: empty list\n");
		err = -EINVAL;
	}
	free(dup);
	return err;
}

static const char *ntop(__be32 a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static int if_mtu(const char *ifname)
{
	struct ifreq ifr;
	int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), mtu = -1;

	if (sk < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strncpy(ifr.ifr_name, ifname, IF_NAMESIZE - 1);
	if (!ioctl(sk, SIOCGIFMTU, &ifr))
		mtu = ifr.ifr_mtu;
	close(sk);
	return mtu;
}

static void offl_str(__u32 bits, char *buf, size_t len)
{
	snprintf(buf, len, "tx-csum %s, tso %s, gso %s", bits & XTUN_OFF_TXCSUM ? "on" : "off",
		 bits & XTUN_OFF_TSO ? "on" : "off", bits & XTUN_OFF_GSO ? "on" : "off");
}

/* ---- attach ----------------------------------------------------------- */

/* --key-file: every source of the file signs with its key (version 2). The count, or -1. */
static int put_keys(int fd, const char *path)
{
	struct xpro_keyfile kf;
	char e[256];
	uint32_t i;

	if (xpro_keyfile_load(path, &kf, e, sizeof(e)) < 0) {
		pr_warn("--key-file: %s\n", e);
		return -1;
	}
	for (i = 0; i < kf.n; i++) {
		struct xtun_key k = { .k0 = kf.key[i].k0, .k1 = kf.key[i].k1, .index = kf.key[i].index };

		if (bpf_map_update_elem(fd, &kf.addr[i], &k, BPF_NOEXIST) && errno != EEXIST) {
			pr_warn("--key-file %s: writing tun_keys: %s\n", path, strerror(errno));
			break;
		}
	}
	e[0] = i == kf.n; /* all written */
	xpro_keyfile_free(&kf);
	return e[0] ? (int)i : -1;
}

static int cmd_attach(const char *dev, const __be32 *proxies, __u32 n, __u16 port, __u32 mode,
		      int keep_offloads, const char *key_file)
{
	int nkeys = 0;
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XTUN_TC_HANDLE, .priority = XTUN_TC_PRIO);
	struct tun_egress_bpf *skel;
	struct xtun_cfg cfg = { .mode = mode, .nproxies = n };
	struct xtun t;
	__u32 i, before = 0;
	char a[INET_ADDRSTRLEN], ob[64];
	int err, ifindex, mtu;

	err = xtun_open(dev, &t);
	if (err == -ENODEV) {
		pr_warn("interface %s: no such interface\n", dev);
		return 1;
	}
	if (!err) {
		pr_warn("interface %s: already attached (prog id %u); use set or detach\n",
			dev, t.prog_id);
		xtun_close(&t);
		return 1;
	}
	ifindex = (int)if_nametoindex(dev);
	skel = tun_egress_bpf__open_and_load();
	if (!skel) {
		pr_warn("loading bpf/tun_egress.bpf.o: %s\n", strerror(errno));
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct xtun_proxy p = { .addr = proxies[i], .port = htons(port), .alive = 1 };

		if (bpf_map_update_elem(bpf_map__fd(skel->maps.tun_proxies), &i, &p, BPF_ANY)) {
			err = -errno;
			goto fail;
		}
	}
	if (key_file && (nkeys = put_keys(bpf_map__fd(skel->maps.tun_keys), key_file)) < 0)
		goto out;
	if (!keep_offloads) {
		err = xtun_offloads_get(dev, &before);
		if (err) {
			pr_warn("interface %s: reading offloads: %s\n", dev, strerror(-err));
			goto out;
		}
		cfg.offloads = before | XTUN_OFF_SAVED;
		err = xtun_gso_max_segs_get(ifindex, &cfg.gso_max_segs);
		if (err) {
			pr_warn("interface %s: reading gso_max_segs: %s\n", dev, strerror(-err));
			goto out;
		}
	}
	{
		__u32 zero = 0;

		if (bpf_map_update_elem(bpf_map__fd(skel->maps.tun_cfg), &zero, &cfg, BPF_ANY)) {
			err = -errno;
			goto fail;
		}
	}
	hook.ifindex = ifindex;
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST) {
		pr_warn("interface %s: creating the clsact qdisc: %s\n", dev, strerror(-err));
		goto out;
	}
	if (!keep_offloads) {
		err = xtun_offloads_set(dev, XTUN_OFF_TXCSUM | XTUN_OFF_TSO | XTUN_OFF_GSO, 0);
		if (err) {
			pr_warn("interface %s: switching offloads off: %s\n", dev, strerror(-err));
			goto out;
		}
		err = xtun_gso_max_segs_set(ifindex, 1);
		if (err) {
			pr_warn("interface %s: setting gso_max_segs 1: %s\n", dev, strerror(-err));
			xtun_offloads_set(dev, XTUN_OFF_TXCSUM | XTUN_OFF_TSO | XTUN_OFF_GSO, before);
			goto out;
		}
	}
	opts.prog_fd = bpf_program__fd(skel->progs.xpro_tun_egress);
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		pr_warn("interface %s: attaching the egress filter: %s\n", dev, strerror(-err));
		if (!keep_offloads) {
			xtun_offloads_set(dev, XTUN_OFF_TXCSUM | XTUN_OFF_TSO | XTUN_OFF_GSO, before);
			xtun_gso_max_segs_set(ifindex, cfg.gso_max_segs);
		}
		goto out;
	}
	mtu = if_mtu(dev);
	printf("attached to %s egress (prog id %u): mode %s, proxies", dev, opts.prog_id,
	       xtun_mode_name(mode));
	for (i = 0; i < n; i++)
		printf("%s %s:%u", i ? "," : "", ntop(proxies[i], a), port);
	printf("\n");
	if (key_file)
		printf("keys: %d source(s) of %s send header version 2\n", nkeys, key_file);
	if (!keep_offloads) {
		offl_str(before, ob, sizeof(ob));
		printf("offloads of %s switched off, gso_max_segs 1 (were: %s, gso_max_segs %u; detach restores them)\n",
		       dev, ob, cfg.gso_max_segs);
	}
	if (mtu > 0)
		printf("MTU: %s is %d; routes through it need mtu <= %d (packets grow by %d bytes)\n",
		       dev, mtu, mtu - XPRO_TUN_OUTER_LEN, XPRO_TUN_OUTER_LEN);
	tun_egress_bpf__destroy(skel); /* the filter keeps program and maps */
	return 0;
fail:
	pr_warn("interface %s: filling the maps: %s\n", dev, strerror(-err));
out:
	tun_egress_bpf__destroy(skel);
	return 1;
}

/* ---- detach ----------------------------------------------------------- */

static int open_attached(const char *dev, struct xtun *t)
{
	int err = xtun_open(dev, t);

	if (err == -ENODEV)
		pr_warn("interface %s: no such interface\n", dev);
	else if (err == -ENOENT)
		pr_warn("interface %s: not attached\n", dev);
	else if (err)
		pr_warn("interface %s: %s\n", dev, strerror(-err));
	return err;
}

static int cmd_detach(const char *dev)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = XTUN_TC_HANDLE, .priority = XTUN_TC_PRIO);
	struct xtun_cfg cfg = {};
	struct xtun t;
	char ob[64];
	int err;

	if (open_attached(dev, &t))
		return 1;
	xtun_get_cfg(&t, &cfg);
	hook.ifindex = t.ifindex;
	err = bpf_tc_detach(&hook, &opts);
	xtun_close(&t);
	if (err) {
		pr_warn("interface %s: detaching the egress filter: %s\n", dev, strerror(-err));
		return 1;
	}
	printf("detached from %s\n", dev);
	if (cfg.offloads & XTUN_OFF_SAVED) {
		err = xtun_offloads_set(dev, XTUN_OFF_TXCSUM | XTUN_OFF_TSO | XTUN_OFF_GSO, cfg.offloads);
		if (err) {
			pr_warn("interface %s: restoring offloads: %s\n", dev, strerror(-err));
			return 1;
		}
		if (cfg.gso_max_segs)
			err = xtun_gso_max_segs_set(t.ifindex, cfg.gso_max_segs);
		if (err) {
			pr_warn("interface %s: restoring gso_max_segs %u: %s\n", dev,
				cfg.gso_max_segs, strerror(-err));
			return 1;
		}
		offl_str(cfg.offloads, ob, sizeof(ob));
		printf("offloads of %s restored (%s, gso_max_segs %u)\n", dev, ob, cfg.gso_max_segs);
	}
	return 0;
}

/* ---- status ----------------------------------------------------------- */

static int cmd_status(const char *dev, int json)
{
	struct xtun_cfg cfg;
	struct xtun t;
	__u64 c[XTUN_C__MAX];
	__u32 i;
	char a[INET_ADDRSTRLEN], q[104];
	int err, nsrc;

	if (open_attached(dev, &t))
		return 1;
	err = xtun_get_cfg(&t, &cfg);
	if (!err)
		err = xtun_counters(&t, c);
	if (err) {
		pr_warn("interface %s: reading the maps: %s\n", dev, strerror(-err));
		xtun_close(&t);
		return 1;
	}
	nsrc = xtun_src_count(&t);
	if (json) {
		printf("{\"interface\":%s,\"prog_id\":%u,\"mode\":\"%s\",\"proxies\":[", xp_json_q(q, sizeof(q), dev), t.prog_id,
		       xtun_mode_name(cfg.mode));
	} else {
		printf("interface %s: attached (prog id %u), mode %s, %u prox%s, %d per-source choice%s\n",
		       dev, t.prog_id, xtun_mode_name(cfg.mode), cfg.nproxies,
		       cfg.nproxies == 1 ? "y" : "ies", nsrc, nsrc == 1 ? "" : "s");
	}
	for (i = 0; i < cfg.nproxies && i < XTUN_MAX_PROXIES; i++) {
		struct xtun_proxy p = {};
		struct xtun_pstat s = {};

		xtun_get_proxy(&t, i, &p);
		xtun_pstat(&t, i, &s);
		if (json)
			printf("%s{\"addr\":\"%s\",\"port\":%u,\"up\":%s,\"packets\":%" PRIu64
			       ",\"bytes\":%" PRIu64 "}", i ? "," : "", ntop(p.addr, a), ntohs(p.port),
			       p.alive ? "true" : "false", (uint64_t)s.packets, (uint64_t)s.bytes);
		else
			printf("  proxy %u: %s:%u %s, %" PRIu64 " packets, %" PRIu64 " inner bytes\n", i,
			       ntop(p.addr, a), ntohs(p.port), p.alive ? "up" : "down",
			       (uint64_t)s.packets, (uint64_t)s.bytes);
	}
	if (json) {
		printf("],\"sources\":%d,\"counters\":{", nsrc);
		for (i = 0; i < XTUN_C__MAX; i++)
			printf("%s\"%s\":%" PRIu64, i ? "," : "", xtun_counter_name((int)i), (uint64_t)c[i]);
		printf("}}\n");
	} else {
		printf("  counters:");
		for (i = 0; i < XTUN_C__MAX; i++)
			printf(" %s=%" PRIu64, xtun_counter_name((int)i), (uint64_t)c[i]);
		printf("\n");
	}
	xtun_close(&t);
	return 0;
}

/* ---- set -------------------------------------------------------------- */

struct set_ops {
	int have_list, have_port, have_mode;
	__be32 list[XTUN_MAX_PROXIES];
	__u32 nlist, mode;
	__u16 port;
	char *updown[64];
	int nupdown;   /* entries "+A" / "-A" */
	char *src[256];
	int nsrc;
};

static int apply_updown(struct xtun *t, const struct xtun_cfg *cfg, const char *arg)
{
	__u8 alive = arg[0] == '+';
	const char *a = arg + 1;
	struct xtun_proxy p;
	__be32 addr;
	__u32 i;
	int slot;

	if (!strcmp(a, "all")) {
		for (i = 0; i < cfg->nproxies; i++) {
			if (xtun_get_proxy(t, i, &p))
				return -errno;
			p.alive = alive;
			if (xtun_set_proxy(t, i, &p))
				return -errno;
		}
		return 0;
	}
	if (parse_addr(a, &addr))
		return -EINVAL;
	slot = xtun_slot_of(t, addr);
	if (slot < 0) {
		pr_warn("%s: %s is not one of the proxies\n", t->ifname, a);
		return -ENOENT;
	}
	if (xtun_get_proxy(t, (__u32)slot, &p))
		return -errno;
	p.alive = alive;
	return xtun_set_proxy(t, (__u32)slot, &p);
}

static int apply_src(struct xtun *t, const char *arg)
{
	char buf[64], *eq;
	__be32 src, px;
	int slot;

	snprintf(buf, sizeof(buf), "%s", arg);
	eq = strchr(buf, '=');
	if (!eq) {
		pr_warn("--src: '%s' is not SOURCE=PROXY\n", arg);
		return -EINVAL;
	}
	*eq = '\0';
	if (parse_addr(buf, &src))
		return -EINVAL;
	if (!strcmp(eq + 1, "none"))
		return xtun_src_del(t, src);
	if (parse_addr(eq + 1, &px))
		return -EINVAL;
	slot = xtun_slot_of(t, px);
	if (slot < 0) {
		pr_warn("%s: %s is not one of the proxies\n", t->ifname, eq + 1);
		return -ENOENT;
	}
	return xtun_src_set(t, src, (__u32)slot);
}

static int cmd_set(const char *dev, struct set_ops *o)
{
	struct xtun_cfg cfg;
	struct xtun t;
	__u32 i;
	int err = 0, k;

	if (open_attached(dev, &t))
		return 1;
	err = xtun_get_cfg(&t, &cfg);
	if (err)
		goto out;
	if (o->have_list) {
		__u16 port = o->have_port ? htons(o->port) : 0;
		struct xtun_proxy p;

		if (!port) {
			port = htons(XPRO_TUN_PORT_DEFAULT);
			if (!xtun_get_proxy(&t, 0, &p) && p.port)
				port = p.port;
		}
		/* shrink first so that the program never sees a slot half written */
		if (o->nlist < cfg.nproxies) {
			cfg.nproxies = o->nlist;
			if ((err = xtun_set_cfg(&t, &cfg)))
				goto out;
		}
		for (i = 0; i < o->nlist; i++) {
			p = (struct xtun_proxy){ .addr = o->list[i], .port = port, .alive = 1 };
			if ((err = xtun_set_proxy(&t, i, &p)))
				goto out;
		}
		cfg.nproxies = o->nlist;
	} else if (o->have_port) {
		for (i = 0; i < cfg.nproxies; i++) {
			struct xtun_proxy p;

			if ((err = xtun_get_proxy(&t, i, &p)))
				goto out;
			p.port = htons(o->port);
			if ((err = xtun_set_proxy(&t, i, &p)))
				goto out;
		}
	}
	if (o->have_mode)
		cfg.mode = o->mode;
	if ((err = xtun_set_cfg(&t, &cfg)))
		goto out;
	for (k = 0; k < o->nupdown && !err; k++)
		err = apply_updown(&t, &cfg, o->updown[k]);
	for (k = 0; k < o->nsrc && !err; k++)
		err = apply_src(&t, o->src[k]);
out:
	xtun_close(&t);
	if (err) {
		if (err != -EINVAL && err != -ENOENT)
			pr_warn("interface %s: updating the maps: %s\n", dev, strerror(-err));
		return 1;
	}
	return 0;
}

/* ---- main ------------------------------------------------------------- */

static struct set_ops so;

static const char *opt_mode(const char *val, void *dst)
{
	(void)dst;
	if (xtun_mode_parse(val, &so.mode))
		return "is not fixed, spread or failover";
	so.have_mode = 1;
	return NULL;
}

/* --down A, --up A: "-A", "+A" in the order given */
static const char *opt_updown(const char *val, void *dst)
{
	if (so.nupdown >= 64)
		return "is one --up/--down too many (64)";
	if (asprintf(&so.updown[so.nupdown], "%c%s", *(const char *)dst, val) < 0)
		return "cannot be stored (out of memory)";
	so.nupdown++;
	return NULL;
}

static const char *opt_src(const char *val, void *dst)
{
	(void)dst;
	if (so.nsrc >= 256)
		return "is one --src too many (256)";
	so.src[so.nsrc++] = (char *)val;
	return NULL;
}

int main(int argc, char **argv)
{
	static const char down = '-', up = '+';
	struct set_ops *o = &so;
	const char *cmd, *dev, *proxies = NULL, *key_file = NULL;
	unsigned int port = 0;
	int json = 0, keep = 0, first;
	char mtu[512];
	const struct xp_opt tab[] = {
		XP_STR("proxy", 0, &proxies, "LIST", "proxies' tunnel addresses, in order (at most " XP_STRINGIFY(XTUN_MAX_PROXIES)
		       "), inside " XPRO_TESTBED_STR),
		XP_UINT("port", 0, &port, 1, 65535, "P", "their tunnel UDP port (default " XP_STRINGIFY(XPRO_TUN_PORT_DEFAULT) ")"),
		XP_FN("mode", 0, opt_mode, NULL, "M", "fixed: always the first proxy; spread: by a hash of the inner\n"
		      "destination; failover: the first proxy marked up (default fixed)"),
		XP_FN("down", 0, opt_updown, (void *)&down, "A", "mark a proxy down (failover mode); A may be 'all'"),
		XP_FN("up", 0, opt_updown, (void *)&up, "A", "mark a proxy up"),
		XP_FN("src", 0, opt_src, NULL, "S=A", "per-source choice: packets from S go to proxy A whatever the mode\n"
		      "(what xpro-device's per-device failover writes); S=none removes it"),
		XP_FLAG("keep-offloads", 0, &keep, "leave DEV's tx checksum, TSO, GSO and gso_max_segs alone (attach\n"
			"switches them off and sets gso_max_segs 1: the proxy forwards frames\n"
			"whose checksums must be complete, and a GSO packet cannot carry one\n"
			"X-Pro header per segment; TCP sockets opened before attach may still\n"
			"send GSO packets, which are dropped: counter drop_gso)"),
		XP_STR("key-file", 0, &key_file, "FILE", "attach: client identity, the proxies' device_keys file ('A.B.C.D KEY'\n"
		       "lines): packets from a source in it get header version 2 under its key\n"
		       "(docs/protocol.md); 16 bytes more per packet"),
		XP_FLAG("json", 0, &json, "status: one JSON object"),
		XP_TEXT(""),
		XP_TEXT(mtu),
		{ 0 },
	};

	xpro_prog = TOOL;
	o->port = XPRO_TUN_PORT_DEFAULT;
	snprintf(mtu, sizeof(mtu), mtu_fmt, XPRO_TUN_OUTER_LEN, XPRO_TUN_OUTER_LEN);
	first = xp_opt_parse(TOOL, usage, tab, argc, argv);
	if (first < argc && !strcmp(argv[first], "help")) {
		xp_opt_usage(stdout, usage, tab);
		return 0;
	}
	if (first + 2 > argc)
		xp_opt_die(TOOL, "COMMAND DEV expected (try --help)");
	if (first + 2 < argc)
		xp_opt_die(TOOL, "unexpected argument '%s'", argv[first + 2]);
	cmd = argv[first];
	dev = argv[first + 1];
	if (port) {
		o->port = (__u16)port;
		o->have_port = 1;
	}
	if (proxies) {
		if (parse_list(proxies, o->list, &o->nlist))
			return 1;
		o->have_list = 1;
	}
	if (!strcmp(cmd, "attach")) {
		if (!o->have_list) {
			pr_warn("attach needs --proxy A[,B,...]\n");
			return 2;
		}
		if (xpro_testbed_check(TOOL))
			return 1;
		return cmd_attach(dev, o->list, o->nlist, o->port, o->mode, keep, key_file);
	}
	if (!strcmp(cmd, "set")) {
		if (o->have_list && xpro_testbed_check(TOOL))
			return 1;
		return cmd_set(dev, o);
	}
	if (!strcmp(cmd, "status"))
		return cmd_status(dev, json);
	if (!strcmp(cmd, "detach"))
		return cmd_detach(dev);
	xp_opt_die(TOOL, "unknown command '%s' (try --help)", cmd);
}
