/* test_dispatch_limit.c — the bounded delivery queue (agora_options.max_queued_events),
 * with five PeerToPeer nodes in this process on 127.0.0.1 (ports 31471-31475). Nodes
 * 1 and 3 publish; the applications of nodes 2 (limit 1,000), 4 (limit 100) and 5
 * (default limit) stop taking events meanwhile:
 *   one origin   node 1 publishes 5,000 events: node 2's queue never holds more than
 *                1,000 (agora_status.queue_depth), the drops are counted
 *                (queue_dropped) and logged (rate-limited), and once it dispatches it
 *                gets one Gap from node 1 whose `missed` accounts for every dropped
 *                event, followed by the newest events, in order, up to the last one
 *                published; node 5 (default limit) keeps all 5,000
 *   two origins  nodes 1 and 3 publish 300 each: node 4 (limit 100) gets a Gap naming
 *                itself ("resynchronise everything"); nodes 2 and 5 lose nothing
 *   tickets      what the Kafka backend relies on (host->consumed): payloads whose
 *                events wait in the queue, or are inside an agora_dispatch callback,
 *                are not consumed; once dispatch returns they are */
#include "agora.h"
#include "core/coord.h" /* the tickets a backend sees (host->consumed) */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"

#define SECRET "dispatch-limit-secret"
#define BASE_PORT 31470
#define NNODES 5

static unsigned long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000ull + (unsigned long long)ts.tv_nsec / 1000000ull;
}

static void pause_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* What node 2's application saw. */
typedef struct rx {
    unsigned full_logs;  /* "delivery queue full" warnings */
    unsigned gaps;
    uint16_t gap_node;
    uint64_t gap_missed;
    bool gap_first;      /* the Gap came before every StateChange */
    uint64_t changes[NNODES + 1], last[NNODES + 1];
    bool in_order;
    ag_host *probe;          /* set: read probe->consumed inside the callback */
    uint64_t probe_max;
} rx;

static rx g_rx[NNODES + 1];

static void on_log(agora_log_level level, const char *msg, void *user) {
    rx *r = user;
    if (r && level == AGORA_LOG_WARN && strstr(msg, "delivery queue full")) r->full_logs++;
    if (level <= AGORA_LOG_WARN || getenv("AGORA_TEST_DEBUG")) fprintf(stderr, "  %s\n", msg);
}

static void on_event(agora_t *a, const agora_event *ev, void *user) {
    (void)a;
    rx *r = user;
    if (r->probe) {
        uint64_t c = r->probe->consumed(r->probe);
        if (c > r->probe_max) r->probe_max = c;
    }
    if (ev->type == AGORA_EV_GAP) {
        if (r->gaps == 0) {
            uint64_t any = 0;
            for (int i = 1; i <= NNODES; i++) any += r->changes[i];
            r->gap_first = any == 0;
        }
        r->gaps++;
        r->gap_node = ev->node;
        r->gap_missed += ev->u.gap.missed;
    } else if (ev->type == AGORA_EV_STATE_CHANGE && ev->node >= 1 && ev->node <= NNODES) {
        uint64_t id = ev->u.state_change.change_id;
        if (r->changes[ev->node] && id != r->last[ev->node] + 1) r->in_order = false;
        r->changes[ev->node]++;
        r->last[ev->node] = id;
    }
}

static agora_t *open_node(int id, size_t max_queued, rx *r) {
    char json[1024], peers[256] = "", err[1024];
    size_t pl = 0;
    for (int p = 1; p <= NNODES; p++)
        if (p != id)
            pl += (size_t)snprintf(peers + pl, sizeof peers - pl, "%s\"127.0.0.1:%d\"",
                                   pl ? "," : "", BASE_PORT + p);
    snprintf(json, sizeof json,
             "{\"nodeId\":%d,\"heartbeatInterval\":\"200ms\",\"failureTimeout\":\"5s\","
             "\"coordinator\":{\"@type\":\"PeerToPeer\",\"listen\":[\"127.0.0.1:%d\"],"
             "\"peers\":[%s],\"secret\":\"" SECRET "\"}}",
             id, BASE_PORT + id, peers);
    agora_config *cfg = agora_config_parse(json, strlen(json), err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "config: %s\n", err);
        return NULL;
    }
    agora_options o;
    memset(&o, 0, sizeof o);
    o.on_log = on_log;
    o.on_log_user = r;
    o.log_level = getenv("AGORA_TEST_DEBUG") ? AGORA_LOG_DEBUG : AGORA_LOG_WARN;
    o.on_event = r ? on_event : NULL;
    o.on_event_user = r;
    o.max_queued_events = max_queued;
    agora_t *a = NULL;
    if (agora_open(cfg, &o, &a, err, sizeof err) != AGORA_OK) fprintf(stderr, "open: %s\n", err);
    agora_config_free(cfg);
    return a;
}

static int alive_others(agora_t *a) {
    agora_member m[16];
    int n = agora_members(a, m, 16), alive = 0;
    for (int i = 0; i < n && i < 16; i++)
        if (!m[i].self && m[i].state == AGORA_MEMBER_ALIVE) alive++;
    return alive;
}

static bool await_cluster(agora_t **ns, unsigned long long ms) {
    unsigned long long end = now_ms() + ms;
    while (now_ms() < end) {
        bool ok = true;
        for (int i = 0; i < NNODES; i++) {
            /* Alive in the view, and the transport links up (events flow at once). */
            agora_status st;
            if (alive_others(ns[i]) < NNODES - 1 || agora_get_status(ns[i], &st) != AGORA_OK ||
                st.peers < NNODES - 1)
                ok = false;
        }
        if (ok) return true;
        pause_ms(20);
    }
    return false;
}

static void publish_range(agora_t *a, uint64_t first, uint64_t last) {
    agora_event evs[250];
    for (uint64_t id = first; id <= last;) {
        size_t k = 0;
        while (k < 250 && id <= last) {
            memset(&evs[k], 0, sizeof evs[k]);
            evs[k].type = AGORA_EV_STATE_CHANGE;
            evs[k].u.state_change.change_id = id++;
            evs[k].u.state_change.types = 1u << AGORA_DT_EMAIL;
            evs[k].u.state_change.account_id = 7;
            k++;
        }
        CHECK(agora_publish_many(a, evs, k) == AGORA_OK);
    }
}

/* Wait until node b has queued `want` more events than `base` (events_in counts every
 * event from another node handed to the delivery queue; notices are apart), sampling
 * the queue depth meanwhile. */
static bool await_received(agora_t *b, uint64_t base, uint64_t want, uint64_t *max_depth,
                           unsigned long long ms) {
    unsigned long long end = now_ms() + ms;
    for (;;) {
        agora_status st;
        CHECK(agora_get_status(b, &st) == AGORA_OK);
        if (st.queue_depth > *max_depth) *max_depth = st.queue_depth;
        if (st.events_in >= base + want) return true;
        if (now_ms() >= end) return false;
        pause_ms(5);
    }
}

static void reset(agora_t **ns) {
    for (int i = 0; i < NNODES; i++) {
        agora_dispatch(ns[i], 0);
        memset(&g_rx[i + 1], 0, sizeof g_rx[i + 1]);
        g_rx[i + 1].in_order = true;
    }
}

static void test_one_origin(agora_t **ns) {
    agora_t *a = ns[0], *b = ns[1], *d = ns[4];
    rx *r = &g_rx[2];
    const uint64_t total = 5000, limit = 1000;
    reset(ns);
    agora_status st0, std0, st40;
    CHECK(agora_get_status(b, &st0) == AGORA_OK);
    CHECK(agora_get_status(d, &std0) == AGORA_OK);
    CHECK(agora_get_status(ns[3], &st40) == AGORA_OK);
    CHECK(st0.queue_depth == 0);
    CHECK(st0.queue_dropped == 0);
    unsigned long long t0 = now_ms();
    publish_range(a, 1, total);
    CHECK(agora_flush(a, 10000) == AGORA_OK);
    uint64_t max_depth = 0, max_depth_d = 0;
    CHECK(await_received(b, st0.events_in, total, &max_depth, 20000));
    CHECK(await_received(d, std0.events_in, total, &max_depth_d, 20000));
    CHECK(await_received(ns[3], st40.events_in, total, &max_depth_d, 20000));
    agora_status st;
    CHECK(agora_get_status(b, &st) == AGORA_OK);
    fprintf(stderr, "one origin: %llu events in %llu ms; node 2 queue depth %llu (max seen %llu), "
            "dropped %llu, gaps %llu\n", (unsigned long long)total, now_ms() - t0,
            (unsigned long long)st.queue_depth, (unsigned long long)max_depth,
            (unsigned long long)st.queue_dropped, (unsigned long long)st.gaps);
    /* Memory bounded: never more than the limit waiting. */
    CHECK(max_depth <= limit);
    CHECK(st.queue_depth <= limit);
    CHECK(st.queue_depth >= limit - limit / 10 - 1); /* only the oldest tenth goes at once */
    CHECK(st.queue_dropped >= total - limit);
    CHECK(st.gaps > st0.gaps);
    /* Logged, but not once per drop. */
    CHECK(r->full_logs >= 1);
    CHECK(r->full_logs <= 1 + (now_ms() - t0) / 1000);

    /* The application comes back: a Gap first, then the newest events, in order. */
    int n = agora_dispatch(b, 0);
    CHECK(n == (int)st.queue_depth);
    fprintf(stderr, "one origin: node 2 dispatched %d: Gap node %u missed %llu, then %llu "
            "events ending at %llu\n", n, r->gap_node, (unsigned long long)r->gap_missed,
            (unsigned long long)r->changes[1], (unsigned long long)r->last[1]);
    CHECK(r->gaps == 1);
    CHECK(r->gap_first);
    CHECK(r->gap_node == 1);
    CHECK(r->gap_missed + r->changes[1] == total);
    CHECK(r->changes[1] <= limit);
    CHECK(r->last[1] == total);
    CHECK(r->in_order);
    CHECK(agora_get_status(b, &st) == AGORA_OK);
    CHECK(st.queue_depth == 0);

    /* The default limit is far above 5,000: node 5 lost nothing. */
    agora_status std;
    CHECK(agora_get_status(d, &std) == AGORA_OK);
    CHECK(std.queue_dropped == 0);
    CHECK(std.queue_depth >= total);
    CHECK(agora_dispatch(d, 0) >= (int)total);
    CHECK(g_rx[5].gaps == 0 && g_rx[5].changes[1] == total && g_rx[5].in_order);

    /* Events flow normally again. */
    reset(ns);
    agora_status base[NNODES];
    for (int i = 0; i < NNODES; i++) CHECK(agora_get_status(ns[i], &base[i]) == AGORA_OK);
    st0 = base[1];
    publish_range(a, total + 1, total + 10);
    CHECK(agora_flush(a, 10000) == AGORA_OK);
    max_depth = 0;
    for (int i = 1; i < NNODES; i++)
        CHECK(await_received(ns[i], base[i].events_in, 10, &max_depth, 10000));
    CHECK(agora_dispatch(b, 0) == 10);
    CHECK(r->gaps == 0);
    CHECK(r->changes[1] == 10 && r->last[1] == total + 10);
    CHECK(agora_get_status(b, &st) == AGORA_OK);
    CHECK(st.queue_dropped == st0.queue_dropped);
}

static void test_two_origins(agora_t **ns) {
    agora_t *b = ns[3];
    rx *r = &g_rx[4];
    const uint64_t each = 300, limit = 100;
    reset(ns);
    agora_status st0, st, base[NNODES];
    for (int i = 0; i < NNODES; i++) CHECK(agora_get_status(ns[i], &base[i]) == AGORA_OK);
    st0 = base[3];
    /* Interleaved, so that every drop holds events of both origins. */
    for (uint64_t f = 1; f <= each; f += 50) {
        publish_range(ns[0], 100000 + f, 100000 + f + 49);
        publish_range(ns[2], f, f + 49);
        CHECK(agora_flush(ns[0], 10000) == AGORA_OK);
        CHECK(agora_flush(ns[2], 10000) == AGORA_OK);
    }
    uint64_t max_depth = 0, ignored = 0;
    CHECK(await_received(b, st0.events_in, 2 * each, &max_depth, 20000));
    CHECK(agora_get_status(b, &st) == AGORA_OK);
    CHECK(max_depth <= limit && st.queue_depth <= limit);
    CHECK(st.queue_dropped > st0.queue_dropped);
    int n = agora_dispatch(b, 0);
    fprintf(stderr, "two origins: node 4 dispatched %d: Gap node %u missed %llu, then %llu + "
            "%llu events\n", n, r->gap_node, (unsigned long long)r->gap_missed,
            (unsigned long long)r->changes[1], (unsigned long long)r->changes[3]);
    CHECK(r->gaps == 1);
    CHECK(r->gap_first);
    CHECK(r->gap_node == agora_node_id(b)); /* several origins: resynchronise all */
    CHECK(r->gap_missed + r->changes[1] + r->changes[3] == 2 * each);
    /* What is kept is the newest of each origin (which origin arrived last at node 4
     * is up to the two connections, so one of them may have nothing left). */
    CHECK(r->changes[1] + r->changes[3] > 0);
    CHECK(r->changes[1] == 0 || r->last[1] == 100000 + each);
    CHECK(r->changes[3] == 0 || r->last[3] == each);
    CHECK(r->in_order);
    /* Below their limits, nodes 2 and 5 got all 600. */
    for (int id = 2; id <= 5; id += 3) {
        CHECK(await_received(ns[id - 1], base[id - 1].events_in, 2 * each, &ignored, 10000));
        agora_dispatch(ns[id - 1], 0);
        CHECK(g_rx[id].gaps == 0);
        CHECK(g_rx[id].changes[1] == each && g_rx[id].changes[3] == each);
        CHECK(g_rx[id].in_order);
    }
}

static void test_tickets(agora_t **ns) {
    agora_t *b = ns[1];
    ag_host *h = &b->host;
    rx *r = &g_rx[2];
    reset(ns);
    agora_status st0;
    CHECK(agora_get_status(b, &st0) == AGORA_OK);
    publish_range(ns[0], 900001, 900010);
    CHECK(agora_flush(ns[0], 10000) == AGORA_OK);
    uint64_t ignored = 0;
    CHECK(await_received(b, st0.events_in, 10, &ignored, 10000));
    uint64_t held = h->consumed(h), last = h->last_ticket(h);
    CHECK(held < last); /* queued, not consumed */
    pause_ms(300);      /* heartbeats keep arriving: still held back */
    CHECK(h->consumed(h) == held);
    r->probe = h;
    CHECK(agora_dispatch(b, 0) == 10);
    r->probe = NULL;
    fprintf(stderr, "tickets: held at %llu (last %llu), inside the callbacks %llu, after %llu\n",
            (unsigned long long)held, (unsigned long long)last,
            (unsigned long long)r->probe_max, (unsigned long long)h->consumed(h));
    CHECK(r->probe_max == held); /* not while the callbacks run */
    CHECK(h->consumed(h) >= last);
    CHECK(r->changes[1] == 10);
}

int main(void) {
    static const size_t limits[NNODES + 1] = {0, 0, 1000, 0, 100, 0};
    agora_t *ns[NNODES];
    for (int i = 0; i < NNODES; i++) {
        ns[i] = open_node(i + 1, limits[i + 1], &g_rx[i + 1]);
        CHECK(ns[i] != NULL);
        if (!ns[i]) return 1;
    }
    CHECK(await_cluster(ns, 30000));

    test_one_origin(ns);
    test_two_origins(ns);
    agora_status st; /* node 4, just dispatched */
    CHECK(agora_get_status(ns[3], &st) == AGORA_OK);
    char *j = agora_status_to_json(&st);
    CHECK(j && strstr(j, "\"queueDepth\":0") && strstr(j, "\"queueDropped\":") &&
          !strstr(j, "\"queueDropped\":0"));
    free(j);
    test_tickets(ns);

    for (int i = 0; i < NNODES; i++) agora_close(ns[i]);
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
