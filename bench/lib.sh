# bench/lib.sh: what the bench parts share (sourced, never run). Namespaces,
# veths and addresses of a part's own testbed, processes and pins it started,
# and the run time of an attached XDP program (bpf_stats). Everything a part
# creates is registered and removed by bench_cleanup (installed on EXIT, INT,
# TERM by bench_init). House rule: every address lies in 198.18.0.0/15.
#
#   bench_init TAG                 unique prefix, cleanup trap, scratch dir $BENCH_TMP
#   bench_in_range ADDR[/LEN]      0 if the address (and its whole prefix) lies in 198.18.0.0/15
#   bench_ns VAR NAME              a new namespace (lo up, IPv6 off), its name in VAR, removed at cleanup
#   bench_veth NS1 IF1 NS2 IF2 Q   a veth, Q rx and tx queues on both ends
#   bench_addr NS IF CIDR          an address; refused (exit status 2) outside the range
#   bench_bg VAR CMD...            CMD in the background, its PID in VAR, killed at cleanup
#   bench_pin DIR                  a bpffs folder to remove at cleanup
#   bench_xdp_stats NS IF          "run_cnt run_time_ns" of the XDP program on IF
#   bench_stats_on                 kernel.bpf_stats_enabled=1 until cleanup (then restored)
#   bench_gro_napi NS IF           GRO off and on: a NAPI for frames sent to IF (docs/veth.md)

BENCH_RANGE=198.18.0.0/15
BENCH_NSS=()
BENCH_PIDS=()
BENCH_PINS=()
BENCH_STATS_WAS=""

bench_die() { echo "bench ${BENCH_TAG:-}: $*" >&2; exit 1; }

bench_init() {
  BENCH_TAG=$1
  BENCH_PFX=xpb$$
  BENCH_MAIN=$BASHPID
  BENCH_TMP=$(mktemp -d)
  trap bench_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# (every step may fail: what it removes may be gone already)
bench_cleanup() {
  local p
  [[ $BASHPID == "$BENCH_MAIN" ]] || return 0
  set +e
  for p in "${BENCH_PIDS[@]:-}"; do [[ -n $p ]] && kill "$p" 2>/dev/null; done
  for p in "${BENCH_PIDS[@]:-}"; do [[ -n $p ]] && { wait "$p"; } 2>/dev/null; done
  for p in "${BENCH_NSS[@]:-}"; do [[ -n $p ]] && timeout 10 ip netns del "$p" 2>/dev/null; done
  for p in "${BENCH_PINS[@]:-}"; do [[ -n $p && -d $p ]] && rm -rf -- "$p" 2>/dev/null; done
  [[ -n $BENCH_STATS_WAS ]] && sysctl -qw kernel.bpf_stats_enabled="$BENCH_STATS_WAS"
  [[ -n ${BENCH_TMP:-} ]] && rm -rf -- "$BENCH_TMP"
  return 0
}

# bench_in_range ADDR[/LEN]: the address, and with LEN every address of its
# prefix, inside 198.18.0.0/15
bench_in_range() {
  local a=${1%/*} len=32 o1 o2 o3 o4 rest
  [[ $1 == */* ]] && len=${1#*/}
  [[ $len =~ ^[0-9]+$ ]] && ((len <= 32)) || return 1
  IFS=. read -r o1 o2 o3 o4 rest <<< "$a"
  [[ -z $rest ]] || return 1
  for o in "$o1" "$o2" "$o3" "$o4"; do [[ $o =~ ^[0-9]{1,3}$ ]] && ((o <= 255)) || return 1; done
  # 198.18.0.0/15: the first 15 bits are 198 and 18 >> 1; a shorter prefix leaves it
  ((len >= 15 && o1 == 198 && (o2 >> 1) == 9))
}

bench_ns() {
  local n=$BENCH_PFX-$2
  timeout 10 ip netns add "$n" || bench_die "ip netns add $n failed"
  BENCH_NSS+=("$n")
  ip -n "$n" link set lo up
  nsenter --net=/run/netns/"$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  printf -v "$1" %s "$n"
}

bench_veth() {
  timeout 10 ip link add "$2" netns "$1" numrxqueues "$5" numtxqueues "$5" type veth \
    peer name "$4" netns "$3" numrxqueues "$5" numtxqueues "$5" || bench_die "veth $2-$4 failed"
  ip -n "$1" link set "$2" up
  ip -n "$3" link set "$4" up
}

bench_addr() {
  if ! bench_in_range "$3"; then
    echo "bench: address $3 is outside $BENCH_RANGE (testbed only)" >&2
    return 2
  fi
  ip -n "$1" addr add "$3" dev "$2"
}

bench_bg() {
  local _var=$1
  shift
  "$@" &
  BENCH_PIDS+=("$!")
  printf -v "$_var" %s "$!"
}

bench_pin() { BENCH_PINS+=("$1"); }

bench_xdp_stats() {
  local id
  id=$(ip -n "$1" -j link show "$2" | jq -r '.[0].xdp.prog.id // empty')
  [[ -n $id ]] || { echo "0 0"; return 0; }
  bpftool -j prog show id "$id" | jq -r '"\(.run_cnt // 0) \(.run_time_ns // 0)"'
}

bench_stats_on() {
  [[ -n $BENCH_STATS_WAS ]] || BENCH_STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled)
  sysctl -qw kernel.bpf_stats_enabled=1
}

bench_gro_napi() {
  nsenter --net=/run/netns/"$1" ethtool -K "$2" gro off >/dev/null
  nsenter --net=/run/netns/"$1" ethtool -K "$2" gro on >/dev/null
}
