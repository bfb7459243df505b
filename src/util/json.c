/* json.c — strict JSON reader (RFC 8259) with exact integers, and writer helpers. */
#include "util/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AG_JSON_MAX_DEPTH 64

/* ------------------------------------------------------------------------ */
/* Reader                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct jparser {
    const unsigned char *s;
    size_t len, pos;
    /* position tracking: line number, start of the current line, and a cached
     * column so that computing columns stays linear on long lines */
    int line;
    size_t line_start;
    size_t col_pos;
    int col;
    char *err;
    size_t errlen;
    bool failed;
} jparser;

/* Column (1-based, in characters) of byte offset at on the current line. */
static int jp_col(jparser *p, size_t at) {
    if (p->col_pos < p->line_start || p->col_pos > at) {
        p->col_pos = p->line_start;
        p->col = 1;
    }
    while (p->col_pos < at) {
        if ((p->s[p->col_pos] & 0xC0) != 0x80) p->col++;
        p->col_pos++;
    }
    /* at points into a multi-byte char's continuation: still that char's column */
    return p->col;
}

static void jp_fail_at(jparser *p, size_t at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void jp_fail_at(jparser *p, size_t at, const char *fmt, ...) {
    if (p->failed) return;
    p->failed = true;
    if (!p->err || p->errlen == 0) return;
    /* `at` is on the current line (we never fail behind a newline we passed) */
    int n = snprintf(p->err, p->errlen, "line %d, column %d: ", p->line, jp_col(p, at));
    if (n < 0 || (size_t)n >= p->errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static void jp_skip_ws(jparser *p) {
    while (p->pos < p->len) {
        unsigned char c = p->s[p->pos];
        if (c == '\n') {
            p->pos++;
            p->line++;
            p->line_start = p->pos;
        } else if (c == ' ' || c == '\t' || c == '\r') {
            p->pos++;
        } else {
            break;
        }
    }
}

static const char *describe_char(unsigned char c, char *buf, size_t n) {
    if (c >= 0x20 && c < 0x7f)
        snprintf(buf, n, "'%c'", c);
    else
        snprintf(buf, n, "byte 0x%02x", c);
    return buf;
}

/* A new node; line/col are taken where the value starts (computed before the
 * parser moves on, so column tracking stays linear). */
static ag_json *jnew(jparser *p, ag_json_type t, size_t at, int line, int col) {
    ag_json *v = calloc(1, sizeof *v);
    if (!v) {
        jp_fail_at(p, at, "out of memory");
        return NULL;
    }
    v->type = t;
    v->line = line;
    v->col = col;
    return v;
}

/* Decode one UTF-8 sequence at s[0..n). Returns its length, or 0 if invalid
 * (overlong, surrogate, above U+10FFFF, truncated). */
static size_t utf8_seq(const unsigned char *s, size_t n) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return 0;
    if (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return 0;
    return len;
}

static int hex4(const unsigned char *s, uint32_t *out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, uint32_t cp) {
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parse a string starting at the opening quote. The decoded text is never longer
 * than the source, so one allocation of the source span suffices. */
static char *jp_string(jparser *p, size_t *out_len) {
    size_t start = p->pos; /* at '"' */
    p->pos++;
    /* find the end first to size the buffer */
    size_t end = p->pos;
    while (end < p->len && p->s[end] != '"') {
        if (p->s[end] == '\\' && end + 1 < p->len) end++;
        end++;
    }
    if (end >= p->len) {
        jp_fail_at(p, start, "unterminated string");
        return NULL;
    }
    char *o = malloc(end - p->pos + 1);
    if (!o) {
        jp_fail_at(p, start, "out of memory");
        return NULL;
    }
    size_t n = 0;
    while (p->pos < end) {
        unsigned char c = p->s[p->pos];
        if (c == '\\') {
            size_t esc = p->pos;
            unsigned char e = p->s[p->pos + 1];
            p->pos += 2;
            switch (e) {
            case '"': o[n++] = '"'; break;
            case '\\': o[n++] = '\\'; break;
            case '/': o[n++] = '/'; break;
            case 'b': o[n++] = '\b'; break;
            case 'f': o[n++] = '\f'; break;
            case 'n': o[n++] = '\n'; break;
            case 'r': o[n++] = '\r'; break;
            case 't': o[n++] = '\t'; break;
            case 'u': {
                uint32_t cp;
                if (end - p->pos < 4 || hex4(p->s + p->pos, &cp) < 0) {
                    jp_fail_at(p, esc, "invalid \\u escape (expected four hex digits)");
                    goto fail;
                }
                p->pos += 4;
                if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    jp_fail_at(p, esc, "lone low surrogate \\u%04X in string", (unsigned)cp);
                    goto fail;
                }
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo;
                    if (end - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u' ||
                        hex4(p->s + p->pos + 2, &lo) < 0 || lo < 0xDC00 || lo > 0xDFFF) {
                        jp_fail_at(p, esc,
                                   "high surrogate \\u%04X not followed by a low surrogate",
                                   (unsigned)cp);
                        goto fail;
                    }
                    p->pos += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                n += put_utf8(o + n, cp);
                break;
            }
            default: {
                char d[16];
                jp_fail_at(p, esc, "invalid escape in string: backslash followed by %s",
                           describe_char(e, d, sizeof d));
                goto fail;
            }
            }
        } else if (c < 0x20) {
            jp_fail_at(p, p->pos, "control character 0x%02x in string (must be escaped)", c);
            goto fail;
        } else if (c < 0x80) {
            o[n++] = (char)c;
            p->pos++;
        } else {
            size_t l = utf8_seq(p->s + p->pos, end - p->pos);
            if (!l) {
                jp_fail_at(p, p->pos, "invalid UTF-8 in string");
                goto fail;
            }
            memcpy(o + n, p->s + p->pos, l);
            n += l;
            p->pos += l;
        }
    }
    p->pos = end + 1;
    o[n] = 0;
    *out_len = n;
    return o;
fail:
    free(o);
    return NULL;
}

static ag_json *jp_number(jparser *p, int line, int col) {
    size_t start = p->pos;
    const unsigned char *s = p->s;
    size_t i = p->pos;
    bool neg = false, integer = true;
    if (i < p->len && s[i] == '-') {
        neg = true;
        i++;
    }
    if (i >= p->len || s[i] < '0' || s[i] > '9') {
        jp_fail_at(p, start, "invalid number");
        return NULL;
    }
    size_t dstart = i;
    if (s[i] == '0') {
        i++;
        if (i < p->len && s[i] >= '0' && s[i] <= '9') {
            jp_fail_at(p, start, "invalid number (leading zero)");
            return NULL;
        }
    } else {
        while (i < p->len && s[i] >= '0' && s[i] <= '9') i++;
    }
    size_t dend = i;
    if (i < p->len && s[i] == '.') {
        integer = false;
        i++;
        if (i >= p->len || s[i] < '0' || s[i] > '9') {
            jp_fail_at(p, start, "invalid number (digit expected after '.')");
            return NULL;
        }
        while (i < p->len && s[i] >= '0' && s[i] <= '9') i++;
    }
    if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
        integer = false;
        i++;
        if (i < p->len && (s[i] == '+' || s[i] == '-')) i++;
        if (i >= p->len || s[i] < '0' || s[i] > '9') {
            jp_fail_at(p, start, "invalid number (digit expected in exponent)");
            return NULL;
        }
        while (i < p->len && s[i] >= '0' && s[i] <= '9') i++;
    }
    ag_json *v = jnew(p, AG_JSON_NUMBER, start, line, col);
    if (!v) return NULL;
    size_t tl = i - start;
    v->num_text = malloc(tl + 1);
    if (!v->num_text) {
        free(v);
        jp_fail_at(p, start, "out of memory");
        return NULL;
    }
    memcpy(v->num_text, s + start, tl);
    v->num_text[tl] = 0;
    v->is_integer = integer;
    v->is_negative = neg;
    if (integer) {
        /* magnitude, exactly, with overflow detection */
        uint64_t mag = 0;
        bool over = false;
        for (size_t k = dstart; k < dend; k++) {
            unsigned d = (unsigned)(s[k] - '0');
            if (mag > (UINT64_MAX - d) / 10) {
                over = true;
                break;
            }
            mag = mag * 10 + d;
        }
        if (neg) {
            /* "-0" is zero: fits both */
            if (mag == 0) {
                v->is_negative = false;
                v->fits_u64 = v->fits_i64 = true;
            } else if (!over && mag <= (uint64_t)INT64_MAX + 1) {
                v->fits_i64 = true;
                v->i64 = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
            }
        } else if (!over) {
            v->fits_u64 = true;
            v->u64 = mag;
            if (mag <= (uint64_t)INT64_MAX) {
                v->fits_i64 = true;
                v->i64 = (int64_t)mag;
            }
        }
    }
    v->dbl = strtod(v->num_text, NULL);
    p->pos = i;
    return v;
}

static bool jp_literal(jparser *p, const char *word) {
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) return false;
    /* "truex": the caller reports the 'x' that follows */
    p->pos += n;
    return true;
}

static ag_json *jp_value(jparser *p, int depth);

static bool jp_push(ag_json *v, ag_json *item, char *key, size_t *cap) {
    if (v->count == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        ag_json **ni = realloc(v->items, nc * sizeof *ni);
        if (!ni) return false;
        v->items = ni;
        if (v->type == AG_JSON_OBJECT) {
            char **nk = realloc(v->keys, nc * sizeof *nk);
            if (!nk) return false;
            v->keys = nk;
        }
        *cap = nc;
    }
    v->items[v->count] = item;
    if (v->type == AG_JSON_OBJECT) v->keys[v->count] = key;
    v->count++;
    return true;
}

static ag_json *jp_container(jparser *p, int depth, bool object, int line, int col) {
    size_t start = p->pos;
    if (depth >= AG_JSON_MAX_DEPTH) {
        jp_fail_at(p, start, "nesting deeper than %d levels", AG_JSON_MAX_DEPTH);
        return NULL;
    }
    ag_json *v = jnew(p, object ? AG_JSON_OBJECT : AG_JSON_ARRAY, start, line, col);
    if (!v) return NULL;
    size_t cap = 0;
    char close = object ? '}' : ']';
    p->pos++;
    jp_skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == (unsigned char)close) {
        p->pos++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        jp_skip_ws(p);
        if (object) {
            if (p->pos >= p->len) {
                jp_fail_at(p, p->pos, "unexpected end of input (expected a member name)");
                goto fail;
            }
            if (p->s[p->pos] != '"') {
                char d[16];
                jp_fail_at(p, p->pos, "expected a member name in double quotes, found %s",
                           describe_char(p->s[p->pos], d, sizeof d));
                goto fail;
            }
            size_t klen;
            key = jp_string(p, &klen);
            if (!key) goto fail;
            jp_skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') {
                free(key);
                if (p->pos >= p->len)
                    jp_fail_at(p, p->pos, "unexpected end of input (expected ':')");
                else {
                    char d[16];
                    jp_fail_at(p, p->pos, "expected ':' after member name, found %s",
                               describe_char(p->s[p->pos], d, sizeof d));
                }
                goto fail;
            }
            p->pos++;
        }
        ag_json *item = jp_value(p, depth + 1);
        if (!item) {
            free(key);
            goto fail;
        }
        if (!jp_push(v, item, key, &cap)) {
            ag_json_free(item);
            free(key);
            jp_fail_at(p, start, "out of memory");
            goto fail;
        }
        jp_skip_ws(p);
        if (p->pos >= p->len) {
            jp_fail_at(p, p->pos, "unexpected end of input (expected ',' or '%c')", close);
            goto fail;
        }
        unsigned char c = p->s[p->pos];
        if (c == ',') {
            p->pos++;
            jp_skip_ws(p);
            if (p->pos < p->len && p->s[p->pos] == (unsigned char)close) {
                jp_fail_at(p, p->pos, "trailing comma before '%c'", close);
                goto fail;
            }
            continue;
        }
        if (c == (unsigned char)close) {
            p->pos++;
            return v;
        }
        char d[16];
        jp_fail_at(p, p->pos, "expected ',' or '%c', found %s", close,
                   describe_char(c, d, sizeof d));
        goto fail;
    }
fail:
    ag_json_free(v);
    return NULL;
}

static ag_json *jp_value(jparser *p, int depth) {
    jp_skip_ws(p);
    if (p->pos >= p->len) {
        jp_fail_at(p, p->pos, "unexpected end of input (expected a value)");
        return NULL;
    }
    size_t start = p->pos;
    int line = p->line, col = jp_col(p, start);
    unsigned char c = p->s[p->pos];
    switch (c) {
    case '{': return jp_container(p, depth, true, line, col);
    case '[': return jp_container(p, depth, false, line, col);
    case '"': {
        ag_json *v = jnew(p, AG_JSON_STRING, start, line, col);
        if (!v) return NULL;
        v->str = jp_string(p, &v->str_len);
        if (!v->str) {
            free(v);
            return NULL;
        }
        return v;
    }
    case 't':
    case 'f':
        if (jp_literal(p, c == 't' ? "true" : "false")) {
            ag_json *v = jnew(p, AG_JSON_BOOL, start, line, col);
            if (v) v->boolean = c == 't';
            return v;
        }
        break;
    case 'n':
        if (jp_literal(p, "null")) return jnew(p, AG_JSON_NULL, start, line, col);
        break;
    default:
        if (c == '-' || (c >= '0' && c <= '9')) return jp_number(p, line, col);
        break;
    }
    char d[16];
    jp_fail_at(p, start, "unexpected %s (expected a value)", describe_char(c, d, sizeof d));
    return NULL;
}

ag_json *ag_json_parse(const char *text, size_t len, char *err, size_t errlen) {
    jparser p = {.s = (const unsigned char *)text, .len = len, .line = 1, .col = 1,
                 .err = err, .errlen = errlen};
    if (err && errlen) err[0] = 0;
    if (!text) {
        p.s = (const unsigned char *)"";
        p.len = 0;
    }
    /* a UTF-8 byte order mark is tolerated */
    if (p.len >= 3 && !memcmp(p.s, "\xEF\xBB\xBF", 3)) {
        p.pos = 3;
        p.line_start = 3;
    }
    ag_json *v = jp_value(&p, 0);
    if (!v) return NULL;
    jp_skip_ws(&p);
    if (p.pos < p.len) {
        char d[16];
        jp_fail_at(&p, p.pos, "unexpected %s after the value",
                   describe_char(p.s[p.pos], d, sizeof d));
        ag_json_free(v);
        return NULL;
    }
    return v;
}

void ag_json_free(ag_json *v) {
    if (!v) return;
    for (size_t i = 0; i < v->count; i++) {
        ag_json_free(v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->num_text);
    free(v->str);
    free(v);
}

ag_json *ag_json_get(const ag_json *obj, const char *key) {
    if (!obj || obj->type != AG_JSON_OBJECT || !key) return NULL;
    for (size_t i = 0; i < obj->count; i++)
        if (!strcmp(obj->keys[i], key)) return obj->items[i];
    return NULL;
}

const char *ag_json_type_name(ag_json_type t) {
    switch (t) {
    case AG_JSON_NULL: return "null";
    case AG_JSON_BOOL: return "boolean";
    case AG_JSON_NUMBER: return "number";
    case AG_JSON_STRING: return "string";
    case AG_JSON_ARRAY: return "array";
    case AG_JSON_OBJECT: return "object";
    }
    return "unknown";
}

/* ------------------------------------------------------------------------ */
/* Writer                                                                    */
/* ------------------------------------------------------------------------ */

void ag_json_put_string(ag_buf *b, const char *s, size_t len) {
    static const char hex[] = "0123456789abcdef";
    ag_buf_put(b, "\"", 1);
    size_t run = 0; /* start of the current run of bytes that need no escaping */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        char u[6];
        switch (c) {
        case '"': rep = "\\\""; break;
        case '\\': rep = "\\\\"; break;
        case '\n': rep = "\\n"; break;
        case '\r': rep = "\\r"; break;
        case '\t': rep = "\\t"; break;
        case '\b': rep = "\\b"; break;
        case '\f': rep = "\\f"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                u[0] = '\\';
                u[1] = 'u';
                u[2] = '0';
                u[3] = '0';
                u[4] = hex[c >> 4];
                u[5] = hex[c & 15];
                ag_buf_put(b, s + run, i - run);
                ag_buf_put(b, u, 6);
                run = i + 1;
            }
            continue;
        }
        ag_buf_put(b, s + run, i - run);
        ag_buf_puts(b, rep);
        run = i + 1;
    }
    ag_buf_put(b, s + run, len - run);
    ag_buf_put(b, "\"", 1);
}

void ag_json_put_u64(ag_buf *b, uint64_t v) {
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    ag_buf_put(b, tmp, (size_t)n);
}

void ag_json_put_i64(ag_buf *b, int64_t v) {
    char tmp[24];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)v);
    ag_buf_put(b, tmp, (size_t)n);
}
