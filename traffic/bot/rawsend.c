// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include "xpro.h"
#include "rawsend.h"
#include "vectors.h"

int raw_route(uint32_t dst, int *ifindex, uint32_t *gw)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
		char attrs[64];
	} req = { 0 };
	char buf[4096];
	struct rtattr *a;
	struct nlmsghdr *h;
	int fd, err = -ENETUNREACH;
	ssize_t n;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.rt.rtm_family = AF_INET;
	req.rt.rtm_dst_len = 32;
	a = (struct rtattr *)((char *)&req + NLMSG_ALIGN(NLMSG_LENGTH(sizeof(struct rtmsg))));
	a->rta_type = RTA_DST;
	a->rta_len = RTA_LENGTH(4);
	memcpy(RTA_DATA(a), &dst, 4);
	req.nh.nlmsg_len = NLMSG_ALIGN(NLMSG_LENGTH(sizeof(struct rtmsg))) + RTA_ALIGN(a->rta_len);
	if (send(fd, &req, req.nh.nlmsg_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		err = -errno;
		goto out;
	}
	*gw = 0;
	*ifindex = 0;
	for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
		struct rtmsg *rt;
		int len;

		if (h->nlmsg_type == NLMSG_ERROR) {
			struct nlmsgerr *e = NLMSG_DATA(h);

			err = e->error ? e->error : -ENETUNREACH;
			goto out;
		}
		if (h->nlmsg_type != RTM_NEWROUTE)
			continue;
		rt = NLMSG_DATA(h);
		len = (int)RTM_PAYLOAD(h);
		for (a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
			if (a->rta_type == RTA_OIF)
				memcpy(ifindex, RTA_DATA(a), 4);
			else if (a->rta_type == RTA_GATEWAY)
				memcpy(gw, RTA_DATA(a), 4);
		}
		if (rt->rtm_type != RTN_UNICAST) {
			err = -EHOSTUNREACH;
			goto out;
		}
		err = *ifindex ? 0 : -ENETUNREACH;
	}
out:
	close(fd);
	return err;
}

int raw_if_info(int ifindex, struct raw_if *ifc)
{
	struct ifreq ifr = { 0 };
	struct ifaddrs *ifa, *i;
	int fd, err = 0;

	memset(ifc, 0, sizeof(*ifc));
	ifc->ifindex = ifindex;
	if (!if_indextoname((unsigned int)ifindex, ifc->name))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifc->name);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) {
		err = -errno;
		goto out;
	}
	memcpy(ifc->mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0) {
		err = -errno;
		goto out;
	}
	ifc->mtu = ifr.ifr_mtu;
	if (!getifaddrs(&ifa)) {
		for (i = ifa; i; i = i->ifa_next)
			if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && !strcmp(i->ifa_name, ifc->name)) {
				ifc->addr = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
				break;
			}
		freeifaddrs(ifa);
	}
out:
	close(fd);
	return err;
}

static int arp_table(const char *ifname, uint32_t nh, uint8_t mac[6])
{
	char line[256], ip[64], hw[64], dev[64], mask[32];
	unsigned int type, flags, m[6];
	FILE *f = fopen("/proc/net/arp", "r");
	int found = 0;

	if (!f)
		return 0;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return 0;
	}
	while (!found && fgets(line, sizeof(line), f)) {
		struct in_addr a;

		if (sscanf(line, "%63s %x %x %63s %31s %63s", ip, &type, &flags, hw, mask, dev) != 6)
			continue;
		if (strcmp(dev, ifname) || inet_pton(AF_INET, ip, &a) != 1 || a.s_addr != nh)
			continue;
		if (!(flags & ATF_COM))
			continue;
		if (sscanf(hw, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
			continue;
		for (int k = 0; k < 6; k++)
			mac[k] = (uint8_t)m[k];
		found = 1;
	}
	fclose(f);
	return found;
}

int raw_resolve(const struct raw_if *ifc, uint32_t nh, uint8_t mac[6])
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP),
				  .sll_ifindex = ifc->ifindex, .sll_halen = 6 };
	uint8_t req[42], rep[128];
	int fd, err = -EHOSTUNREACH;

	if (arp_table(ifc->name, nh, mac))
		return 0;
	if (!ifc->addr)
		return -EADDRNOTAVAIL;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
		err = -errno;
		goto out;
	}
	memset(req, 0xff, 6);
	memcpy(req + 6, ifc->mac, 6);
	req[12] = 0x08; req[13] = 0x06;
	req[14] = 0; req[15] = 1; req[16] = 0x08; req[17] = 0; req[18] = 6; req[19] = 4;
	req[20] = 0; req[21] = 1;
	memcpy(req + 22, ifc->mac, 6);
	memcpy(req + 28, &ifc->addr, 4);
	memset(req + 32, 0, 6);
	memcpy(req + 38, &nh, 4);
	memset(ll.sll_addr, 0xff, 6);
	for (int tries = 0; tries < 3 && err; tries++) {
		uint64_t end = xp_mono_ns() + 300000000ull;

		if (sendto(fd, req, sizeof(req), 0, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
			err = -errno;
			break;
		}
		for (;;) {
			uint64_t now = xp_mono_ns();
			struct pollfd p = { .fd = fd, .events = POLLIN };
			ssize_t n;

			if (now >= end || poll(&p, 1, (int)((end - now) / 1000000) + 1) <= 0)
				break;
			n = recv(fd, rep, sizeof(rep), 0);
			if (n < 42)
				continue;
			/* a reply (opcode 2) from nh */
			if (rep[20] == 0 && rep[21] == 2 && !memcmp(rep + 28, &nh, 4)) {
				memcpy(mac, rep + 22, 6);
				err = 0;
				break;
			}
		}
	}
out:
	close(fd);
	return err;
}

size_t raw_wrap(uint8_t *frame, const uint8_t dmac[6], const uint8_t smac[6], int tunnel,
		uint32_t outer_src, uint32_t proxy, uint16_t tun_port, uint16_t outer_id, size_t inner_len,
		struct xpro_tun_key *key)
{
	memcpy(frame, dmac, 6);
	memcpy(frame + 6, smac, 6);
	frame[12] = 0x08;
	frame[13] = 0x00;
	if (tunnel) /* source port: the tunnel port too */
		xpro_tun_outer_key(frame + RAW_ETH_LEN, outer_src, proxy, tun_port, tun_port, outer_id, inner_len,
				   tunnel == 2 ? key : NULL);
	return RAW_ETH_LEN + (tunnel ? xpro_tun_outer_len(tunnel == 2 ? key : NULL) : 0) + inner_len;
}

int raw_open(struct raw_sock *s, int ifindex)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_protocol = 0, .sll_ifindex = ifindex };
	int one = 1;

	memset(s->msg, 0, sizeof(s->msg));
	s->ifindex = ifindex;
	s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (s->fd < 0)
		return -errno;
	/* protocol 0: send only, nothing is queued to us for reading */
	if (bind(s->fd, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
		int err = -errno;

		close(s->fd);
		return err;
	}
	setsockopt(s->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	s->to = ll;
	s->to.sll_protocol = htons(ETH_P_IP); /* skb->protocol of what we send */
	s->to.sll_halen = 6;
	for (int i = 0; i < RAW_BATCH; i++) {
		s->msg[i].msg_hdr.msg_name = &s->to;
		s->msg[i].msg_hdr.msg_namelen = sizeof(s->to);
		s->iov[i].iov_base = s->buf[i];
		s->msg[i].msg_hdr.msg_iov = &s->iov[i];
		s->msg[i].msg_hdr.msg_iovlen = 1;
	}
	return 0;
}

int raw_send(struct raw_sock *s, const size_t *len, int n, uint64_t deadline_ns, int *err)
{
	int done = 0;

	*err = 0;
	for (int i = 0; i < n; i++)
		s->iov[i].iov_len = len[i];
	while (done < n) {
		int r = sendmmsg(s->fd, s->msg + done, (unsigned int)(n - done), 0);

		if (r > 0) {
			done += r;
			continue;
		}
		if (r < 0 && (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) && xp_mono_ns() < deadline_ns) {
			struct timespec ts = { 0, 20000 };

			nanosleep(&ts, NULL);
			continue;
		}
		*err = r < 0 ? -errno : -EIO;
		break;
	}
	return done;
}

void raw_close(struct raw_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

int raw_local_ranges(uint32_t *addr, int *plen, int max)
{
	struct {
		struct nlmsghdr nh;
		struct rtmsg rt;
	} req = { 0 };
	char buf[16384];
	int fd, n = 0, done = 0;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = RTM_GETROUTE;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.rt.rtm_family = AF_INET;
	if (send(fd, &req, sizeof(req), 0) < 0) {
		n = -errno;
		goto out;
	}
	while (!done) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *h;

		if (len <= 0) {
			n = len < 0 ? -errno : n;
			break;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
			struct rtmsg *rt = NLMSG_DATA(h);
			struct rtattr *a;
			uint32_t dst = 0;
			int alen;

			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
				done = 1;
				break;
			}
			if (h->nlmsg_type != RTM_NEWROUTE || rt->rtm_type != RTN_LOCAL || rt->rtm_dst_len >= 32)
				continue;
			alen = (int)RTM_PAYLOAD(h);
			for (a = RTM_RTA(rt); RTA_OK(a, alen); a = RTA_NEXT(a, alen))
				if (a->rta_type == RTA_DST)
					memcpy(&dst, RTA_DATA(a), 4);
			if ((ntohl(dst) >> 24) == 127)
				continue;
			if (n < max) {
				addr[n] = dst;
				plen[n] = rt->rtm_dst_len;
				n++;
			}
		}
	}
out:
	close(fd);
	return n;
}
