/* membership.c — who is in the cluster, and who has failed.
 *
 * Every node announces itself with a heartbeat every heartbeatInterval; any message
 * from a node counts as hearing it. A node silent for longer than failureTimeout is
 * reported failed (MemberFailed); a LEAVE message reports a graceful MemberLeft; a
 * node heard again (or with a new incarnation, i.e. restarted) is reported joined.
 * Heartbeats also carry a short list of the members this node knows (gossip), so
 * that the nodes of a mesh backend learn every address from a single seed, and so
 * that failed and departed members, kept for memberRetention, are known to nodes
 * that join later (and to observers) with their state and since when. */
#include "core/coord.h"

#include "codec/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static ag_member_rec *rec_of(struct agora *a, uint16_t node) {
    if (!a->members[node]) {
        a->members[node] = calloc(1, sizeof(ag_member_rec));
        if (!a->members[node]) return NULL;
        if (a->nmember_ids == a->cap_member_ids) {
            size_t n = a->cap_member_ids ? a->cap_member_ids * 2 : 16;
            uint16_t *ids = realloc(a->member_ids, n * sizeof *ids);
            if (!ids) {
                free(a->members[node]);
                a->members[node] = NULL;
                return NULL;
            }
            a->member_ids = ids;
            a->cap_member_ids = n;
        }
        a->member_ids[a->nmember_ids++] = node;
    }
    return a->members[node];
}

/* Enter `state` now (since_ms moves only when the state changes). */
static void set_state(ag_member_rec *r, agora_member_state state, uint64_t now) {
    if (r->state != state || !r->known) r->since_ms = now;
    r->state = state;
    r->by_gossip = false;
    r->retired = false;
}

static bool is_down(agora_member_state s) {
    return s == AGORA_MEMBER_FAILED || s == AGORA_MEMBER_LEFT;
}

static void emit(struct agora *a, agora_event_type type, uint16_t node, const char *address,
                 uint64_t incarnation) {
    agora_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = type;
    ev.node = node;
    ev.u.member.address = address && *address ? strdup(address) : NULL;
    ev.u.member.incarnation = incarnation;
    ag_dispatch_push(a, &ev);
}

void ag_members_heard(struct agora *a, uint16_t node, uint64_t incarnation, const char *address) {
    pthread_mutex_lock(&a->mem_mu);
    ag_member_rec *r = rec_of(a, node);
    if (!r) {
        pthread_mutex_unlock(&a->mem_mu);
        return;
    }
    if (r->known && incarnation < r->incarnation) {
        pthread_mutex_unlock(&a->mem_mu); /* a late message from a previous life */
        return;
    }
    if (r->known && r->state == AGORA_MEMBER_LEFT && incarnation == r->incarnation) {
        pthread_mutex_unlock(&a->mem_mu); /* in flight after its goodbye */
        return;
    }
    bool restarted = r->known && incarnation > r->incarnation;
    bool joined = !r->known || restarted || r->state == AGORA_MEMBER_FAILED;
    bool new_address = address && *address && strcmp(address, r->address) != 0;
    uint64_t now = ag_now_ms();
    set_state(r, AGORA_MEMBER_ALIVE, now);
    if (restarted) r->since_ms = now; /* a new life */
    r->known = true;
    r->incarnation = incarnation;
    r->last_ms = now;
    if (new_address) snprintf(r->address, sizeof r->address, "%s", address);
    char addr[128];
    snprintf(addr, sizeof addr, "%s", r->address);
    pthread_mutex_unlock(&a->mem_mu);
    if (joined) {
        ag_log(a, AGORA_LOG_INFO, "node %u %s%s%s", node, restarted ? "restarted and rejoined" : "joined",
               *addr ? " at " : "", addr);
        emit(a, AGORA_EV_MEMBER_JOINED, node, addr, incarnation);
    }
    if ((joined || new_address) && *addr && a->ops->member_update)
        a->ops->member_update(a->be, node, addr, false);
}

void ag_members_left(struct agora *a, uint16_t node, uint64_t incarnation) {
    pthread_mutex_lock(&a->mem_mu);
    ag_member_rec *r = rec_of(a, node);
    if (!r || (r->known && incarnation < r->incarnation) || r->state == AGORA_MEMBER_LEFT) {
        pthread_mutex_unlock(&a->mem_mu);
        return;
    }
    set_state(r, AGORA_MEMBER_LEFT, ag_now_ms());
    r->known = true;
    r->incarnation = incarnation;
    char addr[128];
    snprintf(addr, sizeof addr, "%s", r->address);
    pthread_mutex_unlock(&a->mem_mu);
    ag_log(a, AGORA_LOG_INFO, "node %u left the cluster", node);
    emit(a, AGORA_EV_MEMBER_LEFT, node, addr, incarnation);
    if (a->ops->member_update) a->ops->member_update(a->be, node, addr, true);
}

/* Gossip says `node` failed or left `age_ms` ago: a node that never saw it (it joined
 * later, or observes) lists it so; what this node judged itself stands. No events:
 * this is history, not news. */
static void gossip_down(struct agora *a, uint16_t node, uint64_t incarnation, uint8_t state,
                        const char *address, uint64_t age_ms) {
    if (age_ms >= a->cfg->member_retention_ms) return;
    pthread_mutex_lock(&a->mem_mu);
    ag_member_rec *r = rec_of(a, node);
    bool take = false;
    if (r && !r->known)
        take = true;
    else if (r && is_down(r->state) && incarnation >= r->incarnation)
        /* a later life that went down too, or a goodbye where we saw only silence */
        take = incarnation > r->incarnation ||
               (state == AGORA_MEMBER_LEFT && r->state == AGORA_MEMBER_FAILED);
    if (take) {
        uint64_t now = ag_now_ms();
        r->known = true;
        r->state = (agora_member_state)state;
        r->incarnation = incarnation;
        r->since_ms = now > age_ms ? now - age_ms : 0;
        r->last_ms = r->since_ms;
        r->by_gossip = true;
        r->retired = false;
        if (*address) snprintf(r->address, sizeof r->address, "%s", address);
    }
    pthread_mutex_unlock(&a->mem_mu);
}

void ag_members_gossip(struct agora *a, uint16_t node, uint64_t incarnation, uint8_t state,
                       const char *address, uint64_t age_ms) {
    if (ag_is_self(a, node) || !address) return;
    if (is_down((agora_member_state)state)) {
        gossip_down(a, node, incarnation, state, address, age_ms);
        return;
    }
    if (state != AGORA_MEMBER_ALIVE || !*address) return;
    pthread_mutex_lock(&a->mem_mu);
    ag_member_rec *r = rec_of(a, node);
    /* News: the first word of this life of the node (a node we never heard, or a
     * restart, or one we know down only from gossip), so that a mesh backend dials it
     * at once. Direct contact, not gossip, makes it alive. */
    bool news = false;
    bool unheard = r && (!r->known || (r->by_gossip && incarnation >= r->incarnation));
    if (r && (unheard || incarnation > r->incarnation) && incarnation > r->gossip_incarnation) {
        r->gossip_incarnation = incarnation;
        if (unheard) snprintf(r->address, sizeof r->address, "%s", address);
        news = true;
    }
    pthread_mutex_unlock(&a->mem_mu);
    /* Only direct contact makes a member alive; gossip just tells where to dial. */
    if (news && a->ops->member_update) a->ops->member_update(a->be, node, address, false);
}

void ag_members_peer_link(ag_host *h, uint16_t node, const char *address, uint64_t incarnation,
                          bool up) {
    struct agora *a = h->core;
    if (ag_is_self(a, node)) return;
    if (up) {
        ag_members_heard(a, node, incarnation, address);
        pthread_mutex_lock(&a->mem_mu);
        if (a->members[node]) a->members[node]->link_up = true;
        pthread_mutex_unlock(&a->mem_mu);
        return;
    }
    pthread_mutex_lock(&a->mem_mu);
    ag_member_rec *r = a->members[node];
    if (r) {
        r->link_up = false;
        if (r->state == AGORA_MEMBER_ALIVE && r->incarnation == incarnation)
            set_state(r, AGORA_MEMBER_SUSPECT, ag_now_ms());
    }
    pthread_mutex_unlock(&a->mem_mu);
}

static void send_heartbeat(struct agora *a) {
    ag_wire_member *g = malloc(AG_WIRE_MAX_GOSSIP * sizeof *g);
    if (!g) return;
    size_t n = 0;
    uint64_t now = ag_now_ms();
    pthread_mutex_lock(&a->mem_mu);
    /* Rotate through the view so that large clusters are gossiped over time: live
     * members with their addresses, and failed / departed ones with their age. */
    size_t total = a->nmember_ids, k;
    for (k = 0; k < total && n < AG_WIRE_MAX_GOSSIP; k++) {
        uint16_t id = a->member_ids[(a->gossip_cursor + k) % total];
        ag_member_rec *r = a->members[id];
        if (!r->known || r->retired) continue;
        if (r->state == AGORA_MEMBER_ALIVE ? !*r->address : !is_down(r->state)) continue;
        g[n].node = id;
        g[n].incarnation = r->incarnation;
        g[n].state = (uint8_t)r->state;
        g[n].age_ms = now > r->since_ms ? now - r->since_ms : 0;
        snprintf(g[n].address, sizeof g[n].address, "%s", r->address);
        n++;
    }
    if (total) a->gossip_cursor = (a->gossip_cursor + k) % total;
    pthread_mutex_unlock(&a->mem_mu);
    pthread_mutex_lock(&a->out_mu);
    uint64_t next = a->done_seq;
    pthread_mutex_unlock(&a->out_mu);
    ag_buf b;
    ag_buf_init(&b);
    ag_wire_put_heartbeat(&b, a->node_id, a->incarnation, next, a->self_address, g, n);
    free(g);
    if (!b.oom) ag_outbox_send_control(a, &b);
    ag_buf_free(&b);
}

void ag_members_heartbeat(struct agora *a) {
    if (a->codec == AG_CODEC_AGORA && !a->observer) send_heartbeat(a);
}

/* Failed and departed members are listed and gossiped for memberRetention. */
static void retire_old(struct agora *a, uint64_t now) {
    uint64_t keep = a->cfg->member_retention_ms;
    for (size_t k = 0; k < a->nmember_ids; k++) {
        ag_member_rec *r = a->members[a->member_ids[k]];
        if (r->known && !r->retired && is_down(r->state) && now - r->since_ms >= keep)
            r->retired = true;
    }
}

void ag_members_check(struct agora *a) {
    if (a->codec != AG_CODEC_AGORA) return;
    ag_inbox_check_claims(a);
    uint64_t now = ag_now_ms();
    /* Through a shared bus, silence while our own connection is down says nothing about
     * the others: hold judgement, and count from the reconnection. (A mesh has no such
     * single link: there, losing every peer is exactly what failure looks like.) */
    if (a->cfg->type->topology == AG_TOPOLOGY_BUS) {
        pthread_mutex_lock(&a->st_mu);
        bool connected = a->connected;
        pthread_mutex_unlock(&a->st_mu);
        if (!connected) {
            a->judge_paused = true;
            return;
        }
        if (a->judge_paused) {
            a->judge_paused = false;
            pthread_mutex_lock(&a->mem_mu);
            for (size_t k = 0; k < a->nmember_ids; k++) {
                ag_member_rec *r = a->members[a->member_ids[k]];
                if (r->state == AGORA_MEMBER_ALIVE || r->state == AGORA_MEMBER_SUSPECT)
                    r->last_ms = now;
            }
            pthread_mutex_unlock(&a->mem_mu);
        }
    }
    uint64_t fail = a->cfg->failure_timeout_ms;
    uint64_t suspect = a->cfg->heartbeat_interval_ms * 3;
    if (suspect >= fail) suspect = fail / 2;
    pthread_mutex_lock(&a->mem_mu);
    for (size_t k = 0; k < a->nmember_ids; k++) {
        uint16_t id = a->member_ids[k];
        ag_member_rec *r = a->members[id];
        if (!r->known || (r->state != AGORA_MEMBER_ALIVE && r->state != AGORA_MEMBER_SUSPECT))
            continue;
        uint64_t age = now - r->last_ms;
        if (age > fail) {
            set_state(r, AGORA_MEMBER_FAILED, now);
            char addr[128];
            snprintf(addr, sizeof addr, "%s", r->address);
            uint64_t inc = r->incarnation;
            pthread_mutex_unlock(&a->mem_mu);
            ag_log(a, AGORA_LOG_WARN, "node %u%s%s failed: silent for %llu ms", id,
                   *addr ? " at " : "", addr, (unsigned long long)age);
            emit(a, AGORA_EV_MEMBER_FAILED, id, addr, inc);
            pthread_mutex_lock(&a->mem_mu);
        } else if (age > suspect && r->state == AGORA_MEMBER_ALIVE) {
            set_state(r, AGORA_MEMBER_SUSPECT, now);
        }
    }
    retire_old(a, now);
    pthread_mutex_unlock(&a->mem_mu);
}

void ag_members_send_leave(struct agora *a) {
    if (a->codec != AG_CODEC_AGORA || a->observer) return;
    pthread_mutex_lock(&a->out_mu);
    uint64_t next = a->next_seq;
    pthread_mutex_unlock(&a->out_mu);
    ag_buf b;
    ag_buf_init(&b);
    ag_wire_put_leave(&b, a->node_id, a->incarnation, next);
    if (!b.oom) ag_outbox_send_control(a, &b);
    ag_buf_free(&b);
}

void ag_members_count_in(struct agora *a, uint16_t node) {
    pthread_mutex_lock(&a->mem_mu);
    if (a->members[node]) ag_rate_add(&a->members[node]->rx, ag_now_ms(), 1);
    pthread_mutex_unlock(&a->mem_mu);
}

void ag_members_free(struct agora *a) {
    for (size_t k = 0; k < a->nmember_ids; k++) {
        free(a->members[a->member_ids[k]]);
        a->members[a->member_ids[k]] = NULL;
    }
    free(a->member_ids);
    a->member_ids = NULL;
    a->nmember_ids = 0;
}

const char *agora_member_state_name(agora_member_state s) {
    switch (s) {
    case AGORA_MEMBER_ALIVE: return "alive";
    case AGORA_MEMBER_SUSPECT: return "suspect";
    case AGORA_MEMBER_FAILED: return "failed";
    case AGORA_MEMBER_LEFT: return "left";
    }
    return "unknown";
}

int agora_members(agora_t *a, agora_member *out, size_t cap) {
    if (!a || (!out && cap)) return AGORA_EINVAL;
    size_t n = 0;
    uint64_t now = ag_now_ms();
    if (!a->observer) { /* an observer is no member, not even of its own view */
        if (n < cap) {
            memset(&out[n], 0, sizeof out[n]);
            out[n].node = a->node_id;
            out[n].state = AGORA_MEMBER_ALIVE;
            snprintf(out[n].address, sizeof out[n].address, "%s", a->self_address);
            out[n].incarnation = a->incarnation;
            out[n].self = true;
            out[n].state_since_ms = now - a->opened_ms;
        }
        n++;
    }
    pthread_mutex_lock(&a->mem_mu);
    for (size_t k = 0; k < a->nmember_ids; k++) {
        uint16_t id = a->member_ids[k];
        ag_member_rec *r = a->members[id];
        if (!r->known || r->retired || ag_is_self(a, id)) continue;
        if (n < cap) {
            memset(&out[n], 0, sizeof out[n]);
            out[n].node = id;
            out[n].state = r->state;
            snprintf(out[n].address, sizeof out[n].address, "%s", r->address);
            out[n].incarnation = r->incarnation;
            out[n].last_seen_ms = now > r->last_ms ? now - r->last_ms : 0; /* heard since `now` */
            out[n].events_in = r->rx.total;
            out[n].events_per_sec = ag_rate_per_sec(&r->rx, now);
            out[n].state_since_ms = now > r->since_ms ? now - r->since_ms : 0;
        }
        n++;
    }
    pthread_mutex_unlock(&a->mem_mu);
    return (int)n;
}
