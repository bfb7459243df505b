/* backoff.c — capped exponential backoff with downward jitter. */
#include "util/backoff.h"

#include "util/random.h"

uint64_t ag_backoff_delay(const ag_backoff *b, unsigned failures) {
    uint64_t min = b->min_ms ? b->min_ms : 1;
    uint64_t max = b->max_ms < min ? min : b->max_ms;
    uint64_t d = min;
    for (unsigned i = 0; i < failures && d < max; i++) d = d > max / 2 ? max : d * 2;
    unsigned pct = b->jitter_pct > 100 ? 100 : b->jitter_pct;
    uint64_t span = d / 100 * pct + d % 100 * pct / 100; /* d * pct / 100 without overflow */
    d -= ag_random_below(span + 1);
    return d ? d : 1;
}
