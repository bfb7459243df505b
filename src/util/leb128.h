/* leb128.h — minimal unsigned LEB128 varints (shared by both codecs). */
#ifndef AG_LEB128_H
#define AG_LEB128_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Write v as a minimal LEB128 at d (room for 10 bytes); returns the bytes written.
 * For code that fills reserved room itself; everything else uses ag_buf_put_uvarint. */
static inline size_t ag_uvarint_encode(uint8_t *d, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        d[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    d[n++] = (uint8_t)v;
    return n;
}

void ag_buf_put_uvarint(ag_buf *b, uint64_t v);           /* minimal unsigned LEB128 */
void ag_buf_put_str(ag_buf *b, const char *s, size_t n); /* uvarint length + bytes */

/* Read an unsigned LEB128 at *pos, no larger than max (UINT16_MAX, UINT32_MAX or
 * UINT64_MAX). Returns 0 and advances *pos, or -1 (truncated), -2 (does not fit in max,
 * including an over-long 10th byte), -3 (not minimal: trailing zero group). */
int ag_get_uvarint(const uint8_t *data, size_t len, size_t *pos, uint64_t max, uint64_t *out);

/* Size in bytes of v as a LEB128. */
size_t ag_uvarint_size(uint64_t v);

#endif
