/* bench_stats.h — measurement pieces shared by `agora bench` and the raw-client
 * baselines in bench/ (which compile bench_stats.c too), so that both report the same
 * numbers computed the same way: a latency histogram, per-origin loss/duplicate
 * tracking, RSS readings, and the JSON object / table they print.
 * Plain libc only: no agora internals in here. */
#ifndef AG_BENCH_STATS_H
#define AG_BENCH_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* CLOCK_MONOTONIC in nanoseconds: one clock for every thread and process on the host,
 * so a timestamp taken by a publisher can be compared at a receiver. */
uint64_t bst_now_ns(void);
/* Sleep until an absolute CLOCK_MONOTONIC time (ns). */
void bst_sleep_until(uint64_t t_ns);

/* Flat-out flow control: a publisher at seq with k events to go, whose slowest
 * receiver has `received` of its events, may keep `window` unconfirmed. Returns the
 * new limit (publish while seq + k <= it), or 0 to wait. Once blocked at the edge it
 * goes on only when an eighth of the window is free, not at the first confirmed event,
 * or it would trickle out single events, each sent on its own (TCP's "silly window
 * syndrome"). */
uint64_t bst_window_room(uint64_t seq, uint64_t k, uint64_t received, uint64_t window);

/* ---- latency histogram: log-linear buckets, ~1.6% resolution, fixed size ---- */
#define BST_SUB_BITS 6
#define BST_SUB (1u << BST_SUB_BITS)
#define BST_BUCKETS ((64 - BST_SUB_BITS) * BST_SUB + BST_SUB)
typedef struct bst_hist {
    uint64_t n, max_ns, sum_ns;
    uint64_t counts[BST_BUCKETS];
} bst_hist;

void bst_hist_add(bst_hist *h, uint64_t ns);
void bst_hist_merge(bst_hist *dst, const bst_hist *src);
/* Value (ns) at quantile q in [0,1]; the max for q >= 1; 0 when empty. */
uint64_t bst_hist_quantile(const bst_hist *h, double q);

/* ---- per-origin receive tracking: unique and duplicated sequence numbers ----
 * Sequences start at 1. A sliding bitmap of BST_WINDOW sequences above the lowest
 * one not yet settled keeps memory fixed over long runs; an event arriving more than
 * BST_WINDOW behind the newest is counted as a duplicate (agora delivers in order
 * per origin, so this does not happen unless something is wrong). */
#define BST_WINDOW (1u << 18)
typedef struct bst_track {
    uint64_t base;      /* every seq < base is settled */
    uint64_t unique, dup, newest;
    uint64_t *bits;     /* BST_WINDOW bits, ring indexed by seq % BST_WINDOW */
} bst_track;

int bst_track_init(bst_track *t);
void bst_track_free(bst_track *t);
/* Record a sequence; returns true if it is new. */
bool bst_track_add(bst_track *t, uint64_t seq);

/* ---- memory ---- */
/* VmHWM (peak RSS) and VmRSS of this process in KiB (0 if unreadable). */
uint64_t bst_peak_rss_kib(void);
uint64_t bst_rss_kib(void);
uint64_t bst_pid_rss_kib(int pid);
/* Bytes the C heap has handed out and not taken back (glibc mallinfo2), in KiB: with
 * RSS it tells growth (both rise) from fragmentation (RSS rises alone). */
uint64_t bst_heap_kib(void);
/* User + system CPU time of this process so far, in seconds (all threads). */
double bst_cpu_seconds(void);

/* ---- results ---- */
typedef struct bst_result {
    const char *tool;      /* "agora" or the baseline's name */
    const char *backend;   /* "PeerToPeer", "Redis", ... */
    const char *mix;
    int nodes;
    double rate;           /* per publishing node, 0 = flat out */
    uint64_t published;    /* events published (all nodes) */
    uint64_t expected;     /* deliveries expected (published x receivers) */
    uint64_t delivered;    /* unique events delivered (all receivers) */
    uint64_t duplicated;
    uint64_t lost;
    uint64_t bytes;        /* payload bytes received by all receivers */
    double seconds;        /* first publish to last delivery */
    bst_hist lat;          /* all receivers merged */
    uint64_t rss_peak_kib, rss_idle_kib, rss_start_kib, rss_end_kib;
    double cpu_seconds;    /* process CPU time (user + system) spent during the run */
} bst_result;

/* One JSON object on one line: eventsPerSec, bytesPerSec, latencyUs {p50,p90,p99,
 * p999,max}, lost, duplicated, rssKiB, then descriptive extras. */
void bst_print_json(FILE *f, const bst_result *r);
/* A readable table. */
void bst_print_table(FILE *f, const bst_result *r);

/* The progress line: on a terminal rewritten in place, otherwise one line each time. */
void bst_progress(FILE *f, double secs, uint64_t published, uint64_t delivered,
                  double rate_now, uint64_t rss_kib);  /* also shows bst_heap_kib() */
void bst_progress_end(FILE *f);

/* Parse "1000", "10k", "1m"/"1M" (counts). -1 on error. */
int bst_parse_count(const char *s, uint64_t *out);
/* Durations: agora_parse_duration (agora.h). */

#endif
