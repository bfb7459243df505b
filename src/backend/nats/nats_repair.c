/* nats_repair.c — repairing the holes core NATS leaves (codec "agora" only).
 *
 * Sender: every acknowledged message of ours is kept in a ring (bounded by KEEP_MSGS
 * and KEEP_BYTES, oldest dropped first) so a node that missed some can ask for a range
 * on "stwt.agora.resend.<our id>"; we answer on the reply subject it gave
 * ("stwt.agora.node.<its id>"), first with a "gone" notice if part of the range was
 * dropped already, so that the asker does not wait for it.
 *
 * Receiver: a message whose first sequence lies beyond the next one the core expects
 * from that origin (host->recv_position) is held back, and the missing range is asked
 * for. Held messages go to the core in order as soon as the hole is filled; after
 * REPAIR_MAX_MS (or when too much is held) they go as they are and the core reports
 * the hole as a Gap, as it would without repair. A hole at the end of a stream has
 * no later message to reveal it: the origin's heartbeats say how far it has sent
 * ("claims"), and a claim still unmet at the next heartbeat is asked for the same
 * way. Only the message head is read here (ag_wire_peek: a version this build does
 * not speak is left alone, as the core will refuse it); the core decodes the rest.
 *
 * With a secret (host->sealed) every payload here is an envelope: what arrives is
 * opened first (host->open: refused ones are dropped, counted by the core) and held
 * and handed on as plaintext (host->deliver_opened); requests and "gone" notices are
 * sealed too, and their text must name the node that sealed them; the ring keeps
 * plaintext (ag_msg.plain) and every resend is sealed again, with a fresh counter. */
#include "backend/nats/nats_internal.h"

#include "codec/wire.h"
#include "util/buf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* As many messages as a receiver may have waiting in libnats (capacitySubscription's
 * default), within KEEP_BYTES: a receiver that far behind can still be repaired. */
#define KEEP_MSGS 65536
#define KEEP_BYTES (32u * 1024u * 1024u)
#define HOLD_MSGS 20000
#define REPAIR_MAX_MS 5000
#define REASK_MS 500 /* a request sent while a connection moves can be lost: ask again */
#define CLAIM_WAIT_MS 1000 /* an unmet heartbeat claim this old is asked for (core: 6 s) */

typedef struct ag_nats_kept {
    uint64_t first, count;
    size_t len;
    uint8_t *data;
} ag_nats_kept;

typedef struct held {
    uint64_t first, count;
    size_t len;
    struct held *next;
    uint8_t data[];
} held;

typedef struct ag_nats_hold {
    nats_be *b;
    uint16_t node;
    uint64_t inc;
    held *head, *tail; /* sorted by first */
    size_t n;
    ag_timer *timer; /* next re-ask or the deadline, while something is held */
    uint64_t since_ms; /* start of the current repair (or its last progress) */
    uint64_t claim, claim_inc, claim_ms; /* the oldest unmet heartbeat claim, and when */
    uint64_t floor; /* the origin (incarnation inc) no longer keeps sequences below it */
    struct ag_nats_hold *next;
} ag_nats_hold;

typedef struct hdr {
    uint16_t origin;
    uint64_t inc, first, count;
} hdr;

/* The head of a message of `kind` in a version this build speaks: origin,
 * incarnation, its first sequence number (EVENTS: the first event's; HEARTBEAT: the
 * next one to be sent, i.e. its claim) and count. False for anything else. */
static bool parse_head(const uint8_t *d, size_t len, uint8_t kind, hdr *h) {
    ag_wire_peek_info p;
    if (ag_wire_peek(d, len, &p, NULL, 0) != 0 || p.kind != kind) return false;
    h->origin = p.origin;
    h->inc = p.incarnation;
    h->first = p.seq;
    h->count = p.count;
    return true;
}

/* The header of an EVENTS message; false for anything else (delivered as is). */
static bool parse_events_header(const uint8_t *d, size_t len, hdr *h) {
    return parse_head(d, len, AG_WIRE_EVENTS, h) && h->first > 0 && h->count > 0 &&
           h->first + h->count > h->first;
}

/* A heartbeat's claim: events before h->first of (origin, inc) were sent. */
static bool parse_heartbeat(const uint8_t *d, size_t len, hdr *h) {
    return parse_head(d, len, AG_WIRE_HEARTBEAT, h);
}

/* Hand a payload to the core: opened already when sealed. */
static void pass(nats_be *b, const uint8_t *d, size_t len) {
    if (b->host->sealed) b->host->deliver_opened(b->host, d, len);
    else b->host->deliver(b->host, d, len);
}

/* Publish `text` on subject (with reply, if any), sealed when a secret is set. */
static natsStatus publish_own(nats_be *b, const char *subj, const char *reply, const void *text,
                              size_t len, ag_buf *scratch) {
    if (b->host->sealed) {
        ag_buf_reset(scratch);
        if (b->host->seal(b->host, text, len, scratch) != 0) return NATS_NO_MEMORY;
        text = scratch->data;
        len = scratch->len;
    }
    return reply ? natsConnection_PublishRequest(b->nc, subj, reply, text, (int)len)
                 : natsConnection_Publish(b->nc, subj, text, (int)len);
}

/* ---- sender ------------------------------------------------------------------ */

/* The i-th oldest kept message (the ring starts at kept_head). */
static ag_nats_kept *kept_at(nats_be *b, size_t i) {
    return &b->kept[(b->kept_head + i) % b->capkept];
}

static void drop_oldest_kept(nats_be *b) {
    ag_nats_kept *k = kept_at(b, 0);
    if (k->first + k->count > b->kept_floor) b->kept_floor = k->first + k->count;
    b->kept_bytes -= k->len;
    free(k->data);
    b->kept_head = (b->kept_head + 1) % b->capkept;
    b->nkept--;
}

/* Room for one more: double the ring (up to KEEP_MSGS), oldest first again. */
static bool grow_kept(nats_be *b) {
    size_t nc = b->capkept ? b->capkept * 2 : 256;
    if (nc > KEEP_MSGS) nc = KEEP_MSGS;
    ag_nats_kept *k = malloc(nc * sizeof *k);
    if (!k) return false;
    for (size_t i = 0; i < b->nkept; i++) k[i] = *kept_at(b, i);
    free(b->kept);
    b->kept = k;
    b->capkept = nc;
    b->kept_head = 0;
    return true;
}

/* The plaintext is kept: a resend is sealed again (a receiver refuses a counter twice). */
static void keep_locked(nats_be *b, const ag_msg *msg) {
    size_t len = msg->plain ? msg->plain_len : msg->len;
    while (b->nkept && (b->nkept >= KEEP_MSGS || b->kept_bytes + len > KEEP_BYTES))
        drop_oldest_kept(b);
    if (b->nkept == b->capkept && !grow_kept(b)) return;
    uint8_t *copy = malloc(len);
    if (!copy) return;
    memcpy(copy, msg->plain ? msg->plain : msg->data, len);
    /* Keep them ordered: a retried message may be acknowledged after later ones. */
    size_t at = b->nkept;
    while (at > 0 && kept_at(b, at - 1)->first > msg->first_seq) at--;
    for (size_t i = b->nkept; i > at; i--) *kept_at(b, i) = *kept_at(b, i - 1);
    *kept_at(b, at) = (ag_nats_kept){.first = msg->first_seq, .count = msg->nevents,
                                     .len = len, .data = copy};
    b->nkept++;
    b->kept_bytes += len;
}

void ag_nats_keep(nats_be *b, const ag_msg *msg) {
    if (!b->repair || !msg->sequenced || msg->len > KEEP_BYTES) return;
    pthread_mutex_lock(&b->kept_mu);
    keep_locked(b, msg);
    pthread_mutex_unlock(&b->kept_mu);
}

/* The index of the first kept message that holds a sequence >= from. */
static size_t kept_find(nats_be *b, uint64_t from) {
    size_t lo = 0, hi = b->nkept;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const ag_nats_kept *k = kept_at(b, mid);
        if (k->first + k->count <= from) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Runs on libnats' delivery thread: answering does not wait behind the loop's queue.
 * Sends the kept messages in [from, to) (to 0: to the newest). If some of that range
 * was already dropped, a notice "gone <our id> <incarnation> <floor>" goes first, so
 * the asker stops waiting for it at once. */
void ag_nats_resend(nats_be *b, const char *reply, const uint8_t *req, size_t len) {
    char text[96];
    if (!b->repair || !reply || !*reply) return;
    ag_buf scratch; /* this thread's: the plaintext of the request, then each resend */
    ag_buf_init(&scratch);
    if (b->host->sealed) {
        /* only a holder of the secret may ask, and only for its own reply subject */
        ag_opened o;
        char mine[64];
        if (b->host->open(b->host, req, len, &scratch, &o) != AGORA_OK) goto out;
        snprintf(mine, sizeof mine, AG_NATS_DIRECT_FMT, (unsigned)o.origin);
        if (o.agora || strcmp(reply, mine) != 0) goto out;
        req = o.data;
        len = o.len;
    }
    if (len >= sizeof text) goto out;
    memcpy(text, req, len);
    text[len] = 0;
    uint64_t inc = 0, from = 0, to = 0;
    if (sscanf(text, "%" SCNu64 " %" SCNu64 " %" SCNu64, &inc, &from, &to) < 2) goto out;
    if (inc != b->host->incarnation) goto out; /* asks about an earlier life of ours */
    pthread_mutex_lock(&b->kept_mu);
    if (from < b->kept_floor) {
        char gone[96];
        int n = snprintf(gone, sizeof gone, AG_NATS_GONE_PREFIX "%u %" PRIu64 " %" PRIu64,
                         (unsigned)b->host->node_id, inc, b->kept_floor);
        publish_own(b, reply, NULL, gone, (size_t)n, &scratch);
        from = b->kept_floor;
    }
    for (size_t i = kept_find(b, from); i < b->nkept; i++) {
        const ag_nats_kept *k = kept_at(b, i);
        if (to && k->first >= to) break;
        if (publish_own(b, reply, NULL, k->data, k->len, &scratch) != NATS_OK) break;
    }
    pthread_mutex_unlock(&b->kept_mu);
out:
    ag_buf_free(&scratch);
}

/* ---- receiver ---------------------------------------------------------------- */

static ag_nats_hold *hold_of(nats_be *b, uint16_t node, bool create) {
    for (ag_nats_hold *o = b->holds; o; o = o->next)
        if (o->node == node) return o;
    if (!create) return NULL;
    ag_nats_hold *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->b = b;
    o->node = node;
    o->next = b->holds;
    b->holds = o;
    return o;
}

/* Follow the origin's incarnation: a new life starts without a floor. */
static void set_inc(ag_nats_hold *o, uint64_t inc) {
    if (o->inc != inc) o->floor = 0;
    o->inc = inc;
}

/* The sequence the core expects next from `node` (its incarnation in *inc), raised to
 * the floor that node told us of (o, if any): what lies below it will not come and is
 * left to the core as a Gap. */
static uint64_t expected(nats_be *b, const ag_nats_hold *o, uint16_t node, uint64_t *inc) {
    uint64_t next;
    b->host->recv_position(b->host, node, inc, &next);
    return o && *inc == o->inc && next && next < o->floor ? o->floor : next;
}

static void stop_timer(ag_nats_hold *o) {
    if (o->timer) {
        ag_timer_stop(o->b->host->loop, o->timer);
        o->timer = NULL;
    }
}

/* Hand everything held to the core, in order (it reports what is still missing). */
static void release_all(ag_nats_hold *o) {
    stop_timer(o);
    while (o->head) {
        held *h = o->head;
        o->head = h->next;
        o->n--;
        pass(o->b, h->data, h->len);
        free(h);
    }
    o->tail = NULL;
}

static uint64_t repair_limit(const nats_be *b) {
    return b->cfg->timeout_request_ms < REPAIR_MAX_MS ? b->cfg->timeout_request_ms : REPAIR_MAX_MS;
}

static void send_ask(ag_nats_hold *o, uint64_t from);

/* Every REASK_MS while a hole stays open: ask again, until the repair limit. */
static void on_repair_timer(ag_loop *l, ag_timer *t, void *arg) {
    (void)l;
    (void)t;
    ag_nats_hold *o = arg;
    stop_timer(o);
    if (!o->head) return;
    if (ag_now_ms() - o->since_ms >= repair_limit(o->b)) {
        o->b->host->log_limited(o->b->host, &o->b->repair_log[0], AGORA_LOG_WARN,
                                "nats: node %u did not resend the missing messages in time",
                                o->node);
        release_all(o);
        return;
    }
    uint64_t inc, next = expected(o->b, o, o->node, &inc);
    if (inc == o->inc && next && o->head->first > next) send_ask(o, next);
    else release_all(o); /* nothing missing any more before the held messages */
}

static void send_ask(ag_nats_hold *o, uint64_t from) {
    nats_be *b = o->b;
    char subj[64], reply[64], body[64];
    snprintf(subj, sizeof subj, AG_NATS_RESEND_FMT, o->node);
    snprintf(reply, sizeof reply, AG_NATS_DIRECT_FMT, b->host->node_id);
    /* Up to the first held message: what follows it we have (0: to the newest). */
    uint64_t to = o->head ? o->head->first : 0;
    int n = snprintf(body, sizeof body, "%" PRIu64 " %" PRIu64 " %" PRIu64, o->inc, from, to);
    natsStatus s = publish_own(b, subj, reply, body, (size_t)n, &b->sealed_ask);
    b->repairs++;
    b->host->log(b->host, AGORA_LOG_DEBUG, "nats: asked node %u to resend from sequence %" PRIu64
                 " (%s)", o->node, from, natsStatus_GetText(s));
    stop_timer(o);
    uint64_t wait = repair_limit(b) < REASK_MS ? repair_limit(b) : REASK_MS;
    o->timer = ag_timer_start(b->host->loop, wait, 0, on_repair_timer, o);
}

/* Start a repair from `from`. */
static void ask(ag_nats_hold *o, uint64_t from) {
    o->since_ms = ag_now_ms();
    send_ask(o, from);
}

/* Deliver the held messages that are now in order (counted as repaired). */
static void drain(ag_nats_hold *o) {
    nats_be *b = o->b;
    bool progress = false;
    while (o->head) {
        uint64_t inc, next = expected(b, o, o->node, &inc);
        held *h = o->head;
        if (inc == o->inc && next && h->first > next) {
            /* Still a hole before the first held message: the resend is under way
             * (more time), or ask again from there. */
            if (!o->timer) ask(o, next);
            else if (progress) o->since_ms = ag_now_ms(); /* the resend is flowing */
            return;
        }
        progress = true;
        o->head = h->next;
        if (!o->head) o->tail = NULL;
        o->n--;
        b->repaired++;
        pass(b, h->data, h->len);
        free(h);
    }
    stop_timer(o);
}

static void hold(ag_nats_hold *o, const hdr *hd, const uint8_t *data, size_t len) {
    held *h = malloc(sizeof *h + len);
    if (!h) {
        pass(o->b, data, len);
        return;
    }
    h->first = hd->first;
    h->count = hd->count;
    h->len = len;
    memcpy(h->data, data, len);
    o->n++;
    if (!o->head || o->tail->first <= hd->first) { /* the usual case: in order */
        h->next = NULL;
        if (o->head) o->tail->next = h;
        else o->head = h;
        o->tail = h;
        return;
    }
    held **pp = &o->head;
    while (*pp && (*pp)->first <= hd->first) pp = &(*pp)->next;
    h->next = *pp;
    *pp = h;
}

/* After a heartbeat: the messages its origin claims to have sent and we never saw
 * (lost while our connection moved, with nothing sent after them) are asked for once
 * a claim has stayed unmet for CLAIM_WAIT_MS (a heartbeat may overtake the last
 * messages, and a loaded receiver may be behind). */
static void check_claim(nats_be *b, const hdr *hd) {
    ag_nats_hold *o = hold_of(b, hd->origin, false);
    uint64_t inc, next = expected(b, o, hd->origin, &inc);
    if (next == 0 || inc != hd->inc || hd->first <= next) {
        if (o) o->claim = 0;
        return;
    }
    if (!o) o = hold_of(b, hd->origin, true);
    if (!o || o->head || o->timer) return; /* a repair is under way */
    uint64_t now = ag_now_ms();
    if (o->claim && o->claim_inc == inc && next < o->claim) {
        if (now - o->claim_ms < CLAIM_WAIT_MS) return;
        o->claim = 0;
        set_inc(o, inc);
        b->host->log(b->host, AGORA_LOG_DEBUG, "nats: node %u claims sequence %" PRIu64
                     " sent, we are at %" PRIu64 "; asking for the rest", hd->origin,
                     hd->first, next);
        ask(o, next);
        return;
    }
    o->claim = hd->first;
    o->claim_inc = inc;
    o->claim_ms = now;
}

static void repair_in(nats_be *b, const uint8_t *data, size_t len) {
    hdr hd;
    if (b->repair && parse_heartbeat(data, len, &hd) && hd.origin != b->host->node_id) {
        pass(b, data, len);
        check_claim(b, &hd);
        return;
    }
    if (!b->repair || !parse_events_header(data, len, &hd) || hd.origin == b->host->node_id) {
        pass(b, data, len);
        return;
    }
    ag_nats_hold *o = hold_of(b, hd.origin, false);
    if (o && o->head && o->inc != hd.inc) release_all(o); /* that node restarted */
    uint64_t inc, next = expected(b, o, hd.origin, &inc);
    if (next == 0 || inc != hd.inc || hd.first <= next) {
        pass(b, data, len);
        if (o && o->head) drain(o);
        return;
    }
    /* A hole before this message: hold it and ask the origin for what is missing. */
    if (!o) o = hold_of(b, hd.origin, true);
    if (!o) {
        pass(b, data, len);
        return;
    }
    set_inc(o, hd.inc);
    hold(o, &hd, data, len);
    if (o->n > HOLD_MSGS) {
        b->host->log_limited(b->host, &b->repair_log[1], AGORA_LOG_WARN,
                             "nats: too many messages held for node %u; delivering them with "
                             "the hole", o->node);
        release_all(o);
        return;
    }
    if (!o->timer) ask(o, next);
}

/* "gone <origin> <incarnation> <floor>": give up on what lies below floor now rather
 * than after REPAIR_MAX_MS; the rest of the hole is still being resent. */
static void on_gone(nats_be *b, const uint8_t *data, size_t len, const ag_opened *sealed) {
    char text[96];
    size_t plen = sizeof AG_NATS_GONE_PREFIX - 1;
    if (len - plen >= sizeof text) return;
    memcpy(text, data + plen, len - plen);
    text[len - plen] = 0;
    unsigned origin;
    uint64_t inc, floor;
    if (sscanf(text, "%u %" SCNu64 " %" SCNu64, &origin, &inc, &floor) != 3 || origin > UINT16_MAX)
        return;
    /* sealed: a notice speaks only for the node (and life) that sealed it */
    if (sealed && (origin != sealed->origin || inc != sealed->incarnation)) return;
    ag_nats_hold *o = hold_of(b, (uint16_t)origin, false);
    if (!o || o->inc != inc || floor <= o->floor) return; /* not asked, or known already */
    uint64_t cinc, next = expected(b, o, o->node, &cinc);
    if (cinc == inc && next && next < floor)
        b->host->log_limited(b->host, &b->repair_log[2], AGORA_LOG_WARN,
                             "nats: node %u no longer keeps its sequences %" PRIu64 "-%" PRIu64
                             ", which did not reach us; they are reported as a gap",
                             o->node, next, floor - 1);
    o->floor = floor;
    if (o->head) drain(o);
}

/* Open a sealed payload into b->opened (loop thread). False: refused (the core has
 * counted it), or our own echo. */
static bool open_in(nats_be *b, const uint8_t **data, size_t *len, ag_opened *o) {
    if (!b->host->sealed) {
        memset(o, 0, sizeof *o);
        o->agora = true;
        return true;
    }
    ag_buf_reset(&b->opened);
    if (b->host->open(b->host, *data, *len, &b->opened, o) != AGORA_OK) return false;
    *data = o->data;
    *len = o->len;
    return true;
}

void ag_nats_repair_in(nats_be *b, const uint8_t *data, size_t len) {
    ag_opened o;
    if (!open_in(b, &data, &len, &o)) return;
    /* on the bus, only agora messages (the core counts anything else as malformed) */
    repair_in(b, data, len);
}

void ag_nats_repair_direct(nats_be *b, const uint8_t *data, size_t len) {
    size_t plen = sizeof AG_NATS_GONE_PREFIX - 1;
    ag_opened o;
    if (!open_in(b, &data, &len, &o)) return;
    if (b->repair && len > plen && memcmp(data, AG_NATS_GONE_PREFIX, plen) == 0)
        on_gone(b, data, len, b->host->sealed ? &o : NULL);
    else
        repair_in(b, data, len);
}

void ag_nats_repair_free(nats_be *b) {
    while (b->holds) {
        ag_nats_hold *o = b->holds;
        b->holds = o->next;
        /* Timers belong to the loop, which frees them; stop ours first. */
        stop_timer(o);
        while (o->head) {
            held *h = o->head;
            o->head = h->next;
            free(h);
        }
        free(o);
    }
    while (b->nkept) drop_oldest_kept(b);
    ag_buf_free(&b->opened);
    ag_buf_free(&b->sealed_ask);
    free(b->kept);
    b->kept = NULL;
    b->capkept = b->kept_head = 0;
}
