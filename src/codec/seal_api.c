/* seal_api.c — agora_batch_seal / agora_batch_open: the sealing primitive on the
 * public API, so that the CLI (agora encode/decode --secret), tests and operators can
 * make and read envelopes by hand exactly as nodes do. */
#include "agora.h"
#include "codec/seal.h"
#include "codec/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void say(char *err, size_t errlen, const char *msg) {
    if (err && errlen) snprintf(err, errlen, "%s", msg);
}

static ag_sealer *make_sealer(const char *const *secrets, size_t n, char *err, size_t errlen) {
    char e[256] = "";
    ag_sealer *s = secrets || n == 0 ? ag_sealer_new(secrets, n, e, sizeof e) : NULL;
    if (!s) say(err, errlen, *e ? e : "secret: no secrets given");
    return s;
}

/* Hand out b's bytes as a malloc'ed buffer. */
static int take(ag_buf *b, uint8_t **out, size_t *out_len) {
    *out = malloc(b->len ? b->len : 1);
    if (!*out) return AGORA_ENOMEM;
    memcpy(*out, b->data, b->len);
    *out_len = b->len;
    return AGORA_OK;
}

int agora_batch_seal(const char *const *secrets, size_t nsecrets, const uint8_t *msg, size_t len,
                     uint8_t **out, size_t *out_len, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    if (!msg || !out || !out_len) {
        say(err, errlen, "no message or no output given");
        return AGORA_EINVAL;
    }
    ag_wire_peek_info p;
    char why[128];
    if (ag_wire_peek(msg, len, &p, why, sizeof why) != 0) {
        if (err && errlen) snprintf(err, errlen, "not an agora message: %s", why);
        return AGORA_EDECODE;
    }
    ag_sealer *s = make_sealer(secrets, nsecrets, err, errlen);
    if (!s) return AGORA_ECONFIG;
    ag_seal_tx *tx = ag_seal_tx_new(s, p.origin, p.incarnation);
    ag_buf b;
    ag_buf_init(&b);
    int rc = tx && ag_seal(tx, msg, len, &b) == 0 ? take(&b, out, out_len) : AGORA_ENOMEM;
    if (rc != AGORA_OK) say(err, errlen, "out of memory");
    ag_buf_free(&b);
    ag_seal_tx_free(tx);
    ag_sealer_free(s);
    return rc;
}

int agora_batch_open(const char *const *secrets, size_t nsecrets, const uint8_t *data, size_t len,
                     uint8_t **out, size_t *out_len, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    if (!data || !out || !out_len) {
        say(err, errlen, "no message or no output given");
        return AGORA_EINVAL;
    }
    ag_sealer *s = make_sealer(secrets, nsecrets, err, errlen);
    if (!s) return AGORA_ECONFIG;
    ag_seal_rx *rx = ag_seal_rx_new(s);
    ag_buf b;
    ag_buf_init(&b);
    ag_seal_info info;
    memset(&info, 0, sizeof info);
    ag_seal_result r = rx ? ag_unseal(rx, data, len, &b, &info) : AG_SEAL_NOMEM;
    if (r == AG_SEAL_OK) r = ag_seal_check_inner(b.data, b.len, &info);
    int rc;
    if (r == AG_SEAL_OK) {
        rc = take(&b, out, out_len);
        if (rc != AGORA_OK) say(err, errlen, "out of memory");
    } else if (r == AG_SEAL_NOMEM) {
        rc = AGORA_ENOMEM;
        say(err, errlen, "out of memory");
    } else {
        rc = AGORA_EAUTH;
        if (err && errlen)
            snprintf(err, errlen, "the message does not open: %s", ag_seal_result_name(r));
    }
    ag_buf_free(&b);
    ag_seal_rx_free(rx);
    ag_sealer_free(s);
    return rc;
}
