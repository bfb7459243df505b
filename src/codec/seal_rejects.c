/* seal_rejects.c — counting payloads that did not open, and deciding when to log them:
 * one line per cause per AG_RATELIMIT_PERIOD_MS at most, saying how many were not
 * logged since, so a flood of forgeries cannot flood the log. */
#include "codec/seal.h"

bool ag_seal_reject(ag_seal_rejects *r, ag_seal_result cause, uint64_t now_ms,
                    uint64_t *suppressed) {
    if (cause <= AG_SEAL_OK || cause >= AG_SEAL_NCAUSES) cause = AG_SEAL_MALFORMED;
    r->count[cause]++;
    return ag_ratelimit_pass(&r->log[cause], now_ms, suppressed);
}

uint64_t ag_seal_rejected_total(const ag_seal_rejects *r) {
    uint64_t n = 0;
    for (int c = 0; c < AG_SEAL_NCAUSES; c++) n += r->count[c];
    return n;
}
