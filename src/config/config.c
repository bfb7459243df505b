/* config.c — parse and validate a coordinator configuration (bare object or node
 * file), collecting every error with the path of the field it concerns. The common
 * parts live here; each backend's section is read from its own field table, found
 * by "@type" in the registry. */
#include "backend/registry.h"
#include "config/config.h"
#include "config/config_parse.h"
#include "util/json.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *codec_name(ag_codec_kind k) {
    return k == AG_CODEC_STALWART ? "stalwart" : "agora";
}

/* "A, B, C": the names of the registered types that pass `want` (NULL: all). */
static void type_names(char *out, size_t n, bool (*want)(const ag_backend_type *, unsigned),
                       unsigned arg) {
    size_t off = 0;
    out[0] = 0;
    for (size_t i = 0; i < ag_backend_type_count(); i++) {
        const ag_backend_type *t = ag_backend_type_at(i);
        if (want && !want(t, arg)) continue;
        int w = snprintf(out + off, n - off, "%s%s", off ? ", " : "", t->name);
        if (w < 0 || (size_t)w >= n - off) break;
        off += (size_t)w;
    }
}

static bool bus_with_codec(const ag_backend_type *t, unsigned codec) {
    return t->topology == AG_TOPOLOGY_BUS && (t->codecs & AG_CODEC_BIT(codec));
}

/* Give cfg a fresh section of type t, with nothing parsed into it yet. */
static bool set_type(agora_config *cfg, const ag_backend_type *t) {
    void *section = calloc(1, t->size ? t->size : 1);
    if (!section) return false;
    ag_section_free(cfg->type, cfg->backend);
    free(cfg->backend);
    cfg->type = t;
    cfg->backend = section;
    return true;
}

static void parse_coordinator(ag_cparse *c, const ag_json *o, const char *path, agora_config *cfg) {
    char p[AG_CPATH_MAX], q[128], types[256];
    type_names(types, sizeof types, NULL, 0);
    if (o->type != AG_JSON_OBJECT) {
        ag_cerr(c, path, "expected an object with \"@type\", found %s", ag_json_type_name(o->type));
        return;
    }
    const ag_json *t = ag_json_get(o, "@type");
    ag_cjoin(p, sizeof p, path, "@type");
    if (!t) {
        ag_cerr(c, p, "required: one of %s", types);
        return;
    }
    if (t->type != AG_JSON_STRING) {
        ag_cerr(c, p, "expected a string (one of %s), found %s", types, ag_json_type_name(t->type));
        return;
    }
    const ag_backend_type *type =
        strlen(t->str) == t->str_len ? ag_backend_type_find(t->str) : NULL;
    if (!type) {
        const char *advice = ag_backend_type_advice(t->str);
        if (advice)
            ag_cerr(c, p, "%s", advice);
        else
            ag_cerr(c, p, "unknown coordinator type %s (expected one of %s)",
                    ag_cquote(t, q, sizeof q), types);
        return;
    }
    if (!set_type(cfg, type)) {
        c->oom = true;
        return;
    }
    ag_section_parse(c, o, path, type, cfg->backend);
    if (ag_section_has_bus_secret(type)) ag_config_read_secrets(c, o, path, &cfg->seal_secrets);
}

static const char *const node_fields[] = {"nodeId", "codec", "coordinator",
                                          "heartbeatInterval", "failureTimeout",
                                          "outboxLimit", "outboxBytes", "memberRetention",
                                          "httpToken", NULL};

/* "httpToken": a secret, so errors never echo it. */
static void parse_http_token(ag_cparse *c, const ag_json *root, agora_config *cfg) {
    const ag_json *v = ag_cmember(root, "httpToken");
    if (!v) return;
    if (v->type != AG_JSON_STRING) {
        ag_cerr(c, "httpToken", "expected a string, found %s", ag_json_type_name(v->type));
        return;
    }
    if (v->str_len < 16 || strlen(v->str) != v->str_len) {
        ag_cerr(c, "httpToken", "must be at least 16 bytes, without NUL characters");
        return;
    }
    char *t = strdup(v->str);
    if (!t) {
        c->oom = true;
        return;
    }
    free(cfg->http_token);
    cfg->http_token = t;
}

static void parse_node_file(ag_cparse *c, const ag_json *root, agora_config *cfg) {
    char q[128];
    ag_ccheck_members(c, root, "", "a node file", node_fields);
    uint64_t id;
    if (ag_cget_uint(c, root, "", "nodeId", 0, 65535, &id)) cfg->node_id = (int)id;
    const ag_json *codec = ag_cmember(root, "codec");
    if (codec) {
        if (codec->type != AG_JSON_STRING)
            ag_cerr(c, "codec", "expected \"agora\" or \"stalwart\", found %s",
                    ag_json_type_name(codec->type));
        else if (!strcmp(codec->str, "stalwart"))
            cfg->codec = AG_CODEC_STALWART;
        else if (strcmp(codec->str, "agora") != 0)
            ag_cerr(c, "codec", "expected \"agora\" or \"stalwart\", found %s",
                    ag_cquote(codec, q, sizeof q));
    }
    ag_cget_duration(c, root, "", "heartbeatInterval", 1, &cfg->heartbeat_interval_ms);
    ag_cget_duration(c, root, "", "failureTimeout", 1, &cfg->failure_timeout_ms);
    if (cfg->failure_timeout_ms <= cfg->heartbeat_interval_ms)
        ag_cerr(c, "failureTimeout", "out of range: must be longer than heartbeatInterval");
    ag_cget_duration(c, root, "", "memberRetention", 0, &cfg->member_retention_ms);
    ag_cget_uint(c, root, "", "outboxLimit", 1, UINT32_MAX, &cfg->outbox_limit);
    ag_cget_uint(c, root, "", "outboxBytes", 65536, UINT64_C(1) << 40, &cfg->outbox_bytes);
    parse_http_token(c, root, cfg);
    const ag_json *co = ag_json_get(root, "coordinator");
    if (!co)
        ag_cerr(c, "coordinator", "required: the coordinator object, e.g. {\"@type\": "
                                  "\"%s\", ...}", ag_backend_type_at(0)->name);
    else
        parse_coordinator(c, co, "coordinator", cfg);
    /* Stalwart's batches have no room for membership, sequence numbers or agora's own
     * kinds, which some backends rely on: their type says which codecs they carry */
    if (!(cfg->type->codecs & AG_CODEC_BIT(cfg->codec))) {
        char brokers[256];
        type_names(brokers, sizeof brokers, bus_with_codec, cfg->codec);
        ag_cerr(c, "codec", "\"%s\" works only with a broker coordinator (%s); %s uses \"%s\"",
                codec_name(cfg->codec), brokers, cfg->type->name,
                codec_name(cfg->codec == AG_CODEC_AGORA ? AG_CODEC_STALWART : AG_CODEC_AGORA));
    }
    /* Stalwart reads plain batches: an envelope would be noise to it */
    if (cfg->codec == AG_CODEC_STALWART && cfg->seal_secrets.count)
        ag_cerr(c, "coordinator.secret", "the \"stalwart\" codec cannot be sealed (Stalwart "
                "nodes read plain batches): remove the secret, or use the \"agora\" codec");
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                */
/* ------------------------------------------------------------------------ */

void agora_config_free(agora_config *cfg) {
    if (!cfg) return;
    ag_section_free(cfg->type, cfg->backend);
    free(cfg->backend);
    ag_strlist_wipe(&cfg->seal_secrets);
    if (cfg->http_token) OPENSSL_cleanse(cfg->http_token, strlen(cfg->http_token));
    free(cfg->http_token);
    /* the source text holds the secrets too */
    if (cfg->source) OPENSSL_cleanse(cfg->source, cfg->source_len);
    free(cfg->source);
    free(cfg);
}

static agora_config *config_new(void) {
    agora_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return NULL;
    cfg->node_id = -1;
    cfg->codec = AG_CODEC_AGORA;
    cfg->type = ag_backend_type_default();
    cfg->heartbeat_interval_ms = 250;
    cfg->failure_timeout_ms = 1500;
    cfg->member_retention_ms = 10 * 60 * 1000;
    cfg->outbox_limit = 100000;
    cfg->outbox_bytes = UINT64_C(64) << 20;
    cfg->backend = calloc(1, cfg->type->size ? cfg->type->size : 1);
    if (!cfg->backend) {
        free(cfg);
        return NULL;
    }
    return cfg;
}

agora_config *agora_config_parse(const char *json, size_t len, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    char jerr[256];
    ag_json *root = ag_json_parse(json, len, jerr, sizeof jerr);
    if (!root) {
        if (err && errlen) snprintf(err, errlen, "invalid JSON at %s", jerr);
        return NULL;
    }
    agora_config *cfg = config_new();
    if (!cfg) {
        ag_json_free(root);
        if (err && errlen) snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ag_cparse c = {0};
    ag_buf_init(&c.errs);
    if (root->type != AG_JSON_OBJECT) {
        ag_cerr(&c, NULL,
             "expected a JSON object: a coordinator {\"@type\": ...} or a node file "
             "{\"nodeId\": ..., \"coordinator\": {...}}, found %s",
             ag_json_type_name(root->type));
    } else if (ag_json_get(root, "@type")) {
        /* a bare coordinator object: paths are still named as in the node file form */
        parse_coordinator(&c, root, "coordinator", cfg);
    } else {
        parse_node_file(&c, root, cfg);
    }
    ag_json_free(root);
    if (c.oom || c.errs.oom) {
        if (err && errlen) snprintf(err, errlen, "out of memory");
        ag_buf_free(&c.errs);
        agora_config_free(cfg);
        return NULL;
    }
    if (c.nerr) {
        ag_cflush(&c, err, errlen);
        ag_buf_free(&c.errs);
        agora_config_free(cfg);
        return NULL;
    }
    ag_buf_free(&c.errs);
    /* kept so that a setting can be changed later by re-parsing the text */
    cfg->source = malloc(len + 1);
    if (!cfg->source) {
        if (err && errlen) snprintf(err, errlen, "out of memory");
        agora_config_free(cfg);
        return NULL;
    }
    memcpy(cfg->source, json, len);
    cfg->source[len] = 0;
    cfg->source_len = len;
    return cfg;
}

void ag_config_swap(agora_config *a, agora_config *b) {
    agora_config t = *a;
    *a = *b;
    *b = t;
}

/* Prefix every line of msg with "path: " into err. */
static void prefix_lines(const char *path, const char *msg, char *err, size_t errlen) {
    ag_buf b;
    ag_buf_init(&b);
    const char *s = msg;
    for (;;) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        ag_buf_printf(&b, "%s%s: %.*s", s == msg ? "" : "\n", path, (int)n, s);
        if (!nl) break;
        s = nl + 1;
    }
    snprintf(err, errlen, "%s", b.text ? b.text : "out of memory");
    ag_buf_free(&b);
}

agora_config *agora_config_load(const char *path, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    if (!path) {
        if (err && errlen) snprintf(err, errlen, "no configuration file given");
        return NULL;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot open the configuration file: %s", path,
                     strerror(errno));
        return NULL;
    }
    ag_buf b;
    ag_buf_init(&b);
    char chunk[8192];
    size_t n;
    /* 16 MiB is far more than any configuration; stops reading /dev/zero forever */
    const size_t limit = 16u << 20;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        ag_buf_put(&b, chunk, n);
        if (b.len > limit) break;
    }
    int rerr = ferror(f) ? errno : 0;
    fclose(f);
    if (rerr || b.oom || b.len > limit) {
        if (err && errlen) {
            if (rerr)
                snprintf(err, errlen, "%s: cannot read the configuration file: %s", path,
                         strerror(rerr));
            else if (b.oom)
                snprintf(err, errlen, "%s: out of memory", path);
            else
                snprintf(err, errlen, "%s: the configuration file is larger than 16 MiB", path);
        }
        ag_buf_free(&b);
        return NULL;
    }
    char *inner = NULL;
    if (err && errlen) {
        inner = malloc(errlen);
        if (!inner) {
            ag_buf_free(&b);
            snprintf(err, errlen, "%s: out of memory", path);
            return NULL;
        }
    }
    agora_config *cfg = agora_config_parse(b.text ? b.text : "", b.len, inner, inner ? errlen : 0);
    ag_buf_free(&b);
    if (!cfg && inner) prefix_lines(path, inner, err, errlen);
    free(inner);
    return cfg;
}

void agora_config_set_node_id(agora_config *cfg, uint16_t node_id) {
    if (!cfg) return;
    /* through the source text, so that a later agora_config_set keeps it */
    char v[8];
    snprintf(v, sizeof v, "%u", (unsigned)node_id);
    if (agora_config_set(cfg, "nodeId", v, NULL, 0) != AGORA_OK) cfg->node_id = node_id;
}

int agora_config_node_id(const agora_config *cfg) { return cfg ? cfg->node_id : -1; }

const char *agora_config_type(const agora_config *cfg) { return cfg ? cfg->type->name : NULL; }

const char *agora_config_http_token(const agora_config *cfg) {
    return cfg ? cfg->http_token : NULL;
}

/* ------------------------------------------------------------------------ */
/* Clone                                                                     */
/* ------------------------------------------------------------------------ */

agora_config *ag_config_clone(const agora_config *cfg) {
    if (!cfg) return NULL;
    agora_config *d = malloc(sizeof *d);
    if (!d) return NULL;
    *d = *cfg;
    d->backend = ag_section_clone(cfg->type, cfg->backend);
    d->source = NULL;
    d->http_token = NULL;
    memset(&d->seal_secrets, 0, sizeof d->seal_secrets);
    bool secrets_ok = ag_strlist_set(&d->seal_secrets,
                                     (const char *const *)cfg->seal_secrets.items,
                                     cfg->seal_secrets.count) == 0;
    if (cfg->source && (d->source = malloc(cfg->source_len + 1)) != NULL)
        memcpy(d->source, cfg->source, cfg->source_len + 1);
    if (cfg->http_token) d->http_token = strdup(cfg->http_token);
    if (!d->backend || !secrets_ok || (cfg->source && !d->source) ||
        (cfg->http_token && !d->http_token)) {
        agora_config_free(d);
        return NULL;
    }
    return d;
}
