#!/usr/bin/env bash
# Mutation check of the differential test (run by hand, not by `make test`):
# for each comparison listed below, copy the tree, flip that one comparison
# in bpf/xpro_decide.h, rebuild, and run the differential test and the
# decision unit tests. Each mutant must make at least one of them fail.
#   tests/mutation/flip.sh            every mutant, XPRO_DIFF_SEQS=20000
# Prints one line per mutant: killed (by which test) or SURVIVED; exit 1 if
# any survived.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
seqs=${XPRO_DIFF_SEQS:-20000}
# LINE-PATTERN|FROM|TO : in the line matching LINE-PATTERN replace FROM by TO
mutants=(
  'xpro_sdiff(now, rec->ts2_l) > tt1|> tt1|>= tt1'
  'xpro_sdiff(now, agg->ts2) > tt1|> tt1|>= tt1'
  'win > (__s64)p->tt2_ns && xpro_rate|win >|win >='
  'awin > (__s64)p->tt3_ns|awin >|awin >='
  'if (c > share)|c > share|c >= share'
  'return c \* XPRO_NSEC > tf \* win_ns|> tf|>= tf'
  'xpro_sdiff(now, old) >= (__s64)p->warn_interval_ns|>= (__s64)p->warn|> (__s64)p->warn'
)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
survived=0
for m in "${mutants[@]}"; do
  IFS='|' read -r pat from to <<<"$m"
  rm -rf "$work/t" && mkdir -p "$work/t"
  (cd "$src" && git ls-files -z | xargs -0 cp --parents -t "$work/t")
  f=$work/t/bpf/xpro_decide.h
  n=$(grep -c -- "$pat" "$f")
  if [[ $n -ne 1 ]]; then echo "mutant '$pat': matches $n lines, fix the list"; survived=1; continue; fi
  line=$(grep -n -- "$pat" "$f" | cut -d: -f1)
  esc_from=$(printf '%s' "$from" | sed 's/[][\.*^$/]/\\&/g')
  sed -i "${line}s/${esc_from}/${to}/" "$f"
  if cmp -s "$f" "$src/bpf/xpro_decide.h"; then echo "mutant '$pat': no change made"; survived=1; continue; fi
  if ! make -C "$work/t" NODEPS=1 O="$work/o" -j2 "$work/o/tests/bpf/test_diff" "$work/o/tests/unit/test_decide" >/dev/null 2>&1; then
    echo "mutant line $line ($from -> $to): does not build"; survived=1; continue
  fi
  killed=""
  XPRO_DIFF_SEQS=$seqs "$work/o/tests/bpf/test_diff" >"$work/diff.tap" 2>&1 || true
  grep -q '^not ok' "$work/diff.tap" && killed+=" test_diff"
  "$work/o/tests/unit/test_decide" >"$work/dec.tap" 2>&1 || true
  grep -q '^not ok' "$work/dec.tap" && killed+=" test_decide"
  if [[ -n $killed ]]; then
    echo "mutant line $line ($from -> $to): killed by$killed"
  else
    echo "mutant line $line ($from -> $to): SURVIVED"; survived=1
  fi
done
exit $survived
