/* nats_config.h — the Nats coordinator section (no client library needed). */
#ifndef AG_NATS_CONFIG_H
#define AG_NATS_CONFIG_H

#include "config/config_section.h"
#include "config/config_tls.h"

typedef struct ag_nats_config {
    ag_strlist addresses;           /* default ["127.0.0.1:4444"] */
    ag_opt_u64 max_reconnects;      /* unset = unlimited (null) */
    uint64_t timeout_connection_ms; /* 5000 */
    uint64_t timeout_request_ms;    /* 10000 */
    uint64_t ping_interval_ms;      /* 60000 */
    uint64_t capacity_client;       /* 2048 */
    uint64_t capacity_read_buffer;  /* 65535 */
    uint64_t capacity_subscription; /* 65536 */
    bool no_echo;                   /* true */
    bool use_tls;                   /* false */
    ag_tls_files tls;               /* tlsCaFile, tlsCertFile, ... (need useTls) */
    char *auth_username;            /* NULL if unset */
    char *auth_secret;              /* secret */
    char *credentials;              /* token (secret) */
} ag_nats_config;

extern const ag_backend_type ag_type_nats;

/* Check a NATS server address: "host:port" or "nats://host:port". NULL if valid. */
const char *ag_check_nats_address(const char *s);

#endif
