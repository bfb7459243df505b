/* fuzz_event_json.c — agora_event_from_json on arbitrary text. Checks: an accepted
 * event prints as JSON that reads back to the same text (a fixed point), and every
 * accepted event that may go on the wire survives the native codec, and the Stalwart
 * codec when it is one of Stalwart's kinds. */
#include "agora.h"
#include "codec/codec.h"
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *reprint(const char *j) {
    agora_event ev;
    char err[256];
    if (agora_event_from_json(j, strlen(j), &ev, err, sizeof err) != AGORA_OK) {
        fprintf(stderr, "cannot read back %s: %s\n", j, err);
        abort();
    }
    char *out = agora_event_to_json(&ev);
    agora_event_clear(&ev);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    agora_event ev;
    char err[256];
    if (agora_event_from_json((const char *)data, size, &ev, err, sizeof err) != AGORA_OK) {
        if (!err[0]) abort(); /* every refusal says why */
        return 0;
    }
    char *j = agora_event_to_json(&ev);
    if (!j) abort();
    char *j2 = reprint(j);
    if (!j2 || strcmp(j, j2)) {
        fprintf(stderr, "not a fixed point:\n%s\n%s\n", j, j2 ? j2 : "(null)");
        abort();
    }
    free(j2);

    ev.node = 0; /* the native event does not carry it */
    char *j0 = agora_event_to_json(&ev);
    ag_buf b;
    ag_buf_init(&b);
    int rc = ag_native_put_event(&b, &ev, err, sizeof err);
    bool local = ev.type >= AGORA_EV_GAP;
    if (local != (rc == AGORA_EUNSUPPORTED) || (!local && rc != AGORA_OK)) {
        fprintf(stderr, "native put %s: rc %d %s\n", j, rc, err);
        abort();
    }
    if (rc == AGORA_OK) {
        size_t pos = 0;
        agora_event back;
        bool known;
        if (ag_native_get_event(b.data, b.len, &pos, &back, &known, err, sizeof err) != AGORA_OK ||
            !known || pos != b.len) {
            fprintf(stderr, "native get %s: %s\n", j, err);
            abort();
        }
        char *j3 = agora_event_to_json(&back);
        if (!j3 || strcmp(j0, j3)) {
            fprintf(stderr, "native differs:\n%s\n%s\n", j0, j3 ? j3 : "(null)");
            abort();
        }
        free(j3);
        agora_event_clear(&back);
    }
    ag_buf_free(&b);

    if (agora_event_type_is_stalwart(ev.type)) {
        uint8_t *out;
        size_t len, n;
        agora_event *evs;
        uint16_t node;
        if (agora_stalwart_encode(0, &ev, 1, &out, &len, err, sizeof err) != AGORA_OK ||
            agora_stalwart_decode(out, len, &node, &evs, &n, NULL, err, sizeof err) != AGORA_OK ||
            n != 1) {
            fprintf(stderr, "stalwart %s: %s\n", j, err);
            abort();
        }
        char *j4 = agora_event_to_json(&evs[0]);
        if (!j4 || strcmp(j0, j4)) {
            fprintf(stderr, "stalwart differs:\n%s\n%s\n", j0, j4 ? j4 : "(null)");
            abort();
        }
        free(j4);
        agora_events_free(evs, n);
        free(out);
    }
    free(j0);
    free(j);
    agora_event_clear(&ev);
    return 0;
}
