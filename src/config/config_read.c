/* config_read.c — error collection with field paths, and the readers of single JSON
 * members that every part of the configuration shares. */
#include "config/config.h"
#include "config/config_parse.h"
#include "config/config_values.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ag_cerr(ag_cparse *c, const char *path, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (path && *path)
        ag_buf_printf(&c->errs, "%s: %s\n", path, msg);
    else
        ag_buf_printf(&c->errs, "%s\n", msg);
    c->nerr++;
}

/* Copy the collected lines into err (without the last newline). Whole lines only;
 * when they do not all fit, say how many were left out. */
void ag_cflush(ag_cparse *c, char *err, size_t errlen) {
    if (!err || errlen == 0) return;
    err[0] = 0;
    const char *s = c->errs.text ? c->errs.text : "";
    size_t len = c->errs.len;
    if (len && s[len - 1] == '\n') len--;
    if (len < errlen) {
        memcpy(err, s, len);
        err[len] = 0;
        return;
    }
    /* keep as many whole lines as fit with room for the "... and N more" line */
    char more[64];
    size_t used = 0, lines = 0;
    for (;;) {
        const char *nl = memchr(s + used, '\n', len - used);
        size_t end = nl ? (size_t)(nl - s) : len;
        snprintf(more, sizeof more, "\n... and %zu more error(s)", c->nerr - lines - 1);
        if (end + strlen(more) + 1 > errlen) break;
        used = end + 1;
        lines++;
        if (!nl) break;
    }
    if (lines == 0) {
        /* not even one line fits: truncate the first */
        size_t n = errlen - 1;
        memcpy(err, s, n);
        err[n] = 0;
        return;
    }
    memcpy(err, s, used - 1);
    snprintf(more, sizeof more, "\n... and %zu more error(s)", c->nerr - lines);
    snprintf(err + used - 1, errlen - (used - 1), "%s", more);
}

/* A JSON string value echoed in a message: escaped and shortened. Never used for
 * secrets or URLs (which may carry passwords). */
const char *ag_cquote(const ag_json *v, char *buf, size_t n) {
    /* An address refused with credentials in it ("nats://u:PASS@host") must not echo
     * them: its userinfo is masked like a secret. */
    char *masked = strchr(v->str, '@') ? ag_mask_url(v->str) : NULL;
    const char *str = masked ? masked : v->str;
    size_t full = masked ? strlen(masked) : v->str_len;
    ag_buf b;
    ag_buf_init(&b);
    size_t len = full > 64 ? 64 : full;
    /* do not cut a UTF-8 sequence in half */
    while (len > 0 && len < full && ((unsigned char)str[len] & 0xC0) == 0x80) len--;
    ag_json_put_string(&b, str, len);
    snprintf(buf, n, "%s%s", b.text ? b.text : "\"\"", len < full ? "..." : "");
    ag_buf_free(&b);
    free(masked);
    return buf;
}

/* parent.key; control characters in a (user-written) key become '?' so that every
 * error stays on one line. */
void ag_cjoin(char *out, size_t n, const char *parent, const char *key) {
    if (parent && *parent)
        snprintf(out, n, "%s.%s", parent, key);
    else
        snprintf(out, n, "%s", key);
    for (char *p = out; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
}

/* ------------------------------------------------------------------------ */
/* Field readers: each reports its own errors and leaves the default on error */
/* ------------------------------------------------------------------------ */


/* Report unknown and duplicate members of obj; `known` is NULL-terminated. */
void ag_ccheck_members(ag_cparse *c, const ag_json *obj, const char *path, const char *what,
                       const char *const *known) {
    for (size_t i = 0; i < obj->count; i++) {
        char p[AG_CPATH_MAX];
        ag_cjoin(p, sizeof p, path, obj->keys[i]);
        bool ok = false;
        for (const char *const *k = known; *k; k++)
            if (!strcmp(*k, obj->keys[i])) ok = true;
        if (!ok) {
            char list[512] = "";
            size_t off = 0;
            for (const char *const *k = known; *k; k++) {
                if (!strcmp(*k, "@type")) continue;
                int w = snprintf(list + off, sizeof list - off, "%s%s", off ? ", " : "", *k);
                if (w < 0 || (size_t)w >= sizeof list - off) break;
                off += (size_t)w;
            }
            ag_cerr(c, p, "unknown field for %s (known fields: %s)", what, list);
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(obj->keys[j], obj->keys[i])) {
                ag_cerr(c, p, "duplicate field (line %d, column %d)", obj->items[i]->line,
                        obj->items[i]->col);
                break;
            }
    }
}

const ag_json *ag_cmember(const ag_json *obj, const char *key) {
    const ag_json *v = ag_json_get(obj, key);
    return v && v->type == AG_JSON_NULL ? NULL : v; /* null means "use the default" */
}

void ag_cget_duration(ag_cparse *c, const ag_json *obj, const char *path, const char *key,
                      uint64_t min_ms, uint64_t *out) {
    const ag_json *v = ag_cmember(obj, key);
    if (!v) return;
    char p[AG_CPATH_MAX], example[32];
    ag_cjoin(p, sizeof p, path, key);
    ag_format_duration(*out, example, sizeof example);
    uint64_t ms;
    if (v->type == AG_JSON_STRING) {
        if (strlen(v->str) != v->str_len || ag_parse_duration(v->str, &ms) < 0) {
            ag_cerr(c, p, "expected a duration such as \"%s\"", example);
            return;
        }
    } else if (v->type == AG_JSON_NUMBER && v->is_integer && v->fits_u64) {
        ms = v->u64;
    } else {
        ag_cerr(c, p, "expected a duration such as \"%s\"", example);
        return;
    }
    char lim[32];
    if (ms < min_ms) {
        ag_format_duration(min_ms, lim, sizeof lim);
        ag_cerr(c, p, "out of range: must be at least %s", lim);
        return;
    }
    if (ms > AG_DURATION_MAX_MS) {
        ag_format_duration(AG_DURATION_MAX_MS, lim, sizeof lim);
        ag_cerr(c, p, "out of range: must be at most %s", lim);
        return;
    }
    *out = ms;
}

/* Returns true if the member was present (and valid). */
bool ag_cget_uint(ag_cparse *c, const ag_json *obj, const char *path, const char *key,
                  uint64_t min, uint64_t max, uint64_t *out) {
    const ag_json *v = ag_cmember(obj, key);
    if (!v) return false;
    char p[AG_CPATH_MAX];
    ag_cjoin(p, sizeof p, path, key);
    if (v->type != AG_JSON_NUMBER || !v->is_integer) {
        ag_cerr(c, p, "expected an integer from %llu to %llu, found %s", (unsigned long long)min,
                (unsigned long long)max,
                v->type == AG_JSON_NUMBER ? "a fraction" : ag_json_type_name(v->type));
        return false;
    }
    if (!v->fits_u64 || v->u64 < min || v->u64 > max) {
        ag_cerr(c, p, "out of range: %s is not from %llu to %llu", v->num_text,
                (unsigned long long)min, (unsigned long long)max);
        return false;
    }
    *out = v->u64;
    return true;
}

void ag_strlist_free(ag_strlist *l) {
    for (size_t i = 0; i < l->count; i++) free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

int ag_strlist_set(ag_strlist *l, const char *const *items, size_t n) {
    ag_strlist_free(l);
    if (n == 0) return 0;
    l->items = calloc(n, sizeof *l->items);
    if (!l->items) return -1;
    for (size_t i = 0; i < n; i++) {
        l->items[i] = strdup(items[i]);
        if (!l->items[i]) {
            l->count = i;
            ag_strlist_free(l);
            return -1;
        }
    }
    l->count = n;
    return 0;
}

