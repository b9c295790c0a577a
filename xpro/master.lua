-- SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
-- The master (M_DB) side of Algorithm 1 as Redis Lua, embedded into xpro
-- at build time (xpro/build.mk, xpro/embed-lua.awk): the lines before the
-- first "--@ NAME" line are shared; each "--@ NAME" section becomes the C
-- string NAME (xpro/master.h), the shared lines followed by the section.
--
-- Storage: one hash per destination, "x:{D}", one field per client i,
-- value "ts1 ts2 c" (decimal; times in microseconds; xpro/formats.h). A
-- batch of a destination's records is then one HMGET and one HSET, and the
-- hash tag {D} keeps a destination on one Redis Cluster shard.
--
-- xmerge(): the merge of one record, shared by both entry points. Returns
-- the reply {branch, ts1', ts2', c', dc', mark', ts1, ts2, c} (numbers:
-- exact integers below 2^53) and the master's new value, or nil when
-- nothing is written. Mirrors xpro_merge() (xpro/merge.c) line by line;
-- tests/unit/test_master.c checks they agree on random inputs. A stored
-- value that is not three non-negative integers is an error, never merged.
local function num(s)
  local n = tonumber(s)
  if n == nil or n < 0 or n ~= math.floor(n) or n > 9007199254740991 then return nil end
  return n
end
local function xmerge(mraw, name, l1, l2, lc, ldc, mark, lfound, tt1, tt4, r, lm1)
  if r < 1 then r = 1 end
  local mfound, m1, m2, mc = false, 0, 0, 0
  if mraw then
    local a, b, c = string.match(mraw, '^(%d+) (%d+) (%d+)$')
    a, b, c = num(a), num(b), num(c)
    if not a or not b or not c then return {err = 'xpro: bad master record ' .. name}, nil end
    mfound, m1, m2, mc = true, a, b, c
  end
  local branch = 0
  if lfound == 1 and mfound then
    if mark == 1 and l1 - m1 > tt1 then
      mark = 0; ldc = 0; m1 = l1; m2 = l2; mc = lc; branch = 1
    else
      mark = 0
      if l2 < m2 then l2 = m2; branch = 2
      elseif l2 - m1 > tt4 then
        local d = l2 - m1
        l1 = l2 - math.floor(d / r); mc = math.floor(mc / r); m1 = l1; m2 = l2; branch = 3
      else m2 = l2; branch = 4 end
      if branch ~= 3 and lm1 > 0 and m1 > lm1 and l1 < m1 then l1 = m1 end
      if l1 > m1 then l1 = m1
      elseif l2 - l1 > tt4 then m1 = l1 end
      lc = mc + ldc; mc = lc; ldc = 0
    end
  elseif mfound then
    l1 = m1; l2 = m2; lc = mc; ldc = 0; mark = 0; branch = 5
  elseif lfound == 1 then
    m1 = l1; m2 = l2; mc = lc; ldc = 0; branch = 6
  end
  local w = nil
  if branch ~= 0 and branch ~= 5 then w = string.format('%.0f %.0f %.0f', m1, m2, mc) end
  return {branch, l1, l2, lc, ldc, mark, m1, m2, mc}, w
end
--@ xpro_lua_merge
-- One record. KEYS[1]: the destination's hash "x:{D}". ARGV: the client i,
-- ts1', ts2', c', dc', mark', l_found, TT1, TT4, r (times in microseconds),
-- the hash's expiry in ms (0: none), and the master start this proxy saw
-- last (0: unknown).
local k, f = KEYS[1], ARGV[1]
local t, w = xmerge(redis.call('HGET', k, f), k .. ':' .. f, tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]),
  tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10]),
  tonumber(ARGV[12]) or 0)
if t.err then return redis.error_reply(t.err) end
if w then
  redis.call('HSET', k, f, w)
  local ttl = tonumber(ARGV[11]) or 0
  if ttl > 0 then redis.call('PEXPIRE', k, ttl) end
end
return t
--@ xpro_lua_merge_batch
-- A batch of one destination (docs/sync.md, fast exchange): KEYS[1] =
-- "x:{D}"; ARGV[1..5] = TT1, TT4, r, expiry ms, origin (the proxy's id);
-- then 8 values per record: i, ts1', ts2', c', dc', mark', l_found, and
-- the master start this proxy saw last (0: unknown). One reply (or error)
-- per record; the records it changed are published on the channel
-- xpro:chg (XK_CHG, xpro/keys.h) as "origin\nx:{D}:i\n...".
local k = KEYS[1]
local tt1, tt4, r, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local n = (#ARGV - 5) / 8
local fields = {}
for i = 1, n do fields[i] = ARGV[5 + (i - 1) * 8 + 1] end
local cur = redis.call('HMGET', k, unpack(fields))
local out, hset, chg = {}, {}, {ARGV[5]}
for i = 1, n do
  local b = 6 + (i - 1) * 8
  local name = k .. ':' .. fields[i]
  local t, w = xmerge(cur[i], name, tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3]),
    tonumber(ARGV[b + 4]), tonumber(ARGV[b + 5]), tonumber(ARGV[b + 6]), tt1, tt4, r, tonumber(ARGV[b + 7]))
  out[i] = t
  if w and w ~= cur[i] then hset[#hset + 1] = fields[i]; hset[#hset + 1] = w; chg[#chg + 1] = name end
end
if #hset > 0 then
  redis.call('HSET', k, unpack(hset))
  if ttl > 0 then redis.call('PEXPIRE', k, ttl) end
end
if #chg > 1 then redis.call('PUBLISH', 'xpro:chg', table.concat(chg, '\n')) end
return out
--@ xpro_lua_expire
-- The master's expiry of idle clients (docs/sync.md, Operations): KEYS[1]
-- = "x:{D}", ARGV[1] = the cut (us). Drops, atomically, the fields whose
-- last packet (ts2) is older than the cut, and those that are not
-- "ts1 ts2 c" (never merged anyway); returns how many.
local h = redis.call('HGETALL', KEYS[1])
local cut = tonumber(ARGV[1])
local del, n = {}, 0
for i = 1, #h, 2 do
  local a, b, c = string.match(h[i + 1], '^(%d+) (%d+) (%d+)$')
  b = num(b)
  if not num(a) or not b or not num(c) or b < cut then
    del[#del + 1] = h[i]
    if #del == 1000 then redis.call('HDEL', KEYS[1], unpack(del)); n = n + #del; del = {} end
  end
end
if #del > 0 then redis.call('HDEL', KEYS[1], unpack(del)); n = n + #del end
return n
