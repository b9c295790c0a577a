#!/usr/bin/env bash
# bench/median.sh RUN.json...: one object with the median of each numeric
# top-level key over the runs (a key missing from a run counts only where
# present), n, the runs' stamps and the first run's machine. For the README
# table: bench/median.sh results/bench/history/A.json B.json C.json
set -euo pipefail
[[ $# -ge 1 ]] || { echo "usage: bench/median.sh RUN.json..." >&2; exit 2; }
jq -s -S '
  def median: sort | if length % 2 == 1 then .[length / 2 | floor] else (.[length / 2 - 1] + .[length / 2]) / 2 end;
  . as $runs
  | ([$runs[] | to_entries[] | select(.value | type == "number") | .key] | unique) as $keys
  | (reduce $keys[] as $k ({}; . + {($k): ([$runs[][$k] | select(type == "number")] | median)}))
  + {n: ($runs | length), runs: [$runs[].timestamp], machine: $runs[0].machine}' "$@"
