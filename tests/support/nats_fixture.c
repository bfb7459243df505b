/* nats_fixture.c — start/stop real nats-server processes for the NATS tests. */
#include "nats_fixture.h"
#include "proc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

long long nats_now_ms(void) { return (long long)ts_now_ms(); }

bool nats_fixture_available(void) {
    return system("nats-server --version >/dev/null 2>&1") == 0;
}

static int write_conf(nats_srv *s) {
    FILE *f = fopen(s->conf, "w");
    if (!f) return -1;
    const nats_srv_opts *o = &s->o;
    fprintf(f, "listen: \"127.0.0.1:%d\"\nserver_name: \"agora_test_%d\"\n", o->port, o->port);
    if (o->monitor_port) fprintf(f, "http: \"127.0.0.1:%d\"\n", o->monitor_port);
    if (o->cluster_port) {
        fprintf(f, "cluster {\n  name: \"agora_test\"\n  listen: \"127.0.0.1:%d\"\n  routes: [\n",
                o->cluster_port);
        for (int i = 0; i < o->nroutes; i++)
            fprintf(f, "    \"nats-route://127.0.0.1:%d\"\n", o->routes[i]);
        fprintf(f, "  ]\n}\n");
    }
    if (o->user) fprintf(f, "authorization {\n  user: \"%s\"\n  password: \"%s\"\n}\n", o->user, o->pass ? o->pass : "");
    else if (o->token) fprintf(f, "authorization {\n  token: \"%s\"\n}\n", o->token);
    if (o->tls_cert && o->tls_ca)
        fprintf(f, "tls {\n  cert_file: \"%s\"\n  key_file: \"%s\"\n  ca_file: \"%s\"\n"
                   "  verify: true\n  timeout: 5\n}\n", o->tls_cert, o->tls_key, o->tls_ca);
    else if (o->tls_cert)
        fprintf(f, "tls {\n  cert_file: \"%s\"\n  key_file: \"%s\"\n  timeout: 5\n}\n", o->tls_cert, o->tls_key);
    return fclose(f) == 0 ? 0 : -1;
}

static void dump_log(const nats_srv *s) {
    FILE *f = fopen(s->log, "r");
    if (!f) return;
    char line[512];
    fprintf(stderr, "---- nats-server log (%s) ----\n", s->log);
    while (fgets(line, sizeof line, f)) fputs(line, stderr);
    fclose(f);
}

/* Something accepts connections on the port. */
static bool listening(void *port) {
    int fd = ts_connect_loopback(*(int *)port);
    if (fd < 0) return false;
    close(fd);
    return true;
}

static int spawn(nats_srv *s) {
    /* Another server on our port (a parallel run) would pass the readiness check
     * below while ours fails to bind: refuse instead of testing against it. */
    if (listening(&s->o.port)) {
        fprintf(stderr, "nats fixture: port %d is already in use\n", s->o.port);
        return -1;
    }
    const char *argv[] = {"nats-server", "-c", s->conf, "-l", s->log, NULL};
    s->pid = ts_spawn(argv, NULL, NULL);
    if (s->pid < 0) {
        s->pid = 0;
        return -1;
    }
    /* Ready when the client port accepts connections. */
    int rc = ts_await_child(s->pid, listening, &s->o.port, 10000);
    if (rc == 0) return 0;
    if (rc > 0) {
        s->pid = 0;
        fprintf(stderr, "nats fixture: nats-server on port %d exited at start\n", s->o.port);
    } else {
        fprintf(stderr, "nats fixture: nats-server on port %d did not start listening\n",
                s->o.port);
    }
    dump_log(s);
    nats_srv_kill(s);
    return -1;
}

nats_srv *nats_srv_start(const nats_srv_opts *o) {
    nats_srv *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->o = *o;
    snprintf(s->dir, sizeof s->dir, "/tmp/agora-nats-%d-XXXXXX", o->port);
    if (!mkdtemp(s->dir)) {
        free(s);
        return NULL;
    }
    snprintf(s->conf, sizeof s->conf, "%s/server.conf", s->dir);
    snprintf(s->log, sizeof s->log, "%s/server.log", s->dir);
    if (write_conf(s) != 0 || spawn(s) != 0) {
        nats_srv_free(s);
        return NULL;
    }
    return s;
}

int nats_srv_restart(nats_srv *s) {
    if (s->pid) nats_srv_stop(s);
    return spawn(s);
}

static void stop_with(nats_srv *s, int sig) {
    if (!s || !s->pid) return;
    ts_stop_child(s->pid, sig, 5000);
    s->pid = 0;
    /* The port must be free again before a restart binds it. */
    uint64_t deadline = ts_now_ms() + 5000;
    while (ts_now_ms() < deadline && listening(&s->o.port)) ts_sleep_ms(20);
}

void nats_srv_stop(nats_srv *s) { stop_with(s, SIGTERM); }
void nats_srv_kill(nats_srv *s) { stop_with(s, SIGKILL); }

static int num_routes(int monitor_port) {
    int fd = ts_connect_loopback(monitor_port);
    if (fd < 0) return -1;
    const char req[] = "GET /routez HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (write(fd, req, sizeof req - 1) != (ssize_t)(sizeof req - 1)) {
        close(fd);
        return -1;
    }
    char buf[16384];
    size_t n = 0;
    ssize_t r;
    while (n < sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0) n += (size_t)r;
    close(fd);
    buf[n] = 0;
    const char *p = strstr(buf, "\"num_routes\":");
    if (!p) return -1;
    return atoi(p + strlen("\"num_routes\":"));
}

int nats_srv_wait_routes(nats_srv *s, int n, int timeout_ms) {
    long long deadline = nats_now_ms() + timeout_ms;
    while (nats_now_ms() < deadline) {
        if (num_routes(s->o.monitor_port) >= n) return 0;
        ts_sleep_ms(50);
    }
    fprintf(stderr, "nats fixture: server %d has not %d route(s) after %d ms\n", s->o.port, n,
            timeout_ms);
    dump_log(s);
    return -1;
}

static void remove_dir(const char *dir) {
    char cmd[600];
    if (!dir[0] || strncmp(dir, "/tmp/agora-", 11) != 0) return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "nats fixture: cannot remove %s\n", dir);
}

void nats_srv_free(nats_srv *s) {
    if (!s) return;
    nats_srv_stop(s);
    remove_dir(s->dir);
    free(s);
}

int nats_tls_make_cert(char *dir, size_t dirlen, char *cert, size_t certlen, char *key,
                       size_t keylen) {
    snprintf(dir, dirlen, "/tmp/agora-nats-tls-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    snprintf(cert, certlen, "%s/cert.pem", dir);
    snprintf(key, keylen, "%s/key.pem", dir);
    char cmd[1200];
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout '%s' -out '%s' -days 2 -subj /CN=localhost "
             "-addext subjectAltName=IP:127.0.0.1,DNS:localhost >/dev/null 2>&1",
             key, cert);
    if (system(cmd) != 0) {
        fprintf(stderr, "nats fixture: openssl could not make a certificate\n");
        remove_dir(dir);
        return -1;
    }
    return 0;
}

void nats_tls_remove(const char *dir) { remove_dir(dir); }
