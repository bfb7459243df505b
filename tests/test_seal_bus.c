/* test_seal_bus.c — sealed messages end to end on real brokers (issue #14), through
 * the public API: nodes with a "secret" on Redis and on NATS.
 *
 *   redis, nats  the two reproducers of the issue with a secret set: a forged BlockIp
 *                from a node that does not exist (published raw on stwt.agora) is
 *                not delivered (0 of N), and an impersonation of a live node with a
 *                huge sequence number costs none of its real events (150 of 150, no
 *                Gap); both are counted (agora_status.rejected). Also: a message
 *                sealed with another secret is refused, and a valid sealed message
 *                published twice opens once (the second is counted in .replayed).
 *   kafka        the same reproducers on Kafka (one KRaft broker), the forged messages
 *                produced raw on stwt.agora with librdkafka
 *   rotation     Redis, 3 nodes under load, secrets ["old"] -> ["old","new"] ->
 *                ["new","old"] -> ["new"], restarting one node at a time: every
 *                event reaches every node that was up when it was sent, no Gap, nothing
 *                rejected (replays are allowed: Redis resends to a subscriber that
 *                missed a message).
 *
 * Usage: test_seal_bus <scenario>. Ports: Redis 26250, NATS 24950, Kafka 29260-29261. */
#include "agora.h"
#include "check.h"
#include "kafka_fixture.h"
#include "nats_fixture.h"
#include "redis_fixture.h"
#include "scenario.h"

#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REDIS_PORT 26250
#define NATS_PORT 24950
#define KAFKA_PORT 29260
#define OLD "old-secret-0123456789abcdef"
#define NEW "new-secret-fedcba9876543210"
#define OTHER "another-cluster-secret-4242"
#define NFORGED 20
#define NREAL 150
#define MAXNODE 16
#define MAXSEQ 200000

typedef struct node {
    int id;
    agora_t *a;
    pthread_mutex_t mu;
    uint8_t *seen[MAXNODE]; /* [origin][change_id]: events received */
    atomic_ulong got, blockip, gaps, foreign;
} node;

static node nodes[MAXNODE];
static char coord_head[256]; /* the coordinator object without its closing brace */

static void on_event(agora_t *a, const agora_event *ev, void *user) {
    (void)a;
    node *n = user;
    switch (ev->type) {
    case AGORA_EV_GAP: atomic_fetch_add(&n->gaps, ev->u.gap.missed); return;
    case AGORA_EV_BLOCK_IP: atomic_fetch_add(&n->blockip, 1); return;
    case AGORA_EV_STATE_CHANGE: break;
    default: return;
    }
    uint64_t id = ev->u.state_change.change_id;
    if (ev->node >= MAXNODE || id >= MAXSEQ) {
        atomic_fetch_add(&n->foreign, 1);
        return;
    }
    pthread_mutex_lock(&n->mu);
    if (!n->seen[ev->node][id]++) atomic_fetch_add(&n->got, 1);
    pthread_mutex_unlock(&n->mu);
}

static void on_log(agora_log_level lvl, const char *msg, void *user) {
    node *n = user;
    if (lvl <= AGORA_LOG_WARN || getenv("SEAL_TEST_VERBOSE")) fprintf(stderr, "[%d] %s\n", n->id, msg);
}

/* Open node `id` with `secret` (a JSON value) in the coordinator; the receive table
 * is kept across a reopen. */
static int open_node(int id, const char *secret) {
    node *n = &nodes[id];
    if (!n->seen[0]) {
        n->id = id;
        pthread_mutex_init(&n->mu, NULL);
        for (int o = 0; o < MAXNODE; o++) n->seen[o] = calloc(MAXSEQ, 1);
    }
    char member[256], coord[512], json[1024], err[1024];
    snprintf(member, sizeof member, ",\"secret\":%s", secret);
    snprintf(coord, sizeof coord, "%s%s}", coord_head, member);
    snprintf(json, sizeof json, "{\"nodeId\":%d,\"outboxLimit\":500000,\"coordinator\":%s}", id,
             coord);
    agora_config *cfg = agora_config_parse(json, strlen(json), err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "config: %s\n", err);
        return -1;
    }
    agora_options o = {.on_event = on_event, .on_event_user = n, .callbacks_on_io_thread = true,
                       .on_log = on_log, .on_log_user = n};
    int rc = agora_open(cfg, &o, &n->a, err, sizeof err);
    agora_config_free(cfg);
    if (rc) fprintf(stderr, "agora_open: %s\n", err);
    return rc;
}

static void close_node(int id) {
    agora_close(nodes[id].a);
    nodes[id].a = NULL;
}

static void free_nodes(void) {
    for (int i = 0; i < MAXNODE; i++) {
        if (nodes[i].a) close_node(i);
        for (int o = 0; o < MAXNODE; o++) free(nodes[i].seen[o]);
        if (nodes[i].seen[0]) pthread_mutex_destroy(&nodes[i].mu);
    }
    memset(nodes, 0, sizeof nodes);
}

static unsigned long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000ull + (unsigned long long)ts.tv_nsec / 1000000ull;
}

/* Wait until cond(arg) holds, up to timeout_ms. */
static bool wait_for(bool (*cond)(void *), void *arg, int timeout_ms) {
    unsigned long long dl = now_ms() + (unsigned long long)timeout_ms;
    while (!cond(arg)) {
        if (now_ms() > dl) return false;
        usleep(10 * 1000);
    }
    return true;
}

/* `a` sees node `b` alive; its incarnation in *inc. */
static bool sees(int a, int b, uint64_t *inc) {
    agora_member m[MAXNODE];
    int n = agora_members(nodes[a].a, m, MAXNODE);
    for (int i = 0; i < n && i < MAXNODE; i++)
        if (m[i].node == b && m[i].state == AGORA_MEMBER_ALIVE) {
            if (inc) *inc = m[i].incarnation;
            return true;
        }
    return false;
}

typedef struct pair {
    int a, b;
} pair;

static bool pair_sees(void *arg) {
    pair *p = arg;
    return sees(p->a, p->b, NULL) && sees(p->b, p->a, NULL);
}

static agora_status status_of(int id) {
    agora_status st;
    agora_get_status(nodes[id].a, &st);
    return st;
}

typedef struct want {
    int id;
    unsigned long n;
} want;

static bool got_at_least(void *arg) {
    want *w = arg;
    return atomic_load(&nodes[w->id].got) >= w->n;
}

static bool rejected_at_least(void *arg) {
    want *w = arg;
    return status_of(w->id).rejected >= w->n;
}

static bool replayed_at_least(void *arg) {
    want *w = arg;
    return status_of(w->id).replayed >= w->n;
}

/* ---- raw publishing ------------------------------------------------------------- */

static void (*raw_publish)(const uint8_t *data, size_t len);

static void redis_publish(const uint8_t *data, size_t len) {
    redisReply *r = redis_fx_cmd(REDIS_PORT, NULL, "PUBLISH stwt.agora %b", data, len);
    CHECK(r != NULL);
    if (r) freeReplyObject(r);
}

static natsConnection *raw_nc;

static void nats_publish(const uint8_t *data, size_t len) {
    CHECK(natsConnection_Publish(raw_nc, "stwt.agora", data, (int)len) == NATS_OK);
    CHECK(natsConnection_Flush(raw_nc) == NATS_OK);
}

#ifdef KAFKA_FX_ENABLED
#include <librdkafka/rdkafka.h>

static rd_kafka_t *raw_rk;

static void kafka_publish(const uint8_t *data, size_t len) {
    rd_kafka_resp_err_t e = rd_kafka_producev(
        raw_rk, RD_KAFKA_V_TOPIC("stwt.agora"), RD_KAFKA_V_PARTITION(0),
        RD_KAFKA_V_VALUE((void *)data, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    CHECKF(e == RD_KAFKA_RESP_ERR_NO_ERROR, "produce: %s", rd_kafka_err2str(e));
    CHECK(rd_kafka_flush(raw_rk, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR);
}
#endif

/* One events message of the agora codec from `origin`, optionally sealed. */
static void make_msg(const agora_event *ev, size_t n, uint16_t origin, uint64_t inc,
                     uint64_t first_seq, const char *secret, uint8_t **out, size_t *len) {
    agora_batch_header h = {.kind = AGORA_BATCH_EVENTS, .node = origin, .incarnation = inc,
                            .first_seq = first_seq};
    char err[256];
    int rc = agora_batch_encode(AGORA_CODEC_AGORA, &h, ev, n, out, len, err, sizeof err);
    CHECKF(rc == AGORA_OK, "encode: %s", err);
    if (rc != AGORA_OK || !secret) return;
    uint8_t *sealed;
    size_t slen;
    rc = agora_batch_seal(&secret, 1, *out, *len, &sealed, &slen, err, sizeof err);
    CHECKF(rc == AGORA_OK, "seal: %s", err);
    free(*out);
    *out = sealed;
    *len = slen;
}

static agora_event state_change(uint64_t id, uint32_t account) {
    agora_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = AGORA_EV_STATE_CHANGE;
    ev.u.state_change.change_id = id;
    ev.u.state_change.account_id = account;
    ev.u.state_change.types = 1;
    return ev;
}

/* ---- the reproducers ------------------------------------------------------------ */

/* Node 1 receives, node 12 is the live node an attacker impersonates. */
static void reproducers(void) {
    CHECK(open_node(1, "\"" OLD "\"") == 0);
    CHECK(open_node(12, "\"" OLD "\"") == 0);
    pair p = {1, 12};
    CHECK(wait_for(pair_sees, &p, 15000));
    uint64_t inc12 = 0;
    CHECK(sees(1, 12, &inc12));
    unsigned long long rej0 = status_of(1).rejected;

    /* Reproducer 1: a BlockIp of everything, from a node id nobody has. */
    agora_event block;
    memset(&block, 0, sizeof block);
    block.type = AGORA_EV_BLOCK_IP;
    CHECK(agora_ip_prefix_parse("0.0.0.0/0", &block.u.block_ip.address) == AGORA_OK);
    block.u.block_ip.reason = "x";
    uint8_t *msg;
    size_t len;
    make_msg(&block, 1, 99, 1, 1, NULL, &msg, &len);
    for (int i = 0; i < NFORGED; i++) raw_publish(msg, len);
    free(msg);
    /* ... and sealed with a secret this cluster does not have */
    make_msg(&block, 1, 99, 2, 1, OTHER, &msg, &len);
    raw_publish(msg, len);
    free(msg);
    want w = {1, rej0 + NFORGED + 1};
    CHECKF(wait_for(rejected_at_least, &w, 10000), "rejected %llu",
           (unsigned long long)status_of(1).rejected);

    /* Reproducer 2: node 12's own incarnation, a sequence far ahead. */
    agora_event fake = state_change(7, 12);
    make_msg(&fake, 1, 12, inc12, 1000000, NULL, &msg, &len);
    for (int i = 0; i < NFORGED; i++) raw_publish(msg, len);
    free(msg);
    w.n += NFORGED;
    CHECKF(wait_for(rejected_at_least, &w, 10000), "rejected %llu",
           (unsigned long long)status_of(1).rejected);
    for (uint64_t i = 1; i <= NREAL; i++) {
        agora_event ev = state_change(i, 12);
        CHECK(agora_publish(nodes[12].a, &ev) == AGORA_OK);
    }
    CHECK(agora_flush(nodes[12].a, 10000) == AGORA_OK);
    want g = {1, NREAL};
    CHECK(wait_for(got_at_least, &g, 10000));
    CHECKF(atomic_load(&nodes[1].got) == NREAL, "got %lu of %d", atomic_load(&nodes[1].got), NREAL);
    CHECKF(atomic_load(&nodes[1].blockip) == 0, "forged BlockIp delivered %lu times",
           atomic_load(&nodes[1].blockip));
    CHECKF(atomic_load(&nodes[1].gaps) == 0, "gap of %lu", atomic_load(&nodes[1].gaps));
    CHECK(!sees(1, 99, NULL)); /* the forger is no member */

    /* A valid sealed message opens once; the same bytes again are a replay. */
    agora_event one = state_change(5000, 7);
    make_msg(&one, 1, 7, 12345, 1, OLD, &msg, &len);
    raw_publish(msg, len);
    g.n = NREAL + 1;
    CHECK(wait_for(got_at_least, &g, 10000));
    unsigned long long rejected0 = status_of(1).rejected;
    want r = {1, status_of(1).replayed + 1};
    raw_publish(msg, len);
    free(msg);
    CHECK(wait_for(replayed_at_least, &r, 10000));
    CHECKF(status_of(1).rejected == rejected0, "rejected %llu",
           (unsigned long long)status_of(1).rejected);
    CHECKF(atomic_load(&nodes[1].got) == NREAL + 1, "got %lu", atomic_load(&nodes[1].got));
    char *j = agora_status_to_json(&(agora_status){.rejected = 3, .replayed = 1});
    CHECK(j && strstr(j, "\"rejected\":3") && strstr(j, "\"replayed\":1"));
    free(j);
    free_nodes();
}

static int redis_scenario(void) {
    redis_fx_server s;
    if (redis_fx_start(&s, REDIS_PORT, NULL)) return 1;
    snprintf(coord_head, sizeof coord_head,
             "{\"@type\":\"Redis\",\"url\":\"redis://127.0.0.1:%d\"", REDIS_PORT);
    raw_publish = redis_publish;
    reproducers();
    redis_fx_stop(&s);
    return 0;
}

static int nats_scenario(void) {
    nats_srv_opts so = {.port = NATS_PORT};
    nats_srv *s = nats_srv_start(&so);
    if (!s) return 1;
    char url[64];
    snprintf(url, sizeof url, "nats://127.0.0.1:%d", NATS_PORT);
    if (natsConnection_ConnectTo(&raw_nc, url) != NATS_OK) {
        nats_srv_free(s);
        return 1;
    }
    snprintf(coord_head, sizeof coord_head,
             "{\"@type\":\"Nats\",\"addresses\":[\"127.0.0.1:%d\"]", NATS_PORT);
    raw_publish = nats_publish;
    reproducers();
    natsConnection_Destroy(raw_nc);
    raw_nc = NULL;
    nats_srv_free(s);
    return 0;
}

#ifdef KAFKA_FX_ENABLED
static int kafka_scenario(void) {
    kafka_fx_broker k;
    if (kafka_fx_start(&k, KAFKA_PORT)) return 1;
    char e[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (rd_kafka_conf_set(c, "bootstrap.servers", k.brokers, e, sizeof e) != RD_KAFKA_CONF_OK ||
        rd_kafka_conf_set(c, "linger.ms", "0", e, sizeof e) != RD_KAFKA_CONF_OK ||
        !(raw_rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof e))) {
        fprintf(stderr, "raw producer: %s\n", e);
        rd_kafka_conf_destroy(c);
        kafka_fx_stop(&k);
        return 1;
    }
    snprintf(coord_head, sizeof coord_head,
             "{\"@type\":\"Kafka\",\"brokers\":[\"%s\"],\"groupId\":\"seal\","
             "\"timeoutSession\":\"6s\",\"timeoutMessage\":\"3s\"", k.brokers);
    raw_publish = kafka_publish;
    reproducers();
    rd_kafka_destroy(raw_rk);
    raw_rk = NULL;
    kafka_fx_stop(&k);
    return 0;
}
#endif

/* ---- rotation under load ---------------------------------------------------------- */

static atomic_bool load_stop;
static atomic_ulong sent[MAXNODE];   /* events published by each node */
static bool down[MAXNODE];           /* node restarting: publishes nothing */
/* What node r may have missed of node o: o's events in (lo, hi] of each restart of r */
static unsigned long miss_lo[MAXNODE][MAXNODE][4], miss_hi[MAXNODE][MAXNODE][4];
static int nrestarts[MAXNODE];
static pthread_mutex_t down_mu = PTHREAD_MUTEX_INITIALIZER;

static void *load_main(void *arg) {
    (void)arg;
    while (!atomic_load(&load_stop)) {
        for (int id = 1; id <= 3; id++) {
            pthread_mutex_lock(&down_mu);
            if (!down[id]) {
                unsigned long seq = atomic_load(&sent[id]) + 1;
                agora_event ev = state_change(seq, (uint32_t)id);
                if (agora_publish(nodes[id].a, &ev) == AGORA_OK) atomic_store(&sent[id], seq);
            }
            pthread_mutex_unlock(&down_mu);
        }
        usleep(2000);
    }
    return NULL;
}

static bool all_see_all(void *arg) {
    (void)arg;
    for (int a = 1; a <= 3; a++)
        for (int b = 1; b <= 3; b++)
            if (a != b && !sees(a, b, NULL)) return false;
    return true;
}

/* Restart node `id` with `secret` while the others keep publishing. */
static void restart(int id, const char *secret) {
    int k = nrestarts[id]++;
    pthread_mutex_lock(&down_mu);
    down[id] = true;
    for (int o = 1; o <= 3; o++) miss_lo[id][o][k] = atomic_load(&sent[o]);
    pthread_mutex_unlock(&down_mu);
    CHECK(agora_flush(nodes[id].a, 10000) == AGORA_OK);
    close_node(id);
    CHECK(open_node(id, secret) == 0);
    CHECK(wait_for(all_see_all, NULL, 15000));
    pthread_mutex_lock(&down_mu);
    down[id] = false;
    for (int o = 1; o <= 3; o++) miss_hi[id][o][k] = atomic_load(&sent[o]);
    pthread_mutex_unlock(&down_mu);
    usleep(200 * 1000); /* load across the new configuration */
}

static int rotation_scenario(void) {
    redis_fx_server s;
    if (redis_fx_start(&s, REDIS_PORT, NULL)) return 1;
    snprintf(coord_head, sizeof coord_head,
             "{\"@type\":\"Redis\",\"url\":\"redis://127.0.0.1:%d\"", REDIS_PORT);
    for (int id = 1; id <= 3; id++) CHECK(open_node(id, "\"" OLD "\"") == 0);
    CHECK(wait_for(all_see_all, NULL, 15000));
    pthread_t t;
    atomic_store(&load_stop, false);
    pthread_create(&t, NULL, load_main, NULL);
    usleep(200 * 1000);
    const char *steps[] = {"[\"" OLD "\",\"" NEW "\"]", "[\"" NEW "\",\"" OLD "\"]",
                           "\"" NEW "\""};
    for (int st = 0; st < 3; st++)
        for (int id = 1; id <= 3; id++) restart(id, steps[st]);
    atomic_store(&load_stop, true);
    pthread_join(t, NULL);
    for (int id = 1; id <= 3; id++) CHECK(agora_flush(nodes[id].a, 10000) == AGORA_OK);
    /* Every event reaches every node that was up when it was sent: the last one sent
     * by each node reached the others, and no receiver saw a Gap or refused anything. */
    for (int r = 1; r <= 3; r++) {
        for (int o = 1; o <= 3; o++) {
            if (o == r) continue;
            unsigned long last = atomic_load(&sent[o]);
            unsigned long long dl = now_ms() + 10000;
            for (;;) {
                pthread_mutex_lock(&nodes[r].mu);
                bool have = nodes[r].seen[o][last] != 0;
                pthread_mutex_unlock(&nodes[r].mu);
                if (have || now_ms() > dl) break;
                usleep(10000);
            }
            pthread_mutex_lock(&nodes[r].mu);
            unsigned long missing = 0, excused = 0;
            for (unsigned long q = 1; q <= last; q++) {
                if (nodes[r].seen[o][q]) continue;
                bool was_down = false;
                for (int k = 0; k < nrestarts[r]; k++)
                    if (q > miss_lo[r][o][k] && q <= miss_hi[r][o][k]) was_down = true;
                if (was_down) excused++;
                else missing++;
            }
            pthread_mutex_unlock(&nodes[r].mu);
            CHECKF(missing == 0, "node %d misses %lu of node %d's %lu events (%lu more sent "
                   "while it restarted)", r, missing, o, last, excused);
        }
        agora_status st = status_of(r);
        CHECKF(st.rejected == 0, "node %d rejected %llu", r, (unsigned long long)st.rejected);
        CHECKF(atomic_load(&nodes[r].gaps) == 0, "node %d: gap of %lu", r,
               atomic_load(&nodes[r].gaps));
    }
    free_nodes();
    redis_fx_stop(&s);
    return 0;
}

static const ts_scenario scenarios[] = {
    {"redis", NULL, redis_scenario},
    {"nats", NULL, nats_scenario},
#ifdef KAFKA_FX_ENABLED
    {"kafka", NULL, kafka_scenario},
#endif
    {"rotation", NULL, rotation_scenario},
};

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "all";
    /* a missing server skips (77), as the other broker tests do */
    if (!strcmp(which, "nats") ? !nats_fixture_available() : !redis_fx_available()) return 77;
#ifdef KAFKA_FX_ENABLED
    if (!strcmp(which, "kafka") && !kafka_fx_available()) return 77;
#endif
    return ts_run_scenarios(scenarios, TS_COUNT(scenarios), argc > 1 ? argv[1] : "all",
                            &failures);
}
