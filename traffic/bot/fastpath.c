// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include "fastpath.h"
#include "rawsend.h"
#include "botgen.skel.h"

struct fast {
	struct botgen_bpf *skel;
	int prog_fd;
	uint8_t frame[RAW_FRAME_MAX];
	size_t frame_len;
	int ifindex;
	uint64_t lost_seen;
};

static int quiet(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	if (lvl == LIBBPF_WARN && getenv("XPRO_BOT_BPF_DEBUG"))
		return vfprintf(stderr, fmt, ap);
	return 0;
}

/* checksum region: 4-byte chunks of at most 512 bytes, then the tail */
static void cs_region(struct botgen_bpf *s, uint32_t off, uint32_t len, uint32_t csum_at)
{
	uint32_t l4 = len & ~3u, c0 = l4 < 512 ? l4 : 512, c1, c2;

	c1 = l4 - c0 < 512 ? l4 - c0 : 512;
	c2 = l4 - c0 - c1;
	s->rodata->g_cs_off = off;
	s->rodata->g_cs_c0 = c0;
	s->rodata->g_cs_c1 = c1;
	s->rodata->g_cs_c2 = c2;
	s->rodata->g_cs_tail = len & 3;
	s->rodata->g_cs_csum = csum_at;
}

static void payload(struct botgen_bpf *s, uint32_t off, uint32_t len)
{
	s->rodata->g_pl_off = off;
	s->rodata->g_pl_words = len / 4;
	s->rodata->g_pl_tail = len & 3;
}

int fast_open(struct fast **out, const struct fast_cfg *c)
{
	const struct vec_opts *o = c->o;
	struct botgen_bpf *s;
	struct fast *f;
	uint32_t ip = (uint32_t)raw_inner_off(c->tunnel), iip;
	uint64_t st;
	int err;

	if (!vec_is_raw(o->vec))
		return -EOPNOTSUPP;
	if (c->ntgt > FAST_MAX_T || c->nprox > FAST_MAX_P || !c->ntgt || !c->nprox || c->frame_len > RAW_FRAME_MAX)
		return -E2BIG;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	libbpf_set_print(quiet);
	s = botgen_bpf__open();
	if (!s) {
		err = -errno;
		free(f);
		return err;
	}
	f->skel = s;
	s->rodata->g_vec = (uint32_t)o->vec;
	s->rodata->g_tunnel = (uint32_t)!!c->tunnel;
	s->rodata->g_nbots = c->nbots;
	s->rodata->g_ntgt = c->ntgt;
	s->rodata->g_nprox = c->nprox;
	s->rodata->g_pmode = c->pmode;
	s->rodata->g_hop = c->hop ? c->hop : 1;
	s->rodata->g_src_base = c->src_base;
	s->rodata->g_src_mode = (uint32_t)o->src_mode;
	for (uint32_t i = 0; i < c->ntgt; i++) {
		s->rodata->g_tgt[i] = ntohl(c->tgt[i].addr);
		s->rodata->g_tmask[i] = c->tgt[i].netmask;
	}
	for (uint32_t i = 0; i < c->nprox; i++) {
		s->rodata->g_prox[i] = c->prox[i];
		memcpy((void *)s->rodata->g_pmac[i], c->pmac[i], 6);
	}
	s->rodata->g_off_ip = ip;
	s->rodata->g_ident = o->ident;
	s->rodata->g_sport = o->sport;
	s->rodata->g_dport = o->dport;
	s->rodata->g_dhid = o->dhid;
	s->rodata->g_seq_rand = o->seqnum == VEC_RANDOM16;
	s->rodata->g_ack_rand = o->acknum == VEC_RANDOM16;
	s->rodata->g_urg = (uint32_t)o->urg;
	s->rodata->g_gcip = (uint32_t)o->gcip;
	s->rodata->g_rand = (uint32_t)o->rand;
	s->rodata->g_log_flows = (uint32_t)c->log_flows;
	switch (o->vec) {
	case VEC_UDP:
		cs_region(s, ip + 20, 8 + o->len, ip + 26);
		payload(s, ip + 28, o->len);
		break;
	case VEC_VSE:
		cs_region(s, ip + 20, 33, ip + 26);
		break;
	case VEC_DNS:
		cs_region(s, ip + 20, vec_ip_len(o) - 20, ip + 26);
		s->rodata->g_lbl_off = ip + 28 + 12 + 1;
		s->rodata->g_lbl_len = o->len;
		break;
	case VEC_SYN:
		cs_region(s, ip + 20, 40, ip + 36);
		break;
	case VEC_ACK:
		cs_region(s, ip + 20, 20 + o->len, ip + 36);
		payload(s, ip + 40, o->len);
		/* rand=0: the setup bytes stay in the template */
		break;
	case VEC_GREIP:
	case VEC_GREETH:
		iip = ip + 24 + (o->vec == VEC_GREETH ? 14 : 0);
		s->rodata->g_inner_ip = iip;
		cs_region(s, iip + 20, 8 + o->len, iip + 26);
		payload(s, iip + 28, o->len);
		break;
	default:
		err = -EOPNOTSUPP;
		goto fail;
	}
	err = botgen_bpf__load(s);
	if (err)
		goto fail;
	st = c->seed ^ 0x5851F42D4C957F2Dull;
	{
		struct vec_rand r;

		vec_rand_seed(&r, st, 0xFA57);
		s->data->g_rs[0] = r.x;
		s->data->g_rs[1] = r.y;
		s->data->g_rs[2] = r.z;
		s->data->g_rs[3] = r.w;
	}
	s->bss->g_idx = 0;
	f->prog_fd = bpf_program__fd(s->progs.xdp_gen);
	memcpy(f->frame, c->frame, c->frame_len);
	f->frame_len = c->frame_len;
	f->ifindex = c->ifindex;
	*out = f;
	return 0;
fail:
	botgen_bpf__destroy(s);
	free(f);
	return err;
}

int fast_run(struct fast *f, uint32_t n)
{
	struct xdp_md ctx = { .data = 0, .data_end = (uint32_t)f->frame_len, .ingress_ifindex = (uint32_t)f->ifindex };
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->frame, .data_size_in = (uint32_t)f->frame_len,
		    .ctx_in = &ctx, .ctx_size_in = sizeof(ctx), .repeat = n,
		    .flags = BPF_F_TEST_XDP_LIVE_FRAMES, .batch_size = 64);

	if (!n)
		return 0;
	if (bpf_prog_test_run_opts(f->prog_fd, &opts))
		return -errno;
	return 0;
}

long long fast_drain(struct fast *f, fast_flow_cb cb, void *arg)
{
	int fd = bpf_map__fd(f->skel->maps.flows), sfd = bpf_map__fd(f->skel->maps.gen_stats);
	struct { uint32_t src, dst; } key, next, *kp = NULL;
	struct { uint64_t packets, bytes; } val;
	uint32_t z = 0;
	uint64_t lost = 0;
	long long r;

	while (!bpf_map_get_next_key(fd, kp, &next)) {
		if (kp && !bpf_map_lookup_elem(fd, &key, &val)) {
			cb(arg, key.src, key.dst, val.packets, val.bytes);
			bpf_map_delete_elem(fd, &key);
		}
		key = next;
		kp = &key;
	}
	if (kp && !bpf_map_lookup_elem(fd, &key, &val)) {
		cb(arg, key.src, key.dst, val.packets, val.bytes);
		bpf_map_delete_elem(fd, &key);
	}
	if (bpf_map_lookup_elem(sfd, &z, &lost))
		return -errno;
	r = (long long)(lost - f->lost_seen);
	f->lost_seen = lost;
	return r;
}

void fast_close(struct fast *f)
{
	if (!f)
		return;
	botgen_bpf__destroy(f->skel);
	free(f);
}
