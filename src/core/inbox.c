/* inbox.c — the receive side: decode a payload, drop duplicates, report gaps.
 *
 * Per origin we keep (incarnation, next expected sequence). The first message heard
 * from a node we never knew sets the baseline (a newcomer does not get a Gap for
 * history it never saw); a new incarnation of a known node starts at sequence 1, so
 * anything it sent before we heard it is a Gap. A payload that does not decode is
 * counted and logged (rate-limited), never fatal.
 *
 * Losing the last messages of a stream leaves no later sequence to notice the hole,
 * so heartbeats (and the goodbye) also say how far the sender's stream has been
 * delivered to its backend. A claim still unmet after a grace period (long enough for
 * a backend's own repair, such as a resend or a mesh peer's replay) becomes a Gap:
 * nothing is lost silently. */
#include "core/coord.h"

#include "codec/codec.h"
#include "codec/wire.h"

#include <stdlib.h>
#include <string.h>

static void decode_error(struct agora *a, const char *what, const char *why) {
    atomic_fetch_add(&a->decode_errors, 1);
    ag_log_limited(a, &a->decode_log, AGORA_LOG_WARN, "dropped a malformed %s message (%s)", what,
                   why);
}

static void push_gap(struct agora *a, uint16_t node, uint64_t missed) {
    agora_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = AGORA_EV_GAP;
    ev.node = node;
    ev.u.gap.missed = missed;
    /* a forger on an unsealed bus can cause these at will: rate-limited */
    ag_log_limited(a, &a->gap_log, AGORA_LOG_WARN, "node %u: %llu events were missed (Gap delivered)",
                   node, (unsigned long long)missed);
    ag_dispatch_push(a, &ev);
}

ag_origin *ag_inbox_origin(struct agora *a, uint16_t node) {
    if (!a->origins[node]) a->origins[node] = calloc(1, sizeof(ag_origin));
    return a->origins[node];
}

void ag_inbox_recv_position(ag_host *h, uint16_t node, uint64_t *inc, uint64_t *next) {
    struct agora *a = h->core;
    ag_origin *o = a->origins[node];
    *inc = o ? o->incarnation : 0;
    *next = o ? o->next_seq : 0;
}

static void deliver_stalwart(struct agora *a, const uint8_t *data, size_t len) {
    uint16_t node;
    agora_event *evs = NULL;
    size_t n = 0, off = 0;
    char err[200];
    int rc = agora_stalwart_decode(data, len, &node, &evs, &n, &off, err, sizeof err);
    if (rc != AGORA_OK) decode_error(a, "stalwart", err);
    if (n > 0 && ag_is_self(a, node)) {
        agora_events_free(evs, n);
        return;
    }
    for (size_t i = 0; i < n; i++) ag_dispatch_push(a, &evs[i]);
    free(evs);
}

static void deliver_events(struct agora *a, const uint8_t *data, size_t len,
                           const ag_wire_header *h) {
    ag_origin *o = ag_inbox_origin(a, h->origin);
    if (!o) return;
    if (o->next_seq == 0 || o->incarnation != h->incarnation) {
        bool restarted = o->next_seq != 0 && o->incarnation < h->incarnation;
        if (o->next_seq != 0 && o->incarnation > h->incarnation) {
            /* A message from an older life of that node, still in flight. */
            atomic_fetch_add(&a->duplicates, h->count);
            return;
        }
        o->incarnation = h->incarnation;
        o->next_seq = restarted ? 1 : h->first_seq;
    }
    uint64_t end = h->first_seq + h->count;
    if (end <= o->next_seq) {
        atomic_fetch_add(&a->duplicates, h->count);
        return;
    }
    if (h->first_seq > o->next_seq) {
        push_gap(a, h->origin, h->first_seq - o->next_seq);
        o->next_seq = h->first_seq;
    }
    uint64_t skip = o->next_seq - h->first_seq;
    if (skip) atomic_fetch_add(&a->duplicates, skip);
    size_t pos = h->events_offset;
    char err[200];
    for (uint64_t i = 0; i < h->count; i++) {
        agora_event ev;
        bool known = true;
        memset(&ev, 0, sizeof ev);
        if (ag_native_get_event(data, len, &pos, &ev, &known, err, sizeof err) != AGORA_OK) {
            decode_error(a, "agora", err);
            /* The rest of this message is lost: account for it as a gap. */
            o->next_seq = end;
            return;
        }
        if (i < skip || !known) {
            agora_event_clear(&ev);
            continue;
        }
        ev.node = h->origin;
        ag_dispatch_push(a, &ev);
    }
    o->next_seq = end;
    if (o->claim_seq && o->next_seq >= o->claim_seq) o->claim_seq = 0;
}

/* A heartbeat or goodbye from `node` says its events below `next` were sent. */
static void note_claim(struct agora *a, uint16_t node, uint64_t inc, uint64_t next) {
    ag_origin *o = a->origins[node];
    /* Never heard its events (a newcomer gets no Gap for history), or another life. */
    if (!o || o->next_seq == 0 || o->incarnation != inc) return;
    if (next <= o->next_seq) {
        o->claim_seq = 0;
        return;
    }
    if (!o->claim_seq) {
        o->claim_seq = next;
        o->claim_ms = ag_now_ms();
    }
}

#define CLAIM_GRACE_MS 6000

void ag_inbox_check_claims(struct agora *a) {
    uint64_t now = ag_now_ms();
    uint64_t grace = a->cfg->heartbeat_interval_ms * 4;
    if (grace < CLAIM_GRACE_MS) grace = CLAIM_GRACE_MS;
    for (size_t k = 0; k < a->nmember_ids; k++) {
        ag_origin *o = a->origins[a->member_ids[k]];
        if (!o || !o->claim_seq || now - o->claim_ms < grace) continue;
        if (o->next_seq < o->claim_seq) {
            push_gap(a, a->member_ids[k], o->claim_seq - o->next_seq);
            o->next_seq = o->claim_seq;
        }
        o->claim_seq = 0;
    }
}

static void deliver_plain(struct agora *a, const uint8_t *data, size_t len) {
    if (a->codec == AG_CODEC_STALWART) {
        deliver_stalwart(a, data, len);
        return;
    }
    ag_wire_header *h = a->scratch_hdr;
    char err[200];
    if (ag_wire_parse(data, len, h, err, sizeof err) != 0) {
        decode_error(a, "agora", err);
        return;
    }
    if (ag_dupid_check(a, h)) return; /* this node's own id: its echo, or a duplicate */
    ag_members_heard(a, h->origin, h->incarnation,
                     h->kind == AG_WIRE_HEARTBEAT ? h->address : NULL);
    switch (h->kind) {
    case AG_WIRE_EVENTS:
        deliver_events(a, data, len, h);
        break;
    case AG_WIRE_HEARTBEAT:
        note_claim(a, h->origin, h->incarnation, h->next_seq);
        for (size_t i = 0; i < h->nmembers; i++)
            ag_members_gossip(a, h->members[i].node, h->members[i].incarnation,
                              h->members[i].state, h->members[i].address,
                              h->members[i].age_ms);
        break;
    case AG_WIRE_LEAVE:
        note_claim(a, h->origin, h->incarnation, h->next_seq);
        ag_members_left(a, h->origin, h->incarnation);
        break;
    }
}

/* With a secret, nothing of a payload is read before it opened (sealing.c). */
void ag_inbox_deliver(ag_host *host, const uint8_t *data, size_t len) {
    struct agora *a = host->core;
    atomic_fetch_add(&a->bytes_in, len);
    if (!a->sealer) {
        deliver_plain(a, data, len);
        return;
    }
    /* a callback on the I/O thread could lead here again: the inner call gets its own */
    ag_buf nested, *plain = a->rx_plain_busy ? &nested : &a->rx_plain;
    ag_buf_init(&nested);
    ag_buf_reset(plain);
    ag_opened o;
    if (ag_sealing_open_any(a, data, len, plain, &o, false) == AGORA_OK) {
        bool outer = !a->rx_plain_busy;
        a->rx_plain_busy = true;
        deliver_plain(a, o.data, o.len);
        if (outer) a->rx_plain_busy = false;
    }
    ag_buf_free(&nested);
}

void ag_inbox_deliver_opened(ag_host *host, const uint8_t *plain, size_t len) {
    struct agora *a = host->core;
    atomic_fetch_add(&a->bytes_in, len + (a->sealer ? AG_SEAL_OVERHEAD : 0));
    deliver_plain(a, plain, len);
}

typedef struct posted_payload {
    ag_host *host;
    size_t len;
    uint8_t data[];
} posted_payload;

static void run_posted(ag_loop *l, void *arg) {
    (void)l;
    posted_payload *p = arg;
    ag_inbox_deliver(p->host, p->data, p->len);
    free(p);
}

void ag_inbox_deliver_from_thread(ag_host *h, const uint8_t *data, size_t len) {
    posted_payload *p = malloc(sizeof *p + len);
    if (!p) return;
    p->host = h;
    p->len = len;
    memcpy(p->data, data, len);
    if (ag_loop_post(h->loop, run_posted, p) != 0) free(p);
}

void ag_inbox_free(struct agora *a) {
    for (size_t i = 0; i < 65536; i++) {
        free(a->origins[i]);
        a->origins[i] = NULL;
    }
}
