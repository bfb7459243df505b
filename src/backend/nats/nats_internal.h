/* nats_internal.h — pieces of the NATS backend (libnats).
 *
 *   nats_options.c  ag_nats_config -> natsOptions (addresses, timeouts, capacities,
 *                   TLS, credentials, capped reconnect backoff)
 *   nats_backend.c  the ops table: connection, subscription, publish + flush
 *                   acknowledgements, connection-state callbacks
 *
 * Threads: libnats runs its own threads (reader, flusher, reconnect, callbacks). Every
 * libnats callback only posts to the I/O loop (ag_loop_post); backend state is touched
 * on the loop thread only, except the `mu`-protected hand-off to our flush thread. */
#ifndef AG_NATS_INTERNAL_H
#define AG_NATS_INTERNAL_H

#include "backend/nats/nats_config.h"
#include "core/backend.h"

#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Reconnect backoff: RECONNECT_MIN_MS doubling per failed pass over the server list,
 * capped at RECONNECT_MAX_MS, less up to RECONNECT_JITTER_PCT % at random. */
#define AG_NATS_RECONNECT_MIN_MS 50
#define AG_NATS_RECONNECT_MAX_MS 1000
#define AG_NATS_RECONNECT_JITTER_PCT 20

/* Subjects besides AGORA_TOPIC (codec "agora" only; Stalwart never sees them). */
#define AG_NATS_DIRECT_FMT AGORA_TOPIC ".node.%u"   /* resends addressed to one node */
#define AG_NATS_RESEND_FMT AGORA_TOPIC ".resend.%u" /* resend requests to one node */
/* On the direct subject, before resent messages: "gone <origin> <incarnation> <floor>",
 * the origin no longer keeps the sequences below floor that were asked for. */
#define AG_NATS_GONE_PREFIX "gone "

typedef struct pend_item {
    ag_msg *msg;
    uint64_t epoch; /* libnats' reconnection count when it was published */
    int status;     /* set by the flush thread */
    struct pend_item *next;
} pend_item;

typedef struct nats_be {
    ag_host *host;
    ag_ratelimit repair_log[3]; /* nats_repair.c: not resent, too many held, gone */
    const ag_nats_config *cfg;
    natsOptions *opts;
    natsConnection *nc;
    natsSubscription *sub;
    char servers[512]; /* configured servers, for messages */

    /* Loop thread only. */
    bool connected;   /* as last reported to the host */
    bool ready;       /* connected and settled: publish goes out */
    bool blocked;     /* publish said EAGAIN: resume when ready again */
    bool closing;
    ag_timer *settle;
    size_t unacked;   /* accepted, msg_done not yet called */
    char server[256];

    /* Flush thread hand-off. */
    pthread_t flusher;
    bool flusher_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pend_item *pend_head, *pend_tail; /* published, waiting for a flush */
    size_t npend;
    bool stop;
    bool closed_cb;   /* libnats' closed callback ran */

    /* Gap repair (nats_repair.c; loop thread). */
    bool repair;                      /* codec "agora": keep, resend, reorder */
    natsSubscription *sub_direct;     /* stwt.agora.node.<id>: resends for us */
    natsSubscription *sub_resend;     /* stwt.agora.resend.<id>: requests to us */
    int subs_done;                    /* subscriptions that finished (under mu) */
    natsStatistics *stats_pub, *stats_flush; /* reconnection counts (per thread) */

    pthread_mutex_t kept_mu;          /* kept is read by libnats' thread (resend) */
    struct ag_nats_kept *kept;        /* ring of our acknowledged messages, by first_seq */
    size_t kept_head, nkept, capkept, kept_bytes;
    uint64_t kept_floor;              /* sequences below it may have been dropped */
    struct ag_nats_hold *holds;       /* per origin: messages waiting for a repair */
    uint64_t repairs, repaired;       /* requests sent, messages they brought */
    ag_buf opened;                  /* loop thread: a sealed payload's plaintext */
    ag_buf sealed_ask;              /* loop thread: a sealed resend request */

    atomic_int posts; /* posts to the loop not yet run */
    atomic_uint_fast64_t reconnected; /* libnats reconnections (callback count) */
    uint64_t reconnected_seen;        /* loop thread: the count update_state saw */
} nats_be;

/* Build the options for `cfg`. `closure` is passed to the callbacks set by the caller
 * afterwards. Returns AGORA_OK or AGORA_ECONFIG/AGORA_ENOMEM with a message. */
/* Append to a connection error `text` (buffer of len bytes) what a TLS refusal most
 * likely means, when the configuration uses TLS. */
void ag_nats_tls_hint(const ag_nats_config *cfg, char *text, size_t len);

int ag_nats_options(const ag_nats_config *cfg, uint16_t node_id, natsOptions **out,
                    char *err, size_t errlen);

/* ---- gap repair (nats_repair.c) -------------------------------------------
 * Core NATS is at-most-once: a node that is between servers, or a server that dies
 * with messages still in its buffers, loses them. With the agora codec every message
 * carries (origin, incarnation, first_seq), so the backend repairs such holes: each
 * node keeps its recently acknowledged messages; a receiver that sees a message
 * beyond the next sequence it expects holds it back, asks the origin for the missing
 * range, and delivers in order once it arrived (or, after a timeout, as it is, so the
 * core reports a Gap). */

/* A payload arrived (loop thread): deliver it, in order, or hold it for a repair. */
void ag_nats_repair_in(nats_be *b, const uint8_t *data, size_t len);
/* A payload arrived on our direct subject (loop thread): a resent message, or an
 * origin's notice that part of what we asked for is no longer kept. */
void ag_nats_repair_direct(nats_be *b, const uint8_t *data, size_t len);
/* Our own message was acknowledged: keep a copy for resend requests. */
void ag_nats_keep(nats_be *b, const ag_msg *msg);
/* A resend request (payload "incarnation from_seq [to_seq]") with its reply subject;
 * any thread. */
void ag_nats_resend(nats_be *b, const char *reply, const uint8_t *req, size_t len);
/* Free what repair holds (close). */
void ag_nats_repair_free(nats_be *b);

/* "host:port[,host:port...]" of the configured servers, for messages. */
void ag_nats_servers_text(const ag_nats_config *cfg, char *buf, size_t len);

/* Strip "nats://" / "tls://" and any user info from a URL for display. */
void ag_nats_display_url(const char *url, char *buf, size_t len);

#endif
