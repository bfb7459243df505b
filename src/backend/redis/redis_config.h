/* redis_config.h — the Redis, RedisCluster and RedisSentinel coordinator sections
 * (one struct, three field tables; no client library needed). */
#ifndef AG_REDIS_CONFIG_H
#define AG_REDIS_CONFIG_H

#include "config/config_section.h"

typedef enum ag_redis_mode { AG_REDIS_SINGLE, AG_REDIS_CLUSTER, AG_REDIS_SENTINEL } ag_redis_mode;
typedef enum ag_redis_protocol { AG_REDIS_RESP2, AG_REDIS_RESP3 } ag_redis_protocol;

typedef struct ag_redis_config {
    ag_redis_mode mode;             /* which of the three "@type"s (set by its table) */
    /* Redis */
    char *url;                      /* default "redis://127.0.0.1" */
    /* RedisCluster, RedisSentinel */
    ag_strlist urls;
    uint64_t timeout_ms;            /* 10000 */
    char *auth_username;
    char *auth_secret;              /* secret */
    /* RedisCluster */
    ag_opt_u64 max_retries;         /* 3 while unset */
    uint64_t min_retry_wait_ms;     /* default 100 */
    uint64_t max_retry_wait_ms;     /* default 5000 */
    bool read_from_replicas;        /* true */
    unsigned protocol_version;      /* ag_redis_protocol */
    /* RedisSentinel */
    char *service_name;             /* "mymaster" */
    char *sentinel_username;
    char *sentinel_secret;          /* secret */
} ag_redis_config;

extern const ag_backend_type ag_type_redis, ag_type_redis_cluster, ag_type_redis_sentinel;

/* Check a Redis URL: redis://[user[:password]@]host[:port][/db]. NULL if valid. */
const char *ag_check_redis_url(const char *s);

#endif
