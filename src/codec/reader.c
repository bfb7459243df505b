/* reader.c — the bounds-checked reader both decoders use (see codec_internal.h). */
#include "codec/codec_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ag_rd_fail(ag_rd *r, size_t at, const char *fmt, ...) {
    r->err_off = at;
    if (r->err && r->errlen) {
        int n = snprintf(r->err, r->errlen, "byte %zu: ", at);
        if (n >= 0 && (size_t)n < r->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return AGORA_EDECODE;
}

static int width_bits(uint64_t max) {
    return max == UINT16_MAX ? 16 : max == UINT32_MAX ? 32 : 64;
}

int ag_rd_uv(ag_rd *r, uint64_t max, const char *what, uint64_t *out) {
    size_t at = r->pos;
    int rc = ag_get_uvarint(r->d, r->len, &r->pos, max, out);
    if (rc == 0) return AGORA_OK;
    r->pos = at;
    if (at >= r->len) return ag_rd_fail(r, at, "%s: missing (input ends here)", what);
    if (rc == -1) return ag_rd_fail(r, at, "%s: truncated LEB128 (input ends at byte %zu)", what, r->len);
    if (rc == -2) return ag_rd_fail(r, at, "%s: LEB128 value does not fit in %d bits", what, width_bits(max));
    return ag_rd_fail(r, at, "%s: LEB128 is not in its shortest form", what);
}

int ag_rd_u8(ag_rd *r, const char *what, uint8_t *out) {
    if (r->pos >= r->len) return ag_rd_fail(r, r->pos, "%s: missing (input ends here)", what);
    *out = r->d[r->pos++];
    return AGORA_OK;
}

int ag_rd_raw(ag_rd *r, const char *what, size_t n, const uint8_t **out) {
    if (n > r->len - r->pos)
        return ag_rd_fail(r, r->pos, "%s: %zu bytes needed, only %zu left", what, n,
                          r->len - r->pos);
    *out = r->d + r->pos;
    r->pos += n;
    return AGORA_OK;
}

/* nul_len NULL: a NUL byte is an error; otherwise it is kept and *nul_len gets the
 * string's length when it holds one (0 when it does not). */
static int read_str(ag_rd *r, const char *what, const char **out, size_t *nul_len) {
    size_t at = r->pos;
    uint64_t n;
    int rc = ag_rd_uv(r, UINT64_MAX, what, &n);
    if (rc) return rc;
    /* Check the length against what is left before allocating anything. */
    if (n > r->len - r->pos) {
        r->pos = at;
        return ag_rd_fail(r, at, "%s: string of %llu bytes runs past the end (%zu left)",
                          what, (unsigned long long)n, r->len - (r->pos + ag_uvarint_size(n)));
    }
    const uint8_t *s = r->d + r->pos;
    size_t bad = ag_utf8_check(s, (size_t)n);
    if (bad < n) return ag_rd_fail(r, r->pos + bad, "%s: invalid UTF-8", what);
    const void *nul = memchr(s, 0, (size_t)n);
    if (nul_len) *nul_len = nul ? (size_t)n : 0;
    else if (nul) return ag_rd_fail(r, r->pos + (size_t)((const uint8_t *)nul - s), "%s: NUL byte in string", what);
    char *c = malloc((size_t)n + 1);
    if (!c) {
        ag_rd_fail(r, at, "%s: out of memory", what);
        return AGORA_ENOMEM;
    }
    memcpy(c, s, (size_t)n);
    c[n] = 0;
    r->pos += (size_t)n;
    *out = c;
    return AGORA_OK;
}

int ag_rd_str(ag_rd *r, const char *what, const char **out) {
    return read_str(r, what, out, NULL);
}

int ag_rd_str_nul(ag_rd *r, const char *what, const char **out, size_t *nul_len) {
    return read_str(r, what, out, nul_len);
}
