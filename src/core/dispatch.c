/* dispatch.c — the delivery queue from the I/O thread to the application.
 *
 * An eventfd is readable whenever the queue holds events (and, rarely, for a moment
 * after it was emptied: agora_dispatch then returns 0), so agora_fd() fits any event
 * loop; agora_dispatch() runs the callback on the caller's thread.
 *
 * The queue is bounded in events and in bytes (agora_options.max_queued_events,
 * max_queued_bytes): an application that stops taking events loses the oldest ones,
 * replaced by a Gap, instead of growing memory.
 *
 * Each queued event carries the ticket of the payload it came from (see host->consumed
 * in backend.h), so that a backend can acknowledge a payload to its server (a
 * broker's offsets) only once the application has taken every event of it. */
#include "core/coord.h"

#include "codec/codec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define MIN_QUEUED 16
#define DROP_LOG_MS 1000

int ag_dispatch_init(struct agora *a) {
    size_t lim = a->opts.max_queued_events ? a->opts.max_queued_events
                                           : (size_t)AGORA_DEFAULT_MAX_QUEUED_EVENTS;
    a->in_limit = lim < MIN_QUEUED ? MIN_QUEUED : lim;
    a->in_byte_limit = a->opts.max_queued_bytes ? a->opts.max_queued_bytes
                                                : AGORA_DEFAULT_MAX_QUEUED_BYTES;
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
    free(a->in_tk);
    a->in_q = NULL;
    a->in_tk = NULL;
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

/* Room for one more event at in_len (in_mu held). false: out of memory. */
static bool make_room(struct agora *a) {
    if (a->in_len < a->in_cap) return true;
    /* Reclaim the consumed front before growing. */
    if (a->in_head > 0) {
        size_t live = a->in_len - a->in_head;
        memmove(a->in_q, a->in_q + a->in_head, live * sizeof *a->in_q);
        memmove(a->in_tk, a->in_tk + a->in_head, live * sizeof *a->in_tk);
        a->in_len = live;
        a->in_head = 0;
        return true;
    }
    size_t n = a->in_cap ? a->in_cap * 2 : 256;
    agora_event *q = realloc(a->in_q, n * sizeof *q);
    if (!q) return false;
    a->in_q = q;
    uint64_t *tk = realloc(a->in_tk, n * sizeof *tk);
    if (!tk) return false; /* in_q is merely larger than in_cap says */
    a->in_tk = tk;
    a->in_cap = n;
    return true;
}

typedef struct drop_note {
    size_t count;     /* events dropped now (by either bound) */
    uint16_t node;    /* the Gap's node */
    uint64_t missed;
} drop_note;

/* The queue is full (in_mu held): drop its k oldest (1 <= k <= queued) and put one Gap
 * in their place, so that the application learns of the loss where it happened. The
 * Gap keeps the ticket of the last dropped event: what came before it counts as
 * consumed. */
static void drop_oldest(struct agora *a, size_t k, drop_note *note) {
    uint64_t missed = 0;
    bool several = false, first = true;
    uint16_t origin = 0;
    for (size_t i = 0; i < k; i++) {
        agora_event *e = &a->in_q[a->in_head + i];
        switch (e->type) {
        case AGORA_EV_GAP:
            missed += e->u.gap.missed;
            break;
        case AGORA_EV_MEMBER_JOINED:
        case AGORA_EV_MEMBER_LEFT:
        case AGORA_EV_MEMBER_FAILED:
            several = true; /* the membership view must be read again */
            break;
        default:
            missed++;
            break;
        }
        if (first) {
            origin = e->node;
            first = false;
        } else if (e->node != origin) {
            several = true;
        }
        a->in_bytes -= ag_event_bytes(e);
        agora_event_clear(e);
    }
    a->in_head += k - 1;
    agora_event *gap = &a->in_q[a->in_head];
    memset(gap, 0, sizeof *gap);
    gap->type = AGORA_EV_GAP;
    gap->node = several ? a->node_id : origin;
    gap->u.gap.missed = missed;
    a->in_bytes += ag_event_bytes(gap);
    /* in_tk[in_head] already holds the last dropped event's ticket. */
    atomic_fetch_add(&a->in_dropped, k);
    atomic_fetch_add(&a->gaps, 1);
    atomic_fetch_add(&a->notices, 1);
    note->count += k;
    note->node = gap->node;
    note->missed = missed;
}

static void run_deferred(ag_loop *l, void *arg) {
    struct agora *a = arg;
    (void)l;
    if (!a->io_deferred) return;
    a->io_deferred = false;
    agora_dispatch(a, 0);
}

/* Local notices are made by this node, not received: status counts them apart. */
static bool is_notice(agora_event_type t) {
    return t == AGORA_EV_GAP || t == AGORA_EV_MEMBER_JOINED || t == AGORA_EV_MEMBER_LEFT ||
           t == AGORA_EV_MEMBER_FAILED;
}

void ag_dispatch_push(struct agora *a, agora_event *ev) {
    atomic_fetch_add(is_notice(ev->type) ? &a->notices : &a->events_in, 1);
    if (!is_notice(ev->type) && (unsigned)ev->type < AGORA_EV_TYPE_COUNT) {
        atomic_fetch_add_explicit(&a->ev_received[ev->type], 1, memory_order_relaxed);
        ag_members_count_in(a, ev->node);
    }
    if (ev->type == AGORA_EV_GAP) atomic_fetch_add(&a->gaps, 1);
    if (a->opts.callbacks_on_io_thread && a->opts.on_event) {
        if (ag_loop_is_loop_thread(a->loop)) {
            if (a->io_deferred) { /* those queued by another thread go first */
                a->io_deferred = false;
                agora_dispatch(a, 0);
            }
            a->opts.on_event(a, ev, a->opts.on_event_user);
            agora_event_clear(ev);
            return;
        }
        /* An application thread acting as the loop thread (agora_publish sending at
         * once) must not run callbacks: it may hold locks the callback takes. Queue it
         * for the I/O thread. */
        if (!a->io_deferred) {
            a->io_deferred = true;
            ag_loop_post(a->loop, run_deferred, a);
        }
    }
    /* Events made outside a payload's delivery (membership notices, tail Gaps) wait
     * for no payload: they carry the next ticket. */
    uint64_t tk = atomic_load_explicit(&a->rx_ticket, memory_order_relaxed);
    if (!a->rx_delivering) tk++;
    drop_note note = {0, 0, 0};
    uint64_t bytes = ag_event_bytes(ev);
    pthread_mutex_lock(&a->in_mu);
    size_t queued = a->in_len - a->in_head;
    if (queued >= a->in_limit) {
        size_t k = a->in_limit / 10 + 1;
        drop_oldest(a, k < queued ? k : queued, &note);
    }
    queued = a->in_len - a->in_head;
    if (queued && a->in_bytes + bytes > a->in_byte_limit) {
        /* Free a tenth of the bound beyond what this event needs, so that a stream of
         * large events drops in batches (one Gap each), not one by one. */
        uint64_t want = a->in_bytes + bytes - a->in_byte_limit + a->in_byte_limit / 10;
        uint64_t freed = 0;
        size_t k = 0;
        while (k < queued && freed < want) freed += ag_event_bytes(&a->in_q[a->in_head + k++]);
        drop_oldest(a, k, &note);
    }
    if (!make_room(a)) {
        pthread_mutex_unlock(&a->in_mu);
        ag_log(a, AGORA_LOG_ERROR, "out of memory: an incoming event was dropped");
        agora_event_clear(ev);
        return;
    }
    bool was_empty = a->in_head == a->in_len;
    a->in_tk[a->in_len] = tk;
    a->in_q[a->in_len++] = *ev;
    a->in_bytes += bytes;
    memset(ev, 0, sizeof *ev);
    if (was_empty) pthread_cond_broadcast(&a->in_cv);
    bool log_drop = false;
    if (note.count) {
        uint64_t now = ag_now_ms();
        if (a->in_drop_log_ms == 0 || now - a->in_drop_log_ms >= DROP_LOG_MS) {
            a->in_drop_log_ms = now;
            log_drop = true;
        }
    }
    pthread_mutex_unlock(&a->in_mu);
    /* After unlocking: the woken application thread takes in_mu at once. */
    if (was_empty) signal_fd(a->in_fd);
    if (log_drop)
        ag_log(a, AGORA_LOG_WARN,
               "delivery queue full (bound %zu events, %llu bytes; the application is not "
               "taking them): dropped the %zu oldest (%llu so far) and queued a Gap (node %u, "
               "%llu missed) in their place", a->in_limit,
               (unsigned long long)a->in_byte_limit, note.count,
               (unsigned long long)atomic_load(&a->in_dropped), note.node,
               (unsigned long long)note.missed);
}

void ag_dispatch_close(struct agora *a) {
    pthread_mutex_lock(&a->in_mu);
    a->in_closed = true;
    pthread_cond_broadcast(&a->in_cv);
    pthread_mutex_unlock(&a->in_mu);
}

uint64_t ag_dispatch_consumed(struct agora *a) {
    pthread_mutex_lock(&a->in_mu);
    /* Called on the I/O thread (or after it stopped), so no payload is half-queued. */
    uint64_t t = atomic_load_explicit(&a->rx_ticket, memory_order_relaxed);
    if (a->in_head < a->in_len && a->in_tk[a->in_head] - 1 < t) t = a->in_tk[a->in_head] - 1;
    if (a->in_busy && a->in_busy_tk - 1 < t) t = a->in_busy_tk - 1;
    pthread_mutex_unlock(&a->in_mu);
    return t;
}

size_t ag_dispatch_depth(struct agora *a) {
    pthread_mutex_lock(&a->in_mu);
    size_t n = a->in_len - a->in_head;
    pthread_mutex_unlock(&a->in_mu);
    return n;
}

int agora_fd(agora_t *a) { return a ? a->in_fd : -1; }

/* Take up to max events off the queue (caller frees the array, then calls
 * untake once their callbacks returned). */
static agora_event *take(struct agora *a, size_t max, size_t *n) {
    pthread_mutex_lock(&a->in_mu);
    size_t avail = a->in_len - a->in_head;
    if (max == 0 || max > avail) max = avail;
    agora_event *out = NULL;
    if (max) {
        out = malloc(max * sizeof *out);
        if (out) {
            memcpy(out, a->in_q + a->in_head, max * sizeof *out);
            for (size_t i = 0; i < max; i++) a->in_bytes -= ag_event_bytes(&out[i]);
            /* Not consumed until the callbacks return. */
            uint64_t tk = a->in_tk[a->in_head];
            if (a->in_busy++ == 0 || tk < a->in_busy_tk) a->in_busy_tk = tk;
            a->in_head += max;
        } else {
            max = 0;
        }
    }
    if (a->in_head == a->in_len) {
        a->in_head = a->in_len = 0;
        a->in_bytes = 0;
        drain_fd(a->in_fd);
    }
    pthread_mutex_unlock(&a->in_mu);
    *n = max;
    return out;
}

static void untake(struct agora *a) {
    pthread_mutex_lock(&a->in_mu);
    /* With several dispatching threads the oldest ticket stays until the last is done
     * (conservative: a commit waits a little longer). */
    if (--a->in_busy == 0) a->in_busy_tk = 0;
    pthread_mutex_unlock(&a->in_mu);
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
    if (n) untake(a);
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
        /* Handed over: consumed. */
        *ev = a->in_q[a->in_head++];
        a->in_bytes -= ag_event_bytes(ev);
        if (a->in_head == a->in_len) {
            a->in_head = a->in_len = 0;
            a->in_bytes = 0;
            drain_fd(a->in_fd);
        }
        rc = AGORA_OK;
    } else {
        rc = a->in_closed ? AGORA_ECLOSED : AGORA_ETIMEDOUT;
    }
    pthread_mutex_unlock(&a->in_mu);
    return rc;
}
