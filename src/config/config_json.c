/* config_json.c — the effective configuration as pretty JSON, in node-file form,
 * with every default filled in and every secret shown as "********". */
#include "config/config.h"
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

static void jw_list(jw *w, const char *key, const ag_strlist *l, bool urls) {
    jw_key(w, key);
    ag_buf_puts(w->b, "[");
    for (size_t i = 0; i < l->count; i++) {
        if (i) ag_buf_puts(w->b, ", ");
        char *m = urls ? ag_mask_url(l->items[i]) : NULL;
        if (urls && !m) {
            w->b->oom = true;
            return;
        }
        const char *s = m ? m : l->items[i];
        ag_json_put_string(w->b, s, strlen(s));
        free(m);
    }
    ag_buf_puts(w->b, "]");
}

static void write_coordinator(jw *w, const agora_config *cfg) {
    jw_str(w, "@type", agora_config_type(cfg));
    switch (cfg->kind) {
    case AG_BACKEND_KAFKA: {
        const ag_kafka_config *k = &cfg->u.kafka;
        jw_list(w, "brokers", &k->brokers, false);
        jw_str(w, "groupId", k->group_id);
        jw_dur(w, "timeoutSession", k->timeout_session_ms);
        jw_dur(w, "timeoutMessage", k->timeout_message_ms);
        break;
    }
    case AG_BACKEND_NATS: {
        const ag_nats_config *n = &cfg->u.nats;
        jw_list(w, "addresses", &n->addresses, false);
        if (n->has_max_reconnects)
            jw_u64(w, "maxReconnects", n->max_reconnects);
        else
            jw_str(w, "maxReconnects", NULL);
        jw_dur(w, "timeoutConnection", n->timeout_connection_ms);
        jw_dur(w, "timeoutRequest", n->timeout_request_ms);
        jw_dur(w, "pingInterval", n->ping_interval_ms);
        jw_u64(w, "capacityClient", n->capacity_client);
        jw_u64(w, "capacityReadBuffer", n->capacity_read_buffer);
        jw_u64(w, "capacitySubscription", n->capacity_subscription);
        jw_bool(w, "noEcho", n->no_echo);
        jw_bool(w, "useTls", n->use_tls);
        jw_str(w, "authUsername", n->auth_username);
        jw_secret(w, "authSecret", n->auth_secret);
        jw_secret(w, "credentials", n->credentials);
        break;
    }
    case AG_BACKEND_REDIS: {
        const ag_redis_config *r = &cfg->u.redis;
        char *m = r->url ? ag_mask_url(r->url) : NULL;
        if (r->url && !m) w->b->oom = true;
        jw_str(w, "url", m);
        free(m);
        jw_dur(w, "timeout", r->timeout_ms);
        break;
    }
    case AG_BACKEND_REDIS_CLUSTER: {
        const ag_redis_config *r = &cfg->u.redis;
        jw_list(w, "urls", &r->urls, true);
        jw_dur(w, "timeout", r->timeout_ms);
        jw_str(w, "authUsername", r->auth_username);
        jw_secret(w, "authSecret", r->auth_secret);
        jw_u64(w, "maxRetries", r->max_retries);
        jw_dur(w, "minRetryWait", r->min_retry_wait_ms);
        jw_dur(w, "maxRetryWait", r->max_retry_wait_ms);
        jw_bool(w, "readFromReplicas", r->read_from_replicas);
        jw_str(w, "protocolVersion", r->protocol_version);
        break;
    }
    case AG_BACKEND_REDIS_SENTINEL: {
        const ag_redis_config *r = &cfg->u.redis;
        jw_list(w, "urls", &r->urls, true);
        jw_str(w, "serviceName", r->service_name);
        jw_dur(w, "timeout", r->timeout_ms);
        jw_str(w, "authUsername", r->auth_username);
        jw_secret(w, "authSecret", r->auth_secret);
        jw_str(w, "sentinelUsername", r->sentinel_username);
        jw_secret(w, "sentinelSecret", r->sentinel_secret);
        break;
    }
    case AG_BACKEND_P2P: {
        const ag_p2p_config *p = &cfg->u.p2p;
        jw_list(w, "listen", &p->listen, false);
        jw_list(w, "peers", &p->peers, false);
        jw_str(w, "encryption", p->plaintext ? "none" : "psk");
        jw_secret(w, "secret", p->secret);
        jw_str(w, "advertise", p->advertise);
        jw_dur(w, "reconnectMin", p->reconnect_min_ms);
        jw_dur(w, "reconnectMax", p->reconnect_max_ms);
        jw_u64(w, "resendBuffer", p->resend_buffer);
        jw_u64(w, "maxFrameSize", p->max_frame);
        jw_dur(w, "connectTimeout", p->connect_timeout_ms);
        break;
    }
    case AG_BACKEND_DISABLED: break;
    }
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
    jw_key(&w, "coordinator");
    ag_buf_puts(&b, "{");
    jw inner = {.b = &b, .indent = 2, .first = true};
    write_coordinator(&inner, cfg);
    ag_buf_puts(&b, "\n  }\n}");
    return ag_buf_take(&b);
}
