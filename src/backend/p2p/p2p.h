/* p2p.h — the PeerToPeer backend's internal state, shared by its files:
 *   p2p.c       the ops table: open/publish/member_update/status/close, the resend
 *               ring, progress (msg_done, backpressure) and the maintenance tick
 *   p2p_net.c   addresses, listening sockets, dialing targets and reconnect backoff
 *   p2p_conn.c  one connection: TLS or plaintext I/O, framing, HELLO/RESUME/REFUSE
 *   p2p_tls.c   the TLS 1.3 external-PSK context derived from the cluster secret
 * The wire protocol is described in docs/p2p-protocol.md. */
#ifndef AG_P2P_H
#define AG_P2P_H

#include "backend/p2p/p2p_config.h"
#include "core/backend.h"
#include "util/hostport.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- wire constants (docs/p2p-protocol.md) ---- */
#define P2P_MAGIC "AGP2"
#define P2P_VERSION 1
#define P2P_FRAME_HELLO 1
#define P2P_FRAME_RESUME 2
#define P2P_FRAME_DATA 3
#define P2P_FRAME_REFUSE 4
#define P2P_FRAME_HDR 5          /* u32 length + u8 type */
#define P2P_HELLO_TLS 1          /* HELLO flags: the connection is encrypted */
#define P2P_HELLO_OBSERVER 2     /* the sender only listens (agora_options.observer) */
#define P2P_PRE_HELLO_MAX 512    /* largest frame accepted before a valid HELLO */
#define P2P_ADDR_MAX 128

/* REFUSE reasons */
#define P2P_REFUSE_DUP_CONN 1    /* a second connection between the same two nodes */
#define P2P_REFUSE_DUP_ID 2      /* the node id is taken by another live process */
#define P2P_REFUSE_VERSION 3     /* unsupported protocol version */
#define P2P_REFUSE_SELF 4        /* you dialled yourself */
#define P2P_REFUSE_PROTOCOL 5    /* malformed frame */

/* ---- tuning ---- */
#define P2P_HIGH_WATER (256u * 1024u)   /* publish says EAGAIN above this backlog */
#define P2P_STALL_MS 1000               /* over high water (or no progress) this long: lagging */
#define P2P_RING_MAX_BYTES (128u << 20) /* resend ring byte cap besides resendBuffer */
#define P2P_CTRL_MAX_BYTES (4u << 20)   /* unsent control frames cap per connection */
#define P2P_TICK_MS 50
#define P2P_MAX_CONNS 1024
#define P2P_OBUF_FILL (64u * 1024u)     /* coalesce frames up to this before writing */

/* What a peer or an outsider can make this node log, one rate limiter each
 * (util/ratelimit.h): a burst of bad connections logs one line per cause per 10 s. */
typedef enum p2p_log_cause {
    P2P_LOG_ACCEPT = 0,   /* accept failed, or too many connections */
    P2P_LOG_WRONG_SECRET, /* TLS with another cluster secret */
    P2P_LOG_PSK_IDENTITY, /* TLS without agora's PSK identity (not agora, or another version) */
    P2P_LOG_NOT_TLS,      /* this node has a secret, the peer spoke plaintext */
    P2P_LOG_SPEAKS_TLS,   /* this node is plaintext, the peer spoke TLS */
    P2P_LOG_TLS_OTHER,    /* any other TLS handshake failure */
    P2P_LOG_GARBAGE,      /* not agora: garbage or a bad HELLO */
    P2P_LOG_OVERSIZED,    /* a frame larger than maxFrame */
    P2P_LOG_BAD_FRAME,    /* an unknown or unexpected frame type */
    P2P_LOG_VERSION,      /* another protocol version */
    P2P_LOG_DUP_ID,       /* a peer claims the id of another live peer, or refused ours */
    P2P_LOG_DUP_OWN,      /* a peer claims this node's own id */
    P2P_LOG_DROPPED,      /* closed, reset, timed out during the handshake, write failed */
    P2P_LOG_NCAUSES
} p2p_log_cause;

typedef struct p2p p2p;
typedef struct p2p_conn p2p_conn;

/* A control frame (HELLO, RESUME, REFUSE, or an unsequenced payload such as a
 * heartbeat), shared by the connections it is queued on. */
typedef struct p2p_ctrl {
    int refs;
    /* An unsequenced payload is finished, like an event message, once every live
     * connection that is not lagging wrote it: `waiting` counts the queue entries
     * still owed (entries with `counted`). A peer that stopped reading must not keep
     * it unfinished: the core allows only so many messages in flight. */
    unsigned waiting;
    ag_msg *msg;     /* NULL once finished (or for a frame of one connection) */
    size_t len;
    uint8_t frame[];
} p2p_ctrl;

/* One sequenced message in the resend ring, kept as a ready DATA frame. */
typedef struct p2p_entry {
    uint8_t *frame;    /* in the ring's byte buffer; moves when the buffer grows */
    uint64_t first_seq;
    uint64_t cum_end;  /* ring bytes pushed up to and including this entry */
    ag_msg *msg;       /* until msg_done */
    uint32_t len;      /* frame bytes (at most maxFrameSize, a 32-bit value) */
    uint32_t nevents;
} p2p_entry;

/* The frames themselves sit one after another in one byte buffer, used as a FIFO
 * that wraps (a frame never straddles the end): one allocation for the whole ring
 * instead of one per message, which fragmented the heap of a long-running node. */
typedef struct p2p_ring {
    p2p_entry *e;
    size_t cap;          /* power of two */
    uint8_t *buf;        /* frame bytes; grows (doubling), never shrinks */
    size_t bcap;
    size_t tail;         /* where the next frame goes */
    uint64_t base, end;  /* live positions [base, end) */
    uint64_t events, bytes;
    uint64_t cum;        /* bytes ever pushed */
} p2p_ring;

typedef enum p2p_state {
    P2P_CONNECTING = 0, /* TCP connect in progress */
    P2P_TLS,            /* TLS handshake */
    P2P_HELLO,          /* waiting for the peer's HELLO */
    P2P_RESUME,         /* HELLO accepted; waiting for its RESUME */
    P2P_ESTABLISHED,    /* data flows */
} p2p_state;

typedef struct p2p_ctrlq {
    p2p_ctrl *c;
    uint64_t after;     /* send once the data cursor reached this ring position */
    bool counted;       /* in c->waiting (queued while the connection was not lagging) */
} p2p_ctrlq;

typedef struct p2p_target p2p_target;

/* Where the stream to a peer process starts if it has never heard this node: the
 * ring position when a link to that process first came up ("from now"). Kept per
 * peer so that a link that flaps before the first RESUME loses nothing. */
typedef struct p2p_peerpos {
    uint16_t node;
    uint64_t inc;
    uint64_t pos;
    struct p2p_peerpos *next;
} p2p_peerpos;

struct p2p_conn {
    p2p *b;
    int fd;
    SSL *ssl;
    p2p_state state;
    bool outbound;
    bool doomed;          /* close at the next progress run */
    bool refusing;        /* a REFUSE is on its way: no more data */
    bool lagging;
    bool observer;        /* the peer is an observer (HELLO flag): it gets the stream and
                             the heartbeats, but is no member, holds nobody back, and
                             is never reported to the core */
    bool want_write;      /* the socket / TLS asked to be told when writable */
    bool tls_want_read_on_write;
    bool foreign_psk;     /* the peer offered a PSK identity that is not agora's */
    char psk_identity[48];/* that identity, printable, for the log */
    p2p_target *target;   /* outbound only */
    char name[P2P_ADDR_MAX + 48]; /* for logs: "peer 127.0.0.1:7912" / "peer node 2 (..)" */
    char remote[P2P_ADDR_MAX];
    int node;             /* -1 until HELLO */
    uint64_t inc;
    char adv[P2P_ADDR_MAX];
    uint64_t deadline_ms; /* handshake deadline */
    uint64_t last_recv_ms, last_progress_ms;
    uint64_t over_since_ms;  /* backlog above P2P_HIGH_WATER since (0 = it is not) */
    unsigned interest;

    /* input */
    uint8_t *ibuf;
    size_t ilen, icap;

    /* output: frames are coalesced into obuf, then written */
    uint8_t *obuf;
    size_t olen, ooff, ocap;
    uint64_t fill_pos;    /* next ring position to copy into obuf */
    uint64_t obuf_pos;    /* ring position reached by what obuf holds */
    uint64_t sent_pos;    /* ring entries before this are fully written */
    p2p_ctrlq *octrl;     /* control frames inside obuf */
    size_t noctrl, capoctrl;
    p2p_ctrlq *cq;
    size_t cq_head, cq_len, cq_cap;
    size_t cq_bytes;

    p2p_conn *next;
};

struct p2p_target {
    char addr[P2P_ADDR_MAX];
    int node;             /* -1 if unknown (a seed not yet reached) */
    bool seed, left, self;
    p2p_conn *conn;
    uint64_t next_ms;
    unsigned backoff_step; /* doublings of the reconnect delay so far */
    uint32_t failures;
    p2p_target *next;
};

struct p2p {
    ag_host *host;
    const ag_p2p_config *cfg;
    SSL_CTX *ctx;         /* NULL in plaintext mode */
    BIO_METHOD *bio_method;
    uint8_t psk[32];

    int *lfds;
    size_t nlfds;
    char advertise[P2P_ADDR_MAX];

    p2p_conn *conns;
    size_t nconns;
    p2p_target *targets;

    p2p_ring ring;
    p2p_peerpos *peerpos;
    uint64_t done_pos;    /* ring positions before this are finished */

    ag_msg **doneq;       /* msg_done(OK) to run at the next progress */
    size_t ndone, capdone;

    bool closing;         /* close() runs: no host callbacks any more */
    bool blocked;         /* publish said EAGAIN */
    bool connected;       /* as last told to the host */
    uint32_t live;
    uint64_t reconnects;
    uint8_t *linked_ever; /* bitmap of node ids ever linked */

    ag_ratelimit log_limits[P2P_LOG_NCAUSES];

    /* Duplicate node id (p2p_dup_id_clash): a clash that outlasts failureTimeout is
     * another live process, not a restart's old link: this node then gives up. */
    uint64_t dup_since_ms, dup_last_ms;
    bool gave_up;         /* no listening, dialing or connections any more */

    ag_timer *tick;
    ag_defer kick; /* progress() once the current callbacks are done */
};

/* p2p.c */
void p2p_kick(p2p *b);
void p2p_log(p2p *b, agora_log_level level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A line a peer or an outsider can trigger, rate-limited per cause. */
void p2p_log_limited(p2p *b, p2p_log_cause cause, agora_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
bool p2p_ring_has(const p2p *b, uint64_t pos);
p2p_entry *p2p_ring_at(p2p *b, uint64_t pos);
uint64_t p2p_ring_find(p2p *b, uint16_t node, uint64_t inc, uint64_t next_seq);
void p2p_peer_seen(p2p *b, uint16_t node, uint64_t inc);
void p2p_link_changed(p2p *b);
/* A peer says this node's id is taken by another live process (why: for the log). */
void p2p_dup_id_clash(p2p *b, const char *why);

/* p2p_ctrl helpers (p2p.c) */
p2p_ctrl *p2p_ctrl_new(uint8_t type, const uint8_t *body, size_t len, ag_msg *msg);
void p2p_ctrl_unref(p2p *b, p2p_ctrl *c);
/* A connection is done with a queued frame (written, or the connection closed). */
void p2p_ctrl_release(p2p *b, p2p_ctrlq *q);
/* The connection turned lagging: what it still owes no longer holds messages back. */
void p2p_ctrl_excuse(p2p *b, p2p_conn *c);

/* p2p_net.c */
/* How PeerToPeer reads its addresses (util/hostport.h): a port is needed, and 0 means
 * "the port actually bound" (listen, advertise). */
#define P2P_HOSTPORT (AG_HOSTPORT_NEED_PORT | AG_HOSTPORT_PORT0)
int p2p_listen_all(p2p *b, char *err, size_t errlen);
void p2p_net_tick(p2p *b, uint64_t now);
p2p_target *p2p_target_add(p2p *b, const char *addr, int node, bool seed);
void p2p_target_failed(p2p *b, p2p_target *t);
bool p2p_node_linked(p2p *b, int node, const p2p_conn *except);

/* Whether a connection counts for progress and backpressure: an established one
 * to a member that keeps up (a lagging peer or an observer goes at its own pace). */
static inline bool p2p_conn_holds(const p2p_conn *c) { return !c->lagging && !c->observer; }

/* p2p_conn.c */
p2p_conn *p2p_conn_new(p2p *b, int fd, bool outbound, const char *remote);
void p2p_conn_start_tls_or_hello(p2p_conn *c);
void p2p_conn_close(p2p_conn *c, bool link_down);
void p2p_conn_queue_ctrl(p2p_conn *c, p2p_ctrl *ctrl, uint64_t after);
int p2p_conn_flush(p2p_conn *c);
uint64_t p2p_conn_backlog(p2p_conn *c);
void p2p_conn_refuse(p2p_conn *c, uint8_t code, const char *text);

/* p2p_tls.c */
int p2p_tls_init(p2p *b, char *err, size_t errlen);
void p2p_tls_free(p2p *b);
BIO *p2p_tls_bio(p2p *b, int fd);
typedef enum p2p_tls_failure {
    P2P_TLS_FAIL_OTHER = 0,
    P2P_TLS_FAIL_SECRET, /* the keys differ: another cluster secret */
    P2P_TLS_FAIL_NOT_TLS, /* the peer does not speak TLS */
    P2P_TLS_FAIL_NO_PSK, /* the peer offered no agora PSK (a plain TLS client, another version) */
} p2p_tls_failure;
/* Describe the last TLS failure for a log line, and tell what it looks like. */
p2p_tls_failure p2p_tls_describe_error(char *buf, size_t len);

#endif
