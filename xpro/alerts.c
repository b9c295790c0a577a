// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The overload warnings after the data plane has sent them: `xpro warnd`,
 * their one consumer (ring buffer -> alerts.jsonl and the master's
 * xpro:warnings channel), and `xpro alerts`, the viewers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "alerts.h"
#include "formats.h"
#include "log.h"
#include "proxy.h"
#include "xredis.h"

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

struct warnd_ctx {
	FILE *out;
	const char *ifname, *nsname, *proxy_id;
	uint64_t n, published, unpublished;
	struct xredis *mr;      /* the master, when redis_master is set */
};

static const char *reason_name(__u32 r)
{
	switch (r) {
	case XPRO_R_TF1: return "tf1";
	case XPRO_R_TF2: return "tf2";
	case XPRO_R_TF2_FAIR: return "tf2_fair";
	default: return "ok";
	}
}

static int on_warning(void *ctx, void *data, size_t len)
{
	struct warnd_ctx *w = ctx;
	const struct xpro_warning *ev = data;
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	if (len < sizeof(*ev))
		return 0;
	inet_ntop(AF_INET, &ev->client, a, sizeof(a));
	inet_ntop(AF_INET, &ev->dest, b, sizeof(b));
	char line[512];
	int ll;

	ll = snprintf(line, sizeof(line), "{\"ts_ns\":%" PRIu64 ",\"proxy\":\"%s\",\"netns\":\"%s\",\"interface\":\"%s\",\"client\":\"%s\",\"dest\":\"%s\",\"reason\":\"%s\",\"count\":%" PRIu64 ",\"window_ns\":%" PRIu64 "}",
		       (uint64_t)ev->ts, w->proxy_id, w->nsname, w->ifname, a, b, reason_name(ev->reason),
		       (uint64_t)ev->count, (uint64_t)ev->window_ns);
	fprintf(w->out, "%s\n", line);
	fflush(w->out);
	/* and on the master's channel, where every proxy's warnings meet */
	if (w->mr) {
		redisContext *rc = xredis_get(w->mr);
		redisReply *rep = rc ? redisCommand(rc, "PUBLISH xpro:warnings %b", line, (size_t)ll) : NULL;

		if (rep) {
			w->published++;
			freeReplyObject(rep);
		} else {
			if (rc)
				xredis_fail(w->mr, rc->errstr);
			w->unpublished++;
		}
	}
	w->n++;
	return 0;
}

int xpro_warnd(const struct xpro_config *c, const char *ifname, const struct xpro_watch *wa)
{
	struct xpro_proxy px;
	struct ring_buffer *rb = NULL;
	struct warnd_ctx w = { 0 };
	struct xredis mr;
	char path[700], proxy_id[200];
	int err, lock = -1;
	double t0 = (double)xpro_now_tai() / 1e9;

	err = xpro_proxy_init(&px, c, ifname);
	if (!err)
		err = xpro_proxy_open(&px);
	if (err)
		goto out;
	/* exactly one consumer per proxy */
	snprintf(path, sizeof(path), "%s/warnd.pid", px.state_dir);
	lock = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB)) {
		char pid[32] = "?";

		if (lock >= 0 && pread(lock, pid, sizeof(pid) - 1, 0) > 0)
			pid[strcspn(pid, "\n")] = '\0';
		pr_warn("warnd %s: another warnd already consumes the warnings (pid %s)\n", px.ifname, pid);
		err = -EBUSY;
		goto out;
	}
	if (ftruncate(lock, 0) == 0)
		dprintf(lock, "%d\n", (int)getpid());
	snprintf(path, sizeof(path), "%s/alerts.jsonl", px.state_dir);
	w.out = fopen(path, "a");
	if (!w.out) {
		err = -errno;
		pr_warn("warnd %s: open %s: %s\n", px.ifname, path, strerror(errno));
		goto out;
	}
	w.ifname = px.ifname;
	w.nsname = px.nsname;
	snprintf(proxy_id, sizeof(proxy_id), "%s", c->proxy_id[0] ? c->proxy_id : px.nsname);
	w.proxy_id = proxy_id;
	if (c->redis_master[0]) {
		if (xredis_init(&mr, "master", c->redis_master, c->redis_user, c->redis_password)) {
			pr_warn("warnd: redis_master '%s' is not ADDR:PORT\n", c->redis_master);
			err = -EINVAL;
			goto out;
		}
		w.mr = &mr;
		signal(SIGPIPE, SIG_IGN);
	}
	rb = ring_buffer__new(px.fd[M_WARNINGS], on_warning, &w, NULL);
	if (!rb) {
		err = -errno;
		pr_warn("warnd %s: ring buffer: %s\n", px.ifname, strerror(-err));
		goto out;
	}
	pr_info("warnd %s: publishing warnings to %s\n", px.ifname, path);
	while (!*wa->stop) {
		err = ring_buffer__poll(rb, 100);
		if (err < 0 && err != -EINTR)
			break;
		err = 0;
		if (wa->duration > 0 && (double)xpro_now_tai() / 1e9 - t0 >= wa->duration)
			break;
	}
	pr_info("warnd %s: %" PRIu64 " warnings written, %" PRIu64 " published on the master, %" PRIu64 " not (master away)\n",
		px.ifname, w.n, w.published, w.unpublished);
	if (w.mr)
		xredis_close(w.mr);
out:
	ring_buffer__free(rb);
	if (w.out)
		fclose(w.out);
	if (lock >= 0)
		close(lock);
	xpro_proxy_close(&px);
	return err;
}

static void print_msg(const char *msg, size_t len, void *arg)
{
	static char line[6 * XPRO_MSG_MAX + 16];
	long *shown = arg;

	/* another proxy's message: one line, no control character (formats.h) */
	xpro_msg_escape(line, msg, len);
	printf("%s\n", line);
	(*shown)++;
}

int xpro_alerts_all(const struct xpro_config *c, const struct xpro_watch *wa)
{
	struct xsub sw, sa;
	double t0 = (double)xpro_now_tai() / 1e9;
	long shown = 0;

	if (!c->redis_master[0]) {
		pr_warn("alerts --all: no master: set redis_master = ADDR:PORT\n");
		return -EINVAL;
	}
	if (xsub_init(&sw, "master", c->redis_master, c->redis_user, c->redis_password, "xpro:warnings") ||
	    xsub_init(&sa, "master", c->redis_master, c->redis_user, c->redis_password, "xpro:alerts")) {
		pr_warn("alerts --all: redis_master '%s' is not ADDR:PORT\n", c->redis_master);
		return -EINVAL;
	}
	while (!*wa->stop && (wa->count < 0 || shown < wa->count)) {
		struct pollfd pf[2];
		int n = 0, fw = xsub_fd(&sw), fa = xsub_fd(&sa);

		if (fw >= 0)
			pf[n++] = (struct pollfd){ .fd = fw, .events = POLLIN };
		if (fa >= 0)
			pf[n++] = (struct pollfd){ .fd = fa, .events = POLLIN };
		if (wa->duration > 0 && (double)xpro_now_tai() / 1e9 - t0 >= wa->duration)
			break;
		if (!n) {
			sleep_s(0.1);
			continue;
		}
		if (poll(pf, (nfds_t)n, 100) <= 0)
			continue;
		for (int i = 0; i < n; i++)
			if (pf[i].revents)
				xsub_read(pf[i].fd == fw ? &sw : &sa, print_msg, &shown);
		fflush(stdout);
	}
	xredis_close(&sw.r);
	xredis_close(&sa.r);
	return 0;
}

int xpro_alerts(const struct xpro_config *c, const char *ifname, const struct xpro_watch *wa)
{
	struct xpro_proxy px;
	char path[700], line[1024];
	double t0 = (double)xpro_now_tai() / 1e9;
	long shown = 0;
	FILE *f = NULL;
	int err;

	err = xpro_proxy_init(&px, c, ifname);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/alerts.jsonl", px.state_dir);
	while (!*wa->stop) {
		if (!f) {
			f = fopen(path, "r");
			if (!f && !wa->follow) {
				pr_warn("alerts %s: no warnings published yet (%s); is xpro warnd running?\n",
					px.ifname, path);
				return -ENOENT;
			}
		}
		while (f && fgets(line, sizeof(line), f)) {
			fputs(line, stdout);
			shown++;
			if (wa->count >= 0 && shown >= wa->count)
				goto done;
		}
		fflush(stdout);
		if (!wa->follow)
			break;
		if (wa->duration > 0 && (double)xpro_now_tai() / 1e9 - t0 >= wa->duration)
			break;
		if (f)
			clearerr(f);
		sleep_s(0.1);
	}
done:
	if (f)
		fclose(f);
	return 0;
}
