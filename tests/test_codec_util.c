/* test_codec_util.c — helpers shared by the codec tests (linked into each of them):
 * event equality, random events, file reading, JSON comparison. */
#include "agora.h"
#include "util/json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool codec_str_eq(const char *a, const char *b);
bool codec_ev_equal(const agora_event *a, const agora_event *b);
uint64_t codec_rand(uint64_t *state);
void codec_random_event(uint64_t *rng, agora_event *ev, int kind);
uint8_t *codec_read_file(const char *path, size_t *len);
bool codec_json_equal(const ag_json *a, const ag_json *b);

/* NULL and "" are the same for optional text (both mean none on the wire). */
bool codec_str_eq(const char *a, const char *b) {
    return !strcmp(a ? a : "", b ? b : "");
}

/* Strings that may hold NULs (len 0: up to the first NUL; NULL is ""). */
static bool text_eq(const char *a, size_t al, const char *b, size_t bl) {
    al = a ? (al ? al : strlen(a)) : 0;
    bl = b ? (bl ? bl : strlen(b)) : 0;
    return al == bl && (!al || !memcmp(a, b, al));
}

bool codec_ev_equal(const agora_event *a, const agora_event *b) {
    if (a->type != b->type || a->node != b->node) return false;
    switch (a->type) {
    case AGORA_EV_STATE_CHANGE:
        return a->u.state_change.change_id == b->u.state_change.change_id &&
               a->u.state_change.types == b->u.state_change.types &&
               a->u.state_change.account_id == b->u.state_change.account_id;
    case AGORA_EV_CALENDAR_ALERT:
        return a->u.calendar_alert.account_id == b->u.calendar_alert.account_id &&
               a->u.calendar_alert.event_id == b->u.calendar_alert.event_id &&
               a->u.calendar_alert.recurrence_id == b->u.calendar_alert.recurrence_id &&
               text_eq(a->u.calendar_alert.uid, a->u.calendar_alert.uid_len,
                       b->u.calendar_alert.uid, b->u.calendar_alert.uid_len) &&
               text_eq(a->u.calendar_alert.alert_id, a->u.calendar_alert.alert_id_len,
                       b->u.calendar_alert.alert_id, b->u.calendar_alert.alert_id_len);
    case AGORA_EV_EMAIL_PUSH:
        return a->u.email_push.account_id == b->u.email_push.account_id &&
               a->u.email_push.email_id == b->u.email_push.email_id &&
               a->u.email_push.change_id == b->u.email_push.change_id;
    case AGORA_EV_PUSH_SERVER_UPDATE:
        return a->u.push_server_update.account_id == b->u.push_server_update.account_id;
    case AGORA_EV_REGISTRY_INSERT:
    case AGORA_EV_REGISTRY_DELETE:
        return a->u.registry.object == b->u.registry.object && a->u.registry.id == b->u.registry.id;
    case AGORA_EV_REGISTRY_RELOAD:
        return a->u.registry.object == b->u.registry.object;
    case AGORA_EV_CACHE_INVALIDATE:
        if (a->u.cache_invalidate.count != b->u.cache_invalidate.count) return false;
        for (size_t i = 0; i < a->u.cache_invalidate.count; i++) {
            const agora_cache_item *x = &a->u.cache_invalidate.items[i],
                                   *y = &b->u.cache_invalidate.items[i];
            if (x->kind != y->kind) return false;
            if (x->kind != AGORA_CACHE_DOMAIN_NEGATIVE && x->id != y->id) return false;
            if (x->kind == AGORA_CACHE_EMAIL_NEGATIVE && x->local_part_hash != y->local_part_hash)
                return false;
        }
        return true;
    case AGORA_EV_MTA_QUEUE_STATUS:
        return a->u.mta_queue_status.running == b->u.mta_queue_status.running;
    case AGORA_EV_BLOCK_IP:
    case AGORA_EV_UNBLOCK_IP:
        return a->u.block_ip.address.family == b->u.block_ip.address.family &&
               a->u.block_ip.address.prefix == b->u.block_ip.address.prefix &&
               !memcmp(a->u.block_ip.address.addr, b->u.block_ip.address.addr, 16) &&
               a->u.block_ip.expires == b->u.block_ip.expires &&
               codec_str_eq(a->u.block_ip.reason, b->u.block_ip.reason);
    case AGORA_EV_CERTIFICATE_UPDATE:
        if (a->u.certificate_update.domain_count != b->u.certificate_update.domain_count)
            return false;
        for (size_t i = 0; i < a->u.certificate_update.domain_count; i++)
            if (!codec_str_eq(a->u.certificate_update.domains[i], b->u.certificate_update.domains[i]))
                return false;
        return a->u.certificate_update.not_after == b->u.certificate_update.not_after &&
               !memcmp(a->u.certificate_update.sha256, b->u.certificate_update.sha256, 32) &&
               codec_str_eq(a->u.certificate_update.chain_pem, b->u.certificate_update.chain_pem);
    case AGORA_EV_CUSTOM:
        return codec_str_eq(a->u.custom.name, b->u.custom.name) &&
               a->u.custom.len == b->u.custom.len &&
               (a->u.custom.len == 0 || !memcmp(a->u.custom.data, b->u.custom.data, a->u.custom.len));
    case AGORA_EV_GAP:
        return a->u.gap.missed == b->u.gap.missed;
    case AGORA_EV_MEMBER_JOINED:
    case AGORA_EV_MEMBER_LEFT:
    case AGORA_EV_MEMBER_FAILED:
        return a->u.member.incarnation == b->u.member.incarnation &&
               ((!a->u.member.address && !b->u.member.address) ||
                (a->u.member.address && b->u.member.address &&
                 !strcmp(a->u.member.address, b->u.member.address)));
    default:
        return true;
    }
}

uint64_t codec_rand(uint64_t *s) { /* xorshift64* */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

/* Values biased towards LEB128 edges: 0, 127/128, 2^k - 1, the maximum. */
static uint64_t edgy(uint64_t *r, uint64_t max) {
    uint64_t v;
    switch (codec_rand(r) % 6) {
    case 0: v = 0; break;
    case 1: v = max; break;
    case 2: v = (UINT64_C(1) << (codec_rand(r) % 64)) - (codec_rand(r) & 1); break;
    case 3: v = codec_rand(r) % 300; break;
    default: v = codec_rand(r); break;
    }
    return max == UINT64_MAX ? v : v % ((uint64_t)max + 1);
}

static char *rand_text(uint64_t *r, bool allow_empty) {
    static const char *const pieces[] = {"a", "Z", "9", "@", ".", "-", "\"", "\\", "\n", "\t",
                                         "\x01", "\x7f", "é", "€", "😀", "mail", " ", "/"};
    size_t n = codec_rand(r) % 12;
    if (!allow_empty && n == 0) n = 1;
    char *s = malloc(n * 4 + 1);
    s[0] = 0;
    for (size_t i = 0; i < n; i++) strcat(s, pieces[codec_rand(r) % (sizeof pieces / sizeof *pieces)]);
    return s;
}

/* kind: an agora_event_type, or -1 = any Stalwart kind, -2 = any wire kind (not the
 * local notices), -3 = any kind at all. */
void codec_random_event(uint64_t *r, agora_event *ev, int kind) {
    memset(ev, 0, sizeof *ev);
    if (kind == -1) kind = (int)(codec_rand(r) % (AGORA_EV_QUEUE_REFRESH + 1));
    else if (kind == -2) kind = (int)(codec_rand(r) % (AGORA_EV_CUSTOM + 1));
    else if (kind == -3) kind = (int)(codec_rand(r) % AGORA_EV_TYPE_COUNT);
    ev->type = (agora_event_type)kind;
    ev->node = (uint16_t)edgy(r, UINT16_MAX);
    switch (ev->type) {
    case AGORA_EV_STATE_CHANGE:
        ev->u.state_change.change_id = edgy(r, UINT64_MAX);
        ev->u.state_change.types = edgy(r, UINT64_MAX); /* unknown bits too */
        ev->u.state_change.account_id = (uint32_t)edgy(r, UINT32_MAX);
        break;
    case AGORA_EV_CALENDAR_ALERT:
        ev->u.calendar_alert.account_id = (uint32_t)edgy(r, UINT32_MAX);
        ev->u.calendar_alert.event_id = (uint32_t)edgy(r, UINT32_MAX);
        ev->u.calendar_alert.recurrence_id = (int64_t)edgy(r, UINT64_MAX);
        ev->u.calendar_alert.uid = rand_text(r, true);
        ev->u.calendar_alert.alert_id = rand_text(r, true);
        break;
    case AGORA_EV_EMAIL_PUSH:
        ev->u.email_push.account_id = (uint32_t)edgy(r, UINT32_MAX);
        ev->u.email_push.email_id = (uint32_t)edgy(r, UINT32_MAX);
        ev->u.email_push.change_id = edgy(r, UINT64_MAX);
        break;
    case AGORA_EV_PUSH_SERVER_UPDATE:
        ev->u.push_server_update.account_id = (uint32_t)edgy(r, UINT32_MAX);
        break;
    case AGORA_EV_REGISTRY_INSERT:
    case AGORA_EV_REGISTRY_DELETE:
    case AGORA_EV_REGISTRY_RELOAD:
        ev->u.registry.object = (uint16_t)(codec_rand(r) % AGORA_OBJ_COUNT);
        if (ev->type != AGORA_EV_REGISTRY_RELOAD) ev->u.registry.id = edgy(r, UINT64_MAX);
        break;
    case AGORA_EV_CACHE_INVALIDATE: {
        size_t n = codec_rand(r) % 6;
        ev->u.cache_invalidate.count = n;
        agora_cache_item *items = n ? calloc(n, sizeof *items) : NULL;
        ev->u.cache_invalidate.items = items;
        for (size_t i = 0; i < n; i++) {
            agora_cache_item *it = &items[i];
            it->kind = (uint8_t)(codec_rand(r) % AGORA_CACHE_KIND_COUNT);
            if (it->kind != AGORA_CACHE_DOMAIN_NEGATIVE) it->id = (uint32_t)edgy(r, UINT32_MAX);
            if (it->kind == AGORA_CACHE_EMAIL_NEGATIVE)
                it->local_part_hash = (uint32_t)edgy(r, UINT32_MAX);
        }
        break;
    }
    case AGORA_EV_MTA_QUEUE_STATUS:
        ev->u.mta_queue_status.running = codec_rand(r) & 1;
        break;
    case AGORA_EV_BLOCK_IP:
    case AGORA_EV_UNBLOCK_IP: {
        agora_ip_prefix *p = &ev->u.block_ip.address;
        p->family = codec_rand(r) & 1 ? 4 : 6;
        p->prefix = (uint8_t)(codec_rand(r) % (p->family == 4 ? 33 : 129));
        size_t nb = p->family == 4 ? 4 : 16;
        for (size_t i = 0; i < nb; i++) {
            int keep = (int)p->prefix - (int)(i * 8);
            uint8_t mask = keep >= 8 ? 0xFF : keep <= 0 ? 0 : (uint8_t)(0xFF << (8 - keep));
            p->addr[i] = (uint8_t)codec_rand(r) & mask;
        }
        ev->u.block_ip.expires = codec_rand(r) % 3 ? (int64_t)(codec_rand(r) % 4000000000u) : 0;
        if (codec_rand(r) % 2) ev->u.block_ip.reason = rand_text(r, false);
        break;
    }
    case AGORA_EV_CERTIFICATE_UPDATE: {
        size_t n = codec_rand(r) % 4;
        ev->u.certificate_update.domain_count = n;
        const char **domains = n ? calloc(n, sizeof *domains) : NULL;
        ev->u.certificate_update.domains = domains;
        for (size_t i = 0; i < n; i++) domains[i] = rand_text(r, true);
        ev->u.certificate_update.not_after = (int64_t)edgy(r, UINT64_MAX);
        for (int i = 0; i < 32; i++) ev->u.certificate_update.sha256[i] = (uint8_t)codec_rand(r);
        ev->u.certificate_update.chain_pem = rand_text(r, true);
        break;
    }
    case AGORA_EV_CUSTOM: {
        ev->u.custom.name = rand_text(r, true);
        size_t n = codec_rand(r) % 40;
        ev->u.custom.len = n;
        uint8_t *data = n ? malloc(n) : NULL;
        ev->u.custom.data = data;
        for (size_t i = 0; i < n; i++) data[i] = (uint8_t)codec_rand(r);
        break;
    }
    case AGORA_EV_GAP:
        ev->u.gap.missed = edgy(r, UINT64_MAX);
        break;
    case AGORA_EV_MEMBER_JOINED:
    case AGORA_EV_MEMBER_LEFT:
    case AGORA_EV_MEMBER_FAILED:
        if (codec_rand(r) % 2) ev->u.member.address = rand_text(r, true);
        ev->u.member.incarnation = edgy(r, UINT64_MAX);
        break;
    default:
        break;
    }
}

uint8_t *codec_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1024, n = 0;
    uint8_t *buf = malloc(cap + 1);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) buf = realloc(buf, (cap *= 2) + 1);
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

/* Same value, key order ignored (objects compared member by member). */
bool codec_json_equal(const ag_json *a, const ag_json *b) {
    if (a->type != b->type) return false;
    switch (a->type) {
    case AG_JSON_NULL: return true;
    case AG_JSON_BOOL: return a->boolean == b->boolean;
    case AG_JSON_NUMBER: return !strcmp(a->num_text, b->num_text);
    case AG_JSON_STRING: return a->str_len == b->str_len && !memcmp(a->str, b->str, a->str_len);
    case AG_JSON_ARRAY:
        if (a->count != b->count) return false;
        for (size_t i = 0; i < a->count; i++)
            if (!codec_json_equal(a->items[i], b->items[i])) return false;
        return true;
    case AG_JSON_OBJECT:
        if (a->count != b->count) return false;
        for (size_t i = 0; i < a->count; i++) {
            const ag_json *o = ag_json_get(b, a->keys[i]);
            if (!o || !codec_json_equal(a->items[i], o)) return false;
        }
        return true;
    }
    return false;
}
