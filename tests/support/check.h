/* check.h — the C tests' assertion: a failed condition is reported with its file and
 * line, counted in `failures`, and the test carries on to report everything. */
#ifndef AG_TEST_CHECK_H
#define AG_TEST_CHECK_H

#include <stdio.h>

static int failures;
#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
            failures++;                                                                \
        }                                                                              \
    } while (0)

#endif
