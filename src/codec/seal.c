/* seal.c — sealing and opening envelopes, and the receive side's replay windows
 * (format in seal.h, reasoning in docs/sealing.md).
 *
 * Receive state per origin, allocated on the first message from it that opened (so a
 * forger cannot make any): the newest incarnation opened, the newest counter of it
 * ("top"), a bitmap of the AG_SEAL_WINDOW counters up to top (bit c % WINDOW), and a
 * cipher context keyed with that incarnation's subkey. Anything else (a new
 * incarnation, another secret) is tried on rx->spare and swapped in only once it
 * opened, so forged traffic costs CPU but never moves state. */
#include "codec/seal_internal.h"
#include "util/leb128.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

#define MAGIC0 'A'
#define MAGIC1 'S'
#define OFF_VERSION 2
#define OFF_SUITE 3
#define OFF_KEY_ID 4
#define OFF_ORIGIN 8
#define OFF_INCARNATION 10
#define OFF_NONCE 18 /* nonce_salt:4 counter:8, the GCM nonce as it is */
#define OFF_COUNTER 22
#define NONCE_LEN 12
#define WINDOW_WORDS (AG_SEAL_WINDOW / 64)
#define PAGE 256 /* origins per lazily allocated page of the origin table */

_Static_assert(AG_SEAL_WINDOW % 64 == 0, "the window is whole 64-bit words");
_Static_assert(OFF_COUNTER + 8 == AG_SEAL_HEADER, "header layout");

struct ag_seal_tx {
    EVP_CIPHER_CTX *ctx; /* keyed once with the subkey of (first secret, origin, incarnation) */
    uint8_t header[AG_SEAL_HEADER]; /* all but the counter filled at creation */
    uint64_t counter;               /* of the last message sealed; never reused */
};

typedef struct seal_peer {
    uint64_t incarnation;
    uint64_t top; /* newest counter opened in this incarnation (0: none yet) */
    uint64_t seen[WINDOW_WORDS];
    size_t key_index;
    EVP_CIPHER_CTX *ctx; /* keyed for (key_index, origin, incarnation) */
} seal_peer;

struct ag_seal_rx {
    const ag_sealer *s;
    EVP_CIPHER_CTX *spare; /* where keys not yet proven are tried */
    seal_peer **pages[65536 / PAGE];
};

const char *ag_seal_result_name(ag_seal_result r) {
    switch (r) {
    case AG_SEAL_OK: return "ok";
    case AG_SEAL_NOT_SEALED: return "not sealed";
    case AG_SEAL_MALFORMED: return "malformed";
    case AG_SEAL_UNKNOWN_KEY: return "unknown key";
    case AG_SEAL_BAD_TAG: return "bad tag";
    case AG_SEAL_REPLAYED: return "replayed";
    case AG_SEAL_STALE: return "stale incarnation";
    case AG_SEAL_MISMATCH: return "origin mismatch";
    case AG_SEAL_NOMEM: return "out of memory";
    case AG_SEAL_NCAUSES: break;
    }
    return "unknown";
}

/* ---- sending ----------------------------------------------------------- */

ag_seal_tx *ag_seal_tx_new(const ag_sealer *s, uint16_t origin, uint64_t incarnation) {
    ag_seal_tx *tx = calloc(1, sizeof *tx);
    if (!tx) return NULL;
    uint8_t key[AG_SEAL_KEY];
    uint8_t *h = tx->header;
    h[0] = MAGIC0;
    h[1] = MAGIC1;
    h[OFF_VERSION] = AG_SEAL_VERSION;
    h[OFF_SUITE] = AG_SEAL_SUITE_AES256GCM;
    ag_seal_put_be(h + OFF_KEY_ID, s->masters[0].key_id, 4);
    ag_seal_put_be(h + OFF_ORIGIN, origin, 2);
    ag_seal_put_be(h + OFF_INCARNATION, incarnation, 8);
    /* A random salt keeps nonces apart even if two processes ever shared an
     * (origin, incarnation): a misconfigured duplicate node id in one millisecond. */
    int ok = RAND_bytes(h + OFF_NONCE, 4) == 1 &&
             ag_seal_derive_stream(s, 0, origin, incarnation, key) == 0 &&
             (tx->ctx = ag_seal_ctx_new(s, 1)) != NULL &&
             EVP_EncryptInit_ex(tx->ctx, NULL, NULL, key, NULL) == 1;
    OPENSSL_cleanse(key, sizeof key);
    if (ok) return tx;
    ag_seal_tx_free(tx);
    return NULL;
}

void ag_seal_tx_free(ag_seal_tx *tx) {
    if (!tx) return;
    EVP_CIPHER_CTX_free(tx->ctx);
    free(tx);
}

int ag_seal(ag_seal_tx *tx, const uint8_t *msg, size_t len, ag_buf *out) {
    if (tx->counter == UINT64_MAX || len > INT_MAX - AG_SEAL_OVERHEAD ||
        !ag_buf_reserve(out, len + AG_SEAL_OVERHEAD))
        return -1;
    uint8_t *h = out->data + out->len;
    memcpy(h, tx->header, AG_SEAL_HEADER);
    ag_seal_put_be(h + OFF_COUNTER, ++tx->counter, 8); /* spent even if sealing fails */
    uint8_t *ct = h + AG_SEAL_HEADER;
    int aad = 0, n1 = 0, n2 = 0;
    if (EVP_EncryptInit_ex(tx->ctx, NULL, NULL, NULL, h + OFF_NONCE) != 1 ||
        EVP_EncryptUpdate(tx->ctx, NULL, &aad, h, AG_SEAL_HEADER) != 1 ||
        (len && EVP_EncryptUpdate(tx->ctx, ct, &n1, msg, (int)len) != 1) ||
        EVP_EncryptFinal_ex(tx->ctx, ct + n1, &n2) != 1 || (size_t)(n1 + n2) != len ||
        EVP_CIPHER_CTX_ctrl(tx->ctx, EVP_CTRL_GCM_GET_TAG, AG_SEAL_TAG, ct + len) != 1)
        return -1;
    ag_buf_set_len(out, out->len + len + AG_SEAL_OVERHEAD);
    return 0;
}

/* ---- receiving --------------------------------------------------------- */

ag_seal_rx *ag_seal_rx_new(const ag_sealer *s) {
    ag_seal_rx *rx = calloc(1, sizeof *rx);
    if (!rx) return NULL;
    rx->s = s;
    rx->spare = ag_seal_ctx_new(s, 0);
    if (rx->spare) return rx;
    free(rx);
    return NULL;
}

void ag_seal_rx_free(ag_seal_rx *rx) {
    if (!rx) return;
    for (size_t p = 0; p < sizeof rx->pages / sizeof rx->pages[0]; p++) {
        if (!rx->pages[p]) continue;
        for (size_t i = 0; i < PAGE; i++) {
            if (!rx->pages[p][i]) continue;
            EVP_CIPHER_CTX_free(rx->pages[p][i]->ctx);
            free(rx->pages[p][i]);
        }
        free(rx->pages[p]);
    }
    EVP_CIPHER_CTX_free(rx->spare);
    free(rx);
}

bool ag_seal_is_sealed(const uint8_t *data, size_t len) {
    return len >= 2 && data[0] == MAGIC0 && data[1] == MAGIC1;
}

static seal_peer *peer_of(ag_seal_rx *rx, uint16_t origin) {
    seal_peer **page = rx->pages[origin / PAGE];
    return page ? page[origin % PAGE] : NULL;
}

/* Whether counter c of the peer's current incarnation was opened already or lies
 * below the window (then nobody can tell, so it is refused). */
static bool replayed(const seal_peer *p, uint64_t c) {
    if (c > p->top) return false;
    if (p->top - c >= AG_SEAL_WINDOW) return true;
    return p->seen[(c % AG_SEAL_WINDOW) / 64] >> (c % 64) & 1;
}

static void mark(seal_peer *p, uint64_t c) {
    if (c > p->top) {
        if (c - p->top >= AG_SEAL_WINDOW) {
            memset(p->seen, 0, sizeof p->seen);
        } else {
            for (uint64_t k = p->top + 1; k < c; k++) /* counters skipped: not seen yet */
                p->seen[(k % AG_SEAL_WINDOW) / 64] &= ~(UINT64_C(1) << (k % 64));
        }
        p->top = c;
    }
    p->seen[(c % AG_SEAL_WINDOW) / 64] |= UINT64_C(1) << (c % 64);
}

/* Decrypt and verify with ctx (already keyed); the plaintext goes to out at its end.
 * 0 when the tag verifies. */
static int open_with(EVP_CIPHER_CTX *ctx, const uint8_t *in, size_t len, ag_buf *out) {
    size_t plain = len - AG_SEAL_OVERHEAD;
    const uint8_t *ct = in + AG_SEAL_HEADER;
    uint8_t *dst = out->data + out->len;
    int aad = 0, n1 = 0, n2 = 0;
    if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, in + OFF_NONCE) != 1 ||
        EVP_DecryptUpdate(ctx, NULL, &aad, in, AG_SEAL_HEADER) != 1 ||
        (plain && EVP_DecryptUpdate(ctx, dst, &n1, ct, (int)plain) != 1) ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, AG_SEAL_TAG, (void *)(ct + plain)) != 1 ||
        EVP_DecryptFinal_ex(ctx, dst + n1, &n2) != 1 || (size_t)(n1 + n2) != plain) {
        OPENSSL_cleanse(dst, plain); /* unauthenticated plaintext never stays behind */
        return -1;
    }
    return 0;
}

/* Make room for origin's state once its first message opened. */
static seal_peer *new_peer(ag_seal_rx *rx, uint16_t origin) {
    seal_peer ***page = &rx->pages[origin / PAGE];
    if (!*page && !(*page = calloc(PAGE, sizeof **page))) return NULL;
    seal_peer *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    (*page)[origin % PAGE] = p;
    return p;
}

ag_seal_result ag_unseal(ag_seal_rx *rx, const uint8_t *in, size_t len, ag_buf *out_plain,
                         ag_seal_info *info) {
    memset(info, 0, sizeof *info);
    if (!ag_seal_is_sealed(in, len)) return AG_SEAL_NOT_SEALED;
    if (len < AG_SEAL_OVERHEAD || in[OFF_VERSION] != AG_SEAL_VERSION ||
        in[OFF_SUITE] != AG_SEAL_SUITE_AES256GCM || len - AG_SEAL_OVERHEAD > INT_MAX)
        return AG_SEAL_MALFORMED;
    info->key_id = (uint32_t)ag_seal_get_be(in + OFF_KEY_ID, 4);
    info->origin = (uint16_t)ag_seal_get_be(in + OFF_ORIGIN, 2);
    info->incarnation = ag_seal_get_be(in + OFF_INCARNATION, 8);
    info->counter = ag_seal_get_be(in + OFF_COUNTER, 8);
    if (info->counter == 0) return AG_SEAL_MALFORMED; /* senders start at 1 */
    int ki = ag_seal_find_key(rx->s, info->key_id);
    if (ki < 0) return AG_SEAL_UNKNOWN_KEY;
    info->key_index = (size_t)ki;

    /* Cheap refusals first: they need no key and touch no state. */
    seal_peer *p = peer_of(rx, info->origin);
    bool same_inc = p && info->incarnation == p->incarnation;
    if (p && info->incarnation < p->incarnation) return AG_SEAL_STALE;
    if (same_inc && replayed(p, info->counter)) return AG_SEAL_REPLAYED;

    size_t plain = len - AG_SEAL_OVERHEAD;
    if (!ag_buf_reserve(out_plain, plain ? plain : 1)) return AG_SEAL_NOMEM;
    if (same_inc && p->key_index == info->key_index) { /* the hot path */
        if (open_with(p->ctx, in, len, out_plain)) return AG_SEAL_BAD_TAG;
    } else {
        uint8_t key[AG_SEAL_KEY];
        int rc = ag_seal_derive_stream(rx->s, info->key_index, info->origin,
                                       info->incarnation, key);
        if (rc == 0) rc = EVP_DecryptInit_ex(rx->spare, NULL, NULL, key, NULL) == 1 ? 0 : -1;
        OPENSSL_cleanse(key, sizeof key);
        if (rc) return AG_SEAL_NOMEM;
        if (open_with(rx->spare, in, len, out_plain)) return AG_SEAL_BAD_TAG;
        /* It opened: the spare's key becomes the origin's, and the origin's old
         * context the spare (a new origin brings a new one). */
        EVP_CIPHER_CTX *next_spare = p ? p->ctx : ag_seal_ctx_new(rx->s, 0);
        if (!next_spare || (!p && !(p = new_peer(rx, info->origin)))) {
            EVP_CIPHER_CTX_free(next_spare);
            OPENSSL_cleanse(out_plain->data + out_plain->len, plain);
            return AG_SEAL_NOMEM;
        }
        p->ctx = rx->spare;
        rx->spare = next_spare;
        p->key_index = info->key_index;
        if (!same_inc) {
            p->incarnation = info->incarnation;
            p->top = 0;
            memset(p->seen, 0, sizeof p->seen);
        }
    }
    mark(p, info->counter);
    ag_buf_set_len(out_plain, out_plain->len + plain);
    return AG_SEAL_OK;
}

ag_seal_result ag_seal_check_inner(const uint8_t *d, size_t len, const ag_seal_info *info) {
    /* 'A' 'G' version kind origin:uvarint incarnation:uvarint (codec/wire.h) */
    size_t pos = 4;
    uint64_t origin, inc;
    if (len < 4 || d[0] != 'A' || d[1] != 'G' ||
        ag_get_uvarint(d, len, &pos, UINT16_MAX, &origin) ||
        ag_get_uvarint(d, len, &pos, UINT64_MAX, &inc))
        return AG_SEAL_MALFORMED;
    return origin == info->origin && inc == info->incarnation ? AG_SEAL_OK : AG_SEAL_MISMATCH;
}
