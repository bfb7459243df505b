/* config.c — parse and validate a coordinator configuration (bare object or node
 * file), collecting every error with the path of the field it concerns. */
#include "config/config.h"
#include "config/config_values.h"
#include "util/json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------ */
/* Error collection                                                          */
/* ------------------------------------------------------------------------ */

typedef struct cparse {
    ag_buf errs; /* "path: message\n" lines */
    size_t nerr;
    bool oom;
} cparse;

static void cerr(cparse *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void cerr(cparse *c, const char *path, const char *fmt, ...) {
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
static void flush_errors(cparse *c, char *err, size_t errlen) {
    if (!err || errlen == 0) return;
    err[0] = 0;
    const char *s = c->errs.data ? c->errs.data : "";
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
static const char *quote(const ag_json *v, char *buf, size_t n) {
    ag_buf b;
    ag_buf_init(&b);
    size_t len = v->str_len > 64 ? 64 : v->str_len;
    /* do not cut a UTF-8 sequence in half */
    while (len > 0 && len < v->str_len && ((unsigned char)v->str[len] & 0xC0) == 0x80) len--;
    ag_json_put_string(&b, v->str, len);
    snprintf(buf, n, "%s%s", b.data ? b.data : "\"\"", len < v->str_len ? "..." : "");
    ag_buf_free(&b);
    return buf;
}

/* parent.key; control characters in a (user-written) key become '?' so that every
 * error stays on one line. */
static void join(char *out, size_t n, const char *parent, const char *key) {
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

#define PATH_MAX_LEN 256

/* Report unknown and duplicate members of obj; `known` is NULL-terminated. */
static void check_members(cparse *c, const ag_json *obj, const char *path, const char *what,
                          const char *const *known) {
    for (size_t i = 0; i < obj->count; i++) {
        char p[PATH_MAX_LEN];
        join(p, sizeof p, path, obj->keys[i]);
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
            cerr(c, p, "unknown field for %s (known fields: %s)", what, list);
            continue;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(obj->keys[j], obj->keys[i])) {
                cerr(c, p, "duplicate field (line %d, column %d)", obj->items[i]->line,
                     obj->items[i]->col);
                break;
            }
    }
}

static const ag_json *member(const ag_json *obj, const char *key) {
    const ag_json *v = ag_json_get(obj, key);
    return v && v->type == AG_JSON_NULL ? NULL : v; /* null means "use the default" */
}

static void get_duration(cparse *c, const ag_json *obj, const char *path, const char *key,
                         uint64_t min_ms, uint64_t *out) {
    const ag_json *v = member(obj, key);
    if (!v) return;
    char p[PATH_MAX_LEN], example[32];
    join(p, sizeof p, path, key);
    ag_format_duration(*out, example, sizeof example);
    uint64_t ms;
    if (v->type == AG_JSON_STRING) {
        if (strlen(v->str) != v->str_len || ag_parse_duration(v->str, &ms) < 0) {
            cerr(c, p, "expected a duration such as \"%s\"", example);
            return;
        }
    } else if (v->type == AG_JSON_NUMBER && v->is_integer && v->fits_u64) {
        ms = v->u64;
    } else {
        cerr(c, p, "expected a duration such as \"%s\"", example);
        return;
    }
    char lim[32];
    if (ms < min_ms) {
        ag_format_duration(min_ms, lim, sizeof lim);
        cerr(c, p, "out of range: must be at least %s", lim);
        return;
    }
    if (ms > AG_DURATION_MAX_MS) {
        ag_format_duration(AG_DURATION_MAX_MS, lim, sizeof lim);
        cerr(c, p, "out of range: must be at most %s", lim);
        return;
    }
    *out = ms;
}

/* Returns true if the member was present (and valid). */
static bool get_uint(cparse *c, const ag_json *obj, const char *path, const char *key,
                     uint64_t min, uint64_t max, uint64_t *out) {
    const ag_json *v = member(obj, key);
    if (!v) return false;
    char p[PATH_MAX_LEN];
    join(p, sizeof p, path, key);
    if (v->type != AG_JSON_NUMBER || !v->is_integer) {
        cerr(c, p, "expected an integer from %llu to %llu, found %s", (unsigned long long)min,
             (unsigned long long)max,
             v->type == AG_JSON_NUMBER ? "a fraction" : ag_json_type_name(v->type));
        return false;
    }
    if (!v->fits_u64 || v->u64 < min || v->u64 > max) {
        cerr(c, p, "out of range: %s is not from %llu to %llu", v->num_text,
             (unsigned long long)min, (unsigned long long)max);
        return false;
    }
    *out = v->u64;
    return true;
}

static void get_bool(cparse *c, const ag_json *obj, const char *path, const char *key,
                     bool *out) {
    const ag_json *v = member(obj, key);
    if (!v) return;
    if (v->type != AG_JSON_BOOL) {
        char p[PATH_MAX_LEN];
        join(p, sizeof p, path, key);
        cerr(c, p, "expected true or false, found %s", ag_json_type_name(v->type));
        return;
    }
    *out = v->boolean;
}

/* A string member; *out is replaced (the old value freed) only when valid. */
static bool get_string(cparse *c, const ag_json *obj, const char *path, const char *key,
                       char **out) {
    const ag_json *v = member(obj, key);
    if (!v) return false;
    char p[PATH_MAX_LEN];
    join(p, sizeof p, path, key);
    if (v->type != AG_JSON_STRING) {
        cerr(c, p, "expected a string, found %s", ag_json_type_name(v->type));
        return false;
    }
    if (v->str_len == 0) {
        cerr(c, p, "must not be empty (omit the field or use null)");
        return false;
    }
    if (strlen(v->str) != v->str_len) {
        cerr(c, p, "must not contain NUL characters");
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

typedef enum { LIST_HOSTPORT, LIST_LISTEN, LIST_NATS, LIST_REDIS } list_kind;

static const char *list_expect(list_kind k) {
    switch (k) {
    case LIST_NATS: return "\"host:port\"";
    case LIST_REDIS: return "a redis:// URL";
    default: return "\"host:port\"";
    }
}

static void strlist_free(ag_strlist *l) {
    for (size_t i = 0; i < l->count; i++) free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

static int strlist_set(ag_strlist *l, const char *const *items, size_t n) {
    strlist_free(l);
    if (n == 0) return 0;
    l->items = calloc(n, sizeof *l->items);
    if (!l->items) return -1;
    for (size_t i = 0; i < n; i++) {
        l->items[i] = strdup(items[i]);
        if (!l->items[i]) {
            l->count = i;
            strlist_free(l);
            return -1;
        }
    }
    l->count = n;
    return 0;
}

/* Validate one list item; path names it. URLs are never echoed (passwords). */
static bool check_item(cparse *c, const ag_json *v, const char *p, list_kind kind) {
    char q[128];
    if (v->type != AG_JSON_STRING) {
        cerr(c, p, "expected %s string, found %s", list_expect(kind), ag_json_type_name(v->type));
        return false;
    }
    if (strlen(v->str) != v->str_len) {
        cerr(c, p, "must not contain NUL characters");
        return false;
    }
    const char *why;
    switch (kind) {
    case LIST_LISTEN: why = ag_check_hostport(v->str, true); break;
    case LIST_NATS: why = ag_check_nats_address(v->str); break;
    case LIST_REDIS: why = ag_check_redis_url(v->str); break;
    default: why = ag_check_hostport(v->str, false); break;
    }
    if (why) {
        if (kind == LIST_REDIS)
            cerr(c, p, "invalid URL: %s", why);
        else
            cerr(c, p, "expected %s, found %s: %s", list_expect(kind), quote(v, q, sizeof q), why);
        return false;
    }
    return true;
}

/* A list of strings (or a single string when allow_single). min_items: at least that
 * many. On error the default list is left as it is. */
static void get_strlist(cparse *c, const ag_json *obj, const char *path, const char *key,
                        list_kind kind, bool allow_single, size_t min_items,
                        const char *min_msg, ag_strlist *out) {
    const ag_json *v = member(obj, key);
    char p[PATH_MAX_LEN];
    join(p, sizeof p, path, key);
    if (!v) {
        if (out->count < min_items) cerr(c, p, "%s", min_msg);
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
        cerr(c, p, "expected a list of %s strings%s, found %s", list_expect(kind),
             allow_single ? " (or one string)" : "", ag_json_type_name(v->type));
        return;
    }
    if (n < min_items) {
        cerr(c, p, "%s", min_msg);
        return;
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        char ip[PATH_MAX_LEN + 32];
        if (v->type == AG_JSON_ARRAY)
            snprintf(ip, sizeof ip, "%s[%zu]", p, i);
        else
            snprintf(ip, sizeof ip, "%s", p);
        if (!check_item(c, items[i], ip, kind)) ok = false;
    }
    if (!ok) return;
    const char **strs = calloc(n ? n : 1, sizeof *strs);
    if (!strs) {
        c->oom = true;
        return;
    }
    for (size_t i = 0; i < n; i++) strs[i] = items[i]->str;
    if (strlist_set(out, strs, n) < 0) c->oom = true;
    free(strs);
}

/* ------------------------------------------------------------------------ */
/* Backends                                                                  */
/* ------------------------------------------------------------------------ */

static const char *const kafka_fields[] = {"@type", "brokers", "groupId", "timeoutSession",
                                           "timeoutMessage", NULL};
static const char *const nats_fields[] = {
    "@type", "addresses", "maxReconnects", "timeoutConnection", "timeoutRequest",
    "pingInterval", "capacityClient", "capacityReadBuffer", "capacitySubscription", "noEcho",
    "useTls", "authUsername", "authSecret", "credentials", NULL};
static const char *const redis_fields[] = {"@type", "url", "timeout", NULL};
static const char *const cluster_fields[] = {
    "@type", "urls", "timeout", "authUsername", "authSecret", "maxRetries", "minRetryWait",
    "maxRetryWait", "readFromReplicas", "protocolVersion", NULL};
static const char *const sentinel_fields[] = {
    "@type", "urls", "serviceName", "timeout", "authUsername", "authSecret",
    "sentinelUsername", "sentinelSecret", NULL};
static const char *const p2p_fields[] = {
    "@type", "listen", "peers", "secret", "encryption", "advertise", "reconnectMin",
    "reconnectMax", "resendBuffer", "maxFrameSize", "connectTimeout", NULL};
static const char *const disabled_fields[] = {"@type", NULL};

static void parse_kafka(cparse *c, const ag_json *o, const char *path, ag_kafka_config *k) {
    k->timeout_session_ms = 5000;
    k->timeout_message_ms = 5000;
    check_members(c, o, path, "Kafka", kafka_fields);
    get_strlist(c, o, path, "brokers", LIST_HOSTPORT, false, 1,
                "at least one broker is required", &k->brokers);
    if (!get_string(c, o, path, "groupId", &k->group_id)) {
        if (!member(o, "groupId")) {
            char p[PATH_MAX_LEN];
            join(p, sizeof p, path, "groupId");
            cerr(c, p, "required (the Kafka consumer group id, e.g. \"agora\")");
        }
    }
    get_duration(c, o, path, "timeoutSession", 1, &k->timeout_session_ms);
    get_duration(c, o, path, "timeoutMessage", 1, &k->timeout_message_ms);
}

static void parse_nats(cparse *c, const ag_json *o, const char *path, ag_nats_config *n) {
    static const char *const def_addr[] = {"127.0.0.1:4444"};
    if (strlist_set(&n->addresses, def_addr, 1) < 0) c->oom = true;
    n->timeout_connection_ms = 5000;
    n->timeout_request_ms = 10000;
    n->ping_interval_ms = 60000;
    n->capacity_client = 2048;
    n->capacity_read_buffer = 65535;
    n->capacity_subscription = 65536;
    n->no_echo = true;
    n->use_tls = false;
    check_members(c, o, path, "Nats", nats_fields);
    get_strlist(c, o, path, "addresses", LIST_NATS, false, 1,
                "at least one address is required", &n->addresses);
    uint64_t mr;
    if (get_uint(c, o, path, "maxReconnects", 0, UINT32_MAX, &mr)) {
        n->has_max_reconnects = true;
        n->max_reconnects = (uint32_t)mr;
    }
    get_duration(c, o, path, "timeoutConnection", 1, &n->timeout_connection_ms);
    get_duration(c, o, path, "timeoutRequest", 1, &n->timeout_request_ms);
    get_duration(c, o, path, "pingInterval", 1, &n->ping_interval_ms);
    get_uint(c, o, path, "capacityClient", 1, UINT32_MAX, &n->capacity_client);
    get_uint(c, o, path, "capacityReadBuffer", 1, UINT32_MAX, &n->capacity_read_buffer);
    get_uint(c, o, path, "capacitySubscription", 1, UINT32_MAX, &n->capacity_subscription);
    get_bool(c, o, path, "noEcho", &n->no_echo);
    get_bool(c, o, path, "useTls", &n->use_tls);
    get_string(c, o, path, "authUsername", &n->auth_username);
    get_string(c, o, path, "authSecret", &n->auth_secret);
    get_string(c, o, path, "credentials", &n->credentials);
}

static void redis_common(cparse *c, const ag_json *o, const char *path, ag_redis_config *r) {
    r->timeout_ms = 10000;
    get_duration(c, o, path, "timeout", 1, &r->timeout_ms);
}

static void parse_redis(cparse *c, const ag_json *o, const char *path, ag_redis_config *r) {
    check_members(c, o, path, "Redis", redis_fields);
    r->url = strdup("redis://127.0.0.1");
    if (!r->url) c->oom = true;
    const ag_json *v = member(o, "url");
    if (v) {
        char p[PATH_MAX_LEN];
        join(p, sizeof p, path, "url");
        if (v->type != AG_JSON_STRING) {
            cerr(c, p, "expected a redis:// URL string, found %s", ag_json_type_name(v->type));
        } else {
            const char *why = strlen(v->str) != v->str_len ? "contains a NUL character"
                                                           : ag_check_redis_url(v->str);
            if (why)
                cerr(c, p, "invalid URL: %s", why);
            else
                get_string(c, o, path, "url", &r->url);
        }
    }
    redis_common(c, o, path, r);
}

static void parse_cluster(cparse *c, const ag_json *o, const char *path, ag_redis_config *r) {
    check_members(c, o, path, "RedisCluster", cluster_fields);
    get_strlist(c, o, path, "urls", LIST_REDIS, false, 1, "at least one URL is required",
                &r->urls);
    redis_common(c, o, path, r);
    get_string(c, o, path, "authUsername", &r->auth_username);
    get_string(c, o, path, "authSecret", &r->auth_secret);
    uint64_t mr = 3;
    r->has_max_retries = get_uint(c, o, path, "maxRetries", 0, UINT32_MAX, &mr);
    r->max_retries = (uint32_t)mr;
    r->min_retry_wait_ms = 100;
    r->max_retry_wait_ms = 5000;
    get_duration(c, o, path, "minRetryWait", 1, &r->min_retry_wait_ms);
    get_duration(c, o, path, "maxRetryWait", 1, &r->max_retry_wait_ms);
    if (r->max_retry_wait_ms < r->min_retry_wait_ms) {
        char p[PATH_MAX_LEN];
        join(p, sizeof p, path, "maxRetryWait");
        cerr(c, p, "out of range: must not be less than minRetryWait");
    }
    r->read_from_replicas = true;
    get_bool(c, o, path, "readFromReplicas", &r->read_from_replicas);
    r->protocol_version = strdup("Resp2");
    if (!r->protocol_version) c->oom = true;
    const ag_json *v = member(o, "protocolVersion");
    if (v) {
        char p[PATH_MAX_LEN], q[128];
        join(p, sizeof p, path, "protocolVersion");
        if (v->type != AG_JSON_STRING)
            cerr(c, p, "expected \"Resp2\" or \"Resp3\", found %s", ag_json_type_name(v->type));
        else if (strcmp(v->str, "Resp2") != 0 && strcmp(v->str, "Resp3") != 0)
            cerr(c, p, "expected \"Resp2\" or \"Resp3\", found %s", quote(v, q, sizeof q));
        else
            get_string(c, o, path, "protocolVersion", &r->protocol_version);
    }
}

static void parse_sentinel(cparse *c, const ag_json *o, const char *path, ag_redis_config *r) {
    static const char *const def_urls[] = {"redis://127.0.0.1:26379"};
    check_members(c, o, path, "RedisSentinel", sentinel_fields);
    if (strlist_set(&r->urls, def_urls, 1) < 0) c->oom = true;
    get_strlist(c, o, path, "urls", LIST_REDIS, false, 1, "at least one URL is required",
                &r->urls);
    r->service_name = strdup("mymaster");
    if (!r->service_name) c->oom = true;
    get_string(c, o, path, "serviceName", &r->service_name);
    redis_common(c, o, path, r);
    get_string(c, o, path, "authUsername", &r->auth_username);
    get_string(c, o, path, "authSecret", &r->auth_secret);
    get_string(c, o, path, "sentinelUsername", &r->sentinel_username);
    get_string(c, o, path, "sentinelSecret", &r->sentinel_secret);
}

static void parse_p2p(cparse *c, const ag_json *o, const char *path, ag_p2p_config *p2p) {
    static const char *const def_listen[] = {"127.0.0.1:7911"};
    char p[PATH_MAX_LEN];
    check_members(c, o, path, "PeerToPeer", p2p_fields);
    if (strlist_set(&p2p->listen, def_listen, 1) < 0) c->oom = true;
    get_strlist(c, o, path, "listen", LIST_LISTEN, true, 1,
                "at least one listen address is required", &p2p->listen);
    get_strlist(c, o, path, "peers", LIST_HOSTPORT, true, 0, "", &p2p->peers);

    const ag_json *enc = member(o, "encryption");
    join(p, sizeof p, path, "encryption");
    if (enc) {
        char q[128];
        if (enc->type != AG_JSON_STRING)
            cerr(c, p, "expected \"psk\" or \"none\", found %s", ag_json_type_name(enc->type));
        else if (!strcmp(enc->str, "none"))
            p2p->plaintext = true;
        else if (strcmp(enc->str, "psk") != 0)
            cerr(c, p, "expected \"psk\" or \"none\", found %s", quote(enc, q, sizeof q));
    }
    join(p, sizeof p, path, "secret");
    bool has_secret = get_string(c, o, path, "secret", &p2p->secret);
    if (!member(o, "secret") && !p2p->plaintext)
        cerr(c, p, "required: the cluster secret shared by every node (or set \"encryption\": "
                   "\"none\" to run without authentication and encryption)");
    if (has_secret && p2p->plaintext)
        cerr(c, p, "not used when \"encryption\" is \"none\"; remove one of them");

    const ag_json *adv = member(o, "advertise");
    join(p, sizeof p, path, "advertise");
    if (adv) {
        /* port 0 is allowed as in listen: "the port actually bound" */
        if (check_item(c, adv, p, LIST_LISTEN)) get_string(c, o, path, "advertise", &p2p->advertise);
    }
    if (!p2p->advertise && p2p->listen.count) {
        p2p->advertise = strdup(p2p->listen.items[0]);
        if (!p2p->advertise) c->oom = true;
    }

    p2p->reconnect_min_ms = 100;
    p2p->reconnect_max_ms = 5000;
    p2p->resend_buffer = 100000;
    p2p->max_frame = 4194304;
    p2p->connect_timeout_ms = 2000;
    get_duration(c, o, path, "reconnectMin", 1, &p2p->reconnect_min_ms);
    get_duration(c, o, path, "reconnectMax", 1, &p2p->reconnect_max_ms);
    if (p2p->reconnect_max_ms < p2p->reconnect_min_ms) {
        join(p, sizeof p, path, "reconnectMax");
        cerr(c, p, "out of range: must not be less than reconnectMin");
    }
    get_uint(c, o, path, "resendBuffer", 0, UINT32_MAX, &p2p->resend_buffer);
    get_uint(c, o, path, "maxFrameSize", 1024, 1073741824, &p2p->max_frame);
    get_duration(c, o, path, "connectTimeout", 1, &p2p->connect_timeout_ms);
}

static const struct {
    const char *name;
    ag_backend_kind kind;
} backend_names[] = {
    {"PeerToPeer", AG_BACKEND_P2P},       {"Kafka", AG_BACKEND_KAFKA},
    {"Nats", AG_BACKEND_NATS},            {"Redis", AG_BACKEND_REDIS},
    {"RedisCluster", AG_BACKEND_REDIS_CLUSTER}, {"RedisSentinel", AG_BACKEND_REDIS_SENTINEL},
    {"Disabled", AG_BACKEND_DISABLED},
};
#define TYPE_LIST "PeerToPeer, Kafka, Nats, Redis, RedisCluster, RedisSentinel, Disabled"

static void parse_coordinator(cparse *c, const ag_json *o, const char *path, agora_config *cfg) {
    char p[PATH_MAX_LEN], q[128];
    if (o->type != AG_JSON_OBJECT) {
        cerr(c, path, "expected an object with \"@type\", found %s", ag_json_type_name(o->type));
        return;
    }
    const ag_json *t = ag_json_get(o, "@type");
    join(p, sizeof p, path, "@type");
    if (!t) {
        cerr(c, p, "required: one of " TYPE_LIST);
        return;
    }
    if (t->type != AG_JSON_STRING) {
        cerr(c, p, "expected a string (one of " TYPE_LIST "), found %s",
             ag_json_type_name(t->type));
        return;
    }
    size_t i, n = sizeof backend_names / sizeof backend_names[0];
    for (i = 0; i < n; i++)
        if (!strcmp(t->str, backend_names[i].name) && strlen(t->str) == t->str_len) break;
    if (i == n) {
        if (!strcmp(t->str, "Default"))
            cerr(c, p, "\"Default\" (Stalwart's in-memory-store coordinator) is not supported "
                       "by agora; use Redis with the same server");
        else
            cerr(c, p, "unknown coordinator type %s (expected one of " TYPE_LIST ")",
                 quote(t, q, sizeof q));
        return;
    }
    cfg->kind = backend_names[i].kind;
    free(cfg->type_name);
    cfg->type_name = strdup(backend_names[i].name);
    if (!cfg->type_name) c->oom = true;
    switch (cfg->kind) {
    case AG_BACKEND_P2P: parse_p2p(c, o, path, &cfg->u.p2p); break;
    case AG_BACKEND_KAFKA: parse_kafka(c, o, path, &cfg->u.kafka); break;
    case AG_BACKEND_NATS: parse_nats(c, o, path, &cfg->u.nats); break;
    case AG_BACKEND_REDIS: parse_redis(c, o, path, &cfg->u.redis); break;
    case AG_BACKEND_REDIS_CLUSTER: parse_cluster(c, o, path, &cfg->u.redis); break;
    case AG_BACKEND_REDIS_SENTINEL: parse_sentinel(c, o, path, &cfg->u.redis); break;
    case AG_BACKEND_DISABLED: check_members(c, o, path, "Disabled", disabled_fields); break;
    }
}

static const char *const node_fields[] = {"nodeId", "codec", "coordinator",
                                          "heartbeatInterval", "failureTimeout",
                                          "outboxLimit", NULL};

static void parse_node_file(cparse *c, const ag_json *root, agora_config *cfg) {
    char q[128];
    check_members(c, root, "", "a node file", node_fields);
    uint64_t id;
    if (get_uint(c, root, "", "nodeId", 0, 65535, &id)) cfg->node_id = (int)id;
    const ag_json *codec = member(root, "codec");
    if (codec) {
        if (codec->type != AG_JSON_STRING)
            cerr(c, "codec", "expected \"agora\" or \"stalwart\", found %s",
                 ag_json_type_name(codec->type));
        else if (!strcmp(codec->str, "stalwart"))
            cfg->codec = AG_CODEC_STALWART;
        else if (strcmp(codec->str, "agora") != 0)
            cerr(c, "codec", "expected \"agora\" or \"stalwart\", found %s",
                 quote(codec, q, sizeof q));
    }
    get_duration(c, root, "", "heartbeatInterval", 1, &cfg->heartbeat_interval_ms);
    get_duration(c, root, "", "failureTimeout", 1, &cfg->failure_timeout_ms);
    if (cfg->failure_timeout_ms <= cfg->heartbeat_interval_ms)
        cerr(c, "failureTimeout", "out of range: must be longer than heartbeatInterval");
    get_uint(c, root, "", "outboxLimit", 1, UINT32_MAX, &cfg->outbox_limit);
    const ag_json *co = ag_json_get(root, "coordinator");
    if (!co)
        cerr(c, "coordinator", "required: the coordinator object, e.g. {\"@type\": "
                               "\"PeerToPeer\", ...}");
    else
        parse_coordinator(c, co, "coordinator", cfg);
    /* Stalwart's batches have no room for membership, sequence numbers or agora's own
     * kinds, which PeerToPeer relies on */
    if (cfg->codec == AG_CODEC_STALWART && cfg->kind == AG_BACKEND_P2P)
        cerr(c, "codec", "\"stalwart\" works only with a broker coordinator (Kafka, Nats, "
                         "Redis, RedisCluster, RedisSentinel); PeerToPeer uses \"agora\"");
}

/* ------------------------------------------------------------------------ */
/* Public API                                                                */
/* ------------------------------------------------------------------------ */

static void free_members(agora_config *cfg) {
    switch (cfg->kind) {
    case AG_BACKEND_KAFKA:
        strlist_free(&cfg->u.kafka.brokers);
        free(cfg->u.kafka.group_id);
        break;
    case AG_BACKEND_NATS:
        strlist_free(&cfg->u.nats.addresses);
        free(cfg->u.nats.auth_username);
        free(cfg->u.nats.auth_secret);
        free(cfg->u.nats.credentials);
        break;
    case AG_BACKEND_REDIS:
    case AG_BACKEND_REDIS_CLUSTER:
    case AG_BACKEND_REDIS_SENTINEL:
        free(cfg->u.redis.url);
        strlist_free(&cfg->u.redis.urls);
        free(cfg->u.redis.auth_username);
        free(cfg->u.redis.auth_secret);
        free(cfg->u.redis.protocol_version);
        free(cfg->u.redis.service_name);
        free(cfg->u.redis.sentinel_username);
        free(cfg->u.redis.sentinel_secret);
        break;
    case AG_BACKEND_P2P:
        strlist_free(&cfg->u.p2p.listen);
        strlist_free(&cfg->u.p2p.peers);
        free(cfg->u.p2p.secret);
        free(cfg->u.p2p.advertise);
        break;
    case AG_BACKEND_DISABLED: break;
    }
    free(cfg->type_name);
    free(cfg->source);
}

void agora_config_free(agora_config *cfg) {
    if (!cfg) return;
    free_members(cfg);
    free(cfg);
}

static agora_config *config_new(void) {
    agora_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return NULL;
    cfg->node_id = -1;
    cfg->codec = AG_CODEC_AGORA;
    cfg->kind = AG_BACKEND_DISABLED;
    cfg->heartbeat_interval_ms = 250;
    cfg->failure_timeout_ms = 1500;
    cfg->outbox_limit = 100000;
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
    cparse c = {0};
    ag_buf_init(&c.errs);
    if (root->type != AG_JSON_OBJECT) {
        cerr(&c, NULL,
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
        flush_errors(&c, err, errlen);
        ag_buf_free(&c.errs);
        agora_config_free(cfg);
        return NULL;
    }
    ag_buf_free(&c.errs);
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
    snprintf(err, errlen, "%s", b.data ? b.data : "out of memory");
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
    agora_config *cfg = agora_config_parse(b.data ? b.data : "", b.len, inner, inner ? errlen : 0);
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

const char *agora_config_type(const agora_config *cfg) {
    if (!cfg) return NULL;
    return cfg->type_name ? cfg->type_name : "Disabled";
}

/* ------------------------------------------------------------------------ */
/* Clone                                                                     */
/* ------------------------------------------------------------------------ */

static bool dup_str(char **s) {
    if (!*s) return true;
    *s = strdup(*s);
    return *s != NULL;
}

static bool dup_list(ag_strlist *l) {
    ag_strlist src = *l;
    l->count = 0;
    l->items = NULL;
    return strlist_set(l, (const char *const *)src.items, src.count) == 0;
}

agora_config *ag_config_clone(const agora_config *cfg) {
    if (!cfg) return NULL;
    agora_config *d = malloc(sizeof *d);
    if (!d) return NULL;
    *d = *cfg;
    /* Every pointer is re-duplicated in place; on failure the pointers not yet
     * duplicated are cleared so that free_members never frees the original's. */
    bool ok = dup_str(&d->type_name);
    if (cfg->source) {
        d->source = malloc(cfg->source_len + 1);
        if (d->source)
            memcpy(d->source, cfg->source, cfg->source_len + 1);
        else
            ok = false; /* NULL: nothing of the original's to free */
    }
    switch (d->kind) {
    case AG_BACKEND_KAFKA: {
        ag_kafka_config *k = &d->u.kafka;
        if (!dup_list(&k->brokers)) ok = false;
        if (!dup_str(&k->group_id)) ok = false;
        break;
    }
    case AG_BACKEND_NATS: {
        ag_nats_config *n = &d->u.nats;
        if (!dup_list(&n->addresses)) ok = false;
        if (!dup_str(&n->auth_username)) ok = false;
        if (!dup_str(&n->auth_secret)) ok = false;
        if (!dup_str(&n->credentials)) ok = false;
        break;
    }
    case AG_BACKEND_REDIS:
    case AG_BACKEND_REDIS_CLUSTER:
    case AG_BACKEND_REDIS_SENTINEL: {
        ag_redis_config *r = &d->u.redis;
        if (!dup_str(&r->url)) ok = false;
        if (!dup_list(&r->urls)) ok = false;
        if (!dup_str(&r->auth_username)) ok = false;
        if (!dup_str(&r->auth_secret)) ok = false;
        if (!dup_str(&r->protocol_version)) ok = false;
        if (!dup_str(&r->service_name)) ok = false;
        if (!dup_str(&r->sentinel_username)) ok = false;
        if (!dup_str(&r->sentinel_secret)) ok = false;
        break;
    }
    case AG_BACKEND_P2P: {
        ag_p2p_config *p = &d->u.p2p;
        if (!dup_list(&p->listen)) ok = false;
        if (!dup_list(&p->peers)) ok = false;
        if (!dup_str(&p->secret)) ok = false;
        if (!dup_str(&p->advertise)) ok = false;
        break;
    }
    case AG_BACKEND_DISABLED: break;
    }
    if (!ok) {
        /* dup_str/dup_list leave NULL (failed) or a fresh copy: safe to free */
        agora_config_free(d);
        return NULL;
    }
    return d;
}
