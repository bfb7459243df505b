/* cli_http.h — reading a node's admin endpoint (agora serve --http) for the
 * inspecting commands: members --from, status, top. */
#ifndef AG_CLI_HTTP_H
#define AG_CLI_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* Where to ask and how: --from, the token from --token-file, --timeout. */
typedef struct cli_http_target {
    const char *from;     /* HOST:PORT, or an http:// URL */
    char *token;          /* malloc'ed; NULL: none */
    uint64_t timeout_ms;
} cli_http_target;

/* Read the token file (first line, surrounding white space trimmed) into t->token.
 * 0, or -1 after printing "agora CMD: --token-file: ...". */
int cli_http_read_token(const char *cmd, const char *path, cli_http_target *t);
void cli_http_target_free(cli_http_target *t);

/* GET path; *body (malloc'ed, NUL-terminated) on a 200 answer. Returns 0, or -1 after
 * printing why on stderr as "agora CMD: ..." (unreachable, or the node's error). */
int cli_http_get(const char *cmd, const cli_http_target *t, const char *path, char **body);

#endif
