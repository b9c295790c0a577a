#!/usr/bin/env bats
# Crash consistency (docs/reliability.md): SIGKILL of px1's syncmaps and
# syncdb, alternately, at random points of a period, mid-attack; each is
# started again (xpro-topo start --sync) and the attack goes on. `make test`
# kills 5 times; `make test-faults` (XPRO_FAULT_KILLS=50) 50 times.
#
# The bound (docs/reliability.md, derived from the code): a syncmaps kill
# counts twice at most the deltas of the push it interrupted (queued in
# Redis, not yet taken from the map): the packets px1 counted between two
# dumps; a syncdb kill loses at most the deltas of the round it interrupted
# (taken from the queues, not yet written to L_DB or the master): the
# packets queued since its previous round. Each kill here comes at least
# 300 ms after the previous restart (the restarted daemon has completed
# periods again), so both are at most what px1 counts in two periods at the
# bot's rate: 1000 packets/s x 0.2 s = 200 packets per kill.
#
# TF1 and TF2 far above the flood, TT4 a day (no decay halves the count
# during the long attack). Expected, worked by hand: the master ends within [sent - 200 x syncdb
# kills, sent + 200 x syncmaps kills], and every proxy's record equals the
# master's (the write-back brings each map to the merged view).

load lib/xpro
load lib/synctb

setup() { sync_setup s44; }
teardown() { sync_teardown; }

KILLS=${XPRO_FAULT_KILLS:-5}
RATE=1000      # packets/s of the bot through each of px1 and px2
PER_KILL=200   # the bound per kill, packets (above)

@test "SIGKILL of syncmaps and syncdb at random points of a period, $KILLS times mid-attack: the counts stay within the stated bound, every proxy agrees with the master" {
  # TF1 and TF2 far above the flood (the count is checked, not the
  # verdict); TT4 a day: no decay during the long attack
  sed 's/^tf1 = .*/tf1 = 4000000000/; s/^tf2 = .*/tf2 = 4000000000\ntt4_ms = 86400000/' "$CONF" > "$BATS_TEST_TMPDIR/flood.conf"
  testbed "$BATS_TEST_TMPDIR/flood.conf" --sync
  # long enough for the kills: about 2.5 s each (the restart), 3 s more
  n=$(( RATE * (KILLS * 25 / 10 + 3) ))
  t0=$SECONDS
  for p in 1 2; do
    # (not topo: its 60 s limit is shorter than 50 kills)
    timeout $((2 * n / RATE + 90)) "$TOPO" exec "$RUN" bot timeout $((2 * n / RATE + 60)) "$UDP" send --proxy 198.18.0.$p --bind $BOT --dst $VIC --dport 9 \
      --count "$n" --interval-us $((1000000 / RATE)) > "$BATS_TEST_TMPDIR/send$p.json" 2>&1 &
  done
  sleep 1
  kmaps=0 kdb=0
  for ((k = 0; k < KILLS; k++)); do
    d=$([[ $((k % 2)) == 0 ]] && echo syncmaps || echo syncdb)
    # a random point of a period: 300 ms plus 0-99 ms
    sleep "0.3$(printf '%02d' $((RANDOM % 100)))"
    pid=$(dpid px1 $d)
    kill -9 "$pid"
    # gone (reaped) before xpro-topo looks for it
    for _ in $(seq 100); do [[ -e /proc/$pid ]] || break; sleep 0.02; done
    [[ ! -e /proc/$pid ]]
    if [[ $d == syncmaps ]]; then kmaps=$((kmaps + 1)); else kdb=$((kdb + 1)); fi
    run topo start "$RUN" --sync -q
    assert_success
    [[ $(dpid px1 $d) != "$pid" ]]
    sleep 0.5
  done
  echo "# kills done after $((SECONDS - t0)) s; the bot sends for $((n / RATE)) s" >&3
  wait
  sent=0
  for p in 1 2; do
    s=$(jq -r .sent "$BATS_TEST_TMPDIR/send$p.json") || { sed 's/^/# /' "$BATS_TEST_TMPDIR/send$p.json" >&3; false; }
    sent=$((sent + s))
  done
  [[ $sent == $((2 * n)) ]] || { cat "$BATS_TEST_TMPDIR"/send*.json | sed "s/^/# /" >&3; false; }
  # quiet: every delta merged and written back (the master stops moving)
  m=-1
  for _ in $(seq 20); do
    sleep 0.5
    m2=$(mcount $BOT $VIC)
    [[ $m2 == "$m" ]] && break
    m=$m2
  done
  echo "# sent $sent, master $m; $kmaps syncmaps kills, $kdb syncdb kills (bound $PER_KILL each)" >&3
  (( m >= sent - PER_KILL * kdb && m <= sent + PER_KILL * kmaps ))
  for p in px1 px2 px3; do settle $p $BOT $VIC "$m"; done
}
