/* batch.c — agora_batch_encode / agora_batch_decode: one whole message of either codec,
 * for programs (the agora command among them) that handle raw wire bytes without
 * reaching into the codec's internal headers. Stalwart batches go through
 * agora_stalwart_encode / agora_stalwart_decode; agora messages through wire.c's
 * framing and native_event.c's events. */
#include "agora.h"
#include "codec/codec.h"
#include "codec/wire.h"
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The internal decoders write "byte N: what"; the public calls also return N. */
static size_t offset_of(const char *err, size_t fallback) {
    unsigned long long n;
    if (sscanf(err, "byte %llu:", &n) == 1) return (size_t)n;
    return fallback;
}

static int encode_agora(const agora_batch_header *h, const agora_event *events, size_t count,
                        uint8_t **out, size_t *out_len, char *err, size_t errlen) {
    if (h->first_seq == 0 || h->first_seq + count < h->first_seq) {
        snprintf(err, errlen, "first sequence %llu: must be at least 1 and leave room for "
                 "%zu events", (unsigned long long)h->first_seq, count);
        return AGORA_EINVAL;
    }
    ag_buf b;
    ag_buf_init(&b);
    ag_wire_put_events_header(&b, h->node, h->incarnation, h->first_seq, count);
    for (size_t i = 0; i < count; i++) {
        char e[256];
        int rc = ag_native_put_event(&b, &events[i], e, sizeof e);
        if (rc) {
            if (rc == AGORA_EUNSUPPORTED) snprintf(err, errlen, "%s", e);
            else snprintf(err, errlen, "event %zu: %s", i, e);
            ag_buf_free(&b);
            return rc;
        }
    }
    if (b.oom || !b.data) {
        ag_buf_free(&b);
        snprintf(err, errlen, "out of memory");
        return AGORA_ENOMEM;
    }
    *out = b.data;
    *out_len = b.len;
    return AGORA_OK;
}

int agora_batch_encode(agora_codec codec, const agora_batch_header *h,
                       const agora_event *events, size_t count, uint8_t **out,
                       size_t *out_len, char *err, size_t errlen) {
    char dummy[1];
    if (!err) err = dummy, errlen = sizeof dummy;
    if (out) *out = NULL;
    if (out_len) *out_len = 0;
    if (!h || !out || !out_len || (count && !events)) {
        snprintf(err, errlen, "invalid argument");
        return AGORA_EINVAL;
    }
    if (h->kind != AGORA_BATCH_EVENTS) {
        snprintf(err, errlen, "only event batches can be encoded (kind %d)", (int)h->kind);
        return AGORA_EINVAL;
    }
    switch (codec) {
    case AGORA_CODEC_STALWART:
        return agora_stalwart_encode(h->node, events, count, out, out_len, err, errlen);
    case AGORA_CODEC_AGORA:
        return encode_agora(h, events, count, out, out_len, err, errlen);
    }
    snprintf(err, errlen, "unknown codec %d", (int)codec);
    return AGORA_EINVAL;
}

/* The events of an agora EVENTS message, from wh->events_offset to the end. */
static int decode_agora_events(const uint8_t *data, size_t len, const ag_wire_header *wh,
                               agora_event **events, size_t *count, size_t *err_offset,
                               char *err, size_t errlen) {
    /* ag_wire_parse bounded the count by the input's size (two bytes per event). */
    agora_event *evs = wh->count ? calloc((size_t)wh->count, sizeof *evs) : NULL;
    if (wh->count && !evs) {
        snprintf(err, errlen, "byte %zu: out of memory", wh->events_offset);
        if (err_offset) *err_offset = wh->events_offset;
        return AGORA_ENOMEM;
    }
    size_t n = 0, pos = wh->events_offset;
    int rc = AGORA_OK;
    for (uint64_t i = 0; i < wh->count; i++) {
        bool known;
        size_t at = pos;
        rc = ag_native_get_event(data, len, &pos, &evs[n], &known, err, errlen);
        if (rc) {
            if (err_offset) *err_offset = offset_of(err, at);
            break;
        }
        if (!known) continue; /* a kind this version does not know */
        evs[n++].node = wh->origin;
    }
    if (rc == AGORA_OK && pos != len) {
        snprintf(err, errlen, "byte %zu: %zu unexpected bytes after the last event", pos,
                 len - pos);
        if (err_offset) *err_offset = pos;
        rc = AGORA_EDECODE;
    }
    if (n == 0) {
        free(evs);
        evs = NULL;
    }
    *events = evs;
    *count = n;
    return rc;
}

static int decode_agora(const uint8_t *data, size_t len, agora_batch_header *h,
                        agora_event **events, size_t *count, size_t *err_offset, char *err,
                        size_t errlen) {
    ag_wire_header *wh = malloc(sizeof *wh); /* large (gossip members): keep off the stack */
    if (!wh) {
        snprintf(err, errlen, "out of memory");
        return AGORA_ENOMEM;
    }
    if (ag_wire_parse(data, len, wh, err, errlen) != 0) {
        if (err_offset) *err_offset = offset_of(err, 0);
        free(wh);
        return AGORA_EDECODE;
    }
    h->node = wh->origin;
    h->incarnation = wh->incarnation;
    int rc = AGORA_OK;
    if (wh->kind == AG_WIRE_EVENTS) {
        h->kind = AGORA_BATCH_EVENTS;
        h->first_seq = wh->first_seq;
        rc = decode_agora_events(data, len, wh, events, count, err_offset, err, errlen);
    } else {
        /* No events: first_seq is the sequence the sender's next event will carry. */
        h->kind = wh->kind == AG_WIRE_HEARTBEAT ? AGORA_BATCH_HEARTBEAT : AGORA_BATCH_LEAVE;
        h->first_seq = wh->next_seq;
    }
    free(wh);
    return rc;
}

int agora_batch_decode(agora_codec codec, const uint8_t *data, size_t len,
                       agora_batch_header *h, agora_event **events, size_t *count,
                       size_t *err_offset, char *err, size_t errlen) {
    char dummy[1];
    if (!err) err = dummy, errlen = sizeof dummy;
    if (events) *events = NULL;
    if (count) *count = 0;
    if (h) memset(h, 0, sizeof *h);
    if ((!data && len) || !h || !events || !count) {
        snprintf(err, errlen, "invalid argument");
        return AGORA_EINVAL;
    }
    switch (codec) {
    case AGORA_CODEC_STALWART: {
        uint16_t node = 0;
        int rc = agora_stalwart_decode(data, len, &node, events, count, err_offset, err, errlen);
        h->kind = AGORA_BATCH_EVENTS;
        h->node = node;
        return rc;
    }
    case AGORA_CODEC_AGORA:
        return decode_agora(data ? data : (const uint8_t *)"", len, h, events, count,
                            err_offset, err, errlen);
    }
    snprintf(err, errlen, "unknown codec %d", (int)codec);
    return AGORA_EINVAL;
}
