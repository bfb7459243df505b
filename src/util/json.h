/* json.h — a small JSON reader and writer.
 * Own implementation because agora needs exact 64-bit integers (no doubles),
 * line/column in parse errors, and no dependency for the codec hot path. */
#ifndef AG_JSON_H
#define AG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

typedef enum ag_json_type {
    AG_JSON_NULL,
    AG_JSON_BOOL,
    AG_JSON_NUMBER,
    AG_JSON_STRING,
    AG_JSON_ARRAY,
    AG_JSON_OBJECT
} ag_json_type;

typedef struct ag_json ag_json;
struct ag_json {
    ag_json_type type;
    bool boolean;
    /* NUMBER: the literal text, and what it fits in */
    char *num_text;
    bool is_integer;       /* no fraction or exponent */
    bool is_negative;
    uint64_t u64;          /* valid when is_integer && !is_negative && fits_u64 */
    int64_t i64;           /* valid when is_integer && fits_i64 */
    bool fits_u64, fits_i64;
    double dbl;
    /* STRING: UTF-8, may contain NUL (len) */
    char *str;
    size_t str_len;
    /* ARRAY / OBJECT: children; keys[i] for OBJECT */
    size_t count;
    ag_json **items;
    char **keys;
    /* where the value starts in the source (1-based) */
    int line, col;
};

/* Parse exactly one JSON value (surrounding whitespace allowed). On error returns NULL
 * and writes "line L, column C: what" into err. Depth is limited (64). */
ag_json *ag_json_parse(const char *text, size_t len, char *err, size_t errlen);
void ag_json_free(ag_json *v);

/* Object member lookup (first match), or NULL. */
ag_json *ag_json_get(const ag_json *obj, const char *key);
const char *ag_json_type_name(ag_json_type t); /* "null","boolean","number","string","array","object" */

/* JSON writing helpers: a quoted, escaped string; u64/i64 exactly. */
void ag_json_put_string(ag_buf *b, const char *s, size_t len);
void ag_json_put_u64(ag_buf *b, uint64_t v);
void ag_json_put_i64(ag_buf *b, int64_t v);

#endif
