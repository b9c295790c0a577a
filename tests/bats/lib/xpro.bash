# X-Pro BATS helpers: testbed namespaces, veths, private redis-servers,
# background processes, and a teardown that removes exactly what a suite
# created, even when a test fails. Load with `load lib/xpro`.
#
# House rules the helpers enforce: every address handed to xp_addr lies in
# 198.18.0.0/15; namespaces get no default route; commands run inside a
# namespace with nsenter --net (not `ip netns exec`, which remounts /sys), so
# the project's bpffs at /run/xpro/bpf stays visible.
#
#   xp_require_root                        fail (not skip) unless root
#   xp_skip_unless_kernel_feature FEAT...  skip, with the reason, if the kernel lacks one
#   NS=$(xp_ns_new NAME)                   unique namespace (run prefix), lo up
#   xp_veth NS1 IF1 NS2 IF2 [--queues N] [--mtu M]
#   xp_link NS1 IF1 CIDR1 NS2 IF2 CIDR2 [xp_veth options]   a veth, an address at each end
#   xp_pair VAR1 NAME1 IF1 CIDR1 VAR2 NAME2 IF2 CIDR2 [xp_veth options]
#                                          two new namespaces (names set in VAR1, VAR2), linked
#   xp_proxy_path PREFIX DEVIF VICIF       DEV ==== PX ==== VIC: one proxy's path, routed
#   xp_gro_napi NS IF                      GRO off and on: a NAPI for a redirect target's peer
#   xp_conf FILE KEY=VALUE...              an xpro config file, one "key = value" a line
#   xp_in_testbed ADDR[/LEN]               0 if the address (and subnet) lies in 198.18.0.0/15
#   xp_addr NS IF CIDR                     refuses anything outside 198.18.0.0/15
#   xp_exec NS CMD...                      run CMD in NS (nsenter --net)
#   PID=$(xp_spawn [--ns NS] NAME CMD...)  background process, killed at teardown
#   xp_alive PID [START]                   PID runs (not a zombie), still the one started at START
#   xp_log_of PID                          path of the log of a spawned process
#   PORT=$(xp_redis_start [NS [ADDR]])     private redis-server; XP_REDIS_USER/XP_REDIS_PASS
#   xp_redis_cli PORT ARGS...              redis-cli to that server (namespace, auth, timeout)
#   xp_redis_pid PORT                      PID of that server
#   xp_redis_stop PORT                     stop it by PID
#   xp_pin_dir_register DIR                a folder under /run/xpro/bpf to remove at teardown
#   xp_teardown_all                        kill, delete, remove what was registered
#   xp_trap_exit                           outside bats: xp_teardown_all on EXIT/INT/TERM
#   xp_dump_on_failure                     from teardown: the state of a failed test
#
# Scope: what setup_file creates is recorded in the file's registry and what a
# test (or its setup) creates in the test's registry. xp_teardown_all called
# from teardown removes the test's objects; from teardown_file, everything
# the file created. Outside bats, everything in one private state folder.

for _xp_l in bats-support bats-assert bats-file; do
  # shellcheck disable=SC1090
  source "/usr/lib/bats/$_xp_l/load.bash"
done
unset _xp_l

XP_BPFFS=${XP_BPFFS:-/run/xpro/bpf}
# per run: the bats process, or this shell outside bats
XP_PREFIX=${XP_PREFIX:-xpt${BATS_ROOT_PID:-$$}}
XP_TESTBED="198.18.0.0/15"

if [[ -n ${XP_DIR:-} ]]; then
  :
elif [[ -n ${BATS_FILE_TMPDIR:-} ]]; then
  XP_DIR=$BATS_FILE_TMPDIR/xp
else
  # outside bats: a private folder, shared with child shells, removed by
  # xp_teardown_all
  XP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/xp-$$.XXXXXX") || return 1
  XP_DIR_OWNED=1
  export XP_DIR XP_DIR_OWNED
fi
mkdir -p "$XP_DIR" || return 1

_xp_err() { echo "xpro-test: $*" >&2; }

# in a test (setup, body, teardown) rather than in setup_file/teardown_file;
# the tmpdir check keeps a nested bats run from taking the outer test's scope
_xp_in_test() {
  [[ -n ${BATS_TEST_TMPDIR:-} && -n ${BATS_TEST_NUMBER:-} &&
     $BATS_TEST_TMPDIR == "${BATS_RUN_TMPDIR:-/nonexistent}/"* ]]
}

_xp_regfile() {
  if _xp_in_test; then
    echo "$XP_DIR/reg.test-$BATS_TEST_NUMBER"
  else
    echo "$XP_DIR/reg.file"
  fi
}

# _xp_reg KIND VALUE...: one line in the current scope's registry
_xp_reg() { mkdir -p "$XP_DIR" && printf '%s\n' "$*" >> "$(_xp_regfile)"; }

# every registry line visible from here: the file's and the current test's
_xp_reg_lines() {
  if [[ -r $XP_DIR/reg.file ]]; then cat "$XP_DIR/reg.file"; fi
  if _xp_in_test && [[ -r $XP_DIR/reg.test-$BATS_TEST_NUMBER ]]; then
    cat "$XP_DIR/reg.test-$BATS_TEST_NUMBER"
  fi
  return 0
}

xp_require_root() {
  [[ $(id -u) -eq 0 ]] && return 0
  _xp_err "needs root (network namespaces, BPF): run as root"
  return 1
}

# --- kernel features ---------------------------------------------------

_xp_kconfig() {
  local opt=$1
  if [[ -r /proc/config.gz ]]; then
    zgrep -qE "^$opt=(y|m)$" /proc/config.gz
  elif [[ -r /boot/config-$(uname -r) ]]; then
    grep -qE "^$opt=(y|m)$" "/boot/config-$(uname -r)"
  else
    return 2 # unknown: cannot tell
  fi
}

# _xp_have_feature FEAT: 0 present, 1 absent, 2 cannot tell, 3 unknown name
_xp_have_feature() {
  local f=$1 rc
  case $f in
    netns) [[ -e /proc/self/ns/net ]] ;;
    veth)
      [[ -d /sys/module/veth ]] && return 0
      _xp_kconfig CONFIG_VETH && rc=0 || rc=$?
      [[ $rc -ne 2 ]] && return $rc
      modinfo veth >/dev/null 2>&1
      ;;
    bpf) [[ -e /proc/sys/kernel/unprivileged_bpf_disabled ]] ;;
    btf) [[ -r /sys/kernel/btf/vmlinux ]] ;;
    xdp) _xp_have_feature prog_type:xdp ;;
    prog_type:*|map_type:*)
      local kind=${f%%:*} name=${f#*:}
      [[ $kind == prog_type ]] && kind=program_type
      timeout 30 bpftool feature probe kernel 2>/dev/null |
        grep -q "^eBPF ${kind} ${name} is available$"
      ;;
    CONFIG_*) _xp_kconfig "$f" ;;
    *) return 3 ;;
  esac
}

# xp_skip_unless_kernel_feature FEAT...: skip the test (or file) with the
# reason printed when the running kernel lacks one of: netns veth bpf btf xdp
# prog_type:NAME map_type:NAME CONFIG_NAME. Only for kernel features: a
# missing tool or build product is a failure, not a skip.
xp_skip_unless_kernel_feature() {
  local f rc
  for f in "$@"; do
    # under bats' set -e: status taken in a list, never as a plain statement
    _xp_have_feature "$f" && rc=0 || rc=$?
    case $rc in
      0|2) ;; # present, or no way to tell: let the test run and say
      3) _xp_err "xp_skip_unless_kernel_feature: unknown feature '$f'"; return 1 ;;
      *)
        _xp_err "kernel $(uname -r) lacks $f: skipping"
        skip "kernel $(uname -r) lacks $f"
        ;;
    esac
  done
}

# --- addresses ---------------------------------------------------------

# xp_in_testbed ADDR[/LEN]: 0 when the IPv4 address lies in 198.18.0.0/15
# and, with a prefix length, the whole subnet does too (LEN 15..32).
# Dotted decimal only: no leading zeros, no IPv6, no names.
xp_in_testbed() {
  local s=${1:-} ip len o
  local -a oct
  ip=${s%%/*}
  if [[ $s == */* ]]; then
    len=${s#*/}
    [[ $len =~ ^(0|[1-9][0-9]?)$ ]] || return 1
    ((len >= 15 && len <= 32)) || return 1
  fi
  [[ $ip =~ ^(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})$ ]] ||
    return 1
  oct=("${BASH_REMATCH[@]:1:4}")
  for o in "${oct[@]}"; do ((o <= 255)) || return 1; done
  ((oct[0] == 198 && (oct[1] == 18 || oct[1] == 19)))
}

_xp_ns_exists() { [[ -n ${1:-} && -e /run/netns/$1 ]]; }

xp_addr() {
  local ns=${1:-} dev=${2:-} cidr=${3:-}
  if [[ -z $ns || -z $dev || -z $cidr ]]; then
    _xp_err "usage: xp_addr NS IF CIDR"; return 1
  fi
  if ! xp_in_testbed "$cidr"; then
    _xp_err "xp_addr: refusing '$cidr' on $ns/$dev: outside the testbed range $XP_TESTBED"
    return 1
  fi
  timeout 10 ip -n "$ns" addr add "$cidr" dev "$dev" ||
    { _xp_err "xp_addr: cannot add $cidr to $ns/$dev"; return 1; }
}

# --- namespaces and veths ----------------------------------------------

# xp_ns_new NAME: creates PREFIX-NAME-RANDOM, brings lo up, prints the name
xp_ns_new() {
  local base=${1:-} name i out
  if [[ ! $base =~ ^[A-Za-z0-9_.-]{1,32}$ ]]; then
    _xp_err "usage: xp_ns_new NAME (letters, digits, _.-; at most 32)"; return 1
  fi
  for i in 1 2 3 4 5; do
    name="$XP_PREFIX-$base-$RANDOM"
    _xp_ns_exists "$name" && continue
    if out=$(timeout 10 ip netns add "$name" 2>&1); then
      _xp_reg ns "$name"
      timeout 10 ip -n "$name" link set lo up ||
        { _xp_err "xp_ns_new: cannot bring lo up in $name"; return 1; }
      echo "$name"
      return 0
    fi
    _xp_ns_exists "$name" || { _xp_err "xp_ns_new: ip netns add $name: $out"; return 1; }
  done
  _xp_err "xp_ns_new: no free name for $base after 5 tries"
  return 1
}

# xp_veth NS1 IF1 NS2 IF2 [--queues N] [--mtu M]: both ends created in their
# namespaces directly (never in the host's), queues fixed at creation
# (ethtool -L cannot raise them later), both ends up
xp_veth() {
  if [[ $# -lt 4 ]]; then
    _xp_err "usage: xp_veth NS1 IF1 NS2 IF2 [--queues N] [--mtu M]"; return 1
  fi
  local ns1=$1 if1=$2 ns2=$3 if2=$4 q=1 mtu=1500 n
  shift 4
  while [[ $# -gt 0 ]]; do
    case $1 in
      --queues) q=${2:-}; shift 2 || return 1 ;;
      --mtu) mtu=${2:-}; shift 2 || return 1 ;;
      *) _xp_err "xp_veth: unknown option '$1'"; return 1 ;;
    esac
  done
  [[ $q =~ ^[1-9][0-9]*$ ]] || { _xp_err "xp_veth: bad queue count '$q'"; return 1; }
  [[ $mtu =~ ^[1-9][0-9]*$ ]] || { _xp_err "xp_veth: bad MTU '$mtu'"; return 1; }
  for n in "$if1" "$if2"; do
    [[ $n =~ ^[A-Za-z0-9_.-]{1,15}$ ]] ||
      { _xp_err "xp_veth: bad interface name '$n' (1-15 of A-Za-z0-9_.-)"; return 1; }
  done
  for n in "$ns1" "$ns2"; do
    _xp_ns_exists "$n" || { _xp_err "xp_veth: no namespace '$n'"; return 1; }
  done
  timeout 10 ip link add "$if1" netns "$ns1" numrxqueues "$q" numtxqueues "$q" mtu "$mtu" \
    type veth peer name "$if2" netns "$ns2" numrxqueues "$q" numtxqueues "$q" mtu "$mtu" ||
    { _xp_err "xp_veth: cannot create $ns1/$if1 <-> $ns2/$if2"; return 1; }
  if ! timeout 10 ip -n "$ns1" link set "$if1" up || ! timeout 10 ip -n "$ns2" link set "$if2" up; then
    _xp_err "xp_veth: cannot bring up $ns1/$if1 <-> $ns2/$if2"; return 1
  fi
}

# xp_link NS1 IF1 CIDR1 NS2 IF2 CIDR2 [xp_veth options]: a veth between two
# namespaces with one address at each end
xp_link() {
  if [[ $# -lt 6 ]]; then
    _xp_err "usage: xp_link NS1 IF1 CIDR1 NS2 IF2 CIDR2 [--queues N] [--mtu M]"; return 1
  fi
  local ns1=$1 if1=$2 a1=$3 ns2=$4 if2=$5 a2=$6
  shift 6
  xp_veth "$ns1" "$if1" "$ns2" "$if2" "$@" && xp_addr "$ns1" "$if1" "$a1" && xp_addr "$ns2" "$if2" "$a2"
}

# xp_pair VAR1 NAME1 IF1 CIDR1 VAR2 NAME2 IF2 CIDR2 [xp_veth options]: two new
# namespaces (xp_ns_new NAME1, NAME2; their names are set in the variables
# VAR1 and VAR2) joined by xp_link
xp_pair() {
  if [[ $# -lt 8 ]]; then
    _xp_err "usage: xp_pair VAR1 NAME1 IF1 CIDR1 VAR2 NAME2 IF2 CIDR2 [--queues N] [--mtu M]"; return 1
  fi
  local _n1 _n2
  _n1=$(xp_ns_new "$2") && _n2=$(xp_ns_new "$6") || return 1
  printf -v "$1" %s "$_n1" && printf -v "$5" %s "$_n2" || return 1
  xp_link "$_n1" "$3" "$4" "$_n2" "$7" "$8" "${@:9}"
}

# xp_gro_napi NS IF: GRO switched off and on again on a link that is up, which
# gives a veth end the NAPI that a redirect into its peer needs (docs/veth.md)
xp_gro_napi() {
  xp_exec "$1" ethtool -K "$2" gro off >/dev/null && xp_exec "$1" ethtool -K "$2" gro on >/dev/null
}

# xp_proxy_path PREFIX DEVIF VICIF: the path through one proxy, three new
# namespaces (PREFIXdev, PREFIXpx, PREFIXvic) whose names are set in DEV, PX
# and VIC:
#   DEV DEVIF 198.18.0.2/24 ==== in0 198.18.0.1/24 PX out0 198.18.1.1/24 ==== VICIF 198.18.1.2/24 VIC
# DEV routes 198.18.1.0/24 and VIC 198.18.0.0/24 through PX, which forwards;
# the victim's end gets a NAPI (xp_gro_napi), PX a managed neighbour entry
# for the victim. xpro is not attached.
xp_proxy_path() {
  if [[ $# -ne 3 ]]; then
    _xp_err "usage: xp_proxy_path PREFIX DEVIF VICIF"; return 1
  fi
  xp_pair DEV "$1dev" "$2" 198.18.0.2/24 PX "$1px" in0 198.18.0.1/24 || return 1
  VIC=$(xp_ns_new "$1vic") || return 1
  xp_link "$PX" out0 198.18.1.1/24 "$VIC" "$3" 198.18.1.2/24 || return 1
  timeout 10 ip -n "$DEV" route add 198.18.1.0/24 via 198.18.0.1 &&
    timeout 10 ip -n "$VIC" route add 198.18.0.0/24 via 198.18.1.1 &&
    xp_exec "$PX" sysctl -qw net.ipv4.ip_forward=1 &&
    xp_gro_napi "$VIC" "$3" || return 1
  timeout 10 ip -n "$PX" neigh replace 198.18.1.2 dev out0 managed || true
}

# xp_conf FILE KEY=VALUE...: an xpro config file (docs/config.md), one
# "key = value" line for each argument, in order
xp_conf() {
  local f=${1:-} kv
  [[ -n $f ]] || { _xp_err "usage: xp_conf FILE KEY=VALUE..."; return 1; }
  shift
  : > "$f" || return 1
  for kv in "$@"; do
    [[ $kv == ?*=* ]] || { _xp_err "xp_conf: '$kv' is not KEY=VALUE"; return 1; }
    printf '%s = %s\n' "${kv%%=*}" "${kv#*=}" >> "$f"
  done
}

xp_exec() {
  local ns=${1:-}
  _xp_ns_exists "$ns" || { _xp_err "xp_exec: no namespace '$ns'"; return 1; }
  shift
  nsenter --net="/run/netns/$ns" -- "$@"
}

# --- processes ---------------------------------------------------------

# _xp_stat and xp_alive: lib/proc.bash
source "${BASH_SOURCE[0]%/*}/proc.bash"

# _xp_signal SIG "PID START": the process group when PID leads one (xp_spawn
# starts each process in its own session), else the process alone
_xp_signal() {
  local sig=$1 pid start st s pgrp
  read -r pid start <<< "$2"
  read -r st s pgrp < <(_xp_stat "$pid") || return 0
  [[ $s == "$start" ]] || return 0 # gone, the PID reused
  if [[ $pgrp == "$pid" ]]; then
    kill "-$sig" -- "-$pid" 2>/dev/null || true
  else
    kill "-$sig" "$pid" 2>/dev/null || true
  fi
  return 0
}

# _xp_stop "PID START"...: TERM, up to 3 s, then KILL, up to 2 s; 0 when all gone
_xp_stop() {
  local p pid start i round tries
  local -a left=()
  for p in "$@"; do _xp_signal TERM "$p"; done
  for round in TERM KILL; do
    tries=30
    [[ $round == KILL ]] && tries=20
    for ((i = 0; i < tries; i++)); do
      left=()
      for p in "$@"; do
        read -r pid start <<< "$p"
        wait "$pid" 2>/dev/null || true # reap our own children
        xp_alive "$pid" "$start" && left+=("$p")
      done
      [[ ${#left[@]} -eq 0 ]] && return 0
      sleep 0.1
    done
    if [[ $round == TERM ]]; then
      for p in "${left[@]}"; do _xp_signal KILL "$p"; done
    fi
  done
  _xp_err "still running after KILL (PID START): ${left[*]}"
  return 1
}

# _xp_start NS LOG CMD...: CMD in its own session, in NS when NS is not
# empty; prints "PID START". Job control stays off for the fork, so the child
# is no group leader and setsid execs in place: $! is CMD itself.
_xp_start() {
  local ns=$1 log=$2 pid st start pgrp jc=${-//[^m]/}
  shift 2
  [[ -n $jc ]] && set +m
  if [[ -n $ns ]]; then
    setsid nsenter --net="/run/netns/$ns" -- "$@" < /dev/null > "$log" 2>&1 3>&- 4>&- &
  else
    setsid "$@" < /dev/null > "$log" 2>&1 3>&- 4>&- &
  fi
  pid=$!
  [[ -n $jc ]] && set -m
  read -r st start pgrp < <(_xp_stat "$pid") || { _xp_err "process $pid vanished"; return 1; }
  _xp_reg proc "$pid" "$start" "$log"
  echo "$pid $start"
}

# xp_spawn [--ns NS] NAME CMD...: CMD (an executable, not a shell function)
# in the background, output to a log; prints its PID. Teardown kills it
# and its process group.
xp_spawn() {
  local ns="" name log out
  if [[ ${1:-} == --ns ]]; then
    ns=${2:-}; shift 2 || return 1
    _xp_ns_exists "$ns" || { _xp_err "xp_spawn: no namespace '$ns'"; return 1; }
  fi
  name=${1:-}
  shift || true
  if [[ ! $name =~ ^[A-Za-z0-9_.-]+$ || $# -eq 0 ]]; then
    _xp_err "usage: xp_spawn [--ns NS] NAME CMD..."; return 1
  fi
  if [[ $(type -t "$1") != file ]]; then
    _xp_err "xp_spawn: '$1' is not an executable (functions cannot be killed by PID: use --ns NS)"
    return 1
  fi
  mkdir -p "$XP_DIR/log"
  log=$(mktemp "$XP_DIR/log/$name.XXXXXX") || return 1
  out=$(_xp_start "$ns" "$log" "$@") || return 1
  echo "${out%% *}"
}

xp_log_of() {
  local kind pid start log
  while read -r kind pid start log; do
    [[ $kind == proc && $pid == "$1" ]] && { echo "$log"; return 0; }
  done < <(_xp_reg_lines)
  _xp_err "xp_log_of: no process $1 was spawned here"
  return 1
}

# --- redis -------------------------------------------------------------

# _xp_redis_rec PORT: "PID START NS BIND DIR" (NS "-" for the host)
_xp_redis_rec() {
  local rec=$XP_DIR/redis.${1:-}
  [[ -n ${1:-} && -r $rec ]] || { _xp_err "no private redis-server on port '${1:-}'"; return 1; }
  cat "$rec"
}

# a port below the ephemeral range, free in NS, not used by another of ours
_xp_free_port() {
  local ns=$1 lo hi port i
  local -a in_ns=()
  [[ -n $ns ]] && in_ns=(nsenter --net="/run/netns/$ns" --)
  read -r lo hi < <("${in_ns[@]}" cat /proc/sys/net/ipv4/ip_local_port_range)
  hi=$((${lo:-32768} - 1))
  lo=$((hi > 20999 ? 20000 : 10000))
  for ((i = 0; i < 50; i++)); do
    port=$((lo + (RANDOM % (hi - lo + 1))))
    [[ -e $XP_DIR/redis.$port ]] && continue
    [[ -z $("${in_ns[@]}" ss -Htan "sport = :$port" 2>/dev/null) ]] || continue
    echo "$port"
    return 0
  done
  return 1
}

_xp_redis_auth() {
  if [[ -n ${XP_REDIS_USER:-} ]]; then
    printf '%s\n' --no-auth-warning --user "$XP_REDIS_USER"
  elif [[ -n ${XP_REDIS_PASS:-} ]]; then
    printf '%s\n' --no-auth-warning
  fi
}

# xp_redis_cli PORT ARGS...: redis-cli to our server on PORT, in its
# namespace, with XP_REDIS_USER/XP_REDIS_PASS, bounded to 5 s
xp_redis_cli() {
  local port=${1:-} pid start ns bind dir
  local -a in_ns=() auth=()
  read -r pid start ns bind dir < <(_xp_redis_rec "$port") || return 1
  shift
  [[ $ns != - ]] && in_ns=(nsenter --net="/run/netns/$ns" --)
  mapfile -t auth < <(_xp_redis_auth)
  # the password in the environment (REDISCLI_AUTH), never on a command line
  if [[ -n ${XP_REDIS_PASS:-} ]]; then
    REDISCLI_AUTH=$XP_REDIS_PASS "${in_ns[@]}" timeout 5 redis-cli -h "$bind" -p "$port" "${auth[@]}" "$@"
  else
    "${in_ns[@]}" timeout 5 redis-cli -h "$bind" -p "$port" "$@"
  fi
}

xp_redis_pid() {
  local pid start ns bind dir
  read -r pid start ns bind dir < <(_xp_redis_rec "${1:-}") || return 1
  echo "$pid"
}

# xp_redis_start [NS [ADDR]]: a private redis-server (scripts/xpro-redis: the
# project's settings, no persistence, files in a temp folder) on a free port,
# bound to 127.0.0.1 (of NS when given) or to ADDR (127.0.0.1 or a testbed
# address in NS); waits up to 5 s for its answer;
# prints the port. XP_REDIS_PASS alone sets requirepass; with XP_REDIS_USER,
# an ACL user with that password and the default user off.
xp_redis_start() {
  local ns=${1:-} bind=${2:-127.0.0.1} port dir try i out pid start rc launcher
  local -a args
  if [[ -n $ns ]] && ! _xp_ns_exists "$ns"; then
    _xp_err "xp_redis_start: no namespace '$ns'"; return 1
  fi
  if [[ $bind != 127.0.0.1 ]] && ! { [[ -n $ns ]] && xp_in_testbed "$bind"; }; then
    _xp_err "xp_redis_start: refusing bind '$bind': 127.0.0.1, or an address in $XP_TESTBED inside a namespace"
    return 1
  fi
  if [[ -n ${XP_REDIS_USER:-} && -z ${XP_REDIS_PASS:-} ]]; then
    _xp_err "xp_redis_start: XP_REDIS_USER needs XP_REDIS_PASS"; return 1
  fi
  # the project's launcher (scripts/xpro-redis): its settings, a wait for the answer
  launcher=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/scripts/xpro-redis
  for ((try = 0; try < 5; try++)); do
    port=$(_xp_free_port "$ns") || { _xp_err "xp_redis_start: no free port"; return 1; }
    dir=$(mktemp -d "$XP_DIR/redis-$port.XXXXXX") || return 1
    _xp_reg dir "$dir"
    args=(start "$dir" --port "$port" --bind "$bind")
    [[ -n $ns ]] && args+=(--netns "$ns")
    if [[ -n ${XP_REDIS_USER:-} ]]; then
      args+=(--user "$XP_REDIS_USER")
    elif [[ -n ${XP_REDIS_PASS:-} ]]; then
      args+=(--requirepass)
    fi
    rc=0
    pid=$(XPRO_REDIS_PASS=${XP_REDIS_PASS:-} "$launcher" "${args[@]}" 2> "$dir/launcher.err") || rc=$?
    if ((rc == 0)); then
      read -r out start i < <(_xp_stat "$pid") || { _xp_err "xp_redis_start: redis-server $pid vanished"; return 1; }
      _xp_reg proc "$pid" "$start" "$dir/redis.log"
      echo "$pid $start ${ns:--} $bind $dir" > "$XP_DIR/redis.$port"
      echo "$port"
      return 0
    fi
    # lost a race for the port (status 3): try another; anything else is fatal
    ((rc == 3)) && continue
    _xp_err "xp_redis_start: redis-server on port $port did not start:"
    cat "$dir/launcher.err" >&2
    return 1
  done
  _xp_err "xp_redis_start: every port tried was taken"
  return 1
}

xp_redis_stop() {
  local port=${1:-} pid start ns bind dir
  read -r pid start ns bind dir < <(_xp_redis_rec "$port") || return 1
  _xp_stop "$pid $start" || return 1
  rm -f "$XP_DIR/redis.$port"
}

# --- pins, teardown, failure dumps --------------------------------------

xp_pin_dir_register() {
  local d=${1:-}
  if [[ $d != "$XP_BPFFS"/?* || $d == *..* ]]; then
    _xp_err "xp_pin_dir_register: '$d' is not a folder under $XP_BPFFS"; return 1
  fi
  _xp_reg pins "$d"
}

# _xp_teardown_reg FILE: undo one registry, by kind: processes, then
# whatever still runs in our namespaces, pins, namespaces, folders
_xp_teardown_reg() {
  local reg=$1 kind a b c rc=0 ns
  local -a procs=() nss=() pins=() dirs=() strays=()
  [[ -f $reg ]] || return 0
  while read -r kind a b c; do
    case $kind in
      proc) procs+=("$a $b") ;;
      ns) nss+=("$a") ;;
      pins) pins+=("$a") ;;
      dir) dirs+=("$a") ;;
    esac
  done < "$reg"
  [[ ${#procs[@]} -gt 0 ]] && { _xp_stop "${procs[@]}" || rc=1; }
  # processes a test started in our namespaces without xp_spawn
  for ns in "${nss[@]}"; do
    _xp_ns_exists "$ns" || continue
    for a in $(timeout 10 ip netns pids "$ns" 2>/dev/null); do
      read -r kind b c < <(_xp_stat "$a") && strays+=("$a $b")
    done
  done
  [[ ${#strays[@]} -gt 0 ]] && { _xp_stop "${strays[@]}" || rc=1; }
  for a in "${pins[@]}"; do
    [[ $a == "$XP_BPFFS"/?* && $a != *..* ]] && rm -rf -- "$a"
  done
  for ns in "${nss[@]}"; do
    _xp_ns_exists "$ns" || continue
    timeout 10 ip netns del "$ns" || { _xp_err "cannot delete namespace $ns"; rc=1; }
  done
  for a in "${dirs[@]}"; do
    [[ $a == "$XP_DIR"/?* ]] && rm -rf -- "$a"
  done
  rm -f "$reg"
  return $rc
}

# xp_teardown_all: in a test, what the test created; elsewhere, everything
# recorded under XP_DIR. Idempotent.
xp_teardown_all() {
  local reg rc=0 f pid start
  if _xp_in_test; then
    _xp_teardown_reg "$XP_DIR/reg.test-$BATS_TEST_NUMBER" || rc=1
  else
    for reg in "$XP_DIR"/reg.*; do
      [[ -e $reg ]] && { _xp_teardown_reg "$reg" || rc=1; }
    done
  fi
  # servers that are gone must not be found by their port any more
  for f in "$XP_DIR"/redis.*; do
    [[ -e $f ]] || continue
    read -r pid start _ < "$f"
    xp_alive "$pid" "$start" || rm -f "$f"
  done
  return $rc
}

# xp_trap_exit: outside bats (a script, a shell), tear down on exit and
# remove the private state folder. Inside bats, teardown and teardown_file
# do it and bats owns the EXIT trap.
xp_trap_exit() {
  declare -F bats_teardown_trap > /dev/null && return 0
  declare -F bats_exit_trap > /dev/null && return 0
  trap '_xp_exit_trap' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

_xp_exit_trap() {
  local rc=$?
  xp_teardown_all
  [[ -n ${XP_DIR_OWNED:-} && $XP_DIR == "${TMPDIR:-/tmp}"/xp-* ]] && rm -rf -- "$XP_DIR"
  return $rc
}

# xp_dump_on_failure: from teardown, when the test did not complete (failed,
# not skipped), print the namespaces' addresses, routes and links, the maps
# pinned in registered pin folders, and the tails of the logs, to stderr
# (bats shows it under the failing test).
xp_dump_on_failure() {
  [[ -n ${BATS_TEST_COMPLETED:-} || -n ${BATS_TEST_SKIPPED:-} ]] && return 0
  local kind a b c m n
  {
    echo "---- state after the failure of: ${BATS_TEST_DESCRIPTION:-?}"
    while read -r kind a b c; do
      case $kind in
        ns)
          _xp_ns_exists "$a" || { echo "== netns $a: gone"; continue; }
          echo "== netns $a"
          timeout 5 ip -n "$a" addr 2>&1 | sed 's/^/  addr  /'
          timeout 5 ip -n "$a" route 2>&1 | sed 's/^/  route /'
          timeout 5 ip -n "$a" -d link 2>&1 | sed 's/^/  link  /'
          ;;
        pins)
          n=0
          while read -r m; do
            timeout 5 bpftool map show pinned "$m" > /dev/null 2>&1 || continue
            ((n++ < 20)) || break
            echo "== map $m (first 40 lines)"
            timeout 5 bpftool map dump pinned "$m" 2>&1 | head -n 40 | sed 's/^/  /'
          done < <(find "$a" -maxdepth 3 -type f 2>/dev/null | sort)
          ;;
        proc)
          echo "== log of PID $a: $c (last 20 lines)"
          tail -n 20 "$c" 2>/dev/null | sed 's/^/  /'
          ;;
        dir)
          [[ -f $a/redis.log ]] || continue
          echo "== $a/redis.log (last 10 lines)"
          tail -n 10 "$a/redis.log" | sed 's/^/  /'
          ;;
      esac
    done < <(_xp_reg_lines)
    echo "----"
  } >&2
  return 0
}
