/* test_dispatch_bytes.c — the delivery queue's byte bound (agora_options.max_queued_bytes),
 * with two PeerToPeer nodes on 127.0.0.1 (ports 31491-31492): the receiver runs in a
 * child process so that its memory is its own. It takes no events while the parent
 * publishes 2,000 Custom events of 60 KB (120 MB) at it, with a 16 MiB bound: its
 * resident memory grows by less than the bound plus a fixed overhead (unbounded, it
 * would grow by the whole 120 MB); the drops are counted and logged; once it
 * dispatches it gets Gap(s) from the sender whose `missed` add up with what it got to
 * every event published, and the newest event is among those kept. */
#include "agora.h"
#include "check.h"
#include "proc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* AddressSanitizer keeps freed memory in quarantine, and ThreadSanitizer's allocator
 * and shadow memory hold on to it too: resident memory then says nothing about the
 * bound (the queue depth still does). */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define RSS_MEANINGFUL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define RSS_MEANINGFUL 0
#endif
#endif
#ifndef RSS_MEANINGFUL
#define RSS_MEANINGFUL 1
#endif

#define SECRET "dispatch-bytes-secret"
#define BASE_PORT 31490
#define EVENTS 2000
#define EVENT_BYTES 60000
#define BOUND (UINT64_C(16) << 20)
/* Besides the queue: the receive buffers of the mesh, malloc's free lists, the code. */
#define OVERHEAD (UINT64_C(24) << 20)

typedef struct rx {
    uint64_t customs, gaps, missed, last_id, full_logs;
} rx;

static void on_log(agora_log_level level, const char *msg, void *user) {
    rx *r = user;
    if (r && level == AGORA_LOG_WARN && strstr(msg, "delivery queue full")) r->full_logs++;
    if (level <= AGORA_LOG_WARN || getenv("AGORA_TEST_DEBUG")) fprintf(stderr, "  %s\n", msg);
}

static void on_event(agora_t *a, const agora_event *ev, void *user) {
    (void)a;
    rx *r = user;
    if (ev->type == AGORA_EV_GAP) {
        r->gaps++;
        r->missed += ev->u.gap.missed;
    } else if (ev->type == AGORA_EV_CUSTOM && ev->u.custom.len == EVENT_BYTES) {
        uint64_t id;
        memcpy(&id, ev->u.custom.data, sizeof id);
        r->customs++;
        r->last_id = id;
    }
}

static agora_t *open_node(int id, uint64_t max_bytes, rx *r) {
    char json[1024], err[1024];
    snprintf(json, sizeof json,
             "{\"nodeId\":%d,\"heartbeatInterval\":\"200ms\",\"failureTimeout\":\"5s\","
             "\"coordinator\":{\"@type\":\"PeerToPeer\",\"listen\":[\"127.0.0.1:%d\"],"
             "\"peers\":[\"127.0.0.1:%d\"],\"secret\":\"" SECRET "\"}}",
             id, BASE_PORT + id, BASE_PORT + 3 - id);
    agora_config *cfg = agora_config_parse(json, strlen(json), err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "config: %s\n", err);
        return NULL;
    }
    agora_options o = {.on_log = on_log, .on_log_user = r, .on_event = on_event,
                       .on_event_user = r, .max_queued_bytes = max_bytes};
    o.log_level = getenv("AGORA_TEST_DEBUG") ? AGORA_LOG_DEBUG : AGORA_LOG_WARN;
    agora_t *a = NULL;
    if (agora_open(cfg, &o, &a, err, sizeof err) != AGORA_OK) fprintf(stderr, "open: %s\n", err);
    agora_config_free(cfg);
    return a;
}

/* The other node alive, and the link up. */
static bool await_peer(agora_t *a, int ms) {
    uint64_t end = ts_now_ms() + (uint64_t)ms;
    while (ts_now_ms() < end) {
        agora_member m[4];
        int n = agora_members(a, m, 4), alive = 0;
        for (int i = 0; i < n && i < 4; i++)
            if (!m[i].self && m[i].state == AGORA_MEMBER_ALIVE) alive++;
        agora_status st;
        if (alive == 1 && agora_get_status(a, &st) == AGORA_OK && st.peers == 1) return true;
        ts_sleep_ms(20);
    }
    return false;
}

/* A line of /proc/self/status in bytes ("VmRSS", "VmHWM"). */
static uint64_t proc_kb(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    uint64_t kb = 0;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':') kb = strtoull(line + kl + 1, NULL, 10);
    if (f) fclose(f);
    return kb * 1024;
}

/* The stalled receiver: exit status 0 when every check passed. */
static int receiver(int ready_fd) {
    rx r = {0};
    agora_t *b = open_node(2, BOUND, &r);
    CHECK(b != NULL);
    if (!b) return 1;
    CHECK(await_peer(b, 10000));
    uint64_t base = proc_kb("VmRSS");
    /* Tell the parent to publish. */
    CHECK(write(ready_fd, "r", 1) == 1);
    close(ready_fd);
    /* Wait (polling the status, no dispatch) until every event reached the queue. */
    uint64_t end = ts_now_ms() + 60000, max_depth = 0;
    agora_status st = {0};
    while (ts_now_ms() < end) {
        CHECK(agora_get_status(b, &st) == AGORA_OK);
        if (st.queue_depth > max_depth) max_depth = st.queue_depth;
        if (st.events_in >= EVENTS) break;
        ts_sleep_ms(5);
    }
    CHECKF(st.events_in >= EVENTS, "only %llu of %d events arrived",
           (unsigned long long)st.events_in, EVENTS);
    uint64_t peak = proc_kb("VmHWM"), grew = peak > base ? peak - base : 0;
    printf("receiver: resident %llu MiB at start, peak %llu MiB (+%llu MiB; bound %llu MiB + "
           "%llu MiB overhead), %llu dropped, deepest queue %llu events\n",
           (unsigned long long)(base >> 20), (unsigned long long)(peak >> 20),
           (unsigned long long)(grew >> 20), (unsigned long long)(BOUND >> 20),
           (unsigned long long)(OVERHEAD >> 20), (unsigned long long)st.queue_dropped,
           (unsigned long long)max_depth);
    CHECKF(!RSS_MEANINGFUL || grew < BOUND + OVERHEAD, "resident memory grew by %llu MiB",
           (unsigned long long)(grew >> 20));
    /* 16 MiB hold at most 279 events of 60 KB, beside a Gap and a few small notices */
    CHECKF(max_depth <= BOUND / EVENT_BYTES + 4, "queue held %llu events",
           (unsigned long long)max_depth);
    CHECK(st.queue_dropped > 0);
    CHECK(r.full_logs >= 1 && r.full_logs < 10); /* logged, at most once a second */

    agora_dispatch(b, 0);
    CHECKF(r.gaps >= 1, "no Gap after %llu drops", (unsigned long long)st.queue_dropped);
    CHECKF(r.customs + r.missed == EVENTS, "%llu received + %llu missed != %d",
           (unsigned long long)r.customs, (unsigned long long)r.missed, EVENTS);
    CHECKF(r.last_id == EVENTS, "newest kept event is %llu", (unsigned long long)r.last_id);
    agora_close(b);
    return failures ? 1 : 0;
}

int main(void) {
    int ready[2];
    CHECK(pipe(ready) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(ready[0]);
        int rc = receiver(ready[1]);
        fflush(NULL);
        _exit(rc);
    }
    close(ready[1]);
    CHECK(pid > 0);
    agora_t *a = open_node(1, 0, NULL);
    CHECK(a != NULL);
    char c = 0;
    /* The child writes once the mesh is up (EOF: it failed before). */
    CHECK(read(ready[0], &c, 1) == 1 && c == 'r');
    close(ready[0]);
    uint8_t *data = calloc(1, EVENT_BYTES);
    for (uint64_t id = 1; a && c == 'r' && id <= EVENTS; id++) {
        agora_event ev = {.type = AGORA_EV_CUSTOM};
        memcpy(data, &id, sizeof id);
        ev.u.custom.name = "big";
        ev.u.custom.data = data;
        ev.u.custom.len = EVENT_BYTES;
        CHECK(agora_publish(a, &ev) == AGORA_OK);
        /* Keep the sender's own outbox well under its bound: the drops under test
         * are the receiver's. */
        if (id % 100 == 0) CHECK(agora_flush(a, 20000) == AGORA_OK);
    }
    free(data);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "receiver failed (status %d)", status);
    if (a) agora_close(a);
    printf("test_dispatch_bytes: %d failures\n", failures);
    return failures ? 1 : 0;
}
