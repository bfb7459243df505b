/* event.c — event lifetime (clear, copy, free) and IP prefixes. */
#include "agora.h"
#include "codec/codec.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Shared with the codecs (declared where used): strict UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF). Returns the offset of the first bad byte, or
 * len when the whole span is valid. */
size_t ag_utf8_check(const uint8_t *s, size_t len);

size_t ag_utf8_check(const uint8_t *s, size_t len) {
    size_t i = 0;
    while (i < len) {
        uint8_t c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint8_t lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) n = 1;
        else if (c == 0xE0) n = 2, lo = 0xA0;
        else if (c >= 0xE1 && c <= 0xEC) n = 2;
        else if (c == 0xED) n = 2, hi = 0x9F; /* no UTF-16 surrogates */
        else if (c >= 0xEE && c <= 0xEF) n = 2;
        else if (c == 0xF0) n = 3, lo = 0x90;
        else if (c >= 0xF1 && c <= 0xF3) n = 3;
        else if (c == 0xF4) n = 3, hi = 0x8F; /* nothing above U+10FFFF */
        else return i;
        if (len - i - 1 < n) return i;
        if (s[i + 1] < lo || s[i + 1] > hi) return i;
        for (size_t k = 2; k <= n; k++)
            if ((s[i + k] & 0xC0) != 0x80) return i;
        i += n + 1;
    }
    return len;
}

/* A kind added later must fit the union's reserved size, or arrays of events built
 * against an older header would break. */
_Static_assert(sizeof(((agora_event *)0)->u) == sizeof(((agora_event *)0)->u.reserved),
               "agora_event's union outgrew its reserved size");

void agora_event_clear(agora_event *ev) {
    if (!ev) return;
    switch (ev->type) {
    case AGORA_EV_CALENDAR_ALERT:
        ag_free_owned(ev->u.calendar_alert.uid);
        ag_free_owned(ev->u.calendar_alert.alert_id);
        break;
    case AGORA_EV_CACHE_INVALIDATE:
        ag_free_owned(ev->u.cache_invalidate.items);
        break;
    case AGORA_EV_BLOCK_IP:
    case AGORA_EV_UNBLOCK_IP:
        ag_free_owned(ev->u.block_ip.reason);
        break;
    case AGORA_EV_CERTIFICATE_UPDATE:
        if (ev->u.certificate_update.domains)
            for (size_t i = 0; i < ev->u.certificate_update.domain_count; i++)
                ag_free_owned(ev->u.certificate_update.domains[i]);
        ag_free_owned(ev->u.certificate_update.domains);
        ag_free_owned(ev->u.certificate_update.chain_pem);
        break;
    case AGORA_EV_CUSTOM:
        ag_free_owned(ev->u.custom.name);
        ag_free_owned(ev->u.custom.data);
        break;
    case AGORA_EV_MEMBER_JOINED:
    case AGORA_EV_MEMBER_LEFT:
    case AGORA_EV_MEMBER_FAILED:
        ag_free_owned(ev->u.member.address);
        break;
    default:
        break;
    }
    memset(ev, 0, sizeof *ev);
}

static size_t str_bytes(const char *s) { return s ? strlen(s) + 1 : 0; }

/* A string that may hold NULs (len 0: up to its first NUL), with its terminator. */
static size_t ag_text_bytes(const char *s, size_t len) {
    return !s ? 0 : (len ? len : strlen(s)) + 1;
}

size_t ag_event_bytes(const agora_event *ev) {
    size_t n = sizeof *ev;
    switch (ev->type) {
    case AGORA_EV_CALENDAR_ALERT:
        n += ag_text_bytes(ev->u.calendar_alert.uid, ev->u.calendar_alert.uid_len) +
             ag_text_bytes(ev->u.calendar_alert.alert_id, ev->u.calendar_alert.alert_id_len);
        break;
    case AGORA_EV_CACHE_INVALIDATE:
        n += ev->u.cache_invalidate.count * sizeof(agora_cache_item);
        break;
    case AGORA_EV_BLOCK_IP:
    case AGORA_EV_UNBLOCK_IP:
        n += str_bytes(ev->u.block_ip.reason);
        break;
    case AGORA_EV_CERTIFICATE_UPDATE:
        if (ev->u.certificate_update.domains)
            for (size_t i = 0; i < ev->u.certificate_update.domain_count; i++)
                n += sizeof(char *) + str_bytes(ev->u.certificate_update.domains[i]);
        n += str_bytes(ev->u.certificate_update.chain_pem);
        break;
    case AGORA_EV_CUSTOM:
        n += str_bytes(ev->u.custom.name) + (ev->u.custom.data ? ev->u.custom.len : 0);
        break;
    case AGORA_EV_MEMBER_JOINED:
    case AGORA_EV_MEMBER_LEFT:
    case AGORA_EV_MEMBER_FAILED:
        n += str_bytes(ev->u.member.address);
        break;
    default:
        break;
    }
    return n;
}

void agora_events_free(agora_event *events, size_t count) {
    if (!events) return;
    for (size_t i = 0; i < count; i++) agora_event_clear(&events[i]);
    free(events);
}

/* strdup that keeps NULL as NULL; *ok turns false on allocation failure. */
static char *dup_opt(const char *s, bool *ok) {
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) *ok = false;
    return d;
}

/* Copy of a string that may hold NULs (len 0: up to its first NUL). */
static char *dup_text(const char *s, size_t len, bool *ok) {
    if (!s || !len) return dup_opt(s, ok);
    char *d = malloc(len + 1);
    if (!d) {
        *ok = false;
        return NULL;
    }
    memcpy(d, s, len);
    d[len] = 0;
    return d;
}

int agora_event_copy(agora_event *dst, const agora_event *src) {
    if (!dst || !src) return AGORA_EINVAL;
    *dst = *src;
    bool ok = true;
    switch (src->type) {
    case AGORA_EV_CALENDAR_ALERT:
        dst->u.calendar_alert.uid =
            dup_text(src->u.calendar_alert.uid, src->u.calendar_alert.uid_len, &ok);
        dst->u.calendar_alert.alert_id =
            dup_text(src->u.calendar_alert.alert_id, src->u.calendar_alert.alert_id_len, &ok);
        break;
    case AGORA_EV_CACHE_INVALIDATE: {
        size_t n = src->u.cache_invalidate.count;
        dst->u.cache_invalidate.items = NULL;
        if (n && src->u.cache_invalidate.items) {
            agora_cache_item *items = calloc(n, sizeof *items);
            if (items)
                memcpy(items, src->u.cache_invalidate.items, n * sizeof *items);
            else
                ok = false;
            dst->u.cache_invalidate.items = items;
        } else {
            dst->u.cache_invalidate.count = 0;
        }
        break;
    }
    case AGORA_EV_BLOCK_IP:
    case AGORA_EV_UNBLOCK_IP:
        dst->u.block_ip.reason = dup_opt(src->u.block_ip.reason, &ok);
        break;
    case AGORA_EV_CERTIFICATE_UPDATE: {
        size_t n = src->u.certificate_update.domain_count;
        dst->u.certificate_update.domains = NULL;
        dst->u.certificate_update.domain_count = 0;
        dst->u.certificate_update.chain_pem =
            dup_opt(src->u.certificate_update.chain_pem, &ok);
        if (n && src->u.certificate_update.domains) {
            char **d = calloc(n, sizeof(char *));
            if (!d) {
                ok = false;
                break;
            }
            dst->u.certificate_update.domains = (const char *const *)d;
            dst->u.certificate_update.domain_count = n;
            for (size_t i = 0; i < n; i++)
                d[i] = dup_opt(src->u.certificate_update.domains[i], &ok);
        }
        break;
    }
    case AGORA_EV_CUSTOM:
        dst->u.custom.name = dup_opt(src->u.custom.name, &ok);
        dst->u.custom.data = NULL;
        if (src->u.custom.len && src->u.custom.data) {
            uint8_t *data = malloc(src->u.custom.len);
            if (data)
                memcpy(data, src->u.custom.data, src->u.custom.len);
            else
                ok = false;
            dst->u.custom.data = data;
        } else {
            dst->u.custom.len = 0;
        }
        break;
    case AGORA_EV_MEMBER_JOINED:
    case AGORA_EV_MEMBER_LEFT:
    case AGORA_EV_MEMBER_FAILED:
        dst->u.member.address = dup_opt(src->u.member.address, &ok);
        break;
    default:
        break;
    }
    if (!ok) {
        agora_event_clear(dst);
        return AGORA_ENOMEM;
    }
    return AGORA_OK;
}

/* Zero the bits past the prefix length, so a prefix has one canonical form. */
static void mask_host_bits(agora_ip_prefix *p) {
    size_t bytes = p->family == 4 ? 4 : 16;
    for (size_t i = 0; i < bytes; i++) {
        int keep = (int)p->prefix - (int)(i * 8);
        if (keep >= 8) continue;
        p->addr[i] &= keep <= 0 ? 0 : (uint8_t)(0xFF << (8 - keep));
    }
    for (size_t i = bytes; i < 16; i++) p->addr[i] = 0;
}

int agora_ip_prefix_parse(const char *text, agora_ip_prefix *out) {
    if (!text || !out) return AGORA_EINVAL;
    char host[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(text, '/');
    size_t hl = slash ? (size_t)(slash - text) : strlen(text);
    if (hl == 0 || hl >= sizeof host) return AGORA_EINVAL;
    memcpy(host, text, hl);
    host[hl] = 0;
    agora_ip_prefix p;
    memset(&p, 0, sizeof p);
    if (inet_pton(AF_INET, host, p.addr) == 1) p.family = 4, p.prefix = 32;
    else if (inet_pton(AF_INET6, host, p.addr) == 1) p.family = 6, p.prefix = 128;
    else return AGORA_EINVAL;
    if (slash) {
        const char *d = slash + 1;
        unsigned v = 0;
        if (!*d || strlen(d) > 3) return AGORA_EINVAL;
        for (; *d; d++) {
            if (*d < '0' || *d > '9') return AGORA_EINVAL;
            v = v * 10 + (unsigned)(*d - '0');
        }
        if (v > p.prefix) return AGORA_EINVAL;
        p.prefix = (uint8_t)v;
    }
    mask_host_bits(&p);
    *out = p;
    return AGORA_OK;
}

int agora_ip_prefix_format(const agora_ip_prefix *p, char *buf, size_t buflen) {
    if (!p || !buf || buflen == 0) return AGORA_EINVAL;
    char host[INET6_ADDRSTRLEN];
    if (p->family == 4 && p->prefix <= 32) {
        if (!inet_ntop(AF_INET, p->addr, host, sizeof host)) return AGORA_EINVAL;
    } else if (p->family == 6 && p->prefix <= 128) {
        if (!inet_ntop(AF_INET6, p->addr, host, sizeof host)) return AGORA_EINVAL;
    } else {
        return AGORA_EINVAL;
    }
    int n = snprintf(buf, buflen, "%s/%u", host, (unsigned)p->prefix);
    if (n < 0 || (size_t)n >= buflen) return AGORA_EINVAL;
    return AGORA_OK;
}
