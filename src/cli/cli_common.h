/* cli_common.h — what the node subcommands (serve, watch, publish, members) share:
 * option parsing, durations, loading the configuration, opening a node, signals. */
#ifndef AG_CLI_COMMON_H
#define AG_CLI_COMMON_H

#include "agora.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Walks argv. Options are "--name VALUE" or "--name=VALUE"; "--" ends them. */
typedef struct cli_args {
    const char *cmd; /* "watch": used in messages ("agora watch: ...") */
    int argc;
    char **argv;
    int i;           /* index of the argument being looked at */
    bool done;       /* "--" seen: the rest are operands */
    int status;      /* set to an exit status when parsing must stop */
} cli_args;

/* The options every node command takes. */
typedef struct cli_node_opts {
    const char *config; /* --config F */
    int node_id;        /* --node-id N, -1 = from the file */
    int codec;          /* --codec: -1 = from the file, else ag_codec_kind */
    int verbosity;      /* -v (+1 each) / -q (-1) */
    const char *listen; /* --listen HOST:PORT (PeerToPeer), NULL = from the file */
} cli_node_opts;

void cli_args_init(cli_args *a, const char *cmd, int argc, char **argv);

/* Does argv[a->i] name option `name`? If so, *val gets its value (advancing past a
 * separate value argument) and 1 is returned; 0 if it is another argument; -1 (with
 * a message and a->status = 2) if the value is missing. */
int cli_take(cli_args *a, const char *name, const char **val);

/* Is argv[a->i] the flag `name` (no value)? "--name=x" is reported as an error. */
bool cli_flag(cli_args *a, const char *name);

/* Try the common node options (--config, --node-id, --codec, --listen, -v, -q) at argv[a->i].
 * 1 = consumed, 0 = not one of them, -1 = error (message printed, a->status set). */
int cli_node_option(cli_args *a, cli_node_opts *o);

/* The arguments every node command treats alike: -h/--help (prints `help` and stops
 * with status 0), "--", and the common node options (cli_node_option).
 * 1 = consumed, 0 = not one of them, -1 = stop with a->status. */
int cli_common_arg(cli_args *a, cli_node_opts *o, const char *help);

/* Report an unknown option or unexpected operand at argv[a->i]; sets a->status. */
void cli_unknown(cli_args *a);

/* A log line in the library's style: "12:00:00.123 agora info: node N: MESSAGE". */
void cli_log(agora_log_level max, agora_log_level level, int node, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Print "agora CMD: MESSAGE" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse values of options; on error print "agora CMD: OPT: expected ..." and return -1. */
int cli_parse_duration(const char *cmd, const char *opt, const char *text, uint64_t *ms);
int cli_parse_uint(const char *cmd, const char *opt, const char *text, uint64_t max,
                   uint64_t *out);

/* Load --config, apply --node-id / --codec / --listen. NULL on error (every configuration
 * problem printed, one per line). Requires a node id. */
agora_config *cli_load_config(const char *cmd, const cli_node_opts *o);

/* The log level for the node's library logs: `base` moved by -v / -q. */
agora_log_level cli_log_level(const cli_node_opts *o, agora_log_level base);

/* agora_open with the command's messages. Returns 0, or the exit status to use. The
 * signals cli_signals_init catches are blocked while the I/O thread starts so that
 * they are always handled on the calling thread. */
int cli_open(const char *cmd, const agora_config *cfg, const agora_options *opts, agora_t **out);

/* Catch SIGINT and SIGTERM into a pipe (see cli_signal_fd), ignore SIGPIPE, and
 * put /dev/null on a closed descriptor 0, 1 or 2. Call before cli_open. */
int cli_signals_init(void);
/* A descriptor that becomes readable once SIGINT or SIGTERM arrived. */
int cli_signal_fd(void);
/* The signal caught so far (SIGINT / SIGTERM), or 0. */
int cli_signal_caught(void);

/* Monotonic and wall-clock time. */
uint64_t cli_now_ms(void);

/* Sleep up to ms, returning early (true) when a signal arrives. */
bool cli_wait_signal(int ms);

/* Number of other members currently alive in the view. */
int cli_alive_others(agora_t *a);

/* Wait (up to timeout_ms, or until a signal) until at least one other member is
 * alive. Returns the number of other members alive at the end. */
int cli_wait_members(agora_t *a, uint64_t timeout_ms);

/* Wait (up to timeout_ms, or until a signal) until at least `min_others` other
 * members are alive and the view (members, states, incarnations) has not changed
 * for stable_ms. Returns the number of other members alive at the end. */
int cli_wait_settled(agora_t *a, int min_others, uint64_t stable_ms, uint64_t timeout_ms);

/* How long the view must stay unchanged to count as settled: two heartbeats, at
 * least 500 ms. */
uint64_t cli_settle_window_ms(const agora_config *cfg);

/* Does this configuration have membership (heartbeats)? Not with the stalwart codec
 * (Stalwart's batches carry none) nor with the Disabled coordinator. */
bool cli_has_membership(const agora_config *cfg);

/* Write one line (text + "\n") to stdout and flush. false if stdout is gone. */
bool cli_put_line(const char *text);

#endif
