#!/usr/bin/env bats
# Every tool's options go through lib/opt.c: a bad number -- "10x", "nan",
# "inf", "-1", an overflow, "" -- is refused with exit status 2 and exactly
# one line on stderr that names the tool and the option, before the tool
# looks at its network namespace (so these run anywhere; nothing is sent).
# A good value gets past the parser: the line that follows is no longer
# about the option.

B=${XPRO_BUILD:-build}
BAD=(10x nan inf -1 99999999999999999999 "")

# refused BIN OPTNAME ARGS...: ARGS with @ replaced by each bad value
refused() {
  local bin=$1 name=$2 v err rc a
  shift 2
  [[ -x $bin ]] || { echo "missing $bin: run make build"; return 1; }
  for v in "${BAD[@]}"; do
    local args=()
    for a in "$@"; do args+=("${a//@/$v}"); done
    err=$(timeout 10 "$bin" "${args[@]}" 2>&1 >/dev/null) && rc=0 || rc=$?
    if [[ $rc -ne 2 ]]; then
      echo "$bin ${args[*]}: exit $rc, want 2 ($err)"; return 1
    fi
    if [[ $(printf '%s\n' "$err" | wc -l) -ne 1 ]]; then
      echo "$bin ${args[*]}: want one stderr line, got: $err"; return 1
    fi
    if [[ $err != "$(basename "$bin"): $name: "* ]]; then
      echo "$bin ${args[*]}: the line does not name $name: $err"; return 1
    fi
  done
}

# passes BIN OPTNAME ARGS...: a good value, and the tool's next complaint
# (another option, the namespace check) is not about OPTNAME
passes() {
  local bin=$1 name=$2 err
  shift 2
  err=$(timeout 10 "$bin" "$@" 2>&1 >/dev/null) || true
  if [[ $err == *"$name: "* ]]; then
    echo "$bin $*: refused a good value: $err"; return 1
  fi
}

@test "xpro-bot: --duration, --count and a Mirai option (--len)" {
  refused "$B/bin/xpro-bot" --duration --duration @
  refused "$B/bin/xpro-bot" --count --duration 1 --count @
  refused "$B/bin/xpro-bot" --len --duration 1 --vector udp --len @
  passes "$B/bin/xpro-bot" --duration --duration 2.5
  # the vector's own range (dns: --len 0..255), still before the namespace check
  local err rc
  err=$(timeout 10 "$B/bin/xpro-bot" --duration 1 --vector dns --len 256 2>&1 >/dev/null) && rc=0 || rc=$?
  [ "$rc" -eq 2 ]
  [ "$err" = 'xpro-bot: --len: "256" is out of range (0..255)' ]
}

@test "xpro-device: --period and --jitter" {
  refused "$B/bin/xpro-device" --period --period @
  refused "$B/bin/xpro-device" --jitter --jitter @
  passes "$B/bin/xpro-device" --period --period 250 --target 198.18.1.2 --duration 1
}

@test "xpro-replay: --rate and --loop" {
  refused "$B/bin/xpro-replay" --rate --rate @
  refused "$B/bin/xpro-replay" --loop --loop @
  passes "$B/bin/xpro-replay" --rate --rate 500
}

@test "xpro-sink: --max-conns and --duration" {
  refused "$B/bin/xpro-sink" --max-conns --max-conns @
  refused "$B/bin/xpro-sink" --duration --duration @
  passes "$B/bin/xpro-sink" --duration --duration 0.5
}

@test "xpro-tun: --port" {
  refused "$B/bin/xpro-tun" --port set eth0 --port @
  passes "$B/bin/xpro-tun" --port set xpt-none0 --port 5683
}

@test "xpro-topo-ping: -c and -W" {
  refused "$B/bin/xpro-topo-ping" -c -c @ 198.18.1.2
  refused "$B/bin/xpro-topo-ping" -W -W @ 198.18.1.2
  passes "$B/bin/xpro-topo-ping" -c -c 3 198.18.1.2
}

@test "xpro-topo-probe: a value for a flag, an unknown option" {
  local bin=$B/bin/xpro-topo-probe err rc
  for a in --require-napi=1 --no-such-option; do
    err=$(timeout 10 "$bin" "$a" lo 2>&1 >/dev/null) && rc=0 || rc=$?
    [ "$rc" -eq 2 ]
    [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ]
    [[ $err == "xpro-topo-probe: "*"${a%%=*}"* ]]
  done
}

@test "xpt-udp and xpt-resp (test tools): --count, --duration" {
  refused "$B/tests/tools/xpt-udp" --count send --count @
  refused "$B/tests/tools/xpt-udp" --duration echo --port 9 --duration @
  refused "$B/tests/tools/xpt-resp" --duration --duration @
  passes "$B/tests/tools/xpt-resp" --duration --duration 1
}

@test "bench-dataplane and bench-sync: -r, --records" {
  refused "$B/bench/bench-dataplane" -r -r @
  refused "$B/bench/bench-sync" --records --records @
  passes "$B/bench/bench-sync" --records --records 10
}
