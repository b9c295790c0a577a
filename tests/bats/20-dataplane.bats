#!/usr/bin/env bats
# The X-Pro data plane on a small namespace topology:
#
#   dev (198.18.0.2/24) dev0 ==== in0 (198.18.0.1/24) px (198.18.1.1/24) out0 ==== vic0 (198.18.1.2/24) vic
#                                  ^ xpro attach (XDP, native)
#
# dev also has 198.18.0.10-17 as extra clients. vic routes 198.18.0.0/24 back via
# the proxy. The victim's vic0 has GRO on (the NAPI a redirect target's peer needs).
# Each host also has its IPv6 name, 2001:db8:: + its IPv4 address (/120 for a /24,
# no DAD), routed the same way; the proxy forwards IPv6 and takes device_embed6 =
# 2001:db8::/96, so the device may send inner IPv6 from 2001:db8::c612:2; its out0
# IPv6 address is listed as a proxy, 2001:db8::c612:180/121 as management-only.

load lib/xpro
load lib/inet6

XPRO=${XPRO_BUILD:-build}/bin/xpro
UDP=${XPRO_BUILD:-build}/tests/tools/xpt-udp

setup_file() {
  xp_require_root
  export DEV PX VIC CONF STATE
  # routes, forwarding, the NAPI on the redirect target's peer (GRO switched
  # on after the link is up), the managed neighbour entry: xp_proxy_path
  xp_proxy_path "" dev0 vic0
  for i in $(seq 10 17); do xp_addr "$DEV" dev0 198.18.0.$i/24; done
  xp6_proxy_path dev0 vic0
  STATE=$BATS_FILE_TMPDIR/state
  CONF=$BATS_FILE_TMPDIR/xpro.conf
  xp_conf "$CONF" tt1_ms=1000 tt2_ms=200 tt3_ms=300 tf1=50 tf2=400 max_records=65536 max_dests=1024 \
    warn_interval_ms=100 state_dir="$STATE" device_embed6=2001:db8::/96 \
    proxies=2001:db8::c612:101 mgmt_prefixes=2001:db8::c612:180/121
  xp_pin_dir_register "/run/xpro/bpf/$PX"
}

teardown_file() {
  xp_exec "$PX" "$XPRO" detach -i in0 -c "$CONF" >/dev/null 2>&1 || true
  xp_teardown_all
}

setup() {
  # each test starts attached, with empty maps and the file's thresholds
  if ! xp_exec "$PX" "$XPRO" status -i in0 -c "$CONF" >/dev/null 2>&1; then
    xp_exec "$PX" "$XPRO" attach -i in0 -c "$CONF" >/dev/null
  fi
  xp_exec "$PX" "$XPRO" flush -i in0 -c "$CONF" >/dev/null
  xp_exec "$PX" "$XPRO" set -i in0 -c "$CONF" tf1=50 tf2=400 >/dev/null
  # counters are cumulative, like an interface's: tests look at deltas
  xp_exec "$PX" "$XPRO" stats -i in0 -c "$CONF" --json > "$BATS_TEST_TMPDIR/base.json"
}

teardown() {
  xp_dump_on_failure
}

px() { xp_exec "$PX" "$XPRO" "$@" -c "$CONF"; }
# counter NAME: its increase since the test's setup
counter() {
  local now base
  now=$(px stats -i in0 --json | jq -r ".counters.$1")
  base=$(jq -r ".counters.$1" "$BATS_TEST_TMPDIR/base.json" 2>/dev/null || echo 0)
  echo $((now - ${base:-0}))
}

# dev_send COUNT INTERVAL_US WAIT_MS: the device's tunnel traffic to the
# victim's port 7 through the proxy (xpt-udp send; its JSON on stdout)
dev_send() {
  xp_exec "$DEV" timeout 20 "$UDP" send --proxy 198.18.0.1 --dst 198.18.1.2 --dport 7 \
    --count "$1" --interval-us "$2" --wait-ms "$3"
}

# tf1_accounted SENT: some packets were dropped by TF1, and nothing was lost silently:
# SENT = received at the victim (echo.json) + dropped by TF1
tf1_accounted() {
  local received tf1
  received=$(jq -r .received "$BATS_TEST_TMPDIR/echo.json")
  tf1=$(counter drop_tf1)
  echo "sent=$1 received=$received drop_tf1=$tf1"
  [ "$tf1" -gt 0 ] && [ $((received + tf1)) -eq "$1" ]
}

# the first line of the top list: "CLIENT DEST COUNT"
top_pair() { px stats -i in0 --json | jq -r '.top[0] | "\(.client) \(.dest) \(.count)"'; }

# echo server on the victim for S seconds; output in $BATS_TEST_TMPDIR/echo.json
victim_echo() {
  xp_exec "$VIC" timeout 30 "$UDP" echo --port 7 --duration "$1" --reply > "$BATS_TEST_TMPDIR/echo.json" &
  ECHO_PID=$!
  sleep 0.3
}

@test "attach prints what it attached; status shows it" {
  run xp_exec "$PX" "$XPRO" attach -i in0 -c "$CONF"
  assert_failure
  assert_output --partial "already attached"
  run px status -i in0
  assert_success
  assert_output --partial "attached (prog id"
  assert_output --partial "TF1 50 pps"
  run ip -n "$PX" -d link show in0
  assert_output --partial "xdp"
}

@test "tunnel traffic arrives decapsulated at the victim and replies reach the device" {
  victim_echo 3
  run dev_send 20 40000 800
  assert_success
  wait "$ECHO_PID"
  # sent 20, all 20 answered: the reply path through the proxy's kernel works
  assert_output '{"sent":20,"replies":20}'
  # the victim saw the device's own address: the packets were decapsulated
  run jq -r '.received, .sources["198.18.0.2"]' "$BATS_TEST_TMPDIR/echo.json"
  assert_output $'20\n20'
  [ "$(counter drop_tf1)" -eq 0 ]
}

@test "one pair flooding above TF1 is dropped, and every packet is accounted for" {
  victim_echo 4
  run dev_send 600 1000 0
  assert_success
  wait "$ECHO_PID"
  tf1_accounted 600
  [ "$(top_pair)" = "198.18.0.2 198.18.1.2 600" ]
}

@test "many clients to one victim above TF2 are dropped on the aggregate" {
  victim_echo 5
  pids=()
  for i in $(seq 10 17); do
    # 8 clients x ~30 pps: each under TF1 = 50, together ~240 pps; TF2 set to 100
    xp_exec "$DEV" timeout 20 "$UDP" send --proxy 198.18.0.1 --bind 198.18.0.$i --sport $((41000 + i)) \
        --dst 198.18.1.2 --dport 7 --count 40 --interval-us 33000 --wait-ms 0 >/dev/null &
    pids+=($!)
  done
  px set -i in0 tf2=100 >/dev/null
  for p in "${pids[@]}"; do wait "$p"; done
  wait "$ECHO_PID"
  received=$(jq -r .received "$BATS_TEST_TMPDIR/echo.json")
  tf1=$(counter drop_tf1); tf2=$(counter drop_tf2)
  echo "received=$received drop_tf1=$tf1 drop_tf2=$tf2"
  [ "$tf1" -eq 0 ]
  [ "$tf2" -gt 0 ]
  [ $((received + tf2)) -eq 320 ]
  [ "$(px stats -i in0 --json | jq -r .records)" -eq 8 ]
}

# dev_send6_to DST DPORT ARGS...: the same tunnel with an inner IPv6 packet from
# 2001:db8::c612:2 to DST's IPv6 name (xpt-udp send --six); dev_send6 ARGS...: to
# 2001:db8::c612:102 port 7
dev_send6_to() {
  xp_exec "$DEV" timeout 20 "$UDP" send --six --proxy 198.18.0.1 --dst "$1" --dport "$2" "${@:3}"
}
dev_send6() { dev_send6_to 198.18.1.2 7 "$@"; }

@test "inner IPv6 through the tunnel arrives decapsulated at the victim's IPv6 address; replies come back" {
  xp_exec "$VIC" timeout 30 "$UDP" echo --six --port 7 --duration 3 --reply > "$BATS_TEST_TMPDIR/echo.json" &
  ECHO_PID=$!
  sleep 0.3
  run dev_send6 --count 20 --interval-us 40000 --wait-ms 800
  assert_success
  wait "$ECHO_PID"
  # 20 sent, 20 answered: the replies went back through the proxy's kernel, which
  # resolved the device's IPv6 neighbour through the XDP program (ND to the kernel)
  assert_output '{"sent":20,"replies":20}'
  run jq -r '.received, .sources["2001:db8::c612:2"]' "$BATS_TEST_TMPDIR/echo.json"
  assert_output $'20\n20'
  # each of the 20 was decapsulated and forwarded (redirect, or the kernel for the
  # first before the neighbour is known), none dropped
  [ $(($(counter pass_redirect) + $(counter pass_kernel))) -eq 20 ]
  [ "$(counter drop_spoofed)" -eq 0 ]
  [ "$(counter drop_exthdr)" -eq 0 ]
  [ "$(top_pair)" = "198.18.0.2 2001:db8::c612:102 20" ]
}

@test "an inner IPv6 flood from one client is dropped by TF1, every packet accounted for; a forged IPv6 source is dropped" {
  xp_exec "$VIC" timeout 30 "$UDP" echo --six --port 7 --duration 4 > "$BATS_TEST_TMPDIR/echo.json" &
  ECHO_PID=$!
  sleep 0.3
  run dev_send6 --count 600 --interval-us 1000 --wait-ms 0
  assert_success
  # 198.18.0.2 sending from 198.18.0.3's IPv6 name: not its own
  run dev_send6 --count 5 --interval-us 1000 --wait-ms 0 --src 198.18.0.3
  assert_success
  wait "$ECHO_PID"
  tf1_accounted 600
  [ "$(jq -r '.sources["2001:db8::c612:3"] // 0' "$BATS_TEST_TMPDIR/echo.json")" -eq 0 ]
  [ "$(counter drop_spoofed)" -eq 5 ]
  [ "$(top_pair)" = "198.18.0.2 2001:db8::c612:102 600" ]
}

@test "the reverse firewall's IPv6 entries: a management prefix, a proxy's IPv6 address, a nested tunnel" {
  # 2001:db8::c612:1c8 (198.18.1.200's name) lies in 2001:db8::c612:180/121
  run dev_send6_to 198.18.1.200 7 --count 4 --interval-us 1000 --wait-ms 0
  assert_success
  run dev_send6_to 198.18.1.1 7 --count 3 --interval-us 1000 --wait-ms 0
  run dev_send6_to 198.18.1.1 5683 --count 2 --interval-us 1000 --wait-ms 0
  echo "to_mgmt=$(counter drop_to_mgmt) to_proxy=$(counter drop_to_proxy) nested=$(counter drop_nested)"
  [ "$(counter drop_to_mgmt)" -eq 4 ]
  [ "$(counter drop_to_proxy)" -eq 3 ]
  [ "$(counter drop_nested)" -eq 2 ]
  # the IPv4 address of the same host is not listed: not a management destination
  run xp_exec "$DEV" timeout 20 "$UDP" send --proxy 198.18.0.1 --dst 198.18.1.200 --dport 7 --count 2 --wait-ms 0
  [ "$(counter drop_to_mgmt)" -eq 4 ]
  [ "$(px stats -i in0 --json | jq -r .records)" -eq 1 ]
}

@test "client identity: version 2 under the device's key passes; a replay, another key, a keyed device's version 1 are dropped" {
  # two devices with keys (docs/protocol.md, "Client identity"): 198.18.0.10 at
  # index 0, 198.18.0.2 at index 1; 198.18.0.11 has none
  keys=$BATS_TEST_TMPDIR/keys
  printf '198.18.0.10 00112233445566778899aabbccddeeff\n198.18.0.2 000102030405060708090a0b0c0d0e0f\n' > "$keys"
  conf2=$BATS_TEST_TMPDIR/keys.conf
  cp "$CONF" "$conf2"
  echo "device_keys = $keys" >> "$conf2"
  xp_exec "$PX" "$XPRO" detach -i in0 -c "$CONF" >/dev/null
  run xp_exec "$PX" "$XPRO" attach -i in0 -c "$conf2"
  assert_success
  px stats -i in0 --json > "$BATS_TEST_TMPDIR/base.json"
  victim_echo 4
  v2() { xp_exec "$DEV" timeout 20 "$UDP" send --proxy 198.18.0.1 --dst 198.18.1.2 --dport 7 --interval-us 20000 "$@"; }
  run v2 --count 10 --wait-ms 800 --key 000102030405060708090a0b0c0d0e0f --key-index 1
  assert_output '{"sent":10,"replies":10}'
  # the same ten sequence numbers again: replays
  run v2 --count 10 --wait-ms 0 --key 000102030405060708090a0b0c0d0e0f --key-index 1
  # the other device's key under this device's index; this device claiming the other's index
  run v2 --count 4 --wait-ms 0 --key 00112233445566778899aabbccddeeff --key-index 1 --seq 50
  run v2 --count 3 --wait-ms 0 --key 00112233445566778899aabbccddeeff --key-index 0 --seq 60
  # version 1 from the keyed device (a downgrade), and from the device without a key
  run dev_send 5 20000 0
  run v2 --count 6 --wait-ms 0 --bind 198.18.0.11
  wait "$ECHO_PID"
  echo "replay=$(counter drop_replay) bad_mac=$(counter drop_bad_mac) no_key=$(counter drop_no_key) v1=$(counter drop_v1) v1_accepted=$(counter v1_accepted)"
  [ "$(counter drop_replay)" -eq 10 ]
  [ "$(counter drop_bad_mac)" -eq 4 ]
  [ "$(counter drop_no_key)" -eq 3 ]
  [ "$(counter drop_v1)" -eq 5 ]
  [ "$(counter v1_accepted)" -eq 6 ]
  # the victim got the 10 signed packets and the 6 of the device without a key, nothing else
  run jq -r '.received, .sources["198.18.0.2"], .sources["198.18.0.11"]' "$BATS_TEST_TMPDIR/echo.json"
  assert_output $'16\n10\n6'
  # dropped before any record: only the two devices that passed have one
  run px stats -i in0 --json
  [ "$(jq -r .records <<< "$output")" -eq 2 ]
  # inner IPv6 under version 2 (the 48-byte MAC): the device's key passes, one more
  # record; the other device's key does not; the replay window is the device's
  # whatever the inner family: sequence 8, used by an IPv4 packet above, is a replay
  run v2 --six --count 1 --wait-ms 0 --key 000102030405060708090a0b0c0d0e0f --key-index 1 --seq 8
  run v2 --six --count 5 --wait-ms 0 --key 000102030405060708090a0b0c0d0e0f --key-index 1 --seq 100
  run v2 --six --count 2 --wait-ms 0 --key 00112233445566778899aabbccddeeff --key-index 1 --seq 200
  run v2 --six --count 1 --wait-ms 0 --key 000102030405060708090a0b0c0d0e0f --key-index 1 --seq 104
  echo "pass=$(($(counter pass_redirect) + $(counter pass_kernel))) bad_mac=$(counter drop_bad_mac) replay=$(counter drop_replay)"
  [ "$(counter drop_bad_mac)" -eq 6 ]
  [ "$(counter drop_replay)" -eq 12 ]
  [ $(($(counter pass_redirect) + $(counter pass_kernel))) -eq $((16 + 5)) ]
  run px stats -i in0 --json
  [ "$(jq -r .records <<< "$output")" -eq 3 ]
  xp_exec "$PX" "$XPRO" detach -i in0 -c "$conf2" >/dev/null
}

@test "TF1 changed at run time takes effect without a reload" {
  id_before=$(ip -n "$PX" -j -d link show in0 | jq -r '.[0].xdp.prog.id')
  run px set -i in0 tf1=100000 tf2=1000000
  assert_success
  victim_echo 3
  run dev_send 600 1000 0
  assert_success
  wait "$ECHO_PID"
  [ "$(counter drop_tf1)" -eq 0 ]
  [ "$(jq -r .received "$BATS_TEST_TMPDIR/echo.json")" -eq 600 ]
  # and back down: the same flood is dropped again
  px set -i in0 tf1=50 >/dev/null
  dev_send 600 1000 0 >/dev/null
  [ "$(counter drop_tf1)" -gt 0 ]
  [ "$(ip -n "$PX" -j -d link show in0 | jq -r '.[0].xdp.prog.id')" = "$id_before" ]
}

@test "a restart of xpro keeps the records" {
  dev_send 30 1000 0 >/dev/null
  before=$(px stats -i in0 --json | jq -c '[.records, .top[0].count]')
  [ "$before" = "[1,30]" ]
  # reload the program in place
  run px attach -i in0 --replace
  assert_success
  [ "$(px stats -i in0 --json | jq -c '[.records, .top[0].count]')" = "$before" ]
  # detach keeping the maps, attach again
  run px detach -i in0 --keep-maps
  assert_success
  run px attach -i in0
  assert_success
  [ "$(px stats -i in0 --json | jq -c '[.records, .top[0].count]')" = "$before" ]
}

@test "overload warnings are published once and seen by several viewers" {
  xp_exec "$PX" timeout 20 "$XPRO" warnd -i in0 -c "$CONF" --duration 4 &
  wpid=$!
  sleep 0.3
  # a second consumer is refused
  run xp_exec "$PX" "$XPRO" warnd -i in0 -c "$CONF" --duration 1
  assert_failure
  assert_output --partial "another warnd"
  dev_send 500 1000 0 >/dev/null
  wait "$wpid"
  a=$(px alerts -i in0 | jq -r 'select(.reason == "tf1") | "\(.client) \(.dest)"' | sort -u)
  b=$(px alerts -i in0 | jq -r 'select(.reason == "tf1") | "\(.client) \(.dest)"' | sort -u)
  [ "$a" = "198.18.0.2 198.18.1.2" ]
  [ "$a" = "$b" ]
  [ "$(counter warnings_sent)" -ge 1 ]
}

@test "errors name the problem: interface, config, forwarding, MTU" {
  run px attach -i nosuch0
  assert_failure
  assert_output --partial "no such interface"
  printf 'tf1 = 0\nbogus = 1\n' > "$BATS_TEST_TMPDIR/bad.conf"
  run "$XPRO" config check "$BATS_TEST_TMPDIR/bad.conf"
  assert_failure
  assert_output --partial "tf1: 0 is out of range"
  assert_output --partial "unknown key 'bogus'"
  run "$XPRO" config check "$CONF"
  assert_success
  px detach -i in0 >/dev/null
  # inline mode, ipv6 = filter: IPv6 forwarding must be on (the IPv6 route lookup)
  xp_exec "$PX" sysctl -qw net.ipv6.conf.all.forwarding=0
  run px attach -i in0 --set mode=inline --set ipv6=filter
  xp_exec "$PX" sysctl -qw net.ipv6.conf.all.forwarding=1
  assert_failure
  assert_output --partial "ipv6 = filter needs IPv6 forwarding on"
  xp_exec "$PX" sysctl -qw net.ipv4.ip_forward=0
  run px attach -i in0
  assert_failure
  assert_output --partial "forwarding is off"
  xp_exec "$PX" sysctl -qw net.ipv4.ip_forward=1
  ip -n "$DEV" link set dev0 mtu 4000
  run px attach -i in0
  ip -n "$DEV" link set dev0 mtu 1500
  assert_failure
  assert_output --partial "Peer MTU too large"
  # nothing was left by the failed attaches
  [ ! -e "/run/xpro/bpf/$PX/in0" ]
}

@test "a redirect target without a NAPI on its peer is refused at attach (no netdev family: check skipped, said)" {
  px detach -i in0 >/dev/null
  xp_exec "$VIC" ethtool -K vic0 gro off
  run px attach -i in0
  xp_gro_napi "$VIC" vic0
  if "${XPRO_BUILD:-build}/bin/xpro-topo-probe" lo 2>/dev/null | grep -q 'xdp=unknown'; then
    # Linux < 6.3 or XPRO_FORCE_MISSING=netdev (docs/kernels.md): attach goes on
    assert_success
    assert_output --partial "check skipped: XDP features of the redirect targets"
    refute_output --partial "cannot receive XDP redirects"
    return
  fi
  assert_failure
  assert_output --partial "out0 cannot receive XDP redirects"
}

@test "detach leaves nothing behind" {
  run px detach -i in0
  assert_success
  run ip -n "$PX" -d link show in0
  refute_output --partial "prog/xdp"
  [ ! -e "/run/xpro/bpf/$PX" ]
  [ ! -e "$STATE/$PX" ]
  run px stats -i in0
  assert_failure
  assert_output --partial "not attached"
}
