#!/usr/bin/env bats
# xpro exporter: /metrics of a live proxy during a flood, the node_exporter
# textfile, and hostile HTTP. The path is 20-dataplane's:
#
#   dev (198.18.0.2) dev0 ==== in0 (198.18.0.1) px (198.18.1.1) out0 ==== vic0 (198.18.1.2) vic
#
# with syncmaps and syncdb on one private redis-server in px (local and
# master at once), so the sync families have values.

load lib/xpro

XPRO=${XPRO_BUILD:-build}/bin/xpro
UDP=${XPRO_BUILD:-build}/tests/tools/xpt-udp

setup_file() {
  xp_require_root
  command -v promtool >/dev/null || { echo "promtool missing: make deps (prometheus)" >&2; return 1; }
  export DEV PX VIC CONF STATE PORT RPORT
  xp_proxy_path "" dev0 vic0
  STATE=$BATS_FILE_TMPDIR/state
  CONF=$BATS_FILE_TMPDIR/xpro.conf
  RPORT=$(xp_redis_start "$PX")
  xp_conf "$CONF" tt1_ms=1000 tt2_ms=200 tt3_ms=300 tf1=50 tf2=400 max_records=65536 max_dests=1024 \
    warn_interval_ms=100 state_dir="$STATE" redis_local=127.0.0.1:$RPORT redis_master=127.0.0.1:$RPORT \
    proxy_id=px-one sync_period_ms=200 t_w=1000
  xp_pin_dir_register "/run/xpro/bpf/$PX"
  xp_exec "$PX" "$XPRO" attach -i in0 -c "$CONF" >/dev/null
  PORT=19477
  xp_spawn --ns "$PX" syncmaps "$XPRO" syncmaps -i in0 -c "$CONF" >/dev/null
  xp_spawn --ns "$PX" syncdb "$XPRO" syncdb -i in0 -c "$CONF" >/dev/null
  xp_spawn --ns "$PX" exporter "$XPRO" exporter -i in0 -c "$CONF" --listen 127.0.0.1:$PORT >/dev/null
  sleep 1
}

teardown_file() {
  xp_teardown_all
  xp_exec "$PX" "$XPRO" detach -i in0 -c "$CONF" >/dev/null 2>&1 || true
}

teardown() {
  xp_dump_on_failure
}

scrape() { xp_exec "$PX" curl -sS --max-time 5 "http://127.0.0.1:$PORT${1:-/metrics}"; }
# value FILE SERIES: the value of one series (name and labels as printed)
# (the series through the environment: awk -v would unescape its \")
value() { S=$2 awk 'index($0, ENVIRON["S"] " ") == 1 { print $NF }' "$1"; }

@test "a scrape during a flood passes promtool, and the counters move by what was sent" {
  scrape > "$BATS_TEST_TMPDIR/before.prom"
  promtool check metrics < "$BATS_TEST_TMPDIR/before.prom"
  # 600 packets at ~1000 pps from one pair: above TF1 = 50 pps
  xp_exec "$DEV" timeout 20 "$UDP" send --proxy 198.18.0.1 --dst 198.18.1.2 --dport 7 \
    --count 600 --interval-us 1000 --wait-ms 0 >/dev/null &
  sender=$!
  sleep 0.3
  scrape > "$BATS_TEST_TMPDIR/during.prom"
  wait "$sender"
  sleep 0.5
  scrape > "$BATS_TEST_TMPDIR/after.prom"
  run promtool check metrics < "$BATS_TEST_TMPDIR/during.prom"
  echo "$output"
  [ "$status" -eq 0 ]
  promtool check metrics < "$BATS_TEST_TMPDIR/after.prom"
  L='proxy="px-one",interface="in0"'
  b_drop=$(value "$BATS_TEST_TMPDIR/before.prom" "xpro_packets_reason_total{$L,verdict=\"drop\",reason=\"tf1\"}")
  a_drop=$(value "$BATS_TEST_TMPDIR/after.prom" "xpro_packets_reason_total{$L,verdict=\"drop\",reason=\"tf1\"}")
  b_pass=$(value "$BATS_TEST_TMPDIR/before.prom" "xpro_packets_verdict_total{$L,verdict=\"pass\"}")
  a_pass=$(value "$BATS_TEST_TMPDIR/after.prom" "xpro_packets_verdict_total{$L,verdict=\"pass\"}")
  a_vdrop=$(value "$BATS_TEST_TMPDIR/after.prom" "xpro_packets_verdict_total{$L,verdict=\"drop\"}")
  echo "drop tf1 $b_drop -> $a_drop, pass $b_pass -> $a_pass"
  (( a_drop > b_drop ))
  # every packet of the flood was passed or dropped by TF1, none twice
  (( (a_drop - b_drop) + (a_pass - b_pass) == 600 ))
  # the verdict family sums what the reason family says, once
  sum_reason=$(S="xpro_packets_reason_total{$L,verdict=\"drop\"," awk 'index($0, ENVIRON["S"]) == 1 { t += $NF } END { print t }' \
    "$BATS_TEST_TMPDIR/after.prom")
  [ "$sum_reason" -eq "$a_vdrop" ]
  # fill against capacity: one record of 65536, one destination of 1024
  [ "$(value "$BATS_TEST_TMPDIR/after.prom" "xpro_records{$L}")" -eq 1 ]
  [ "$(value "$BATS_TEST_TMPDIR/after.prom" "xpro_records_capacity{$L}")" -eq 65536 ]
  [ "$(value "$BATS_TEST_TMPDIR/after.prom" "xpro_destinations_capacity{$L}")" -eq 1024 ]
  [ "$(value "$BATS_TEST_TMPDIR/after.prom" "xpro_workload_threshold_pps{$L}")" -eq 1000 ]
}

@test "the sync daemons' families: running, lag, periods, overruns, Redis, W" {
  scrape > "$BATS_TEST_TMPDIR/m.prom"
  L='proxy="px-one",interface="in0"'
  for d in syncmaps syncdb; do
    [ "$(value "$BATS_TEST_TMPDIR/m.prom" "xpro_sync_running{$L,daemon=\"$d\"}")" -eq 1 ]
    (( $(value "$BATS_TEST_TMPDIR/m.prom" "xpro_sync_periods_total{$L,daemon=\"$d\"}") >= 2 ))
    [ -n "$(value "$BATS_TEST_TMPDIR/m.prom" "xpro_sync_period_overruns_total{$L,daemon=\"$d\"}")" ]
    [ -n "$(value "$BATS_TEST_TMPDIR/m.prom" "xpro_redis_errors_total{$L,daemon=\"$d\"}")" ]
    lag=$(value "$BATS_TEST_TMPDIR/m.prom" "xpro_sync_lag_seconds{$L,daemon=\"$d\"}")
    # a period is 0.2 s: the last complete one ended less than 5 s ago
    awk -v l="$lag" 'BEGIN { exit !(l >= 0 && l < 5) }'
  done
  [ "$(value "$BATS_TEST_TMPDIR/m.prom" "xpro_redis_up{$L,daemon=\"syncdb\",server=\"master\"}")" -eq 1 ]
  [ -n "$(value "$BATS_TEST_TMPDIR/m.prom" "xpro_workload_pps{$L}")" ]
  # sync_period_ms = 200
  [ "$(value "$BATS_TEST_TMPDIR/m.prom" "xpro_sync_period_seconds{$L,daemon=\"syncdb\"}")" = 0.2 ]
}

@test "malformed, oversized and idle HTTP requests do not stop it from serving" {
  pid=$(pgrep -f "exporter -i in0 -c $CONF" | head -1)
  [ -n "$pid" ]
  xp_exec "$PX" timeout 60 python3 - "$PORT" <<'EOF'
import socket, sys
port = int(sys.argv[1])
def send(data, read=True):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        s.sendall(data)
        if read:
            s.recv(4096)
    except OSError:
        pass
    return s
for d in [b"\x00\xff garbage\r\n\r\n", b"GET\r\n\r\n", b"GET /metrics HTTP/9.9\r\n\r\n",
          b"GET /" + b"a" * 200000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
          b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * 300000 + b"\r\n\r\n",
          b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" + b"c" * 100000,
          b"GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
          b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n"]:
    send(d).close()
# idle connections that never finish their request (more than the limit)
idle = [send(b"GET /metrics HTTP/1.1\r\n", read=False) for _ in range(40)]
for s in idle:
    s.close()
EOF
  kill -0 "$pid"
  # the closed connections are reaped (at most the 10 s timeout), then it serves
  for _ in $(seq 40); do scrape >/dev/null 2>&1 && break; sleep 0.25; done
  run scrape
  assert_success
  assert_output --partial "xpro_up{"
  # what is not /metrics, or not GET
  [ "$(xp_exec "$PX" curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nope")" = 404 ]
  [ "$(xp_exec "$PX" curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$PORT/metrics")" = 405 ]
}

@test "it listens on loopback unless told otherwise" {
  run xp_exec "$PX" ss -Hltn "sport = :$PORT"
  assert_output --partial "127.0.0.1:$PORT"
  run xp_exec "$PX" "$XPRO" exporter -i in0 -c "$CONF" --listen 198.18.0.1:99999 --duration 0.2
  [ "$status" -ne 0 ]
  assert_output --partial "--listen"
}

@test "the textfile is written whole and passes promtool; stats --prom is the same families" {
  f=$BATS_TEST_TMPDIR/xpro.prom
  run xp_exec "$PX" "$XPRO" exporter -i in0 -c "$CONF" --textfile "$f" --interval 0.1 --duration 0.5
  assert_success
  promtool check metrics < "$f"
  # no HTTP without --listen: nothing but the first exporter on a port
  grep -q '^xpro_packets_verdict_total{' "$f"
  [ -z "$(ls "$BATS_TEST_TMPDIR" | grep '\.tmp$')" ]
  xp_exec "$PX" "$XPRO" stats -i in0 -c "$CONF" --prom > "$BATS_TEST_TMPDIR/stats.prom"
  promtool check metrics < "$BATS_TEST_TMPDIR/stats.prom"
  diff <(grep '^# TYPE' "$f") <(grep '^# TYPE' "$BATS_TEST_TMPDIR/stats.prom")
  # no family mixes events with packets, and none counts rx
  ! grep -q 'counter="rx"\|reason="rx"' "$BATS_TEST_TMPDIR/stats.prom" || false
  # a proxy id with a quote and a backslash is escaped in the labels
  xp_exec "$PX" "$XPRO" stats -i in0 -c "$CONF" --prom --set 'proxy_id=p"x\y' > "$BATS_TEST_TMPDIR/q.prom"
  promtool check metrics < "$BATS_TEST_TMPDIR/q.prom"
  grep -qF 'xpro_up{proxy="p\"x\\y",interface="in0"} 1' "$BATS_TEST_TMPDIR/q.prom"
}

@test "contrib: the alert rules and the dashboard's queries pass promtool; every query names a metric the exporter writes" {
  run promtool check rules contrib/prometheus/xpro-rules.yml
  assert_success
  jq -e '.panels | length > 0' contrib/grafana/xpro.json
  # Grafana is not in Debian: its queries become recording rules for promtool
  # (Grafana's variables replaced by what they expand to)
  rules=$BATS_TEST_TMPDIR/dash-rules.yml
  { echo "groups:"; echo "  - name: dashboard"; echo "    rules:"
    jq -r '.panels[].targets[].expr' contrib/grafana/xpro.json | sed 's/\$__rate_interval/1m/g; s/\$proxy/.*/g' |
      awk '{ gsub(/\047/, "\047\047"); printf "      - record: dashboard:q%d\n        expr: \047%s\047\n", NR, $0 }'
  } > "$rules"
  run promtool check rules "$rules"
  echo "$output"
  assert_success
  xp_exec "$PX" "$XPRO" stats -i in0 -c "$CONF" --prom > "$BATS_TEST_TMPDIR/s.prom"
  scrape >> "$BATS_TEST_TMPDIR/s.prom"
  for m in $(cat contrib/grafana/xpro.json contrib/prometheus/xpro-rules.yml | grep -o 'xpro_[a-z_]*' | sort -u); do
    grep -q "^# TYPE $m " "$BATS_TEST_TMPDIR/s.prom" || { echo "no family $m"; return 1; }
  done
}
