/* redis_config.c — the fields of the three Redis coordinators and what the core
 * must know of them. */
#include "backend/redis/redis_config.h"
#include "config/config_values.h"

#include <stddef.h>
#include <string.h>

const char *ag_check_redis_url(const char *s) {
    if (!strncmp(s, "rediss://", 9))
        return "TLS (rediss://) is not supported by this build; use redis://";
    if (!strncmp(s, "unix://", 7) || !strncmp(s, "redis+unix://", 13))
        return "unix sockets are not supported; use redis://host:port";
    if (strncmp(s, "redis://", 8) != 0) return "expected a URL starting with redis://";
    const char *a = s + 8;
    size_t alen = strcspn(a, "/?#");
    const char *rest = a + alen;
    /* userinfo: up to the last '@' of the authority */
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (a[i] == '@') at = a + i;
    const char *hp = at ? at + 1 : a;
    size_t hplen = alen - (size_t)(hp - a);
    if (hplen == 0) return "missing host after redis://";
    const char *why = ag_check_hostport_n(hp, hplen, false, false);
    if (why) return why;
    if (*rest == '?' || *rest == '#') return "query parameters are not supported";
    if (*rest == '/') {
        rest++;
        size_t d = strspn(rest, "0123456789");
        if (rest[d] == '?' || rest[d] == '#') return "query parameters are not supported";
        if (rest[d] != 0) return "the path must be a database number, as redis://host:6379/0";
        if (d > 5) return "database number too large";
    }
    return NULL;
}

/* URLs may carry a password: never echoed, printed masked */
static const ag_value_syntax redis_url = {.expect = "a redis:// URL", .check = ag_check_redis_url,
                                          .hidden_noun = "URL", .mask = ag_mask_url};

#define F(member) offsetof(ag_redis_config, member)
#define TIMEOUT                                                                              \
    {.name = "timeout", .kind = AG_FIELD_DURATION, .offset = F(timeout_ms), .min = 1,         \
     .def = 10000}
#define AUTH                                                                                 \
    {.name = "authUsername", .kind = AG_FIELD_STRING, .offset = F(auth_username)},            \
    {.name = "authSecret", .kind = AG_FIELD_SECRET, .offset = F(auth_secret)}
#define COUNT(fields) (sizeof fields / sizeof fields[0])
#define BOTH_CODECS (AG_CODEC_BIT(AG_CODEC_AGORA) | AG_CODEC_BIT(AG_CODEC_STALWART))

static const ag_field redis_fields[] = {
    {.name = "url", .kind = AG_FIELD_STRING, .offset = F(url), .syntax = &redis_url,
     .def_str = "redis://127.0.0.1"},
    TIMEOUT,
};

static const char *const protocols[] = {"Resp2", "Resp3", NULL};

static const ag_field cluster_fields[] = {
    {.name = "urls", .kind = AG_FIELD_LIST, .offset = F(urls), .syntax = &redis_url,
     .min_items = 1, .min_msg = "at least one URL is required"},
    TIMEOUT,
    AUTH,
    {.name = "maxRetries", .kind = AG_FIELD_OPT_UINT, .offset = F(max_retries), .max = UINT32_MAX,
     .def = 3},
    {.name = "minRetryWait", .kind = AG_FIELD_DURATION, .offset = F(min_retry_wait_ms), .min = 1,
     .def = 100},
    {.name = "maxRetryWait", .kind = AG_FIELD_DURATION, .offset = F(max_retry_wait_ms), .min = 1,
     .def = 5000},
    {.name = "readFromReplicas", .kind = AG_FIELD_BOOL, .offset = F(read_from_replicas),
     .def = true},
    {.name = "protocolVersion", .kind = AG_FIELD_ENUM, .offset = F(protocol_version),
     .values = protocols, .def = AG_REDIS_RESP2},
};

static const ag_field sentinel_fields[] = {
    {.name = "urls", .kind = AG_FIELD_LIST, .offset = F(urls), .syntax = &redis_url,
     .def_str = "redis://127.0.0.1:26379", .min_items = 1,
     .min_msg = "at least one URL is required"},
    {.name = "serviceName", .kind = AG_FIELD_STRING, .offset = F(service_name),
     .def_str = "mymaster"},
    TIMEOUT,
    AUTH,
    {.name = "sentinelUsername", .kind = AG_FIELD_STRING, .offset = F(sentinel_username)},
    {.name = "sentinelSecret", .kind = AG_FIELD_SECRET, .offset = F(sentinel_secret)},
};

static void single_validate(ag_section_ctx *x, void *section) {
    (void)x;
    ((ag_redis_config *)section)->mode = AG_REDIS_SINGLE;
}

static void cluster_validate(ag_section_ctx *x, void *section) {
    ag_redis_config *r = section;
    r->mode = AG_REDIS_CLUSTER;
    if (r->max_retry_wait_ms < r->min_retry_wait_ms)
        ag_section_error(x, "maxRetryWait", "out of range: must not be less than minRetryWait");
}

static void sentinel_validate(ag_section_ctx *x, void *section) {
    (void)x;
    ((ag_redis_config *)section)->mode = AG_REDIS_SENTINEL;
}

const ag_backend_type ag_type_redis = {
    .name = "Redis", .fields = redis_fields, .nfields = COUNT(redis_fields),
    .size = sizeof(ag_redis_config), .validate = single_validate,
    .codecs = BOTH_CODECS, .topology = AG_TOPOLOGY_BUS,
};

const ag_backend_type ag_type_redis_cluster = {
    .name = "RedisCluster", .fields = cluster_fields, .nfields = COUNT(cluster_fields),
    .size = sizeof(ag_redis_config), .validate = cluster_validate,
    .codecs = BOTH_CODECS, .topology = AG_TOPOLOGY_BUS,
};

const ag_backend_type ag_type_redis_sentinel = {
    .name = "RedisSentinel", .fields = sentinel_fields, .nfields = COUNT(sentinel_fields),
    .size = sizeof(ag_redis_config), .validate = sentinel_validate,
    .codecs = BOTH_CODECS, .topology = AG_TOPOLOGY_BUS,
};
