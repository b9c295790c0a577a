#!/usr/bin/env bats
# Testbed topologies (topo/README.md): xpro-topo builds `default` (3 proxies,
# 2 victims, devices, bots, master) as named namespaces, checks what an XDP
# redirect needs, starts its services, and tears everything down from the
# run's name, even after a killed build; two runs side by side; the same
# topology under Mininet. Self-contained: every run this file creates has a
# name starting with t30-PID and is torn down in teardown, even on failure.
# Every command is bounded by timeout.

for _l in bats-support bats-assert; do
  load "/usr/lib/bats/$_l/load.bash"
done
unset _l

B=${XPRO_BUILD:-build}
TOPO=topo/xpro-topo
MN=topo/mininet/xpro_topo.py
export XPRO=$B/bin/xpro XPRO_TOPO_PROBE=$B/bin/xpro-topo-probe XPRO_TOPO_PING=$B/bin/xpro-topo-ping
UDP=$B/tests/tools/xpt-udp
PING=$B/bin/xpro-topo-ping

setup_file() {
  [[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces, BPF)"
  for f in "$XPRO" "$XPRO_TOPO_PROBE" "$XPRO_TOPO_PING"; do
    [[ -x $f ]] || { echo "missing $f: run make build" >&3; return 1; }
  done
  export RUN_PREFIX="t30-$$"
  # the host's own namespace before anything: nothing may be added to it
  ip -o link show | awk -F': ' '{print $2}' | sort > "$BATS_FILE_TMPDIR/root-links"
  echo "$RUN_PREFIX" > "$BATS_FILE_TMPDIR/prefix"
}

teardown_file() {
  local n
  for n in $(cat "$BATS_FILE_TMPDIR/runs" 2>/dev/null | sort -u); do
    timeout 30 "$TOPO" down "$n" -q >/dev/null 2>&1 || true
  done
  if [[ -s $BATS_FILE_TMPDIR/timings ]]; then
    sed 's/^/# /' "$BATS_FILE_TMPDIR/timings" >&3
  fi
}

setup() { [[ $(id -u) -eq 0 ]] || skip "needs root"; RUN_PREFIX=$(cat "$BATS_FILE_TMPDIR/prefix"); }

teardown() {
  local n
  # runs this test created: down them even when the test failed
  for n in $(cat "$BATS_TEST_TMPDIR/runs" 2>/dev/null | sort -u); do
    timeout 30 "$TOPO" down "$n" -q >/dev/null 2>&1 || true
  done
  [[ -n ${MN_PID:-} ]] && kill "$MN_PID" 2>/dev/null
  return 0
}

# track NAME: the run is torn down at the end of the test and of the file
track() { echo "$1" >> "$BATS_TEST_TMPDIR/runs"; echo "$1" >> "$BATS_FILE_TMPDIR/runs"; }

topo() { timeout 60 "$TOPO" "$@"; }

# alive PID [STARTTIME]: a live process (not a zombie), same start time if given
load lib/proc
alive() { xp_alive "$@"; }

ms_since() { local t=${EPOCHREALTIME/./}; echo $(( (t - $1) / 1000 )); }
now_us() { echo "${EPOCHREALTIME/./}"; }

# nothing of run NAME is left: namespaces, state, pins, processes of PIDFILE
assert_gone() {
  local name=$1 pidfile=${2:-}
  run ip netns list
  refute_output --partial "xt-$name-"
  [ ! -e "/run/xpro/topo/$name" ]
  run ls /run/xpro/bpf
  refute_output --partial "xt-$name-"
  if [[ -n $pidfile ]]; then
    local pid st h w
    while read -r pid st h w; do
      if alive "$pid" "$st"; then echo "process $pid ($w on $h) still alive"; return 1; fi
    done < "$pidfile"
  fi
  # the host's namespace has the links it had before the suite
  ip -o link show | awk -F': ' '{print $2}' | sort > "$BATS_TEST_TMPDIR/links-now"
  run diff "$BATS_FILE_TMPDIR/root-links" "$BATS_TEST_TMPDIR/links-now"
  assert_success
}

# ping SRC_HOST DST_ADDR in run NAME: one bounded echo
tping() { timeout 5 "$TOPO" exec "$1" "$2" "$PING" -q -c 1 -W 1 "$3"; }

@test "up default builds 9 named namespaces and passes its checks (time measured)" {
  local n=$RUN_PREFIX-a t0 ms
  track "$n"
  t0=$(now_us)
  run topo up default --name "$n"
  ms=$(ms_since "$t0")
  echo "xpro-topo up default: $ms ms wall" >> "$BATS_FILE_TMPDIR/timings"
  assert_success
  assert_output --partial "checks passed"
  run ip netns list
  for h in core px1 px2 px3 dev bot vic1 vic2 db; do
    assert_output --partial "xt-$n-$h"
  done
  [ "$(ip netns list | grep -c "^xt-$n-")" -eq 9 ]
  run topo list
  assert_output --regexp "$n +up +default +8 "
  # the plan: default's addresses, one namespace per host
  [ "$(topo addr "$n" px2 in0)" = 198.18.0.2 ]
  [ "$(topo addr "$n" px3 out0)" = 198.18.1.3 ]
  [ "$(topo addr "$n" vic2)" = 198.18.1.102 ]
  [ "$(topo addr "$n" db)" = 198.18.2.100 ]
  # a second up under the same name is refused and changes nothing
  run topo up default --name "$n"
  assert_failure
  assert_output --partial "exists"
  [ "$(ip netns list | grep -c "^xt-$n-")" -eq 9 ]
}

@test "every device and bot reaches every proxy; every proxy every victim and the master; nothing more" {
  local n=$RUN_PREFIX-b c p v a
  track "$n"
  topo up default --name "$n" -q
  for c in dev bot; do
    for p in px1 px2 px3; do
      a=$(topo addr "$n" "$p" in0)
      run tping "$n" "$c" "$a"
      assert_success
      assert_output --partial "1 transmitted, 1 received"
    done
  done
  for p in px1 px2 px3; do
    for v in vic1 vic2 db; do
      a=$(topo addr "$n" "$v")
      run tping "$n" "$p" "$a"
      assert_success
      assert_output --partial "1 transmitted, 1 received"
    done
  done
  # replies from the victims come back through a proxy to the devices' range
  run timeout 5 "$TOPO" exec "$n" vic2 ip route get 198.18.16.7
  assert_output --partial "via 198.18.1.2"
  # the master is not reachable from devices and bots; nothing outside the testbed is
  run tping "$n" dev 198.18.2.100
  assert_failure
  run tping "$n" bot 198.18.2.100
  assert_failure
  for h in core px1 px2 px3 dev bot vic1 vic2 db; do
    run ip -n "xt-$n-$h" route show table all default
    assert_output ""
    run ip -n "xt-$n-$h" -4 -o addr show
    refute_output --regexp "inet (10|172|192\.168|198\.20)\."
  done
  run timeout 5 "$TOPO" exec "$n" dev "$PING" -c 1 -W 1 198.19.200.1
  assert_failure
  # check --ping runs the same 15-pair mesh, over IPv4 and IPv6 (default says ipv6 on)
  run topo check "$n" --ping
  assert_success
  assert_output --partial "mesh pings: 30/30 answered"
}

@test "ipv6 on: every host has 2001:db8::+its IPv4 address, no IPv6 default route, the IPv6 routes mirror IPv4's" {
  local n=$RUN_PREFIX-v h want got
  track "$n"
  topo up default --name "$n" -q
  # worked by hand from default.topo: a.b.c.d -> 2001:db8::(a.b):(c.d) in hex, /(96+24)
  local -A want6=(
    [px1]="in0 2001:db8::c612:1/120|out0 2001:db8::c612:101/120|db0 2001:db8::c612:201/120"
    [px2]="in0 2001:db8::c612:2/120|out0 2001:db8::c612:102/120|db0 2001:db8::c612:202/120"
    [px3]="in0 2001:db8::c612:3/120|out0 2001:db8::c612:103/120|db0 2001:db8::c612:203/120"
    [dev]="eth0 2001:db8::c612:64/120" [bot]="eth0 2001:db8::c612:c8/120"
    [vic1]="eth0 2001:db8::c612:165/120" [vic2]="eth0 2001:db8::c612:166/120" [db]="eth0 2001:db8::c612:264/120")
  for h in "${!want6[@]}"; do
    want=$(tr '|' '\n' <<< "${want6[$h]}" | sort)
    got=$(ip -n "xt-$n-$h" -o -6 addr show scope global | awk '{print $2, $4}' | sort)
    if [[ $got != "$want" ]]; then echo "$h: global IPv6 [$got], want [$want]"; return 1; fi
    # static, not tentative; besides them only ::1 on lo and link-local fe80::
    run ip -n "xt-$n-$h" -o -6 addr show
    refute_output --partial tentative
    run bash -c "ip -n xt-$n-$h -o -6 addr show | awk '{print \$2, \$4}' | grep -vE '^lo ::1/128\$| fe80::' | grep -v ' 2001:db8:'"
    assert_output ""
    run ip -n "xt-$n-$h" -6 route show table all default
    assert_output ""
    # no SLAAC, no router advertisements taken
    [ "$(ip netns exec "xt-$n-$h" sysctl -n net.ipv6.conf.all.accept_ra net.ipv6.conf.default.autoconf)" = $'0\n0' ]
  done
  # the bridges' namespace has no IPv6 at all
  run ip -n "xt-$n-core" -o -6 addr show
  assert_output ""
  [ "$(topo addr "$n" vic2 -6)" = 2001:db8::c612:166 ]
  [ "$(topo addr "$n" px3 out0 -6)" = 2001:db8::c612:103 ]
  run topo show "$n"
  assert_output --regexp "vic1 +victim .* 198\.18\.1\.101/24 .* 2001:db8::c612:165/120"
  assert_output --partial "# range6 dev 2001:db8::c612:1000/116"
  # the routes mirror IPv4's: proxies route the ranges to their hosts, victims
  # route replies via their proxy, devices and bots reach the victims via px1
  run ip -n "xt-$n-px2" -6 route show 2001:db8::c612:2000/116
  assert_output --partial "via 2001:db8::c612:c8 dev in0"
  run ip -n "xt-$n-vic2" -6 route get 2001:db8::c612:1007
  assert_output --partial "via 2001:db8::c612:102"
  run ip -n "xt-$n-dev" -6 route get 2001:db8::c612:166
  assert_output --partial "via 2001:db8::c612:1"
  run ip -n "xt-$n-dev" -6 route show table local type local 2001:db8::c612:1000/116
  assert_output --partial "2001:db8::c612:1000/116 dev lo"
  for h in px1 px2 px3; do
    [ "$(ip netns exec "xt-$n-$h" sysctl -n net.ipv6.conf.all.forwarding)" = 1 ]
    run ip -n "xt-$n-$h" -6 neigh show dev out0
    assert_output --regexp "2001:db8::c612:166 lladdr 02:58:c6:12:01:66 .*managed"
  done
  # the devices reach both victims over IPv6 through a proxy's kernel forwarding
  # (no XDP attached), vic2's reply coming back through px2
  for h in 2001:db8::c612:165 2001:db8::c612:166; do
    run tping "$n" dev "$h"
    assert_success
    assert_output --partial "1 transmitted, 1 received"
  done
  # an address of the device range as a source (nonlocal bind, a local route): a
  # UDP datagram to vic2 and its echo back
  timeout 10 "$TOPO" exec "$n" vic2 /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("2001:db8::c612:166", 7777)); s.settimeout(5)
d, a = s.recvfrom(100); s.sendto(d, a); print(a[0])' > "$BATS_TEST_TMPDIR/vic.out" &
  local vpid=$!
  sleep 0.3
  run timeout 10 "$TOPO" exec "$n" dev /usr/bin/python3 -c '
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.bind(("2001:db8::c612:1007", 0)); s.settimeout(3)
s.sendto(b"t30", ("2001:db8::c612:166", 7777)); print(s.recvfrom(100)[0].decode())'
  wait "$vpid"
  assert_output "t30"
  [ "$(cat "$BATS_TEST_TMPDIR/vic.out")" = 2001:db8::c612:1007 ]
  # and nothing outside the prefix is ever pinged
  run timeout 5 "$TOPO" exec "$n" dev "$PING" -c 1 -W 1 2001:db9::1
  [ "$status" -eq 2 ]
  assert_output --partial "outside the testbed range 2001:db8::/32"
  # the check sees an address outside the prefix
  ip -n "xt-$n-bot" addr add fd00::1/64 dev eth0 nodad
  run topo check "$n"
  assert_failure
  assert_output --partial "xt-$n-bot: IPv6 address fd00::1/64 on eth0 is outside 2001:db8::/32"
}

@test "ipv6 off: no IPv6 address anywhere, the IPv4 mesh alone" {
  local n=$RUN_PREFIX-w h off=$BATS_TEST_TMPDIR/off.topo
  track "$n"
  sed 's/^ipv6 on.*/ipv6 off/' topo/topologies/default.topo > "$off"
  grep -qx 'ipv6 off' "$off"
  topo up "$off" --name "$n" -q
  for h in core px1 px2 px3 dev bot vic1 vic2 db; do
    run ip -n "xt-$n-$h" -o -6 addr show
    assert_output ""
  done
  run topo addr "$n" dev -6
  assert_failure
  assert_output --partial "ipv6 off"
  run topo show "$n"
  assert_output --regexp "dev +device .* 198\.18\.0\.100/24 .* 02:58:c6:12:00:64 +-"
  refute_output --partial "2001:db8"
  run topo check "$n" --ping
  assert_success
  assert_output --partial "mesh pings: 15/15 answered"
}

@test "the build gives every redirect target's peer a NAPI, matching queues, MTU, managed victims" {
  local n=$RUN_PREFIX-c p i
  track "$n"
  topo up default --name "$n" -q
  for p in px1 px2 px3; do
    for i in in0 out0 db0; do
      # the bridge-side end of each proxy interface: GRO on, a NAPI registered
      run timeout 5 "$TOPO" exec "$n" core ethtool -k "$p.$i"
      assert_output --partial "generic-receive-offload: on"
      run timeout 5 "$TOPO" exec "$n" core "$XPRO_TOPO_PROBE" --require-napi "$p.$i"
      assert_success
      if [[ $output == *"napi=unknown"* ]]; then
        # no NAPI information (Linux < 6.8, XPRO_FORCE_MISSING=napi): skipped, said
        assert_output --partial "skipped: the"
      else
        assert_output --regexp "napi=[1-9]"
      fi
      # both ends: 2 rx and 2 tx queues, MTU 1500
      run ip -n "xt-$n-$p" -d link show "$i"
      assert_output --partial "mtu 1500"
      assert_output --partial "numtxqueues 2 numrxqueues 2"
      run ip -n "xt-$n-core" -d link show "$p.$i"
      assert_output --partial "numtxqueues 2 numrxqueues 2"
    done
    # the proxy's interfaces can receive XDP redirects
    run timeout 5 "$TOPO" exec "$n" "$p" "$XPRO_TOPO_PROBE" --require-ndo-xmit in0 out0 db0
    assert_success
    if [[ $output == *"xdp=unknown"* ]]; then
      # no netdev family (Linux < 6.3, XPRO_FORCE_MISSING=netdev): skipped, said
      assert_output --partial "skipped: the XDP features"
    else
      [ "$(grep -c 'ndo-xmit' <<< "$output")" -eq 3 ]
    fi
    # managed, resolved neighbour entries for both victims
    run ip -n "xt-$n-$p" neigh show dev out0
    assert_output --regexp "198\.18\.1\.101 lladdr 02:58:c6:12:01:65 .*managed"
    assert_output --regexp "198\.18\.1\.102 lladdr 02:58:c6:12:01:66 .*managed"
    run timeout 5 "$TOPO" exec "$n" "$p" sysctl -n net.ipv4.ip_forward
    assert_output "1"
  done
  # devices hold static entries for every proxy's ingress
  run ip -n "xt-$n-dev" neigh show dev eth0
  assert_output --partial "198.18.0.3 lladdr 02:58:c6:12:00:03 PERMANENT"
  # the check notices a peer without a NAPI: GRO off on one bridge port
  timeout 5 "$TOPO" exec "$n" core ethtool -K px2.out0 gro off
  run topo check "$n"
  assert_failure
  assert_output --partial "px2.out0"
  timeout 5 "$TOPO" exec "$n" core ethtool -K px2.out0 gro on
  run topo check "$n"
  assert_success
}

@test "start: redis per proxy, master with auth, xpro on each proxy; tunnel traffic is redirected to every victim" {
  local n=$RUN_PREFIX-d p v pa va out pass
  [[ -x $UDP ]] || { echo "missing $UDP: run make build"; return 1; }
  track "$n"
  topo up default --name "$n" -q
  run topo start "$n"
  assert_success
  assert_output --partial "master-redis on db"
  # 4 recorded processes, all alive; redis wrote the PID that was recorded
  [ "$(wc -l < "/run/xpro/topo/$n/pids")" -eq 4 ]
  while read -r pid st h w; do
    alive "$pid" "$st"
    [ "$(cat "/run/xpro/topo/$n/$h/$w/redis.pid")" = "$pid" ]
  done < "/run/xpro/topo/$n/pids"
  pass=$(cat "/run/xpro/topo/$n/secret")
  # master: refuses anonymous clients, serves the xpro user to every proxy
  run timeout 5 "$TOPO" exec "$n" px1 redis-cli -h 198.18.2.100 PING
  assert_output --partial "NOAUTH"
  REDISCLI_AUTH=$pass run timeout 5 "$TOPO" exec "$n" px1 redis-cli -h 198.18.2.100 --user xpro --no-auth-warning SET t30 42
  assert_output "OK"
  REDISCLI_AUTH=$pass run timeout 5 "$TOPO" exec "$n" px3 redis-cli -h 198.18.2.100 --user xpro --no-auth-warning GET t30
  assert_output "42"
  for p in px1 px2 px3; do
    # each proxy's own redis on its loopback: a separate instance
    REDISCLI_AUTH=$pass run timeout 5 "$TOPO" exec "$n" "$p" redis-cli --user xpro --no-auth-warning GET t30
    assert_output ""
    run timeout 5 "$TOPO" exec "$n" "$p" "$XPRO" status -i in0 -c "/run/xpro/topo/$n/$p/xpro.conf"
    assert_success
    assert_output --partial "attached"
    [ -d "/run/xpro/bpf/xt-$n-$p/in0" ]
    grep -qx "state_dir = /run/xpro/topo/$n/$p/xpro" "/run/xpro/topo/$n/$p/xpro.conf"
  done
  # tunnel traffic from the devices' range through every proxy to every victim:
  # decapsulated, redirected by XDP (not passed to the kernel), answered
  for p in px1 px2 px3; do
    for v in vic1 vic2; do
      pa=$(topo addr "$n" "$p" in0); va=$(topo addr "$n" "$v")
      timeout 20 "$TOPO" exec "$n" "$v" "$UDP" echo --port 7 --duration 2 --reply > "$BATS_TEST_TMPDIR/echo.json" &
      local epid=$!
      sleep 0.3
      run timeout 20 "$TOPO" exec "$n" dev "$UDP" send --proxy "$pa" --dst "$va" --dport 7 \
          --count 10 --interval-us 10000 --wait-ms 500 --bind 198.18.16.77
      wait "$epid"
      assert_output '{"sent":10,"replies":10}'
      [ "$(jq -r '.sources["198.18.16.77"]' "$BATS_TEST_TMPDIR/echo.json")" = 10 ]
    done
    out=$(timeout 10 "$TOPO" exec "$n" "$p" "$XPRO" stats -i in0 -c "/run/xpro/topo/$n/$p/xpro.conf" --json)
    echo "$p: $(jq -c '.counters | {rx, pass_redirect, pass_kernel, drop_fib}' <<< "$out")"
    [ "$(jq -r .counters.pass_redirect <<< "$out")" -eq 20 ]
    [ "$(jq -r .counters.pass_kernel <<< "$out")" -eq 0 ]
    # and nothing was lost silently on the ingress (docs/veth.md)
    run timeout 5 "$TOPO" exec "$n" "$p" ethtool -S in0
    refute_output --regexp "rx_queue_[0-9]+_drops: [1-9]"
  done
}

@test "the sync hook runs in every proxy with its environment; stop and down end it" {
  local n=$RUN_PREFIX-e p pid st h w
  track "$n"
  topo up default --name "$n" -q
  run topo start "$n" --redis --sync-cmd 'echo "$XPRO_TOPO_HOST $XPRO_TOPO_NETNS $XPRO_LOCAL_REDIS" > "$XPRO_TOPO_RUNDIR/$XPRO_TOPO_HOST/hook.out"; exec sleep 300'
  assert_success
  sleep 0.3
  for p in px1 px2 px3; do
    run cat "/run/xpro/topo/$n/$p/hook.out"
    assert_output --regexp "^$p xt-$n-$p redis://xpro:.+@127\.0\.0\.1:6379/0$"
  done
  [ "$(grep -c ' sync$' "/run/xpro/topo/$n/pids")" -eq 3 ]
  cp "/run/xpro/topo/$n/pids" "$BATS_TEST_TMPDIR/pids"
  # no xpro attach was asked for
  [ ! -s "/run/xpro/topo/$n/attached" ]
  run topo stop "$n"
  assert_success
  while read -r pid st h w; do
    run alive "$pid" "$st"
    assert_failure
  done < "$BATS_TEST_TMPDIR/pids"
  # the topology stays after stop
  run tping "$n" dev 198.18.0.1
  assert_success
}

@test "down removes namespaces, links, bridges, processes and pins (time measured)" {
  local n=$RUN_PREFIX-f t0 ms
  track "$n"
  topo up default --name "$n" -q
  topo start "$n" -q
  topo start "$n" -q --sync-cmd 'exec sleep 300'
  cp "/run/xpro/topo/$n/pids" "$BATS_TEST_TMPDIR/pids"
  [ "$(wc -l < "$BATS_TEST_TMPDIR/pids")" -eq 7 ]
  [ -d "/run/xpro/bpf/xt-$n-px1/in0" ]
  t0=$(now_us)
  run topo down "$n"
  ms=$(ms_since "$t0")
  echo "xpro-topo down default (4 redis, 3 hooks, 3 xpro attached): $ms ms wall" >> "$BATS_FILE_TMPDIR/timings"
  assert_success
  assert_gone "$n" "$BATS_TEST_TMPDIR/pids"
  # a second down: nothing to do, said so
  run topo down "$n"
  assert_failure
  assert_output --partial "no run named"
  # and a bare up/down pair, for the record
  topo up default --name "$n" -q
  t0=$(now_us)
  topo down "$n" -q
  echo "xpro-topo down default (no services): $(ms_since "$t0") ms wall" >> "$BATS_FILE_TMPDIR/timings"
  assert_gone "$n"
}

@test "two topologies side by side do not collide; downing one leaves the other working" {
  local a=$RUN_PREFIX-g1 b=$RUN_PREFIX-g2 s=$RUN_PREFIX-g3
  track "$a"; track "$b"; track "$s"
  topo up default --name "$a" -q
  topo up default --name "$b" -q
  topo up small --name "$s" -q
  run topo list
  assert_output --regexp "$a +up "
  assert_output --regexp "$b +up "
  assert_output --regexp "$s +up +small +5 "
  # the same addresses in both default runs, each in its own namespaces
  [ "$(topo addr "$a" px1)" = "$(topo addr "$b" px1)" ]
  topo start "$a" -q --proxies
  topo start "$b" -q --proxies
  [ -d "/run/xpro/bpf/xt-$a-px1/in0" ] && [ -d "/run/xpro/bpf/xt-$b-px1/in0" ]
  run topo check "$a" --ping
  assert_success
  # xpro attached on every in0: its XDP program passes no IPv6 echo to the kernel
  assert_output --partial "mesh pings: 24/24 answered (6 IPv6 pings to an attached proxy's in0 skipped"
  run topo check "$b" --ping
  assert_success
  run topo check "$s" --ping
  assert_success
  assert_output --partial "8/8 answered"
  # small's rate limits, both directions of the link
  run ip netns exec "xt-$s-bot" tc qdisc show dev eth0
  assert_output --partial "tbf"
  assert_output --partial "rate 50Mbit"
  run ip netns exec "xt-$s-core" tc qdisc show dev bot.eth0
  assert_output --partial "rate 50Mbit"
  run ip netns exec "xt-$s-vic1" tc class show dev eth0
  assert_output --partial "htb 1:1"
  assert_output --partial "rate 100Mbit"
  topo down "$a" -q
  run ip netns list
  refute_output --partial "xt-$a-"
  [ ! -e "/run/xpro/bpf/xt-$a-px1" ]
  # b is untouched: its namespaces, its attached proxies, its mesh
  [ "$(ip netns list | grep -c "^xt-$b-")" -eq 9 ]
  [ -d "/run/xpro/bpf/xt-$b-px1/in0" ]
  run topo check "$b" --ping
  assert_success
  topo down "$b" -q
  topo down "$s" -q
  assert_gone "$b"
  assert_gone "$s"
}

@test "down after a killed up (kill -9 midway) removes everything" {
  local n=$RUN_PREFIX-h stage pid i
  track "$n"
  for stage in namespaces links hosts; do
    XPRO_TOPO_TEST_PAUSE=$stage timeout 70 "$TOPO" up default --name "$n" > "$BATS_TEST_TMPDIR/up.log" 2>&1 &
    for i in $(seq 100); do grep -q "test pause after $stage" "$BATS_TEST_TMPDIR/up.log" && break; sleep 0.05; done
    pid=$(sed -n 's/.*test pause after .* (pid \([0-9]*\)).*/\1/p' "$BATS_TEST_TMPDIR/up.log")
    [ -n "$pid" ]
    kill -9 "$pid"
    wait || true
    # half built: the namespaces exist, the run shows as crashed
    [ "$(ip netns list | grep -c "^xt-$n-")" -eq 9 ]
    run topo list
    assert_output --regexp "$n +crashed "
    run topo down "$n"
    assert_success
    assert_gone "$n"
  done
  # a namespace of the run that the state never recorded is found by name too
  ip netns add "xt-$n-stray"
  run topo list
  assert_output --partial "orphan"
  run topo down "$n"
  assert_success
  assert_gone "$n"
}

@test "a wrong topology file is refused with its line; a build failing its checks removes itself" {
  local n=$RUN_PREFIX-i bad=$BATS_TEST_TMPDIR/bad.topo
  track "$n"
  sed 's/^victim vic2 addr=198.18.1.102/victim vic2 addr=10.0.1.102/' topo/topologies/default.topo > "$bad"
  run topo up "$bad" --name "$n"
  assert_failure
  assert_output --regexp "bad.topo:[0-9]+: vic2: 10.0.1.102 is outside the testbed range 198.18.0.0/15"
  sed 's/^segment master .*/segment master 192.168.2.0\/24/' topo/topologies/default.topo > "$bad"
  run topo up "$bad" --name "$n"
  assert_failure
  assert_output --partial "must lie in 198.18.0.0/15"
  sed 's/^mtu 1500.*/mtu 4000/' topo/topologies/default.topo > "$bad"
  run topo up "$bad" --name "$n"
  assert_failure
  assert_output --partial "3506"
  printf 'segment access 198.18.0.0/24\nnetem dev 10ms\n' > "$bad"
  run topo up "$bad" --name "$n"
  assert_failure
  assert_output --partial "bad.topo:2: unknown directive 'netem'"
  # an ipv6 value other than on/off, a shell command among them: refused by its line
  for v in yes '$(id)' 'on off'; do
    sed "s/^ipv6 on.*/ipv6 $v/" topo/topologies/default.topo > "$bad"
    run topo up "$bad" --name "$n"
    assert_failure
    assert_output --regexp "bad.topo:[0-9]+: ipv6 on\|off: "
    refute_output --partial "uid="
  done
  assert_output --partial "ipv6 on|off: one value, on or off"
  sed 's/^ipv6 on.*/ipv6 yes/' topo/topologies/default.topo > "$bad"
  run topo up "$bad" --name "$n"
  assert_output --partial "ipv6 on|off: 'yes' is neither"
  run ip netns list
  refute_output --partial "xt-$n-"
  [ ! -e "/run/xpro/topo/$n" ]
  # a build whose checks fail (here: a probe that reports nothing) removes itself
  run env XPRO_TOPO_PROBE=/bin/false timeout 60 "$TOPO" up default --name "$n"
  assert_failure
  assert_output --partial "checks failed"
  assert_output --partial "px1 cannot receive XDP redirects"
  assert_gone "$n"
}

mininet_or_skip() {
  if ! timeout 30 /usr/bin/python3 -c 'import mininet.net, mininet.nodelib' 2>"$BATS_TEST_TMPDIR/mnerr"; then
    skip "mininet cannot be imported by /usr/bin/python3: $(tail -1 "$BATS_TEST_TMPDIR/mnerr")"
  fi
}

# mn_gone LOG: every node PID the script printed is gone
mn_gone() {
  local kv
  for kv in $(sed -n 's/.*node PIDs: //p' "$1"); do
    if alive "${kv#*=}"; then echo "mininet node $kv still alive"; return 1; fi
  done
  [ -n "$(sed -n 's/.*node PIDs: //p' "$1")" ]
}

@test "Mininet: default builds with Linux bridges, pings the mesh, runs a command, stops cleanly" {
  mininet_or_skip
  run timeout 120 /usr/bin/python3 "$MN" default --run 'vic2 ip -4 -o addr show dev eth0' --run 'px3 ip route show 198.18.32.0/20' \
    --run 'vic2 ip -6 -o addr show dev eth0 scope global' --run 'px3 ip -6 route show 2001:db8::c612:2000/116'
  echo "$output" > "$BATS_TEST_TMPDIR/mn.log"
  assert_success
  assert_output --partial "8 hosts, 3 Linux bridges, no controller"
  assert_output --partial "*** Results: 0% dropped (30/30 received)"
  assert_output --partial "198.18.1.102/24"
  assert_output --partial "198.18.32.0/20 via 198.18.0.200 dev in0"
  # the same IPv6 addresses and routes as xpro-topo (2001:db8:: + IPv4)
  assert_output --partial "inet6 2001:db8::c612:166/120 scope global nodad"
  assert_output --partial "2001:db8::c612:2000/116 via 2001:db8::c612:c8 dev in0"
  assert_output --partial "stopped cleanly"
  refute_output --partial "check:"
  mn_gone "$BATS_TEST_TMPDIR/mn.log"
  ip -o link show | awk -F': ' '{print $2}' | sort > "$BATS_TEST_TMPDIR/links-now"
  run diff "$BATS_FILE_TMPDIR/root-links" "$BATS_TEST_TMPDIR/links-now"
  assert_success
}

@test "Mininet: --proxies/--victims, xpro attached, tunnel traffic redirected; pins removed at the end" {
  mininet_or_skip
  [[ -x $UDP ]] || { echo "missing $UDP: run make build"; return 1; }
  local udp; udp=$(readlink -f "$UDP")
  run timeout 120 /usr/bin/python3 "$MN" --proxies 2 --victims 3 --xpro \
    --run "vic3 timeout 10 $udp echo --port 7 --duration 2 --reply > $BATS_TEST_TMPDIR/mn-echo.json 2>&1 &" \
    --run "vic3 sleep 0.3" \
    --run "dev timeout 10 $udp send --proxy 198.18.0.2 --dst 198.18.1.103 --dport 7 --count 10 --interval-us 10000 --wait-ms 500 --bind 198.18.16.9" \
    --run "vic3 wait" \
    --run "px2 $(readlink -f "$XPRO") stats -i in0 --set state_dir=$BATS_TEST_TMPDIR --json | jq -M -c '{r: .counters.pass_redirect, k: .counters.pass_kernel}'"
  echo "$output" > "$BATS_TEST_TMPDIR/mn.log"
  assert_success
  assert_output --partial "8 hosts, 3 Linux bridges"
  assert_output --partial "0% dropped (24/24 received)"
  assert_output --partial '{"sent":10,"replies":10}'
  assert_output --partial '{"r":10,"k":0}'
  assert_output --partial "stopped cleanly"
  refute_output --partial "killed processes left"
  [ "$(jq -r .received "$BATS_TEST_TMPDIR/mn-echo.json")" = 10 ]
  mn_gone "$BATS_TEST_TMPDIR/mn.log"
  # xpro's pins (under the unnamed namespaces' inodes) are gone
  local pins
  pins=$(grep -o '/run/xpro/bpf/net-[0-9]*' "$BATS_TEST_TMPDIR/mn.log" | sort -u)
  [ "$(wc -l <<< "$pins")" -eq 2 ]
  for d in $pins; do [ ! -e "$d" ]; done
}

@test "Mininet: stops cleanly when killed mid-run (SIGTERM) and on an error" {
  mininet_or_skip
  timeout 60 /usr/bin/python3 "$MN" --no-ping --run 'dev sleep 30' > "$BATS_TEST_TMPDIR/mn.log" 2>&1 &
  MN_PID=$!
  local i
  for i in $(seq 200); do grep -q "node PIDs" "$BATS_TEST_TMPDIR/mn.log" && break; sleep 0.05; done
  sleep 0.3
  kill -TERM "$MN_PID"
  local rc=0
  wait "$MN_PID" || rc=$?
  MN_PID=""
  [ "$rc" -eq 1 ]
  run cat "$BATS_TEST_TMPDIR/mn.log"
  assert_output --partial "interrupted (signal 15)"
  assert_output --partial "stopped cleanly"
  refute_output --partial "Traceback"
  mn_gone "$BATS_TEST_TMPDIR/mn.log"
  # an error midway (xpro attach fails): still stopped, status 1
  run env XPRO=/bin/false timeout 60 /usr/bin/python3 "$MN" --no-ping --xpro
  echo "$output" > "$BATS_TEST_TMPDIR/mn2.log"
  [ "$status" -eq 1 ]
  assert_output --partial "xpro attach on px1 failed"
  assert_output --partial "stopped cleanly"
  mn_gone "$BATS_TEST_TMPDIR/mn2.log"
}
