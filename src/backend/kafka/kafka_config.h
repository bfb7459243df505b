/* kafka_config.h — the Kafka coordinator section (no client library needed). */
#ifndef AG_KAFKA_CONFIG_H
#define AG_KAFKA_CONFIG_H

#include "config/config_section.h"
#include "config/config_tls.h"

typedef struct ag_kafka_config {
    ag_strlist brokers;          /* at least one */
    char *group_id;              /* base group id; each node consumes as "<groupId>-<nodeId>" */
    uint64_t timeout_session_ms; /* default 5000 */
    uint64_t timeout_message_ms; /* default 5000 */
    /* Transport security (agora's own fields; Stalwart's Kafka coordinator has none). */
    bool use_tls;                /* security.protocol SSL (SASL_SSL with saslMechanism) */
    ag_tls_files tls;            /* tlsCaFile, tlsCertFile, tlsKeyFile, tlsKeyPassword */
    char *sasl_mechanism;        /* "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"; NULL = none */
    char *auth_username;         /* SASL user */
    char *auth_secret;           /* SASL password (secret) */
} ag_kafka_config;

extern const ag_backend_type ag_type_kafka;

#endif
