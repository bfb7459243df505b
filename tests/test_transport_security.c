/* test_transport_security.c — TLS and SASL of the Nats and Kafka coordinators against
 * the real servers, through the public API, with a throwaway CA made by openssl
 * (tls_pki.h). Every scenario also plants distinctive secrets (key password, SASL
 * passwords, right and wrong) and checks that none of them appears in any error, log
 * line (at debug level) or status.
 *
 *   nats        nats-server with tls { verify: true }: events flow with the CA, the
 *               client certificate and an unencrypted key, and with an encrypted key
 *               (tlsKeyPassword) and tlsServerName; the wrong CA, no client
 *               certificate, a certificate of another CA, a wrong key password and a
 *               wrong server name are refused by agora_open with a clear error
 *   kafka       Kafka 4 (KRaft) with an SSL listener (client certificate required) and a
 *               SASL_SSL one: events flow from an SSL node (encrypted key) to a
 *               SASL/PLAIN node and back; the wrong CA, no client certificate and a
 *               wrong PLAIN password leave the node running, disconnected, with a
 *               clear warning, retrying (it connects once the broker accepts it)
 *   kafka-scram SCRAM-SHA-256 and SCRAM-SHA-512 over TLS, and a wrong SCRAM password.
 *               On a Kafka 3.9 broker: librdkafka before 2.6.1 (Debian 12 has 2.0.2)
 *               cannot complete SCRAM with Kafka 4 brokers (librdkafka issue 4895)
 *   config      the configuration rules: files that cannot be read, tls* fields without
 *               useTls, a certificate without its key, SASL without TLS
 *
 * Ports: NATS 24970; Kafka 29240-29243 (4.x), 29250-29253 (3.9). */
#include "agora.h"
#include "check.h"
#include "nats_fixture.h"
#include "scenario.h"
#include "tls_pki.h"
#include "kafka_fixture.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NATS_PORT 24970
#define KAFKA_PORT 29240
#define KAFKA39_PORT 29250
#define SASL_USER "agora-node"
#define SASL_PASS "sasl-pass-PLANTED-41aa"
#define WRONG_PASS "wrong-pass-PLANTED-77c3"
#define PLANTED "PLANTED"
#define NEVENTS 50

static tls_pki pki;

/* ---- nodes ------------------------------------------------------------------------ */

typedef struct tnode {
    int id;
    agora_t *a;
    atomic_ulong got;
    pthread_mutex_t mu;
    char logs[16384]; /* every log line, for the checks (bounded: older lines dropped) */
} tnode;

static tnode nodes[3];
static atomic_int leaked; /* output lines that carried a planted secret */

static void on_event(agora_t *a, const agora_event *ev, void *user) {
    (void)a;
    tnode *n = user;
    if (ev->type == AGORA_EV_STATE_CHANGE) atomic_fetch_add(&n->got, 1);
}

static void on_log(agora_log_level lvl, const char *msg, void *user) {
    tnode *n = user;
    if (strstr(msg, PLANTED)) {
        atomic_fetch_add(&leaked, 1);
        fprintf(stderr, "SECRET IN LOG: [%d] %s\n", n->id, msg);
    }
    if (lvl <= AGORA_LOG_WARN || getenv("TS_VERBOSE")) fprintf(stderr, "[%d] %s\n", n->id, msg);
    pthread_mutex_lock(&n->mu);
    size_t have = strlen(n->logs), add = strlen(msg) + 1;
    if (have + add >= sizeof n->logs) {
        n->logs[0] = 0;
        have = 0;
    }
    if (add < sizeof n->logs) {
        memcpy(n->logs + have, msg, add - 1);
        n->logs[have + add - 1] = '\n';
        n->logs[have + add] = 0;
    }
    pthread_mutex_unlock(&n->mu);
}

static bool logged(tnode *n, const char *what) {
    pthread_mutex_lock(&n->mu);
    bool yes = strstr(n->logs, what) != NULL;
    pthread_mutex_unlock(&n->mu);
    return yes;
}

static unsigned long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000ull + (unsigned long long)ts.tv_nsec / 1000000ull;
}

static bool wait_for(bool (*cond)(void *), void *arg, int timeout_ms) {
    unsigned long long dl = now_ms() + (unsigned long long)timeout_ms;
    while (!cond(arg)) {
        if (now_ms() > dl) return false;
        usleep(20 * 1000);
    }
    return true;
}

static void check_no_secret(const char *where, const char *text) {
    CHECKF(!strstr(text, PLANTED), "a secret in %s: %s", where, text);
}

/* Open node `id` with the coordinator object `coord`. The agora_open status; its
 * error (checked for secrets) in err. */
static int open_node(int id, const char *coord, char *err, size_t errlen) {
    tnode *n = &nodes[id];
    if (!n->id) pthread_mutex_init(&n->mu, NULL);
    n->id = id;
    atomic_store(&n->got, 0);
    n->logs[0] = 0;
    char json[4096];
    snprintf(json, sizeof json,
             "{\"nodeId\":%d,\"heartbeatInterval\":\"200ms\",\"failureTimeout\":\"3s\","
             "\"coordinator\":%s}", id, coord);
    err[0] = 0;
    agora_config *cfg = agora_config_parse(json, strlen(json), err, errlen);
    if (!cfg) {
        fprintf(stderr, "config: %s\n", err);
        check_no_secret("a configuration error", err);
        return AGORA_ECONFIG;
    }
    char *eff = agora_config_to_json(cfg);
    CHECK(eff != NULL);
    if (eff) check_no_secret("the effective configuration", eff);
    free(eff);
    agora_options o = {.on_event = on_event, .on_event_user = n, .callbacks_on_io_thread = true,
                       .on_log = on_log, .on_log_user = n, .log_level = AGORA_LOG_DEBUG};
    int rc = agora_open(cfg, &o, &n->a, err, errlen);
    agora_config_free(cfg);
    if (rc != AGORA_OK) {
        n->a = NULL;
        check_no_secret("an agora_open error", err);
    }
    return rc;
}

static void close_node(int id) {
    if (!nodes[id].a) return;
    agora_status st;
    if (agora_get_status(nodes[id].a, &st) == AGORA_OK) {
        char *j = agora_status_to_json(&st);
        if (j) check_no_secret("the status", j);
        free(j);
    }
    agora_close(nodes[id].a);
    nodes[id].a = NULL;
}

static bool sees(int a, int b) {
    agora_member m[8];
    int n = agora_members(nodes[a].a, m, 8);
    for (int i = 0; i < n && i < 8; i++)
        if (m[i].node == b && m[i].state == AGORA_MEMBER_ALIVE) return true;
    return false;
}

static bool pair_sees(void *arg) {
    (void)arg;
    return sees(1, 2) && sees(2, 1);
}

static bool all_arrived(void *arg) {
    int *ids = arg;
    return atomic_load(&nodes[ids[1]].got) >= NEVENTS;
}

/* Nodes 1 and 2 with their coordinators see each other, and NEVENTS events go each
 * way. */
static void pair_delivers(const char *coord1, const char *coord2) {
    char err[1024];
    int rc = open_node(1, coord1, err, sizeof err);
    CHECKF(rc == AGORA_OK, "node 1: %s", err);
    rc = open_node(2, coord2, err, sizeof err);
    CHECKF(rc == AGORA_OK, "node 2: %s", err);
    if (nodes[1].a && nodes[2].a) {
        CHECK(wait_for(pair_sees, NULL, 60000));
        for (int from = 1; from <= 2; from++) {
            int ids[2] = {from, 3 - from};
            for (int i = 1; i <= NEVENTS; i++) {
                agora_event ev;
                memset(&ev, 0, sizeof ev);
                ev.type = AGORA_EV_STATE_CHANGE;
                ev.u.state_change.account_id = (uint32_t)from;
                ev.u.state_change.change_id = (uint64_t)i;
                ev.u.state_change.types = 1;
                CHECK(agora_publish(nodes[from].a, &ev) == AGORA_OK);
            }
            CHECK(agora_flush(nodes[from].a, 20000) == AGORA_OK);
            CHECKF(wait_for(all_arrived, ids, 20000), "node %d got %lu of %d from node %d",
                   ids[1], atomic_load(&nodes[ids[1]].got), NEVENTS, from);
        }
    }
    close_node(1);
    close_node(2);
}

/* agora_open refuses `coord` with an error containing `want` (and no secret). */
static void open_refused(const char *what, const char *coord, const char *want) {
    char err[1024];
    int rc = open_node(1, coord, err, sizeof err);
    fprintf(stderr, "%s: %s (%s)\n", what, err, agora_strerror(rc));
    CHECKF(rc != AGORA_OK, "%s: opened", what);
    CHECKF(strstr(err, want) != NULL, "%s: \"%s\" lacks \"%s\"", what, err, want);
    close_node(1);
}

static const char *path(const char *name) { return tls_pki_path(&pki, name); }

/* ---- NATS ------------------------------------------------------------------------- */

static void nats_coord(char *buf, size_t len, const char *extra) {
    snprintf(buf, len, "{\"@type\":\"Nats\",\"addresses\":[\"127.0.0.1:%d\"],\"useTls\":true%s%s}",
             NATS_PORT, *extra ? "," : "", extra);
}

static int nats_scenario(void) {
    nats_srv_opts so = {.port = NATS_PORT, .tls_cert = path("server.pem"),
                        .tls_key = path("server.key"), .tls_ca = path("ca.pem")};
    char cert[256], key[256], ca[256];
    snprintf(cert, sizeof cert, "%s", so.tls_cert);
    snprintf(key, sizeof key, "%s", so.tls_key);
    snprintf(ca, sizeof ca, "%s", so.tls_ca);
    so.tls_cert = cert;
    so.tls_key = key;
    so.tls_ca = ca;
    nats_srv *s = nats_srv_start(&so);
    if (!s) return 1;
    char c1[1024], c2[1024], extra[900];
    snprintf(extra, sizeof extra, "\"tlsCaFile\":\"%s\",\"tlsCertFile\":\"%s\",\"tlsKeyFile\":\"%s\"",
             path("ca.pem"), path("client.pem"), path("client.key"));
    nats_coord(c1, sizeof c1, extra);
    snprintf(extra, sizeof extra,
             "\"tlsCaFile\":\"%s\",\"tlsCertFile\":\"%s\",\"tlsKeyFile\":\"%s\","
             "\"tlsKeyPassword\":\"%s\",\"tlsServerName\":\"localhost\"",
             path("ca.pem"), path("client.pem"), path("client-enc.key"), TLS_PKI_KEYPASS);
    nats_coord(c2, sizeof c2, extra);
    pair_delivers(c1, c2);

    /* The wrong CA: the server's certificate does not verify. */
    snprintf(extra, sizeof extra, "\"tlsCaFile\":\"%s\",\"tlsCertFile\":\"%s\",\"tlsKeyFile\":\"%s\"",
             path("other-ca.pem"), path("client.pem"), path("client.key"));
    nats_coord(c1, sizeof c1, extra);
    open_refused("nats, wrong CA", c1, "SSL handshake error: 20:unable to get local issuer");
    /* No client certificate: the server (verify: true) refuses the handshake. */
    snprintf(extra, sizeof extra, "\"tlsCaFile\":\"%s\"", path("ca.pem"));
    nats_coord(c1, sizeof c1, extra);
    open_refused("nats, no client certificate", c1, "does it require a client certificate?");
    /* A client certificate of another CA. */
    snprintf(extra, sizeof extra, "\"tlsCaFile\":\"%s\",\"tlsCertFile\":\"%s\",\"tlsKeyFile\":\"%s\"",
             path("ca.pem"), path("other-client.pem"), path("other-client.key"));
    nats_coord(c1, sizeof c1, extra);
    open_refused("nats, client certificate of another CA", c1, "does it trust the CA of tlsCertFile?");
    /* A wrong key password: named, never shown. */
    snprintf(extra, sizeof extra,
             "\"tlsCaFile\":\"%s\",\"tlsCertFile\":\"%s\",\"tlsKeyFile\":\"%s\","
             "\"tlsKeyPassword\":\"%s\"",
             path("ca.pem"), path("client.pem"), path("client-enc.key"), WRONG_PASS);
    nats_coord(c1, sizeof c1, extra);
    open_refused("nats, wrong key password", c1, "wrong tlsKeyPassword");
    /* An encrypted key without its password. */
    snprintf(extra, sizeof extra, "\"tlsCaFile\":\"%s\",\"tlsCertFile\":\"%s\",\"tlsKeyFile\":\"%s\"",
             path("ca.pem"), path("client.pem"), path("client-enc.key"));
    nats_coord(c1, sizeof c1, extra);
    open_refused("nats, encrypted key without tlsKeyPassword", c1, "encrypted: then set tlsKeyPassword");
    /* A server name the certificate does not carry. */
    snprintf(extra, sizeof extra,
             "\"tlsCaFile\":\"%s\",\"tlsCertFile\":\"%s\",\"tlsKeyFile\":\"%s\","
             "\"tlsServerName\":\"mail.example.org\"",
             path("ca.pem"), path("client.pem"), path("client.key"));
    nats_coord(c1, sizeof c1, extra);
    open_refused("nats, wrong server name", c1, "hostname mismatch:expected=mail.example.org");
    nats_srv_free(s);
    return 0;
}

/* ---- Kafka ------------------------------------------------------------------------ */

#ifdef KAFKA_FX_ENABLED
static void kafka_coord(char *buf, size_t len, int port, const char *extra) {
    snprintf(buf, len,
             "{\"@type\":\"Kafka\",\"brokers\":[\"127.0.0.1:%d\"],\"groupId\":\"tls\","
             "\"timeoutSession\":\"6s\",\"timeoutMessage\":\"5s\",\"useTls\":true,%s}",
             port, extra);
}

typedef struct logwait {
    int id;
    const char *text;
} logwait;

static bool has_logged(void *arg) {
    logwait *w = arg;
    return logged(&nodes[w->id], w->text);
}

/* The node opens, stays disconnected and says why (a line containing `want`). */
static void kafka_refused(const char *what, const char *coord, const char *want) {
    char err[1024];
    int rc = open_node(1, coord, err, sizeof err);
    CHECKF(rc == AGORA_OK, "%s: %s", what, err);
    if (rc != AGORA_OK) return;
    logwait w = {1, want};
    CHECKF(wait_for(has_logged, &w, 30000), "%s: no line with \"%s\"", what, want);
    agora_status st;
    CHECK(agora_get_status(nodes[1].a, &st) == AGORA_OK);
    CHECKF(!st.connected, "%s: connected", what);
    fprintf(stderr, "%s: status connected=%d server=%s\n", what, st.connected, st.server);
    close_node(1);
}

static bool node1_connected(void *arg) {
    (void)arg;
    agora_status st;
    return agora_get_status(nodes[1].a, &st) == AGORA_OK && st.connected;
}

static int kafka_scenario(void) {
    kafka_fx_broker k;
    if (kafka_fx_start_secure(&k, KAFKA_PORT, pki.dir, TLS_PKI_STOREPASS, SASL_USER, SASL_PASS,
                              NULL))
        return 1;
    char c1[2048], c2[2048], extra[1500];
    snprintf(extra, sizeof extra,
             "\"tlsCaFile\":\"%s\",\"tlsCertFile\":\"%s\",\"tlsKeyFile\":\"%s\","
             "\"tlsKeyPassword\":\"%s\"",
             path("ca.pem"), path("client.pem"), path("client-enc.key"), TLS_PKI_KEYPASS);
    kafka_coord(c1, sizeof c1, KAFKA_PORT + 2, extra);
    snprintf(extra, sizeof extra,
             "\"tlsCaFile\":\"%s\",\"saslMechanism\":\"PLAIN\",\"authUsername\":\"" SASL_USER
             "\",\"authSecret\":\"" SASL_PASS "\"", path("ca.pem"));
    kafka_coord(c2, sizeof c2, KAFKA_PORT + 3, extra);
    pair_delivers(c1, c2);

    snprintf(extra, sizeof extra, "\"tlsCaFile\":\"%s\",\"tlsCertFile\":\"%s\",\"tlsKeyFile\":\"%s\"",
             path("other-ca.pem"), path("client.pem"), path("client.key"));
    kafka_coord(c1, sizeof c1, KAFKA_PORT + 2, extra);
    kafka_refused("kafka, wrong CA", c1, "certificate verify failed");
    snprintf(extra, sizeof extra, "\"tlsCaFile\":\"%s\"", path("ca.pem"));
    kafka_coord(c1, sizeof c1, KAFKA_PORT + 2, extra);
    kafka_refused("kafka, no client certificate", c1, "SSL");
    snprintf(extra, sizeof extra,
             "\"tlsCaFile\":\"%s\",\"saslMechanism\":\"PLAIN\",\"authUsername\":\"" SASL_USER
             "\",\"authSecret\":\"" WRONG_PASS "\"", path("ca.pem"));
    kafka_coord(c1, sizeof c1, KAFKA_PORT + 3, extra);
    kafka_refused("kafka, wrong PLAIN password", c1, "SASL authentication error");

    /* A wrong key password is found when the client is made: agora_open names it. */
    snprintf(extra, sizeof extra,
             "\"tlsCaFile\":\"%s\",\"tlsCertFile\":\"%s\",\"tlsKeyFile\":\"%s\","
             "\"tlsKeyPassword\":\"%s\"",
             path("ca.pem"), path("client.pem"), path("client-enc.key"), WRONG_PASS);
    kafka_coord(c1, sizeof c1, KAFKA_PORT + 2, extra);
    open_refused("kafka, wrong key password", c1, "coordinator.tlsKeyFile");

    /* Refused connections are retried in the background: a TLS node started while
     * the broker is down connects on its own once it is up. */
    kafka_fx_stop(&k);
    snprintf(extra, sizeof extra, "\"tlsCaFile\":\"%s\",\"tlsCertFile\":\"%s\",\"tlsKeyFile\":\"%s\"",
             path("ca.pem"), path("client.pem"), path("client.key"));
    kafka_coord(c1, sizeof c1, KAFKA_PORT + 2, extra);
    char err[1024];
    CHECKF(open_node(1, c1, err, sizeof err) == AGORA_OK, "%s", err);
    if (nodes[1].a) {
        CHECK(kafka_fx_restart(&k) == 0);
        CHECKF(wait_for(node1_connected, NULL, 60000), "the TLS node did not connect after the "
               "broker came up");
        close_node(1);
    }
    kafka_fx_stop(&k);
    return 0;
}

static int kafka_scram_scenario(void) {
    kafka_fx_broker k;
    if (kafka_fx_start_secure(&k, KAFKA39_PORT, pki.dir, TLS_PKI_STOREPASS, SASL_USER, SASL_PASS,
                              "3.9.1"))
        return 1;
    char c1[2048], c2[2048], extra[1500];
    snprintf(extra, sizeof extra,
             "\"tlsCaFile\":\"%s\",\"saslMechanism\":\"SCRAM-SHA-256\",\"authUsername\":\"" SASL_USER
             "\",\"authSecret\":\"" SASL_PASS "\"", path("ca.pem"));
    kafka_coord(c1, sizeof c1, KAFKA39_PORT + 3, extra);
    snprintf(extra, sizeof extra,
             "\"tlsCaFile\":\"%s\",\"saslMechanism\":\"SCRAM-SHA-512\",\"authUsername\":\"" SASL_USER
             "\",\"authSecret\":\"" SASL_PASS "\"", path("ca.pem"));
    kafka_coord(c2, sizeof c2, KAFKA39_PORT + 3, extra);
    pair_delivers(c1, c2);
    snprintf(extra, sizeof extra,
             "\"tlsCaFile\":\"%s\",\"saslMechanism\":\"SCRAM-SHA-512\",\"authUsername\":\"" SASL_USER
             "\",\"authSecret\":\"" WRONG_PASS "\"", path("ca.pem"));
    kafka_coord(c1, sizeof c1, KAFKA39_PORT + 3, extra);
    kafka_refused("kafka, wrong SCRAM password", c1, "SASL authentication error");
    kafka_fx_stop(&k);
    return 0;
}
#endif

/* ---- configuration rules ------------------------------------------------------------ */

static void config_refused(const char *coord, const char *want) {
    char json[2048], err[1024] = "";
    snprintf(json, sizeof json, "{\"nodeId\":1,\"coordinator\":%s}", coord);
    agora_config *cfg = agora_config_parse(json, strlen(json), err, sizeof err);
    CHECKF(cfg == NULL, "accepted: %s", coord);
    agora_config_free(cfg);
    fprintf(stderr, "config: %s\n", err);
    CHECKF(strstr(err, want) != NULL, "\"%s\" lacks \"%s\"", err, want);
    check_no_secret("a configuration error", err);
}

static void config_scenario(void) {
    char c[2048];
    snprintf(c, sizeof c, "{\"@type\":\"Nats\",\"useTls\":true,\"tlsCaFile\":\"%s/missing.pem\"}",
             pki.dir);
    config_refused(c, "coordinator.tlsCaFile: cannot read ");
    config_refused("{\"@type\":\"Nats\",\"useTls\":true,\"tlsCaFile\":\"/tmp\"}",
                   "coordinator.tlsCaFile: cannot read /tmp: not a regular file");
    snprintf(c, sizeof c, "{\"@type\":\"Nats\",\"tlsCaFile\":\"%s\"}", path("ca.pem"));
    config_refused(c, "coordinator.tlsCaFile: needs \"useTls\": true");
    snprintf(c, sizeof c, "{\"@type\":\"Nats\",\"useTls\":true,\"tlsCertFile\":\"%s\"}",
             path("client.pem"));
    config_refused(c, "coordinator.tlsKeyFile: required with tlsCertFile");
    snprintf(c, sizeof c,
             "{\"@type\":\"Kafka\",\"brokers\":[\"127.0.0.1:1\"],\"groupId\":\"g\",\"useTls\":true,"
             "\"tlsCertFile\":\"%s\",\"tlsKeyFile\":\"%s/nokey.pem\",\"tlsKeyPassword\":\"%s\"}",
             path("client.pem"), pki.dir, TLS_PKI_KEYPASS);
    config_refused(c, "coordinator.tlsKeyFile: cannot read ");
    config_refused("{\"@type\":\"Kafka\",\"brokers\":[\"127.0.0.1:1\"],\"groupId\":\"g\","
                   "\"saslMechanism\":\"PLAIN\",\"authUsername\":\"u\",\"authSecret\":\"" SASL_PASS
                   "\"}",
                   "coordinator.saslMechanism: needs \"useTls\": true");
    config_refused("{\"@type\":\"Kafka\",\"brokers\":[\"127.0.0.1:1\"],\"groupId\":\"g\","
                   "\"useTls\":true,\"saslMechanism\":\"GSSAPI\",\"authUsername\":\"u\","
                   "\"authSecret\":\"" SASL_PASS "\"}",
                   "coordinator.saslMechanism");
    config_refused("{\"@type\":\"Kafka\",\"brokers\":[\"127.0.0.1:1\"],\"groupId\":\"g\","
                   "\"useTls\":true,\"saslMechanism\":\"SCRAM-SHA-256\",\"authUsername\":\"u\"}",
                   "coordinator.authSecret: required with saslMechanism");
    /* Printed masked. */
    snprintf(c, sizeof c,
             "{\"nodeId\":1,\"coordinator\":{\"@type\":\"Kafka\",\"brokers\":[\"127.0.0.1:1\"],"
             "\"groupId\":\"g\",\"useTls\":true,\"tlsCertFile\":\"%s\",\"tlsKeyFile\":\"%s\","
             "\"tlsKeyPassword\":\"%s\",\"saslMechanism\":\"SCRAM-SHA-512\",\"authUsername\":\"u\","
             "\"authSecret\":\"" SASL_PASS "\"}}",
             path("client.pem"), path("client-enc.key"), TLS_PKI_KEYPASS);
    char err[1024];
    agora_config *cfg = agora_config_parse(c, strlen(c), err, sizeof err);
    CHECKF(cfg != NULL, "%s", err);
    char *j = cfg ? agora_config_to_json(cfg) : NULL;
    CHECK(j && strstr(j, "\"tlsKeyPassword\": \"********\"") &&
          strstr(j, "\"authSecret\": \"********\"") && strstr(j, "\"saslMechanism\": \"SCRAM-SHA-512\""));
    if (j) check_no_secret("the effective configuration", j);
    free(j);
    agora_config_free(cfg);
}

static const ts_scenario scenarios[] = {
    {"config", config_scenario, NULL},
    {"nats", NULL, nats_scenario},
#ifdef KAFKA_FX_ENABLED
    {"kafka", NULL, kafka_scenario},
    {"kafka-scram", NULL, kafka_scram_scenario},
#endif
};

int main(int argc, char **argv) {
    const char *which = argc > 1 ? argv[1] : "all";
    /* a missing server or tool skips (77), as the other broker tests do */
    if (system("command -v openssl >/dev/null 2>&1") != 0) return 77;
    if (!strcmp(which, "nats") && !nats_fixture_available()) return 77;
#ifdef KAFKA_FX_ENABLED
    if (!strncmp(which, "kafka", 5) && !kafka_fx_available()) return 77;
#endif
    if (tls_pki_make(&pki) != 0) return 1;
    int rc = ts_run_scenarios(scenarios, TS_COUNT(scenarios), which, &failures);
    CHECKF(atomic_load(&leaked) == 0, "%d log lines carried a secret", atomic_load(&leaked));
    tls_pki_remove(&pki);
    if (atomic_load(&leaked) && rc == 0) rc = 1;
    return rc;
}
