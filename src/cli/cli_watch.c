/* cli_watch.c — `agora watch`: join the cluster and print every event received from
 * the other nodes as one JSON line. */
#include "cli/cli.h"
#include "cli/cli_common.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char watch_help[] =
    "NAME\n"
    "    agora watch - print the cluster's events as JSON lines\n"
    "\n"
    "SYNOPSIS\n"
    "    agora watch --config FILE [--node-id N] [--listen HOST:PORT] [--count K]\n"
    "                [--timeout D] [--events-only] [--codec agora|stalwart] [-v] [-q]\n"
    "\n"
    "DESCRIPTION\n"
    "    Joins the cluster described by FILE as node N and prints every event received\n"
    "    from the other nodes on standard output, one JSON object per line, in the form\n"
    "    of 'agora decode' (\"node\" is the origin):\n"
    "        {\"node\":2,\"type\":\"StateChange\",\"accountId\":42,\"changeId\":7,\"types\":[\"Email\"]}\n"
    "    Each line is flushed as soon as it is written, so the output can be piped.\n"
    "    A node never receives its own events.\n"
    "\n"
    "    Besides the events, the node's own notices are printed in the same form:\n"
    "        {\"node\":3,\"type\":\"MemberJoined\",\"address\":\"127.0.0.1:7913\",...}\n"
    "        {\"node\":3,\"type\":\"MemberLeft\",...}      (left gracefully)\n"
    "        {\"node\":3,\"type\":\"MemberFailed\",...}    (silent past the failure timeout)\n"
    "        {\"node\":2,\"type\":\"Gap\",\"missed\":5}       (events from node 2 were lost:\n"
    "                                                 resynchronise)\n"
    "    --events-only leaves out the Member* notices (Gap notices are still printed,\n"
    "    since they stand for lost events).\n"
    "\n"
    "    The watcher leaves the cluster gracefully when it stops (the others see\n"
    "    MemberLeft). Logs go to standard error; by default only warnings and errors.\n"
    "\n"
    "OPTIONS\n"
    "    --config FILE     node file or coordinator object (see 'agora config --help')\n"
    "    --node-id N       this node's id, 0-65535 (overrides \"nodeId\" in FILE); it\n"
    "                      must not be in use by another running node\n"
    "    --listen HOST:PORT\n"
    "                      PeerToPeer: listen (and advertise) on HOST:PORT\n"
    "                      instead of the file's address, to join with a second\n"
    "                      process using the same file (give another --node-id)\n"
    "    --count K         exit after printing K lines (K >= 1)\n"
    "    --timeout D       give up after D (\"500ms\", \"10s\", \"2m\", or milliseconds),\n"
    "                      counted from the start (default and 0: never); with\n"
    "                      --count, exit with status 3 if fewer lines came\n"
    "    --events-only     do not print (or count) MemberJoined/MemberLeft/MemberFailed\n"
    "    --codec C         \"agora\" or \"stalwart\": override the file's codec (stalwart\n"
    "                      reads a Stalwart cluster's own batches on a broker backend)\n"
    "    -v, --verbose     more logs on standard error (repeat for debug)\n"
    "    -q, --quiet       errors only\n"
    "    -h, --help        show this help\n"
    "\n"
    "EXIT STATUS\n"
    "    0  K lines were printed (--count), or SIGINT/SIGTERM or --timeout stopped a\n"
    "       watch without --count, or the reader of standard output went away\n"
    "    1  runtime failure (the node could not run, standard output failed)\n"
    "    2  bad arguments or configuration\n"
    "    3  --timeout passed before --count lines were printed, or a signal stopped\n"
    "       it before --count lines\n"
    "    5  the backend gave up for good: PeerToPeer was refused because another\n"
    "       live node has this node's id\n"
    "\n"
    "EXAMPLES\n"
    "    agora watch --config examples/cluster/node1.json\n"
    "    agora watch --config node.json --node-id 9 --events-only --count 1 --timeout 10s\n"
    "    agora watch --config redis.json --node-id 9 --codec stalwart   # a Stalwart cluster\n";

typedef struct watch_state {
    uint64_t count;   /* 0 = unlimited */
    uint64_t printed;
    bool events_only;
    bool out_failed;
    bool out_closed; /* EPIPE: the reader went away */
} watch_state;

static bool is_member_notice(agora_event_type t) {
    return t == AGORA_EV_MEMBER_JOINED || t == AGORA_EV_MEMBER_LEFT || t == AGORA_EV_MEMBER_FAILED;
}

static void on_event(agora_t *a, const agora_event *ev, void *user) {
    (void)a;
    watch_state *w = user;
    if (w->out_failed || w->out_closed || (w->count && w->printed >= w->count)) return;
    if (w->events_only && is_member_notice(ev->type)) return;
    char *json = agora_event_to_json(ev);
    if (!json) {
        fprintf(stderr, "agora watch: out of memory: an event of type %s was not printed\n",
                agora_event_type_name(ev->type));
        return;
    }
    if (!cli_put_line(json)) {
        if (errno == EPIPE) w->out_closed = true;
        else w->out_failed = true;
    }
    free(json);
    w->printed++;
}

int cli_watch(int argc, char **argv) {
    enum { OPT_COUNT = CLI_OPT_OWN, OPT_TIMEOUT, OPT_EVENTS_ONLY };
    static const struct option longopts[] = {
        CLI_NODE_LONGOPTS,
        {"count", required_argument, NULL, OPT_COUNT},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"events-only", no_argument, NULL, OPT_EVENTS_ONLY},
        {0}};
    cli_node_opts o = {.node_id = -1};
    watch_state w = {0};
    uint64_t timeout_ms = 0; /* 0 = never */
    int opt, stop = -1;
    optind = 0;
    while (stop < 0 && (opt = cli_getopt("watch", argc, argv, CLI_NODE_SHORTOPTS, longopts)) != -1) {
        if (cli_node_option("watch", opt, optarg, &o, watch_help, &stop)) continue;
        switch (opt) {
        case OPT_COUNT:
            if (cli_parse_uint("watch", "--count", optarg, UINT64_MAX, &w.count)) {
                stop = CLI_EXIT_USAGE;
            } else if (w.count == 0) {
                cli_error("watch", "--count: expected at least 1, got \"%s\"", optarg);
                stop = CLI_EXIT_USAGE;
            }
            break;
        case OPT_TIMEOUT:
            if (cli_parse_duration("watch", "--timeout", optarg, &timeout_ms))
                stop = CLI_EXIT_USAGE;
            break;
        case OPT_EVENTS_ONLY:
            w.events_only = true;
            break;
        }
    }
    if (stop < 0) stop = cli_no_operands("watch", argc, argv);
    if (stop >= 0) return stop;
    agora_config *cfg = cli_load_config("watch", &o);
    if (!cfg) return CLI_EXIT_USAGE;
    if (cli_signals_init() != 0) {
        cli_error("watch", "cannot set up signal handling: %s", strerror(errno));
        agora_config_free(cfg);
        return CLI_EXIT_FAIL;
    }
    uint64_t deadline = cli_now_ms() + timeout_ms;
    agora_options opts = {.on_event = on_event,
                          .on_event_user = &w,
                          .log_level = cli_log_level(&o, AGORA_LOG_WARN)};
    agora_t *node = NULL;
    int st = cli_open("watch", cfg, &opts, &node);
    agora_config_free(cfg);
    if (st) return st;

    int status = CLI_EXIT_OK;
    struct pollfd p[2] = {{.fd = agora_fd(node), .events = POLLIN},
                          {.fd = cli_signal_fd(), .events = POLLIN}};
    for (;;) {
        if (w.out_closed) break;
        if (w.out_failed) {
            cli_error("watch", "cannot write to standard output: %s", strerror(errno));
            status = CLI_EXIT_FAIL;
            break;
        }
        if (w.count && w.printed >= w.count) break;
        if (cli_signal_caught()) {
            status = w.count ? CLI_EXIT_TIMEOUT : CLI_EXIT_OK;
            break;
        }
        int wait = CLI_FAILURE_CHECK_MS;
        if (timeout_ms) {
            uint64_t now = cli_now_ms();
            if (now >= deadline) {
                /* without --count the timeout is how long to watch: it ran as asked */
                status = w.count ? CLI_EXIT_TIMEOUT : CLI_EXIT_OK;
                break;
            }
            uint64_t left = deadline - now;
            if (left < (uint64_t)wait) wait = (int)left;
        }
        int r = poll(p, 2, wait);
        if (r < 0 && errno != EINTR) {
            cli_error("watch", "poll: %s", strerror(errno));
            status = CLI_EXIT_FAIL;
            break;
        }
        if (r > 0 && (p[0].revents & POLLIN)) agora_dispatch(node, 0);
        if ((status = cli_gave_up("watch", node)) != 0) break;
    }
    if (status == CLI_EXIT_TIMEOUT && w.count)
        cli_error("watch", "%s after %llu of %llu lines",
                  cli_signal_caught() ? "stopped by a signal" : "timed out",
                  (unsigned long long)w.printed, (unsigned long long)w.count);
    agora_close(node);
    return status;
}
