// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The reverse firewall's prefixes: config text -> LPM maps (guard.h). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "addr.h"
#include "config.h"
#include "guard.h"
#include "xpro.h"
#include "xpro_mac.h"

int xpro_guard_prefix(const char *s, struct xpro_addr *net, uint32_t *len)
{
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	struct xpro_addr a;
	long l, max;
	char *end;

	/* the address in its one text form (lib/addr.h): dotted IPv4, or IPv6
	 * as inet_ntop writes it, never a v4-mapped IPv6 one */
	if (xpro_addr_parse(s, n, &a))
		return -EINVAL;
	max = xpro_addr_is4(&a) ? 32 : 128;
	l = max;
	if (slash) {
		l = strtol(slash + 1, &end, 10);
		if (!isdigit((unsigned char)slash[1]) || *end || l < 0 || l > max)
			return -EINVAL;
	}
	*len = (uint32_t)(l + 128 - max);
	*net = xpro_addr_mask(&a, *len);
	return 0;
}

int xpro_guard_parse(const char *v, int per_client, struct xpro_guard_ent *out, size_t max,
		     char *err, size_t errlen)
{
	char buf[1024], *tok, *save = NULL, *eq;
	struct xpro_guard_ent e;
	struct in_addr in;
	int n = 0;

	if (strlen(v) >= sizeof(buf)) {
		snprintf(err, errlen, "list too long");
		return -EINVAL;
	}
	if (!strcmp(v, "none"))
		return 0;
	strcpy(buf, v);
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		memset(&e, 0, sizeof(e));
		eq = strchr(tok, '=');
		if (per_client != !!eq) {
			snprintf(err, errlen, "'%s' is not %s", tok, per_client ? "DEVICE=PREFIX" : "a prefix");
			return -EINVAL;
		}
		if (eq) {
			*eq = '\0';
			if (inet_pton(AF_INET, tok, &in) != 1) {
				snprintf(err, errlen, "'%s' is not an IPv4 address", tok);
				return -EINVAL;
			}
			e.client = in.s_addr;
			tok = eq + 1;
		}
		if (xpro_guard_prefix(tok, &e.net, &e.len)) {
			snprintf(err, errlen, "'%s' is not a prefix A.B.C.D[/LEN] or (IPv6, canonical form) ADDR[/LEN]", tok);
			return -EINVAL;
		}
		if (out && (size_t)n < max)
			out[n] = e;
		n++;
	}
	return n;
}

void xpro_guard_count(const struct xpro_config *c, int *nguard, int *ndevnets)
{
	char e[128];
	int a = xpro_guard_parse(c->proxies, 0, NULL, 0, e, sizeof(e));
	int b = xpro_guard_parse(c->mgmt_prefixes, 0, NULL, 0, e, sizeof(e));
	int d = xpro_guard_parse(c->device_prefixes, 1, NULL, 0, e, sizeof(e));

	*nguard = (a > 0 ? a : 0) + (b > 0 ? b : 0);
	*ndevnets = d > 0 ? d : 0;
}

static int fill_list(const char *v, int per_client, int fd, uint32_t kind)
{
	struct xpro_guard_ent *ents;
	char e[128];
	int n = xpro_guard_parse(v, per_client, NULL, 0, e, sizeof(e)), i, err = 0;

	if (n <= 0)
		return n;
	ents = calloc((size_t)n, sizeof(*ents));
	if (!ents)
		return -ENOMEM;
	xpro_guard_parse(v, per_client, ents, (size_t)n, e, sizeof(e));
	for (i = 0; i < n && !err; i++) {
		if (per_client) {
			struct xpro_devnet_key k = { .prefixlen = 32 + ents[i].len, .client = ents[i].client,
						     .net = ents[i].net };

			err = bpf_map_update_elem(fd, &k, &kind, BPF_ANY) ? -errno : 0;
		} else {
			struct xpro_guard_key k = { .prefixlen = ents[i].len, .addr = ents[i].net };

			err = bpf_map_update_elem(fd, &k, &kind, BPF_ANY) ? -errno : 0;
		}
	}
	free(ents);
	return err;
}

int xpro_guard_fill(const struct xpro_config *c, int guard_fd, int devnets_fd)
{
	/* proxies first: a management prefix of the same length wins */
	return fill_list(c->proxies, 0, guard_fd, XPRO_GUARD_PROXY) ?:
	       fill_list(c->mgmt_prefixes, 0, guard_fd, XPRO_GUARD_MGMT) ?:
	       fill_list(c->device_prefixes, 1, devnets_fd, 1);
}

int xpro_keys_load(const char *path, int fd, int idx_fd, char *err, size_t errlen)
{
	char line[256];
	struct xpro_devkey dk;
	struct in_addr in;
	__u64 k0, k1;
	uint32_t n = 0;
	int lineno = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		int k = xpro_key_line(line, &in.s_addr, &k0, &k1, NULL);

		lineno++;
		if (!k)
			continue;
		memset(&dk, 0, sizeof(dk));
		if (k < 0) {
			snprintf(err, errlen, "%s:%d: expected 'A.B.C.D KEY' (KEY: 32 hex digits)", path, lineno);
			fclose(f);
			return -EINVAL;
		}
		dk.client = in.s_addr;
		dk.k0 = k0;
		dk.k1 = k1;
		if (n >= XPRO_DEVKEYS_MAX) {
			snprintf(err, errlen, "%s: more than %d keys", path, XPRO_DEVKEYS_MAX);
			fclose(f);
			return -ERANGE;
		}
		/* the key's index is its entry's place in the file, from 0 */
		if (fd >= 0 && (bpf_map_update_elem(fd, &n, &dk, BPF_ANY) ||
				bpf_map_update_elem(idx_fd, &in.s_addr, &n, BPF_NOEXIST))) {
			snprintf(err, errlen, "%s:%d: %s", path, lineno, strerror(errno));
			fclose(f);
			return -errno;
		}
		n++;
	}
	fclose(f);
	return (int)n;
}
