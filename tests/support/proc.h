/* proc.h — what the fixtures and tests need around child processes: monotonic time,
 * short sleeps, loopback connections, servers (or the agora command) started as
 * children that die with the test and are always reaped, and children directed over
 * a pair of pipes, one line per command and reply. */
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

/* Send sig (0: none, just wait) and wait up to timeout_ms for the child to exit; then
 * SIGKILL. Always reaps it. Its wait status, or -1 if it had to be killed (or was
 * not a child of ours). idle (may be NULL) is called between the polls, every 2 ms,
 * for a test that must keep something moving while its children shut down. */
int ts_stop_child(pid_t pid, int sig, int timeout_ms);
int ts_wait_child(pid_t pid, int timeout_ms, void (*idle)(void));

/* ---- a child process spoken to by lines ----------------------------------------
 * Its standard input reads the lines the test sends, its standard output writes the
 * lines the test reads; its standard error is the test's. It dies with the test. */
typedef struct ts_child {
    pid_t pid;    /* 0 once reaped */
    int to;       /* the child's stdin: the test writes commands */
    int from;     /* the child's stdout: the test reads replies (non-blocking) */
    int id;       /* the caller's name for it, for messages; not used here */
    char buf[4096];
    size_t len;
} ts_child;

/* Run the program argv[0] (a path, or looked up in PATH) with argv. 0, or -1. */
int ts_child_exec(ts_child *c, const char *const argv[]);
/* Fork a child that runs fn(arg) and exits with what it returns. 0, or -1. */
int ts_child_fork(ts_child *c, int (*fn)(void *arg), void *arg);
/* Write one line (printf-style; the newline is added). False (and said on stderr)
 * if it could not: the child is gone. */
bool ts_child_send(ts_child *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The next line from the child, without its newline, copied (truncated) to out:
 * 1, or 0 when timeout_ms passed first, or -1 when the child closed its stdout (or
 * exited) with no whole line left. Buffered lines come first, even with timeout 0. */
int ts_child_line(ts_child *c, char *out, size_t outlen, int timeout_ms);
/* Wait up to timeout_ms for the child to exit (after a quit command, say), then
 * SIGKILL it; reap it and close the pipes. Its wait status, or -1 if it had to be
 * killed. idle: as for ts_wait_child. */
int ts_child_reap(ts_child *c, int timeout_ms, void (*idle)(void));
/* SIGKILL the child (a crash, as the test wants it), reap it, close the pipes. */
void ts_child_kill(ts_child *c);
/* Send "quit" and reap the child within timeout_ms: true if it exited with status 0;
 * otherwise says on stderr how it ended ("node ID did not exit after quit", "...
 * exited with N", "... died of signal N"). A child already reaped is true. */
bool ts_child_quit(ts_child *c, int timeout_ms);

/* ---- the child's side: commands read line by line from a pipe ---------------- */
typedef struct ts_line_in {
    char buf[256];
    size_t len, used; /* used: the line last returned, still in buf */
} ts_line_in;
/* Read what fd has (call it when poll says fd is readable). False when fd was closed
 * (the parent is gone) or the buffer is full without a newline. */
bool ts_line_in_fill(ts_line_in *in, int fd);
/* The next whole line read, without its newline, or NULL; valid until the next call. */
const char *ts_line_in_next(ts_line_in *in);

/* This program's own path, to run itself again as a child node. 0, or -1. */
int ts_self_exe(char *buf, size_t len);

#endif
