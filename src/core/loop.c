/* loop.c — epoll event loop: fds, timers, and a thread-safe post queue.
 *
 * Timers are few per coordinator (heartbeat, reconnects), so they live in a plain
 * array scanned each iteration rather than a heap. An fd registration carries a
 * generation number in the epoll data so that an event for an fd that was closed
 * and reused during the same iteration is ignored. */
#include "core/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

typedef struct ag_fdreg {
    ag_io_cb cb;
    void *arg;
    unsigned events;
    uint32_t gen;
    bool active;
} ag_fdreg;

struct ag_timer {
    uint64_t due_ms;
    uint64_t repeat_ms;
    ag_timer_cb cb;
    void *arg;
    bool armed;
    bool stopped; /* freed at the end of the iteration (may be stopped from its callback) */
};

typedef struct ag_post {
    ag_post_cb fn;
    void *arg;
    struct ag_post *next;
} ag_post;

struct ag_loop {
    int epfd;
    int wakefd;
    ag_fdreg *regs;
    size_t nregs;
    ag_timer **timers;
    size_t ntimers, captimers;
    int running_timers; /* >0 while timer callbacks run: defer frees */
    pthread_mutex_t post_mu;
    ag_post *post_head, *post_tail;
    ag_defer *defers;         /* LIFO; order between deferred callbacks does not matter */
    ag_defer *running_defers; /* the round being run */
    volatile int stop;
    /* Held by whoever runs callbacks: the loop thread, except while it waits, or a
     * thread that entered (ag_loop_try_enter). */
    pthread_mutex_t run_mu;
    pthread_t thread;
    bool running;        /* inside ag_loop_run (under run_mu) */
    bool timers_changed; /* a timer was started since the loop computed its wait */
};

uint64_t ag_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t ag_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct timespec ag_deadline(uint64_t ms) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

static uint32_t to_epoll(unsigned ev) {
    uint32_t e = 0;
    if (ev & AG_READ) e |= EPOLLIN | EPOLLRDHUP;
    if (ev & AG_WRITE) e |= EPOLLOUT;
    return e;
}

ag_loop *ag_loop_new(void) {
    ag_loop *l = calloc(1, sizeof *l);
    if (!l) return NULL;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->epfd < 0 || l->wakefd < 0) {
        if (l->epfd >= 0) close(l->epfd);
        if (l->wakefd >= 0) close(l->wakefd);
        free(l);
        return NULL;
    }
    pthread_mutex_init(&l->post_mu, NULL);
    pthread_mutex_init(&l->run_mu, NULL);
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wakefd, &e);
    return l;
}

void ag_loop_free(ag_loop *l) {
    if (!l) return;
    for (size_t i = 0; i < l->ntimers; i++) free(l->timers[i]);
    free(l->timers);
    free(l->regs);
    ag_post *p = l->post_head;
    while (p) {
        ag_post *n = p->next;
        free(p);
        p = n;
    }
    pthread_mutex_destroy(&l->post_mu);
    pthread_mutex_destroy(&l->run_mu);
    close(l->epfd);
    close(l->wakefd);
    free(l);
}

static bool grow_regs(ag_loop *l, int fd) {
    if ((size_t)fd < l->nregs) return true;
    size_t n = l->nregs ? l->nregs : 64;
    while (n <= (size_t)fd) n *= 2;
    ag_fdreg *r = realloc(l->regs, n * sizeof *r);
    if (!r) return false;
    memset(r + l->nregs, 0, (n - l->nregs) * sizeof *r);
    l->regs = r;
    l->nregs = n;
    return true;
}

int ag_loop_add_fd(ag_loop *l, int fd, unsigned events, ag_io_cb cb, void *arg) {
    if (fd < 0 || !grow_regs(l, fd)) return -1;
    ag_fdreg *r = &l->regs[fd];
    r->cb = cb;
    r->arg = arg;
    r->events = events;
    r->gen++;
    r->active = true;
    struct epoll_event e = {.events = to_epoll(events),
                            .data.u64 = ((uint64_t)r->gen << 32) | (uint32_t)fd};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
        r->active = false;
        return -1;
    }
    return 0;
}

int ag_loop_mod_fd(ag_loop *l, int fd, unsigned events) {
    if (fd < 0 || (size_t)fd >= l->nregs || !l->regs[fd].active) return -1;
    ag_fdreg *r = &l->regs[fd];
    if (r->events == events) return 0;
    r->events = events;
    struct epoll_event e = {.events = to_epoll(events),
                            .data.u64 = ((uint64_t)r->gen << 32) | (uint32_t)fd};
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &e);
}

void ag_loop_del_fd(ag_loop *l, int fd) {
    if (fd < 0 || (size_t)fd >= l->nregs || !l->regs[fd].active) return;
    l->regs[fd].active = false;
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
}

ag_timer *ag_timer_start(ag_loop *l, uint64_t delay_ms, uint64_t repeat_ms, ag_timer_cb cb,
                         void *arg) {
    if (l->ntimers == l->captimers) {
        size_t n = l->captimers ? l->captimers * 2 : 8;
        ag_timer **t = realloc(l->timers, n * sizeof *t);
        if (!t) return NULL;
        l->timers = t;
        l->captimers = n;
    }
    ag_timer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->due_ms = ag_now_ms() + delay_ms;
    t->repeat_ms = repeat_ms;
    t->cb = cb;
    t->arg = arg;
    t->armed = true;
    l->timers[l->ntimers++] = t;
    l->timers_changed = true;
    return t;
}

static void reap_timers(ag_loop *l) {
    size_t j = 0;
    for (size_t i = 0; i < l->ntimers; i++) {
        if (l->timers[i]->stopped)
            free(l->timers[i]);
        else
            l->timers[j++] = l->timers[i];
    }
    l->ntimers = j;
}

void ag_timer_stop(ag_loop *l, ag_timer *t) {
    if (!t) return;
    t->armed = false;
    t->stopped = true;
    if (!l->running_timers) reap_timers(l);
}

/* Make the loop thread's epoll_wait return (it runs the posts, if any, and recomputes
 * its wait). Any thread. */
static void wake_loop(ag_loop *l) {
    uint64_t one = 1;
    ssize_t w = write(l->wakefd, &one, sizeof one);
    (void)w;
}

int ag_loop_post(ag_loop *l, ag_post_cb fn, void *arg) {
    ag_post *p = malloc(sizeof *p);
    if (!p) return -1;
    p->fn = fn;
    p->arg = arg;
    p->next = NULL;
    pthread_mutex_lock(&l->post_mu);
    if (l->post_tail)
        l->post_tail->next = p;
    else
        l->post_head = p;
    l->post_tail = p;
    pthread_mutex_unlock(&l->post_mu);
    wake_loop(l);
    return 0;
}

void ag_loop_defer(ag_loop *l, ag_defer *d) {
    if (d->queued) return;
    d->queued = true;
    d->next = l->defers;
    l->defers = d;
}

static bool unlink_defer(ag_defer **pp, ag_defer *d) {
    for (; *pp; pp = &(*pp)->next) {
        if (*pp == d) {
            *pp = d->next;
            return true;
        }
    }
    return false;
}

void ag_loop_defer_cancel(ag_loop *l, ag_defer *d) {
    if (!d->queued) return;
    if (!unlink_defer(&l->defers, d)) unlink_defer(&l->running_defers, d);
    d->queued = false;
    d->next = NULL;
}

/* Run the deferred callbacks queued so far; those they queue wait for the next round
 * (the loop then does not block), so a callback that keeps deferring itself cannot
 * starve the fds. */
static void run_defers(ag_loop *l) {
    if (l->running_defers) return; /* nested (a callback ran the loop): the outer call goes on */
    l->running_defers = l->defers;
    l->defers = NULL;
    while (l->running_defers) {
        ag_defer *d = l->running_defers;
        l->running_defers = d->next;
        d->queued = false;
        d->next = NULL;
        d->cb(l, d->arg);
    }
}

void ag_loop_stop(ag_loop *l) {
    __atomic_store_n(&l->stop, 1, __ATOMIC_SEQ_CST);
    wake_loop(l);
}

static void run_posts(ag_loop *l) {
    uint64_t v;
    ssize_t r = read(l->wakefd, &v, sizeof v);
    (void)r;
    pthread_mutex_lock(&l->post_mu);
    ag_post *p = l->post_head;
    l->post_head = l->post_tail = NULL;
    pthread_mutex_unlock(&l->post_mu);
    while (p) {
        ag_post *n = p->next;
        p->fn(l, p->arg);
        free(p);
        p = n;
    }
}

static int next_timeout(ag_loop *l, int timeout_ms) {
    uint64_t now = ag_now_ms();
    int best = timeout_ms;
    for (size_t i = 0; i < l->ntimers; i++) {
        ag_timer *t = l->timers[i];
        if (!t->armed) continue;
        int d = t->due_ms <= now ? 0 : (int)(t->due_ms - now > 3600000 ? 3600000 : t->due_ms - now);
        if (best < 0 || d < best) best = d;
    }
    return best;
}

static void run_timers(ag_loop *l) {
    uint64_t now = ag_now_ms();
    l->running_timers++;
    /* Timers added by callbacks are appended; only look at those present now. */
    size_t n = l->ntimers;
    for (size_t i = 0; i < n; i++) {
        ag_timer *t = l->timers[i];
        if (!t->armed || t->due_ms > now) continue;
        if (t->repeat_ms) {
            t->due_ms += t->repeat_ms;
            if (t->due_ms <= now) t->due_ms = now + t->repeat_ms;
        } else {
            t->armed = false;
        }
        t->cb(l, t, t->arg);
    }
    l->running_timers--;
    if (!l->running_timers) reap_timers(l);
}

/* One iteration. `visitable`: release run_mu while waiting so that another thread can
 * enter (only from ag_loop_run; a nested ag_loop_run_once keeps it). */
static int iterate(ag_loop *l, int timeout_ms, bool visitable) {
    struct epoll_event evs[64];
    run_defers(l); /* any deferred from outside an iteration (before the loop ran) */
    int to = l->defers ? 0 : next_timeout(l, timeout_ms);
    int n;
    if (visitable) {
        l->timers_changed = false;
        pthread_mutex_unlock(&l->run_mu);
        n = epoll_wait(l->epfd, evs, 64, to);
        pthread_mutex_lock(&l->run_mu);
    } else {
        n = epoll_wait(l->epfd, evs, 64, to);
    }
    if (n < 0) {
        if (errno != EINTR) return -1;
        n = 0;
    }
    for (int i = 0; i < n; i++) {
        uint64_t d = evs[i].data.u64;
        if (d == UINT64_MAX) {
            run_posts(l);
            continue;
        }
        int fd = (int)(uint32_t)d;
        uint32_t gen = (uint32_t)(d >> 32);
        if ((size_t)fd >= l->nregs) continue;
        ag_fdreg *r = &l->regs[fd];
        if (!r->active || r->gen != gen) continue;
        unsigned ev = 0;
        uint32_t e = evs[i].events;
        if (e & (EPOLLIN | EPOLLRDHUP)) ev |= AG_READ;
        if (e & EPOLLOUT) ev |= AG_WRITE;
        if (e & (EPOLLERR | EPOLLHUP)) ev |= AG_ERROR | (r->events & AG_READ);
        ev &= r->events | AG_ERROR;
        if (ev) r->cb(l, fd, ev, r->arg);
    }
    run_timers(l);
    run_defers(l);
    return n;
}

int ag_loop_run_once(ag_loop *l, int timeout_ms) { return iterate(l, timeout_ms, false); }

void ag_loop_run(ag_loop *l) {
    pthread_mutex_lock(&l->run_mu);
    l->thread = pthread_self();
    l->running = true;
    while (!__atomic_load_n(&l->stop, __ATOMIC_SEQ_CST)) iterate(l, -1, true);
    __atomic_store_n(&l->stop, 0, __ATOMIC_SEQ_CST);
    l->running = false;
    pthread_mutex_unlock(&l->run_mu);
}

bool ag_loop_try_enter(ag_loop *l) {
    if (pthread_mutex_trylock(&l->run_mu) != 0) return false;
    if (!l->running) { /* not started yet, or finished: the owner may be tearing down */
        pthread_mutex_unlock(&l->run_mu);
        return false;
    }
    return true;
}

void ag_loop_leave(ag_loop *l) {
    run_defers(l);
    /* The loop thread computed its wait without these. */
    bool wake = l->timers_changed || l->defers;
    pthread_mutex_unlock(&l->run_mu);
    if (wake) wake_loop(l);
}

bool ag_loop_is_loop_thread(ag_loop *l) {
    return l->running && pthread_equal(pthread_self(), l->thread);
}
