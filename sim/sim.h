/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xpro-sim: a discrete-event simulator of X-Pro's proxies, sync and master
 * that decides every packet with xpro_decide() (bpf/xpro_decide.h) and merges
 * with xpro_merge() (xpro/merge.c), through the same record forms as the
 * daemons (xpro/formats.c) and the same recompute (xpro/agg.c). docs/simulation.md.
 */
#ifndef XPRO_SIM_H
#define XPRO_SIM_H

#include <stdint.h>
#include <stdio.h>
#include "xpro.h"
#include "merge.h"

#define SIM_MAX_GROUPS 8
#define SIM_MAX_PHASES 8
#define SIM_MAX_EVENTS 16
#define SIM_MAX_PROXIES 1000

enum { PMODE_FIXED, PMODE_SPREAD, PMODE_HOP };
enum { EV_KILL_PROXY, EV_CUT_MASTER, EV_HEAL_MASTER };

struct sim_phase {
	double start, end, rate; /* seconds, seconds, packets/s per bot */
};

struct sim_group {
	char name[32];
	uint32_t bots;
	int pmode;
	uint32_t hop;
	int nphases;
	struct sim_phase ph[SIM_MAX_PHASES];
	double pulse_on, pulse_off; /* seconds; both 0: no pulse */
};

struct sim_event {
	double t;
	int action;
	int proxy; /* kill-proxy: index */
};

/* Everything a run needs; filled from a scenario file and the options. */
struct sim_conf {
	/* thresholds (xpro.conf keys) */
	uint64_t tf1, tf2, tt1_ms, tt2_ms, tt3_ms, tt4_ms, warn_ms, period_ms, agg_window_ms;
	uint32_t r;
	int policy;        /* XPRO_POLICY_* */
	int isolated;      /* every proxy its own master */
	int agg_window_set;/* agg_window_ms given explicitly */
	int feed_known;    /* 0: every proxy merges every announced change (X-Pro's
			    * fast exchange); 1: only the proxies that hold the record */
	/* timeline */
	double duration, grace;
	/* devices */
	uint32_t devices;
	uint32_t dev_period_ms;
	double dev_jitter;   /* fraction */
	double dev_start, dev_stop;
	uint32_t timeout_ms, failover_after;
	/* bots */
	int ngroups;
	struct sim_group g[SIM_MAX_GROUPS];
	int nevents;
	struct sim_event ev[SIM_MAX_EVENTS];
	/* the simulated system */
	uint32_t proxies;
	uint64_t map_size;  /* records per proxy */
	double delay_ms;    /* one-way proxy <-> master */
	double delay_jitter_ms;
	uint64_t seed;
	uint32_t tick_us;
	int sample_ms;
};

void sim_conf_defaults(struct sim_conf *c);
/* Read a scenario (.scn) into c: 0, or -1 with a message in err. ci: apply
 * the [ci] overrides. Unknown sections and keys are refused. */
int sim_scn_load(struct sim_conf *c, const char *path, int ci, char *err, size_t errlen);
/* One xpro.conf threshold key: 0, or -1 (unknown key or bad value). */
int sim_conf_set(struct sim_conf *c, const char *key, const char *val, char *err, size_t errlen);
/* The defense's settings (xpro, xpro-fair, xpro-isolated): 0 or -1. */
int sim_conf_defense(struct sim_conf *c, const char *name);
/* fixed, spread, hop: PMODE_*, or -1. */
int sim_pmode(const char *name);
/* Consistency checks before a run: 0 or -1 with a message. */
int sim_conf_check(const struct sim_conf *c, char *err, size_t errlen);

/* What one run measured (the fields of the testbed's summary.json that a
 * simulation can give), and its work counters. */
struct sim_result {
	uint64_t attack_sent, attack_dropped, attack_sent_after, attack_dropped_after;
	uint64_t legit_sent, legit_dropped, dead_frames;
	uint64_t drop_tf1, drop_tf2, drop_tf2_fair, warnings;
	double detect_ms;   /* < 0: not detected */
	double victim_pps_baseline, victim_pps_attack_mean, victim_pps_attack_peak;
	uint64_t packets, events, merges, pulls, feeds, evictions, lost_deltas, recomputes;
	uint64_t records_peak, master_records;
	double wall_s;
};

int sim_run(const struct sim_conf *c, struct sim_result *res);

#endif
