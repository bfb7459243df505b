/* seal_keys.c — the sealer: one master key per secret, and the subkeys derived from
 * it (HKDF-SHA256, RFC 5869). Labels (docs/sealing.md):
 *
 *   master   = HKDF(ikm = secret, salt = "agora seal v1", info = "agora seal v1 master")
 *   key id   = first 4 bytes of HKDF-Expand(master, "agora seal v1 key id")
 *   stream   = HKDF-Expand(master, "agora seal v1 stream" suite origin:be16 incarnation:be64)
 *
 * Every label is distinct from the PeerToPeer PSK's ("agora PeerToPeer v1"), so one
 * secret used for both never yields one key for two purposes. */
#include "codec/seal_internal.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_SALT "agora seal v1"
#define LABEL_MASTER "agora seal v1 master"
#define LABEL_KEY_ID "agora seal v1 key id"
#define LABEL_STREAM "agora seal v1 stream"

/* HKDF with SHA-256: extract-and-expand when salt is given, else expand only (ikm is
 * then already a pseudorandom key). */
static int hkdf(EVP_KDF *kdf, const uint8_t *ikm, size_t ikm_len, const char *salt,
                const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len) {
    EVP_KDF_CTX *kc = EVP_KDF_CTX_new(kdf);
    if (!kc) return -1;
    OSSL_PARAM params[6], *p = params;
    *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikm_len);
    *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
    if (salt)
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
                                                 strlen(salt));
    else
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_MODE, (char *)"EXPAND_ONLY", 0);
    *p = OSSL_PARAM_construct_end();
    int rc = EVP_KDF_derive(kc, out, out_len, params) == 1 ? 0 : -1;
    EVP_KDF_CTX_free(kc);
    return rc;
}

int ag_seal_derive_stream(const ag_sealer *s, size_t i, uint16_t origin, uint64_t incarnation,
                          uint8_t out[AG_SEAL_KEY]) {
    uint8_t info[sizeof LABEL_STREAM - 1 + 1 + 2 + 8];
    size_t n = sizeof LABEL_STREAM - 1;
    memcpy(info, LABEL_STREAM, n);
    info[n++] = AG_SEAL_SUITE_AES256GCM;
    ag_seal_put_be(info + n, origin, 2);
    ag_seal_put_be(info + n + 2, incarnation, 8);
    return hkdf(s->kdf, s->masters[i].key, AG_SEAL_KEY, NULL, info, sizeof info, out,
                AG_SEAL_KEY);
}

EVP_CIPHER_CTX *ag_seal_ctx_new(const ag_sealer *s, int encrypt) {
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    if (c && EVP_CipherInit_ex(c, s->cipher, NULL, NULL, NULL, encrypt) == 1) return c;
    EVP_CIPHER_CTX_free(c);
    return NULL;
}

int ag_seal_find_key(const ag_sealer *s, uint32_t key_id) {
    for (size_t i = 0; i < s->n; i++)
        if (s->masters[i].key_id == key_id) return (int)i;
    return -1;
}

ag_sealer *ag_sealer_new(const char *const *secrets, size_t n, char *err, size_t errlen) {
    if (n == 0 || n > AG_SEAL_MAX_SECRETS) {
        snprintf(err, errlen, "secret: give 1 to %d secrets, got %zu", AG_SEAL_MAX_SECRETS, n);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (!secrets[i] || strlen(secrets[i]) < AG_SEAL_MIN_SECRET) {
            snprintf(err, errlen, "secret[%zu]: must be at least %d bytes (a random string; "
                     "it is not stretched)", i, AG_SEAL_MIN_SECRET);
            return NULL;
        }
    ag_sealer *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "secret: out of memory");
        return NULL;
    }
    s->kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    s->cipher = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    if (!s->kdf || !s->cipher) {
        snprintf(err, errlen, "secret: OpenSSL lacks HKDF or AES-256-GCM");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        ag_seal_master *m = &s->masters[i];
        uint8_t id[AG_SEAL_KEY];
        if (hkdf(s->kdf, (const uint8_t *)secrets[i], strlen(secrets[i]), LABEL_SALT,
                 (const uint8_t *)LABEL_MASTER, sizeof LABEL_MASTER - 1, m->key,
                 AG_SEAL_KEY) ||
            hkdf(s->kdf, m->key, AG_SEAL_KEY, NULL, (const uint8_t *)LABEL_KEY_ID,
                 sizeof LABEL_KEY_ID - 1, id, sizeof id)) {
            snprintf(err, errlen, "secret[%zu]: key derivation failed", i);
            goto fail;
        }
        m->key_id = (uint32_t)ag_seal_get_be(id, 4);
        OPENSSL_cleanse(id, sizeof id);
        s->n = i + 1;
        for (size_t j = 0; j < i; j++)
            if (s->masters[j].key_id == m->key_id) {
                snprintf(err, errlen, "secret[%zu]: same key id as secret[%zu] (the same "
                         "secret twice?)", i, j);
                goto fail;
            }
    }
    return s;
fail:
    ag_sealer_free(s);
    return NULL;
}

void ag_sealer_free(ag_sealer *s) {
    if (!s) return;
    EVP_KDF_free(s->kdf);
    EVP_CIPHER_free(s->cipher);
    OPENSSL_cleanse(s, sizeof *s);
    free(s);
}

size_t ag_sealer_count(const ag_sealer *s) { return s->n; }

uint32_t ag_sealer_key_id(const ag_sealer *s, size_t i) { return s->masters[i].key_id; }
