/* kafka_conf.c — librdkafka configurations for agora's producer and consumer, and the
 * topic agora creates. */
#include "backend/kafka/kafka_internal.h"

#include <stdio.h>
#include <string.h>

void ag_kafka_servers_text(const ag_kafka_config *kc, char *buf, size_t len) {
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < kc->brokers.count && off < len; i++) {
        int n = snprintf(buf + off, len - off, "%s%s", i ? "," : "", kc->brokers.items[i]);
        if (n < 0) break;
        off += (size_t)n;
    }
}

void ag_kafka_group_name(const ag_kafka_config *kc, uint16_t node_id, char *buf, size_t len) {
    snprintf(buf, len, "%s-%u", kc->group_id && kc->group_id[0] ? kc->group_id : "agora",
             (unsigned)node_id);
}

void ag_kafka_observer_group_name(const ag_kafka_config *kc, uint64_t incarnation, char *buf,
                                  size_t len) {
    snprintf(buf, len, "%s-observer-%llx", kc->group_id && kc->group_id[0] ? kc->group_id : "agora",
             (unsigned long long)incarnation);
}

uint64_t ag_kafka_session_ms(const ag_kafka_config *kc) {
    uint64_t ms = kc->timeout_session_ms ? kc->timeout_session_ms : 5000;
    return ms < AG_KAFKA_MIN_SESSION_MS ? AG_KAFKA_MIN_SESSION_MS : ms;
}

static bool set(rd_kafka_conf_t *c, const char *key, const char *val, char *err,
                size_t errlen) {
    char e[256];
    if (rd_kafka_conf_set(c, key, val, e, sizeof e) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "Kafka setting %s=%s refused: %s", key, val, e);
        return false;
    }
    return true;
}

static bool set_u64(rd_kafka_conf_t *c, const char *key, uint64_t v, char *err,
                    size_t errlen) {
    char buf[32];
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
    return set(c, key, buf, err, errlen);
}

/* Settings both clients share. */
static rd_kafka_conf_t *common_conf(const ag_kafka_config *kc, uint16_t node_id,
                                    void *opaque, char *err, size_t errlen) {
    if (kc->brokers.count == 0) {
        snprintf(err, errlen, "brokers: at least one broker is required");
        return NULL;
    }
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    char servers[1024], client[64];
    ag_kafka_servers_text(kc, servers, sizeof servers);
    snprintf(client, sizeof client, "agora-node-%u", (unsigned)node_id);
    bool ok = set(c, "bootstrap.servers", servers, err, errlen) &&
              set(c, "client.id", client, err, errlen) &&
              /* Logs go to the main queue, served on our loop thread. */
              set(c, "log.queue", "true", err, errlen) &&
              set(c, "log.connection.close", "false", err, errlen) &&
              /* Come back quickly after a broker restart. */
              set(c, "reconnect.backoff.ms", "100", err, errlen) &&
              set(c, "reconnect.backoff.max.ms", "1000", err, errlen) &&
              set(c, "socket.connection.setup.timeout.ms", "10000", err, errlen) &&
              set(c, "topic.metadata.refresh.interval.ms", "5000", err, errlen) &&
              /* agora creates the topic itself, with its settings. */
              set(c, "allow.auto.create.topics", "false", err, errlen);
    if (!ok) {
        rd_kafka_conf_destroy(c);
        return NULL;
    }
    rd_kafka_conf_set_opaque(c, opaque);
    rd_kafka_conf_set_error_cb(c, ag_kafka_error_cb);
    rd_kafka_conf_set_log_cb(c, ag_kafka_log_cb);
    return c;
}

rd_kafka_conf_t *ag_kafka_producer_conf(const ag_kafka_config *kc, uint16_t node_id,
                                        void *opaque, char *err, size_t errlen) {
    rd_kafka_conf_t *c = common_conf(kc, node_id, opaque, err, errlen);
    if (!c) return NULL;
    uint64_t tmo = kc->timeout_message_ms ? kc->timeout_message_ms : 5000;
    bool ok = set_u64(c, "message.timeout.ms", tmo, err, errlen) &&
              /* The core batches already; a short linger only merges bursts. */
              set(c, "linger.ms", "2", err, errlen) &&
              set(c, "acks", "all", err, errlen) &&
              set(c, "enable.idempotence", "true", err, errlen) &&
              set_u64(c, "message.max.bytes", AG_KAFKA_MAX_PAYLOAD + 64 * 1024, err, errlen) &&
              /* Connection state for agora_status comes from the statistics. */
              set(c, "statistics.interval.ms", "500", err, errlen);
    if (!ok) {
        rd_kafka_conf_destroy(c);
        return NULL;
    }
    rd_kafka_conf_set_dr_msg_cb(c, ag_kafka_dr_cb);
    rd_kafka_conf_set_stats_cb(c, ag_kafka_stats_cb);
    return c;
}

rd_kafka_conf_t *ag_kafka_consumer_conf(const ag_kafka_config *kc, uint16_t node_id,
                                        const char *group, void *opaque, char *err,
                                        size_t errlen) {
    rd_kafka_conf_t *c = common_conf(kc, node_id, opaque, err, errlen);
    if (!c) return NULL;
    /* Dynamic membership on purpose: with static membership (group.instance.id) a
     * broker restart can fence the running consumer for good (FENCED_INSTANCE_ID).
     * The price is that a node restarted after a crash waits for its old session to
     * expire (timeoutSession) before it consumes again; nothing is lost meanwhile. */
    uint64_t session = ag_kafka_session_ms(kc);
    uint64_t heartbeat = session / 3 < 3000 ? session / 3 : 3000;
    bool ok = set(c, "group.id", group, err, errlen) &&
              set_u64(c, "session.timeout.ms", session, err, errlen) &&
              set_u64(c, "heartbeat.interval.ms", heartbeat, err, errlen) &&
              /* Offsets are committed by us after the payloads reached the core. */
              set(c, "enable.auto.commit", "false", err, errlen) &&
              set(c, "enable.auto.offset.store", "false", err, errlen) &&
              /* A node that never ran starts at the end of the log. */
              set(c, "auto.offset.reset", "latest", err, errlen) &&
              set(c, "fetch.wait.max.ms", "100", err, errlen) &&
              set(c, "fetch.error.backoff.ms", "100", err, errlen);
    if (!ok) {
        rd_kafka_conf_destroy(c);
        return NULL;
    }
    rd_kafka_conf_set_offset_commit_cb(c, ag_kafka_commit_cb);
    /* Assignments pass through us: after a lost session we resume where we are, not
     * at the last commit. */
    rd_kafka_conf_set_rebalance_cb(c, ag_kafka_rebalance_cb);
    return c;
}

rd_kafka_NewTopic_t *ag_kafka_new_topic(int rf, char *err, size_t errlen) {
    char e[256];
    /* One partition: one total order for everyone. */
    rd_kafka_NewTopic_t *t = rd_kafka_NewTopic_new(AGORA_TOPIC, 1, rf, e, sizeof e);
    if (!t) {
        snprintf(err, errlen, "topic %s: %s", AGORA_TOPIC, e);
        return NULL;
    }
    static const char *const cfg[][2] = {
        {"cleanup.policy", "delete"},
        {"retention.ms", AG_KAFKA_RETENTION_MS},
        {"retention.bytes", AG_KAFKA_RETENTION_BYTES},
        {"segment.ms", AG_KAFKA_SEGMENT_MS},
    };
    for (size_t i = 0; i < sizeof cfg / sizeof cfg[0]; i++) {
        if (rd_kafka_NewTopic_set_config(t, cfg[i][0], cfg[i][1]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(err, errlen, "topic %s: cannot set %s", AGORA_TOPIC, cfg[i][0]);
            rd_kafka_NewTopic_destroy(t);
            return NULL;
        }
    }
    return t;
}
