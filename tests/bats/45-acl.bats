#!/usr/bin/env bats
# Least privilege on the master (docs/sync.md, "Security"): xpro-topo start
# gives each proxy P its own ACL user xpro-P (the shared records x:{D}, its
# own W xw:P and clock xc:P, the others' read only, appends to the alert and
# warning streams), a read-only user xpro-alerts for `xpro alerts --all`,
# and the administrator xpro; every password in a 0600 file, read by the
# daemons through redis_password_file, never on a command line.
#
# The sync run is the first test of 40-sync.bats (tests/bats/sync.conf):
# the bot sends 50 packets/s, 100 to each of the three proxies, towards vic1;
# worked by hand, every proxy's record ends at 300 (the sum) and the master
# holds 300, once. With the per-proxy users the same must hold, and the
# master's ACL LOG must stay empty: no command of the sync was refused.

load lib/xpro
load lib/synctb

setup() { sync_setup s45; }
teardown() {
  [[ -f $BATS_TEST_TMPDIR/r/redis.pid ]] && scripts/xpro-redis stop "$BATS_TEST_TMPDIR/r"
  sync_teardown
}

R() { echo "/run/xpro/topo/$RUN"; }
# as P USER ARGS...: redis-cli to the master from host P as USER, the
# password (from its file) through REDISCLI_AUTH
as() {
  local h=$1 u=$2 f; shift 2
  case $u in
    xpro) f=$(R)/secret ;;
    xpro-alerts) f=$(R)/alerts.pass ;;
    *) f=$(R)/${u#xpro-}/redis.pass ;;
  esac
  REDISCLI_AUTH=$(cat "$f") topo exec "$RUN" "$h" timeout 5 redis-cli -h 198.18.2.100 --user "$u" "$@" 2>&1
}
# denied USER ARGS...: the master refuses the command to USER (ACL DRYRUN,
# asked as the administrator, names the reason)
denied() {
  local u=$1; shift
  run mredis ACL DRYRUN "$u" "$@"
  [[ $output == *"no permissions"* ]] || { echo "# ACL DRYRUN $u $*: $output" >&3; return 1; }
}
allowed() {
  local u=$1; shift
  run mredis ACL DRYRUN "$u" "$@"
  [[ $output == OK ]] || { echo "# ACL DRYRUN $u $*: $output" >&3; return 1; }
}

# a synced run of 40-sync's first test; ps sampled throughout for passwords
synced_run() {
  testbed "$1" --sync
  for _ in $(seq 40); do ps -eo args; sleep 0.1; done > "$BATS_TEST_TMPDIR/ps.txt" &
  local sampler=$!
  # long-lived clients of the administrator and of px1's user meanwhile
  # (with `redis-cli --pass` their password would be in the sample)
  mredis SUBSCRIBE xpro:chg > /dev/null &
  as px1 xpro-px1 SUBSCRIBE xpro:chg > /dev/null &
  send_spread 100
  for p in px1 px2 px3; do settle "$p" $BOT $VIC 300; done
  wait "$sampler"
  wait
  run mcount $BOT $VIC
  assert_output 300
  for p in px1 px2 px3; do (( $(stat $p .counters.drop_tf1) > 0 )); done
  # every password of the run, and none on a command line
  local f
  for f in "$(R)/secret" "$(R)/alerts.pass" "$(R)"/px{1,2,3}/redis.pass; do
    [[ $(command stat -c %a "$f") == 600 ]]
    [[ -s $f ]]
    ! grep -qF -- "$(tr -d '\n' < "$f")" "$BATS_TEST_TMPDIR/ps.txt" || false
  done
  (( $(wc -l < "$BATS_TEST_TMPDIR/ps.txt") > 40 ))
  grep -q "xpro syncdb" "$BATS_TEST_TMPDIR/ps.txt"
  grep -q "redis-cli -h 198.18.2.100 --user xpro-px1 SUBSCRIBE" "$BATS_TEST_TMPDIR/ps.txt"
  # each proxy's daemons authenticated as its own user; none was refused
  for p in px1 px2 px3; do
    grep -q "^redis_user = xpro-$p$" "$(pconf $p)"
    ! grep -q "^redis_password =" "$(pconf $p)" || false
  done
  run mredis ACL LOG
  assert_success
  assert_output ""
  run mredis CLIENT LIST
  assert_output --partial "user=xpro-px1"
  assert_output --partial "user=xpro-px3"
}

@test "per-proxy users: a synced run enforces as before, nothing refused, no password in ps" {
  synced_run "$CONF"
}

@test "per-proxy users with master_merge = lua: every batch through the script, nothing refused" {
  { cat "$CONF"; echo "master_merge = lua"; } > "$BATS_TEST_TMPDIR/lua.conf"
  synced_run "$BATS_TEST_TMPDIR/lua.conf"
  # the merges went through EVALSHA (the script), run by the proxies' users
  run mredis INFO commandstats
  assert_output --regexp 'cmdstat_evalsha:calls=[1-9]'
  refute_output --regexp 'cmdstat_evalsha:.*rejected_calls=[1-9]'
  refute_output --regexp 'cmdstat_hset:.*rejected_calls=[1-9]'

}

# xw:px2 holds px2's own W (0: no traffic in these tests) or nothing
px2_w_own() { local v; v=$(mredis GET xw:px2); [[ $v == 0 || -z $v ]]; }

@test "a proxy's user cannot write another proxy's W, clock or the streams' history, nor run admin commands" {
  testbed "$CONF" --sync
  running px1 syncdb
  # its own W and clock: yes (what syncdb does every period)
  run as px1 xpro-px1 SET xw:px1 7 PX 1000
  assert_output OK
  allowed xpro-px1 SET xc:px1 "1 2" PX 1000
  # another proxy's: refused, by the server, and the value stays px2's own
  # (its W is 0: no traffic in this test)
  for k in xw:px2 xc:px2 xw:px3 xc:px3; do
    run as px1 xpro-px1 SET "$k" 1
    assert_output --partial NOPERM
    run as px1 xpro-px1 DEL "$k"
    assert_output --partial NOPERM
  done
  # px2's own value (0), or none between two of its periods under load (the
  # key expires 1.3 s after px2's last write): never the 1 px1 tried
  px2_w_own
  # nor through a script (scripts run with the caller's rights)
  run as px1 xpro-px1 EVAL "return redis.call('SET', KEYS[1], '1')" 1 xw:px2
  assert_output --partial NOPERM
  run as px1 xpro-px1 EVAL "return redis.call('FLUSHALL')" 0
  assert_output --partial "can't run this command"
  px2_w_own
  # warnings and alerts: appended (shared streams), never removed or trimmed
  run as px1 xpro-px1 XADD xpro:warnings:log '*' eve '{}'
  assert_output --regexp '^[0-9]+-[0-9]+$'
  for c in "DEL xpro:warnings:log" "XTRIM xpro:warnings:log MAXLEN 0" "DEL xpro:alerts:log" "SREM xpro:proxies px2"; do
    # shellcheck disable=SC2086
    run as px1 xpro-px1 $c
    assert_output --partial NOPERM
  done
  [[ $(mredis XLEN xpro:warnings:log) -ge 1 ]]
  # no administration
  run as px1 xpro-px1 FLUSHALL
  assert_output --partial NOPERM
  run as px1 xpro-px1 CONFIG GET maxmemory
  assert_output --partial NOPERM
  run as px1 xpro-px1 SCRIPT FLUSH
  assert_output --partial NOPERM
  run as px1 xpro-px1 KEYS '*'
  assert_output --partial NOPERM
  denied xpro-px1 DEBUG SLEEP 0
  denied xpro-px1 FLUSHDB
  denied xpro-px1 SHUTDOWN
  denied xpro-px1 ACL SETUSER xpro-px1 +@all
  denied xpro-px1 PUBLISH other-channel x
  (( $(mredis DBSIZE) > 0 ))
  # everything the sync sends (xpro/master.c, master.lua, syncdb.c, period.c)
  allowed xpro-px1 WATCH "x:{$VIC}"
  allowed xpro-px1 HMGET "x:{$VIC}" 198.18.32.5
  allowed xpro-px1 HSET "x:{$VIC}" 198.18.32.5 "1 2 3"
  allowed xpro-px1 HDEL "x:{$VIC}" 198.18.32.5
  allowed xpro-px1 HGETALL "x:{$VIC}"
  allowed xpro-px1 PEXPIRE "x:{$VIC}" 1000
  allowed xpro-px1 PUBLISH xpro:chg x
  allowed xpro-px1 PUBLISH xpro:alerts x
  allowed xpro-px1 PUBLISH xpro:warnings x
  allowed xpro-px1 SUBSCRIBE xpro:chg
  allowed xpro-px1 EVALSHA 0123456789012345678901234567890123456789 1 "x:{$VIC}"
  allowed xpro-px1 EVAL 'return 1' 1 "x:{$VIC}"
  allowed xpro-px1 SCRIPT LOAD 'return 1'
  allowed xpro-px1 SCAN 0 MATCH 'x:{*}' COUNT 100
  allowed xpro-px1 MGET xw:px2 xc:px2 xw:px3 xc:px3
  allowed xpro-px1 SADD xpro:proxies px1
  allowed xpro-px1 SMEMBERS xpro:proxies
  # the records format (docs/sync.md, "Format version"): set if absent, read
  allowed xpro-px1 SET xpro:format 2 NX
  allowed xpro-px1 MGET xpro:format
  allowed xpro-px1 XADD xpro:alerts:log MAXLEN '~' 10000 '*' eve x
  allowed xpro-px1 TIME
  # px2's user is another: px1's rules do not extend to it
  allowed xpro-px2 SET xw:px2 1
  denied xpro-px2 SET xw:px1 1
}

@test "the read-only user follows every proxy's alerts with xpro alerts --all, and cannot write" {
  testbed "$CONF" --sync
  [[ $(command stat -c %a "$(R)/alerts.conf") == 600 ]]
  topo exec "$RUN" px3 timeout 20 "$XPRO" alerts --all -c "$(R)/alerts.conf" --duration 4 \
    > "$BATS_TEST_TMPDIR/all.jsonl" 2> "$BATS_TEST_TMPDIR/all.err" &
  local follower=$!
  sleep 1
  # an overload alert as syncdb publishes it, by px2's user
  run as px2 xpro-px2 PUBLISH xpro:alerts '{"type":"overload","proxy":"px2","w":9,"t_w":5,"ts":1}'
  assert_output 1
  wait "$follower" || true
  run jq -r 'select(.type == "overload") | .proxy' "$BATS_TEST_TMPDIR/all.jsonl"
  assert_output px2
  ! grep -q refused "$BATS_TEST_TMPDIR/all.err" || false
  # reads: yes; writes of any kind: no
  run as px3 xpro-alerts SMEMBERS xpro:proxies
  assert_output --partial px1
  run as px3 xpro-alerts XRANGE xpro:alerts:log - +
  refute_output --partial NOPERM
  for c in "SET xw:px1 1" "HSET x:{$VIC} 198.18.32.5 1" "XADD xpro:alerts:log * eve x" \
           "PUBLISH xpro:alerts x" "DEL xpro:proxies" "FLUSHALL" "CONFIG GET maxmemory"; do
    # shellcheck disable=SC2086
    run as px3 xpro-alerts $c
    assert_output --partial NOPERM
  done
  denied xpro-alerts EVAL "return 1" 0
  denied xpro-alerts HGETALL "x:{$VIC}"
}

@test "redis_password_file: read verbatim ('#' and spaces kept), mode checked; a '#' in redis_password is named" {
  local d=$BATS_TEST_TMPDIR pw='p#ss w0rd#'
  # a server whose only user has that password (the launcher's ACL file)
  printf '%s' "$pw" > "$d/pw"; chmod 600 "$d/pw"
  printf 'user default off\nuser u on #%s ~* &* +@all\n' "$(printf '%s' "$pw" | sha256sum | cut -d' ' -f1)" > "$d/users.acl"
  run timeout 20 scripts/xpro-redis start "$d/r" --port 16445 --acl-file "$d/users.acl" --user u --pass-file "$d/pw"
  assert_success
  # the file as an editor leaves it: a trailing newline, dropped
  printf '%s\n' "$pw" > "$d/pw.nl"; chmod 600 "$d/pw.nl"
  printf 'redis_master = 127.0.0.1:16445\nredis_user = u\nredis_password_file = %s\nstate_dir = %s/st\n' "$d/pw.nl" "$d" > "$d/c.conf"
  timeout 10 "$XPRO" alerts --all -c "$d/c.conf" --duration 3 > "$d/out.jsonl" 2> "$d/err" &
  local follower=$!
  sleep 1
  [[ $(REDISCLI_AUTH=$pw timeout 5 redis-cli -p 16445 --user u PUBLISH xpro:alerts '{"type":"overload","proxy":"pz"}') == 1 ]]
  wait "$follower" || true
  run jq -r .proxy "$d/out.jsonl"
  assert_output pz
  ! grep -q refused "$d/err" || false
  # readable by others: refused, by name
  chmod 644 "$d/pw.nl"
  run "$XPRO" config show -c "$d/c.conf"
  assert_failure
  assert_output --partial "redis_password_file: $d/pw.nl is readable or writable by group or others (mode 644)"
  # both keys: one too many
  chmod 600 "$d/pw.nl"
  printf 'redis_password = x\n' >> "$d/c.conf"
  run "$XPRO" config show -c "$d/c.conf"
  assert_failure
  assert_output --partial "redis_password and redis_password_file are both set"
  # the old key cuts at '#': said so, not silent
  printf 'redis_password = %s\n' 'p#ss' > "$d/old.conf"
  run "$XPRO" config show -c "$d/old.conf"
  assert_output --partial "redis_password: the text from '#' on is a comment; a password with '#' needs redis_password_file"
  # the launcher refuses an ACL file that leaves the default user as it is
  printf 'user u on nopass ~* +@all\n' > "$d/open.acl"
  run timeout 20 scripts/xpro-redis start "$d/r2" --port 16446 --acl-file "$d/open.acl" --user u --pass-file "$d/pw"
  assert_failure 1
  assert_output --partial "does not set the default user"
}
