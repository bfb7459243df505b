/* stalwart.c — Stalwart 0.16's batch format: each kind's tag and body, field by field
 * (sample batches with their JSON: tests/vectors/stalwart). */
#include "codec/codec_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    TAG_STATE_CHANGE = 0,
    TAG_CALENDAR_ALERT = 1,
    TAG_EMAIL_PUSH = 2,
    TAG_PUSH_SERVER_UPDATE = 3,
    TAG_REGISTRY_INSERT = 4,
    TAG_REGISTRY_DELETE = 5,
    TAG_REGISTRY_RELOAD = 6,
    TAG_CACHE_INVALIDATE = 7,
    TAG_CACHE_INVALIDATE_ALL = 8,
    TAG_CACHE_INVALIDATE_NEGATIVE = 9,
    TAG_QUEUE_RUNNING = 10,
    TAG_QUEUE_STOPPED = 11,
    TAG_QUEUE_REFRESH = 12,
};

/* ---- encoding ---------------------------------------------------------- */

/* len: the string's length when it may hold NULs (Stalwart writes them as they are),
 * 0 for up to its first NUL. */
static int put_string(ag_buf *b, const char *s, size_t len, const char *what, char *err,
                      size_t errlen) {
    size_t n = ag_text_len(s, len);
    if (n && ag_utf8_check((const uint8_t *)s, n) != n) {
        snprintf(err, errlen, "%s is not valid UTF-8", what);
        return AGORA_EINVAL;
    }
    ag_buf_put_str(b, s ? s : "", n);
    return AGORA_OK;
}

int ag_stalwart_put_body(ag_buf *b, const agora_event *ev, uint8_t *tag, char *err,
                         size_t errlen) {
    int rc;
    switch (ev->type) {
    case AGORA_EV_STATE_CHANGE:
        /* bits of data types a later Stalwart added go out as they came in */
        *tag = TAG_STATE_CHANGE;
        ag_buf_put_uvarint(b, ev->u.state_change.change_id);
        ag_buf_put_uvarint(b, ev->u.state_change.types);
        ag_buf_put_uvarint(b, ev->u.state_change.account_id);
        return AGORA_OK;
    case AGORA_EV_CALENDAR_ALERT:
        *tag = TAG_CALENDAR_ALERT;
        ag_buf_put_uvarint(b, ev->u.calendar_alert.account_id);
        ag_buf_put_uvarint(b, ev->u.calendar_alert.event_id);
        ag_buf_put_uvarint(b, (uint64_t)ev->u.calendar_alert.recurrence_id);
        rc = put_string(b, ev->u.calendar_alert.uid, ev->u.calendar_alert.uid_len,
                        "CalendarAlert uid", err, errlen);
        if (rc) return rc;
        return put_string(b, ev->u.calendar_alert.alert_id, ev->u.calendar_alert.alert_id_len,
                          "CalendarAlert alertId", err, errlen);
    case AGORA_EV_EMAIL_PUSH:
        *tag = TAG_EMAIL_PUSH;
        ag_buf_put_uvarint(b, ev->u.email_push.account_id);
        ag_buf_put_uvarint(b, ev->u.email_push.email_id);
        ag_buf_put_uvarint(b, ev->u.email_push.change_id);
        return AGORA_OK;
    case AGORA_EV_PUSH_SERVER_UPDATE:
        *tag = TAG_PUSH_SERVER_UPDATE;
        ag_buf_put_uvarint(b, ev->u.push_server_update.account_id);
        return AGORA_OK;
    case AGORA_EV_REGISTRY_INSERT:
    case AGORA_EV_REGISTRY_DELETE:
    case AGORA_EV_REGISTRY_RELOAD:
        if (ev->u.registry.object >= AGORA_OBJ_COUNT) {
            snprintf(err, errlen, "%s: unknown object type id %u",
                     agora_event_type_name(ev->type), (unsigned)ev->u.registry.object);
            return AGORA_EINVAL;
        }
        *tag = ev->type == AGORA_EV_REGISTRY_INSERT   ? TAG_REGISTRY_INSERT
               : ev->type == AGORA_EV_REGISTRY_DELETE ? TAG_REGISTRY_DELETE
                                                      : TAG_REGISTRY_RELOAD;
        ag_buf_put_uvarint(b, ev->u.registry.object);
        if (ev->type != AGORA_EV_REGISTRY_RELOAD) ag_buf_put_uvarint(b, ev->u.registry.id);
        return AGORA_OK;
    case AGORA_EV_CACHE_INVALIDATE: {
        size_t n = ev->u.cache_invalidate.count;
        const agora_cache_item *it = ev->u.cache_invalidate.items;
        if (n && !it) {
            snprintf(err, errlen, "CacheInvalidate: %zu items but no item array", n);
            return AGORA_EINVAL;
        }
        for (size_t i = 0; i < n; i++)
            if (it[i].kind >= AGORA_CACHE_KIND_COUNT) {
                snprintf(err, errlen, "CacheInvalidate item %zu: unknown cache kind %u", i,
                         (unsigned)it[i].kind);
                return AGORA_EINVAL;
            }
        *tag = TAG_CACHE_INVALIDATE;
        ag_buf_put_uvarint(b, n);
        for (size_t i = 0; i < n; i++) {
            ag_buf_put_u8(b, it[i].kind);
            ag_buf_put_uvarint(b, it[i].kind == AGORA_CACHE_DOMAIN_NEGATIVE ? 0 : it[i].id);
            if (it[i].kind == AGORA_CACHE_EMAIL_NEGATIVE)
                ag_buf_put_uvarint(b, it[i].local_part_hash);
        }
        return AGORA_OK;
    }
    case AGORA_EV_CACHE_INVALIDATE_ALL:
        *tag = TAG_CACHE_INVALIDATE_ALL;
        return AGORA_OK;
    case AGORA_EV_CACHE_INVALIDATE_NEGATIVE:
        *tag = TAG_CACHE_INVALIDATE_NEGATIVE;
        return AGORA_OK;
    case AGORA_EV_MTA_QUEUE_STATUS:
        *tag = ev->u.mta_queue_status.running ? TAG_QUEUE_RUNNING : TAG_QUEUE_STOPPED;
        return AGORA_OK;
    case AGORA_EV_QUEUE_REFRESH:
        *tag = TAG_QUEUE_REFRESH;
        return AGORA_OK;
    default: {
        const char *name = agora_event_type_name(ev->type);
        if (!name) {
            snprintf(err, errlen, "unknown event type %d", (int)ev->type);
            return AGORA_EINVAL;
        }
        snprintf(err, errlen, "%s cannot be sent with the stalwart codec: Stalwart does not "
                 "know this event", name);
        return AGORA_EUNSUPPORTED;
    }
    }
}

int ag_stalwart_put_event(ag_buf *b, const agora_event *ev, char *err, size_t errlen) {
    if (!b || !ev) return AGORA_EINVAL;
    /* The body goes after the tag byte, which is only known once the body is valid. */
    size_t start = b->len;
    ag_buf_put_u8(b, 0);
    uint8_t tag = 0;
    int rc = ag_stalwart_put_body(b, ev, &tag, err, errlen);
    if (rc) {
        if (!b->oom) ag_buf_set_len(b, start);
        return rc;
    }
    if (b->oom) {
        snprintf(err, errlen, "out of memory");
        return AGORA_ENOMEM;
    }
    b->data[start] = tag;
    return AGORA_OK;
}

/* ---- decoding ---------------------------------------------------------- */

static int get_u16(ag_rd *r, const char *what, uint16_t *out) {
    uint64_t v;
    int rc = ag_rd_uv(r, UINT16_MAX, what, &v);
    if (!rc) *out = (uint16_t)v;
    return rc;
}

static int get_u32(ag_rd *r, const char *what, uint32_t *out) {
    uint64_t v;
    int rc = ag_rd_uv(r, UINT32_MAX, what, &v);
    if (!rc) *out = (uint32_t)v;
    return rc;
}

static int get_object(ag_rd *r, const char *what, uint16_t *out) {
    size_t at = r->pos;
    int rc = get_u16(r, what, out);
    if (rc) return rc;
    if (*out >= AGORA_OBJ_COUNT)
        return ag_rd_fail(r, at, "%s: unknown object type id %u", what, (unsigned)*out);
    return AGORA_OK;
}

static int get_cache_items(ag_rd *r, agora_event *ev) {
    size_t at = r->pos;
    uint64_t n;
    int rc = ag_rd_uv(r, UINT64_MAX, "CacheInvalidate count", &n);
    if (rc) return rc;
    /* Every item takes at least two bytes (marker, id): a count the rest of the input
     * cannot hold is rejected before anything is allocated. */
    size_t left = r->len - r->pos;
    if (n > left / 2)
        return ag_rd_fail(r, at, "CacheInvalidate count: %llu items cannot fit in the %zu "
                          "bytes left", (unsigned long long)n, left);
    if (n == 0) return AGORA_OK;
    agora_cache_item *items = calloc((size_t)n, sizeof *items);
    if (!items) {
        ag_rd_fail(r, at, "CacheInvalidate: out of memory");
        return AGORA_ENOMEM;
    }
    ev->u.cache_invalidate.items = items;
    ev->u.cache_invalidate.count = (size_t)n;
    char what[64];
    for (size_t i = 0; i < n; i++) {
        size_t mat = r->pos;
        uint8_t m;
        snprintf(what, sizeof what, "CacheInvalidate item %zu marker", i);
        if ((rc = ag_rd_u8(r, what, &m))) return rc;
        if (m >= AGORA_CACHE_KIND_COUNT)
            return ag_rd_fail(r, mat, "CacheInvalidate item %zu: unknown cache marker %u", i,
                              (unsigned)m);
        items[i].kind = m;
        size_t iat = r->pos;
        snprintf(what, sizeof what, "CacheInvalidate item %zu id", i);
        if ((rc = get_u32(r, what, &items[i].id))) return rc;
        if (m == AGORA_CACHE_DOMAIN_NEGATIVE && items[i].id != 0)
            return ag_rd_fail(r, iat, "CacheInvalidate item %zu: DomainNegative must have id 0",
                              i);
        if (m == AGORA_CACHE_EMAIL_NEGATIVE) {
            snprintf(what, sizeof what, "CacheInvalidate item %zu localPartHash", i);
            if ((rc = get_u32(r, what, &items[i].local_part_hash))) return rc;
        }
    }
    return AGORA_OK;
}

static int get_body(ag_rd *r, uint8_t tag, agora_event *ev) {
    int rc = AGORA_OK;
    uint64_t v;
    switch (tag) {
    case TAG_STATE_CHANGE: {
        ev->type = AGORA_EV_STATE_CHANGE;
        if ((rc = ag_rd_uv(r, UINT64_MAX, "StateChange changeId", &ev->u.state_change.change_id)))
            return rc;
        /* Bits of data types a later Stalwart added are kept, not refused: one new data
         * type must not blind every reader of the bus. */
        if ((rc = ag_rd_uv(r, UINT64_MAX, "StateChange types", &ev->u.state_change.types)))
            return rc;
        return get_u32(r, "StateChange accountId", &ev->u.state_change.account_id);
    }
    case TAG_CALENDAR_ALERT:
        ev->type = AGORA_EV_CALENDAR_ALERT;
        if ((rc = get_u32(r, "CalendarAlert accountId", &ev->u.calendar_alert.account_id)) ||
            (rc = get_u32(r, "CalendarAlert eventId", &ev->u.calendar_alert.event_id)) ||
            (rc = ag_rd_uv(r, UINT64_MAX, "CalendarAlert recurrenceId", &v)))
            return rc;
        ev->u.calendar_alert.recurrence_id = (int64_t)v; /* two's complement */
        if ((rc = ag_rd_str_nul(r, "CalendarAlert uid", &ev->u.calendar_alert.uid,
                                &ev->u.calendar_alert.uid_len)))
            return rc;
        return ag_rd_str_nul(r, "CalendarAlert alertId", &ev->u.calendar_alert.alert_id,
                             &ev->u.calendar_alert.alert_id_len);
    case TAG_EMAIL_PUSH:
        ev->type = AGORA_EV_EMAIL_PUSH;
        if ((rc = get_u32(r, "EmailPush accountId", &ev->u.email_push.account_id)) ||
            (rc = get_u32(r, "EmailPush emailId", &ev->u.email_push.email_id)))
            return rc;
        return ag_rd_uv(r, UINT64_MAX, "EmailPush changeId", &ev->u.email_push.change_id);
    case TAG_PUSH_SERVER_UPDATE:
        ev->type = AGORA_EV_PUSH_SERVER_UPDATE;
        return get_u32(r, "PushServerUpdate accountId", &ev->u.push_server_update.account_id);
    case TAG_REGISTRY_INSERT:
        ev->type = AGORA_EV_REGISTRY_INSERT;
        if ((rc = get_object(r, "RegistryInsert object", &ev->u.registry.object))) return rc;
        return ag_rd_uv(r, UINT64_MAX, "RegistryInsert id", &ev->u.registry.id);
    case TAG_REGISTRY_DELETE:
        ev->type = AGORA_EV_REGISTRY_DELETE;
        if ((rc = get_object(r, "RegistryDelete object", &ev->u.registry.object))) return rc;
        return ag_rd_uv(r, UINT64_MAX, "RegistryDelete id", &ev->u.registry.id);
    case TAG_REGISTRY_RELOAD:
        ev->type = AGORA_EV_REGISTRY_RELOAD;
        return get_object(r, "RegistryReload object", &ev->u.registry.object);
    case TAG_CACHE_INVALIDATE:
        ev->type = AGORA_EV_CACHE_INVALIDATE;
        return get_cache_items(r, ev);
    case TAG_CACHE_INVALIDATE_ALL:
        ev->type = AGORA_EV_CACHE_INVALIDATE_ALL;
        return AGORA_OK;
    case TAG_CACHE_INVALIDATE_NEGATIVE:
        ev->type = AGORA_EV_CACHE_INVALIDATE_NEGATIVE;
        return AGORA_OK;
    case TAG_QUEUE_RUNNING:
    case TAG_QUEUE_STOPPED:
        ev->type = AGORA_EV_MTA_QUEUE_STATUS;
        ev->u.mta_queue_status.running = tag == TAG_QUEUE_RUNNING;
        return AGORA_OK;
    case TAG_QUEUE_REFRESH:
        ev->type = AGORA_EV_QUEUE_REFRESH;
        return AGORA_OK;
    default:
        return ag_rd_fail(r, r->pos ? r->pos - 1 : 0, "unknown event tag %u", (unsigned)tag);
    }
}

int ag_stalwart_get_body(ag_rd *r, uint8_t tag, agora_event *ev) {
    memset(ev, 0, sizeof *ev);
    int rc = get_body(r, tag, ev);
    if (rc) agora_event_clear(ev);
    return rc;
}

int ag_stalwart_get_event(const uint8_t *data, size_t len, size_t *pos, agora_event *ev,
                          size_t *err_offset, char *err, size_t errlen) {
    ag_rd r = {.d = data, .len = len, .pos = *pos, .err = err, .errlen = errlen};
    uint8_t tag;
    int rc = ag_rd_u8(&r, "event tag", &tag);
    if (!rc) {
        if (tag > TAG_QUEUE_REFRESH) {
            memset(ev, 0, sizeof *ev);
            rc = ag_rd_fail(&r, r.pos - 1, "unknown event tag %u", (unsigned)tag);
        } else {
            rc = ag_stalwart_get_body(&r, tag, ev);
        }
    }
    if (rc) {
        if (err_offset) *err_offset = r.err_off;
        return rc;
    }
    *pos = r.pos;
    return AGORA_OK;
}

/* ---- batches ------------------------------------------------------------ */

int agora_stalwart_encode(uint16_t node_id, const agora_event *events, size_t count,
                          uint8_t **out, size_t *out_len, char *err, size_t errlen) {
    char dummy[1];
    if (!err) err = dummy, errlen = sizeof dummy;
    if (!out || !out_len || (count && !events)) {
        snprintf(err, errlen, "invalid argument");
        return AGORA_EINVAL;
    }
    *out = NULL;
    *out_len = 0;
    if (count > AGORA_STALWART_MAX_EVENTS) {
        snprintf(err, errlen, "a Stalwart batch holds at most %d events, got %zu",
                 AGORA_STALWART_MAX_EVENTS, count);
        return AGORA_EINVAL;
    }
    ag_buf b;
    ag_buf_init(&b);
    ag_buf_put_uvarint(&b, node_id);
    for (size_t i = 0; i < count; i++) {
        char e[256];
        int rc = ag_stalwart_put_event(&b, &events[i], e, sizeof e);
        if (rc) {
            if (rc == AGORA_EUNSUPPORTED) snprintf(err, errlen, "%s", e);
            else snprintf(err, errlen, "event %zu: %s", i, e);
            ag_buf_free(&b);
            return rc;
        }
    }
    if (b.oom) {
        ag_buf_free(&b);
        snprintf(err, errlen, "out of memory");
        return AGORA_ENOMEM;
    }
    if (!b.data) { /* cannot happen (node id is at least one byte), but stay safe */
        ag_buf_free(&b);
        return AGORA_ENOMEM;
    }
    *out = b.data;
    *out_len = b.len;
    return AGORA_OK;
}

int agora_stalwart_decode(const uint8_t *data, size_t len, uint16_t *node_id,
                          agora_event **events, size_t *count, size_t *err_offset,
                          char *err, size_t errlen) {
    char dummy[1];
    if (!err) err = dummy, errlen = sizeof dummy;
    if (events) *events = NULL;
    if (count) *count = 0;
    if (node_id) *node_id = 0;
    if ((!data && len) || !events || !count) {
        snprintf(err, errlen, "invalid argument");
        return AGORA_EINVAL;
    }
    ag_rd r = {.d = data, .len = len, .err = err, .errlen = errlen};
    uint64_t node;
    int rc;
    if (len == 0) {
        rc = ag_rd_fail(&r, 0, "empty input: a batch starts with the sender's node id");
    } else {
        rc = ag_rd_uv(&r, UINT16_MAX, "node id", &node);
    }
    if (rc) {
        if (err_offset) *err_offset = r.err_off;
        return rc;
    }
    if (node_id) *node_id = (uint16_t)node;
    agora_event *evs = NULL;
    size_t n = 0, cap = 0;
    while (r.pos < len) {
        if (n == cap) {
            /* Each event takes at least one byte, so the array never outgrows the input. */
            size_t left = len - r.pos;
            size_t ncap = cap ? cap * 2 : 8;
            if (ncap > n + left) ncap = n + left;
            agora_event *ne = realloc(evs, ncap * sizeof *ne);
            if (!ne) {
                rc = AGORA_ENOMEM;
                r.err_off = r.pos;
                snprintf(err, errlen, "byte %zu: out of memory", r.pos);
                break;
            }
            evs = ne;
            cap = ncap;
        }
        uint8_t tag = data[r.pos++];
        if (tag > TAG_QUEUE_REFRESH) {
            rc = ag_rd_fail(&r, r.pos - 1, "unknown event tag %u", (unsigned)tag);
            break;
        }
        rc = ag_stalwart_get_body(&r, tag, &evs[n]);
        if (rc) break;
        evs[n].node = (uint16_t)node;
        n++;
    }
    if (rc && err_offset) *err_offset = r.err_off;
    if (n == 0) {
        free(evs);
        evs = NULL;
    }
    *events = evs;
    *count = n;
    return rc;
}
