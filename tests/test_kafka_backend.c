/* test_kafka_backend.c — the Kafka backend driven directly through the ops table, with
 * a small ag_host of our own, against a real Apache Kafka broker
 * (scripts/kafka-broker.sh): delivery between nodes in order and once, delivery
 * reports, a node closed and reopened replays exactly what it missed, a node that
 * never ran starts at the end of the log, broker stop/restart (timeouts reported,
 * reconnect by itself), broker hung (SIGSTOP: every message still reported in time),
 * unreachable broker at start (one clear log line, bounded close), configuration
 * errors. Ports 29100-29109. */
#include "backend/kafka/kafka_config.h"
#include "config/config.h"
#include "backend/registry.h"
#include "core/backend.h"
#include "core/loop.h"
#include "fake_host.h"
#include "kafka_fixture.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef KAFKA_FX_ENABLED
int main(void) {
    puts("librdkafka headers missing: skipped");
    return 77;
}
#else

#define PORT 29100
#define DEAD_PORT 29108

#include "check.h"

#define MAXID 20000

typedef struct tmsg {
    ag_msg m;
    char buf[48];
} tmsg;

typedef struct tnode {
    fake_host fh; /* first; delivery reports (done_*), state and warnings counted there */
    agora_config *cfg;
    ag_backend *be;
    /* received: count per id, order check */
    unsigned char rx[MAXID];
    long last_id;
    size_t nrx, out_of_order, foreign, probes;
    size_t accepted;
    size_t forgiven; /* failed reports counted before reset_done */
} tnode;

static ag_loop *loop;

static void t_deliver(fake_host *f, const uint8_t *data, size_t len) {
    tnode *n = (tnode *)f;
    char s[64];
    if (len >= sizeof s) {
        n->foreign++;
        return;
    }
    memcpy(s, data, len);
    s[len] = '\0';
    unsigned from;
    long id;
    if (sscanf(s, "m %u %ld", &from, &id) != 2 || id < 0 || id >= MAXID) {
        n->foreign++;
        return;
    }
    if (id == 0) { /* probe */
        n->probes++;
        return;
    }
    if (from == n->fh.host.node_id) return; /* our own: the core would drop it */
    if (n->rx[id] < 255) n->rx[id]++;
    if (id <= n->last_id) n->out_of_order++;
    n->last_id = id;
    n->nrx++;
}

static void t_deliver_thread(ag_host *h, const uint8_t *data, size_t len) {
    (void)h;
    (void)data;
    (void)len;
    fprintf(stderr, "unexpected deliver_from_thread\n");
    failures++;
}

static void t_msg_done(fake_host *f, ag_msg *msg, int status) {
    (void)f;
    (void)status;
    free(msg);
}

static agora_config *make_cfg(const char *brokers_json, const char *tmsg_dur) {
    char json[512], err[1024];
    snprintf(json, sizeof json,
             "{\"@type\":\"Kafka\",\"brokers\":%s,\"groupId\":\"kbt\","
             "\"timeoutSession\":\"6s\",\"timeoutMessage\":\"%s\"}",
             brokers_json, tmsg_dur);
    agora_config *c = agora_config_parse(json, strlen(json), err, sizeof err);
    if (!c) fprintf(stderr, "config: %s\n", err);
    return c;
}

static int node_open(tnode *n, uint16_t id, agora_config *cfg, char *err, size_t errlen) {
    memset(n, 0, sizeof *n);
    n->last_id = -1;
    n->cfg = cfg;
    char name[16];
    snprintf(name, sizeof name, "node %u", (unsigned)id);
    fake_host_init(&n->fh, loop, cfg, id, name);
    n->fh.on_deliver = t_deliver;
    n->fh.on_msg_done = t_msg_done;
    n->fh.host.deliver_from_thread = t_deliver_thread; /* the backend must not use it */
    return ag_backend_kafka.open(&n->fh.host, &n->be, err, errlen);
}

static void node_close(tnode *n) {
    if (n->be) ag_backend_kafka.close(n->be);
    n->be = NULL;
    fake_host_free(&n->fh);
}

/* Offer message `id` (0 = probe). Returns the ag_backend status. */
static int send_id(tnode *n, long id) {
    tmsg *t = calloc(1, sizeof *t);
    int len = snprintf(t->buf, sizeof t->buf, "m %u %ld", (unsigned)n->fh.host.node_id, id);
    t->m.data = (const uint8_t *)t->buf;
    t->m.len = (size_t)len;
    t->m.nevents = 1;
    int rc = ag_backend_kafka.publish(n->be, &t->m);
    if (rc == AGORA_OK)
        n->accepted++;
    else
        free(t);
    return rc;
}

/* Publish ids [first, last] from n, riding out EAGAIN. */
static void send_range(tnode *n, long first, long last) {
    for (long id = first; id <= last;) {
        int rc = send_id(n, id);
        if (rc == AGORA_OK) {
            id++;
        } else if (rc == AGORA_EAGAIN) {
            ag_loop_run_once(loop, 10);
        } else {
            fprintf(stderr, "publish %ld: %s\n", id, agora_strerror(rc));
            failures++;
            return;
        }
    }
}

static bool all_done(void *a) {
    tnode *n = a;
    return n->fh.done_ok + n->fh.done_timeout + n->fh.done_other + n->forgiven >= n->accepted;
}

/* Count failures from here on. */
static void reset_done(tnode *n) {
    n->forgiven += n->fh.done_timeout + n->fh.done_other;
    n->fh.done_timeout = n->fh.done_other = 0;
}

static bool all_done_verbose(tnode *n, unsigned long long ms) {
    if (fake_wait(loop, all_done, n, ms)) return true;
    fprintf(stderr, "node %u: %zu accepted, %zu ok, %zu timed out, %zu other\n",
            (unsigned)n->fh.host.node_id, n->accepted, n->fh.done_ok, n->fh.done_timeout, n->fh.done_other);
    return false;
}

typedef struct want {
    tnode *n;
    size_t count;
} want;
static bool has_rx(void *a) { return ((want *)a)->n->nrx >= ((want *)a)->count; }

/* Publish probes from `from` until `to` sees one: then `to` consumes. */
static bool await_consuming(tnode *from, tnode *to, unsigned long long ms) {
    unsigned long long end = kafka_fx_now_ms() + ms;
    size_t before = to->probes;
    while (to->probes == before) {
        if (kafka_fx_now_ms() >= end) return false;
        send_id(from, 0);
        unsigned long long step = kafka_fx_now_ms() + 200;
        while (to->probes == before && kafka_fx_now_ms() < step) ag_loop_run_once(loop, 20);
    }
    return true;
}

/* Each id in [first,last] received exactly once, nothing else since reset. */
static void check_exact(tnode *n, long first, long last, const char *what) {
    size_t missing = 0, dup = 0, extra = 0;
    for (long id = 1; id < MAXID; id++) {
        bool want_it = id >= first && id <= last;
        if (want_it && n->rx[id] == 0) missing++;
        if (want_it && n->rx[id] > 1) dup++;
        if (!want_it && n->rx[id]) extra++;
    }
    fprintf(stderr, "%s: received %zu, missing %zu, duplicated %zu, unexpected %zu, "
            "out of order %zu\n", what, n->nrx, missing, dup, extra, n->out_of_order);
    CHECK(missing == 0);
    CHECK(dup == 0);
    CHECK(extra == 0);
    CHECK(n->out_of_order == 0);
}

static void reset_rx(tnode *n) {
    memset(n->rx, 0, sizeof n->rx);
    n->nrx = 0;
    n->out_of_order = 0;
    n->last_id = -1;
}

static void test_config_errors(void) {
    char err[1024];
    const char *empty = "{\"@type\":\"Kafka\",\"brokers\":[],\"groupId\":\"g\"}";
    agora_config *c = agora_config_parse(empty, strlen(empty), err, sizeof err);
    CHECK(c == NULL);
    CHECK(strstr(err, "at least one broker is required") != NULL);
    agora_config_free(c);

    /* The backend refuses on its own too. */
    c = make_cfg("[\"127.0.0.1:1\"]", "1s");
    CHECK(c != NULL);
    if (!c) return;
    agora_config_set_node_id(c, 9);
    size_t saved = ((ag_kafka_config *)c->backend)->brokers.count;
    ((ag_kafka_config *)c->backend)->brokers.count = 0;
    tnode n;
    int rc = node_open(&n, 9, c, err, sizeof err);
    CHECK(rc == AGORA_ECONFIG);
    CHECK(strstr(err, "at least one broker is required") != NULL);
    node_close(&n);
    ((ag_kafka_config *)c->backend)->brokers.count = saved;
    agora_config_free(c);

    /* Bad values: refused by the configuration, naming the field. */
    static const char *const bad[][2] = {
        {"{\"@type\":\"Kafka\",\"brokers\":[\"127.0.0.1:1\"],\"groupId\":\"g\","
         "\"timeoutMessage\":\"soon\"}", "timeoutMessage"},
        {"{\"@type\":\"Kafka\",\"brokers\":\"127.0.0.1:1\",\"groupId\":\"g\"}", "brokers"},
        {"{\"@type\":\"Kafka\",\"brokers\":[\"127.0.0.1:1\"]}", "groupId"},
        {"{\"@type\":\"Kafka\",\"brokers\":[\"127.0.0.1:1\"],\"groupId\":\"g\","
         "\"timeoutSesion\":\"5s\"}", "timeoutSesion"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        c = agora_config_parse(bad[i][0], strlen(bad[i][0]), err, sizeof err);
        fprintf(stderr, "bad config %zu: %s\n", i, err);
        CHECK(c == NULL);
        CHECK(strstr(err, bad[i][1]) != NULL);
        agora_config_free(c);
    }
}

static void test_unreachable(void) {
    char err[512], brokers[64];
    snprintf(brokers, sizeof brokers, "[\"127.0.0.1:%d\"]", DEAD_PORT);
    agora_config *c = make_cfg(brokers, "1s");
    CHECK(c != NULL);
    if (!c) return;
    static tnode n;
    int rc = node_open(&n, 7, c, err, sizeof err);
    CHECK(rc == AGORA_OK);
    if (rc != AGORA_OK) {
        agora_config_free(c);
        return;
    }
    CHECK(send_id(&n, 1) == AGORA_OK);
    /* The message times out and is reported (the core keeps it for retry). */
    CHECK(all_done_verbose(&n, 5000));
    CHECK(n.fh.done_timeout == 1);
    fake_run_for(loop, 2000);
    agora_status st;
    memset(&st, 0, sizeof st);
    ag_backend_kafka.status(n.be, &st);
    CHECK(!st.connected);
    CHECK(strncmp(st.server, brokers + 2, strlen(brokers) - 4) == 0);
    /* Clear, not a flood: one "cannot reach" line for the whole outage. */
    fprintf(stderr, "unreachable: %d warning line(s) in 3+ s\n", n.fh.warn_lines);
    CHECK(n.fh.warn_lines == 1);
    unsigned long long t0 = kafka_fx_now_ms();
    node_close(&n);
    unsigned long long dt = kafka_fx_now_ms() - t0;
    fprintf(stderr, "close with the broker unreachable took %llu ms\n", dt);
    CHECK(dt < 3000);
    agora_config_free(c);
}

int main(void) {
    if (!kafka_fx_available()) {
        puts("java or mvn missing: skipped");
        return 77;
    }
    loop = ag_loop_new();
    test_config_errors();
    test_unreachable();

    static kafka_fx_broker kb;
    if (kafka_fx_start(&kb, PORT) != 0) return 1;
    char brokers[80];
    snprintf(brokers, sizeof brokers, "[\"%s\"]", kb.brokers);
    agora_config *cfg = make_cfg(brokers, "2s");
    if (!cfg) return 1;

    static tnode a, b, c, d;
    char err[512];
    CHECK(node_open(&a, 1, cfg, err, sizeof err) == AGORA_OK);
    CHECK(node_open(&b, 2, cfg, err, sizeof err) == AGORA_OK);
    unsigned long long t0 = kafka_fx_now_ms();
    CHECK(await_consuming(&a, &b, 60000));
    fprintf(stderr, "node 2 consuming after %llu ms\n", kafka_fx_now_ms() - t0);
    CHECK(fake_wait_connected(&a.fh, true, 5000));

    /* The topic was created by agora with its settings. */
    char val[64] = "";
    CHECK(kafka_fx_topic_config(kb.brokers, "retention.ms", val, sizeof val) == 0);
    CHECK(strcmp(val, "86400000") == 0);
    CHECK(kafka_fx_partitions(kb.brokers) == 1);

    /* 1. Delivery: 5000 messages, once each, in order; every report OK. (Probes sent
     * before the topic existed may have timed out: count from here.) */
    CHECK(all_done_verbose(&a, 30000));
    reset_done(&a);
    send_range(&a, 1, 5000);
    want w = {&b, 5000};
    CHECK(fake_wait(loop, has_rx, &w, 60000));
    CHECK(all_done_verbose(&a, 30000));
    CHECK(a.fh.done_timeout == 0 && a.fh.done_other == 0);
    fake_run_for(loop, 300);
    check_exact(&b, 1, 5000, "delivery");

    /* 2. Node 2 goes away; 500 messages published meanwhile are replayed to it once it
     * is back, and nothing it had already received. */
    node_close(&b);
    send_range(&a, 5001, 5500);
    CHECK(all_done_verbose(&a, 30000));
    CHECK(node_open(&b, 2, cfg, err, sizeof err) == AGORA_OK);
    want w2 = {&b, 500};
    t0 = kafka_fx_now_ms();
    CHECK(fake_wait(loop, has_rx, &w2, 60000));
    fprintf(stderr, "replay after reopen took %llu ms\n", kafka_fx_now_ms() - t0);
    fake_run_for(loop, 1000);
    check_exact(&b, 5001, 5500, "replay");

    /* 3. A node that never ran starts at the end: none of the history. */
    CHECK(node_open(&c, 3, cfg, err, sizeof err) == AGORA_OK);
    CHECK(await_consuming(&a, &c, 60000));
    send_range(&a, 5501, 5600);
    want w3 = {&c, 100};
    CHECK(fake_wait(loop, has_rx, &w3, 30000));
    fake_run_for(loop, 300);
    check_exact(&c, 5501, 5600, "fresh node");
    node_close(&c);

    /* 4. Broker stopped: disconnected, undelivered messages reported as timed out;
     * broker back: reconnects by itself and everything flows again. */
    reset_rx(&b);
    CHECK(all_done_verbose(&a, 10000));
    a.fh.warn_lines = 0;
    kafka_fx_stop(&kb);
    CHECK(fake_wait_connected(&a.fh, false, 10000));
    size_t ok_before = a.fh.done_ok;
    reset_done(&a);
    send_range(&a, 6001, 6010);
    CHECK(all_done_verbose(&a, 10000));
    fprintf(stderr, "while down: %zu timed out, %zu other, %d warning line(s)\n",
            a.fh.done_timeout, a.fh.done_other, a.fh.warn_lines);
    CHECK(a.fh.done_ok == ok_before);
    CHECK(a.fh.done_timeout + a.fh.done_other == 10);
    CHECK(a.fh.warn_lines >= 1 && a.fh.warn_lines <= 3);
    /* A node started while no broker is there starts all the same. */
    CHECK(node_open(&d, 4, cfg, err, sizeof err) == AGORA_OK);
    CHECK(kafka_fx_restart(&kb) == 0);
    t0 = kafka_fx_now_ms();
    CHECK(fake_wait_connected(&a.fh, true, 30000));
    fprintf(stderr, "reconnected %llu ms after the broker was back\n", kafka_fx_now_ms() - t0);
    agora_status st;
    memset(&st, 0, sizeof st);
    ag_backend_kafka.status(a.be, &st);
    CHECK(st.reconnects >= 1);
    send_range(&a, 6011, 6110);
    want w4 = {&b, 100};
    CHECK(fake_wait(loop, has_rx, &w4, 60000));
    CHECK(all_done_verbose(&a, 30000));
    fake_run_for(loop, 300);
    check_exact(&b, 6011, 6110, "after broker restart");
    /* ... and joins once the broker is there. */
    t0 = kafka_fx_now_ms();
    CHECK(await_consuming(&a, &d, 60000));
    CHECK(d.fh.connected);
    fprintf(stderr, "node started during the outage consuming %llu ms later\n",
            kafka_fx_now_ms() - t0);
    node_close(&d);

    /* 5. Broker hung (SIGSTOP): messages sent to it get no answer; each is still
     * reported, as timed out, soon after timeoutMessage (2 s), and once the broker
     * resumes everything flows again. */
    reset_rx(&b);
    CHECK(all_done_verbose(&a, 10000));
    reset_done(&a);
    ok_before = a.fh.done_ok;
    kafka_fx_signal(&kb, SIGSTOP);
    t0 = kafka_fx_now_ms();
    send_range(&a, 7001, 7010);
    CHECK(all_done_verbose(&a, 15000));
    fprintf(stderr, "broker hung: %zu ok, %zu timed out, %zu other after %llu ms\n",
            a.fh.done_ok - ok_before, a.fh.done_timeout, a.fh.done_other, kafka_fx_now_ms() - t0);
    CHECK(a.fh.done_timeout + a.fh.done_other + (a.fh.done_ok - ok_before) == 10);
    CHECK(kafka_fx_now_ms() - t0 < 8000);
    kafka_fx_signal(&kb, SIGCONT);
    send_range(&a, 7011, 7110);
    want w5 = {&b, 100};
    CHECK(fake_wait(loop, has_rx, &w5, 60000));
    CHECK(all_done_verbose(&a, 30000));
    fprintf(stderr, "after the hang: %zu received\n", b.nrx);

    /* Close is quick with the broker up too. (Every message reported first: close
     * abandons unfinished ones, which the core would own.) */
    CHECK(all_done_verbose(&a, 10000));
    t0 = kafka_fx_now_ms();
    node_close(&a);
    node_close(&b);
    fprintf(stderr, "two closes took %llu ms\n", kafka_fx_now_ms() - t0);
    CHECK(kafka_fx_now_ms() - t0 < 5000);

    agora_config_free(cfg);
    ag_loop_free(loop);
    kafka_fx_stop(&kb);
    printf("%s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
#endif
