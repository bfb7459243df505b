/* kafka_fixture.h — a real Apache Kafka broker for the Kafka tests, run by
 * scripts/kafka-broker.sh (fetched with mvn, KRaft single node on 127.0.0.1). One
 * broker per test program, in a temp directory removed at exit; the script's watchdog
 * stops the broker if the test program dies. Also a few librdkafka helpers to look
 * at the broker's state (committed offsets, end of the log). */
#ifndef KAFKA_FIXTURE_H
#define KAFKA_FIXTURE_H

#if defined(__has_include)
#if __has_include(<librdkafka/rdkafka.h>)
#define KAFKA_FX_ENABLED 1
#endif
#endif

#ifdef KAFKA_FX_ENABLED
#include "agora.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct kafka_fx_broker {
    int port;         /* client port; the controller listens on port + 1 */
    char dir[512];
    char brokers[64]; /* "127.0.0.1:port" */
    bool running;
    char env[768];    /* environment for scripts/kafka-broker.sh (secure listeners) */
} kafka_fx_broker;

/* Java and Maven are installed (tests skip with 77 otherwise). */
bool kafka_fx_available(void);

/* Start a broker on `port` (data in a fresh temp dir). Waits until it serves. 0 on
 * success; on failure the script's output has been printed. */
int kafka_fx_start(kafka_fx_broker *k, int port);
/* The same, also listening with TLS on port + 2 (client certificate required) and
 * SASL_SSL on port + 3 (PLAIN, SCRAM-SHA-256/512 for user/pass): `pki_dir` holds
 * server.p12 (password `storepass`) and ca.pem (tls_pki.h). `version`: the Kafka
 * version (NULL: the script's default). */
int kafka_fx_start_secure(kafka_fx_broker *k, int port, const char *pki_dir,
                          const char *storepass, const char *user, const char *pass,
                          const char *version);
/* Stop (SIGTERM, wait) / kill (SIGKILL) / start again on the same data. */
void kafka_fx_stop(kafka_fx_broker *k);
void kafka_fx_kill(kafka_fx_broker *k);
int kafka_fx_restart(kafka_fx_broker *k);
/* Send a signal to the broker (SIGSTOP / SIGCONT to hang and resume it). */
void kafka_fx_signal(kafka_fx_broker *k, int sig);

/* Committed offset of `group` on partition 0 of stwt.agora: >= 0, -1 if none, -2 on
 * error. */
int64_t kafka_fx_committed(const char *brokers, const char *group);
/* End offset (high watermark) of partition 0 of stwt.agora, or -1 on error. */
int64_t kafka_fx_end_offset(const char *brokers);

/* Value of a configuration entry of topic stwt.agora (DescribeConfigs) into buf; 0 on
 * success. */
int kafka_fx_topic_config(const char *brokers, const char *name, char *buf, size_t len);
/* Number of partitions of stwt.agora, or -1. */
int kafka_fx_partitions(const char *brokers);

unsigned long long kafka_fx_now_ms(void);

/* The configuration of agora node `id` on `brokers` in consumer group `group`, with
 * the Kafka tests' timeouts (session 6 s, message 3 s). `top`: more top-level fields,
 * each followed by a comma ("" for none), e.g. "\"heartbeatInterval\":\"500ms\",".
 * NULL (the reason on stderr) if it does not parse. */
agora_config *kafka_fx_agora_config(int id, const char *brokers, const char *group,
                                    const char *top);

#endif /* KAFKA_FX_ENABLED */
#endif
