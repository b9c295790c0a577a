#!/usr/bin/env bash
# make bench: measure speed as ratios against baselines taken in the same
# run (these machines are shared and noisy). Writes results/bench/latest.json
# (and a timestamped copy) and prints a table. Never part of `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
out=results/bench
mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "bench: data plane (bpf_prog_test_run_opts, 1024 sources, 1M records present)..." >&2
"$O"/bench/bench-dataplane -r "${BENCH_RUNS:-5}" > "$tmp/dataplane.json"

# Further parts: every bench/parts/NAME.sh prints one JSON object of keys
# (it gets O in the environment and cleans up after itself). BENCH_ONLY=NAME
# runs just that part (the data plane always runs).
for part in bench/parts/*.sh; do
  [[ -e $part ]] || continue
  name=$(basename "$part" .sh)
  [[ -n ${BENCH_ONLY:-} && $name != "$BENCH_ONLY" ]] && continue
  echo "bench: $name..." >&2
  O=$O bash "$part" > "$tmp/$name.json"
done

# Merge every part into one object, with the machine it ran on.
jq -s --arg ts "$stamp" --arg kernel "$(uname -r)" --arg cpus "$(nproc)" \
  'add + {timestamp: $ts, kernel: $kernel, cpus: ($cpus|tonumber)}' \
  "$tmp"/*.json > "$out/$stamp.json"
ln -sfn "$stamp.json" "$out/latest.json"

jq -r '
  def row(k; unit): "\(k)\t\(.[k])\t\(unit)";
  "key\tvalue\tunit",
  row("xdp_drop_ns"; "ns/packet (floor)"),
  row("lru_filter_ns"; "ns/packet (one-lookup LRU filter)"),
  row("lru_filter_1m_ns"; "ns/packet (same, 1M entries present)"),
  row("dataplane_drop_ns"; "ns/packet (X-Pro TF1 drop)"),
  row("dataplane_pass_ns"; "ns/packet (X-Pro decap + route (cached, fib_cache_ms default) + redirect)"),
  row("dataplane_pass_nocache_ns"; "ns/packet (the same, a FIB lookup every packet)"),
  row("dataplane_drop_vs_lru"; "ratio (target <= 2)"),
  row("dataplane_pass_vs_lru"; "ratio (target <= 4)"),
  row("dataplane_pass_nocache_vs_lru"; "ratio (route cache off)"),
  (to_entries[] | select(.key | test("^(xdp_drop|lru_filter|lru_filter_1m|dataplane_.*|timestamp|kernel|cpus)(_ns)?$") | not)
   | "\(.key)\t\(.value)\t")
' "$out/latest.json" | column -t -s $'\t'
echo "bench: wrote $out/latest.json -> $stamp.json" >&2
