/* bench_node.c — see bench_node.h.
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
#include "bench/bench_node.h"

#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RELAXED memory_order_relaxed

void bench_say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("agora bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void bench_nap_us(long us) {
    struct timespec ts = {.tv_sec = 0, .tv_nsec = us * 1000L};
    nanosleep(&ts, NULL);
}

void bench_on_event(agora_t *a, const agora_event *ev, void *user) {
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

void *bench_pub_main(void *arg) {
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
                bench_nap_us(20);
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

void *bench_rx_main(void *arg) {
    bnode *n = arg;
    struct pollfd pf = {.fd = agora_fd(n->a), .events = POLLIN};
    while (!atomic_load_explicit(&n->b->rx_stop, RELAXED)) {
        if (poll(&pf, 1, 100) > 0) agora_dispatch(n->a, 0);
    }
    agora_dispatch(n->a, 0);
    return NULL;
}

/* ---- configuration per node -------------------------------------------- */

/* The first address of "coordinator.listen" (agora_config_get's JSON: a string or an
 * array of strings; addresses hold no escapes). */
static bool first_listen(const agora_config *c, char *out, size_t cap) {
    char *json = agora_config_get(c, "coordinator.listen");
    const char *q = json ? strchr(json, '"') : NULL;
    const char *e = q ? strchr(q + 1, '"') : NULL;
    bool ok = e && (size_t)(e - q - 1) < cap;
    if (ok) snprintf(out, cap, "%.*s", (int)(e - q - 1), q + 1);
    free(json);
    return ok;
}

/* Set one field; false (message printed) if the configuration refuses it. */
static bool set_field(agora_config *c, const char *path, const char *json) {
    char err[1024] = "";
    if (agora_config_set(c, path, json, err, sizeof err) == AGORA_OK) return true;
    bench_say("%s", *err ? err : "cannot change the configuration");
    return false;
}

agora_config *bench_node_config(const agora_config *base, int idx, int nodes) {
    agora_config *c = agora_config_clone(base);
    if (!c) return NULL;
    agora_config_set_node_id(c, (uint16_t)(idx + 1));
    if (strcmp(agora_config_type(c), "PeerToPeer") != 0) return c;
    char listen[300], host[260];
    uint16_t port = 0;
    if (!first_listen(c, listen, sizeof listen) ||
        agora_parse_address(listen, false, host, sizeof host, &port, NULL, 0) != AGORA_OK) {
        bench_say("coordinator.listen: expected \"host:port\" to derive the nodes' ports from");
        agora_config_free(c);
        return NULL;
    }
    if ((int)port + nodes - 1 > 65535) {
        bench_say("coordinator.listen: port %d + %d nodes goes past 65535", port, nodes);
        agora_config_free(c);
        return NULL;
    }
    const char *seed_host = !strcmp(host, "0.0.0.0") ? "127.0.0.1" : !strcmp(host, "[::]") ? "[::1]" : host;
    char addrs[300], seeds[300];
    snprintf(addrs, sizeof addrs, "[\"%s:%d\"]", host, port + idx);
    if (idx == 0) snprintf(seeds, sizeof seeds, "[]");
    else snprintf(seeds, sizeof seeds, "[\"%s:%d\"]", seed_host, port);
    /* advertise: back to its default, which follows listen */
    if (!set_field(c, "coordinator.listen", addrs) || !set_field(c, "coordinator.peers", seeds) ||
        !set_field(c, "coordinator.advertise", "null")) {
        agora_config_free(c);
        return NULL;
    }
    return c;
}
