#!/usr/bin/env python3
"""The capacity scenario per step (docs/performance.md, "Capacity").

  capacity.py sample FILE      every second until SIGTERM: one JSON line in FILE with the
                               run time and count of the XDP program on in0 of every
                               experiment proxy namespace (xt-xNNN-pxN; bpf_stats) and
                               the machine's softirq time (/proc/stat)
  capacity.py report DIR [SAMPLES]
                               DIR: a compare folder (runs/DEFENSE/) or one run folder;
                               per defense and attack step: the attack rate offered,
                               requests sent and answered, RTT p99, the victim's load,
                               the proxies' program CPU and ns/packet, softirq time; the
                               rate at which fewer than half of the requests are answered.
                               Writes into DIR capacity.json, the tables as Markdown and capacity.png (gnuplot).
Python standard library only; bpftool and ip for sampling.
"""
import csv
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "analysis"))
import xpa  # noqa: E402  (the experiments' readers and quantiles)

NS_RE = re.compile(r"^xt-(x[0-9]+)-(px[0-9]+)$")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def run_json(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=5)
        return json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else None
    except (subprocess.TimeoutExpired, ValueError, OSError):
        return None


def softirq_ticks():
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu "):
                return int(line.split()[7])
    return 0


def sample(path):
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    ids = {}                                     # namespace -> program id on in0
    with open(path, "a") as out:
        while not stop:
            t = time.time()
            names = []
            if os.path.isdir("/run/netns"):
                names = [n for n in os.listdir("/run/netns") if NS_RE.match(n)]
            for n in names:
                if n not in ids:
                    link = run_json(["ip", "-n", n, "-j", "link", "show", "in0"]) or [{}]
                    pid = ((link[0].get("xdp") or {}).get("prog") or {}).get("id")
                    if pid:
                        ids[n] = pid
            progs = {p["id"]: p for p in (run_json(["bpftool", "-j", "prog", "show"]) or [])}
            rec = {"t_ms": int(t * 1000), "softirq_ticks": softirq_ticks(), "progs": {}}
            for n in names:
                p = progs.get(ids.get(n))
                if p is None:
                    ids.pop(n, None)             # detached or replaced: look again next time
                    continue
                rec["progs"][n] = [p.get("run_cnt", 0), p.get("run_time_ns", 0)]
            out.write(json.dumps(rec) + "\n")
            out.flush()
            time.sleep(max(0.05, 1.0 - (time.time() - t)))


def steps_of(run, samples):
    """One run folder -> its defense and a row per attack phase."""
    meta = xpa.load_json(os.path.join(run, "meta.json"), {})
    sc = xpa.load_json(os.path.join(run, "scenario.json"), {})
    t0 = meta.get("t0_ms", 0)
    topo = meta.get("topo_run", "")
    lat = [(x["ts_ms"], x["ok"], x["rtt_us"]) for x in xpa.read_latency(os.path.join(run, "raw", "latency.csv"))]
    series = []
    p = os.path.join(run, "timeseries.csv")
    if os.path.isfile(p):
        with open(p, newline="") as f:
            series = list(csv.DictReader(f))
    mine = [s for s in samples if any(NS_RE.match(n) and NS_RE.match(n).group(1) == topo for n in s["progs"])]
    rows = []
    for g in sc.get("bots") or []:
        for i, ph in enumerate(g["phases"]):
            a, b = t0 + int(ph["start"] * 1000), t0 + int(ph["end"] * 1000)
            dur = (b - a) / 1000.0
            summ = xpa.load_json(os.path.join(run, "raw", f"bots_{g['group']}_{i}.json"), {})
            sent_pkts = summ.get("packets")
            req = [x for x in lat if a <= x[0] < b]
            ok = [x for x in req if x[1]]
            vic = [float(r["victim_pps_all"]) for r in series
                   if r.get("victim_pps_all") not in (None, "") and a <= t0 + float(r["t_s"]) * 1000 <= b]
            row = {"step": i, "start_s": ph["start"], "end_s": ph["end"],
                   "rate_per_bot": ph["rate"], "bots": g["bots"],
                   "attack_nominal_pps": ph["rate"] * g["bots"] if ph["rate"] is not None else None,
                   "attack_offered_pps": round(sent_pkts / dur) if sent_pkts is not None and dur > 0 else None,
                   "legit_sent": len(req), "legit_answered": len(ok),
                   "legit_answered_ratio": round(len(ok) / len(req), 4) if req else None,
                   "legit_goodput_rps": round(len(ok) / dur, 1) if dur > 0 else None,
                   "legit_rtt_p99_ms": round(xpa.quantile([x[2] for x in ok], 0.99) / 1000.0, 2) if ok else None,
                   "victim_pps_mean": round(sum(vic) / len(vic)) if vic else None}
            # the proxies' programs and softirq over the samples inside the step
            w = [s for s in mine if a <= s["t_ms"] <= b]
            if len(w) >= 2:
                s0, s1 = w[0], w[-1]
                dt = (s1["t_ms"] - s0["t_ms"]) / 1000.0
                cnt = run_ns = 0
                for n, v in s1["progs"].items():
                    if n in s0["progs"] and NS_RE.match(n).group(1) == topo:
                        cnt += v[0] - s0["progs"][n][0]
                        run_ns += v[1] - s0["progs"][n][1]
                row["proxy_prog_cpu_pct"] = round(run_ns / 1e9 / dt * 100, 1) if dt > 0 else None
                row["proxy_prog_ns_per_packet"] = round(run_ns / cnt, 1) if cnt > 0 else None
                row["proxy_prog_pps"] = round(cnt / dt) if dt > 0 else None
                row["softirq_cpu_pct"] = round((s1["softirq_ticks"] - s0["softirq_ticks"]) / CLK_TCK / dt * 100, 1) \
                    if dt > 0 else None
            rows.append(row)
    return meta.get("defense", os.path.basename(run.rstrip("/"))), rows


def report(d, samples_path=None):
    samples_path = samples_path or os.path.join(d, "capacity-samples.jsonl")
    samples = xpa.read_samples(samples_path)         # JSON lines, as the runner's
    runs = []
    if os.path.isdir(os.path.join(d, "runs")):
        runs = [os.path.join(d, "runs", n) for n in sorted(os.listdir(os.path.join(d, "runs")))]
    elif os.path.isfile(os.path.join(d, "meta.json")):
        runs = [d]
    out = {}
    for r in runs:
        name, rows = steps_of(r, samples)
        rate = lambda x: x["attack_offered_pps"] or x["attack_nominal_pps"] or 0
        half = next((rate(x) for x in rows if x["legit_answered_ratio"] is not None
                     and x["legit_answered_ratio"] < 0.5), None)
        summ = xpa.load_json(os.path.join(r, "summary.json"), {})
        out[name] = {"steps": rows, "half_answered_at_pps": half,
                     "answered_at_highest": rows[-1]["legit_answered_ratio"] if rows else None,
                     "highest_offered_pps": rate(rows[-1]) if rows else None,
                     "valid": summ.get("valid")}
    with open(os.path.join(d, "capacity.json"), "w") as f:
        json.dump(out, f, indent=1)
    lines = ["# Capacity per step", "",
             "| defense | step | attack offered pps | answered | RTT p99 ms | victim pps | proxies' XDP CPU % | ns/packet | softirq CPU % |",
             "|---|---|---|---|---|---|---|---|---|"]
    fmt = lambda v: "-" if v is None else str(v)
    for name, v in out.items():
        for x in v["steps"]:
            lines.append(f"| {name} | {x['step']} | {fmt(x['attack_offered_pps'])} | {fmt(x['legit_answered_ratio'])} | "
                         f"{fmt(x['legit_rtt_p99_ms'])} | {fmt(x['victim_pps_mean'])} | {fmt(x.get('proxy_prog_cpu_pct'))} | "
                         f"{fmt(x.get('proxy_prog_ns_per_packet'))} | {fmt(x.get('softirq_cpu_pct'))} |")
    lines += ["", "| defense | valid | answered at the highest rate | highest rate offered | answered < 50 % from |",
              "|---|---|---|---|---|"]
    for name, v in out.items():
        lines.append(f"| {name} | {fmt(v['valid'])} | {fmt(v['answered_at_highest'])} | {fmt(v['highest_offered_pps'])} | "
                     f"{fmt(v['half_answered_at_pps']) if v['half_answered_at_pps'] else 'never'} |")
    with open(os.path.join(d, "capacity.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    plot(d, out)
    print("\n".join(lines))


def plot(d, out):
    dat = []
    for name, v in out.items():
        p = os.path.join(d, f"capacity-{name}.dat")
        with open(p, "w") as f:
            for x in sorted(v["steps"], key=lambda x: x["attack_offered_pps"] or x["attack_nominal_pps"] or 0):
                r = x["attack_offered_pps"] or x["attack_nominal_pps"]
                if r and x["legit_goodput_rps"] is not None:
                    f.write(f"{r} {x['legit_goodput_rps']}\n")
        dat.append(f"'{p}' using 1:2 with linespoints title '{name}'")
    if not dat:
        return
    g = f"""set terminal pngcairo size 900,560
set output '{os.path.join(d, "capacity.png")}'
set logscale x
set xlabel 'attack packets/s offered'
set ylabel 'legitimate requests answered per second'
set yrange [0:*]
set grid
set key bottom left
set title 'Legitimate goodput against attack rate'
plot {", ".join(dat)}
"""
    try:
        subprocess.run(["gnuplot"], input=g, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        pass


def main(argv):
    if len(argv) >= 2 and argv[0] == "sample":
        sample(argv[1])
    elif len(argv) >= 2 and argv[0] == "report":
        report(argv[1], argv[2] if len(argv) > 2 else None)
    else:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
