/* coord.h — the coordinator's internal state, shared by the core's modules:
 * coordinator.c (life cycle, host callbacks), outbox.c (publish side), inbox.c
 * (receive side: decode, dedup, gaps), membership.c (view, heartbeats, failure
 * detection), dispatch.c (delivery queue to the application). */
#ifndef AG_COORD_H
#define AG_COORD_H

#include "agora.h"
#include "codec/seal.h"
#include "config/config.h"
#include "core/backend.h"
#include "core/loop.h"
#include "core/rate.h"
#include "util/buf.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* A message on its way out (owned by the core). */
typedef struct ag_outmsg {
    ag_msg m;
    ag_buf buf;   /* what the backend sends: the envelope when sealing */
    ag_buf plain; /* sealing only: the message before sealing (NATS resends it) */
    bool inflight;
    struct ag_outmsg *prev, *next; /* the outstanding list (inflight + waiting for retry) */
} ag_outmsg;

/* Receive state for one origin node: dedup and gap detection. */
typedef struct ag_origin {
    uint64_t incarnation;
    uint64_t next_seq;  /* next expected sequence; 0 = not yet baselined */
    uint64_t claim_seq; /* a heartbeat said events up to here were sent (0 = none pending) */
    uint64_t claim_ms;  /* when that claim was first seen unmet */
    /* dupid.c: the two newest incarnations heard under this id, to tell a restart
     * (the old one falls silent) from two processes sharing the id (both go on) */
    uint64_t dup_new_inc, dup_new_ms; /* newest incarnation, and when first heard */
    uint64_t dup_old_inc;             /* the one before it */
    char dup_new_addr[128], dup_old_addr[128]; /* as their heartbeats said */
} ag_origin;

/* One member of the view. */
typedef struct ag_member_rec {
    agora_member_state state;
    bool known;
    bool link_up; /* a mesh backend's link to this member */
    char address[128];
    uint64_t incarnation;
    uint64_t last_ms; /* monotonic time last heard */
    uint64_t gossip_incarnation; /* newest incarnation others told us of */
    ag_rate rx; /* events received from it: count and recent rate (metrics) */
    uint64_t since_ms; /* monotonic time it entered `state` (gossip: as reported) */
    bool by_gossip;    /* failed/left as another node told us, never judged here */
    bool retired;      /* failed/left longer than memberRetention: no longer listed or
                          gossiped (kept, so a late message of that life changes nothing) */
} ag_member_rec;

struct agora {
    agora_config *cfg;
    agora_options opts;
    uint16_t node_id;        /* 0 for an observer (agora_options.observer) */
    bool observer;           /* only listens: no id, never publishes, never a member */
    uint64_t opened_ms;      /* monotonic time agora_open started it (dupid.c: replays come early) */
    uint64_t incarnation;
    ag_codec_kind codec;
    const ag_backend_ops *ops;
    ag_backend *be;
    ag_host host;
    ag_loop *loop;
    pthread_t thread;
    bool thread_started;
    char self_address[128];
    size_t batch_limit; /* bytes per message */

    /* ---- outbox: written by any thread under out_mu ---- */
    pthread_mutex_t out_mu;
    pthread_cond_t out_cv;   /* signalled when events are finished (flush) */
    ag_buf out_buf;        /* encoded events, back to back */
    uint32_t *out_lens;      /* length of each queued event */
    size_t out_head, out_count, out_cap; /* events [out_head, out_count) are queued */
    size_t out_head_off;     /* byte offset of event out_head in out_buf */
    uint64_t next_seq;       /* sequence for the next published event */
    uint64_t out_head_seq;   /* sequence of event out_head */
    uint64_t done_seq;       /* every event with seq < done_seq is finished */
    bool wake_pending;
    uint64_t last_publish_us; /* when agora_publish last queued: tells a trickle from a stream */
    int wakefd;
    bool closing;
    uint64_t drop_log_ms;

    /* ---- I/O thread only ---- */
    ag_outmsg *outstanding, *outstanding_tail; /* oldest first */
    size_t noutstanding;     /* length of that list */
    ag_buf spare_buf;      /* copies_payload backends: the next message's buffer */
    unsigned inflight;
    unsigned seq_inflight;   /* of which event (sequenced) messages */
    uint64_t seq_offered_us; /* when the newest event message was offered */
    ag_timer *hold_timer;    /* ends a hold-back (outbox.c) */
    bool backend_blocked;    /* publish said EAGAIN; waiting for resume */
    uint64_t retry_at_ms;
    ag_timer *retry_timer;
    ag_timer *tick_timer;
    ag_timer *check_timer;
    atomic_uint_fast64_t outstanding_events; /* taken from the outbox, not yet finished */
    bool judge_paused;       /* failure detection held while a broker link is down */
    ag_timer *close_timer;
    uint64_t close_deadline_ms;
    int close_phase;         /* 0 running, 1 flushing, 2 leave sent */
    ag_origin *origins[65536];
    struct ag_wire_header *scratch_hdr; /* parse space for one message */
    ag_ratelimit decode_log;   /* malformed messages */
    ag_ratelimit gap_log;      /* Gap notices */
    ag_ratelimit dup_own_log;  /* dupid.c: another process uses this node's id */
    ag_ratelimit dup_peer_log; /* dupid.c: two processes share another node's id */

    /* ---- membership: written on the I/O thread, read by agora_members ---- */
    pthread_mutex_t mem_mu;
    ag_member_rec *members[65536];
    uint16_t *member_ids;    /* ids with a record, in order of first contact */
    size_t nmember_ids, cap_member_ids, gossip_cursor;

    /* ---- delivery queue to the application ---- */
    pthread_mutex_t in_mu;
    pthread_cond_t in_cv;
    agora_event *in_q;
    uint64_t *in_tk;         /* ticket of each queued event (parallel to in_q) */
    size_t in_head, in_len, in_cap;
    size_t in_limit;         /* most events queued (agora_options.max_queued_events) */
    uint64_t in_bytes;       /* ag_event_bytes of the queued events */
    uint64_t in_byte_limit;  /* agora_options.max_queued_bytes */
    int in_fd;               /* eventfd: readable while in_q holds events */
    bool in_closed;
    unsigned in_busy;        /* agora_dispatch calls running callbacks */
    uint64_t in_busy_tk;     /* smallest ticket among the events they took */
    uint64_t in_drop_log_ms;
    atomic_uint_fast64_t in_dropped; /* events dropped because the queue was full */
    /* Tickets: every payload handed to host->deliver gets the next number (I/O
     * thread). Events queued meanwhile carry it; others carry rx_ticket + 1. */
    atomic_uint_fast64_t rx_ticket; /* written on the I/O thread only */
    bool rx_delivering;
    /* callbacks_on_io_thread: events pushed by a thread other than the I/O thread
     * wait in in_q for it (loop thread role only, so no lock) */
    bool io_deferred;

    /* ---- sealing (sealing.c); sealer NULL without a secret ---- */
    ag_sealer *sealer;
    pthread_mutex_t seal_mu; /* seal_tx: the outbox and host->seal (any thread) */
    ag_seal_tx *seal_tx;
    pthread_mutex_t open_mu; /* seal_rx and rejects: the inbox and host->open */
    ag_seal_rx *seal_rx;
    ag_seal_rejects rejects;
    ag_buf rx_plain;       /* I/O thread: the opened payload being delivered */
    bool rx_plain_busy;
    atomic_uint_fast64_t rejected, replayed;

    /* ---- status ---- */
    pthread_mutex_t st_mu;
    bool connected;
    char server[256];
    int failure;  /* agora_status.failure: the backend gave up (host->fatal) */
    atomic_uint_fast64_t events_out, events_in, bytes_out, bytes_in, dropped, duplicates,
        gaps, decode_errors, notices;
    /* per event type (metrics.c): published by this node, received from others */
    atomic_uint_fast64_t ev_published[AGORA_EV_TYPE_COUNT], ev_received[AGORA_EV_TYPE_COUNT];
};

/* Whether `node` is this node's own id (never true for an observer, which has none:
 * it hears every node, a node using the id it was configured with included). */
static inline bool ag_is_self(const struct agora *a, uint16_t node) {
    return !a->observer && node == a->node_id;
}

/* coordinator.c */
void ag_log(struct agora *a, agora_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A line an outsider can trigger: through rl, one per cause per 10 s at most, with
 * the count held back (util/ratelimit.h). */
void ag_log_limited(struct agora *a, ag_ratelimit *rl, agora_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* outbox.c */
int ag_outbox_init(struct agora *a);
void ag_outbox_free(struct agora *a);
void ag_outbox_pump(struct agora *a);          /* I/O thread: send what can be sent */
void ag_outbox_msg_done(ag_host *h, ag_msg *msg, int status);
void ag_outbox_resume(ag_host *h);
bool ag_outbox_idle(struct agora *a);          /* nothing queued or outstanding */
int ag_outbox_send_control(struct agora *a, ag_buf *payload); /* heartbeat / leave */

/* dupid.c: look at a parsed message's origin; true when it is this node's own id
 * (the caller then ignores the message). */
bool ag_dupid_check(struct agora *a, const struct ag_wire_header *h);
ag_origin *ag_inbox_origin(struct agora *a, uint16_t node); /* inbox.c; NULL: no memory */

/* inbox.c */
void ag_inbox_deliver(ag_host *h, const uint8_t *data, size_t len);
void ag_inbox_deliver_from_thread(ag_host *h, const uint8_t *data, size_t len);
void ag_inbox_deliver_opened(ag_host *h, const uint8_t *plain, size_t len);
void ag_inbox_recv_position(ag_host *h, uint16_t node, uint64_t *inc, uint64_t *next);
void ag_inbox_check_claims(struct agora *a); /* tail losses: Gap after a grace period */
void ag_inbox_free(struct agora *a);

/* sealing.c */
void ag_sealing_init(struct agora *a); /* with the other locks, before anything can fail */
/* The keys, from a->cfg's secrets, for a->node_id and a->incarnation (none without). */
int ag_sealing_start(struct agora *a, char *err, size_t errlen);
void ag_sealing_free(struct agora *a);
/* Seal m->buf in place (its plaintext moves to m->plain). 0, or -1 (out of memory,
 * OpenSSL): m is then as before. */
int ag_sealing_seal_msg(struct agora *a, ag_outmsg *m);
int ag_sealing_seal(ag_host *h, const uint8_t *msg, size_t len, ag_buf *out);
/* Open a payload; without any_shape, only an agora message whose origin is the
 * envelope's opens (anything else is refused and counted). */
int ag_sealing_open_any(struct agora *a, const uint8_t *data, size_t len, ag_buf *plain,
                        ag_opened *out, bool any_shape);
int ag_sealing_open(ag_host *h, const uint8_t *data, size_t len, ag_buf *plain, ag_opened *out);

/* membership.c */
void ag_members_heard(struct agora *a, uint16_t node, uint64_t incarnation, const char *address);
void ag_members_left(struct agora *a, uint16_t node, uint64_t incarnation);
void ag_members_gossip(struct agora *a, uint16_t node, uint64_t incarnation, uint8_t state,
                       const char *address, uint64_t age_ms);
void ag_members_peer_link(ag_host *h, uint16_t node, const char *address, uint64_t incarnation,
                          bool up);
void ag_members_heartbeat(struct agora *a);    /* send this node's heartbeat */
void ag_members_check(struct agora *a);        /* failure detection */
void ag_members_send_leave(struct agora *a);
void ag_members_free(struct agora *a);
/* An event from `node` was queued for the application (its count and rate). */
void ag_members_count_in(struct agora *a, uint16_t node);

/* dispatch.c */
int ag_dispatch_init(struct agora *a);
void ag_dispatch_free(struct agora *a);
/* Hand an event to the application (takes ownership of its pointer members). */
void ag_dispatch_push(struct agora *a, agora_event *ev);
void ag_dispatch_close(struct agora *a);
/* Largest ticket T such that every payload with a ticket <= T has been consumed: its
 * events were taken by the application (or dropped by the queue bound). */
uint64_t ag_dispatch_consumed(struct agora *a);
size_t ag_dispatch_depth(struct agora *a);

#endif
