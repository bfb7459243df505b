/* bench_events.c — see bench_events.h. Where each kind keeps (seq, ts):
 *   StateChange      accountId = seq, changeId = ts, types = Email|Mailbox|Thread
 *   EmailPush        accountId = seq, changeId = ts, emailId = seq
 *   CacheInvalidate  three Account items: id = seq, ts >> 32, ts & 0xffffffff
 *   BlockIp          2001:db8:SSSS:SSSS:TTTT:TTTT:TTTT:TTTT/128 (S = seq, T = ts), reason
 *   CalendarAlert    accountId = seq, recurrenceId = ts, uid and alertId strings
 * seq is a u32 on the wire: 4 billion events per origin. seq 0 marks a warm-up probe. */
#include "bench/bench_events.h"

#include <endian.h>
#include <stdio.h>
#include <string.h>

static int kind_of(const char *w, size_t n, agora_event_type *t) {
#define K(name, type)                                  \
    if (n == strlen(name) && !strncmp(w, name, n)) {   \
        *t = type;                                     \
        return 0;                                      \
    }
    K("state", AGORA_EV_STATE_CHANGE)
    K("email", AGORA_EV_EMAIL_PUSH)
    K("cache", AGORA_EV_CACHE_INVALIDATE)
    K("blockip", AGORA_EV_BLOCK_IP)
    K("calendar", AGORA_EV_CALENDAR_ALERT)
#undef K
    return -1;
}

int bev_mix_parse(const char *text, bool stalwart, bev_mix *mix, char *err, size_t errlen) {
    memset(mix, 0, sizeof *mix);
    if (!text || !*text) text = "state";
    snprintf(mix->name, sizeof mix->name, "%s", text);
    if (!strcmp(text, "mixed")) {
        mix->kinds[0] = AGORA_EV_STATE_CHANGE;
        mix->kinds[1] = AGORA_EV_EMAIL_PUSH;
        mix->kinds[2] = AGORA_EV_CACHE_INVALIDATE;
        mix->kinds[3] = stalwart ? AGORA_EV_CALENDAR_ALERT : AGORA_EV_BLOCK_IP;
        mix->nkinds = 4;
        return 0;
    }
    const char *p = text;
    while (*p) {
        const char *c = strchr(p, ',');
        size_t n = c ? (size_t)(c - p) : strlen(p);
        agora_event_type t;
        if (kind_of(p, n, &t) != 0) {
            snprintf(err, errlen, "--mix: unknown kind '%.*s' (expected state, mixed, or a comma "
                     "list of state, email, cache, blockip, calendar)", (int)n, p);
            return -1;
        }
        if (t == AGORA_EV_BLOCK_IP && stalwart) {
            snprintf(err, errlen, "--mix: blockip is agora's own kind; the stalwart codec cannot "
                     "carry it");
            return -1;
        }
        if (mix->nkinds == BEV_MAX_KINDS) {
            snprintf(err, errlen, "--mix: at most %d kinds", BEV_MAX_KINDS);
            return -1;
        }
        mix->kinds[mix->nkinds++] = t;
        p += n;
        if (*p == ',') p++;
    }
    if (mix->nkinds == 0) {
        snprintf(err, errlen, "--mix: no kinds given");
        return -1;
    }
    return 0;
}

/* The sequence (32 bits) and the send time (64 bits), big-endian inside the address. */
static void put_seq_ts(uint8_t *addr, uint64_t seq, uint64_t ts) {
    uint32_t s = htobe32((uint32_t)seq);
    uint64_t t = htobe64(ts);
    memcpy(addr + 4, &s, sizeof s);
    memcpy(addr + 8, &t, sizeof t);
}

static void get_seq_ts(const uint8_t *addr, uint64_t *seq, uint64_t *ts) {
    uint32_t s;
    uint64_t t;
    memcpy(&s, addr + 4, sizeof s);
    memcpy(&t, addr + 8, sizeof t);
    *seq = be32toh(s);
    *ts = be64toh(t);
}

void bev_make(const bev_mix *mix, uint64_t i, uint64_t seq, uint64_t ts, agora_event *ev,
              bev_scratch *s) {
    memset(ev, 0, sizeof *ev);
    ev->type = mix->kinds[i % (uint64_t)mix->nkinds];
    switch (ev->type) {
    case AGORA_EV_EMAIL_PUSH:
        ev->u.email_push.account_id = (uint32_t)seq;
        ev->u.email_push.email_id = (uint32_t)seq;
        ev->u.email_push.change_id = ts;
        break;
    case AGORA_EV_CACHE_INVALIDATE:
        s->items[0] = (agora_cache_item){.kind = AGORA_CACHE_ACCOUNT, .id = (uint32_t)seq};
        s->items[1] = (agora_cache_item){.kind = AGORA_CACHE_ACCOUNT, .id = (uint32_t)(ts >> 32)};
        s->items[2] = (agora_cache_item){.kind = AGORA_CACHE_ACCOUNT, .id = (uint32_t)ts};
        ev->u.cache_invalidate.count = 3;
        ev->u.cache_invalidate.items = s->items;
        break;
    case AGORA_EV_BLOCK_IP: {
        agora_ip_prefix *a = &ev->u.block_ip.address;
        a->family = 6;
        a->prefix = 128;
        a->addr[0] = 0x20;
        a->addr[1] = 0x01;
        a->addr[2] = 0x0d;
        a->addr[3] = 0xb8;
        put_seq_ts(a->addr, seq, ts);
        ev->u.block_ip.reason = (char *)"agora bench";
        break;
    }
    case AGORA_EV_CALENDAR_ALERT:
        ev->u.calendar_alert.account_id = (uint32_t)seq;
        ev->u.calendar_alert.event_id = 1;
        ev->u.calendar_alert.recurrence_id = (int64_t)ts;
        ev->u.calendar_alert.uid = (char *)"bench@agora.example";
        ev->u.calendar_alert.alert_id = (char *)"a1";
        break;
    default:
        ev->type = AGORA_EV_STATE_CHANGE;
        ev->u.state_change.account_id = (uint32_t)seq;
        ev->u.state_change.change_id = ts;
        ev->u.state_change.types = (1u << AGORA_DT_EMAIL) | (1u << AGORA_DT_MAILBOX) |
                                   (1u << AGORA_DT_THREAD);
        break;
    }
}

bool bev_probe(const agora_event *ev, uint64_t *seq, uint64_t *ts) {
    switch (ev->type) {
    case AGORA_EV_STATE_CHANGE:
        *seq = ev->u.state_change.account_id;
        *ts = ev->u.state_change.change_id;
        return true;
    case AGORA_EV_EMAIL_PUSH:
        *seq = ev->u.email_push.account_id;
        *ts = ev->u.email_push.change_id;
        return true;
    case AGORA_EV_CACHE_INVALIDATE:
        if (ev->u.cache_invalidate.count != 3 || !ev->u.cache_invalidate.items) return false;
        *seq = ev->u.cache_invalidate.items[0].id;
        *ts = (uint64_t)ev->u.cache_invalidate.items[1].id << 32 | ev->u.cache_invalidate.items[2].id;
        return true;
    case AGORA_EV_BLOCK_IP:
        if (ev->u.block_ip.address.family != 6) return false;
        get_seq_ts(ev->u.block_ip.address.addr, seq, ts);
        return true;
    case AGORA_EV_CALENDAR_ALERT:
        *seq = ev->u.calendar_alert.account_id;
        *ts = (uint64_t)ev->u.calendar_alert.recurrence_id;
        return true;
    default:
        return false;
    }
}
