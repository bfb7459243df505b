/* codec.h — per-event encoders/decoders shared by the two wire formats.
 *
 * Stalwart format: a batch is node_id:u16 then events, each `tag:byte body`
 * (src/codec/stalwart.c writes and reads each kind's body field by field;
 * tests/vectors/stalwart holds sample batches with their JSON). Only the twelve
 * Stalwart kinds.
 *
 * Native ("agora") format, per event: tag:uvarint len:uvarint body[len]. The body of
 * a Stalwart kind (tags 0..12) is exactly its Stalwart body; agora's kinds use tags
 * 32.. (BlockIp 32, UnblockIp 33, CertificateUpdate 34, Custom 35). The length prefix
 * makes the format extensible: a reader skips tags it does not know. The message
 * framing around events (origin, incarnation, sequence) is src/codec/wire.c.
 */
#ifndef AG_CODEC_H
#define AG_CODEC_H

#include "agora.h"
#include "util/leb128.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

/* agora_event's pointer members are const so that callers can build events from
 * literals; in events the library filled (decoders, copies) they own malloc'ed
 * memory, which this frees. */
static inline void ag_free_owned(const void *p) { free((void *)p); }

/* Bytes an event filled by the library holds: the struct and what it owns (strings,
 * arrays, Custom data), without allocator overhead. What the delivery queue's byte
 * bound counts. */
size_t ag_event_bytes(const agora_event *ev);

/* Append one event in Stalwart form (tag byte + body). AGORA_EUNSUPPORTED for kinds
 * Stalwart cannot read (err names the kind), AGORA_EINVAL for out-of-range values,
 * AGORA_ENOMEM. */
int ag_stalwart_put_event(ag_buf *b, const agora_event *ev, char *err, size_t errlen);

/* Decode one Stalwart event at *pos. AGORA_OK (advances *pos) or AGORA_EDECODE with
 * err "byte N: what" and *err_offset = N (absolute offset within data). */
int ag_stalwart_get_event(const uint8_t *data, size_t len, size_t *pos, agora_event *ev,
                          size_t *err_offset, char *err, size_t errlen);

/* Append one event in native form (tag:uvarint len:uvarint body). Local notices
 * (Gap, Member*) are AGORA_EUNSUPPORTED. */
int ag_native_put_event(ag_buf *b, const agora_event *ev, char *err, size_t errlen);

/* Decode one native event at *pos. AGORA_OK with *known=false means an unknown tag
 * was skipped (ev untouched). AGORA_EDECODE on malformed input (err names the byte). */
int ag_native_get_event(const uint8_t *data, size_t len, size_t *pos, agora_event *ev,
                        bool *known, char *err, size_t errlen);

#endif
