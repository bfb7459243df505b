/* dupid.c — two processes with one node id.
 *
 * On a broker nothing stops two processes from publishing under one id. Receivers
 * keep only the newer incarnation's stream (the older one's messages look like
 * stragglers of a previous life and are dropped), so one of them is silenced. That
 * must not go unnoticed: this node says so when it hears its own id from another
 * process, and every node says so when two incarnations of one id keep alternating.
 * A restart looks different: the old incarnation falls silent once the new one
 * speaks, apart from messages still in flight. Both lines are rate-limited (anyone
 * who can publish on an unsealed bus can cause them). */
#include "core/coord.h"

#include "codec/wire.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Older-incarnation traffic within this long of the newer one's first word is a
 * restart's tail (in flight, or a durable broker's replay), not a second process. */
static uint64_t settle_ms(const struct agora *a) {
    uint64_t ms = a->cfg->failure_timeout_ms * 2;
    return ms < 3000 ? 3000 : ms;
}

static const char *or_unknown(const char *addr) { return *addr ? addr : "an unknown address"; }

static bool own_id(struct agora *a, const ag_wire_header *h) {
    if (h->incarnation == a->incarnation) return true; /* our own echo */
    /* An older incarnation may be this node's previous life replayed by a durable
     * broker right after the start; later, or newer, it is another live process. */
    if (h->incarnation < a->incarnation && ag_now_ms() - a->opened_ms < settle_ms(a)) return true;
    const char *addr = h->kind == AG_WIRE_HEARTBEAT ? h->address : "";
    ag_log_limited(a, &a->dup_own_log, AGORA_LOG_WARN,
                   "another process uses this node's id %u (its incarnation %" PRIu64 " at %s, "
                   "this node's %" PRIu64 "): node ids must be unique; %s",
                   a->node_id, h->incarnation, or_unknown(addr), a->incarnation,
                   h->incarnation > a->incarnation
                       ? "the other nodes now drop this node's events as stale"
                       : "the other nodes drop its events as stale");
    return true;
}

bool ag_dupid_check(struct agora *a, const ag_wire_header *h) {
    if (ag_is_self(a, h->origin)) return own_id(a, h); /* an observer has no id */
    ag_origin *o = ag_inbox_origin(a, h->origin);
    if (!o) return false;
    uint64_t now = ag_now_ms();
    const char *addr = h->kind == AG_WIRE_HEARTBEAT ? h->address : NULL;
    if (h->incarnation > o->dup_new_inc) {
        o->dup_old_inc = o->dup_new_inc;
        memcpy(o->dup_old_addr, o->dup_new_addr, sizeof o->dup_old_addr);
        o->dup_new_inc = h->incarnation;
        o->dup_new_ms = now;
        o->dup_new_addr[0] = 0;
    }
    if (h->incarnation == o->dup_new_inc) {
        if (addr && *addr) snprintf(o->dup_new_addr, sizeof o->dup_new_addr, "%s", addr);
        return false;
    }
    /* An older incarnation: a restart's tail, or a second process. */
    if (h->incarnation != o->dup_old_inc) {
        o->dup_old_inc = h->incarnation;
        o->dup_old_addr[0] = 0;
    }
    if (addr && *addr) snprintf(o->dup_old_addr, sizeof o->dup_old_addr, "%s", addr);
    if (now - o->dup_new_ms < settle_ms(a)) return false;
    ag_log_limited(a, &a->dup_peer_log, AGORA_LOG_WARN,
                   "two processes use node id %u: incarnation %" PRIu64 " at %s and incarnation "
                   "%" PRIu64 " at %s both keep sending; only the newer one's events are "
                   "delivered, the older one's are dropped: node ids must be unique",
                   h->origin, o->dup_old_inc, or_unknown(o->dup_old_addr), o->dup_new_inc,
                   or_unknown(o->dup_new_addr));
    return false;
}
