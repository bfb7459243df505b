/* be.h — big-endian (network order) integers in byte buffers, by <endian.h> and
 * memcpy (internal): no alignment assumed, no hand-written shifts. */
#ifndef AG_BE_H
#define AG_BE_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

static inline void ag_put_be16(uint8_t *p, uint16_t v) {
    v = htobe16(v);
    memcpy(p, &v, sizeof v);
}
static inline void ag_put_be32(uint8_t *p, uint32_t v) {
    v = htobe32(v);
    memcpy(p, &v, sizeof v);
}
static inline void ag_put_be64(uint8_t *p, uint64_t v) {
    v = htobe64(v);
    memcpy(p, &v, sizeof v);
}
static inline uint16_t ag_get_be16(const uint8_t *p) {
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return be16toh(v);
}
static inline uint32_t ag_get_be32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return be32toh(v);
}
static inline uint64_t ag_get_be64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return be64toh(v);
}

#endif
