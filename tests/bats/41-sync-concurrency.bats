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

# hammer I: ROUNDS passes over the NREC records of proxy I, each adding a
# delta of 1-3 (the record's window restarted at first: PUSH semantics);
# the total added per record is written to $BATS_TEST_TMPDIR/sum.I.R
hammer() {
  local i=$1 r k d
  declare -A sum
  {
    for ((r = 0; r < NREC; r++)); do
      k="l:{198.18.1.$((r + 1))}:198.18.32.1"
      echo "HSET $k ts1 $now_us ts2 $now_us gc 0 dc 0 mark 0 gen 1 mts1 0 mts2 0"
      echo "SADD l:dirty $k"
    done
    for ((d = 0; d < ROUNDS; d++)); do
      for ((r = 0; r < NREC; r++)); do
        k="l:{198.18.1.$((r + 1))}:198.18.32.1"   # the same client on every proxy
        echo "HINCRBY $k dc $(( (d + r + i) % 3 + 1 ))"
        echo "SADD l:dirty $k"
      done
    done
  } > "$BATS_TEST_TMPDIR/cmds.$i"
  for ((r = 0; r < NREC; r++)); do
    s=0
    for ((d = 0; d < ROUNDS; d++)); do s=$((s + (d + r + i) % 3 + 1)); done
    echo $s > "$BATS_TEST_TMPDIR/sum.$i.$r"
  done
  # one command at a time: the daemons interleave with the additions
  xp_exec "$NS" timeout 120 sh -c "while read -r line; do echo \"\$line\"; done < '$BATS_TEST_TMPDIR/cmds.$i' |
    redis-cli -p ${L[$i]} --user xpro --pass '$XP_REDIS_PASS' --no-auth-warning > /dev/null"
}

run_case() { # extra syncdb flags
  local i r want got
  for i in 1 2 3; do
    conf $i
    # the first records exist (created by hammer's first lines) before the
    # daemons start only partly: a daemon may take a record half-written
    # by HSET; each HSET is atomic, so it sees all of it or none
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
      got=$(rcli "${L[$i]}" HMGET "l:{198.18.1.$((r + 1))}:198.18.32.1" gc dc | paste -sd' ')
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

# quiet PORTS...: wait (bounded: 5 s) until no local has anything dirty,
# then let every daemon run 5 more periods
quiet() {
  local t p n
  for t in $(seq 50); do
    n=0
    for p in "$@"; do n=$((n + $(rcli "$p" SCARD l:dirty))); done
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
  base=1700000000000000   # us
  RANDOM=4242
  for round in 0 1 2 3 4 5; do
    # the same inputs into both sets, proxy by proxy, then both settle
    for i in 1 2 3; do
      cmds=""
      for k in 0 1 2 3 4 5; do
        key="l:{198.18.1.$((k + 1))}:198.18.32.$((k % 3 + 1))"
        t1=$((base + round * 2500000 + RANDOM % 1000))
        t2=$((t1 + 100000 + RANDOM % 900000))
        d=$((1 + RANDOM % 50))
        # each record's update is atomic, as syncmaps' PUSH script is
        cmds+="MULTI"$'\n'
        if (( round == 0 || (RANDOM % 4 == 0) )); then
          # a window that restarted here (PUSH with mark = 1)
          cmds+="HSET $key ts1 $t1 ts2 $t2 gc 0 dc $d mark 1 mts1 0 mts2 0"$'\n'"HINCRBY $key gen 1"$'\n'
        else
          cmds+="HINCRBY $key dc $d"$'\n'"HSET $key ts2 $t2"$'\n'
        fi
        cmds+="SADD l:dirty $key"$'\n'"EXEC"$'\n'
      done
      for p in "${L[$i]}" "${L2[$i]}"; do
        printf '%s' "$cmds" | xp_exec "$NS" timeout 10 redis-cli -p "$p" --user xpro --pass "$XP_REDIS_PASS" --no-auth-warning > /dev/null
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
