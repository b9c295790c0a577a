#!/usr/bin/env bats
# Client identity from the testbed's senders (docs/protocol.md, "Client
# identity"): xpro-bot --key-file and xpro-device --key-file (through xpro-tun's
# TC program) send header version 2; a real X-Pro proxy with device_keys counts
# them for their own address when the key is right, drops them (drop_bad_mac)
# when it is not.
#
#   DEV dev0 198.18.0.2 (local 198.18.16.0/20) == in0 198.18.0.1 PX out0 198.18.1.1 == vic0 198.18.1.2 VIC
#
# The proxies' key file: 198.18.16.1 (index 0) and .2 (1), xpro-device's first
# two devices; .9 (2) and .10 (3), bots; .3 (4), a source of xpro-tun; .4 (5),
# xpro-replay's mapped source. The
# senders' bad file is the same but for the key of .10. A sender's sequence
# numbers start at 1 and the proxy's windows at attach: each keyed address
# sends version 2 in one test only (a second sender would be a replay).

load lib/xpro

# the programs: $BIN/xpro, xpro-tun, xpro-bot, xpro-device; $TOOLS/xpt-udp, xpt-resp
BIN=${XPRO_BUILD:-build}/bin
TOOLS=${XPRO_BUILD:-build}/tests/tools

setup_file() {
  xp_require_root
  export DEV PX VIC CONF KEYS BAD
  xp_proxy_path "" dev0 vic0
  timeout 10 ip -n "$DEV" route add local 198.18.16.0/20 dev lo
  # 48 bytes of tunnel with header version 2
  timeout 10 ip -n "$DEV" route replace 198.18.1.0/24 via 198.18.0.1 mtu 1452
  timeout 10 ip -n "$PX" route add 198.18.16.0/20 via 198.18.0.2
  timeout 10 ip -n "$VIC" route add 198.18.16.0/20 via 198.18.1.1
  KEYS=$BATS_FILE_TMPDIR/device_keys
  BAD=$BATS_FILE_TMPDIR/bad_keys
  (umask 077
   printf '%s\n' '# device keys' '198.18.16.1 00112233445566778899aabbccddeeff' \
     '198.18.16.2 0f0e0d0c0b0a09080706050403020100' '198.18.16.9 000102030405060708090a0b0c0d0e0f' \
     '198.18.16.10 a0a1a2a3a4a5a6a7a8a9aaabacadaeaf' '198.18.16.3 8899aabbccddeeff0011223344556677' \
     '198.18.16.4 ffeeddccbbaa99887766554433221100' > "$KEYS"
   sed 's/^198.18.16.10 .*/198.18.16.10 a0a1a2a3a4a5a6a7a8a9aaabacadaeae/' "$KEYS" > "$BAD")
  CONF=$BATS_FILE_TMPDIR/xpro.conf
  xp_conf "$CONF" tf1=100000 tf2=1000000 state_dir="$BATS_FILE_TMPDIR/state" device_keys="$KEYS"
  xp_pin_dir_register "/run/xpro/bpf/$PX"
  xp_exec "$PX" timeout 20 "$BIN/xpro" attach -i in0 -c "$CONF" >/dev/null
}

teardown_file() {
  xp_exec "$PX" timeout 20 "$BIN/xpro" detach -i in0 -c "$CONF" >/dev/null 2>&1 || true
  xp_teardown_all
}

setup() {
  xp_exec "$PX" timeout 10 "$BIN/xpro" flush -i in0 -c "$CONF" >/dev/null
  pxstat > "$BATS_TEST_TMPDIR/base.json"
}

teardown() {
  xp_exec "$DEV" timeout 10 "$BIN/xpro-tun" detach dev0 >/dev/null 2>&1 || true
  # the xpro-topo test's run
  [[ ! -s $BATS_TEST_TMPDIR/topo_run ]] || timeout 60 "$BIN/xpro-topo" down "$(cat "$BATS_TEST_TMPDIR/topo_run")" -q || true
  xp_dump_on_failure
}

pxstat() { xp_exec "$PX" timeout 10 "$BIN/xpro" stats -i in0 -c "$CONF" --json; }
# d NAME: the increase of counter NAME since the test's setup
d() { echo $(($(pxstat | jq -r ".counters.$1") - $(jq -r ".counters.$1" "$BATS_TEST_TMPDIR/base.json"))); }
# packets the proxy passed (redirected, handed to its kernel, sent back)
passed() { echo $(($(d pass_redirect) + $(d pass_kernel) + $(d pass_tx))); }
# the proxy's clients with a record, sorted
clients() { pxstat | jq -r '[.top[].client] | unique | join(" ")'; }
bot() {
  xp_exec "$DEV" timeout 30 "$BIN/xpro-bot" --vector udp --target 198.18.1.2 --proxy 198.18.0.1 --rate 200 \
    --duration 10 --seed 3 "$@"
}

@test "xpro-bot --key-file: 20 packets of a bot under its own key pass as that bot; 15 under a wrong key are drop_bad_mac" {
  # a bot that holds only its own key, its index named (the proxies' file has it third)
  (umask 077; echo '198.18.16.9 000102030405060708090a0b0c0d0e0f 2' > "$BATS_TEST_TMPDIR/own")
  run bot --sources 198.18.16.9/32 --count 20 --key-file "$BATS_TEST_TMPDIR/own"
  assert_success
  assert_output --partial "1 of 1 bot(s) hold a key"
  # 20 signed by 198.18.16.9 with its key (index 2): all passed, none dropped
  [ "$(d drop_bad_mac)" -eq 0 ]
  [ "$(d drop_no_key)" -eq 0 ]
  [ "$(d drop_v1)" -eq 0 ]
  [ "$(passed)" -eq 20 ]
  [ "$(clients)" = "198.18.16.9" ]
  # 198.18.16.10 signs with a key one bit off the proxy's: 15 bad MACs, nothing passed
  run bot --sources 198.18.16.10/32 --count 15 --key-file "$BAD"
  assert_success
  [ "$(d drop_bad_mac)" -eq 15 ]
  [ "$(passed)" -eq 20 ]
  [ "$(clients)" = "198.18.16.9" ]
  # without --key-file the keyed bot's version 1 is a downgrade: 5 drop_v1
  run bot --sources 198.18.16.9/32 --count 5
  [ "$(d drop_v1)" -eq 5 ]
  [ "$(passed)" -eq 20 ]
  # a second run from 1 again: sequence numbers 1-5, seen (highest 20, window 32): replays
  run bot --sources 198.18.16.9/32 --count 5 --key-file "$BATS_TEST_TMPDIR/own"
  [ "$(d drop_replay)" -eq 5 ]
  # --seq-start 21: above all sent, 5 more pass
  run bot --sources 198.18.16.9/32 --count 5 --key-file "$BATS_TEST_TMPDIR/own" --seq-start 21
  assert_success
  [ "$(passed)" -eq 25 ]
  [ "$(d drop_replay)" -eq 5 ]
}

@test "xpro-bot --key-file refuses the XDP fast path and a group-readable key file" {
  run bot --sources 198.18.16.9/32 --count 1 --key-file "$KEYS" --fast=xdp
  assert_failure
  assert_output --partial "version 1 only"
  cp "$KEYS" "$BATS_TEST_TMPDIR/open" && chmod 644 "$BATS_TEST_TMPDIR/open"
  run bot --sources 198.18.16.9/32 --count 1 --key-file "$BATS_TEST_TMPDIR/open"
  assert_failure
  assert_output --partial "chmod 600"
}

@test "xpro-device --key-file through xpro-tun: 2 devices, 10 CoAP requests, every packet version 2 under the device's key" {
  run xp_exec "$DEV" timeout 10 "$BIN/xpro-tun" attach dev0 --proxy 198.18.0.1
  assert_success
  xp_exec "$VIC" timeout 30 "$TOOLS/xpt-resp" --duration 4 > "$BATS_TEST_TMPDIR/resp.json" &
  rpid=$!
  sleep 0.3
  run xp_exec "$DEV" timeout 30 "$BIN/xpro-device" --target 198.18.1.2 --devices 2 --proto coap --period 100 \
      --count 10 --duration 3 --seed 5 --key-file "$KEYS" --summary "$BATS_TEST_TMPDIR/dev.json"
  assert_success
  assert_output --partial "2 of 2 device(s) send header version 2"
  wait "$rpid" || true
  S=$BATS_TEST_TMPDIR/dev.json
  [ "$(jq -c '[.requests, .ok]' "$S")" = '[10,10]' ]
  # CoAP: one packet a request; all 10 passed the MAC check, none a version 1
  [ "$(jq -r .packets "$S")" -eq 10 ]
  [ "$(d drop_bad_mac)" -eq 0 ]
  [ "$(d drop_v1)" -eq 0 ]
  [ "$(d v1_accepted)" -eq 0 ]
  [ "$(passed)" -eq 10 ]
  [ "$(clients)" = "198.18.16.1 198.18.16.2" ]
}

@test "xpro-tun --key-file: 12 packets of a source under a wrong key are drop_bad_mac, 8 of one under its key pass" {
  run xp_exec "$DEV" timeout 10 "$BIN/xpro-tun" attach dev0 --proxy 198.18.0.1 --key-file "$BAD"
  assert_success
  assert_output --partial "keys: 6 source(s)"
  run xp_exec "$DEV" timeout 20 "$TOOLS/xpt-udp" send --plain --bind 198.18.16.10 --sport 40010 \
      --dst 198.18.1.2 --dport 7 --count 12 --interval-us 5000 --wait-ms 0
  assert_success
  run xp_exec "$DEV" timeout 20 "$TOOLS/xpt-udp" send --plain --bind 198.18.16.3 --sport 40003 \
      --dst 198.18.1.2 --dport 7 --count 8 --interval-us 5000 --wait-ms 0
  assert_success
  [ "$(d drop_bad_mac)" -eq 12 ]
  [ "$(d drop_replay)" -eq 0 ]
  [ "$(passed)" -eq 8 ]
  [ "$(clients)" = "198.18.16.3" ]
}

@test "xpro-replay --key-file: a capture's 30 packets from its mapped source 198.18.16.4, signed with its key, pass as that source" {
  /usr/bin/python3 experiments/mkpcap.py "$BATS_TEST_TMPDIR/c.pcap" --packets 30 --sources 1 --seconds 1
  run xp_exec "$DEV" timeout 30 "$BIN/xpro-replay" --pcap "$BATS_TEST_TMPDIR/c.pcap" --proxy 198.18.0.1 \
      --target 198.18.1.2 --src-range 198.18.16.4/32 --outer-src mapped --speed 0 --rate 1000 --key-file "$KEYS" \
      --summary "$BATS_TEST_TMPDIR/replay.json"
  assert_success
  [ "$(jq -r .sent "$BATS_TEST_TMPDIR/replay.json")" -eq 30 ]
  [ "$(d drop_bad_mac)" -eq 0 ]
  [ "$(d drop_v1)" -eq 0 ]
  [ "$(passed)" -eq 30 ]
  [ "$(clients)" = "198.18.16.4" ]
}

@test "xpro-topo start --identity: a 0600 key per client address, the proxies' device_keys, each client's own; a bot's own key passes px1" {
  local topo=$BIN/xpro-topo run=k54-$$ r p vic px1
  echo "$run" > "$BATS_TEST_TMPDIR/topo_run"
  timeout 60 "$topo" up default --name "$run" -q
  run timeout 60 "$topo" start "$run" --proxies --identity
  assert_success
  r=/run/xpro/topo/$run/keys
  # the default topology: dev 198.18.16.0/20 and bot 198.18.32.0/20, 4094 hosts each
  assert_output --partial "identity: 8188 client keys"
  [ "$(stat -c %a "$r" "$r/device_keys" "$r/dev.keys" "$r/bot.keys" | tr '\n' ' ')" = "700 600 600 600 " ]
  [ "$(wc -l < "$r/dev.keys")" -eq 4094 ]
  [ "$(awk 'NR == 1 || NR == 4094 { print $1, $3 }' "$r/dev.keys" | tr '\n' ' ')" = "198.18.16.1 0 198.18.31.254 4093 " ]
  [ "$(awk 'NR == 1 { print $1, $3 }' "$r/bot.keys")" = "198.18.32.1 4094" ]
  # each client's line is the proxies' line of that index; 8188 different keys
  [ "$(cat "$r/dev.keys" "$r/bot.keys" | awk '{ print $1, $2 }')" = "$(cat "$r/device_keys")" ]
  [ "$(awk '{ print $2 }' "$r/device_keys" | sort -u | grep -cE '^[0-9a-f]{32}$')" -eq 8188 ]
  for p in px1 px2 px3; do grep -qx "device_keys = $r/device_keys" "/run/xpro/topo/$run/$p/xpro.conf"; done
  # the bot host's first address, under its own key from bot.keys: 10 packets to vic1 via px1
  vic=$(timeout 10 "$topo" addr "$run" vic1 eth0)
  px1=$(timeout 10 "$topo" addr "$run" px1 in0)
  run timeout 60 "$topo" exec "$run" bot timeout 30 "$BIN/xpro-bot" --vector udp --sources 198.18.32.1/32 \
    --target "$vic" --proxy "$px1" --count 10 --rate 100 --duration 10 --key-file "$r/bot.keys"
  assert_success
  assert_output --partial "1 of 1 bot(s) hold a key"
  run timeout 60 "$topo" exec "$run" px1 timeout 10 "$BIN/xpro" stats -i in0 -c "/run/xpro/topo/$run/px1/xpro.conf" --json
  [ "$(jq -r '.counters.drop_bad_mac + .counters.drop_no_key + .counters.drop_v1' <<< "$output")" -eq 0 ]
  [ "$(jq -r '[.top[] | select(.client == "198.18.32.1") | .count] | add' <<< "$output")" -eq 10 ]
}
