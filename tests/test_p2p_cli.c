/* test_p2p_cli.c — the PeerToPeer refusals as an operator sees them: real `agora`
 * processes (AGORA_BIN) on 127.0.0.1, their standard error read back.
 *
 *   wrong_secret  two nodes with different secrets: no link, and both log
 *                 "TLS handshake failed — wrong cluster secret?" (never the secret)
 *   garbage       a client sending junk to a node is disconnected with a log line,
 *                 and an event published right after still reaches a watcher
 *   dup_id        a second process started with a live node's id is refused, and
 *                 says why */
#include "check.h"
#include "proc.h"
#include "scenario.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PORT 27530 /* this file uses 27531..27539 */

static char dir[256];
static const char *bin;

static void path(char *out, size_t len, const char *name) { snprintf(out, len, "%s/%s", dir, name); }

static void write_config(const char *name, int id, const char *secret, const int *peers) {
    char p[512], list[256] = "";
    size_t l = 0;
    for (int i = 0; peers && peers[i]; i++)
        l += (size_t)snprintf(list + l, sizeof list - l, "%s\"127.0.0.1:%d\"", l ? "," : "", PORT + peers[i]);
    path(p, sizeof p, name);
    FILE *f = fopen(p, "w");
    if (!f) {
        perror(p);
        exit(2);
    }
    fprintf(f,
            "{\"nodeId\":%d,\"coordinator\":{\"@type\":\"PeerToPeer\",\"listen\":\"127.0.0.1:%d\","
            "\"peers\":[%s],\"secret\":\"%s\",\"reconnectMax\":\"500ms\"}}\n",
            id, PORT + id, list, secret);
    fclose(f);
}

/* Run AGORA_BIN with args; stdout/stderr to files named <tag>.out / <tag>.err. */
static pid_t run(const char *tag, const char *const *args) {
    char out[512], err[512];
    snprintf(out, sizeof out, "%s/%s.out", dir, tag);
    snprintf(err, sizeof err, "%s/%s.err", dir, tag);
    const char *argv[16];
    int n = 0;
    argv[n++] = bin;
    for (int i = 0; args[i] && n < 15; i++) argv[n++] = args[i];
    argv[n] = NULL;
    return ts_spawn(argv, out, err);
}

static bool file_has(const char *tag, const char *ext, const char *needle) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s.%s", dir, tag, ext);
    FILE *f = fopen(p, "r");
    if (!f) return false;
    char line[2048];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

static bool wait_file(const char *tag, const char *ext, const char *needle, int timeout_ms) {
    uint64_t deadline = ts_now_ms() + (uint64_t)timeout_ms;
    while (!file_has(tag, ext, needle)) {
        if (ts_now_ms() > deadline) return false;
        usleep(20000);
    }
    return true;
}

/* Send sig (0: none) and wait up to timeout_ms for the exit; the exit code, or -1 if
 * it was killed (by us once the time was up, or by a signal). */
static int reap_after(pid_t pid, int sig, int timeout_ms) {
    int st = ts_stop_child(pid, sig, timeout_ms);
    return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int reap(pid_t pid, int timeout_ms) { return reap_after(pid, 0, timeout_ms); }

static int stop(pid_t pid) { return reap_after(pid, SIGTERM, 10000); }

static void show(const char *tag) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s.err", dir, tag);
    FILE *f = fopen(p, "r");
    if (!f) return;
    char line[2048];
    while (fgets(line, sizeof line, f)) fprintf(stderr, "    [%s] %s", tag, line);
    fclose(f);
}

static void t_wrong_secret(void) {
    const int p1[] = {2, 0};
    write_config("ws1.json", 1, "alpha-secret-one", p1);
    write_config("ws2.json", 2, "bravo-secret-two", NULL);
    char c1[512], c2[512];
    path(c1, sizeof c1, "ws1.json");
    path(c2, sizeof c2, "ws2.json");
    pid_t a = run("ws1", (const char *[]){"serve", "--config", c1, NULL});
    pid_t b = run("ws2", (const char *[]){"serve", "--config", c2, NULL});
    bool both = wait_file("ws1", "err", "wrong cluster secret?", 8000) &&
                wait_file("ws2", "err", "wrong cluster secret?", 8000);
    CHECKF(both, "both nodes must log the wrong secret");
    CHECKF(!file_has("ws1", "err", "joined") && !file_has("ws2", "err", "joined"),
           "nodes with different secrets joined each other");
    for (int k = 1; k <= 2; k++) {
        const char *tag = k == 1 ? "ws1" : "ws2";
        CHECKF(!file_has(tag, "err", "alpha-secret") && !file_has(tag, "err", "bravo-secret"),
               "%s logged a secret", tag);
    }
    CHECKF(stop(a) == 0, "serve 1 did not exit cleanly");
    CHECKF(stop(b) == 0, "serve 2 did not exit cleanly");
    if (!both) {
        show("ws1");
        show("ws2");
    }
}

static void t_garbage(void) {
    const int to1[] = {3, 0};
    write_config("g3.json", 3, "s3cret", NULL);
    write_config("g4.json", 4, "s3cret", to1);
    write_config("g5.json", 5, "s3cret", to1);
    char c3[512], c4[512], c5[512];
    path(c3, sizeof c3, "g3.json");
    path(c4, sizeof c4, "g4.json");
    path(c5, sizeof c5, "g5.json");
    pid_t s = run("g3", (const char *[]){"serve", "--config", c3, NULL});
    pid_t w = run("g4", (const char *[]){"watch", "--join", "--config", c4, "--events-only", "--count", "1",
                                         "--timeout", "30s", NULL});
    CHECKF(wait_file("g3", "err", "node 4 joined", 8000), "watcher did not join");
    /* junk, both before and inside TLS's framing */
    int g = ts_connect_loopback(PORT + 3);
    CHECKF(g >= 0, "cannot connect");
    const char junk[] = "GET / HTTP/1.1\r\nHost: agora\r\n\r\n";
    ssize_t wr = send(g, junk, sizeof junk - 1, MSG_NOSIGNAL);
    CHECKF(wr > 0, "send");
    char buf[256];
    uint64_t deadline = ts_now_ms() + 5000;
    bool closed = false;
    while (!closed && ts_now_ms() < deadline) {
        ssize_t r = recv(g, buf, sizeof buf, MSG_DONTWAIT);
        closed = r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
        if (!closed) usleep(10000);
    }
    close(g);
    CHECKF(closed, "the garbage client was not disconnected");
    CHECKF(wait_file("g3", "err", "TLS handshake failed", 5000), "node 3 did not log the garbage peer");
    pid_t p = run("g5", (const char *[]){"publish", "--config", c5,
                                         "{\"type\":\"StateChange\",\"accountId\":9,\"changeId\":42,"
                                         "\"types\":[\"Mailbox\"]}", NULL});
    CHECKF(reap(p, 20000) == 0, "publish failed");
    CHECKF(reap(w, 30000) == 0, "watch did not receive the event");
    CHECKF(file_has("g4", "out", "\"changeId\":42"), "the event is not in the watcher's output");
    CHECKF(stop(s) == 0, "serve did not exit cleanly");
    if (failures) {
        show("g3");
        show("g4");
        show("g5");
    }
}

static void t_dup_id(void) {
    const int to6[] = {6, 0};
    write_config("d6.json", 6, "s3cret", NULL);
    write_config("d7.json", 7, "s3cret", to6);
    write_config("d8.json", 8, "s3cret", to6);
    char c6[512], c7[512], c8[512];
    path(c6, sizeof c6, "d6.json");
    path(c7, sizeof c7, "d7.json");
    path(c8, sizeof c8, "d8.json");
    pid_t a = run("d6", (const char *[]){"serve", "--config", c6, NULL});
    pid_t b = run("d7", (const char *[]){"serve", "--config", c7, NULL});
    CHECKF(wait_file("d6", "err", "node 7 joined", 8000), "node 7 did not join");
    /* the third process reuses node 7's id (listening on its own port) */
    pid_t c = run("d8", (const char *[]){"serve", "--config", c8, "--node-id", "7", NULL});
    CHECKF(wait_file("d6", "err", "refused as a duplicate node id", 8000),
           "node 6 did not refuse the duplicate id");
    CHECKF(wait_file("d8", "err", "node id 7 is already in use", 8000), "the duplicate did not say why");
    /* it gives up instead of retrying forever, with its own exit status */
    CHECKF(reap(c, 15000) == 5, "the duplicate did not exit with status 5");
    CHECKF(file_has("d8", "err", "giving up: node id 7 is already in use"),
           "the duplicate did not say it gives up");
    CHECKF(file_has("d8", "err", "node id in use by another live node"),
           "the command did not say why it exits");
    CHECKF(!file_has("d6", "err", "node 7 failed"), "the real node 7 was disturbed");
    CHECKF(stop(b) == 0, "node 7 did not exit cleanly");
    CHECKF(stop(a) == 0, "node 6 did not exit cleanly");
    if (failures) {
        show("d6");
        show("d8");
    }
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    bin = getenv("AGORA_BIN");
    if (!bin) bin = AGORA_BIN;
    if (access(bin, X_OK) != 0) {
        fprintf(stderr, "no agora binary at %s\n", bin);
        return 1;
    }
    snprintf(dir, sizeof dir, "/tmp/agora-p2p-cli-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    static const ts_scenario sc[] = {
        {"wrong_secret", .fn = t_wrong_secret}, {"garbage", .fn = t_garbage}, {"dup_id", .fn = t_dup_id}};
    int rc = ts_run_scenarios(sc, TS_COUNT(sc), argc > 1 ? argv[1] : "all", &failures);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (!failures && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return rc;
}
