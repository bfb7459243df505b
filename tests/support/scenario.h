/* scenario.h — one test program, many named scenarios: `prog NAME` runs one (ctest
 * registers each on its own, so that a failure names it), `prog all` runs every one
 * in the table's order. */
#ifndef AG_TEST_SCENARIO_H
#define AG_TEST_SCENARIO_H

#include <stddef.h>

typedef struct ts_scenario {
    const char *name;
    void (*fn)(void);   /* its checks count in the test's failures */
    int (*fn_rc)(void); /* instead of fn: also returns nonzero when it could not run */
} ts_scenario;

/* Run the scenario named `which` ("all": each in turn), framed on stderr by "== NAME"
 * and "== NAME: ok|FAILED (N ms)". failures: the test's counter (check.h's, which is
 * private to each test file). Returns the exit status: 0 passed, 1 a check failed or
 * a scenario could not run, 2 no scenario has that name (the names are listed). */
int ts_run_scenarios(const ts_scenario *table, size_t count, const char *which,
                     const int *failures);

#define TS_COUNT(table) (sizeof(table) / sizeof((table)[0]))

#endif
