#!/usr/bin/env bats
# xpro-replay (docs/xpro-replay.md) on two namespaces:
#
#   rp: r0 198.18.0.2/24 ==== x0 198.18.0.1/24 :rx
#
# rp routes 198.18.1.0/24 and 198.18.64.0/18 via rx. The receiver is a small
# Python (Debian's /usr/bin/python3, stdlib only): a UDP socket on the tunnel
# port for tunnel mode, an AF_PACKET socket for inline mode. A second Python,
# written here from the mapping formula in docs/xpro-replay.md (not from the
# replayer's code), reads the capture itself, maps and fixes each IPv4
# packet, and compares what arrived with it, in order, byte for byte.
# Expected counts of the shared captures come from tcpdump reading them.

load lib/xpro
load lib/inet6

REPLAY=${XPRO_BUILD:-build}/bin/xpro-replay
PY=/usr/bin/python3
SHARED=$BATS_TEST_DIRNAME/../../../shared/pcaps

setup_file() {
  xp_require_root
  [[ -x $REPLAY ]] || { echo "missing $REPLAY: run make build" >&3; return 1; }
  export RP RX TOOLS
  xp_pair RP rp r0 198.18.0.2/24 RX rx x0 198.18.0.1/24
  timeout 10 ip -n "$RP" route add 198.18.1.0/24 via 198.18.0.1
  timeout 10 ip -n "$RP" route add 198.18.64.0/18 via 198.18.0.1
  timeout 10 ip -n "$RX" route add 198.18.64.0/18 via 198.18.0.2
  xp_exec "$RP" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 || true
  xp_exec "$RX" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 || true
  TOOLS=$BATS_FILE_TMPDIR
  write_tools
  # the test's own capture: known frames, IPv6 and non-IP ones among them
  "$PY" "$TOOLS/mkpcap.py" "$TOOLS/own.pcap"
}

teardown_file() { xp_teardown_all; }

teardown() {
  xp_dump_on_failure
  xp_teardown_all
}

write_tools() {
  cat > "$TOOLS/mkpcap.py" <<'EOF'
# mkpcap.py OUT: a pcap (Ethernet) with known frames; prints nothing.
import socket, struct, sys

def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF

def ip4(src, dst, proto, payload, ident, frag=0, tot=None):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tot or 20 + len(payload), ident, frag, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload

def eth(payload, et=0x0800, vlan=None):
    h = bytes.fromhex("020000000001020000000002")
    if vlan is not None: h += struct.pack("!HH", 0x8100, vlan)
    return h + struct.pack("!H", et) + payload

udp_bad = struct.pack("!HHHH", 1111, 5683, 13, 0xdead) + b"hello"      # wrong checksum: fixed by replay
udp_zero = struct.pack("!HHHH", 2222, 53, 12, 0) + b"dns?"             # no checksum: computed by replay
syn = struct.pack("!HHIIBBHHH", 40000, 80, 1, 0, 5 << 4, 0x02, 1024, 0x1234, 0)
icmp = struct.pack("!BBHHH", 8, 0, 0, 1, 1) + b"ping"
icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
frag1 = struct.pack("!HHHH", 3333, 4444, 1008, 0xbeef) + bytes(16)     # first fragment (MF)
frag2 = bytes(24)                                                      # a later fragment
ip6 = bytes.fromhex("6000000000081140") + bytes(15) + b"\1" + bytes(15) + b"\2" + struct.pack("!HHHH", 1, 2, 8, 0)
arp = bytes.fromhex("0001080006040001020000000002") + socket.inet_aton("10.0.0.2") + bytes(6) + socket.inet_aton("10.0.0.1")
big = ip4("10.1.2.3", "192.0.2.7", 17, struct.pack("!HHHH", 5, 6, 208, 0) + bytes(200), 77)

frames = [
    (eth(ip4("10.1.2.3", "192.0.2.7", 17, udp_bad, 101)), None),
    (eth(ip4("172.16.0.8", "8.8.8.8", 6, syn, 102)), None),
    (eth(ip6, 0x86DD), None),
    (eth(arp, 0x0806), None),
    (eth(ip4("10.1.2.3", "192.0.2.7", 1, icmp, 103), vlan=5), None),
    (eth(big), 60),                                   # captured 60 of 242 bytes: truncated
    (eth(ip4("192.0.2.7", "10.1.2.3", 17, udp_zero, 104)), None),
    (eth(ip4("10.9.9.9", "192.0.2.8", 17, frag1, 105, frag=0x2000)), None),
    (eth(ip4("10.9.9.9", "192.0.2.8", 17, frag2, 105, frag=3)), None),
    (eth(ip4("172.16.0.8", "8.8.4.4", 6, syn, 106) + bytes(6)), None),   # Ethernet padding
]
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
    for i, (fr, cap) in enumerate(frames):
        data = fr[:cap] if cap else fr
        f.write(struct.pack("<IIII", 1700000000, 10000 * i, len(data), len(fr)) + data)
EOF
  cat > "$TOOLS/rx.py" <<'EOF'
# rx.py udp|raw OUT COUNT IDLE: receive until COUNT packets or IDLE s without one;
# writes one hex line per packet (udp: the datagram's payload; raw: the IPv4
# packet from a 198.18.64.0/18 source). Prints "ready" once listening.
import socket, sys
mode, out, count, idle = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
if mode == "udp":
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, 33, 1 << 25)  # SO_RCVBUFFORCE
    s.bind(("198.18.0.1", 5683))
else:
    s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
    s.setsockopt(socket.SOL_SOCKET, 33, 1 << 25)
    s.bind(("x0", 0x0800))
print("ready", flush=True)
s.settimeout(idle)
got = []
try:
    while len(got) < count:
        d, a = s.recvfrom(70000)
        if mode == "raw" and (a[2] == socket.PACKET_OUTGOING or not (d[12] == 198 and d[13] == 18 and 64 <= d[14] < 128)):
            continue
        got.append(d.hex())
except socket.timeout:
    pass
open(out, "w").write("".join(g + "\n" for g in got))
print("received", len(got), flush=True)
EOF
  cat > "$TOOLS/verify.py" <<'EOF'
# verify.py PCAP GOT MODE SEED SRCRANGE DST [FROM]: what should have arrived,
# from the capture and docs/xpro-replay.md's mapping; compares with GOT in order.
# IPv6 packets count in tunnel mode only (inline, the receiver takes IPv4): an
# IPv6 address folded into 32 bits, mapped, sent as 2001:db8:: + the result.
# DST is "target:A.B.C.D" or "range:A.B.C.D/L". Prints "match N" or the first difference.
import socket, struct, sys
M = (1 << 64) - 1
pcap, got_f, mode, seed, srcr, dst = sys.argv[1:7]
frm = float(sys.argv[7]) if len(sys.argv) > 7 else None
seed = int(seed)

def smix(a):
    z = ((seed << 32) ^ a) & M
    z = (z + 0x9E3779B97F4A7C15) & M
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)

def rng(c):
    a, l = c.split("/")
    return struct.unpack("!I", socket.inet_aton(a))[0], int(l)

def mapa(r, a):
    base, l = r
    n = 1 << (32 - l)
    base &= (0xFFFFFFFF << (32 - l)) & 0xFFFFFFFF
    h = smix(a)
    return base + (1 + h % (n - 2) if n >= 4 else h % n)

def sum16(b):
    if len(b) % 2: b += b"\0"
    return sum(struct.unpack("!%dH" % (len(b) // 2), b))

def fold(s):
    while s >> 16: s = (s & 0xFFFF) + (s >> 16)
    return s

def csum(b, s=0):
    return (~fold(sum16(b) + s)) & 0xFFFF

def fold6(a):
    h = 0
    for i in range(0, 16, 4):
        h = smix(h ^ struct.unpack("!I", a[i:i + 4])[0]) & 0xFFFFFFFF
    return h

def name6(v4):
    return bytes.fromhex("20010db8") + bytes(8) + struct.pack("!I", v4)

def expected6(p):
    p = bytearray(p)
    nsrc = mapa(SR, fold6(bytes(p[8:24])))
    ndst = TARGET if TARGET is not None else mapa(DR, fold6(bytes(p[24:40])))
    p[8:24], p[24:40] = name6(nsrc), name6(ndst)
    nh, l4 = p[6], len(p) - 40
    if (nh == 6 and l4 >= 20) or (nh == 17 and l4 >= 8) or (nh == 58 and l4 >= 4):
        off = 40 + {6: 16, 17: 6, 58: 2}[nh]
        p[off:off + 2] = b"\0\0"
        c = csum(bytes(p[40:]), sum16(bytes(p[8:40])) + nh + l4)
        if nh == 17 and c == 0: c = 0xFFFF
        p[off:off + 2] = struct.pack("!H", c)
    return bytes(p)

def expected(p):
    p = bytearray(p)
    ihl = (p[0] & 15) * 4
    src, dstv = struct.unpack("!II", p[12:20])
    nsrc = mapa(SR, src)
    ndst = TARGET if TARGET is not None else mapa(DR, dstv)
    old = bytes(p[12:20])
    p[12:20] = struct.pack("!II", nsrc, ndst)
    new = bytes(p[12:20])
    p[10:12] = b"\0\0"
    p[10:12] = struct.pack("!H", csum(bytes(p[:ihl])))
    frag = struct.unpack("!H", p[6:8])[0]
    proto, l4 = p[9], len(p) - ihl
    if frag & 0x1FFF:
        return bytes(p)
    off = ihl + (16 if proto == 6 else 6)
    if frag & 0x2000:  # RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')
        if (proto == 6 and l4 >= 18) or (proto == 17 and l4 >= 8 and p[off:off + 2] != b"\0\0"):
            hc = struct.unpack("!H", p[off:off + 2])[0]
            s = (~hc & 0xFFFF)
            for i in range(0, 8, 2):
                s += (~struct.unpack("!H", old[i:i + 2])[0]) & 0xFFFF
                s += struct.unpack("!H", new[i:i + 2])[0]
            p[off:off + 2] = struct.pack("!H", (~fold(s)) & 0xFFFF)
        return bytes(p)
    if (proto == 6 and l4 >= 20) or (proto == 17 and l4 >= 8):
        p[off:off + 2] = b"\0\0"
        c = csum(bytes(p[ihl:]), sum16(bytes(p[12:20])) + proto + l4)
        if proto == 17 and c == 0: c = 0xFFFF
        p[off:off + 2] = struct.pack("!H", c)
    return bytes(p)

def frames(path):
    b = open(path, "rb").read()
    magic = struct.unpack("<I", b[:4])[0]
    e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
    link = struct.unpack(e + "I", b[20:24])[0]
    assert link == 1, "only Ethernet captures here"
    o = 24
    while o + 16 <= len(b):
        ts, us, cap, ln = struct.unpack(e + "IIII", b[o:o + 16])
        yield ts + us / (1e9 if nano else 1e6), b[o + 16:o + 16 + cap]
        o += 16 + cap

SR = rng(srcr)
TARGET = DR = None
if dst.startswith("target:"):
    TARGET = struct.unpack("!I", socket.inet_aton(dst[7:]))[0]
else:
    DR = rng(dst[6:])
want = []
for ts, f in frames(pcap):
    if frm is not None and ts < frm: continue
    o, et = 14, struct.unpack("!H", f[12:14])[0]
    while et in (0x8100, 0x88A8):
        et = struct.unpack("!H", f[o + 2:o + 4])[0]; o += 4
    if et == 0x86DD and mode == "tunnel" and len(f) >= o + 40 and f[o] >> 4 == 6:
        tot = 40 + struct.unpack("!H", f[o + 4:o + 6])[0]
        if len(f) - o >= tot: want.append(expected6(f[o:o + tot]))
        continue
    if et != 0x0800 or len(f) < o + 20 or f[o] >> 4 != 4: continue
    tot = struct.unpack("!H", f[o + 2:o + 4])[0]
    if len(f) - o < tot: continue  # truncated
    want.append(expected(f[o:o + tot]))
got = [bytes.fromhex(l) for l in open(got_f).read().split()]
if mode == "tunnel":
    for i, g in enumerate(got):
        if g[:2] != b"\x58\x01" or struct.unpack("!H", g[2:4])[0] != len(g) - 4:
            sys.exit("packet %d: bad X-Pro header %s" % (i, g[:4].hex()))
    got = [g[4:] for g in got]
for i, g in enumerate(got):  # checksums valid on their own, whatever the expectation says
    if g[0] >> 4 == 6:
        if g[6] in (6, 17, 58) and csum(g[40:], sum16(g[8:40]) + g[6] + len(g) - 40) != 0:
            sys.exit("packet %d: bad IPv6 transport checksum" % i)
        if g[24:34] != bytes.fromhex("20010db8") + bytes(6) or g[36] != 198 or g[37] >> 1 != 9:
            sys.exit("packet %d: destination outside 2001:db8::198.18.0.0/111" % i)
        continue
    ihl = (g[0] & 15) * 4
    if csum(g[:ihl]) != 0: sys.exit("packet %d: bad IPv4 checksum" % i)
    frag = struct.unpack("!H", g[6:8])[0]
    if not frag & 0x3FFF and g[9] in (6, 17) and csum(g[ihl:], sum16(g[12:20]) + g[9] + len(g) - ihl) != 0:
        sys.exit("packet %d: bad transport checksum" % i)
    d = struct.unpack("!I", g[16:20])[0]
    if d >> 17 != 0xC612 >> 1: sys.exit("packet %d: destination outside 198.18.0.0/15" % i)
if len(got) != len(want):
    sys.exit("count: got %d, want %d" % (len(got), len(want)))
for i, (g, w) in enumerate(zip(got, want)):
    if g != w: sys.exit("packet %d differs:\n got  %s\n want %s" % (i, g.hex(), w.hex()))
print("match", len(got))
EOF
}

# receive MODE COUNT: starts rx.py in rx; RX_OUT names its output file
receive() {
  local i
  RX_OUT=$BATS_TEST_TMPDIR/got.$RANDOM
  RX_PID=$(xp_spawn --ns "$RX" rx "$PY" "$TOOLS/rx.py" "$1" "$RX_OUT" "$2" 2)
  RX_LOG=$(xp_log_of "$RX_PID")
  for ((i = 0; i < 50; i++)); do
    grep -q ready "$RX_LOG" && return 0
    sleep 0.1
  done
  echo "receiver did not start"; cat "$RX_LOG"; return 1
}

# received: waits (at most 60 s) for the receiver to finish
received() {
  local i
  for ((i = 0; i < 600; i++)); do
    grep -q received "$RX_LOG" && { cat "$RX_LOG"; return 0; }
    sleep 0.1
  done
  echo "receiver still running"; return 1
}

replay() { xp_exec "$RP" timeout 120 "$REPLAY" "$@"; }
verify() { timeout 120 "$PY" "$TOOLS/verify.py" "$@"; }
js() { jq -r "$1" "$BATS_TEST_TMPDIR/summary.json"; }

need_shared() {
  [[ -d $SHARED ]] || skip "../shared/pcaps is absent ($SHARED): the shared captures exist only in CI"
}

@test "the test's own capture round-trips through the tunnel: mapped, checksums fixed, in order" {
  receive udp 8
  run replay --pcap "$TOOLS/own.pcap" --proxy 198.18.0.1 --dst-range 198.18.1.0/24 --seed 7 \
    --speed 1 --summary "$BATS_TEST_TMPDIR/summary.json" --log "$BATS_TEST_TMPDIR/sent.csv"
  assert_success
  received
  # 10 frames: 7 IPv4 sent (one padded), 1 IPv6 sent, 1 ARP, 1 truncated
  run js '[.sent, .sent_ipv6, .read, .skipped_ipv6, .skipped_nonip, .skipped_truncated, .seed, .stopped_by] | @tsv'
  assert_output "$(printf '8\t1\t10\t0\t1\t1\t7\tend')"
  run verify "$TOOLS/own.pcap" "$RX_OUT" tunnel 7 198.18.64.0/18 range:198.18.1.0/24
  assert_success
  assert_output "match 8"
  # the sent log: 8 packets, inner bytes 33+40+32+32+40+44+44 (IPv4 total lengths) + 48 (IPv6)
  run awk -F, 'NR > 1 { p += $5; b += $6 } END { print p, b }' "$BATS_TEST_TMPDIR/sent.csv"
  assert_output "8 $((33 + 40 + 32 + 32 + 44 + 44 + 40 + 48))"
  run awk -F, 'NR > 1 && ($2 !~ /^198\.18\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\./ || $3 !~ /^198\.18\.1\./) { bad++ } END { print bad + 0 }' \
    "$BATS_TEST_TMPDIR/sent.csv"
  assert_output 1
  # the IPv6 one by its testbed names: 2001:db8:: + an address of 198.18.64.0/18 and of 198.18.1.0/24
  run awk -F, 'NR > 1 && $2 ~ /^2001:db8::c612:[4-7][0-9a-f][0-9a-f][0-9a-f]$/ && $3 ~ /^2001:db8::c612:1[0-9a-f][0-9a-f]$/ { print $5, $6 }' \
    "$BATS_TEST_TMPDIR/sent.csv"
  assert_output "1 48"
}

@test "inline mode sends the mapped packets themselves, byte for byte" {
  receive raw 7
  run replay --pcap "$TOOLS/own.pcap" --mode inline --target 198.18.1.9 --seed 3 --speed 0 --ipv6 skip \
    --summary "$BATS_TEST_TMPDIR/summary.json"
  assert_success
  received
  run verify "$TOOLS/own.pcap" "$RX_OUT" inline 3 198.18.64.0/18 target:198.18.1.9
  assert_success
  assert_output "match 7"
  [ "$(js .mode)" = inline ]
}

@test "the same seed gives the same bytes; another seed other addresses" {
  local run s tag
  for run in "11 a" "11 b" "12 a"; do
    read -r s tag <<< "$run"
    receive udp 8
    replay --pcap "$TOOLS/own.pcap" --proxy 198.18.0.1 --target 198.18.1.9 --seed "$s" --speed 0 \
      >/dev/null 2>&1
    received >/dev/null
    cp "$RX_OUT" "$BATS_TEST_TMPDIR/seed.$s.$tag"
  done
  [ "$(wc -l < "$BATS_TEST_TMPDIR/seed.11.a")" -eq 8 ]
  cmp "$BATS_TEST_TMPDIR/seed.11.a" "$BATS_TEST_TMPDIR/seed.11.b"
  run cmp -s "$BATS_TEST_TMPDIR/seed.11.a" "$BATS_TEST_TMPDIR/seed.12.a"
  assert_failure
  run verify "$TOOLS/own.pcap" "$BATS_TEST_TMPDIR/seed.12.a" tunnel 12 198.18.64.0/18 target:198.18.1.9
  assert_output "match 8"
}

@test "--loop, --limit and --rate bound the replay; the summary says what stopped it" {
  run replay --pcap "$TOOLS/own.pcap" --proxy 198.18.0.1 --target 198.18.1.9 --speed 0 --loop 3 \
    --summary "$BATS_TEST_TMPDIR/summary.json"
  assert_success
  run js '[.sent, .loops, .sent_ipv6, .skipped_ipv6, .stopped_by] | @tsv'
  assert_output "$(printf '24\t3\t3\t0\tend')"
  run replay --pcap "$TOOLS/own.pcap" --proxy 198.18.0.1 --target 198.18.1.9 --speed 0 --loop 3 --ipv6 skip \
    --summary "$BATS_TEST_TMPDIR/summary.json"
  run js '[.sent, .sent_ipv6, .skipped_ipv6] | @tsv'
  assert_output "$(printf '21\t0\t3')"
  run replay --pcap "$TOOLS/own.pcap" --proxy 198.18.0.1 --target 198.18.1.9 --speed 0 --loop 3 \
    --limit 10 --summary "$BATS_TEST_TMPDIR/summary.json"
  run js '[.sent, .stopped_by] | @tsv'
  assert_output "$(printf '10\tlimit')"
  # 1000 loops at 50 packets/s cannot finish in 1 s: the duration stops it
  run replay --pcap "$TOOLS/own.pcap" --proxy 198.18.0.1 --target 198.18.1.9 --speed 0 --loop 1000 \
    --rate 50 --duration 1 --summary "$BATS_TEST_TMPDIR/summary.json"
  assert_success
  [ "$(js .stopped_by)" = duration ]
  [ "$(js .sent)" -ge 1 ]
  [ "$(js .sent)" -le 51 ]
}

@test "--class NAME=EXPR: libpcap filters on the captured frame label a mixed capture, first match wins" {
  # the 7 IPv4 packets of the own capture: the two SYNs (tcp-syn), the two fragments
  # (offset or MF), the ICMP behind a VLAN tag (vlan), the UDP to port 53 (dns), and
  # the UDP with a wrong checksum and the IPv6 UDP (no filter: the default class other).
  # 'early' would match the fragments too, but 'frag' comes first: it gets nothing.
  run replay --pcap "$TOOLS/own.pcap" --proxy 198.18.0.1 --target 198.18.1.9 --speed 0 \
    --class 'scan=tcp[tcpflags] & tcp-syn != 0' --class 'frag=ip[6:2] & 0x3fff != 0' \
    --class 'early=src host 10.9.9.9' --class vlan=vlan --class 'dns=udp dst port 53' --class other \
    --log "$BATS_TEST_TMPDIR/sent.csv" --summary "$BATS_TEST_TMPDIR/summary.json"
  assert_success
  run js '.by_class | to_entries | map("\(.key)=\(.value.packets)") | sort | join(" ")'
  assert_output "dns=1 frag=2 other=2 scan=2 vlan=1"
  # the log carries the same classes (every row: ts,src,dst,class,packets,bytes)
  run awk -F, 'NR > 1 { n[$4] += $5 } END { for (c in n) printf "%s=%d\n", c, n[c] }' "$BATS_TEST_TMPDIR/sent.csv"
  assert_output --partial "scan=2"
  assert_output --partial "frag=2"
  # hostile input: a filter libpcap cannot compile, a bad name, an empty expression
  run replay --pcap "$TOOLS/own.pcap" --proxy 198.18.0.1 --target 198.18.1.9 --class 'bad=tcp[13] & and'
  assert_failure 2
  assert_output --partial "--class bad=tcp[13] & and: not a libpcap filter expression"
  run replay --pcap "$TOOLS/own.pcap" --proxy 198.18.0.1 --target 198.18.1.9 --class 'b@d=tcp'
  assert_failure 2
  assert_output --partial "is not NAME=EXPR"
  run replay --pcap "$TOOLS/own.pcap" --proxy 198.18.0.1 --target 198.18.1.9 --class 'x='
  assert_failure 2
  assert_output --partial "empty filter expression"
}

@test "--min-ttl raises a captured TTL below it (a TTL-1 packet would expire at the proxy)" {
  # every packet of the own capture has TTL 64: --min-ttl 100 raises all 7, 64 none
  # (inline, this namespace has no IPv6: its IPv6 frame skipped)
  run replay --pcap "$TOOLS/own.pcap" --mode inline --target 198.18.1.9 --speed 0 --min-ttl 100 --ipv6 skip \
    --write "$BATS_TEST_TMPDIR/out.pcap" --summary "$BATS_TEST_TMPDIR/summary.json"
  assert_success
  [ "$(js .ttl_raised)" -eq 7 ]
  run bash -c "tcpdump -nn -v -r '$BATS_TEST_TMPDIR/out.pcap' 2>/dev/null | grep -c 'ttl 100,'"
  assert_output 7
  run replay --pcap "$TOOLS/own.pcap" --mode inline --target 198.18.1.9 --speed 0 --min-ttl 64 --ipv6 skip \
    --summary "$BATS_TEST_TMPDIR/summary.json"
  [ "$(js .ttl_raised)" -eq 0 ]
}

@test "safety: destinations outside 198.18.0.0/15, the initial namespace and routes out are refused" {
  run replay --pcap "$TOOLS/own.pcap" --proxy 198.18.0.1 --target 10.0.0.1
  assert_failure 1
  assert_output --partial "refusing destination 10.0.0.1"
  assert_output --partial "198.18.0.0/15"
  run replay --pcap "$TOOLS/own.pcap" --proxy 8.8.8.8 --target 198.18.1.9
  assert_failure 1
  assert_output --partial "refusing destination 8.8.8.8"
  run replay --pcap "$TOOLS/own.pcap" --proxy 198.18.0.1 --dst-range 10.0.0.0/24
  assert_failure 2
  assert_output --partial "outside the testbed range 198.18.0.0/15"
  run replay --pcap "$TOOLS/own.pcap" --proxy 198.18.0.1 --target 198.18.1.9 --src-range 192.168.0.0/16
  assert_failure 2
  assert_output --partial "198.18.0.0/15"
  run timeout 10 "$REPLAY" --pcap "$TOOLS/own.pcap" --proxy 198.18.0.1 --target 198.18.1.9
  assert_failure 1
  assert_output --partial "initial network namespace"
  assert_output --partial "198.18.0.0/15"
  # a namespace with a route out of the testbed
  BAD=$(xp_ns_new bad)
  xp_veth "$BAD" b0 "$RX" bx
  xp_addr "$BAD" b0 198.18.9.1/24
  timeout 10 ip -n "$BAD" route add 10.0.0.0/8 dev b0
  run xp_exec "$BAD" timeout 10 "$REPLAY" --pcap "$TOOLS/own.pcap" --proxy 198.18.9.2 --target 198.18.1.9
  assert_failure 1
  assert_output --partial "route 10.0.0.0/8"
  assert_output --partial "198.18.0.0/15"
  run replay --help
  assert_success
  assert_output --partial "--src-range CIDR"
}

@test "shared synscan.pcap: every IPv4 packet arrives through the tunnel, mapped, in order" {
  need_shared
  want=$(timeout 30 tcpdump -nn -r "$SHARED/synscan.pcap" 'ip or (vlan and ip)' 2>/dev/null | wc -l)
  all=$(timeout 30 tcpdump -nn -r "$SHARED/synscan.pcap" 2>/dev/null | wc -l)
  echo "tcpdump: $want IPv4 of $all frames"
  receive udp "$want"
  run replay --pcap "$SHARED/synscan.pcap" --proxy 198.18.0.1 --target 198.18.1.9 --seed 5 --speed 0 \
    --rate 5000 --class-src syn=172.16.0.8/32 --class legit --summary "$BATS_TEST_TMPDIR/summary.json"
  assert_success
  received
  [ "$(js .sent)" -eq "$want" ]
  [ "$(js .read)" -eq "$all" ]
  # the scanner's SYNs (ip.src == 172.16.0.8) carry the attack class
  [ "$(js .by_class.syn.packets)" -eq "$(timeout 30 tcpdump -nn -r "$SHARED/synscan.pcap" 'ip src 172.16.0.8' 2>/dev/null | wc -l)" ]
  run verify "$SHARED/synscan.pcap" "$RX_OUT" tunnel 5 198.18.64.0/18 target:198.18.1.9
  assert_success
  assert_output "match $want"
}

@test "shared coap_mqtt.pcap: its 2016 segment replays time-scaled, IPv4 in order, the rest skipped and counted" {
  need_shared
  local from=1455907200  # 2016-02-19 18:40:00 UTC
  want=$(TZ=UTC timeout 30 tcpdump -nn -tttt -r "$SHARED/coap_mqtt.pcap" ip 2>/dev/null | grep -c '^2016-02-19')
  nonip=$(TZ=UTC timeout 30 tcpdump -nn -tttt -r "$SHARED/coap_mqtt.pcap" 'not ip and not ip6' 2>/dev/null | grep -c '^2016-02-19')
  before=$(TZ=UTC timeout 30 tcpdump -nn -tttt -r "$SHARED/coap_mqtt.pcap" 2>/dev/null | grep -vc '^2016-02-19')
  echo "tcpdump: 2016 segment $want IPv4, $nonip non-IP; $before frames before"
  receive udp "$want"
  # 42.6 s of capture at speed 10
  run replay --pcap "$SHARED/coap_mqtt.pcap" --from "2016-02-19 18:40:00" --speed 10 --proxy 198.18.0.1 \
    --dst-range 198.18.1.0/24 --seed 9 --summary "$BATS_TEST_TMPDIR/summary.json"
  assert_success
  received
  run js '[.sent, .skipped_nonip, .skipped_before, .skipped_ipv6] | @tsv'
  assert_output "$(printf '%s\t%s\t%s\t0' "$want" "$nonip" "$before")"
  run verify "$SHARED/coap_mqtt.pcap" "$RX_OUT" tunnel 9 198.18.64.0/18 range:198.18.1.0/24 "$from"
  assert_success
  assert_output "match $want"
  # the whole file without timing, --ipv6 skip: the IPv6 of the older segments skipped and counted
  ip6=$(timeout 30 tcpdump -nn -r "$SHARED/coap_mqtt.pcap" ip6 2>/dev/null | wc -l)
  run replay --pcap "$SHARED/coap_mqtt.pcap" --speed 0 --proxy 198.18.0.1 --target 198.18.1.9 --ipv6 skip \
    --summary "$BATS_TEST_TMPDIR/summary.json"
  assert_success
  [ "$(js .skipped_ipv6)" -eq "$ip6" ]
  [ "$(js .sent)" -eq "$want" ]
}

@test "shared coap_mqtt.pcap: its IPv6 CoAP packets are sent, mapped to testbed IPv6 names, checksums fixed" {
  need_shared
  # tcpdump counts the capture's IPv6 CoAP frames (UDP port 5683) and every IPv4 and IPv6 one
  coap6=$(timeout 30 tcpdump -nn -r "$SHARED/coap_mqtt.pcap" 'ip6 and udp port 5683' 2>/dev/null | wc -l)
  ip6=$(timeout 30 tcpdump -nn -r "$SHARED/coap_mqtt.pcap" ip6 2>/dev/null | wc -l)
  ip4=$(timeout 30 tcpdump -nn -r "$SHARED/coap_mqtt.pcap" 'ip or (vlan and ip)' 2>/dev/null | wc -l)
  echo "tcpdump: $coap6 IPv6 CoAP frames, $ip6 IPv6, $ip4 IPv4"
  [ "$coap6" -gt 0 ]
  receive udp $((ip4 + ip6))
  run replay --pcap "$SHARED/coap_mqtt.pcap" --speed 0 --rate 2000 --proxy 198.18.0.1 --target 198.18.1.9 \
    --seed 4 --summary "$BATS_TEST_TMPDIR/summary.json" --log "$BATS_TEST_TMPDIR/sent.csv"
  assert_success
  received
  [ "$(js .sent_ipv6)" -eq "$ip6" ]
  [ "$(js .sent)" -eq $((ip4 + ip6)) ]
  [ "$(js .skipped_ipv6)" -eq 0 ]
  # every frame arrives as the mapping says, the IPv6 ones as IPv6 with valid UDP checksums
  run verify "$SHARED/coap_mqtt.pcap" "$RX_OUT" tunnel 4 198.18.64.0/18 target:198.18.1.9
  assert_success
  assert_output "match $((ip4 + ip6))"
  # what arrived: as many IPv6 CoAP datagrams (UDP 5683, from or to) as tcpdump counts
  run "$PY" -c '
import sys
n = 0
for l in open(sys.argv[1]):
    g = bytes.fromhex(l.strip())[4:]
    if g[0] >> 4 == 6 and g[6] == 17 and 5683 in (int.from_bytes(g[40:42], "big"), int.from_bytes(g[42:44], "big")):
        n += 1
print(n)' "$RX_OUT"
  assert_output "$coap6"
  # the log names them by their testbed IPv6 names
  [ "$(awk -F, 'NR > 1 && $3 == "2001:db8::c612:109" { n += $5 } END { print n + 0 }' "$BATS_TEST_TMPDIR/sent.csv")" -eq "$ip6" ]
}

@test "shared mqtt.pcap (pcapng) replays every IPv4 packet" {
  need_shared
  # IPv4 with or without an 802.1Q tag (its last frame has one: `ip` alone misses it)
  want=$(timeout 30 tcpdump -nn -r "$SHARED/mqtt.pcap" 'ip or (vlan and ip)' 2>/dev/null | wc -l)
  all=$(timeout 30 tcpdump -nn -r "$SHARED/mqtt.pcap" 2>/dev/null | wc -l)
  run replay --pcap "$SHARED/mqtt.pcap" --speed 0 --proxy 198.18.0.1 --target 198.18.1.9 \
    --summary "$BATS_TEST_TMPDIR/summary.json"
  assert_success
  [ "$(js .sent)" -eq "$want" ]
  [ "$(js .read)" -eq "$all" ]
}

# proxy_run CONF_EXTRA SINK_CLASSES: dev ==== px [xpro] ==== vic with xpro attached
# (thresholds far above anything sent; CONF_EXTRA more config lines) and xpro-sink on the
# victim (--class-map SINK_CLASSES, summary in sink.json); SPID its PID, conf the config
proxy_run() {
  local XPRO=${XPRO_BUILD:-build}/bin/xpro SINK=${XPRO_BUILD:-build}/bin/xpro-sink
  [[ -x $XPRO && -x $SINK ]] || { echo "missing $XPRO or $SINK: run make build"; return 1; }
  xp_skip_unless_kernel_feature veth xdp
  #   dev d0 198.18.0.2 ==== in0 198.18.0.1 [xpro] px out0 198.18.1.1 ==== eth0 198.18.1.2 vic
  # routed both ways, forwarding, a NAPI on the redirect target's peer: xp_proxy_path
  xp_proxy_path e d0 eth0
  timeout 10 ip -n "$VIC" route add 198.18.64.0/18 via 198.18.1.1
  timeout 10 ip -n "$PX" route add 198.18.64.0/18 via 198.18.0.2
  for ns in "$DEV" "$PX" "$VIC"; do xp_exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 || true; done
  conf=$BATS_TEST_TMPDIR/xpro.conf
  printf 'tf1 = 100000\ntf2 = 1000000\nstate_dir = %s\n%s' "$BATS_TEST_TMPDIR/state" "$1" > "$conf"
  [ -z "$3" ] || "$3"
  xp_pin_dir_register "/run/xpro/bpf/$PX"
  run xp_exec "$PX" timeout 30 "$XPRO" attach -i in0 -c "$conf"
  assert_success
  SPID=$(xp_spawn --ns "$VIC" sink "$(realpath "$SINK")" --duration 30 --iface eth0 \
    --class-map "$2" --summary "$BATS_TEST_TMPDIR/sink.json")
  for ((i = 0; i < 50; i++)); do grep -q ready "$(xp_log_of "$SPID")" && break; sleep 0.1; done
}

# proxy_stop: the sink stopped, the proxy's stats in $stats, detached
proxy_stop() {
  local XPRO=${XPRO_BUILD:-build}/bin/xpro
  sleep 0.5
  kill -TERM "$SPID"
  for ((i = 0; i < 50; i++)); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
  stats=$(xp_exec "$PX" timeout 30 "$XPRO" stats -i in0 -c "$conf" --json)
  xp_exec "$PX" timeout 30 "$XPRO" detach -i in0 -c "$conf" >/dev/null || true
}

@test "through a real X-Pro proxy: xpro-sink on the victim counts what the proxy passed" {
  proxy_run "" replay=198.18.64.0/18
  # 20 loops of the own capture (its IPv4 packets), each packet its own X-Pro client (--outer-src mapped)
  run xp_exec "$DEV" timeout 60 "$REPLAY" --pcap "$TOOLS/own.pcap" --proxy 198.18.0.1 --target 198.18.1.2 \
    --outer-src mapped --loop 20 --speed 0 --rate 2000 --ipv6 skip --summary "$BATS_TEST_TMPDIR/summary.json"
  assert_success
  [ "$(js .sent)" -eq 140 ]
  proxy_stop
  # per loop: 7 sent; the 2 fragments dropped by the proxy (drop_inner_frag);
  # 5 reach the victim: 33 + 40 + 32 + 32 + 40 = 177 bytes
  run jq -r '[.counters.drop_inner_frag, (.counters.pass_redirect + .counters.pass_tx + .counters.pass_kernel)] | @tsv' <<< "$stats"
  assert_output "$(printf '40\t100')"
  run jq -r '[.received, .bytes, .by_class.replay.packets] | @tsv' "$BATS_TEST_TMPDIR/sink.json"
  assert_output "$(printf '100\t3540\t100')"
}

# the IPv6 names of the proxy's victim side and of the victim, IPv6 forwarding on
# the proxy (the tunnel stays IPv4: the device side needs no IPv6)
victim6() {
  xp6_enable "$PX" out0
  xp6_enable "$VIC" eth0
  xp_exec "$PX" sysctl -qw net.ipv6.conf.all.forwarding=1
  xp6_addr "$PX" out0 2001:db8::c612:101/120
  xp6_addr "$VIC" eth0 2001:db8::c612:102/120
  timeout 10 ip -n "$VIC" -6 route add 2001:db8::c612:4000/114 via 2001:db8::c612:101
}

@test "shared coap_mqtt.pcap through a real X-Pro proxy: its IPv6 CoAP packets reach the victim as IPv6" {
  need_shared
  coap6=$(timeout 30 tcpdump -nn -r "$SHARED/coap_mqtt.pcap" 'ip6 and udp port 5683' 2>/dev/null | wc -l)
  ip6=$(timeout 30 tcpdump -nn -r "$SHARED/coap_mqtt.pcap" ip6 2>/dev/null | wc -l)
  echo "tcpdump: $coap6 IPv6 CoAP frames of $ip6 IPv6"
  [ "$coap6" -gt 0 ]
  # device_embed6: the mapped sources' IPv6 names pass the reverse firewall
  proxy_run "device_embed6 = 2001:db8::/96
" "six=2001:db8::c612:4000/114,replay=198.18.64.0/18" victim6
  run xp_exec "$DEV" timeout 60 "$REPLAY" --pcap "$SHARED/coap_mqtt.pcap" --proxy 198.18.0.1 --target 198.18.1.2 \
    --outer-src mapped --speed 0 --rate 2000 --seed 6 --summary "$BATS_TEST_TMPDIR/summary.json"
  assert_success
  [ "$(js .sent_ipv6)" -eq "$ip6" ]
  proxy_stop
  [ "$(jq -r .counters.drop_spoofed <<< "$stats")" -eq 0 ]
  # the victim counts every IPv6 CoAP datagram from the mapped sources' IPv6 names
  [ "$(jq -r '.by_class.six.packets' "$BATS_TEST_TMPDIR/sink.json")" -eq "$coap6" ]
}
