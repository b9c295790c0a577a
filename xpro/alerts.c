// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The overload warnings after the data plane has sent them: `xpro warnd`,
 * their one consumer (ring buffer -> EVE-style JSON lines in alerts.jsonl,
 * rotated by size; the master's xpro:warnings channel and stream; the
 * notify command), and `xpro alerts`, the viewers. docs/operations.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "addr.h"
#include "alerts.h"
#include "formats.h"
#include "json.h"
#include "keys.h"
#include "log.h"
#include "output.h"
#include "proxy.h"
#include "xredis.h"

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

/* ---- the alert log: EVE-style JSON lines, rotated by size ---------------- */

struct alog {
	char path[700];
	FILE *f;
	uint64_t size, max;   /* bytes */
	uint32_t keep;        /* rotated files kept: path.1 (newest) .. path.keep */
};

int xpro_alert_log_path(const struct xpro_config *c, const struct xpro_proxy *px, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%s/%s/alerts.jsonl", xpro_log_dir(c), px->nsname, px->ifname);

	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

static int alog_open(struct alog *l)
{
	struct stat st;

	l->f = fopen(l->path, "a");
	if (!l->f)
		return -errno;
	l->size = fstat(fileno(l->f), &st) ? 0 : (uint64_t)st.st_size;
	return 0;
}

/* alerts.jsonl -> .1 -> .2 ... -> .keep (the oldest falls off) */
static void alog_rotate(struct alog *l)
{
	char from[720], to[720];

	fclose(l->f);
	l->f = NULL;
	for (uint32_t i = l->keep; i > 1; i--) {
		snprintf(from, sizeof(from), "%s.%u", l->path, i - 1);
		snprintf(to, sizeof(to), "%s.%u", l->path, i);
		rename(from, to);
	}
	snprintf(to, sizeof(to), "%s.1", l->path);
	rename(l->path, to);
	if (alog_open(l))
		pr_warn("warnd: reopen %s: %s\n", l->path, strerror(errno));
}

static void alog_write(struct alog *l, const char *line, size_t len)
{
	if (!l->f && alog_open(l))
		return;
	if (l->f && l->size && l->size + len + 1 > l->max)
		alog_rotate(l);
	if (!l->f)
		return;
	fwrite(line, 1, len, l->f);
	fputc('\n', l->f);
	fflush(l->f);
	l->size += len + 1;
}

/* ---- the notify hook: a command, no shell, the warning on stdin ---------- */

static void notify_run(const char *cmd, const char *line, size_t len)
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", NULL };
	char *argv[] = { (char *)cmd, "warning", NULL };
	posix_spawn_file_actions_t fa;
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], STDIN_FILENO);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	if (posix_spawn(&pid, cmd, &fa, NULL, argv, envp))
		pr_warn("warnd: notify %s: cannot run it\n", cmd);
	posix_spawn_file_actions_destroy(&fa);
	close(p[0]);
	/* one line, well below PIPE_BUF: never blocks, never partial */
	if (write(p[1], line, len) < 0 || write(p[1], "\n", 1) < 0)
		pr_debug("warnd: notify: the command did not read its stdin\n");
	close(p[1]);
}

/* ---- xpro warnd ------------------------------------------------------------ */

struct warnd_ctx {
	struct alog log;
	struct xpro_proxy *px;
	const struct xpro_config *cfg;
	const char *proxy_id;
	uint64_t n, published, unpublished, notified, not_notified, last_notify_ns;
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

static const char *reason_text(__u32 r)
{
	switch (r) {
	case XPRO_R_TF1: return "X-Pro TF1: one client above its rate towards one destination";
	case XPRO_R_TF2: return "X-Pro TF2: a destination above its capacity";
	case XPRO_R_TF2_FAIR: return "X-Pro TF2 fair: a client above its share of an overloaded destination";
	default: return "X-Pro warning";
	}
}

/* TAI ns (the data plane's clock) as ISO 8601 UTC, microseconds */
static const char *iso_utc(char *buf, size_t len, uint64_t tai_ns)
{
	struct timespec tai, real;
	struct tm tm;
	int64_t ns;
	time_t sec;

	clock_gettime(CLOCK_TAI, &tai);
	clock_gettime(CLOCK_REALTIME, &real);
	ns = (int64_t)tai_ns - ((int64_t)(tai.tv_sec - real.tv_sec) * 1000000000LL + (tai.tv_nsec - real.tv_nsec));
	sec = (time_t)(ns / 1000000000LL);
	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)((uint64_t)ns % 1000000000ULL / 1000));
	return buf;
}

/* The threshold the warning was measured against (packets/s). */
static uint64_t threshold(struct warnd_ctx *w, const struct xpro_warning *ev)
{
	struct xpro_params p;
	__u64 v;

	if (xpro_read_params(w->px, &p))
		return 0;
	if (ev->reason == XPRO_R_TF1)
		return p.tf1;
	if (!bpf_map_lookup_elem(w->px->fd[M_TF2], &ev->dest, &v))
		return v;
	return p.tf2;
}

/* One warning as one EVE-style line (docs/operations.md, Alerts): every
 * string through the project's JSON writer. */
int xpro_warning_eve(char *line, size_t len, const struct xpro_warning *ev, const char *proxy_id,
		     const char *nsname, const char *ifname, uint64_t thr)
{
	char a[XPRO_ADDR_STRLEN], b[XPRO_ADDR_STRLEN], ts[96];
	char qp[140], qn[270], qi[40], qa[XPRO_ADDR_STRLEN + 2], qb[XPRO_ADDR_STRLEN + 2], qr[16], qt[104], qs[160];
	double rate = ev->window_ns ? (double)ev->count * 1e9 / (double)ev->window_ns : 0;

	xpro_addr_str(a, &ev->client);
	xpro_addr_str(b, &ev->dest);
	xp_json_q(qa, sizeof(qa), a);
	xp_json_q(qb, sizeof(qb), b);
	return snprintf(line, len,
			"{\"timestamp\":%s,\"event_type\":\"alert\",\"proxy\":%s,\"netns\":%s,\"interface\":%s"
			",\"src_ip\":%s,\"dest_ip\":%s,\"client\":%s,\"destination\":%s,\"dest\":%s,\"reason\":%s"
			",\"rate_pps\":%.1f,\"threshold_pps\":%" PRIu64 ",\"count\":%" PRIu64 ",\"window_ns\":%" PRIu64
			",\"ts_ns\":%" PRIu64 ",\"alert\":{\"action\":\"blocked\",\"signature\":%s"
			",\"category\":\"Denial of Service\",\"severity\":2}}",
			xp_json_q(qt, sizeof(qt), iso_utc(ts, sizeof(ts), (uint64_t)ev->ts)),
			xp_json_q(qp, sizeof(qp), proxy_id), xp_json_q(qn, sizeof(qn), nsname),
			xp_json_q(qi, sizeof(qi), ifname), qa, qb, qa, qb, qb,
			xp_json_q(qr, sizeof(qr), reason_name(ev->reason)), rate, thr, (uint64_t)ev->count,
			(uint64_t)ev->window_ns, (uint64_t)ev->ts, xp_json_q(qs, sizeof(qs), reason_text(ev->reason)));
}

static int on_warning(void *ctx, void *data, size_t len)
{
	struct warnd_ctx *w = ctx;
	const struct xpro_warning *ev = data;
	char line[1024];
	int ll;
	uint64_t now;

	if (len < sizeof(*ev))
		return 0;
	ll = xpro_warning_eve(line, sizeof(line), ev, w->proxy_id, w->px->nsname, w->px->ifname, threshold(w, ev));
	if (ll <= 0 || (size_t)ll >= sizeof(line))
		return 0;
	alog_write(&w->log, line, (size_t)ll);
	/* on the master's channel, where every proxy's warnings meet, and
	 * kept in a bounded stream for who was not listening */
	if (w->mr) {
		redisContext *rc = xredis_get(w->mr);
		redisReply *rep = rc ? redisCommand(rc, "PUBLISH " XK_WARNINGS " %b", line, (size_t)ll) : NULL;

		if (rep) {
			freeReplyObject(rep);
			rep = redisCommand(rc, "XADD " XK_WARNINGS_LOG " MAXLEN ~ " XK_STREAM_MAX " * eve %b", line,
					   (size_t)ll);
		}
		if (rep) {
			w->published++;
			freeReplyObject(rep);
		} else {
			if (rc)
				xredis_fail(w->mr, rc->errstr);
			w->unpublished++;
		}
	}
	if (w->cfg->notify[0]) {
		now = xpro_now_tai();
		if (!w->last_notify_ns || now - w->last_notify_ns >= w->cfg->notify_interval_ns) {
			notify_run(w->cfg->notify, line, (size_t)ll);
			w->last_notify_ns = now;
			w->notified++;
		} else {
			w->not_notified++;
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
	err = xpro_alert_log_path(c, &px, w.log.path, sizeof(w.log.path));
	if (!err) {
		snprintf(path, sizeof(path), "%s", w.log.path);
		*strrchr(path, '/') = '\0';
		err = xpro_mkdir_p(path);
	}
	if (!err)
		err = alog_open(&w.log);
	if (err) {
		pr_warn("warnd %s: open %s: %s\n", px.ifname, w.log.path, strerror(-err));
		goto out;
	}
	w.log.max = c->log_max_kb * 1024;
	w.log.keep = c->log_keep;
	w.px = &px;
	w.cfg = c;
	snprintf(proxy_id, sizeof(proxy_id), "%s", c->proxy_id[0] ? c->proxy_id : px.nsname);
	w.proxy_id = proxy_id;
	if (strchr(c->redis_master, ',')) {
		/* a Redis Cluster (docs/sync.md): not done here yet */
		pr_warn("warnd: redis_master is a cluster seed list: warnings stay in %s (not published)\n", w.log.path);
	} else if (c->redis_master[0]) {
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
	pr_info("warnd %s: publishing warnings to %s\n", px.ifname, w.log.path);
	while (!*wa->stop) {
		err = ring_buffer__poll(rb, 100);
		if (err < 0 && err != -EINTR)
			break;
		err = 0;
		while (waitpid(-1, NULL, WNOHANG) > 0)
			; /* notify commands that ended */
		if (wa->reload && *wa->reload) {
			/* SIGHUP: a log moved away by logrotate is reopened */
			*wa->reload = 0;
			if (w.log.f)
				fclose(w.log.f);
			if (alog_open(&w.log))
				pr_warn("warnd %s: reopen %s: %s\n", px.ifname, w.log.path, strerror(errno));
			else
				pr_info("warnd %s: SIGHUP: %s reopened\n", px.ifname, w.log.path);
		}
		if (wa->duration > 0 && (double)xpro_now_tai() / 1e9 - t0 >= wa->duration)
			break;
	}
	pr_info("warnd %s: %" PRIu64 " warnings written, %" PRIu64 " published on the master, %" PRIu64
		" not (master away), %" PRIu64 " notified, %" PRIu64 " not (notify_interval_ms)\n",
		px.ifname, w.n, w.published, w.unpublished, w.notified, w.not_notified);
	if (w.mr)
		xredis_close(w.mr);
out:
	ring_buffer__free(rb);
	if (w.log.f)
		fclose(w.log.f);
	if (lock >= 0)
		close(lock);
	xpro_proxy_close(&px);
	return err;
}

struct shown {
	long n;
	int pretty;
};

static void print_msg(const char *msg, size_t len, void *arg)
{
	static char line[6 * XPRO_MSG_MAX + 16];
	struct shown *s = arg;

	/* another proxy's message: one line, no control character (formats.h) */
	xpro_msg_escape(line, msg, len);
	xpro_json_emit(stdout, line, s->pretty);
	s->n++;
}

int xpro_alerts_all(const struct xpro_config *c, const struct xpro_watch *wa)
{
	struct xsub sw, sa;
	double t0 = (double)xpro_now_tai() / 1e9;
	struct shown shown = { 0, wa->pretty };

	if (!c->redis_master[0]) {
		pr_warn("alerts --all: no master: set redis_master = ADDR:PORT\n");
		return -EINVAL;
	}
	if (xsub_init(&sw, "master", c->redis_master, c->redis_user, c->redis_password, XK_WARNINGS) ||
	    xsub_init(&sa, "master", c->redis_master, c->redis_user, c->redis_password, XK_ALERTS)) {
		pr_warn("alerts --all: redis_master '%s' is not ADDR:PORT\n", c->redis_master);
		return -EINVAL;
	}
	while (!*wa->stop && (wa->count < 0 || shown.n < wa->count)) {
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

/* warnd rotated the log: path is another file than f now */
static int rotated(FILE *f, const char *path)
{
	struct stat a, b;

	return !fstat(fileno(f), &a) && !stat(path, &b) && (a.st_ino != b.st_ino || a.st_dev != b.st_dev);
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
	if (!err)
		err = xpro_alert_log_path(c, &px, path, sizeof(path));
	if (err)
		return err;
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
			if (wa->pretty)
				xpro_json_emit(stdout, line, 1);
			else
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
		if (f && rotated(f, path)) {
			fclose(f); /* read to its end: the new file from its start */
			f = NULL;
			continue;
		}
		sleep_s(0.1);
	}
done:
	if (f)
		fclose(f);
	return 0;
}
