/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * A naive oracle of Algorithm 2 and of the aggregate recompute, written from
 * docs/algorithms.md alone. It shares no code and no header with
 * bpf/xpro_decide.h or bpf/xpro.h: plain arrays, linear searches, 128-bit
 * arithmetic instead of the division-free fast path. The differential test
 * (test_diff.c) runs the same packets through it and through the XDP
 * program and compares verdicts, reasons and the whole map state.
 */
#ifndef XPRO_ORACLE_H
#define XPRO_ORACLE_H

#include <stddef.h>
#include <stdint.h>

/* An address as docs/algorithms.md keys it: 16 bytes in network order,
 * IPv6 as it is, IPv4 a.b.c.d as ::ffff:a.b.c.d (oracle_v4). */
struct oaddr {
	uint8_t b[16];
};

struct oaddr oracle_v4(uint32_t v4);

struct oracle_params {
	uint64_t tt1_ns, tt2_ns, tt3_ns;
	uint64_t tf1, tf2;          /* packets per second */
	uint64_t warn_interval_ns;
	int policy;                 /* 0 paper, 1 fair */
};

struct oracle_rec {            /* the primed fields of a record */
	uint64_t ts1, ts2, c, dc, warn_ts;
	uint32_t mark;
};

struct oracle_agg {
	uint64_t ts1, ts2, c, dc, nact;
};

enum { ORACLE_PASS = 0, ORACLE_DROP = 1 };
enum { ORACLE_R_NONE = 0, ORACLE_R_TF1 = 1, ORACLE_R_TF2 = 2, ORACLE_R_TF2_FAIR = 3,
       /* the reverse firewall (docs/protocol.md): dropped before any record */
       ORACLE_R_SPOOFED = 4, ORACLE_R_NESTED = 5, ORACLE_R_TO_PROXY = 6, ORACLE_R_TO_MGMT = 7 };

struct oracle;

struct oracle *oracle_new(const struct oracle_params *p, size_t max_records);
void oracle_free(struct oracle *o);
void oracle_set_tf2_override(struct oracle *o, struct oaddr dest, uint64_t tf2);
/* One packet from client to dest at time now: ORACLE_PASS or ORACLE_DROP;
 * *reason one of ORACLE_R_*, *warn 1 when an overload warning is emitted. */
int oracle_packet(struct oracle *o, struct oaddr client, struct oaddr dest, uint64_t now,
		  int *reason, int *warn);
/* The reverse firewall's prefixes: a proxy's address, a management prefix,
 * a prefix registered for a client (its IPv4 address, network order);
 * lengths over the 128 bits (an IPv4 /L is 96 + L); device_embed6's /96. */
void oracle_add_proxy(struct oracle *o, struct oaddr addr);
void oracle_add_mgmt(struct oracle *o, struct oaddr net, int len);
void oracle_add_devnet(struct oracle *o, uint32_t client, struct oaddr net, int len);
void oracle_set_embed6(struct oracle *o, struct oaddr net96);
/* One tunnel packet: client (outer IPv4 source, network order) sends the
 * inner packet, IPv4 (v6 = 0: src and dest v4-mapped) or IPv6, src -> dest,
 * UDP to dport (host order), to the proxy self (its tunnel address, tunnel
 * port tport). The reverse firewall first, then oracle_packet. */
int oracle_tunnel(struct oracle *o, uint32_t self, uint16_t tport, uint32_t client, int v6,
		  struct oaddr src, struct oaddr dest, uint16_t dport, uint64_t now, int *reason, int *warn);
/* One routed packet in inline mode, src -> dest (either family): the
 * destination checks (a proxy, a management prefix: no nested tunnel
 * there), then oracle_packet keyed (src, dest). */
int oracle_inline(struct oracle *o, struct oaddr src, struct oaddr dest, uint64_t now, int *reason, int *warn);
int oracle_get_record(const struct oracle *o, struct oaddr client, struct oaddr dest, struct oracle_rec *r);
/* The record of (client, dest) is gone (an LRU eviction): its next packet
 * starts it again, as for a pair never seen. */
void oracle_forget(struct oracle *o, struct oaddr client, struct oaddr dest);
int oracle_get_agg(const struct oracle *o, struct oaddr dest, struct oracle_agg *a);
/* Rebuild every aggregate from the records (docs: "Recompute"). */
void oracle_recompute(struct oracle *o, uint64_t now);
/* O(n) scan of the active records of dest: returns how many, with the
 * min ts1', max ts2' and sum c' over them. */
size_t oracle_scan(const struct oracle *o, struct oaddr dest, uint64_t now,
		   uint64_t *min_ts1, uint64_t *max_ts2, uint64_t *sum_c);
size_t oracle_nrecords(const struct oracle *o);
size_t oracle_naggs(const struct oracle *o);
void oracle_record_at(const struct oracle *o, size_t i, struct oaddr *client, struct oaddr *dest,
		      struct oracle_rec *r);

#endif
