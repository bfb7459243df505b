/* base_tcp.c — the baseline beside PeerToPeer: plain TCP sockets on loopback, every
 * node connected to every other one, each event written as its record (buffered in
 * user space and written when the buffer is full or the publisher is about to wait,
 * with TCP_NODELAY), one receiver thread per node polling its inbound connections.
 * This is the least a hand-written peer-to-peer bus must do; it has no framing,
 * encryption, membership or resend buffer, so the ratio shows what those cost. */
#include "base_driver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define OUTBUF (64 * 1024)
#define INBUF (256 * 1024)

static int base_port = 27300;

typedef struct tcp_node {
    int lfd, stopfd;
    pthread_t rx;
    int out[BB_MAX_NODES];
    uint8_t *obuf[BB_MAX_NODES];
    size_t olen[BB_MAX_NODES];
} tcp_node;

static int opt(const char *o, const char *v) {
    if (strcmp(o, "--port")) return 0;
    base_port = atoi(v);
    return base_port > 0 && base_port < 65536 - BB_MAX_NODES ? 1 : -1;
}

static void *rx_main(void *arg) {
    bb_node *n = arg;
    tcp_node *t = n->impl;
    struct pollfd pf[BB_MAX_NODES + 2];
    uint8_t *buf[BB_MAX_NODES + 2] = {0};
    size_t have[BB_MAX_NODES + 2] = {0};
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
                buf[nf] = malloc(INBUF);
                have[nf] = 0;
                pf[nf++] = (struct pollfd){.fd = fd, .events = POLLIN};
            }
        }
        for (int i = 2; i < nf; i++) {
            if (!pf[i].revents || pf[i].fd < 0) continue;
            ssize_t r = read(pf[i].fd, buf[i] + have[i], INBUF - have[i]);
            if (r <= 0) {
                if (r < 0 && errno == EINTR) continue;
                close(pf[i].fd);
                pf[i].fd = -1; /* poll ignores negative fds */
                continue;
            }
            have[i] += (size_t)r;
            size_t whole = have[i] / rs * rs;
            bb_deliver(n, buf[i], whole);
            memmove(buf[i], buf[i] + whole, have[i] - whole);
            have[i] -= whole;
        }
    }
    for (int i = 2; i < nf; i++) {
        if (pf[i].fd >= 0) close(pf[i].fd);
        free(buf[i]);
    }
    return NULL;
}

static int tcp_open(bb_node *n, char *err, size_t errlen) {
    tcp_node *t = calloc(1, sizeof *t);
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

static int write_all(int fd, const uint8_t *p, size_t len) {
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static void tcp_flush(bb_node *n) {
    tcp_node *t = n->impl;
    for (int j = 0; j < bb_nodes(); j++) {
        if (t->out[j] < 0 || !t->olen[j]) continue;
        if (write_all(t->out[j], t->obuf[j], t->olen[j]) != 0) {
            close(t->out[j]);
            t->out[j] = -1;
        }
        t->olen[j] = 0;
    }
}

static int tcp_publish(bb_node *n, const uint8_t *data, size_t len) {
    tcp_node *t = n->impl;
    for (int j = 0; j < bb_nodes(); j++) {
        if (j == n->idx) continue;
        if (t->out[j] < 0) {
            /* Dial lazily: every node is listening by the time anyone publishes. */
            int fd = bb_dial_loopback(base_port + j);
            if (fd < 0) continue;
            if (!t->obuf[j]) t->obuf[j] = malloc(OUTBUF);
            t->out[j] = fd;
            t->olen[j] = 0;
        }
        if (t->olen[j] + len > OUTBUF) {
            if (write_all(t->out[j], t->obuf[j], t->olen[j]) != 0) {
                close(t->out[j]);
                t->out[j] = -1;
                continue;
            }
            t->olen[j] = 0;
        }
        memcpy(t->obuf[j] + t->olen[j], data, len);
        t->olen[j] += len;
    }
    return 0;
}

static void tcp_close(bb_node *n) {
    tcp_node *t = n->impl;
    if (!t) return;
    tcp_flush(n);
    for (int j = 0; j < BB_MAX_NODES; j++) {
        if (t->out[j] >= 0) close(t->out[j]);
        free(t->obuf[j]);
    }
    uint64_t one = 1;
    if (write(t->stopfd, &one, sizeof one) < 0) { /* the thread then never stops: abort */
        abort();
    }
    pthread_join(t->rx, NULL);
    close(t->lfd);
    close(t->stopfd);
    free(t);
    n->impl = NULL;
}

static const bb_transport tcp = {
    .name = "tcp",
    .backend = "PeerToPeer",
    .options_help = "  --port P          first node's listen port (default 27300)\n",
    .option = opt,
    .open = tcp_open,
    .publish = tcp_publish,
    .flush = tcp_flush,
    .close = tcp_close,
};

int main(int argc, char **argv) { return bb_main(&tcp, argc, argv); }
