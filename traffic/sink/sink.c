// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpro-sink: the victim service of the X-Pro testbed. Answers CoAP-like
 * requests on UDP 5684, HTTP/1.1 on TCP 80 and MQTT on TCP 1883, counts
 * every packet the victim's interface receives per source and class (an
 * AF_PACKET ring, whatever socket takes the packet), and reports the
 * victim's load: per-second series, the common received-per-second CSV and
 * a summary JSON. docs/xpro-sink.md describes options, answers and files.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include "safety.h"
#include "clock.h"
#include "opt.h"
#include "json.h"
#include "sink_log.h"
#include "inet6.h"
#include "sink_proto.h"
#include "sink_ring.h"
#include "log.h"

#define TOOL "xpro-sink"
#define MAX_DURATION 86400.0
#define CONN_BUF 16384

enum kind { K_UDP = 1, K_HTTP_LISTEN, K_MQTT_LISTEN, K_RING, K_SIGNAL, K_TIMER, K_HTTP, K_MQTT };

struct tag {
	int kind;
};

struct conn {
	int kind;        /* K_HTTP or K_MQTT: first, like struct tag */
	int fd;
	uint32_t peer;   /* network order (IPv6: the IPv4 address its testbed name embeds) */
	int v6;          /* the peer is IPv6 */
	int cls;
	int closing;     /* close once out is sent */
	double last;     /* monotonic time of the last activity */
	size_t inlen, outlen, outoff;
	struct conn *prev, *next;
	uint8_t in[CONN_BUF];
	uint8_t out[CONN_BUF];
};

struct opts {
	double duration;
	int until_signal;
	const char *iface;
	const char *class_map;
	const char *default_class;
	uint32_t bind_addr;
	int udp_port, http_port, mqtt_port;
	int echo;
	long max_conns;
	long idle_ms;
	const char *log, *series, *summary;
	long summary_sources;
	long max_flows;
};

struct cls_sec {
	uint64_t packets, bytes, requests;
};

struct sink {
	struct opts o;
	struct xs_class_map cm;
	int ep, udp, http_l, mqtt_l, sfd, tfd;
	struct xs_ring *ring;
	struct tag t_udp, t_http, t_mqtt, t_ring, t_sig, t_timer;
	struct conn *conns;  /* list of open connections */
	long nconns;
	/* per second */
	long cur_sec;
	struct xs_ftab sec;           /* (src, dst, class) of the current second */
	struct cls_sec csec[XS_CLASS_MAX + 1];
	uint64_t sec_packets;
	double cpu_last_ms;
	/* totals */
	struct xs_ftab src_tot;       /* (src, 0, class) over the run */
	struct cls_sec ctot[XS_CLASS_MAX + 1];
	uint64_t received, bytes, non_ipv4, gro_frames, pps_peak, ring_drops;
	uint64_t coap, coap_other, udp_echoed, http_ok, http_err, mqtt, mqtt_qos0;
	uint64_t conns_accepted, conns_refused, conns_idle, conns_outside, errors;
	FILE *logf, *seriesf;
	double t_start_real, t_start_mono;
	int stop_sig;
	int idle_due;
};

#define USAGE \
"usage: xpro-sink (--duration S | --until-signal [--max-duration S]) [options]\n" \
"\n" \
"The victim service: answers requests, counts what arrives, reports the load.\n" \
"Runs only inside a testbed network namespace (addresses from " XPRO_TESTBED_STR ").\n" \
"\n"

static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* ---- accounting --------------------------------------------------------- */

/* A peer's address: IPv4 (or v4-mapped), or IPv6 inside 2001:db8::/96 (*v6 =
 * 1, *v4 the IPv4 address its name embeds); -1 for any other or one outside
 * the testbed's ranges. */
static int peer_of(const struct sockaddr_storage *ss, uint32_t *v4, int *v6)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;

	*v6 = 0;
	if (ss->ss_family == AF_INET)
		*v4 = ((const struct sockaddr_in *)ss)->sin_addr.s_addr;
	else if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		memcpy(v4, s6->sin6_addr.s6_addr + 12, 4);
	else if (ss->ss_family == AF_INET6 && xp6_embedded(&s6->sin6_addr, v4))
		return *v6 = 1, 0;
	else
		return -1;
	return xpro_in_testbed(*v4) ? 0 : -1;
}

static int class_of(const struct sink *s, uint32_t a, int v6)
{
	return v6 ? xs_class_of6(&s->cm, a) : xs_class_of(&s->cm, a);
}

static void count_request(struct sink *s, uint32_t peer, int v6)
{
	int c = class_of(s, peer, v6);
	struct xs_flow *f = xs_ftab_get(&s->src_tot, peer, 0, (uint32_t)c | (v6 ? XS_FLOW_V6 : 0));

	s->csec[c].requests++;
	s->ctot[c].requests++;
	if (f)
		f->requests++;
}

static void on_frame(void *ctx, uint16_t proto, const uint8_t *l3, size_t caplen, uint32_t wire_len,
		     uint32_t gso)
{
	struct sink *s = ctx;
	uint32_t src, dst, len, segs = 1, ihl, fam = 0;
	uint8_t l4p;
	struct xs_flow *f;
	int c;

	(void)wire_len;
	if (proto == ETH_P_IPV6 && caplen >= 40 && (l3[0] >> 4) == 6 &&
	    xp6_embedded((const struct in6_addr *)(l3 + 8), &src) &&
	    xp6_embedded((const struct in6_addr *)(l3 + 24), &dst)) {
		/* IPv6 between testbed names: counted by the IPv4 addresses they embed */
		ihl = 40;
		len = 40 + ((uint32_t)l3[4] << 8 | l3[5]);
		l4p = l3[6];
		fam = XS_FLOW_V6;
	} else if (proto != ETH_P_IP || caplen < 20 || (l3[0] >> 4) != 4) {
		s->non_ipv4++;
		return;
	} else {
		ihl = (l3[0] & 15) * 4u;
		len = (uint32_t)l3[2] << 8 | l3[3];
		l4p = l3[9];
		memcpy(&src, l3 + 12, 4);
		memcpy(&dst, l3 + 16, 4);
	}
	if (gso && l4p == IPPROTO_TCP && caplen >= ihl + 13 && len > ihl) {
		/* GRO merged several TCP segments: count each as it was on the wire */
		uint32_t hl = ihl + (l3[ihl + 12] >> 4) * 4u, payload = len > hl ? len - hl : 0;

		segs = payload ? (payload + gso - 1) / gso : 1;
		len += (segs - 1) * hl;
		s->gro_frames++;
	}
	c = class_of(s, src, !!fam);
	s->received += segs;
	s->bytes += len;
	s->sec_packets += segs;
	s->csec[c].packets += segs;
	s->csec[c].bytes += len;
	s->ctot[c].packets += segs;
	s->ctot[c].bytes += len;
	f = xs_ftab_get(&s->sec, src, dst, (uint32_t)c | fam);
	if (f) {
		f->packets += segs;
		f->bytes += len;
	}
	f = xs_ftab_get(&s->src_tot, src, 0, (uint32_t)c | fam);
	if (f) {
		f->packets += segs;
		f->bytes += len;
	}
}

/* Writes the current second's rows and starts the next second. */
static void roll_second(struct sink *s, long next_sec)
{
	double cpu = cpu_ms();
	long cpu_d = (long)(cpu - s->cpu_last_ms + 0.5);
	uint64_t p = 0, b = 0, r = 0;
	int c;

	s->cpu_last_ms = cpu;
	if (s->sec_packets > s->pps_peak)
		s->pps_peak = s->sec_packets;
	for (c = 0; c < s->cm.nclass; c++) {
		p += s->csec[c].packets;
		b += s->csec[c].bytes;
		r += s->csec[c].requests;
	}
	if (s->seriesf) {
		fprintf(s->seriesf, "%ld,all,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%ld\n", s->cur_sec, p, b, r, cpu_d);
		for (c = 0; c < s->cm.nclass; c++)
			if (s->csec[c].packets || s->csec[c].requests)
				fprintf(s->seriesf, "%ld,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%ld\n", s->cur_sec,
					s->cm.name[c], s->csec[c].packets, s->csec[c].bytes,
					s->csec[c].requests, cpu_d);
		fflush(s->seriesf);
	}
	if (s->logf) {
		if (xs_log_write_second(s->logf, s->cur_sec, &s->sec, &s->cm))
			s->errors++;
		fflush(s->logf);
	}
	xs_ftab_clear(&s->sec);
	memset(s->csec, 0, sizeof(s->csec));
	s->sec_packets = 0;
	s->cur_sec = next_sec;
}

/* ---- sockets ------------------------------------------------------------ */

/* Without --bind, one dual-stack socket (IPv6 and, v4-mapped, IPv4), or
 * IPv4 alone where the kernel has no IPv6; with --bind, IPv4 on it. */
static int listen_on(struct sink *s, int type, int port, const char *what)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = s->o.bind_addr };
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	int fd = -1, on = 1, off = 0, err;
	struct sockaddr *sa = (struct sockaddr *)&a;
	socklen_t sl = sizeof(a);

	if (!s->o.bind_addr)
		fd = socket(AF_INET6, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		sa = (struct sockaddr *)&a6;
		sl = sizeof(a6);
	} else {
		fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	if (fd < 0) {
		err = -errno;
		pr_warn("%s socket: %s\n", what, strerror(errno));
		return err;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, sa, sl) || (type == SOCK_STREAM && listen(fd, 1024))) {
		err = -errno;
		pr_warn("%s port %d: %s\n", what, port, strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}

static int ep_add(struct sink *s, int fd, uint32_t events, void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static void conn_close(struct sink *s, struct conn *c)
{
	epoll_ctl(s->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	s->nconns--;
	free(c);
}

static void on_udp(struct sink *s)
{
	uint8_t buf[2048], out[64];
	struct sockaddr_storage from;
	socklen_t fl;
	ssize_t len;
	uint32_t peer;
	int i, n, v6, ok;

	/* bounded batch: other events get their turn under a flood */
	for (i = 0; i < 256; i++) {
		fl = sizeof(from);
		len = recvfrom(s->udp, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (len < 0)
			break;
		n = xs_coap_answer(buf, (size_t)len, out, sizeof(out));
		ok = !peer_of(&from, &peer, &v6);
		if (n < 0) {
			s->coap_other++;
			if (s->o.echo && ok &&
			    sendto(s->udp, buf, (size_t)len, MSG_DONTWAIT, (struct sockaddr *)&from, fl) == len)
				s->udp_echoed++;
			continue;
		}
		if (!ok)
			continue;
		if (sendto(s->udp, out, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&from, fl) == n) {
			s->coap++;
			count_request(s, peer, v6);
		} else {
			s->errors++;
		}
	}
}

static void on_accept(struct sink *s, int lfd, int kind)
{
	struct sockaddr_storage from;
	socklen_t fl;
	uint32_t peer;
	int i, fd, v6;

	for (i = 0; i < 64; i++) {
		struct conn *c;

		fl = sizeof(from);
		fd = accept4(lfd, (struct sockaddr *)&from, &fl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		if (peer_of(&from, &peer, &v6)) {
			s->conns_outside++;
			close(fd);
			continue;
		}
		if (s->nconns >= s->o.max_conns) {
			s->conns_refused++;
			close(fd);
			continue;
		}
		c = malloc(sizeof(*c));
		if (!c) {
			s->errors++;
			close(fd);
			continue;
		}
		c->kind = kind;
		c->fd = fd;
		c->peer = peer;
		c->v6 = v6;
		c->cls = class_of(s, c->peer, v6);
		c->closing = 0;
		c->last = xp_mono_s();
		c->inlen = c->outlen = c->outoff = 0;
		if (ep_add(s, fd, EPOLLIN | EPOLLRDHUP, c)) {
			s->errors++;
			close(fd);
			free(c);
			continue;
		}
		c->prev = NULL;
		c->next = s->conns;
		if (s->conns)
			s->conns->prev = c;
		s->conns = c;
		s->nconns++;
		s->conns_accepted++;
	}
}

/* Sends what is queued; 1 when all is out, 0 when the socket is full, -1 on error. */
static int conn_flush(struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		c->outoff += (size_t)n;
	}
	c->outoff = c->outlen = 0;
	return 1;
}

/* Answers every complete request in c->in while the answers fit in c->out. */
static int conn_process(struct sink *s, struct conn *c)
{
	size_t off = 0;

	while (off < c->inlen && !c->closing) {
		size_t used = 0, olen = 0;
		int n;

		if (c->kind == K_HTTP) {
			char out[512];
			int cl = 0, ok = 0;

			if (c->outlen + sizeof(out) > sizeof(c->out))
				break;
			n = xs_http_answer(c->in + off, c->inlen - off, &used, out, sizeof(out), &cl, &ok);
			if (n == 0)
				break;
			if (n < 0)
				return -1;
			memcpy(c->out + c->outlen, out, (size_t)n);
			c->outlen += (size_t)n;
			if (ok) {
				s->http_ok++;
				count_request(s, c->peer, c->v6);
			} else {
				s->http_err++;
			}
			c->closing = cl;
		} else {
			enum xs_mqtt_kind k;

			if (c->outlen + 256 > sizeof(c->out))
				break;
			n = xs_mqtt_step(c->in + off, c->inlen - off, sizeof(c->in), c->out + c->outlen,
					 sizeof(c->out) - c->outlen, &olen, &k);
			if (n == 0)
				break;
			if (n < 0)
				return -1;
			used = (size_t)n;
			c->outlen += olen;
			if (k == XS_MQTT_ANSWERED) {
				s->mqtt++;
				count_request(s, c->peer, c->v6);
			} else if (k == XS_MQTT_DISCONNECT) {
				c->closing = 1;
			} else if ((c->in[off] >> 4) == 3) {
				s->mqtt_qos0++;
			}
		}
		off += used;
	}
	if (off) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
	}
	return 0;
}

static void conn_update_events(struct sink *s, struct conn *c)
{
	struct epoll_event ev = { .data.ptr = c };

	ev.events = c->outlen ? EPOLLOUT : EPOLLIN | EPOLLRDHUP;
	epoll_ctl(s->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

static void on_conn(struct sink *s, struct conn *c, uint32_t events)
{
	int r;

	c->last = xp_mono_s();
	if (events & (EPOLLERR | EPOLLHUP))
		goto close;
	if (events & EPOLLOUT) {
		r = conn_flush(c);
		if (r < 0)
			goto close;
		if (r == 0)
			return;
		if (c->closing)
			goto close;
		/* room again: answer what was waiting */
		if (conn_process(s, c))
			goto close;
	}
	if (events & (EPOLLIN | EPOLLRDHUP)) {
		ssize_t n = 1;

		while (!c->closing && c->outlen == 0 && c->inlen < sizeof(c->in) && n > 0) {
			n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);
			if (n > 0) {
				c->inlen += (size_t)n;
				if (conn_process(s, c))
					goto close;
				/* queued answers go out before more is read */
				r = conn_flush(c);
				if (r < 0)
					goto close;
			} else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
				goto close;
			}
		}
		if (c->inlen == sizeof(c->in) && c->outlen == 0)
			goto close; /* a request longer than the buffer */
	}
	if (c->outlen == 0 && c->closing)
		goto close;
	conn_update_events(s, c);
	return;
close:
	conn_close(s, c);
}

static void close_idle(struct sink *s)
{
	double now = xp_mono_s(), idle = (double)s->o.idle_ms / 1e3;
	struct conn *c = s->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (now - c->last >= idle) {
			s->conns_idle++;
			conn_close(s, c);
		}
	}
}

/* ---- summary ------------------------------------------------------------ */

static int write_summary(struct sink *s, double ended, double dur)
{
	FILE *f = strcmp(s->o.summary, "-") ? fopen(s->o.summary, "w") : stdout;
	struct xs_flow *v = NULL;
	size_t n = 0, i;
	int c, first = 1;

	if (!f) {
		pr_warn("open %s: %s\n", s->o.summary, strerror(errno));
		return -errno;
	}
	fprintf(f, "{\"tool\":\"xpro-sink\",\"started\":%ld,\"ended\":%ld,\"duration_s\":%.3f,",
		(long)s->t_start_real, (long)ended, dur);
	fprintf(f, "\"iface\":");
	xp_json_str(f, s->o.iface);
	fprintf(f, ",\"received\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"by_class\":{", s->received, s->bytes);
	for (c = 0; c < s->cm.nclass; c++) {
		if (!s->ctot[c].packets && !s->ctot[c].requests)
			continue;
		fprintf(f, "%s", first ? "" : ",");
		first = 0;
		xp_json_str(f, s->cm.name[c]);
		fprintf(f, ":{\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"requests\":%" PRIu64 "}",
			s->ctot[c].packets, s->ctot[c].bytes, s->ctot[c].requests);
	}
	fprintf(f, "},\"requests_answered\":%" PRIu64 ",\"requests\":{\"coap\":%" PRIu64
		",\"http\":%" PRIu64 ",\"mqtt\":%" PRIu64 "},",
		s->coap + s->http_ok + s->mqtt, s->coap, s->http_ok, s->mqtt);
	fprintf(f, "\"http_errors\":%" PRIu64 ",\"mqtt_qos0\":%" PRIu64 ",\"udp_other\":%" PRIu64
		",\"udp_echoed\":%" PRIu64 ",", s->http_err, s->mqtt_qos0, s->coap_other, s->udp_echoed);
	fprintf(f, "\"conns\":{\"accepted\":%" PRIu64 ",\"refused\":%" PRIu64 ",\"idle_closed\":%" PRIu64
		",\"outside\":%" PRIu64 "},", s->conns_accepted, s->conns_refused, s->conns_idle,
		s->conns_outside);
	fprintf(f, "\"cpu_ms\":%.0f,\"pps_peak\":%" PRIu64 ",\"non_ipv4\":%" PRIu64 ",\"gro_frames\":%" PRIu64
		",\"ring_drops\":%" PRIu64 ",\"flow_overflow\":%" PRIu64 ",\"sources\":%zu,\"by_source\":{",
		cpu_ms(), s->pps_peak, s->non_ipv4, s->gro_frames, s->ring_drops,
		s->sec.overflow + s->src_tot.overflow, s->src_tot.n);
	if (xs_ftab_sorted(&s->src_tot, 1, &v, &n))
		s->errors++;
	for (i = 0; i < n && (long)i < s->o.summary_sources; i++) {
		char a[INET6_ADDRSTRLEN], q[256];

		xp6_name(v[i].cls & XS_FLOW_V6 ? AF_INET6 : AF_INET, v[i].src, a);
		fprintf(f, "%s\"%s\":{\"class\":%s,\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64
			",\"requests\":%" PRIu64 "}", i ? "," : "", a,
			xp_json_q(q, sizeof(q), s->cm.name[v[i].cls & ~XS_FLOW_V6]),
			v[i].packets, v[i].bytes, v[i].requests);
	}
	free(v);
	fprintf(f, "},\"stopped_by\":\"%s\",\"errors\":%" PRIu64 "}\n",
		s->stop_sig == SIGTERM ? "SIGTERM" : s->stop_sig == SIGINT ? "SIGINT" : "duration",
		s->errors);
	if (f != stdout)
		return fclose(f) ? -errno : 0;
	fflush(f);
	return 0;
}

/* ---- main --------------------------------------------------------------- */

static void parse_opts(struct opts *o, int argc, char **argv)
{
	double maxd = 3600;
	const struct xp_opt tab[] = {
		XP_DOUBLE("duration", 0, &o->duration, 0, MAX_DURATION, "S",
			  "run S seconds (at most 86400), then write the files and exit", .flags = XP_OPT_GT),
		XP_FLAG("until-signal", 0, &o->until_signal,
			"run until SIGTERM/SIGINT, but at most --max-duration S (default 3600)"),
		XP_DOUBLE("max-duration", 0, &maxd, 0, MAX_DURATION, "S", NULL, .flags = XP_OPT_GT),
		XP_STR("interface", 'i', &o->iface, "IFACE", "interface whose received packets are counted (default eth0;\n"
		       "'none': count nothing, answer only)"),
		XP_STR("iface", 0, &o->iface, "IFACE", "the same as --interface (its former name)"),
		XP_STR("class-map", 0, &o->class_map, "SPEC", "NAME=A.B.C.D/LEN,... : a source's class is the first match;\n"
		       "NAME=2001:db8::P/LEN (LEN 96..128): IPv6 sources (the testbed's IPv6 names)"),
		XP_STR("default-class", 0, &o->default_class, "NAME", "class of sources no entry matches (default other)"),
		XP_IPV4("bind", 0, &o->bind_addr, "ADDR", "local IPv4 address of the listeners (default any, IPv6 and IPv4)"),
		XP_INT("udp-port", 0, &o->udp_port, 0, 65535, "P", "CoAP-like UDP port (default 5684; 0: off)"),
		XP_INT("http-port", 0, &o->http_port, 0, 65535, "P", "HTTP/1.1 port (default 80; 0: off)"),
		XP_INT("mqtt-port", 0, &o->mqtt_port, 0, 65535, "P", "MQTT port (default 1883; 0: off)"),
		XP_FLAG("echo", 0, &o->echo, "echo UDP datagrams that are not CoAP requests"),
		XP_LONG("max-conns", 0, &o->max_conns, 1, 100000, "N",
			"open TCP connections at most (default 1024; more are closed at once)"),
		XP_LONG("idle-ms", 0, &o->idle_ms, 1, 3600000, "MS", "close a TCP connection idle this long (default 10000)"),
		XP_STR("log", 0, &o->log, "FILE", "received per second: ts,src,dst,class,packets,bytes ('-': stdout)"),
		XP_STR("series", 0, &o->series, "FILE", "load per second: ts,class,packets,bytes,requests,cpu_ms"),
		XP_STR("summary", 0, &o->summary, "FILE", "summary JSON at exit ('-': stdout)"),
		XP_LONG("summary-sources", 0, &o->summary_sources, 0, 10000000, "N",
			"sources listed in the summary's by_source (default 256)"),
		XP_LONG("max-flows", 0, &o->max_flows, 16, 100000000, "N",
			"(src,dst,class) entries per second and sources per run (default 1000000)"),
		XP_TEXT("  -h, --help            this text\n"
			"\n"
			"SIGTERM or SIGINT ends the run cleanly: the files are complete. docs/xpro-sink.md"),
		{ 0 },
	};
	int first = xp_opt_parse(TOOL, USAGE, tab, argc, argv);

	if (first < argc)
		xp_opt_die(TOOL, "unexpected argument '%s' (try --help)", argv[first]);
	if (!!o->duration == !!o->until_signal)
		xp_opt_die(TOOL, "give exactly one of --duration S and --until-signal (try --help)");
	if (o->until_signal)
		o->duration = maxd;
}

static int sys_fail(const char *what)
{
	int err = -errno;

	pr_warn("%s: %s\n", what, strerror(errno));
	return err;
}

static int setup(struct sink *s)
{
	struct itimerspec its = { .it_interval.tv_sec = 1 };
	sigset_t ss;
	int err;

	s->udp = s->http_l = s->mqtt_l = s->sfd = s->tfd = -1;
	s->t_udp.kind = K_UDP;
	s->t_http.kind = K_HTTP_LISTEN;
	s->t_mqtt.kind = K_MQTT_LISTEN;
	s->t_ring.kind = K_RING;
	s->t_sig.kind = K_SIGNAL;
	s->t_timer.kind = K_TIMER;
	if (xs_ftab_init(&s->sec, (size_t)s->o.max_flows) || xs_ftab_init(&s->src_tot, (size_t)s->o.max_flows)) {
		pr_warn("flow tables: %s\n", strerror(ENOMEM));
		return -ENOMEM;
	}
	s->ep = epoll_create1(EPOLL_CLOEXEC);
	if (s->ep < 0)
		return sys_fail("epoll");
	/* signals end the run through the loop, never in a handler */
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);
	s->sfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s->sfd < 0 || ep_add(s, s->sfd, EPOLLIN, &s->t_sig))
		return sys_fail("signalfd");
	if (strcmp(s->o.iface, "none")) {
		err = xs_ring_open(&s->ring, s->o.iface);
		if (err) {
			pr_warn("packet counter on %s: %s\n", s->o.iface, strerror(-err));
			return err;
		}
		if (ep_add(s, xs_ring_fd(s->ring), EPOLLIN, &s->t_ring))
			return sys_fail("epoll ring");
	}
	if (s->o.udp_port) {
		s->udp = listen_on(s, SOCK_DGRAM, s->o.udp_port, "udp");
		if (s->udp < 0)
			return s->udp;
		if (ep_add(s, s->udp, EPOLLIN, &s->t_udp))
			return sys_fail("epoll udp");
	}
	if (s->o.http_port) {
		s->http_l = listen_on(s, SOCK_STREAM, s->o.http_port, "http");
		if (s->http_l < 0)
			return s->http_l;
		if (ep_add(s, s->http_l, EPOLLIN, &s->t_http))
			return sys_fail("epoll http_l");
	}
	if (s->o.mqtt_port) {
		s->mqtt_l = listen_on(s, SOCK_STREAM, s->o.mqtt_port, "mqtt");
		if (s->mqtt_l < 0)
			return s->mqtt_l;
		if (ep_add(s, s->mqtt_l, EPOLLIN, &s->t_mqtt))
			return sys_fail("epoll mqtt_l");
	}
	if (s->o.log && !(s->logf = xs_log_open(s->o.log, XP_FLOWLOG_HEADER, TOOL)))
		return -EIO;
	if (s->o.series && !(s->seriesf = xs_log_open(s->o.series, "ts,class,packets,bytes,requests,cpu_ms", TOOL)))
		return -EIO;
	/* a tick at every whole second of CLOCK_REALTIME: the CSV buckets */
	s->t_start_real = xp_real_s();
	s->t_start_mono = xp_mono_s();
	s->cur_sec = (long)s->t_start_real;
	s->cpu_last_ms = cpu_ms();
	s->tfd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	its.it_value.tv_sec = s->cur_sec + 1;
	if (s->tfd < 0 || timerfd_settime(s->tfd, TFD_TIMER_ABSTIME, &its, NULL) ||
	    ep_add(s, s->tfd, EPOLLIN, &s->t_timer))
		return sys_fail("timerfd");
	return 0;
}

static void tick(struct sink *s)
{
	uint64_t n;
	long now;

	if (read(s->tfd, &n, sizeof(n)) < 0)
		return;
	if (s->ring) {
		xs_ring_drain(s->ring, on_frame, s);
		xs_ring_drops(s->ring, &s->ring_drops);
	}
	now = (long)xp_real_s();
	if (now > s->cur_sec)
		roll_second(s, now);
	s->idle_due = 1;
}

static void run(struct sink *s)
{
	double end = s->t_start_mono + s->o.duration;
	struct epoll_event evs[64];

	for (;;) {
		double left = end - xp_mono_s();
		int n, i;

		if (left <= 0 || s->stop_sig)
			break;
		n = epoll_wait(s->ep, evs, 64, (int)(left * 1000) + 1);
		if (n < 0 && errno != EINTR) {
			s->errors++;
			break;
		}
		for (i = 0; i < n; i++) {
			int *kind = evs[i].data.ptr;

			switch (*kind) {
			case K_UDP:
				on_udp(s);
				break;
			case K_HTTP_LISTEN:
				on_accept(s, s->http_l, K_HTTP);
				break;
			case K_MQTT_LISTEN:
				on_accept(s, s->mqtt_l, K_MQTT);
				break;
			case K_RING:
				xs_ring_drain(s->ring, on_frame, s);
				break;
			case K_TIMER:
				tick(s);
				break;
			case K_SIGNAL: {
				struct signalfd_siginfo si;

				if (read(s->sfd, &si, sizeof(si)) == sizeof(si))
					s->stop_sig = (int)si.ssi_signo;
				break;
			}
			default:
				/* each fd once per batch: a connection closed here has no later event */
				on_conn(s, (struct conn *)kind, evs[i].events);
				break;
			}
		}
		/* after the batch: closing here cannot free a connection an event still names */
		if (s->idle_due) {
			s->idle_due = 0;
			close_idle(s);
		}
	}
}

int main(int argc, char **argv)
{
	static struct sink s;
	double ended, dur;
	int err;

	xpro_prog = TOOL;
	s.o = (struct opts){ .iface = "eth0", .default_class = "other", .udp_port = 5684, .http_port = 80,
			     .mqtt_port = 1883, .max_conns = 1024, .idle_ms = 10000, .summary_sources = 256,
			     .max_flows = 1000000 };
	parse_opts(&s.o, argc, argv);
	if (xpro_testbed_check(TOOL))
		return 1;
	if (xs_class_map_parse(&s.cm, s.o.class_map, s.o.default_class, TOOL))
		return 2;
	err = setup(&s);
	if (err)
		return 1;
	pr_warn("ready: iface %s%s, udp %d, http %d, mqtt %d, %.0f s\n", s.o.iface,
		s.ring && xs_ring_has_vnet(s.ring) ? " (gro-aware)" : "", s.o.udp_port, s.o.http_port,
		s.o.mqtt_port, s.o.duration);
	run(&s);
	/* frames still in a partly filled block: the kernel retires it within 20 ms */
	if (s.ring) {
		usleep(50000);
		xs_ring_drain(s.ring, on_frame, &s);
		xs_ring_drops(s.ring, &s.ring_drops);
	}
	ended = xp_real_s();
	dur = xp_mono_s() - s.t_start_mono;
	roll_second(&s, (long)ended);
	while (s.conns)
		conn_close(&s, s.conns);
	xp_csv_close(s.logf);
	xp_csv_close(s.seriesf);
	err = s.o.summary ? write_summary(&s, ended, dur) : 0;
	xs_ring_close(s.ring);
	pr_warn("received %" PRIu64 " packets, answered %" PRIu64 " requests, %.0f ms CPU in %.1f s\n",
		s.received, s.coap + s.http_ok + s.mqtt, cpu_ms(), dur);
	return err ? 1 : 0;
}
