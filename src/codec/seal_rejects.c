/* seal_rejects.c — counting payloads that did not open, and deciding when to log them:
 * at most one line per cause per AG_SEAL_LOG_PERIOD_MS, saying how many were not
 * logged since, so a flood of forgeries cannot flood the log. */
#include "codec/seal.h"

bool ag_seal_reject(ag_seal_rejects *r, ag_seal_result cause, uint64_t now_ms,
                    uint64_t *suppressed) {
    if (cause <= AG_SEAL_OK || cause >= AG_SEAL_NCAUSES) cause = AG_SEAL_MALFORMED;
    r->count[cause]++;
    if (r->logged[cause] && now_ms - r->last_log_ms[cause] < AG_SEAL_LOG_PERIOD_MS) {
        r->suppressed[cause]++;
        return false;
    }
    *suppressed = r->suppressed[cause];
    r->suppressed[cause] = 0;
    r->last_log_ms[cause] = now_ms;
    r->logged[cause] = true;
    return true;
}

uint64_t ag_seal_rejected_total(const ag_seal_rejects *r) {
    uint64_t n = 0;
    for (int c = 0; c < AG_SEAL_NCAUSES; c++) n += r->count[c];
    return n;
}
