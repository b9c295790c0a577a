#!/usr/bin/python3
"""Analysis unit tests (analysis/xpa.py, experiments/scenario.py) on hand-made raw files.

Every expected value below is worked out by hand in the comments, from the raw
files the test writes, never from the code under test.
Run: /usr/bin/python3 tests/analysis/test_xpa.py [-v] [Class[.test]]
"""
import csv
import json
import os
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "analysis"))
sys.path.insert(0, os.path.join(REPO, "experiments"))
import xpa  # noqa: E402
import scenario as S  # noqa: E402

T0 = 100000            # the run starts at Unix second 100000
VIC = "198.18.1.101"


def jdump(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f)


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def make_run(d, drop_tf1=3000, drop_tf2=352, tx_drop=0, legit_lost=2, dead=0, defense="xpro"):
    """A run of 8 s: legit 10 packets/s all along, a udp attack of 1000 packets/s from
    s 2 to 6 (ts 100002..100005); the victim gets 600, 50, 0, 0 of it, and all legit but
    `legit_lost` packets in second 100003."""
    raw = os.path.join(d, "raw")
    os.makedirs(raw, exist_ok=True)
    meta = {"scenario": "hand", "defense": defense, "seed": 1, "scale": "ci", "t0_ms": T0 * 1000,
            "attack_span_s": [2, 6], "victim": "vic1", "victim_addr": VIC,
            "classes": {"legit": ["198.18.16.0/20"], "udp": ["198.18.32.0/24"]},
            "proxies": {"px1": "198.18.0.1"}, "events": [], "crashed": [], "duration": 8,
            "thresholds": {"tf1": "100"}, "overrides": {}, "override_why": ""}
    if dead:
        meta["dead_proxy"] = "px1"
    jdump(os.path.join(d, "meta.json"), meta)
    hdr = ["ts", "src", "dst", "class", "packets", "bytes"]
    write_csv(os.path.join(raw, "sent_bots_udp_0.csv"), hdr,
              [[T0 + s, "198.18.32.1", VIC, "udp", 1000, 540000] for s in range(2, 6)])
    write_csv(os.path.join(raw, "sent_devices.csv"), hdr,
              [[T0 + s, "198.18.16.1", VIC, "legit", 10, 800] for s in range(0, 8)])
    rec = [[T0 + 2, "198.18.32.1", VIC, "udp", 600, 1], [T0 + 3, "198.18.32.1", VIC, "udp", 50, 1]]
    rec += [[T0 + s, "198.18.16.1", VIC, "legit", 10 - (legit_lost if s == 3 else 0), 1] for s in range(0, 8)]
    # a packet to another address of the victim host is not the victim's
    rec += [[T0 + 4, "198.18.32.1", "198.18.1.102", "udp", 7, 1]]
    write_csv(os.path.join(raw, "received.csv"), hdr, rec)
    # the victim's load per second (class all)
    allp = {0: 10, 1: 10, 2: 610, 3: 58, 4: 10, 5: 10, 6: 10, 7: 10}
    write_csv(os.path.join(raw, "victim_series.csv"), ["ts", "class", "packets", "bytes", "requests", "cpu_ms"],
              [[T0 + s, "all", p, 0, 0, 5] for s, p in allp.items()])
    # 10 answered requests with RTT 1..10 ms and one timeout
    lat = [[T0 * 1000 + 100 * i, "198.18.16.1", VIC, "legit", 1000 * (i + 1), 1] for i in range(10)]
    lat.append([T0 * 1000 + 3000, "198.18.16.2", VIC, "legit", 1000000, 0])
    write_csv(os.path.join(raw, "latency.csv"), ["ts_ms", "src", "dst", "class", "rtt_us", "ok"], lat)
    # samples every 100 ms: the bot host sent 100 per sample from k = 21 to 60; the
    # victim's udp counter grew by 100 at k = 21..26 and by 10 at k = 27..31
    with open(os.path.join(raw, "samples.jsonl"), "w") as f:
        udp = 0
        for k in range(0, 81):
            if 21 <= k <= 26:
                udp += 100
            elif 27 <= k <= 31:
                udp += 10
            s = {"t_ms": T0 * 1000 + 100 * k, "bot": {"tx_packets": 100 * max(0, min(k, 60) - 20)},
                 "victim": {"cls": {"c_udp": udp, "c_legit": k, "c_other": 0}, "cpu_ticks": k},
                 "px1": {"c": {"pass_redirect": k, "drop_tf1": 0}, "w": 5, "lag_ms": 10, "records": 3}}
            f.write(json.dumps(s) + "\n")
    jdump(os.path.join(raw, "final_stats.json"),
          {"px1": {"counters": {"drop_tf1": drop_tf1, "drop_tf2": drop_tf2, "pass_redirect": 730}},
           "dead_proxy_frames": dead})
    eth = {"rx_packets": 0, "rx_drop": 0, "tx_packets": 0, "tx_drop": 0, "rx_errs": 0, "tx_errs": 0,
           "rx_fifo": 0, "tx_fifo": 0}
    jdump(os.path.join(raw, "ifstats_start.json"), {"px1": {"out0": dict(eth), "lo": dict(eth)}})
    end = dict(eth, tx_drop=tx_drop)
    jdump(os.path.join(raw, "ifstats_end.json"), {"px1": {"out0": end, "lo": dict(eth, rx_drop=999)}})
    jdump(os.path.join(raw, "sink.json"), {"ring_drops": 0})


class Base(unittest.TestCase):
    def setUp(self):
        self.d = tempfile.mkdtemp(prefix="xpa-test-")

    def tearDown(self):
        shutil.rmtree(self.d, ignore_errors=True)


class Accounting(Base):
    def test_totals_and_ratios(self):
        make_run(self.d)
        s = xpa.analyze(self.d)
        # attack: 4 x 1000 sent, 600 + 50 received (the 7 to another address are not counted)
        self.assertEqual(s["attack_packets_sent"], 4000)
        self.assertEqual(s["attack_packets_dropped"], 3350)
        self.assertAlmostEqual(s["attack_drop_ratio_whole"], 3350 / 4000)
        # legit: 8 x 10 sent, 2 lost
        self.assertEqual(s["legit_packets_sent"], 80)
        self.assertEqual(s["legit_packets_dropped"], 2)
        self.assertAlmostEqual(s["legit_drop_ratio"], 2 / 80)
        self.assertEqual(s["by_vector"]["udp"]["sent"], 4000)
        self.assertEqual(s["by_vector"]["udp"]["received"], 650)
        # lost 3352 = 3000 (TF1) + 352 (TF2): all explained
        self.assertEqual(s["accounting"]["lost"], 3352)
        self.assertEqual(s["accounting"]["explained"], 3352)
        self.assertEqual(s["accounting"]["unexplained"], 0)
        self.assertIs(s["valid"], True)
        for f in ("summary.json", "report.md", "timeseries.csv"):
            self.assertTrue(os.path.isfile(os.path.join(self.d, f)), f)

    def test_unexplained_loss_invalidates(self):
        # 352 lost packets no counter explains: 352 / 4080 = 8.6 % > 1 %
        make_run(self.d, drop_tf2=0)
        s = xpa.analyze(self.d)
        self.assertEqual(s["accounting"]["unexplained"], 352)
        self.assertIs(s["valid"], False)
        self.assertIn("unexplained loss 352", s["invalid_reason"])
        with open(os.path.join(self.d, "report.md")) as f:
            self.assertIn("INVALID RUN", f.read())

    def test_interface_drops_explain(self):
        # the same 352 counted by out0's tx_drop (lo's counters never count)
        make_run(self.d, drop_tf2=0, tx_drop=352)
        s = xpa.analyze(self.d)
        self.assertEqual(s["accounting"]["interface_drops"], 352)
        self.assertEqual(s["accounting"]["unexplained"], 0)
        self.assertIs(s["valid"], True)

    def test_small_unexplained_loss_is_tolerated(self):
        # 40 unexplained of 4080 sent = 0.98 %: still valid; 41 = 1.005 %: invalid
        make_run(self.d, drop_tf2=312)
        self.assertIs(xpa.analyze(self.d)["valid"], True)
        make_run(self.d, drop_tf2=311)
        self.assertIs(xpa.analyze(self.d)["valid"], False)

    def test_dead_proxy_frames_explain(self):
        make_run(self.d, drop_tf2=0, dead=352)
        s = xpa.analyze(self.d)
        self.assertEqual(s["accounting"]["dead_proxy_frames"], 352)
        self.assertIs(s["valid"], True)


    def add_received(self, rows):
        with open(os.path.join(self.d, "raw", "received.csv"), "a", newline="") as f:
            csv.writer(f).writerows(rows)

    def test_class_receiving_more_than_it_sent_invalidates(self):
        # backscatter: 3 packets from a device source that no device sent; legit 80 sent,
        # 78 + 3 = 81 received: 1 more than sent, a class can never receive more
        make_run(self.d)
        self.add_received([[T0 + 7, "198.18.16.9", VIC, "legit", 3, 1]])
        s = xpa.analyze(self.d)
        self.assertEqual(s["accounting"]["by_class"]["legit"]["extra"], 1)
        self.assertIs(s["valid"], False)
        self.assertIn("class legit: the victim received 81, 1 more than were sent", s["invalid_reason"])

    def test_loss_is_checked_per_class(self):
        # no defense drops, the whole attack arrives (600 + 50 + 3350 = 4000) and 2 of
        # the 80 legit packets are lost: 2 / 4080 = 0.05 % of everything sent (tolerated)
        # but 2 / 80 = 2.5 % of the class: invalid
        make_run(self.d, drop_tf1=0, drop_tf2=0)
        self.add_received([[T0 + 4, "198.18.32.1", VIC, "udp", 3350, 1]])
        s = xpa.analyze(self.d)
        self.assertEqual(s["accounting"]["unexplained"], 2)
        self.assertEqual(s["accounting"]["by_class"]["legit"]["unexplained"], 2)
        self.assertIs(s["valid"], False)
        self.assertIn("class legit: unexplained loss 2 of 80 sent", s["invalid_reason"])

    def test_ip_layer_drops_of_the_proxies_explain(self):
        # the same 2 legit packets expired on px1 (forwarded with TTL 1: InHdrErrors 5 -> 7)
        make_run(self.d, drop_tf1=0, drop_tf2=0)
        self.add_received([[T0 + 4, "198.18.32.1", VIC, "udp", 3350, 1]])
        for name, v in (("ifstats_start.json", 5), ("ifstats_end.json", 7)):
            p = os.path.join(self.d, "raw", name)
            j = json.load(open(p))
            j["_snmp"] = {"px1": {"InHdrErrors": v, "Forwarding": 1}}
            jdump(p, j)
        s = xpa.analyze(self.d)
        self.assertEqual(s["accounting"]["ip_drops"], 2)
        self.assertEqual(s["accounting"]["ip_drops_by_proxy"], {"px1/InHdrErrors": 2})
        self.assertIs(s["valid"], True)


class Detection(Base):
    def test_detect_and_after_detection_ratio(self):
        make_run(self.d)
        s = xpa.analyze(self.d)
        # window [k, k+10]: k = 25 receives 100 + 50 of 1000 (85 % dropped), k = 26
        # receives 50 (95 %), every later one less: detection 600 ms after the start
        self.assertEqual(s["detect_ms"], 600)
        # after detection: whole seconds from ceil(100002.6) = 100003: 3000 sent, 50 received
        self.assertAlmostEqual(s["attack_drop_ratio"], 2950 / 3000)

    def test_never_detected(self):
        samples = [{"t_ms": 1000 + 100 * k, "bot": {"tx_packets": 100 * k}, "victim": {"cls": {"c_udp": 60 * k}}}
                   for k in range(40)]
        det, wins = xpa.detect(samples, ["udp"], 1000, 4900)
        self.assertIsNone(det)
        self.assertAlmostEqual(wins[0][1], 0.4)

    def test_windows_with_little_traffic_do_not_count(self):
        # 10 packets per window (under DETECT_MIN_SENT) all received: neutral; then
        # 1000 per window all dropped from 1 s on
        samples = []
        tx = rx = 0
        for k in range(40):
            if k <= 10:
                tx += 1
                rx += 1
            else:
                tx += 100
            samples.append({"t_ms": 100 * k, "bot": {"tx_packets": tx}, "victim": {"cls": {"c_udp": rx}}})
        det, _ = xpa.detect(samples, ["udp"], 0, 3000)
        # tx(k) = rx(k) = k + 1 up to k = 10, then tx grows by 100 a sample and rx stays 11.
        # Window k = 0 (samples 0..10): 10 sent, neutral. k = 1 (1..11): sent 111 - 2 = 109,
        # received 11 - 2 = 9: 91.7 % dropped; every later window more: detection at 100 ms
        self.assertEqual(det, 100)


class PerClass(Base):
    def test_split_of_a_mixed_replay(self):
        # the victim counts replay "mixr" by source; its log says pair (A, X) sent 90 scan
        # and 10 answers, (B, Y) 5 answers: 50 received from (A, X) are 45 scan and 5
        # answers; 5 from (B, Y) are answers; 4 from a pair it never sent to fall to its
        # default class (the last: answers)
        row = lambda src, dst, c, n: {"ts": 1, "src": src, "dst": dst, "class": c, "packets": n, "bytes": 0}
        sent = [row("A", "X", "scan", 90), row("A", "X", "answers", 10), row("B", "Y", "answers", 5)]
        recv = [row("A", "X", "mixr", 50), row("B", "Y", "mixr", 5), row("C", "Z", "mixr", 4),
                row("D", "X", "legit", 3)]
        out = xpa.attribute(recv, sent, {"mixr": ["scan", "answers"]})
        got = {}
        for r in out:
            got[r["class"]] = got.get(r["class"], 0) + r["packets"]
        self.assertEqual(got, {"scan": 45, "answers": 5 + 5 + 4, "legit": 3})

    def test_detection_per_class(self):
        # seconds 10..13 sent 100, 100, 100, 10; received 100, 5, 0, 10: dropped 0, 0.95,
        # 1, and second 13 sent too little to count: detected from second 11, 1000 ms
        # after the attack's start at 10 000 ms
        sent = {10: 100, 11: 100, 12: 100, 13: 10}
        recv = {10: 100, 11: 5, 12: 0, 13: 10}
        self.assertEqual(xpa.detect_class(sent, recv, 10000, 14000), 1000)
        # a class that starts later is timed from its own first second
        self.assertEqual(xpa.detect_class({12: 50, 13: 50}, {}, 10000, 14000), 0)
        # never 90 % dropped to the end: not detected
        self.assertIsNone(xpa.detect_class(sent, {**recv, 12: 50}, 10000, 14000))

    def test_by_vector_and_by_legit_in_the_summary(self):
        make_run(self.d)
        s = xpa.analyze(self.d)
        # udp: sent 1000/s from second 2 to 5, received 600, 50, 0, 0 (dropped 40 %,
        # 95 %, 100 %, 100 %): detected from second 3, 1000 ms after the start at 2 s
        self.assertEqual(s["by_vector"]["udp"]["detect_ms"], 1000)
        self.assertEqual(s["by_legit"], {"legit": {"sent": 80, "received": 78, "dropped": 2,
                                                   "drop_ratio": 2 / 80}})
        with open(os.path.join(self.d, "report.md")) as f:
            r = f.read()
        self.assertIn("| legit | 80 | 78 | 2 | 2.500 % |", r)


class Victim(Base):
    def test_victim_load_and_latency(self):
        make_run(self.d)
        s = xpa.analyze(self.d)
        # baseline: seconds 100000, 100001 (10 each); attack: 610, 58, 10, 10
        self.assertEqual(s["victim_pps_baseline"], 10)
        self.assertEqual(s["victim_pps_attack_peak"], 610)
        self.assertAlmostEqual(s["victim_pps_attack_mean"], (610 + 58 + 10 + 10) / 4)
        # RTTs 1..10 ms: p50 5.5, p99 9 + 0.91 = 9.91 (linear interpolation); 10 of 11 answered
        self.assertAlmostEqual(s["legit_latency_p50_ms"], 5.5)
        self.assertAlmostEqual(s["legit_latency_p99_ms"], 9.91)
        self.assertAlmostEqual(s["legit_success_ratio"], 10 / 11)

    def test_timeseries_rates(self):
        make_run(self.d)
        xpa.analyze(self.d)
        with open(os.path.join(self.d, "timeseries.csv")) as f:
            rows = list(csv.DictReader(f))
        # row for sample k=22 (t = 2.2 s): 100 udp packets in 0.1 s = 1000 packets/s
        r = [x for x in rows if x["t_s"] == "2.2"][0]
        self.assertEqual(int(r["victim_pps_udp"]), 1000)
        self.assertEqual(int(r["attack_sent_pps"]), 1000)
        self.assertEqual(int(r["px1_pass_pps"]), 10)


class Failover(unittest.TestCase):
    def lat(self, rows):
        return [{"ts_ms": t, "src": s, "rtt_us": r, "ok": ok} for t, s, r, ok in rows]

    def test_recovery(self):
        kill = 5000
        rows = [(4900, "A", 100, 1), (5100, "A", 300000, 0), (5300, "A", 300000, 0), (5500, "A", 200, 1),
                (5050, "B", 100, 1), (5200, "B", 300000, 0), (6000, "B", 1000, 1),
                (5100, "C", 100, 1), (5400, "C", 100, 1)]
        f = xpa.failover_recovery(self.lat(rows), kill)
        # A back at 5500.2 (500.2 ms), B at 6001 (1001 ms); C never failed
        self.assertEqual(f["devices_affected"], 2)
        self.assertAlmostEqual(f["recovery_ms_max"], 1001.0)
        self.assertAlmostEqual(f["recovery_ms_median"], (500.2 + 1001.0) / 2)

    def test_never_recovered(self):
        f = xpa.failover_recovery(self.lat([(5100, "D", 300000, 0), (5500, "A", 100, 1)]), 5000)
        self.assertEqual(f["never_recovered"], 1)
        self.assertIsNone(f["recovery_ms_max"])


class Stats(unittest.TestCase):
    def test_quantile(self):
        self.assertEqual(xpa.quantile(list(range(1, 11)), 0.5), 5.5)
        self.assertEqual(xpa.quantile([7], 0.99), 7)
        self.assertIsNone(xpa.quantile([], 0.5))

    def test_mean_ci(self):
        # 1..5: mean 3, s = sqrt(2.5), t(4) = 2.7764451: 2.7764451 * sqrt(2.5 / 5) = 1.9632432
        m, ci = xpa.mean_ci([1, 2, 3, 4, 5])
        self.assertEqual(m, 3)
        self.assertAlmostEqual(ci, 1.9632432, places=6)
        self.assertEqual(xpa.mean_ci([4]), (4, None))
        self.assertEqual(xpa.mean_ci([None, None]), (None, None))

    def test_t_quantiles_against_tables(self):
        # Student's t, two-sided 95 % (p = 0.975), to 7 digits from published tables
        # (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2), including degrees of freedom a
        # short table leaves out (22, 45) and far tails (p = 0.995, 0.9995)
        for df, t in ((1, 12.7062047), (2, 4.3026527), (3, 3.1824463), (4, 2.7764451), (5, 2.5705818),
                      (9, 2.2621572), (10, 2.2281389), (22, 2.0738731), (30, 2.0422725), (45, 2.0141034),
                      (100, 1.9839715), (120, 1.9799304)):
            self.assertAlmostEqual(xpa.t_quantile(0.975, df), t, places=6, msg=f"df {df}")
        self.assertAlmostEqual(xpa.t_quantile(0.995, 3), 5.8409093, places=6)
        self.assertAlmostEqual(xpa.t_quantile(0.9995, 1), 636.6192488, places=3)
        self.assertAlmostEqual(xpa.t_quantile(0.975, 10**6), 1.959966, places=5)   # the normal's 1.959964
        self.assertAlmostEqual(xpa.t_quantile(0.5, 7), 0.0, places=9)
        # the distribution function itself: t(1) is Cauchy, P(T <= 1) = 3/4
        self.assertAlmostEqual(xpa.t_cdf(1.0, 1), 0.75, places=12)
        self.assertAlmostEqual(xpa.t_cdf(-2.0, 2), 0.5 - 2 / (2 * (2 + 4) ** 0.5), places=12)
        with self.assertRaises(ValueError):
            xpa.t_quantile(1.0, 3)

    def test_wilson(self):
        # 5 of 10: p = 0.5, z = 1.96: centre 0.5, half 1.96 * sqrt(0.025 + 0.0096040) / 1.384146 = 0.2634069
        lo, hi = xpa.wilson(5, 10)
        self.assertAlmostEqual(lo, 0.2365931, places=6)
        self.assertAlmostEqual(hi, 0.7634069, places=6)
        # 0 of 10: [0, z^2 / (n + z^2)] = [0, 3.841459 / 13.841459]
        lo, hi = xpa.wilson(0, 10)
        self.assertEqual(lo, 0.0)
        self.assertAlmostEqual(hi, 3.8414588 / 13.8414588, places=6)
        self.assertIsNone(xpa.wilson(0, 0))

    def test_parsers(self):
        dev = ("Inter-|   Receive                                                |  Transmit\n"
               " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
               "    lo: 10 1 0 0 0 0 0 0 10 1 0 0 0 0 0 0\n"
               "  eth0: 5000 40 1 2 3 0 0 0 7000 50 4 5 6 0 0 0\n")
        p = xpa.parse_proc_net_dev(dev)
        self.assertEqual(p["eth0"], {"rx_bytes": 5000, "rx_packets": 40, "rx_errs": 1, "rx_drop": 2, "rx_fifo": 3,
                                     "tx_bytes": 7000, "tx_packets": 50, "tx_errs": 4, "tx_drop": 5, "tx_fifo": 6})
        nft = json.dumps({"nftables": [{"metainfo": {}}, {"counter": {"family": "netdev", "name": "c_udp",
                                                                       "table": "xexp", "packets": 12, "bytes": 1}},
                                       {"counter": {"name": "c_legit", "packets": 3, "bytes": 1}}]})
        self.assertEqual(xpa.nft_counters(nft), {"c_udp": 12, "c_legit": 3})
        self.assertIsNone(xpa.nft_counter("not json", "x"))
        snmp = ("Ip: Forwarding DefaultTTL InReceives InHdrErrors\nIp: 1 64 100 3\n"
                "Icmp: InMsgs\nIcmp: 9\n")
        self.assertEqual(xpa.parse_snmp_ip(snmp), {"Forwarding": 1, "DefaultTTL": 64, "InReceives": 100,
                                                   "InHdrErrors": 3})
        self.assertEqual(xpa.parse_snmp_ip(""), {})


class SeedsAndCompare(Base):
    def test_seeds_aggregate(self):
        # seed 1 loses 2 legit packets of 80, seed 2 loses 4: mean 0.0375, t(1) = 12.706,
        # s = 0.025 * sqrt(2) / 2 ... : values 0.025 and 0.05, s = 0.0176777, ci = 12.706 * 0.0125
        make_run(os.path.join(self.d, "seed-1"), legit_lost=2, drop_tf2=352)
        make_run(os.path.join(self.d, "seed-2"), legit_lost=4, drop_tf2=354)
        s = xpa.analyze(self.d)
        self.assertEqual(s["n"], 2)
        self.assertAlmostEqual(s["legit_drop_ratio"]["mean"], 0.0375)
        self.assertAlmostEqual(s["legit_drop_ratio"]["ci95"], 12.7062047 * 0.0125, places=6)
        self.assertIs(s["valid"], True)

    def test_compare(self):
        for name, mean in (("none", 20000.0), ("xpro", 1000.0)):
            d = os.path.join(self.d, "runs", name)
            os.makedirs(d)
            jdump(os.path.join(d, "summary.json"), {"scenario": "hand", "defense": name, "valid": True, "victim_pps_attack_mean": mean,
                       "attack_span_s": [2, 6]})
        c = xpa.compare(self.d)
        # 1 - 1000 / 20000 = 0.95
        self.assertAlmostEqual(c["xpro"]["victim_load_reduction"], 0.95)
        self.assertEqual(c["none"]["victim_load_reduction"], 0)
        self.assertEqual(list(c), ["none", "xpro"])
        self.assertTrue(os.path.isfile(os.path.join(self.d, "compare.md")))


class Matrix(Base):
    def test_report_intervals(self):
        import xpm
        # flood/xpro: seed 1 detects at 400 ms and drops 1 of 100 legit packets, seed 2 at
        # 600 ms and 3 of 100; seed 3 is invalid (left out, listed). detect: mean 500,
        # s = 141.421, t(1) = 12.7062047: half-width 12.7062047 * 141.421 / sqrt(2) = 1270.62.
        # legit dropped: Wilson on 4 of 200 pooled
        for seed, det, lost, valid in ((1, 400, 1, True), (2, 600, 3, True), (3, 50, 90, False)):
            d = os.path.join(self.d, "cells", "flood", "xpro", f"seed-{seed}")
            os.makedirs(d)
            jdump(os.path.join(d, "summary.json"), {
                "valid": valid, "invalid_reason": None if valid else "class legit: unexplained loss",
                "detect_ms": det, "legit_drop_ratio": lost / 100, "legit_packets_dropped": lost,
                "legit_packets_sent": 100, "by_vector": {"udp": {"detect_ms": det + 100, "drop_ratio": 0.5,
                                                                  "dropped": 50, "sent": 100}},
                "by_legit": {"legit": {"drop_ratio": lost / 100, "dropped": lost, "sent": 100}}})
        st = xpm.report(self.d, {"scenarios": ["flood"], "defenses": ["xpro"], "seeds": 3, "scale": "ci"})
        x = st[("flood", "xpro")]
        self.assertEqual(x["detect_ms"]["n"], 2)
        self.assertAlmostEqual(x["detect_ms"]["mean"], 500)
        self.assertAlmostEqual(x["detect_ms"]["hi"] - 500, 1270.62047, places=3)
        lo, hi = xpa.wilson(4, 200)
        self.assertAlmostEqual(x["legit_drop_ratio"]["mean"], 0.02)
        self.assertEqual((x["legit_drop_ratio"]["lo"], x["legit_drop_ratio"]["hi"]), (lo, hi))
        self.assertEqual(x["legit_drop_ratio"]["method"], "Wilson")
        self.assertAlmostEqual(x["by_vector.udp.detect_ms"]["mean"], 600)
        with open(os.path.join(self.d, "RESULTS.md")) as f:
            r = f.read()
        self.assertIn("| n (valid / runs) | 2 / 3 |", r)
        self.assertIn("flood / xpro seed 3: invalid: class legit: unexplained loss", r)
        with open(os.path.join(self.d, "results.csv")) as f:
            rows = list(csv.reader(f))
        self.assertEqual(rows[0], ["scenario", "defense", "seed", "valid", "figure", "value"])
        self.assertIn(["flood", "xpro", "3", "false", "detect_ms", "50"], rows)


class Assertions(unittest.TestCase):
    SUMM = {"xpro": {"attack_drop_ratio": 0.95, "valid": True, "detect_ms": None,
                     "by_vector": {"udp": {"drop_ratio": 0.99}}},
            "xpro-isolated": {"attack_drop_ratio": 0.4}}

    def check(self, expr, summ=None):
        return S.check_asserts([{"name": "a", "expr": expr}], summ or self.SUMM)[0][2]

    def test_values(self):
        self.assertTrue(self.check("xpro.attack_drop_ratio >= 2 * xpro-isolated.attack_drop_ratio"))   # 0.95 >= 0.8
        self.assertFalse(self.check("xpro.attack_drop_ratio >= 2.5 * xpro-isolated.attack_drop_ratio"))  # >= 1.0
        self.assertTrue(self.check("xpro.by_vector.udp.drop_ratio > 0.98"))
        self.assertTrue(self.check("xpro.valid == true"))
        self.assertFalse(self.check("xpro.valid == false"))

    def test_missing(self):
        self.assertFalse(self.check("xpro-fair.attack_drop_ratio >= 0"))    # not run
        self.assertFalse(self.check("xpro.detect_ms <= 700"))               # null
        self.assertFalse(self.check("xpro.nothing >= 0"))

    def test_parse_refusals(self):
        for bad in ("xpro.a >=", "magic.a >= 1", "xpro.a ~ 1", "xpro >= 1"):
            with self.assertRaises(S.ScenarioError):
                S.parse_assert(bad)
        self.assertEqual(S.assert_defenses([{"expr": "xpro-fair.a >= 2 * none.b"}]), ["none", "xpro-fair"])


class Scenarios(unittest.TestCase):
    def test_every_scenario_loads_at_both_scales(self):
        names = S.list_scenarios()
        for must in ("flood", "syn", "ack", "mirai-mix", "lowrate", "hopping", "pulse", "failover",
                     "partition", "replay", "scale"):
            self.assertIn(must, names)
        for n in names:
            for scale in ("default", "ci"):
                sc = S.load(n, scale)
                self.assertTrue(sc["asserts"], n)
                a0, a1 = S.attack_span(sc)
                self.assertLess(a0, a1)
                self.assertLessEqual(a1, sc["duration"], n)

    def test_scale_time(self):
        sc = S.load("failover")
        S.scale_time(sc, sc["duration"] / 2)
        self.assertEqual(sc["events"][0]["t"], 4.5)          # 9 s -> 4.5 s
        self.assertEqual(sc["bots"][0]["phases"][0]["start"], 1.5)   # 3 s -> 1.5 s

    def test_phases(self):
        self.assertEqual(S.parse_phases("1-2:10,3-5:max", "p"),
                         [{"start": 1, "end": 2, "rate": 10}, {"start": 3, "end": 5, "rate": None}])
        for bad in ("2-1:5", "1-3:5,2-4:5", "x"):
            with self.assertRaises(S.ScenarioError):
                S.parse_phases(bad, "p")


if __name__ == "__main__":
    unittest.main(verbosity=2)
