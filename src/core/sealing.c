/* sealing.c — the core's side of sealed messages (docs/sealing.md): one sending state
 * per coordinator (its node id and incarnation) and one receiving state, made from
 * the configuration's "secret" list. The outbox seals every message it hands to the
 * backend; the inbox opens every payload before anything else reads it; a backend
 * that sends or reads payloads of its own (NATS gap repair) goes through host->seal
 * and host->open. Both states are used from the I/O thread and, through those host
 * calls, from a client library's threads: each has its own mutex (uncontended in the
 * common case: one lock per message).
 *
 * A payload that does not open is dropped before any agora state sees it, counted
 * (agora_status.rejected; replays in .replayed instead, since a broker that delivers
 * a message twice — Redis resending to a subscriber that missed it, Kafka after a
 * rebalance — makes them legitimately) and logged at most once per 10 s per cause. */
#include "core/coord.h"

#include "util/be.h"

#include <stdio.h>
#include <string.h>

void ag_sealing_init(struct agora *a) {
    pthread_mutex_init(&a->seal_mu, NULL);
    pthread_mutex_init(&a->open_mu, NULL);
    ag_buf_init(&a->rx_plain);
}

int ag_sealing_start(struct agora *a, char *err, size_t errlen) {
    const ag_strlist *l = &a->cfg->seal_secrets;
    if (l->count == 0) return AGORA_OK;
    a->sealer = ag_sealer_new((const char *const *)l->items, l->count, err, errlen);
    if (!a->sealer) return AGORA_ECONFIG;
    a->seal_tx = ag_seal_tx_new(a->sealer, a->node_id, a->incarnation);
    a->seal_rx = ag_seal_rx_new(a->sealer);
    if (!a->seal_tx || !a->seal_rx) {
        snprintf(err, errlen, "secret: cannot make the sealing state (out of memory)");
        return AGORA_ENOMEM;
    }
    return AGORA_OK;
}

void ag_sealing_free(struct agora *a) {
    ag_seal_tx_free(a->seal_tx);
    ag_seal_rx_free(a->seal_rx);
    ag_sealer_free(a->sealer);
    a->seal_tx = NULL;
    a->seal_rx = NULL;
    a->sealer = NULL;
    ag_buf_free(&a->rx_plain);
    pthread_mutex_destroy(&a->seal_mu);
    pthread_mutex_destroy(&a->open_mu);
}

static int seal_locked(struct agora *a, const uint8_t *msg, size_t len, ag_buf *out) {
    pthread_mutex_lock(&a->seal_mu);
    int rc = ag_seal(a->seal_tx, msg, len, out);
    pthread_mutex_unlock(&a->seal_mu);
    return rc;
}

int ag_sealing_seal_msg(struct agora *a, ag_outmsg *m) {
    ag_buf sealed;
    ag_buf_init(&sealed);
    if (seal_locked(a, m->buf.data, m->buf.len, &sealed) != 0) {
        ag_buf_free(&sealed);
        return -1;
    }
    ag_buf_free(&m->plain);
    m->plain = m->buf;
    m->buf = sealed;
    m->m.data = m->buf.data;
    m->m.len = m->buf.len;
    m->m.plain = m->plain.data;
    m->m.plain_len = m->plain.len;
    return 0;
}

int ag_sealing_seal(ag_host *h, const uint8_t *msg, size_t len, ag_buf *out) {
    struct agora *a = h->core;
    if (!a->sealer) {
        ag_buf_put(out, msg, len);
        return out->oom ? -1 : 0;
    }
    return seal_locked(a, msg, len, out);
}

/* Count a refusal and log it unless this cause was logged less than 10 s ago
 * (open_mu held). The origin is only what the envelope claims. */
static void reject(struct agora *a, ag_seal_result cause, const ag_seal_info *info) {
    uint64_t suppressed = 0;
    bool log = ag_seal_reject(&a->rejects, cause, ag_now_ms(), &suppressed);
    /* a replay is what a broker's own resend looks like too: counted apart */
    atomic_fetch_add(cause == AG_SEAL_REPLAYED ? &a->replayed : &a->rejected, 1);
    if (!log) return;
    char more[64];
    ag_ratelimit_note(more, sizeof more, suppressed);
    /* a broker's redelivery is a replay too: worth a note, not an alarm */
    char claim[48] = ""; /* what the header says, when there was one to read */
    if (cause != AG_SEAL_NOT_SEALED && cause != AG_SEAL_MALFORMED)
        snprintf(claim, sizeof claim, "; it claims node %u", info->origin);
    ag_log(a, cause == AG_SEAL_REPLAYED ? AGORA_LOG_INFO : AGORA_LOG_WARN,
           "dropped a message that did not open (%s%s)%s", ag_seal_result_name(cause), claim,
           more);
}

/* The envelope's origin and incarnation without opening it: our own echo is skipped
 * before any decryption. */
static bool own_echo(const struct agora *a, const uint8_t *d, size_t len) {
    return len >= AG_SEAL_HEADER && ag_seal_is_sealed(d, len) && ag_get_be16(d + 8) == a->node_id &&
           ag_get_be64(d + 10) == a->incarnation;
}

int ag_sealing_open_any(struct agora *a, const uint8_t *data, size_t len, ag_buf *plain,
                        ag_opened *out, bool any_shape) {
    memset(out, 0, sizeof *out);
    if (!a->sealer) {
        out->data = data;
        out->len = len;
        out->agora = true;
        return AGORA_OK;
    }
    if (own_echo(a, data, len)) return AGORA_EAUTH;
    ag_seal_info info;
    memset(&info, 0, sizeof info);
    size_t start = plain->len;
    pthread_mutex_lock(&a->open_mu);
    ag_seal_result r = ag_unseal(a->seal_rx, data, len, plain, &info);
    if (r == AG_SEAL_NOMEM) {
        /* our failure, not the sender's: not a rejection */
        pthread_mutex_unlock(&a->open_mu);
        ag_log(a, AGORA_LOG_ERROR, "cannot open a sealed message: out of memory");
        return AGORA_EAUTH;
    }
    if (r != AG_SEAL_OK) {
        reject(a, r, &info);
        pthread_mutex_unlock(&a->open_mu);
        return AGORA_EAUTH;
    }
    ag_seal_result inner = ag_seal_check_inner(plain->data + start, plain->len - start, &info);
    if (inner == AG_SEAL_MISMATCH || (inner != AG_SEAL_OK && !any_shape)) {
        reject(a, inner, &info);
        pthread_mutex_unlock(&a->open_mu);
        ag_buf_set_len(plain, start);
        return AGORA_EAUTH;
    }
    pthread_mutex_unlock(&a->open_mu);
    out->data = plain->data + start;
    out->len = plain->len - start;
    out->authenticated = true;
    out->agora = inner == AG_SEAL_OK;
    out->origin = info.origin;
    out->incarnation = info.incarnation;
    return AGORA_OK;
}

int ag_sealing_open(ag_host *h, const uint8_t *data, size_t len, ag_buf *plain,
                    ag_opened *out) {
    return ag_sealing_open_any(h->core, data, len, plain, out, true);
}
