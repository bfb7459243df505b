/* cli_codec.c — `agora encode` and `agora decode`: raw wire bytes <-> JSON lines. */
#include "cli/cli.h"
#include "cli/cli_common.h"

#include "agora.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char decode_help[] =
    "NAME\n"
    "    agora decode - print the events of a raw coordination message as JSON lines\n"
    "\n"
    "SYNOPSIS\n"
    "    agora decode [--codec stalwart|agora] [--secret S]... [FILE]\n"
    "\n"
    "DESCRIPTION\n"
    "    Reads one raw message from FILE (or standard input) and prints one JSON object\n"
    "    per event on standard output, in the form of the Stalwart wire specification:\n"
    "        {\"node\":1,\"type\":\"StateChange\",\"accountId\":42,\"changeId\":7,\"types\":[\"Email\"]}\n"
    "    \"node\" is the sending node. 64-bit values are printed exactly. The lines can be\n"
    "    fed back to 'agora encode' or 'agora publish'.\n"
    "\n"
    "    With --codec stalwart (the default) the input is one Stalwart 0.16 batch: the\n"
    "    sender's node id followed by its events. With --codec agora it is one message\n"
    "    of agora's native format; a message without events (heartbeat, leave) prints\n"
    "    nothing and is described on standard error.\n"
    "\n"
    "    Malformed input is reported on standard error with the byte offset of the\n"
    "    fault, e.g. \"agora decode: byte 3: StateChange types: missing (input ends\n"
    "    here)\". The events decoded before the fault have already been printed.\n"
    "\n"
    "OPTIONS\n"
    "    --codec stalwart|agora   wire format of the input (default: stalwart)\n"
    "    --secret S               agora codec: the input is sealed (docs/sealing.md); open\n"
    "                             it with S (repeatable: any of them opens). A message\n"
    "                             that does not open is reported (\"bad tag\", ...), exit 1\n"
    "    -h, --help               show this help\n"
    "\n"
    "EXIT STATUS\n"
    "    0  every event was decoded\n"
    "    1  the input is malformed or could not be read\n"
    "    2  bad command-line arguments\n"
    "\n"
    "EXAMPLES\n"
    "    agora decode < tests/vectors/stalwart/01-state-change.bin\n"
    "    agora encode --codec stalwart --node-id 1 < events.jsonl | agora decode\n";

static const char encode_help[] =
    "NAME\n"
    "    agora encode - turn JSON event lines into a raw coordination message\n"
    "\n"
    "SYNOPSIS\n"
    "    agora encode [--codec stalwart|agora] --node-id N [--out-prefix P]\n"
    "                 [--incarnation I] [--first-seq S] [--secret S]... [FILE]\n"
    "\n"
    "DESCRIPTION\n"
    "    Reads events as JSON lines from FILE (or standard input), one object per line,\n"
    "    in the form 'agora decode' prints (\"node\" and unknown keys are ignored; blank\n"
    "    lines are skipped) and writes the raw message sent by node N to standard output.\n"
    "    Nothing is written unless every line is valid.\n"
    "\n"
    "    With --codec stalwart (the default) the output is a Stalwart 0.16 batch. A batch\n"
    "    carries at most 100 events: more events are split into several batches,\n"
    "    written one after the other (batches do not carry their length, so use\n"
    "    --out-prefix to get them as separate files). agora's own kinds (BlockIp,\n"
    "    UnblockIp, CertificateUpdate, Custom) and local notices (Gap, Member*) cannot\n"
    "    be encoded for Stalwart and are refused. No input events gives one empty batch.\n"
    "\n"
    "    With --codec agora the output is one EVENTS message of agora's native format\n"
    "    carrying every event, from incarnation I with sequence numbers from S.\n"
    "\n"
    "OPTIONS\n"
    "    --codec stalwart|agora   wire format of the output (default: stalwart)\n"
    "    --node-id N              the sending node, 0..65535 (required)\n"
    "    --out-prefix P           write each message to its own file P-001.bin,\n"
    "                             P-002.bin, ... instead of standard output\n"
    "    --incarnation I          agora codec: sender incarnation (default 1)\n"
    "    --first-seq S            agora codec: sequence of the first event (default 1)\n"
    "    --secret S               agora codec: seal the message as a node whose\n"
    "                             coordinator has \"secret\" does (docs/sealing.md); the\n"
    "                             first --secret seals. Each run is a fresh sender\n"
    "                             (envelope counter 1). Visible to other users in the\n"
    "                             process list: for tests and throw-away secrets\n"
    "    -h, --help               show this help\n"
    "\n"
    "EXIT STATUS\n"
    "    0  the message was written\n"
    "    1  a line is not valid JSON, names an unknown type or value, or cannot be\n"
    "       carried by the codec; the message names the line, e.g.\n"
    "           agora encode: line 3: types[2]: unknown data type \"Emial\"\n"
    "       Also for I/O errors.\n"
    "    2  bad command-line arguments\n"
    "\n"
    "EXAMPLES\n"
    "    echo '{\"type\":\"RegistryReload\",\"object\":\"Certificate\"}' |\n"
    "        agora encode --codec stalwart --node-id 3 > reload.bin\n";

typedef struct opts {
    agora_codec codec;
    long node_id; /* -1 = not given */
    unsigned long long incarnation, first_seq;
    const char *out_prefix;
    const char *file;
    const char *secrets[16]; /* --secret: the first seals, any opens */
    size_t nsecrets;
} opts;

static int parse_ull(const char *s, unsigned long long max, unsigned long long *out) {
    if (!s || !*s || *s == '-' || *s == '+') return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v > max) return -1;
    *out = v;
    return 0;
}

/* One encode-only option's value; false (message printed) if it is invalid. */
static bool encode_option(const char *cmd, int opt, const char *name, const char *val,
                          opts *o) {
    unsigned long long v;
    switch (opt) {
    case 'n':
        if (parse_ull(val, 65535, &v)) {
            cli_error(cmd, "--node-id: expected an integer from 0 to 65535, got \"%s\"", val);
            return false;
        }
        o->node_id = (long)v;
        return true;
    case 'o':
        if (!*val) {
            cli_error(cmd, "--out-prefix must not be empty");
            return false;
        }
        o->out_prefix = val;
        return true;
    default: { /* --incarnation, --first-seq */
        bool seq = opt == 's';
        if (parse_ull(val, UINT64_MAX, &v) || (seq && v == 0)) {
            cli_error(cmd, "%s: expected an integer from %d to 18446744073709551615, got \"%s\"",
                      name, seq ? 1 : 0, val);
            return false;
        }
        if (seq) o->first_seq = v;
        else o->incarnation = v;
        return true;
    }
    }
}

/* Returns -1 to continue, or an exit status. */
static int parse_args(const char *cmd, const char *help, int argc, char **argv, opts *o,
                      bool encode) {
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"codec", required_argument, NULL, 'c'},
        {"node-id", required_argument, NULL, 'n'},
        {"out-prefix", required_argument, NULL, 'o'},
        {"incarnation", required_argument, NULL, 'i'},
        {"first-seq", required_argument, NULL, 's'},
        {"secret", required_argument, NULL, 'k'},
        {0}};
    *o = (opts){.codec = AGORA_CODEC_STALWART, .node_id = -1, .incarnation = 1, .first_seq = 1};
    int opt;
    optind = 0;
    while ((opt = cli_getopt(cmd, argc, argv, ":h", longopts)) != -1) {
        if (opt == '?') return CLI_EXIT_USAGE;
        char flag[32] = "";
        for (const struct option *lo = longopts; lo->name; lo++)
            if (lo->val == opt) snprintf(flag, sizeof flag, "--%s", lo->name);
        if (opt == 'h') {
            fputs(help, stdout);
            return CLI_EXIT_OK;
        }
        if (opt == 'c') {
            if (!strcmp(optarg, "stalwart")) o->codec = AGORA_CODEC_STALWART;
            else if (!strcmp(optarg, "agora")) o->codec = AGORA_CODEC_AGORA;
            else {
                cli_error(cmd, "--codec: expected \"stalwart\" or \"agora\", got \"%s\"", optarg);
                return CLI_EXIT_USAGE;
            }
        } else if (opt == 'k') {
            if (o->nsecrets == sizeof o->secrets / sizeof o->secrets[0]) {
                cli_error(cmd, "--secret: at most 16 secrets");
                return CLI_EXIT_USAGE;
            }
            o->secrets[o->nsecrets++] = optarg;
        } else if (!encode) {
            cli_error(cmd, "%s applies to 'agora encode' only", flag);
            return CLI_EXIT_USAGE;
        } else if (!encode_option(cmd, opt, flag, optarg, o)) {
            return CLI_EXIT_USAGE;
        }
    }
    if (argc - optind > 1) {
        cli_error(cmd, "only one input file may be given");
        return CLI_EXIT_USAGE;
    }
    if (optind < argc) o->file = argv[optind];
    if (o->nsecrets && o->codec != AGORA_CODEC_AGORA) {
        cli_error(cmd, "--secret needs --codec agora (the stalwart codec cannot be sealed)");
        return CLI_EXIT_USAGE;
    }
    if (encode && o->node_id < 0) {
        cli_error(cmd, "--node-id N is required (try --help)");
        return CLI_EXIT_USAGE;
    }
    return -1;
}

/* Read all of FILE (or stdin). NULL on error (reported). */
static uint8_t *read_all(const char *cmd, const char *file, size_t *len) {
    FILE *f = file ? fopen(file, "rb") : stdin;
    if (!f) {
        fprintf(stderr, "agora %s: %s: %s\n", cmd, file, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap + 1);
    while (buf) {
        if (n == cap) {
            uint8_t *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) break;
    }
    bool bad = !buf || ferror(f);
    if (bad) fprintf(stderr, "agora %s: %s: %s\n", cmd, file ? file : "standard input",
                     buf ? strerror(errno) : "out of memory");
    if (file) fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    buf[n] = 0; /* room was kept: JSON text may be used as a C string */
    *len = n;
    return buf;
}

static bool print_event(const agora_event *ev) {
    char *j = agora_event_to_json(ev);
    if (!j) return false;
    fputs(j, stdout);
    fputc('\n', stdout);
    free(j);
    return true;
}

static int finish_stdout(const char *cmd, int status) {
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "agora %s: writing standard output: %s\n", cmd, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    return status;
}

int cli_decode(int argc, char **argv) {
    opts o;
    int st = parse_args("decode", decode_help, argc, argv, &o, false);
    if (st >= 0) return st;
    size_t len;
    uint8_t *data = read_all("decode", o.file, &len);
    if (!data) return CLI_EXIT_FAIL;
    char err[256];
    if (o.nsecrets) {
        uint8_t *plain;
        size_t plen;
        int orc = agora_batch_open(o.secrets, o.nsecrets, data, len, &plain, &plen, err,
                                   sizeof err);
        free(data);
        if (orc != AGORA_OK) {
            fprintf(stderr, "agora decode: %s\n", err);
            return orc == AGORA_ECONFIG ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
        }
        data = plain;
        len = plen;
    }
    agora_batch_header h;
    agora_event *evs;
    size_t n;
    int rc = agora_batch_decode(o.codec, data, len, &h, &evs, &n, NULL, err, sizeof err);
    free(data);
    /* The events decoded before a fault are printed too. */
    for (size_t i = 0; i < n; i++)
        if (!print_event(&evs[i])) {
            rc = AGORA_ENOMEM;
            snprintf(err, sizeof err, "out of memory");
            break;
        }
    agora_events_free(evs, n);
    fflush(stdout);
    if (rc != AGORA_OK) {
        fprintf(stderr, "agora decode: %s\n", err);
        st = CLI_EXIT_FAIL;
    } else {
        if (h.kind != AGORA_BATCH_EVENTS)
            fprintf(stderr, "agora decode: %s message from node %u (incarnation %llu): no events\n",
                    h.kind == AGORA_BATCH_HEARTBEAT ? "heartbeat" : "leave", (unsigned)h.node,
                    (unsigned long long)h.incarnation);
        st = CLI_EXIT_OK;
    }
    return finish_stdout("decode", st);
}

/* ---- encode ------------------------------------------------------------- */

/* The events read so far. */
typedef struct event_list {
    agora_event *evs;
    size_t n, cap;
} event_list;

static bool list_add(event_list *l, const agora_event *ev) {
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        agora_event *ne = realloc(l->evs, nc * sizeof *ne);
        if (!ne) return false;
        l->evs = ne;
        l->cap = nc;
    }
    l->evs[l->n++] = *ev;
    return true;
}

/* Can the codec carry this event? err gets why not (without agora_batch_encode's
 * "event 0: ": the caller names the line). */
static int check_event(const opts *o, const agora_event *ev, char *err, size_t errlen) {
    agora_batch_header h = {.kind = AGORA_BATCH_EVENTS, .node = (uint16_t)o->node_id,
                            .incarnation = o->incarnation, .first_seq = 1};
    uint8_t *out;
    size_t len;
    char e[256];
    int rc = agora_batch_encode(o->codec, &h, ev, 1, &out, &len, e, sizeof e);
    if (rc == AGORA_OK) free(out);
    else snprintf(err, errlen, "%s", strncmp(e, "event 0: ", 9) ? e : e + 9);
    return rc;
}

/* Parse every line of the input into l; false (message printed) at the first bad one. */
static bool read_events(const opts *o, const char *p, const char *end, event_list *l) {
    size_t lineno = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        lineno++;
        const char *q = p;
        while (q < le && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
        if (q == le) { /* blank */
            p = next;
            continue;
        }
        agora_event ev;
        char err[256];
        int rc = agora_event_from_json(p, (size_t)(le - p), &ev, err, sizeof err);
        if (rc == AGORA_OK) {
            rc = check_event(o, &ev, err, sizeof err);
            if (rc == AGORA_OK && !list_add(l, &ev)) {
                rc = AGORA_ENOMEM;
                snprintf(err, sizeof err, "out of memory");
            }
            if (rc != AGORA_OK) agora_event_clear(&ev);
        }
        if (rc != AGORA_OK) {
            fprintf(stderr, "agora encode: line %zu: %s\n", lineno, err);
            return false;
        }
        p = next;
    }
    return true;
}

/* Write message i (of a set) to standard output or to its own file. */
static int write_message(const opts *o, size_t i, const uint8_t *msg, size_t len) {
    if (!o->out_prefix) {
        if (len && fwrite(msg, 1, len, stdout) != len) return CLI_EXIT_FAIL; /* see finish_stdout */
        return CLI_EXIT_OK;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s-%03zu.bin", o->out_prefix, i + 1);
    FILE *f = fopen(path, "wb");
    bool ok = f && fwrite(msg, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = false;
    if (!ok) {
        fprintf(stderr, "agora encode: %s: %s\n", path, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* Encode every message first (nothing is written unless all encode), then write.
 * Stalwart: batches of up to 100 events (no events: one empty batch); agora: one
 * message with every event. */
static int encode_and_write(const opts *o, const event_list *l) {
    size_t per = o->codec == AGORA_CODEC_STALWART ? AGORA_STALWART_MAX_EVENTS : l->n;
    size_t nmsg = l->n ? (l->n + per - 1) / per : 1;
    uint8_t **msgs = calloc(nmsg, sizeof *msgs);
    size_t *lens = calloc(nmsg, sizeof *lens);
    int st = msgs && lens ? CLI_EXIT_OK : CLI_EXIT_FAIL;
    if (st != CLI_EXIT_OK) fprintf(stderr, "agora encode: out of memory\n");
    for (size_t i = 0; i < nmsg && st == CLI_EXIT_OK; i++) {
        size_t first = i * per, count = l->n - first < per ? l->n - first : per;
        agora_batch_header h = {.kind = AGORA_BATCH_EVENTS, .node = (uint16_t)o->node_id,
                                .incarnation = o->incarnation, .first_seq = o->first_seq};
        char err[256];
        if (agora_batch_encode(o->codec, &h, l->evs + first, count, &msgs[i], &lens[i], err,
                               sizeof err) != AGORA_OK) {
            fprintf(stderr, "agora encode: %s\n", err);
            st = CLI_EXIT_FAIL;
        } else if (o->nsecrets) {
            uint8_t *sealed;
            size_t slen;
            if (agora_batch_seal(o->secrets, o->nsecrets, msgs[i], lens[i], &sealed, &slen, err,
                                 sizeof err) != AGORA_OK) {
                fprintf(stderr, "agora encode: %s\n", err);
                st = CLI_EXIT_FAIL;
            } else {
                free(msgs[i]);
                msgs[i] = sealed;
                lens[i] = slen;
            }
        }
    }
    for (size_t i = 0; i < nmsg && st == CLI_EXIT_OK; i++)
        st = write_message(o, i, msgs[i], lens[i]);
    for (size_t i = 0; msgs && i < nmsg; i++) free(msgs[i]);
    free(msgs);
    free(lens);
    return finish_stdout("encode", st);
}

int cli_encode(int argc, char **argv) {
    opts o;
    int st = parse_args("encode", encode_help, argc, argv, &o, true);
    if (st >= 0) return st;
    size_t len;
    uint8_t *data = read_all("encode", o.file, &len);
    if (!data) return CLI_EXIT_FAIL;
    event_list l = {0};
    bool ok = read_events(&o, (const char *)data, (const char *)data + len, &l);
    free(data);
    st = ok ? encode_and_write(&o, &l) : CLI_EXIT_FAIL;
    agora_events_free(l.evs, l.n);
    return st;
}
