/* leb128.c — minimal unsigned LEB128 varints. */
#include "util/leb128.h"

void ag_buf_put_uvarint(ag_buf *b, uint64_t v) {
    /* Encoded in place: this is on every event's path. */
    if (!ag_buf_reserve(b, 10)) return;
    b->len += ag_uvarint_encode(b->data + b->len, v);
    b->data[b->len] = 0; /* room for the NUL was reserved too */
}

void ag_buf_put_str(ag_buf *b, const char *s, size_t n) {
    ag_buf_put_uvarint(b, n);
    ag_buf_put(b, s, n);
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
