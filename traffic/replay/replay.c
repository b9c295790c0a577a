// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpro-replay: replays a pcap/pcapng capture into the testbed, through the
 * X-Pro tunnel (outer IPv4/UDP to a proxy, X-Pro header, the captured IPv4
 * packet) or inline (the IPv4 packet alone), with its timing (scaled),
 * looped, bounded. Every address of the capture is mapped into the testbed
 * by a seeded hash; no captured address is ever sent to.
 * docs/xpro-replay.md describes options, mapping and files.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "xpro.h"
#include "safety.h"
#include "clock.h"
#include "opt.h"
#include "json.h"
#include "sink_log.h"
#include "replay_map.h"
#include "log.h"

#define TOOL "xpro-replay"
#define MAX_DURATION 86400.0
#define MAX_LOOPS 1000000L
#define PKT_MAX 65535
#define FILTER_MAX 16   /* --class NAME=EXPR options */

enum mode { M_TUNNEL, M_INLINE };

struct opts {
	const char *pcap;
	enum mode mode;
	uint32_t proxy;
	int port;
	int sport;                 /* 0: derived from the inner source */
	int outer_mapped;          /* outer source = mapped inner source */
	uint32_t outer_src;        /* 0: the kernel's choice towards the proxy */
	uint32_t target;           /* 0: map destinations into dst */
	struct xr_range src, dst;
	int have_dst;
	uint64_t seed;
	double speed, rate, duration, max_gap, from;
	long loops, limit;
	int min_ttl;               /* 0: TTL as captured */
	const char *class_name, *class_src;
	const char *filter[FILTER_MAX];  /* NAME=EXPR, in the order given */
	int nfilter;
	const char *log, *summary, *write;
	const char *key_file;      /* header version 2 under each outer source's key */
	int skip6;                 /* --ipv6 skip: IPv6 frames skipped and counted */
};

struct stats {
	uint64_t read, sent, bytes, ipv6, sent6, nonip, truncated, malformed, before, oversize, errors, ttl_raised;
	long loops_done;
	const char *stopped_by;
};

static volatile sig_atomic_t stop_sig;

static void on_signal(int sig)
{
	stop_sig = sig;
}

#define USAGE \
"usage: xpro-replay --pcap FILE (--proxy ADDR[:PORT] | --mode inline)\n" \
"                   (--target ADDR | --dst-range CIDR) [options]\n" \
"\n" \
"Replays a pcap/pcapng capture into the testbed: every IPv4 and IPv6 packet of\n" \
"it, its addresses mapped into " XPRO_TESTBED_STR " by a seeded hash (never a captured\n" \
"address; an IPv6 address is mapped as an IPv4 one and sent as its testbed name,\n" \
"2001:db8:: + that IPv4 address), checksums fixed, through the X-Pro tunnel to a\n" \
"proxy or inline. Non-IP and truncated frames are skipped and counted. Runs only\n" \
"inside a testbed network namespace.\n" \
"\n"

/* ADDR[:PORT] */
static const char *opt_proxy(const char *val, void *dst)
{
	struct opts *o = dst;
	char buf[64], *colon;
	struct in_addr in;
	int64_t port;

	snprintf(buf, sizeof(buf), "%s", val);
	colon = strchr(buf, ':');
	if (colon) {
		*colon = '\0';
		if (xp_parse_i64(colon + 1, 1, 65535, &port))
			return "has no port in 1..65535 after ':'";
		o->port = (int)port;
	}
	if (inet_pton(AF_INET, buf, &in) != 1)
		return "is not an IPv4 address";
	o->proxy = in.s_addr;
	return NULL;
}

static const char *opt_range(const char *val, void *dst)
{
	struct xr_range *r = dst;

	if (xs_parse_cidr(val, &r->base, &r->plen) || !strchr(val, '/'))
		return "is not A.B.C.D/LEN";
	if (!xpro_prefix_in_testbed(r->base, r->plen))
		return "is outside the testbed range " XPRO_TESTBED_STR;
	return NULL;
}

static const char *opt_dst_range(const char *val, void *dst)
{
	struct opts *o = dst;

	o->have_dst = 1;
	return opt_range(val, &o->dst);
}

/* unsigned, decimal or 0x hex (strtoull base 0) */
static const char *opt_seed(const char *val, void *dst)
{
	char *end;

	if (!isdigit((unsigned char)val[0]))
		return "is not an unsigned integer";
	errno = 0;
	*(uint64_t *)dst = strtoull(val, &end, 0);
	if (errno || *end)
		return "is not an unsigned integer";
	return NULL;
}

static const char *opt_outer_src(const char *val, void *dst)
{
	struct opts *o = dst;
	struct in_addr in;

	if (!strcmp(val, "mapped")) {
		o->outer_mapped = 1;
		return NULL;
	}
	if (inet_pton(AF_INET, val, &in) != 1)
		return "is not an IPv4 address or mapped";
	o->outer_src = in.s_addr;
	return NULL;
}

/* --class NAME (the default class) or NAME=EXPR (a libpcap filter; repeatable) */
static const char *opt_class(const char *val, void *dst)
{
	struct opts *o = dst;
	const char *eq = strchr(val, '=');
	size_t i;

	if (!eq) {
		o->class_name = val;
		return NULL;
	}
	if (eq == val || eq - val >= XS_CLASS_NAMELEN)
		return "is not NAME=EXPR (NAME 1-31 of A-Za-z0-9_.-)";
	for (i = 0; i < (size_t)(eq - val); i++)
		if (!isalnum((unsigned char)val[i]) && !strchr("_.-", val[i]))
			return "is not NAME=EXPR (NAME 1-31 of A-Za-z0-9_.-)";
	if (!eq[1])
		return "has an empty filter expression";
	if (o->nfilter >= FILTER_MAX)
		return "given more than " XP_STRINGIFY(FILTER_MAX) " times with a filter";
	o->filter[o->nfilter++] = val;
	return NULL;
}

/* Unix seconds or 'YYYY-MM-DD HH:MM:SS[.frac]' (UTC) */
static const char *opt_time(const char *s, void *dst)
{
	static const char why[] = "is not Unix seconds or 'YYYY-MM-DD HH:MM:SS[.frac]' (UTC)";
	double *t = dst, frac = 0;
	struct tm tm;
	char *end;

	if (!xp_parse_double(s, -HUGE_VAL, HUGE_VAL, t))
		return NULL;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!end)
		return why;
	if (*end == '.') {
		char *e2;

		frac = strtod(end, &e2);
		end = e2;
	}
	if (*end)
		return why;
	*t = (double)timegm(&tm) + frac;
	return NULL;
}

static int parse_opts(struct opts *o, int argc, char **argv)
{
	const struct xp_opt tab[] = {
		XP_STR("pcap", 0, &o->pcap, "FILE",
		       "the capture (pcap or pcapng; Ethernet, raw IP, Linux SLL/SLL2, BSD loopback)"),
		XP_CHOICE("mode", 0, &o->mode, "tunnel|inline", /* enum mode */
		      "tunnel (default): outer IPv4/UDP to the proxy + X-Pro header + packet;\n"
		      "inline: the mapped packet itself, sent raw"),
		XP_FN("proxy", 0, opt_proxy, o, "ADDR[:PORT]",
		      "the proxy's tunnel address (tunnel mode; port default " XP_STRINGIFY(XPRO_TUN_PORT_DEFAULT) ")"),
		XP_IPV4("target", 0, &o->target, "ADDR", "every destination becomes ADDR"),
		XP_FN("dst-range", 0, opt_dst_range, o, "CIDR", "destinations are mapped into CIDR instead"),
		XP_FN("src-range", 0, opt_range, &o->src, "CIDR", "sources are mapped into CIDR (default 198.18.64.0/18)"),
		XP_FN("seed", 0, opt_seed, &o->seed, "N", "mapping seed (default 1): same seed, same bytes"),
		XP_FN("outer-src", 0, opt_outer_src, o, "ADDR|mapped", "tunnel source: ADDR, or each packet's mapped source\n"
		      "(default: the kernel's source address towards the proxy)"),
		XP_INT("sport", 0, &o->sport, 1, 65535, "P",
		       "tunnel UDP source port (default 49152 + low 14 bits of the mapped source)"),
		XP_DOUBLE("speed", 0, &o->speed, 0, 1e6, "F",
			  "timing: capture gaps divided by F (default 1); 0: no timing, --rate only"),
		XP_DOUBLE("rate", 0, &o->rate, 1, 1e7, "PPS", "packets per second at most (default 20000)"),
		XP_DOUBLE("max-gap", 0, &o->max_gap, 0, MAX_DURATION, "S",
			  "shorten any capture gap longer than S seconds to S"),
		XP_FN("from", 0, opt_time, &o->from, "TIME", "skip packets captured before TIME (Unix seconds, or\n"
		      "'YYYY-MM-DD HH:MM:SS[.frac]' in UTC)"),
		XP_INT("min-ttl", 0, &o->min_ttl, 0, 255, "N",
		       "raise a captured IPv4 TTL below N to N (default 0: as captured); the proxy\n"
		       "is a router hop: a captured TTL of 1 expires there"),
		XP_LONG("loop", 0, &o->loops, 1, MAX_LOOPS, "N", "replay the capture N times (default 1)"),
		XP_LONG("limit", 0, &o->limit, 1, 1e12, "N", "send N packets at most"),
		XP_DOUBLE("duration", 0, &o->duration, 0.001, MAX_DURATION, "S", "stop after S seconds (default 60, at most 86400)"),
		XP_FN("class", 0, opt_class, o, "NAME|NAME=EXPR",
		      "NAME: the default class in the logs (default replay); NAME=EXPR (repeatable):\n"
		      "packets the libpcap filter EXPR matches, evaluated on the captured frame,\n"
		      "are of class NAME (first match wins; then --class-src; then the default)"),
		XP_STR("class-src", 0, &o->class_src, "SPEC", "NAME=A.B.C.D/LEN,...: class by the packet's captured source address"),
		XP_STR("log", 0, &o->log, "FILE", "sent per second: ts,src,dst,class,packets,bytes ('-': stdout)"),
		XP_STR("summary", 0, &o->summary, "FILE", "summary JSON at exit ('-': stdout)"),
		XP_STR("write", 0, &o->write, "FILE", "also write every packet sent, as sent, to a pcap (raw IPv4)"),
		XP_CHOICE("ipv6", 0, &o->skip6, "send|skip",
			  "IPv6 frames: send (default: mapped to testbed IPv6 names) or skip (counted)"),
		XP_STR("key-file", 0, &o->key_file, "FILE",
		       "tunnel header version 2 under the outer source's key ('A.B.C.D KEY' lines,\n"
		       "the proxy's device_keys file); a source without a line sends version 1"),
		XP_TEXT("  -h, --help           this text\n"
			"\n"
			"Stops at the end of the last loop, --limit, --duration, SIGTERM or SIGINT. docs/xpro-replay.md"),
		{ 0 },
	};
	int first = xp_opt_parse(TOOL, USAGE, tab, argc, argv);

	if (first < argc) {
		pr_warn("unexpected argument '%s' (try --help)\n", argv[first]);
		return -EINVAL;
	}
	if (!o->pcap) {
		pr_warn("--pcap FILE is required (try --help)\n");
		return -EINVAL;
	}
	if (o->mode == M_TUNNEL && !o->proxy) {
		pr_warn("tunnel mode needs --proxy ADDR (or --mode inline)\n");
		return -EINVAL;
	}
	if (!o->target == !o->have_dst) {
		pr_warn("give exactly one of --target ADDR and --dst-range CIDR\n");
		return -EINVAL;
	}
	return 0;
}

/* Every address this run can send to, checked before anything is read. */
static int check_safety(const struct opts *o)
{
	if (xpro_testbed_check(TOOL))
		return -EPERM;
	if (o->mode == M_TUNNEL && xpro_check_dest(TOOL, o->proxy))
		return -EPERM;
	if (o->target && xpro_check_dest(TOOL, o->target))
		return -EPERM;
	if (o->outer_src && !xpro_in_testbed(o->outer_src)) {
		pr_warn("refusing --outer-src outside the testbed range %s\n", XPRO_TESTBED_STR);
		return -EPERM;
	}
	return 0;
}

/* The source address the kernel would use towards the proxy. */
static int route_source(uint32_t proxy, int port, uint32_t *src)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = proxy,
				 .sin_port = htons((uint16_t)port) };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) || getsockname(fd, (struct sockaddr *)&a, &l))
		err = -errno;
	else
		*src = a.sin_addr.s_addr;
	close(fd);
	return err;
}

static void sleep_until(double t)
{
	struct timespec ts;

	ts.tv_sec = (time_t)t;
	ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR && !stop_sig)
		;
}

struct run {
	struct opts o;
	struct stats st;
	struct xs_class_map cm;
	struct bpf_program prog[FILTER_MAX];
	int fcls[FILTER_MAX];
	struct xs_ftab sec, tot;
	long cur_sec;
	FILE *logf;
	int fd, fd6;               /* raw IPv4, raw IPv6 (inline IPv6, opened at the first) */
	uint32_t outer_src;
	pcap_dumper_t *dump;
	struct xpro_keyfile keys;  /* --key-file; n 0: version 1 only */
	uint16_t ip_id;
	double t_start_mono, t_start_real, end_mono, next_free;
};

static void account(struct run *r, uint32_t src, uint32_t dst, int cls, size_t len, int v6)
{
	long now = (long)xp_real_s();
	struct xs_flow *f;

	if (now != r->cur_sec) {
		xs_log_write_second(r->logf, r->cur_sec, &r->sec, &r->cm);
		if (r->logf)
			fflush(r->logf);
		xs_ftab_clear(&r->sec);
		r->cur_sec = now;
	}
	f = xs_ftab_get(&r->sec, src, dst, (uint32_t)cls | (v6 ? XS_FLOW_V6 : 0));
	if (f) {
		f->packets++;
		f->bytes += len;
	}
	f = xs_ftab_get(&r->tot, 0, 0, (uint32_t)cls);
	if (f) {
		f->packets++;
		f->bytes += len;
	}
}

/* Sends one mapped packet; 0, or -errno (EMSGSIZE: too big for the path). */
static int send_one(struct run *r, uint8_t *pkt, size_t len, uint32_t src, uint32_t dst, int v6)
{
	static uint8_t out[PKT_MAX + 64];
	struct sockaddr_in to = { .sin_family = AF_INET };
	const uint8_t *wire = pkt;
	size_t wlen = len;

	if (xpro_check_dest(TOOL, dst))
		return -EPERM;
	if (v6 && r->o.mode == M_INLINE) {
		struct sockaddr_in6 to6 = { .sin6_family = AF_INET6 };

		memcpy(&to6.sin6_addr, pkt + 24, 16);
		if (xpro_check_dest6(TOOL, &to6.sin6_addr))
			return -EPERM;
		if (r->fd6 < 0) {
			/* IPPROTO_RAW: the packet's own IPv6 header goes out */
			r->fd6 = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
			if (r->fd6 < 0)
				return -errno;
		}
		if (sendto(r->fd6, pkt, len, 0, (struct sockaddr *)&to6, sizeof(to6)) != (ssize_t)len)
			return -errno;
		goto sent;
	}
	if (r->o.mode == M_TUNNEL) {
		uint32_t osrc = r->o.outer_mapped ? src : r->outer_src;
		uint16_t sport = r->o.sport ? (uint16_t)r->o.sport : (uint16_t)(49152 + (ntohl(src) & 0x3fff));

		/* a source without a key in --key-file sends version 1 (an old device) */
		struct xpro_tun_key *key = r->keys.n ? xpro_keyfile_find(&r->keys, osrc) : NULL;

		if (len + xpro_tun_outer_len(key) > PKT_MAX)
			return -EMSGSIZE;
		if (++r->ip_id == 0)
			r->ip_id = 1; /* the kernel would replace an ID of 0 */
		wlen = xr_tunnel(out, osrc, r->o.proxy, sport, (uint16_t)r->o.port, r->ip_id, pkt, len, key);
		wire = out;
		to.sin_addr.s_addr = r->o.proxy;
	} else {
		to.sin_addr.s_addr = dst;
	}
	if (sendto(r->fd, wire, wlen, 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)wlen)
		return -errno;
sent:
	if (r->dump) {
		struct pcap_pkthdr h = { .caplen = (bpf_u_int32)wlen, .len = (bpf_u_int32)wlen };
		uint64_t ns = xp_real_ns();

		h.ts.tv_sec = (time_t)(ns / 1000000000ULL);
		h.ts.tv_usec = (suseconds_t)(ns % 1000000000ULL / 1000);
		pcap_dump((u_char *)r->dump, &h, wire);
	}
	return 0;
}

/* One pass over the capture. 1 when a bound (limit, duration, signal) ended the run. */
static int one_loop(struct run *r, pcap_t *p, double loop_start)
{
	static uint8_t pkt[PKT_MAX];
	struct pcap_pkthdr *h;
	const u_char *data;
	double t_first = -1, t_prev = 0, virt = 0;
	int dlt = pcap_datalink(p), rc;

	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		double ts = (double)h->ts.tv_sec + (double)h->ts.tv_usec / 1e6, now, when;
		const uint8_t *ip;
		size_t iplen;
		uint32_t osrc = 0, odst, src, dst;
		int cls, err, v6 = 0;

		if (stop_sig) {
			r->st.stopped_by = stop_sig == SIGTERM ? "SIGTERM" : "SIGINT";
			return 1;
		}
		r->st.read++;
		if (r->o.from && ts < r->o.from) {
			r->st.before++;
			continue;
		}
		switch (xr_frame_ipv4(dlt, data, h->caplen, &ip, &iplen)) {
		case XR_IPV4:
			break;
		case XR_IPV6:
			if (r->o.skip6) {
				r->st.ipv6++;
				continue;
			}
			v6 = 1;
			break;
		case XR_NONIP:
			r->st.nonip++;
			continue;
		case XR_TRUNCATED:
			r->st.truncated++;
			continue;
		case XR_MALFORMED:
			r->st.malformed++;
			continue;
		}
		/* the packet's time in the replay: capture gaps / speed, long gaps shortened */
		if (t_first < 0) {
			t_first = t_prev = ts;
		} else {
			double gap = ts - t_prev;

			if (gap < 0)
				gap = 0;
			if (r->o.max_gap > 0 && gap > r->o.max_gap)
				gap = r->o.max_gap;
			virt += gap;
			t_prev = ts;
		}
		when = r->o.speed > 0 ? loop_start + virt / r->o.speed : 0;
		if (when < r->next_free)
			when = r->next_free;
		if (when > r->end_mono) {
			r->st.stopped_by = "duration";
			return 1;
		}
		now = xp_mono_s();
		if (when > now + 50e-6)
			sleep_until(when);
		if (stop_sig)
			continue; /* reported at the top of the loop */
		now = xp_mono_s();
		if (now >= r->end_mono) {
			r->st.stopped_by = "duration";
			return 1;
		}
		r->next_free = (when > now - 0.05 ? when : now) + 1.0 / r->o.rate;

		memcpy(pkt, ip, iplen);
		if (v6) {
			/* an IPv6 address is mapped as an IPv4 one; the packet carries its testbed name */
			src = xr_map6(r->o.seed, &r->o.src, ip + 8);
			dst = r->o.target ? r->o.target : xr_map6(r->o.seed, &r->o.dst, ip + 24);
			if (pkt[7] < r->o.min_ttl) {
				pkt[7] = (uint8_t)r->o.min_ttl; /* the hop limit */
				r->st.ttl_raised++;
			}
			xr_rewrite6(pkt, iplen, src, dst);
		} else {
			memcpy(&osrc, ip + 12, 4);
			memcpy(&odst, ip + 16, 4);
			src = xr_map(r->o.seed, &r->o.src, osrc);
			dst = r->o.target ? r->o.target : xr_map(r->o.seed, &r->o.dst, odst);
			if (pkt[8] < r->o.min_ttl) {
				pkt[8] = (uint8_t)r->o.min_ttl; /* xr_rewrite recomputes the header checksum */
				r->st.ttl_raised++;
			}
			xr_rewrite(pkt, iplen, src, dst);
		}
		err = send_one(r, pkt, iplen, src, dst, v6);
		if (err == -EPERM)
			return -1;
		if (err == -EMSGSIZE) {
			r->st.oversize++;
			continue;
		}
		if (err) {
			r->st.errors++;
			if (r->st.errors == 1)
				pr_warn("send: %s (counted in errors; further ones silent)\n",
					strerror(-err));
			continue;
		}
		cls = -1;
		for (int i = 0; i < r->o.nfilter && cls < 0; i++)
			if (pcap_offline_filter(&r->prog[i], h, data))
				cls = r->fcls[i];
		if (cls < 0) /* --class-src: IPv4 sources (an IPv6 one has the default class) */
			cls = v6 ? r->cm.defcls : xs_class_of(&r->cm, osrc);
		r->st.sent++;
		r->st.sent6 += (uint64_t)v6;
		r->st.bytes += iplen;
		account(r, src, dst, cls, iplen, v6);
		if (r->o.limit && r->st.sent >= (uint64_t)r->o.limit) {
			r->st.stopped_by = "limit";
			return 1;
		}
	}
	if (rc == PCAP_ERROR) {
		pr_warn("read %s: %s\n", r->o.pcap, pcap_geterr(p));
		r->st.errors++;
	}
	if (stop_sig) {
		r->st.stopped_by = stop_sig == SIGTERM ? "SIGTERM" : "SIGINT";
		return 1;
	}
	return 0;
}

static int write_summary(struct run *r, double ended)
{
	FILE *f = strcmp(r->o.summary, "-") ? fopen(r->o.summary, "w") : stdout;
	struct xs_flow *v = NULL;
	size_t n = 0, i;

	if (!f) {
		pr_warn("open %s: %s\n", r->o.summary, strerror(errno));
		return -errno;
	}
	fprintf(f, "{\"tool\":\"xpro-replay\",\"seed\":%" PRIu64 ",\"started\":%ld,\"ended\":%ld,", r->o.seed,
		(long)r->t_start_real, (long)ended);
	fprintf(f, "\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"by_class\":{", r->st.sent, r->st.bytes);
	if (!xs_ftab_sorted(&r->tot, 0, &v, &n))
		for (i = 0; i < n; i++) {
			fputs(i ? "," : "", f);
			xp_json_str(f, r->cm.name[v[i].cls]);
			fprintf(f, ":{\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 "}", v[i].packets, v[i].bytes);
		}
	free(v);
	fprintf(f, "},\"errors\":%" PRIu64 ",\"sent\":%" PRIu64 ",\"sent_ipv6\":%" PRIu64 ",\"read\":%" PRIu64
		",\"skipped_ipv6\":%" PRIu64
		",\"skipped_nonip\":%" PRIu64 ",\"skipped_truncated\":%" PRIu64 ",\"skipped_malformed\":%" PRIu64
		",\"skipped_before\":%" PRIu64 ",\"skipped_oversize\":%" PRIu64 ",\"ttl_raised\":%" PRIu64 ",",
		r->st.errors, r->st.sent, r->st.sent6, r->st.read, r->st.ipv6, r->st.nonip, r->st.truncated,
		r->st.malformed, r->st.before, r->st.oversize, r->st.ttl_raised);
	fprintf(f, "\"loops\":%ld,\"mode\":\"%s\",\"pcap\":", r->st.loops_done,
		r->o.mode == M_TUNNEL ? "tunnel" : "inline");
	xp_json_str(f, r->o.pcap);
	fprintf(f, ",\"duration_s\":%.3f,\"stopped_by\":\"%s\"}\n", xp_mono_s() - r->t_start_mono,
		r->st.stopped_by);
	if (f != stdout)
		return fclose(f) ? -errno : 0;
	fflush(f);
	return 0;
}

int main(int argc, char **argv)
{
	static struct run r;
	char errbuf[PCAP_ERRBUF_SIZE];
	struct sigaction sa = { .sa_handler = on_signal };
	pcap_t *p;
	long loop;
	int err, ret = 0;

	xpro_prog = TOOL;
	r.o = (struct opts){ .mode = M_TUNNEL, .port = XPRO_TUN_PORT_DEFAULT, .seed = 1, .speed = 1,
			     .rate = 20000, .duration = 60, .loops = 1, .class_name = "replay" };
	xs_parse_cidr("198.18.64.0/18", &r.o.src.base, &r.o.src.plen);
	if (parse_opts(&r.o, argc, argv))
		return 2;
	if (check_safety(&r.o))
		return 1;
	if (xs_class_map_parse(&r.cm, r.o.class_src, r.o.class_name, TOOL))
		return 2;
	p = pcap_open_offline(r.o.pcap, errbuf);
	if (!p) {
		pr_warn("open %s: %s\n", r.o.pcap, errbuf);
		return 1;
	}
	if (!xr_dlt_supported(pcap_datalink(p))) {
		pr_warn("%s: link type %s not supported (Ethernet, raw IP, Linux SLL/SLL2, loopback)\n",
			r.o.pcap, pcap_datalink_val_to_name(pcap_datalink(p)) ?: "?");
		pcap_close(p);
		return 1;
	}
	for (int i = 0; i < r.o.nfilter; i++) {
		const char *eq = strchr(r.o.filter[i], '=');
		char name[XS_CLASS_NAMELEN];

		snprintf(name, sizeof(name), "%.*s", (int)(eq - r.o.filter[i]), r.o.filter[i]);
		if (pcap_compile(p, &r.prog[i], eq + 1, 1, PCAP_NETMASK_UNKNOWN)) {
			pr_warn("--class %s: not a libpcap filter expression: %s\n", r.o.filter[i], pcap_geterr(p));
			pcap_close(p);
			return 2;
		}
		r.fcls[i] = xs_class_add(&r.cm, name);
		if (r.fcls[i] < 0) {
			pr_warn("--class %s: more than %d classes\n", r.o.filter[i], XS_CLASS_MAX);
			pcap_close(p);
			return 2;
		}
	}
	if (r.o.key_file) {
		char e[256];

		if (xpro_keyfile_load(r.o.key_file, &r.keys, e, sizeof(e)) < 0) {
			pr_warn("--key-file: %s\n", e);
			pcap_close(p);
			return 1;
		}
	}
	if (r.o.mode == M_TUNNEL && !r.o.outer_mapped) {
		r.outer_src = r.o.outer_src;
		if (!r.outer_src && (err = route_source(r.o.proxy, r.o.port, &r.outer_src))) {
			pr_warn("no route to the proxy: %s\n", strerror(-err));
			pcap_close(p);
			return 1;
		}
	}
	r.fd6 = -1;
	r.fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
	if (r.fd < 0) {
		pr_warn("raw socket: %s\n", strerror(errno));
		pcap_close(p);
		return 1;
	}
	if (xs_ftab_init(&r.sec, 4000000) || xs_ftab_init(&r.tot, 64)) {
		pr_warn("flow tables: %s\n", strerror(ENOMEM));
		return 1;
	}
	if (r.o.log && !(r.logf = xs_log_open(r.o.log, XP_FLOWLOG_HEADER, TOOL)))
		return 1;
	if (r.o.write) {
		pcap_t *dead = pcap_open_dead(DLT_RAW, PKT_MAX + 64);

		r.dump = dead ? pcap_dump_open(dead, r.o.write) : NULL;
		if (!r.dump) {
			pr_warn("open %s: %s\n", r.o.write, dead ? pcap_geterr(dead) : "pcap_open_dead");
			return 1;
		}
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	r.t_start_real = xp_real_s();
	r.t_start_mono = xp_mono_s();
	r.end_mono = r.t_start_mono + r.o.duration;
	r.cur_sec = (long)r.t_start_real;
	r.st.stopped_by = "end";
	for (loop = 0; loop < r.o.loops; loop++) {
		double start = xp_mono_s();

		if (loop) {
			pcap_close(p);
			p = pcap_open_offline(r.o.pcap, errbuf);
			if (!p) {
				pr_warn("reopen %s: %s\n", r.o.pcap, errbuf);
				ret = 1;
				break;
			}
		}
		if (r.next_free > start)
			start = r.next_free;
		err = one_loop(&r, p, start);
		if (err < 0) {
			ret = 1;
			r.st.stopped_by = "refused";
			break;
		}
		if (err > 0)
			break;
		r.st.loops_done++;
	}
	if (p)
		pcap_close(p);
	xs_log_write_second(r.logf, r.cur_sec, &r.sec, &r.cm);
	xp_csv_close(r.logf);
	if (r.dump)
		pcap_dump_close(r.dump);
	if (r.o.summary && write_summary(&r, xp_real_s()))
		ret = 1;
	close(r.fd);
	if (r.fd6 >= 0)
		close(r.fd6);
	pr_warn("sent %" PRIu64 " of %" PRIu64 " frames read (%" PRIu64 " IPv6; skipped: ipv6 %" PRIu64 ", non-ip %" PRIu64
		", truncated %" PRIu64 ", malformed %" PRIu64 ", before %" PRIu64 ", oversize %" PRIu64
		", errors %" PRIu64 "); stopped by %s\n",
		r.st.sent, r.st.read, r.st.sent6, r.st.ipv6, r.st.nonip, r.st.truncated, r.st.malformed, r.st.before,
		r.st.oversize, r.st.errors, r.st.stopped_by);
	return ret;
}
