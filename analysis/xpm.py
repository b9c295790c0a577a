"""X-Pro experiment matrix: every scenario under every defense, SEEDS times; the
paper's tables and figures from the cells' summaries (docs/experiments.md, "The matrix").

Python 3 standard library only; figures with gnuplot.

  report(MDIR)  -> MDIR/RESULTS.md, results.csv (tidy: one row per run and figure),
                   results.tex (LaTeX), fig-*.png and fig-*.pdf, from
                   MDIR/cells/SCENARIO/DEFENSE/seed-K/summary.json

Intervals (95 %): a figure that is a ratio of packets or requests (dropped/sent,
answered/sent) gets Wilson's score interval on the counts pooled over the valid seeds;
any other figure the mean with Student's t interval over the valid seeds (t quantiles
computed: xpa.t_quantile). n = 1: no interval, and RESULTS.md says so.
"""
import csv
import glob
import json
import os

import xpa

# (key, label, kind, count fields for Wilson: (dropped/ok, total))
FIGURES = (
    ("attack_drop_ratio", "attack dropped after detection", "ratio", None),
    ("attack_drop_ratio_whole", "attack dropped, whole attack", "ratio",
     ("attack_packets_dropped", "attack_packets_sent")),
    ("detect_ms", "detection (ms)", "value", None),
    ("legit_drop_ratio", "legitimate dropped (false positives)", "ratio",
     ("legit_packets_dropped", "legit_packets_sent")),
    ("legit_success_ratio", "legitimate requests answered", "ratio", ("legit_requests_ok", "legit_requests")),
    ("legit_latency_p99_ms", "legitimate RTT p99 (ms)", "value", None),
    ("victim_pps_attack_mean", "victim packets/s during the attack", "value", None),
    ("victim_load_reduction", "victim load reduction vs none", "value", None),
)
PLOTTED = ("attack_drop_ratio", "legit_drop_ratio", "detect_ms")


def counts(s, key, cnt):
    """(k, n) of a ratio figure in one run's summary, or None."""
    if key == "attack_drop_ratio":
        n, r = s.get("attack_packets_sent_after_detect"), s.get("attack_drop_ratio")
        if n is None:
            n = s.get("attack_packets_sent")
        return None if n is None or r is None else (r * n, n)
    k, n = s.get(cnt[0]), s.get(cnt[1])
    return None if k is None or not n else (k, n)


def cells(mdir):
    """{(scenario, defense): [(seed, summary or None, failed reason or None)]}"""
    out = {}
    for d in sorted(glob.glob(os.path.join(mdir, "cells", "*", "*", "seed-*"))):
        scen, dfn = d.split(os.sep)[-3:-1]
        seed = int(d.rsplit("-", 1)[1])
        s = xpa.load_json(os.path.join(d, "summary.json"))
        failed = None
        if os.path.isfile(os.path.join(d, "FAILED")):
            with open(os.path.join(d, "FAILED")) as f:
                failed = f.read().strip()
            s = None
        out.setdefault((scen, dfn), []).append((seed, s, failed))
    return out


def flat(s):
    """The figures of one run, per-class ones as by_vector.C.detect_ms and so on."""
    f = {k: s.get(k) for k, *_ in FIGURES}
    for c, v in (s.get("by_vector") or {}).items():
        f[f"by_vector.{c}.detect_ms"] = v.get("detect_ms")
        f[f"by_vector.{c}.drop_ratio"] = v.get("drop_ratio")
    for c, v in (s.get("by_legit") or {}).items():
        f[f"by_legit.{c}.drop_ratio"] = v.get("drop_ratio")
    return f


def stat(runs, key, kind, cnt):
    """-> {"mean", "lo", "hi", "n", "method"} over the valid runs."""
    vals = [flat(s).get(key) for s in runs]
    vals = [v for v in vals if v is not None]
    n = len(vals)
    if not n:
        return {"mean": None, "lo": None, "hi": None, "n": 0, "method": None}
    m = sum(vals) / n
    if kind == "ratio":
        ks = []
        for s in runs:
            if key.startswith(("by_vector.", "by_legit.")):
                top, rest = key.split(".", 1)
                v = (s.get(top) or {}).get(rest.rsplit(".", 1)[0]) or {}
                kn = (v.get("dropped"), v.get("sent")) if v.get("sent") else None
            else:
                kn = counts(s, key, cnt)
            if kn:
                ks.append(kn)
        k = sum(min(max(a, 0), b) for a, b in ks)
        tot = sum(b for _, b in ks)
        w = xpa.wilson(k, tot) if tot else None
        if w:
            return {"mean": k / tot, "lo": w[0], "hi": w[1], "n": n, "method": "Wilson"}
    mm, half = xpa.mean_ci(vals)
    return {"mean": mm, "lo": None if half is None else mm - half, "hi": None if half is None else mm + half,
            "n": n, "method": None if half is None else "t"}


def _fmt(v, pct):
    if v is None:
        return "n/a"
    if pct:
        return f"{100 * v:.2f} %"
    return f"{v:.4g}" if abs(v) < 1e5 else f"{v:.0f}"


def show(st, pct):
    if st["mean"] is None:
        return "n/a"
    if st["lo"] is None:
        return f"{_fmt(st['mean'], pct)} (n = {st['n']}: no interval)"
    return f"{_fmt(st['mean'], pct)} [{_fmt(st['lo'], pct)}, {_fmt(st['hi'], pct)}]"


def _tex(s):
    return str(s).replace("\\", "\\textbackslash{}").replace("_", "\\_").replace("%", "\\%").replace("&", "\\&")


def report(mdir, cfg=None):
    cfg = cfg or xpa.load_json(os.path.join(mdir, "matrix.json"), {}) or {}
    allc = cells(mdir)
    scen_order = cfg.get("scenarios") or sorted({s for s, _ in allc})
    dfn_order = cfg.get("defenses") or sorted({d for _, d in allc})
    # victim load reduction against none, seed by seed
    for (scen, dfn), runs in allc.items():
        base = {seed: s for seed, s, _ in allc.get((scen, "none"), []) if s}
        for seed, s, _ in runs:
            if s is not None:
                b = (base.get(seed) or {}).get("victim_pps_attack_mean")
                m = s.get("victim_pps_attack_mean")
                s["victim_load_reduction"] = (1 - m / b) if (b and m is not None) else None
    rows, stats = [], {}
    for (scen, dfn), runs in allc.items():
        for seed, s, failed in runs:
            if s is None:
                rows.append([scen, dfn, seed, "failed", "", ""])
                continue
            for k, v in flat(s).items():
                rows.append([scen, dfn, seed, str(bool(s.get("valid"))).lower(), k, "" if v is None else v])
        valid = [s for _, s, _ in runs if s is not None and s.get("valid")]
        keys = [k for k, *_ in FIGURES]
        for s in valid:
            keys += [k for k in flat(s) if k not in keys]
        kinds = {k: (kind, cnt) for k, _, kind, cnt in FIGURES}
        stats[(scen, dfn)] = {k: stat(valid, k, *(kinds.get(k) or (("ratio", None) if k.endswith("drop_ratio")
                                                                    else ("value", None)))) for k in keys}
    with open(os.path.join(mdir, "results.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["scenario", "defense", "seed", "valid", "figure", "value"])
        w.writerows(rows)
    with open(os.path.join(mdir, "stats.json"), "w") as f:
        json.dump({f"{a}/{b}": v for (a, b), v in stats.items()}, f, indent=1)
    # RESULTS.md
    L = ["# X-Pro experiment matrix", ""]
    L.append(f"Scale `{cfg.get('scale', '?')}`, SEEDS = {cfg.get('seeds', '?')} per cell (seeds "
             f"{cfg.get('seed_note', 'the scenario seed and the next ones')}), commit {cfg.get('git', '?')}; "
             f"wall time {cfg.get('wall_s', 'n/a')} s over {cfg.get('cells_run', 'n/a')} runs of this matrix "
             f"folder.")
    L.append("")
    L.append("Each figure: the mean over the valid seeds and its 95 % interval in brackets. Ratios of "
             "packets or requests (dropped/sent, answered/sent): Wilson's score interval on the counts "
             "pooled over the valid seeds (it treats packets as independent: the spread between seeds "
             "is in `results.csv`). Other figures: Student's t interval over the seeds (t quantile "
             "computed from the incomplete beta function). n is the number of valid seeds; where n = 1 "
             "there is no interval. Detection per attack class has 1 s resolution (per-second logs).")
    L.append("")
    invalid = []
    for scen in scen_order:
        dfns = [d for d in dfn_order if (scen, d) in allc]
        if not dfns:
            continue
        L += [f"## {scen}", ""]
        L.append("| figure | " + " | ".join(f"{d}" for d in dfns) + " |")
        L.append("|---|" + "---|" * len(dfns))
        L.append("| n (valid / runs) | " + " | ".join(
            f"{len([1 for _, s, _ in allc[(scen, d)] if s and s.get('valid')])} / {len(allc[(scen, d)])}"
            for d in dfns) + " |")
        for k, label, kind, _ in FIGURES:
            pct = kind == "ratio" or k == "victim_load_reduction"
            L.append(f"| {label} | " + " | ".join(show(stats[(scen, d)][k], pct) for d in dfns) + " |")
        extra = []
        for d in dfns:
            extra += [k for k in stats[(scen, d)] if k.startswith(("by_vector.", "by_legit.")) and k not in extra]
        for k in sorted(extra):
            c, f = k.split(".", 1)[1].rsplit(".", 1)
            label = (f"{c}: detection (ms)" if f == "detect_ms" else
                     f"{c}: dropped" if k.startswith("by_vector.") else f"{c}: false positives (dropped)")
            L.append(f"| {label} | " + " | ".join(
                show(stats[(scen, d)][k], f == "drop_ratio") if k in stats[(scen, d)] else "n/a" for d in dfns) + " |")
        L.append("")
        for d in dfns:
            for seed, s, failed in allc[(scen, d)]:
                if failed:
                    invalid.append(f"- {scen} / {d} seed {seed}: run failed: {failed}")
                elif not s.get("valid"):
                    invalid.append(f"- {scen} / {d} seed {seed}: invalid: {s.get('invalid_reason')}")
        if any((stats[(scen, d)]["attack_drop_ratio"]["n"] == 1) for d in dfns):
            L += ["**Warning: n = 1 somewhere in this table: those figures have no interval.**", ""]
    L += ["## Invalid or failed runs", ""] + (invalid or ["None."]) + [""]
    L += ["## Files", "", "`results.csv` (tidy: scenario, defense, seed, valid, figure, value), `results.tex` "
          "(the main figures as a LaTeX table), `stats.json` (every interval), `fig-*.png` and `fig-*.pdf`, "
          "`cells/SCENARIO/DEFENSE/seed-K/` (each run's own folder and report).", ""]
    for k in PLOTTED:
        if os.path.isfile(os.path.join(mdir, f"fig-{k}.png")):
            L.append(f"![{k}](fig-{k}.png)")
    errs = figures(mdir, scen_order, dfn_order, stats)
    L += [f"(figures: {e})" for e in errs]
    with open(os.path.join(mdir, "RESULTS.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    # LaTeX
    T = ["% X-Pro experiment matrix: mean [95 % interval]; generated by analysis/xpm.py",
         "\\begin{tabular}{llllll}", "\\hline",
         "scenario & defense & n & attack dropped & detection (ms) & legit. dropped \\\\", "\\hline"]
    for scen in scen_order:
        for d in dfn_order:
            if (scen, d) not in stats:
                continue
            st = stats[(scen, d)]
            T.append(f"{_tex(scen)} & {_tex(d)} & {st['attack_drop_ratio']['n']} & "
                     f"{_tex(show(st['attack_drop_ratio'], True))} & {_tex(show(st['detect_ms'], False))} & "
                     f"{_tex(show(st['legit_drop_ratio'], True))} \\\\")
    T += ["\\hline", "\\end{tabular}"]
    with open(os.path.join(mdir, "results.tex"), "w") as f:
        f.write("\n".join(T) + "\n")
    return stats


def figures(mdir, scen_order, dfn_order, stats):
    """fig-KEY.png/.pdf: per scenario, one bar per defense, the interval as error bars."""
    errs = []
    for k in PLOTTED:
        pct = k.endswith("ratio")
        dat = os.path.join(mdir, f"fig-{k}.dat")
        with open(dat, "w") as f:
            f.write("# scenario " + " ".join(f"{d} {d}_lo {d}_hi" for d in dfn_order) + "\n")
            for scen in scen_order:
                vals = []
                for d in dfn_order:
                    st = (stats.get((scen, d)) or {}).get(k) or {}
                    m, lo, hi = st.get("mean"), st.get("lo"), st.get("hi")
                    sc = 100.0 if pct else 1.0
                    if m is None:
                        vals += ["-", "-", "-"]
                    else:
                        vals += [f"{m * sc:g}", f"{(lo if lo is not None else m) * sc:g}",
                                 f"{(hi if hi is not None else m) * sc:g}"]
                f.write(scen + " " + " ".join(vals) + "\n")
        label = next(lbl for kk, lbl, *_ in FIGURES if kk == k) + (" (%)" if pct else "")
        plot = ", ".join(f"'fig-{k}.dat' using {2 + 3 * i}:{3 + 3 * i}:{4 + 3 * i}:xtic(1) title {xpa._q(d)}"
                         for i, d in enumerate(dfn_order))
        body = ("set datafile missing '-'\nset style data histograms\nset style histogram errorbars gap 1 lw 1\n"
                "set style fill solid 0.6 border -1\nset key outside right top\nset grid ytics\n"
                f"set ylabel {xpa._q(label)}\nset xtics rotate by -30\nset yrange [0:*]\n"
                f"set title {xpa._q(label + ': mean and 95 % interval per scenario and defense')}\n")
        for term, ext in (("pngcairo size 1100,450 font ',10'", "png"), ("pdfcairo size 11in,4.5in", "pdf")):
            e = xpa.gnuplot(f"set terminal {term}\nset output 'fig-{k}.{ext}'\n" + body + f"plot {plot}\n", mdir)
            if e:
                errs.append(f"fig-{k}.{ext}: {e}")
    return errs
