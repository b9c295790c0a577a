// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xpro-sim: options, seeds and output. The engine is sim.c; the scenario
 * reader scn.c; docs/simulation.md.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "opt.h"
#include "xpro.h"
#include "xpro_decide.h"
#include "sim.h"

#define TOOL "xpro-sim"

static struct sim_conf conf;
static char errbuf[256];

/* overrides applied after the scenario, in order */
#define MAX_SETS 32
static struct {
	int kind;
	char val[128];
} sets[MAX_SETS];
static int nsets;

enum { S_SET, S_PROXIES, S_DEVICES, S_BOTS, S_RATE, S_MODE, S_HOP, S_ATTACK, S_MAP, S_DELAY, S_JITTER,
       S_DURATION, S_DEFENSE, S_KILL, S_CUT, S_DEVPERIOD };

static const char *add(int kind, const char *v)
{
	if (nsets == MAX_SETS)
		return "is one override too many";
	if (strlen(v) >= sizeof(sets[0].val))
		return "is too long";
	sets[nsets].kind = kind;
	strcpy(sets[nsets++].val, v);
	return NULL;
}

#define OPTFN(name, kind) \
	static const char *name(const char *v, void *d) { (void)d; return add(kind, v); }
OPTFN(o_set, S_SET)
OPTFN(o_proxies, S_PROXIES)
OPTFN(o_devices, S_DEVICES)
OPTFN(o_bots, S_BOTS)
OPTFN(o_rate, S_RATE)
OPTFN(o_mode, S_MODE)
OPTFN(o_hop, S_HOP)
OPTFN(o_attack, S_ATTACK)
OPTFN(o_map, S_MAP)
OPTFN(o_delay, S_DELAY)
OPTFN(o_jitter, S_JITTER)
OPTFN(o_duration, S_DURATION)
OPTFN(o_defense, S_DEFENSE)
OPTFN(o_kill, S_KILL)
OPTFN(o_cut, S_CUT)
OPTFN(o_devperiod, S_DEVPERIOD)

static double num(const char *opt, const char *v, double lo, double hi)
{
	double x;

	if (xp_parse_double(v, lo, hi, &x))
		xp_opt_die(TOOL, "--%s: \"%s\" is not a number in [%g, %g]", opt, v, lo, hi);
	return x;
}

/* "S-E" (seconds, E > S) */
static void span(const char *opt, const char *v, double *a, double *b)
{
	char buf[128], *dash;

	snprintf(buf, sizeof(buf), "%s", v);
	if (!(dash = strchr(buf + 1, '-')))
		xp_opt_die(TOOL, "--%s: \"%s\" is not START-END", opt, v);
	*dash = 0;
	*a = num(opt, buf, 0, 86400);
	*b = num(opt, dash + 1, 0, 86400);
	if (*b <= *a)
		xp_opt_die(TOOL, "--%s: END must be after START", opt);
}

static struct sim_group *group0(void)
{
	if (!conf.ngroups) { /* a flood-like group: 20 bots x 1000 pps from 4 s to 19 s */
		struct sim_group *g = &conf.g[conf.ngroups++];

		memset(g, 0, sizeof(*g));
		strcpy(g->name, "udp");
		g->bots = 20;
		g->pmode = PMODE_SPREAD;
		g->hop = 100;
		g->nphases = 1;
		g->ph[0] = (struct sim_phase){ 4, conf.duration - 1, 1000 };
	}
	return &conf.g[0];
}

static void apply_sets(void)
{
	for (int i = 0; i < nsets; i++) {
		const char *v = sets[i].val;
		char *eq, buf[128];
		struct sim_group *g;
		double a, b;

		switch (sets[i].kind) {
		case S_SET:
			snprintf(buf, sizeof(buf), "%s", v);
			if (!(eq = strchr(buf, '=')))
				xp_opt_die(TOOL, "--set: \"%s\" is not KEY=VALUE", v);
			*eq = 0;
			if (sim_conf_set(&conf, buf, eq + 1, errbuf, sizeof(errbuf)))
				xp_opt_die(TOOL, "--set: %s", errbuf);
			break;
		case S_DEVPERIOD:
		case S_PROXIES:
		case S_DEVICES:
		case S_BOTS:
		case S_HOP: {
			/* whole numbers: which, its option, its range */
			static const struct { const char *opt; double lo, hi; } w[] = {
				[S_PROXIES] = { "proxies", 1, SIM_MAX_PROXIES }, [S_DEVICES] = { "devices", 0, 1e8 },
				[S_BOTS] = { "bots", 0, 1e7 }, [S_HOP] = { "hop", 1, 4294967295.0 },
				[S_DEVPERIOD] = { "device-period", 1, 3600000 },
			};
			int kd = sets[i].kind;
			uint32_t x = (uint32_t)num(w[kd].opt, v, w[kd].lo, w[kd].hi);

			if (x != num(w[kd].opt, v, w[kd].lo, w[kd].hi))
				xp_opt_die(TOOL, "--%s: \"%s\" is not a whole number", w[kd].opt, v);
			if (kd == S_PROXIES)
				conf.proxies = x;
			else if (kd == S_DEVICES)
				conf.devices = x;
			else if (kd == S_DEVPERIOD)
				conf.dev_period_ms = x;
			else if (kd == S_BOTS)
				group0()->bots = x;
			else
				group0()->hop = x;
			break;
		}
		case S_RATE:
			g = group0();
			a = num("bot-rate", v, 0, 1e8);
			for (int k = 0; k < g->nphases; k++)
				g->ph[k].rate = a;
			break;
		case S_MODE:
			if ((group0()->pmode = sim_pmode(v)) < 0)
				xp_opt_die(TOOL, "--bot-mode: \"%s\" is not fixed, spread or hop", v);
			break;
		case S_ATTACK:
			g = group0();
			span("attack", v, &a, &b);
			g->nphases = 1;
			g->ph[0].start = a;
			g->ph[0].end = b;
			if (g->ph[0].rate <= 0)
				g->ph[0].rate = 1000;
			break;
		case S_MAP:
			conf.map_size = (uint64_t)num("map-size", v, 16, 2147483648.0);
			break;
		case S_DELAY:
			conf.delay_ms = num("delay-ms", v, 0, 10000);
			break;
		case S_JITTER:
			conf.delay_jitter_ms = num("delay-jitter-ms", v, 0, 10000);
			break;
		case S_DURATION:
			conf.duration = num("duration", v, 0.1, 86400);
			break;
		case S_DEFENSE:
			if (sim_conf_defense(&conf, v))
				xp_opt_die(TOOL, "--defense: \"%s\" is not xpro, xpro-fair or xpro-isolated", v);
			break;
		case S_KILL:
		case S_CUT:
			if (conf.nevents + 2 > SIM_MAX_EVENTS)
				xp_opt_die(TOOL, "too many events");
			snprintf(buf, sizeof(buf), "%s", v);
			if (sets[i].kind == S_KILL) {
				if (!(eq = strchr(buf, ':')))
					xp_opt_die(TOOL, "--kill-proxy: \"%s\" is not T:N", v);
				*eq = 0;
				conf.ev[conf.nevents].t = num("kill-proxy", buf, 0, 86400);
				conf.ev[conf.nevents].proxy = (int)num("kill-proxy", eq + 1, 1, SIM_MAX_PROXIES) - 1;
				conf.ev[conf.nevents++].action = EV_KILL_PROXY;
			} else {
				span("cut-master", v, &a, &b);
				conf.ev[conf.nevents].t = a;
				conf.ev[conf.nevents++].action = EV_CUT_MASTER;
				conf.ev[conf.nevents].t = b;
				conf.ev[conf.nevents++].action = EV_HEAL_MASTER;
			}
			break;
		}
	}
}

/* Student's t, two-sided 95 %, by degrees of freedom (1..30). */
static double t95(int df)
{
	static const double t[] = { 0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
				    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
				    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042 };

	return df < 1 ? 0 : df <= 30 ? t[df] : 1.96;
}

static double ratio(uint64_t a, uint64_t b)
{
	return b ? (double)a / b : 0;
}

#define NF 9
static const char *fields[NF] = { "attack_drop_ratio", "attack_drop_ratio_whole", "legit_drop_ratio",
				  "detect_ms", "victim_pps_attack_mean", "victim_pps_baseline",
				  "attack_packets_sent", "legit_packets_sent", "sim_packets" };

static void values(const struct sim_result *r, double *v)
{
	v[0] = r->attack_sent_after ? ratio(r->attack_dropped_after, r->attack_sent_after) :
				      ratio(r->attack_dropped, r->attack_sent);
	if (r->detect_ms < 0)
		v[0] = ratio(r->attack_dropped, r->attack_sent);
	v[1] = ratio(r->attack_dropped, r->attack_sent);
	v[2] = ratio(r->legit_dropped, r->legit_sent);
	v[3] = r->detect_ms;
	v[4] = r->victim_pps_attack_mean;
	v[5] = r->victim_pps_baseline;
	v[6] = (double)r->attack_sent;
	v[7] = (double)r->legit_sent;
	v[8] = (double)r->packets;
}

static void print_num(FILE *f, double x)
{
	if (x == floor(x) && fabs(x) < 1e15)
		fprintf(f, "%.0f", x);
	else
		fprintf(f, "%.6g", x);
}

/* A bare loop calling xpro_decide() on records like the run's: one record
 * per client, in the same order of clients per packet (round robin). */
static double bare_decide_pps(uint32_t nrec, uint64_t npkt)
{
	struct xpro_record *rec = calloc(nrec, sizeof(*rec));
	struct xpro_agg agg = { 0 };
	struct xpro_params p = { .tt1_ns = conf.tt1_ms * 1000000ULL, .tt2_ns = conf.tt2_ms * 1000000ULL,
				 .tt3_ns = conf.tt3_ms * 1000000ULL, .tt4_ns = conf.tt4_ms * 1000000ULL,
				 .tf1 = conf.tf1, .tf2 = conf.tf2, .warn_interval_ns = conf.warn_ms * 1000000ULL,
				 .r = conf.r, .policy = (uint32_t)conf.policy, .filter = 1 };
	uint64_t now = 1800000000ULL * XPRO_NSEC, step = 1000000000ULL / (npkt / 10 + 1), drops = 0;
	uint8_t *found = calloc(nrec, 1);
	struct timespec a, b;
	uint32_t reason, flags, i = 0;

	if (!rec || !found || !nrec)
		return 0;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	for (uint64_t k = 0; k < npkt; k++) {
		drops += xpro_decide(&rec[i], found[i], &agg, k > 0, &p, conf.tf2, now, &reason, &flags);
		found[i] = 1;
		now += step;
		if (++i == nrec)
			i = 0;
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	free(rec);
	free(found);
	if (drops > npkt)
		return 0; /* keeps the loop's results alive */
	return npkt / ((double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
}

int main(int argc, char **argv)
{
	const char *scn = NULL, *out = NULL;
	int scale = 0, nseeds = 1, bench = 0, quiet = 0, first;
	uint64_t seed = 0;
	FILE *f = stdout;
	double (*vals)[NF];
	struct sim_result res;
	const struct xp_opt tab[] = {
		XP_TEXT("Scenario:"),
		XP_STR("scenario", 's', &scn, "FILE", "an experiments/*.scn file (default: a flood-like run built in)"),
		XP_CHOICE("scale", 0, &scale, "default|ci", "default, or the scenario's [ci] version"),
		XP_FN("defense", 'd', o_defense, NULL, "NAME", "xpro (paper policy), xpro-fair (fair, agg_window_ms = tt3_ms),\n"
		      "xpro-isolated (each proxy its own master)"),
		XP_FN("set", 0, o_set, NULL, "KEY=VAL", "an xpro.conf threshold (tf1 tf2 tt1_ms..tt4_ms r sync_period_ms\n"
		      "warn_interval_ms agg_window_ms policy); repeatable"),
		XP_FN("duration", 0, o_duration, NULL, "S", "the timeline's length"),
		XP_TEXT("Simulated system (after the scenario):"),
		XP_FN("proxies", 'P', o_proxies, NULL, "N", "proxies (1.." XP_STRINGIFY(SIM_MAX_PROXIES) ", default 3)"),
		XP_FN("devices", 'U', o_devices, NULL, "N", "legitimate devices"),
		XP_FN("device-period", 0, o_devperiod, NULL, "MS", "each device's request period (default 1000, +-10 %)"),
		XP_FN("bots", 'B', o_bots, NULL, "N", "bots of the first group"),
		XP_FN("bot-rate", 0, o_rate, NULL, "PPS", "packets/s per bot of the first group"),
		XP_FN("bot-mode", 0, o_mode, NULL, "MODE", "fixed, spread or hop (first group)"),
		XP_FN("hop", 0, o_hop, NULL, "N", "packets per proxy in hop mode (first group)"),
		XP_FN("attack", 0, o_attack, NULL, "S-E", "the first group's one phase, seconds"),
		XP_FN("map-size", 'M', o_map, NULL, "N", "records per proxy, LRU beyond (default 1048576)"),
		XP_FN("delay-ms", 0, o_delay, NULL, "MS", "one-way delay proxy <-> master (default 0.5)"),
		XP_FN("delay-jitter-ms", 0, o_jitter, NULL, "MS", "each proxy's delay is delay + U(0, this)"),
		XP_CHOICE("feed", 0, &conf.feed_known, "all|known",
			  "all: every proxy merges every change another announced (X-Pro's\n"
			  "fast exchange, default); known: only proxies that merged the record before\n"
			  "(a variant for large deployments, docs/simulation.md)"),
		XP_FN("kill-proxy", 0, o_kill, NULL, "T:N", "proxy N (from 1) dies at T s; repeatable"),
		XP_FN("cut-master", 0, o_cut, NULL, "S-E", "the master unreachable from S to E s"),
		XP_TEXT("Run:"),
		XP_U64("seed", 0, &seed, 0, 9007199254740992.0, "N", "first seed (default: the scenario's, else 1)"),
		XP_INT("seeds", 'n', &nseeds, 1, 1000, "N", "seeds SEED..SEED+N-1: means and 95 % intervals"),
		XP_UINT("tick-us", 0, &conf.tick_us, 1, 1000000, "US", "calendar bucket width (default 1000)"),
		XP_STR("out", 'o', &out, "FILE", "write the JSON there instead of stdout"),
		XP_FLAG("bench", 0, &bench, "also time a bare xpro_decide() loop: sim_pps, decide_pps, sim_vs_decide"),
		XP_FLAG("quiet", 'q', &quiet, "no progress on stderr"),
		{ 0 },
	};

	sim_conf_defaults(&conf);
	first = xp_opt_parse(TOOL, "usage: " TOOL " [--scenario FILE [--scale ci]] [options]\n"
			     "Simulates X-Pro's proxies, sync and master with its own decision and merge code\n"
			     "(docs/simulation.md) and prints one JSON object.\n", tab, argc, argv);
	if (first < argc)
		xp_opt_die(TOOL, "unexpected operand \"%s\"", argv[first]);
	if (scn) {
		uint32_t tick = conf.tick_us;

		int fk = conf.feed_known;

		sim_conf_defaults(&conf);
		conf.tick_us = tick;
		conf.feed_known = fk;
		if (sim_scn_load(&conf, scn, scale == 1, errbuf, sizeof(errbuf)))
			xp_opt_die(TOOL, "%s: %s", scn, errbuf);
	} else if (scale == 1) {
		xp_opt_die(TOOL, "--scale ci needs --scenario");
	}
	apply_sets();
	if (!scn)
		group0();
	if (seed)
		conf.seed = seed;
	if (sim_conf_check(&conf, errbuf, sizeof(errbuf)))
		xp_opt_die(TOOL, "%s", errbuf);
	vals = calloc((size_t)nseeds, sizeof(*vals));
	if (!vals)
		return 1;
	seed = conf.seed;
	for (int k = 0; k < nseeds; k++) {
		conf.seed = seed + (uint64_t)k;
		sim_run(&conf, &res);
		values(&res, vals[k]);
		if (!quiet)
			fprintf(stderr, TOOL ": seed %" PRIu64 ": %" PRIu64 " packets in %.2f s (%.1f M/s), "
				"%" PRIu64 " merges, %" PRIu64 " evictions\n", conf.seed, res.packets, res.wall_s,
				res.packets / res.wall_s / 1e6, res.merges, res.evictions);
	}
	if (out && !(f = fopen(out, "w")))
		xp_opt_die(TOOL, "--out: cannot write %s", out);
	fprintf(f, "{\"tool\":\"" TOOL "\",\"seed\":%" PRIu64 ",\"seeds\":%d,\"proxies\":%u,\"devices\":%u,"
		"\"bots\":%u,\"map_size\":%" PRIu64 ",\"sync_period_ms\":%" PRIu64 ",\"policy\":\"%s\","
		"\"feed\":\"%s\",\"isolated\":%s,\"agg_window_ms\":%" PRIu64 ",\"tf1\":%" PRIu64 ",\"tf2\":%" PRIu64,
		seed, nseeds, conf.proxies, conf.devices, conf.ngroups ? conf.g[0].bots : 0, conf.map_size,
		conf.period_ms, conf.policy == XPRO_POLICY_FAIR ? "fair" : "paper",
		conf.feed_known ? "known" : "all", conf.isolated ? "true" : "false", conf.agg_window_ms, conf.tf1, conf.tf2);
	/* the last run's work counters (they are the same kind for every seed) */
	fprintf(f, ",\"merges\":%" PRIu64 ",\"pulls\":%" PRIu64 ",\"feeds\":%" PRIu64 ",\"evictions\":%" PRIu64
		",\"lost_deltas\":%" PRIu64 ",\"records\":%" PRIu64 ",\"master_records\":%" PRIu64
		",\"drop_tf1\":%" PRIu64 ",\"drop_tf2\":%" PRIu64 ",\"drop_tf2_fair\":%" PRIu64
		",\"dead_frames\":%" PRIu64,
		res.merges, res.pulls, res.feeds, res.evictions, res.lost_deltas, res.records_peak,
		res.master_records, res.drop_tf1, res.drop_tf2, res.drop_tf2_fair, res.dead_frames);
	for (int i = 0; i < NF; i++) {
		double m = 0, sd = 0;
		int n = 0;

		for (int k = 0; k < nseeds; k++)
			if (vals[k][i] >= 0) {
				m += vals[k][i];
				n++;
			}
		m = n ? m / n : -1;
		for (int k = 0; k < nseeds; k++)
			if (vals[k][i] >= 0)
				sd += (vals[k][i] - m) * (vals[k][i] - m);
		sd = n > 1 ? sqrt(sd / (n - 1)) : 0;
		fprintf(f, ",\"%s\":", fields[i]);
		if (nseeds == 1) {
			if (vals[0][i] < 0)
				fprintf(f, "null");
			else
				print_num(f, vals[0][i]);
			continue;
		}
		fprintf(f, "{\"mean\":");
		if (n)
			print_num(f, m);
		else
			fprintf(f, "null");
		fprintf(f, ",\"ci95\":");
		print_num(f, n > 1 ? t95(n - 1) * sd / sqrt(n) : 0);
		fprintf(f, ",\"n\":%d,\"values\":[", n);
		for (int k = 0; k < nseeds; k++) {
			if (k)
				fputc(',', f);
			if (vals[k][i] < 0)
				fprintf(f, "null");
			else
				print_num(f, vals[k][i]);
		}
		fprintf(f, "]}");
	}
	if (bench) {
		uint32_t nrec = conf.devices;
		double dpps;

		for (int g = 0; g < conf.ngroups; g++)
			nrec += conf.g[g].bots;
		dpps = bare_decide_pps(nrec, res.packets);
		fprintf(f, ",\"sim_pps\":%.0f,\"decide_pps\":%.0f,\"sim_vs_decide\":%.3f", res.packets / res.wall_s,
			dpps, dpps > 0 ? res.packets / res.wall_s / dpps : 0);
	}
	fprintf(f, "}\n");
	if (f != stdout)
		fclose(f);
	free(vals);
	return 0;
}
