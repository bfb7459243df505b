/* proc.h — what the fixtures and tests need around child processes: monotonic time,
 * short sleeps, loopback connections, and servers (or the agora command) started as
 * children that die with the test and are always reaped. */
#ifndef AG_TEST_PROC_H
#define AG_TEST_PROC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Milliseconds of monotonic time. */
uint64_t ts_now_ms(void);
/* Sleep for ms milliseconds (for polling with a deadline, never to synchronise). */
void ts_sleep_ms(int ms);

/* A blocking TCP connection to 127.0.0.1:port, or -1 if nobody listens there. */
int ts_connect_loopback(int port);

/* Start argv[0] (looked up in PATH) with argv. The child gets SIGKILL when the test
 * dies (PR_SET_PDEATHSIG) and reads /dev/null; its stdout is appended to the file
 * `out` (NULL: /dev/null), its stderr to the file `err` (NULL: the test's stderr; the
 * same path as out is fine). The pid, or -1. */
pid_t ts_spawn(const char *const argv[], const char *out, const char *err);

/* Poll ready(arg) every 20 ms: 0 once it is true, 1 if the child exits first (it is
 * reaped), -1 after timeout_ms (the child is left running). */
int ts_await_child(pid_t pid, bool (*ready)(void *arg), void *arg, int timeout_ms);

/* Send sig and wait up to timeout_ms for the child to exit; then SIGKILL. Always
 * reaps it. */
void ts_stop_child(pid_t pid, int sig, int timeout_ms);

#endif
