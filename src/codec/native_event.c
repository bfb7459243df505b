/* native_event.c — one event in agora's native format: tag:uvarint len:uvarint body.
 * Stalwart kinds reuse their Stalwart body (same tags); agora's kinds use tags 32..35.
 * The length prefix lets a reader skip kinds it does not know. */
#include "codec/codec_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    NTAG_BLOCK_IP = 32,
    NTAG_UNBLOCK_IP = 33,
    NTAG_CERTIFICATE_UPDATE = 34,
    NTAG_CUSTOM = 35,
};

static uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static int64_t unzigzag(uint64_t u) { return (int64_t)(u >> 1) ^ -(int64_t)(u & 1); }

static bool utf8_ok(const char *s) {
    size_t n = strlen(s);
    return ag_utf8_check((const uint8_t *)s, n) == n;
}

static int put_text(ag_buf *b, const char *s, const char *what, char *err, size_t errlen) {
    if (s && !utf8_ok(s)) {
        snprintf(err, errlen, "%s is not valid UTF-8", what);
        return AGORA_EINVAL;
    }
    ag_buf_put_str(b, s ? s : "", s ? strlen(s) : 0);
    return AGORA_OK;
}

/* Writes the body of one of agora's kinds; *tag gets its tag. */
static int put_agora_body(ag_buf *b, const agora_event *ev, uint8_t *tag, char *err,
                          size_t errlen) {
    const char *name = agora_event_type_name(ev->type);
    switch (ev->type) {
    case AGORA_EV_BLOCK_IP:
    case AGORA_EV_UNBLOCK_IP: {
        agora_ip_prefix p = ev->u.block_ip.address;
        if (!(p.family == 4 && p.prefix <= 32) && !(p.family == 6 && p.prefix <= 128)) {
            snprintf(err, errlen, "%s address: family must be 4 or 6 with a prefix of at "
                     "most 32 or 128 bits", name);
            return AGORA_EINVAL;
        }
        size_t nb = p.family == 4 ? 4 : 16;
        for (size_t i = 0; i < nb; i++) { /* host bits are not part of a prefix */
            int keep = (int)p.prefix - (int)(i * 8);
            if (keep < 8) p.addr[i] &= keep <= 0 ? 0 : (uint8_t)(0xFF << (8 - keep));
        }
        *tag = ev->type == AGORA_EV_BLOCK_IP ? NTAG_BLOCK_IP : NTAG_UNBLOCK_IP;
        ag_buf_put_u8(b, p.family);
        ag_buf_put_u8(b, p.prefix);
        ag_buf_put(b, p.addr, nb);
        ag_buf_put_uvarint(b, zigzag(ev->u.block_ip.expires));
        return put_text(b, ev->u.block_ip.reason, "reason", err, errlen);
    }
    case AGORA_EV_CERTIFICATE_UPDATE: {
        size_t n = ev->u.certificate_update.domain_count;
        const char *const *d = ev->u.certificate_update.domains;
        if (n && !d) {
            snprintf(err, errlen, "CertificateUpdate: %zu domains but no domain array", n);
            return AGORA_EINVAL;
        }
        *tag = NTAG_CERTIFICATE_UPDATE;
        ag_buf_put_uvarint(b, n);
        for (size_t i = 0; i < n; i++) {
            int rc = put_text(b, d[i], "CertificateUpdate domain", err, errlen);
            if (rc) return rc;
        }
        ag_buf_put_uvarint(b, zigzag(ev->u.certificate_update.not_after));
        ag_buf_put(b, ev->u.certificate_update.sha256, 32);
        return put_text(b, ev->u.certificate_update.chain_pem, "CertificateUpdate chain", err,
                        errlen);
    }
    case AGORA_EV_CUSTOM: {
        int rc = put_text(b, ev->u.custom.name, "Custom name", err, errlen);
        if (rc) return rc;
        if (ev->u.custom.len && !ev->u.custom.data) {
            snprintf(err, errlen, "Custom: %zu data bytes but no data", ev->u.custom.len);
            return AGORA_EINVAL;
        }
        *tag = NTAG_CUSTOM;
        ag_buf_put_uvarint(b, ev->u.custom.len);
        ag_buf_put(b, ev->u.custom.data, ev->u.custom.len);
        return AGORA_OK;
    }
    default:
        if (!name) {
            snprintf(err, errlen, "unknown event type %d", (int)ev->type);
            return AGORA_EINVAL;
        }
        snprintf(err, errlen, "%s is a local notice and is never sent", name);
        return AGORA_EUNSUPPORTED;
    }
}

int ag_native_put_event(ag_buf *b, const agora_event *ev, char *err, size_t errlen) {
    char dummy[1];
    if (!err) err = dummy, errlen = sizeof dummy;
    if (!b || !ev) return AGORA_EINVAL;
    size_t start = b->len;
    /* Write the body first, then slide it to make room for tag and length (both
     * varints, so their size is only known once the body is done). */
    uint8_t tag = 0;
    int rc = agora_event_type_is_stalwart(ev->type)
                 ? ag_stalwart_put_body(b, ev, &tag, err, errlen)
                 : put_agora_body(b, ev, &tag, err, errlen);
    if (!rc && b->oom) rc = AGORA_ENOMEM;
    if (rc) {
        if (rc == AGORA_ENOMEM) snprintf(err, errlen, "out of memory");
        if (!b->oom) ag_buf_set_len(b, start);
        return rc;
    }
    size_t body = b->len - start;
    size_t head = ag_uvarint_size(tag) + ag_uvarint_size(body);
    if (!ag_buf_reserve(b, head)) {
        ag_buf_set_len(b, start);
        snprintf(err, errlen, "out of memory");
        return AGORA_ENOMEM;
    }
    memmove(b->data + start + head, b->data + start, body);
    /* Raw encodes: a put would write its NUL over the body's first byte. */
    uint8_t *h = b->data + start;
    h += ag_uvarint_encode(h, tag);
    ag_uvarint_encode(h, body);
    ag_buf_set_len(b, start + head + body);
    return AGORA_OK;
}

static int get_ip(ag_rd *r, agora_event *ev, const char *name) {
    char what[48];
    uint8_t fam, pre;
    const uint8_t *a;
    int rc;
    size_t at = r->pos;
    snprintf(what, sizeof what, "%s family", name);
    if ((rc = ag_rd_u8(r, what, &fam))) return rc;
    if (fam != 4 && fam != 6)
        return ag_rd_fail(r, at, "%s: address family %u is neither 4 nor 6", name, (unsigned)fam);
    at = r->pos;
    snprintf(what, sizeof what, "%s prefix", name);
    if ((rc = ag_rd_u8(r, what, &pre))) return rc;
    if (pre > (fam == 4 ? 32 : 128))
        return ag_rd_fail(r, at, "%s: prefix length %u is too long for IPv%u", name,
                          (unsigned)pre, (unsigned)fam);
    size_t nb = fam == 4 ? 4 : 16;
    at = r->pos;
    snprintf(what, sizeof what, "%s address", name);
    if ((rc = ag_rd_raw(r, what, nb, &a))) return rc;
    for (size_t i = 0; i < nb; i++) {
        int keep = (int)pre - (int)(i * 8);
        uint8_t mask = keep >= 8 ? 0xFF : keep <= 0 ? 0 : (uint8_t)(0xFF << (8 - keep));
        if (a[i] & ~mask)
            return ag_rd_fail(r, at + i, "%s: address has bits set past the /%u prefix", name,
                              (unsigned)pre);
    }
    agora_ip_prefix *p = &ev->u.block_ip.address;
    p->family = fam;
    p->prefix = pre;
    memcpy(p->addr, a, nb);
    return AGORA_OK;
}

static int get_agora_body(ag_rd *r, uint64_t tag, agora_event *ev) {
    int rc;
    uint64_t v;
    switch (tag) {
    case NTAG_BLOCK_IP:
    case NTAG_UNBLOCK_IP: {
        const char *name = tag == NTAG_BLOCK_IP ? "BlockIp" : "UnblockIp";
        char what[48];
        ev->type = tag == NTAG_BLOCK_IP ? AGORA_EV_BLOCK_IP : AGORA_EV_UNBLOCK_IP;
        if ((rc = get_ip(r, ev, name))) return rc;
        snprintf(what, sizeof what, "%s expires", name);
        if ((rc = ag_rd_uv(r, UINT64_MAX, what, &v))) return rc;
        ev->u.block_ip.expires = unzigzag(v);
        snprintf(what, sizeof what, "%s reason", name);
        if ((rc = ag_rd_str(r, what, &ev->u.block_ip.reason))) return rc;
        if (!ev->u.block_ip.reason[0]) { /* empty reason = none */
            ag_free_owned(ev->u.block_ip.reason);
            ev->u.block_ip.reason = NULL;
        }
        return AGORA_OK;
    }
    case NTAG_CERTIFICATE_UPDATE: {
        ev->type = AGORA_EV_CERTIFICATE_UPDATE;
        size_t at = r->pos;
        if ((rc = ag_rd_uv(r, UINT64_MAX, "CertificateUpdate domain count", &v))) return rc;
        /* each domain takes at least its length byte */
        if (v > r->len - r->pos)
            return ag_rd_fail(r, at, "CertificateUpdate domain count: %llu domains cannot fit "
                              "in the %zu bytes left", (unsigned long long)v, r->len - r->pos);
        if (v) {
            const char **domains = calloc((size_t)v, sizeof *domains);
            if (!domains) {
                ag_rd_fail(r, at, "CertificateUpdate: out of memory");
                return AGORA_ENOMEM;
            }
            ev->u.certificate_update.domains = domains;
            ev->u.certificate_update.domain_count = (size_t)v;
            for (size_t i = 0; i < v; i++)
                if ((rc = ag_rd_str(r, "CertificateUpdate domain", &domains[i]))) return rc;
        }
        if ((rc = ag_rd_uv(r, UINT64_MAX, "CertificateUpdate notAfter", &v))) return rc;
        ev->u.certificate_update.not_after = unzigzag(v);
        const uint8_t *h;
        if ((rc = ag_rd_raw(r, "CertificateUpdate sha256", 32, &h))) return rc;
        memcpy(ev->u.certificate_update.sha256, h, 32);
        return ag_rd_str(r, "CertificateUpdate chain", &ev->u.certificate_update.chain_pem);
    }
    case NTAG_CUSTOM: {
        ev->type = AGORA_EV_CUSTOM;
        if ((rc = ag_rd_str(r, "Custom name", &ev->u.custom.name))) return rc;
        size_t at = r->pos;
        if ((rc = ag_rd_uv(r, UINT64_MAX, "Custom data length", &v))) return rc;
        const uint8_t *d;
        if (v > r->len - r->pos)
            return ag_rd_fail(r, at, "Custom data: %llu bytes run past the end (%zu left)",
                              (unsigned long long)v, r->len - r->pos);
        if ((rc = ag_rd_raw(r, "Custom data", (size_t)v, &d))) return rc;
        if (v) {
            uint8_t *data = malloc((size_t)v);
            if (!data) {
                ag_rd_fail(r, at, "Custom: out of memory");
                return AGORA_ENOMEM;
            }
            memcpy(data, d, (size_t)v);
            ev->u.custom.data = data;
            ev->u.custom.len = (size_t)v;
        }
        return AGORA_OK;
    }
    default:
        return ag_rd_fail(r, r->pos, "unknown native tag %llu", (unsigned long long)tag);
    }
}

static bool tag_known(uint64_t tag) {
    return tag <= 12 || (tag >= NTAG_BLOCK_IP && tag <= NTAG_CUSTOM);
}

int ag_native_get_event(const uint8_t *data, size_t len, size_t *pos, agora_event *ev,
                        bool *known, char *err, size_t errlen) {
    char dummy[1];
    if (!err) err = dummy, errlen = sizeof dummy;
    if (known) *known = false;
    if (!data || !pos || !ev || *pos > len) {
        snprintf(err, errlen, "invalid argument");
        return AGORA_EINVAL;
    }
    ag_rd r = {.d = data, .len = len, .pos = *pos, .err = err, .errlen = errlen};
    uint64_t tag, blen;
    int rc;
    size_t tat = r.pos;
    if ((rc = ag_rd_uv(&r, UINT64_MAX, "event tag", &tag))) return rc;
    size_t lat = r.pos;
    if ((rc = ag_rd_uv(&r, UINT64_MAX, "event length", &blen))) return rc;
    if (blen > len - r.pos)
        return ag_rd_fail(&r, lat, "event length: %llu bytes run past the end (%zu left)",
                          (unsigned long long)blen, len - r.pos);
    size_t end = r.pos + (size_t)blen;
    if (!tag_known(tag)) { /* a newer kind: skip it, ev untouched */
        *pos = end;
        return AGORA_OK;
    }
    (void)tat;
    agora_event tmp;
    memset(&tmp, 0, sizeof tmp);
    ag_rd body = r;
    body.len = end; /* never read past this event's body */
    if (tag <= 12) {
        rc = ag_stalwart_get_body(&body, (uint8_t)tag, &tmp);
    } else {
        rc = get_agora_body(&body, tag, &tmp);
        if (rc) agora_event_clear(&tmp);
    }
    if (!rc && body.pos != end)
        rc = ag_rd_fail(&body, body.pos, "%zu trailing bytes inside the %s event",
                        end - body.pos, agora_event_type_name(tmp.type));
    if (rc) {
        agora_event_clear(&tmp);
        return rc;
    }
    *ev = tmp;
    if (known) *known = true;
    *pos = end;
    return AGORA_OK;
}
