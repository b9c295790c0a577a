// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * libFuzzer target: the config parser (xpro/config.c), the whole file path
 * (xpro_config_load through a memfd: line reading, comments, trimming,
 * every key type, the guard's prefix lists) and the command-line override
 * (xpro_config_set of each line), then the cross-field checks and the
 * printer (`xpro config show`: for reading, not a file that loads back).
 * Invariants: a load without error counts none; the printer writes text
 * without a NUL; strings stay terminated within their fields.
 * Inputs naming device_keys are skipped: that key opens the file it names
 * (a fuzzer must not read /dev/stdin or a FIFO); its parser of key files
 * is pure and not in scope here.
 */
#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>
#include "config.h"
#include "fuzz.h"

static int fd_a = -1;
static char path_a[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_quiet();
	fd_a = memfd_create("xpro-fuzz-a", 0);
	if (fd_a < 0)
		abort();
	snprintf(path_a, sizeof(path_a), "/proc/self/fd/%d", fd_a);
	return 0;
}

static void put(int fd, const void *d, size_t n)
{
	if (ftruncate(fd, 0) || pwrite(fd, d, n, 0) != (ssize_t)n)
		abort();
}

/* Every string field of the config ends within its field. */
#define FIELD(f) { offsetof(struct xpro_config, f), sizeof(((struct xpro_config *)0)->f) }
static const struct {
	size_t off, size;
} strs[] = {
	FIELD(redis_local), FIELD(redis_master), FIELD(redis_user), FIELD(redis_password),
	FIELD(proxy_id), FIELD(proxies), FIELD(mgmt_prefixes), FIELD(device_prefixes),
	FIELD(device_keys), FIELD(bpffs), FIELD(state_dir), FIELD(log_dir), FIELD(notify),
};

static void strings_terminated(const struct xpro_config *c)
{
	size_t i;

	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		FZ_CHECK(memchr((const char *)c + strs[i].off, 0, strs[i].size));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xpro_config c;
	char *s, *line, *save = NULL, *printed = NULL;
	size_t plen = 0;
	FILE *f;
	int nerr;

	if (size > 16384 || memmem(data, size, "device_keys", 11))
		return 0;
	put(fd_a, data, size);
	xpro_config_defaults(&c);
	if (!xpro_config_load(&c, path_a, &nerr)) {
		FZ_CHECK(nerr == 0);
		strings_terminated(&c);
		xpro_config_validate(&c);
		f = open_memstream(&printed, &plen);
		if (!f)
			abort();
		xpro_config_print(&c, f);
		fclose(f);
		FZ_CHECK(plen > 0 && strlen(printed) == plen);
		free(printed);
	}
	strings_terminated(&c);
	/* every line as a command-line override (`xpro set`, `-o key=value`) */
	s = fz_str(data, size);
	xpro_config_defaults(&c);
	for (line = strtok_r(s, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		xpro_config_set(&c, line, "fuzz");
	strings_terminated(&c);
	free(s);
	return 0;
}
