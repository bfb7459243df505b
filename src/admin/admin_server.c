/* admin_server.c — the admin endpoint's daemon: binding, the token, request bodies,
 * routing, replies. libmicrohttpd runs it with a thread per connection (so a live
 * event stream waits on its own thread, and a client that never reads holds only
 * its own), bounded in connections and idle time. */
#include "admin/admin_internal.h"
#include "admin/admin_static.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define MAX_BODY (1u << 20)      /* POST /api/config/check */
#define MAX_CONNECTIONS 64
#define IDLE_TIMEOUT_S 60        /* a connection silent this long is closed */
#define AUTH_LOG_MS 10000        /* at most one "token refused" line per 10 s */

uint64_t admin_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void admin_log(admin_server *s, agora_log_level level, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (s->log)
        s->log(level, msg, s->log_user);
    else
        fprintf(stderr, "agora admin: %s\n", msg);
}

/* ---- replies ------------------------------------------------------------- */

int admin_reply(struct MHD_Connection *c, unsigned status, const char *content_type,
                const char *body, size_t len) {
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    int rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

int admin_reply_json(struct MHD_Connection *c, unsigned status, const char *json) {
    return admin_reply(c, status, "application/json", json, strlen(json));
}

int admin_reply_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...) {
    char msg[512], body[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* a JSON string by hand: messages are ours, but may quote a URL or a name */
    size_t o = (size_t)snprintf(body, sizeof body, "{\"error\":\"");
    for (const char *p = msg; *p && o < sizeof body - 16; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '"' || ch == '\\') {
            body[o++] = '\\';
            body[o++] = (char)ch;
        } else if (ch < 0x20) {
            o += (size_t)snprintf(body + o, sizeof body - o, "\\u%04x", ch);
        } else {
            body[o++] = (char)ch;
        }
    }
    snprintf(body + o, sizeof body - o, "\"}");
    return admin_reply_json(c, status, body);
}

/* ---- requests ------------------------------------------------------------ */

typedef struct request {
    char *body;
    size_t len;
    bool too_large;
} request;

static void request_done(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)cls;
    (void)c;
    (void)toe;
    request *r = *req_cls;
    if (r) {
        free(r->body);
        free(r);
    }
    *req_cls = NULL;
}

/* Constant time in the token's length: a wrong guess learns nothing from timing. */
static bool token_ok(admin_server *s, struct MHD_Connection *c) {
    if (!s->token) return true;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    static const char bearer[] = "Bearer ";
    if (!h || strncmp(h, bearer, sizeof bearer - 1) != 0) return false;
    h += sizeof bearer - 1;
    size_t n = strlen(s->token);
    return strlen(h) == n && CRYPTO_memcmp(h, s->token, n) == 0;
}

static bool is_api(const char *url) {
    return !strcmp(url, "/metrics") || !strncmp(url, "/api/", 5) || !strcmp(url, "/api");
}

static enum MHD_Result route(admin_server *s, struct MHD_Connection *c, const char *url,
                             const char *method, request *r) {
    bool get = !strcmp(method, MHD_HTTP_METHOD_GET) || !strcmp(method, MHD_HTTP_METHOD_HEAD);
    bool post = !strcmp(method, MHD_HTTP_METHOD_POST);
    if (!is_api(url)) {
        if (!get) return (enum MHD_Result)admin_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
                                                            "%s is not allowed on %s", method, url);
        return (enum MHD_Result)admin_static_serve(c, url);
    }
    if (!token_ok(s, c)) {
        uint64_t now = admin_now_ms(), last = atomic_load(&s->auth_log_ms);
        if ((!last || now - last >= AUTH_LOG_MS) &&
            atomic_compare_exchange_strong(&s->auth_log_ms, &last, now)) {
            admin_log(s, AGORA_LOG_WARN, "refused a request without the right bearer token "
                      "(httpToken); further refusals are not logged for 10 s");
        }
        return (enum MHD_Result)admin_reply_error(
            c, MHD_HTTP_UNAUTHORIZED, "missing or wrong bearer token (Authorization: Bearer <httpToken>)");
    }
    static const struct {
        const char *url;
        bool post;
    } routes[] = {{"/metrics", false},     {"/api/status", false},       {"/api/members", false},
                  {"/api/config", false},  {"/api/config/schema", false}, {"/api/events", false},
                  {"/api/config/check", true}};
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(url, routes[i].url) != 0) continue;
        if (routes[i].post ? !post : !get)
            return (enum MHD_Result)admin_reply_error(c, MHD_HTTP_METHOD_NOT_ALLOWED,
                                                      "%s takes %s only", url,
                                                      routes[i].post ? "POST" : "GET");
        switch (i) {
        case 0: return (enum MHD_Result)admin_route_metrics(s, c);
        case 1: return (enum MHD_Result)admin_route_status(s, c);
        case 2: return (enum MHD_Result)admin_route_members(s, c);
        case 3: return (enum MHD_Result)admin_route_config(s, c);
        case 4: return (enum MHD_Result)admin_route_schema(s, c);
        case 5: return (enum MHD_Result)admin_sse_serve(s, c);
        default:
            if (r->too_large)
                return (enum MHD_Result)admin_reply_error(c, MHD_HTTP_CONTENT_TOO_LARGE,
                                                          "the body is larger than 1 MiB");
            return (enum MHD_Result)admin_route_check(s, c, r->body ? r->body : "", r->len);
        }
    }
    return (enum MHD_Result)admin_reply_error(c, MHD_HTTP_NOT_FOUND, "no such route: %s", url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **req_cls) {
    (void)version;
    admin_server *s = cls;
    request *r = *req_cls;
    if (!r) { /* first call: headers only */
        r = calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        *req_cls = r;
        return MHD_YES;
    }
    if (*upload_data_size) { /* a piece of the body */
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->too_large || r->len + n > MAX_BODY) {
            r->too_large = true;
            free(r->body);
            r->body = NULL;
            r->len = 0;
            return MHD_YES;
        }
        char *b = realloc(r->body, r->len + n + 1);
        if (!b) return MHD_NO;
        memcpy(b + r->len, upload_data, n);
        r->len += n;
        b[r->len] = 0;
        r->body = b;
        return MHD_YES;
    }
    return route(s, c, url, method, r);
}

/* ---- start / stop -------------------------------------------------------- */

static bool is_loopback(const struct sockaddr *sa) {
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6)
        return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
    return false;
}

int admin_start(agora_t *node, const agora_config *cfg, const char *listen, const char *token,
                agora_log_cb log, void *log_user, admin_server **out, char *err, size_t errlen) {
    char host[256], perr[160];
    uint16_t port;
    *out = NULL;
    if (!node || !listen) {
        snprintf(err, errlen, "--http: the node and a HOST:PORT are required");
        return AGORA_EINVAL;
    }
    if (agora_parse_address(listen, true, host, sizeof host, &port, perr, sizeof perr) != AGORA_OK) {
        snprintf(err, errlen, "--http: %s", perr);
        return AGORA_EINVAL;
    }
    /* brackets off an IPv6 literal for getaddrinfo */
    char *h = host;
    size_t hl = strlen(h);
    if (h[0] == '[' && hl > 1 && h[hl - 1] == ']') {
        h[hl - 1] = 0;
        h++;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(h, NULL, &hints, &ai);
    if (gai != 0 || !ai) {
        snprintf(err, errlen, "--http: cannot resolve the host of %s: %s", listen, gai_strerror(gai));
        return AGORA_EINVAL;
    }
    struct sockaddr_storage ss;
    memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    if (ss.ss_family == AF_INET) ((struct sockaddr_in *)&ss)->sin_port = htons(port);
    else ((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);

    admin_server *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return AGORA_ENOMEM;
    }
    s->node = node;
    s->log = log;
    s->log_user = log_user;
    s->start_ms = admin_now_ms();
    s->cfg = cfg ? agora_config_clone(cfg) : NULL;
    s->token = token && *token ? strdup(token) : NULL;
    s->sse = admin_sse_new();
    if ((cfg && !s->cfg) || (token && *token && !s->token) || !s->sse) {
        snprintf(err, errlen, "out of memory");
        admin_stop(s);
        return AGORA_ENOMEM;
    }
    /* no MHD_USE_ERROR_LOG: its lines about malformed requests are for anyone to trigger */
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
    if (ss.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
    s->daemon = MHD_start_daemon(flags, port, NULL, NULL, on_request, s,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)MAX_CONNECTIONS,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S,
                                 MHD_OPTION_NOTIFY_COMPLETED, request_done, s,
                                 MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(err, errlen, "--http: cannot listen on %s (address in use, or not this host's?)",
                 listen);
        admin_stop(s);
        return AGORA_EIO;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    unsigned bound = di ? di->port : port;
    char shown[256];
    inet_ntop(ss.ss_family,
              ss.ss_family == AF_INET ? (void *)&((struct sockaddr_in *)&ss)->sin_addr
                                      : (void *)&((struct sockaddr_in6 *)&ss)->sin6_addr,
              shown, sizeof shown);
    snprintf(s->address, sizeof s->address, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", shown,
             bound);
    if (!s->token && !is_loopback((struct sockaddr *)&ss))
        admin_log(s, AGORA_LOG_WARN, "the admin endpoint on %s is reachable beyond this host and "
                  "has no token: anyone who reaches it can read the cluster's state (set "
                  "\"httpToken\" in the node file)", s->address);
    *out = s;
    return AGORA_OK;
}

const char *admin_address(const admin_server *s) { return s ? s->address : ""; }

void admin_event(admin_server *s, const agora_event *ev) {
    if (s && ev) admin_sse_publish(s->sse, ev);
}

void admin_stop(admin_server *s) {
    if (!s) return;
    if (s->sse) admin_sse_stop(s->sse);
    if (s->daemon) MHD_stop_daemon(s->daemon);
    admin_sse_free(s->sse);
    agora_config_free(s->cfg);
    if (s->token) {
        OPENSSL_cleanse(s->token, strlen(s->token));
        free(s->token);
    }
    free(s);
}
