// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Unit tests of the config file parser (docs/config.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "tap.h"
#include "config.h"
#include "log.h"

static char path[64];

static int load_text(struct xpro_config *c, const char *text, int *nerr)
{
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/xpro-test-config-%d.conf", (int)getpid());
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	xpro_config_defaults(c);
	int rc = xpro_config_load(c, path, nerr);
	unlink(path);
	return rc;
}

int main(void)
{
	struct xpro_config c;
	int nerr;

	xpro_config_defaults(&c);
	is_u64(c.params.tt1_ns, 2000000000ULL, "default TT1 = 2000 ms");
	is_u64(c.params.tf1, 100, "default TF1 = 100 pps");
	is_u64(c.tunnel_port, 5683, "default tunnel port 5683");
	is_u64(c.max_records, 1 << 20, "default records map holds 1M");
	ok(c.params.policy == XPRO_POLICY_PAPER && c.params.filter == 1, "default policy paper, filter on");
	ok(xpro_config_validate(&c) == 0, "the defaults pass the cross-field checks");

	ok(load_text(&c, "# comment\n\n tt1_ms = 1500  # trailing\ntf1=7\npolicy = fair\nmode = inline\n"
			 "tunnel_addr = 198.18.0.1\nbpffs = /run/x\n", &nerr) == 0 && nerr == 0,
	   "a valid file loads");
	is_u64(c.params.tt1_ns, 1500000000ULL, "tt1_ms converted to ns");
	is_u64(c.params.tf1, 7, "tf1 read");
	ok(c.params.policy == XPRO_POLICY_FAIR, "policy = fair");
	ok(c.mode == XPRO_MODE_INLINE, "mode = inline");
	ok(c.tunnel_addr == htonl(0xC6120001), "tunnel_addr parsed to network order");
	ok(!strcmp(c.bpffs, "/run/x"), "bpffs path");

	ok(load_text(&c, "tf3 = 1\n", &nerr) != 0 && nerr == 1, "unknown key is an error");
	ok(load_text(&c, "tf1 = 0\n", &nerr) != 0 && nerr == 1, "tf1 = 0 is out of range");
	ok(load_text(&c, "tf1 = 4294967297\n", &nerr) != 0, "tf1 above 2^32 is out of range");
	ok(load_text(&c, "tf1 = 12abc\n", &nerr) != 0, "trailing garbage in a number is an error");
	ok(load_text(&c, "tf1 = -5\n", &nerr) != 0, "a negative number is an error");
	ok(load_text(&c, "policy = nice\n", &nerr) != 0, "an unknown policy is an error");
	ok(load_text(&c, "tunnel_addr = 198.18.0.300\n", &nerr) != 0, "a bad address is an error");
	ok(load_text(&c, "tf1 = 5\ntf1 = 6\n", &nerr) != 0, "a key set twice is an error");
	ok(load_text(&c, "just words\n", &nerr) != 0, "a line without '=' is an error");
	ok(load_text(&c, "bpffs = relative/path\n", &nerr) != 0, "a relative path is an error");
	ok(load_text(&c, "tf1 = 0\npolicy = x\nfoo = 1\n", &nerr) != 0 && nerr == 3,
	   "every problem is reported, not just the first");
	xpro_config_defaults(&c);
	ok(xpro_config_load(&c, "/nonexistent/xpro.conf", &nerr) != 0, "a missing file is an error");

	/* cross-field checks */
	ok(load_text(&c, "tt1_ms = 100\ntt2_ms = 100\ntt3_ms = 50\nsync_period_ms = 10\n", &nerr) == 0 &&
	   xpro_config_validate(&c) == 1, "tt2_ms equal to tt1_ms is refused");
	/* the sync never writes a record its next packet may reset: period < TT1 / 2 */
	ok(load_text(&c, "tt1_ms = 200\ntt2_ms = 50\ntt3_ms = 50\nsync_period_ms = 100\n", &nerr) == 0 &&
	   xpro_config_validate(&c) == 1, "sync_period_ms of exactly half of tt1_ms is refused");
	ok(load_text(&c, "tt1_ms = 200\ntt2_ms = 50\ntt3_ms = 50\nsync_period_ms = 99\n", &nerr) == 0 &&
	   xpro_config_validate(&c) == 0, "sync_period_ms just below half of tt1_ms is accepted");
	/* the aggregate window: 0 (unbounded) or at least TT3 */
	ok(load_text(&c, "tt3_ms = 500\n", &nerr) == 0 && c.agg_window_ns == 0 && xpro_config_validate(&c) == 0,
	   "agg_window_ms defaults to 0 (unbounded, the paper's aggregate)");
	ok(load_text(&c, "tt3_ms = 500\nagg_window_ms = 500\n", &nerr) == 0 &&
	   c.agg_window_ns == 500000000ULL && xpro_config_validate(&c) == 0,
	   "agg_window_ms equal to tt3_ms is accepted, in ns");
	ok(load_text(&c, "tt3_ms = 500\nagg_window_ms = 499\n", &nerr) == 0 && xpro_config_validate(&c) == 1,
	   "agg_window_ms just below tt3_ms is refused");
	ok(load_text(&c, "agg_window_ms = 86400001\n", &nerr) != 0, "agg_window_ms above a day is out of range");
	ok(load_text(&c, "redis_master = 198.18.2.100:6380\nredis_user = xpro\n", &nerr) == 0 &&
	   !strcmp(c.redis_master, "198.18.2.100:6380") && !strcmp(c.redis_user, "xpro"),
	   "redis_master and redis_user are read");
	ok(load_text(&c, "redis_master = localhost:6379\n", &nerr) != 0, "a Redis address must be IPv4:PORT");
	ok(load_text(&c, "redis_local = 198.18.2.1:0\n", &nerr) != 0, "port 0 is refused");
	ok(load_text(&c, "redis_password = two words\n", &nerr) != 0, "a password with a space is refused");
	ok(load_text(&c, "tf1 = 500\ntf2 = 400\n", &nerr) == 0 && xpro_config_validate(&c) == 1,
	   "tf1 above tf2 is refused");

	/* what the sync takes from Redis (docs/sync.md, Validation; Clocks) */
	ok(load_text(&c, "tf1 = 5\n", &nerr) == 0 && c.max_client_pps == 14880952 &&
	   c.max_window_ns == 3600000000000ULL && c.max_clock_skew_ns == 100000000ULL && c.clock_offset_ns == 0 &&
	   xpro_config_validate(&c) == 0,
	   "defaults: 14,880,952 packets/s (10 Gb/s of 84-byte frames), a window of 1 h, 100 ms of skew, no offset");
	ok(load_text(&c, "clock_offset_ms = -37000\n", &nerr) == 0 && c.clock_offset_ns == -37000000000LL,
	   "clock_offset_ms may be negative (-37 s: a host without a leap-second table)");
	ok(load_text(&c, "clock_offset_ms = 86400001\n", &nerr) != 0 && load_text(&c, "clock_offset_ms = 1.5\n", &nerr) != 0 &&
	   load_text(&c, "clock_offset_ms = --1\n", &nerr) != 0, "clock_offset_ms: past a day, a fraction, two signs refused");
	ok(load_text(&c, "max_clock_skew_ms = 3000\n", &nerr) == 0 && xpro_config_validate(&c) == 1,
	   "max_clock_skew_ms above tt1_ms (2000) is refused");
	/* 2 x 10^12 packets/s x (30 days + 12.1 s) passes 2^53 by far */
	ok(load_text(&c, "max_client_pps = 1000000000000\nmax_window_ms = 2592000000\n", &nerr) == 0 &&
	   xpro_config_validate(&c) == 1, "a count bound whose double could reach 2^53 is refused");
	ok(load_text(&c, "master_merge = lua\n", &nerr) == 0 && c.master_merge_lua == 1 &&
	   load_text(&c, "master_merge = eval\n", &nerr) != 0, "master_merge: watch or lua");

	/* command-line overrides */
	xpro_config_defaults(&c);
	ok(xpro_config_set(&c, "tf2=1234", "--set") == 0 && c.params.tf2 == 1234, "--set tf2=1234");
	ok(xpro_config_set(&c, " filter = off ", "--set") == 0 && c.params.filter == 0, "--set filter=off");
	ok(xpro_config_set(&c, "tf2", "--set") != 0, "--set without '=' is an error");
	ok(xpro_config_set(&c, "nokey=1", "--set") != 0, "--set of an unknown key is an error");
	return tap_done();
}
