/* cli_watch.c — `agora watch`: observe the cluster (or, with --join, join it) and
 * print every event received, with its receive time, as a JSON line or a table row. */
#include "cli/cli.h"
#include "cli/cli_common.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char watch_help[] =
    "NAME\n"
    "    agora watch - print the cluster's events, as JSON lines or a table\n"
    "\n"
    "SYNOPSIS\n"
    "    agora watch --config FILE [--format json|table] [--count K] [--timeout D]\n"
    "                [--events-only] [--join [--node-id N] [--listen HOST:PORT]]\n"
    "                [--codec agora|stalwart] [-v] [-q]\n"
    "\n"
    "DESCRIPTION\n"
    "    Watches the cluster described by FILE without joining it, and prints every\n"
    "    event on standard output, one JSON object per line, in the form of 'agora\n"
    "    decode' (\"node\" is the origin) plus \"receivedAt\", when this watcher got it\n"
    "    (RFC 3339, UTC, milliseconds):\n"
    "        {\"node\":2,\"type\":\"StateChange\",\"accountId\":42,...,\"receivedAt\":\"2026-12-05T03:04:05.678Z\"}\n"
    "    Each line is flushed as soon as it is written, so the output can be piped.\n"
    "\n"
    "    The watcher is an observer: it needs no node id, never publishes, never\n"
    "    announces itself, and the members never report it joining or leaving (on a\n"
    "    broker it only subscribes; on PeerToPeer it dials the seeds, the file's own\n"
    "    listen address and the members they name, as an observer). It shows every\n"
    "    node's events, including those of a node using the id FILE gives (\"nodeId\"\n"
    "    or --node-id); when traffic arrives under that id it warns once on standard\n"
    "    error, since FILE is then the configuration of a live node.\n"
    "\n"
    "    Besides the events, notices are printed in the same form:\n"
    "        {\"node\":3,\"type\":\"MemberJoined\",\"address\":\"127.0.0.1:7913\",...}\n"
    "        {\"node\":3,\"type\":\"MemberLeft\",...}      (left gracefully)\n"
    "        {\"node\":3,\"type\":\"MemberFailed\",...}    (silent past the failure timeout)\n"
    "        {\"node\":2,\"type\":\"Gap\",\"missed\":5}       (events from node 2 were lost:\n"
    "                                                 resynchronise)\n"
    "        {\"type\":\"BackendDisconnected\",\"backend\":\"Redis\",\"server\":\"...\",...}\n"
    "        {\"type\":\"BackendReconnected\",\"backend\":\"Redis\",\"server\":\"...\",...}\n"
    "    (the watcher's own link to the cluster went down, and came back: events sent\n"
    "    meanwhile may be missing). --events-only leaves out the Member* and Backend*\n"
    "    notices (Gap notices are still printed, since they stand for lost events);\n"
    "    --count does not count the Backend* lines.\n"
    "\n"
    "    --format table prints one aligned line per event instead: receive time, origin\n"
    "    node, type, and the event's other fields as JSON.\n"
    "\n"
    "    With --join the watcher joins the cluster as node N instead, as a member the\n"
    "    others see join and leave (before 0.2 every watch did). Logs go to standard\n"
    "    error; by default only warnings and errors.\n"
    "\n"
    "OPTIONS\n"
    "    --config FILE     node file or coordinator object (see 'agora config --help')\n"
    "    --format F        \"json\" (default) or \"table\"\n"
    "    --count K         exit after printing K lines (K >= 1)\n"
    "    --timeout D       give up after D (\"500ms\", \"10s\", \"2m\", or milliseconds),\n"
    "                      counted from the start (default and 0: never); with\n"
    "                      --count, exit with status 3 if fewer lines came\n"
    "    --events-only     do not print (or count) the Member* and Backend* notices\n"
    "    --join            join as a member (needs a node id) instead of observing\n"
    "    --node-id N       with --join: this node's id, 0-65535 (overrides \"nodeId\");\n"
    "                      without: accepted and ignored (a note says so), except that\n"
    "                      traffic under id N is warned about\n"
    "    --listen HOST:PORT\n"
    "                      with --join, PeerToPeer: listen (and advertise) on HOST:PORT\n"
    "                      instead of the file's address; without: ignored\n"
    "    --codec C         \"agora\" or \"stalwart\": override the file's codec (stalwart\n"
    "                      reads a Stalwart cluster's own batches on a broker backend)\n"
    "    -v, --verbose     more logs on standard error (repeat for debug)\n"
    "    -q, --quiet       errors only\n"
    "    -h, --help        show this help\n"
    "\n"
    "EXIT STATUS\n"
    "    0  K lines were printed (--count), or SIGINT/SIGTERM or --timeout stopped a\n"
    "       watch without --count, or the reader of standard output went away\n"
    "    1  runtime failure (the watcher could not run, standard output failed)\n"
    "    2  bad arguments or configuration\n"
    "    3  --timeout passed before --count lines were printed, or a signal stopped\n"
    "       it before --count lines\n"
    "    5  the backend gave up for good: PeerToPeer was refused because another\n"
    "       live node has this node's id\n"
    "\n"
    "EXAMPLES\n"
    "    agora watch --config examples/cluster/node1.json\n"
    "    agora watch --config node.json --events-only --count 1 --timeout 10s\n"
    "    agora watch --config node.json --format table\n"
    "    agora watch --config redis.json --codec stalwart   # a Stalwart cluster\n";

typedef struct watch_state {
    uint64_t count;   /* 0 = unlimited */
    uint64_t printed;
    bool events_only;
    bool table;
    bool out_failed;
    bool out_closed; /* EPIPE: the reader went away */
    int own_id;      /* observer: the id the configuration gives (-1 none) */
    bool own_id_warned;
    const char *config; /* the file, for the warning */
} watch_state;

static bool is_member_notice(agora_event_type t) {
    return t == AGORA_EV_MEMBER_JOINED || t == AGORA_EV_MEMBER_LEFT || t == AGORA_EV_MEMBER_FAILED;
}

/* Write one line; remember why it failed. */
static void put(watch_state *w, const char *line) {
    if (cli_put_line(line)) return;
    if (errno == EPIPE) w->out_closed = true;
    else w->out_failed = true;
}

/* One table row: receive time, node, type, then the rest of the JSON object. */
static void put_row(watch_state *w, const char *at, const char *node, const char *type,
                    const char *rest) {
    char *line = NULL;
    if (asprintf(&line, "%-24s  %5s  %-20s  %s", at, node, type, rest) < 0) {
        w->out_failed = true;
        return;
    }
    put(w, line);
    free(line);
}

/* `json` is an object ("{...}"): print it with "receivedAt" added, or as a row. */
static void put_object(watch_state *w, const char *json, const char *node, const char *type) {
    char at[40];
    cli_rfc3339_now(at, sizeof at);
    size_t n = strlen(json);
    if (n < 2 || json[n - 1] != '}') return;
    if (!w->table) {
        char *line = NULL;
        if (asprintf(&line, "%.*s%s\"receivedAt\":\"%s\"}", (int)(n - 1), json,
                     n > 2 ? "," : "", at) < 0) {
            w->out_failed = true;
            return;
        }
        put(w, line);
        free(line);
        return;
    }
    /* The JSON form starts {"node":N,"type":"T"; the rest are the event's fields. */
    const char *rest = strstr(json, "\"type\":\"");
    rest = rest ? strchr(rest + 8, '"') : NULL;
    char fields[8];
    snprintf(fields, sizeof fields, "{}");
    char *tail = NULL;
    if (rest && rest[1] == ',' && asprintf(&tail, "{%s", rest + 2) < 0) tail = NULL;
    put_row(w, at, node, type, tail ? tail : fields);
    free(tail);
}

static void on_event(agora_t *a, const agora_event *ev, void *user) {
    (void)a;
    watch_state *w = user;
    if (w->out_failed || w->out_closed || (w->count && w->printed >= w->count)) return;
    if (w->own_id >= 0 && ev->node == (uint16_t)w->own_id && !w->own_id_warned) {
        w->own_id_warned = true;
        fprintf(stderr, "agora watch: warning: traffic from node %d, the id %s gives: a live "
                "node uses that id, so %s is its configuration, not this watcher's (an "
                "observer has no id; node %d's events are shown like any other)\n",
                w->own_id, w->config, w->config, w->own_id);
    }
    if (w->events_only && is_member_notice(ev->type)) return;
    char *json = agora_event_to_json(ev);
    if (!json) {
        fprintf(stderr, "agora watch: out of memory: an event of type %s was not printed\n",
                agora_event_type_name(ev->type));
        return;
    }
    char node[8];
    snprintf(node, sizeof node, "%u", ev->node);
    put_object(w, json, node, agora_event_type_name(ev->type));
    free(json);
    w->printed++;
}

/* The watcher's own link: a line when it goes down after having been up, and when
 * it comes back. */
#define LINK_POLL_MS 200 /* how often the link's state is looked at */

typedef struct link_watch {
    bool was_up, went_down;
} link_watch;

static void check_link(agora_t *node, watch_state *w, link_watch *l) {
    agora_status st;
    if (agora_get_status(node, &st) != AGORA_OK) return;
    if (st.connected == l->was_up) return;
    l->was_up = st.connected;
    if (!st.connected) l->went_down = true;
    else if (!l->went_down) return; /* the first connection: nothing to mark */
    if (w->events_only || w->out_failed || w->out_closed) return;
    const char *type = st.connected ? "BackendReconnected" : "BackendDisconnected";
    char *bk = cli_json_string(st.backend), *sv = cli_json_string(st.server);
    char *json = NULL;
    if (bk && sv && asprintf(&json, "{\"type\":\"%s\",\"backend\":%s,\"server\":%s}", type, bk,
                             sv) < 0)
        json = NULL;
    if (json) put_object(w, json, "-", type);
    free(json);
    free(bk);
    free(sv);
}

int cli_watch(int argc, char **argv) {
    enum { OPT_COUNT = CLI_OPT_OWN, OPT_TIMEOUT, OPT_EVENTS_ONLY, OPT_FORMAT, OPT_JOIN };
    static const struct option longopts[] = {
        CLI_NODE_LONGOPTS,
        {"count", required_argument, NULL, OPT_COUNT},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"events-only", no_argument, NULL, OPT_EVENTS_ONLY},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"join", no_argument, NULL, OPT_JOIN},
        {0}};
    cli_node_opts o = {.node_id = -1, .observer = true};
    watch_state w = {.own_id = -1};
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
        case OPT_FORMAT:
            if (!strcmp(optarg, "table")) {
                w.table = true;
            } else if (strcmp(optarg, "json") != 0) {
                cli_error("watch", "--format: expected \"json\" or \"table\", got \"%s\"", optarg);
                stop = CLI_EXIT_USAGE;
            }
            break;
        case OPT_JOIN:
            o.observer = false;
            break;
        }
    }
    if (stop < 0) stop = cli_no_operands("watch", argc, argv);
    if (stop >= 0) return stop;
    agora_config *cfg = cli_load_config("watch", &o);
    if (!cfg) return CLI_EXIT_USAGE;
    if (o.observer) {
        cli_observer_note("watch", &o);
        w.own_id = agora_config_node_id(cfg);
        w.config = o.config;
    }
    if (cli_signals_init() != 0) {
        cli_error("watch", "cannot set up signal handling: %s", strerror(errno));
        agora_config_free(cfg);
        return CLI_EXIT_FAIL;
    }
    uint64_t deadline = cli_now_ms() + timeout_ms;
    agora_options opts = {.on_event = on_event,
                          .on_event_user = &w,
                          .log_level = cli_log_level(&o, AGORA_LOG_WARN),
                          .observer = o.observer};
    agora_t *node = NULL;
    int st = cli_open("watch", cfg, &opts, &node);
    agora_config_free(cfg);
    if (st) return st;
    if (w.table) {
        char head[160];
        snprintf(head, sizeof head, "%-24s  %5s  %-20s  %s", "RECEIVED", "NODE", "TYPE", "FIELDS");
        put(&w, head);
    }
    link_watch link = {0};

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
        check_link(node, &w, &link);
        int wait = LINK_POLL_MS; /* cli_gave_up below is checked as often */
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
