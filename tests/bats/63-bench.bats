#!/usr/bin/env bats
# The bench's tools that need no testbed (docs/performance.md): bench-compare
# on two hand-made runs, and the veth part's address check (bench/lib.sh).
# No root, no build; speed is never asserted.

CMP=$BATS_TEST_DIRNAME/../../bench/compare.sh
LIB=$BATS_TEST_DIRNAME/../../bench/lib.sh

# two runs: x 100 -> 150 (+50 %), y 2 -> 1 (-50 %), z 0 -> 0, s "a" -> "b",
# t true -> true, one key only in each, curve.10000.ns 80 -> 100 (+25 %)
fixtures() {
  mkdir -p "$BATS_TEST_TMPDIR/history"
  printf '%s\n' '{"timestamp":"20261201T000000Z","machine":{"cpu_model":"CPU A","cpus":2,"kernel":"6.1"},"x":100,"y":2,"z":0,"s":"a","t":true,"only_a":1,"curve":{"10000":{"ns":80}}}' \
    > "$BATS_TEST_TMPDIR/history/20261201T000000Z.json"
  printf '%s\n' '{"timestamp":"20261202T000000Z","machine":{"cpu_model":"CPU B","cpus":4,"kernel":"6.18"},"x":150,"y":1,"z":0,"s":"b","t":true,"only_b":2,"curve":{"10000":{"ns":100}}}' \
    > "$BATS_TEST_TMPDIR/history/20261202T000000Z.json"
}

row() { grep -E "^$1 " <<<"$output" | tr -s ' '; }

@test "bench-compare: each key's change between two runs, by stamp" {
  fixtures
  BENCH_DIR=$BATS_TEST_TMPDIR run bash "$CMP" 20261201T000000Z 20261202T000000Z
  echo "$output"
  [[ $status -eq 0 ]]
  [[ $(row x) == "x 100 150 +50 %" ]]
  [[ $(row y) == "y 2 1 -50 %" ]]
  [[ $(row z) == "z 0 0 0 %" ]]
  [[ $(row s) == "s a b changed" ]]
  [[ $(row t) == "t true true same" ]]
  [[ $(row only_a) == "only_a 1 - only A" ]]
  [[ $(row only_b) == "only_b - 2 only B" ]]
  # nested: one row per leaf, 80 -> 100 = +25 %
  [[ $(row curve.10000.ns) == "curve.10000.ns 80 100 +25 %" ]]
  # the machines head the table; timestamp and machine are not rows
  [[ ${lines[0]} == *"CPU A, 2 CPUs, kernel 6.1"* && ${lines[1]} == *"CPU B, 4 CPUs, kernel 6.18"* ]]
  [[ -z $(row machine) && -z $(row timestamp) ]]
}

@test "bench-compare: files by path; a missing run or a non-object is refused" {
  fixtures
  run bash "$CMP" "$BATS_TEST_TMPDIR/history/20261202T000000Z.json" "$BATS_TEST_TMPDIR/history/20261201T000000Z.json"
  [[ $status -eq 0 && $(row x) == "x 150 100 -33.3 %" ]]
  BENCH_DIR=$BATS_TEST_TMPDIR run bash "$CMP" 20261201T000000Z nosuchrun
  [[ $status -eq 2 && $output == *"no run 'nosuchrun'"* ]]
  echo '[1,2]' > "$BATS_TEST_TMPDIR/list.json"
  run bash "$CMP" "$BATS_TEST_TMPDIR/list.json" "$BATS_TEST_TMPDIR/list.json"
  [[ $status -eq 2 && $output == *"not a bench run"* ]]
  run bash "$CMP" only-one
  [[ $status -eq 2 ]]
}

@test "the veth part's address check: 198.18.0.0/15 only, prefixes included" {
  # shellcheck source=bench/lib.sh
  source "$LIB"
  bench_in_range 198.18.0.1
  bench_in_range 198.19.255.255/32
  bench_in_range 198.18.0.0/15
  bench_in_range 198.18.32.0/20
  ! bench_in_range 198.20.0.1 || false
  ! bench_in_range 198.17.255.255 || false
  ! bench_in_range 10.0.0.1/24 || false
  ! bench_in_range 198.18.0.0/14 || false   # the prefix reaches 198.16.0.0-198.19.255.255
  ! bench_in_range 198.18.0.256 || false
  ! bench_in_range 198.18.0 || false
  ! bench_in_range 198.18.0.1/33 || false
  # bench_addr refuses before touching any namespace (there is none here)
  run bench_addr no-such-ns v0 192.0.2.1/24
  [[ $status -eq 2 && $output == *"outside 198.18.0.0/15"* ]]
}

@test "bench/median.sh: the median of each numeric key over runs" {
  local d=$BATS_TEST_TMPDIR
  # a: 1 3 2 -> 2; b: 4 and 10 (one run has none, one a string) -> 7; c only once -> 9
  echo '{"timestamp":"r1","a":1,"b":4,"c":9}' > "$d/1.json"
  echo '{"timestamp":"r2","a":3,"b":"x"}' > "$d/2.json"
  echo '{"timestamp":"r3","a":2,"b":10}' > "$d/3.json"
  run bash "$BATS_TEST_DIRNAME/../../bench/median.sh" "$d/1.json" "$d/2.json" "$d/3.json"
  [[ $status -eq 0 ]]
  [[ $(jq -c '[.a, .b, .c, .n, .runs]' <<< "$output") == '[2,7,9,3,["r1","r2","r3"]]' ]]
}
