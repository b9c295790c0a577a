# The sync's testbed for the BATS suites 40-sync, 42-hostile-redis and
# 43-ops (load lib/synctb after lib/xpro): the default topology (three
# proxies px1..px3 with X-Pro on in0, a local redis-server each, the master
# on db at 198.18.2.100, a bot at 198.18.32.0/24, vic1), built and torn
# down by xpro-topo, and the helpers the suites share.
#
#   sync_setup PREFIX        setup(): the run's name (PREFIX-PID-TEST)
#   sync_teardown            teardown(): the daemons' logs of a failed test, then down
#   testbed CONF [OPTIONS]   up and start with CONF (xpro-topo start OPTIONS)
#   px P ARGS...             xpro on proxy P with its config
#   stat P JQ / count P CLIENT DEST / mcount CLIENT DEST
#   mredis ARGS... / lredis P ARGS...   redis-cli to the master / P's local Redis
#   send_spread N [OPT...]   the bot sends N packets at 50/s to each proxy (OPT: more
#                            xpt-udp send options, e.g. --six)
#   settle P CLIENT DEST WANT          poll (50 periods) until P's record is WANT
#   dpid P DAEMON            PID of a daemon (syncmaps, syncdb, redis, ...) of P
#   running P DAEMON         wait (5 s) until the sync daemon wrote its state: it
#                            runs, its signal handlers are set (before: SIGHUP kills)

B=${XPRO_BUILD:-build}
TOPO=topo/xpro-topo
UDP=$B/tests/tools/xpt-udp
export XPRO=$B/bin/xpro XPRO_TOPO_PROBE=$B/bin/xpro-topo-probe XPRO_TOPO_PING=$B/bin/xpro-topo-ping
CONF=$BATS_TEST_DIRNAME/sync.conf
BOT=198.18.32.5
VIC=198.18.1.101

sync_setup() {
  xp_require_root
  RUN=$1-$$-$BATS_TEST_NUMBER
  echo "$RUN" > "$BATS_TEST_TMPDIR/run"
}

sync_teardown() {
  local r=/run/xpro/topo/$RUN p
  if [[ -z ${BATS_TEST_COMPLETED:-} && -d $r ]]; then
    for p in px1 px2 px3; do
      for f in "$r/$p/syncmaps.log" "$r/$p/syncdb.log" "$r"/$p/xpro/*/in0/sync*.json; do
        [[ -f $f ]] && { echo "# == $f"; tail -n 15 "$f" | sed 's/^/#   /'; } >&3
      done
    done
  fi
  timeout 30 "$TOPO" down "$RUN" -q >/dev/null 2>&1 || true
}

topo() { timeout 60 "$TOPO" "$@"; }
pconf() { echo "/run/xpro/topo/$RUN/$1/xpro.conf"; }
px() { local p=$1; shift; topo exec "$RUN" "$p" timeout 10 "$XPRO" "$@" -c "$(pconf "$p")"; }
# stat P JQ: one value of proxy P's stats --json
stat() { px "$1" stats -i in0 --json --top 50 | jq -r "$2"; }
# count P CLIENT DEST: that record's count on proxy P (0 if absent)
count() { stat "$1" "[.top[] | select(.client == \"$2\" and .dest == \"$3\") | .count] | first // 0"; }
# (the password through REDISCLI_AUTH: never on a command line, where ps shows it)
mredis() { REDISCLI_AUTH=$(cat /run/xpro/topo/$RUN/secret) topo exec "$RUN" db timeout 5 redis-cli -h 198.18.2.100 --user xpro "$@"; }
# mcount CLIENT DEST: the master's count of (CLIENT, DEST): hash x:{DEST}, field
# CLIENT, value "ts1 ts2 c"
mcount() { mredis HGET "x:{$2}" "$1" | awk '{ print $3 }'; }

# testbed CONF [START-OPTIONS]: the default topology as run $RUN, its services
# started with CONF (X-Pro attached, Redis, and what the options add)
testbed() {
  local conf=$1; shift
  run topo up default --name "$RUN" -q
  assert_success
  run topo start "$RUN" --config "$conf" "$@" -q
  assert_success
}

# send_spread N [OPT...]: the bot sends N packets at 50/s to each proxy, concurrently
send_spread() {
  local p pids=() n=$1
  shift
  for p in 1 2 3; do
    topo exec "$RUN" bot timeout 30 "$UDP" send --proxy 198.18.0.$p --bind $BOT --dst $VIC --dport 9 \
      --count "$n" --interval-us 20000 "$@" > "$BATS_TEST_TMPDIR/send$p.json" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || return 1; done
  for p in 1 2 3; do
    [[ $(jq -r .sent "$BATS_TEST_TMPDIR/send$p.json") == "$n" ]] || return 1
  done
}

# bot_send N: the bot (198.18.32.9) sends N packets at 200/s through proxy 1
bot_send() {
  topo exec "$RUN" bot timeout 10 "$UDP" send --proxy 198.18.0.1 --bind 198.18.32.9 --dst $VIC --dport 9 \
    --count "$1" --interval-us 5000
}

# settle P CLIENT DEST WANT: poll (bounded: 50 periods) until the record is WANT
settle() {
  local i c
  for i in $(seq 50); do
    c=$(count "$1" "$2" "$3")
    [[ $c == "$4" ]] && return 0
    sleep 0.1
  done
  echo "# $1: record ($2, $3) is $c, expected $4" >&3
  stat "$1" '.top' | sed 's/^/#   /' >&3
  REDISCLI_AUTH=$(cat /run/xpro/topo/$RUN/secret) topo exec "$RUN" "$1" timeout 5 redis-cli --user xpro \
    HGET "l:{$3}" "$2" | sed 's/^/#   local (ts1 ts2 gc dc mark mts1 mts2): /' >&3
  echo "#   master: $(mredis HGET "x:{$3}" "$2")" >&3
  return 1
}

lredis() { local p=$1; shift; REDISCLI_AUTH=$(cat /run/xpro/topo/$RUN/secret) topo exec "$RUN" "$p" timeout 5 redis-cli --user xpro "$@"; }
dpid() { awk -v h="$1" -v d="$2" '$3 == h && $4 == d { print $1 }' /run/xpro/topo/$RUN/pids | tail -1; }
running() {
  local _
  for _ in $(seq 50); do
    compgen -G "/run/xpro/topo/$RUN/$1/xpro/*/in0/$2.json" > /dev/null && return 0
    sleep 0.1
  done
  return 1
}
