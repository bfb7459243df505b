/* cli_publish.c — `agora publish`: publish events given as arguments, or JSON lines
 * read from standard input as a stream (each line leaves as it arrives). */
#include "cli/cli.h"
#include "cli/cli_common.h"

#include <errno.h>
#include <stdatomic.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char publish_help[] =
    "NAME\n"
    "    agora publish - publish coordination events to the cluster\n"
    "\n"
    "SYNOPSIS\n"
    "    agora publish --config FILE [--node-id N] [--listen HOST:PORT]\n"
    "                  [--wait-members D] [--flush-timeout D] [--codec agora|stalwart]\n"
    "                  [-v] [-q]\n"
    "                  [EVENT_JSON ...]\n"
    "\n"
    "DESCRIPTION\n"
    "    Joins the cluster described by FILE as node N and publishes events, each a\n"
    "    JSON object in the form 'agora watch' and 'agora decode' print, for example\n"
    "        {\"type\":\"StateChange\",\"accountId\":42,\"changeId\":7,\"types\":[\"Email\"]}\n"
    "        {\"type\":\"BlockIp\",\"address\":\"203.0.113.7/32\",\"reason\":\"brute force\"}\n"
    "    \"node\" and unknown keys are ignored: the events leave as node N's.\n"
    "\n"
    "    With EVENT_JSON arguments, every argument is checked first and nothing is\n"
    "    published unless all are valid and the codec can carry them all (exit\n"
    "    status 2 otherwise).\n"
    "\n"
    "    Without arguments, standard input is read as a stream of JSON lines, and each\n"
    "    line is published as soon as it arrives, so 'tail -f events.log | agora\n"
    "    publish ...' works. Blank lines are skipped; so are the Gap and Member* notices\n"
    "    that 'agora watch' prints (they are local to a node, not events). A line that\n"
    "    is not a valid event is reported (\"agora publish: line 3: accountId: ...\")\n"
    "    and skipped; the stream goes on and the exit status is then 1. The backend may\n"
    "    be down meanwhile: events wait in agora's outbox (bounded by \"outboxLimit\"\n"
    "    and \"outboxBytes\")\n"
    "    and leave when it is back. End of input or SIGINT/SIGTERM ends the stream.\n"
    "\n"
    "    Before publishing, the command waits up to --wait-members for at least one\n"
    "    other live member and for the view to settle, so that a fresh node does not\n"
    "    publish before it is connected (for PeerToPeer, events go to the members\n"
    "    connected when they leave). If no member shows up, it warns and publishes\n"
    "    anyway. At the end it waits up to --flush-timeout until every event was handed\n"
    "    over (PeerToPeer: written to every live member; brokers: acknowledged by the\n"
    "    server), then leaves the cluster gracefully. If no other member was alive at\n"
    "    any time (an empty cluster, a wrong secret, a plaintext/TLS mismatch), the\n"
    "    events were sent nowhere: it says so and exits with status 4 (not on Kafka,\n"
    "    whose broker keeps events for members that join later, nor on a coordinator\n"
    "    without membership).\n"
    "\n"
    "OPTIONS\n"
    "    --config FILE        node file or coordinator object (see 'agora config --help')\n"
    "    --node-id N          this node's id, 0-65535 (overrides \"nodeId\" in FILE); it\n"
    "                         must not be in use by another running node\n"
    "    --listen HOST:PORT\n"
    "                         PeerToPeer: listen (and advertise) on HOST:PORT\n"
    "                         instead of the file's address, to join with a second\n"
    "                         process using the same file (give another --node-id)\n"
    "    --wait-members D     wait up to D for other members before publishing\n"
    "                         (default 5s; 0 = do not wait)\n"
    "    --flush-timeout D    wait up to D at the end for every event to be handed\n"
    "                         over (default 10s)\n"
    "    --codec C            \"agora\" or \"stalwart\": override the file's codec (the\n"
    "                         stalwart codec cannot carry BlockIp, UnblockIp,\n"
    "                         CertificateUpdate, Custom)\n"
    "    -v, --verbose        more logs on standard error, and a summary at the end\n"
    "    -q, --quiet          errors only\n"
    "    -h, --help           show this help\n"
    "    Durations: \"250ms\", \"5s\", \"1m\", \"1h\", \"1d\" or a number of milliseconds.\n"
    "\n"
    "EXIT STATUS\n"
    "    0  every event was handed over\n"
    "    1  some events were not handed over within --flush-timeout, a line of\n"
    "       standard input was not a valid event (the others were published), or\n"
    "       standard input could not be read\n"
    "    2  bad arguments (including an invalid EVENT_JSON, or one the codec cannot\n"
    "       carry) or configuration\n"
    "    4  events were published but no other member was alive at any time to\n"
    "       receive them (this takes precedence over 1)\n"
    "    5  the backend gave up for good: PeerToPeer was refused because another\n"
    "       live node has this node's id (takes precedence over 1 and 4)\n"
    "\n"
    "EXAMPLES\n"
    "    agora publish --config examples/cluster/node2.json \\\n"
    "        '{\"type\":\"StateChange\",\"accountId\":42,\"changeId\":1,\"types\":[\"Email\",\"Mailbox\"]}'\n"
    "    agora publish --config node.json '{\"type\":\"BlockIp\",\"address\":\"198.51.100.0/24\"}'\n"
    "    tail -f /var/log/blocks.jsonl | agora publish --config node.json\n"
    "    agora watch --config a.json --events-only | agora publish --config b.json\n";

#define MAX_LINE (16u << 20) /* a longer line is refused, not buffered forever */

static void on_event(agora_t *a, const agora_event *ev, void *user) {
    /* A publisher does not consume the others' events: drop them on the I/O thread
     * so that they never pile up in the delivery queue. It only notes that another
     * member was there at some point (see sent_nowhere). */
    (void)a;
    if (ev->type == AGORA_EV_MEMBER_JOINED) atomic_store((atomic_bool *)user, true);
}

static bool is_notice(agora_event_type t) {
    return t == AGORA_EV_GAP || t == AGORA_EV_MEMBER_JOINED || t == AGORA_EV_MEMBER_LEFT ||
           t == AGORA_EV_MEMBER_FAILED;
}

/* Does this line (valid JSON that is not a valid event) name a local notice in its
 * "type"? A light scan for the first "type" key (after '{' or ','): the notice lines
 * 'agora watch' prints are flat objects, and one with fields missing must still be
 * recognised. */
static bool notice_line(const char *line, size_t len) {
    const char *end = line + len, *p = line;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    if (p == end || *p != '{') return false;
    static const char key[] = "\"type\"";
    for (const char *k = p; (k = memmem(k, (size_t)(end - k), key, sizeof key - 1)); k++) {
        const char *b = k;
        while (b > p && (b[-1] == ' ' || b[-1] == '\t')) b--;
        if (b[-1] != '{' && b[-1] != ',') continue; /* inside a value, not a key */
        const char *v = k + sizeof key - 1;
        while (v < end && (*v == ' ' || *v == '\t')) v++;
        if (v == end || *v++ != ':') return false;
        while (v < end && (*v == ' ' || *v == '\t')) v++;
        if (v == end || *v++ != '"') return false;
        const char *q = memchr(v, '"', (size_t)(end - v));
        char name[40];
        if (!q || (size_t)(q - v) >= sizeof name) return false;
        memcpy(name, v, (size_t)(q - v));
        name[q - v] = 0;
        int type = agora_event_type_from_name(name);
        return type >= 0 && is_notice((agora_event_type)type);
    }
    return false;
}

typedef struct pub_state {
    agora_t *node;
    agora_codec codec;
    uint64_t published, skipped, bad;
    bool fatal;
} pub_state;

static bool blank(const char *s, size_t n) {
    for (size_t k = 0; k < n; k++)
        if (s[k] != ' ' && s[k] != '\t' && s[k] != '\r') return false;
    return true;
}

/* Is the event larger than the backend lets one event be? *size: its encoded size
 * (a one-event batch less an empty one: the event's own bytes). */
static bool over_size(pub_state *ps, const agora_event *ev, size_t *size) {
    agora_batch_header h = {.kind = AGORA_BATCH_EVENTS, .incarnation = 1, .first_seq = 1};
    uint8_t *one = NULL, *none = NULL;
    size_t one_len = 0, none_len = 0;
    bool over = false;
    if (agora_batch_encode(ps->codec, &h, ev, 1, &one, &one_len, NULL, 0) == AGORA_OK &&
        agora_batch_encode(ps->codec, &h, NULL, 0, &none, &none_len, NULL, 0) == AGORA_OK) {
        *size = one_len - none_len;
        over = *size > agora_max_event_size(ps->node);
    }
    free(one);
    free(none);
    return over;
}

/* Publish one event; `where` is "line 3" or "argument 2". */
static void publish_one(pub_state *ps, const agora_event *ev, const char *where) {
    size_t size = 0;
    int rc = agora_publish(ps->node, ev);
    if (rc == AGORA_OK) {
        ps->published++;
        return;
    }
    if (rc == AGORA_EUNSUPPORTED)
        cli_error("publish", "%s: %s cannot be carried by the configured codec (the stalwart "
                  "codec carries Stalwart's own kinds only); skipped",
                  where, agora_event_type_name(ev->type));
    else if (rc == AGORA_EINVAL && over_size(ps, ev, &size))
        cli_error("publish", "%s: cannot publish %s: it takes %zu bytes encoded, more than the "
                  "%zu bytes one event may take on this backend (its message size limit); "
                  "skipped", where, agora_event_type_name(ev->type), size,
                  agora_max_event_size(ps->node));
    else
        cli_error("publish", "%s: cannot publish %s: %s", where, agora_event_type_name(ev->type),
                  agora_strerror(rc));
    ps->bad++;
    if (rc == AGORA_ECLOSED || rc == AGORA_ENOMEM) ps->fatal = true;
}

static void handle_line(pub_state *ps, char *line, size_t len, uint64_t lineno) {
    if (blank(line, len)) return;
    char where[48], err[512];
    snprintf(where, sizeof where, "line %llu", (unsigned long long)lineno);
    agora_event ev;
    if (agora_event_from_json(line, len, &ev, err, sizeof err) != AGORA_OK) {
        /* A notice from 'agora watch', even if partial (but not malformed JSON: the
         * JSON reader's syntax errors start with "line N, column M"). */
        if (strncmp(err, "line ", 5) != 0 && notice_line(line, len)) {
            ps->skipped++;
            return;
        }
        /* The JSON reader counts lines within the text: drop its "line 1, ". */
        const char *e = strncmp(err, "line 1, ", 8) ? err : err + 8;
        cli_error("publish", "%s: %s", where, e);
        ps->bad++;
        return;
    }
    if (is_notice(ev.type)) ps->skipped++;
    else publish_one(ps, &ev, where);
    agora_event_clear(&ev);
}

/* Read standard input until end (or a signal), publishing each line. */
static int stream_stdin(pub_state *ps) {
    size_t cap = 64 * 1024, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        cli_error("publish", "out of memory");
        return -1;
    }
    uint64_t lineno = 0;
    bool eof = false, skipping = false; /* skipping: the rest of an oversized line */
    int rc = 0;
    struct pollfd p[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
                          {.fd = cli_signal_fd(), .events = POLLIN}};
    while (!eof && !ps->fatal && !cli_signal_caught()) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            cli_error("publish", "poll: %s", strerror(errno));
            rc = -1;
            break;
        }
        if (cli_signal_caught()) break;
        if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL))) continue;
        if (len == cap) {
            char *nb = cap < MAX_LINE ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                /* Keep the stream going: report the line and drop the rest of it. */
                cli_error("publish", "line %llu: longer than %u bytes; skipped",
                          (unsigned long long)lineno + 1, MAX_LINE);
                ps->bad++;
                skipping = true;
                len = 0;
            } else {
                buf = nb;
                cap *= 2;
            }
        }
        ssize_t r = read(STDIN_FILENO, buf + len, cap - len);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            cli_error("publish", "cannot read standard input: %s", strerror(errno));
            rc = -1;
            break;
        }
        if (r == 0) eof = true;
        len += (size_t)r;
        size_t start = 0;
        for (;;) {
            char *nl = memchr(buf + start, '\n', len - start);
            if (!nl) break;
            size_t n = (size_t)(nl - (buf + start));
            lineno++;
            if (skipping) skipping = false;
            else handle_line(ps, buf + start, n, lineno);
            start += n + 1;
        }
        if (eof && start < len) { /* a last line without newline */
            lineno++;
            if (!skipping) handle_line(ps, buf + start, len - start, lineno);
            start = len;
        }
        memmove(buf, buf + start, len - start);
        len -= start;
    }
    free(buf);
    return rc;
}

/* Did the events go to nobody: no other member alive at any time of the run (one
 * that received and left meanwhile counts)? Only a coordinator with membership can
 * tell, and a Kafka broker keeps them for members that join later. */
static bool sent_nowhere(agora_t *node, bool has_membership, bool saw_member) {
    if (!has_membership || saw_member || cli_alive_others(node) > 0) return false;
    agora_status st;
    return agora_get_status(node, &st) != AGORA_OK || strcmp(st.backend, "Kafka") != 0;
}

int cli_publish(int argc, char **argv) {
    enum { OPT_WAIT_MEMBERS = CLI_OPT_OWN, OPT_FLUSH_TIMEOUT };
    static const struct option longopts[] = {
        CLI_NODE_LONGOPTS,
        {"wait-members", required_argument, NULL, OPT_WAIT_MEMBERS},
        {"flush-timeout", required_argument, NULL, OPT_FLUSH_TIMEOUT},
        {0}};
    cli_node_opts o = {.node_id = -1};
    uint64_t wait_ms = 5000, flush_ms = 10000;
    int opt, status = -1;
    optind = 0;
    while (status < 0 &&
           (opt = cli_getopt("publish", argc, argv, CLI_NODE_SHORTOPTS, longopts)) != -1) {
        if (cli_node_option("publish", opt, optarg, &o, publish_help, &status)) continue;
        if (opt == OPT_WAIT_MEMBERS &&
            cli_parse_duration("publish", "--wait-members", optarg, &wait_ms))
            status = CLI_EXIT_USAGE;
        if (opt == OPT_FLUSH_TIMEOUT &&
            cli_parse_duration("publish", "--flush-timeout", optarg, &flush_ms))
            status = CLI_EXIT_USAGE;
    }
    if (status >= 0) return status;
    /* The operands are the events (getopt_long moved them behind the options). */
    char **events = argv + optind;
    int nevents = argc - optind;

    /* Check every argument before joining: all or nothing. */
    agora_event *evs = calloc((size_t)nevents + 1, sizeof *evs);
    if (!evs) {
        free(events);
        return CLI_EXIT_FAIL;
    }
    for (int k = 0; k < nevents; k++) {
        char err[512];
        if (agora_event_from_json(events[k], strlen(events[k]), &evs[k], err, sizeof err)) {
            cli_error("publish", "argument %d: %s", k + 1, err);
            status = CLI_EXIT_USAGE;
        } else if (is_notice(evs[k].type)) {
            cli_error("publish", "argument %d: %s is a local notice of the receiving node, "
                      "not an event that can be published", k + 1,
                      agora_event_type_name(evs[k].type));
            status = CLI_EXIT_USAGE;
        }
    }
    agora_config *cfg = status < 0 ? cli_load_config("publish", &o) : NULL;
    /* All or nothing includes the codec: an argument it cannot carry publishes none. */
    for (int k = 0; cfg && k < nevents; k++)
        if (agora_config_codec(cfg) == AGORA_CODEC_STALWART &&
            !agora_event_type_is_stalwart(evs[k].type)) {
            cli_error("publish", "argument %d: %s cannot be carried by the stalwart codec (it "
                      "carries Stalwart's own kinds only); nothing published", k + 1,
                      agora_event_type_name(evs[k].type));
            status = CLI_EXIT_USAGE;
        }
    if (cfg && status >= 0) {
        agora_config_free(cfg);
        cfg = NULL;
    }
    if (!cfg) {
        agora_events_free(evs, (size_t)nevents);
        return CLI_EXIT_USAGE;
    }
    if (cli_signals_init() != 0) {
        cli_error("publish", "cannot set up signal handling: %s", strerror(errno));
        agora_config_free(cfg);
        agora_events_free(evs, (size_t)nevents);
        return CLI_EXIT_FAIL;
    }
    atomic_bool saw_member = false; /* set on the I/O thread by on_event */
    agora_options opts = {.on_event = on_event,
                          .on_event_user = &saw_member,
                          .callbacks_on_io_thread = true,
                          .log_level = cli_log_level(&o, AGORA_LOG_WARN)};
    pub_state ps = {.codec = agora_config_codec(cfg)};
    status = cli_open("publish", cfg, &opts, &ps.node);
    uint64_t settle_ms = cli_settle_window_ms(cfg);
    bool has_membership = agora_config_has_membership(cfg);
    agora_config_free(cfg);
    if (status) {
        agora_events_free(evs, (size_t)nevents);
        return status;
    }

    if (wait_ms && has_membership) {
        int n = cli_wait_settled(ps.node, 1, settle_ms, wait_ms);
        if (n == 0 && !cli_signal_caught())
            cli_error("publish", "warning: no other member is alive after %llu ms; publishing "
                      "anyway (only members connected when an event leaves receive it)",
                      (unsigned long long)wait_ms);
    }
    if (o.verbosity > 0) /* scripts wait for this line before timing a stream */
        fprintf(stderr, "agora publish: ready: %d other members alive; publishing %s\n",
                cli_alive_others(ps.node), nevents ? "the arguments" : "standard input");

    int in_rc = 0;
    if (nevents) {
        /* All or nothing, as the help says: an event larger than the backend takes is
         * found before any leaves. Then all at once, so that they leave together, in
         * one message where they fit (for the stalwart codec, the batch 'agora encode'
         * makes of them). */
        for (int k = 0; k < nevents; k++) {
            size_t size = 0;
            if (!over_size(&ps, &evs[k], &size)) continue;
            cli_error("publish", "argument %d: cannot publish %s: it takes %zu bytes encoded, "
                      "more than the %zu bytes one event may take on this backend (its "
                      "message size limit); nothing was published", k + 1,
                      agora_event_type_name(evs[k].type), size, agora_max_event_size(ps.node));
            agora_events_free(evs, (size_t)nevents);
            agora_close(ps.node);
            return CLI_EXIT_USAGE;
        }
        int rc = agora_publish_many(ps.node, evs, (size_t)nevents);
        if (rc == AGORA_OK) {
            ps.published = (uint64_t)nevents;
        } else {
            cli_error("publish", "cannot publish the arguments: %s", agora_strerror(rc));
            ps.bad++;
        }
    } else if (!cli_signal_caught()) {
        in_rc = stream_stdin(&ps);
    }
    agora_events_free(evs, (size_t)nevents);

    status = CLI_EXIT_OK;
    int frc = agora_flush(ps.node, (int)(flush_ms > 0x7fffffff ? 0x7fffffff : flush_ms));
    if (frc != AGORA_OK) {
        agora_status st;
        agora_get_status(ps.node, &st);
        cli_error("publish", "%llu of %llu events not handed over within %llu ms (%s backend %s%s%s)",
                  (unsigned long long)st.outbox_depth, (unsigned long long)ps.published,
                  (unsigned long long)flush_ms, st.backend,
                  st.connected ? "connected" : "disconnected", *st.server ? ", " : "", st.server);
        status = CLI_EXIT_FAIL;
    }
    if (o.verbosity > 0)
        fprintf(stderr, "agora publish: %llu events published, %llu notices skipped, %llu bad, "
                "%d other members alive\n", (unsigned long long)ps.published,
                (unsigned long long)ps.skipped, (unsigned long long)ps.bad,
                cli_alive_others(ps.node));
    if (ps.bad || in_rc) status = CLI_EXIT_FAIL;
    if (ps.published && sent_nowhere(ps.node, has_membership, atomic_load(&saw_member))) {
        cli_error("publish", "no other member was alive: the %llu events were sent nowhere "
                  "(check the other nodes, the secret and the encryption setting)",
                  (unsigned long long)ps.published);
        status = CLI_EXIT_NOBODY;
    }
    int gave_up = cli_gave_up("publish", ps.node);
    if (gave_up) status = gave_up;
    agora_close(ps.node);
    return status;
}
