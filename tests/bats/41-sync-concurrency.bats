#!/usr/bin/env bats
# No lost update on the master: three `xpro syncdb` processes (three
# proxies, each with its own local redis-server) merge the same records into
# one master at the same time, while their local deltas keep growing.
# TT1 and TT4 are a day, so only the merge branches of Algorithm 1 run (no
# window reset, no decay). Expected, by hand: the master's count of each
# record is the sum of every delta added on every proxy, and once the
# deltas stop, every proxy's global count equals the master's.
# Both exchanges: the changed-records default and the reference full scan.

load lib/xpro

XPRO=${XPRO_BUILD:-build}/bin/xpro
NREC=16      # records, shared by all three proxies
ROUNDS=300   # delta additions per proxy per record

setup() {
  xp_require_root
  export XP_REDIS_USER=xpro XP_REDIS_PASS=conc-$$-pw
  NS=$(xp_ns_new conc)
  M=$(xp_redis_start "$NS")
  for i in 1 2 3; do
    L[$i]=$(xp_redis_start "$NS")
  done
  now_us=$(( $(date +%s%N) / 1000 ))
}

teardown() {
  xp_dump_on_failure
  xp_teardown_all
}

rcli() { xp_redis_cli "$@"; }
# CLOCK_TAI now, us: the clock of the records
tai_us() { python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_TAI) // 1000)'; }

conf() { # I MODE-FLAGS
  cat > "$BATS_TEST_TMPDIR/p$1.conf" <<EOF
tt1_ms = 86400000
tt2_ms = 100
tt3_ms = 100
tt4_ms = 86400000
sync_period_ms = 20
redis_local = 127.0.0.1:${L[$1]}
redis_master = 127.0.0.1:$M
redis_user = xpro
redis_password = $XP_REDIS_PASS
proxy_id = p$1
state_dir = $BATS_TEST_TMPDIR/state$1
EOF
}

# hammer I: ROUNDS passes over the NREC records of proxy I, each queueing
# a delta of 1-3 as syncmaps does (docs/sync.md: a line "i ts1 ts2 c' dc
# mark" on l:{D}:q, D into l:q; c' = dc, so the first one creates the
# record with gc = 0); the total per record goes to $BATS_TEST_TMPDIR/sum.I.R
hammer() {
  local i=$1 r d x
  {
    for ((d = 0; d < ROUNDS; d++)); do
      for ((r = 0; r < NREC; r++)); do
        x=$(( (d + r + i) % 3 + 1 ))   # the same client on every proxy
        echo "RPUSH l:{198.18.1.$((r + 1))}:q \"198.18.32.1 $now_us $now_us $x $x 0\""
        echo "SADD l:q 198.18.1.$((r + 1))"
      done
    done
  } > "$BATS_TEST_TMPDIR/cmds.$i"
  for ((r = 0; r < NREC; r++)); do
    s=0
    for ((d = 0; d < ROUNDS; d++)); do s=$((s + (d + r + i) % 3 + 1)); done
    echo $s > "$BATS_TEST_TMPDIR/sum.$i.$r"
  done
  # one command at a time: the daemons interleave with the additions
  REDISCLI_AUTH=$XP_REDIS_PASS xp_exec "$NS" timeout 120 sh -c "while read -r line; do echo \"\$line\"; done < '$BATS_TEST_TMPDIR/cmds.$i' |
    redis-cli -p ${L[$i]} --user xpro > /dev/null"
}

run_case() { # extra syncdb flags
  local i r want got
  for i in 1 2 3; do
    conf $i
    # the daemons start while the queues fill: a daemon takes a queue
    # whole (MULTI LRANGE DEL EXEC), each RPUSH is atomic
    P[$i]=$(xp_spawn --ns "$NS" syncdb$i "$XPRO" syncdb -i lo -c "$BATS_TEST_TMPDIR/p$i.conf" "$@")
  done
  for i in 1 2 3; do hammer $i & done
  wait
  # let every daemon run several more periods after the last addition
  sleep 1.5
  for ((r = 0; r < NREC; r++)); do
    want=0
    for i in 1 2 3; do want=$((want + $(cat "$BATS_TEST_TMPDIR/sum.$i.$r"))); done
    got=$(rcli "$M" HGET "x:{198.18.1.$((r + 1))}" 198.18.32.1 | awk '{ print $3 }')
    [[ $got == "$want" ]] || { echo "# record $r: master $got, sum of deltas $want" >&3; return 1; }
    for i in 1 2 3; do
      # "ts1 ts2 gc dc mark mts1 mts2"
      got=$(rcli "${L[$i]}" HGET "l:{198.18.1.$((r + 1))}" 198.18.32.1 | awk '{ print $3, $4 }')
      [[ $got == "$want 0" ]] || { echo "# proxy $i record $r: gc dc = $got, want $want 0" >&3; return 1; }
    done
  done
  for i in 1 2 3; do
    kill -0 "${P[$i]}"
    ! grep -q "refused\|bad field" "$(xp_log_of "${P[$i]}")"
    jq -e '.merged > 0 and .branches.reset == 0 and .branches.decay == 0' \
      "$BATS_TEST_TMPDIR/state$i/$NS/lo/syncdb.json" > /dev/null
  done
}

@test "three syncdb merging the same records concurrently lose no update (changed records)" {
  run_case
}

@test "three syncdb merging the same records concurrently lose no update (reference full scan)" {
  run_case --full-scan
}

# dump_master PORT: every master record (hash x:{D}, field i, "ts1 ts2 c"),
# sorted, one line each
dump_master() {
  local k
  for k in $(rcli "$1" --scan --pattern 'x:{*'); do
    rcli "$1" HGETALL "$k" | paste -d' ' - - | sed "s/^/$k /"
  done | sort
}

# quiet PORTS...: wait (bounded: 5 s) until no local has a queue or
# anything dirty, then let every daemon run 5 more periods
quiet() {
  local t p n
  for t in $(seq 50); do
    n=0
    for p in "$@"; do n=$((n + $(rcli "$p" SCARD l:dirty) + $(rcli "$p" SCARD l:q))); done
    [[ $n == 0 ]] && break
    sleep 0.1
  done
  sleep 0.3
}

@test "the fast exchange reaches the same master state as the reference full scan" {
  # a second set: three locals and a master for the reference
  M2=$(xp_redis_start "$NS")
  for i in 1 2 3; do L2[$i]=$(xp_redis_start "$NS"); done
  # TT1 3 s: windows restart (the RESET branch). TT4 a day: no decay, whose
  # repetition by the reference's every-period merges makes its pace, not
  # only its inputs, decide the state (docs/sync.md, "Equivalence")
  for i in 1 2 3; do
    conf $i
    sed -i 's/^tt1_ms = .*/tt1_ms = 3000/' "$BATS_TEST_TMPDIR/p$i.conf"
    sed "s/^redis_local = .*/redis_local = 127.0.0.1:${L2[$i]}/; s/^redis_master = .*/redis_master = 127.0.0.1:$M2/;
         s/^state_dir = .*/state_dir = ${BATS_TEST_TMPDIR//\//\\/}\/ref$i/" "$BATS_TEST_TMPDIR/p$i.conf" > "$BATS_TEST_TMPDIR/r$i.conf"
    F[$i]=$(xp_spawn --ns "$NS" fast$i "$XPRO" syncdb -i lo -c "$BATS_TEST_TMPDIR/p$i.conf")
    R[$i]=$(xp_spawn --ns "$NS" ref$i "$XPRO" syncdb -i lo -c "$BATS_TEST_TMPDIR/r$i.conf" --full-scan)
  done
  # us: every window 20 to 6 s ago (what is read from Redis must lie within
  # max_window_ms before now and never ahead: docs/sync.md, Validation)
  base=$((now_us - 20000000))
  RANDOM=4242
  for round in 0 1 2 3 4 5; do
    # the same inputs into both sets, proxy by proxy, then both settle
    for i in 1 2 3; do
      cmds="MULTI"$'\n'   # one transaction, as syncmaps queues a period's deltas
      for k in 0 1 2 3 4 5; do
        t1=$((base + round * 2500000 + RANDOM % 1000))
        t2=$((t1 + 100000 + RANDOM % 900000))
        d=$((1 + RANDOM % 50))
        # mark 1: a window that restarted here (replaces the local record)
        mark=$(( round == 0 || (RANDOM % 4 == 0) ))
        cmds+="RPUSH l:{198.18.1.$((k + 1))}:q \"198.18.32.$((k % 3 + 1)) $t1 $t2 $d $d $mark\""$'\n'
        cmds+="SADD l:q 198.18.1.$((k + 1))"$'\n'
      done
      cmds+="EXEC"$'\n'
      for p in "${L[$i]}" "${L2[$i]}"; do
        printf '%s' "$cmds" | REDISCLI_AUTH=$XP_REDIS_PASS xp_exec "$NS" timeout 10 redis-cli -p "$p" --user xpro > /dev/null
        rcli "$p" PUBLISH l:kick 1 > /dev/null
      done
      quiet "${L[@]}" "${L2[@]}"
    done
  done
  dump_master "$M" > "$BATS_TEST_TMPDIR/fast.txt"
  dump_master "$M2" > "$BATS_TEST_TMPDIR/ref.txt"
  [[ $(wc -l < "$BATS_TEST_TMPDIR/ref.txt") == 6 ]]
  run diff "$BATS_TEST_TMPDIR/ref.txt" "$BATS_TEST_TMPDIR/fast.txt"
  [[ -z $output ]] || echo "$output" | sed "s/^/# /" >&3
  assert_success
  # and the branches that ran include window resets and plain merges
  jq -s -e 'map(.branches) | (map(.reset) | add) > 0 and (map(.tell) | add) > 0' \
    "$BATS_TEST_TMPDIR"/ref*/$NS/lo/syncdb.json > /dev/null
}

@test "malformed local values are rejected with a log line; the records beside them merge" {
  conf 1
  P=$(xp_spawn --ns "$NS" syncdb1 "$XPRO" syncdb -i lo -c "$BATS_TEST_TMPDIR/p1.conf")
  D=198.18.1.9
  # in L_DB: a value that is not 7 integers (taken as absent, replaced by
  # the delta queued for it), and a good record with a pending delta of 4
  # (gc 0, dc 4: its count c' = gc + dc = 4, new to the master: c = 4)
  rcli "${L[1]}" HSET "l:{$D}" 198.18.32.7 "abc 1 2" 198.18.32.6 "$now_us $now_us 0 4 0 0 0" > /dev/null
  rcli "${L[1]}" SADD l:dirty "l:{$D}:198.18.32.6" > /dev/null
  # queued: a window with ts1 > ts2, a client that is no address, a line
  # short of a field, then two good deltas (3 new, 2 onto the bad value)
  rcli "${L[1]}" RPUSH "l:{$D}:q" "198.18.32.8 5 4 1 1 0
nobody $now_us $now_us 1 1 0
198.18.32.5 $now_us $now_us 1 1
198.18.32.9 $now_us $now_us 3 3 0
198.18.32.7 $now_us $now_us 2 2 0" > /dev/null
  rcli "${L[1]}" SADD l:q "$D" 198.18.1.300 > /dev/null
  rcli "${L[1]}" PUBLISH l:kick 1 > /dev/null
  for _ in $(seq 50); do
    [[ $(rcli "$M" HLEN "x:{$D}") == 3 ]] && break
    sleep 0.1
  done
  # by hand: the three good records merge with their counts; no other
  run rcli "$M" HKEYS "x:{$D}"
  [[ $(echo "$output" | sort | paste -sd' ') == "198.18.32.6 198.18.32.7 198.18.32.9" ]]
  [[ $(rcli "$M" HGET "x:{$D}" 198.18.32.9 | awk '{ print $3 }') == 3 ]]
  [[ $(rcli "$M" HGET "x:{$D}" 198.18.32.7 | awk '{ print $3 }') == 2 ]]
  [[ $(rcli "$M" HGET "x:{$D}" 198.18.32.6 | awk '{ print $3 }') == 4 ]]
  # L_DB: merged (dc 0), the bad value replaced
  [[ $(rcli "${L[1]}" HGET "l:{$D}" 198.18.32.7 | awk '{ print $3, $4 }') == "2 0" ]]
  kill -0 "$P"
  log=$(xp_log_of "$P")
  grep -q "l:{$D}:q field line: '198.18.32.8 5 4 1 1 0' refused" "$log"
  grep -q "l:{$D}:198.18.32.7 field value: 'abc 1 2' refused (not 7 non-negative integers" "$log"
  jq -e '.rejected >= 4' "$BATS_TEST_TMPDIR/state1/$NS/lo/syncdb.json" > /dev/null
}

@test "local records idle past the expiry are swept from L_DB; a live one stays" {
  conf 1
  # TT1 200 ms, period 20 ms: the expiry is 2 TT1 + 10 periods = 600 ms
  sed -i 's/^tt1_ms = .*/tt1_ms = 200/; s/^tt2_ms = .*/tt2_ms = 50/; s/^tt3_ms = .*/tt3_ms = 50/' \
    "$BATS_TEST_TMPDIR/p1.conf"
  D=198.18.1.10 t=$(tai_us)
  # two records last seen in 1970 (the sweep drops them: idle, and outside
  # what validation takes), and one live
  rcli "${L[1]}" HSET "l:{$D}" 198.18.32.1 "1000 2000 5 0 0 1000 2000" 198.18.32.2 "1000 2000 5 3 0 1000 2000" \
    198.18.32.3 "$t $t 5 0 0 $t $t" > /dev/null
  P=$(xp_spawn --ns "$NS" syncdb1 "$XPRO" syncdb -i lo -c "$BATS_TEST_TMPDIR/p1.conf")
  for _ in $(seq 40); do
    # the live client keeps sending: its deltas keep l:{D} from expiring
    t=$(tai_us)
    rcli "${L[1]}" RPUSH "l:{$D}:q" "198.18.32.3 $t $t 1 1 0" > /dev/null
    rcli "${L[1]}" SADD l:q "$D" > /dev/null
    sleep 0.1
    [[ $(rcli "${L[1]}" HLEN "l:{$D}") == 1 ]] && break
  done
  run rcli "${L[1]}" HKEYS "l:{$D}"
  [[ $output == 198.18.32.3 ]]
  kill -0 "$P"
  jq -e '.swept == 2' "$BATS_TEST_TMPDIR/state1/$NS/lo/syncdb.json" > /dev/null
}

@test "a master that refuses writes (out of memory): the deltas stay in L_DB and merge once it takes them" {
  conf 1
  D=198.18.1.11
  rcli "$M" CONFIG SET maxmemory 1 > /dev/null   # every write: OOM
  P=$(xp_spawn --ns "$NS" syncdb1 "$XPRO" syncdb -i lo -c "$BATS_TEST_TMPDIR/p1.conf")
  rcli "${L[1]}" RPUSH "l:{$D}:q" "198.18.32.1 $now_us $now_us 7 7 0
198.18.32.2 $now_us $now_us 5 5 0" > /dev/null
  rcli "${L[1]}" SADD l:q "$D" > /dev/null
  rcli "${L[1]}" PUBLISH l:kick 1 > /dev/null
  log=$(xp_log_of "$P")
  for _ in $(seq 30); do grep -q "master refused the batch of x:{$D}" "$log" && break; sleep 0.1; done
  grep -q "master refused the batch of x:{$D}" "$log"
  # nothing on the master; the deltas kept in L_DB (gc 0, dc 7 and 5)
  [[ $(rcli "$M" EXISTS "x:{$D}") == 0 ]]
  [[ $(rcli "${L[1]}" HGET "l:{$D}" 198.18.32.1 | awk '{ print $3, $4 }') == "0 7" ]]
  [[ $(rcli "${L[1]}" HGET "l:{$D}" 198.18.32.2 | awk '{ print $3, $4 }') == "0 5" ]]
  rcli "$M" CONFIG SET maxmemory 0 > /dev/null
  for _ in $(seq 30); do [[ $(rcli "$M" HLEN "x:{$D}") == 2 ]] && break; sleep 0.1; done
  [[ $(rcli "$M" HGET "x:{$D}" 198.18.32.1 | awk '{ print $3 }') == 7 ]]
  [[ $(rcli "$M" HGET "x:{$D}" 198.18.32.2 | awk '{ print $3 }') == 5 ]]
  [[ $(rcli "${L[1]}" HGET "l:{$D}" 198.18.32.1 | awk '{ print $3, $4 }') == "7 0" ]]
  kill -0 "$P"
}
