// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The scenario files of experiments/ (docs/experiments.md, "Scenario files")
 * as xpro-sim reads them: INI, `key = value`, `#` comments, [ci] overrides.
 * A scenario is input from anywhere: every line is checked (length, names,
 * numbers through lib/opt.h's strict parsers, ranges) and anything the
 * simulator does not know is refused rather than ignored, except the
 * sections that only the testbed uses ([assert]) and descriptive keys.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "opt.h"
#include "sim.h"

#define LINE_MAX_ 512
#define MAX_ENTRIES 256

struct entry {
	char sec[48], key[48], val[256];
	int line;
};

struct ini {
	struct entry e[MAX_ENTRIES];
	int n;
};

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

static int name_ok(const char *s, int dots)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_' || *s == '-' ||
		      (dots && *s == '.')))
			return 0;
	return 1;
}

static struct entry *find(struct ini *in, const char *sec, const char *key)
{
	for (int i = 0; i < in->n; i++)
		if (!strcmp(in->e[i].sec, sec) && !strcmp(in->e[i].key, key))
			return &in->e[i];
	return NULL;
}

static int put(struct ini *in, const char *sec, const char *key, const char *val, int line, char *err,
	       size_t len)
{
	struct entry *e = find(in, sec, key);

	if (e && line > 0 && e->line > 0)
		return fail(err, len, "line %d: [%s] %s given twice", line, sec, key);
	if (!e) {
		if (in->n == MAX_ENTRIES)
			return fail(err, len, "line %d: more than %d keys", line, MAX_ENTRIES);
		e = &in->e[in->n++];
	}
	if (strlen(sec) >= sizeof(e->sec) || strlen(key) >= sizeof(e->key) || strlen(val) >= sizeof(e->val))
		return fail(err, len, "line %d: name or value too long", line);
	strcpy(e->sec, sec);
	strcpy(e->key, key);
	strcpy(e->val, val);
	e->line = line;
	return 0;
}

static int ini_read(struct ini *in, const char *path, char *err, size_t len)
{
	char buf[LINE_MAX_ + 2], sec[48] = "";
	FILE *f = fopen(path, "r");
	int ln = 0;

	if (!f)
		return fail(err, len, "%s: %s", path, strerror(errno));
	while (fgets(buf, sizeof(buf), f)) {
		char *s, *eq, *h;

		ln++;
		if (!strchr(buf, '\n') && !feof(f)) {
			fclose(f);
			return fail(err, len, "line %d: longer than %d bytes", ln, LINE_MAX_);
		}
		buf[strcspn(buf, "\n")] = 0;
		for (s = buf; *s; s++)
			if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\r') {
				fclose(f);
				return fail(err, len, "line %d: control character", ln);
			}
		if ((h = strchr(buf, '#')))
			*h = 0;
		s = trim(buf);
		if (!*s)
			continue;
		if (*s == '[') {
			char *e = strchr(s, ']');

			if (!e || e[1] || e - s - 1 >= (long)sizeof(sec)) {
				fclose(f);
				return fail(err, len, "line %d: bad section line", ln);
			}
			*e = 0;
			strcpy(sec, s + 1);
			if (!name_ok(sec, 1)) {
				fclose(f);
				return fail(err, len, "line %d: bad section name \"%s\"", ln, sec);
			}
			continue;
		}
		eq = strchr(s, '=');
		if (!eq) {
			fclose(f);
			return fail(err, len, "line %d: no '=' in \"%s\"", ln, s);
		}
		*eq = 0;
		{
			char *k = trim(s), *v = trim(eq + 1);

			if (!name_ok(k, 1)) {
				fclose(f);
				return fail(err, len, "line %d: bad key \"%s\"", ln, k);
			}
			if (put(in, sec, k, v, ln, err, len)) {
				fclose(f);
				return -1;
			}
		}
	}
	fclose(f);
	return 0;
}

static int num(const struct entry *e, double lo, double hi, double *v, char *err, size_t len)
{
	if (xp_parse_double(e->val, lo, hi, v))
		return fail(err, len, "[%s] %s: \"%s\" is not a number in [%g, %g]", e->sec, e->key, e->val, lo, hi);
	return 0;
}

static int u64v(const char *sec, const char *key, const char *val, uint64_t max, uint64_t *v, char *err,
		size_t len)
{
	if (xp_parse_u64(val, max, v))
		return fail(err, len, "[%s] %s: \"%s\" is not an integer in [0, %llu]", sec, key, val,
			    (unsigned long long)max);
	return 0;
}

void sim_conf_defaults(struct sim_conf *c)
{
	memset(c, 0, sizeof(*c));
	/* experiments/thresholds.conf */
	c->tf1 = 100;
	c->tf2 = 10000;
	c->tt1_ms = 2000;
	c->tt2_ms = 500;
	c->tt3_ms = 500;
	c->tt4_ms = 10000;
	c->r = 2;
	c->period_ms = 100;
	c->warn_ms = 1000;
	c->duration = 20;
	c->grace = 2;
	c->devices = 100;
	c->dev_period_ms = 1000;
	c->dev_jitter = 0.10;
	c->dev_start = 0;
	c->dev_stop = -1; /* the duration */
	c->timeout_ms = 1000;
	c->failover_after = 3;
	c->proxies = 3;
	c->map_size = 1 << 20;
	c->delay_ms = 0.5;
	c->seed = 1;
	c->tick_us = 1000;
	c->sample_ms = 100;
}

int sim_conf_set(struct sim_conf *c, const char *key, const char *val, char *err, size_t len)
{
	static const struct {
		const char *key;
		uint64_t max;
		size_t off;
	} tab[] = {
		{ "tf1", 1ULL << 32, offsetof(struct sim_conf, tf1) },
		{ "tf2", 1ULL << 32, offsetof(struct sim_conf, tf2) },
		{ "tt1_ms", 3600000, offsetof(struct sim_conf, tt1_ms) },
		{ "tt2_ms", 3600000, offsetof(struct sim_conf, tt2_ms) },
		{ "tt3_ms", 3600000, offsetof(struct sim_conf, tt3_ms) },
		{ "tt4_ms", 86400000, offsetof(struct sim_conf, tt4_ms) },
		{ "sync_period_ms", 60000, offsetof(struct sim_conf, period_ms) },
		{ "warn_interval_ms", 3600000, offsetof(struct sim_conf, warn_ms) },
		{ "agg_window_ms", 3600000, offsetof(struct sim_conf, agg_window_ms) },
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (!strcmp(key, tab[i].key)) {
			if (u64v("thresholds", key, val, tab[i].max, &v, err, len))
				return -1;
			*(uint64_t *)((char *)c + tab[i].off) = v;
			if (!strcmp(key, "agg_window_ms"))
				c->agg_window_set = 1;
			return 0;
		}
	if (!strcmp(key, "max_records")) { /* the record map's size per proxy */
		if (u64v("thresholds", key, val, 1ULL << 31, &v, err, len))
			return -1;
		if (v < 16)
			return fail(err, len, "max_records must be >= 16");
		c->map_size = v;
		return 0;
	}
	if (!strcmp(key, "r")) {
		if (u64v("thresholds", key, val, 1000000, &v, err, len))
			return -1;
		if (!v)
			return fail(err, len, "r must be >= 1");
		c->r = (uint32_t)v;
		return 0;
	}
	if (!strcmp(key, "policy")) {
		if (!strcmp(val, "paper"))
			c->policy = XPRO_POLICY_PAPER;
		else if (!strcmp(val, "fair"))
			c->policy = XPRO_POLICY_FAIR;
		else
			return fail(err, len, "policy: \"%s\" is not paper or fair", val);
		return 0;
	}
	return fail(err, len, "unknown threshold \"%s\"", key);
}

/* experiments/defenses.py: the rows the simulator can run. */
int sim_conf_defense(struct sim_conf *c, const char *name)
{
	if (!strcmp(name, "xpro")) {
		c->policy = XPRO_POLICY_PAPER;
		c->isolated = 0;
		c->agg_window_ms = 0;
	} else if (!strcmp(name, "xpro-isolated")) {
		c->policy = XPRO_POLICY_PAPER;
		c->isolated = 1;
		c->agg_window_ms = 0;
	} else if (!strcmp(name, "xpro-fair")) {
		c->policy = XPRO_POLICY_FAIR;
		c->isolated = 0;
		c->agg_window_ms = c->tt3_ms; /* agg_window_ms = tt3_ms */
	} else {
		return -1;
	}
	return 0;
}

/* The thresholds file: `key = value` lines before any section. */
static int load_thresholds(struct sim_conf *c, const char *path, char *err, size_t len)
{
	struct ini *t = calloc(1, sizeof(*t));
	int rc = -1;

	if (!t)
		return fail(err, len, "out of memory");
	if (ini_read(t, path, err, len))
		goto out;
	for (int i = 0; i < t->n; i++) {
		if (t->e[i].sec[0]) {
			fail(err, len, "%s: a section in a thresholds file", path);
			goto out;
		}
		if (sim_conf_set(c, t->e[i].key, t->e[i].val, err, len))
			goto out;
	}
	rc = 0;
out:
	free(t);
	return rc;
}

int sim_pmode(const char *v)
{
	static const char *names[] = { "fixed", "spread", "hop" }; /* PMODE_* */

	for (int i = 0; i < 3; i++)
		if (!strcmp(v, names[i]))
			return i;
	return -1;
}

/* "4-19:1000,20-25:500" */
static int parse_phases(struct sim_group *g, const char *v, char *err, size_t len)
{
	char buf[256], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", v);
	g->nphases = 0;
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *dash, *colon;
		struct sim_phase *p;

		tok = trim(tok);
		if (g->nphases == SIM_MAX_PHASES)
			return fail(err, len, "phases: more than %d", SIM_MAX_PHASES);
		p = &g->ph[g->nphases];
		dash = strchr(tok + 1, '-'); /* not a sign */
		colon = strchr(tok, ':');
		if (!dash || !colon || colon < dash)
			return fail(err, len, "phases: \"%s\" is not START-END:RATE", tok);
		*dash = *colon = 0;
		if (xp_parse_double(tok, 0, 86400, &p->start) || xp_parse_double(dash + 1, 0, 86400, &p->end) ||
		    p->end <= p->start)
			return fail(err, len, "phases: bad START-END in \"%s\"", v);
		if (!strcmp(colon + 1, "max"))
			return fail(err, len, "phases: rate \"max\" (unpaced) has no simulated rate; give packets/s");
		if (xp_parse_double(colon + 1, 0, 1e8, &p->rate))
			return fail(err, len, "phases: bad rate \"%s\"", colon + 1);
		g->nphases++;
	}
	if (!g->nphases)
		return fail(err, len, "phases: none");
	return 0;
}

static int parse_events(struct sim_conf *c, struct ini *in, char *err, size_t len)
{
	c->nevents = 0;
	for (int i = 0; i < in->n; i++) {
		struct entry *e = &in->e[i];
		struct sim_event *ev;
		char act[64], arg[64];
		int n;

		if (strcmp(e->sec, "events"))
			continue;
		if (c->nevents == SIM_MAX_EVENTS)
			return fail(err, len, "[events]: more than %d", SIM_MAX_EVENTS);
		ev = &c->ev[c->nevents];
		if (xp_parse_double(e->key, 0, 86400, &ev->t))
			return fail(err, len, "[events] \"%s\" is not a time in seconds", e->key);
		n = sscanf(e->val, "%63s %63s", act, arg);
		if (n >= 1 && !strcmp(act, "kill-proxy") && n == 2 && !strncmp(arg, "px", 2)) {
			uint64_t px;

			if (xp_parse_u64(arg + 2, SIM_MAX_PROXIES, &px) || !px)
				return fail(err, len, "[events] %s: bad proxy \"%s\"", e->key, arg);
			ev->action = EV_KILL_PROXY;
			ev->proxy = (int)px - 1;
		} else if (n == 1 && !strcmp(act, "cut-master")) {
			ev->action = EV_CUT_MASTER;
		} else if (n == 1 && !strcmp(act, "heal-master")) {
			ev->action = EV_HEAL_MASTER;
		} else {
			return fail(err, len, "[events] %s: \"%s\" is not kill-proxy PXn, cut-master or heal-master",
				    e->key, e->val);
		}
		c->nevents++;
	}
	return 0;
}

/* [ci] events = "T ACTION; T ACTION": replaces [events]. */
static int ci_events(struct ini *in, const char *v, char *err, size_t len)
{
	char buf[256], *save = NULL, *tok;
	int w = 0;

	for (int i = 0; i < in->n; i++)
		if (strcmp(in->e[i].sec, "events"))
			in->e[w++] = in->e[i];
	in->n = w;
	snprintf(buf, sizeof(buf), "%s", v);
	for (tok = strtok_r(buf, ";", &save); tok; tok = strtok_r(NULL, ";", &save)) {
		char *s = trim(tok), *sp = strchr(s, ' ');

		if (!sp)
			return fail(err, len, "[ci] events: \"%s\" is not T ACTION", s);
		*sp = 0;
		if (put(in, "events", s, trim(sp + 1), -1, err, len))
			return -1;
	}
	return 0;
}

static int known(const char *sec, const char *key)
{
	static const char *scen[] = { "description", "topology", "victim", "seed", "defense", "duration",
				      "grace", "thresholds", "sample_ms", "identity", "family", NULL };
	static const char *dev[] = { "count", "proto", "period_ms", "jitter", "timeout_ms", "failover_after",
				     "start", "stop", "sources", "proxies", "proxy_start", NULL };
	static const char *bot[] = { "vector", "bots", "sources", "proxies", "proxy_mode", "hop", "phases",
				     "options", "fast", "pulse", NULL };
	const char **t = !strcmp(sec, "scenario") ? scen : !strcmp(sec, "devices") ? dev :
			 !strncmp(sec, "bots.", 5) ? bot : NULL;

	if (!strcmp(sec, "assert") || !strcmp(sec, "events") || !strcmp(sec, "thresholds"))
		return 1;
	for (; t && *t; t++)
		if (!strcmp(*t, key))
			return 1;
	return 0;
}

/* The numeric keys: section, key, range, scale, where, type (d double, u uint32_t, i int). */
static const struct numkey {
	const char *sec, *key;
	double lo, hi, scale;
	size_t off;
	char type;
} numtab[] = {
	{ "scenario", "duration", 0.1, 86400, 1, offsetof(struct sim_conf, duration), 'd' },
	{ "scenario", "grace", 0, 600, 1, offsetof(struct sim_conf, grace), 'd' },
	{ "scenario", "sample_ms", 10, 10000, 1, offsetof(struct sim_conf, sample_ms), 'i' },
	{ "devices", "count", 0, 1e8, 1, offsetof(struct sim_conf, devices), 'u' },
	{ "devices", "period_ms", 1, 3600000, 1, offsetof(struct sim_conf, dev_period_ms), 'u' },
	{ "devices", "jitter", 0, 100, 0.01, offsetof(struct sim_conf, dev_jitter), 'd' },
	{ "devices", "timeout_ms", 1, 600000, 1, offsetof(struct sim_conf, timeout_ms), 'u' },
	{ "devices", "failover_after", 1, 1000, 1, offsetof(struct sim_conf, failover_after), 'u' },
	{ "devices", "start", 0, 86400, 1, offsetof(struct sim_conf, dev_start), 'd' },
	{ "devices", "stop", 0, 86400, 1, offsetof(struct sim_conf, dev_stop), 'd' },
};

static int numkeys(struct sim_conf *c, struct ini *in, char *err, size_t len)
{
	for (size_t i = 0; i < sizeof(numtab) / sizeof(numtab[0]); i++) {
		const struct numkey *k = &numtab[i];
		struct entry *e = find(in, k->sec, k->key);
		char *dst = (char *)c + k->off;
		double d;

		if (!e)
			continue;
		if (num(e, k->lo, k->hi, &d, err, len))
			return -1;
		if (k->type != 'd' && d != floor(d))
			return fail(err, len, "[%s] %s: \"%s\" is not a whole number", e->sec, e->key, e->val);
		if (k->type == 'd')
			*(double *)dst = d * k->scale;
		else if (k->type == 'u')
			*(uint32_t *)dst = (uint32_t)d;
		else
			*(int *)dst = (int)d;
	}
	return 0;
}

int sim_scn_load(struct sim_conf *c, const char *path, int ci, char *err, size_t len)
{
	struct ini *in = calloc(1, sizeof(*in));
	char thr[1024];
	const char *slash;
	struct entry *e;
	char cev[256];
	double d;
	int rc = -1, has_cev = 0;

	if (!in)
		return fail(err, len, "out of memory");
	if (ini_read(in, path, err, len))
		goto out;
	/* [ci] overrides: SECTION.KEY = VALUE (the section may hold dots) */
	if (ci) {
		int n = in->n;

		for (int i = 0; i < n; i++) {
			char sec[48], *dot;

			e = &in->e[i];
			if (strcmp(e->sec, "ci"))
				continue;
			if (!strcmp(e->key, "events")) {
				snprintf(cev, sizeof(cev), "%s", e->val);
				has_cev = 1;
				continue;
			}
			if (!strcmp(e->key, "defenses"))
				continue;
			snprintf(sec, sizeof(sec), "%s", e->key);
			dot = strrchr(sec, '.');
			if (!dot) {
				fail(err, len, "[ci] %s: not SECTION.KEY", e->key);
				goto out;
			}
			*dot = 0;
			if (put(in, sec, dot + 1, e->val, -1, err, len))
				goto out;
		}
		if (has_cev && ci_events(in, cev, err, len))
			goto out;
	}
	for (int i = 0; i < in->n; i++) {
		e = &in->e[i];
		if (!strcmp(e->sec, "ci"))
			continue;
		if (!strcmp(e->sec, "replay")) {
			fail(err, len, "[replay]: a capture's traffic cannot be simulated (use flood-like bots)");
			goto out;
		}
		if (strcmp(e->sec, "scenario") && strcmp(e->sec, "devices") && strncmp(e->sec, "bots.", 5) &&
		    strcmp(e->sec, "assert") && strcmp(e->sec, "events") && strcmp(e->sec, "thresholds")) {
			fail(err, len, "unknown section [%s]", e->sec);
			goto out;
		}
		if (!known(e->sec, e->key)) {
			fail(err, len, "[%s] %s: unknown key (or one the simulator does not model)", e->sec, e->key);
			goto out;
		}
	}
	/* identity (docs/protocol.md): with it on, every sender signs with its
	 * own key and is counted under its own address -- as the simulator
	 * counts every packet (it models no forged source), so the setting
	 * changes nothing here; only its value is checked */
	e = find(in, "scenario", "identity");
	if (e && strcmp(e->val, "on") && strcmp(e->val, "off")) {
		fail(err, len, "[scenario] identity: \"%s\" is not on or off", e->val);
		goto out;
	}
	/* family (docs/experiments.md, "IPv6"): the decision does not depend on
	 * the address family, so the simulator runs an IPv6 scenario as it is;
	 * only the value is checked */
	e = find(in, "scenario", "family");
	if (e && strcmp(e->val, "4") && strcmp(e->val, "6")) {
		fail(err, len, "[scenario] family: \"%s\" is not 4 or 6", e->val);
		goto out;
	}
	/* thresholds: the file the scenario names (beside it), then [thresholds] */
	e = find(in, "scenario", "thresholds");
	if (e && (strchr(e->val, '/') || !name_ok(e->val, 1))) {
		fail(err, len, "[scenario] thresholds: \"%s\" is not a file name beside the scenario", e->val);
		goto out;
	}
	slash = strrchr(path, '/');
	snprintf(thr, sizeof(thr), "%.*s%s", slash ? (int)(slash - path + 1) : 0, path,
		 e ? e->val : "thresholds.conf");
	if (load_thresholds(c, thr, err, len))
		goto out;
	for (int i = 0; i < in->n; i++) {
		e = &in->e[i];
		if (!strcmp(e->sec, "thresholds") && strcmp(e->key, "why") &&
		    sim_conf_set(c, e->key, e->val, err, len))
			goto out;
	}
	if ((e = find(in, "scenario", "defense")) && sim_conf_defense(c, e->val)) {
		fail(err, len, "[scenario] defense: \"%s\" is not xpro, xpro-fair or xpro-isolated", e->val);
		goto out;
	}
	if ((e = find(in, "scenario", "seed")) && u64v(e->sec, e->key, e->val, 1ULL << 53, &c->seed, err, len))
		goto out;
	if ((e = find(in, "scenario", "topology")) && strcmp(e->val, "default")) {
		fail(err, len, "[scenario] topology: only `default` (three proxies) is modelled; use --proxies");
		goto out;
	}
	/* devices and the timeline's numbers */
	c->devices = 0;
	if (numkeys(c, in, err, len))
		goto out;
	if ((e = find(in, "devices", "proto")) && strcmp(e->val, "coap")) {
		fail(err, len, "[devices] proto: only coap");
		goto out;
	}
	if ((e = find(in, "devices", "proxies")) && strcmp(e->val, "all")) {
		fail(err, len, "[devices] proxies: only `all`");
		goto out;
	}
	if ((e = find(in, "devices", "proxy_start")) && strcmp(e->val, "spread")) {
		fail(err, len, "[devices] proxy_start: only `spread`");
		goto out;
	}
	/* bot groups */
	c->ngroups = 0;
	for (int i = 0; i < in->n; i++) {
		struct sim_group *g;
		const char *gn;
		int seen = 0;

		e = &in->e[i];
		if (strncmp(e->sec, "bots.", 5))
			continue;
		gn = e->sec + 5;
		for (int k = 0; k < c->ngroups; k++)
			seen |= !strcmp(c->g[k].name, gn);
		if (seen)
			continue;
		if (c->ngroups == SIM_MAX_GROUPS || strlen(gn) >= sizeof(g->name) || !*gn) {
			fail(err, len, "[%s]: too many groups or a bad name", e->sec);
			goto out;
		}
		g = &c->g[c->ngroups++];
		memset(g, 0, sizeof(*g));
		strcpy(g->name, gn);
		g->hop = 100;
		g->pmode = PMODE_FIXED;
		if ((e = find(in, e->sec, "bots"))) {
			if (num(e, 1, 1e7, &d, err, len))
				goto out;
			g->bots = (uint32_t)d;
		} else {
			fail(err, len, "[bots.%s] bots: missing", gn);
			goto out;
		}
		snprintf(thr, sizeof(thr), "bots.%s", gn);
		if ((e = find(in, thr, "proxy_mode")) && (g->pmode = sim_pmode(e->val)) < 0) {
			fail(err, len, "[%s] proxy_mode: \"%s\" is not fixed, spread or hop", thr, e->val);
			goto out;
		}
		if ((e = find(in, thr, "hop"))) {
			if (num(e, 1, 4294967295.0, &d, err, len))
				goto out;
			g->hop = (uint32_t)d;
		}
		if ((e = find(in, thr, "proxies")) && strcmp(e->val, "all")) {
			fail(err, len, "[%s] proxies: only `all`", thr);
			goto out;
		}
		/* the XDP fast path (`fast`) sends the same packets: same model. Of
		 * xpro-bot's other options only those that change no packet's
		 * (client, destination) or time are accepted. */
		if ((e = find(in, thr, "options")) && *e->val && strncmp(e->val, "--domain ", 9)) {
			fail(err, len, "[%s] options: \"%s\": only --domain is modelled (one victim)", thr, e->val);
			goto out;
		}
		if ((e = find(in, thr, "pulse"))) {
			double on, off;
			char *sl = strchr(e->val, '/');

			if (!sl) {
				fail(err, len, "[%s] pulse: \"%s\" is not ON_MS/OFF_MS", thr, e->val);
				goto out;
			}
			*sl = 0;
			if (xp_parse_double(e->val, 1, 3600000, &on) || xp_parse_double(sl + 1, 1, 3600000, &off)) {
				fail(err, len, "[%s] pulse: not ON_MS/OFF_MS in [1, 3600000]", thr);
				goto out;
			}
			g->pulse_on = on / 1000;
			g->pulse_off = off / 1000;
		}
		if (!(e = find(in, thr, "phases"))) {
			fail(err, len, "[%s] phases: missing", thr);
			goto out;
		}
		if (parse_phases(g, e->val, err, len))
			goto out;
	}
	if (parse_events(c, in, err, len))
		goto out;
	rc = 0;
out:
	free(in);
	return rc;
}

int sim_conf_check(const struct sim_conf *c, char *err, size_t len)
{
	if (!c->proxies || c->proxies > SIM_MAX_PROXIES)
		return fail(err, len, "proxies must be 1..%d", SIM_MAX_PROXIES);
	if (c->period_ms < 1)
		return fail(err, len, "sync period must be >= 1 ms");
	if (2 * (c->delay_ms + c->delay_jitter_ms) >= (double)c->period_ms)
		return fail(err, len, "the round trip to the master (2 x (delay + jitter)) must be shorter than "
			    "the sync period");
	if (c->agg_window_ms && c->agg_window_ms < c->tt3_ms)
		return fail(err, len, "agg_window_ms must be 0 or at least tt3_ms");
	if (c->map_size < 16 || c->map_size > (1ULL << 31))
		return fail(err, len, "map size must be 16..2^31");
	for (int i = 0; i < c->nevents; i++)
		if (c->ev[i].action == EV_KILL_PROXY && (uint32_t)c->ev[i].proxy >= c->proxies)
			return fail(err, len, "kill-proxy: no proxy px%d", c->ev[i].proxy + 1);
	return 0;
}
