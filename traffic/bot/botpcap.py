#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""botpcap: decode a pcap (Ethernet) into one JSON object per IPv4 or IPv6 frame,
for the xpro-bot shape tests (tests/bats/50-bot.bats). Standard library
only; run with Debian's /usr/bin/python3.

  botpcap.py FILE [--tun-port 5683]

Per frame: eth_src, eth_dst, frame_len; the IPv4 header fields (ver, ihl,
tos, len, id, df, mf, frag, ttl, proto, ip_csum_ok, src, dst); UDP (sport,
dport, ulen, l4_csum_ok, payload length and first 64 bytes in hex; dns:
the DNS header and question for port 53) or TCP
(sport, dport, seq, ack, doff, flags, win, urp, opts hex, l4_csum_ok,
plen and payload after the 20-byte header, data: the payload after doff
as text) or GRE (gre_flags, gre_proto, inner eth for 0x6558, inner: the
same fields for the encapsulated IPv4/UDP). A frame to the tunnel port that
starts with the X-Pro header gets "tun": the outer fields and magic,
version, inner_len, and the rest describes the inner packet. An IPv6
packet (a frame of EtherType 0x86DD, or an inner packet of version 6) has
ver 6, tc, flow, len (40 + payload length), hlim (also as ttl), proto (the
next header), src, dst in RFC 5952 form, and the same UDP/TCP fields, its
checksum verified over the IPv6 pseudo-header. The checksums are verified
here, independently of the code under test.
"""
import ipaddress
import json
import struct
import sys


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def ip4(b):
    return "%d.%d.%d.%d" % tuple(b)


def l4_ok(src, dst, proto, seg):
    ph = src + dst + struct.pack("!BBH", 0, proto, len(seg))
    return csum(ph + seg) == 0xFFFF


def decode_dns(pl):
    ident, flags, qd, an, ns, ar = struct.unpack("!HHHHHH", pl[:12])
    labels, i = [], 12
    while i < len(pl) and pl[i] != 0 and len(labels) < 20:
        n = pl[i]
        labels.append(pl[i + 1:i + 1 + n].decode("latin-1"))
        i += 1 + n
    qt = struct.unpack("!HH", pl[i + 1:i + 5]) if i + 5 <= len(pl) else (None, None)
    return {"id": ident, "flags": flags, "qd": qd, "an": an, "ns": ns, "ar": ar,
            "labels": labels, "qtype": qt[0], "qclass": qt[1], "end": i + 5, "len": len(pl)}


def l4_ok6(src, dst, proto, seg):
    ph = src + dst + struct.pack("!IxxxB", len(seg), proto)
    return csum(ph + seg) == 0xFFFF


def decode_l4(r, src, dst, proto, seg, ok):
    if proto == 17 and len(seg) >= 8:
        sp, dp, ul, uc = struct.unpack("!HHHH", seg[:8])
        pl = seg[8:]
        r.update(sport=sp, dport=dp, ulen=ul, l4_csum_ok=ok(src, dst, 17, seg), udp_csum=uc,
                 plen=len(pl), payload=pl[:64].hex(), payload_full=pl.hex() if len(pl) <= 600 else "")
    elif proto == 6 and len(seg) >= 20:
        sp, dp, seq, ack, off, fl, win, _, urp = struct.unpack("!HHIIBBHHH", seg[:20])
        doff = off >> 4
        hdr = min(doff * 4, len(seg))
        r.update(sport=sp, dport=dp, seq=seq, ack=ack, doff=doff, res=off & 15, flags=fl, win=win,
                 urp=urp, opts=seg[20:hdr].hex() if doff > 5 else "",
                 l4_csum_ok=ok(src, dst, 6, seg), plen=len(seg) - 20,
                 payload=seg[20:84].hex(), payload_full=seg[20:].hex() if len(seg) <= 620 else "")


def decode_ip6(p):
    if len(p) < 40:
        return {"error": "short ipv6"}
    vtf, plen, nh, hlim = struct.unpack("!IHBB", p[:8])
    src, dst = p[8:24], p[24:40]
    r = {"ver": vtf >> 28, "tc": (vtf >> 20) & 0xFF, "flow": vtf & 0xFFFFF, "len": 40 + plen,
         "hlim": hlim, "ttl": hlim, "proto": nh, "cap_len": len(p),
         "src": str(ipaddress.IPv6Address(src)), "dst": str(ipaddress.IPv6Address(dst))}
    decode_l4(r, src, dst, nh, p[40:40 + plen], l4_ok6)
    return r


def decode_ip(p):
    r = {}
    if len(p) >= 1 and p[0] >> 4 == 6:
        return decode_ip6(p)
    if len(p) < 20:
        return {"error": "short ip"}
    vihl, tos, tot, ident, frag, ttl, proto = struct.unpack("!BBHHHBB", p[:10])
    ihl = (vihl & 15) * 4
    r.update(ver=vihl >> 4, ihl=vihl & 15, tos=tos, len=tot, id=ident,
             df=int(bool(frag & 0x4000)), mf=int(bool(frag & 0x2000)), frag=frag & 0x1FFF,
             ttl=ttl, proto=proto, ip_csum_ok=csum(p[:ihl]) == 0xFFFF,
             src=ip4(p[12:16]), dst=ip4(p[16:20]), cap_len=len(p))
    src, dst = p[12:16], p[16:20]
    seg = p[ihl:tot]
    decode_l4(r, src, dst, proto, seg, l4_ok)
    if proto == 17 and len(seg) >= 20 and (r["sport"] == 53 or r["dport"] == 53):
        r["dns"] = decode_dns(seg[8:])
    elif proto == 6 and len(seg) >= 20:
        hdr = min(r["doff"] * 4, len(seg))
        r["data"] = seg[hdr:].decode("latin-1") if len(seg) > hdr else ""
    if proto == 47 and len(seg) >= 4:
        gf, gp = struct.unpack("!HH", seg[:4])
        r.update(gre_flags=gf, gre_proto=gp)
        inner = seg[4:]
        if gp == 0x6558 and len(inner) >= 14:
            r.update(ieth_dst=inner[:6].hex(), ieth_src=inner[6:12].hex(),
                     ieth_type=struct.unpack("!H", inner[12:14])[0])
            inner = inner[14:]
        r["inner"] = decode_ip(inner)
    return r


def frames(path):
    with open(path, "rb") as f:
        gh = f.read(24)
        magic = struct.unpack("<I", gh[:4])[0]
        endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            _, _, incl, orig = struct.unpack(endian + "IIII", h)
            yield f.read(incl), orig


def main():
    args = sys.argv[1:]
    tun_port = 5683
    if "--tun-port" in args:
        i = args.index("--tun-port")
        tun_port = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if args and args[0] in ("-h", "--help") else 2
    for fr, orig in frames(args[0]):
        if len(fr) < 34 or fr[12:14] not in (b"\x08\x00", b"\x86\xdd"):
            continue
        rec = {"eth_dst": fr[0:6].hex(), "eth_src": fr[6:12].hex(), "frame_len": orig,
               "eth_type": struct.unpack("!H", fr[12:14])[0]}
        ip = fr[14:]
        r = decode_ip6(ip) if fr[12:14] == b"\x86\xdd" else decode_ip(ip)
        if r.get("ver") == 4 and r.get("proto") == 17 and r.get("dport") == tun_port and ip[28:29] == b"\x58" \
                and ip[29] in (1, 2):
            t = dict(r)
            for k in ("payload", "payload_full", "plen"):
                t.pop(k, None)
            hl = 4 if ip[29] == 1 else 20
            t.update(magic=ip[28], version=ip[29], inner_len=struct.unpack("!H", ip[30:32])[0], hdr=ip[28:28 + hl].hex())
            rec["tun"] = t
            r = decode_ip(ip[28 + hl:])
        rec.update(r)
        print(json.dumps(rec, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
