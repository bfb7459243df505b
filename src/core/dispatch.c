/* dispatch.c — the delivery queue from the I/O thread to the application.
 *
 * An eventfd is readable whenever the queue holds events (and, rarely, for a moment
 * after it was emptied: agora_dispatch then returns 0), so agora_fd() fits any event
 * loop; agora_dispatch() runs the callback on the caller's thread. */
#include "core/coord.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

int ag_dispatch_init(struct agora *a) {
    a->in_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (a->in_fd < 0) return AGORA_EIO;
    pthread_mutex_init(&a->in_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->in_cv, &ca);
    pthread_condattr_destroy(&ca);
    return AGORA_OK;
}

void ag_dispatch_free(struct agora *a) {
    for (size_t i = a->in_head; i < a->in_len; i++) agora_event_clear(&a->in_q[i]);
    free(a->in_q);
    a->in_q = NULL;
    if (a->in_fd >= 0) close(a->in_fd);
    pthread_mutex_destroy(&a->in_mu);
    pthread_cond_destroy(&a->in_cv);
}

static void signal_fd(int fd) {
    uint64_t one = 1;
    ssize_t w = write(fd, &one, sizeof one);
    (void)w;
}

static void drain_fd(int fd) {
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof v);
    (void)r;
}

void ag_dispatch_push(struct agora *a, agora_event *ev) {
    atomic_fetch_add(&a->events_in, 1);
    if (ev->type == AGORA_EV_GAP) atomic_fetch_add(&a->gaps, 1);
    if (a->opts.callbacks_on_io_thread && a->opts.on_event) {
        a->opts.on_event(a, ev, a->opts.on_event_user);
        agora_event_clear(ev);
        return;
    }
    pthread_mutex_lock(&a->in_mu);
    if (a->in_len == a->in_cap) {
        /* Reclaim the consumed front before growing. */
        if (a->in_head > 0) {
            memmove(a->in_q, a->in_q + a->in_head, (a->in_len - a->in_head) * sizeof *a->in_q);
            a->in_len -= a->in_head;
            a->in_head = 0;
        }
        if (a->in_len == a->in_cap) {
            size_t n = a->in_cap ? a->in_cap * 2 : 256;
            agora_event *q = realloc(a->in_q, n * sizeof *q);
            if (!q) {
                pthread_mutex_unlock(&a->in_mu);
                ag_log(a, AGORA_LOG_ERROR, "out of memory: an incoming event was dropped");
                agora_event_clear(ev);
                return;
            }
            a->in_q = q;
            a->in_cap = n;
        }
    }
    bool was_empty = a->in_head == a->in_len;
    a->in_q[a->in_len++] = *ev;
    memset(ev, 0, sizeof *ev);
    if (was_empty) pthread_cond_broadcast(&a->in_cv);
    pthread_mutex_unlock(&a->in_mu);
    /* After unlocking: the woken application thread takes in_mu at once. */
    if (was_empty) signal_fd(a->in_fd);
}

void ag_dispatch_close(struct agora *a) {
    pthread_mutex_lock(&a->in_mu);
    a->in_closed = true;
    pthread_cond_broadcast(&a->in_cv);
    pthread_mutex_unlock(&a->in_mu);
}

int agora_fd(agora_t *a) { return a ? a->in_fd : -1; }

/* Take up to max events off the queue (caller frees the array). */
static agora_event *take(struct agora *a, size_t max, size_t *n) {
    pthread_mutex_lock(&a->in_mu);
    size_t avail = a->in_len - a->in_head;
    if (max == 0 || max > avail) max = avail;
    agora_event *out = NULL;
    if (max) {
        out = malloc(max * sizeof *out);
        if (out) {
            memcpy(out, a->in_q + a->in_head, max * sizeof *out);
            a->in_head += max;
        } else {
            max = 0;
        }
    }
    if (a->in_head == a->in_len) {
        a->in_head = a->in_len = 0;
        drain_fd(a->in_fd);
    }
    pthread_mutex_unlock(&a->in_mu);
    *n = max;
    return out;
}

int agora_dispatch(agora_t *a, size_t max) {
    if (!a) return AGORA_EINVAL;
    size_t n;
    agora_event *evs = take(a, max, &n);
    for (size_t i = 0; i < n; i++) {
        if (a->opts.on_event) a->opts.on_event(a, &evs[i], a->opts.on_event_user);
        agora_event_clear(&evs[i]);
    }
    free(evs);
    return (int)n;
}

int agora_next_event(agora_t *a, agora_event *ev, int timeout_ms) {
    if (!a || !ev) return AGORA_EINVAL;
    struct timespec dl = ag_deadline(timeout_ms > 0 ? timeout_ms : 0);
    pthread_mutex_lock(&a->in_mu);
    while (a->in_head == a->in_len && !a->in_closed) {
        if (timeout_ms == 0) break;
        if (timeout_ms < 0) {
            pthread_cond_wait(&a->in_cv, &a->in_mu);
        } else if (pthread_cond_timedwait(&a->in_cv, &a->in_mu, &dl) == ETIMEDOUT) {
            break;
        }
    }
    int rc;
    if (a->in_head < a->in_len) {
        *ev = a->in_q[a->in_head++];
        if (a->in_head == a->in_len) {
            a->in_head = a->in_len = 0;
            drain_fd(a->in_fd);
        }
        rc = AGORA_OK;
    } else {
        rc = a->in_closed ? AGORA_ECLOSED : AGORA_ETIMEDOUT;
    }
    pthread_mutex_unlock(&a->in_mu);
    return rc;
}
