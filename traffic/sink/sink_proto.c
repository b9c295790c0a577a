// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* xpro-sink's protocol answers (sink_proto.h, docs/xpro-sink.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "sink_proto.h"

/* ---- CoAP --------------------------------------------------------------- */

int xs_coap_answer(const uint8_t *req, size_t len, uint8_t *out, size_t outsz)
{
	unsigned int ver, type, tkl, code, detail;
	uint8_t rcode;
	size_t n;

	if (len < 4)
		return -ENOMSG;
	ver = req[0] >> 6;
	type = (req[0] >> 4) & 3;
	tkl = req[0] & 15;
	code = req[1];
	if (ver != 1 || tkl > 8 || len < 4 + tkl || type > 1)
		return -ENOMSG;
	if (code == 0) {
		/* CoAP ping: CON, empty, answered by a RST with its message ID */
		if (type != 0 || tkl != 0 || len != 4 || outsz < 4)
			return -ENOMSG;
		out[0] = 0x70;
		out[1] = 0;
		out[2] = req[2];
		out[3] = req[3];
		return 4;
	}
	if (code >> 5 != 0)
		return -ENOMSG;
	detail = code & 31;
	switch (detail) {
	case 1: /* GET */
	case 5: /* FETCH */
		rcode = 0x45; /* 2.05 Content */
		break;
	case 2: /* POST */
		rcode = 0x41; /* 2.01 Created */
		break;
	case 3: /* PUT */
	case 6: /* PATCH */
	case 7: /* iPATCH */
		rcode = 0x44; /* 2.04 Changed */
		break;
	case 4: /* DELETE */
		rcode = 0x42; /* 2.02 Deleted */
		break;
	default:
		return -ENOMSG;
	}
	n = 4 + tkl + (rcode == 0x45 ? 1 + sizeof(XS_COAP_PAYLOAD) - 1 : 0);
	if (outsz < n)
		return -ENOMSG;
	/* CON is answered by a piggybacked ACK, NON by a NON; both echo the
	 * message ID and the token */
	out[0] = (uint8_t)(0x40 | (type == 0 ? 2 : 1) << 4 | tkl);
	out[1] = rcode;
	out[2] = req[2];
	out[3] = req[3];
	memcpy(out + 4, req + 4, tkl);
	if (rcode == 0x45) {
		out[4 + tkl] = 0xff;
		memcpy(out + 5 + tkl, XS_COAP_PAYLOAD, sizeof(XS_COAP_PAYLOAD) - 1);
	}
	return (int)n;
}

/* ---- HTTP --------------------------------------------------------------- */

static const char *find_crlfcrlf(const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i + 3 < len; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n')
			return (const char *)buf + i;
	return NULL;
}

static int http_error(char *out, size_t outsz, int status, const char *reason, int *close, int *ok)
{
	*close = 1;
	*ok = 0;
	return snprintf(out, outsz,
			"HTTP/1.1 %d %s\r\nServer: xpro-sink\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
			status, reason);
}

/* value contains token (case-insensitive) */
static int has_token(const char *v, size_t vlen, const char *tok)
{
	size_t t = strlen(tok), i;

	for (i = 0; i + t <= vlen; i++)
		if (!strncasecmp(v + i, tok, t))
			return 1;
	return 0;
}

int xs_http_answer(const uint8_t *buf, size_t len, size_t *consumed, char *out, size_t outsz,
		   int *close, int *ok)
{
	const char *s = (const char *)buf, *end, *line, *eol, *sp1, *sp2;
	int minor, keep = -1, head = 0, chunked = 0, n;
	long clen = 0;
	size_t hlen, i;

	*consumed = 0;
	end = find_crlfcrlf(buf, len < XS_HTTP_MAX_HEAD ? len : XS_HTTP_MAX_HEAD);
	if (!end) {
		if (len >= XS_HTTP_MAX_HEAD) {
			*consumed = len;
			return http_error(out, outsz, 431, "Request Header Fields Too Large", close, ok);
		}
		return 0;
	}
	hlen = (size_t)(end - s) + 4;
	/* request line: METHOD SP TARGET SP HTTP/1.x */
	eol = memchr(s, '\r', hlen);
	sp1 = memchr(s, ' ', (size_t)(eol - s));
	sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	*consumed = hlen;
	if (!sp1 || !sp2 || sp1 == s || sp2 == sp1 + 1 || eol - sp2 != 9 ||
	    strncmp(sp2 + 1, "HTTP/1.", 7) || (sp2[8] != '0' && sp2[8] != '1'))
		return http_error(out, outsz, 400, "Bad Request", close, ok);
	for (i = 0; s + i < sp1; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return http_error(out, outsz, 400, "Bad Request", close, ok);
	minor = sp2[8] - '0';
	head = sp1 - s == 4 && !strncmp(s, "HEAD", 4);
	/* headers */
	for (line = eol + 2; line < end + 2; line = eol + 2) {
		const char *colon, *v;
		size_t nlen, vlen;

		eol = memchr(line, '\r', (size_t)(end + 2 - line));
		if (!eol || eol == line)
			break;
		colon = memchr(line, ':', (size_t)(eol - line));
		if (!colon)
			return http_error(out, outsz, 400, "Bad Request", close, ok);
		nlen = (size_t)(colon - line);
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		vlen = (size_t)(eol - v);
		if (nlen == 14 && !strncasecmp(line, "content-length", 14)) {
			char num[24];

			if (vlen == 0 || vlen >= sizeof(num))
				return http_error(out, outsz, 400, "Bad Request", close, ok);
			memcpy(num, v, vlen);
			num[vlen] = '\0';
			for (i = 0; i < vlen; i++)
				if (num[i] < '0' || num[i] > '9')
					return http_error(out, outsz, 400, "Bad Request", close, ok);
			clen = vlen > 9 ? XS_HTTP_MAX_BODY + 1 : atol(num);
		} else if (nlen == 10 && !strncasecmp(line, "connection", 10)) {
			if (has_token(v, vlen, "close"))
				keep = 0;
			else if (has_token(v, vlen, "keep-alive"))
				keep = 1;
		} else if (nlen == 17 && !strncasecmp(line, "transfer-encoding", 17)) {
			chunked = 1;
		}
	}
	if (chunked)
		return http_error(out, outsz, 501, "Not Implemented", close, ok);
	if (clen > XS_HTTP_MAX_BODY)
		return http_error(out, outsz, 413, "Content Too Large", close, ok);
	if (len < hlen + (size_t)clen) {
		*consumed = 0;
		return 0; /* the body is still coming */
	}
	*consumed = hlen + (size_t)clen;
	if (keep < 0)
		keep = minor == 1;
	*close = !keep;
	*ok = 1;
	n = snprintf(out, outsz,
		     "HTTP/1.1 200 OK\r\nServer: xpro-sink\r\nContent-Type: text/plain\r\n"
		     "Content-Length: %zu\r\nConnection: %s\r\n\r\n%s",
		     sizeof(XS_HTTP_BODY) - 1, keep ? "keep-alive" : "close", head ? "" : XS_HTTP_BODY);
	return n < (int)outsz ? n : -ENOSPC;
}

/* ---- MQTT --------------------------------------------------------------- */

int xs_mqtt_step(const uint8_t *buf, size_t len, size_t maxlen, uint8_t *out, size_t outsz,
		 size_t *outlen, enum xs_mqtt_kind *kind)
{
	size_t rl = 0, hl, total, p;
	unsigned int type, flags, i, mult = 1;

	*outlen = 0;
	*kind = XS_MQTT_NONE;
	if (len < 2)
		return 0;
	/* remaining length: 1-4 bytes, 7 bits each, least significant first */
	for (i = 1;; i++) {
		if (i > 4)
			return -EPROTO;
		if (i >= len)
			return 0;
		rl += (size_t)(buf[i] & 127) * mult;
		mult *= 128;
		if (!(buf[i] & 128))
			break;
	}
	hl = i + 1;
	total = hl + rl;
	if (total > maxlen)
		return -EMSGSIZE;
	if (len < total)
		return 0;
	type = buf[0] >> 4;
	flags = buf[0] & 15;
	if (outsz < 8)
		return -ENOSPC;
	switch (type) {
	case 1: /* CONNECT -> CONNACK, session present 0, accepted */
		out[0] = 0x20; out[1] = 2; out[2] = 0; out[3] = 0;
		*outlen = 4;
		break;
	case 3: { /* PUBLISH: QoS 1 -> PUBACK, QoS 2 -> PUBREC */
		unsigned int qos = (flags >> 1) & 3;
		size_t tl;

		if (qos == 3 || rl < 2)
			return -EPROTO;
		tl = (size_t)buf[hl] << 8 | buf[hl + 1];
		p = hl + 2 + tl;
		if (qos == 0) {
			if (p > total)
				return -EPROTO;
			break;
		}
		if (p + 2 > total)
			return -EPROTO;
		out[0] = qos == 1 ? 0x40 : 0x50;
		out[1] = 2;
		out[2] = buf[p];
		out[3] = buf[p + 1];
		*outlen = 4;
		break;
	}
	case 6: /* PUBREL -> PUBCOMP */
		if (flags != 2 || rl < 2)
			return -EPROTO;
		out[0] = 0x70; out[1] = 2; out[2] = buf[hl]; out[3] = buf[hl + 1];
		*outlen = 4;
		break;
	case 8: { /* SUBSCRIBE -> SUBACK granting each requested QoS */
		size_t n = 0, o = 4;

		if (flags != 2 || rl < 5)
			return -EPROTO;
		out[2] = buf[hl];
		out[3] = buf[hl + 1];
		for (p = hl + 2; p < total; n++) {
			size_t fl;

			if (p + 2 > total)
				return -EPROTO;
			fl = (size_t)buf[p] << 8 | buf[p + 1];
			p += 2 + fl;
			if (p + 1 > total || (buf[p] & 0xfc))
				return -EPROTO;
			if (o >= outsz || n > 125)
				return -EMSGSIZE;
			out[o++] = buf[p] & 3;
			p++;
		}
		out[0] = 0x90;
		out[1] = (uint8_t)(2 + n);
		*outlen = o;
		break;
	}
	case 10: /* UNSUBSCRIBE -> UNSUBACK */
		if (flags != 2 || rl < 2)
			return -EPROTO;
		out[0] = 0xb0; out[1] = 2; out[2] = buf[hl]; out[3] = buf[hl + 1];
		*outlen = 4;
		break;
	case 12: /* PINGREQ -> PINGRESP */
		out[0] = 0xd0; out[1] = 0;
		*outlen = 2;
		break;
	case 14: /* DISCONNECT */
		*kind = XS_MQTT_DISCONNECT;
		return (int)total;
	default: /* server-to-client types and reserved ones: ignored */
		break;
	}
	if (*outlen)
		*kind = XS_MQTT_ANSWERED;
	return (int)total;
}
