// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xpro-device messages: see device_proto.h. */
#include <errno.h>
#include <string.h>
#include "device_proto.h"

static int coap_option(uint8_t *buf, size_t len, size_t *off, unsigned delta, const void *val,
		       size_t vlen)
{
	/* deltas and lengths below 13 only: what this encoder needs */
	if (delta > 12 || vlen > 12 || *off + 1 + vlen > len)
		return -EINVAL;
	buf[(*off)++] = (uint8_t)(delta << 4 | vlen);
	memcpy(buf + *off, val, vlen);
	*off += vlen;
	return 0;
}

int coap_request(uint8_t *buf, size_t len, int type, int code, uint16_t mid,
		 const uint8_t token[COAP_TOKEN_LEN], const char *path,
		 const char *payload, size_t payload_len)
{
	size_t off = 0;
	unsigned last = 0;
	const char *seg = path;

	if (len < 4 + COAP_TOKEN_LEN || (type != COAP_CON && type != COAP_NON))
		return -EINVAL;
	buf[off++] = (uint8_t)(0x40 | type << 4 | COAP_TOKEN_LEN);
	buf[off++] = (uint8_t)code;
	buf[off++] = (uint8_t)(mid >> 8);
	buf[off++] = (uint8_t)mid;
	memcpy(buf + off, token, COAP_TOKEN_LEN);
	off += COAP_TOKEN_LEN;
	while (seg && *seg) {
		const char *slash = strchr(seg, '/');
		size_t sl = slash ? (size_t)(slash - seg) : strlen(seg);

		if (sl && coap_option(buf, len, &off, 11 - last, seg, sl))
			return -EINVAL;
		if (sl)
			last = 11;
		seg = slash ? slash + 1 : NULL;
	}
	if (payload_len) {
		uint8_t json = 50;

		if (coap_option(buf, len, &off, 12 - last, &json, 1) || off + 1 + payload_len > len)
			return -EINVAL;
		buf[off++] = 0xFF;
		memcpy(buf + off, payload, payload_len);
		off += payload_len;
	}
	return (int)off;
}

int coap_parse(const uint8_t *buf, size_t len, struct coap_reply *r)
{
	if (len < 4 || (buf[0] >> 6) != 1)
		return -EINVAL;
	r->type = (buf[0] >> 4) & 3;
	r->tkl = buf[0] & 15;
	if (r->tkl > 8 || len < 4 + (size_t)r->tkl)
		return -EINVAL;
	r->code = buf[1];
	r->mid = (uint16_t)(buf[2] << 8 | buf[3]);
	memcpy(r->token, buf + 4, (size_t)r->tkl);
	return 0;
}

/* fixed header with the remaining length; returns its size or -EINVAL */
static int mqtt_fixed(uint8_t *buf, size_t len, uint8_t first, size_t rem)
{
	size_t off = 0;

	if (rem > 268435455 || len < 2)
		return -EINVAL;
	buf[off++] = first;
	do {
		uint8_t b = rem % 128;

		rem /= 128;
		if (rem)
			b |= 128;
		if (off >= len)
			return -EINVAL;
		buf[off++] = b;
	} while (rem);
	return (int)off;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int mqtt_connect(uint8_t *buf, size_t len, const char *client_id, uint16_t keepalive_s)
{
	size_t idl = strlen(client_id), rem = 10 + 2 + idl;
	int h = mqtt_fixed(buf, len, MQTT_CONNECT << 4, rem);
	uint8_t *p;

	if (h < 0 || idl > 65535 || (size_t)h + rem > len)
		return -EINVAL;
	p = buf + h;
	memcpy(p, "\x00\x04MQTT\x04\x02", 8); /* protocol name, level 4, clean session */
	put16(p + 8, keepalive_s);
	put16(p + 10, (uint16_t)idl);
	memcpy(p + 12, client_id, idl);
	return h + (int)rem;
}

int mqtt_publish(uint8_t *buf, size_t len, int qos, uint16_t pkt_id, const char *topic,
		 const char *payload, size_t payload_len)
{
	size_t tl = strlen(topic), rem = 2 + tl + (qos ? 2 : 0) + payload_len;
	int h = mqtt_fixed(buf, len, (uint8_t)(MQTT_PUBLISH << 4 | (qos ? 1 : 0) << 1), rem);
	uint8_t *p;

	if (h < 0 || tl > 65535 || qos < 0 || qos > 1 || (size_t)h + rem > len)
		return -EINVAL;
	p = buf + h;
	put16(p, (uint16_t)tl);
	memcpy(p + 2, topic, tl);
	p += 2 + tl;
	if (qos) {
		put16(p, pkt_id);
		p += 2;
	}
	memcpy(p, payload, payload_len);
	return h + (int)rem;
}

int mqtt_pingreq(uint8_t *buf, size_t len)
{
	if (len < 2)
		return -EINVAL;
	buf[0] = MQTT_PINGREQ << 4;
	buf[1] = 0;
	return 2;
}

int mqtt_disconnect(uint8_t *buf, size_t len)
{
	if (len < 2)
		return -EINVAL;
	buf[0] = MQTT_DISCONNECT << 4;
	buf[1] = 0;
	return 2;
}

int mqtt_next(const uint8_t *buf, size_t len, struct mqtt_packet *p)
{
	size_t rem = 0, mult = 1, i = 1;

	if (len < 2)
		return 0;
	for (;;) {
		if (i >= len)
			return 0;
		rem += (size_t)(buf[i] & 127) * mult;
		if (!(buf[i++] & 128))
			break;
		mult *= 128;
		if (i > 4)
			return -EINVAL;
	}
	if (len < i + rem)
		return 0;
	p->type = buf[0] >> 4;
	p->flags = buf[0] & 15;
	p->id = 0;
	p->total = i + rem;
	switch (p->type) {
	case MQTT_CONNACK:
		if (rem != 2)
			return -EINVAL;
		p->id = buf[i + 1]; /* return code */
		break;
	case MQTT_PUBACK:
		if (rem != 2)
			return -EINVAL;
		p->id = (uint16_t)(buf[i] << 8 | buf[i + 1]);
		break;
	case MQTT_PINGRESP:
		if (rem != 0)
			return -EINVAL;
		break;
	default:
		break;
	}
	return 1;
}
