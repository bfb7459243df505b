/* test_core.c — the coordinator core without a network: the receive path (dedup,
 * gaps, restarts, malformed input, own echo), membership (join, fail, leave), the
 * delivery queue (agora_fd, dispatch, next_event) and the publish path (flush on the
 * Disabled backend). Wire messages are built with the native format's own writers and
 * fed to the inbox on the I/O thread, as a backend would. */
#include "agora.h"
#include "codec/codec.h"
#include "core/coord.h"
#include "codec/wire.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static agora_config *cfg_for(const char *json) {
    char err[512];
    agora_config *c = agora_config_parse(json, strlen(json), err, sizeof err);
    if (!c) fprintf(stderr, "config: %s\n", err);
    return c;
}

static agora_t *open_disabled(uint16_t node, const char *extra) {
    char json[512];
    snprintf(json, sizeof json,
             "{\"nodeId\":%u,\"heartbeatInterval\":\"50ms\",\"failureTimeout\":\"%s\","
             "\"coordinator\":{\"@type\":\"Disabled\"}}",
             node, extra);
    agora_config *c = cfg_for(json);
    if (!c) return NULL;
    agora_t *a = NULL;
    char err[256];
    agora_options o = {.log_level = AGORA_LOG_WARN};
    int rc = agora_open(c, &o, &a, err, sizeof err);
    agora_config_free(c);
    if (rc) fprintf(stderr, "open: %s\n", err);
    return a;
}

/* ---- feeding payloads to the inbox on the I/O thread ---- */
typedef struct feed {
    struct agora *a;
    ag_buf b;
} feed;

static void run_feed(ag_loop *l, void *arg) {
    (void)l;
    feed *f = arg;
    f->a->host.deliver(&f->a->host, f->b.data, f->b.len);
    ag_buf_free(&f->b);
    free(f);
}

static void deliver(agora_t *a, ag_buf *b) {
    feed *f = calloc(1, sizeof *f);
    f->a = a;
    f->b = *b;
    ag_buf_init(b);
    ag_loop_post(a->loop, run_feed, f);
}

/* An EVENTS message from `origin` with StateChange events whose changeId is their seq. */
static void send_events(agora_t *a, uint16_t origin, uint64_t inc, uint64_t first, uint64_t n) {
    ag_buf b;
    ag_buf_init(&b);
    ag_wire_put_events_header(&b, origin, inc, first, n);
    for (uint64_t i = 0; i < n; i++) {
        agora_event ev = {.type = AGORA_EV_STATE_CHANGE};
        ev.u.state_change.change_id = first + i;
        ev.u.state_change.account_id = 7;
        ev.u.state_change.types = 1;
        char err[100];
        ag_native_put_event(&b, &ev, err, sizeof err);
    }
    deliver(a, &b);
}

static int next(agora_t *a, agora_event *ev) { return agora_next_event(a, ev, 2000); }

/* Expect a StateChange with the given changeId from origin. */
static void expect_change(agora_t *a, uint16_t origin, uint64_t change) {
    agora_event ev;
    int rc = next(a, &ev);
    CHECK(rc == AGORA_OK);
    if (rc) return;
    CHECK(ev.type == AGORA_EV_STATE_CHANGE);
    CHECK(ev.node == origin);
    if (ev.type == AGORA_EV_STATE_CHANGE) CHECK(ev.u.state_change.change_id == change);
    if (ev.type != AGORA_EV_STATE_CHANGE || ev.u.state_change.change_id != change)
        fprintf(stderr, "  got %s change %llu, want change %llu\n", agora_event_type_name(ev.type),
                (unsigned long long)ev.u.state_change.change_id, (unsigned long long)change);
    agora_event_clear(&ev);
}

static void expect_type(agora_t *a, agora_event_type t, uint16_t node, uint64_t gap) {
    agora_event ev;
    int rc = next(a, &ev);
    CHECK(rc == AGORA_OK);
    if (rc) return;
    if (ev.type != t) fprintf(stderr, "  got %s, want %s\n", agora_event_type_name(ev.type), agora_event_type_name(t));
    CHECK(ev.type == t);
    CHECK(ev.node == node);
    if (t == AGORA_EV_GAP) CHECK(ev.u.gap.missed == gap);
    agora_event_clear(&ev);
}

static void expect_nothing(agora_t *a) {
    agora_event ev;
    int rc = agora_next_event(a, &ev, 150);
    if (rc == AGORA_OK) {
        fprintf(stderr, "  unexpected %s\n", agora_event_type_name(ev.type));
        agora_event_clear(&ev);
    }
    CHECK(rc == AGORA_ETIMEDOUT);
}

static void test_dedup_and_gaps(void) {
    agora_t *a = open_disabled(1, "60s");
    CHECK(a != NULL);
    if (!a) return;
    uint64_t inc = 1000;
    send_events(a, 2, inc, 1, 3);
    expect_type(a, AGORA_EV_MEMBER_JOINED, 2, 0);
    expect_change(a, 2, 1);
    expect_change(a, 2, 2);
    expect_change(a, 2, 3);
    send_events(a, 2, inc, 1, 3); /* exact duplicate */
    send_events(a, 2, inc, 6, 2); /* seq 4,5 missing */
    expect_type(a, AGORA_EV_GAP, 2, 2);
    expect_change(a, 2, 6);
    expect_change(a, 2, 7);
    send_events(a, 2, inc, 5, 4); /* 5..8: only 8 is new */
    expect_change(a, 2, 8);
    /* The node restarts: new, larger incarnation, and we missed its first 2 events. */
    send_events(a, 2, inc + 1, 3, 1);
    expect_type(a, AGORA_EV_MEMBER_JOINED, 2, 0);
    expect_type(a, AGORA_EV_GAP, 2, 2);
    expect_change(a, 2, 3);
    /* A late message from the previous life is dropped. */
    send_events(a, 2, inc, 9, 1);
    /* Our own id with our incarnation: our echo, ignored. */
    send_events(a, 1, a->incarnation, 1, 1);
    /* Garbage: counted, never fatal. */
    ag_buf b;
    ag_buf_init(&b);
    ag_buf_put(&b, "AG\x01\x01\x02", 5);
    deliver(a, &b);
    ag_buf_put(&b, "hello world", 11);
    deliver(a, &b);
    expect_nothing(a);
    agora_status st;
    CHECK(agora_get_status(a, &st) == AGORA_OK);
    CHECK(st.duplicates == 3 + 3 + 1);
    CHECK(st.decode_errors == 2);
    CHECK(st.gaps == 2);
    /* Events from node 2 (changes 1 2 3 6 7 8 3) apart from the local notices
     * (2 MemberJoined, 2 Gap). */
    CHECKF(st.events_in == 7, "%llu", (unsigned long long)st.events_in);
    CHECKF(st.notices == 4, "%llu", (unsigned long long)st.notices);
    CHECK(strcmp(st.backend, "Disabled") == 0);
    char *j = agora_status_to_json(&st);
    CHECK(j && strstr(j, "\"eventsIn\":7,") && strstr(j, "\"notices\":4"));
    CHECK(j && !strstr(j, "failure") && st.failure == 0); /* said only once it gave up */
    free(j);
    st.failure = AGORA_EDUPID;
    j = agora_status_to_json(&st);
    CHECK(j && strstr(j, ",\"failure\":\"node id in use by another live node\"}"));
    free(j);
    agora_close(a);
}

static void test_membership(void) {
    agora_t *a = open_disabled(1, "300ms");
    CHECK(a != NULL);
    if (!a) return;
    ag_buf b;
    ag_buf_init(&b);
    ag_wire_put_heartbeat(&b, 5, 77, 1, "127.0.0.1:7915", NULL, 0);
    deliver(a, &b);
    agora_event ev;
    CHECK(next(a, &ev) == AGORA_OK);
    CHECK(ev.type == AGORA_EV_MEMBER_JOINED && ev.node == 5);
    CHECK(ev.u.member.address && !strcmp(ev.u.member.address, "127.0.0.1:7915"));
    CHECK(ev.u.member.incarnation == 77);
    agora_event_clear(&ev);
    agora_member m[8];
    int n = agora_members(a, m, 8);
    CHECK(n == 2);
    CHECK(m[0].self && m[0].node == 1);
    CHECK(m[1].node == 5 && m[1].state == AGORA_MEMBER_ALIVE);
    /* Silent past the failure timeout: reported failed. */
    uint64_t t0 = ag_now_ms();
    CHECK(agora_next_event(a, &ev, 3000) == AGORA_OK);
    CHECK(ev.type == AGORA_EV_MEMBER_FAILED && ev.node == 5);
    CHECK(ag_now_ms() - t0 >= 250);
    agora_event_clear(&ev);
    n = agora_members(a, m, 8);
    CHECK(n == 2 && m[1].state == AGORA_MEMBER_FAILED);
    /* Heard again: joins again; then leaves gracefully. */
    ag_wire_put_heartbeat(&b, 5, 77, 1, "127.0.0.1:7915", NULL, 0);
    deliver(a, &b);
    expect_type(a, AGORA_EV_MEMBER_JOINED, 5, 0);
    ag_wire_put_leave(&b, 5, 77, 1);
    deliver(a, &b);
    expect_type(a, AGORA_EV_MEMBER_LEFT, 5, 0);
    n = agora_members(a, m, 8);
    CHECK(n == 2 && m[1].state == AGORA_MEMBER_LEFT);
    /* Leaving is final for that incarnation: no MemberFailed follows. */
    expect_nothing(a);
    agora_close(a);
}

/* The last messages of a stream are lost: only the heartbeat says they were sent.
 * After the grace period the receiver gets a Gap for exactly those; a claim that the
 * events then meet in time produces none. */
static void test_tail_loss(void) {
    agora_t *a = open_disabled(1, "60s");
    CHECK(a != NULL);
    if (!a) return;
    send_events(a, 4, 50, 1, 3);
    expect_type(a, AGORA_EV_MEMBER_JOINED, 4, 0);
    expect_change(a, 4, 1);
    expect_change(a, 4, 2);
    expect_change(a, 4, 3);
    ag_buf b;
    ag_buf_init(&b);
    ag_wire_put_heartbeat(&b, 4, 50, 6, "", NULL, 0); /* 4 and 5 were sent */
    deliver(a, &b);
    expect_nothing(a); /* not yet: they may still be on their way */
    uint64_t t0 = ag_now_ms();
    agora_event ev;
    CHECK(agora_next_event(a, &ev, 10000) == AGORA_OK);
    CHECK(ev.type == AGORA_EV_GAP && ev.node == 4 && ev.u.gap.missed == 2);
    CHECK(ag_now_ms() - t0 >= 4000);
    agora_event_clear(&ev);
    /* Met in time: no Gap. */
    ag_wire_put_heartbeat(&b, 4, 50, 8, "", NULL, 0);
    deliver(a, &b);
    send_events(a, 4, 50, 6, 2);
    expect_change(a, 4, 6);
    expect_change(a, 4, 7);
    CHECK(agora_next_event(a, &ev, 7000) == AGORA_ETIMEDOUT);
    agora_close(a);
}

static int seen;
static void on_event(agora_t *a, const agora_event *ev, void *user) {
    (void)a;
    (void)user;
    if (ev->type == AGORA_EV_STATE_CHANGE) seen++;
}

static void test_fd_and_dispatch(void) {
    char json[] = "{\"nodeId\":1,\"coordinator\":{\"@type\":\"Disabled\"}}";
    agora_config *c = cfg_for(json);
    CHECK(c != NULL);
    if (!c) return;
    agora_options o = {.on_event = on_event, .log_level = AGORA_LOG_WARN};
    agora_t *a = NULL;
    CHECK(agora_open(c, &o, &a, NULL, 0) == AGORA_OK);
    agora_config_free(c);
    if (!a) return;
    struct pollfd p = {.fd = agora_fd(a), .events = POLLIN};
    CHECK(poll(&p, 1, 0) == 0); /* nothing yet */
    send_events(a, 3, 5, 1, 4);
    CHECK(poll(&p, 1, 2000) == 1);
    int total = 0;
    while (seen < 4 && poll(&p, 1, 2000) == 1) total += agora_dispatch(a, 0);
    CHECK(seen == 4);
    CHECK(total == 5); /* MemberJoined + 4 */
    CHECK(poll(&p, 1, 0) == 0); /* drained */
    agora_close(a);
}

/* A node that publishes nothing still sends heartbeats: bytesOut counts them. */
static void test_heartbeat_bytes(void) {
    agora_t *a = open_disabled(1, "60s");
    CHECK(a != NULL);
    if (!a) return;
    agora_status st;
    uint64_t end = ag_now_ms() + 5000;
    do {
        CHECK(agora_get_status(a, &st) == AGORA_OK);
        if (st.bytes_out > 0) break;
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    } while (ag_now_ms() < end);
    CHECK(st.bytes_out > 0);
    CHECK(st.events_out == 0);
    agora_close(a);
}

static void test_publish_flush(void) {
    agora_t *a = open_disabled(1, "60s");
    CHECK(a != NULL);
    if (!a) return;
    for (int i = 0; i < 5000; i++) {
        agora_event ev = {.type = AGORA_EV_EMAIL_PUSH};
        ev.u.email_push.account_id = 1;
        ev.u.email_push.email_id = (uint32_t)i;
        CHECK(agora_publish(a, &ev) == AGORA_OK);
    }
    CHECK(agora_flush(a, 5000) == AGORA_OK);
    agora_status st;
    agora_get_status(a, &st);
    CHECK(st.events_out == 5000);
    CHECK(st.outbox_depth == 0);
    /* A local notice cannot be published. */
    agora_event gap = {.type = AGORA_EV_GAP};
    CHECK(agora_publish(a, &gap) != AGORA_OK);
    agora_close(a);
}

static void test_open_errors(void) {
    char err[256] = "";
    agora_config *c = cfg_for("{\"@type\":\"Disabled\"}");
    CHECK(c != NULL);
    agora_t *a = NULL;
    CHECK(agora_open(c, NULL, &a, err, sizeof err) == AGORA_ECONFIG);
    CHECK(strstr(err, "node id") != NULL);
    agora_config_free(c);
    /* Options whose reserved space is not zero are refused (a later version may give
     * it a meaning). */
    c = cfg_for("{\"nodeId\":1,\"coordinator\":{\"@type\":\"Disabled\"}}");
    agora_options bad = {.log_level = AGORA_LOG_WARN};
    bad.reserved[3] = 1;
    CHECK(agora_open(c, &bad, &a, err, sizeof err) == AGORA_EINVAL && a == NULL);
    CHECK(strstr(err, "reserved") != NULL);
    agora_config_free(c);
    /* PeerToPeer always speaks the native format: refused when parsing the config
     * (and, for a config built another way, by agora_open). */
    const char *p2p = "{\"nodeId\":1,\"codec\":\"stalwart\",\"coordinator\":{\"@type\":"
                      "\"PeerToPeer\",\"secret\":\"s\",\"listen\":\"127.0.0.1:39999\"}}";
    c = agora_config_parse(p2p, strlen(p2p), err, sizeof err);
    CHECK(c == NULL);
    CHECK(strstr(err, "codec") != NULL && strstr(err, "stalwart") != NULL);
    agora_config_free(c);
}

int main(void) {
    test_dedup_and_gaps();
    test_membership();
    test_tail_loss();
    test_fd_and_dispatch();
    test_heartbeat_bytes();
    test_publish_flush();
    test_open_errors();
    if (failures) {
        fprintf(stderr, "test_core: %d checks failed\n", failures);
        return 1;
    }
    printf("test_core: all checks passed\n");
    return 0;
}
