/* test_kafka_consumed.c — Kafka offsets are committed only once the application has
 * consumed the events, not when they were merely queued for it. Against a real Apache
 * Kafka broker (ports 29160-29161); node 1 publishes from this process, node 2 is a
 * child process (this program re-executed as "node 2 BROKERS"):
 *   1. node 2 takes its events (agora_dispatch): its group's committed offset reaches
 *      the end of the log
 *   2. node 2's application stops dispatching; node 1 publishes 500 events, which
 *      reach node 2's delivery queue: its committed offset stays below them
 *   3. node 2 is SIGKILLed and restarted with the same node id: it receives those
 *      500 events (none older), and once it dispatched them its offset reaches the
 *      end of the log
 *   4. node 2 restarted with max_queued_events 16 holds again while node 1 publishes
 *      20 messages of 100 events: the events its bounded queue drops count as
 *      consumed (a Gap stands for them), so its offset moves on while it holds; after
 *      another SIGKILL and restart it replays only the newest message, not all 2,000
 * Before the fix the offsets were committed as soon as the payloads were queued, so
 * step 3 received nothing. */
#include "agora.h"
#include "kafka_fixture.h"
#include "proc.h"

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

#include "check.h"

#define PORT 29160
#define GROUP "kcs"
#define MAXIDX 10000
#define HELD 500

static unsigned long long now_ms(void) { return kafka_fx_now_ms(); }

static agora_config *node_config(int id, const char *brokers) {
    return kafka_fx_agora_config(id, brokers, GROUP, "\"heartbeatInterval\":\"500ms\",");
}

static void node_log(agora_log_level level, const char *msg, void *user) {
    (void)user;
    if (level <= AGORA_LOG_WARN || getenv("AGORA_TEST_DEBUG")) fprintf(stderr, "  %s\n", msg);
}

/* ======================= node 2, a child process ========================== */
/* Commands on stdin, one reply line each on stdout:
 *   hold   stop calling agora_dispatch              -> "ok"
 *   take   call agora_dispatch again                -> "ok"
 *   stats  "stats ALIVE DEPTH UNIQUE MIN MAX DUPS GAPS" (events from node 1)
 *   quit   agora_close, exit 0 */

typedef struct node_rx {
    unsigned char seen[MAXIDX + 1];
    uint64_t unique, min, max, dups, gaps;
} node_rx;

static void node_event(agora_t *a, const agora_event *ev, void *user) {
    (void)a;
    node_rx *r = user;
    if (ev->type == AGORA_EV_GAP) r->gaps++;
    if (ev->type != AGORA_EV_STATE_CHANGE || ev->node != 1) return;
    uint64_t i = ev->u.state_change.change_id;
    if (i > MAXIDX) return;
    if (r->seen[i]) {
        r->dups++;
        return;
    }
    r->seen[i] = 1;
    r->unique++;
    if (i < r->min) r->min = i;
    if (i > r->max) r->max = i;
}

static int node_main(int id, const char *brokers, size_t max_queued) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    agora_config *cfg = node_config(id, brokers);
    if (!cfg) return 2;
    static node_rx rx;
    rx.min = UINT64_MAX;
    agora_options opts;
    memset(&opts, 0, sizeof opts);
    opts.on_log = node_log;
    opts.on_event = node_event;
    opts.on_event_user = &rx;
    opts.max_queued_events = max_queued;
    agora_t *a = NULL;
    char err[512];
    int rc = agora_open(cfg, &opts, &a, err, sizeof err);
    agora_config_free(cfg);
    if (rc != AGORA_OK) {
        fprintf(stderr, "node %d: agora_open: %s\n", id, err);
        return 2;
    }
    bool hold = false, quit = false;
    ts_line_in in = {0};
    while (!quit) {
        struct pollfd p[2] = {{0, POLLIN, 0}, {agora_fd(a), POLLIN, 0}};
        poll(p, hold ? 1 : 2, 20);
        if (!hold) agora_dispatch(a, 0);
        if (!(p[0].revents & (POLLIN | POLLHUP))) continue;
        if (!ts_line_in_fill(&in, 0)) break; /* parent gone */
        for (const char *line; (line = ts_line_in_next(&in));) {
            if (strcmp(line, "hold") == 0 || strcmp(line, "take") == 0) {
                hold = line[0] == 'h';
                printf("ok\n");
            } else if (strcmp(line, "stats") == 0) {
                agora_member m[8];
                int n = agora_members(a, m, 8), alive = 0;
                for (int i = 0; i < n && i < 8; i++)
                    if (!m[i].self && m[i].state == AGORA_MEMBER_ALIVE) alive++;
                agora_status st;
                agora_get_status(a, &st);
                printf("stats %d %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
                       " %" PRIu64 "\n", alive, st.queue_depth, rx.unique,
                       rx.unique ? rx.min : 0, rx.max, rx.dups, rx.gaps);
            } else if (strcmp(line, "quit") == 0) {
                quit = true;
            }
        }
    }
    agora_close(a);
    return 0;
}

/* ======================= the orchestrator ================================ */

typedef ts_child node; /* node 2: this program re-executed as "node 2 BROKERS MAXQ" */

typedef struct stats {
    int alive;
    uint64_t depth, unique, min, max, dups, gaps;
} stats;

static char self_exe[4096];
static char g_brokers[64];

static int node_start(node *n, int id, int max_queued) {
    char ids[16], mq[16];
    snprintf(ids, sizeof ids, "%d", id);
    snprintf(mq, sizeof mq, "%d", max_queued);
    const char *argv[] = {self_exe, "node", ids, g_brokers, mq, NULL};
    if (ts_child_exec(n, argv) != 0) return -1;
    n->id = id;
    return 0;
}

static bool node_cmd(node *n, const char *cmd) {
    char line[128];
    ts_child_send(n, "%s", cmd);
    return ts_child_line(n, line, sizeof line, 20000) > 0 && strcmp(line, "ok") == 0;
}

static bool node_stats(node *n, stats *s) {
    char line[512];
    ts_child_send(n, "stats");
    if (ts_child_line(n, line, sizeof line, 20000) <= 0) return false;
    memset(s, 0, sizeof *s);
    return sscanf(line, "stats %d %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
                  " %" SCNu64, &s->alive, &s->depth, &s->unique, &s->min, &s->max, &s->dups,
                  &s->gaps) == 7;
}

static void node_quit(node *n) { CHECK(ts_child_quit(n, 20000)); }

/* Poll node n's stats until pred holds or ms pass. */
static uint64_t g_want;
static bool hears_node1(const stats *s) { return s->alive >= 1; }
static bool has_unique(const stats *s) { return s->unique >= g_want; }
static bool has_queued(const stats *s) { return s->depth >= g_want; }

static bool await_stats(node *n, stats *s, bool (*pred)(const stats *), uint64_t want,
                        unsigned long long ms) {
    g_want = want;
    unsigned long long end = now_ms() + ms;
    for (;;) {
        if (node_stats(n, s) && pred(s)) return true;
        if (now_ms() >= end) return false;
        usleep(50000);
    }
}

static void publish_range(agora_t *a, uint64_t first, uint64_t last) {
    agora_event evs[100];
    for (uint64_t id = first; id <= last;) {
        size_t k = 0;
        while (k < 100 && id <= last) {
            memset(&evs[k], 0, sizeof evs[k]);
            evs[k].type = AGORA_EV_STATE_CHANGE;
            evs[k].u.state_change.change_id = id++;
            evs[k].u.state_change.types = 1u << AGORA_DT_EMAIL;
            evs[k].u.state_change.account_id = 42;
            k++;
        }
        CHECK(agora_publish_many(a, evs, k) == AGORA_OK);
    }
}

/* Wait until `group` has committed at least `want`; returns the last value read. */
static int64_t await_committed(const char *group, int64_t want, unsigned long long ms) {
    unsigned long long end = now_ms() + ms;
    int64_t c;
    while ((c = kafka_fx_committed(g_brokers, group)) < want && now_ms() < end) usleep(100000);
    return c;
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "node") == 0)
        return node_main(atoi(argv[2]), argv[3], (size_t)atoi(argv[4]));
    signal(SIGPIPE, SIG_IGN);
    if (!kafka_fx_available()) {
        puts("java or mvn missing: skipped");
        return 77;
    }
    if (ts_self_exe(self_exe, sizeof self_exe) != 0) return 1;

    static kafka_fx_broker kb;
    if (kafka_fx_start(&kb, PORT) != 0) return 1;
    snprintf(g_brokers, sizeof g_brokers, "%s", kb.brokers);
    const char *group = GROUP "-2";

    /* Node 2 first (a child process), then node 1 here. */
    node b;
    memset(&b, 0, sizeof b);
    CHECK(node_start(&b, 2, 0) == 0);
    agora_config *cfg = node_config(1, g_brokers);
    CHECK(cfg != NULL);
    if (!cfg) return 1;
    agora_options o;
    memset(&o, 0, sizeof o);
    o.on_log = node_log; /* node 1 only publishes; nothing but notices reaches it */
    agora_t *a = NULL;
    char err[512];
    int rc = agora_open(cfg, &o, &a, err, sizeof err);
    agora_config_free(cfg);
    CHECK(rc == AGORA_OK);
    if (rc != AGORA_OK) return 1;
    stats s;
    unsigned long long t0 = now_ms();
    CHECK(await_stats(&b, &s, hears_node1, 0, 90000));
    fprintf(stderr, "node 2 hears node 1 after %llu ms\n", now_ms() - t0);

    /* 1. Consumed events are committed. */
    publish_range(a, 1, 100);
    CHECK(agora_flush(a, 30000) == AGORA_OK);
    CHECK(await_stats(&b, &s, has_unique, 100, 60000));
    CHECK(s.unique == 100 && s.min == 1 && s.max == 100);
    int64_t end1 = kafka_fx_end_offset(g_brokers);
    int64_t c1 = await_committed(group, end1, 30000);
    fprintf(stderr, "1. node 2 consumed 100 events; committed %" PRId64 ", end %" PRId64 "\n",
            c1, end1);
    CHECK(c1 >= end1);

    /* 2. Queued but not dispatched: not committed. */
    CHECK(node_cmd(&b, "hold"));
    publish_range(a, 101, 100 + HELD);
    CHECK(agora_flush(a, 30000) == AGORA_OK);
    int64_t end2 = kafka_fx_end_offset(g_brokers);
    CHECK(await_stats(&b, &s, has_queued, HELD, 60000));
    CHECK(s.unique == 100);
    /* Before the fix the offset followed within ~50 ms; give it ten times that. */
    int64_t c2 = -1;
    for (unsigned long long end = now_ms() + 1000; now_ms() < end;) {
        int64_t c = kafka_fx_committed(g_brokers, group);
        if (c > c2) c2 = c;
        usleep(100000);
    }
    fprintf(stderr, "2. node 2 holds %" PRIu64 " queued events; committed %" PRId64 ", end %" PRId64
            "\n", s.depth, c2, end2);
    CHECK(c2 >= end1);  /* what it consumed stays committed */
    CHECK(c2 < end2);   /* what it only queued is not */

    /* 3. Crash with the events queued; the restart replays them. */
    ts_child_kill(&b);
    t0 = now_ms();
    CHECK(node_start(&b, 2, 0) == 0);
    CHECK(await_stats(&b, &s, has_unique, HELD, 90000));
    usleep(300000);
    CHECK(node_stats(&b, &s));
    fprintf(stderr, "3. restarted node 2 after %llu ms: %" PRIu64 " events [%" PRIu64 "..%" PRIu64
            "], dups %" PRIu64 ", gaps %" PRIu64 "\n", now_ms() - t0, s.unique, s.min, s.max,
            s.dups, s.gaps);
    CHECK(s.unique == HELD && s.min == 101 && s.max == 100 + HELD);
    CHECK(s.dups == 0);
    int64_t end3 = kafka_fx_end_offset(g_brokers);
    int64_t c3 = await_committed(group, end3, 30000);
    fprintf(stderr, "3. committed %" PRId64 ", end %" PRId64 "\n", c3, end3);
    CHECK(c3 >= end3);

    /* 4. A bounded queue: what it drops counts as consumed. */
    ts_child_kill(&b);
    CHECK(node_start(&b, 2, 16) == 0);
    CHECK(await_stats(&b, &s, hears_node1, 0, 90000));
    CHECK(node_cmd(&b, "hold"));
    int64_t end4 = kafka_fx_end_offset(g_brokers);
    const uint64_t first4 = 1001, msgs = 20, per = 100, last4 = first4 + msgs * per - 1;
    for (uint64_t m = 0; m < msgs; m++) {
        publish_range(a, first4 + m * per, first4 + m * per + per - 1);
        CHECK(agora_flush(a, 30000) == AGORA_OK); /* one Kafka message each */
    }
    int64_t end5 = kafka_fx_end_offset(g_brokers);
    /* The offset passes the first 19 messages while node 2 still holds. */
    int64_t c4 = await_committed(group, end4 + (int64_t)msgs - 1, 30000);
    CHECK(node_stats(&b, &s));
    fprintf(stderr, "4. node 2 (limit 16) holds %" PRIu64 " events; committed %" PRId64
            " (before the 20 messages %" PRId64 ", after %" PRId64 ")\n", s.depth, c4, end4, end5);
    CHECK(s.depth <= 16);
    CHECK(c4 >= end4 + (int64_t)msgs - 1);
    ts_child_kill(&b);
    t0 = now_ms();
    CHECK(node_start(&b, 2, 0) == 0);
    CHECK(await_stats(&b, &s, has_unique, 1, 90000));
    usleep(1000000);
    CHECK(node_stats(&b, &s));
    fprintf(stderr, "4. restarted node 2 after %llu ms: %" PRIu64 " events [%" PRIu64 "..%" PRIu64
            "]\n", now_ms() - t0, s.unique, s.min, s.max);
    CHECK(s.unique <= per && s.min >= last4 - per + 1 && s.max == last4);

    node_quit(&b);
    agora_close(a);
    kafka_fx_stop(&kb);
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
#endif
