/* registry.h — every coordinator "@type" agora knows, and which of them this build
 * can run. The only place that names the backends. */
#ifndef AG_REGISTRY_H
#define AG_REGISTRY_H

#include "config/config_section.h"

#include <stddef.h>

typedef struct ag_backend_ops ag_backend_ops;

/* The known types, in the order messages list them; i < ag_backend_type_count(). */
size_t ag_backend_type_count(void);
const ag_backend_type *ag_backend_type_at(size_t i);
/* The type named `name`, or NULL. */
const ag_backend_type *ag_backend_type_find(const char *name);
/* The type of a configuration that names none (coordination off). */
const ag_backend_type *ag_backend_type_default(void);
/* For a name that is not a type but that users may try: why not, and what instead.
 * NULL for any other name. */
const char *ag_backend_type_advice(const char *name);

/* The operations serving type t, or NULL if this build lacks its client library. */
const ag_backend_ops *ag_backend_ops_of(const ag_backend_type *t);
/* Same, by "@type" name. */
const ag_backend_ops *ag_backend_lookup(const char *name);

/* The operations tables, each defined in its backend's folder; a table whose client
 * library this build lacks is declared but not defined (use ag_backend_ops_of). */
extern const ag_backend_ops ag_backend_disabled;
extern const ag_backend_ops ag_backend_p2p;
extern const ag_backend_ops ag_backend_redis; /* Redis, RedisCluster, RedisSentinel */
extern const ag_backend_ops ag_backend_nats;
extern const ag_backend_ops ag_backend_kafka;
extern const ag_backend_ops ag_backend_zenoh;

#endif
