/* fuzz_unseal.c — libFuzzer target for opening sealed envelopes (codec/seal.c).
 *
 * The input is opened as a received payload by a receiver that has already opened a
 * few messages (so the stale, replay and new-incarnation paths are live): whatever it
 * is, it must not crash and must leave the plaintext buffer as it was unless it
 * opened. (The kept corpus holds envelopes sealed with SECRETS: tests/fuzz/
 * corpus/fuzz_unseal.) A random input cannot forge a tag, so the input is also sealed
 * and opened on a fresh receiver (must round-trip) and, with one byte flipped where
 * the input says, must not open. */
#include "codec/seal.h"

#include <stdlib.h>
#include <string.h>

static const char *const SECRETS[] = {"fuzzing secret 0123456789", "older fuzzing secret 0123"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    static ag_sealer *s;
    if (!s && !(s = ag_sealer_new(SECRETS, 2, (char[64]){0}, 64))) abort();
    ag_seal_rx *rx = ag_seal_rx_new(s);
    ag_seal_tx *tx = ag_seal_tx_new(s, 1, 1000);
    ag_seal_tx *old = ag_seal_tx_new(s, 1, 999);
    if (!rx || !tx || !old) abort();
    ag_buf env, plain;
    ag_buf_init(&env);
    ag_buf_init(&plain);
    ag_seal_info info;

    for (int i = 0; i < 3; i++) { /* some history: origin 1, incarnation 1000, 1..3 */
        ag_buf_reset(&env);
        if (ag_seal(tx, (const uint8_t *)"x", 1, &env) ||
            ag_unseal(rx, env.data, env.len, &plain, &info) != AG_SEAL_OK)
            abort();
    }
    size_t before = plain.len;
    ag_seal_result r = ag_unseal(rx, data, len, &plain, &info);
    if (r != AG_SEAL_OK && plain.len != before) abort();
    if (r == AG_SEAL_OK) ag_seal_check_inner(plain.data + before, plain.len - before, &info);

    /* round trip of the input (on a receiver the input cannot have moved), then a
     * flipped byte must be refused */
    ag_seal_rx_free(rx);
    if (!(rx = ag_seal_rx_new(s))) abort();
    ag_buf_reset(&env);
    ag_buf_reset(&plain);
    if (ag_seal(tx, data, len, &env)) abort();
    if (ag_unseal(rx, env.data, env.len, &plain, &info) != AG_SEAL_OK || plain.len != len ||
        (len && memcmp(plain.data, data, len)))
        abort();
    ag_buf_reset(&env);
    if (ag_seal(tx, data, len, &env)) abort();
    size_t at = (len ? data[0] | (size_t)data[len - 1] << 8 : 0) % env.len;
    env.data[at] ^= (uint8_t)(len ? data[len / 2] | 1 : 1);
    ag_buf_reset(&plain);
    if (ag_unseal(rx, env.data, env.len, &plain, &info) == AG_SEAL_OK) abort();
    /* an older incarnation of the same origin is stale from now on */
    ag_buf_reset(&env);
    if (ag_seal(old, data, len, &env) ||
        ag_unseal(rx, env.data, env.len, &plain, &info) != AG_SEAL_STALE)
        abort();

    ag_buf_free(&env);
    ag_buf_free(&plain);
    ag_seal_tx_free(tx);
    ag_seal_tx_free(old);
    ag_seal_rx_free(rx);
    return 0;
}
