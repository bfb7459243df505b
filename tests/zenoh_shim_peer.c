/* zenoh_shim_peer — agora's side of the Zenoh interop test: the shim (agz.h) as a
 * publisher or subscriber on stwt.agora, mirroring tests/support/zenoh_py's pub.py and
 * sub.py so that either end can be Zenoh's own Python binding.
 *
 *   zenoh_shim_peer pub JSON5 FILE...      put each file as one payload, in order, once
 *                                          a matching subscriber is known (30 s at most)
 *   zenoh_shim_peer sub JSON5 COUNT DIR    print "ready" once subscribed, write payload i
 *                                          to DIR/i, exit 0 after COUNT (1 after 60 s)
 * JSON5 is a Zenoh configuration, as text or @path. */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agz.h"
#include "proc.h"

#define KEY "stwt.agora"

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *bigger = realloc(buf, 2 * cap + 1);
            if (!bigger)
                free(buf);
            buf = bigger, cap *= 2;
        }
    }
    fclose(f);
    if (buf)
        buf[n] = 0;
    *len = n;
    return buf;
}

/* The configuration argument: the text itself, or the file after '@' (to free). */
static char *config_text(const char *arg) {
    size_t len;
    if (arg[0] != '@')
        return strdup(arg);
    char *text = read_file(arg + 1, &len);
    if (!text)
        fprintf(stderr, "zenoh_shim_peer: cannot read %s\n", arg + 1);
    return text;
}

static int run_pub(agz_session *s, int nfiles, char **files) {
    char err[1024];
    agz_publisher *p = agz_publisher_new(s, KEY, AGZ_PUB_BLOCK, err, sizeof err);
    if (!p) {
        fprintf(stderr, "zenoh_shim_peer: %s\n", err);
        return 1;
    }
    int rc = 0, m;
    uint64_t deadline = ts_now_ms() + 30000;
    while ((m = agz_publisher_matching(p, err, sizeof err)) == 0 && ts_now_ms() < deadline)
        ts_sleep_ms(20);
    if (m != 1) {
        fprintf(stderr, "zenoh_shim_peer: no subscriber within 30 s (%s)\n", m < 0 ? err : "");
        rc = 1;
    }
    for (int i = 0; rc == 0 && i < nfiles; i++) {
        size_t len;
        char *data = read_file(files[i], &len);
        if (!data) {
            fprintf(stderr, "zenoh_shim_peer: cannot read %s\n", files[i]);
            rc = 1;
        } else if (agz_put(p, (const uint8_t *)data, len, err, sizeof err) != 0) {
            fprintf(stderr, "zenoh_shim_peer: %s\n", err);
            rc = 1;
        }
        free(data);
    }
    agz_publisher_free(p);
    return rc;
}

/* The subscriber's state: the callback writes each payload, main waits for the count. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    const char *dir;
    int received;
    int write_errors;
} sub = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, 0, 0};

static void on_payload(void *user, const uint8_t *data, size_t len) {
    pthread_mutex_lock(&sub.mu);
    char path[4096];
    snprintf(path, sizeof path, "%s/%d", sub.dir, sub.received);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len)
        sub.write_errors++;
    if (f && fclose(f) != 0)
        sub.write_errors++;
    sub.received++;
    pthread_cond_broadcast(&sub.cv);
    pthread_mutex_unlock(&sub.mu);
}

static int run_sub(agz_session *s, int count, const char *dir) {
    char err[1024];
    sub.dir = dir;
    if (agz_subscribe(s, KEY, on_payload, NULL, err, sizeof err) != 0) {
        fprintf(stderr, "zenoh_shim_peer: %s\n", err);
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    time_t deadline = time(NULL) + 60;
    pthread_mutex_lock(&sub.mu);
    while (sub.received < count && time(NULL) < deadline) {
        struct timespec ts = {.tv_sec = time(NULL) + 1};
        pthread_cond_timedwait(&sub.cv, &sub.mu, &ts);
    }
    int rc = sub.received >= count && sub.write_errors == 0 ? 0 : 1;
    if (rc)
        fprintf(stderr, "zenoh_shim_peer: %d of %d payloads, %d write errors\n", sub.received,
                count, sub.write_errors);
    pthread_mutex_unlock(&sub.mu);
    return rc;
}

int main(int argc, char **argv) {
    bool is_pub = argc >= 4 && strcmp(argv[1], "pub") == 0;
    bool is_sub = argc == 5 && strcmp(argv[1], "sub") == 0;
    if (!is_pub && !is_sub) {
        fprintf(stderr, "usage: zenoh_shim_peer pub JSON5 FILE... | sub JSON5 COUNT DIR\n");
        return 2;
    }
    char *json5 = config_text(argv[2]);
    if (!json5)
        return 1;
    char err[1024];
    agz_session *s = agz_open(json5, err, sizeof err);
    free(json5);
    if (!s) {
        fprintf(stderr, "zenoh_shim_peer: %s\n", err);
        return 1;
    }
    int rc = is_pub ? run_pub(s, argc - 3, argv + 3) : run_sub(s, atoi(argv[3]), argv[4]);
    agz_close(s);
    return rc;
}
