#!/usr/bin/env bash
# bench/median.sh RUN.json...: one object with the median of each numeric
# key over the runs (nested ones as dotted leaves: veth_curve.10000.drop_1q_ns;
# a key missing from a run counts only where present), n, the runs' stamps
# and the first run's machine. For the README
# table: bench/median.sh results/bench/history/A.json B.json C.json
set -euo pipefail
[[ $# -ge 1 ]] || { echo "usage: bench/median.sh RUN.json..." >&2; exit 2; }
jq -s -S '
  def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  def flat: del(.machine) | [paths(scalars) as $p | {key: ($p | map(tostring) | join(".")), value: getpath($p)}]
    | from_entries;
  (map(flat)) as $runs
  | ([$runs[] | to_entries[] | select(.value | type == "number") | .key] | unique) as $keys
  | (reduce $keys[] as $k ({}; . + {($k): ([$runs[][$k] | select(type == "number")] | median)}))
  + {n: ($runs | length), runs: [$runs[].timestamp], machine: .[0].machine}' "$@"
