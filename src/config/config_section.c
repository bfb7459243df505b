/* config_section.c — the engine behind every backend's field table: defaults,
 * parsing with field paths, cross-field rules, free and clone. The JSON output of
 * a section is in config_json.c. */
#include "config/config_parse.h"
#include "config/config_values.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(section, f) ((char *)(section) + (f)->offset)
#define CFIELD(section, f) ((const char *)(section) + (f)->offset)

static const char *check_hostport(const char *s) { return ag_check_hostport(s, false); }
static const char *check_listen(const char *s) { return ag_check_hostport(s, true); }
const ag_value_syntax ag_syntax_hostport = {.expect = "\"host:port\"", .check = check_hostport};
const ag_value_syntax ag_syntax_listen = {.expect = "\"host:port\"", .check = check_listen};

/* ------------------------------------------------------------------------ */
/* Readers of one member                                                     */
/* ------------------------------------------------------------------------ */

static void get_bool(ag_cparse *c, const ag_json *obj, const char *path, const char *key,
                     bool *out) {
    const ag_json *v = ag_cmember(obj, key);
    if (!v) return;
    if (v->type != AG_JSON_BOOL) {
        char p[AG_CPATH_MAX];
        ag_cjoin(p, sizeof p, path, key);
        ag_cerr(c, p, "expected true or false, found %s", ag_json_type_name(v->type));
        return;
    }
    *out = v->boolean;
}

/* A string member; *out is replaced (the old value freed) only when valid. */
static bool get_string(ag_cparse *c, const ag_json *obj, const char *path, const char *key,
                       char **out) {
    const ag_json *v = ag_cmember(obj, key);
    if (!v) return false;
    char p[AG_CPATH_MAX];
    ag_cjoin(p, sizeof p, path, key);
    if (v->type != AG_JSON_STRING) {
        ag_cerr(c, p, "expected a string, found %s", ag_json_type_name(v->type));
        return false;
    }
    if (v->str_len == 0) {
        ag_cerr(c, p, "must not be empty (omit the field or use null)");
        return false;
    }
    if (strlen(v->str) != v->str_len) {
        ag_cerr(c, p, "must not contain NUL characters");
        return false;
    }
    char *s = strdup(v->str);
    if (!s) {
        c->oom = true;
        return false;
    }
    free(*out);
    *out = s;
    return true;
}

/* Validate one string value or list item; p names it. Values that may carry
 * passwords (syntax->hidden_noun) are never echoed. `single`: a lone value rather
 * than a list item (their NUL wording differs, as it always has). */
static bool check_item(ag_cparse *c, const ag_json *v, const char *p, const ag_value_syntax *syn,
                       bool single) {
    char q[128];
    if (v->type != AG_JSON_STRING) {
        ag_cerr(c, p, "expected %s string, found %s", syn->expect, ag_json_type_name(v->type));
        return false;
    }
    if (strlen(v->str) != v->str_len) {
        if (single && syn->hidden_noun)
            ag_cerr(c, p, "invalid %s: contains a NUL character", syn->hidden_noun);
        else
            ag_cerr(c, p, "must not contain NUL characters");
        return false;
    }
    const char *why = syn->check(v->str);
    if (why) {
        if (syn->hidden_noun)
            ag_cerr(c, p, "invalid %s: %s", syn->hidden_noun, why);
        else
            ag_cerr(c, p, "expected %s, found %s: %s", syn->expect, ag_cquote(v, q, sizeof q), why);
        return false;
    }
    return true;
}

/* A list of strings (or a single string when allow_single). min_items: at least that
 * many. On error the default list is left as it is. */
static void get_strlist(ag_cparse *c, const ag_json *obj, const char *path, const char *key,
                        const ag_value_syntax *syn, bool allow_single, size_t min_items,
                        const char *min_msg, ag_strlist *out) {
    const ag_json *v = ag_cmember(obj, key);
    char p[AG_CPATH_MAX];
    ag_cjoin(p, sizeof p, path, key);
    if (!v) {
        if (out->count < min_items) ag_cerr(c, p, "%s", min_msg);
        return;
    }
    const ag_json *const *items;
    size_t n;
    const ag_json *single = v;
    if (v->type == AG_JSON_STRING && allow_single) {
        items = &single;
        n = 1;
    } else if (v->type == AG_JSON_ARRAY) {
        items = (const ag_json *const *)v->items;
        n = v->count;
    } else {
        ag_cerr(c, p, "expected a list of %s strings%s, found %s", syn->expect,
                allow_single ? " (or one string)" : "", ag_json_type_name(v->type));
        return;
    }
    if (n < min_items) {
        ag_cerr(c, p, "%s", min_msg);
        return;
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        char ip[AG_CPATH_MAX + 32];
        if (v->type == AG_JSON_ARRAY)
            snprintf(ip, sizeof ip, "%s[%zu]", p, i);
        else
            snprintf(ip, sizeof ip, "%s", p);
        if (!check_item(c, items[i], ip, syn, false)) ok = false;
    }
    if (!ok) return;
    const char **strs = calloc(n ? n : 1, sizeof *strs);
    if (!strs) {
        c->oom = true;
        return;
    }
    for (size_t i = 0; i < n; i++) strs[i] = items[i]->str;
    if (ag_strlist_set(out, strs, n) < 0) c->oom = true;
    free(strs);
}

/* One of a fixed set of strings; *out is the index of the one given. */
static void get_enum(ag_cparse *c, const ag_json *obj, const char *path, const char *key,
                     const char *const *values, unsigned *out) {
    const ag_json *v = ag_cmember(obj, key);
    if (!v) return;
    char expect[256] = "", q[128], p[AG_CPATH_MAX];
    size_t n = 0, off = 0;
    while (values[n]) n++;
    for (size_t i = 0; i < n; i++) {
        const char *sep = i == 0 ? (n > 2 ? "one of " : "") : (n == 2 ? " or " : ", ");
        int w = snprintf(expect + off, sizeof expect - off, "%s\"%s\"", sep, values[i]);
        if (w < 0 || (size_t)w >= sizeof expect - off) break;
        off += (size_t)w;
    }
    ag_cjoin(p, sizeof p, path, key);
    if (v->type != AG_JSON_STRING) {
        ag_cerr(c, p, "expected %s, found %s", expect, ag_json_type_name(v->type));
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (strlen(values[i]) == v->str_len && !memcmp(values[i], v->str, v->str_len)) {
            *out = (unsigned)i;
            return;
        }
    ag_cerr(c, p, "expected %s, found %s", expect, ag_cquote(v, q, sizeof q));
}

/* ------------------------------------------------------------------------ */
/* Cross-field rules                                                         */
/* ------------------------------------------------------------------------ */

struct ag_section_ctx {
    ag_cparse *c;
    const ag_json *o;
    const char *path;
};

void ag_section_error(ag_section_ctx *x, const char *key, const char *fmt, ...) {
    char p[AG_CPATH_MAX], msg[512];
    ag_cjoin(p, sizeof p, x->path, key);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ag_cerr(x->c, p, "%s", msg);
}

bool ag_section_has(const ag_section_ctx *x, const char *key) {
    return ag_cmember(x->o, key) != NULL;
}

void ag_section_oom(ag_section_ctx *x) { x->c->oom = true; }

/* ------------------------------------------------------------------------ */
/* The engine                                                                */
/* ------------------------------------------------------------------------ */

static void set_default(ag_cparse *c, const ag_field *f, void *section) {
    void *at = FIELD(section, f);
    switch (f->kind) {
    case AG_FIELD_STRING:
    case AG_FIELD_SECRET:
        if (f->def_str && !(*(char **)at = strdup(f->def_str))) c->oom = true;
        break;
    case AG_FIELD_LIST:
        if (f->def_str && ag_strlist_set(at, &f->def_str, 1) < 0) c->oom = true;
        break;
    case AG_FIELD_DURATION:
    case AG_FIELD_UINT: *(uint64_t *)at = f->def; break;
    case AG_FIELD_OPT_UINT: ((ag_opt_u64 *)at)->value = f->def; break;
    case AG_FIELD_BOOL: *(bool *)at = f->def != 0; break;
    case AG_FIELD_ENUM: *(unsigned *)at = (unsigned)f->def; break;
    }
}

static void read_field(ag_cparse *c, const ag_json *o, const char *path, const ag_field *f,
                       void *section) {
    void *at = FIELD(section, f);
    switch (f->kind) {
    case AG_FIELD_STRING:
    case AG_FIELD_SECRET: {
        const ag_json *v = ag_cmember(o, f->name);
        if (v && f->syntax) {
            char p[AG_CPATH_MAX];
            ag_cjoin(p, sizeof p, path, f->name);
            if (!check_item(c, v, p, f->syntax, true)) break;
        }
        get_string(c, o, path, f->name, at);
        break;
    }
    case AG_FIELD_LIST:
        get_strlist(c, o, path, f->name, f->syntax, f->single_ok, f->min_items, f->min_msg, at);
        break;
    case AG_FIELD_DURATION: ag_cget_duration(c, o, path, f->name, f->min, at); break;
    case AG_FIELD_UINT: ag_cget_uint(c, o, path, f->name, f->min, f->max, at); break;
    case AG_FIELD_OPT_UINT: {
        ag_opt_u64 *ov = at;
        uint64_t v;
        if (ag_cget_uint(c, o, path, f->name, f->min, f->max, &v)) {
            ov->set = true;
            ov->value = v;
        }
        break;
    }
    case AG_FIELD_BOOL: get_bool(c, o, path, f->name, at); break;
    case AG_FIELD_ENUM: get_enum(c, o, path, f->name, f->values, at); break;
    }
    if (f->required && !ag_cmember(o, f->name)) {
        char p[AG_CPATH_MAX];
        ag_cjoin(p, sizeof p, path, f->name);
        ag_cerr(c, p, "%s", f->required);
    }
}

void ag_section_parse(ag_cparse *c, const ag_json *o, const char *path,
                      const ag_backend_type *t, void *section) {
    const char *known[64];
    size_t k = 0;
    known[k++] = "@type";
    for (size_t i = 0; i < t->nfields && k < 62; i++) known[k++] = t->fields[i].name;
    if (ag_section_has_bus_secret(t)) known[k++] = "secret"; /* config_secret.c */
    known[k] = NULL;
    for (size_t i = 0; i < t->nfields; i++) set_default(c, &t->fields[i], section);
    ag_ccheck_members(c, o, path, t->name, known);
    for (size_t i = 0; i < t->nfields; i++) read_field(c, o, path, &t->fields[i], section);
    if (t->validate) {
        ag_section_ctx x = {.c = c, .o = o, .path = path};
        t->validate(&x, section);
    }
}

static bool owns_memory(const ag_field *f) {
    return f->kind == AG_FIELD_STRING || f->kind == AG_FIELD_SECRET || f->kind == AG_FIELD_LIST;
}

void ag_section_free(const ag_backend_type *t, void *section) {
    if (!section) return;
    for (size_t i = 0; i < t->nfields; i++) {
        const ag_field *f = &t->fields[i];
        void *at = FIELD(section, f);
        if (f->kind == AG_FIELD_LIST)
            ag_strlist_free(at);
        else if (owns_memory(f))
            free(*(char **)at);
    }
}

void *ag_section_clone(const ag_backend_type *t, const void *section) {
    void *d = calloc(1, t->size ? t->size : 1);
    if (!d) return NULL;
    memcpy(d, section, t->size);
    /* drop the original's pointers first, so that a failure half way frees only copies */
    for (size_t i = 0; i < t->nfields; i++) {
        const ag_field *f = &t->fields[i];
        if (owns_memory(f)) memset(FIELD(d, f), 0, f->kind == AG_FIELD_LIST ? sizeof(ag_strlist)
                                                                             : sizeof(char *));
    }
    bool ok = true;
    for (size_t i = 0; i < t->nfields && ok; i++) {
        const ag_field *f = &t->fields[i];
        const void *from = CFIELD(section, f);
        if (f->kind == AG_FIELD_LIST) {
            const ag_strlist *l = from;
            ok = ag_strlist_set((ag_strlist *)FIELD(d, f), (const char *const *)l->items,
                                l->count) == 0;
        } else if (owns_memory(f) && *(char *const *)from) {
            ok = (*(char **)FIELD(d, f) = strdup(*(char *const *)from)) != NULL;
        }
    }
    if (!ok) {
        ag_section_free(t, d);
        free(d);
        return NULL;
    }
    return d;
}
