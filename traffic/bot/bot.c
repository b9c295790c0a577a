// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpro-bot: many Mirai bots in one process, one source address each, with
 * Mirai's vectors as they show on the wire (docs/xpro-bot.md,
 * docs/mirai-vectors.md). Testbed only: every address inside 198.18.0.0/15,
 * never in the initial network namespace, never where a route leaves the
 * range (lib/safety.h). Every send loop stops by itself at --duration
 * or --count, whichever comes first.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include "bot.h"
#include "fastpath.h"
#include "safety.h"
#include "opt.h"
#include "botgen.skel.h"
#include "log.h"
#include "inet6.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

#define USAGE \
"usage: xpro-bot --vector V --target ADDR[/LEN][,ADDR[/LEN]...] --duration S [options]\n" \
"       xpro-bot --rx-count IFACE --duration S     (count what IFACE receives: XDP_DROP)\n" \
"\n" \
"Many Mirai bots in one process, one source address each, sending Mirai's attack\n" \
"vectors as they show on the wire (docs/xpro-bot.md). Testbed only: every address\n" \
"must lie in " XPRO_TESTBED_STR "; refuses to run in the initial network namespace or where\n" \
"a main-table route leads outside " XPRO_TESTBED_STR ".\n" \
"IPv6: an IPv6 --target (inside " XP6_EMBED_STR ", the testbed's IPv6 names of IPv4\n" \
"addresses) makes every packet IPv6, each address the IPv6 name of the IPv4 one\n" \
"(bots, spoofed sources, targets): vectors udp vse syn ack udpplain; the tunnel\n" \
"stays IPv4.\n" \
"\n" \
"Vectors (Mirai IDs):\n" \
"  udp (0)       raw UDP flood, 512 B random payload          [len rand tos ident ttl df sport dport source]\n" \
"  vse (1)       Valve Source Engine query, 25 B payload      [tos ident ttl df sport dport]\n" \
"  dns (2)       random-label queries to --resolver, --domain [tos ident ttl df sport dport domain dhid len]\n" \
"  syn (3)       SYN with MSS/SACK/TS/NOP/WS options, window 0 [tos ident ttl df sport dport urg ack psh rst syn fin seqnum acknum source]\n" \
"  ack (4)       ACK with 512 B random payload                 [len rand tos ident ttl df sport dport urg ack psh rst syn fin seqnum acknum source]\n" \
"  stomp (5)     ACK+PSH flood after a real TCP handshake      [len rand tos ident ttl df dport urg ack psh rst syn fin]\n" \
"  greip (6)     GRE + IPv4/UDP                                [len rand tos ident ttl df sport dport gcip source]\n" \
"  greeth (7)    GRE + Ethernet + IPv4/UDP                     [same as greip]\n" \
"  udpplain (9)  kernel UDP sockets, connected                 [len rand dport sport]\n" \
"  http (10)     HTTP GET flood on real TCP connections        [domain dport method postdata path conns]\n" \
"\n"

/* ---- options ------------------------------------------------------------ */

/* Mirai's options: the numbers of vectors.h, whose descriptors say which
 * vector takes which (vec_desc()->opts) */
enum {
	O_LEN = VEC_O_LEN, O_RAND = VEC_O_RAND, O_TOS = VEC_O_TOS, O_IDENT = VEC_O_IDENT,
	O_TTL = VEC_O_TTL, O_DF = VEC_O_DF, O_SPORT = VEC_O_SPORT, O_DPORT = VEC_O_DPORT,
	O_DOMAIN = VEC_O_DOMAIN, O_DHID = VEC_O_DHID, O_URG = VEC_O_URG, O_ACK = VEC_O_ACK,
	O_PSH = VEC_O_PSH, O_RST = VEC_O_RST, O_SYN = VEC_O_SYN, O_FIN = VEC_O_FIN,
	O_SEQNUM = VEC_O_SEQNUM, O_ACKNUM = VEC_O_ACKNUM, O_GCIP = VEC_O_GCIP, O_METHOD = VEC_O_METHOD,
	O_POSTDATA = VEC_O_POSTDATA, O_PATH = VEC_O_PATH, O_CONNS = VEC_O_CONNS, O_SOURCE = VEC_O_SOURCE,
};

#define B(x) VEC_OPT(x)

static int num(const char *what, const char *s, unsigned long long max, unsigned long long *v)
{
	char *e;

	errno = 0;
	*v = strtoull(s, &e, 10);
	if (errno || e == s || *e || *v > max || s[0] == '-') {
		pr_warn("%s '%s': not a number in 0..%llu\n", what, s, max);
		return -EINVAL;
	}
	return 0;
}

static int ipv4(const char *what, const char *s, uint32_t *a)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1) {
		pr_warn("%s '%s': not an IPv4 address\n", what, s);
		return -EINVAL;
	}
	*a = in.s_addr;
	return 0;
}

static const char *ntoa(uint32_t a, char *buf)
{
	inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
	return buf;
}

/* Mirai's util_atoi (base 10, stops at the first non-digit) */
static uint32_t mirai_atoi(const char *s)
{
	long long v = 0;
	int neg = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '-') {
		neg = 1;
		s++;
	}
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (*s - '0');
		if (v > 0xffffffffll)
			v &= 0xffffffffll;
		s++;
	}
	return (uint32_t)(neg ? -v : v);
}

/* --source as the vector's parser reads it; wire = the 4 bytes Mirai puts in saddr */
static int parse_source(struct bot *b, const char *s)
{
	char a[INET_ADDRSTRLEN];
	uint32_t wire;

	if (b->o.vec == VEC_SYN || b->o.vec == VEC_ACK) {
		wire = inet_addr(s); /* unparsable or 255.255.255.255: random */
	} else {
		uint32_t v = mirai_atoi(s);

		wire = v; /* the integer stored as is: little-endian bytes on the wire */
	}
	if (wire == 0xffffffffu) {
		b->o.src_mode = VEC_SRC_RANDOM;
		return 0;
	}
	if (!xpro_in_testbed(wire)) {
		pr_warn("refusing source %s (Mirai's %s parses '%s' as %s): outside the testbed range %s\n",
			ntoa(wire, a), vec_name(b->o.vec), s, a, XPRO_TESTBED_STR);
		return -EINVAL;
	}
	b->o.src_mode = VEC_SRC_FIXED;
	b->o.src_addr = wire;
	return 0;
}

static int parse_targets(struct bot *b, char *list)
{
	char *save = NULL, *t;

	for (t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *slash = strchr(t, '/'), a[INET_ADDRSTRLEN];
		unsigned long long len = 32;
		struct vec_target *v;
		uint64_t first, last;

		if (b->ntgt == BOT_MAX_TARGETS) {
			pr_warn("--target: at most %d targets\n", BOT_MAX_TARGETS);
			return -E2BIG;
		}
		v = &b->tgt[b->ntgt];
		if (slash) {
			*slash = 0;
			/* Mirai lets /33../255 through as one host */
			if (num("--target length", slash + 1, 255, &len))
				return -EINVAL;
		}
		if (xp6_is_text6(t)) {
			char e[160], full[INET6_ADDRSTRLEN + 8];
			int l4;

			/* the IPv6 name of an IPv4 range: LEN 96..128, random hosts in the low bits */
			snprintf(full, sizeof(full), "%s/%llu", t, slash ? len : 128);
			if ((slash && len > 128) || xp6_parse_embedded(full, &v->addr, &l4, e, sizeof(e))) {
				pr_warn("refusing target %s: %s\n", full, slash && len > 128 ? "length above 128" : e);
				return -EINVAL;
			}
			len = (unsigned long long)l4;
			if (b->ntgt && !b->v6)
				goto mixed;
			b->v6 = 1;
		} else if (b->v6) {
			goto mixed;
		} else if (ipv4("--target", t, &v->addr)) {
			return -EINVAL;
		}
		v->netmask = (uint32_t)len;
		/* the whole reachable range: base (unmasked) .. base + 2^(32-len) - 1 */
		first = ntohl(v->addr);
		last = first + (len < 32 ? (1ull << (32 - len)) - 1 : 0);
		if (last > 0xffffffffull ||
		    (!b->v6 && (!xpro_in_testbed(v->addr) || !xpro_in_testbed(htonl((uint32_t)last))))) {
			pr_warn("refusing target %s/%llu: Mirai reaches %s..", ntoa(v->addr, a), len, a);
			fprintf(stderr, "%s (base + random >> %llu, base not masked): outside the testbed range %s\n",
				last > 0xffffffffull ? "beyond 255.255.255.255" : ntoa(htonl((uint32_t)last), a), len,
				XPRO_TESTBED_STR);
			return -EINVAL;
		}
		b->ntgt++;
	}
	return 0;
mixed:
	pr_warn("--target: IPv4 and IPv6 targets in one run (one family per run)\n");
	return -EINVAL;
}

static int parse_proxies(struct bot *b, char *list)
{
	char *save = NULL, *t;

	for (t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		if (b->nprox == BOT_MAX_PROXIES) {
			pr_warn("--proxy: at most %d proxies\n", BOT_MAX_PROXIES);
			return -E2BIG;
		}
		if (ipv4("--proxy", t, &b->prox[b->nprox]))
			return -EINVAL;
		if (xpro_check_dest(BOT_TOOL, b->prox[b->nprox]))
			return -EINVAL;
		b->nprox++;
	}
	return 0;
}

static int parse_sources(struct bot *b, const char *s, unsigned long long bots)
{
	char a[INET_ADDRSTRLEN];
	uint32_t addr, base;
	unsigned long long n = 0, len;
	const char *slash = strchr(s, '/');

	if (slash && xp6_is_text6(s)) {
		char e[160];
		int l4;

		/* the IPv6 name of the bots' IPv4 range (their outer addresses) */
		if (xp6_parse_embedded(s, &addr, &l4, e, sizeof(e))) {
			pr_warn("--sources %s\n", e);
			return -EINVAL;
		}
		if (!b->v6) {
			pr_warn("--sources %s: IPv6 bots need an IPv6 --target\n", s);
			return -EINVAL;
		}
		len = (unsigned long long)l4;
	} else if (slash) {
		char tmp[INET_ADDRSTRLEN];

		snprintf(tmp, sizeof(tmp), "%.*s", (int)(slash - s), s);
		if (ipv4("--sources", tmp, &addr) || num("--sources length", slash + 1, 32, &len))
			return -EINVAL;
	} else {
		uint32_t ra[16];
		int rl[16], k = 0, nr;

		if (num("--sources", s, BOT_MAX_BOTS, &n) || !n) {
			pr_warn("--sources '%s': a CIDR or a count 1..%d\n", s, BOT_MAX_BOTS);
			return -EINVAL;
		}
		nr = raw_local_ranges(ra, rl, 16);
		for (k = 0; k < nr; k++)
			if (xpro_prefix_in_testbed(ra[k], rl[k]))
				break;
		if (nr <= 0 || k == nr) {
			pr_warn("--sources %s: no local range inside %s on this host "
				"(ip route add local CIDR dev lo)\n", s, XPRO_TESTBED_STR);
			return -ENOENT;
		}
		addr = ra[k];
		len = (unsigned long long)rl[k];
	}
	if (!xpro_prefix_in_testbed(addr, (int)len)) {
		pr_warn("refusing --sources %s: outside the testbed range %s\n", s, XPRO_TESTBED_STR);
		return -EINVAL;
	}
	base = ntohl(addr) & (len ? ~0u << (32 - len) : 0);
	if (len <= 30) {
		b->src_base = base + 1; /* the range's hosts */
		b->nbots = (1u << (32 - len)) - 2;
	} else {
		b->src_base = base;
		b->nbots = 1u << (32 - len);
	}
	if (!slash && n < b->nbots)
		b->nbots = (uint32_t)n;
	if (!slash && n > b->nbots) {
		pr_warn("--sources %llu: the local range %s/%llu has only %u hosts\n", n,
			ntoa(addr, a), len, b->nbots);
		return -E2BIG;
	}
	if (bots && bots < b->nbots)
		b->nbots = (uint32_t)bots;
	if (b->nbots > BOT_MAX_BOTS)
		b->nbots = BOT_MAX_BOTS;
	return 0;
}

/* Each bot address must be local here (replies come back to it). */
static int check_local(uint32_t a)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = a };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		err = -errno;
	close(fd);
	return err;
}

socklen_t bot_sockaddr(const struct bot *b, uint32_t v4, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (b->v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		xp6_embed(&s6->sin6_addr, v4);
		return sizeof(*s6);
	}
	((struct sockaddr_in *)ss)->sin_family = AF_INET;
	((struct sockaddr_in *)ss)->sin_port = htons(port);
	((struct sockaddr_in *)ss)->sin_addr.s_addr = v4;
	return sizeof(struct sockaddr_in);
}

/* ---- pacing --------------------------------------------------------------- */

uint64_t bot_budget(const struct bot *b, uint64_t now, uint64_t *wait_ns)
{
	uint64_t el = now - b->t0_ns, on_el = el;

	*wait_ns = 0;
	if (b->on_ms && b->off_ms) {
		uint64_t on = b->on_ms * 1000000ull, cyc = on + b->off_ms * 1000000ull, ph = el % cyc;

		on_el = (el / cyc) * on + (ph < on ? ph : on);
		if (ph >= on) {
			*wait_ns = cyc - ph;
			if (!b->rate)
				return 0;
		}
	}
	if (!b->rate)
		return UINT64_MAX;
	{
		double total = b->rate * b->nbots;
		uint64_t allowed = (uint64_t)((double)on_el / 1e9 * total) + 1;

		if (allowed <= b->sent && !*wait_ns) {
			double gap = 1e9 / total;

			*wait_ns = (uint64_t)gap;
		}
		return allowed;
	}
}

uint32_t bot_proxy_of(const struct bot *b, uint32_t i, uint64_t k)
{
	if (b->nprox <= 1)
		return 0;
	if (b->pmode == PMODE_SPREAD)
		return i % b->nprox;
	if (b->pmode == PMODE_HOP)
		return (uint32_t)((i + k / b->hop) % b->nprox);
	return 0;
}

void bot_sleep_ns(uint64_t ns)
{
	struct timespec ts;

	if (ns > 50000000ull)
		ns = 50000000ull;
	ts.tv_sec = 0;
	ts.tv_nsec = (long)ns;
	nanosleep(&ts, NULL);
}

uint64_t bot_due(const struct bot *b, uint64_t now, uint64_t max)
{
	uint64_t wait, budget = bot_budget(b, now, &wait), n;

	if (budget <= b->sent) {
		bot_sleep_ns(wait ? wait : 10000);
		return 0;
	}
	n = budget - b->sent;
	if (n > b->count - b->sent)
		n = b->count - b->sent;
	return n < max ? n : max;
}

/* ---- raw vectors: normal path (userspace builds, AF_PACKET sends) -------- */

/* --key-file: each bot's own key (docs/protocol.md, "Client identity"). */
static int load_keys(struct bot *b, const char *path, uint64_t seq_start, int quiet)
{
	char e[256];
	uint32_t have = 0;

	if (!b->tunnel) {
		pr_warn("--key-file: tunnel mode only\n");
		return -EINVAL;
	}
	if (xpro_keyfile_load(path, &b->keys, e, sizeof(e)) < 0) {
		pr_warn("--key-file: %s\n", e);
		return -EINVAL;
	}
	b->bkey = calloc(b->nbots, sizeof(*b->bkey));
	if (!b->bkey)
		return -ENOMEM;
	for (uint32_t i = 0; i < b->keys.n; i++)
		b->keys.key[i].seq = (uint32_t)(seq_start ? seq_start - 1 : 0); /* the last one "sent" */
	for (uint32_t i = 0; i < b->nbots; i++)
		have += !!(b->bkey[i] = xpro_keyfile_find(&b->keys, bot_addr(b, i)));
	b->tunnel = 2;
	if (!quiet)
		pr_warn("--key-file %s: %u of %u bot(s) hold a key (header version 2), the others send version 1\n",
			path, have, b->nbots);
	return 0;
}

static int next_hops(struct bot *b)
{
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
	int ifindex = 0, err;
	uint32_t gw, first = b->o.vec == VEC_DNS ? b->resolver : b->tgt[0].addr;

	if (!b->nprox) {
		/* inline, no proxy: the kernel's route to the (first) target */
		err = raw_route(first, &ifindex, &gw);
		if (err) {
			pr_warn("route to %s: %s\n", ntoa(first, a), strerror(-err));
			return err;
		}
		b->prox[0] = gw ? gw : first;
		b->nprox = 1;
		if (gw && xpro_check_dest(BOT_TOOL, gw))
			return -EINVAL;
		err = raw_if_info(ifindex, &b->ifc);
		if (!err)
			err = raw_resolve(&b->ifc, b->prox[0], b->pmac[0]);
		if (err)
			pr_warn("next hop %s: %s\n", ntoa(b->prox[0], a), strerror(-err));
		return err;
	}
	for (uint32_t p = 0; p < b->nprox; p++) {
		int ifi;
		uint32_t nh;

		err = raw_route(b->prox[p], &ifi, &gw);
		if (err) {
			pr_warn("route to proxy %s: %s\n", ntoa(b->prox[p], a), strerror(-err));
			return err;
		}
		if (gw && !b->tunnel) {
			pr_warn("proxy %s is not on-link (route via %s): inline mode needs it as next hop\n",
				ntoa(b->prox[p], a), ntoa(gw, g));
			return -EHOSTUNREACH;
		}
		if (ifindex && ifi != ifindex) {
			pr_warn("proxy %s is behind another interface than the first proxy\n",
				ntoa(b->prox[p], a));
			return -EINVAL;
		}
		if (!ifindex) {
			ifindex = ifi;
			err = raw_if_info(ifindex, &b->ifc);
			if (err) {
				pr_warn("interface %d: %s\n", ifindex, strerror(-err));
				return err;
			}
		}
		nh = gw ? gw : b->prox[p];
		err = raw_resolve(&b->ifc, nh, b->pmac[p]);
		if (err) {
			pr_warn("no MAC for %s on %s: %s\n", ntoa(nh, a), b->ifc.name, strerror(-err));
			return err;
		}
	}
	return 0;
}

struct flows {
	struct vec_flow *f;
	uint32_t n;
};

static int flows_init(struct bot *b, struct flows *fl)
{
	fl->n = b->nbots * b->ntgt;
	fl->f = calloc(fl->n, sizeof(*fl->f));
	if (!fl->f)
		return -ENOMEM;
	for (uint32_t i = 0; i < b->nbots; i++)
		for (uint32_t t = 0; t < b->ntgt; t++) {
			struct vec_target tg = b->tgt[t];

			if (b->o.vec == VEC_DNS) {
				tg.addr = b->resolver;
				tg.netmask = 32;
			}
			vec_flow_init(&b->o, &fl->f[i * b->ntgt + t], bot_addr(b, i), &tg, b->seed,
				      (uint64_t)i * b->ntgt + t);
		}
	return 0;
}

int bot_frame(struct bot *b, struct vec_flow *f, uint32_t src, uint32_t p, struct vec_rand *orng, uint8_t *frame,
	      size_t *len)
{
	uint32_t i = ntohl(src) - b->src_base;
	/* a bot holds its own key (--key-file); one without sends version 1 */
	struct xpro_tun_key *key = b->bkey ? (i < b->nbots ? b->bkey[i] : xpro_keyfile_find(&b->keys, src)) : NULL;
	size_t off = raw_inner_off(b->tunnel == 2 && !key ? 1 : b->tunnel);
	/* IPv6: the IPv4 packet 20 bytes further on, rewritten in place */
	size_t at = off + (b->v6 ? 20 : 0);
	int l = vec_next(&b->o, f, frame + at, RAW_FRAME_MAX - at);
	uint16_t oid = 0;

	if (l < 0)
		return l;
	if (b->v6) {
		l = xp6_from_ipv4(frame + off, frame + at, (size_t)l);
		if (l < 0)
			return -EPROTONOSUPPORT;
	}
	if (b->tunnel) {
		oid = (uint16_t)vec_rand_next(orng);
		if (!oid)
			oid = 1;
	}
	*len = raw_wrap(frame, b->pmac[p], b->ifc.mac, b->tunnel, src, b->prox[p], b->tun_port, oid, (size_t)l, key);
	if (b->v6 && !b->tunnel) {
		frame[12] = 0x86; /* inline: an IPv6 frame */
		frame[13] = 0xdd;
	}
	return 0;
}

int bot_send_logged(struct bot *b, struct raw_sock *s, const size_t *len, uint64_t n, size_t off)
{
	int serr = 0, done = raw_send(s, len, (int)n, b->end_ns, &serr);
	int64_t ts = xp_real_sec();

	for (int j = 0; j < done; j++) {
		/* --key-file: a bot without a key sent a version-1 header (16 bytes shorter) */
		const uint8_t *ip = s->buf[j] + (b->tunnel == 2 && s->buf[j][RAW_ETH_LEN + 29] != XPRO_TUN_VERSION2 ?
						  raw_inner_off(1) : off);
		uint32_t sa, da;

		if (b->v6) { /* the IPv4 addresses the names embed; 40 + payload bytes */
			memcpy(&sa, ip + 20, 4);
			memcpy(&da, ip + 36, 4);
			botlog_add(&b->log, ts, sa, da, 1, 40 + (uint64_t)(ip[4] << 8 | ip[5]));
			continue;
		}
		memcpy(&sa, ip + 12, 4);
		memcpy(&da, ip + 16, 4);
		botlog_add(&b->log, ts, sa, da, 1, (uint64_t)(ip[2] << 8 | ip[3]));
	}
	b->sent += (uint64_t)done;
	if (done < (int)n) {
		b->errors += n - (uint64_t)done;
		if (serr && serr != -ENOBUFS && serr != -EAGAIN)
			return serr;
	}
	return 0;
}

static int run_raw(struct bot *b)
{
	struct raw_sock *s;
	struct flows fl;
	struct vec_rand orng;
	size_t off = raw_inner_off(b->tunnel), len[RAW_BATCH];
	uint64_t idx = 0;
	int err;

	err = flows_init(b, &fl);
	if (err)
		return err;
	s = malloc(sizeof(*s));
	if (!s) {
		free(fl.f);
		return -ENOMEM;
	}
	err = raw_open(s, b->ifc.ifindex);
	if (err) {
		pr_warn("AF_PACKET socket on %s: %s\n", b->ifc.name, strerror(-err));
		goto out;
	}
	vec_rand_seed(&orng, b->seed, 0xFFFFFFFFFFull);
	while (!stop_flag && b->sent < b->count) {
		uint64_t now = xp_mono_ns(), n;
		int serr;

		if (now >= b->end_ns)
			break;
		n = bot_due(b, now, RAW_BATCH);
		if (!n)
			continue;
		for (uint64_t j = 0; j < n; j++, idx++) {
			uint32_t fi = (uint32_t)(idx % fl.n), bi = fi / b->ntgt, ti = fi % b->ntgt;
			uint64_t k = (idx / fl.n) * b->ntgt + ti;
			uint32_t p = bot_proxy_of(b, bi, k);

			err = bot_frame(b, &fl.f[fi], bot_addr(b, bi), p, &orng, s->buf[j], &len[j]);
			if (err)
				goto out;
		}
		serr = bot_send_logged(b, s, len, n, off);
		if (serr) {
			pr_warn("send on %s: %s\n", b->ifc.name, strerror(-serr));
			err = serr;
			goto out;
		}
	}
out:
	raw_close(s);
	free(s);
	free(fl.f);
	return err;
}

/* ---- raw vectors: fast path (XDP live frames) ----------------------------- */

static void log_flow(void *arg, uint32_t src, uint32_t dst, uint64_t packets, uint64_t bytes)
{
	struct bot *b = arg;

	botlog_add(&b->log, xp_real_sec(), src, dst, packets, bytes);
}

static int run_fast(struct bot *b)
{
	struct fast_cfg c = { 0 };
	struct flows fl;
	struct fast *f = NULL;
	uint8_t frame[RAW_FRAME_MAX];
	size_t off = raw_inner_off(b->tunnel);
	uint64_t idx = 0, *cnt = NULL, last_drain = 0, t_call;
	double pps = 0;
	uint32_t bytes;
	int l, err, random_flows;

	err = flows_init(b, &fl);
	if (err)
		return err;
	/* the template: the first packet of bot 0 and target 0 */
	l = vec_next(&b->o, &fl.f[0], frame + off, sizeof(frame) - off);
	if (l < 0) {
		err = l;
		goto out;
	}
	bytes = (uint32_t)l;
	c.frame_len = raw_wrap(frame, b->pmac[0], b->ifc.mac, b->tunnel, bot_addr(b, 0), b->prox[0], b->tun_port, 1,
			       (size_t)l, NULL);
	c.o = &b->o;
	c.frame = frame;
	c.tunnel = b->tunnel;
	c.nbots = b->nbots;
	c.src_base = b->src_base;
	c.ntgt = b->ntgt;
	for (uint32_t t = 0; t < b->ntgt; t++) {
		c.tgt[t] = b->tgt[t];
		if (b->o.vec == VEC_DNS) {
			c.tgt[t].addr = b->resolver;
			c.tgt[t].netmask = 32;
		}
	}
	c.nprox = b->nprox;
	c.pmode = b->pmode;
	c.hop = b->hop;
	memcpy(c.prox, b->prox, sizeof(c.prox));
	memcpy(c.pmac, b->pmac, sizeof(c.pmac));
	c.ifindex = b->ifc.ifindex;
	c.seed = b->seed;
	random_flows = b->o.src_mode == VEC_SRC_RANDOM;
	for (uint32_t t = 0; t < b->ntgt; t++)
		if (c.tgt[t].netmask < 32)
			random_flows = 1;
	c.log_flows = random_flows;
	err = fast_open(&f, &c);
	if (err) {
		pr_warn("fast path (XDP live frames) for %s: %s\n", vec_name(b->o.vec), strerror(-err));
		goto out;
	}
	if (!random_flows) {
		cnt = calloc(fl.n, sizeof(*cnt));
		if (!cnt) {
			err = -ENOMEM;
			goto out;
		}
	}
	while (!stop_flag && b->sent < b->count) {
		uint64_t now = xp_mono_ns(), n, chunk;

		if (now >= b->end_ns)
			break;
		n = bot_due(b, now, UINT64_MAX);
		if (!n)
			continue;
		/* every call costs a fixed ~25 ms in the kernel (the page pool and
		 * memory model of the run are set up and torn down), so calls are
		 * sized to last about 200 ms, and never beyond --duration */
		chunk = pps > 0 ? (uint64_t)(pps * 0.2) : 65536;
		if (pps > 0 && (uint64_t)(pps * (double)(b->end_ns - now) / 1e9) < chunk)
			chunk = (uint64_t)(pps * (double)(b->end_ns - now) / 1e9) + 1;
		if (chunk < 64)
			chunk = 64;
		if (chunk > 16u << 20)
			chunk = 16u << 20;
		if (n > chunk)
			n = chunk;
		t_call = xp_mono_ns();
		err = fast_run(f, (uint32_t)n);
		if (err) {
			pr_warn("fast path run on %s: %s\n", b->ifc.name, strerror(-err));
			goto out;
		}
		t_call = xp_mono_ns() - t_call;
		if (n >= 4096 && t_call)
			pps = (double)n * 1e9 / (double)t_call;
		b->sent += n;
		if (random_flows) {
			if (xp_mono_ns() - last_drain > 200000000ull || b->sent >= b->count) {
				long long lost = fast_drain(f, log_flow, b);

				if (lost > 0) /* counted, but not per flow: the map was full */
					botlog_add(&b->log, xp_real_sec(), 0, 0, (uint64_t)lost, (uint64_t)lost * bytes);
				last_drain = xp_mono_ns();
			}
		} else {
			int64_t ts = xp_real_sec();
			uint64_t end = idx + n;

			/* flows are a function of the index: bot (i / T) mod B, target i mod T */
			if (n >= fl.n) {
				uint64_t full = n / fl.n;

				for (uint32_t x = 0; x < fl.n; x++)
					cnt[x] += full;
				idx += full * fl.n;
			}
			for (; idx < end; idx++)
				cnt[idx % fl.n]++;
			for (uint32_t x = 0; x < fl.n; x++) {
				if (!cnt[x])
					continue;
				botlog_add(&b->log, ts, fl.f[x].local, b->o.vec == VEC_DNS ? b->resolver : b->tgt[x % b->ntgt].addr,
					   cnt[x], cnt[x] * bytes);
				cnt[x] = 0;
			}
		}
	}
	if (random_flows && f) {
		long long lost = fast_drain(f, log_flow, b);

		if (lost > 0)
			botlog_add(&b->log, xp_real_sec(), 0, 0, (uint64_t)lost, (uint64_t)lost * bytes);
	}
out:
	fast_close(f);
	free(cnt);
	free(fl.f);
	return err;
}

/* ---- --rx-count: the receiving end of the bench ----------------------------- */

static int rx_count(const char *ifname, double duration)
{
	struct botgen_bpf *s;
	unsigned int ifindex = if_nametoindex(ifname);
	int ncpu = libbpf_num_possible_cpus(), err;
	uint64_t sum[2] = { 0, 0 }, *v;
	struct timespec ts;

	if (!ifindex) {
		pr_warn("--rx-count %s: no such interface\n", ifname);
		return 1;
	}
	s = botgen_bpf__open_and_load();
	if (!s) {
		pr_warn("load bpf/botgen.bpf.o: %s\n", strerror(errno));
		return 1;
	}
	err = bpf_xdp_attach((int)ifindex, bpf_program__fd(s->progs.xdp_count), XDP_FLAGS_DRV_MODE, NULL);
	if (err) {
		pr_warn("attach XDP counter to %s: %s\n", ifname, strerror(-err));
		botgen_bpf__destroy(s);
		return 1;
	}
	pr_warn("counting on %s for %.1f s\n", ifname, duration);
	ts.tv_sec = (time_t)duration;
	ts.tv_nsec = (long)((duration - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR && !stop_flag)
		;
	v = calloc((size_t)ncpu, sizeof(*v));
	for (uint32_t k = 0; v && k < 2; k++)
		if (!bpf_map_lookup_elem(bpf_map__fd(s->maps.rx_count), &k, v))
			for (int c = 0; c < ncpu; c++)
				sum[k] += v[c];
	free(v);
	bpf_xdp_detach((int)ifindex, XDP_FLAGS_DRV_MODE, NULL);
	botgen_bpf__destroy(s);
	printf("{\"packets\":%llu,\"bytes\":%llu,\"seconds\":%.3f}\n", (unsigned long long)sum[0],
	       (unsigned long long)sum[1], duration);
	return 0;
}

/* ---- the command line ---------------------------------------------------- */

static struct bot bot;
static struct {
	const char *vector, *targets, *sources, *logp, *sump, *rxif, *proxies, *key_file;
	uint64_t bots, seq_start;
	unsigned int tun_port;
	int have_seed, quiet;
	struct { int id; const char *val; } mo[64]; /* Mirai options, applied once the vector is known */
	int nmo;
	uint32_t given;
} cli = { .sources = "1" };

static const char *opt_mirai(const char *val, void *dst);

/* the Mirai options' names: also what the error lines call them */
#define MO(name, id, arg) XP_FN(name, 0, opt_mirai, (void *)(intptr_t)(id), arg, NULL)

static const char *opt_fast(const char *val, void *dst)
{
	if (!val || !strcmp(val, "xdp"))
		*(int *)dst = 1;
	else if (!strcmp(val, "packet"))
		*(int *)dst = 2;
	else
		return "is not xdp or packet";
	return NULL;
}

static const char *opt_seed(const char *val, void *dst)
{
	if (xp_parse_u64(val, UINT64_MAX, dst))
		return "is not a number in 0..18446744073709551615";
	cli.have_seed = 1;
	return NULL;
}

/* ADDR[/LEN],...: the syntax here; the ranges once the options are in */
static const char *opt_addr_list(const char *val, void *dst)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *p = val, *e;
	uint64_t len;

	do {
		struct in6_addr in;
		const char *slash;

		e = strchr(p, ',');
		snprintf(buf, sizeof(buf), "%.*s", (int)(e ? e - p : (ptrdiff_t)strlen(p)), p);
		slash = strchr(buf, '/');
		if (slash && dst == &cli.targets && !xp_parse_u64(slash + 1, 255, &len))
			buf[slash - buf] = '\0'; /* Mirai lets /33../255 through as one host */
		if (inet_pton(AF_INET, buf, &in) != 1 &&
		    (dst != &cli.targets || inet_pton(AF_INET6, buf, &in) != 1))
			return dst == &cli.targets ? "is not a list of ADDR or ADDR/LEN" : "is not a list of IPv4 addresses";
		p = e ? e + 1 : NULL;
	} while (p);
	*(const char **)dst = val;
	return NULL;
}

/* CIDR or a count of bots */
static const char *opt_sources(const char *val, void *dst)
{
	const char *slash = strchr(val, '/');
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr in;
	uint64_t v;

	if (slash && xp6_is_text6(val)) {
		snprintf(buf, sizeof(buf), "%.*s", (int)(slash - val), val);
		if (inet_pton(AF_INET6, buf, &in) != 1 || xp_parse_u64(slash + 1, 128, &v))
			return "is not a CIDR A.B.C.D/LEN or IPV6/LEN";
	} else if (slash) {
		snprintf(buf, sizeof(buf), "%.*s", (int)(slash - val), val);
		if (inet_pton(AF_INET, buf, &in) != 1 || xp_parse_u64(slash + 1, 32, &v))
			return "is not a CIDR A.B.C.D/LEN";
	} else if (xp_parse_u64(val, BOT_MAX_BOTS, &v) || !v) {
		return "is not a CIDR or a count 1..65536";
	}
	*(const char **)dst = val;
	return NULL;
}

static const struct xp_opt bot_opts[] = {
	XP_TEXT("Bots, targets, bounds:"),
	XP_STR("vector", 0, &cli.vector, "V", "one of the vectors above (name or Mirai ID)"),
	XP_FN("target", 0, opt_addr_list, &cli.targets, "LIST",
	      "ADDR or ADDR/LEN, comma-separated (max 16); LEN < 32: a random host\n"
	      "base + (rand >> LEN) per packet, base NOT masked (Mirai): the whole\n"
	      "reachable range must lie in " XPRO_TESTBED_STR ". dns ignores targets\n"
	      "(each adds a stream to the resolver); optional for dns. IPv6: inside\n"
	      XP6_EMBED_STR ", LEN 96..128 (all targets IPv6: IPv6 packets)."),
	XP_FN("sources", 0, opt_sources, &cli.sources, "CIDR|N",
	      "bot addresses, consecutive: CIDR (its hosts), or N from the host's\n"
	      "first local range (ip route add local CIDR dev lo). Default 1.\n"
	      "With IPv6 targets also the IPv6 name of the CIDR (2001:db8::c612:2000/120\n"
	      "for 198.18.32.0/24): the tunnel's outer sources are the IPv4 ones."),
	XP_U64("bots", 0, &cli.bots, 1, BOT_MAX_BOTS, "N", "at most N bots of --sources CIDR"),
	XP_DOUBLE("duration", 0, &bot.duration, 0, 3600, "S", "required; 0 < S <= 3600", .flags = XP_OPT_GT),
	XP_U64("count", 0, &bot.count, 1, (double)BOT_MAX_COUNT, "N",
	       "total packets (exactly N are sent and logged); http: requests"),
	XP_DOUBLE("rate", 0, &bot.rate, 0, 1e8, "PPS", "per bot (default: as fast as possible, like Mirai)",
		  .flags = XP_OPT_GT),
	XP_UINT("on", 0, &bot.on_ms, 1, 3600000, "MS", "pulse: send MS on, --off MS off (both required together)"),
	XP_UINT("off", 0, &bot.off_ms, 1, 3600000, "MS", NULL),
	XP_FN("seed", 0, opt_seed, &bot.seed, "N",
	      "same seed, same packets (default: from the clock; in the summary)"),
	XP_TEXT("\nPaths:"),
	XP_CHOICE("mode", 0, &bot.tunnel, "inline|tunnel",
	      "tunnel (default): IPv4/UDP from the bot's address to proxy:5683 + X-Pro\n"
	      "header + the Mirai packet; inline: the Mirai packet, next hop the proxy"),
	XP_FN("proxy", 0, opt_addr_list, &cli.proxies, "A[,A...]",
	      "proxies (tunnel: required; inline: next hops; default: the route)"),
	XP_CHOICE("proxy-mode", 0, &bot.pmode, "fixed|spread|hop", /* PMODE_* */
		  "fixed (all to the first), spread (bot i to proxy i mod P),\n"
		  "hop (bot i starts at i mod P, moves on every --hop N packets)"),
	XP_UINT("hop", 0, &bot.hop, 1, UINT32_MAX, "N", "packets per proxy in hop mode (default 100)"),
	XP_UINT("tun-port", 0, &cli.tun_port, 1, 65535, "P", "tunnel UDP port (default 5683)"),
	XP_STR("key-file", 0, &cli.key_file, "FILE",
	       "tunnel: header version 2, each bot under its own key ('A.B.C.D KEY'\n"
	       "lines, the proxy's device_keys file); a bot without a line sends version 1"),
	XP_U64("seq-start", 0, &cli.seq_start, 1, 4294967295.0, "N",
	       "--key-file: the first sequence number (default 1); above any this bot\n"
	       "sent since the proxies' attach (a later run of the same bots)"),
	XP_FN("fast", 0, opt_fast, &bot.fast, "xdp|packet",
	      "xdp: BPF_F_TEST_XDP_LIVE_FRAMES (raw vectors but stomp);\n"
	      "packet: AF_PACKET + sendmmsg only. Default path: AF_PACKET +\n"
	      "sendmmsg too, packets built in userspace.", .flags = XP_OPT_OPTARG),
	XP_IPV4("resolver", 0, &bot.resolver, "ADDR", "dns: the resolver (a testbed host)"),
	XP_STR("rx-count", 0, &cli.rxif, "IFACE", "count what IFACE receives (XDP_DROP) for --duration S"),
	XP_TEXT("\nMirai options (defaults per vector as Mirai; 65535 = random where Mirai says so):\n"
		"  --len N --rand 0|1 --tos N --ident N --ttl N --df 0|1 --sport N --dport N\n"
		"  --domain D --dhid N --urg/--ack/--psh/--rst/--syn/--fin 0|1 --seqnum N --acknum N\n"
		"  --gcip 0|1 --source S --method M --postdata S --path P --conns N\n"
		"  --source: udp/greip/greeth parse it like Mirai's atoi (1.2.3.4 -> 1 -> 1.0.0.0; -1 random);\n"
		"  syn/ack like inet_addr (255.255.255.255 random). Random sources stay in " XPRO_TESTBED_STR ".\n"),
	MO("len", O_LEN, "N"), MO("rand", O_RAND, "0|1"), MO("tos", O_TOS, "N"), MO("ident", O_IDENT, "N"),
	MO("ttl", O_TTL, "N"), MO("df", O_DF, "0|1"), MO("sport", O_SPORT, "N"), MO("dport", O_DPORT, "N"),
	MO("domain", O_DOMAIN, "D"), MO("dhid", O_DHID, "N"), MO("urg", O_URG, "0|1"), MO("ack", O_ACK, "0|1"),
	MO("psh", O_PSH, "0|1"), MO("rst", O_RST, "0|1"), MO("syn", O_SYN, "0|1"), MO("fin", O_FIN, "0|1"),
	MO("seqnum", O_SEQNUM, "N"), MO("acknum", O_ACKNUM, "N"), MO("gcip", O_GCIP, "0|1"),
	MO("method", O_METHOD, "M"), MO("postdata", O_POSTDATA, "S"), MO("path", O_PATH, "P"),
	MO("conns", O_CONNS, "N"), MO("source", O_SOURCE, "S"),
	XP_TEXT("Logs:"),
	XP_STR("log", 0, &cli.logp, "FILE", "CSV ts,src,dst,class,packets,bytes per second and (src,dst); - = stdout"),
	XP_STR("summary", 0, &cli.sump, "FILE", "JSON summary at exit; - = stdout"),
	XP_FLAG(NULL, 'q', &cli.quiet, "quiet"),
	{ 0 },
};

static const char *mirai_name(int id)
{
	for (const struct xp_opt *o = bot_opts; o->type != XP_OPT_END; o++)
		if (o->fn == opt_mirai && o->dst == (void *)(intptr_t)id)
			return o->name;
	return "?";
}

static int mirai_is_string(int id)
{
	return id == O_DOMAIN || id == O_METHOD || id == O_POSTDATA || id == O_PATH || id == O_SOURCE;
}

/* Mirai's numbers are 0..65535 (some vectors take less, checked once the
 * vector is known); true and false stand for 1 and 0 */
static const char *mirai_number(const char *s, unsigned long long max, uint64_t *v)
{
	static char why[48];

	if (!strcmp(s, "true"))
		s = "1";
	else if (!strcmp(s, "false"))
		s = "0";
	switch (xp_parse_u64(s, max, v)) {
	case 0:
		return NULL;
	case -1:
		return "is not a number";
	default:
		snprintf(why, sizeof(why), "is out of range (0..%llu)", max);
		return why;
	}
}

static const char *opt_mirai(const char *val, void *dst)
{
	int id = (int)(intptr_t)dst;
	uint64_t v;
	const char *why;

	if (cli.nmo == 64)
		return "is one Mirai option too many (64)";
	if (!mirai_is_string(id) && (why = mirai_number(val, 65535, &v)))
		return why;
	cli.mo[cli.nmo].id = id;
	cli.mo[cli.nmo++].val = val;
	cli.given |= B(id);
	return NULL;
}

/* The vector of --vector and its Mirai options, checked against what the
 * vector takes (its descriptor) and applied to b->o; 0, or the exit status
 * after one line. */
static int bot_vector(struct bot *b, int *vec)
{
	const struct vec_desc *vd;
	uint64_t v;
	int c;

	if (!cli.vector) {
		pr_warn("--vector V is required (try --help)\n");
		return 2;
	}
	c = vec_parse(cli.vector); /* a name or Mirai's ID */
	if (c == VEC_NONE) {
		pr_warn("--vector '%s': unknown (%s)\n", cli.vector, vec_names());
		return 2;
	}
	vd = vec_desc(c);
	vec_defaults(&b->o, c);
	if (cli.given & ~vd->opts) {
		for (int i = 0; i < cli.nmo; i++)
			if (!(vd->opts & B(cli.mo[i].id)))
				xp_opt_die(BOT_TOOL, "--%s is not an option of %s (Mirai's CNC refuses it)",
					   mirai_name(cli.mo[i].id), vec_name(c));
	}
	for (int i = 0; i < cli.nmo; i++) {
		struct vec_opts *o = &b->o;
		const char *s = cli.mo[i].val, *why;
		unsigned long long max = 65535;
		int id = cli.mo[i].id;

		if (id == O_DOMAIN) {
			if (strlen(s) > (c == VEC_HTTP ? 127 : 200)) {
				pr_warn("--domain: too long\n");
				return 2;
			}
			snprintf(o->domain, sizeof(o->domain), "%s", s);
			continue;
		}
		if (id == O_METHOD) {
			snprintf(o->method, sizeof(o->method), "%.9s", s);
			for (char *p = o->method; *p; p++)
				if (*p >= 'a' && *p <= 'z')
					*p = (char)(*p - 32);
			continue;
		}
		if (id == O_POSTDATA) {
			snprintf(o->postdata, sizeof(o->postdata), "%s", s);
			continue;
		}
		if (id == O_PATH) {
			snprintf(o->path, sizeof(o->path), "%s", s);
			continue;
		}
		if (id == O_SOURCE) {
			if (parse_source(b, s))
				return 1;
			continue;
		}
		if (id == O_TOS || id == O_TTL)
			max = 255;
		else if (id == O_LEN)
			max = vd->len_max;
		else if (id == O_RAND || id == O_DF || (id >= O_URG && id <= O_FIN) || id == O_GCIP)
			max = 1;
		else if (id == O_CONNS)
			max = 256;
		why = mirai_number(s, max, &v);
		if (why)
			xp_opt_die(BOT_TOOL, "--%s: \"%s\" %s", mirai_name(id), s, why);
		switch (id) {
		case O_LEN: o->len = (uint32_t)v; break;
		case O_RAND: o->rand = (int)v; break;
		case O_TOS: o->tos = (uint8_t)v; break;
		case O_IDENT: o->ident = (uint32_t)v; break;
		case O_TTL: o->ttl = (uint8_t)v; break;
		case O_DF: o->df = (int)v; break;
		case O_SPORT: o->sport = (uint32_t)v; break;
		case O_DPORT: o->dport = (uint32_t)v; break;
		case O_DHID: o->dhid = (uint32_t)v; break;
		case O_URG: o->urg = (int)v; break;
		case O_ACK: o->ack = (int)v; break;
		case O_PSH: o->psh = (int)v; break;
		case O_RST: o->rst = (int)v; break;
		case O_SYN: o->syn = (int)v; break;
		case O_FIN: o->fin = (int)v; break;
		case O_SEQNUM: o->seqnum = (uint32_t)v; break;
		case O_ACKNUM: o->acknum = v == VEC_RANDOM16 ? VEC_RANDOM16 : 0; break; /* Q4 */
		case O_GCIP: o->gcip = (int)v; break;
		case O_CONNS: o->conns = v ? (uint32_t)v : 1; break;
		}
	}
	if (vd->len_cap && b->o.len > vd->len_cap)
		b->o.len = vd->len_cap; /* Mirai caps udp silently */
	if ((vd->needs & B(O_DOMAIN)) && !b->o.domain[0]) {
		pr_warn("%s needs --domain\n", vec_name(c));
		return 2;
	}
	*vec = c;
	return 0;
}

/* ---- main --------------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct bot *b = &bot;
	char a[INET_ADDRSTRLEN];
	int c = VEC_NONE, err;

	xpro_prog = BOT_TOOL;
	b->duration = -1;
	b->count = BOT_MAX_COUNT;
	b->tunnel = 1;
	b->tun_port = 5683;
	b->hop = 100;
	if (xp_opt_parse(BOT_TOOL, USAGE, bot_opts, argc, argv) < argc)
		xp_opt_die(BOT_TOOL, "unexpected argument (try --help)");
	if (cli.tun_port)
		b->tun_port = (uint16_t)cli.tun_port;
	if (b->duration < 0) {
		pr_warn("--duration S is required (every run is bounded in time)\n");
		return 2;
	}
	if (!cli.rxif) { /* every option checked before the namespace is */
		err = bot_vector(b, &c);
		if (err)
			return err;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (xpro_testbed_check(BOT_TOOL))
		return 1;
	if (cli.rxif)
		return rx_count(cli.rxif, b->duration);
	if (c == VEC_DNS) {
		if (!b->resolver) {
			pr_warn("dns needs --resolver ADDR (a testbed host)\n");
			return 2;
		}
		if (xpro_check_dest(BOT_TOOL, b->resolver))
			return 1;
		if (!cli.targets) { /* Mirai ignores the targets: one stream */
			b->ntgt = 1;
			b->tgt[0].addr = b->resolver;
			b->tgt[0].netmask = 32;
		}
	}
	if (cli.targets) {
		char *t = strdup(cli.targets);

		err = parse_targets(b, t);
		free(t);
		if (err)
			return 1;
	}
	if (!b->ntgt) {
		pr_warn("--target ADDR[/LEN] is required\n");
		return 2;
	}
	if (b->v6 && c != VEC_UDP && c != VEC_VSE && c != VEC_SYN && c != VEC_ACK && c != VEC_UDPPLAIN) {
		pr_warn("--target %s: %s has no IPv6 form here (IPv6: udp vse syn ack udpplain)\n", cli.targets,
			vec_name(c));
		return 2;
	}
	if (b->v6 && b->fast == 1) {
		pr_warn("--fast=xdp: the XDP fast path builds IPv4 packets only (IPv6: the default path)\n");
		return 2;
	}
	if (b->v6 && !b->tunnel && !cli.proxies) {
		pr_warn("--mode inline with IPv6 targets needs --proxy A (the next hop, by its IPv4 address)\n");
		return 2;
	}
	if (cli.proxies && parse_proxies(b, (char *)cli.proxies))
		return 1;
	if (b->tunnel && !b->nprox) {
		pr_warn("tunnel mode needs --proxy ADDR[,ADDR...] (or --mode inline)\n");
		return 2;
	}
	if ((b->on_ms != 0) != (b->off_ms != 0)) {
		pr_warn("--on and --off go together\n");
		return 2;
	}
	if (parse_sources(b, cli.sources, cli.bots))
		return 1;
	if (cli.key_file && load_keys(b, cli.key_file, cli.seq_start, cli.quiet))
		return 2;
	if (b->tunnel == 2 && b->fast == 1) {
		pr_warn("--key-file: the XDP fast path sends version 1 only (use the default path)\n");
		return 2;
	}
	for (uint32_t i = 0; i < b->nbots; i += (b->nbots - 1 > 0 ? b->nbots - 1 : 1)) {
		err = check_local(bot_addr(b, i));
		if (err) {
			pr_warn("bot address %s is not local on this host (%s): add the range with "
				"ip route add local CIDR dev lo\n", ntoa(bot_addr(b, i), a), strerror(-err));
			return 1;
		}
		if (b->nbots == 1)
			break;
	}
	if (!cli.have_seed) {
		uint64_t ns = xp_real_ns();

		b->seed = ns / 1000000000ull * 1000000007ull ^ ns % 1000000000ull ^ (uint64_t)getpid();
	}
	{
		struct rlimit rl;

		if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	err = botlog_open(&b->log, cli.logp, vec_name(c));
	if (err) {
		pr_warn("--log %s: %s\n", cli.logp, strerror(-err));
		return 1;
	}
	b->log.v6 = b->v6;
	if (vec_is_raw(c) || c == VEC_STOMP) {
		size_t frame;

		err = next_hops(b);
		if (err)
			return 1;
		frame = raw_inner_off(b->tunnel) - RAW_ETH_LEN + vec_ip_len(&b->o) + (b->v6 ? 20 : 0);
		if (frame > (size_t)b->ifc.mtu) {
			pr_warn("%s packet of %zu bytes (len %u%s) exceeds the MTU %d of %s\n",
				vec_name(c), frame, b->o.len, b->tunnel ? ", tunnel included" : "", b->ifc.mtu, b->ifc.name);
			return 1;
		}
	} else if (b->tunnel && !cli.quiet) {
		pr_warn("note: %s uses kernel sockets; in tunnel mode they reach the proxy only "
			"when xpro-tun is attached to this host's interface (xpro-tun attach DEV --proxy ...)\n", vec_name(c));
	}
	if (b->fast == 1 && (!vec_is_raw(c))) {
		pr_warn("--fast=xdp: %s is not a raw vector (fast path: udp vse dns syn ack greip greeth)\n",
			vec_name(c));
		return 2;
	}
	b->t0_ns = xp_mono_ns();
	b->end_ns = b->t0_ns + (uint64_t)(b->duration * 1e9);
	if (!cli.quiet)
		pr_warn("%s%s, %u bot(s) from %s, %u target(s), %s, %s path, seed %llu\n", vec_name(c),
			b->v6 ? " over IPv6" : "", b->nbots, ntoa(bot_addr(b, 0), a), b->ntgt, b->tunnel ? "tunnel" : "inline",
			b->fast == 1 ? "XDP live-frames" : "AF_PACKET", (unsigned long long)b->seed);
	switch (c) {
	case VEC_UDPPLAIN:
		err = bot_run_udpplain(b);
		break;
	case VEC_STOMP:
		err = bot_run_stomp(b);
		break;
	case VEC_HTTP:
		err = bot_run_http(b);
		break;
	default:
		err = b->fast == 1 ? run_fast(b) : run_raw(b);
	}
	botlog_close(&b->log);
	if (botlog_summary(&b->log, cli.sump, b->seed, xp_real_sec(), b->errors))
		pr_warn("--summary %s: %s\n", cli.sump, strerror(errno));
	if (!cli.quiet)
		pr_warn("sent %llu packets (%llu bytes), %llu errors\n",
			(unsigned long long)b->log.packets, (unsigned long long)b->log.bytes,
			(unsigned long long)b->errors);
	return err ? 1 : 0;
}
