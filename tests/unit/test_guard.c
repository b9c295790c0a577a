// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * Unit tests of the reverse firewall's prefix lists (xpro/guard.c: proxies,
 * mgmt_prefixes, device_prefixes), of device_embed6 and ipv6 = filter
 * (xpro/config.c), as
 * docs/config.md states them: IPv4 prefixes become v4-mapped /(96 + L),
 * IPv6 ones are taken in their canonical form only, host bits cleared.
 * Expected keys worked by hand.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include "tap.h"
#include "config.h"
#include "guard.h"
#include "log.h"

static struct xpro_guard_ent E[4];

static int parse(const char *v, int per_client)
{
	char err[160];

	memset(E, 0, sizeof(E));
	return xpro_guard_parse(v, per_client, E, 4, err, sizeof(err));
}

/* entry i is the network given as 16 bytes in text, of length len */
static int is_net(int i, const char *addr6, uint32_t len)
{
	struct xpro_addr a;

	inet_pton(AF_INET6, addr6, &a);
	return !memcmp(&E[i].net, &a, sizeof(a)) && E[i].len == len;
}

static uint32_t v4(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

int main(void)
{
	static const char *const refused[] = {
		"2001:DB8::1", "2001:db8:0::1", "2001:0db8::1", "::ffff:198.18.0.1", "::ffff:c612:1",
		"2001:db8::/129", "198.18.0.0/33", "2001:db8::/", "2001:db8::/+4", "2001:db8::/-1",
		"198.18.0.01", "198.18.0", "fe80::1%eth0", "2001:db8::1/64x",
	};
	struct xpro_config c;
	char buf[4096];
	FILE *f;
	size_t i;

	ok(parse("198.18.5.0/24", 0) == 1 && is_net(0, "::ffff:198.18.5.0", 96 + 24),
	   "IPv4 198.18.5.0/24: ::ffff:198.18.5.0 /120");
	ok(parse("198.18.5.77/24", 0) == 1 && is_net(0, "::ffff:198.18.5.0", 120),
	   "IPv4 host bits cleared: 198.18.5.77/24 is 198.18.5.0/24");
	ok(parse("198.18.0.7", 0) == 1 && is_net(0, "::ffff:198.18.0.7", 128), "an IPv4 address: /128");
	ok(parse("198.18.0.0/0", 0) == 1 && is_net(0, "::ffff:0.0.0.0", 96), "IPv4 /0: the v4-mapped /96");
	ok(parse("2001:db8:5::/48", 0) == 1 && is_net(0, "2001:db8:5::", 48), "IPv6 2001:db8:5::/48");
	ok(parse("2001:db8:5:ffff::1/48", 0) == 1 && is_net(0, "2001:db8:5::", 48),
	   "IPv6 host bits cleared: 2001:db8:5:ffff::1/48 is 2001:db8:5::/48");
	ok(parse("2001:db8::c612:1ff/121", 0) == 1 && is_net(0, "2001:db8::c612:180", 121),
	   "IPv6 /121: 2001:db8::c612:1ff is in 2001:db8::c612:180/121");
	ok(parse("2001:db8::c612:7", 0) == 1 && is_net(0, "2001:db8::c612:7", 128), "an IPv6 address: /128");
	ok(parse("198.18.0.7, 2001:db8::c612:7 198.18.1.128/25", 0) == 3 && is_net(1, "2001:db8::c612:7", 128) &&
	   is_net(2, "::ffff:198.18.1.128", 121), "a mixed list, commas and spaces: 3 entries");
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		ok(parse(refused[i], 0) < 0, "refused: '%s'", refused[i]);
	ok(parse("none", 0) == 0 && parse("", 0) == 0, "none and the empty list: no entry");

	ok(parse("198.18.0.2=2001:db8:5::/48", 1) == 1 && E[0].client == v4("198.18.0.2") &&
	   is_net(0, "2001:db8:5::", 48), "device_prefixes: 198.18.0.2=2001:db8:5::/48");
	ok(parse("198.18.0.2=198.18.5.0/24", 1) == 1 && is_net(0, "::ffff:198.18.5.0", 120),
	   "device_prefixes: an IPv4 prefix, v4-mapped");
	ok(parse("2001:db8::c612:2=2001:db8:5::/48", 1) < 0, "device_prefixes: a device is named by its IPv4 address");
	ok(parse("2001:db8:5::/48", 1) < 0, "device_prefixes: DEVICE= required");

	xpro_config_defaults(&c);
	ok(c.device_embed6_len == 0, "device_embed6: none by default");
	ok(!xpro_config_set(&c, "device_embed6=2001:db8::/96", "test") && c.device_embed6_len == 96 &&
	   !memcmp(&c.device_embed6, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0", 12), "device_embed6 = 2001:db8::/96");
	f = fmemopen(buf, sizeof(buf), "w");
	xpro_config_print(&c, f);
	fclose(f);
	ok(strstr(buf, "\ndevice_embed6 = 2001:db8::/96\n") != NULL, "the effective config names it");
	ok(xpro_config_set(&c, "device_embed6=2001:db8::/64", "test") < 0, "device_embed6: a /64 refused");
	ok(xpro_config_set(&c, "device_embed6=2001:db8::", "test") < 0, "device_embed6: no length refused");
	ok(xpro_config_set(&c, "device_embed6=2001:db8::1/96", "test") < 0, "device_embed6: host bits refused");
	ok(xpro_config_set(&c, "device_embed6=2001:DB8::/96", "test") < 0, "device_embed6: not canonical, refused");
	ok(xpro_config_set(&c, "device_embed6=198.18.0.0/0", "test") < 0, "device_embed6: IPv4 refused");
	ok(c.device_embed6_len == 96, "refused values changed nothing");
	ok(!xpro_config_set(&c, "device_embed6=none", "test") && c.device_embed6_len == 0, "device_embed6 = none: off");
	ok(!xpro_config_set(&c, "ipv6=filter", "test") && c.params.ipv6 == XPRO_IPV6_FILTER &&
	   !strcmp(xpro_ipv6_name(c.params.ipv6), "filter"), "ipv6 = filter (inline mode's Algorithm 2 for IPv6)");
	ok(xpro_config_set(&c, "ipv6=forward", "test") < 0 && c.params.ipv6 == XPRO_IPV6_FILTER, "ipv6: another value refused");
	return tap_done();
}
