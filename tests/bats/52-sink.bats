#!/usr/bin/env bats
# xpro-sink, the victim service (docs/xpro-sink.md), on two namespaces:
#
#   cl: c0 198.18.16.10/20 (legit), 198.18.32.10/20 (bot) ==== eth0 198.18.1.2/24 :vic
#
# Both sides route the other's subnets on-link. The client is a small
# Python (Debian's /usr/bin/python3, stdlib only) written by this file; its
# checksum is that of the test-side decoder, traffic/bot/botpcap.py. Every
# expected byte and count below is worked out by hand from RFC 7252 (CoAP),
# RFC 9112 (HTTP/1.1), MQTT 3.1.1 and the packets the test itself sends.

load lib/xpro
load lib/inet6

SINK=${XPRO_BUILD:-build}/bin/xpro-sink
PY=/usr/bin/python3
CLASSES=legit=198.18.16.0/20,bot=198.18.32.0/20

setup_file() {
  xp_require_root
  [[ -x $SINK ]] || { echo "missing $SINK: run make build" >&3; return 1; }
  export CL VIC CLIENT
  xp_pair CL cl c0 198.18.16.10/20 VIC vic eth0 198.18.1.2/24
  xp_addr "$CL" c0 198.18.32.10/20
  timeout 10 ip -n "$CL" route add 198.18.1.0/24 dev c0
  timeout 10 ip -n "$VIC" route add 198.18.16.0/20 dev eth0
  timeout 10 ip -n "$VIC" route add 198.18.32.0/20 dev eth0
  # no IPv6 chatter (router solicitations, MLD) on the counted link
  xp_exec "$VIC" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 || true
  xp_exec "$CL" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 || true
  # resolve ARP both ways once: the counted tests then see only IPv4
  xp_exec "$CL" timeout 5 ping -c 1 -W 1 -I 198.18.16.10 198.18.1.2 >/dev/null 2>&1 ||
    xp_exec "$CL" timeout 5 "$PY" -c 'import socket; s=socket.socket(2,2); s.bind(("198.18.16.10",0)); s.sendto(b"x",("198.18.1.2",9))'
  CLIENT=$BATS_FILE_TMPDIR/sinkc.py
  cat > "$CLIENT" <<'EOF'
# sinkc.py: the test's client. Prints what came back as hex, one line per answer.
import socket, struct, sys, time
from botpcap import csum as ones_sum  # the test-side decoder's folded 16-bit sum (RFC 1071)

VIC = "198.18.1.2"

def csum(b):
    return (~ones_sum(b)) & 0xFFFF

def ip4(src, dst, proto, payload, ident):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, 0, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload

def cmd_udp(args):  # udp SRC DPORT COUNT HEXPAYLOAD [wait]: send, print every answer
    src, dport, n, payload = args[0], int(args[1]), int(args[2]), bytes.fromhex(args[3])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    for _ in range(n):
        s.sendto(payload, (VIC, dport))
        time.sleep(0.002)
    s.settimeout(float(args[4]) if len(args) > 4 else 0.5)
    try:
        while True:
            print(s.recv(2048).hex())
    except socket.timeout:
        pass

def cmd_tcp(args):  # tcp SRC DPORT HEXCHUNK...: send each chunk, print all that came back
    src, dport = args[0], int(args[1])
    s = socket.create_connection((VIC, dport), timeout=2, source_address=(src, 0))
    for c in args[2:]:
        s.sendall(bytes.fromhex(c))
        time.sleep(0.05)
    s.settimeout(0.5)
    got = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                got += b"<closed>"
                break
            got += d
    except socket.timeout:
        pass
    print(got.hex())

def cmd_raw(args):  # raw SRC KIND COUNT: KIND syn (to port 7777) or gre
    src, kind, n = args[0], args[1], int(args[2])
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for i in range(n):
        if kind == "syn":
            tcp = struct.pack("!HHIIBBHHH", 40000 + i, 7777, 1000 + i, 0, 5 << 4, 0x02, 1024, 0, 0)
            ph = socket.inet_aton(src) + socket.inet_aton(VIC) + struct.pack("!BBH", 0, 6, len(tcp))
            tcp = tcp[:16] + struct.pack("!H", csum(ph + tcp)) + tcp[18:]
            pkt = ip4(src, VIC, 6, tcp, i + 1)
        else:  # GRE carrying 8 bytes of nothing
            pkt = ip4(src, VIC, 47, struct.pack("!HH", 0, 0x0800) + bytes(8), i + 1)
        s.sendto(pkt, (VIC, 0))
        time.sleep(0.002)

def cmd_conns(args):  # conns SRC DPORT N: open N, then report which the sink closed at once
    src, dport, n = args[0], int(args[1]), int(args[2])
    socks = [socket.create_connection((VIC, dport), timeout=2, source_address=(src, 0)) for _ in range(n)]
    time.sleep(0.3)
    out = []
    for s in socks:
        s.settimeout(0.2)
        try:
            out.append("closed" if s.recv(10) == b"" else "data")
        except socket.timeout:
            out.append("open")
        except ConnectionResetError:
            out.append("closed")
    print(" ".join(out))

{"udp": cmd_udp, "tcp": cmd_tcp, "raw": cmd_raw, "conns": cmd_conns}[sys.argv[1]](sys.argv[2:])
EOF
}

teardown_file() { xp_teardown_all; }

teardown() {
  xp_dump_on_failure
  xp_teardown_all
}

# the client, with traffic/bot/botpcap.py (its checksum) on the import path
# (-B: no __pycache__ left in the tree)
cl() { xp_exec "$CL" timeout 20 env PYTHONPATH="$BATS_TEST_DIRNAME/../../traffic/bot" "$PY" -B "$CLIENT" "$@"; }

# sink ARGS...: xpro-sink in the victim, files in $BATS_TEST_TMPDIR; waits for "ready"
sink() {
  local i
  SINK_PID=$(xp_spawn --ns "$VIC" sink "$(realpath "$SINK")" --iface eth0 --class-map "$CLASSES" \
    --log "$BATS_TEST_TMPDIR/log.csv" --series "$BATS_TEST_TMPDIR/series.csv" \
    --summary "$BATS_TEST_TMPDIR/summary.json" "$@")
  SINK_LOG=$(xp_log_of "$SINK_PID")
  for ((i = 0; i < 50; i++)); do
    grep -q "ready" "$SINK_LOG" && return 0
    kill -0 "$SINK_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "xpro-sink did not start:"; cat "$SINK_LOG"
  return 1
}

# sink_stop: SIGTERM, then wait (at most 5 s) until it is gone
sink_stop() {
  local i
  kill -TERM "$SINK_PID"
  for ((i = 0; i < 50; i++)); do
    kill -0 "$SINK_PID" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "xpro-sink still running 5 s after SIGTERM"
  return 1
}

j() { jq -r "$1" "$BATS_TEST_TMPDIR/summary.json"; }
# hex: stdin as one line of lower-case hex (coreutils od)
hex() { od -An -v -tx1 | tr -d ' \n'; }

@test "xpro-sink refuses to run in the initial network namespace, naming the testbed range" {
  run timeout 10 "$SINK" --duration 1 --iface none
  assert_failure 1
  assert_output --partial "initial network namespace"
  assert_output --partial "198.18.0.0/15"
}

@test "xpro-sink --help describes the options; a run without a bound is refused" {
  run timeout 10 "$SINK" --help
  assert_success
  assert_output --partial "--duration S"
  assert_output --partial "--class-map"
  assert_output --partial "ts,class,packets,bytes,requests,cpu_ms"
  run xp_exec "$VIC" timeout 10 "$SINK" --iface none
  assert_failure 2
  assert_output --partial "exactly one of --duration S and --until-signal"
  run xp_exec "$VIC" timeout 10 "$SINK" --duration 1 --class-map "legit=10.0.0/8"
  assert_failure 2
  assert_output --partial "legit=10.0.0/8"
}

@test "a CoAP request, an HTTP GET and MQTT CONNECT/PUBLISH/PINGREQ are answered byte by byte" {
  sink --duration 20
  # CoAP CON GET, message ID 0x1234, token aa bb, Uri-Path "test":
  # ACK (0x60 | TKL 2), 2.05 Content (0x45), same ID and token, 0xff, "ok"
  run cl udp 198.18.16.10 5684 1 42011234aabbb474657374
  assert_success
  assert_output "62451234aabbff6f6b"
  # CoAP NON POST, ID 0x0001, token 01: NON (0x50 | 1), 2.01 Created (0x41), no payload
  run cl udp 198.18.16.10 5684 1 5102000101
  assert_output "5141000101"
  # CoAP ping (CON, code 0.00, ID 0x5678): RST (0x70) with the same ID
  run cl udp 198.18.16.10 5684 1 40005678
  assert_output "70005678"
  # not CoAP (version 0): counted, not answered
  run cl udp 198.18.16.10 5684 1 00010203
  assert_output ""
  # HTTP/1.1: two GETs on one connection (keep-alive), the second asks to close
  get1=$(printf 'GET / HTTP/1.1\r\nHost: vic\r\n\r\n' | hex)
  get2=$(printf 'GET /x HTTP/1.1\r\nHost: vic\r\nConnection: close\r\n\r\n' | hex)
  run cl tcp 198.18.16.10 80 "$get1" "$get2"
  assert_success
  want=$(printf 'HTTP/1.1 200 OK\r\nServer: xpro-sink\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nok\nHTTP/1.1 200 OK\r\nServer: xpro-sink\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n<closed>' | hex)
  assert_output "$want"
  # HTTP/1.0 without keep-alive: answered, then closed
  get3=$(printf 'GET / HTTP/1.0\r\n\r\n' | hex)
  want=$(printf 'HTTP/1.1 200 OK\r\nServer: xpro-sink\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n<closed>' | hex)
  run cl tcp 198.18.16.10 80 "$get3"
  assert_output "$want"
  # MQTT 3.1.1: CONNECT (client id "", clean session, keep-alive 60) -> CONNACK 20 02 00 00;
  # PUBLISH QoS 1 topic "a/b" packet id 7 payload "xy" -> PUBACK 40 02 00 07;
  # PUBLISH QoS 0 topic "a/1" payload "0" -> nothing; PINGREQ -> PINGRESP d0 00; DISCONNECT -> the sink closes
  run cl tcp 198.18.16.10 1883 100c00044d5154540402003c0000 3209000361 2f6200077879 \
    30060003612f3130 c000 e000
  assert_success
  assert_output "2002000040020007d000$(printf '<closed>' | hex)"
  sink_stop
  # 3 CoAP (GET, POST, ping) + 3 HTTP + 3 MQTT answers, all from the legit source
  run j '[.requests.coap, .requests.http, .requests.mqtt, .requests_answered, .udp_other, .mqtt_qos0, .by_class.legit.requests] | @tsv'
  assert_output "$(printf '3\t3\t3\t9\t1\t1\t9')"
}

@test "datagrams from two sources in two classes are counted exactly, per source and class" {
  sink --duration 20
  # 30 datagrams of 10 bytes to a closed port from the legit source, 20 to the CoAP
  # port (not CoAP) from the bot source: IPv4 20 + UDP 8 + 10 = 38 bytes each
  cl udp 198.18.16.10 9999 30 00112233445566778899 0.1
  cl udp 198.18.32.10 5684 20 00112233445566778899 0.1
  sink_stop
  run j '[.received, .bytes, .by_class.legit.packets, .by_class.legit.bytes, .by_class.bot.packets, .by_class.bot.bytes] | @tsv'
  assert_output "$(printf '50\t1900\t30\t1140\t20\t760')"
  run j '[.sources, .by_source["198.18.16.10"].packets, .by_source["198.18.16.10"].class, .by_source["198.18.32.10"].packets, .by_source["198.18.32.10"].class] | @tsv'
  assert_output "$(printf '2\t30\tlegit\t20\tbot')"
  [ "$(j .udp_other)" -eq 20 ]
  [ "$(j .requests_answered)" -eq 0 ]
  # the per-second CSV, summed over its rows, says the same per (src, dst, class)
  run bash -c "awk -F, 'NR > 1 { k = \$2 \" \" \$3 \" \" \$4; p[k] += \$5; b[k] += \$6 }
               END { for (k in p) print k, p[k], b[k] }' '$BATS_TEST_TMPDIR/log.csv' | sort"
  assert_output "$(printf '198.18.16.10 198.18.1.2 legit 30 1140\n198.18.32.10 198.18.1.2 bot 20 760')"
  run head -1 "$BATS_TEST_TMPDIR/log.csv"
  assert_output "ts,src,dst,class,packets,bytes"
}

@test "raw SYNs to a closed port and GRE packets are counted though no socket takes them" {
  sink --duration 20
  # 25 SYNs (IPv4 20 + TCP 20 = 40 bytes) and 5 GRE packets (20 + 4 + 8 = 32 bytes)
  cl raw 198.18.32.10 syn 25
  cl raw 198.18.32.10 gre 5
  sleep 0.2
  sink_stop
  run j '[.received, .bytes, .by_class.bot.packets, .by_class.bot.bytes, (.by_class.legit // 0)] | @tsv'
  assert_output "$(printf '30\t1160\t30\t1160\t0')"
}

@test "the series and the received CSV agree with the summary; requests are counted per class" {
  sink --duration 20
  cl udp 198.18.16.10 5684 7 40010001 0.3     # 7 CoAP GETs (ID 1, no token): 7 answers
  cl udp 198.18.32.10 5684 4 40010002 0.3     # 4 more from the bot class
  cl raw 198.18.32.10 syn 6
  sink_stop
  [ "$(j .requests_answered)" -eq 11 ]
  [ "$(j .by_class.legit.requests)" -eq 7 ]
  [ "$(j .by_class.bot.requests)" -eq 4 ]
  # every IPv4 packet: 11 requests (32 bytes each: 20 + 8 + 4) and 6 SYNs (40 bytes)
  [ "$(j .received)" -eq 17 ]
  [ "$(j .bytes)" -eq $((11 * 32 + 6 * 40)) ]
  run awk -F, 'NR > 1 && $2 == "all" { p += $3; b += $4; r += $5 } END { print p, b, r }' \
    "$BATS_TEST_TMPDIR/series.csv"
  assert_output "17 $((11 * 32 + 6 * 40)) 11"
  run awk -F, 'NR > 1 && $2 != "all" { p[$2] += $3; r[$2] += $5 } END { print p["legit"], r["legit"], p["bot"], r["bot"] }' \
    "$BATS_TEST_TMPDIR/series.csv"
  assert_output "7 7 10 4"
  run awk -F, 'NR > 1 { p += $5; b += $6 } END { print p, b }' "$BATS_TEST_TMPDIR/log.csv"
  assert_output "17 $((11 * 32 + 6 * 40))"
  # one "all" row per second of the run, consecutive
  run awk -F, 'NR > 1 && $2 == "all" { if (last && $1 != last + 1) bad = 1; last = $1; n++ } END { print (n >= 1 && !bad) }' \
    "$BATS_TEST_TMPDIR/series.csv"
  assert_output 1
  [ "$(j .pps_peak)" -ge 1 ]
  [ "$(j .pps_peak)" -le 17 ]
}

@test "SIGTERM ends an --until-signal run cleanly and the files are complete" {
  sink --until-signal --max-duration 60
  cl udp 198.18.16.10 5684 3 40010003 0.3
  sink_stop
  run j '.stopped_by, .requests.coap, .received'
  assert_output $'SIGTERM\n3\n3'
  run awk -F, 'NR > 1 { p += $5 } END { print p }' "$BATS_TEST_TMPDIR/log.csv"
  assert_output 3
  grep -q "received 3 packets, answered 3 requests" "$SINK_LOG"
}

@test "TCP connections are bounded: beyond --max-conns they are closed at once" {
  sink --duration 20 --max-conns 2 --iface none
  run cl conns 198.18.16.10 80 4
  assert_success
  assert_output "open open closed closed"
  sink_stop
  run j '.conns.accepted, .conns.refused'
  assert_output $'2\n2'
}

@test "IPv6 and IPv4 on the same port: both answered, both counted per source and class (IPv6 names in the logs)" {
  # IPv6 on the link for this test only: static addresses, static neighbours (no
  # neighbour discovery counted), the client's IPv6 name of 198.18.16.10
  xp6_enable "$VIC" eth0
  xp6_enable "$CL" c0
  xp6_addr "$VIC" eth0 2001:db8::c612:102/120
  xp6_addr "$CL" c0 2001:db8::c612:100a/116
  timeout 10 ip -n "$CL" -6 route add 2001:db8::c612:100/120 dev c0
  timeout 10 ip -n "$VIC" -6 route add 2001:db8::c612:1000/116 dev eth0
  timeout 10 ip -n "$CL" neigh replace 2001:db8::c612:102 lladdr "$(ip -n "$VIC" -j link show eth0 | jq -r '.[0].address')" dev c0 nud permanent
  timeout 10 ip -n "$VIC" neigh replace 2001:db8::c612:100a lladdr "$(ip -n "$CL" -j link show c0 | jq -r '.[0].address')" dev eth0 nud permanent
  CLASSES=legit6=2001:db8::c612:1000/116,legit=198.18.16.0/20 sink --duration 20
  # 5 CoAP GETs over IPv6 (40 + 8 + 4 = 52 bytes each), 3 over IPv4 (20 + 8 + 4 = 32)
  run xp_exec "$CL" timeout 20 "$PY" -c '
import socket
n = 0
for fam, src, dst, k in ((socket.AF_INET6, "2001:db8::c612:100a", "2001:db8::c612:102", 5),
                         (socket.AF_INET, "198.18.16.10", "198.18.1.2", 3)):
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(2)
    for i in range(k):
        s.sendto(bytes([0x40, 1, 0x30, i]), (dst, 5684))
        if s.recvfrom(64)[0][:4] == bytes([0x60, 0x45, 0x30, i]):
            n += 1
print(n)'
  assert_output 8
  sink_stop
  xp_exec "$VIC" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  xp_exec "$CL" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  run j '[.received, .bytes, .by_class.legit6.packets, .by_class.legit6.bytes, .by_class.legit.packets, .requests_answered] | @tsv'
  assert_output "$(printf '8\t356\t5\t260\t3\t8')"
  run j '[.by_source["2001:db8::c612:100a"].class, .by_source["2001:db8::c612:100a"].requests, .by_source["198.18.16.10"].class] | @tsv'
  assert_output "$(printf 'legit6\t5\tlegit')"
  run bash -c "awk -F, 'NR > 1 { k = \$2 \" \" \$3 \" \" \$4; p[k] += \$5; b[k] += \$6 }
               END { for (k in p) print k, p[k], b[k] }' '$BATS_TEST_TMPDIR/log.csv' | sort"
  assert_output "$(printf '198.18.16.10 198.18.1.2 legit 3 96\n2001:db8::c612:100a 2001:db8::c612:102 legit6 5 260')"
}
