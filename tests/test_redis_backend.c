/* test_redis_backend.c — the Redis backends driven directly through the ops table,
 * with a small ag_host of our own, against real redis-server processes:
 * delivery both ways (binary-safe), restart with messages queued during the outage,
 * server down at start, authentication failure (clear error, no spinning),
 * RedisCluster node down, RedisSentinel failover, a restart soon after a subscriber joined.
 * Ports 26000-26099. */
#include "check.h"
#include "backend/registry.h"
#include "core/backend.h"
#include "core/loop.h"
#include "fake_host.h"
#include "proc.h"
#include "redis_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAXMSG 4096

typedef struct tnode {
    fake_host fh; /* first; received payloads, states and logs recorded there */
    const char *name;
    agora_config *cfg;
    ag_backend *be;
    /* outgoing */
    ag_msg msgs[MAXMSG];
    char bufs[MAXMSG][64];
    size_t nmsg, next;    /* msgs[next..nmsg) not yet offered */
    size_t retry[MAXMSG]; /* failed messages to offer again */
    size_t nretry;
} tnode;

static ag_loop *g_loop;

static void pump(tnode *n);

/* A failed message is offered again, as the core would. */
static void t_msg_done(fake_host *f, ag_msg *m, int status) {
    tnode *n = (tnode *)f;
    if (status != AGORA_OK) n->retry[n->nretry++] = (size_t)(m - n->msgs);
    pump(n);
}

static void t_resume(fake_host *f) { pump((tnode *)f); }

static void pump(tnode *n) {
    while (!n->fh.blocked && n->be) {
        size_t i;
        if (n->nretry)
            i = n->retry[0];
        else if (n->next < n->nmsg)
            i = n->next;
        else
            return;
        int rc = ag_backend_redis.publish(n->be, &n->msgs[i]);
        if (rc == AGORA_EAGAIN) {
            n->fh.blocked = true;
            return;
        }
        if (rc != AGORA_OK) {
            fprintf(stderr, "[%s] publish refused: %d\n", n->name, rc);
            failures++;
            return;
        }
        if (n->nretry)
            memmove(n->retry, n->retry + 1, --n->nretry * sizeof n->retry[0]);
        else
            n->next++;
    }
}

static void queue_msgs(tnode *n, const char *tag, size_t count) {
    for (size_t k = 0; k < count && n->nmsg < MAXMSG; k++) {
        size_t i = n->nmsg++;
        /* binary-safe: a NUL, CR LF and a high byte in every payload */
        int len = snprintf(n->bufs[i], sizeof n->bufs[i], "%s-%s-%zu|", n->name, tag, i);
        n->bufs[i][len] = 0;
        n->bufs[i][len + 1] = '\r';
        n->bufs[i][len + 2] = '\n';
        n->bufs[i][len + 3] = (char)0xff;
        n->msgs[i].data = (const uint8_t *)n->bufs[i];
        n->msgs[i].len = (size_t)len + 4;
    }
    pump(n);
}

static tnode *node_open(const char *name, const char *json) {
    tnode *n = calloc(1, sizeof *n);
    n->name = name;
    char err[512];
    n->cfg = agora_config_parse(json, strlen(json), err, sizeof err);
    if (!n->cfg) {
        fprintf(stderr, "config: %s\n", err);
        abort();
    }
    fake_host_init(&n->fh, g_loop, n->cfg, (uint16_t)name[0], name);
    n->fh.verbose_env = "REDIS_TEST_VERBOSE";
    n->fh.keep_payloads = true;
    n->fh.on_msg_done = t_msg_done;
    n->fh.on_resume = t_resume;
    int rc = ag_backend_redis.open(&n->fh.host, &n->be, err, sizeof err);
    if (rc != AGORA_OK) {
        fprintf(stderr, "open: %s\n", err);
        abort();
    }
    return n;
}

static void node_close(tnode *n) {
    ag_backend_redis.close(n->be);
    n->be = NULL;
    fake_host_free(&n->fh);
    agora_config_free(n->cfg);
    free(n);
}

static bool is_connected(void *a) { return ((tnode *)a)->fh.connected; }
static bool is_disconnected(void *a) { return !((tnode *)a)->fh.connected; }
static bool all_connected(void *a) {
    tnode **v = a;
    for (; *v; v++)
        if (!(*v)->fh.connected) return false;
    return true;
}

/* How many of `from`'s messages with `tag` did `to` receive (each at most once counted;
 * *dups gets duplicates). */
static size_t count_rx(tnode *to, tnode *from, const char *tag, size_t *dups) {
    char pre[64];
    int pl = snprintf(pre, sizeof pre, "%s-%s-", from->name, tag);
    char *seen = calloc(MAXMSG, 1);
    size_t c = 0, d = 0;
    for (size_t i = 0; i < to->fh.npayloads; i++) {
        if (strncmp(to->fh.payloads[i], pre, (size_t)pl) != 0) continue;
        size_t idx = strtoul(to->fh.payloads[i] + pl, NULL, 10);
        /* the full binary payload must match what was sent */
        if (idx >= from->nmsg || to->fh.payload_lens[i] != from->msgs[idx].len ||
            memcmp(to->fh.payloads[i], from->bufs[idx], to->fh.payload_lens[i]) != 0)
            continue;
        if (seen[idx]++)
            d++;
        else
            c++;
    }
    free(seen);
    if (dups) *dups = d;
    return c;
}

typedef struct rxwait {
    tnode *to, *from;
    const char *tag;
    size_t want;
} rxwait;
static bool got_all(void *a) {
    rxwait *w = a;
    return count_rx(w->to, w->from, w->tag, NULL) >= w->want;
}

static bool expect_rx(tnode *to, tnode *from, const char *tag, size_t want, int timeout_ms) {
    rxwait w = {to, from, tag, want};
    bool ok = fake_wait(g_loop, got_all, &w, timeout_ms);
    if (!ok)
        fprintf(stderr, "%s got %zu of %zu '%s' messages from %s\n", to->name,
                count_rx(to, from, tag, NULL), want, tag, from->name);
    return ok;
}

/* a and b each send `count` messages tagged `tag`: true if each got all of the other's
 * within timeout_ms (both directions are always waited for and reported). */
static bool exchange(tnode *a, tnode *b, const char *tag, size_t count, int timeout_ms) {
    queue_msgs(a, tag, count);
    queue_msgs(b, tag, count);
    bool to_b = expect_rx(b, a, tag, count, timeout_ms);
    bool to_a = expect_rx(a, b, tag, count, timeout_ms);
    return to_b && to_a;
}

/* CLIENT KILL the connection named `name` (CLIENT SETNAME by the backend). */
static bool kill_client(int port, const char *name) {
    redisReply *r = redis_fx_cmd(port, NULL, "CLIENT LIST");
    bool ok = false;
    if (r && r->type == REDIS_REPLY_STRING) {
        char key[96];
        snprintf(key, sizeof key, " name=%s ", name);
        for (char *line = r->str; line && *line;) {
            char *nl = strchr(line, '\n');
            if (nl) *nl = 0;
            if (strstr(line, key) && !strncmp(line, "id=", 3)) {
                long long id = strtoll(line + 3, NULL, 10);
                redisReply *k = redis_fx_cmd(port, NULL, "CLIENT KILL ID %lld", id);
                ok = k && k->type == REDIS_REPLY_INTEGER && k->integer == 1;
                if (k) freeReplyObject(k);
            }
            line = nl ? nl + 1 : NULL;
        }
    }
    if (r) freeReplyObject(r);
    return ok;
}

/* ---- tests --------------------------------------------------------------- */

static void test_single(void) {
    fprintf(stderr, "== single server: delivery both ways, restart, down at start\n");
    redis_fx_server s;
    if (redis_fx_start(&s, 26001, NULL)) {
        failures++;
        return;
    }
    const char *cfg = "{\"@type\":\"Redis\",\"url\":\"redis://127.0.0.1:26001/2\"}";
    tnode *a = node_open("A", cfg), *b = node_open("B", cfg);
    tnode *both[] = {a, b, NULL};
    CHECK(fake_wait(g_loop, all_connected, both, 10000));
    CHECK(strcmp(a->fh.server, "127.0.0.1:26001") == 0);

    CHECK(exchange(a, b, "x", 1000, 10000));
    size_t dups = 0;
    count_rx(b, a, "x", &dups);
    CHECK(dups == 0);
    CHECK(a->fh.done_ok == 1000 && a->fh.done_timeout + a->fh.done_other == 0);

    /* A subscriber that reconnects mid-stream misses nothing: PUBLISH answers that
     * fewer subscribers got the message, and the publisher sends it again. */
    fake_run_for(g_loop, 1200); /* let the publishers count both subscribers (polled every second) */
    queue_msgs(a, "moving", 1000);
    rxwait w = {b, a, "moving", 100};
    CHECK(fake_wait(g_loop, got_all, &w, 5000));
    CHECK(kill_client(26001, "agora-66-subscriber")); /* B is node 'B' = 66 */
    queue_msgs(a, "moving", 1000);
    CHECK(expect_rx(b, a, "moving", 2000, 15000));
    CHECK(fake_logged(&a->fh, "a message reached 1 of 2 subscribers"));

    /* Restart: messages offered during the outage are held (EAGAIN) and all arrive. */
    redis_fx_stop(&s);
    CHECK(fake_wait(g_loop, is_disconnected, a, 5000));
    CHECK(fake_wait(g_loop, is_disconnected, b, 5000));
    queue_msgs(a, "down", 200);
    fake_run_for(g_loop, 300);
    CHECK(a->fh.blocked);
    CHECK(redis_fx_restart(&s) == 0);
    CHECK(fake_wait(g_loop, all_connected, both, 15000));
    CHECK(expect_rx(b, a, "down", 200, 15000));
    agora_status st;
    memset(&st, 0, sizeof st);
    ag_backend_redis.status(a->be, &st);
    CHECK(st.connected && st.reconnects >= 1);
    CHECK(fake_logged(&a->fh, "publisher connection lost"));

    node_close(a);
    node_close(b);

    /* A hung server (SIGSTOP): the publisher's poll notices within "timeout", both
     * links leave, and come back once the server runs again. */
    const char *fast = "{\"@type\":\"Redis\",\"url\":\"redis://127.0.0.1:26001\",\"timeout\":\"1s\"}";
    a = node_open("A", fast);
    b = node_open("B", fast);
    both[0] = a;
    both[1] = b;
    CHECK(fake_wait(g_loop, all_connected, both, 10000));
    redis_fx_signal(&s, SIGSTOP);
    CHECK(fake_wait(g_loop, is_disconnected, a, 5000));
    CHECK(fake_logged(&a->fh, "the server stopped answering"));
    queue_msgs(a, "hung", 50);
    redis_fx_signal(&s, SIGCONT);
    CHECK(fake_wait(g_loop, all_connected, both, 15000));
    CHECK(expect_rx(b, a, "hung", 50, 10000));
    node_close(a);
    node_close(b);
    redis_fx_stop(&s);

    /* Down at start: the backend opens, stays disconnected, connects when the server
     * appears. */
    tnode *c = node_open("C", "{\"@type\":\"Redis\",\"url\":\"redis://127.0.0.1:26002\"}");
    fake_run_for(g_loop, 500);
    CHECK(!c->fh.connected);
    ag_backend_redis.status(c->be, &st);
    CHECK(!st.connected && strcmp(st.server, "127.0.0.1:26002") == 0);
    redis_fx_server s2;
    CHECK(redis_fx_start(&s2, 26002, NULL) == 0);
    CHECK(fake_wait(g_loop, is_connected, c, 10000));
    node_close(c);
    redis_fx_stop(&s2);
}

static void test_auth(void) {
    fprintf(stderr, "== authentication\n");
    redis_fx_server s;
    if (redis_fx_start(&s, 26003, "requirepass s3cret\nuser alice on >alicepw ~* &* +@all\n"
                            "user bob on >bobpw ~* resetchannels +@all\n")) {
        failures++;
        return;
    }
    long long before = redis_fx_info_int(26003, "s3cret", "total_connections_received");
    tnode *bad = node_open("bad", "{\"@type\":\"Redis\",\"url\":\"redis://:wrong@127.0.0.1:26003\"}");
    fake_run_for(g_loop, 3000);
    long long after = redis_fx_info_int(26003, "s3cret", "total_connections_received");
    CHECK(!bad->fh.connected);
    CHECK(fake_logged(&bad->fh, "redis 127.0.0.1:26003: authentication failed: WRONGPASS"));
    CHECK(!fake_logged(&bad->fh, "wrong")); /* never log the secret */
    /* backoff, not a spin: 2 links x ~5 attempts in 3 s (100,200,400,800,1600 ms) */
    fprintf(stderr, "connections in 3 s with a bad password: %lld\n", after - before - 1);
    CHECK(after - before < 20);
    node_close(bad);

    tnode *nopass = node_open("nopass", "{\"@type\":\"Redis\",\"url\":\"redis://127.0.0.1:26003\"}");
    fake_run_for(g_loop, 500);
    CHECK(!nopass->fh.connected);
    CHECK(fake_logged(&nopass->fh, "authentication failed: NOAUTH"));
    node_close(nopass);

    tnode *good = node_open("good", "{\"@type\":\"Redis\",\"url\":\"redis://:s3cret@127.0.0.1:26003\"}");
    tnode *acl = node_open("acl", "{\"@type\":\"Redis\",\"url\":\"redis://alice:alicepw@127.0.0.1:26003\"}");
    tnode *both[] = {good, acl, NULL};
    CHECK(fake_wait(g_loop, all_connected, both, 10000));
    queue_msgs(good, "p", 10);
    CHECK(expect_rx(acl, good, "p", 10, 5000));
    node_close(good);
    node_close(acl);

    /* A user who may not use the channel: SUBSCRIBE is refused; the reason is logged
     * and the retries back off. */
    tnode *noch = node_open("noch", "{\"@type\":\"Redis\",\"url\":\"redis://bob:bobpw@127.0.0.1:26003\","
                                    "\"timeout\":\"500ms\"}");
    long long c0 = redis_fx_info_int(26003, "s3cret", "total_connections_received");
    fake_run_for(g_loop, 1500);
    long long c1 = redis_fx_info_int(26003, "s3cret", "total_connections_received");
    CHECK(!noch->fh.connected);
    CHECK(fake_logged(&noch->fh, "NOPERM"));
    CHECK(c1 - c0 < 12); /* subscriber: ~4 attempts (100+200+400+800 ms), publisher: 1 */
    node_close(noch);
    redis_fx_stop(&s);
}

static void test_cluster(void) {
    fprintf(stderr, "== RedisCluster: node down\n");
    redis_fx_server nodes[3];
    memset(nodes, 0, sizeof nodes);
    if (redis_fx_cluster_start(nodes, 26010)) {
        failures++;
        for (int i = 0; i < 3; i++) redis_fx_stop(&nodes[i]);
        return;
    }
    tnode *a = node_open("A", "{\"@type\":\"RedisCluster\",\"urls\":[\"redis://127.0.0.1:26010\","
                              "\"redis://127.0.0.1:26011\",\"redis://127.0.0.1:26012\"],"
                              "\"minRetryWait\":\"50ms\",\"maxRetryWait\":\"1s\"}");
    tnode *b = node_open("B", "{\"@type\":\"RedisCluster\",\"urls\":[\"redis://127.0.0.1:26012\","
                              "\"redis://127.0.0.1:26011\"]}");
    tnode *both[] = {a, b, NULL};
    CHECK(fake_wait(g_loop, all_connected, both, 10000));
    CHECK(strcmp(a->fh.server, "127.0.0.1:26010") == 0);
    CHECK(exchange(a, b, "c1", 500, 10000));

    /* The node A uses dies: A moves to another node and keeps publishing/receiving. */
    redis_fx_kill(&nodes[0]);
    CHECK(fake_wait(g_loop, is_disconnected, a, 5000));
    CHECK(fake_wait(g_loop, is_connected, a, 10000));
    CHECK(strcmp(a->fh.server, "127.0.0.1:26011") == 0);
    CHECK(exchange(a, b, "c2", 300, 10000));
    node_close(a);
    node_close(b);
    for (int i = 0; i < 3; i++) redis_fx_stop(&nodes[i]);
}

static void test_sentinel(void) {
    fprintf(stderr, "== RedisSentinel: failover\n");
    redis_fx_sentinel st;
    if (redis_fx_sentinel_start(&st, 26020)) {
        failures++;
        redis_fx_sentinel_stop(&st);
        return;
    }
    const char *cfg = "{\"@type\":\"RedisSentinel\",\"urls\":[\"redis://127.0.0.1:26029\","
                      "\"redis://127.0.0.1:26022\"],\"serviceName\":\"mymaster\"}";
    tnode *a = node_open("A", cfg), *b = node_open("B", cfg);
    tnode *both[] = {a, b, NULL};
    CHECK(fake_wait(g_loop, all_connected, both, 15000));
    CHECK(strcmp(a->fh.server, "127.0.0.1:26020") == 0);
    CHECK(exchange(a, b, "s1", 300, 10000));

    /* Failover while messages are being offered. */
    queue_msgs(a, "s2", 1000);
    int np = redis_fx_sentinel_failover(&st, 30000);
    CHECK(np == 26021);
    queue_msgs(b, "s2", 1000);
    unsigned long long dl = redis_fx_now_ms() + 20000;
    while (redis_fx_now_ms() < dl &&
           !(a->fh.connected && b->fh.connected && !strcmp(a->fh.server, "127.0.0.1:26021") &&
             !strcmp(b->fh.server, "127.0.0.1:26021")))
        ag_loop_run_once(g_loop, 10);
    CHECK(strcmp(a->fh.server, "127.0.0.1:26021") == 0 && a->fh.connected);
    CHECK(strcmp(b->fh.server, "127.0.0.1:26021") == 0 && b->fh.connected);
    /* Nothing lost: messages acknowledged by the old master after the switch reached
     * fewer subscribers than expected and were sent again. */
    CHECK(expect_rx(a, b, "s2", 1000, 15000));
    CHECK(expect_rx(b, a, "s2", 1000, 15000));
    queue_msgs(a, "s3", 300);
    CHECK(expect_rx(b, a, "s3", 300, 10000));
    node_close(a);
    node_close(b);
    redis_fx_sentinel_stop(&st);
}

/* A plain Redis subscriber on a raw socket, standing for another node whose return
 * after an outage the test controls. */
typedef struct rawsub {
    int fd;
    char buf[1 << 16];
    size_t len;
} rawsub;

static bool rawsub_open(rawsub *r, int port) {
    r->len = 0;
    r->fd = ts_connect_loopback(port);
    static const char cmd[] = "*2\r\n$9\r\nSUBSCRIBE\r\n$10\r\nstwt.agora\r\n";
    if (r->fd < 0 || write(r->fd, cmd, sizeof cmd - 1) != (ssize_t)(sizeof cmd - 1)) {
        if (r->fd >= 0) close(r->fd);
        r->fd = -1;
        return false;
    }
    fcntl(r->fd, F_SETFL, fcntl(r->fd, F_GETFL) | O_NONBLOCK);
    return true;
}

static bool rawsub_has(void *a, const char *what) {
    rawsub *r = a;
    ssize_t k;
    while (r->fd >= 0 && r->len < sizeof r->buf &&
           (k = read(r->fd, r->buf + r->len, sizeof r->buf - r->len)) > 0)
        r->len += (size_t)k;
    return memmem(r->buf, r->len, what, strlen(what)) != NULL;
}
static bool rawsub_subscribed(void *a) { return rawsub_has(a, "$9\r\nsubscribe\r\n"); }

/* How many of n's messages msgs[from..to) the raw subscriber holds; *dups: extra copies. */
static size_t rawsub_count(rawsub *r, tnode *n, size_t from, size_t to, size_t *dups) {
    rawsub_has(r, "");
    size_t c = 0, d = 0;
    for (size_t i = from; i < to; i++) {
        size_t seen = 0;
        for (const char *p = r->buf, *e = r->buf + r->len;
             (p = memmem(p, (size_t)(e - p), n->bufs[i], n->msgs[i].len)) != NULL;
             p += n->msgs[i].len)
            seen++;
        c += seen > 0;
        d += seen > 1 ? seen - 1 : 0;
    }
    if (dups) *dups = d;
    return c;
}
typedef struct rawwait {
    rawsub *r;
    tnode *n;
    size_t from, to;
} rawwait;
static bool rawsub_got_all(void *a) {
    rawwait *w = a;
    return rawsub_count(w->r, w->n, w->from, w->to, NULL) == w->to - w->from;
}
static bool pub_back(void *a) {
    return fake_log_count(&((tnode *)a)->fh, "publisher connected") >= 2;
}

/* A restart soon after a subscriber joined (before A's first NUMSUB poll, 1 s after it
 * connected): only PUBLISH answers have told A that it listens. A is back before that
 * subscriber; what A held must wait for it, not go into a channel it has not re-joined. */
static void test_gate(void) {
    fprintf(stderr, "== restart soon after a subscriber joined: the publisher waits for it\n");
    redis_fx_server s;
    rawsub *sub = calloc(1, sizeof *sub);
    if (redis_fx_start(&s, 26005, NULL)) {
        failures++;
        free(sub);
        return;
    }
    /* A alone first: its gate opens counting only its own subscriber. */
    tnode *a = node_open("A", "{\"@type\":\"Redis\",\"url\":\"redis://127.0.0.1:26005\"}");
    CHECK(fake_wait(g_loop, is_connected, a, 10000));
    unsigned long long t0 = redis_fx_now_ms();
    CHECK(rawsub_open(sub, 26005));
    CHECK(fake_wait(g_loop, rawsub_subscribed, sub, 5000));
    queue_msgs(a, "pre", 5);
    rawwait w = {sub, a, 0, 5};
    CHECK(fake_wait(g_loop, rawsub_got_all, &w, 5000));
    redis_fx_stop(&s);
    /* informative: after 1 s, A's poll may have counted the subscriber anyway */
    fprintf(stderr, "server stopped %llu ms after the subscriber joined\n",
            redis_fx_now_ms() - t0);
    close(sub->fd);
    sub->fd = -1;
    CHECK(fake_wait(g_loop, is_disconnected, a, 5000));
    size_t first = a->nmsg;
    queue_msgs(a, "held", 100);
    CHECK(redis_fx_restart(&s) == 0);
    /* A reconnects and must keep what it holds while only its own subscriber is back. */
    CHECK(fake_wait(g_loop, pub_back, a, 10000));
    fake_run_for(g_loop, 500);
    CHECK(!a->fh.connected);
    CHECK(a->fh.done_ok == 5);
    CHECK(rawsub_open(sub, 26005));
    CHECK(fake_wait(g_loop, rawsub_subscribed, sub, 5000));
    rawwait w2 = {sub, a, first, first + 100};
    CHECK(fake_wait(g_loop, rawsub_got_all, &w2, 10000));
    size_t dups = 0;
    rawsub_count(sub, a, first, first + 100, &dups);
    CHECK(dups == 0);
    CHECK(fake_wait(g_loop, is_connected, a, 5000));
    CHECK(!fake_logged(&a->fh, "publishing on")); /* the wait was met, not given up */
    close(sub->fd);
    free(sub);
    node_close(a);
    redis_fx_stop(&s);
}

int main(int argc, char **argv) {
    if (!redis_fx_available()) {
        fprintf(stderr, "SKIP: redis-server/redis-cli not installed\n");
        return 77;
    }
    g_loop = ag_loop_new();
    const char *only = argc > 1 ? argv[1] : "";
    if (!*only || strstr(only, "single")) test_single();
    if (!*only || strstr(only, "auth")) test_auth();
    if (!*only || strstr(only, "cluster")) test_cluster();
    if (!*only || strstr(only, "sentinel")) test_sentinel();
    if (!*only || strstr(only, "gate")) test_gate();
    ag_loop_free(g_loop);
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    fprintf(stderr, "all Redis backend tests passed\n");
    return 0;
}
