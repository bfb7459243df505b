/* bench_node.h — one node of `agora bench` and what its threads do (internal to
 * src/bench/): the receive callback, the publisher thread, the dispatching thread of
 * --delivery fd, and each node's configuration. */
#ifndef AG_BENCH_NODE_H
#define AG_BENCH_NODE_H

#include "agora.h"
#include "bench/bench_events.h"
#include "bench/bench_run.h"
#include "bench/bench_stats.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

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
    bst_track tracks[BENCH_MAX_NODES];
    _Atomic uint64_t recv[BENCH_MAX_NODES]; /* unique events received per origin */
    _Atomic bool heard[BENCH_MAX_NODES];
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
    bnode *n[BENCH_MAX_NODES];
};

/* "agora bench: MESSAGE" on standard error. */
void bench_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void bench_nap_us(long us);

/* agora_options.on_event of every node (user = its bnode). */
void bench_on_event(agora_t *a, const agora_event *ev, void *user);

/* The publisher thread (arg = its bnode). */
void *bench_pub_main(void *arg);

/* --delivery fd: polls agora_fd and dispatches until b->rx_stop (arg = its bnode). */
void *bench_rx_main(void *arg);

/* Node idx's configuration (of `nodes`): node id idx + 1; PeerToPeer: listen on the
 * base port + idx, node 1 the others' seed. NULL (message printed) on error. */
agora_config *bench_node_config(const agora_config *base, int idx, int nodes);

#endif
