/* test_metrics.c — the operator's numbers through the public API, on two PeerToPeer
 * nodes in this process: agora_event_counts (published per type on the sender,
 * received per type on the receiver, notices not counted), agora_members' events_in
 * and events_per_sec, agora_metrics_text's series, agora_config_describe, and the
 * node file's "httpToken" (agora_config_http_token, masked everywhere). */
#include "agora.h"
#include "core/rate.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static int free_port(void) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) || getsockname(s, (struct sockaddr *)&a, &n))
        return -1;
    close(s);
    return ntohs(a.sin_port);
}

static agora_t *open_node(int id, int port, int peer) {
    char json[512], err[512];
    snprintf(json, sizeof json,
             "{\"nodeId\":%d,\"heartbeatInterval\":\"50ms\",\"failureTimeout\":\"2s\","
             "\"coordinator\":{\"@type\":\"PeerToPeer\",\"listen\":\"127.0.0.1:%d\","
             "\"peers\":[\"127.0.0.1:%d\"],\"secret\":\"test-metrics-secret\"}}",
             id, port, peer);
    agora_config *c = agora_config_parse(json, strlen(json), err, sizeof err);
    if (!c) {
        fprintf(stderr, "config: %s\n", err);
        return NULL;
    }
    agora_t *a = NULL;
    agora_options o = {.log_level = AGORA_LOG_WARN};
    if (agora_open(c, &o, &a, err, sizeof err)) fprintf(stderr, "open: %s\n", err);
    agora_config_free(c);
    return a;
}

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The member record of `node` in a's view (false if absent). */
static bool member_of(agora_t *a, uint16_t node, agora_member *out) {
    agora_member m[16];
    int n = agora_members(a, m, 16);
    for (int i = 0; i < n && i < 16; i++)
        if (m[i].node == node) {
            *out = m[i];
            return true;
        }
    return false;
}

static bool sees_alive(agora_t *a, uint16_t node) {
    agora_member m;
    return member_of(a, node, &m) && m.state == AGORA_MEMBER_ALIVE;
}

static void check_has(const char *text, const char *want) {
    CHECKF(text && strstr(text, want), "metrics lack: %s", want);
}

static void test_describe(void) {
    char *node = agora_config_describe(NULL);
    CHECK(node && strstr(node, "\"name\":\"httpToken\",\"kind\":\"secret\""));
    CHECK(node && strstr(node, "\"name\":\"failureTimeout\",\"kind\":\"duration\",\"default\":\"1500ms\""));
    free(node);
    char *kafka = agora_config_describe("Kafka");
    CHECK(kafka && strstr(kafka, "\"name\":\"groupId\",\"kind\":\"string\",\"default\":null,\"required\":true"));
    CHECK(kafka && strstr(kafka, "\"name\":\"secret\",\"kind\":\"secret\""));
    free(kafka);
    char *p2p = agora_config_describe("PeerToPeer");
    CHECK(p2p && strstr(p2p, "\"name\":\"listen\",\"kind\":\"list\",\"default\":[\"127.0.0.1:7911\"]"));
    free(p2p);
    CHECK(agora_config_describe("NoSuchType") == NULL);
}

/* "httpToken": read, kept by clone and edits, masked in every output, never echoed. */
static void test_http_token(void) {
    const char *ok = "{\"nodeId\":1,\"httpToken\":\"0123456789abcdef-token\","
                     "\"coordinator\":{\"@type\":\"Disabled\"}}";
    char err[512];
    agora_config *c = agora_config_parse(ok, strlen(ok), err, sizeof err);
    CHECK(c && agora_config_http_token(c) && !strcmp(agora_config_http_token(c), "0123456789abcdef-token"));
    if (!c) return;
    char *j = agora_config_to_json(c);
    CHECK(j && strstr(j, "\"httpToken\": \"********\"") && !strstr(j, "abcdef-token"));
    free(j);
    char *g = agora_config_get(c, "httpToken");
    CHECK(g && !strcmp(g, "\"********\""));
    free(g);
    agora_config *k = agora_config_clone(c);
    CHECK(k && agora_config_http_token(k) && !strcmp(agora_config_http_token(k), "0123456789abcdef-token"));
    CHECK(agora_config_set(k, "failureTimeout", "\"3s\"", err, sizeof err) == AGORA_OK);
    CHECK(agora_config_http_token(k) && !strcmp(agora_config_http_token(k), "0123456789abcdef-token"));
    agora_config_free(k);
    agora_config_free(c);
    const char *none = "{\"nodeId\":1,\"coordinator\":{\"@type\":\"Disabled\"}}";
    c = agora_config_parse(none, strlen(none), err, sizeof err);
    CHECK(c && agora_config_http_token(c) == NULL);
    agora_config_free(c);
    const char *shortish = "{\"nodeId\":1,\"httpToken\":\"short-secret\","
                           "\"coordinator\":{\"@type\":\"Disabled\"}}";
    c = agora_config_parse(shortish, strlen(shortish), err, sizeof err);
    CHECK(c == NULL && strstr(err, "httpToken: must be at least 16 bytes") && !strstr(err, "short-secret"));
    const char *number = "{\"nodeId\":1,\"httpToken\":5,\"coordinator\":{\"@type\":\"Disabled\"}}";
    c = agora_config_parse(number, strlen(number), err, sizeof err);
    CHECK(c == NULL && strstr(err, "httpToken: expected a string, found number"));
}

/* The recent rate behind events_per_sec, on a clock of our own. */
static void test_rate(void) {
    ag_rate r = {0};
    CHECK(ag_rate_per_sec(&r, 5000) == 0);
    ag_rate_add(&r, 100000, 10);
    CHECKF(ag_rate_per_sec(&r, 100500) == 10.0, "young count: %f", ag_rate_per_sec(&r, 100500));
    for (uint64_t t = 101000; t <= 130000; t += 250) ag_rate_add(&r, t, 1); /* 4/s for 29 s */
    double v = ag_rate_per_sec(&r, 130000);
    CHECKF(v > 3.5 && v < 4.6, "steady 4/s: %f", v);
    CHECK(r.total == 10 + 117);
    v = ag_rate_per_sec(&r, 135000);
    CHECKF(v > 1.5 && v < 2.5, "half the window quiet: %f", v);
    CHECK(ag_rate_per_sec(&r, 141000) == 0);
    CHECK(r.total == 127);
}

int main(void) {
    test_rate();
    test_describe();
    test_http_token();
    CHECK(agora_event_counts(NULL, NULL, NULL, 0) == AGORA_EINVAL);
    CHECK(agora_metrics_text(NULL) == NULL);

    int p1 = free_port(), p2 = free_port();
    CHECK(p1 > 0 && p2 > 0 && p1 != p2);
    agora_t *a = open_node(1, p1, p2), *b = open_node(2, p2, p1);
    CHECK(a && b);
    if (!a || !b) return 1;
    uint64_t deadline = now_ms() + 10000;
    while ((!sees_alive(a, 2) || !sees_alive(b, 1)) && now_ms() < deadline) usleep(10000);
    CHECK(sees_alive(a, 2) && sees_alive(b, 1));

    for (int i = 0; i < 3; i++) {
        agora_event ev = {.type = AGORA_EV_BLOCK_IP};
        agora_ip_prefix_parse("203.0.113.7/32", &ev.u.block_ip.address);
        CHECK(agora_publish(a, &ev) == AGORA_OK);
    }
    for (int i = 0; i < 2; i++) {
        agora_event ev = {.type = AGORA_EV_CUSTOM};
        ev.u.custom.name = "test";
        ev.u.custom.data = (const uint8_t *)"xy";
        ev.u.custom.len = 2;
        CHECK(agora_publish(a, &ev) == AGORA_OK);
    }
    int got = 0;
    deadline = now_ms() + 10000;
    while (got < 5 && now_ms() < deadline) {
        agora_event ev;
        if (agora_next_event(b, &ev, 1000) != AGORA_OK) continue;
        if (ev.type == AGORA_EV_BLOCK_IP || ev.type == AGORA_EV_CUSTOM) got++;
        agora_event_clear(&ev);
    }
    CHECK(got == 5);

    uint64_t pub[AGORA_EV_TYPE_COUNT], rec[AGORA_EV_TYPE_COUNT];
    CHECK(agora_event_counts(a, pub, rec, AGORA_EV_TYPE_COUNT) == AGORA_EV_TYPE_COUNT);
    CHECK(pub[AGORA_EV_BLOCK_IP] == 3 && pub[AGORA_EV_CUSTOM] == 2);
    CHECK(pub[AGORA_EV_STATE_CHANGE] == 0 && rec[AGORA_EV_BLOCK_IP] == 0);
    CHECK(agora_event_counts(b, pub, rec, AGORA_EV_TYPE_COUNT) == AGORA_EV_TYPE_COUNT);
    CHECKF(rec[AGORA_EV_BLOCK_IP] == 3 && rec[AGORA_EV_CUSTOM] == 2, "received %llu %llu",
           (unsigned long long)rec[AGORA_EV_BLOCK_IP], (unsigned long long)rec[AGORA_EV_CUSTOM]);
    CHECK(rec[AGORA_EV_MEMBER_JOINED] == 0 && pub[AGORA_EV_BLOCK_IP] == 0);
    /* a small cap writes only that much; either array may be NULL */
    uint64_t two[3] = {7, 7, 7};
    CHECK(agora_event_counts(b, NULL, two, 2) == AGORA_EV_TYPE_COUNT);
    CHECK(two[2] == 7);

    agora_member m;
    CHECK(member_of(b, 1, &m));
    CHECKF(m.events_in == 5, "events_in %llu", (unsigned long long)m.events_in);
    CHECKF(m.events_per_sec > 0 && m.events_per_sec <= 5.0, "rate %f", m.events_per_sec);
    CHECK(member_of(b, 2, &m) && m.self && m.events_in == 0);

    char *text = agora_metrics_text(b);
    CHECK(text != NULL);
    char want[256];
    check_has(text, "# TYPE agora_events_received_total counter\n");
    check_has(text, "agora_events_received_total{type=\"BlockIp\"} 3\n");
    check_has(text, "agora_events_received_total{type=\"Custom\"} 2\n");
    check_has(text, "agora_events_published_total{type=\"BlockIp\"} 0\n");
    check_has(text, "agora_member_events_received_total{node=\"1\"} 5\n");
    snprintf(want, sizeof want,
             "agora_member_state{node=\"1\",address=\"127.0.0.1:%d\",state=\"alive\"} 1\n", p1);
    check_has(text, want);
    snprintf(want, sizeof want,
             "agora_member_state{node=\"1\",address=\"127.0.0.1:%d\",state=\"failed\"} 0\n", p1);
    check_has(text, want);
    check_has(text, "agora_backend_connected 1\n");
    check_has(text, "agora_info{node=\"2\",backend=\"PeerToPeer\",version=\"" AGORA_VERSION "\"} 1\n");
    check_has(text, "# TYPE agora_member_last_heard_seconds gauge\n");
    /* every line a comment or "agora_... value" */
    for (char *line = text; text && *line;) {
        char *nl = strchr(line, '\n');
        CHECKF(nl != NULL, "unterminated last line");
        if (!nl) break;
        *nl = 0;
        CHECKF(line[0] == '#' || (!strncmp(line, "agora_", 6) && strrchr(line, ' ')),
               "bad line: %s", line);
        line = nl + 1;
    }
    free(text);
    text = agora_metrics_text(a);
    check_has(text, "agora_events_published_total{type=\"BlockIp\"} 3\n");
    check_has(text, "agora_events_published_total{type=\"Custom\"} 2\n");
    free(text);

    agora_close(b);
    agora_close(a);
    if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
