/* proc.c — see proc.h. */
#include "proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
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

void ts_stop_child(pid_t pid, int sig, int timeout_ms) {
    if (pid <= 0) return;
    kill(pid, sig);
    uint64_t deadline = ts_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid || (r < 0 && errno == ECHILD)) return;
        if (ts_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return;
        }
        ts_sleep_ms(10);
    }
}
