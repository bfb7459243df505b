/* cli_config.c — `agora config check FILE`: validate a configuration and print the
 * effective configuration (defaults filled in, secrets masked). */
#include "cli/cli.h"
#include "cli/cli_common.h"

#include "agora.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char config_help[] =
    "NAME\n"
    "    agora config - check an agora configuration file\n"
    "\n"
    "SYNOPSIS\n"
    "    agora config check [--node-id N] FILE\n"
    "    agora config --help\n"
    "\n"
    "DESCRIPTION\n"
    "    A configuration is one JSON file: either a bare coordinator object, as Stalwart\n"
    "    stores it ({\"@type\": \"Kafka\", \"brokers\": [...], ...}), or a node file\n"
    "    ({\"nodeId\": 3, \"codec\": \"agora\", \"coordinator\": {...}}) that also sets the\n"
    "    node's id, its codec and agora's timing settings.\n"
    "\n"
    "    check FILE\n"
    "        Read FILE (\"-\" reads standard input), validate every field, and print the\n"
    "        effective configuration on standard output as JSON in node-file form: every\n"
    "        default filled in, durations in their largest exact unit, and every secret\n"
    "        (authSecret, sentinelSecret, secret, credentials, passwords in URLs) shown\n"
    "        as \"********\". The output is itself a valid configuration.\n"
    "\n"
    "        If the file is not valid, nothing is printed on standard output; every\n"
    "        problem found is printed on standard error, one per line, each naming the\n"
    "        file and the field's path, for example:\n"
    "            node.json: coordinator.timeoutSession: expected a duration such as \"5s\"\n"
    "        Malformed JSON is reported with its line and column.\n"
    "\n"
    "OPTIONS\n"
    "    --node-id N\n"
    "        Override the file's nodeId (0-65535), as the other commands do.\n"
    "    -h, --help\n"
    "        Print this help and exit.\n"
    "\n"
    "COORDINATORS (\"@type\")\n"
    "    PeerToPeer     agora's own TCP mesh: listen, peers, secret, encryption,\n"
    "                   advertise, reconnectMin, reconnectMax, resendBuffer,\n"
    "                   maxFrameSize, connectTimeout\n"
    "    Kafka          brokers, groupId, timeoutSession, timeoutMessage\n"
    "    Nats           addresses, maxReconnects, timeoutConnection, timeoutRequest,\n"
    "                   pingInterval, capacityClient, capacityReadBuffer,\n"
    "                   capacitySubscription, noEcho, useTls, authUsername,\n"
    "                   authSecret, credentials\n"
    "    Redis          url, timeout\n"
    "    RedisCluster   urls, timeout, authUsername, authSecret, maxRetries,\n"
    "                   minRetryWait, maxRetryWait, readFromReplicas, protocolVersion\n"
    "    RedisSentinel  urls, serviceName, timeout, authUsername, authSecret,\n"
    "                   sentinelUsername, sentinelSecret\n"
    "    Disabled       no fields\n"
    "    Node file keys: nodeId, codec (\"agora\" or \"stalwart\"), coordinator,\n"
    "    heartbeatInterval, failureTimeout, outboxLimit, outboxBytes, memberRetention.\n"
    "    Durations are strings such as \"250ms\", \"5s\", \"1m\", \"1h\", \"1d\", or an integer\n"
    "    count of milliseconds.\n"
    "\n"
    "EXIT STATUS\n"
    "    0   the configuration is valid (it was printed)\n"
    "    2   the configuration is invalid, the file cannot be read, or the arguments\n"
    "        are wrong\n"
    "\n"
    "EXAMPLES\n"
    "    agora config check node1.json\n"
    "    agora config check --node-id 7 cluster.json > effective.json\n"
    "    echo '{\"@type\":\"Redis\"}' | agora config check -\n"
    "\n"
    "SEE ALSO\n"
    "    docs/configuration.md (every backend, field, type and default), agora --help\n";

static int usage_error(const char *msg) {
    fprintf(stderr, "agora config: %s\nUsage: agora config check [--node-id N] FILE "
                    "(try 'agora config --help')\n",
            msg);
    return CLI_EXIT_USAGE;
}

/* Parse a node id 0..65535; -1 if invalid. */
static long parse_node_id(const char *s) {
    if (!s || !*s || strlen(s) > 5) return -1;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (*p - '0');
    }
    return v <= 65535 ? v : -1;
}

static agora_config *load_stdin(char *err, size_t errlen) {
    size_t cap = 8192, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        snprintf(err, errlen, "-: out of memory");
        return NULL;
    }
    size_t n;
    while ((n = fread(buf + len, 1, cap - len, stdin)) > 0) {
        len += n;
        if (len == cap) {
            if (cap >= (16u << 20)) {
                free(buf);
                snprintf(err, errlen, "-: the configuration is larger than 16 MiB");
                return NULL;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                snprintf(err, errlen, "-: out of memory");
                return NULL;
            }
            buf = nb;
            cap *= 2;
        }
    }
    if (ferror(stdin)) {
        free(buf);
        snprintf(err, errlen, "-: cannot read standard input");
        return NULL;
    }
    /* prefix every error line with "-: " as agora_config_load does with a file name */
    char inner[8192];
    agora_config *cfg = agora_config_parse(buf, len, inner, sizeof inner);
    free(buf);
    if (!cfg) {
        size_t off = 0;
        const char *s = inner;
        for (;;) {
            const char *nl = strchr(s, '\n');
            int w = snprintf(err + off, errlen - off, "%s-: %.*s", s == inner ? "" : "\n",
                             (int)(nl ? nl - s : (long)strlen(s)), s);
            if (w < 0 || (size_t)w >= errlen - off) break;
            off += (size_t)w;
            if (!nl) break;
            s = nl + 1;
        }
    }
    return cfg;
}

static int config_check(int argc, char **argv) {
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'}, {"node-id", required_argument, NULL, 'n'}, {0}};
    long node_id = -1;
    int opt;
    optind = 0;
    while ((opt = cli_getopt("config", argc, argv, ":h", longopts)) != -1) {
        if (opt == '?') return CLI_EXIT_USAGE;
        if (opt == 'h') {
            fputs(config_help, stdout);
            return CLI_EXIT_OK;
        }
        node_id = parse_node_id(optarg);
        if (node_id < 0) return usage_error("--node-id: expected a number from 0 to 65535");
    }
    if (argc - optind > 1) return usage_error("only one FILE may be given");
    const char *file = optind < argc ? argv[optind] : NULL;
    if (!file) return usage_error("missing FILE");

    char err[16384];
    agora_config *cfg =
        !strcmp(file, "-") ? load_stdin(err, sizeof err) : agora_config_load(file, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "%s\n", err);
        return CLI_EXIT_USAGE;
    }
    if (node_id >= 0) agora_config_set_node_id(cfg, (uint16_t)node_id);
    char *json = agora_config_to_json(cfg);
    agora_config_free(cfg);
    if (!json) {
        fprintf(stderr, "agora config: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    printf("%s\n", json);
    free(json);
    if (fflush(stdout) != 0) {
        perror("agora config: writing the output");
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

int cli_config(int argc, char **argv) {
    if (argc < 2) {
        fputs(config_help, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
        fputs(config_help, stdout);
        return CLI_EXIT_OK;
    }
    if (!strcmp(sub, "check")) return config_check(argc - 1, argv + 1);
    fprintf(stderr, "agora config: unknown subcommand '%s' (try 'agora config --help')\n", sub);
    return CLI_EXIT_USAGE;
}
