/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xpro-bot's fast path: traffic/bot/botgen.bpf.c run with
 * BPF_F_TEST_XDP_LIVE_FRAMES (docs/xpro-bot.md, "Fast path").
 */
#ifndef XPRO_FASTPATH_H
#define XPRO_FASTPATH_H

#include <stddef.h>
#include <stdint.h>
#include "vectors.h"

#define FAST_MAX_T BOTGEN_MAX_TGT
#define FAST_MAX_P BOTGEN_MAX_PROXY

struct fast_cfg {
	const struct vec_opts *o;
	int tunnel;
	uint32_t nbots, src_base;  /* host order */
	uint32_t ntgt;
	struct vec_target tgt[FAST_MAX_T]; /* dns: the resolver */
	uint32_t nprox, pmode, hop;
	uint32_t prox[FAST_MAX_P];  /* network order (inline: unused) */
	uint8_t pmac[FAST_MAX_P][6];
	const uint8_t *frame;       /* template: one packet built by vectors.c */
	size_t frame_len;
	int ifindex;
	uint64_t seed;
	int log_flows;              /* per (src, dst) counting in the program */
};

struct fast;

/* Checks the vector (its descriptor's BOTGEN_V_FAST), loads the program. */
int fast_open(struct fast **f, const struct fast_cfg *c);
/* Runs the program n times: n frames leave through ifindex. */
int fast_run(struct fast *f, uint32_t n);
/* Moves the per-flow counts out of the program; cb per (src, dst). Returns
 * the frames that could not be counted per flow (map full) since the last
 * call, or -errno. */
typedef void (*fast_flow_cb)(void *arg, uint32_t src, uint32_t dst, uint64_t packets, uint64_t bytes);
long long fast_drain(struct fast *f, fast_flow_cb cb, void *arg);
void fast_close(struct fast *f);

#endif
