#!/usr/bin/python3
"""mkpcap.py OUT.pcap [--packets N] [--sources S] [--seconds T] [--seed K]

Writes the project's own attack capture for the `replay` scenario when
../shared/pcaps is not there: a spoofed UDP reflection-style flood, N IPv4/UDP
packets (raw IPv4 link type) from S random sources to one victim over T seconds,
timestamps evenly spread. Addresses are documentation ranges (the replay maps every
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


def packet(src, dst, sport, dport, payload, ident):
    udp_len = 8 + len(payload)
    tot = 20 + udp_len
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, tot, ident, 0, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    pseudo = src + dst + struct.pack("!BBH", 0, 17, udp_len)
    udp = struct.pack("!HHHH", sport, dport, udp_len, 0) + payload
    c = csum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    return ip + udp


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--packets", type=int, default=4000)
    ap.add_argument("--sources", type=int, default=2500)
    ap.add_argument("--seconds", type=float, default=0.4)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    if not (1 <= a.packets <= 10**6 and 1 <= a.sources <= 10**6 and a.seconds > 0):
        ap.error("--packets and --sources 1..1000000, --seconds > 0")
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
            payload = bytes(rnd.randrange(256) for _ in range(rnd.choice((64, 128, 256))))
            p = packet(rnd.choice(srcs), dst, 4500, rnd.randrange(1024, 65535), payload, i & 0xFFFF)
            sec = int(t)
            usec = int(round((t - sec) * 1e6))
            f.write(struct.pack("<IIII", sec, usec, len(p), len(p)) + p)


if __name__ == "__main__":
    main()
