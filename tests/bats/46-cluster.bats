#!/usr/bin/env bats
# The Redis Cluster testbed (issue 16): `xpro-redis cluster start|stop`
# (scripts/xpro-redis) and `xpro-topo start --sync --cluster` (topo/xpro-topo).
# Real redis-server 7.0 nodes, created with redis-cli --cluster create.

load lib/xpro

LAUNCHER=scripts/xpro-redis TOPO=topo/xpro-topo B=${XPRO_BUILD:-build}
export XPRO=$B/bin/xpro XPRO_TOPO_PROBE=$B/bin/xpro-topo-probe XPRO_TOPO_PING=$B/bin/xpro-topo-ping

setup() {
  C=$BATS_TEST_TMPDIR/c N=t46-$$-$BATS_TEST_NUMBER
  PASSF=$BATS_TEST_TMPDIR/pass
  printf '%s' 'clu ster"pw' > "$PASSF"
}

teardown() {
  "$LAUNCHER" cluster stop "$C" 2>/dev/null
  [[ $(id -u) -eq 0 ]] && timeout 60 "$TOPO" down "$N" -q >/dev/null 2>&1
  xp_teardown_all
}

# cluster_up: `xpro-redis cluster start $C --user xpro` on 127.0.0.1
# from a random base port (another one when a port is taken: status 3);
# the node lines in $output, the base port in BASE
cluster_up() {
  local try
  for ((try = 0; try < 5; try++)); do
    BASE=$((21000 + (RANDOM % 800) * 10))
    run timeout 90 "$LAUNCHER" cluster start "$C" --base-port "$BASE" --user xpro --pass-file "$PASSF"
    ((status == 3)) || break
  done
  assert_success
}

# ccli PORT ARGS...: redis-cli to the node on 127.0.0.1:PORT as xpro
ccli() { local p=$1; shift; REDISCLI_AUTH=$(< "$PASSF") timeout 5 redis-cli -p "$p" --user xpro "$@"; }

@test "xpro-redis cluster: 6 nodes, 3 masters and 3 replicas, 16384 slots, the project's settings and the ACL user on each; a hash-tagged key on its slot's master; stop leaves nothing" {
  local line pid addr role port masters=0 replicas=0 slot owner sum p
  local -a pids=() mports=()
  cluster_up
  # one line per node, the same in $C/nodes
  [ "${#lines[@]}" -eq 6 ]
  [ "$output" = "$(cat "$C/nodes")" ]
  for line in "${lines[@]}"; do
    read -r pid addr role <<< "$line"
    port=${addr#127.0.0.1:}
    [[ $port =~ ^[0-9]+$ ]] && ((port >= BASE && port < BASE + 6))
    grep -q redis-server "/proc/$pid/cmdline"
    pids+=("$pid")
    case $role in master) masters=$((masters + 1)); mports+=("$port") ;; replica) replicas=$((replicas + 1)) ;; *) false ;; esac
    # every node: the cluster is ok and every slot is served, the settings
    ccli "$port" CLUSTER INFO | tr -d '\r' | grep -qx 'cluster_state:ok'
    ccli "$port" CLUSTER INFO | tr -d '\r' | grep -qx 'cluster_slots_ok:16384'
    [ "$(ccli "$port" CONFIG GET hash-max-listpack-entries | sed -n 2p)" = 128 ]
    [ "$(ccli "$port" CONFIG GET cluster-node-timeout | sed -n 2p)" = 1500 ]
    [ "$(ccli "$port" CONFIG GET save | sed -n 2p)" = "" ]
    [ "$(ccli "$port" CONFIG GET appendonly | sed -n 2p)" = no ]
    [ "$(ccli "$port" CONFIG GET cluster-config-file | sed -n 2p)" = "$C/node$((port - BASE + 1))/nodes.conf" ]
    # the ACL user on every node (ACLs are not replicated), the default user off
    ccli "$port" ACL GETUSER default | grep -qx off
    run timeout 5 redis-cli -p "$port" PING
    assert_output --partial NOAUTH
    REDISCLI_AUTH=wrong run timeout 5 redis-cli -p "$port" --user xpro PING
    assert_output --partial WRONGPASS
  done
  [ "$masters" -eq 3 ]
  [ "$replicas" -eq 3 ]
  # the password on no command line, the nodes' configs private (masterauth)
  ps -eo args > "$BATS_TEST_TMPDIR/ps"
  run grep -cF -f "$PASSF" "$BATS_TEST_TMPDIR/ps"
  assert_output 0
  [ "$(stat -c %a "$C/node4/redis.conf")" = 600 ]
  # the slot ranges of CLUSTER SLOTS add up to 16384, served by the 3 masters
  sum=$(ccli "${mports[0]}" --json CLUSTER SLOTS | jq '[.[] | .[1] - .[0] + 1] | add')
  [ "$sum" -eq 16384 ]
  # {198.18.1.101}: the slot is CRC16-XMODEM of the tag, mod 16384 (the cluster
  # spec's rule), computed here apart from the server
  slot=$(python3 -c 'import binascii; print(binascii.crc_hqx(b"198.18.1.101", 0) % 16384)')
  [ "$(ccli "${mports[0]}" CLUSTER KEYSLOT 'x:{198.18.1.101}:198.18.16.5')" = "$slot" ]
  # the master that owns it takes the write; another master redirects there
  owner=$(ccli "${mports[0]}" --json CLUSTER SLOTS | jq -r --argjson s "$slot" '.[] | select(.[0] <= $s and $s <= .[1]) | .[2][1]')
  [[ " ${mports[*]} " == *" $owner "* ]]
  [ "$(ccli "$owner" HSET 'x:{198.18.1.101}:198.18.16.5' px1 7)" = 1 ]
  for p in "${mports[@]}"; do
    [[ $p == "$owner" ]] && continue
    run ccli "$p" HGET 'x:{198.18.1.101}:198.18.16.5' px1
    assert_output "MOVED $slot 127.0.0.1:$owner"
    [ "$(ccli "$p" DBSIZE)" = 0 ]
  done
  [ "$(ccli "$owner" CLUSTER COUNTKEYSINSLOT "$slot")" = 1 ]
  [ "$(ccli "$owner" HGET 'x:{198.18.1.101}:198.18.16.5' px1)" = 7 ]
  # stop: every node by its PID, nothing left
  run timeout 30 "$LAUNCHER" cluster stop "$C"
  assert_success
  for pid in "${pids[@]}"; do [ ! -d "/proc/$pid" ] || grep -q '^State:.*Z' "/proc/$pid/status"; done
  [ ! -e "$C/nodes" ]
  # again: nothing to do
  run timeout 30 "$LAUNCHER" cluster stop "$C"
  assert_success
}

@test "xpro-redis cluster: bad options are refused (status 2) and start nothing; a taken port is status 3 naming the node, the others stopped; xpro-exp --master single|cluster, not on Mininet" {
  run "$LAUNCHER" cluster start "$C" --nodes 5 --replicas 1
  [ "$status" -eq 2 ]
  assert_output --partial "at least 6 nodes"
  run "$LAUNCHER" cluster start "$C" --shards 3
  [ "$status" -eq 2 ]
  assert_output --partial "unknown option '--shards'"
  run "$LAUNCHER" cluster start "$C" --addrs 198.18.10.1,198.18.10.2
  [ "$status" -eq 2 ]
  run "$LAUNCHER" cluster start "$C" --node-timeout 50
  [ "$status" -eq 2 ]
  run "$LAUNCHER" cluster start "$C" --base-port 60000
  [ "$status" -eq 2 ]
  run "$LAUNCHER" cluster start "$C" --user xpro
  [ "$status" -eq 2 ]
  run "$LAUNCHER" cluster frobnicate "$C"
  [ "$status" -eq 2 ]
  # the experiments' switch (xpro-exp run|compare --master, MASTER=): cluster or single
  run /usr/bin/python3 experiments/xpro-exp run flood --master sharded
  [ "$status" -eq 2 ]
  MASTER=cluster run /usr/bin/python3 experiments/xpro-exp compare flood --testbed mininet
  [ "$status" -eq 2 ]
  assert_output --partial "namespace testbed only"
  run "$LAUNCHER" cluster start "$C" --netns-prefix "t46-none-$$-" --addrs 198.18.10.1,198.18.10.2,198.18.10.3,198.18.10.4,198.18.10.5,198.18.10.6
  [ "$status" -eq 1 ]
  assert_output --partial "no network namespace 't46-none-$$-1'"
  [ ! -e "$C/node1" ]
  # node 4's port is taken by another server: status 3, nodes 1-3 stopped again
  local port pid
  port=$(xp_redis_start)
  run timeout 60 "$LAUNCHER" cluster start "$C" --base-port "$((port - 3))"
  [ "$status" -eq 3 ]
  assert_output --partial "node 4 (127.0.0.1:$port)"
  assert_output --partial "in use"
  for pid in $(cat "$C"/node{1,2,3}/redis.pid 2>/dev/null); do
    [ ! -d "/proc/$pid" ] || grep -q '^State:.*Z' "/proc/$pid/status"
  done
  [ "$(xp_redis_cli "$port" PING)" = PONG ]
}

# the hosts xpro-topo start --cluster adds to `small` (master 198.18.10.100 on
# 198.18.10.0/24, ipv6 on): db1..db6 at the master's address + 1..6
SMALL_DB=(198.18.10.101 198.18.10.102 198.18.10.103 198.18.10.104 198.18.10.105 198.18.10.106)
SMALL_DB6=(2001:db8::c612:a65 2001:db8::c612:a66 2001:db8::c612:a67 2001:db8::c612:a68 2001:db8::c612:a69 2001:db8::c612:a6a)

# as_px1 USER PASSFILE ARGS...: redis-cli from px1's namespace
as_px1() { local u=$1 f=$2; shift 2; REDISCLI_AUTH=$(< "$f") timeout 5 "$TOPO" exec "$N" px1 redis-cli --user "$u" "$@"; }

@test "xpro-topo start --cluster: 6 nodes in their own namespaces on the master segment, cluster_state ok, px1 reaches each as its ACL user; stop and down remove the hosts" {
  xp_require_root
  local R=/run/xpro/topo/$N i h ns pid a masters=0 replicas=0 seeds=""
  local -a pids=()
  timeout 60 "$TOPO" up small --name "$N" -q
  run timeout 60 "$TOPO" start "$N" --isolated --cluster -q
  [ "$status" -eq 2 ]
  run timeout 120 "$TOPO" start "$N" --master --redis --cluster -q
  assert_success
  for i in 1 2 3 4 5 6; do
    h=db$i ns=xt-$N-db$i a=${SMALL_DB[i - 1]}
    seeds+=${seeds:+,}$a:6379
    # its namespace, its addresses on eth0 (a veth on br-master)
    [ -e "/run/netns/$ns" ]
    ip -n "$ns" -o addr show dev eth0 | grep -q "inet $a/24 "
    ip -n "$ns" -o addr show dev eth0 | grep -q "inet6 ${SMALL_DB6[i - 1]}/120 "
    ip -n "xt-$N-core" -o link show "$h.eth0" | grep -q "master br-master"
    # the node's PID is recorded for the host and runs inside that namespace
    pid=$(awk -v h="$h" '$3 == h && $4 == "cluster-redis" {print $1}' "$R/pids")
    [[ $pid =~ ^[0-9]+$ ]]
    [ "$(ip netns identify "$pid")" = "$ns" ]
    pids+=("$pid")
    # from px1: the cluster is ok; px1's own least-rights user works on every node
    as_px1 xpro "$R/secret" -h "$a" CLUSTER INFO | tr -d '\r' | grep -qx 'cluster_state:ok'
    as_px1 xpro "$R/secret" -h "$a" CLUSTER INFO | tr -d '\r' | grep -qx 'cluster_slots_ok:16384'
    [ "$(as_px1 xpro-px1 "$R/px1/redis.pass" -h "$a" PING)" = PONG ]
    [ "$(as_px1 xpro-px1 "$R/px1/redis.pass" -h "$a" -c HSET 'x:{198.18.9.101}' px1 "$i")" != "" ]
    [ "$(as_px1 xpro-px1 "$R/px1/redis.pass" -h "$a" CLUSTER SHARDS | head -n 1)" = slots ]
    # the users of master.acl on every node, the default user off
    as_px1 xpro "$R/secret" -h "$a" ACL USERS | grep -qx xpro-alerts
    as_px1 xpro "$R/secret" -h "$a" ACL GETUSER default | grep -qx off
    [ "$(as_px1 xpro "$R/secret" -h "$a" CONFIG GET hash-max-listpack-entries | sed -n 2p)" = 128 ]
    case $(as_px1 xpro "$R/secret" -h "$a" INFO replication | tr -d '\r' | sed -n 's/^role://p') in
      master) masters=$((masters + 1)) ;; slave) replicas=$((replicas + 1)) ;;
    esac
  done
  [ "$masters" -eq 3 ]
  [ "$replicas" -eq 3 ]
  # the write landed once, on the slot's master (and its replica)
  [ "$(as_px1 xpro-px1 "$R/px1/redis.pass" -h "${SMALL_DB[0]}" -c HGET 'x:{198.18.9.101}' px1)" = 6 ]
  # the seed list for the proxies and xpro alerts --all
  grep -qx "XPRO_MASTER_SEEDS=$seeds" "$R/px1/env"
  grep -qx "redis_master = $seeds" "$R/alerts.conf"
  # the single master stays unstarted; asking for it now is refused
  run timeout 30 "$TOPO" start "$N" --master -q
  assert_failure 1
  assert_output --partial "is a Redis Cluster"
  # stop: the nodes and their hosts go, the topology stays
  run timeout 60 "$TOPO" stop "$N" -q
  assert_success
  for pid in "${pids[@]}"; do [ ! -d "/proc/$pid" ] || grep -q '^State:.*Z' "/proc/$pid/status"; done
  for i in 1 2 3 4 5 6; do [ ! -e "/run/netns/xt-$N-db$i" ]; done
  run grep -c -- "-db[0-9]" "$R/namespaces"
  assert_output 0
  [ -e "/run/netns/xt-$N-db" ]
  # again, then down: nothing of the run is left
  run timeout 120 "$TOPO" start "$N" --master --cluster -q
  assert_success
  mapfile -t pids < <(awk '$4 == "cluster-redis" {print $1}' "$R/pids")
  [ "${#pids[@]}" -eq 6 ]
  run timeout 60 "$TOPO" down "$N" -q
  assert_success
  for pid in "${pids[@]}"; do [ ! -d "/proc/$pid" ] || grep -q '^State:.*Z' "/proc/$pid/status"; done
  [ -z "$(ip netns list | grep -- "^xt-$N-")" ]
}

@test "xpro-topo start --sync --cluster: each proxy's xpro.conf names the 6 nodes as redis_master" {
  xp_require_root
  local f=$BATS_TEST_TMPDIR/seeds.conf R=/run/xpro/topo/$N
  echo "redis_master = 198.18.10.101:6379,198.18.10.102:6379" > "$f"
  run "$XPRO" config check "$f"
  assert_success
  timeout 60 "$TOPO" up small --name "$N" -q
  run timeout 120 "$TOPO" start "$N" --sync --cluster -q
  assert_success
  grep -qx "redis_master = $(printf '%s:6379,' "${SMALL_DB[@]}" | sed 's/,$//')" "$R/px1/xpro.conf"
  awk '$3 == "px1" {print $4}' "$R/pids" | grep -qx syncdb
}

# ---- syncdb against the cluster (xpro/syncdb.c, xpro/master.c) ----------------
# ccli_db ADDR ARGS...: redis-cli to the cluster node ADDR from db1's namespace
# as xpro (the password through REDISCLI_AUTH)
ccli_db() {
  local a=$1; shift
  REDISCLI_AUTH=$(< "/run/xpro/topo/$N/secret") timeout 5 "$TOPO" exec "$N" db1 redis-cli -h "$a" --user xpro "$@"
}

# The seed lists config check refuses, each with the problem named.
@test "redis_master: one ADDR:PORT or a seed list of two or more; a bad seed list is refused naming the problem" {
  local f=$BATS_TEST_TMPDIR/m.conf v
  for v in 198.18.2.100:6379 198.18.2.101:6379,198.18.2.102:6379 '[2001:db8::c612:265]:6379,198.18.2.102:6379'; do
    echo "redis_master = $v" > "$f"
    run "$XPRO" config check "$f"
    assert_success
  done
  echo "redis_master = 198.18.2.101:6379," > "$f"
  run "$XPRO" config check "$f"
  assert_failure
  assert_output --partial "seed 2 is empty"
  echo "redis_master = 198.18.2.101:6379,198.18.2.101:6379" > "$f"
  run "$XPRO" config check "$f"
  assert_failure
  assert_output --partial "listed twice"
  echo "redis_master = 198.18.2.101:6379,db2:6379" > "$f"
  run "$XPRO" config check "$f"
  assert_failure
  assert_output --partial "not a cluster seed list"
  echo "redis_master = db:6379" > "$f"
  run "$XPRO" config check "$f"
  assert_failure
  assert_output --partial "is not IPv4-ADDRESS:PORT"
}

# The synced case of 40-sync (its test 1) with the master a 6-node cluster:
# the bot (198.18.32.5) sends 50 packets/s to each of the three proxies
# towards vic1 for 2 s (100 each, half of TF1 = 100/s on each alone, 1.5 x
# TF1 in sum). Expected, by hand: every proxy's record ends at 300, the sum,
# and each drops all but at most 65 of its 100 (TT2 300 ms = 15 packets,
# plus at most 10 periods of 100 ms = 50 packets before the sum arrives);
# the cluster holds 300 once, in x:{198.18.1.101} on its slot's master,
# merged by the script only (no WATCH through a cluster).
@test "synced against the cluster: a bot under TF1 on each of three proxies, above it in sum, is dropped by all three; the cluster holds the sum once" {
  load lib/synctb
  # shellcheck disable=SC2034 # RUN: the run lib/synctb's helpers act on
  RUN=$N
  local p drops passed a owner=0 n
  testbed "$CONF" --sync --cluster
  grep -q '^redis_master = 198.18.2.101:6379,' "$(pconf px1)"
  # warnd runs (its warnings not published to a cluster: not done)
  kill -0 "$(dpid px1 warnd)"
  send_spread 100
  for p in px1 px2 px3; do
    settle "$p" $BOT $VIC 300
    drops=$(stat $p .counters.drop_tf1)
    passed=$(stat $p .counters.pass_redirect)
    echo "# $p: passed $passed, dropped (TF1) $drops of 100" >&3
    [ $((drops + passed)) -eq 100 ]
    ((drops > 0 && passed <= 65))
    # the script only; the cluster up; the peers' W read (one MGET per key)
    [ "$(stat $p .sync.syncdb.master)" = up ]
    (($(stat $p .sync.syncdb.lua_batches) > 0))
    [ "$(stat $p .sync.syncdb.watch_conflicts)" = 0 ]
  done
  run px px1 status -i in0
  assert_output --partial '"px2":'
  assert_output --partial '"px3":'
  # the sum, once: read through the cluster (-c follows MOVED)
  [ "$(ccli_db 198.18.2.101 -c HGET "x:{$VIC}" $BOT | awk '{ print $3 }')" = 300 ]
  # the hash on exactly one of the three masters (a replica answers MOVED)
  for a in 198.18.2.101 198.18.2.102 198.18.2.103 198.18.2.104 198.18.2.105 198.18.2.106; do
    n=$(ccli_db "$a" HEXISTS "x:{$VIC}" $BOT)
    [[ $n == 1 ]] && owner=$((owner + 1))
  done
  [ "$owner" -eq 1 ]
}

# No lost update through the cluster (41-sync-concurrency's first case): three
# `xpro syncdb` (each with its own local redis-server) merge the same 16
# records, D = 198.18.1.1..16 (their slots on the three masters), into the
# cluster at the same time while their local deltas keep growing; TT1 and TT4
# a day (only the merge branches run). Expected, by hand: the cluster's count
# of each record is the sum of every delta added on every proxy, and once the
# deltas stop, every proxy's global count equals it and its delta is 0.
@test "three syncdb merging the same records concurrently through the cluster lose no update" {
  local i r d x want got seeds now_us masters=""
  local -a L P
  printf '%s' "c46-$$-pw" > "$PASSF"
  cluster_up
  seeds=$(awk '{ print $2 }' "$C/nodes" | paste -sd, -)
  export XP_REDIS_USER=xpro XP_REDIS_PASS=c46-$$-pw
  for i in 1 2 3; do L[i]=$(xp_redis_start); done
  now_us=$(( $(date +%s%N) / 1000 ))
  for i in 1 2 3; do
    cat > "$BATS_TEST_TMPDIR/p$i.conf" <<EOC
tt1_ms = 86400000
tt2_ms = 100
tt3_ms = 100
tt4_ms = 86400000
sync_period_ms = 20
redis_local = 127.0.0.1:${L[i]}
redis_master = $seeds
redis_user = xpro
redis_password = $XP_REDIS_PASS
proxy_id = p$i
state_dir = $BATS_TEST_TMPDIR/state$i
EOC
    P[i]=$(xp_spawn syncdb$i "$XPRO" syncdb -i lo -c "$BATS_TEST_TMPDIR/p$i.conf")
  done
  # hammer: 100 passes over the 16 records per proxy, each queueing a delta
  # of 1-3 as syncmaps does (a line "i ts1 ts2 c' dc mark" on l:{D}:q, D
  # into l:q), one command at a time: the daemons interleave with them
  for i in 1 2 3; do
    for ((d = 0; d < 100; d++)); do
      for ((r = 0; r < 16; r++)); do
        x=$(( (d + r + i) % 3 + 1 ))
        echo "RPUSH l:{198.18.1.$((r + 1))}:q \"198.18.32.1 $now_us $now_us $x $x 0\""
        echo "SADD l:q 198.18.1.$((r + 1))"
      done
    done > "$BATS_TEST_TMPDIR/cmds.$i"
    REDISCLI_AUTH=$XP_REDIS_PASS timeout 120 redis-cli -p "${L[i]}" --user xpro < "$BATS_TEST_TMPDIR/cmds.$i" > /dev/null &
  done
  wait
  sleep 1.5
  for ((r = 0; r < 16; r++)); do
    want=0
    for i in 1 2 3; do
      for ((d = 0; d < 100; d++)); do want=$((want + (d + r + i) % 3 + 1)); done
    done
    got=$(ccli "$BASE" -c HGET "x:{198.18.1.$((r + 1))}" 198.18.32.1 | awk '{ print $3 }')
    [[ $got == "$want" ]] || { echo "# record $r: cluster $got, sum of deltas $want" >&3; false; }
    for i in 1 2 3; do
      got=$(xp_redis_cli "${L[i]}" HGET "l:{198.18.1.$((r + 1))}" 198.18.32.1 | awk '{ print $3, $4 }')
      [[ $got == "$want 0" ]] || { echo "# proxy $i record $r: gc dc = $got, want $want 0" >&3; false; }
    done
    # the master node that holds it (the records span all three masters)
    masters+=$(ccli "$BASE" CLUSTER NODES | awk -v s="$(ccli "$BASE" CLUSTER KEYSLOT "x:{198.18.1.$((r + 1))}")" \
      '$3 ~ /master/ { for (k = 9; k <= NF; k++) { split($k, a, "-"); if (s >= a[1] && s <= (a[2] == "" ? a[1] : a[2])) print $1 } }')$'\n'
  done
  [ "$(sort -u <<< "$masters" | grep -c .)" -eq 3 ]
  for i in 1 2 3; do
    kill -0 "${P[i]}"
    jq -e '.merged > 0 and .lua_batches > 0 and .watch_conflicts == 0 and .master == "up" and .branches.reset == 0 and .branches.decay == 0' \
      "$BATS_TEST_TMPDIR"/state$i/*/lo/syncdb.json > /dev/null
  done
}

# A master SIGKILLed mid-attack: the bot sends 200 packets at 50/s to each of
# the three proxies (4 s); 0.7 s in, the master serving x:{198.18.1.101}'s slot
# is killed. Expected, by hand: its replica is promoted (node timeout 1.5 s),
# every syncdb reads the new map and merges again (the script loaded there on
# NOSCRIPT or at the reload after the outage), and every record ends equal on
# the three proxies and the cluster, at 600 give or take what the failover may
# cost: the one batch of each proxy in flight at the kill (merged twice if the
# dead master ran it and its replica had it) or the batches the replica had not
# received (asynchronous replication: lost); a batch carries at most two
# periods of one proxy's packets (200 ms at 50/s = 10): 600 +- 3 x 10.
# Enforcement goes on: each proxy still drops (before the kill and once synced
# again the sum, 150/s, is above TF1).
@test "a cluster master SIGKILLed mid-attack: its replica promoted, syncdb follows, every record equal and within 600 +- 30, each proxy drops" {
  load lib/synctb
  # shellcheck disable=SC2034 # RUN: the run lib/synctb's helpers act on
  RUN=$N
  local R=/run/xpro/topo/$N slot owner host live pid p got c drops
  testbed "$CONF" --sync --cluster
  slot=$(ccli_db 198.18.2.101 CLUSTER KEYSLOT "x:{$VIC}")
  owner=$(ccli_db 198.18.2.101 CLUSTER NODES | awk -v s="$slot" \
    '$3 ~ /master/ { for (k = 9; k <= NF; k++) { split($k, a, "-"); if (s >= a[1] && s <= a[2]) print $2 } }')
  owner=${owner%%:*}
  host=db$((${owner##*.} - 100))
  # a node that stays up to ask
  live=198.18.2.101
  [[ $owner != "$live" ]] || live=198.18.2.102
  pid=$(awk -v h="$host" '$3 == h && $4 == "cluster-redis" { print $1 }' "$R/pids")
  [[ $pid =~ ^[0-9]+$ ]]
  send_spread 200 &
  p=$!
  sleep 0.7
  kill -9 "$pid"
  wait "$p"
  # the slot served again, by another node
  for _ in $(seq 50); do
    c=$(ccli_db "$live" -c HGET "x:{$VIC}" $BOT 2>/dev/null | awk '{ print $3 }')
    [[ $c =~ ^[0-9]+$ ]] && break
    sleep 0.2
  done
  [[ $c =~ ^[0-9]+$ ]]
  # settled: the three proxies and the cluster agree
  for _ in $(seq 50); do
    got=$(ccli_db "$live" -c HGET "x:{$VIC}" $BOT | awk '{ print $3 }')
    [[ $(count px1 $BOT $VIC) == "$got" && $(count px2 $BOT $VIC) == "$got" && $(count px3 $BOT $VIC) == "$got" ]] && break
    sleep 0.2
  done
  echo "# the cluster's count after the failover: $got (600 sent)" >&3
  for p in px1 px2 px3; do
    [ "$(count $p $BOT $VIC)" = "$got" ]
    [ "$(stat $p .sync.syncdb.master)" = up ]
    drops=$(stat $p .counters.drop_tf1)
    echo "# $p: dropped (TF1) $drops of 200" >&3
    ((drops > 0))
  done
  ((got >= 570 && got <= 630))
  # the new owner is not the dead node
  ccli_db "$live" CLUSTER NODES | grep -q "^[0-9a-f]* $owner:6379@[0-9]* master,fail"
}

# agreed ADDR CLIENT WANT: poll (bounded: 75 x 0.2 s) until the cluster's
# count of (CLIENT, $VIC), read through node ADDR, and every proxy's are WANT;
# the cluster's last count in GOT
agreed() {
  local p ok
  for _ in $(seq 75); do
    GOT=$(ccli_db "$1" -c HGET "x:{$VIC}" "$2" | awk '{ print $3 }')
    ok=$([[ $GOT == "$3" ]] && echo 1)
    for p in px1 px2 px3; do [[ $(count $p "$2" "$VIC") == "$3" ]] || ok=""; done
    [[ -n $ok ]] && return 0
    sleep 0.2
  done
  return 1
}

# A live resharding mid-attack: the bot sends 200 packets at 50/s to each of
# the three proxies (4 s, 600 in all); 0.5 s in, redis-cli --cluster reshard
# (from db1, as xpro through REDISCLI_AUTH) moves 5461 slots, every slot of the
# master serving x:{198.18.1.101} (slot 12291, in 10923-16383 after create),
# to another master. Expected, by hand: MIGRATE moves a key whole, a script on
# a key already moved is answered ASK (one ASKING + retry on the target), on a
# slot half moved TRYAGAIN (retried after a backoff): nothing is lost or merged
# twice, so the cluster's count is exactly 600, every proxy's equals it once
# settled, each proxy drops (150/s in sum is above TF1), and the hash lives on
# the target master only.
@test "a live resharding of a third of the slots mid-attack: the cluster's count is exactly the 600 sent, the proxies agree, each drops, the record on the new owner only" {
  load lib/synctb
  # shellcheck disable=SC2034 # RUN: the run lib/synctb's helpers act on
  RUN=$N
  local slot from to p drops a n owners="" t0
  testbed "$CONF" --sync --cluster
  slot=$(ccli_db 198.18.2.101 CLUSTER KEYSLOT "x:{$VIC}")
  [ "$slot" = 12291 ]
  # the owner of the slot and another master, by node id
  from=$(ccli_db 198.18.2.101 CLUSTER NODES | awk -v s="$slot" \
    '$3 ~ /master/ { for (k = 9; k <= NF; k++) { split($k, a, "-"); if (s >= a[1] && s <= a[2]) print $1 } }')
  to=$(ccli_db 198.18.2.101 CLUSTER NODES | awk -v f="$from" '$3 ~ /master/ && $1 != f && $9 != "" { print $1; exit }')
  [[ $from =~ ^[0-9a-f]{40}$ && $to =~ ^[0-9a-f]{40}$ ]]
  send_spread 200 &
  p=$!
  sleep 0.5
  t0=$SECONDS
  REDISCLI_AUTH=$(< "/run/xpro/topo/$N/secret") timeout 240 "$TOPO" exec "$N" db1 redis-cli --user xpro \
    --cluster reshard 198.18.2.101:6379 --cluster-from "$from" --cluster-to "$to" --cluster-slots 5461 \
    --cluster-yes > "$BATS_TEST_TMPDIR/reshard.out" 2>&1
  echo "# reshard of 5461 slots: $((SECONDS - t0)) s" >&3
  wait "$p"
  # the slot now on the target
  [ "$(ccli_db 198.18.2.101 CLUSTER NODES | awk -v s="$slot" \
    '$3 ~ /master/ { for (k = 9; k <= NF; k++) { split($k, a, "-"); if (s >= a[1] && s <= a[2]) print $1 } }')" = "$to" ]
  agreed 198.18.2.101 $BOT 600 || t0=no
  echo "# the cluster's count after the resharding: $GOT (600 sent)" >&3
  [ "$t0" != no ]
  for p in px1 px2 px3; do
    [ "$(stat $p .sync.syncdb.master)" = up ]
    drops=$(stat $p .counters.drop_tf1)
    echo "# $p: dropped (TF1) $drops of 200" >&3
    ((drops > 0))
  done
  # exactly one node that is a master holds the hash: the target
  for a in 198.18.2.101 198.18.2.102 198.18.2.103 198.18.2.104 198.18.2.105 198.18.2.106; do
    n=$(ccli_db "$a" HEXISTS "x:{$VIC}" $BOT)
    [[ $n == 1 ]] && owners+="$(ccli_db "$a" CLUSTER MYID) "
  done
  [ "$owners" = "$to " ]
}

# The cluster down (majority of masters lost): the master of
# x:{198.18.1.101}'s slot, one other master and both their replicas SIGKILLed
# (4 of 6 nodes); the third master, alone, reports cluster_state:fail. Then a
# second bot (198.18.32.9) sends 200 packets at 200/s through px1 only (twice
# TF1 = 100/s). Expected, by hand: px1 enforces on its own data (its record
# reaches 200, it drops under TF1), no daemon of any proxy dies, every syncdb
# reports the master down; px2 and px3 never see the record. The four nodes
# restarted from their nodes.conf (the same redis.conf; no persistence, so the
# two shards come back empty) rejoin, the cluster is ok again, and the delta
# px1 queued meanwhile (200) reaches the cluster exactly once: 200 there and
# on every proxy.
@test "the cluster down (2 of 3 masters and their replicas killed): px1 enforces on its own data, no daemon dies, syncdb reports the master down; the nodes restarted, the queued deltas reach the cluster exactly once" {
  load lib/synctb
  # shellcheck disable=SC2034 # RUN: the run lib/synctb's helpers act on
  RUN=$N
  local R=/run/xpro/topo/$N slot m1 m2 ids a h pid d p live="" drops st i
  local -a kill_pids=() dirs=() hosts=() daemons=()
  testbed "$CONF" --sync --cluster
  slot=$(ccli_db 198.18.2.101 CLUSTER KEYSLOT "x:{$VIC}")
  # the slot's master and one other master, with their replicas
  m1=$(ccli_db 198.18.2.101 CLUSTER NODES | awk -v s="$slot" \
    '$3 ~ /master/ { for (k = 9; k <= NF; k++) { split($k, a, "-"); if (s >= a[1] && s <= a[2]) print $1 } }')
  m2=$(ccli_db 198.18.2.101 CLUSTER NODES | awk -v f="$m1" '$3 ~ /master/ && $1 != f { print $1; exit }')
  ids=$(ccli_db 198.18.2.101 CLUSTER NODES | awk -v a="$m1" -v b="$m2" '$1 == a || $1 == b || $4 == a || $4 == b { print $2 }')
  [ "$(grep -c . <<< "$ids")" -eq 4 ]
  for a in $ids; do
    a=${a%%:*}
    h=db$((${a##*.} - 100))
    pid=$(awk -v h="$h" '$3 == h && $4 == "cluster-redis" { print $1 }' "$R/pids")
    [[ $pid =~ ^[0-9]+$ ]]
    d=$(grep -lx "$pid" "$R"/cluster/node*/redis.pid)
    [ -f "$d" ]
    kill_pids+=("$pid") dirs+=("${d%/redis.pid}") hosts+=("$h")
  done
  for a in 198.18.2.101 198.18.2.102 198.18.2.103 198.18.2.104 198.18.2.105 198.18.2.106; do
    [[ " ${hosts[*]} " == *" db$((${a##*.} - 100)) "* ]] || live=$a
  done
  # every daemon of every proxy, by PID
  mapfile -t daemons < <(awk '$3 ~ /^px[123]$/ { print $1 }' "$R/pids")
  ((${#daemons[@]} >= 6))
  kill -9 "${kill_pids[@]}"
  # the survivor sees the cluster down (node timeout 1.5 s)
  for _ in $(seq 50); do
    st=$(ccli_db "$live" CLUSTER INFO | tr -d '\r' | sed -n 's/^cluster_state://p')
    [[ $st == fail ]] && break
    sleep 0.2
  done
  [ "$st" = fail ]
  bot_send 200 > "$BATS_TEST_TMPDIR/bot.json"
  settle px1 198.18.32.9 $VIC 200
  drops=$(stat px1 .counters.drop_tf1)
  echo "# px1, the cluster down: dropped (TF1) $drops of 200" >&3
  ((drops > 0))
  for p in px1 px2 px3; do
    for _ in $(seq 30); do [[ $(stat $p .sync.syncdb.master) == down ]] && break; sleep 0.2; done
    [ "$(stat $p .sync.syncdb.master)" = down ]
  done
  [ "$(count px2 198.18.32.9 $VIC)" = 0 ]
  [ "$(count px3 198.18.32.9 $VIC)" = 0 ]
  for pid in "${daemons[@]}"; do kill -0 "$pid"; done
  # the four nodes again, from their nodes.conf (removed by topo down's
  # remove_cluster through their pid files)
  for i in "${!dirs[@]}"; do
    setsid nsenter --net="/run/netns/xt-$N-${hosts[i]}" -- /usr/bin/redis-server "${dirs[i]}/redis.conf" \
      < /dev/null > /dev/null 2>&1 &
  done
  for _ in $(seq 100); do
    st=$(ccli_db "$live" CLUSTER INFO | tr -d '\r' | sed -n 's/^cluster_state://p')
    [[ $st == ok ]] && break
    sleep 0.2
  done
  [ "$st" = ok ]
  agreed "$live" 198.18.32.9 200 || st=no
  echo "# the cluster's count once back: $GOT (200 sent)" >&3
  [ "$st" != no ]
  for p in px1 px2 px3; do
    [ "$(stat $p .sync.syncdb.master)" = up ]
  done
  for pid in "${daemons[@]}"; do kill -0 "$pid"; done
}
