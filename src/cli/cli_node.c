/* cli_node.c — `agora serve`: run a node until SIGINT or SIGTERM. (watch, publish
 * and members live in cli_watch.c, cli_publish.c and cli_members.c.) */
#include "cli/cli.h"
#include "cli/cli_common.h"
#ifdef AGORA_HAVE_ADMIN
#include "admin/admin.h"
#endif

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char serve_help[] =
    "NAME\n"
    "    agora serve - run a cluster node until stopped\n"
    "\n"
    "SYNOPSIS\n"
    "    agora serve --config FILE [--node-id N] [--listen HOST:PORT]\n"
    "                [--status-interval D] [--http HOST:PORT] [--codec agora|stalwart]\n"
    "                [-v] [-q]\n"
    "\n"
    "DESCRIPTION\n"
    "    Starts node N of the cluster described by FILE and keeps it running until\n"
    "    SIGINT (Ctrl-C) or SIGTERM: it announces itself, takes part in failure\n"
    "    detection, and (PeerToPeer) accepts connections from the other nodes, so it\n"
    "    can serve as a seed. Received events are counted, not printed (use 'agora\n"
    "    watch' to see them; -v -v logs each one).\n"
    "\n"
    "    Logs go to standard error, one line each: membership changes as they happen\n"
    "    (\"node 3 joined at 127.0.0.1:7913\", \"node 3 failed: silent for 1503 ms\",\n"
    "    \"node 3 left the cluster\"), backend connection changes, and every\n"
    "    --status-interval the backend's status and the view as JSON.\n"
    "\n"
    "    On SIGINT or SIGTERM it flushes what is queued, tells the others it leaves\n"
    "    (they see MemberLeft, not MemberFailed) and exits with status 0.\n"
    "\n"
    "OPTIONS\n"
    "    --config FILE          node file or coordinator object (see 'agora config\n"
    "                           --help')\n"
    "    --node-id N            this node's id, 0-65535 (overrides \"nodeId\" in FILE)\n"
    "    --listen HOST:PORT\n"
    "                           PeerToPeer: listen (and advertise) on HOST:PORT\n"
    "                           instead of the file's address, to join with a second\n"
    "                           process using the same file (give another --node-id)\n"
    "    --status-interval D    log the status every D (default 60s; 0 = never)\n"
    "    --http HOST:PORT       serve the admin HTTP endpoint there (port 0: any free\n"
    "                           port; the address is logged): /metrics (Prometheus),\n"
    "                           /api/status, /api/members, /api/config,\n"
    "                           /api/config/schema, POST /api/config/check,\n"
    "                           /api/events (Server-Sent Events) and the web page /.\n"
    "                           With \"httpToken\" in FILE every route but the page\n"
    "                           needs \"Authorization: Bearer <token>\"; without it,\n"
    "                           an address beyond loopback is warned about.\n"
    "                           See docs/admin.md\n"
    "    --codec C              \"agora\" or \"stalwart\": override the file's codec\n"
    "    -v, --verbose          more logs (repeat: debug, and every received event)\n"
    "    -q, --quiet            warnings and errors only\n"
    "    -h, --help             show this help\n"
    "\n"
    "EXIT STATUS\n"
    "    0  stopped by SIGINT or SIGTERM, left the cluster cleanly\n"
    "    1  runtime failure\n"
    "    2  bad arguments or configuration\n"
    "    5  the backend gave up for good: PeerToPeer was refused because another\n"
    "       live node has this node's id (give it another --node-id / \"nodeId\")\n"
    "\n"
    "EXAMPLES\n"
    "    agora serve --config examples/cluster/node1.json\n"
    "    agora serve --config node.json --node-id 4 --status-interval 10s\n"
    "    agora serve --config node.json --http 127.0.0.1:9911\n";

typedef struct serve_state {
    int node;
    agora_log_level level;
    uint64_t received;
#ifdef AGORA_HAVE_ADMIN
    admin_server *admin;
#endif
} serve_state;

static void on_event(agora_t *a, const agora_event *ev, void *user) {
    (void)a;
    serve_state *s = user;
    s->received++;
#ifdef AGORA_HAVE_ADMIN
    admin_event(s->admin, ev);
#endif
    if (s->level >= AGORA_LOG_DEBUG) {
        char *json = agora_event_to_json(ev);
        if (json) cli_log(s->level, AGORA_LOG_DEBUG, s->node, "event: %s", json);
        free(json);
    }
}

static void log_status(agora_t *a, serve_state *s) {
    agora_status st;
    if (agora_get_status(a, &st) != AGORA_OK) return;
    char *sj = agora_status_to_json(&st);
    agora_member m[64];
    int n = agora_members(a, m, 64);
    int counts[4] = {0};
    for (int k = 0; k < n && k < 64; k++)
        if (!m[k].self && m[k].state <= AGORA_MEMBER_LEFT) counts[m[k].state]++;
    cli_log(s->level, AGORA_LOG_INFO, s->node,
            "status: %d other members alive, %d suspect, %d dead, %d left; %llu events "
            "received; %s",
            counts[AGORA_MEMBER_ALIVE], counts[AGORA_MEMBER_SUSPECT], counts[AGORA_MEMBER_FAILED],
            counts[AGORA_MEMBER_LEFT], (unsigned long long)s->received, sj ? sj : "");
    free(sj);
}

#ifdef AGORA_HAVE_ADMIN
static void admin_log_line(agora_log_level level, const char *msg, void *user) {
    serve_state *s = user;
    cli_log(s->level, level, s->node, "http: %s", msg);
}
#endif

int cli_serve(int argc, char **argv) {
    enum { OPT_STATUS_INTERVAL = CLI_OPT_OWN, OPT_HTTP };
    static const struct option longopts[] = {
        CLI_NODE_LONGOPTS,
        {"status-interval", required_argument, NULL, OPT_STATUS_INTERVAL},
        {"http", required_argument, NULL, OPT_HTTP},
        {0}};
    const char *http = NULL;
    cli_node_opts o = {.node_id = -1};
    uint64_t status_ms = 60000;
    int opt, stop = -1;
    optind = 0;
    while (stop < 0 && (opt = cli_getopt("serve", argc, argv, CLI_NODE_SHORTOPTS, longopts)) != -1) {
        if (cli_node_option("serve", opt, optarg, &o, serve_help, &stop)) continue;
        if (opt == OPT_STATUS_INTERVAL &&
            cli_parse_duration("serve", "--status-interval", optarg, &status_ms))
            stop = CLI_EXIT_USAGE;
        if (opt == OPT_HTTP) http = optarg;
    }
#ifndef AGORA_HAVE_ADMIN
    if (stop < 0 && http) {
        cli_error("serve", "--http: this build has no admin endpoint (libmicrohttpd was "
                  "missing when agora was built)");
        stop = CLI_EXIT_USAGE;
    }
#endif
    if (stop < 0) stop = cli_no_operands("serve", argc, argv);
    if (stop >= 0) return stop;
    agora_config *cfg = cli_load_config("serve", &o);
    if (!cfg) return CLI_EXIT_USAGE;
    if (cli_signals_init() != 0) {
        cli_error("serve", "cannot set up signal handling: %s", strerror(errno));
        agora_config_free(cfg);
        return CLI_EXIT_FAIL;
    }
    serve_state s = {.node = agora_config_node_id(cfg), .level = cli_log_level(&o, AGORA_LOG_INFO)};
    agora_options opts = {.on_event = on_event, .on_event_user = &s, .log_level = s.level};
    agora_t *node = NULL;
    int status = cli_open("serve", cfg, &opts, &node);
    if (status) {
        agora_config_free(cfg);
        return status;
    }
#ifdef AGORA_HAVE_ADMIN
    if (http) {
        char err[512];
        if (admin_start(node, cfg, http, agora_config_http_token(cfg), admin_log_line, &s,
                        &s.admin, err, sizeof err) != AGORA_OK) {
            cli_error("serve", "%s", err);
            agora_config_free(cfg);
            agora_close(node);
            return CLI_EXIT_USAGE;
        }
        cli_log(s.level, AGORA_LOG_INFO, s.node, "admin endpoint on http://%s/",
                admin_address(s.admin));
    }
#endif
    agora_config_free(cfg);
    cli_log(s.level, AGORA_LOG_INFO, s.node, "serving; SIGINT or SIGTERM stops it");

    struct pollfd p[2] = {{.fd = agora_fd(node), .events = POLLIN},
                          {.fd = cli_signal_fd(), .events = POLLIN}};
    uint64_t next_status = status_ms ? cli_now_ms() + status_ms : 0;
    while (!cli_signal_caught()) {
        int wait = CLI_FAILURE_CHECK_MS;
        if (next_status) {
            uint64_t now = cli_now_ms();
            if (now >= next_status) {
                log_status(node, &s);
                next_status = now + status_ms;
            }
            uint64_t left = next_status - now;
            if (left < (uint64_t)wait) wait = (int)left;
        }
        int r = poll(p, 2, wait);
        if (r < 0 && errno != EINTR) {
            cli_error("serve", "poll: %s", strerror(errno));
            status = CLI_EXIT_FAIL;
            break;
        }
        if (r > 0 && (p[0].revents & POLLIN)) agora_dispatch(node, 0);
        if ((status = cli_gave_up("serve", node)) != 0) break;
    }
    if (cli_signal_caught())
        cli_log(s.level, AGORA_LOG_INFO, s.node, "%s received: leaving the cluster",
                cli_signal_caught() == SIGINT ? "SIGINT" : "SIGTERM");
#ifdef AGORA_HAVE_ADMIN
    admin_stop(s.admin);
    s.admin = NULL; /* agora_close runs no callbacks, but keep on_event safe all the same */
#endif
    agora_close(node);
    return status;
}
