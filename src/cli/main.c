/* main.c — the agora command: dispatch to subcommands. */
#include "cli/cli.h"

#include "agora.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "Usage: agora <command> [options]\n"
    "\n"
    "Cluster coordination for mail servers: every node of a mail service publishes\n"
    "coordination events (mailbox changes, IP blocks, certificate updates, cache\n"
    "invalidations) on the bus \"stwt.agora\" and hears everyone else's.\n"
    "\n"
    "Commands:\n"
    "  serve    --config F [--node-id N]       run a node until SIGINT/SIGTERM\n"
    "  watch    --config F [--format json|table] [--count K] [--timeout D]\n"
    "                                          observe: print the cluster's events (no node id)\n"
    "  publish  --config F [--node-id N] [EVENT_JSON ...]\n"
    "                                          publish events (arguments, or JSON lines on stdin)\n"
    "  members  --config F [--settle D]        observe: print the members (failed/left too) as JSON\n"
    "  members  --from HOST:PORT               a running node's view, from its admin endpoint\n"
    "  status   --from HOST:PORT               a running node's status (serve --http)\n"
    "  top      --from HOST:PORT               live view of a running node (serve --http)\n"
    "  encode   --codec stalwart --node-id N   JSON lines on stdin -> raw batch on stdout\n"
    "  decode   --codec stalwart               raw batch on stdin -> JSON lines on stdout\n"
    "  config check FILE                       validate a configuration, print it with defaults\n"
    "  bench    --config F --nodes N [...]     measure throughput and latency\n"
    "  version                                 print the version\n"
    "\n"
    "Run 'agora <command> --help' for a command's options. See README.md for the\n"
    "configuration reference.\n";

int main(int argc, char **argv) {
    /* agora's own options come before the command ('+': stop at the command, whose
     * options are its own). */
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {0}};
    opterr = 0;
    optind = 0;
    int opt = getopt_long(argc, argv, "+h", longopts, NULL);
    if (opt == 'h') {
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }
    if (opt == 'V') {
        printf("agora %s\n", agora_version());
        return CLI_EXIT_OK;
    }
    if (opt == '?') {
        fprintf(stderr, "agora: unknown option '%s' (try 'agora --help')\n", argv[optind - 1]);
        return CLI_EXIT_USAGE;
    }
    if (optind >= argc) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[optind];
    argc -= optind;
    argv += optind;
    if (!strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(cmd, "version")) {
        printf("agora %s\n", agora_version());
        return CLI_EXIT_OK;
    }
    if (!strcmp(cmd, "encode")) return cli_encode(argc, argv);
    if (!strcmp(cmd, "decode")) return cli_decode(argc, argv);
    if (!strcmp(cmd, "config")) return cli_config(argc, argv);
    if (!strcmp(cmd, "serve")) return cli_serve(argc, argv);
    if (!strcmp(cmd, "watch")) return cli_watch(argc, argv);
    if (!strcmp(cmd, "publish")) return cli_publish(argc, argv);
    if (!strcmp(cmd, "members")) return cli_members(argc, argv);
    if (!strcmp(cmd, "bench")) return cli_bench(argc, argv);
    if (!strcmp(cmd, "status") || !strcmp(cmd, "top")) {
#ifdef AGORA_HAVE_CURL
        return !strcmp(cmd, "status") ? cli_status(argc, argv) : cli_top(argc, argv);
#else
        fprintf(stderr, "agora %s: this build cannot read admin endpoints (libcurl was missing "
                "when agora was built)\n", cmd);
        return CLI_EXIT_USAGE;
#endif
    }
    fprintf(stderr, "agora: unknown command '%s' (try 'agora --help')\n", cmd);
    return CLI_EXIT_USAGE;
}
