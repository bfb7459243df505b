/* redis_link.c — one hiredis connection with its handshake (AUTH, SELECT, ROLE, PING).
 *
 * Failures of every kind (refused, reset, handshake error, timeout, our own drop) end
 * in hiredis freeing the context, which calls the cleanup hook; the hook arms a 0 ms
 * timer so the owner's on_down always runs from the loop, outside hiredis. */
#include "backend/redis/redis_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { HS_AUTH = 1, HS_SELECT, HS_NAME, HS_ROLE, HS_PING };

static void down_timer_cb(ag_loop *loop, ag_timer *t, void *arg) {
    ag_rlink *l = arg;
    ag_timer_stop(loop, t);
    l->down_timer = NULL;
    l->attempts++;
    if (!l->closed && l->on_down) l->on_down(l);
}

static void notify_down(ag_rlink *l) {
    l->state = AG_RL_IDLE;
    if (l->closed || l->down_timer) return;
    l->down_timer = ag_timer_start(l->host->loop, 0, 0, down_timer_cb, l);
}

void ag_rlink_cleanup_hook(ag_rlink *l) {
    if (l->hs_timer) {
        ag_timer_stop(l->host->loop, l->hs_timer);
        l->hs_timer = NULL;
    }
    if (!l->why[0] && l->ac) {
        const char *e = l->ac->errstr && l->ac->errstr[0] ? l->ac->errstr : "connection closed";
        snprintf(l->why, sizeof l->why, "%s", e);
    }
    l->ac = NULL;
    notify_down(l);
}

void ag_rlink_drop(ag_rlink *l, const char *why) {
    if (!l->ac || l->dropping) return;
    if (why && !l->why[0]) snprintf(l->why, sizeof l->why, "%s", why);
    l->dropping = true;
    /* Inside a hiredis callback this only marks the context; hiredis frees it (and
     * calls our cleanup hook) when the callback returns. */
    redisAsyncFree(l->ac);
}

void ag_rlink_close(ag_rlink *l) {
    l->closed = true;
    l->dropping = true;
    if (l->ac) redisAsyncFree(l->ac);
    l->ac = NULL;
    ag_loop_defer_cancel(l->host->loop, &l->flush);
    if (l->hs_timer) ag_timer_stop(l->host->loop, l->hs_timer);
    if (l->down_timer) ag_timer_stop(l->host->loop, l->down_timer);
    l->hs_timer = l->down_timer = NULL;
    l->state = AG_RL_IDLE;
}

static void hs_timeout(ag_loop *loop, ag_timer *t, void *arg) {
    ag_rlink *l = arg;
    ag_timer_stop(loop, t);
    l->hs_timer = NULL;
    ag_rlink_drop(l, "timed out while connecting");
}

static bool is_auth_error(const char *s) {
    return !strncmp(s, "WRONGPASS", 9) || !strncmp(s, "NOAUTH", 6) ||
           !strncmp(s, "NOPERM", 6) || strstr(s, "AUTH") != NULL ||
           strstr(s, "password") != NULL;
}

static void hs_reply(redisAsyncContext *ac, void *rv, void *priv) {
    ag_rlink *l = ag_rlink_of(ac);
    redisReply *r = rv;
    int step = (int)(intptr_t)priv;
    if (l->dropping || l->closed || !r) return; /* NULL: the connection went away */
    if (r->type == REDIS_REPLY_ERROR && step == HS_NAME) return; /* only a convenience */
    if (r->type == REDIS_REPLY_ERROR) {
        const char *e = r->str ? r->str : "error";
        if (step == HS_AUTH || is_auth_error(e)) {
            l->auth_failed = true;
            snprintf(l->why, sizeof l->why, "authentication failed: %s", e);
        } else {
            snprintf(l->why, sizeof l->why, "%s failed: %s",
                     step == HS_SELECT ? "SELECT" : step == HS_ROLE ? "ROLE" : "PING", e);
        }
        ag_rlink_drop(l, NULL);
        return;
    }
    if (step == HS_ROLE) {
        const char *role = r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
                                   r->element[0]->type == REDIS_REPLY_STRING
                               ? r->element[0]->str
                               : "?";
        if (strcasecmp(role, "master") != 0) {
            snprintf(l->why, sizeof l->why, "not a master (role %s)", role);
            ag_rlink_drop(l, NULL);
        }
        return;
    }
    if (step != HS_PING) return;
    if (l->hs_timer) {
        ag_timer_stop(l->host->loop, l->hs_timer);
        l->hs_timer = NULL;
    }
    l->state = AG_RL_READY;
    l->was_ready = true; /* the owner resets attempts once the link really works */
    l->auth_failed = false;
    if (l->on_ready) l->on_ready(l);
}

static void on_connect(const redisAsyncContext *ac, int status) {
    (void)ac;
    (void)status; /* failures arrive through the cleanup hook */
}

void ag_rlink_connect(ag_rlink *l, const char *host, int port, const char *user,
                      const char *pass, int db) {
    l->why[0] = 0;
    l->dropping = false;
    l->auth_failed = false;
    l->state = AG_RL_CONNECTING;
    if (strchr(host, ':'))
        snprintf(l->addr, sizeof l->addr, "[%s]:%d", host, port);
    else
        snprintf(l->addr, sizeof l->addr, "%s:%d", host, port);
    redisAsyncContext *ac = redisAsyncConnect(host, port);
    if (!ac || ac->err) {
        snprintf(l->why, sizeof l->why, "%s", ac && ac->errstr ? ac->errstr : "out of memory");
        if (ac) redisAsyncFree(ac);
        notify_down(l);
        return;
    }
    ac->data = l;
    if (ag_redis_ev_attach(l, ac) < 0) {
        snprintf(l->why, sizeof l->why, "cannot watch the socket");
        redisAsyncFree(ac);
        notify_down(l);
        return;
    }
    l->ac = ac;
    redisAsyncSetConnectCallback(ac, on_connect); /* also asks for the first write event */
    int rc = REDIS_OK;
    if (pass && user)
        rc |= redisAsyncCommand(ac, hs_reply, (void *)(intptr_t)HS_AUTH, "AUTH %s %s", user, pass);
    else if (pass)
        rc |= redisAsyncCommand(ac, hs_reply, (void *)(intptr_t)HS_AUTH, "AUTH %s", pass);
    if (db > 0) rc |= redisAsyncCommand(ac, hs_reply, (void *)(intptr_t)HS_SELECT, "SELECT %d", db);
    if (l->name[0])
        rc |= redisAsyncCommand(ac, hs_reply, (void *)(intptr_t)HS_NAME, "CLIENT SETNAME %s", l->name);
    if (l->want_master) rc |= redisAsyncCommand(ac, hs_reply, (void *)(intptr_t)HS_ROLE, "ROLE");
    rc |= redisAsyncCommand(ac, hs_reply, (void *)(intptr_t)HS_PING, "PING");
    if (rc != REDIS_OK) {
        ag_rlink_drop(l, "out of memory");
        return;
    }
    l->hs_timer = ag_timer_start(l->host->loop, l->hs_timeout_ms ? l->hs_timeout_ms : 10000, 0,
                                 hs_timeout, l);
}
