#!/usr/bin/env bats
# xpro's Redis Cluster client (xpro/rcluster.h, docs/sync.md "Redis Cluster:
# the client") against a real cluster: 6 redis-server 7.0 nodes (3 masters,
# 3 replicas, node timeout 1.5 s) from `xpro-redis cluster start` on
# 127.0.0.1, the ACL user xpro on every node. tests/tools/xpt-cluster.c drives
# the client: rounds of one batch of SETs of 1000 keys "t:{198.18.1.d}:i"
# (value "r<round>") and one batch of GETs that checks every value read
# against what the tool knows it wrote. Each test stops every node by PID in
# teardown (xpro-redis cluster stop), the tool by its PID.

load lib/xpro

LAUNCHER=scripts/xpro-redis B=${XPRO_BUILD:-build}
T=$B/tests/tools/xpt-cluster

setup() {
  [[ -x $T ]] || { echo "missing $T: run make build"; return 1; }
  C=$BATS_TEST_TMPDIR/c PASSF=$BATS_TEST_TMPDIR/pass W=$BATS_TEST_TMPDIR TP=""
  printf '%s' 'cl pw"47' > "$PASSF"
}

teardown() {
  [[ -n $TP ]] && kill -TERM "$TP" 2>/dev/null && wait "$TP" 2>/dev/null
  "$LAUNCHER" cluster stop "$C" 2>/dev/null
  xp_teardown_all
}

# up [one]: the cluster, at a random base port (another one while a port or
# a bus port, port + 10000, is taken: status 3); NODES: its lines "PID ADDR:PORT ROLE"; P0: node 1's port.
# one: a single cluster node in $C/node1 instead, no slot assigned
up() {
  local n
  for n in 1 2 3 4 5 6 7 8; do
    P0=$((29000 + (RANDOM % 300) * 10))
    if [[ ${1:-} == one ]]; then
      run timeout 30 "$LAUNCHER" start "$C/node1" --port "$P0" --cluster-node 1500 --user xpro --pass-file "$PASSF"
    else
      run timeout 90 "$LAUNCHER" cluster start "$C" --base-port "$P0" --user xpro --pass-file "$PASSF"
    fi
    [[ $status -ne 3 ]] && break
    rm -rf "$C" # the launcher stopped what it started; no old log is read again
  done
  assert_success
  NODES=("${lines[@]}")
}

# cli PORT ARGS...: redis-cli to 127.0.0.1:PORT as xpro (password from the environment)
cli() { local p=$1; shift; REDISCLI_AUTH=$(< "$PASSF") timeout 10 redis-cli -p "$p" --user xpro "$@"; }
# ports ROLE: the ports of the nodes of that role; pid_of PORT
ports() { printf '%s\n' "${NODES[@]}" | awk -v r="$1" '$3 == r { sub(/.*:/, "", $2); print $2 }'; }
pid_of() { printf '%s\n' "${NODES[@]}" | awk -v a="127.0.0.1:$1" '$2 == a { print $1 }'; }
# owner SLOT: the port of the master serving SLOT, as node 1 sees it
owner() { cli "$P0" --json CLUSTER SLOTS | jq -r --argjson s "$1" '.[] | select(.[0] <= $s and $s <= .[1]) | .[2][1]'; }

# tool ARGS...: xpt-cluster run in the background (its PID in TP), seeded
# with nodes 1 and 4; its JSON goes to $W/out.json
tool() {
  rm -f "$W/stop" "$W/prog"
  timeout 150 "$T" run --seeds "127.0.0.1:$P0,127.0.0.1:$((P0 + 3))" --user xpro --pass-file "$PASSF" \
    --progress "$W/prog" --stop-file "$W/stop" --duration 120 "$@" > "$W/out.json" 2> "$W/err" &
  TP=$!
}
# round: the tool's last finished round; wait_round N: until it has finished round N
round() { cat "$W/prog" 2>/dev/null || echo 0; }
wait_round() {
  local i
  for ((i = 0; i < 600; i++)); do
    (($(round) >= $1)) && return 0
    kill -0 "$TP" 2>/dev/null || { echo "xpt-cluster ended early: $(cat "$W/err")"; return 1; }
    sleep 0.1
  done
  echo "xpt-cluster: round $1 not reached in 60 s (at $(round))"; return 1
}
# finish [wait]: stop the tool after its present round (wait: let it end by
# itself); its JSON in OUT; j KEY: one value
finish() {
  [[ ${1:-} == wait ]] || touch "$W/stop"
  wait "$TP"
  TP=""
  OUT=$(cat "$W/out.json")
  echo "xpt-cluster: $OUT"
  tail -n 5 "$W/err"
}
j() { jq -r ".$1" <<< "$OUT"; }

# migrate S A B: slot S's keys from the master at port A to the one at B, the
# slot left MIGRATING on A and IMPORTING on B (the client gets ASK); NK: the
# keys moved; IDB: B's node id
migrate() {
  local ida keys
  ida=$(cli "$2" CLUSTER MYID) IDB=$(cli "$3" CLUSTER MYID)
  [ "$(cli "$3" CLUSTER SETSLOT "$1" IMPORTING "$ida")" = OK ]
  [ "$(cli "$2" CLUSTER SETSLOT "$1" MIGRATING "$IDB")" = OK ]
  mapfile -t keys < <(cli "$2" CLUSTER GETKEYSINSLOT "$1" 1000)
  NK=${#keys[@]}
  [ "$(cli "$2" MIGRATE 127.0.0.1 "$3" "" 0 5000 AUTH2 xpro "$(< "$PASSF")" KEYS "${keys[@]}")" = OK ]
}
# hand_over S A B: slot S is B's (after migrate S A B); every master told, B and A first
hand_over() {
  local p
  for p in "$3" "$2" $(ports master | grep -vx "$2" | grep -vx "$3"); do
    [ "$(cli "$p" CLUSTER SETSLOT "$1" NODE "$IDB")" = OK ]
  done
}
# move_slot S A B: migrate, 3 rounds of the client (ASK), hand_over, 3 more (MOVED), finish
move_slot() {
  local r
  migrate "$@"
  r=$(round)
  wait_round $((r + 3))
  hand_over "$@"
  r=$(round)
  wait_round $((r + 3))
  finish
}

@test "key slots agree with the cluster's CLUSTER KEYSLOT; hostile seed lists refused; 1000 {D}-tagged keys over all 3 masters written and read back exactly, by SET and by a script loaded on every master" {
  local k want got m sum=0 n sha
  up
  for k in 123456789 somekey 'foo{hash_tag}' '{user1000}.following' 'foo{}{bar}' 'foo{{bar}}zap' 'a{b' '{}' \
           'x:{198.18.1.5}:198.18.0.1' 'x:{2001:db8::c612:105}:2001:db8::c612:64' 't:{198.18.1.250}:999'; do
    want=$(cli "$P0" CLUSTER KEYSLOT "$k")
    got=$("$T" keyslot "$k" | cut -d' ' -f1)
    [[ $got == "$want" ]] || { echo "$k: client $got, cluster $want"; false; }
  done
  for k in '' '127.0.0.1' "127.0.0.1:$P0," '2001:db8::1:7000' 'localhost:7000' "127.0.0.1:$P0,127.0.0.1:$P0" '127.0.0.1:70000'; do
    run "$T" run --seeds "$k" --rounds 1
    assert_failure 2
    assert_output --partial 'xpt-cluster: --seeds: '
  done
  tool --rounds 3
  finish wait
  [ "$(j rounds)" -eq 3 ]
  [ "$(j ops_ok)" -eq 6000 ]
  [ "$(j ops_failed)" -eq 0 ]
  [ "$(j mismatches)" -eq 0 ]
  # on the servers: every master holds some keys, together the 1000, no more
  for m in $(ports master); do
    n=$(cli "$m" DBSIZE)
    ((n > 0)) || { echo "master $m holds no key"; false; }
    sum=$((sum + n))
  done
  [ "$sum" -eq 1000 ]
  # a key read by redis-cli through the cluster: the last round's value
  [ "$(cli "$P0" -c GET 't:{198.18.1.7}:6')" = r3 ]
  [ "$(cli "$P0" -c GET 't:{198.18.1.50}:999')" = r3 ]
  # the SETs through a Lua script: loaded on each of the 3 masters (scripts are per node)
  sha=$(printf '%s' "return redis.call('SET', KEYS[1], ARGV[1])" | sha1sum | cut -d' ' -f1)
  run timeout 60 "$T" run --seeds "127.0.0.1:$P0" --user xpro --pass-file "$PASSF" --rounds 2 --eval
  assert_success
  assert_line "xpt-cluster: the script $sha loaded on 3 masters"
  OUT=$(grep '^{' <<< "$output")
  [ "$(j ops_ok)" -eq 4000 ]
  [ "$(j mismatches)" -eq 0 ]
  for m in $(ports master); do [ "$(cli "$m" SCRIPT EXISTS "$sha")" = 1 ]; done
  [ "$(cli "$P0" -c GET 't:{198.18.1.7}:6')" = r2 ]
}

@test "ASK forced by hand (CLUSTER SETSLOT MIGRATING/IMPORTING, MIGRATE), then MOVED, while the client runs: every key read back exactly, ASK and MOVED seen" {
  local s a b
  up
  s=$("$T" keyslot '{198.18.1.1}' | cut -d' ' -f1)
  a=$(owner "$s")
  b=$(ports master | grep -vx "$a" | head -n 1)
  tool
  wait_round 3
  move_slot "$s" "$a" "$b"
  # the slot's keys moved: 20 of the 1000 (i = 0, 50, ..., 950)
  [ "$NK" -eq 20 ]
  [ "$(cli "$a" CLUSTER COUNTKEYSINSLOT "$s")" -eq 0 ]
  [ "$(j ops_failed)" -eq 0 ]
  [ "$(j mismatches)" -eq 0 ]
  [ "$(j failed_rounds)" -eq 0 ]
  (($(j ask) > 0))
  (($(j moved) > 0))
  # on b, the slot's keys hold the last round's value
  [ "$(cli "$b" CLUSTER COUNTKEYSINSLOT "$s")" -eq 20 ]
  [ "$(cli "$b" GET 't:{198.18.1.1}:0')" = "r$(j rounds)" ]
  [ "$(owner "$s")" = "$b" ]
}

@test "redis-cli --cluster reshard of 1000 slots while the client runs: no command fails, every key read back exactly, nothing lost or doubled, MOVED seen" {
  local a b ida idb before after moved_tags=0 d s m r sum=0
  up
  a=$(ports master | head -n 1)
  b=$(ports master | sed -n 2p)
  ida=$(cli "$a" CLUSTER MYID) idb=$(cli "$b" CLUSTER MYID)
  before=$(cli "$P0" --json CLUSTER SLOTS)
  tool --dests 250
  wait_round 3
  REDISCLI_AUTH=$(< "$PASSF") run timeout 120 redis-cli --cluster reshard "127.0.0.1:$P0" --user xpro \
    --cluster-from "$ida" --cluster-to "$idb" --cluster-slots 1000 --cluster-yes
  assert_success
  r=$(round)
  wait_round $((r + 3))
  finish
  after=$(cli "$P0" --json CLUSTER SLOTS)
  # how many of the 250 tags changed hands (a's first 1000 slots: ~15 expected)
  for ((d = 1; d <= 250; d++)); do
    s=$("$T" keyslot "{198.18.1.$d}" | cut -d' ' -f1)
    [[ $(jq -r --argjson s "$s" '.[] | select(.[0] <= $s and $s <= .[1]) | .[2][1]' <<< "$before") != \
       $(jq -r --argjson s "$s" '.[] | select(.[0] <= $s and $s <= .[1]) | .[2][1]' <<< "$after") ]] &&
      moved_tags=$((moved_tags + 1))
  done
  echo "tags moved: $moved_tags"
  ((moved_tags > 0))
  [ "$(j ops_failed)" -eq 0 ]
  [ "$(j mismatches)" -eq 0 ]
  [ "$(j failed_rounds)" -eq 0 ]
  (($(j moved) > 0))
  for m in $(ports master); do sum=$((sum + $(cli "$m" DBSIZE))); done
  [ "$sum" -eq 1000 ]
}

@test "a master killed with SIGKILL: its replica is promoted, the client refreshes its map and goes on; every write succeeds again" {
  local s a pid i r promoted="" p
  up
  s=$("$T" keyslot '{198.18.1.1}' | cut -d' ' -f1)
  a=$(owner "$s")
  pid=$(pid_of "$a")
  tool
  wait_round 3
  kill -KILL "$pid"
  # the replica of a takes over within the node timeout (1.5 s) and an election
  for ((i = 0; i < 150; i++)); do
    [[ -z $promoted ]] || break
    sleep 0.2
    for p in $(ports replica); do
      [[ $(cli "$p" ROLE 2>/dev/null | head -n 1) == master ]] && promoted=$p
    done
  done
  [ -n "$promoted" ]
  echo "replica $promoted promoted after ~$((i * 200)) ms"
  r=$(round)
  wait_round $((r + 5))
  finish
  # the loss was seen (failed rounds, a lost connection) and got over:
  # the last 5 or more rounds wrote and read all 1000 keys
  (($(j failed_rounds) > 0))
  (($(j conn_lost) > 0))
  (($(j refreshes) >= 2))
  (($(j ok_rounds_after) >= 5))
  [ "$(j mismatches)" -eq 0 ]
  [ "$(owner "$s")" = "$promoted" ]
  [ "$(cli "$promoted" GET 't:{198.18.1.1}:0')" = "r$(j rounds)" ]
}

@test "a master announcing a malformed address (cluster-announce-ip not-an-ip): every map naming it refused, the old map kept; ASK and MOVED to it fail only that slot's commands, with the reason; the other keys go on" {
  local s a b p i seen
  up
  s=$("$T" keyslot '{198.18.1.1}' | cut -d' ' -f1)
  a=$(owner "$s")
  b=$(ports master | grep -vx "$a" | head -n 1)
  tool --verbose
  wait_round 3
  [ "$(cli "$b" CONFIG SET cluster-announce-ip not-an-ip)" = OK ]
  # until every node's CLUSTER SLOTS names b so (gossip: a few seconds)
  for ((i = 0; i < 150; i++)); do
    seen=0
    for p in $(ports master) $(ports replica); do cli "$p" CLUSTER SLOTS | grep -qx not-an-ip && seen=$((seen + 1)); done
    ((seen == 6)) && break
    sleep 0.2
  done
  [ "$seen" -eq 6 ]
  # the slot of {198.18.1.1} (its 20 keys) to b: ASK, then MOVED, both to "not-an-ip:PORT"
  move_slot "$s" "$a" "$b"
  # one map installed, the first; every later one refused
  [ "$(j refreshes)" -eq 1 ]
  (($(j maps_refused) > 0))
  (($(j ops_failed) > 0))
  [ "$(j mismatches)" -eq 0 ]
  grep -q "the last slot map refused: node 127.0.0.1:[0-9]*: slot map refused, the old one kept: CLUSTER SLOTS: range [0-9]*, node 0: 'not-an-ip' is not an IP address" "$W/err"
  # every failed command is one of the slot's, refused for its redirect
  grep -E '^xpt-cluster: round [0-9]+: (SET|GET) ' "$W/err" > "$W/failed"
  [ -s "$W/failed" ]
  run grep -v "t:{198.18.1.1}:" "$W/failed"
  assert_failure 1
  run grep -v "redirect '\(ASK\|MOVED\) $s not-an-ip:$b': 'not-an-ip': not a dotted IPv4 address" "$W/failed"
  assert_failure 1
  # the other 980 keys: written and read every round
  (($(j ops_ok) >= $(j rounds) * 1960))
}

@test "TRYAGAIN and CLUSTERDOWN: retried with backoff, bounded in count (8) and in time (the budget), then the command fails with the server's error; a node back within the budget answers" {
  local s a b last out
  up
  # cmd ARGS...: one command through the client; its output in out
  cmd() { out=$(timeout 30 "$T" cmd --seeds "127.0.0.1:$P0" --user xpro --pass-file "$PASSF" "$@"); }
  s=$("$T" keyslot '{198.18.1.1}' | cut -d' ' -f1)
  a=$(owner "$s")
  b=$(ports master | grep -vx "$a" | head -n 1)
  cmd SET '{198.18.1.1}a' 1
  cmd SET '{198.18.1.1}b' 2
  # TRYAGAIN: the slot migrating from a to b, one of the two keys moved
  [ "$(cli "$b" CLUSTER SETSLOT "$s" IMPORTING "$(cli "$a" CLUSTER MYID)")" = OK ]
  [ "$(cli "$a" CLUSTER SETSLOT "$s" MIGRATING "$(cli "$b" CLUSTER MYID)")" = OK ]
  [ "$(cli "$a" MIGRATE 127.0.0.1 "$b" '{198.18.1.1}a' 0 5000 AUTH2 xpro "$(< "$PASSF")")" = OK ]
  run cmd MGET '{198.18.1.1}a' '{198.18.1.1}b'
  assert_failure 1
  cmd MGET '{198.18.1.1}a' '{198.18.1.1}b' || true
  [ "$(head -n 1 <<< "$out")" = "failed: node 127.0.0.1:$a: TRYAGAIN Multiple keys request during rehashing of slot (after 8 retries)" ]
  [ "$(tail -n 1 <<< "$out" | jq .tryagain)" -eq 9 ]
  (($(tail -n 1 <<< "$out" | jq .ms) <= 3000))
  # the same with a budget of 200 ms: the time bound ends it first
  cmd --budget-ms 200 MGET '{198.18.1.1}a' '{198.18.1.1}b' || true
  [ "$(head -n 1 <<< "$out")" = "failed: no answer within 200 ms" ]
  (($(tail -n 1 <<< "$out" | jq .tryagain) < 9))
  # CLUSTERDOWN: a gives up the last slot of its range; its state is fail
  last=$(cli "$a" --json CLUSTER SLOTS | jq -r --argjson p "$a" '[.[] | select(.[2][1] == $p) | .[1]] | max')
  [ "$(cli "$a" CLUSTER DELSLOTS "$last")" = OK ]
  cli "$a" CLUSTER INFO | tr -d '\r' | grep -qx cluster_state:fail
  cmd GET '{198.18.1.1}b' || true
  [ "$(head -n 1 <<< "$out")" = "failed: node 127.0.0.1:$a: CLUSTERDOWN The cluster is down (after 8 retries)" ]
  [ "$(tail -n 1 <<< "$out" | jq .clusterdown)" -eq 9 ]
  # the slot given back half a second into a retrying command: it answers
  (sleep 0.5; cli "$a" CLUSTER ADDSLOTS "$last" > /dev/null) &
  cmd --budget-ms 5000 GET '{198.18.1.1}b'
  wait
  [ "$(head -n 1 <<< "$out")" = "string: 2" ]
  (($(tail -n 1 <<< "$out" | jq .clusterdown) > 0))
}

@test "a cluster of one node, which has not learnt its own address (CLUSTER SLOTS names it \"\"): taken as the node that answered" {
  local i
  up one
  [ "$(cli "$P0" CLUSTER ADDSLOTSRANGE 0 16383)" = OK ]
  [ "$(cli "$P0" --json CLUSTER SLOTS | jq -r '.[0][2][0]')" = "" ]
  for ((i = 0; i < 50; i++)); do
    cli "$P0" CLUSTER INFO | tr -d '\r' | grep -qx cluster_state:ok && break
    sleep 0.2
  done
  run timeout 30 "$T" cmd --seeds "127.0.0.1:$P0" --user xpro --pass-file "$PASSF" --budget-ms 10000 SET '{198.18.1.1}a' one
  assert_success
  assert_line "string: OK"
  [ "$(cli "$P0" GET '{198.18.1.1}a')" = one ]
}

@test "every node down: each batch fails within its bound (no hang), the tool goes on; the failures name the cause" {
  local r t0 t1 p
  up
  tool --budget-ms 1000
  wait_round 3
  run "$LAUNCHER" cluster stop "$C"
  assert_success
  # no redis-server of the cluster is left
  for p in $(printf '%s\n' "${NODES[@]}" | cut -d' ' -f1); do
    [[ $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null) != *redis-server* ]]
  done
  r=$(round)
  t0=$(date +%s)
  wait_round $((r + 5))
  finish
  t1=$(date +%s)
  (($(j failed_rounds) >= 5))
  (($(j ops_failed) >= 5000))
  [ "$(j mismatches)" -eq 0 ]
  # a batch's bound: the budget (1 s) and a connect timeout per node (6 x 1 s);
  # refused connections on 127.0.0.1 take far less
  (($(j max_batch_ms) <= 7000))
  ((t1 - t0 <= 60))
  grep -Eq 'connection lost|not connected|no slot map|no answer within' "$W/err"
}
