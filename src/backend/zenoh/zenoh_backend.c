/* zenoh_backend.c — the Zenoh backend: payloads on the key expression "stwt.agora"
 * through the Rust shim (shim/agz.h), as Stalwart's Zenoh coordinator does.
 *
 * Receiving: Zenoh calls on_payload on its own threads; it only copies the payload to
 * the loop (host->deliver_from_thread). Our publisher never sends to this session's
 * own subscription (AGZ_PUB_REMOTE), so there are no echoes to carry.
 *
 * Publishing: agz_put runs on the loop thread, copies the payload and queues it in
 * Zenoh (congestion control Block: a full transmit queue slows us down rather than
 * dropping events). Zenoh is at most once, so a message counts as handed over once
 * put; a message lost later (a link that breaks, a router that restarts) is found by
 * the core's heartbeats and reported as a Gap. msg_done follows at the end of the
 * loop iteration (never from inside publish).
 *
 * Connection: "connected" means a transport to at least one router or peer, polled
 * with a loop timer (agz_connected). Zenoh re-establishes links by itself. A put made
 * before the other side's subscription reached us goes nowhere, so after each
 * (re)connection events wait in the core's outbox until Zenoh knows of a remote
 * subscriber, or SETTLE_MAX_MS passed (nobody may be listening at all). */
#include "backend/registry.h"
#include "backend/zenoh/zenoh_config.h"
#include "core/backend.h"

#include "agz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLL_MS 100        /* how often the connection state is looked at */
#define SETTLE_MAX_MS 1000 /* longest wait for a remote subscriber after connecting */

typedef struct zenoh_be {
    ag_host *host;
    agz_session *session;
    agz_publisher *pub;
    ag_timer *poll;

    bool connected;         /* as last reported to the host */
    bool ever_connected;
    bool ready;             /* connected, and settled: sequenced events may go */
    bool blocked;           /* publish said EAGAIN: resume once ready */
    bool poll_failed;       /* agz_connected failed last time (logged once) */
    uint64_t connected_ms;  /* when the current connection began */
    uint64_t reconnects;
    size_t routers, peers;
    char server[64];

    /* Accepted messages, finished at the end of the loop iteration. */
    ag_msg **done;
    size_t ndone, capdone;
    ag_defer finish;
} zenoh_be;

/* Zenoh's thread: hand the payload to the loop (copied). */
static void on_payload(void *user, const uint8_t *data, size_t len) {
    zenoh_be *b = user;
    if (len) b->host->deliver_from_thread(b->host, data, len);
}

/* Zenoh's messages end with where in its source they were made (" at /root/.cargo/
 * ...src/tcp.rs:61."): of no use to an operator, so cut out. */
static void strip_source_locations(char *s) {
    char *at;
    while ((at = strstr(s, " at /"))) {
        char *rs = strstr(at, ".rs:");
        if (!rs || memchr(at + 4, ' ', (size_t)(rs - at - 4))) break;
        char *end = rs + 4;
        while (*end >= '0' && *end <= '9') end++;
        if (*end == '.') end++;
        memmove(at, end, strlen(end) + 1);
    }
    size_t n = strlen(s);
    while (n && s[n - 1] == ' ') s[--n] = 0;
}

static void finish_done(ag_loop *l, void *arg) {
    (void)l;
    zenoh_be *b = arg;
    /* msg_done may publish again, which appends (and may move the array): index it
     * afresh each time, and finish those too. */
    for (size_t i = 0; i < b->ndone; i++) b->host->msg_done(b->host, b->done[i], AGORA_OK);
    b->ndone = 0;
}

static void try_resume(zenoh_be *b) {
    if (b->blocked && b->ready) {
        b->blocked = false;
        b->host->resume(b->host);
    }
}

static void describe(zenoh_be *b) {
    if (b->routers)
        snprintf(b->server, sizeof b->server, "%zu router%s, %zu peer%s", b->routers,
                 b->routers == 1 ? "" : "s", b->peers, b->peers == 1 ? "" : "s");
    else
        snprintf(b->server, sizeof b->server, "%zu peer%s", b->peers, b->peers == 1 ? "" : "s");
}

/* Look at the session's links; report changes, and open the gate once settled. */
static void poll_state(ag_loop *l, ag_timer *t, void *arg) {
    (void)l;
    (void)t;
    zenoh_be *b = arg;
    size_t routers = 0, peers = 0;
    char err[256];
    if (agz_connected(b->session, &routers, &peers, err, sizeof err) != 0) {
        if (!b->poll_failed) b->host->log(b->host, AGORA_LOG_WARN, "zenoh: %s", err);
        b->poll_failed = true; /* once, not every POLL_MS */
        return;
    }
    b->poll_failed = false;
    bool up = routers + peers > 0;
    bool changed = routers != b->routers || peers != b->peers;
    b->routers = routers;
    b->peers = peers;
    if (changed && up) describe(b);
    if (up && !b->connected) {
        b->connected = true;
        b->connected_ms = ag_now_ms();
        if (b->ever_connected) b->reconnects++;
        b->ever_connected = true;
        b->host->set_connected(b->host, true, b->server);
    } else if (!up && b->connected) {
        b->connected = false;
        b->ready = false;
        b->host->set_connected(b->host, false, b->server);
    } else if (changed && up) {
        b->host->log(b->host, AGORA_LOG_DEBUG, "zenoh: linked to %s", b->server);
    }
    if (b->connected && !b->ready) {
        int matching = agz_publisher_matching(b->pub, NULL, 0);
        if (matching == 1 || ag_now_ms() - b->connected_ms >= SETTLE_MAX_MS) b->ready = true;
    }
    try_resume(b); /* also after a publish that could not take a message for want of memory */
}

static int zenoh_publish(ag_backend *be, ag_msg *msg) {
    zenoh_be *b = (zenoh_be *)be;
    /* Heartbeats and leave notices may go while settling: whoever hears them is
     * helped, and nothing is lost for whoever does not. */
    bool go = b->ready || (b->connected && !msg->sequenced);
    if (!go) {
        b->blocked = true;
        return AGORA_EAGAIN;
    }
    if (b->ndone == b->capdone) {
        size_t cap = b->capdone ? b->capdone * 2 : 16;
        ag_msg **d = realloc(b->done, cap * sizeof *d);
        if (!d) {
            b->blocked = true; /* the next poll resumes us; memory may be back by then */
            return AGORA_EAGAIN;
        }
        b->done = d;
        b->capdone = cap;
    }
    char err[256];
    if (agz_put(b->pub, msg->data, msg->len, err, sizeof err) != 0) {
        /* The session refuses for now: keep the events, look again at the next poll. */
        b->host->log(b->host, AGORA_LOG_WARN, "zenoh: %s", err);
        b->ready = false;
        b->connected_ms = ag_now_ms();
        b->blocked = true;
        return AGORA_EAGAIN;
    }
    b->done[b->ndone++] = msg;
    ag_loop_defer(b->host->loop, &b->finish);
    return AGORA_OK;
}

static void zenoh_status(ag_backend *be, agora_status *st) {
    zenoh_be *b = (zenoh_be *)be;
    st->connected = b->connected;
    snprintf(st->server, sizeof st->server, "%s", b->connected ? b->server : "");
    st->reconnects = b->reconnects;
    st->peers = (uint32_t)(b->routers + b->peers);
}

static void free_be(zenoh_be *b) {
    if (b->poll) ag_timer_stop(b->host->loop, b->poll);
    ag_loop_defer_cancel(b->host->loop, &b->finish);
    /* The session first: after agz_close no payload callback runs any more. */
    agz_close(b->session);
    agz_publisher_free(b->pub);
    /* Payloads Zenoh's threads handed over are posted to the loop: run them now. */
    ag_loop_run_once(b->host->loop, 0);
    free(b->done);
    free(b);
}

static void zenoh_close(ag_backend *be) { free_be((zenoh_be *)be); }

static int zenoh_open(ag_host *host, ag_backend **out, char *err, size_t errlen) {
    const ag_zenoh_config *cfg = (const ag_zenoh_config *)host->cfg->backend;
    zenoh_be *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return AGORA_ENOMEM;
    }
    b->host = host;
    b->finish.cb = finish_done;
    b->finish.arg = b;
    char why[512];
    /* Zenoh names what it tried; we name the field it came from. */
    b->session = agz_open(cfg->config, why, sizeof why);
    if (!b->session) {
        strip_source_locations(why);
        snprintf(err, errlen, "coordinator.config: %s", why);
        free(b);
        return strstr(why, "configuration") ? AGORA_ECONFIG : AGORA_EIO;
    }
    if (agz_subscribe(b->session, AGORA_TOPIC, on_payload, b, why, sizeof why) != 0 ||
        !(b->pub = agz_publisher_new(b->session, AGORA_TOPIC, AGZ_PUB_BLOCK | AGZ_PUB_REMOTE, why,
                                     sizeof why))) {
        strip_source_locations(why);
        snprintf(err, errlen, "zenoh: %s", why);
        free_be(b);
        return AGORA_EIO;
    }
    b->poll = ag_timer_start(host->loop, 0, POLL_MS, poll_state, b);
    if (!b->poll) {
        snprintf(err, errlen, "out of memory");
        free_be(b);
        return AGORA_ENOMEM;
    }
    *out = (ag_backend *)b;
    return AGORA_OK;
}

const ag_backend_ops ag_backend_zenoh = {
    .name = "Zenoh",
    /* Zenoh fragments large payloads itself; stay well within its default batch
     * limits so that one message never needs seconds on a slow link. */
    .max_payload = 1000 * 1000,
    .copies_payload = true,
    .open = zenoh_open,
    .publish = zenoh_publish,
    .status = zenoh_status,
    .close = zenoh_close,
};
