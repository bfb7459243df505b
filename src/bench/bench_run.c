/* bench_run.c — `agora bench` step by step: prepare (configuration, mix, window),
 * start the nodes, warm up until every node hears every other, run the publishers
 * (progress, duration, drain), collect the counters, report. */
#include "bench/bench_node.h"
#include "bench/bench_run.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RELAXED memory_order_relaxed
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

static bool all_heard(bench *b) {
    for (int j = 0; j < b->nodes; j++)
        for (int i = 0; i < b->nodes; i++)
            if (i != j && !atomic_load_explicit(&b->n[j]->heard[i], RELAXED)) return false;
    return true;
}

static uint64_t total_published(bench *b) {
    uint64_t s = 0;
    for (int i = 0; i < b->nodes; i++) s += atomic_load_explicit(&b->n[i]->published, RELAXED);
    return s;
}

static uint64_t total_delivered(bench *b) {
    uint64_t s = 0;
    for (int i = 0; i < b->nodes; i++) s += atomic_load_explicit(&b->n[i]->delivered, RELAXED);
    return s;
}

static bool all_pub_done(bench *b) {
    for (int i = 0; i < b->publishers; i++)
        if (!atomic_load(&b->n[i]->pub_done)) return false;
    return true;
}

static bool all_delivered(bench *b) {
    for (int j = 0; j < b->nodes; j++)
        for (int i = 0; i < b->publishers; i++)
            if (i != j && atomic_load_explicit(&b->n[j]->recv[i], RELAXED) <
                              atomic_load_explicit(&b->n[i]->published, RELAXED))
                return false;
    return true;
}

static uint64_t bytes_in(agora_t *a) {
    agora_status st;
    if (agora_get_status(a, &st) != AGORA_OK) return 0;
    return st.bytes_in;
}

static void log_sink(agora_log_level level, const char *msg, void *user) {
    (void)user;
    static const char *names[] = {"", "error", "warn", "info", "debug"};
    fprintf(stderr, "agora %s: %s\n", names[level <= 4 ? level : 4], msg);
}

/* The outbox limit of the configuration, 0 if unknown. */
static uint64_t outbox_limit(const agora_config *cfg) {
    char *json = agora_config_get(cfg, "outboxLimit");
    uint64_t v = json ? strtoull(json, NULL, 10) : 0;
    free(json);
    return v;
}

/* Step 1: the base configuration (with --codec applied), the mix, the window.
 * NULL (message printed, *status set) on error. */
static agora_config *prepare(bench *b, const bench_options *o, int *status) {
    char err[2048] = "";
    agora_config *base = agora_config_load(o->config, err, sizeof err);
    *status = EXIT_USAGE;
    if (!base) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    if (o->codec) {
        char value[16];
        snprintf(value, sizeof value, "\"%s\"", o->codec);
        if (agora_config_set(base, "codec", value, err, sizeof err) != AGORA_OK) {
            bench_say("%s", err);
            agora_config_free(base);
            return NULL;
        }
    }
    bool stalwart = agora_config_codec(base) == AGORA_CODEC_STALWART;
    if (bev_mix_parse(o->mix, stalwart, &b->mix, err, sizeof err)) {
        bench_say("%s", err);
        agora_config_free(base);
        return NULL;
    }
    uint64_t limit = outbox_limit(base);
    b->window = o->window ? o->window : limit ? limit / 2 : 50000;
    if (b->window < b->batch) b->window = b->batch;
    return base;
}

/* Step 2: a coordinator per node (and with --delivery fd its dispatching thread).
 * EXIT_OK, or the exit status (message printed). */
static int start_nodes(bench *b, const agora_config *base, agora_log_level level) {
    for (int i = 0; i < b->nodes; i++) {
        bnode *n = calloc(1, sizeof *n);
        if (!n) return EXIT_FAIL;
        b->n[i] = n;
        n->b = b;
        n->idx = i;
        for (int o = 0; o < b->nodes; o++)
            if (bst_track_init(&n->tracks[o]) != 0) return EXIT_FAIL;
    }
    for (int i = 0; i < b->nodes; i++) {
        agora_config *c = bench_node_config(base, i, b->nodes);
        if (!c) return EXIT_FAIL;
        agora_options opts = {.on_event = bench_on_event,
                              .on_event_user = b->n[i],
                              .callbacks_on_io_thread = !b->fd_delivery,
                              .on_log = log_sink,
                              .log_level = level};
        char err[2048] = "";
        int orc = agora_open(c, &opts, &b->n[i]->a, err, sizeof err);
        agora_config_free(c);
        if (orc != AGORA_OK) {
            bench_say("node %d: %s", i + 1, err);
            return orc == AGORA_ECONFIG || orc == AGORA_ENOBACKEND ? EXIT_USAGE : EXIT_FAIL;
        }
    }
    for (int i = 0; b->fd_delivery && i < b->nodes; i++) {
        if (pthread_create(&b->n[i]->rx, NULL, bench_rx_main, b->n[i]) != 0) {
            bench_say("cannot start a dispatching thread");
            return EXIT_FAIL;
        }
        b->n[i]->rx_started = true;
    }
    return EXIT_OK;
}

/* Step 3: every node sends a probe (sequence 0) until every node has heard every
 * other one; this also waits out subscriptions and consumer-group joins. */
static bool warm_up(bench *b, uint64_t warmup_ms) {
    uint64_t t_warm = bst_now_ns();
    while (b->nodes > 1 && !all_heard(b)) {
        if (bst_now_ns() - t_warm > warmup_ms * 1000000ull) {
            bench_say("the nodes did not hear each other within %.1f s (is the server running? "
                      "are the ports free?)", (double)warmup_ms / 1000.0);
            return false;
        }
        for (int i = 0; i < b->nodes; i++) {
            agora_event ev;
            bev_scratch s;
            bev_make(&b->mix, 0, 0, bst_now_ns(), &ev, &s);
            agora_publish(b->n[i]->a, &ev);
        }
        bench_nap_us(100000);
    }
    /* Let the last probes and membership chatter settle before measuring. */
    bench_nap_us(200000);
    return true;
}

/* Step 4: the publishers, the progress line, the duration and the drain; fills the
 * memory and CPU figures of r. */
static void run_publishers(bench *b, const bench_options *o, bst_result *r) {
    r->rss_idle_kib = bst_rss_kib();
    for (int i = 0; i < b->nodes; i++) b->n[i]->bytes0 = bytes_in(b->n[i]->a);
    if (!o->quiet) {
        if (b->events)
            bench_say("publishing %" PRIu64 " events from each of %d nodes%s", b->events,
                      b->publishers, b->rate > 0 ? "" : ", flat out");
        else
            bench_say("publishing for %.1f s from each of %d nodes%s",
                      (double)b->duration_ms / 1000.0, b->publishers,
                      b->rate > 0 ? "" : ", flat out");
    }
    double cpu0 = bst_cpu_seconds();
    b->start_ns = bst_now_ns();
    for (int i = 0; i < b->publishers; i++) {
        if (pthread_create(&b->n[i]->thr, NULL, bench_pub_main, b->n[i]) != 0) {
            bench_say("cannot start a publisher thread");
            atomic_store(&b->stop, true);
            break;
        }
        b->n[i]->thr_started = true;
    }

    uint64_t target = b->events * (uint64_t)b->publishers;
    uint64_t last_tick = b->start_ns, last_deliv = 0, last_change = b->start_ns;
    uint64_t prev_total = 0;
    bool printed = false;
    for (;;) {
        bench_nap_us(50000);
        uint64_t now = bst_now_ns();
        double el = (double)(now - b->start_ns) / 1e9;
        uint64_t pub = total_published(b), del = total_delivered(b);
        if (del != prev_total) {
            prev_total = del;
            last_change = now;
        }
        if (!r->rss_start_kib &&
            (b->duration_ms ? el * 1000.0 >= (double)b->duration_ms / 10.0 : pub * 10 >= target))
            r->rss_start_kib = bst_rss_kib();
        if (b->duration_ms && el * 1000.0 >= (double)b->duration_ms) atomic_store(&b->stop, true);
        if (now - last_tick >= 1000000000ull) {
            double rn = (double)(del - last_deliv) / ((double)(now - last_tick) / 1e9);
            if (!o->quiet) {
                bst_progress(stderr, el, pub, del, rn, bst_rss_kib());
                printed = true;
            }
            last_tick = now;
            last_deliv = del;
        }
        if (all_pub_done(b)) {
            if (all_delivered(b)) break;
            if (now - last_change > o->drain_ms * 1000000ull) break;
        }
    }
    if (printed) bst_progress_end(stderr);
    atomic_store(&b->stop, true);
    for (int i = 0; i < b->publishers; i++)
        if (b->n[i]->thr_started) pthread_join(b->n[i]->thr, NULL);
    r->cpu_seconds = bst_cpu_seconds() - cpu0;
    r->rss_end_kib = bst_rss_kib();
    r->rss_peak_kib = bst_peak_rss_kib();
    if (!r->rss_start_kib) r->rss_start_kib = r->rss_end_kib;
    for (int i = 0; i < b->nodes; i++) b->n[i]->bytes1 = bytes_in(b->n[i]->a);
}

static void stop_rx(bench *b) {
    atomic_store(&b->rx_stop, true);
    for (int i = 0; i < b->nodes; i++) {
        if (b->n[i] && b->n[i]->rx_started) {
            pthread_join(b->n[i]->rx, NULL);
            b->n[i]->rx_started = false;
        }
    }
}

/* Close every node (then no callback touches the counters any more) and free them. */
static void close_nodes(bench *b) {
    stop_rx(b);
    for (int i = 0; i < b->nodes; i++) {
        if (b->n[i] && b->n[i]->a) {
            agora_close(b->n[i]->a);
            b->n[i]->a = NULL;
        }
    }
}

static void free_nodes(bench *b) {
    for (int i = 0; i < b->nodes; i++) {
        bnode *n = b->n[i];
        if (!n) continue;
        for (int o = 0; o < b->nodes; o++) bst_track_free(&n->tracks[o]);
        free(n);
        b->n[i] = NULL;
    }
}

/* Step 5: sum the nodes' counters into r. false if a publisher failed (said). */
static bool collect(bench *b, bst_result *r, uint64_t *gaps, uint64_t *stale) {
    uint64_t last = b->start_ns;
    bool ok = true;
    *gaps = *stale = 0;
    for (int i = 0; i < b->nodes; i++) {
        bnode *n = b->n[i];
        uint64_t p = atomic_load(&n->published);
        r->published += p;
        r->expected += p * (uint64_t)(b->nodes - 1);
        for (int o = 0; o < b->nodes; o++) {
            r->delivered += n->tracks[o].unique;
            r->duplicated += n->tracks[o].dup;
        }
        bst_hist_merge(&r->lat, &n->hist);
        uint64_t l = atomic_load(&n->last_ns);
        if (l > last) last = l;
        r->bytes += n->bytes1 - n->bytes0;
        *gaps += atomic_load(&n->gaps);
        *stale += atomic_load(&n->stale);
        if (n->pub_err) {
            bench_say("node %d: publish failed: %s", i + 1, agora_strerror(n->pub_err));
            ok = false;
        }
        if (n->stalled) {
            bench_say("node %d: its receivers made no progress for 30 s; publishing stopped",
                      i + 1);
            ok = false;
        }
    }
    r->lost = r->expected > r->delivered ? r->expected - r->delivered : 0;
    r->seconds = (double)(last - b->start_ns) / 1e9;
    return ok;
}

/* Step 6: the result on standard output, what went wrong on standard error. */
static bool report(const bench_options *o, const bst_result *r, uint64_t gaps, uint64_t stale) {
    if (o->json)
        bst_print_json(stdout, r);
    else
        bst_print_table(stdout, r);
    if (gaps) bench_say("receivers were told of %" PRIu64 " missed events (Gap)", gaps);
    if (stale)
        bench_say("ignored %" PRIu64 " events published before this run (a broker replaying an "
                  "earlier run)", stale);
    if (r->lost || r->duplicated) {
        bench_say("%" PRIu64 " events lost, %" PRIu64 " duplicated", r->lost, r->duplicated);
        return false;
    }
    return true;
}

int bench_run(const bench_options *o) {
    bench *b = calloc(1, sizeof *b);
    if (!b) return EXIT_FAIL;
    b->t0_ns = bst_now_ns();
    b->nodes = o->nodes;
    b->publishers = o->publishers < 0 || o->publishers > o->nodes ? o->nodes : o->publishers;
    b->events = o->events;
    b->duration_ms = o->duration_ms;
    b->rate = o->rate;
    b->batch = o->batch;
    b->fd_delivery = o->fd_delivery;

    int status;
    agora_config *base = prepare(b, o, &status);
    if (!base) {
        free(b);
        return status;
    }
    const char *backend_name = agora_config_type(base);
    agora_log_level level = o->quiet        ? AGORA_LOG_ERROR
                            : o->verbose > 1 ? AGORA_LOG_DEBUG
                            : o->verbose     ? AGORA_LOG_INFO
                                             : AGORA_LOG_WARN;
    status = start_nodes(b, base, level);
    if (status == EXIT_OK) {
        if (!o->quiet)
            bench_say("%d %s nodes started; waiting until they hear each other", b->nodes,
                      backend_name);
        status = warm_up(b, o->warmup_ms) ? EXIT_OK : EXIT_FAIL;
    }
    if (status == EXIT_OK) {
        bst_result r;
        memset(&r, 0, sizeof r);
        run_publishers(b, o, &r);
        close_nodes(b);
        r.tool = "agora";
        r.backend = backend_name;
        r.mix = b->mix.name;
        r.nodes = b->nodes;
        r.rate = b->rate;
        uint64_t gaps, stale;
        bool ok = collect(b, &r, &gaps, &stale);
        ok = report(o, &r, gaps, stale) && ok;
        status = ok ? EXIT_OK : EXIT_FAIL;
    }
    close_nodes(b);
    free_nodes(b);
    agora_config_free(base);
    free(b);
    return status;
}
