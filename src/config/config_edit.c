/* config_edit.c — reading and changing one field of a loaded configuration.
 *
 * A configuration remembers the JSON text it was parsed from. Changing a field
 * writes that text again with the one value replaced and parses the result like a
 * file: every rule, default and error message of the parser applies, and derived
 * values (a default that follows another field) follow the change. Reading a field
 * walks the effective configuration's JSON (agora_config_to_json: defaults filled in,
 * secrets masked), so a caller sees exactly what `agora config show` prints. */
#include "config/config.h"
#include "util/json.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 8

typedef struct field_path {
    char *segs[MAX_DEPTH];
    size_t n;
    char *storage;
} field_path;

/* Split "coordinator.listen" at the dots; empty segments are refused. */
static bool path_split(const char *text, field_path *fp) {
    memset(fp, 0, sizeof *fp);
    if (!text || !*text) return false;
    fp->storage = strdup(text);
    if (!fp->storage) return false;
    char *s = fp->storage;
    for (;;) {
        char *dot = strchr(s, '.');
        if (dot) *dot = 0;
        if (!*s || fp->n == MAX_DEPTH) {
            free(fp->storage);
            return false;
        }
        fp->segs[fp->n++] = s;
        if (!dot) return true;
        s = dot + 1;
    }
}

static void write_value(ag_buf *b, const ag_json *v);

/* An object's members with the member at segs[0] replaced (or added) by `value`
 * (the rest of the path below it). */
static void write_patched(ag_buf *b, const ag_json *obj, char *const *segs, size_t nseg,
                          const char *value) {
    ag_buf_puts(b, "{");
    bool found = false;
    for (size_t i = 0; obj && i < obj->count; i++) {
        if (i) ag_buf_puts(b, ",");
        ag_json_put_string(b, obj->keys[i], strlen(obj->keys[i]));
        ag_buf_puts(b, ":");
        const ag_json *item = obj->items[i];
        if (!strcmp(obj->keys[i], segs[0])) {
            found = true;
            if (nseg == 1)
                ag_buf_puts(b, value);
            else
                write_patched(b, item->type == AG_JSON_OBJECT ? item : NULL, segs + 1,
                              nseg - 1, value);
        } else {
            write_value(b, item);
        }
    }
    if (!found) {
        if (obj && obj->count) ag_buf_puts(b, ",");
        ag_json_put_string(b, segs[0], strlen(segs[0]));
        ag_buf_puts(b, ":");
        if (nseg == 1)
            ag_buf_puts(b, value);
        else
            write_patched(b, NULL, segs + 1, nseg - 1, value);
    }
    ag_buf_puts(b, "}");
}

static void write_value(ag_buf *b, const ag_json *v) {
    switch (v->type) {
    case AG_JSON_NULL: ag_buf_puts(b, "null"); break;
    case AG_JSON_BOOL: ag_buf_puts(b, v->boolean ? "true" : "false"); break;
    case AG_JSON_NUMBER: ag_buf_puts(b, v->num_text); break;
    case AG_JSON_STRING: ag_json_put_string(b, v->str, v->str_len); break;
    case AG_JSON_ARRAY:
        ag_buf_puts(b, "[");
        for (size_t i = 0; i < v->count; i++) {
            if (i) ag_buf_puts(b, ",");
            write_value(b, v->items[i]);
        }
        ag_buf_puts(b, "]");
        break;
    case AG_JSON_OBJECT: {
        ag_buf_puts(b, "{");
        for (size_t i = 0; i < v->count; i++) {
            if (i) ag_buf_puts(b, ",");
            ag_json_put_string(b, v->keys[i], strlen(v->keys[i]));
            ag_buf_puts(b, ":");
            write_value(b, v->items[i]);
        }
        ag_buf_puts(b, "}");
        break;
    }
    }
}

static void set_err(char *err, size_t errlen, const char *msg) {
    if (err && errlen) snprintf(err, errlen, "%s", msg);
}

int agora_config_set(agora_config *cfg, const char *path, const char *json_value, char *err,
                     size_t errlen) {
    if (err && errlen) err[0] = 0;
    if (!cfg || !json_value) {
        set_err(err, errlen, "no configuration or no value given");
        return AGORA_EINVAL;
    }
    field_path fp;
    if (!path_split(path, &fp)) {
        if (err && errlen)
            snprintf(err, errlen, "invalid field path \"%s\" (expected names joined by dots, "
                                  "such as \"coordinator.listen\")", path ? path : "");
        return AGORA_EINVAL;
    }
    char jerr[256];
    ag_json *val = ag_json_parse(json_value, strlen(json_value), jerr, sizeof jerr);
    if (!val) {
        if (err && errlen) snprintf(err, errlen, "%s: the new value is not JSON: %s", path, jerr);
        free(fp.storage);
        return AGORA_ECONFIG;
    }
    ag_json_free(val);

    ag_json *root = ag_json_parse(cfg->source ? cfg->source : "{}",
                                  cfg->source ? cfg->source_len : 2, jerr, sizeof jerr);
    if (!root) { /* the source parsed once already: only memory can fail here */
        set_err(err, errlen, "out of memory");
        free(fp.storage);
        return AGORA_ENOMEM;
    }
    ag_buf b;
    ag_buf_init(&b);
    if (root->type == AG_JSON_OBJECT && ag_json_get(root, "@type")) {
        /* a bare coordinator object: address it as the node file's "coordinator" */
        ag_buf_puts(&b, "{\"coordinator\":");
        write_value(&b, root);
        ag_buf_puts(&b, "}");
        ag_json_free(root);
        root = ag_json_parse(b.text ? b.text : "{}", b.len, jerr, sizeof jerr);
        ag_buf_free(&b);
        ag_buf_init(&b);
        if (!root) {
            set_err(err, errlen, "out of memory");
            free(fp.storage);
            return AGORA_ENOMEM;
        }
    }
    write_patched(&b, root->type == AG_JSON_OBJECT ? root : NULL, fp.segs, fp.n, json_value);
    ag_json_free(root);
    free(fp.storage);
    if (b.oom) {
        ag_buf_free(&b);
        set_err(err, errlen, "out of memory");
        return AGORA_ENOMEM;
    }
    agora_config *next = agora_config_parse(b.text, b.len, err, errlen);
    OPENSSL_cleanse(b.data, b.len); /* it may hold secrets */
    ag_buf_free(&b);
    if (!next) return AGORA_ECONFIG;
    ag_config_swap(cfg, next);
    agora_config_free(next);
    return AGORA_OK;
}

char *agora_config_get(const agora_config *cfg, const char *path) {
    if (!cfg) return NULL;
    field_path fp;
    if (!path_split(path, &fp)) return NULL;
    char *text = agora_config_to_json(cfg);
    ag_json *root = text ? ag_json_parse(text, strlen(text), NULL, 0) : NULL;
    free(text);
    char *out = NULL;
    const ag_json *v = root;
    for (size_t i = 0; v && i < fp.n; i++)
        v = v->type == AG_JSON_OBJECT ? ag_json_get(v, fp.segs[i]) : NULL;
    if (v) {
        ag_buf b;
        ag_buf_init(&b);
        write_value(&b, v);
        out = ag_buf_take(&b);
    }
    ag_json_free(root);
    free(fp.storage);
    return out;
}

agora_config *agora_config_clone(const agora_config *cfg) { return ag_config_clone(cfg); }

agora_codec agora_config_codec(const agora_config *cfg) {
    return cfg && cfg->codec == AG_CODEC_STALWART ? AGORA_CODEC_STALWART : AGORA_CODEC_AGORA;
}

bool agora_config_has_membership(const agora_config *cfg) {
    /* membership rides on agora's own messages, over any transport */
    return cfg && cfg->codec == AG_CODEC_AGORA && cfg->type->topology != AG_TOPOLOGY_NONE;
}
