/* rate.h — a count and its recent rate: events per second over about the last 10 s,
 * kept in ten one-second buckets aligned to the monotonic clock. Not thread-safe: the
 * owner's lock guards it. */
#ifndef AG_RATE_H
#define AG_RATE_H

#include <stdint.h>

#define AG_RATE_BUCKETS 10

typedef struct ag_rate {
    uint64_t total;                    /* everything counted since start */
    uint64_t start_ms;                 /* when counting began (0: not yet) */
    uint64_t bucket_sec;               /* the second the newest bucket counts */
    uint32_t bucket[AG_RATE_BUCKETS];  /* bucket[bucket_sec % AG_RATE_BUCKETS] is newest */
} ag_rate;

void ag_rate_add(ag_rate *r, uint64_t now_ms, uint64_t n);
/* Events per second over the last (up to) 10 seconds. */
double ag_rate_per_sec(ag_rate *r, uint64_t now_ms);

#endif
