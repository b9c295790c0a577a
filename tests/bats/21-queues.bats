#!/usr/bin/env bats
# Two receive queues at once (issue: data plane, "correct with several receive
# queues"): the device's veth has two tx queues, each pinned by XPS to one
# CPU; two senders, one per CPU, hammer the same (client, destination) record
# through two rx queues of the proxy's in0, whose NAPI runs on both CPUs.
# With TT1 effectively infinite the record's count must equal every packet
# sent, and the program's counters must have seen every one of them.
#
#   dev (198.18.5.2/24) dev0 ==2 queues== in0 (198.18.5.1/24) px out0 == out1
#                                           ^ xpro attach, tunnel mode

load lib/xpro

XPRO=${XPRO_BUILD:-build}/bin/xpro
UDP=${XPRO_BUILD:-build}/tests/tools/xpt-udp
N=40000   # packets per sender

setup() {
  xp_require_root
  [[ $(nproc) -ge 2 ]] || skip "needs 2 CPUs for two concurrent receive queues (have $(nproc))"
  xp_pair DEV dev dev0 198.18.5.2/24 PX px in0 198.18.5.1/24 --queues 2
  xp_exec "$PX" sysctl -qw net.ipv4.ip_forward=1
  # a route for the destination (a veth pair inside px, with a static
  # neighbour): unroutable packets create no record (docs/algorithms.md),
  # and the record is what is counted
  xp_exec "$PX" ip link add out0 type veth peer name out1
  xp_exec "$PX" ip link set out1 up
  xp_exec "$PX" ip link set out0 up
  xp_gro_napi "$PX" out0
  xp_gro_napi "$PX" out1
  xp_exec "$PX" ip route add 198.18.9.0/24 dev out0
  xp_exec "$PX" ip neigh replace 198.18.9.9 lladdr 02:00:00:00:09:09 dev out0 nud permanent
  CONF=$BATS_TEST_TMPDIR/xpro.conf
  # TT1 a day: no window resets during the test; TF1 and TF2 high: nothing
  # is dropped by rate (the count is what is checked, not the verdict)
  xp_conf "$CONF" tt1_ms=86400000 tt2_ms=0 tt3_ms=0 tf1=4000000000 tf2=4000000000 \
    state_dir="$BATS_TEST_TMPDIR/state"
  xp_pin_dir_register "/run/xpro/bpf/$PX"
  # XPS: a sender on CPU k transmits on tx queue k, which veth delivers to
  # rx queue k of the peer (ip netns exec: the namespace's own /sys)
  timeout 5 ip netns exec "$DEV" sh -c 'echo 1 > /sys/class/net/dev0/queues/tx-0/xps_cpus &&
                                        echo 2 > /sys/class/net/dev0/queues/tx-1/xps_cpus'
}

teardown() {
  xp_dump_on_failure
  [[ -n ${PX:-} ]] && xp_exec "$PX" "$XPRO" detach -i in0 -c "$CONF" >/dev/null 2>&1
  xp_teardown_all
}

# rxq_xdp Q: packets the XDP program saw on rx queue Q of in0
rxq_xdp() {
  xp_exec "$PX" timeout 5 ethtool -S in0 | awk -v k="rx_queue_$1_xdp_packets:" '$1 == k { print $2 }'
}

@test "two rx queues on two CPUs hammering one record: every packet counted exactly" {
  run xp_exec "$PX" timeout 10 "$XPRO" attach -i in0 -c "$CONF"
  assert_success
  run rxq_xdp 0
  assert_success
  [[ $output =~ ^[0-9]+$ ]] || fail "ethtool -S in0 has no rx_queue_0_xdp_packets: $output"
  q0=$output
  q1=$(rxq_xdp 1)

  # both senders: same outer source (198.18.5.2), same inner destination
  p0=$(xp_spawn --ns "$DEV" send0 taskset -c 0 timeout 60 "$UDP" send --proxy 198.18.5.1 \
       --dst 198.18.9.9 --dport 9 --count $N --sport 40000)
  p1=$(xp_spawn --ns "$DEV" send1 taskset -c 1 timeout 60 "$UDP" send --proxy 198.18.5.1 \
       --dst 198.18.9.9 --dport 9 --count $N --sport 40001)
  for p in $p0 $p1; do
    for _ in $(seq 600); do kill -0 "$p" 2>/dev/null || break; [[ $(ps -o stat= -p "$p") == Z* ]] && break; sleep 0.1; done
  done
  run cat "$(xp_log_of "$p0")" "$(xp_log_of "$p1")"
  assert_output "{\"sent\":$N,\"replies\":0}
{\"sent\":$N,\"replies\":0}"

  # the two queues both carried a share of the packets
  d0=$(( $(rxq_xdp 0) - q0 ))
  d1=$(( $(rxq_xdp 1) - q1 ))
  echo "# rx queue 0: $d0 packets, rx queue 1: $d1 packets" >&3
  (( d0 > 0 && d1 > 0 ))
  # (plus the ARP exchange and other link noise, which xpro passes untouched)
  (( d0 + d1 >= 2 * N ))

  # one record, counting all 2N packets; the outcome counters add up to 2N
  run xp_exec "$PX" timeout 10 "$XPRO" stats -i in0 -c "$CONF" --json --top 1
  assert_success
  echo "$output" > "$BATS_TEST_TMPDIR/stats.json"
  [[ $(jq -r '.records' "$BATS_TEST_TMPDIR/stats.json") == 1 ]]
  [[ $(jq -r '.top[0].client' "$BATS_TEST_TMPDIR/stats.json") == 198.18.5.2 ]]
  [[ $(jq -r '.top[0].dest' "$BATS_TEST_TMPDIR/stats.json") == 198.18.9.9 ]]
  count=$(jq -r '.top[0].count' "$BATS_TEST_TMPDIR/stats.json")
  echo "# record count $count, expected $((2 * N))" >&3
  [[ $count == $((2 * N)) ]]
  # every tunnel packet was decided: rx less what went to the kernel untouched
  # (ARP) and the link's own IPv6 (router solicitations, dropped by config);
  # the route to 198.18.9.9 has a permanent neighbour, so each one is
  # redirected to out0
  [[ $(jq -r '.counters.rx - .counters.not_tunnel - .counters.drop_ipv6' "$BATS_TEST_TMPDIR/stats.json") == $((2 * N)) ]]
  [[ $(jq -r '.counters.pass_redirect' "$BATS_TEST_TMPDIR/stats.json") == $((2 * N)) ]]
}
