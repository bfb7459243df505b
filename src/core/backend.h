/* backend.h — the table of operations every backend implements.
 *
 * A backend moves opaque payloads (one payload = one message on "stwt.agora") between
 * this node and the others, and reports its connection state. It knows nothing of
 * events, codecs, sequence numbers or membership; the core (src/core/) owns those.
 *
 * Threads: the core calls every op on its I/O thread (the loop in host->loop), or on
 * an application thread that entered the loop while the I/O thread waited
 * (ag_loop_try_enter: agora_publish sends a lone event at once that way); either way
 * never two at a time, so a backend treats both as "the loop thread". A
 * backend whose client library calls back on its own threads
 * must hand results back with host->deliver_from_thread / ag_loop_post.
 */
#ifndef AG_BACKEND_H
#define AG_BACKEND_H

#include "agora.h"
#include "config/config.h"
#include "core/loop.h"
#include "util/leb128.h"
#include "util/ratelimit.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ag_backend ag_backend; /* each backend defines its own struct */
typedef struct ag_host ag_host;

/* One outgoing message. The core owns it; a backend that accepted it (publish
 * returned AGORA_OK) must call host->msg_done(host, msg, status) exactly once, on the
 * loop thread, later (never from inside publish). `data` stays valid until then,
 * except for a backend with copies_payload, which may read it only inside publish. */
typedef struct ag_msg {
    const uint8_t *data;
    size_t len;
    /* The message before it was sealed (data/len themselves when no secret is set).
     * Valid as long as data. A backend that resends later keeps this and seals the
     * copy again with host->seal (a fresh counter; docs/sealing.md). */
    const uint8_t *plain;
    size_t plain_len;
    bool sequenced;      /* carries application events with sequence numbers */
    uint64_t first_seq;  /* sequenced messages: seq of the first event */
    uint32_t nevents;    /* number of application events inside */
    void *core;          /* core bookkeeping; backends do not touch */
} ag_msg;

/* A payload opened by host->open. */
typedef struct ag_opened {
    const uint8_t *data; /* the plaintext: the payload itself when no secret is set */
    size_t len;
    bool authenticated;  /* opened from an envelope: origin and incarnation are proven */
    bool agora;          /* an agora message whose own origin is the envelope's; false for
                            payloads of another shape (a backend's own texts: it checks
                            them against origin) */
    uint16_t origin;     /* the envelope's (0 when not sealed) */
    uint64_t incarnation;
} ag_opened;

/* What the core offers a backend. */
struct ag_host {
    ag_loop *loop;
    const agora_config *cfg;
    uint16_t node_id;              /* 0 for an observer */
    /* agora_options.observer: this process only listens. It never publishes, has no
     * node id (node_id is 0 and says nothing), and must not be taken for a member:
     * brokers subscribe only; a mesh backend tells the peers it dials (they send it
     * their traffic but do not list it) and accepts no connections. */
    bool observer;
    uint64_t incarnation;          /* this process's incarnation */

    /* A payload arrived (loop thread). The core decodes it; the backend keeps
     * ownership of `data`. */
    void (*deliver)(ag_host *h, const uint8_t *data, size_t len);
    /* Same, from any thread (copies). */
    void (*deliver_from_thread)(ag_host *h, const uint8_t *data, size_t len);
    /* An accepted message is finished: status AGORA_OK (handed over / acknowledged)
     * or an error (the core puts its events back in the outbox for retry). */
    void (*msg_done)(ag_host *h, ag_msg *msg, int status);
    /* The backend, having returned AGORA_EAGAIN from publish, can take more now. */
    void (*resume)(ag_host *h);
    /* Connection state changed; `server` names the server/peer (may be NULL). */
    void (*set_connected)(ag_host *h, bool connected, const char *server);
    /* Log a line (printf-style). Never log secrets. */
    void (*log)(ag_host *h, agora_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
    /* Log a line that a peer or an outsider can trigger (per connection or per
     * message), through the caller's limiter `rl` for that cause: at most one line per
     * cause per 10 s, with the count held back (util/ratelimit.h). Loop thread (rl is
     * not locked). */
    void (*log_limited)(ag_host *h, ag_ratelimit *rl, agora_log_level level, const char *fmt,
                        ...) __attribute__((format(printf, 4, 5)));
    /* The backend gave up for good (code: an agora_err such as AGORA_EDUPID), having
     * logged why; it moves nothing from now on. agora_status.failure reports it.
     * Loop thread. */
    void (*fatal)(ag_host *h, int code);
    /* Receive position for an origin: the incarnation and next expected sequence
     * the core has seen from `node` (both 0 if never heard). A mesh backend uses it to
     * ask a reconnecting peer to resend from there. */
    void (*recv_position)(ag_host *h, uint16_t node, uint64_t *incarnation,
                          uint64_t *next_seq);
    /* Mesh backends: a transport connection to `node` opened or closed (the core marks
     * the member suspect on close; heartbeats decide failure). */
    void (*peer_link)(ag_host *h, uint16_t node, const char *address, uint64_t incarnation,
                      bool up);
    /* Tickets: every call of deliver gets the next number (1, 2, ...). last_ticket is
     * the ticket of the latest call (0 before the first); read it right after deliver
     * returns. consumed returns the largest T such that every payload with a ticket
     * <= T has been consumed: its events were taken by the application (agora_dispatch
     * callback returned, agora_next_event returned them) or dropped by the delivery
     * queue's bound (the application got a Gap). A payload that yielded no event
     * counts as consumed as soon as those before it are. Call on the loop thread (or
     * from close). A backend that acknowledges messages to its server (offsets)
     * does so only up to consumed, so a crash never loses queued events. Either may
     * be NULL in a test's own host: then treat every payload as consumed at once. */
    uint64_t (*last_ticket)(ag_host *h);
    uint64_t (*consumed)(ag_host *h);

    /* Sealing (docs/sealing.md). The core seals what it hands to publish and opens
     * what deliver gets; a backend needs these only for payloads of its own (NATS gap
     * repair: requests, notices, resends) or to read a payload before the core does.
     * `sealed`: a secret is set, every payload on the bus is an envelope. */
    bool sealed;
    /* Append msg sealed (a copy as is when not sealed) to out. 0 or -1. Any thread. */
    int (*seal)(ag_host *h, const uint8_t *msg, size_t len, ag_buf *out);
    /* Open a payload: AGORA_OK and *out (its plaintext in `plain`, or data itself when
     * not sealed), or AGORA_EAUTH: refused (counted and logged by the core; drop it)
     * or this node's own echo. Any thread. */
    int (*open)(ag_host *h, const uint8_t *data, size_t len, ag_buf *plain, ag_opened *out);
    /* Like deliver, for a payload already opened with open (loop thread). */
    void (*deliver_opened)(ag_host *h, const uint8_t *plain, size_t len);
    void *core;
};

typedef struct ag_backend_ops {
    const char *name;        /* as in log lines */
    size_t max_payload;      /* largest payload the core may hand to publish */
    /* publish copies msg->data before it returns AGORA_OK, and finishes messages only
     * with AGORA_OK (e.g. a resend ring owns the bytes from then on). The
     * core then reuses the buffer for the next message at once instead of holding
     * it until msg_done: no allocation per message, and no buffers of every size
     * left in flight to fragment the heap under load. */
    bool copies_payload;

    /* Create the backend and start connecting (in the background: an unreachable
     * server is not an error here). Errors: AGORA_ECONFIG/AGORA_EIO/AGORA_EAUTH with a
     * message in err. */
    int (*open)(ag_host *host, ag_backend **out, char *err, size_t errlen);

    /* Offer a message. AGORA_OK: accepted (msg_done follows). AGORA_EAGAIN: not now;
     * the core keeps it and waits for host->resume. Other errors: the message is
     * refused for good (the core logs and drops it). */
    int (*publish)(ag_backend *b, ag_msg *msg);

    /* Optional (mesh backends): the membership view learned of a node at `address`, or
     * that it left (`left` true: stop dialing it). */
    void (*member_update)(ag_backend *b, uint16_t node, const char *address, bool left);

    /* Optional: the address other nodes should use to reach this node (a mesh
     * backend's advertise address); NULL otherwise. */
    const char *(*local_address)(ag_backend *b);

    /* Fill backend-specific parts of the status (connected, server, reconnects,
     * peers). */
    void (*status)(ag_backend *b, agora_status *st);

    /* Tear down now and free b. The core has already flushed what it could (it runs
     * the loop until its outbox drained or the flush deadline passed). Accepted
     * messages still unfinished are simply abandoned (do NOT call msg_done from
     * close); no callback may happen after close returns: join any threads, then, if
     * they may have posted work with ag_loop_post, drain it with
     * ag_loop_run_once(host->loop, 0) before freeing what those posts use. */
    void (*close)(ag_backend *b);
} ag_backend_ops;

#endif
