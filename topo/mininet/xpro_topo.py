#!/usr/bin/python3
"""X-Pro testbed topologies under Mininet.

Builds the same topology as `xpro-topo up` (one model: this script imports
topo/xpro_topo_model.py, as xpro-topo does) out of Mininet hosts and Linux bridge
switches, with no controller, then pings the mesh, runs the commands given
with --run, and stops. Run it with Debian's /usr/bin/python3 (the python3 on
PATH may lack mininet). Never needs `mn -c`: everything it creates lives in
the namespaces of its own nodes and goes away with net.stop(), which runs on
every exit path (errors and SIGINT/SIGTERM/SIGHUP included).

  /usr/bin/python3 topo/mininet/xpro_topo.py [TOPOLOGY] [--proxies N] [--victims N]
        [--run 'HOST CMD']... [--xpro] [--no-ping] [--cli] [--serve NAME]

--serve NAME keeps the topology up for other tools (the experiment runner:
TESTBED=mininet, docs/experiments.md): every node's namespace gets the name
xpro-topo would give it (xt-NAME-HOST; the access bridge's node is `core`) and
/run/xpro/topo/NAME the state `xpro-topo up` writes, so `xpro-topo start`,
`exec`, `stop` and `down` work on it unchanged; it prints "serving NAME: ready"
and stays until SIGTERM/SIGINT/SIGHUP, then stops the network and removes the
names (`xpro-topo down NAME` removes the rest).

Exit status: 0 when every mesh ping and every --run command succeeded, 1
otherwise, 2 on a usage error, 3 when mininet cannot be imported.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.realpath(__file__))
SRC_TOPO = os.path.dirname(HERE)              # topo/ in the source tree, share/xpro/ installed
BPFFS = "/run/xpro/bpf"

sys.dont_write_bytecode = True                # no __pycache__ in the source tree
sys.path.insert(0, SRC_TOPO)
import xpro_topo_model as M  # noqa: E402  the topology model (beside mininet/)

try:
    from mininet.net import Mininet
    from mininet.node import Host
    from mininet.nodelib import LinuxBridge
    from mininet.link import Link
    from mininet.log import setLogLevel, error
except ImportError as e:  # pragma: no cover - reported, not hidden
    print("xpro_topo.py: cannot import mininet (%s); install Debian's package "
          "mininet and run with /usr/bin/python3" % e, file=sys.stderr)
    sys.exit(3)


def find_tool(name, env=None, required=True):
    """An executable: $ENV, next to the source (build/bin), or on PATH."""
    if env and os.environ.get(env):
        return os.environ[env]
    cands = [os.path.join(SRC_TOPO, name),
             os.path.join(SRC_TOPO, "..", os.environ.get("XPRO_BUILD", "build"), "bin", name),
             os.path.join(os.environ.get("XPRO_BUILD", ""), "bin", name),
             os.path.join(HERE, "..", "..", "..", "bin", name)]     # installed
    for c in cands:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return os.path.realpath(c)
    for d in os.environ.get("PATH", "").split(":"):
        c = os.path.join(d, name)
        if os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    if required:
        raise SystemExit("xpro_topo.py: %s not found (make build, or set %s)" % (name, env))
    return None


class Plan:
    """The model's plan (xpro_topo_model.plan(), a dict), indexed the way the
    build below walks it."""

    def __init__(self, p):
        self.opts = {"queues": p["queues"], "mtu": p["mtu"], "ipv6": p["ipv6"]}
        self.segs = [(s["role"], s["cidr"]) for s in p["segments"]]
        self.hosts = [(h["name"], h["kind"]) for h in p["hosts"]]
        self.links = [dict(host=h["name"], iface=i["name"], seg=i["segment"], mac=i["mac"], port=i["port"])
                      for h in p["hosts"] for i in h["ifaces"]]
        self.sysctls = {h["name"]: h["sysctl"] for h in p["hosts"] if h["sysctl"]}
        self.core_sysctl = p["core"]["sysctl"]
        self.addr6 = {(h["name"], i["name"]): "%s/%d" % (i["addr6"], i["plen6"])
                      for h in p["hosts"] for i in h["ifaces"] if i["addr6"]}
        self.ips = {h["name"]: h["ip"] for h in p["hosts"]}
        self.ipfinal = {h["name"]: h["ipfinal"] for h in p["hosts"] if h["ipfinal"]}
        self.tcs, self.tcports = {}, {}
        for h in p["hosts"]:
            for i in h["ifaces"]:
                if i["tc"]:
                    self.tcs.setdefault(h["name"], []).extend(i["tc"])
                    self.tcports.setdefault(i["segment"], []).extend(i["tcport"])
        self.gro = [(g["segment"], g["port"]) for g in p["gro"]]
        self.pings = [(g["from"], g["to"]) for g in p["pings"]]


class XproBridge(LinuxBridge):
    """mininet.nodelib.LinuxBridge, created with iproute2 instead of brctl
    (bridge-utils is not among the project's packages), STP off, no
    controller. Lives in its own network namespace (inNamespace=True), like
    xpro-topo's core namespace: nothing is created in the host's namespace."""

    @classmethod
    def setup(cls):
        pass  # LinuxBridge.setup insists on brctl

    def start(self, _controllers):
        out = self.cmd("ip link add %s mtu %s type bridge stp_state 0 forward_delay 0 "
                       "mcast_snooping 0 && ip link set %s up && echo ok"
                       % (self.bridge, self.mtu, self.bridge))
        if "ok" not in out:
            raise RuntimeError("bridge %s: %s" % (self.bridge, out.strip()))
        for intf in self.intfList():
            if intf.name != "lo":
                self.cmd("ip link set %s master %s up" % (intf.name, self.bridge))

    def stop(self, deleteIntfs=True):
        self.cmd("ip link del %s 2>/dev/null" % self.bridge)
        super(LinuxBridge, self).stop(deleteIntfs)  # Switch.stop: skip brctl

    def connected(self):
        return True


class XproLink(Link):
    """A veth pair with the topology's queue count and MTU on both ends and a
    fixed MAC on the host's end (docs/veth.md: matching queues, MTU <= 3506)."""
    queues = 1
    mtu = 1500

    @classmethod
    def makeIntfPair(cls, intfname1, intfname2, addr1=None, addr2=None,
                     node1=None, node2=None, deleteIntfs=True):
        q, m = cls.queues, cls.mtu
        cmd = ("ip link add name %s numtxqueues %d numrxqueues %d mtu %d%s type veth "
               "peer name %s numtxqueues %d numrxqueues %d mtu %d netns %d"
               % (intfname1, q, q, m, (" address %s" % addr1) if addr1 else "",
                  intfname2, q, q, m, node2.pid))
        out = node1.cmd(cmd)
        if out.strip():
            raise RuntimeError("veth %s/%s: %s" % (intfname1, intfname2, out.strip()))


def sh(node, cmd):
    """Run cmd in node; return (status, output)."""
    cmd = cmd.rstrip()
    # "CMD &; echo" is a syntax error: a backgrounded CMD gets "true" after it
    out = node.cmd("%s %s echo __rc=$?" % (cmd, "true;" if cmd.endswith("&") and not cmd.endswith("&&") else ";"))
    body, _, rc = out.rpartition("__rc=")
    try:
        return int(rc.strip()), body
    except ValueError:
        return 1, out


def run_batch(node, tool, lines):
    """Feed lines to `ip -batch` / `tc -batch` inside node, through a file."""
    with tempfile.NamedTemporaryFile("w", prefix="xpro-mn-", suffix=".batch", delete=False) as f:
        f.write("\n".join(lines) + "\n")
        path = f.name
    try:
        rc, out = sh(node, "%s -batch %s" % (tool, path))
        if rc:
            raise RuntimeError("%s: %s -batch failed: %s" % (node.name, tool, out.strip()))
    finally:
        os.unlink(path)


def unblock(node):
    """A node still running a command (interrupted mid --run) cannot take
    the commands net.stop() sends: interrupt it and wait up to 3 s for its
    prompt."""
    if not getattr(node, "waiting", False) or not getattr(node, "shell", None):
        return
    try:
        node.sendInt()
        deadline = time.monotonic() + 3
        while node.waiting and time.monotonic() < deadline:
            node.monitor(timeoutms=200)
    except Exception:  # a dead shell: terminate() handles it
        pass
    node.waiting = False


def netns_inode(pid):
    try:
        return os.stat("/proc/%d/ns/net" % pid).st_ino
    except OSError:
        return None


def reap(inodes):
    """Kill what is still running inside the nodes' namespaces (a command a
    --run left in the background): it would keep a namespace alive. Only
    processes whose network namespace is one of ours."""
    left = []
    for d in os.listdir("/proc"):
        if d.isdigit() and netns_inode(int(d)) in inodes and int(d) != os.getpid():
            left.append(int(d))
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return left


class Interrupted(Exception):
    pass


def on_signal(signum, _frame):
    raise Interrupted("signal %d" % signum)


def build(net, plan):
    q, mtu = int(plan.opts.get("queues", 1)), int(plan.opts.get("mtu", 1500))
    if mtu > 3506:
        raise RuntimeError("mtu %d above the native XDP limit 3506" % mtu)
    XproLink.queues, XproLink.mtu = q, mtu
    switches = {}
    for i, (role, _cidr) in enumerate(plan.segs, 1):
        sw = net.addSwitch("br-%s" % role, cls=XproBridge, inNamespace=True, dpid="%016x" % i)
        sw.bridge, sw.mtu = "br-%s" % role, mtu
        # the bridges' namespaces never have IPv6 (ipv6 on or off), as xpro-topo's core
        sw.cmd("sysctl -q -w %s" % " ".join(plan.core_sysctl))
        switches[role] = sw
    hosts = {}
    for name, kind in plan.hosts:
        h = net.addHost(name, cls=Host, ip=None)
        h.kind = kind
        if plan.sysctls.get(name):
            rc, out = sh(h, "sysctl -q -w %s" % " ".join(plan.sysctls[name]))
            if rc:
                raise RuntimeError("%s: sysctl: %s" % (name, out.strip()))
        hosts[name] = h
    for l in plan.links:
        net.addLink(hosts[l["host"]], switches[l["seg"]], cls=XproLink,
                    intfName1=l["iface"], intfName2=l["port"], addr1=l["mac"])
    net.start()
    for name, h in hosts.items():
        run_batch(h, "ip", plan.ips.get(name, []))
        if plan.tcs.get(name):
            run_batch(h, "tc", plan.tcs[name])
    for name, lines in plan.ipfinal.items():
        run_batch(hosts[name], "ip", lines)
    for role, lines in plan.tcports.items():
        run_batch(switches[role], "tc", lines)
    # a NAPI on the peer of every proxy interface: GRO off then on, now that
    # both ends are up (docs/veth.md)
    for role, port in plan.gro:
        rc, out = sh(switches[role], "ethtool -K %s gro off && ethtool -K %s gro on" % (port, port))
        if rc:
            raise RuntimeError("GRO on %s: %s" % (port, out.strip()))
    return hosts, switches


def check(plan, hosts, switches, probe):
    """The build checks of xpro-topo: no default route, GRO and a NAPI on the
    proxies' peers, ndo-xmit on the proxies' interfaces."""
    errs = []
    for name, h in list(hosts.items()) + list(switches.items()):
        rc, out = sh(h, "ip -4 route show table all default; ip -6 route show table all default 2>/dev/null")
        if out.strip():
            errs.append("%s has a default route: %s" % (name, out.strip()))
        # IPv6: the plan's addresses (2001:db8::/32) and, besides, only ::1 and fe80::
        want = {(i, a) for (n, i), a in plan.addr6.items() if n == name}
        _, out = sh(h, "ip -o -6 addr show")
        for line in out.splitlines():
            w = line.split()
            if len(w) < 4 or w[2] != "inet6":
                continue
            got = (w[1], w[3])
            if got in want:
                want.discard(got)
            elif not ((w[1], w[3]) == ("lo", "::1/128") or (w[3].startswith("fe80:") and "scope link" in line)):
                errs.append("%s: IPv6 address %s on %s is not in the plan" % (name, w[3], w[1]))
        errs += ["%s: IPv6 address %s is missing on %s" % (name, a, i) for i, a in sorted(want)]
    by_role = {}
    for role, port in plan.gro:
        by_role.setdefault(role, []).append(port)
    for role, ports in by_role.items():
        rc, out = sh(switches[role], "%s --require-napi %s" % (probe, " ".join(ports)))
        if rc:
            errs.append("no NAPI on a proxy's peer: %s" % out.strip())
    for name, h in hosts.items():
        if h.kind == "proxy":
            rc, out = sh(h, "%s --require-ndo-xmit in0 out0 db0" % probe)
            if rc:
                errs.append("%s cannot receive XDP redirects: %s" % (name, out.strip()))
    # managed neighbours of the victims resolved (up to 3 s for the first probes)
    want = [(h, line.split()[2]) for h, lines in plan.ipfinal.items() for line in lines
            if line.startswith("neigh replace") and "managed" in line]
    deadline = time.monotonic() + 3
    while True:
        missing = []
        for h, addr in want:
            _, out = sh(hosts[h], "ip neigh show %s dev out0" % addr)
            if not any(s in out for s in ("REACHABLE", "STALE", "DELAY", "PROBE")) or "managed" not in out:
                missing.append("%s->%s" % (h, addr))
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    if missing:
        errs.append("managed neighbour entries not resolved: %s" % " ".join(missing))
    return errs


def ping_mesh(plan, hosts, ping):
    """Every device and bot to every proxy; every proxy to every victim and
    the master: one bounded echo each."""
    print("*** Ping: the X-Pro mesh (devices/bots -> proxies, proxies -> victims, master)")
    lost = 0
    for src, dst in plan.pings:
        rc, _ = sh(hosts[src], "timeout 5 %s -q -c 1 -W 1 %s" % (ping, dst))
        print("%s -> %s %s" % (src, dst, "ok" if rc == 0 else "X"))
        lost += rc != 0
    total = len(plan.pings)
    print("*** Results: %d%% dropped (%d/%d received)"
          % (100 * lost // max(total, 1), total - lost, total))
    return lost == 0


def xpro_attach(hosts, xpro, tmpdir):
    """xpro attach on every proxy's in0 (pins under /run/xpro/bpf/net-INODE/,
    since Mininet's namespaces have no name); returns what to detach."""
    attached = []
    for name, h in hosts.items():
        if h.kind != "proxy":
            continue
        conf = os.path.join(tmpdir, "%s.conf" % name)
        with open(conf, "w") as f:
            f.write("state_dir = %s/%s-state\n" % (tmpdir, name))
        attached.append((h, conf, "net-%d" % os.stat("/proc/%d/ns/net" % h.pid).st_ino))
        rc, out = sh(h, "timeout 30 %s attach -i in0 -c %s" % (xpro, conf))
        print("%s: %s" % (name, out.strip()))
        if rc:
            raise RuntimeError("xpro attach on %s failed" % name)
    return attached


def xpro_detach(attached, xpro):
    for h, conf, nsname in attached:
        try:
            sh(h, "timeout 10 %s detach -i in0 -c %s" % (xpro, conf))
        except Exception as e:  # keep going: the pins are removed below
            error("detach on %s: %s\n" % (h.name, e))
        pins = os.path.join(BPFFS, nsname)
        if os.path.isdir(pins):
            subprocess.run(["rm", "-rf", pins], check=False)


TOPO_RUN_ROOT = os.environ.get("XPRO_TOPO_RUN", "/run/xpro/topo")


def serve_names(name, args, plan_file, hosts, switches):
    """Name every node's namespace xt-NAME-HOST and write xpro-topo's run state."""
    rundir = os.path.join(TOPO_RUN_ROOT, name)
    if os.path.exists(rundir):
        raise RuntimeError("a run named %s exists (xpro-topo down %s)" % (name, name))
    nodes = dict(hosts)
    nodes["core"] = switches["access"]            # xpro-topo's bridges' namespace
    for role, sw in switches.items():
        if role != "access":
            nodes["core-" + role] = sw
    named = []
    for host, node in nodes.items():
        ns = "xt-%s-%s" % (name, host)
        r = subprocess.run(["ip", "netns", "attach", ns, str(node.pid)], capture_output=True, text=True,
                           timeout=10)
        if r.returncode:
            raise RuntimeError("ip netns attach %s: %s" % (ns, r.stderr.strip()))
        named.append(ns)
    os.makedirs(rundir)
    files = {"overrides": "OVR_PROXIES=%s\nOVR_VICTIMS=%s\n" % (args.proxies or "", args.victims or ""),
             "source": plan_file + "\n", "namespaces": "".join(n + "\n" for n in named), "pids": "",
             "attached": "", "mininet": "%d\n" % os.getpid(), "status": "up\n"}
    with open(plan_file) as f:
        files["topology"] = f.read()
    for fn in ("topology", "overrides", "source", "namespaces", "pids", "attached", "mininet", "status"):
        with open(os.path.join(rundir, fn), "w") as f:
            f.write(files[fn])
    return named


def unname(named):
    for ns in named:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


def main():
    ap = argparse.ArgumentParser(description="X-Pro topologies under Mininet (Linux bridges, no controller)")
    ap.add_argument("topology", nargs="?", default="default", help="topology name or file (default: default)")
    ap.add_argument("--proxies", type=int, help="number of proxies (replaces the file's)")
    ap.add_argument("--victims", type=int, help="number of victims (replaces the file's)")
    ap.add_argument("--run", action="append", default=[], metavar="'HOST CMD'",
                    help="run CMD on HOST after the pings (repeatable); HOST may be any host of the plan")
    ap.add_argument("--xpro", action="store_true", help="attach xpro on every proxy's in0 (detached at the end)")
    ap.add_argument("--no-ping", action="store_true", help="skip the mesh pings")
    ap.add_argument("--cli", action="store_true", help="open the Mininet CLI before stopping")
    ap.add_argument("--serve", metavar="NAME", help="keep it up as xpro-topo run NAME until a signal")
    ap.add_argument("-v", "--verbose", action="store_true", help="Mininet's info output")
    args = ap.parse_args()
    for opt in ("proxies", "victims"):
        v = getattr(args, opt)
        if v is not None and not 1 <= v <= 99:
            ap.error("--%s: 1-99" % opt)
    runs = []
    for r in args.run:
        host, _, cmd = r.strip().partition(" ")
        if not cmd.strip():
            ap.error("--run 'HOST CMD': %r has no command" % r)
        runs.append((host, cmd))
    if args.serve and not (args.serve[:1].isalnum() and all(c.isalnum() or c in "_-" for c in args.serve)
                           and len(args.serve) <= 32):
        ap.error("--serve NAME: 1-32 of A-Za-z0-9_- (first alphanumeric)")
    if os.geteuid() != 0:
        print("xpro_topo.py: needs root (network namespaces)", file=sys.stderr)
        return 2

    probe = find_tool("xpro-topo-probe", "XPRO_TOPO_PROBE")
    ping = find_tool("xpro-topo-ping", "XPRO_TOPO_PING")
    xpro = find_tool("xpro", "XPRO") if args.xpro else None
    try:
        plan = Plan(M.plan(args.topology, args.proxies, args.victims))
    except M.TopoError as e:
        print("xpro_topo.py: %s" % e, file=sys.stderr)
        return 2
    names = {h for h, _ in plan.hosts}
    for host, _ in runs:
        if host not in names:
            print("xpro_topo.py: --run: no host %r (hosts: %s)" % (host, " ".join(sorted(names))), file=sys.stderr)
            return 2

    setLogLevel("info" if args.verbose else "warning")
    # Mininet.init() raises rlimits and host-wide sysctls (fixLimits); the
    # testbed does not need them, so skip it (root was checked above).
    Mininet.inited = True
    net = Mininet(topo=None, build=False, controller=None, ipBase="198.18.0.0/15",
                  autoSetMacs=False, autoStaticArp=False, waitConnected=False)
    ok = True
    attached, named = [], []
    tmpdir = tempfile.mkdtemp(prefix="xpro-mn-")
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)
    t0 = time.monotonic()
    try:
        hosts, switches = build(net, plan)
        print("xpro_topo.py: %s built in %.2f s: %d hosts, %d Linux bridges, no controller"
              % (args.topology, time.monotonic() - t0, len(hosts), len(switches)))
        print("xpro_topo.py: node PIDs: %s" % " ".join(
            "%s=%d" % (n.name, n.pid) for n in list(hosts.values()) + list(switches.values())))
        sys.stdout.flush()
        errs = check(plan, hosts, switches, probe)
        for e in errs:
            print("xpro_topo.py: check: %s" % e, file=sys.stderr)
        ok = not errs
        if not args.no_ping:
            ok = ping_mesh(plan, hosts, ping) and ok
        if args.xpro:
            attached = xpro_attach(hosts, xpro, tmpdir)
        for host, c in runs:
            rc, out = sh(hosts[host], c)
            sys.stdout.write("--- %s: %s (exit %d)\n%s" % (host, c, rc, out))
            ok = ok and rc == 0
        if args.cli:
            from mininet.cli import CLI
            CLI(net)
        if args.serve and ok:
            named = serve_names(args.serve, args, M.find_topology(args.topology), hosts, switches)
            print("xpro_topo.py: serving %s: ready" % args.serve)
            sys.stdout.flush()
            while True:
                signal.pause()
    except Interrupted as e:
        print("xpro_topo.py: interrupted (%s): stopping" % e, file=sys.stderr)
        ok = ok and bool(named)      # the way a --serve ends
        sys.stderr.flush()
    except Exception as e:  # report, then stop cleanly below
        print("xpro_topo.py: error: %s: stopping" % e, file=sys.stderr)
        ok = False
    finally:
        for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(s, signal.SIG_IGN)  # no second interruption of the cleanup
        nodes = net.hosts + net.switches
        inodes = {i for i in (netns_inode(n.pid) for n in nodes if n.pid) if i} - {netns_inode(1)}
        for n in nodes:
            unblock(n)
        if attached:
            xpro_detach(attached, xpro)
        try:
            net.stop()
        except Exception as e:
            print("xpro_topo.py: net.stop(): %s; terminating the nodes" % e, file=sys.stderr)
            for n in nodes:
                try:
                    n.terminate()
                except Exception:
                    pass
            ok = False
        left = reap(inodes)
        if left:
            print("xpro_topo.py: killed processes left in the nodes' namespaces: %s"
                  % " ".join(map(str, left)), file=sys.stderr)
        unname(named)
        subprocess.run(["rm", "-rf", tmpdir], check=False)
        print("xpro_topo.py: stopped cleanly")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
