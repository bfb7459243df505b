/* bytes.c — growable byte buffer and minimal unsigned LEB128. */
#include "util/bytes.h"

#include <stdlib.h>
#include <string.h>

void ag_bytes_init(ag_bytes *b) { memset(b, 0, sizeof *b); }

void ag_bytes_free(ag_bytes *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

void ag_bytes_reset(ag_bytes *b) { b->len = 0; }

bool ag_bytes_reserve(ag_bytes *b, size_t extra) {
    if (b->oom) return false;
    if (extra <= b->cap - b->len) return true;
    if (extra > SIZE_MAX - b->len) {
        b->oom = true;
        return false;
    }
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void ag_bytes_put(ag_bytes *b, const void *p, size_t n) {
    if (n == 0 || !ag_bytes_reserve(b, n)) return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void ag_bytes_put_u8(ag_bytes *b, uint8_t v) { ag_bytes_put(b, &v, 1); }

void ag_bytes_put_uvarint(ag_bytes *b, uint64_t v) {
    /* Encoded in place: this is on every event's path. */
    if (!ag_bytes_reserve(b, 10)) return;
    uint8_t *d = b->data + b->len;
    while (v >= 0x80) {
        *d++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *d++ = (uint8_t)v;
    b->len = (size_t)(d - b->data);
}

void ag_bytes_put_str(ag_bytes *b, const char *s, size_t n) {
    ag_bytes_put_uvarint(b, n);
    ag_bytes_put(b, s, n);
}

int ag_get_uvarint(const uint8_t *data, size_t len, size_t *pos, uint64_t max, uint64_t *out) {
    size_t p = *pos;
    if (p < len && data[p] < 0x80) { /* one byte: the common case */
        if (data[p] > max) return -2;
        *out = data[p];
        *pos = p + 1;
        return 0;
    }
    uint64_t v = 0;
    for (unsigned i = 0;; i++, p++) {
        if (i == 10) return -2; /* longer than any u64 */
        if (p >= len) return -1;
        uint8_t byte = data[p];
        /* the 10th byte holds bit 63 only */
        if (i == 9 && (byte & 0x7f) > 1) return -2;
        v |= (uint64_t)(byte & 0x7f) << (7 * i);
        if (!(byte & 0x80)) {
            if (v > max) return -2;
            if (i > 0 && byte == 0) return -3;
            *pos = p + 1;
            *out = v;
            return 0;
        }
    }
}

size_t ag_uvarint_size(uint64_t v) {
    size_t n = 1;
    while (v >>= 7) n++;
    return n;
}
