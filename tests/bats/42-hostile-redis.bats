#!/usr/bin/env bats
# Hostile values in the master and a local Redis, written mid-attack
# (docs/sync.md, "Validation"; docs/reliability.md): each is rejected with
# a log line naming its key and field, counted (.sync.*.invalid in
# `xpro stats`), never written into a map, and the bot's counts and
# verdicts are those of the same attack without them (40-sync.bats, first
# test: every record ends at 300, the sum of the three proxies' 100, and
# each proxy drops all but at most 65 of its 100: TT2 plus ten periods).
#
# The limits (docs/config.md, defaults): a time at most max_clock_skew_ms
# (100 ms) + one period ahead of the daemon's clock, a window starting at
# most max_window_ms (1 h) ago, a count at most max_client_pps
# (14,880,952/s) over its window + TT1 + TT4 (30 s + 10 s here) + 1. TT1
# is 30 s (not sync.conf's 5 s): no window restarts during the long checks.
#
# Clocks (docs/sync.md, "Clocks"): a proxy whose clock is beyond
# max_clock_skew_ms of most peers merges nothing and the others ignore its
# change feed. The test gives px3 a clock 5 s ahead with the test-only key
# clock_offset_ms (and then 37 s behind: a host without a leap-second
# table).

load lib/xpro
load lib/synctb

setup() { sync_setup s42; }
teardown() { sync_teardown; }

# CLOCK_TAI now, us: the clock of the records (docs/sync.md, Clock)
tai_us() { python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_TAI) // 1000)'; }
log_of() { echo "/run/xpro/topo/$RUN/$1/$2.log"; }

@test "hostile master and local values mid-attack: each rejected by key and field, counted, never in a map; the bot's counts and verdicts unchanged" {
  F=198.18.32   # the fake clients .50 to .56 of vic1
  # prepared before the attack: a huge hash of another destination (2000
  # fields, ts1 = 0), and a change feed flooded with 100,000 names: the
  # five fakes of vic1, the 2000, then names of nothing
  {
    printf 'HSET x:{198.18.1.102}'
    for i in $(seq 0 1999); do printf ' 198.18.%d.%d "0 1 1"' $((40 + i / 250)) $((i % 250)); done
    echo
  } > "$BATS_TEST_TMPDIR/huge"
  {
    printf 'evil'
    printf '\nx:{%s}:%s' $VIC $F.50 $VIC $F.51 $VIC $F.52 $VIC $F.53 $VIC $F.54
    for i in $(seq 0 1999); do printf '\nx:{198.18.1.102}:198.18.%d.%d' $((40 + i / 250)) $((i % 250)); done
    for i in $(seq 0 97994); do
      printf '\nx:{198.18.%d.%d}:198.18.9.%d' $((3 + i / 62500)) $((i / 250 % 250)) $((i % 250))
    done
  } > "$BATS_TEST_TMPDIR/feed"
  # TT1 30 s: no window restarts during the long checks of this test
  sed 's/^tt1_ms = .*/tt1_ms = 30000/' "$CONF" > "$BATS_TEST_TMPDIR/tt1.conf"
  testbed "$BATS_TEST_TMPDIR/tt1.conf" --sync
  send_spread 100 &
  sender=$!
  sleep 0.5
  now=$(tai_us)
  # W and ids: a W past 2^40, an id that would break the JSON of the state
  mredis SET xw:evil 99999999999999 PX 60000 > /dev/null
  mredis SADD xpro:proxies evil 'ev"il' > /dev/null
  sleep 0.2
  # master: ts1 = 0; ts2 an hour ahead; c near 2^53; ts1 > ts2; not numbers
  mredis HSET "x:{$VIC}" $F.50 "0 $now 5" $F.51 "$now $((now + 3600000000)) 5" \
    $F.52 "$((now - 1000000)) $now 9007199254740000" $F.53 "$now $((now - 10)) 3" $F.54 "abc" > /dev/null
  # px1's local Redis: a record whose gc + dc passes 2^53, a queued delta
  # with c' = dc = 2^53 - 1 (a sum past 2^53 with anything)
  lredis px1 HSET "l:{$VIC}" $F.55 "$now $now 9007199254740990 5 0 0 0" > /dev/null
  lredis px1 SADD l:dirty "l:{$VIC}:$F.55" > /dev/null
  lredis px1 RPUSH "l:{$VIC}:q" "$F.56 $now $now 9007199254740991 9007199254740991 0" > /dev/null
  lredis px1 SADD l:q $VIC > /dev/null
  REDISCLI_AUTH=$(cat /run/xpro/topo/$RUN/secret) topo exec "$RUN" db timeout 20 redis-cli -h 198.18.2.100 --user xpro \
    < "$BATS_TEST_TMPDIR/huge" > /dev/null
  mredis -x PUBLISH xpro:chg < "$BATS_TEST_TMPDIR/feed" > /dev/null
  # a warning with terminal escapes and a newline, to the viewers
  topo exec "$RUN" px3 timeout 10 "$XPRO" alerts --all -c "$(pconf px3)" --duration 3 > "$BATS_TEST_TMPDIR/alerts" &
  viewer=$!
  sleep 0.5
  mredis PUBLISH xpro:warnings "$(printf '{"type":"tf1","x":"\033[2J\nrm"}')" > /dev/null
  wait "$sender"
  wait "$viewer" || true

  for p in px1 px2 px3; do
    # the bot: exactly as without the hostile values
    settle $p $BOT $VIC 300
    drops=$(stat $p .counters.drop_tf1)
    passed=$(stat $p .counters.pass_redirect)
    [[ $((drops + passed)) == 100 ]]
    (( drops > 0 && passed <= 65 ))
  done
  # the master's own record of the bot: the sum, once
  run mcount $BOT $VIC
  assert_output 300
  # enforcement continues: 25 more to each proxy, all counted, once (at
  # once: within TT1 of the attack, the window goes on)
  send_spread 25
  for p in px1 px2 px3; do settle $p $BOT $VIC 375; done
  run mcount $BOT $VIC
  assert_output 375
  for p in px1 px2 px3; do
    # no fake client reached a map
    run stat $p "[.top[] | select(.client | test(\"^$F.5[0-6]\$\"))]"
    assert_output "[]"
    [[ $(stat $p '[.top[] | select(.dest == "198.18.1.102")] | length') == 0 ]]
    # every master value named by the feed was rejected on every proxy:
    # the five of vic1 and the 2000 of the huge hash; W of evil, ev"il
    (( $(stat $p .sync.syncdb.invalid) >= 2005 ))
    # names beyond 65,536 waiting were dropped (counted)
    (( $(stat $p .sync.syncdb.feed_dropped) >= 100000 - 65536 ))
    grep -q "x:{$VIC}:$F.50 field ts1: .* refused (older than max_window_ms)" "$(log_of $p syncdb)"
    grep -q "x:{$VIC}:$F.51 field ts2: .* refused (in the future" "$(log_of $p syncdb)"
    grep -q "x:{$VIC}:$F.52 field c: .* refused (more than the window can hold" "$(log_of $p syncdb)"
    grep -q "x:{$VIC}:$F.53 field ts1: .* refused (after ts2)" "$(log_of $p syncdb)"
    grep -q "x:{$VIC}:$F.54 field value: 'abc' refused" "$(log_of $p syncdb)"
    grep -q "xw:evil field W: '99999999999999' refused" "$(log_of $p syncdb)"
    # the peers in the state stay JSON (jq parses the stats), ev"il left out
    [[ $(stat $p '.sync.syncdb.peers_w | has("evil")') == false ]]
  done
  grep -q "l:{$VIC}:$F.55 field dc: .* refused (gc + dc past 2^53)" "$(log_of px1 syncdb)"
  grep -q "l:{$VIC}:q field c: '$F.56 .* refused (more than the window can hold" "$(log_of px1 syncdb)"
  # the viewer showed the warning on one line, escaped
  grep -qF '\u001b[2J\u000arm' "$BATS_TEST_TMPDIR/alerts"
  ! grep -q $'\033' "$BATS_TEST_TMPDIR/alerts"
}

@test "a proxy whose clock is 5 s ahead merges nothing and its peers ignore it; 37 s behind is named as a missing leap-second table" {
  # TF1 80: px1 and px2 together see 100 packets/s (dropped), px3 alone 50;
  # TT1 30 s: no window restarts during the test
  sed 's/^tf1 = .*/tf1 = 80/; s/^tt1_ms = .*/tt1_ms = 30000/' "$CONF" > "$BATS_TEST_TMPDIR/clock.conf"
  testbed "$BATS_TEST_TMPDIR/clock.conf" --sync
  running px3 syncdb
  echo "clock_offset_ms = 5000" >> "$(pconf px3)"
  kill -HUP "$(dpid px3 syncdb)"
  # within a few periods every syncdb has measured the others
  for _ in $(seq 30); do
    [[ $(stat px3 .sync.syncdb.clock.refused) == true && $(stat px1 .sync.syncdb.clock.peers_beyond) == 1 ]] && break
    sleep 0.1
  done
  [[ $(stat px3 .sync.syncdb.clock.refused) == true ]]
  for p in px1 px2; do
    [[ $(stat $p .sync.syncdb.clock.refused) == false ]]
    [[ $(stat $p .sync.syncdb.clock.peers_beyond) == 1 ]]
    [[ $(stat $p .sync.syncdb.clock.worst_peer) == px3 ]]
    # about +5 s (the measurement's error: a round trip to the master)
    (( $(stat $p .sync.syncdb.clock.worst_offset_us) > 4900000 && $(stat $p .sync.syncdb.clock.worst_offset_us) < 5100000 ))
  done
  send_spread 100
  # by hand: px1 and px2 merge with each other, 100 + 100; px3 merges with
  # nobody: its own 100; the master holds what px1 and px2 saw
  settle px1 $BOT $VIC 200
  settle px2 $BOT $VIC 200
  settle px3 $BOT $VIC 100
  sleep 0.5
  [[ $(count px3 $BOT $VIC) == 100 ]]
  run mcount $BOT $VIC
  assert_output 200
  (( $(stat px1 .counters.drop_tf1) > 0 && $(stat px2 .counters.drop_tf1) > 0 ))
  [[ $(stat px3 .counters.drop_tf1) == 0 ]]
  # named in the logs, unhealthy in the state of px3
  grep -q "1 of 2 peers' clocks beyond max_clock_skew_ms 100 (px3: +[0-9]* ms); their changes are not merged" "$(log_of px1 syncdb)"
  grep -q "2 of 2 peers' clocks beyond .*; this proxy does not merge" "$(log_of px3 syncdb)"
  # px3 has had no complete period since its clock went off (-1: none ever)
  lag=$(stat px3 '.sync.syncdb_lag_ms | floor')
  (( lag == -1 || lag > 1500 ))
  # 37 s behind: the offset of CLOCK_TAI on a host without a leap-second table
  grep -v '^clock_offset_ms' "$(pconf px3)" > "$BATS_TEST_TMPDIR/px3.conf"
  echo "clock_offset_ms = -37000" >> "$BATS_TEST_TMPDIR/px3.conf"
  cat "$BATS_TEST_TMPDIR/px3.conf" > "$(pconf px3)"
  kill -HUP "$(dpid px3 syncdb)"
  # (the alert and its log line: at most once a second)
  for _ in $(seq 30); do
    [[ $(stat px1 .sync.syncdb.clock.leap_table_mismatch) == true ]] &&
      grep -q "37 s: one host has no leap-second table" "$(log_of px1 syncdb)" && break
    sleep 0.1
  done
  [[ $(stat px1 .sync.syncdb.clock.leap_table_mismatch) == true ]]
  grep -q "37 s: one host has no leap-second table" "$(log_of px1 syncdb)"
  # back in bounds: px3 merges again, and learns the sum
  grep -v '^clock_offset_ms' "$BATS_TEST_TMPDIR/px3.conf" > "$(pconf px3)"
  kill -HUP "$(dpid px3 syncdb)"
  send_spread 10
  settle px3 $BOT $VIC 330
  settle px1 $BOT $VIC 330
}

@test "hostile IPv6 names: other spellings of an address in L_DB, a queue, M_DB and the change feed are rejected by name, counted, and change nothing else" {
  C6=2001:db8::c612:2005   # the bot's 198.18.32.5, mapped into 2001:db8::/32
  D6=2001:db8::c612:165    # vic1's 198.18.1.101, mapped
  testbed "$CONF" --sync
  now=$(tai_us)
  # the one good record: px1 counted 30 packets of (C6, D6), queued for syncdb
  lredis px1 RPUSH "l:{$D6}:q" "$C6 $((now - 200000)) $now 30 30 0" > /dev/null
  # hostile, each another spelling of one of the two addresses, in front of it:
  # a queued delta whose client is uppercase (its count would make 35)
  lredis px1 RPUSH "l:{$D6}:q" "2001:DB8::c612:2005 $((now - 100000)) $now 5 5 0" > /dev/null
  # a queue under D with its zero groups written out, named in l:q (7 more)
  lredis px1 RPUSH "l:{2001:db8:0:0:0:0:c612:165}:q" "$C6 $((now - 100000)) $now 7 7 0" > /dev/null
  lredis px1 SADD l:q "2001:db8:0:0:0:0:c612:165" "$D6" > /dev/null
  # a dirty record whose client is v4-mapped written as IPv6 (its name is 198.18.32.5)
  lredis px1 HSET "l:{$D6}" "::ffff:198.18.32.5" "$now $now 0 9 0 0 0" > /dev/null
  lredis px1 SADD l:dirty "l:{$D6}:::ffff:198.18.32.5" > /dev/null
  # the master: a field with a leading zero (11), named by a feed that also
  # names D in uppercase
  mredis HSET "x:{$D6}" "2001:0db8::c612:2005" "$((now - 100000)) $now 11" > /dev/null
  mredis PUBLISH xpro:chg "$(printf 'evil\nx:{%s}:2001:0db8::c612:2005\nx:{2001:DB8::c612:165}:%s' $D6 $C6)" > /dev/null
  # worked by hand: only the good line merges (a push: c = 30); every proxy
  # ends at 30 (px2 and px3 pull it), the master too
  for p in px1 px2 px3; do settle $p $C6 $D6 30; done
  sleep 0.5
  run mcount $C6 $D6
  assert_output 30
  for p in px1 px2 px3; do
    [[ $(count $p $C6 $D6) == 30 ]]
    # no other record of D in any map, none under another spelling
    [[ $(stat $p "[.top[] | select(.dest == \"$D6\")] | length") == 1 ]]
    [[ $(stat $p '[.top[] | select(.client | test("^::ffff:|[A-F]|:0[0-9a-f]"))] | length') == 0 ]]
    # the feed's two names refused by every proxy
    (( $(stat $p .sync.syncdb.bad_names) >= 2 ))
    grep -qF "xpro:chg field name: 'x:{$D6}:2001:0db8::c612:2005' refused (not a record or destination name in canonical form" "$(log_of $p syncdb)"
  done
  # px1: the queue's name in l:q and the dirty name besides the feed's two
  # (4 names), and the uppercase line (a value rejected): each named
  (( $(stat px1 .sync.syncdb.bad_names) >= 4 ))
  grep -qF "l:q field name: '2001:db8:0:0:0:0:c612:165' refused" "$(log_of px1 syncdb)"
  grep -qF "l:dirty field name: 'l:{$D6}:::ffff:198.18.32.5' refused" "$(log_of px1 syncdb)"
  grep -qF "l:{$D6}:q field line: '2001:DB8::c612:2005 " "$(log_of px1 syncdb)"
  # what they named was left alone: the other queue is still there, untaken
  run lredis px1 LLEN "l:{2001:db8:0:0:0:0:c612:165}:q"
  assert_output 1
  # the master's hash: the good field merged, the hostile one as written
  run mredis HGET "x:{$D6}" "2001:0db8::c612:2005"
  assert_output "$((now - 100000)) $now 11"
}
