#!/usr/bin/env bats
# The one redis-server launcher (scripts/xpro-redis): every server it starts,
# whoever starts it (the launcher itself, the BATS helper xp_redis_start,
# xpro-topo start), has the settings docs/sync.md requires
# (hash-max-listpack-entries 128) and no persistence; it refuses a busy
# address with status 3, and stops its server by PID.

load lib/xpro

B=${XPRO_BUILD:-build}
TOPO=topo/xpro-topo
LAUNCHER=scripts/xpro-redis
export XPRO=$B/bin/xpro XPRO_TOPO_PROBE=$B/bin/xpro-topo-probe XPRO_TOPO_PING=$B/bin/xpro-topo-ping

setup() {
  N=t32-$$-$BATS_TEST_NUMBER
}

teardown() {
  [[ -f $BATS_TEST_TMPDIR/r/redis.pid ]] && "$LAUNCHER" stop "$BATS_TEST_TMPDIR/r"
  [[ $(id -u) -eq 0 ]] && timeout 30 "$TOPO" down "$N" -q >/dev/null 2>&1
  xp_teardown_all
}

# cget SOCKET KEY: CONFIG GET's value
cget() { timeout 5 redis-cli -s "$1" CONFIG GET "$2" | sed -n 2p; }

@test "xpro-redis start: the project's settings, its PID printed and in the pid file; stop ends it" {
  local d=$BATS_TEST_TMPDIR/r s=$BATS_TEST_TMPDIR/r/redis.sock pid
  run timeout 20 "$LAUNCHER" start "$d" --unix "$s"
  assert_success
  pid=$output
  [[ $pid =~ ^[0-9]+$ ]]
  [ "$(cat "$d/redis.pid")" = "$pid" ]
  grep -q redis-server "/proc/$pid/cmdline"
  [ "$(cget "$s" hash-max-listpack-entries)" = 128 ]
  [ "$(cget "$s" save)" = "" ]
  [ "$(cget "$s" appendonly)" = no ]
  [ "$(cget "$s" dir)" = "$d" ]
  # the config is private (it may hold a password)
  [ "$(stat -c %a "$d/redis.conf")" = 600 ]
  # a second server from the same folder is refused; the first keeps running
  run timeout 20 "$LAUNCHER" start "$d" --unix "$s"
  assert_failure 1
  assert_output --partial "runs from $d already"
  [ "$(timeout 5 redis-cli -s "$s" PING)" = PONG ]
  run timeout 20 "$LAUNCHER" stop "$d"
  assert_success
  [ ! -d "/proc/$pid" ] || grep -q '^State:.*Z' "/proc/$pid/status"
  # stop again: nothing to do
  run timeout 20 "$LAUNCHER" stop "$d"
  assert_success
}

@test "xpro-redis: --set replaces a setting, a password protects it, a busy port is status 3, bad input status 2" {
  local d=$BATS_TEST_TMPDIR/r s=$BATS_TEST_TMPDIR/r/redis.sock port
  XPRO_REDIS_PASS='pa ss"word' run timeout 20 "$LAUNCHER" start "$d" --unix "$s" --user xpro \
    --set hash-max-listpack-entries 512
  assert_success
  run timeout 5 redis-cli -s "$s" PING
  assert_output --partial NOAUTH
  [ "$(REDISCLI_AUTH='pa ss"word' timeout 5 redis-cli -s "$s" --user xpro CONFIG GET hash-max-listpack-entries | sed -n 2p)" = 512 ]
  "$LAUNCHER" stop "$d"
  # a port another server holds
  port=$(xp_redis_start)
  run timeout 20 "$LAUNCHER" start "$BATS_TEST_TMPDIR/r2" --port "$port"
  [ "$status" -eq 3 ]
  assert_output --partial "127.0.0.1:$port is in use"
  [ "$(xp_redis_cli "$port" PING)" = PONG ]
  # a setting that would add a line to the config, a port out of range
  run timeout 20 "$LAUNCHER" start "$BATS_TEST_TMPDIR/r3" --set maxmemory $'1mb\nslaveof 198.18.0.1 6379'
  [ "$status" -eq 2 ]
  [ ! -e "$BATS_TEST_TMPDIR/r3/redis.conf" ]
  run timeout 20 "$LAUNCHER" start "$BATS_TEST_TMPDIR/r3" --port 70000
  [ "$status" -eq 2 ]
}

@test "every launcher site gets hash-max-listpack-entries 128: xp_redis_start and xpro-topo start" {
  local port p pass
  port=$(xp_redis_start)
  [ "$(xp_redis_cli "$port" CONFIG GET hash-max-listpack-entries | sed -n 2p)" = 128 ]
  xp_require_root
  timeout 60 "$TOPO" up small --name "$N" -q
  timeout 60 "$TOPO" start "$N" --redis --master -q
  pass=$(cat "/run/xpro/topo/$N/secret")
  REDISCLI_AUTH=$pass run timeout 5 "$TOPO" exec "$N" px1 redis-cli --user xpro CONFIG GET hash-max-listpack-entries
  assert_output $'hash-max-listpack-entries\n128'
  REDISCLI_AUTH=$pass run timeout 5 "$TOPO" exec "$N" px1 redis-cli --user xpro -h 198.18.10.100 CONFIG GET hash-max-listpack-entries
  assert_output $'hash-max-listpack-entries\n128'
  # both recorded by the PID their pid file holds
  for p in "px1 redis" "db master-redis"; do
    set -- $p
    grep -q "^$(cat "/run/xpro/topo/$N/$1/$2/redis.pid") [0-9]* $1 $2\$" "/run/xpro/topo/$N/pids"
  done
}
