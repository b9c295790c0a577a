#!/usr/bin/env bats
# xpro-sim (docs/simulation.md): options and hostile scenario files refused
# with one line and exit 2, byte-identical output from the same seed, a
# figure worked by hand, and the validation against the testbed: for flood,
# hopping and lowrate at CI scale, the simulator's means over 5 seeds against
# `xpro-exp run SCENARIO --scale ci --seeds 5` (about a minute each, as root),
# within the tolerance of sim/validate.py (docs/simulation.md, "Validation").

load lib/xpro
bats_require_minimum_version 1.5.0

export XPRO_BUILD=${XPRO_BUILD:-build}
SIM=$XPRO_BUILD/bin/xpro-sim

setup() {
  [[ -x $SIM ]] || skip "$SIM not built"
}

# xpro-exp tears its runs down on every exit path; a test killed mid-run may
# still leave one, named in its meta.json
teardown() {
  local r
  while read -r r; do
    [[ -n $r && -d /run/xpro/topo/$r ]] && timeout 60 topo/xpro-topo down "$r" -q >/dev/null 2>&1
  done < <(find "$BATS_TEST_TMPDIR" -name meta.json -exec jq -r '.topo_run // empty' {} + 2>/dev/null)
  return 0
}

# refused ARGS...: exit 2 and exactly one line on stderr naming the tool
refused() {
  run --separate-stderr "$SIM" -q "$@"
  [ "$status" -eq 2 ]
  [ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ]
  [[ $stderr == xpro-sim:* ]]
}

@test "xpro-sim: --help, and bad numbers or options are one line and exit 2" {
  run "$SIM" --help
  [ "$status" -eq 0 ]
  [[ $output == *--scenario* && $output == *--map-size* ]]
  refused --seeds 10x
  refused --seeds nan
  refused --proxies 0
  refused --proxies 1001
  refused --proxies 2.5
  refused --map-size -1
  refused --set tf1=99999999999999999999
  refused --set nosuch=1
  refused --bot-mode sideways
  refused --attack 9-3
  refused --scale ci
  refused --delay-ms 60 --set sync_period_ms=100
  refused --kill-proxy 3:4 --proxies 3
}

@test "xpro-sim: a hostile scenario file is refused with one line" {
  local f=$BATS_TEST_TMPDIR/x.scn
  cp experiments/thresholds.conf "$BATS_TEST_TMPDIR/"
  for body in "[scenario]\nduration = 1e999" "[scenario]\nduration = 10x" "[scenario]\nnosuch = 1" \
              "[nosuch]\na = 1" "[scenario\nduration = 5" "[scenario]\njust a line" \
              "[bots.u]\nbots = 5\nphases = 9-3:100" "[bots.u]\nbots = 5\nphases = 1-3:max" \
              "[bots.u]\nbots = 5" "[scenario]\nduration = 5\nduration = 6" "[events]\n3 = kill-proxy px9" \
              "[events]\n3 = reboot" "[scenario]\nthresholds = ../../etc/passwd" "[replay]\npcap = x" \
              "[scenario]\nseed = -1" "[devices]\ncount = 1.5" "[bots.u]\nbots = 5\nphases = 1-3:100\npulse = 5" \
              "[bots.u]\nbots = 5\nphases = 1-3:100\noptions = --target 198.18.128.0/20" \
              "[scenario]\nidentity = maybe"; do
    printf "$body\n" > "$f"
    refused --scenario "$f"
  done
  printf '[scenario]\ndescription = %s\n' "$(head -c 600 /dev/zero | tr '\0' a)" > "$f"
  refused --scenario "$f"
  printf '[scenario]\nduration = 5\x01\n' > "$f"
  refused --scenario "$f"
  refused --scenario "$BATS_TEST_TMPDIR/absent.scn"
}

@test "xpro-sim: the same seed gives byte-identical output, another seed another" {
  local a=$BATS_TEST_TMPDIR/a b=$BATS_TEST_TMPDIR/b c=$BATS_TEST_TMPDIR/c
  "$SIM" -q -s experiments/lowrate.scn --scale ci --seed 7 -n 2 > "$a"
  "$SIM" -q -s experiments/lowrate.scn --scale ci --seed 7 -n 2 > "$b"
  "$SIM" -q -s experiments/lowrate.scn --scale ci --seed 8 -n 2 > "$c"
  cmp "$a" "$b"
  ! cmp -s "$a" "$c"
}

@test "xpro-sim: one bot at 2 x TF1 on one proxy, worked by hand" {
  # 200 pps from 1 s to 3 s: 400 packets, 5 ms apart. Packet k has a window of
  # 5k ms and a count of k + 1; TF1 applies once the window is above TT2 = 500 ms
  # (k > 100), and then (k + 1) / (5k ms) > 100/s always: packets 0..100 pass
  # (101), the other 299 are dropped for TF1. 200 pps stays under TF2.
  run "$SIM" -q -P 1 -U 0 -B 1 --bot-rate 200 --attack 1-3 --duration 4
  [ "$status" -eq 0 ]
  [ "$(jq .attack_packets_sent <<< "$output")" -eq 400 ]
  [ "$(jq .drop_tf1 <<< "$output")" -eq 299 ]
  [ "$(jq .drop_tf2 <<< "$output")" -eq 0 ]
}

@test "xpro-sim: pulse.scn, each pulse passes for TT2, worked by hand" {
  # 20 bots x 1000 pps from 4 s to 20 s, 1.5 s on / 2.5 s off: 4 pulses of
  # 1,500 packets per bot, 120,000 in all. The 2.5 s off is longer than TT1
  # (2 s): each pulse starts new windows, its packets 0..500 (a window of at
  # most TT2 = 500 ms) pass and the other 999 are dropped for TF1:
  # 20 x 4 x 999 = 79,920. TF2: the victim's aggregate, counted since the
  # devices' first packets at 0 s, stays under 10,000/s (at 8.5 s: 850 + 30,000 +
  # 10,000 packets in 8.5 s, 4,806/s), so no TF2 drop.
  run "$SIM" -q -s experiments/pulse.scn
  [ "$status" -eq 0 ]
  [ "$(jq .attack_packets_sent <<< "$output")" -eq 120000 ]
  [ "$(jq .drop_tf1 <<< "$output")" -eq 79920 ]
  [ "$(jq .drop_tf2 <<< "$output")" -eq 0 ]
}

@test "xpro-sim: hopping bots are invisible to isolated proxies (67 pps each < TF1), caught synced" {
  # hopping.scn at CI scale: 20 bots x 200 pps, each proxy sees a third (67 <
  # TF1 = 100), all bots together 4000 < TF2: isolated proxies drop nothing.
  run "$SIM" -q -s experiments/hopping.scn --scale ci -d xpro-isolated
  [ "$(jq '.drop_tf1 + .drop_tf2' <<< "$output")" -eq 0 ]
  run "$SIM" -q -s experiments/hopping.scn --scale ci -d xpro
  jq -e '.attack_drop_ratio >= 0.9 and .detect_ms <= 700' <<< "$output"
}

@test "xpro-sim: a dead proxy's devices fail over after 3 lost requests, worked by hand" {
  # 30 devices at 1 request/s over 3 proxies, 20 s, no bots; proxy 2 dies at 5 s.
  # Its 10 devices (i = 1 mod 3) each lose failover_after = 3 requests, then move
  # to proxy 3: 30 frames lost of 600 requests, nothing dropped by X-Pro.
  run "$SIM" -q -P 3 -U 30 -B 0 --duration 20 --kill-proxy 5:2
  [ "$status" -eq 0 ]
  [ "$(jq .legit_packets_sent <<< "$output")" -eq 600 ]
  [ "$(jq .dead_frames <<< "$output")" -eq 30 ]
  [ "$(jq '.drop_tf1 + .drop_tf2' <<< "$output")" -eq 0 ]
}

@test "xpro-sim: without the master the hopping bots are not caught, after it heals they are" {
  # hopping at CI scale (attack 1.5-6 s): master cut off for the whole attack,
  # every proxy alone sees 67 pps per bot: no drop; healed at 3 s: TF1 drops
  run "$SIM" -q -s experiments/hopping.scn --scale ci --cut-master 0-7
  [ "$(jq .drop_tf1 <<< "$output")" -eq 0 ]
  run "$SIM" -q -s experiments/hopping.scn --scale ci --cut-master 0-3
  [ "$(jq .drop_tf1 <<< "$output")" -gt 0 ]
}

# validate SCENARIO: the testbed's 5 seeds at CI scale against the simulator's
validate() {
  xp_require_root
  local out=$BATS_TEST_TMPDIR/results s
  timeout 600 /usr/bin/python3 experiments/xpro-exp run "$1" --scale ci --seeds 5 --out "$out" -q
  s=$(ls -d "$out/$1"/*/ | head -n 1)
  "$SIM" -q -s "experiments/$1.scn" --scale ci --seeds 5 > "$BATS_TEST_TMPDIR/sim.json"
  run /usr/bin/python3 sim/validate.py "$s/summary.json" "$BATS_TEST_TMPDIR/sim.json"
  printf '# %s\n' "${lines[@]}" >&3
  [ "$status" -eq 0 ]
}

@test "validation: flood, simulator vs testbed (5 seeds, CI scale)" {
  validate flood
}

@test "validation: hopping, simulator vs testbed (5 seeds, CI scale)" {
  validate hopping
}

@test "validation: lowrate, simulator vs testbed (5 seeds, CI scale)" {
  validate lowrate
}
