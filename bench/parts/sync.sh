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
# Then syncdb alone (below): sync_merge_rps the median of 3 rounds of 100k
# records, sync_merge_vs_redis against redis-benchmark on the same servers
# with the same command mix, sync_merge_curve (a round against the records
# merged: 10k, 100k, 1M) and the resident sizes per record at 1M.
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

# merge rate of one syncdb alone: N deltas queued straight into a local
# Redis (as syncmaps queues them: l:{D}:q and l:q), one master, both in a
# namespace of their own (hash-max-listpack-entries $LISTPACK); the time from
# starting syncdb until its "merged" counter reaches N (the queues taken, L_DB
# read, the merge on the master, L_DB written: the whole round). RECORDS
# three times (sync_merge_rps: the median), then every count of
# BENCH_SYNC_CURVE once (the time of a round against the records it merges),
# with the resident size of syncdb and of both redis-servers at the largest.
MNS=bsyncm-$$
ip netns add "$MNS"
trap 'timeout 60 "$TOPO" down "$RUN" -q >/dev/null 2>&1 || true; [[ -n ${mpids:-} ]] && kill $mpids 2>/dev/null; sleep 0.3; ip netns del "$MNS" 2>/dev/null; rm -rf "$tmp" 2>/dev/null; true' EXIT
ip -n "$MNS" link set lo up
mpids=""
for port in 16401 16402; do
  # the project's launcher (it waits for the answer); LISTPACK replaces its 128
  mpids+=" $(scripts/xpro-redis start "$tmp/redis-$port" --netns "$MNS" --port $port \
    --set hash-max-listpack-entries "$LISTPACK")"
done
rcli() { nsenter --net=/run/netns/$MNS redis-cli "$@"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# merge_once N: sets MERGE to "ms syncdb_rss_kb local_rss_kb master_rss_kb"
# (run in this shell, not a subshell: syncdb's PID joins mpids for the trap)
merge_once() {
  local n=$1 now_us ms0 m line merge_ms="" spid rss
  rcli -p 16401 flushall >/dev/null
  rcli -p 16402 flushall >/dev/null
  rm -rf "$tmp/mstate"
  now_us=$(( $(date +%s%N) / 1000 ))
  # RESP from awk: one RPUSH of every destination's lines "i ts1 ts2 c dc mark"
  # (%.0f: mawk's %d stops at 2^31 - 1, and the times are in µs)
  awk -v n="$n" -v t="$now_us" 'function bulk(s) { return "$" length(s) "\r\n" s "\r\n" }
    BEGIN {
      for (i = 0; i < n; i++) {
        d = sprintf("198.18.1.%d", i % 64)
        q[d] = q[d] sprintf("198.%d.%d.%d %.0f %.0f 10 10 0\n", 18 + int(i / 64 / 62500), int(i / 64 / 250) % 250, int(i / 64) % 250, t - 1000000, t)
      }
      for (d in q)
        printf "*3\r\n%s%s%s*3\r\n%s%s%s", bulk("RPUSH"), bulk("l:{" d "}:q"), bulk(q[d]), bulk("SADD"), bulk("l:q"), bulk(d)
    }' | rcli -p 16401 --pipe >/dev/null
  ms0=$(date +%s%N)
  nsenter --net=/run/netns/$MNS "$O/bin/xpro" syncdb -i lo -c "$tmp/merge.conf" --duration 300 </dev/null >"$tmp/syncdb.log" 2>&1 &
  spid=$!
  mpids+=" $spid"
  for _ in $(seq 30000); do
    # read by the shell: a jq per poll would compete with syncdb for the CPU
    m=0 line=""
    [[ -f $tmp/mstate/$MNS/lo/syncdb.json ]] && read -r line < "$tmp/mstate/$MNS/lo/syncdb.json"
    [[ $line =~ \"merged\":([0-9]+) ]] && m=${BASH_REMATCH[1]}
    if [[ $m -ge $n ]]; then merge_ms=$(( ($(date +%s%N) - ms0) / 1000000 )); break; fi
    sleep 0.01
  done
  [[ -n $merge_ms ]] || { echo "bench sync: syncdb did not merge $n records within 300 s" >&2; exit 1; }
  # cat, not cp: syncdb replaces the file (rename) every period
  cat "$tmp/mstate/$MNS/lo/syncdb.json" > "$tmp/mstats.json"
  rss="$(rss_kb $spid) $(rss_kb "$(cat "$tmp/redis-16401/redis.pid")") $(rss_kb "$(cat "$tmp/redis-16402/redis.pid")")"
  kill "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  MERGE="$merge_ms $rss"
}
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
runs=()
for _ in 1 2 3; do
  merge_once "$RECORDS"
  read -r ms _ <<< "$MERGE"
  runs+=("$ms")
done
merge_ms=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p)
mstats=$(cat "$tmp/mstats.json")

# the same servers, the same command mix without syncdb: per record one field
# read (HMGET) and one written (HSET) on the local server and on the master,
# batched as syncdb batches them, BENCH_SYNC_MIX_FIELDS (64) fields a command,
# pipelined by 16 from one client (redis-benchmark); its records/s = RECORDS
# over the four commands' summed time for RECORDS fields each
MIXF=${BENCH_SYNC_MIX_FIELDS:-64}
bench_cmd() {
  nsenter --net=/run/netns/$MNS redis-benchmark -p "$1" -c 1 -P 16 -n $((RECORDS / MIXF)) -r 1000000 --csv "${@:2}" |
    awk -F'"' 'NR == 2 { print $4 }'
}
get=(hmget "x:{198.18.1.1}") set=(hset "x:{198.18.1.1}")
for ((f = 0; f < MIXF; f++)); do
  get+=(__rand_int__)
  set+=(__rand_int__ "1764962000000000 1764962001000000 10")
done
redis_s=0
for port in 16401 16402; do
  for c in get set; do
    declare -n cmd=$c
    rps=$(bench_cmd "$port" "${cmd[@]}")
    unset -n cmd
    redis_s=$(awk -v s="$redis_s" -v r="$rps" -v n="$((RECORDS / MIXF))" 'BEGIN { print s + n / r }')
  done
done
redis_rps=$(awk -v s="$redis_s" -v n="$RECORDS" 'BEGIN { printf "%d", n / s }')

curve="{}"
for n in ${BENCH_SYNC_CURVE:-10000 100000 1000000}; do
  merge_once "$n"
  read -r ms srss lrss mrss <<< "$MERGE"
  curve=$(jq -c --arg n "$n" --arg ms "$ms" --arg s "$srss" --arg l "$lrss" --arg m "$mrss" \
    '. + {($n): {ms: ($ms|tonumber), syncdb_rss_kb: ($s|tonumber), local_redis_rss_kb: ($l|tonumber), master_redis_rss_kb: ($m|tonumber)}}' <<< "$curve")
done
sleep 0.5
jq -n --argjson p "$(cat "$tmp/prop.json")" --argjson db "$(cat "$tmp/db.json")" \
  --argjson mp "$(cat "$tmp/maps.json")" --arg period "$PERIOD" --arg rec "$RECORDS" \
  --arg m0 "$m0" --arg fill "$fill_ms" --arg mms "$merge_ms" --arg lp "$LISTPACK" --argjson ms "$mstats" \
  --arg runs "${runs[*]}" --arg rrps "$redis_rps" --arg mixf "$MIXF" --argjson curve "$curve" '{
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
    sync_merge_runs_ms: ($runs | split(" ") | map(tonumber)),
    sync_redis_mix_rps: ($rrps | tonumber),
    sync_redis_mix_fields: ($mixf | tonumber),
    sync_merge_vs_redis: ((($rec | tonumber) / (($mms | tonumber) / 1000)) / ($rrps | tonumber) * 100 | round / 100),
    sync_merge_curve: $curve,
    syncdb_rss_bytes_per_record_1m: (if $curve["1000000"] then $curve["1000000"].syncdb_rss_kb * 1024 / 1000000 | round else null end),
    redis_local_rss_bytes_per_record_1m: (if $curve["1000000"] then $curve["1000000"].local_redis_rss_kb * 1024 / 1000000 | round else null end),
    redis_master_rss_bytes_per_record_1m: (if $curve["1000000"] then $curve["1000000"].master_redis_rss_kb * 1024 / 1000000 | round else null end),
    sync_merge_watch_conflicts: $ms.watch_conflicts,
    sync_merge_listpack_entries: ($lp | tonumber),
    syncdb_cpu_ms_per_period: $db.cpu_ms_per_period,
    syncmaps_cpu_ms_per_period: $mp.cpu_ms_per_period
  }'
