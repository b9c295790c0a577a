#!/usr/bin/env bats
# Operations that stay true (docs/sync.md, "Operations"), on the sync's
# testbed (lib/synctb; thresholds tests/bats/sync.conf: TF1 100/s, TT1 5 s,
# TT2 300 ms, TT4 10 s, period 100 ms):
# - `xpro set` of a run-time key reaches both daemons within a period, and
#   takes effect: TT4 1.5 s set at run time decays the 5 s attack of
#   40-sync's "longer than TT4" test (with the file's TT4 of 10 s no window
#   of that attack reaches TT4: no decay at all);
# - detach + attach: the daemons follow the new maps;
# - the master drops clients idle past TT4 + TT1 + 10 periods;
# - SCRIPT FLUSH on the master: the script is loaded again;
# - a map record ahead of the clock (what a backward step of the clock
#   leaves) is deleted (docs/sync.md, "Clocks").

load lib/xpro
load lib/synctb

setup() { sync_setup s43; }
teardown() { sync_teardown; }

tai_us() { python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_TAI) // 1000)'; }
# state P DAEMON JQ: a value of the daemon's state file (readable while detached)
state() { jq -r "$3" /run/xpro/topo/$RUN/$1/xpro/*/in0/$2.json; }

@test "xpro set tt4_ms and r reaches both daemons within a period and takes effect; a daemon key is refused with a message" {
  testbed "$CONF" --sync
  for p in px1 px2 px3; do
    run px $p set -i in0 tt4_ms=1500 r=4
    assert_success
  done
  # one period to read it, one more for the state file
  sleep 0.2
  for p in px1 px2 px3; do
    for d in syncmaps syncdb; do
      [[ $(state $p $d .tt4_ms) == 1500 && $(state $p $d .r) == 4 ]]
    done
  done
  send_spread 250
  (( $(stat px1 .sync.syncdb.branches.decay) + $(stat px2 .sync.syncdb.branches.decay) + $(stat px3 .sync.syncdb.branches.decay) > 0 ))
  run px px1 set -i in0 sync_period_ms=50
  assert_failure
  assert_output --partial "daemon keys an edit of the config file and SIGHUP"
}

@test "detach and attach: the daemons report the detach and follow the new maps" {
  testbed "$CONF" --sync
  run px px1 detach -i in0
  assert_success
  sleep 0.3
  [[ $(state px1 syncmaps .attached) == false && $(state px1 syncdb .attached) == false ]]
  grep -q "detached (no pins" /run/xpro/topo/$RUN/px1/syncmaps.log
  run px px1 attach -i in0
  assert_success
  # a client only px1 sees, in its new map: px3 learns it through px1's
  # daemons, which must read the new map
  run topo exec "$RUN" bot timeout 10 "$UDP" send --proxy 198.18.0.1 --bind 198.18.32.9 --dst $VIC --dport 9 \
    --count 20 --interval-us 5000
  assert_success
  settle px1 198.18.32.9 $VIC 20
  settle px3 198.18.32.9 $VIC 20
  [[ $(state px1 syncmaps .attached) == true && $(state px1 syncmaps .reattached) == 1 ]]
  [[ $(state px1 syncdb .attached) == true ]]
  grep -q "attached again (new maps)" /run/xpro/topo/$RUN/px1/syncmaps.log
}

@test "the master drops a client idle past TT4 + TT1 + 10 periods; a live one stays" {
  # TT1 = TT4 = 1 s: idle past 3 s is dropped, at the sweeps every 3 s;
  # r = 1: the decay keeps counts whole (the live count stays exact)
  sed 's/^tt1_ms = .*/tt1_ms = 1000\ntt4_ms = 1000\nr = 1/' "$CONF" > "$BATS_TEST_TMPDIR/idle.conf"
  testbed "$BATS_TEST_TMPDIR/idle.conf" --sync
  now=$(tai_us)
  mredis HSET "x:{$VIC}" 198.18.32.60 "$((now - 20000000)) $((now - 10000000)) 7" > /dev/null
  # the bot, live for 8 s (160 packets at 20/s through px1: under TF1)
  run topo exec "$RUN" bot timeout 20 "$UDP" send --proxy 198.18.0.1 --bind $BOT --dst $VIC --dport 9 \
    --count 160 --interval-us 50000
  assert_success
  run mredis HEXISTS "x:{$VIC}" 198.18.32.60
  assert_output 0
  run mcount $BOT $VIC
  assert_output 160
  (( $(stat px1 .sync.syncdb.master_expired) + $(stat px2 .sync.syncdb.master_expired) + $(stat px3 .sync.syncdb.master_expired) >= 1 ))
}

@test "SCRIPT FLUSH on the master: the merge script is loaded again and the sync goes on" {
  echo "master_merge = lua" | cat "$CONF" - > "$BATS_TEST_TMPDIR/lua.conf"
  testbed "$BATS_TEST_TMPDIR/lua.conf" --sync
  send_spread 10
  for p in px1 px2 px3; do settle $p $BOT $VIC 30; done
  run mredis SCRIPT FLUSH
  assert_output OK
  send_spread 10
  for p in px1 px2 px3; do settle $p $BOT $VIC 60; done
  run mcount $BOT $VIC
  assert_output 60
  # the first proxy to meet NOSCRIPT loads it again (the same script: the
  # same SHA1 for all); at least one did
  grep -q "lost the merge script (NOSCRIPT): loaded again" /run/xpro/topo/$RUN/px*/syncdb.log
  (( $(stat px1 .sync.syncdb.script_reloads) + $(stat px2 .sync.syncdb.script_reloads) + $(stat px3 .sync.syncdb.script_reloads) >= 1 ))
}

# le64 N: N as 8 bytes, little-endian, in bpftool's hex
le64() { local i; for i in 0 1 2 3 4 5 6 7; do printf '%02x ' $(( ($1 >> (8 * i)) & 255 )); done; }
# put_record P CLIENT-HEX TS_NS C: a record of (CLIENT, vic1) in P's map, its
# window [TS, TS] with C packets, nothing to sync (dc 0, mark 0). The key is
# two 16-byte addresses, IPv4 v4-mapped (::ffff:a.b.c.d, bpf/xpro.h)
V4MAPPED="00 00 00 00 00 00 00 00 00 00 ff ff"
put_record() {
  local ns pins
  ns=$(jq -r .netns <(px "$1" stats -i in0 --json))
  pins=$(awk -F' *= *' '$1 == "bpffs" { print $2 }' "$(pconf "$1")")
  bpftool map update pinned "${pins:-/run/xpro/bpf}/$ns/in0/xpro_records" key hex $V4MAPPED $2 $V4MAPPED c6 12 01 65 \
    value hex $(le64 "$3") $(le64 "$3") $(le64 "$4") $(le64 0) $(le64 0) $(le64 0) $(le64 "$4") $(le64 0) 00 00 00 00 00 00 00 00
}

@test "a record ahead of the clock (what a backward step leaves) is deleted; one at the clock stays" {
  testbed "$CONF" --sync
  now=$(( $(tai_us) * 1000 ))
  # 198.18.32.70 ten seconds ahead (a step back of 10 s), 198.18.32.71 now
  put_record px1 "c6 12 20 46" $((now + 10000000000)) 5
  put_record px1 "c6 12 20 47" "$now" 5
  for _ in $(seq 20); do [[ $(count px1 198.18.32.70 $VIC) == 0 ]] && break; sleep 0.1; done
  [[ $(count px1 198.18.32.70 $VIC) == 0 ]]
  [[ $(count px1 198.18.32.71 $VIC) == 5 ]]
  [[ $(stat px1 .sync.syncmaps.ahead) == 1 ]]
  grep -q "records ahead of the clock (a backward step): deleted" /run/xpro/topo/$RUN/px1/syncmaps.log
}
