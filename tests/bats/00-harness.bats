#!/usr/bin/env bats
# The test harness itself (lib/xpro.bash): namespaces, veths, the address
# guard, nsenter, private redis-servers, spawned processes, and a teardown
# that removes what a test created even when the test fails. Every address
# is from 198.18.0.0/15; every external command is bounded by timeout.

load lib/xpro

LIB=$BATS_TEST_DIRNAME/lib/xpro.bash

setup() { xp_require_root; }

teardown() {
  xp_dump_on_failure
  xp_teardown_all
  # what the child shells of the trap and nested-bats tests created, should
  # they have failed to remove it themselves
  local n p
  for n in $(cat "$BATS_TEST_TMPDIR"/leak-ns 2>/dev/null); do
    [[ -e /run/netns/$n ]] && timeout 10 ip netns del "$n"
  done
  for n in $(cat "$BATS_TEST_TMPDIR"/pins 2>/dev/null); do
    [[ $n == /run/xpro/bpf/xpt* ]] && rm -rf -- "$n"
  done
  for p in $(cat "$BATS_TEST_TMPDIR"/leak-pid 2>/dev/null); do
    [[ -n $p ]] && kill -9 "$p" 2>/dev/null
  done
  return 0
}

# pstart PID: its start time; alive PID START: that very process still runs
# (a zombie waiting to be reaped by PID 1 has exited)
pstart() { timeout 5 ps -o lstart= -p "$1"; }
alive() {
  local st
  st=$(timeout 5 ps -o stat= -p "$1") || return 1
  [[ $st != Z* && $(pstart "$1") == "$2" ]]
}

# two_ns: a and b, two new namespaces of the test
two_ns() {
  run xp_ns_new a
  a=$output
  run xp_ns_new b
  b=$output
}

# port_listening NS PORT: some socket listens on PORT in NS ("" for the host)
port_listening() {
  if [[ -n $1 ]]; then
    [[ -n $(timeout 5 nsenter --net="/run/netns/$1" ss -Htln "sport = :$2") ]]
  else
    [[ -n $(timeout 5 ss -Htln "sport = :$2") ]]
  fi
}

@test "two namespaces joined by a veth ping each other; teardown leaves no namespace or veth" {
  local i1="xa$$" i2="xb$$"
  run timeout 5 ip -o link show
  refute_output --partial "$i1"
  run xp_ns_new a
  assert_success
  a=$output
  run xp_ns_new b
  assert_success
  b=$output
  run xp_veth "$a" "$i1" "$b" "$i2"
  assert_success
  run xp_addr "$a" "$i1" 198.18.250.1/30
  assert_success
  run xp_addr "$b" "$i2" 198.18.250.2/30
  assert_success
  run xp_exec "$a" timeout 10 ping -c 3 -W 1 -i 0.2 198.18.250.2
  assert_success
  assert_output --partial "3 packets transmitted, 3 received"
  # the veth lives only in the namespaces, never in the host's
  run timeout 5 ip -n "$b" -o link show "$i2"
  assert_success
  run timeout 5 ip -o link show
  refute_output --partial "$i1"
  refute_output --partial "$i2"

  run xp_teardown_all
  assert_success
  run timeout 5 ip netns list
  assert_success
  refute_output --partial "$a"
  refute_output --partial "$b"
  assert_not_exist "/run/netns/$a"
  assert_not_exist "/run/netns/$b"
  run timeout 5 ip -o link show
  refute_output --partial "$i1"
  refute_output --partial "$i2"
  # idempotent
  run xp_teardown_all
  assert_success
}

@test "namespace names are unique and carry the run's prefix" {
  run xp_ns_new same
  assert_success
  n1=$output
  run xp_ns_new same
  assert_success
  n2=$output
  [[ $n1 != "$n2" ]]
  [[ $n1 == "xpt$BATS_ROOT_PID-same-"* && $n2 == "xpt$BATS_ROOT_PID-same-"* ]]
  # lo is up inside
  run timeout 5 ip -n "$n1" -o link show lo
  assert_output --partial "UP"
  run xp_ns_new "bad name"
  assert_failure
}

@test "the bpffs of the pins is root's alone (mode 0700), set again by deps.sh if it was changed" {
  d=${XPRO_BPFFS:-/run/xpro/bpf}
  [ "$(stat -f -c %T "$d")" = bpf_fs ]
  [ "$(stat -c %a "$d")" = 700 ]
  chmod 0755 "$d"
  run bash scripts/deps.sh
  [ "$(stat -c %a "$d")" = 700 ] || { chmod 0700 "$d"; false; }
}

@test "xp_in_testbed accepts 198.18.0.0/15 only" {
  for good in 198.18.0.1 198.18.0.1/24 198.19.255.1/24 198.18.0.0/15 198.19.255.255/32 198.18.0.0; do
    run xp_in_testbed "$good"
    assert_success
  done
  for bad in 10.0.0.1/24 8.8.8.8/32 198.20.0.1/24 198.17.255.255 198.17.255.1/24 127.0.0.1 \
             192.168.1.1/24 198.18.0.256/24 198.018.0.1/24 198.18.0 198.18.0.1.1 "" \
             198.18.0.1/8 198.18.0.1/14 198.18.0.1/33 198.18.0.1/ 198.18.0.1/024 \
             2001:db8::1/64 ::ffff:198.18.0.1 localhost " 198.18.0.1"; do
    run xp_in_testbed "$bad"
    assert_failure
  done
}

@test "xp_addr refuses addresses outside 198.18.0.0/15 and assigns those inside" {
  two_ns
  run xp_veth "$a" e0 "$b" e1
  assert_success
  for bad in 10.0.0.1/24 8.8.8.8/32 198.20.0.1/24 198.17.255.1/24 198.18.0.1/8; do
    run xp_addr "$a" e0 "$bad"
    assert_failure
    assert_output --partial "198.18.0.0/15"
  done
  run xp_addr "$a" e0 198.18.0.1/24
  assert_success
  run xp_addr "$a" e0 198.19.255.1/24
  assert_success
  run timeout 5 ip -n "$a" -4 -o addr show dev e0
  assert_success
  assert_output --partial "inet 198.18.0.1/24"
  assert_output --partial "inet 198.19.255.1/24"
  refute_output --partial "10.0.0.1"
  refute_output --partial "8.8.8.8"
  refute_output --partial "198.20.0.1"
  refute_output --partial "198.17.255.1"
  refute_output --partial "/8"
}

@test "no namespace has a default route after setup" {
  for r in d p v; do
    run xp_ns_new "$r"
    assert_success
    eval "$r=\$output"
  done
  run xp_veth "$d" e0 "$p" in0
  assert_success
  run xp_veth "$p" out0 "$v" e0
  assert_success
  xp_addr "$d" e0 198.18.10.2/24
  xp_addr "$p" in0 198.18.10.1/24
  xp_addr "$p" out0 198.18.11.1/24
  xp_addr "$v" e0 198.18.11.2/24
  for n in "$d" "$p" "$v"; do
    run timeout 5 ip -n "$n" -4 route show default
    assert_success
    assert_output ""
    run timeout 5 ip -n "$n" -6 route show default
    assert_success
    assert_output ""
  done
  # a testbed address on no connected subnet is unreachable: nothing is sent
  run xp_exec "$d" timeout 5 ping -c 1 -W 1 198.19.200.1
  assert_failure
  assert_output --partial "unreachable"
}

@test "xp_veth creates the queues and MTU asked for, and refuses bad arguments" {
  two_ns
  run xp_veth "$a" in0 "$b" out0 --queues 2 --mtu 9000
  assert_success
  for end in "$a in0" "$b out0"; do
    read -r n i <<< "$end"
    run timeout 5 ip -n "$n" -d link show "$i"
    assert_success
    assert_output --partial "mtu 9000"
    assert_output --partial "state UP"
    assert_output --partial "numtxqueues 2 numrxqueues 2"
  done
  run xp_veth "$a" x0 "$b" x1 --queues 0
  assert_failure
  run xp_veth "$a" x0 "$b" x1 --mtu big
  assert_failure
  run xp_veth "$a" name-longer-than-15 "$b" x1
  assert_failure
  run xp_veth "$a" x0 no-such-namespace x1
  assert_failure
  run timeout 5 ip -n "$a" -o link show
  refute_output --partial "x0"
}

@test "xp_pair, xp_link, xp_proxy_path, xp_conf and xp_alive do what they say, and refuse what they should" {
  # two new namespaces, linked, an address at each end: they ping each other
  xp_pair A a e0 198.18.20.1/24 B b e1 198.18.20.2/24
  [[ $A == "$XP_PREFIX"-a-* && $B == "$XP_PREFIX"-b-* ]]
  run timeout 5 ip -n "$B" -4 -o addr show dev e1
  assert_output --partial "inet 198.18.20.2/24"
  run xp_exec "$A" timeout 10 ping -c 1 -W 1 198.18.20.2
  assert_success
  # an address outside the testbed: refused by name, the veth is not addressed
  run xp_link "$A" x0 10.0.0.1/24 "$B" x1 198.18.21.2/24
  assert_failure
  assert_output --partial "198.18.0.0/15"
  run timeout 5 ip -n "$A" -4 -o addr show dev x0
  assert_output ""
  run xp_pair C c e0 198.18.22.1/24
  assert_failure
  assert_output --partial "usage: xp_pair"
  # one proxy's path: the device reaches the victim through the proxy
  xp_proxy_path t d0 v0
  [[ $DEV == "$XP_PREFIX"-tdev-* && $PX == "$XP_PREFIX"-tpx-* && $VIC == "$XP_PREFIX"-tvic-* ]]
  run xp_exec "$DEV" timeout 10 ping -c 1 -W 1 198.18.1.2
  assert_success
  run xp_exec "$PX" sysctl -n net.ipv4.ip_forward
  assert_output "1"
  run xp_exec "$VIC" timeout 5 ip -o route get 198.18.0.2
  assert_output --partial "via 198.18.1.1"
  # xp_conf: one "key = value" line an argument, the first = splits
  xp_conf "$BATS_TEST_TMPDIR/x.conf" tf1=50 state_dir=/run/x=y
  run cat "$BATS_TEST_TMPDIR/x.conf"
  assert_output $'tf1 = 50\nstate_dir = /run/x=y'
  run xp_conf "$BATS_TEST_TMPDIR/x.conf" tf1
  assert_failure
  # xp_alive: this shell runs; with a wrong start time it is not the same process
  xp_alive $$
  read -r -a f <<< "$(sed 's/.*) //' /proc/$$/stat)"
  xp_alive $$ "${f[19]}"
  run xp_alive $$ "$((f[19] + 1))"
  assert_failure
}

@test "xp_exec runs in the namespace and the project's bpffs stays visible" {
  two_ns
  run xp_veth "$a" probe0 "$b" probe1
  assert_success
  run xp_exec "$a" timeout 5 ip -o link show
  assert_success
  assert_output --partial "probe0"
  refute_output --partial "probe1"
  run xp_exec "$a" timeout 5 readlink /proc/self/ns/net
  assert_success
  [[ $output == "$(timeout 5 ip netns exec "$a" readlink /proc/self/ns/net)" ]]
  [[ $output != "$(readlink /proc/self/ns/net)" ]]
  run xp_exec "$a" timeout 5 stat -f -c %T /run/xpro/bpf
  assert_success
  assert_output "bpf_fs"
  run xp_exec no-such-namespace true
  assert_failure
}

@test "a private redis-server serves PING, SET and GET; after xp_redis_stop its PID is gone and the port is free" {
  run xp_redis_start
  assert_success
  port=$output
  [[ $port =~ ^[0-9]+$ && $port -ne 6379 ]]
  run xp_redis_pid "$port"
  assert_success
  pid=$output
  start=$(pstart "$pid")
  alive "$pid" "$start"
  run timeout 5 redis-cli -p "$port" PING
  assert_success
  assert_output "PONG"
  run timeout 5 redis-cli -p "$port" SET xpro-harness 42
  assert_output "OK"
  run timeout 5 redis-cli -p "$port" GET xpro-harness
  assert_output "42"
  # listening on the host's loopback only, files in the test's temp folder
  run timeout 5 ss -Htln "sport = :$port"
  assert_output --partial "127.0.0.1:$port"
  run timeout 5 readlink "/proc/$pid/cwd"
  assert_output --regexp "^$BATS_FILE_TMPDIR/"

  run xp_redis_stop "$port"
  assert_success
  run alive "$pid" "$start"
  assert_failure
  run port_listening "" "$port"
  assert_failure
  run timeout 5 redis-cli -p "$port" PING
  refute_output "PONG"
  run xp_redis_stop "$port"
  assert_failure
}

@test "a redis-server in a namespace, bound to a testbed address, serves the peer namespace" {
  run xp_ns_new cli
  c=$output
  run xp_ns_new srv
  s=$output
  run xp_veth "$c" e0 "$s" e1
  assert_success
  xp_addr "$c" e0 198.18.20.1/24
  xp_addr "$s" e1 198.18.20.2/24
  run xp_redis_start "$s" 198.18.20.2
  assert_success
  port=$output
  run xp_redis_pid "$port"
  pid=$output
  run timeout 5 ip netns identify "$pid"
  assert_output "$s"
  run xp_exec "$c" timeout 5 redis-cli -h 198.18.20.2 -p "$port" PING
  assert_success
  assert_output "PONG"
  run xp_redis_cli "$port" SET k v
  assert_output "OK"
  run xp_exec "$c" timeout 5 redis-cli -h 198.18.20.2 -p "$port" GET k
  assert_output "v"
  run port_listening "$c" "$port"
  assert_failure
  # binding outside the testbed, or to a testbed address in the host, is refused
  run xp_redis_start "$s" 10.0.0.1
  assert_failure
  assert_output --partial "198.18.0.0/15"
  run xp_redis_start "" 198.18.20.3
  assert_failure
}

@test "a redis-server with XP_REDIS_PASS refuses clients without the password" {
  XP_REDIS_PASS=s3cret-pass
  run xp_redis_start
  assert_success
  port=$output
  unset XP_REDIS_PASS
  run timeout 5 redis-cli -p "$port" GET x
  assert_output --partial "NOAUTH"
  REDISCLI_AUTH=wrong run timeout 5 redis-cli --no-auth-warning -p "$port" PING
  refute_output "PONG"
  REDISCLI_AUTH=s3cret-pass run timeout 5 redis-cli --no-auth-warning -p "$port" PING
  assert_output "PONG"
}

@test "a redis-server with XP_REDIS_USER/XP_REDIS_PASS admits only that ACL user" {
  XP_REDIS_USER=xpro XP_REDIS_PASS=acl-pass
  run xp_redis_start
  assert_success
  port=$output
  run xp_redis_cli "$port" SET k 1
  assert_output "OK"
  unset XP_REDIS_USER XP_REDIS_PASS
  run timeout 5 redis-cli -p "$port" GET k
  assert_output --partial "NOAUTH"
  REDISCLI_AUTH=acl-pass run timeout 5 redis-cli --no-auth-warning -p "$port" PING
  refute_output "PONG"
  REDISCLI_AUTH=wrong run timeout 5 redis-cli --no-auth-warning --user xpro -p "$port" PING
  refute_output "PONG"
  REDISCLI_AUTH=acl-pass run timeout 5 redis-cli --no-auth-warning --user xpro -p "$port" GET k
  assert_output "1"
  XP_REDIS_USER=xpro
  run xp_redis_start
  assert_failure
  assert_output --partial "XP_REDIS_PASS"
}

@test "xp_spawn logs a process and teardown kills it and its children" {
  run xp_spawn sleeper sh -c 'echo started; sleep 300 & echo "child=$!"; wait'
  assert_success
  pid=$output
  echo "$pid" >> "$BATS_TEST_TMPDIR/leak-pid"
  start=$(pstart "$pid")
  run xp_log_of "$pid"
  assert_success
  log=$output
  for _ in $(seq 1 50); do grep -q '^child=' "$log" && break; sleep 0.1; done
  run cat "$log"
  assert_line "started"
  assert_line --regexp '^child=[0-9]+$'
  child=$(sed -n 's/^child=//p' "$log")
  echo "$child" >> "$BATS_TEST_TMPDIR/leak-pid"
  cstart=$(pstart "$child")
  alive "$child" "$cstart"

  run xp_teardown_all
  assert_success
  run alive "$pid" "$start"
  assert_failure
  run alive "$child" "$cstart"
  assert_failure
  # a shell function cannot be killed by PID: refused
  run xp_spawn f xp_exec x sleep 1
  assert_failure
}

@test "xp_spawn --ns runs the process in that namespace" {
  run xp_ns_new a
  a=$output
  run xp_spawn --ns "$a" sleeper sleep 300
  assert_success
  pid=$output
  echo "$pid" >> "$BATS_TEST_TMPDIR/leak-pid"
  start=$(pstart "$pid")
  run timeout 5 ip netns identify "$pid"
  assert_output "$a"
  run xp_teardown_all
  assert_success
  run alive "$pid" "$start"
  assert_failure
  assert_not_exist "/run/netns/$a"
}

@test "the helpers work as plain statements under bats' set -e, as suites call them" {
  a=$(xp_ns_new plain-a)
  b=$(xp_ns_new plain-b)
  xp_veth "$a" e0 "$b" e1 --queues 2
  xp_addr "$a" e0 198.18.30.1/24
  xp_addr "$b" e1 198.18.30.2/24
  xp_exec "$a" timeout 10 ping -c 1 -W 1 198.18.30.2 > /dev/null
  port=$(xp_redis_start "$b" 198.18.30.2)
  [[ $(xp_redis_cli "$port" PING) == PONG ]]
  pid=$(xp_spawn --ns "$a" sleeper sleep 300)
  [[ -f $(xp_log_of "$pid") ]]
  xp_redis_stop "$port"
  xp_dump_on_failure 2> "$BATS_TEST_TMPDIR/dump"
  grep -q "== netns $a" "$BATS_TEST_TMPDIR/dump"
  xp_teardown_all
  xp_teardown_all
  [[ ! -e /run/netns/$a && ! -e /run/netns/$b ]]
}

@test "xp_skip_unless_kernel_feature passes present features and names a missing one" {
  run xp_skip_unless_kernel_feature netns veth bpf btf xdp prog_type:xdp map_type:hash CONFIG_NET_NS
  assert_success
  assert_output ""
  # inside run the skip ends only the subshell; its reason is printed
  run xp_skip_unless_kernel_feature netns CONFIG_XPRO_NO_SUCH_OPTION
  assert_success
  assert_output --partial "lacks CONFIG_XPRO_NO_SUCH_OPTION"
  run xp_skip_unless_kernel_feature no-such-feature
  assert_failure
  assert_output --partial "unknown feature"
}

# the body of a test that fails half-way: a namespace, a process, exit 3
crashing_body() {
  local n p
  n=$(xp_ns_new crashed) || return 1
  echo "$n" > "$BATS_TEST_TMPDIR/ns"
  p=$(xp_spawn sleeper sleep 300) || return 1
  echo "$p" >> "$BATS_TEST_TMPDIR/leak-pid"
  echo "$p $(pstart "$p")" > "$BATS_TEST_TMPDIR/pid"
  exit 3
}

@test "xp_teardown_all removes what a failed subshell created" {
  run crashing_body
  assert_failure 3
  ns=$(cat "$BATS_TEST_TMPDIR/ns")
  read -r pid start < "$BATS_TEST_TMPDIR/pid"
  assert_exist "/run/netns/$ns"
  alive "$pid" "$start"
  run xp_teardown_all
  assert_success
  run timeout 5 ip netns list
  refute_output --partial "$ns"
  run alive "$pid" "$start"
  assert_failure
}

@test "outside bats, xp_trap_exit removes what a script created when it exits with an error" {
  local d=$BATS_TEST_TMPDIR
  run timeout 60 env -u BATS_FILE_TMPDIR -u BATS_TEST_TMPDIR -u BATS_ROOT_PID -u XP_DIR \
    bash -c "
      source '$LIB'
      xp_trap_exit
      echo \"\$XP_DIR\" > '$d/xpdir'
      n=\$(xp_ns_new script) || exit 1
      echo \"\$n\" >> '$d/leak-ns'
      p=\$(xp_spawn sleeper sleep 300) || exit 1
      echo \"\$p\" >> '$d/leak-pid'
      echo \"\$p \$(ps -o lstart= -p \$p)\" > '$d/pid'
      exit 4"
  assert_failure 4
  ns=$(cat "$d/leak-ns")
  read -r pid start < "$d/pid"
  [[ $ns == xpt*-script-* ]]
  assert_not_exist "/run/netns/$ns"
  run alive "$pid" "$start"
  assert_failure
  assert_not_exist "$(cat "$d/xpdir")"
}

@test "a failing test dumps its namespaces, maps and logs, and its teardown still cleans up" {
  local d=$BATS_TEST_TMPDIR at=@ # not "@test" at a line start: bats would take it
  cat > "$d/fails.bats" <<EOF
load '$BATS_TEST_DIRNAME/lib/xpro'
teardown() { xp_dump_on_failure; xp_teardown_all; }
${at}test "fails on purpose" {
  n=\$(xp_ns_new dumped)
  echo "\$n" >> '$d/leak-ns'
  xp_addr "\$n" lo 198.18.77.1/32
  mkdir "/run/xpro/bpf/\$n"
  xp_pin_dir_register "/run/xpro/bpf/\$n"
  echo "/run/xpro/bpf/\$n" > '$d/pins'
  timeout 10 bpftool map create "/run/xpro/bpf/\$n/xpt_map" type hash key 4 value 4 entries 8 name xpt_map
  timeout 10 bpftool map update pinned "/run/xpro/bpf/\$n/xpt_map" key 7 0 0 0 value 42 0 0 0
  p=\$(xp_spawn talker sh -c 'echo marker-line-xyz; exec sleep 300')
  echo "\$p" >> '$d/leak-pid'
  echo "\$p \$(ps -o lstart= -p \$p)" > '$d/pid'
  for _ in \$(seq 1 50); do grep -q marker "\$(xp_log_of \$p)" && break; sleep 0.1; done
  false
}
EOF
  run timeout 120 bats --tap "$d/fails.bats"
  assert_failure 1
  assert_line "not ok 1 fails on purpose"
  ns=$(cat "$d/leak-ns")
  pins=$(cat "$d/pins")
  read -r pid start < "$d/pid"
  assert_output --partial "== netns $ns"
  assert_output --partial "inet 198.18.77.1/32"
  assert_output --partial "== map $pins/xpt_map"
  assert_output --regexp "key: 07 00 00 00 +value: 2a 00 00 00"
  assert_output --partial "marker-line-xyz"
  assert_not_exist "/run/netns/$ns"
  assert_not_exist "$pins"
  run alive "$pid" "$start"
  assert_failure
}
