/* buf.h — one growable buffer for bytes (codecs, outbox, seal) and text (JSON
 * writers, error collection).
 *
 * The contents have two views through an anonymous union: byte users read and write
 * .data (uint8_t *), text users .text (char *). Both name the same pointer, so no
 * casts are needed at either kind of call site, and the compiler still tells the two
 * uses apart (-Wpointer-sign).
 *
 * Invariant: once anything was put (or reserved), the byte after the data is a NUL,
 * so .text is a C string. It costs one byte of reserve: every reserve keeps room for
 * it and every put writes it, with no extra pass over the data. Code that writes into
 * reserved room directly ends with ag_buf_set_len, which keeps the NUL. */
#ifndef AG_BUF_H
#define AG_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ag_buf {
    union {
        uint8_t *data; /* the bytes view */
        char *text;    /* the text view: NUL-terminated */
    };
    size_t len;  /* bytes in use, not counting the NUL */
    size_t cap;  /* bytes allocated, the NUL included */
    bool oom;    /* set once an allocation failed; later puts are ignored */
} ag_buf;

void ag_buf_init(ag_buf *b);
void ag_buf_free(ag_buf *b);
void ag_buf_reset(ag_buf *b); /* len = 0, keeps memory */

/* Make room for extra more bytes (and the NUL after them): afterwards
 * data[len .. len + extra] is writable. False (and oom set) when that fails. */
bool ag_buf_reserve(ag_buf *b, size_t extra);

/* Set len after writing into reserved room (or to cut the data short): len must
 * be below cap. Writes the NUL after the data. Inline: it is on the encode path. */
static inline void ag_buf_set_len(ag_buf *b, size_t len) {
    if (!b->data) return; /* nothing was ever reserved: stays empty */
    b->len = len;
    b->data[len] = 0;
}

void ag_buf_put(ag_buf *b, const void *p, size_t n);
void ag_buf_put_u8(ag_buf *b, uint8_t v);
void ag_buf_puts(ag_buf *b, const char *s);
void ag_buf_printf(ag_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Take ownership of the NUL-terminated contents ("" when nothing was put, NULL if
 * oom); leaves b empty. */
char *ag_buf_take(ag_buf *b);

#endif
