/* bench_events.h — the events `agora bench` publishes: each carries its origin's
 * sequence number and the publish time (CLOCK_MONOTONIC ns) inside ordinary fields,
 * so the receiver can count losses and duplicates per origin and measure latency
 * without any side channel. */
#ifndef AG_BENCH_EVENTS_H
#define AG_BENCH_EVENTS_H

#include "agora.h"

#include <stdbool.h>
#include <stdint.h>

#define BEV_MAX_KINDS 8

/* The kinds to cycle through. */
typedef struct bev_mix {
    int nkinds;
    agora_event_type kinds[BEV_MAX_KINDS];
    char name[64];
} bev_mix;

/* Storage an event may point into (CacheInvalidate items); one per publisher thread. */
typedef struct bev_scratch {
    agora_cache_item items[3];
} bev_scratch;

/* Parse "state" (default), "mixed", or a comma list of state, email, cache, blockip,
 * calendar, registry. `stalwart` selects the Stalwart-readable variant of "mixed"
 * (CalendarAlert instead of agora's BlockIp). 0, or -1 with a message in err. */
int bev_mix_parse(const char *text, bool stalwart, bev_mix *mix, char *err, size_t errlen);

/* Fill ev (the i-th event of a publisher) carrying seq and ts. */
void bev_make(const bev_mix *mix, uint64_t i, uint64_t seq, uint64_t ts, agora_event *ev,
              bev_scratch *s);

/* Read seq and ts back; false for events that do not carry them. */
bool bev_probe(const agora_event *ev, uint64_t *seq, uint64_t *ts);

#endif
