/* redis_backend.c — Redis pub/sub on "stwt.agora": Redis, RedisCluster, RedisSentinel.
 *
 * Two connections per node: a publisher (PUBLISH, a small window in flight) and a
 * subscriber (SUBSCRIBE; message payloads go to host->deliver). Each reconnects by
 * itself with capped exponential backoff.
 *   Redis          the one server of `url`.
 *   RedisCluster   classic pub/sub is broadcast to every node of a cluster, so any
 *                  reachable node of `urls` will do; a failing node makes the link move
 *                  on to the next URL.
 *   RedisSentinel  a third connection asks the sentinels of `urls` for the master of
 *                  `serviceName`, then listens for +switch-master; the data links
 *                  connect to that master (checking ROLE) and re-ask on any failure.
 *
 * Redis pub/sub keeps nothing for absent subscribers, so after a reconnection the
 * publisher holds back (the "gate") until as many subscribers are back on the channel
 * as it last counted (PUBLISH answers and PUBSUB NUMSUB), or a deadline passes: events
 * queued during a server restart are not published into a server that nobody listens
 * to yet. */
#include "backend/redis/redis_internal.h"
#include "util/backoff.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PUB_WINDOW 16     /* PUBLISH commands awaiting their reply */
#define POLL_MS 1000      /* NUMSUB poll: subscriber count + liveness of the publisher */
#define GATE_STEP_MS 50   /* re-check interval while the gate is closed */
#define HOLD_MS 1000      /* how long a PUBLISH that missed subscribers holds the gate */
#define DEFAULT_MIN_WAIT 100
#define DEFAULT_MAX_WAIT 5000

enum { NUMSUB_GATE = 1, NUMSUB_POLL = 2 };

struct ag_backend {
    ag_host *host;
    const ag_redis_config *rc;
    ag_redis_mode kind;
    ag_rurl *urls; /* data servers (Redis, RedisCluster) or sentinels */
    size_t nurls;
    const char *user, *pass; /* credentials for data servers (NULL: from the URL) */
    uint64_t min_wait, max_wait, timeout_ms;
    ag_rlink pub, sub, sen;

    /* sentinel */
    bool have_master, resolve_wanted;
    char master_host[256];
    int master_port;

    /* publisher */
    unsigned inflight;
    bool blocked; /* publish said EAGAIN: resume when we can take more */
    bool gate_open;
    bool pub_up;  /* passed the gate since connecting (for the status) */
    bool holding; /* the gate closed because a PUBLISH reached too few subscribers */
    uint64_t gate_deadline;
    ag_timer *gate_timer, *poll_timer;
    bool poll_pending;
    uint64_t poll_sent_ms;
    long long expected_subs;

    /* subscriber */
    bool subscribed;
    bool sub_leaving;    /* UNSUBSCRIBE sent: close once it is confirmed */
    ag_timer *sub_timer; /* deadline for the SUBSCRIBE / UNSUBSCRIBE confirmation */

    /* status */
    bool connected, ever_connected;
    uint64_t reconnects;
    bool closing;
};

static void start_link(ag_backend *b, ag_rlink *l);

static const char *kind_name(ag_redis_mode k) {
    return k == AG_REDIS_CLUSTER    ? "RedisCluster"
           : k == AG_REDIS_SENTINEL ? "RedisSentinel"
                                            : "Redis";
}

/* ---- status -------------------------------------------------------------- */

static void update_status(ag_backend *b) {
    bool c = b->pub.state == AG_RL_READY && b->pub_up && b->subscribed;
    if (c == b->connected) return;
    b->connected = c;
    if (c) {
        if (b->ever_connected) b->reconnects++;
        b->ever_connected = true;
    }
    b->host->set_connected(b->host, c, b->pub.addr[0] ? b->pub.addr : NULL);
}

static bool can_publish(ag_backend *b) {
    ag_rlink *l = &b->pub;
    return l->state == AG_RL_READY && l->ac && !l->dropping && b->gate_open &&
           b->inflight < PUB_WINDOW && !(l->ac->c.flags & (REDIS_DISCONNECTING | REDIS_FREEING));
}

static void maybe_resume(ag_backend *b) {
    if (b->blocked && can_publish(b)) {
        b->blocked = false;
        b->host->resume(b->host);
    }
}

/* ---- reconnecting -------------------------------------------------------- */

static void retry_cb(ag_loop *loop, ag_timer *t, void *arg) {
    ag_rlink *l = arg;
    ag_timer_stop(loop, t);
    l->retry = NULL;
    start_link(l->owner, l);
}

static void schedule(ag_backend *b, ag_rlink *l, uint64_t delay) {
    if (l->retry) ag_timer_stop(b->host->loop, l->retry);
    l->retry = ag_timer_start(b->host->loop, delay, 0, retry_cb, l);
}

/* Log a failure; repeats of the same reason go to debug so a long outage does not
 * flood the log (one line per ten attempts stays visible). */
static void log_failure(ag_backend *b, ag_rlink *l, uint64_t delay) {
    bool same = !strcmp(l->logged, l->why);
    agora_log_level lvl = l->auth_failed ? AGORA_LOG_ERROR : AGORA_LOG_WARN;
    if (same && l->attempts % 10 != 0) lvl = AGORA_LOG_DEBUG;
    if (l->was_ready)
        b->host->log(b->host, lvl, "redis %s: %s connection lost: %s; reconnecting in %llu ms",
                     l->addr, l->what, l->why, (unsigned long long)delay);
    else
        b->host->log(b->host, lvl, "redis %s: %s (%s; retrying in %llu ms)", l->addr, l->why,
                     l->what, (unsigned long long)delay);
    snprintf(l->logged, sizeof l->logged, "%s", l->why);
}

static void sentinel_kick(ag_backend *b);

/* The wait before l's next attempt: doubling per failure from the configured minimum,
 * with up to 20 % taken off so that nodes restarted together do not stampede. */
static uint64_t retry_delay(const ag_backend *b, const ag_rlink *l) {
    ag_backoff bo = {.min_ms = b->min_wait, .max_ms = b->max_wait, .jitter_pct = 20};
    return ag_backoff_delay(&bo, l->attempts ? l->attempts - 1 : 0);
}

static void data_down(ag_rlink *l) {
    ag_backend *b = l->owner;
    uint64_t delay = retry_delay(b, l);
    bool deliberate = l->deliberate;
    if (deliberate) {
        delay = 0;
        l->deliberate = false;
        b->host->log(b->host, AGORA_LOG_INFO, "redis %s: %s leaves: %s", l->addr, l->what, l->why);
    } else {
        log_failure(b, l, delay);
    }
    l->was_ready = false;
    if (l == &b->pub) {
        b->gate_open = false;
        b->pub_up = false;
        b->holding = false;
        b->poll_pending = false;
        if (b->gate_timer) ag_timer_stop(b->host->loop, b->gate_timer);
        if (b->poll_timer) ag_timer_stop(b->host->loop, b->poll_timer);
        b->gate_timer = b->poll_timer = NULL;
    } else {
        b->subscribed = false;
        b->sub_leaving = false;
        if (b->sub_timer) ag_timer_stop(b->host->loop, b->sub_timer);
        b->sub_timer = NULL;
    }
    update_status(b);
    if (b->kind == AG_REDIS_CLUSTER) l->idx = (l->idx + 1) % b->nurls;
    if (b->kind == AG_REDIS_SENTINEL && !deliberate) {
        b->have_master = false;
        sentinel_kick(b);
    }
    schedule(b, l, delay);
}

/* ---- publisher ----------------------------------------------------------- */

static void send_numsub(ag_backend *b, int why);

static void gate_timer_cb(ag_loop *loop, ag_timer *t, void *arg) {
    ag_backend *b = arg;
    ag_timer_stop(loop, t);
    b->gate_timer = NULL;
    send_numsub(b, NUMSUB_GATE);
}

/* Fewer subscribers than expected (n, from a PUBLISH answer or the NUMSUB poll): one
 * of them is moving (a failover, a reconnect) or gone. Close the gate for up to
 * HOLD_MS while NUMSUB watches for it; then the count is lowered to what is there. */
static void start_hold(ag_backend *b, long long n, bool from_publish) {
    if (b->holding || !b->gate_open || b->host->observer) return;
    if (from_publish)
        b->host->log(b->host, AGORA_LOG_INFO,
                     "redis %s: a message reached %lld of %lld subscribers; waiting up to %d ms "
                     "for them, then sending it again",
                     b->pub.addr, n, b->expected_subs, HOLD_MS);
    else
        b->host->log(b->host, AGORA_LOG_INFO,
                     "redis %s: %lld of %lld subscribers on %s; waiting up to %d ms for them",
                     b->pub.addr, n, b->expected_subs, AGORA_TOPIC, HOLD_MS);
    b->holding = true;
    b->gate_open = false;
    b->gate_deadline = ag_now_ms() + HOLD_MS;
    if (!b->gate_timer) b->gate_timer = ag_timer_start(b->host->loop, 0, 0, gate_timer_cb, b);
}

static void numsub_reply(redisAsyncContext *ac, void *rv, void *priv) {
    ag_rlink *l = ag_rlink_of(ac);
    ag_backend *b = l->owner;
    redisReply *r = rv;
    if (b->closing || l->dropping || !r) return;
    b->poll_pending = false;
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(l->why, sizeof l->why, "PUBSUB NUMSUB failed: %s", r->str);
        ag_rlink_drop(l, NULL);
        return;
    }
    long long n = 0;
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 2 &&
        r->element[1]->type == REDIS_REPLY_INTEGER)
        n = r->element[1]->integer;
    if ((intptr_t)priv == NUMSUB_POLL) {
        if (!b->gate_open) return;
        /* More: learn it. Fewer: a subscriber may be moving; lowering the count at once
         * would let PUBLISHes that miss it count as delivered (and shorten the wait
         * after an outage), so hold as for a PUBLISH that reached too few. */
        if (n > b->expected_subs)
            b->expected_subs = n;
        else if (n < b->expected_subs)
            start_hold(b, n, false);
        return;
    }
    if (b->gate_open) return;
    uint64_t now = ag_now_ms();
    if (n < b->expected_subs && now < b->gate_deadline) {
        b->gate_timer = ag_timer_start(b->host->loop, GATE_STEP_MS, 0, gate_timer_cb, b);
        return;
    }
    if (n < b->expected_subs)
        b->host->log(b->host, b->holding ? AGORA_LOG_INFO : AGORA_LOG_WARN,
                     "redis %s: %lld of %lld subscribers %s on %s; publishing on", l->addr, n,
                     b->expected_subs, b->holding ? "remain" : "are back", AGORA_TOPIC);
    b->gate_open = true;
    b->pub_up = true;
    b->holding = false;
    b->expected_subs = n;
    l->attempts = 0;
    l->logged[0] = 0;
    update_status(b);
    maybe_resume(b);
}

static void send_numsub(ag_backend *b, int why) {
    ag_rlink *l = &b->pub;
    if (l->state != AG_RL_READY || !l->ac || l->dropping) return;
    if (redisAsyncCommand(l->ac, numsub_reply, (void *)(intptr_t)why, "PUBSUB NUMSUB %s",
                          AGORA_TOPIC) != REDIS_OK)
        return;
    if (why == NUMSUB_POLL || !b->poll_pending) b->poll_sent_ms = ag_now_ms();
    b->poll_pending = true;
}

static void poll_timer_cb(ag_loop *loop, ag_timer *t, void *arg) {
    ag_backend *b = arg;
    (void)loop;
    (void)t;
    if (b->poll_pending) {
        if (ag_now_ms() - b->poll_sent_ms > b->timeout_ms) {
            /* A hung server: the subscriber cannot tell (it only listens), so it
             * leaves too when it uses the same server. */
            if (b->sub.state != AG_RL_IDLE && !strcmp(b->sub.addr, b->pub.addr))
                ag_rlink_drop(&b->sub, "the server stopped answering");
            ag_rlink_drop(&b->pub, "the server stopped answering");
        }
        return;
    }
    send_numsub(b, NUMSUB_POLL);
}

static void pub_ready(ag_rlink *l) {
    ag_backend *b = l->owner;
    b->host->log(b->host, AGORA_LOG_INFO, "redis %s: publisher connected", l->addr);
    b->inflight = 0;
    b->poll_timer = ag_timer_start(b->host->loop, POLL_MS, POLL_MS, poll_timer_cb, b);
    if (b->kind == AG_REDIS_CLUSTER || b->host->observer) {
        /* NUMSUB only counts the node's own clients in a cluster: no gate there; an
         * observer publishes nothing, so it has nothing to hold back */
        b->gate_open = true;
        b->pub_up = true;
        update_status(b);
        maybe_resume(b);
        return;
    }
    b->gate_open = false;
    uint64_t wait = 2 * b->max_wait + 1000;
    if (wait > 30000) wait = 30000;
    b->gate_deadline = ag_now_ms() + wait;
    send_numsub(b, NUMSUB_GATE);
}

static void pub_reply(redisAsyncContext *ac, void *rv, void *priv) {
    ag_rlink *l = ag_rlink_of(ac);
    ag_backend *b = l->owner;
    redisReply *r = rv;
    ag_msg *msg = priv;
    if (b->closing) return;
    b->inflight--;
    if (!r) {
        /* the connection went away: the core retries the message */
        b->host->msg_done(b->host, msg, AGORA_EIO);
        return;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        /* Drop the connection too: later PUBLISHes then fail as well and are retried
         * in order, instead of overtaking this one. */
        snprintf(l->why, sizeof l->why, "PUBLISH failed: %s", r->str);
        ag_rlink_drop(l, NULL);
        b->host->msg_done(b->host, msg, AGORA_EIO);
        return;
    }
    /* The answer counts the subscribers that got it: the best measure of how many
     * listen. Learn it now, not only at the next NUMSUB poll, so that an outage soon
     * after a node joined still waits for that node (a count learned too low lets the
     * gate open before it is back, and its PUBLISHes count as delivered). */
    if (b->kind != AG_REDIS_CLUSTER && r->type == REDIS_REPLY_INTEGER &&
        r->integer > b->expected_subs)
        b->expected_subs = r->integer;
    if (b->kind != AG_REDIS_CLUSTER && r->type == REDIS_REPLY_INTEGER &&
        r->integer < b->expected_subs) {
        /* Fewer subscribers got it than were listening: one of them is moving (a
         * failover, a reconnect) or gone. Hold publishing back briefly and send the
         * message again; receivers drop the copies they already have. */
        start_hold(b, r->integer, true);
        b->host->msg_done(b->host, msg, AGORA_EAGAIN);
        return;
    }
    l->attempts = 0;
    l->logged[0] = 0;
    b->host->msg_done(b->host, msg, AGORA_OK);
    maybe_resume(b);
}

/* ---- subscriber ---------------------------------------------------------- */

static void sub_msg(redisAsyncContext *ac, void *rv, void *priv) {
    ag_rlink *l = ag_rlink_of(ac);
    ag_backend *b = l->owner;
    redisReply *r = rv;
    (void)priv;
    if (b->closing || l->dropping || !r) return;
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(l->why, sizeof l->why, "SUBSCRIBE failed: %s", r->str);
        ag_rlink_drop(l, NULL);
        return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 || r->element[0]->type != REDIS_REPLY_STRING)
        return;
    const char *kind = r->element[0]->str;
    if (!strcmp(kind, "message")) {
        redisReply *p = r->element[2];
        if (p->type == REDIS_REPLY_STRING) b->host->deliver(b->host, (const uint8_t *)p->str, p->len);
    } else if (!strcmp(kind, "unsubscribe")) {
        /* every message published before it has been read: nothing is thrown away */
        if (b->sub_leaving) ag_rlink_drop(l, NULL);
    } else if (!strcmp(kind, "subscribe")) {
        if (b->sub_timer) ag_timer_stop(b->host->loop, b->sub_timer);
        b->sub_timer = NULL;
        l->attempts = 0;
        l->logged[0] = 0;
        b->host->log(b->host, AGORA_LOG_INFO, "redis %s: subscribed to %s", l->addr, AGORA_TOPIC);
        b->subscribed = true;
        update_status(b);
    }
}

static void sub_timeout(ag_loop *loop, ag_timer *t, void *arg) {
    ag_backend *b = arg;
    ag_timer_stop(loop, t);
    b->sub_timer = NULL;
    if (b->sub_leaving) {
        ag_rlink_drop(&b->sub, NULL);
        return;
    }
    /* hiredis drops error replies to SUBSCRIBE (e.g. NOPERM for the channel) */
    ag_rlink_drop(&b->sub, "SUBSCRIBE " AGORA_TOPIC " was not confirmed (may the user use "
                           "this channel?)");
}

/* Leave the current server on purpose (the master moved). Closing at once would throw
 * away messages already in the socket that the server counted as delivered to us, so
 * UNSUBSCRIBE first and close when that is confirmed (or after HOLD_MS). */
static void sub_move(ag_backend *b, const char *why) {
    ag_rlink *l = &b->sub;
    if (!l->ac || l->dropping || b->sub_leaving) return;
    l->deliberate = true;
    snprintf(l->why, sizeof l->why, "%s", why);
    if (l->state != AG_RL_READY || !b->subscribed ||
        redisAsyncCommand(l->ac, NULL, NULL, "UNSUBSCRIBE %s", AGORA_TOPIC) != REDIS_OK) {
        ag_rlink_drop(l, NULL);
        return;
    }
    b->sub_leaving = true;
    if (b->sub_timer) ag_timer_stop(b->host->loop, b->sub_timer);
    b->sub_timer = ag_timer_start(b->host->loop, HOLD_MS, 0, sub_timeout, b);
}

static void sub_ready(ag_rlink *l) {
    ag_backend *b = l->owner;
    if (redisAsyncCommand(l->ac, sub_msg, NULL, "SUBSCRIBE %s", AGORA_TOPIC) != REDIS_OK) {
        ag_rlink_drop(l, "cannot send SUBSCRIBE");
        return;
    }
    if (b->sub_timer) ag_timer_stop(b->host->loop, b->sub_timer);
    b->sub_timer = ag_timer_start(b->host->loop, b->timeout_ms, 0, sub_timeout, b);
}

/* ---- sentinel ------------------------------------------------------------ */

static void adopt_master(ag_backend *b, const char *host, int port, const char *from) {
    bool changed = !b->have_master || strcmp(b->master_host, host) != 0 || b->master_port != port;
    snprintf(b->master_host, sizeof b->master_host, "%s", host);
    b->master_port = port;
    b->have_master = true;
    b->resolve_wanted = false;
    if (changed)
        b->host->log(b->host, AGORA_LOG_INFO, "redis sentinel %s: master of \"%s\" is %s:%d", from,
                     b->rc->service_name, host, port);
    char want[300];
    snprintf(want, sizeof want, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    ag_rlink *links[2] = {&b->pub, &b->sub};
    for (int i = 0; i < 2; i++) {
        ag_rlink *l = links[i];
        if (l->state == AG_RL_IDLE) {
            if (!l->retry && !l->down_timer) start_link(b, l);
        } else if (strcmp(l->addr, want) != 0) {
            if (l == &b->sub) {
                sub_move(b, "the master moved");
            } else {
                l->deliberate = true;
                ag_rlink_drop(l, "the master moved");
            }
        }
    }
}

static void sen_switch(redisAsyncContext *ac, void *rv, void *priv) {
    ag_rlink *l = ag_rlink_of(ac);
    ag_backend *b = l->owner;
    redisReply *r = rv;
    (void)priv;
    if (b->closing || l->dropping || !r) return;
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3 || r->element[0]->type != REDIS_REPLY_STRING ||
        strcmp(r->element[0]->str, "message") != 0 || r->element[2]->type != REDIS_REPLY_STRING)
        return;
    /* "<name> <old-ip> <old-port> <new-ip> <new-port>" */
    char name[256], oh[256], nh[256];
    int op, np;
    if (sscanf(r->element[2]->str, "%255s %255s %d %255s %d", name, oh, &op, nh, &np) != 5) return;
    if (strcmp(name, b->rc->service_name) != 0) return;
    b->host->log(b->host, AGORA_LOG_INFO, "redis sentinel %s: +switch-master %s -> %s:%d", l->addr,
                 name, nh, np);
    adopt_master(b, nh, np, l->addr);
}

static void sen_master_reply(redisAsyncContext *ac, void *rv, void *priv) {
    ag_rlink *l = ag_rlink_of(ac);
    ag_backend *b = l->owner;
    redisReply *r = rv;
    (void)priv;
    if (b->closing || l->dropping || !r) return;
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(l->why, sizeof l->why, "SENTINEL get-master-addr-by-name failed: %s", r->str);
        if (strstr(r->str, "NOAUTH") || strstr(r->str, "WRONGPASS")) l->auth_failed = true;
        ag_rlink_drop(l, NULL);
        return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
        r->element[1]->type != REDIS_REPLY_STRING) {
        snprintf(l->why, sizeof l->why, "the sentinel knows no master named \"%s\"",
                 b->rc->service_name);
        ag_rlink_drop(l, NULL);
        return;
    }
    int port = atoi(r->element[1]->str);
    if (port <= 0 || port > 65535) {
        snprintf(l->why, sizeof l->why, "the sentinel answered a bad port \"%s\"", r->element[1]->str);
        ag_rlink_drop(l, NULL);
        return;
    }
    char host[256];
    snprintf(host, sizeof host, "%s", r->element[0]->str);
    l->attempts = 0;
    l->logged[0] = 0;
    /* listen for failovers on the same connection */
    redisAsyncCommand(ac, sen_switch, NULL, "SUBSCRIBE +switch-master");
    adopt_master(b, host, port, l->addr);
}

static void sen_ready(ag_rlink *l) {
    ag_backend *b = l->owner;
    if (l->logged[0])
        b->host->log(b->host, AGORA_LOG_INFO, "redis sentinel %s: connected", l->addr);
    if (redisAsyncCommand(l->ac, sen_master_reply, NULL, "SENTINEL get-master-addr-by-name %s",
                          b->rc->service_name) != REDIS_OK)
        ag_rlink_drop(l, "cannot send SENTINEL get-master-addr-by-name");
}

static void sen_down(ag_rlink *l) {
    ag_backend *b = l->owner;
    uint64_t delay;
    if (l->deliberate) {
        l->deliberate = false;
        delay = 0;
    } else {
        delay = retry_delay(b, l);
        log_failure(b, l, delay);
        l->idx = (l->idx + 1) % b->nurls;
    }
    l->was_ready = false;
    schedule(b, l, delay);
}

/* A data link failed: ask again which server is the master. */
static void sentinel_kick(ag_backend *b) {
    if (b->resolve_wanted) return;
    b->resolve_wanted = true;
    ag_rlink *l = &b->sen;
    if (l->state == AG_RL_READY) {
        l->deliberate = true;
        ag_rlink_drop(l, "asking again for the master");
    } else if (l->state == AG_RL_IDLE && !l->retry && !l->down_timer) {
        start_link(b, l);
    }
}

/* ---- links --------------------------------------------------------------- */

static void start_link(ag_backend *b, ag_rlink *l) {
    if (b->closing || l->state != AG_RL_IDLE || l->ac) return;
    if (l == &b->sen) {
        const ag_rurl *u = &b->urls[l->idx];
        const char *user = b->rc->sentinel_username ? b->rc->sentinel_username : u->user;
        const char *pass = b->rc->sentinel_secret ? b->rc->sentinel_secret : u->pass;
        ag_rlink_connect(l, u->host, u->port, user, pass, 0);
        return;
    }
    if (b->kind == AG_REDIS_SENTINEL) {
        if (!b->have_master) {
            sentinel_kick(b); /* adopt_master starts us */
            return;
        }
        ag_rlink_connect(l, b->master_host, b->master_port, b->user, b->pass, 0);
        return;
    }
    const ag_rurl *u = &b->urls[l->idx % b->nurls];
    ag_rlink_connect(l, u->host, u->port, b->user ? b->user : u->user, b->pass ? b->pass : u->pass,
                     u->db);
}

static void init_link(ag_backend *b, ag_rlink *l, const char *what, void (*ready)(ag_rlink *),
                      void (*down)(ag_rlink *)) {
    memset(l, 0, sizeof *l);
    l->host = b->host;
    l->owner = b;
    l->what = what;
    l->fd = -1;
    l->hs_timeout_ms = b->timeout_ms;
    l->want_master = b->kind == AG_REDIS_SENTINEL && l != &b->sen;
    /* "agora-<node>-<role>" in CLIENT LIST, so operators can tell the connections apart */
    snprintf(l->name, sizeof l->name, "agora-%u-%s", (unsigned)b->host->node_id, what);
    l->on_ready = ready;
    l->on_down = down;
}

/* ---- ops ----------------------------------------------------------------- */

static void redis_close(ag_backend *b);

static int redis_open(ag_host *host, ag_backend **out, char *err, size_t errlen) {
    const agora_config *cfg = host->cfg;
    const ag_redis_config *rc = cfg->backend;
    ag_backend *b = calloc(1, sizeof *b);
    if (!b) return AGORA_ENOMEM;
    b->host = host;
    b->rc = rc;
    b->kind = rc->mode;
    b->timeout_ms = rc->timeout_ms ? rc->timeout_ms : 10000;
    b->min_wait = rc->min_retry_wait_ms ? rc->min_retry_wait_ms : DEFAULT_MIN_WAIT;
    b->max_wait = rc->max_retry_wait_ms ? rc->max_retry_wait_ms : DEFAULT_MAX_WAIT;
    if (b->max_wait < b->min_wait) b->max_wait = b->min_wait;
    b->user = rc->auth_username;
    b->pass = rc->auth_secret;
    b->expected_subs = 1; /* at least our own subscriber */
    size_t n = b->kind == AG_REDIS_SINGLE ? 1 : rc->urls.count;
    if (n == 0 || (b->kind == AG_REDIS_SINGLE && !rc->url)) {
        snprintf(err, errlen, "%s: no server URL configured", kind_name(b->kind));
        free(b);
        return AGORA_ECONFIG;
    }
    if (b->kind == AG_REDIS_SENTINEL && (!rc->service_name || !rc->service_name[0])) {
        snprintf(err, errlen, "RedisSentinel: serviceName is required");
        free(b);
        return AGORA_ECONFIG;
    }
    b->urls = calloc(n, sizeof *b->urls);
    if (!b->urls) {
        free(b);
        return AGORA_ENOMEM;
    }
    b->nurls = n;
    for (size_t i = 0; i < n; i++) {
        const char *u = b->kind == AG_REDIS_SINGLE ? rc->url : rc->urls.items[i];
        char e[160];
        if (ag_rurl_parse(u, &b->urls[i], e, sizeof e) != AGORA_OK) {
            snprintf(err, errlen, "%s: %s", kind_name(b->kind), e);
            b->nurls = i;
            redis_close(b);
            return AGORA_ECONFIG;
        }
    }
    init_link(b, &b->pub, "publisher", pub_ready, data_down);
    init_link(b, &b->sub, "subscriber", sub_ready, data_down);
    init_link(b, &b->sen, "sentinel", sen_ready, sen_down);
    /* Report the intended server while still disconnected. */
    if (b->kind == AG_REDIS_SENTINEL)
        snprintf(b->pub.addr, sizeof b->pub.addr, "sentinel %s:%d/%s", b->urls[0].host,
                 b->urls[0].port, rc->service_name);
    else
        snprintf(b->pub.addr, sizeof b->pub.addr, strchr(b->urls[0].host, ':') ? "[%s]:%d" : "%s:%d",
                 b->urls[0].host, b->urls[0].port);
    host->set_connected(host, false, b->pub.addr);
    if (b->kind == AG_REDIS_SENTINEL) {
        b->resolve_wanted = true;
        start_link(b, &b->sen);
    } else {
        start_link(b, &b->pub);
        start_link(b, &b->sub);
    }
    *out = b;
    return AGORA_OK;
}

static int redis_publish(ag_backend *b, ag_msg *msg) {
    if (b->closing) return AGORA_ECLOSED;
    if (!can_publish(b)) {
        b->blocked = true;
        return AGORA_EAGAIN;
    }
    if (redisAsyncCommand(b->pub.ac, pub_reply, msg, "PUBLISH %s %b", AGORA_TOPIC, msg->data,
                          msg->len) != REDIS_OK) {
        b->blocked = true;
        return AGORA_EAGAIN;
    }
    b->inflight++;
    return AGORA_OK;
}

static void redis_status(ag_backend *b, agora_status *st) {
    st->connected = b->connected;
    snprintf(st->server, sizeof st->server, "%.255s", b->pub.addr);
    st->reconnects = b->reconnects;
    st->peers = b->connected ? 1 : 0;
}

static void redis_close(ag_backend *b) {
    if (!b) return;
    b->closing = true;
    ag_loop *loop = b->host->loop;
    ag_rlink *links[3] = {&b->pub, &b->sub, &b->sen};
    for (int i = 0; i < 3; i++) {
        if (links[i]->retry) ag_timer_stop(loop, links[i]->retry);
        links[i]->retry = NULL;
        if (links[i]->host) ag_rlink_close(links[i]);
    }
    if (b->gate_timer) ag_timer_stop(loop, b->gate_timer);
    if (b->poll_timer) ag_timer_stop(loop, b->poll_timer);
    if (b->sub_timer) ag_timer_stop(loop, b->sub_timer);
    for (size_t i = 0; i < b->nurls; i++) ag_rurl_free(&b->urls[i]);
    free(b->urls);
    free(b);
}

const ag_backend_ops ag_backend_redis = {
    .name = "Redis",
    .max_payload = 1 << 20,
    .open = redis_open,
    .publish = redis_publish,
    .member_update = NULL,
    .local_address = NULL,
    .status = redis_status,
    .close = redis_close,
};
