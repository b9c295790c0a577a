// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/ip.h>
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

/* a checksummed region of len bytes: 4-byte chunks of at most 512 bytes, then the tail */
static void span(struct botgen_span *c, uint32_t len)
{
	uint32_t words = len & ~3u;

	c->c0 = words < 512 ? words : 512;
	c->c1 = words - c->c0 < 512 ? words - c->c0 : 512;
	c->c2 = words - c->c0 - c->c1;
	c->tail = len & 3;
}

/* The program's configuration for this run, from the vector's descriptor */
static void config(struct botgen_cfg *g, const struct fast_cfg *c, const struct vec_desc *d)
{
	const struct vec_opts *o = c->o;
	uint32_t hdrs = sizeof(struct iphdr) + (d->wire.inner ? d->wire.inner + sizeof(struct iphdr) : 0);

	memset(g, 0, sizeof(*g));
	g->vec = d->wire;
	g->tunnel = (uint32_t)!!c->tunnel;
	g->off_ip = (uint32_t)raw_inner_off(c->tunnel);
	g->nbots = c->nbots;
	g->ntgt = c->ntgt;
	g->nprox = c->nprox;
	g->pmode = c->pmode;
	g->hop = c->hop ? c->hop : 1;
	g->src_base = c->src_base;
	g->src_mode = (uint32_t)o->src_mode;
	for (uint32_t i = 0; i < c->ntgt; i++) {
		g->tgt[i] = ntohl(c->tgt[i].addr);
		g->tmask[i] = c->tgt[i].netmask;
	}
	for (uint32_t i = 0; i < c->nprox; i++) {
		g->prox[i] = c->prox[i];
		memcpy(g->pmac[i], c->pmac[i], 6);
	}
	g->ident = o->ident;
	g->sport = o->sport;
	g->dport = o->dport;
	g->dhid = o->dhid;
	g->seq_rand = o->seqnum == VEC_RANDOM16;
	g->ack_rand = o->acknum == VEC_RANDOM16;
	g->urg = (uint32_t)o->urg;
	g->gcip = (uint32_t)o->gcip;
	g->rand = (uint32_t)o->rand;
	g->log_flows = (uint32_t)c->log_flows;
	/* the L4 checksum covers the rest of the packet */
	span(&g->cs, vec_ip_len(o) - hdrs);
	if (d->wire.flags & BOTGEN_V_PAYLOAD) { /* rand=0: the setup's bytes stay in the template */
		g->pl_words = o->len / 4;
		g->pl_tail = o->len & 3;
	}
	if (d->wire.flags & BOTGEN_V_DNS)
		g->lbl_len = o->len;
}

int fast_open(struct fast **out, const struct fast_cfg *c)
{
	const struct vec_desc *d = vec_desc(c->o->vec);
	struct botgen_cfg g;
	struct botgen_bpf *s;
	struct fast *f;
	int err;

	if (!d || !(d->wire.flags & BOTGEN_V_FAST))
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
	config(&g, c, d);
	g.hdr_words = (uint32_t)(c->frame_len / 8 < BOTGEN_HDR_WORDS ? c->frame_len / 8 : BOTGEN_HDR_WORDS);
	memcpy(g.hdr, c->frame, g.hdr_words * 8);
	s->rodata->cfg = g;
	err = botgen_bpf__load(s);
	if (err) {
		botgen_bpf__destroy(s);
		free(f);
		return err;
	}
	{
		struct vec_rand r;

		vec_rand_seed(&r, c->seed ^ 0x5851F42D4C957F2Dull, 0xFA57);
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
	struct botgen_flow_key key, next, *kp = NULL;
	struct botgen_flow_val val;
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
