/* p2p_tls.c — TLS 1.3 with an external pre-shared key derived from the cluster
 * secret. Both sides prove knowledge of the key (the client through the PSK binder,
 * the server through its Finished message), so the connection is mutually
 * authenticated without certificates; the secret itself never leaves the process.
 * (EC)DHE is still used with the PSK (psk_dhe_ke), so traffic has forward secrecy. */
#include "backend/p2p/p2p.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define PSK_IDENTITY "agora-p2p-psk-v1"
#define HKDF_SALT "agora PeerToPeer v1"
#define HKDF_INFO "agora p2p tls13 external psk"

static int derive_psk(const char *secret, uint8_t out[32]) {
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
    if (!kdf) return -1;
    EVP_KDF_CTX *kc = EVP_KDF_CTX_new(kdf);
    EVP_KDF_free(kdf);
    if (!kc) return -1;
    OSSL_PARAM params[5];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, strlen(secret));
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)HKDF_SALT,
                                                  sizeof HKDF_SALT - 1);
    params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)HKDF_INFO,
                                                  sizeof HKDF_INFO - 1);
    params[4] = OSSL_PARAM_construct_end();
    int rc = EVP_KDF_derive(kc, out, 32, params) == 1 ? 0 : -1;
    EVP_KDF_CTX_free(kc);
    return rc;
}

static SSL_SESSION *psk_session(SSL *ssl, const uint8_t key[32]) {
    static const unsigned char aes128gcm_sha256[] = {0x13, 0x01};
    const SSL_CIPHER *cipher = SSL_CIPHER_find(ssl, aes128gcm_sha256);
    if (!cipher) return NULL;
    SSL_SESSION *s = SSL_SESSION_new();
    if (!s) return NULL;
    if (!SSL_SESSION_set1_master_key(s, key, 32) || !SSL_SESSION_set_cipher(s, cipher) ||
        !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
        SSL_SESSION_free(s);
        return NULL;
    }
    return s;
}

static int use_session_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
                          SSL_SESSION **sess) {
    p2p *b = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    SSL_SESSION *s = psk_session(ssl, b->psk);
    if (!s) return 0;
    /* After a HelloRetryRequest the negotiated hash must match the PSK's. */
    if (md && md != SSL_CIPHER_get_handshake_digest(SSL_SESSION_get0_cipher(s))) {
        SSL_SESSION_free(s);
        *sess = NULL;
        return 1;
    }
    *id = (const unsigned char *)PSK_IDENTITY;
    *idlen = sizeof PSK_IDENTITY - 1;
    *sess = s;
    return 1;
}

static int find_session_cb(SSL *ssl, const unsigned char *identity, size_t identity_len,
                           SSL_SESSION **sess) {
    p2p *b = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
    if (identity_len != sizeof PSK_IDENTITY - 1 ||
        memcmp(identity, PSK_IDENTITY, identity_len) != 0) {
        /* Unknown identity: no PSK, and without a certificate that fails (as "no
         * suitable signature algorithm"); note it so the log says what happened. */
        p2p_conn *c = SSL_get_app_data(ssl);
        if (c) {
            size_t n = identity_len < sizeof c->psk_identity - 3 ? identity_len
                                                                  : sizeof c->psk_identity - 3;
            c->foreign_psk = true;
            c->psk_identity[0] = '"';
            for (size_t i = 0; i < n; i++)
                c->psk_identity[1 + i] =
                    identity[i] >= 0x20 && identity[i] < 0x7f && identity[i] != '"' ? (char)identity[i] : '?';
            c->psk_identity[1 + n] = '"';
            c->psk_identity[2 + n] = 0;
        }
        *sess = NULL;
        return 1;
    }
    *sess = psk_session(ssl, b->psk);
    return *sess ? 1 : 0;
}

/* A socket BIO that writes with MSG_NOSIGNAL: a library must not raise SIGPIPE in
 * its host process when a peer goes away (OpenSSL's own socket BIO uses write()). */
static int bio_write(BIO *bio, const char *buf, int len) {
    int fd = (int)(intptr_t)BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    ssize_t n = send(fd, buf, (size_t)len, MSG_NOSIGNAL);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_write(bio);
    return (int)n;
}

static int bio_read(BIO *bio, char *buf, int len) {
    int fd = (int)(intptr_t)BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    ssize_t n = recv(fd, buf, (size_t)len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) BIO_set_retry_read(bio);
    return (int)n;
}

static long bio_ctrl(BIO *bio, int cmd, long num, void *ptr) {
    (void)bio;
    (void)num;
    (void)ptr;
    return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *bio) {
    BIO_set_init(bio, 1);
    return 1;
}

BIO *p2p_tls_bio(p2p *b, int fd) {
    BIO *bio = BIO_new(b->bio_method);
    if (bio) BIO_set_data(bio, (void *)(intptr_t)fd);
    return bio;
}

int p2p_tls_init(p2p *b, char *err, size_t errlen) {
    const char *secret = b->cfg->secret;
    if (!secret || !*secret) {
        snprintf(err, errlen, "PeerToPeer: \"secret\" is required unless \"encryption\" is \"none\"");
        return AGORA_ECONFIG;
    }
    if (derive_psk(secret, b->psk) != 0) {
        snprintf(err, errlen, "PeerToPeer: cannot derive the TLS key (HKDF-SHA256 unavailable)");
        return AGORA_EIO;
    }
    b->bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "agora socket");
    if (!b->bio_method || !BIO_meth_set_write(b->bio_method, bio_write) ||
        !BIO_meth_set_read(b->bio_method, bio_read) || !BIO_meth_set_ctrl(b->bio_method, bio_ctrl) ||
        !BIO_meth_set_create(b->bio_method, bio_create)) {
        snprintf(err, errlen, "PeerToPeer: cannot set up TLS I/O");
        return AGORA_EIO;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    if (!ctx) {
        snprintf(err, errlen, "PeerToPeer: cannot create the TLS context");
        return AGORA_EIO;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256");
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_psk_use_session_callback(ctx, use_session_cb);
    SSL_CTX_set_psk_find_session_callback(ctx, find_session_cb);
    SSL_CTX_set_app_data(ctx, b);
    b->ctx = ctx;
    return AGORA_OK;
}

void p2p_tls_free(p2p *b) {
    if (b->ctx) SSL_CTX_free(b->ctx);
    b->ctx = NULL;
    if (b->bio_method) BIO_meth_free(b->bio_method);
    b->bio_method = NULL;
    OPENSSL_cleanse(b->psk, sizeof b->psk);
}

p2p_tls_failure p2p_tls_describe_error(char *buf, size_t len) {
    p2p_tls_failure f = P2P_TLS_FAIL_OTHER;
    unsigned long e = ERR_peek_last_error();
    if (!e) {
        snprintf(buf, len, "connection closed by the peer");
        ERR_clear_error();
        return f;
    }
    int reason = ERR_GET_REASON(e);
    const char *txt = ERR_reason_error_string(e);
    snprintf(buf, len, "%s", txt ? txt : "TLS error");
    switch (reason) {
    case SSL_R_BINDER_DOES_NOT_VERIFY:
    case SSL_R_TLSV1_ALERT_DECRYPT_ERROR:
    case SSL_R_DECRYPTION_FAILED_OR_BAD_RECORD_MAC:
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
    case SSL_R_SSLV3_ALERT_ILLEGAL_PARAMETER: /* what a client is told of a bad binder */
        f = P2P_TLS_FAIL_SECRET;
        break;
    case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM: /* no PSK offered, and we have no certificate */
        f = P2P_TLS_FAIL_NO_PSK;
        break;
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_PACKET_LENGTH_TOO_LONG:
    case SSL_R_UNKNOWN_PROTOCOL:
    case SSL_R_RECORD_LENGTH_MISMATCH:
    case SSL_R_HTTP_REQUEST:
        f = P2P_TLS_FAIL_NOT_TLS;
        break;
    default:
        break;
    }
    ERR_clear_error();
    return f;
}
