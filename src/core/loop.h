/* loop.h — the I/O thread's event loop (epoll, a small timer list, a post queue).
 * One loop per coordinator; every function except ag_loop_post / ag_loop_wake must be
 * called on the loop's own thread. */
#ifndef AG_LOOP_H
#define AG_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ag_loop ag_loop;
typedef struct ag_timer ag_timer;

#define AG_READ 1u
#define AG_WRITE 2u

/* events: AG_READ | AG_WRITE, plus AG_ERROR when the fd reported EPOLLERR/EPOLLHUP
 * (the callback should then read or close). */
#define AG_ERROR 4u
typedef void (*ag_io_cb)(ag_loop *loop, int fd, unsigned events, void *arg);
typedef void (*ag_timer_cb)(ag_loop *loop, ag_timer *t, void *arg);
typedef void (*ag_post_cb)(ag_loop *loop, void *arg);

ag_loop *ag_loop_new(void);
void ag_loop_free(ag_loop *loop);

/* Watch fd for `events`. One registration per fd. */
int ag_loop_add_fd(ag_loop *loop, int fd, unsigned events, ag_io_cb cb, void *arg);
int ag_loop_mod_fd(ag_loop *loop, int fd, unsigned events);
void ag_loop_del_fd(ag_loop *loop, int fd);

/* One-shot (repeat_ms == 0) or repeating timer. The handle stays valid until
 * ag_timer_stop (also for a one-shot timer that already fired: stop every timer you
 * start; ag_loop_free frees any left). Safe to stop from inside its own callback. */
ag_timer *ag_timer_start(ag_loop *loop, uint64_t delay_ms, uint64_t repeat_ms, ag_timer_cb cb,
                         void *arg);
void ag_timer_stop(ag_loop *loop, ag_timer *t);

/* A callback run once on the loop thread after the current iteration's I/O and timers,
 * before the loop waits again (or when a thread that entered leaves): lets a backend
 * gather everything one iteration queued into one write. The struct belongs to the
 * caller (no allocation); deferring it again before it ran does nothing; cancel it
 * before freeing it. One deferred from inside a deferred callback runs in the next
 * iteration, after the fds were polled again. Loop thread only. */
typedef struct ag_defer ag_defer;
struct ag_defer {
    void (*cb)(ag_loop *loop, void *arg);
    void *arg;
    ag_defer *next;
    bool queued;
};
void ag_loop_defer(ag_loop *loop, ag_defer *d);
void ag_loop_defer_cancel(ag_loop *loop, ag_defer *d);

/* Run fn(arg) on the loop thread soon. Thread-safe. */
int ag_loop_post(ag_loop *loop, ag_post_cb fn, void *arg);

/* Run the loop until ag_loop_stop. The running thread holds the loop's lock except
 * while it waits in epoll_wait; another thread may take it then with ag_loop_try_enter
 * and act as the loop thread (every loop-thread-only function is then allowed) until
 * ag_loop_leave. */
void ag_loop_run(ag_loop *loop);
/* Take the loop's lock if the loop thread is waiting (never blocks). Fails while the
 * loop thread is busy, before ag_loop_run started and after it ended. */
bool ag_loop_try_enter(ag_loop *loop);
/* Run what the visit deferred, wake the loop thread if a timer was started (its wait
 * was computed without it), release the lock. */
void ag_loop_leave(ag_loop *loop);
/* True on the thread inside ag_loop_run (not on a thread that entered). */
bool ag_loop_is_loop_thread(ag_loop *loop);
/* One iteration: wait up to timeout_ms (-1 forever) and run what is due. */
int ag_loop_run_once(ag_loop *loop, int timeout_ms);
/* Ask ag_loop_run to return (thread-safe). */
void ag_loop_stop(ag_loop *loop);

/* Monotonic milliseconds. */
uint64_t ag_now_ms(void);
/* Monotonic microseconds. */
uint64_t ag_now_us(void);

#include <time.h>
/* CLOCK_MONOTONIC time `ms` from now, for pthread_cond_timedwait on a condition
 * variable created with pthread_condattr_setclock(CLOCK_MONOTONIC). */
struct timespec ag_deadline(uint64_t ms);

#endif
