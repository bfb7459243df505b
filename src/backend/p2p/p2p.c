/* p2p.c — the PeerToPeer backend: a TCP full mesh between the nodes, each link
 * TLS 1.3 with a pre-shared key derived from the cluster secret.
 *
 * Sequenced messages (application events) are kept, as ready frames, in a bounded
 * resend ring; every connection is a cursor into that ring, so a peer that
 * reconnects asks where to resume and misses nothing the ring still holds.
 * Unsequenced messages (heartbeats, leave notices) go only to the live connections.
 * Work triggered from publish or from inside a callback (writing, msg_done, resume)
 * runs from a deferred "kick" (ag_loop_defer: once the loop's current callbacks are
 * done), so that no host callback ever runs inside publish and no connection is
 * re-entered while it is being written. */
#include "backend/p2p/p2p.h"
#include "util/be.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool closing_now(p2p *b);

void p2p_log(p2p *b, agora_log_level level, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    b->host->log(b->host, level, "%s", msg);
}

void p2p_log_limited(p2p *b, p2p_log_cause cause, agora_log_level level, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    b->host->log_limited(b->host, &b->log_limits[cause], level, "%s", msg);
}

/* What each cause's "N more suppressed" line calls them. */
static const char *const log_cause_what[P2P_LOG_NCAUSES] = {
    [P2P_LOG_ACCEPT] = "refused or failed incoming connections",
    [P2P_LOG_WRONG_SECRET] = "TLS handshakes with another cluster secret",
    [P2P_LOG_PSK_IDENTITY] = "TLS handshakes without agora's PSK identity",
    [P2P_LOG_NOT_TLS] = "peers that did not speak TLS",
    [P2P_LOG_SPEAKS_TLS] = "peers that spoke TLS to this plaintext node",
    [P2P_LOG_TLS_OTHER] = "failed TLS handshakes",
    [P2P_LOG_GARBAGE] = "peers that were not agora PeerToPeer peers",
    [P2P_LOG_OVERSIZED] = "frames larger than maxFrame",
    [P2P_LOG_BAD_FRAME] = "unknown or unexpected frames",
    [P2P_LOG_VERSION] = "peers of another protocol version",
    [P2P_LOG_DUP_ID] = "peers refused for a duplicate node id",
    [P2P_LOG_DUP_OWN] = "peers that claimed this node's own id",
    [P2P_LOG_DROPPED] = "connections closed or timed out",
};

/* A flood that stopped still gets its count told, once its period is over. */
static void log_suppressed(p2p *b, uint64_t now) {
    for (int i = 0; i < P2P_LOG_NCAUSES; i++) {
        uint64_t n;
        if (ag_ratelimit_due(&b->log_limits[i], now, &n))
            p2p_log(b, AGORA_LOG_INFO, "%llu more %s in the last %d s (not logged one by one)",
                    (unsigned long long)n, log_cause_what[i], AG_RATELIMIT_PERIOD_MS / 1000);
    }
}

/* ---- the resend ring ----------------------------------------------------- */

p2p_entry *p2p_ring_at(p2p *b, uint64_t pos) { return &b->ring.e[pos & (b->ring.cap - 1)]; }

bool p2p_ring_has(const p2p *b, uint64_t pos) { return pos >= b->ring.base && pos < b->ring.end; }

#define RING_MIN_BYTES (64u << 10)

/* Move the live frames, in order, to the start of a larger buffer. */
static int ring_grow(p2p_ring *r, size_t need) {
    size_t n = r->bcap ? r->bcap : RING_MIN_BYTES;
    while (n < r->bytes + need) n *= 2;
    if (n == r->bcap) n *= 2;
    uint8_t *buf = malloc(n);
    if (!buf) return AGORA_ENOMEM;
    size_t at = 0;
    for (uint64_t p = r->base; p < r->end; p++) {
        p2p_entry *e = &r->e[p & (r->cap - 1)];
        memcpy(buf + at, e->frame, e->len);
        e->frame = buf + at;
        at += e->len;
    }
    free(r->buf);
    r->buf = buf;
    r->bcap = n;
    r->tail = at;
    return AGORA_OK;
}

/* Room for a frame of len bytes at the tail, wrapping to the start when the end is
 * too short. The live bytes run from the oldest frame (head) to the tail; head ==
 * tail with frames in the ring means full. */
static uint8_t *ring_alloc(p2p_ring *r, size_t len) {
    if (r->end == r->base) r->tail = 0;
    for (;;) {
        if (r->end == r->base) {
            if (r->bcap >= len) break;
        } else {
            size_t head = (size_t)(r->e[r->base & (r->cap - 1)].frame - r->buf);
            if (r->tail > head) {
                if (r->bcap - r->tail >= len) break;
                if (head >= len) {
                    r->tail = 0; /* the bytes after the old tail wait for the head to wrap */
                    break;
                }
            } else if (head - r->tail >= len) {
                break;
            }
        }
        if (ring_grow(r, len) != AGORA_OK) return NULL;
    }
    uint8_t *p = r->buf + r->tail;
    r->tail += len;
    return p;
}

/* The entry array's first size. Under full load a node's 100,000 kept events come
 * in 4,000 to 8,000 messages of a dozen or more events each; starting below that,
 * the array doubled (a copy, and the old one left to fragment the heap) at random
 * moments minutes into a run. Slots are touched only as they are used. */
#define RING_FIRST_ENTRIES 16384u

/* Append msg as a DATA frame. */
static int ring_push(p2p *b, ag_msg *msg) {
    p2p_ring *r = &b->ring;
    if (r->end - r->base == r->cap) {
        size_t n = r->cap * 2;
        if (!r->cap) {
            n = 256;
            while (n < RING_FIRST_ENTRIES && n <= b->cfg->resend_buffer) n *= 2;
        }
        p2p_entry *e = malloc(n * sizeof *e);
        if (!e) return AGORA_ENOMEM;
        for (uint64_t p = r->base; p < r->end; p++) e[p & (n - 1)] = r->e[p & (r->cap - 1)];
        free(r->e);
        r->e = e;
        r->cap = n;
    }
    size_t flen = P2P_FRAME_HDR + msg->len;
    uint8_t *frame = ring_alloc(r, flen);
    if (!frame) return AGORA_ENOMEM;
    uint32_t l = (uint32_t)msg->len + 1;
    ag_put_be32(frame, l);
    frame[4] = P2P_FRAME_DATA;
    memcpy(frame + P2P_FRAME_HDR, msg->data, msg->len);
    r->cum += flen;
    r->e[r->end & (r->cap - 1)] = (p2p_entry){.frame = frame, .len = flen,
                                              .first_seq = msg->first_seq,
                                              .nevents = msg->nevents, .cum_end = r->cum,
                                              .msg = msg};
    r->end++;
    r->events += msg->nevents;
    r->bytes += flen;
    return AGORA_OK;
}

static void doneq_push(p2p *b, ag_msg *m) {
    if (b->ndone == b->capdone) {
        size_t n = b->capdone ? b->capdone * 2 : 16;
        ag_msg **q = realloc(b->doneq, n * sizeof *q);
        if (!q) return; /* the core then sees the message as never finished */
        b->doneq = q;
        b->capdone = n;
    }
    b->doneq[b->ndone++] = m;
    p2p_kick(b);
}

/* Drop the oldest entries beyond the bounds. An entry a connection is still
 * actively reading is kept a little longer; one a stalled connection has not read
 * dooms that connection. */
static void ring_evict(p2p *b) {
    p2p_ring *r = &b->ring;
    uint64_t max_events = b->cfg->resend_buffer;
    while (r->end - r->base > 1 && (r->events > max_events || r->bytes > P2P_RING_MAX_BYTES)) {
        bool busy = false;
        for (p2p_conn *c = b->conns; c; c = c->next) {
            if (c->state != P2P_ESTABLISHED || c->doomed || c->fill_pos > r->base) continue;
            if (!p2p_conn_holds(c))
                c->doomed = true;
            else
                busy = true;
        }
        if (busy) break;
        p2p_entry *e = p2p_ring_at(b, r->base);
        if (e->msg) doneq_push(b, e->msg);
        r->events -= e->nevents;
        r->bytes -= e->len;
        r->base++;
        if (b->done_pos < r->base) b->done_pos = r->base;
    }
}

void p2p_peer_seen(p2p *b, uint16_t node, uint64_t inc) {
    for (p2p_peerpos *p = b->peerpos; p; p = p->next)
        if (p->node == node) {
            if (p->inc != inc) {
                p->inc = inc;
                p->pos = b->ring.end;
            }
            return;
        }
    p2p_peerpos *p = calloc(1, sizeof *p);
    if (!p) return;
    p->node = node;
    p->inc = inc;
    p->pos = b->ring.end;
    p->next = b->peerpos;
    b->peerpos = p;
}

/* Where a peer that has seen (inc, next_seq) of this node resumes. */
uint64_t p2p_ring_find(p2p *b, uint16_t node, uint64_t inc, uint64_t next_seq) {
    p2p_ring *r = &b->ring;
    if (inc == 0 && next_seq == 0) {
        /* It never heard this node: from when its link first came up, as a broker
         * subscription would (no history from before it joined). */
        for (p2p_peerpos *p = b->peerpos; p; p = p->next)
            if (p->node == node) return p->pos > r->base ? (p->pos < r->end ? p->pos : r->end) : r->base;
        return r->end;
    }
    /* It heard an earlier life of this node: all of this life the ring holds (its
     * core reports a Gap if the ring no longer starts at sequence 1). */
    if (inc != b->host->incarnation) return r->base;
    uint64_t lo = r->base, hi = r->end; /* first entry ending after next_seq */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        p2p_entry *e = p2p_ring_at(b, mid);
        if (e->first_seq + e->nevents > next_seq)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* ---- control frames ------------------------------------------------------- */

/* The frame's message is finished (once: msg is cleared). */
static void ctrl_finish(p2p *b, p2p_ctrl *c) {
    if (!c->msg) return;
    if (!closing_now(b)) doneq_push(b, c->msg);
    c->msg = NULL;
}

void p2p_ctrl_unref(p2p *b, p2p_ctrl *c) {
    if (--c->refs > 0) return;
    ctrl_finish(b, c); /* defensive: settled before */
    free(c);
}

/* The entry no longer holds the frame's message back. */
static void ctrl_settle(p2p *b, p2p_ctrlq *q) {
    if (!q->counted) return;
    q->counted = false;
    if (--q->c->waiting == 0) ctrl_finish(b, q->c);
}

void p2p_ctrl_release(p2p *b, p2p_ctrlq *q) {
    ctrl_settle(b, q);
    p2p_ctrl_unref(b, q->c);
}

void p2p_ctrl_excuse(p2p *b, p2p_conn *c) {
    for (size_t i = 0; i < c->noctrl; i++) ctrl_settle(b, &c->octrl[i]);
    for (size_t i = 0; i < c->cq_len; i++) ctrl_settle(b, &c->cq[(c->cq_head + i) % c->cq_cap]);
}

/* ---- progress ------------------------------------------------------------- */

static bool closing_now(p2p *b) { return b->closing; }

void p2p_link_changed(p2p *b) {
    if (closing_now(b)) return;
    uint32_t live = 0;
    for (p2p_conn *c = b->conns; c; c = c->next)
        if (c->state == P2P_ESTABLISHED && !c->observer) live++; /* links to members */
    b->live = live;
    bool conn = live > 0;
    if (conn != b->connected) {
        b->connected = conn;
        b->host->set_connected(b->host, conn, b->advertise[0] ? b->advertise : NULL);
    }
}

static void progress(p2p *b);

static void kick_cb(ag_loop *l, void *arg) {
    (void)l;
    progress(arg);
}

void p2p_kick(p2p *b) {
    if (closing_now(b)) return;
    b->kick.cb = kick_cb;
    b->kick.arg = b;
    ag_loop_defer(b->host->loop, &b->kick);
}

static bool over_high_water(p2p *b) {
    for (p2p_conn *c = b->conns; c; c = c->next)
        if (c->state == P2P_ESTABLISHED && p2p_conn_holds(c) && !c->doomed &&
            p2p_conn_backlog(c) > P2P_HIGH_WATER)
            return true;
    return false;
}

/* ---- a duplicate node id ------------------------------------------------ */

/* Give up: stop listening and dialing, close every connection. Retrying would only
 * be refused again, and meanwhile this node's events reach nobody (or some nodes, so
 * that a third node silently keeps only one of the two). */
static void give_up(p2p *b, const char *why) {
    b->gave_up = true;
    p2p_log(b, AGORA_LOG_ERROR, "giving up: %s. Node ids must be unique: give this node another "
            "\"nodeId\" and start it again (it stops connecting now)", why);
    for (size_t i = 0; i < b->nlfds; i++) {
        ag_loop_del_fd(b->host->loop, b->lfds[i]);
        close(b->lfds[i]);
    }
    b->nlfds = 0;
    b->host->fatal(b->host, AGORA_EDUPID);
    p2p_kick(b); /* progress() closes the connections, outside the caller's */
}

void p2p_dup_id_clash(p2p *b, const char *why) {
    if (b->gave_up || b->closing) return;
    uint64_t now = ag_now_ms();
    uint64_t ft = b->host->cfg->failure_timeout_ms + b->host->cfg->heartbeat_interval_ms;
    uint64_t rmax = b->cfg->reconnect_max_ms ? b->cfg->reconnect_max_ms : 5000;
    /* A restarted node can meet its own old link at a peer that has not yet noticed
     * the old process is gone: only a clash that outlasts failureTimeout is final. */
    if (!b->dup_since_ms || now - b->dup_last_ms > 2 * ft + rmax) b->dup_since_ms = now;
    b->dup_last_ms = now;
    if (now - b->dup_since_ms >= ft) give_up(b, why);
}

static void progress(p2p *b) {
    uint64_t now = ag_now_ms();
    if (b->gave_up)
        while (b->conns) p2p_conn_close(b->conns, true);
    /* 1. connections that fell out of the ring or overflowed their control queue */
    for (p2p_conn *c = b->conns, *n; c; c = n) {
        n = c->next;
        if (!c->doomed) continue;
        p2p_log(b, AGORA_LOG_WARN,
                "%s: stalled reader — data it has not read fell out of the resend buffer; "
                "disconnecting (it will see a Gap when it reconnects)", c->name);
        c->doomed = false;
        p2p_conn_close(c, true);
    }
    /* 2. write what is pending */
    for (p2p_conn *c = b->conns, *n; c; c = n) {
        n = c->next;
        if (c->want_write || c->state == P2P_CONNECTING || c->state == P2P_TLS) continue;
        if (c->olen > c->ooff || c->cq_len || (c->state == P2P_ESTABLISHED && c->fill_pos < b->ring.end))
            p2p_conn_flush(c);
    }
    /* 3. a reader that stopped reading, or cannot keep up for a while, no longer
     * holds everyone back: it goes on at its own pace from the ring, and is cut
     * off (to resume with a Gap) if it falls out of it. The clock is read again:
     * the writes above stamped last_progress_ms, possibly a millisecond later than
     * `now`, and an unsigned difference would then count as a long stall. */
    now = ag_now_ms();
    for (p2p_conn *c = b->conns; c; c = c->next) {
        if (c->state != P2P_ESTABLISHED || c->observer) continue; /* never waited for */
        uint64_t bl = p2p_conn_backlog(c);
        bool stuck = bl > 0 && now - c->last_progress_ms > P2P_STALL_MS;
        if (!stuck && bl <= P2P_HIGH_WATER) {
            c->over_since_ms = 0;
            if (c->lagging) {
                c->lagging = false;
                p2p_log(b, AGORA_LOG_INFO, "%s caught up", c->name);
            }
            continue;
        }
        if (bl > P2P_HIGH_WATER && !c->over_since_ms) c->over_since_ms = now;
        if (c->lagging) continue;
        if (stuck || (c->over_since_ms && now - c->over_since_ms > P2P_STALL_MS)) {
            c->lagging = true;
            p2p_ctrl_excuse(b, c);
            p2p_log(b, AGORA_LOG_WARN, "%s is %s (%llu KiB unsent); no longer waiting for it",
                    c->name, stuck ? "not reading" : "not keeping up",
                    (unsigned long long)(bl == UINT64_MAX ? 0 : bl / 1024));
        }
    }
    /* 4. messages written to every live connection are finished */
    uint64_t min_sent = b->ring.end;
    for (p2p_conn *c = b->conns; c; c = c->next)
        if (c->state == P2P_ESTABLISHED && p2p_conn_holds(c) && c->sent_pos < min_sent)
            min_sent = c->sent_pos;
    if (b->done_pos < b->ring.base) b->done_pos = b->ring.base;
    for (; b->done_pos < min_sent; b->done_pos++) {
        p2p_entry *e = p2p_ring_at(b, b->done_pos);
        if (e->msg) {
            doneq_push(b, e->msg);
            e->msg = NULL;
        }
    }
    if (b->ndone) {
        /* Taken out first: msg_done may publish, and that may finish more. */
        ag_msg **q = b->doneq;
        size_t nq = b->ndone, cap = b->capdone;
        b->doneq = NULL;
        b->ndone = b->capdone = 0;
        for (size_t i = 0; i < nq; i++) b->host->msg_done(b->host, q[i], AGORA_OK);
        if (!b->doneq) { /* kept for next time: no allocation per round */
            b->doneq = q;
            b->capdone = cap;
        } else {
            free(q);
        }
    }
    /* 5. backpressure released */
    if (b->blocked && !over_high_water(b)) {
        b->blocked = false;
        b->host->resume(b->host);
    }
}

static void tick_cb(ag_loop *l, ag_timer *t, void *arg) {
    (void)l;
    (void)t;
    p2p *b = arg;
    uint64_t now = ag_now_ms();
    for (p2p_conn *c = b->conns, *n; c; c = n) {
        n = c->next;
        if (c->state != P2P_ESTABLISHED && now > c->deadline_ms) {
            p2p_log_limited(b, P2P_LOG_DROPPED,
                    c->outbound && c->target && c->target->failures ? AGORA_LOG_DEBUG : AGORA_LOG_INFO,
                    "%s: %s timed out after %llu ms", c->name,
                    c->state == P2P_CONNECTING ? "connect" : "handshake",
                    (unsigned long long)b->cfg->connect_timeout_ms);
            p2p_conn_close(c, true);
            continue;
        }
        if (c->cq_bytes > P2P_CTRL_MAX_BYTES) {
            c->doomed = true;
            p2p_kick(b);
        }
        if (c->state == P2P_ESTABLISHED && (c->lagging || c->over_since_ms || c->olen > c->ooff ||
                                            c->fill_pos < b->ring.end))
            p2p_kick(b); /* re-evaluate lagging and backpressure */
    }
    p2p_net_tick(b, now);
    log_suppressed(b, now);
}

/* ---- ops ----------------------------------------------------------------- */

static void p2p_free(p2p *b);

static int p2p_open(ag_host *host, ag_backend **out, char *err, size_t errlen) {
    p2p *b = calloc(1, sizeof *b);
    if (!b) return AGORA_ENOMEM;
    b->host = host;
    b->cfg = (const ag_p2p_config *)host->cfg->backend;
    b->linked_ever = calloc(65536 / 8, 1);
    int rc = AGORA_ENOMEM;
    if (!b->linked_ever) goto fail;
    if (b->cfg->advertise && *b->cfg->advertise)
        snprintf(b->advertise, sizeof b->advertise, "%s", b->cfg->advertise);
    if (b->cfg->plaintext) {
        p2p_log(b, AGORA_LOG_WARN, "PeerToPeer encryption is \"none\": traffic between nodes is "
                "neither encrypted nor authenticated");
    } else {
        rc = p2p_tls_init(b, err, errlen);
        if (rc != AGORA_OK) goto fail;
    }
    if (host->observer) {
        /* It accepts nothing and is dialled by no one: it dials the seeds and the
         * members gossip names, and the configured node's own addresses (observing
         * with a member's file reaches that member too). */
        b->advertise[0] = 0;
        for (size_t j = 0; j < b->cfg->listen.count; j++) {
            const char *l = b->cfg->listen.items[j];
            if (ag_hostport_parse(l, strlen(l), AG_HOSTPORT_NEED_PORT, NULL) == NULL &&
                !p2p_target_add(b, l, -1, true))
                goto fail;
        }
    } else {
        rc = p2p_listen_all(b, err, errlen);
        if (rc != AGORA_OK) goto fail;
    }
    if (!strncmp(b->advertise, "0.0.0.0:", 8) || !strncmp(b->advertise, "[::]:", 5))
        p2p_log(b, AGORA_LOG_WARN, "advertise address %s is a wildcard that other nodes cannot "
                "dial; set \"advertise\" to this node's reachable address", b->advertise);
    for (size_t i = 0; i < b->cfg->peers.count; i++) {
        const char *s = b->cfg->peers.items[i];
        bool own = strcmp(s, b->advertise) == 0;
        for (size_t j = 0; j < b->cfg->listen.count; j++)
            if (strcmp(s, b->cfg->listen.items[j]) == 0) own = true;
        if (own && !host->observer) continue;
        if (ag_hostport_parse(s, strlen(s), P2P_HOSTPORT, NULL)) {
            snprintf(err, errlen, "PeerToPeer: peer address \"%s\" is not host:port", s);
            rc = AGORA_ECONFIG;
            goto fail;
        }
        if (!p2p_target_add(b, s, -1, true)) goto fail;
    }
    b->tick = ag_timer_start(host->loop, 0, P2P_TICK_MS, tick_cb, b);
    if (!b->tick) goto fail;
    *out = (ag_backend *)b;
    return AGORA_OK;
fail:
    if (rc == AGORA_ENOMEM) snprintf(err, errlen, "out of memory");
    p2p_free(b);
    return rc;
}

static int p2p_publish(ag_backend *be, ag_msg *msg) {
    p2p *b = (p2p *)be;
    if ((uint64_t)msg->len + 1 > b->cfg->max_frame) {
        p2p_log(b, AGORA_LOG_ERROR, "a message of %zu bytes exceeds maxFrame (%llu)", msg->len,
                (unsigned long long)b->cfg->max_frame);
        return AGORA_EINVAL;
    }
    /* Backpressure is for batching events; heartbeats and leave notices are small
     * and must keep flowing, or a busy node would look dead to the others. */
    if (msg->sequenced && (b->blocked || over_high_water(b))) {
        b->blocked = true;
        return AGORA_EAGAIN;
    }
    if (msg->sequenced) {
        if (ring_push(b, msg) != AGORA_OK) return AGORA_ENOMEM;
        ring_evict(b);
    } else {
        p2p_ctrl *f = p2p_ctrl_new(P2P_FRAME_DATA, msg->data, msg->len, msg);
        if (!f) return AGORA_ENOMEM;
        for (p2p_conn *c = b->conns; c; c = c->next)
            if (c->state == P2P_ESTABLISHED && !c->doomed) p2p_conn_queue_ctrl(c, f, b->ring.end);
        if (f->waiting == 0) ctrl_finish(b, f); /* no peer owes it (none live, or all lagging) */
        p2p_ctrl_unref(b, f);
    }
    p2p_kick(b);
    return AGORA_OK;
}

static void p2p_member_update(ag_backend *be, uint16_t node, const char *address, bool left) {
    p2p *b = (p2p *)be;
    if (node == b->host->node_id && !b->host->observer) return;
    if (left) {
        for (p2p_target *t = b->targets; t; t = t->next)
            if (t->node == node && !t->seed) t->left = true;
        return;
    }
    if (!address || !*address || strcmp(address, b->advertise) == 0) return;
    p2p_target_add(b, address, node, false);
}

static const char *p2p_local_address(ag_backend *be) {
    p2p *b = (p2p *)be;
    return b->advertise[0] ? b->advertise : NULL;
}

static void p2p_status(ag_backend *be, agora_status *st) {
    p2p *b = (p2p *)be;
    st->connected = b->live > 0 && !b->gave_up;
    if (b->gave_up) st->failure = AGORA_EDUPID;
    snprintf(st->server, sizeof st->server, "%s", b->advertise);
    st->peers = b->live;
    st->reconnects = b->reconnects;
}

static void p2p_free(p2p *b) {
    ag_loop *l = b->host->loop;
    b->closing = true; /* from here on: no host callbacks */
    if (b->tick) ag_timer_stop(l, b->tick);
    b->tick = NULL;
    ag_loop_defer_cancel(l, &b->kick);
    while (b->conns) p2p_conn_close(b->conns, false);
    for (size_t i = 0; i < b->nlfds; i++) {
        ag_loop_del_fd(l, b->lfds[i]);
        close(b->lfds[i]);
    }
    free(b->lfds);
    while (b->targets) {
        p2p_target *n = b->targets->next;
        free(b->targets);
        b->targets = n;
    }
    free(b->ring.buf);
    free(b->ring.e);
    while (b->peerpos) {
        p2p_peerpos *n = b->peerpos->next;
        free(b->peerpos);
        b->peerpos = n;
    }
    free(b->doneq);
    free(b->linked_ever);
    p2p_tls_free(b);
    free(b);
}

static void p2p_close(ag_backend *be) { p2p_free((p2p *)be); }

const ag_backend_ops ag_backend_p2p = {
    .name = "PeerToPeer",
    .max_payload = 1u << 20,
    .copies_payload = true,
    .open = p2p_open,
    .publish = p2p_publish,
    .member_update = p2p_member_update,
    .local_address = p2p_local_address,
    .status = p2p_status,
    .close = p2p_close,
};
