# X-Pro BATS helpers: testbed namespaces, veths, private redis-servers,
# background processes, and teardown that removes exactly what a suite
# created, even when a test fails. Load with `load lib/xpro`.
#
# Every address handed to xp_addr must lie in 198.18.0.0/15; namespaces get
# no default route. Commands run inside a namespace with nsenter --net, which
# keeps the project's bpffs (/run/xpro/bpf) and /sys visible.
#
#   xp_require_root
#   NS=$(xp_ns_new NAME)                 unique namespace, lo up; prints its name
#   xp_veth NS1 IF1 NS2 IF2 [--queues N] [--mtu M]
#   xp_addr NS IF CIDR                   refuses anything outside 198.18.0.0/15
#   xp_in_testbed ADDR                   0 if ADDR lies in 198.18.0.0/15
#   xp_exec NS CMD...                    run CMD in NS (nsenter --net)
#   PORT=$(xp_redis_start [NS])          private redis-server; XP_REDIS_PASS for auth
#   xp_redis_stop PORT
#   PID=$(xp_spawn NAME CMD...)          background process, killed at teardown
#   xp_pin_dir_register DIR              a bpffs folder to remove at teardown
#   xp_teardown_all                      kill, delete, remove what was registered
#   xp_dump_on_failure                   from teardown: state of a failed test

for _l in bats-support bats-assert bats-file; do
  load "/usr/lib/bats/$_l/load.bash"
done
unset _l

XP_PREFIX=${XP_PREFIX:-xpt$$}
# The registry lives in the file's temp folder so setup_file and the tests
# share it; outside bats, in a private temp folder.
XP_REG=${BATS_FILE_TMPDIR:-${TMPDIR:-/tmp}/xp-reg-$$}/xp-registry
mkdir -p "$(dirname "$XP_REG")"

_xp_reg() { printf '%s %s\n' "$1" "$2" >> "$XP_REG"; }

xp_require_root() {
  [[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces, BPF)"
}

xp_in_testbed() {
  local ip=${1%/*} a b c d
  [[ $ip =~ ^([0-9]+)\.([0-9]+)\.([0-9]+)\.([0-9]+)$ ]] || return 1
  a=${BASH_REMATCH[1]} b=${BASH_REMATCH[2]} c=${BASH_REMATCH[3]} d=${BASH_REMATCH[4]}
  ((a <= 255 && b <= 255 && c <= 255 && d <= 255)) || return 1
  [[ $a -eq 198 && ( $b -eq 18 || $b -eq 19 ) ]]
}

xp_ns_new() {
  local name="$XP_PREFIX-$1-$RANDOM"
  ip netns add "$name" || return 1
  _xp_reg ns "$name"
  ip -n "$name" link set lo up || return 1
  echo "$name"
}

xp_veth() {
  local ns1=$1 if1=$2 ns2=$3 if2=$4 q=1 mtu=1500
  shift 4
  while [[ $# -gt 0 ]]; do
    case $1 in
      --queues) q=$2; shift 2 ;;
      --mtu) mtu=$2; shift 2 ;;
      *) echo "xp_veth: unknown option $1" >&2; return 1 ;;
    esac
  done
  ip link add "$if1" numrxqueues "$q" numtxqueues "$q" mtu "$mtu" netns "$ns1" type veth \
    peer name "$if2" numrxqueues "$q" numtxqueues "$q" mtu "$mtu" netns "$ns2" ||
    { echo "xp_veth: cannot create $ns1/$if1 <-> $ns2/$if2" >&2; return 1; }
  ip -n "$ns1" link set "$if1" up && ip -n "$ns2" link set "$if2" up
}

xp_addr() {
  local ns=$1 dev=$2 cidr=$3
  if ! xp_in_testbed "$cidr"; then
    echo "xp_addr: refusing $cidr: outside the testbed range 198.18.0.0/15" >&2
    return 1
  fi
  ip -n "$ns" addr add "$cidr" dev "$dev"
}

xp_exec() {
  local ns=$1
  shift
  nsenter --net="/run/netns/$ns" "$@"
}

xp_spawn() {
  local name=$1 log
  shift
  log="${BATS_FILE_TMPDIR:-/tmp}/$name.$RANDOM.log"
  "$@" < /dev/null > "$log" 2>&1 3>&- &
  local pid=$!
  _xp_reg pid "$pid"
  _xp_reg log "$log"
  echo "$pid"
}

xp_redis_start() {
  local ns=${1:-} port dir pid i args
  dir=$(mktemp -d "${BATS_FILE_TMPDIR:-/tmp}/redis.XXXXXX")
  _xp_reg dir "$dir"
  for i in $(seq 1 20); do
    port=$((20000 + (RANDOM % 30000)))
    args=(--port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$dir" --daemonize no
          --logfile "$dir/redis.log")
    [[ -n ${XP_REDIS_PASS:-} ]] && args+=(--requirepass "$XP_REDIS_PASS")
    if [[ -n $ns ]]; then
      nsenter --net="/run/netns/$ns" /usr/bin/redis-server "${args[@]}" </dev/null >/dev/null 2>&1 3>&- &
    else
      /usr/bin/redis-server "${args[@]}" </dev/null >/dev/null 2>&1 3>&- &
    fi
    pid=$!
    _xp_reg pid "$pid"
    _xp_reg log "$dir/redis.log"
    for _ in $(seq 1 50); do
      if ! kill -0 "$pid" 2>/dev/null; then break; fi
      if _xp_redis_cli "$ns" "$port" PING 2>/dev/null | grep -q PONG; then
        echo "$port" > "$dir/port"
        echo "$pid" > "$dir/pid"
        ln -sfn "$dir" "${BATS_FILE_TMPDIR:-/tmp}/redis-$port"
        echo "$port"
        return 0
      fi
      sleep 0.1
    done
    kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true
  done
  echo "xp_redis_start: no redis-server came up" >&2
  return 1
}

_xp_redis_cli() {
  local ns=$1 port=$2
  shift 2
  local auth=()
  [[ -n ${XP_REDIS_PASS:-} ]] && auth=(--no-auth-warning -a "$XP_REDIS_PASS")
  if [[ -n $ns ]]; then
    nsenter --net="/run/netns/$ns" timeout 5 redis-cli -p "$port" "${auth[@]}" "$@"
  else
    timeout 5 redis-cli -p "$port" "${auth[@]}" "$@"
  fi
}

xp_redis_stop() {
  local port=$1 dir pid
  dir=$(readlink -f "${BATS_FILE_TMPDIR:-/tmp}/redis-$port")
  pid=$(cat "$dir/pid" 2>/dev/null) || return 1
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 50); do
    [[ $(ps -o stat= -p "$pid" 2>/dev/null) == Z* || -z $(ps -o stat= -p "$pid" 2>/dev/null) ]] && return 0
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null
}

xp_pin_dir_register() { _xp_reg pins "$1"; }

xp_teardown_all() {
  [[ -f $XP_REG ]] || return 0
  local kind val
  # processes first (TERM, then KILL), then pins, namespaces, folders
  while read -r kind val; do
    [[ $kind == pid ]] && kill "$val" 2>/dev/null
  done < "$XP_REG"
  sleep 0.2
  while read -r kind val; do
    [[ $kind == pid ]] && kill -9 "$val" 2>/dev/null
  done < "$XP_REG"
  while read -r kind val; do
    case $kind in
      pins) [[ $val == /run/xpro/bpf/* ]] && rm -rf "$val" ;;
      ns) ip netns del "$val" 2>/dev/null ;;
    esac
  done < "$XP_REG"
  while read -r kind val; do
    [[ $kind == dir ]] && rm -rf "$val"
  done < "$XP_REG"
  rm -f "$XP_REG"
  return 0
}

xp_dump_on_failure() {
  [[ -n ${BATS_TEST_COMPLETED:-} ]] && return 0
  [[ -f $XP_REG ]] || return 0
  local kind val
  {
    echo "# ---- state after the failure of: ${BATS_TEST_DESCRIPTION:-?}"
    while read -r kind val; do
      case $kind in
        ns)
          echo "# netns $val"
          ip -n "$val" -br addr 2>&1 | sed 's/^/#   /'
          ip -n "$val" route 2>&1 | sed 's/^/#   route /'
          ip -n "$val" -d link show 2>&1 | grep -E 'prog/xdp' | sed 's/^/#   /'
          ;;
        pins)
          for m in "$val"/*/xpro_records "$val"/*/xpro_aggs "$val"/*/xpro_config; do
            [[ -e $m ]] || continue
            echo "# map $m (first entries)"
            timeout 5 bpftool -j map dump pinned "$m" 2>&1 | jq -c '.[:4][]' 2>/dev/null | sed 's/^/#   /'
          done
          ;;
        log) echo "# log $val"; tail -n 20 "$val" 2>/dev/null | sed 's/^/#   /' ;;
      esac
    done < "$XP_REG"
  } >&3
}
