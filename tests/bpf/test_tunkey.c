// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The senders' version-2 builder (lib/tunnel.c, xpro_tun_outer_key: used by
 * xpro-bot and xpro-replay) against the proxy's verifier (the XDP program):
 * the outer headers of a packet are rewritten by the builder, after the
 * test's own signer (tests/bpf/pkt.c) was made to sign wrongly, so only the
 * builder's MAC can make it pass. Keys: the harness's (198.18.0.2 holds
 * H_KEY_A, index 0; 198.18.0.3 H_KEY_B, index 1).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "tap.h"
#include "harness.h"
#include "pkt.h"
#include "tunnel.h"

/* One packet from client (its own inner source) to 198.18.1.2, its outer
 * headers by the builder under key (NULL: version 1). The action. */
static int send_lib(struct xpro_bpf *s, const char *client, struct xpro_tun_key *key)
{
	struct pkt_spec spec;
	uint8_t in[512];
	size_t len, inner;

	pkt_defaults(&spec);
	spec.o_src = spec.i_src = ip4(client);
	spec.v2 = key != NULL;
	spec.x_mac_xor = ~0ULL; /* pkt.c's MAC is wrong: the builder must write it */
	len = pkt_build(&spec, in, sizeof(in));
	inner = len - pkt_inner_off(&spec);
	if (pkt_inner_off(&spec) != 14 + xpro_tun_outer_len(key))
		return -1;
	xpro_tun_outer_key(in + 14, spec.o_src, spec.o_dst, 5683, 5683, 1, inner, key);
	return h_run(s, in, len, NULL, NULL);
}

int main(void)
{
	struct xpro_bpf *s;
	struct xpro_params p;
	struct xpro_tun_key a = { .k0 = H_KEY_A[0], .k1 = H_KEY_A[1], .index = 0 };
	struct xpro_tun_key b = { .k0 = H_KEY_B[0], .k1 = H_KEY_B[1], .index = 1 };
	struct xpro_tun_key wrong = a;
	int act;

	H_BEGIN("the senders' version-2 builder test");
	h_params(&p);
	s = h_load(0);
	if (s)
		h_reset(s, &p);
	if (!ok(s && !h_keys(s), "object loaded; keys of 198.18.0.2 (index 0) and 198.18.0.3 (index 1) written"))
		return tap_done();

	act = send_lib(s, "198.18.0.2", &a);
	ok(act == XDP_REDIRECT && a.seq == 1 && h_counter(s, XPRO_C_PASS_REDIRECT) == 1,
	   "builder, 198.18.0.2 under its key: sequence 1, MAC accepted, forwarded");
	act = send_lib(s, "198.18.0.2", &a);
	ok(act == XDP_REDIRECT && a.seq == 2, "builder: the next packet has sequence 2 (no replay): forwarded");
	act = send_lib(s, "198.18.0.3", &b);
	ok(act == XDP_REDIRECT && h_counter(s, XPRO_C_PASS_REDIRECT) == 3,
	   "builder, 198.18.0.3 under its own key (index 1): forwarded");

	wrong.k1 ^= 1;
	act = send_lib(s, "198.18.0.2", &wrong);
	ok(act == XDP_DROP && h_counter(s, XPRO_C_DROP_BAD_MAC) == 1, "builder under a wrong key: drop_bad_mac");
	b.seq = 10;
	act = send_lib(s, "198.18.0.2", &b);
	ok(act == XDP_DROP && h_counter(s, XPRO_C_DROP_NO_KEY) == 1,
	   "builder, 198.18.0.2 under 198.18.0.3's key and index: drop_no_key");
	a.seq = 1; /* sequence 2 again */
	act = send_lib(s, "198.18.0.2", &a);
	ok(act == XDP_DROP && h_counter(s, XPRO_C_DROP_REPLAY) == 1, "builder: a sequence number sent before: drop_replay");
	act = send_lib(s, "198.18.0.4", NULL);
	ok(act == XDP_REDIRECT && h_counter(s, XPRO_C_V1_ACCEPTED) == 1,
	   "builder without a key: version 1 from a client without a key, accepted");

	h_unkey(s);
	xpro_bpf__destroy(s);

	/* the senders' key file: indexes by place, or named in a third field */
	{
		char path[] = "/tmp/xpt-tunkey-XXXXXX", e[256];
		struct xpro_keyfile kf;
		struct xpro_tun_key *k;
		int fd = mkstemp(path), n;
		const char *text = "# keys\n198.18.0.2 000102030405060708090a0b0c0d0e0f\n\n"
				   "198.18.0.3 00112233445566778899aabbccddeeff 7\n198.18.0.4 0f0e0d0c0b0a09080706050403020100\n";

		ok(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text), "key file written (mode 600)");
		close(fd);
		n = xpro_keyfile_load(path, &kf, e, sizeof(e));
		ok(n == 3, "three keys read (comment and blank line skipped)");
		k = n == 3 ? xpro_keyfile_find(&kf, ip4("198.18.0.3")) : NULL;
		ok(k && k->index == 7 && k->k0 == 0x7766554433221100ULL, "198.18.0.3: the index its line names (7), its key");
		k = n == 3 ? xpro_keyfile_find(&kf, ip4("198.18.0.4")) : NULL;
		ok(k && k->index == 2, "198.18.0.4: the third entry, index 2");
		ok(n == 3 && !xpro_keyfile_find(&kf, ip4("198.18.0.5")), "an address without a line has no key");
		if (n >= 0)
			xpro_keyfile_free(&kf);
		chmod(path, 0644);
		ok(xpro_keyfile_load(path, &kf, e, sizeof(e)) < 0 && strstr(e, "chmod 600"), "a group-readable file is refused");
		unlink(path);
	}
	return tap_done();
}
