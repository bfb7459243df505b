/* cli_inspect.h — the commands that read a node's admin endpoint instead of joining
 * (members --from, status, top): their shared options and answers. */
#ifndef AG_CLI_INSPECT_H
#define AG_CLI_INSPECT_H

#include "cli/cli_http.h"
#include "util/json.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct inspect_opts {
    cli_http_target t;
    bool json;            /* --json, or stdout is not a terminal */
    uint64_t interval_ms; /* top: --interval */
    uint64_t count;       /* top: --count (0 = until stopped) */
} inspect_opts;

/* Parse the options (--from, --token-file, --timeout, --json; with `top`, also
 * --interval and --count). Returns -1 to go on, else the exit status (help printed,
 * or a usage error). */
int inspect_parse(const char *cmd, int argc, char **argv, const char *help, bool top,
                  inspect_opts *o);

/* GET path and parse it as a JSON object. NULL after printing why. */
ag_json *inspect_get_json(const char *cmd, const inspect_opts *o, const char *path);

/* Members of an answer, with defaults for absent ones. */
double inspect_num(const ag_json *obj, const char *key);
const char *inspect_str(const ag_json *obj, const char *key);

#endif
