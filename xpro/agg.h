/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The periodic recompute of the per-destination aggregates from the records. */
#ifndef XPRO_AGG_H
#define XPRO_AGG_H

#include <stdint.h>
#include "xpro.h"

/* What the recompute finds for one destination. */
struct xpro_agg_acc {
	uint64_t ts1, ts2, c; /* window start (when win), latest ts2', count */
	uint32_t nact;        /* active records */
	int win;              /* some record has a packet inside the window */
};

/* Add one active record (now - ts2' <= TT1) to a: the paper's step 5
 * (window_ns 0), or bounded to the last window_ns before now. */
void xpro_agg_account(struct xpro_agg_acc *a, const struct xpro_record *rec, uint64_t now,
		      uint64_t window_ns);

struct xpro_recompute_stats {
	uint64_t records;      /* records scanned */
	uint64_t active;       /* of which active (now - ts2' <= TT1) */
	uint64_t dests;        /* aggregates rewritten */
	uint64_t vanished;     /* aggregates evicted during the recompute */
};

/*
 * Rebuild every aggregate of agg_fd from the records of rec_fd at time now
 * (docs/algorithms.md, Recompute): ts1 = min ts1', ts2 = max ts2',
 * c = sum c', nact = count over D's active records, and dc minus the dc read
 * before the scan, applied by the fold program fold_fd in the kernel.
 * window_ns (config agg_window_ms; 0 = the paper's unbounded window) bounds
 * the aggregate's window to the last window_ns: see xpro_agg_account().
 */
int xpro_recompute(int fold_fd, int rec_fd, int agg_fd, uint64_t tt1_ns, uint64_t window_ns,
		   uint64_t now, struct xpro_recompute_stats *st);

/*
 * The same in three steps, so that a caller that dumps the records anyway
 * (syncmaps) dumps them once: begin reads every aggregate's dc (before the
 * records are read: a packet counted meanwhile may count twice until the
 * next recompute, never zero times), the caller dumps the records, finish
 * scans them and folds (and frees the snapshot). abort frees it unused.
 */
struct xpro_agg_snap;
struct xpro_agg_snap *xpro_recompute_begin(int agg_fd);
/* Steps the begin's walk of the aggregates took: at most their max_entries. */
size_t xpro_recompute_walked(const struct xpro_agg_snap *sn);
int xpro_recompute_finish(struct xpro_agg_snap *sn, int fold_fd, int agg_fd,
			  const struct xpro_key *rkeys, const struct xpro_record *rvals, size_t nrec,
			  uint64_t tt1_ns, uint64_t window_ns, uint64_t now,
			  struct xpro_recompute_stats *st);
void xpro_recompute_abort(struct xpro_agg_snap *sn);

/*
 * Every record of rec_fd in as few syscalls as the kernel allows
 * (BPF_MAP_LOOKUP_BATCH; one get_next_key + lookup per record where batch
 * lookups are not supported). *keys and *vals are malloc'ed (caller frees);
 * returns 0 and *n, or -errno with nothing left allocated. Records evicted or added meanwhile may be
 * missed or seen: callers treat the dump as a snapshot.
 */
int xpro_records_dump(int rec_fd, struct xpro_key **keys, struct xpro_record **vals, size_t *n);

#endif
