/* test_observer.c — agora_options.observer, and failed / departed members known to
 * everyone (memberRetention), through the public API.
 *
 * One scenario per backend ("p2p": PeerToPeer; "redis", "nats": a real redis-server or
 * nats-server):
 *   - nodes 1 and 2 run in this process; node 3 and node 4 are `agora serve`
 *     children. Node 3 is SIGKILLed (failed), node 4 stopped with SIGTERM (left),
 *     both before the observer starts: it never heard them alive.
 *   - the observer opens with node 2's own configuration (nodeId 2, a live node's
 *     id): agora_node_id is 0, agora_publish says AGORA_EUNSUPPORTED, and its view
 *     lists 1 and 2 alive, 3 failed and 4 left, with their since from the gossip;
 *     no entry for itself.
 *   - events published by node 1 and by node 2 both reach the observer.
 *   - nodes 1 and 2 never report the observer: no MemberJoined / MemberLeft /
 *     MemberFailed for it, no log line about it at info level or above, and their
 *     views list nobody new, before or after the observer closes.
 *   - a node that joins later (node 5, in this process) lists 3 failed and 4 left
 *     too, learned from gossip; one with "memberRetention": 0 (node 6) lists neither.
 * Ports: PeerToPeer 27581-27586; Redis 26230; NATS 24230. */
#include "agora.h"
#include "check.h"
#include "nats_fixture.h"
#include "proc.h"
#include "redis_fixture.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define P2P_BASE 27580
#define REDIS_PORT 26230
#define NATS_PORT 24230

static char dir[256];
static const char *backend; /* "p2p" or "redis" */

/* ---- log lines of the in-process members ---- */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char member_log[1 << 16];
static size_t member_log_len;

static void on_log(agora_log_level level, const char *msg, void *user) {
    (void)user;
    if (getenv("AGORA_TEST_DEBUG")) fprintf(stderr, "log: %s\n", msg);
    if (level > AGORA_LOG_INFO || !strncmp(msg, "observer:", 9)) return;
    pthread_mutex_lock(&log_mu);
    size_t n = strlen(msg);
    if (member_log_len + n + 2 < sizeof member_log) {
        memcpy(member_log + member_log_len, msg, n);
        member_log_len += n;
        member_log[member_log_len++] = '\n';
        member_log[member_log_len] = 0;
    }
    pthread_mutex_unlock(&log_mu);
}

/* The node file of node `id` (written to dir/node<id>.json); its path in out. */
static void node_file(int id, char *out, size_t len) {
    char coord[256];
    if (!strcmp(backend, "p2p"))
        snprintf(coord, sizeof coord,
                 "{\"@type\":\"PeerToPeer\",\"listen\":\"127.0.0.1:%d\",\"peers\":[\"127.0.0.1:%d\"],"
                 "\"secret\":\"observer-test-secret\"}",
                 P2P_BASE + id, P2P_BASE + 1);
    else if (!strcmp(backend, "nats"))
        snprintf(coord, sizeof coord, "{\"@type\":\"Nats\",\"addresses\":[\"127.0.0.1:%d\"]}",
                 NATS_PORT);
    else
        snprintf(coord, sizeof coord, "{\"@type\":\"Redis\",\"url\":\"redis://127.0.0.1:%d\"}",
                 REDIS_PORT);
    snprintf(out, len, "%s/node%d.json", dir, id);
    FILE *f = fopen(out, "w");
    if (!f) return;
    /* failureTimeout at its default: a Redis publisher holds up to 1 s when a
     * subscriber goes away (the observer too), and that must not look like a failure */
    fprintf(f, "{\"nodeId\":%d,\"heartbeatInterval\":\"100ms\",\"failureTimeout\":\"1500ms\","
               "%s\"coordinator\":%s}\n", id, id == 6 ? "\"memberRetention\":0," : "", coord);
    fclose(f);
}

static agora_t *open_node(int id, bool observer) {
    char path[512], err[512];
    node_file(id, path, sizeof path);
    agora_config *cfg = agora_config_load(path, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "config %s: %s\n", path, err);
        return NULL;
    }
    agora_t *a = NULL;
    agora_options o = {.on_log = on_log, .log_level = AGORA_LOG_INFO, .observer = observer};
    if (agora_open(cfg, &o, &a, err, sizeof err)) fprintf(stderr, "agora_open: %s\n", err);
    agora_config_free(cfg);
    return a;
}

static pid_t spawn_serve(int id) {
    char path[512], log[512];
    node_file(id, path, sizeof path);
    snprintf(log, sizeof log, "%s/serve%d.log", dir, id);
    const char *argv[] = {AGORA_BIN, "serve", "--config", path, NULL};
    return ts_spawn(argv, NULL, log);
}

/* The member `node` in a's view, or state -1 when absent. */
static int state_of(agora_t *a, uint16_t node, agora_member *out) {
    agora_member m[32];
    int n = agora_members(a, m, 32);
    for (int k = 0; k < n && k < 32; k++)
        if (m[k].node == node) {
            if (out) *out = m[k];
            return (int)m[k].state;
        }
    return -1;
}

static bool await_state(agora_t *a, uint16_t node, int state, int timeout_ms) {
    uint64_t dl = ts_now_ms() + (uint64_t)timeout_ms;
    while (state_of(a, node, NULL) != state) {
        if (ts_now_ms() > dl) return false;
        ts_sleep_ms(20);
    }
    return true;
}

static int count_members(agora_t *a) { return agora_members(a, NULL, 0); }

/* Take the waiting events for up to timeout_ms: the membership notices about `about`
 * are counted; an application event from node `from` with change id `change` sets
 * *seen (and so does one from `from2` / `want2` set *seen2: the wait ends once both
 * are seen). */
typedef struct wanted {
    int from;
    uint64_t change;
    bool seen;
} wanted;

static int drain(agora_t *a, int about, wanted *w, size_t nw, int timeout_ms) {
    int notices = 0;
    agora_event ev;
    uint64_t dl = ts_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        size_t missing = 0;
        for (size_t i = 0; i < nw; i++) missing += !w[i].seen;
        uint64_t now = ts_now_ms();
        int left = now < dl && (missing || !nw) ? (int)(dl - now) : 0;
        if (agora_next_event(a, &ev, left) != AGORA_OK) break;
        bool member = ev.type == AGORA_EV_MEMBER_JOINED || ev.type == AGORA_EV_MEMBER_LEFT ||
                      ev.type == AGORA_EV_MEMBER_FAILED;
        if (member && (int)ev.node == about) notices++;
        for (size_t i = 0; i < nw; i++)
            if (ev.type == AGORA_EV_STATE_CHANGE && (int)ev.node == w[i].from &&
                ev.u.state_change.change_id == w[i].change)
                w[i].seen = true;
        agora_event_clear(&ev);
    }
    return notices;
}

static int publish(agora_t *a, uint64_t change_id) {
    agora_event ev = {.type = AGORA_EV_STATE_CHANGE};
    ev.u.state_change.account_id = 7;
    ev.u.state_change.change_id = change_id;
    ev.u.state_change.types = 1u << AGORA_DT_EMAIL;
    return agora_publish(a, &ev);
}

static void scenario(void) {
    agora_t *n1 = open_node(1, false), *n2 = open_node(2, false);
    CHECK(n1 && n2);
    if (!n1 || !n2) goto out;
    pid_t p3 = spawn_serve(3), p4 = spawn_serve(4);
    CHECK(p3 > 0 && p4 > 0);
    CHECKF(await_state(n1, 2, AGORA_MEMBER_ALIVE, 10000), "node 1 does not see node 2");
    CHECKF(await_state(n1, 3, AGORA_MEMBER_ALIVE, 10000), "node 1 does not see node 3");
    CHECKF(await_state(n1, 4, AGORA_MEMBER_ALIVE, 10000), "node 1 does not see node 4");
    CHECKF(await_state(n2, 3, AGORA_MEMBER_ALIVE, 10000), "node 2 does not see node 3");
    CHECKF(await_state(n2, 4, AGORA_MEMBER_ALIVE, 10000), "node 2 does not see node 4");
    kill(p3, SIGKILL);
    CHECK(ts_stop_child(p4, SIGTERM, 10000) >= 0);
    ts_stop_child(p3, 0, 5000);
    CHECKF(await_state(n1, 3, AGORA_MEMBER_FAILED, 5000), "node 1: node 3 not failed");
    CHECKF(await_state(n1, 4, AGORA_MEMBER_LEFT, 5000), "node 1: node 4 not left");
    CHECKF(await_state(n2, 3, AGORA_MEMBER_FAILED, 5000), "node 2: node 3 not failed");
    uint64_t down_at = ts_now_ms();
    drain(n1, -1, NULL, 0, 0);
    drain(n2, -1, NULL, 0, 0);
    int view1 = count_members(n1), view2 = count_members(n2);
    CHECKF(view1 == 4 && view2 == 4, "views: %d and %d members", view1, view2);
    pthread_mutex_lock(&log_mu);
    size_t log_mark = member_log_len;
    pthread_mutex_unlock(&log_mu);

    /* the observer, with node 2's own file */
    agora_t *ob = open_node(2, true);
    CHECK(ob != NULL);
    if (ob) {
        CHECK(agora_node_id(ob) == 0);
        CHECK(publish(ob, 1) == AGORA_EUNSUPPORTED);
        CHECKF(await_state(ob, 1, AGORA_MEMBER_ALIVE, 10000), "observer: node 1 not alive");
        CHECKF(await_state(ob, 2, AGORA_MEMBER_ALIVE, 10000), "observer: node 2 not alive");
        CHECKF(await_state(ob, 3, AGORA_MEMBER_FAILED, 10000), "observer: node 3 not failed");
        CHECKF(await_state(ob, 4, AGORA_MEMBER_LEFT, 10000), "observer: node 4 not left");
        agora_member m;
        if (state_of(ob, 3, &m) == AGORA_MEMBER_FAILED) {
            uint64_t age = ts_now_ms() - down_at;
            CHECKF(m.state_since_ms + 300 >= age, "node 3 failed %llu ms ago, observer says %llu",
                   (unsigned long long)age, (unsigned long long)m.state_since_ms);
            CHECKF(m.address[0] != 0 || strcmp(backend, "p2p") != 0, "node 3 without address");
        }
        int nob = count_members(ob);
        CHECKF(nob == 4, "the observer lists %d members (1-4 expected, not itself)", nob);
        agora_member all[8];
        int k = agora_members(ob, all, 8);
        for (int i = 0; i < k && i < 8; i++) CHECKF(!all[i].self, "node %u listed as self", all[i].node);

        /* it sees every node's events, node 2's (the id it was configured with) too */
        CHECK(publish(n1, 101) == AGORA_OK);
        CHECK(publish(n2, 202) == AGORA_OK);
        wanted w[2] = {{1, 101, false}, {2, 202, false}};
        drain(ob, -1, w, 2, 5000);
        CHECKF(w[0].seen, "the observer missed node 1's event");
        CHECKF(w[1].seen, "the observer missed node 2's event");
        /* node 2's own event reached node 1 as usual */
        wanted at1 = {2, 202, false};
        drain(n1, -1, &at1, 1, 5000);
        CHECK(at1.seen);
        agora_close(ob);
    }
    /* a heartbeat round or three after the observer left: nothing was reported */
    ts_sleep_ms(1500);
    CHECKF(drain(n1, 0, NULL, 0, 0) == 0, "node 1 reported the observer (id 0)");
    CHECKF(drain(n2, 0, NULL, 0, 0) == 0, "node 2 reported the observer (id 0)");
    CHECKF(count_members(n1) == view1 && count_members(n2) == view2,
           "the members' views changed: %d, %d", count_members(n1), count_members(n2));
    pthread_mutex_lock(&log_mu);
    const char *since = member_log + log_mark;
    CHECKF(!strstr(since, "joined") && !strstr(since, "left") && !strstr(since, "failed") &&
               !strstr(since, "observer"),
           "the members logged about the observer:\n%s", since);
    pthread_mutex_unlock(&log_mu);

    /* a node that joins later lists the failed and the departed from gossip */
    agora_t *n5 = open_node(5, false);
    CHECK(n5 != NULL);
    if (n5) {
        CHECKF(await_state(n5, 3, AGORA_MEMBER_FAILED, 10000), "node 5: node 3 not failed");
        CHECKF(await_state(n5, 4, AGORA_MEMBER_LEFT, 10000), "node 5: node 4 not left");
        CHECKF(drain(n5, 3, NULL, 0, 200) == 0, "node 5 got notices about node 3's past");
        agora_close(n5);
    }
    /* memberRetention 0: the failed and the departed are forgotten at once */
    agora_t *n6 = open_node(6, false);
    CHECK(n6 != NULL);
    if (n6) {
        CHECKF(await_state(n6, 1, AGORA_MEMBER_ALIVE, 10000), "node 6: node 1 not alive");
        CHECKF(await_state(n6, 2, AGORA_MEMBER_ALIVE, 10000), "node 6: node 2 not alive");
        ts_sleep_ms(500); /* several heartbeats, each with the gossip of both */
        CHECKF(state_of(n6, 3, NULL) == -1 && state_of(n6, 4, NULL) == -1,
               "node 6 (memberRetention 0) lists node 3 (%d) or 4 (%d)", state_of(n6, 3, NULL),
               state_of(n6, 4, NULL));
        agora_close(n6);
    }
out:
    agora_close(n1);
    agora_close(n2);
}

int main(int argc, char **argv) {
    backend = argc > 1 ? argv[1] : "p2p";
    snprintf(dir, sizeof dir, "/tmp/agora-observer-XXXXXX");
    if (!mkdtemp(dir)) return 1;
#ifdef REDIS_FX_ENABLED
    redis_fx_server rs = {0};
#endif
    if (!strcmp(backend, "redis")) {
#ifndef REDIS_FX_ENABLED
        return 77;
#else
        if (!redis_fx_available()) return 77;
        if (redis_fx_start(&rs, REDIS_PORT, NULL)) {
            fprintf(stderr, "cannot start redis-server\n");
            return 1;
        }
#endif
    }
    nats_srv *ns = NULL;
    if (!strcmp(backend, "nats")) {
        if (!nats_fixture_available()) return 77;
        nats_srv_opts no = {.port = NATS_PORT};
        if (!(ns = nats_srv_start(&no))) return 1;
    } else if (strcmp(backend, "p2p") != 0 && strcmp(backend, "redis") != 0) {
        fprintf(stderr, "usage: test_observer p2p|redis|nats\n");
        return 2;
    }
    scenario();
    nats_srv_free(ns);
#ifdef REDIS_FX_ENABLED
    if (rs.pid) redis_fx_stop(&rs);
#endif
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (failures == 0 && system(cmd) != 0) fprintf(stderr, "cannot remove %s\n", dir);
    if (failures) fprintf(stderr, "test_observer %s: %d failures (logs in %s)\n", backend, failures, dir);
    return failures ? 1 : 0;
}
