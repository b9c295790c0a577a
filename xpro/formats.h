/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The storage formats of the sync (docs/sync.md, "Journey of a record"):
 * every value and line the two daemons write into Redis or read from it,
 * parsed and formatted here and nowhere else. Pure functions: no Redis,
 * no BPF calls, no clock. Every one is pinned in tests/unit/test_formats.c.
 *
 * Numbers are decimal integers <= 2^53 (what Redis' Lua stores exactly);
 * times in Redis are microseconds of CLOCK_TAI, in the BPF maps
 * nanoseconds; addresses are struct xpro_addr in memory (IPv4 v4-mapped)
 * and their one text form in Redis (lib/addr.h: dotted IPv4, RFC 5952
 * IPv6). Records format version XPRO_FORMAT_VERSION (docs/sync.md,
 * "Format version").
 */
#ifndef XPRO_FORMATS_H
#define XPRO_FORMATS_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "addr.h"
#include "merge.h"
#include "xpro.h"

#define XPRO_U53_MAX 9007199254740991ULL /* 2^53 - 1 */
#define XPRO_NS_PER_US 1000ULL

/* The records format this build writes and reads (docs/sync.md, "Format
 * version"): 1 had IPv4 names only, 2 adds IPv6 ones (every v1 name is a
 * v2 name). Kept on the master under XK_FORMAT. */
#define XPRO_FORMAT_VERSION 2

/* ---- numbers and addresses --------------------------------------------- */

/* n decimal integers <= 2^53 - 1 (at most 16 digits each), one space
 * apart, nothing else, into x: 0 or -1. */
int xpro_parse_u53s(const char *v, size_t len, uint64_t *x, int n);
/* The decimal digits of x at p (at most 20); returns the end. */
char *xpro_put_u64(char *p, uint64_t x);
/* Addresses: xpro_addr_str() and xpro_addr_parse() (lib/addr.h). */

/* ---- names: "P:{D}:i" (a record) and "P:{D}" (a hash) ------------------- */

/* A record name "P:{D}:i" (P the one-character prefix; D and i in their
 * text form, IPv6 colons included) into addresses; 0 or -EINVAL. */
int xpro_parse_key(const char *key, char prefix, struct xpro_addr *client, struct xpro_addr *dest);
/* The destination of a hash name "P:{D}"; 0 or -1. */
int xpro_hash_dest(const char *k, struct xpro_addr *dest);

/* ---- L_DB value: hash l:{D}, field i, "ts1 ts2 gc dc mark mts1 mts2" ------ */
/*
 * us; gc the global count as last merged, dc the delta not merged yet
 * (c' = gc + dc), mark 0 or 1, mts1/mts2 the master's window as last seen.
 */
#define XPRO_LSTATE_MAX (7 * 17 + 1)

struct xpro_lstate {
	uint64_t ts1, ts2, gc, dc, mark, mts1, mts2;
};

/* 0, or -1 unless seven numbers with ts1 <= ts2 and mark <= 1. */
int xpro_lstate_parse(const char *v, size_t len, struct xpro_lstate *s);
/* s into buf (XPRO_LSTATE_MAX, terminated); its length. */
size_t xpro_lstate_format(char *buf, const struct xpro_lstate *s);

/* ---- queue line: list l:{D}:q, "i ts1 ts2 c' dc mark" --------------------- */
/* A delta syncmaps queued for syncdb (us; seq: its order, not stored). */
#define XPRO_QLINE_MAX 144 /* with its '\n': 45 + 4 * 21 + 2 + 1 */

struct xpro_qline {
	struct xpro_addr dest, client;
	uint32_t seq;
	uint64_t ts1, ts2, c, dc;
	uint32_t mark;
};

/* One line without its '\n': 0, or -1 unless an address and five numbers
 * with ts1 <= ts2 and mark <= 1 (dest and seq are left alone). */
int xpro_qline_parse(const char *v, size_t len, struct xpro_qline *q);
/* The line of q, '\n' included, at p (at most XPRO_QLINE_MAX); the end. */
char *xpro_qline_put(char *p, const struct xpro_qline *q);
/* The line of a BPF record of the dump (ns) to hand over (us). */
struct xpro_qline xpro_qline_from_record(const struct xpro_key *k, const struct xpro_record *r);
/* A queued delta onto the local record (*found: L_DB holds it; set): a
 * window that restarted (mark 1), or a record new here, replaces it
 * (gc = c' - dc); otherwise dc is added and ts2 moves forward. */
void xpro_lstate_apply(struct xpro_lstate *s, int *found, const struct xpro_qline *q);

/* ---- L_DB value <-> the merge (xpro/merge.h) ----------------------------- */

/* What the merge takes from a local record: c' = gc + dc. */
struct xpro_lrec xpro_lstate_lrec(const struct xpro_lstate *s);
/* The local record after a merge of branch b (l, m: its results): dc 0,
 * mark 0, the master's window as seen (a pulled record: its own). */
struct xpro_lstate xpro_lstate_merged(int branch, const struct xpro_lrec *l, const struct xpro_mrec *m);
/* The record may decay at the next round: ts2 - mts1 > TT4 (us, signed). */
int xpro_lstate_decays(const struct xpro_lstate *s, uint64_t tt4_us);

/* ---- L_DB value -> the BPF map (written back) --------------------------- */

/* The write-back of s to the record (client, dest) (ns), for the apply
 * program: 0, or -1 when its window ends more than an hour after now_ns
 * (absurd: skipped). idle_ns: 7/8 of TT1 (a record idle that long is left
 * alone: its next packet may reset it). */
int xpro_lstate_to_apply(const struct xpro_lstate *s, const struct xpro_addr *client,
			 const struct xpro_addr *dest, uint64_t tt1_ns,
			 uint64_t now_ns, struct xpro_sync_apply *a);
/* The BPF record created from a write-back the map did not hold (only the
 * master knew the pair). */
struct xpro_record xpro_record_from_apply(const struct xpro_sync_apply *a);

/* ---- M_DB value: hash x:{D}, field i, "ts1 ts2 c" (us, us, packets) ------- */
#define XPRO_MVAL_MAX (3 * 17)

/* 0, or -1 unless three numbers (the master script's rule: ts1 > ts2 is
 * merged as it stands). */
int xpro_mval_parse(const char *v, size_t len, struct xpro_mrec *m);
/* m into buf (XPRO_MVAL_MAX, terminated); its length. */
size_t xpro_mval_format(char *buf, const struct xpro_mrec *m);

/* ---- the list l:u: entries "D i1 i2 ...", records syncdb merged ---------- */

/* An entry of n clients of dest into buf (XPRO_ADDR_STRLEN * (n + 1)); its
 * length (not terminated by a newline; terminated by '\0'). */
size_t xpro_upd_format(char *buf, const struct xpro_addr *dest, const struct xpro_addr *clients, size_t n);
/* cb(dest, client, arg) per client of an entry, up to the first malformed
 * word; the number of clients, or -1 when malformed (those before stay). */
typedef void xpro_pair_cb(const struct xpro_addr *dest, const struct xpro_addr *client, void *arg);
int xpro_upd_parse(const char *v, size_t len, xpro_pair_cb *cb, void *arg);

/* ---- the change feed: channel xpro:chg, "origin\nx:{D}:i\n..." ------------ */

/* Start a message of origin id in buf (size len); its length. */
size_t xpro_feed_start(char *buf, size_t len, const char *id);
/* Append "\nx:{D}:i" (hash "x:{D}", field i) at buf + at (room checked
 * against len; nothing appended without it); the new length. */
size_t xpro_feed_add(char *buf, size_t len, size_t at, const char *hash, const char *field);
/* cb(dest, client, arg) per record named in a message of another origin
 * than self (names that do not parse are skipped); the number named, or
 * -1 for our own message or one without an origin line. */
int xpro_feed_parse(const char *msg, size_t len, const char *self, xpro_pair_cb *cb, void *arg);

/* ---- W: the workload, l:w and xw:<proxy>, one number (packets/s) --------- */

/* One number: 0, or -1 (*w left alone). */
int xpro_w_parse(const char *v, size_t len, uint64_t *w);
/* The overload alert published on xpro:alerts into buf; its length (as
 * snprintf). */
int xpro_alert_format(char *buf, size_t len, const char *id, uint64_t w, uint64_t t_w, uint64_t ts_ns);

/* ---- the clock: xc:<proxy>, "off_us tai_real_us" (docs/sync.md, Clocks) ------ */
/* off_us: this proxy's CLOCK_TAI (as the daemons see it) minus the
 * master's TIME, us; tai_real_us: CLOCK_TAI minus CLOCK_REALTIME here
 * (37 s with a leap-second table, 0 without), us. Signed. */
struct xpro_clock_val {
	int64_t off_us, tai_real_us;
};
#define XPRO_CLOCK_MAX_US 1000000000000LL /* |value| at most 10^12 us (11.6 days) */
#define XPRO_CLOCK_VAL_MAX 48

/* Two signed decimal integers, |x| <= XPRO_CLOCK_MAX_US, one space apart:
 * 0, or -1. */
int xpro_clock_parse(const char *v, size_t len, struct xpro_clock_val *c);
/* c into buf (XPRO_CLOCK_VAL_MAX, terminated); its length. */
size_t xpro_clock_format(char *buf, const struct xpro_clock_val *c);
/* A peer's offset to us (peer - us, us) and whether the two hosts' TAI
 * offsets differ by the 37 s of a leap-second table (within 1 s). */
int64_t xpro_clock_offset(const struct xpro_clock_val *me, const struct xpro_clock_val *peer, int *leap);

/* ---- semantic checks of what is read from Redis (docs/sync.md, Validation) -- */
/*
 * The syntax checks above say a value is numbers; these say it is
 * possible. A value read from Redis (an L_DB record, a queued delta, an
 * M_DB record, W, a warning or alert) passes them before anything of it
 * reaches a map, a merge or the master; otherwise it is rejected, named,
 * counted, and changes nothing else.
 */
struct xpro_limits {
	uint64_t now_us;      /* the daemon's clock (CLOCK_TAI, us) */
	uint64_t future_us;   /* a time may be this far ahead of now (clock skew + a period) */
	uint64_t past_us;     /* a window may start this long before now (max_window_ms) */
	uint64_t slack_us;    /* added to a window's length in the count bound (TT1 + TT4) */
	uint64_t max_pps;     /* max_client_pps: the highest rate of one client */
};

/* The most packets a window [ts1, ts2] (us) of one client can hold:
 * max_pps * (ts2 - ts1 + slack_us) / 1 s + 1 (at most 2^53 - 1). */
uint64_t xpro_count_max(const struct xpro_limits *lim, uint64_t ts1, uint64_t ts2);
/* NULL when the window ts1 <= ts2, now - past <= ts1, ts2 <= now + future
 * and c <= xpro_count_max(ts1, ts2); otherwise the name of the first
 * field outside ("ts1", "ts2", "c"), and *why (if not NULL) a phrase. */
const char *xpro_check_window(const struct xpro_limits *lim, uint64_t ts1, uint64_t ts2, uint64_t c,
			      const char **why);
/* An L_DB value: its window (c = gc + dc, dc <= c), and the master's
 * window as seen (mts1, mts2: 0 or times within the limits). */
const char *xpro_check_lstate(const struct xpro_limits *lim, const struct xpro_lstate *s, const char **why);
/* A queued delta: its window (c'), and dc <= c'. */
const char *xpro_check_qline(const struct xpro_limits *lim, const struct xpro_qline *q, const char **why);
/* An M_DB value: its window and count. */
const char *xpro_check_mval(const struct xpro_limits *lim, const struct xpro_mrec *m, const char **why);

/* W: packets/s of a proxy, at most XPRO_W_MAX (the range of t_w). */
#define XPRO_W_MAX (1ULL << 40)
/* A W within 0..XPRO_W_MAX: 0, or -1. */
int xpro_w_check(uint64_t w);

/* A message of xpro:warnings or xpro:alerts as one line a terminal can
 * show: at most XPRO_MSG_MAX bytes of it (then "...(cut)"), every byte
 * outside printable ASCII written as \u00HH (the same character inside a
 * JSON string; no control character reaches the terminal), into out (at
 * least 6 * XPRO_MSG_MAX + 16), terminated; 1 when the message was changed
 * (escaped or cut), else 0. */
#define XPRO_MSG_MAX 2048
int xpro_msg_escape(char *out, const char *msg, size_t len);

#endif
