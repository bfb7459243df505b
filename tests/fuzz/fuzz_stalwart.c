/* fuzz_stalwart.c — the Stalwart batch decoder on arbitrary bytes. Besides memory
 * safety (ASan/UBSan) it checks: an error names an offset inside the input; a batch
 * that decodes re-encodes to the very same bytes (the decoder accepts canonical forms
 * only); every decoded event survives its JSON form unchanged. */
#include "agora.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void json_round_trip(const agora_event *ev) {
    char *j = agora_event_to_json(ev);
    if (!j) abort();
    agora_event back;
    char err[256];
    if (agora_event_from_json(j, strlen(j), &back, err, sizeof err) != AGORA_OK) {
        fprintf(stderr, "from_json(%s): %s\n", j, err);
        abort();
    }
    char *j2 = agora_event_to_json(&back);
    if (!j2 || strcmp(j, j2)) {
        fprintf(stderr, "JSON differs:\n%s\n%s\n", j, j2 ? j2 : "(null)");
        abort();
    }
    free(j2);
    agora_event_clear(&back);
    free(j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint16_t node;
    agora_event *evs;
    size_t n, off = (size_t)-1;
    char err[256];
    int rc = agora_stalwart_decode(data, size, &node, &evs, &n, &off, err, sizeof err);
    if (rc != AGORA_OK) {
        char want[32];
        snprintf(want, sizeof want, "byte %zu: ", off);
        if (rc != AGORA_EDECODE || off > size || strncmp(err, want, strlen(want))) {
            fprintf(stderr, "bad error: rc %d offset %zu \"%s\"\n", rc, off, err);
            abort();
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (evs[i].node != node) abort();
        json_round_trip(&evs[i]);
    }
    if (rc == AGORA_OK && n <= AGORA_STALWART_MAX_EVENTS) {
        uint8_t *out;
        size_t len;
        if (agora_stalwart_encode(node, evs, n, &out, &len, err, sizeof err) != AGORA_OK) {
            fprintf(stderr, "re-encode: %s\n", err);
            abort();
        }
        if (len != size || memcmp(out, data, size)) {
            fprintf(stderr, "re-encoded bytes differ\n");
            abort();
        }
        free(out);
    }
    agora_events_free(evs, n);
    return 0;
}
