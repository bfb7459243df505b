/* fuzz_native.c — the native per-event decoder (ag_native_get_event) on a stream of
 * arbitrary bytes. Checks: it never reads past the input; an error leaves *pos alone
 * and names a byte inside the input; a decoded event re-encodes to exactly the bytes
 * it came from (the format has one canonical form) and survives its JSON form. */
#include "agora.h"
#include "codec/codec.h"
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t pos = 0;
    char err[256];
    ag_buf b;
    ag_buf_init(&b);
    while (pos < size) {
        size_t start = pos;
        agora_event ev;
        bool known;
        int rc = ag_native_get_event(data, size, &pos, &ev, &known, err, sizeof err);
        if (rc != AGORA_OK) {
            unsigned long long at;
            if (rc != AGORA_EDECODE || pos != start || sscanf(err, "byte %llu: ", &at) != 1 ||
                at > size) {
                fprintf(stderr, "bad error: rc %d pos %zu/%zu \"%s\"\n", rc, pos, start, err);
                abort();
            }
            break;
        }
        if (pos <= start || pos > size) abort();
        if (!known) continue;
        ag_buf_reset(&b);
        if (ag_native_put_event(&b, &ev, err, sizeof err) != AGORA_OK) {
            fprintf(stderr, "re-encode %s: %s\n", agora_event_type_name(ev.type), err);
            abort();
        }
        if (b.len != pos - start || memcmp(b.data, data + start, b.len)) {
            fprintf(stderr, "re-encoded %s differs\n", agora_event_type_name(ev.type));
            abort();
        }
        char *j = agora_event_to_json(&ev);
        agora_event back;
        if (!j || agora_event_from_json(j, strlen(j), &back, err, sizeof err) != AGORA_OK) {
            fprintf(stderr, "JSON %s: %s\n", j ? j : "(null)", err);
            abort();
        }
        char *j2 = agora_event_to_json(&back);
        if (!j2 || strcmp(j, j2)) abort();
        free(j);
        free(j2);
        agora_event_clear(&back);
        agora_event_clear(&ev);
    }
    ag_buf_free(&b);
    return 0;
}
