/* cli_codec.c — `agora encode` and `agora decode`: raw wire bytes <-> JSON lines. */
#include "cli/cli.h"

#include "agora.h"
#include "codec/codec.h"
#include "codec/wire.h"
#include "util/bytes.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char decode_help[] =
    "NAME\n"
    "    agora decode - print the events of a raw coordination message as JSON lines\n"
    "\n"
    "SYNOPSIS\n"
    "    agora decode [--codec stalwart|agora] [FILE]\n"
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
    "                 [--incarnation I] [--first-seq S] [FILE]\n"
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

typedef enum { CODEC_STALWART, CODEC_AGORA } codec_kind;

typedef struct opts {
    codec_kind codec;
    long node_id; /* -1 = not given */
    unsigned long long incarnation, first_seq;
    const char *out_prefix;
    const char *file;
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

/* Returns -1 to continue, or an exit status. */
static int parse_args(const char *cmd, const char *help, int argc, char **argv, opts *o,
                      bool encode) {
    o->codec = CODEC_STALWART;
    o->node_id = -1;
    o->incarnation = 1;
    o->first_seq = 1;
    o->out_prefix = NULL;
    o->file = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(help, stdout);
            return CLI_EXIT_OK;
        }
        /* options that take a value: "--opt V" or "--opt=V" */
        static const char *const valued[] = {"--codec", "--node-id", "--out-prefix",
                                             "--incarnation", "--first-seq"};
        const char *name = NULL;
        for (size_t k = 0; k < sizeof valued / sizeof *valued; k++) {
            size_t n = strlen(valued[k]);
            if (!strncmp(a, valued[k], n) && (a[n] == 0 || a[n] == '=')) {
                name = valued[k];
                if (a[n] == '=') val = a + n + 1;
                else if (i + 1 < argc) val = argv[++i];
                else {
                    fprintf(stderr, "agora %s: %s needs a value (try --help)\n", cmd, name);
                    return CLI_EXIT_USAGE;
                }
            }
        }
        if (!name) {
            if (a[0] == '-' && a[1]) {
                fprintf(stderr, "agora %s: unknown option '%s' (try --help)\n", cmd, a);
                return CLI_EXIT_USAGE;
            }
            if (o->file) {
                fprintf(stderr, "agora %s: only one input file may be given\n", cmd);
                return CLI_EXIT_USAGE;
            }
            o->file = a;
            continue;
        }
        unsigned long long v;
        if (!strcmp(name, "--codec")) {
            if (!strcmp(val, "stalwart")) o->codec = CODEC_STALWART;
            else if (!strcmp(val, "agora")) o->codec = CODEC_AGORA;
            else {
                fprintf(stderr, "agora %s: --codec: expected \"stalwart\" or \"agora\", got \"%s\"\n",
                        cmd, val);
                return CLI_EXIT_USAGE;
            }
        } else if (!encode) {
            fprintf(stderr, "agora %s: %s applies to 'agora encode' only\n", cmd, name);
            return CLI_EXIT_USAGE;
        } else if (!strcmp(name, "--node-id")) {
            if (parse_ull(val, 65535, &v)) {
                fprintf(stderr, "agora %s: --node-id: expected an integer from 0 to 65535, got \"%s\"\n",
                        cmd, val);
                return CLI_EXIT_USAGE;
            }
            o->node_id = (long)v;
        } else if (!strcmp(name, "--out-prefix")) {
            if (!*val) {
                fprintf(stderr, "agora %s: --out-prefix must not be empty\n", cmd);
                return CLI_EXIT_USAGE;
            }
            o->out_prefix = val;
        } else if (!strcmp(name, "--incarnation") || !strcmp(name, "--first-seq")) {
            bool seq = !strcmp(name, "--first-seq");
            if (parse_ull(val, UINT64_MAX, &v) || (seq && v == 0)) {
                fprintf(stderr, "agora %s: %s: expected an integer from %d to 18446744073709551615, got \"%s\"\n",
                        cmd, name, seq ? 1 : 0, val);
                return CLI_EXIT_USAGE;
            }
            if (seq) o->first_seq = v;
            else o->incarnation = v;
        }
    }
    if (encode && o->node_id < 0) {
        fprintf(stderr, "agora %s: --node-id N is required (try --help)\n", cmd);
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

static int decode_stalwart(const uint8_t *data, size_t len) {
    agora_event *evs;
    size_t n;
    uint16_t node;
    char err[256];
    int rc = agora_stalwart_decode(data, len, &node, &evs, &n, NULL, err, sizeof err);
    for (size_t i = 0; i < n; i++)
        if (!print_event(&evs[i])) {
            rc = AGORA_ENOMEM;
            snprintf(err, sizeof err, "out of memory");
            break;
        }
    agora_events_free(evs, n);
    fflush(stdout);
    if (rc) {
        fprintf(stderr, "agora decode: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

static int decode_agora(const uint8_t *data, size_t len) {
    ag_wire_header *h = calloc(1, sizeof *h); /* large (gossip members): keep off the stack */
    char err[256];
    if (!h) {
        fprintf(stderr, "agora decode: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    if (ag_wire_parse(data, len, h, err, sizeof err) != 0) {
        fprintf(stderr, "agora decode: %s\n", err);
        free(h);
        return CLI_EXIT_FAIL;
    }
    int status = CLI_EXIT_OK;
    if (h->kind != AG_WIRE_EVENTS) {
        fprintf(stderr, "agora decode: %s message from node %u (incarnation %llu): no events\n",
                h->kind == AG_WIRE_HEARTBEAT ? "heartbeat" : "leave", (unsigned)h->origin,
                (unsigned long long)h->incarnation);
        free(h);
        return CLI_EXIT_OK;
    }
    size_t pos = h->events_offset;
    for (uint64_t i = 0; i < h->count; i++) {
        agora_event ev;
        bool known;
        if (ag_native_get_event(data, len, &pos, &ev, &known, err, sizeof err)) {
            fprintf(stderr, "agora decode: %s\n", err);
            status = CLI_EXIT_FAIL;
            break;
        }
        if (!known) continue; /* a kind this version does not know */
        ev.node = h->origin;
        bool ok = print_event(&ev);
        agora_event_clear(&ev);
        if (!ok) {
            fprintf(stderr, "agora decode: out of memory\n");
            status = CLI_EXIT_FAIL;
            break;
        }
    }
    if (status == CLI_EXIT_OK && pos != len) {
        fprintf(stderr, "agora decode: byte %zu: %zu unexpected bytes after the last event\n",
                pos, len - pos);
        status = CLI_EXIT_FAIL;
    }
    free(h);
    return status;
}

int cli_decode(int argc, char **argv) {
    opts o;
    int st = parse_args("decode", decode_help, argc, argv, &o, false);
    if (st >= 0) return st;
    size_t len;
    uint8_t *data = read_all("decode", o.file, &len);
    if (!data) return CLI_EXIT_FAIL;
    st = o.codec == CODEC_STALWART ? decode_stalwart(data, len) : decode_agora(data, len);
    free(data);
    return finish_stdout("decode", st);
}

/* ---- encode ------------------------------------------------------------- */

typedef struct outset {
    ag_bytes *msgs;
    size_t n, cap;
} outset;

static ag_bytes *new_msg(outset *s) {
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 4;
        ag_bytes *nm = realloc(s->msgs, nc * sizeof *nm);
        if (!nm) return NULL;
        s->msgs = nm;
        s->cap = nc;
    }
    ag_bytes *b = &s->msgs[s->n++];
    ag_bytes_init(b);
    return b;
}

static void free_set(outset *s) {
    for (size_t i = 0; i < s->n; i++) ag_bytes_free(&s->msgs[i]);
    free(s->msgs);
}

static int write_set(const outset *s, const opts *o) {
    for (size_t i = 0; i < s->n; i++) {
        if (!o->out_prefix) {
            if (s->msgs[i].len && fwrite(s->msgs[i].data, 1, s->msgs[i].len, stdout) != s->msgs[i].len)
                break; /* reported by finish_stdout */
            continue;
        }
        char path[4096];
        snprintf(path, sizeof path, "%s-%03zu.bin", o->out_prefix, i + 1);
        FILE *f = fopen(path, "wb");
        bool ok = f && fwrite(s->msgs[i].data, 1, s->msgs[i].len, f) == s->msgs[i].len;
        if (f && fclose(f) != 0) ok = false;
        if (!ok) {
            fprintf(stderr, "agora encode: %s: %s\n", path, strerror(errno));
            return CLI_EXIT_FAIL;
        }
    }
    return finish_stdout("encode", CLI_EXIT_OK);
}

int cli_encode(int argc, char **argv) {
    opts o;
    int st = parse_args("encode", encode_help, argc, argv, &o, true);
    if (st >= 0) return st;
    size_t len;
    uint8_t *data = read_all("encode", o.file, &len);
    if (!data) return CLI_EXIT_FAIL;

    /* Stalwart: batches of up to 100 events, encoded as lines are read.
     * agora: events are collected in `events`, framed once their count is known. */
    outset set = {0};
    ag_bytes events;
    ag_bytes_init(&events);
    uint64_t nevents = 0;
    size_t in_batch = AGORA_STALWART_MAX_EVENTS; /* forces a first batch */
    ag_bytes *cur = NULL;
    st = CLI_EXIT_OK;
    size_t lineno = 0;
    const char *p = (const char *)data, *end = (const char *)data + len;
    while (p < end && st == CLI_EXIT_OK) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        lineno++;
        const char *q = p;
        while (q < le && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
        if (q == le) {
            p = nl ? nl + 1 : end;
            continue;
        }
        agora_event ev;
        char err[256], e2[256];
        int rc = agora_event_from_json(p, (size_t)(le - p), &ev, err, sizeof err);
        if (rc) {
            fprintf(stderr, "agora encode: line %zu: %s\n", lineno, err);
            st = CLI_EXIT_FAIL;
            break;
        }
        if (o.codec == CODEC_STALWART) {
            if (in_batch == AGORA_STALWART_MAX_EVENTS) {
                cur = new_msg(&set);
                if (cur) ag_bytes_put_uvarint(cur, (uint64_t)o.node_id);
                in_batch = 0;
            }
            rc = cur ? ag_stalwart_put_event(cur, &ev, e2, sizeof e2) : AGORA_ENOMEM;
            in_batch++;
        } else {
            rc = ag_native_put_event(&events, &ev, e2, sizeof e2);
            nevents++;
        }
        agora_event_clear(&ev);
        if (rc) {
            fprintf(stderr, "agora encode: line %zu: %s\n", lineno,
                    rc == AGORA_ENOMEM ? "out of memory" : e2);
            st = CLI_EXIT_FAIL;
        }
        p = nl ? nl + 1 : end;
    }
    free(data);
    if (st == CLI_EXIT_OK) {
        if (o.codec == CODEC_STALWART && set.n == 0) { /* no events: one empty batch */
            cur = new_msg(&set);
            if (cur) ag_bytes_put_uvarint(cur, (uint64_t)o.node_id);
        } else if (o.codec == CODEC_AGORA) {
            cur = new_msg(&set);
            if (cur) {
                ag_wire_put_events_header(cur, (uint16_t)o.node_id, o.incarnation,
                                          o.first_seq, nevents);
                ag_bytes_put(cur, events.data, events.len);
            }
        }
        bool oom = !cur || events.oom;
        for (size_t i = 0; i < set.n; i++) oom |= set.msgs[i].oom;
        if (oom) {
            fprintf(stderr, "agora encode: out of memory\n");
            st = CLI_EXIT_FAIL;
        } else {
            st = write_set(&set, &o);
        }
    }
    ag_bytes_free(&events);
    free_set(&set);
    return st;
}
