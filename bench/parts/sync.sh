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
# merge rate: RECORDS over the time from writing them into px1's map until
# px1's syncdb has merged them all on the master (its "merged" counter):
# syncmaps' push included
fill_ms=$(jq -r .fill_ms "$tmp/prop.json")
sleep 0.5
jq -n --argjson p "$(cat "$tmp/prop.json")" --argjson db "$(cat "$st/syncdb.json")" \
  --argjson mp "$(cat "$st/syncmaps.json")" --arg period "$PERIOD" --arg rec "$RECORDS" \
  --arg m0 "$m0" --arg fill "$fill_ms" '{
    sync_period_ms: ($period | tonumber),
    sync_records: ($rec | tonumber),
    sync_prop_p50_ms: $p.prop_p50_ms,
    sync_prop_p99_ms: $p.prop_p99_ms,
    sync_prop_max_ms: $p.prop_max_ms,
    sync_prop_p99_periods: ($p.prop_p99_ms / ($period | tonumber)),
    sync_fill_ms: $p.fill_ms,
    sync_merge_ms: $p.merge_ms,
    sync_merge_rps: (if $p.merge_ms > 0 then (($rec | tonumber) / ($p.merge_ms / 1000) | floor) else null end),
    syncdb_cpu_ms_per_period: $db.cpu_ms_per_period,
    syncmaps_cpu_ms_per_period: $mp.cpu_ms_per_period
  }'
