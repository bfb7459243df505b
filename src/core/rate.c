/* rate.c — see rate.h. */
#include "core/rate.h"

#include <string.h>

/* Move the window to now's second, emptying the buckets it skips. */
static void advance(ag_rate *r, uint64_t now_ms) {
    uint64_t sec = now_ms / 1000;
    if (!r->start_ms) {
        r->start_ms = now_ms ? now_ms : 1;
        r->bucket_sec = sec;
        memset(r->bucket, 0, sizeof r->bucket);
        return;
    }
    if (sec <= r->bucket_sec) return;
    if (sec - r->bucket_sec >= AG_RATE_BUCKETS) {
        memset(r->bucket, 0, sizeof r->bucket);
    } else {
        for (uint64_t s = r->bucket_sec + 1; s <= sec; s++) r->bucket[s % AG_RATE_BUCKETS] = 0;
    }
    r->bucket_sec = sec;
}

void ag_rate_add(ag_rate *r, uint64_t now_ms, uint64_t n) {
    advance(r, now_ms);
    r->total += n;
    uint32_t *b = &r->bucket[r->bucket_sec % AG_RATE_BUCKETS];
    *b = n > UINT32_MAX - *b ? UINT32_MAX : *b + (uint32_t)n;
}

double ag_rate_per_sec(ag_rate *r, uint64_t now_ms) {
    if (!r->start_ms) return 0;
    advance(r, now_ms);
    uint64_t sum = 0;
    for (int i = 0; i < AG_RATE_BUCKETS; i++) sum += r->bucket[i];
    /* The buckets span nine whole seconds and the part of this one gone by; a count
     * that began more recently spans only its own age. */
    double span = (AG_RATE_BUCKETS - 1) + (double)(now_ms % 1000) / 1000.0;
    double age = (double)(now_ms - r->start_ms) / 1000.0;
    if (age < span) span = age;
    if (span < 1.0) span = 1.0;
    return (double)sum / span;
}
