/* base_redis.c — the baseline beside the Redis backend: hiredis alone. Per node a
 * publisher connection that pipelines PUBLISH stwt.agora <payload> (at most --pipeline
 * replies outstanding, 16 by default like agora's Redis backend) and a subscriber
 * connection on its own thread (SUBSCRIBE stwt.agora, blocking redisGetReply). */
#include "base_driver.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static char host[256] = "127.0.0.1";
static int port = 6379, depth = 16;

typedef struct rnode {
    redisContext *pub, *sub;
    pthread_t rx;
    int pending;
} rnode;

static int opt(const char *o, const char *v) {
    if (!strcmp(o, "--pipeline")) {
        depth = atoi(v);
        return depth > 0 ? 1 : -1;
    }
    if (strcmp(o, "--url")) return 0;
    const char *p = v;
    if (!strncmp(p, "redis://", 8)) p += 8;
    const char *at = strrchr(p, '@');
    if (at) p = at + 1;
    const char *c = strrchr(p, ':');
    size_t n = c ? (size_t)(c - p) : strcspn(p, "/");
    if (n == 0 || n >= sizeof host) return -1;
    memcpy(host, p, n);
    host[n] = 0;
    port = c ? atoi(c + 1) : 6379;
    return port > 0 ? 1 : -1;
}

static void *rx_main(void *arg) {
    bb_node *n = arg;
    rnode *r = n->impl;
    void *reply;
    while (redisGetReply(r->sub, &reply) == REDIS_OK) {
        redisReply *rep = reply;
        if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 &&
            rep->element[0]->type == REDIS_REPLY_STRING && !strcmp(rep->element[0]->str, "message"))
            bb_deliver(n, (const uint8_t *)rep->element[2]->str, rep->element[2]->len);
        freeReplyObject(rep);
    }
    return NULL;
}

static redisContext *connect_one(char *err, size_t errlen) {
    redisContext *c = redisConnect(host, port);
    if (!c || c->err) {
        snprintf(err, errlen, "redis %s:%d: %s", host, port, c ? c->errstr : "out of memory");
        if (c) redisFree(c);
        return NULL;
    }
    return c;
}

static int r_open(bb_node *n, char *err, size_t errlen) {
    rnode *r = calloc(1, sizeof *r);
    if (!r) return -1;
    n->impl = r;
    r->pub = connect_one(err, errlen);
    r->sub = r->pub ? connect_one(err, errlen) : NULL;
    if (!r->sub) goto fail;
    redisReply *rep = redisCommand(r->sub, "SUBSCRIBE %s", "stwt.agora");
    if (!rep) {
        snprintf(err, errlen, "SUBSCRIBE failed: %s", r->sub->errstr);
        goto fail;
    }
    freeReplyObject(rep);
    if (pthread_create(&r->rx, NULL, rx_main, n) != 0) goto fail;
    return 0;
fail:
    if (r->pub) redisFree(r->pub);
    if (r->sub) redisFree(r->sub);
    free(r);
    n->impl = NULL;
    return -1;
}

static int read_one(rnode *r) {
    void *reply;
    if (redisGetReply(r->pub, &reply) != REDIS_OK) return -1;
    freeReplyObject(reply);
    r->pending--;
    return 0;
}

static int r_publish(bb_node *n, const uint8_t *data, size_t len) {
    rnode *r = n->impl;
    if (redisAppendCommand(r->pub, "PUBLISH %s %b", "stwt.agora", data, len) != REDIS_OK) return -1;
    r->pending++;
    if (r->pending >= depth) return read_one(r);
    return 0;
}

static void r_flush(bb_node *n) {
    rnode *r = n->impl;
    /* Write what is appended; collect the replies as the window requires. */
    int done = 0;
    while (!done)
        if (redisBufferWrite(r->pub, &done) != REDIS_OK) return;
}

static void r_close(bb_node *n) {
    rnode *r = n->impl;
    if (!r) return;
    r_flush(n);
    while (r->pending > 0 && read_one(r) == 0) {
    }
    shutdown(r->sub->fd, SHUT_RDWR); /* ends the blocking read of the receiver thread */
    pthread_join(r->rx, NULL);
    redisFree(r->sub);
    redisFree(r->pub);
    free(r);
    n->impl = NULL;
}

static const bb_transport redis = {
    .name = "redis",
    .backend = "Redis",
    .options_help = "  --url URL         redis://host:port (default redis://127.0.0.1:6379)\n"
                    "  --pipeline K      PUBLISH replies outstanding (default 16)\n",
    .option = opt,
    .open = r_open,
    .publish = r_publish,
    .flush = r_flush,
    .close = r_close,
};

int main(int argc, char **argv) { return bb_main(&redis, argc, argv); }
