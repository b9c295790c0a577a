#!/usr/bin/env bash
# bench/plot.sh [RUN.json [DIR]]: the curves of one bench run (default
# results/bench/latest.json) as Markdown tables (curves) and PNG plots (gnuplot)
# in DIR (default results/bench/):
#   records.png  ns/packet of X-Pro's drop and forward paths on a veth
#                (bpf_stats) against the records present, 1 and 2 RX queues
#                (veth_curve), and the same paths under test_run (dataplane_curve)
#   sync.png     the time syncdb takes to merge N queued records, against N
#                (sync_merge_curve)
# A curve the run lacks is left out. scripts/bench.sh calls it after each run.
set -euo pipefail
RUN=${1:-results/bench/latest.json}
DIR=${2:-results/bench}
[[ -r $RUN ]] || { echo "bench/plot.sh: no run $RUN" >&2; exit 2; }
mkdir -p "$DIR"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# records.dat: records drop_1q fwd_1q drop_2q fwd_2q (ns/packet; "-" when missing)
jq -r '(.veth_curve // {}) | to_entries | sort_by(.key | tonumber)[]
  | "\(.key) \(.value.drop_1q_ns // "-") \(.value.fwd_1q_ns // "-") \(.value.drop_2q_ns // "-") \(.value.fwd_2q_ns // "-") \(.value.drop_1q_pps // "-") \(.value.drop_2q_pps // "-")"' \
  "$RUN" > "$tmp/records.dat"
jq -r '(.dataplane_curve // {}) | to_entries | sort_by(.key | tonumber)[]
  | "\(.key) \(.value.drop_ns // "-") \(.value.pass_ns // "-")"' "$RUN" > "$tmp/testrun.dat"
jq -r '(.sync_merge_curve // {}) | to_entries | sort_by(.key | tonumber)[]
  | "\(.key) \(.value.ms) \(.value.syncdb_rss_kb) \(.value.local_redis_rss_kb) \(.value.master_redis_rss_kb)"' \
  "$RUN" > "$tmp/sync.dat"

{
  echo "# Curves of bench run $(jq -r '.timestamp // "?"' "$RUN")"
  echo
  jq -r '.machine // {} | "Machine: \(.cpu_model // "?"), \(.cpus // "?") CPUs, kernel \(.kernel // "?"), load at start \(.loadavg_at_start // "?")"' "$RUN"
  echo
  if [[ -s $tmp/records.dat ]]; then
    echo "X-Pro on a veth, ns/packet in XDP (bpf_stats run time / run count) and packets/s the program ran on:"
    echo
    echo "| records present | drop, 1 queue | forward, 1 queue | drop, 2 queues | forward, 2 queues | drop pps, 1 queue | drop pps, 2 queues |"
    echo "|---|---|---|---|---|---|---|"
    awk '{ printf "| %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7 }' "$tmp/records.dat"
    echo
  fi
  if [[ -s $tmp/testrun.dat ]]; then
    echo "The same paths under bpf_prog_test_run (bench-dataplane -p), ns/packet:"
    echo
    echo "| records present | drop | pass (decapsulate, route, redirect) |"
    echo "|---|---|---|"
    awk '{ printf "| %s | %s | %s |\n", $1, $2, $3 }' "$tmp/testrun.dat"
    echo
  fi
  if [[ -s $tmp/sync.dat ]]; then
    echo "syncdb merging N queued records (one round), and resident sizes after it:"
    echo
    echo "| records | ms | syncdb RSS KB | local redis RSS KB | master redis RSS KB |"
    echo "|---|---|---|---|---|"
    awk '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$tmp/sync.dat"
  fi
} > "$DIR/curves.md"

command -v gnuplot >/dev/null || { echo "bench/plot.sh: gnuplot missing: $DIR/curves.md only" >&2; exit 0; }
if [[ -s $tmp/records.dat || -s $tmp/testrun.dat ]]; then
  plots=()
  [[ -s $tmp/records.dat ]] && plots+=("'$tmp/records.dat' using 1:2 with linespoints title 'veth drop, 1 queue'"
    "'' using 1:3 with linespoints title 'veth forward, 1 queue'"
    "'' using 1:4 with linespoints title 'veth drop, 2 queues'"
    "'' using 1:5 with linespoints title 'veth forward, 2 queues'")
  [[ -s $tmp/testrun.dat ]] && plots+=("'$tmp/testrun.dat' using 1:2 with linespoints dashtype 2 title 'test\\_run drop'"
    "'' using 1:3 with linespoints dashtype 2 title 'test\\_run pass'")
  gnuplot <<EOF
set terminal pngcairo size 900,560
set output '$DIR/records.png'
set datafile missing '-'
set logscale x
set xlabel 'records present'
set ylabel 'ns per packet'
set yrange [0:*]
set key top left
set grid
set title 'X-Pro: cost per packet against records present'
plot $(IFS=,; echo "${plots[*]}")
EOF
fi
if [[ -s $tmp/sync.dat ]]; then
  gnuplot <<EOF
set terminal pngcairo size 900,560
set output '$DIR/sync.png'
set logscale xy
set xlabel 'records merged'
set ylabel 'ms for the round'
set key top left
set grid
set title 'syncdb: one merge round against records'
plot '$tmp/sync.dat' using 1:2 with linespoints title 'syncdb merge round'
EOF
fi
echo "bench/plot.sh: $DIR/curves.md$([[ -f $DIR/records.png ]] && echo " $DIR/records.png")$([[ -f $DIR/sync.png ]] && echo " $DIR/sync.png")" >&2
