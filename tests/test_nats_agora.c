/* test_nats_agora.c — agora nodes on NATS through the public API (agora_open with a
 * "Nats" coordinator), against real nats-server processes.
 *
 * Usage: test_nats_agora <case>
 *   alltoall   3 nodes, 100,000 events all-to-all: none lost, none duplicated, in order
 *   restart    the server is restarted mid-stream; the events published during the
 *              outage all arrive; status shows disconnected, then connected again
 *   stalwart   the same all-to-all with codec "stalwart" (Stalwart's own batches)
 *   badauth    wrong credentials: agora_open fails with a clear message
 *   down       server down at start: the node starts, reports disconnected, connects
 *              when the server appears
 *   cluster    2-server NATS cluster; the server node 1 uses is killed (SIGKILL) while
 *              all nodes publish, and restarted: nothing lost, duplicated or reordered
 *   restart-sealed, cluster-sealed
 *              the same with a "secret" on every node (docs/sealing.md): gap repair's
 *              requests, notices and resends are sealed too */
#include "agora.h"
#include "nats_fixture.h"
#include "proc.h"
#include "scenario.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

#define NODES 3
#define MAXEV 40000

typedef struct rnode {
    agora_t *a;
    uint16_t id;
    /* receipts per origin (index = origin id), written on the node's I/O thread */
    uint8_t *seen[NODES + 1];
    uint64_t last[NODES + 1];
    atomic_uint_fast64_t received, dups, disorder, gaps, others;
} rnode;

static void on_event(agora_t *a, const agora_event *ev, void *user) {
    (void)a;
    rnode *n = user;
    if (ev->type == AGORA_EV_GAP) {
        atomic_fetch_add(&n->gaps, ev->u.gap.missed);
        return;
    }
    if (ev->type != AGORA_EV_STATE_CHANGE) {
        atomic_fetch_add(&n->others, 1);
        return;
    }
    uint64_t seq = ev->u.state_change.change_id;
    if (ev->node < 1 || ev->node > NODES || seq == 0 || seq > MAXEV ||
        ev->u.state_change.account_id != ev->node) {
        CHECK(!"unexpected event");
        return;
    }
    if (n->seen[ev->node][seq]++) {
        atomic_fetch_add(&n->dups, 1);
        return;
    }
    if (seq < n->last[ev->node]) atomic_fetch_add(&n->disorder, 1);
    n->last[ev->node] = seq;
    atomic_fetch_add(&n->received, 1);
}

static void quiet_log(agora_log_level level, const char *msg, void *user) {
    (void)user;
    if (level <= AGORA_LOG_WARN || getenv("NATS_TEST_VERBOSE")) fprintf(stderr, "%s\n", msg);
}

/* The *-sealed cases: coordinator keys every node gets (NULL: none). */
static const char *every_node_extra;

static int open_node(rnode *n, uint16_t id, int port, const char *codec, const char *extra,
                     char *err, size_t errlen) {
    char both[512];
    if (every_node_extra) {
        snprintf(both, sizeof both, "%s%s%s", extra ? extra : "", extra ? "," : "",
                 every_node_extra);
        extra = both;
    }
    memset(n, 0, sizeof *n);
    n->id = id;
    for (int i = 0; i <= NODES; i++) n->seen[i] = calloc(MAXEV + 1, 1);
    char json[1024], addr[64] = "";
    if (port) snprintf(addr, sizeof addr, "\"addresses\":[\"127.0.0.1:%d\"],", port);
    snprintf(json, sizeof json,
             "{\"nodeId\":%u,\"codec\":\"%s\",\"coordinator\":{\"@type\":\"Nats\","
             "%s\"timeoutRequest\":\"5s\"%s%s}}",
             id, codec, addr, extra ? "," : "", extra ? extra : "");
    agora_config *cfg = agora_config_parse(json, strlen(json), err, errlen);
    if (!cfg) {
        fprintf(stderr, "config: %s\n", err);
        return AGORA_ECONFIG;
    }
    agora_options o = {.on_event = on_event,
                       .on_event_user = n,
                       .callbacks_on_io_thread = true,
                       .on_log = quiet_log,
                       .log_level = AGORA_LOG_DEBUG};
    int rc = agora_open(cfg, &o, &n->a, err, errlen);
    agora_config_free(cfg);
    return rc;
}

/* Open nodes 1..count on the server at 127.0.0.1:port; -1 (the error printed) if one
 * does not open. */
static int open_nodes(rnode *ns, int count, int port, const char *codec) {
    char err[512];
    for (int i = 0; i < count; i++)
        if (open_node(&ns[i], (uint16_t)(i + 1), port, codec, NULL, err, sizeof err)) {
            fprintf(stderr, "open: %s\n", err);
            return -1;
        }
    return 0;
}

static void close_node(rnode *n) {
    agora_close(n->a);
    n->a = NULL;
    for (int i = 0; i <= NODES; i++) free(n->seen[i]);
}

static bool connected(rnode *n) {
    agora_status st;
    return agora_get_status(n->a, &st) == AGORA_OK && st.connected;
}

static bool wait_connected(rnode *ns, int count, bool want, int timeout_ms) {
    long long deadline = nats_now_ms() + timeout_ms;
    for (;;) {
        bool all = true;
        for (int i = 0; i < count; i++)
            if (connected(&ns[i]) != want) all = false;
        if (all) return true;
        if (nats_now_ms() >= deadline) return false;
        ts_sleep_ms(20);
    }
}

/* Wait until every node got `per_node` events from each other node. */
static bool wait_received(rnode *ns, int count, uint32_t per_node, int timeout_ms) {
    long long deadline = nats_now_ms() + timeout_ms;
    uint64_t want = (uint64_t)per_node * (uint64_t)(count - 1);
    for (;;) {
        bool all = true;
        for (int i = 0; i < count; i++)
            if (atomic_load(&ns[i].received) < want) all = false;
        if (all) return true;
        if (nats_now_ms() >= deadline) {
            for (int i = 0; i < count; i++) {
                fprintf(stderr, "node %u received %llu of %llu (gaps %llu)", ns[i].id,
                        (unsigned long long)atomic_load(&ns[i].received), (unsigned long long)want,
                        (unsigned long long)atomic_load(&ns[i].gaps));
                for (int o = 1; o <= count; o++) {
                    uint32_t have = 0, first_missing = 0;
                    for (uint32_t q = 1; q <= per_node; q++) {
                        if (ns[i].seen[o][q]) have++;
                        else if (!first_missing) first_missing = q;
                    }
                    fprintf(stderr, "; from %d: %u (first missing %u, last %llu)", o, have,
                            first_missing, (unsigned long long)ns[i].last[o]);
                }
                fprintf(stderr, "\n");
            }
            return false;
        }
        ts_sleep_ms(20);
    }
}

static int publish_range(rnode *n, uint32_t from, uint32_t to) {
    for (uint32_t s = from; s <= to; s++) {
        agora_event ev;
        memset(&ev, 0, sizeof ev);
        ev.type = AGORA_EV_STATE_CHANGE;
        ev.u.state_change.change_id = s;
        ev.u.state_change.types = 1u << AGORA_DT_EMAIL;
        ev.u.state_change.account_id = n->id;
        int rc = agora_publish(n->a, &ev);
        if (rc != AGORA_OK) {
            fprintf(stderr, "publish %u: %s\n", s, agora_strerror(rc));
            return rc;
        }
    }
    return AGORA_OK;
}

typedef struct pub_job {
    rnode *n;
    uint32_t from, to, chunk;
    int rc;
} pub_job;

/* Publish in chunks, each handed over before the next: the outbox never overflows. */
static void *pub_main(void *arg) {
    pub_job *j = arg;
    for (uint32_t s = j->from; s <= j->to && j->rc == AGORA_OK; s += j->chunk) {
        uint32_t e = s + j->chunk - 1 > j->to ? j->to : s + j->chunk - 1;
        j->rc = publish_range(j->n, s, e);
        if (j->rc == AGORA_OK && agora_flush(j->n->a, 60000) != AGORA_OK) j->rc = AGORA_ETIMEDOUT;
    }
    return NULL;
}

static void publish_all(rnode *ns, int count, uint32_t from, uint32_t to) {
    pthread_t t[NODES];
    pub_job jobs[NODES];
    for (int i = 0; i < count; i++) {
        jobs[i] = (pub_job){.n = &ns[i], .from = from, .to = to, .chunk = 2000};
        pthread_create(&t[i], NULL, pub_main, &jobs[i]);
    }
    for (int i = 0; i < count; i++) {
        pthread_join(t[i], NULL);
        CHECK(jobs[i].rc == AGORA_OK);
    }
}

static void check_exact(rnode *ns, int count, uint32_t per_node) {
    for (int i = 0; i < count; i++) {
        CHECK(atomic_load(&ns[i].received) == (uint64_t)per_node * (uint64_t)(count - 1));
        CHECK(atomic_load(&ns[i].dups) == 0);
        CHECK(atomic_load(&ns[i].disorder) == 0);
        CHECK(atomic_load(&ns[i].gaps) == 0);
        CHECK(ns[i].seen[ns[i].id][1] == 0); /* never its own events */
        agora_status st;
        CHECK(agora_get_status(ns[i].a, &st) == AGORA_OK);
        CHECK(st.dropped == 0);
    }
}

static int all_to_all(int port, const char *codec, uint32_t per_node) {
    nats_srv_opts so = {.port = port};
    nats_srv *s = nats_srv_start(&so);
    if (!s) return 1;
    rnode ns[NODES];
    if (open_nodes(ns, NODES, port, codec)) return 1;
    CHECK(wait_connected(ns, NODES, true, 5000));
    agora_status st;
    CHECK(agora_get_status(ns[0].a, &st) == AGORA_OK);
    CHECK(strcmp(st.backend, "Nats") == 0);
    char want[64];
    snprintf(want, sizeof want, "127.0.0.1:%d", port);
    CHECK(strcmp(st.server, want) == 0);
    long long t0 = nats_now_ms();
    publish_all(ns, NODES, 1, per_node);
    CHECK(wait_received(ns, NODES, per_node, 60000));
    fprintf(stderr, "%s: %u events all-to-all (%u per node) in %lld ms\n", codec,
            per_node * NODES, per_node, nats_now_ms() - t0);
    ts_sleep_ms(200); /* late duplicates would show up now */
    check_exact(ns, NODES, per_node);
    for (int i = 0; i < NODES; i++) close_node(&ns[i]);
    nats_srv_free(s);
    return 0;
}

static int case_restart(void) {
    const int port = 24110;
    nats_srv_opts so = {.port = port};
    nats_srv *s = nats_srv_start(&so);
    if (!s) return 1;
    rnode ns[NODES];
    if (open_nodes(ns, NODES, port, "agora")) return 1;
    CHECK(wait_connected(ns, NODES, true, 5000));
    /* Before the outage. */
    publish_all(ns, NODES, 1, 10000);
    nats_srv_stop(s);
    CHECK(wait_connected(ns, NODES, false, 5000));
    /* During the outage: accepted at once (never blocks), queued in the outbox. */
    long long t0 = nats_now_ms();
    for (int i = 0; i < NODES; i++) CHECK(publish_range(&ns[i], 10001, 20000) == AGORA_OK);
    CHECK(nats_now_ms() - t0 < 2000);
    agora_status st;
    CHECK(agora_get_status(ns[0].a, &st) == AGORA_OK);
    CHECK(!st.connected);
    CHECK(st.outbox_depth > 0);
    ts_sleep_ms(1000);
    CHECK(nats_srv_restart(s) == 0);
    CHECK(wait_connected(ns, NODES, true, 10000));
    /* After. */
    publish_all(ns, NODES, 20001, 30000);
    CHECK(wait_received(ns, NODES, 30000, 60000));
    ts_sleep_ms(200);
    for (int i = 0; i < NODES; i++) {
        CHECK(atomic_load(&ns[i].received) == 60000);
        CHECK(atomic_load(&ns[i].gaps) == 0);
        CHECK(atomic_load(&ns[i].disorder) == 0);
        CHECK(agora_get_status(ns[i].a, &st) == AGORA_OK);
        CHECK(st.connected);
        CHECK(st.reconnects == 1);
        CHECK(st.dropped == 0);
        CHECK(st.outbox_depth == 0);
    }
    for (int i = 0; i < NODES; i++) close_node(&ns[i]);
    nats_srv_free(s);
    return 0;
}

static int case_badauth(void) {
    const int port = 24130;
    nats_srv_opts so = {.port = port, .user = "agora", .pass = "right"};
    nats_srv *s = nats_srv_start(&so);
    if (!s) return 1;
    rnode n;
    char err[512] = "";
    int rc = open_node(&n, 1, port, "agora", "\"authUsername\":\"agora\",\"authSecret\":\"wrong\"", err,
                       sizeof err);
    fprintf(stderr, "bad credentials: %s (%s)\n", err, agora_strerror(rc));
    CHECK(rc == AGORA_EAUTH);
    CHECK(strcmp(err, "nats 127.0.0.1:24130: authorization violation") == 0);
    for (int i = 0; i <= NODES; i++) free(n.seen[i]);
    rc = open_node(&n, 1, port, "agora", "\"authUsername\":\"agora\",\"authSecret\":\"right\"", err,
                   sizeof err);
    CHECK(rc == AGORA_OK);
    if (rc == AGORA_OK) {
        CHECK(wait_connected(&n, 1, true, 5000));
        close_node(&n);
    }
    nats_srv_free(s);
    return 0;
}

static int case_down(void) {
    const int port = 24140;
    rnode ns[2];
    if (open_nodes(ns, 2, port, "agora")) return 1;
    agora_status st;
    CHECK(agora_get_status(ns[0].a, &st) == AGORA_OK);
    CHECK(!st.connected);
    for (int i = 0; i < 2; i++) CHECK(publish_range(&ns[i], 1, 1000) == AGORA_OK);
    ts_sleep_ms(500);
    nats_srv_opts so = {.port = port};
    nats_srv *s = nats_srv_start(&so);
    if (!s) return 1;
    CHECK(wait_connected(ns, 2, true, 5000));
    CHECK(wait_received(ns, 2, 1000, 20000));
    CHECK(agora_get_status(ns[0].a, &st) == AGORA_OK);
    CHECK(st.connected && st.reconnects == 0);
    for (int i = 0; i < 2; i++) close_node(&ns[i]);
    nats_srv_free(s);
    return 0;
}

typedef struct bg_pub {
    rnode *ns;
    int count;
    uint32_t per_node;
} bg_pub;

static void *bg_main(void *arg) {
    bg_pub *p = arg;
    publish_all(p->ns, p->count, 1, p->per_node);
    return NULL;
}

static int case_cluster(void) {
    int routes_a[] = {24162}, routes_b[] = {24161};
    nats_srv_opts oa = {.port = 24150, .cluster_port = 24161, .monitor_port = 24171,
                        .routes = routes_a, .nroutes = 1};
    nats_srv_opts ob = {.port = 24151, .cluster_port = 24162, .monitor_port = 24172,
                        .routes = routes_b, .nroutes = 1};
    nats_srv *a = nats_srv_start(&oa);
    nats_srv *b = nats_srv_start(&ob);
    if (!a || !b) return 1;
    if (nats_srv_wait_routes(a, 1, 10000) || nats_srv_wait_routes(b, 1, 10000)) return 1;
    rnode ns[NODES];
    char err[512];
    /* Node 1 knows both servers; nodes 2 and 3 only B (they learn A from B). */
    for (int i = 0; i < NODES; i++) {
        int rc;
        if (i == 0) {
            rc = open_node(&ns[i], 1, 0, "agora", "\"addresses\":[\"127.0.0.1:24150\",\"127.0.0.1:24151\"]", err, sizeof err);
        } else {
            rc = open_node(&ns[i], (uint16_t)(i + 1), 24151, "agora", NULL, err, sizeof err);
        }
        if (rc) {
            fprintf(stderr, "open: %s\n", err);
            return 1;
        }
    }
    CHECK(wait_connected(ns, NODES, true, 5000));
    agora_status st;
    CHECK(agora_get_status(ns[0].a, &st) == AGORA_OK);
    nats_srv *used = strcmp(st.server, "127.0.0.1:24150") == 0 ? a : b;
    fprintf(stderr, "cluster: node 1 uses %s\n", st.server);
    const uint32_t per_node = 30000;
    bg_pub job = {.ns = ns, .count = NODES, .per_node = per_node};
    pthread_t t;
    pthread_create(&t, NULL, bg_main, &job);
    long long deadline = nats_now_ms() + 30000;
    while (atomic_load(&ns[0].received) < 10000 && nats_now_ms() < deadline) ts_sleep_ms(1);
    nats_srv_kill(used);
    ts_sleep_ms(1000);
    CHECK(nats_srv_restart(used) == 0);
    pthread_join(t, NULL);
    CHECK(wait_received(ns, NODES, per_node, 60000));
    ts_sleep_ms(200);
    check_exact(ns, NODES, per_node);
    CHECK(agora_get_status(ns[0].a, &st) == AGORA_OK);
    CHECK(st.reconnects >= 1);
    for (int i = 0; i < NODES; i++) close_node(&ns[i]);
    nats_srv_free(a);
    nats_srv_free(b);
    return 0;
}

static int case_alltoall(void) { return all_to_all(24100, "agora", 33334); }
static int case_stalwart(void) { return all_to_all(24120, "stalwart", 33334); }

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s alltoall|restart|stalwart|badauth|down|cluster|all\n", argv[0]);
        return 2;
    }
    if (!nats_fixture_available()) {
        fprintf(stderr, "nats-server not found: skipped\n");
        return 77;
    }
    if (strstr(argv[1], "-sealed")) every_node_extra = "\"secret\":\"nats-test-secret-0123456789\"";
    static const ts_scenario cases[] = {
        {"restart-sealed", .fn_rc = case_restart}, {"cluster-sealed", .fn_rc = case_cluster},
        {"alltoall", .fn_rc = case_alltoall}, {"restart", .fn_rc = case_restart},
        {"stalwart", .fn_rc = case_stalwart}, {"badauth", .fn_rc = case_badauth},
        {"down", .fn_rc = case_down},         {"cluster", .fn_rc = case_cluster},
    };
    return ts_run_scenarios(cases, TS_COUNT(cases), argv[1], &failures);
}
