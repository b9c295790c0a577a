#!/usr/bin/env bats
# The topology model (topo/xpro_topo_model.py): its plan is what xpro-topo
# really configures, its auto addresses follow topo/README.md's rules, and a
# malformed or hostile .topo file is refused with FILE:LINE: and a reason,
# before anything is built. Runs are named t31-PID-* and torn down in teardown.

load lib/xpro

TOPO=topo/xpro-topo
MODEL=topo/xpro_topo_model.py
# up's checks use the probe of this build
export XPRO_TOPO_PROBE=${XPRO_BUILD:-build}/bin/xpro-topo-probe

setup() {
  N=t31-$$-$BATS_TEST_NUMBER
}

teardown() {
  [[ $(id -u) -eq 0 ]] || return 0
  timeout 30 "$TOPO" down "$N" -q >/dev/null 2>&1 || true
  return 0
}

model() { timeout 30 /usr/bin/python3 "$MODEL" "$@"; }

@test "the model's auto addresses follow the README's rules (small, 2 proxies, worked by hand)" {
  run model plan small --proxies 2 --json
  assert_success
  local j=$output
  # proxy k: host number k of each segment; device host 1: 100+1; bot host 1: 200+1;
  # victim 1: 100+1 of victims; the master: 100 of master (small.topo's segments)
  [ "$(jq -r '[.hosts[] | select(.name=="px2") | .ifaces[] | "\(.name)=\(.addr)/\(.plen)"] | join(" ")' <<< "$j")" = \
    "in0=198.18.8.2/24 out0=198.18.9.2/24 db0=198.18.10.2/24" ]
  [ "$(jq -r '.hosts[] | select(.name=="dev") | .ifaces[0].addr' <<< "$j")" = 198.18.8.101 ]
  [ "$(jq -r '.hosts[] | select(.name=="bot") | .ifaces[0].addr' <<< "$j")" = 198.18.8.201 ]
  [ "$(jq -r '.hosts[] | select(.name=="vic1") | .ifaces[0].addr' <<< "$j")" = 198.18.9.101 ]
  [ "$(jq -r '.hosts[] | select(.name=="db") | .ifaces[0].addr' <<< "$j")" = 198.18.10.100 ]
  # 02:58: then the address's bytes (198.18.8.2 = c6.12.08.02)
  [ "$(jq -r '.hosts[] | select(.name=="px2") | .ifaces[0].mac' <<< "$j")" = 02:58:c6:12:08:02 ]
  # the one victim routes through px1 (round robin from the first)
  [ "$(jq -r '.hosts[] | select(.name=="vic1") | .via' <<< "$j")" = px1 ]
  # ipv6 on (small.topo): 2001:db8:: with the IPv4 address in the low 32 bits,
  # prefixes /(96+L): 198.18.8.2 = c612:0802, 198.18.64.0/20 -> .../116
  [ "$(jq -r .ipv6 <<< "$j")" = on ]
  [ "$(jq -r '[.hosts[] | select(.name=="px2") | .ifaces[] | "\(.name)=\(.addr6)/\(.plen6)"] | join(" ")' <<< "$j")" = \
    "in0=2001:db8::c612:802/120 out0=2001:db8::c612:902/120 db0=2001:db8::c612:a02/120" ]
  [ "$(jq -r '.hosts[] | select(.name=="bot") | .ifaces[0].addr6' <<< "$j")" = 2001:db8::c612:8c9 ]
  [ "$(jq -r '.hosts[] | select(.name=="dev") | .range6' <<< "$j")" = 2001:db8::c612:4000/116 ]
  [ "$(jq -r '.segments[] | select(.role=="victims") | .cidr6' <<< "$j")" = 2001:db8::c612:900/120 ]
  # the Python helper the experiments use
  [ "$(cd topo && /usr/bin/python3 -c 'import xpro_topo_model as M; p = M.plan("small"); print(M.addr6(p, "vic1"), M.addr6(p, "px1"))')" = \
    "2001:db8::c612:965 2001:db8::c612:801" ]
  # xpro-topo plan prints the same model: its addr statements are the JSON's, both families
  run timeout 30 "$TOPO" plan small --proxies 2
  assert_success
  assert_line "addr px2 in0 198.18.8.2/24"
  assert_line "addr bot eth0 198.18.8.201/24"
  assert_line "addr bot eth0 2001:db8::c612:8c9/120"
  # the IPv6 routes mirror the IPv4 ones
  assert_line "ip px1 route add 2001:db8::c612:5000/116 via 2001:db8::c612:8c9 dev in0"
  assert_line "ip vic1 route add 2001:db8::c612:800/120 via 2001:db8::c612:901 dev eth0"
  assert_line "ip dev route add local 2001:db8::c612:4000/116 dev lo"
  [ "$(grep -c '^addr .* 198\.' <<< "$output")" -eq "$(jq '[.hosts[].ifaces[]] | length' <<< "$j")" ]
  [ "$(grep -c '^addr .* 2001:db8:' <<< "$output")" -eq "$(jq '[.hosts[].ifaces[]] | length' <<< "$j")" ]
  # ipv6 off: no IPv6 in the plan at all
  sed 's/^ipv6 on.*/ipv6 off/' topo/topologies/small.topo > "$BATS_TEST_TMPDIR/off.topo"
  run model plan "$BATS_TEST_TMPDIR/off.topo" --json
  assert_success
  [ "$(jq '[.. | .addr6? // empty, .range6? // empty, .cidr6? // empty] | length' <<< "$output")" -eq 0 ]
  [ "$(jq -r '.hosts[] | select(.name=="dev") | .sysctl | join(" ")' <<< "$output")" = \
    "net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1" ]
  refute_output --partial "2001:db8"
}

@test "xpro-topo up configures exactly the model's addresses, MACs and bridge ports" {
  [[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces)"
  [[ -x $XPRO_TOPO_PROBE ]] || { echo "missing $XPRO_TOPO_PROBE: run make build"; return 1; }
  model plan default --proxies 2 --victims 3 --json > "$BATS_TEST_TMPDIR/plan.json"
  run timeout 60 "$TOPO" up default --name "$N" --proxies 2 --victims 3 -q
  assert_success
  local h i want got mac port seg n=0
  for h in $(jq -r '.hosts[].name' "$BATS_TEST_TMPDIR/plan.json"); do
    # every IPv4 address of the namespace (loopback aside) is one of the plan's, and back
    want=$(jq -r --arg h "$h" '.hosts[] | select(.name==$h) | .ifaces[] | "\(.name) \(.addr)/\(.plen)"' \
      "$BATS_TEST_TMPDIR/plan.json" | sort)
    got=$(ip -n "xt-$N-$h" -o -4 addr show | awk '$2 != "lo" {print $2, $4}' | sort)
    [ -n "$want" ]
    if [[ $got != "$want" ]]; then echo "$h: configured [$got], planned [$want]"; return 1; fi
    # and every global IPv6 address (default says ipv6 on)
    want=$(jq -r --arg h "$h" '.hosts[] | select(.name==$h) | .ifaces[] | "\(.name) \(.addr6)/\(.plen6)"' \
      "$BATS_TEST_TMPDIR/plan.json" | sort)
    got=$(ip -n "xt-$N-$h" -o -6 addr show scope global | awk '{print $2, $4}' | sort)
    if [[ $got != "$want" ]]; then echo "$h: configured IPv6 [$got], planned [$want]"; return 1; fi
    for i in $(jq -r --arg h "$h" '.hosts[] | select(.name==$h) | .ifaces[].name' "$BATS_TEST_TMPDIR/plan.json"); do
      # the MAC, and the bridge port on its segment's bridge
      read -r mac port seg < <(jq -r --arg h "$h" --arg i "$i" \
        '.hosts[] | select(.name==$h) | .ifaces[] | select(.name==$i) | "\(.mac) \(.port) \(.segment)"' "$BATS_TEST_TMPDIR/plan.json")
      [ "$(ip -n "xt-$N-$h" -j link show dev "$i" | jq -r '.[0].address')" = "$mac" ]
      [ "$(ip -n "xt-$N-core" -j link show dev "$port" | jq -r '.[0].master')" = "br-$seg" ]
      n=$((n + 1))
    done
  done
  # 2 proxies x 3 interfaces + dev, bot, 3 victims, db
  [ "$n" -eq 12 ]
  # hand-worked from the file: --victims 3 gives vic3 198.18.1.103, routed via px1 (3rd of 2, round robin)
  [ "$(timeout 10 "$TOPO" addr "$N" vic3)" = 198.18.1.103 ]
  run ip -n "xt-$N-vic3" route show 198.18.0.0/24
  assert_output --partial "via 198.18.1.1"
}

@test "a malformed or hostile topology file is refused with its line and a reason, nothing built" {
  local bad=$BATS_TEST_TMPDIR/bad.topo seg
  seg=$'segment access 198.18.0.0/24\nsegment victims 198.18.1.0/24\nsegment master 198.18.2.0/24\n'
  refused() { # WANT: the model and xpro-topo plan refuse bad.topo with WANT
    run model plan "$bad"
    [ "$status" -eq 1 ] || { echo "model: status $status: $output"; return 1; }
    [ "${#lines[@]}" -eq 1 ] || { echo "not one line: $output"; return 1; }
    assert_output "xpro-topo: $bad:$1"
    run timeout 30 "$TOPO" plan "$bad"
    [ "$status" -eq 1 ]
    assert_output "xpro-topo: $bad:$1"
  }
  printf '%sproxies 1\nvictims 1\ndevice d\nmaster m\nbogus 1\n' "$seg" > "$bad"
  refused "8: unknown directive 'bogus' (queues, mtu, ipv6, segment, proxies, proxy, victims, victim, device, bot, master, rate)"
  # a host name that is a shell command: refused by its name, never run
  printf '%sproxy $(touch%s/pwned)\n' "$seg" "$BATS_TEST_TMPDIR" > "$bad"
  refused "4: host name '\$(touch$BATS_TEST_TMPDIR/pwned)': 1-10 characters, a-z then a-z0-9"
  [ ! -e "$BATS_TEST_TMPDIR/pwned" ]
  printf '%sproxies 1\nvictims 1\ndevice d addr=198.18.0.255\nmaster m\n' "$seg" > "$bad"
  refused "6: d: 198.18.0.255 is the network or broadcast address of 198.18.0.0/24"
  printf '%sproxies 1\nvictims 1\ndevice d range=198.18.16.0/20\nbot b range=198.18.20.0/24\nmaster m\n' "$seg" > "$bad"
  refused "end: ranges of b (198.18.20.0/24) and d (198.18.16.0/20) overlap"
  printf '%sproxies 1\nvictims 1\ndevice d via=vic1\nmaster m\n' "$seg" > "$bad"
  refused "end: d: via=vic1 is not a proxy"
  printf '%sproxies 100\n' "$seg" > "$bad"
  refused "4: proxies N: 1-99"
  printf 'ipv6 maybe\n%s' "$seg" > "$bad"
  refused "1: ipv6 on|off: 'maybe' is neither"
  printf '%sipv6\n' "$seg" > "$bad"
  refused "4: ipv6 on|off: one value, on or off"
  printf 'segment access 198.18.0.0/24\r\n' > "$bad"
  refused "1: segment access: '198.18.0.0/24"$'\r'"' is not a network address/prefix"
  # not text, or far too large: refused as a whole
  printf '%sproxies 1\0\n' "$seg" > "$bad"
  run model plan "$bad"
  [ "$status" -eq 1 ]
  assert_output "xpro-topo: $bad: a NUL byte: not a text file"
  head -c 2000000 /dev/zero | tr '\0' '#' > "$bad"
  run model plan "$bad"
  [ "$status" -eq 1 ]
  assert_output "xpro-topo: $bad: larger than 1048576 bytes: not a topology"
  # up refuses it the same way and builds nothing
  if [[ $(id -u) -eq 0 ]]; then
    printf '%sproxies 1\nvictims 1\ndevice d\nmaster m\nmaster n\n' "$seg" > "$bad"
    run timeout 30 "$TOPO" up "$bad" --name "$N"
    assert_failure
    assert_output "xpro-topo: $bad:8: a second master ('n'): there is one master DB host"
    run ip netns list
    refute_output --partial "xt-$N-"
    [ ! -e "/run/xpro/topo/$N" ]
  fi
}
