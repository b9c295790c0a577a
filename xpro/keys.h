/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Every Redis key, key pattern and channel the sync uses (docs/sync.md,
 * "Local Redis" and "syncdb"): here and nowhere else in the C files of
 * xpro/. Values
 * stored under them: xpro/formats.h. The master's Lua script
 * (xpro/master.lua) names the channel XK_CHG itself.
 *
 * D and i are addresses in their one text form (lib/addr.h: dotted IPv4,
 * RFC 5952 IPv6, e.g. "x:{2001:db8::1}:2001:db8::2"); the hash tag {D}
 * keeps everything of a destination on one Redis Cluster shard, for either
 * family. Records format: XPRO_FORMAT_VERSION (formats.h), kept under
 * XK_FORMAT.
 */
#ifndef XPRO_KEYS_H
#define XPRO_KEYS_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The longest name built here, '\0' included: "l:{D}:i" with two IPv6
 * addresses of 45 characters is 96; "l:{D}:q" 52. */
#define XK_NAME_MAX 112

/* ---- local Redis (L_DB), one per proxy ---------------------------------- */
#define XK_LREC_PREFIX 'l'        /* record names "l:{D}:i" */
#define XK_LDB_MATCH   "l:{*}"    /* SCAN pattern of the hashes l:{D} */
#define XK_LQUEUE_MATCH "l:{*}:q" /* SCAN pattern of the queues l:{D}:q */
#define XK_QUEUES      "l:q"      /* set: destinations D with a queue l:{D}:q */
#define XK_UPDATED     "l:u"      /* list: "D i1 i2 ..." merged, to write back */
#define XK_DIRTY       "l:dirty"  /* set: names l:{D}:i whose delta stayed in L_DB */
#define XK_DECAY       "l:decay"  /* set: names l:{D}:i the next round may decay */
#define XK_LW          "l:w"      /* string: W, packets/s of this proxy */
#define XK_UPD         "l:upd"    /* channel: syncdb merged something (wakes syncmaps) */
#define XK_KICK        "l:kick"   /* channel: syncmaps queued something (wakes syncdb) */

/* ---- master (M_DB), shared by all proxies ------------------------------- */
#define XK_MREC_PREFIX 'x'        /* record names "x:{D}:i" */
#define XK_MDB_MATCH   "x:{*}"    /* SCAN pattern of the hashes x:{D} */
#define XK_PROXIES     "xpro:proxies" /* set: every proxy's id */
#define XK_FORMAT      "xpro:format"  /* string: the records format version (docs/sync.md) */
#define XK_CHG         "xpro:chg"     /* channel: "origin\nx:{D}:i\n..." (the change feed) */
#define XK_ALERTS      "xpro:alerts"  /* channel: overload alerts (JSON) */
#define XK_WARNINGS    "xpro:warnings" /* channel: the proxies' warnings (xpro warnd) */
/* streams: the same messages kept (XADD MAXLEN ~ XK_STREAM_MAX), field "eve" */
#define XK_ALERTS_LOG   "xpro:alerts:log"
#define XK_WARNINGS_LOG "xpro:warnings:log"
#define XK_STREAM_MAX   "10000"

/* The hash of D's local records, "l:{D}" (ds dotted). */
static inline size_t xk_ldb(char *buf, size_t len, const char *ds)
{
	return (size_t)snprintf(buf, len, "l:{%s}", ds);
}

/* D's queue of deltas, "l:{D}:q". */
static inline size_t xk_lqueue(char *buf, size_t len, const char *ds)
{
	return (size_t)snprintf(buf, len, "l:{%s}:q", ds);
}

/* The name of a local record, "l:{D}:i", into buf (XK_NAME_MAX); its length. */
static inline size_t xk_lrec(char *buf, const char *ds, const char *cs)
{
	size_t a = strlen(ds), b = strlen(cs);

	memcpy(buf, "l:{", 3);
	memcpy(buf + 3, ds, a);
	memcpy(buf + 3 + a, "}:", 2);
	memcpy(buf + 5 + a, cs, b + 1);
	return 5 + a + b;
}

/* The master's hash of D, "x:{D}". */
static inline size_t xk_mdb(char *buf, size_t len, const char *ds)
{
	return (size_t)snprintf(buf, len, "x:{%s}", ds);
}

/* A proxy's W on the master, "xw:<id>" (expires after three periods). */
static inline size_t xk_mw(char *buf, size_t len, const char *id)
{
	return (size_t)snprintf(buf, len, "xw:%s", id);
}

/* A proxy's clock on the master, "xc:<id>" (formats.h, xpro_clock_val;
 * expires like W). */
static inline size_t xk_mclock(char *buf, size_t len, const char *id)
{
	return (size_t)snprintf(buf, len, "xc:%s", id);
}

#endif
