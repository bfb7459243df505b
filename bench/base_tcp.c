/* base_tcp.c — the baseline beside PeerToPeer with "encryption":"none": plain TCP
 * sockets on loopback in the full mesh of base_stream.c (every node connected to every
 * other one, each event written as its record, buffered in user space, TCP_NODELAY).
 * This is the least a hand-written peer-to-peer bus must do; it has no framing,
 * encryption, membership or resend buffer, so the ratio shows what those cost. */
#include "base_stream.h"

#include <errno.h>
#include <unistd.h>

/* One read(2) per wake-up of the receiver's poll. */
static ssize_t tcp_recv(bs_conn *c, uint8_t *buf, size_t cap) {
    ssize_t r = read(c->fd, buf, cap);
    if (r < 0 && errno == EINTR) return 0;
    return r > 0 ? r : -1;
}

static int tcp_send(bs_conn *c, const uint8_t *p, size_t len) {
    while (len) {
        ssize_t w = write(c->fd, p, len);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

static const bs_stream tcp = {
    .name = "tcp",
    .backend = "PeerToPeer",
    .default_port = 27300,
    .recv = tcp_recv,
    .send = tcp_send,
};

int main(int argc, char **argv) { return bs_main(&tcp, argc, argv); }
