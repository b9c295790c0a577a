/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* xpro-bot: state shared by traffic/bot/bot.c (raw vectors, options, safety)
 * and traffic/bot/botconn.c (kernel-socket vectors: udpplain, stomp, http). */
#ifndef XPRO_BOT_H
#define XPRO_BOT_H

#include <arpa/inet.h>
#include <stdint.h>
#include "botlog.h"
#include "rawsend.h"
#include "vectors.h"

#define BOT_TOOL "xpro-bot"
#define BOT_MAX_TARGETS 16
#define BOT_MAX_PROXIES 16
#define BOT_MAX_BOTS 65536
#define BOT_MAX_COUNT 100000000000ull /* the count bound when --count is not given */

enum { PMODE_FIXED = 0, PMODE_SPREAD = 1, PMODE_HOP = 2 };

struct bot {
	struct vec_opts o;
	struct vec_target tgt[BOT_MAX_TARGETS];
	uint32_t ntgt;
	uint32_t src_base, nbots;  /* host order: bot b is src_base + b */
	uint32_t resolver;         /* dns, network order */
	uint32_t prox[BOT_MAX_PROXIES]; /* network order */
	uint8_t pmac[BOT_MAX_PROXIES][6];
	uint32_t nprox, pmode, hop;
	int tunnel;
	uint16_t tun_port;
	double rate;               /* per bot, packets/s; 0: as fast as possible */
	double duration;           /* seconds */
	uint64_t count;            /* total packets */
	uint32_t on_ms, off_ms;
	uint64_t seed;
	int fast;                  /* 0 normal, 1 XDP live frames, 2 AF_PACKET sendmmsg only */
	struct raw_if ifc;         /* egress interface of raw frames */
	uint64_t t0_ns, end_ns;    /* CLOCK_MONOTONIC */
	struct botlog log;
	uint64_t sent, errors;
	int verbose;
	struct xpro_keyfile keys;  /* --key-file: tunnel 2, header version 2 */
	struct xpro_tun_key **bkey; /* bot i's key (NULL: none, version 1) */
	int v6;                    /* IPv6 targets: every address is its IPv6 name (lib/inet6.h) */
};

static inline uint32_t bot_addr(const struct bot *b, uint32_t i)
{
	return htonl(b->src_base + i);
}

/* How many packets may be out by now (pulsing and --rate); UINT64_MAX when
 * unlimited in an on-phase. *wait_ns: how long to sleep when none. */
uint64_t bot_budget(const struct bot *b, uint64_t now, uint64_t *wait_ns);
/* The pacing step of a send loop at now: how many packets are due (at
 * most max, never beyond --count); 0 after sleeping towards the next one
 * (bot_budget's wait, or 10 us). */
uint64_t bot_due(const struct bot *b, uint64_t now, uint64_t max);
/* nanosleep, at most 50 ms at a time (loops check their stop conditions). */
void bot_sleep_ns(uint64_t ns);
/* Proxy (index) of bot i for its k-th packet. */
uint32_t bot_proxy_of(const struct bot *b, uint32_t i, uint64_t k);

/* Build one frame: the vector's next packet of flow f, from the bot address
 * src, wrapped for proxy p (in tunnel mode the outer IPv4 ID is the next
 * draw of orng, never 0); its length in *len. 0, or the builder's error. */
int bot_frame(struct bot *b, struct vec_flow *f, uint32_t src, uint32_t p, struct vec_rand *orng, uint8_t *frame,
	      size_t *len);
/* Send the n frames built in s (lengths len, inner IPv4 header at off), log
 * each one sent by its inner addresses and length, count sent and errors.
 * 0, or a send error that is not transient (-ENOBUFS and -EAGAIN are). */
int bot_send_logged(struct bot *b, struct raw_sock *s, const size_t *len, uint64_t n, size_t off);
int bot_run_udpplain(struct bot *b);
/* The socket address of v4 (network order) or, with b->v6, of its IPv6
 * name, port in host order; its length. */
socklen_t bot_sockaddr(const struct bot *b, uint32_t v4, uint16_t port, struct sockaddr_storage *ss);
int bot_run_stomp(struct bot *b);
int bot_run_http(struct bot *b);

#endif
