/* test_config.c — configuration parsing: every backend's fields and defaults, every
 * error class, durations, addresses, secrets masking, node files and overrides. */
#include "backend/disabled/disabled.h"
#include "backend/kafka/kafka_config.h"
#include "backend/nats/nats_config.h"
#include "backend/p2p/p2p_config.h"
#include "backend/redis/redis_config.h"
#include "config/config.h"
#include "util/json.h"

/* a configuration's backend section, as the backend named sees it */
#define SECTION(cfg, name) ((ag_##name##_config *)(cfg)->backend)

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static char err[8192];

static agora_config *ok_at(const char *json, int line) {
    agora_config *c = agora_config_parse(json, strlen(json), err, sizeof err);
    if (!c) {
        fprintf(stderr, "%s:%d: expected a valid config, got:\n%s\n", __FILE__, line, err);
        failures++;
    }
    return c;
}
#define OK(json) ok_at(json, __LINE__)

static size_t count_lines(const char *s) {
    if (!*s) return 0;
    size_t n = 1;
    for (; *s; s++)
        if (*s == '\n') n++;
    return n;
}

static bool has_line(const char *all, const char *line) {
    size_t n = strlen(line);
    for (const char *p = all; (p = strstr(p, line)) != NULL; p++)
        if ((p == all || p[-1] == '\n') && (p[n] == 0 || p[n] == '\n')) return true;
    return false;
}

/* Parse must fail with exactly `nlines` errors, one of which is exactly `line`. */
static void bad_at(const char *json, size_t nlines, const char *line, int at) {
    agora_config *c = agora_config_parse(json, strlen(json), err, sizeof err);
    if (c || count_lines(err) != nlines || !has_line(err, line)) {
        fprintf(stderr, "%s:%d: for %s\n  expected %zu error(s) including: %s\n  got: %s\n",
                __FILE__, at, json, nlines, line, c ? "(valid config)" : err);
        failures++;
    }
    agora_config_free(c);
}
#define BAD(json, nlines, line) bad_at(json, nlines, line, __LINE__)

/* Parse must fail and the error must contain `part` (for messages that also quote
 * values). */
static void bad_sub_at(const char *json, const char *part, int at) {
    agora_config *c = agora_config_parse(json, strlen(json), err, sizeof err);
    if (c || !strstr(err, part)) {
        fprintf(stderr, "%s:%d: for %s\n  expected an error containing: %s\n  got: %s\n",
                __FILE__, at, json, part, c ? "(valid config)" : err);
        failures++;
    }
    agora_config_free(c);
}
#define BAD_SUB(json, part) bad_sub_at(json, part, __LINE__)

static bool list_is(const ag_strlist *l, size_t n, const char *const *want) {
    if (l->count != n) return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(l->items[i], want[i]) != 0) return false;
    return true;
}

/* ------------------------------------------------------------------------ */

static void test_node_file_defaults(void) {
    agora_config *c = OK("{\"coordinator\": {\"@type\": \"Disabled\"}}");
    if (!c) return;
    CHECK(c->node_id == -1 && agora_config_node_id(c) == -1);
    CHECK(c->codec == AG_CODEC_AGORA);
    CHECK(c->type == &ag_type_disabled && !strcmp(agora_config_type(c), "Disabled"));
    CHECK(c->heartbeat_interval_ms == 250);
    CHECK(c->failure_timeout_ms == 1500);
    CHECK(c->outbox_limit == 100000);
    CHECK(c->outbox_bytes == UINT64_C(64) << 20);
    agora_config_free(c);
}

static void test_node_file_fields(void) {
    agora_config *c = OK("{\"nodeId\": 65535, \"codec\": \"stalwart\", \"heartbeatInterval\": "
                         "\"1s\", \"failureTimeout\": 7000, \"outboxLimit\": 5,"
                         " \"outboxBytes\": 1048576, \"coordinator\": {\"@type\": \"Disabled\"}}");
    if (!c) return;
    CHECK(c->node_id == 65535 && c->codec == AG_CODEC_STALWART);
    CHECK(c->heartbeat_interval_ms == 1000 && c->failure_timeout_ms == 7000);
    CHECK(c->outbox_limit == 5 && c->outbox_bytes == 1048576);
    /* node id override */
    agora_config_set_node_id(c, 12);
    CHECK(agora_config_node_id(c) == 12);
    agora_config_free(c);

    c = OK("{\"nodeId\": 0, \"codec\": \"agora\", \"coordinator\": {\"@type\": \"Disabled\"}}");
    CHECK(c && c->node_id == 0 && c->codec == AG_CODEC_AGORA);
    agora_config_free(c);
    /* null means "not set" / "default" */
    c = OK("{\"nodeId\": null, \"codec\": null, \"outboxLimit\": null,"
           " \"coordinator\": {\"@type\": \"Disabled\"}}");
    CHECK(c && c->node_id == -1 && c->outbox_limit == 100000);
    if (c) {
        agora_config_set_node_id(c, 0);
        CHECK(agora_config_node_id(c) == 0);
    }
    agora_config_free(c);
    CHECK(agora_config_node_id(NULL) == -1);
    agora_config_free(NULL);
}

static void test_node_file_errors(void) {
    BAD("{\"nodeId\": 65536, \"coordinator\": {\"@type\": \"Disabled\"}}", 1,
        "nodeId: out of range: 65536 is not from 0 to 65535");
    BAD("{\"nodeId\": -1, \"coordinator\": {\"@type\": \"Disabled\"}}", 1,
        "nodeId: out of range: -1 is not from 0 to 65535");
    BAD("{\"nodeId\": \"3\", \"coordinator\": {\"@type\": \"Disabled\"}}", 1,
        "nodeId: expected an integer from 0 to 65535, found string");
    BAD("{\"nodeId\": 1.5, \"coordinator\": {\"@type\": \"Disabled\"}}", 1,
        "nodeId: expected an integer from 0 to 65535, found a fraction");
    BAD("{\"nodeId\": 99999999999999999999999, \"coordinator\": {\"@type\": \"Disabled\"}}", 1,
        "nodeId: out of range: 99999999999999999999999 is not from 0 to 65535");
    BAD("{\"codec\": \"json\", \"coordinator\": {\"@type\": \"Disabled\"}}", 1,
        "codec: expected \"agora\" or \"stalwart\", found \"json\"");
    BAD("{\"codec\": \"stalwart\", \"coordinator\": {\"@type\": \"PeerToPeer\", "
        "\"secret\": \"k\"}}",
        1, "codec: \"stalwart\" works only with a broker coordinator (Kafka, Nats, Redis, "
           "RedisCluster, RedisSentinel, Zenoh); PeerToPeer uses \"agora\"");
    BAD("{\"codec\": 1, \"coordinator\": {\"@type\": \"Disabled\"}}", 1,
        "codec: expected \"agora\" or \"stalwart\", found number");
    BAD("{\"nodeId\": 1}", 1,
        "coordinator: required: the coordinator object, e.g. {\"@type\": \"PeerToPeer\", ...}");
    BAD("{\"coordinator\": []}", 1,
        "coordinator: expected an object with \"@type\", found array");
    BAD("{\"coordinator\": {}}", 1,
        "coordinator.@type: required: one of PeerToPeer, Kafka, Nats, Redis, RedisCluster, "
        "RedisSentinel, Zenoh, Disabled");
    BAD("{\"nodeid\": 1, \"coordinator\": {\"@type\": \"Disabled\"}}", 1,
        "nodeid: unknown field for a node file (known fields: nodeId, codec, coordinator, "
        "heartbeatInterval, failureTimeout, outboxLimit, outboxBytes, memberRetention, httpToken)");
    BAD("{\"outboxLimit\": 0, \"coordinator\": {\"@type\": \"Disabled\"}}", 1,
        "outboxLimit: out of range: 0 is not from 1 to 4294967295");
    BAD("{\"heartbeatInterval\": \"2s\", \"coordinator\": {\"@type\": \"Disabled\"}}", 1,
        "failureTimeout: out of range: must be longer than heartbeatInterval");
    BAD("{\"heartbeatInterval\": \"fast\", \"coordinator\": {\"@type\": \"Disabled\"}}", 1,
        "heartbeatInterval: expected a duration such as \"250ms\"");
    BAD("{\"failureTimeout\": true, \"coordinator\": {\"@type\": \"Disabled\"}}", 1,
        "failureTimeout: expected a duration such as \"1500ms\"");
    /* node-level keys are not coordinator fields */
    BAD("{\"@type\": \"Disabled\", \"nodeId\": 1}", 1,
        "coordinator.nodeId: unknown field for Disabled (known fields: )");
    /* a key with a control character cannot break the one-error-per-line rule */
    BAD("{\"a\\nb\": 1, \"coordinator\": {\"@type\": \"Disabled\"}}", 1,
        "a?b: unknown field for a node file (known fields: nodeId, codec, coordinator, "
        "heartbeatInterval, failureTimeout, outboxLimit, outboxBytes, memberRetention, httpToken)");
    /* duplicate member */
    BAD("{\"nodeId\": 1,\n \"nodeId\": 2, \"coordinator\": {\"@type\": \"Disabled\"}}", 1,
        "nodeId: duplicate field (line 2, column 12)");
}

static void test_root_and_json_errors(void) {
    BAD("[1, 2]", 1,
        "expected a JSON object: a coordinator {\"@type\": ...} or a node file "
        "{\"nodeId\": ..., \"coordinator\": {...}}, found array");
    BAD("\"Kafka\"", 1,
        "expected a JSON object: a coordinator {\"@type\": ...} or a node file "
        "{\"nodeId\": ..., \"coordinator\": {...}}, found string");
    BAD("{\n  \"@type\": \"Kafka\",\n  \"brokers\": [\"a:1\"]\n  \"groupId\": \"g\"\n}", 1,
        "invalid JSON at line 4, column 3: expected ',' or '}', found '\"'");
    BAD("", 1, "invalid JSON at line 1, column 1: unexpected end of input (expected a value)");
    BAD("{\"@type\": \"Kafka\",}", 1, "invalid JSON at line 1, column 19: trailing comma before '}'");
    BAD("{\"@type\": \"Disabled\"} {}", 1,
        "invalid JSON at line 1, column 23: unexpected '{' after the value");
    /* the parser is given a length: bytes after it are not read */
    const char *t = "{\"@type\": \"Disabled\"}garbage";
    agora_config *c = agora_config_parse(t, 21, err, sizeof err);
    CHECK(c != NULL);
    agora_config_free(c);
    /* a NULL or zero-size error buffer is allowed */
    CHECK(agora_config_parse("[", 1, NULL, 0) == NULL);
    CHECK(agora_config_parse("{\"@type\": 1}", 12, NULL, 0) == NULL);
}

static void test_type_errors(void) {
    BAD("{\"@type\": \"Foo\"}", 1,
        "coordinator.@type: unknown coordinator type \"Foo\" (expected one of PeerToPeer, "
        "Kafka, Nats, Redis, RedisCluster, RedisSentinel, Zenoh, Disabled)");
    BAD("{\"@type\": \"kafka\"}", 1,
        "coordinator.@type: unknown coordinator type \"kafka\" (expected one of PeerToPeer, "
        "Kafka, Nats, Redis, RedisCluster, RedisSentinel, Zenoh, Disabled)");
    BAD("{\"@type\": 3}", 1,
        "coordinator.@type: expected a string (one of PeerToPeer, Kafka, Nats, Redis, "
        "RedisCluster, RedisSentinel, Zenoh, Disabled), found number");
    BAD_SUB("{\"@type\": \"Default\"}", "coordinator.@type: \"Default\" (Stalwart's");
    BAD("{\"@type\": \"Disabled\", \"x\": 1}", 1,
        "coordinator.x: unknown field for Disabled (known fields: )");
    agora_config *c = OK("{\"@type\": \"Disabled\"}");
    CHECK(c && c->type == &ag_type_disabled && !strcmp(agora_config_type(c), "Disabled"));
    CHECK(c && c->node_id == -1 && c->heartbeat_interval_ms == 250);
    agora_config_free(c);
}

/* Kafka -------------------------------------------------------------------- */

static void test_kafka(void) {
    agora_config *c = OK("{\"@type\": \"Kafka\", \"brokers\": [\"127.0.0.1:9092\"], "
                         "\"groupId\": \"mail\"}");
    if (c) {
        static const char *const b[] = {"127.0.0.1:9092"};
        CHECK(c->type == &ag_type_kafka && !strcmp(agora_config_type(c), "Kafka"));
        CHECK(list_is(&SECTION(c, kafka)->brokers, 1, b));
        CHECK(!strcmp(SECTION(c, kafka)->group_id, "mail"));
        CHECK(SECTION(c, kafka)->timeout_session_ms == 5000);
        CHECK(SECTION(c, kafka)->timeout_message_ms == 5000);
    }
    agora_config_free(c);
    c = OK("{\"@type\": \"Kafka\", \"brokers\": [\"k1:9092\", \"[::1]:9093\", \"10.1.2.3:1\"], "
           "\"groupId\": \"g\", \"timeoutSession\": \"30s\", \"timeoutMessage\": 250}");
    if (c) {
        static const char *const b[] = {"k1:9092", "[::1]:9093", "10.1.2.3:1"};
        CHECK(list_is(&SECTION(c, kafka)->brokers, 3, b));
        CHECK(SECTION(c, kafka)->timeout_session_ms == 30000 &&
              SECTION(c, kafka)->timeout_message_ms == 250);
    }
    agora_config_free(c);
    BAD("{\"@type\": \"Kafka\", \"brokers\": [], \"groupId\": \"g\"}", 1,
        "coordinator.brokers: at least one broker is required");
    BAD("{\"@type\": \"Kafka\", \"groupId\": \"g\"}", 1,
        "coordinator.brokers: at least one broker is required");
    BAD("{\"@type\": \"Kafka\", \"brokers\": null, \"groupId\": \"g\"}", 1,
        "coordinator.brokers: at least one broker is required");
    BAD("{\"@type\": \"Kafka\", \"brokers\": \"k:1\", \"groupId\": \"g\"}", 1,
        "coordinator.brokers: expected a list of \"host:port\" strings, found string");
    BAD("{\"@type\": \"Kafka\", \"brokers\": [\"k:1\", 5], \"groupId\": \"g\"}", 1,
        "coordinator.brokers[1]: expected \"host:port\" string, found number");
    BAD("{\"@type\": \"Kafka\", \"brokers\": [\"k\"], \"groupId\": \"g\"}", 1,
        "coordinator.brokers[0]: expected \"host:port\", found \"k\": missing ':port'");
    BAD("{\"@type\": \"Kafka\", \"brokers\": [\"k:1\"]}", 1,
        "coordinator.groupId: required (the Kafka consumer group id, e.g. \"agora\")");
    BAD("{\"@type\": \"Kafka\", \"brokers\": [\"k:1\"], \"groupId\": \"\"}", 1,
        "coordinator.groupId: must not be empty (omit the field or use null)");
    BAD("{\"@type\": \"Kafka\", \"brokers\": [\"k:1\"], \"groupId\": 7}", 1,
        "coordinator.groupId: expected a string, found number");
    BAD("{\"@type\": \"Kafka\", \"brokers\": [\"k:1\"], \"groupId\": \"g\", \"timeoutSession\": "
        "\"5\"}",
        1, "coordinator.timeoutSession: expected a duration such as \"5s\"");
    BAD("{\"@type\": \"Kafka\", \"brokers\": [\"k:1\"], \"groupId\": \"g\", \"timeoutMessage\": "
        "-5}",
        1, "coordinator.timeoutMessage: expected a duration such as \"5s\"");
    BAD("{\"@type\": \"Kafka\", \"brokers\": [\"k:1\"], \"groupId\": \"g\", \"group\": \"x\"}", 1,
        "coordinator.group: unknown field for Kafka (known fields: brokers, groupId, "
        "timeoutSession, timeoutMessage, useTls, tlsCaFile, tlsCertFile, tlsKeyFile, "
        "tlsKeyPassword, saslMechanism, authUsername, authSecret, secret)");
    /* every error is reported, one per line, in a node file too */
    BAD("{\"nodeId\": 1, \"coordinator\": {\"@type\": \"Kafka\", \"brokers\": [], "
        "\"timeoutSession\": \"soon\", \"timeoutMessage\": {}}}",
        4, "coordinator.timeoutMessage: expected a duration such as \"5s\"");
    CHECK(has_line(err, "coordinator.brokers: at least one broker is required"));
    CHECK(has_line(err, "coordinator.groupId: required (the Kafka consumer group id, e.g. "
                        "\"agora\")"));
    CHECK(has_line(err, "coordinator.timeoutSession: expected a duration such as \"5s\""));
}

/* NATS --------------------------------------------------------------------- */

static void test_nats(void) {
    agora_config *c = OK("{\"@type\": \"Nats\"}");
    if (c) {
        static const char *const a[] = {"127.0.0.1:4444"};
        const ag_nats_config *n = SECTION(c, nats);
        CHECK(c->type == &ag_type_nats && !strcmp(agora_config_type(c), "Nats"));
        CHECK(list_is(&n->addresses, 1, a));
        CHECK(!n->max_reconnects.set);
        CHECK(n->timeout_connection_ms == 5000 && n->timeout_request_ms == 10000);
        CHECK(n->ping_interval_ms == 60000);
        CHECK(n->capacity_client == 2048 && n->capacity_read_buffer == 65535 &&
              n->capacity_subscription == 65536);
        CHECK(n->no_echo && !n->use_tls);
        CHECK(!n->auth_username && !n->auth_secret && !n->credentials);
    }
    agora_config_free(c);
    c = OK("{\"@type\": \"Nats\", \"addresses\": [\"nats://n1:4222\", \"n2:4223\"], "
           "\"maxReconnects\": 7, \"timeoutConnection\": \"1s\", \"timeoutRequest\": \"2s\", "
           "\"pingInterval\": \"1m\", \"capacityClient\": 10, \"capacityReadBuffer\": 20, "
           "\"capacitySubscription\": 30, \"noEcho\": false, \"useTls\": true, "
           "\"authUsername\": \"u\", \"authSecret\": \"pw\", \"credentials\": \"tok\"}");
    if (c) {
        static const char *const a[] = {"nats://n1:4222", "n2:4223"};
        const ag_nats_config *n = SECTION(c, nats);
        CHECK(list_is(&n->addresses, 2, a));
        CHECK(n->max_reconnects.set && n->max_reconnects.value == 7);
        CHECK(n->timeout_connection_ms == 1000 && n->timeout_request_ms == 2000);
        CHECK(n->ping_interval_ms == 60000);
        CHECK(n->capacity_client == 10 && n->capacity_read_buffer == 20 &&
              n->capacity_subscription == 30);
        CHECK(!n->no_echo && n->use_tls);
        CHECK(!strcmp(n->auth_username, "u") && !strcmp(n->auth_secret, "pw") &&
              !strcmp(n->credentials, "tok"));
    }
    agora_config_free(c);
    c = OK("{\"@type\": \"Nats\", \"maxReconnects\": null}");
    CHECK(c && !SECTION(c, nats)->max_reconnects.set);
    agora_config_free(c);
    c = OK("{\"@type\": \"Nats\", \"maxReconnects\": 0}");
    CHECK(c && SECTION(c, nats)->max_reconnects.set && SECTION(c, nats)->max_reconnects.value == 0);
    agora_config_free(c);

    BAD("{\"@type\": \"Nats\", \"addresses\": []}", 1,
        "coordinator.addresses: at least one address is required");
    BAD("{\"@type\": \"Nats\", \"addresses\": [\"tls://n:1\"]}", 1,
        "coordinator.addresses[0]: expected \"host:port\", found \"tls://n:1\": expected "
        "\"host:port\" or \"nats://host:port\"");
    BAD_SUB("{\"@type\": \"Nats\", \"addresses\": [\"nats://u:p@n:1\"]}",
            "credentials in the address are not allowed");
    BAD("{\"@type\": \"Nats\", \"maxReconnects\": -1}", 1,
        "coordinator.maxReconnects: out of range: -1 is not from 0 to 4294967295");
    BAD("{\"@type\": \"Nats\", \"maxReconnects\": \"many\"}", 1,
        "coordinator.maxReconnects: expected an integer from 0 to 4294967295, found string");
    BAD("{\"@type\": \"Nats\", \"capacityClient\": 0}", 1,
        "coordinator.capacityClient: out of range: 0 is not from 1 to 4294967295");
    BAD("{\"@type\": \"Nats\", \"capacityReadBuffer\": 4294967296}", 1,
        "coordinator.capacityReadBuffer: out of range: 4294967296 is not from 1 to 4294967295");
    BAD("{\"@type\": \"Nats\", \"capacitySubscription\": true}", 1,
        "coordinator.capacitySubscription: expected an integer from 1 to 4294967295, found "
        "boolean");
    BAD("{\"@type\": \"Nats\", \"noEcho\": \"yes\"}", 1,
        "coordinator.noEcho: expected true or false, found string");
    BAD("{\"@type\": \"Nats\", \"useTls\": 1}", 1,
        "coordinator.useTls: expected true or false, found number");
    BAD("{\"@type\": \"Nats\", \"timeoutConnection\": \"5sec\"}", 1,
        "coordinator.timeoutConnection: expected a duration such as \"5s\"");
    BAD("{\"@type\": \"Nats\", \"timeoutRequest\": \"\"}", 1,
        "coordinator.timeoutRequest: expected a duration such as \"10s\"");
    BAD("{\"@type\": \"Nats\", \"pingInterval\": 0}", 1,
        "coordinator.pingInterval: out of range: must be at least 1ms");
    BAD("{\"@type\": \"Nats\", \"authUsername\": []}", 1,
        "coordinator.authUsername: expected a string, found array");
    BAD("{\"@type\": \"Nats\", \"authSecret\": 12345}", 1,
        "coordinator.authSecret: expected a string, found number");
    BAD("{\"@type\": \"Nats\", \"credentials\": false}", 1,
        "coordinator.credentials: expected a string, found boolean");
}

/* Redis family ------------------------------------------------------------- */

static void test_redis(void) {
    agora_config *c = OK("{\"@type\": \"Redis\"}");
    if (c) {
        CHECK(c->type == &ag_type_redis && !strcmp(agora_config_type(c), "Redis"));
        CHECK(!strcmp(SECTION(c, redis)->url, "redis://127.0.0.1") &&
              SECTION(c, redis)->timeout_ms == 10000);
    }
    agora_config_free(c);
    c = OK("{\"@type\": \"Redis\", \"url\": \"redis://user:pw@cache.example:6380/2\", "
           "\"timeout\": \"1500ms\"}");
    CHECK(c && !strcmp(SECTION(c, redis)->url, "redis://user:pw@cache.example:6380/2") &&
          SECTION(c, redis)->timeout_ms == 1500);
    agora_config_free(c);
    c = OK("{\"@type\": \"Redis\", \"url\": \"redis://[::1]:6379\"}");
    CHECK(c != NULL);
    agora_config_free(c);

    BAD("{\"@type\": \"Redis\", \"url\": \"rediss://h:6379\"}", 1,
        "coordinator.url: invalid URL: TLS (rediss://) is not supported by this build; use "
        "redis://");
    BAD("{\"@type\": \"Redis\", \"url\": \"http://h\"}", 1,
        "coordinator.url: invalid URL: expected a URL starting with redis://");
    BAD("{\"@type\": \"Redis\", \"url\": \"redis://\"}", 1,
        "coordinator.url: invalid URL: missing host after redis://");
    BAD("{\"@type\": \"Redis\", \"url\": \"redis://h:99999\"}", 1,
        "coordinator.url: invalid URL: port must be a number from 1 to 65535");
    BAD("{\"@type\": \"Redis\", \"url\": \"redis://h/db\"}", 1,
        "coordinator.url: invalid URL: the path must be a database number, as "
        "redis://host:6379/0");
    BAD("{\"@type\": \"Redis\", \"url\": \"redis://h?x=1\"}", 1,
        "coordinator.url: invalid URL: query parameters are not supported");
    BAD("{\"@type\": \"Redis\", \"url\": \"unix:///tmp/r.sock\"}", 1,
        "coordinator.url: invalid URL: unix sockets are not supported; use redis://host:port");
    BAD("{\"@type\": \"Redis\", \"url\": 6379}", 1,
        "coordinator.url: expected a redis:// URL string, found number");
    BAD("{\"@type\": \"Redis\", \"timeout\": \"10\"}", 1,
        "coordinator.timeout: expected a duration such as \"10s\"");
    BAD("{\"@type\": \"Redis\", \"urls\": []}", 1,
        "coordinator.urls: unknown field for Redis (known fields: url, timeout, secret)");
    /* a URL's password never appears in an error */
    agora_config *bad = agora_config_parse(
        "{\"@type\": \"Redis\", \"url\": \"redis://u:hunter2@h:1/x\"}", 51, err, sizeof err);
    CHECK(!bad && !strstr(err, "hunter2"));
    agora_config_free(bad);
}

static void test_redis_cluster(void) {
    agora_config *c = OK("{\"@type\": \"RedisCluster\", \"urls\": [\"redis://r1:7000\"]}");
    if (c) {
        static const char *const u[] = {"redis://r1:7000"};
        const ag_redis_config *r = SECTION(c, redis);
        CHECK(c->type == &ag_type_redis_cluster && !strcmp(agora_config_type(c), "RedisCluster"));
        CHECK(list_is(&r->urls, 1, u));
        CHECK(r->timeout_ms == 10000);
        CHECK(!r->auth_username && !r->auth_secret);
        CHECK(!r->max_retries.set && r->max_retries.value == 3);
        CHECK(r->min_retry_wait_ms == 100 && r->max_retry_wait_ms == 5000);
        CHECK(r->read_from_replicas);
        CHECK(r->protocol_version == AG_REDIS_RESP2);
    }
    agora_config_free(c);
    c = OK("{\"@type\": \"RedisCluster\", \"urls\": [\"redis://r1:7000\", \"redis://r2:7001\"], "
           "\"timeout\": \"3s\", \"authUsername\": \"u\", \"authSecret\": \"s\", "
           "\"maxRetries\": 0, \"minRetryWait\": \"10ms\", \"maxRetryWait\": \"1s\", "
           "\"readFromReplicas\": false, \"protocolVersion\": \"Resp3\"}");
    if (c) {
        const ag_redis_config *r = SECTION(c, redis);
        CHECK(r->urls.count == 2 && r->timeout_ms == 3000);
        CHECK(!strcmp(r->auth_username, "u") && !strcmp(r->auth_secret, "s"));
        CHECK(r->max_retries.set && r->max_retries.value == 0);
        CHECK(r->min_retry_wait_ms == 10 && r->max_retry_wait_ms == 1000);
        CHECK(!r->read_from_replicas && r->protocol_version == AG_REDIS_RESP3);
    }
    agora_config_free(c);
    BAD("{\"@type\": \"RedisCluster\"}", 1, "coordinator.urls: at least one URL is required");
    BAD("{\"@type\": \"RedisCluster\", \"urls\": []}", 1,
        "coordinator.urls: at least one URL is required");
    BAD("{\"@type\": \"RedisCluster\", \"urls\": [\"redis://a:1\", \"rediss://b:2\"]}", 1,
        "coordinator.urls[1]: invalid URL: TLS (rediss://) is not supported by this build; "
        "use redis://");
    BAD("{\"@type\": \"RedisCluster\", \"urls\": [\"redis://a:1\"], \"protocolVersion\": "
        "\"Resp4\"}",
        1, "coordinator.protocolVersion: expected \"Resp2\" or \"Resp3\", found \"Resp4\"");
    BAD("{\"@type\": \"RedisCluster\", \"urls\": [\"redis://a:1\"], \"protocolVersion\": 2}", 1,
        "coordinator.protocolVersion: expected \"Resp2\" or \"Resp3\", found number");
    BAD("{\"@type\": \"RedisCluster\", \"urls\": [\"redis://a:1\"], \"minRetryWait\": \"2s\", "
        "\"maxRetryWait\": \"1s\"}",
        1, "coordinator.maxRetryWait: out of range: must not be less than minRetryWait");
    BAD("{\"@type\": \"RedisCluster\", \"urls\": [\"redis://a:1\"], \"readFromReplicas\": "
        "\"no\"}",
        1, "coordinator.readFromReplicas: expected true or false, found string");
    BAD("{\"@type\": \"RedisCluster\", \"urls\": [\"redis://a:1\"], \"maxRetries\": 1.0}", 1,
        "coordinator.maxRetries: expected an integer from 0 to 4294967295, found a fraction");
    BAD("{\"@type\": \"RedisCluster\", \"urls\": [\"redis://a:1\"], \"serviceName\": \"m\"}", 1,
        "coordinator.serviceName: unknown field for RedisCluster (known fields: urls, timeout, "
        "authUsername, authSecret, maxRetries, minRetryWait, maxRetryWait, readFromReplicas, "
        "protocolVersion, secret)");
}

static void test_redis_sentinel(void) {
    agora_config *c = OK("{\"@type\": \"RedisSentinel\"}");
    if (c) {
        static const char *const u[] = {"redis://127.0.0.1:26379"};
        const ag_redis_config *r = SECTION(c, redis);
        CHECK(c->type == &ag_type_redis_sentinel &&
              !strcmp(agora_config_type(c), "RedisSentinel"));
        CHECK(list_is(&r->urls, 1, u));
        CHECK(!strcmp(r->service_name, "mymaster") && r->timeout_ms == 10000);
        CHECK(!r->auth_username && !r->auth_secret && !r->sentinel_username &&
              !r->sentinel_secret);
    }
    agora_config_free(c);
    c = OK("{\"@type\": \"RedisSentinel\", \"urls\": [\"redis://s1:26379\", \"redis://s2\"], "
           "\"serviceName\": \"main\", \"timeout\": \"2s\", \"authUsername\": \"au\", "
           "\"authSecret\": \"as\", \"sentinelUsername\": \"su\", \"sentinelSecret\": \"ss\"}");
    if (c) {
        static const char *const u[] = {"redis://s1:26379", "redis://s2"};
        const ag_redis_config *r = SECTION(c, redis);
        CHECK(list_is(&r->urls, 2, u));
        CHECK(!strcmp(r->service_name, "main") && r->timeout_ms == 2000);
        CHECK(!strcmp(r->auth_username, "au") && !strcmp(r->auth_secret, "as"));
        CHECK(!strcmp(r->sentinel_username, "su") && !strcmp(r->sentinel_secret, "ss"));
    }
    agora_config_free(c);
    BAD("{\"@type\": \"RedisSentinel\", \"urls\": []}", 1,
        "coordinator.urls: at least one URL is required");
    BAD("{\"@type\": \"RedisSentinel\", \"serviceName\": \"\"}", 1,
        "coordinator.serviceName: must not be empty (omit the field or use null)");
    BAD("{\"@type\": \"RedisSentinel\", \"sentinelSecret\": {}}", 1,
        "coordinator.sentinelSecret: expected a string, found object");
    BAD("{\"@type\": \"RedisSentinel\", \"sentinelUsername\": 1}", 1,
        "coordinator.sentinelUsername: expected a string, found number");
    BAD("{\"@type\": \"RedisSentinel\", \"urls\": \"redis://s:1\"}", 1,
        "coordinator.urls: expected a list of a redis:// URL strings, found string");
}

/* PeerToPeer --------------------------------------------------------------- */

static void test_p2p(void) {
    agora_config *c = OK("{\"@type\": \"PeerToPeer\", \"secret\": \"s3cret\"}");
    if (c) {
        static const char *const l[] = {"127.0.0.1:7911"};
        const ag_p2p_config *p = SECTION(c, p2p);
        CHECK(c->type == &ag_type_p2p && !strcmp(agora_config_type(c), "PeerToPeer"));
        CHECK(list_is(&p->listen, 1, l) && p->peers.count == 0);
        CHECK(!strcmp(p->secret, "s3cret") && !p->plaintext);
        CHECK(!strcmp(p->advertise, "127.0.0.1:7911")); /* default: first listen address */
        CHECK(p->reconnect_min_ms == 100 && p->reconnect_max_ms == 5000);
        CHECK(p->resend_buffer == 100000 && p->max_frame == 4194304);
        CHECK(p->connect_timeout_ms == 2000);
    }
    agora_config_free(c);
    c = OK("{\"@type\": \"PeerToPeer\", \"listen\": [\"0.0.0.0:7000\", \"[::]:7000\"], "
           "\"peers\": [\"10.0.0.2:7000\", \"node3.example:7000\"], \"secret\": \"k\", "
           "\"encryption\": \"psk\", \"advertise\": \"10.0.0.1:7000\", \"reconnectMin\": "
           "\"50ms\", \"reconnectMax\": \"1m\", \"resendBuffer\": 0, \"maxFrameSize\": 1024, "
           "\"connectTimeout\": 750}");
    if (c) {
        static const char *const l[] = {"0.0.0.0:7000", "[::]:7000"};
        static const char *const pe[] = {"10.0.0.2:7000", "node3.example:7000"};
        const ag_p2p_config *p = SECTION(c, p2p);
        CHECK(list_is(&p->listen, 2, l) && list_is(&p->peers, 2, pe));
        CHECK(!strcmp(p->advertise, "10.0.0.1:7000") && !p->plaintext);
        CHECK(p->reconnect_min_ms == 50 && p->reconnect_max_ms == 60000);
        CHECK(p->resend_buffer == 0 && p->max_frame == 1024 && p->connect_timeout_ms == 750);
    }
    agora_config_free(c);
    /* listen and peers also take a single string; port 0 listens on any free port */
    c = OK("{\"@type\": \"PeerToPeer\", \"listen\": \"127.0.0.1:0\", \"peers\": "
           "\"127.0.0.1:7001\", \"encryption\": \"none\"}");
    if (c) {
        static const char *const l[] = {"127.0.0.1:0"};
        static const char *const pe[] = {"127.0.0.1:7001"};
        CHECK(list_is(&SECTION(c, p2p)->listen, 1, l) && list_is(&SECTION(c, p2p)->peers, 1, pe));
        CHECK(SECTION(c, p2p)->plaintext && SECTION(c, p2p)->secret == NULL);
        CHECK(!strcmp(SECTION(c, p2p)->advertise, "127.0.0.1:0"));
    }
    agora_config_free(c);

    BAD("{\"@type\": \"PeerToPeer\"}", 1,
        "coordinator.secret: required: the cluster secret shared by every node (or set "
        "\"encryption\": \"none\" to run without authentication and encryption)");
    BAD("{\"@type\": \"PeerToPeer\", \"secret\": \"\"}", 1,
        "coordinator.secret: must not be empty (omit the field or use null)");
    BAD("{\"@type\": \"PeerToPeer\", \"secret\": \"x\", \"encryption\": \"none\"}", 1,
        "coordinator.secret: not used when \"encryption\" is \"none\"; remove one of them");
    BAD("{\"@type\": \"PeerToPeer\", \"secret\": \"x\", \"encryption\": \"tls\"}", 1,
        "coordinator.encryption: expected \"psk\" or \"none\", found \"tls\"");
    BAD("{\"@type\": \"PeerToPeer\", \"secret\": \"x\", \"encryption\": false}", 1,
        "coordinator.encryption: expected \"psk\" or \"none\", found boolean");
    BAD("{\"@type\": \"PeerToPeer\", \"secret\": \"x\", \"listen\": []}", 1,
        "coordinator.listen: at least one listen address is required");
    BAD("{\"@type\": \"PeerToPeer\", \"secret\": \"x\", \"listen\": 7911}", 1,
        "coordinator.listen: expected a list of \"host:port\" strings (or one string), found "
        "number");
    BAD("{\"@type\": \"PeerToPeer\", \"secret\": \"x\", \"listen\": \"::1:7911\"}", 1,
        "coordinator.listen: expected \"host:port\", found \"::1:7911\": IPv6 addresses must "
        "be written in brackets, as [::1]:port");
    BAD("{\"@type\": \"PeerToPeer\", \"secret\": \"x\", \"peers\": [\"a:1\", \"b:0\"]}", 1,
        "coordinator.peers[1]: expected \"host:port\", found \"b:0\": port must be a number "
        "from 1 to 65535");
    BAD("{\"@type\": \"PeerToPeer\", \"secret\": \"x\", \"peers\": [\"300.1.1.1:5\"]}", 1,
        "coordinator.peers[0]: expected \"host:port\", found \"300.1.1.1:5\": invalid IPv4 "
        "address");
    BAD("{\"@type\": \"PeerToPeer\", \"secret\": \"x\", \"advertise\": \"h\"}", 1,
        "coordinator.advertise: expected \"host:port\", found \"h\": missing ':port'");
    /* a wildcard can be listened on, not dialled */
    BAD("{\"@type\": \"PeerToPeer\", \"secret\": \"x\", \"advertise\": \"0.0.0.0:0\"}", 1,
        "coordinator.advertise: 0.0.0.0 is a wildcard address other nodes cannot dial: give "
        "this node's reachable address");
    BAD("{\"@type\": \"PeerToPeer\", \"secret\": \"x\", \"advertise\": \"[::]:7911\"}", 1,
        "coordinator.advertise: :: is a wildcard address other nodes cannot dial: give "
        "this node's reachable address");
    BAD("{\"@type\": \"PeerToPeer\", \"secret\": \"x\", \"advertise\": [\"h:1\"]}", 1,
        "coordinator.advertise: expected \"host:port\" string, found array");
    BAD("{\"@type\": \"PeerToPeer\", \"secret\": \"x\", \"reconnectMin\": \"10s\"}", 1,
        "coordinator.reconnectMax: out of range: must not be less than reconnectMin");
    BAD("{\"@type\": \"PeerToPeer\", \"secret\": \"x\", \"reconnectMin\": \"1x\"}", 1,
        "coordinator.reconnectMin: expected a duration such as \"100ms\"");
    BAD("{\"@type\": \"PeerToPeer\", \"secret\": \"x\", \"connectTimeout\": \"25d\"}", 1,
        "coordinator.connectTimeout: out of range: must be at most 24d");
    BAD("{\"@type\": \"PeerToPeer\", \"secret\": \"x\", \"maxFrameSize\": 1023}", 1,
        "coordinator.maxFrameSize: out of range: 1023 is not from 1024 to 1073741824");
    BAD("{\"@type\": \"PeerToPeer\", \"secret\": \"x\", \"resendBuffer\": -1}", 1,
        "coordinator.resendBuffer: out of range: -1 is not from 0 to 4294967295");
    BAD("{\"@type\": \"PeerToPeer\", \"secret\": \"x\", \"peer\": []}", 1,
        "coordinator.peer: unknown field for PeerToPeer (known fields: listen, peers, secret, "
        "encryption, advertise, reconnectMin, reconnectMax, resendBuffer, maxFrameSize, "
        "connectTimeout)");
    /* a wrong-typed secret is reported without its value */
    BAD("{\"@type\": \"PeerToPeer\", \"secret\": 424242}", 1,
        "coordinator.secret: expected a string, found number");
    CHECK(!strstr(err, "424242"));
}

/* Durations and addresses --------------------------------------------------- */

static void test_durations(void) {
    static const struct {
        const char *text;
        uint64_t ms;
    } good[] = {{"0ms", 0},       {"250ms", 250},       {"5s", 5000},    {"1m", 60000},
                {"1h", 3600000},  {"1d", 86400000},     {"90s", 90000},  {"1500ms", 1500},
                {"007s", 7000},   {"24d", 2073600000}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint64_t ms = 12345;
        CHECK(ag_parse_duration(good[i].text, &ms) == 0 && ms == good[i].ms);
    }
    static const char *const bad[] = {"",     "5",    "s",    "5 s", " 5s", "5s ", "-5s",
                                      "5S",   "5sec", "1.5s", "5us", "1m30s", "0x10ms",
                                      "99999999999999999999ms", "9999999999999999d", NULL};
    for (const char *const *b = bad; *b; b++) {
        uint64_t ms = 777;
        if (ag_parse_duration(*b, &ms) != -1 || ms != 777) {
            fprintf(stderr, "duration \"%s\" should be rejected\n", *b);
            failures++;
        }
    }
    CHECK(ag_parse_duration(NULL, NULL) == -1);

    /* in a configuration: strings and integer milliseconds */
    agora_config *c = OK("{\"@type\": \"Redis\", \"timeout\": 1}");
    CHECK(c && SECTION(c, redis)->timeout_ms == 1);
    agora_config_free(c);
    c = OK("{\"@type\": \"Redis\", \"timeout\": \"1d\"}");
    CHECK(c && SECTION(c, redis)->timeout_ms == 86400000);
    agora_config_free(c);
    c = OK("{\"@type\": \"Redis\", \"timeout\": null}");
    CHECK(c && SECTION(c, redis)->timeout_ms == 10000);
    agora_config_free(c);
    c = OK("{\"@type\": \"Redis\", \"timeout\": 2073600000}");
    CHECK(c && SECTION(c, redis)->timeout_ms == 2073600000);
    agora_config_free(c);
    BAD("{\"@type\": \"Redis\", \"timeout\": 2073600001}", 1,
        "coordinator.timeout: out of range: must be at most 24d");
    BAD("{\"@type\": \"Redis\", \"timeout\": 1.5}", 1,
        "coordinator.timeout: expected a duration such as \"10s\"");
    BAD("{\"@type\": \"Redis\", \"timeout\": \"0ms\"}", 1,
        "coordinator.timeout: out of range: must be at least 1ms");
    BAD("{\"@type\": \"Redis\", \"timeout\": [\"5s\"]}", 1,
        "coordinator.timeout: expected a duration such as \"10s\"");
}

static void test_addresses(void) {
    static const char *const good[] = {"h:1", "a.b-c_d.example:65535", "10.0.0.1:80",
                                       "[::1]:7911", "[2001:db8::1]:1", "localhost:6379",
                                       NULL};
    static const char *const bad[] = {"h",        "h:",          ":80",      "h:0",
                                      "h:65536",  "h:8x",        "h:123456", "1.2.3:4",
                                      "[::1]",    "[::1]7911",   "[zz]:1",   "::1:80",
                                      "-h:1",     "a..b:1",      "a b:1",    "[::1:80",
                                      "h\xC3\xA9:1", "h.:1x", NULL};
    char json[256];
    for (const char *const *g = good; *g; g++) {
        snprintf(json, sizeof json, "{\"@type\": \"Kafka\", \"groupId\": \"g\", \"brokers\": "
                                    "[\"%s\"]}", *g);
        agora_config *c = agora_config_parse(json, strlen(json), err, sizeof err);
        if (!c) {
            fprintf(stderr, "address %s should be valid: %s\n", *g, err);
            failures++;
        }
        agora_config_free(c);
    }
    for (const char *const *b = bad; *b; b++) {
        snprintf(json, sizeof json, "{\"@type\": \"Kafka\", \"groupId\": \"g\", \"brokers\": "
                                    "[\"%s\"]}", *b);
        agora_config *c = agora_config_parse(json, strlen(json), err, sizeof err);
        if (c || strncmp(err, "coordinator.brokers[0]: expected \"host:port\", found ", 51)) {
            fprintf(stderr, "address %s should be rejected, got: %s\n", *b, c ? "valid" : err);
            failures++;
        }
        agora_config_free(c);
    }
}

/* Output -------------------------------------------------------------------- */

static const char *const secret_configs[] = {
    "{\"@type\": \"PeerToPeer\", \"secret\": \"TOPSECRET-p2p\"}",
    "{\"@type\": \"Nats\", \"authUsername\": \"bob\", \"authSecret\": \"TOPSECRET-nats\", "
    "\"credentials\": \"TOPSECRET-creds\"}",
    "{\"@type\": \"Redis\", \"url\": \"redis://bob:TOPSECRET-url@h:6379/1\"}",
    "{\"@type\": \"Redis\", \"url\": \"redis://TOPSECRET-lone@h\"}",
    "{\"@type\": \"RedisCluster\", \"urls\": [\"redis://:TOPSECRET-u1@a:1\", \"redis://b:2\"], "
    "\"authSecret\": \"TOPSECRET-cl\"}",
    "{\"@type\": \"RedisSentinel\", \"urls\": [\"redis://x:TOPSECRET-s@s:26379\"], "
    "\"authSecret\": \"TOPSECRET-a\", \"sentinelSecret\": \"TOPSECRET-ss\"}",
    "{\"@type\": \"Kafka\", \"brokers\": [\"k:1\"], \"groupId\": \"g\", \"secret\": "
    "[\"TOPSECRET-0123456789\", \"TOPSECRET-abcdefghij\"]}",
    "{\"@type\": \"Redis\", \"secret\": \"TOPSECRET-0123456789\"}",
    NULL};

static void test_secrets_masked(void) {
    for (const char *const *s = secret_configs; *s; s++) {
        agora_config *c = OK(*s);
        if (!c) continue;
        char *j = agora_config_to_json(c);
        CHECK(j && !strstr(j, "TOPSECRET") && strstr(j, "********") != NULL);
        /* the output parses back to a configuration that prints the same */
        agora_config *c2 = j ? agora_config_parse(j, strlen(j), err, sizeof err) : NULL;
        CHECK(c2 != NULL);
        char *j2 = c2 ? agora_config_to_json(c2) : NULL;
        CHECK(j2 && !strcmp(j, j2));
        free(j2);
        agora_config_free(c2);
        free(j);
        agora_config_free(c);
    }
    agora_config *c = OK("{\"@type\": \"Nats\", \"authUsername\": \"bob\", \"authSecret\": "
                         "\"TOPSECRET\"}");
    char *j = c ? agora_config_to_json(c) : NULL;
    CHECK(j && strstr(j, "\"authUsername\": \"bob\"") && strstr(j, "\"authSecret\": \"********\"")
          && strstr(j, "\"credentials\": null"));
    free(j);
    agora_config_free(c);
    c = OK("{\"@type\": \"Redis\", \"url\": \"redis://bob:pw@h:6379/1\"}");
    j = c ? agora_config_to_json(c) : NULL;
    CHECK(j && strstr(j, "\"url\": \"redis://bob:********@h:6379/1\""));
    free(j);
    agora_config_free(c);
}

/* "secret" of the bus backends: one string or a list, masked, checked by index. */
static void test_bus_secret(void) {
    static const char *const types[] = {
        "\"Redis\"", "\"RedisCluster\", \"urls\": [\"redis://a:1\"]",
        "\"RedisSentinel\"", "\"Nats\"", "\"Kafka\", \"brokers\": [\"k:1\"], \"groupId\": \"g\"",
        NULL};
    for (const char *const *t = types; *t; t++) {
        char json[512];
        snprintf(json, sizeof json, "{\"@type\": %s, \"secret\": \"SEALSECRET-0123456789\"}", *t);
        agora_config *c = OK(json);
        CHECK(c && c->seal_secrets.count == 1 &&
              !strcmp(c->seal_secrets.items[0], "SEALSECRET-0123456789"));
        char *j = c ? agora_config_to_json(c) : NULL;
        CHECK(j && !strstr(j, "SEALSECRET") && has_line(j, "    \"secret\": \"********\""));
        free(j);
        j = c ? agora_config_get(c, "coordinator.secret") : NULL;
        CHECK(j && !strcmp(j, "\"********\""));
        free(j);
        agora_config *d = c ? ag_config_clone(c) : NULL;
        CHECK(d && d->seal_secrets.count == 1 &&
              !strcmp(d->seal_secrets.items[0], "SEALSECRET-0123456789"));
        agora_config_free(d);
        agora_config_free(c);
    }
    agora_config *c = OK("{\"@type\": \"Nats\", \"secret\": [\"SEALSECRET-new-456789\", "
                         "\"SEALSECRET-old-456789\"]}");
    char *j = c ? agora_config_to_json(c) : NULL;
    CHECK(j && !strstr(j, "SEALSECRET") && has_line(j, "    \"secret\": [\"********\", \"********\"]"));
    CHECK(c && c->seal_secrets.count == 2 &&
          !strcmp(c->seal_secrets.items[1], "SEALSECRET-old-456789"));
    free(j);
    agora_config_free(c);
    /* errors name the field and index, never the text */
    BAD("{\"@type\": \"Redis\", \"secret\": \"SEALSHORT\"}", 1,
        "coordinator.secret: must be at least 16 bytes (a random string; it is not stretched)");
    BAD("{\"@type\": \"Redis\", \"secret\": [\"SEALSECRET-0123456789\", \"SEALSHORT\"]}", 1,
        "coordinator.secret[1]: must be at least 16 bytes (a random string; it is not "
        "stretched)");
    BAD("{\"@type\": \"Nats\", \"secret\": [\"SEALSECRET-0123456789\", "
        "\"SEALSECRET-0123456789\"]}",
        1, "coordinator.secret[1]: same key id as secret[0] (the same secret twice?)");
    BAD("{\"@type\": \"Redis\", \"secret\": 1234567890123456789}", 1,
        "coordinator.secret: expected a string or a list of strings, found number");
    BAD("{\"@type\": \"Redis\", \"secret\": [\"SEALSECRET-0123456789\", 5]}", 1,
        "coordinator.secret[1]: expected a string, found number");
    BAD("{\"@type\": \"Redis\", \"secret\": []}", 1, "coordinator.secret: give 1 to 16 secrets, found 0");
    CHECK(!strstr(err, "SEAL"));
    agora_config *bad = agora_config_parse(
        "{\"@type\": \"Redis\", \"secret\": [\"SEALSECRET-0123456789\", \"SEALSHORT\"]}", 73,
        err, sizeof err);
    CHECK(!bad && !strstr(err, "SEALSECRET") && !strstr(err, "SEALSHORT"));
    /* the mask parses back (config show's output is a configuration); open refuses it */
    c = OK("{\"nodeId\": 1, \"coordinator\": {\"@type\": \"Redis\", \"secret\": \"********\"}}");
    agora_t *a = NULL;
    int orc = c ? agora_open(c, NULL, &a, err, sizeof err) : AGORA_ECONFIG;
    CHECK(!a && (orc == AGORA_ENOBACKEND || /* a build without hiredis */
                 (orc == AGORA_ECONFIG && strstr(err, "secret[0]: must be at least 16 bytes"))));
    agora_config_free(c);
    /* Stalwart reads plain batches */
    BAD("{\"nodeId\": 1, \"codec\": \"stalwart\", \"coordinator\": {\"@type\": \"Redis\", "
        "\"secret\": \"SEALSECRET-0123456789\"}}",
        1, "coordinator.secret: the \"stalwart\" codec cannot be sealed (Stalwart nodes read "
           "plain batches): remove the secret, or use the \"agora\" codec");
    c = OK("{\"nodeId\": 1, \"coordinator\": {\"@type\": \"Redis\", \"secret\": "
           "\"SEALSECRET-0123456789\"}}");
    CHECK(c && agora_config_set(c, "codec", "\"stalwart\"", err, sizeof err) == AGORA_ECONFIG);
    CHECK(c && agora_config_codec(c) == AGORA_CODEC_AGORA);
    agora_config_free(c);
    /* PeerToPeer's own secret (its TLS key) is not the bus secret */
    c = OK("{\"@type\": \"PeerToPeer\", \"secret\": \"k\"}");
    CHECK(c && c->seal_secrets.count == 0);
    agora_config_free(c);
    BAD("{\"@type\": \"Disabled\", \"secret\": \"SEALSECRET-0123456789\"}", 1,
        "coordinator.secret: unknown field for Disabled (known fields: )");
}

static void test_to_json_exact(void) {
    agora_config *c = OK("{\"nodeId\": 3, \"codec\": \"stalwart\", \"heartbeatInterval\": 1000,"
                         " \"coordinator\": {\"@type\": \"Kafka\", \"brokers\": [\"k1:9092\", "
                         "\"k2:9092\"], \"groupId\": \"mail\\\"x\", \"timeoutMessage\": 90000}}");
    char *j = c ? agora_config_to_json(c) : NULL;
    const char *want = "{\n"
                       "  \"nodeId\": 3,\n"
                       "  \"codec\": \"stalwart\",\n"
                       "  \"heartbeatInterval\": \"1s\",\n"
                       "  \"failureTimeout\": \"1500ms\",\n"
                       "  \"outboxLimit\": 100000,\n"
                       "  \"outboxBytes\": 67108864,\n"
                       "  \"memberRetention\": \"10m\",\n"
                       "  \"coordinator\": {\n"
                       "    \"@type\": \"Kafka\",\n"
                       "    \"brokers\": [\"k1:9092\", \"k2:9092\"],\n"
                       "    \"groupId\": \"mail\\\"x\",\n"
                       "    \"timeoutSession\": \"5s\",\n"
                       "    \"timeoutMessage\": \"90s\",\n"
                       "    \"useTls\": false,\n"
                       "    \"tlsCaFile\": null,\n"
                       "    \"tlsCertFile\": null,\n"
                       "    \"tlsKeyFile\": null,\n"
                       "    \"tlsKeyPassword\": null,\n"
                       "    \"saslMechanism\": null,\n"
                       "    \"authUsername\": null,\n"
                       "    \"authSecret\": null,\n"
                       "    \"secret\": null\n"
                       "  }\n"
                       "}";
    if (!j || strcmp(j, want)) {
        fprintf(stderr, "to_json mismatch:\n%s\nwant:\n%s\n", j ? j : "(null)", want);
        failures++;
    }
    free(j);
    /* node id override shows in the output */
    if (c) {
        agora_config_set_node_id(c, 40000);
        j = agora_config_to_json(c);
        CHECK(j && strstr(j, "\"nodeId\": 40000,"));
        free(j);
    }
    agora_config_free(c);

    /* every backend's output lists every field, defaults filled in */
    c = OK("{\"@type\": \"Nats\"}");
    j = c ? agora_config_to_json(c) : NULL;
    static const char *const nats_lines[] = {
        "  \"nodeId\": null,", "    \"addresses\": [\"127.0.0.1:4444\"],",
        "    \"maxReconnects\": null,", "    \"timeoutConnection\": \"5s\",",
        "    \"timeoutRequest\": \"10s\",", "    \"pingInterval\": \"1m\",",
        "    \"capacityClient\": 2048,", "    \"capacityReadBuffer\": 65535,",
        "    \"capacitySubscription\": 65536,", "    \"noEcho\": true,",
        "    \"useTls\": false,", "    \"tlsCaFile\": null,", "    \"tlsCertFile\": null,",
        "    \"tlsKeyFile\": null,", "    \"tlsKeyPassword\": null,", "    \"tlsServerName\": null,",
        "    \"authUsername\": null,", "    \"authSecret\": null,",
        "    \"credentials\": null,", "    \"secret\": null", NULL};
    for (const char *const *l = nats_lines; *l && j; l++)
        if (!has_line(j, *l)) {
            fprintf(stderr, "Nats output lacks line: %s\n%s\n", *l, j);
            failures++;
        }
    free(j);
    agora_config_free(c);

    c = OK("{\"@type\": \"PeerToPeer\", \"encryption\": \"none\"}");
    j = c ? agora_config_to_json(c) : NULL;
    static const char *const p2p_lines[] = {
        "    \"listen\": [\"127.0.0.1:7911\"],", "    \"peers\": [],",
        "    \"encryption\": \"none\",", "    \"secret\": null,",
        "    \"advertise\": \"127.0.0.1:7911\",", "    \"reconnectMin\": \"100ms\",",
        "    \"reconnectMax\": \"5s\",", "    \"resendBuffer\": 100000,",
        "    \"maxFrameSize\": 4194304,", "    \"connectTimeout\": \"2s\"", NULL};
    for (const char *const *l = p2p_lines; *l && j; l++)
        if (!has_line(j, *l)) {
            fprintf(stderr, "PeerToPeer output lacks line: %s\n%s\n", *l, j);
            failures++;
        }
    free(j);
    agora_config_free(c);

    c = OK("{\"@type\": \"RedisCluster\", \"urls\": [\"redis://a:1\"]}");
    j = c ? agora_config_to_json(c) : NULL;
    static const char *const cl_lines[] = {
        "    \"urls\": [\"redis://a:1\"],", "    \"timeout\": \"10s\",",
        "    \"authUsername\": null,", "    \"authSecret\": null,", "    \"maxRetries\": 3,",
        "    \"minRetryWait\": \"100ms\",", "    \"maxRetryWait\": \"5s\",",
        "    \"readFromReplicas\": true,", "    \"protocolVersion\": \"Resp2\",",
        "    \"secret\": null", NULL};
    for (const char *const *l = cl_lines; *l && j; l++)
        if (!has_line(j, *l)) {
            fprintf(stderr, "RedisCluster output lacks line: %s\n%s\n", *l, j);
            failures++;
        }
    free(j);
    agora_config_free(c);
    CHECK(agora_config_to_json(NULL) == NULL);
}

static void test_clone(void) {
    for (const char *const *s = secret_configs; *s; s++) {
        agora_config *c = OK(*s);
        if (!c) continue;
        agora_config_set_node_id(c, 5);
        agora_config *d = ag_config_clone(c);
        CHECK(d != NULL && d != c);
        if (!d) {
            agora_config_free(c);
            continue;
        }
        char *a = agora_config_to_json(c);
        CHECK(d->backend != c->backend);
        agora_config_free(c); /* the clone must not share memory with the original */
        char *b = agora_config_to_json(d);
        CHECK(a && b && !strcmp(a, b));
        CHECK(agora_config_node_id(d) == 5);
        free(a);
        free(b);
        agora_config_free(d);
    }
    agora_config *c = OK("{\"@type\": \"Kafka\", \"brokers\": [\"a:1\", \"b:2\"], "
                         "\"groupId\": \"g\"}");
    agora_config *d = c ? ag_config_clone(c) : NULL;
    CHECK(d && SECTION(d, kafka)->brokers.items != SECTION(c, kafka)->brokers.items &&
          SECTION(d, kafka)->brokers.items[1] != SECTION(c, kafka)->brokers.items[1] &&
          !strcmp(SECTION(d, kafka)->brokers.items[1], "b:2") &&
          SECTION(d, kafka)->group_id != SECTION(c, kafka)->group_id);
    agora_config_free(d);
    agora_config_free(c);
    CHECK(ag_config_clone(NULL) == NULL);
}

/* Files and error buffers ----------------------------------------------------- */

static void test_load(void) {
    char dir[] = "/tmp/agora-test-config-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/node.json", dir);

    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs("{\"nodeId\": 2, \"coordinator\": {\"@type\": \"PeerToPeer\", \"secret\": \"k\"}}\n", f);
    fclose(f);
    agora_config *c = agora_config_load(path, err, sizeof err);
    CHECK(c && agora_config_node_id(c) == 2 && !strcmp(agora_config_type(c), "PeerToPeer"));
    agora_config_free(c);

    /* every error line is prefixed with the file name */
    f = fopen(path, "w");
    fputs("{\"nodeId\": -2, \"coordinator\": {\"@type\": \"Kafka\"}}", f);
    fclose(f);
    c = agora_config_load(path, err, sizeof err);
    char want[512];
    snprintf(want, sizeof want, "%s: nodeId: out of range: -2 is not from 0 to 65535", path);
    CHECK(!c && has_line(err, want) && count_lines(err) == 3);
    snprintf(want, sizeof want, "%s: coordinator.brokers: at least one broker is required", path);
    CHECK(has_line(err, want));
    agora_config_free(c);

    /* JSON syntax errors keep line and column */
    f = fopen(path, "w");
    fputs("{\n  \"@type\": \"Redis\",\n  \"url\": redis\n}\n", f);
    fclose(f);
    c = agora_config_load(path, err, sizeof err);
    snprintf(want, sizeof want, "%s: invalid JSON at line 3, column 10: unexpected 'r' "
                                "(expected a value)", path);
    CHECK(!c && !strcmp(err, want));
    agora_config_free(c);

    /* missing file, a directory */
    char missing[300];
    snprintf(missing, sizeof missing, "%s/nope.json", dir);
    c = agora_config_load(missing, err, sizeof err);
    snprintf(want, sizeof want, "%s: cannot open the configuration file: No such file or "
                                "directory", missing);
    CHECK(!c && !strcmp(err, want));
    c = agora_config_load(dir, err, sizeof err);
    CHECK(!c && !strncmp(err, dir, strlen(dir)) && strstr(err, "configuration file"));
    c = agora_config_load(NULL, err, sizeof err);
    CHECK(!c && err[0]);
    /* an empty file */
    f = fopen(path, "w");
    fclose(f);
    c = agora_config_load(path, err, sizeof err);
    CHECK(!c && strstr(err, "invalid JSON at line 1, column 1: unexpected end of input"));
    unlink(path);
    rmdir(dir);
}

static void test_error_buffer(void) {
    /* many errors, small buffer: whole lines, then how many were left out */
    const char *j = "{\"@type\": \"Nats\", \"noEcho\": 1, \"useTls\": 2, \"capacityClient\": "
                    "\"x\", \"capacityReadBuffer\": \"y\", \"authSecret\": 5}";
    char small[200];
    agora_config *c = agora_config_parse(j, strlen(j), small, sizeof small);
    CHECK(!c && strlen(small) < sizeof small);
    CHECK(has_line(small, "coordinator.capacityClient: expected an integer from 1 to "
                         "4294967295, found string"));
    CHECK(strstr(small, "\n... and ") && strstr(small, " more error(s)"));
    /* the full buffer gets them all */
    c = agora_config_parse(j, strlen(j), err, sizeof err);
    CHECK(!c && count_lines(err) == 5);
    /* a tiny buffer is still NUL-terminated */
    char tiny[10];
    c = agora_config_parse(j, strlen(j), tiny, sizeof tiny);
    CHECK(!c && strlen(tiny) == 9);
}

int main(void) {
    test_node_file_defaults();
    test_node_file_fields();
    test_node_file_errors();
    test_root_and_json_errors();
    test_type_errors();
    test_kafka();
    test_nats();
    test_redis();
    test_redis_cluster();
    test_redis_sentinel();
    test_p2p();
    test_durations();
    test_addresses();
    test_secrets_masked();
    test_bus_secret();
    test_to_json_exact();
    test_clone();
    test_load();
    test_error_buffer();
    if (failures) {
        fprintf(stderr, "test_config: %d failure(s)\n", failures);
        return 1;
    }
    printf("test_config: ok\n");
    return 0;
}
