/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* JSON output of the read commands (-j, -p): docs/xpro.md, Output. */
#ifndef XPRO_OUTPUT_H
#define XPRO_OUTPUT_H

#include <stdint.h>
#include <stdio.h>
#include "stats.h"

/* One JSON text (as written by the commands, compact) to f: as it is, or
 * indented by two spaces a level (pretty), then a newline. */
void xpro_json_emit(FILE *f, const char *json, int pretty);
/* "key = value" lines (xpro config show) as one JSON object: whole numbers
 * as numbers, the rest as strings; "#" lines left out. */
void xpro_kv_json(FILE *f, const char *text);

/* xpro status -j: the proxy, its thresholds, its load-time keys, its sync
 * daemons' state, as one object. */
void xpro_status_json(const struct xpro_proxy *px, const struct xpro_snapshot *s, uint32_t id, uint32_t max_records,
		      int pretty);

#endif
