/* cli_bench.c — `agora bench`: N coordinators in this process, each publishing,
 * each measuring what it receives from the others.
 *
 * By default receivers use agora_options.callbacks_on_io_thread = true: the callback
 * runs on the node's own I/O thread the moment the event is decoded, so the latency
 * measured (publish call -> callback) is agora's own path, without a queue and thread
 * hop that belong to the bench. --delivery fd measures the path most applications use
 * instead: a thread per node polls agora_fd() and calls agora_dispatch(). Each event
 * carries its origin's sequence number and the publish time (bench_events.c); the
 * process-wide CLOCK_MONOTONIC makes the two ends comparable. Flat out, each
 * publisher keeps at most --window events unconfirmed by its slowest receiver, so the
 * outbox never overflows (what is measured is delivery, not the drop policy); at the
 * limit it waits for an eighth of the window, so that it does not trickle out one
 * event per confirmation. */
#include "cli/cli.h"

#include "agora.h"
#include "cli/bench_events.h"
#include "cli/bench_stats.h"
#include "backend/p2p/p2p_config.h"
#include "config/config.h"

#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_NODES 64
#define MAX_BATCH 1024

static const char bench_help[] =
    "NAME\n"
    "    agora bench - measure agora's throughput, latency, losses and memory\n"
    "\n"
    "SYNOPSIS\n"
    "    agora bench --config FILE --nodes N [--events K | --duration D] [--rate R]\n"
    "                [--mix M] [--publishers P] [--batch B] [--window W]\n"
    "                [--codec agora|stalwart] [--warmup D] [--drain D] [--json] [-q] [-v]\n"
    "\n"
    "DESCRIPTION\n"
    "    Starts N nodes inside this process (one coordinator each, from FILE, with node\n"
    "    ids 1..N), waits until every node hears every other one, then publishes from\n"
    "    each node, either K events or for the duration D, at R events per second per\n"
    "    node or as fast as possible, and measures at each receiver:\n"
    "\n"
    "      - events and bytes delivered per second (all receivers together; bytes are\n"
    "        the backend payloads received, framing and heartbeats included),\n"
    "      - end-to-end latency from the agora_publish call to the event callback:\n"
    "        p50, p90, p99, p99.9 and max, over every delivered event,\n"
    "      - lost and duplicated events, counted per origin from a sequence number\n"
    "        each event carries,\n"
    "      - the process's peak RSS (VmHWM), its RSS when idle (nodes joined, nothing\n"
    "        published), at 10% of the run and at the end (a flat run keeps the last\n"
    "        two close).\n"
    "\n"
    "    The publish time and sequence number travel inside ordinary event fields\n"
    "    (StateChange: changeId = publish time in CLOCK_MONOTONIC nanoseconds,\n"
    "    accountId = sequence). Receivers run their callback on agora's I/O thread\n"
    "    (agora_options.callbacks_on_io_thread), so no queue of the bench's own is\n"
    "    measured.\n"
    "\n"
    "    PeerToPeer: node i listens on the config's first listen port + i - 1 (same\n"
    "    host), node 1 has no seeds and every other node uses node 1 as its seed.\n"
    "    Broker backends (Redis, NATS, Kafka): every node uses the config as given;\n"
    "    the server must be running.\n"
    "\n"
    "    Flat out (no --rate), each publisher keeps at most W events that its slowest\n"
    "    receiver has not yet received (default: half the outbox limit), so the\n"
    "    outbox never overflows; latency then includes that much queueing. Measure\n"
    "    latency with --rate.\n"
    "\n"
    "    While it runs, a progress line goes to standard error every second. At the\n"
    "    end a table goes to standard output, or with --json a single JSON object:\n"
    "      {\"eventsPerSec\":..,\"bytesPerSec\":..,\"latencyUs\":{\"p50\":..,\"p90\":..,\n"
    "       \"p99\":..,\"p999\":..,\"max\":..},\"lost\":..,\"duplicated\":..,\"rssKiB\":..,\n"
    "       \"tool\":\"agora\",\"backend\":..,\"mix\":..,\"nodes\":..,\"rate\":..,\n"
    "       \"published\":..,\"delivered\":..,\"seconds\":..,\"rssIdleKiB\":..,\n"
    "       \"rssStartKiB\":..,\"rssEndKiB\":..,\"cpuSeconds\":..,\"cpuUsPerEvent\":..}\n"
    "    (cpuSeconds: the process's user + system CPU time during the run, all nodes\n"
    "    and threads together; it does not include a broker's own CPU.)\n"
    "\n"
    "OPTIONS\n"
    "    --config FILE       node file or coordinator object (see 'agora config --help')\n"
    "    --nodes N           nodes to start, 1-64 (default 2)\n"
    "    --events K          events each publishing node sends (default 100000;\n"
    "                        suffixes k, M: 10k, 1M)\n"
    "    --duration D        publish for D instead (\"30s\", \"10m\")\n"
    "    --rate R            events per second per publishing node (default: flat out)\n"
    "    --mix M             the kinds published, in turn: \"state\" (default,\n"
    "                        StateChange only), \"mixed\" (StateChange, EmailPush,\n"
    "                        CacheInvalidate, BlockIp; CalendarAlert instead of BlockIp\n"
    "                        with the stalwart codec), or a comma list of state, email,\n"
    "                        cache, blockip, calendar\n"
    "    --publishers P      only nodes 1..P publish; all N receive (default N)\n"
    "    --batch B           events per agora_publish_many call (default 1, max 1024)\n"
    "    --window W          flat-out limit of unconfirmed events per publisher\n"
    "                        (default: half the outbox limit); a publisher that\n"
    "                        reached it goes on once an eighth of it is free\n"
    "    --codec C           \"agora\" or \"stalwart\": override the file's codec\n"
    "    --delivery io|fd    io (default): the callback runs on agora's I/O thread;\n"
    "                        fd: a thread per node polls agora_fd() and calls\n"
    "                        agora_dispatch() (adds that wake-up to the latency)\n"
    "    --warmup D          how long nodes may take to hear each other (default 60s)\n"
    "    --drain D           after publishing, how long to wait without progress for\n"
    "                        missing events before counting them lost (default 10s)\n"
    "    --json              print the result as one JSON object\n"
    "    -q, --quiet         no progress line; agora logs errors only\n"
    "    -v, --verbose       agora logs at info level (default: warnings); twice: debug\n"
    "    -h, --help          show this help\n"
    "\n"
    "EXIT STATUS\n"
    "    0  every event was delivered exactly once to every other node\n"
    "    1  events were lost or duplicated, or the nodes never heard each other, or a\n"
    "       runtime failure\n"
    "    2  bad arguments or configuration\n"
    "\n"
    "EXAMPLES\n"
    "    agora bench --config examples/cluster/node1.json --nodes 2 --events 5M\n"
    "    agora bench --config p2p.json --nodes 2 --rate 10000 --duration 30s --json\n"
    "    agora bench --config nats.json --nodes 3 --mix mixed --duration 1m\n";

typedef struct bench bench;

typedef struct bnode {
    bench *b;
    int idx;
    agora_t *a;
    pthread_t thr;
    bool thr_started;
    pthread_t rx;          /* --delivery fd: the dispatching thread */
    bool rx_started;
    int pub_err;
    bool stalled;
    _Atomic uint64_t published; /* events published (= last seq) */
    _Atomic bool pub_done;
    /* receive side: written on this node's I/O thread only */
    bst_track tracks[MAX_NODES];
    _Atomic uint64_t recv[MAX_NODES]; /* unique events received per origin */
    _Atomic bool heard[MAX_NODES];
    _Atomic uint64_t delivered, last_ns, gaps, stale;
    bst_hist hist;
    uint64_t bytes0, bytes1;
} bnode;

struct bench {
    int nodes, publishers;
    uint64_t events;      /* per publishing node; 0 with --duration */
    uint64_t duration_ms;
    double rate;
    uint64_t window;
    size_t batch;
    bool fd_delivery;
    _Atomic bool rx_stop;
    bev_mix mix;
    uint64_t start_ns;
    uint64_t t0_ns; /* when this process began: anything published earlier is stale */
    _Atomic bool stop;
    bnode *n[MAX_NODES];
};

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("agora bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

#define RELAXED memory_order_relaxed

static void on_event(agora_t *a, const agora_event *ev, void *user) {
    (void)a;
    bnode *n = user;
    uint64_t now = bst_now_ns();
    if (ev->type == AGORA_EV_GAP) {
        atomic_fetch_add(&n->gaps, ev->u.gap.missed);
        return;
    }
    uint64_t seq, ts;
    if (!bev_probe(ev, &seq, &ts)) return;
    if (ts < n->b->t0_ns) {
        /* Published before this run began: a broker replaying an earlier run's tail
         * (Kafka consumer groups resume from their committed offsets). */
        atomic_fetch_add(&n->stale, 1);
        return;
    }
    int o = (int)ev->node - 1;
    if (o < 0 || o >= n->b->nodes || o == n->idx) return;
    if (seq == 0) {
        atomic_store_explicit(&n->heard[o], true, RELAXED);
        return;
    }
    if (!bst_track_add(&n->tracks[o], seq)) return;
    bst_hist_add(&n->hist, now > ts ? now - ts : 0);
    /* Single writer: plain stores, read by the publishers and the progress line. */
    atomic_store_explicit(&n->recv[o], n->tracks[o].unique, RELAXED);
    atomic_store_explicit(&n->delivered, atomic_load_explicit(&n->delivered, RELAXED) + 1, RELAXED);
    atomic_store_explicit(&n->last_ns, now, RELAXED);
}

/* The fewest events from origin o that any receiver has. */
static uint64_t min_recv(bench *b, int o) {
    uint64_t m = UINT64_MAX / 2;
    for (int j = 0; j < b->nodes; j++) {
        if (j == o) continue;
        uint64_t v = atomic_load_explicit(&b->n[j]->recv[o], RELAXED);
        if (v < m) m = v;
    }
    return m;
}

static void nap_us(long us) {
    struct timespec ts = {.tv_sec = 0, .tv_nsec = us * 1000L};
    nanosleep(&ts, NULL);
}

static void *pub_main(void *arg) {
    bnode *n = arg;
    bench *b = n->b;
    agora_event *evs = calloc(b->batch, sizeof *evs);
    bev_scratch *sc = calloc(b->batch, sizeof *sc);
    if (!evs || !sc) {
        n->pub_err = AGORA_ENOMEM;
        goto out;
    }
    double interval = b->rate > 0 ? 1e9 / b->rate : 0;
    uint64_t seq = 0, allowed = b->window, last_got = 0, stall_since = 0;
    while (!atomic_load_explicit(&b->stop, RELAXED)) {
        if (b->events && seq >= b->events) break;
        size_t k = b->batch;
        if (b->events && seq + k > b->events) k = (size_t)(b->events - seq);
        if (interval > 0) {
            uint64_t due = b->start_ns + (uint64_t)((double)seq * interval);
            if (bst_now_ns() < due) bst_sleep_until(due);
        }
        if (seq + k > allowed) {
            uint64_t got = min_recv(b, n->idx), room = bst_window_room(seq, k, got, b->window);
            if (!room) {
                uint64_t now = bst_now_ns();
                if (got != last_got || !stall_since) {
                    last_got = got;
                    stall_since = now;
                } else if (now - stall_since > 30000000000ull) {
                    n->stalled = true; /* receivers stopped progressing for 30 s */
                    break;
                }
                nap_us(20);
                continue;
            }
            allowed = room;
        }
        uint64_t ts = bst_now_ns();
        for (size_t i = 0; i < k; i++) bev_make(&b->mix, seq + i, seq + i + 1, ts, &evs[i], &sc[i]);
        int rc = k == 1 ? agora_publish(n->a, evs) : agora_publish_many(n->a, evs, k);
        if (rc != AGORA_OK) {
            n->pub_err = rc;
            break;
        }
        seq += k;
        atomic_store_explicit(&n->published, seq, RELAXED);
    }
out:
    free(evs);
    free(sc);
    atomic_store(&n->pub_done, true);
    return NULL;
}

/* --delivery fd: what an application with its own event loop does. */
static void *rx_main(void *arg) {
    bnode *n = arg;
    struct pollfd pf = {.fd = agora_fd(n->a), .events = POLLIN};
    while (!atomic_load_explicit(&n->b->rx_stop, RELAXED)) {
        if (poll(&pf, 1, 100) > 0) agora_dispatch(n->a, 0);
    }
    agora_dispatch(n->a, 0);
    return NULL;
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

/* ---- configuration per node -------------------------------------------- */

static int split_hostport(const char *s, char *host, size_t hl, int *port) {
    const char *c = strrchr(s, ':');
    if (!c || c == s) return -1;
    size_t n = (size_t)(c - s);
    if (n >= hl) return -1;
    memcpy(host, s, n);
    host[n] = 0;
    char *end;
    long p = strtol(c + 1, &end, 10);
    if (*end || p <= 0 || p > 65535) return -1;
    *port = (int)p;
    return 0;
}

static void strlist_set(ag_strlist *l, const char *one) {
    for (size_t i = 0; i < l->count; i++) free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->count = 0;
    if (!one) return;
    l->items = malloc(sizeof *l->items);
    if (!l->items) return;
    l->items[0] = strdup(one);
    l->count = l->items[0] ? 1 : 0;
}

static agora_config *node_config(const agora_config *base, int idx, int nodes) {
    agora_config *c = ag_config_clone(base);
    if (!c) return NULL;
    c->node_id = idx + 1;
    if (c->type != &ag_type_p2p) return c;
    ag_p2p_config *p = c->backend;
    char host[200];
    int port;
    if (p->listen.count == 0 || split_hostport(p->listen.items[0], host, sizeof host, &port) != 0) {
        say("coordinator.listen: expected \"host:port\" to derive the nodes' ports from");
        agora_config_free(c);
        return NULL;
    }
    if (port + nodes - 1 > 65535) {
        say("coordinator.listen: port %d + %d nodes goes past 65535", port, nodes);
        agora_config_free(c);
        return NULL;
    }
    char addr[256];
    snprintf(addr, sizeof addr, "%s:%d", host, port + idx);
    strlist_set(&p->listen, addr);
    const char *seed_host = !strcmp(host, "0.0.0.0") ? "127.0.0.1" : !strcmp(host, "[::]") ? "[::1]" : host;
    snprintf(addr, sizeof addr, "%s:%d", seed_host, port);
    strlist_set(&p->peers, idx == 0 ? NULL : addr);
    free(p->advertise);
    p->advertise = NULL;
    return c;
}

/* ---- the run --------------------------------------------------------------- */

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

int cli_bench(int argc, char **argv) {
    const char *config = NULL, *mix = "state", *codec = NULL;
    bench *b = calloc(1, sizeof *b);
    if (!b) return CLI_EXIT_FAIL;
    b->nodes = 2;
    b->batch = 1;
    b->t0_ns = bst_now_ns();
    uint64_t warmup_ms = 60000, drain_ms = 10000, window = 0;
    int publishers = -1;
    bool json = false, quiet = false, have_events = false;
    int verbose = 0;
    int rc = CLI_EXIT_USAGE;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t u;
#define NEED()                                                 \
    do {                                                       \
        if (!v) {                                              \
            say("%s needs a value (try --help)", o);           \
            goto done;                                         \
        }                                                      \
        i++;                                                   \
    } while (0)
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            fputs(bench_help, stdout);
            rc = CLI_EXIT_OK;
            goto done;
        } else if (!strcmp(o, "--config")) {
            NEED();
            config = v;
        } else if (!strcmp(o, "--nodes")) {
            NEED();
            if (bst_parse_count(v, &u) || u < 1 || u > MAX_NODES) {
                say("--nodes: expected 1 to %d", MAX_NODES);
                goto done;
            }
            b->nodes = (int)u;
        } else if (!strcmp(o, "--publishers")) {
            NEED();
            if (bst_parse_count(v, &u) || u > MAX_NODES) {
                say("--publishers: expected 0 to %d", MAX_NODES);
                goto done;
            }
            publishers = (int)u;
        } else if (!strcmp(o, "--events")) {
            NEED();
            if (bst_parse_count(v, &b->events)) {
                say("--events: expected a count such as 100000, 10k or 1M");
                goto done;
            }
            have_events = true;
        } else if (!strcmp(o, "--duration")) {
            NEED();
            if (bst_parse_duration_ms(v, &b->duration_ms) || b->duration_ms == 0) {
                say("--duration: expected a duration such as \"30s\" or \"10m\"");
                goto done;
            }
        } else if (!strcmp(o, "--rate")) {
            NEED();
            if (bst_parse_count(v, &u)) {
                say("--rate: expected events per second, such as 10000 or 10k");
                goto done;
            }
            b->rate = (double)u;
        } else if (!strcmp(o, "--mix")) {
            NEED();
            mix = v;
        } else if (!strcmp(o, "--batch")) {
            NEED();
            if (bst_parse_count(v, &u) || u < 1 || u > MAX_BATCH) {
                say("--batch: expected 1 to %d", MAX_BATCH);
                goto done;
            }
            b->batch = (size_t)u;
        } else if (!strcmp(o, "--window")) {
            NEED();
            if (bst_parse_count(v, &window) || window < 1) {
                say("--window: expected a positive count");
                goto done;
            }
        } else if (!strcmp(o, "--codec")) {
            NEED();
            if (strcmp(v, "agora") && strcmp(v, "stalwart")) {
                say("--codec: expected \"agora\" or \"stalwart\"");
                goto done;
            }
            codec = v;
        } else if (!strcmp(o, "--warmup")) {
            NEED();
            if (bst_parse_duration_ms(v, &warmup_ms)) {
                say("--warmup: expected a duration such as \"30s\"");
                goto done;
            }
        } else if (!strcmp(o, "--drain")) {
            NEED();
            if (bst_parse_duration_ms(v, &drain_ms)) {
                say("--drain: expected a duration such as \"10s\"");
                goto done;
            }
        } else if (!strcmp(o, "--delivery")) {
            NEED();
            if (strcmp(v, "io") && strcmp(v, "fd")) {
                say("--delivery: expected \"io\" or \"fd\"");
                goto done;
            }
            b->fd_delivery = !strcmp(v, "fd");
        } else if (!strcmp(o, "--json")) {
            json = true;
        } else if (!strcmp(o, "-q") || !strcmp(o, "--quiet")) {
            quiet = true;
        } else if (!strcmp(o, "-v") || !strcmp(o, "--verbose")) {
            verbose++;
        } else {
            say("unknown option '%s' (try --help)", o);
            goto done;
        }
#undef NEED
    }
    if (!config) {
        say("--config FILE is required (try --help)");
        goto done;
    }
    if (have_events && b->duration_ms) {
        say("give --events or --duration, not both");
        goto done;
    }
    if (!have_events && !b->duration_ms) b->events = 100000;
    b->publishers = publishers < 0 || publishers > b->nodes ? b->nodes : publishers;

    char err[2048];
    agora_config *base = agora_config_load(config, err, sizeof err);
    if (!base) {
        fprintf(stderr, "%s\n", err);
        goto done;
    }
    if (codec) base->codec = !strcmp(codec, "stalwart") ? AG_CODEC_STALWART : AG_CODEC_AGORA;
    if (bev_mix_parse(mix, base->codec == AG_CODEC_STALWART, &b->mix, err, sizeof err)) {
        say("%s", err);
        agora_config_free(base);
        goto done;
    }
    b->window = window ? window : base->outbox_limit ? base->outbox_limit / 2 : 50000;
    if (b->window < b->batch) b->window = b->batch;
    const char *backend_name = agora_config_type(base);

    /* Start the nodes. */
    rc = CLI_EXIT_FAIL;
    agora_log_level level = quiet ? AGORA_LOG_ERROR
                            : verbose > 1 ? AGORA_LOG_DEBUG
                            : verbose ? AGORA_LOG_INFO
                                      : AGORA_LOG_WARN;

    for (int i = 0; i < b->nodes; i++) {
        bnode *n = calloc(1, sizeof *n);
        if (!n) break;
        b->n[i] = n;
        n->b = b;
        n->idx = i;
        for (int o = 0; o < b->nodes; o++)
            if (bst_track_init(&n->tracks[o]) != 0) goto stop_nodes;
    }
    for (int i = 0; i < b->nodes; i++) {
        if (!b->n[i]) goto stop_nodes;
        agora_config *c = node_config(base, i, b->nodes);
        if (!c) goto stop_nodes;
        agora_options opts = {.on_event = on_event,
                              .on_event_user = b->n[i],
                              .callbacks_on_io_thread = !b->fd_delivery,
                              .on_log = log_sink,
                              .log_level = level};
        int orc = agora_open(c, &opts, &b->n[i]->a, err, sizeof err);
        agora_config_free(c);
        if (orc != AGORA_OK) {
            say("node %d: %s", i + 1, err);
            if (orc == AGORA_ECONFIG || orc == AGORA_ENOBACKEND) rc = CLI_EXIT_USAGE;
            goto stop_nodes;
        }
    }

    for (int i = 0; b->fd_delivery && i < b->nodes; i++) {
        if (pthread_create(&b->n[i]->rx, NULL, rx_main, b->n[i]) != 0) {
            say("cannot start a dispatching thread");
            goto stop_nodes;
        }
        b->n[i]->rx_started = true;
    }

    /* Warm up: every node sends a probe (sequence 0) until every node has heard every
     * other one; this also waits out subscriptions and consumer-group joins. */
    if (!quiet) say("%d %s nodes started; waiting until they hear each other", b->nodes, backend_name);
    uint64_t t_warm = bst_now_ns();
    while (b->nodes > 1 && !all_heard(b)) {
        if (bst_now_ns() - t_warm > warmup_ms * 1000000ull) {
            say("the nodes did not hear each other within %.1f s (is the server running? "
                "are the ports free?)", (double)warmup_ms / 1000.0);
            goto stop_nodes;
        }
        for (int i = 0; i < b->nodes; i++) {
            agora_event ev;
            bev_scratch s;
            bev_make(&b->mix, 0, 0, bst_now_ns(), &ev, &s);
            agora_publish(b->n[i]->a, &ev);
        }
        nap_us(100000);
    }
    /* Let the last probes and membership chatter settle before measuring. */
    nap_us(200000);

    bst_result r;
    memset(&r, 0, sizeof r);
    r.rss_idle_kib = bst_rss_kib();
    for (int i = 0; i < b->nodes; i++) b->n[i]->bytes0 = bytes_in(b->n[i]->a);
    if (!quiet) {
        if (b->events)
            say("publishing %" PRIu64 " events from each of %d nodes%s", b->events, b->publishers,
                b->rate > 0 ? "" : ", flat out");
        else
            say("publishing for %.1f s from each of %d nodes%s", (double)b->duration_ms / 1000.0,
                b->publishers, b->rate > 0 ? "" : ", flat out");
    }
    double cpu0 = bst_cpu_seconds();
    b->start_ns = bst_now_ns();
    for (int i = 0; i < b->publishers; i++) {
        if (pthread_create(&b->n[i]->thr, NULL, pub_main, b->n[i]) != 0) {
            say("cannot start a publisher thread");
            atomic_store(&b->stop, true);
            break;
        }
        b->n[i]->thr_started = true;
    }

    /* Progress, the duration, and the drain. */
    uint64_t target = b->events * (uint64_t)b->publishers;
    uint64_t last_tick = b->start_ns, last_deliv = 0, last_change = b->start_ns;
    uint64_t prev_total = 0;
    bool printed = false;
    for (;;) {
        nap_us(50000);
        uint64_t now = bst_now_ns();
        double el = (double)(now - b->start_ns) / 1e9;
        uint64_t pub = total_published(b), del = total_delivered(b);
        if (del != prev_total) {
            prev_total = del;
            last_change = now;
        }
        if (!r.rss_start_kib &&
            (b->duration_ms ? el * 1000.0 >= (double)b->duration_ms / 10.0 : pub * 10 >= target))
            r.rss_start_kib = bst_rss_kib();
        if (b->duration_ms && el * 1000.0 >= (double)b->duration_ms) atomic_store(&b->stop, true);
        if (now - last_tick >= 1000000000ull) {
            double rn = (double)(del - last_deliv) / ((double)(now - last_tick) / 1e9);
            if (!quiet) {
                bst_progress(stderr, el, pub, del, rn, bst_rss_kib());
                printed = true;
            }
            last_tick = now;
            last_deliv = del;
        }
        if (all_pub_done(b)) {
            if (all_delivered(b)) break;
            if (now - last_change > drain_ms * 1000000ull) break;
        }
    }
    if (printed) bst_progress_end(stderr);
    atomic_store(&b->stop, true);
    for (int i = 0; i < b->publishers; i++)
        if (b->n[i]->thr_started) pthread_join(b->n[i]->thr, NULL);
    r.cpu_seconds = bst_cpu_seconds() - cpu0;
    r.rss_end_kib = bst_rss_kib();
    r.rss_peak_kib = bst_peak_rss_kib();
    if (!r.rss_start_kib) r.rss_start_kib = r.rss_end_kib;
    for (int i = 0; i < b->nodes; i++) b->n[i]->bytes1 = bytes_in(b->n[i]->a);

    stop_rx(b);
    /* Close the nodes first: then no callback touches the counters any more. */
    for (int i = 0; i < b->nodes; i++) {
        agora_close(b->n[i]->a);
        b->n[i]->a = NULL;
    }

    r.tool = "agora";
    r.backend = backend_name;
    r.mix = b->mix.name;
    r.nodes = b->nodes;
    r.rate = b->rate;
    uint64_t last = b->start_ns, gaps = 0, stale = 0;
    bool failed = false;
    for (int i = 0; i < b->nodes; i++) {
        bnode *n = b->n[i];
        uint64_t p = atomic_load(&n->published);
        r.published += p;
        r.expected += p * (uint64_t)(b->nodes - 1);
        for (int o = 0; o < b->nodes; o++) {
            r.delivered += n->tracks[o].unique;
            r.duplicated += n->tracks[o].dup;
        }
        bst_hist_merge(&r.lat, &n->hist);
        uint64_t l = atomic_load(&n->last_ns);
        if (l > last) last = l;
        r.bytes += n->bytes1 - n->bytes0;
        gaps += atomic_load(&n->gaps);
        stale += atomic_load(&n->stale);
        if (n->pub_err) {
            say("node %d: publish failed: %s", i + 1, agora_strerror(n->pub_err));
            failed = true;
        }
        if (n->stalled) {
            say("node %d: its receivers made no progress for 30 s; publishing stopped", i + 1);
            failed = true;
        }
    }
    r.lost = r.expected > r.delivered ? r.expected - r.delivered : 0;
    r.seconds = (double)(last - b->start_ns) / 1e9;
    if (json)
        bst_print_json(stdout, &r);
    else
        bst_print_table(stdout, &r);
    if (gaps) say("receivers were told of %" PRIu64 " missed events (Gap)", gaps);
    if (stale)
        say("ignored %" PRIu64 " events published before this run (a broker replaying an "
            "earlier run)", stale);
    if (r.lost || r.duplicated) {
        say("%" PRIu64 " events lost, %" PRIu64 " duplicated", r.lost, r.duplicated);
        failed = true;
    }
    rc = failed ? CLI_EXIT_FAIL : CLI_EXIT_OK;

stop_nodes:
    stop_rx(b);
    for (int i = 0; i < b->nodes; i++) {
        bnode *n = b->n[i];
        if (!n) continue;
        if (n->a) agora_close(n->a);
        for (int o = 0; o < b->nodes; o++) bst_track_free(&n->tracks[o]);
        free(n);
    }
    agora_config_free(base);
done:
    free(b);
    return rc;
}
