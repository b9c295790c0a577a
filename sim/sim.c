// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpro-sim's engine (docs/simulation.md). One thread, one calendar queue of
 * event ids (a bucket per tick, a ring of SIM_NB buckets), flat arrays.
 *
 * What runs X-Pro's own code:
 *   - every packet: xpro_decide() (bpf/xpro_decide.h) on the proxy's record
 *     and D's aggregate, exactly as the XDP program calls it;
 *   - syncmaps' period: the recompute through xpro_agg_account() (xpro/agg.c),
 *     the queue line xpro_qline_from_record() and its application to L_DB
 *     xpro_lstate_apply() (xpro/formats.c);
 *   - syncdb's merge: xpro_lstate_lrec(), xpro_merge() (xpro/merge.c),
 *     xpro_lstate_merged(), and the write-back xpro_lstate_to_apply() /
 *     xpro_record_from_apply().
 * What is restated here, because it is BPF code run by the kernel's test run
 * (no userspace object exists): the syscall programs xpro_sync_take,
 * xpro_sync_apply and xpro_fold_agg of bpf/xpro.bpf.c (a few lines each,
 * marked below), and the LRU of the record map (exact LRU here; the
 * kernel's is approximate per CPU).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "xpro.h"
#include "xpro_decide.h"
#include "merge.h"
#include "agg.h"
#include "formats.h"
#include "sim.h"

#define SIM_NB 4096          /* calendar buckets (ring) */
#define NIL UINT32_MAX
#define T0 (1800000000ULL * XPRO_NSEC) /* a TAI-like epoch: µs fit 2^53 */

/* ---- deterministic random numbers (xorshift64*, never a zero state) ---------- */
static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x853C49E6748FEA9BULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* [0, 1) with 53 bits */
static double rnd01(uint64_t *s)
{
	return (double)(rnd(s) >> 11) * 0x1.0p-53;
}

static inline uint64_t hkey(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return k;
}

static void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);

	if (!p) {
		fprintf(stderr, "xpro-sim: out of memory (%zu x %zu bytes)\n", n, sz);
		exit(1);
	}
	return p;
}

/* ---- a proxy: record map (BPF map + its L_DB entry), aggregates ----------- */
struct slot {
	uint64_t key;            /* client << 32 | dest */
	struct xpro_record r;    /* the BPF map's value */
	struct xpro_lstate l;    /* L_DB's value (µs) */
	uint32_t prev, next;     /* LRU, most recent at head */
	uint8_t bpf, ldb, dirty, pend;
};

struct applyent {
	uint32_t slot;
	uint64_t key;
};

struct vec32 {
	uint32_t *v;
	size_t n, cap;
};

struct vecap {
	struct applyent *v;
	size_t n, cap;
};

static void v32_push(struct vec32 *a, uint32_t x)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 1024;
		a->v = realloc(a->v, a->cap * sizeof(*a->v));
		if (!a->v)
			exit(1);
	}
	a->v[a->n++] = x;
}

static void vap_push(struct vecap *a, uint32_t slot, uint64_t key)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 1024;
		a->v = realloc(a->v, a->cap * sizeof(*a->v));
		if (!a->v)
			exit(1);
	}
	a->v[a->n++] = (struct applyent){ slot, key };
}

struct proxy {
	struct slot *s;
	uint32_t *idx, mask;     /* open addressing: slot index or NIL */
	uint32_t cap, alloc, n, head, tail; /* cap: the map's size; alloc: slots allocated */
	struct xpro_agg agg;     /* the victim's aggregate (one destination) */
	int agg_found;
	struct vec32 dirty;      /* slots counted since the last take */
	struct vecap pend;       /* L_DB records to merge */
	struct vecap apply;      /* merged, to write back */
	struct vecap fq;         /* --feed known: announced keys to merge */
	uint64_t delay_ns;
	uint32_t master;
	size_t cursor;           /* in its master's change log */
	int dead, feed_pending;
};

static uint32_t map_find(const struct proxy *p, uint64_t key)
{
	uint32_t i = (uint32_t)hkey(key) & p->mask, s;

	while ((s = p->idx[i]) != NIL) {
		if (p->s[s].key == key)
			return s;
		i = (i + 1) & p->mask;
	}
	return NIL;
}

static void lru_unlink(struct proxy *p, uint32_t s)
{
	struct slot *x = &p->s[s];

	if (x->prev != NIL)
		p->s[x->prev].next = x->next;
	else
		p->head = x->next;
	if (x->next != NIL)
		p->s[x->next].prev = x->prev;
	else
		p->tail = x->prev;
}

static void lru_front(struct proxy *p, uint32_t s)
{
	struct slot *x = &p->s[s];

	x->prev = NIL;
	x->next = p->head;
	if (p->head != NIL)
		p->s[p->head].prev = s;
	p->head = s;
	if (p->tail == NIL)
		p->tail = s;
}

static inline void lru_touch(struct proxy *p, uint32_t s)
{
	if (p->head == s)
		return;
	lru_unlink(p, s);
	lru_front(p, s);
}

/* Remove key's index entry (backward-shift deletion). */
static void idx_del(struct proxy *p, uint64_t key)
{
	uint32_t i = (uint32_t)hkey(key) & p->mask, j, k;

	while (p->idx[i] != NIL && p->s[p->idx[i]].key != key)
		i = (i + 1) & p->mask;
	if (p->idx[i] == NIL)
		return;
	p->idx[i] = NIL;
	j = i;
	for (;;) {
		j = (j + 1) & p->mask;
		if (p->idx[j] == NIL)
			return;
		k = (uint32_t)hkey(p->s[p->idx[j]].key) & p->mask;
		/* may the entry at j move to the hole at i? */
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			p->idx[i] = p->idx[j];
			p->idx[j] = NIL;
			i = j;
		}
	}
}

/* The index for `alloc` slots: twice as many entries, a power of 2. */
static void idx_build(struct proxy *p)
{
	uint64_t isz = 16;

	while (isz < 2ULL * p->alloc)
		isz <<= 1;
	free(p->idx);
	p->idx = malloc(isz * sizeof(*p->idx));
	if (!p->idx) {
		fprintf(stderr, "xpro-sim: out of memory (record index)\n");
		exit(1);
	}
	memset(p->idx, 0xff, isz * sizeof(*p->idx));
	p->mask = (uint32_t)(isz - 1);
	for (uint32_t s = 0; s < p->n; s++) {
		uint32_t i = (uint32_t)hkey(p->s[s].key) & p->mask;

		while (p->idx[i] != NIL)
			i = (i + 1) & p->mask;
		p->idx[i] = s;
	}
}

/* Slots are allocated as the map fills (a map of 2^20 records costs only
 * what it holds), up to its size. */
static void map_grow(struct proxy *p)
{
	uint32_t na = p->alloc ? (p->alloc > p->cap / 2 ? p->cap : 2 * p->alloc) : (p->cap < 1024 ? p->cap : 1024);

	p->s = realloc(p->s, (size_t)na * sizeof(*p->s));
	if (!p->s) {
		fprintf(stderr, "xpro-sim: out of memory (%u records)\n", na);
		exit(1);
	}
	p->alloc = na;
	idx_build(p);
}

/* A new slot for key (the least recently used one when the map is full). */
static uint32_t map_insert(struct proxy *p, uint64_t key, uint64_t *evictions)
{
	uint32_t s, i;

	if (p->n == p->alloc && p->alloc < p->cap)
		map_grow(p);
	if (p->n < p->cap) {
		s = p->n++;
	} else {
		s = p->tail;
		lru_unlink(p, s);
		idx_del(p, p->s[s].key);
		(*evictions)++;
	}
	memset(&p->s[s], 0, sizeof(p->s[s]));
	p->s[s].key = key;
	i = (uint32_t)hkey(key) & p->mask;
	while (p->idx[i] != NIL)
		i = (i + 1) & p->mask;
	p->idx[i] = s;
	lru_front(p, s);
	return s;
}

/* ---- the master (M_DB) and its change feed -------------------------------- */
struct mslot {
	uint64_t key;
	struct xpro_mrec m;
	uint64_t wtime;
	uint32_t holders;        /* --feed known: list of proxies that merged it */
};

struct master {
	struct mslot *s;
	uint32_t *idx;
	size_t n, cap, mask;
	uint64_t *log;           /* changed keys, in order */
	uint32_t *log_origin;
	size_t log_n, log_cap, log_base; /* log_base: entries dropped in front */
	uint32_t *hold_px, *hold_next;   /* --feed known: the holder lists' cells */
	size_t hold_n, hold_cap;
};

static size_t m_find(const struct master *m, uint64_t key)
{
	size_t i;

	if (!m->cap)
		return SIZE_MAX;
	for (i = hkey(key) & m->mask; m->idx[i] != NIL; i = (i + 1) & m->mask)
		if (m->s[m->idx[i]].key == key)
			return m->idx[i];
	return SIZE_MAX;
}

static size_t m_insert(struct master *m, uint64_t key)
{
	size_t i;

	if (2 * (m->n + 1) > m->mask + 1 || !m->cap) {
		size_t nc = m->cap ? 2 * m->cap : 1024;

		m->s = realloc(m->s, nc * sizeof(*m->s));
		free(m->idx);
		m->idx = malloc(2 * nc * sizeof(*m->idx));
		if (!m->s || !m->idx)
			exit(1);
		m->cap = nc;
		m->mask = 2 * nc - 1;
		memset(m->idx, 0xff, 2 * nc * sizeof(*m->idx));
		for (size_t k = 0; k < m->n; k++) {
			for (i = hkey(m->s[k].key) & m->mask; m->idx[i] != NIL; i = (i + 1) & m->mask)
				;
			m->idx[i] = (uint32_t)k;
		}
	}
	for (i = hkey(key) & m->mask; m->idx[i] != NIL; i = (i + 1) & m->mask)
		;
	m->idx[i] = (uint32_t)m->n;
	m->s[m->n] = (struct mslot){ .key = key, .holders = NIL };
	return m->n++;
}

static void m_log(struct master *m, uint64_t key, uint32_t origin)
{
	if (m->log_n == m->log_cap) {
		m->log_cap = m->log_cap ? 2 * m->log_cap : 4096;
		m->log = realloc(m->log, m->log_cap * sizeof(*m->log));
		m->log_origin = realloc(m->log_origin, m->log_cap * sizeof(*m->log_origin));
		if (!m->log || !m->log_origin)
			exit(1);
	}
	m->log[m->log_n] = key;
	m->log_origin[m->log_n++] = origin;
}

/* --feed known: proxy pi holds key mi (once in its list). */
static void m_hold(struct master *m, size_t mi, uint32_t pi)
{
	for (uint32_t h = m->s[mi].holders; h != NIL; h = m->hold_next[h])
		if (m->hold_px[h] == pi)
			return;
	if (m->hold_n == m->hold_cap) {
		m->hold_cap = m->hold_cap ? 2 * m->hold_cap : 4096;
		m->hold_px = realloc(m->hold_px, m->hold_cap * sizeof(*m->hold_px));
		m->hold_next = realloc(m->hold_next, m->hold_cap * sizeof(*m->hold_next));
		if (!m->hold_px || !m->hold_next)
			exit(1);
	}
	m->hold_px[m->hold_n] = pi;
	m->hold_next[m->hold_n] = m->s[mi].holders;
	m->s[mi].holders = (uint32_t)m->hold_n++;
}

/* ---- sources and the calendar --------------------------------------------- */
struct source {
	uint64_t next;      /* next packet (ns) */
	uint64_t k;         /* packets sent in this phase (hop mode) */
	uint64_t rng;
	uint32_t client;
	uint32_t cached;    /* slot of (client, victim) on proxy `cproxy` */
	uint16_t cproxy;
	uint16_t proxy;     /* devices: current proxy */
	uint8_t group;      /* 0: device, 1 + g: bot group g */
	uint8_t phase;
	uint8_t consec;     /* devices: consecutive losses on this proxy */
	uint32_t index;     /* bot index in its group */
};

enum { ID_TAKE, ID_MERGE, ID_APPLY, ID_FEED, NSTAGES };

struct sim {
	const struct sim_conf *c;
	struct xpro_params par;
	struct xpro_merge_params mp;
	uint64_t tf2, window_ns, idle_ns, end_ns, ttl_ns, tick;
	struct proxy *px;
	struct master *ms;
	uint32_t nms;
	struct source *src;
	uint32_t nsrc, nids;
	uint64_t *at;        /* event time per id */
	uint32_t *nxt;       /* bucket list link per id */
	uint32_t bucket[SIM_NB];
	int master_down;
	/* accounting per sample */
	uint32_t nsamp;
	uint64_t *a_sent, *a_recv, *l_sent, *l_recv;
	struct sim_result *res;
};

static void push(struct sim *S, uint32_t id, uint64_t t)
{
	uint32_t b = (uint32_t)(((t - T0) / S->tick) % SIM_NB);

	S->at[id] = t;
	S->nxt[id] = S->bucket[b];
	S->bucket[b] = id;
}

/* accounting bins are 1 ms */
static inline uint32_t sample_of(const struct sim *S, uint64_t t)
{
	uint64_t k = (t - T0) / 1000000ULL;

	return k < S->nsamp ? (uint32_t)k : S->nsamp - 1;
}

/* ---- the packet path -------------------------------------------------------- */
static void packet(struct sim *S, struct source *so, uint32_t pi, uint64_t now)
{
	struct proxy *p = &S->px[pi];
	uint64_t key = (uint64_t)so->client << 32; /* dest: the victim, 0 */
	uint32_t s = NIL, reason, flags, v, smp = sample_of(S, now);
	int found;
	struct slot *x;

	if (so->group) {
		S->a_sent[smp]++;
		S->res->attack_sent++;
	} else {
		S->l_sent[smp]++;
		S->res->legit_sent++;
	}
	S->res->packets++;
	if (p->dead) {
		S->res->dead_frames++;
		if (so->group)
			S->res->attack_dropped++;
		else
			S->res->legit_dropped++;
		if (!so->group && ++so->consec >= S->c->failover_after && S->c->proxies > 1) {
			so->proxy = (uint16_t)((so->proxy + 1) % S->c->proxies);
			so->consec = 0;
		}
		return;
	}
	if (so->cproxy == pi && so->cached != NIL && so->cached < p->n && p->s[so->cached].key == key)
		s = so->cached;
	else
		s = map_find(p, key);
	if (s == NIL)
		s = map_insert(p, key, &S->res->evictions);
	else
		lru_touch(p, s);
	so->cached = s;
	so->cproxy = (uint16_t)pi;
	x = &p->s[s];
	found = x->bpf;
	x->bpf = 1;
	v = xpro_decide(&x->r, found, &p->agg, p->agg_found, &S->par, S->tf2, now, &reason, &flags);
	p->agg_found = 1;
	if (!x->dirty) {
		x->dirty = 1;
		v32_push(&p->dirty, s);
	}
	if (flags & XPRO_F_WARN)
		S->res->warnings++;
	if (!so->group)
		so->consec = 0;
	if (v == XPRO_DROP) {
		if (reason == XPRO_R_TF1)
			S->res->drop_tf1++;
		else if (reason == XPRO_R_TF2)
			S->res->drop_tf2++;
		else
			S->res->drop_tf2_fair++;
		if (so->group)
			S->res->attack_dropped++;
		else
			S->res->legit_dropped++;
		return;
	}
	if (so->group)
		S->a_recv[smp]++;
	else
		S->l_recv[smp]++;
}

static uint32_t bot_proxy(const struct sim *S, const struct source *so)
{
	const struct sim_group *g = &S->c->g[so->group - 1];
	uint32_t P = S->c->proxies;

	if (P <= 1 || g->pmode == PMODE_FIXED)
		return 0;
	if (g->pmode == PMODE_SPREAD)
		return so->index % P;
	return (uint32_t)((so->index + so->k / g->hop) % P); /* traffic/bot/bot.c bot_proxy_of() */
}

static uint64_t ns_of(double s)
{
	return T0 + (uint64_t)(s * 1e9 + 0.5);
}

/* A bot's packet k of its phase: xpro-bot paces the group as one stream of
 * rate x bots packets/s, bot after bot (packet idx goes to bot idx % bots). */
static int bot_next(const struct sim *S, struct source *so)
{
	const struct sim_group *g = &S->c->g[so->group - 1];

	while (so->phase < g->nphases) {
		const struct sim_phase *ph = &g->ph[so->phase];
		double total = ph->rate * g->bots, t;

		if (total > 0) {
			/* time "on" since the phase began (pulse: xpro-bot paces the on-time) */
			t = ((double)so->k * g->bots + so->index) / total;
			if (g->pulse_on > 0 && g->pulse_off > 0) {
				double n = floor(t / g->pulse_on);

				t = n * (g->pulse_on + g->pulse_off) + (t - n * g->pulse_on);
			}
			t += ph->start;
			if (t < ph->end && t < S->c->duration) {
				so->next = ns_of(t);
				return 1;
			}
		}
		so->phase++;
		so->k = 0;
	}
	return 0;
}

static uint64_t dev_gap(const struct sim *S, struct source *so)
{
	double f = 1.0 + S->c->dev_jitter * (2.0 * rnd01(&so->rng) - 1.0);

	return (uint64_t)(S->c->dev_period_ms * f * 1e6);
}

/* A source's packets up to the end of the current tick. */
static void run_source(struct sim *S, uint32_t id, uint64_t tick_end)
{
	struct source *so = &S->src[id];
	double stop = S->c->dev_stop < 0 ? S->c->duration : S->c->dev_stop;
	uint64_t dev_end = ns_of(stop < S->c->duration ? stop : S->c->duration);

	if (so->group) {
		while (so->next < tick_end) {
			packet(S, so, bot_proxy(S, so), so->next);
			so->k++;
			if (!bot_next(S, so))
				return;
		}
	} else {
		while (so->next < tick_end) {
			if (so->next >= dev_end)
				return;
			packet(S, so, so->proxy, so->next);
			so->next += dev_gap(S, so);
		}
		if (so->next >= dev_end)
			return;
	}
	push(S, id, so->next);
}

/* ---- syncmaps: recompute and take ------------------------------------------ */

/* The recompute (xpro/agg.c xpro_recompute_finish) over the map, then the
 * write-back that bpf/xpro.bpf.c's xpro_fold_agg does in the kernel. */
static void recompute(struct sim *S, struct proxy *p, uint64_t now)
{
	struct xpro_agg_acc acc = { 0 };
	struct xpro_agg *a = &p->agg;
	uint64_t dc_seen = a->dc, ts1, ts2, c;

	if (!p->agg_found)
		return;
	for (uint32_t s = 0; s < p->n; s++) {
		const struct slot *x = &p->s[s];

		if (!x->bpf || (int64_t)(now - x->r.ts2_l) > (int64_t)S->par.tt1_ns)
			continue;
		xpro_agg_account(&acc, &x->r, now, S->window_ns);
	}
	ts2 = acc.ts2;
	ts1 = acc.win ? acc.ts1 : now - S->window_ns;
	c = acc.win ? acc.c : 0;
	if (!acc.nact) {
		ts1 = a->ts1;
		ts2 = a->ts2;
		c = 0;
	}
	/* xpro_fold_agg */
	a->ts1 = ts1;
	if (xpro_sdiff(ts2, a->ts2) > 0)
		a->ts2 = ts2;
	a->c = c;
	a->nact = acc.nact;
	a->dc -= dc_seen;
	S->res->recomputes++;
}

/* syncmaps' push: queue line, the take program, syncdb's application of
 * the line to L_DB. */
static void take(struct sim *S, uint32_t pi)
{
	struct proxy *p = &S->px[pi];

	for (size_t i = 0; i < p->dirty.n; i++) {
		uint32_t s = p->dirty.v[i];
		struct slot *x = &p->s[s];
		/* the simulator's addresses are IPv4 (client << 32 | dest): v4-mapped in the shared types */
		struct xpro_key k = { .client = xpro_addr4((uint32_t)(x->key >> 32)), .dest = xpro_addr4((uint32_t)x->key) };
		struct xpro_qline q;
		int found = x->ldb;

		if (!x->dirty)
			continue;
		x->dirty = 0;
		if (!x->bpf || (!x->r.dc && !x->r.mark))
			continue;
		q = xpro_qline_from_record(&k, &x->r);
		/* xpro_sync_take */
		if (x->r.mark) {
			x->r.mark = 0;
			x->r.c_m = x->r.dc;
		} else {
			x->r.c_m += x->r.dc;
		}
		x->r.dc = 0;
		xpro_lstate_apply(&x->l, &found, &q);
		x->ldb = 1;
		if (!x->pend) {
			x->pend = 1;
			vap_push(&p->pend, s, x->key);
		}
	}
	p->dirty.n = 0;
}

/* ---- syncdb: the merge on the master ---------------------------------------- */

static int mrec_eq(const struct xpro_mrec *a, const struct xpro_mrec *b)
{
	return a->ts1 == b->ts1 && a->ts2 == b->ts2 && a->c == b->c;
}

static void schedule_feeds(struct sim *S, uint32_t origin, uint64_t now)
{
	uint32_t mi = S->px[origin].master;

	for (uint32_t q = 0; q < S->c->proxies; q++) {
		struct proxy *p = &S->px[q];

		if (q == origin || p->dead || p->feed_pending || p->master != mi)
			continue;
		p->feed_pending = 1;
		push(S, S->nsrc + NSTAGES * q + ID_FEED, now + p->delay_ns);
	}
}

/* One record of L_DB merged with the master's (µs on both sides). Returns 1
 * when the master changed (written and announced). */
static int merge_one(struct sim *S, uint32_t pi, struct slot *x, uint64_t now_ns)
{
	struct master *M = &S->ms[S->px[pi].master];
	size_t mi = m_find(M, x->key);
	int mfound = mi != SIZE_MAX && (int64_t)(now_ns - M->s[mi].wtime) <= (int64_t)S->ttl_ns;
	struct xpro_mrec m = mfound ? M->s[mi].m : (struct xpro_mrec){ 0 }, m0 = m;
	struct xpro_lrec l = xpro_lstate_lrec(&x->l);
	int br, lfound = x->ldb, changed;

	br = xpro_merge(&l, lfound, &m, mfound, &S->mp);
	if (!br)
		return 0;
	x->l = xpro_lstate_merged(br, &l, &m);
	x->ldb = 1;
	S->res->merges++;
	if (br == XPRO_MERGE_PULL)
		S->res->pulls++;
	changed = !mfound || !mrec_eq(&m, &m0);
	if (mi == SIZE_MAX)
		mi = m_insert(M, x->key);
	if (S->c->feed_known)
		m_hold(M, mi, pi);
	if (!changed)
		return 0;
	M->s[mi].m = m;
	M->s[mi].wtime = now_ns;
	if (!S->c->feed_known) {
		m_log(M, x->key, pi);
		return 1;
	}
	/* --feed known: announced only to the proxies that hold the record */
	for (uint32_t h = M->s[mi].holders; h != NIL; h = M->hold_next[h]) {
		struct proxy *q = &S->px[M->hold_px[h]];

		if (M->hold_px[h] == pi || q->dead)
			continue;
		vap_push(&q->fq, NIL, x->key);
		if (!q->feed_pending) {
			q->feed_pending = 1;
			push(S, S->nsrc + NSTAGES * M->hold_px[h] + ID_FEED, now_ns + q->delay_ns);
		}
	}
	return 0; /* announced already */
}

static void merge(struct sim *S, uint32_t pi, uint64_t now)
{
	struct proxy *p = &S->px[pi];
	int any = 0;

	if (S->master_down || p->dead)
		return; /* the deltas stay in L_DB (l:dirty), merged next time */
	for (size_t i = 0; i < p->pend.n; i++) {
		struct applyent e = p->pend.v[i];
		struct slot *x = &p->s[e.slot];

		if (x->key != e.key || !x->pend) {
			S->res->lost_deltas++;
			continue;
		}
		x->pend = 0;
		any |= merge_one(S, pi, x, now);
		vap_push(&p->apply, e.slot, e.key);
	}
	p->pend.n = 0;
	if (any)
		schedule_feeds(S, pi, now);
}

/* syncmaps' write-back of one merged L_DB record: xpro_lstate_to_apply(),
 * then what bpf/xpro.bpf.c's xpro_sync_apply does, or a record created from
 * the master's (xpro_record_from_apply) when the map does not hold it. */
static void apply_one(struct sim *S, struct proxy *p, uint32_t s, uint64_t now)
{
	struct slot *x = &p->s[s];
	struct xpro_sync_apply a;
	struct xpro_record *rec = &x->r;

	struct xpro_addr cl = xpro_addr4((uint32_t)(x->key >> 32)), de = xpro_addr4((uint32_t)x->key);

	if (xpro_lstate_to_apply(&x->l, &cl, &de, S->par.tt1_ns, now, &a))
		return;
	lru_touch(p, s);
	if (!x->bpf) {
		x->r = xpro_record_from_apply(&a);
		x->bpf = 1;
		return;
	}
	if (rec->mark || xpro_sdiff(now, rec->ts2_l) > (int64_t)a.idle_ns)
		return;
	rec->ts1_l = a.ts1;
	if (xpro_sdiff(a.ts2, rec->ts2_l) > 0)
		rec->ts2_l = a.ts2;
	rec->c_l += a.base - rec->c_m;
	rec->c_m = a.base;
	rec->ts1_m = a.ts1_m;
	rec->ts2_m = a.ts2_m;
}

static void apply(struct sim *S, uint32_t pi, uint64_t now)
{
	struct proxy *p = &S->px[pi];

	for (size_t i = 0; i < p->apply.n; i++) {
		struct applyent e = p->apply.v[i];

		if (p->s[e.slot].key == e.key)
			apply_one(S, p, e.slot, now);
	}
	p->apply.n = 0;
}

/* The change feed: syncdb merges what the other proxies changed at once,
 * and syncmaps writes it back at once (docs/sync.md, "Event-driven"). */
static void feed(struct sim *S, uint32_t pi, uint64_t now)
{
	struct proxy *p = &S->px[pi];
	struct master *M = &S->ms[p->master];
	size_t end = M->log_base + M->log_n;
	int any = 0;

	p->feed_pending = 0;
	if (S->master_down || p->dead) {
		p->fq.n = 0;
		return;
	}
	for (size_t j = 0; j < p->fq.n; j++) { /* --feed known */
		uint32_t s = map_find(p, p->fq.v[j].key);

		S->res->feeds++;
		if (s == NIL)
			continue; /* evicted since: it no longer holds it */
		merge_one(S, pi, &p->s[s], now);
		apply_one(S, p, s, now);
	}
	p->fq.n = 0;
	for (size_t j = p->cursor; j < end; j++) {
		uint64_t key = M->log[j - M->log_base];
		uint32_t s;

		if (M->log_origin[j - M->log_base] == pi)
			continue;
		S->res->feeds++;
		s = map_find(p, key);
		if (s == NIL)
			s = map_insert(p, key, &S->res->evictions);
		any |= merge_one(S, pi, &p->s[s], now);
		apply_one(S, p, s, now);
	}
	p->cursor = end;
	if (any)
		schedule_feeds(S, pi, now);
}

/* Drop the log entries every live proxy has read. */
static void log_trim(struct sim *S, uint32_t mi)
{
	struct master *M = &S->ms[mi];
	size_t lo = M->log_base + M->log_n;

	for (uint32_t q = 0; q < S->c->proxies; q++)
		if (!S->px[q].dead && S->px[q].master == mi && S->px[q].cursor < lo)
			lo = S->px[q].cursor;
	for (uint32_t q = 0; q < S->c->proxies; q++)
		if (S->px[q].dead && S->px[q].master == mi && S->px[q].cursor < lo)
			S->px[q].cursor = lo; /* a dead proxy reads nothing more */
	if (lo - M->log_base < 65536 || 2 * (lo - M->log_base) < M->log_n)
		return;
	memmove(M->log, M->log + (lo - M->log_base), (M->log_base + M->log_n - lo) * sizeof(*M->log));
	memmove(M->log_origin, M->log_origin + (lo - M->log_base),
		(M->log_base + M->log_n - lo) * sizeof(*M->log_origin));
	M->log_n -= lo - M->log_base;
	M->log_base = lo;
}

static void stage(struct sim *S, uint32_t id, uint64_t now)
{
	uint32_t k = id - S->nsrc, pi = k / NSTAGES;
	struct proxy *p;

	if (pi >= S->c->proxies) { /* a global event */
		const struct sim_event *ev = &S->c->ev[id - S->nsrc - NSTAGES * S->c->proxies];

		if (ev->action == EV_KILL_PROXY)
			S->px[ev->proxy].dead = 1;
		else
			S->master_down = ev->action == EV_CUT_MASTER;
		return;
	}
	p = &S->px[pi];
	switch (k % NSTAGES) {
	case ID_TAKE:
		if (p->dead)
			return;
		recompute(S, p, now);
		take(S, pi);
		push(S, id + 1, now + p->delay_ns);
		if (now + S->c->period_ms * 1000000ULL < S->end_ns)
			push(S, id, now + S->c->period_ms * 1000000ULL);
		if (pi == 0)
			for (uint32_t m = 0; m < S->nms; m++)
				log_trim(S, m);
		break;
	case ID_MERGE:
		merge(S, pi, now);
		push(S, id + 1, now + p->delay_ns);
		break;
	case ID_APPLY:
		if (!p->dead)
			apply(S, pi, now);
		break;
	case ID_FEED:
		feed(S, pi, now);
		break;
	}
}

/* ---- measures as analysis/xpa.py derives them ------------------------------- */
/*
 * The testbed's per-second figures are counted in wall-clock seconds, whose
 * boundaries fall at a random phase of the run's start; phi_ms (drawn from
 * the seed) plays that part: relative time t is in "epoch" second
 * floor((t + phi) / 1000). The sampler's ticks are at psi + k * sample_ms:
 * the testbed's sampler starts with the timeline (psi = 0; its late ticks
 * drift by a few ms, which this leaves out: detect_ms within one sample).
 */
static void measures(struct sim *S, uint32_t phi, uint32_t psi)
{
	const struct sim_conf *c = S->c;
	struct sim_result *r = S->res;
	double a0 = 1e30, a1 = 0, smp = c->sample_ms;
	uint32_t n = S->nsamp, ns = (uint32_t)(n / smp) + 2, nw = 0;
	uint64_t *cs = xcalloc(ns + 1, sizeof(uint64_t)), *cr = xcalloc(ns + 1, sizeof(uint64_t));
	double *wr = xcalloc(ns + 1, sizeof(double));
	int *wt = xcalloc(ns + 1, sizeof(int));
	int det = -1;

	for (int g = 0; g < c->ngroups; g++)
		for (int k = 0; k < c->g[g].nphases; k++) {
			if (c->g[g].ph[k].start < a0)
				a0 = c->g[g].ph[k].start;
			if (c->g[g].ph[k].end > a1)
				a1 = c->g[g].ph[k].end;
		}
	if (a1 > c->duration)
		a1 = c->duration;
	r->detect_ms = -1;
	if (a0 >= a1)
		goto out;
	/* cumulative counters at each sample, t_ms = psi + k * sample_ms (the
	 * first also holds [0, psi)) */
	for (uint32_t k = 0; k < ns; k++) {
		cs[k + 1] = cs[k];
		cr[k + 1] = cr[k];
		for (uint32_t m = k ? (uint32_t)(psi + (k - 1) * smp) : 0; m < (uint32_t)(psi + k * smp) && m < n; m++) {
			cs[k + 1] += S->a_sent[m];
			cr[k + 1] += S->a_recv[m];
		}
	}
	/* detect(): 1 s windows sliding by sample (DETECT_MIN_SENT 20, ratio 0.9) */
	{
		double ts = a0 * 1000, te = a1 * 1000;
		uint32_t j = 0;

		for (uint32_t i = 0; i <= ns; i++) {
			double t = i ? psi + (i - 1) * smp : 0;
			uint64_t sent, recv;

			if (t < ts - 150)
				continue;
			while (j <= ns && (j ? psi + (j - 1) * smp : 0) < t + 1000)
				j++;
			if (j > ns || psi + (j - 1) * smp > te + 150)
				break;
			sent = cs[j] - cs[i];
			recv = cr[j] - cr[i];
			wt[nw] = (int)t;
			wr[nw++] = sent < 20 ? -1 : fmax(0.0, 1.0 - (double)recv / sent);
		}
		for (uint32_t k = 0; k < nw && det < 0; k++) {
			int ok = wr[k] >= 0;

			for (uint32_t m = k; ok && m < nw; m++)
				if (wr[m] >= 0 && wr[m] < 0.9)
					ok = 0;
			if (ok)
				det = (int)fmax(0, wt[k] - ts);
		}
	}
	r->detect_ms = det;
	/* after detection: the whole (epoch) seconds from ceil(detection) */
	if (det >= 0) {
		uint64_t from = (uint64_t)ceil((a0 * 1000 + det + phi) / 1000.0);

		for (uint32_t m = 0; m < n; m++)
			if ((m + phi) / 1000 >= from) {
				r->attack_sent_after += S->a_sent[m];
				r->attack_dropped_after += S->a_sent[m] - S->a_recv[m];
			}
	}
	/* victim load per whole (epoch) second: before the attack, and during it */
	{
		uint32_t nsec = (n + phi) / 1000 + 1;
		double base = 0, dur = 0, peak = 0;
		int nb = 0, nd = 0;

		for (uint32_t s = 0; s < nsec; s++) {
			double lo = (double)s * 1000 - phi, hi = lo + 1000; /* relative ms */
			uint64_t v = 0;

			if (lo < 0 || hi > n)
				continue;
			for (uint32_t m = (uint32_t)lo; m < (uint32_t)hi; m++)
				v += S->a_recv[m] + S->l_recv[m];
			if (hi <= a0 * 1000) {
				base += v;
				nb++;
			}
			if (lo >= a0 * 1000 && hi <= a1 * 1000) {
				dur += v;
				nd++;
				if (v > peak)
					peak = v;
			}
		}
		r->victim_pps_baseline = nb ? base / nb : -1;
		r->victim_pps_attack_mean = nd ? dur / nd : -1;
		r->victim_pps_attack_peak = peak;
	}
out:
	free(cs), free(cr), free(wr), free(wt);
}

/* ---- set-up and the loop ------------------------------------------------------ */
int sim_run(const struct sim_conf *c, struct sim_result *res)
{
	struct sim S = { .c = c, .res = res };
	uint64_t seed = c->seed * 0x2545F4914F6CDD1DULL + 1, tnow;
	uint32_t nbots = 0, id, bi;
	struct timespec w0, w1;
	size_t peak = 0;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &w0);
	memset(res, 0, sizeof(*res));
	S.par = (struct xpro_params){
		.tt1_ns = c->tt1_ms * 1000000ULL, .tt2_ns = c->tt2_ms * 1000000ULL,
		.tt3_ns = c->tt3_ms * 1000000ULL, .tt4_ns = c->tt4_ms * 1000000ULL,
		.tf1 = c->tf1, .tf2 = c->tf2, .warn_interval_ns = c->warn_ms * 1000000ULL,
		.r = c->r, .policy = (uint32_t)c->policy, .filter = 1,
	};
	S.tf2 = c->tf2;
	S.mp = (struct xpro_merge_params){ .tt1_ns = c->tt1_ms * 1000ULL /* µs: L_DB and M_DB */,
					   .tt4_ns = c->tt4_ms * 1000ULL, .r = c->r };
	S.window_ns = c->agg_window_ms * 1000000ULL;
	S.ttl_ns = (2 * c->tt1_ms + 10 * c->period_ms) * 1000000ULL;
	S.tick = (uint64_t)c->tick_us * 1000ULL;
	S.end_ns = ns_of(c->duration + c->grace);
	S.nsamp = (uint32_t)ceil((c->duration + c->grace) * 1000.0) + 1;
	S.a_sent = xcalloc(S.nsamp, 8);
	S.a_recv = xcalloc(S.nsamp, 8);
	S.l_sent = xcalloc(S.nsamp, 8);
	S.l_recv = xcalloc(S.nsamp, 8);
	for (int g = 0; g < c->ngroups; g++)
		nbots += c->g[g].bots;
	S.nsrc = c->devices + nbots;
	S.nids = S.nsrc + NSTAGES * c->proxies + (uint32_t)c->nevents;
	S.src = xcalloc(S.nsrc, sizeof(*S.src));
	S.at = xcalloc(S.nids, sizeof(*S.at));
	S.nxt = xcalloc(S.nids, sizeof(*S.nxt));
	for (uint32_t b = 0; b < SIM_NB; b++)
		S.bucket[b] = NIL;
	/* proxies and masters */
	S.px = xcalloc(c->proxies, sizeof(*S.px));
	S.nms = c->isolated ? c->proxies : 1;
	S.ms = xcalloc(S.nms, sizeof(*S.ms));
	for (uint32_t i = 0; i < c->proxies; i++) {
		struct proxy *p = &S.px[i];

		p->cap = (uint32_t)c->map_size;
		map_grow(p);
		p->head = p->tail = NIL;
		p->master = c->isolated ? i : 0;
		p->delay_ns = (uint64_t)llround((c->delay_ms + c->delay_jitter_ms * rnd01(&seed)) * 1e6);
		/* syncmaps starts at a random phase of its period */
		push(&S, S.nsrc + NSTAGES * i + ID_TAKE, T0 + (uint64_t)(rnd01(&seed) * c->period_ms * 1e6));
	}
	/* devices: client 1..U, proxy i mod P, first request at a random phase */
	for (id = 0; id < c->devices; id++) {
		struct source *so = &S.src[id];

		so->client = 0x0A000000u + id; /* any distinct numbers; not addresses on a wire */
		so->rng = seed ^ (0x9E3779B97F4A7C15ULL * (id + 1));
		so->proxy = (uint16_t)(id % c->proxies);
		so->cached = NIL;
		so->next = ns_of(c->dev_start) + (uint64_t)(rnd01(&so->rng) * c->dev_period_ms * 1e6);
		push(&S, id, so->next);
	}
	/* bots, group after group */
	for (int g = 0; g < c->ngroups; g++)
		for (bi = 0; bi < c->g[g].bots; bi++, id++) {
			struct source *so = &S.src[id];

			so->client = 0xC0000000u + (id - c->devices);
			so->group = (uint8_t)(g + 1);
			so->index = bi;
			so->cached = NIL;
			if (bot_next(&S, so))
				push(&S, id, so->next);
		}
	for (int e = 0; e < c->nevents; e++)
		push(&S, S.nsrc + NSTAGES * c->proxies + (uint32_t)e, ns_of(c->ev[e].t));
	/* the calendar: bucket after bucket, tick after tick */
	for (tnow = T0; tnow < S.end_ns; tnow += S.tick) {
		uint32_t b = (uint32_t)(((tnow - T0) / S.tick) % SIM_NB), later = NIL, tail = NIL;
		uint64_t tend = tnow + S.tick;

		while (S.bucket[b] != NIL) {
			uint32_t l = S.bucket[b];

			S.bucket[b] = NIL;
			while (l != NIL) {
				uint32_t nx = S.nxt[l];

				if (S.at[l] >= tend) { /* a later round of the ring */
					S.nxt[l] = NIL;
					if (tail == NIL)
						later = l;
					else
						S.nxt[tail] = l;
					tail = l;
				} else {
					res->events++;
					if (l < S.nsrc)
						run_source(&S, l, tend);
					else
						stage(&S, l, S.at[l] < tnow ? tnow : S.at[l]);
				}
				l = nx;
			}
		}
		if (later != NIL) {
			S.nxt[tail] = S.bucket[b];
			S.bucket[b] = later;
		}
	}
	{
		uint32_t phi = (uint32_t)(rnd(&seed) % 1000);

		measures(&S, phi, 0);
	}
	for (uint32_t i = 0; i < c->proxies; i++) {
		peak += S.px[i].n;
		free(S.px[i].s);
		free(S.px[i].idx);
		free(S.px[i].dirty.v);
		free(S.px[i].pend.v);
		free(S.px[i].apply.v);
		free(S.px[i].fq.v);
	}
	res->records_peak = peak;
	for (uint32_t m = 0; m < S.nms; m++) {
		res->master_records += S.ms[m].n;
		free(S.ms[m].s);
		free(S.ms[m].idx);
		free(S.ms[m].log);
		free(S.ms[m].log_origin);
		free(S.ms[m].hold_px);
		free(S.ms[m].hold_next);
	}
	free(S.px), free(S.ms), free(S.src), free(S.at), free(S.nxt);
	free(S.a_sent), free(S.a_recv), free(S.l_sent), free(S.l_recv);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &w1);
	res->wall_s = (double)(w1.tv_sec - w0.tv_sec) + (w1.tv_nsec - w0.tv_nsec) / 1e9;
	return 0;
}
