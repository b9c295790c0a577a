"""Scenario files of the X-Pro experiments: parse, check, scale (docs/experiments.md).

A scenario is an INI file (experiments/NAME.scn): sections [scenario], [thresholds],
[devices], [bots.GROUP]..., [replay] and [replay.NAME]..., [events], [assert], [ci]. Only '=' separates a
key from its value; '#' starts a comment (also after a value).
"""
import configparser
import ipaddress
import os
import re

from defenses import NAMES as DEFENSES  # the defenses' table (experiments/defenses.py)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RAW_VECTORS = {"udp", "vse", "dns", "syn", "ack", "greip", "greeth"}
SOCKET_VECTORS = {"udpplain"}           # kernel sockets: need xpro-tun on the bot host
VECTORS = RAW_VECTORS | SOCKET_VECTORS
EVENTS = {"kill-proxy", "cut-master", "heal-master"}
TESTBED = ipaddress.ip_network("198.18.0.0/15")


class ScenarioError(Exception):
    pass


def find_scenario(name):
    """A scenario name (experiments/NAME.scn) or a path."""
    if os.path.sep in name or name.endswith(".scn"):
        p = os.path.abspath(name)
    else:
        p = os.path.join(HERE, name + ".scn")
    if not os.path.isfile(p):
        avail = " ".join(list_scenarios())
        raise ScenarioError(f"scenario {name}: no file {p} (scenarios: {avail})")
    return p


def list_scenarios():
    return sorted(f[:-4] for f in os.listdir(HERE) if f.endswith(".scn"))


def _parser():
    cp = configparser.ConfigParser(delimiters=("=",), comment_prefixes=("#",),
                                   inline_comment_prefixes=("#",), interpolation=None,
                                   strict=True, empty_lines_in_values=False)
    cp.optionxform = str
    return cp


def _num(v, what, lo=None, hi=None, integer=False):
    try:
        x = int(v) if integer else float(v)
    except (TypeError, ValueError):
        raise ScenarioError(f"{what}: '{v}' is not a{'n integer' if integer else ' number'}")
    if lo is not None and x < lo or hi is not None and x > hi:
        raise ScenarioError(f"{what}: {v} is out of range [{lo}, {hi}]")
    return x


def _cidr(v, what):
    try:
        n = ipaddress.ip_network(v, strict=True)
    except ValueError:
        raise ScenarioError(f"{what}: '{v}' is not a network address/prefix")
    if not n.subnet_of(TESTBED):
        raise ScenarioError(f"{what}: {v} is outside the testbed range 198.18.0.0/15")
    return str(n)


def parse_phases(v, what):
    """'START-END:RATE[,START-END:RATE...]' (seconds, packets/s per bot; RATE 'max' = unpaced)."""
    out = []
    for part in v.split(","):
        m = re.fullmatch(r"\s*([0-9.]+)\s*-\s*([0-9.]+)\s*:\s*([0-9.]+|max)\s*", part)
        if not m:
            raise ScenarioError(f"{what}: '{part.strip()}' is not START-END:RATE")
        s, e = float(m.group(1)), float(m.group(2))
        if e <= s:
            raise ScenarioError(f"{what}: phase {part.strip()} ends before it starts")
        rate = None if m.group(3) == "max" else float(m.group(3))
        out.append({"start": s, "end": e, "rate": rate})
    out.sort(key=lambda p: p["start"])
    for a, b in zip(out, out[1:]):
        if b["start"] < a["end"]:
            raise ScenarioError(f"{what}: phases overlap")
    return out


def load(name, scale="default"):
    """Parse a scenario; scale 'ci' applies its [ci] overrides. Returns a plain dict."""
    path = find_scenario(name)
    cp = _parser()
    try:
        with open(path) as f:
            cp.read_file(f)
    except configparser.Error as e:
        raise ScenarioError(f"{path}: {str(e).splitlines()[0]}")
    raw = {s: dict(cp.items(s)) for s in cp.sections()}
    if scale == "ci":
        for k, v in raw.get("ci", {}).items():
            if k == "defenses":
                continue
            if k == "events":
                # `events = T ACTION [ARGS]; T ACTION ...` replaces the whole [events]
                raw["events"] = {}
                for item in v.split(";"):
                    w = item.split(None, 1)
                    if len(w) != 2:
                        raise ScenarioError(f"{path}: [ci] events: '{item.strip()}' is not T ACTION")
                    raw["events"][w[0]] = w[1]
                continue
            if "." not in k:
                raise ScenarioError(f"{path}: [ci] {k}: keys are SECTION.KEY")
            sec, key = k.rsplit(".", 1)
            if sec not in raw:
                raise ScenarioError(f"{path}: [ci] {k}: no section [{sec}]")
            raw[sec][key] = v
    elif scale != "default":
        raise ScenarioError(f"scale {scale}: default or ci")
    return build(raw, path, scale)


def build(raw, path, scale="default"):
    base = os.path.basename(path)[:-4] if path.endswith(".scn") else os.path.basename(path)
    known = {"scenario", "thresholds", "devices", "replay", "events", "assert", "ci"}
    for s in raw:
        if s not in known and not s.startswith("bots.") and not s.startswith("replay."):
            raise ScenarioError(f"{path}: unknown section [{s}]")
    s = raw.get("scenario")
    if s is None:
        raise ScenarioError(f"{path}: no [scenario] section")
    allowed = {"description", "topology", "victim", "seed", "defense", "duration", "grace",
               "thresholds", "sample_ms", "setup", "proxy_mac_learning", "identity", "family"}
    for k in s:
        if k not in allowed:
            raise ScenarioError(f"{path}: [scenario] unknown key {k}")
    sc = {"name": base, "file": path, "scale": scale,
          "description": s.get("description", "").strip(),
          "topology": s.get("topology", "default"),
          "victim": s.get("victim", "vic1"),
          "seed": _num(s.get("seed", "1"), "seed", 0, 2**31, True),
          "defense": s.get("defense", "xpro"),
          "duration": _num(s.get("duration", "20"), "duration", 1, 600),
          "grace": _num(s.get("grace", "2"), "grace", 0.5, 30),
          "thresholds_file": s.get("thresholds", "thresholds.conf"),
          "sample_ms": _num(s.get("sample_ms", "100"), "sample_ms", 20, 5000, True),
          # client identity (docs/protocol.md): keys for the devices and bots
          "identity": s.get("identity", "off").strip(),
          # the devices' and bots' address family (docs/experiments.md, "IPv6")
          "family": s.get("family", "4").strip()}
    if sc["identity"] not in ("on", "off"):
        raise ScenarioError(f"{path}: [scenario] identity {sc['identity']}: on or off")
    if sc["family"] not in ("4", "6"):
        raise ScenarioError(f"{path}: [scenario] family {sc['family']}: 4 or 6")
    sc["family"] = int(sc["family"])
    if sc["defense"] not in DEFENSES:
        raise ScenarioError(f"{path}: defense {sc['defense']}: one of {' '.join(DEFENSES)}")
    # thresholds: the default file plus overrides, each with a reason
    tpath = os.path.join(HERE, sc["thresholds_file"])
    sc["thresholds"] = read_conf(tpath)
    sc["thresholds_path"] = tpath
    ovr = dict(raw.get("thresholds", {}))
    why = ovr.pop("why", "").strip()
    if ovr and not why:
        raise ScenarioError(f"{path}: [thresholds] overrides {', '.join(ovr)} without a `why`")
    sc["overrides"] = ovr
    sc["override_why"] = why
    # devices
    d = raw.get("devices")
    if d is not None:
        dk = {"count", "proto", "period_ms", "jitter", "timeout_ms", "failover_after", "start",
              "stop", "sources", "proxies", "proxy_start", "burst_every"}
        for k in d:
            if k not in dk:
                raise ScenarioError(f"{path}: [devices] unknown key {k}")
        dev = {"count": _num(d.get("count", "50"), "devices.count", 1, 16384, True),
               "proto": d.get("proto", "coap"),
               "period_ms": _num(d.get("period_ms", "1000"), "devices.period_ms", 10, 600000, True),
               "jitter": _num(d.get("jitter", "10"), "devices.jitter", 0, 100, True),
               "timeout_ms": _num(d.get("timeout_ms", "1000"), "devices.timeout_ms", 10, 60000, True),
               "failover_after": _num(d.get("failover_after", "3"), "devices.failover_after", 1, 1000, True),
               "start": _num(d.get("start", "0"), "devices.start", 0, 600),
               "stop": _num(d.get("stop", str(sc["duration"])), "devices.stop", 0, 600),
               "sources": _cidr(d["sources"], "devices.sources") if "sources" in d else None,
               "proxies": d.get("proxies", "all"),
               "proxy_start": d.get("proxy_start", "spread"),
               "burst_every": _num(d.get("burst_every", "0"), "devices.burst_every", 0, 3600, True)}
        if dev["proto"] != "coap":
            # the accounting needs one logged message = one packet at the victim;
            # MQTT adds TCP handshakes and pure ACKs that no generator logs
            raise ScenarioError(f"{path}: devices.proto {dev['proto']}: only coap is accounted exactly")
        if dev["stop"] <= dev["start"]:
            raise ScenarioError(f"{path}: [devices] stop must be after start")
        sc["devices"] = dev
    else:
        sc["devices"] = None
    # bots
    bots = []
    for sec in sorted(k for k in raw if k.startswith("bots.")):
        b = raw[sec]
        bk = {"vector", "bots", "sources", "proxies", "proxy_mode", "hop", "phases", "pulse",
              "options", "fast"}
        for k in b:
            if k not in bk:
                raise ScenarioError(f"{path}: [{sec}] unknown key {k}")
        if "vector" not in b or "phases" not in b or "sources" not in b:
            raise ScenarioError(f"{path}: [{sec}] needs vector, sources and phases")
        if b["vector"] not in VECTORS:
            raise ScenarioError(f"{path}: [{sec}] vector {b['vector']}: one of {' '.join(sorted(VECTORS))}")
        g = {"group": sec[5:], "vector": b["vector"],
             "bots": _num(b.get("bots", "1"), f"{sec}.bots", 1, 65536, True),
             "sources": _cidr(b["sources"], f"{sec}.sources"),
             "proxies": b.get("proxies", "all"),
             "proxy_mode": b.get("proxy_mode", "spread"),
             "hop": _num(b.get("hop", "100"), f"{sec}.hop", 1, 10**9, True),
             "phases": parse_phases(b["phases"], f"{sec}.phases"),
             "pulse": None, "options": b.get("options", "").split(),
             "fast": b.get("fast", "0") in ("1", "yes", "true")}
        if g["proxy_mode"] not in ("fixed", "spread", "hop"):
            raise ScenarioError(f"{path}: [{sec}] proxy_mode: fixed, spread or hop")
        if "pulse" in b:
            m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", b["pulse"])
            if not m:
                raise ScenarioError(f"{path}: [{sec}] pulse: ON_MS/OFF_MS")
            g["pulse"] = (int(m.group(1)), int(m.group(2)))
        bots.append(g)
    sc["bots"] = bots
    # replays: [replay] and [replay.NAME], several captures at once
    sc["replays"] = []
    for sec in sorted(k for k in raw if k == "replay" or k.startswith("replay.")):
        sc["replays"].append(parse_replay(raw[sec], sec, path, sc))
    srcs = [ipaddress.ip_network(r["src_range"]) for r in sc["replays"]]
    for i, a in enumerate(srcs):
        for b in srcs[i + 1:]:
            if a.overlaps(b):
                raise ScenarioError(f"{path}: replays' src_range {a} and {b} overlap (the victim tells "
                                    "replays apart by source)")
    names = [c for r in sc["replays"] for c in r["classes"]]
    if len(names) != len(set(names)):
        raise ScenarioError(f"{path}: a class name is used by two replays")
    sc["replay"] = sc["replays"][0] if sc["replays"] else None   # the first (older readers)
    # events
    ev = []
    for t, v in raw.get("events", {}).items():
        parts = v.split()
        if not parts or parts[0] not in EVENTS:
            raise ScenarioError(f"{path}: [events] {t} = {v}: one of {' '.join(sorted(EVENTS))}")
        ev.append({"t": _num(t, f"event time {t}", 0, 600), "action": parts[0], "args": parts[1:]})
    ev.sort(key=lambda e: e["t"])
    sc["events"] = ev
    # assertions
    sc["asserts"] = []
    for k, v in raw.get("assert", {}).items():
        parse_assert(v, f"{path}: [assert] {k}")
        sc["asserts"].append({"name": k, "expr": v.strip()})
    ci = raw.get("ci", {})
    if "defenses" in ci:
        sc["ci_defenses"] = ci["defenses"].split()
    else:
        sc["ci_defenses"] = assert_defenses(sc["asserts"]) or [sc["defense"]]
    for dfn in sc["ci_defenses"]:
        if dfn not in DEFENSES:
            raise ScenarioError(f"{path}: [ci] defenses: {dfn} is not a defense")
    if not bots and not any(attack_classes(r) for r in sc["replays"]):
        raise ScenarioError(f"{path}: no attack ([bots.NAME] or a [replay] with a class not benign)")
    return sc


CLASS_NAME = re.compile(r"[A-Za-z0-9_.-]{1,31}")


def parse_replay(r, sec, path, sc):
    """One [replay] or [replay.NAME] section. `classes = NAME=EXPR; NAME=EXPR` labels the
    capture's packets by libpcap filters (first match wins; else `class`); `benign`
    names the classes that are legitimate traffic (scored as false positives);
    `dst = range` (default) keeps the capture's destinations apart, mapped into the
    victim's range; `dst = target` sends every packet to the victim's address."""
    rk = {"pcap", "start", "stop", "speed", "rate", "loop", "src_range", "proxy", "class",
          "max_gap", "classes", "benign", "dst"}
    for k in r:
        if k not in rk:
            raise ScenarioError(f"{path}: [{sec}] unknown key {k}")
    name = "replay" if sec == "replay" else sec[len("replay."):]
    if not CLASS_NAME.fullmatch(name):
        raise ScenarioError(f"{path}: [{sec}]: the name is 1-31 of A-Za-z0-9_.-")
    default = r.get("class", name)
    filters = []
    for item in (r.get("classes") or "").split(";"):
        if not item.strip():
            continue
        n, eq, expr = item.partition("=")
        n = n.strip()
        if not eq or not CLASS_NAME.fullmatch(n) or not expr.strip():
            raise ScenarioError(f"{path}: [{sec}] classes: '{item.strip()}' is not NAME=EXPR")
        filters.append((n, expr.strip()))
    classes = []
    for c in [n for n, _ in filters] + [default]:
        if not CLASS_NAME.fullmatch(c):
            raise ScenarioError(f"{path}: [{sec}] class '{c}': 1-31 of A-Za-z0-9_.-")
        if c not in classes:
            classes.append(c)
    if "legit" in classes:
        raise ScenarioError(f"{path}: [{sec}]: class legit is the devices'; name a benign class otherwise")
    benign = (r.get("benign") or "").split()
    for b in benign:
        if b not in classes:
            raise ScenarioError(f"{path}: [{sec}] benign {b}: not a class of this replay ({' '.join(classes)})")
    dst = r.get("dst", "range")
    if dst not in ("range", "target"):
        raise ScenarioError(f"{path}: [{sec}] dst: range or target")
    return {"name": name, "section": sec, "pcap": r.get("pcap", ""),
            "start": _num(r.get("start", "0"), f"{sec}.start", 0, 600),
            "stop": _num(r.get("stop", str(sc["duration"])), f"{sec}.stop", 0, 600),
            "speed": _num(r.get("speed", "1"), f"{sec}.speed", 0, 10**6),
            "rate": _num(r.get("rate", "20000"), f"{sec}.rate", 1, 10**7, True),
            "loop": _num(r.get("loop", "1"), f"{sec}.loop", 1, 10**6, True),
            "max_gap": r.get("max_gap"),
            "src_range": _cidr(r.get("src_range", "198.18.40.0/21"), f"{sec}.src_range"),
            "proxy": r.get("proxy", "px1"), "victim": sc["victim"],
            "class": default, "filters": filters, "classes": classes, "benign": benign, "dst": dst}


def attack_classes(r):
    """A replay's classes that are attack (not benign)."""
    return [c for c in r["classes"] if c not in r["benign"]]


def scale_time(sc, duration):
    """DURATION=: stretch or shrink the whole timeline to `duration` seconds."""
    f = duration / sc["duration"]
    sc["duration"] = duration
    if sc["devices"]:
        sc["devices"]["start"] *= f
        sc["devices"]["stop"] *= f
    for g in sc["bots"]:
        for p in g["phases"]:
            p["start"] *= f
            p["end"] *= f
    for r in sc["replays"]:
        r["start"] *= f
        r["stop"] *= f
    for e in sc["events"]:
        e["t"] *= f
    return sc


def attack_span(sc):
    """(start, end) of the attack in scenario seconds."""
    starts, ends = [], []
    for g in sc["bots"]:
        starts.append(g["phases"][0]["start"])
        ends.append(g["phases"][-1]["end"])
    for r in sc["replays"]:
        if attack_classes(r):
            starts.append(r["start"])
            ends.append(r["stop"])
    return min(starts), max(ends)


def read_conf(path):
    out = {}
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if "=" not in line:
                raise ScenarioError(f"{path}:{n}: not KEY = VALUE")
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


# ------------------------------------------------------------------ assertions
# EXPR := SIDE OP SIDE; SIDE := [NUMBER *] DEFENSE.FIELD | NUMBER | true | false | null
# OP := >= <= > < == !=. FIELD may be dotted (by_vector.udp.drop_ratio).

_SIDE = r"\s*(?:(?P<{0}k>[0-9.eE+-]+)\s*\*\s*)?(?P<{0}v>[A-Za-z0-9_.-]+)\s*"
_ASSERT = re.compile("^" + _SIDE.format("l") + r"(?P<op>>=|<=|==|!=|>|<)" + _SIDE.format("r") + "$")


def parse_assert(expr, what="assertion"):
    m = _ASSERT.match(expr)
    if not m:
        raise ScenarioError(f"{what}: '{expr}' is not 'SIDE OP SIDE' (SIDE: [K *] DEFENSE.FIELD or a number)")
    sides = []
    for s in ("l", "r"):
        k = float(m.group(s + "k")) if m.group(s + "k") else 1.0
        v = m.group(s + "v")
        if v in ("true", "false", "null"):
            sides.append(("const", {"true": True, "false": False, "null": None}[v], k))
            continue
        try:
            sides.append(("const", float(v), k))
            continue
        except ValueError:
            pass
        dfn, _, field = v.partition(".")
        if dfn not in DEFENSES or not field:
            raise ScenarioError(f"{what}: '{v}' is not DEFENSE.FIELD (defenses: {' '.join(DEFENSES)})")
        sides.append(("ref", (dfn, field), k))
    return sides[0], m.group("op"), sides[1]


def assert_defenses(asserts):
    out = []
    for a in asserts:
        l, _, r = parse_assert(a["expr"])
        for s in (l, r):
            if s[0] == "ref" and s[1][0] not in out:
                out.append(s[1][0])
    return [d for d in DEFENSES if d in out]


def _get(summary, field):
    cur = summary
    for part in field.split("."):
        if not isinstance(cur, dict) or part not in cur:
            raise KeyError(field)
        cur = cur[part]
    return cur


def check_asserts(asserts, summaries):
    """summaries: {defense: summary}. Returns [(name, expr, ok, detail)]; an assertion
    on a defense that was not run fails."""
    res = []
    for a in asserts:
        l, op, r = parse_assert(a["expr"])
        vals = []
        detail = []
        ok = True
        for s in (l, r):
            if s[0] == "const":
                v = s[1]
            else:
                dfn, field = s[1]
                if dfn not in summaries:
                    ok, v = False, None
                    detail.append(f"{dfn} not run")
                else:
                    try:
                        v = _get(summaries[dfn], field)
                    except KeyError:
                        ok, v = False, None
                        detail.append(f"{dfn} has no {field}")
                    else:
                        detail.append(f"{dfn}.{field}={v}")
            if isinstance(v, (int, float)) and not isinstance(v, bool) and s[2] != 1.0:
                v = s[2] * v
            vals.append(v)
        if ok:
            a_, b_ = vals
            try:
                if op in ("==", "!="):
                    ok = (a_ == b_) if op == "==" else (a_ != b_)
                elif a_ is None or b_ is None:
                    ok = False
                    detail.append("null compared")
                else:
                    ok = {">=": a_ >= b_, "<=": a_ <= b_, ">": a_ > b_, "<": a_ < b_}[op]
            except TypeError:
                ok = False
        res.append((a["name"], a["expr"], bool(ok), "; ".join(detail)))
    return res
