#!/usr/bin/env bats
# The service units of contrib/systemd (docs/operations.md, Services). There
# is no systemd running on these machines (no PID 1 to start units), so the
# units are checked with systemd-analyze verify, and their Exec lines are
# run here as systemd would run them: %i the interface, $MAINPID the
# daemon's PID, /usr/sbin/xpro this build (with the test's config file).

load lib/xpro

XPRO=${XPRO_BUILD:-build}/bin/xpro
UNITS=$BATS_TEST_DIRNAME/../../contrib/systemd

setup_file() {
  xp_require_root
  export DEV PX VIC CONF RPORT WRAP
  xp_proxy_path "" dev0 vic0
  RPORT=$(xp_redis_start "$PX")
  CONF=$BATS_FILE_TMPDIR/xpro.conf
  xp_conf "$CONF" state_dir="$BATS_FILE_TMPDIR/state" redis_local=127.0.0.1:$RPORT \
    redis_master=127.0.0.1:$RPORT sync_period_ms=100
  xp_pin_dir_register "/run/xpro/bpf/$PX"
  # /usr/sbin/xpro of the units: this build, with the test's config
  WRAP=$BATS_FILE_TMPDIR/xpro
  printf '#!/bin/sh\nc=$1; shift\nexec %s "$c" -c %s "$@"\n' "$(realpath "$XPRO")" "$CONF" > "$WRAP"
  chmod 755 "$WRAP"
}

teardown_file() {
  xp_teardown_all
  xp_exec "$PX" "$XPRO" detach -i in0 -c "$CONF" >/dev/null 2>&1 || true
}

teardown() {
  xp_dump_on_failure
}

# exec_line UNIT KEY: the unit's KEY= line as a command for interface in0
exec_line() {
  sed -n "s/^$2=//p" "$UNITS/$1" | sed "s/%i/in0/g; s|/usr/sbin/xpro|$WRAP|g"
}

@test "systemd-analyze verify passes every unit (man pages aside: the package installs them)" {
  command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
  d=$BATS_TEST_TMPDIR/units
  mkdir -p "$d"
  for u in "$UNITS"/*; do
    # the binary as this build's: /usr/sbin/xpro exists only once installed
    sed "s|/usr/sbin/xpro|$(realpath "$XPRO")|" "$u" > "$d/$(basename "$u")"
  done
  cd "$d"
  run systemd-analyze verify --man=no ./xpro@in0.service ./xpro-syncmaps@in0.service ./xpro-syncdb@in0.service \
    ./xpro-warnd@in0.service ./xpro-exporter@in0.service ./run-xpro-bpf.mount
  echo "$output"
  assert_success
  assert_output ""
  for u in xpro@ xpro-syncmaps@ xpro-syncdb@ xpro-warnd@; do
    grep -q '^ExecReload=' "$d/$u.service"
    grep -q '^NoNewPrivileges=yes' "$d/$u.service"
    grep -q '^CapabilityBoundingSet=' "$d/$u.service"
  done
}

@test "the Exec lines: attach, the four daemons start, SIGHUP reloads them, stop detaches keeping the maps" {
  xp_exec "$PX" sh -c "$(exec_line xpro@.service ExecStart)"
  run xp_exec "$PX" "$XPRO" status -i in0 -c "$CONF"
  assert_output --partial "attached (prog id"
  declare -A pid
  for d in syncmaps syncdb warnd exporter; do
    # shellcheck disable=SC2046
    pid[$d]=$(xp_spawn --ns "$PX" "$d" $(exec_line "xpro-$d@.service" ExecStart))
  done
  sleep 1
  for d in syncmaps syncdb warnd exporter; do
    xp_alive "${pid[$d]}" || { echo "$d died: $(cat "$(xp_log_of "${pid[$d]}")")"; return 1; }
    reload=$(exec_line "xpro-$d@.service" ExecReload)
    [ "$reload" = '/bin/kill -HUP $MAINPID' ]
    ${reload//\$MAINPID/${pid[$d]}}
  done
  sleep 1
  for d in syncmaps syncdb warnd exporter; do
    xp_alive "${pid[$d]}" || { echo "$d died of SIGHUP"; return 1; }
  done
  grep -q "syncmaps: SIGHUP: config reread" "$(xp_log_of "${pid[syncmaps]}")"
  grep -q "syncdb: SIGHUP: config reread" "$(xp_log_of "${pid[syncdb]}")"
  # xpro@'s reload swaps the program, keeping the maps
  before=$(ip -n "$PX" -j -d link show in0 | jq -r '.[0].xdp.prog.id')
  xp_exec "$PX" sh -c "$(exec_line xpro@.service ExecReload)"
  after=$(ip -n "$PX" -j -d link show in0 | jq -r '.[0].xdp.prog.id')
  [ "$before" != "$after" ]
  xp_exec "$PX" sh -c "$(exec_line xpro@.service ExecStop)"
  run xp_exec "$PX" "$XPRO" status -i in0 -c "$CONF"
  assert_output --partial "NOT attached (maps kept)"
  for d in syncmaps syncdb warnd exporter; do kill "${pid[$d]}"; done
}
