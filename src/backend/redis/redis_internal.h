/* redis_internal.h — pieces of the Redis backends (Redis, RedisCluster, RedisSentinel).
 *
 *   redis_url.c     redis://[user[:pass]@]host[:port][/db] parsing
 *   redis_ev.c      hiredis async hooks -> ag_loop (everything on the I/O thread)
 *   redis_link.c    one connection: connect, AUTH/SELECT/ROLE handshake, drop, backoff
 *   redis_backend.c the ops table: publisher, subscriber, sentinel resolver */
#ifndef AG_REDIS_INTERNAL_H
#define AG_REDIS_INTERNAL_H

#include "backend/redis/redis_config.h"
#include "core/backend.h"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- URLs ---------------------------------------------------------------- */

typedef struct ag_rurl {
    char host[256]; /* without IPv6 brackets */
    int port;       /* 6379 unless given */
    char *user;     /* NULL if none; percent-decoded */
    char *pass;     /* NULL if none; percent-decoded */
    int db;         /* 0 unless given */
} ag_rurl;

int ag_rurl_parse(const char *url, ag_rurl *out, char *err, size_t errlen);
void ag_rurl_free(ag_rurl *u);

/* ---- one connection ------------------------------------------------------ */

enum { AG_RL_IDLE = 0, AG_RL_CONNECTING, AG_RL_READY };

typedef struct ag_rlink ag_rlink;
struct ag_rlink {
    ag_host *host;
    void *owner;
    const char *what; /* "publisher", "subscriber", "sentinel": for logs */
    redisAsyncContext *ac;
    int fd;           /* registered with the loop, -1 if none */
    unsigned mask;    /* AG_READ | AG_WRITE armed in the loop */
    bool want_write;  /* hiredis has output queued (connected context) */
    ag_defer flush;   /* writes that output once the loop iteration is over */
    int state;
    bool dropping;    /* being torn down: ignore hiredis callbacks */
    bool closed;      /* backend closing: no more notifications */
    bool want_master; /* handshake checks ROLE == master */
    char name[64];    /* CLIENT SETNAME (shows in CLIENT LIST), "" for none */
    char addr[300];   /* "host:port" in use */
    char why[256];    /* reason of the last failure */
    bool auth_failed;
    unsigned attempts;   /* consecutive failures, for the backoff */
    uint64_t hs_timeout_ms;
    ag_timer *hs_timer;   /* handshake deadline */
    ag_timer *down_timer; /* notifies on_down outside hiredis */
    /* owner's bookkeeping */
    ag_timer *retry;      /* reconnect after backoff */
    bool was_ready;       /* reached READY since the last on_down */
    bool deliberate;      /* dropped on purpose (re-resolve): reconnect at once */
    size_t idx;           /* which configured URL (cluster, sentinels) */
    char logged[256];     /* last failure reason logged, to keep repeats quiet */
    void (*on_ready)(ag_rlink *l);
    void (*on_down)(ag_rlink *l);
};

/* Start connecting; the link must be IDLE. The handshake sends AUTH (if pass), SELECT
 * (if db), CLIENT SETNAME (if name), ROLE (if want_master) and PING; on_ready follows on success, on_down on
 * any failure (always later, from the loop, never from inside this call). */
void ag_rlink_connect(ag_rlink *l, const char *host, int port, const char *user,
                      const char *pass, int db);
/* Tear the connection down now (pending callbacks get NULL replies); on_down follows. */
void ag_rlink_drop(ag_rlink *l, const char *why);
/* Free without any notification (backend close). */
void ag_rlink_close(ag_rlink *l);
/* The link that owns a hiredis context (its ac->data). */
static inline ag_rlink *ag_rlink_of(const redisAsyncContext *ac) { return ac->data; }

/* ---- loop adapter -------------------------------------------------------- */

/* Route ac's I/O through the loop; ev.data = the link. */
int ag_redis_ev_attach(ag_rlink *l, redisAsyncContext *ac);


#endif
