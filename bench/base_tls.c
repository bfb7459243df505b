/* base_tls.c — the baseline beside PeerToPeer with its default encryption: the full
 * mesh of base_stream.c, each connection TLS 1.3 with an external pre-shared key
 * (TLS_AES_128_GCM_SHA256, as agora negotiates on x86 with AES-NI), writes buffered
 * in user space and handed to SSL_write when the buffer is full or the publisher is
 * about to wait. One receiver thread per node polls its non-blocking inbound links. */
#include "base_stream.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <string.h>

#define IDENTITY "agora-baseline"

static uint8_t key[32];
static SSL_CTX *cctx, *sctx;

static SSL_SESSION *make_session(SSL *ssl) {
    static const unsigned char aes128gcm[] = {0x13, 0x01};
    const SSL_CIPHER *c = SSL_CIPHER_find(ssl, aes128gcm);
    SSL_SESSION *s = SSL_SESSION_new();
    if (!c || !s || !SSL_SESSION_set1_master_key(s, key, sizeof key) ||
        !SSL_SESSION_set_cipher(s, c) || !SSL_SESSION_set_protocol_version(s, TLS1_3_VERSION)) {
        SSL_SESSION_free(s);
        return NULL;
    }
    return s;
}

static int use_cb(SSL *ssl, const EVP_MD *md, const unsigned char **id, size_t *idlen,
                  SSL_SESSION **sess) {
    (void)md;
    *sess = make_session(ssl);
    *id = (const unsigned char *)IDENTITY;
    *idlen = sizeof IDENTITY - 1;
    return *sess != NULL;
}

static int find_cb(SSL *ssl, const unsigned char *id, size_t idlen, SSL_SESSION **sess) {
    if (idlen != sizeof IDENTITY - 1 || memcmp(id, IDENTITY, idlen)) {
        *sess = NULL;
        return 1;
    }
    *sess = make_session(ssl);
    return *sess != NULL;
}

static SSL_CTX *new_ctx(const SSL_METHOD *m) {
    SSL_CTX *c = SSL_CTX_new(m);
    SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
    SSL_CTX_set_ciphersuites(c, "TLS_AES_128_GCM_SHA256");
    SSL_CTX_set_num_tickets(c, 0);
    SSL_CTX_set_psk_use_session_callback(c, use_cb);
    SSL_CTX_set_psk_find_session_callback(c, find_cb);
    return c;
}

/* A TLS session on the new connection: a blocking handshake, then (inbound) the
 * socket goes non-blocking so that the receiver can read until the session is empty. */
static int tls_setup(bs_conn *c, bool inbound) {
    SSL *s = SSL_new(inbound ? sctx : cctx);
    SSL_set_fd(s, c->fd);
    if ((inbound ? SSL_accept(s) : SSL_connect(s)) != 1) {
        SSL_free(s);
        return -1;
    }
    if (inbound) fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
    c->sec = s;
    return 0;
}

static ssize_t tls_recv(bs_conn *c, uint8_t *buf, size_t cap) {
    int r = SSL_read(c->sec, buf, (int)cap);
    if (r > 0) return r;
    return SSL_get_error(c->sec, r) == SSL_ERROR_WANT_READ ? 0 : -1;
}

static int tls_send(bs_conn *c, const uint8_t *p, size_t len) {
    size_t off = 0;
    while (off < len) {
        int w = SSL_write(c->sec, p + off, (int)(len - off));
        if (w <= 0) return -1;
        off += (size_t)w;
    }
    return 0;
}

static void tls_teardown(bs_conn *c) { SSL_free(c->sec); }

static const bs_stream tls = {
    .name = "tls",
    .backend = "PeerToPeer",
    .default_port = 27400,
    .setup = tls_setup,
    .recv = tls_recv,
    .recv_until_empty = true,
    .send = tls_send,
    .teardown = tls_teardown,
};

int main(int argc, char **argv) {
    SHA256((const unsigned char *)"agora-baseline-secret", 21, key);
    cctx = new_ctx(TLS_client_method());
    sctx = new_ctx(TLS_server_method());
    int rc = bs_main(&tls, argc, argv);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    return rc;
}
