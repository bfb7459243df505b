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

/* A value that must never be echoed (passwords): the error names the agora field. */
static bool set_secret(rd_kafka_conf_t *c, const char *key, const char *val, const char *field,
                       char *err, size_t errlen) {
    char e[256];
    if (rd_kafka_conf_set(c, key, val, e, sizeof e) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "%s: refused by librdkafka (%s)", field, key);
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

/* Transport security: TLS files and SASL. The files were found readable when the
 * configuration was read; librdkafka loads them in rd_kafka_new (see
 * ag_kafka_new_error for its complaints). */
static bool security_conf(rd_kafka_conf_t *c, const ag_kafka_config *kc, char *err,
                          size_t errlen) {
    const char *proto = kc->use_tls ? (kc->sasl_mechanism ? "SASL_SSL" : "SSL")
                                    : (kc->sasl_mechanism ? "SASL_PLAINTEXT" : "PLAINTEXT");
    if (!set(c, "security.protocol", proto, err, errlen)) return false;
    const ag_tls_files *t = &kc->tls;
    if (kc->use_tls && !((!t->ca_file || set(c, "ssl.ca.location", t->ca_file, err, errlen)) &&
                         (!t->cert_file ||
                          set(c, "ssl.certificate.location", t->cert_file, err, errlen)) &&
                         (!t->key_file || set(c, "ssl.key.location", t->key_file, err, errlen)) &&
                         (!t->key_password || set_secret(c, "ssl.key.password", t->key_password,
                                                         "tlsKeyPassword", err, errlen)) &&
                         /* the broker's certificate must name the address dialled */
                         set(c, "ssl.endpoint.identification.algorithm", "https", err, errlen)))
        return false;
    if (kc->sasl_mechanism &&
        !(set(c, "sasl.mechanisms", kc->sasl_mechanism, err, errlen) &&
          set_secret(c, "sasl.username", kc->auth_username ? kc->auth_username : "",
                     "authUsername", err, errlen) &&
          set_secret(c, "sasl.password", kc->auth_secret ? kc->auth_secret : "", "authSecret",
                     err, errlen)))
        return false;
    return true;
}

void ag_kafka_new_error(const char *client, const char *e, char *err, size_t errlen) {
    /* librdkafka names its property; say which agora field that is. */
    static const char *const map[][2] = {
        {"ssl.ca.location", "tlsCaFile"},
        {"ssl.certificate.location", "tlsCertFile"},
        {"ssl.key.location", "tlsKeyFile (or tlsKeyPassword)"},
        {"ssl.key.password", "tlsKeyPassword"},
        {"sasl.", "saslMechanism/authUsername/authSecret"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strstr(e, map[i][0])) {
            snprintf(err, errlen, "coordinator.%s: Kafka %s: %s", map[i][1], client, e);
            return;
        }
    snprintf(err, errlen, "Kafka %s: %s", client, e);
}

const char *ag_kafka_auth_hint(const ag_kafka_config *kc, int err) {
    /* librdkafka before 2.6.1 builds a SCRAM proof that Kafka 4 brokers reject
     * (librdkafka issue 4895): the broker only says "invalid credentials". */
    if (err == RD_KAFKA_RESP_ERR__AUTHENTICATION && kc && kc->sasl_mechanism &&
        !strncmp(kc->sasl_mechanism, "SCRAM", 5) && rd_kafka_version() < 0x020601ff)
        return " (if the password is right: this librdkafka is older than 2.6.1 and cannot do "
               "SCRAM with Kafka 4 brokers; use PLAIN over TLS or a newer librdkafka)";
    return "";
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
              set(c, "allow.auto.create.topics", "false", err, errlen) &&
              security_conf(c, kc, err, errlen);
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
