#!/usr/bin/env bats
# xpro-bot: Mirai's vectors as they show on the wire, checked field by field
# against docs/mirai-vectors.md (expected values worked by hand from that file),
# on the normal path and, for raw vectors, on the XDP live-frames fast path.
#
#   bot (198.18.0.200/24, local 198.18.32.0/20) b0 ==== r0 rcv (198.18.0.1/24, 198.18.0.2/24)
#
# rcv plays the proxy (tunnel packets are captured there and decoded) and,
# for the kernel-socket vectors, the victim (an HTTP server on 198.18.0.1:8080).
# tcpdump -Q in on r0 captures what the bot sends; traffic/bot/botpcap.py decodes
# (and checks checksums independently). GRO on r0 gives the fast path's
# XDP_TX frames a NAPI to land in (docs/veth.md).

load lib/xpro
load lib/inet6

BOT=${XPRO_BUILD:-build}/bin/xpro-bot
DECODE=traffic/bot/botpcap.py
PY=/usr/bin/python3

setup_file() {
  xp_require_root
  export BNS RNS
  xp_pair BNS bot b0 198.18.0.200/24 RNS rcv r0 198.18.0.1/24
  for ns in "$BNS" "$RNS"; do xp_exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
  xp_addr "$RNS" r0 198.18.0.2/24
  ip -n "$BNS" route add local 198.18.32.0/20 dev lo
  ip -n "$BNS" route add 198.18.1.0/24 via 198.18.0.1
  ip -n "$RNS" route add 198.18.32.0/20 via 198.18.0.200
  xp_gro_napi "$RNS" r0
  # kernel sockets (udpplain, stomp's handshake, http) fill in their checksums
  # in software, so the capture shows them (veth would pass them partial)
  xp_exec "$BNS" ethtool -K b0 tx off >/dev/null
}

teardown_file() { xp_teardown_all; }

teardown() {
  xp_dump_on_failure
  xp_teardown_all
}

bot() { xp_exec "$BNS" timeout 30 "$BOT" "$@"; }

# cap_start NAME [DIRECTION [FILTER]]: tcpdump on r0, what arrives from the bot (IPv4 by default)
cap_start() {
  CAP=$BATS_TEST_TMPDIR/$1.pcap
  CAPPID=$(xp_spawn --ns "$RNS" "tcpdump-$1" timeout 60 tcpdump --immediate-mode -B 16384 -Q "${2:-in}" -U -n -i r0 -w "$CAP" "${3:-ip}")
  for _ in $(seq 50); do
    grep -q "listening on" "$(xp_log_of "$CAPPID")" && return 0
    sleep 0.1
  done
  echo "tcpdump did not start"; return 1
}

# cap_stop: stop tcpdump, decode into $CAP.jsonl (one JSON object a frame)
cap_stop() {
  sleep 0.5
  kill -INT -- "-$CAPPID" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$CAPPID" 2>/dev/null || break; sleep 0.1; done
  grep -q "^0 packets dropped by kernel" "$(xp_log_of "$CAPPID")" || { cat "$(xp_log_of "$CAPPID")"; return 1; }
  timeout 60 $PY "$DECODE" "$CAP" > "$CAP.jsonl"
}

# q JQ: jq -s over the decoded frames
q() { jq -s -r "$1" "$CAP.jsonl"; }
# all JQ: true when JQ holds for every frame (and there are frames)
all() { [ "$(jq -s "length > 0 and all(.[]; $1)" "$CAP.jsonl")" = true ] || { echo "not for all: $1"; q ".[] | select(($1) | not) | tostring" | head -2 | cut -c1-1500; return 1; }; }
# distinct JQ: how many distinct values over the frames
distinct() { q "[.[] | $1] | unique | length"; }

# common to every raw vector through the tunnel (docs/protocol.md): outer
# IPv4/UDP from the bot's own address to the proxy port 5683, X-Pro header
# 0x58 0x01, inner length = the inner IPv4 total length
check_tunnel() {
  all '.tun.magic == 88 and .tun.version == 1 and .tun.dport == 5683 and .tun.proto == 17'
  all '.tun.dst == "198.18.0.1" and (.tun.src | test("^198\\.18\\.32\\.[1-5]$"))'
  all '.tun.inner_len == .len and .tun.len == .len + 32 and .tun.ulen == .len + 12 and .tun.ip_csum_ok'
}

# ---------------------------------------------------------------- help, safety

@test "--help lists every vector and option" {
  run xp_exec "$BNS" "$BOT" --help
  assert_success
  for v in udp vse dns syn ack stomp greip greeth udpplain http; do assert_output --partial "  $v ("; done
  for o in --vector --target --duration --count --rate --on --off --seed --sources --bots --resolver \
           --proxy --proxy-mode --hop --mode --tun-port --fast --log --summary \
           --len --rand --tos --ident --ttl --df --sport --dport --domain --dhid --urg --ack --psh \
           --rst --syn --fin --seqnum --acknum --gcip --source --method --postdata --path --conns; do
    assert_output --partial -- "$o"
  done
}

@test "refuses a destination outside 198.18.0.0/15" {
  run bot --vector udp --target 10.1.2.3 --duration 1 --count 1 --rate 100 --mode inline
  assert_failure
  assert_output --partial "198.18.0.0/15"
  assert_output --partial "10.1.2.3"
  # a proxy outside the range
  run bot --vector udp --target 198.18.1.5 --proxy 192.0.2.1 --duration 1 --count 1 --rate 100
  assert_failure
  assert_output --partial "198.18.0.0/15"
}

@test "refuses a prefix target whose unmasked range leaves 198.18.0.0/15" {
  # Mirai adds rand >> 24 to the base as given: 198.19.255.200/24 reaches 198.20.0.199
  run bot --vector udp --target 198.19.255.200/24 --duration 1 --count 1 --rate 100 --mode inline
  assert_failure
  assert_output --partial "198.20.0.199"
  assert_output --partial "198.18.0.0/15"
  # /14 from a base inside the range still covers 198.16.0.0/14's upper half: refused
  run bot --vector syn --target 198.18.0.0/14 --duration 1 --count 1 --rate 100 --mode inline
  assert_failure
  assert_output --partial "198.18.0.0/15"
}

@test "refuses a spoofed source outside 198.18.0.0/15 (udp parses it like Mirai's atoi)" {
  # udp: atoi("1.2.3.4") = 1, the integer stored little-endian: 1.0.0.0
  run bot --vector udp --target 198.18.1.5 --source 1.2.3.4 --duration 1 --count 1 --rate 100 --mode inline
  assert_failure
  assert_output --partial "1.0.0.0"
  assert_output --partial "198.18.0.0/15"
  run bot --vector syn --target 198.18.1.5 --source 192.0.2.7 --duration 1 --count 1 --rate 100 --mode inline
  assert_failure
  assert_output --partial "198.18.0.0/15"
}

@test "refuses to run in the initial network namespace" {
  run timeout 10 "$BOT" --vector udp --target 198.18.1.5 --duration 1 --count 1 --mode inline
  assert_failure
  assert_output --partial "initial network namespace"
  assert_output --partial "198.18.0.0/15"
}

@test "refuses to run where a main-table route leads outside 198.18.0.0/15" {
  local ns
  ns=$(xp_ns_new leaky)
  ip -n "$ns" link add d0 type veth peer name d1
  ip -n "$ns" link set d0 up
  ip -n "$ns" link set d1 up
  ip -n "$ns" route add 10.0.0.0/8 dev d0
  run xp_exec "$ns" timeout 10 "$BOT" --vector udp --target 198.18.1.5 --duration 1 --count 1 --mode inline
  assert_failure
  assert_output --partial "10.0.0.0/8"
  assert_output --partial "198.18.0.0/15"
}

@test "refuses to run without --duration" {
  run bot --vector udp --target 198.18.1.5 --count 1 --rate 100 --mode inline
  assert_failure
  assert_output --partial "--duration"
}

# ---------------------------------------------------------------- raw vectors

# udp (0): 20 + 8 + 512 = 540; DF off, TTL 64, TOS 0; UDP length 520; random
# ports, ID and payload per packet
udp_shape() {
  all '.ver == 4 and .ihl == 5 and .proto == 17 and .len == 540 and .ulen == 520 and .plen == 512'
  all '.df == 0 and .mf == 0 and .frag == 0 and .ttl == 64 and .tos == 0 and .ip_csum_ok and .l4_csum_ok'
  all '.dst == "198.18.1.5" and (.src | test("^198\\.18\\.32\\.[1-5]$"))'
  [ "$(distinct .sport)" -ge 45 ]
  [ "$(distinct .dport)" -ge 45 ]
  [ "$(distinct .id)" -ge 45 ]
  [ "$(distinct .payload)" -eq 50 ]
  [ "$(distinct .src)" -eq 5 ]
}

# udp_tunnel_shape NAME [BOT-OPTION...]: 50 udp packets through the tunnel,
# captured as NAME, each of the udp vector's shape
udp_tunnel_shape() {
  cap_start "$1"
  run bot --vector udp --target 198.18.1.5 --sources 5 --proxy 198.18.0.1 --duration 5 --count 50 --rate 100 \
    "${@:2}" -q
  assert_success
  cap_stop
  [ "$(q length)" -eq 50 ]
  check_tunnel
  # the outer source is the bot's, the inner source per Mirai's source option: the bot's too
  all '.tun.src == .src'
  udp_shape
}

@test "udp, tunnel, normal path: shape" {
  udp_tunnel_shape udp
}

@test "udp, tunnel, fast path: shape" {
  udp_tunnel_shape udpf --fast
}

@test "udp options: len, rand=0 (zeros), tos, ttl, ident, df, fixed ports, spoofed source" {
  cap_start udpo
  run bot --vector udp --target 198.18.1.5 --sources 2 --proxy 198.18.0.1 --duration 5 --count 10 --rate 100 -q \
      --len 100 --rand 0 --tos 16 --ttl 7 --ident 4660 --df 1 --sport 1234 --dport 80 --source 269488838
  assert_success
  cap_stop
  [ "$(q length)" -eq 10 ]
  # udp reads source with atoi: 269488838 = 0x101012C6, stored as is on a little-endian
  # bot: bytes c6 12 10 10 = 198.18.16.16 (ident 4660 = htons: 0x1234 on the wire)
  all '.len == 128 and .ulen == 108 and .plen == 100 and .tos == 16 and .ttl == 7 and .id == 4660 and .df == 1'
  all '.sport == 1234 and .dport == 80 and .payload == ("00" * 64) and .l4_csum_ok and .ip_csum_ok'
  all '.src == "198.18.16.16"'
  # the outer source stays the bot's own address
  all '.tun.src != .src'
}

@test "udp: the payload is capped at 1460 bytes (Mirai caps udp silently)" {
  cap_start udpcap
  run bot --vector udp --target 198.18.1.5 --sources 1 --mode inline --duration 5 --count 3 --rate 100 --len 2000 -q
  assert_success
  cap_stop
  all '.len == 1488 and .ulen == 1468 and .plen == 1460'
}

# vse (1): 20 + 8 + 25 = 53; dport 27015; payload FF FF FF FF "TSource Engine Query" NUL
vse_shape() {
  all '.proto == 17 and .len == 53 and .ulen == 33 and .plen == 25 and .dport == 27015 and .df == 0 and .ttl == 64'
  all '.payload == "ffffffff54536f7572636520456e67696e6520517565727900" and .l4_csum_ok and .ip_csum_ok'
  [ "$(distinct .sport)" -ge 18 ]
}

@test "vse: shape, normal and fast path (inline)" {
  cap_start vse
  run bot --vector vse --target 198.18.1.5 --sources 2 --mode inline --duration 5 --count 20 --rate 100 -q
  assert_success
  cap_stop
  [ "$(q length)" -eq 20 ]
  vse_shape
  cap_start vsef
  run bot --vector vse --target 198.18.1.5 --sources 2 --mode inline --duration 5 --count 20 --rate 100 -q --fast
  assert_success
  cap_stop
  [ "$(q length)" -eq 20 ]
  vse_shape
}

# dns (2): to the resolver, 59 + strlen(domain) = 70 for example.com; flags
# 0x0100, QD 1; QNAME <12 chars of a-w0-8>.example.com, QTYPE A, QCLASS IN
dns_shape() {
  all '.dst == "198.18.1.53" and .proto == 17 and .len == 70 and .ulen == 50 and .dport == 53 and .df == 0'
  all '.dns.flags == 256 and .dns.qd == 1 and .dns.an == 0 and .dns.ns == 0 and .dns.ar == 0'
  all '.dns.labels[1:] == ["example", "com"] and (.dns.labels[0] | test("^[a-w0-8]{12}$"))'
  all '.dns.qtype == 1 and .dns.qclass == 1 and .dns.end == .dns.len and .l4_csum_ok and .ip_csum_ok'
  [ "$(distinct '.dns.labels[0]')" -eq 30 ]
  [ "$(distinct .dns.id)" -ge 28 ]
  [ "$(distinct .sport)" -ge 28 ]
  # x, y, z and 9 never appear over 30 x 12 characters
  [ "$(q '[.[] | .dns.labels[0]] | join("") | test("[xyz9]")')" = false ]
}

@test "dns: shape, normal and fast path, tunnel" {
  cap_start dns
  run bot --vector dns --resolver 198.18.1.53 --domain example.com --sources 3 --proxy 198.18.0.1 \
      --duration 5 --count 30 -q
  assert_success
  cap_stop
  [ "$(q length)" -eq 30 ]
  check_tunnel
  dns_shape
  cap_start dnsf
  run bot --vector dns --resolver 198.18.1.53 --domain example.com --sources 3 --proxy 198.18.0.1 \
      --duration 5 --count 30 -q --fast
  assert_success
  cap_stop
  [ "$(q length)" -eq 30 ]
  check_tunnel
  dns_shape
}

# syn (3): 60 bytes, DF on, data offset 10, SYN only, window 0, ack 0, options
# 02 04 05 {78..87} 04 02 08 0a TSval 00000000 01 03 03 06
syn_shape() {
  all '.proto == 6 and .len == 60 and .df == 1 and .ttl == 64 and .doff == 10 and .flags == 2 and .win == 0'
  all '.ack == 0 and .urp == 0 and .res == 0 and .l4_csum_ok and .ip_csum_ok'
  all '.opts | test("^020405(7[89a-f]|8[0-7])0402080a[0-9a-f]{8}0000000001030306$")'
  [ "$(distinct .seq)" -ge 38 ]
  [ "$(distinct .sport)" -ge 38 ]
  [ "$(distinct .dport)" -ge 38 ]
}

@test "syn: shape, normal path (MSS and TSval fixed per bot)" {
  cap_start syn
  run bot --vector syn --target 198.18.1.5 --sources 4 --proxy 198.18.0.1 --duration 5 --count 40 --rate 100 -q
  assert_success
  cap_stop
  [ "$(q length)" -eq 40 ]
  check_tunnel
  syn_shape
  # one option block per bot: MSS and TSval chosen once per target
  [ "$(q '[group_by(.src)[] | [.[].opts] | unique | length] | max')" -eq 1 ]
}

@test "syn: shape, fast path, inline" {
  cap_start synf
  run bot --vector syn --target 198.18.1.5 --sources 4 --mode inline --duration 5 --count 40 --rate 100 -q --fast
  assert_success
  cap_stop
  [ "$(q length)" -eq 40 ]
  syn_shape
}

@test "syn flags and seqnum quirk: --seqnum 4660 lands in the upper 16 bits, acknum 65535 random" {
  cap_start synq
  run bot --vector syn --target 198.18.1.5 --sources 1 --mode inline --duration 5 --count 10 --rate 100 -q \
      --seqnum 4660 --acknum 65535 --urg 1 --fin 1
  assert_success
  cap_stop
  # 4660 = 0x1234 -> 0x12340000 = 305397760
  all '.seq == 305397760 and .flags == 35 and .l4_csum_ok'
  [ "$(distinct .ack)" -ge 9 ]
  [ "$(distinct .urp)" -ge 9 ]
}

# ack (4): 20 + 20 + 512 = 552, DF off, data offset 5, ACK only, window fixed per bot
ack_shape() {
  all '.proto == 6 and .len == 552 and .df == 0 and .doff == 5 and .flags == 16 and .urp == 0 and .plen == 512'
  all '.l4_csum_ok and .ip_csum_ok'
  [ "$(distinct .seq)" -ge 38 ]
  [ "$(distinct .ack)" -ge 38 ]
  [ "$(distinct .payload)" -eq 40 ]
  [ "$(q '[group_by(.src)[] | [.[].win] | unique | length] | max')" -eq 1 ]
}

@test "ack: shape, normal and fast path" {
  cap_start ack
  run bot --vector ack --target 198.18.1.5 --sources 4 --proxy 198.18.0.1 --duration 5 --count 40 --rate 100 -q
  assert_success
  cap_stop
  [ "$(q length)" -eq 40 ]
  check_tunnel
  ack_shape
  cap_start ackf
  run bot --vector ack --target 198.18.1.5 --sources 1 --proxy 198.18.0.1 --duration 5 --count 40 --rate 100 -q --fast
  assert_success
  cap_stop
  [ "$(q length)" -eq 40 ]
  ack_shape
}

@test "ack rand=0: the setup's random payload repeats (not zeros)" {
  cap_start ackr
  run bot --vector ack --target 198.18.1.5 --sources 1 --mode inline --duration 5 --count 10 --rate 100 -q --rand 0
  assert_success
  cap_stop
  [ "$(distinct .payload)" -eq 1 ]
  [ "$(q '.[0].payload')" != "$(printf '0%.0s' $(seq 128))" ]
}

# greip (6) / greeth (7): outer 47, DF on, GRE 0 / 0x0800 or 0x6558; inner IPv4/UDP
# 540 bytes, DF and TTL as the outer, inner ID = ~(LE view of outer ID - 1000)
gre_shape() {
  local len=$1 proto=$2
  all ".proto == 47 and .len == $len and .df == 1 and .gre_flags == 0 and .gre_proto == $proto and .ip_csum_ok"
  all '.inner.proto == 17 and .inner.len == 540 and .inner.ulen == 520 and .inner.df == 1 and .inner.ttl == 64'
  all '.inner.ip_csum_ok and .inner.l4_csum_ok and (.inner.dst | test("^198\\.1[89]\\."))'
  [ "$(distinct .inner.dst)" -ge 18 ]
  [ "$(distinct .inner.sport)" -ge 18 ]
  [ "$(q '[group_by(.src)[] | [.[].inner.src] | unique | length] | max')" -eq 1 ]
  local oid iid le exp
  while read -r oid iid; do
    le=$(( (oid & 255) << 8 | oid >> 8 ))
    exp=$(( ~(le - 1000) & 0xffff ))
    exp=$(( (exp & 255) << 8 | exp >> 8 ))
    [ "$iid" -eq "$exp" ] || { echo "outer id $oid: inner $iid, expected $exp"; return 1; }
  done < <(q '.[] | "\(.id) \(.inner.id)"')
}

@test "greip: shape, normal and fast path" {
  cap_start greip
  run bot --vector greip --target 198.18.1.5 --sources 2 --mode inline --duration 5 --count 20 --rate 100 -q
  assert_success
  cap_stop
  [ "$(q length)" -eq 20 ]
  gre_shape 564 2048
  cap_start greipf
  run bot --vector greip --target 198.18.1.5 --sources 2 --proxy 198.18.0.1 --duration 5 --count 20 --rate 100 -q --fast
  assert_success
  cap_stop
  [ "$(q length)" -eq 20 ]
  check_tunnel
  gre_shape 564 2048
}

@test "greeth: shape, normal and fast path; gcip=1 puts the outer destination inside" {
  cap_start greeth
  run bot --vector greeth --target 198.18.1.5 --sources 2 --mode inline --duration 5 --count 20 --rate 100 -q
  assert_success
  cap_stop
  gre_shape 578 25944
  all '.ieth_type == 2048'
  [ "$(distinct .ieth_src)" -eq 20 ]
  [ "$(distinct .ieth_dst)" -eq 20 ]
  cap_start greethf
  run bot --vector greeth --target 198.18.1.5 --sources 2 --mode inline --duration 5 --count 20 --rate 100 -q --fast
  assert_success
  cap_stop
  gre_shape 578 25944
  [ "$(distinct .ieth_src)" -eq 20 ]
  cap_start gcip
  run bot --vector greip --target 198.18.1.5 --sources 1 --mode inline --duration 5 --count 5 --rate 100 -q --gcip 1
  assert_success
  cap_stop
  all '.inner.dst == "198.18.1.5"'
}

@test "prefix targets: a random host of base + (rand >> len), base not masked" {
  cap_start pfx
  run bot --vector syn --target 198.18.1.200/24 --sources 1 --mode inline --duration 5 --count 60 --rate 100 -q
  assert_success
  cap_stop
  # 198.18.1.200 .. 198.18.2.199
  all '.dst | split(".") | map(tonumber) | (.[2] * 256 + .[3]) as $h | $h >= 456 and $h <= 711'
  [ "$(distinct .dst)" -ge 40 ]
  [ "$(q '[.[] | select(.dst | startswith("198.18.2."))] | length')" -gt 0 ]
}

# ---------------------------------------------------------------- kernel-socket vectors

http_server() {
  mkdir -p "$BATS_TEST_TMPDIR/www"
  echo hello > "$BATS_TEST_TMPDIR/www/index.html"
  xp_spawn --ns "$RNS" httpd timeout 60 $PY -m http.server --bind 198.18.0.1 --directory "$BATS_TEST_TMPDIR/www" 8080 >/dev/null
  for _ in $(seq 50); do xp_exec "$RNS" ss -ltn | grep -q ':8080' && return 0; sleep 0.1; done
  return 1
}

@test "udpplain (inline): kernel UDP, 540 bytes, fixed ports per socket, exact count" {
  cap_start udpplain
  run bot --vector udpplain --target 198.18.0.1 --dport 9999 --sources 3 --mode inline --duration 5 --count 30 --rate 100 \
      --rate 20 -q --log "$BATS_TEST_TMPDIR/up.csv"
  assert_success
  cap_stop
  q '[.[] | select(.proto == 17)] | length' | grep -qx 30
  all '.proto == 17 and .len == 540 and .plen == 512 and .dport == 9999 and .ttl == 64 and .l4_csum_ok'
  [ "$(q '[group_by(.src)[] | [.[].sport] | unique | length] | max')" -eq 1 ]
  [ "$(distinct .payload)" -eq 30 ]
  [ "$(awk -F, 'NR > 1 && $4 == "udpplain" {s += $5} END {print s}' "$BATS_TEST_TMPDIR/up.csv")" -eq 30 ]
}

@test "stomp (inline): real handshake, then ACK+PSH, data offset 8, swapped 16-bit seq/ack" {
  http_server
  cap_start stomp inout
  run bot --vector stomp --target 198.18.0.1 --dport 8080 --sources 1 --mode inline --duration 10 --count 8 -q
  assert_success
  cap_stop
  # the SYN-ACK of the kernel's handshake: server ISN S, ack = bot ISN + 1
  local s a
  s=$(q '[.[] | select(.src == "198.18.0.1" and .flags == 18)][0].seq')
  a=$(q '[.[] | select(.src == "198.18.0.1" and .flags == 18)][0].ack')
  [ -n "$s" ] && [ "$s" != null ]
  jq -c 'select(.len == 808)' "$CAP.jsonl" > "$BATS_TEST_TMPDIR/flood.jsonl"
  [ "$(wc -l < "$BATS_TEST_TMPDIR/flood.jsonl")" -eq 8 ]
  CAP=$BATS_TEST_TMPDIR/flood
  all '.proto == 6 and .len == 808 and .df == 1 and .doff == 8 and .flags == 24 and .urp == 0 and .dport == 8080'
  all '.plen == 768 and .l4_csum_ok and .ip_csum_ok and .src == "198.18.32.1"'
  # SEQ = low 16 bits of S (+1 per packet) in the upper half; ACK = low 16 of (ISN+1) << 16
  local i=0 seq ack
  while read -r seq ack; do
    [ "$seq" -eq $(( ((s + i) & 0xffff) << 16 )) ] || { echo "packet $i: seq $seq"; return 1; }
    [ "$ack" -eq $(( (a & 0xffff) << 16 )) ] || { echo "packet $i: ack $ack"; return 1; }
    i=$((i + 1))
  done < <(q '.[] | "\(.seq) \(.ack)"')
  [ "$(distinct .payload)" -eq 8 ]
}

@test "http (inline): GET requests over real connections, Mirai's header order" {
  http_server
  cap_start http
  run bot --vector http --target 198.18.0.1 --dport 8080 --domain victim.test --sources 2 --mode inline \
      --duration 10 --count 6 -q --log "$BATS_TEST_TMPDIR/http.csv" --summary "$BATS_TEST_TMPDIR/http.json"
  assert_success
  cap_stop
  CAP=$CAP
  local reqs
  reqs=$(q '[.[] | select(.data | startswith("GET "))] | length')
  [ "$reqs" -eq 6 ]
  local re='^GET / HTTP/1\.1\r\nUser-Agent: Mozilla/5\.0 \([^)]*\) AppleWebKit/[0-9.]+ \(KHTML, like Gecko\) [^\r]*\r\nHost: victim\.test\r\nConnection: keep-alive\r\nAccept: text/html,application/xhtml\+xml,application/xml;q=0\.9,image/webp,\*/\*;q=0\.8\r\nAccept-Language: en-US,en;q=0\.8\r\n\r\n$'
  all "(.data | startswith(\"GET \") | not) or (.data | test(\"$(printf '%s' "$re" | sed 's/\\/\\\\/g')\"))"
  # 290..297 + strlen("victim.test") = 301..308 bytes
  all '(.data | startswith("GET ") | not) or ((.data | length) >= 301 and (.data | length) <= 308)'
  [ "$(jq -r .by_class.http.packets "$BATS_TEST_TMPDIR/http.json")" -eq 6 ]
}

# ---------------------------------------------------------------- counts, seeds, proxies

@test "--count N: exactly N on the wire, in the CSV log and in the summary (normal path)" {
  cap_start count
  run bot --vector udp --target 198.18.1.5 --sources 5 --proxy 198.18.0.1 --duration 20 --count 3000 \
      --rate 500 -q --log "$BATS_TEST_TMPDIR/c.csv" --summary "$BATS_TEST_TMPDIR/c.json"
  assert_success
  cap_stop
  [ "$(q length)" -eq 3000 ]
  head -1 "$BATS_TEST_TMPDIR/c.csv" | grep -qx 'ts,src,dst,class,packets,bytes'
  [ "$(awk -F, 'NR > 1 {p += $5; b += $6} END {print p, b}' "$BATS_TEST_TMPDIR/c.csv")" = "3000 1620000" ]
  # one row per (second, src, dst, class): 5 sources, no duplicates
  [ "$(awk -F, 'NR > 1 {print $1, $2, $3, $4}' "$BATS_TEST_TMPDIR/c.csv" | sort | uniq -d | wc -l)" -eq 0 ]
  [ "$(awk -F, 'NR > 1 {print $2}' "$BATS_TEST_TMPDIR/c.csv" | sort -u | wc -l)" -eq 5 ]
  run jq -r '"\(.tool) \(.packets) \(.bytes) \(.by_class.udp.packets) \(.errors)"' "$BATS_TEST_TMPDIR/c.json"
  assert_output "xpro-bot 3000 1620000 3000 0"
}

@test "--count N: exactly N at the receiver and in the log (fast path)" {
  local rx
  rx=$(xp_spawn --ns "$RNS" rxcount timeout 30 "$BOT" --rx-count r0 --duration 4)
  sleep 1
  run bot --vector syn --target 198.18.1.5 --sources 1000 --proxy 198.18.0.1 --duration 10 --count 200000 --fast \
      -q --log "$BATS_TEST_TMPDIR/f.csv" --summary "$BATS_TEST_TMPDIR/f.json"
  assert_success
  for _ in $(seq 60); do kill -0 "$rx" 2>/dev/null || break; sleep 0.1; done
  run jq -r .packets <(grep '^{' "$(xp_log_of "$rx")")
  assert_output 200000
  [ "$(jq -r .packets "$BATS_TEST_TMPDIR/f.json")" -eq 200000 ]
  [ "$(awk -F, 'NR > 1 {p += $5} END {print p}' "$BATS_TEST_TMPDIR/f.csv")" -eq 200000 ]
  [ "$(awk -F, 'NR > 1 {print $2}' "$BATS_TEST_TMPDIR/f.csv" | sort -u | wc -l)" -eq 1000 ]
  # the counter is gone again: GRO's NAPI for the other tests
  xp_gro_napi "$RNS" r0
}

@test "--seed: the same seed gives the same bytes, another seed other bytes" {
  for run in a b c; do
    local seed=42
    [ $run = c ] && seed=43
    cap_start "seed$run"
    run bot --vector udp --target 198.18.1.200/24 --sources 3 --proxy 198.18.0.1 --duration 5 --count 30 --rate 100 --seed $seed -q
    assert_success
    cap_stop
    q '.[] | del(.frame_len) | tostring' > "$BATS_TEST_TMPDIR/seed$run.txt"
  done
  cmp "$BATS_TEST_TMPDIR/seeda.txt" "$BATS_TEST_TMPDIR/seedb.txt"
  ! cmp -s "$BATS_TEST_TMPDIR/seeda.txt" "$BATS_TEST_TMPDIR/seedc.txt" || false
  for run in a b; do
    cap_start "fseed$run"
    run bot --vector syn --target 198.18.1.5 --sources 3 --proxy 198.18.0.1 --duration 5 --count 30 --rate 100 --seed 7 -q --fast
    assert_success
    cap_stop
    q '.[] | tostring' > "$BATS_TEST_TMPDIR/fseed$run.txt"
  done
  cmp "$BATS_TEST_TMPDIR/fseeda.txt" "$BATS_TEST_TMPDIR/fseedb.txt"
}

@test "--proxy-mode spread and hop choose the tunnel's proxy per bot and per N packets" {
  cap_start spread
  run bot --vector syn --target 198.18.1.5 --sources 4 --proxy 198.18.0.1,198.18.0.2 --proxy-mode spread \
      --duration 5 --count 20 -q
  assert_success
  cap_stop
  # bot i (198.18.32.(i+1)) -> proxy i mod 2
  all '(.tun.src | split(".")[3] | tonumber) as $n | .tun.dst == (if ($n - 1) % 2 == 0 then "198.18.0.1" else "198.18.0.2" end)'
  cap_start hop
  run bot --vector syn --target 198.18.1.5 --sources 1 --proxy 198.18.0.1,198.18.0.2 --proxy-mode hop --hop 5 \
      --duration 5 --count 20 -q
  assert_success
  cap_stop
  run q '[.[].tun.dst | split(".")[3]] | join("")'
  assert_output "11111222221111122222"
}

@test "--on/--off pulses: nothing is sent during the off phases" {
  run bot --vector udp --target 198.18.1.5 --sources 1 --mode inline --duration 2.5 --rate 200 --on 500 --off 500 \
      -q --summary "$BATS_TEST_TMPDIR/p.json"
  assert_success
  # on for 0-0.5, 1-1.5, 2-2.5 s: 1.5 s x 200 pps = 300 (+1 for the first packet at t = 0)
  local n
  n=$(jq -r .packets "$BATS_TEST_TMPDIR/p.json")
  echo "sent $n"
  [ "$n" -ge 280 ] && [ "$n" -le 302 ]
}

@test "udpplain in tunnel mode: kernel sockets wrapped by xpro-tun on the bot host (last: attaches TC)" {
  local tun=${XPRO_BUILD:-build}/bin/xpro-tun
  [ -x "$tun" ] || skip "xpro-tun not built"
  run xp_exec "$BNS" timeout 20 "$tun" attach b0 --proxy 198.18.0.1
  assert_success
  cap_start udptun
  run bot --vector udpplain --target 198.18.1.5 --dport 9999 --sources 2 --proxy 198.18.0.1 --duration 5 \
      --count 6 --rate 20 -q
  assert_success
  cap_stop
  xp_exec "$BNS" timeout 20 "$tun" detach b0
  [ "$(q length)" -eq 6 ]
  check_tunnel
  all '.tun.src == .src and .proto == 17 and .len == 540 and .dport == 9999 and .l4_csum_ok'
}

# ---------------------------------------------------------------- IPv6

@test "IPv6: refuses to run where an IPv6 route leads outside 2001:db8::/32 (link-local and multicast aside)" {
  local ns
  ns=$(xp_ns_new leaky6)
  ip -n "$ns" link add d0 type veth peer name d1
  xp6_enable "$ns" d0 d1
  ip -n "$ns" link set d0 up
  ip -n "$ns" link set d1 up
  xp6_addr "$ns" d0 2001:db8::c612:101/120
  # the kernel's own fe80::/64, ff00::/8 and local routes, and a testbed prefix: accepted
  ip -n "$ns" -6 route add 2001:db8:5::/48 dev d0
  run xp_exec "$ns" timeout 10 "$BOT" --vector udp --target 2001:db8::c612:105 --proxy 198.18.0.9 --duration 1 --count 1
  refute_output --partial "refusing to run"
  # a route out of the testbed (the documentation prefix's neighbour), then a default route
  for r in 2001:db9::/32 default; do
    ip -n "$ns" -6 route add "$r" dev d0
    run xp_exec "$ns" timeout 10 "$BOT" --vector udp --target 2001:db8::c612:105 --proxy 198.18.0.9 --duration 1 --count 1
    assert_failure
    assert_output --partial "xpro-bot: refusing to run: route ${r/default/::\/0}"
    assert_output --partial "leads outside the testbed range 2001:db8::/32"
    ip -n "$ns" -6 route del "$r" dev d0
  done
}

@test "IPv6: a target outside 2001:db8::/96 is refused with one line naming the tool and the address" {
  # the testbed's IPv6 names of IPv4 addresses: 2001:db8::/96 only (a v4-mapped
  # address, link-local, multicast, loopback and other documentation space refused)
  for t in 2001:db9::1 ::1 ::ffff:198.18.0.1 fe80::1 ff02::1 2001:db8:1::5 2001:db8::/95; do
    run bot --vector udp --target "$t" --proxy 198.18.0.1 --duration 1 --count 1
    assert_failure
    assert_output --partial "xpro-bot: refusing target ${t%%/*}"
    assert_output --partial "2001:db8::/96"
  done
  run bot --vector udp --target 2001:db8::c612:165,198.18.1.101 --proxy 198.18.0.1 --duration 1 --count 1
  assert_failure
  assert_output --partial "IPv4 and IPv6 targets in one run"
  run bot --vector greip --target 2001:db8::c612:165 --proxy 198.18.0.1 --duration 1 --count 1
  assert_failure
  assert_output --partial "greip has no IPv6 form"
  run bot --vector udp --target 2001:db8::c612:165 --proxy 198.18.0.1 --duration 1 --count 1 --fast=xdp
  assert_failure
  assert_output --partial "XDP fast path builds IPv4 packets only"
}

@test "IPv6: udp, syn and ack through the tunnel: IPv6 inside, names of the bots and target, checksums over the IPv6 pseudo-header" {
  for v in udp syn ack; do
    cap_start "v6$v"
    len=(); [ "$v" = syn ] || len=(--len 20)
    run bot --vector "$v" --target 2001:db8::c612:100/120 --sources 2001:db8::c612:2000/125 --proxy 198.18.0.1 \
      --duration 5 --count 12 --seed 7 "${len[@]}" --log "$BATS_TEST_TMPDIR/$v.csv" -q
    assert_success
    cap_stop
    [ "$(q length)" -eq 12 ]
    # outer: IPv4/UDP from the bot's own IPv4 address (the low 32 bits of its IPv6 name)
    all '.tun.magic == 88 and .tun.version == 1 and .tun.dport == 5683 and .tun.dst == "198.18.0.1" and .tun.ip_csum_ok'
    all '(.tun.src | test("^198\\.18\\.32\\.[1-6]$")) and .src == ("2001:db8::c612:20" + (.tun.src | split(".")[3] | tonumber | tostring | if length == 1 then "0" + . else . end))'
    # inner: version 6, inner_len = 40 + payload length, the target's /120 as IPv6 names
    all '.ver == 6 and .tun.inner_len == .len and .tun.len == .len + 32 and .cap_len == .len'
    all '(.dst | test("^2001:db8::c612:1[0-9a-f]{2}$")) and .l4_csum_ok and .flow == 0 and .hlim == 64'
    case $v in
      udp) all '.proto == 17 and .len == 40 + 8 + 20 and .ulen == 28' ;;
      syn) all '.proto == 6 and .len == 40 + 40 and .flags == 2' ;;
      ack) all '.proto == 6 and .len == 40 + 20 + 20 and .flags == 16' ;;
    esac
    # the log names both ends by their IPv6 names and counts IPv6 lengths
    [ "$(tail -n +2 "$BATS_TEST_TMPDIR/$v.csv" | awk -F, '{n += $5} END {print n}')" -eq 12 ]
    run awk -F, 'NR > 1 && ($2 !~ /^2001:db8::c612:200[1-6]$/ || $3 !~ /^2001:db8::c612:1/) {print}' "$BATS_TEST_TMPDIR/$v.csv"
    assert_output ""
  done
}

@test "IPv6: udpplain over IPv6 through xpro-tun, header version 2 signed over the inner IPv6 addresses" {
  local tun=${XPRO_BUILD:-build}/bin/xpro-tun keys=$BATS_TEST_TMPDIR/bot.keys
  [ -x "$tun" ] || skip "xpro-tun not built"
  # IPv6 on the link for this test: the proxy's IPv6 name on r0 (neighbour discovery
  # stays on the link), the victims' /120 via it, the bots' names routed local
  xp6_enable "$BNS" b0 lo
  xp6_enable "$RNS" r0
  xp6_addr "$BNS" b0 2001:db8::c612:c8/120
  xp6_addr "$RNS" r0 2001:db8::c612:1/120
  timeout 10 ip -n "$BNS" -6 route add 2001:db8::c612:100/120 via 2001:db8::c612:1 dev b0 mtu 1452
  timeout 10 ip -n "$BNS" -6 route add local 2001:db8::c612:2000/116 dev lo
  # bot 198.18.32.1's own key, index 5 (docs/protocol.md: k0 = bytes 0-7 little-endian)
  ( umask 077; echo "198.18.32.1 000102030405060708090a0b0c0d0e0f 5" > "$keys" )
  run xp_exec "$BNS" timeout 20 "$tun" attach b0 --proxy 198.18.0.1 --key-file "$keys"
  assert_success
  cap_start v6plain
  run bot --vector udpplain --target 2001:db8::c612:105 --dport 9999 --len 30 --sources 2001:db8::c612:2000/120 \
    --bots 1 --proxy 198.18.0.1 --duration 5 --count 6 --rate 20 -q
  assert_success
  cap_stop
  xp_exec "$BNS" timeout 20 "$tun" detach b0
  for ns in "$BNS" "$RNS"; do xp_exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
  [ "$(q length)" -eq 6 ]
  # outer IPv4 from the low 32 bits of the inner source, X-Pro version 2 (20 bytes),
  # inner length = 40 + 8 + 30
  all '.tun.version == 2 and .tun.src == "198.18.32.1" and .tun.dst == "198.18.0.1" and .tun.dport == 5683 and .tun.ip_csum_ok'
  all '.ver == 6 and .src == "2001:db8::c612:2001" and .dst == "2001:db8::c612:105" and .proto == 17'
  all '.len == 78 and .tun.inner_len == 78 and .tun.len == 78 + 48 and .dport == 9999 and .l4_csum_ok'
  # sequence numbers 1..6, key index 5, and the MAC: SipHash-2-4 (an independent
  # implementation, from its paper) of outer source, proxy, header bytes 0-7 and
  # the inner IPv6 source and destination, least significant byte first
  run "$PY" - "$CAP.jsonl" <<'PYEOF'
import ipaddress, json, socket, struct, sys
M = (1 << 64) - 1
def rotl(x, b): return ((x << b) | (x >> (64 - b))) & M
def siphash24(key, msg):
    k0, k1 = struct.unpack("<QQ", key)
    v = [k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d, k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573]
    def rnd():
        v[0] = (v[0] + v[1]) & M; v[1] = rotl(v[1], 13) ^ v[0]; v[0] = rotl(v[0], 32)
        v[2] = (v[2] + v[3]) & M; v[3] = rotl(v[3], 16) ^ v[2]
        v[0] = (v[0] + v[3]) & M; v[3] = rotl(v[3], 21) ^ v[0]
        v[2] = (v[2] + v[1]) & M; v[1] = rotl(v[1], 17) ^ v[2]; v[2] = rotl(v[2], 32)
    tail = len(msg) % 8
    body = msg[:len(msg) - tail]
    for i in range(0, len(body), 8):
        m = struct.unpack("<Q", body[i:i + 8])[0]
        v[3] ^= m; rnd(); rnd(); v[0] ^= m
    b = (len(msg) & 0xFF) << 56 | int.from_bytes(msg[len(body):], "little")
    v[3] ^= b; rnd(); rnd(); v[0] ^= b
    v[2] ^= 0xFF
    for _ in range(4): rnd()
    return v[0] ^ v[1] ^ v[2] ^ v[3]
key = bytes(range(16))
seqs, ok = [], 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    h = bytes.fromhex(r["tun"]["hdr"])
    msg = (socket.inet_aton(r["tun"]["src"]) + socket.inet_aton(r["tun"]["dst"]) + h[:8] +
           ipaddress.IPv6Address(r["src"]).packed + ipaddress.IPv6Address(r["dst"]).packed)
    assert len(msg) == 48
    seqs.append(struct.unpack("!I", h[4:8])[0])
    ok += struct.unpack("!I", h[8:12])[0] == 5 and struct.unpack("<Q", h[12:20])[0] == siphash24(key, msg)
print(seqs, ok)
PYEOF
  assert_success
  assert_output "[1, 2, 3, 4, 5, 6] 6"
}

@test "IPv6: inline mode sends IPv6 frames (EtherType 0x86DD) to the proxy's MAC, nothing else" {
  cap_start v6inline in "ip or ip6"
  run bot --vector syn --target 2001:db8::c612:165 --sources 2001:db8::c612:2000/126 --proxy 198.18.0.1 \
    --mode inline --duration 5 --count 5 --seed 3 -q
  assert_success
  cap_stop
  [ "$(q length)" -eq 5 ]
  all '.eth_type == 34525 and .ver == 6 and (.tun | not) and .proto == 6 and .flags == 2 and .l4_csum_ok'
  all '(.src | test("^2001:db8::c612:200[1-2]$")) and .dst == "2001:db8::c612:165" and .len == 80'
  [ "$(distinct .eth_dst)" -eq 1 ]
  [ "$(q '.[0].eth_dst')" = "$(ip -n "$RNS" -j link show r0 | jq -r '.[0].address' | tr -d :)" ]
}

@test "--key-file with a key for some bots only: every bot's packets logged under its own addresses" {
  local keys=$BATS_TEST_TMPDIR/some.keys
  ( umask 077; echo "198.18.32.1 000102030405060708090a0b0c0d0e0f 0" > "$keys" )
  for fam in 4 6; do
    if [ "$fam" = 4 ]; then t=198.18.1.5; else t=2001:db8::c612:105; fi
    run bot --vector udp --target "$t" --sources 2 --proxy 198.18.0.1 --key-file "$keys" --duration 5 --count 4 \
      --len 10 --log "$BATS_TEST_TMPDIR/k$fam.csv" -q
    assert_success
    # bots .1 (version 2) and .2 (version 1) alternate: 2 packets each, to the target
    run bash -c "awk -F, 'NR > 1 { n[\$2 \" \" \$3] += \$5 } END { for (k in n) print k, n[k] }' '$BATS_TEST_TMPDIR/k$fam.csv' | sort"
    if [ "$fam" = 4 ]; then
      assert_output "$(printf '198.18.32.1 198.18.1.5 2\n198.18.32.2 198.18.1.5 2' | sort)"
    else
      assert_output "$(printf '2001:db8::c612:2001 2001:db8::c612:105 2\n2001:db8::c612:2002 2001:db8::c612:105 2' | sort)"
    fi
  done
}
