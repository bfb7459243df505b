/* buf.c — the growable byte/text buffer: growth policy, oom flag, the NUL after the data. */
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ag_buf_init(ag_buf *b) { memset(b, 0, sizeof *b); }

void ag_buf_free(ag_buf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

void ag_buf_reset(ag_buf *b) {
    b->len = 0;
    if (b->data) b->data[0] = 0;
}

bool ag_buf_reserve(ag_buf *b, size_t extra) {
    if (b->oom) return false;
    if (extra < b->cap - b->len) return true; /* strictly less: one byte stays for the NUL */
    if (extra >= SIZE_MAX - b->len) {
        b->oom = true;
        return false;
    }
    size_t need = b->len + extra + 1;
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

void ag_buf_put(ag_buf *b, const void *p, size_t n) {
    if (!ag_buf_reserve(b, n)) return;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
}

void ag_buf_put_u8(ag_buf *b, uint8_t v) {
    if (!ag_buf_reserve(b, 1)) return;
    b->data[b->len++] = v;
    b->data[b->len] = 0;
}

void ag_buf_puts(ag_buf *b, const char *s) { ag_buf_put(b, s, strlen(s)); }

void ag_buf_printf(ag_buf *b, const char *fmt, ...) {
    if (b->oom) return;
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        ag_buf_put(b, small, (size_t)n);
        return;
    }
    if (!ag_buf_reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->text + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *ag_buf_take(ag_buf *b) {
    if (b->oom || (!b->data && !ag_buf_reserve(b, 0))) {
        ag_buf_free(b);
        return NULL;
    }
    b->data[b->len] = 0;
    char *s = b->text;
    memset(b, 0, sizeof *b);
    return s;
}
