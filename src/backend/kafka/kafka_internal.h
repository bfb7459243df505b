/* kafka_internal.h — pieces of the Kafka backend (librdkafka).
 *
 *   kafka_conf.c     ag_kafka_config -> rd_kafka_conf_t for the producer and the
 *                    consumer; the topic to create (partitions, retention)
 *   kafka_backend.c  the ops table: producer (delivery reports -> msg_done), consumer
 *                    (payloads -> host->deliver; offsets committed once
 *                    host->consumed says the application took their events), topic
 *                    creation, connection state
 *
 * Threads: none of ours. librdkafka's queues (producer main queue, consumer queue)
 * signal a pipe when they become non-empty (rd_kafka_queue_io_event_enable); the
 * pipes are watched by the I/O loop, which polls the queues, so every librdkafka
 * callback (delivery reports, errors, logs, statistics, commits) runs on the loop
 * thread. A repeating timer polls too, as a safety net and to drive retries. */
#ifndef AG_KAFKA_INTERNAL_H
#define AG_KAFKA_INTERNAL_H

#include "backend/kafka/kafka_config.h"
#include "core/backend.h"

#include <librdkafka/rdkafka.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Kafka brokers refuse consumer session timeouts below group.min.session.timeout.ms
 * (6 s by default, Apache Kafka and Redpanda alike). */
#define AG_KAFKA_MIN_SESSION_MS 6000
/* Topic settings used when agora creates stwt.agora (see docs/kafka.md). */
#define AG_KAFKA_RETENTION_MS "86400000"      /* 1 day */
#define AG_KAFKA_SEGMENT_MS "3600000"         /* roll hourly so retention can act */
#define AG_KAFKA_RETENTION_BYTES "1073741824" /* 1 GiB per partition */
/* Largest payload handed to the producer (librdkafka's message.max.bytes is 1e6). */
#define AG_KAFKA_MAX_PAYLOAD (900 * 1024)

typedef struct ag_kafka ag_kafka;

/* Callbacks wired into both configurations (kafka_backend.c). */
void ag_kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque);
void ag_kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque);
void ag_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf);
int ag_kafka_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque);
void ag_kafka_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t *offsets, void *opaque);
void ag_kafka_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t *parts, void *opaque);

/* "host:port,host:port" of the configured brokers. */
void ag_kafka_servers_text(const ag_kafka_config *kc, char *buf, size_t len);

/* The consumer group of this node: "<groupId>-<nodeId>". */
void ag_kafka_group_name(const ag_kafka_config *kc, uint16_t node_id, char *buf, size_t len);
/* An observer's own group, "<groupId>-observer-<incarnation in hex>": it must not take
 * a node's messages from that node's group, nor share one with another observer. */
void ag_kafka_observer_group_name(const ag_kafka_config *kc, uint64_t incarnation, char *buf,
                                  size_t len);

/* The session timeout actually used (timeoutSession raised to the brokers' minimum). */
uint64_t ag_kafka_session_ms(const ag_kafka_config *kc);

/* The error of a failed rd_kafka_new for `client` ("producer", "consumer") into err,
 * naming the agora field behind librdkafka's property when there is one. */
void ag_kafka_new_error(const char *client, const char *e, char *err, size_t errlen);

/* What an authentication error `err` may really mean with this configuration and
 * this librdkafka ("" when nothing): appended to the warning. */
const char *ag_kafka_auth_hint(const ag_kafka_config *kc, int err);

/* Build the producer / consumer configuration. `opaque` is passed to the callbacks.
 * NULL with a message in err (naming the setting) on failure. */
rd_kafka_conf_t *ag_kafka_producer_conf(const ag_kafka_config *kc, uint16_t node_id,
                                        void *opaque, char *err, size_t errlen);
rd_kafka_conf_t *ag_kafka_consumer_conf(const ag_kafka_config *kc, uint16_t node_id,
                                        const char *group, void *opaque, char *err, size_t errlen);

/* The topic to create: 1 partition (total order), agora's retention, replication
 * factor `rf` (-1 = the brokers' default.replication.factor). NULL with a message on
 * failure. */
rd_kafka_NewTopic_t *ag_kafka_new_topic(int rf, char *err, size_t errlen);

#endif
