/* test_p2p.c — the PeerToPeer transport on its own: several backends in one
 * process, each on its own ag_loop, driven by a small ag_host written here (no
 * coordinator core), talking over real TCP (and TLS) on 127.0.0.1.
 *
 * Run one scenario by name (`test_p2p mesh`) or all of them (`test_p2p all`). */
#include "backend/p2p/p2p.h"
#include "check.h"
#include "config/config.h"
#include "backend/registry.h"
#include "core/backend.h"
#include "core/loop.h"
#include "fake_host.h"
#include "p2p_raw.h"
#include "scenario.h"
#include "util/be.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXN 8
#define BASE_PORT 27310 /* this file uses 27310..27399 */

/* ---- a minimal host ------------------------------------------------------ */

/* Test payload: 'T' 'P' origin:u16 inc:u64 first_seq:u64 n:u32 filler... */
#define TP_HDR 24

typedef struct tmsg {
    ag_msg m;
    uint8_t *buf;
    bool done;
} tmsg;

typedef struct tnode {
    fake_host fh; /* first; connection state and log lines recorded there */
    agora_config *cfg;
    ag_loop *loop;
    ag_backend *be;
    int id;
    bool open;
    /* receive side, per origin */
    uint64_t r_inc[MAXN], r_next[MAXN];
    uint64_t got[MAXN], dups[MAXN], gaps[MAXN], ctrl[MAXN];
    /* send side */
    uint64_t next_seq;
    size_t want_msgs, sent_msgs, done_msgs, events_per_msg, filler;
    bool blocked;
    tmsg **inflight;
    size_t ninflight, capinflight;
    /* links */
    int link[MAXN];
    bool heartbeats;
} tnode;

static tnode nodes[MAXN];
static bool allow_bad_payloads;
static const ag_backend_ops *ops = &ag_backend_p2p;

static tnode *of(fake_host *f) { return (tnode *)f; }

static void h_deliver(fake_host *h, const uint8_t *d, size_t len) {
    tnode *n = of(h);
    if (len < TP_HDR || d[0] != 'T' || d[1] != 'P') {
        /* only the garbage scenario's raw peers send such payloads (the core would
         * count them as decode errors) */
        if (!allow_bad_payloads) {
            fprintf(stderr, "node %d: bad payload of %zu bytes\n", n->id, len);
            failures++;
        }
        return;
    }
    int o = ag_get_be16(d + 2);
    uint64_t inc = ag_get_be64(d + 4), first = ag_get_be64(d + 12);
    uint32_t cnt = ag_get_be32(d + 20);
    if (o >= MAXN) return;
    if (first == 0) {
        n->ctrl[o]++;
        return;
    }
    if (n->r_next[o] == 0 || n->r_inc[o] != inc) {
        bool restarted = n->r_next[o] != 0;
        n->r_inc[o] = inc;
        n->r_next[o] = restarted ? 1 : first;
    }
    uint64_t end = first + cnt;
    if (end <= n->r_next[o]) {
        n->dups[o] += cnt;
        return;
    }
    if (first > n->r_next[o]) {
        n->gaps[o] += first - n->r_next[o];
        n->r_next[o] = first;
    }
    n->dups[o] += n->r_next[o] - first;
    n->got[o] += end - n->r_next[o];
    n->r_next[o] = end;
}

static void pump(tnode *n);

static void h_msg_done(fake_host *h, ag_msg *m, int status) {
    tnode *n = of(h);
    tmsg *t = (tmsg *)m;
    CHECKF(status == AGORA_OK, "msg_done status %d", status);
    CHECKF(!t->done, "msg_done twice");
    t->done = true;
    for (size_t i = 0; i < n->ninflight; i++)
        if (n->inflight[i] == t) {
            n->inflight[i] = n->inflight[--n->ninflight];
            break;
        }
    if (t->m.sequenced) n->done_msgs++;
    free(t->buf);
    free(t);
    pump(n);
}

static void h_resume(fake_host *h) {
    tnode *n = of(h);
    n->blocked = false;
    pump(n);
}

static void h_recv_position(fake_host *h, uint16_t node, uint64_t *inc, uint64_t *next) {
    tnode *n = of(h);
    *inc = node < MAXN ? n->r_inc[node] : 0;
    *next = node < MAXN ? n->r_next[node] : 0;
}

static void h_peer_link(fake_host *h, uint16_t node, const char *addr, uint64_t inc, bool up) {
    (void)addr;
    (void)inc;
    tnode *n = of(h);
    if (node >= MAXN) return; /* raw test peers use high ids */
    n->link[node] += up ? 1 : -1;
    CHECKF(n->link[node] >= 0 && n->link[node] <= 1, "node %d: link count to %u is %d", n->id, node,
           n->link[node]);
}

static bool logged(tnode *n, const char *needle) { return fake_logged(&n->fh, needle); }

static tmsg *make_msg(tnode *n, bool sequenced, uint32_t cnt, size_t filler) {
    tmsg *t = calloc(1, sizeof *t);
    size_t len = TP_HDR + filler;
    t->buf = malloc(len);
    t->buf[0] = 'T';
    t->buf[1] = 'P';
    ag_put_be16(t->buf + 2, (uint16_t)n->id);
    ag_put_be64(t->buf + 4, n->fh.host.incarnation);
    ag_put_be64(t->buf + 12, sequenced ? n->next_seq : 0);
    ag_put_be32(t->buf + 20, cnt);
    for (size_t i = 0; i < filler; i++) t->buf[TP_HDR + i] = (uint8_t)(i * 7 + n->id);
    t->m.data = t->buf;
    t->m.len = len;
    t->m.sequenced = sequenced;
    t->m.first_seq = sequenced ? n->next_seq : 0;
    t->m.nevents = sequenced ? cnt : 0;
    return t;
}

static int offer(tnode *n, tmsg *t) {
    int rc = ops->publish(n->be, &t->m);
    /* copies_payload: the core reuses the buffer as soon as publish returns, so the
     * bytes must already be the backend's own (receivers check every header). */
    if (rc == AGORA_OK && ops->copies_payload) memset(t->buf, 0xEE, t->m.len);
    if (rc == AGORA_OK) {
        if (n->ninflight == n->capinflight) {
            n->capinflight = n->capinflight ? n->capinflight * 2 : 64;
            n->inflight = realloc(n->inflight, n->capinflight * sizeof *n->inflight);
        }
        n->inflight[n->ninflight++] = t;
    }
    return rc;
}

/* Publish the remaining wanted messages until the backend pushes back. */
static void pump(tnode *n) {
    /* At most 8 event messages in flight, as the core does (heartbeats do not count). */
    while (n->open && !n->blocked && n->sent_msgs < n->want_msgs && n->sent_msgs - n->done_msgs < 8) {
        uint32_t cnt = (uint32_t)(n->events_per_msg ? n->events_per_msg : 1 + n->sent_msgs % 37);
        tmsg *t = make_msg(n, true, cnt, n->filler ? n->filler : 16 * cnt);
        int rc = offer(n, t);
        if (rc == AGORA_EAGAIN) {
            n->blocked = true;
            free(t->buf);
            free(t);
            return;
        }
        CHECKF(rc == AGORA_OK, "publish rc %d", rc);
        n->next_seq += cnt;
        n->sent_msgs++;
    }
}

static void send_ctrl(tnode *n) {
    tmsg *t = make_msg(n, false, 0, 8);
    int rc = offer(n, t);
    if (rc != AGORA_OK) {
        free(t->buf);
        free(t);
    }
}

/* ---- node set-up ----------------------------------------------------------- */

typedef struct nopts {
    const char *secret;  /* NULL = plaintext */
    int seeds[MAXN];     /* node ids to use as seeds (0-terminated) */
    int claim_id;        /* node id to claim (default: its index) */
    uint64_t resend;     /* resendBuffer (0 = default) */
    uint64_t max_frame;
    bool v6;             /* listen and dial on [::1] */
} nopts;

static int port_of(int id) { return BASE_PORT + id; }

static void node_open(int idx, const nopts *o) {
    tnode *n = &nodes[idx];
    char peers[512] = "";
    size_t pl = 0;
    const char *host = o->v6 ? "[::1]" : "127.0.0.1";
    for (int i = 0; i < MAXN && o->seeds[i]; i++)
        pl += (size_t)snprintf(peers + pl, sizeof peers - pl, "%s\"%s:%d\"", pl ? "," : "", host,
                               port_of(o->seeds[i]));
    char extra[256] = "";
    size_t el = 0;
    if (o->resend) el += (size_t)snprintf(extra + el, sizeof extra - el, ",\"resendBuffer\":%llu",
                                          (unsigned long long)o->resend);
    if (o->max_frame) el += (size_t)snprintf(extra + el, sizeof extra - el, ",\"maxFrameSize\":%llu",
                                             (unsigned long long)o->max_frame);
    char sec[128];
    if (o->secret)
        snprintf(sec, sizeof sec, "\"secret\":\"%s\"", o->secret);
    else
        snprintf(sec, sizeof sec, "\"encryption\":\"none\"");
    char json[2048];
    snprintf(json, sizeof json,
             "{\"nodeId\":%d,\"heartbeatInterval\":\"100ms\",\"failureTimeout\":\"1s\","
             "\"coordinator\":{\"@type\":\"PeerToPeer\",\"listen\":[\"%s:%d\"],"
             "\"peers\":[%s],%s,\"reconnectMin\":\"50ms\",\"reconnectMax\":\"400ms\","
             "\"connectTimeout\":\"700ms\"%s}}",
             o->claim_id ? o->claim_id : idx, host, port_of(idx), peers, sec, extra);
    char err[1024];
    if (!n->cfg) {
        n->cfg = agora_config_parse(json, strlen(json), err, sizeof err);
        if (!n->cfg) {
            fprintf(stderr, "config: %s\n%s\n", err, json);
            exit(2);
        }
        n->id = idx;
        n->loop = ag_loop_new();
        n->next_seq = 1;
        char name[16];
        snprintf(name, sizeof name, "node %d", idx);
        fake_host_init(&n->fh, n->loop, n->cfg, (uint16_t)(o->claim_id ? o->claim_id : idx), name);
        n->fh.host.incarnation = 1000u * (uint64_t)idx + (uint64_t)rand() % 1000 + 1;
        n->fh.verbose_env = "P2P_TEST_VERBOSE";
        n->fh.on_deliver = h_deliver;
        n->fh.on_msg_done = h_msg_done;
        n->fh.on_resume = h_resume;
        n->fh.on_recv_position = h_recv_position;
        n->fh.on_peer_link = h_peer_link;
    }
    int rc = ops->open(&n->fh.host, &n->be, err, sizeof err);
    if (rc != AGORA_OK) {
        fprintf(stderr, "node %d: open failed: %s\n", idx, err);
        exit(2);
    }
    n->open = true;
}

static void node_close_backend(int idx) {
    tnode *n = &nodes[idx];
    if (!n->open) return;
    ops->close(n->be);
    n->be = NULL;
    n->open = false;
    /* The backend abandons unfinished messages on close; the host owns them. */
    for (size_t i = 0; i < n->ninflight; i++) {
        free(n->inflight[i]->buf);
        free(n->inflight[i]);
    }
    n->ninflight = 0;
    n->blocked = false;
    memset(n->link, 0, sizeof n->link);
    n->fh.connected = false;
}

static void node_free(int idx) {
    tnode *n = &nodes[idx];
    node_close_backend(idx);
    if (n->loop) ag_loop_free(n->loop);
    if (n->cfg) agora_config_free(n->cfg);
    fake_host_free(&n->fh);
    free(n->inflight);
    memset(n, 0, sizeof *n);
}

static void free_all(void) {
    for (int i = 0; i < MAXN; i++) node_free(i);
}

/* Run every open node's loop until cond() or the deadline. */
static int slow_fd = -1; /* a raw peer that reads 2 KiB every 5 ms */
static uint64_t slow_read_bytes;

typedef bool (*cond_fn)(void *);
static bool run_until(cond_fn cond, void *arg, int timeout_ms) {
    uint64_t deadline = ag_now_ms() + (uint64_t)timeout_ms;
    static uint64_t last_hb;
    for (;;) {
        int busy = 0;
        static uint64_t last_slow;
        if (slow_fd >= 0 && ag_now_ms() - last_slow >= 5) {
            last_slow = ag_now_ms();
            uint8_t sb[2048];
            ssize_t r = recv(slow_fd, sb, sizeof sb, MSG_DONTWAIT);
            if (r > 0) slow_read_bytes += (uint64_t)r;
        }
        if (ag_now_ms() - last_hb >= 100) { /* heartbeats, as the core sends them */
            last_hb = ag_now_ms();
            for (int i = 0; i < MAXN; i++)
                if (nodes[i].open && nodes[i].heartbeats) send_ctrl(&nodes[i]);
        }
        for (int i = 0; i < MAXN; i++)
            if (nodes[i].loop) busy += ag_loop_run_once(nodes[i].loop, 0);
        if (cond && cond(arg)) return true;
        if (ag_now_ms() >= deadline) return cond == NULL;
        if (!busy) usleep(300);
    }
}

static void run_for(int ms) { run_until(NULL, NULL, ms); }

/* ---- conditions ----------------------------------------------------------- */

typedef struct mesh_arg {
    int n;        /* nodes 1..n */
} mesh_arg;

static bool all_linked(void *arg) {
    int k = ((mesh_arg *)arg)->n;
    for (int i = 1; i <= k; i++)
        for (int j = 1; j <= k; j++)
            if (i != j && nodes[i].link[j] != 1) return false;
    for (int i = 1; i <= k; i++) { /* and data flows both ways (RESUME exchanged) */
        agora_status st;
        memset(&st, 0, sizeof st);
        ops->status(nodes[i].be, &st);
        if (st.peers != (uint32_t)(k - 1)) return false;
    }
    return true;
}

static bool all_received(void *arg) {
    int k = ((mesh_arg *)arg)->n;
    for (int i = 1; i <= k; i++)
        for (int j = 1; j <= k; j++)
            if (i != j && nodes[i].got[j] + nodes[i].gaps[j] < nodes[j].next_seq - 1) return false;
    for (int j = 1; j <= k; j++)
        if (nodes[j].sent_msgs < nodes[j].want_msgs || nodes[j].ninflight) return false;
    return true;
}

/* ---- scenarios ------------------------------------------------------------- */

/* Three TLS nodes, each seeded with the others; all-to-all traffic. */
static void t_mesh(void) {
    nopts o1 = {.secret = "s3cret", .seeds = {2, 3}};
    nopts o2 = {.secret = "s3cret", .seeds = {1, 3}};
    nopts o3 = {.secret = "s3cret", .seeds = {1, 2}};
    node_open(1, &o1);
    node_open(2, &o2);
    node_open(3, &o3);
    mesh_arg a = {3};
    CHECKF(run_until(all_linked, &a, 5000), "3 nodes did not link up");
    for (int i = 1; i <= 3; i++) {
        CHECKF(nodes[i].fh.connected, "node %d not connected", i);
        agora_status st;
        memset(&st, 0, sizeof st);
        ops->status(nodes[i].be, &st);
        CHECKF(st.peers == 2 && st.connected, "node %d status peers %u", i, st.peers);
        char want[32];
        snprintf(want, sizeof want, "127.0.0.1:%d", port_of(i));
        CHECKF(strcmp(st.server, want) == 0, "server %s", st.server);
        CHECKF(logged(&nodes[i], "TLS 1.3"), "node %d: no TLS 1.3 connection log", i);
    }
    for (int i = 1; i <= 3; i++) nodes[i].want_msgs = 3000; /* ~57k events each */
    for (int i = 1; i <= 3; i++) pump(&nodes[i]);
    for (int i = 1; i <= 3; i++) send_ctrl(&nodes[i]);
    CHECKF(run_until(all_received, &a, 60000), "not everything arrived");
    run_for(100);
    for (int i = 1; i <= 3; i++)
        for (int j = 1; j <= 3; j++) {
            if (i == j) continue;
            CHECKF(nodes[i].got[j] == nodes[j].next_seq - 1, "node %d got %llu of %llu from %d", i,
                   (unsigned long long)nodes[i].got[j], (unsigned long long)(nodes[j].next_seq - 1), j);
            CHECKF(nodes[i].dups[j] == 0 && nodes[i].gaps[j] == 0, "node %d from %d: dups %llu gaps %llu",
                   i, j, (unsigned long long)nodes[i].dups[j], (unsigned long long)nodes[i].gaps[j]);
            CHECKF(nodes[i].ctrl[j] == 1, "node %d: %llu control messages from %d", i,
                   (unsigned long long)nodes[i].ctrl[j], j);
        }
    for (int i = 1; i <= 3; i++)
        CHECKF(nodes[i].done_msgs == nodes[i].sent_msgs, "node %d: %zu of %zu messages finished", i,
               nodes[i].done_msgs, nodes[i].sent_msgs);
    free_all();
}

static int conn_fd_to(int from, int to) {
    p2p *b = (p2p *)nodes[from].be;
    for (p2p_conn *c = b->conns; c; c = c->next)
        if (c->node == to && c->state == P2P_ESTABLISHED) return c->fd;
    return -1;
}

typedef struct got_arg {
    int node, from;
    uint64_t n;
} got_arg;
static bool got_at_least(void *arg) {
    got_arg *g = arg;
    return nodes[g->node].got[g->from] >= g->n;
}

/* A connection dropped in the middle of a stream: the resend ring fills the hole. */
static void t_resend(void) {
    nopts o1 = {.secret = "s3cret", .seeds = {2}};
    nopts o2 = {.secret = "s3cret"};
    node_open(1, &o1);
    node_open(2, &o2);
    mesh_arg a = {2};
    CHECKF(run_until(all_linked, &a, 5000), "not linked");
    nodes[1].want_msgs = 4000;
    pump(&nodes[1]);
    got_arg g = {2, 1, 5000};
    CHECKF(run_until(got_at_least, &g, 20000), "first events did not arrive");
    int drops = 0;
    for (int k = 0; k < 3; k++) {
        int fd = conn_fd_to(1, 2);
        if (fd >= 0) {
            shutdown(fd, SHUT_RDWR); /* as if the network broke */
            drops++;
        }
        g.n = nodes[2].got[1] + 3000;
        run_until(got_at_least, &g, 20000);
    }
    CHECKF(drops >= 2, "could not drop the connection");
    CHECKF(run_until(all_received, &a, 30000), "not everything arrived after reconnects");
    CHECKF(nodes[2].got[1] == nodes[1].next_seq - 1, "got %llu of %llu",
           (unsigned long long)nodes[2].got[1], (unsigned long long)(nodes[1].next_seq - 1));
    CHECKF(nodes[2].gaps[1] == 0, "gaps %llu", (unsigned long long)nodes[2].gaps[1]);
    agora_status st;
    memset(&st, 0, sizeof st);
    ops->status(nodes[1].be, &st);
    CHECKF(st.reconnects >= 2, "reconnects %llu", (unsigned long long)st.reconnects);
    free_all();
}

/* Beyond the resend buffer the receiver is told exactly how much it missed. */
static void t_resend_gap(void) {
    nopts o1 = {.secret = "s3cret", .seeds = {2}, .resend = 100};
    nopts o2 = {.secret = "s3cret"};
    node_open(1, &o1);
    node_open(2, &o2);
    mesh_arg a = {2};
    CHECKF(run_until(all_linked, &a, 5000), "not linked");
    nodes[1].events_per_msg = 1;
    nodes[1].want_msgs = 50;
    pump(&nodes[1]);
    CHECKF(run_until(all_received, &a, 10000), "first 50 not received");
    /* node 2's transport goes away (its receive state stays, as in a live process) */
    node_close_backend(2);
    run_for(200);
    nodes[1].want_msgs = 550; /* 500 more while node 2 is away */
    pump(&nodes[1]);
    run_for(300);
    CHECKF(nodes[1].done_msgs == 550, "with no peer, messages finish at once (%zu)", nodes[1].done_msgs);
    node_open(2, &o2);
    CHECKF(run_until(all_received, &a, 10000), "did not resume");
    run_for(100);
    CHECKF(nodes[2].gaps[1] == 400, "gap %llu, want 400", (unsigned long long)nodes[2].gaps[1]);
    CHECKF(nodes[2].got[1] == 150, "got %llu, want 150", (unsigned long long)nodes[2].got[1]);
    CHECKF(nodes[2].dups[1] == 0, "dups %llu", (unsigned long long)nodes[2].dups[1]);
    free_all();
}

static bool logged_both(void *arg) {
    const char *s = arg;
    return logged(&nodes[1], s) && logged(&nodes[2], s);
}

static void t_wrong_secret(void) {
    nopts o1 = {.secret = "right", .seeds = {2}};
    nopts o2 = {.secret = "wrong"};
    node_open(1, &o1);
    node_open(2, &o2);
    CHECKF(run_until(logged_both, "wrong cluster secret?", 5000),
           "both sides must log the wrong secret");
    run_for(300);
    CHECKF(nodes[1].link[2] == 0 && nodes[2].link[1] == 0, "linked despite a wrong secret");
    CHECKF(!nodes[1].fh.connected && !nodes[2].fh.connected, "connected despite a wrong secret");
    /* The secret never crosses the wire, and is never logged. */
    for (int i = 1; i <= 2; i++)
        CHECKF(!fake_logged(&nodes[i].fh, "right") && !fake_logged(&nodes[i].fh, "wrong\""),
               "node %d: secret in log:\n%s", i, nodes[i].fh.log);
    free_all();
}

static void t_plaintext(void) {
    nopts o1 = {.seeds = {2}};
    nopts o2 = {0};
    node_open(1, &o1);
    node_open(2, &o2);
    CHECKF(logged(&nodes[1], "neither encrypted nor authenticated"), "no plaintext warning");
    mesh_arg a = {2};
    CHECKF(run_until(all_linked, &a, 5000), "not linked");
    CHECKF(logged(&nodes[1], "plaintext"), "connection not logged as plaintext");
    nodes[1].want_msgs = nodes[2].want_msgs = 500;
    pump(&nodes[1]);
    pump(&nodes[2]);
    CHECKF(run_until(all_received, &a, 20000), "not received");
    CHECKF(nodes[2].got[1] == nodes[1].next_seq - 1 && nodes[1].got[2] == nodes[2].next_seq - 1,
           "counts differ");
    free_all();
    /* A TLS node and a plaintext node refuse each other with a clear reason. */
    nopts t1 = {.secret = "s3cret", .seeds = {2}};
    node_open(1, &t1);
    node_open(2, &o2);
    run_for(1500);
    CHECKF(nodes[1].link[2] == 0 && nodes[2].link[1] == 0, "TLS and plaintext linked");
    CHECKF(logged(&nodes[2], "speaks TLS") || logged(&nodes[1], "does not speak TLS"),
           "no clear mismatch message");
    free_all();
    /* The other way round: a plaintext node dials a TLS node, which drops (often
     * resets) the connection; the dialler says what that probably means. */
    nopts p1 = {.seeds = {2}};
    nopts t2 = {.secret = "s3cret"};
    node_open(1, &p1);
    node_open(2, &t2);
    run_for(1500);
    CHECKF(nodes[1].link[2] == 0 && nodes[2].link[1] == 0, "plaintext and TLS linked");
    CHECKF(logged(&nodes[1], "probably uses TLS") || logged(&nodes[1], "speaks TLS"),
           "the plaintext dialler did not say why:\n%s", nodes[1].fh.log);
    CHECKF(logged(&nodes[2], "does not speak TLS"), "the TLS node did not say why");
    free_all();
}

/* ---- raw peers ------------------------------------------------------------ */

/* Poll the loops until the raw socket is closed by the node (read returns 0). */
static bool raw_closed_fd(void *arg) {
    int fd = *(int *)arg;
    uint8_t buf[4096];
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (r == 0) return true;
        if (r < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
    }
}

/* Garbage and oversized frames are disconnected; the others keep flowing. */
static void t_garbage(void) {
    nopts o1 = {.seeds = {2}, .max_frame = 65536};
    nopts o2 = {0};
    node_open(1, &o1);
    node_open(2, &o2);
    mesh_arg a = {2};
    CHECKF(run_until(all_linked, &a, 5000), "not linked");
    nodes[2].want_msgs = 2000;
    pump(&nodes[2]);

    /* 1. plain garbage */
    int g = raw_connect(port_of(1), 0);
    const char junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECKF(send(g, junk, sizeof junk - 1, MSG_NOSIGNAL) > 0, "send junk");
    CHECKF(run_until(raw_closed_fd, &g, 3000), "garbage peer not disconnected");
    close(g);
    CHECKF(logged(&nodes[1], "not an agora PeerToPeer peer"), "garbage not logged");

    /* 2. an oversized frame after a valid HELLO */
    int o = raw_connect(port_of(1), 0);
    raw_hello(o, 7, 77);
    uint8_t hdr[5] = {0, 0x10, 0, 0, P2P_FRAME_DATA}; /* 1 MiB > maxFrame 64 KiB */
    CHECKF(send(o, hdr, 5, MSG_NOSIGNAL) == 5, "send oversized header");
    CHECKF(run_until(raw_closed_fd, &o, 3000), "oversized frame not disconnected");
    close(o);
    CHECKF(logged(&nodes[1], "exceeds maxFrame"), "oversized frame not logged");

    /* 3. an unknown frame type after HELLO */
    int u = raw_connect(port_of(1), 0);
    raw_hello(u, 6, 66);
    raw_frame(u, 99, "x", 1);
    CHECKF(run_until(raw_closed_fd, &u, 3000), "unknown frame type not disconnected");
    close(u);
    CHECKF(logged(&nodes[1], "unknown frame type 99"), "unknown frame not logged");

    /* 4. a bad protocol version */
    int v = raw_connect(port_of(1), 0);
    uint8_t b[17] = {'A', 'G', 'P', '2', 9, 0, 5};
    b[16] = 0;
    raw_frame(v, P2P_FRAME_HELLO, b, sizeof b);
    CHECKF(run_until(raw_closed_fd, &v, 3000), "bad version not disconnected");
    close(v);
    CHECKF(logged(&nodes[1], "protocol version 9 is not supported"), "bad version not logged");

    /* 5. connects and says nothing: closed after connectTimeout (700 ms here) */
    int q = raw_connect(port_of(1), 0);
    uint64_t t0 = ag_now_ms();
    CHECKF(run_until(raw_closed_fd, &q, 3000), "silent peer not disconnected");
    uint64_t waited = ag_now_ms() - t0;
    close(q);
    CHECKF(waited >= 600 && waited < 2000, "silent peer closed after %llu ms", (unsigned long long)waited);
    CHECKF(logged(&nodes[1], "handshake timed out"), "silent peer not logged");

    /* 6. random bytes after a valid HELLO, and random bytes alone: never a crash */
    allow_bad_payloads = true;
    srand(12345);
    for (int k = 0; k < 60; k++) {
        int r = raw_connect(port_of(1), 0);
        if (r < 0) continue;
        if (k % 2) raw_hello(r, 100 + k, 1000 + (uint64_t)k);
        uint8_t junkb[1500];
        size_t n = 1 + (size_t)rand() % sizeof junkb;
        for (size_t i = 0; i < n; i++) junkb[i] = (uint8_t)rand();
        if (k % 3 == 0) { /* a plausible small frame header first */
            junkb[0] = 0;
            junkb[1] = 0;
            junkb[2] = (uint8_t)(rand() % 4);
            junkb[4] = (uint8_t)(1 + rand() % 5);
        }
        ssize_t w = send(r, junkb, n, MSG_NOSIGNAL);
        (void)w;
        run_for(5);
        close(r);
    }
    run_for(200);
    allow_bad_payloads = false;

    /* the real peers never noticed */
    CHECKF(run_until(all_received, &a, 20000), "traffic between the good nodes stopped");
    CHECKF(nodes[1].got[2] == nodes[2].next_seq - 1 && nodes[1].gaps[2] == 0, "lost events");
    CHECKF(nodes[1].link[2] == 1 && nodes[2].link[1] == 1, "good link dropped");
    free_all();
}

static bool gave_up(void *arg) { return nodes[*(int *)arg].fh.fatal != 0; }

static bool p2p_idle(int idx) {
    p2p *b = (p2p *)nodes[idx].be;
    return b->conns == NULL && b->nlfds == 0;
}

/* A second process claiming a live node's id is refused, with a message on both
 * sides, and gives up for good (status failure AGORA_EDUPID, no more connections)
 * instead of retrying forever; a node claiming the receiver's own id too. */
static void t_dup_id(void) {
    nopts o1 = {.secret = "s3cret"};
    nopts o2 = {.secret = "s3cret", .seeds = {1}};
    node_open(1, &o1);
    node_open(2, &o2);
    nodes[1].heartbeats = nodes[2].heartbeats = true;
    mesh_arg a = {2};
    CHECKF(run_until(all_linked, &a, 5000), "not linked");
    nopts o3 = {.secret = "s3cret", .seeds = {1}, .claim_id = 2};
    node_open(3, &o3);
    run_for(1500);
    CHECKF(logged(&nodes[1], "refused as a duplicate node id; its events are not delivered here"),
           "node 1 did not say the duplicate's events are lost to it");
    CHECKF(logged(&nodes[3], "refused this node: node id 2 is already in use"),
           "the duplicate did not log why");
    CHECKF(nodes[1].link[2] == 1, "the original node 2 lost its link");
    int three = 3, four = 4;
    CHECKF(run_until(gave_up, &three, 10000), "the duplicate did not give up");
    CHECKF(nodes[3].fh.fatal == AGORA_EDUPID, "gave up with %d", nodes[3].fh.fatal);
    CHECKF(logged(&nodes[3], "giving up: node id 2 is already in use"), "no clear reason logged");
    run_for(300);
    CHECKF(p2p_idle(3), "the duplicate still listens or has connections");
    agora_status st;
    memset(&st, 0, sizeof st);
    ops->status(nodes[3].be, &st);
    CHECKF(st.failure == AGORA_EDUPID && !st.connected, "status: failure %d connected %d",
           st.failure, st.connected);
    CHECKF(!nodes[1].fh.fatal && !nodes[2].fh.fatal, "a real node gave up");
    nodes[2].want_msgs = 100;
    pump(&nodes[2]);
    mesh_arg a2 = {2};
    CHECKF(run_until(all_received, &a2, 10000), "original node 2's events stopped");
    node_close_backend(3);
    node_free(3);

    nopts o4 = {.secret = "s3cret", .seeds = {1}, .claim_id = 1};
    node_open(4, &o4);
    run_for(800);
    CHECKF(logged(&nodes[1], "which is this node's own id"), "own id not refused");
    CHECKF(logged(&nodes[4], "refused this node: node id 1 is this node's own id") ||
              logged(&nodes[4], "claims node id 1, which is this node's own id"),
           "the impostor did not log why");
    /* node 4 started later (larger incarnation): it is the one that gives up */
    CHECKF(run_until(gave_up, &four, 10000), "the impostor did not give up");
    CHECKF(!nodes[1].fh.fatal, "the real node 1 gave up");
    free_all();
}

static size_t log_lines(tnode *n) {
    size_t k = 0;
    for (const char *p = n->fh.log; p && *p; p++) k += *p == '\n';
    return k;
}

/* 1,000 bad connections in a burst (garbage, plaintext HELLOs to a TLS node, broken
 * TLS, silent hang-ups) log a bounded number of lines: one per cause per 10 s, the
 * rest counted as suppressed. The good link never notices. */
static void t_log_flood(void) {
    nopts o1 = {.secret = "s3cret", .seeds = {2}};
    nopts o2 = {.secret = "s3cret"};
    node_open(1, &o1);
    node_open(2, &o2);
    mesh_arg a = {2};
    CHECKF(run_until(all_linked, &a, 5000), "not linked");
    size_t before = log_lines(&nodes[1]);
    static const uint8_t broken_tls[] = {0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5};
    const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    int made = 0;
    for (int batch = 0; batch < 10; batch++) {
        int fds[100];
        for (int i = 0; i < 100; i++) {
            int fd = fds[i] = raw_connect(port_of(1), 0);
            if (fd < 0) continue;
            made++;
            switch (i % 4) {
            case 0: CHECKF(send(fd, http, sizeof http - 1, MSG_NOSIGNAL) > 0, "send"); break;
            case 1: raw_hello(fd, 300 + i, 7); break;
            case 2: CHECKF(send(fd, broken_tls, sizeof broken_tls, MSG_NOSIGNAL) > 0, "send"); break;
            default: break; /* hangs up at once */
            }
            if (i % 4 == 3) {
                close(fd);
                fds[i] = -1;
            }
        }
        run_for(100);
        for (int i = 0; i < 100; i++)
            if (fds[i] >= 0) close(fds[i]);
        run_for(20);
    }
    run_for(500);
    size_t lines = log_lines(&nodes[1]) - before;
    CHECKF(made >= 990, "only %d connections made", made);
    CHECKF(lines <= 2 * P2P_LOG_NCAUSES, "%zu log lines for %d bad connections:\n%s", lines, made,
           nodes[1].fh.log);
    CHECKF(logged(&nodes[1], "does not speak TLS"), "the plaintext peers were not reported");
    CHECKF(logged(&nodes[1], "more suppressed") || lines < 10, "no count of what was suppressed");
    CHECKF(nodes[1].link[2] == 1 && nodes[2].link[1] == 1, "the good link dropped");
    free_all();
}

/* Nodes 1 (options o1) and 2, linked, and a raw peer (node 5) linked to node 1 that
 * never reads, or, if slow, that run_until reads 2 KiB every 5 ms. Returns its fd. */
static int open_with_raw_peer(const nopts *o1, bool slow) {
    nopts o2 = {0};
    node_open(1, o1);
    node_open(2, &o2);
    mesh_arg a = {2};
    CHECKF(run_until(all_linked, &a, 5000), "not linked");
    int s = raw_stalled_peer(port_of(1));
    if (slow) {
        slow_fd = s;
        slow_read_bytes = 0;
    }
    run_for(200);
    CHECKF(nodes[1].link[5] == 1, "%s peer not linked", slow ? "slow" : "stalled");
    return s;
}

/* A reader that stops reading is cut off once it falls out of the ring, and the
 * other peer keeps receiving. */
static void t_stalled(void) {
    nopts o1 = {.seeds = {2}, .resend = 300};
    int s = open_with_raw_peer(&o1, false);
    mesh_arg a = {2};
    nodes[1].events_per_msg = 1;
    nodes[1].filler = 16384;
    nodes[1].want_msgs = 3000; /* ~48 MiB: far beyond socket buffers and the ring */
    pump(&nodes[1]);
    CHECKF(run_until(all_received, &a, 60000), "the good peer did not get everything");
    CHECKF(nodes[2].got[1] == 3000 && nodes[2].gaps[1] == 0, "good peer got %llu",
           (unsigned long long)nodes[2].got[1]);
    CHECKF(logged(&nodes[1], "stalled reader"), "stalled reader not logged");
    CHECKF(nodes[1].link[5] == 0, "stalled reader still linked");
    close(s);
    free_all();
}

static size_t unfinished_ctrl(tnode *n) {
    size_t k = 0;
    for (size_t i = 0; i < n->ninflight; i++)
        if (!n->inflight[i]->m.sequenced) k++;
    return k;
}

static bool logged_lagging(void *arg) {
    tnode *n = arg;
    return logged(n, "is not reading") || logged(n, "is not keeping up");
}

/* A reader that stops reading but stays connected (it still fits in the ring) does
 * not keep heartbeats unfinished once it counts as lagging: they are queued for it,
 * but the core, which allows only so many messages in flight, is told they are done. */
static void t_stalled_ctrl(void) {
    nopts o1 = {.seeds = {2}};
    int s = open_with_raw_peer(&o1, false);
    mesh_arg a = {2};
    nodes[1].heartbeats = true;
    nodes[1].events_per_msg = 1;
    nodes[1].filler = 16384;
    nodes[1].want_msgs = 400; /* ~6.4 MiB: beyond socket buffers, within the ring */
    pump(&nodes[1]);
    CHECKF(run_until(all_received, &a, 30000), "the good peer did not get everything");
    CHECKF(run_until(logged_lagging, &nodes[1], 5000), "the stalled peer never counted as lagging");
    run_for(1500); /* 15 heartbeats, none of which the stalled peer reads */
    CHECKF(nodes[1].link[5] == 1, "the stalled peer was cut off (this case needs it linked)");
    CHECKF(unfinished_ctrl(&nodes[1]) <= 2, "%zu heartbeats unfinished behind a lagging peer",
           unfinished_ctrl(&nodes[1]));
    CHECKF(nodes[2].ctrl[1] >= 10, "the good peer got %llu heartbeats",
           (unsigned long long)nodes[2].ctrl[1]);
    nodes[1].heartbeats = false;
    close(s);
    free_all();
}

/* A peer that never heard this node gets what is published from the moment its
 * link came up (no history, like a broker subscription); a peer that heard an
 * earlier life of a restarted node gets all of the new life. */
static void t_join_restart(void) {
    nopts o1 = {.secret = "s3cret", .seeds = {2}};
    nopts o2 = {.secret = "s3cret"};
    node_open(1, &o1);
    nodes[1].events_per_msg = 1;
    nodes[1].want_msgs = 100;
    pump(&nodes[1]);
    run_for(200);
    CHECKF(nodes[1].done_msgs == 100, "alone, messages finish at once");
    node_open(2, &o2);
    mesh_arg a = {2};
    CHECKF(run_until(all_linked, &a, 5000), "not linked");
    nodes[1].want_msgs = 150;
    pump(&nodes[1]);
    CHECKF(run_until(all_received, &a, 5000) || nodes[2].got[1] == 50, "late joiner");
    run_for(100);
    CHECKF(nodes[2].got[1] == 50 && nodes[2].gaps[1] == 0, "late joiner got %llu gaps %llu",
           (unsigned long long)nodes[2].got[1], (unsigned long long)nodes[2].gaps[1]);
    /* node 1 restarts: new incarnation, sequence from 1, publishes before reconnecting */
    node_close_backend(1);
    nodes[1].fh.host.incarnation += 1;
    nodes[1].next_seq = 1;
    nodes[1].sent_msgs = nodes[1].done_msgs = 0;
    nodes[1].want_msgs = 30;
    nopts none = {.secret = "s3cret"};
    node_open(1, &none); /* no seeds: node 2 is not dialled yet */
    pump(&nodes[1]);
    run_for(100);
    ops->member_update(nodes[1].be, 2, "127.0.0.1:27312", false); /* as membership would */
    got_arg g = {2, 1, 80};
    CHECKF(run_until(got_at_least, &g, 5000), "restarted node's events: got %llu",
           (unsigned long long)nodes[2].got[1]);
    CHECKF(nodes[2].gaps[1] == 0, "gaps %llu", (unsigned long long)nodes[2].gaps[1]);
    free_all();
}

/* IPv6 loopback works like IPv4. */
static void t_ipv6(void) {
    nopts o1 = {.secret = "s3cret", .seeds = {2}, .v6 = true};
    nopts o2 = {.secret = "s3cret", .v6 = true};
    node_open(1, &o1);
    node_open(2, &o2);
    mesh_arg a = {2};
    CHECKF(run_until(all_linked, &a, 5000), "not linked over ::1");
    agora_status st;
    memset(&st, 0, sizeof st);
    ops->status(nodes[2].be, &st);
    CHECKF(strcmp(st.server, "[::1]:27312") == 0, "advertise %s", st.server);
    nodes[1].want_msgs = 200;
    pump(&nodes[1]);
    CHECKF(run_until(all_received, &a, 10000), "not received over ::1");
    free_all();
}

/* A reader slower than the publisher no longer holds the others back after a
 * second; once it falls out of the ring it is cut off. */
static void t_slow(void) {
    nopts o1 = {.seeds = {2}, .resend = 300};
    int s = open_with_raw_peer(&o1, true);
    mesh_arg a = {2};
    nodes[1].events_per_msg = 1;
    nodes[1].filler = 16384;
    nodes[1].want_msgs = 3000; /* ~48 MiB; the slow reader takes ~400 KiB/s */
    uint64_t t0 = ag_now_ms();
    pump(&nodes[1]);
    CHECKF(run_until(all_received, &a, 60000), "the good peer did not get everything");
    uint64_t took = ag_now_ms() - t0;
    CHECKF(took < 15000, "the good peer was held back: %llu ms", (unsigned long long)took);
    CHECKF(nodes[2].got[1] == 3000 && nodes[2].gaps[1] == 0, "good peer got %llu",
           (unsigned long long)nodes[2].got[1]);
    run_for(300);
    CHECKF(logged(&nodes[1], "is not keeping up") || logged(&nodes[1], "is not reading"),
           "lagging reader not logged");
    CHECKF(logged(&nodes[1], "stalled reader"), "slow reader never cut off");
    CHECKF(nodes[1].link[5] == 0, "slow reader still linked");
    CHECKF(slow_read_bytes > 0, "the slow reader read nothing");
    slow_fd = -1;
    close(s);
    free_all();
}

static const ts_scenario scenarios[] = {
    {"ipv6", .fn = t_ipv6},
    {"slow", .fn = t_slow},
    {"join_restart", .fn = t_join_restart},
    {"mesh", .fn = t_mesh},
    {"resend", .fn = t_resend},
    {"resend_gap", .fn = t_resend_gap},
    {"wrong_secret", .fn = t_wrong_secret},
    {"plaintext", .fn = t_plaintext},
    {"garbage", .fn = t_garbage},
    {"dup_id", .fn = t_dup_id},
    {"log_flood", .fn = t_log_flood},
    {"stalled", .fn = t_stalled},
    {"stalled_ctrl", .fn = t_stalled_ctrl},
};

int main(int argc, char **argv) {
    srand((unsigned)getpid());
    return ts_run_scenarios(scenarios, TS_COUNT(scenarios), argc > 1 ? argv[1] : "all", &failures);
}
