/* cli_bench.c — `agora bench`: its help and options; the benchmark itself is
 * src/bench/ (bench_run). */
#include "cli/cli.h"
#include "cli/cli_common.h"

#include "agora.h"
#include "bench/bench_run.h"
#include "bench/bench_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char bench_help[] =
    "NAME\n"
    "    agora bench - measure agora's throughput, latency, losses and memory\n"
    "\n"
    "SYNOPSIS\n"
    "    agora bench --config FILE --nodes N [--events K | --duration D] [--rate R]\n"
    "                [--mix M] [--publishers P] [--batch B] [--window W]\n"
    "                [--codec agora|stalwart] [--warmup D] [--drain D] [--json] [-q] [-v]\n"
    "\n"
    "DESCRIPTION\n"
    "    Starts N nodes inside this process (one coordinator each, from FILE, with node\n"
    "    ids 1..N), waits until every node hears every other one, then publishes from\n"
    "    each node, either K events or for the duration D, at R events per second per\n"
    "    node or as fast as possible, and measures at each receiver:\n"
    "\n"
    "      - events and bytes delivered per second (all receivers together; bytes are\n"
    "        the backend payloads received, framing and heartbeats included),\n"
    "      - end-to-end latency from the agora_publish call to the event callback:\n"
    "        p50, p90, p99, p99.9 and max, over every delivered event,\n"
    "      - lost and duplicated events, counted per origin from a sequence number\n"
    "        each event carries,\n"
    "      - the process's peak RSS (VmHWM), its RSS when idle (nodes joined, nothing\n"
    "        published), at 10% of the run and at the end (a flat run keeps the last\n"
    "        two close).\n"
    "\n"
    "    The publish time and sequence number travel inside ordinary event fields\n"
    "    (StateChange: changeId = publish time in CLOCK_MONOTONIC nanoseconds,\n"
    "    accountId = sequence). Receivers run their callback on agora's I/O thread\n"
    "    (agora_options.callbacks_on_io_thread), so no queue of the bench's own is\n"
    "    measured.\n"
    "\n"
    "    PeerToPeer: node i listens on the config's first listen port + i - 1 (same\n"
    "    host), node 1 has no seeds and every other node uses node 1 as its seed.\n"
    "    Broker backends (Redis, NATS, Kafka): every node uses the config as given;\n"
    "    the server must be running.\n"
    "\n"
    "    Flat out (no --rate), each publisher keeps at most W events that its slowest\n"
    "    receiver has not yet received (default: half the outbox limit), so the\n"
    "    outbox never overflows; latency then includes that much queueing. Measure\n"
    "    latency with --rate.\n"
    "\n"
    "    While it runs, a progress line goes to standard error every second. At the\n"
    "    end a table goes to standard output, or with --json a single JSON object:\n"
    "      {\"eventsPerSec\":..,\"bytesPerSec\":..,\"latencyUs\":{\"p50\":..,\"p90\":..,\n"
    "       \"p99\":..,\"p999\":..,\"max\":..},\"lost\":..,\"duplicated\":..,\"rssKiB\":..,\n"
    "       \"tool\":\"agora\",\"backend\":..,\"mix\":..,\"nodes\":..,\"rate\":..,\n"
    "       \"published\":..,\"delivered\":..,\"seconds\":..,\"rssIdleKiB\":..,\n"
    "       \"rssStartKiB\":..,\"rssEndKiB\":..,\"cpuSeconds\":..,\"cpuUsPerEvent\":..}\n"
    "    (cpuSeconds: the process's user + system CPU time during the run, all nodes\n"
    "    and threads together; it does not include a broker's own CPU.)\n"
    "\n"
    "OPTIONS\n"
    "    --config FILE       node file or coordinator object (see 'agora config --help')\n"
    "    --nodes N           nodes to start, 1-64 (default 2)\n"
    "    --events K          events each publishing node sends (default 100000;\n"
    "                        suffixes k, M: 10k, 1M)\n"
    "    --duration D        publish for D instead (\"30s\", \"10m\")\n"
    "    --rate R            events per second per publishing node (default: flat out)\n"
    "    --mix M             the kinds published, in turn: \"state\" (default,\n"
    "                        StateChange only), \"mixed\" (StateChange, EmailPush,\n"
    "                        CacheInvalidate, BlockIp; CalendarAlert instead of BlockIp\n"
    "                        with the stalwart codec), or a comma list of state, email,\n"
    "                        cache, blockip, calendar\n"
    "    --publishers P      only nodes 1..P publish; all N receive (default N)\n"
    "    --batch B           events per agora_publish_many call (default 1, max 1024)\n"
    "    --window W          flat-out limit of unconfirmed events per publisher\n"
    "                        (default: half the outbox limit); a publisher that\n"
    "                        reached it goes on once an eighth of it is free\n"
    "    --codec C           \"agora\" or \"stalwart\": override the file's codec\n"
    "    --delivery io|fd    io (default): the callback runs on agora's I/O thread;\n"
    "                        fd: a thread per node polls agora_fd() and calls\n"
    "                        agora_dispatch() (adds that wake-up to the latency)\n"
    "    --warmup D          how long nodes may take to hear each other (default 60s)\n"
    "    --drain D           after publishing, how long to wait without progress for\n"
    "                        missing events before counting them lost (default 10s)\n"
    "    --json              print the result as one JSON object\n"
    "    -q, --quiet         no progress line; agora logs errors only\n"
    "    -v, --verbose       agora logs at info level (default: warnings); twice: debug\n"
    "    -h, --help          show this help\n"
    "\n"
    "EXIT STATUS\n"
    "    0  every event was delivered exactly once to every other node\n"
    "    1  events were lost or duplicated, or the nodes never heard each other, or a\n"
    "       runtime failure\n"
    "    2  bad arguments or configuration\n"
    "\n"
    "EXAMPLES\n"
    "    agora bench --config examples/cluster/node1.json --nodes 2 --events 5M\n"
    "    agora bench --config p2p.json --nodes 2 --rate 10000 --duration 30s --json\n"
    "    agora bench --config nats.json --nodes 3 --mix mixed --duration 1m\n";

enum {
    OPT_CONFIG = 0x100,
    OPT_NODES,
    OPT_PUBLISHERS,
    OPT_EVENTS,
    OPT_DURATION,
    OPT_RATE,
    OPT_MIX,
    OPT_BATCH,
    OPT_WINDOW,
    OPT_CODEC,
    OPT_WARMUP,
    OPT_DRAIN,
    OPT_DELIVERY,
    OPT_JSON
};

static const struct option bench_longopts[] = {
    {"help", no_argument, NULL, 'h'},
    {"quiet", no_argument, NULL, 'q'},
    {"verbose", no_argument, NULL, 'v'},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"nodes", required_argument, NULL, OPT_NODES},
    {"publishers", required_argument, NULL, OPT_PUBLISHERS},
    {"events", required_argument, NULL, OPT_EVENTS},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"rate", required_argument, NULL, OPT_RATE},
    {"mix", required_argument, NULL, OPT_MIX},
    {"batch", required_argument, NULL, OPT_BATCH},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"codec", required_argument, NULL, OPT_CODEC},
    {"warmup", required_argument, NULL, OPT_WARMUP},
    {"drain", required_argument, NULL, OPT_DRAIN},
    {"delivery", required_argument, NULL, OPT_DELIVERY},
    {"json", no_argument, NULL, OPT_JSON},
    {0}};

/* One option's value into o. false (message printed) if it is invalid. */
static bool bench_option(int opt, const char *v, bench_options *o, bool *have_events) {
    uint64_t u;
    switch (opt) {
    case 'q': o->quiet = true; return true;
    case 'v': o->verbose++; return true;
    case OPT_JSON: o->json = true; return true;
    case OPT_CONFIG: o->config = v; return true;
    case OPT_MIX: o->mix = v; return true;
    case OPT_NODES:
        if (bst_parse_count(v, &u) || u < 1 || u > BENCH_MAX_NODES) {
            cli_error("bench", "--nodes: expected 1 to %d", BENCH_MAX_NODES);
            return false;
        }
        o->nodes = (int)u;
        return true;
    case OPT_PUBLISHERS:
        if (bst_parse_count(v, &u) || u > BENCH_MAX_NODES) {
            cli_error("bench", "--publishers: expected 0 to %d", BENCH_MAX_NODES);
            return false;
        }
        o->publishers = (int)u;
        return true;
    case OPT_EVENTS:
        if (bst_parse_count(v, &o->events)) {
            cli_error("bench", "--events: expected a count such as 100000, 10k or 1M");
            return false;
        }
        *have_events = true;
        return true;
    case OPT_DURATION:
        if (agora_parse_duration(v, &o->duration_ms) != AGORA_OK || o->duration_ms == 0) {
            cli_error("bench", "--duration: expected a duration such as \"30s\" or \"10m\"");
            return false;
        }
        return true;
    case OPT_RATE:
        if (bst_parse_count(v, &u)) {
            cli_error("bench", "--rate: expected events per second, such as 10000 or 10k");
            return false;
        }
        o->rate = (double)u;
        return true;
    case OPT_BATCH:
        if (bst_parse_count(v, &u) || u < 1 || u > BENCH_MAX_BATCH) {
            cli_error("bench", "--batch: expected 1 to %d", BENCH_MAX_BATCH);
            return false;
        }
        o->batch = (size_t)u;
        return true;
    case OPT_WINDOW:
        if (bst_parse_count(v, &o->window) || o->window < 1) {
            cli_error("bench", "--window: expected a positive count");
            return false;
        }
        return true;
    case OPT_CODEC:
        if (strcmp(v, "agora") && strcmp(v, "stalwart")) {
            cli_error("bench", "--codec: expected \"agora\" or \"stalwart\"");
            return false;
        }
        o->codec = v;
        return true;
    case OPT_WARMUP:
        if (agora_parse_duration(v, &o->warmup_ms) != AGORA_OK) {
            cli_error("bench", "--warmup: expected a duration such as \"30s\"");
            return false;
        }
        return true;
    case OPT_DRAIN:
        if (agora_parse_duration(v, &o->drain_ms) != AGORA_OK) {
            cli_error("bench", "--drain: expected a duration such as \"10s\"");
            return false;
        }
        return true;
    case OPT_DELIVERY:
        if (strcmp(v, "io") && strcmp(v, "fd")) {
            cli_error("bench", "--delivery: expected \"io\" or \"fd\"");
            return false;
        }
        o->fd_delivery = !strcmp(v, "fd");
        return true;
    default: /* '?': cli_getopt said what */
        return false;
    }
}

int cli_bench(int argc, char **argv) {
    bench_options o = {.nodes = 2, .publishers = -1, .mix = "state", .batch = 1,
                       .warmup_ms = 60000, .drain_ms = 10000};
    bool have_events = false;
    int opt;
    optind = 0;
    while ((opt = cli_getopt("bench", argc, argv, ":hqv", bench_longopts)) != -1) {
        if (opt == 'h') {
            fputs(bench_help, stdout);
            return CLI_EXIT_OK;
        }
        if (!bench_option(opt, optarg, &o, &have_events)) return CLI_EXIT_USAGE;
    }
    int st = cli_no_operands("bench", argc, argv);
    if (st >= 0) return st;
    if (!o.config) {
        cli_error("bench", "--config FILE is required (try --help)");
        return CLI_EXIT_USAGE;
    }
    if (have_events && o.duration_ms) {
        cli_error("bench", "give --events or --duration, not both");
        return CLI_EXIT_USAGE;
    }
    if (!have_events && !o.duration_ms) o.events = 100000;
    return bench_run(&o);
}
