#!/usr/bin/env bats
# Alerts a SIEM can read (docs/operations.md, Alerts): warnd's EVE-style
# JSON lines, their rotation by size, the bounded streams on the master, the
# notify hook. 20-dataplane's path, one private redis-server in px serving
# as local and master Redis:
#
#   dev (198.18.0.2) dev0 ==== in0 (198.18.0.1) px (198.18.1.1) out0 ==== vic0 (198.18.1.2) vic
#
# and each host's IPv6 name (2001:db8:: + its IPv4 address, /120), routed
# the same way: dev may send inner IPv6 from 2001:db8::c612:2
# (device_embed6) to vic's 2001:db8::c612:102.

load lib/xpro
load lib/inet6

XPRO=${XPRO_BUILD:-build}/bin/xpro
UDP=${XPRO_BUILD:-build}/tests/tools/xpt-udp

setup_file() {
  xp_require_root
  export DEV PX VIC CONF RPORT LOGDIR NOTIFIED
  xp_proxy_path "" dev0 vic0
  for i in $(seq 10 13); do xp_addr "$DEV" dev0 198.18.0.$i/24; done
  xp6_proxy_path dev0 vic0
  RPORT=$(xp_redis_start "$PX")
  LOGDIR=$BATS_FILE_TMPDIR/log
  NOTIFIED=$BATS_FILE_TMPDIR/notified
  # the notify command: a script run without a shell of ours, stdin appended
  printf '#!/bin/sh\necho "argv: $*" >> %s.argv\ncat >> %s\n' "$NOTIFIED" "$NOTIFIED" > "$BATS_FILE_TMPDIR/notify"
  chmod 755 "$BATS_FILE_TMPDIR/notify"
  CONF=$BATS_FILE_TMPDIR/xpro.conf
  # a proxy id with a quote and a backslash: the lines stay valid JSON
  xp_conf "$CONF" tt1_ms=1000 tt2_ms=200 tt3_ms=300 tf1=50 tf2=100000 warn_interval_ms=100 \
    state_dir="$BATS_FILE_TMPDIR/state" log_dir="$LOGDIR" log_max_kb=2 log_keep=2 \
    redis_local=127.0.0.1:$RPORT redis_master=127.0.0.1:$RPORT 'proxy_id=px"q\1' sync_period_ms=100 t_w=20 \
    notify="$BATS_FILE_TMPDIR/notify" notify_interval_ms=600000 device_embed6=2001:db8::/96
  xp_pin_dir_register "/run/xpro/bpf/$PX"
  xp_exec "$PX" "$XPRO" attach -i in0 -c "$CONF" >/dev/null
}

teardown_file() {
  xp_teardown_all
  xp_exec "$PX" "$XPRO" detach -i in0 -c "$CONF" >/dev/null 2>&1 || true
}

teardown() {
  xp_dump_on_failure
}

rcli() { xp_redis_cli "$RPORT" "$@"; }
log_file() { echo "$LOGDIR/$PX/in0/alerts.jsonl"; }

# flood: five clients at ~500 pps each for 1.2 s, above TF1 = 50
flood() {
  local pids=() i
  for i in 2 10 11 12 13; do
    xp_exec "$DEV" timeout 20 "$UDP" send --proxy 198.18.0.1 --bind 198.18.0.$i --sport $((42000 + i)) \
      --dst 198.18.1.2 --dport 7 --count 600 --interval-us 2000 --wait-ms 0 >/dev/null &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i"; done
}

@test "a flood's alerts: EVE lines (jq), on the master's stream, rotated by size, one notify" {
  wpid=$(xp_spawn --ns "$PX" warnd "$XPRO" warnd -i in0 -c "$CONF")
  xp_spawn --ns "$PX" syncmaps "$XPRO" syncmaps -i in0 -c "$CONF" >/dev/null
  xp_spawn --ns "$PX" syncdb "$XPRO" syncdb -i in0 -c "$CONF" >/dev/null
  sleep 0.5
  t0=$(date -u +%s)
  flood
  sleep 1
  f=$(log_file)
  [ -s "$f" ]
  # every line of every file is one JSON object of the EVE shape
  for x in "$f" "$f".1; do
    [ -s "$x" ] || continue
    jq -e -c 'select(.event_type != "alert" or (.timestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$") | not))' "$x" && return 1
    jq -e -s 'length > 0' "$x"
  done
  line=$(head -1 "$f")
  [ "$(jq -r .proxy <<< "$line")" = 'px"q\1' ]
  [ "$(jq -r .destination <<< "$line")" = 198.18.1.2 ]
  [ "$(jq -r .reason <<< "$line")" = tf1 ]
  [ "$(jq -r .threshold_pps <<< "$line")" = 50 ]
  # a client at ~500 pps, measured over at least TT2 = 200 ms: far above 50
  jq -e '.rate_pps > 100 and .count > 0' <<< "$line"
  # the timestamp is UTC now (TAI converted), within the test's few seconds
  ts=$(date -u -d "$(jq -r .timestamp <<< "$line")" +%s)
  (( ts >= t0 - 2 && ts <= $(date -u +%s) + 1 ))
  # all five clients warned about, across the rotated files
  [ "$(cat "$f" "$f".1 2>/dev/null | jq -r .client | sort -u | wc -l)" -ge 3 ]
  # rotation: 2 KiB a file, two kept, nothing beyond
  [ -s "$f".1 ]
  [ ! -e "$f".3 ]
  for x in "$f" "$f".1 "$f".2; do [ ! -e "$x" ] || (( $(stat -c %s "$x") <= 2048 )); done
  # the stream on the master keeps them, each one valid JSON
  n=$(rcli XLEN xpro:warnings:log)
  (( n >= 5 ))
  rcli XRANGE xpro:warnings:log - + COUNT 1 | sed -n 3p | jq -e '.event_type == "alert" and .proxy == "px\"q\\1"'
  # W above T_W = 20 packets/s: syncdb's overload alert, kept in its stream
  rcli XRANGE xpro:alerts:log - + | grep '^{' | head -1 | jq -e '.type == "overload"'
  # one notify (notify_interval_ms is ten minutes), its stdin one warning
  [ "$(wc -l < "$NOTIFIED")" -eq 1 ]
  jq -e '.event_type == "alert"' "$NOTIFIED"
  [ "$(cat "$NOTIFIED".argv)" = "argv: warning" ]
  # xpro alerts -i reads the same log
  run xp_exec "$PX" "$XPRO" alerts -i in0 -c "$CONF" --count 1
  assert_success
  assert_output "$(head -1 "$f")"
  kill "$wpid"
}

@test "an inner IPv6 flood's warnings: the destination by its IPv6 name in the EVE line, the log, the master's stream and xpro alerts -j" {
  D6=2001:db8::c612:102
  : > "$(log_file)"
  wpid=$(xp_spawn --ns "$PX" warnd "$XPRO" warnd -i in0 -c "$CONF")
  sleep 0.5
  # one client at ~500 packets/s for 1.2 s, above TF1 = 50 (xpt-udp --six:
  # inner 2001:db8::c612:2 -> 2001:db8::c612:102)
  xp_exec "$DEV" timeout 20 "$UDP" send --six --proxy 198.18.0.1 --dst 198.18.1.2 --dport 7 \
    --count 600 --interval-us 2000 --wait-ms 0 >/dev/null
  sleep 1
  f=$(log_file)
  # the client is the outer (tunnel) source, IPv4; the destination the inner IPv6 one
  warned6() { cat "$f" "$f".1 2>/dev/null | jq -r --arg d $D6 'select(.destination == $d) | "\(.client) \(.src_ip) \(.dest_ip) \(.dest) \(.reason)"'; }
  run warned6
  assert_line "198.18.0.2 198.18.0.2 $D6 $D6 tf1"
  rcli XRANGE xpro:warnings:log - + | grep '^{' | jq -e -s --arg d $D6 'any(.[]; .destination == $d and .client == "198.18.0.2")'
  run xp_exec "$PX" "$XPRO" alerts -i in0 -c "$CONF" --count 50 -j
  assert_success
  jq -e -s --arg d $D6 'any(.[]; .destination == $d)' <<< "$output"
  kill "$wpid"
}
