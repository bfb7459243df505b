/* registry.c — which backends this build has. */
#include "core/backend.h"

const ag_backend_ops *ag_backend_lookup(ag_backend_kind kind) {
    switch (kind) {
    case AG_BACKEND_P2P:
        return &ag_backend_p2p;
#ifdef AGORA_HAVE_REDIS
    case AG_BACKEND_REDIS:
    case AG_BACKEND_REDIS_CLUSTER:
    case AG_BACKEND_REDIS_SENTINEL:
        return &ag_backend_redis;
#endif
#ifdef AGORA_HAVE_NATS
    case AG_BACKEND_NATS:
        return &ag_backend_nats;
#endif
#ifdef AGORA_HAVE_KAFKA
    case AG_BACKEND_KAFKA:
        return &ag_backend_kafka;
#endif
    default:
        return NULL;
    }
}
