/* check.h — the C tests' assertions: a failed condition is reported with its file and
 * line, counted in `failures`, and the test carries on to report everything.
 *
 *   CHECK(cond)            reports the condition's text
 *   CHECKF(cond, fmt, ...) also a printf-style note (which case, what was seen)
 *
 * A test that checks in a long loop may define CHECK_MAX_FAILURES before including
 * this header: it then exits with status 1 once more failures than that piled up. */
#ifndef AG_TEST_CHECK_H
#define AG_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

static int failures;

#ifdef CHECK_MAX_FAILURES
#define CHECK_FAILED_() (++failures > (CHECK_MAX_FAILURES) ? exit(1) : (void)0)
#else
#define CHECK_FAILED_() ((void)failures++)
#endif

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
            CHECK_FAILED_();                                                           \
        }                                                                              \
    } while (0)

#define CHECKF(cond, ...)                                                              \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond);   \
            fprintf(stderr, __VA_ARGS__);                                              \
            fputc('\n', stderr);                                                       \
            CHECK_FAILED_();                                                           \
        }                                                                              \
    } while (0)

#endif
