#!/usr/bin/env bash
# bench part "records": ns/packet of X-Pro's drop and pass paths under
# bpf_prog_test_run (bench-dataplane -p N) with N other records present, for
# each N of RECORDS_CURVE (default 10k, 100k, 1M, 4M = 4194304; the veth part
# measures the same on a live veth with 1 and 2 RX queues). Prints
# dataplane_curve {N: {drop_ns, pass_ns, xdp_drop_ns}} and
# dataplane_drop_ns_1m_vs_10k (target <= 1.3). bench-dataplane makes and
# removes its own namespace.
set -euo pipefail
cd "$(dirname "$0")/../.."
O=${O:-build}
curve="{}"
for n in ${RECORDS_CURVE:-10000 100000 1000000 4194304}; do
  r=$("$O"/bench/bench-dataplane -r "${RECORDS_RUNS:-3}" -p "$n")
  echo "bench records: $n records: $(jq -c '{dataplane_drop_ns, dataplane_pass_ns}' <<< "$r")" >&2
  curve=$(jq -c --arg n "$n" --argjson r "$r" \
    '. + {($n): {drop_ns: $r.dataplane_drop_ns, pass_ns: $r.dataplane_pass_ns, xdp_drop_ns: $r.xdp_drop_ns}}' <<< "$curve")
done
jq -c '{dataplane_curve: .,
  dataplane_drop_ns_1m_vs_10k: (try ((.["1000000"].drop_ns / .["10000"].drop_ns) * 100 | round / 100) catch null),
  dataplane_pass_ns_1m_vs_10k: (try ((.["1000000"].pass_ns / .["10000"].pass_ns) * 100 | round / 100) catch null)}' <<< "$curve"
