/* proc.c — see proc.h. */
#include "proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint64_t ts_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void ts_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int ts_connect_loopback(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* In the child: point fd `to` at the file `path` (appending), or at `fallback`. */
static void redirect(int to, const char *path, int fallback) {
    int fd = path ? open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : fallback;
    if (fd >= 0) dup2(fd, to);
}

pid_t ts_spawn(const char *const argv[], const char *out, const char *err) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid != 0) return pid < 0 ? -1 : pid;
    /* Never outlive the test, even if it crashes (or already died before prctl). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull >= 0) dup2(devnull, 0);
    redirect(1, out, devnull);
    if (err) redirect(2, err, -1);
    execvp(argv[0], (char *const *)argv);
    _exit(127);
}

int ts_await_child(pid_t pid, bool (*ready)(void *arg), void *arg, int timeout_ms) {
    uint64_t deadline = ts_now_ms() + (uint64_t)timeout_ms;
    while (ts_now_ms() < deadline) {
        if (ready(arg)) return 0;
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) return 1;
        ts_sleep_ms(20);
    }
    return -1;
}

int ts_stop_child(pid_t pid, int sig, int timeout_ms) {
    if (pid <= 0) return -1;
    if (sig) kill(pid, sig);
    return ts_wait_child(pid, timeout_ms, NULL);
}

int ts_wait_child(pid_t pid, int timeout_ms, void (*idle)(void)) {
    if (pid <= 0) return -1;
    uint64_t deadline = ts_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return st;
        if (r < 0 && errno == ECHILD) return -1;
        if (ts_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        if (idle) idle();
        ts_sleep_ms(idle ? 2 : 10);
    }
}

/* ---- a child process spoken to by lines ---------------------------------------- */

/* In the child: make `fd` its descriptor `to`, open across exec. */
static void move_fd(int fd, int to) {
    if (fd == to)
        fcntl(fd, F_SETFD, 0);
    else
        dup2(fd, to);
}

/* Both variants: the pipes, the fork, the child's stdin/stdout. In the child, exec
 * argv or run fn; the parent gets 0 or -1. */
static int child_start(ts_child *c, const char *const argv[], int (*fn)(void *), void *arg) {
    memset(c, 0, sizeof *c);
    c->to = c->from = -1;
    int down[2], up[2]; /* down: test -> child, up: child -> test */
    if (pipe2(down, O_CLOEXEC) != 0) return -1;
    if (pipe2(up, O_CLOEXEC) != 0) {
        close(down[0]);
        close(down[1]);
        return -1;
    }
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* Never outlive the test, even if it crashes (or already died before prctl). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(1);
        move_fd(down[0], 0);
        move_fd(up[1], 1);
        if (down[0] != 0) close(down[0]);
        if (up[1] != 1) close(up[1]);
        close(down[1]);
        close(up[0]);
        if (fn) _exit(fn(arg));
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(down[0]);
    close(up[1]);
    if (pid < 0) {
        close(down[1]);
        close(up[0]);
        return -1;
    }
    fcntl(up[0], F_SETFL, O_NONBLOCK);
    c->pid = pid;
    c->to = down[1];
    c->from = up[0];
    return 0;
}

int ts_child_exec(ts_child *c, const char *const argv[]) { return child_start(c, argv, NULL, NULL); }

int ts_child_fork(ts_child *c, int (*fn)(void *arg), void *arg) {
    return child_start(c, NULL, fn, arg);
}

bool ts_child_send(ts_child *c, const char *fmt, ...) {
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof line - 1) return false;
    line[n++] = '\n';
    if (write(c->to, line, (size_t)n) == n) return true;
    fprintf(stderr, "write to child %d (pid %d) failed\n", c->id, (int)c->pid);
    return false;
}

int ts_child_line(ts_child *c, char *out, size_t outlen, int timeout_ms) {
    uint64_t end = ts_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl || c->len == sizeof c->buf) { /* a full buffer counts as a line */
            size_t l = nl ? (size_t)(nl - c->buf) : c->len;
            if (outlen) snprintf(out, outlen, "%.*s", (int)l, c->buf);
            size_t used = nl ? l + 1 : l;
            memmove(c->buf, c->buf + used, c->len - used);
            c->len -= used;
            return 1;
        }
        uint64_t now = ts_now_ms();
        struct pollfd p = {c->from, POLLIN, 0};
        if (poll(&p, 1, now < end ? (int)(end - now) : 0) > 0) {
            ssize_t r = read(c->from, c->buf + c->len, sizeof c->buf - c->len);
            if (r > 0) {
                c->len += (size_t)r;
                continue;
            }
            if (r == 0 || (errno != EAGAIN && errno != EINTR)) return -1;
        }
        if (ts_now_ms() >= end) return 0;
    }
}

static void child_closed(ts_child *c) {
    close(c->to);
    close(c->from);
    c->pid = 0;
    c->len = 0;
}

int ts_child_reap(ts_child *c, int timeout_ms, void (*idle)(void)) {
    if (c->pid <= 0) return -1;
    int st = ts_wait_child(c->pid, timeout_ms, idle);
    child_closed(c);
    return st;
}

void ts_child_kill(ts_child *c) {
    if (c->pid <= 0) return; /* kill(0) would hit the whole process group */
    kill(c->pid, SIGKILL);
    waitpid(c->pid, NULL, 0);
    child_closed(c);
}

bool ts_child_quit(ts_child *c, int timeout_ms) {
    if (!c->pid) return true;
    ts_child_send(c, "quit");
    int st = ts_child_reap(c, timeout_ms, NULL);
    if (st < 0) fprintf(stderr, "node %d did not exit after quit\n", c->id);
    else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
        fprintf(stderr, "node %d exited with %d\n", c->id, WEXITSTATUS(st));
    else if (WIFSIGNALED(st))
        fprintf(stderr, "node %d died of signal %d\n", c->id, WTERMSIG(st));
    return st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

bool ts_line_in_fill(ts_line_in *in, int fd) {
    if (in->used) { /* drop the lines already returned */
        memmove(in->buf, in->buf + in->used, in->len - in->used);
        in->len -= in->used;
        in->used = 0;
    }
    if (in->len + 1 >= sizeof in->buf) return false;
    ssize_t r = read(fd, in->buf + in->len, sizeof in->buf - 1 - in->len);
    if (r <= 0) return false;
    in->len += (size_t)r;
    return true;
}

const char *ts_line_in_next(ts_line_in *in) {
    char *line = in->buf + in->used;
    char *nl = memchr(line, '\n', in->len - in->used);
    if (!nl) return NULL;
    *nl = '\0';
    in->used = (size_t)(nl + 1 - in->buf);
    return line;
}

int ts_self_exe(char *buf, size_t len) {
    ssize_t l = readlink("/proc/self/exe", buf, len - 1);
    if (l <= 0) return -1;
    buf[l] = '\0';
    return 0;
}
