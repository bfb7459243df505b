/* admin_routes.c — the JSON routes and /metrics, each a view of the node through
 * agora.h. */
#include "admin/admin_internal.h"

#include "util/buf.h"
#include "util/json.h"

#include <stdlib.h>
#include <string.h>

#define CHECK_ERR_MAX (64 * 1024)

static int reply_buf(struct MHD_Connection *c, unsigned status, ag_buf *b) {
    if (b->oom) {
        ag_buf_free(b);
        return admin_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    }
    int rc = admin_reply(c, status, "application/json", b->text ? b->text : "", b->len);
    ag_buf_free(b);
    return rc;
}

static void put_str(ag_buf *b, const char *s) { ag_json_put_string(b, s, strlen(s)); }

int admin_route_status(admin_server *s, struct MHD_Connection *c) {
    agora_status st;
    if (agora_get_status(s->node, &st) != AGORA_OK)
        return admin_reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the node did not answer");
    char *sj = agora_status_to_json(&st);
    uint64_t pub[AGORA_EV_TYPE_COUNT], rec[AGORA_EV_TYPE_COUNT];
    agora_event_counts(s->node, pub, rec, AGORA_EV_TYPE_COUNT);
    ag_buf b;
    ag_buf_init(&b);
    ag_buf_printf(&b, "{\"node\":%u,\"version\":", agora_node_id(s->node));
    put_str(&b, agora_version());
    ag_buf_printf(&b, ",\"uptimeSeconds\":%.3f,\"status\":%s,\"eventTypes\":{",
                  (double)(admin_now_ms() - s->start_ms) / 1000.0, sj ? sj : "null");
    free(sj);
    bool first = true;
    for (int t = 0; t < AGORA_EV_TYPE_COUNT; t++) {
        if (!pub[t] && !rec[t]) continue;
        if (!first) ag_buf_puts(&b, ",");
        first = false;
        put_str(&b, agora_event_type_name((agora_event_type)t));
        ag_buf_printf(&b, ":{\"published\":%llu,\"received\":%llu}", (unsigned long long)pub[t],
                      (unsigned long long)rec[t]);
    }
    ag_buf_puts(&b, "}}");
    return reply_buf(c, MHD_HTTP_OK, &b);
}

int admin_route_members(admin_server *s, struct MHD_Connection *c) {
    size_t cap = 64;
    agora_member *m = NULL;
    int n;
    for (;;) {
        free(m);
        m = malloc(cap * sizeof *m);
        if (!m) return admin_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
        n = agora_members(s->node, m, cap);
        if (n < 0 || (size_t)n <= cap) break;
        cap = (size_t)n + 16;
    }
    if (n < 0) {
        free(m);
        return admin_reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the node did not answer");
    }
    ag_buf b;
    ag_buf_init(&b);
    ag_buf_printf(&b, "{\"node\":%u,\"members\":[", agora_node_id(s->node));
    for (int i = 0; i < n; i++) {
        ag_buf_printf(&b, "%s{\"node\":%u,\"state\":", i ? "," : "", m[i].node);
        put_str(&b, agora_member_state_name(m[i].state));
        ag_buf_printf(&b, ",\"self\":%s,\"address\":", m[i].self ? "true" : "false");
        put_str(&b, m[i].address);
        ag_buf_puts(&b, ",\"incarnation\":");
        ag_json_put_u64(&b, m[i].incarnation);
        ag_buf_printf(&b, ",\"lastHeardSeconds\":%.3f,\"sinceSeconds\":%.3f,\"eventsIn\":%llu,"
                      "\"eventsPerSecond\":%.3f}",
                      (double)m[i].last_seen_ms / 1000.0, (double)m[i].state_since_ms / 1000.0,
                      (unsigned long long)m[i].events_in, m[i].events_per_sec);
    }
    ag_buf_puts(&b, "]}");
    free(m);
    return reply_buf(c, MHD_HTTP_OK, &b);
}

int admin_route_metrics(admin_server *s, struct MHD_Connection *c) {
    char *text = agora_metrics_text(s->node);
    if (!text)
        return admin_reply_error(c, MHD_HTTP_SERVICE_UNAVAILABLE, "the node did not answer");
    int rc = admin_reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text,
                         strlen(text));
    free(text);
    return rc;
}

int admin_route_config(admin_server *s, struct MHD_Connection *c) {
    if (!s->cfg)
        return admin_reply_error(c, MHD_HTTP_NOT_FOUND, "this endpoint was started without the "
                                 "node's configuration");
    char *j = agora_config_to_json(s->cfg);
    if (!j) return admin_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    int rc = admin_reply_json(c, MHD_HTTP_OK, j);
    free(j);
    return rc;
}

int admin_route_schema(admin_server *s, struct MHD_Connection *c) {
    const char *type = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "type");
    if (!type || !*type) type = s->cfg ? agora_config_type(s->cfg) : "PeerToPeer";
    /* "node": the node file's own fields, outside "coordinator" */
    char *j = agora_config_describe(strcmp(type, "node") ? type : NULL);
    if (!j) {
        ag_buf q;
        ag_buf_init(&q);
        ag_json_put_string(&q, type, strnlen(type, 64));
        int rc = admin_reply_error(c, MHD_HTTP_NOT_FOUND, "unknown coordinator type %s",
                                   q.text ? q.text : "");
        ag_buf_free(&q);
        return rc;
    }
    int rc = admin_reply_json(c, MHD_HTTP_OK, j);
    free(j);
    return rc;
}

/* "path: message" lines (agora_config_parse's) as [{"field","message"}]. */
static void put_errors(ag_buf *b, const char *err) {
    ag_buf_puts(b, "[");
    bool first = true;
    for (const char *s = err; *s;) {
        const char *nl = strchr(s, '\n');
        size_t n = nl ? (size_t)(nl - s) : strlen(s);
        if (n) {
            const char *sep = memmem(s, n, ": ", 2);
            /* a field path has no spaces; "invalid JSON at ..." has none before it */
            bool has_field = sep && !memchr(s, ' ', (size_t)(sep - s));
            ag_buf_puts(b, first ? "{\"field\":" : ",{\"field\":");
            first = false;
            ag_json_put_string(b, s, has_field ? (size_t)(sep - s) : 0);
            ag_buf_puts(b, ",\"message\":");
            if (has_field)
                ag_json_put_string(b, sep + 2, n - (size_t)(sep + 2 - s));
            else
                ag_json_put_string(b, s, n);
            ag_buf_puts(b, "}");
        }
        if (!nl) break;
        s = nl + 1;
    }
    ag_buf_puts(b, "]");
}

int admin_route_check(admin_server *s, struct MHD_Connection *c, const char *body, size_t len) {
    (void)s;
    if (len == 0)
        return admin_reply_error(c, MHD_HTTP_BAD_REQUEST,
                                 "the body must be a configuration (JSON, as in a node file)");
    char *err = malloc(CHECK_ERR_MAX);
    if (!err) return admin_reply_error(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    err[0] = 0;
    agora_config *cfg = agora_config_parse(body, len, err, CHECK_ERR_MAX);
    ag_buf b;
    ag_buf_init(&b);
    unsigned status = MHD_HTTP_OK;
    if (cfg) {
        char *j = agora_config_to_json(cfg);
        agora_config_free(cfg);
        if (!j) b.oom = true;
        ag_buf_printf(&b, "{\"ok\":true,\"config\":%s}", j ? j : "null");
        free(j);
    } else {
        status = MHD_HTTP_UNPROCESSABLE_CONTENT;
        ag_buf_puts(&b, "{\"ok\":false,\"errors\":");
        put_errors(&b, err);
        ag_buf_puts(&b, "}");
    }
    free(err);
    return reply_buf(c, status, &b);
}
