/* fuzz_wire.c — libFuzzer target for agora's native message framing (codec/wire.c)
 * followed by the events inside, exactly as the receive path reads them. */
#include "codec/codec.h"
#include "codec/wire.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    static ag_wire_header h;
    char err[200];
    if (ag_wire_parse(data, len, &h, err, sizeof err) != 0) return 0;
    if (h.kind != AG_WIRE_EVENTS) return 0;
    size_t pos = h.events_offset;
    for (uint64_t i = 0; i < h.count; i++) {
        agora_event ev;
        bool known;
        memset(&ev, 0, sizeof ev);
        if (ag_native_get_event(data, len, &pos, &ev, &known, err, sizeof err) != AGORA_OK) break;
        if (pos > len) abort(); /* a decoder must never move past the input */
        char *json = agora_event_to_json(&ev);
        free(json);
        agora_event_clear(&ev);
    }
    return 0;
}
