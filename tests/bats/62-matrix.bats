#!/usr/bin/env bats
# make matrix (docs/experiments.md, "The matrix"): a tiny matrix at CI scale,
# 2 scenarios x 2 defenses x SEEDS=1, on the real testbed; its outputs
# (RESULTS.md, the tidy CSV, the LaTeX table, PNG and PDF figures) and its
# resumption: a finished cell is never rerun, a missing one is.
export XPRO_BUILD=${XPRO_BUILD:-build}

load lib/xpro

setup() {
  xp_require_root
  OUT=$BATS_TEST_TMPDIR/matrix
}

# a failed test may leave the topology of the run it stopped in: take it down
teardown() {
  find "$BATS_TEST_TMPDIR" -name meta.json -exec jq -r '.topo_run // empty' {} + 2>/dev/null | sort -u |
    while read -r r; do [[ -d /run/xpro/topo/$r ]] && timeout 60 topo/xpro-topo down "$r" -q >/dev/null 2>&1; done
  return 0
}

mx() { run timeout 600 /usr/bin/python3 experiments/xpro-exp matrix --scale ci --seeds 1 --scenarios "flood syn" --defenses "none xpro" --out "$OUT" -q; }

@test "a tiny matrix: progress, RESULTS.md per scenario, tidy CSV, LaTeX, figures; resumes without rerunning" {
  mx
  echo "$output" | grep -E '^\[|matrix' | sed 's/^/# /' >&3
  assert_success
  # progress [k/N] with an ETA, in order
  [[ $(grep -cE '^\[[1-4]/4\] (flood|syn) / (none|xpro) seed 1 \(ETA [0-9]+ h [0-9]{2} min\)' <<< "$output") -eq 4 ]]
  m=$OUT/latest
  [[ -L $OUT/latest && -f $m/matrix.json ]]
  for f in RESULTS.md results.csv results.tex stats.json fig-attack_drop_ratio.png fig-attack_drop_ratio.pdf \
           fig-legit_drop_ratio.png fig-detect_ms.pdf; do
    [[ -s $m/$f ]] || { echo "# missing $f" >&3; return 1; }
  done
  # one table per scenario, n stated, the n = 1 warning, every run valid
  grep -q '^## flood$' "$m/RESULTS.md"
  grep -q '^## syn$' "$m/RESULTS.md"
  [[ $(grep -c '^| n (valid / runs) | 1 / 1 | 1 / 1 |$' "$m/RESULTS.md") -eq 2 ]]
  grep -q 'n = 1 somewhere in this table' "$m/RESULTS.md"
  grep -q 'udp: detection (ms)' "$m/RESULTS.md"
  sed -n '/^## Invalid or failed runs/,/^## Files/p' "$m/RESULTS.md" | grep -q '^None\.$'
  # tidy CSV: header, then one row per run and figure; 4 runs, each with its figures
  [[ $(head -1 "$m/results.csv") == scenario,defense,seed,valid,figure,value ]]
  [[ $(awk -F, 'NR > 1 { print $1 "/" $2 "/" $3 }' "$m/results.csv" | sort -u | wc -l) -eq 4 ]]
  [[ $(awk -F, 'NR > 1 && $5 == "attack_drop_ratio"' "$m/results.csv" | wc -l) -eq 4 ]]
  # xpro: at CI scale each bot passes at most TT2 (0.5 s) of its attack before
  # TF1 applies (flood 1.5-6 s, syn 1.5-5 s: 1 - 0.5 / 4.5 and 1 - 0.5 / 3.5),
  # less 1 % for the window's start and the sync; when the sampler sees the
  # detection, more (the figure is after detection). none drops nothing.
  awk -F, 'NR > 1 && $5 == "attack_drop_ratio" && $2 == "xpro" {
             span = $1 == "flood" ? 4.5 : 3.5; if ($6 < 1 - 0.5 / span - 0.01) bad = 1 }
           NR > 1 && $5 == "attack_drop_ratio" && $2 == "none" { if ($6 > 0.01) bad = 1 }
           END { exit bad }' "$m/results.csv"
  grep -q '\\begin{tabular}' "$m/results.tex"
  [[ $(grep -c '^\(flood\|syn\) & \(none\|xpro\) & 1 &' "$m/results.tex") -eq 4 ]]
  file "$m/fig-attack_drop_ratio.pdf" | grep -q PDF
  # resume: nothing to run, no cell touched
  s1=$(stat -c %Y "$m/cells/flood/xpro/seed-1/summary.json")
  mx
  assert_success
  assert_output --partial "4 done, 0 to run"
  refute_output --partial "[1/4]"
  [[ $(stat -c %Y "$m/cells/flood/xpro/seed-1/summary.json") == "$s1" ]]
  # a cell that did not finish is run again, alone
  rm "$m/cells/syn/none/seed-1/summary.json"
  mx
  assert_success
  assert_output --partial "3 done, 1 to run"
  [[ $(grep -c '^\[' <<< "$output") -eq 1 ]]
  assert_output --partial "[4/4] syn / none seed 1"
  [[ -s $m/cells/syn/none/seed-1/summary.json ]]
  [[ $(stat -c %Y "$m/cells/flood/xpro/seed-1/summary.json") == "$s1" ]]
  # another configuration starts another matrix folder
  run timeout 600 /usr/bin/python3 experiments/xpro-exp matrix --scale ci --seeds 1 --scenarios "flood" --defenses "none" --out "$OUT" -q
  assert_success
  [[ $(ls -d "$OUT"/2* | wc -l) -eq 2 ]]
  # and the first configuration again resumes its own folder, latest no more
  mx
  assert_success
  assert_output --partial "4 done, 0 to run"
  [[ $(ls -d "$OUT"/2* | wc -l) -eq 2 ]]
  [[ -f $OUT/latest/cells/syn/xpro/seed-1/summary.json ]]
}

@test "matrix refusals: an unknown defense or scenario, SEEDS out of range" {
  run /usr/bin/python3 experiments/xpro-exp matrix --defenses "none magic" --out "$BATS_TEST_TMPDIR/m"
  [[ $status -eq 2 ]]
  assert_output --partial "defense magic"
  run /usr/bin/python3 experiments/xpro-exp matrix --scenarios "no-such" --out "$BATS_TEST_TMPDIR/m"
  [[ $status -eq 2 ]]
  assert_output --partial "no file"
  run /usr/bin/python3 experiments/xpro-exp matrix --seeds 0 --out "$BATS_TEST_TMPDIR/m"
  [[ $status -eq 2 ]]
}
