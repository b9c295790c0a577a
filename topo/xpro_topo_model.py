#!/usr/bin/python3
"""The testbed's topology model: one parser of .topo files and one address plan.

Every reader of a topology goes through this module: `xpro-topo` (bash; it
reads `plan --json` through jq), the Mininet script (topo/mininet/xpro_topo.py)
and `xpro-exp` import it. The file format and the auto-address rules are in
topo/README.md; a file that breaks them is refused with `FILE:LINE: reason`.

  xpro_topo_model.py plan TOPOLOGY [--proxies N] [--victims N] [--json]
  xpro_topo_model.py find TOPOLOGY       the file a topology name resolves to

`plan` prints what `xpro-topo up` builds, one statement a line (the format is
described at PLAN_FORMAT below), or the same plan as one JSON object (--json,
the structure of plan()). Exit: 0; 1 a refused or missing topology (one line
on stderr); 2 usage.

From Python:  import xpro_topo_model as M;  p = M.plan("default")  (a dict:
hosts, interfaces with addresses and MACs, the ip/tc lines of every host).
Standard library only; run with /usr/bin/python3.
"""
import ipaddress
import json
import os
import re
import sys

PROG = "xpro-topo"
HERE = os.path.dirname(os.path.realpath(__file__))
SEG_ROLES = ("access", "victims", "master")
TESTBED_NET = (198 << 24) | (18 << 16)        # 198.18.0.0/15
TESTBED_MASK = 0xFFFE0000
TESTBED6 = 0x20010DB8 << 96                   # 2001:db8::/32 (RFC 3849): IPv4 a.b.c.d -> 2001:db8::a.b.c.d
MAX_FILE = 1 << 20                            # a topology is a few lines; refuse megabytes
DIRECTIVES = ("queues, mtu, ipv6, segment, proxies, proxy, victims, victim, device, bot, "
              "master, rate")
HOST_RE = re.compile(r"[a-z][a-z0-9]{0,9}")
WORDS_RE = re.compile(r"[^ \t]+")
RATE_RE = re.compile(r"[0-9]+(\.[0-9]+)?([kmgt]?bit|[kmgt]?bps)")

PLAN_FORMAT = """\
  opt KEY VALUE                       queues, mtu, ipv6
  seg ROLE CIDR                       one bridge per segment
  host NAME KIND                      device, bot, proxy, victim, master
  link HOST IFACE ROLE MAC PORT       a veth: IFACE in HOST, PORT on ROLE's bridge
  addr HOST IFACE ADDRESS/PLEN        IPv4, then (ipv6 on) a second line with the IPv6 address
  sysctl HOST KEY=VALUE...            before its links exist
  ip HOST LINE                        an `ip -batch` line run in HOST after its links exist
  ipfinal HOST LINE                   the same, once every host is configured
  tc HOST LINE | tcport ROLE LINE     `tc -batch` lines on the host / bridge side
  gro ROLE PORT                       GRO off then on, after everything is up
  ping HOST ADDRESS                   the reachability mesh"""


class TopoError(Exception):
    """A refused topology: str() is the one-line reason (FILE:LINE: ...)."""


# ---------------------------------------------------------------- addresses

def ip2int(a):
    """A dotted quad to an int, or None."""
    m = re.fullmatch(r"([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})", a)
    if not m:
        return None
    o = [int(x) for x in m.groups()]
    if any(x > 255 for x in o):
        return None
    return (o[0] << 24) | (o[1] << 16) | (o[2] << 8) | o[3]


def int2ip(v):
    return "%d.%d.%d.%d" % ((v >> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255)


def plen_mask(plen):
    return 0 if plen == 0 else (0xFFFFFFFF << (32 - plen)) & 0xFFFFFFFF


def in_testbed(v):
    return (v & TESTBED_MASK) == TESTBED_NET


def parse_cidr(c):
    """(network int, prefix length) of NET/PLEN with no host bits, or None."""
    m = re.fullmatch(r"([0-9.]+)/([0-9]{1,2})", c)
    if not m:
        return None
    a, plen = ip2int(m.group(1)), int(m.group(2))
    if a is None or plen > 32 or (a & plen_mask(plen)) != a:
        return None
    return a, plen


def overlap(n1, p1, n2, p2):
    m = plen_mask(min(p1, p2))
    return (n1 & m) == (n2 & m)


def map6(v):
    """The testbed IPv6 address of IPv4 address V (an int): 2001:db8:: with V in
    its low 32 bits, in RFC 5952 form (198.18.0.100 -> 2001:db8::c612:64)."""
    return str(ipaddress.IPv6Address(TESTBED6 | v))


def cidr6(net, plen):
    """The IPv6 prefix of IPv4 prefix NET/PLEN: 2001:db8::NET/(96+PLEN)."""
    return "%s/%d" % (map6(net), 96 + plen)


def mac_of(addr):
    """The deterministic, locally administered MAC of an address: 02:58:a:b:c:d."""
    v = ip2int(addr)
    return "02:58:%02x:%02x:%02x:%02x" % ((v >> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255)


# ----------------------------------------------------------- topology files

def search_path():
    """Where a topology NAME is looked for: $XPRO_TOPO_PATH, then the source
    tree's topo/topologies, then share/xpro/topo (installed: this file lives
    in share/xpro/, xpro-topo in bin/)."""
    dirs = [d for d in os.environ.get("XPRO_TOPO_PATH", "").split(":") if d]
    return dirs + [os.path.join(HERE, "topologies"), os.path.join(HERE, "topo")]


def find_topology(t):
    """The file of topology T (a path, or a NAME searched in search_path()), or None."""
    if "/" in t or os.path.isfile(t):
        return os.path.realpath(t) if os.path.isfile(t) else None
    for d in search_path():
        for c in (os.path.join(d, t + ".topo"), os.path.join(d, t)):
            if os.path.isfile(c):
                return os.path.realpath(c)
    return None


class Topology:
    """A parsed, checked topology (the rules of topo/README.md).

    hosts: names in file order; kind, ifaces (name -> [iface...]), via, range;
    iface attributes keyed by (host, iface): seg, addr, mac, port, rate, qdisc."""

    def __init__(self, path, proxies=None, victims=None):
        self.file = path
        self.ovr_proxies, self.ovr_victims = proxies, victims
        self.queues, self.mtu, self.ipv6 = 2, 1500, "off"
        self.seg = {}                      # role -> (net int, plen, cidr text)
        self.hosts, self.proxies, self.victims, self.clients = [], [], [], []
        self.kind, self.ifaces, self.via, self.range, self.vidx = {}, {}, {}, {}, {}
        self.if_seg, self.if_addr, self.if_mac, self.rate, self.qdisc = {}, {}, {}, {}, {}
        self.used = {}
        self.master = None
        self.line = "end"
        self._load()

    def err(self, msg):
        raise TopoError("%s:%s: %s" % (self.file, self.line, msg))

    # -- addresses of a segment
    def seg_addr(self, role, n):
        net, plen, _ = self.seg[role]
        if not 1 <= n <= (1 << (32 - plen)) - 2:
            return None
        return int2ip(net + n)

    def check_addr(self, role, a, what):
        v = ip2int(a)
        if v is None:
            self.err("%s: '%s' is not an IPv4 address" % (what, a))
        if not in_testbed(v):
            self.err("%s: %s is outside the testbed range 198.18.0.0/15" % (what, a))
        net, plen, cidr = self.seg[role]
        m = plen_mask(plen)
        if (v & m) != net:
            self.err("%s: %s is not in the %s segment %s" % (what, a, role, cidr))
        if v in (net, net | (~m & 0xFFFFFFFF)):
            self.err("%s: %s is the network or broadcast address of %s" % (what, a, cidr))
        if a in self.used:
            self.err("%s: %s is already used by %s" % (what, a, self.used[a]))
        self.used[a] = what

    def auto(self, role, n, what):
        a = self.seg_addr(role, n)
        if a is None:
            self.err(what + " segment too small")
        return a

    # -- hosts
    def add_host(self, kind, name):
        if not HOST_RE.fullmatch(name):
            self.err("host name '%s': 1-10 characters, a-z then a-z0-9" % name)
        if name == "core":
            self.err("host name 'core' is reserved (the bridges' namespace)")
        if name in self.kind:
            self.err("host '%s' is defined twice" % name)
        self.kind[name] = kind
        self.ifaces[name] = []
        self.hosts.append(name)

    def add_if(self, h, i, role, a):
        self.ifaces[h].append(i)
        self.if_seg[(h, i)], self.if_addr[(h, i)], self.if_mac[(h, i)] = role, a, mac_of(a)

    def declare_proxy(self, name, ain=None, aout=None, adb=None):
        self.add_host("proxy", name)
        self.proxies.append(name)
        k = len(self.proxies)
        ain = ain or self.auto("access", k, "proxy %s: access" % name)
        aout = aout or self.auto("victims", k, "proxy %s: victims" % name)
        adb = adb or self.auto("master", k, "proxy %s: master" % name)
        self.check_addr("access", ain, name + "/in0")
        self.check_addr("victims", aout, name + "/out0")
        self.check_addr("master", adb, name + "/db0")
        self.add_if(name, "in0", "access", ain)
        self.add_if(name, "out0", "victims", aout)
        self.add_if(name, "db0", "master", adb)

    def declare_victim(self, name, a=None, via=None):
        self.add_host("victim", name)
        self.victims.append(name)
        self.vidx[name] = len(self.victims)
        a = a or self.auto("victims", 100 + len(self.victims), "victim %s: victims" % name)
        self.check_addr("victims", a, name)
        self.add_if(name, "eth0", "victims", a)
        if via:
            self.via[name] = via

    def declare_client(self, kind, name, a=None, rng=None, via=None):
        self.add_host(kind, name)
        self.clients.append(name)
        cnt = sum(1 for h in self.clients if self.kind[h] == kind)
        # auto: the k-th device host gets host number 100+k, the k-th bot host 200+k
        a = a or self.auto("access", (200 if kind == "bot" else 100) + cnt, "%s %s: access" % (kind, name))
        self.check_addr("access", a, name)
        self.add_if(name, "eth0", "access", a)
        if rng:
            c = parse_cidr(rng)
            if c is None:
                self.err("%s %s: range '%s' is not a network address/prefix" % (kind, name, rng))
            if not in_testbed(c[0]) or c[1] < 15:
                self.err("%s %s: range %s is outside 198.18.0.0/15" % (kind, name, rng))
            self.range[name] = rng
        if via:
            self.via[name] = via

    def declare_master(self, name, a=None):
        if self.master:
            self.err("a second master ('%s'): there is one master DB host" % name)
        self.add_host("master", name)
        self.master = name
        a = a or self.auto("master", 100, "master:")
        self.check_addr("master", a, "master " + name)
        self.add_if(name, "eth0", "master", a)

    def declare_rate(self, words):
        if not 2 <= len(words) <= 3:
            self.err("rate HOST[:IFACE] RATE [tbf|htb]")
        target, rate = words[0], words[1]
        q = words[2] if len(words) > 2 else "tbf"
        h, _, i = target.partition(":")
        if h not in self.kind:
            self.err("rate: no host '%s'" % h)
        ifs = " ".join(self.ifaces[h])
        if not i:
            if len(self.ifaces[h]) > 1:
                self.err("rate: %s has several links (%s): name one as %s:IFACE" % (h, ifs, h))
            i = ifs
        if i not in self.ifaces[h]:
            self.err("rate: %s has no interface %s (%s)" % (h, i, ifs))
        if not RATE_RE.fullmatch(rate):
            self.err("rate %s: '%s' is not a tc rate (e.g. 100mbit)" % (target, rate))
        if q not in ("tbf", "htb"):
            self.err("rate %s: qdisc '%s': tbf or htb (this kernel has no netem)" % (target, q))
        self.rate[(h, i)], self.qdisc[(h, i)] = rate, q

    # -- the file
    def _read(self):
        try:
            with open(self.file, "rb") as f:
                data = f.read(MAX_FILE + 1)
        except OSError as e:
            raise TopoError("%s: cannot read: %s" % (self.file, e.strerror))
        if len(data) > MAX_FILE:
            raise TopoError("%s: larger than %d bytes: not a topology" % (self.file, MAX_FILE))
        if b"\0" in data:
            raise TopoError("%s: a NUL byte: not a text file" % self.file)
        return data.decode("utf-8", errors="replace").split("\n")

    def _load(self):
        lines = self._read()
        if lines and lines[-1] == "":
            lines.pop()
        pending = []
        # first pass: what the hosts depend on (options, segments)
        for n, line in enumerate(lines, 1):
            self.line = n
            w = WORDS_RE.findall(line.split("#", 1)[0])   # words as bash reads them
            if not w:
                continue
            kw = w[0]
            if kw == "queues":
                if not (len(w) == 2 and w[1].isascii() and w[1].isdigit() and 1 <= int(w[1]) <= 64):
                    self.err("queues N: 1-64 rx and tx queues on both ends of every veth")
                self.queues = int(w[1])
            elif kw == "mtu":
                if not (len(w) == 2 and w[1].isascii() and w[1].isdigit() and 576 <= int(w[1]) <= 3506):
                    self.err("mtu N: 576-3506 (3506 is the native XDP limit of a veth peer)")
                self.mtu = int(w[1])
            elif kw == "ipv6":
                if len(w) != 2 or w[1] not in ("on", "off"):
                    self.err("ipv6 on|off: %s" % ("'%s' is neither" % w[1] if len(w) == 2
                                                   else "one value, on or off"))
                self.ipv6 = w[1]
            elif kw == "segment":
                if len(w) != 3:
                    self.err("segment ROLE CIDR (ROLE: access, victims, master)")
                if w[1] not in SEG_ROLES:
                    self.err("segment role '%s': access, victims or master" % w[1])
                if w[1] in self.seg:
                    self.err("segment %s is defined twice" % w[1])
                c = parse_cidr(w[2])
                if c is None:
                    self.err("segment %s: '%s' is not a network address/prefix" % (w[1], w[2]))
                if not (in_testbed(c[0]) and 15 <= c[1] <= 29):
                    self.err("segment %s: %s must lie in 198.18.0.0/15 with a prefix of /15 to /29" % (w[1], w[2]))
                self.seg[w[1]] = (c[0], c[1], w[2])
            elif kw in ("proxies", "victims", "proxy", "victim", "device", "bot", "master", "rate"):
                pending.append((n, w))
            else:
                self.err("unknown directive '%s' (%s)" % (kw, DIRECTIVES))
        self.line = "end"
        for r in SEG_ROLES:
            if r not in self.seg:
                self.err("no '%s' segment (segment %s CIDR)" % (r, r))
        for r1 in SEG_ROLES:
            for r2 in SEG_ROLES:
                if r1 < r2 and overlap(self.seg[r1][0], self.seg[r1][1], self.seg[r2][0], self.seg[r2][1]):
                    self.err("segments %s (%s) and %s (%s) overlap" % (r1, self.seg[r1][2], r2, self.seg[r2][2]))
        # second pass: hosts in file order (--proxies/--victims replace the file's)
        if self.ovr_victims:
            pending.insert(0, ("override", ["victims", str(self.ovr_victims)]))
        if self.ovr_proxies:
            pending.insert(0, ("override", ["proxies", str(self.ovr_proxies)]))
        for n, w in pending:
            self.line = n
            self._host_statement(n, w)
        # rates last: they name hosts
        for n, w in pending:
            if w[0] == "rate":
                self.line = n
                self.declare_rate(w[1:])
        self.line = "end"
        self._finish()

    def _host_statement(self, n, w):
        kw, name = w[0], (w[1] if len(w) > 1 else "")
        attrs = {}
        for kv in w[2:]:
            if "=" not in kv:
                if kw == "rate":
                    continue
                self.err("%s %s: '%s' is not KEY=VALUE" % (kw, name, kv))
            k, _, v = kv.partition("=")
            attrs[k] = v

        def keys(allowed):
            for k in attrs:
                if k not in allowed:
                    self.err("%s %s: unknown key '%s' (%s)" % (kw, name, k, ", ".join(allowed)))

        if kw in ("proxies", "victims"):
            if not (len(w) == 2 and name.isascii() and name.isdigit() and 1 <= int(name) <= 99):
                self.err("%s N: 1-99" % kw)
            if n != "override" and (self.ovr_proxies if kw == "proxies" else self.ovr_victims):
                return
            for i in range(1, int(name) + 1):
                if kw == "proxies":
                    self.declare_proxy("px%d" % i)
                else:
                    self.declare_victim("vic%d" % i)
        elif kw == "proxy":
            if self.ovr_proxies:
                return
            keys(("in", "out", "db"))
            self.declare_proxy(name, attrs.get("in"), attrs.get("out"), attrs.get("db"))
        elif kw == "victim":
            if self.ovr_victims:
                return
            keys(("addr", "via"))
            self.declare_victim(name, attrs.get("addr"), attrs.get("via"))
        elif kw in ("device", "bot"):
            keys(("addr", "range", "via"))
            self.declare_client(kw, name, attrs.get("addr"), attrs.get("range"), attrs.get("via"))
        elif kw == "master":
            keys(("addr",))
            self.declare_master(name, attrs.get("addr"))

    def _default_via(self, name):
        if self.kind[name] == "victim":
            return self.proxies[(self.vidx[name] - 1) % len(self.proxies)]
        return self.proxies[0]

    def _finish(self):
        if not self.proxies:
            self.err("no proxy (proxies N, or proxy NAME ...)")
        if not self.victims:
            self.err("no victim (victims N, or victim NAME ...)")
        if not self.clients:
            self.err("no device or bot host")
        if not self.master:
            self.err("no master DB host (master NAME)")
        # victims route replies through a proxy; devices and bots reach the victims through one
        for name in self.victims + self.clients:
            if not self.via.get(name):
                self.via[name] = self._default_via(name)
            if self.kind.get(self.via[name]) != "proxy" and self.ovr_proxies:
                # the file named a proxy that --proxies removed: fall back to the rule
                self.via[name] = self._default_via(name)
            if self.kind.get(self.via[name]) != "proxy":
                self.err("%s: via=%s is not a proxy" % (name, self.via[name]))
        # ranges must not overlap segments or each other
        for h1 in self.clients:
            if h1 not in self.range:
                continue
            n1, p1 = parse_cidr(self.range[h1])
            for r in SEG_ROLES:
                if overlap(n1, p1, self.seg[r][0], self.seg[r][1]):
                    self.err("%s: range %s overlaps segment %s %s" % (h1, self.range[h1], r, self.seg[r][2]))
            for h2 in self.clients:
                if h1 < h2 and h2 in self.range:
                    n2, p2 = parse_cidr(self.range[h2])
                    if overlap(n1, p1, n2, p2):
                        self.err("ranges of %s (%s) and %s (%s) overlap"
                                 % (h1, self.range[h1], h2, self.range[h2]))

    # ----------------------------------------------------------- what to run

    def plen(self, h, i):
        return self.seg[self.if_seg[(h, i)]][1]

    # -- IPv6 (ipv6 on): every IPv4 address and prefix mapped into 2001:db8::/32
    def addr6(self, h, i):
        """H's IFACE I address in 2001:db8::/32, or None with ipv6 off."""
        return map6(ip2int(self.if_addr[(h, i)])) if self.ipv6 == "on" else None

    def plen6(self, h, i):
        return 96 + self.plen(h, i) if self.ipv6 == "on" else None

    def seg6(self, role):
        return cidr6(self.seg[role][0], self.seg[role][1]) if self.ipv6 == "on" else None

    def range6(self, h):
        if self.ipv6 != "on" or h not in self.range:
            return None
        return cidr6(*parse_cidr(self.range[h]))

    # sysctls of every host namespace with ipv6 on: static addresses only (no
    # SLAAC, no router advertisements or solicitations), no duplicate address
    # detection (no tentative link-local address holding neighbour discovery
    # back), and the MLD reports of a new address sent within 10 ms rather than
    # repeated for a second, so that they are over before any XDP program is
    # attached (docs/veth.md, "IPv6 on veth")
    IPV6_QUIET = ["net.ipv6.conf.%s.%s" % (c, kv) for c in ("all", "default")
                  for kv in ("accept_ra=0", "autoconf=0", "accept_dad=0", "router_solicitations=0",
                             "mldv2_unsolicited_report_interval=10")]

    def sysctls(self, h):
        """What namespace H (or "core") needs before its links move in."""
        out = []
        # the bridges' namespace never has IPv6: the bridges forward it as frames
        if self.ipv6 == "off" or h == "core":
            out += ["net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"]
        else:
            out += self.IPV6_QUIET
        if h != "core" and self.kind[h] == "proxy":
            out.append("net.ipv4.ip_forward=1")
            if self.ipv6 == "on":
                out.append("net.ipv6.conf.all.forwarding=1")
        elif h != "core" and self.kind[h] in ("device", "bot") and self.ipv6 == "on":
            # any address of the range as a source: IPv6 binds only assigned
            # addresses unless this is on (IPv4 binds what a local route covers)
            out.append("net.ipv6.ip_nonlocal_bind=1")
        return out

    def host_batch(self, h):
        """The `ip -batch` lines that configure H once its links exist."""
        a = self.if_addr
        out = ["link set lo up"]
        for i in self.ifaces[h]:
            out.append("addr add %s/%d dev %s" % (a[(h, i)], self.plen(h, i), i))
            if self.ipv6 == "on":
                out.append("addr add %s/%d dev %s nodad" % (self.addr6(h, i), self.plen6(h, i), i))
            out.append("link set %s up" % i)
        out += self._routes(h, lambda x, i="eth0": a[(x, i)], lambda c: self.range.get(c),
                            lambda r: self.seg[r][2], self.if_mac)
        if self.ipv6 == "on":
            # the same routes and neighbours, mapped into 2001:db8::/32
            out += self._routes(h, self.addr6, self.range6, self.seg6, self.if_mac)
        return out

    def _routes(self, h, addr, rng, seg, mac):
        """H's routes and static neighbours in one family: ADDR(host, iface),
        RNG(client) and SEG(role) give that family's addresses and prefixes."""
        out = []
        kind = self.kind[h]
        if kind == "proxy":
            # managed neighbours for the victims: final_batch, once the victims are up
            out += ["route add %s via %s dev in0" % (rng(c), addr(c, "eth0"))
                    for c in self.clients if c in self.range]
        elif kind in ("device", "bot"):
            if h in self.range:
                out.append("route add local %s dev lo" % rng(h))
            out.append("route add %s via %s dev eth0" % (seg("victims"), addr(self.via[h], "in0")))
            # static entries for the proxies' ingress: the device-side tunnel (TC BPF)
            # cannot trigger ARP (nor neighbour discovery)
            out += ["neigh replace %s dev eth0 lladdr %s nud permanent" % (addr(p, "in0"), mac[(p, "in0")])
                    for p in self.proxies]
        elif kind == "victim":
            gw = addr(self.via[h], "out0")
            out.append("route add %s via %s dev eth0" % (seg("access"), gw))
            out += ["route add %s via %s dev eth0" % (rng(c), gw) for c in self.clients if c in self.range]
        return out

    def final_batch(self, h):
        """`ip -batch` lines run once every host is up: managed neighbour entries
        for the victims on the proxies (IPv4, and IPv6 with ipv6 on), so that
        bpf_fib_lookup never sticks on a stale MAC (docs/veth.md)."""
        if self.kind[h] != "proxy":
            return []
        out = ["neigh replace %s dev out0 managed" % self.if_addr[(v, "eth0")] for v in self.victims]
        if self.ipv6 == "on":
            out += ["neigh replace %s dev out0 managed" % self.addr6(v, "eth0") for v in self.victims]
        return out

    @staticmethod
    def tc_lines(dev, rate, q):
        """`tc -batch` lines limiting DEV's egress."""
        if q == "tbf":
            return ["qdisc replace dev %s root tbf rate %s burst 64kb latency 50ms" % (dev, rate)]
        return ["qdisc replace dev %s root handle 1: htb default 1" % dev,
                "class replace dev %s parent 1: classid 1:1 htb rate %s ceil %s" % (dev, rate, rate)]


def plan(topology, proxies=None, victims=None):
    """The plan of TOPOLOGY (a name or a file) as a dict (what `plan --json` prints).
    Raises TopoError for a missing or refused topology."""
    path = find_topology(topology)
    if path is None:
        raise TopoError("no topology '%s' (a file, or NAME in %s)" % (topology, os.path.join(HERE, "topologies")))
    t = Topology(path, proxies, victims)
    hosts = []
    for h in t.hosts:
        ifs = []
        for i in t.ifaces[h]:
            port, rate, q = "%s.%s" % (h, i), t.rate.get((h, i)), t.qdisc.get((h, i))
            ifs.append({"name": i, "segment": t.if_seg[(h, i)], "addr": t.if_addr[(h, i)],
                        "plen": t.plen(h, i), "addr6": t.addr6(h, i), "plen6": t.plen6(h, i),
                        "mac": t.if_mac[(h, i)], "port": port,
                        "rate": rate, "qdisc": q,
                        "tc": t.tc_lines(i, rate, q) if rate else [],
                        "tcport": t.tc_lines(port, rate, q) if rate else []})
        hosts.append({"name": h, "kind": t.kind[h], "via": t.via.get(h), "range": t.range.get(h),
                      "range6": t.range6(h),
                      "ifaces": ifs, "sysctl": t.sysctls(h), "ip": t.host_batch(h),
                      "ipfinal": t.final_batch(h)})
    a = t.if_addr
    pings = [{"from": c, "to": a[(p, "in0")]} for c in t.clients for p in t.proxies]
    pings += [{"from": p, "to": a[(v, "eth0")]} for p in t.proxies for v in t.victims + [t.master]]
    if t.ipv6 == "on":   # the same pairs over IPv6
        pings += [{"from": c, "to": t.addr6(p, "in0")} for c in t.clients for p in t.proxies]
        pings += [{"from": p, "to": t.addr6(v, "eth0")} for p in t.proxies for v in t.victims + [t.master]]
    return {
        "file": path, "queues": t.queues, "mtu": t.mtu, "ipv6": t.ipv6,
        "overrides": {"proxies": proxies, "victims": victims},
        "segments": [{"role": r, "cidr": t.seg[r][2], "plen": t.seg[r][1], "cidr6": t.seg6(r)}
                     for r in SEG_ROLES],
        "core": {"sysctl": t.sysctls("core")},
        "hosts": hosts, "proxies": t.proxies, "victims": t.victims, "clients": t.clients,
        "master": t.master,
        "gro": [{"segment": t.if_seg[(p, i)], "port": "%s.%s" % (p, i)} for p in t.proxies for i in t.ifaces[p]],
        "pings": pings,
    }


# helpers for readers of a plan dict

def host(p, name):
    """The host NAME of plan P (a dict), or None."""
    return next((h for h in p["hosts"] if h["name"] == name), None)


def addr(p, name, iface=None, key="addr"):
    """The address of NAME's IFACE (default: a proxy's in0, another host's eth0), or None;
    KEY "addr6": its IPv6 address (None with ipv6 off)."""
    h = host(p, name)
    if h is None:
        return None
    iface = iface or ("in0" if h["kind"] == "proxy" else "eth0")
    return next((i[key] for i in h["ifaces"] if i["name"] == iface), None)


def addr6(p, name, iface=None):
    """The IPv6 address of NAME's IFACE (as addr()), or None (ipv6 off, no such host)."""
    return addr(p, name, iface, "addr6")


def of_kind(p, kind):
    return [h["name"] for h in p["hosts"] if h["kind"] == kind]


def plan_text(p):
    """The plan as statements, one a line (PLAN_FORMAT)."""
    out = ["# xpro-topo plan of %s" % p["file"]]
    out += ["opt queues %d" % p["queues"], "opt mtu %d" % p["mtu"], "opt ipv6 %s" % p["ipv6"]]
    out += ["seg %s %s" % (s["role"], s["cidr"]) for s in p["segments"]]
    out += ["host %s %s" % (h["name"], h["kind"]) for h in p["hosts"]]
    for h in p["hosts"]:
        for i in h["ifaces"]:
            out.append("link %s %s %s %s %s" % (h["name"], i["name"], i["segment"], i["mac"], i["port"]))
            out.append("addr %s %s %s/%d" % (h["name"], i["name"], i["addr"], i["plen"]))
            if i["addr6"]:
                out.append("addr %s %s %s/%d" % (h["name"], i["name"], i["addr6"], i["plen6"]))
    out += ["sysctl %s %s" % (h["name"], " ".join(h["sysctl"])) for h in p["hosts"] if h["sysctl"]]
    out += ["ip %s %s" % (h["name"], l) for h in p["hosts"] for l in h["ip"]]
    out += ["ipfinal %s %s" % (h["name"], l) for h in p["hosts"] for l in h["ipfinal"]]
    for h in p["hosts"]:
        for i in h["ifaces"]:
            out += ["tc %s %s" % (h["name"], l) for l in i["tc"]]
            out += ["tcport %s %s" % (i["segment"], l) for l in i["tcport"]]
    out += ["gro %s %s" % (g["segment"], g["port"]) for g in p["gro"]]
    out += ["ping %s %s" % (g["from"], g["to"]) for g in p["pings"]]
    return "\n".join(out) + "\n"


def _usage(msg):
    print("%s: %s (xpro_topo_model.py plan TOPOLOGY [--proxies N] [--victims N] [--json] | find TOPOLOGY)"
          % (PROG, msg), file=sys.stderr)
    return 2


def main(argv):
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__.strip() + "\n\nThe statements of `plan`:\n" + PLAN_FORMAT)
        return 0 if argv else 2
    cmd, args = argv[0], argv[1:]
    topo, as_json, ovr = None, False, {}
    while args:
        a = args.pop(0)
        if a == "--json" and cmd == "plan":
            as_json = True
        elif a in ("--proxies", "--victims") and cmd == "plan":
            v = args.pop(0) if args else ""
            if not (v.isascii() and v.isdigit() and 1 <= int(v) <= 99):
                return _usage("%s: a count from 1 to 99" % a)
            ovr[a[2:]] = int(v)
        elif a.startswith("-"):
            return _usage("%s: unknown option %s" % (cmd, a))
        elif topo is None:
            topo = a
        else:
            return _usage("%s: one topology" % cmd)
    if cmd not in ("plan", "find") or topo is None:
        return _usage("plan or find, and a topology")
    try:
        if cmd == "find":
            path = find_topology(topo)
            if path is None:
                raise TopoError("no topology '%s'" % topo)
            print(path)
            return 0
        p = plan(topo, ovr.get("proxies"), ovr.get("victims"))
    except TopoError as e:
        print("%s: %s" % (PROG, e), file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(p, separators=(",", ":")) + "\n" if as_json else plan_text(p))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
