/* cli_top.c — `agora top --from HOST:PORT`: a live view of a node's admin endpoint,
 * refreshed every interval: per member its state, last heard and events/s; per event
 * type the events/s published and received; gaps. --json prints one snapshot object
 * per interval instead. */
#include "cli/cli.h"
#include "cli/cli_common.h"
#include "cli/cli_inspect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char top_help[] =
    "NAME\n"
    "    agora top - a live view of a running node, read from its admin endpoint\n"
    "\n"
    "SYNOPSIS\n"
    "    agora top --from HOST:PORT [--interval D] [--count N] [--json]\n"
    "              [--token-file F] [--timeout D]\n"
    "\n"
    "DESCRIPTION\n"
    "    Reads /api/status and /api/members from the admin endpoint of a node started\n"
    "    with 'agora serve --http HOST:PORT' every --interval and shows: the backend\n"
    "    and whether it is connected; per member its state, address, seconds since\n"
    "    last heard and events/s received from it; per event type the events/s this\n"
    "    node published and received during the interval; and the gaps (total, and\n"
    "    new in the interval). It does not join the cluster.\n"
    "    With --json it prints one JSON object per interval instead of redrawing the\n"
    "    terminal:\n"
    "        {\"time\":\"...\",\"node\":1,\"intervalSeconds\":1.0,\"connected\":true,\n"
    "         \"gaps\":0,\"newGaps\":0,\"members\":[{\"node\":2,\"state\":\"alive\",...}],\n"
    "         \"types\":{\"BlockIp\":{\"publishedPerSecond\":0,\"receivedPerSecond\":2.0}}}\n"
    "    It runs until SIGINT (Ctrl-C), or for --count intervals.\n"
    "\n"
    "OPTIONS\n"
    "    --from HOST:PORT   the node's admin endpoint (required)\n"
    "    --interval D       refresh every D (default 1s, at least 100ms)\n"
    "    --count N          stop after N refreshes (default: until stopped)\n"
    "    --json             one JSON snapshot per interval, one per line\n"
    "    --token-file F     read the bearer token (the node's \"httpToken\") from F\n"
    "    --timeout D        give up on the node after D per request (default 5s)\n"
    "    -h, --help         show this help\n"
    "\n"
    "EXIT STATUS\n"
    "    0  stopped by --count or SIGINT\n"
    "    1  the node could not be reached, or answered an error (the reason on stderr)\n"
    "    2  bad arguments\n"
    "\n"
    "EXAMPLES\n"
    "    agora top --from 127.0.0.1:9911\n"
    "    agora top --from 127.0.0.1:9911 --json --count 5 --interval 2s\n";

typedef struct sample {
    ag_json *status;  /* /api/status */
    ag_json *members; /* /api/members */
    uint64_t at_ms;
} sample;

static void sample_free(sample *s) {
    ag_json_free(s->status);
    ag_json_free(s->members);
    memset(s, 0, sizeof *s);
}

static bool take(const inspect_opts *o, sample *s) {
    s->status = inspect_get_json("top", o, "/api/status");
    s->members = s->status ? inspect_get_json("top", o, "/api/members") : NULL;
    s->at_ms = cli_now_ms();
    return s->status && s->members;
}

/* Per-second change of eventTypes.<type>.<key> between two samples. */
static double type_rate(const sample *prev, const sample *cur, const char *type, const char *key,
                        double secs) {
    const ag_json *pt = ag_json_get(ag_json_get(prev->status, "eventTypes"), type);
    const ag_json *ct = ag_json_get(ag_json_get(cur->status, "eventTypes"), type);
    double d = inspect_num(ct, key) - inspect_num(pt, key);
    return d > 0 ? d / secs : 0;
}

static void put_str(ag_buf *b, const char *s) { ag_json_put_string(b, s, strlen(s)); }

static bool print_json(const sample *prev, const sample *cur, double secs) {
    const ag_json *st = ag_json_get(cur->status, "status");
    double gaps = inspect_num(st, "gaps");
    double new_gaps = gaps - inspect_num(ag_json_get(prev->status, "status"), "gaps");
    char at[40];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(at, sizeof at, "%Y-%m-%dT%H:%M:%SZ", &tm);
    ag_buf b;
    ag_buf_init(&b);
    ag_buf_printf(&b, "{\"time\":\"%s\",\"node\":%.0f,\"intervalSeconds\":%.3f,\"backend\":", at,
                  inspect_num(cur->status, "node"), secs);
    put_str(&b, inspect_str(st, "backend"));
    ag_buf_printf(&b, ",\"connected\":%s,\"gaps\":%.0f,\"newGaps\":%.0f,\"members\":[",
                  inspect_num(st, "connected") ? "true" : "false", gaps, new_gaps > 0 ? new_gaps : 0);
    const ag_json *m = ag_json_get(cur->members, "members");
    for (size_t i = 0; m && m->type == AG_JSON_ARRAY && i < m->count; i++) {
        const ag_json *x = m->items[i];
        ag_buf_printf(&b, "%s{\"node\":%.0f,\"state\":", i ? "," : "", inspect_num(x, "node"));
        put_str(&b, inspect_str(x, "state"));
        ag_buf_printf(&b, ",\"self\":%s,\"address\":", inspect_num(x, "self") ? "true" : "false");
        put_str(&b, inspect_str(x, "address"));
        ag_buf_printf(&b, ",\"lastHeardSeconds\":%.3f,\"eventsPerSecond\":%.3f}",
                      inspect_num(x, "lastHeardSeconds"), inspect_num(x, "eventsPerSecond"));
    }
    ag_buf_puts(&b, "],\"types\":{");
    const ag_json *types = ag_json_get(cur->status, "eventTypes");
    for (size_t i = 0; types && types->type == AG_JSON_OBJECT && i < types->count; i++) {
        if (i) ag_buf_puts(&b, ",");
        put_str(&b, types->keys[i]);
        ag_buf_printf(&b, ":{\"publishedPerSecond\":%.3f,\"receivedPerSecond\":%.3f}",
                      type_rate(prev, cur, types->keys[i], "published", secs),
                      type_rate(prev, cur, types->keys[i], "received", secs));
    }
    ag_buf_puts(&b, "}}");
    bool ok = !b.oom && cli_put_line(b.text);
    ag_buf_free(&b);
    return ok;
}

static void print_screen(const inspect_opts *o, const sample *prev, const sample *cur, double secs) {
    const ag_json *st = ag_json_get(cur->status, "status");
    double gaps = inspect_num(st, "gaps");
    double new_gaps = gaps - inspect_num(ag_json_get(prev->status, "status"), "gaps");
    fputs("\033[H\033[2J", stdout); /* home, clear */
    printf("agora top - node %.0f at %s - %s %s - every %.1fs (Ctrl-C stops)\n\n",
           inspect_num(cur->status, "node"), o->t.from, inspect_str(st, "backend"),
           inspect_num(st, "connected") ? "connected" : "DISCONNECTED", secs);
    printf("%-7s %-8s %-28s %10s %9s\n", "NODE", "STATE", "ADDRESS", "LAST HEARD", "EVENTS/S");
    const ag_json *m = ag_json_get(cur->members, "members");
    for (size_t i = 0; m && m->type == AG_JSON_ARRAY && i < m->count; i++) {
        const ag_json *x = m->items[i];
        char node[16];
        snprintf(node, sizeof node, "%.0f%s", inspect_num(x, "node"), inspect_num(x, "self") ? "*" : "");
        printf("%-7s %-8s %-28s %9.1fs %9.1f\n", node, inspect_str(x, "state"),
               inspect_str(x, "address"), inspect_num(x, "lastHeardSeconds"),
               inspect_num(x, "eventsPerSecond"));
    }
    printf("\n%-22s %12s %12s\n", "TYPE", "PUBLISHED/S", "RECEIVED/S");
    const ag_json *types = ag_json_get(cur->status, "eventTypes");
    for (size_t i = 0; types && types->type == AG_JSON_OBJECT && i < types->count; i++)
        printf("%-22s %12.1f %12.1f\n", types->keys[i],
               type_rate(prev, cur, types->keys[i], "published", secs),
               type_rate(prev, cur, types->keys[i], "received", secs));
    printf("\ngaps %.0f (%.0f new)  queue %.0f  outbox %.0f  dropped %.0f\n", gaps,
           new_gaps > 0 ? new_gaps : 0, inspect_num(st, "queueDepth"), inspect_num(st, "outboxDepth"),
           inspect_num(st, "dropped") + inspect_num(st, "queueDropped"));
    fflush(stdout);
}

int cli_top(int argc, char **argv) {
    inspect_opts o;
    int rc = inspect_parse("top", argc, argv, top_help, true, &o);
    if (rc >= 0) {
        cli_http_target_free(&o.t);
        return rc;
    }
    if (cli_signals_init() != 0) {
        cli_error("top", "cannot set up signal handling: %s", strerror(errno));
        cli_http_target_free(&o.t);
        return CLI_EXIT_FAIL;
    }
    sample prev = {0}, cur = {0};
    rc = CLI_EXIT_OK;
    if (!take(&o, &prev)) rc = CLI_EXIT_FAIL;
    for (uint64_t n = 0; rc == CLI_EXIT_OK && (!o.count || n < o.count); n++) {
        uint64_t due = prev.at_ms + o.interval_ms, now = cli_now_ms();
        if (due > now && cli_wait_signal((int)(due - now))) break;
        if (!take(&o, &cur)) {
            rc = CLI_EXIT_FAIL;
            break;
        }
        double secs = (double)(cur.at_ms - prev.at_ms) / 1000.0;
        if (secs <= 0) secs = 0.001;
        if (o.json) {
            if (!print_json(&prev, &cur, secs)) rc = CLI_EXIT_FAIL;
        } else {
            print_screen(&o, &prev, &cur, secs);
        }
        sample_free(&prev);
        prev = cur;
        memset(&cur, 0, sizeof cur);
    }
    sample_free(&prev);
    sample_free(&cur);
    cli_http_target_free(&o.t);
    return rc;
}
