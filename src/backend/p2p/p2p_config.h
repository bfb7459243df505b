/* p2p_config.h — the PeerToPeer coordinator section. */
#ifndef AG_P2P_CONFIG_H
#define AG_P2P_CONFIG_H

#include "config/config_section.h"

typedef enum ag_p2p_encryption { AG_P2P_PSK, AG_P2P_NONE } ag_p2p_encryption;

typedef struct ag_p2p_config {
    ag_strlist listen;              /* "host:port"; default ["127.0.0.1:7911"] */
    ag_strlist peers;               /* seeds "host:port" */
    char *secret;                   /* cluster secret; required unless encryption is "none" */
    unsigned encryption;            /* ag_p2p_encryption; "none" is explicit only */
    bool plaintext;                 /* encryption == AG_P2P_NONE */
    char *advertise;                /* address others dial; default = first listen */
    uint64_t reconnect_min_ms;      /* 100 */
    uint64_t reconnect_max_ms;      /* 5000 */
    uint64_t resend_buffer;         /* events kept for resend; 100000 */
    uint64_t max_frame;             /* bytes; 4 MiB */
    uint64_t connect_timeout_ms;    /* 2000 (TCP connect + handshake) */
} ag_p2p_config;

extern const ag_backend_type ag_type_p2p;

#endif
