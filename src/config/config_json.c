/* config_json.c — the effective configuration as pretty JSON, in node-file form,
 * with every default filled in and every secret shown as "********". Any backend's
 * section is written from its field table. */
#include "config/config.h"
#include "config/config_parse.h"
#include "config/config_values.h"
#include "util/json.h"

#include <stdlib.h>
#include <string.h>

#define MASK "\"********\""

typedef struct jw {
    ag_buf *b;
    int indent;
    bool first; /* no member written yet at this level */
} jw;

static void jw_key(jw *w, const char *key) {
    ag_buf_puts(w->b, w->first ? "\n" : ",\n");
    w->first = false;
    for (int i = 0; i < w->indent; i++) ag_buf_puts(w->b, "  ");
    ag_json_put_string(w->b, key, strlen(key));
    ag_buf_puts(w->b, ": ");
}

static void jw_str(jw *w, const char *key, const char *val) {
    jw_key(w, key);
    if (val)
        ag_json_put_string(w->b, val, strlen(val));
    else
        ag_buf_puts(w->b, "null");
}

static void jw_secret(jw *w, const char *key, const char *val) {
    jw_key(w, key);
    ag_buf_puts(w->b, val ? MASK : "null");
}

static void jw_u64(jw *w, const char *key, uint64_t v) {
    jw_key(w, key);
    ag_json_put_u64(w->b, v);
}

static void jw_bool(jw *w, const char *key, bool v) {
    jw_key(w, key);
    ag_buf_puts(w->b, v ? "true" : "false");
}

static void jw_dur(jw *w, const char *key, uint64_t ms) {
    char d[32];
    ag_format_duration(ms, d, sizeof d);
    jw_str(w, key, d);
}

static void jw_list(jw *w, const char *key, const ag_strlist *l, char *(*mask)(const char *)) {
    jw_key(w, key);
    ag_buf_puts(w->b, "[");
    for (size_t i = 0; i < l->count; i++) {
        if (i) ag_buf_puts(w->b, ", ");
        char *m = mask ? mask(l->items[i]) : NULL;
        if (mask && !m) {
            w->b->oom = true;
            return;
        }
        const char *s = m ? m : l->items[i];
        ag_json_put_string(w->b, s, strlen(s));
        free(m);
    }
    ag_buf_puts(w->b, "]");
}

static void write_field(jw *w, const ag_field *f, const void *at) {
    char *(*mask)(const char *) = f->syntax ? f->syntax->mask : NULL;
    switch (f->kind) {
    case AG_FIELD_STRING: {
        const char *s = *(char *const *)at;
        char *m = s && mask ? mask(s) : NULL;
        if (s && mask && !m) w->b->oom = true;
        jw_str(w, f->name, mask ? m : s);
        free(m);
        break;
    }
    case AG_FIELD_SECRET: jw_secret(w, f->name, *(char *const *)at); break;
    case AG_FIELD_LIST: jw_list(w, f->name, at, mask); break;
    case AG_FIELD_DURATION: jw_dur(w, f->name, *(const uint64_t *)at); break;
    case AG_FIELD_UINT: jw_u64(w, f->name, *(const uint64_t *)at); break;
    case AG_FIELD_OPT_UINT: {
        const ag_opt_u64 *v = at;
        if (!v->set && f->print_null_unset)
            jw_str(w, f->name, NULL);
        else
            jw_u64(w, f->name, v->value);
        break;
    }
    case AG_FIELD_BOOL: jw_bool(w, f->name, *(const bool *)at); break;
    case AG_FIELD_ENUM: jw_str(w, f->name, f->values[*(const unsigned *)at]); break;
    }
}

void ag_section_to_json(ag_buf *b, int indent, const ag_backend_type *t, const void *section) {
    jw w = {.b = b, .indent = indent, .first = false};
    for (size_t i = 0; i < t->nfields; i++)
        write_field(&w, &t->fields[i], (const char *)section + t->fields[i].offset);
}

char *agora_config_to_json(const agora_config *cfg) {
    if (!cfg) return NULL;
    ag_buf b;
    ag_buf_init(&b);
    jw w = {.b = &b, .indent = 1, .first = true};
    ag_buf_puts(&b, "{");
    if (cfg->node_id >= 0)
        jw_u64(&w, "nodeId", (uint64_t)cfg->node_id);
    else
        jw_str(&w, "nodeId", NULL);
    jw_str(&w, "codec", cfg->codec == AG_CODEC_STALWART ? "stalwart" : "agora");
    jw_dur(&w, "heartbeatInterval", cfg->heartbeat_interval_ms);
    jw_dur(&w, "failureTimeout", cfg->failure_timeout_ms);
    jw_u64(&w, "outboxLimit", cfg->outbox_limit);
    jw_u64(&w, "outboxBytes", cfg->outbox_bytes);
    jw_dur(&w, "memberRetention", cfg->member_retention_ms);
    if (cfg->http_token) jw_secret(&w, "httpToken", cfg->http_token);
    jw_key(&w, "coordinator");
    ag_buf_puts(&b, "{");
    jw inner = {.b = &b, .indent = 2, .first = true};
    jw_str(&inner, "@type", agora_config_type(cfg));
    ag_section_to_json(&b, 2, cfg->type, cfg->backend);
    if (ag_section_has_bus_secret(cfg->type)) {
        /* masked: one mask per secret, so rotation steps show without the text */
        jw bus = {.b = &b, .indent = 2, .first = false};
        const ag_strlist *l = &cfg->seal_secrets;
        if (l->count == 0) {
            jw_secret(&bus, "secret", NULL);
        } else if (l->count == 1) {
            jw_secret(&bus, "secret", l->items[0]);
        } else {
            jw_key(&bus, "secret");
            ag_buf_puts(&b, "[");
            for (size_t i = 0; i < l->count; i++) ag_buf_puts(&b, i ? ", " MASK : MASK);
            ag_buf_puts(&b, "]");
        }
    }
    ag_buf_puts(&b, "\n  }\n}");
    return ag_buf_take(&b);
}
