/* config.h — the typed configuration (internal; the public handle is agora_config). */
#ifndef AG_CONFIG_H
#define AG_CONFIG_H

#include "agora.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum ag_backend_kind {
    AG_BACKEND_DISABLED = 0,
    AG_BACKEND_P2P,
    AG_BACKEND_KAFKA,
    AG_BACKEND_NATS,
    AG_BACKEND_REDIS,
    AG_BACKEND_REDIS_CLUSTER,
    AG_BACKEND_REDIS_SENTINEL
} ag_backend_kind;

typedef enum ag_codec_kind { AG_CODEC_AGORA = 0, AG_CODEC_STALWART = 1 } ag_codec_kind;

/* A list of strings (addresses, urls, brokers). */
typedef struct ag_strlist {
    size_t count;
    char **items;
} ag_strlist;

typedef struct ag_kafka_config {
    ag_strlist brokers;       /* at least one */
    char *group_id;           /* base group id; each node consumes as "<groupId>-<nodeId>" */
    uint64_t timeout_session_ms; /* default 5000 */
    uint64_t timeout_message_ms; /* default 5000 */
} ag_kafka_config;

typedef struct ag_nats_config {
    ag_strlist addresses;     /* default ["127.0.0.1:4444"] */
    bool has_max_reconnects;  /* false = unlimited (null) */
    uint32_t max_reconnects;
    uint64_t timeout_connection_ms; /* 5000 */
    uint64_t timeout_request_ms;    /* 10000 */
    uint64_t ping_interval_ms;      /* 60000 */
    uint64_t capacity_client;       /* 2048 */
    uint64_t capacity_read_buffer;  /* 65535 */
    uint64_t capacity_subscription; /* 65536 */
    bool no_echo;                   /* true */
    bool use_tls;                   /* false */
    char *auth_username;            /* NULL if unset */
    char *auth_secret;              /* secret */
    char *credentials;              /* token (secret) */
} ag_nats_config;

typedef struct ag_redis_config {
    /* Redis */
    char *url;                      /* default "redis://127.0.0.1" */
    /* RedisCluster, RedisSentinel */
    ag_strlist urls;
    uint64_t timeout_ms;            /* 10000 */
    char *auth_username;
    char *auth_secret;              /* secret */
    /* RedisCluster */
    bool has_max_retries;
    uint32_t max_retries;           /* default 3 when unset */
    uint64_t min_retry_wait_ms;     /* default 100 */
    uint64_t max_retry_wait_ms;     /* default 5000 */
    bool read_from_replicas;        /* true */
    char *protocol_version;         /* "Resp2" | "Resp3" */
    /* RedisSentinel */
    char *service_name;             /* "mymaster" */
    char *sentinel_username;
    char *sentinel_secret;          /* secret */
} ag_redis_config;

typedef struct ag_p2p_config {
    ag_strlist listen;              /* "host:port"; default ["127.0.0.1:7911"] */
    ag_strlist peers;               /* seeds "host:port" */
    char *secret;                   /* cluster secret; required unless encryption is "none" */
    bool plaintext;                 /* "encryption": "none" (explicit only) */
    char *advertise;                /* address others dial; default = first listen */
    uint64_t reconnect_min_ms;      /* 100 */
    uint64_t reconnect_max_ms;      /* 5000 */
    uint64_t resend_buffer;         /* events kept for resend; 100000 */
    uint64_t max_frame;             /* bytes; 4 MiB */
    uint64_t connect_timeout_ms;    /* 2000 (TCP connect + handshake) */
} ag_p2p_config;

struct agora_config {
    int node_id;                    /* -1 = unset */
    ag_codec_kind codec;
    ag_backend_kind kind;
    char *type_name;                /* "@type" as given */
    /* the JSON text this configuration was parsed from (config_edit.c changes a field
     * by parsing it again with that field replaced) */
    char *source;
    size_t source_len;
    /* node-file level settings (apply to every backend) */
    uint64_t heartbeat_interval_ms; /* 250 */
    uint64_t failure_timeout_ms;    /* 1500 */
    uint64_t outbox_limit;          /* events; 100000 */
    union {
        ag_kafka_config kafka;
        ag_nats_config nats;
        ag_redis_config redis;
        ag_p2p_config p2p;
    } u;
};

/* Deep copy (used by agora_open so the caller may free its config). */
agora_config *ag_config_clone(const agora_config *cfg);

/* Exchange the contents of two configurations (a successful edit moves the new
 * parse into the caller's handle). */
void ag_config_swap(agora_config *a, agora_config *b);

/* Parse a duration ("250ms","5s","1m","1h","1d") into ms. 0 on success, -1 on error. */
int ag_parse_duration(const char *text, uint64_t *ms);

#endif
