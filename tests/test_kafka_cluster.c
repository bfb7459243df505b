/* test_kafka_cluster.c — agora nodes over a real Apache Kafka broker, each node its own
 * process (this program re-executed as "node ID BROKERS"), through the public API:
 *   1. 3 nodes all-to-all, 100,002 events: none lost, none duplicated, in order per origin
 *   2. SIGKILL one node, publish 10,000 from the others, restart it: it receives all
 *      10,000 once each and nothing older
 *   3. broker restarted while events flow: nothing lost, nothing duplicated
 *   4. unreachable broker: agora_open succeeds, status says disconnected
 * Ports 29200-29201 (broker), 29209 (nothing listens). */
#include "agora.h"
#include "kafka_fixture.h"
#include "proc.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef KAFKA_FX_ENABLED
int main(void) {
    puts("librdkafka headers missing: skipped");
    return 77;
}
#else

#define PORT 29200
#define DEAD_PORT 29209
#define GROUP "kct"
#define MAXIDX 200000
#define NNODES 3

#include "check.h"

static unsigned long long now_ms(void) { return kafka_fx_now_ms(); }

static agora_config *node_config(int id, const char *brokers) {
    return kafka_fx_agora_config(id, brokers, GROUP, "");
}

/* ======================= the node process ================================= */
/* Commands on stdin, one per line; one reply line on stdout each:
 *   publish FIRST LAST RATE  publish StateChange events with change_id FIRST..LAST
 *                            (RATE events/s, 0 = at once); reply "published" once
 *                            agora_flush says they were all acknowledged
 *   stats                    "stats ALIVE GAPS DUPS OOO [U MIN MAX] x3" where U is the
 *                            number of distinct ids received from node 1..3, MIN/MAX
 *                            the smallest/largest
 *   quit                     agora_close, exit 0 */

typedef struct origin_rx {
    unsigned char *seen; /* MAXIDX+1 */
    uint64_t unique, min, max, last;
} origin_rx;

static void node_log(agora_log_level level, const char *msg, void *user) {
    (void)user;
    if (level <= AGORA_LOG_INFO) fprintf(stderr, "  %s\n", msg);
}

static int node_main(int id, const char *brokers) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    agora_config *cfg = node_config(id, brokers);
    if (!cfg) return 2;
    agora_options opts;
    memset(&opts, 0, sizeof opts);
    opts.on_log = node_log;
    agora_t *a = NULL;
    char err[512];
    int rc = agora_open(cfg, &opts, &a, err, sizeof err);
    agora_config_free(cfg);
    if (rc != AGORA_OK) {
        fprintf(stderr, "node %d: agora_open: %s\n", id, err);
        return 2;
    }
    origin_rx rx[NNODES + 1];
    memset(rx, 0, sizeof rx);
    for (int i = 1; i <= NNODES; i++) {
        rx[i].seen = calloc(MAXIDX + 1, 1);
        rx[i].min = UINT64_MAX;
    }
    uint64_t gaps = 0, dups = 0, ooo = 0, foreign = 0;
    uint64_t pub_next = 0, pub_end = 0, pub_rate = 0, pub_first = 0;
    unsigned long long pub_t0 = 0;
    bool publishing = false;
    ts_line_in in = {0};
    bool quit = false;
    while (!quit) {
        struct pollfd p[2] = {{0, POLLIN, 0}, {agora_fd(a), POLLIN, 0}};
        poll(p, 2, 20);
        agora_event ev;
        while (agora_next_event(a, &ev, 0) == AGORA_OK) {
            if (ev.type == AGORA_EV_GAP) {
                gaps++;
                fprintf(stderr, "node %d: Gap from node %u (%" PRIu64 " missed)\n", id, ev.node,
                        ev.u.gap.missed);
            } else if (ev.type == AGORA_EV_STATE_CHANGE && ev.node >= 1 && ev.node <= NNODES &&
                       ev.u.state_change.change_id <= MAXIDX) {
                origin_rx *o = &rx[ev.node];
                uint64_t i = ev.u.state_change.change_id;
                if (o->seen[i]) {
                    dups++;
                } else {
                    o->seen[i] = 1;
                    o->unique++;
                    if (i < o->min) o->min = i;
                    if (i > o->max) o->max = i;
                    if (i < o->last) ooo++;
                    o->last = i;
                }
            } else if (ev.type == AGORA_EV_STATE_CHANGE) {
                foreign++;
            }
            agora_event_clear(&ev);
        }
        if (publishing && pub_next <= pub_end) {
            uint64_t due = pub_end;
            if (pub_rate) {
                uint64_t n = (now_ms() - pub_t0) * pub_rate / 1000 + 1;
                due = pub_first + n - 1 < pub_end ? pub_first + n - 1 : pub_end;
            }
            agora_event evs[256];
            while (pub_next <= due) {
                size_t k = 0;
                while (k < 256 && pub_next <= due) {
                    memset(&evs[k], 0, sizeof evs[k]);
                    evs[k].type = AGORA_EV_STATE_CHANGE;
                    evs[k].u.state_change.change_id = pub_next++;
                    evs[k].u.state_change.types = 1u << AGORA_DT_EMAIL;
                    evs[k].u.state_change.account_id = 42;
                    k++;
                }
                int prc = agora_publish_many(a, evs, k);
                if (prc != AGORA_OK) {
                    fprintf(stderr, "node %d: publish: %s\n", id, agora_strerror(prc));
                    return 3;
                }
            }
        }
        if (publishing && pub_next > pub_end && agora_flush(a, 0) == AGORA_OK) {
            publishing = false;
            printf("published\n");
        }
        if (!(p[0].revents & (POLLIN | POLLHUP))) continue;
        if (!ts_line_in_fill(&in, 0)) break; /* parent gone */
        for (const char *line; (line = ts_line_in_next(&in));) {
            unsigned long long f, l, rate;
            if (sscanf(line, "publish %llu %llu %llu", &f, &l, &rate) == 3) {
                pub_first = pub_next = f;
                pub_end = l;
                pub_rate = rate;
                pub_t0 = now_ms();
                publishing = true;
            } else if (strcmp(line, "stats") == 0) {
                agora_member m[16];
                int n = agora_members(a, m, 16), alive = 0;
                for (int i = 0; i < n && i < 16; i++)
                    if (!m[i].self && m[i].state == AGORA_MEMBER_ALIVE) alive++;
                printf("stats %d %" PRIu64 " %" PRIu64 " %" PRIu64, alive, gaps, dups, ooo);
                for (int i = 1; i <= NNODES; i++)
                    printf(" %" PRIu64 " %" PRIu64 " %" PRIu64, rx[i].unique,
                           rx[i].unique ? rx[i].min : 0, rx[i].max);
                printf("\n");
            } else if (strcmp(line, "quit") == 0) {
                quit = true;
            }
        }
    }
    agora_close(a);
    for (int i = 1; i <= NNODES; i++) free(rx[i].seen);
    return 0;
}

/* ======================= the orchestrator ================================ */

typedef ts_child node; /* this program re-executed as "node ID BROKERS"; id: its node id */

typedef struct stats {
    int alive;
    uint64_t gaps, dups, ooo;
    uint64_t unique[NNODES + 1], min[NNODES + 1], max[NNODES + 1];
} stats;

static char self_exe[4096];
static char g_brokers[64];

static int node_start(node *n, int id) {
    char ids[16];
    snprintf(ids, sizeof ids, "%d", id);
    const char *argv[] = {self_exe, "node", ids, g_brokers, NULL};
    if (ts_child_exec(n, argv) != 0) return -1;
    n->id = id;
    return 0;
}

static bool node_stats(node *n, stats *s) {
    char line[512];
    ts_child_send(n, "stats");
    if (ts_child_line(n, line, sizeof line, 20000) <= 0) return false;
    memset(s, 0, sizeof *s);
    int off = 0;
    if (sscanf(line, "stats %d %" SCNu64 " %" SCNu64 " %" SCNu64 "%n", &s->alive, &s->gaps,
               &s->dups, &s->ooo, &off) != 4)
        return false;
    const char *p = line + off;
    for (int i = 1; i <= NNODES; i++) {
        int used = 0;
        if (sscanf(p, " %" SCNu64 " %" SCNu64 " %" SCNu64 "%n", &s->unique[i], &s->min[i],
                   &s->max[i], &used) != 3)
            return false;
        p += used;
    }
    return true;
}

static void node_quit(node *n) {
    if (!ts_child_quit(n, 20000)) failures++;
}

/* Wait until every running node sees `want` live others. */
static bool await_alive(node *ns, int count, int want, unsigned long long ms) {
    unsigned long long end = now_ms() + ms;
    for (;;) {
        bool ok = true;
        for (int i = 0; i < count; i++) {
            stats s;
            if (!ns[i].pid) continue;
            if (!node_stats(&ns[i], &s) || s.alive < want) ok = false;
        }
        if (ok) return true;
        if (now_ms() >= end) return false;
        usleep(100000);
    }
}

/* Wait until node n has `want` distinct events from each origin in `want[]`. */
static bool await_unique(node *n, const uint64_t want[NNODES + 1], stats *s,
                         unsigned long long ms) {
    unsigned long long end = now_ms() + ms;
    for (;;) {
        bool ok = node_stats(n, s);
        for (int i = 1; ok && i <= NNODES; i++)
            if (s->unique[i] < want[i]) ok = false;
        if (ok) return true;
        if (now_ms() >= end) return false;
        usleep(100000);
    }
}

static bool await_published(node *n, int ms) {
    char line[128];
    return ts_child_line(n, line, sizeof line, ms) > 0 && strcmp(line, "published") == 0;
}

static void test_unreachable(void) {
    char brokers[32];
    snprintf(brokers, sizeof brokers, "127.0.0.1:%d", DEAD_PORT);
    agora_config *cfg = node_config(9, brokers);
    CHECK(cfg != NULL);
    if (!cfg) return;
    agora_t *a = NULL;
    char err[512];
    int rc = agora_open(cfg, NULL, &a, err, sizeof err);
    agora_config_free(cfg);
    CHECK(rc == AGORA_OK);
    if (rc != AGORA_OK) return;
    agora_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = AGORA_EV_CACHE_INVALIDATE_ALL;
    CHECK(agora_publish(a, &ev) == AGORA_OK);
    usleep(1500 * 1000);
    agora_status st;
    CHECK(agora_get_status(a, &st) == AGORA_OK);
    CHECK(strcmp(st.backend, "Kafka") == 0);
    CHECK(!st.connected);
    CHECK(strstr(st.server, brokers) != NULL);
    CHECK(agora_flush(a, 100) == AGORA_ETIMEDOUT);
    unsigned long long t0 = now_ms();
    agora_close(a);
    unsigned long long took = now_ms() - t0;
    fprintf(stderr, "unreachable: agora_close took %llu ms\n", took);
    /* agora.h's promise: the flush time (the fixture's timeoutMessage, 3 s, equals
     * AGORA_CLOSE_FLUSH_MS) plus AGORA_CLOSE_MARGIN_MS, brokers gone or not */
    CHECKF(took <= 3000 + AGORA_CLOSE_MARGIN_MS, "agora_close took %llu ms", took);
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "node") == 0) return node_main(atoi(argv[2]), argv[3]);
    signal(SIGPIPE, SIG_IGN);
    if (!kafka_fx_available()) {
        puts("java or mvn missing: skipped");
        return 77;
    }
    if (ts_self_exe(self_exe, sizeof self_exe) != 0) return 1;

    test_unreachable();

    static kafka_fx_broker kb;
    if (kafka_fx_start(&kb, PORT) != 0) return 1;
    snprintf(g_brokers, sizeof g_brokers, "%s", kb.brokers);

    node ns[NNODES];
    memset(ns, 0, sizeof ns);
    unsigned long long t0 = now_ms();
    for (int i = 0; i < NNODES; i++) CHECK(node_start(&ns[i], i + 1) == 0);
    CHECK(await_alive(ns, NNODES, NNODES - 1, 90000));
    fprintf(stderr, "cluster formed in %llu ms\n", now_ms() - t0);

    /* 1. all-to-all: each node publishes 33,334 events (100,002 in all). */
    const uint64_t per = 33334;
    t0 = now_ms();
    for (int i = 0; i < NNODES; i++) ts_child_send(&ns[i], "publish 1 %llu 0", (unsigned long long)per);
    for (int i = 0; i < NNODES; i++) CHECK(await_published(&ns[i], 120000));
    for (int i = 0; i < NNODES; i++) {
        uint64_t want[NNODES + 1] = {0};
        for (int o = 1; o <= NNODES; o++) want[o] = o == i + 1 ? 0 : per;
        stats s;
        CHECK(await_unique(&ns[i], want, &s, 120000));
        fprintf(stderr, "node %d: from 1/2/3: %" PRIu64 "/%" PRIu64 "/%" PRIu64
                ", dups %" PRIu64 ", gaps %" PRIu64 ", out of order %" PRIu64 "\n",
                i + 1, s.unique[1], s.unique[2], s.unique[3], s.dups, s.gaps, s.ooo);
        for (int o = 1; o <= NNODES; o++) CHECK(s.unique[o] == want[o]);
        CHECK(s.dups == 0);
        CHECK(s.gaps == 0);
        CHECK(s.ooo == 0);
    }
    fprintf(stderr, "all-to-all: 100,002 events in %llu ms\n", now_ms() - t0);

    /* 2. SIGKILL node 3 once it committed everything it received. */
    char group[64];
    snprintf(group, sizeof group, GROUP "-3");
    int64_t end = kafka_fx_end_offset(kb.brokers);
    unsigned long long dl = now_ms() + 30000;
    int64_t committed = -1;
    while ((committed = kafka_fx_committed(kb.brokers, group)) < end && now_ms() < dl) usleep(100000);
    fprintf(stderr, "node 3 committed %" PRId64 " (end was %" PRId64 ")\n", committed, end);
    CHECK(committed >= end);
    ts_child_kill(&ns[2]);
    ts_child_send(&ns[0], "publish 100001 105000 0");
    ts_child_send(&ns[1], "publish 100001 105000 0");
    CHECK(await_published(&ns[0], 60000));
    CHECK(await_published(&ns[1], 60000));
    t0 = now_ms();
    CHECK(node_start(&ns[2], 3) == 0);
    {
        uint64_t want[NNODES + 1] = {0, 5000, 5000, 0};
        stats s;
        CHECK(await_unique(&ns[2], want, &s, 90000));
        fprintf(stderr, "restarted node 3 after %llu ms: from 1: %" PRIu64 " [%" PRIu64 "..%" PRIu64
                "], from 2: %" PRIu64 " [%" PRIu64 "..%" PRIu64 "], dups %" PRIu64 "\n",
                now_ms() - t0, s.unique[1], s.min[1], s.max[1], s.unique[2], s.min[2], s.max[2],
                s.dups);
        usleep(500 * 1000);
        CHECK(node_stats(&ns[2], &s));
        CHECK(s.unique[1] == 5000 && s.min[1] == 100001 && s.max[1] == 105000);
        CHECK(s.unique[2] == 5000 && s.min[2] == 100001 && s.max[2] == 105000);
        CHECK(s.dups == 0);
    }
    CHECK(await_alive(ns, NNODES, NNODES - 1, 30000));

    /* 3. Broker restart while events flow: 1 and 2 publish 8,000 each at 1,000/s;
     * the broker is stopped after 2 s and started again. */
    stats base[NNODES];
    for (int i = 0; i < NNODES; i++) CHECK(node_stats(&ns[i], &base[i]));
    ts_child_send(&ns[0], "publish 110001 118000 1000");
    ts_child_send(&ns[1], "publish 110001 118000 1000");
    usleep(2000 * 1000);
    t0 = now_ms();
    kafka_fx_stop(&kb);
    fprintf(stderr, "broker stopped in %llu ms\n", now_ms() - t0);
    CHECK(kafka_fx_restart(&kb) == 0);
    fprintf(stderr, "broker was down for %llu ms\n", now_ms() - t0);
    CHECK(await_published(&ns[0], 120000));
    CHECK(await_published(&ns[1], 120000));
    for (int i = 0; i < NNODES; i++) {
        uint64_t want[NNODES + 1] = {0};
        for (int o = 1; o <= 2; o++)
            want[o] = o == i + 1 ? base[i].unique[o] : base[i].unique[o] + 8000;
        stats s;
        CHECK(await_unique(&ns[i], want, &s, 120000));
        fprintf(stderr, "after broker restart, node %d: from 1: %" PRIu64 ", from 2: %" PRIu64
                ", dups %" PRIu64 ", gaps %" PRIu64 "\n", i + 1, s.unique[1] - base[i].unique[1],
                s.unique[2] - base[i].unique[2], s.dups, s.gaps);
        CHECK(s.dups == 0);
        CHECK(s.gaps == 0);
        for (int o = 1; o <= 2; o++) CHECK(s.unique[o] == want[o]);
    }

    for (int i = 0; i < NNODES; i++) node_quit(&ns[i]);
    kafka_fx_stop(&kb);
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
#endif
