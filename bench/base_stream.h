/* base_stream.h — the full mesh of the socket baselines (base_tcp.c, base_tls.c).
 *
 * Node i listens on 127.0.0.1:port+i and, on its first publish, dials every other
 * node. Each event is written as its record, buffered in user space per peer and
 * written when the buffer is full or the publisher is about to wait (TCP_NODELAY);
 * one receiver thread per node polls its inbound connections and hands whole records
 * to bb_deliver. A stream supplies only how bytes cross one connection: plain
 * read/write, or a TLS session on top. */
#ifndef BENCH_BASE_STREAM_H
#define BENCH_BASE_STREAM_H

#include "base_driver.h"

#include <stdbool.h>
#include <sys/types.h>

/* One connection, inbound or outbound. */
typedef struct bs_conn {
    int fd;       /* -1 when closed */
    void *sec;    /* the stream's own state for it (an SSL *), or NULL */
    uint8_t *buf; /* outbound: records not yet written; inbound: a partial record */
    size_t len;
} bs_conn;

typedef struct bs_stream {
    const char *name;    /* "tcp", "tls" */
    const char *backend; /* the agora backend it stands beside */
    int default_port;    /* first node's listen port (--port overrides it) */
    /* A connection was accepted (inbound) or dialled: set it up (handshake, ...).
     * 0, or -1 to drop it. May be NULL. */
    int (*setup)(bs_conn *c, bool inbound);
    /* Read into buf: > 0 bytes read, 0 nothing more for now, -1 closed or failed. */
    ssize_t (*recv)(bs_conn *c, uint8_t *buf, size_t cap);
    /* Call recv again after it returned data, until it says 0 (TLS: decrypted bytes
     * already pulled from the socket are invisible to poll). Otherwise one recv per
     * wake-up. */
    bool recv_until_empty;
    /* Write all of p. 0 or -1. */
    int (*send)(bs_conn *c, const uint8_t *p, size_t len);
    /* Free c->sec before the socket is closed. May be NULL. */
    void (*teardown)(bs_conn *c);
} bs_stream;

/* The whole program (bb_main with this stream); returns the exit status. */
int bs_main(const bs_stream *s, int argc, char **argv);

#endif
