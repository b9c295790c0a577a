#!/usr/bin/env bash
# Run every fuzz target for a share of SECONDS (docs/reliability.md,
# "Fuzzing"), then report per target: executions, new corpus units, and
# findings (crash-*, leak-*, timeout-* files). Exit 1 on any finding.
#
#   fuzz/run.sh [SECONDS]       default 60, split evenly across the targets
#   O=build-x                   the build folder (default build)
#   FUZZ_TARGETS="formats xdp"  a subset
#   FUZZ_EXTRA="-flag=..."      more libFuzzer flags (the BATS suite's check
#                               that a finding is reported uses one)
#
# The committed inputs in fuzz/corpus/<target>/ (regressions of findings)
# run first, once each; the seeds come from fuzz/seeds (the BPF fixtures'
# frames and the shared captures when ../shared/pcaps exists) and the
# project's config files and scenarios. The growing corpus lives in $O/fuzz/corpus/.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
O=${O:-build}
total=${1:-60}
targets=${FUZZ_TARGETS:-formats config replay scn xdp}
work=$O/fuzz/work
mkdir -p "$work"

if [[ $EUID -ne 0 && " $targets " == *" xdp "* ]]; then
  echo "fuzz: xdp needs root (a private network namespace, BPF): skipped"
  targets=${targets//xdp/}
fi
read -ra list <<<"$targets"
(( ${#list[@]} )) || { echo "fuzz: no target"; exit 1; }
per=$(( total / ${#list[@]} )); (( per >= 1 )) || per=1

seeds=$O/fuzz/seedcorpus
rm -rf "$seeds"
captures=()
[[ -d ../shared/pcaps ]] && captures=(../shared/pcaps/*.pcap)
"$O/fuzz/seeds" "$seeds" "${captures[@]}" >/dev/null || exit 1
mkdir -p "$seeds/config"
cp docs/xpro.conf.example tests/bats/sync.conf "$seeds/config/"
mkdir -p "$seeds/scn"
for f in experiments/*.scn; do  # byte 0: 1 applies the [ci] overrides
  { printf '\001'; cat "$f"; } >"$seeds/scn/$(basename "$f")"
done

findings=0 execs_all=0
printf '%-8s %10s %10s %8s  %s\n' target seconds executions findings regressions
for t in "${list[@]}"; do
  bin=$O/fuzz/fuzz_$t corpus=$O/fuzz/corpus/$t art=$work/$t-
  [[ -x $bin ]] || { echo "fuzz: $bin not built (make fuzz builds it)"; exit 1; }
  mkdir -p "$corpus"
  rm -f "$work/$t"-*
  reg=(fuzz/corpus/"$t"/*)
  nreg=0
  if [[ -e ${reg[0]} ]]; then
    nreg=${#reg[@]}
    if ! "$bin" -runs=1 "${reg[@]}" >"$work/$t.reg.log" 2>&1; then
      echo "fuzz: $t: a regression input fails again (see $work/$t.reg.log)"
      findings=$((findings + 1))
    fi
  fi
  log=$work/$t.log
  "$bin" "$corpus" "$seeds/$t" -max_total_time="$per" -max_len=3001 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$art" ${FUZZ_EXTRA:-} >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  found=$(find "$work" -maxdepth 1 -name "$t-*" | wc -l)
  if (( rc != 0 && found == 0 )); then found=1; fi
  (( found )) && grep -E 'ERROR|invariant failed|SUMMARY' "$log" | head -5 | sed "s/^/  $t: /"
  printf '%-8s %10s %10s %8s  %s\n' "$t" "$per" "${execs:-0}" "$found" "$nreg"
  findings=$((findings + found)); execs_all=$((execs_all + ${execs:-0}))
  printf '%s %s %s %s %s\n' "$(date -u +%FT%TZ)" "$t" "$per" "${execs:-0}" "$found" >>"$O/fuzz/history"
done
echo "fuzz: $execs_all executions, $findings findings"
(( findings == 0 ))
