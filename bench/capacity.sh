#!/usr/bin/env bash
# bench/capacity.sh [xpro-exp compare options]: `make compare SCENARIO=capacity`
# (experiments/capacity.scn, every defense) while bench/capacity.py samples the
# proxies' XDP program run time (bpf_stats, switched on for the run and
# restored after) and the machine's softirq time every second; then the
# report per step: capacity.json, its tables (Markdown) and capacity.png in the compare
# folder (results/compare/capacity/latest). O (or XPRO_BUILD): the build.
# Not part of `make bench` (about 3 minutes). docs/performance.md, "Capacity".
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_init capacity
export XPRO_BUILD=${XPRO_BUILD:-${O:-build}}
bench_stats_on
bench_bg sampler python3 bench/capacity.py sample "$BENCH_TMP/samples.jsonl"
rc=0
python3 experiments/xpro-exp compare capacity "$@" || rc=$?
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
dir=$(readlink -f results/compare/capacity/latest)
[[ -d $dir ]] || bench_die "no compare folder (xpro-exp exit $rc)"
cp "$BENCH_TMP/samples.jsonl" "$dir/capacity-samples.jsonl"
python3 bench/capacity.py report "$dir"
echo "bench capacity: $dir/capacity.md, capacity.png (compare exit $rc)" >&2
exit "$rc"
