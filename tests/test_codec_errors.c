/* test_codec_errors.c — every class of malformed input is rejected at the right byte
 * with a message saying what (Stalwart batches and native events), counts cannot make
 * the decoders allocate more than the input holds, events before a fault are kept,
 * and the encoders refuse what the other side could not read. */
#include "agora.h"
#include "check.h"
#include "codec/codec.h"
#include "codec/wire.h"
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define B(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

/* Decode a batch that must fail at `off` with `what` in the message, after `nok`
 * good events. The input is copied to an exact-size heap block so ASan catches any
 * read past its end. */
static void bad_batch(int line, const uint8_t *in, size_t len, size_t off, const char *what,
                      size_t nok) {
    uint8_t *d = malloc(len ? len : 1);
    memcpy(d, in, len);
    uint16_t node;
    agora_event *evs;
    size_t n, eoff = 12345;
    char err[256] = "";
    int rc = agora_stalwart_decode(d, len, &node, &evs, &n, &eoff, err, sizeof err);
    char want[32];
    snprintf(want, sizeof want, "byte %zu: ", off);
    if (rc != AGORA_EDECODE || eoff != off || strncmp(err, want, strlen(want)) ||
        !strstr(err, what) || n != nok) {
        fprintf(stderr, "line %d: rc %d offset %zu events %zu \"%s\"; expected offset %zu, "
                "%zu events, \"%s\"\n", line, rc, eoff, n, err, off, nok, what);
        failures++;
    }
    agora_events_free(evs, n);
    free(d);
}
#define BAD(off, what, nok, ...) bad_batch(__LINE__, B(__VA_ARGS__), off, what, nok)

static void stalwart_decode_errors(void) {
    /* batch framing and LEB128 forms */
    bad_batch(__LINE__, (const uint8_t *)"", 0, 0, "empty input", 0);
    BAD(0, "node id: truncated LEB128", 0, 0x80);
    BAD(0, "node id: LEB128 value does not fit in 16 bits", 0, 0x80, 0x80, 0x04);
    BAD(0, "node id: LEB128 is not in its shortest form", 0, 0x81, 0x00);
    BAD(1, "unknown event tag 13", 0, 0x01, 0x0d);
    BAD(1, "unknown event tag 255", 0, 0x01, 0xff, 0x00);
    /* truncated and over-width fields, each width */
    BAD(2, "StateChange changeId: truncated LEB128", 0, 0x01, 0x00, 0x80);
    BAD(2, "StateChange changeId: missing", 0, 0x01, 0x00);
    BAD(3, "StateChange types: missing", 0, 0x01, 0x00, 0x05);
    BAD(4, "StateChange accountId: LEB128 value does not fit in 32 bits", 0, 0x01, 0x00, 0x00,
        0x00, 0x80, 0x80, 0x80, 0x80, 0x10);
    BAD(2, "StateChange changeId: LEB128 value does not fit in 64 bits", 0, 0x01, 0x00, 0xff,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00);
    BAD(2, "does not fit in 64 bits", 0, 0x01, 0x00, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
        0x80, 0x80, 0x80, 0x00);
    BAD(2, "not in its shortest form", 0, 0x01, 0x00, 0x85, 0x00, 0x00, 0x00);
    /* a data type of a later Stalwart (bit 23) is accepted; the bad event after it is
     * still refused, and the good one kept */
    BAD(9, "StateChange changeId: LEB128 is not in its shortest form", 1, 0x01, 0x00, 0x00,
        0x80, 0x80, 0x80, 0x04, 0x00, 0x00, 0x85, 0x00, 0x00, 0x00);
    /* strings: length past the end (also a huge one: nothing may be allocated for it),
     * invalid UTF-8 of every kind, NUL */
    BAD(5, "CalendarAlert uid: string of 5 bytes runs past the end", 0, 0x01, 0x01, 0, 0, 0,
        0x05, 'a');
    BAD(5, "CalendarAlert uid: string of 9223372036854775807 bytes", 0, 0x01, 0x01, 0, 0, 0,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 'a');
    BAD(6, "CalendarAlert uid: invalid UTF-8", 0, 0x01, 0x01, 0, 0, 0, 0x02, 0xc3, 0x28, 0x00);
    BAD(6, "invalid UTF-8", 0, 0x01, 0x01, 0, 0, 0, 0x02, 0xc0, 0x80, 0x00);       /* overlong */
    BAD(7, "invalid UTF-8", 0, 0x01, 0x01, 0, 0, 0, 0x04, 'x', 0xed, 0xa0, 0x80, 0x00); /* surrogate */
    BAD(6, "invalid UTF-8", 0, 0x01, 0x01, 0, 0, 0, 0x04, 0xf4, 0x90, 0x80, 0x80, 0x00); /* > U+10FFFF */
    BAD(6, "invalid UTF-8", 0, 0x01, 0x01, 0, 0, 0, 0x02, 0xe2, 0x82, 0x00);       /* cut sequence */
    /* a NUL is accepted (Stalwart writes it), invalid UTF-8 beside it is not */
    BAD(7, "CalendarAlert uid: invalid UTF-8", 0, 0x01, 0x01, 0, 0, 0, 0x02, 0x00, 0xc3, 0x00);
    BAD(7, "CalendarAlert alertId: missing", 0, 0x01, 0x01, 0, 0, 0, 0x01, 'u');
    /* cache items */
    BAD(2, "CacheInvalidate count: 4294967295 items cannot fit", 0, 0x01, 0x07, 0xff, 0xff,
        0xff, 0xff, 0x0f, 0x00, 0x00);
    BAD(3, "CacheInvalidate item 0: unknown cache marker 12", 0, 0x01, 0x07, 0x01, 0x0c, 0x00);
    BAD(4, "DomainNegative must have id 0", 0, 0x01, 0x07, 0x01, 0x0b, 0x05);
    BAD(5, "CacheInvalidate item 0 localPartHash: missing", 0, 0x01, 0x07, 0x01, 0x0a, 0x03);
    BAD(7, "CacheInvalidate item 1 marker: missing", 0, 0x01, 0x07, 0x02, 0x0a, 0x03, 0x80, 0x01);
    BAD(7, "CacheInvalidate item 1 id: missing", 0, 0x01, 0x07, 0x02, 0x0a, 0x03, 0x04, 0x00);
    /* object types */
    BAD(2, "RegistryInsert object: unknown object type id 117", 0, 0x01, 0x04, 0x75, 0x01);
    BAD(2, "RegistryDelete object: unknown object type id 65535", 0, 0x01, 0x05, 0xff, 0xff, 0x03, 0x01);
    BAD(2, "RegistryReload object: LEB128 value does not fit in 16 bits", 0, 0x01, 0x06, 0x80,
        0x80, 0x04);
    BAD(3, "RegistryInsert id: missing", 0, 0x01, 0x04, 0x74);
    /* the events before a fault are returned */
    BAD(3, "unknown event tag 13", 2, 0x01, 0x08, 0x0c, 0x0d, 0x08);
    BAD(5, "EmailPush changeId: missing", 1, 0x07, 0x0b, 0x02, 0x01, 0x02);

    /* the single-event decoder reports absolute offsets and leaves *pos alone */
    const uint8_t d[] = {0x09, 0x09, 0x03, 0x80};
    size_t pos = 1, off = 0;
    agora_event ev;
    char err[128];
    CHECKF(ag_stalwart_get_event(d, sizeof d, &pos, &ev, &off, err, sizeof err) == AGORA_OK &&
              pos == 2 && ev.type == AGORA_EV_CACHE_INVALIDATE_NEGATIVE, "get_event ok");
    pos = 2;
    CHECKF(ag_stalwart_get_event(d, sizeof d, &pos, &ev, &off, err, sizeof err) == AGORA_EDECODE &&
              pos == 2 && off == 3 && !strncmp(err, "byte 3: ", 8), "get_event: %s", err);
}

static void bad_native(int line, const uint8_t *in, size_t len, size_t off, const char *what) {
    uint8_t *d = malloc(len);
    memcpy(d, in, len);
    size_t pos = 0;
    agora_event ev;
    bool known = true;
    char err[256] = "";
    int rc = ag_native_get_event(d, len, &pos, &ev, &known, err, sizeof err);
    char want[32];
    snprintf(want, sizeof want, "byte %zu: ", off);
    if (rc != AGORA_EDECODE || pos != 0 || strncmp(err, want, strlen(want)) || !strstr(err, what)) {
        fprintf(stderr, "line %d: rc %d pos %zu \"%s\"; expected byte %zu, \"%s\"\n", line, rc,
                pos, err, off, what);
        failures++;
        if (rc == AGORA_OK && known) agora_event_clear(&ev);
    }
    free(d);
}
#define NBAD(off, what, ...) bad_native(__LINE__, B(__VA_ARGS__), off, what)

static void native_decode_errors(void) {
    NBAD(0, "event tag: truncated", 0x80);
    NBAD(1, "event length: missing", 0x20);
    NBAD(1, "event length: 16 bytes run past the end", 0x20, 0x10, 0x04);
    NBAD(2, "BlockIp: address family 5 is neither 4 nor 6", 0x20, 0x08, 5, 32, 1, 2, 3, 4, 0, 0);
    NBAD(3, "UnblockIp: prefix length 33 is too long for IPv4", 0x21, 0x08, 4, 33, 1, 2, 3, 4, 0, 0);
    NBAD(3, "prefix length 129 is too long for IPv6", 0x20, 0x14, 6, 129, 0, 0, 0, 0, 0, 0, 0,
         0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    NBAD(7, "BlockIp: address has bits set past the /24 prefix", 0x20, 0x08, 4, 24, 1, 2, 3, 4, 0, 0);
    NBAD(10, "1 trailing bytes inside the BlockIp event", 0x20, 0x09, 4, 32, 1, 2, 3, 4, 0, 0, 0xaa);
    /* a body shorter than its fields: reading stops at the body's end even though more
     * bytes follow in the message */
    NBAD(4, "BlockIp address: 4 bytes needed, only 1 left", 0x20, 0x03, 4, 32, 1, 2, 3, 4, 0, 0);
    NBAD(10, "BlockIp reason: invalid UTF-8", 0x20, 0x0a, 4, 32, 1, 2, 3, 4, 0, 0x02, 0xff, 0xfe);
    NBAD(2, "CertificateUpdate domain count: 4294967295 domains cannot fit", 0x22, 0x05, 0xff,
         0xff, 0xff, 0xff, 0x0f);
    NBAD(4, "CertificateUpdate sha256: 32 bytes needed, only 3 left", 0x22, 0x05, 0x00, 0x00, 1, 2, 3);
    NBAD(3, "Custom data: 9223372036854775807 bytes run past the end", 0x23, 0x0b, 0x00, 0xff,
         0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00);
    NBAD(3, "1 trailing bytes inside the PushServerUpdate event", 0x03, 0x02, 0x05, 0x00);
    NBAD(2, "RegistryReload object: unknown object type id 117", 0x06, 0x01, 0x75, 0x00);

    /* an unknown tag is skipped whole, the event untouched */
    const uint8_t d[] = {0x99, 0x01, 0x02, 0xaa, 0xbb, 0x0c, 0x00};
    size_t pos = 0;
    agora_event ev;
    memset(&ev, 0x5a, sizeof ev);
    bool known = true;
    char err[128];
    CHECKF(ag_native_get_event(d, sizeof d, &pos, &ev, &known, err, sizeof err) == AGORA_OK &&
              !known && pos == 5 && ev.node == 0x5a5a, "skip unknown tag");
    CHECKF(ag_native_get_event(d, sizeof d, &pos, &ev, &known, err, sizeof err) == AGORA_OK &&
              known && pos == 7 && ev.type == AGORA_EV_QUEUE_REFRESH, "event after the skipped one");
}

static void stalwart_encode_errors(void) {
    char err[256];
    uint8_t *out = (uint8_t *)1;
    size_t len = 7;
    agora_event evs[AGORA_STALWART_MAX_EVENTS + 1];
    memset(evs, 0, sizeof evs);
    for (size_t i = 0; i <= AGORA_STALWART_MAX_EVENTS; i++) evs[i].type = AGORA_EV_QUEUE_REFRESH;
    CHECKF(agora_stalwart_encode(1, evs, 101, &out, &len, err, sizeof err) == AGORA_EINVAL &&
              out == NULL && len == 0, "101 events: %s", err);
    CHECKF(agora_stalwart_encode(1, evs, 100, &out, &len, err, sizeof err) == AGORA_OK &&
              len == 101, "100 events");
    free(out);

    agora_event ev = {.type = AGORA_EV_BLOCK_IP};
    CHECKF(agora_stalwart_encode(1, &ev, 1, &out, &len, err, sizeof err) == AGORA_EUNSUPPORTED &&
              !strcmp(err, "BlockIp cannot be sent with the stalwart codec: Stalwart does not "
                           "know this event"), "BlockIp: %s", err);
    const agora_event_type local[] = {AGORA_EV_UNBLOCK_IP, AGORA_EV_CERTIFICATE_UPDATE,
                                      AGORA_EV_CUSTOM, AGORA_EV_GAP, AGORA_EV_MEMBER_JOINED,
                                      AGORA_EV_MEMBER_LEFT, AGORA_EV_MEMBER_FAILED};
    for (size_t i = 0; i < sizeof local / sizeof *local; i++) {
        agora_event e = {.type = local[i]};
        CHECKF(agora_stalwart_encode(1, &e, 1, &out, &len, err, sizeof err) == AGORA_EUNSUPPORTED &&
                  strstr(err, agora_event_type_name(local[i])), "%s", err);
        CHECKF(!agora_event_type_is_stalwart(local[i]), "is_stalwart");
    }
    ev = (agora_event){.type = AGORA_EV_REGISTRY_RELOAD};
    ev.u.registry.object = AGORA_OBJ_COUNT;
    CHECKF(agora_stalwart_encode(1, &ev, 1, &out, &len, err, sizeof err) == AGORA_EINVAL &&
              strstr(err, "unknown object type id 117"), "object 117: %s", err);
    ev = (agora_event){.type = AGORA_EV_STATE_CHANGE};
    ev.u.state_change.types = UINT64_C(1) << 23; /* a later Stalwart's data type goes out */
    CHECKF(agora_stalwart_encode(1, &ev, 1, &out, &len, err, sizeof err) == AGORA_OK &&
               len == 8 && !memcmp(out, "\x01\x00\x00\x80\x80\x80\x04\x00", 8),
           "bit 23: %s", err);
    free(out);
    out = NULL;
    agora_cache_item it = {.kind = 12};
    ev = (agora_event){.type = AGORA_EV_CACHE_INVALIDATE};
    ev.u.cache_invalidate.count = 1;
    ev.u.cache_invalidate.items = &it;
    CHECKF(agora_stalwart_encode(1, &ev, 1, &out, &len, err, sizeof err) == AGORA_EINVAL, "kind 12");
    ev = (agora_event){.type = AGORA_EV_CALENDAR_ALERT};
    ev.u.calendar_alert.uid = "\xc3\x28";
    CHECKF(agora_stalwart_encode(1, &ev, 1, &out, &len, err, sizeof err) == AGORA_EINVAL &&
              strstr(err, "uid is not valid UTF-8"), "bad uid: %s", err);

    /* DomainNegative goes out with id 0 whatever the struct holds; recurrenceId -1 is
     * its two's complement; MtaQueueStatus running picks tag 10 */
    agora_cache_item two[2] = {{.kind = AGORA_CACHE_DOMAIN_NEGATIVE, .id = 77},
                               {.kind = AGORA_CACHE_EMAIL_NEGATIVE, .id = 3, .local_part_hash = 4000000000u}};
    agora_event mix[3];
    memset(mix, 0, sizeof mix);
    mix[0].type = AGORA_EV_CACHE_INVALIDATE;
    mix[0].u.cache_invalidate.count = 2;
    mix[0].u.cache_invalidate.items = two;
    mix[1].type = AGORA_EV_CALENDAR_ALERT;
    mix[1].u.calendar_alert.recurrence_id = -1;
    mix[2].type = AGORA_EV_MTA_QUEUE_STATUS;
    mix[2].u.mta_queue_status.running = true;
    const uint8_t want[] = {0x05, 0x07, 0x02, 0x0b, 0x00, 0x0a, 0x03, 0x80, 0xd0, 0xac, 0xf3, 0x0e,
                            0x01, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                            0xff, 0x01, 0x00, 0x00, 0x0a};
    CHECKF(agora_stalwart_encode(5, mix, 3, &out, &len, err, sizeof err) == AGORA_OK &&
              len == sizeof want && !memcmp(out, want, len), "mixed batch bytes");
    agora_event *back;
    size_t n;
    uint16_t node;
    CHECKF(agora_stalwart_decode(out, len, &node, &back, &n, NULL, err, sizeof err) == AGORA_OK &&
              n == 3 && back[1].u.calendar_alert.recurrence_id == -1 &&
              back[0].u.cache_invalidate.items[0].id == 0 && back[2].u.mta_queue_status.running,
              "mixed batch decode");
    char *j = agora_event_to_json(&back[1]);
    CHECKF(j && strstr(j, "\"recurrenceId\":-1,"), "negative recurrenceId: %s", j);
    free(j);
    agora_events_free(back, n);
    free(out);
}

static void native_encode_errors(void) {
    ag_buf b;
    ag_buf_init(&b);
    char err[256];
    agora_event ev = {.type = AGORA_EV_BLOCK_IP};
    ev.u.block_ip.address.family = 4;
    ev.u.block_ip.address.prefix = 33;
    CHECKF(ag_native_put_event(&b, &ev, err, sizeof err) == AGORA_EINVAL && b.len == 0, "prefix 33");
    ev.u.block_ip.address.family = 5;
    ev.u.block_ip.address.prefix = 8;
    CHECKF(ag_native_put_event(&b, &ev, err, sizeof err) == AGORA_EINVAL && b.len == 0, "family 5");
    /* host bits past the prefix are dropped, so the bytes are canonical */
    ev.u.block_ip.address.family = 4;
    ev.u.block_ip.address.prefix = 24;
    memcpy(ev.u.block_ip.address.addr, "\xcb\x00\x71\x07", 4);
    ev.u.block_ip.expires = -1;
    ev.u.block_ip.reason = "spam";
    CHECKF(ag_native_put_event(&b, &ev, err, sizeof err) == AGORA_OK, "block");
    const uint8_t want[] = {0x20, 0x0c, 4, 24, 0xcb, 0x00, 0x71, 0x00, 0x01, 0x04, 's', 'p', 'a', 'm'};
    CHECKF(b.len == sizeof want && !memcmp(b.data, want, sizeof want), "BlockIp bytes");
    ev.u.block_ip.reason = "\xff";
    size_t before = b.len;
    CHECKF(ag_native_put_event(&b, &ev, err, sizeof err) == AGORA_EINVAL && b.len == before,
          "bad reason");
    agora_event m = {.type = AGORA_EV_MEMBER_LEFT};
    CHECKF(ag_native_put_event(&b, &m, err, sizeof err) == AGORA_EUNSUPPORTED && b.len == before,
          "member");
    ag_buf_free(&b);
}

/* The head of a native message is read the same way by the full parser and by
 * ag_wire_peek, and a version this build does not speak is refused by both. */
static void wire_peek(void) {
    ag_buf b;
    ag_buf_init(&b);
    ag_wire_put_events_header(&b, 7, 99, 5, 3);
    ag_wire_peek_info p;
    char err[128];
    CHECK(ag_wire_peek(b.data, b.len, &p, err, sizeof err) == 0 && p.version == AG_WIRE_VERSION &&
          p.kind == AG_WIRE_EVENTS && p.origin == 7 && p.incarnation == 99 && p.seq == 5 &&
          p.count == 3 && p.body == b.len);
    b.data[2] = AG_WIRE_VERSION + 1;
    CHECK(ag_wire_peek(b.data, b.len, &p, err, sizeof err) == -1 &&
          strstr(err, "byte 2: unsupported format version") != NULL);
    CHECK(ag_wire_peek(b.data, b.len, &p, NULL, 0) == -1);
    ag_wire_header *h = malloc(sizeof *h);
    CHECK(h && ag_wire_parse(b.data, b.len, h, err, sizeof err) == -1 &&
          strstr(err, "byte 2: unsupported format version") != NULL);
    ag_buf_reset(&b);
    ag_wire_put_heartbeat(&b, 4, 50, 6, "", NULL, 0);
    CHECK(ag_wire_peek(b.data, b.len, &p, err, sizeof err) == 0 && p.kind == AG_WIRE_HEARTBEAT &&
          p.origin == 4 && p.incarnation == 50 && p.seq == 6 && p.count == 0);
    CHECK(h && ag_wire_parse(b.data, b.len, h, err, sizeof err) == 0 && h->next_seq == 6);
    CHECK(ag_wire_peek(b.data, 5, &p, err, sizeof err) == -1 && strstr(err, "truncated"));
    /* gossip: a failed / left member carries its age after the address; an alive one
     * does not, and an age that is no decimal number reads as 0 */
    ag_wire_member g[3] = {{.node = 1, .incarnation = 9, .state = 0, .address = "10.0.0.1:7911",
                            .age_ms = 77},
                           {.node = 2, .incarnation = 8, .state = 2, .address = "10.0.0.2:7911",
                            .age_ms = 31000},
                           {.node = 3, .incarnation = 7, .state = 3, .address = "", .age_ms = 5}};
    ag_buf_reset(&b);
    ag_wire_put_heartbeat(&b, 4, 50, 6, "10.0.0.4:7911", g, 3);
    CHECK(h && ag_wire_parse(b.data, b.len, h, err, sizeof err) == 0 && h->nmembers == 3);
    if (h && h->nmembers == 3) {
        CHECK(!strcmp(h->members[0].address, "10.0.0.1:7911") && h->members[0].age_ms == 0);
        CHECK(!strcmp(h->members[1].address, "10.0.0.2:7911") && h->members[1].age_ms == 31000);
        CHECK(!strcmp(h->members[2].address, "") && h->members[2].age_ms == 5);
    }
    CHECK(memmem(b.data, b.len, "10.0.0.2:7911;31000", 19) != NULL); /* docs/p2p-protocol.md */
    g[1].age_ms = 0;
    snprintf(g[1].address, sizeof g[1].address, "x;-5");
    ag_buf_reset(&b);
    ag_wire_put_heartbeat(&b, 4, 50, 6, "", &g[1], 1);
    CHECK(h && ag_wire_parse(b.data, b.len, h, err, sizeof err) == 0 && h->nmembers == 1 &&
          !strcmp(h->members[0].address, "x;-5") && h->members[0].age_ms == 0);
    free(h);
    ag_buf_free(&b);
}

int main(void) {
    wire_peek();
    stalwart_decode_errors();
    native_decode_errors();
    stalwart_encode_errors();
    native_encode_errors();
    printf("test_codec_errors: %d failures\n", failures);
    return failures ? 1 : 0;
}
