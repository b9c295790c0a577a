#!/usr/bin/env bats
# The device side of the X-Pro tunnel (xpro-tun, xpro-device) against real
# X-Pro proxies:
#
#   dev 198.18.0.100 eth0 ─┐            ┌─ in0 198.18.0.1  px1  out0 198.18.1.1 ─┐
#   (local 198.18.16.0/20,  ├─ br-acc ──┤                                          ├─ br-vic ─ vic eth0
#    xpro-tun on eth0)     ─┘            └─ in0 198.18.0.2  px2  out0 198.18.1.2 ─┘   198.18.1.101, .103
#
# Both bridges live in a core namespace. The proxies run `xpro attach` on in0
# (tunnel mode, thresholds far above anything sent here). The device routes
# the victims' segment via px1 with `mtu 1468` (1500 - 32 bytes of tunnel);
# the victim routes the device range back via px2 (replies are plain IPv4),
# so that px1 can be cut off in the failover tests without losing replies.
# Victim-side responder: tests/tools/xpt-resp (HTTP 80, CoAP 5684, MQTT 1883).

load lib/xpro
load lib/inet6

B=${XPRO_BUILD:-build}
XPRO=$B/bin/xpro
TUN=$B/bin/xpro-tun
DEVICE=$B/bin/xpro-device
UDP=$B/tests/tools/xpt-udp
RESP=$B/tests/tools/xpt-resp

setup_file() {
  xp_require_root
  export CORE DEV PX1 PX2 VIC CONF
  CORE=$(xp_ns_new core)
  DEV=$(xp_ns_new dev)
  PX1=$(xp_ns_new px1)
  PX2=$(xp_ns_new px2)
  VIC=$(xp_ns_new vic)
  ip -n "$CORE" link add br-acc type bridge stp_state 0 forward_delay 0 mcast_snooping 0
  ip -n "$CORE" link add br-vic type bridge stp_state 0 forward_delay 0 mcast_snooping 0
  ip -n "$CORE" link set br-acc up
  ip -n "$CORE" link set br-vic up
  xp_veth "$DEV" eth0 "$CORE" dev.eth0
  xp_veth "$PX1" in0 "$CORE" px1.in0
  xp_veth "$PX1" out0 "$CORE" px1.out0
  xp_veth "$PX2" in0 "$CORE" px2.in0
  xp_veth "$PX2" out0 "$CORE" px2.out0
  xp_veth "$VIC" eth0 "$CORE" vic.eth0
  for p in dev.eth0 px1.in0 px2.in0; do ip -n "$CORE" link set "$p" master br-acc; done
  for p in px1.out0 px2.out0 vic.eth0; do ip -n "$CORE" link set "$p" master br-vic; done
  # a NAPI on the bridge-side peer of every proxy interface (GRO toggled once up)
  for p in px1.in0 px1.out0 px2.in0 px2.out0; do xp_gro_napi "$CORE" "$p"; done
  xp_addr "$DEV" eth0 198.18.0.100/24
  xp_addr "$PX1" in0 198.18.0.1/24
  xp_addr "$PX1" out0 198.18.1.1/24
  xp_addr "$PX2" in0 198.18.0.2/24
  xp_addr "$PX2" out0 198.18.1.2/24
  xp_addr "$VIC" eth0 198.18.1.101/24
  xp_addr "$VIC" eth0 198.18.1.103/24
  ip -n "$DEV" route add local 198.18.16.0/20 dev lo
  ip -n "$DEV" route add 198.18.1.0/24 via 198.18.0.1 dev eth0 mtu 1468
  ip -n "$VIC" route add 198.18.16.0/20 via 198.18.1.2
  ip -n "$VIC" route add 198.18.0.0/24 via 198.18.1.2
  CONF=$BATS_FILE_TMPDIR/xpro.conf
  # device_embed6: a device's inner IPv6 source may be the IPv6 name of its outer address
  printf 'tf1 = 100000\ntf2 = 1000000\nstate_dir = %s\ndevice_embed6 = 2001:db8::/96\n' "$BATS_FILE_TMPDIR/state" > "$CONF"
  for px in "$PX1" "$PX2"; do
    ip -n "$px" route add 198.18.16.0/20 via 198.18.0.100
    xp_exec "$px" sysctl -qw net.ipv4.ip_forward=1
    ip -n "$px" neigh replace 198.18.1.101 dev out0 managed
    ip -n "$px" neigh replace 198.18.1.103 dev out0 managed
    xp_pin_dir_register "/run/xpro/bpf/$px"
    xp_exec "$px" timeout 20 "$XPRO" attach -i in0 -c "$CONF" >/dev/null
  done
}

teardown_file() {
  for px in "$PX1" "$PX2"; do
    xp_exec "$px" timeout 20 "$XPRO" detach -i in0 -c "$CONF" >/dev/null 2>&1 || true
  done
  xp_teardown_all
}

setup() {
  # every test starts with the tunnel attached in fixed mode to px1, px2
  if ! xp_exec "$DEV" "$TUN" status eth0 >/dev/null 2>&1; then
    xp_exec "$DEV" timeout 10 "$TUN" attach eth0 --proxy 198.18.0.1,198.18.0.2 >/dev/null
  fi
  xp_exec "$DEV" timeout 10 "$TUN" set eth0 --proxy 198.18.0.1,198.18.0.2 --mode fixed >/dev/null
  ip -n "$PX1" link set in0 up
  for px in "$PX1" "$PX2"; do xp_exec "$px" timeout 10 "$XPRO" flush -i in0 -c "$CONF" >/dev/null; done
  snap base
}

teardown() {
  xp_dump_on_failure
  xp_teardown_all
}

tun() { xp_exec "$DEV" timeout 10 "$TUN" "$@"; }
pxstat() { xp_exec "$1" timeout 10 "$XPRO" stats -i in0 -c "$CONF" --json; }
# snap NAME: tunnel status and both proxies' stats, for deltas
snap() {
  tun status eth0 --json > "$BATS_TEST_TMPDIR/$1.tun.json"
  pxstat "$PX1" > "$BATS_TEST_TMPDIR/$1.px1.json"
  pxstat "$PX2" > "$BATS_TEST_TMPDIR/$1.px2.json"
}
# d FILE-KIND JQ: the increase of a number since the test's setup
d() {
  local now
  case $1 in
    tun) now=$(tun status eth0 --json | jq -r "$2") ;;
    px1) now=$(pxstat "$PX1" | jq -r "$2") ;;
    px2) now=$(pxstat "$PX2" | jq -r "$2") ;;
  esac
  echo $((now - $(jq -r "$2" "$BATS_TEST_TMPDIR/base.$1.json")))
}
# packets a proxy passed (forwarded by XDP or handed to its kernel after decapsulation)
passed() { echo $(($(d "$1" .counters.pass_redirect) + $(d "$1" .counters.pass_kernel) + $(d "$1" .counters.pass_tx))); }

# responder on the victim for S seconds; its JSON in $BATS_TEST_TMPDIR/resp.json
responder() {
  xp_exec "$VIC" timeout 60 "$RESP" --duration "$1" > "$BATS_TEST_TMPDIR/resp.json" &
  RESP_PID=$!
  sleep 0.3
}

@test "xpro-tun attach: refuses a second attach, says what it changed, status shows the proxies" {
  run tun attach eth0 --proxy 198.18.0.1
  assert_failure
  assert_output --partial "already attached"
  run tun status eth0 --json
  assert_success
  [ "$(jq -c '[.mode, [.proxies[] | "\(.addr):\(.port) \(.up)"]]' <<< "$output")" = \
    '["fixed",["198.18.0.1:5683 true","198.18.0.2:5683 true"]]' ]
  # the filter sits on clsact egress; offloads off and gso_max_segs 1 while attached
  run ip -n "$DEV" -d link show eth0
  assert_output --partial "gso_max_segs 1 "
  run xp_exec "$DEV" ethtool -k eth0
  assert_output --partial "tx-checksumming: off"
  run tc -n "$DEV" filter show dev eth0 egress
  assert_output --partial "xpro_tun_egress"
}

@test "an HTTP request from a device address reaches the victim through px1 and is answered" {
  responder 4
  run xp_exec "$DEV" timeout 10 curl -sS --max-time 5 --interface 198.18.16.5 http://198.18.1.101/hello
  assert_success
  # the victim saw the device's own (inner) source address and answered it
  assert_output "from 198.18.16.5: 0 body bytes"
  wait "$RESP_PID"
  run jq -c '[.http, .sources]' "$BATS_TEST_TMPDIR/resp.json"
  assert_output '[1,{"198.18.16.5":1}]'
  enc=$(d tun .counters.encap)
  echo "encapsulated=$enc px1 passed=$(passed px1) px2 passed=$(passed px2)"
  # at least SYN, ACK, request, FIN; every one of them wrapped, all to px1 (fixed mode)
  [ "$enc" -ge 4 ]
  [ "$(d tun '.proxies[0].packets')" -eq "$enc" ]
  [ "$(d tun '.proxies[1].packets')" -eq 0 ]
  # and px1's X-Pro decapsulated and passed each of them, keyed on the outer source
  [ "$(passed px1)" -eq "$enc" ]
  [ "$(passed px2)" -eq 0 ]
  [ "$(pxstat "$PX1" | jq -r '[.top[] | select(.client == "198.18.16.5") | .dest] | join(",")')" = 198.18.1.101 ]
  [ "$(d tun .counters.drop_gso)" -eq 0 ]
}

@test "UDP request/response from a kernel socket: 20 sent, 20 through px1, 20 answered" {
  xp_exec "$VIC" timeout 30 "$UDP" echo --port 7 --duration 3 --reply > "$BATS_TEST_TMPDIR/echo.json" &
  epid=$!
  sleep 0.3
  run xp_exec "$DEV" timeout 20 "$UDP" send --plain --bind 198.18.16.9 --sport 40009 \
      --dst 198.18.1.101 --dport 7 --count 20 --interval-us 20000 --wait-ms 800
  assert_success
  assert_output '{"sent":20,"replies":20}'
  wait "$epid"
  run jq -c '[.received, .sources]' "$BATS_TEST_TMPDIR/echo.json"
  assert_output '[20,{"198.18.16.9":20}]'
  [ "$(d tun '.proxies[0].packets')" -eq 20 ]
  [ "$(passed px1)" -eq 20 ]
}

@test "TCP: full-size segments fit with the route's mtu 1468; without it they are dropped as too big" {
  head -c 200000 /dev/zero > "$BATS_TEST_TMPDIR/up.bin"
  responder 8
  run xp_exec "$DEV" timeout 10 curl -sS --max-time 6 --interface 198.18.16.6 \
      --data-binary @"$BATS_TEST_TMPDIR/up.bin" http://198.18.1.101/up
  assert_success
  assert_output "from 198.18.16.6: 200000 body bytes"
  # 200000 bytes in segments of at most 1468 - 20 - 20 - 12 (timestamps) = 1416 bytes: >= 142 packets
  [ "$(d tun .counters.encap)" -ge 142 ]
  [ "$(d tun .counters.drop_too_big)" -eq 0 ]
  # the negative control: the route at the link's 1500 -> 1500 + 32 cannot leave
  ip -n "$DEV" route replace 198.18.1.0/24 via 198.18.0.1 dev eth0
  run xp_exec "$DEV" timeout 10 curl -sS --max-time 2 --interface 198.18.16.7 \
      --data-binary @"$BATS_TEST_TMPDIR/up.bin" http://198.18.1.101/up
  ip -n "$DEV" route replace 198.18.1.0/24 via 198.18.0.1 dev eth0 mtu 1468
  assert_failure
  [ "$(d tun .counters.drop_too_big)" -gt 0 ]
  wait "$RESP_PID"
  [ "$(jq -r .http_body_bytes "$BATS_TEST_TMPDIR/resp.json")" -eq 200000 ]
}

@test "spread mode: the inner destination's hash picks the proxy" {
  tun set eth0 --mode spread
  # slot = ((ip * 2654435761) mod 2^32 >> 16) mod 2, ip as a host-order integer (docs/xpro-tun.md)
  slot() { local a=$(( (198 << 24) | (18 << 16) | (1 << 8) | $1 )); echo $(( (((a * 2654435761) & 0xFFFFFFFF) >> 16) % 2 )); }
  [ "$(slot 101)" -eq 0 ]   # 198.18.1.101 -> px1
  [ "$(slot 103)" -eq 1 ]   # 198.18.1.103 -> px2
  # no replies asked for: the victim answers from its primary address, which a
  # connected socket would not take for .103's
  xp_exec "$VIC" timeout 30 "$UDP" echo --port 7 --duration 2 > "$BATS_TEST_TMPDIR/echo.json" &
  epid=$!
  sleep 0.3
  xp_exec "$DEV" timeout 20 "$UDP" send --plain --bind 198.18.16.10 --sport 40010 \
      --dst 198.18.1.101 --dport 7 --count 10 --interval-us 10000 --wait-ms 0
  xp_exec "$DEV" timeout 20 "$UDP" send --plain --bind 198.18.16.10 --sport 40011 \
      --dst 198.18.1.103 --dport 7 --count 15 --interval-us 10000 --wait-ms 0
  wait "$epid"
  run jq -c '[.received, .sources]' "$BATS_TEST_TMPDIR/echo.json"
  assert_output '[25,{"198.18.16.10":25}]'
  [ "$(d tun '.proxies[0].packets')" -eq 10 ]
  [ "$(d tun '.proxies[1].packets')" -eq 15 ]
  [ "$(passed px1)" -eq 10 ]
  [ "$(passed px2)" -eq 15 ]
}

@test "failover mode: the first proxy marked up; none up drops and counts" {
  tun set eth0 --mode failover --down 198.18.0.1
  run tun status eth0
  assert_output --partial "proxy 0: 198.18.0.1:5683 down"
  run xp_exec "$DEV" timeout 20 "$UDP" send --plain --bind 198.18.16.11 --dst 198.18.1.101 --dport 9 \
      --count 12 --interval-us 5000 --wait-ms 0
  assert_output '{"sent":12,"replies":0}'
  [ "$(d tun '.proxies[0].packets')" -eq 0 ]
  [ "$(d tun '.proxies[1].packets')" -eq 12 ]
  [ "$(passed px2)" -eq 12 ]
  tun set eth0 --down all
  run xp_exec "$DEV" timeout 20 "$UDP" send --plain --bind 198.18.16.11 --dst 198.18.1.101 --dport 9 \
      --count 7 --interval-us 5000 --wait-ms 0
  [ "$(d tun .counters.drop_no_proxy)" -eq 7 ]
  [ "$(d tun .counters.encap)" -eq 12 ]
  # a per-source choice wins over the mode (even with every proxy down)
  tun set eth0 --src 198.18.16.12=198.18.0.1
  xp_exec "$DEV" timeout 20 "$UDP" send --plain --bind 198.18.16.12 --dst 198.18.1.101 --dport 9 \
      --count 5 --interval-us 5000 --wait-ms 0
  [ "$(d tun '.proxies[0].packets')" -eq 5 ]
  tun set eth0 --src 198.18.16.12=none --up all
  [ "$(tun status eth0 --json | jq -r .sources)" -eq 0 ]
}

@test "xpro-tun refuses what is outside the testbed and names the problem" {
  run tun set eth0 --proxy 10.0.0.1
  assert_failure
  assert_output --partial "refusing destination 10.0.0.1: outside the testbed range 198.18.0.0/15"
  run tun attach nosuch0 --proxy 198.18.0.1
  assert_failure
  assert_output --partial "interface nosuch0: no such interface"
  run tun set eth0 --down 198.18.0.9
  assert_failure
  assert_output --partial "198.18.0.9 is not one of the proxies"
  # the initial namespace: refused before anything is looked at
  run timeout 10 "$TUN" attach xpt-none0 --proxy 198.18.0.1
  assert_failure
  assert_output --partial "refusing to run in the initial network namespace"
  run "$TUN" --help
  assert_success
  assert_output --partial "usage: xpro-tun attach DEV"
}

@test "xpro-tun detach restores the offloads and leaves no filter" {
  run tun detach eth0
  assert_success
  assert_output --partial "detached from eth0"
  run tc -n "$DEV" filter show dev eth0 egress
  refute_output --partial "xpro_tun_egress"
  run ip -n "$DEV" -d link show eth0
  assert_output --partial "gso_max_segs 65535 "
  run xp_exec "$DEV" ethtool -k eth0
  assert_output --partial "tx-checksumming: on"
  run tun status eth0
  assert_failure
  assert_output --partial "interface eth0: not attached"
}

# ---- xpro-device -----------------------------------------------------------

# xpro-sink on the victim for S seconds (wait for it: the summary is written at the
# end); summary in $BATS_TEST_TMPDIR/sink.json
sink() {
  xp_exec "$VIC" timeout 60 "$B/bin/xpro-sink" --duration "$1" --iface eth0 \
    --summary "$BATS_TEST_TMPDIR/sink.json" 2> "$BATS_TEST_TMPDIR/sink.err" &
  SINK_PID=$!
  for _ in $(seq 50); do grep -q "ready" "$BATS_TEST_TMPDIR/sink.err" && break; sleep 0.1; done
}

@test "xpro-device: asked for 40 requests, 40 sent, answered by xpro-sink and logged" {
  sink 4
  run xp_exec "$DEV" timeout 30 "$DEVICE" --target 198.18.1.101 --devices 5 --proto mix --period 100 \
      --count 40 --duration 6 --seed 7 --log "$BATS_TEST_TMPDIR/sent.csv" \
      --latency "$BATS_TEST_TMPDIR/lat.csv" --summary "$BATS_TEST_TMPDIR/dev.json"
  assert_success
  wait "$SINK_PID"
  S=$BATS_TEST_TMPDIR/dev.json
  [ "$(jq -c '[.requests, .ok, .timeouts, .failed, .failovers, .stopped_by]' "$S")" = '[40,40,0,0,0,"count"]' ]
  # one latency row per request, all answered, from the five device addresses
  [ "$(head -1 "$BATS_TEST_TMPDIR/lat.csv")" = "ts_ms,src,dst,class,rtt_us,ok" ]
  [ "$(tail -n +2 "$BATS_TEST_TMPDIR/lat.csv" | wc -l)" -eq 40 ]
  [ "$(tail -n +2 "$BATS_TEST_TMPDIR/lat.csv" | awk -F, '$6 == 1 && $3 == "198.18.1.101" && $4 == "legit"' | wc -l)" -eq 40 ]
  [ "$(tail -n +2 "$BATS_TEST_TMPDIR/lat.csv" | cut -d, -f2 | sort -u | tr '\n' ' ')" = \
    "198.18.16.1 198.18.16.2 198.18.16.3 198.18.16.4 198.18.16.5 " ]
  # messages sent: mix makes devices 1 and 3 (198.18.16.2, .4) MQTT; with QoS 1 every
  # message is a request (CONNECT, PUBLISH), plus one DISCONNECT each at the end: 40 + 2
  [ "$(head -1 "$BATS_TEST_TMPDIR/sent.csv")" = "ts,src,dst,class,packets,bytes" ]
  [ "$(tail -n +2 "$BATS_TEST_TMPDIR/sent.csv" | awk -F, '{p += $5; b += $6} END {print p, b}')" = \
    "$(jq -r '"\(.packets) \(.bytes)"' "$S")" ]
  [ "$(jq -r .packets "$S")" -eq 42 ]
  # the victim service answered exactly those 40 requests
  [ "$(jq -r .requests_answered "$BATS_TEST_TMPDIR/sink.json")" -eq 40 ]
  [ "$(jq -r .requests.mqtt "$BATS_TEST_TMPDIR/sink.json")" -eq "$(jq -r .by_proto.mqtt.requests "$S")" ]
  # per-device proxies (spread start: device k on proxy k mod 2): CoAP devices 0, 2, 4
  # went through px1, MQTT devices 1, 3 through px2; the per-source entries are gone after
  [ "$(pxstat "$PX1" | jq -r '[.top[].client] | unique | join(" ")')" = "198.18.16.1 198.18.16.3 198.18.16.5" ]
  [ "$(pxstat "$PX2" | jq -r '[.top[].client] | unique | join(" ")')" = "198.18.16.2 198.18.16.4" ]
  [ "$(tun status eth0 --json | jq -r .sources)" -eq 0 ]
}

@test "xpro-device: when px1 stops answering, every device fails over to px2 and delivery resumes" {
  sink 8
  xp_exec "$DEV" timeout 30 "$DEVICE" --target 198.18.1.101 --devices 4 --proto mix --period 100 \
      --timeout 300 --failover-after 2 --proxy-start first --duration 6 --seed 3 \
      --latency "$BATS_TEST_TMPDIR/lat.csv" --summary "$BATS_TEST_TMPDIR/dev.json" \
      2> "$BATS_TEST_TMPDIR/dev.err" &
  dpid=$!
  sleep 2
  # cut px1 off the access segment: tunnel packets to it are lost from now on
  cut_ms=$(date +%s%3N)
  ip -n "$PX1" link set in0 down
  px1_at_cut=$(tun status eth0 --json | jq -r '.proxies[0].packets')
  wait "$dpid"
  px1_after=$(tun status eth0 --json | jq -r '.proxies[0].packets')
  ip -n "$PX1" link set in0 up
  wait "$SINK_PID"
  cat "$BATS_TEST_TMPDIR/dev.err"
  S=$BATS_TEST_TMPDIR/dev.json
  # all four devices started on px1 (--proxy-start first): four failovers, none back
  [ "$(jq -r .failovers "$S")" -eq 4 ]
  [ "$(grep -c 'proxy 198.18.0.1 timed out 2 times; now 198.18.0.2' "$BATS_TEST_TMPDIR/dev.err")" -eq 4 ]
  # after the cut a device keeps sending to px1 until its second timeout: requests at
  # about t1, t1 + 100, ..., t1 + 400 ms (5-6 with the jitter), plus 1-3 TCP
  # retransmissions per MQTT device: at most 4 x 7 + 2 x 3 = 34 packets
  echo "px1 packets after the cut: $((px1_after - px1_at_cut))"
  [ $((px1_after - px1_at_cut)) -le 34 ]
  # per device: answered before the cut, then failures, then answered again within
  # 3 s of the first failure (detection: 2 timeouts of 300 ms at a 100 ms period,
  # about 0.6 s; the bound leaves room), and nothing but answers after that
  for k in 1 2 3 4; do
    awk -F, -v src=198.18.16.$k -v cut="$cut_ms" '
      NR > 1 && $2 == src { n++; if ($6 == 1 && $1 < cut) before++
        if ($6 == 0 && !ff) ff = $1
        if (ff && $6 == 1 && !res) res = $1
        if (res && $1 > res && $6 == 0) late++ }
      END { printf "%s before=%d first_fail=%.0f resumed=%.0f gap_ms=%.0f late_failures=%d\n", src, before, ff, res, res - ff, late
            exit !(before > 0 && ff >= cut - 400 && res > 0 && res - ff <= 3000 && late == 0) }' \
      "$BATS_TEST_TMPDIR/lat.csv"
  done
  [ "$(jq -r .ok "$S")" -gt 0 ]
}

@test "xpro-device refuses destinations, sources and namespaces outside the testbed" {
  run xp_exec "$DEV" "$DEVICE" --target 10.1.2.3 --duration 1
  assert_failure 1
  assert_output --partial "refusing destination 10.1.2.3: outside the testbed range 198.18.0.0/15"
  run xp_exec "$DEV" "$DEVICE" --target 198.18.1.101 --sources 10.0.0.0/24 --duration 1
  assert_failure 1
  assert_output --partial "refusing --sources 10.0.0.0/24: outside the testbed range 198.18.0.0/15"
  run timeout 10 "$DEVICE" --target 198.18.1.101 --duration 1
  assert_failure 1
  assert_output --partial "refusing to run in the initial network namespace"
  run xp_exec "$DEV" "$DEVICE" --target 198.18.1.101
  assert_failure 2
  assert_output --partial "--target and --duration are required"
  # a range that is not local on this host cannot be bound
  run xp_exec "$DEV" timeout 10 "$DEVICE" --target 198.18.1.101 --sources 198.18.48.0/24 --duration 1
  assert_failure 1
  assert_output --partial "source 198.18.48.1: cannot bind"
  # a namespace with a default route: refused, naming the route
  ns=$(xp_ns_new rt)
  ns2=$(xp_ns_new rt2)
  xp_veth "$ns" e0 "$ns2" e1
  xp_addr "$ns" e0 198.18.9.1/24
  ip -n "$ns" route add default via 198.18.9.2
  run xp_exec "$ns" timeout 10 "$DEVICE" --target 198.18.1.101 --duration 1
  assert_failure 1
  assert_output --partial "leads outside the testbed range 198.18.0.0/15"
  run "$DEVICE" --help
  assert_success
  assert_output --partial "usage: xpro-device --target ADDR --duration S"
}

# ---------------------------------------------------------------- IPv6

# ipv6_on: the IPv6 names of every address above (2001:db8:: + the IPv4 address),
# the same routes (the victim answers via px2), IPv6 forwarding on the proxies;
# the device's names of 198.18.16.0/20 routed local
ipv6_on() {
  local px
  xp6_enable "$DEV" eth0 lo
  xp6_enable "$VIC" eth0
  for px in "$PX1" "$PX2"; do
    xp6_enable "$px" in0 out0
    xp_exec "$px" sysctl -qw net.ipv6.conf.all.forwarding=1
  done
  xp6_addr "$DEV" eth0 2001:db8::c612:64/120
  xp6_addr "$PX1" in0 2001:db8::c612:1/120
  xp6_addr "$PX1" out0 2001:db8::c612:101/120
  xp6_addr "$PX2" in0 2001:db8::c612:2/120
  xp6_addr "$PX2" out0 2001:db8::c612:102/120
  xp6_addr "$VIC" eth0 2001:db8::c612:165/120
  ip -n "$DEV" -6 route add local 2001:db8::c612:1000/116 dev lo
  # 1500 - 48: outer IPv4, UDP and the X-Pro header (version 1: 32; with a key: 48)
  ip -n "$DEV" -6 route add 2001:db8::c612:100/120 via 2001:db8::c612:1 dev eth0 mtu 1452
  ip -n "$VIC" -6 route add 2001:db8::c612:1000/116 via 2001:db8::c612:102
  for px in "$PX1" "$PX2"; do ip -n "$px" -6 route add 2001:db8::c612:1000/116 via 2001:db8::c612:64; done
  # neighbours resolved before the first request (a proxy drops the echo itself: its
  # ipv6 setting; the solicitation before it goes to its kernel)
  xp_exec "$DEV" timeout 5 ping -6 -c 1 -W 1 2001:db8::c612:1 >/dev/null 2>&1 || true
  xp_exec "$VIC" timeout 5 ping -6 -c 1 -W 1 2001:db8::c612:102 >/dev/null 2>&1 || true
  xp_exec "$PX1" timeout 5 ping -6 -c 1 -W 1 2001:db8::c612:165 >/dev/null 2>&1 || true
  xp_exec "$PX2" timeout 5 ping -6 -c 1 -W 1 2001:db8::c612:64 >/dev/null 2>&1 || true
}

ipv6_off() {
  local ns
  for ns in "$DEV" "$VIC" "$PX1" "$PX2"; do xp_exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
}

@test "xpro-device over IPv6: CoAP and MQTT from the devices' IPv6 names through the IPv4 tunnel, answered by xpro-sink" {
  ipv6_on
  sink 5
  run xp_exec "$DEV" timeout 30 "$DEVICE" --target 2001:db8::c612:165 --sources 2001:db8::c612:1000/116 \
      --devices 4 --proto mix --period 100 --count 24 --duration 6 --seed 5 --proxy-start first \
      --log "$BATS_TEST_TMPDIR/sent.csv" --latency "$BATS_TEST_TMPDIR/lat.csv" --summary "$BATS_TEST_TMPDIR/dev.json"
  assert_success
  wait "$SINK_PID"
  ipv6_off
  S=$BATS_TEST_TMPDIR/dev.json
  [ "$(jq -c '[.requests, .ok, .timeouts, .failed, .target]' "$S")" = '[24,24,0,0,"2001:db8::c612:165"]' ]
  # every request answered, logged by the devices' IPv6 names
  [ "$(tail -n +2 "$BATS_TEST_TMPDIR/lat.csv" | awk -F, '$6 == 1 && $3 == "2001:db8::c612:165"' | wc -l)" -eq 24 ]
  [ "$(tail -n +2 "$BATS_TEST_TMPDIR/lat.csv" | cut -d, -f2 | sort -u | tr '\n' ' ')" = \
    "2001:db8::c612:1001 2001:db8::c612:1002 2001:db8::c612:1003 2001:db8::c612:1004 " ]
  [ "$(jq -r .requests_answered "$BATS_TEST_TMPDIR/sink.json")" -eq 24 ]
  [ "$(jq -r '.by_source | keys | map(select(startswith("2001:db8::c612:100"))) | length' "$BATS_TEST_TMPDIR/sink.json")" -eq 4 ]
  # all through px1 (--proxy-start first), counted there for the devices' outer IPv4
  # addresses; xpro-tun wrapped every request (CoAP: 1 packet each; MQTT: more)
  [ "$(pxstat "$PX1" | jq -r '[.top[].client] | unique | join(" ")')" = "198.18.16.1 198.18.16.2 198.18.16.3 198.18.16.4" ]
  [ "$(passed px1)" -ge 24 ]
  [ "$(d tun .counters.encap)" -ge 24 ]
  [ "$(d tun .counters.drop_malformed)" -eq 0 ]
}

@test "xpro-device over IPv6 with keys: header version 2 signed over the inner IPv6 addresses, verified by px1" {
  local keys=$BATS_TEST_TMPDIR/device_keys conf2=$BATS_TEST_TMPDIR/xpro-keys.conf
  # one key per device 198.18.16.1-4 (index = line place), the file the proxy checks with
  ( umask 077
    for k in 1 2 3 4; do printf '198.18.16.%d %032x\n' "$k" "$((k * 7919))"; done > "$keys" )
  { cat "$CONF"; echo "device_keys = $keys"; } > "$conf2"
  xp_exec "$PX1" timeout 20 "$XPRO" detach -i in0 -c "$CONF" >/dev/null
  xp_exec "$PX1" timeout 20 "$XPRO" attach -i in0 -c "$conf2" >/dev/null
  snap base
  ipv6_on
  sink 5
  run xp_exec "$DEV" timeout 30 "$DEVICE" --target 2001:db8::c612:165 --sources 2001:db8::c612:1000/116 \
      --devices 4 --proto coap --period 100 --count 16 --duration 6 --seed 9 --proxy-start first \
      --key-file "$keys" --summary "$BATS_TEST_TMPDIR/dev.json"
  assert_success
  wait "$SINK_PID"
  ipv6_off
  c=$(pxstat "$PX1" | jq -c '[.counters.drop_bad_mac, .counters.drop_no_key, .counters.drop_v1, .counters.drop_replay, .counters.drop_spoofed, .counters.v1_accepted]')
  xp_exec "$PX1" timeout 20 "$XPRO" detach -i in0 -c "$conf2" >/dev/null
  xp_exec "$PX1" timeout 20 "$XPRO" attach -i in0 -c "$CONF" >/dev/null
  [ "$(jq -c '[.requests, .ok, .timeouts]' "$BATS_TEST_TMPDIR/dev.json")" = '[16,16,0]' ]
  [ "$c" = '[0,0,0,0,0,0]' ]
  [ "$(jq -r .requests_answered "$BATS_TEST_TMPDIR/sink.json")" -eq 16 ]
}

@test "xpro-device refuses IPv6 destinations outside 2001:db8::/32 (a v4-mapped one is checked as IPv4)" {
  for t in 2001:db9::1 ::1 fe80::1 ff02::1 2001:db8a::1; do
    run xp_exec "$DEV" timeout 10 "$DEVICE" --target "$t" --duration 1
    assert_failure 1
    assert_output --partial "xpro-device: refusing destination $t: outside the testbed range 2001:db8::/32"
  done
  # ::ffff:a.b.c.d is IPv4 on the wire: refused unless a.b.c.d is in 198.18.0.0/15
  run xp_exec "$DEV" timeout 10 "$DEVICE" --target ::ffff:8.8.8.8 --duration 1
  assert_failure 1
  assert_output --partial "xpro-device: refusing destination ::ffff:8.8.8.8: a v4-mapped address outside the testbed range 198.18.0.0/15"
  run xp_exec "$DEV" timeout 10 "$DEVICE" --target ::ffff:198.18.1.101 --duration 0.2 --no-tunnel
  refute_output --partial "refusing destination"
  # the devices' IPv6 names: the IPv6 name of an IPv4 range only
  run xp_exec "$DEV" timeout 10 "$DEVICE" --target 2001:db8::c612:165 --sources 2001:db8:1::/116 --duration 1
  assert_failure 2
  assert_output --partial "--sources"
  run xp_exec "$DEV" timeout 10 "$DEVICE" --target 2001:db8::c612:165 --sources 2001:db8::a00:0/120 --duration 1
  assert_failure 1
  assert_output --partial "refusing --sources 10.0.0.0/24: outside the testbed range 198.18.0.0/15"
}
