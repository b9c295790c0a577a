#!/usr/bin/env bats
# The test harness itself: namespaces, veths, the address guard, private
# redis-servers, and teardown of everything a suite created.

load lib/xpro

setup() { xp_require_root; }
# alive PID: running (a zombie, killed but not yet reaped by PID 1, is not)
alive() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1; [[ $st != Z* ]]; }
teardown() { xp_dump_on_failure; xp_teardown_all; }

@test "two namespaces joined by a veth pair ping each other, and are removed" {
  a=$(xp_ns_new a)
  b=$(xp_ns_new b)
  xp_veth "$a" e0 "$b" e1
  xp_addr "$a" e0 198.18.250.1/30
  xp_addr "$b" e1 198.18.250.2/30
  run xp_exec "$a" timeout 10 ping -c 3 -W 1 -i 0.2 198.18.250.2
  assert_success
  assert_output --partial "3 received"
  xp_teardown_all
  run ip netns list
  refute_output --partial "$a"
  refute_output --partial "$b"
}

@test "addresses outside 198.18.0.0/15 are refused" {
  a=$(xp_ns_new a)
  b=$(xp_ns_new b)
  xp_veth "$a" e0 "$b" e1
  for bad in 10.0.0.1/24 8.8.8.8/32 198.20.0.1/24 198.17.255.1/24 192.168.1.1/24 127.0.0.2/8 198.18.0.256/24; do
    run xp_addr "$a" e0 "$bad"
    assert_failure
    assert_output --partial "198.18.0.0/15"
  done
  run xp_addr "$a" e0 198.18.0.1/24
  assert_success
  run xp_addr "$a" e0 198.19.255.1/24
  assert_success
  run ip -n "$a" -4 -br addr show e0
  assert_output --partial "198.18.0.1/24"
  refute_output --partial "10.0.0.1"
}

@test "namespaces have no default route" {
  a=$(xp_ns_new a)
  b=$(xp_ns_new b)
  xp_veth "$a" e0 "$b" e1
  xp_addr "$a" e0 198.18.250.5/30
  run ip -n "$a" route show default
  assert_output ""
  run xp_exec "$a" timeout 5 ping -c 1 -W 1 198.20.0.1
  assert_failure
}

@test "a private redis-server starts, serves, and stops by PID" {
  port=$(xp_redis_start)
  run timeout 5 redis-cli -p "$port" SET xpro-harness 42
  assert_output "OK"
  run timeout 5 redis-cli -p "$port" GET xpro-harness
  assert_output "42"
  pid=$(cat "$(readlink -f "$BATS_FILE_TMPDIR/redis-$port")/pid")
  alive "$pid"
  xp_redis_stop "$port"
  run alive "$pid"
  assert_failure
  run timeout 5 redis-cli -p "$port" PING
  refute_output "PONG"
}

@test "a redis-server with a password refuses clients without it" {
  XP_REDIS_PASS=s3cret port=$(XP_REDIS_PASS=s3cret xp_redis_start)
  run timeout 5 redis-cli -p "$port" GET x
  assert_output --partial "NOAUTH"
  run timeout 5 redis-cli --no-auth-warning -a s3cret -p "$port" PING
  assert_output "PONG"
}

@test "teardown removes what a failed test created" {
  # a test body that creates a namespace and a process, then fails
  run bash -c "
    BATS_FILE_TMPDIR='$BATS_FILE_TMPDIR' XP_PREFIX='$XP_PREFIX'
    load() { source \"\$1\"; }
    source '$BATS_TEST_DIRNAME/lib/xpro.bash'
    n=\$(xp_ns_new crashed)
    echo \$n > '$BATS_TEST_TMPDIR/ns'
    xp_spawn sleeper sleep 300 > '$BATS_TEST_TMPDIR/pid'
    exit 3"
  assert_failure 3
  ns=$(cat "$BATS_TEST_TMPDIR/ns")
  pid=$(cat "$BATS_TEST_TMPDIR/pid")
  ip netns list | grep -q "$ns"
  alive "$pid"
  xp_teardown_all
  run ip netns list
  refute_output --partial "$ns"
  run alive "$pid"
  assert_failure
}
