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
  for p in px1.in0 px1.out0 px2.in0 px2.out0; do
    xp_exec "$CORE" ethtool -K "$p" gro off
    xp_exec "$CORE" ethtool -K "$p" gro on
  done
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
  printf 'tf1 = 100000\ntf2 = 1000000\nstate_dir = %s\n' "$BATS_FILE_TMPDIR/state" > "$CONF"
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
