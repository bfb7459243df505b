/* outbox.c — the single place where unsent events wait.
 *
 * agora_publish encodes the event straight into out_buf under out_mu (no I/O) and
 * gives it the next sequence number. The I/O thread takes everything queued at once
 * and frames it into as few messages as the backend's size limit allows, so events
 * published while the previous send was in flight leave together (batching).
 * A message the backend could not deliver comes back to the front for retry, and
 * newer events wait behind it so that order per origin holds. When the outbox is
 * over either bound (outboxLimit events, outboxBytes encoded bytes) the oldest events
 * are dropped, counted and logged; their sequence numbers are spent, so receivers see
 * a Gap. */
#include "core/coord.h"

#include "codec/codec.h"
#include "codec/wire.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_INFLIGHT 8
#define RETRY_DELAY_MS 200
/* A publish that finds the outbox empty and comes at least this long after the previous
 * one is sent by the publishing thread itself when the I/O thread is idle: a trickle of
 * events then pays no thread wake-up on its way out. Closer publishes are a stream, left
 * to the I/O thread, which batches them. */
#define DIRECT_GAP_US 50
/* A copies_payload backend (a mesh with a resend ring) finishes a message as soon as it has written
 * it to every peer, normally within the same loop iteration. While the newest event
 * message is unfinished and younger than this, events published one at a time wait
 * for it (or for a quarter of a full message) and then leave together, instead of
 * leaving nearly one by one: each message costs the backend's resend ring a frame
 * header and an entry (about 80 bytes), and one-event messages under full load made
 * the ring's buffer double. The age bound keeps a peer that stopped reading (its
 * messages stay unfinished until it counts as lagging, up to a second) from holding
 * a trickle of events to the others for longer than this. */
#define HOLD_US 1000

int ag_outbox_init(struct agora *a) {
    pthread_mutex_init(&a->out_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->out_cv, &ca);
    pthread_condattr_destroy(&ca);
    ag_buf_init(&a->out_buf);
    a->next_seq = a->out_head_seq = a->done_seq = 1;
    return AGORA_OK;
}

static void outmsg_free(ag_outmsg *m) {
    if (!m) return;
    ag_buf_free(&m->buf);
    ag_buf_free(&m->plain);
    free(m);
}

void ag_outbox_free(struct agora *a) {
    ag_outmsg *m = a->outstanding;
    while (m) {
        ag_outmsg *n = m->next;
        outmsg_free(m);
        m = n;
    }
    a->outstanding = a->outstanding_tail = NULL;
    ag_buf_free(&a->spare_buf);
    ag_buf_free(&a->out_buf);
    free(a->out_lens);
    pthread_mutex_destroy(&a->out_mu);
    pthread_cond_destroy(&a->out_cv);
}

/* ---- application side ---------------------------------------------------- */

/* Drop the oldest queued events (out_mu held). */
static void drop_oldest(struct agora *a, size_t k) {
    size_t off = 0;
    for (size_t i = 0; i < k; i++) off += a->out_lens[a->out_head + i];
    a->out_head += k;
    a->out_head_off += off;
    a->out_head_seq += k;
    atomic_fetch_add(&a->dropped, k);
    uint64_t now = ag_now_ms();
    if (now - a->drop_log_ms > 1000 || a->drop_log_ms == 0) {
        a->drop_log_ms = now;
        /* connected is written by the backend's thread under st_mu (host_set_connected);
         * nesting st_mu inside out_mu is safe: st_mu is never held while taking another lock. */
        pthread_mutex_lock(&a->st_mu);
        bool connected = a->connected;
        pthread_mutex_unlock(&a->st_mu);
        ag_log(a, AGORA_LOG_WARN,
               "outbox full (bound %llu events, %llu bytes; backend %s): dropped the %zu "
               "oldest events (%llu so far); receivers will see a Gap",
               (unsigned long long)a->cfg->outbox_limit,
               (unsigned long long)a->cfg->outbox_bytes,
               connected ? "connected" : "disconnected", k,
               (unsigned long long)atomic_load(&a->dropped));
    }
}

/* Move the queued events (and their lengths) to the front of their buffers (out_mu held). */
static void move_queue_to_front(struct agora *a) {
    size_t live = a->out_count - a->out_head;
    memmove(a->out_lens, a->out_lens + a->out_head, live * sizeof *a->out_lens);
    memmove(a->out_buf.data, a->out_buf.data + a->out_head_off, a->out_buf.len - a->out_head_off);
    ag_buf_set_len(&a->out_buf, a->out_buf.len - a->out_head_off);
    a->out_count = live;
    a->out_head = 0;
    a->out_head_off = 0;
}

/* Move the live part of the queue to the front once the dead prefix is large. */
static void compact(struct agora *a) {
    if (a->out_head == 0 || a->out_head < a->out_count / 2) return;
    move_queue_to_front(a);
}

static int encode_event(struct agora *a, const agora_event *ev, char *err, size_t errlen) {
    if (a->codec == AG_CODEC_STALWART) return ag_stalwart_put_event(&a->out_buf, ev, err, errlen);
    return ag_native_put_event(&a->out_buf, ev, err, errlen);
}

/* Send what is queued on the application's thread. A backend's client library may
 * write on a socket whose peer is gone without MSG_NOSIGNAL (hiredis does): on this
 * thread that raises SIGPIPE, which kills a process that did not ignore it (the I/O
 * thread blocks every signal). So SIGPIPE is blocked meanwhile, and one that the
 * sends raised is taken back before it is unblocked. */
static void pump_on_caller_thread(struct agora *a) {
    sigset_t pipe_only, old_mask, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigpending(&pending);
    bool was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &old_mask);
    ag_outbox_pump(a);
    sigpending(&pending);
    if (!was_pending && sigismember(&pending, SIGPIPE)) {
        const struct timespec none = {0, 0};
        (void)sigtimedwait(&pipe_only, NULL, &none);
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
}

int agora_publish_many(agora_t *a, const agora_event *evs, size_t count) {
    if (!a || (!evs && count)) return AGORA_EINVAL;
    if (a->observer) return AGORA_EUNSUPPORTED; /* it only listens */
    char err[256];
    int rc = AGORA_OK;
    uint64_t now_us = ag_now_us();
    pthread_mutex_lock(&a->out_mu);
    if (a->closing) {
        pthread_mutex_unlock(&a->out_mu);
        return AGORA_ECLOSED;
    }
    bool direct = a->out_head == a->out_count && now_us - a->last_publish_us >= DIRECT_GAP_US;
    a->last_publish_us = now_us;
    for (size_t i = 0; i < count; i++) {
        if (a->out_count == a->out_cap) {
            compact(a);
            if (a->out_count == a->out_cap) {
                size_t n = a->out_cap ? a->out_cap * 2 : 1024;
                uint32_t *l = realloc(a->out_lens, n * sizeof *l);
                if (!l) {
                    rc = AGORA_ENOMEM;
                    break;
                }
                a->out_lens = l;
                a->out_cap = n;
            }
        }
        size_t before = a->out_buf.len; /* after compact(), which moves the buffer */
        rc = encode_event(a, &evs[i], err, sizeof err);
        if (rc == AGORA_OK && a->out_buf.oom) rc = AGORA_ENOMEM;
        if (rc == AGORA_OK && a->out_buf.len - before > a->batch_limit - 64) {
            snprintf(err, sizeof err, "%s event of %zu bytes exceeds the %zu bytes an event "
                     "may take (the backend's message limit)",
                     agora_event_type_name(evs[i].type), a->out_buf.len - before,
                     agora_max_event_size(a));
            rc = AGORA_EINVAL;
        }
        if (rc != AGORA_OK) {
            ag_buf_set_len(&a->out_buf, before);
            a->out_buf.oom = false;
            if (rc != AGORA_ENOMEM) ag_log(a, AGORA_LOG_DEBUG, "publish refused: %s", err);
            break;
        }
        a->out_lens[a->out_count++] = (uint32_t)(a->out_buf.len - before);
        if ((unsigned)evs[i].type < AGORA_EV_TYPE_COUNT)
            atomic_fetch_add_explicit(&a->ev_published[evs[i].type], 1, memory_order_relaxed);
        a->next_seq++;
        size_t queued = a->out_count - a->out_head;
        if (a->cfg->outbox_limit && queued > a->cfg->outbox_limit) {
            size_t k = queued - a->cfg->outbox_limit;
            size_t tenth = (size_t)(a->cfg->outbox_limit / 10);
            if (k < tenth) k = tenth ? tenth : 1;
            if (k > queued) k = queued;
            drop_oldest(a, k);
            queued -= k;
        }
        uint64_t qbytes = a->out_buf.len - a->out_head_off;
        if (a->cfg->outbox_bytes && qbytes > a->cfg->outbox_bytes && queued > 1) {
            /* Free a tenth of the bound beyond the excess (drops come in batches); the
             * event just queued stays. */
            uint64_t want = qbytes - a->cfg->outbox_bytes + a->cfg->outbox_bytes / 10;
            uint64_t freed = 0;
            size_t k = 0;
            while (k < queued - 1 && freed < want) freed += a->out_lens[a->out_head + k++];
            drop_oldest(a, k);
        }
    }
    bool queued = a->out_head < a->out_count;
    bool wake = queued && !direct && !a->wake_pending;
    if (wake) a->wake_pending = true;
    pthread_mutex_unlock(&a->out_mu);
    if (queued && direct) {
        if (ag_loop_try_enter(a->loop)) {
            /* The I/O thread is waiting: act as it (sends happen now, on this thread). */
            pump_on_caller_thread(a);
            ag_loop_leave(a->loop);
        } else {
            wake = true; /* it is busy (it will look at the outbox again) or not running */
        }
    }
    /* Wake the I/O thread only after unlocking: it takes out_mu at once, and waking
     * it while we still hold the lock costs it a futex sleep and us a futex wake. */
    if (wake) {
        uint64_t one = 1;
        ssize_t w = write(a->wakefd, &one, sizeof one);
        (void)w;
    }
    return rc;
}

int agora_publish(agora_t *a, const agora_event *ev) { return agora_publish_many(a, ev, 1); }

size_t agora_max_event_size(agora_t *a) { return a ? a->batch_limit - 64 : 0; }

/* ---- I/O thread side ----------------------------------------------------- */

static void link_outstanding(struct agora *a, ag_outmsg *m) {
    /* Appended: messages are linked in the order they are made, so the list is
     * oldest first and its event messages are in sequence order (a retry keeps its
     * place). No walk, however many are outstanding behind a slow peer. */
    m->next = NULL;
    m->prev = a->outstanding_tail;
    if (m->prev)
        m->prev->next = m;
    else
        a->outstanding = m;
    a->outstanding_tail = m;
    a->noutstanding++;
}

static void unlink_outstanding(struct agora *a, ag_outmsg *m) {
    if (m->prev)
        m->prev->next = m->next;
    else
        a->outstanding = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        a->outstanding_tail = m->prev;
    m->prev = m->next = NULL;
    a->noutstanding--;
}

/* Recompute done_seq: the lowest sequence still queued or outstanding. */
static void update_done(struct agora *a) {
    pthread_mutex_lock(&a->out_mu);
    uint64_t low = a->out_head < a->out_count ? a->out_head_seq : a->next_seq;
    for (ag_outmsg *m = a->outstanding; m; m = m->next)
        if (m->m.sequenced) { /* the first is the oldest (link_outstanding) */
            if (m->m.first_seq < low) low = m->m.first_seq;
            break;
        }
    if (low != a->done_seq) {
        a->done_seq = low;
        pthread_cond_broadcast(&a->out_cv);
    }
    pthread_mutex_unlock(&a->out_mu);
}

static void drop_message(struct agora *a, ag_outmsg *m);

/* Take queued events into one new message, or NULL if none. */
static ag_outmsg *take_message(struct agora *a) {
    pthread_mutex_lock(&a->out_mu);
    a->wake_pending = false;
    if (a->out_head == a->out_count) {
        pthread_mutex_unlock(&a->out_mu);
        return NULL;
    }
    size_t max_events = a->codec == AG_CODEC_STALWART ? AGORA_STALWART_MAX_EVENTS : SIZE_MAX;
    size_t n = 0, bytes = 0;
    while (a->out_head + n < a->out_count && n < max_events) {
        size_t l = a->out_lens[a->out_head + n];
        if (n > 0 && bytes + l > a->batch_limit - 64) break;
        bytes += l;
        n++;
    }
    ag_outmsg *m = calloc(1, sizeof *m);
    if (!m) {
        pthread_mutex_unlock(&a->out_mu);
        return NULL;
    }
    ag_buf_init(&m->buf);
    if (a->spare_buf.cap >= bytes + 32) { /* loop owner only: safe without a lock */
        m->buf = a->spare_buf;
        ag_buf_reset(&m->buf);
        ag_buf_init(&a->spare_buf);
    }
    ag_buf_reserve(&m->buf, bytes + 32);
    if (a->codec == AG_CODEC_STALWART)
        ag_buf_put_uvarint(&m->buf, a->node_id);
    else
        ag_wire_put_events_header(&m->buf, a->node_id, a->incarnation, a->out_head_seq, n);
    ag_buf_put(&m->buf, a->out_buf.data + a->out_head_off, bytes);
    m->m.sequenced = true;
    m->m.first_seq = a->out_head_seq;
    m->m.nevents = (uint32_t)n;
    a->out_head += n;
    a->out_head_off += bytes;
    a->out_head_seq += n;
    if (a->out_buf.len - a->out_head_off <= a->out_head_off) {
        /* What is left (often nothing) is no more than what was taken: move it to the
         * front (at most as many bytes as were just sent), so that a queue that seldom
         * empties (see HOLD_US) keeps to the beginning of its buffer instead of
         * wandering through all of it and keeping every page resident. */
        move_queue_to_front(a);
    }
    pthread_mutex_unlock(&a->out_mu);
    if (m->buf.oom) {
        outmsg_free(m);
        return NULL;
    }
    m->m.data = m->m.plain = m->buf.data;
    m->m.len = m->m.plain_len = m->buf.len;
    m->m.core = m;
    atomic_fetch_add(&a->outstanding_events, n);
    link_outstanding(a, m);
    if (a->sealer && ag_sealing_seal_msg(a, m) != 0) {
        ag_log(a, AGORA_LOG_ERROR, "cannot seal a message of %u events (out of memory); "
               "dropped", m->m.nevents);
        drop_message(a, m);
        return NULL;
    }
    return m;
}

/* The end of a hold-back (hold_timer) or of a retry delay (retry_timer): pump. */
static void pump_timer_cb(ag_loop *l, ag_timer *t, void *arg) {
    struct agora *a = arg;
    (void)l;
    ag_timer_stop(a->loop, t);
    if (a->hold_timer == t) a->hold_timer = NULL;
    if (a->retry_timer == t) a->retry_timer = NULL;
    ag_outbox_pump(a);
}

/* Whether queued events should wait for the unfinished event message (HOLD_US);
 * if so, a timer pumps again when the hold ends (msg_done also pumps). */
static bool hold_back(struct agora *a) {
    if (!a->ops->copies_payload || a->seq_inflight == 0) return false;
    uint64_t age = ag_now_us() - a->seq_offered_us;
    if (age >= HOLD_US) return false;
    pthread_mutex_lock(&a->out_mu);
    size_t queued = a->out_buf.len - a->out_head_off;
    pthread_mutex_unlock(&a->out_mu);
    if (queued == 0 || queued >= a->batch_limit / 4) return false; /* nothing to hold, or enough */
    if (!a->hold_timer)
        a->hold_timer = ag_timer_start(a->loop, (HOLD_US - age + 999) / 1000, 0, pump_timer_cb, a);
    return a->hold_timer != NULL; /* no timer (out of memory): do not hold */
}

/* The oldest outstanding message that waits for a retry, if any. */
static ag_outmsg *first_waiting(struct agora *a) {
    if (a->noutstanding == a->inflight) return NULL; /* all in flight: no walk */
    for (ag_outmsg *m = a->outstanding; m; m = m->next)
        if (!m->inflight) return m;
    return NULL;
}

/* Give up on a message: its events count as dropped (receivers will see a Gap). */
static void drop_message(struct agora *a, ag_outmsg *m) {
    if (m->m.sequenced) {
        atomic_fetch_add(&a->dropped, m->m.nevents);
        atomic_fetch_sub(&a->outstanding_events, m->m.nevents);
    }
    unlink_outstanding(a, m);
    outmsg_free(m);
    update_done(a);
}

/* Hand one message to the backend. Returns false when the backend is blocked. */
static bool offer(struct agora *a, ag_outmsg *m) {
    int rc = a->ops->publish(a->be, &m->m);
    if (rc == AGORA_EAGAIN) {
        a->backend_blocked = true;
        return false;
    }
    if (rc == AGORA_OK) {
        m->inflight = true;
        a->inflight++;
        if (!m->m.sequenced) return true;
        a->seq_inflight++;
        a->seq_offered_us = ag_now_us();
        if (a->ops->copies_payload) {
            /* The backend has its copy: keep the larger buffer for the next message. */
            if (m->buf.cap > a->spare_buf.cap) {
                ag_buf tmp = a->spare_buf;
                a->spare_buf = m->buf;
                m->buf = tmp;
            }
            ag_buf_free(&m->buf);
            m->m.data = m->m.plain = NULL;
        }
        return true;
    }
    ag_log(a, AGORA_LOG_ERROR, "the %s backend refused a message of %zu bytes: %s",
           a->ops->name, m->m.len, agora_strerror(rc));
    drop_message(a, m);
    return true;
}

void ag_outbox_pump(struct agora *a) {
    /* Control messages (heartbeats) do not count: they are offered apart from this
     * loop, and events must not wait for them. A copies_payload backend has no limit
     * here: it holds its copies and says EAGAIN when its peers fall behind, and its
     * messages stay unfinished while a peer that stopped reading is not yet counted
     * as lagging (up to a second), which must not stop events to the others. */
    while (!a->backend_blocked && (a->ops->copies_payload || a->seq_inflight < MAX_INFLIGHT)) {
        ag_outmsg *m = first_waiting(a);
        if (m) {
            uint64_t now = ag_now_ms();
            if (now < a->retry_at_ms) {
                if (!a->retry_timer)
                    a->retry_timer = ag_timer_start(a->loop, a->retry_at_ms - now, 0, pump_timer_cb, a);
                return;
            }
        } else {
            if (hold_back(a)) return;
            m = take_message(a);
            if (!m) return;
        }
        if (!offer(a, m)) return;
    }
}

void ag_outbox_msg_done(ag_host *h, ag_msg *msg, int status) {
    struct agora *a = h->core;
    ag_outmsg *m = msg->core;
    if (!m->inflight) return; /* defensive: a backend reported twice */
    m->inflight = false;
    a->inflight--;
    if (m->m.sequenced && --a->seq_inflight == 0 && a->hold_timer) {
        ag_timer_stop(a->loop, a->hold_timer); /* the pump below ends the hold */
        a->hold_timer = NULL;
    }
    if (status == AGORA_OK || !m->m.sequenced) {
        if (status == AGORA_OK) atomic_fetch_add(&a->bytes_out, m->m.len); /* heartbeats too */
        if (m->m.sequenced) {
            atomic_fetch_add(&a->events_out, m->m.nevents);
            atomic_fetch_sub(&a->outstanding_events, m->m.nevents);
        }
        unlink_outstanding(a, m);
        outmsg_free(m);
        update_done(a);
    } else if (!m->m.data) {
        /* A copies_payload backend broke its promise: the bytes are gone. */
        ag_log(a, AGORA_LOG_ERROR, "%s: a message of %u events was not delivered (%s); dropped",
               a->ops->name, m->m.nevents, agora_strerror(status));
        drop_message(a, m);
    } else {
        /* Keep it (it stays first in order) and try again shortly. */
        ag_log(a, status == AGORA_EAGAIN ? AGORA_LOG_DEBUG : AGORA_LOG_WARN,
               "%s: a message of %u events was not delivered (%s); retrying", a->ops->name,
               m->m.nevents, agora_strerror(status));
        a->retry_at_ms = ag_now_ms() + RETRY_DELAY_MS;
    }
    ag_outbox_pump(a);
}

void ag_outbox_resume(ag_host *h) {
    struct agora *a = h->core;
    a->backend_blocked = false;
    ag_outbox_pump(a);
}

bool ag_outbox_idle(struct agora *a) {
    pthread_mutex_lock(&a->out_mu);
    bool empty = a->out_head == a->out_count;
    pthread_mutex_unlock(&a->out_mu);
    for (ag_outmsg *m = a->outstanding; m; m = m->next)
        if (m->m.sequenced) return false;
    return empty;
}

int ag_outbox_send_control(struct agora *a, ag_buf *payload) {
    /* Offered even while event messages are held back: a node under sustained
     * backpressure must keep sending heartbeats or it would look dead. The backend
     * decides (a copies_payload backend always takes them). */
    ag_outmsg *m = calloc(1, sizeof *m);
    if (!m) return AGORA_ENOMEM;
    m->buf = *payload;
    ag_buf_init(payload);
    m->m.data = m->m.plain = m->buf.data;
    m->m.len = m->m.plain_len = m->buf.len;
    m->m.sequenced = false;
    m->m.core = m;
    if (a->sealer && ag_sealing_seal_msg(a, m) != 0) {
        outmsg_free(m);
        return AGORA_ENOMEM;
    }
    int rc = a->ops->publish(a->be, &m->m);
    if (rc != AGORA_OK) {
        if (rc == AGORA_EAGAIN) a->backend_blocked = true;
        outmsg_free(m);
        return rc;
    }
    m->inflight = true;
    a->inflight++;
    link_outstanding(a, m);
    return AGORA_OK;
}

int agora_flush(agora_t *a, int timeout_ms) {
    if (!a) return AGORA_EINVAL;
    struct timespec dl = ag_deadline(timeout_ms > 0 ? timeout_ms : 0);
    pthread_mutex_lock(&a->out_mu);
    uint64_t target = a->next_seq;
    int rc = AGORA_OK;
    while (a->done_seq < target) {
        if (timeout_ms == 0) {
            rc = AGORA_ETIMEDOUT;
            break;
        }
        if (timeout_ms < 0) {
            pthread_cond_wait(&a->out_cv, &a->out_mu);
        } else if (pthread_cond_timedwait(&a->out_cv, &a->out_mu, &dl) != 0) {
            rc = a->done_seq < target ? AGORA_ETIMEDOUT : AGORA_OK;
            break;
        }
    }
    pthread_mutex_unlock(&a->out_mu);
    return rc;
}
