/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xpro-device: the CoAP-like and MQTT-like messages of a legitimate IoT
 * device (pure functions: encode into a buffer, decode a reply). Returns
 * the encoded length, or -errno.
 */
#ifndef XPRO_DEVICE_PROTO_H
#define XPRO_DEVICE_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* ---- CoAP (RFC 7252 header) ---- */
#define COAP_CON 0
#define COAP_NON 1
#define COAP_ACK 2
#define COAP_RST 3
#define COAP_GET 0x01
#define COAP_POST 0x02
#define COAP_TOKEN_LEN 4

/*
 * A request: version 1, type, code, message ID, a 4-byte token, one Uri-Path
 * option per '/'-separated segment of path, Content-Format 50 (JSON) and the
 * payload when payload_len > 0.
 */
int coap_request(uint8_t *buf, size_t len, int type, int code, uint16_t mid,
		 const uint8_t token[COAP_TOKEN_LEN], const char *path,
		 const char *payload, size_t payload_len);

struct coap_reply {
	int type;        /* COAP_* */
	int code;        /* class << 5 | detail, e.g. 0x45 for 2.05 */
	uint16_t mid;
	int tkl;
	uint8_t token[8];
};
/* 0 for a well-formed CoAP message (header and token), else -EINVAL */
int coap_parse(const uint8_t *buf, size_t len, struct coap_reply *r);

/* ---- MQTT 3.1.1 ---- */
#define MQTT_CONNECT 1
#define MQTT_CONNACK 2
#define MQTT_PUBLISH 3
#define MQTT_PUBACK 4
#define MQTT_PINGREQ 12
#define MQTT_PINGRESP 13
#define MQTT_DISCONNECT 14

int mqtt_connect(uint8_t *buf, size_t len, const char *client_id, uint16_t keepalive_s);
/* QoS 0 or 1 (a packet ID only with QoS 1) */
int mqtt_publish(uint8_t *buf, size_t len, int qos, uint16_t pkt_id, const char *topic,
		 const char *payload, size_t payload_len);
int mqtt_pingreq(uint8_t *buf, size_t len);
int mqtt_disconnect(uint8_t *buf, size_t len);

struct mqtt_packet {
	int type;        /* MQTT_* */
	int flags;       /* low nibble of the first byte */
	uint16_t id;     /* PUBACK: packet ID; CONNACK: return code */
	size_t total;    /* bytes this packet takes in the buffer */
};
/* 1: one whole packet at buf (filled in); 0: need more bytes; -EINVAL: malformed */
int mqtt_next(const uint8_t *buf, size_t len, struct mqtt_packet *p);

#endif
