/* scenario.c — run a test's scenarios by name. */
#include "scenario.h"

#include "proc.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int ts_run_scenarios(const ts_scenario *table, size_t count, const char *which,
                     const int *failures) {
    bool all = strcmp(which, "all") == 0, failed = false;
    int ran = 0;
    for (size_t i = 0; i < count; i++) {
        if (!all && strcmp(which, table[i].name) != 0) continue;
        fprintf(stderr, "== %s\n", table[i].name);
        int before = *failures;
        uint64_t t0 = ts_now_ms();
        int rc = 0;
        if (table[i].fn_rc) rc = table[i].fn_rc();
        else table[i].fn();
        bool ok = rc == 0 && *failures == before;
        fprintf(stderr, "== %s: %s (%llu ms)\n", table[i].name, ok ? "ok" : "FAILED",
                (unsigned long long)(ts_now_ms() - t0));
        if (!ok) failed = true;
        ran++;
    }
    if (!ran) {
        fprintf(stderr, "unknown scenario \"%s\"; known: all", which);
        for (size_t i = 0; i < count; i++) fprintf(stderr, " %s", table[i].name);
        fputc('\n', stderr);
        return 2;
    }
    return failed ? 1 : 0;
}
