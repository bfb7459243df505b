/* base_stream.c — see base_stream.h. The mesh a hand-written peer-to-peer bus needs
 * at the least: no framing, membership or resend buffer. */
#include "base_stream.h"

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

static const bs_stream *S;
static int base_port;

typedef struct bs_node {
    int lfd, stopfd;
    pthread_t rx;
    bs_conn out[BB_MAX_NODES]; /* to node j, dialled on the first publish */
} bs_node;

static int opt(const char *o, const char *v) {
    if (strcmp(o, "--port")) return 0;
    base_port = atoi(v);
    return base_port > 0 && base_port < 65536 - BB_MAX_NODES ? 1 : -1;
}

/* A listening socket on 127.0.0.1:port, or -1 with a message in err. */
static int listen_loopback(int port, char *err, size_t errlen) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0) {
        snprintf(err, errlen, "listen on 127.0.0.1:%d: %s", port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* A blocking connection to 127.0.0.1:port with TCP_NODELAY, or -1 if nobody listens
 * there yet. */
static int dial_loopback(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static void drop(bs_conn *c) {
    if (S->teardown) S->teardown(c);
    c->sec = NULL;
    close(c->fd);
    c->fd = -1;
}

static void *rx_main(void *arg) {
    bb_node *n = arg;
    bs_node *t = n->impl;
    struct pollfd pf[BB_MAX_NODES + 2];
    bs_conn in[BB_MAX_NODES + 2]; /* aligned with pf; 0 and 1 unused */
    memset(in, 0, sizeof in);
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
                in[nf] = (bs_conn){.fd = fd};
                if (S->setup && S->setup(&in[nf], true) != 0) {
                    close(fd);
                } else {
                    in[nf].buf = malloc(INBUF);
                    pf[nf++] = (struct pollfd){.fd = fd, .events = POLLIN};
                }
            }
        }
        for (int i = 2; i < nf; i++) {
            if (!pf[i].revents || pf[i].fd < 0) continue;
            bs_conn *c = &in[i];
            do {
                ssize_t r = S->recv(c, c->buf + c->len, INBUF - c->len);
                if (r < 0) {
                    drop(c);
                    pf[i].fd = -1; /* poll ignores negative fds */
                }
                if (r <= 0) break;
                c->len += (size_t)r;
                size_t whole = c->len / rs * rs;
                bb_deliver(n, c->buf, whole);
                memmove(c->buf, c->buf + whole, c->len - whole);
                c->len -= whole;
            } while (S->recv_until_empty);
        }
    }
    for (int i = 2; i < nf; i++) {
        if (in[i].fd >= 0) drop(&in[i]);
        free(in[i].buf);
    }
    return NULL;
}

static int bs_open(bb_node *n, char *err, size_t errlen) {
    bs_node *t = calloc(1, sizeof *t);
    if (!t) return -1;
    for (int i = 0; i < BB_MAX_NODES; i++) t->out[i].fd = -1;
    t->lfd = listen_loopback(base_port + n->idx, err, errlen);
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

/* Write out what is buffered for one peer; a failed write drops the connection. */
static void write_out(bs_conn *c) {
    if (S->send(c, c->buf, c->len) != 0) drop(c);
    c->len = 0;
}

static void bs_flush(bb_node *n) {
    bs_node *t = n->impl;
    for (int j = 0; j < bb_nodes(); j++)
        if (t->out[j].fd >= 0 && t->out[j].len) write_out(&t->out[j]);
}

static int bs_publish(bb_node *n, const uint8_t *data, size_t len) {
    bs_node *t = n->impl;
    for (int j = 0; j < bb_nodes(); j++) {
        if (j == n->idx) continue;
        bs_conn *c = &t->out[j];
        if (c->fd < 0) {
            /* Dial lazily: every node is listening by the time anyone publishes. */
            int fd = dial_loopback(base_port + j);
            if (fd < 0) continue;
            c->fd = fd;
            if (S->setup && S->setup(c, false) != 0) {
                close(fd);
                c->fd = -1;
                continue;
            }
            if (!c->buf) c->buf = malloc(OUTBUF);
            c->len = 0;
        }
        if (c->len + len > OUTBUF) {
            write_out(c);
            if (c->fd < 0) continue;
        }
        memcpy(c->buf + c->len, data, len);
        c->len += len;
    }
    return 0;
}

static void bs_close(bb_node *n) {
    bs_node *t = n->impl;
    if (!t) return;
    bs_flush(n);
    for (int j = 0; j < BB_MAX_NODES; j++) {
        if (t->out[j].fd >= 0) drop(&t->out[j]);
        free(t->out[j].buf);
    }
    uint64_t one = 1;
    if (write(t->stopfd, &one, sizeof one) < 0) abort(); /* the thread would never stop */
    pthread_join(t->rx, NULL);
    close(t->lfd);
    close(t->stopfd);
    free(t);
    n->impl = NULL;
}

int bs_main(const bs_stream *s, int argc, char **argv) {
    static char help[96];
    static bb_transport tr;
    S = s;
    base_port = s->default_port;
    snprintf(help, sizeof help, "  --port P          first node's listen port (default %d)\n",
             s->default_port);
    tr = (bb_transport){
        .name = s->name,
        .backend = s->backend,
        .options_help = help,
        .option = opt,
        .open = bs_open,
        .publish = bs_publish,
        .flush = bs_flush,
        .close = bs_close,
    };
    return bb_main(&tr, argc, argv);
}
