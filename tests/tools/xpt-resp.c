// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpt-resp: a small victim-side responder for the tunnel and device tests
 * (the full one is xpro-sink). Answers, for --duration seconds:
 *   HTTP/1.x on TCP (default 80): reads a request (and its Content-Length
 *     body), answers 200 with "from SRC: N body bytes\n" (or, for
 *     GET /bytes/N, N bytes of 'x'), closes;
 *   CoAP on UDP (default 5684): a CON request gets a piggybacked ACK 2.05
 *     (same message ID and token), a NON request a NON 2.05 (same token);
 *   MQTT on TCP (default 1883): CONNECT -> CONNACK, PUBLISH QoS1 -> PUBACK,
 *     PINGREQ -> PINGRESP, DISCONNECT closes.
 * Prints at exit one JSON object: counts per protocol and per source address.
 * Refuses to run in the initial network namespace (lib/safety.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "safety.h"
#include "clock.h"
#include "opt.h"
#include "log.h"

#define TOOL "xpt-resp"
#define MAX_CONN 8192
#define MAX_SRC 8192
#define BUF 4096
#define MAX_SECONDS 600

enum kind { K_HTTP_L = 1, K_MQTT_L, K_COAP, K_HTTP, K_MQTT };

struct conn {
	int fd;
	enum kind kind;
	uint32_t src;
	size_t len;
	size_t body_need; /* HTTP: body bytes still to read once headers are in */
	size_t body_got;
	int headers_done;
	unsigned char buf[BUF];
};

static struct { uint32_t addr; unsigned long n; } srcs[MAX_SRC];
static int nsrc;
static unsigned long n_http, n_coap, n_coap_con, n_mqtt_conn, n_mqtt_pub, n_mqtt_pub1, n_mqtt_ping,
	n_tcp, n_bad;
static unsigned long long http_body;

static void count_src(uint32_t a)
{
	int i;

	for (i = 0; i < nsrc; i++)
		if (srcs[i].addr == a) {
			srcs[i].n++;
			return;
		}
	if (nsrc < MAX_SRC) {
		srcs[nsrc].addr = a;
		srcs[nsrc++].n = 1;
	}
}

static int listen_on(int type, uint32_t bind_addr, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port),
				  .sin_addr.s_addr = bind_addr };
	int one = 1, fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || (type == SOCK_STREAM && listen(fd, 1024))) {
		pr_warn("%s port %d: %s\n", type == SOCK_STREAM ? "tcp" : "udp", port,
			strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void conn_close(int ep, struct conn *c)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c);
}

/* 1 when the connection is done (close it) */
static int http_feed(struct conn *c)
{
	char *end, *cl, resp[256], hdr[160];
	size_t hlen, blen = 0;
	int n;

	if (!c->headers_done) {
		c->buf[c->len < BUF ? c->len : BUF - 1] = '\0';
		end = strstr((char *)c->buf, "\r\n\r\n");
		if (!end)
			return c->len >= BUF - 1 ? (n_bad++, 1) : 0;
		hlen = (size_t)(end + 4 - (char *)c->buf);
		cl = strcasestr((char *)c->buf, "\ncontent-length:");
		if (cl && cl < end)
			c->body_need = strtoul(cl + 16, NULL, 10);
		c->body_got = c->len - hlen;
		c->headers_done = 1;
		if (!strncmp((char *)c->buf, "GET /bytes/", 11))
			blen = strtoul((char *)c->buf + 11, NULL, 10);
		c->len = blen; /* remember the download size */
	}
	if (c->body_got < c->body_need)
		return 0;
	n_http++;
	count_src(c->src);
	http_body += c->body_got;
	if (c->len) {
		size_t left = c->len > 10000000 ? 10000000 : c->len;
		char chunk[4096];

		n = snprintf(hdr, sizeof(hdr), "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", left);
		if (write(c->fd, hdr, (size_t)n) < 0)
			return 1;
		memset(chunk, 'x', sizeof(chunk));
		/* blocking for the download: bounded by the size cap and SO_SNDTIMEO */
		fcntl(c->fd, F_SETFL, 0);
		while (left) {
			ssize_t w = write(c->fd, chunk, left < sizeof(chunk) ? left : sizeof(chunk));

			if (w <= 0)
				break;
			left -= (size_t)w;
		}
		return 1;
	}
	{
		char a[INET_ADDRSTRLEN];
		char body[96];
		int bl;

		inet_ntop(AF_INET, &c->src, a, sizeof(a));
		bl = snprintf(body, sizeof(body), "from %s: %zu body bytes\n", a, c->body_got);
		n = snprintf(resp, sizeof(resp), "HTTP/1.0 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
			     bl, body);
		if (write(c->fd, resp, (size_t)n) < 0)
			return 1;
	}
	return 1;
}

/* consume whole MQTT packets from the buffer; 1 to close */
static int mqtt_feed(struct conn *c)
{
	for (;;) {
		size_t rem = 0, i = 1, mult = 1, total;
		unsigned char type, out[4];

		if (c->len < 2)
			return 0;
		do {
			if (i >= c->len)
				return 0;
			rem += (c->buf[i] & 127) * mult;
			mult *= 128;
		} while ((c->buf[i++] & 128) && i < 5);
		total = i + rem;
		if (total > BUF) {
			n_bad++;
			return 1;
		}
		if (c->len < total)
			return 0;
		type = c->buf[0] >> 4;
		switch (type) {
		case 1: /* CONNECT */
			n_mqtt_conn++;
			count_src(c->src);
			out[0] = 0x20; out[1] = 2; out[2] = 0; out[3] = 0;
			if (write(c->fd, out, 4) != 4)
				return 1;
			break;
		case 3: { /* PUBLISH */
			int qos = (c->buf[0] >> 1) & 3;
			size_t tl;

			n_mqtt_pub++;
			count_src(c->src);
			if (rem < 2)
				return n_bad++, 1;
			tl = (size_t)c->buf[i] << 8 | c->buf[i + 1];
			if (qos) {
				if (rem < 2 + tl + 2)
					return n_bad++, 1;
				n_mqtt_pub1++;
				out[0] = 0x40; out[1] = 2;
				out[2] = c->buf[i + 2 + tl]; out[3] = c->buf[i + 3 + tl];
				if (write(c->fd, out, 4) != 4)
					return 1;
			}
			break;
		}
		case 12: /* PINGREQ */
			n_mqtt_ping++;
			count_src(c->src);
			out[0] = 0xD0; out[1] = 0;
			if (write(c->fd, out, 2) != 2)
				return 1;
			break;
		case 14: /* DISCONNECT */
			return 1;
		default:
			break;
		}
		memmove(c->buf, c->buf + total, c->len - total);
		c->len -= total;
	}
}

static void coap_one(int fd)
{
	unsigned char b[1500], r[1500];
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(fd, b, sizeof(b), 0, (struct sockaddr *)&from, &fl);
	static unsigned short mid = 0x4000;
	int type, tkl;
	size_t rl;

	if (n < 4)
		return;
	if ((b[0] >> 6) != 1) {
		n_bad++;
		return;
	}
	type = (b[0] >> 4) & 3;
	tkl = b[0] & 15;
	if (tkl > 8 || n < 4 + tkl || type > 1) {
		n_bad++;
		return;
	}
	n_coap++;
	if (type == 0)
		n_coap_con++;
	count_src(from.sin_addr.s_addr);
	r[0] = (unsigned char)(0x40 | ((type == 0 ? 2 : 1) << 4) | tkl); /* ACK or NON */
	r[1] = 0x45; /* 2.05 Content */
	if (type == 0) {
		r[2] = b[2];
		r[3] = b[3];
	} else {
		mid++;
		r[2] = (unsigned char)(mid >> 8);
		r[3] = (unsigned char)mid;
	}
	memcpy(r + 4, b + 4, (size_t)tkl);
	rl = 4 + (size_t)tkl;
	r[rl++] = 0xFF;
	memcpy(r + rl, "ok", 2);
	rl += 2;
	sendto(fd, r, rl, 0, (struct sockaddr *)&from, fl);
}

#define USAGE "usage: xpt-resp --duration S [--http PORT] [--coap PORT] [--mqtt PORT] [--bind ADDR]\n" \
	"  answers HTTP (TCP, default 80), CoAP (UDP, default 5684) and MQTT (TCP, default 1883)\n" \
	"  for S seconds (1-" XP_STRINGIFY(MAX_SECONDS) "); naming any of --http/--coap/--mqtt serves only those.\n" \
	"  Prints {\"http\":N,\"coap\":N,...,\"sources\":{ADDR:N}} at exit.\n"

int main(int argc, char **argv)
{
	int http = 0, coap = 0, mqtt = 0, ep, i, lfd[3] = { -1, -1, -1 };
	double dur = 0, end;
	uint32_t bind_addr = INADDR_ANY;
	struct epoll_event ev, evs[64];
	const struct xp_opt tab[] = {
		XP_DOUBLE("duration", 0, &dur, 0, MAX_SECONDS, "S", "run time (required)", .flags = XP_OPT_GT),
		XP_INT("http", 0, &http, 0, 65535, "PORT", "HTTP port"),
		XP_INT("coap", 0, &coap, 0, 65535, "PORT", "CoAP port"),
		XP_INT("mqtt", 0, &mqtt, 0, 65535, "PORT", "MQTT port"),
		XP_IPV4("bind", 0, &bind_addr, "ADDR", "listen on ADDR only"),
		{ 0 },
	};

	xpro_prog = TOOL;
	if (xp_opt_parse(TOOL, USAGE, tab, argc, argv) < argc)
		xp_opt_die(TOOL, "unexpected argument (try --help)");
	if (dur <= 0)
		xp_opt_die(TOOL, "--duration must be 1-%d seconds", MAX_SECONDS);
	if (!http && !coap && !mqtt) {
		http = 80;
		coap = 5684;
		mqtt = 1883;
	}
	if (xpro_testbed_check(TOOL))
		return 1;
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (http && (lfd[0] = listen_on(SOCK_STREAM, bind_addr, http)) < 0)
		return 1;
	if (mqtt && (lfd[1] = listen_on(SOCK_STREAM, bind_addr, mqtt)) < 0)
		return 1;
	if (coap && (lfd[2] = listen_on(SOCK_DGRAM, bind_addr, coap)) < 0)
		return 1;
	for (i = 0; i < 3; i++) {
		static struct conn lc[3];

		if (lfd[i] < 0)
			continue;
		lc[i].fd = lfd[i];
		lc[i].kind = i == 0 ? K_HTTP_L : i == 1 ? K_MQTT_L : K_COAP;
		ev.events = EPOLLIN;
		ev.data.ptr = &lc[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, lfd[i], &ev);
	}
	end = xp_mono_s() + dur;
	while (xp_mono_s() < end) {
		int n = epoll_wait(ep, evs, 64, (int)((end - xp_mono_s()) * 1000) + 1);

		for (i = 0; i < n; i++) {
			struct conn *cn = evs[i].data.ptr;

			if (cn->kind == K_COAP) {
				coap_one(cn->fd);
			} else if (cn->kind == K_HTTP_L || cn->kind == K_MQTT_L) {
				struct sockaddr_in sa;
				socklen_t sl = sizeof(sa);
				int fd = accept4(cn->fd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
				struct conn *nc;
				struct timeval tv = { .tv_sec = 2 };

				if (fd < 0)
					continue;
				n_tcp++;
				nc = calloc(1, sizeof(*nc));
				if (!nc) {
					close(fd);
					continue;
				}
				setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
				nc->fd = fd;
				nc->kind = cn->kind == K_HTTP_L ? K_HTTP : K_MQTT;
				nc->src = sa.sin_addr.s_addr;
				ev.events = EPOLLIN;
				ev.data.ptr = nc;
				epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			} else {
				ssize_t r;
				int done = 0;

				if (cn->kind == K_HTTP && cn->headers_done) {
					unsigned char sink[BUF];

					r = read(cn->fd, sink, sizeof(sink));
					if (r > 0)
						cn->body_got += (size_t)r;
				} else {
					r = read(cn->fd, cn->buf + cn->len, BUF - 1 - cn->len);
					if (r > 0)
						cn->len += (size_t)r;
				}
				if (r == 0 || (r < 0 && errno != EAGAIN)) {
					conn_close(ep, cn);
					continue;
				}
				if (r < 0)
					continue;
				done = cn->kind == K_HTTP ? http_feed(cn) : mqtt_feed(cn);
				if (done)
					conn_close(ep, cn);
			}
		}
	}
	printf("{\"http\":%lu,\"http_body_bytes\":%llu,\"coap\":%lu,\"coap_con\":%lu,\"mqtt_connect\":%lu,"
	       "\"mqtt_publish\":%lu,\"mqtt_publish_qos1\":%lu,\"mqtt_ping\":%lu,\"tcp_accepted\":%lu,\"bad\":%lu,\"sources\":{",
	       n_http, http_body, n_coap, n_coap_con, n_mqtt_conn, n_mqtt_pub, n_mqtt_pub1, n_mqtt_ping, n_tcp, n_bad);
	for (i = 0; i < nsrc; i++) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &srcs[i].addr, a, sizeof(a));
		printf("%s\"%s\":%lu", i ? "," : "", a, srcs[i].n);
	}
	printf("}}\n");
	return 0;
}
