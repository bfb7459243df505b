/* test_json.c — the JSON reader/writer (src/util/json.c), the buffer (src/util/buf.c)
 * and LEB128 (src/util/leb128.c). */
#include "util/buf.h"
#include "util/json.h"
#include "util/leb128.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static ag_json *parse(const char *s, char *err, size_t errlen) {
    return ag_json_parse(s, strlen(s), err, errlen);
}

/* Parse must fail, and the message must start with "line L, column C:" and contain what. */
static void expect_error(const char *text, size_t len, int line, int col, const char *what) {
    char err[256], prefix[64];
    ag_json *v = ag_json_parse(text, len, err, sizeof err);
    snprintf(prefix, sizeof prefix, "line %d, column %d: ", line, col);
    if (v || strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, what)) {
        fprintf(stderr, "input %.*s: expected error \"%s%s...\", got %s\n", (int)len, text,
                prefix, what, v ? "success" : err);
        failures++;
    }
    ag_json_free(v);
}
#define EXPECT_ERROR(text, line, col, what) expect_error(text, sizeof(text) - 1, line, col, what)

static void test_scalars(void) {
    char err[256];
    ag_json *v = parse("  true ", err, sizeof err);
    CHECK(v && v->type == AG_JSON_BOOL && v->boolean);
    ag_json_free(v);
    v = parse("false", err, sizeof err);
    CHECK(v && v->type == AG_JSON_BOOL && !v->boolean);
    ag_json_free(v);
    v = parse("null", err, sizeof err);
    CHECK(v && v->type == AG_JSON_NULL);
    ag_json_free(v);
    v = parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"", err, sizeof err);
    CHECK(v && v->type == AG_JSON_STRING && v->str_len == 12 &&
          !memcmp(v->str, "a\"b\\c/d\b\f\n\r\t", 12));
    ag_json_free(v);
}

static void test_numbers(void) {
    char err[256];
    ag_json *v = parse("18446744073709551615", err, sizeof err);
    CHECK(v && v->is_integer && v->fits_u64 && v->u64 == UINT64_MAX && !v->fits_i64);
    CHECK(v && !strcmp(v->num_text, "18446744073709551615"));
    ag_json_free(v);
    v = parse("18446744073709551616", err, sizeof err);
    CHECK(v && v->is_integer && !v->fits_u64 && !v->fits_i64);
    ag_json_free(v);
    v = parse("-9223372036854775808", err, sizeof err);
    CHECK(v && v->is_integer && v->is_negative && v->fits_i64 && v->i64 == INT64_MIN &&
          !v->fits_u64);
    ag_json_free(v);
    v = parse("-9223372036854775809", err, sizeof err);
    CHECK(v && v->is_integer && !v->fits_i64 && !v->fits_u64);
    ag_json_free(v);
    v = parse("9223372036854775807", err, sizeof err);
    CHECK(v && v->fits_i64 && v->i64 == INT64_MAX && v->fits_u64 &&
          v->u64 == 9223372036854775807ULL);
    ag_json_free(v);
    v = parse("-0", err, sizeof err);
    CHECK(v && v->is_integer && v->fits_u64 && v->u64 == 0 && v->fits_i64 && v->i64 == 0);
    ag_json_free(v);
    v = parse("1.5e3", err, sizeof err);
    CHECK(v && !v->is_integer && !v->fits_u64 && v->dbl == 1500.0);
    ag_json_free(v);
    v = parse("-2.25", err, sizeof err);
    CHECK(v && !v->is_integer && v->is_negative && v->dbl == -2.25);
    ag_json_free(v);
    v = parse("1E+2", err, sizeof err);
    CHECK(v && !v->is_integer && v->dbl == 100.0);
    ag_json_free(v);
    EXPECT_ERROR("01", 1, 1, "leading zero");
    EXPECT_ERROR("1.", 1, 1, "after '.'");
    EXPECT_ERROR("1e", 1, 1, "exponent");
    EXPECT_ERROR("-", 1, 1, "invalid number");
    EXPECT_ERROR("+1", 1, 1, "unexpected '+'");
    EXPECT_ERROR(".5", 1, 1, "unexpected '.'");
}

static void test_containers(void) {
    char err[256];
    const char *text = "{\n  \"a\": [1, 2, {\"b\": null}],\n  \"c\": \"x\",\n  \"a\": 5\n}";
    ag_json *v = parse(text, err, sizeof err);
    CHECK(v && v->type == AG_JSON_OBJECT && v->count == 3);
    if (v) {
        ag_json *a = ag_json_get(v, "a");
        CHECK(a && a->type == AG_JSON_ARRAY && a->count == 3);
        CHECK(a && a->line == 2 && a->col == 8);
        CHECK(a && a->items[2]->type == AG_JSON_OBJECT &&
              ag_json_get(a->items[2], "b")->type == AG_JSON_NULL);
        ag_json *c = ag_json_get(v, "c");
        CHECK(c && c->line == 3 && c->col == 8 && !strcmp(c->str, "x"));
        CHECK(ag_json_get(v, "missing") == NULL);
        CHECK(!strcmp(v->keys[2], "a")); /* duplicates kept; get returns the first */
        CHECK(v->line == 1 && v->col == 1);
    }
    ag_json_free(v);
    CHECK(ag_json_get(NULL, "a") == NULL);
    v = parse("[]", err, sizeof err);
    CHECK(v && v->type == AG_JSON_ARRAY && v->count == 0);
    CHECK(ag_json_get(v, "a") == NULL); /* not an object */
    ag_json_free(v);
    v = parse("{}", err, sizeof err);
    CHECK(v && v->type == AG_JSON_OBJECT && v->count == 0);
    ag_json_free(v);

    /* columns count characters, not bytes */
    v = parse("[\"é\", 1]", err, sizeof err);
    CHECK(v && v->items[1]->col == 7);
    ag_json_free(v);

    CHECK(!strcmp(ag_json_type_name(AG_JSON_NULL), "null"));
    CHECK(!strcmp(ag_json_type_name(AG_JSON_BOOL), "boolean"));
    CHECK(!strcmp(ag_json_type_name(AG_JSON_NUMBER), "number"));
    CHECK(!strcmp(ag_json_type_name(AG_JSON_STRING), "string"));
    CHECK(!strcmp(ag_json_type_name(AG_JSON_ARRAY), "array"));
    CHECK(!strcmp(ag_json_type_name(AG_JSON_OBJECT), "object"));
}

static void test_errors(void) {
    EXPECT_ERROR("", 1, 1, "unexpected end of input");
    EXPECT_ERROR("   ", 1, 4, "unexpected end of input");
    EXPECT_ERROR("{\"a\": 1,}", 1, 9, "trailing comma");
    EXPECT_ERROR("[1,]", 1, 4, "trailing comma");
    EXPECT_ERROR("{\"a\" 1}", 1, 6, "expected ':'");
    EXPECT_ERROR("{a: 1}", 1, 2, "member name");
    EXPECT_ERROR("{\"a\": 1\n \"b\": 2}", 2, 2, "expected ',' or '}'");
    EXPECT_ERROR("[1 2]", 1, 4, "expected ',' or ']'");
    EXPECT_ERROR("{\"a\":", 1, 6, "unexpected end of input");
    EXPECT_ERROR("[1", 1, 3, "unexpected end of input");
    EXPECT_ERROR("\"abc", 1, 1, "unterminated string");
    EXPECT_ERROR("{} x", 1, 4, "after the value");
    EXPECT_ERROR("1 2", 1, 3, "after the value");
    EXPECT_ERROR("truex", 1, 5, "after the value");
    EXPECT_ERROR("tru", 1, 1, "unexpected 't'");
    EXPECT_ERROR("nul", 1, 1, "unexpected 'n'");
    EXPECT_ERROR("\n\n   @", 3, 4, "unexpected '@'");
    EXPECT_ERROR("\"a\tb\"", 1, 3, "control character 0x09");
    EXPECT_ERROR("\"a\\qb\"", 1, 3, "invalid escape");
    EXPECT_ERROR("\"\\u12G4\"", 1, 2, "four hex digits");
    EXPECT_ERROR("\"\\u12\"", 1, 2, "four hex digits");
    /* surrogates */
    EXPECT_ERROR("\"\\uDC00\"", 1, 2, "lone low surrogate");
    EXPECT_ERROR("\"\\uD800\"", 1, 2, "not followed by a low surrogate");
    EXPECT_ERROR("\"\\uD800\\u0041\"", 1, 2, "not followed by a low surrogate");
    EXPECT_ERROR("\"\\uD800x\"", 1, 2, "not followed by a low surrogate");
    /* invalid UTF-8: stray continuation, overlong, encoded surrogate, > U+10FFFF,
     * truncated sequence, 0xFF */
    EXPECT_ERROR("\"\x80\"", 1, 2, "invalid UTF-8");
    EXPECT_ERROR("\"\xC0\xAF\"", 1, 2, "invalid UTF-8");
    EXPECT_ERROR("\"\xE0\x80\xAF\"", 1, 2, "invalid UTF-8");
    EXPECT_ERROR("\"\xED\xA0\x80\"", 1, 2, "invalid UTF-8");
    EXPECT_ERROR("\"\xF4\x90\x80\x80\"", 1, 2, "invalid UTF-8");
    EXPECT_ERROR("\"\xE2\x82\"", 1, 2, "invalid UTF-8");
    EXPECT_ERROR("\"ab\xFF\"", 1, 4, "invalid UTF-8");
    EXPECT_ERROR("[\"\xC3\xA9\", \xC3\xA9]", 1, 7, "unexpected byte 0xc3");

    /* depth: 64 nested arrays parse, 65 do not */
    char deep[200];
    memset(deep, '[', 64);
    memset(deep + 64, ']', 64);
    char err[256];
    ag_json *v = ag_json_parse(deep, 128, err, sizeof err);
    CHECK(v != NULL);
    ag_json_free(v);
    memset(deep, '[', 65);
    memset(deep + 65, ']', 65);
    expect_error(deep, 130, 1, 65, "nesting deeper than 64");

    /* a NUL inside the text is garbage, not the end */
    expect_error("{}\0", 3, 1, 3, "after the value");
    /* the error buffer is optional and truncation is safe */
    CHECK(ag_json_parse("[", 1, NULL, 0) == NULL);
    char small[8];
    CHECK(ag_json_parse("[", 1, small, sizeof small) == NULL && strlen(small) == 7);
}

static void test_unicode(void) {
    char err[256];
    ag_json *v = parse("\"\\u00e9\\u20AC\\uD83D\\uDE00\\u0000z\"", err, sizeof err);
    CHECK(v && v->str_len == 2 + 3 + 4 + 1 + 1);
    CHECK(v && !memcmp(v->str, "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\0z", 11));
    ag_json_free(v);
    v = parse("\"h\xC3\xA9llo \xF0\x9F\x98\x80\"", err, sizeof err);
    CHECK(v && v->str_len == 11);
    ag_json_free(v);
    /* byte order mark is tolerated */
    v = parse("\xEF\xBB\xBF{\"a\":1}", err, sizeof err);
    CHECK(v && v->type == AG_JSON_OBJECT && v->col == 1);
    ag_json_free(v);
}

static void test_writer(void) {
    ag_buf b;
    ag_buf_init(&b);
    ag_json_put_string(&b, "a\"b\\c\n\r\t\b\f\x01\x1f\x7f/\xC3\xA9", 16);
    const char *want = "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f/\xC3\xA9\"";
    CHECK(b.len == strlen(want) && !strcmp(b.text, want));
    ag_buf_puts(&b, " ");
    ag_json_put_u64(&b, UINT64_MAX);
    ag_buf_puts(&b, " ");
    ag_json_put_i64(&b, INT64_MIN);
    ag_buf_printf(&b, " %d-%s", 42, "x");
    char big[1000];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = 0;
    ag_buf_printf(&b, "%s", big);
    char *s = ag_buf_take(&b);
    CHECK(s && b.text == NULL && b.len == 0);
    CHECK(s && strlen(s) == strlen(want) + 1 + 20 + 1 + 20 + 5 + 999);
    CHECK(s && strstr(s, " 18446744073709551615 -9223372036854775808 42-xyyy"));
    free(s);

    /* embedded NUL is escaped; round trip through the parser */
    ag_buf_init(&b);
    ag_json_put_string(&b, "a\0b", 3);
    s = ag_buf_take(&b);
    CHECK(s && !strcmp(s, "\"a\\u0000b\""));
    char err[128];
    ag_json *v = ag_json_parse(s, strlen(s), err, sizeof err);
    CHECK(v && v->str_len == 3 && !memcmp(v->str, "a\0b", 3));
    ag_json_free(v);
    free(s);

    /* take on an empty buffer gives "" */
    ag_buf_init(&b);
    s = ag_buf_take(&b);
    CHECK(s && s[0] == 0);
    free(s);
    ag_buf_init(&b);
    ag_buf_put(&b, "xyz", 3);
    ag_buf_free(&b);
    CHECK(b.text == NULL && b.len == 0);
}

/* LEB128 ------------------------------------------------------------------- */

static void test_uvarint_roundtrip(void) {
    static const uint64_t vals[] = {0, 1, 127, 128, 255, 300, 16383, 16384, 65535, 65536,
                                    UINT32_MAX, (uint64_t)UINT32_MAX + 1, INT64_MAX,
                                    UINT64_MAX};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        ag_buf b;
        ag_buf_init(&b);
        ag_buf_put_uvarint(&b, vals[i]);
        CHECK(b.len == ag_uvarint_size(vals[i]));
        size_t pos = 0;
        uint64_t out = 0;
        CHECK(ag_get_uvarint(b.data, b.len, &pos, UINT64_MAX, &out) == 0);
        CHECK(out == vals[i] && pos == b.len);
        ag_buf_free(&b);
    }
    CHECK(ag_uvarint_size(0) == 1 && ag_uvarint_size(127) == 1 && ag_uvarint_size(128) == 2);
    CHECK(ag_uvarint_size(UINT64_MAX) == 10);
}

static void test_uvarint_bytes(void) {
    ag_buf b;
    ag_buf_init(&b);
    ag_buf_put_uvarint(&b, 300);
    CHECK(b.len == 2 && b.data[0] == 0xAC && b.data[1] == 0x02);
    ag_buf_reset(&b);
    CHECK(b.len == 0 && b.cap > 0);
    ag_buf_put_uvarint(&b, UINT64_MAX);
    static const uint8_t max64[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01};
    CHECK(b.len == 10 && !memcmp(b.data, max64, 10));
    ag_buf_reset(&b);
    ag_buf_put_str(&b, "hey", 3);
    ag_buf_put_u8(&b, 7);
    CHECK(b.len == 5 && b.data[0] == 3 && !memcmp(b.data + 1, "hey", 3) && b.data[4] == 7);
    /* growth across many puts */
    ag_buf_reset(&b);
    for (int i = 0; i < 10000; i++) ag_buf_put_u8(&b, (uint8_t)i);
    CHECK(b.len == 10000 && !b.oom && b.data[9999] == (uint8_t)9999);
    CHECK(ag_buf_reserve(&b, 1 << 20) && b.cap - b.len >= (1 << 20));
    ag_buf_free(&b);
    CHECK(b.data == NULL && b.len == 0);
}

/* Bytes and text share one buffer: whatever wrote last, a NUL follows the data. */
static void test_buf_nul_after_data(void) {
    ag_buf b;
    ag_buf_init(&b);
    CHECK(b.data == NULL && b.text == NULL);
    ag_buf_put_u8(&b, 'a');
    CHECK(b.len == 1 && !strcmp(b.text, "a") && (void *)b.data == (void *)b.text);
    ag_buf_put_uvarint(&b, 'b');
    CHECK(b.len == 2 && !strcmp(b.text, "ab"));
    ag_buf_put_str(&b, "cd", 2);
    CHECK(b.len == 5 && b.data[2] == 2 && !strcmp(b.text + 3, "cd") && b.data[5] == 0);
    ag_buf_printf(&b, "%s", "ef");
    CHECK(b.len == 7 && !strcmp(b.text + 3, "cdef"));
    /* direct writes into reserved room end with set_len */
    CHECK(ag_buf_reserve(&b, 3) && b.cap - b.len > 3);
    memcpy(b.data + b.len, "ghi", 3);
    ag_buf_set_len(&b, b.len + 3);
    CHECK(b.len == 10 && !strcmp(b.text + 3, "cdefghi"));
    ag_buf_set_len(&b, 4);
    CHECK(b.len == 4 && !strcmp(b.text + 3, "c"));
    ag_buf_reset(&b);
    CHECK(b.len == 0 && b.text[0] == 0);
    /* an empty put still gives a C string */
    ag_buf_free(&b);
    ag_buf_put(&b, "", 0);
    CHECK(b.text && b.text[0] == 0 && b.len == 0);
    ag_buf_free(&b);
    /* set_len on a buffer that never reserved keeps it empty */
    ag_buf_set_len(&b, 0);
    CHECK(b.data == NULL && b.len == 0);
    /* a reserve that cannot be met sets oom, and later puts are ignored */
    ag_buf_put_u8(&b, 1);
    CHECK(!ag_buf_reserve(&b, SIZE_MAX - 1) && b.oom);
    ag_buf_put_u8(&b, 2);
    CHECK(b.len == 1 && ag_buf_take(&b) == NULL && b.data == NULL && !b.oom);
}

static int get(const uint8_t *d, size_t n, uint64_t max, uint64_t *out, size_t *pos) {
    *pos = 0;
    return ag_get_uvarint(d, n, pos, max, out);
}

static void test_uvarint_errors(void) {
    uint64_t v;
    size_t pos;
    /* truncated */
    CHECK(get((const uint8_t *)"", 0, UINT64_MAX, &v, &pos) == -1);
    CHECK(get((const uint8_t *)"\x80", 1, UINT64_MAX, &v, &pos) == -1 && pos == 0);
    CHECK(get((const uint8_t *)"\xFF\xFF", 2, UINT64_MAX, &v, &pos) == -1);
    /* width limits */
    CHECK(get((const uint8_t *)"\xFF\xFF\x03", 3, UINT16_MAX, &v, &pos) == 0 && v == 65535);
    CHECK(get((const uint8_t *)"\x80\x80\x04", 3, UINT16_MAX, &v, &pos) == -2);
    CHECK(get((const uint8_t *)"\xFF\xFF\xFF\xFF\x0F", 5, UINT32_MAX, &v, &pos) == 0 &&
          v == UINT32_MAX && pos == 5);
    CHECK(get((const uint8_t *)"\x80\x80\x80\x80\x10", 5, UINT32_MAX, &v, &pos) == -2);
    /* the 10th byte may only carry bit 63 */
    static const uint8_t over[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02};
    CHECK(get(over, 10, UINT64_MAX, &v, &pos) == -2);
    static const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                     0x80, 0x80, 0x80, 0x80, 0x01};
    CHECK(get(eleven, 11, UINT64_MAX, &v, &pos) == -2);
    /* not minimal */
    CHECK(get((const uint8_t *)"\x80\x00", 2, UINT64_MAX, &v, &pos) == -3);
    CHECK(get((const uint8_t *)"\x81\x00", 2, UINT64_MAX, &v, &pos) == -3);
    CHECK(get((const uint8_t *)"\x00", 1, UINT64_MAX, &v, &pos) == 0 && v == 0 && pos == 1);
    /* reads continue at *pos */
    const uint8_t two[] = {0x05, 0xAC, 0x02};
    pos = 1;
    CHECK(ag_get_uvarint(two, 3, &pos, UINT64_MAX, &v) == 0 && v == 300 && pos == 3);
    CHECK(ag_get_uvarint(two, 3, &pos, UINT64_MAX, &v) == -1 && pos == 3);
}

int main(void) {
    test_scalars();
    test_numbers();
    test_containers();
    test_errors();
    test_unicode();
    test_writer();
    test_uvarint_roundtrip();
    test_uvarint_bytes();
    test_buf_nul_after_data();
    test_uvarint_errors();
    if (failures) {
        fprintf(stderr, "test_json: %d failure(s)\n", failures);
        return 1;
    }
    printf("test_json: ok\n");
    return 0;
}
