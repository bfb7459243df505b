/* seal_internal.h — what seal_keys.c (key derivation) shares with seal.c (envelopes). */
#ifndef AG_SEAL_INTERNAL_H
#define AG_SEAL_INTERNAL_H

#include "codec/seal.h"

#include <openssl/evp.h>

#define AG_SEAL_KEY 32 /* AES-256 */

typedef struct ag_seal_master {
    uint8_t key[AG_SEAL_KEY]; /* HKDF(secret) under the "agora seal v1" labels */
    uint32_t key_id;          /* first 4 bytes of another HKDF output: names the secret */
} ag_seal_master;

struct ag_sealer {
    size_t n;
    EVP_KDF *kdf;       /* HKDF, fetched once */
    EVP_CIPHER *cipher; /* AES-256-GCM, fetched once (no implicit fetch per context) */
    ag_seal_master masters[AG_SEAL_MAX_SECRETS];
};

/* The subkey of (secret i, origin, incarnation). 0 or -1. */
int ag_seal_derive_stream(const ag_sealer *s, size_t i, uint16_t origin, uint64_t incarnation,
                          uint8_t out[AG_SEAL_KEY]);

/* A cipher context set up for AES-256-GCM (no key yet). NULL when out of memory. */
EVP_CIPHER_CTX *ag_seal_ctx_new(const ag_sealer *s, int encrypt);

/* The index of the secret whose key id this is, or -1. */
int ag_seal_find_key(const ag_sealer *s, uint32_t key_id);

static inline void ag_seal_put_be(uint8_t *p, uint64_t v, int n) {
    for (int i = n - 1; i >= 0; i--, v >>= 8) p[i] = (uint8_t)v;
}

static inline uint64_t ag_seal_get_be(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) v = v << 8 | p[i];
    return v;
}

#endif
