/* test_close_bound.c — agora_close returns within its documented bound
 * (AGORA_CLOSE_FLUSH_MS + AGORA_CLOSE_MARGIN_MS) even when the broker is away and an
 * event is still queued: a real redis-server is started, a node connects and
 * publishes, the server hangs (SIGSTOP) or dies (SIGKILL), one more event is
 * published, and agora_close is timed. Port 26210. */
#include "agora.h"
#include "check.h"
#include "proc.h"
#include "redis_fixture.h"

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define PORT 26210

static agora_t *open_node(void) {
    char json[512], err[512];
    snprintf(json, sizeof json,
             "{\"nodeId\":1,\"heartbeatInterval\":\"100ms\",\"coordinator\":"
             "{\"@type\":\"Redis\",\"url\":\"redis://127.0.0.1:%d\"}}", PORT);
    agora_config *cfg = agora_config_parse(json, strlen(json), err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "config: %s\n", err);
        return NULL;
    }
    agora_t *a = NULL;
    agora_options o = {.log_level = AGORA_LOG_WARN};
    if (agora_open(cfg, &o, &a, err, sizeof err)) fprintf(stderr, "agora_open: %s\n", err);
    agora_config_free(cfg);
    return a;
}

static int publish_one(agora_t *a, uint64_t change_id) {
    agora_event ev = {.type = AGORA_EV_STATE_CHANGE};
    ev.u.state_change.account_id = 1;
    ev.u.state_change.change_id = change_id;
    return agora_publish(a, &ev);
}

/* Open, connect, publish and flush; then take the server away (`gone`: killed,
 * otherwise stopped with SIGSTOP: connections stay open but nothing answers), publish
 * one more event and time agora_close. */
static void close_with_server_away(redis_fx_server *s, bool gone) {
    const char *how = gone ? "killed" : "hung";
    agora_t *a = open_node();
    CHECK(a != NULL);
    if (!a) return;
    agora_status st;
    unsigned long long dl = redis_fx_now_ms() + 10000;
    while (redis_fx_now_ms() < dl && (agora_get_status(a, &st) || !st.connected)) ts_sleep_ms(10);
    CHECKF(st.connected, "server %s", how);
    CHECK(publish_one(a, 1) == AGORA_OK);
    CHECK(agora_flush(a, 5000) == AGORA_OK);
    if (gone)
        redis_fx_kill(s);
    else
        redis_fx_signal(s, SIGSTOP);
    CHECK(publish_one(a, 2) == AGORA_OK);
    unsigned long long t0 = redis_fx_now_ms();
    agora_close(a);
    unsigned long long took = redis_fx_now_ms() - t0;
    fprintf(stderr, "agora_close took %llu ms with the server %s and one event queued\n", took,
            how);
    CHECKF(took <= AGORA_CLOSE_FLUSH_MS + AGORA_CLOSE_MARGIN_MS, "server %s: %llu ms", how, took);
    if (!gone) redis_fx_signal(s, SIGCONT);
}

int main(void) {
#ifndef REDIS_FX_ENABLED
    return 77;
#else
    if (!redis_fx_available()) return 77;
    redis_fx_server s;
    if (redis_fx_start(&s, PORT, NULL)) {
        fprintf(stderr, "cannot start redis-server\n");
        return 1;
    }
    close_with_server_away(&s, false);
    if (redis_fx_restart(&s)) { /* stops it first */
        fprintf(stderr, "cannot restart redis-server\n");
        return 1;
    }
    close_with_server_away(&s, true);
    if (failures) fprintf(stderr, "%d failures\n", failures);
    return failures ? 1 : 0;
#endif
}
