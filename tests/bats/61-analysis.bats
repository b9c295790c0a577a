#!/usr/bin/env bats
# Analysis unit tests (tests/analysis/test_xpa.py): analysis/xpa.py and
# experiments/scenario.py on hand-made raw files whose answers are worked out
# by hand in the test's comments. No testbed, no root needed.

PY=/usr/bin/python3
T=tests/analysis/test_xpa.py

t() { run timeout 120 $PY $T "$@"; echo "$output" | tail -5 | sed 's/^/# /'; [[ $status -eq 0 ]]; }

@test "accounting: sent, received, dropped per class; explained and unexplained loss; validity" { t Accounting; }
@test "detection time and the drop ratio after detection" { t Detection; }
@test "per class: a mixed replay split by its log, detection per attack class, false positives per legitimate class" { t PerClass; }
@test "victim load, legitimate latency quantiles, time series rates" { t Victim; }
@test "failover recovery time per device" { t Failover; }
@test "statistics: quantiles, means and 95 % intervals; log parsers" { t Stats; }
@test "SEEDS=N aggregate and compare (victim load reduction)" { t SeedsAndCompare; }
@test "matrix report: t and Wilson intervals over the valid seeds, invalid runs listed, tidy CSV" { t Matrix; }
@test "scenario assertions: values, missing defenses and fields, refusals" { t Assertions; }
@test "every scenario file loads at both scales; DURATION scaling; phases" { t Scenarios; }
