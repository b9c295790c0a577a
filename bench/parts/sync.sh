#!/usr/bin/env bash
# make bench, part "sync": the sync daemons on four proxies (xpro-topo
# default topology with --proxies 4: local Redis each, one master, xpro
# syncmaps + syncdb, the fast exchange), 100k records present.
# Prints one JSON object:
#   sync_period_ms, sync_prop_p50_ms, sync_prop_p99_ms (a record written
#   into proxy 1's map until all three others hold it; 100 trials at random
#   phases of the period), sync_merge_rps (records merged per second by one
#   syncdb while the 100k records arrive), syncdb_cpu_ms_per_period and
#   syncmaps_cpu_ms_per_period (proxy 1, averaged over the whole run).
# Tears its testbed down on every exit path.
set -euo pipefail
cd "$(dirname "$0")/../.."
O=${O:-build}
RUN=bsync-$$
PERIOD=${BENCH_SYNC_PERIOD_MS:-100}
RECORDS=${BENCH_SYNC_RECORDS:-100000}
TRIALS=${BENCH_SYNC_TRIALS:-100}
# the merge servers' hash-max-listpack-entries: 128 as xpro-topo sets it;
# BENCH_SYNC_LISTPACK=512 shows what Debian's default costs (docs/sync.md)
LISTPACK=${BENCH_SYNC_LISTPACK:-128}
export XPRO=$O/bin/xpro XPRO_TOPO_PROBE=$O/bin/xpro-topo-probe XPRO_TOPO_PING=$O/bin/xpro-topo-ping
TOPO=topo/xpro-topo
tmp=$(mktemp -d)
trap 'timeout 60 "$TOPO" down "$RUN" -q >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

# records stay active for the whole run (TT1 a minute); thresholds high:
# the bench measures the sync, not the filter
cat > "$tmp/sync.conf" <<EOC
tt1_ms = 60000
tt2_ms = 1000
tt3_ms = 1000
tf1 = 1000000
tf2 = 100000000
sync_period_ms = $PERIOD
max_records = 262144
EOC
timeout 60 "$TOPO" up default --name "$RUN" --proxies 4 -q >&2
timeout 60 "$TOPO" start "$RUN" --config "$tmp/sync.conf" --sync -q >&2
maps=""
for p in 1 2 3 4; do maps+="${maps:+,}/run/xpro/bpf/xt-$RUN-px$p/in0/xpro_records"; done
st=/run/xpro/topo/$RUN/px1/xpro/xt-$RUN-px1/in0
sleep 1
m0=$(jq -r .merged "$st/syncdb.json")
t0=$(date +%s%N)
timeout 600 "$O"/bench/bench-sync --maps "$maps" --records "$RECORDS" --trials "$TRIALS" \
  --period-ms "$PERIOD" --status "$st/syncdb.json" > "$tmp/prop.json"
t1=$(date +%s%N)
fill_ms=$(jq -r .fill_ms "$tmp/prop.json")
cp "$st/syncdb.json" "$tmp/db.json"
cp "$st/syncmaps.json" "$tmp/maps.json"
# the merge rate is measured alone: the four proxies' daemons stop first
timeout 60 "$TOPO" down "$RUN" -q >&2

# merge rate of one syncdb alone: RECORDS deltas queued straight into a
# local Redis (as syncmaps queues them: l:{D}:q and l:q), one master, both
# in a namespace of their own (hash-max-listpack-entries $LISTPACK);
# the time from starting syncdb until its "merged" counter reaches RECORDS
# (the queues taken, L_DB read, the merge on the master, L_DB written: the
# whole round)
MNS=bsyncm-$$
ip netns add "$MNS"
trap 'timeout 60 "$TOPO" down "$RUN" -q >/dev/null 2>&1 || true; [[ -n ${mpids:-} ]] && kill $mpids 2>/dev/null; ip netns del "$MNS" 2>/dev/null; rm -rf "$tmp"' EXIT
ip -n "$MNS" link set lo up
mpids=""
for port in 16401 16402; do
  # the project's launcher (it waits for the answer); LISTPACK replaces its 128
  mpids+=" $(scripts/xpro-redis start "$tmp/redis-$port" --netns "$MNS" --port $port \
    --set hash-max-listpack-entries "$LISTPACK")"
done
now_us=$(( $(date +%s%N) / 1000 ))
# RESP from awk: one RPUSH of every destination's lines "i ts1 ts2 c dc mark"
awk -v n="$RECORDS" -v t="$now_us" 'function bulk(s) { return "$" length(s) "\r\n" s "\r\n" }
  BEGIN {
    for (i = 0; i < n; i++) {
      d = sprintf("198.18.1.%d", i % 64)
      q[d] = q[d] sprintf("198.18.%d.%d %d %d 10 10 0\n", 64 + int(i / 64 / 250), int(i / 64) % 250, t - 1000000, t)
    }
    for (d in q)
      printf "*3\r\n%s%s%s*3\r\n%s%s%s", bulk("RPUSH"), bulk("l:{" d "}:q"), bulk(q[d]), bulk("SADD"), bulk("l:q"), bulk(d)
  }' | nsenter --net=/run/netns/$MNS redis-cli -p 16401 --pipe >/dev/null
cat > "$tmp/merge.conf" <<EOC
tt1_ms = 60000
tt2_ms = 1000
tt3_ms = 1000
sync_period_ms = 10
redis_local = 127.0.0.1:16401
redis_master = 127.0.0.1:16402
proxy_id = bench
state_dir = $tmp/mstate
EOC
ms0=$(date +%s%N)
nsenter --net=/run/netns/$MNS "$O/bin/xpro" syncdb -i lo -c "$tmp/merge.conf" --duration 120 </dev/null >"$tmp/syncdb.log" 2>&1 &
mpids+=" $!"
merge_ms=""
for _ in $(seq 12000); do
  # read by the shell: a jq per poll would compete with syncdb for the CPU
  m=0 line=""
  [[ -f $tmp/mstate/$MNS/lo/syncdb.json ]] && read -r line < "$tmp/mstate/$MNS/lo/syncdb.json"
  [[ $line =~ \"merged\":([0-9]+) ]] && m=${BASH_REMATCH[1]}
  if [[ $m -ge $RECORDS ]]; then merge_ms=$(( ($(date +%s%N) - ms0) / 1000000 )); break; fi
  sleep 0.01
done
[[ -n $merge_ms ]] || { echo "bench sync: syncdb did not merge $RECORDS records within 120 s" >&2; exit 1; }
mstats=$(cat "$tmp/mstate/$MNS/lo/syncdb.json")
sleep 0.5
jq -n --argjson p "$(cat "$tmp/prop.json")" --argjson db "$(cat "$tmp/db.json")" \
  --argjson mp "$(cat "$tmp/maps.json")" --arg period "$PERIOD" --arg rec "$RECORDS" \
  --arg m0 "$m0" --arg fill "$fill_ms" --arg mms "$merge_ms" --arg lp "$LISTPACK" --argjson ms "$mstats" '{
    sync_period_ms: ($period | tonumber),
    sync_records: ($rec | tonumber),
    sync_prop_p50_ms: $p.prop_p50_ms,
    sync_prop_p99_ms: $p.prop_p99_ms,
    sync_prop_max_ms: $p.prop_max_ms,
    sync_prop_p99_periods: ($p.prop_p99_ms / ($period | tonumber)),
    sync_fill_ms: $p.fill_ms,
    sync_proxy1_merge_ms: $p.merge_ms,
    sync_merge_ms: ($mms | tonumber),
    sync_merge_rps: (($rec | tonumber) / (($mms | tonumber) / 1000) | floor),
    sync_merge_watch_conflicts: $ms.watch_conflicts,
    sync_merge_listpack_entries: ($lp | tonumber),
    syncdb_cpu_ms_per_period: $db.cpu_ms_per_period,
    syncmaps_cpu_ms_per_period: $mp.cpu_ms_per_period
  }'
