// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "addr.h"
#include "agg.h"
#include "mapwalk.h"

struct slot {
	struct xpro_addr dest;
	int used, has_agg;
	struct xpro_fold_agg f;
	struct xpro_agg_acc acc;
};

struct table {
	struct slot *s;
	size_t cap;
};

/* Open addressing; at most cap probes: a full table answers NULL. */
static struct slot *find(struct table *t, const struct xpro_addr *dest, int insert)
{
	size_t i = xpro_addr_hash(dest) & (t->cap - 1), probes;

	for (probes = 0; probes < t->cap && t->s[i].used; probes++) {
		if (xpro_addr_eq(&t->s[i].dest, dest))
			return &t->s[i];
		i = (i + 1) & (t->cap - 1);
	}
	if (!insert || probes == t->cap)
		return NULL;
	t->s[i].used = 1;
	t->s[i].dest = *dest;
	return &t->s[i];
}

/* Keys of fd, counted by a walk of at most max_entries steps (mapwalk.h). */
static size_t count_keys(int fd, size_t ksz)
{
	char k[sizeof(struct xpro_key)], n[sizeof(struct xpro_key)];
	void *prev = NULL;
	size_t c = 0;
	uint32_t left = xpro_map_bound(fd);

	while (left-- && !bpf_map_get_next_key(fd, prev, n)) {
		memcpy(k, n, ksz);
		prev = k;
		c++;
	}
	return c;
}

/* Make room for at least `need` more entries in both arrays. */
static int grow(struct xpro_key **keys, struct xpro_record **vals, size_t n, size_t *cap, size_t need)
{
	size_t nc = *cap ? *cap : 4096;
	void *p;

	if (*cap - n >= need)
		return 0;
	while (nc - n < need)
		nc *= 2;
	p = realloc(*keys, nc * sizeof(**keys));
	if (!p)
		return -ENOMEM;
	*keys = p;
	p = realloc(*vals, nc * sizeof(**vals));
	if (!p)
		return -ENOMEM;
	*vals = p;
	*cap = nc;
	return 0;
}

/* Where batch lookups are not supported: get_next_key + lookup. */
static int dump_slow(int fd, struct xpro_key **keys, struct xpro_record **vals, size_t *n, size_t *cap)
{
	struct xpro_key k, next, *prev = NULL;
	uint32_t left = xpro_map_bound(fd);
	int err;

	*n = 0;
	while (left-- && !bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		err = grow(keys, vals, *n, cap, 1);
		if (err)
			return err;
		if (bpf_map_lookup_elem(fd, &k, &(*vals)[*n]))
			continue;
		(*keys)[*n] = k;
		(*n)++;
	}
	return 0;
}

static int dump(int rec_fd, struct xpro_key **keys, struct xpro_record **vals, size_t *n)
{
	__u32 cnt;
	uint64_t token = 0;
	size_t cap = 0, bound = 2 * (size_t)xpro_map_bound(rec_fd);
	int err, first = 1;
	LIBBPF_OPTS(bpf_map_batch_opts, bo);

	/* A batch walk goes bucket by bucket and ends; under churn it can
	 * return a key twice, so it is cut at twice max_entries all the same. */
	while (*n <= bound) {
		err = grow(keys, vals, *n, &cap, 8192);
		if (err)
			return err;
		cnt = 8192;
		err = bpf_map_lookup_batch(rec_fd, first ? NULL : &token, &token, *keys + *n, *vals + *n, &cnt, &bo);
		if (err) {
			err = -errno;
			*n += cnt;
			if (err == -ENOENT)
				return 0; /* the end */
			if (first && !cnt && (err == -EINVAL || err == -EOPNOTSUPP || err == -524 /* ENOTSUPP */))
				return dump_slow(rec_fd, keys, vals, n, &cap);
			return err;
		}
		first = 0;
		*n += cnt;
	}
	return 0;
}

int xpro_records_dump(int rec_fd, struct xpro_key **keys, struct xpro_record **vals, size_t *n)
{
	int err;

	*keys = NULL;
	*vals = NULL;
	*n = 0;
	err = dump(rec_fd, keys, vals, n);
	if (err) {
		free(*keys);
		free(*vals);
		*keys = NULL;
		*vals = NULL;
		*n = 0;
	}
	return err;
}

/*
 * One active record's part in its destination's aggregate (docs/algorithms.md,
 * "Aggregate window"). window_ns = 0: the paper's step 5, ts1* = min ts1',
 * ts2* = max ts2', c* = sum c'. Otherwise only the last window_ns before now
 * counts: a record's window is cut at lo = now - window_ns, and of its count
 * stays the part inside [lo, ts2'], its packets taken as spread evenly over
 * its window (floor of c' (ts2' - lo) / (ts2' - ts1')). A record whose last
 * packet is before lo counts no packet; it is still an active client (nact),
 * and ts2* is still the latest ts2'.
 */
void xpro_agg_account(struct xpro_agg_acc *a, const struct xpro_record *rec, uint64_t now,
		      uint64_t window_ns)
{
	uint64_t ts1 = rec->ts1_l, c = rec->c_l, lo = now - window_ns;

	if (!a->nact || (int64_t)(rec->ts2_l - a->ts2) > 0)
		a->ts2 = rec->ts2_l;
	a->nact++;
	if (window_ns) {
		if ((int64_t)(rec->ts2_l - lo) < 0)
			return; /* no packet inside the window */
		if ((int64_t)(ts1 - lo) < 0) {
			/* ts1' < lo <= ts2': the part of the window after lo */
			c = (uint64_t)((unsigned __int128)c * (rec->ts2_l - lo) / (rec->ts2_l - ts1));
			ts1 = lo;
		}
	}
	if (!a->win || (int64_t)(ts1 - a->ts1) < 0)
		a->ts1 = ts1;
	a->c += c;
	a->win = 1;
}

struct xpro_agg_snap {
	struct table t;
	size_t walked; /* get_next_key steps of the walk (<= max_entries) */
};

size_t xpro_recompute_walked(const struct xpro_agg_snap *sn)
{
	return sn->walked;
}

struct xpro_agg_snap *xpro_recompute_begin(int agg_fd)
{
	struct xpro_agg_snap *sn = calloc(1, sizeof(*sn));
	struct xpro_agg agg;
	struct xpro_addr ak, anext, *aprev = NULL;
	uint32_t left;
	struct slot *sl;
	size_t naggs;

	if (!sn)
		return NULL;
	naggs = count_keys(agg_fd, sizeof(struct xpro_addr));
	for (sn->t.cap = 64; sn->t.cap < 2 * naggs + 2; sn->t.cap <<= 1)
		;
	sn->t.s = calloc(sn->t.cap, sizeof(*sn->t.s));
	if (!sn->t.s) {
		free(sn);
		return NULL;
	}
	/* the local deltas, read before the records are: a walk of at most
	 * max_entries steps (restarted by an eviction, it still ends) into a
	 * table of at least twice the count, whose find() is bounded too */
	left = xpro_map_bound(agg_fd);
	sn->walked = 0;
	while (left-- && !bpf_map_get_next_key(agg_fd, aprev, &anext)) {
		sn->walked++;
		ak = anext;
		aprev = &ak;
		if (bpf_map_lookup_elem(agg_fd, &ak, &agg))
			continue;
		sl = find(&sn->t, &ak, 1);
		if (!sl) /* table full: more aggregates than counted (churn); the rest next period */
			break;
		sl->has_agg = 1;
		sl->f.dest = ak;
		sl->f.dc_seen = agg.dc;
	}
	return sn;
}

void xpro_recompute_abort(struct xpro_agg_snap *sn)
{
	if (sn)
		free(sn->t.s);
	free(sn);
}

int xpro_recompute_finish(struct xpro_agg_snap *sn, int fold_fd, int agg_fd,
			  const struct xpro_key *rkeys, const struct xpro_record *rvals, size_t nrec,
			  uint64_t tt1_ns, uint64_t window_ns, uint64_t now,
			  struct xpro_recompute_stats *st)
{
	struct table t = sn->t;
	struct xpro_agg agg;
	struct slot *sl;
	size_t i, ri;
	int err = 0;

	memset(st, 0, sizeof(*st));
	/* the O(n) scan of the records */
	for (ri = 0; ri < nrec; ri++) {
		const struct xpro_record *rec = &rvals[ri];

		st->records++;
		if ((int64_t)(now - rec->ts2_l) > (int64_t)tt1_ns)
			continue; /* idle: its window resets on its next packet */
		sl = find(&t, &rkeys[ri].dest, 0);
		if (!sl)
			continue; /* D's aggregate was evicted: its next packet recreates it */
		st->active++;
		xpro_agg_account(&sl->acc, rec, now, window_ns);
	}
	/* write back through the fold program */
	for (i = 0; i < t.cap; i++) {
		if (!t.s[i].used || !t.s[i].has_agg)
			continue;
		struct xpro_fold_agg *f = &t.s[i].f;
		const struct xpro_agg_acc *a = &t.s[i].acc;

		f->nact = a->nact;
		f->ts2 = a->ts2;
		f->ts1 = a->win ? a->ts1 : now - window_ns; /* no packet inside the window */
		f->c = a->win ? a->c : 0;
		if (!f->nact) {
			/* no active record: keep the window, drop the counts */
			if (bpf_map_lookup_elem(agg_fd, &f->dest, &agg)) {
				st->vanished++;
				continue;
			}
			f->ts1 = agg.ts1;
			f->ts2 = agg.ts2;
			f->c = 0;
		}
		/* a syscall program's test run copies the context back into
		 * ctx_in; it refuses a ctx_out (EINVAL) */
		LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = f, .ctx_size_in = sizeof(*f));
		if (bpf_prog_test_run_opts(fold_fd, &o)) {
			err = -errno;
			break;
		}
		if (f->ret)
			st->vanished++;
		else
			st->dests++;
	}
	xpro_recompute_abort(sn);
	return err;
}

int xpro_recompute(int fold_fd, int rec_fd, int agg_fd, uint64_t tt1_ns, uint64_t window_ns,
		   uint64_t now, struct xpro_recompute_stats *st)
{
	struct xpro_agg_snap *sn = xpro_recompute_begin(agg_fd);
	struct xpro_key *rkeys = NULL;
	struct xpro_record *rvals = NULL;
	size_t nrec = 0;
	int err;

	if (!sn)
		return -ENOMEM;
	err = xpro_records_dump(rec_fd, &rkeys, &rvals, &nrec);
	if (err) {
		xpro_recompute_abort(sn);
		return err;
	}
	err = xpro_recompute_finish(sn, fold_fd, agg_fd, rkeys, rvals, nrec, tt1_ns, window_ns, now, st);
	free(rkeys);
	free(rvals);
	return err;
}
