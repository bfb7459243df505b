/* base_tls.c — the baseline beside PeerToPeer with its default encryption: the same
 * full mesh as base_tcp.c, each connection TLS 1.3 with an external pre-shared key
 * (TLS_AES_128_GCM_SHA256, as agora negotiates on x86 with AES-NI), writes buffered
 * in user space and handed to SSL_write when the buffer is full or the publisher is
 * about to wait. One receiver thread per node polls its non-blocking inbound links. */
#include "base_driver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define OUTBUF (64 * 1024)
#define INBUF (256 * 1024)
#define IDENTITY "agora-baseline"

static int base_port = 27400;
static uint8_t key[32];
static SSL_CTX *cctx, *sctx;

typedef struct tls_node {
    int lfd, stopfd;
    pthread_t rx;
    int out[BB_MAX_NODES];
    SSL *ossl[BB_MAX_NODES];
    uint8_t *obuf[BB_MAX_NODES];
    size_t olen[BB_MAX_NODES];
} tls_node;

static int opt(const char *o, const char *v) {
    if (strcmp(o, "--port")) return 0;
    base_port = atoi(v);
    return base_port > 0 && base_port < 65536 - BB_MAX_NODES ? 1 : -1;
}

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

typedef struct tls_link {
    int fd;
    SSL *ssl;
    uint8_t *buf;
    size_t have;
} tls_link;

static void *rx_main(void *arg) {
    bb_node *n = arg;
    tls_node *t = n->impl;
    struct pollfd pf[BB_MAX_NODES + 2];
    tls_link lk[BB_MAX_NODES + 2];
    memset(lk, 0, sizeof lk);
    int nf = 2;
    pf[0] = (struct pollfd){.fd = t->stopfd, .events = POLLIN};
    pf[1] = (struct pollfd){.fd = t->lfd, .events = POLLIN};
    size_t rs = bb_record_size();
    for (;;) {
        if (poll(pf, (nfds_t)nf, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (pf[0].revents) break;
        if ((pf[1].revents & POLLIN) && nf < BB_MAX_NODES + 2) {
            int fd = accept(t->lfd, NULL, NULL);
            if (fd >= 0) {
                SSL *s = SSL_new(sctx);
                SSL_set_fd(s, fd);
                if (SSL_accept(s) != 1) { /* blocking handshake, then non-blocking reads */
                    SSL_free(s);
                    close(fd);
                } else {
                    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
                    lk[nf] = (tls_link){.fd = fd, .ssl = s, .buf = malloc(INBUF)};
                    pf[nf++] = (struct pollfd){.fd = fd, .events = POLLIN};
                }
            }
        }
        for (int i = 2; i < nf; i++) {
            if (!pf[i].revents || pf[i].fd < 0) continue;
            for (;;) { /* read until the TLS layer has nothing more */
                int r = SSL_read(lk[i].ssl, lk[i].buf + lk[i].have, (int)(INBUF - lk[i].have));
                if (r <= 0) {
                    int e = SSL_get_error(lk[i].ssl, r);
                    if (e != SSL_ERROR_WANT_READ) pf[i].fd = -1;
                    break;
                }
                lk[i].have += (size_t)r;
                size_t whole = lk[i].have / rs * rs;
                bb_deliver(n, lk[i].buf, whole);
                memmove(lk[i].buf, lk[i].buf + whole, lk[i].have - whole);
                lk[i].have -= whole;
            }
        }
    }
    for (int i = 2; i < nf; i++) {
        SSL_free(lk[i].ssl);
        close(lk[i].fd);
        free(lk[i].buf);
    }
    return NULL;
}

static int tls_open(bb_node *n, char *err, size_t errlen) {
    if (!cctx) {
        SHA256((const unsigned char *)"agora-baseline-secret", 21, key);
        cctx = new_ctx(TLS_client_method());
        sctx = new_ctx(TLS_server_method());
    }
    tls_node *t = calloc(1, sizeof *t);
    if (!t) return -1;
    for (int i = 0; i < BB_MAX_NODES; i++) t->out[i] = -1;
    t->lfd = bb_listen_loopback(base_port + n->idx, err, errlen);
    if (t->lfd < 0) {
        free(t);
        return -1;
    }
    t->stopfd = eventfd(0, EFD_CLOEXEC);
    n->impl = t;
    if (pthread_create(&t->rx, NULL, rx_main, n) != 0) {
        snprintf(err, errlen, "cannot start a thread");
        return -1;
    }
    return 0;
}

static void drop(tls_node *t, int j) {
    SSL_free(t->ossl[j]);
    t->ossl[j] = NULL;
    close(t->out[j]);
    t->out[j] = -1;
}

static void write_out(tls_node *t, int j) {
    size_t off = 0;
    while (off < t->olen[j]) {
        int w = SSL_write(t->ossl[j], t->obuf[j] + off, (int)(t->olen[j] - off));
        if (w <= 0) {
            drop(t, j);
            break;
        }
        off += (size_t)w;
    }
    t->olen[j] = 0;
}

static void tls_flush(bb_node *n) {
    tls_node *t = n->impl;
    for (int j = 0; j < bb_nodes(); j++)
        if (t->out[j] >= 0 && t->olen[j]) write_out(t, j);
}

static int tls_publish(bb_node *n, const uint8_t *data, size_t len) {
    tls_node *t = n->impl;
    for (int j = 0; j < bb_nodes(); j++) {
        if (j == n->idx) continue;
        if (t->out[j] < 0) {
            int fd = bb_dial_loopback(base_port + j);
            if (fd < 0) continue;
            SSL *s = SSL_new(cctx);
            SSL_set_fd(s, fd);
            if (SSL_connect(s) != 1) {
                SSL_free(s);
                close(fd);
                continue;
            }
            if (!t->obuf[j]) t->obuf[j] = malloc(OUTBUF);
            t->out[j] = fd;
            t->ossl[j] = s;
            t->olen[j] = 0;
        }
        if (t->olen[j] + len > OUTBUF) {
            write_out(t, j);
            if (t->out[j] < 0) continue;
        }
        memcpy(t->obuf[j] + t->olen[j], data, len);
        t->olen[j] += len;
    }
    return 0;
}

static void tls_close(bb_node *n) {
    tls_node *t = n->impl;
    if (!t) return;
    tls_flush(n);
    for (int j = 0; j < BB_MAX_NODES; j++) {
        if (t->out[j] >= 0) drop(t, j);
        free(t->obuf[j]);
    }
    uint64_t one = 1;
    if (write(t->stopfd, &one, sizeof one) < 0) abort();
    pthread_join(t->rx, NULL);
    close(t->lfd);
    close(t->stopfd);
    free(t);
    n->impl = NULL;
}

static const bb_transport tls = {
    .name = "tls",
    .backend = "PeerToPeer",
    .options_help = "  --port P          first node's listen port (default 27400)\n",
    .option = opt,
    .open = tls_open,
    .publish = tls_publish,
    .flush = tls_flush,
    .close = tls_close,
};

int main(int argc, char **argv) {
    int rc = bb_main(&tls, argc, argv);
    SSL_CTX_free(cctx);
    SSL_CTX_free(sctx);
    return rc;
}
