#!/usr/bin/env python3
"""Compare xpro-sim's means over N seeds with a testbed run of the same scenario
(`xpro-exp run SCENARIO --seeds N`: summary.json with mean and ci95 per field).

usage: validate.py TESTBED_SUMMARY.json SIM.json

A field passes when |sim mean - testbed mean| <= testbed ci95 + floor, the floors
being the tolerance of docs/simulation.md ("Validation"):
  ratios         0.02  half the largest seed-to-seed range of the testbed's CI runs
                       (a 5-seed interval of width 0, all seeds equal, is no measure
                       of the model's error)
  detect_ms      100   one sample period: detection is read on 100 ms samples
  victim load    + the simulator's own ci95: both are means over the random phase of
                       wall-clock seconds against the attack's start
  packets sent   1 %   the generators' pacing and start
Exit 0 when every field passes, 1 otherwise, 2 on bad input. One line per field.
"""
import json
import sys

FIELDS = {
    "attack_drop_ratio": ("abs", 0.02),
    "attack_drop_ratio_whole": ("abs", 0.02),
    "legit_drop_ratio": ("abs", 0.02),
    "detect_ms": ("abs", 100.0),
    "victim_pps_attack_mean": ("sim_ci", 0.0),
    "attack_packets_sent": ("rel", 0.01),
    "legit_packets_sent": ("rel", 0.01),
}


def stat(d, k):
    v = d.get(k)
    if not isinstance(v, dict) or not isinstance(v.get("mean"), (int, float)):
        return None, None
    ci = v.get("ci95")
    return float(v["mean"]), float(ci) if isinstance(ci, (int, float)) else 0.0


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    try:
        tb = json.load(open(sys.argv[1]))
        sim = json.load(open(sys.argv[2]))
    except (OSError, ValueError) as e:
        print(f"validate: {e}", file=sys.stderr)
        return 2
    if tb.get("valid") is not True:
        print("validate: the testbed run is not valid", file=sys.stderr)
        return 1
    bad = 0
    for k, (kind, floor) in FIELDS.items():
        tm, tci = stat(tb, k)
        sm, sci = stat(sim, k)
        if tm is None and sm is None:
            print(f"{k}: null on both sides: ok")
            continue
        if tm is None or sm is None:
            print(f"{k}: testbed {tm} sim {sm}: FAIL (null on one side)")
            bad += 1
            continue
        tol = tci + (floor if kind == "abs" else floor * abs(tm) if kind == "rel" else sci)
        ok = abs(sm - tm) <= tol
        bad += not ok
        inside = "inside" if abs(sm - tm) <= tci else "outside"
        print(f"{k}: testbed {tm:.6g} +- {tci:.3g}, sim {sm:.6g} ({inside} the testbed's interval), "
              f"|diff| {abs(sm - tm):.3g} <= {tol:.3g}: {'ok' if ok else 'FAIL'}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
