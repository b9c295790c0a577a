#!/usr/bin/python3
"""mkpcap.py OUT.pcap [--kind flood|tcp|lanudp] [--packets N] [--sources S] [--seconds T]
                   [--seed K] [--ttl TTL]

Writes the project's own captures (raw IPv4 link type, timestamps evenly spread
over T seconds):
  flood   (default) the `replay` scenario's attack when ../shared/pcaps is not
          there: a spoofed UDP reflection-style flood, N IPv4/UDP packets from S
          random sources to one victim;
  tcp     N TCP segments to port 80 from S sources, SYNs and SYN-ACKs alternating
          (the shape of a captured handshake-heavy TCP trace);
  lanudp  N UDP datagrams from one LAN host's port 44467 to port 7080, payloads
          of 9 to 1032 bytes (the shape of a spliced home-network capture).
--ttl sets every packet's IPv4 TTL (default 64). Addresses are documentation ranges (the replay maps every
address into 198.18.0.0/15; none is ever a destination). Standard library only.
"""
import argparse
import random
import struct


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ipv4(src, dst, proto, l4, ident, ttl):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), ident, 0, ttl, proto, 0, src, dst)
    return ip[:10] + struct.pack("!H", csum(ip)) + ip[12:] + l4


def packet(src, dst, sport, dport, payload, ident, ttl=64):
    udp_len = 8 + len(payload)
    pseudo = src + dst + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    c = csum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    return ipv4(src, dst, 17, udp, ident, ttl)


def tcp_segment(src, dst, sport, dport, flags, seq, ack, ident, ttl=64):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 29200, 0, 0)
    c = csum(src + dst + struct.pack("!BBH", 0, 6, len(tcp)) + tcp)
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    return ipv4(src, dst, 6, tcp, ident, ttl)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--packets", type=int, default=4000)
    ap.add_argument("--sources", type=int, default=2500)
    ap.add_argument("--seconds", type=float, default=0.4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--kind", choices=("flood", "tcp", "lanudp"), default="flood")
    ap.add_argument("--ttl", type=int, default=64)
    a = ap.parse_args()
    if not (1 <= a.packets <= 10**6 and 1 <= a.sources <= 10**6 and a.seconds > 0):
        ap.error("--packets and --sources 1..1000000, --seconds > 0")
    if not 1 <= a.ttl <= 255:
        ap.error("--ttl: 1..255")
    rnd = random.Random(a.seed)
    # 203.0.113.0/24 (TEST-NET-3) as the victim, sources from 198.51.100.0/24 and
    # 192.0.2.0/24 plus random high octets: only bytes in a file, mapped at replay
    srcs = [bytes([rnd.choice((192, 198, 203)), rnd.randrange(256), rnd.randrange(256), rnd.randrange(1, 255)])
            for _ in range(a.sources)]
    dst = bytes([203, 0, 113, 10])
    with open(a.out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101))
        t0 = 1700000000.0
        for i in range(a.packets):
            t = t0 + a.seconds * i / a.packets
            if a.kind == "tcp":
                # a SYN from one source, then a SYN-ACK from it (both towards the victim)
                s = srcs[(i // 2) % len(srcs)]
                flags = 0x02 if i % 2 == 0 else 0x12
                p = tcp_segment(s, dst, 40000 + i % 20000, 80, flags, rnd.randrange(2**32),
                                rnd.randrange(2**32) if flags & 0x10 else 0, i & 0xFFFF, a.ttl)
            elif a.kind == "lanudp":
                n = 9 + (1032 - 9) * i // max(1, a.packets - 1)
                p = packet(bytes([192, 168, 1, 23]), dst, 44467, 7080, bytes(rnd.randrange(256) for _ in range(n)),
                           i & 0xFFFF, a.ttl)
            else:
                payload = bytes(rnd.randrange(256) for _ in range(rnd.choice((64, 128, 256))))
                p = packet(rnd.choice(srcs), dst, 4500, rnd.randrange(1024, 65535), payload, i & 0xFFFF,
                           a.ttl)
            sec = int(t)
            usec = int(round((t - sec) * 1e6))
            f.write(struct.pack("<IIII", sec, usec, len(p), len(p)) + p)


if __name__ == "__main__":
    main()
