#!/usr/bin/env bash
# bench part "veth": X-Pro on a veth next to the filters a user would pick
# instead, same veth, same generator (xpro-bot --fast: XDP live frames, syn
# vector, 1000 bots), same run:
#
#   gen ns b0 (198.18.0.200/24, bots 198.18.32.0/20) ==== IN px ns (198.18.0.1/24)
#   px ns o0 (198.18.1.1/24) ==== v0 vic ns (198.18.1.5/24)
#
# The generator runs on CPU GEN_CPU (default 1); IN's NAPI is threaded and
# pinned to the other CPU (VETH_THREADED=0: the filter runs in the generator's
# softirq instead), so the generator can offer more than a filter takes.
# Per variant: packets the filter took per second (drop filters: what it
# processed; forwarding: what reached v0, counted there by xpro-bot
# --rx-count), and what the generator offered (its summary over its wall time):
#   veth_xdp_drop_pps       bench/baseline.bpf.c xdp_drop (bpf_stats run count)
#   veth_xpro_drop_pps      X-Pro, TF1 = 1 packet/s, TT2 = 0: every bot dropped
#   veth_nft_pps            the nft defense: X-Pro filter = off (decapsulates,
#                           XDP_PASS) and experiments/xpro-exp's per-(source,
#                           destination) limit at TF1 = 100 in the forward hook
#                           (packets that reached the hook)
#   veth_iptables_pps       the same with iptables hashlimit (srcip,dstip)
#   veth_xpro_fwd_pps       X-Pro decapsulates and redirects (thresholds out of reach)
#   veth_kernel_route_pps   the same inner packets (inline mode), kernel routing
#   veth_offered_pps        the least the generator offered in any variant
# and the programs' ns/packet from bpf_stats (veth_*_ns). The ratios count
# only where every variant was offered more than the fastest filter took
# (veth_ratios_valid). veth_xpro_id_drop_pps: X-Pro with the client identity
# on, the bots keyless (null with an X-Pro without it). Then the curves (below): veth_curve, ns/packet of X-Pro's
# drop and forward paths against the records present, on 1 and 2 RX queues.
# VETH_SECONDS (3) per run, VETH_QUEUES (2), VETH_RECORDS ("10000 100000
# 1000000 4194304"; empty: no curves).
set -euo pipefail
cd "$(dirname "$0")/../.."
O=${O:-build}
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_init veth
BOT=$O/bin/xpro-bot XPRO=$O/bin/xpro
T=${VETH_SECONDS:-3}
Q=${VETH_QUEUES:-2}
CPU=${GEN_CPU:-1}
FCPU=$((1 - CPU))
[[ $(nproc) -gt 1 ]] || { CPU=0 FCPU=0; }
TF1=100
[[ -x $BOT && -x $XPRO ]] || bench_die "$BOT or $XPRO missing (make build)"
[[ -r $O/bpf/baseline.bpf.o ]] || bench_die "$O/bpf/baseline.bpf.o missing (make build)"

bench_ns G gen
bench_ns P px
bench_ns V vic
IN=i$$
IN=${IN:0:15}
bench_veth "$G" b0 "$P" "$IN" "$Q"
bench_veth "$P" o0 "$V" v0 "$Q"
bench_addr "$G" b0 198.18.0.200/24
bench_addr "$P" "$IN" 198.18.0.1/24
bench_addr "$P" o0 198.18.1.1/24
bench_addr "$V" v0 198.18.1.5/24
ip -n "$G" route add local 198.18.32.0/20 dev lo
ip -n "$G" route add 198.18.1.0/24 via 198.18.0.1
ip -n "$G" neigh replace 198.18.0.1 lladdr "$(ip -n "$P" -j link show "$IN" | jq -r '.[0].address')" dev b0 nud permanent
ip -n "$P" neigh replace 198.18.1.5 lladdr "$(ip -n "$V" -j link show v0 | jq -r '.[0].address')" dev o0 nud permanent
nsenter --net=/run/netns/"$P" sysctl -qw net.ipv4.ip_forward=1
bench_gro_napi "$V" v0
bench_gro_napi "$P" "$IN"
THREADED=${VETH_THREADED:-1}
[[ $CPU -ne $FCPU ]] || THREADED=0
if [[ $THREADED == 1 ]]; then
  ip netns exec "$P" sh -c "echo 1 > /sys/class/net/$IN/threaded" || THREADED=0
fi
bench_stats_on
PIN=/run/xpro/bpf/$P
bench_pin "$PIN"
mkdir -p "$PIN"
mkdir -p "$BENCH_TMP/state"

px() { nsenter --net=/run/netns/"$P" "$@"; }

# IN's NAPI threads (recreated with every attach) onto the filter's CPU
pin_napi() {
  local t
  [[ $THREADED == 1 ]] || return 0
  for t in $(pgrep "^napi/$IN-" || true); do taskset -pc "$FCPU" "$t" >/dev/null 2>&1 || true; done
}

conf() {
  printf '%s\n' "state_dir = $BENCH_TMP/state" "tt1_ms = 60000" "$@" > "$BENCH_TMP/xpro.conf"
}

xpro_on() {
  px "$XPRO" attach -i "$IN" -c "$BENCH_TMP/xpro.conf" >/dev/null || bench_die "xpro attach failed"
}
xpro_off() { px "$XPRO" detach -i "$IN" >/dev/null 2>&1 || true; }

# count COUNTER: "packets ns" so far; xdp: IN's program runs and run time,
# nft / ipt: the forward hook's counter
count() {
  case $1 in
    xdp) bench_xdp_stats "$P" "$IN" ;;
    nft) px nft -j list counter ip xpbv seen | jq -r '[.nftables[] | .counter? | select(.) | .packets][0] // 0 | "\(.) 0"' ;;
    ipt) px iptables -t filter -L FORWARD -v -x -n | awk 'NR == 3 { print $1, 0 }' ;;
    *) echo "0 0" ;;
  esac
}

declare -A TOOK OFF NS

# run NAME MODE COUNTER: the generator for T seconds (MODE tunnel or inline);
# COUNTER as count's, or vic: what v0 received
run() {
  local name=$1 mode=$2 counter=$3 rx="" c0 c1 r0 r1 t0 t1 sent x0 x1 y0 y1
  pin_napi
  if [[ $counter == vic ]]; then
    bench_bg rx nsenter --net=/run/netns/"$V" timeout $((T + 30)) "$BOT" --rx-count v0 --duration $((T + 3)) \
      > "$BENCH_TMP/$name.rx" 2> "$BENCH_TMP/$name.rxerr"
    for _ in $(seq 50); do grep -q counting "$BENCH_TMP/$name.rxerr" 2>/dev/null && break; sleep 0.1; done
    sleep 0.3
  fi
  read -r c0 r0 < <(count "$counter")
  read -r x0 y0 < <(bench_xdp_stats "$P" "$IN")
  t0=$(date +%s%N)
  nsenter --net=/run/netns/"$G" taskset -c "$CPU" "$BOT" --vector syn --target 198.18.1.5 --sources 1000 \
    --mode "$mode" --proxy 198.18.0.1 --duration "$T" --fast -q --summary "$BENCH_TMP/$name.sum" \
    > "$BENCH_TMP/$name.out" 2>&1 || bench_die "$name: generator failed: $(cat "$BENCH_TMP/$name.out")"
  t1=$(date +%s%N)
  sleep 0.2
  read -r x1 y1 < <(bench_xdp_stats "$P" "$IN")
  if [[ $counter == vic ]]; then
    wait "$rx" || bench_die "$name: the victim's counter failed: $(cat "$BENCH_TMP/$name.rxerr")"
    c0=0 r0=0 r1=0
    c1=$(jq -r .packets "$BENCH_TMP/$name.rx")
  else
    read -r c1 r1 < <(count "$counter")
  fi
  sent=$(jq -r .packets "$BENCH_TMP/$name.sum")
  TOOK[$name]=$(( (c1 - c0) * 1000000000 / (t1 - t0) ))
  OFF[$name]=$(( sent * 1000000000 / (t1 - t0) ))
  NS[$name]=null
  if [[ $((x1 - x0)) -gt 0 && $((y1 - y0)) -gt 0 ]]; then
    NS[$name]=$(awk -v r=$((y1 - y0)) -v c=$((x1 - x0)) 'BEGIN { printf "%.1f", r / c }')
  fi
  if [[ -n ${VETH_DEBUG:-} ]]; then
    px "$XPRO" stats -i "$IN" 2>/dev/null | head -30 >&2 || true
    px ip -s link >&2; nsenter --net=/run/netns/"$V" ip -s link show v0 >&2
  fi
  echo "bench veth: $name took ${TOOK[$name]} pps of ${OFF[$name]} offered (${NS[$name]} ns/packet in XDP)" >&2
}

# bare XDP_DROP
bpftool prog loadall "$O/bpf/baseline.bpf.o" "$PIN/base" type xdp || bench_die "baseline load failed"
px bpftool net attach xdpdrv pinned "$PIN/base/xdp_drop" dev "$IN"
run xdp_drop tunnel xdp
px bpftool net detach xdpdrv dev "$IN"
rm -rf -- "$PIN/base"

# X-Pro dropping every bot
conf "tt2_ms = 0" "tt3_ms = 0" "tf1 = 1" "tf2 = 4294967296"
xpro_on
run xpro_drop tunnel xdp
# every pinned map of X-Pro (default sizes): bytes (memlock) per entry
for m in "$PIN/$IN"/*; do
  bpftool -j map show pinned "$m" 2>/dev/null || true
done | jq -s -c 'map(select(.max_entries > 0) | {key: .name, value: {max_entries, bytes_memlock,
  bytes_per_entry: ((.bytes_memlock / .max_entries) * 10 | round / 10)}}) | from_entries' > "$BENCH_TMP/maps.json"
xpro_off

# Curves: X-Pro's drop and forward paths with VETH_RECORDS other records
# present (written into the record map by bench-dataplane -f), on one RX
# queue (one generator, on CPU GEN_CPU) and on two (a generator on each CPU);
# NAPI not threaded: the program runs in each sender's softirq. ns/packet from
# bpf_stats, packets/s what the program ran on.
CURVE="{}"
# gen_run NAME CPU...: generators on those CPUs at once; sets RUN_PPS RUN_NS
gen_run() {
  local name=$1 c x0 x1 y0 y1 t0 t1
  shift
  read -r x0 y0 < <(bench_xdp_stats "$P" "$IN")
  t0=$(date +%s%N)
  for c in "$@"; do
    nsenter --net=/run/netns/"$G" taskset -c "$c" "$BOT" --vector syn --target 198.18.1.5 --sources 1000 \
      --mode tunnel --proxy 198.18.0.1 --duration "$T" --fast -q > "$BENCH_TMP/$name.$c.out" 2>&1 &
  done
  wait
  t1=$(date +%s%N)
  read -r x1 y1 < <(bench_xdp_stats "$P" "$IN")
  RUN_PPS=$(( (x1 - x0) * 1000000000 / (t1 - t0) ))
  RUN_NS=$(awk -v r=$((y1 - y0)) -v c=$((x1 - x0)) 'BEGIN { if (c > 0) printf "%.1f", r / c; else print "null" }')
  echo "bench veth: $name ran $RUN_PPS pps, $RUN_NS ns/packet in XDP" >&2
}
# syncmaps_rss N: xpro syncmaps on the proxy with N records in its map and a
# local redis-server of its own for SYNCMAPS_SECONDS (8): syncmaps' peak RSS
# per record (the records are idle, so few reach Redis: local_redis_keys; the
# sync part measures both redis-servers and syncdb with 1M records merged)
RSS="{}"
syncmaps_rss() {
  local n=$1 rpid spid
  rpid=$(scripts/xpro-redis start "$BENCH_TMP/redis" --netns "$P" --port 16409) || { echo "bench veth: no redis-server" >&2; return 0; }
  printf '%s\n' "redis_local = 127.0.0.1:16409" "sync_period_ms = 100" >> "$BENCH_TMP/xpro.conf"
  bench_bg spid nsenter --net=/run/netns/"$P" "$XPRO" syncmaps -i "$IN" -c "$BENCH_TMP/xpro.conf" \
    --duration "${SYNCMAPS_SECONDS:-8}" > "$BENCH_TMP/syncmaps.log" 2>&1
  sleep $(( ${SYNCMAPS_SECONDS:-8} - 1 ))
  RSS=$(jq -n -c --arg n "$n" --arg s "$(awk '/^VmHWM/ { print $2 }' "/proc/$spid/status" 2>/dev/null)" \
    --arg r "$(awk '/^VmRSS/ { print $2 }' "/proc/$rpid/status" 2>/dev/null)" \
    --arg keys "$(nsenter --net=/run/netns/"$P" redis-cli -p 16409 dbsize 2>/dev/null)" \
    '{records: ($n|tonumber), syncmaps_peak_rss_kb: ($s|tonumber? // null), local_redis_rss_kb: ($r|tonumber? // null),
      local_redis_keys: ($keys|tonumber? // null)}
     | . + {syncmaps_rss_bytes_per_record: (if .syncmaps_peak_rss_kb then (.syncmaps_peak_rss_kb * 1024 / .records | round) else null end)}')
  wait "$spid" 2>/dev/null || true
  scripts/xpro-redis stop "$BENCH_TMP/redis" >/dev/null 2>&1 || true
  echo "bench veth: syncmaps with $n records: $RSS" >&2
}
if [[ -n ${VETH_RECORDS-10000 100000 1000000 4194304} ]]; then
  [[ $THREADED == 1 ]] && ip netns exec "$P" sh -c "echo 0 > /sys/class/net/$IN/threaded"
  qs=(1)
  [[ $Q -ge 2 && $CPU -ne $FCPU ]] && qs=(1 2)
  for n in ${VETH_RECORDS-10000 100000 1000000 4194304}; do
    row="{}"
    for path in drop fwd; do
      if [[ $path == drop ]]; then
        conf "tt2_ms = 0" "tt3_ms = 0" "tf1 = 1" "tf2 = 4294967296" "max_records = $((n + 131072))"
      else
        conf "tf1 = 4294967296" "tf2 = 4294967296" "max_records = $((n + 131072))"
      fi
      xpro_on
      "$O"/bench/bench-dataplane -f "$PIN/$IN/xpro_records" -p "$n" >/dev/null || bench_die "filling $n records failed"
      [[ $path == drop && $n == "${VETH_RSS_RECORDS:-1000000}" ]] && syncmaps_rss "$n"
      for q in "${qs[@]}"; do
        if [[ $q == 1 ]]; then gen_run "$path-$n-1q" "$CPU"; else gen_run "$path-$n-2q" 0 1; fi
        row=$(jq -c --arg k "${path}_${q}q" --arg ns "$RUN_NS" --arg pps "$RUN_PPS" \
          '. + {($k + "_ns"): ($ns | tonumber? // null), ($k + "_pps"): ($pps | tonumber)}' <<< "$row")
      done
      xpro_off
    done
    CURVE=$(jq -c --arg n "$n" --argjson r "$row" '. + {($n): $r}' <<< "$CURVE")
  done
  [[ $THREADED == 1 ]] && ip netns exec "$P" sh -c "echo 1 > /sys/class/net/$IN/threaded"
fi
echo "$CURVE" > "$BENCH_TMP/curve.json"
echo "$RSS" > "$BENCH_TMP/rss.json"

# X-Pro with the client identity on (docs/protocol.md, "Client identity"): a
# key file and tunnel_v1 = refuse; the bots have no key, so every frame is
# refused (drop_v1) before any record is touched: what an unauthenticated
# flood costs. Skipped (null) by an xpro without device_keys.
if px "$XPRO" config show 2>/dev/null | grep -q '^device_keys'; then
  echo "198.18.0.250 000102030405060708090a0b0c0d0e0f" > "$BENCH_TMP/keys"
  conf "tt2_ms = 0" "tt3_ms = 0" "tf1 = 1" "tf2 = 4294967296" "device_keys = $BENCH_TMP/keys" "tunnel_v1 = refuse"
  xpro_on
  run xpro_id_drop tunnel xdp
  xpro_off
fi

# X-Pro forwarding everything
conf "tf1 = 4294967296" "tf2 = 4294967296"
xpro_on
run xpro_fwd tunnel vic
xpro_off

# the nft defense: X-Pro decapsulates, the kernel forwards, nft limits
conf "filter = off"
xpro_on
px nft -f - <<EOF
table ip xpbv {
  counter seen { }
  counter drops { }
  set m { type ipv4_addr . ipv4_addr; flags dynamic; timeout 10s; size 1048576; }
  chain limit_fwd {
    type filter hook forward priority 0; policy accept;
    iifname "$IN" counter name "seen"
    iifname "$IN" update @m { ip saddr . ip daddr limit rate over $TF1/second burst $TF1 packets } counter name "drops" drop
  }
}
EOF
run nft tunnel nft
px nft delete table ip xpbv
px iptables -A FORWARD -i "$IN"
px iptables -A FORWARD -i "$IN" -m hashlimit --hashlimit-above "$TF1/sec" --hashlimit-burst "$TF1" \
  --hashlimit-mode srcip,dstip --hashlimit-name xpbv --hashlimit-htable-size 65536 -j DROP
run iptables tunnel ipt
px iptables -F FORWARD
xpro_off

# plain kernel routing of the same inner packets (GRO on IN: a NAPI for them)
bench_gro_napi "$P" "$IN"
run kernel_route inline vic

# every figure as JSON
{
  for k in "${!TOOK[@]}"; do
    printf '%s %s %s %s\n' "$k" "${TOOK[$k]}" "${OFF[$k]}" "${NS[$k]}"
  done
} | jq -R -s -c --arg q "$Q" --arg thr "$THREADED" --arg t "$T" --slurpfile maps "$BENCH_TMP/maps.json" \
  --slurpfile curve "$BENCH_TMP/curve.json" --slurpfile rss "$BENCH_TMP/rss.json" '
  [split("\n")[] | select(length > 0) | split(" ")
   | {k: .[0], took: (.[1]|tonumber), off: (.[2]|tonumber), ns: (if .[3] == "null" then null else (.[3]|tonumber) end)}] as $r
  | ($r | map({key: .k, value: .}) | from_entries) as $m
  | ([$r[].off] | min) as $offered
  | ([$m.xdp_drop.took, $m.xpro_drop.took, $m.nft.took, $m.iptables.took] | max) as $fastest
  | (reduce $r[] as $x ({}; . + {("veth_\($x.k)_pps"): $x.took, ("veth_\($x.k)_offered_pps"): $x.off}))
  + {veth_nft_pps: $m.nft.took, veth_iptables_pps: $m.iptables.took,
     veth_xpro_id_drop_pps: $m.xpro_id_drop.took, veth_xpro_id_drop_ns: $m.xpro_id_drop.ns,
     veth_offered_pps: $offered,
     veth_xdp_drop_ns: $m.xdp_drop.ns, veth_xpro_drop_ns: $m.xpro_drop.ns, veth_xpro_fwd_ns: $m.xpro_fwd.ns,
     veth_nft_xpro_pass_ns: $m.nft.ns,
     veth_curve: $curve[0],
     syncmaps_memory: $rss[0],
     veth_drop_ns_1m_vs_10k: (try (($curve[0]["1000000"].drop_1q_ns / $curve[0]["10000"].drop_1q_ns) * 100 | round / 100) catch null),
     veth_fwd_ns_1m_vs_10k: (try (($curve[0]["1000000"].fwd_1q_ns / $curve[0]["10000"].fwd_1q_ns) * 100 | round / 100) catch null),
     xpro_maps: $maps[0],
     xpro_records_bytes_per_record: $maps[0].xpro_records.bytes_per_entry,
     veth_xpro_drop_vs_xdp: (($m.xpro_drop.took / $m.xdp_drop.took) * 100 | round / 100),
     veth_xpro_drop_vs_nft: (($m.xpro_drop.took / ([$m.nft.took, 1] | max)) * 100 | round / 100),
     veth_xpro_drop_vs_iptables: (($m.xpro_drop.took / ([$m.iptables.took, 1] | max)) * 100 | round / 100),
     veth_xpro_fwd_vs_kernel_route: (($m.xpro_fwd.took / ([$m.kernel_route.took, 1] | max)) * 100 | round / 100),
     veth_ratios_valid: ($offered > $fastest),
     veth_queues: ($q|tonumber), veth_napi_threaded: ($thr == "1"), veth_seconds: ($t|tonumber)}'
