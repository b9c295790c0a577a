#!/usr/bin/env bash
# bench part "gen": xpro-bot's packet rate against hping3, same veth, same run.
#
#   bot ns (198.18.0.200/24, local 198.18.32.0/20) b0 ==== r0 rcv ns (198.18.0.1/24)
#
# The receiving veth r0 runs `xpro-bot --rx-count r0` (an XDP program that
# counts and drops); rates are what it counted divided by the sender's wall
# time. Each sender is pinned to one CPU and runs for GEN_SECONDS (default 3):
#   gen_fast_pps      xpro-bot --fast (XDP live frames), syn vector, 1000 bots
#   gen_fallback_pps  xpro-bot --fast=packet (AF_PACKET + sendmmsg), same
#   hping3_pps        hping3 -S --flood (Debian's hping3), fixed source
#                     (--rand-source would send from outside 198.18.0.0/15)
# Prints one JSON object. Creates and removes its own namespaces.
set -euo pipefail
cd "$(dirname "$0")/../.."
O=${O:-build}
BOT=$O/bin/xpro-bot
T=${GEN_SECONDS:-3}
CPU=${GEN_CPU:-1}
BNS=xpb-gen-bot-$$
RNS=xpb-gen-rcv-$$
TMP=$(mktemp -d)
PIDS=()

cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do [[ -n $p ]] && kill "$p" 2>/dev/null || true; done
  ip netns del "$BNS" 2>/dev/null || true
  ip netns del "$RNS" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

die() { echo "bench gen: $*" >&2; exit 1; }
[[ -x $BOT ]] || die "$BOT missing (make build)"
command -v hping3 >/dev/null || die "hping3 missing (scripts/deps.sh installs it)"
[[ $(nproc) -gt $CPU ]] || CPU=0

ip netns add "$BNS"
ip netns add "$RNS"
ip link add b0 netns "$BNS" numrxqueues 1 numtxqueues 1 type veth peer name r0 netns "$RNS" numrxqueues 1 numtxqueues 1
for ns in "$BNS" "$RNS"; do
  ip -n "$ns" link set lo up
  nsenter --net=/run/netns/"$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done
ip -n "$BNS" addr add 198.18.0.200/24 dev b0
ip -n "$RNS" addr add 198.18.0.1/24 dev r0
ip -n "$BNS" link set b0 up
ip -n "$RNS" link set r0 up
ip -n "$BNS" route add local 198.18.32.0/20 dev lo
ip -n "$BNS" route add 198.18.1.0/24 via 198.18.0.1
# the counter drops ARP too: the next hop's MAC is static
ip -n "$BNS" neigh replace 198.18.0.1 lladdr "$(ip -n "$RNS" -j link show r0 | jq -r '.[0].address')" dev b0 nud permanent

now() { date +%s.%N; }

# measure NAME CMD...: packets counted on r0 while CMD runs, over CMD's wall time
measure() {
  local name=$1 t0 t1 rx
  shift
  nsenter --net=/run/netns/"$RNS" timeout $((T + 30)) "$BOT" --rx-count r0 --duration $((T + 3)) \
    > "$TMP/$name.rx" 2> "$TMP/$name.rxerr" &
  rx=$!
  PIDS+=("$rx")
  for _ in $(seq 50); do grep -q counting "$TMP/$name.rxerr" 2>/dev/null && break; sleep 0.1; done
  sleep 0.3
  t0=$(now)
  nsenter --net=/run/netns/"$BNS" taskset -c "$CPU" "$@" > "$TMP/$name.out" 2>&1 || true
  t1=$(now)
  wait "$rx" || die "$name: receiver counter failed: $(cat "$TMP/$name.rxerr")"
  jq -r --arg t0 "$t0" --arg t1 "$t1" '.packets / (($t1|tonumber) - ($t0|tonumber)) | floor' "$TMP/$name.rx"
}

ARGS=(--vector syn --target 198.18.1.5 --sources 1000 --mode inline --proxy 198.18.0.1 --duration "$T" -q)
fast=$(measure fast "$BOT" "${ARGS[@]}" --fast)
fallback=$(measure fallback "$BOT" "${ARGS[@]}" --fast=packet)
hping=$(measure hping3 timeout --signal=INT "$T" hping3 -S -p 80 --flood -q 198.18.1.5)
[[ $hping -gt 0 ]] || die "hping3 sent nothing: $(cat "$TMP/hping3.out")"
jq -n -c --argjson f "$fast" --argjson b "$fallback" --argjson h "$hping" \
  '{gen_fast_pps: $f, gen_fallback_pps: $b, hping3_pps: $h, gen_fast_vs_hping3: (($f / $h) * 100 | round / 100)}'
