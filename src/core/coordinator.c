/* coordinator.c — agora_open / agora_close, the I/O thread, the host callbacks
 * offered to backends, logging and status. */
#include "core/coord.h"
#include "backend/registry.h"

#include "codec/wire.h"
#include "util/json.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_BATCH_LIMIT (256 * 1024)
/* agora_close: queued events get AGORA_CLOSE_FLUSH_MS (agora.h), then the leave
 * notice gets LEAVE_WAIT_MS; the rest of AGORA_CLOSE_MARGIN_MS is for stopping the
 * backend. */
#define LEAVE_WAIT_MS 300
_Static_assert(LEAVE_WAIT_MS < AGORA_CLOSE_MARGIN_MS / 2, "agora_close's margin is too small");

/* ---- logging ------------------------------------------------------------ */

static const char *level_name(agora_log_level l) {
    switch (l) {
    case AGORA_LOG_ERROR: return "error";
    case AGORA_LOG_WARN: return "warn";
    case AGORA_LOG_INFO: return "info";
    default: return "debug";
    }
}

__attribute__((format(printf, 3, 0))) static void vlog(struct agora *a, agora_log_level level, const char *fmt,
                                                     va_list ap) {
    agora_log_level max = a->opts.log_level == AGORA_LOG_DEFAULT ? AGORA_LOG_INFO : a->opts.log_level;
    if (level > max) return;
    char msg[1024];
    int n = a->observer ? snprintf(msg, sizeof msg, "observer: ")
                        : snprintf(msg, sizeof msg, "node %u: ", a->node_id);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    if (a->opts.on_log) {
        a->opts.on_log(level, msg, a->opts.on_log_user);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "%02d:%02d:%02d.%03ld agora %s: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
            ts.tv_nsec / 1000000L, level_name(level), msg);
}

void ag_log(struct agora *a, agora_log_level level, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog(a, level, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 4, 0))) static void vlog_limited(struct agora *a, ag_ratelimit *rl,
                                                              agora_log_level level,
                                                              const char *fmt, va_list ap) {
    uint64_t suppressed = 0;
    if (!ag_ratelimit_pass(rl, ag_now_ms(), &suppressed)) return;
    char msg[900], note[64];
    vsnprintf(msg, sizeof msg, fmt, ap);
    ag_log(a, level, "%s%s", msg, ag_ratelimit_note(note, sizeof note, suppressed));
}

void ag_log_limited(struct agora *a, ag_ratelimit *rl, agora_log_level level, const char *fmt,
                    ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog_limited(a, rl, level, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void host_log(ag_host *h, agora_log_level level,
                                                         const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog(h->core, level, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 4, 5))) static void host_log_limited(ag_host *h, ag_ratelimit *rl,
                                                                 agora_log_level level,
                                                                 const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vlog_limited(h->core, rl, level, fmt, ap);
    va_end(ap);
}

/* ---- host callbacks ------------------------------------------------------ */

static void host_set_connected(ag_host *h, bool connected, const char *server) {
    struct agora *a = h->core;
    pthread_mutex_lock(&a->st_mu);
    bool changed = a->connected != connected;
    a->connected = connected;
    if (server) snprintf(a->server, sizeof a->server, "%s", server);
    pthread_mutex_unlock(&a->st_mu);
    if (changed)
        ag_log(a, connected ? AGORA_LOG_INFO : AGORA_LOG_WARN, "%s backend %s%s%s",
               a->ops->name, connected ? "connected" : "disconnected", server ? ": " : "",
               server ? server : "");
}

/* The backend gave up for good (it logged why); the status says so from now on. */
static void host_fatal(ag_host *h, int code) {
    struct agora *a = h->core;
    pthread_mutex_lock(&a->st_mu);
    if (!a->failure) a->failure = code;
    a->connected = false;
    pthread_mutex_unlock(&a->st_mu);
}

/* Every payload gets a ticket; the events it yields carry it into the delivery queue
 * (dispatch.c), which tells the backend when the application has consumed them. */
static void deliver_ticketed(ag_host *h, const uint8_t *data, size_t len,
                             void (*deliver)(ag_host *, const uint8_t *, size_t)) {
    struct agora *a = h->core;
    uint64_t t = atomic_load_explicit(&a->rx_ticket, memory_order_relaxed);
    atomic_store_explicit(&a->rx_ticket, t + 1, memory_order_relaxed);
    a->rx_delivering = true;
    deliver(h, data, len);
    a->rx_delivering = false;
}

static void host_deliver(ag_host *h, const uint8_t *data, size_t len) {
    deliver_ticketed(h, data, len, ag_inbox_deliver);
}

/* A payload the backend opened itself (host->open): a ticket all the same. */
static void host_deliver_opened(ag_host *h, const uint8_t *data, size_t len) {
    deliver_ticketed(h, data, len, ag_inbox_deliver_opened);
}

static uint64_t host_last_ticket(ag_host *h) {
    return atomic_load_explicit(&((struct agora *)h->core)->rx_ticket, memory_order_relaxed);
}

static uint64_t host_consumed(ag_host *h) { return ag_dispatch_consumed(h->core); }

/* ---- the I/O thread ------------------------------------------------------ */

static void on_wake(ag_loop *l, int fd, unsigned ev, void *arg) {
    (void)l;
    (void)ev;
    struct agora *a = arg;
    uint64_t v;
    ssize_t r = read(fd, &v, sizeof v);
    (void)r;
    ag_outbox_pump(a);
}

static void on_tick(ag_loop *l, ag_timer *t, void *arg) {
    (void)l;
    (void)t;
    ag_members_heartbeat(arg);
}

static void on_check(ag_loop *l, ag_timer *t, void *arg) {
    (void)l;
    (void)t;
    ag_members_check(arg);
}

static void close_step(ag_loop *l, ag_timer *t, void *arg) {
    struct agora *a = arg;
    uint64_t now = ag_now_ms();
    if (a->close_phase == 1) {
        ag_outbox_pump(a);
        if (ag_outbox_idle(a) || now >= a->close_deadline_ms) {
            if (!ag_outbox_idle(a))
                ag_log(a, AGORA_LOG_WARN, "closing with events not yet delivered (flush deadline passed)");
            ag_members_send_leave(a);
            a->close_phase = 2;
            a->close_deadline_ms = now + LEAVE_WAIT_MS;
        }
        return;
    }
    /* Phase 2: give the goodbye a moment to leave (all control messages done). */
    bool pending = false;
    for (ag_outmsg *m = a->outstanding; m; m = m->next)
        if (m->inflight) pending = true;
    if (!pending || now >= a->close_deadline_ms) {
        ag_timer_stop(l, t);
        a->close_timer = NULL;
        ag_loop_stop(l);
    }
}

static void begin_close(ag_loop *l, void *arg) {
    struct agora *a = arg;
    a->close_phase = 1;
    uint64_t flush_ms = AGORA_CLOSE_FLUSH_MS;
    /* a backend may hold accepted messages longer than our default before it reports */
    if (a->cfg->type->flush_ms && a->cfg->type->flush_ms(a->cfg->backend) > flush_ms)
        flush_ms = a->cfg->type->flush_ms(a->cfg->backend);
    a->close_deadline_ms = ag_now_ms() + flush_ms;
    a->close_timer = ag_timer_start(l, 0, 5, close_step, a);
}

static void *io_main(void *arg) {
    struct agora *a = arg;
    ag_loop_run(a->loop);
    return NULL;
}

/* ---- open / close -------------------------------------------------------- */

/* A codec the configured backend cannot carry (the configuration was changed after
 * parsing): name the backends that can. */
static void codec_refusal(const agora_config *cfg, char *err, size_t errlen) {
    char names[256] = "";
    size_t off = 0;
    for (size_t i = 0; i < ag_backend_type_count(); i++) {
        const ag_backend_type *t = ag_backend_type_at(i);
        if (t->topology != AG_TOPOLOGY_BUS || !(t->codecs & AG_CODEC_BIT(cfg->codec))) continue;
        int w = snprintf(names + off, sizeof names - off, "%s%s", off ? ", " : "", t->name);
        if (w < 0 || (size_t)w >= sizeof names - off) break;
        off += (size_t)w;
    }
    snprintf(err, errlen, "codec: \"%s\" works with the broker backends only (%s); %s %s",
             cfg->codec == AG_CODEC_STALWART ? "stalwart" : "agora", names, cfg->type->name,
             cfg->type->codecs == AG_CODEC_BIT(AG_CODEC_AGORA)
                 ? "always speaks agora's native format"
                 : "does not carry it");
}

static uint64_t new_incarnation(void) {
    /* Time-ordered so that a restarted node's incarnation is larger than before;
     * random low bits keep two starts in the same millisecond apart. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    uint16_t r = 0;
    if (getrandom(&r, sizeof r, 0) != sizeof r) r = (uint16_t)getpid();
    return (ms << 16) | r;
}

static void free_agora(struct agora *a) {
    if (a->loop) ag_loop_free(a->loop);
    ag_outbox_free(a);
    ag_inbox_free(a);
    ag_members_free(a);
    ag_dispatch_free(a);
    ag_sealing_free(a);
    if (a->wakefd >= 0) close(a->wakefd);
    pthread_mutex_destroy(&a->mem_mu);
    pthread_mutex_destroy(&a->st_mu);
    free(a->scratch_hdr);
    agora_config_free(a->cfg);
    free(a);
}

/* Reserved space a later version may give meaning to must be zero today. */
static bool options_reserved_zero(const agora_options *o) {
    for (size_t i = 0; i < sizeof o->reserved / sizeof o->reserved[0]; i++)
        if (o->reserved[i]) return false;
    return true;
}

int agora_open(const agora_config *cfg, const agora_options *opts, agora_t **out, char *err,
               size_t errlen) {
    char dummy[8];
    if (!err) {
        err = dummy;
        errlen = sizeof dummy;
    }
    if (!cfg || !out) {
        snprintf(err, errlen, "agora_open: configuration and output handle are required");
        return AGORA_EINVAL;
    }
    *out = NULL;
    if (opts && !options_reserved_zero(opts)) {
        snprintf(err, errlen, "agora_open: agora_options.reserved must be zero (zero the "
                 "whole struct before setting fields)");
        return AGORA_EINVAL;
    }
    bool observer = opts && opts->observer;
    if (cfg->node_id < 0 && !observer) {
        snprintf(err, errlen, "node id is not set: give \"nodeId\" in the node file or --node-id");
        return AGORA_ECONFIG;
    }
    const ag_backend_ops *ops = ag_backend_ops_of(cfg->type);
    if (!ops) {
        snprintf(err, errlen, "this build of agora has no %s backend (its client library was "
                 "missing when agora was built)", cfg->type->name);
        return AGORA_ENOBACKEND;
    }
    if (!(cfg->type->codecs & AG_CODEC_BIT(cfg->codec))) {
        codec_refusal(cfg, err, errlen);
        return AGORA_ECONFIG;
    }
    struct agora *a = calloc(1, sizeof *a);
    if (!a) return AGORA_ENOMEM;
    a->wakefd = -1;
    a->in_fd = -1;
    pthread_mutex_init(&a->mem_mu, NULL);
    pthread_mutex_init(&a->st_mu, NULL);
    ag_outbox_init(a);
    ag_sealing_init(a);
    if (opts) a->opts = *opts;
    a->cfg = ag_config_clone(cfg);
    a->scratch_hdr = malloc(sizeof(ag_wire_header));
    int rc = AGORA_ENOMEM;
    if (!a->cfg || !a->scratch_hdr) goto fail;
    rc = ag_dispatch_init(a);
    if (rc) goto fail;
    a->observer = observer;
    a->node_id = observer ? 0 : (uint16_t)cfg->node_id; /* an observer has no id */
    a->opened_ms = ag_now_ms();
    a->incarnation = new_incarnation();
    a->codec = cfg->codec;
    a->ops = ops;
    a->batch_limit = ops->max_payload && ops->max_payload < DEFAULT_BATCH_LIMIT ? ops->max_payload
                                                                                : DEFAULT_BATCH_LIMIT;
    if (cfg->type->max_message && a->batch_limit > cfg->type->max_message(cfg->backend))
        a->batch_limit = cfg->type->max_message(cfg->backend);
    rc = ag_sealing_start(a, err, errlen);
    if (rc != AGORA_OK) goto fail;
    if (a->sealer) a->batch_limit -= AG_SEAL_OVERHEAD; /* the envelope must fit too */
    rc = AGORA_EIO;
    a->loop = ag_loop_new();
    a->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!a->loop || a->wakefd < 0) goto fail;
    ag_loop_add_fd(a->loop, a->wakefd, AG_READ, on_wake, a);

    a->host.loop = a->loop;
    a->host.cfg = a->cfg;
    a->host.node_id = a->node_id;
    a->host.observer = a->observer;
    a->host.incarnation = a->incarnation;
    a->host.deliver = host_deliver;
    a->host.deliver_from_thread = ag_inbox_deliver_from_thread;
    a->host.msg_done = ag_outbox_msg_done;
    a->host.resume = ag_outbox_resume;
    a->host.set_connected = host_set_connected;
    a->host.log = host_log;
    a->host.log_limited = host_log_limited;
    a->host.fatal = host_fatal;
    a->host.recv_position = ag_inbox_recv_position;
    a->host.peer_link = ag_members_peer_link;
    a->host.last_ticket = host_last_ticket;
    a->host.consumed = host_consumed;
    a->host.sealed = a->sealer != NULL;
    a->host.seal = ag_sealing_seal;
    a->host.open = ag_sealing_open;
    a->host.deliver_opened = host_deliver_opened;
    a->host.core = a;

    rc = ops->open(&a->host, &a->be, err, errlen);
    if (rc != AGORA_OK) {
        a->be = NULL;
        goto fail;
    }
    const char *adv = ops->local_address ? ops->local_address(a->be) : NULL;
    if (adv) {
        snprintf(a->self_address, sizeof a->self_address, "%s", adv);
    } else {
        char host[64] = "localhost";
        gethostname(host, sizeof host - 1);
        snprintf(a->self_address, sizeof a->self_address, "%s/%d", host, (int)getpid());
    }
    if (a->codec == AG_CODEC_AGORA) {
        /* Failure checks run more often than heartbeats so that a silent node is
         * reported close to failureTimeout after it was last heard, not a tick later. */
        uint64_t check = a->cfg->failure_timeout_ms / 20;
        if (check < 10) check = 10;
        if (check > a->cfg->heartbeat_interval_ms) check = a->cfg->heartbeat_interval_ms;
        a->tick_timer = ag_timer_start(a->loop, 0, a->cfg->heartbeat_interval_ms, on_tick, a);
        a->check_timer = ag_timer_start(a->loop, check, check, on_check, a);
    }
    /* The I/O thread never takes the application's signals: start it with every
     * signal blocked (it inherits the mask), then restore ours. */
    sigset_t all, old_mask;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old_mask);
    int prc = pthread_create(&a->thread, NULL, io_main, a);
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
    if (prc != 0) {
        snprintf(err, errlen, "cannot start the I/O thread: %s", strerror(errno));
        ops->close(a->be);
        rc = AGORA_EIO;
        goto fail;
    }
    a->thread_started = true;
    ag_log(a, AGORA_LOG_INFO, "started (%s backend, %s codec, incarnation %llu%s%s)", ops->name,
           a->codec == AG_CODEC_AGORA ? "agora" : "stalwart", (unsigned long long)a->incarnation,
           a->sealer ? ", sealed" : "", observer ? ", observing: never publishes" : "");
    if (cfg->type->topology == AG_TOPOLOGY_BUS && !a->sealer && !observer)
        ag_log(a, AGORA_LOG_WARN, "no \"secret\" set: anyone who can publish on %s can inject "
               "events%s (docs/sealing.md)", AGORA_TOPIC,
               a->codec == AG_CODEC_STALWART ? "; the stalwart codec cannot be sealed" : "");
    *out = a;
    return AGORA_OK;
fail:
    if (rc == AGORA_ENOMEM) snprintf(err, errlen, "out of memory");
    else if (rc == AGORA_EIO && !a->be && !*err) snprintf(err, errlen, "cannot create the event loop");
    free_agora(a);
    return rc;
}

void agora_close(agora_t *a) {
    if (!a) return;
    pthread_mutex_lock(&a->out_mu);
    a->closing = true;
    pthread_mutex_unlock(&a->out_mu);
    if (a->thread_started) {
        ag_loop_post(a->loop, begin_close, a);
        pthread_join(a->thread, NULL);
    }
    if (a->be) a->ops->close(a->be);
    a->be = NULL;
    ag_dispatch_close(a);
    ag_log(a, AGORA_LOG_INFO, "closed (%llu events out, %llu in)",
           (unsigned long long)atomic_load(&a->events_out), (unsigned long long)atomic_load(&a->events_in));
    free_agora(a);
}

uint16_t agora_node_id(const agora_t *a) { return a ? a->node_id : 0; }

/* ---- status -------------------------------------------------------------- */

typedef struct status_req {
    struct agora *a;
    agora_status st;
    bool done;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} status_req;

static void fill_backend_status(ag_loop *l, void *arg) {
    (void)l;
    status_req *r = arg;
    r->a->ops->status(r->a->be, &r->st);
    pthread_mutex_lock(&r->mu);
    r->done = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

int agora_get_status(agora_t *a, agora_status *st) {
    if (!a || !st) return AGORA_EINVAL;
    memset(st, 0, sizeof *st);
    pthread_mutex_lock(&a->st_mu);
    st->connected = a->connected;
    snprintf(st->server, sizeof st->server, "%s", a->server);
    int failure = a->failure;
    pthread_mutex_unlock(&a->st_mu);
    /* Backend details are read on the I/O thread, where the backend lives. */
    if (a->be && a->thread_started) {
        status_req *r = calloc(1, sizeof *r);
        if (r) {
            r->a = a;
            r->st = *st;
            pthread_mutex_init(&r->mu, NULL);
            pthread_cond_init(&r->cv, NULL);
            if (pthread_equal(pthread_self(), a->thread)) {
                a->ops->status(a->be, &r->st);
                r->done = true;
            } else {
                ag_loop_post(a->loop, fill_backend_status, r);
                struct timespec dl;
                clock_gettime(CLOCK_REALTIME, &dl);
                dl.tv_sec += 2;
                pthread_mutex_lock(&r->mu);
                while (!r->done)
                    if (pthread_cond_timedwait(&r->cv, &r->mu, &dl) != 0) break;
                pthread_mutex_unlock(&r->mu);
            }
            if (r->done) {
                *st = r->st;
                pthread_mutex_destroy(&r->mu);
                pthread_cond_destroy(&r->cv);
                free(r);
            } /* else: the loop still holds r; leaking it beats a use-after-free */
        }
    }
    snprintf(st->backend, sizeof st->backend, "%s", a->ops->name);
    st->failure = failure;
    if (failure) st->connected = false;
    pthread_mutex_lock(&a->out_mu);
    uint64_t queued = a->out_count - a->out_head;
    pthread_mutex_unlock(&a->out_mu);
    st->outbox_depth = queued + atomic_load(&a->outstanding_events);
    st->events_out = atomic_load(&a->events_out);
    st->events_in = atomic_load(&a->events_in);
    st->bytes_out = atomic_load(&a->bytes_out);
    st->bytes_in = atomic_load(&a->bytes_in);
    st->dropped = atomic_load(&a->dropped);
    st->duplicates = atomic_load(&a->duplicates);
    st->gaps = atomic_load(&a->gaps);
    st->decode_errors = atomic_load(&a->decode_errors);
    st->queue_depth = ag_dispatch_depth(a);
    st->queue_dropped = atomic_load(&a->in_dropped);
    st->notices = atomic_load(&a->notices);
    st->rejected = atomic_load(&a->rejected);
    st->replayed = atomic_load(&a->replayed);
    return AGORA_OK;
}

char *agora_status_to_json(const agora_status *st) {
    if (!st) return NULL;
    ag_buf b;
    ag_buf_init(&b);
    ag_buf_puts(&b, "{\"backend\":");
    ag_json_put_string(&b, st->backend, strlen(st->backend));
    ag_buf_printf(&b, ",\"connected\":%s,\"server\":", st->connected ? "true" : "false");
    ag_json_put_string(&b, st->server, strlen(st->server));
    ag_buf_printf(&b,
                  ",\"reconnects\":%llu,\"outboxDepth\":%llu,\"eventsOut\":%llu,\"eventsIn\":%llu,"
                  "\"bytesOut\":%llu,\"bytesIn\":%llu,\"dropped\":%llu,\"duplicates\":%llu,"
                  "\"gaps\":%llu,\"decodeErrors\":%llu,\"peers\":%u,\"queueDepth\":%llu,"
                  "\"queueDropped\":%llu,\"notices\":%llu,\"rejected\":%llu,"
                  "\"replayed\":%llu",
                  (unsigned long long)st->reconnects, (unsigned long long)st->outbox_depth,
                  (unsigned long long)st->events_out, (unsigned long long)st->events_in,
                  (unsigned long long)st->bytes_out, (unsigned long long)st->bytes_in,
                  (unsigned long long)st->dropped, (unsigned long long)st->duplicates,
                  (unsigned long long)st->gaps, (unsigned long long)st->decode_errors, st->peers,
                  (unsigned long long)st->queue_depth, (unsigned long long)st->queue_dropped,
                  (unsigned long long)st->notices, (unsigned long long)st->rejected,
                  (unsigned long long)st->replayed);
    /* only once the backend gave up, so the usual status reads as before */
    if (st->failure) {
        const char *why = agora_strerror(st->failure);
        ag_buf_puts(&b, ",\"failure\":");
        ag_json_put_string(&b, why, strlen(why));
    }
    ag_buf_puts(&b, "}");
    return ag_buf_take(&b);
}
