/* wire.c — framing of agora's native messages (see wire.h). */
#include "codec/wire.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Member states that carry an age (agora_member_state's FAILED and LEFT). */
static bool state_has_age(uint8_t state) { return state == 2 || state == 3; }

static void put_head(ag_buf *b, uint8_t kind, uint16_t origin, uint64_t inc) {
    ag_buf_put_u8(b, 'A');
    ag_buf_put_u8(b, 'G');
    ag_buf_put_u8(b, AG_WIRE_VERSION);
    ag_buf_put_u8(b, kind);
    ag_buf_put_uvarint(b, origin);
    ag_buf_put_uvarint(b, inc);
}

void ag_wire_put_events_header(ag_buf *b, uint16_t origin, uint64_t incarnation,
                               uint64_t first_seq, uint64_t count) {
    put_head(b, AG_WIRE_EVENTS, origin, incarnation);
    ag_buf_put_uvarint(b, first_seq);
    ag_buf_put_uvarint(b, count);
}

void ag_wire_put_heartbeat(ag_buf *b, uint16_t origin, uint64_t incarnation,
                           uint64_t next_seq, const char *address,
                           const ag_wire_member *members, size_t n) {
    put_head(b, AG_WIRE_HEARTBEAT, origin, incarnation);
    ag_buf_put_uvarint(b, next_seq);
    ag_buf_put_str(b, address ? address : "", address ? strlen(address) : 0);
    if (n > AG_WIRE_MAX_GOSSIP) n = AG_WIRE_MAX_GOSSIP;
    ag_buf_put_uvarint(b, n);
    for (size_t i = 0; i < n; i++) {
        ag_buf_put_uvarint(b, members[i].node);
        ag_buf_put_uvarint(b, members[i].incarnation);
        ag_buf_put_u8(b, members[i].state);
        char addr[160];
        const ag_wire_member *m = &members[i];
        int w = state_has_age(m->state)
                    ? snprintf(addr, sizeof addr, "%s;%" PRIu64, m->address, m->age_ms)
                    : snprintf(addr, sizeof addr, "%s", m->address);
        /* too long for the field: the address alone (the age reads as 0) */
        if (w < 0 || w > 127) w = snprintf(addr, sizeof addr, "%.127s", m->address);
        ag_buf_put_str(b, addr, (size_t)w);
    }
}

void ag_wire_put_leave(ag_buf *b, uint16_t origin, uint64_t incarnation, uint64_t next_seq) {
    put_head(b, AG_WIRE_LEAVE, origin, incarnation);
    ag_buf_put_uvarint(b, next_seq);
}

#define FAIL(...)                                                                      \
    do {                                                                               \
        snprintf(err, errlen, __VA_ARGS__);                                            \
        return -1;                                                                     \
    } while (0)

static int get_u(const uint8_t *d, size_t len, size_t *pos, uint64_t max, uint64_t *out,
                 const char *what, char *err, size_t errlen) {
    size_t at = *pos;
    int rc = ag_get_uvarint(d, len, pos, max, out);
    if (rc == -1) FAIL("byte %zu: %s is truncated", at, what);
    if (rc < 0) FAIL("byte %zu: %s is out of range", at, what);
    return 0;
}

/* A printable short string (addresses); rejects control bytes and over-long ones. */
static int get_addr(const uint8_t *d, size_t len, size_t *pos, char *out, size_t cap,
                    char *err, size_t errlen) {
    uint64_t n;
    size_t at = *pos;
    if (get_u(d, len, pos, cap - 1, &n, "address length", err, errlen)) return -1;
    if (n > len - *pos) FAIL("byte %zu: address runs past the end of the message", at);
    for (uint64_t i = 0; i < n; i++)
        if (d[*pos + i] < 0x20 || d[*pos + i] > 0x7e)
            FAIL("byte %zu: address holds a non-printable byte", (size_t)(*pos + i));
    memcpy(out, d + *pos, n);
    out[n] = 0;
    *pos += n;
    return 0;
}

int ag_wire_peek(const uint8_t *d, size_t len, ag_wire_peek_info *p, char *err, size_t errlen) {
    size_t pos = 4;
    uint64_t v;
    if (len < 4 || d[0] != 'A' || d[1] != 'G') FAIL("byte 0: not an agora message (bad magic)");
    p->version = d[2];
    if (d[2] != AG_WIRE_VERSION) FAIL("byte 2: unsupported format version %u", d[2]);
    p->kind = d[3];
    if (p->kind < AG_WIRE_EVENTS || p->kind > AG_WIRE_LEAVE)
        FAIL("byte 3: unknown message kind %u", d[3]);
    if (get_u(d, len, &pos, UINT16_MAX, &v, "origin node id", err, errlen)) return -1;
    p->origin = (uint16_t)v;
    if (get_u(d, len, &pos, UINT64_MAX, &p->incarnation, "incarnation", err, errlen)) return -1;
    bool events = p->kind == AG_WIRE_EVENTS;
    if (get_u(d, len, &pos, UINT64_MAX, &p->seq, events ? "first sequence" : "next sequence",
              err, errlen))
        return -1;
    p->count = 0;
    if (events && get_u(d, len, &pos, UINT64_MAX, &p->count, "event count", err, errlen))
        return -1;
    p->body = pos;
    return 0;
}

int ag_wire_parse(const uint8_t *d, size_t len, ag_wire_header *h, char *err, size_t errlen) {
    ag_wire_peek_info p;
    if (ag_wire_peek(d, len, &p, err, errlen)) return -1;
    size_t pos = p.body;
    uint64_t v;
    h->kind = p.kind;
    h->origin = p.origin;
    h->incarnation = p.incarnation;
    if (h->kind == AG_WIRE_EVENTS) {
        h->first_seq = p.seq;
        h->count = p.count;
        /* Every event takes at least two bytes (tag and length). */
        if (h->count > (len - pos) / 2 + 1 || h->first_seq == 0 ||
            h->first_seq + h->count < h->first_seq)
            FAIL("byte %zu: event count or sequence out of range", pos);
        h->events_offset = pos;
        return 0;
    }
    h->next_seq = p.seq;
    if (h->kind == AG_WIRE_LEAVE) return 0;
    if (get_addr(d, len, &pos, h->address, sizeof h->address, err, errlen)) return -1;
    if (get_u(d, len, &pos, AG_WIRE_MAX_GOSSIP, &v, "member count", err, errlen)) return -1;
    h->nmembers = (size_t)v;
    for (size_t i = 0; i < h->nmembers; i++) {
        ag_wire_member *m = &h->members[i];
        if (get_u(d, len, &pos, UINT16_MAX, &v, "member node id", err, errlen)) return -1;
        m->node = (uint16_t)v;
        if (get_u(d, len, &pos, UINT64_MAX, &m->incarnation, "member incarnation", err, errlen))
            return -1;
        if (pos >= len) FAIL("byte %zu: member state is truncated", pos);
        m->state = d[pos++];
        if (m->state > 3) FAIL("byte %zu: unknown member state %u", pos - 1, m->state);
        if (get_addr(d, len, &pos, m->address, sizeof m->address, err, errlen)) return -1;
        m->age_ms = 0;
        char *semi = state_has_age(m->state) ? strrchr(m->address, ';') : NULL;
        if (semi) {
            char *end;
            unsigned long long age = strtoull(semi + 1, &end, 10);
            if (semi[1] >= '0' && semi[1] <= '9' && !*end) m->age_ms = age;
            *semi = 0;
        }
    }
    if (pos != len) FAIL("byte %zu: unexpected bytes after the heartbeat", pos);
    return 0;
}
