/* kafka_backend.c — the Kafka backend: every node produces to "stwt.agora" and
 * consumes it in its own consumer group "<groupId>-<nodeId>", so every node receives
 * every message. A message's offset is committed only once the application has
 * consumed its events (host->consumed), so a node that was down or crashed (even
 * SIGKILLed with events still queued for its application) replays what it missed.
 *
 * Everything runs on the loop thread (see kafka_internal.h). */
#include "backend/kafka/kafka_internal.h"
#include "util/be.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TICK_MS 50           /* safety-net polling, retries, commit pacing */
/* At most one commit request per this interval: each is a write to the broker's
 * __consumer_offsets, and at 20 ms the broker stalled for 40-700 ms now and then
 * (p99 at 1,000 ev/s per node 40-675 ms, against 12-83 ms at 1 s). A crash replays at
 * most this much of what the application already took. */
#ifndef COMMIT_EVERY_MS
#define COMMIT_EVERY_MS 1000
#endif
#define DRAIN_MAX 1000       /* consumer messages per loop callback */
#define CREATE_RETRY_MS 1000 /* topic creation retry after a local failure */
#define ADMIN_TIMEOUT_MS 5000
/* The final commit and leaving the consumer group share this much of close: together
 * they must fit in agora_close's margin (AGORA_CLOSE_MARGIN_MS) after the core's own
 * flush and leave notice, even when the brokers are gone. Neither is needed for
 * safety: an offset not committed is replayed at the next start, and a group not left
 * is given up by the broker after timeoutSession. */
#define CLOSE_BUDGET_MS 600
#define LOG_EVERY_MS 30000   /* the same complaint at most this often */
#define SUBSCRIBE_DELAY_MS 300
#define OVERDUE_GRACE_MS 3000 /* after timeoutMessage, before a report is overdue */
#define TOPIC_SETTLE_MS 30000 /* "unknown topic" right after subscribing is expected */
#define PEND_MAX 65536       /* messages remembered until consumed; then merged */

/* A message read from the topic and handed to the core, waiting for the application:
 * its offset is stored once the core says payload `ticket` was consumed. */
typedef struct kpending {
    uint64_t ticket;
    int32_t partition;
    int64_t next_offset; /* the offset to commit: the message's own + 1 */
} kpending;

/* A message handed to librdkafka. Produced with a copy of the payload, so that a
 * message whose delivery report is overdue can be given back to the core (which then
 * frees its data) while librdkafka still holds it; its late report is then ignored. */
typedef struct kmsg {
    ag_msg *msg;
    uint64_t deadline_ms;
    bool abandoned;
    struct kmsg *prev, *next;
} kmsg;

typedef struct kmsg_list {
    kmsg *head, *tail;
} kmsg_list;

struct ag_kafka {
    ag_host *host;
    const ag_kafka_config *kc;
    rd_kafka_t *prod, *cons;
    rd_kafka_queue_t *prod_q, *cons_q, *admin_q;
    int prod_pipe[2], cons_pipe[2];
    ag_timer *timer;
    char servers[256];
    char group[512];

    atomic_bool logs_ok; /* librdkafka may log from its threads before the log queue is set */
    bool closing;
    bool blocked;        /* publish said EAGAIN (queue full) */
    bool prod_fatal;     /* idempotent producer hit a fatal error: rebuild it */
    kmsg_list live;      /* awaiting their delivery report, oldest first */
    kmsg_list abandoned; /* given back to the core after the deadline */
    uint64_t overdue_ms; /* timeoutMessage plus a grace */

    /* connection state */
    bool connected, ever_connected;
    uint64_t reconnects;
    bool down_logged;    /* the "cannot reach" line of this outage was written */

    /* topic creation, then subscription */
    bool topic_ready, admin_pending, subscribed;
    int topic_rf; /* -1: the brokers' default; 1 after a broker refused -1 */
    uint64_t create_at_ms, subscribe_at_ms, subscribed_ms;

    /* offsets stored but not yet committed */
    bool commit_dirty;
    uint64_t last_commit_ms;
    /* handed to the core, not yet consumed by the application; oldest first */
    kpending *pend;
    size_t pend_head, pend_len, pend_cap;
    /* per partition: the offset after the last message handed to the core (-1: none) */
    int64_t *next_pos;
    size_t next_pos_len;

    /* log rate limits */
    uint64_t err_log_ms;
    int err_last;
    unsigned err_suppressed;
};

/* ---- messages in flight --------------------------------------------------- */

static void kl_push(kmsg_list *l, kmsg *k) {
    k->next = NULL;
    k->prev = l->tail;
    if (l->tail)
        l->tail->next = k;
    else
        l->head = k;
    l->tail = k;
}

static void kl_unlink(kmsg_list *l, kmsg *k) {
    if (k->prev)
        k->prev->next = k->next;
    else
        l->head = k->next;
    if (k->next)
        k->next->prev = k->prev;
    else
        l->tail = k->prev;
    k->prev = k->next = NULL;
}

/* librdkafka normally reports every message within message.timeout.ms; in-flight
 * requests can take longer (and a stalled idempotent producer longer still). The core
 * is promised an answer by then: give overdue messages back as timed out. */
static void give_back_overdue(ag_kafka *b) {
    uint64_t now = ag_now_ms();
    unsigned n = 0;
    while (b->live.head && b->live.head->deadline_ms <= now && !b->closing) {
        kmsg *k = b->live.head;
        kl_unlink(&b->live, k);
        k->abandoned = true;
        kl_push(&b->abandoned, k);
        n++;
        b->host->msg_done(b->host, k->msg, AGORA_ETIMEDOUT);
    }
    if (n && !b->closing) {
        /* Not a broker outage (librdkafka times those out itself): the producer is
         * stuck. Start afresh at the next tick. */
        b->host->log(b->host, AGORA_LOG_WARN,
                     "Kafka: %u message(s) without a delivery report after %llu ms; "
                     "recreating the producer", n, (unsigned long long)b->overdue_ms);
        b->prod_fatal = true;
    }
}

/* After the producer was destroyed: what it never reported. */
static void forget_all(ag_kafka *b, bool tell_core) {
    kmsg *k;
    while ((k = b->live.head)) {
        kl_unlink(&b->live, k);
        if (tell_core) b->host->msg_done(b->host, k->msg, AGORA_EIO);
        free(k);
    }
    while ((k = b->abandoned.head)) {
        kl_unlink(&b->abandoned, k);
        free(k);
    }
}

/* ---- connection state ---------------------------------------------------- */

static void mark_connected(ag_kafka *b) {
    b->down_logged = false;
    if (b->connected) return;
    b->connected = true;
    if (b->ever_connected) b->reconnects++;
    b->ever_connected = true;
    b->host->set_connected(b->host, true, b->servers);
}

static void mark_disconnected(ag_kafka *b, const char *reason) {
    if (!b->down_logged) {
        b->down_logged = true;
        b->host->log(b->host, AGORA_LOG_WARN,
                     "Kafka: %s broker %s (%s); retrying in the background",
                     b->ever_connected ? "lost the connection to" : "cannot reach", b->servers,
                     reason ? reason : "no connection");
    }
    if (!b->connected) return;
    b->connected = false;
    b->host->set_connected(b->host, false, b->servers);
}

/* ---- librdkafka callbacks (all served on the loop thread) ---------------- */

void ag_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
    ag_kafka *b = rd_kafka_opaque(rk);
    if (!b || !atomic_load(&b->logs_ok) || b->closing) return;
    /* Problems reach us through the error callback as well; librdkafka's own lines
     * are details for debugging. */
    b->host->log(b->host, AGORA_LOG_DEBUG, "librdkafka %s [%d] %s: %s", rd_kafka_name(rk),
                 level, fac, buf);
}

void ag_kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque) {
    ag_kafka *b = opaque;
    if (b->closing) return;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_resp_err_t ferr = rd_kafka_fatal_error(rk, why, sizeof why);
        if (rk == b->prod) {
            b->host->log(b->host, AGORA_LOG_ERROR,
                         "Kafka: fatal producer error %s: %s; recreating the producer",
                         rd_kafka_err2name(ferr), why);
            b->prod_fatal = true;
        } else {
            b->host->log(b->host, AGORA_LOG_ERROR,
                         "Kafka: the consumer stopped on a fatal error %s: %s",
                         rd_kafka_err2name(ferr), why);
        }
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        mark_disconnected(b, reason);
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__RESOLVE ||
        err == RD_KAFKA_RESP_ERR__TIMED_OUT) {
        /* Connection trouble: the "cannot reach"/"lost" line covers it. */
        if (!b->connected) mark_disconnected(b, reason);
        b->host->log(b->host, AGORA_LOG_DEBUG, "Kafka: %s", reason);
        return;
    }
    uint64_t now = ag_now_ms();
    if (err == b->err_last && now - b->err_log_ms < LOG_EVERY_MS) {
        b->err_suppressed++;
        return;
    }
    if (b->err_suppressed)
        b->host->log(b->host, AGORA_LOG_WARN, "Kafka: %u similar error(s) suppressed",
                     b->err_suppressed);
    b->err_suppressed = 0;
    b->err_last = err;
    b->err_log_ms = now;
    b->host->log(b->host, AGORA_LOG_WARN, "Kafka: %s: %s%s", rd_kafka_err2name(err), reason,
                 ag_kafka_auth_hint(b->kc, err));
}

int ag_kafka_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque) {
    (void)rk;
    (void)len;
    ag_kafka *b = opaque;
    if (b->closing) return 0;
    /* Broker entries carry upper-case states ("UP", "DOWN", ...); the consumer
     * group's are lower-case, so this matches brokers only. */
    if (strstr(json, "\"state\":\"UP\""))
        mark_connected(b);
    else if (b->connected)
        mark_disconnected(b, "no broker connection is up");
    return 0; /* librdkafka frees json */
}

void ag_kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    ag_kafka *b = opaque;
    kmsg *k = m->_private;
    if (k->abandoned) {
        kl_unlink(&b->abandoned, k);
        free(k);
        return;
    }
    kl_unlink(&b->live, k);
    ag_msg *msg = k->msg;
    free(k);
    if (b->closing) return;
    if (m->err) {
        /* The core logs the failure and retries; the reason is a detail. */
        b->host->log(b->host, AGORA_LOG_DEBUG, "Kafka: message of %u event(s) not delivered: %s",
                     msg->nevents, rd_kafka_err2str(m->err));
        int st = m->err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT ? AGORA_ETIMEDOUT : AGORA_EIO;
        b->host->msg_done(b->host, msg, st);
    } else {
        mark_connected(b);
        b->host->msg_done(b->host, msg, AGORA_OK);
    }
    if (b->blocked && !b->closing) {
        b->blocked = false;
        b->host->resume(b->host);
    }
}

void ag_kafka_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t *offsets, void *opaque) {
    (void)rk;
    (void)offsets;
    ag_kafka *b = opaque;
    if (b->closing || err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET)
        return;
    /* Try again at the next tick; the stored offsets are still there. */
    b->commit_dirty = true;
    b->host->log(b->host, AGORA_LOG_DEBUG, "Kafka: offset commit failed: %s",
                 rd_kafka_err2str(err));
}

/* Where to resume partition p: the offset after the last message handed to the core,
 * or -1 if this process has not read from it. */
static int64_t resume_at(const ag_kafka *b, int32_t p) {
    return p >= 0 && (size_t)p < b->next_pos_len ? b->next_pos[p] : -1;
}

static void remember_pos(ag_kafka *b, int32_t p, int64_t next) {
    if (p < 0) return;
    if ((size_t)p >= b->next_pos_len) {
        size_t n = (size_t)p + 1;
        int64_t *v = realloc(b->next_pos, n * sizeof *v);
        if (!v) return; /* the committed offset is the fallback: replays, never loses */
        for (size_t i = b->next_pos_len; i < n; i++) v[i] = -1;
        b->next_pos = v;
        b->next_pos_len = n;
    }
    b->next_pos[p] = next;
}

/* A partition (re)assigned after a lost session or a broker restart would start at the
 * last committed offset (committed at most once a second), replaying what the core
 * already has; within one process the position we reached is the right start. At the
 * first assignment there is none and the committed offset applies. */
void ag_kafka_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t *parts, void *opaque) {
    ag_kafka *b = opaque;
    bool cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) {
            int64_t at = strcmp(parts->elems[i].topic, AGORA_TOPIC) == 0
                             ? resume_at(b, parts->elems[i].partition)
                             : -1;
            if (at >= 0) parts->elems[i].offset = at;
        }
        if (cooperative) {
            rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, parts);
            if (e) {
                b->host->log(b->host, AGORA_LOG_WARN, "Kafka: cannot take the assignment: %s",
                             rd_kafka_error_string(e));
                rd_kafka_error_destroy(e);
            }
        } else if (rd_kafka_assign(rk, parts) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            b->host->log(b->host, AGORA_LOG_WARN, "Kafka: cannot take the assignment");
        }
        return;
    }
    /* Revoked or lost. */
    if (cooperative) {
        rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
        if (e) rd_kafka_error_destroy(e);
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

/* ---- topic creation and subscription ------------------------------------- */

static void subscribe(ag_kafka *b) {
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, AGORA_TOPIC, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(b->cons, l);
    rd_kafka_topic_partition_list_destroy(l);
    if (err) {
        b->host->log(b->host, AGORA_LOG_ERROR, "Kafka: cannot subscribe to %s: %s; retrying",
                     AGORA_TOPIC, rd_kafka_err2str(err));
        b->subscribe_at_ms = ag_now_ms() + LOG_EVERY_MS;
        return;
    }
    b->subscribed = true;
    b->subscribed_ms = ag_now_ms();
    b->host->log(b->host, AGORA_LOG_DEBUG, "Kafka: consuming %s in group %s", AGORA_TOPIC,
                 b->group);
}

static void create_topic(ag_kafka *b) {
    char err[256];
    rd_kafka_NewTopic_t *t = ag_kafka_new_topic(b->topic_rf, err, sizeof err);
    if (!t) {
        b->host->log(b->host, AGORA_LOG_ERROR, "Kafka: %s", err);
        b->topic_ready = true; /* cannot create: hope it exists */
        return;
    }
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(b->prod, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    if (o) {
        rd_kafka_AdminOptions_set_request_timeout(o, ADMIN_TIMEOUT_MS, err, sizeof err);
        rd_kafka_AdminOptions_set_operation_timeout(o, ADMIN_TIMEOUT_MS, err, sizeof err);
    }
    rd_kafka_CreateTopics(b->prod, &t, 1, o, b->admin_q);
    if (o) rd_kafka_AdminOptions_destroy(o);
    rd_kafka_NewTopic_destroy(t);
    b->admin_pending = true;
}

static void admin_poll(ag_kafka *b) {
    rd_kafka_event_t *ev;
    while ((ev = rd_kafka_queue_poll(b->admin_q, 0))) {
        if (rd_kafka_event_type(ev) != RD_KAFKA_EVENT_CREATETOPICS_RESULT) {
            rd_kafka_event_destroy(ev);
            continue;
        }
        b->admin_pending = false;
        rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
        const char *why = rd_kafka_event_error_string(ev);
        if (!err) {
            size_t n = 0;
            const rd_kafka_CreateTopics_result_t *r = rd_kafka_event_CreateTopics_result(ev);
            const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(r, &n);
            if (n > 0) {
                err = rd_kafka_topic_result_error(tr[0]);
                why = rd_kafka_topic_result_error_string(tr[0]);
            }
        }
        if (!why) why = rd_kafka_err2str(err);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            b->host->log(b->host, AGORA_LOG_INFO,
                         "Kafka: created topic %s (1 partition, retention %s ms)", AGORA_TOPIC,
                         AG_KAFKA_RETENTION_MS);
        } else if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            /* the usual case */
        } else if (b->topic_rf < 0 && (err == RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR ||
                                       err == RD_KAFKA_RESP_ERR_INVALID_REQUEST ||
                                       err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION)) {
            /* A broker without "default replication factor" in CreateTopics. */
            b->host->log(b->host, AGORA_LOG_WARN,
                         "Kafka: the brokers refused to create %s with their default "
                         "replication factor (%s); creating it with replication factor 1 "
                         "(create it yourself for more, see docs/kafka.md)", AGORA_TOPIC, why);
            b->topic_rf = 1;
            b->create_at_ms = 0;
            rd_kafka_event_destroy(ev);
            continue;
        } else if ((int)err < 0) {
            /* Local (no broker yet, timeout): try again. */
            b->host->log(b->host, AGORA_LOG_DEBUG, "Kafka: creating topic %s: %s", AGORA_TOPIC,
                         why);
            b->create_at_ms = ag_now_ms() + CREATE_RETRY_MS;
            rd_kafka_event_destroy(ev);
            continue;
        } else {
            b->host->log(b->host, AGORA_LOG_WARN,
                         "Kafka: cannot create topic %s (%s); it must exist for agora to work",
                         AGORA_TOPIC, why);
        }
        rd_kafka_event_destroy(ev);
        b->topic_ready = true;
        /* A topic just created (here or by another node) takes a moment to reach
         * every broker's metadata. */
        b->subscribe_at_ms = ag_now_ms() + SUBSCRIBE_DELAY_MS;
    }
}

/* ---- consumer ------------------------------------------------------------ */

static void commit_now(ag_kafka *b) {
    if (!b->commit_dirty || !b->subscribed) return;
    b->commit_dirty = false;
    b->last_commit_ms = ag_now_ms();
    rd_kafka_resp_err_t err = rd_kafka_commit(b->cons, NULL, 1);
    if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET) b->commit_dirty = true;
}

static void consumer_error(ag_kafka *b, const rd_kafka_message_t *m) {
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) return;
    if ((m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
         m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) &&
        ag_now_ms() - b->subscribed_ms < TOPIC_SETTLE_MS) {
        b->host->log(b->host, AGORA_LOG_DEBUG, "Kafka: %s", rd_kafka_message_errstr(m));
        return;
    }
    ag_kafka_error_cb(b->cons, m->err, rd_kafka_message_errstr(m), b);
}

/* Remember a message handed to the core until the application consumed it. */
static void pend_push(ag_kafka *b, uint64_t ticket, int32_t partition, int64_t next_offset) {
    kpending *last = b->pend_len > b->pend_head ? &b->pend[b->pend_len - 1] : NULL;
    if (last && last->partition == partition && b->pend_len - b->pend_head >= PEND_MAX) {
        /* An application that stopped taking events while heartbeats keep coming: the
         * newest entry now stands for both (its offset waits for the later ticket). */
        last->ticket = ticket;
        last->next_offset = next_offset;
        return;
    }
    if (b->pend_len == b->pend_cap) {
        if (b->pend_head > 0) {
            size_t live = b->pend_len - b->pend_head;
            memmove(b->pend, b->pend + b->pend_head, live * sizeof *b->pend);
            b->pend_len = live;
            b->pend_head = 0;
        } else {
            size_t n = b->pend_cap ? b->pend_cap * 2 : 1024;
            kpending *p = realloc(b->pend, n * sizeof *p);
            /* Out of memory: this offset is covered by the next message's anyway. */
            if (!p) return;
            b->pend = p;
            b->pend_cap = n;
        }
    }
    b->pend[b->pend_len++] = (kpending){ticket, partition, next_offset};
}

/* Store the offsets of every message whose events the application has consumed, and
 * commit them (paced) unless `may_commit` is false (close commits by itself). */
static void store_consumed(ag_kafka *b, bool may_commit) {
    if (b->pend_head == b->pend_len) return;
    /* A host without tickets (a test's own): handed over means consumed. */
    uint64_t upto = b->host->consumed ? b->host->consumed(b->host) : UINT64_MAX;
    rd_kafka_topic_partition_list_t *done = NULL;
    while (b->pend_head < b->pend_len && b->pend[b->pend_head].ticket <= upto) {
        kpending *k = &b->pend[b->pend_head++];
        if (!done) done = rd_kafka_topic_partition_list_new(4);
        rd_kafka_topic_partition_t *p =
            rd_kafka_topic_partition_list_find(done, AGORA_TOPIC, k->partition);
        if (!p) p = rd_kafka_topic_partition_list_add(done, AGORA_TOPIC, k->partition);
        p->offset = k->next_offset;
    }
    if (b->pend_head == b->pend_len) b->pend_head = b->pend_len = 0;
    if (!done) return;
    rd_kafka_offsets_store(b->cons, done); /* partitions revoked meanwhile: ignored */
    rd_kafka_topic_partition_list_destroy(done);
    b->commit_dirty = true;
    if (may_commit && ag_now_ms() - b->last_commit_ms >= COMMIT_EVERY_MS) commit_now(b);
}

static void drain_consumer(ag_kafka *b) {
    if (b->closing) return;
    int n = 0;
    for (; n < DRAIN_MAX; n++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(b->cons, 0);
        if (!m) break;
        if (m->err) {
            consumer_error(b, m);
        } else {
            b->host->deliver(b->host, m->payload, m->len);
            /* Handed to the core; committed once the application consumed it. */
            uint64_t ticket = b->host->last_ticket ? b->host->last_ticket(b->host) : 0;
            pend_push(b, ticket, m->partition, m->offset + 1);
            remember_pos(b, m->partition, m->offset + 1);
        }
        rd_kafka_message_destroy(m);
        if (b->closing) break;
    }
    /* Also on every tick: the application consumes on its own thread. */
    if (!b->closing) store_consumed(b, true);
    /* The queue signals only when it turns non-empty: come back for the rest. */
    if (n == DRAIN_MAX) {
        ssize_t w = write(b->cons_pipe[1], "k", 1);
        (void)w;
    }
}

/* ---- producer (re)creation ----------------------------------------------- */

static void drain_pipe(int fd) {
    /* One read: librdkafka writes one byte when a queue turns non-empty, and the loop is
     * level-triggered, so anything left wakes us again (saves a read per wake-up). */
    char buf[256];
    ssize_t r = read(fd, buf, sizeof buf);
    (void)r;
}

static void on_prod_fd(ag_loop *l, int fd, unsigned ev, void *arg) {
    (void)l;
    (void)ev;
    ag_kafka *b = arg;
    drain_pipe(fd);
    if (!b->closing) rd_kafka_poll(b->prod, 0);
}

static void on_cons_fd(ag_loop *l, int fd, unsigned ev, void *arg) {
    (void)l;
    (void)ev;
    ag_kafka *b = arg;
    drain_pipe(fd);
    drain_consumer(b);
}

static int make_pipe(int p[2]) {
    if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) {
        p[0] = p[1] = -1;
        return -1;
    }
    return 0;
}

static void close_pipe(int p[2]) {
    for (int i = 0; i < 2; i++)
        if (p[i] >= 0) close(p[i]);
    p[0] = p[1] = -1;
}

static int producer_start(ag_kafka *b, char *err, size_t errlen) {
    rd_kafka_conf_t *c = ag_kafka_producer_conf(b->kc, b->host->node_id, b, err, errlen);
    if (!c) return AGORA_ECONFIG;
    char e[512];
    b->prod = rd_kafka_new(RD_KAFKA_PRODUCER, c, e, sizeof e);
    if (!b->prod) {
        rd_kafka_conf_destroy(c);
        ag_kafka_new_error("producer", e, err, errlen);
        return AGORA_ECONFIG;
    }
    rd_kafka_set_log_queue(b->prod, NULL);
    b->prod_q = rd_kafka_queue_get_main(b->prod);
    b->admin_q = rd_kafka_queue_new(b->prod);
    rd_kafka_queue_io_event_enable(b->prod_q, b->prod_pipe[1], "p", 1);
    return AGORA_OK;
}

static void producer_stop(ag_kafka *b) {
    if (!b->prod) return;
    bool was_closing = b->closing;
    /* Whatever is still queued is abandoned (close) or failed back to the core
     * (rebuild: the delivery reports below say so). */
    rd_kafka_purge(b->prod, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_poll(b->prod, 0);
    b->closing = true; /* nothing reaches the core from here on */
    rd_kafka_queue_io_event_enable(b->prod_q, -1, NULL, 0);
    rd_kafka_queue_destroy(b->prod_q);
    rd_kafka_queue_destroy(b->admin_q);
    rd_kafka_destroy(b->prod);
    b->prod = NULL;
    b->prod_q = b->admin_q = NULL;
    b->closing = was_closing;
    forget_all(b, !was_closing);
}

static void rebuild_producer(ag_kafka *b) {
    /* prod_fatal stays set meanwhile: publish answers EAGAIN, so nothing is produced
     * into the handle being torn down. */
    producer_stop(b);
    b->admin_pending = false;
    char err[512];
    /* Until its log queue is set, a new handle logs from its own threads. */
    atomic_store(&b->logs_ok, false);
    int rc = producer_start(b, err, sizeof err);
    atomic_store(&b->logs_ok, true);
    if (rc != AGORA_OK) {
        b->host->log(b->host, AGORA_LOG_ERROR, "Kafka: cannot recreate the producer: %s", err);
        return; /* retried at the next tick */
    }
    b->prod_fatal = false;
    if (b->blocked) {
        b->blocked = false;
        b->host->resume(b->host);
    }
}

/* ---- tick ---------------------------------------------------------------- */

static void on_tick(ag_loop *l, ag_timer *t, void *arg) {
    (void)l;
    (void)t;
    ag_kafka *b = arg;
    if (b->prod_fatal || !b->prod) rebuild_producer(b);
    if (!b->prod) return;
    if (b->blocked && !b->live.head) {
        b->blocked = false;
        b->host->resume(b->host);
    }
    rd_kafka_poll(b->prod, 0);
    give_back_overdue(b);
    drain_consumer(b);
    if (b->admin_pending) admin_poll(b);
    if (!b->topic_ready && !b->admin_pending && ag_now_ms() >= b->create_at_ms) create_topic(b);
    if (b->topic_ready && !b->subscribed && ag_now_ms() >= b->subscribe_at_ms) subscribe(b);
    /* Paced here too: committing at every tick was 20 offset writes a second per node,
     * which a single broker answered with stalls of tens of milliseconds. */
    if (ag_now_ms() - b->last_commit_ms >= COMMIT_EVERY_MS) commit_now(b);
}

/* ---- ops ----------------------------------------------------------------- */

static void kafka_close(ag_backend *be);

static int kafka_open(ag_host *host, ag_backend **out, char *err, size_t errlen) {
    const ag_kafka_config *kc = (const ag_kafka_config *)host->cfg->backend;
    if (kc->brokers.count == 0) {
        snprintf(err, errlen, "coordinator.brokers: at least one broker is required");
        return AGORA_ECONFIG;
    }
    ag_kafka *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return AGORA_ENOMEM;
    }
    b->host = host;
    b->kc = kc;
    b->prod_pipe[0] = b->prod_pipe[1] = b->cons_pipe[0] = b->cons_pipe[1] = -1;
    b->topic_rf = -1;
    b->overdue_ms = (kc->timeout_message_ms ? kc->timeout_message_ms : 5000) + OVERDUE_GRACE_MS;
    ag_kafka_servers_text(kc, b->servers, sizeof b->servers);
    if (host->observer)
        ag_kafka_observer_group_name(kc, host->incarnation, b->group, sizeof b->group);
    else
        ag_kafka_group_name(kc, host->node_id, b->group, sizeof b->group);
    int rc = AGORA_EIO;
    if (make_pipe(b->prod_pipe) != 0 || make_pipe(b->cons_pipe) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        goto fail;
    }
    rc = producer_start(b, err, errlen);
    if (rc != AGORA_OK) goto fail;

    rd_kafka_conf_t *c = ag_kafka_consumer_conf(kc, host->node_id, b->group, b, err, errlen);
    if (!c) {
        rc = AGORA_ECONFIG;
        goto fail;
    }
    char e[512];
    b->cons = rd_kafka_new(RD_KAFKA_CONSUMER, c, e, sizeof e);
    if (!b->cons) {
        rd_kafka_conf_destroy(c);
        ag_kafka_new_error("consumer", e, err, errlen);
        rc = AGORA_ECONFIG;
        goto fail;
    }
    rd_kafka_set_log_queue(b->cons, NULL);
    rd_kafka_poll_set_consumer(b->cons);
    b->cons_q = rd_kafka_queue_get_consumer(b->cons);
    rd_kafka_queue_io_event_enable(b->cons_q, b->cons_pipe[1], "c", 1);
    atomic_store(&b->logs_ok, true);

    if (ag_loop_add_fd(host->loop, b->prod_pipe[0], AG_READ, on_prod_fd, b) != 0 ||
        ag_loop_add_fd(host->loop, b->cons_pipe[0], AG_READ, on_cons_fd, b) != 0) {
        snprintf(err, errlen, "cannot watch the Kafka queues");
        rc = AGORA_EIO;
        goto fail;
    }
    b->timer = ag_timer_start(host->loop, TICK_MS, TICK_MS, on_tick, b);
    if (!b->timer) {
        snprintf(err, errlen, "out of memory");
        rc = AGORA_ENOMEM;
        goto fail;
    }
    if (kc->timeout_session_ms < AG_KAFKA_MIN_SESSION_MS)
        host->log(host, AGORA_LOG_DEBUG,
                  "Kafka: timeoutSession %llu ms raised to %d ms (brokers' default minimum)",
                  (unsigned long long)kc->timeout_session_ms, AG_KAFKA_MIN_SESSION_MS);
    host->log(host, AGORA_LOG_INFO, "Kafka: brokers %s, topic %s, consumer group %s", b->servers,
              AGORA_TOPIC, b->group);
    host->set_connected(host, false, b->servers);
    create_topic(b);
    *out = (ag_backend *)b;
    return AGORA_OK;

fail:
    kafka_close((ag_backend *)b);
    return rc;
}

static int kafka_publish(ag_backend *be, ag_msg *msg) {
    ag_kafka *b = (ag_kafka *)be;
    if (b->closing) return AGORA_ECLOSED;
    if (b->prod_fatal || !b->prod) {
        b->blocked = true;
        return AGORA_EAGAIN;
    }
    /* Key = origin node: with a topic of several partitions, each origin keeps its
     * order. */
    kmsg *k = calloc(1, sizeof *k);
    if (!k) {
        b->blocked = true; /* the tick resumes */
        return AGORA_EAGAIN;
    }
    k->msg = msg;
    k->deadline_ms = ag_now_ms() + b->overdue_ms;
    uint8_t key[2];
    ag_put_be16(key, b->host->node_id);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        b->prod, RD_KAFKA_V_TOPIC(AGORA_TOPIC), RD_KAFKA_V_VALUE((void *)msg->data, msg->len),
        RD_KAFKA_V_KEY(key, sizeof key), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_OPAQUE(k), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        kl_push(&b->live, k);
        return AGORA_OK;
    }
    free(k);
    switch (err) {
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
        b->blocked = true;
        return AGORA_EAGAIN;
    case RD_KAFKA_RESP_ERR__FATAL:
        b->prod_fatal = true;
        b->blocked = true;
        return AGORA_EAGAIN;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
        b->host->log(b->host, AGORA_LOG_ERROR, "Kafka: a message of %zu bytes is too large",
                     msg->len);
        return AGORA_EINVAL;
    default:
        b->host->log(b->host, AGORA_LOG_ERROR, "Kafka: cannot produce: %s", rd_kafka_err2str(err));
        return AGORA_EIO;
    }
}

static void kafka_status(ag_backend *be, agora_status *st) {
    ag_kafka *b = (ag_kafka *)be;
    st->connected = b->connected;
    snprintf(st->server, sizeof st->server, "%s", b->servers);
    st->reconnects = b->reconnects;
    st->peers = b->connected ? 1 : 0;
}

static void kafka_close(ag_backend *be) {
    ag_kafka *b = (ag_kafka *)be;
    if (!b) return;
    ag_loop *loop = b->host->loop;
    if (b->timer) ag_timer_stop(loop, b->timer);
    b->timer = NULL;
    if (b->prod_pipe[0] >= 0) ag_loop_del_fd(loop, b->prod_pipe[0]);
    if (b->cons_pipe[0] >= 0) ag_loop_del_fd(loop, b->cons_pipe[0]);

    /* While the brokers are unreachable neither step can finish: skip both. */
    bool reachable = b->connected;
    uint64_t end = ag_now_ms() + CLOSE_BUDGET_MS;
    if (b->cons) {
        /* Last commit of what the application consumed, bounded. What it did not is
         * replayed at the next start. */
        if (!b->closing) store_consumed(b, false);
        if (b->commit_dirty && b->subscribed && reachable) {
            rd_kafka_queue_t *q = rd_kafka_queue_new(b->cons);
            if (rd_kafka_commit_queue(b->cons, NULL, q, NULL, NULL) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                /* half the budget at most: leaving the group gets the rest */
                rd_kafka_event_t *ev = rd_kafka_queue_poll(q, CLOSE_BUDGET_MS / 2);
                if (ev) rd_kafka_event_destroy(ev);
            }
            rd_kafka_queue_destroy(q);
        }
    }
    b->closing = true;
    if (b->cons) {
        rd_kafka_queue_io_event_enable(b->cons_q, -1, NULL, 0);
        rd_kafka_queue_destroy(b->cons_q);
        /* Leave the group, so that the next start of this node is assigned the
         * partition at once; bounded, as the brokers may be gone. */
        if (b->subscribed && reachable) {
            rd_kafka_queue_t *q = rd_kafka_queue_new(b->cons);
            rd_kafka_error_t *e = rd_kafka_consumer_close_queue(b->cons, q);
            if (e) {
                rd_kafka_error_destroy(e);
            } else {
                while (!rd_kafka_consumer_closed(b->cons) && ag_now_ms() < end) {
                    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 20);
                    if (!ev) continue;
                    /* The revocation comes here as an event; unassigning is ours to do,
                     * or the close never completes. */
                    if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
                        ag_kafka_rebalance_cb(b->cons, rd_kafka_event_error(ev),
                                              rd_kafka_event_topic_partition_list(ev), b);
                    rd_kafka_event_destroy(ev);
                }
            }
            rd_kafka_queue_destroy(q);
        }
        rd_kafka_destroy_flags(b->cons, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
        b->cons = NULL;
    }
    producer_stop(b);
    close_pipe(b->prod_pipe);
    close_pipe(b->cons_pipe);
    free(b->pend);
    free(b->next_pos);
    free(b);
}

const ag_backend_ops ag_backend_kafka = {
    .name = "Kafka",
    .max_payload = AG_KAFKA_MAX_PAYLOAD,
    .open = kafka_open,
    .publish = kafka_publish,
    .status = kafka_status,
    .close = kafka_close,
};
