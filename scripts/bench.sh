#!/usr/bin/env bash
# make bench: measure speed as ratios against baselines taken in the same
# run (these machines are shared and noisy). Writes results/bench/latest.json
# (-> history/STAMP.json, with the machine) and prints a table. Never part of
# `make test`. docs/performance.md says what each key means. BENCH_NOTE: a
# note kept with the machine; BENCH_COMMIT: the commit measured (default HEAD).
set -euo pipefail
cd "$(dirname "$0")/.."
O=${O:-build}
out=results/bench
mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Parts: the data plane (bench/dataplane.c), then every bench/parts/NAME.sh,
# each printing one JSON object of keys (it gets O in the environment and
# cleans up after itself). BENCH_ONLY="NAME ..." runs just those parts,
# BENCH_SKIP="NAME ..." all but those (names: dataplane and the parts').
want() {
  local n=" $1 "
  [[ -n ${BENCH_ONLY:-} && " ${BENCH_ONLY//,/ } " != *"$n"* ]] && return 1
  [[ -n ${BENCH_SKIP:-} && " ${BENCH_SKIP//,/ } " == *"$n"* ]] && return 1
  return 0
}
if want dataplane; then
  echo "bench: dataplane (bpf_prog_test_run_opts, 1024 sources, 1M records present)..." >&2
  "$O"/bench/bench-dataplane -r "${BENCH_RUNS:-5}" > "$tmp/dataplane.json"
fi
for part in bench/parts/*.sh; do
  [[ -e $part ]] || continue
  name=$(basename "$part" .sh)
  want "$name" || continue
  echo "bench: $name..." >&2
  O=$O bash "$part" > "$tmp/$name.json"
done
ls "$tmp"/*.json >/dev/null 2>&1 || { echo "bench: no part ran (BENCH_ONLY='${BENCH_ONLY:-}')" >&2; exit 2; }

# Merge every part into one object, with the machine it ran on (these
# machines are shared: the load at the start says how busy it was). The run
# is kept in history/ (tracked in git: docs/performance.md, "History").
mkdir -p "$out/history"
jq -s --arg ts "$stamp" --arg kernel "$(uname -r)" --arg cpus "$(nproc)" \
  --arg model "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
  --arg mem "$(awk '/^MemTotal/ { print $2 }' /proc/meminfo)" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
  --arg only "${BENCH_ONLY:-}" --arg note "${BENCH_NOTE:-}" --arg rev "${BENCH_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}" \
  'add + {timestamp: $ts, kernel: $kernel, cpus: ($cpus|tonumber),
          machine: {cpu_model: $model, cpus: ($cpus|tonumber), kernel: $kernel, mem_kb: ($mem|tonumber),
                    loadavg_at_start: $load, note: $note, commit: $rev, parts: (if $only == "" then "all" else $only end)}}' \
  "$tmp"/*.json > "$out/history/$stamp.json"
ln -sfn "history/$stamp.json" "$out/latest.json"

jq -r '
  def row(k; unit): select(has(k)) | "\(k)\t\(.[k])\t\(unit)";
  "key\tvalue\tunit",
  row("xdp_drop_ns"; "ns/packet (floor)"),
  row("lru_filter_ns"; "ns/packet (one-lookup LRU filter)"),
  row("lru_filter_1m_ns"; "ns/packet (same, 1M entries present)"),
  row("dataplane_drop_ns"; "ns/packet (X-Pro TF1 drop)"),
  row("dataplane_pass_ns"; "ns/packet (X-Pro decap + route (cached, fib_cache_ms default) + redirect)"),
  row("dataplane_pass_nocache_ns"; "ns/packet (the same, a FIB lookup every packet)"),
  row("dataplane_drop_vs_lru"; "ratio (target <= 2)"),
  row("dataplane_pass_vs_lru"; "ratio (target <= 4)"),
  row("dataplane_drop_id_ns"; "ns/packet (TF1 drop, client identity on: header v2, MAC and replay window)"),
  row("dataplane_pass_id_ns"; "ns/packet (pass, client identity on)"),
  row("dataplane_drop_id_vs_lru"; "ratio"),
  row("dataplane_pass_id_vs_lru"; "ratio"),
  row("dataplane_drop_id_vs_off"; "ratio to identity off (target <= 1.3)"),
  row("dataplane_pass_id_vs_off"; "ratio to identity off (target <= 1.3)"),
  row("dataplane_pass_nocache_vs_lru"; "ratio (route cache off)"),
  row("dataplane_drop_ns_1m_vs_10k"; "ratio, 1M records against 10k (target <= 1.3)"),
  row("dataplane_pass_ns_1m_vs_10k"; "ratio, 1M records against 10k"),
  (to_entries[] | select(.key | test("^(xdp_drop|lru_filter|lru_filter_1m|dataplane_.*|timestamp|kernel|cpus|machine)(_ns)?$") | not)
   | select(.value | type != "object" and type != "array")
   | "\(.key)\t\(.value)\t"),
  "(curves, maps and memory objects: in the JSON and the curves tables)"
' "$out/latest.json" | column -t -s $'\t'
# the curves: tables (Markdown) and PNG plots in results/bench/
bash bench/plot.sh "$out/latest.json" "$out" || echo "bench: plotting failed" >&2
echo "bench: wrote $out/history/$stamp.json ($out/latest.json); compare runs: make bench-compare A=STAMP B=STAMP" >&2
