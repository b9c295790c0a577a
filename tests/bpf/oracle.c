// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The naive oracle (see oracle.h). Every rule below cites docs/algorithms.md;
 * nothing here is taken from bpf/xpro_decide.h. Rates use exact 128-bit
 * products: "rate above TF" over a window of w ns is c * 1e9 > TF * w, which
 * for an integer c is the same as the documented c > floor(TF * w / 1e9).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include "oracle.h"

#define NS_PER_S 1000000000ULL

struct orec {
	struct oaddr client, dest;
	struct oracle_rec r;
};

struct oagg {
	struct oaddr dest;
	struct oracle_agg a;
};

struct oovr {
	struct oaddr dest;
	uint64_t tf2;
};

struct onet {
	uint32_t client;            /* network order; 0 for proxies and management */
	struct oaddr net;           /* host bits cleared */
	int kind;                   /* 1 proxy, 2 management, 3 a client's prefix */
	int len;                    /* 0..128 */
};

struct oaddr oracle_v4(uint32_t v4)
{
	struct oaddr a = { { 0 } };

	a.b[10] = 0xff;
	a.b[11] = 0xff;
	memcpy(a.b + 12, &v4, 4);
	return a;
}

static int same(struct oaddr a, struct oaddr b)
{
	return !memcmp(a.b, b.b, 16);
}

/* a with every bit after the first len cleared */
static struct oaddr masked(struct oaddr a, int len)
{
	int i;

	for (i = 0; i < 16; i++) {
		int bits = len - 8 * i;

		if (bits <= 0)
			a.b[i] = 0;
		else if (bits < 8)
			a.b[i] &= (uint8_t)(0xff << (8 - bits));
	}
	return a;
}

static int v4mapped(struct oaddr a)
{
	return same(masked(a, 96), masked(oracle_v4(0), 96));
}

#define ORACLE_NETS 64

struct oracle {
	struct oracle_params p;
	struct onet nets[ORACLE_NETS];
	size_t nnets;
	size_t max, nrec, nagg, novr;
	struct orec *rec;
	struct oagg *agg;
	struct oovr *ovr;
	struct oaddr embed6;
	int has_embed6;
};

struct oracle *oracle_new(const struct oracle_params *p, size_t max_records)
{
	struct oracle *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->p = *p;
	o->max = max_records;
	o->rec = calloc(max_records, sizeof(*o->rec));
	o->agg = calloc(max_records, sizeof(*o->agg));
	o->ovr = calloc(max_records, sizeof(*o->ovr));
	if (!o->rec || !o->agg || !o->ovr) {
		oracle_free(o);
		return NULL;
	}
	return o;
}

void oracle_free(struct oracle *o)
{
	if (!o)
		return;
	free(o->rec);
	free(o->agg);
	free(o->ovr);
	free(o);
}

void oracle_set_tf2_override(struct oracle *o, struct oaddr dest, uint64_t tf2)
{
	size_t i;

	for (i = 0; i < o->novr; i++)
		if (same(o->ovr[i].dest, dest)) {
			o->ovr[i].tf2 = tf2;
			return;
		}
	if (o->novr < o->max) {
		o->ovr[o->novr].dest = dest;
		o->ovr[o->novr].tf2 = tf2;
		o->novr++;
	}
}

static void add_net(struct oracle *o, int kind, uint32_t client, struct oaddr net, int len)
{
	struct onet *n;

	if (o->nnets == ORACLE_NETS)
		abort();
	n = &o->nets[o->nnets++];
	n->kind = kind;
	n->client = client;
	n->net = masked(net, len);
	n->len = len;
}

void oracle_add_proxy(struct oracle *o, struct oaddr addr)
{
	add_net(o, 1, 0, addr, 128);
}

void oracle_add_mgmt(struct oracle *o, struct oaddr net, int len)
{
	add_net(o, 2, 0, net, len);
}

void oracle_add_devnet(struct oracle *o, uint32_t client, struct oaddr net, int len)
{
	add_net(o, 3, client, net, len);
}

void oracle_set_embed6(struct oracle *o, struct oaddr net96)
{
	o->embed6 = masked(net96, 96);
	o->has_embed6 = 1;
}

/* The longest proxy or management prefix holding a, or NULL. */
static const struct onet *dest_net(const struct oracle *o, struct oaddr a)
{
	const struct onet *best = NULL;
	size_t i;

	for (i = 0; i < o->nnets; i++)
		if (o->nets[i].kind != 3 && same(masked(a, o->nets[i].len), o->nets[i].net) &&
		    (!best || o->nets[i].len > best->len))
			best = &o->nets[i];
	return best;
}

int oracle_tunnel(struct oracle *o, uint32_t self, uint16_t tport, uint32_t client, int v6,
		  struct oaddr src, struct oaddr dest, uint16_t dport, uint64_t now, int *reason, int *warn)
{
	const struct onet *d = dest_net(o, dest);
	struct oaddr me = oracle_v4(self), cl = oracle_v4(client), emb;
	/* an IPv4 packet to the proxy's own tunnel address is one to a proxy */
	int self_dest = !v6 && same(dest, me);
	int proxy = self_dest || (d && d->kind == 1), own = !v6 && same(src, cl);
	size_t i;

	*warn = 0;
	/* "the inner source is the device's own: its outer address, a prefix
	 * registered for it, or (IPv6) device_embed6's /96 with its outer
	 * address in the low 32 bits; a v4-mapped IPv6 source never is" */
	if (v6 && o->has_embed6) {
		emb = o->embed6;
		memcpy(emb.b + 12, &client, 4);
		own = same(src, emb);
	}
	for (i = 0; i < o->nnets && !own && !(v6 && v4mapped(src)); i++)
		own = o->nets[i].kind == 3 && o->nets[i].client == client &&
		      same(masked(src, o->nets[i].len), o->nets[i].net);
	if (!own)
		*reason = ORACLE_R_SPOOFED;
	else if (!self_dest && d && d->kind == 2)
		*reason = ORACLE_R_TO_MGMT;
	else if (proxy)
		*reason = dport == tport ? ORACLE_R_NESTED : ORACLE_R_TO_PROXY;
	else
		return oracle_packet(o, cl, dest, now, reason, warn);
	return ORACLE_DROP;
}

int oracle_inline(struct oracle *o, struct oaddr src, struct oaddr dest, uint64_t now, int *reason, int *warn)
{
	const struct onet *d = dest_net(o, dest);

	*warn = 0;
	/* "Inline mode applies the destination checks as well" */
	if (d && d->kind == 2)
		*reason = ORACLE_R_TO_MGMT;
	else if (d && d->kind == 1)
		*reason = ORACLE_R_TO_PROXY;
	else
		return oracle_packet(o, src, dest, now, reason, warn);
	return ORACLE_DROP;
}

/* "Every time difference is signed." */
static int64_t diff(uint64_t a, uint64_t b)
{
	return (int64_t)(a - b);
}

/* "rate above TF": c / (w / 1e9) > TF, for a window w > 0. Windows of 2^32
 * seconds or more saturate: nothing exceeds. */
static int rate_above(uint64_t c, int64_t w, uint64_t tf)
{
	if (w <= 0)
		return 0;
	if ((unsigned __int128)w >= ((unsigned __int128)1 << 32) * NS_PER_S)
		return 0;
	return (unsigned __int128)c * NS_PER_S > (unsigned __int128)tf * (uint64_t)w;
}

/* A record's window starts at t, new or after more than TT1 idle: its
 * counts restart at 0; mark is 1 after a reset, 0 for a new record. */
static void rec_window(struct oracle_rec *r, uint64_t t, uint32_t mark)
{
	r->ts1 = t;
	r->c = 0;
	r->dc = 0;
	r->mark = mark;
}

static struct orec *find_rec(const struct oracle *o, struct oaddr client, struct oaddr dest)
{
	size_t i;

	for (i = 0; i < o->nrec; i++)
		if (same(o->rec[i].client, client) && same(o->rec[i].dest, dest))
			return &o->rec[i];
	return NULL;
}

static struct oagg *find_agg(const struct oracle *o, struct oaddr dest)
{
	size_t i;

	for (i = 0; i < o->nagg; i++)
		if (same(o->agg[i].dest, dest))
			return &o->agg[i];
	return NULL;
}

/* An aggregate's window starts at t: count, delta and active clients at 0. */
static void agg_window(struct oracle_agg *a, uint64_t t)
{
	a->ts1 = t;
	a->c = 0;
	a->dc = 0;
	a->nact = 0;
}

static uint64_t tf2_of(const struct oracle *o, struct oaddr dest)
{
	size_t i;

	for (i = 0; i < o->novr; i++)
		if (same(o->ovr[i].dest, dest))
			return o->ovr[i].tf2;
	return o->p.tf2;
}

int oracle_packet(struct oracle *o, struct oaddr client, struct oaddr dest, uint64_t t,
		  int *reason, int *warn)
{
	struct orec *R = find_rec(o, client, dest);
	struct oagg *G = find_agg(o, dest);
	int started = 0, tf1_over;
	int64_t w, A;
	uint64_t tf2;

	*reason = ORACLE_R_NONE;
	*warn = 0;

	/* Record, step 1 */
	if (!R) {
		if (o->nrec == o->max)
			abort(); /* the test sizes the oracle; never evicts */
		R = &o->rec[o->nrec++];
		R->client = client;
		R->dest = dest;
		R->r.ts2 = t;
		R->r.warn_ts = 0;
		rec_window(&R->r, t, 0);
		started = 1;                           /* REC_NEW */
	} else if (diff(t, R->r.ts2) > (int64_t)o->p.tt1_ns) {
		rec_window(&R->r, t, 1);
		started = 1;                           /* REC_RESET */
	}
	/* step 2: count every packet */
	R->r.c += 1;
	R->r.dc += 1;
	R->r.ts2 = t;
	w = diff(t, R->r.ts1);

	/* Aggregate of D, before the checks */
	if (!G) {
		G = &o->agg[o->nagg++];
		G->dest = dest;
		G->a.ts2 = t;
		agg_window(&G->a, t);
		started = 1;                           /* AGG_NEW */
	} else if (diff(t, G->a.ts2) > (int64_t)o->p.tt1_ns) {
		agg_window(&G->a, t);
		started = 1;                           /* AGG_RESET */
	}
	if (started)
		G->a.nact += 1;

	tf1_over = w > (int64_t)o->p.tt2_ns && rate_above(R->r.c, w, o->p.tf1);

	if (o->p.policy == 0 || !tf1_over) {
		/* paper: always; fair: only a packet that passes the per-client check */
		G->a.dc += 1;
		G->a.ts2 = t;
	}

	/* step 3: per-client check */
	if (tf1_over) {
		if (R->r.warn_ts == 0 || diff(t, R->r.warn_ts) >= (int64_t)o->p.warn_interval_ns) {
			R->r.warn_ts = t;
			*warn = 1;
		}
		*reason = ORACLE_R_TF1;
		return ORACLE_DROP;
	}

	/* step 4: aggregate check */
	A = diff(t, G->a.ts1);
	tf2 = tf2_of(o, dest);
	if (A > (int64_t)o->p.tt3_ns && rate_above(G->a.c + G->a.dc, A, tf2)) {
		if (o->p.policy == 0) {
			*reason = ORACLE_R_TF2;
			return ORACLE_DROP;
		} else {
			uint64_t n = G->a.nact ? G->a.nact : 1;
			unsigned __int128 allowed;

			if (w > (int64_t)o->p.tt2_ns) {
				allowed = (unsigned __int128)tf2 * (uint64_t)w / NS_PER_S;
				allowed /= n;
				if ((unsigned __int128)R->r.c > allowed) {
					*reason = ORACLE_R_TF2_FAIR;
					return ORACLE_DROP;
				}
			}
		}
	}
	return ORACLE_PASS;
}

void oracle_forget(struct oracle *o, struct oaddr client, struct oaddr dest)
{
	struct orec *R = find_rec(o, client, dest);

	if (R)
		*R = o->rec[--o->nrec]; /* the last one takes its place */
}

int oracle_get_record(const struct oracle *o, struct oaddr client, struct oaddr dest, struct oracle_rec *r)
{
	const struct orec *R = find_rec(o, client, dest);

	if (!R)
		return 0;
	*r = R->r;
	return 1;
}

int oracle_get_agg(const struct oracle *o, struct oaddr dest, struct oracle_agg *a)
{
	const struct oagg *G = find_agg(o, dest);

	if (!G)
		return 0;
	*a = G->a;
	return 1;
}

size_t oracle_scan(const struct oracle *o, struct oaddr dest, uint64_t now,
		   uint64_t *min_ts1, uint64_t *max_ts2, uint64_t *sum_c)
{
	size_t i, n = 0;

	*min_ts1 = 0;
	*max_ts2 = 0;
	*sum_c = 0;
	for (i = 0; i < o->nrec; i++) {
		const struct orec *R = &o->rec[i];

		if (!same(R->dest, dest) || diff(now, R->r.ts2) > (int64_t)o->p.tt1_ns)
			continue;               /* not active */
		if (n == 0 || R->r.ts1 < *min_ts1)
			*min_ts1 = R->r.ts1;
		if (n == 0 || R->r.ts2 > *max_ts2)
			*max_ts2 = R->r.ts2;
		*sum_c += R->r.c;
		n++;
	}
	return n;
}

void oracle_recompute(struct oracle *o, uint64_t now)
{
	size_t i;

	for (i = 0; i < o->nagg; i++) {
		struct oagg *G = &o->agg[i];
		uint64_t mn, mx, sum;
		size_t n = oracle_scan(o, G->dest, now, &mn, &mx, &sum);

		if (n) {
			G->a.ts1 = mn;
			/* "the later (signed) of the aggregate's own ts2 and max ts2'" */
			if (diff(mx, G->a.ts2) > 0)
				G->a.ts2 = mx;
			G->a.c = sum;
			G->a.nact = n;
		} else {
			G->a.c = 0;
			G->a.nact = 0;
		}
		G->a.dc = 0;
	}
}

size_t oracle_nrecords(const struct oracle *o)
{
	return o->nrec;
}

size_t oracle_naggs(const struct oracle *o)
{
	return o->nagg;
}

void oracle_record_at(const struct oracle *o, size_t i, struct oaddr *client, struct oaddr *dest,
		      struct oracle_rec *r)
{
	*client = o->rec[i].client;
	*dest = o->rec[i].dest;
	*r = o->rec[i].r;
}
