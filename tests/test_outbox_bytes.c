/* test_outbox_bytes.c — the outbox's byte bound ("outboxBytes"): a Redis node whose
 * server is not there (nothing listens on 127.0.0.1:26799) keeps what it publishes in
 * its outbox; 300 Custom events of 60 KB (18 MB) against a 4 MiB bound keep the
 * outbox within the bound, and the oldest are dropped, counted and logged (once a
 * second at most), with the newest kept. */
#include "agora.h"
#include "check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PORT 26799
#define BOUND (4u << 20)
#define EVENTS 300
#define EVENT_BYTES 60000

static unsigned full_logs;

static void on_log(agora_log_level level, const char *msg, void *user) {
    (void)user;
    if (level == AGORA_LOG_WARN && strstr(msg, "outbox full")) full_logs++;
    if (getenv("AGORA_TEST_DEBUG")) fprintf(stderr, "  %s\n", msg);
}

int main(void) {
    char json[512], err[512];
    snprintf(json, sizeof json,
             "{\"nodeId\":1,\"outboxBytes\":%u,\"coordinator\":{\"@type\":\"Redis\","
             "\"url\":\"redis://127.0.0.1:%d\",\"timeout\":\"1s\"}}", BOUND, PORT);
    agora_config *c = agora_config_parse(json, strlen(json), err, sizeof err);
    CHECKF(c != NULL, "config: %s", err);
    if (!c) return 1;
    agora_options o = {.on_log = on_log, .log_level = AGORA_LOG_WARN};
    agora_t *a = NULL;
    int rc = agora_open(c, &o, &a, err, sizeof err);
    agora_config_free(c);
    if (rc == AGORA_ENOBACKEND) {
        printf("test_outbox_bytes: no Redis backend in this build, skipped\n");
        return 0;
    }
    CHECKF(rc == AGORA_OK, "open: %s", err);
    if (rc) return 1;
    uint8_t *data = calloc(1, EVENT_BYTES);
    for (uint64_t id = 1; id <= EVENTS; id++) {
        agora_event ev = {.type = AGORA_EV_CUSTOM};
        memcpy(data, &id, sizeof id);
        ev.u.custom.name = "big";
        ev.u.custom.data = data;
        ev.u.custom.len = EVENT_BYTES;
        CHECK(agora_publish(a, &ev) == AGORA_OK);
    }
    free(data);
    agora_status st;
    CHECK(agora_get_status(a, &st) == AGORA_OK);
    printf("outbox: %llu events kept, %llu dropped, %u log lines\n",
           (unsigned long long)st.outbox_depth, (unsigned long long)st.dropped, full_logs);
    CHECK(!st.connected);
    CHECKF(st.outbox_depth * EVENT_BYTES <= BOUND, "%llu events kept",
           (unsigned long long)st.outbox_depth);
    CHECKF(st.outbox_depth >= BOUND / EVENT_BYTES * 8 / 10, "only %llu events kept",
           (unsigned long long)st.outbox_depth);
    CHECK(st.outbox_depth + st.dropped == EVENTS);
    CHECK(full_logs >= 1 && full_logs <= 3);
    agora_close(a);
    printf("test_outbox_bytes: %d failures\n", failures);
    return failures ? 1 : 0;
}
