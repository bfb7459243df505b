/* event_json.c — the JSON form of an event (one line, as `agora decode` prints it) and
 * its reader. Key order: node, type, then the fields in the spec's order. */
#include "codec/codec_internal.h"
#include "util/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- times: "YYYY-MM-DDTHH:MM:SSZ" (UTC) --------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Times in years 0000..9999 print as RFC 3339 strings; anything else (which no real
 * certificate or block has) as plain integer seconds, so that every value survives. */
static void put_time(ag_buf *b, int64_t t) {
    int64_t days = t / 86400, secs = t % 86400;
    if (secs < 0) secs += 86400, days--;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        ag_json_put_i64(b, t);
        return;
    }
    ag_buf_printf(b, "\"%04d-%02u-%02uT%02d:%02d:%02dZ\"", (int)y, m, d, (int)(secs / 3600),
                  (int)(secs / 60 % 60), (int)(secs % 60));
}

static int num(const char *s, int n) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static bool parse_time(const char *s, size_t len, int64_t *out) {
    if (len != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != 'Z')
        return false;
    int y = num(s, 4), mo = num(s + 5, 2), d = num(s + 8, 2), h = num(s + 11, 2),
        mi = num(s + 14, 2), se = num(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        se < 0 || se > 59)
        return false;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d > mdays[mo - 1] + (mo == 2 && leap)) return false;
    *out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
    return true;
}

/* ---- base64 (standard alphabet, padded) ---------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void put_base64(ag_buf *b, const uint8_t *d, size_t n) {
    ag_buf_put(b, "\"", 1);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16;
        if (i + 1 < n) v |= (uint32_t)d[i + 1] << 8;
        if (i + 2 < n) v |= d[i + 2];
        char q[4] = {b64[v >> 18], b64[(v >> 12) & 63], i + 1 < n ? b64[(v >> 6) & 63] : '=',
                     i + 2 < n ? b64[v & 63] : '='};
        ag_buf_put(b, q, 4);
    }
    ag_buf_put(b, "\"", 1);
}

static int b64val(char c) {
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

/* Strict: length a multiple of 4, padding only at the end, unused bits zero. */
static bool parse_base64(const char *s, size_t n, const uint8_t **out, size_t *out_len) {
    *out = NULL;
    *out_len = 0;
    if (n % 4) return false;
    if (n == 0) return true;
    size_t pad = s[n - 1] == '=' ? (s[n - 2] == '=' ? 2 : 1) : 0;
    uint8_t *d = malloc(n / 4 * 3);
    if (!d) return false;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        bool last = i + 4 == n;
        for (int k = 0; k < 4; k++) {
            if (last && k >= 4 - (int)pad) v[k] = 0;
            else if ((v[k] = b64val(s[i + k])) < 0) goto bad;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        d[o++] = (uint8_t)(w >> 16);
        if (!(last && pad == 2)) d[o++] = (uint8_t)(w >> 8);
        else if (w & 0xFFFF) goto bad;
        if (!(last && pad >= 1)) d[o++] = (uint8_t)w;
        else if (w & 0xFF) goto bad;
    }
    if (o == 0) {
        free(d);
        d = NULL;
    }
    *out = d;
    *out_len = o;
    return true;
bad:
    free(d);
    return false;
}

/* ---- writer ------------------------------------------------------------- */

static void put_key(ag_buf *b, const char *k) {
    ag_buf_put(b, ",\"", 2);
    ag_buf_puts(b, k);
    ag_buf_put(b, "\":", 2);
}

static void put_str_or_null(ag_buf *b, const char *s) {
    if (s) ag_json_put_string(b, s, strlen(s));
    else ag_buf_puts(b, "null");
}

/* A string that may hold NULs (len 0: up to its first NUL); NULL prints as "". */
static void put_text(ag_buf *b, const char *s, size_t len) {
    ag_json_put_string(b, s ? s : "", ag_text_len(s, len));
}

#define KNOWN_TYPES ((UINT64_C(1) << AGORA_DT_COUNT) - 1)

static void put_u(ag_buf *b, const char *k, uint64_t v) {
    put_key(b, k);
    ag_json_put_u64(b, v);
}

static void put_object(ag_buf *b, uint16_t object) {
    put_key(b, "object");
    const char *n = agora_object_type_name(object);
    if (n) ag_json_put_string(b, n, strlen(n));
    else ag_json_put_u64(b, object);
}

static void put_fields(ag_buf *b, const agora_event *ev) {
    char tmp[72]; /* 64 hex digits + NUL, or an address with its prefix */
    switch (ev->type) {
    case AGORA_EV_STATE_CHANGE:
        put_u(b, "accountId", ev->u.state_change.account_id);
        put_u(b, "changeId", ev->u.state_change.change_id);
        put_key(b, "types");
        ag_buf_put(b, "[", 1);
        for (int i = 0, first = 1; i < AGORA_DT_COUNT; i++) {
            if (!(ev->u.state_change.types >> i & 1)) continue;
            if (!first) ag_buf_put(b, ",", 1);
            first = 0;
            const char *n = agora_data_type_name(i);
            ag_json_put_string(b, n, strlen(n));
        }
        ag_buf_put(b, "]", 1);
        /* data types of a later Stalwart, kept as a number so they survive a round trip */
        if (ev->u.state_change.types & ~KNOWN_TYPES)
            put_u(b, "unknownTypeBits", ev->u.state_change.types & ~KNOWN_TYPES);
        break;
    case AGORA_EV_CALENDAR_ALERT:
        put_u(b, "accountId", ev->u.calendar_alert.account_id);
        put_u(b, "eventId", ev->u.calendar_alert.event_id);
        put_key(b, "recurrenceId");
        if (ev->u.calendar_alert.recurrence_id) ag_json_put_i64(b, ev->u.calendar_alert.recurrence_id);
        else ag_buf_puts(b, "null");
        put_key(b, "uid");
        put_text(b, ev->u.calendar_alert.uid, ev->u.calendar_alert.uid_len);
        put_key(b, "alertId");
        put_text(b, ev->u.calendar_alert.alert_id, ev->u.calendar_alert.alert_id_len);
        break;
    case AGORA_EV_EMAIL_PUSH:
        put_u(b, "accountId", ev->u.email_push.account_id);
        put_u(b, "emailId", ev->u.email_push.email_id);
        put_u(b, "changeId", ev->u.email_push.change_id);
        break;
    case AGORA_EV_PUSH_SERVER_UPDATE:
        put_u(b, "accountId", ev->u.push_server_update.account_id);
        break;
    case AGORA_EV_REGISTRY_INSERT:
    case AGORA_EV_REGISTRY_DELETE:
        put_object(b, ev->u.registry.object);
        put_u(b, "id", ev->u.registry.id);
        break;
    case AGORA_EV_REGISTRY_RELOAD:
        put_object(b, ev->u.registry.object);
        break;
    case AGORA_EV_CACHE_INVALIDATE:
        put_key(b, "items");
        ag_buf_put(b, "[", 1);
        for (size_t i = 0; ev->u.cache_invalidate.items && i < ev->u.cache_invalidate.count; i++) {
            const agora_cache_item *it = &ev->u.cache_invalidate.items[i];
            if (i) ag_buf_put(b, ",", 1);
            ag_buf_puts(b, "{\"kind\":");
            const char *n = agora_cache_kind_name(it->kind);
            if (n) ag_json_put_string(b, n, strlen(n));
            else ag_json_put_u64(b, it->kind);
            if (it->kind == AGORA_CACHE_EMAIL_NEGATIVE) {
                put_u(b, "domainId", it->id);
                put_u(b, "localPartHash", it->local_part_hash);
            } else if (it->kind != AGORA_CACHE_DOMAIN_NEGATIVE) {
                put_u(b, "id", it->id);
            }
            ag_buf_put(b, "}", 1);
        }
        ag_buf_put(b, "]", 1);
        break;
    case AGORA_EV_MTA_QUEUE_STATUS:
        put_key(b, "running");
        ag_buf_puts(b, ev->u.mta_queue_status.running ? "true" : "false");
        break;
    case AGORA_EV_BLOCK_IP:
    case AGORA_EV_UNBLOCK_IP:
        put_key(b, "address");
        if (agora_ip_prefix_format(&ev->u.block_ip.address, tmp, sizeof tmp) == AGORA_OK)
            ag_json_put_string(b, tmp, strlen(tmp));
        else
            ag_buf_puts(b, "null");
        put_key(b, "expires");
        if (ev->u.block_ip.expires) put_time(b, ev->u.block_ip.expires);
        else ag_buf_puts(b, "null");
        put_key(b, "reason");
        put_str_or_null(b, ev->u.block_ip.reason && ev->u.block_ip.reason[0]
                               ? ev->u.block_ip.reason : NULL);
        break;
    case AGORA_EV_CERTIFICATE_UPDATE:
        put_key(b, "domains");
        ag_buf_put(b, "[", 1);
        for (size_t i = 0; ev->u.certificate_update.domains &&
                           i < ev->u.certificate_update.domain_count; i++) {
            if (i) ag_buf_put(b, ",", 1);
            put_str_or_null(b, ev->u.certificate_update.domains[i]
                                   ? ev->u.certificate_update.domains[i] : "");
        }
        ag_buf_put(b, "]", 1);
        put_key(b, "notAfter");
        put_time(b, ev->u.certificate_update.not_after);
        put_key(b, "sha256");
        for (int i = 0; i < 32; i++)
            snprintf(tmp + 2 * i, 3, "%02x", ev->u.certificate_update.sha256[i]);
        ag_json_put_string(b, tmp, 64);
        put_key(b, "chain");
        put_str_or_null(b, ev->u.certificate_update.chain_pem ? ev->u.certificate_update.chain_pem : "");
        break;
    case AGORA_EV_CUSTOM:
        put_key(b, "name");
        put_str_or_null(b, ev->u.custom.name ? ev->u.custom.name : "");
        put_key(b, "data");
        put_base64(b, ev->u.custom.data, ev->u.custom.data ? ev->u.custom.len : 0);
        break;
    case AGORA_EV_GAP:
        put_u(b, "missed", ev->u.gap.missed);
        break;
    case AGORA_EV_MEMBER_JOINED:
    case AGORA_EV_MEMBER_LEFT:
    case AGORA_EV_MEMBER_FAILED:
        put_key(b, "address");
        put_str_or_null(b, ev->u.member.address);
        put_u(b, "incarnation", ev->u.member.incarnation);
        break;
    default:
        break;
    }
}

char *agora_event_to_json(const agora_event *ev) {
    if (!ev) return NULL;
    ag_buf b;
    ag_buf_init(&b);
    ag_buf_puts(&b, "{\"node\":");
    ag_json_put_u64(&b, ev->node);
    put_key(&b, "type");
    const char *t = agora_event_type_name(ev->type);
    if (t) ag_json_put_string(&b, t, strlen(t));
    else ag_buf_puts(&b, "null");
    put_fields(&b, ev);
    ag_buf_put(&b, "}", 1);
    return ag_buf_take(&b);
}

/* ---- reader ------------------------------------------------------------- */

typedef struct jrd {
    char *err;
    size_t errlen;
} jrd;

static int jfail(jrd *j, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int jfail(jrd *j, const char *key, const char *fmt, ...) {
    if (j->err && j->errlen) {
        int n = snprintf(j->err, j->errlen, "%s: ", key);
        if (n >= 0 && (size_t)n < j->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(j->err + n, j->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return AGORA_EJSON;
}

/* A member that must be there (NULL + error) or may be absent/null (NULL, no error). */
static const ag_json *member(jrd *j, const ag_json *o, const char *key, bool required,
                             int *rc) {
    const ag_json *v = ag_json_get(o, key);
    if (v && v->type == AG_JSON_NULL && !required) v = NULL;
    *rc = AGORA_OK;
    if (!v && required) *rc = jfail(j, key, "missing");
    return v;
}

static int get_uint(jrd *j, const ag_json *v, const char *key, uint64_t max, uint64_t *out) {
    if (!v || v->type != AG_JSON_NUMBER || !v->is_integer || !v->fits_u64 || v->u64 > max)
        return jfail(j, key, "expected an integer from 0 to %llu", (unsigned long long)max);
    *out = v->u64;
    return AGORA_OK;
}

static int req_uint(jrd *j, const ag_json *o, const char *key, uint64_t max, uint64_t *out) {
    int rc;
    const ag_json *v = member(j, o, key, true, &rc);
    return rc ? rc : get_uint(j, v, key, max, out);
}

static int req_u32(jrd *j, const ag_json *o, const char *key, uint32_t *out) {
    uint64_t v = 0;
    int rc = req_uint(j, o, key, UINT32_MAX, &v);
    if (!rc) *out = (uint32_t)v;
    return rc;
}

/* A string without NUL characters, copied (malloc'ed; the event owns it). */
static int str_value(jrd *j, const ag_json *v, const char *key, const char **out) {
    if (!v || v->type != AG_JSON_STRING) return jfail(j, key, "expected a string");
    if (memchr(v->str, 0, v->str_len)) return jfail(j, key, "must not contain a NUL character");
    char *s = malloc(v->str_len + 1);
    if (!s) return jfail(j, key, "out of memory");
    memcpy(s, v->str, v->str_len);
    s[v->str_len] = 0;
    *out = s;
    return AGORA_OK;
}

static int req_str(jrd *j, const ag_json *o, const char *key, const char **out) {
    int rc;
    const ag_json *v = member(j, o, key, true, &rc);
    return rc ? rc : str_value(j, v, key, out);
}

/* A required string that may hold NUL characters ("\u0000"): *nul_len is its length
 * when it does, else 0 (agora_event's calendar_alert.uid_len rule). */
static int req_text(jrd *j, const ag_json *o, const char *key, const char **out,
                    size_t *nul_len) {
    int rc;
    const ag_json *v = member(j, o, key, true, &rc);
    if (rc) return rc;
    if (v->type != AG_JSON_STRING) return jfail(j, key, "expected a string");
    char *s = malloc(v->str_len + 1);
    if (!s) return jfail(j, key, "out of memory");
    memcpy(s, v->str, v->str_len);
    s[v->str_len] = 0;
    *out = s;
    *nul_len = memchr(s, 0, v->str_len) ? v->str_len : 0;
    return AGORA_OK;
}

static int time_value(jrd *j, const ag_json *v, const char *key, int64_t *out) {
    if (v && v->type == AG_JSON_STRING && parse_time(v->str, v->str_len, out)) return AGORA_OK;
    if (v && v->type == AG_JSON_NUMBER && v->is_integer && v->fits_i64) {
        *out = v->i64;
        return AGORA_OK;
    }
    return jfail(j, key, "expected a UTC time such as \"2026-12-01T00:00:00Z\"");
}

static int get_object_type(jrd *j, const ag_json *o, uint16_t *out) {
    int rc;
    const ag_json *v = member(j, o, "object", true, &rc);
    if (rc) return rc;
    if (v->type != AG_JSON_STRING) return jfail(j, "object", "expected an object type name such as \"BlockedIp\"");
    int id = agora_object_type_from_name(v->str);
    if (id < 0 || strlen(v->str) != v->str_len)
        return jfail(j, "object", "unknown object type \"%s\"", v->str);
    *out = (uint16_t)id;
    return AGORA_OK;
}

static int get_items(jrd *j, const ag_json *o, agora_event *ev) {
    int rc;
    const ag_json *a = member(j, o, "items", true, &rc);
    if (rc) return rc;
    if (a->type != AG_JSON_ARRAY) return jfail(j, "items", "expected an array");
    if (!a->count) return AGORA_OK;
    agora_cache_item *items = calloc(a->count, sizeof *items);
    if (!items) return jfail(j, "items", "out of memory");
    ev->u.cache_invalidate.items = items;
    ev->u.cache_invalidate.count = a->count;
    char key[64];
    for (size_t i = 0; i < a->count; i++) {
        const ag_json *it = a->items[i];
        snprintf(key, sizeof key, "items[%zu]", i);
        if (it->type != AG_JSON_OBJECT) return jfail(j, key, "expected an object");
        snprintf(key, sizeof key, "items[%zu].kind", i);
        const ag_json *k = ag_json_get(it, "kind");
        if (!k) return jfail(j, key, "missing");
        if (k->type != AG_JSON_STRING) return jfail(j, key, "expected a cache kind name such as \"Account\"");
        int kind = agora_cache_kind_from_name(k->str);
        if (kind < 0 || strlen(k->str) != k->str_len)
            return jfail(j, key, "unknown cache kind \"%s\"", k->str);
        items[i].kind = (uint8_t)kind;
        uint64_t v = 0;
        if (kind == AGORA_CACHE_EMAIL_NEGATIVE) {
            snprintf(key, sizeof key, "items[%zu].domainId", i);
            const ag_json *d = ag_json_get(it, "domainId");
            if (!d) return jfail(j, key, "missing");
            if ((rc = get_uint(j, d, key, UINT32_MAX, &v))) return rc;
            items[i].id = (uint32_t)v;
            snprintf(key, sizeof key, "items[%zu].localPartHash", i);
            d = ag_json_get(it, "localPartHash");
            if (!d) return jfail(j, key, "missing");
            if ((rc = get_uint(j, d, key, UINT32_MAX, &v))) return rc;
            items[i].local_part_hash = (uint32_t)v;
        } else if (kind != AGORA_CACHE_DOMAIN_NEGATIVE) {
            snprintf(key, sizeof key, "items[%zu].id", i);
            const ag_json *d = ag_json_get(it, "id");
            if (!d) return jfail(j, key, "missing");
            if ((rc = get_uint(j, d, key, UINT32_MAX, &v))) return rc;
            items[i].id = (uint32_t)v;
        }
    }
    return AGORA_OK;
}

static int get_types(jrd *j, const ag_json *o, uint64_t *out) {
    int rc;
    const ag_json *a = member(j, o, "types", true, &rc);
    if (rc) return rc;
    if (a->type != AG_JSON_ARRAY) return jfail(j, "types", "expected an array of data type names");
    uint64_t bits = 0;
    char key[48];
    for (size_t i = 0; i < a->count; i++) {
        const ag_json *s = a->items[i];
        snprintf(key, sizeof key, "types[%zu]", i);
        if (s->type != AG_JSON_STRING) return jfail(j, key, "expected a data type name such as \"Email\"");
        int id = agora_data_type_from_name(s->str);
        if (id < 0 || strlen(s->str) != s->str_len)
            return jfail(j, key, "unknown data type \"%s\"", s->str);
        bits |= UINT64_C(1) << id;
    }
    /* data types of a later Stalwart, as agora_event_to_json writes them */
    uint64_t unknown = 0;
    const ag_json *u = member(j, o, "unknownTypeBits", false, &rc);
    if (u && ((rc = get_uint(j, u, "unknownTypeBits", UINT64_MAX, &unknown)))) return rc;
    if (unknown & KNOWN_TYPES)
        return jfail(j, "unknownTypeBits", "bits below %d are known data types: name them in "
                     "\"types\"", AGORA_DT_COUNT);
    *out = bits | unknown;
    return AGORA_OK;
}

static int get_block_ip(jrd *j, const ag_json *o, agora_event *ev) {
    int rc;
    const ag_json *v = member(j, o, "address", true, &rc);
    if (rc) return rc;
    if (v->type != AG_JSON_STRING || strlen(v->str) != v->str_len ||
        agora_ip_prefix_parse(v->str, &ev->u.block_ip.address) != AGORA_OK)
        return jfail(j, "address", "expected an IP address or prefix such as \"203.0.113.7/32\"");
    v = member(j, o, "expires", false, &rc);
    if (v && (rc = time_value(j, v, "expires", &ev->u.block_ip.expires))) return rc;
    v = member(j, o, "reason", false, &rc);
    if (v) {
        if ((rc = str_value(j, v, "reason", &ev->u.block_ip.reason))) return rc;
        if (!ev->u.block_ip.reason[0]) { /* empty = none, as on the wire */
            ag_free_owned(ev->u.block_ip.reason);
            ev->u.block_ip.reason = NULL;
        }
    }
    return AGORA_OK;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int get_certificate(jrd *j, const ag_json *o, agora_event *ev) {
    int rc;
    const ag_json *a = member(j, o, "domains", true, &rc);
    if (rc) return rc;
    if (a->type != AG_JSON_ARRAY) return jfail(j, "domains", "expected an array of domain names");
    if (a->count) {
        const char **domains = calloc(a->count, sizeof *domains);
        if (!domains) return jfail(j, "domains", "out of memory");
        ev->u.certificate_update.domains = domains;
        ev->u.certificate_update.domain_count = a->count;
        char key[48];
        for (size_t i = 0; i < a->count; i++) {
            snprintf(key, sizeof key, "domains[%zu]", i);
            if ((rc = str_value(j, a->items[i], key, &domains[i]))) return rc;
        }
    }
    const ag_json *v = member(j, o, "notAfter", true, &rc);
    if (rc || (rc = time_value(j, v, "notAfter", &ev->u.certificate_update.not_after)))
        return rc;
    v = member(j, o, "sha256", true, &rc);
    if (rc) return rc;
    if (v->type != AG_JSON_STRING || v->str_len != 64)
        return jfail(j, "sha256", "expected 64 hexadecimal digits");
    for (int i = 0; i < 32; i++) {
        int hi = hexval(v->str[2 * i]), lo = hexval(v->str[2 * i + 1]);
        if (hi < 0 || lo < 0) return jfail(j, "sha256", "expected 64 hexadecimal digits");
        ev->u.certificate_update.sha256[i] = (uint8_t)(hi << 4 | lo);
    }
    return req_str(j, o, "chain", &ev->u.certificate_update.chain_pem);
}

static int get_fields(jrd *j, const ag_json *o, agora_event *ev) {
    int rc;
    uint64_t v = 0;
    const ag_json *m;
    switch (ev->type) {
    case AGORA_EV_STATE_CHANGE:
        if ((rc = req_u32(j, o, "accountId", &ev->u.state_change.account_id)) ||
            (rc = req_uint(j, o, "changeId", UINT64_MAX, &ev->u.state_change.change_id)))
            return rc;
        return get_types(j, o, &ev->u.state_change.types);
    case AGORA_EV_CALENDAR_ALERT:
        if ((rc = req_u32(j, o, "accountId", &ev->u.calendar_alert.account_id)) ||
            (rc = req_u32(j, o, "eventId", &ev->u.calendar_alert.event_id)))
            return rc;
        m = member(j, o, "recurrenceId", false, &rc);
        if (m) {
            if (m->type != AG_JSON_NUMBER || !m->is_integer || !m->fits_i64)
                return jfail(j, "recurrenceId", "expected null or a 64-bit signed integer");
            ev->u.calendar_alert.recurrence_id = m->i64;
        }
        if ((rc = req_text(j, o, "uid", &ev->u.calendar_alert.uid,
                           &ev->u.calendar_alert.uid_len)))
            return rc;
        return req_text(j, o, "alertId", &ev->u.calendar_alert.alert_id,
                        &ev->u.calendar_alert.alert_id_len);
    case AGORA_EV_EMAIL_PUSH:
        if ((rc = req_u32(j, o, "accountId", &ev->u.email_push.account_id)) ||
            (rc = req_u32(j, o, "emailId", &ev->u.email_push.email_id)))
            return rc;
        return req_uint(j, o, "changeId", UINT64_MAX, &ev->u.email_push.change_id);
    case AGORA_EV_PUSH_SERVER_UPDATE:
        return req_u32(j, o, "accountId", &ev->u.push_server_update.account_id);
    case AGORA_EV_REGISTRY_INSERT:
    case AGORA_EV_REGISTRY_DELETE:
        if ((rc = get_object_type(j, o, &ev->u.registry.object))) return rc;
        return req_uint(j, o, "id", UINT64_MAX, &ev->u.registry.id);
    case AGORA_EV_REGISTRY_RELOAD:
        return get_object_type(j, o, &ev->u.registry.object);
    case AGORA_EV_CACHE_INVALIDATE:
        return get_items(j, o, ev);
    case AGORA_EV_MTA_QUEUE_STATUS:
        m = member(j, o, "running", true, &rc);
        if (rc) return rc;
        if (m->type != AG_JSON_BOOL) return jfail(j, "running", "expected true or false");
        ev->u.mta_queue_status.running = m->boolean;
        return AGORA_OK;
    case AGORA_EV_BLOCK_IP:
    case AGORA_EV_UNBLOCK_IP:
        return get_block_ip(j, o, ev);
    case AGORA_EV_CERTIFICATE_UPDATE:
        return get_certificate(j, o, ev);
    case AGORA_EV_CUSTOM:
        if ((rc = req_str(j, o, "name", &ev->u.custom.name))) return rc;
        m = member(j, o, "data", true, &rc);
        if (rc) return rc;
        if (m->type != AG_JSON_STRING ||
            !parse_base64(m->str, m->str_len, &ev->u.custom.data, &ev->u.custom.len))
            return jfail(j, "data", "expected base64 text (standard alphabet, padded)");
        return AGORA_OK;
    case AGORA_EV_GAP:
        return req_uint(j, o, "missed", UINT64_MAX, &ev->u.gap.missed);
    case AGORA_EV_MEMBER_JOINED:
    case AGORA_EV_MEMBER_LEFT:
    case AGORA_EV_MEMBER_FAILED:
        m = member(j, o, "address", false, &rc);
        if (m && (rc = str_value(j, m, "address", &ev->u.member.address))) return rc;
        return req_uint(j, o, "incarnation", UINT64_MAX, &ev->u.member.incarnation);
    default:
        (void)v;
        return AGORA_OK;
    }
}

int agora_event_from_json(const char *json, size_t len, agora_event *ev, char *err,
                          size_t errlen) {
    char dummy[1];
    if (!err || !errlen) err = dummy, errlen = sizeof dummy;
    err[0] = 0;
    if (!ev || (!json && len)) {
        snprintf(err, errlen, "invalid argument");
        return AGORA_EINVAL;
    }
    memset(ev, 0, sizeof *ev);
    ag_json *root = ag_json_parse(json ? json : "", len, err, errlen);
    if (!root) return AGORA_EJSON;
    jrd j = {.err = err, .errlen = errlen};
    int rc = AGORA_OK;
    agora_event tmp;
    memset(&tmp, 0, sizeof tmp);
    if (root->type != AG_JSON_OBJECT) {
        snprintf(err, errlen, "expected a JSON object, got %s", ag_json_type_name(root->type));
        rc = AGORA_EJSON;
        goto out;
    }
    const ag_json *t = member(&j, root, "type", true, &rc);
    if (rc) goto out;
    if (t->type != AG_JSON_STRING) {
        rc = jfail(&j, "type", "expected an event type name such as \"StateChange\"");
        goto out;
    }
    int type = agora_event_type_from_name(t->str);
    if (type < 0 || strlen(t->str) != t->str_len) {
        rc = jfail(&j, "type", "unknown event type \"%s\"", t->str);
        goto out;
    }
    tmp.type = (agora_event_type)type;
    const ag_json *n = member(&j, root, "node", false, &rc);
    uint64_t node = 0;
    if (n && (rc = get_uint(&j, n, "node", UINT16_MAX, &node))) goto out;
    tmp.node = (uint16_t)node;
    rc = get_fields(&j, root, &tmp);
out:
    ag_json_free(root);
    if (rc) {
        agora_event_clear(&tmp);
        return rc == AGORA_ENOMEM ? rc : AGORA_EJSON;
    }
    *ev = tmp;
    return AGORA_OK;
}
