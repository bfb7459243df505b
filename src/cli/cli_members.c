/* cli_members.c — `agora members`: observe, let the view settle, print it as JSON. */
#include "cli/cli.h"
#include "cli/cli_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char members_help[] =
    "NAME\n"
    "    agora members - print the cluster's membership view\n"
    "\n"
    "SYNOPSIS\n"
    "    agora members --config FILE [--settle D] [--codec agora|stalwart] [-v] [-q]\n"
    "    agora members --from HOST:PORT [--token-file F] [--json] [--timeout D]\n"
    "\n"
    "DESCRIPTION\n"
    "    Observes the cluster described by FILE without joining it (it needs no node\n"
    "    id, and the members neither list it nor report it joining or leaving), waits\n"
    "    until the membership view settles (at least one member alive and no change for\n"
    "    two heartbeat intervals, at least 500 ms; or --settle has passed), and prints\n"
    "    the view on standard output as a JSON array:\n"
    "        [\n"
    "          {\"node\":1,\"state\":\"alive\",\"address\":\"127.0.0.1:7911\",\"lastSeenMs\":4,\n"
    "           \"sinceMs\":31000,\"incarnation\":...},\n"
    "          {\"node\":3,\"state\":\"failed\",\"address\":\"127.0.0.1:7913\",\"lastSeenMs\":9500,\n"
    "           \"sinceMs\":8000,\"incarnation\":...}\n"
    "        ]\n"
    "    Each object has \"node\" (id), \"state\" (\"alive\", \"suspect\": silent for a while,\n"
    "    \"failed\": silent past the failure timeout, \"left\": left gracefully), \"address\"\n"
    "    (host:port, or a broker client name; \"\" if unknown), \"lastSeenMs\" (since the\n"
    "    node was last heard), \"sinceMs\" (since it entered that state) and\n"
    "    \"incarnation\" (changes at every start of that node). Failed and departed\n"
    "    members are listed for the cluster's \"memberRetention\" (10 minutes by\n"
    "    default), as the members' gossip reports them.\n"
    "    With --from it reads a running node's admin endpoint instead ('agora serve\n"
    "    --http'): see 'agora members --from X --help'.\n"
    "\n"
    "    The backend's status (connected, server, reconnects, counters) is printed on\n"
    "    standard error as one JSON object.\n"
    "\n"
    "    --node-id and --listen are accepted and ignored (a note says so): an observer\n"
    "    has neither. Membership needs the agora codec and a coordinator other than\n"
    "    Disabled.\n"
    "\n"
    "OPTIONS\n"
    "    --config FILE     node file or coordinator object (see 'agora config --help')\n"
    "    --settle D        wait at most D for the view to settle (default 5s)\n"
    "    --codec C         \"agora\" or \"stalwart\": override the file's codec\n"
    "    -v, --verbose     more logs on standard error (repeat for debug)\n"
    "    -q, --quiet       errors only; no status line\n"
    "    -h, --help        show this help\n"
    "\n"
    "EXIT STATUS\n"
    "    0  the view was printed\n"
    "    1  runtime failure\n"
    "    2  bad arguments or configuration (also: a configuration without membership)\n"
    "    4  no member was heard within --settle (a dead seed, a wrong secret, an empty\n"
    "       cluster): an empty array is printed\n"
    "\n"
    "EXAMPLES\n"
    "    agora members --config examples/cluster/node1.json\n"
    "    agora members --config node.json --settle 2s | jq '.[].state'\n";

static void on_event(agora_t *a, const agora_event *ev, void *user) {
    (void)a;
    (void)ev;
    (void)user; /* the view is read with agora_members; events are not needed */
}

static char *render(const agora_member *m, int n) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    fputs("[", f);
    for (int k = 0; k < n; k++) {
        fprintf(f, "%s\n  {\"node\":%u,\"state\":", k ? "," : "", m[k].node);
        cli_put_json_string(f, agora_member_state_name(m[k].state));
        fputs(",\"address\":", f);
        cli_put_json_string(f, m[k].address);
        fprintf(f, ",\"lastSeenMs\":%llu,\"sinceMs\":%llu,\"incarnation\":%llu%s}",
                (unsigned long long)m[k].last_seen_ms, (unsigned long long)m[k].state_since_ms,
                (unsigned long long)m[k].incarnation, m[k].self ? ",\"self\":true" : "");
    }
    fputs(n ? "\n]" : "]", f);
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad) {
        free(text);
        return NULL;
    }
    return text;
}

static int by_node(const void *x, const void *y) {
    const agora_member *a = x, *b = y;
    return (int)a->node - (int)b->node;
}

int cli_members(int argc, char **argv) {
    /* --from: read a running node's admin endpoint instead of joining (cli_inspect.c) */
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--from") || !strncmp(argv[i], "--from=", 7)) {
#ifdef AGORA_HAVE_CURL
            return cli_inspect_members(argc, argv);
#else
            fprintf(stderr, "agora members: --from: this build cannot read admin endpoints "
                    "(libcurl was missing when agora was built)\n");
            return CLI_EXIT_USAGE;
#endif
        }
    enum { OPT_SETTLE = CLI_OPT_OWN };
    static const struct option longopts[] = {
        CLI_NODE_LONGOPTS, {"settle", required_argument, NULL, OPT_SETTLE}, {0}};
    cli_node_opts o = {.node_id = -1, .observer = true};
    uint64_t settle_ms = 5000;
    int opt, stop = -1;
    optind = 0;
    while (stop < 0 &&
           (opt = cli_getopt("members", argc, argv, CLI_NODE_SHORTOPTS, longopts)) != -1) {
        if (cli_node_option("members", opt, optarg, &o, members_help, &stop)) continue;
        if (opt == OPT_SETTLE && cli_parse_duration("members", "--settle", optarg, &settle_ms))
            stop = CLI_EXIT_USAGE;
    }
    if (stop < 0) stop = cli_no_operands("members", argc, argv);
    if (stop >= 0) return stop;
    agora_config *cfg = cli_load_config("members", &o);
    if (!cfg) return CLI_EXIT_USAGE;
    cli_observer_note("members", &o);
    if (!agora_config_has_membership(cfg)) {
        cli_error("members", "%s runs no membership (the Disabled coordinator, or the stalwart "
                  "codec, whose messages carry none): there is no view to print", o.config);
        agora_config_free(cfg);
        return CLI_EXIT_USAGE;
    }
    if (cli_signals_init() != 0) {
        cli_error("members", "cannot set up signal handling: %s", strerror(errno));
        agora_config_free(cfg);
        return CLI_EXIT_FAIL;
    }
    agora_options opts = {.on_event = on_event,
                          .callbacks_on_io_thread = true,
                          .log_level = cli_log_level(&o, AGORA_LOG_WARN),
                          .observer = true};
    agora_t *node = NULL;
    int status = cli_open("members", cfg, &opts, &node);
    uint64_t window = cli_settle_window_ms(cfg);
    agora_config_free(cfg);
    if (status) return status;

    cli_wait_settled(node, 1, window, settle_ms);

    int n = agora_members(node, NULL, 0);
    agora_member *m = NULL;
    for (int tries = 0; tries < 4 && n > 0; tries++) {
        int cap = n + 8; /* room for members joining meanwhile */
        free(m);
        m = calloc((size_t)cap, sizeof *m);
        if (!m) break;
        n = agora_members(node, m, (size_t)cap);
        if (n <= cap) break;
        if (tries == 3) n = cap;
    }
    char *json = NULL;
    if (n > 0 && m) {
        qsort(m, (size_t)n, sizeof *m, by_node);
        json = render(m, n);
    } else if (n == 0) {
        json = render(NULL, 0);
    }
    free(m);
    if (!json) {
        cli_error("members", "out of memory");
        agora_close(node);
        return CLI_EXIT_FAIL;
    }
    if (!cli_put_line(json)) {
        if (errno != EPIPE) {
            cli_error("members", "cannot write to standard output: %s", strerror(errno));
            status = CLI_EXIT_FAIL;
        }
    }
    free(json);
    if (n == 0 && status == CLI_EXIT_OK) {
        cli_error("members", "no member was heard within %llu ms (are the seeds up and the "
                  "secret right?)", (unsigned long long)settle_ms);
        status = CLI_EXIT_NOBODY;
    }
    if (o.verbosity >= 0) {
        agora_status st;
        if (agora_get_status(node, &st) == AGORA_OK) {
            char *sj = agora_status_to_json(&st);
            if (sj) fprintf(stderr, "agora members: status: %s\n", sj);
            free(sj);
        }
    }
    agora_close(node);
    return status;
}
