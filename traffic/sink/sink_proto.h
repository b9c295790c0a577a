/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * xpro-sink's protocol answers: pure functions from request bytes to
 * response bytes (docs/xpro-sink.md spells every response out).
 */
#ifndef XPRO_SINK_PROTO_H
#define XPRO_SINK_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define XS_COAP_PAYLOAD "ok"
#define XS_HTTP_BODY    "ok\n"
#define XS_HTTP_MAX_HEAD 8192   /* request line + headers */
#define XS_HTTP_MAX_BODY 8192   /* request bodies the sink reads and discards */

/*
 * A CoAP request (RFC 7252 header: version 1, type CON or NON, code 0.01-0.07,
 * token 0-8 bytes), or a CoAP ping (CON, code 0.00, nothing after the header).
 * Returns the answer's length (written to out), or -ENOMSG when the
 * datagram is not one of these (the sink counts it as "other").
 */
int xs_coap_answer(const uint8_t *req, size_t len, uint8_t *out, size_t outsz);

/*
 * One HTTP/1.x request at buf[0..len). Returns 0 when more bytes are
 * needed; else the answer's length in out, with *consumed the request's
 * bytes (head and body) and *close set when the connection must close
 * after the answer. *ok is 1 for a 200 answer, 0 for an error status.
 */
int xs_http_answer(const uint8_t *buf, size_t len, size_t *consumed, char *out, size_t outsz,
		   int *close, int *ok);

enum xs_mqtt_kind {
	XS_MQTT_NONE = 0,    /* nothing answered (QoS 0 PUBLISH, ignored types) */
	XS_MQTT_ANSWERED,    /* an answer is in out */
	XS_MQTT_DISCONNECT,  /* DISCONNECT: close without an answer */
};

/*
 * One MQTT 3.1.1 control packet at buf[0..len). Returns 0 when more bytes
 * are needed, the packet's length when it was complete (answer, if any, in
 * out and outlen, kind says what happened), or -EPROTO for a malformed packet
 * and -EMSGSIZE for one longer than maxlen (the sink closes).
 */
int xs_mqtt_step(const uint8_t *buf, size_t len, size_t maxlen, uint8_t *out, size_t outsz,
		 size_t *outlen, enum xs_mqtt_kind *kind);

#endif
