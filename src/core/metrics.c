/* metrics.c — the operator's numbers: per-type event counters and the Prometheus
 * text exposition (format 0.0.4) of a coordinator's status and membership. */
#include "core/coord.h"

#include "util/buf.h"

#include <stdlib.h>
#include <string.h>

int agora_event_counts(agora_t *a, uint64_t *published, uint64_t *received, size_t cap) {
    if (!a) return AGORA_EINVAL;
    size_t n = cap < AGORA_EV_TYPE_COUNT ? cap : AGORA_EV_TYPE_COUNT;
    for (size_t t = 0; t < n; t++) {
        if (published)
            published[t] = atomic_load_explicit(&a->ev_published[t], memory_order_relaxed);
        if (received)
            received[t] = atomic_load_explicit(&a->ev_received[t], memory_order_relaxed);
    }
    return AGORA_EV_TYPE_COUNT;
}

/* A label value: backslash, double quote and line feed escaped, as the format asks. */
static void put_label(ag_buf *b, const char *s) {
    for (; *s; s++) {
        if (*s == '\\') ag_buf_puts(b, "\\\\");
        else if (*s == '"') ag_buf_puts(b, "\\\"");
        else if (*s == '\n') ag_buf_puts(b, "\\n");
        else ag_buf_put(b, s, 1);
    }
}

static void family(ag_buf *b, const char *name, const char *type, const char *help) {
    ag_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(ag_buf *b, const char *name, const char *help, uint64_t v) {
    family(b, name, "counter", help);
    ag_buf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

static void gauge(ag_buf *b, const char *name, const char *help, uint64_t v) {
    family(b, name, "gauge", help);
    ag_buf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

/* Every sent kind (not the local notices, which never travel), one series each. */
static void per_type(ag_buf *b, const char *name, const char *help,
                     const atomic_uint_fast64_t *counts) {
    family(b, name, "counter", help);
    for (int t = 0; t < AGORA_EV_GAP; t++)
        ag_buf_printf(b, "%s{type=\"%s\"} %llu\n", name, agora_event_type_name((agora_event_type)t),
                      (unsigned long long)atomic_load_explicit(&counts[t], memory_order_relaxed));
}

static agora_member *members_snapshot(agora_t *a, size_t *n) {
    size_t cap = 64;
    for (;;) {
        agora_member *m = malloc(cap * sizeof *m);
        if (!m) return NULL;
        int got = agora_members(a, m, cap);
        if (got < 0) {
            free(m);
            return NULL;
        }
        if ((size_t)got <= cap) {
            *n = (size_t)got;
            return m;
        }
        free(m);
        cap = (size_t)got + 16;
    }
}

static void member_series(ag_buf *b, const agora_member *m, size_t n) {
    static const agora_member_state states[] = {AGORA_MEMBER_ALIVE, AGORA_MEMBER_SUSPECT,
                                                AGORA_MEMBER_FAILED, AGORA_MEMBER_LEFT};
    family(b, "agora_member_state", "gauge",
           "1 for the state each member is in (alive, suspect, failed, left), else 0");
    for (size_t i = 0; i < n; i++)
        for (size_t s = 0; s < sizeof states / sizeof states[0]; s++) {
            ag_buf_printf(b, "agora_member_state{node=\"%u\",address=\"", m[i].node);
            put_label(b, m[i].address);
            ag_buf_printf(b, "\",state=\"%s\"} %d\n", agora_member_state_name(states[s]),
                          m[i].state == states[s]);
        }
    family(b, "agora_member_last_heard_seconds", "gauge",
           "seconds since this node last heard the member (0 for itself)");
    for (size_t i = 0; i < n; i++)
        ag_buf_printf(b, "agora_member_last_heard_seconds{node=\"%u\"} %.3f\n", m[i].node,
                      (double)m[i].last_seen_ms / 1000.0);
    family(b, "agora_member_events_received_total", "counter",
           "events received from this origin node and queued for the application");
    for (size_t i = 0; i < n; i++)
        ag_buf_printf(b, "agora_member_events_received_total{node=\"%u\"} %llu\n", m[i].node,
                      (unsigned long long)m[i].events_in);
    family(b, "agora_member_events_per_second", "gauge",
           "events per second received from this origin node, over about the last 10 s");
    for (size_t i = 0; i < n; i++)
        ag_buf_printf(b, "agora_member_events_per_second{node=\"%u\"} %.3f\n", m[i].node,
                      m[i].events_per_sec);
}

char *agora_metrics_text(agora_t *a) {
    if (!a) return NULL;
    agora_status st;
    if (agora_get_status(a, &st) != AGORA_OK) return NULL;
    size_t nm = 0;
    agora_member *m = members_snapshot(a, &nm);
    if (!m) return NULL;
    ag_buf b;
    ag_buf_init(&b);
    family(&b, "agora_info", "gauge", "this node: its id, backend and library version (always 1)");
    ag_buf_printf(&b, "agora_info{node=\"%u\",backend=\"", a->node_id);
    put_label(&b, st.backend);
    ag_buf_printf(&b, "\",version=\"%s\"} 1\n", agora_version());
    gauge(&b, "agora_backend_connected", "1 while the backend moves messages, else 0", st.connected);
    gauge(&b, "agora_peers", "PeerToPeer: live connections; brokers: 0 or 1", st.peers);
    gauge(&b, "agora_outbox_depth", "events waiting to be sent", st.outbox_depth);
    gauge(&b, "agora_queue_depth", "events waiting for the application", st.queue_depth);
    counter(&b, "agora_reconnects_total", "backend connections established after the first",
            st.reconnects);
    per_type(&b, "agora_events_published_total", "events this node published, per type",
             a->ev_published);
    per_type(&b, "agora_events_received_total",
             "events from other nodes queued for the application, per type", a->ev_received);
    counter(&b, "agora_events_sent_total", "events the backend took (sent or acknowledged)",
            st.events_out);
    counter(&b, "agora_bytes_sent_total", "bytes of every message sent, heartbeats included",
            st.bytes_out);
    counter(&b, "agora_bytes_received_total", "bytes of every message received", st.bytes_in);
    counter(&b, "agora_outbox_dropped_total", "events dropped because the outbox overflowed",
            st.dropped);
    counter(&b, "agora_queue_dropped_total",
            "events dropped because the application's delivery queue was full", st.queue_dropped);
    counter(&b, "agora_duplicates_total", "received events dropped as duplicates", st.duplicates);
    counter(&b, "agora_gaps_total", "Gap notices delivered (events from a node were missed)",
            st.gaps);
    counter(&b, "agora_decode_errors_total", "received messages that did not decode",
            st.decode_errors);
    counter(&b, "agora_notices_total", "local notices queued: Gap and membership changes",
            st.notices);
    counter(&b, "agora_rejected_total", "sealed payloads that did not open (forged, foreign, unsealed)",
            st.rejected);
    counter(&b, "agora_replayed_total", "sealed payloads dropped as replays", st.replayed);
    member_series(&b, m, nm);
    free(m);
    return ag_buf_take(&b);
}
