/* cli_common.h — what the subcommands share: option parsing (getopt_long with the
 * command's messages; every command), and for the node commands (serve, watch,
 * publish, members) durations, loading the configuration, opening a node, signals. */
#ifndef AG_CLI_COMMON_H
#define AG_CLI_COMMON_H

#include "agora.h"

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Option values for getopt_long's `val` beyond the short options' characters. */
enum {
    CLI_OPT_CONFIG = 0x100,
    CLI_OPT_NODE_ID,
    CLI_OPT_CODEC,
    CLI_OPT_LISTEN,
    CLI_OPT_OWN = 0x140 /* a command's own long options start here */
};

/* The short options and long options every node command takes (-h, -v, -q,
 * --config, --node-id, --codec, --listen); a command appends its own long options
 * and ends the table with {0}. */
#define CLI_NODE_SHORTOPTS ":hvq"
#define CLI_NODE_LONGOPTS                                                              \
    {"help", no_argument, NULL, 'h'}, {"verbose", no_argument, NULL, 'v'},             \
        {"quiet", no_argument, NULL, 'q'}, {"config", required_argument, NULL, CLI_OPT_CONFIG}, \
        {"node-id", required_argument, NULL, CLI_OPT_NODE_ID},                         \
        {"codec", required_argument, NULL, CLI_OPT_CODEC},                             \
        {"listen", required_argument, NULL, CLI_OPT_LISTEN}

/* The options every node command takes. */
typedef struct cli_node_opts {
    const char *config; /* --config F */
    int node_id;        /* --node-id N, -1 = from the file */
    const char *codec;  /* --codec "agora" | "stalwart", NULL = from the file */
    int verbosity;      /* -v (+1 each) / -q (-1) */
    const char *listen; /* --listen HOST:PORT (PeerToPeer), NULL = from the file */
    bool observer;      /* the command watches without joining: no node id needed */
} cli_node_opts;

/* getopt_long over argv with the command's messages: returns the next option's
 * `val`, -1 when the options end (operands start at optind), or '?' after printing
 * "agora CMD: ..." for an unknown option, a missing value or a value given to a
 * flag. `shortopts` must start with ':'. Set optind = 0 before the first call. */
int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts);

/* Handle `opt` (from cli_getopt, value `arg`) if it is one every node command takes:
 * -h/--help prints `help` and stops with 0; '?' stops with 2; the node options are
 * checked and stored in *o (a bad value stops with 2, message printed). Returns false
 * if opt is the command's own; otherwise true, with *stop set to the exit status
 * when the command must stop (else left alone). */
bool cli_node_option(const char *cmd, int opt, const char *arg, cli_node_opts *o,
                     const char *help, int *stop);

/* Report operands a command does not take ("unexpected argument 'X'"); -1 if there
 * are none, else the exit status 2. */
int cli_no_operands(const char *cmd, int argc, char **argv);

/* A log line in the library's style: "12:00:00.123 agora info: node N: MESSAGE". */
void cli_log(agora_log_level max, agora_log_level level, int node, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Print "agora CMD: MESSAGE" on stderr. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse values of options; on error print "agora CMD: OPT: expected ..." and return -1.
 * Durations follow agora_parse_duration: a bare number is milliseconds, "0" is 0
 * (what 0 means is each option's to say). */
int cli_parse_duration(const char *cmd, const char *opt, const char *text, uint64_t *ms);
int cli_parse_uint(const char *cmd, const char *opt, const char *text, uint64_t max,
                   uint64_t *out);

/* Load --config, apply --node-id / --codec / --listen. NULL on error (every configuration
 * problem printed, one per line). Requires a node id unless o->observer. */
agora_config *cli_load_config(const char *cmd, const cli_node_opts *o);

/* An observer has no id and no listen address: say that --node-id and --listen, when
 * given, change nothing (unless -q). */
void cli_observer_note(const char *cmd, const cli_node_opts *o);

/* The wall-clock time as RFC 3339 UTC with milliseconds ("2026-12-05T03:04:05.678Z"). */
void cli_rfc3339_now(char *buf, size_t len);

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
/* CLI_EXIT_GAVE_UP, after an error line saying why, when the backend gave up for good
 * (agora_status.failure); 0 while it runs. */
int cli_gave_up(const char *cmd, agora_t *a);
/* How long a command's poll() waits at most, so that it notices cli_gave_up. */
#define CLI_FAILURE_CHECK_MS 1000

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

/* A JSON string (quotes included), escaped as the library escapes its own output:
 * written to f, or returned malloc'ed (NULL when out of memory). */
void cli_put_json_string(FILE *f, const char *s);
char *cli_json_string(const char *s);

/* Write one line (text + "\n") to stdout and flush. false if stdout is gone. */
bool cli_put_line(const char *text);

#endif
