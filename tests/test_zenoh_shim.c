/* test_zenoh_shim — the Rust shim over the zenoh crate (src/backend/zenoh/shim, agz.h),
 * from C: two sessions of this process in peer mode on loopback TCP (explicit
 * endpoints, multicast scouting off) exchange 1000 payloads each way on stwt.agora,
 * all arriving in order and intact; bad configurations and key expressions are errors
 * carrying Zenoh's message; close stops the callbacks (run under ASan too). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agz.h"
#include "check.h"
#include "proc.h"

#define KEY "stwt.agora"
#define COUNT 1000

/* A free loopback TCP port: bound to port 0, read back, released. */
static int free_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* Payload i from source src (0 or 1): src, i (4 bytes, big-endian), then i % 251
 * bytes that depend on both, so that lengths vary and a mix-up shows. A warm-up
 * payload is the source's byte alone. */
#define MAX_PAYLOAD (5 + 251)
static size_t make_payload(uint8_t src, uint32_t i, uint8_t *buf) {
    buf[0] = src;
    buf[1] = (uint8_t)(i >> 24), buf[2] = (uint8_t)(i >> 16), buf[3] = (uint8_t)(i >> 8);
    buf[4] = (uint8_t)i;
    size_t n = i % 251;
    for (size_t k = 0; k < n; k++)
        buf[5 + k] = (uint8_t)(i * 31 + k + src);
    return 5 + n;
}

/* What one subscription saw, written on Zenoh's threads. A session's own puts reach
 * its own subscription too, so each subscription sees both sources. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint32_t next[2];  /* per source: the number its next payload must carry */
    int warmups[2];    /* per source: warm-up payloads seen */
    int wrong;         /* payloads out of order, altered or unknown */
    long first_wrong;  /* the number the first wrong payload carried (-1: none) */
    uint32_t first_wrong_expected;
    bool closed;       /* set after agz_close: any call then is a failure */
    int after_close;
} receiver;

static void on_payload(void *user, const uint8_t *data, size_t len) {
    receiver *r = user;
    pthread_mutex_lock(&r->mu);
    if (r->closed)
        r->after_close++;
    if (len == 0 || data[0] > 1) {
        r->wrong++;
    } else if (len == 1) {
        r->warmups[data[0]]++;
    } else {
        uint8_t want[MAX_PAYLOAD];
        size_t n = make_payload(data[0], r->next[data[0]], want);
        if (len != n || memcmp(data, want, n) != 0) {
            if (r->wrong++ == 0 && len >= 5) {
                r->first_wrong = (long)((uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 |
                                        (uint32_t)data[3] << 8 | data[4]);
                r->first_wrong_expected = r->next[data[0]];
            }
        }
        r->next[data[0]]++;
    }
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void receiver_init(receiver *r) {
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->first_wrong = -1;
}

/* Wait (50 ms at most per wake-up) until done(r) holds or the deadline passed. */
static bool await_receiver(receiver *r, bool (*done)(const receiver *r, int arg), int arg,
                           uint64_t deadline_ms) {
    pthread_mutex_lock(&r->mu);
    bool ok;
    while (!(ok = done(r, arg)) && ts_now_ms() < deadline_ms) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L)
            ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&r->cv, &r->mu, &ts);
    }
    pthread_mutex_unlock(&r->mu);
    return ok;
}

static bool saw_warmup(const receiver *r, int src) { return r->warmups[src] > 0; }
static bool saw_all(const receiver *r, int unused) {
    return r->next[0] >= COUNT && r->next[1] >= COUNT;
}

/* A peer on loopback TCP with an explicit topology: one side listens on port, the
 * other connects to it and listens nowhere, and neither scouts (multicast) nor
 * connects to what gossip tells it. Otherwise each would also learn of the other's
 * default listener (every interface) and open a second link to it, and Zenoh drops
 * what is queued on whichever link it then closes: a few payloads lost at the start. */
static agz_session *open_peer(bool listen, int port) {
    char json5[512], err[1024] = "";
    snprintf(json5, sizeof json5,
             "{ mode: \"peer\", %s: { endpoints: [\"tcp/127.0.0.1:%d\"] }, %s"
             "scouting: { multicast: { enabled: false }, gossip: { enabled: false } } }",
             listen ? "listen" : "connect", port, listen ? "" : "listen: { endpoints: [] }, ");
    agz_session *s = agz_open(json5, err, sizeof err);
    CHECKF(s != NULL, "agz_open(%s): %s", json5, err);
    return s;
}

/* Put warm-up payloads from source src on p until the far side's subscription has one
 * (10 s at most): Zenoh drops puts while the peers have not yet told each other of
 * their subscriptions. */
static bool warm_up(agz_publisher *p, uint8_t src, receiver *far) {
    char err[1024] = "";
    uint64_t deadline = ts_now_ms() + 10000;
    bool warm = false;
    while (!warm && ts_now_ms() < deadline) {
        CHECKF(agz_put(p, &src, 1, err, sizeof err) == 0, "%d: warm-up put: %s", src, err);
        warm = await_receiver(far, saw_warmup, src, ts_now_ms() + 20);
    }
    CHECKF(warm, "source %d: the far side heard nothing within 10 s", src);
    return warm;
}

/* Publish COUNT numbered payloads from source src on p. */
static void send_all(agz_publisher *p, uint8_t src) {
    char err[1024] = "";
    uint8_t buf[MAX_PAYLOAD];
    for (uint32_t i = 0; i < COUNT; i++) {
        size_t n = make_payload(src, i, buf);
        if (agz_put(p, buf, n, err, sizeof err) != 0) {
            CHECKF(0, "source %d: put %u: %s", src, i, err);
            return;
        }
    }
}

static void test_errors(void) {
    char err[1024] = "";
    /* Not JSON5 at all: the parser's message. */
    CHECK(agz_open("{ mode: ", err, sizeof err) == NULL);
    CHECKF(strncmp(err, "zenoh configuration: ", 21) == 0 && strlen(err) > 21, "err: %s", err);
    fprintf(stderr, "bad JSON5 -> %s\n", err);
    /* JSON5, but not a Zenoh configuration: Zenoh names what it refused. */
    err[0] = 0;
    CHECK(agz_open("{ mode: \"banana\" }", err, sizeof err) == NULL);
    CHECKF(strstr(err, "banana") != NULL, "err: %s", err);
    fprintf(stderr, "bad mode -> %s\n", err);
    err[0] = 0;
    CHECK(agz_open("{ no_such_section: { a: 1 } }", err, sizeof err) == NULL);
    CHECKF(strstr(err, "no_such_section") != NULL, "err: %s", err);
    fprintf(stderr, "unknown key -> %s\n", err);
    /* A truncated message still ends in NUL, and NULL arguments are errors. */
    char tiny[8];
    memset(tiny, 'x', sizeof tiny);
    CHECK(agz_open("{ mode: ", tiny, sizeof tiny) == NULL);
    CHECK(tiny[7] == 0 && strlen(tiny) == 7);
    CHECK(agz_open(NULL, err, sizeof err) == NULL && strstr(err, "NULL") != NULL);
    CHECK(agz_open("{", NULL, 0) == NULL);

    /* An invalid key expression, on an open session without any endpoint. */
    agz_session *s = agz_open("{ mode: \"peer\", listen: { endpoints: [] }, "
                              "scouting: { multicast: { enabled: false } } }",
                              err, sizeof err);
    CHECKF(s != NULL, "%s", err);
    if (s) {
        receiver r;
        receiver_init(&r);
        err[0] = 0;
        CHECK(agz_subscribe(s, "stwt//agora", on_payload, &r, err, sizeof err) == -1);
        CHECKF(strstr(err, "stwt//agora") != NULL, "err: %s", err);
        fprintf(stderr, "bad key -> %s\n", err);
        CHECK(agz_publisher_new(s, "a/**/**", 0, err, sizeof err) == NULL && err[0]);
        CHECK(agz_subscribe(s, KEY, NULL, &r, err, sizeof err) == -1);
        /* Matching: nobody subscribes yet, then the session's own subscription does. */
        agz_publisher *p = agz_publisher_new(s, KEY, 0, err, sizeof err);
        CHECKF(p != NULL, "%s", err);
        CHECK(agz_publisher_matching(p, err, sizeof err) == 0);
        CHECK(agz_subscribe(s, KEY, on_payload, &r, err, sizeof err) == 0);
        CHECK(agz_publisher_matching(p, err, sizeof err) == 1);
        agz_publisher_free(p);
        size_t routers = 9, peers = 9;
        CHECK(agz_connected(s, &routers, &peers, err, sizeof err) == 0);
        CHECK(routers == 0 && peers == 0);
        char zid[64] = "";
        CHECK(agz_zid(s, zid, sizeof zid) == 0 && strlen(zid) >= 1);
        agz_close(s);
    }
    agz_close(NULL);
    agz_publisher_free(NULL);
}

static void test_exchange(void) {
    int port = free_port();
    CHECK(port > 0);
    agz_session *a = open_peer(true, port);
    agz_session *b = open_peer(false, port);
    if (!a || !b) {
        agz_close(a), agz_close(b);
        return;
    }
    char err[1024] = "";
    receiver at_a, at_b;
    receiver_init(&at_a), receiver_init(&at_b);
    CHECKF(agz_subscribe(a, KEY, on_payload, &at_a, err, sizeof err) == 0, "%s", err);
    CHECKF(agz_subscribe(b, KEY, on_payload, &at_b, err, sizeof err) == 0, "%s", err);
    agz_publisher *pa = agz_publisher_new(a, KEY, AGZ_PUB_BLOCK, err, sizeof err);
    CHECKF(pa != NULL, "%s", err);
    agz_publisher *pb = agz_publisher_new(b, KEY, AGZ_PUB_BLOCK, err, sizeof err);
    CHECKF(pb != NULL, "%s", err);
    if (pa && pb) {
        /* Both ways heard before counting: right after the two sessions met, Zenoh
         * was seen (under ASan, rarely) to drop the first put or few that followed a
         * warm-up payload already delivered, while it settled their declarations. */
        if (warm_up(pa, 0, &at_b) && warm_up(pb, 1, &at_a)) {
            send_all(pa, 0);
            send_all(pb, 1);
        }
        uint64_t deadline = ts_now_ms() + 20000;
        CHECKF(await_receiver(&at_b, saw_all, 0, deadline), "b got %u from a, %u from b",
               at_b.next[0], at_b.next[1]);
        CHECKF(await_receiver(&at_a, saw_all, 0, deadline), "a got %u from a, %u from b",
               at_a.next[0], at_a.next[1]);
        fprintf(stderr, "a received %u + %u, b received %u + %u (from a + from b)\n",
                at_a.next[0], at_a.next[1], at_b.next[0], at_b.next[1]);
        CHECKF(at_a.wrong == 0 && at_b.wrong == 0,
               "altered or reordered: %d at a (first: %ld for %u), %d at b (first: %ld for %u)",
               at_a.wrong, at_a.first_wrong, at_a.first_wrong_expected, at_b.wrong,
               at_b.first_wrong, at_b.first_wrong_expected);
        size_t routers = 9, peers = 0;
        CHECK(agz_connected(a, &routers, &peers, err, sizeof err) == 0);
        CHECKF(routers == 0 && peers == 1, "a sees %zu routers, %zu peers", routers, peers);
    }
    agz_publisher_free(pa);
    agz_close(a);
    pthread_mutex_lock(&at_a.mu), at_a.closed = true, pthread_mutex_unlock(&at_a.mu);
    /* b's publisher outlives a: puts still succeed (nobody listens any more). */
    if (pb)
        CHECKF(agz_put(pb, (const uint8_t *)"x", 1, err, sizeof err) == 0, "%s", err);
    agz_close(b);
    pthread_mutex_lock(&at_b.mu), at_b.closed = true, pthread_mutex_unlock(&at_b.mu);
    /* A publisher outliving its session: puts fail, freeing it is fine (and leaks
     * nothing, which ASan checks). */
    if (pb)
        CHECK(agz_put(pb, (const uint8_t *)"x", 1, err, sizeof err) == -1 && strstr(err, "closed"));
    agz_publisher_free(pb);
    CHECK(at_a.after_close == 0 && at_b.after_close == 0);
}

int main(void) {
    agz_log_from_env(); /* RUST_LOG=debug shows what Zenoh does */
    test_errors();
    test_exchange();
    if (failures) {
        fprintf(stderr, "test_zenoh_shim: %d failure(s)\n", failures);
        return 1;
    }
    printf("test_zenoh_shim: ok\n");
    return 0;
}
