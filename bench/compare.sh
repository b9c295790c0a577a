#!/usr/bin/env bash
# make bench-compare A=RUN B=RUN: each key of two bench runs side by side and
# its change from A to B. RUN is a run's file (results/bench/history/*.json),
# or its stamp (20261205T201500Z, looked up in results/bench/history/ and then
# results/bench/), or `latest`. Numbers: the change in percent; other values:
# "same" or "changed"; a key one run lacks: "only A" / "only B"; nested
# values one row per leaf (veth_curve.10000.drop_1q_ns). The
# machines' descriptions are printed first: a change between two machines is
# no change of X-Pro. Exit: 0; 2 for a missing or unreadable run.
set -euo pipefail
usage() { echo "usage: bench/compare.sh A B (a file, a run stamp, or latest)" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
DIR=${BENCH_DIR:-results/bench}

find_run() {
  local r=$1 f
  for f in "$r" "$DIR/history/$r.json" "$DIR/$r.json" "$DIR/history/$r" "$DIR/$r"; do
    if [[ -f $f ]]; then
      jq -e 'type == "object"' "$f" >/dev/null 2>&1 || { echo "bench-compare: $f is not a bench run (JSON object)" >&2; exit 2; }
      echo "$f"
      return 0
    fi
  done
  echo "bench-compare: no run '$r' (a file, or a stamp in $DIR/history/ or $DIR/)" >&2
  exit 2
}

a=$(find_run "$1")
b=$(find_run "$2")
jq -r -n --slurpfile A "$a" --slurpfile B "$b" --arg an "$1" --arg bn "$2" '
  # nested values (the curves, the maps) as one row per leaf: veth_curve.10000.drop_1q_ns
  def flat: del(.machine) | [paths(scalars) as $p | {key: ($p | map(tostring) | join(".")), value: getpath($p)}]
    | from_entries;
  ($A[0] | flat) as $a | ($B[0] | flat) as $b |
  def show: if . == null then "-" elif type == "object" or type == "array" then tojson else tostring end;
  def machine($r): ($r.machine // {}) as $m
    | "\($m.cpu_model // "?"), \($m.cpus // $r.cpus // "?") CPUs, kernel \($m.kernel // $r.kernel // "?")";
  "A \($an): \($a.timestamp // "?") on \(machine($A[0]))",
  "B \($bn): \($b.timestamp // "?") on \(machine($B[0]))",
  "key\tA\tB\tchange",
  ((($a | keys) + ($b | keys)) | unique[]
   | select(. != "timestamp" and . != "machine" and . != "kernel" and . != "cpus") as $k
   | ($a | has($k)) as $ina | ($b | has($k)) as $inb
   | "\($k)\t\($a[$k] | show)\t\($b[$k] | show)\t\(
       if ($ina | not) then "only B"
       elif ($inb | not) then "only A"
       elif ($a[$k] | type) == "number" and ($b[$k] | type) == "number" then
         (if $a[$k] == 0 then (if $b[$k] == 0 then "0 %" else "from 0" end)
          else (($b[$k] - $a[$k]) / ($a[$k] | fabs) * 1000 | round / 10) as $p
            | (if $p > 0 then "+" else "" end) + ($p | tostring) + " %" end)
       elif $a[$k] == $b[$k] then "same"
       else "changed" end)")' | column -t -s $'\t'
