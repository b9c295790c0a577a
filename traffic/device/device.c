// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpro-device: many legitimate IoT devices in one process (docs/xpro-device.md).
 *
 * Device k (0-based) owns the address network + 1 + k of --sources (a local
 * range on the device host) and talks to --target with kernel sockets:
 * CoAP-like over UDP (CON POST telemetry, CON GET fw/check bursts) or
 * MQTT-like over TCP (CONNECT, PUBLISH QoS 1 or QoS 0 + PINGREQ). Every
 * request waits for its answer: RTT or timeout, one latency row each.
 *
 * With xpro-tun attached in the namespace, each device has its own proxy
 * (a per-source entry of the tunnel's tun_src map) and fails over to the
 * next proxy of its list after --failover-after consecutive timeouts.
 *
 * One thread, one epoll loop: a heap of tick times, a FIFO of request
 * deadlines (all timeouts are equal, so send order is deadline order).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "device_proto.h"
#include "safety.h"
#include "clock.h"
#include "opt.h"
#include "json.h"
#include "flowlog.h"
#include "tun_lib.h"
#include "tunnel.h"
#include "log.h"
#include "inet6.h"

#define TOOL "xpro-device"
#define MAX_DEVICES 16384
#define MAX_SECONDS 3600
#define MAX_COUNT 10000000ULL
#define PEND_MAX 32
#define MAX_BURST 16
#define MSG_MAX 512
#define IP_UDP_HDR (o.v6 ? 48 : 28) /* IPv4 or IPv6 + UDP headers */
#define IP_TCP_HDR (o.v6 ? 72 : 52) /* + TCP with the timestamps option (Linux default) */
#define FAILOVER_LINES 20

enum proto { P_COAP = 0, P_MQTT = 1 };
enum kind { K_TELEMETRY = 0, K_FW, K_CONNECT, K_PING };
enum mstate { M_IDLE = 0, M_CONNECTING, M_WAIT_CONNACK, M_READY };

struct pend {
	uint64_t sent_ns;    /* CLOCK_MONOTONIC */
	int64_t ts_ms;       /* CLOCK_REALTIME of the send, for the latency row */
	uint32_t gen;
	uint16_t id;         /* CoAP message ID, MQTT packet ID */
	uint8_t token[COAP_TOKEN_LEN];
	uint8_t kind;
	uint8_t used;
	int pidx;            /* the device's proxy when sent */
};

struct device {
	uint32_t addr;       /* network order */
	int idx;
	int proto;
	int fd;
	int mstate;
	uint64_t rng;
	uint16_t mid;
	uint32_t gen;
	uint32_t seq;
	struct pend pend[PEND_MAX];
	int consec;          /* consecutive timeouts on the current proxy */
	int pidx;            /* index into the proxy list */
	uint64_t next_burst_ns;
	uint8_t rbuf[MSG_MAX];
	size_t rlen;
	uint64_t sec_packets, sec_bytes;
	uint64_t requests, oks;
};

struct deadline {
	uint64_t at_ns;
	int dev;
	int slot;
	uint32_t gen;
};

struct heap_ent {
	uint64_t at_ns;
	int dev;
};

static struct {
	/* options */
	int ndev;
	uint32_t net;        /* host order */
	int plen;
	uint32_t target;     /* network order (IPv6: unused) */
	const char *target_s;
	int v6;              /* an IPv6 --target: the devices speak IPv6 */
	struct in6_addr target6;
	int proto;           /* P_COAP, P_MQTT, or 2 = mix */
	int coap_port, mqtt_port;
	uint32_t period_ms;
	double jitter;       /* fraction */
	double burst_every_s;
	int burst_size;
	double duration_s;
	uint64_t count;
	uint64_t seed;
	uint32_t timeout_ms;
	int failover_after;
	int qos;
	int no_tunnel;
	int proxy_first;
	const char *tun_dev, *proxies_arg, *cls;
	const char *log_path, *lat_path, *sum_path;
	const char *key_file;
} o;

static struct device *devs;
static struct heap_ent *heap;
static int nheap;
static struct deadline *dq;
static size_t dq_cap, dq_head, dq_len;
static FILE *flog, *flat;
static volatile sig_atomic_t got_signal;

/* tunnel */
static struct xtun tun;
static int tunneled;
static __be32 plist[XTUN_MAX_PROXIES];
static int pslot[XTUN_MAX_PROXIES];
static int np;

/* totals */
static uint64_t outstanding;
static uint64_t issued, n_ok, n_timeout, n_failed, n_failover, n_skipped, n_errors;
static uint64_t pkts, bytes;
static uint64_t by_proto_req[2], by_proto_ok[2];
static uint32_t *rtts;
static size_t nrtt, rtt_cap;
static int failover_lines;

/* splitmix64: one stream per device, so the schedule does not depend on timing */
static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static double rnd01(uint64_t *s)
{
	return (double)(rnd(s) >> 11) / 9007199254740992.0;
}

static uint64_t jittered_ns(uint64_t *s, double base_ms)
{
	double f = 1.0 + o.jitter * (2.0 * rnd01(s) - 1.0);

	return (uint64_t)(base_ms * f * 1e6);
}

static const char *ntop(uint32_t a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* A device's address as it speaks (IPv4, or its IPv6 name), buf >= 46 */
static const char *dntop(uint32_t a, char *buf)
{
	return xp6_name(o.v6 ? AF_INET6 : AF_INET, a, buf);
}

/* The target as text, buf >= 46 */
static const char *tntop(char *buf)
{
	return o.v6 ? inet_ntop(AF_INET6, &o.target6, buf, INET6_ADDRSTRLEN) : ntop(o.target, buf);
}

/* The socket address of device address a (or of the target: a = 0, port) */
/* IPv6: a device's name need not be an interface address: a local route
 * (ip -6 route add local 2001:db8::P/LEN dev lo) delivers its answers, and
 * IP_FREEBIND lets the socket bind to it (IPv6 has no AnyIP bind) */
static void dev_freebind(int fd)
{
	int one = 1;

	if (o.v6 && fd >= 0)
		setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one));
}

static socklen_t dev_sa(struct sockaddr_storage *ss, uint32_t a, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (o.v6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (a)
			xp6_embed(&s6->sin6_addr, a);
		else
			s6->sin6_addr = o.target6;
		return sizeof(*s6);
	}
	((struct sockaddr_in *)ss)->sin_family = AF_INET;
	((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	((struct sockaddr_in *)ss)->sin_addr.s_addr = a ? a : o.target;
	return sizeof(struct sockaddr_in);
}

/* ---- tick heap ---------------------------------------------------------- */

static void heap_push(uint64_t at, int dev)
{
	int i = nheap++;

	while (i > 0) {
		int p = (i - 1) / 2;

		if (heap[p].at_ns <= at)
			break;
		heap[i] = heap[p];
		i = p;
	}
	heap[i].at_ns = at;
	heap[i].dev = dev;
}

static struct heap_ent heap_pop(void)
{
	struct heap_ent top = heap[0], last = heap[--nheap];
	int i = 0;

	for (;;) {
		int c = 2 * i + 1;

		if (c >= nheap)
			break;
		if (c + 1 < nheap && heap[c + 1].at_ns < heap[c].at_ns)
			c++;
		if (last.at_ns <= heap[c].at_ns)
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (nheap)
		heap[i] = last;
	return top;
}

/* ---- logs --------------------------------------------------------------- */

static void account(struct device *d, uint64_t len_ip)
{
	d->sec_packets++;
	d->sec_bytes += len_ip;
	pkts++;
	bytes += len_ip;
}

static void flush_second(int64_t sec)
{
	int i;

	for (i = 0; i < o.ndev; i++) {
		struct device *d = &devs[i];

		if (!d->sec_packets)
			continue;
		if (flog && o.v6) {
			uint8_t s6[16];

			xp6_embed(s6, d->addr);
			xp_flowlog_row_af(flog, sec, AF_INET6, s6, &o.target6, o.cls, d->sec_packets, d->sec_bytes);
		} else if (flog) {
			xp_flowlog_row(flog, sec, d->addr, o.target, o.cls, d->sec_packets, d->sec_bytes);
		}
		d->sec_packets = d->sec_bytes = 0;
	}
	if (flog)
		fflush(flog);
}

static void complete(struct device *d, int slot, int ok, uint64_t now)
{
	struct pend *p = &d->pend[slot];
	uint64_t rtt_us = (now - p->sent_ns) / 1000;
	char s[INET6_ADDRSTRLEN], t[INET6_ADDRSTRLEN];

	if (flat)
		fprintf(flat, "%" PRId64 ",%s,%s,%s,%" PRIu64 ",%d\n", p->ts_ms, dntop(d->addr, s),
			tntop(t), o.cls, rtt_us, ok ? 1 : 0);
	if (ok) {
		n_ok++;
		d->oks++;
		by_proto_ok[d->proto]++;
		if (nrtt == rtt_cap) {
			size_t nc = rtt_cap ? rtt_cap * 2 : 4096;
			uint32_t *nr = realloc(rtts, nc * sizeof(*nr));

			if (nr) {
				rtts = nr;
				rtt_cap = nc;
			}
		}
		if (nrtt < rtt_cap)
			rtts[nrtt++] = rtt_us > UINT32_MAX ? UINT32_MAX : (uint32_t)rtt_us;
	}
	p->used = 0;
	outstanding--;
}

/* ---- requests ----------------------------------------------------------- */

static int pend_new(struct device *d, int kind, uint64_t now)
{
	int i;

	for (i = 0; i < PEND_MAX; i++)
		if (!d->pend[i].used)
			break;
	if (i == PEND_MAX)
		return -1;
	d->pend[i] = (struct pend){ .sent_ns = now, .ts_ms = xp_real_ms(), .gen = ++d->gen,
				    .kind = (uint8_t)kind, .used = 1, .pidx = d->pidx };
	dq[(dq_head + dq_len) % dq_cap] = (struct deadline){ now + (uint64_t)o.timeout_ms * 1000000ULL,
							     d->idx, i, d->gen };
	dq_len++;
	outstanding++;
	issued++;
	d->requests++;
	by_proto_req[d->proto]++;
	return i;
}

static int may_issue(void)
{
	return issued < o.count;
}

/* A new pending request of kind, or -1: --count is reached, or the device
 * has PEND_MAX out (counted as skipped). */
static int pend_take(struct device *d, int kind, uint64_t now)
{
	int slot;

	if (!may_issue())
		return -1;
	slot = pend_new(d, kind, now);
	if (slot < 0)
		n_skipped++;
	return slot;
}

static void fail_pending(struct device *d, uint64_t now)
{
	int i;

	for (i = 0; i < PEND_MAX; i++)
		if (d->pend[i].used) {
			n_failed++;
			complete(d, i, 0, now);
		}
}

static void coap_send(struct device *d, int kind, uint64_t now)
{
	uint8_t msg[MSG_MAX];
	char payload[96];
	uint64_t r = rnd(&d->rng);
	int slot, len, pl = 0;

	slot = pend_take(d, kind, now);
	if (slot < 0)
		return;
	d->pend[slot].id = ++d->mid;
	memcpy(d->pend[slot].token, &r, COAP_TOKEN_LEN);
	if (kind == K_TELEMETRY) {
		pl = snprintf(payload, sizeof(payload), "{\"id\":%d,\"seq\":%u,\"temp\":%.1f}", d->idx,
			      ++d->seq, 18.0 + 10.0 * rnd01(&d->rng));
		len = coap_request(msg, sizeof(msg), COAP_CON, COAP_POST, d->mid, d->pend[slot].token,
				   "telemetry", payload, (size_t)pl);
	} else {
		len = coap_request(msg, sizeof(msg), COAP_CON, COAP_GET, d->mid, d->pend[slot].token,
				   "fw/check", NULL, 0);
	}
	if (len < 0 || send(d->fd, msg, (size_t)len, MSG_DONTWAIT) != len) {
		n_errors++;
		n_failed++;
		complete(d, slot, 0, now);
		return;
	}
	account(d, IP_UDP_HDR + (uint64_t)len);
}

static int mqtt_write(struct device *d, const uint8_t *msg, int len)
{
	if (len < 0 || send(d->fd, msg, (size_t)len, MSG_DONTWAIT | MSG_NOSIGNAL) != len) {
		n_errors++;
		return -1;
	}
	account(d, IP_TCP_HDR + (uint64_t)len);
	return 0;
}

static void mqtt_close(struct device *d, int ep)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (d->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, d->fd, NULL);
		setsockopt(d->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)); /* RST, no FIN_WAIT */
		close(d->fd);
	}
	d->fd = -1;
	d->mstate = M_IDLE;
	d->rlen = 0;
}

static void mqtt_connect_start(struct device *d, int ep, uint64_t now)
{
	struct sockaddr_storage src, dst;
	socklen_t sl = dev_sa(&src, d->addr, 0), dl = dev_sa(&dst, 0, o.mqtt_port);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u64 = (uint64_t)d->idx };
	int slot, one = 1;

	slot = pend_take(d, K_CONNECT, now);
	if (slot < 0)
		return;
	d->fd = socket(o.v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd < 0)
		goto fail;
	setsockopt(d->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	dev_freebind(d->fd);
	if (bind(d->fd, (struct sockaddr *)&src, sl))
		goto fail;
	if (connect(d->fd, (struct sockaddr *)&dst, dl) && errno != EINPROGRESS)
		goto fail;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, d->fd, &ev))
		goto fail;
	d->mstate = M_CONNECTING;
	return;
fail:
	n_errors++;
	n_failed++;
	complete(d, slot, 0, now);
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	d->mstate = M_IDLE;
}

static int pend_find_kind(struct device *d, int kind)
{
	int i, best = -1;

	for (i = 0; i < PEND_MAX; i++)
		if (d->pend[i].used && d->pend[i].kind == kind &&
		    (best < 0 || d->pend[i].sent_ns < d->pend[best].sent_ns))
			best = i;
	return best;
}

static void mqtt_send(struct device *d, int kind, uint64_t now)
{
	uint8_t msg[MSG_MAX];
	char topic[96], payload[96], a[INET_ADDRSTRLEN];
	int slot, len, pl;

	ntop(d->addr, a);
	if (kind == K_TELEMETRY) {
		snprintf(topic, sizeof(topic), "devices/%s/telemetry", a);
		pl = snprintf(payload, sizeof(payload), "{\"id\":%d,\"seq\":%u,\"temp\":%.1f}", d->idx,
			      ++d->seq, 18.0 + 10.0 * rnd01(&d->rng));
	} else {
		snprintf(topic, sizeof(topic), "devices/%s/fw/check", a);
		pl = snprintf(payload, sizeof(payload), "{\"id\":%d,\"fw\":\"1.0.%u\"}", d->idx, d->seq % 10);
	}
	if (o.qos == 1) {
		slot = pend_take(d, kind, now);
		if (slot < 0)
			return;
		if (++d->mid == 0)
			d->mid = 1; /* MQTT packet IDs are non-zero */
		d->pend[slot].id = d->mid;
		len = mqtt_publish(msg, sizeof(msg), 1, d->mid, topic, payload, (size_t)pl);
		if (mqtt_write(d, msg, len)) {
			n_failed++;
			complete(d, slot, 0, now);
		}
		return;
	}
	/* QoS 0: the publish has no answer; a PINGREQ after it is the request */
	if (!may_issue())
		return;
	len = mqtt_publish(msg, sizeof(msg), 0, 0, topic, payload, (size_t)pl);
	if (mqtt_write(d, msg, len))
		return;
	if (pend_find_kind(d, K_PING) >= 0)
		return; /* one ping outstanding at a time: answers carry no ID */
	slot = pend_take(d, K_PING, now);
	if (slot < 0)
		return;
	len = mqtt_pingreq(msg, sizeof(msg));
	if (mqtt_write(d, msg, len)) {
		n_failed++;
		complete(d, slot, 0, now);
	}
}

static void tick(struct device *d, int ep, uint64_t now)
{
	int n = 1, kind = K_TELEMETRY, i;

	if (o.burst_every_s > 0 && now >= d->next_burst_ns) {
		n = o.burst_size;
		kind = K_FW;
		d->next_burst_ns = now + jittered_ns(&d->rng, o.burst_every_s * 1000.0);
	}
	if (d->proto == P_MQTT) {
		if (d->mstate == M_IDLE) {
			mqtt_connect_start(d, ep, now);
			return;
		}
		if (d->mstate != M_READY) {
			n_skipped++;
			return;
		}
	}
	for (i = 0; i < n && may_issue(); i++) {
		if (d->proto == P_COAP)
			coap_send(d, kind, now);
		else
			mqtt_send(d, kind, now);
	}
}

/* ---- tunnel, failover ---------------------------------------------------- */

static int tun_choose(struct device *d)
{
	int err;

	if (!tunneled)
		return 0;
	err = xtun_src_set(&tun, d->addr, (__u32)pslot[d->pidx]);
	if (err)
		n_errors++;
	return err;
}

static void failover(struct device *d, int ep, uint64_t now)
{
	char a[INET_ADDRSTRLEN], p1[INET_ADDRSTRLEN], p2[INET_ADDRSTRLEN];
	int old = d->pidx;

	d->pidx = (d->pidx + 1) % np;
	d->consec = 0;
	n_failover++;
	tun_choose(d);
	if (failover_lines++ < FAILOVER_LINES)
		pr_warn("device %s: proxy %s timed out %d times; now %s\n", ntop(d->addr, a),
			ntop(plist[old], p1), o.failover_after, ntop(plist[d->pidx], p2));
	if (d->proto == P_MQTT) {
		/* the connection's state is stuck behind the old proxy: start over */
		fail_pending(d, now);
		mqtt_close(d, ep);
		mqtt_connect_start(d, ep, now);
	}
}

static void expire(int ep, uint64_t now)
{
	while (dq_len) {
		struct deadline *x = &dq[dq_head];
		struct device *d;
		struct pend *p;

		if (x->at_ns > now)
			break;
		d = &devs[x->dev];
		p = &d->pend[x->slot];
		dq_head = (dq_head + 1) % dq_cap;
		dq_len--;
		if (!p->used || p->gen != x->gen)
			continue; /* answered already */
		n_timeout++;
		{
			int counts = p->pidx == d->pidx;

			complete(d, x->slot, 0, now);
			if (!counts)
				continue; /* sent through a proxy the device has left */
		}
		if (++d->consec >= o.failover_after && tunneled && np > 1)
			failover(d, ep, now);
		else if (d->proto == P_MQTT && d->mstate != M_READY && d->fd >= 0 &&
			 pend_find_kind(d, K_CONNECT) < 0) {
			/* the connect itself timed out: try again at the next tick */
			mqtt_close(d, ep);
		}
	}
}

/* ---- receive ------------------------------------------------------------- */

static void on_coap(struct device *d, uint64_t now)
{
	uint8_t buf[MSG_MAX];
	int guard;

	for (guard = 0; guard < 64; guard++) {
		struct coap_reply r;
		ssize_t n = recv(d->fd, buf, sizeof(buf), MSG_DONTWAIT);
		int i;

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				n_errors++; /* ICMP errors: ECONNREFUSED */
			return;
		}
		if (coap_parse(buf, (size_t)n, &r) || r.tkl != COAP_TOKEN_LEN)
			continue;
		for (i = 0; i < PEND_MAX; i++) {
			struct pend *p = &d->pend[i];

			if (!p->used || memcmp(p->token, r.token, COAP_TOKEN_LEN))
				continue;
			if (r.type == COAP_ACK && r.mid != p->id)
				continue;
			d->consec = 0;
			if (r.type == COAP_RST || (r.code >> 5) != 2)
				n_failed++;
			complete(d, i, r.type != COAP_RST && (r.code >> 5) == 2, now);
			break;
		}
	}
}

static void on_mqtt(struct device *d, int ep, uint32_t events, uint64_t now)
{
	uint8_t msg[MSG_MAX];
	char id[48], a[INET_ADDRSTRLEN];
	ssize_t n;

	if (d->mstate == M_CONNECTING && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
		int err = 0;
		socklen_t el = sizeof(err);
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)d->idx };

		getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			int c = pend_find_kind(d, K_CONNECT);

			if (c >= 0) {
				n_failed++;
				complete(d, c, 0, now);
			}
			n_errors++;
			mqtt_close(d, ep);
			return;
		}
		epoll_ctl(ep, EPOLL_CTL_MOD, d->fd, &ev);
		snprintf(id, sizeof(id), "xpro-dev-%s", ntop(d->addr, a));
		if (mqtt_write(d, msg, mqtt_connect(msg, sizeof(msg), id, 60))) {
			mqtt_close(d, ep);
			return;
		}
		d->mstate = M_WAIT_CONNACK;
		return;
	}
	if (d->fd < 0)
		return;
	n = recv(d->fd, d->rbuf + d->rlen, sizeof(d->rbuf) - d->rlen, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		/* closed by the peer: what was outstanding will not be answered */
		fail_pending(d, now);
		mqtt_close(d, ep);
		return;
	}
	if (n < 0)
		return;
	d->rlen += (size_t)n;
	for (;;) {
		struct mqtt_packet p;
		int r = mqtt_next(d->rbuf, d->rlen, &p), slot = -1, i;

		if (r == 0)
			break;
		if (r < 0 || p.total > sizeof(d->rbuf)) {
			n_errors++;
			fail_pending(d, now);
			mqtt_close(d, ep);
			return;
		}
		switch (p.type) {
		case MQTT_CONNACK:
			slot = pend_find_kind(d, K_CONNECT);
			if (p.id == 0)
				d->mstate = M_READY;
			break;
		case MQTT_PUBACK:
			for (i = 0; i < PEND_MAX; i++)
				if (d->pend[i].used && d->pend[i].kind != K_CONNECT &&
				    d->pend[i].kind != K_PING && d->pend[i].id == p.id)
					slot = i;
			break;
		case MQTT_PINGRESP:
			slot = pend_find_kind(d, K_PING);
			break;
		}
		if (slot >= 0) {
			int ok = !(p.type == MQTT_CONNACK && p.id != 0);

			d->consec = 0;
			if (!ok)
				n_failed++;
			complete(d, slot, ok, now);
		}
		memmove(d->rbuf, d->rbuf + p.total, d->rlen - p.total);
		d->rlen -= p.total;
	}
}

/*
 * MQTT at exit: DISCONNECT, half-close, and wait (at most --timeout) for the
 * peer's close, so that the last ACK of each connection has left through the
 * device's proxy before the per-source entries are removed. What does not
 * close in time is reset.
 */
static void mqtt_goodbye(int ep)
{
	struct epoll_event evs[64];
	uint64_t until = xp_mono_ns() + (uint64_t)o.timeout_ms * 1000000ULL;
	int i, open = 0;

	for (i = 0; i < o.ndev; i++) {
		struct device *d = &devs[i];
		uint8_t msg[4];

		if (d->proto != P_MQTT || d->fd < 0)
			continue;
		if (d->mstate == M_READY && !mqtt_write(d, msg, mqtt_disconnect(msg, sizeof(msg))) &&
		    !shutdown(d->fd, SHUT_WR)) {
			d->mstate = M_IDLE;
			open++;
		} else {
			mqtt_close(d, ep);
		}
	}
	while (open > 0) {
		uint64_t now = xp_mono_ns();
		int n;

		if (now >= until)
			break;
		n = epoll_wait(ep, evs, 64, (int)((until - now) / 1000000) + 1);
		if (n < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			struct device *d = &devs[evs[i].data.u64];
			uint8_t buf[256];
			ssize_t r;

			if (d->proto != P_MQTT || d->fd < 0)
				continue;
			r = recv(d->fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
				epoll_ctl(ep, EPOLL_CTL_DEL, d->fd, NULL);
				close(d->fd);
				d->fd = -1;
				open--;
			}
		}
	}
	for (i = 0; i < o.ndev; i++)
		if (devs[i].proto == P_MQTT && devs[i].fd >= 0)
			mqtt_close(&devs[i], ep);
}

/* ---- setup --------------------------------------------------------------- */

#define USAGE \
	"usage: xpro-device --target ADDR --duration S [--devices N] [--sources CIDR]\n" \
	"                   [--proto coap|mqtt|mix] [--period MS] [--jitter PCT] [--burst-every S]\n" \
	"                   [--burst-size K] [--count N] [--seed N] [--timeout MS] [--qos 0|1]\n" \
	"                   [--failover-after N] [--tun-dev DEV] [--proxies A,B,...] [--proxy-start\n" \
	"                   spread|first] [--no-tunnel] [--coap-port P] [--mqtt-port P] [--class NAME]\n" \
	"                   [--log FILE] [--latency FILE] [--summary FILE]\n" \
	"\n" \
	"Legitimate IoT devices, one source address each (device k: the range's address 1+k),\n" \
	"talking to the victim service with kernel sockets, periodically with jitter:\n" \
	"  coap  UDP to --coap-port (5684): CON POST /telemetry (JSON), bursts of CON GET /fw/check\n" \
	"  mqtt  TCP to --mqtt-port (1883): CONNECT, then PUBLISH QoS 1 (PUBACK expected), or with\n" \
	"        --qos 0 PUBLISH QoS 0 followed by PINGREQ (PINGRESP expected)\n" \
	"  mix   device k uses coap for even k, mqtt for odd k\n" \
	"Each request waits for its answer (RTT) or --timeout (default 1000 ms).\n" \
	"\n"

/* A.B.C.D/8..30, masked, host order */
static const char *opt_sources(const char *s, void *dst)
{
	char buf[64], *slash;
	struct in_addr in;
	int64_t l;

	(void)dst;
	if (xp6_is_text6(s)) {
		char e[160];
		uint32_t v4;
		int l4;

		/* the IPv6 name of the devices' IPv4 range (their outer addresses) */
		if (xp6_parse_embedded(s, &v4, &l4, e, sizeof(e)) || l4 < 8 || l4 > 30 || !strchr(s, '/'))
			return "is not an IPv4 prefix A.B.C.D/8..30 or its IPv6 name 2001:db8::P/104..126";
		o.plen = l4;
		o.net = ntohl(v4) & (0xFFFFFFFFu << (32 - l4));
		return NULL;
	}
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if (!slash)
		return "is not an IPv4 prefix A.B.C.D/8..30";
	*slash = '\0';
	if (inet_pton(AF_INET, buf, &in) != 1 || xp_parse_i64(slash + 1, 8, 30, &l))
		return "is not an IPv4 prefix A.B.C.D/8..30";
	o.plen = (int)l;
	o.net = ntohl(in.s_addr) & (0xFFFFFFFFu << (32 - l));
	return NULL;
}

static void parse_opts(int argc, char **argv)
{
	double jitter_pct = 10;
	const struct xp_opt tab[] = {
		XP_INT("devices", 0, &o.ndev, 1, MAX_DEVICES, "N",
		       "1-" XP_STRINGIFY(MAX_DEVICES) " (default 1), at most the range's size - 2"),
		XP_FN("sources", 0, opt_sources, NULL, "CIDR", "local range of the device host (default 198.18.16.0/20), or its\n"
		      "IPv6 name (2001:db8::c612:1000/116; ip -6 route add local ... dev lo)"),
		XP_STR("target", 0, &o.target_s, "ADDR",
		       "the victim service (required): IPv4, or IPv6 inside " XPRO_TESTBED6_STR "\n"
		       "(then every device speaks IPv6 from its address's IPv6 name,\n"
		       "2001:db8:: + the IPv4 address: see --sources)"),
		XP_CHOICE("proto", 0, &o.proto, "coap|mqtt|mix", /* P_COAP, P_MQTT, 2 */
			  "the devices' protocol (default coap)"),
		XP_UINT("period", 0, &o.period_ms, 1, 3600000, "MS", "telemetry period per device (default 1000); --jitter PCT: +-PCT%\n"
			"of it at random (default 10); the first tick at a random phase"),
		XP_DOUBLE("jitter", 0, &jitter_pct, 0, 100, "PCT", NULL),
		XP_DOUBLE("burst-every", 0, &o.burst_every_s, 0, MAX_SECONDS, "S",
			  "a firmware check every S seconds per device (+- jitter): --burst-size\n"
			  "K requests (default 5, at most " XP_STRINGIFY(MAX_BURST) ") back to back; 0: none (default)"),
		XP_INT("burst-size", 0, &o.burst_size, 1, MAX_BURST, "K", NULL),
		XP_DOUBLE("duration", 0, &o.duration_s, 0.001, MAX_SECONDS, "S",
			  "required, at most " XP_STRINGIFY(MAX_SECONDS) ": no request is sent after it; answers are\n"
			  "awaited for --timeout more"),
		XP_U64("count", 0, &o.count, 1, (double)MAX_COUNT, "N", "requests in all, then stop (default and at most 10000000)"),
		XP_U64("seed", 0, &o.seed, 0, 1e18, "N", "schedule, jitter, tokens, payloads (default 1)"),
		XP_UINT("timeout", 0, &o.timeout_ms, 1, 60000, "MS", "wait for each answer (default 1000)"),
		XP_INT("qos", 0, &o.qos, 0, 1, "0|1", "mqtt: PUBLISH QoS (default 1)"),
		XP_INT("failover-after", 0, &o.failover_after, 1, 1000, "N",
		       "consecutive timeouts after which a device moves to the next proxy\nof its list (default 3)"),
		XP_STR("tun-dev", 0, &o.tun_dev, "DEV", "the interface with xpro-tun (default: the one that has it, if any)"),
		XP_STR("proxies", 0, &o.proxies_arg, "LIST", "the devices' proxy list, a subset of the tunnel's (default: all)"),
		XP_CHOICE("proxy-start", 0, &o.proxy_first, "spread|first",
		      "spread: device k starts on proxy k mod P (default); first: all on the first"),
		XP_STR("key-file", 0, &o.key_file, "FILE",
		       "client identity: each device's key from FILE (the proxies' device_keys,\n"
		       "'A.B.C.D KEY' lines) into the tunnel, which then sends header version 2\n"
		       "for it (docs/protocol.md); the keys stay until xpro-tun detach"),
		XP_FLAG("no-tunnel", 0, &o.no_tunnel,
			"leave the tunnel's per-source map alone: no per-device proxy, no failover"),
		XP_INT("coap-port", 0, &o.coap_port, 1, 65535, "P", "the victim's CoAP port (default 5684)"),
		XP_INT("mqtt-port", 0, &o.mqtt_port, 1, 65535, "P", "the victim's MQTT port (default 1883)"),
		XP_STR("class", 0, &o.cls, "NAME", "class in the logs (default legit)"),
		XP_STR("log", 0, &o.log_path, "FILE", "sent per second: ts,src,dst,class,packets,bytes ('-' stdout)"),
		XP_STR("latency", 0, &o.lat_path, "FILE", "one row per request: ts_ms,src,dst,class,rtt_us,ok"),
		XP_STR("summary", 0, &o.sum_path, "FILE", "JSON at exit"),
		XP_TEXT("\nDestinations must lie in " XPRO_TESTBED_STR "; refuses to run in the initial network namespace or\n"
			"where a route leads outside it. Exit: 0, 1 with a one-line reason, 2 usage."),
		{ 0 },
	};
	int first = xp_opt_parse(TOOL, USAGE, tab, argc, argv);

	if (first < argc)
		xp_opt_die(TOOL, "unexpected argument '%s'", argv[first]);
	o.jitter = jitter_pct / 100.0;
	if (!o.target_s || !o.duration_s)
		xp_opt_die(TOOL, "--target and --duration are required (see --help)");
	if (inet_pton(AF_INET, o.target_s, &o.target) != 1) {
		if (inet_pton(AF_INET6, o.target_s, &o.target6) != 1)
			xp_opt_die(TOOL, "--target '%s': not an IPv4 or IPv6 address", o.target_s);
		o.v6 = 1;
	}
}

/* --key-file: each device's own key into the tunnel's tun_keys (a key
 * already there is kept, with its sequence counter). */
static int put_keys(void)
{
	struct xpro_keyfile kf;
	char e[256];
	int i, have = 0, err = 0;

	if (xpro_keyfile_load(o.key_file, &kf, e, sizeof(e)) < 0) {
		pr_warn("--key-file: %s\n", e);
		return -1;
	}
	for (i = 0; i < o.ndev && !err; i++) {
		__be32 addr = htonl(o.net + 1 + (uint32_t)i);
		struct xpro_tun_key *k = xpro_keyfile_find(&kf, addr);
		struct xtun_key tk;

		if (!k)
			continue;
		tk = (struct xtun_key){ .k0 = k->k0, .k1 = k->k1, .index = k->index };
		err = xtun_key_set(&tun, addr, &tk);
		have++;
	}
	xpro_keyfile_free(&kf);
	if (err) {
		pr_warn("--key-file: writing the tunnel's keys on %s: %s\n", tun.ifname,
			err == -EOPNOTSUPP ? "its program predates client identity (detach, attach)" : strerror(-err));
		return -1;
	}
	pr_warn("--key-file %s: %d of %d device(s) send header version 2\n", o.key_file, have, o.ndev);
	return 0;
}

static int setup_tunnel(void)
{
	struct xtun_cfg cfg;
	char a[INET_ADDRSTRLEN];
	int err, i;

	if (o.no_tunnel && o.key_file) {
		pr_warn("--key-file needs the tunnel (not --no-tunnel)\n");
		return -1;
	}
	if (o.no_tunnel)
		return 0;
	err = o.tun_dev ? xtun_open(o.tun_dev, &tun) : xtun_open_any(&tun);
	if (err == -ENOENT && !o.tun_dev && o.key_file) {
		pr_warn("--key-file: no xpro-tun attached in this namespace\n");
		return -1;
	}
	if (err == -ENOENT && !o.tun_dev) {
		pr_warn("no xpro-tun attached in this namespace: plain routing, no failover\n");
		return 0;
	}
	if (err == -EEXIST) {
		pr_warn("several interfaces have xpro-tun attached: name one with --tun-dev\n");
		return -1;
	}
	if (err) {
		pr_warn("--tun-dev %s: %s\n", o.tun_dev,
			err == -ENODEV ? "no such interface" : err == -ENOENT ? "xpro-tun is not attached" : strerror(-err));
		return -1;
	}
	if ((err = xtun_get_cfg(&tun, &cfg))) {
		pr_warn("%s: reading the tunnel's config: %s\n", tun.ifname, strerror(-err));
		return -1;
	}
	if (o.proxies_arg) {
		char *dup = strdup(o.proxies_arg), *tok, *save = NULL;

		for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			struct in_addr in;
			int s;

			if (np >= XTUN_MAX_PROXIES || inet_pton(AF_INET, tok, &in) != 1) {
				pr_warn("--proxies: '%s' is not an IPv4 address (at most %d)\n", tok,
					XTUN_MAX_PROXIES);
				free(dup);
				return -1;
			}
			s = xtun_slot_of(&tun, in.s_addr);
			if (s < 0) {
				pr_warn("--proxies: %s is not a proxy of the tunnel on %s\n", tok,
					tun.ifname);
				free(dup);
				return -1;
			}
			plist[np] = in.s_addr;
			pslot[np++] = s;
		}
		free(dup);
	} else {
		for (i = 0; i < (int)cfg.nproxies && i < XTUN_MAX_PROXIES; i++) {
			struct xtun_proxy p;

			if (xtun_get_proxy(&tun, (__u32)i, &p))
				continue;
			plist[np] = p.addr;
			pslot[np++] = i;
		}
	}
	if (!np) {
		pr_warn("%s: the tunnel has no proxies\n", tun.ifname);
		return -1;
	}
	for (i = 0; i < np; i++)
		if (xpro_check_dest(TOOL, plist[i]))
			return -1;
	if (o.key_file && put_keys())
		return -1;
	tunneled = 1;
	pr_warn("tunnel on %s: %d prox%s, first %s; per-device choice, failover after %d timeouts\n",
		tun.ifname, np, np == 1 ? "y" : "ies", ntop(plist[0], a), o.failover_after);
	return 0;
}

static FILE *open_out(const char *path, const char *what)
{
	FILE *f;

	if (!path)
		return NULL;
	if (!strcmp(path, "-"))
		return stdout;
	f = fopen(path, "w");
	if (!f)
		pr_warn("%s %s: %s\n", what, path, strerror(errno));
	return f;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void write_summary(int64_t started, int64_t ended, const char *stopped_by)
{
	FILE *f = open_out(o.sum_path, "--summary");
	char a[INET6_ADDRSTRLEN], q[512];
	double mean = 0;
	size_t i;
	int k;

	if (!f)
		return;
	qsort(rtts, nrtt, sizeof(*rtts), cmp_u32);
	for (i = 0; i < nrtt; i++)
		mean += rtts[i];
	if (nrtt)
		mean /= (double)nrtt;
	fprintf(f, "{\"tool\":\"xpro-device\",\"seed\":%" PRIu64 ",\"started\":%" PRId64 ",\"ended\":%" PRId64
		   ",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"by_class\":{%s:{\"packets\":%" PRIu64
		   ",\"bytes\":%" PRIu64 "}},\"errors\":%" PRIu64 ",",
		o.seed, started, ended, pkts, bytes, xp_json_q(q, sizeof(q), o.cls), pkts, bytes, n_errors);
	fprintf(f, "\"devices\":%d,\"target\":\"%s\",\"requests\":%" PRIu64 ",\"ok\":%" PRIu64
		   ",\"timeouts\":%" PRIu64 ",\"failed\":%" PRIu64 ",\"skipped\":%" PRIu64
		   ",\"failovers\":%" PRIu64 ",",
		o.ndev, tntop(a), issued, n_ok, n_timeout, n_failed, n_skipped, n_failover);
	fprintf(f, "\"by_proto\":{\"coap\":{\"requests\":%" PRIu64 ",\"ok\":%" PRIu64 "},\"mqtt\":{\"requests\":%" PRIu64
		   ",\"ok\":%" PRIu64 "}},",
		by_proto_req[P_COAP], by_proto_ok[P_COAP], by_proto_req[P_MQTT], by_proto_ok[P_MQTT]);
	if (nrtt)
		fprintf(f, "\"rtt_us\":{\"min\":%u,\"p50\":%u,\"p90\":%u,\"p99\":%u,\"max\":%u,\"mean\":%.1f},",
			rtts[0], rtts[nrtt / 2], rtts[nrtt * 9 / 10], rtts[nrtt * 99 / 100], rtts[nrtt - 1], mean);
	else
		fprintf(f, "\"rtt_us\":null,");
	fprintf(f, "\"tunnel\":%s,\"proxies\":[", tunneled ? "true" : "false");
	for (k = 0; k < np && tunneled; k++)
		fprintf(f, "%s\"%s\"", k ? "," : "", ntop(plist[k], a));
	fprintf(f, "],\"stopped_by\":\"%s\"}\n", stopped_by);
	if (f != stdout)
		fclose(f);
	else
		fflush(f);
}

static void on_signal(int sig)
{
	got_signal = sig;
}

int main(int argc, char **argv)
{
	struct epoll_event evs[256];
	struct sigaction sa = { .sa_handler = on_signal };
	uint64_t start_ns, end_ns, hard_end_ns, now;
	int64_t started, cur_sec;
	const char *stopped_by = "duration";
	int ep, i, rc = 0;
	char a[INET6_ADDRSTRLEN];

	xpro_prog = TOOL;
	o.ndev = 1;
	o.net = 0xC6121000u; /* 198.18.16.0/20 */
	o.plen = 20;
	o.coap_port = 5684;
	o.mqtt_port = 1883;
	o.period_ms = 1000;
	o.burst_size = 5;
	o.count = MAX_COUNT;
	o.seed = 1;
	o.timeout_ms = 1000;
	o.failover_after = 3;
	o.qos = 1;
	o.cls = "legit";
	parse_opts(argc, argv);
	if (strpbrk(o.cls, ",\n\"")) {
		pr_warn("--class: '%s' may not contain a comma or a quote\n", o.cls);
		return 2;
	}
	/* safety first: nothing is opened before these */
	if (xpro_testbed_check(TOOL) ||
	    (o.v6 ? xpro_check_dest6(TOOL, &o.target6) : xpro_check_dest(TOOL, o.target)))
		return 1;
	if (!xpro_prefix_in_testbed(htonl(o.net), o.plen)) {
		pr_warn("refusing --sources %s/%d: outside the testbed range %s\n",
			ntop(htonl(o.net), a), o.plen, XPRO_TESTBED_STR);
		return 1;
	}
	if ((uint64_t)o.ndev + 2 > (1ULL << (32 - o.plen))) {
		pr_warn("--devices %d: the range /%d holds %llu device addresses\n", o.ndev, o.plen,
			(1ULL << (32 - o.plen)) - 2);
		return 2;
	}
	{
		struct rlimit rl;

		if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < (rlim_t)o.ndev + 64) {
			rl.rlim_cur = rl.rlim_max < (rlim_t)o.ndev + 64 ? rl.rlim_max : (rlim_t)o.ndev + 64;
			setrlimit(RLIMIT_NOFILE, &rl);
		}
	}
	devs = calloc((size_t)o.ndev, sizeof(*devs));
	heap = calloc((size_t)o.ndev + 1, sizeof(*heap));
	dq_cap = (size_t)o.ndev * PEND_MAX + 1;
	dq = calloc(dq_cap, sizeof(*dq));
	if (!devs || !heap || !dq) {
		pr_warn("out of memory for %d devices\n", o.ndev);
		return 1;
	}
	if (setup_tunnel())
		return 1;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0) {
		pr_warn("epoll: %s\n", strerror(errno));
		return 1;
	}
	flog = open_out(o.log_path, "--log");
	flat = open_out(o.lat_path, "--latency");
	if ((o.log_path && !flog) || (o.lat_path && !flat))
		return 1;
	if (flog)
		fputs(XP_FLOWLOG_HEADER "\n", flog);
	if (flat)
		fprintf(flat, "ts_ms,src,dst,class,rtt_us,ok\n");

	start_ns = xp_mono_ns();
	started = xp_real_ms() / 1000;
	for (i = 0; i < o.ndev; i++) {
		struct device *d = &devs[i];

		d->idx = i;
		d->addr = htonl(o.net + 1 + (uint32_t)i);
		d->fd = -1;
		d->rng = o.seed * 0x9E3779B97F4A7C15ULL + (uint64_t)i * 0xD1B54A32D192ED03ULL + 1;
		d->proto = o.proto == 2 ? (i % 2 ? P_MQTT : P_COAP) : o.proto;
		d->mid = (uint16_t)rnd(&d->rng);
		d->pidx = (tunneled && !o.proxy_first) ? i % np : 0;
		d->next_burst_ns = start_ns + jittered_ns(&d->rng, o.burst_every_s * 1000.0);
		if (tunneled && tun_choose(d)) {
			pr_warn("%s: writing the per-source proxy of %s failed\n", tun.ifname,
				ntop(d->addr, a));
			rc = 1;
			goto out;
		}
		if (d->proto == P_COAP) {
			struct sockaddr_storage src, dst;
			socklen_t sl = dev_sa(&src, d->addr, 0), dl = dev_sa(&dst, 0, o.coap_port);
			struct epoll_event ev = { .events = EPOLLIN, .data.u64 = (uint64_t)i };

			d->fd = socket(o.v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
			dev_freebind(d->fd);
			if (d->fd < 0 || bind(d->fd, (struct sockaddr *)&src, sl)) {
				char nb[INET_ADDRSTRLEN];

				pr_warn("source %s: cannot bind: %s (is %s/%d a local route? ip route add local %s/%d dev lo)\n",
					dntop(d->addr, a), strerror(errno), ntop(htonl(o.net), nb), o.plen, nb, o.plen);
				rc = 1;
				goto out;
			}
			if (connect(d->fd, (struct sockaddr *)&dst, dl) ||
			    epoll_ctl(ep, EPOLL_CTL_ADD, d->fd, &ev)) {
				pr_warn("source %s: %s\n", ntop(d->addr, a), strerror(errno));
				rc = 1;
				goto out;
			}
		}
		/* first tick at a random phase of the period */
		heap_push(start_ns + (uint64_t)(rnd01(&d->rng) * o.period_ms * 1e6), i);
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	pr_warn("%d devices from %s/%d to %s, %s, period %u ms, seed %" PRIu64 "\n", o.ndev,
		ntop(htonl(o.net), a), o.plen, tntop((char[INET6_ADDRSTRLEN]){ 0 }),
		o.proto == 2 ? "mix" : o.proto ? "mqtt" : "coap", o.period_ms, o.seed);

	end_ns = start_ns + (uint64_t)(o.duration_s * 1e9);
	hard_end_ns = end_ns + (uint64_t)o.timeout_ms * 1000000ULL + 100000000ULL;
	cur_sec = xp_real_ms() / 1000;
	for (;;) {
		uint64_t wake;
		int n, to_ms;
		int64_t sec;

		now = xp_mono_ns();
		if (got_signal) {
			stopped_by = got_signal == SIGINT ? "SIGINT" : "SIGTERM";
			break;
		}
		sec = xp_real_ms() / 1000;
		if (sec != cur_sec) {
			flush_second(cur_sec);
			cur_sec = sec;
		}
		expire(ep, now);
		if (now >= hard_end_ns)
			break;
		if (now < end_ns && may_issue()) {
			while (nheap && heap[0].at_ns <= now && may_issue()) {
				struct heap_ent e = heap_pop();
				struct device *d = &devs[e.dev];

				tick(d, ep, now);
				heap_push(e.at_ns + jittered_ns(&d->rng, o.period_ms), e.dev);
			}
		} else if (!outstanding) {
			break; /* nothing more to send, nothing outstanding */
		}
		wake = hard_end_ns;
		if (now < end_ns && may_issue() && nheap && heap[0].at_ns < wake)
			wake = heap[0].at_ns;
		if (now < end_ns && end_ns < wake)
			wake = end_ns;
		if (dq_len && dq[dq_head].at_ns < wake)
			wake = dq[dq_head].at_ns;
		to_ms = wake > now ? (int)((wake - now + 999999) / 1000000) : 0;
		if (to_ms > 1000 - (int)(xp_real_ms() % 1000))
			to_ms = 1000 - (int)(xp_real_ms() % 1000); /* the second's bucket */
		n = epoll_wait(ep, evs, 256, to_ms);
		if (n < 0 && errno != EINTR) {
			pr_warn("epoll_wait: %s\n", strerror(errno));
			rc = 1;
			break;
		}
		now = xp_mono_ns();
		for (i = 0; i < n; i++) {
			struct device *d = &devs[evs[i].data.u64];

			if (d->proto == P_COAP)
				on_coap(d, now);
			else
				on_mqtt(d, ep, evs[i].events, now);
		}
	}
	if (!got_signal && !may_issue())
		stopped_by = "count";
	/* whatever is still outstanding is unanswered */
	now = xp_mono_ns();
	for (i = 0; i < o.ndev; i++) {
		struct device *d = &devs[i];
		int k;

		for (k = 0; k < PEND_MAX; k++)
			if (d->pend[k].used) {
				n_timeout++;
				complete(d, k, 0, now);
			}
	}
	mqtt_goodbye(ep);
	flush_second(cur_sec);
out:
	for (i = 0; i < o.ndev; i++) {
		if (devs[i].fd >= 0)
			close(devs[i].fd);
		if (tunneled && devs[i].addr)
			xtun_src_del(&tun, devs[i].addr);
	}
	if (tunneled)
		xtun_close(&tun);
	if (flat && flat != stdout)
		fclose(flat);
	xp_csv_close(flog);
	if (!rc)
		write_summary(started, xp_real_ms() / 1000, stopped_by);
	pr_warn("%" PRIu64 " requests, %" PRIu64 " answered, %" PRIu64 " timed out, %" PRIu64
		" failovers (%s)\n", issued, n_ok, n_timeout, n_failover, stopped_by);
	return rc;
}
