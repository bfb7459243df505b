/* test_codec_batch.c — agora_batch_encode / agora_batch_decode: round trips in both
 * codecs, heartbeat and leave messages, kinds this version does not know, trailing
 * bytes and truncation reported with their byte offset (events before the fault
 * kept), and what each codec refuses to encode. Also agora_parse_duration. */
#include "agora.h"
#include "check.h"
#include "codec/wire.h"
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static agora_event state_change(uint32_t account, uint64_t change) {
    agora_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = AGORA_EV_STATE_CHANGE;
    ev.u.state_change.account_id = account;
    ev.u.state_change.change_id = change;
    ev.u.state_change.types = 1u << AGORA_DT_EMAIL | 1u << AGORA_DT_MAILBOX;
    return ev;
}

static agora_event block_ip(void) {
    agora_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = AGORA_EV_BLOCK_IP;
    agora_ip_prefix_parse("203.0.113.0/24", &ev.u.block_ip.address);
    ev.u.block_ip.expires = 1700000000;
    ev.u.block_ip.reason = "brute force";
    return ev;
}

/* Decode `data` as a fresh heap copy of exactly len bytes (ASan sees overreads). */
static int decode_copy(agora_codec codec, const uint8_t *data, size_t len,
                       agora_batch_header *h, agora_event **evs, size_t *n, size_t *off,
                       char *err, size_t errlen) {
    uint8_t *copy = malloc(len ? len : 1);
    if (len) memcpy(copy, data, len);
    int rc = agora_batch_decode(codec, copy, len, h, evs, n, off, err, errlen);
    free(copy);
    return rc;
}

static void roundtrip(agora_codec codec, const agora_event *in, size_t count) {
    agora_batch_header h = {.kind = AGORA_BATCH_EVENTS, .node = 7, .incarnation = 99,
                            .first_seq = 5};
    uint8_t *msg = NULL;
    size_t len = 0;
    char err[256] = "";
    int rc = agora_batch_encode(codec, &h, in, count, &msg, &len, err, sizeof err);
    CHECKF(rc == AGORA_OK && msg, "codec %d: %s", (int)codec, err);
    if (rc) return;
    agora_batch_header got;
    agora_event *evs;
    size_t n, off = 12345;
    rc = decode_copy(codec, msg, len, &got, &evs, &n, &off, err, sizeof err);
    CHECKF(rc == AGORA_OK && n == count, "codec %d: rc %d n %zu: %s", (int)codec, rc, n, err);
    CHECK(got.kind == AGORA_BATCH_EVENTS && got.node == 7);
    if (codec == AGORA_CODEC_AGORA) CHECK(got.incarnation == 99 && got.first_seq == 5);
    else CHECK(got.incarnation == 0 && got.first_seq == 0);
    for (size_t i = 0; i < n && i < count; i++) {
        CHECK(evs[i].node == 7);
        char *a = agora_event_to_json(&evs[i]);
        agora_event want = in[i];
        want.node = 7;
        char *b = agora_event_to_json(&want);
        CHECKF(a && b && !strcmp(a, b), "event %zu: %s vs %s", i, a, b);
        free(a);
        free(b);
    }
    agora_events_free(evs, n);
    free(msg);
}

static void test_roundtrips(void) {
    agora_event evs[3] = {state_change(42, 7), state_change(43, 8), state_change(1, 1)};
    roundtrip(AGORA_CODEC_STALWART, evs, 3);
    roundtrip(AGORA_CODEC_AGORA, evs, 3);
    roundtrip(AGORA_CODEC_STALWART, NULL, 0); /* an empty batch */
    roundtrip(AGORA_CODEC_AGORA, NULL, 0);
    agora_event mixed[2] = {block_ip(), state_change(2, 3)};
    roundtrip(AGORA_CODEC_AGORA, mixed, 2);

    /* The Stalwart batch is agora_stalwart_encode's, byte for byte. */
    uint8_t *a = NULL, *b = NULL;
    size_t al = 0, bl = 0;
    agora_batch_header h = {.kind = AGORA_BATCH_EVENTS, .node = 300};
    CHECK(agora_batch_encode(AGORA_CODEC_STALWART, &h, evs, 3, &a, &al, NULL, 0) == AGORA_OK);
    CHECK(agora_stalwart_encode(300, evs, 3, &b, &bl, NULL, 0) == AGORA_OK);
    CHECK(a && b && al == bl && !memcmp(a, b, al));
    free(a);
    free(b);
}

static void test_encode_refusals(void) {
    agora_event ip = block_ip(), sc = state_change(1, 1);
    agora_batch_header h = {.kind = AGORA_BATCH_EVENTS, .node = 1, .first_seq = 1};
    uint8_t *out = (uint8_t *)"x";
    size_t len = 1;
    char err[256] = "";
    CHECK(agora_batch_encode(AGORA_CODEC_STALWART, &h, &ip, 1, &out, &len, err, sizeof err) ==
          AGORA_EUNSUPPORTED);
    CHECKF(strstr(err, "BlockIp") != NULL, "%s", err);
    CHECK(out == NULL && len == 0);

    agora_event many[AGORA_STALWART_MAX_EVENTS + 1];
    for (size_t i = 0; i <= AGORA_STALWART_MAX_EVENTS; i++) many[i] = sc;
    CHECK(agora_batch_encode(AGORA_CODEC_STALWART, &h, many, AGORA_STALWART_MAX_EVENTS + 1,
                             &out, &len, err, sizeof err) == AGORA_EINVAL);
    CHECK(agora_batch_encode(AGORA_CODEC_AGORA, &h, many, AGORA_STALWART_MAX_EVENTS + 1, &out,
                             &len, err, sizeof err) == AGORA_OK);
    free(out);

    agora_event gap;
    memset(&gap, 0, sizeof gap);
    gap.type = AGORA_EV_GAP;
    CHECK(agora_batch_encode(AGORA_CODEC_AGORA, &h, &gap, 1, &out, &len, err, sizeof err) ==
          AGORA_EUNSUPPORTED);

    h.first_seq = 0; /* sequences start at 1 */
    CHECK(agora_batch_encode(AGORA_CODEC_AGORA, &h, &sc, 1, &out, &len, err, sizeof err) ==
          AGORA_EINVAL);
    h.first_seq = UINT64_MAX; /* no room for two events */
    CHECK(agora_batch_encode(AGORA_CODEC_AGORA, &h, many, 2, &out, &len, err, sizeof err) ==
          AGORA_EINVAL);
    h.first_seq = 1;
    h.kind = AGORA_BATCH_HEARTBEAT;
    CHECK(agora_batch_encode(AGORA_CODEC_AGORA, &h, &sc, 1, &out, &len, err, sizeof err) ==
          AGORA_EINVAL);
    h.kind = AGORA_BATCH_EVENTS;
    CHECK(agora_batch_encode(AGORA_CODEC_AGORA, NULL, &sc, 1, &out, &len, err, sizeof err) ==
          AGORA_EINVAL);
    CHECK(agora_batch_encode(AGORA_CODEC_AGORA, &h, NULL, 1, &out, &len, err, sizeof err) ==
          AGORA_EINVAL);
    CHECK(agora_batch_encode((agora_codec)9, &h, &sc, 1, &out, &len, err, sizeof err) ==
          AGORA_EINVAL);
}

static void test_heartbeat_and_leave(void) {
    ag_buf b;
    ag_buf_init(&b);
    ag_wire_member m = {.node = 2, .incarnation = 8, .state = 0, .address = "127.0.0.1:7002"};
    ag_wire_put_heartbeat(&b, 3, 77, 12, "127.0.0.1:7003", &m, 1);
    agora_batch_header h;
    agora_event *evs = (agora_event *)&b; /* must be reset */
    size_t n = 5;
    char err[256] = "";
    CHECK(decode_copy(AGORA_CODEC_AGORA, b.data, b.len, &h, &evs, &n, NULL, err, sizeof err) ==
          AGORA_OK);
    CHECK(h.kind == AGORA_BATCH_HEARTBEAT && h.node == 3 && h.incarnation == 77 &&
          h.first_seq == 12);
    CHECK(evs == NULL && n == 0);

    ag_buf_reset(&b);
    ag_wire_put_leave(&b, 4, 78, 30);
    CHECK(decode_copy(AGORA_CODEC_AGORA, b.data, b.len, &h, &evs, &n, NULL, err, sizeof err) ==
          AGORA_OK);
    CHECK(h.kind == AGORA_BATCH_LEAVE && h.node == 4 && h.incarnation == 78 && h.first_seq == 30);
    CHECK(evs == NULL && n == 0);
    ag_buf_free(&b);
}

/* An agora message: the first event, a kind from a newer version, the second event. */
static void test_unknown_kind_skipped(void) {
    agora_event a = state_change(1, 2), c = state_change(3, 4);
    uint8_t *one, *two;
    size_t l1, l2;
    agora_batch_header h = {.kind = AGORA_BATCH_EVENTS, .node = 9, .incarnation = 1,
                            .first_seq = 1};
    CHECK(agora_batch_encode(AGORA_CODEC_AGORA, &h, &a, 1, &one, &l1, NULL, 0) == AGORA_OK);
    CHECK(agora_batch_encode(AGORA_CODEC_AGORA, &h, &c, 1, &two, &l2, NULL, 0) == AGORA_OK);
    /* Each message is its header (8 bytes here: 'A' 'G' version kind, then origin,
     * incarnation, first_seq and count of one byte each) + one event. */
    const size_t head = 8;
    ag_buf b;
    ag_buf_init(&b);
    ag_wire_put_events_header(&b, 9, 1, 1, 3);
    CHECK(b.len == head);
    ag_buf_put(&b, one + head, l1 - head);
    const uint8_t unknown[] = {0x63, 0x02, 0xAA, 0xBB}; /* tag 99, 2 body bytes */
    ag_buf_put(&b, unknown, sizeof unknown);
    ag_buf_put(&b, two + head, l2 - head);
    agora_event *evs;
    size_t n;
    char err[256] = "";
    CHECKF(decode_copy(AGORA_CODEC_AGORA, b.data, b.len, &h, &evs, &n, NULL, err, sizeof err) ==
               AGORA_OK, "%s", err);
    CHECK(n == 2 && evs && evs[0].u.state_change.account_id == 1 &&
          evs[1].u.state_change.account_id == 3 && evs[1].node == 9);
    agora_events_free(evs, n);

    /* Stalwart batches carry no lengths: an unknown tag is an error at its byte. */
    const uint8_t st[] = {0x01, 0x0d};
    size_t off = 0;
    CHECK(decode_copy(AGORA_CODEC_STALWART, st, sizeof st, &h, &evs, &n, &off, err,
                      sizeof err) == AGORA_EDECODE);
    CHECK(off == 1 && strstr(err, "unknown event tag 13") && h.node == 1);
    ag_buf_free(&b);
    free(one);
    free(two);
}

static void test_errors(void) {
    agora_event evs_in[2] = {state_change(1, 2), state_change(3, 4)};
    agora_batch_header h = {.kind = AGORA_BATCH_EVENTS, .node = 9, .incarnation = 1,
                            .first_seq = 1};
    for (int c = 0; c < 2; c++) {
        agora_codec codec = c ? AGORA_CODEC_AGORA : AGORA_CODEC_STALWART;
        uint8_t *msg;
        size_t len;
        CHECK(agora_batch_encode(codec, &h, evs_in, 2, &msg, &len, NULL, 0) == AGORA_OK);
        /* Trailing bytes: the agora codec reports them (after the counted events);
         * for Stalwart they are one more event, of an unknown tag. */
        uint8_t *longer = malloc(len + 2);
        memcpy(longer, msg, len);
        longer[len] = 0xFF;
        longer[len + 1] = 0x00;
        agora_batch_header got;
        agora_event *evs;
        size_t n, off = 0;
        char err[256] = "";
        int rc = decode_copy(codec, longer, len + 2, &got, &evs, &n, &off, err, sizeof err);
        CHECKF(rc == AGORA_EDECODE && off == len && n == 2, "codec %d rc %d off %zu n %zu: %s",
               c, rc, off, n, err);
        char want[32];
        snprintf(want, sizeof want, "byte %zu: ", len);
        CHECKF(!strncmp(err, want, strlen(want)), "%s", err);
        if (codec == AGORA_CODEC_AGORA) CHECKF(strstr(err, "2 unexpected bytes"), "%s", err);
        agora_events_free(evs, n);
        free(longer);

        /* Truncated in the second event: the first is still returned. */
        rc = decode_copy(codec, msg, len - 1, &got, &evs, &n, &off, err, sizeof err);
        CHECKF(rc == AGORA_EDECODE && n == 1 && off <= len - 1 && off > 0,
               "codec %d rc %d off %zu n %zu: %s", c, rc, off, n, err);
        snprintf(want, sizeof want, "byte %zu: ", off);
        CHECKF(!strncmp(err, want, strlen(want)), "%s", err);
        agora_events_free(evs, n);

        /* Truncated in the header. */
        rc = decode_copy(codec, msg, codec == AGORA_CODEC_AGORA ? 3 : 0, &got, &evs, &n, &off,
                         err, sizeof err);
        CHECKF(rc == AGORA_EDECODE && n == 0 && evs == NULL && off == 0, "codec %d: %s", c, err);
        free(msg);
    }
    /* agora header faults carry their offset too */
    const uint8_t bad_version[] = {'A', 'G', 9, 1, 0, 0};
    agora_batch_header got;
    agora_event *evs;
    size_t n, off = 0;
    char err[256] = "";
    CHECK(decode_copy(AGORA_CODEC_AGORA, bad_version, sizeof bad_version, &got, &evs, &n, &off,
                      err, sizeof err) == AGORA_EDECODE);
    CHECKF(off == 2 && strstr(err, "version"), "%zu %s", off, err);
    const uint8_t cut_origin[] = {'A', 'G', 1, 1, 0x80};
    CHECK(decode_copy(AGORA_CODEC_AGORA, cut_origin, sizeof cut_origin, &got, &evs, &n, &off,
                      err, sizeof err) == AGORA_EDECODE);
    CHECKF(off == 4 && strstr(err, "origin"), "%zu %s", off, err);
    CHECK(agora_batch_decode(AGORA_CODEC_AGORA, NULL, 3, &got, &evs, &n, &off, err,
                             sizeof err) == AGORA_EINVAL);
    CHECK(agora_batch_decode((agora_codec)9, bad_version, 6, &got, &evs, &n, &off, err,
                             sizeof err) == AGORA_EINVAL);
}

static void test_parse_duration(void) {
    static const struct {
        const char *text;
        uint64_t ms;
    } good[] = {{"0", 0},     {"1", 1},       {"250", 250},   {"0ms", 0},
                {"250ms", 250}, {"5s", 5000}, {"1m", 60000}, {"1h", 3600000},
                {"1d", 86400000}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        uint64_t ms = 777;
        CHECKF(agora_parse_duration(good[i].text, &ms) == AGORA_OK && ms == good[i].ms, "%s",
               good[i].text);
    }
    static const char *const bad[] = {"", "s", "-1", "5 s", " 5", "5sec", "1.5s", "1m30s",
                                      "99999999999999999999", NULL};
    for (const char *const *b = bad; *b; b++) {
        uint64_t ms = 777;
        CHECKF(agora_parse_duration(*b, &ms) == AGORA_EINVAL && ms == 777, "\"%s\"", *b);
    }
    CHECK(agora_parse_duration(NULL, NULL) == AGORA_EINVAL);
}

int main(void) {
    test_roundtrips();
    test_encode_refusals();
    test_heartbeat_and_leave();
    test_unknown_kind_skipped();
    test_errors();
    test_parse_duration();
    if (failures) fprintf(stderr, "%d failures\n", failures);
    return failures ? 1 : 0;
}
