// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The Redis Cluster client (xpro/rcluster.h, docs/sync.md "Redis Cluster:
 * the client"). Everything read from the cluster is checked: a slot map or
 * a redirect that is not what the specification says is refused with a
 * reason, and nothing else changes.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "addr.h"
#include "log.h"
#include "rcluster.h"

/* ---- key slots ------------------------------------------------------------- */

uint16_t rc_crc16(const char *s, size_t len)
{
	uint16_t crc = 0;
	size_t i;
	int b;

	for (i = 0; i < len; i++) {
		crc ^= (uint16_t)((unsigned char)s[i] << 8);
		for (b = 0; b < 8; b++)
			crc = crc & 0x8000 ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
	}
	return crc;
}

unsigned int rc_keyslot(const char *key, size_t len)
{
	const char *open = memchr(key, '{', len), *close;

	if (open) {
		close = memchr(open + 1, '}', len - (size_t)(open + 1 - key));
		if (close && close > open + 1)
			return rc_crc16(open + 1, (size_t)(close - open - 1)) & (RC_SLOTS - 1);
	}
	return rc_crc16(key, len) & (RC_SLOTS - 1);
}

/* ---- addresses --------------------------------------------------------------- */

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* a port of len bytes: 1-5 digits, no leading zero, 1..65535 */
static int parse_port(const char *s, size_t len, int *port)
{
	int p = 0;
	size_t i;

	if (!len || len > 5 || s[0] == '0')
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		p = p * 10 + (s[i] - '0');
	}
	if (p < 1 || p > 65535)
		return -1;
	*port = p;
	return 0;
}

/* host (hl bytes) in its canonical text form; v6: 1 it must be IPv6, 0 IPv4 */
static int parse_host(const char *h, size_t hl, int v6, struct rc_addr *a)
{
	struct xpro_addr x;

	if (!hl || hl >= RC_HOSTLEN || xpro_addr_parse(h, hl, &x) || xpro_addr_is4(&x) == v6)
		return -1;
	memcpy(a->host, h, hl);
	a->host[hl] = '\0';
	return 0;
}

#define HP_BARE6 1   /* an IPv6 address without brackets (split at the last ':') */
#define HP_EMPTY 2   /* ":PORT": no host */

static int parse_hp(const char *s, size_t len, int flags, struct rc_addr *a, char *err, size_t errlen)
{
	const char *colon = NULL, *close;
	struct rc_addr t;
	size_t i;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~') {
			seterr(err, errlen, "'%.*s': a space or control character", (int)(len > 64 ? 64 : len), s);
			return -1;
		}
	if (len && s[0] == '[') {
		close = memchr(s, ']', len);
		if (!close || (size_t)(close + 1 - s) >= len || close[1] != ':') {
			seterr(err, errlen, "'%.*s': not [IPV6-ADDRESS]:PORT", (int)(len > 64 ? 64 : len), s);
			return -1;
		}
		if (parse_host(s + 1, (size_t)(close - s - 1), 1, &t)) {
			seterr(err, errlen, "'%.*s': not an IPv6 address in its canonical form (RFC 5952)",
			       (int)(close - s - 1 > 64 ? 64 : close - s - 1), s + 1);
			return -1;
		}
		colon = close + 1;
	} else {
		for (i = len; i-- > 0;)
			if (s[i] == ':') {
				colon = s + i;
				break;
			}
		if (!colon) {
			seterr(err, errlen, "'%.*s': no :PORT", (int)(len > 64 ? 64 : len), s);
			return -1;
		}
		if (colon == s) {
			if (!(flags & HP_EMPTY)) {
				seterr(err, errlen, "'%.*s': no address before the port", (int)(len > 64 ? 64 : len), s);
				return -1;
			}
		} else if (memchr(s, ':', (size_t)(colon - s))) {
			if (!(flags & HP_BARE6)) {
				seterr(err, errlen, "'%.*s': an IPv6 address is written [ADDRESS]:PORT",
				       (int)(len > 64 ? 64 : len), s);
				return -1;
			}
			if (parse_host(s, (size_t)(colon - s), 1, &t)) {
				seterr(err, errlen, "'%.*s': not an IPv6 address in its canonical form (RFC 5952)",
				       (int)(colon - s > 64 ? 64 : colon - s), s);
				return -1;
			}
		} else if (parse_host(s, (size_t)(colon - s), 0, &t)) {
			seterr(err, errlen, "'%.*s': not a dotted IPv4 address", (int)(colon - s > 64 ? 64 : colon - s), s);
			return -1;
		}
	}
	if (parse_port(colon + 1, len - (size_t)(colon + 1 - s), &t.port)) {
		seterr(err, errlen, "'%.*s': the port is not 1-65535", (int)(len > 64 ? 64 : len), s);
		return -1;
	}
	*a = t;
	return 0;
}

int rc_parse_hostport(const char *s, size_t len, struct rc_addr *a, char *err, size_t errlen)
{
	return parse_hp(s, len, 0, a, err, errlen);
}

char *rc_addr_str(char *buf, const struct rc_addr *a)
{
	snprintf(buf, RC_HOSTLEN + 8, strchr(a->host, ':') ? "[%s]:%d" : "%s:%d", a->host, a->port);
	return buf;
}

static int addr_eq(const struct rc_addr *a, const struct rc_addr *b)
{
	return a->port == b->port && !strcmp(a->host, b->host);
}

int rc_parse_seeds(const char *s, struct rc_addr *seeds, char *err, size_t errlen)
{
	struct rc_addr t[RC_MAX_SEEDS];
	const char *p = s, *e;
	int n = 0, i;

	if (!s || !*s) {
		seterr(err, errlen, "the seed list is empty");
		return -1;
	}
	if (strlen(s) > RC_SEEDS_MAXLEN) {
		seterr(err, errlen, "the seed list is longer than %d characters", RC_SEEDS_MAXLEN);
		return -1;
	}
	for (;;) {
		e = strchr(p, ',');
		if (!e)
			e = p + strlen(p);
		if (e == p) {
			seterr(err, errlen, "seed %d is empty (ADDR:PORT,ADDR:PORT,...)", n + 1);
			return -1;
		}
		if (n == RC_MAX_SEEDS) {
			seterr(err, errlen, "more than %d seeds", RC_MAX_SEEDS);
			return -1;
		}
		if (parse_hp(p, (size_t)(e - p), 0, &t[n], err, errlen))
			return -1;
		for (i = 0; i < n; i++)
			if (addr_eq(&t[i], &t[n])) {
				seterr(err, errlen, "seed '%.*s' is listed twice", (int)(e - p), p);
				return -1;
			}
		n++;
		if (!*e)
			break;
		p = e + 1;
	}
	memcpy(seeds, t, (size_t)n * sizeof(*t));
	return n;
}

/* ---- the slot map ------------------------------------------------------------ */

static int map_node(struct rc_map *m, const struct rc_addr *a)
{
	int i;

	for (i = 0; i < m->nnodes; i++)
		if (addr_eq(&m->node[i], a))
			return i;
	if (m->nnodes == RC_MAX_NODES)
		return -1;
	m->node[m->nnodes] = *a;
	m->master[m->nnodes] = 0;
	return m->nnodes++;
}

static int int_in(const redisReply *e, long long lo, long long hi)
{
	return e && e->type == REDIS_REPLY_INTEGER && e->integer >= lo && e->integer <= hi;
}

int rc_parse_slots(const redisReply *r, const char *self, struct rc_map *m, char *err, size_t errlen)
{
	size_t i, j;
	int s;

	memset(m->owner, 0xff, sizeof(m->owner));
	m->nnodes = 0;
	m->covered = 0;
	if (!r || r->type != REDIS_REPLY_ARRAY) {
		seterr(err, errlen, "CLUSTER SLOTS: not an array of slot ranges");
		return -1;
	}
	if (!r->elements) {
		seterr(err, errlen, "CLUSTER SLOTS: no slot range (no slot is assigned)");
		return -1;
	}
	if (r->elements > RC_SLOTS) {
		seterr(err, errlen, "CLUSTER SLOTS: %zu ranges, more than there are slots", r->elements);
		return -1;
	}
	for (i = 0; i < r->elements; i++) {
		const redisReply *e = r->element[i];
		long long lo, hi;
		int owner = -1;

		if (!e || e->type != REDIS_REPLY_ARRAY || e->elements < 3 || e->elements > 2 + RC_MAX_NODES) {
			seterr(err, errlen, "CLUSTER SLOTS: range %zu is not [start, end, master, replicas...]", i);
			return -1;
		}
		if (!int_in(e->element[0], 0, RC_SLOTS - 1) || !int_in(e->element[1], 0, RC_SLOTS - 1) ||
		    e->element[0]->integer > e->element[1]->integer) {
			seterr(err, errlen, "CLUSTER SLOTS: range %zu: start and end are not slots 0-%d with start <= end",
			       i, RC_SLOTS - 1);
			return -1;
		}
		lo = e->element[0]->integer;
		hi = e->element[1]->integer;
		for (j = 2; j < e->elements; j++) {
			const redisReply *nd = e->element[j];
			struct rc_addr a;
			int k;

			if (!nd || nd->type != REDIS_REPLY_ARRAY || nd->elements < 2 || !nd->element[0] ||
			    nd->element[0]->type != REDIS_REPLY_STRING) {
				seterr(err, errlen, "CLUSTER SLOTS: range %zu, node %zu is not [address, port, ...]", i, j - 2);
				return -1;
			}
			if (!int_in(nd->element[1], 1, 65535)) {
				seterr(err, errlen, "CLUSTER SLOTS: range %zu, node %zu: the port is not 1-65535", i, j - 2);
				return -1;
			}
			memset(&a, 0, sizeof(a));
			a.port = (int)nd->element[1]->integer;
			if (!nd->element[0]->len && self && strlen(self) < sizeof(a.host)) {
				memcpy(a.host, self, strlen(self) + 1); /* "": the node that answered */
			} else if (parse_host(nd->element[0]->str, nd->element[0]->len, 0, &a) &&
			    parse_host(nd->element[0]->str, nd->element[0]->len, 1, &a)) {
				seterr(err, errlen, "CLUSTER SLOTS: range %zu, node %zu: '%.*s' is not an IP address in its canonical form",
				       i, j - 2, (int)(nd->element[0]->len > 64 ? 64 : nd->element[0]->len), nd->element[0]->str);
				return -1;
			}
			k = map_node(m, &a);
			if (k < 0) {
				seterr(err, errlen, "CLUSTER SLOTS: more than %d nodes", RC_MAX_NODES);
				return -1;
			}
			if (j == 2) {
				owner = k;
				m->master[k] = 1;
			}
		}
		for (s = (int)lo; s <= (int)hi; s++) {
			if (m->owner[s] != RC_NONE) {
				seterr(err, errlen, "CLUSTER SLOTS: slot %d is in two ranges", s);
				return -1;
			}
			m->owner[s] = (uint16_t)owner;
			m->covered++;
		}
	}
	return 0;
}

/* ---- redirects --------------------------------------------------------------- */

int rc_parse_redirect(const char *s, size_t len, unsigned int *slot, struct rc_addr *to,
		      char *err, size_t errlen)
{
	const char *p, *sp, *end = s + len;
	int kind;
	unsigned int v = 0;

	if (len >= 6 && !memcmp(s, "MOVED ", 6)) {
		kind = RC_MOVED;
		p = s + 6;
	} else if (len >= 4 && !memcmp(s, "ASK ", 4)) {
		kind = RC_ASK;
		p = s + 4;
	} else {
		return 0;
	}
	sp = memchr(p, ' ', (size_t)(end - p));
	if (!sp || sp == p || sp - p > 5 || (sp - p > 1 && *p == '0')) {
		seterr(err, errlen, "redirect '%.*s': no slot number", (int)(len > 80 ? 80 : len), s);
		return -1;
	}
	for (; p < sp; p++) {
		if (*p < '0' || *p > '9') {
			seterr(err, errlen, "redirect '%.*s': no slot number", (int)(len > 80 ? 80 : len), s);
			return -1;
		}
		v = v * 10 + (unsigned int)(*p - '0');
	}
	if (v >= RC_SLOTS) {
		seterr(err, errlen, "redirect '%.*s': slot %u is not 0-%d", (int)(len > 80 ? 80 : len), s, v, RC_SLOTS - 1);
		return -1;
	}
	if (parse_hp(sp + 1, (size_t)(end - sp - 1), HP_BARE6 | HP_EMPTY, to, err, errlen)) {
		char why[160];

		snprintf(why, sizeof(why), "%s", err ? err : "");
		seterr(err, errlen, "redirect '%.*s': %s", (int)(len > 80 ? 80 : len), s, why);
		return -1;
	}
	*slot = v;
	return kind;
}

/* ---- nodes --------------------------------------------------------------------- */

static void node_set(struct rcluster *rc, struct rc_node *n, const struct rc_addr *a, int seed)
{
	xredis_close(&n->r);
	memset(n, 0, sizeof(*n));
	n->r.name = "cluster node";
	snprintf(n->r.host, sizeof(n->r.host), "%s", a->host);
	n->r.port = a->port;
	snprintf(n->r.user, sizeof(n->r.user), "%s", rc->user);
	snprintf(n->r.pass, sizeof(n->r.pass), "%s", rc->pass);
	n->r.backoff_ms = 100;
	n->a = *a;
	n->seed = seed;
}

static int find_node(const struct rcluster *rc, const struct rc_addr *a)
{
	int i;

	for (i = 0; i < rc->nnodes; i++)
		if (rc->node[i].a.port && addr_eq(&rc->node[i].a, a))
			return i;
	return -1;
}

/* A node outside a map (a redirect's target): it counts as in the map (the
 * owner table may name it) until the next map is installed. -1: no room. */
static int add_node(struct rcluster *rc, const struct rc_addr *a)
{
	int i = find_node(rc, a);

	if (i >= 0)
		return i;
	for (i = 0; i < rc->nnodes; i++)
		if (!rc->node[i].a.port)
			break;
	if (i == rc->nnodes) {
		if (rc->nnodes == (int)(sizeof(rc->node) / sizeof(rc->node[0])))
			return -1;
		rc->nnodes++;
	}
	node_set(rc, &rc->node[i], a, 0);
	rc->node[i].in_map = 1;
	return i;
}

static void install(struct rcluster *rc, const struct rc_map *m)
{
	int idx[RC_MAX_NODES], i, s;

	for (i = 0; i < rc->nnodes; i++)
		rc->node[i].in_map = 0;
	for (i = 0; i < m->nnodes; i++) {
		idx[i] = find_node(rc, &m->node[i]);
		if (idx[i] >= 0)
			rc->node[idx[i]].in_map = 1;
	}
	/* the nodes no longer named go (the seeds stay), then the new come */
	for (i = 0; i < rc->nnodes; i++)
		if (!rc->node[i].seed && !rc->node[i].in_map && rc->node[i].a.port) {
			xredis_close(&rc->node[i].r);
			memset(&rc->node[i], 0, sizeof(rc->node[i]));
		}
	for (i = 0; i < m->nnodes; i++)
		if (idx[i] < 0)
			idx[i] = add_node(rc, &m->node[i]); /* room: <= RC_MAX_NODES non-seeds */
	for (i = 0; i < rc->nnodes; i++)
		if (rc->node[i].a.port)
			rc->node[i].in_map = rc->node[i].master = 0;
	for (i = 0; i < m->nnodes; i++)
		if (idx[i] >= 0) {
			rc->node[idx[i]].in_map = 1;
			rc->node[idx[i]].master = m->master[i];
		}
	for (s = 0; s < RC_SLOTS; s++)
		rc->owner[s] = m->owner[s] == RC_NONE || idx[m->owner[s]] < 0 ? RC_NONE : (uint16_t)idx[m->owner[s]];
	rc->have_map = 1;
}

int rcluster_init(struct rcluster *rc, const char *seeds, const char *user, const char *pass)
{
	struct rc_addr a[RC_MAX_SEEDS];
	int n, i;

	memset(rc, 0, sizeof(*rc));
	memset(rc->owner, 0xff, sizeof(rc->owner));
	rc->max_busy_retries = RC_DEF_BUSY_RETRIES;
	rc->max_redirects = RC_DEF_REDIRECTS;
	rc->budget_ms = RC_DEF_BUDGET_MS;
	rc->resend_on_loss = 1;
	if ((user && strlen(user) >= sizeof(rc->user)) || (pass && strlen(pass) >= sizeof(rc->pass))) {
		seterr(rc->err, sizeof(rc->err), "the user name or password is too long");
		return -EINVAL;
	}
	snprintf(rc->user, sizeof(rc->user), "%s", user ? user : "");
	snprintf(rc->pass, sizeof(rc->pass), "%s", pass ? pass : "");
	n = rc_parse_seeds(seeds, a, rc->err, sizeof(rc->err));
	if (n < 0)
		return -EINVAL;
	for (i = 0; i < n; i++)
		node_set(rc, &rc->node[i], &a[i], 1);
	rc->nseeds = rc->nnodes = n;
	return 0;
}

int rcluster_slot_node(const struct rcluster *rc, unsigned int slot)
{
	if (!rc->have_map || slot >= RC_SLOTS || rc->owner[slot] == RC_NONE)
		return -1;
	return rc->owner[slot];
}

int rcluster_refresh(struct rcluster *rc)
{
	char addr[RC_HOSTLEN + 8], why[200];
	int pass, i, tried = 0;

	if (!rc->scratch) {
		rc->scratch = malloc(sizeof(*rc->scratch));
		if (!rc->scratch) {
			seterr(rc->err, sizeof(rc->err), "slot map: out of memory");
			return -ENOMEM;
		}
	}
	/* the connected nodes first, then the others (in backoff: skipped) */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < rc->nnodes; i++) {
			struct rc_node *n = &rc->node[i];
			redisContext *c;
			redisReply *rep;

			if (!n->a.port || (pass == 0) != (n->r.c != NULL))
				continue;
			c = xredis_get(&n->r);
			if (!c)
				continue;
			tried++;
			rep = redisCommand(c, "CLUSTER SLOTS");
			if (!rep) {
				seterr(rc->err, sizeof(rc->err), "node %s: CLUSTER SLOTS: %s", rc_addr_str(addr, &n->a),
				       c->errstr);
				xredis_fail(&n->r, c->errstr);
				continue;
			}
			if (rep->type == REDIS_REPLY_ERROR) {
				seterr(rc->err, sizeof(rc->err), "node %s: CLUSTER SLOTS refused: %.120s",
				       rc_addr_str(addr, &n->a), rep->str);
			} else if (rc_parse_slots(rep, n->a.host, rc->scratch, why, sizeof(why))) {
				rc->st.maps_refused++;
				seterr(rc->err, sizeof(rc->err), "node %s: slot map refused, the old one kept: %s",
				       rc_addr_str(addr, &n->a), why);
				memcpy(rc->map_err, rc->err, sizeof(rc->map_err));
			} else {
				freeReplyObject(rep);
				install(rc, rc->scratch);
				rc->st.refreshes++;
				return 0;
			}
			freeReplyObject(rep);
		}
	if (!tried)
		seterr(rc->err, sizeof(rc->err), "no cluster node reachable (%d known)", rc->nnodes);
	rc->st.refresh_failures++;
	return -EIO;
}

/* ---- batches ------------------------------------------------------------------- */

int rcluster_queue(struct rcluster *rc, const char *key, size_t klen, int argc,
		   const char *const *v, const size_t *l)
{
	static char *tmp;
	static size_t tmpcap;
	struct rc_cmd *c;
	size_t n = xredis_format_argv(&tmp, &tmpcap, argc, v, l);

	if (!n)
		return -ENOMEM;
	if (rc->ncmd == rc->capcmd) {
		int cap = rc->capcmd ? 2 * rc->capcmd : 256;
		struct rc_cmd *nc = realloc(rc->cmd, (size_t)cap * sizeof(*nc));

		if (!nc)
			return -ENOMEM;
		rc->cmd = nc;
		rc->capcmd = cap;
	}
	if (rc->buflen + n > rc->bufcap) {
		size_t cap = rc->bufcap ? rc->bufcap : 65536;
		char *nb;

		while (cap < rc->buflen + n)
			cap *= 2;
		nb = realloc(rc->buf, cap);
		if (!nb)
			return -ENOMEM;
		rc->buf = nb;
		rc->bufcap = cap;
	}
	memcpy(rc->buf + rc->buflen, tmp, n);
	c = &rc->cmd[rc->ncmd];
	memset(c, 0, sizeof(*c));
	c->off = rc->buflen;
	c->len = n;
	c->slot = rc_keyslot(key, klen);
	c->to = RC_NONE;
	rc->buflen += n;
	return rc->ncmd++;
}

int rcluster_queue_argv(struct rcluster *rc, const char *key, size_t klen, const struct xredis_argv *a)
{
	if (a->oom)
		return -ENOMEM;
	return rcluster_queue(rc, key, klen, a->n, a->v, a->l);
}

static void cmd_fail(struct rcluster *rc, struct rc_cmd *c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cmd_fail(struct rcluster *rc, struct rc_cmd *c, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	free(c->err);
	c->err = strdup(why);
	c->state = 2;
	rc->st.cmds_failed++;
	snprintf(rc->err, sizeof(rc->err), "%s", why);
}

static int busy_kind(const redisReply *r)
{
	if (r->type != REDIS_REPLY_ERROR || !r->str)
		return 0;
	if (!strncmp(r->str, "TRYAGAIN", 8))
		return 1;
	if (!strncmp(r->str, "CLUSTERDOWN", 11))
		return 2;
	if (!strncmp(r->str, "LOADING", 7))
		return 3;
	return 0;
}

static const char asking[] = "*1\r\n$6\r\nASKING\r\n";

/* one round: every pending command to its node, the answers sorted out.
 * *refresh: the map should be read again; *busy: wait before the next. */
static void round_once(struct rcluster *rc, int *refresh, int *busy)
{
	char addr[RC_HOSTLEN + 8];
	int i, n;

	for (i = 0; i < rc->ncmd; i++) {
		struct rc_cmd *c = &rc->cmd[i];
		int t;

		c->to = RC_NONE;
		if (c->state)
			continue;
		if (c->asking) {
			t = add_node(rc, &c->ask_to);
			if (t < 0) {
				cmd_fail(rc, c, "ASK to %s: too many nodes", rc_addr_str(addr, &c->ask_to));
				continue;
			}
		} else if (rc->owner[c->slot] == RC_NONE) {
			*refresh = 1;
			if (++c->busy_retries > rc->max_busy_retries) {
				cmd_fail(rc, c, "slot %u: no node serves it", c->slot);
				continue;
			}
			*busy = 1;
			continue;
		} else {
			t = rc->owner[c->slot];
		}
		c->to = (uint16_t)t;
	}
	for (n = 0; n < rc->nnodes; n++) {
		struct rc_node *nd = &rc->node[n];
		redisContext *ctx = NULL;
		int any = 0, lost = 0;
		const char *why = NULL;

		for (i = 0; i < rc->ncmd && !any; i++)
			any = rc->cmd[i].to == n;
		if (!any)
			continue;
		ctx = xredis_get(&nd->r);
		if (!ctx) {
			lost = 1;
			why = "not connected (backing off)";
		}
		for (i = 0; i < rc->ncmd && !lost; i++) {
			struct rc_cmd *c = &rc->cmd[i];

			if (c->to != n)
				continue;
			if ((c->asking && redisAppendFormattedCommand(ctx, asking, sizeof(asking) - 1) != REDIS_OK) ||
			    redisAppendFormattedCommand(ctx, rc->buf + c->off, c->len) != REDIS_OK) {
				lost = 1;
				why = ctx->errstr;
			}
		}
		for (i = 0; i < rc->ncmd; i++) {
			struct rc_cmd *c = &rc->cmd[i];
			redisReply *rep = NULL;
			unsigned int slot;
			struct rc_addr to;
			char perr[200];
			int k, was_asking = c->asking;

			if (c->to != n)
				continue;
			c->asking = 0;
			if (!lost && was_asking) {
				if (redisGetReply(ctx, (void **)&rep) != REDIS_OK || !rep) {
					lost = 1;
					why = ctx->errstr;
				} else {
					freeReplyObject(rep);
					rep = NULL;
				}
			}
			if (!lost && (redisGetReply(ctx, (void **)&rep) != REDIS_OK || !rep)) {
				lost = 1;
				why = ctx->errstr;
				rep = NULL;
			}
			if (lost) {
				if (++c->conn_retries > 1 || !rc->resend_on_loss)
					cmd_fail(rc, c, "node %s: connection lost: %s", rc_addr_str(addr, &nd->a),
						 why && *why ? why : "no reply");
				*refresh = 1;
				continue;
			}
			if (rep->type == REDIS_REPLY_ERROR && rep->str) {
				k = rc_parse_redirect(rep->str, rep->len, &slot, &to, perr, sizeof(perr));
				if (k < 0) { /* the map may know the slot's owner better */
					cmd_fail(rc, c, "node %s: %s", rc_addr_str(addr, &nd->a), perr);
					*refresh = 1;
					freeReplyObject(rep);
					continue;
				}
				if (k > 0) {
					if (k == RC_MOVED)
						rc->st.moved++;
					else
						rc->st.ask++;
					if (slot != c->slot) {
						cmd_fail(rc, c, "node %s: a redirect for slot %u, the key is in slot %u",
							 rc_addr_str(addr, &nd->a), slot, c->slot);
					} else if (++c->redirects > rc->max_redirects) {
						cmd_fail(rc, c, "slot %u: more than %u redirects (last: %.100s)", slot,
							 rc->max_redirects, rep->str);
					} else {
						if (!to.host[0]) /* ":PORT": the host of the node that answered */
							snprintf(to.host, sizeof(to.host), "%s", nd->a.host);
						if (k == RC_ASK) {
							c->asking = 1;
							c->ask_to = to;
						} else {
							int t = add_node(rc, &to);

							if (t >= 0) /* until the map says otherwise */
								rc->owner[slot] = (uint16_t)t;
							*refresh = 1;
						}
					}
					freeReplyObject(rep);
					continue;
				}
				k = busy_kind(rep);
				if (k) {
					if (k == 1)
						rc->st.tryagain++;
					else if (k == 2)
						rc->st.clusterdown++;
					else
						rc->st.loading++;
					if (++c->busy_retries > rc->max_busy_retries)
						cmd_fail(rc, c, "node %s: %.100s (after %u retries)", rc_addr_str(addr, &nd->a),
							 rep->str, rc->max_busy_retries);
					else
						*busy = 1;
					if (k == 2)
						*refresh = 1;
					freeReplyObject(rep);
					continue;
				}
			}
			c->rep = rep;
			c->state = 1;
		}
		if (lost) {
			rc->st.conn_lost++;
			if (nd->r.c)
				xredis_fail(&nd->r, why);
		}
	}
}

int rcluster_exec(struct rcluster *rc)
{
	uint64_t deadline = xredis_mono_ns() + (uint64_t)rc->budget_ms * 1000000ULL;
	unsigned int wait_ms = 10;
	int round, i, pending, failed = 0;

	for (round = 0;; round++) {
		int refresh = 0, busy = 0;

		for (pending = 0, i = 0; i < rc->ncmd; i++)
			pending += !rc->cmd[i].state;
		if (!pending)
			break;
		if (round)
			rc->st.retries++;
		if (!rc->have_map && rcluster_refresh(rc)) {
			char why[256];

			snprintf(why, sizeof(why), "%s", rc->err);
			for (i = 0; i < rc->ncmd; i++)
				if (!rc->cmd[i].state)
					cmd_fail(rc, &rc->cmd[i], "no slot map: %s", why);
			break;
		}
		if (round && xredis_mono_ns() >= deadline) {
			for (i = 0; i < rc->ncmd; i++)
				if (!rc->cmd[i].state)
					cmd_fail(rc, &rc->cmd[i], "no answer within %u ms", rc->budget_ms);
			break;
		}
		round_once(rc, &refresh, &busy);
		if (refresh)
			rcluster_refresh(rc); /* a failure keeps the old map */
		if (busy) {
			uint64_t now = xredis_mono_ns(), ns = (uint64_t)wait_ms * 1000000ULL;
			struct timespec ts;

			if (now + ns > deadline)
				ns = deadline > now ? deadline - now : 0;
			ts.tv_sec = (time_t)(ns / 1000000000ULL);
			ts.tv_nsec = (long)(ns % 1000000000ULL);
			nanosleep(&ts, NULL);
			wait_ms = wait_ms >= 250 ? 500 : wait_ms * 2;
		}
	}
	for (i = 0; i < rc->ncmd; i++)
		failed += rc->cmd[i].state == 2;
	return failed;
}

redisReply *rcluster_reply(const struct rcluster *rc, int i)
{
	return i >= 0 && i < rc->ncmd && rc->cmd[i].state == 1 ? rc->cmd[i].rep : NULL;
}

redisReply *rcluster_take(struct rcluster *rc, int i)
{
	redisReply *r = rcluster_reply(rc, i);

	if (r)
		rc->cmd[i].rep = NULL;
	return r;
}

const char *rcluster_cmd_err(const struct rcluster *rc, int i)
{
	if (i < 0 || i >= rc->ncmd)
		return "no such command";
	return rc->cmd[i].state == 2 ? rc->cmd[i].err : rc->cmd[i].state ? NULL : "not executed";
}

void rcluster_reset(struct rcluster *rc)
{
	int i;

	for (i = 0; i < rc->ncmd; i++) {
		if (rc->cmd[i].rep)
			freeReplyObject(rc->cmd[i].rep);
		free(rc->cmd[i].err);
		rc->cmd[i].rep = NULL;
		rc->cmd[i].err = NULL;
	}
	rc->ncmd = 0;
	rc->buflen = 0;
}

int rcluster_script_load(struct rcluster *rc, const char *src, char sha[41])
{
	char addr[RC_HOSTLEN + 8], one[41];
	int i, n = 0;

	if (!rc->have_map && rcluster_refresh(rc))
		return -EIO;
	for (i = 0; i < rc->nnodes; i++) {
		struct rc_node *nd = &rc->node[i];
		redisContext *c;

		if (!nd->master || !nd->in_map)
			continue;
		c = xredis_get(&nd->r);
		if (!c) {
			seterr(rc->err, sizeof(rc->err), "node %s: SCRIPT LOAD: not connected", rc_addr_str(addr, &nd->a));
			return -EIO;
		}
		if (xredis_script_load(c, src, one)) {
			seterr(rc->err, sizeof(rc->err), "node %s: SCRIPT LOAD failed", rc_addr_str(addr, &nd->a));
			if (c->err)
				xredis_fail(&nd->r, c->errstr);
			return -EIO;
		}
		if (n && strcmp(one, sha)) { /* the SHA1 of one source: a node lies */
			seterr(rc->err, sizeof(rc->err), "node %s: SCRIPT LOAD answered another SHA1", rc_addr_str(addr, &nd->a));
			return -EIO;
		}
		memcpy(sha, one, 41);
		n++;
	}
	return n;
}

void rcluster_free(struct rcluster *rc)
{
	int i;

	rcluster_reset(rc);
	for (i = 0; i < rc->nnodes; i++)
		xredis_close(&rc->node[i].r);
	free(rc->cmd);
	free(rc->buf);
	free(rc->scratch);
	rc->cmd = NULL;
	rc->buf = NULL;
	rc->scratch = NULL;
	rc->ncmd = rc->capcmd = 0;
}
