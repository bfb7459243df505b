/* codec_internal.h — helpers shared by the codec's files (not part of any contract). */
#ifndef AG_CODEC_INTERNAL_H
#define AG_CODEC_INTERNAL_H

#include "codec/codec.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A bounds-checked reader over data[0..len). Every failure writes "byte N: what"
 * into err, remembers N in err_off and returns AGORA_EDECODE. */
typedef struct ag_rd {
    const uint8_t *d;
    size_t len, pos;
    size_t err_off;
    char *err;
    size_t errlen;
} ag_rd;

int ag_rd_fail(ag_rd *r, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int ag_rd_uv(ag_rd *r, uint64_t max, const char *what, uint64_t *out);
int ag_rd_u8(ag_rd *r, const char *what, uint8_t *out);
/* n raw bytes; *out points into the input. */
int ag_rd_raw(ag_rd *r, const char *what, size_t n, const uint8_t **out);
/* length-prefixed UTF-8 without NUL bytes, returned as a malloc'ed C string */
int ag_rd_str(ag_rd *r, const char *what, const char **out);
/* the same, NUL bytes allowed (Stalwart's strings): *nul_len is the length when the
 * string holds a NUL, else 0 (agora_event's calendar_alert.uid_len rule) */
int ag_rd_str_nul(ag_rd *r, const char *what, const char **out, size_t *nul_len);

/* Bytes of a string that may hold NULs: len when non-zero, else up to its first NUL. */
static inline size_t ag_text_len(const char *s, size_t len) {
    return !s ? 0 : len ? len : strlen(s);
}

/* Offset of the first byte that is not strict UTF-8, or len if all valid. */
size_t ag_utf8_check(const uint8_t *s, size_t len);

/* Stalwart bodies, shared by both formats. get: tag is the Stalwart tag (0..12),
 * the reader is bounded by the body's end; ev is cleared on failure. put: writes
 * the body only and returns the tag in *tag. */
int ag_stalwart_get_body(ag_rd *r, uint8_t tag, agora_event *ev);
int ag_stalwart_put_body(ag_buf *b, const agora_event *ev, uint8_t *tag, char *err,
                         size_t errlen);

#endif
