// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The per-destination route cache of the tunnel path (bpf/xpro.h, struct
 * xpro_agg; docs/config.md, fib_cache_ms), with the test clock:
 *   - a neighbour change is seen by the first packet after fib_cache_ms,
 *     and not before (the cached MAC is used within the lifetime);
 *   - a packet larger than any the cached route carried is looked up again,
 *     so a lowered MTU hands it to the kernel (never a silent oversize
 *     redirect);
 *   - fib_cache_ms = 0 looks every packet up.
 * Expected MACs are the harness's neighbour entries (tests/bpf/harness.h).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tap.h"
#include "harness.h"
#include "pkt.h"

#define MS 1000000ULL

static const uint8_t NEW_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x99 };

static int sh(const char *cmd)
{
	return system(cmd);
}

/* Send one tunnel packet to 198.18.1.2 at test time t; returns the action
 * and the output frame's destination MAC in dmac. */
static int send_at(struct xpro_bpf *s, uint64_t t, size_t payload, uint8_t dmac[6])
{
	struct pkt_spec spec;
	uint8_t frame[2048], out[2048];
	size_t len, olen = sizeof(out);
	int act;

	pkt_defaults(&spec);
	spec.o_src = ip4("198.18.0.5");
	spec.i_src = spec.o_src; /* its own source: the reverse firewall lets it through */
	spec.i_dst = ip4("198.18.1.2");
	spec.payload = payload;
	len = pkt_build(&spec, frame, sizeof(frame));
	s->bss->test_now = t;
	act = h_run(s, frame, len, out, &olen);
	memcpy(dmac, out, 6);
	return act;
}

int main(void)
{
	struct xpro_bpf *s;
	struct xpro_params p;
	uint8_t mac[6];
	uint64_t t0 = 1000000000000ULL;
	int act;

	H_BEGIN("the route cache test");
	s = h_load(0);
	if (!ok(s != NULL, "X-Pro object loads with the test clock"))
		return tap_done();

	/* 1. lifetime 10 ms: a neighbour change shows after 10 ms, not before */
	h_params(&p);
	p.tf1 = p.tf2 = 1ULL << 32;
	p.fib_cache_ms = 10;
	h_reset(s, &p);
	act = send_at(s, t0, 64, mac);
	ok(act == XDP_REDIRECT && !memcmp(mac, H_MAC_VIC, 6), "first packet: looked up, redirected to the victim's MAC");
	act = send_at(s, t0 + MS, 64, mac); /* the aggregate exists now: the cache fills */
	ok(act == XDP_REDIRECT && !memcmp(mac, H_MAC_VIC, 6), "second packet: same route");
	ok(!sh("ip neigh replace 198.18.1.2 lladdr 02:00:00:00:01:99 dev out0 nud permanent"), "neighbour changed");
	act = send_at(s, t0 + 5 * MS, 64, mac);
	ok(act == XDP_REDIRECT && !memcmp(mac, H_MAC_VIC, 6), "4 ms after the cached lookup: the cached MAC is used");
	act = send_at(s, t0 + 12 * MS, 64, mac);
	ok(act == XDP_REDIRECT && !memcmp(mac, NEW_MAC, 6), "11 ms after it (> 10 ms): looked up again, the new MAC");

	/* 2. a larger packet than the cached route carried is looked up again */
	ok(!sh("ip link set out0 mtu 600"), "out0's MTU lowered to 600");
	act = send_at(s, t0 + 13 * MS, 64, mac);
	ok(act == XDP_REDIRECT, "a small packet still fits: cached route");
	act = send_at(s, t0 + 14 * MS, 800, mac);
	ok(act == XDP_PASS, "an 828-byte inner packet, larger than any on the cached route: looked up, "
	   "FRAG_NEEDED, handed to the kernel (never an oversize redirect)");
	ok(!sh("ip link set out0 mtu 1500"), "out0's MTU back to 1500");

	/* 3. fib_cache_ms = 0: every packet is looked up */
	p.fib_cache_ms = 0;
	h_reset(s, &p);
	ok(!sh("ip neigh replace 198.18.1.2 lladdr 02:00:00:00:01:02 dev out0 nud permanent"), "neighbour restored");
	send_at(s, t0, 64, mac);
	send_at(s, t0 + MS, 64, mac);
	ok(!sh("ip neigh replace 198.18.1.2 lladdr 02:00:00:00:01:99 dev out0 nud permanent"), "neighbour changed again");
	act = send_at(s, t0 + 2 * MS, 64, mac);
	ok(act == XDP_REDIRECT && !memcmp(mac, NEW_MAC, 6), "cache off: the change is seen by the very next packet");
	sh("ip neigh replace 198.18.1.2 lladdr 02:00:00:00:01:02 dev out0 nud permanent");

	xpro_bpf__destroy(s);
	return tap_done();
}
