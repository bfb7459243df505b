/* admin_sse.c — GET /api/events: the node's events as Server-Sent Events.
 *
 * The application hands each event it receives to admin_sse_publish, which renders
 * it once and appends it to the queue of every client whose filter takes it. Each
 * queue is bounded (events and bytes): when a client cannot keep up, new events are
 * dropped for it and counted, and its stream says "event: gap" with how many, where
 * they were lost. So
 * publishing never waits for a client. Each stream is written by its connection's
 * own thread (libmicrohttpd's thread per connection), which waits here for events
 * and sends ": keepalive" after 15 s without any. */
#include "admin/admin_internal.h"

#include "util/buf.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#define QUEUE_EVENTS 1024
#define QUEUE_BYTES (4u << 20)
#define MAX_CLIENTS 32
#define KEEPALIVE_MS 15000

typedef struct client {
    struct client *prev, *next;
    admin_sse *owner;
    uint32_t types;     /* bit per agora_event_type; all ones: every type */
    int node;           /* origin to keep, -1: any */
    char *q[QUEUE_EVENTS]; /* ring of rendered "data: ...\n\n" lines */
    size_t head, len, bytes;
    uint64_t missed;    /* dropped since the last gap line */
    char *out;          /* the chunk being written (owned) */
    size_t out_len, out_off;
    uint64_t last_write_ms;
} client;

struct admin_sse {
    pthread_mutex_t mu;
    pthread_cond_t cv;  /* an event was queued, or stopping */
    client *clients;
    size_t nclients;
    bool stopping;
};

_Static_assert(AGORA_EV_TYPE_COUNT <= 32, "a client's type filter is a 32-bit mask");

admin_sse *admin_sse_new(void) {
    admin_sse *x = calloc(1, sizeof *x);
    if (!x) return NULL;
    pthread_mutex_init(&x->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&x->cv, &ca);
    pthread_condattr_destroy(&ca);
    return x;
}

void admin_sse_stop(admin_sse *x) {
    if (!x) return;
    pthread_mutex_lock(&x->mu);
    x->stopping = true;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
}

void admin_sse_free(admin_sse *x) {
    if (!x) return;
    /* the daemon has stopped: every client was freed with its response */
    pthread_mutex_destroy(&x->mu);
    pthread_cond_destroy(&x->cv);
    free(x);
}

/* "2026-12-05T03:10:00.123Z" */
static void now_rfc3339(char *out, size_t n) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, n, "%s.%03uZ", date, (unsigned)(ts.tv_nsec / 1000000L) % 1000u);
}

static char *gap_line(uint64_t missed) {
    char *g = malloc(64);
    if (g) snprintf(g, 64, "event: gap\ndata: {\"missed\":%llu}\n\n", (unsigned long long)missed);
    return g;
}

void admin_sse_publish(admin_sse *x, const agora_event *ev) {
    if (!x) return;
    pthread_mutex_lock(&x->mu);
    bool anyone = x->nclients > 0;
    pthread_mutex_unlock(&x->mu);
    if (!anyone) return;
    char *json = agora_event_to_json(ev);
    if (!json) return;
    size_t jl = strlen(json);
    char at[40];
    now_rfc3339(at, sizeof at);
    ag_buf b;
    ag_buf_init(&b);
    /* the event's object with "receivedAt" added before its closing brace */
    ag_buf_puts(&b, "data: ");
    ag_buf_put(&b, json, jl && json[jl - 1] == '}' ? jl - 1 : jl);
    ag_buf_printf(&b, ",\"receivedAt\":\"%s\"}\n\n", at);
    free(json);
    if (b.oom) {
        ag_buf_free(&b);
        return;
    }
    pthread_mutex_lock(&x->mu);
    bool queued = false;
    for (client *c = x->clients; c; c = c->next) {
        if ((unsigned)ev->type >= 32 || !(c->types & (1u << ev->type))) continue;
        if (c->node >= 0 && c->node != ev->node) continue;
        /* a gap line goes where the lost events were, once there is room again */
        if (c->missed && c->len + 1 < QUEUE_EVENTS && c->bytes + b.len + 64 <= QUEUE_BYTES) {
            char *g = gap_line(c->missed);
            if (g) {
                c->q[(c->head + c->len++) % QUEUE_EVENTS] = g;
                c->bytes += strlen(g);
                c->missed = 0;
            }
        }
        char *line = !c->missed && c->len < QUEUE_EVENTS && c->bytes + b.len <= QUEUE_BYTES
                         ? strdup(b.text) : NULL;
        if (!line) {
            c->missed++;
        } else {
            c->q[(c->head + c->len++) % QUEUE_EVENTS] = line;
            c->bytes += b.len;
        }
        queued = true;
    }
    if (queued) pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
    ag_buf_free(&b);
}

/* The next chunk to write, under x->mu: an event or gap line, or NULL (none yet). */
static char *next_chunk(client *c) {
    if (!c->len && c->missed) { /* the newest were lost: say so now */
        char *g = gap_line(c->missed);
        c->missed = 0;
        return g;
    }
    if (!c->len) return NULL;
    char *line = c->q[c->head];
    c->head = (c->head + 1) % QUEUE_EVENTS;
    c->len--;
    c->bytes -= strlen(line);
    return line;
}

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    client *c = cls;
    admin_sse *x = c->owner;
    if (!c->out) {
        pthread_mutex_lock(&x->mu);
        for (;;) {
            if (x->stopping) {
                pthread_mutex_unlock(&x->mu);
                return MHD_CONTENT_READER_END_OF_STREAM;
            }
            c->out = next_chunk(c);
            if (c->out) break;
            uint64_t now = admin_now_ms();
            if (now - c->last_write_ms >= KEEPALIVE_MS) {
                c->out = strdup(": keepalive\n\n");
                if (!c->out) {
                    pthread_mutex_unlock(&x->mu);
                    return MHD_CONTENT_READER_END_WITH_ERROR;
                }
                break;
            }
            uint64_t until = c->last_write_ms + KEEPALIVE_MS;
            struct timespec dl = {.tv_sec = (time_t)(until / 1000),
                                  .tv_nsec = (long)(until % 1000) * 1000000L};
            pthread_cond_timedwait(&x->cv, &x->mu, &dl);
        }
        pthread_mutex_unlock(&x->mu);
        c->out_len = strlen(c->out);
        c->out_off = 0;
    }
    size_t n = c->out_len - c->out_off;
    if (n > max) n = max;
    memcpy(buf, c->out + c->out_off, n);
    c->out_off += n;
    if (c->out_off == c->out_len) {
        free(c->out);
        c->out = NULL;
    }
    c->last_write_ms = admin_now_ms();
    return (ssize_t)n;
}

static void free_client(void *cls) {
    client *c = cls;
    admin_sse *x = c->owner;
    pthread_mutex_lock(&x->mu);
    if (c->prev) c->prev->next = c->next;
    else x->clients = c->next;
    if (c->next) c->next->prev = c->prev;
    x->nclients--;
    pthread_mutex_unlock(&x->mu);
    while (c->len) {
        free(c->q[c->head]);
        c->head = (c->head + 1) % QUEUE_EVENTS;
        c->len--;
    }
    free(c->out);
    free(c);
}

/* "BlockIp,Custom" into a mask; false (err set) for an unknown name. */
static bool parse_types(const char *s, uint32_t *mask, char *err, size_t errlen) {
    *mask = 0;
    while (*s) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        char name[64];
        if (n >= sizeof name) n = sizeof name - 1;
        memcpy(name, s, n);
        name[n] = 0;
        if (n) {
            int t = agora_event_type_from_name(name);
            if (t < 0) {
                snprintf(err, errlen, "type: unknown event type \"%.40s\" (names as in "
                         "agora decode: BlockIp, StateChange, Gap, ...)", name);
                return false;
            }
            *mask |= 1u << t;
        }
        if (!comma) break;
        s = comma + 1;
    }
    if (!*mask) *mask = UINT32_MAX;
    return true;
}

int admin_sse_serve(admin_server *s, struct MHD_Connection *conn) {
    admin_sse *x = s->sse;
    uint32_t types = UINT32_MAX;
    int node = -1;
    char err[200];
    const char *tv = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "type");
    if (tv && !parse_types(tv, &types, err, sizeof err))
        return admin_reply_error(conn, MHD_HTTP_BAD_REQUEST, "%s", err);
    const char *nv = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "node");
    if (nv && *nv) {
        char *end;
        long v = strtol(nv, &end, 10);
        if (*end || v < 0 || v > 65535 || end == nv)
            return admin_reply_error(conn, MHD_HTTP_BAD_REQUEST,
                                     "node: expected a node id from 0 to 65535");
        node = (int)v;
    }
    client *c = calloc(1, sizeof *c);
    if (!c) return admin_reply_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
    c->owner = x;
    c->types = types;
    c->node = node;
    /* an immediate first chunk: the client sees the stream open at once */
    c->out = strdup(": agora events\n\n");
    c->out_len = c->out ? strlen(c->out) : 0;
    c->last_write_ms = admin_now_ms();
    pthread_mutex_lock(&x->mu);
    bool full = x->nclients >= MAX_CLIENTS;
    if (!full) {
        c->next = x->clients;
        if (x->clients) x->clients->prev = c;
        x->clients = c;
        x->nclients++;
    }
    pthread_mutex_unlock(&x->mu);
    if (full) {
        free(c->out);
        free(c);
        return admin_reply_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                                 "too many event streams open (at most %d)", MAX_CLIENTS);
    }
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, read_stream, c, free_client);
    if (!r) {
        free_client(c);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    int rc = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return rc;
}
