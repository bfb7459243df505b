/* seal.h — sealed messages for shared buses (issue #14): authenticated encryption of
 * whole bus payloads with keys derived from the cluster's `secret`(s). See
 * docs/sealing.md for the format and the reasoning.
 *
 *   envelope := magic:'A''S' version:u8 suite:u8 key_id:4 origin:u16be
 *               incarnation:u64be nonce_salt:4 counter:u64be ciphertext tag:16
 *
 * The 30-byte header is in clear and is the associated data; the 12-byte GCM nonce is
 * nonce_salt || counter. The key is a per-(secret, origin, incarnation) subkey, derived
 * once per sending process and once per new incarnation on the receiving side.
 *
 * Threads: an ag_sealer is immutable once made and may be shared; an ag_seal_tx and an
 * ag_seal_rx each belong to one thread at a time (the caller serialises, e.g. under the
 * loop's lock). No call allocates per message once buffers have grown. */
#ifndef AG_SEAL_H
#define AG_SEAL_H

#include "util/buf.h"
#include "util/ratelimit.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AG_SEAL_VERSION 1
#define AG_SEAL_SUITE_AES256GCM 1
#define AG_SEAL_HEADER 30
#define AG_SEAL_TAG 16
#define AG_SEAL_OVERHEAD (AG_SEAL_HEADER + AG_SEAL_TAG) /* bytes a sealed message adds */
#define AG_SEAL_WINDOW 1024    /* counters remembered per origin below the newest one */
#define AG_SEAL_MAX_SECRETS 16 /* secrets a sealer holds (the first seals, all open) */
#define AG_SEAL_MIN_SECRET 16  /* bytes: HKDF does not stretch a weak secret */

typedef struct ag_sealer ag_sealer;   /* one master key per secret */
typedef struct ag_seal_tx ag_seal_tx; /* this process's sending state */
typedef struct ag_seal_rx ag_seal_rx; /* per-origin receive keys and replay windows */

/* Why a payload did not open. Each is counted separately by the caller, which also
 * rate-limits its logs per cause (ag_seal_rejects below). */
typedef enum ag_seal_result {
    AG_SEAL_OK = 0,
    AG_SEAL_NOT_SEALED,  /* no sealed magic: a plain agora message or a Stalwart batch */
    AG_SEAL_MALFORMED,   /* sealed magic, but too short, or an unknown version or suite */
    AG_SEAL_UNKNOWN_KEY, /* the key id is none of our secrets' */
    AG_SEAL_BAD_TAG,     /* forged, corrupted, or sealed with another secret */
    AG_SEAL_REPLAYED,    /* counter already opened, or below the replay window */
    AG_SEAL_STALE,       /* older incarnation than the newest opened from that origin */
    AG_SEAL_MISMATCH,    /* inner message names another origin/incarnation (ag_seal_check_inner) */
    AG_SEAL_NOMEM,       /* out of memory or an OpenSSL failure: not the sender's fault */
    AG_SEAL_NCAUSES
} ag_seal_result;

/* What the envelope said (authenticated once ag_unseal returned AG_SEAL_OK). */
typedef struct ag_seal_info {
    uint16_t origin;
    uint64_t incarnation;
    uint64_t counter;
    uint32_t key_id;
    size_t key_index; /* which secret opened it: 0 = the first (sealing) one */
} ag_seal_info;

/* A short lowercase name for logs and status ("bad tag", "replayed", ...). */
const char *ag_seal_result_name(ag_seal_result r);

/* Derive one master key per secret (HKDF-SHA256, label "agora seal v1"). secrets[0]
 * seals, every one opens. Refuses an empty list, more than AG_SEAL_MAX_SECRETS, a
 * secret shorter than AG_SEAL_MIN_SECRET bytes and two secrets with one key id (the
 * same secret twice). The secrets' text is never copied, logged or put in err; the
 * caller owns (and wipes) it. NULL with a message in err. */
ag_sealer *ag_sealer_new(const char *const *secrets, size_t n, char *err, size_t errlen);
void ag_sealer_free(ag_sealer *s); /* wipes the keys */
size_t ag_sealer_count(const ag_sealer *s);
uint32_t ag_sealer_key_id(const ag_sealer *s, size_t i); /* i < count */

/* Sending state of (origin, incarnation): derives the subkey of the first secret once
 * and draws a random nonce salt. The sealer must outlive it. NULL on failure. */
ag_seal_tx *ag_seal_tx_new(const ag_sealer *s, uint16_t origin, uint64_t incarnation);
void ag_seal_tx_free(ag_seal_tx *tx);

/* Append msg's sealed envelope (len + AG_SEAL_OVERHEAD bytes) to out (msg must not lie
 * inside out, which may move). 0, or -1 when out cannot grow, the counter is exhausted
 * (2^64 - 1 messages) or OpenSSL fails; out is then as before. */
int ag_seal(ag_seal_tx *tx, const uint8_t *msg, size_t len, ag_buf *out);

/* Receiving state. The sealer must outlive it. NULL when out of memory. */
ag_seal_rx *ag_seal_rx_new(const ag_sealer *s);
void ag_seal_rx_free(ag_seal_rx *rx);

/* True when data starts with the sealed magic (cheap: no key, no state). */
bool ag_seal_is_sealed(const uint8_t *data, size_t len);

/* Open a sealed envelope: the plaintext is appended to out_plain and info filled.
 * Any other result leaves rx's state and out_plain as they were: a payload that does
 * not open creates no origin, moves no window. info is filled as far as the header
 * was read (for logs; not authenticated unless the result is AG_SEAL_OK). */
ag_seal_result ag_unseal(ag_seal_rx *rx, const uint8_t *in, size_t len, ag_buf *out_plain,
                         ag_seal_info *info);

/* After AG_SEAL_OK on a native agora message: its own origin and incarnation must be
 * the envelope's, or a sender holding the secret could speak for another node.
 * AG_SEAL_OK, AG_SEAL_MISMATCH, or AG_SEAL_MALFORMED when plain is no agora message
 * header (payloads of other shapes, such as NATS repair requests, check their own). */
ag_seal_result ag_seal_check_inner(const uint8_t *plain, size_t len, const ag_seal_info *info);

/* Rejections counted per cause, logged at most once per period per cause
 * (util/ratelimit.h). */
typedef struct ag_seal_rejects {
    uint64_t count[AG_SEAL_NCAUSES]; /* every rejection, for the status */
    ag_ratelimit log[AG_SEAL_NCAUSES];
} ag_seal_rejects;

/* Count a rejection. True when the caller should log it now; *suppressed is then how
 * many of this cause went unlogged since the previous line. */
bool ag_seal_reject(ag_seal_rejects *r, ag_seal_result cause, uint64_t now_ms,
                    uint64_t *suppressed);
uint64_t ag_seal_rejected_total(const ag_seal_rejects *r);

#endif
