// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "master.h"
#include "xredis.h"

/*
 * KEYS[1]: the master record. ARGV: ts1', ts2', c', dc', mark', l_found,
 * TT1, TT4, r (times in microseconds), and the record's expiry in ms (0:
 * none; a record idle for longer than TT1 restarts anyway). Returns {branch, ts1', ts2', c', dc',
 * mark', ts1, ts2, c}. Mirrors xpro_merge() line by line; a stored field
 * that is not a non-negative integer is an error, never merged.
 */
/*
 * The master's storage: one hash per destination, "x:{D}", one field per
 * client i, value "ts1 ts2 c" (decimal; times in microseconds). A batch of a
 * destination's records is then one HMGET and one HSET, and the hash tag
 * {D} keeps a destination on one Redis Cluster shard.
 *
 * The merge of one record, shared by both entry points below: returns the
 * reply {branch, ts1', ts2', c', dc', mark', ts1, ts2, c} (numbers: exact
 * integers below 2^53) and the master's new value, or nil when nothing is
 * written. Mirrors xpro_merge() line by line. A stored value that is not
 * three non-negative integers is an error, never merged.
 */
#define XPRO_LUA_CORE \
"local function num(s)\n" \
"  local n = tonumber(s)\n" \
"  if n == nil or n < 0 or n ~= math.floor(n) or n > 9007199254740991 then return nil end\n" \
"  return n\n" \
"end\n" \
"local function xmerge(mraw, name, l1, l2, lc, ldc, mark, lfound, tt1, tt4, r, lm1)\n" \
"  if r < 1 then r = 1 end\n" \
"  local mfound, m1, m2, mc = false, 0, 0, 0\n" \
"  if mraw then\n" \
"    local a, b, c = string.match(mraw, '^(%d+) (%d+) (%d+)$')\n" \
"    a, b, c = num(a), num(b), num(c)\n" \
"    if not a or not b or not c then return {err = 'xpro: bad master record ' .. name}, nil end\n" \
"    mfound, m1, m2, mc = true, a, b, c\n" \
"  end\n" \
"  local branch = 0\n" \
"  if lfound == 1 and mfound then\n" \
"    if mark == 1 and l1 - m1 > tt1 then\n" \
"      mark = 0; ldc = 0; m1 = l1; m2 = l2; mc = lc; branch = 1\n" \
"    else\n" \
"      mark = 0\n" \
"      if l2 < m2 then l2 = m2; branch = 2\n" \
"      elseif l2 - m1 > tt4 then\n" \
"        local d = l2 - m1\n" \
"        l1 = l2 - math.floor(d / r); mc = math.floor(mc / r); m1 = l1; m2 = l2; branch = 3\n" \
"      else m2 = l2; branch = 4 end\n" \
"      if branch ~= 3 and lm1 > 0 and m1 > lm1 and l1 < m1 then l1 = m1 end\n" \
"      if l1 > m1 then l1 = m1\n" \
"      elseif l2 - l1 > tt4 then m1 = l1 end\n" \
"      lc = mc + ldc; mc = lc; ldc = 0\n" \
"    end\n" \
"  elseif mfound then\n" \
"    l1 = m1; l2 = m2; lc = mc; ldc = 0; mark = 0; branch = 5\n" \
"  elseif lfound == 1 then\n" \
"    m1 = l1; m2 = l2; mc = lc; ldc = 0; branch = 6\n" \
"  end\n" \
"  local w = nil\n" \
"  if branch ~= 0 and branch ~= 5 then w = string.format('%.0f %.0f %.0f', m1, m2, mc) end\n" \
"  return {branch, l1, l2, lc, ldc, mark, m1, m2, mc}, w\n" \
"end\n"

/*
 * One record. KEYS[1]: the destination's hash "x:{D}". ARGV: the client i,
 * ts1', ts2', c', dc', mark', l_found, TT1, TT4, r (times in microseconds),
 * the hash's expiry in ms (0: none), and the master start this proxy saw
 * last (0: unknown).
 */
const char xpro_lua_merge[] =
XPRO_LUA_CORE
"local k, f = KEYS[1], ARGV[1]\n"
"local t, w = xmerge(redis.call('HGET', k, f), k .. ':' .. f, tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]),\n"
"  tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]),\n"
"  tonumber(ARGV[12]) or 0)\n"
"if t.err then return redis.error_reply(t.err) end\n"
"if w then\n"
"  redis.call('HSET', k, f, w)\n"
"  local ttl = tonumber(ARGV[11]) or 0\n"
"  if ttl > 0 then redis.call('PEXPIRE', k, ttl) end\n"
"end\n"
"return t\n";

/*
 * A batch of one destination (docs/sync.md, fast exchange): KEYS[1] =
 * "x:{D}"; ARGV[1..5] = TT1, TT4, r, expiry ms, origin (the proxy's id);
 * then 8 values per record: i, ts1', ts2', c', dc', mark', l_found, and
 * the master start this proxy saw last (0: unknown). One
 * reply (or error) per record; the records it changed are published on the
 * channel xpro:chg as "origin\nx:{D}:i\n...".
 */
const char xpro_lua_merge_batch[] =
XPRO_LUA_CORE
"local k = KEYS[1]\n"
"local tt1, tt4, r, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])\n"
"local n = (#ARGV - 5) / 8\n"
"local fields = {}\n"
"for i = 1, n do fields[i] = ARGV[5 + (i - 1) * 8 + 1] end\n"
"local cur = redis.call('HMGET', k, unpack(fields))\n"
"local out, hset, chg = {}, {}, {ARGV[5]}\n"
"for i = 1, n do\n"
"  local b = 6 + (i - 1) * 8\n"
"  local name = k .. ':' .. fields[i]\n"
"  local t, w = xmerge(cur[i], name, tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]),\n"
"    tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5]), tonumber(ARGV[b + 6]), tt1, tt4, r, tonumber(ARGV[b + 7]))\n"
"  out[i] = t\n"
"  if w and w ~= cur[i] then hset[#hset + 1] = fields[i]; hset[#hset + 1] = w; chg[#chg + 1] = name end\n"
"end\n"
"if #hset > 0 then\n"
"  redis.call('HSET', k, unpack(hset))\n"
"  if ttl > 0 then redis.call('PEXPIRE', k, ttl) end\n"
"end\n"
"if #chg > 1 then redis.call('PUBLISH', 'xpro:chg', table.concat(chg, '\\n')) end\n"
"return out\n";


int xpro_master_split(const char *name, char *hash, size_t hlen, const char **field)
{
	const char *close = strchr(name, '}');

	if (name[0] != 'x' || name[1] != ':' || name[2] != '{' || !close || close[1] != ':' ||
	    (size_t)(close - name) + 2 > hlen)
		return -EINVAL;
	memcpy(hash, name, (size_t)(close - name) + 1);
	hash[close - name + 1] = '\0';
	*field = close + 2;
	return 0;
}

int xpro_master_merge_append(redisContext *c, const char *sha, const char *key,
			     const struct xpro_lrec *l, int l_found, const struct xpro_merge_params *p)
{
	char a[11][24], hash[64];
	const char *field;

	if (xpro_master_split(key, hash, sizeof(hash), &field))
		return -EINVAL;
	snprintf(a[0], 24, "%" PRIu64, l->ts1);
	snprintf(a[1], 24, "%" PRIu64, l->ts2);
	snprintf(a[2], 24, "%" PRIu64, l->c);
	snprintf(a[3], 24, "%" PRIu64, l->dc);
	snprintf(a[4], 24, "%u", l->mark);
	snprintf(a[5], 24, "%d", l_found ? 1 : 0);
	snprintf(a[6], 24, "%" PRIu64, p->tt1_ns);
	snprintf(a[7], 24, "%" PRIu64, p->tt4_ns);
	snprintf(a[8], 24, "%u", p->r);
	snprintf(a[9], 24, "%" PRIu64, p->ttl_ms);
	snprintf(a[10], 24, "%" PRIu64, l->mts1);
	return redisAppendCommand(c, "EVALSHA %s 1 %s %s %s %s %s %s %s %s %s %s %s %s %s", sha, hash, field,
				  a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10]) ? -ENOMEM : 0;
}

int xpro_master_merge_parse(const redisReply *r, struct xpro_lrec *l, struct xpro_mrec *m,
			    int *branch, const char **err)
{
	uint64_t v[9];
	size_t i;

	*err = NULL;
	if (r->type == REDIS_REPLY_ERROR) {
		*err = r->str;
		return -EPROTO;
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 9) {
		*err = "unexpected reply";
		return -EPROTO;
	}
	for (i = 0; i < 9; i++) {
		if (xredis_u53(r->element[i], &v[i])) {
			*err = "a merged field is not a non-negative integer";
			return -EPROTO;
		}
	}
	if (v[0] > XPRO_MERGE_PUSH || v[5] > 1) {
		*err = "unexpected branch or mark";
		return -EPROTO;
	}
	*branch = (int)v[0];
	l->ts1 = v[1];
	l->ts2 = v[2];
	l->c = v[3];
	l->dc = v[4];
	l->mark = (uint32_t)v[5];
	m->ts1 = v[6];
	m->ts2 = v[7];
	m->c = v[8];
	return 0;
}

int xpro_master_merge(redisContext *c, const char *sha, const char *key,
		      struct xpro_lrec *l, int l_found, const struct xpro_merge_params *p,
		      struct xpro_mrec *m, int *branch, const char **err)
{
	redisReply *r = NULL;
	int rc;

	*err = NULL;
	if (xpro_master_merge_append(c, sha, key, l, l_found, p))
		return -ENOMEM;
	if (redisGetReply(c, (void **)&r) != REDIS_OK || !r) {
		*err = c->errstr;
		return -EIO;
	}
	rc = xpro_master_merge_parse(r, l, m, branch, err);
	if (rc && r->type == REDIS_REPLY_ERROR) {
		static char msg[256];

		snprintf(msg, sizeof(msg), "%s", r->str);
		*err = msg;
	}
	freeReplyObject(r);
	return rc;
}
