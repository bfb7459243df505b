/* bytes.h — a growable byte buffer and LEB128 varints (shared by both codecs). */
#ifndef AG_BYTES_H
#define AG_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ag_bytes {
    uint8_t *data;
    size_t len, cap;
    bool oom; /* set once an allocation failed; later puts are ignored */
} ag_bytes;

void ag_bytes_init(ag_bytes *b);
void ag_bytes_free(ag_bytes *b);
void ag_bytes_reset(ag_bytes *b);              /* len = 0, keeps memory */
bool ag_bytes_reserve(ag_bytes *b, size_t extra);
void ag_bytes_put(ag_bytes *b, const void *p, size_t n);
void ag_bytes_put_u8(ag_bytes *b, uint8_t v);
void ag_bytes_put_uvarint(ag_bytes *b, uint64_t v); /* minimal unsigned LEB128 */
void ag_bytes_put_str(ag_bytes *b, const char *s, size_t n); /* uvarint length + bytes */

/* Read an unsigned LEB128 at *pos, no larger than max (UINT16_MAX, UINT32_MAX or
 * UINT64_MAX). Returns 0 and advances *pos, or -1 (truncated), -2 (does not fit in max,
 * including an over-long 10th byte), -3 (not minimal: trailing zero group). */
int ag_get_uvarint(const uint8_t *data, size_t len, size_t *pos, uint64_t max, uint64_t *out);

/* Size in bytes of v as a LEB128. */
size_t ag_uvarint_size(uint64_t v);

#endif
