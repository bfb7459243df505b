/* redis_fixture.c — start/stop real redis-server processes for the Redis tests. */
#include "redis_fixture.h"
#include "proc.h"

#ifdef REDIS_FX_ENABLED

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char g_tmp[256];

unsigned long long redis_fx_now_ms(void) { return ts_now_ms(); }

static void rm_tmp(void) {
    if (!g_tmp[0] || getenv("REDIS_FX_KEEP")) return;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    int rc = system(cmd);
    (void)rc;
}

/* The tests use fixed ports; the same tests running in another build tree at the same
 * time would meet each other's servers. One lock for all of them, held until exit. */
static void take_lock(void) {
    static int fd = -1;
    if (fd >= 0) return;
    fd = open("/tmp/agora-redis-fixture.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) return;
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        fprintf(stderr, "redis fixture: waiting for another Redis test to finish\n");
        flock(fd, LOCK_EX);
    }
}

static const char *tmpdir(void) {
    take_lock();
    if (!g_tmp[0]) {
        snprintf(g_tmp, sizeof g_tmp, "/tmp/agora-redis-XXXXXX");
        if (!mkdtemp(g_tmp)) {
            g_tmp[0] = 0;
            return "/tmp";
        }
        atexit(rm_tmp);
    }
    return g_tmp;
}

static bool in_path(const char *prog) {
    const char *path = getenv("PATH");
    if (!path) path = "/usr/bin:/bin";
    char buf[1024];
    while (*path) {
        size_t n = strcspn(path, ":");
        snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, prog);
        if (access(buf, X_OK) == 0) return true;
        path += n;
        if (*path) path++;
    }
    return false;
}

bool redis_fx_available(void) { return in_path("redis-server") && in_path("redis-cli"); }

redisReply *redis_fx_cmd(int port, const char *pass, const char *fmt, ...) {
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!c || c->err) {
        if (c) redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    if (pass) {
        redisReply *a = redisCommand(c, "AUTH %s", pass);
        if (a) freeReplyObject(a);
    }
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    redisFree(c);
    return r;
}

long long redis_fx_info_int(int port, const char *pass, const char *field) {
    redisReply *r = redis_fx_cmd(port, pass, "INFO");
    if (!r) return -1;
    long long v = -1;
    if (r->type == REDIS_REPLY_STRING) {
        char key[128];
        snprintf(key, sizeof key, "\n%s:", field);
        const char *p = strstr(r->str, key);
        if (p) v = atoll(p + strlen(key));
    }
    freeReplyObject(r);
    return v;
}

static bool answers(int port) {
    redisReply *r = redis_fx_cmd(port, NULL, "PING");
    if (!r) return false;
    freeReplyObject(r); /* a NOAUTH error is an answer too */
    return true;
}

static bool server_answers(void *s) { return answers(((redis_fx_server *)s)->port); }

static int launch(redis_fx_server *s, bool sentinel) {
    char logp[700];
    snprintf(logp, sizeof logp, "%s/stdout.log", s->dir);
    if (answers(s->port)) {
        /* a stray server (another test run?) would make every check meaningless */
        fprintf(stderr, "redis fixture: port %d is already in use\n", s->port);
        return -1;
    }
    const char *argv[] = {"redis-server", s->conf, sentinel ? "--sentinel" : NULL, NULL};
    s->pid = ts_spawn(argv, logp, logp);
    if (s->pid <= 0) {
        s->pid = 0;
        return -1;
    }
    int rc = ts_await_child(s->pid, server_answers, s, 10000);
    if (rc > 0) {
        fprintf(stderr, "redis fixture: redis-server on port %d exited (see %s)\n", s->port, logp);
        s->pid = 0;
    } else if (rc < 0) {
        fprintf(stderr, "redis fixture: redis-server on port %d does not answer\n", s->port);
    }
    return rc == 0 ? 0 : -1;
}

static int write_conf(redis_fx_server *s, int port, const char *name, const char *extra) {
    memset(s, 0, sizeof *s);
    s->port = port;
    snprintf(s->dir, sizeof s->dir, "%s/%s-%d", tmpdir(), name, port);
    mkdir(s->dir, 0755);
    snprintf(s->conf, sizeof s->conf, "%s/redis.conf", s->dir);
    FILE *f = fopen(s->conf, "w");
    if (!f) return -1;
    fprintf(f,
            "port %d\nbind 127.0.0.1\nprotected-mode no\ndaemonize no\ndir %s\n"
            "logfile %s/redis.log\nsave \"\"\nappendonly no\n%s\n",
            port, s->dir, s->dir, extra ? extra : "");
    fclose(f);
    return 0;
}

int redis_fx_start(redis_fx_server *s, int port, const char *extra_conf) {
    if (write_conf(s, port, "redis", extra_conf) < 0) return -1;
    return launch(s, false);
}

static void wait_exit(redis_fx_server *s, int sig, int timeout_ms) {
    if (!s->pid) return;
    ts_stop_child(s->pid, sig, timeout_ms);
    s->pid = 0;
}

void redis_fx_stop(redis_fx_server *s) { wait_exit(s, SIGTERM, 5000); }
void redis_fx_kill(redis_fx_server *s) { wait_exit(s, SIGKILL, 5000); }

void redis_fx_signal(redis_fx_server *s, int sig) {
    if (s->pid) kill(s->pid, sig);
}

int redis_fx_restart(redis_fx_server *s) {
    redis_fx_stop(s);
    bool sentinel = strstr(s->dir, "/sentinel-") != NULL;
    return launch(s, sentinel);
}

/* ---- cluster ------------------------------------------------------------- */

static bool cluster_ok(int port) {
    redisReply *r = redis_fx_cmd(port, NULL, "CLUSTER INFO");
    bool ok = r && r->type == REDIS_REPLY_STRING && strstr(r->str, "cluster_state:ok");
    if (r) freeReplyObject(r);
    return ok;
}

int redis_fx_cluster_start(redis_fx_server nodes[3], int base_port) {
    for (int i = 0; i < 3; i++) {
        char extra[256];
        /* the bus port defaults to port + 10000; keep it in our range instead */
        snprintf(extra, sizeof extra,
                 "cluster-enabled yes\ncluster-config-file nodes.conf\ncluster-port %d\n"
                 "cluster-node-timeout 2000\ncluster-require-full-coverage no\n",
                 base_port + i + 500);
        if (write_conf(&nodes[i], base_port + i, "cluster", extra) < 0 ||
            launch(&nodes[i], false) < 0)
            return -1;
    }
    char a[3][32], logp[700];
    for (int i = 0; i < 3; i++) snprintf(a[i], sizeof a[i], "127.0.0.1:%d", base_port + i);
    snprintf(logp, sizeof logp, "%s/cluster-create.log", nodes[0].dir);
    const char *argv[] = {"redis-cli", "--cluster", "create", a[0], a[1], a[2],
                          "--cluster-replicas", "0", "--cluster-yes", NULL};
    pid_t pid = ts_spawn(argv, logp, logp);
    int st = 0;
    if (pid <= 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "redis fixture: redis-cli --cluster create failed (see %s)\n", logp);
        return -1;
    }
    unsigned long long dl = redis_fx_now_ms() + 20000;
    while (redis_fx_now_ms() < dl) {
        if (cluster_ok(base_port) && cluster_ok(base_port + 1) && cluster_ok(base_port + 2)) return 0;
        ts_sleep_ms(50);
    }
    fprintf(stderr, "redis fixture: the cluster did not reach cluster_state:ok\n");
    return -1;
}

/* ---- sentinel ------------------------------------------------------------ */

static int sentinel_master_port(int sport) {
    redisReply *r = redis_fx_cmd(sport, NULL, "SENTINEL get-master-addr-by-name mymaster");
    int port = -1;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[1]->type == REDIS_REPLY_STRING)
        port = atoi(r->element[1]->str);
    if (r) freeReplyObject(r);
    return port;
}

static bool is_master(int port) {
    redisReply *r = redis_fx_cmd(port, NULL, "ROLE");
    bool m = r && r->type == REDIS_REPLY_ARRAY && r->elements > 0 &&
             r->element[0]->type == REDIS_REPLY_STRING && !strcmp(r->element[0]->str, "master");
    if (r) freeReplyObject(r);
    return m;
}

/* The sentinel lists a healthy replica (needed before a failover can happen). */
static bool sentinel_sees_replica(int sport) {
    redisReply *r = redis_fx_cmd(sport, NULL, "SENTINEL replicas mymaster");
    bool ok = false;
    if (r && r->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < r->elements && !ok; i++) {
            redisReply *e = r->element[i];
            bool slave = false, link_ok = false;
            for (size_t k = 0; k + 1 < e->elements; k += 2) {
                const char *key = e->element[k]->str, *val = e->element[k + 1]->str;
                if (!key || !val) continue;
                if (!strcmp(key, "flags") && !strcmp(val, "slave")) slave = true;
                if (!strcmp(key, "master-link-status") && !strcmp(val, "ok")) link_ok = true;
            }
            ok = slave && link_ok;
        }
    }
    if (r) freeReplyObject(r);
    return ok;
}

int redis_fx_sentinel_start(redis_fx_sentinel *st, int base_port) {
    char extra[256];
    memset(st, 0, sizeof *st);
    if (write_conf(&st->master, base_port, "redis", NULL) < 0 || launch(&st->master, false) < 0)
        return -1;
    snprintf(extra, sizeof extra, "replicaof 127.0.0.1 %d\n", base_port);
    if (write_conf(&st->replica, base_port + 1, "redis", extra) < 0 ||
        launch(&st->replica, false) < 0)
        return -1;
    snprintf(extra, sizeof extra,
             "sentinel monitor mymaster 127.0.0.1 %d 1\n"
             "sentinel down-after-milliseconds mymaster 1000\n"
             "sentinel failover-timeout mymaster 10000\n",
             base_port);
    if (write_conf(&st->sentinel, base_port + 2, "sentinel", extra) < 0 ||
        launch(&st->sentinel, true) < 0)
        return -1;
    unsigned long long dl = redis_fx_now_ms() + 30000;
    while (redis_fx_now_ms() < dl) {
        if (sentinel_master_port(base_port + 2) == base_port && sentinel_sees_replica(base_port + 2))
            return 0;
        ts_sleep_ms(100);
    }
    fprintf(stderr, "redis fixture: the sentinel does not see the replica\n");
    return -1;
}

int redis_fx_sentinel_failover(redis_fx_sentinel *st, int timeout_ms) {
    int sport = st->sentinel.port;
    int old = sentinel_master_port(sport);
    int want = old == st->master.port ? st->replica.port : st->master.port;
    unsigned long long dl = redis_fx_now_ms() + (unsigned long long)timeout_ms;
    /* the sentinel refuses while it does not yet know a healthy replica */
    for (;;) {
        redisReply *r = redis_fx_cmd(sport, NULL, "SENTINEL FAILOVER mymaster");
        bool ok = r && r->type == REDIS_REPLY_STATUS;
        if (r) freeReplyObject(r);
        if (ok) break;
        if (redis_fx_now_ms() > dl) return -1;
        ts_sleep_ms(100);
    }
    while (redis_fx_now_ms() < dl) {
        if (sentinel_master_port(sport) == want && is_master(want)) return want;
        ts_sleep_ms(50);
    }
    return -1;
}

void redis_fx_sentinel_stop(redis_fx_sentinel *st) {
    redis_fx_stop(&st->sentinel);
    redis_fx_stop(&st->replica);
    redis_fx_stop(&st->master);
}

#endif /* REDIS_FX_ENABLED */
