/* bench_run.h — the benchmark behind `agora bench`: N coordinators in this process,
 * each publishing, each measuring what it receives from the others. The command
 * parses its options into bench_options (src/cli/cli_bench.c); everything else is
 * here, on the public API only. */
#ifndef AG_BENCH_RUN_H
#define AG_BENCH_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_MAX_NODES 64
#define BENCH_MAX_BATCH 1024

typedef struct bench_options {
    const char *config;   /* node file or coordinator object */
    int nodes;            /* 1..BENCH_MAX_NODES */
    int publishers;       /* nodes 1..publishers publish; -1 = every node */
    uint64_t events;      /* per publishing node; 0 with duration_ms */
    uint64_t duration_ms; /* publish for this long instead; 0 with events */
    double rate;          /* events per second per publisher; 0 = flat out */
    const char *mix;      /* "state", "mixed" or a comma list (bench_events.h) */
    size_t batch;         /* events per agora_publish_many call, 1..BENCH_MAX_BATCH */
    uint64_t window;      /* flat-out unconfirmed events per publisher; 0 = half the
                             outbox limit */
    const char *codec;    /* "agora" / "stalwart" overrides the file's; NULL = keep */
    bool fd_delivery;     /* a thread per node polls agora_fd (else I/O-thread callbacks) */
    uint64_t warmup_ms;   /* how long the nodes may take to hear each other */
    uint64_t drain_ms;    /* after publishing: how long without progress before the
                             missing events count as lost */
    bool json;            /* the result as one JSON object (else a table) */
    bool quiet;           /* no progress line; agora logs errors only */
    int verbose;          /* agora logs: 0 warnings, 1 info, 2 debug */
} bench_options;

/* Run the benchmark and print its result on standard output (messages and progress
 * on standard error, "agora bench: ..."). Returns the exit status: 0 every event was
 * delivered exactly once to every other node, 1 losses, duplicates or a runtime
 * failure, 2 a bad configuration. */
int bench_run(const bench_options *o);

#endif
