#!/usr/bin/env bash
# bench part "sim": xpro-sim's rate against a bare loop of xpro_decide(), same run.
#
# The workload: 3 proxies synced every 100 ms, 1,000 devices (1 request/s) and
# 1,000 bots at 1,000 packets/s each spread over the proxies from 2 s to 20 s
# (about 18 million packets, every one decided by xpro_decide(), every record
# merged by xpro_merge() each period). Rates are per second of the simulator's
# own CPU time on one core (CLOCK_THREAD_CPUTIME_ID: the machines are shared).
#   sim_pps          simulated packets per CPU second, everything included
#   sim_decide_pps   a bare loop calling xpro_decide() on as many records (one
#                    per client, round robin), as many packets, same run
#   sim_vs_decide    sim_pps / sim_decide_pps (target >= 0.5)
# The best of SIM_RUNS (default 3) runs. Prints one JSON object.
set -euo pipefail
cd "$(dirname "$0")/../.."
O=${O:-build}
SIM=$O/bin/xpro-sim
[[ -x $SIM ]] || { echo "bench sim: $SIM missing (make build)" >&2; exit 1; }
best=""
for _ in $(seq "${SIM_RUNS:-3}"); do
  out=$("$SIM" -q --bench -P 3 -U 1000 -B 1000 --bot-rate 1000 --bot-mode spread --attack 2-20 --duration 20)
  best=$(jq -s 'max_by(.sim_vs_decide)' <(echo "$out") <(echo "${best:-$out}"))
done
jq -c '{sim_pps: .sim_pps, sim_decide_pps: .decide_pps, sim_vs_decide: .sim_vs_decide}' <<< "$best"
