/* base_kafka.c — the baseline beside the Kafka backend: librdkafka alone. Per node a
 * producer (rd_kafka_producev of each payload to "stwt.agora", librdkafka's own
 * batching) with the delivery settings agora's backend uses by default (acks=all,
 * idempotence, linger.ms=2, message.timeout.ms=5000: timeoutMessage "5s"), and a
 * consumer (fetch.wait.max.ms=100 and the session agora's default timeoutSession "5s"
 * becomes: 6 s, heartbeats every 2 s) in its own group
 * ("<group>-<node>", so every node gets every message, as agora's backend does),
 * polled on its own thread. The topic is created first (one partition) if missing. */
#include "base_driver.h"

#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char brokers[512] = "127.0.0.1:9092";
static char linger[32] = "2";
static char group[128];

typedef struct knode {
    rd_kafka_t *prod, *cons;
    pthread_t rx;
    _Atomic bool stop;
    unsigned since_poll;
} knode;

static int opt(const char *o, const char *v) {
    if (!strcmp(o, "--brokers")) {
        snprintf(brokers, sizeof brokers, "%s", v);
        return 1;
    }
    if (!strcmp(o, "--linger")) {
        snprintf(linger, sizeof linger, "%s", v);
        return 1;
    }
    return 0;
}

static int set(rd_kafka_conf_t *c, const char *k, const char *v, char *err, size_t errlen) {
    return rd_kafka_conf_set(c, k, v, err, errlen) == RD_KAFKA_CONF_OK ? 0 : -1;
}

/* Create the topic with one partition; an existing topic is fine. */
static void ensure_topic(void) {
    char err[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    set(c, "bootstrap.servers", brokers, err, sizeof err);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
    if (!rk) return;
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new("stwt.agora", 1, 1, err, sizeof err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 15000);
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
    rd_kafka_destroy(rk);
}

static void *rx_main(void *arg) {
    bb_node *n = arg;
    knode *k = n->impl;
    while (!atomic_load(&k->stop)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(k->cons, 100);
        if (!m) continue;
        if (!m->err) bb_deliver(n, m->payload, m->len);
        rd_kafka_message_destroy(m);
    }
    return NULL;
}

static int k_open(bb_node *n, char *err, size_t errlen) {
    static bool topic_done;
    if (!topic_done) {
        ensure_topic();
        snprintf(group, sizeof group, "agora-baseline-%d", (int)getpid());
        topic_done = true;
    }
    knode *k = calloc(1, sizeof *k);
    if (!k) return -1;
    n->impl = k;
    rd_kafka_conf_t *pc = rd_kafka_conf_new();
    if (set(pc, "bootstrap.servers", brokers, err, errlen) ||
        set(pc, "linger.ms", linger, err, errlen) || set(pc, "acks", "all", err, errlen) ||
        set(pc, "enable.idempotence", "true", err, errlen) ||
        set(pc, "message.timeout.ms", "5000", err, errlen)) {
        rd_kafka_conf_destroy(pc);
        goto fail;
    }
    k->prod = rd_kafka_new(RD_KAFKA_PRODUCER, pc, err, errlen);
    if (!k->prod) goto fail;
    rd_kafka_conf_t *cc = rd_kafka_conf_new();
    char gid[160];
    snprintf(gid, sizeof gid, "%s-%d", group, n->idx + 1);
    if (set(cc, "bootstrap.servers", brokers, err, errlen) || set(cc, "group.id", gid, err, errlen) ||
        set(cc, "auto.offset.reset", "latest", err, errlen) ||
        set(cc, "enable.auto.commit", "false", err, errlen) ||
        set(cc, "fetch.wait.max.ms", "100", err, errlen) ||
        set(cc, "session.timeout.ms", "6000", err, errlen) ||
        set(cc, "heartbeat.interval.ms", "2000", err, errlen)) {
        rd_kafka_conf_destroy(cc);
        goto fail;
    }
    k->cons = rd_kafka_new(RD_KAFKA_CONSUMER, cc, err, errlen);
    if (!k->cons) goto fail;
    rd_kafka_poll_set_consumer(k->cons);
    rd_kafka_topic_partition_list_t *tl = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(tl, "stwt.agora", RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(k->cons, tl);
    rd_kafka_topic_partition_list_destroy(tl);
    if (e) {
        snprintf(err, errlen, "subscribe: %s", rd_kafka_err2str(e));
        goto fail;
    }
    if (pthread_create(&k->rx, NULL, rx_main, n) != 0) goto fail;
    return 0;
fail:
    if (k->cons) rd_kafka_destroy(k->cons);
    if (k->prod) rd_kafka_destroy(k->prod);
    free(k);
    n->impl = NULL;
    return -1;
}

static int k_publish(bb_node *n, const uint8_t *data, size_t len) {
    knode *k = n->impl;
    for (;;) {
        rd_kafka_resp_err_t e = rd_kafka_producev(k->prod, RD_KAFKA_V_TOPIC("stwt.agora"),
                                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                                  RD_KAFKA_V_VALUE((void *)data, len), RD_KAFKA_V_END);
        if (!e) break;
        if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) return -1;
        rd_kafka_poll(k->prod, 10); /* the queue is full: let it drain */
    }
    if (++k->since_poll >= 1000) {
        k->since_poll = 0;
        rd_kafka_poll(k->prod, 0);
    }
    return 0;
}

static void k_close(bb_node *n) {
    knode *k = n->impl;
    if (!k) return;
    rd_kafka_flush(k->prod, 10000);
    atomic_store(&k->stop, true);
    pthread_join(k->rx, NULL);
    rd_kafka_consumer_close(k->cons);
    rd_kafka_destroy(k->cons);
    rd_kafka_destroy(k->prod);
    free(k);
    n->impl = NULL;
}

static const bb_transport kafka = {
    .name = "kafka",
    .backend = "Kafka",
    .options_help = "  --brokers LIST    bootstrap servers (default 127.0.0.1:9092)\n"
                    "  --linger MS       producer linger.ms (default 2, as agora's backend)\n",
    .option = opt,
    .open = k_open,
    .publish = k_publish,
    .close = k_close,
};

int main(int argc, char **argv) { return bb_main(&kafka, argc, argv); }
