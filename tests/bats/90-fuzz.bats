#!/usr/bin/env bats
# The fuzz targets (fuzz/, docs/reliability.md "Fuzzing") in a short bounded
# run: each libFuzzer target under ASan and UBSan for XPRO_FUZZ_SECONDS
# (default 5) from the seeds and the corpus of earlier runs, after the
# committed regression inputs of fuzz/corpus/. A finding (a sanitizer
# report, a failed invariant, a leak, a timeout) fails the test with the
# target's name. `make fuzz SECONDS=N` is the long run.

load lib/xpro

B=${XPRO_BUILD:-build}
ROOT=$BATS_TEST_DIRNAME/../..
TARGETS="formats config replay scn xdp"

setup_file() {
  command -v clang >/dev/null || skip "clang is missing (scripts/deps.sh installs it)"
  bins=()
  for t in $TARGETS; do bins+=("$B/fuzz/fuzz_$t"); done
  make -s -C "$ROOT" NODEPS=1 O="$B" "${bins[@]}" "$B/fuzz/seeds" >&3 2>&1 ||
    { echo "# building the fuzz targets failed" >&3; return 1; }
}

fuzz_one() {
  local t=$1
  run env O="$B" FUZZ_TARGETS="$t" bash "$ROOT/fuzz/run.sh" "${XPRO_FUZZ_SECONDS:-5}"
  echo "$output"
  [ "$status" -eq 0 ]
  # the target ran: a line "T SECONDS EXECUTIONS 0 N" with executions > 0
  echo "$output" | awk -v t="$t" '$1 == t && $3 > 0 && $4 == 0 { ok = 1 } END { exit !ok }'
  [[ $output == *" 0 findings"* ]]
}

@test "fuzz: storage formats (L_DB, M_DB, queue line, feed, W, clock, escape) find nothing" {
  fuzz_one formats
}

@test "fuzz: the config parser finds nothing" {
  fuzz_one config
}

@test "fuzz: xpro-replay's frame handling finds nothing" {
  fuzz_one replay
}

@test "fuzz: the simulator's scenario loader finds nothing" {
  fuzz_one scn
}

@test "fuzz: random frames through the XDP program keep its invariants" {
  xp_require_root
  fuzz_one xdp
}

@test "fuzz: run.sh reports a finding (an RSS limit of 1 MB: libFuzzer's out-of-memory)" {
  # the detection itself: the same run with a limit every process exceeds
  # must end with one finding, exit 1 and the target named
  run env O="$B" FUZZ_TARGETS=formats FUZZ_EXTRA="-rss_limit_mb=1" bash "$ROOT/fuzz/run.sh" 2
  echo "$output"
  [ "$status" -eq 1 ]
  echo "$output" | awk '$1 == "formats" && $4 >= 1 { ok = 1 } END { exit !ok }'
  rm -f "$B"/fuzz/work/formats-*
}
