#!/usr/bin/env bats
# Debian 12's kernel (6.1) code paths, on whatever kernel runs the tests
# (docs/kernels.md): XPRO_FORCE_MISSING=netdev,napi makes every feature probe
# report those features missing, as 6.1 has neither the netdev netlink family
# (6.3) nor NAPI information (6.8). Each tool must then say which check it
# skipped and go on with the safe configuration instead of refusing.
# tests/run.sh also runs 20-dataplane and 30-topo with the same switch.

load lib/xpro

export XPRO_BUILD=${XPRO_BUILD:-build}
export XPRO_FORCE_MISSING=netdev,napi
B=$XPRO_BUILD
PROBE=$B/bin/xpro-topo-probe
export XPRO=$B/bin/xpro XPRO_TOPO_PROBE=$PROBE XPRO_TOPO_PING=$B/bin/xpro-topo-ping

setup() {
  xp_require_root
  OUT=$BATS_TEST_TMPDIR/results
  RUN=k62-$$
}

teardown() {
  local r metas
  # this file's testbed, and any that a failed experiment run recorded
  mapfile -t metas < <(find "$BATS_TEST_TMPDIR" -name meta.json)
  for r in "$RUN" $(jq -r '.topo_run // empty' "${metas[@]}" /dev/null 2>/dev/null); do
    [[ -d /run/xpro/topo/$r ]] && timeout 60 topo/xpro-topo down "$r" -q >/dev/null 2>&1
  done
  return 0
}

@test "scripts/deps.sh names each forced feature missing and what it costs" {
  run bash scripts/deps.sh --check
  assert_success
  assert_output --regexp "kernel feature netdev +no .*skip the XDP-features checks"
  assert_output --regexp "kernel feature napi +no .*skips the NAPI check"
  # BTF and XDP on veth are not switched off: the testbed needs them
  assert_output --regexp "kernel feature xdp-veth +yes"
}

@test "xpro-topo-probe reports unknown, says what it skipped, and does not fail the check" {
  run "$PROBE" --require-napi --require-ndo-xmit lo
  assert_success
  assert_output --partial "lo xdp=unknown napi=unknown"
  assert_output --partial "skipped: the XDP features and NAPI checks (no 'netdev' generic netlink family"
  # NAPI alone missing (a 6.3-6.7 kernel): the XDP features are still read
  XPRO_FORCE_MISSING=napi run "$PROBE" --require-napi lo
  assert_success
  assert_output --partial "napi=unknown"
  refute_output --partial "xdp=unknown"
  assert_output --partial "skipped: the NAPI check"
  # an interface that does not exist is still an error
  run "$PROBE" no-such-if0
  [ "$status" -eq 2 ]
}

@test "xpro-topo up says which checks it skipped and builds the testbed with GRO on every proxy peer" {
  run timeout 60 topo/xpro-topo up default --name "$RUN"
  assert_success
  assert_output --partial "warning: skipped: the XDP features and NAPI checks"
  assert_output --partial "relying on GRO switched off and on with the links up"
  # the safe configuration is in place: GRO on, on the bridge side of px1's links
  run timeout 5 topo/xpro-topo exec "$RUN" core ethtool -k px1.out0
  assert_output --partial "generic-receive-offload: on"
  run timeout 60 topo/xpro-topo down "$RUN" -q
  assert_success
}

@test "a CI-scale flood passes its checks with the 6.1 code paths" {
  run timeout 300 /usr/bin/python3 experiments/xpro-exp run flood --scale ci --out "$OUT" -q
  assert_success
  run jq -e '.valid == true' "$OUT/flood/latest/summary.json"
  assert_success
}
