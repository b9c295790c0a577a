// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * BPF fixtures: frames in through bpf_prog_test_run_opts, XDP action,
 * counter and exact output bytes out. One fixture per malformed class, per
 * forwarding outcome, per mode. Expected frames are built by the test's own
 * packet builder (full checksums), never read back from the program.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tap.h"
#include "harness.h"
#include "pkt.h"

#define MS 1000000ULL

static struct xpro_bpf *tun, *inl;
static struct xpro_params P;

struct fixture {
	const char *desc;
	void (*tweak)(struct pkt_spec *s);
	int action;
	unsigned int counter;
};

static void t_none(struct pkt_spec *s) { (void)s; }
static void t_truncated(struct pkt_spec *s) { s->payload = 0; s->truncate = 14 + 20 + 8 + 4 + 10; s->udp_len_delta = -(int)(8 + 10); }
static void t_short_udp(struct pkt_spec *s) { s->udp_len_delta = -30; }
static void t_cut_frame(struct pkt_spec *s) { s->truncate = 14 + 20 + 8 + 4 + 12; }
static void t_magic(struct pkt_spec *s) { s->x_magic = 0x59; }
static void t_version(struct pkt_spec *s) { s->x_version = 3; }
static void t_xlen_lies(struct pkt_spec *s) { s->x_len_delta = -4; }
static void t_xlen_long(struct pkt_spec *s) { s->x_len_delta = 100; }
static void t_udp_long(struct pkt_spec *s) { s->udp_len_delta = 40; }
static void t_totlen_lies(struct pkt_spec *s) { s->i_totlen_delta = 8; }
static void t_ihl_small(struct pkt_spec *s) { s->i_ihl = 4; }
static void t_ihl_beyond(struct pkt_spec *s) { s->i_ihl = 15; s->payload = 0; s->truncate = 14 + 20 + 8 + 4 + 40; s->udp_len_delta = -28; }
static void t_outer_mf(struct pkt_spec *s) { s->o_frag = 0x2000; }
static void t_outer_off(struct pkt_spec *s) { s->o_frag = 0x0010; }
static void t_inner_mf(struct pkt_spec *s) { s->i_frag = 0x2000; }
static void t_inner_off(struct pkt_spec *s) { s->i_frag = 0x0003; }
static void t_inner_v5(struct pkt_spec *s) { s->i_version = 5; }
static void t_outer_v6(struct pkt_spec *s) { s->eth_proto = 0x86DD; }
static void t_arp(struct pkt_spec *s) { s->eth_proto = 0x0806; }
static void t_other_port(struct pkt_spec *s) { s->o_dport = 5684; }
static void t_other_addr(struct pkt_spec *s) { s->o_dst = ip4("198.18.0.9"); }
static void t_tcp(struct pkt_spec *s) { s->o_proto = 6; }
static void t_runt(struct pkt_spec *s) { s->truncate = 14 + 6; }
static void t_no_neigh(struct pkt_spec *s) { s->i_dst = ip4("198.18.1.3"); }
static void t_blackhole(struct pkt_spec *s) { s->i_dst = ip4("198.18.200.7"); }
static void t_unrouted(struct pkt_spec *s) { s->i_dst = ip4("198.19.77.7"); }
static void t_local(struct pkt_spec *s) { s->i_dst = ip4("198.18.1.1"); }
static void t_ttl1(struct pkt_spec *s) { s->i_ttl = 1; }
static void t_hairpin(struct pkt_spec *s) { s->i_dst = ip4("198.18.0.5"); }
static void t_hairpin_noneigh(struct pkt_spec *s) { s->i_dst = ip4("198.18.0.6"); }
/* the reverse firewall ( 198.18.0.7 is another proxy,
 * 198.18.1.128/25 is management-only, 198.18.5.0/24 is 198.18.0.2's: h_guard) */
static void t_forged_src(struct pkt_spec *s) { s->i_src = ip4("198.18.0.3"); }
static void t_registered_src(struct pkt_spec *s) { s->i_src = ip4("198.18.5.77"); }
static void t_others_prefix(struct pkt_spec *s) { s->o_src = ip4("198.18.0.3"); s->i_src = ip4("198.18.5.77"); }
static void t_nested(struct pkt_spec *s) { s->i_dst = ip4("198.18.0.7"); s->i_dport = 5683; }
static void t_nested_self(struct pkt_spec *s) { s->i_dst = ip4("198.18.0.1"); s->i_dport = 5683; }
static void t_to_proxy(struct pkt_spec *s) { s->i_dst = ip4("198.18.0.7"); }
static void t_to_mgmt(struct pkt_spec *s) { s->i_dst = ip4("198.18.1.200"); }
/* inner IPv6 (docs/protocol.md, "Inner IPv6"): by default 2001:db8::c612:2
 * (198.18.0.2 under device_embed6 2001:db8::/96) to 2001:db8::c612:102 */
static void ext(struct pkt_spec *s, int n, const uint8_t *types)
{
	int k;

	s->n_ext = n;
	for (k = 0; k < n; k++)
		s->ext[k] = types[k];
}
static void t6(struct pkt_spec *s) { s->i6 = 1; }
static void t6_exts(struct pkt_spec *s) { t6(s); ext(s, 3, (const uint8_t[]){ 0, 60, 43 }); s->ext_len[1] = 2; }
static void t6_exts4(struct pkt_spec *s) { t6(s); ext(s, 4, (const uint8_t[]){ 0, 60, 43, 60 }); }
static void t6_exts5(struct pkt_spec *s) { t6(s); ext(s, 5, (const uint8_t[]){ 0, 60, 43, 60, 60 }); }
static void t6_frag(struct pkt_spec *s) { t6(s); ext(s, 1, (const uint8_t[]){ 44 }); }
static void t6_frag2(struct pkt_spec *s) { t6(s); ext(s, 2, (const uint8_t[]){ 0, 44 }); }
static void t6_ah(struct pkt_spec *s) { t6(s); ext(s, 1, (const uint8_t[]){ 51 }); }
static void t6_esp(struct pkt_spec *s) { t6(s); s->l4 = 50; }
static void t6_hop_late(struct pkt_spec *s) { t6(s); ext(s, 2, (const uint8_t[]){ 60, 0 }); }
static void t6_ext_beyond(struct pkt_spec *s) { t6(s); ext(s, 1, (const uint8_t[]){ 60 }); s->ext_len[0] = 1; s->payload = 0; s->l4 = 59; s->truncate = 14 + 20 + 8 + 4 + 40 + 8; s->udp_len_delta = -16; s->x_len_delta = -16; s->i_totlen_delta = -16; }
static void t6_icmp(struct pkt_spec *s) { t6(s); s->l4 = 58; s->icmp_type = 128; }
static void t6_nonext(struct pkt_spec *s) { t6(s); s->l4 = 59; s->payload = 0; }
static void t6_truncated(struct pkt_spec *s) { t6(s); s->payload = 0; s->truncate = 14 + 20 + 8 + 4 + 30; s->udp_len_delta = -(8 + 18); }
static void t6_cut(struct pkt_spec *s) { t6(s); s->truncate = 14 + 20 + 8 + 4 + 44; }
static void t6_xlen_lies(struct pkt_spec *s) { t6(s); s->x_len_delta = -8; }
static void t6_plen_lies(struct pkt_spec *s) { t6(s); s->i_totlen_delta = 8; }
static void t6_plen_short(struct pkt_spec *s) { t6(s); s->i_totlen_delta = -8; }
static void t6_hlim1(struct pkt_spec *s) { t6(s); s->i_ttl = 1; }
static void t6_no_neigh(struct pkt_spec *s) { t6(s); ip6("2001:db8::c612:103", s->i6_dst); }
static void t6_blackhole(struct pkt_spec *s) { t6(s); ip6("2001:db8::c612:c807", s->i6_dst); }
static void t6_unrouted(struct pkt_spec *s) { t6(s); ip6("2001:db8:77::7", s->i6_dst); }
static void t6_local(struct pkt_spec *s) { t6(s); ip6("2001:db8::c612:101", s->i6_dst); }
static void t6_mapped_dst(struct pkt_spec *s) { t6(s); ip6("::ffff:198.18.1.2", s->i6_dst); }
static void t6_hairpin(struct pkt_spec *s) { t6(s); ip6("2001:db8::c612:5", s->i6_dst); }
static void t6_forged(struct pkt_spec *s) { t6(s); ip6("2001:db8::c612:3", s->i6_src); }
static void t6_embed_other(struct pkt_spec *s) { t6(s); s->o_src = ip4("198.18.0.3"); }
static void t6_mapped_src(struct pkt_spec *s) { t6(s); ip6("::ffff:198.18.0.2", s->i6_src); }
static void t6_registered(struct pkt_spec *s) { t6(s); ip6("2001:db8:5:1::9", s->i6_src); }
static void t6_others_prefix(struct pkt_spec *s) { t6_registered(s); s->o_src = ip4("198.18.0.3"); }
static void t6_to_proxy(struct pkt_spec *s) { t6(s); ip6("2001:db8::c612:7", s->i6_dst); }
static void t6_nested(struct pkt_spec *s) { t6_to_proxy(s); s->i_dport = 5683; }
static void t6_nested_ext(struct pkt_spec *s) { t6_nested(s); ext(s, 1, (const uint8_t[]){ 60 }); }
static void t6_to_mgmt(struct pkt_spec *s) { t6(s); ip6("2001:db8::c612:1ff", s->i6_dst); }
static void t6_mgmt_edge(struct pkt_spec *s) { t6(s); ip6("2001:db8::c612:17f", s->i6_dst); }
/* outer IPv6 frames: neighbour discovery and the rest */
static void o6(struct pkt_spec *s, uint8_t l4, uint8_t type) { t6(s); s->no_outer = 1; s->l4 = l4; s->icmp_type = type; }
static void t_ns(struct pkt_spec *s) { o6(s, 58, 135); }
static void t_rs(struct pkt_spec *s) { o6(s, 58, 133); }
static void t_redirect6(struct pkt_spec *s) { o6(s, 58, 137); }
static void t_echo6(struct pkt_spec *s) { o6(s, 58, 128); }
static void t_mld(struct pkt_spec *s) { o6(s, 58, 143); }
static void t_udp6(struct pkt_spec *s) { o6(s, 17, 0); }
static void t_ns_behind_ext(struct pkt_spec *s) { o6(s, 58, 135); ext(s, 1, (const uint8_t[]){ 60 }); }
static void t_vlan(struct pkt_spec *s) { s->eth_proto = 0x8100; }
static void t_qinq(struct pkt_spec *s) { s->eth_proto = 0x88A8; }
static void t_pppoe(struct pkt_spec *s) { s->eth_proto = 0x8864; }
static void t_pppoe_disc(struct pkt_spec *s) { s->eth_proto = 0x8863; }

static const struct fixture tunnel_fixtures[] = {
	{ "valid tunnel packet is forwarded (redirect)", t_none, XDP_REDIRECT, XPRO_C_PASS_REDIRECT },
	{ "truncated: UDP payload shorter than X-Pro + inner header", t_truncated, XDP_DROP, XPRO_C_DROP_TRUNCATED },
	{ "truncated: UDP length below the headers", t_short_udp, XDP_DROP, XPRO_C_DROP_TRUNCATED },
	{ "cut frame: UDP length beyond the frame", t_cut_frame, XDP_DROP, XPRO_C_DROP_BAD_LEN },
	{ "wrong magic", t_magic, XDP_DROP, XPRO_C_DROP_BAD_VERSION },
	{ "wrong version", t_version, XDP_DROP, XPRO_C_DROP_BAD_VERSION },
	{ "inner length lies (short)", t_xlen_lies, XDP_DROP, XPRO_C_DROP_BAD_LEN },
	{ "inner length lies (beyond the packet)", t_xlen_long, XDP_DROP, XPRO_C_DROP_BAD_LEN },
	{ "UDP length beyond the frame", t_udp_long, XDP_DROP, XPRO_C_DROP_BAD_LEN },
	{ "inner tot_len disagrees with the X-Pro length", t_totlen_lies, XDP_DROP, XPRO_C_DROP_BAD_LEN },
	{ "inner IHL below 5", t_ihl_small, XDP_DROP, XPRO_C_DROP_INNER_BOUNDS },
	{ "inner header beyond the packet", t_ihl_beyond, XDP_DROP, XPRO_C_DROP_INNER_BOUNDS },
	{ "outer fragment (MF)", t_outer_mf, XDP_DROP, XPRO_C_DROP_OUTER_FRAG },
	{ "outer fragment (offset)", t_outer_off, XDP_DROP, XPRO_C_DROP_OUTER_FRAG },
	{ "inner fragment (MF)", t_inner_mf, XDP_DROP, XPRO_C_DROP_INNER_FRAG },
	{ "inner fragment (offset)", t_inner_off, XDP_DROP, XPRO_C_DROP_INNER_FRAG },
	{ "inner version 5", t_inner_v5, XDP_DROP, XPRO_C_DROP_NOT_IPV4 },
	{ "outer IPv6 dropped (ipv6 = drop)", t_outer_v6, XDP_DROP, XPRO_C_DROP_IPV6 },
	{ "ARP goes to the kernel untouched", t_arp, XDP_PASS, XPRO_C_NOT_TUNNEL },
	{ "UDP to another port goes to the kernel", t_other_port, XDP_PASS, XPRO_C_NOT_TUNNEL },
	{ "UDP to another address goes to the kernel", t_other_addr, XDP_PASS, XPRO_C_NOT_TUNNEL },
	{ "TCP to the proxy goes to the kernel", t_tcp, XDP_PASS, XPRO_C_NOT_TUNNEL },
	{ "frame too short for IPv4 goes to the kernel", t_runt, XDP_PASS, XPRO_C_NOT_TUNNEL },
	{ "no neighbour: decapsulated, to the kernel", t_no_neigh, XDP_PASS, XPRO_C_PASS_KERNEL },
	{ "blackhole route: dropped", t_blackhole, XDP_DROP, XPRO_C_DROP_FIB },
	{ "no route: dropped", t_unrouted, XDP_DROP, XPRO_C_DROP_FIB },
	{ "inner destination is the proxy: dropped", t_local, XDP_DROP, XPRO_C_DROP_FIB },
	{ "inner TTL 1: decapsulated, to the kernel", t_ttl1, XDP_PASS, XPRO_C_PASS_KERNEL },
	{ "destination behind the ingress: no hairpin, dropped", t_hairpin, XDP_DROP, XPRO_C_DROP_HAIRPIN },
	{ "behind the ingress, no neighbour: no hairpin via the kernel", t_hairpin_noneigh, XDP_DROP, XPRO_C_DROP_HAIRPIN },
	{ "forged inner source: dropped", t_forged_src, XDP_DROP, XPRO_C_DROP_SPOOFED },
	{ "inner source in a prefix registered for the device: forwarded", t_registered_src, XDP_REDIRECT, XPRO_C_PASS_REDIRECT },
	{ "inner source in another device's prefix: dropped", t_others_prefix, XDP_DROP, XPRO_C_DROP_SPOOFED },
	{ "nested tunnel to another proxy: dropped", t_nested, XDP_DROP, XPRO_C_DROP_NESTED },
	{ "nested tunnel to this proxy: dropped", t_nested_self, XDP_DROP, XPRO_C_DROP_NESTED },
	{ "inner destination is another proxy: dropped", t_to_proxy, XDP_DROP, XPRO_C_DROP_TO_PROXY },
	{ "inner destination in a management prefix: dropped", t_to_mgmt, XDP_DROP, XPRO_C_DROP_TO_MGMT },
	{ "VLAN frame in tunnel mode goes to the kernel", t_vlan, XDP_PASS, XPRO_C_NOT_TUNNEL },
	/* inner IPv6 */
	{ "inner IPv6 from the device's device_embed6 address: forwarded (redirect)", t6, XDP_REDIRECT, XPRO_C_PASS_REDIRECT },
	{ "inner IPv6: hop-by-hop, destination options (24 bytes), routing skipped: forwarded", t6_exts, XDP_REDIRECT, XPRO_C_PASS_REDIRECT },
	{ "inner IPv6: 4 extension headers (the walk's bound): forwarded", t6_exts4, XDP_REDIRECT, XPRO_C_PASS_REDIRECT },
	{ "inner IPv6: 5 extension headers (beyond the bound): exthdr", t6_exts5, XDP_DROP, XPRO_C_DROP_EXTHDR },
	{ "inner IPv6: fragment header: inner_frag", t6_frag, XDP_DROP, XPRO_C_DROP_INNER_FRAG },
	{ "inner IPv6: fragment header after hop-by-hop: inner_frag", t6_frag2, XDP_DROP, XPRO_C_DROP_INNER_FRAG },
	{ "inner IPv6: authentication header (unknown to the walk): exthdr", t6_ah, XDP_DROP, XPRO_C_DROP_EXTHDR },
	{ "inner IPv6: ESP: exthdr", t6_esp, XDP_DROP, XPRO_C_DROP_EXTHDR },
	{ "inner IPv6: hop-by-hop not first: exthdr", t6_hop_late, XDP_DROP, XPRO_C_DROP_EXTHDR },
	{ "inner IPv6: extension header longer than the packet", t6_ext_beyond, XDP_DROP, XPRO_C_DROP_INNER_BOUNDS },
	{ "inner IPv6: ICMPv6 echo: forwarded", t6_icmp, XDP_REDIRECT, XPRO_C_PASS_REDIRECT },
	{ "inner IPv6: no next header: forwarded", t6_nonext, XDP_REDIRECT, XPRO_C_PASS_REDIRECT },
	{ "inner IPv6: UDP payload shorter than an IPv6 header: truncated", t6_truncated, XDP_DROP, XPRO_C_DROP_TRUNCATED },
	{ "inner IPv6: frame cut inside the inner header", t6_cut, XDP_DROP, XPRO_C_DROP_BAD_LEN },
	{ "inner IPv6: X-Pro inner length lies", t6_xlen_lies, XDP_DROP, XPRO_C_DROP_BAD_LEN },
	{ "inner IPv6: payload length beyond the packet", t6_plen_lies, XDP_DROP, XPRO_C_DROP_BAD_LEN },
	{ "inner IPv6: payload length short of the packet", t6_plen_short, XDP_DROP, XPRO_C_DROP_BAD_LEN },
	{ "inner IPv6: hop limit 1: decapsulated, to the kernel", t6_hlim1, XDP_PASS, XPRO_C_PASS_KERNEL },
	{ "inner IPv6: no neighbour: decapsulated, to the kernel", t6_no_neigh, XDP_PASS, XPRO_C_PASS_KERNEL },
	{ "inner IPv6: blackhole route: dropped", t6_blackhole, XDP_DROP, XPRO_C_DROP_FIB },
	{ "inner IPv6: no route: dropped", t6_unrouted, XDP_DROP, XPRO_C_DROP_FIB },
	{ "inner IPv6: destination is the proxy: dropped", t6_local, XDP_DROP, XPRO_C_DROP_FIB },
	{ "inner IPv6: v4-mapped destination (no IPv6 route): dropped", t6_mapped_dst, XDP_DROP, XPRO_C_DROP_FIB },
	{ "inner IPv6: behind the ingress: no hairpin", t6_hairpin, XDP_DROP, XPRO_C_DROP_HAIRPIN },
	{ "inner IPv6: forged source (another device's embedded address)", t6_forged, XDP_DROP, XPRO_C_DROP_SPOOFED },
	{ "inner IPv6: 198.18.0.3 sending from 198.18.0.2's embedded address", t6_embed_other, XDP_DROP, XPRO_C_DROP_SPOOFED },
	{ "inner IPv6: v4-mapped source: spoofed", t6_mapped_src, XDP_DROP, XPRO_C_DROP_SPOOFED },
	{ "inner IPv6: source in an IPv6 prefix registered for the device: forwarded", t6_registered, XDP_REDIRECT, XPRO_C_PASS_REDIRECT },
	{ "inner IPv6: source in another device's IPv6 prefix", t6_others_prefix, XDP_DROP, XPRO_C_DROP_SPOOFED },
	{ "inner IPv6: destination is another proxy", t6_to_proxy, XDP_DROP, XPRO_C_DROP_TO_PROXY },
	{ "inner IPv6: nested tunnel to a proxy's IPv6 address", t6_nested, XDP_DROP, XPRO_C_DROP_NESTED },
	{ "inner IPv6: nested tunnel behind destination options", t6_nested_ext, XDP_DROP, XPRO_C_DROP_NESTED },
	{ "inner IPv6: destination in a management prefix (/121)", t6_to_mgmt, XDP_DROP, XPRO_C_DROP_TO_MGMT },
	{ "inner IPv6: just below the management prefix: forwarded", t6_mgmt_edge, XDP_PASS, XPRO_C_PASS_KERNEL },
	/* outer IPv6 */
	{ "outer IPv6 neighbour solicitation goes to the kernel", t_ns, XDP_PASS, XPRO_C_NOT_TUNNEL },
	{ "outer IPv6 router solicitation goes to the kernel", t_rs, XDP_PASS, XPRO_C_NOT_TUNNEL },
	{ "outer IPv6 redirect (137) goes to the kernel", t_redirect6, XDP_PASS, XPRO_C_NOT_TUNNEL },
	{ "outer ICMPv6 echo dropped (ipv6 = drop)", t_echo6, XDP_DROP, XPRO_C_DROP_IPV6 },
	{ "outer MLDv2 report (143) dropped (ipv6 = drop)", t_mld, XDP_DROP, XPRO_C_DROP_IPV6 },
	{ "outer IPv6 UDP dropped (ipv6 = drop)", t_udp6, XDP_DROP, XPRO_C_DROP_IPV6 },
	{ "outer ICMPv6 type 135 behind an extension header: not ND, dropped", t_ns_behind_ext, XDP_DROP, XPRO_C_DROP_IPV6 },
};

static const struct fixture inline_fixtures[] = {
	{ "VLAN frame: dropped", t_vlan, XDP_DROP, XPRO_C_DROP_ENCAP },
	{ "QinQ frame: dropped", t_qinq, XDP_DROP, XPRO_C_DROP_ENCAP },
	{ "PPPoE session frame: dropped", t_pppoe, XDP_DROP, XPRO_C_DROP_ENCAP },
	{ "PPPoE discovery frame: dropped", t_pppoe_disc, XDP_DROP, XPRO_C_DROP_ENCAP },
	{ "ARP goes to the kernel untouched", t_arp, XDP_PASS, XPRO_C_NOT_TUNNEL },
	{ "traffic for the proxy itself goes to the kernel", t_local, XDP_PASS, XPRO_C_NOT_TUNNEL },
	{ "destination in a management prefix: dropped", t_to_mgmt, XDP_DROP, XPRO_C_DROP_TO_MGMT },
	{ "destination is another proxy: dropped", t_to_proxy, XDP_DROP, XPRO_C_DROP_TO_PROXY },
	{ "blackhole route: dropped", t_blackhole, XDP_DROP, XPRO_C_DROP_FIB },
	{ "routed back out of the ingress: XDP_TX (a router on a stick)", t_hairpin, XDP_TX, XPRO_C_PASS_TX },
	{ "IPv6 neighbour solicitation goes to the kernel", t_ns, XDP_PASS, XPRO_C_NOT_TUNNEL },
	{ "IPv6 router solicitation goes to the kernel", t_rs, XDP_PASS, XPRO_C_NOT_TUNNEL },
	{ "routed IPv6 dropped (ipv6 = drop)", t_udp6, XDP_DROP, XPRO_C_DROP_IPV6 },
};

/* A fresh start: maps emptied and P loaded (h_reset), the default packet. */
static void fresh(struct xpro_bpf *s, struct pkt_spec *spec)
{
	h_reset(s, &P);
	pkt_defaults(spec);
}

/* P written to the config map of the loaded program: a change at run time. */
static void set_config(struct xpro_bpf *s)
{
	uint32_t k0 = 0;

	bpf_map_update_elem(bpf_map__fd(s->maps.xpro_config), &k0, &P, BPF_ANY);
}

static void run_table(struct xpro_bpf *s, const struct fixture *f, size_t n, const char *mode)
{
	struct pkt_spec spec;
	uint8_t in[512], out[512];
	size_t len, olen;
	size_t i;
	int act;

	for (i = 0; i < n; i++) {
		fresh(s, &spec);
		if (!strcmp(mode, "inline"))
			spec.no_outer = 1;
		f[i].tweak(&spec);
		len = pkt_build(&spec, in, sizeof(in));
		olen = sizeof(out);
		act = h_run(s, in, len, out, &olen);
		ok(act == f[i].action && h_counter(s, f[i].counter) == 1 && h_counter(s, XPRO_C_RX) == 1,
		   "%s: %s", mode, f[i].desc);
		if (act != f[i].action)
			tap_diag("action %d, want %d", act, f[i].action);
		/* malformed, unroutable or refused traffic creates no record */
		if (f[i].action == XDP_DROP) {
			struct xpro_record r;
			struct xpro_addr c, d;

			pkt_key(&spec, &c, &d);
			ok(!h_record6(s, &c, &d, &r) && h_counter(s, XPRO_C_RECORD_NEW) == 0,
			   "%s: %s: no record created", mode, f[i].desc);
		}
	}
}

/* Output bytes: the decapsulated inner packet with the expected Ethernet header. */
static void check_output(const char *desc, void (*tweak)(struct pkt_spec *),
			 const uint8_t *dmac, const uint8_t *smac, int ttl_dec, int want_action)
{
	struct pkt_spec spec, exp;
	uint8_t in[512], out[512], want[512];
	size_t len, olen = sizeof(out), wlen;
	int act;

	fresh(tun, &spec);
	tweak(&spec);
	len = pkt_build(&spec, in, sizeof(in));
	act = h_run(tun, in, len, out, &olen);
	exp = spec;
	exp.no_outer = 1;
	memcpy(exp.eth_dst, dmac, 6);
	memcpy(exp.eth_src, smac, 6);
	exp.i_ttl = (uint8_t)((spec.i_ttl ? spec.i_ttl : 64) - ttl_dec);
	wlen = pkt_build(&exp, want, sizeof(want));
	ok(act == want_action && olen == wlen && !memcmp(out, want, wlen),
	   "output bytes: %s", desc);
	if (olen != wlen)
		tap_diag("length %zu, want %zu", olen, wlen);
}

static void test_outputs(void)
{
	check_output("redirect: MACs from the FIB, TTL - 1, checksum fixed",
		     t_none, H_MAC_VIC, H_MAC_OUT, 1, XDP_REDIRECT);
	{
		static const uint8_t d[6] = { 0x02, 0, 0, 0, 0, 0x01 }, s[6] = { 0x02, 0, 0, 0, 0, 0xd0 };

		check_output("no neighbour: original Ethernet header, inner untouched",
			     t_no_neigh, d, s, 0, XDP_PASS);
		check_output("TTL 1: original Ethernet header, inner untouched", t_ttl1, d, s, 0, XDP_PASS);
		check_output("inner IPv6 hop limit 1: original Ethernet header (EtherType 0x86DD), inner untouched",
			     t6_hlim1, d, s, 0, XDP_PASS);
		check_output("inner IPv6, no neighbour: original Ethernet header (0x86DD), inner untouched",
			     t6_no_neigh, d, s, 0, XDP_PASS);
	}
	check_output("inner IPv6 redirect: MACs from the FIB, EtherType 0x86DD, hop limit - 1",
		     t6, H_MAC_VIC, H_MAC_OUT, 1, XDP_REDIRECT);
	check_output("inner IPv6 with three extension headers: forwarded with them, hop limit - 1",
		     t6_exts, H_MAC_VIC, H_MAC_OUT, 1, XDP_REDIRECT);
}

static int send_one(struct xpro_bpf *s, struct pkt_spec *spec, uint64_t now)
{
	uint8_t in[512];
	size_t len = pkt_build(spec, in, sizeof(in));

	s->bss->test_now = now;
	return h_run(s, in, len, NULL, NULL);
}

/*
 * Packets 0..last, one every 10 ms from t0; with clients > 0 their outer
 * sources take turns among 198.18.0.10 .. + clients - 1. Returns the index
 * of the first packet dropped, -1 if none was.
 */
static int send_train(struct xpro_bpf *s, struct pkt_spec *spec, uint64_t t0, int last, int clients)
{
	int k, first = -1;

	for (k = 0; k <= last; k++) {
		if (clients) {
			spec->o_src = htonl(ntohl(ip4("198.18.0.10")) + (uint32_t)(k % clients));
			spec->i_src = spec->o_src;
			memcpy(spec->i6_src + 12, &spec->o_src, 4); /* its device_embed6 address */
		}
		if (send_one(s, spec, t0 + (uint64_t)k * 10 * MS) == XDP_DROP && first < 0)
			first = k;
	}
	return first;
}

/*
 * TF1 = 10 pps, TT2 = 100 ms, one packet every 10 ms from one client:
 * packets 0..10 pass, 11..15 drop (tests/unit/test_decide.c by hand).
 */
static void tf1_train(struct xpro_bpf *s, struct pkt_spec *spec, const char *what)
{
	int first = send_train(s, spec, 1000000000000ULL, 15, 0);

	is_u64(first, 11, "%s TF1: first drop at packet 11", what);
	is_u64(h_counter(s, XPRO_C_DROP_TF1), 5, "%s TF1: 5 drops counted", what);
	is_u64(h_counter(s, XPRO_C_PASS_REDIRECT), 11, "%s TF1: 11 forwarded", what);
}

/* 5 clients round robin to one D at 100 pps in all, TF1 1000, TF2 50:
 * first aggregate drop at packet 21 (after TT3 = 200 ms) */
static void tf2_train(struct xpro_bpf *s, struct pkt_spec *spec, const char *what)
{
	int first;

	P.tf1 = 1000;
	h_reset(s, &P);
	first = send_train(s, spec, 1000000000000ULL, 25, 5);
	is_u64(first, 21, "%s TF2: first aggregate drop at packet 21", what);
	is_u64(h_counter(s, XPRO_C_DROP_TF2), 5, "%s TF2: packets 21..25 dropped", what);
	is_u64(h_counter(s, XPRO_C_RECORD_NEW), 5, "%s TF2: 5 records created", what);
}

/*
 * The verdicts of Algorithm 2 through the XDP program (hand-worked in
 * tests/unit/test_decide.c): TF1 = 10 pps, TT2 = 100 ms, one packet every
 * 10 ms: packets 0..10 pass, 11.. drop. Key = (outer source, inner dest).
 */
static void test_verdicts(void)
{
	struct pkt_spec spec;
	struct xpro_record r;
	struct xpro_agg a;
	uint64_t t0 = 1000000000000ULL;
	int act;

	fresh(tun, &spec);
	spec.i_src = ip4("198.18.5.9"); /* a prefix registered for it: not the key */
	tf1_train(tun, &spec, "tunnel");
	is_u64(h_counter(tun, XPRO_C_WARN_SENT), 1, "tunnel TF1: one overload warning");
	ok(h_record(tun, spec.o_src, spec.i_dst, &r), "record keyed on (outer source, inner destination)");
	is_u64(r.c_l, 16, "record counts every packet, dropped ones too");
	ok(!h_record(tun, spec.i_src, spec.i_dst, &r), "no record keyed on the inner source");
	ok(h_agg(tun, spec.i_dst, &a) && a.dc == 16, "aggregate of D counted 16 packets");

	/* TF2: 5 clients round robin to one D at 100 pps, TF1 high: first drop at 21 */
	tf2_train(tun, &spec, "tunnel");

	/* TF2 override for D: 200 pps lets all 26 through */
	{
		P.tf2_overrides = 1;
		h_reset(tun, &P);
		h_tf2(tun, spec.i_dst, 200);
		set_config(tun);
		send_train(tun, &spec, t0, 25, 5);
		is_u64(h_counter(tun, XPRO_C_DROP_TF2), 0, "TF2 override of 200 pps: no drop");
	}
	h_params(&P); /* the defaults again: TF1 10, no overrides */

	/* run-time change: TF1 raised to 1000 in the config map, no reload */
	fresh(tun, &spec);
	P.tf1 = 1000;
	set_config(tun);
	send_train(tun, &spec, t0, 15, 0);
	is_u64(h_counter(tun, XPRO_C_DROP_TF1), 0, "TF1 changed at run time takes effect");
	h_params(&P);

	/* filter off: decapsulated, to the kernel, nothing recorded */
	P.filter = 0;
	fresh(tun, &spec);
	act = send_one(tun, &spec, t0);
	ok(act == XDP_PASS && h_counter(tun, XPRO_C_PASS_NOFILTER) == 1 && !h_record(tun, spec.o_src, spec.i_dst, &r),
	   "filter off: decapsulate and pass, no record");
	h_params(&P);

	/* ipv6 = kernel: outer IPv6 to the kernel */
	P.ipv6 = XPRO_IPV6_KERNEL;
	fresh(tun, &spec);
	spec.eth_proto = 0x86DD;
	act = send_one(tun, &spec, t0);
	ok(act == XDP_PASS && h_counter(tun, XPRO_C_NOT_TUNNEL) == 1, "ipv6 = kernel: outer IPv6 to the kernel");
	h_params(&P);
}

/*
 * The same verdicts for an inner IPv6 pair (TF1 = 10 pps, TT2 = 100 ms, one
 * packet every 10 ms: packets 0..10 pass, 11.. drop; 5 clients at 100 pps
 * in all against TF2 = 50: first drop at 21), keyed (v4-mapped outer
 * source, inner IPv6 destination); an IPv4 and an IPv6 destination of one
 * host are two pairs.
 */
static void test_verdicts6(void)
{
	struct pkt_spec spec;
	struct xpro_record r;
	struct xpro_agg a;
	struct xpro_addr c, d;
	uint64_t t0 = 1000000000000ULL;
	int act;

	fresh(tun, &spec);
	t6(&spec);
	tf1_train(tun, &spec, "inner IPv6");
	pkt_key(&spec, &c, &d);
	ok(h_record6(tun, &c, &d, &r) && r.c_l == 16, "inner IPv6: record (::ffff:198.18.0.2, 2001:db8::c612:102) counted 16");
	ok(h_agg6(tun, &d, &a) && a.dc == 16, "inner IPv6: aggregate of 2001:db8::c612:102 counted 16");
	ok(!h_record(tun, spec.o_src, ip4("198.18.1.2"), &r), "inner IPv6: no record under the host's IPv4 address");
	/* the host's IPv4 address is another destination: a fresh pair */
	spec.i6 = 0;
	act = send_one(tun, &spec, t0 + 160 * MS);
	ok(act == XDP_REDIRECT && h_record(tun, spec.o_src, spec.i_dst, &r) && r.c_l == 1,
	   "inner IPv4 to the same host after the IPv6 drops: its own pair, forwarded");

	t6(&spec);
	tf2_train(tun, &spec, "inner IPv6");
	h_params(&P);

	/* filter off: decapsulated with EtherType 0x86DD, to the kernel */
	P.filter = 0;
	fresh(tun, &spec);
	t6(&spec);
	{
		uint8_t in[512], out[512], want[512];
		size_t len = pkt_build(&spec, in, sizeof(in)), olen = sizeof(out), wlen;

		act = h_run(tun, in, len, out, &olen);
		spec.no_outer = 1;
		wlen = pkt_build(&spec, want, sizeof(want));
		ok(act == XDP_PASS && h_counter(tun, XPRO_C_PASS_NOFILTER) == 1 && olen == wlen &&
		   !memcmp(out, want, wlen) && h_counter(tun, XPRO_C_RECORD_NEW) == 0,
		   "inner IPv6, filter off: decapsulated (0x86DD, inner untouched), to the kernel, no record");
	}
	h_params(&P);

	/* device_embed6 = none: the embedded address is not the device's; a
	 * registered IPv6 prefix still is */
	{
		struct xpro_bpf *none;

		h_embed6 = 0;
		none = h_load(0);
		h_embed6 = 1;
		if (ok(none && !h_guard(none), "an object with device_embed6 = none loads")) {
			fresh(none, &spec);
			t6(&spec);
			act = send_one(none, &spec, t0);
			ok(act == XDP_DROP && h_counter(none, XPRO_C_DROP_SPOOFED) == 1,
			   "device_embed6 = none: 2001:db8::c612:2 from 198.18.0.2 is spoofed");
			t6_registered(&spec);
			act = send_one(none, &spec, t0);
			ok(act == XDP_REDIRECT, "device_embed6 = none: a registered IPv6 prefix still passes");
		}
		if (none)
			xpro_bpf__destroy(none);
	}

	/* ipv6 = kernel: outer IPv6 to the kernel; inner IPv6 still forwarded */
	P.ipv6 = XPRO_IPV6_KERNEL;
	fresh(tun, &spec);
	t_udp6(&spec);
	act = send_one(tun, &spec, t0);
	ok(act == XDP_PASS && h_counter(tun, XPRO_C_NOT_TUNNEL) == 1, "ipv6 = kernel: outer IPv6 UDP to the kernel");
	pkt_defaults(&spec);
	t6(&spec);
	act = send_one(tun, &spec, t0);
	ok(act == XDP_REDIRECT, "ipv6 = kernel: inner IPv6 forwarded all the same");
	h_params(&P);
}

/* One routed frame through the inline object: redirected with the FIB's
 * MACs and TTL (hop limit) - 1, the output bytes built anew; spec is left
 * as sent. */
static int routed_ok(struct pkt_spec *spec)
{
	uint8_t in[512], out[512], want[512];
	size_t len = pkt_build(spec, in, sizeof(in)), olen = sizeof(out), wlen;
	struct pkt_spec exp = *spec;
	int act = h_run(inl, in, len, out, &olen);

	exp.i_ttl = 63;
	memcpy(exp.eth_dst, H_MAC_VIC, 6);
	memcpy(exp.eth_src, H_MAC_OUT, 6);
	wlen = pkt_build(&exp, want, sizeof(want));
	return act == XDP_REDIRECT && olen == wlen && !memcmp(out, want, wlen);
}

static void test_inline(void)
{
	struct pkt_spec spec;
	struct xpro_record r;
	uint8_t in[512];
	size_t len;
	uint64_t t0 = 1000000000000ULL;
	int act, first;

	fresh(inl, &spec);
	spec.no_outer = 1;
	ok(routed_ok(&spec), "inline: routed packet redirected with FIB MACs and TTL - 1");
	ok(h_record(inl, spec.i_src, spec.i_dst, &r) && r.c_l == 1, "inline: record keyed on (source, destination)");

	h_reset(inl, &P);
	spec.i_dst = ip4("198.18.0.1");
	len = pkt_build(&spec, in, sizeof(in));
	act = h_run(inl, in, len, NULL, NULL);
	ok(act == XDP_PASS && h_counter(inl, XPRO_C_NOT_TUNNEL) == 1 && !h_record(inl, spec.i_src, spec.i_dst, &r),
	   "inline: traffic for the proxy itself goes to the kernel untouched");

	fresh(inl, &spec);
	spec.no_outer = 1;
	first = send_train(inl, &spec, t0, 15, 0);
	is_u64(first, 11, "inline TF1: first drop at packet 11");
}

/*
 * Inline mode, ipv6 = filter: routed IPv6 through Algorithm 2, key
 * (source, destination), as IPv4 (TF1 = 10 pps, one packet every 10 ms:
 * first drop at packet 11); what is not routed on stays the kernel's.
 */
static void t6_ll_src(struct pkt_spec *s) { o6(s, 17, 0); ip6("fe80::2", s->i6_src); }
static void t6_mcast(struct pkt_spec *s) { o6(s, 17, 0); ip6("ff02::1", s->i6_dst); }
static void t6_inl_local(struct pkt_spec *s) { o6(s, 17, 0); ip6("2001:db8::c612:101", s->i6_dst); }
static void t6_inl_mgmt(struct pkt_spec *s) { o6(s, 17, 0); ip6("2001:db8::c612:1ff", s->i6_dst); }
static void t6_inl_proxy(struct pkt_spec *s) { o6(s, 17, 0); ip6("2001:db8::c612:7", s->i6_dst); }
static void t6_inl_blackhole(struct pkt_spec *s) { o6(s, 17, 0); ip6("2001:db8::c612:c807", s->i6_dst); }
static void t6_inl_hairpin(struct pkt_spec *s) { o6(s, 17, 0); ip6("2001:db8::c612:5", s->i6_dst); }
static void t6_inl_hlim1(struct pkt_spec *s) { o6(s, 17, 0); s->i_ttl = 1; }

static const struct fixture inline6_fixtures[] = {
	{ "routed IPv6 forwarded (redirect)", t_udp6, XDP_REDIRECT, XPRO_C_PASS_REDIRECT },
	{ "IPv6 neighbour solicitation goes to the kernel", t_ns, XDP_PASS, XPRO_C_NOT_TUNNEL },
	{ "link-local source goes to the kernel", t6_ll_src, XDP_PASS, XPRO_C_NOT_TUNNEL },
	{ "multicast destination goes to the kernel", t6_mcast, XDP_PASS, XPRO_C_NOT_TUNNEL },
	{ "IPv6 for the proxy itself goes to the kernel", t6_inl_local, XDP_PASS, XPRO_C_NOT_TUNNEL },
	{ "IPv6 destination in a management prefix: dropped", t6_inl_mgmt, XDP_DROP, XPRO_C_DROP_TO_MGMT },
	{ "IPv6 destination is a proxy: dropped", t6_inl_proxy, XDP_DROP, XPRO_C_DROP_TO_PROXY },
	{ "IPv6 blackhole route: dropped", t6_inl_blackhole, XDP_DROP, XPRO_C_DROP_FIB },
	{ "IPv6 routed back out of the ingress: XDP_TX", t6_inl_hairpin, XDP_TX, XPRO_C_PASS_TX },
	{ "IPv6 hop limit 1: to the kernel", t6_inl_hlim1, XDP_PASS, XPRO_C_PASS_KERNEL },
};

static void test_inline6(void)
{
	struct pkt_spec spec;
	struct xpro_record r;
	struct xpro_addr c, d;
	int act;

	P.ipv6 = XPRO_IPV6_FILTER;
	run_table(inl, inline6_fixtures, sizeof(inline6_fixtures) / sizeof(inline6_fixtures[0]), "inline, ipv6 = filter");
	fresh(inl, &spec);
	t_udp6(&spec);
	ok(routed_ok(&spec), "inline IPv6: redirected with the FIB's MACs and hop limit - 1");
	pkt_key(&spec, &c, &d);
	ok(h_record6(inl, &c, &d, &r) && r.c_l == 1, "inline IPv6: record keyed (2001:db8::c612:2, 2001:db8::c612:102)");
	fresh(inl, &spec);
	t_udp6(&spec);
	tf1_train(inl, &spec, "inline IPv6");
	P.filter = 0;
	fresh(inl, &spec);
	t_udp6(&spec);
	act = send_one(inl, &spec, 1000000000000ULL);
	ok(act == XDP_PASS && h_counter(inl, XPRO_C_PASS_NOFILTER) == 1 && h_counter(inl, XPRO_C_RECORD_NEW) == 0,
	   "inline IPv6, filter off: to the kernel, no record");
	h_params(&P);
	P.ipv6 = XPRO_IPV6_FILTER;
	fresh(tun, &spec);
	t_udp6(&spec);
	act = send_one(tun, &spec, 1000000000000ULL);
	ok(act == XDP_DROP && h_counter(tun, XPRO_C_DROP_IPV6) == 1, "tunnel mode, ipv6 = filter: outer IPv6 dropped as with drop");
	h_params(&P);
}

/*
 * Client identity (docs/protocol.md): 198.18.0.2 holds H_KEY_A (index 0)
 * and 198.18.0.3 H_KEY_B (index 1) (h_keys); other clients hold none. One
 * version-2 packet from client (its own inner source) with sequence number
 * seq, naming key index idx, signed with key, its MAC's bits flipped by
 * mac_xor; one byte of the inner destination changed after signing when
 * tamper is set.
 */
static int v6_next; /* send_v2i: an inner IPv6 packet, its source the client's device_embed6 address */

static int send_v2i(struct xpro_bpf *s, const char *client, uint32_t seq, uint32_t idx, const uint64_t *key,
		    uint64_t mac_xor, int tamper)
{
	struct pkt_spec spec;
	uint8_t in[512];
	size_t len;

	pkt_defaults(&spec);
	spec.o_src = spec.i_src = ip4(client);
	if (v6_next) {
		spec.i6 = 1;
		memcpy(spec.i6_src + 12, &spec.o_src, 4);
	}
	spec.v2 = 1;
	spec.x_seq = seq;
	spec.x_key_index = idx;
	spec.x_k0 = key[0];
	spec.x_k1 = key[1];
	spec.x_mac_xor = mac_xor;
	len = pkt_build(&spec, in, sizeof(in));
	if (tamper) /* 198.18.1.2 -> 198.18.1.3; 2001:db8::c612:102 -> :103; (2) the IPv6 source */
		in[pkt_inner_off(&spec) + (tamper == 2 ? 8 : spec.i6 ? 39 : 19)] ^= 1;
	return h_run(s, in, len, NULL, NULL);
}

/* The same with the index of the key used. */
static int send_v2(struct xpro_bpf *s, const char *client, uint32_t seq, const uint64_t *key,
		   uint64_t mac_xor, int tamper)
{
	return send_v2i(s, client, seq, key == H_KEY_B, key, mac_xor, tamper);
}

/* Counter idx is n and no record was created. */
static int only(struct xpro_bpf *s, unsigned int idx, uint64_t n)
{
	return h_counter(s, idx) == n && h_counter(s, XPRO_C_RECORD_NEW) == 0;
}

static void test_identity(void)
{
	struct xpro_bpf *refuse;
	struct pkt_spec spec;
	uint8_t in[512];
	size_t len;
	int act, a2;

	h_reset(tun, &P);
	ok(!h_keys(tun), "identity: keys of two devices written");
	act = send_v2(tun, "198.18.0.2", 1, H_KEY_A, 0, 0);
	ok(act == XDP_REDIRECT && h_counter(tun, XPRO_C_PASS_REDIRECT) == 1 && h_counter(tun, XPRO_C_RECORD_NEW) == 1,
	   "identity: version 2 with the device's key: forwarded, one record");
	act = send_v2(tun, "198.18.0.3", 1, H_KEY_B, 0, 0);
	ok(act == XDP_REDIRECT, "identity: the other device with its own key: forwarded");

	h_reset(tun, &P);
	h_keys(tun);
	act = send_v2(tun, "198.18.0.2", 1, H_KEY_A, 1, 0);
	ok(act == XDP_DROP && only(tun, XPRO_C_DROP_BAD_MAC, 1), "identity: bad MAC: dropped, no record");
	act = send_v2i(tun, "198.18.0.2", 2, 0, H_KEY_B, 0, 0);
	ok(act == XDP_DROP && only(tun, XPRO_C_DROP_BAD_MAC, 2), "identity: signed with another device's key: dropped, no record");
	act = send_v2i(tun, "198.18.0.2", 2, 1, H_KEY_B, 0, 0);
	ok(act == XDP_DROP && only(tun, XPRO_C_DROP_NO_KEY, 1),
	   "identity: another device's key and key index (claiming its key): dropped, no record");
	act = send_v2(tun, "198.18.0.2", 3, H_KEY_A, 0, 1);
	ok(act == XDP_DROP && only(tun, XPRO_C_DROP_BAD_MAC, 3), "identity: inner destination changed after signing: dropped");
	act = send_v2(tun, "198.18.0.4", 1, H_KEY_A, 0, 0);
	ok(act == XDP_DROP && only(tun, XPRO_C_DROP_NO_KEY, 2), "identity: version 2 from a client without a key: dropped");
	/* the forged packets above moved no window: sequence 1 is still new */
	act = send_v2(tun, "198.18.0.2", 1, H_KEY_A, 0, 0);
	ok(act == XDP_REDIRECT, "identity: forged packets did not move the device's replay window");

	/* replay window of 32: hand-worked */
	h_reset(tun, &P);
	h_keys(tun);
	act = send_v2(tun, "198.18.0.2", 7, H_KEY_A, 0, 0);
	a2 = send_v2(tun, "198.18.0.2", 7, H_KEY_A, 0, 0);
	ok(act == XDP_REDIRECT && a2 == XDP_DROP && h_counter(tun, XPRO_C_DROP_REPLAY) == 1,
	   "identity: a replayed packet (same sequence number) is dropped");
	ok(send_v2(tun, "198.18.0.2", 100, H_KEY_A, 0, 0) == XDP_REDIRECT, "identity: sequence 100 after 7: forwarded");
	ok(send_v2(tun, "198.18.0.2", 70, H_KEY_A, 0, 0) == XDP_REDIRECT, "identity: 70, late but inside the window (100 - 70 < 32): forwarded");
	ok(send_v2(tun, "198.18.0.2", 70, H_KEY_A, 0, 0) == XDP_DROP, "identity: 70 again: replay");
	ok(send_v2(tun, "198.18.0.2", 68, H_KEY_A, 0, 0) == XDP_DROP, "identity: 68, behind the window (100 - 68 = 32): dropped");
	ok(send_v2(tun, "198.18.0.2", 0, H_KEY_A, 0, 0) == XDP_DROP, "identity: sequence 0 is never valid");
	ok(send_v2(tun, "198.18.0.2", 101, H_KEY_A, 0, 0) == XDP_REDIRECT, "identity: 101: forwarded");
	is_u64(h_counter(tun, XPRO_C_DROP_REPLAY), 4, "identity: 4 replays counted");

	/* version 2 over an inner IPv6 packet: the 48-byte message */
	h_reset(tun, &P);
	h_keys(tun);
	v6_next = 1;
	act = send_v2(tun, "198.18.0.2", 1, H_KEY_A, 0, 0);
	ok(act == XDP_REDIRECT && h_counter(tun, XPRO_C_RECORD_NEW) == 1,
	   "identity, inner IPv6: version 2 with the device's key (MAC over the IPv6 addresses): forwarded");
	act = send_v2(tun, "198.18.0.2", 2, H_KEY_A, 1 << 20, 0);
	ok(act == XDP_DROP && h_counter(tun, XPRO_C_DROP_BAD_MAC) == 1 && h_counter(tun, XPRO_C_RECORD_NEW) == 1,
	   "identity, inner IPv6: bad MAC: dropped, no new record");
	act = send_v2(tun, "198.18.0.2", 3, H_KEY_A, 0, 1);
	ok(act == XDP_DROP && h_counter(tun, XPRO_C_DROP_BAD_MAC) == 2,
	   "identity, inner IPv6: destination changed after signing: dropped");
	act = send_v2(tun, "198.18.0.2", 4, H_KEY_A, 0, 2);
	ok(act == XDP_DROP && h_counter(tun, XPRO_C_DROP_BAD_MAC) == 3,
	   "identity, inner IPv6: source changed after signing: dropped");
	act = send_v2i(tun, "198.18.0.3", 1, 1, H_KEY_A, 0, 0);
	ok(act == XDP_DROP && h_counter(tun, XPRO_C_DROP_BAD_MAC) == 4,
	   "identity, inner IPv6: its own key index, signed with another device's key: dropped");
	act = send_v2(tun, "198.18.0.2", 1, H_KEY_A, 0, 0);
	ok(act == XDP_DROP && h_counter(tun, XPRO_C_DROP_REPLAY) == 1, "identity, inner IPv6: replayed: dropped");
	v6_next = 0;
	act = send_v2(tun, "198.18.0.2", 1, H_KEY_A, 0, 0);
	ok(act == XDP_DROP && h_counter(tun, XPRO_C_DROP_REPLAY) == 2,
	   "identity: one replay window per device: IPv4 with sequence 1 after IPv6's is a replay");
	ok(send_v2(tun, "198.18.0.2", 2, H_KEY_A, 0, 0) == XDP_REDIRECT, "identity: then IPv4 with sequence 2: forwarded");

	/* the old version */
	h_reset(tun, &P);
	h_keys(tun);
	pkt_defaults(&spec);
	len = pkt_build(&spec, in, sizeof(in));
	act = h_run(tun, in, len, NULL, NULL);
	ok(act == XDP_DROP && only(tun, XPRO_C_DROP_V1, 1), "identity: version 1 from a device with a key (a downgrade): dropped");
	spec.o_src = spec.i_src = ip4("198.18.0.4");
	len = pkt_build(&spec, in, sizeof(in));
	act = h_run(tun, in, len, NULL, NULL);
	ok(act == XDP_REDIRECT && h_counter(tun, XPRO_C_V1_ACCEPTED) == 1,
	   "identity: version 1 from a device without a key: accepted (tunnel_v1 = accept), counted v1_accepted");

	refuse = h_load_v1(0, 0);
	if (!ok(refuse && !h_keys(refuse), "identity: an object with tunnel_v1 = refuse loads"))
		return;
	h_reset(refuse, &P);
	act = h_run(refuse, in, len, NULL, NULL);
	ok(act == XDP_DROP && only(refuse, XPRO_C_DROP_V1, 1), "identity: tunnel_v1 = refuse: version 1 dropped");
	act = send_v2(refuse, "198.18.0.2", 1, H_KEY_A, 0, 0);
	ok(act == XDP_REDIRECT, "identity: tunnel_v1 = refuse: version 2 forwarded");
	xpro_bpf__destroy(refuse);
	/* the other tests send version 1 from 198.18.0.2: no keys again */
	h_unkey(tun);
}

/*
 * Two CPUs hammer one record at the same instant: every packet counted.
 * The packets are TF1 drops (one packet at t0, then all at t0 + 1 s with
 * TF1 = 1 pps): a drop leaves the frame as it is, so test_run's repeat
 * runs the program on the same tunnel frame every time.
 */
struct hammer {
	int cpu, fd, ifindex;
	uint8_t *pkt;
	size_t len;
	uint32_t repeat;
	int err;
};

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	cpu_set_t set;
	struct xdp_md ctx_in = { .data_end = (uint32_t)h->len, .ingress_ifindex = (uint32_t)h->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = h->pkt, .data_size_in = (uint32_t)h->len,
		    .ctx_in = &ctx_in, .ctx_size_in = sizeof(ctx_in), .repeat = h->repeat);

	CPU_ZERO(&set);
	CPU_SET(h->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	h->err = bpf_prog_test_run_opts(h->fd, &o);
	return NULL;
}

static void test_two_cpus(void)
{
	struct pkt_spec spec;
	struct xpro_record r;
	struct xpro_agg a;
	uint8_t in[512];
	struct hammer h[2];
	pthread_t th[2];
	const uint32_t N = 200000;
	int i;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		tap_skip("two CPUs hammering one record: this machine has one CPU");
		return;
	}
	P.tt1_ns = ~0ULL >> 1; /* effectively infinite */
	P.tf1 = 1;
	P.tf2 = 1ULL << 32;
	fresh(tun, &spec);
	size_t len = pkt_build(&spec, in, sizeof(in));
	send_one(tun, &spec, 1000000000000ULL);
	tun->bss->test_now = 1001000000000ULL;
	for (i = 0; i < 2; i++) {
		h[i] = (struct hammer){ i, bpf_program__fd(tun->progs.xpro_xdp), h_if_in, in, len, N, 0 };
		pthread_create(&th[i], NULL, hammer_run, &h[i]);
	}
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ok(!h[0].err && !h[1].err, "two CPUs: both test runs completed");
	ok(h_record(tun, spec.o_src, spec.i_dst, &r), "two CPUs: one record");
	is_u64(r.c_l, 1 + 2ULL * N, "two CPUs: c' counts every packet (1 + 2 x %u)", N);
	is_u64(r.dc, 1 + 2ULL * N, "two CPUs: dc counts every packet");
	is_u64(h_counter(tun, XPRO_C_DROP_TF1), 2ULL * N, "two CPUs: 2 x %u TF1 drops counted", N);
	ok(h_agg(tun, spec.i_dst, &a), "two CPUs: one aggregate");
	is_u64(a.dc, 1 + 2ULL * N, "two CPUs: aggregate counts every packet");
	h_params(&P);
}

int main(void)
{
	H_BEGIN("the BPF fixtures");
	h_params(&P);
	tun = h_load(0);
	inl = h_load(1);
	if (!ok(tun && inl, "X-Pro object loads (tunnel and inline, test clock)"))
		return tap_done();
	ok(!h_guard(tun) && !h_guard(inl), "reverse firewall prefixes written");
	run_table(tun, tunnel_fixtures, sizeof(tunnel_fixtures) / sizeof(tunnel_fixtures[0]), "tunnel");
	run_table(inl, inline_fixtures, sizeof(inline_fixtures) / sizeof(inline_fixtures[0]), "inline");
	test_outputs();
	test_verdicts();
	test_verdicts6();
	test_inline();
	test_inline6();
	test_identity();
	test_two_cpus();
	xpro_bpf__destroy(tun);
	xpro_bpf__destroy(inl);
	return tap_done();
}
