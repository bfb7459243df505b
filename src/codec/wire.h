/* wire.h — agora's native message format ("agora" codec), framing only.
 *
 *   message   := magic:'A''G' version:u8 kind:u8 origin:uvarint incarnation:uvarint body
 *   EVENTS    body := first_seq:uvarint count:uvarint event{count}   (codec.h native events)
 *   HEARTBEAT body := next_seq:uvarint address:string nmembers:uvarint member{nmembers}
 *       member := node:uvarint incarnation:uvarint state:u8 address:string
 *       (state failed or left: address is "ADDRESS;AGE", AGE the milliseconds since it
 *       entered that state, in decimal; readers before 0.2 ignore such members whole)
 *   LEAVE     body := next_seq:uvarint
 *
 * Sequence numbers count events per (origin, incarnation), starting at 1. A new
 * incarnation is drawn at every start, so a restarted node is told apart from its
 * previous life and receivers reset their dedup state for it. Unknown kinds and a
 * higher version are rejected as a whole (counted, logged), never crash. */
#ifndef AG_WIRE_H
#define AG_WIRE_H

#include "util/leb128.h"

#include <stddef.h>
#include <stdint.h>

#define AG_WIRE_VERSION 1
#define AG_WIRE_EVENTS 1
#define AG_WIRE_HEARTBEAT 2
#define AG_WIRE_LEAVE 3
#define AG_WIRE_MAX_GOSSIP 64

typedef struct ag_wire_member {
    uint16_t node;
    uint64_t incarnation;
    uint8_t state;
    char address[128];
    uint64_t age_ms; /* failed / left: milliseconds since it entered that state */
} ag_wire_member;

typedef struct ag_wire_header {
    uint8_t kind;
    uint16_t origin;
    uint64_t incarnation;
    /* EVENTS */
    uint64_t first_seq;
    uint64_t count;
    size_t events_offset; /* where the events start in the message */
    /* HEARTBEAT, LEAVE */
    uint64_t next_seq;
    char address[128];
    size_t nmembers;
    ag_wire_member members[AG_WIRE_MAX_GOSSIP];
} ag_wire_header;

/* Write the header of an EVENTS message; the caller appends `count` events. */
void ag_wire_put_events_header(ag_buf *b, uint16_t origin, uint64_t incarnation,
                               uint64_t first_seq, uint64_t count);
void ag_wire_put_heartbeat(ag_buf *b, uint16_t origin, uint64_t incarnation,
                           uint64_t next_seq, const char *address,
                           const ag_wire_member *members, size_t n);
void ag_wire_put_leave(ag_buf *b, uint16_t origin, uint64_t incarnation, uint64_t next_seq);

/* The fixed head of a message, read without its body. */
typedef struct ag_wire_peek_info {
    uint8_t version;
    uint8_t kind;
    uint16_t origin;
    uint64_t incarnation;
    uint64_t seq;   /* EVENTS: the first event's sequence; HEARTBEAT, LEAVE: the next one */
    uint64_t count; /* EVENTS: the number of events; 0 otherwise */
    size_t body;    /* where the rest of the message starts */
} ag_wire_peek_info;

/* Read a message's head: magic, version (only AG_WIRE_VERSION is accepted), kind,
 * origin, incarnation and sequence (and an EVENTS message's count), nothing more.
 * For a reader that routes messages without decoding them; ag_wire_parse starts
 * with it. 0, or -1 with "byte N: what" in err (err may be NULL when errlen is 0). */
int ag_wire_peek(const uint8_t *data, size_t len, ag_wire_peek_info *p, char *err,
                 size_t errlen);

/* Parse a message's header (and for HEARTBEAT/LEAVE the whole body). 0 or -1 with a
 * message "byte N: what" in err. */
int ag_wire_parse(const uint8_t *data, size_t len, ag_wire_header *h, char *err, size_t errlen);

#endif
