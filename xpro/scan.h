/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* syncdb's walks over L_DB and M_DB (xpro/scan.c). Each returns 0, or
 * -EIO after a failure of r (xredis_fail). */
#ifndef XPRO_SCAN_H
#define XPRO_SCAN_H

#include <stddef.h>
#include "formats.h"
#include "period.h"
#include "xredis.h"

/* Every record of the hashes matching pattern (l:{*} or x:{*}) into l. */
int xpro_scan_hashes(struct xredis *r, const char *pattern, struct xpro_pairs *l);
/* The destinations of every queue l:{D}:q into q (client 0). */
int xpro_scan_queues(struct xredis *r, struct xpro_pairs *q);
/* SPOP set whole into l (prefix 'l': record names; 0: destinations). */
int xpro_spop_into(struct xredis *r, const char *set, char prefix, struct xpro_pairs *l);
/* Give back what a failed round popped: l from `from` to l:dirty, q from
 * qfrom to l:q. */
void xpro_give_back(struct xredis *r, const struct xpro_pairs *l, size_t from, const struct xpro_pairs *q,
		    size_t qfrom);

#endif
