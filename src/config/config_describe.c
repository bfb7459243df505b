/* config_describe.c — agora_config_describe: the fields a coordinator type takes
 * (from its field table) or the node file's own, as JSON, for forms and docs. */
#include "backend/registry.h"
#include "config/config.h"
#include "config/config_parse.h"
#include "config/config_values.h"
#include "util/json.h"

#include <stdio.h>
#include <string.h>

static void put_str(ag_buf *b, const char *s) {
    if (s)
        ag_json_put_string(b, s, strlen(s));
    else
        ag_buf_puts(b, "null");
}

static void put_dur(ag_buf *b, uint64_t ms) {
    char d[32];
    ag_format_duration(ms, d, sizeof d);
    put_str(b, d);
}

/* One {"name","kind","default","required","secret","help"} object; `def` is the
 * default already written as JSON. */
static void entry(ag_buf *b, bool *first, const char *name, const char *kind, const char *def,
                  bool required, bool secret, const char *help) {
    ag_buf_puts(b, *first ? "\n  {\"name\":" : ",\n  {\"name\":");
    *first = false;
    put_str(b, name);
    ag_buf_puts(b, ",\"kind\":");
    put_str(b, kind);
    ag_buf_printf(b, ",\"default\":%s,\"required\":%s,\"secret\":%s,\"help\":", def,
                  required ? "true" : "false", secret ? "true" : "false");
    put_str(b, help);
    ag_buf_puts(b, "}");
}

static const char *kind_name(ag_field_kind k) {
    switch (k) {
    case AG_FIELD_STRING: return "string";
    case AG_FIELD_SECRET: return "secret";
    case AG_FIELD_DURATION: return "duration";
    case AG_FIELD_UINT: return "integer";
    case AG_FIELD_OPT_UINT: return "integer";
    case AG_FIELD_BOOL: return "boolean";
    case AG_FIELD_LIST: return "list";
    case AG_FIELD_ENUM: return "enum";
    }
    return "string";
}

/* The default as JSON, into d. */
static void field_default(ag_buf *d, const ag_field *f) {
    switch (f->kind) {
    case AG_FIELD_STRING: put_str(d, f->def_str); break;
    case AG_FIELD_SECRET: ag_buf_puts(d, "null"); break;
    case AG_FIELD_DURATION: put_dur(d, f->def); break;
    case AG_FIELD_UINT: ag_json_put_u64(d, f->def); break;
    case AG_FIELD_OPT_UINT:
        if (f->print_null_unset) ag_buf_puts(d, "null");
        else ag_json_put_u64(d, f->def);
        break;
    case AG_FIELD_BOOL: ag_buf_puts(d, f->def ? "true" : "false"); break;
    case AG_FIELD_LIST:
        ag_buf_puts(d, "[");
        if (f->def_str) put_str(d, f->def_str);
        ag_buf_puts(d, "]");
        break;
    case AG_FIELD_ENUM: put_str(d, f->values[f->def]); break;
    }
}

/* A short description from what the table knows: the syntax, range or choices. */
static void field_help(char *h, size_t n, const ag_field *f) {
    const char *expect = f->syntax ? f->syntax->expect : NULL;
    switch (f->kind) {
    case AG_FIELD_STRING: snprintf(h, n, "%s%s", expect ? "a " : "a string", expect ? expect : ""); break;
    case AG_FIELD_SECRET: snprintf(h, n, "a secret (never printed)"); break;
    case AG_FIELD_DURATION:
        snprintf(h, n, "a duration such as \"5s\" (at least %llu ms)", (unsigned long long)f->min);
        break;
    case AG_FIELD_UINT:
    case AG_FIELD_OPT_UINT:
        snprintf(h, n, "an integer from %llu to %llu%s", (unsigned long long)f->min,
                 (unsigned long long)f->max, f->kind == AG_FIELD_OPT_UINT ? ", or null" : "");
        break;
    case AG_FIELD_BOOL: snprintf(h, n, "true or false"); break;
    case AG_FIELD_LIST:
        snprintf(h, n, "a list of %s strings%s", expect ? expect : "", f->single_ok ? " (or one string)" : "");
        break;
    case AG_FIELD_ENUM: {
        size_t off = (size_t)snprintf(h, n, "one of");
        for (size_t i = 0; f->values[i] && off < n; i++)
            off += (size_t)snprintf(h + off, n - off, "%s \"%s\"", i ? "," : "", f->values[i]);
        break;
    }
    }
    const char *must = f->required ? f->required : f->kind == AG_FIELD_LIST ? f->min_msg : NULL;
    if (must && strlen(h) + 3 < n) {
        size_t off = strlen(h);
        snprintf(h + off, n - off, "; %s", must);
    }
}

static void describe_section(ag_buf *b, bool *first, const ag_backend_type *t) {
    char help[512];
    ag_buf d;
    ag_buf_init(&d);
    for (size_t i = 0; i < t->nfields; i++) {
        const ag_field *f = &t->fields[i];
        ag_buf_reset(&d);
        field_default(&d, f);
        field_help(help, sizeof help, f);
        bool required = f->required || (f->kind == AG_FIELD_LIST && f->min_items && !f->def_str);
        entry(b, first, f->name, kind_name(f->kind), d.text ? d.text : "null", required,
              f->kind == AG_FIELD_SECRET || (f->syntax && f->syntax->hidden_noun), help);
    }
    if (d.oom) b->oom = true;
    ag_buf_free(&d);
    if (ag_section_has_bus_secret(t))
        entry(b, first, "secret", "secret", "null", false, true,
              "one string or a list (the first seals, each opens), at least 16 bytes each: "
              "seals every message (docs/sealing.md)");
}

static void describe_node(ag_buf *b, bool *first) {
    ag_buf d;
    ag_buf_init(&d);
    entry(b, first, "nodeId", "integer", "null", false, false,
          "this node's id, 0 to 65535, unique in the cluster (or --node-id)");
    entry(b, first, "codec", "enum", "\"agora\"", false, false,
          "one of \"agora\", \"stalwart\": the wire format");
    put_dur(&d, 250);
    entry(b, first, "heartbeatInterval", "duration", d.text ? d.text : "null", false, false,
          "how often this node announces itself");
    ag_buf_reset(&d);
    put_dur(&d, 1500);
    entry(b, first, "failureTimeout", "duration", d.text ? d.text : "null", false, false,
          "a node silent this long is reported failed (longer than heartbeatInterval)");
    entry(b, first, "outboxLimit", "integer", "100000", false, false,
          "most events waiting to be sent; beyond it the oldest are dropped");
    entry(b, first, "outboxBytes", "integer", "67108864", false, false,
          "most bytes of events waiting to be sent (at least 65536)");
    ag_buf_reset(&d);
    put_dur(&d, 600000);
    entry(b, first, "memberRetention", "duration", d.text ? d.text : "null", false, false,
          "how long failed and departed members stay listed and gossiped (0: forget at once)");
    entry(b, first, "httpToken", "secret", "null", false, true,
          "bearer token the admin HTTP endpoint (agora serve --http) requires; at least 16 bytes");
    entry(b, first, "coordinator", "object", "null", true, false,
          "the coordinator object, with \"@type\" and its fields");
    if (d.oom) b->oom = true;
    ag_buf_free(&d);
}

char *agora_config_describe(const char *type) {
    const ag_backend_type *t = NULL;
    if (type) {
        t = ag_backend_type_find(type);
        if (!t) return NULL;
    }
    ag_buf b;
    ag_buf_init(&b);
    bool first = true;
    ag_buf_puts(&b, "[");
    if (t)
        describe_section(&b, &first, t);
    else
        describe_node(&b, &first);
    ag_buf_puts(&b, first ? "]" : "\n]");
    return ag_buf_take(&b);
}
