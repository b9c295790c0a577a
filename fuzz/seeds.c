// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Seed corpora of the fuzz targets (docs/reliability.md, "Fuzzing"), written into
 * DIR/{formats,replay,xdp}/ (config's seeds are the project's config
 * files, copied by fuzz/run.sh):
 *  - xdp: the BPF fixtures' frames (tests/bpf/test_fixtures.c), built by
 *    the tests' packet builder (tests/bpf/pkt.h): valid, version 2 under a
 *    key of the harness, and one per malformed class, in both modes;
 *  - replay: the same inner packets behind each link-layer header, and the
 *    first frames of each capture named on the command line;
 *  - formats: one valid value per parser (IPv4 and IPv6 names), and the
 *    boundaries (2^53 - 1).
 * Usage: seeds DIR [CAPTURE.pcap ...]
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "pkt.h"

/* tests/bpf/harness.c (its header includes libbpf, whose struct bpf_insn
 * clashes with pcap.h's) */
extern const uint64_t H_KEY_A[2];

static const char *dir;
static int nseed;

static void put(const char *sub, uint8_t sel, const void *d, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/seed-%04d", dir, sub, nseed++);
	f = fopen(path, "wb");
	if (!f || fwrite(&sel, 1, 1, f) != 1 || (n && fwrite(d, n, 1, f) != 1)) {
		perror(path);
		exit(1);
	}
	fclose(f);
}

/* replay: selector (link type index of fuzz_replay.c), seed, ranges, frame */
static void put_replay(uint8_t dlt_idx, const uint8_t *frame, size_t n)
{
	uint8_t b[10 + 4096];

	if (n > 4096)
		n = 4096;
	memset(b, 0, 10);
	b[1] = 42;
	b[9] = 0x88; /* /24 source and destination ranges */
	memcpy(b + 10, frame, n);
	put("replay", dlt_idx, b + 1, 9 + n);
}

enum tweak { T_NONE, T_V2, T_TRUNC, T_MAGIC, T_XLEN, T_IHL, T_FRAG, T_V6, T_ARP, T_PORT, T_NONEIGH,
	     T_BLACKHOLE, T_TTL1, T_HAIRPIN, T_SPOOF, T_MGMT, T_VLAN, T_OPTIONS, T_V6EXT, T_V6V2, T__N };

static void tweak(struct pkt_spec *s, int t)
{
	switch (t) {
	case T_V2: s->v2 = 1; s->x_seq = 1; s->x_k0 = H_KEY_A[0]; s->x_k1 = H_KEY_A[1]; break;
	case T_TRUNC: s->truncate = 14 + 20 + 8 + 4 + 10; break;
	case T_MAGIC: s->x_magic = 0x59; break;
	case T_XLEN: s->x_len_delta = -4; break;
	case T_IHL: s->i_ihl = 4; break;
	case T_FRAG: s->i_frag = 0x2000; break;
	case T_V6: s->i6 = 1; break; /* inner IPv6 (inline: routed IPv6) */
	case T_ARP: s->eth_proto = 0x0806; break;
	case T_PORT: s->o_dport = 5684; break;
	case T_NONEIGH: s->i_dst = ip4("198.18.1.3"); break;
	case T_BLACKHOLE: s->i_dst = ip4("198.18.200.7"); break;
	case T_TTL1: s->i_ttl = 1; break;
	case T_HAIRPIN: s->i_dst = ip4("198.18.0.5"); break;
	case T_SPOOF: s->i_src = ip4("198.18.0.3"); break;
	case T_MGMT: s->i_dst = ip4("198.18.1.200"); break;
	case T_VLAN: s->eth_proto = 0x8100; break;
	case T_OPTIONS: s->i_ihl = 6; break;
	case T_V6EXT: /* hop-by-hop, routing, destination options */
		s->i6 = 1; s->n_ext = 3; s->ext[0] = 0; s->ext[1] = 43; s->ext[2] = 60; break;
	case T_V6V2: /* the keyed device's inner IPv6 (its v1 frames are downgrades);
		      * sequence 2: T_V2's 1 and this pass in either order */
		tweak(s, T_V2); s->i6 = 1; s->x_seq = 2; break;
	}
}

static void frames(void)
{
	uint8_t buf[2048], l2[2048];
	struct pkt_spec s;
	size_t n, off;
	int t, inl;

	for (inl = 0; inl < 2; inl++)
		for (t = 0; t < T__N; t++) {
			pkt_defaults(&s);
			s.no_outer = inl;
			tweak(&s, t);
			n = pkt_build(&s, buf, sizeof(buf));
			put("xdp", (uint8_t)inl, buf, n);
			put("xdp", (uint8_t)(inl | 4 << 1), buf, n); /* a clock step of 1 s first */
			if (inl || t >= T_ARP)
				continue;
			/* the inner packet behind each link type (fuzz_replay.c's order) */
			off = pkt_inner_off(&s);
			put_replay(0, buf, n);               /* Ethernet (the whole tunnel frame) */
			put_replay(1, buf + off, n - off);   /* raw IPv4 */
			memset(l2, 0, 16);
			l2[14] = 0x08;
			memcpy(l2 + 16, buf + off, n - off); /* Linux cooked */
			put_replay(4, l2, 16 + n - off);
			memset(l2, 0, 4);
			l2[0] = 2;                           /* DLT_NULL, AF_INET little endian */
			memcpy(l2 + 4, buf + off, n - off);
			put_replay(6, l2, 4 + n - off);
		}
}

static void values(void)
{
	static const char *v[][2] = {
		{ "\x00", "1000000000 1000500000 7 2 0 999000000 1000400000" },
		{ "\x00", "9007199254740991 9007199254740991 9007199254740991 0 1 0 0" },
		{ "\x01", "198.18.0.2 1000000000 1000500000 12 3 1" },
		{ "\x02", "1000000000 1000500000 15" },
		{ "\x03", "-37000123 37000000" },
		{ "\x04", "123456" },
		{ "\x05", "198.18.1.2 198.18.0.2 198.18.0.3" },
		{ "\x06", "px2\nx:{198.18.1.2}:198.18.0.2\nx:{198.18.1.2}:198.18.0.3" },
		{ "\x07", "x:{198.18.1.2}:198.18.0.2" },
		{ "\x08", "overload \x1b[31m at px1\n" },
		{ "\x09", "1 2 3 4" },
		/* records format 2: IPv6 names (docs/sync.md, "Format version") */
		{ "\x01", "2001:db8::c612:2 1000000000 1000500000 12 3 1" },
		{ "\x05", "2001:db8::c612:102 2001:db8::c612:2 198.18.0.3" },
		{ "\x06", "px2\nx:{2001:db8::c612:102}:2001:db8::c612:2\nx:{198.18.1.2}:2001:db8::c612:3" },
		{ "\x07", "x:{2001:db8::c612:102}:2001:db8::c612:2" },
		{ "\x09", "2001:db8::c612:2" },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		put("formats", (uint8_t)v[i][0][0], v[i][1], strlen(v[i][1]));
}

static void capture(const char *path)
{
	static const int dlts[] = { DLT_EN10MB, DLT_RAW, DLT_IPV4, DLT_IPV6, DLT_LINUX_SLL,
				    DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP };
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *d;
	pcap_t *p = pcap_open_offline(path, err);
	int dlt, k, i = 0;

	if (!p) {
		fprintf(stderr, "seeds: %s: %s (skipped)\n", path, err);
		return;
	}
	dlt = pcap_datalink(p);
	for (k = 0; k < 8 && dlts[k] != dlt; k++)
		;
	while (k < 8 && i < 40 && pcap_next_ex(p, &h, &d) == 1) {
		put_replay((uint8_t)k, d, h->caplen);
		if (dlt == DLT_EN10MB)
			put("xdp", (uint8_t)(i & 1), d, h->caplen > 3000 ? 3000 : h->caplen);
		i++;
	}
	pcap_close(p);
}

int main(int argc, char **argv)
{
	int i;

	if (argc < 2) {
		fprintf(stderr, "usage: seeds DIR [CAPTURE.pcap ...]\n");
		return 2;
	}
	dir = argv[1];
	mkdir(dir, 0755);
	frames();
	values();
	for (i = 2; i < argc; i++)
		capture(argv[i]);
	printf("seeds: %d files in %s\n", nseed, dir);
	return 0;
}
