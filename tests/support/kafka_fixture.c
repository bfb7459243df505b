/* kafka_fixture.c — see kafka_fixture.h. */
#include "kafka_fixture.h"

#ifdef KAFKA_FX_ENABLED
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <sys/types.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef AGORA_SRC
#define AGORA_SRC "."
#endif

static kafka_fx_broker *g_brokers[4];
static pid_t g_owner;

unsigned long long kafka_fx_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000ull + (unsigned long long)ts.tv_nsec / 1000000ull;
}

static const char *script(void) {
    static char path[600];
    const char *src = getenv("AGORA_SRC");
    snprintf(path, sizeof path, "%s/scripts/kafka-broker.sh", src && *src ? src : AGORA_SRC);
    return path;
}

static int run(const char *verb, kafka_fx_broker *k) {
    char cmd[2600];
    snprintf(cmd, sizeof cmd, "%s AGORA_KAFKA_OWNER=%d bash '%s' %s '%s' %d >/dev/null",
             k->env, (int)g_owner, script(), verb, k->dir, k->port);
    int rc = system(cmd);
    return rc == 0 ? 0 : -1;
}

static void cleanup(void) {
    if (getpid() != g_owner) return; /* a forked child exiting */
    for (size_t i = 0; i < sizeof g_brokers / sizeof g_brokers[0]; i++) {
        kafka_fx_broker *k = g_brokers[i];
        if (!k) continue;
        if (k->running) kafka_fx_stop(k);
        char cmd[700];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", k->dir);
        if (system(cmd) != 0) fprintf(stderr, "kafka fixture: could not remove %s\n", k->dir);
        g_brokers[i] = NULL;
    }
}

bool kafka_fx_available(void) {
    return system("command -v java >/dev/null 2>&1 && command -v mvn >/dev/null 2>&1") == 0;
}

static int start_with(kafka_fx_broker *k, int port);

int kafka_fx_start(kafka_fx_broker *k, int port) {
    memset(k, 0, sizeof *k);
    return start_with(k, port);
}

int kafka_fx_start_secure(kafka_fx_broker *k, int port, const char *pki_dir,
                          const char *storepass, const char *user, const char *pass,
                          const char *version) {
    memset(k, 0, sizeof *k);
    snprintf(k->env, sizeof k->env,
             "KAFKA_SECURE_DIR='%s' KAFKA_SECURE_STOREPASS='%s' KAFKA_SASL_USER='%s' "
             "KAFKA_SASL_PASSWORD='%s'%s%s",
             pki_dir, storepass, user, pass, version ? " KAFKA_VERSION=" : "",
             version ? version : "");
    return start_with(k, port);
}

static int start_with(kafka_fx_broker *k, int port) {
    k->port = port;
    snprintf(k->brokers, sizeof k->brokers, "127.0.0.1:%d", port);
    snprintf(k->dir, sizeof k->dir, "/tmp/agora-kafka-test-%d-XXXXXX", port);
    if (!mkdtemp(k->dir)) {
        perror("mkdtemp");
        return -1;
    }
    if (!g_owner) {
        g_owner = getpid();
        atexit(cleanup);
    }
    for (size_t i = 0; i < sizeof g_brokers / sizeof g_brokers[0]; i++)
        if (!g_brokers[i]) {
            g_brokers[i] = k;
            break;
        }
    unsigned long long t0 = kafka_fx_now_ms();
    if (run("start", k) != 0) {
        fprintf(stderr, "kafka fixture: broker on port %d did not start (see %s/broker.log)\n",
                port, k->dir);
        return -1;
    }
    k->running = true;
    fprintf(stderr, "kafka fixture: broker %s up in %llu ms\n", k->brokers, kafka_fx_now_ms() - t0);
    return 0;
}

void kafka_fx_stop(kafka_fx_broker *k) {
    run("stop", k);
    k->running = false;
}

void kafka_fx_kill(kafka_fx_broker *k) {
    run("kill", k);
    k->running = false;
}

int kafka_fx_restart(kafka_fx_broker *k) {
    if (run("start", k) != 0) return -1;
    k->running = true;
    return 0;
}

void kafka_fx_signal(kafka_fx_broker *k, int sig) {
    char path[600];
    snprintf(path, sizeof path, "%s/broker.pid", k->dir);
    FILE *f = fopen(path, "r");
    if (!f) return;
    int pid = 0;
    if (fscanf(f, "%d", &pid) == 1 && pid > 0) kill((pid_t)pid, sig);
    fclose(f);
}

static rd_kafka_t *client(rd_kafka_type_t type, const char *brokers, const char *group) {
    char e[256];
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    rd_kafka_conf_set(c, "bootstrap.servers", brokers, e, sizeof e);
    rd_kafka_conf_set(c, "log_level", "0", e, sizeof e);
    if (group) rd_kafka_conf_set(c, "group.id", group, e, sizeof e);
    rd_kafka_t *rk = rd_kafka_new(type, c, e, sizeof e);
    if (!rk) rd_kafka_conf_destroy(c);
    return rk;
}

int64_t kafka_fx_committed(const char *brokers, const char *group) {
    rd_kafka_t *rk = client(RD_KAFKA_CONSUMER, brokers, group);
    if (!rk) return -2;
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, "stwt.agora", 0);
    int64_t off = -2;
    if (rd_kafka_committed(rk, l, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR && !l->elems[0].err)
        off = l->elems[0].offset < 0 ? -1 : l->elems[0].offset;
    rd_kafka_topic_partition_list_destroy(l);
    rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
    return off;
}

int64_t kafka_fx_end_offset(const char *brokers) {
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, brokers, NULL);
    if (!rk) return -1;
    int64_t lo = 0, hi = -1;
    if (rd_kafka_query_watermark_offsets(rk, "stwt.agora", 0, &lo, &hi, 5000) !=
        RD_KAFKA_RESP_ERR_NO_ERROR)
        hi = -1;
    rd_kafka_destroy(rk);
    return hi;
}

int kafka_fx_topic_config(const char *brokers, const char *name, char *buf, size_t len) {
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, brokers, NULL);
    if (!rk) return -1;
    int rc = -1;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, "stwt.agora");
    rd_kafka_DescribeConfigs(rk, &res, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 10000);
    if (ev && !rd_kafka_event_error(ev)) {
        size_t nres = 0, ncfg = 0;
        const rd_kafka_ConfigResource_t **rs =
            rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &nres);
        if (nres == 1 && !rd_kafka_ConfigResource_error(rs[0])) {
            const rd_kafka_ConfigEntry_t **es = rd_kafka_ConfigResource_configs(rs[0], &ncfg);
            for (size_t i = 0; i < ncfg; i++)
                if (strcmp(rd_kafka_ConfigEntry_name(es[i]), name) == 0) {
                    const char *v = rd_kafka_ConfigEntry_value(es[i]);
                    snprintf(buf, len, "%s", v ? v : "");
                    rc = 0;
                }
        }
    }
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_ConfigResource_destroy(res);
    rd_kafka_queue_destroy(q);
    rd_kafka_destroy(rk);
    return rc;
}

int kafka_fx_partitions(const char *brokers) {
    rd_kafka_t *rk = client(RD_KAFKA_PRODUCER, brokers, NULL);
    if (!rk) return -1;
    int n = -1;
    rd_kafka_topic_t *t = rd_kafka_topic_new(rk, "stwt.agora", NULL);
    const struct rd_kafka_metadata *md = NULL;
    if (t && rd_kafka_metadata(rk, 0, t, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR && md) {
        if (md->topic_cnt == 1 && !md->topics[0].err) n = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
    }
    if (t) rd_kafka_topic_destroy(t);
    rd_kafka_destroy(rk);
    return n;
}

agora_config *kafka_fx_agora_config(int id, const char *brokers, const char *group,
                                    const char *top) {
    char json[1024], err[1024];
    snprintf(json, sizeof json,
             "{\"nodeId\":%d,%s\"coordinator\":{\"@type\":\"Kafka\",\"brokers\":[\"%s\"],"
             "\"groupId\":\"%s\",\"timeoutSession\":\"6s\",\"timeoutMessage\":\"3s\"}}",
             id, top, brokers, group);
    agora_config *c = agora_config_parse(json, strlen(json), err, sizeof err);
    if (!c) fprintf(stderr, "config: %s\n", err);
    return c;
}

#endif /* KAFKA_FX_ENABLED */
