// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "harness.h"
#include "pkt.h"

int h_if_in, h_if_out;
const uint8_t H_MAC_IN[6] = { 0x02, 0, 0, 0, 0, 0x01 };
const uint8_t H_MAC_OUT[6] = { 0x02, 0, 0, 0, 0, 0x02 };
const uint8_t H_MAC_VIC[6] = { 0x02, 0, 0, 0, 0x01, 0x02 };
const uint8_t H_MAC_DEV5[6] = { 0x02, 0, 0, 0, 0, 0x05 };

static int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "# setup failed (%d): %s\n", rc, cmd);
	return rc;
}

int h_netns_setup(void)
{
	if (unshare(CLONE_NEWNET)) {
		perror("# unshare(CLONE_NEWNET)");
		return -1;
	}
	/* the namespace dies with this process: nothing to clean up */
	if (sh("ip link set lo up") ||
	    sh("ip link add in0 address 02:00:00:00:00:01 type veth peer name in0p") ||
	    sh("ip link add out0 address 02:00:00:00:00:02 type veth peer name out0p") ||
	    sh("ip addr add 198.18.0.1/24 dev in0") ||
	    sh("ip addr add 198.18.1.1/24 dev out0") ||
	    sh("for i in in0 in0p out0 out0p; do ip link set $i up; done") ||
	    sh("ip neigh replace 198.18.1.2 lladdr 02:00:00:00:01:02 dev out0 nud permanent") ||
	    sh("ip neigh replace 198.18.0.5 lladdr 02:00:00:00:00:05 dev in0 nud permanent") ||
	    sh("ip route add blackhole 198.18.200.0/24") ||
	    sh("echo 1 > /proc/sys/net/ipv4/ip_forward") ||
	    /* the same in IPv6 (2001:db8:: + the IPv4 address, /96 + L) */
	    sh("ip -6 addr add 2001:db8::c612:1/120 dev in0 nodad") ||
	    sh("ip -6 addr add 2001:db8::c612:101/120 dev out0 nodad") ||
	    sh("ip -6 neigh replace 2001:db8::c612:102 lladdr 02:00:00:00:01:02 dev out0 nud permanent") ||
	    sh("ip -6 neigh replace 2001:db8::c612:5 lladdr 02:00:00:00:00:05 dev in0 nud permanent") ||
	    sh("ip -6 route add blackhole 2001:db8::c612:c800/120") ||
	    sh("sysctl -qw net.ipv6.conf.all.forwarding=1"))
		return -1;
	h_if_in = (int)if_nametoindex("in0");
	h_if_out = (int)if_nametoindex("out0");
	return h_if_in && h_if_out ? 0 : -1;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_WARN)
		return vfprintf(stderr, fmt, ap);
	return 0;
}

uint32_t h_max_records = 1 << 16;
int h_embed6 = 1;

struct xpro_bpf *h_load(uint32_t mode)
{
	return h_load_v1(mode, 1);
}

struct xpro_bpf *h_load_v1(uint32_t mode, int v1)
{
	struct xpro_bpf *s;

	libbpf_set_print(libbpf_quiet);
	s = xpro_bpf__open();
	if (!s)
		return NULL;
	s->rodata->cfg_mode = mode;
	s->rodata->cfg_tun_addr = ip4("198.18.0.1");
	s->rodata->cfg_tun_port = htons(5683);
	s->rodata->cfg_test_clock = 1;
	s->rodata->cfg_guard = 1;   /* the reverse firewall's maps are looked up */
	s->rodata->cfg_devnets = 1; /* (empty unless a test fills them) */
	s->rodata->cfg_keys = 1;    /* client identity on: keys looked up */
	s->rodata->cfg_v1 = (uint8_t)v1;
	s->rodata->cfg_embed6 = (uint8_t)h_embed6; /* device_embed6 = 2001:db8::/96 */
	ip6("2001:db8::", (uint8_t *)(void *)s->rodata->cfg_embed6_net);
	bpf_map__set_max_entries(s->maps.xpro_records, h_max_records);
	if (xpro_bpf__load(s)) {
		xpro_bpf__destroy(s);
		return NULL;
	}
	return s;
}

int h_guard(struct xpro_bpf *s)
{
	struct xpro_guard_key gp = { .prefixlen = 96 + 32 }, gm = { .prefixlen = 96 + 25 };
	struct xpro_devnet_key dn = { .prefixlen = 32 + 96 + 24, .client = ip4("198.18.0.2") };
	uint32_t proxy = XPRO_GUARD_PROXY, mgmt = XPRO_GUARD_MGMT, one = 1;

	xpro_addr_set4(&gp.addr, ip4("198.18.0.7"));
	xpro_addr_set4(&gm.addr, ip4("198.18.1.128"));
	struct xpro_guard_key gp6 = { .prefixlen = 128 }, gm6 = { .prefixlen = 121 };
	struct xpro_devnet_key dn6 = { .prefixlen = 32 + 48, .client = ip4("198.18.0.2") };

	xpro_addr_set4(&dn.net, ip4("198.18.5.0"));
	ip6("2001:db8::c612:7", (uint8_t *)&gp6.addr);
	ip6("2001:db8::c612:180", (uint8_t *)&gm6.addr);
	ip6("2001:db8:5::", (uint8_t *)&dn6.net);
	return bpf_map_update_elem(bpf_map__fd(s->maps.xpro_guard), &gp6, &proxy, BPF_ANY) ||
	       bpf_map_update_elem(bpf_map__fd(s->maps.xpro_guard), &gm6, &mgmt, BPF_ANY) ||
	       bpf_map_update_elem(bpf_map__fd(s->maps.xpro_devnets), &dn6, &one, BPF_ANY) ||
	       bpf_map_update_elem(bpf_map__fd(s->maps.xpro_guard), &gp, &proxy, BPF_ANY) ||
	       bpf_map_update_elem(bpf_map__fd(s->maps.xpro_guard), &gm, &mgmt, BPF_ANY) ||
	       bpf_map_update_elem(bpf_map__fd(s->maps.xpro_devnets), &dn, &one, BPF_ANY);
}

const uint64_t H_KEY_A[2] = { 0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL };
const uint64_t H_KEY_B[2] = { 0x1716151413121110ULL, 0x1f1e1d1c1b1a1918ULL };

int h_keys(struct xpro_bpf *s)
{
	struct xpro_devkey a = { .client = ip4("198.18.0.2"), .k0 = H_KEY_A[0], .k1 = H_KEY_A[1] };
	struct xpro_devkey b = { .client = ip4("198.18.0.3"), .k0 = H_KEY_B[0], .k1 = H_KEY_B[1] };
	uint32_t ia = 0, ib = 1;
	int fd = bpf_map__fd(s->maps.xpro_devkeys), fi = bpf_map__fd(s->maps.xpro_keyidx);

	return bpf_map_update_elem(fd, &ia, &a, BPF_ANY) || bpf_map_update_elem(fd, &ib, &b, BPF_ANY) ||
	       bpf_map_update_elem(fi, &a.client, &ia, BPF_ANY) || bpf_map_update_elem(fi, &b.client, &ib, BPF_ANY);
}

int h_unkey(struct xpro_bpf *s)
{
	struct xpro_devkey none = { 0 };
	uint32_t ia = 0, ib = 1, ca = ip4("198.18.0.2"), cb = ip4("198.18.0.3");
	int fd = bpf_map__fd(s->maps.xpro_devkeys), fi = bpf_map__fd(s->maps.xpro_keyidx);

	bpf_map_delete_elem(fi, &ca);
	bpf_map_delete_elem(fi, &cb);
	return bpf_map_update_elem(fd, &ia, &none, BPF_ANY) || bpf_map_update_elem(fd, &ib, &none, BPF_ANY);
}

void h_params(struct xpro_params *p)
{
	memset(p, 0, sizeof(*p));
	p->tt1_ns = 1000000000ULL;     /* 1 s */
	p->tt2_ns = 100000000ULL;      /* 100 ms */
	p->tt3_ns = 200000000ULL;      /* 200 ms */
	p->tt4_ns = 10000000000ULL;
	p->tf1 = 10;
	p->tf2 = 50;
	p->warn_interval_ns = 1000000000ULL;
	p->r = 2;
	p->policy = XPRO_POLICY_PAPER;
	p->ipv6 = XPRO_IPV6_DROP;
	p->filter = 1;
}

static void clear_map(int fd, size_t ksz)
{
	char key[64];

	while (!bpf_map_get_next_key(fd, NULL, key))
		if (bpf_map_delete_elem(fd, key))
			break;
	(void)ksz;
}

void h_reset(struct xpro_bpf *s, const struct xpro_params *p)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *zero = calloc((size_t)ncpu, sizeof(uint64_t));
	uint32_t i, k0 = 0;

	clear_map(bpf_map__fd(s->maps.xpro_records), sizeof(struct xpro_key));
	clear_map(bpf_map__fd(s->maps.xpro_aggs), sizeof(struct xpro_addr));
	clear_map(bpf_map__fd(s->maps.xpro_tf2), sizeof(struct xpro_addr));
	for (i = 0; i < XPRO_C__MAX; i++)
		bpf_map_update_elem(bpf_map__fd(s->maps.xpro_counters), &i, zero, BPF_ANY);
	free(zero);
	bpf_map_update_elem(bpf_map__fd(s->maps.xpro_config), &k0, p, BPF_ANY);
	s->bss->test_now = 1000000000000ULL; /* 1000 s */
}

int h_run(struct xpro_bpf *s, const uint8_t *pkt, size_t len, uint8_t *out, size_t *out_len)
{
	struct xdp_md ctx_in = { .data_end = (uint32_t)len, .ingress_ifindex = (uint32_t)h_if_in };
	LIBBPF_OPTS(bpf_test_run_opts, o,
		    .data_in = pkt, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = out && out_len ? (uint32_t)*out_len : 0,
		    .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in),
		    .repeat = 1);
	int err = bpf_prog_test_run_opts(bpf_program__fd(s->progs.xpro_xdp), &o);

	if (err) {
		fprintf(stderr, "# test_run: %s\n", strerror(errno));
		return -1;
	}
	if (out_len)
		*out_len = o.data_size_out;
	return (int)o.retval;
}

uint64_t h_counter(struct xpro_bpf *s, unsigned int idx)
{
	if (idx == XPRO_C_RX) { /* packets seen: the sum of the outcomes */
		uint64_t rx = 0;

		for (idx = XPRO_C__OUTCOME_FIRST; idx <= XPRO_C__OUTCOME_LAST; idx++)
			rx += h_counter(s, idx);
		return rx;
	}
	int ncpu = libbpf_num_possible_cpus(), c;
	uint64_t vals[256] = { 0 }, sum = 0;
	uint32_t k = idx;

	if (ncpu > 256 || bpf_map_lookup_elem(bpf_map__fd(s->maps.xpro_counters), &k, vals))
		return ~0ULL;
	for (c = 0; c < ncpu; c++)
		sum += vals[c];
	return sum;
}

int h_record6(struct xpro_bpf *s, const struct xpro_addr *client, const struct xpro_addr *dest,
	      struct xpro_record *r)
{
	struct xpro_key k = { *client, *dest };

	return bpf_map_lookup_elem(bpf_map__fd(s->maps.xpro_records), &k, r) ? 0 : 1;
}

int h_record(struct xpro_bpf *s, uint32_t client, uint32_t dest, struct xpro_record *r)
{
	struct xpro_addr c, d;

	xpro_addr_set4(&c, client);
	xpro_addr_set4(&d, dest);
	return h_record6(s, &c, &d, r);
}

int h_agg6(struct xpro_bpf *s, const struct xpro_addr *dest, struct xpro_agg *a)
{
	return bpf_map_lookup_elem(bpf_map__fd(s->maps.xpro_aggs), dest, a) ? 0 : 1;
}

int h_agg(struct xpro_bpf *s, uint32_t dest, struct xpro_agg *a)
{
	struct xpro_addr d;

	xpro_addr_set4(&d, dest);
	return h_agg6(s, &d, a);
}

int h_tf2(struct xpro_bpf *s, uint32_t dest, uint64_t tf2)
{
	struct xpro_addr d;

	xpro_addr_set4(&d, dest);
	return bpf_map_update_elem(bpf_map__fd(s->maps.xpro_tf2), &d, &tf2, BPF_ANY);
}
