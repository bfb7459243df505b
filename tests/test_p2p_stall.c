/* test_p2p_stall.c — a peer that stops reading does not slow the others down.
 *
 * Two PeerToPeer nodes through the public API (A publishes, B receives) and a raw
 * third peer S linked to A that never reads. A's messages stay unfinished until S
 * counts as lagging (about a second without progress), because S has not read them.
 * Meanwhile a trickle of events from A must reach B at once: the outbox gathers
 * events behind an unfinished message only for a millisecond (outbox.c HOLD_US).
 *
 * To give S a backlog without megabytes of data, the test shrinks the send buffer of
 * A's socket to S (it finds that socket among this process's descriptors). */
#include "agora.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "p2p_raw.h"

#define PORT 27560 /* this file uses 27560..27561 */
#define FILL_EVENTS 64
#define FILL_BYTES 1024
#define TRICKLE_MS 500    /* how long to trickle (S turns lagging after ~1 s) */
#define MAX_LATENCY_MS 200 /* a held trickle would wait until S is lagging */

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void nap_ms(long ms) {
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static _Atomic uint64_t lagging_at_ms; /* when A logged that S is not reading */

static void on_log(agora_log_level level, const char *msg, void *user) {
    (void)user;
    if (strstr(msg, "is not reading")) {
        uint64_t zero = 0;
        atomic_compare_exchange_strong(&lagging_at_ms, &zero, now_ms());
    }
    if (getenv("AGORA_TEST_DEBUG") || level <= AGORA_LOG_WARN) fprintf(stderr, "log: %s\n", msg);
}

static agora_t *open_node(int id, const char *peers) {
    char json[512], err[512];
    snprintf(json, sizeof json,
             "{\"nodeId\":%d,\"heartbeatInterval\":\"100ms\",\"failureTimeout\":\"30s\","
             "\"coordinator\":{\"@type\":\"PeerToPeer\",\"listen\":\"127.0.0.1:%d\","
             "\"encryption\":\"none\",\"peers\":[%s]}}",
             id, PORT + id - 1, peers);
    agora_config *c = agora_config_parse(json, strlen(json), err, sizeof err);
    if (!c) {
        fprintf(stderr, "config: %s\n", err);
        return NULL;
    }
    agora_t *a = NULL;
    agora_options o = {.on_log = on_log,
                       .log_level = getenv("AGORA_TEST_DEBUG") ? AGORA_LOG_DEBUG : AGORA_LOG_INFO};
    if (agora_open(c, &o, &a, err, sizeof err) != AGORA_OK) fprintf(stderr, "open: %s\n", err);
    agora_config_free(c);
    return a;
}

/* Poll until `a` counts node `id` as a live member (its link is up). */
static bool wait_member(agora_t *a, uint16_t id, int timeout_ms) {
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    while (now_ms() < end) {
        agora_member m[8];
        int n = agora_members(a, m, 8);
        for (int i = 0; i < n && i < 8; i++)
            if (m[i].node == id && m[i].state == AGORA_MEMBER_ALIVE) return true;
        nap_ms(5);
    }
    return false;
}

/* This process's end of the connection that `peer_fd` is the other end of. */
static int other_end(int peer_fd) {
    struct sockaddr_in mine, want;
    socklen_t l = sizeof want;
    if (getsockname(peer_fd, (struct sockaddr *)&want, &l) != 0) return -1;
    for (int fd = 3; fd < 4096; fd++) {
        if (fd == peer_fd) continue;
        l = sizeof mine;
        if (getpeername(fd, (struct sockaddr *)&mine, &l) != 0 || mine.sin_family != AF_INET) continue;
        if (mine.sin_port == want.sin_port && mine.sin_addr.s_addr == want.sin_addr.s_addr) return fd;
    }
    return -1;
}

/* Next event of `type` at B (others skipped), or false after timeout_ms. */
static bool next_of(agora_t *b, agora_event_type type, agora_event *ev, int timeout_ms) {
    uint64_t end = now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        uint64_t now = now_ms();
        if (now >= end) return false;
        if (agora_next_event(b, ev, (int)(end - now)) != AGORA_OK) return false;
        if (ev->type == type) return true;
        CHECKF(ev->type != AGORA_EV_GAP, "B saw a Gap from node %u", ev->node);
        agora_event_clear(ev);
    }
}

int main(void) {
    char peer_a[64];
    snprintf(peer_a, sizeof peer_a, "\"127.0.0.1:%d\"", PORT);
    agora_t *a = open_node(1, "");
    agora_t *b = open_node(2, peer_a);
    if (!a || !b) return 1;
    CHECKF(wait_member(a, 2, 5000) && wait_member(b, 1, 5000), "A and B did not link");

    int s = raw_stalled_peer(PORT);
    CHECKF(s >= 0, "the raw peer could not connect");
    /* Its link is up once A counts it as a member (a link count could include a
     * second, duplicate connection between A and B while it is being resolved). */
    CHECKF(wait_member(a, 5, 5000), "the raw peer did not link");
    int a_to_s = other_end(s);
    CHECKF(a_to_s >= 0, "A's socket to the raw peer not found");
    int small = 4096;
    CHECK(setsockopt(a_to_s, SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);

    /* 1. 64 KiB that S will never read: A's messages to S stay unfinished. */

    static uint8_t blob[FILL_BYTES];
    memset(blob, 'f', sizeof blob);
    for (int i = 0; i < FILL_EVENTS; i++) {
        agora_event ev = {.type = AGORA_EV_CUSTOM};
        ev.u.custom.name = "fill";
        ev.u.custom.data = blob;
        ev.u.custom.len = sizeof blob;
        CHECK(agora_publish(a, &ev) == AGORA_OK);
    }
    for (int i = 0; i < FILL_EVENTS; i++) {
        agora_event ev;
        if (!next_of(b, AGORA_EV_CUSTOM, &ev, 5000)) {
            CHECKF(false, "B got %d of the %d fill events", i, FILL_EVENTS);
            break;
        }
        agora_event_clear(&ev);
    }

    uint64_t lag = atomic_load(&lagging_at_ms);
    CHECKF(lag == 0, "B got the fill only after A stopped waiting for the stalled peer (%llu ms "
           "before)", (unsigned long long)(lag ? now_ms() - lag : 0));

    /* 2. A trickle, one event at a time: each must reach B at once. */
    uint64_t start = now_ms(), worst = 0;
    int sent = 0, before_lagging = 0;
    while (now_ms() - start < TRICKLE_MS) {
        agora_event ev = {.type = AGORA_EV_STATE_CHANGE};
        ev.u.state_change.change_id = (uint64_t)++sent;
        ev.u.state_change.account_id = 1;
        uint64_t t0 = now_ms();
        CHECK(agora_publish(a, &ev) == AGORA_OK);
        agora_event got;
        if (!next_of(b, AGORA_EV_STATE_CHANGE, &got, 3000)) {
            CHECKF(false, "trickle event %d never reached B", sent);
            break;
        }
        uint64_t took = now_ms() - t0;
        lag = atomic_load(&lagging_at_ms);
        if (took > worst) worst = took;
        if (!lag || lag > now_ms()) before_lagging++;
        CHECKF(got.u.state_change.change_id == (uint64_t)sent, "B got change %llu, expected %d",
               (unsigned long long)got.u.state_change.change_id, sent);
        agora_event_clear(&got);
        nap_ms(2); /* a trickle's pace, not a synchronisation */
    }
    CHECKF(worst < MAX_LATENCY_MS, "a trickle event took %llu ms to reach B while S stalled",
           (unsigned long long)worst);

    /* 3. S really stalled with data pending: A says so once a second has passed. */
    uint64_t end = now_ms() + 5000;
    while (!atomic_load(&lagging_at_ms) && now_ms() < end) nap_ms(10);
    CHECKF(atomic_load(&lagging_at_ms) != 0, "A never saw the raw peer stall");
    CHECKF(before_lagging >= 20, "only %d trickle events went out before S counted as lagging",
           before_lagging);
    printf("test_p2p_stall: %d trickle events (%d before S was lagging), slowest %llu ms\n", sent,
           before_lagging, (unsigned long long)worst);

    close(s);
    agora_close(a);
    agora_close(b);
    if (failures) {
        fprintf(stderr, "test_p2p_stall: %d check(s) failed\n", failures);
        return 1;
    }
    printf("test_p2p_stall: ok\n");
    return 0;
}
