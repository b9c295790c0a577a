// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The walks of syncdb over the stores (docs/sync.md): every record of the
 * hashes of L_DB or M_DB (SCAN + HKEYS), every queue of L_DB, a set taken
 * whole (SPOP), and what a failed round gives back. Keys: xpro/keys.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "formats.h"
#include "period.h"
#include "keys.h"
#include "scan.h"

/* One page of SCAN cursor MATCH pattern: the reply (the keys in its
 * element[1]; cursor moved on), or NULL after a failure (r failed). */
static redisReply *scan_page(struct xredis *r, char *cursor, size_t clen, const char *pattern)
{
	redisReply *rep = redisCommand(r->c, "SCAN %s MATCH %s COUNT 100", cursor, pattern);

	if (!rep || rep->type != REDIS_REPLY_ARRAY || rep->elements != 2) {
		if (rep)
			freeReplyObject(rep);
		xredis_fail(r, r->c ? r->c->errstr : NULL);
		return NULL;
	}
	snprintf(cursor, clen, "%s", rep->element[0]->str);
	return rep;
}

/* Every record of the hashes "P:{D}" matching pattern (l:{*} for L_DB,
 * x:{*} for M_DB), field i, into l. */
int xpro_scan_hashes(struct xredis *r, const char *pattern, struct xpro_pairs *l)
{
	char cursor[32] = "0";
	redisReply *rep, *f;
	struct xpro_addr dest, client;
	size_t i, j;

	do {
		rep = scan_page(r, cursor, sizeof(cursor), pattern);
		if (!rep)
			return -EIO;
		for (i = 0; i < rep->element[1]->elements; i++)
			redisAppendCommand(r->c, "HKEYS %s", rep->element[1]->element[i]->str);
		for (i = 0; i < rep->element[1]->elements; i++) {
			if (redisGetReply(r->c, (void **)&f) != REDIS_OK || !f) {
				freeReplyObject(rep);
				xredis_fail(r, r->c->errstr);
				return -EIO;
			}
			if (xpro_hash_dest(rep->element[1]->element[i]->str, &dest))
				xpro_pairs_refuse(l, rep->element[1]->element[i]->str, rep->element[1]->element[i]->len);
			else
				for (j = 0; f->type == REDIS_REPLY_ARRAY && j < f->elements; j++) {
					const redisReply *e = f->element[j];

					if (e->type == REDIS_REPLY_STRING && !xpro_addr_parse(e->str, e->len, &client))
						xpro_pairs_add(l, &dest, &client);
					else if (e->type == REDIS_REPLY_STRING)
						xpro_pairs_refuse(l, e->str, e->len);
				}
			freeReplyObject(f);
		}
		freeReplyObject(rep);
	} while (strcmp(cursor, "0"));
	return 0;
}

/* The destinations of every queue "l:{D}:q" (a full pass after a restart:
 * a daemon killed between its SPOP of l:q and the take of the queues
 * left queues that l:q no longer names), into q. */
int xpro_scan_queues(struct xredis *r, struct xpro_pairs *q)
{
	char cursor[32] = "0", k[XK_NAME_MAX];
	redisReply *rep;
	struct xpro_addr dest, none = { 0 };
	size_t i, n;

	do {
		rep = scan_page(r, cursor, sizeof(cursor), XK_LQUEUE_MATCH);
		if (!rep)
			return -EIO;
		for (i = 0; i < rep->element[1]->elements; i++) {
			n = rep->element[1]->element[i]->len;
			if (n < 3 || n - 2 >= sizeof(k))
				continue;
			memcpy(k, rep->element[1]->element[i]->str, n - 2); /* "l:{D}" */
			k[n - 2] = '\0';
			if (!xpro_hash_dest(k, &dest))
				xpro_pairs_add(q, &dest, &none);
			else
				xpro_pairs_refuse(q, rep->element[1]->element[i]->str, n);
		}
		freeReplyObject(rep);
	} while (strcmp(cursor, "0"));
	return 0;
}

/* SPOP a set whole (in steps) into l: its members as xpro_pairs_add_reply
 * takes them (prefix 'l': record names; 0: destinations). */
int xpro_spop_into(struct xredis *r, const char *set, char prefix, struct xpro_pairs *l)
{
	redisReply *rep;

	for (;;) {
		rep = redisCommand(r->c, "SPOP %s 4096", set);
		if (!rep) {
			xredis_fail(r, NULL);
			return -EIO;
		}
		if (rep->type != REDIS_REPLY_ARRAY || !rep->elements) {
			freeReplyObject(rep);
			return 0;
		}
		xpro_pairs_add_reply(l, rep->element, rep->elements, prefix);
		freeReplyObject(rep);
	}
}

/* Give back what a failed round popped: records to l:dirty, destinations
 * with a queue to l:q. */
void xpro_give_back(struct xredis *r, const struct xpro_pairs *l, size_t from, const struct xpro_pairs *q,
		      size_t qfrom)
{
	char name[XK_NAME_MAX], ds[XPRO_ADDR_STRLEN], cs[XPRO_ADDR_STRLEN];
	redisReply *rep;
	size_t i;

	for (i = from; i < l->n && r->c; i++) {
		xk_lrec(name, xpro_addr_str(ds, &l->p[i].dest), xpro_addr_str(cs, &l->p[i].client));
		rep = redisCommand(r->c, "SADD " XK_DIRTY " %s", name);
		if (rep)
			freeReplyObject(rep);
	}
	for (i = qfrom; i < q->n && r->c; i++) {
		rep = redisCommand(r->c, "SADD " XK_QUEUES " %s", xpro_addr_str(ds, &q->p[i].dest));
		if (rep)
			freeReplyObject(rep);
	}
}
