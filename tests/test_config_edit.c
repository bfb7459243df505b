/* test_config_edit.c — changing and reading one field of a loaded configuration through
 * the public API (agora_config_set / get / clone / codec / has_membership), as the CLI
 * and embedding applications do. */
#include "agora.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static char err[4096];

static agora_config *parse(const char *json) {
    agora_config *c = agora_config_parse(json, strlen(json), err, sizeof err);
    CHECKF(c != NULL, "%s", err);
    return c;
}

/* agora_config_get(c, path) equals `want` (NULL: no such field). */
static void get_is(const agora_config *c, const char *path, const char *want) {
    char *v = agora_config_get(c, path);
    CHECKF(want ? v && !strcmp(v, want) : v == NULL, "%s: got %s, want %s", path,
           v ? v : "(null)", want ? want : "(null)");
    free(v);
}

static const char p2p_file[] =
    "{\"nodeId\": 1, \"coordinator\": {\"@type\": \"PeerToPeer\", \"secret\": \"s3cr3t-p2p\","
    " \"listen\": \"127.0.0.1:7001\", \"peers\": [\"127.0.0.1:7002\"]}}";

static void test_set_listen_moves_advertise(void) {
    agora_config *c = parse(p2p_file);
    if (!c) return;
    get_is(c, "coordinator.advertise", "\"127.0.0.1:7001\"");
    CHECK(agora_config_set(c, "coordinator.listen", "[\"127.0.0.1:7005\"]", err, sizeof err) ==
          AGORA_OK);
    get_is(c, "coordinator.listen", "[\"127.0.0.1:7005\"]");
    /* the file did not choose an advertise address: it follows listen */
    get_is(c, "coordinator.advertise", "\"127.0.0.1:7005\"");
    get_is(c, "coordinator.peers", "[\"127.0.0.1:7002\"]");
    get_is(c, "nodeId", "1");
    agora_config_free(c);

    /* one the file chose stays */
    c = parse("{\"nodeId\": 1, \"coordinator\": {\"@type\": \"PeerToPeer\", \"secret\": \"x\","
              " \"listen\": \"0.0.0.0:7001\", \"advertise\": \"10.0.0.1:7001\"}}");
    if (!c) return;
    CHECK(agora_config_set(c, "coordinator.listen", "\"0.0.0.0:7009\"", err, sizeof err) ==
          AGORA_OK);
    get_is(c, "coordinator.advertise", "\"10.0.0.1:7001\"");
    agora_config_free(c);
}

static void test_set_errors_leave_config_unchanged(void) {
    agora_config *c = parse(p2p_file);
    if (!c) return;
    char *before = agora_config_to_json(c);
    CHECK(agora_config_set(c, "coordinator.listen", "[\"nohost\"]", err, sizeof err) ==
          AGORA_ECONFIG);
    CHECKF(strstr(err, "coordinator.listen[0]:") != NULL, "%s", err);
    CHECK(agora_config_set(c, "coordinator.listen", "[\"127.0.0.1:1\"", err, sizeof err) ==
          AGORA_ECONFIG);
    CHECKF(strstr(err, "not JSON") != NULL, "%s", err);
    CHECK(agora_config_set(c, "coordinator.noSuchField", "1", err, sizeof err) == AGORA_ECONFIG);
    CHECKF(strstr(err, "coordinator.noSuchField: unknown field") != NULL, "%s", err);
    /* the stalwart codec is refused for PeerToPeer, naming the field */
    CHECK(agora_config_set(c, "codec", "\"stalwart\"", err, sizeof err) == AGORA_ECONFIG);
    CHECKF(strstr(err, "codec:") != NULL, "%s", err);
    CHECK(agora_config_set(c, "", "1", err, sizeof err) == AGORA_EINVAL);
    CHECK(agora_config_set(c, "a..b", "1", err, sizeof err) == AGORA_EINVAL);
    char *after = agora_config_to_json(c);
    CHECK(before && after && !strcmp(before, after));
    CHECK(agora_config_codec(c) == AGORA_CODEC_AGORA);
    free(before);
    free(after);
    agora_config_free(c);
}

static void test_bare_coordinator_and_node_id(void) {
    agora_config *c = parse("{\"@type\": \"Nats\", \"addresses\": [\"127.0.0.1:4222\"]}");
    if (!c) return;
    CHECK(agora_config_node_id(c) == -1);
    agora_config_set_node_id(c, 7);
    CHECK(agora_config_node_id(c) == 7);
    CHECK(agora_config_set(c, "codec", "\"stalwart\"", err, sizeof err) == AGORA_OK);
    CHECK(agora_config_codec(c) == AGORA_CODEC_STALWART);
    /* the node id set before survives a later change */
    CHECK(agora_config_node_id(c) == 7);
    CHECK(!agora_config_has_membership(c));
    CHECK(agora_config_set(c, "coordinator.addresses", "[\"127.0.0.1:4333\"]", err, sizeof err) ==
          AGORA_OK);
    get_is(c, "coordinator.addresses", "[\"127.0.0.1:4333\"]");
    get_is(c, "coordinator.@type", "\"Nats\"");
    CHECK(agora_config_set(c, "heartbeatInterval", "\"100ms\"", err, sizeof err) == AGORA_OK);
    get_is(c, "heartbeatInterval", "\"100ms\"");
    agora_config_free(c);
}

static void test_get_masks_and_misses(void) {
    agora_config *c = parse(p2p_file);
    if (!c) return;
    get_is(c, "coordinator.secret", "\"********\"");
    char *all = agora_config_get(c, "coordinator");
    CHECK(all && !strstr(all, "s3cr3t-p2p"));
    free(all);
    get_is(c, "coordinator.nothing", NULL);
    get_is(c, "nodeId.deeper", NULL);
    get_is(c, "", NULL);
    CHECK(agora_config_has_membership(c));
    agora_config_free(c);
}

static void test_clone_is_independent(void) {
    agora_config *c = parse(p2p_file);
    if (!c) return;
    agora_config *d = agora_config_clone(c);
    CHECK(d != NULL);
    if (d) {
        CHECK(agora_config_set(c, "coordinator.listen", "\"127.0.0.1:7100\"", err, sizeof err) ==
              AGORA_OK);
        get_is(d, "coordinator.listen", "[\"127.0.0.1:7001\"]");
        agora_config_free(c);
        c = NULL;
        /* the clone keeps its own source text: it can still be edited */
        CHECK(agora_config_set(d, "nodeId", "4", err, sizeof err) == AGORA_OK);
        CHECK(agora_config_node_id(d) == 4);
        get_is(d, "coordinator.listen", "[\"127.0.0.1:7001\"]");
        agora_config_free(d);
    }
    agora_config_free(c);
    CHECK(agora_config_clone(NULL) == NULL);
    CHECK(agora_config_get(NULL, "nodeId") == NULL);
}

int main(void) {
    test_set_listen_moves_advertise();
    test_set_errors_leave_config_unchanged();
    test_bare_coordinator_and_node_id();
    test_get_masks_and_misses();
    test_clone_is_independent();
    if (failures) {
        fprintf(stderr, "test_config_edit: %d failure(s)\n", failures);
        return 1;
    }
    printf("test_config_edit: ok\n");
    return 0;
}
