/* cli_common.c — option parsing, configuration loading, node start-up and signal
 * handling shared by `agora serve|watch|publish|members`. */
#include "cli/cli_common.h"

#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- arguments ------------------------------------------------------------ */

void cli_error(const char *cmd, const char *fmt, ...) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "agora %s: %s\n", cmd, msg);
}

void cli_log(agora_log_level max, agora_log_level level, int node, const char *fmt, ...) {
    if (level > max) return;
    static const char *const names[] = {"info", "error", "warn", "info", "debug"};
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "%02d:%02d:%02d.%03ld agora %s: node %d: %s\n", tm.tm_hour, tm.tm_min,
            tm.tm_sec, ts.tv_nsec / 1000000L, names[level <= AGORA_LOG_DEBUG ? level : 0], node,
            msg);
}

int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts) {
    opterr = 0; /* the messages below name the command */
    int prev = optind ? optind : 1;
    int opt = getopt_long(argc, argv, shortopts, longopts, NULL);
    if (opt != '?' && opt != ':') return opt;
    /* The option in error is the argument getopt_long just stepped over. */
    const char *arg = optind > prev ? argv[optind - 1] : argv[prev];
    if (opt == ':') {
        cli_error(cmd, "option %s needs a value (try 'agora %s --help')", arg, cmd);
    } else if (optopt && !strncmp(arg, "--", 2) && strchr(arg, '=')) {
        cli_error(cmd, "option %.*s takes no value", (int)(strchr(arg, '=') - arg), arg);
    } else if (optopt && strncmp(arg, "--", 2)) {
        cli_error(cmd, "unknown option '-%c' (try 'agora %s --help')", optopt, cmd);
    } else {
        cli_error(cmd, "unknown option '%s' (try 'agora %s --help')", arg, cmd);
    }
    return '?';
}

int cli_no_operands(const char *cmd, int argc, char **argv) {
    if (optind >= argc) return -1;
    cli_error(cmd, "unexpected argument '%s' (try 'agora %s --help')", argv[optind], cmd);
    return CLI_EXIT_USAGE;
}

int cli_parse_uint(const char *cmd, const char *opt, const char *text, uint64_t max,
                   uint64_t *out) {
    const char *p = text;
    bool ok = *p != 0;
    uint64_t v = 0;
    for (; ok && *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - 9) / 10) {
            ok = false;
            break;
        }
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (!ok || v > max) {
        cli_error(cmd, "%s: expected an integer from 0 to %llu, got \"%s\"", opt,
                  (unsigned long long)max, text);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_duration(const char *cmd, const char *opt, const char *text, uint64_t *ms) {
    if (agora_parse_duration(text, ms) != AGORA_OK) {
        cli_error(cmd, "%s: expected a duration such as \"500ms\", \"5s\", \"1m\" (or a number "
                  "of milliseconds), got \"%s\"", opt, text);
        return -1;
    }
    return 0;
}

/* HOST:PORT; the host holds no quote, backslash, space or control byte, so the
 * address can be written into JSON as it is (override_listen). */
static bool valid_listen(const char *v) {
    for (const unsigned char *c = (const unsigned char *)v; *c; c++)
        if (*c <= ' ' || *c == '"' || *c == '\\' || *c == 0x7f) return false;
    const char *colon = strrchr(v, ':');
    bool ok = colon && colon != v && colon[1];
    for (const char *c = ok ? colon + 1 : ""; *c; c++)
        if (*c < '0' || *c > '9') ok = false;
    return ok && strlen(colon + 1) <= 5 && atol(colon + 1) <= 65535;
}

bool cli_node_option(const char *cmd, int opt, const char *arg, cli_node_opts *o,
                     const char *help, int *stop) {
    uint64_t id;
    switch (opt) {
    case 'h':
        fputs(help, stdout);
        *stop = CLI_EXIT_OK;
        return true;
    case '?':
        *stop = CLI_EXIT_USAGE;
        return true;
    case 'v':
        o->verbosity++;
        return true;
    case 'q':
        o->verbosity--;
        return true;
    case CLI_OPT_CONFIG:
        if (!*arg) {
            cli_error(cmd, "--config: expected a file name");
            *stop = CLI_EXIT_USAGE;
        }
        o->config = arg;
        return true;
    case CLI_OPT_NODE_ID:
        if (cli_parse_uint(cmd, "--node-id", arg, 65535, &id)) *stop = CLI_EXIT_USAGE;
        else o->node_id = (int)id;
        return true;
    case CLI_OPT_CODEC:
        if (strcmp(arg, "agora") && strcmp(arg, "stalwart")) {
            cli_error(cmd, "--codec: expected \"agora\" or \"stalwart\", got \"%s\"", arg);
            *stop = CLI_EXIT_USAGE;
        }
        o->codec = arg;
        return true;
    case CLI_OPT_LISTEN:
        if (!valid_listen(arg)) {
            cli_error(cmd, "--listen: expected HOST:PORT such as \"127.0.0.1:7919\", got \"%s\"",
                      arg);
            *stop = CLI_EXIT_USAGE;
        }
        o->listen = arg;
        return true;
    default:
        return false;
    }
}

void cli_observer_note(const char *cmd, const cli_node_opts *o) {
    if (o->verbosity < 0) return;
    if (o->node_id >= 0)
        fprintf(stderr, "agora %s: note: --node-id is ignored: this command observes without "
                "joining and has no node id (traffic under id %d is shown like any other, "
                "with a warning)\n", cmd, o->node_id);
    if (o->listen)
        fprintf(stderr, "agora %s: note: --listen is ignored: an observer listens on no "
                "address (it dials the members)\n", cmd);
}

void cli_rfc3339_now(char *buf, size_t len) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L);
}

agora_log_level cli_log_level(const cli_node_opts *o, agora_log_level base) {
    int l = (int)base + o->verbosity;
    if (l < AGORA_LOG_ERROR) l = AGORA_LOG_ERROR;
    if (l > AGORA_LOG_DEBUG) l = AGORA_LOG_DEBUG;
    return (agora_log_level)l;
}

/* ---- configuration and start-up --------------------------------------------- */

static void print_lines(const char *cmd, const char *text) {
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (n) fprintf(stderr, "agora %s: %.*s\n", cmd, (int)n, p);
        p += n + (nl ? 1 : 0);
    }
}

/* The first string of a JSON value (a string or an array of strings) as
 * agora_config_get gives it: addresses need no escapes. malloc'ed; NULL if none. */
static char *first_string(const char *json) {
    const char *q = json ? strchr(json, '"') : NULL;
    const char *e = q ? strchr(q + 1, '"') : NULL;
    return e ? strndup(q + 1, (size_t)(e - q - 1)) : NULL;
}

/* Replace the PeerToPeer listen address (and the advertised one, unless the file
 * chose a different one), so that a second process can join with the same file. */
static int override_listen(const char *cmd, agora_config *cfg, const char *addr) {
    if (strcmp(agora_config_type(cfg), "PeerToPeer") != 0) {
        cli_error(cmd, "--listen applies to the PeerToPeer coordinator only (this one is %s)",
                  agora_config_type(cfg));
        return -1;
    }
    char *listen = agora_config_get(cfg, "coordinator.listen");
    char *advertise = agora_config_get(cfg, "coordinator.advertise");
    char *first = first_string(listen);
    /* An advertise address equal to the listen address moves with it, even if the
     * file wrote it out. */
    bool move_advertise = advertise && first && !strcmp(advertise + 1, first) &&
                          strlen(advertise) == strlen(first) + 2;
    free(listen);
    free(advertise);
    free(first);
    char value[300], err[2048] = "";
    snprintf(value, sizeof value, "[\"%s\"]", addr); /* valid_listen: nothing to escape */
    int rc = agora_config_set(cfg, "coordinator.listen", value, err, sizeof err);
    if (rc == AGORA_OK && move_advertise) {
        snprintf(value, sizeof value, "\"%s\"", addr);
        rc = agora_config_set(cfg, "coordinator.advertise", value, err, sizeof err);
    }
    if (rc != AGORA_OK) {
        print_lines(cmd, *err ? err : agora_strerror(rc));
        return -1;
    }
    return 0;
}

agora_config *cli_load_config(const char *cmd, const cli_node_opts *o) {
    if (!o->config) {
        cli_error(cmd, "--config FILE is required (try 'agora %s --help')", cmd);
        return NULL;
    }
    char err[8192] = "";
    agora_config *cfg = agora_config_load(o->config, err, sizeof err);
    if (!cfg) {
        print_lines(cmd, *err ? err : "cannot load the configuration");
        return NULL;
    }
    if (o->node_id >= 0) agora_config_set_node_id(cfg, (uint16_t)o->node_id);
    if (o->codec) {
        char value[16], e[2048] = "";
        snprintf(value, sizeof value, "\"%s\"", o->codec);
        if (agora_config_set(cfg, "codec", value, e, sizeof e) != AGORA_OK) {
            print_lines(cmd, *e ? e : "cannot set the codec");
            agora_config_free(cfg);
            return NULL;
        }
    }
    if (o->listen && !o->observer && override_listen(cmd, cfg, o->listen) != 0) {
        agora_config_free(cfg);
        return NULL;
    }
    if (agora_config_node_id(cfg) < 0 && !o->observer) {
        cli_error(cmd, "%s sets no \"nodeId\": give --node-id N (0-65535)", o->config);
        agora_config_free(cfg);
        return NULL;
    }
    return cfg;
}

int cli_open(const char *cmd, const agora_config *cfg, const agora_options *opts, agora_t **out) {
    char err[1024] = "";
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGPIPE);
    /* Threads inherit the mask: agora's I/O thread never runs our handler. */
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = agora_open(cfg, opts, out, err, sizeof err);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc == AGORA_OK) return 0;
    if (opts && opts->observer)
        cli_error(cmd, "cannot start the observer: %s", *err ? err : agora_strerror(rc));
    else
        cli_error(cmd, "cannot start node %d: %s", agora_config_node_id(cfg),
                  *err ? err : agora_strerror(rc));
    return rc == AGORA_ECONFIG || rc == AGORA_ENOBACKEND || rc == AGORA_EINVAL ? CLI_EXIT_USAGE
                                                                               : CLI_EXIT_FAIL;
}

/* ---- signals ---------------------------------------------------------------- */

static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t sig_caught;

static void on_signal(int sig) {
    int saved = errno;
    if (!sig_caught) sig_caught = sig;
    unsigned char b = (unsigned char)sig;
    ssize_t w = write(sig_pipe[1], &b, 1);
    (void)w;
    errno = saved;
}

int cli_signals_init(void) {
    /* A closed stdin/stdout/stderr would be reused by agora's own descriptors (and
     * publish would read an eventfd as its input): hold them with /dev/null. */
    for (int fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int n = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
            if (n >= 0 && n != fd) close(n); /* a lower one was free: already held */
        }
    if (sig_pipe[0] < 0 && pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

int cli_signal_fd(void) { return sig_pipe[0]; }

int cli_signal_caught(void) { return (int)sig_caught; }

bool cli_wait_signal(int ms) {
    if (sig_caught) return true;
    struct pollfd p = {.fd = sig_pipe[0], .events = POLLIN};
    int r = poll(&p, sig_pipe[0] >= 0 ? 1 : 0, ms);
    (void)r;
    return sig_caught != 0;
}

uint64_t cli_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- membership ---------------------------------------------------------------- */

int cli_alive_others(agora_t *a) {
    agora_member m[64];
    int n = agora_members(a, m, 64);
    agora_member *all = m;
    if (n > 64) {
        int cap = n + 16; /* room for members joining in between */
        all = calloc((size_t)cap, sizeof *all);
        if (!all) return 0;
        n = agora_members(a, all, (size_t)cap);
        if (n > cap) n = cap;
    } else if (n < 0) {
        n = 0;
    }
    int alive = 0;
    for (int k = 0; k < n; k++)
        if (!all[k].self && all[k].state == AGORA_MEMBER_ALIVE) alive++;
    if (all != m) free(all);
    return alive;
}

int cli_wait_members(agora_t *a, uint64_t timeout_ms) {
    uint64_t deadline = cli_now_ms() + timeout_ms;
    int n;
    while ((n = cli_alive_others(a)) == 0) {
        uint64_t now = cli_now_ms();
        if (now >= deadline) break;
        uint64_t left = deadline - now;
        if (cli_wait_signal(left < 20 ? (int)left : 20)) break;
    }
    return n;
}

/* A cheap fingerprint of the view: who, in which state, which incarnation. */
static uint64_t view_hash(agora_t *a, int *alive) {
    agora_member m[256];
    int n = agora_members(a, m, 256);
    if (n > 256) n = 256; /* larger views: the first 256 stand for the rest */
    uint64_t h = 1469598103934665603ull;
    *alive = 0;
    for (int k = 0; k < n; k++) {
        if (!m[k].self && m[k].state == AGORA_MEMBER_ALIVE) (*alive)++;
        uint64_t x = ((uint64_t)m[k].node << 8) ^ (uint64_t)m[k].state ^ (m[k].incarnation << 16);
        h = (h ^ x) * 1099511628211ull;
    }
    return h ^ (uint64_t)n;
}

int cli_gave_up(const char *cmd, agora_t *a) {
    agora_status st;
    if (agora_get_status(a, &st) != AGORA_OK || !st.failure) return 0;
    cli_error(cmd, "the %s backend gave up: %s (the log above says more); exiting with "
              "status %d", st.backend, agora_strerror(st.failure), CLI_EXIT_GAVE_UP);
    return CLI_EXIT_GAVE_UP;
}

static bool failed(agora_t *a) {
    agora_status st;
    return agora_get_status(a, &st) == AGORA_OK && st.failure;
}

int cli_wait_settled(agora_t *a, int min_others, uint64_t stable_ms, uint64_t timeout_ms) {
    uint64_t start = cli_now_ms(), deadline = start + timeout_ms, changed = start;
    int alive = 0;
    uint64_t h = view_hash(a, &alive);
    for (;;) {
        uint64_t now = cli_now_ms();
        int al;
        uint64_t h2 = view_hash(a, &al);
        if (h2 != h) {
            h = h2;
            changed = now;
        }
        alive = al;
        if (alive >= min_others && now - changed >= stable_ms) break;
        if (now >= deadline || failed(a)) break;
        uint64_t left = deadline - now;
        if (cli_wait_signal(left < 20 ? (int)left : 20)) break;
    }
    return alive;
}

uint64_t cli_settle_window_ms(const agora_config *cfg) {
    /* Two heartbeats carry the gossip of every member the seed knows; connecting
     * to each of them (TCP + TLS) must fit too, even on a loaded machine. */
    char *text = agora_config_get(cfg, "heartbeatInterval"); /* "\"250ms\"" */
    char *interval = first_string(text);
    uint64_t hb = 0;
    if (!interval || agora_parse_duration(interval, &hb) != AGORA_OK) hb = 0;
    free(text);
    free(interval);
    uint64_t w = hb * 2;
    return w < 500 ? 500 : w;
}

/* A JSON string, escaped as the library escapes its own output. */
void cli_put_json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (*p < 0x20 || *p == 0x7f) fprintf(f, "\\u%04x", *p);
            else fputc(*p, f);
        }
    }
    fputc('"', f);
}

char *cli_json_string(const char *s) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    cli_put_json_string(f, s);
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad) {
        free(text);
        return NULL;
    }
    return text;
}

bool cli_put_line(const char *text) {
    if (fputs(text, stdout) == EOF || fputc('\n', stdout) == EOF || fflush(stdout) == EOF)
        return false;
    return true;
}
