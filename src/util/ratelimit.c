/* ratelimit.c — one line per cause per period (ratelimit.h). */
#include "util/ratelimit.h"

#include <stdio.h>

bool ag_ratelimit_pass(ag_ratelimit *r, uint64_t now_ms, uint64_t *suppressed) {
    if (r->logged && now_ms - r->last_ms < AG_RATELIMIT_PERIOD_MS) {
        r->suppressed++;
        return false;
    }
    *suppressed = r->suppressed;
    r->suppressed = 0;
    r->last_ms = now_ms;
    r->logged = true;
    return true;
}

bool ag_ratelimit_due(ag_ratelimit *r, uint64_t now_ms, uint64_t *suppressed) {
    if (!r->suppressed || now_ms - r->last_ms < AG_RATELIMIT_PERIOD_MS) return false;
    *suppressed = r->suppressed;
    r->suppressed = 0;
    r->last_ms = now_ms;
    return true;
}

const char *ag_ratelimit_note(char *out, size_t n, uint64_t suppressed) {
    if (!suppressed)
        snprintf(out, n, "%s", "");
    else
        snprintf(out, n, " (%llu more suppressed)", (unsigned long long)suppressed);
    return out;
}
