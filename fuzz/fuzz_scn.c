// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the simulator's scenario loader (sim/scn.c), the C
 * reader of the scenario files (experiments/, .scn; the testbed's loader is
 * Python). Input: byte 0 bit 0 applies the [ci] overrides, the rest is the
 * file, written into a private folder beside a copy of the thresholds file
 * a scenario names (experiments/thresholds.conf). Invariants: a failed
 * load says why (a terminated, non-empty message); a load that succeeds
 * leaves no message.
 */
#include <stdlib.h>
#include <unistd.h>
#include "sim.h"
#include "fuzz.h"

static char dir[64] = "/tmp/xpro-fuzz-scn-XXXXXX", path[96];

static void write_file(const char *p, const void *d, size_t n)
{
	FILE *f = fopen(p, "wb");

	if (!f || (n && fwrite(d, n, 1, f) != 1) || fclose(f))
		abort();
}

static void cleanup(void)
{
	char tp[128];

	snprintf(tp, sizeof(tp), "%s/thresholds.conf", dir);
	unlink(tp);
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char thr[] = "tf1 = 10\ntf2 = 50\ntt1_ms = 1000\n";
	char tp[128];
	FILE *f;

	(void)argc;
	(void)argv;
	fz_quiet();
	if (!mkdtemp(dir))
		abort();
	snprintf(path, sizeof(path), "%s/s.scn", dir);
	atexit(cleanup);
	snprintf(tp, sizeof(tp), "%s/thresholds.conf", dir);
	f = fopen("experiments/thresholds.conf", "rb");
	if (f) { /* the project's, when run from the tree */
		char buf[4096];
		size_t n = fread(buf, 1, sizeof(buf), f);

		fclose(f);
		write_file(tp, buf, n);
	} else {
		write_file(tp, thr, sizeof(thr) - 1);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_conf c;
	char err[512];

	if (size < 1 || size > 65536)
		return 0;
	write_file(path, data + 1, size - 1);
	sim_conf_defaults(&c);
	err[0] = '\0';
	if (sim_scn_load(&c, path, data[0] & 1, err, sizeof(err)))
		FZ_CHECK(memchr(err, 0, sizeof(err)) && err[0]);
	return 0;
}
