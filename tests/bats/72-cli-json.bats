#!/usr/bin/env bats
# Every read command of xpro with -j (and -p) prints JSON that jq parses
# (docs/xpro.md, Output). A live proxy on 20-dataplane's path, a TF2
# override and warnings published, so that no command prints an empty case.

load lib/xpro

XPRO=${XPRO_BUILD:-build}/bin/xpro
UDP=${XPRO_BUILD:-build}/tests/tools/xpt-udp

setup_file() {
  xp_require_root
  export DEV PX VIC CONF
  xp_proxy_path "" dev0 vic0
  CONF=$BATS_FILE_TMPDIR/xpro.conf
  xp_conf "$CONF" tf1=50 warn_interval_ms=100 state_dir="$BATS_FILE_TMPDIR/state"
  xp_pin_dir_register "/run/xpro/bpf/$PX"
  xp_exec "$PX" "$XPRO" attach -i in0 -c "$CONF" >/dev/null
  xp_exec "$PX" "$XPRO" tf2 -i in0 -c "$CONF" 198.18.1.2 300 >/dev/null
  xp_spawn --ns "$PX" warnd "$XPRO" warnd -i in0 -c "$CONF" --duration 5 >/dev/null
  sleep 0.3
  xp_exec "$DEV" timeout 20 "$UDP" send --proxy 198.18.0.1 --dst 198.18.1.2 --dport 7 \
    --count 300 --interval-us 2000 --wait-ms 0 >/dev/null
  sleep 0.3
}

teardown_file() {
  xp_teardown_all
  xp_exec "$PX" "$XPRO" detach -i in0 -c "$CONF" >/dev/null 2>&1 || true
}

teardown() {
  xp_dump_on_failure
}

# the read commands and what their JSON must hold (a jq test)
READS=(
  "status -i in0|.attached == true and .records == 1 and .tf1 == 50 and .load.mode == \"tunnel\""
  "stats -i in0|.counters.drop_tf1 > 0 and (.top | length) == 1"
  "top -i in0 --count 2 --interval 0.1|.interface == \"in0\""
  "tf2 -i in0 list|.[0].dest == \"198.18.1.2\" and .[0].pps == 300"
  "alerts -i in0|.event_type == \"alert\" and .reason == \"tf1\""
  "config show|.tf1 == 50 and .policy == \"paper\""
  "config check $BATS_TEST_DIRNAME/../../docs/xpro.conf.example|.ok == true and .problems == 0"
  "version|.xpro | test(\"^[0-9]+\\\\.[0-9]+\\\\.[0-9]+\")"
)

@test "every read command's -j and -p output parses with jq and holds its facts" {
  for r in "${READS[@]}"; do
    cmd=${r%%|*} check=${r#*|}
    conf=(-c "$CONF")
    [[ $cmd == version ]] && conf=() # reads no config file
    for fmt in -j -p; do
      # shellcheck disable=SC2086
      out=$(xp_exec "$PX" "$XPRO" $cmd "${conf[@]}" $fmt) || { echo "xpro $cmd $fmt failed"; return 1; }
      echo "$out" | jq -e -s 'length >= 1' >/dev/null || { echo "xpro $cmd $fmt: not JSON: $out"; return 1; }
      echo "$out" | jq -e "$check" >/dev/null || { echo "xpro $cmd $fmt: not ($check): $out"; return 1; }
    done
  done
  # -p indents; -j is one line per object
  [ "$(xp_exec "$PX" "$XPRO" stats -i in0 -c "$CONF" -j | wc -l)" -eq 1 ]
  (( $(xp_exec "$PX" "$XPRO" stats -i in0 -c "$CONF" -p | wc -l) > 10 ))
}

@test "-j and -p also go before the command, as in ip -j" {
  run xp_exec "$PX" "$XPRO" -j status -i in0 -c "$CONF"
  assert_success
  jq -e '.interface == "in0"' <<< "$output"
  run xp_exec "$PX" "$XPRO" -p version
  assert_success
  jq -e '.libbpf' <<< "$output"
}

@test "every command that reads takes -j; a command that writes refuses it" {
  for c in status stats top tf2 alerts config version; do
    "$XPRO" help $c | grep -q -- "-j, --json" || { echo "$c: no -j"; return 1; }
  done
  run "$XPRO" flush -i in0 -j
  [ "$status" -eq 2 ]
}

@test "every tool answers --version and --help with exit 0, the version the package says" {
  bin=${XPRO_BUILD:-build}/bin
  want=$(sed -n '1s/^xpro (\([^)]*\)).*/\1/p' "$BATS_TEST_DIRNAME/../../debian/changelog")
  [ -n "$want" ]
  for t in xpro xpro-bot xpro-device xpro-replay xpro-sink xpro-tun xpro-topo-probe xpro-topo-ping \
           xpro-topo xpro-redis; do
    if [[ $t == xpro-redis ]]; then run env XPRO_BUILD="${XPRO_BUILD:-build}" scripts/xpro-redis --version
    else run "$bin/$t" --version; fi
    [ "$status" -eq 0 ] || { echo "$t --version: $output"; return 1; }
    [[ $output == "$t $want"* ]] || { echo "$t --version: $output, not $want"; return 1; }
    if [[ $t == xpro-redis ]]; then run scripts/xpro-redis --help; else run "$bin/$t" --help; fi
    [ "$status" -eq 0 ] || { echo "$t --help: status $status"; return 1; }
  done
}

# the 16 bytes of an address, as bpftool takes them ("0x20 0x01 ...")
addr_hex() { python3 -c 'import ipaddress, sys; print(" ".join("0x%02x" % b for b in ipaddress.ip_address(sys.argv[1]).packed))' "$1"; }

@test "IPv6 in the CLI: tf2 takes and lists an IPv6 destination and refuses other spellings by their name; stats and top print an IPv6 record; forget removes it" {
  D6=2001:db8::c612:102   # vic0's 198.18.1.2, mapped into 2001:db8::/32
  C6=2001:db8::c612:2     # dev0's 198.18.0.2, mapped
  run xp_exec "$PX" "$XPRO" tf2 -i in0 -c "$CONF" $D6 500
  assert_success
  run xp_exec "$PX" "$XPRO" tf2 -i in0 -c "$CONF" list -j
  assert_success
  jq -e --arg d $D6 'length == 2 and any(.[]; .dest == $d and .pps == 500) and any(.[]; .dest == "198.18.1.2" and .pps == 300)' <<< "$output"
  run xp_exec "$PX" "$XPRO" tf2 -i in0 -c "$CONF" list
  assert_line "$D6 500"
  assert_line "198.18.1.2 300"
  # another spelling of an address: refused (exit 1) with its one name, nothing written
  run xp_exec "$PX" "$XPRO" tf2 -i in0 -c "$CONF" 2001:DB8::c612:102 700
  assert_failure 1
  assert_output --partial "'2001:DB8::c612:102' is not written canonically: write $D6"
  run xp_exec "$PX" "$XPRO" tf2 -i in0 -c "$CONF" 2001:db8:0:0:0:0:c612:102 700
  assert_failure 1
  assert_output --partial "write $D6"
  run xp_exec "$PX" "$XPRO" tf2 -i in0 -c "$CONF" ::ffff:198.18.1.2 700
  assert_failure 1
  assert_output --partial "'::ffff:198.18.1.2' is not written canonically: write 198.18.1.2"
  run xp_exec "$PX" "$XPRO" tf2 -i in0 -c "$CONF" 2001:db8::c612:10g 700
  assert_failure 1
  assert_output --partial "'2001:db8::c612:10g' is not an IPv4 or IPv6 address"
  run xp_exec "$PX" "$XPRO" tf2 -i in0 -c "$CONF" list -j
  jq -e 'length == 2 and all(.[]; .pps != 700)' <<< "$output"

  # a record of (C6, D6) as the data path keys it: 42 packets in the last second
  now=$(python3 -c 'import time; print(time.clock_gettime_ns(time.CLOCK_TAI))')
  val=$(python3 -c 'import struct, sys; n = int(sys.argv[1]); print(" ".join("0x%02x" % b for b in struct.pack("<8Q2I", n - 10**9, n, 42, 0, 0, 0, 42, 0, 0, 0)))' "$now")
  # shellcheck disable=SC2046
  bpftool map update pinned "/run/xpro/bpf/$PX/in0/xpro_records" key $(addr_hex $C6) $(addr_hex $D6) value $val
  run xp_exec "$PX" "$XPRO" stats -i in0 -c "$CONF" -j
  assert_success
  jq -e --arg c $C6 --arg d $D6 'any(.top[]; .client == $c and .dest == $d and .count == 42 and .window_ns == 1000000000)' <<< "$output"
  run xp_exec "$PX" "$XPRO" stats -i in0 -c "$CONF"
  assert_output --regexp "  $C6 +$D6 +42 "
  run xp_exec "$PX" "$XPRO" top -i in0 -c "$CONF" --count 1 --interval 0.1 -j
  jq -e --arg c $C6 'any(.top[]; .client == $c and .count == 42)' <<< "$output"
  # forget takes the same names: another spelling is refused, the record stays
  run xp_exec "$PX" "$XPRO" forget -i in0 -c "$CONF" 2001:db8::C612:2 $D6
  assert_failure 1
  assert_output --partial "write $C6"
  run xp_exec "$PX" "$XPRO" forget -i in0 -c "$CONF" $C6 $D6
  assert_success
  assert_output --partial "forgot ($C6, $D6)"
  run xp_exec "$PX" "$XPRO" stats -i in0 -c "$CONF" -j
  jq -e --arg c $C6 'all(.top[]; .client != $c)' <<< "$output"
  run xp_exec "$PX" "$XPRO" forget -i in0 -c "$CONF" $C6 $D6
  assert_failure 1
  assert_output --partial "no record for ($C6, $D6)"
  # the override cleared by its name; the IPv4 one stays
  run xp_exec "$PX" "$XPRO" tf2 -i in0 -c "$CONF" $D6 clear
  assert_success
  run xp_exec "$PX" "$XPRO" tf2 -i in0 -c "$CONF" list -j
  jq -e 'length == 1 and .[0].dest == "198.18.1.2"' <<< "$output"
}
