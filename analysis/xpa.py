"""X-Pro experiment analysis: everything from a run folder's raw files (docs/experiments.md).

Python 3 standard library only (Debian's /usr/bin/python3); plots with gnuplot.

  analyze(RUNDIR)   -> summary.json, timeseries.csv, *.png, report.md (a SEEDS=N folder:
                       each seed-K, then means and 95% confidence intervals)
  compare(CMPDIR)   -> compare.json, compare.md, load.png from CMPDIR/runs/DEFENSE/
"""
import csv
import glob
import json
import math
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "experiments"))
import defenses  # noqa: E402  the defenses' table (experiments/defenses.py)

DETECT_RATIO = 0.9       # a 1 s window counts as "dropped" from 90 % on
DETECT_MIN_SENT = 20     # windows with fewer attack packets sent do not count either way
INVALID_LOSS = 0.01      # unexplained loss above 1 % of what was sent: the run is invalid

# ------------------------------------------------------------------ raw parsers


def parse_proc_net_dev(text):
    """/proc/net/dev -> {iface: {rx_packets, rx_drop, tx_packets, tx_drop, ...}}"""
    out = {}
    for line in text.splitlines()[2:]:
        if ":" not in line:
            continue
        name, rest = line.split(":", 1)
        v = [int(x) for x in rest.split()]
        if len(v) < 16:
            continue
        out[name.strip()] = {"rx_bytes": v[0], "rx_packets": v[1], "rx_errs": v[2], "rx_drop": v[3],
                             "rx_fifo": v[4], "tx_bytes": v[8], "tx_packets": v[9], "tx_errs": v[10],
                             "tx_drop": v[11], "tx_fifo": v[12]}
    return out


SNMP_IP_DROPS = ("InHdrErrors", "InAddrErrors", "InDiscards", "OutDiscards", "OutNoRoutes", "FragFails",
                 "ReasmFails")


def parse_snmp_ip(text):
    """/proc/net/snmp -> {counter: value} of its Ip lines (header line, then values)."""
    ip = [line.split()[1:] for line in text.splitlines() if line.startswith("Ip:")]
    if len(ip) < 2:
        return {}
    try:
        return {k: int(v) for k, v in zip(ip[0], ip[1])}
    except ValueError:
        return {}


def nft_counters(text):
    """`nft -j list counters ...` -> {name: packets}"""
    out = {}
    try:
        j = json.loads(text)
    except ValueError:
        return out
    for o in j.get("nftables", []):
        c = o.get("counter")
        if c and "name" in c:
            out[c["name"]] = c.get("packets", 0)
    return out


def nft_counter(text, name):
    return nft_counters(text).get(name)


def read_rows(path):
    """A common-format log (ts,src,dst,class,packets,bytes) -> list of dicts."""
    rows = []
    if not os.path.isfile(path):
        return rows
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            try:
                rows.append({"ts": int(r["ts"]), "src": r["src"], "dst": r["dst"], "class": r["class"],
                             "packets": int(r["packets"]), "bytes": int(r["bytes"])})
            except (KeyError, ValueError, TypeError):
                continue
    return rows


def read_latency(path):
    out = []
    if not os.path.isfile(path):
        return out
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            try:
                out.append({"ts_ms": int(r["ts_ms"]), "src": r["src"], "rtt_us": int(r["rtt_us"]),
                            "ok": int(r["ok"])})
            except (KeyError, ValueError):
                continue
    return out


def read_series(path):
    """xpro-sink --series -> {ts: {class: {packets, requests, cpu_ms}}}"""
    out = {}
    if not os.path.isfile(path):
        return out
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            try:
                ts = int(r["ts"])
                out.setdefault(ts, {})[r["class"]] = {"packets": int(r["packets"]),
                                                     "requests": int(r["requests"]),
                                                     "cpu_ms": int(r["cpu_ms"])}
            except (KeyError, ValueError):
                continue
    return out


def read_samples(path):
    out = []
    if not os.path.isfile(path):
        return out
    with open(path) as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


def load_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default

# ------------------------------------------------------------------ statistics


def quantile(xs, q):
    """Linear interpolation between closest ranks (numpy's default)."""
    if not xs:
        return None
    s = sorted(xs)
    pos = (len(s) - 1) * q
    lo = int(math.floor(pos))
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def _betacf(a, b, x):
    """The continued fraction of the regularized incomplete beta function (modified
    Lentz's method), for x < (a + 1) / (a + b + 2)."""
    tiny, eps = 1e-300, 1e-15
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 1000):
        m2 = 2 * m
        for num in (m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
                    -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0))):
            d = 1.0 + num * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + num / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < eps:
            break
    return h


def betainc(a, b, x):
    """The regularized incomplete beta function I_x(a, b), 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    lnf = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(lnf) * _betacf(a, b, x) / a
    return 1.0 - math.exp(lnf) * _betacf(b, a, 1.0 - x) / b


def t_cdf(t, df):
    """Student's t distribution function: P(T <= t) with df degrees of freedom."""
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p, df):
    """The p-quantile of Student's t (0.5 <= p < 1), by bisection on t_cdf to 1e-12."""
    if not 0.5 <= p < 1 or df <= 0:
        raise ValueError("t_quantile: 0.5 <= p < 1 and df > 0")
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
    while hi - lo > 1e-12 * max(1.0, hi):
        mid = (lo + hi) / 2.0
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


def t975(df):
    """The two-sided 95 % quantile of Student's t with df degrees of freedom."""
    return t_quantile(0.975, df)


def mean_ci(xs):
    """(mean, half-width of the 95 % confidence interval: Student's t) of a sample; None
    when empty; the half-width None when n = 1."""
    xs = [x for x in xs if x is not None]
    if not xs:
        return None, None
    n = len(xs)
    m = sum(xs) / n
    if n < 2:
        return m, None
    var = sum((x - m) ** 2 for x in xs) / (n - 1)
    return m, t975(n - 1) * math.sqrt(var / n)


def wilson(k, n, z=1.959963984540054):
    """Wilson's 95 % score interval of a proportion k/n -> (low, high); None when n = 0."""
    if not n:
        return None
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def ratio(num, den):
    return None if not den else num / den

# ------------------------------------------------------------------ accounting


XPRO_DROPS = ("drop_tf1", "drop_tf2", "drop_tf2_fair", "drop_truncated", "drop_bad_version",
              "drop_bad_len", "drop_inner_bounds", "drop_outer_frag", "drop_inner_frag",
              "drop_not_ipv4", "drop_ipv6", "drop_fib", "drop_spoofed", "drop_nested",
              "drop_to_proxy", "drop_to_mgmt", "drop_hairpin", "drop_encap", "drop_bad_mac",
              "drop_replay", "drop_no_key", "drop_v1", "drop_exthdr", "drop_no_config")


def iface_drops(start, end):
    """Sum of the rx/tx drop, error and fifo counters' growth over every interface of the
    run (loopback aside). -> (total, {host/iface: n})"""
    tot, parts = 0, {}
    for host, ifs in (end or {}).items():
        if host.startswith("_"):
            continue
        for name, e in ifs.items():
            if name == "lo":
                continue
            s = (start or {}).get(host, {}).get(name)
            if s is None:
                continue
            d = 0
            for k in ("rx_drop", "tx_drop", "rx_errs", "tx_errs", "rx_fifo", "tx_fifo"):
                d += max(0, e.get(k, 0) - s.get(k, 0))
            if d:
                parts[f"{host}/{name}"] = d
                tot += d
    return tot, parts


def ip_drops(start, end, hosts):
    """The IP layer's drops on HOSTS (the proxies), from /proc/net/snmp: a packet the
    kernel forwards with TTL 1 (InHdrErrors), with no route, discarded... ->
    (total, {host/counter: n})"""
    tot, parts = 0, {}
    s0, s1 = (start or {}).get("_snmp") or {}, (end or {}).get("_snmp") or {}
    for h in hosts:
        a, b = s0.get(h), s1.get(h)
        if not a or not b:
            continue
        for k in SNMP_IP_DROPS:
            d = max(0, b.get(k, 0) - a.get(k, 0))
            if d:
                parts[f"{h}/{k}"] = d
                tot += d
    return tot, parts


def defense_drops(meta, final):
    """Drops counted by the defense: the proxies' X-Pro counters, netfilter's for nft."""
    tot, parts = 0, {}
    for p in (meta.get("proxies") or {}):
        st = (final or {}).get(p) or {}
        c = st.get("counters") or {}
        n = sum(int(c.get(k, 0)) for k in XPRO_DROPS)
        dfn = defenses.BY_NAME.get(meta.get("defense"))
        if dfn and dfn.nft:
            n += int((final or {}).get(p + "_nft_drops") or 0)
        parts[p] = n
        tot += n
    return tot, parts

# ------------------------------------------------------------------ one run


def _secs(rows, classes):
    """{class: {ts: packets}}"""
    out = {}
    for r in rows:
        if classes is not None and r["class"] not in classes:
            continue
        d = out.setdefault(r["class"], {})
        d[r["ts"]] = d.get(r["ts"], 0) + r["packets"]
    return out


def detect(samples, attack_classes, t_start_ms, t_end_ms, sender="bot", window_ms=1000):
    """Detection time (ms from attack start): the start of the first 1 s window from which
    every later 1 s window of the attack has at least 90 % of the attack packets dropped.
    Sent: the attack host's interface transmit counter; received: the victim's per-class
    counters of the attack classes. Returns (detect_ms or None, [(t_ms, ratio)])."""
    pts = []
    for s in samples:
        b, v = s.get(sender), s.get("victim")
        if not b or not v or "cls" not in v:
            continue
        recv = sum(v["cls"].get("c_" + c.replace("-", "_"), 0) for c in attack_classes)
        pts.append((s["t_ms"], b["tx_packets"], recv))
    wins = []
    j = 0
    for i in range(len(pts)):
        t = pts[i][0]
        if t < t_start_ms - 150:
            continue
        while j < len(pts) and pts[j][0] < t + window_ms:
            j += 1
        if j >= len(pts) or pts[j][0] > t_end_ms + 150:
            break
        sent = pts[j][1] - pts[i][1]
        recv = pts[j][2] - pts[i][2]
        if sent < DETECT_MIN_SENT:
            wins.append((t, None))
        else:
            wins.append((t, max(0.0, 1 - recv / sent)))
    det = None
    for k in range(len(wins)):
        if wins[k][1] is None:
            continue
        if all(w[1] is None or w[1] >= DETECT_RATIO for w in wins[k:]):
            det = max(0, wins[k][0] - t_start_ms)
            break
    return det, wins


def in_victim(meta):
    """A predicate on a destination address: the victim's address or its range."""
    import ipaddress
    addr = meta.get("victim_addr")
    rng = ipaddress.ip_network(meta["victim_range"]) if meta.get("victim_range") else None

    def ok(dst):
        if addr is None or dst == addr:
            return True
        try:
            return rng is not None and ipaddress.ip_address(dst) in rng
        except ValueError:
            return False
    return ok


def attribute(recv_rows, sent_rows, split):
    """The victim counts a replay of several classes as one class (by source); split it
    into its classes by what the replay's log says each (source, destination) pair sent
    over the run, in proportion (exact when a pair carries one class; a pair never
    sent to falls to the source's shares, then to the replay's default class, the last)."""
    if not split:
        return recv_rows
    owner = {c: k for k, cs in split.items() for c in cs}
    pair, by_src = {}, {}
    for r in sent_rows:
        k = owner.get(r["class"])
        if k is None:
            continue
        for key, m in (((k, r["src"], r["dst"]), pair), ((k, r["src"]), by_src)):
            d = m.setdefault(key, {})
            d[r["class"]] = d.get(r["class"], 0) + r["packets"]
    out = []
    for r in recv_rows:
        if r["class"] not in split:
            out.append(r)
            continue
        k = r["class"]
        sh = pair.get((k, r["src"], r["dst"])) or by_src.get((k, r["src"])) or {split[k][-1]: 1}
        n = sum(sh.values())
        for c, v in sh.items():
            out.append(dict(r, **{"class": c, "packets": r["packets"] * v / n}))
    return out


def detect_class(sent_c, recv_c, t_start_ms, t_end_ms):
    """One class's detection time from the per-second logs (1 s resolution): from the
    class's first second of the attack to the first second from which every later
    second with at least DETECT_MIN_SENT packets sent has DETECT_RATIO of them dropped."""
    secs = sorted(ts for ts, n in (sent_c or {}).items()
                  if n > 0 and (ts + 1) * 1000 > t_start_ms and ts * 1000 < t_end_ms)
    if not secs:
        return None
    start = max(t_start_ms, secs[0] * 1000)
    wins = []
    for ts in secs:
        sn = sent_c[ts]
        wins.append((ts, None if sn < DETECT_MIN_SENT else max(0.0, 1 - (recv_c or {}).get(ts, 0) / sn)))
    for k in range(len(wins)):
        if wins[k][1] is None:
            continue
        if all(w[1] is None or w[1] >= DETECT_RATIO for w in wins[k:]):
            return max(0, wins[k][0] * 1000 - start)
    return None


def analyze_one(d):
    meta = load_json(os.path.join(d, "meta.json"), {}) or {}
    raw = os.path.join(d, "raw")
    src_classes = list((meta.get("classes") or {}).keys())
    split = meta.get("split") or {}
    classes = [x for c in src_classes for x in split.get(c, [c])]
    legit_classes = [c for c in classes if c == "legit" or c in (meta.get("benign") or [])]
    attack_classes = [c for c in classes if c not in legit_classes]
    # the victim's counters (by source) of classes that are attack only
    det_classes = [c for c in src_classes if all(x not in legit_classes for x in split.get(c, [c]))]
    t0 = meta.get("t0_ms", 0)
    a0, a1 = meta.get("attack_span_s", [0, 0])
    att_start, att_end = t0 + int(a0 * 1000), t0 + int(a1 * 1000)
    # sent (generators' logs) and received (the victim)
    sent_rows = []
    for p in sorted(glob.glob(os.path.join(raw, "sent_*.csv"))):
        sent_rows += read_rows(p)
    ok = in_victim(meta)
    recv_rows = attribute([r for r in read_rows(os.path.join(raw, "received.csv")) if ok(r["dst"])],
                          sent_rows, split)
    sent = _secs(sent_rows, classes)
    recv = _secs(recv_rows, classes)
    tot = lambda m, c: sum((m.get(c) or {}).values())
    samples = read_samples(os.path.join(raw, "samples.jsonl"))
    if det_classes:
        det, wins = detect(samples, det_classes, att_start, att_end)
    else:
        # no victim counter holds attack alone (a mixed replay): the per-class
        # detection from the per-second logs, the latest of the attack classes
        ds = [detect_class(sent.get(c), recv.get(c), att_start, att_end) for c in attack_classes]
        det, wins = (max(ds) if ds and None not in ds else None), []
    det_ts = None if det is None else (att_start + det) / 1000.0
    by_vector = {}
    a_sent = a_recv = a_sent_after = a_recv_after = 0
    for c in attack_classes:
        s, r = tot(sent, c), round(tot(recv, c))
        if det_ts is not None:
            sa = sum(v for ts, v in (sent.get(c) or {}).items() if ts >= math.ceil(det_ts))
            ra = round(sum(v for ts, v in (recv.get(c) or {}).items() if ts >= math.ceil(det_ts)))
        else:
            sa, ra = s, r
        by_vector[c] = {"sent": s, "received": r, "dropped": s - r, "drop_ratio": ratio(s - r, s),
                        "drop_ratio_after_detect": ratio(sa - ra, sa),
                        "detect_ms": detect_class(sent.get(c), recv.get(c), att_start, att_end)}
        a_sent += s
        a_recv += r
        a_sent_after += sa
        a_recv_after += ra
    # false positives per legitimate class (the devices, each benign replayed class)
    by_legit = {}
    for c in legit_classes:
        s, r = tot(sent, c), round(tot(recv, c))
        by_legit[c] = {"sent": s, "received": r, "dropped": s - r, "drop_ratio": ratio(s - r, s)}
    l_sent = sum(v["sent"] for v in by_legit.values())
    l_recv = sum(v["received"] for v in by_legit.values())
    lat = read_latency(os.path.join(raw, "latency.csv"))
    ok_rtt = [x["rtt_us"] / 1000.0 for x in lat if x["ok"]]
    att_rtt = [x["rtt_us"] / 1000.0 for x in lat if x["ok"] and att_start <= x["ts_ms"] < att_end]
    att_req = [x for x in lat if att_start <= x["ts_ms"] < att_end]
    # the victim's load per second (xpro-sink's series, every class)
    series = read_series(os.path.join(raw, "victim_series.csv"))
    base = [v["all"]["packets"] for ts, v in series.items()
            if "all" in v and ts * 1000 >= t0 and (ts + 1) * 1000 <= att_start]
    during = [v["all"]["packets"] for ts, v in series.items()
              if "all" in v and ts * 1000 >= att_start and (ts + 1) * 1000 <= att_end]
    cpu_during = [v["all"]["cpu_ms"] for ts, v in series.items()
                  if "all" in v and ts * 1000 >= att_start and (ts + 1) * 1000 <= att_end]
    if not during:   # attacks shorter than one whole second
        during = [v["all"]["packets"] for ts, v in series.items()
                  if "all" in v and (ts + 1) * 1000 > att_start and ts * 1000 < att_end]
    # accounting: every loss explained by a counter on the path
    final = load_json(os.path.join(raw, "final_stats.json"), {}) or {}
    ifs0 = load_json(os.path.join(raw, "ifstats_start.json"), {})
    ifs1 = load_json(os.path.join(raw, "ifstats_end.json"), {})
    sink = load_json(os.path.join(raw, "sink.json"), {}) or {}
    dd, dd_parts = defense_drops(meta, final)
    idd, id_parts = iface_drops(ifs0, ifs1)
    ipd, ip_parts = ip_drops(ifs0, ifs1, list((meta.get("proxies") or {}).keys()))
    ring = int(sink.get("ring_drops", 0) or 0)
    dead = int(final.get("dead_proxy_frames") or 0)
    sent_total = a_sent + l_sent
    recv_total = a_recv + l_recv
    lost = sum(max(0, tot(sent, c) - round(tot(recv, c))) for c in classes)
    extra = sum(max(0, round(tot(recv, c)) - tot(sent, c)) for c in classes)
    explained = dd + idd + ipd + ring + dead
    unexplained = max(0, lost - explained)
    # per class: a class that received more than it sent (backscatter, a count of
    # something no generator sent), or lost more than every drop counter of the path
    # together could explain, invalidates the run
    per_class = {}
    for c in classes:
        s_, r_ = tot(sent, c), round(tot(recv, c))
        per_class[c] = {"sent": s_, "received": r_, "extra": max(0, r_ - s_),
                        "unexplained": max(0, (s_ - r_) - explained)}
    reasons = []
    if meta.get("error"):
        reasons.append("run failed: " + meta["error"])
    if sent_total == 0:
        reasons.append("nothing was sent")
    if unexplained > INVALID_LOSS * max(1, sent_total):
        reasons.append(f"unexplained loss {unexplained} packets = {100.0 * unexplained / max(1, sent_total):.2f} % "
                       f"of sent (limit {100 * INVALID_LOSS:g} %)")
    for c, v in per_class.items():
        if v["unexplained"] > INVALID_LOSS * max(1, v["sent"]) and not unexplained > INVALID_LOSS * max(1, sent_total):
            reasons.append(f"class {c}: unexplained loss {v['unexplained']} of {v['sent']} sent "
                           f"(limit {100 * INVALID_LOSS:g} % of the class)")
        if v["extra"] > 0:
            reasons.append(f"class {c}: the victim received {v['received']}, {v['extra']} more than were sent")
    # failover: legitimate delivery back after a proxy died
    fail = None
    for e in meta.get("events", []):
        if e.get("action") == "kill-proxy":
            fail = failover_recovery(lat, e["t_ms"])
    summ = {
        "scenario": meta.get("scenario"), "defense": meta.get("defense"), "seed": meta.get("seed"),
        "scale": meta.get("scale"), "valid": not reasons, "invalid_reason": "; ".join(reasons) or None,
        "attack_packets_sent": a_sent, "attack_packets_received": a_recv,
        "attack_packets_dropped": a_sent - a_recv,
        "attack_drop_ratio": ratio(a_sent_after - a_recv_after, a_sent_after),
        "attack_drop_ratio_whole": ratio(a_sent - a_recv, a_sent),
        "attack_packets_sent_after_detect": a_sent_after if det is not None else None,
        "legit_packets_sent": l_sent, "legit_packets_received": l_recv,
        "legit_packets_dropped": l_sent - l_recv, "legit_drop_ratio": ratio(l_sent - l_recv, l_sent),
        "by_vector": by_vector, "by_legit": by_legit,
        "detect_ms": det,
        "victim_pps_attack_peak": max(during) if during else None,
        "victim_pps_attack_mean": (sum(during) / len(during)) if during else None,
        "victim_pps_baseline": (sum(base) / len(base)) if base else None,
        "victim_cpu_attack_pct": (sum(cpu_during) / len(cpu_during) / 10.0) if cpu_during else None,
        "legit_requests": len(lat), "legit_requests_ok": sum(x["ok"] for x in lat),
        "legit_success_ratio": ratio(sum(x["ok"] for x in lat), len(lat)),
        "legit_success_ratio_attack": ratio(sum(x["ok"] for x in att_req), len(att_req)),
        "legit_latency_p50_ms": quantile(ok_rtt, 0.5), "legit_latency_p99_ms": quantile(ok_rtt, 0.99),
        "legit_latency_attack_p50_ms": quantile(att_rtt, 0.5),
        "legit_latency_attack_p99_ms": quantile(att_rtt, 0.99),
        "failover": fail, "legit_recovery_ms": fail["recovery_ms_max"] if fail else None,
        "crashed": len(meta.get("crashed") or []), "crashed_list": meta.get("crashed") or [],
        "accounting": {"sent": sent_total, "received": recv_total, "lost": lost, "extra_received": extra,
                       "explained": explained, "unexplained": unexplained,
                       "defense_drops": dd, "defense_drops_by_proxy": dd_parts,
                       "interface_drops": idd, "interface_drops_by_iface": id_parts,
                       "ip_drops": ipd, "ip_drops_by_proxy": ip_parts, "by_class": per_class,
                       "backscatter_dropped": final.get("backscatter_dropped"),
                       "victim_ring_drops": ring, "dead_proxy_frames": dead},
        "attack_span_s": [a0, a1], "events": meta.get("events", []),
        "thresholds": meta.get("thresholds"), "overrides": meta.get("overrides"),
        "override_why": meta.get("override_why"),
    }
    # the sync daemons' lag (time since syncdb's last finished round), every proxy, every sample
    lags = [v["lag_ms"] for smp in samples for v in smp.values()
            if isinstance(v, dict) and isinstance(v.get("lag_ms"), (int, float)) and v["lag_ms"] >= 0]
    summ["sync_lag_ms_max"] = max(lags) if lags else None
    summ["sync_lag_ms_p50"] = quantile(sorted(lags), 0.5) if lags else None
    return summ, {"samples": samples, "wins": wins, "lat": lat, "series": series, "meta": meta,
                  "sent": sent, "recv": recv}


def failover_recovery(lat, t_kill):
    """Per device that lost a request sent after the kill: the time from the kill until the
    sending of its first answered request after that loss."""
    by = {}
    for x in sorted(lat, key=lambda x: x["ts_ms"]):
        if x["ts_ms"] < t_kill:
            continue
        st = by.setdefault(x["src"], {"failed": None, "back": None})
        if not x["ok"] and st["failed"] is None:
            st["failed"] = x["ts_ms"]
        elif x["ok"] and st["failed"] is not None and st["back"] is None:
            st["back"] = x["ts_ms"] + x["rtt_us"] / 1000.0
    aff = {k: v for k, v in by.items() if v["failed"] is not None}
    rec = [v["back"] - t_kill for v in aff.values() if v["back"] is not None]
    return {"devices_affected": len(aff), "devices_recovered": len(rec),
            "recovery_ms_max": max(rec) if rec and len(rec) == len(aff) else None,
            "recovery_ms_median": quantile(rec, 0.5),
            "never_recovered": len(aff) - len(rec)}


def timeseries(d, ctx):
    """raw/samples.jsonl -> timeseries.csv (rates per sample interval, relative time)."""
    samples, meta = ctx["samples"], ctx["meta"]
    t0 = meta.get("t0_ms", 0)
    proxies = list((meta.get("proxies") or {}).keys())
    classes = list((meta.get("classes") or {}).keys())
    cols = ["t_s"] + [f"victim_pps_{c}" for c in classes] + ["victim_pps_all", "victim_cpu_pct",
                                                              "attack_sent_pps", "legit_sent_pps"]
    for p in proxies:
        cols += [f"{p}_pass_pps", f"{p}_drop_pps", f"{p}_drop_tf1_pps", f"{p}_drop_tf2_pps",
                 f"{p}_W", f"{p}_lag_ms", f"{p}_records"]
    lat = sorted(ctx["lat"], key=lambda x: x["ts_ms"])
    cols += ["legit_req", "legit_ok", "legit_rtt_p50_ms"]
    rows = []
    li = 0
    prev = None
    for s in samples:
        if prev is None:
            prev = s
            continue
        dt = (s["t_ms"] - prev["t_ms"]) / 1000.0
        if dt <= 0:
            continue
        r = {"t_s": round((s["t_ms"] - t0) / 1000.0, 3)}
        v1, v0 = (s.get("victim") or {}).get("cls"), (prev.get("victim") or {}).get("cls")
        allp = 0
        for c in classes:
            k = "c_" + c.replace("-", "_")
            if v1 and v0 and k in v1 and k in v0:
                r[f"victim_pps_{c}"] = round((v1[k] - v0[k]) / dt)
                allp += v1[k] - v0[k]
        if v1 and v0:
            allp += v1.get("c_other", 0) - v0.get("c_other", 0)
            r["victim_pps_all"] = round(allp / dt)
            c1, c0 = s["victim"].get("cpu_ticks"), prev["victim"].get("cpu_ticks")
            if c1 is not None and c0 is not None:
                r["victim_cpu_pct"] = round((c1 - c0) / dt, 1)   # ticks are 10 ms: /dt*100/100
        for host, col in (("bot", "attack_sent_pps"), ("dev", "legit_sent_pps")):
            if s.get(host) and prev.get(host):
                r[col] = round((s[host]["tx_packets"] - prev[host]["tx_packets"]) / dt)
        for p in proxies:
            a, b = s.get(p), prev.get(p)
            if not a or not b:
                continue
            ca, cb = a["c"], b["c"]
            pas = sum(ca.get(k, 0) - cb.get(k, 0) for k in ("pass_redirect", "pass_tx", "pass_kernel",
                                                            "pass_nofilter"))
            drp = sum(ca.get(k, 0) - cb.get(k, 0) for k in XPRO_DROPS)
            if a.get("nft_drops") is not None and b.get("nft_drops") is not None:
                drp += a["nft_drops"] - b["nft_drops"]
                pas -= a["nft_drops"] - b["nft_drops"]
            r[f"{p}_pass_pps"] = round(pas / dt)
            r[f"{p}_drop_pps"] = round(drp / dt)
            r[f"{p}_drop_tf1_pps"] = round((ca.get("drop_tf1", 0) - cb.get("drop_tf1", 0)) / dt)
            r[f"{p}_drop_tf2_pps"] = round((ca.get("drop_tf2", 0) + ca.get("drop_tf2_fair", 0)
                                            - cb.get("drop_tf2", 0) - cb.get("drop_tf2_fair", 0)) / dt)
            r[f"{p}_W"] = a.get("w")
            r[f"{p}_lag_ms"] = a.get("lag_ms")
            r[f"{p}_records"] = a.get("records")
        # legitimate requests sent in this interval
        rtts, n, ok = [], 0, 0
        while li < len(lat) and lat[li]["ts_ms"] < prev["t_ms"]:
            li += 1
        k = li
        while k < len(lat) and lat[k]["ts_ms"] < s["t_ms"]:
            n += 1
            if lat[k]["ok"]:
                ok += 1
                rtts.append(lat[k]["rtt_us"] / 1000.0)
            k += 1
        r["legit_req"], r["legit_ok"] = n, ok
        r["legit_rtt_p50_ms"] = round(quantile(rtts, 0.5), 3) if rtts else None
        rows.append(r)
        prev = s
    with open(os.path.join(d, "timeseries.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in cols})
    return cols, rows

# ------------------------------------------------------------------ plots


def gnuplot(script, cwd):
    gp = shutil.which("gnuplot")
    if not gp:
        return "gnuplot not installed: no plots"
    try:
        r = subprocess.run([gp], input=script, text=True, cwd=cwd, capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return "gnuplot timed out"
    return None if r.returncode == 0 else (r.stderr.strip().splitlines() or ["gnuplot failed"])[-1]


def _q(s):
    return "'" + str(s).replace("'", "") + "'"


def plots(d, cols, meta, summ):
    """victim.png (load by class), proxies.png (pass/drop, W, lag), legit.png (RTT, success)."""
    if not os.path.isfile(os.path.join(d, "timeseries.csv")):
        return ["no timeseries"]
    classes = list((meta.get("classes") or {}).keys())
    proxies = list((meta.get("proxies") or {}).keys())
    a0, a1 = meta.get("attack_span_s", [0, 0])
    title = f"{meta.get('scenario')} / {meta.get('defense')} (seed {meta.get('seed')})"
    idx = {c: i + 1 for i, c in enumerate(cols)}
    hdr = ("set terminal pngcairo size 1000,420 font ',10'\nset datafile separator ','\n"
           "set key outside right top\nset grid\nset xlabel 'time (s)'\n"
           f"set object 1 rect from {a0},graph 0 to {a1},graph 1 fc rgb '#ffe8e8' fs solid 0.5 behind\n")
    for e in meta.get("events", []):
        hdr += f"set arrow from {e['t_s']},graph 0 to {e['t_s']},graph 1 nohead dt 2 lc rgb 'black'\n"
    s = hdr + f"set output 'victim.png'\nset title {_q(title + ': packets/s reaching the victim')}\n"
    s += "set ylabel 'packets/s'\n"
    parts = [f"'timeseries.csv' every ::1 using 1:{idx['attack_sent_pps']} with lines lw 1 dt 3 lc rgb 'gray40' title 'attack sent'"]
    for c in classes:
        parts.append(f"'' every ::1 using 1:{idx['victim_pps_' + c]} with lines lw 2 title {_q('victim: ' + c)}")
    s += "plot " + ", \\\n  ".join(parts) + "\n"
    if proxies:
        s += f"set output 'proxies.png'\nset title {_q(title + ': proxies')}\nset ylabel 'packets/s'\n"
        s += "set y2label 'W (packets/s)'\nset y2tics\n"
        parts = []
        for p in proxies:
            parts.append(f"'timeseries.csv' every ::1 using 1:{idx[p + '_drop_pps']} with lines lw 2 title {_q(p + ' dropped')}")
            parts.append(f"'' every ::1 using 1:{idx[p + '_pass_pps']} with lines lw 1 dt 2 title {_q(p + ' passed')}")
            parts.append(f"'' every ::1 using 1:{idx[p + '_W']} axes x1y2 with lines lw 1 dt 3 title {_q(p + ' W')}")
        s += "plot " + ", \\\n  ".join(parts) + "\nunset y2tics\nunset y2label\n"
    s += f"set output 'legit.png'\nset title {_q(title + ': legitimate requests')}\n"
    s += "set ylabel 'RTT p50 (ms)'\nset y2label 'answered (%)'\nset y2tics\nset y2range [0:105]\n"
    s += (f"plot 'timeseries.csv' every ::1 using 1:{idx['legit_rtt_p50_ms']} with lines lw 2 title 'RTT p50', \\\n"
          f"  '' every ::1 using 1:(${idx['legit_req']} > 0 ? 100.0*${idx['legit_ok']}/${idx['legit_req']} : 1/0) "
          "axes x1y2 with lines lw 1 title 'answered %'\n")
    err = gnuplot(s, d)
    return [err] if err else []

# ------------------------------------------------------------------ report


def fmt(x, pct=False, nd=3):
    if x is None:
        return "n/a"
    if isinstance(x, dict):
        m, ci = x.get("mean"), x.get("ci95")
        if m is None:
            return "n/a"
        return fmt(m, pct, nd) + (f" ± {fmt(ci, pct, nd)}" if ci is not None else "")
    if isinstance(x, bool):
        return str(x).lower()
    if pct:
        return f"{100.0 * x:.{max(0, nd - 1)}f} %"
    if isinstance(x, float):
        return f"{x:.{nd}g}" if abs(x) < 1e5 else f"{x:.0f}"
    return str(x)


def report(d, summ, meta, plot_errs):
    L = []
    sc = meta.get("scenario")
    L.append(f"# {sc} under `{summ['defense']}`" + (f" (seed {summ.get('seed')})" if summ.get("seed") is not None else ""))
    L.append("")
    if not summ["valid"]:
        L.append(f"**INVALID RUN: {summ['invalid_reason']}. These numbers are not a result.**")
        L.append("")
    a0, a1 = summ["attack_span_s"]
    L.append(f"Scenario `{meta.get('scenario_file')}` (scale {meta.get('scale')}), topology "
             f"`{os.path.basename(str(meta.get('topology')))}`, victim {meta.get('victim')} "
             f"({meta.get('victim_addr')}), {meta.get('duration')} s, attack from {a0:g} s to {a1:g} s; "
             f"commit {meta.get('git') or '?'}.")
    L.append("")
    L.append("| measure | value |")
    L.append("|---|---|")
    rows = [("valid", fmt(summ["valid"])),
            ("attack dropped, after detection", fmt(summ["attack_drop_ratio"], True)),
            ("attack dropped, whole attack", fmt(summ.get("attack_drop_ratio_whole"), True)),
            ("attack packets sent / dropped", f"{fmt(summ['attack_packets_sent'])} / {fmt(summ['attack_packets_dropped'])}"),
            ("detection time (ms from attack start)", fmt(summ["detect_ms"])),
            ("legitimate packets dropped", fmt(summ["legit_drop_ratio"], True, 4)),
            ("legitimate packets sent / dropped", f"{fmt(summ['legit_packets_sent'])} / {fmt(summ['legit_packets_dropped'])}"),
            ("legitimate requests answered (whole run / during attack)",
             f"{fmt(summ['legit_success_ratio'], True, 4)} / {fmt(summ['legit_success_ratio_attack'], True, 4)}"),
            ("legitimate RTT p50 / p99 (ms)", f"{fmt(summ['legit_latency_p50_ms'])} / {fmt(summ['legit_latency_p99_ms'])}"),
            ("legitimate RTT p50 / p99 during attack (ms)",
             f"{fmt(summ.get('legit_latency_attack_p50_ms'))} / {fmt(summ.get('legit_latency_attack_p99_ms'))}"),
            ("victim packets/s: baseline / attack mean / attack peak",
             f"{fmt(summ['victim_pps_baseline'])} / {fmt(summ['victim_pps_attack_mean'])} / {fmt(summ['victim_pps_attack_peak'])}"),
            ("victim service CPU during attack (%)", fmt(summ.get("victim_cpu_attack_pct"))),
            ("daemons crashed", fmt(summ["crashed"]))]
    if summ.get("failover"):
        f = summ["failover"]
        rows.append(("failover: devices affected / recovered", f"{fmt(f['devices_affected'])} / {fmt(f['devices_recovered'])}"))
        rows.append(("failover: legitimate delivery back, max / median (ms)",
                     f"{fmt(f['recovery_ms_max'])} / {fmt(f['recovery_ms_median'])}"))
    for k, v in rows:
        L.append(f"| {k} | {v} |")
    L.append("")
    if summ.get("by_vector"):
        L.append("Per attack class (sent from the generators' logs, received at the victim; detection "
                 "per class from the per-second logs, 1 s resolution):")
        L.append("")
        L.append("| class | sent | received | dropped | drop ratio | after detection | detection (ms) |")
        L.append("|---|---|---|---|---|---|---|")
        for c, v in summ["by_vector"].items():
            L.append(f"| {c} | {fmt(v['sent'])} | {fmt(v['received'])} | {fmt(v['dropped'])} | "
                     f"{fmt(v['drop_ratio'], True)} | {fmt(v['drop_ratio_after_detect'], True)} | "
                     f"{fmt(v.get('detect_ms'))} |")
        L.append("")
    if summ.get("by_legit"):
        L.append("Per legitimate class: false positives (legitimate packets the path dropped):")
        L.append("")
        L.append("| class | sent | received | dropped | false-positive ratio |")
        L.append("|---|---|---|---|---|")
        for c, v in summ["by_legit"].items():
            L.append(f"| {c} | {fmt(v['sent'])} | {fmt(v['received'])} | {fmt(v['dropped'])} | "
                     f"{fmt(v['drop_ratio'], True, 4)} |")
        L.append("")
    acc = summ.get("accounting") or {}
    if acc:
        L.append("## Accounting")
        L.append("")
        L.append(f"Sent {fmt(acc.get('sent'))}, received {fmt(acc.get('received'))}, lost {fmt(acc.get('lost'))}. "
                 f"Explained by counters: {fmt(acc.get('explained'))} (defense {fmt(acc.get('defense_drops'))} "
                 f"{json.dumps(acc.get('defense_drops_by_proxy'))}, interfaces {fmt(acc.get('interface_drops'))} "
                 f"{json.dumps(acc.get('interface_drops_by_iface'))}, IP layer of the proxies {fmt(acc.get('ip_drops'))} "
                 f"{json.dumps(acc.get('ip_drops_by_proxy'))}, victim ring {fmt(acc.get('victim_ring_drops'))}, "
                 f"dead proxy {fmt(acc.get('dead_proxy_frames'))}). Unexplained: {fmt(acc.get('unexplained'))} "
                 f"(a run is invalid above {100 * INVALID_LOSS:g} % of sent).")
        L.append("")
    L.append("## Thresholds")
    L.append("")
    th = summ.get("thresholds") or {}
    L.append(", ".join(f"{k} = {v}" for k, v in th.items()) or "n/a")
    L.append("")
    if summ.get("overrides"):
        L.append(f"**Overridden by the scenario:** {', '.join(f'{k} = {v}' for k, v in summ['overrides'].items())}. "
                 f"Why: {summ.get('override_why')}")
    else:
        L.append("Defaults of experiments/thresholds.conf, no override.")
    L.append("")
    if summ.get("events"):
        L.append("## Events")
        L.append("")
        for e in summ["events"]:
            L.append(f"- {e['t_s']:.2f} s: {e['action']} {' '.join(e.get('args', []))}")
        L.append("")
    L.append("## Plots")
    L.append("")
    for p, what in (("victim.png", "packets/s reaching the victim by class (attack shaded)"),
                    ("proxies.png", "each proxy's passes, drops and W"),
                    ("legit.png", "legitimate RTT and answered share")):
        if os.path.isfile(os.path.join(d, p)):
            L.append(f"![{what}]({p})")
            L.append("")
    for e in plot_errs:
        L.append(f"(plots: {e})")
    L.append("## Files")
    L.append("")
    L.append("`summary.json` (these numbers), `timeseries.csv` (every sample, rates), `meta.json` and "
             "`scenario.json` (the exact configuration and seed), `xpro.conf`, `raw/` (generators' and "
             "victim's logs, samples, counters), `logs/`. Re-analyse: `make analyze RUN=<this folder>`.")
    with open(os.path.join(d, "report.md"), "w") as f:
        f.write("\n".join(L) + "\n")

# ------------------------------------------------------------------ entry points


NUMERIC_KEYS = ("attack_packets_sent", "attack_packets_dropped", "attack_drop_ratio", "attack_drop_ratio_whole",
                "legit_packets_sent", "legit_packets_dropped", "legit_drop_ratio", "detect_ms",
                "victim_pps_attack_peak", "victim_pps_attack_mean", "victim_pps_baseline",
                "victim_cpu_attack_pct", "legit_success_ratio", "legit_success_ratio_attack",
                "legit_latency_p50_ms", "legit_latency_p99_ms", "legit_latency_attack_p50_ms",
                "legit_latency_attack_p99_ms", "legit_recovery_ms", "crashed")


def analyze(d):
    d = os.path.realpath(d)
    seeds = sorted(glob.glob(os.path.join(d, "seed-*")))
    if seeds:
        return aggregate(d, [analyze(s) for s in seeds])
    summ, ctx = analyze_one(d)
    cols, rows = timeseries(d, ctx)
    errs = plots(d, cols, ctx["meta"], summ)
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump(summ, f, indent=1)
    report(d, summ, ctx["meta"], errs)
    return summ


def aggregate(d, summs):
    """SEEDS=N: per numeric field, mean and 95 % CI (Student's t) over the seeds."""
    out = {"scenario": summs[0].get("scenario"), "defense": summs[0].get("defense"),
           "seeds": [s.get("seed") for s in summs], "n": len(summs),
           "valid": all(s["valid"] for s in summs),
           "invalid_reason": "; ".join(f"seed {s.get('seed')}: {s['invalid_reason']}" for s in summs
                                       if not s["valid"]) or None}
    for k in NUMERIC_KEYS:
        vals = [s.get(k) for s in summs]
        m, ci = mean_ci(vals)
        out[k] = {"mean": m, "ci95": ci, "n": len([v for v in vals if v is not None]), "values": vals}
    for key, fields in (("by_vector", ("drop_ratio", "drop_ratio_after_detect", "detect_ms")),
                        ("by_legit", ("drop_ratio",))):
        vals = {}
        for s in summs:
            for c, v in (s.get(key) or {}).items():
                for f in fields:
                    vals.setdefault(c, {}).setdefault(f, []).append(v.get(f))
        out[key] = {c: {f: dict(zip(("mean", "ci95"), mean_ci(x)), n=len([y for y in x if y is not None]),
                            values=x) for f, x in fv.items()} for c, fv in vals.items()}
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump(out, f, indent=1)
    L = [f"# {out['scenario']} under `{out['defense']}`: {out['n']} seeds ({', '.join(map(str, out['seeds']))})", ""]
    if not out["valid"]:
        L += [f"**INVALID: {out['invalid_reason']}. Not a result.**", ""]
    L += ["Mean ± half-width of the 95 % confidence interval (Student's t) over the seeds; each seed's "
          "own report is in `seed-N/report.md`.", "", "| measure | mean ± 95 % CI | values |", "|---|---|---|"]
    for k in NUMERIC_KEYS:
        v = out[k]
        pct = "ratio" in k
        L.append(f"| {k} | {fmt(v, pct)} | {', '.join(fmt(x, pct) for x in v['values'])} |")
    L += [""] + per_class_lines(out)
    with open(os.path.join(d, "report.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    return out


def per_class_lines(s, title=None):
    """The per-vector view of a summary (one run or SEEDS=N): detection time and drop
    ratio per attack class, false positives per legitimate class."""
    L = []
    if s.get("by_vector"):
        L += [title or "Per attack class:", "", "| attack class | detection (ms) | dropped | dropped after detection |",
              "|---|---|---|---|"]
        for c, v in s["by_vector"].items():
            L.append(f"| {c} | {fmt(v.get('detect_ms'))} | {fmt(v.get('drop_ratio'), True)} | "
                     f"{fmt(v.get('drop_ratio_after_detect'), True)} |")
        L.append("")
    if s.get("by_legit"):
        L += ["| legitimate class | false positives (dropped) |", "|---|---|"]
        for c, v in s["by_legit"].items():
            L.append(f"| {c} | {fmt(v.get('drop_ratio'), True, 4)} |")
        L.append("")
    return L


def _mean(v):
    return v.get("mean") if isinstance(v, dict) else v


def compare(cdir):
    """CMPDIR/runs/DEFENSE/ -> compare.json, compare.md, load.png"""
    order = defenses.NAMES
    runs = {}
    for p in sorted(glob.glob(os.path.join(cdir, "runs", "*"))):
        name = os.path.basename(p)
        s = load_json(os.path.join(p, "summary.json"))
        if s is None:
            continue
        runs[name] = (p, s)
    bl = defenses.BASELINE
    base = _mean(runs[bl][1].get("victim_pps_attack_mean")) if bl in runs else None
    comp = {}
    for name in sorted(runs, key=lambda n: order.index(n) if n in order else 99):
        p, s = runs[name]
        s = dict(s)
        m = _mean(s.get("victim_pps_attack_mean"))
        s["victim_load_reduction"] = (1 - m / base) if (base and m is not None) else None
        comp[name] = s
    with open(os.path.join(cdir, "compare.json"), "w") as f:
        json.dump(comp, f, indent=1)
    scen = next((s.get("scenario") for s in comp.values()), "?")
    L = [f"# {scen}: defenses side by side", "",
         "| defense | valid | attack dropped (after detection) | detect (ms) | legit dropped | legit answered "
         "| legit RTT p50/p99 (ms) | victim pps mean (attack) | victim load reduction vs none |",
         "|---|---|---|---|---|---|---|---|---|"]
    for n, s in comp.items():
        L.append(f"| {n} | {fmt(s.get('valid'))} | {fmt(s.get('attack_drop_ratio'), True)} | {fmt(s.get('detect_ms'))} | "
                 f"{fmt(s.get('legit_drop_ratio'), True, 4)} | {fmt(s.get('legit_success_ratio'), True, 4)} | "
                 f"{fmt(s.get('legit_latency_p50_ms'))} / {fmt(s.get('legit_latency_p99_ms'))} | "
                 f"{fmt(s.get('victim_pps_attack_mean'))} | {fmt(s.get('victim_load_reduction'), True)} |")
    L.append("")
    for n, s in comp.items():
        L += per_class_lines(s, f"`{n}`, per attack class:")
    L.append("Each defense's own report: `runs/DEFENSE/report.md`. ![victim load per defense](load.png)")
    with open(os.path.join(cdir, "compare.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    # one plot: the victim's load over time, per defense (first seed of a SEEDS=N run)
    parts = []
    for n in comp:
        p = runs[n][0]
        ts = os.path.join(p, "timeseries.csv")
        if not os.path.isfile(ts):
            ss = sorted(glob.glob(os.path.join(p, "seed-*", "timeseries.csv")))
            ts = ss[0] if ss else None
        if not ts:
            continue
        with open(ts) as f:
            hdr = f.readline().strip().split(",")
        if "victim_pps_all" not in hdr:
            continue
        parts.append(f"{_q(os.path.relpath(ts, cdir))} every ::1 using 1:{hdr.index('victim_pps_all') + 1} "
                     f"with lines lw 2 title {_q(n)}")
    if parts:
        a0, a1 = next(iter(comp.values())).get("attack_span_s", [0, 0])
        s = ("set terminal pngcairo size 1000,420 font ',10'\nset datafile separator ','\nset grid\n"
             "set key outside right top\nset xlabel 'time (s)'\nset ylabel 'packets/s at the victim'\n"
             f"set object 1 rect from {a0},graph 0 to {a1},graph 1 fc rgb '#ffe8e8' fs solid 0.5 behind\n"
             f"set output 'load.png'\nset title {_q(scen + ': victim load per defense (attack shaded)')}\n"
             "plot " + ", \\\n  ".join(parts) + "\n")
        gnuplot(s, cdir)
    return comp
