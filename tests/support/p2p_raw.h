/* p2p_raw.h — a raw PeerToPeer peer for the tests: a plain TCP socket on 127.0.0.1
 * that speaks the protocol's frames by hand (docs/p2p-protocol.md), so a test can be
 * a peer that misbehaves: sends junk, claims an id, or never reads.
 * Header-only (static functions) for test_p2p.c and test_p2p_stall.c. */
#ifndef AG_TEST_P2P_RAW_H
#define AG_TEST_P2P_RAW_H

#include "backend/p2p/p2p.h"
#include "check.h"
#include "util/be.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Connect to 127.0.0.1:port; rcvbuf, when not 0, is the socket's receive buffer
 * (small: the node's data backs up in its own buffers). -1 on failure. */
static inline int raw_connect(int port, int rcvbuf) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One frame: u32 length (type + body), u8 type, body. */
static inline void raw_frame(int fd, uint8_t type, const void *body, size_t len) {
    uint8_t h[P2P_FRAME_HDR];
    uint32_t l = (uint32_t)len + 1;
    ag_put_be32(h, l);
    h[4] = type;
    CHECKF(send(fd, h, sizeof h, MSG_NOSIGNAL) == (ssize_t)sizeof h, "raw send");
    if (len) CHECKF(send(fd, body, len, MSG_NOSIGNAL) == (ssize_t)len, "raw send body");
}

/* HELLO as node `node`, incarnation `inc`, advertising 127.0.0.1:1 (nothing listens). */
static inline void raw_hello(int fd, int node, uint64_t inc) {
    uint8_t b[40];
    memcpy(b, P2P_MAGIC, 4);
    b[4] = P2P_VERSION;
    ag_put_be16(b + 5, (uint16_t)node);
    ag_put_be64(b + 7, inc);
    b[15] = 0;
    const char *adv = "127.0.0.1:1";
    b[16] = (uint8_t)strlen(adv);
    memcpy(b + 17, adv, strlen(adv));
    raw_frame(fd, P2P_FRAME_HELLO, b, 17 + strlen(adv));
}

/* A peer that never reads: node 5, a 4 KiB receive buffer, HELLO and a RESUME that
 * asks for everything from the start. -1 if it could not connect. */
static inline int raw_stalled_peer(int port) {
    int fd = raw_connect(port, 4096);
    if (fd < 0) return -1;
    raw_hello(fd, 5, 55);
    uint8_t resume[16] = {0};
    raw_frame(fd, P2P_FRAME_RESUME, resume, sizeof resume);
    return fd;
}

#endif
