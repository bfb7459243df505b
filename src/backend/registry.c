/* registry.c — which backends agora knows (all of them, in every build: their
 * configuration sections need no client library) and which this build can run. */
#include "backend/registry.h"
#include "backend/disabled/disabled.h"
#include "backend/kafka/kafka_config.h"
#include "backend/nats/nats_config.h"
#include "backend/p2p/p2p_config.h"
#include "backend/redis/redis_config.h"
#include "backend/zenoh/zenoh_config.h"
#include "core/backend.h"

#include <string.h>

#ifdef AGORA_HAVE_REDIS
#define REDIS_OPS (&ag_backend_redis)
#else
#define REDIS_OPS NULL
#endif
#ifdef AGORA_HAVE_NATS
#define NATS_OPS (&ag_backend_nats)
#else
#define NATS_OPS NULL
#endif
#ifdef AGORA_HAVE_ZENOH
#define ZENOH_OPS (&ag_backend_zenoh)
#else
#define ZENOH_OPS NULL
#endif
#ifdef AGORA_HAVE_KAFKA
#define KAFKA_OPS (&ag_backend_kafka)
#else
#define KAFKA_OPS NULL
#endif

static const struct {
    const ag_backend_type *type;
    const ag_backend_ops *ops;
} entries[] = {
    {&ag_type_p2p, &ag_backend_p2p},
    {&ag_type_kafka, KAFKA_OPS},
    {&ag_type_nats, NATS_OPS},
    {&ag_type_redis, REDIS_OPS},
    {&ag_type_redis_cluster, REDIS_OPS},
    {&ag_type_redis_sentinel, REDIS_OPS},
    {&ag_type_zenoh, ZENOH_OPS},
    {&ag_type_disabled, &ag_backend_disabled},
};
#define NENTRIES (sizeof entries / sizeof entries[0])

size_t ag_backend_type_count(void) { return NENTRIES; }

const ag_backend_type *ag_backend_type_at(size_t i) {
    return i < NENTRIES ? entries[i].type : NULL;
}

const ag_backend_type *ag_backend_type_find(const char *name) {
    for (size_t i = 0; name && i < NENTRIES; i++)
        if (!strcmp(entries[i].type->name, name)) return entries[i].type;
    return NULL;
}

const ag_backend_type *ag_backend_type_default(void) { return &ag_type_disabled; }

const char *ag_backend_type_advice(const char *name) {
    if (name && !strcmp(name, "Default"))
        return "\"Default\" (Stalwart's in-memory-store coordinator) is not supported by "
               "agora; use Redis with the same server";
    return NULL;
}

const ag_backend_ops *ag_backend_ops_of(const ag_backend_type *t) {
    for (size_t i = 0; i < NENTRIES; i++)
        if (entries[i].type == t) return entries[i].ops;
    return NULL;
}

const ag_backend_ops *ag_backend_lookup(const char *name) {
    return ag_backend_ops_of(ag_backend_type_find(name));
}
