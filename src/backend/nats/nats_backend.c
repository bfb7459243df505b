/* nats_backend.c — the NATS backend: core NATS pub/sub on "stwt.agora" via libnats.
 *
 * Publishing: natsConnection_Publish only buffers, so it runs on the I/O thread. A
 * message counts as handed over once a flush round trip (PING/PONG, bounded by
 * timeoutRequest) that followed it succeeded: our flush thread does those round trips
 * for everything published meanwhile and posts msg_done back to the loop. A failed
 * round trip reports an error, so the core keeps the events and retries them.
 *
 * While disconnected, publish says AGORA_EAGAIN: unsent events wait in the core's
 * bounded outbox (not in libnats' reconnect buffer, whose content may reach the server
 * before other nodes have resubscribed). After an automatic (re)connection we wait a
 * short settle time — the longest reconnect backoff — so that the other nodes, which
 * lost the same server, are subscribed again before the outbox drains; then resume.
 *
 * A message published on a connection that was lost before its round trip succeeded
 * is reported failed too (libnats' reconnection count changed in between).
 *
 * Receiving: libnats calls on_msg on its own thread. With codec "stalwart" it hands
 * the payload over with host->deliver_from_thread; with codec "agora" it posts it to
 * the loop, where nats_repair.c fills holes before the core sees the messages.
 * Connection-state callbacks only post to the loop. */
#include "backend/nats/nats_internal.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SETTLE_MS (AG_NATS_RECONNECT_MAX_MS + 400) /* the longest backoff and a margin */
#define CLOSE_WAIT_MS 5000

/* ---- posts from libnats threads ----------------------------------------- */

enum { EV_STATE = 1, EV_ACKS, EV_LOG, EV_MSG, EV_DIRECT };

typedef struct nats_post {
    nats_be *b;
    int kind;
    /* EV_ACKS */
    pend_item *msgs;
    size_t n;
    /* EV_LOG */
    agora_log_level level;
    char text[256];
    /* EV_MSG: the payload */
    size_t len;
    uint8_t data[];
} nats_post;

static void on_post(ag_loop *l, void *arg);

static void free_items(pend_item *it) {
    while (it) {
        pend_item *n = it->next;
        free(it);
        it = n;
    }
}

static void post(nats_be *b, nats_post *p) {
    p->b = b;
    atomic_fetch_add(&b->posts, 1);
    if (ag_loop_post(b->host->loop, on_post, p) != 0) {
        atomic_fetch_sub(&b->posts, 1);
        free_items(p->msgs);
        free(p);
    }
}

static void post_state(nats_be *b) {
    nats_post *p = calloc(1, sizeof *p);
    if (!p) return;
    p->kind = EV_STATE;
    post(b, p);
}

static void post_log(nats_be *b, agora_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void post_log(nats_be *b, agora_log_level level, const char *fmt, ...) {
    nats_post *p = calloc(1, sizeof *p);
    if (!p) return;
    p->kind = EV_LOG;
    p->level = level;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->text, sizeof p->text, fmt, ap);
    va_end(ap);
    post(b, p);
}

/* ---- libnats callbacks (libnats threads) --------------------------------- */

static nats_post *post_with_data(int kind, natsMsg *msg) {
    int len = natsMsg_GetDataLength(msg);
    if (len < 0) len = 0;
    nats_post *p = calloc(1, sizeof *p + (size_t)len);
    if (!p) return NULL;
    p->kind = kind;
    p->len = (size_t)len;
    if (len) memcpy(p->data, natsMsg_GetData(msg), (size_t)len);
    return p;
}

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
    (void)nc;
    (void)sub;
    nats_be *b = closure;
    int len = natsMsg_GetDataLength(msg);
    if (len > 0) {
        if (b->repair) {
            /* In order through the loop, where holes are repaired. */
            nats_post *p = post_with_data(EV_MSG, msg);
            if (p) post(b, p);
        } else {
            b->host->deliver_from_thread(b->host, (const uint8_t *)natsMsg_GetData(msg), (size_t)len);
        }
    }
    natsMsg_Destroy(msg);
}

/* Resent messages (and "gone" notices) addressed to us: in order through the loop. */
static void on_direct(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
    (void)nc;
    (void)sub;
    nats_be *b = closure;
    if (natsMsg_GetDataLength(msg) > 0) {
        nats_post *p = post_with_data(EV_DIRECT, msg);
        if (p) post(b, p);
    }
    natsMsg_Destroy(msg);
}

static void on_resend_request(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
                              void *closure) {
    (void)nc;
    (void)sub;
    nats_be *b = closure;
    int len = natsMsg_GetDataLength(msg);
    if (len > 0)
        ag_nats_resend(b, natsMsg_GetReply(msg), (const uint8_t *)natsMsg_GetData(msg), (size_t)len);
    natsMsg_Destroy(msg);
}

static void on_sub_complete(void *closure) {
    nats_be *b = closure;
    pthread_mutex_lock(&b->mu);
    b->subs_done++;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

static void on_connected(natsConnection *nc, void *closure) {
    (void)nc;
    post_state(closure);
}

static void on_reconnected(natsConnection *nc, void *closure) {
    (void)nc;
    nats_be *b = closure;
    atomic_fetch_add(&b->reconnected, 1);
    post_state(b);
}

static void on_disconnected(natsConnection *nc, void *closure) {
    (void)nc;
    post_state(closure);
}

static void on_closed(natsConnection *nc, void *closure) {
    nats_be *b = closure;
    const char *why = NULL;
    natsConnection_GetLastError(nc, &why);
    pthread_mutex_lock(&b->mu);
    bool closing = b->stop;
    pthread_mutex_unlock(&b->mu);
    if (!closing) {
        post_log(b, AGORA_LOG_ERROR,
                 "nats %s: connection closed for good (maxReconnects exhausted)%s%s", b->servers,
                 why && *why ? ": " : "", why && *why ? why : "");
        post_state(b);
    }
    /* Last: once closed_cb is seen, close may free b. */
    pthread_mutex_lock(&b->mu);
    b->closed_cb = true;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
}

static void on_error(natsConnection *nc, natsSubscription *sub, natsStatus err, void *closure) {
    (void)nc;
    (void)sub;
    nats_be *b = closure;
    if (err == NATS_SLOW_CONSUMER)
        post_log(b, AGORA_LOG_WARN,
                 "nats: slow consumer, incoming messages dropped (more than capacitySubscription=%llu "
                 "waiting)", (unsigned long long)b->cfg->capacity_subscription);
    else
        post_log(b, AGORA_LOG_WARN, "nats: asynchronous error: %s", natsStatus_GetText(err));
}

/* ---- the flush thread ----------------------------------------------------- */

/* libnats' count of reconnections, updated by its reconnect thread before the new
 * connection is used (our callbacks only hear of it later). */
static uint64_t epoch_of(nats_be *b, natsStatistics *st) {
    uint64_t r = 0;
    if (st && natsConnection_GetStats(b->nc, st) == NATS_OK)
        natsStatistics_GetCounts(st, NULL, NULL, NULL, NULL, &r);
    return r;
}

static void *flush_main(void *arg) {
    nats_be *b = arg;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (!b->stop && b->npend == 0) pthread_cond_wait(&b->cv, &b->mu);
        if (b->stop) break;
        nats_post *p = calloc(1, sizeof *p);
        if (!p) {
            /* Try again shortly rather than lose track of the messages. */
            pthread_mutex_unlock(&b->mu);
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
            pthread_mutex_lock(&b->mu);
            continue;
        }
        p->kind = EV_ACKS;
        p->msgs = b->pend_head;
        p->n = b->npend;
        b->pend_head = b->pend_tail = NULL;
        b->npend = 0;
        pthread_mutex_unlock(&b->mu);
        int64_t to = b->cfg->timeout_request_ms > INT64_MAX ? INT64_MAX : (int64_t)b->cfg->timeout_request_ms;
        natsStatus s = natsConnection_FlushTimeout(b->nc, to);
        int status = s == NATS_OK ? AGORA_OK : s == NATS_TIMEOUT ? AGORA_ETIMEDOUT : AGORA_EIO;
        /* A message published on a connection that was lost since may have been lost
         * with it, even though this round trip (on the new one) succeeded. */
        uint64_t now = status == AGORA_OK ? epoch_of(b, b->stats_flush) : 0;
        for (pend_item *it = p->msgs; it; it = it->next)
            it->status = status == AGORA_OK && it->epoch != now ? AGORA_EIO : status;
        post(b, p);
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

/* ---- loop thread ----------------------------------------------------------- */

static void try_resume(nats_be *b) {
    if (b->blocked && b->ready && !b->closing && b->unacked < b->cfg->capacity_client) {
        b->blocked = false;
        b->host->resume(b->host);
    }
}

static void settle_done(ag_loop *l, ag_timer *t, void *arg) {
    nats_be *b = arg;
    ag_timer_stop(l, t);
    b->settle = NULL;
    if (natsConnection_Status(b->nc) != NATS_CONN_STATUS_CONNECTED) return;
    b->ready = true;
    try_resume(b);
}

static void start_settle(nats_be *b) {
    b->ready = false;
    if (b->settle) ag_timer_stop(b->host->loop, b->settle);
    b->settle = ag_timer_start(b->host->loop, SETTLE_MS, 0, settle_done, b);
}

static void update_state(nats_be *b) {
    natsConnStatus st = natsConnection_Status(b->nc);
    bool up = st == NATS_CONN_STATUS_CONNECTED;
    uint64_t rec = atomic_load(&b->reconnected);
    bool bounced = rec != b->reconnected_seen; /* lost and regained since last look */
    b->reconnected_seen = rec;
    if (up) {
        char url[256] = "";
        if (natsConnection_GetConnectedUrl(b->nc, url, sizeof url) == NATS_OK)
            ag_nats_display_url(url, b->server, sizeof b->server);
    }
    if (up && (!b->connected || bounced)) {
        b->connected = true;
        b->host->set_connected(b->host, true, b->server);
        /* Let the other nodes resubscribe before our outbox drains. */
        start_settle(b);
    } else if (!up && b->connected) {
        b->connected = false;
        b->ready = false;
        if (b->settle) {
            ag_timer_stop(b->host->loop, b->settle);
            b->settle = NULL;
        }
        b->host->set_connected(b->host, false, b->server);
    }
}

static void on_post(ag_loop *l, void *arg) {
    (void)l;
    nats_post *p = arg;
    nats_be *b = p->b;
    if (!b->closing) {
        switch (p->kind) {
        case EV_STATE:
            update_state(b);
            break;
        case EV_LOG:
            b->host->log(b->host, p->level, "%s", p->text);
            break;
        case EV_ACKS:
            b->unacked -= p->n;
            for (pend_item *it = p->msgs; it; it = it->next) {
                if (it->status == AGORA_OK) ag_nats_keep(b, it->msg);
                b->host->msg_done(b->host, it->msg, it->status);
            }
            try_resume(b);
            break;
        case EV_MSG:
            ag_nats_repair_in(b, p->data, p->len);
            break;
        case EV_DIRECT:
            ag_nats_repair_direct(b, p->data, p->len);
            break;
        }
    }
    free_items(p->msgs);
    free(p);
    atomic_fetch_sub(&b->posts, 1);
}

/* ---- ops -------------------------------------------------------------------- */

static int nats_publish(ag_backend *be, ag_msg *msg) {
    nats_be *b = (nats_be *)be;
    /* While settling, control messages (heartbeats, leave) may already go: a node
     * that misses one loses nothing, and the others do not think us dead. */
    bool go = b->ready || (b->connected && !msg->sequenced);
    if (b->closing || !go || b->unacked >= b->cfg->capacity_client) {
        b->blocked = true;
        return AGORA_EAGAIN;
    }
    if (msg->len > (size_t)INT_MAX) return AGORA_EINVAL;
    pend_item *it = malloc(sizeof *it);
    if (!it) return AGORA_ENOMEM;
    it->msg = msg;
    it->next = NULL;
    it->status = AGORA_EIO;
    it->epoch = epoch_of(b, b->stats_pub);
    natsStatus s = natsConnection_Publish(b->nc, AGORA_TOPIC, msg->data, (int)msg->len);
    if (s == NATS_MAX_PAYLOAD) {
        free(it);
        b->host->log(b->host, AGORA_LOG_ERROR, "nats: a message of %zu bytes exceeds the server's "
                     "max_payload (%lld)", msg->len, (long long)natsConnection_GetMaxPayload(b->nc));
        return AGORA_EINVAL;
    }
    if (s != NATS_OK) {
        free(it);
        /* Lost the connection just now (or the buffer is full): the state callback
         * follows and resumes us once connected again. */
        b->ready = false;
        b->blocked = true;
        post_state(b);
        if (!b->settle)
            b->settle = ag_timer_start(b->host->loop, AG_NATS_RECONNECT_MAX_MS, 0, settle_done, b);
        return AGORA_EAGAIN;
    }
    pthread_mutex_lock(&b->mu);
    if (b->pend_tail) b->pend_tail->next = it;
    else b->pend_head = it;
    b->pend_tail = it;
    b->npend++;
    pthread_cond_signal(&b->cv);
    pthread_mutex_unlock(&b->mu);
    b->unacked++;
    return AGORA_OK;
}

static void nats_status(ag_backend *be, agora_status *st) {
    nats_be *b = (nats_be *)be;
    st->connected = b->connected;
    const char *srv = b->connected || b->server[0] ? b->server : b->servers;
    size_t n = strnlen(srv, sizeof st->server - 1);
    memcpy(st->server, srv, n);
    st->server[n] = 0;
    st->reconnects = atomic_load(&b->reconnected);
    st->peers = b->connected ? 1 : 0;
}

static void free_be(nats_be *b) {
    if (b->sub) natsSubscription_Destroy(b->sub);
    if (b->sub_direct) natsSubscription_Destroy(b->sub_direct);
    if (b->sub_resend) natsSubscription_Destroy(b->sub_resend);
    ag_nats_repair_free(b);
    if (b->stats_pub) natsStatistics_Destroy(b->stats_pub);
    if (b->stats_flush) natsStatistics_Destroy(b->stats_flush);
    if (b->nc) natsConnection_Destroy(b->nc);
    if (b->opts) natsOptions_Destroy(b->opts);
    pthread_mutex_destroy(&b->mu);
    pthread_mutex_destroy(&b->kept_mu);
    pthread_cond_destroy(&b->cv);
    free_items(b->pend_head);
    free(b);
}

/* Wait (bounded) until libnats has called its last callback for us. */
static void wait_quiet(nats_be *b) {
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += CLOSE_WAIT_MS / 1000;
    pthread_mutex_lock(&b->mu);
    int subs = (b->sub != NULL) + (b->sub_direct != NULL) + (b->sub_resend != NULL);
    while (!(b->closed_cb && b->subs_done >= subs))
        if (pthread_cond_timedwait(&b->cv, &b->mu, &dl) != 0) break;
    pthread_mutex_unlock(&b->mu);
}

/* Stop libnats and our flush thread, then run what our callbacks posted (with
 * `closing` set they only free themselves), and free everything. */
static void shutdown_be(nats_be *b) {
    b->closing = true;
    if (b->settle) {
        ag_timer_stop(b->host->loop, b->settle);
        b->settle = NULL;
    }
    pthread_mutex_lock(&b->mu);
    b->stop = true;
    pthread_cond_broadcast(&b->cv);
    pthread_mutex_unlock(&b->mu);
    /* Closing makes a flush in progress return at once. */
    natsConnection_Close(b->nc);
    if (b->flusher_started) pthread_join(b->flusher, NULL);
    wait_quiet(b);
    /* Run what our callbacks posted (they only free themselves now). */
    for (int i = 0; i < 1000 && atomic_load(&b->posts) > 0; i++) ag_loop_run_once(b->host->loop, 10);
    free_be(b);
}

static void nats_close(ag_backend *be) { shutdown_be((nats_be *)be); }

static bool is_auth_error(natsStatus s, const char *text) {
    if (s == NATS_NOT_PERMITTED) return true;
    return text && (strcasestr(text, "authorization") || strcasestr(text, "authentication"));
}

/* libnats' error text without its "(conn.c:733): " origin, and its capitalised
 * "Authorization Violation" written the way the server logs it. */
static void clean_error(char *s) {
    if (s[0] == '(') {
        char *e = strstr(s, "): ");
        if (e) memmove(s, e + 3, strlen(e + 3) + 1);
    }
    if (!strncasecmp(s, "authorization violation", 23))
        memcpy(s, "authorization violation", 23);
}

static natsStatus subscribe(nats_be *b, natsSubscription **sub, const char *subject,
                            natsMsgHandler cb) {
    natsStatus s = natsConnection_Subscribe(sub, b->nc, subject, cb, b);
    if (s != NATS_OK) return s;
    natsSubscription_SetOnCompleteCB(*sub, on_sub_complete, b);
    uint64_t msgs = b->cfg->capacity_subscription, bytes = msgs * 1024u;
    natsSubscription_SetPendingLimits(*sub, msgs > INT_MAX ? INT_MAX : (int)msgs,
                                      bytes > INT_MAX ? INT_MAX : (int)bytes);
    return NATS_OK;
}

static int nats_open(ag_host *host, ag_backend **out, char *err, size_t errlen) {
    const ag_nats_config *cfg = (const ag_nats_config *)host->cfg->backend;
    nats_be *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return AGORA_ENOMEM;
    }
    b->host = host;
    b->cfg = cfg;
    pthread_mutex_init(&b->mu, NULL);
    pthread_mutex_init(&b->kept_mu, NULL);
    if (natsStatistics_Create(&b->stats_pub) != NATS_OK) b->stats_pub = NULL;
    if (natsStatistics_Create(&b->stats_flush) != NATS_OK) b->stats_flush = NULL;
    pthread_cond_init(&b->cv, NULL);
    atomic_init(&b->posts, 0);
    atomic_init(&b->reconnected, 0);
    ag_nats_servers_text(cfg, b->servers, sizeof b->servers);
    int rc = ag_nats_options(cfg, host->node_id, &b->opts, err, errlen);
    if (rc != AGORA_OK) {
        free_be(b);
        return rc;
    }
    natsOptions_SetReconnectedCB(b->opts, on_reconnected, b);
    natsOptions_SetDisconnectedCB(b->opts, on_disconnected, b);
    natsOptions_SetClosedCB(b->opts, on_closed, b);
    natsOptions_SetErrorHandler(b->opts, on_error, b);

    /* First a plain attempt: it tells a refusal retrying will not fix (credentials,
     * TLS) from a server that is merely down, which is then retried in the
     * background (libnats' retry-on-failed-connect). */
    natsOptions_SetRetryOnFailedConnect(b->opts, false, NULL, NULL);
    natsStatus s = natsConnection_Connect(&b->nc, b->opts);
    if (s != NATS_OK) {
        natsStatus gs = NATS_OK;
        const char *why = nats_GetLastError(&gs);
        char text[512];
        snprintf(text, sizeof text, "%s", why && *why ? why : natsStatus_GetText(s));
        clean_error(text);
        ag_nats_tls_hint(cfg, text, sizeof text);
        b->nc = NULL;
        int fatal = 0;
        if (is_auth_error(s, text) || is_auth_error(gs, text)) fatal = AGORA_EAUTH;
        else if (s != NATS_NO_SERVER || gs == NATS_SSL_ERROR || gs == NATS_SECURE_CONNECTION_WANTED ||
                 gs == NATS_SECURE_CONNECTION_REQUIRED || strcasestr(text, "ssl") || strcasestr(text, "tls"))
            fatal = AGORA_EIO;
        if (fatal) {
            snprintf(err, errlen, "nats %s: %s", b->servers, text);
            free_be(b);
            return fatal;
        }
        natsOptions_SetRetryOnFailedConnect(b->opts, true, on_connected, b);
        s = natsConnection_Connect(&b->nc, b->opts);
        if (s != NATS_OK && s != NATS_NOT_YET_CONNECTED) {
            snprintf(err, errlen, "nats %s: %s", b->servers, natsStatus_GetText(s));
            b->nc = NULL;
            free_be(b);
            return AGORA_EIO;
        }
        host->log(host, AGORA_LOG_WARN, "nats %s: not reachable yet (%s); retrying in the background",
                  b->servers, text);
    }
    /* an observer asks nobody for resends: the repair subjects are per node id */
    b->repair = host->cfg->codec == AG_CODEC_AGORA && !host->observer;
    s = subscribe(b, &b->sub, AGORA_TOPIC, on_msg);
    if (s == NATS_OK && b->repair) {
        char subj[64];
        snprintf(subj, sizeof subj, AG_NATS_DIRECT_FMT, host->node_id);
        s = subscribe(b, &b->sub_direct, subj, on_direct);
        snprintf(subj, sizeof subj, AG_NATS_RESEND_FMT, host->node_id);
        if (s == NATS_OK) s = subscribe(b, &b->sub_resend, subj, on_resend_request);
    }
    if (s == NATS_OK && pthread_create(&b->flusher, NULL, flush_main, b) != 0) s = NATS_SYS_ERROR;
    if (s != NATS_OK) {
        snprintf(err, errlen, "nats %s: cannot subscribe to %s: %s", b->servers, AGORA_TOPIC,
                 natsStatus_GetText(s));
        shutdown_be(b);
        return AGORA_EIO;
    }
    b->flusher_started = true;
    if (natsConnection_Status(b->nc) == NATS_CONN_STATUS_CONNECTED &&
        natsConnection_FlushTimeout(b->nc, (int64_t)cfg->timeout_connection_ms) == NATS_OK) {
        /* Connected synchronously and the server has our subscription: usable at
         * once. (Otherwise the state callbacks and the settle time take over.) */
        char url[256] = "";
        if (natsConnection_GetConnectedUrl(b->nc, url, sizeof url) == NATS_OK)
            ag_nats_display_url(url, b->server, sizeof b->server);
        b->connected = b->ready = true;
        host->set_connected(host, true, b->server);
    } else {
        post_state(b);
    }
    *out = (ag_backend *)b;
    return AGORA_OK;
}

const ag_backend_ops ag_backend_nats = {
    .name = "Nats",
    /* nats-server's default max_payload is 1 MiB; stay below it with room for the
     * protocol line. */
    .max_payload = 1000 * 1000,
    .open = nats_open,
    .publish = nats_publish,
    .status = nats_status,
    .close = nats_close,
};
