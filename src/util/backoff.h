/* backoff.h — the one reconnect backoff: capped exponential with jitter (internal).
 * Used by every backend that reconnects by itself (PeerToPeer dial targets, Redis
 * links, the NATS client's reconnect callback). */
#ifndef AG_BACKOFF_H
#define AG_BACKOFF_H

#include <stdint.h>

typedef struct ag_backoff {
    uint64_t min_ms;     /* the first delay (0 counts as 1) */
    uint64_t max_ms;     /* the cap: no delay is longer (raised to min_ms if below) */
    unsigned jitter_pct; /* up to this share (0..100) of the delay is taken off at
                          * random, so nodes restarted together do not reconnect in
                          * lockstep; taking off, never adding, keeps max_ms a cap */
} ag_backoff;

/* The delay before the next attempt after `failures` consecutive failed ones
 * (0: the first retry): min_ms * 2^failures, at most max_ms, less the jitter. The
 * result lies in [d - d * jitter_pct / 100, d] for that capped d, and is >= 1. */
uint64_t ag_backoff_delay(const ag_backoff *b, unsigned failures);

#endif
