/* p2p_conn.c — one connection to a peer: non-blocking TCP, optional TLS, framing,
 * and the HELLO / RESUME / REFUSE handshake (docs/p2p-protocol.md). Anything a peer
 * sends that breaks the protocol closes that connection only, with a log line that
 * names the peer. */
#include "backend/p2p/p2p.h"
#include "util/be.h"

#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>


p2p_ctrl *p2p_ctrl_new(uint8_t type, const uint8_t *body, size_t len, ag_msg *msg) {
    p2p_ctrl *c = malloc(sizeof *c + P2P_FRAME_HDR + len);
    if (!c) return NULL;
    c->refs = 1;
    c->waiting = 0;
    c->msg = msg;
    c->len = P2P_FRAME_HDR + len;
    ag_put_be32(c->frame, (uint32_t)(len + 1));
    c->frame[4] = type;
    if (len) memcpy(c->frame + P2P_FRAME_HDR, body, len);
    return c;
}

/* ---- life cycle ---------------------------------------------------------- */

static void on_io(ag_loop *l, int fd, unsigned ev, void *arg);

static void set_name(p2p_conn *c) {
    if (c->observer)
        snprintf(c->name, sizeof c->name, "observer %s", c->remote);
    else if (c->node >= 0)
        snprintf(c->name, sizeof c->name, "peer node %d (%s)", c->node,
                 c->outbound || !c->adv[0] ? c->remote : c->adv);
    else
        snprintf(c->name, sizeof c->name, "peer %s", c->remote);
}

p2p_conn *p2p_conn_new(p2p *b, int fd, bool outbound, const char *remote) {
    p2p_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->b = b;
    c->fd = fd;
    c->outbound = outbound;
    c->node = -1;
    c->state = outbound ? P2P_CONNECTING : P2P_HELLO;
    snprintf(c->remote, sizeof c->remote, "%s", remote);
    set_name(c);
    uint64_t now = ag_now_ms();
    c->deadline_ms = now + (b->cfg->connect_timeout_ms ? b->cfg->connect_timeout_ms : 2000);
    c->last_recv_ms = c->last_progress_ms = now;
    c->interest = outbound ? AG_WRITE : AG_READ;
    if (ag_loop_add_fd(b->host->loop, fd, c->interest, on_io, c) != 0) {
        free(c);
        return NULL;
    }
    c->next = b->conns;
    b->conns = c;
    b->nconns++;
    return c;
}

static void set_interest(p2p_conn *c) {
    unsigned want = c->state == P2P_CONNECTING ? AG_WRITE : AG_READ | (c->want_write ? AG_WRITE : 0);
    if (want != c->interest) {
        c->interest = want;
        ag_loop_mod_fd(c->b->host->loop, c->fd, want);
    }
}

static p2p_conn *linked_conn(p2p *b, int node, const p2p_conn *except);

void p2p_conn_close(p2p_conn *c, bool link_down) {
    p2p *b = c->b;
    bool was_linked = c->node >= 0 && (c->state == P2P_RESUME || c->state == P2P_ESTABLISHED);
    if (was_linked) {
        p2p_conn *other = linked_conn(b, c->node, c);
        if (other && other->inc == c->inc) was_linked = false; /* the link lives on there */
    }
    bool was_established = c->state == P2P_ESTABLISHED;
    for (p2p_conn **pp = &b->conns; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    b->nconns--;
    ag_loop_del_fd(b->host->loop, c->fd);
    if (c->ssl) SSL_free(c->ssl);
    close(c->fd);
    for (size_t i = 0; i < c->noctrl; i++) p2p_ctrl_release(b, &c->octrl[i]);
    for (size_t i = 0; i < c->cq_len; i++) p2p_ctrl_release(b, &c->cq[(c->cq_head + i) % c->cq_cap]);
    free(c->octrl);
    free(c->cq);
    free(c->ibuf);
    free(c->obuf);
    if (c->target) {
        c->target->conn = NULL;
        if (was_established) {
            c->target->backoff_step = 0;
            c->target->failures = 0;
        }
        p2p_target_failed(b, c->target);
    }
    if (was_linked && link_down) b->host->peer_link(b->host, (uint16_t)c->node, c->adv, c->inc, false);
    free(c);
    p2p_link_changed(b);
    p2p_kick(b);
}

/* ---- output -------------------------------------------------------------- */

static bool obuf_reserve(p2p_conn *c, size_t more) {
    if (c->olen + more <= c->ocap) return true;
    size_t n = c->ocap ? c->ocap : 16384;
    while (n < c->olen + more) n *= 2;
    uint8_t *p = realloc(c->obuf, n);
    if (!p) return false;
    c->obuf = p;
    c->ocap = n;
    return true;
}

void p2p_conn_queue_ctrl(p2p_conn *c, p2p_ctrl *ctrl, uint64_t after) {
    if (c->cq_len == c->cq_cap) {
        size_t n = c->cq_cap ? c->cq_cap * 2 : 8;
        p2p_ctrlq *q = malloc(n * sizeof *q);
        if (!q) return;
        for (size_t i = 0; i < c->cq_len; i++) q[i] = c->cq[(c->cq_head + i) % c->cq_cap];
        free(c->cq);
        c->cq = q;
        c->cq_cap = n;
        c->cq_head = 0;
    }
    ctrl->refs++;
    bool counted = ctrl->msg && p2p_conn_holds(c);
    if (counted) ctrl->waiting++;
    c->cq[(c->cq_head + c->cq_len) % c->cq_cap] = (p2p_ctrlq){ctrl, after, counted};
    c->cq_len++;
    c->cq_bytes += ctrl->len;
}

/* Copy what may go next into obuf, keeping control frames in their place relative
 * to the data stream. */
static void fill(p2p_conn *c) {
    p2p *b = c->b;
    bool data = c->state == P2P_ESTABLISHED && !c->refusing;
    while (c->olen < P2P_OBUF_FILL) {
        if (c->cq_len) {
            p2p_ctrlq *q = &c->cq[c->cq_head];
            if (!data || q->after <= c->fill_pos) {
                if (c->noctrl == c->capoctrl) {
                    size_t n = c->capoctrl ? c->capoctrl * 2 : 8;
                    p2p_ctrlq *o = realloc(c->octrl, n * sizeof *o);
                    if (!o) return;
                    c->octrl = o;
                    c->capoctrl = n;
                }
                if (!obuf_reserve(c, q->c->len)) return;
                memcpy(c->obuf + c->olen, q->c->frame, q->c->len);
                c->olen += q->c->len;
                c->octrl[c->noctrl++] = *q; /* the queue's reference moves here */
                c->cq_bytes -= q->c->len;
                c->cq_head = (c->cq_head + 1) % c->cq_cap;
                c->cq_len--;
                continue;
            }
        }
        if (!data || c->fill_pos >= b->ring.end) return;
        if (c->fill_pos < b->ring.base) {
            c->doomed = true; /* its unsent data fell out of the ring */
            p2p_kick(b);
            return;
        }
        p2p_entry *e = p2p_ring_at(b, c->fill_pos);
        if (!obuf_reserve(c, e->len)) return;
        memcpy(c->obuf + c->olen, e->frame, e->len);
        c->olen += e->len;
        c->fill_pos++;
        c->obuf_pos = c->fill_pos;
    }
}

/* obuf was written completely: what it carried is handed over. */
static void obuf_done(p2p_conn *c) {
    p2p *b = c->b;
    if (c->sent_pos != c->obuf_pos) {
        c->sent_pos = c->obuf_pos;
        p2p_kick(b);
    }
    for (size_t i = 0; i < c->noctrl; i++) p2p_ctrl_release(b, &c->octrl[i]);
    c->noctrl = 0;
    c->olen = c->ooff = 0;
}

/* >0 bytes written, 0 would block, -1 error. */
static ssize_t raw_write(p2p_conn *c, const uint8_t *p, size_t n) {
    if (!c->ssl) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w >= 0) return w;
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    }
    size_t w = 0;
    ERR_clear_error();
    if (SSL_write_ex(c->ssl, p, n, &w) == 1) return (ssize_t)w;
    int e = SSL_get_error(c->ssl, 0);
    if (e == SSL_ERROR_WANT_WRITE) return 0;
    if (e == SSL_ERROR_WANT_READ) {
        c->tls_want_read_on_write = true;
        return 0;
    }
    return -1;
}

int p2p_conn_flush(p2p_conn *c) {
    if (c->state == P2P_CONNECTING || c->state == P2P_TLS || c->doomed) return 0;
    for (;;) {
        if (c->ooff == c->olen) {
            if (c->olen) obuf_done(c);
            fill(c);
            if (c->olen == 0) {
                c->want_write = false;
                break;
            }
        }
        ssize_t w = raw_write(c, c->obuf + c->ooff, c->olen - c->ooff);
        if (w < 0) {
            p2p_log_limited(c->b, P2P_LOG_DROPPED, c->observer ? AGORA_LOG_DEBUG : AGORA_LOG_INFO,
                            "%s: write failed (%s); disconnecting", c->name,
                            c->ssl ? "TLS error" : strerror(errno));
            ERR_clear_error();
            p2p_conn_close(c, true);
            return -1;
        }
        if (w == 0) {
            c->want_write = !c->tls_want_read_on_write;
            break;
        }
        c->ooff += (size_t)w;
        c->last_progress_ms = ag_now_ms();
    }
    set_interest(c);
    return 0;
}

uint64_t p2p_conn_backlog(p2p_conn *c) {
    p2p *b = c->b;
    uint64_t ring = 0;
    if (c->state == P2P_ESTABLISHED && c->fill_pos < b->ring.end) {
        if (c->fill_pos < b->ring.base) return UINT64_MAX;
        p2p_entry *e = p2p_ring_at(b, c->fill_pos);
        ring = b->ring.cum - (e->cum_end - e->len);
    }
    return ring + (c->olen - c->ooff) + c->cq_bytes;
}

static void queue_frame(p2p_conn *c, uint8_t type, const uint8_t *body, size_t len) {
    p2p_ctrl *f = p2p_ctrl_new(type, body, len, NULL);
    if (!f) return;
    p2p_conn_queue_ctrl(c, f, 0);
    p2p_ctrl_unref(c->b, f);
}

/* Tell the peer why, then close. */
void p2p_conn_refuse(p2p_conn *c, uint8_t code, const char *text) {
    uint8_t body[256];
    size_t tl = strlen(text);
    if (tl > sizeof body - 1) tl = sizeof body - 1;
    body[0] = code;
    memcpy(body + 1, text, tl);
    queue_frame(c, P2P_FRAME_REFUSE, body, tl + 1);
    if (c->state == P2P_HELLO || c->state == P2P_RESUME || c->state == P2P_ESTABLISHED) {
        c->refusing = true; /* control frames only from here */
        if (p2p_conn_flush(c) < 0) return;
    }
    p2p_conn_close(c, true);
}

/* ---- handshake ----------------------------------------------------------- */

static void send_hello(p2p_conn *c) {
    p2p *b = c->b;
    uint8_t body[4 + 1 + 2 + 8 + 1 + 1 + P2P_ADDR_MAX];
    size_t al = strlen(b->advertise);
    if (al > P2P_ADDR_MAX - 1) al = P2P_ADDR_MAX - 1;
    memcpy(body, P2P_MAGIC, 4);
    body[4] = P2P_VERSION;
    ag_put_be16(body + 5, b->host->node_id);
    ag_put_be64(body + 7, b->host->incarnation);
    body[15] = (uint8_t)((b->ctx ? P2P_HELLO_TLS : 0) | (b->host->observer ? P2P_HELLO_OBSERVER : 0));
    body[16] = (uint8_t)al;
    memcpy(body + 17, b->advertise, al);
    queue_frame(c, P2P_FRAME_HELLO, body, 17 + al);
}

static int do_read(p2p_conn *c);

/* Before the handshake completes the peer is unauthenticated: anyone can cause these,
 * so they are warnings at most, and rate-limited. */
static void handshake_failed(p2p_conn *c) {
    char why[160];
    p2p_tls_failure f = p2p_tls_describe_error(why, sizeof why);
    if (c->foreign_psk) f = P2P_TLS_FAIL_NO_PSK;
    switch (f) {
    case P2P_TLS_FAIL_SECRET:
        p2p_log_limited(c->b, P2P_LOG_WRONG_SECRET, AGORA_LOG_WARN,
                        "%s: TLS handshake failed — wrong cluster secret? The peer's key does not "
                        "match this node's \"secret\" (%s)", c->name, why);
        break;
    case P2P_TLS_FAIL_NO_PSK:
        p2p_log_limited(c->b, P2P_LOG_PSK_IDENTITY, AGORA_LOG_WARN,
                        "%s: TLS handshake failed — the peer did not offer agora's pre-shared key "
                        "(identity %s): not an agora PeerToPeer node, or one of another version (%s)",
                        c->name, c->foreign_psk ? c->psk_identity : "none", why);
        break;
    case P2P_TLS_FAIL_NOT_TLS:
        p2p_log_limited(c->b, P2P_LOG_NOT_TLS, AGORA_LOG_WARN,
                        "%s: TLS handshake failed — the peer does not speak TLS (is it configured with "
                        "\"encryption\": \"none\", or not an agora node?) (%s)", c->name, why);
        break;
    default:
        p2p_log_limited(c->b, P2P_LOG_TLS_OTHER, c->outbound ? AGORA_LOG_INFO : AGORA_LOG_WARN,
                        "%s: TLS handshake failed (%s)", c->name, why);
        break;
    }
    p2p_conn_close(c, true);
}

/* -1 if the connection was closed. */
static int tls_step(p2p_conn *c) {
    ERR_clear_error();
    int rc = SSL_do_handshake(c->ssl);
    if (rc == 1) {
        c->state = P2P_HELLO;
        c->want_write = false;
        send_hello(c);
        if (p2p_conn_flush(c) < 0) return -1;
        /* The peer's HELLO may already sit decrypted inside OpenSSL. */
        return do_read(c);
    }
    int e = SSL_get_error(c->ssl, rc);
    if (e == SSL_ERROR_WANT_READ) {
        c->want_write = false;
    } else if (e == SSL_ERROR_WANT_WRITE) {
        c->want_write = true;
    } else {
        handshake_failed(c);
        return -1;
    }
    set_interest(c);
    return 0;
}

void p2p_conn_start_tls_or_hello(p2p_conn *c) {
    p2p *b = c->b;
    if (b->ctx) {
        c->ssl = SSL_new(b->ctx);
        BIO *bio = c->ssl ? p2p_tls_bio(b, c->fd) : NULL;
        if (bio) SSL_set_bio(c->ssl, bio, bio);
        if (c->ssl) SSL_set_app_data(c->ssl, c); /* find_session_cb notes a foreign PSK */
        if (!c->ssl || !bio) {
            p2p_log(b, AGORA_LOG_ERROR, "%s: cannot create a TLS session", c->name);
            p2p_conn_close(c, true);
            return;
        }
        if (c->outbound)
            SSL_set_connect_state(c->ssl);
        else
            SSL_set_accept_state(c->ssl);
        c->state = P2P_TLS;
        tls_step(c);
        return;
    }
    c->state = P2P_HELLO;
    send_hello(c);
    p2p_conn_flush(c);
}

static p2p_conn *linked_conn(p2p *b, int node, const p2p_conn *except) {
    for (p2p_conn *o = b->conns; o; o = o->next)
        if (o != except && o->node == node && !o->doomed &&
            (o->state == P2P_RESUME || o->state == P2P_ESTABLISHED))
            return o;
    return NULL;
}

static void queue_frame(p2p_conn *c, uint8_t type, const uint8_t *body, size_t len);

/* An observer dialled this node: it gets this node's stream and heartbeats like a
 * member, but has no id (so no duplicate or self checks, no resume position: its
 * stream starts now) and the core never hears of it. */
static int on_observer_hello(p2p_conn *c) {
    p2p *b = c->b;
    if (b->host->observer) { /* two observers have nothing to say to each other */
        p2p_conn_close(c, false);
        return -1;
    }
    c->observer = true;
    set_name(c);
    c->state = P2P_RESUME;
    uint8_t body[16] = {0};
    queue_frame(c, P2P_FRAME_RESUME, body, sizeof body);
    p2p_log(b, AGORA_LOG_DEBUG, "%s: connected", c->name);
    return 0;
}

/* -1 if c was closed. */
static int on_hello(p2p_conn *c, const uint8_t *p, size_t n) {
    p2p *b = c->b;
    if (n < 17 || memcmp(p, P2P_MAGIC, 4) != 0) {
        p2p_log_limited(b, P2P_LOG_GARBAGE, AGORA_LOG_WARN,
                        "%s: not an agora PeerToPeer peer (bad HELLO); disconnecting", c->name);
        p2p_conn_close(c, true);
        return -1;
    }
    if (p[4] != P2P_VERSION) {
        char t[128];
        snprintf(t, sizeof t, "protocol version %u is not supported (this node speaks %u)", p[4],
                 P2P_VERSION);
        p2p_log_limited(b, P2P_LOG_VERSION, AGORA_LOG_WARN, "%s: %s; refused", c->name, t);
        p2p_conn_refuse(c, P2P_REFUSE_VERSION, t);
        return -1;
    }
    int node = ag_get_be16(p + 5);
    uint64_t inc = ag_get_be64(p + 7);
    size_t al = p[16];
    if (17 + al > n || al >= P2P_ADDR_MAX) {
        p2p_log_limited(b, P2P_LOG_GARBAGE, AGORA_LOG_WARN, "%s: malformed HELLO; disconnecting",
                        c->name);
        p2p_conn_close(c, true);
        return -1;
    }
    char adv[P2P_ADDR_MAX];
    memcpy(adv, p + 17, al);
    adv[al] = 0;
    for (size_t i = 0; i < al; i++)
        if ((unsigned char)adv[i] < 0x20 || (unsigned char)adv[i] >= 0x7f) adv[i] = '?';
    char t[256];

    if (p[15] & P2P_HELLO_OBSERVER) return on_observer_hello(c);
    if (node == b->host->node_id && !b->host->observer) {
        if (inc == b->host->incarnation) {
            /* We dialled ourselves (our own address among the seeds). */
            if (c->target) {
                c->target->self = true;
                p2p_log(b, AGORA_LOG_DEBUG, "%s is this node itself; not dialing it", c->target->addr);
            }
            p2p_conn_close(c, false);
            return -1;
        }
        unsigned long long mine = (unsigned long long)b->host->incarnation;
        if (inc < b->host->incarnation) {
            /* It started first: this process is the duplicate. It refuses us too. */
            snprintf(t, sizeof t, "node id %d is in use by an older live process at %s "
                     "(incarnation %llu; this one is %llu)", node, al ? adv : c->remote,
                     (unsigned long long)inc, mine);
            p2p_log_limited(b, P2P_LOG_DUP_OWN, AGORA_LOG_ERROR, "%s claims node id %d, which is "
                            "this node's own id: %s", c->name, node, t);
            p2p_conn_close(c, false);
            p2p_dup_id_clash(b, t);
            return -1;
        }
        snprintf(t, sizeof t, "node id %d is this node's own id: two nodes are configured with the same nodeId",
                 node);
        p2p_log_limited(b, P2P_LOG_DUP_OWN, AGORA_LOG_ERROR,
                        "%s claims node id %d, which is this node's own id (two nodes configured "
                        "with the same nodeId?; its incarnation %llu, this node's %llu): refused",
                        c->name, node, (unsigned long long)inc, mine);
        p2p_conn_refuse(c, P2P_REFUSE_DUP_ID, t);
        return -1;
    }

    p2p_conn *o = linked_conn(b, node, c);
    p2p_conn *replaced = NULL;
    if (o) {
        if (o->inc == inc) {
            /* Two connections between the same two processes (both dialled at once, or
             * two addresses of one node): keep the one dialled by the lower node id. */
            int dial_c = c->outbound ? b->host->node_id : node;
            int dial_o = o->outbound ? b->host->node_id : node;
            if (dial_c == dial_o || dial_c > dial_o) {
                p2p_log(b, AGORA_LOG_DEBUG, "%s: already connected to node %d; dropping the "
                        "duplicate connection", c->name, node);
                if (c->target) c->target->node = node;
                p2p_conn_refuse(c, P2P_REFUSE_DUP_CONN, "duplicate connection");
                return -1;
            }
            replaced = o; /* closed below, once c has taken over the link */
        } else if (inc > o->inc &&
                   ag_now_ms() - o->last_recv_ms > b->host->cfg->failure_timeout_ms) {
            p2p_log(b, AGORA_LOG_INFO, "%s: node %d restarted; replacing its silent old connection",
                    c->name, node);
            p2p_conn_close(o, true);
        } else {
            snprintf(t, sizeof t, "node id %d is already in use by a live node at %s", node,
                     o->adv[0] ? o->adv : o->remote);
            /* Two processes share the id: only one can be linked, so say that the other's
             * events will not arrive here (it gives up, told by the REFUSE). */
            p2p_log_limited(b, P2P_LOG_DUP_ID, AGORA_LOG_ERROR,
                            "%s claims node id %d, but node %d is connected and alive (%s, "
                            "incarnation %llu; the newcomer's is %llu): refused as a duplicate "
                            "node id; its events are not delivered here", c->name, node, node,
                            o->name, (unsigned long long)o->inc, (unsigned long long)inc);
            p2p_conn_refuse(c, P2P_REFUSE_DUP_ID, t);
            return -1;
        }
    }

    c->node = node;
    c->inc = inc;
    p2p_peer_seen(b, (uint16_t)node, inc);
    snprintf(c->adv, sizeof c->adv, "%s", al ? adv : c->remote);
    set_name(c);
    if (c->target) c->target->node = node;
    c->state = P2P_RESUME;
    if (!(b->linked_ever[node >> 3] & (1u << (node & 7))))
        b->linked_ever[node >> 3] |= (uint8_t)(1u << (node & 7));
    else if (!replaced)
        b->reconnects++;
    uint64_t rinc = 0, rnext = 0;
    b->host->recv_position(b->host, (uint16_t)node, &rinc, &rnext);
    uint8_t body[16];
    ag_put_be64(body, rinc);
    ag_put_be64(body + 8, rnext);
    queue_frame(c, P2P_FRAME_RESUME, body, sizeof body);
    /* The core sees one link per peer process: up when the first connection to it is
     * accepted, down when the last one closes (p2p_conn_close). */
    if (!replaced) b->host->peer_link(b->host, (uint16_t)node, c->adv, inc, true);
    else p2p_conn_refuse(replaced, P2P_REFUSE_DUP_CONN, "duplicate connection");
    return 0;
}

static int on_resume(p2p_conn *c, const uint8_t *p, size_t n) {
    p2p *b = c->b;
    if (c->state != P2P_RESUME || n < 16) {
        p2p_log_limited(b, P2P_LOG_BAD_FRAME, AGORA_LOG_WARN, "%s: unexpected RESUME; disconnecting",
                        c->name);
        p2p_conn_close(c, true);
        return -1;
    }
    uint64_t inc = ag_get_be64(p), next = ag_get_be64(p + 8);
    /* an observer that never heard this node starts now (it has no peer position) */
    uint64_t start = c->observer && !inc && !next ? b->ring.end
                                                  : p2p_ring_find(b, (uint16_t)c->node, inc, next);
    c->fill_pos = c->obuf_pos = c->sent_pos = start;
    c->state = P2P_ESTABLISHED;
    c->last_progress_ms = ag_now_ms();
    uint64_t resend = 0;
    for (uint64_t i = start; i < b->ring.end; i++) resend += p2p_ring_at(b, i)->nevents;
    p2p_log(b, c->observer ? AGORA_LOG_DEBUG : AGORA_LOG_INFO, "%s: connected (%s%s)%s", c->name,
            c->outbound ? "dialled" : "accepted",
            b->ctx ? ", TLS 1.3" : ", plaintext", resend ? ", resending" : "");
    if (resend)
        p2p_log(b, AGORA_LOG_DEBUG, "%s: resending %llu events from the resend buffer", c->name,
                (unsigned long long)resend);
    p2p_link_changed(b);
    p2p_kick(b);
    return 0;
}

static int on_refuse(p2p_conn *c, const uint8_t *p, size_t n) {
    p2p *b = c->b;
    char text[256];
    size_t tl = n > 1 ? n - 1 : 0;
    if (tl > sizeof text - 1) tl = sizeof text - 1;
    memcpy(text, p + 1, tl);
    text[tl] = 0;
    for (size_t i = 0; i < tl; i++)
        if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] >= 0x7f) text[i] = '?';
    uint8_t code = n ? p[0] : 0;
    if (code == P2P_REFUSE_DUP_CONN)
        p2p_log(b, AGORA_LOG_DEBUG, "%s closed a duplicate connection", c->name);
    else
        p2p_log_limited(b, code == P2P_REFUSE_DUP_ID ? P2P_LOG_DUP_ID : P2P_LOG_BAD_FRAME,
                        AGORA_LOG_ERROR, "%s refused this node: %s", c->name, text);
    p2p_conn_close(c, true);
    if (code == P2P_REFUSE_DUP_ID) p2p_dup_id_clash(b, text);
    return -1;
}

/* ---- input --------------------------------------------------------------- */

static int on_frame(p2p_conn *c, uint8_t type, const uint8_t *p, size_t n) {
    bool hello_ok = c->state == P2P_RESUME || c->state == P2P_ESTABLISHED;
    switch (type) {
    case P2P_FRAME_HELLO:
        if (!hello_ok) return on_hello(c, p, n);
        break;
    case P2P_FRAME_REFUSE:
        return on_refuse(c, p, n);
    case P2P_FRAME_RESUME:
        if (hello_ok) return on_resume(c, p, n);
        break;
    case P2P_FRAME_DATA:
        if (hello_ok) {
            if (n) c->b->host->deliver(c->b->host, p, n);
            return 0;
        }
        break;
    default:
        p2p_log_limited(c->b, P2P_LOG_BAD_FRAME, AGORA_LOG_WARN, "%s: unknown frame type %u; disconnecting",
                        c->name, type);
        p2p_conn_close(c, true);
        return -1;
    }
    p2p_log_limited(c->b, P2P_LOG_BAD_FRAME, AGORA_LOG_WARN, "%s: unexpected frame type %u %s; disconnecting",
                    c->name, type, hello_ok ? "after HELLO" : "before HELLO");
    p2p_conn_close(c, true);
    return -1;
}

static int parse(p2p_conn *c) {
    p2p *b = c->b;
    size_t off = 0;
    int rc = 0;
    while (c->ilen - off >= P2P_FRAME_HDR) {
        const uint8_t *f = c->ibuf + off;
        uint32_t flen = ag_get_be32(f);
        bool hello_ok = c->state == P2P_RESUME || c->state == P2P_ESTABLISHED;
        uint64_t limit = hello_ok ? b->cfg->max_frame : P2P_PRE_HELLO_MAX;
        if (flen == 0 || flen > limit) {
            if (hello_ok)
                p2p_log_limited(b, P2P_LOG_OVERSIZED, AGORA_LOG_WARN,
                                "%s: frame of %u bytes exceeds maxFrame (%llu); disconnecting",
                                c->name, flen, (unsigned long long)limit);
            else if (!c->ssl && (f[0] == 0x16 || f[0] == 0x15) && f[1] == 0x03)
                /* a ClientHello, or the alert a TLS node answers a plaintext HELLO with */
                p2p_log_limited(b, P2P_LOG_SPEAKS_TLS, AGORA_LOG_WARN,
                                "%s speaks TLS but this node has \"encryption\": \"none\": "
                                "configure the same encryption and secret on every node; "
                                "disconnecting", c->name);
            else
                p2p_log_limited(b, P2P_LOG_GARBAGE, AGORA_LOG_WARN,
                                "%s: not an agora PeerToPeer peer (garbage before HELLO: "
                                "frame length %u); disconnecting", c->name, flen);
            p2p_conn_close(c, true);
            return -1;
        }
        if (c->ilen - off - 4 < flen) {
            size_t need = 4 + (size_t)flen;
            if (need > c->icap) {
                /* Move the partial frame to the front, then grow for all of it. */
                memmove(c->ibuf, c->ibuf + off, c->ilen - off);
                c->ilen -= off;
                off = 0;
                uint8_t *nb = realloc(c->ibuf, need);
                if (!nb) {
                    p2p_conn_close(c, true);
                    return -1;
                }
                c->ibuf = nb;
                c->icap = need;
            }
            break;
        }
        if (on_frame(c, f[4], f + P2P_FRAME_HDR, flen - 1) < 0) return -1;
        off += 4 + (size_t)flen;
    }
    if (off) {
        memmove(c->ibuf, c->ibuf + off, c->ilen - off);
        c->ilen -= off;
    }
    return rc;
}

/* >0 read, 0 would block, -1 error, -2 EOF. */
static ssize_t raw_read(p2p_conn *c, uint8_t *p, size_t n) {
    if (!c->ssl) {
        ssize_t r = recv(c->fd, p, n, 0);
        if (r > 0) return r;
        if (r == 0) return -2;
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    }
    size_t r = 0;
    ERR_clear_error();
    if (SSL_read_ex(c->ssl, p, n, &r) == 1) return (ssize_t)r;
    int e = SSL_get_error(c->ssl, 0);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return 0;
    if (e == SSL_ERROR_ZERO_RETURN) return -2;
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) return -2;
    return -1;
}

static int do_read(p2p_conn *c) {
    p2p *b = c->b;
    size_t total = 0;
    for (;;) {
        if (c->icap - c->ilen < 16384) {
            size_t n = c->icap ? c->icap * 2 : 32768;
            while (n - c->ilen < 16384) n *= 2;
            uint8_t *nb = realloc(c->ibuf, n);
            if (!nb) {
                p2p_conn_close(c, true);
                return -1;
            }
            c->ibuf = nb;
            c->icap = n;
        }
        ssize_t r = raw_read(c, c->ibuf + c->ilen, c->icap - c->ilen);
        if (r == 0) break;
        if (r < 0) {
            bool est = c->state == P2P_ESTABLISHED || c->state == P2P_RESUME;
            /* observers come and go without being members: only a debug line */
            agora_log_level lvl = c->observer ? AGORA_LOG_DEBUG : AGORA_LOG_INFO;
            if (!est && c->outbound && !b->ctx && c->state == P2P_HELLO)
                /* A TLS node drops a plaintext HELLO it cannot read, often with a reset. */
                p2p_log_limited(b, P2P_LOG_SPEAKS_TLS, AGORA_LOG_WARN,
                                "%s closed the connection before its HELLO (%s): it probably "
                                "uses TLS (a \"secret\") while this node has \"encryption\": "
                                "\"none\"; configure the same encryption on every node",
                                c->name, r == -2 ? "end of stream" : strerror(errno));
            else if (r == -2)
                p2p_log_limited(b, P2P_LOG_DROPPED, est ? lvl : AGORA_LOG_DEBUG,
                                "%s: connection closed%s", c->name, est ? "" : " during the handshake");
            else
                p2p_log_limited(b, P2P_LOG_DROPPED, lvl, "%s: read failed (%s); disconnecting",
                                c->name, c->ssl ? "TLS error" : strerror(errno));
            ERR_clear_error();
            p2p_conn_close(c, true);
            return -1;
        }
        c->ilen += (size_t)r;
        total += (size_t)r;
        c->last_recv_ms = ag_now_ms();
        if (parse(c) < 0) return -1;
        /* Be fair to the other peers; epoll is level-triggered. Decrypted bytes
         * buffered inside OpenSSL would not wake epoll, so take those first. */
        if (total >= (1u << 20) && !(c->ssl && SSL_pending(c->ssl) > 0)) break;
    }
    return 0;
}

static void on_io(ag_loop *l, int fd, unsigned ev, void *arg) {
    (void)l;
    p2p_conn *c = arg;
    if (c->state == P2P_CONNECTING) {
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0) soerr = errno;
        if (soerr == EINPROGRESS) return;
        if (soerr) {
            if (!c->target || c->target->failures == 0 || c->target->failures % 20 == 0)
                p2p_log(c->b, AGORA_LOG_DEBUG, "%s: connect failed: %s", c->name, strerror(soerr));
            p2p_conn_close(c, true);
            return;
        }
        p2p_conn_start_tls_or_hello(c);
        return;
    }
    if (c->state == P2P_TLS) {
        tls_step(c);
        return;
    }
    if (ev & (AG_READ | AG_ERROR)) {
        if (do_read(c) < 0) return;
        c->tls_want_read_on_write = false;
    }
    p2p_conn_flush(c);
}
