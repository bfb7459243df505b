/* ratelimit.h — the one log rate limiter (internal): at most one line per cause per
 * period, and how many were held back. Whatever an outsider can trigger (a bad
 * connection, a forged or malformed message) is logged through one of these, so a
 * flood of them cannot flood the log. A limiter is not locked: it belongs to one
 * thread (or is used under its owner's lock). Zero-initialised means "never logged". */
#ifndef AG_RATELIMIT_H
#define AG_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AG_RATELIMIT_PERIOD_MS 10000

typedef struct ag_ratelimit {
    uint64_t last_ms;    /* when a line last went out (a cause's line or its summary) */
    uint64_t suppressed; /* occurrences held back since then */
    bool logged;
} ag_ratelimit;

/* The cause happened at now_ms. True when it may be logged now: *suppressed is then
 * how many were held back since the previous line (say so in this one). */
bool ag_ratelimit_pass(ag_ratelimit *r, uint64_t now_ms, uint64_t *suppressed);

/* For a periodic check: true (once) when a period has passed since the last line and
 * some were held back meanwhile; *suppressed is how many, to log as "N more
 * suppressed" so that a flood that stopped still gets its count told. */
bool ag_ratelimit_due(ag_ratelimit *r, uint64_t now_ms, uint64_t *suppressed);

/* " (N more suppressed)" for N > 0, else "": the suffix of a line
 * that passed. Returns out. */
const char *ag_ratelimit_note(char *out, size_t n, uint64_t suppressed);

#endif
