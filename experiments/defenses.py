"""The defenses an experiment runs under (docs/experiments.md, "Defenses"): one row each.

Everything that depends on the defense reads its row: the run's xpro.conf, what
`xpro-topo start` starts, the netfilter limit and its counters, the order of a
compare. Adding a defense is adding a row (and a line in docs/experiments.md).

Fields of a row:
  conf      xpro.conf keys the defense sets, over the scenario's thresholds
  conf_def  keys it sets unless the scenario does: KEY -> f(thresholds)
  start     extra arguments of `xpro-topo start` (the sync daemons it starts)
  nft       a netfilter per-(source, destination) limit at TF1 in every proxy's
            forward hook; its drops are the defense's drops
"""
from collections import namedtuple

Defense = namedtuple("Defense", "name conf conf_def start nft")

# the paper's policy and aggregate, exactly
_PAPER = {"policy": "paper", "agg_window_ms": 0}

TABLE = (
    # X-Pro decapsulates only; the kernel forwards everything
    Defense("none", {"filter": "off"}, {}, (), False),
    # the same, plus the classic per-source limit, each proxy alone
    Defense("nft", {"filter": "off"}, {}, (), True),
    # X-Pro synced with a private master per proxy: everything but the sharing
    Defense("xpro-isolated", _PAPER, {}, ("--isolated",), False),
    # X-Pro synced through the master
    Defense("xpro", _PAPER, {}, ("--sync",), False),
    # the extension policy (docs/algorithms.md): fair share, and TF2 over the
    # last TT3 of traffic instead of the whole aggregate window
    Defense("xpro-fair", {"policy": "fair"}, {"agg_window_ms": lambda th: th.get("tt3_ms", 500)},
            ("--sync",), False),
)

BY_NAME = {d.name: d for d in TABLE}
NAMES = [d.name for d in TABLE]          # in the order a compare shows them
BASELINE = "none"                        # a compare's reference: victim load reduction against it


def get(name):
    """The row of defense NAME (KeyError for an unknown one)."""
    return BY_NAME[name]


def conf(name, thresholds):
    """The thresholds with the defense's keys applied (a new dict)."""
    d, th = BY_NAME[name], dict(thresholds)
    th.update(d.conf)
    for k, f in d.conf_def.items():
        th.setdefault(k, f(th))
    return th
