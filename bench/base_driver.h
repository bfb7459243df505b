/* base_driver.h — the common part of the raw-client baselines (bench/base_*.c).
 *
 * A baseline is what a user would write with the client library alone: N "nodes",
 * each a publisher and a subscriber on "stwt.agora", sending one message per event
 * (or --batch events per message) whose payload has the same size as agora's
 * encoded event. The driver runs the same protocol as `agora bench` (warm-up
 * probes, flat out with a window or paced at --rate, drain) and prints the same
 * table / JSON through src/bench/bench_stats.c; a transport supplies only open,
 * publish, flush and close, and hands every received payload to bb_deliver.
 *
 * Record layout inside a payload (little endian), --size bytes each:
 *   origin:u16 seq:u32 publish_time_ns:u64 padding */
#ifndef BENCH_BASE_DRIVER_H
#define BENCH_BASE_DRIVER_H

#include "bench/bench_stats.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BB_MAX_NODES 64
#define BB_RECORD_MIN 14

typedef struct bb_node bb_node;

typedef struct bb_transport {
    const char *name;    /* "tcp", "redis", ... */
    const char *backend; /* the agora backend it stands beside: "PeerToPeer", ... */
    const char *options_help; /* lines for --help */
    /* Transport option: 1 = consumed (with value), 0 = not ours, -1 = bad value. */
    int (*option)(const char *opt, const char *val);
    /* Open node n (n->idx, bb_nodes()) and start receiving: every payload received
     * goes to bb_deliver(n, ...), from one thread per node. 0 or -1 with err. */
    int (*open)(bb_node *n, char *err, size_t errlen);
    /* Send one payload to the other nodes (the node's publisher thread). 0 or -1. */
    int (*publish)(bb_node *n, const uint8_t *data, size_t len);
    /* Push out anything buffered (the publisher is about to wait). May be NULL. */
    void (*flush)(bb_node *n);
    /* Stop receiving and free. */
    void (*close)(bb_node *n);
} bb_transport;

struct bb_node {
    int idx;
    void *impl; /* the transport's state */
    /* publish side */
    pthread_t thr;
    bool thr_started, failed, stalled;
    _Atomic uint64_t published;
    _Atomic bool pub_done;
    /* receive side (one thread) */
    bst_track tracks[BB_MAX_NODES];
    _Atomic uint64_t recv[BB_MAX_NODES];
    _Atomic bool heard[BB_MAX_NODES];
    _Atomic uint64_t delivered, last_ns, bytes;
    bst_hist hist;
};

int bb_nodes(void);
size_t bb_record_size(void);
/* A payload arrived at node n. */
void bb_deliver(bb_node *n, const uint8_t *data, size_t len);
/* Log a line on stderr, prefixed with the baseline's name. */
void bb_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The whole program: parse argv, run, print; returns the exit status. */
int bb_main(const bb_transport *t, int argc, char **argv);

#endif
