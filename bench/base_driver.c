/* base_driver.c — see base_driver.h. Mirrors src/bench/bench_run.c step for step, so the
 * two differ only in what moves the bytes. */
#include "base_driver.h"

#include "agora.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RELAXED memory_order_relaxed

static const bb_transport *T;
static int nodes = 2, publishers = -1;
static uint64_t events, duration_ms, window = 50000, warmup_ms = 60000, drain_ms = 10000;
static double rate;
static size_t rec_size = 16, batch = 1;
static uint64_t start_ns, t0_ns;
static _Atomic bool stop;
static bb_node *N[BB_MAX_NODES];

int bb_nodes(void) { return nodes; }
size_t bb_record_size(void) { return rec_size; }

void bb_say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "base_%s: ", T ? T->name : "?");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void bb_deliver(bb_node *n, const uint8_t *data, size_t len) {
    uint64_t now = bst_now_ns();
    atomic_store_explicit(&n->bytes, atomic_load_explicit(&n->bytes, RELAXED) + len, RELAXED);
    for (size_t off = 0; off + rec_size <= len; off += rec_size) {
        uint16_t origin;
        uint32_t seq;
        uint64_t ts;
        memcpy(&origin, data + off, 2);
        memcpy(&seq, data + off + 2, 4);
        memcpy(&ts, data + off + 6, 8);
        int o = (int)origin - 1;
        if (o < 0 || o >= nodes || o == n->idx) continue; /* own echo: not ours to count */
        if (ts < t0_ns) continue; /* published before this run: a broker's replay */
        if (seq == 0) {
            atomic_store_explicit(&n->heard[o], true, RELAXED);
            continue;
        }
        if (!bst_track_add(&n->tracks[o], seq)) continue;
        bst_hist_add(&n->hist, now > ts ? now - ts : 0);
        atomic_store_explicit(&n->recv[o], n->tracks[o].unique, RELAXED);
        atomic_store_explicit(&n->delivered, atomic_load_explicit(&n->delivered, RELAXED) + 1,
                              RELAXED);
        atomic_store_explicit(&n->last_ns, now, RELAXED);
    }
}

static void put_record(uint8_t *p, int idx, uint32_t seq, uint64_t ts) {
    uint16_t origin = (uint16_t)(idx + 1);
    memcpy(p, &origin, 2);
    memcpy(p + 2, &seq, 4);
    memcpy(p + 6, &ts, 8);
}

static void nap_us(long us) {
    struct timespec ts = {.tv_sec = 0, .tv_nsec = us * 1000L};
    nanosleep(&ts, NULL);
}

static uint64_t min_recv(int o) {
    uint64_t m = UINT64_MAX / 2;
    for (int j = 0; j < nodes; j++) {
        if (j == o) continue;
        uint64_t v = atomic_load_explicit(&N[j]->recv[o], RELAXED);
        if (v < m) m = v;
    }
    return m;
}

static void *pub_main(void *arg) {
    bb_node *n = arg;
    uint8_t *buf = calloc(batch, rec_size);
    if (!buf) {
        n->failed = true;
        goto out;
    }
    double interval = rate > 0 ? 1e9 / rate : 0;
    uint64_t seq = 0, allowed = window, last_got = 0, stall_since = 0;
    while (!atomic_load_explicit(&stop, RELAXED)) {
        if (events && seq >= events) break;
        size_t k = batch;
        if (events && seq + k > events) k = (size_t)(events - seq);
        if (interval > 0) {
            uint64_t due = start_ns + (uint64_t)((double)seq * interval);
            if (bst_now_ns() < due) {
                if (T->flush) T->flush(n);
                bst_sleep_until(due);
            }
        }
        if (seq + k > allowed) {
            uint64_t got = min_recv(n->idx), room = bst_window_room(seq, k, got, window);
            if (!room) {
                if (T->flush) T->flush(n);
                uint64_t now = bst_now_ns();
                if (got != last_got || !stall_since) {
                    last_got = got;
                    stall_since = now;
                } else if (now - stall_since > 30000000000ull) {
                    n->stalled = true;
                    break;
                }
                nap_us(20);
                continue;
            }
            allowed = room;
        }
        uint64_t ts = bst_now_ns();
        for (size_t i = 0; i < k; i++) put_record(buf + i * rec_size, n->idx, (uint32_t)(seq + i + 1), ts);
        if (T->publish(n, buf, k * rec_size) != 0) {
            n->failed = true;
            break;
        }
        seq += k;
        atomic_store_explicit(&n->published, seq, RELAXED);
    }
    if (T->flush) T->flush(n);
out:
    free(buf);
    atomic_store(&n->pub_done, true);
    return NULL;
}

static bool all_heard(void) {
    for (int j = 0; j < nodes; j++)
        for (int i = 0; i < nodes; i++)
            if (i != j && !atomic_load_explicit(&N[j]->heard[i], RELAXED)) return false;
    return true;
}

static uint64_t sum_pub(void) {
    uint64_t s = 0;
    for (int i = 0; i < nodes; i++) s += atomic_load_explicit(&N[i]->published, RELAXED);
    return s;
}

static uint64_t sum_del(void) {
    uint64_t s = 0;
    for (int i = 0; i < nodes; i++) s += atomic_load_explicit(&N[i]->delivered, RELAXED);
    return s;
}

static bool pubs_done(void) {
    for (int i = 0; i < publishers; i++)
        if (!atomic_load(&N[i]->pub_done)) return false;
    return true;
}

static bool all_delivered(void) {
    for (int j = 0; j < nodes; j++)
        for (int i = 0; i < publishers; i++)
            if (i != j && atomic_load_explicit(&N[j]->recv[i], RELAXED) <
                              atomic_load_explicit(&N[i]->published, RELAXED))
                return false;
    return true;
}

static void usage(FILE *f) {
    fprintf(f,
            "Usage: base_%s [options]\n"
            "\n"
            "The raw-client baseline beside agora's %s backend: N nodes in this process,\n"
            "each publishing on and subscribing to \"stwt.agora\" with the client library\n"
            "alone, measured exactly as 'agora bench' measures (same JSON fields).\n"
            "\n"
            "Options:\n"
            "  --nodes N         nodes (default 2)\n"
            "  --events K        events per publishing node (default 100000; 10k, 1M)\n"
            "  --duration D      publish for D instead (\"30s\")\n"
            "  --rate R          events/s per publishing node (default flat out)\n"
            "  --publishers P    only nodes 1..P publish (default N)\n"
            "  --size S          bytes per event (default 16, at least %d)\n"
            "  --batch B         events per message (default 1)\n"
            "  --window W        flat-out limit of unconfirmed events (default 50000);\n"
            "                    at the limit, go on once an eighth of it is free\n"
            "  --warmup D        time allowed for the nodes to hear each other (60s)\n"
            "  --drain D         wait without progress before counting losses (10s)\n"
            "  --json            one JSON object instead of the table\n"
            "  -q                no progress line\n"
            "%s",
            T->name, T->backend, BB_RECORD_MIN, T->options_help ? T->options_help : "");
}

int bb_main(const bb_transport *t, int argc, char **argv) {
    T = t;
    t0_ns = bst_now_ns();
    bool json = false, quiet = false, have_events = false;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t u;
        if (!strcmp(o, "-h") || !strcmp(o, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(o, "--json")) {
            json = true;
            continue;
        }
        if (!strcmp(o, "-q")) {
            quiet = true;
            continue;
        }
        if (!v) {
            bb_say("unknown option or missing value: %s", o);
            return 2;
        }
        int ok = 0;
        if (!strcmp(o, "--nodes")) {
            ok = !bst_parse_count(v, &u) && u >= 1 && u <= BB_MAX_NODES;
            nodes = (int)u;
        } else if (!strcmp(o, "--publishers")) {
            ok = !bst_parse_count(v, &u) && u <= BB_MAX_NODES;
            publishers = (int)u;
        } else if (!strcmp(o, "--events")) {
            ok = !bst_parse_count(v, &events);
            have_events = true;
        } else if (!strcmp(o, "--duration")) {
            ok = agora_parse_duration(v, &duration_ms) == AGORA_OK && duration_ms > 0;
        } else if (!strcmp(o, "--rate")) {
            ok = !bst_parse_count(v, &u);
            rate = (double)u;
        } else if (!strcmp(o, "--size")) {
            ok = !bst_parse_count(v, &u) && u >= BB_RECORD_MIN && u <= 65536;
            rec_size = (size_t)u;
        } else if (!strcmp(o, "--batch")) {
            ok = !bst_parse_count(v, &u) && u >= 1 && u <= 4096;
            batch = (size_t)u;
        } else if (!strcmp(o, "--window")) {
            ok = !bst_parse_count(v, &window) && window > 0;
        } else if (!strcmp(o, "--warmup")) {
            ok = agora_parse_duration(v, &warmup_ms) == AGORA_OK;
        } else if (!strcmp(o, "--drain")) {
            ok = agora_parse_duration(v, &drain_ms) == AGORA_OK;
        } else {
            int r = t->option ? t->option(o, v) : 0;
            if (r == 0) {
                bb_say("unknown option %s (try --help)", o);
                return 2;
            }
            ok = r > 0;
        }
        if (!ok) {
            bb_say("bad value for %s: %s", o, v);
            return 2;
        }
        i++;
    }
    if (!have_events && !duration_ms) events = 100000;
    if (publishers < 0 || publishers > nodes) publishers = nodes;
    if (window < batch) window = batch;

    int rc = 1;
    char err[512] = "";
    for (int i = 0; i < nodes; i++) {
        N[i] = calloc(1, sizeof *N[i]);
        if (!N[i]) goto out;
        N[i]->idx = i;
        for (int o = 0; o < nodes; o++)
            if (bst_track_init(&N[i]->tracks[o])) goto out;
    }
    int opened = 0;
    for (int i = 0; i < nodes; i++) {
        if (t->open(N[i], err, sizeof err) != 0) {
            bb_say("node %d: %s", i + 1, err);
            goto close;
        }
        opened++;
    }
    if (!quiet) bb_say("%d nodes started; waiting until they hear each other", nodes);
    uint8_t *probe = calloc(1, rec_size);
    if (!probe) goto close;
    uint64_t t0 = bst_now_ns();
    while (nodes > 1 && !all_heard()) {
        if (bst_now_ns() - t0 > warmup_ms * 1000000ull) {
            bb_say("the nodes did not hear each other within %.1f s (is the server running?)",
                   (double)warmup_ms / 1000.0);
            free(probe);
            goto close;
        }
        for (int i = 0; i < nodes; i++) {
            put_record(probe, i, 0, bst_now_ns());
            t->publish(N[i], probe, rec_size);
            if (t->flush) t->flush(N[i]);
        }
        nap_us(100000);
    }
    free(probe);
    nap_us(200000);

    bst_result r;
    memset(&r, 0, sizeof r);
    r.rss_idle_kib = bst_rss_kib();
    uint64_t bytes0 = 0;
    for (int i = 0; i < nodes; i++) bytes0 += atomic_load(&N[i]->bytes);
    double cpu0 = bst_cpu_seconds();
    start_ns = bst_now_ns();
    for (int i = 0; i < publishers; i++) {
        if (pthread_create(&N[i]->thr, NULL, pub_main, N[i]) != 0) {
            atomic_store(&stop, true);
            break;
        }
        N[i]->thr_started = true;
    }
    uint64_t target = events * (uint64_t)publishers, last_tick = start_ns, last_del = 0;
    uint64_t last_change = start_ns, prev = 0;
    bool printed = false;
    for (;;) {
        nap_us(50000);
        uint64_t now = bst_now_ns();
        double el = (double)(now - start_ns) / 1e9;
        uint64_t pub = sum_pub(), del = sum_del();
        if (del != prev) {
            prev = del;
            last_change = now;
        }
        if (!r.rss_start_kib &&
            (duration_ms ? el * 1000.0 >= (double)duration_ms / 10.0 : pub * 10 >= target))
            r.rss_start_kib = bst_rss_kib();
        if (duration_ms && el * 1000.0 >= (double)duration_ms) atomic_store(&stop, true);
        if (now - last_tick >= 1000000000ull) {
            if (!quiet) {
                bst_progress(stderr, el, pub, del,
                             (double)(del - last_del) / ((double)(now - last_tick) / 1e9),
                             bst_rss_kib());
                printed = true;
            }
            last_tick = now;
            last_del = del;
        }
        if (pubs_done() && (all_delivered() || now - last_change > drain_ms * 1000000ull)) break;
    }
    if (printed) bst_progress_end(stderr);
    atomic_store(&stop, true);
    for (int i = 0; i < publishers; i++)
        if (N[i]->thr_started) pthread_join(N[i]->thr, NULL);
    r.cpu_seconds = bst_cpu_seconds() - cpu0;
    r.rss_end_kib = bst_rss_kib();
    r.rss_peak_kib = bst_peak_rss_kib();
    if (!r.rss_start_kib) r.rss_start_kib = r.rss_end_kib;
    uint64_t bytes1 = 0;
    for (int i = 0; i < nodes; i++) bytes1 += atomic_load(&N[i]->bytes);
    for (int i = 0; i < opened; i++) t->close(N[i]);
    opened = 0;

    char tool[64];
    snprintf(tool, sizeof tool, "base_%s", t->name);
    char mix[32];
    snprintf(mix, sizeof mix, "raw%zu", rec_size);
    r.tool = tool;
    r.backend = t->backend;
    r.mix = mix;
    r.nodes = nodes;
    r.rate = rate;
    r.bytes = bytes1 - bytes0;
    uint64_t last = start_ns;
    bool failed = false;
    for (int i = 0; i < nodes; i++) {
        bb_node *n = N[i];
        uint64_t p = atomic_load(&n->published);
        r.published += p;
        r.expected += p * (uint64_t)(nodes - 1);
        for (int o = 0; o < nodes; o++) {
            r.delivered += n->tracks[o].unique;
            r.duplicated += n->tracks[o].dup;
        }
        bst_hist_merge(&r.lat, &n->hist);
        uint64_t l = atomic_load(&n->last_ns);
        if (l > last) last = l;
        if (n->failed) {
            bb_say("node %d: publishing failed", i + 1);
            failed = true;
        }
        if (n->stalled) {
            bb_say("node %d: receivers made no progress for 30 s", i + 1);
            failed = true;
        }
    }
    r.lost = r.expected > r.delivered ? r.expected - r.delivered : 0;
    r.seconds = (double)(last - start_ns) / 1e9;
    if (json)
        bst_print_json(stdout, &r);
    else
        bst_print_table(stdout, &r);
    if (r.lost || r.duplicated) {
        bb_say("%" PRIu64 " events lost, %" PRIu64 " duplicated", r.lost, r.duplicated);
        failed = true;
    }
    rc = failed ? 1 : 0;
close:
    for (int i = 0; i < opened; i++) t->close(N[i]);
out:
    for (int i = 0; i < nodes; i++) {
        if (!N[i]) continue;
        for (int o = 0; o < nodes; o++) bst_track_free(&N[i]->tracks[o]);
        free(N[i]);
    }
    return rc;
}
