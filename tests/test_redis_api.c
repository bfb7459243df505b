/* test_redis_api.c — the Redis backends through the public API (agora_open ...):
 * 3 nodes all-to-all, every node publishing EVENTS events, none lost or duplicated
 * (single server, 3-master cluster, sentinel; codecs agora and stalwart); a server
 * restart mid-stream; a sentinel failover while events flow; a cluster node dying while
 * events flow; bad credentials.
 * Usage: test_redis_api <scenario>
 *   (single|stalwart|cluster|cluster-stalwart|cluster-down|sentinel|sentinel-stalwart|
 *    restart|failover|auth)
 * Ports 26100-26199 (cluster buses at +500). */
#include "agora.h"
#include "check.h"
#include "proc.h"
#include "redis_fixture.h"
#include "scenario.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NNODES 3
#define MAXEV 100000

typedef struct rnode {
    int id; /* node id 1..3 */
    agora_t *a;
    pthread_mutex_t mu;
    uint8_t *seen[NNODES + 1]; /* [origin][change_id] */
    atomic_ulong got, dups, gap_missed, joined, foreign;
    char log[32768];
    size_t loglen;
} rnode;

static rnode nodes[NNODES + 1];

static void on_event(agora_t *a, const agora_event *ev, void *user) {
    rnode *n = user;
    (void)a;
    if (ev->type == AGORA_EV_GAP) {
        atomic_fetch_add(&n->gap_missed, ev->u.gap.missed);
        return;
    }
    if (ev->type == AGORA_EV_MEMBER_JOINED) {
        atomic_fetch_add(&n->joined, 1);
        return;
    }
    if (ev->type != AGORA_EV_STATE_CHANGE) return;
    uint64_t id = ev->u.state_change.change_id;
    if (ev->node < 1 || ev->node > NNODES || id >= MAXEV || ev->node == n->id ||
        ev->u.state_change.account_id != ev->node) {
        atomic_fetch_add(&n->foreign, 1);
        return;
    }
    pthread_mutex_lock(&n->mu);
    if (n->seen[ev->node][id]++)
        atomic_fetch_add(&n->dups, 1);
    else
        atomic_fetch_add(&n->got, 1);
    pthread_mutex_unlock(&n->mu);
}

static void on_log(agora_log_level lvl, const char *msg, void *user) {
    rnode *n = user;
    if (lvl <= AGORA_LOG_WARN || getenv("REDIS_TEST_VERBOSE")) fprintf(stderr, "[node %d] %s\n", n->id, msg);
    pthread_mutex_lock(&n->mu);
    size_t l = strlen(msg);
    if (n->loglen + l + 2 < sizeof n->log) {
        memcpy(n->log + n->loglen, msg, l);
        n->loglen += l;
        n->log[n->loglen++] = '\n';
        n->log[n->loglen] = 0;
    }
    pthread_mutex_unlock(&n->mu);
}

static const char *extra_settings = ""; /* more node-file members, ",\"key\":value" */

/* Slot `slot` as node `id` (dup_id: two slots share an id). */
static int open_node_as(int slot, int id, const char *codec, const char *coordinator) {
    rnode *n = &nodes[slot];
    memset(n, 0, sizeof *n);
    n->id = id;
    pthread_mutex_init(&n->mu, NULL);
    for (int o = 1; o <= NNODES; o++) n->seen[o] = calloc(MAXEV, 1);
    char json[2048], err[1024];
    snprintf(json, sizeof json,
             "{\"nodeId\":%d,\"codec\":\"%s\",\"outboxLimit\":200000%s,\"coordinator\":%s}", id,
             codec, extra_settings, coordinator);
    agora_config *cfg = agora_config_parse(json, strlen(json), err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "config: %s\n", err);
        return -1;
    }
    agora_options o = {.on_event = on_event,
                       .on_event_user = n,
                       .callbacks_on_io_thread = true,
                       .on_log = on_log,
                       .on_log_user = n,
                       .log_level = AGORA_LOG_DEBUG};
    int rc = agora_open(cfg, &o, &n->a, err, sizeof err);
    agora_config_free(cfg);
    if (rc) fprintf(stderr, "agora_open: %s\n", err);
    return rc;
}

static int open_node(int id, const char *codec, const char *coordinator) {
    return open_node_as(id, id, codec, coordinator);
}

/* Nodes 1..3 on a 3-master cluster at base..base+2, node i on base+i-1 first (each on
 * a different cluster node: delivery crosses the cluster bus), then the next one;
 * `extra` adds coordinator keys (",\"key\":value"). A node that does not open counts
 * as a failure. */
static void open_cluster_nodes(const char *codec, int base, const char *extra) {
    for (int i = 1; i <= NNODES; i++) {
        char coord[512];
        snprintf(coord, sizeof coord,
                 "{\"@type\":\"RedisCluster\",\"urls\":[\"redis://127.0.0.1:%d\","
                 "\"redis://127.0.0.1:%d\"]%s}",
                 base + i - 1, base + i % 3, extra);
        if (open_node(i, codec, coord)) failures++;
    }
}

static void close_nodes(void) {
    for (int i = 1; i <= NNODES; i++) {
        agora_close(nodes[i].a);
        nodes[i].a = NULL;
        for (int o = 1; o <= NNODES; o++) free(nodes[i].seen[o]);
        pthread_mutex_destroy(&nodes[i].mu);
    }
}

static bool connected(int id) {
    agora_status st;
    return agora_get_status(nodes[id].a, &st) == AGORA_OK && st.connected;
}

/* All nodes connected and all three subscribed on the server at `port`. */
static bool wait_ready(int port, int timeout_ms) {
    unsigned long long dl = redis_fx_now_ms() + (unsigned long long)timeout_ms;
    while (redis_fx_now_ms() < dl) {
        bool ok = true;
        for (int i = 1; i <= NNODES; i++) ok = ok && connected(i);
        if (ok && port) {
            redisReply *r = redis_fx_cmd(port, NULL, "PUBSUB NUMSUB stwt.agora");
            ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                 r->element[1]->integer >= NNODES;
            if (r) freeReplyObject(r);
        }
        if (ok) return true;
        ts_sleep_ms(20);
    }
    fprintf(stderr, "nodes did not all connect\n");
    return false;
}

/* Publish `count` StateChange events from every node, change_id from..from+count-1,
 * in slices of `slice` with `pause_ms` between slices; calls mid() once halfway. */
static void publish_all(uint64_t from, uint64_t count, uint64_t slice, int pause_ms,
                        void (*mid)(void)) {
    bool mid_done = false;
    for (uint64_t base = from; base < from + count; base += slice) {
        for (int i = 1; i <= NNODES; i++) {
            for (uint64_t k = base; k < base + slice && k < from + count; k++) {
                agora_event ev;
                memset(&ev, 0, sizeof ev);
                ev.type = AGORA_EV_STATE_CHANGE;
                ev.u.state_change.change_id = k;
                ev.u.state_change.account_id = (uint32_t)i;
                ev.u.state_change.types = 1u << AGORA_DT_MAILBOX;
                int rc = agora_publish(nodes[i].a, &ev);
                if (rc != AGORA_OK) {
                    fprintf(stderr, "agora_publish (node %d, event %llu): %s\n", i, (unsigned long long)k, agora_strerror(rc));
                    failures++;
                    return;
                }
            }
        }
        if (pause_ms) ts_sleep_ms(pause_ms);
        if (mid && !mid_done && base >= from + count / 2) {
            mid_done = true;
            mid();
        }
    }
}

/* Wait until every node got every other node's events [0, total). */
static bool wait_all(uint64_t total, int timeout_ms) {
    unsigned long long dl = redis_fx_now_ms() + (unsigned long long)timeout_ms;
    uint64_t want = total * (NNODES - 1);
    for (;;) {
        bool ok = true;
        for (int i = 1; i <= NNODES; i++) ok = ok && atomic_load(&nodes[i].got) >= want;
        if (ok) return true;
        if (redis_fx_now_ms() > dl) break;
        ts_sleep_ms(20);
    }
    for (int i = 1; i <= NNODES; i++)
        fprintf(stderr, "node %d got %lu of %lu (dups %lu, gap-missed %lu)\n", i,
                atomic_load(&nodes[i].got), (unsigned long)want, atomic_load(&nodes[i].dups),
                atomic_load(&nodes[i].gap_missed));
    return false;
}

static void check_clean(bool native) {
    for (int i = 1; i <= NNODES; i++) {
        CHECK(atomic_load(&nodes[i].dups) == 0);
        CHECK(atomic_load(&nodes[i].foreign) == 0);
        if (native) CHECK(atomic_load(&nodes[i].gap_missed) == 0);
    }
}

static void flush_all(void) {
    for (int i = 1; i <= NNODES; i++) CHECK(agora_flush(nodes[i].a, 60000) == AGORA_OK);
}

/* ---- scenarios ----------------------------------------------------------- */

static void all_to_all(const char *codec, const char *coord, int port) {
    for (int i = 1; i <= NNODES; i++)
        if (open_node(i, codec, coord)) {
            failures++;
            return;
        }
    CHECK(wait_ready(port, 20000));
    unsigned long long t0 = redis_fx_now_ms();
    publish_all(0, MAXEV, 2000, 0, NULL);
    flush_all();
    CHECK(!failures && wait_all(MAXEV, 60000)); /* a refused publish fails at once */
    fprintf(stderr, "3 nodes x %d events all-to-all (%s codec): %llu ms\n", MAXEV, codec,
            redis_fx_now_ms() - t0);
    check_clean(!strcmp(codec, "agora"));
    if (!strcmp(codec, "agora"))
        for (int i = 1; i <= NNODES; i++) CHECK(atomic_load(&nodes[i].joined) >= NNODES - 1);
    close_nodes();
}

static void scenario_single(const char *codec) {
    redis_fx_server s;
    if (redis_fx_start(&s, 26101, NULL)) {
        failures++;
        return;
    }
    all_to_all(codec, "{\"@type\":\"Redis\",\"url\":\"redis://127.0.0.1:26101\"}", 26101);
    redis_fx_stop(&s);
}

static void scenario_cluster(const char *codec) {
    redis_fx_server n[3];
    memset(n, 0, sizeof n);
    if (redis_fx_cluster_start(n, 26110) == 0) {
        open_cluster_nodes(codec, 26110, "");
        if (!failures) {
            CHECK(wait_ready(0, 20000));
            ts_sleep_ms(300);
            publish_all(0, MAXEV, 2000, 0, NULL);
            flush_all();
            CHECK(!failures && wait_all(MAXEV, 60000));
            check_clean(!strcmp(codec, "agora"));
        }
        close_nodes();
    } else {
        failures++;
    }
    for (int i = 0; i < 3; i++) redis_fx_stop(&n[i]);
}

/* The cluster node that node 1 uses dies while events flow: node 1 moves to the next
 * URL. Publishing loses nothing (unacknowledged messages are sent again); what node 1
 * missed while re-subscribing is reported as a Gap, never lost silently. */
static redis_fx_server g_cl[3];
static void do_kill_node(void) {
    fprintf(stderr, "-- killing cluster node 127.0.0.1:26160\n");
    redis_fx_kill(&g_cl[0]);
}

static void scenario_cluster_down(void) {
    memset(g_cl, 0, sizeof g_cl);
    if (redis_fx_cluster_start(g_cl, 26160) == 0) {
        open_cluster_nodes("agora", 26160, ",\"minRetryWait\":\"50ms\",\"maxRetryWait\":\"1s\"");
        if (!failures) {
            CHECK(wait_ready(0, 20000));
            ts_sleep_ms(300);
            publish_all(0, 20000, 200, 20, do_kill_node);
            flush_all();
            /* the others (on live nodes) get everything; node 1 gets everything or a Gap */
            unsigned long long dl = redis_fx_now_ms() + 30000;
            uint64_t want = 20000 * (NNODES - 1);
            while (redis_fx_now_ms() < dl &&
                   !(atomic_load(&nodes[2].got) >= want && atomic_load(&nodes[3].got) >= want &&
                     atomic_load(&nodes[1].got) + atomic_load(&nodes[1].gap_missed) >= want))
                ts_sleep_ms(20);
            for (int i = 1; i <= NNODES; i++) {
                fprintf(stderr, "node %d got %lu of %lu, gap-missed %lu, dups %lu\n", i,
                        atomic_load(&nodes[i].got), (unsigned long)want,
                        atomic_load(&nodes[i].gap_missed), atomic_load(&nodes[i].dups));
                CHECK(atomic_load(&nodes[i].got) + atomic_load(&nodes[i].gap_missed) >= want);
                CHECK(atomic_load(&nodes[i].dups) == 0);
            }
            CHECK(atomic_load(&nodes[2].got) >= want && atomic_load(&nodes[3].got) >= want);
            agora_status st;
            agora_get_status(nodes[1].a, &st);
            CHECK(st.connected && strcmp(st.server, "127.0.0.1:26161") == 0 && st.reconnects >= 1);
            /* and the flow goes on */
            publish_all(20000, 1000, 1000, 0, NULL);
            flush_all();
            dl = redis_fx_now_ms() + 10000;
            while (redis_fx_now_ms() < dl && atomic_load(&nodes[1].got) + atomic_load(&nodes[1].gap_missed) < 21000 * (NNODES - 1))
                ts_sleep_ms(20);
            CHECK(atomic_load(&nodes[1].got) + atomic_load(&nodes[1].gap_missed) >= 21000 * (NNODES - 1));
        }
        close_nodes();
    } else {
        failures++;
    }
    for (int i = 0; i < 3; i++) redis_fx_stop(&g_cl[i]);
}

static const char *sentinel_coord =
    "{\"@type\":\"RedisSentinel\",\"urls\":[\"redis://127.0.0.1:26122\"],"
    "\"serviceName\":\"mymaster\"}";

static void scenario_sentinel(const char *codec) {
    redis_fx_sentinel st;
    if (redis_fx_sentinel_start(&st, 26120) == 0)
        all_to_all(codec, sentinel_coord, 26120);
    else
        failures++;
    redis_fx_sentinel_stop(&st);
}

static redis_fx_server g_restart;
static void do_restart(void) {
    fprintf(stderr, "-- stopping the server mid-stream\n");
    redis_fx_stop(&g_restart);
    ts_sleep_ms(1500); /* events keep being published into the outboxes */
    fprintf(stderr, "-- starting it again\n");
    CHECK(redis_fx_restart(&g_restart) == 0);
}

static void scenario_restart(void) {
    if (redis_fx_start(&g_restart, 26131, NULL)) {
        failures++;
        return;
    }
    for (int i = 1; i <= NNODES; i++)
        if (open_node(i, "agora", "{\"@type\":\"Redis\",\"url\":\"redis://127.0.0.1:26131\"}"))
            failures++;
    CHECK(wait_ready(26131, 20000));
    /* 30,000 events per node over ~3 s, the server away for 1.5 s in the middle */
    publish_all(0, 30000, 300, 30, do_restart);
    flush_all();
    CHECK(wait_all(30000, 60000));
    check_clean(true);
    for (int i = 1; i <= NNODES; i++) {
        agora_status s;
        agora_get_status(nodes[i].a, &s);
        CHECK(s.reconnects >= 1 && s.connected && s.dropped == 0);
        CHECK(strstr(nodes[i].log, "disconnected") != NULL);
    }
    close_nodes();
    redis_fx_stop(&g_restart);
}

static redis_fx_sentinel g_st;
static void do_failover(void) {
    fprintf(stderr, "-- sentinel failover\n");
    int np = redis_fx_sentinel_failover(&g_st, 30000);
    CHECK(np == 26141);
}

static void scenario_failover(void) {
    if (redis_fx_sentinel_start(&g_st, 26140)) {
        failures++;
        redis_fx_sentinel_stop(&g_st);
        return;
    }
    for (int i = 1; i <= NNODES; i++)
        if (open_node(i, "agora", "{\"@type\":\"RedisSentinel\",\"urls\":[\"redis://127.0.0.1:26142\"],"
                                  "\"serviceName\":\"mymaster\"}"))
            failures++;
    CHECK(wait_ready(26140, 20000));
    publish_all(0, 30000, 300, 30, do_failover);
    flush_all();
    bool all = wait_all(30000, 60000);
    CHECK(all);
    check_clean(true);
    for (int i = 1; i <= NNODES; i++) {
        agora_status s;
        agora_get_status(nodes[i].a, &s);
        CHECK(s.connected && strcmp(s.server, "127.0.0.1:26141") == 0);
    }
    close_nodes();
    redis_fx_sentinel_stop(&g_st);
}

static void scenario_auth(void) {
    redis_fx_server s;
    if (redis_fx_start(&s, 26151, "requirepass s3cret\n")) {
        failures++;
        return;
    }
    CHECK(open_node(1, "agora", "{\"@type\":\"Redis\",\"url\":\"redis://:nope@127.0.0.1:26151\"}") == 0);
    CHECK(open_node(2, "agora", "{\"@type\":\"RedisSentinel\",\"urls\":[\"redis://127.0.0.1:26151\"],"
                                "\"serviceName\":\"mymaster\",\"sentinelSecret\":\"nope\"}") == 0);
    CHECK(open_node(3, "agora", "{\"@type\":\"Redis\",\"url\":\"redis://:s3cret@127.0.0.1:26151\"}") == 0);
    unsigned long long dl = redis_fx_now_ms() + 10000;
    while (redis_fx_now_ms() < dl && !connected(3)) ts_sleep_ms(20);
    ts_sleep_ms(500);
    agora_status st;
    agora_get_status(nodes[1].a, &st);
    CHECK(!st.connected && strcmp(st.server, "127.0.0.1:26151") == 0);
    CHECK(connected(3));
    pthread_mutex_lock(&nodes[1].mu);
    CHECK(strstr(nodes[1].log, "redis 127.0.0.1:26151: authentication failed: WRONGPASS") != NULL);
    CHECK(strstr(nodes[1].log, "nope") == NULL);
    pthread_mutex_unlock(&nodes[1].mu);
    pthread_mutex_lock(&nodes[2].mu);
    CHECK(strstr(nodes[2].log, "redis 127.0.0.1:26151: authentication failed: WRONGPASS") != NULL);
    pthread_mutex_unlock(&nodes[2].mu);
    CHECK(!connected(2));
    close_nodes();
    redis_fx_stop(&s);
}

static bool logged(int slot, const char *needle) {
    pthread_mutex_lock(&nodes[slot].mu);
    bool yes = strstr(nodes[slot].log, needle) != NULL;
    pthread_mutex_unlock(&nodes[slot].mu);
    return yes;
}

static int count_logged(int slot, const char *needle) {
    int k = 0;
    pthread_mutex_lock(&nodes[slot].mu);
    for (const char *p = nodes[slot].log; (p = strstr(p, needle)) != NULL; p++) k++;
    pthread_mutex_unlock(&nodes[slot].mu);
    return k;
}

/* Two processes with node id 1 on one bus (slots 1 and 3), and node 2: both
 * duplicates say another process uses their id, node 2 says two processes share
 * id 1; each rate-limited. */
static void scenario_dup_id(void) {
    redis_fx_server s;
    if (redis_fx_start(&s, 26181, NULL)) {
        failures++;
        return;
    }
    const char *coord = "{\"@type\":\"Redis\",\"url\":\"redis://127.0.0.1:26181\"}";
    extra_settings = ",\"heartbeatInterval\":\"100ms\",\"failureTimeout\":\"1s\"";
    CHECK(open_node_as(1, 1, "agora", coord) == 0);
    CHECK(open_node_as(2, 2, "agora", coord) == 0);
    ts_sleep_ms(5); /* a later incarnation for slot 3 */
    CHECK(open_node_as(3, 1, "agora", coord) == 0);
    extra_settings = "";
    if (!failures) {
        unsigned long long dl = redis_fx_now_ms() + 15000;
        while (redis_fx_now_ms() < dl &&
               !(logged(1, "another process uses this node's id 1") &&
                 logged(3, "another process uses this node's id 1") &&
                 logged(2, "two processes use node id 1")))
            ts_sleep_ms(50);
        CHECK(logged(1, "another process uses this node's id 1"));
        CHECK(logged(3, "another process uses this node's id 1"));
        CHECK(logged(2, "two processes use node id 1"));
        CHECK(logged(2, "both keep sending"));
        ts_sleep_ms(1500); /* ~15 heartbeats from each more: still one line per 10 s */
        CHECK(count_logged(1, "another process uses") == 1);
        CHECK(count_logged(2, "two processes use node id 1") == 1);
        CHECK(!logged(2, "another process uses"));
    }
    close_nodes();
    redis_fx_stop(&s);
}

/* The scenarios that run in either codec. */
static void single_agora(void) { scenario_single("agora"); }
static void single_stalwart(void) { scenario_single("stalwart"); }
static void cluster_agora(void) { scenario_cluster("agora"); }
static void cluster_stalwart(void) { scenario_cluster("stalwart"); }
static void sentinel_agora(void) { scenario_sentinel("agora"); }
static void sentinel_stalwart(void) { scenario_sentinel("stalwart"); }

int main(int argc, char **argv) {
    if (!redis_fx_available()) {
        fprintf(stderr, "SKIP: redis-server/redis-cli not installed\n");
        return 77;
    }
    static const ts_scenario scenarios[] = {
        {"single", .fn = single_agora},
        {"stalwart", .fn = single_stalwart},
        {"cluster", .fn = cluster_agora},
        {"cluster-stalwart", .fn = cluster_stalwart},
        {"cluster-down", .fn = scenario_cluster_down},
        {"sentinel", .fn = sentinel_agora},
        {"sentinel-stalwart", .fn = sentinel_stalwart},
        {"restart", .fn = scenario_restart},
        {"failover", .fn = scenario_failover},
        {"auth", .fn = scenario_auth},
        {"dup-id", .fn = scenario_dup_id},
    };
    return ts_run_scenarios(scenarios, TS_COUNT(scenarios), argc > 1 ? argv[1] : "single",
                            &failures);
}
