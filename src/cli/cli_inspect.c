/* cli_inspect.c — `agora status --from` and `agora members --from`: read a running
 * node's admin endpoint (agora serve --http) without joining the cluster; a table on
 * a terminal, the endpoint's JSON otherwise. */
#include "cli/cli_inspect.h"

#include "cli/cli.h"
#include "cli/cli_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The options after --from and the exit statuses, the same for status and members. */
#define INSPECT_COMMON_HELP \
    "    --token-file F     read the bearer token (the node's \"httpToken\") from F\n" \
    "    --json             print JSON even on a terminal\n" \
    "    --timeout D        give up on the node after D (default 5s)\n" \
    "    -h, --help         show this help\n" \
    "\n" \
    "EXIT STATUS\n" \
    "    0  printed\n" \
    "    1  the node could not be reached, or answered an error (the reason on stderr)\n" \
    "    2  bad arguments\n" \
    "\n"

static const char status_help[] =
    "NAME\n"
    "    agora status - show a running node's status, read from its admin endpoint\n"
    "\n"
    "SYNOPSIS\n"
    "    agora status --from HOST:PORT [--token-file F] [--json] [--timeout D]\n"
    "\n"
    "DESCRIPTION\n"
    "    Reads GET /api/status from the admin endpoint of a node started with 'agora\n"
    "    serve --http HOST:PORT' and prints it: the backend, whether it is connected,\n"
    "    peers, outbox and delivery-queue depth, every counter (events and bytes in\n"
    "    and out, gaps, duplicates, drops, rejected and replayed messages) and the\n"
    "    events per type. It does not join the cluster: nobody sees it.\n"
    "    On a terminal it prints a table; with --json, or when standard output is not\n"
    "    a terminal, the endpoint's JSON object as one line (docs/admin.md).\n"
    "\n"
    "OPTIONS\n"
    "    --from HOST:PORT   the node's admin endpoint (required)\n"
    INSPECT_COMMON_HELP
    "EXAMPLES\n"
    "    agora status --from 127.0.0.1:9911\n"
    "    agora status --from 10.0.0.3:9911 --token-file /etc/agora/token | jq .status\n";

static const char members_from_help[] =
    "NAME\n"
    "    agora members --from - show a running node's membership view\n"
    "\n"
    "SYNOPSIS\n"
    "    agora members --from HOST:PORT [--token-file F] [--json] [--timeout D]\n"
    "\n"
    "DESCRIPTION\n"
    "    Reads GET /api/members from the admin endpoint of a node started with 'agora\n"
    "    serve --http HOST:PORT': every member it knows, failed and departed ones\n"
    "    included while retained, with state, address, incarnation, seconds since\n"
    "    last heard and since its state changed, and the events received from it\n"
    "    (total and per second). It does not join the cluster: nobody sees it.\n"
    "    On a terminal it prints a table (this node marked *); with --json, or when\n"
    "    standard output is not a terminal, the endpoint's JSON object as one line:\n"
    "        {\"node\":1,\"members\":[{\"node\":2,\"state\":\"alive\",...},...]}\n"
    "    Without --from, 'agora members --config F' observes the cluster on its bus\n"
    "    instead (see 'agora members --help').\n"
    "\n"
    "OPTIONS\n"
    "    --from HOST:PORT   the node's admin endpoint\n"
    INSPECT_COMMON_HELP
    "EXAMPLES\n"
    "    agora members --from 127.0.0.1:9911\n"
    "    agora members --from 127.0.0.1:9911 | jq '.members[] | select(.state==\"failed\")'\n";

int inspect_parse(const char *cmd, int argc, char **argv, const char *help, bool top,
                  inspect_opts *o) {
    enum { OPT_FROM = CLI_OPT_OWN, OPT_TOKEN_FILE, OPT_JSON, OPT_TIMEOUT, OPT_INTERVAL, OPT_COUNT };
    static const struct option common[] = {
        {"help", no_argument, NULL, 'h'},
        {"from", required_argument, NULL, OPT_FROM},
        {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
        {"json", no_argument, NULL, OPT_JSON},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {0}};
    static const struct option with_top[] = {
        {"help", no_argument, NULL, 'h'},
        {"from", required_argument, NULL, OPT_FROM},
        {"token-file", required_argument, NULL, OPT_TOKEN_FILE},
        {"json", no_argument, NULL, OPT_JSON},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"interval", required_argument, NULL, OPT_INTERVAL},
        {"count", required_argument, NULL, OPT_COUNT},
        {0}};
    memset(o, 0, sizeof *o);
    o->t.timeout_ms = 5000;
    o->interval_ms = 1000;
    o->json = !isatty(STDOUT_FILENO);
    int opt;
    optind = 0;
    while ((opt = cli_getopt(cmd, argc, argv, ":h", top ? with_top : common)) != -1) {
        switch (opt) {
        case 'h': fputs(help, stdout); return CLI_EXIT_OK;
        case OPT_FROM: o->t.from = optarg; break;
        case OPT_TOKEN_FILE:
            if (cli_http_read_token(cmd, optarg, &o->t)) return CLI_EXIT_USAGE;
            break;
        case OPT_JSON: o->json = true; break;
        case OPT_TIMEOUT:
            if (cli_parse_duration(cmd, "--timeout", optarg, &o->t.timeout_ms)) return CLI_EXIT_USAGE;
            if (!o->t.timeout_ms) o->t.timeout_ms = 1;
            break;
        case OPT_INTERVAL:
            if (cli_parse_duration(cmd, "--interval", optarg, &o->interval_ms)) return CLI_EXIT_USAGE;
            if (o->interval_ms < 100) {
                cli_error(cmd, "--interval: at least 100ms");
                return CLI_EXIT_USAGE;
            }
            break;
        case OPT_COUNT:
            if (cli_parse_uint(cmd, "--count", optarg, UINT32_MAX, &o->count)) return CLI_EXIT_USAGE;
            break;
        default: return CLI_EXIT_USAGE;
        }
    }
    int rc = cli_no_operands(cmd, argc, argv);
    if (rc >= 0) return rc;
    if (!o->t.from) {
        cli_error(cmd, "--from HOST:PORT is required: the admin endpoint of a node started "
                  "with 'agora serve --http HOST:PORT' (try 'agora %s --help')", cmd);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

ag_json *inspect_get_json(const char *cmd, const inspect_opts *o, const char *path) {
    char *body;
    if (cli_http_get(cmd, &o->t, path, &body)) return NULL;
    char err[200];
    ag_json *j = ag_json_parse(body, strlen(body), err, sizeof err);
    free(body);
    if (!j || j->type != AG_JSON_OBJECT) {
        cli_error(cmd, "%s%s: the answer is not a JSON object%s%s", o->t.from, path, j ? "" : ": ",
                  j ? "" : err);
        ag_json_free(j);
        return NULL;
    }
    return j;
}

double inspect_num(const ag_json *obj, const char *key) {
    const ag_json *v = obj ? ag_json_get(obj, key) : NULL;
    if (!v) return 0;
    if (v->type == AG_JSON_BOOL) return v->boolean;
    if (v->type != AG_JSON_NUMBER) return 0;
    return v->fits_u64 ? (double)v->u64 : v->dbl;
}

const char *inspect_str(const ag_json *obj, const char *key) {
    const ag_json *v = obj ? ag_json_get(obj, key) : NULL;
    return v && v->type == AG_JSON_STRING ? v->str : "";
}

static unsigned long long u(const ag_json *obj, const char *key) {
    const ag_json *v = obj ? ag_json_get(obj, key) : NULL;
    return v && v->type == AG_JSON_NUMBER && v->fits_u64 ? (unsigned long long)v->u64 : 0;
}

/* The answer as the endpoint gave it, on one line. */
static int print_raw(const char *cmd, const inspect_opts *o, const char *path) {
    char *body;
    if (cli_http_get(cmd, &o->t, path, &body)) return CLI_EXIT_FAIL;
    size_t n = strlen(body);
    while (n && (body[n - 1] == '\n' || body[n - 1] == ' ')) body[--n] = 0;
    bool ok = cli_put_line(body);
    free(body);
    return ok ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static void print_status_table(const ag_json *j) {
    const ag_json *st = ag_json_get(j, "status");
    printf("node %llu  agora %s  up %.0fs  %s %s  %s\n", u(j, "node"), inspect_str(j, "version"),
           inspect_num(j, "uptimeSeconds"), inspect_str(st, "backend"),
           inspect_num(st, "connected") ? "connected" : "DISCONNECTED", inspect_str(st, "server"));
    printf("peers %llu  reconnects %llu  outbox %llu  queue %llu\n", u(st, "peers"),
           u(st, "reconnects"), u(st, "outboxDepth"), u(st, "queueDepth"));
    printf("events out %llu in %llu  bytes out %llu in %llu  notices %llu\n", u(st, "eventsOut"),
           u(st, "eventsIn"), u(st, "bytesOut"), u(st, "bytesIn"), u(st, "notices"));
    printf("gaps %llu  duplicates %llu  dropped %llu  queue dropped %llu  decode errors %llu  "
           "rejected %llu  replayed %llu\n",
           u(st, "gaps"), u(st, "duplicates"), u(st, "dropped"), u(st, "queueDropped"),
           u(st, "decodeErrors"), u(st, "rejected"), u(st, "replayed"));
    const ag_json *types = ag_json_get(j, "eventTypes");
    if (types && types->type == AG_JSON_OBJECT && types->count) {
        printf("\n%-22s %12s %12s\n", "TYPE", "PUBLISHED", "RECEIVED");
        for (size_t i = 0; i < types->count; i++)
            printf("%-22s %12llu %12llu\n", types->keys[i], u(types->items[i], "published"),
                   u(types->items[i], "received"));
    }
}

/* One inspecting command: the route's JSON as it is (--json, or piped), else a table. */
static int inspect_run(const char *cmd, int argc, char **argv, const char *help,
                       const char *route, void (*print_table)(const ag_json *)) {
    inspect_opts o;
    int rc = inspect_parse(cmd, argc, argv, help, false, &o);
    if (rc < 0) {
        if (o.json) {
            rc = print_raw(cmd, &o, route);
        } else {
            ag_json *j = inspect_get_json(cmd, &o, route);
            if (j) print_table(j);
            rc = j ? CLI_EXIT_OK : CLI_EXIT_FAIL;
            ag_json_free(j);
        }
    }
    cli_http_target_free(&o.t);
    return rc;
}

int cli_status(int argc, char **argv) {
    return inspect_run("status", argc, argv, status_help, "/api/status", print_status_table);
}

static void print_members_table(const ag_json *j) {
    const ag_json *m = ag_json_get(j, "members");
    printf("%-7s %-8s %-28s %10s %10s %10s %9s\n", "NODE", "STATE", "ADDRESS", "LAST HEARD",
           "SINCE", "EVENTS IN", "EVENTS/S");
    for (size_t i = 0; m && m->type == AG_JSON_ARRAY && i < m->count; i++) {
        const ag_json *x = m->items[i];
        char node[16];
        snprintf(node, sizeof node, "%llu%s", u(x, "node"), inspect_num(x, "self") ? "*" : "");
        printf("%-7s %-8s %-28s %9.1fs %9.0fs %10llu %9.1f\n", node, inspect_str(x, "state"),
               inspect_str(x, "address"), inspect_num(x, "lastHeardSeconds"),
               inspect_num(x, "sinceSeconds"), u(x, "eventsIn"), inspect_num(x, "eventsPerSecond"));
    }
}

int cli_inspect_members(int argc, char **argv) {
    return inspect_run("members", argc, argv, members_from_help, "/api/members",
                       print_members_table);
}
