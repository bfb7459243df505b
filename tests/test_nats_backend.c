/* test_nats_backend.c — the NATS backend on its own, against real nats-server
 * processes, driven through a small test host (our own ag_host: a loop on this
 * thread, an outbox that retries failed messages, a receiver that checks every
 * payload).
 *
 * Usage: test_nats_backend <case>   (one ctest entry per case, each on its own ports)
 *   delivery   3 nodes on one server: all-to-all, nothing lost, no own echo, status
 *   echo       noEcho false: a node also hears itself
 *   restart    server killed and restarted while nodes publish: nothing lost,
 *              disconnected/connected reported, reconnects counted
 *   down       server down at start: open succeeds, disconnected, connects later
 *   cluster    2-server cluster; the server used by a node is restarted mid-stream
 *   auth       user/password: right ones work, wrong ones fail with a clear error
 *   token      token credentials: right one works, wrong one fails clearly
 *   tls        TLS-only server with a self-signed certificate (trusted through
 *              SSL_CERT_FILE): works with useTls, refused without it
 *   maxrec     maxReconnects 2: gives up after the server stays down
 *   evicted    a hole reaching further back than the origin keeps: the part it no
 *              longer has is reported as a gap at once, the rest is resent
 *   tail       a hole at the end of a stream, found through the origin's heartbeat
 *              claims, is resent */
#include "agora.h"
#include "codec/wire.h"
#include "config/config.h"
#include "backend/registry.h"
#include "core/backend.h"
#include "core/loop.h"
#include "fake_host.h"
#include "nats_fixture.h"
#include "scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

#define MAXN 4
#define MAXSEQ 80000

static ag_loop *loop;

/* ---- a test host per node --------------------------------------------------- */

typedef struct tnode {
    fake_host fh; /* first; connection state and log lines recorded there */
    agora_config *cfg;
    const ag_backend_ops *ops;
    ag_backend *be;
    uint16_t id;
    /* sending: payload i (1..total) is "id seq" */
    uint32_t total, next;   /* next seq to offer */
    uint32_t *retry;        /* seqs whose msg_done failed, offered again first */
    size_t nretry, capretry;
    struct tmsg *live;
    uint64_t acked, failed, accepted;
    /* receiving */
    uint8_t *seen[MAXN + 1]; /* per origin: count of receipts of each seq */
    uint64_t rpos[MAXN + 1]; /* per origin: next expected seq, as the core keeps it */
    uint64_t received, dups, own, gaps;
    /* log lines counted */
    char gonelog[512]; /* the repair's "no longer keeps" warning, if any */
    int late;          /* repairs given up after their time limit */
    int claims;        /* repairs started by a heartbeat's claim */
    uint64_t heartbeats; /* received */
} tnode;

typedef struct tmsg {
    ag_msg m;
    uint32_t seq;     /* 0: a heartbeat */
    uint8_t buf[48];
    struct tmsg *prev, *next; /* the node's accepted, unfinished messages */
} tmsg;

/* Payloads are agora EVENTS headers (origin, incarnation 1, seq, count 1), so the
 * backend's gap repair sees them as it sees the core's messages. */
static ag_wire_header hdr;

static void t_deliver(fake_host *f, const uint8_t *data, size_t len) {
    tnode *n = (tnode *)f;
    char err[200];
    if (ag_wire_parse(data, len, &hdr, err, sizeof err) == 0 && hdr.kind == AG_WIRE_HEARTBEAT) {
        n->heartbeats++;
        return;
    }
    if (ag_wire_parse(data, len, &hdr, err, sizeof err) != 0 || hdr.kind != AG_WIRE_EVENTS ||
        hdr.origin > MAXN || hdr.first_seq > MAXSEQ || hdr.count != 1) {
        fprintf(stderr, "bad payload: %s\n", err);
        CHECK(!"bad payload");
        return;
    }
    unsigned origin = hdr.origin;
    uint64_t seq = hdr.first_seq;
    if (origin == n->id) n->own++;
    /* The core's receive position: baseline, duplicates, gaps. */
    uint64_t *next = &n->rpos[origin];
    if (*next == 0) *next = seq;
    if (seq < *next) {
        n->dups++;
        return;
    }
    if (seq > *next) n->gaps += seq - *next;
    *next = seq + 1;
    if (n->seen[origin][seq]++) n->dups++;
    else n->received++;
}

static void unlink_msg(tnode *n, tmsg *m) {
    if (m->prev) m->prev->next = m->next;
    else n->live = m->next;
    if (m->next) m->next->prev = m->prev;
}

static void t_msg_done(fake_host *f, ag_msg *msg, int status) {
    tnode *n = (tnode *)f;
    tmsg *m = (tmsg *)msg;
    unlink_msg(n, m);
    if (m->seq == 0) { /* a heartbeat: not retried, as the core does not */
    } else if (status == AGORA_OK) {
        n->acked++;
    } else {
        n->failed++;
        if (n->nretry == n->capretry) {
            n->capretry = n->capretry ? n->capretry * 2 : 256;
            n->retry = realloc(n->retry, n->capretry * sizeof *n->retry);
        }
        n->retry[n->nretry++] = m->seq;
    }
    free(m);
}

static void t_log(fake_host *f, agora_log_level level, const char *line) {
    tnode *n = (tnode *)f;
    (void)level;
    if (strstr(line, "no longer keeps")) snprintf(n->gonelog, sizeof n->gonelog, "%s", line);
    if (strstr(line, "did not resend")) n->late++;
    if (strstr(line, "claims sequence")) n->claims++;
}

static void t_recv_position(fake_host *f, uint16_t node, uint64_t *inc, uint64_t *next) {
    tnode *n = (tnode *)f;
    *next = node <= MAXN ? n->rpos[node] : 0;
    *inc = *next ? 1 : 0;
}

static agora_config *make_cfg(uint16_t id, const char *coord) {
    char json[2048], err[1024];
    snprintf(json, sizeof json, "{\"nodeId\":%u,\"coordinator\":%s}", id, coord);
    agora_config *c = agora_config_parse(json, strlen(json), err, sizeof err);
    if (!c) fprintf(stderr, "config: %s\n", err);
    return c;
}

/* Open a node; returns the backend's open status (err filled). */
static int node_open(tnode *n, uint16_t id, const char *coord, uint32_t total, char *err,
                     size_t errlen) {
    memset(n, 0, sizeof *n);
    n->id = id;
    n->total = total;
    n->next = 1;
    n->cfg = make_cfg(id, coord);
    if (!n->cfg) return AGORA_ECONFIG;
    for (int i = 0; i <= MAXN; i++) n->seen[i] = calloc(MAXSEQ + 1, 1);
    char name[16];
    snprintf(name, sizeof name, "node %u", (unsigned)id);
    fake_host_init(&n->fh, loop, n->cfg, id, name);
    n->fh.verbose_env = "NATS_TEST_VERBOSE";
    n->fh.on_deliver = t_deliver;
    n->fh.on_msg_done = t_msg_done;
    n->fh.on_log = t_log;
    n->fh.on_recv_position = t_recv_position;
    n->ops = ag_backend_lookup("Nats");
    if (!n->ops) return AGORA_ENOBACKEND;
    err[0] = 0;
    int rc = n->ops->open(&n->fh.host, &n->be, err, errlen);
    if (rc != AGORA_OK) n->be = NULL;
    return rc;
}

/* Open n's backend again after closing it alone: the host, and with it the
 * receive positions the core keeps, carried on. */
static int node_reopen(tnode *n, char *err, size_t errlen) {
    err[0] = 0;
    int rc = n->ops->open(&n->fh.host, &n->be, err, errlen);
    if (rc != AGORA_OK) n->be = NULL;
    return rc;
}

static void node_close(tnode *n) {
    if (n->be) n->ops->close(n->be);
    n->be = NULL;
    while (n->live) { /* abandoned by close, as the contract says */
        tmsg *m = n->live;
        unlink_msg(n, m);
        free(m);
    }
    for (int i = 0; i <= MAXN; i++) free(n->seen[i]);
    free(n->retry);
    agora_config_free(n->cfg);
    fake_host_free(&n->fh);
    memset(n, 0, sizeof *n);
}

/* Offer what the node still has to send, as the core would. */
static void node_pump(tnode *n) {
    while (n->be && !n->fh.blocked) {
        uint32_t seq;
        bool from_retry = n->nretry > 0;
        if (from_retry) seq = n->retry[0];
        else if (n->next <= n->total) seq = n->next;
        else return;
        tmsg *m = calloc(1, sizeof *m);
        m->seq = seq;
        ag_buf b;
        ag_buf_init(&b);
        ag_wire_put_events_header(&b, n->id, 1, seq, 1);
        memcpy(m->buf, b.data, b.len);
        m->m.data = m->buf;
        m->m.len = b.len;
        ag_buf_free(&b);
        m->m.sequenced = true;
        m->m.first_seq = seq;
        m->m.nevents = 1;
        int rc = n->ops->publish(n->be, &m->m);
        if (rc == AGORA_EAGAIN) {
            free(m);
            n->fh.blocked = true;
            return;
        }
        CHECK(rc == AGORA_OK);
        if (rc != AGORA_OK) {
            free(m);
            return;
        }
        n->accepted++;
        m->next = n->live;
        if (n->live) n->live->prev = m;
        n->live = m;
        if (from_retry) memmove(n->retry, n->retry + 1, --n->nretry * sizeof *n->retry);
        else n->next++;
    }
}

/* A heartbeat from n, claiming what it sent so far (as the core's do), if the
 * backend takes it now. */
static void node_heartbeat(tnode *n) {
    tmsg *m = calloc(1, sizeof *m);
    ag_buf b;
    ag_buf_init(&b);
    ag_wire_put_heartbeat(&b, n->id, 1, n->next, "", NULL, 0);
    memcpy(m->buf, b.data, b.len);
    m->m.data = m->buf;
    m->m.len = b.len;
    ag_buf_free(&b);
    if (n->ops->publish(n->be, &m->m) != AGORA_OK) {
        free(m);
        return;
    }
    m->next = n->live;
    if (n->live) n->live->prev = m;
    n->live = m;
}

static agora_status node_status(tnode *n) {
    agora_status st;
    memset(&st, 0, sizeof st);
    n->ops->status(n->be, &st);
    return st;
}

/* Run the loop (pumping every node) until cond() or the deadline. */
typedef bool (*cond_fn)(tnode *nodes, int count);
static bool run_until(tnode *nodes, int count, cond_fn cond, int timeout_ms) {
    long long deadline = nats_now_ms() + timeout_ms;
    for (;;) {
        for (int i = 0; i < count; i++) node_pump(&nodes[i]);
        if (cond(nodes, count)) return true;
        if (nats_now_ms() >= deadline) return false;
        ag_loop_run_once(loop, 5);
    }
}

/* Run the loop for `ms`, offering as run_until does: for what a test lets happen
 * rather than awaits (an outage, nodes queueing while refused). */
static void run_for(tnode *nodes, int count, int ms) {
    long long until = nats_now_ms() + ms;
    while (nats_now_ms() < until) {
        for (int i = 0; i < count; i++) node_pump(&nodes[i]);
        ag_loop_run_once(loop, 5);
    }
}

static bool all_connected(tnode *ns, int c) {
    for (int i = 0; i < c; i++)
        if (!ns[i].fh.connected) return false;
    return true;
}
static bool all_disconnected(tnode *ns, int c) {
    for (int i = 0; i < c; i++)
        if (ns[i].fh.connected) return false;
    return true;
}
/* Every node got every other node's whole stream. */
static bool all_delivered(tnode *ns, int c) {
    for (int i = 0; i < c; i++) {
        uint64_t want = 0;
        for (int j = 0; j < c; j++)
            if (j != i) want += ns[j].total;
        if (ns[i].received - ns[i].own < want) return false;
    }
    return true;
}
static bool all_acked(tnode *ns, int c) {
    for (int i = 0; i < c; i++)
        if (ns[i].acked < ns[i].total) return false;
    return true;
}
static bool half_sent(tnode *ns, int c) {
    for (int i = 0; i < c; i++)
        if (ns[i].acked < ns[i].total / 2) return false;
    return true;
}

static void report_missing(tnode *ns, int c) {
    for (int i = 0; i < c; i++)
        for (int j = 0; j < c; j++) {
            if (i == j) continue;
            uint32_t missing = 0, first = 0;
            for (uint32_t s = 1; s <= ns[j].total; s++)
                if (!ns[i].seen[ns[j].id][s] && !missing++) first = s;
            if (missing)
                fprintf(stderr, "node %u missed %u of node %u's messages (first %u); acked %llu failed %llu; gaps %llu\n",
                        ns[i].id, missing, ns[j].id, first, (unsigned long long)ns[j].acked,
                        (unsigned long long)ns[j].failed, (unsigned long long)ns[i].gaps);
        }
}

static void coord(char *buf, size_t len, const char *addresses, const char *extra) {
    snprintf(buf, len, "{\"@type\":\"Nats\",\"addresses\":[%s]%s%s}", addresses,
             extra && *extra ? "," : "", extra ? extra : "");
}

/* Nodes 1 and 2 on coordinator `c`, `total` messages each: true once each got all of
 * the other's (within 10 s). A node that does not open says why. */
static bool pair_delivers(const char *c, uint32_t total) {
    tnode ns[2];
    char err[256];
    bool ok = true;
    for (int i = 0; i < 2; i++)
        if (node_open(&ns[i], (uint16_t)(i + 1), c, total, err, sizeof err) != AGORA_OK) {
            fprintf(stderr, "node %d: %s\n", i + 1, err);
            ok = false;
        }
    ok = run_until(ns, 2, all_delivered, 10000) && ok;
    for (int i = 0; i < 2; i++) node_close(&ns[i]);
    return ok;
}

/* Open node 3 on coordinator `c` (expected to be refused) and close it again: the code
 * open returned; its message is left in err. */
static int open_refused(const char *c, char *err, size_t errlen) {
    tnode bad;
    int rc = node_open(&bad, 3, c, 0, err, errlen);
    node_close(&bad);
    return rc;
}

/* ---- cases ------------------------------------------------------------------ */

static int case_delivery(void) {
    nats_srv_opts so = {.port = 24000};
    nats_srv *s = nats_srv_start(&so);
    if (!s) return 1;
    tnode ns[3];
    char c[512], err[256];
    /* Both address forms: with and without "nats://". */
    coord(c, sizeof c, "\"127.0.0.1:24000\"", "\"timeoutRequest\":\"2s\"");
    CHECK(node_open(&ns[0], 1, c, 20000, err, sizeof err) == AGORA_OK);
    coord(c, sizeof c, "\"nats://127.0.0.1:24000\"", NULL);
    CHECK(node_open(&ns[1], 2, c, 20000, err, sizeof err) == AGORA_OK);
    CHECK(node_open(&ns[2], 3, c, 20000, err, sizeof err) == AGORA_OK);
    CHECK(run_until(ns, 3, all_connected, 5000));
    agora_status st = node_status(&ns[0]);
    CHECK(st.connected);
    CHECK(strcmp(st.server, "127.0.0.1:24000") == 0);
    CHECK(st.reconnects == 0);
    CHECK(st.peers == 1);
    long long t0 = nats_now_ms();
    CHECK(run_until(ns, 3, all_delivered, 60000));
    CHECK(run_until(ns, 3, all_acked, 10000));
    fprintf(stderr, "delivery: 60000 messages all-to-all in %lld ms\n", nats_now_ms() - t0);
    /* Give stray echoes a moment to show up if noEcho were ignored. */
    long long until = nats_now_ms() + 300;
    while (nats_now_ms() < until) ag_loop_run_once(loop, 10);
    for (int i = 0; i < 3; i++) {
        CHECK(ns[i].own == 0);
        CHECK(ns[i].dups == 0);
        CHECK(ns[i].failed == 0);
        CHECK(ns[i].received == 40000);
    }
    if (!all_delivered(ns, 3)) report_missing(ns, 3);
    for (int i = 0; i < 3; i++) node_close(&ns[i]);
    nats_srv_free(s);
    return 0;
}

static int case_echo(void) {
    nats_srv_opts so = {.port = 24005};
    nats_srv *s = nats_srv_start(&so);
    if (!s) return 1;
    tnode ns[1];
    char c[512], err[256];
    coord(c, sizeof c, "\"127.0.0.1:24005\"", "\"noEcho\":false");
    CHECK(node_open(&ns[0], 1, c, 100, err, sizeof err) == AGORA_OK);
    CHECK(run_until(ns, 1, all_acked, 5000));
    long long until = nats_now_ms() + 5000;
    while (ns[0].own < 100 && nats_now_ms() < until) ag_loop_run_once(loop, 10);
    CHECK(ns[0].own == 100);
    node_close(&ns[0]);
    nats_srv_free(s);
    return 0;
}

/* nodes publish; server goes away (kill or stop) for `outage_ms`; comes back. */
static int restart_flow(tnode *ns, int count, nats_srv *victim, bool hard, int outage_ms,
                        bool expect_all_down) {
    CHECK(run_until(ns, count, half_sent, 30000));
    if (hard) nats_srv_kill(victim);
    else nats_srv_stop(victim);
    if (expect_all_down) {
        CHECK(run_until(ns, count, all_disconnected, 5000));
        for (int i = 0; i < count; i++) {
            agora_status st = node_status(&ns[i]);
            CHECK(!st.connected);
        }
    }
    run_for(ns, count, outage_ms);
    if (nats_srv_restart(victim) != 0) return 1;
    CHECK(run_until(ns, count, all_connected, 10000));
    bool ok = run_until(ns, count, all_delivered, 60000);
    CHECK(ok);
    if (!ok) report_missing(ns, count);
    CHECK(run_until(ns, count, all_acked, 10000));
    return 0;
}

static int case_restart(void) {
    nats_srv_opts so = {.port = 24010};
    nats_srv *s = nats_srv_start(&so);
    if (!s) return 1;
    tnode ns[2];
    char c[512], err[256];
    coord(c, sizeof c, "\"127.0.0.1:24010\"", "\"timeoutRequest\":\"5s\"");
    CHECK(node_open(&ns[0], 1, c, 30000, err, sizeof err) == AGORA_OK);
    CHECK(node_open(&ns[1], 2, c, 30000, err, sizeof err) == AGORA_OK);
    CHECK(run_until(ns, 2, all_connected, 5000));
    int rc = restart_flow(ns, 2, s, false, 1500, true);
    for (int i = 0; i < 2; i++) {
        agora_status st = node_status(&ns[i]);
        CHECK(st.connected);
        CHECK(st.reconnects == 1);
        CHECK(ns[i].fh.downs == 1 && ns[i].fh.ups == 2);
    }
    for (int i = 0; i < 2; i++) node_close(&ns[i]);
    nats_srv_free(s);
    return rc;
}

static int case_down(void) {
    tnode ns[2];
    char c[512], err[256];
    coord(c, sizeof c, "\"127.0.0.1:24020\"", NULL);
    long long t0 = nats_now_ms();
    CHECK(node_open(&ns[0], 1, c, 500, err, sizeof err) == AGORA_OK);
    CHECK(node_open(&ns[1], 2, c, 500, err, sizeof err) == AGORA_OK);
    CHECK(nats_now_ms() - t0 < 3000); /* open does not wait for the server */
    agora_status st = node_status(&ns[0]);
    CHECK(!st.connected);
    CHECK(strcmp(st.server, "127.0.0.1:24020") == 0);
    /* Let the nodes queue (and be refused) for a while, then bring the server up. */
    run_for(ns, 2, 1500);
    CHECK(ns[0].accepted == 0 && ns[0].fh.blocked);
    nats_srv_opts so = {.port = 24020};
    nats_srv *s = nats_srv_start(&so);
    if (!s) return 1;
    CHECK(run_until(ns, 2, all_connected, 5000));
    CHECK(run_until(ns, 2, all_delivered, 20000));
    st = node_status(&ns[0]);
    CHECK(st.connected);
    CHECK(st.reconnects == 0); /* the first connection is not a reconnection */
    for (int i = 0; i < 2; i++) node_close(&ns[i]);
    nats_srv_free(s);
    return 0;
}

static int case_cluster(void) {
    int routes_a[] = {24032}, routes_b[] = {24031};
    nats_srv_opts oa = {.port = 24030, .cluster_port = 24031, .monitor_port = 24034,
                        .routes = routes_a, .nroutes = 1};
    nats_srv_opts ob = {.port = 24033, .cluster_port = 24032, .monitor_port = 24035,
                        .routes = routes_b, .nroutes = 1};
    nats_srv *a = nats_srv_start(&oa);
    nats_srv *b = nats_srv_start(&ob);
    if (!a || !b) return 1;
    if (nats_srv_wait_routes(a, 1, 10000) || nats_srv_wait_routes(b, 1, 10000)) return 1;
    tnode ns[3];
    char c[512], err[256];
    /* Node 1 knows both servers and starts on A; nodes 2 and 3 use B only. */
    coord(c, sizeof c, "\"127.0.0.1:24030\",\"127.0.0.1:24033\"", "\"timeoutRequest\":\"5s\"");
    CHECK(node_open(&ns[0], 1, c, 20000, err, sizeof err) == AGORA_OK);
    coord(c, sizeof c, "\"127.0.0.1:24033\"", NULL);
    CHECK(node_open(&ns[1], 2, c, 20000, err, sizeof err) == AGORA_OK);
    CHECK(node_open(&ns[2], 3, c, 20000, err, sizeof err) == AGORA_OK);
    CHECK(run_until(ns, 3, all_connected, 5000));
    agora_status st = node_status(&ns[0]);
    nats_srv *used = strcmp(st.server, "127.0.0.1:24030") == 0 ? a : b;
    fprintf(stderr, "cluster: node 1 uses %s\n", st.server);
    CHECK(run_until(ns, 3, half_sent, 30000));
    nats_srv_stop(used);
    /* Node 1 moves to the other server at once. */
    CHECK(run_until(ns, 1, all_connected, 5000));
    run_for(ns, 3, 500);
    CHECK(nats_srv_restart(used) == 0);
    CHECK(run_until(ns, 3, all_connected, 10000));
    bool ok = run_until(ns, 3, all_delivered, 60000);
    CHECK(ok);
    if (!ok) report_missing(ns, 3);
    CHECK(run_until(ns, 3, all_acked, 10000));
    st = node_status(&ns[0]);
    CHECK(st.reconnects >= 1);
    for (int i = 0; i < 3; i++) node_close(&ns[i]);
    nats_srv_free(a);
    nats_srv_free(b);
    return 0;
}

/* Node 1 has node 2's stream up to node 2's `total`. */
static bool first_has_second(tnode *ns, int c) {
    (void)c;
    return ns[0].rpos[ns[1].id] > ns[1].total;
}

/* Nodes 1 and 2 on the server at `port`; node 2 sends messages 1-100, which node 1
 * gets; then node 1's backend is closed while node 2 sends up to `upto`, and opened
 * again (its host, the core's receive positions, carried on). The server, or NULL. */
static nats_srv *away_while_sending(tnode ns[2], int port, uint32_t upto) {
    nats_srv_opts so = {.port = port};
    nats_srv *s = nats_srv_start(&so);
    if (!s) return NULL;
    char c[512], addr[64], err[256];
    snprintf(addr, sizeof addr, "\"127.0.0.1:%d\"", port);
    coord(c, sizeof c, addr, NULL);
    CHECK(node_open(&ns[0], 1, c, 0, err, sizeof err) == AGORA_OK);
    CHECK(node_open(&ns[1], 2, c, 100, err, sizeof err) == AGORA_OK);
    CHECK(run_until(ns, 2, first_has_second, 10000));
    if (ns[0].be) ns[0].ops->close(ns[0].be);
    ns[0].be = NULL;
    ns[1].total = upto;
    CHECK(run_until(ns, 2, all_acked, 60000));
    CHECK(node_reopen(&ns[0], err, sizeof err) == AGORA_OK);
    return s;
}

/* Node 1's backend goes away while node 2 sends more than it keeps for resends
 * (65,536 messages): on its return node 1 asks for the whole hole, is told at once
 * which part is gone, reports that part as a gap and gets the rest resent. */
static int case_evicted(void) {
    tnode ns[2];
    nats_srv *s = away_while_sending(ns, 24065, 70100);
    if (!s) return 1;
    ns[1].total = 70101;
    CHECK(run_until(ns, 2, first_has_second, 30000));
    /* Node 2 kept its last 65,536 messages when asked: 4565.. or 4566.. (the ack of
     * 70101 may come before or after the request). */
    fprintf(stderr, "evicted: %s\n", ns[0].gonelog);
    unsigned long long lo = 0, hi = 0;
    CHECK(sscanf(ns[0].gonelog, "nats: node 2 no longer keeps its sequences %llu-%llu", &lo,
                 &hi) == 2);
    CHECK(lo == 101 && (hi == 4564 || hi == 4565));
    CHECK(ns[0].late == 0); /* not given up by the time limit */
    CHECK(ns[0].gaps == hi - lo + 1);
    uint32_t missing = 0;
    for (uint32_t q = 1; q <= 70101; q++)
        if (!ns[0].seen[2][q] != (q >= lo && q <= hi)) missing++;
    CHECK(missing == 0);
    for (int i = 0; i < 2; i++) node_close(&ns[i]);
    nats_srv_free(s);
    return 0;
}

/* Node 1's backend goes away while node 2 sends its last 100 messages: on its return
 * no later message shows the hole, but node 2's heartbeats claim them, and node 1
 * asks for them once a claim stays unmet (1 s). */
static int case_tail(void) {
    tnode ns[2];
    nats_srv *s = away_while_sending(ns, 24066, 200);
    if (!s) return 1;
    /* Heartbeats every 200 ms (the core's default is 1 s) until node 1 has it all. */
    long long deadline = nats_now_ms() + 10000, beat = 0;
    while (!first_has_second(ns, 2) && nats_now_ms() < deadline) {
        if (nats_now_ms() >= beat) {
            node_heartbeat(&ns[1]);
            beat = nats_now_ms() + 200;
        }
        ag_loop_run_once(loop, 5);
    }
    CHECK(first_has_second(ns, 2));
    CHECK(ns[0].heartbeats >= 2);
    CHECK(ns[0].claims >= 1);
    CHECK(ns[0].gaps == 0 && ns[0].late == 0);
    CHECK(ns[0].received == 200);
    for (int i = 0; i < 2; i++) node_close(&ns[i]);
    nats_srv_free(s);
    return 0;
}

static int case_auth(void) {
    nats_srv_opts so = {.port = 24040, .user = "agora", .pass = "s3cret pass"};
    nats_srv *s = nats_srv_start(&so);
    if (!s) return 1;
    char c[512], err[256];
    coord(c, sizeof c, "\"127.0.0.1:24040\"", "\"authUsername\":\"agora\",\"authSecret\":\"s3cret pass\"");
    CHECK(pair_delivers(c, 200));

    coord(c, sizeof c, "\"127.0.0.1:24040\"", "\"authUsername\":\"agora\",\"authSecret\":\"wrong\"");
    int rc = open_refused(c, err, sizeof err);
    CHECK(rc == AGORA_EAUTH);
    fprintf(stderr, "bad password: %s\n", err);
    CHECK(strcmp(err, "nats 127.0.0.1:24040: authorization violation") == 0);
    CHECK(!strstr(err, "wrong")); /* never the secret */
    coord(c, sizeof c, "\"127.0.0.1:24040\"", NULL);
    CHECK(open_refused(c, err, sizeof err) == AGORA_EAUTH);
    nats_srv_free(s);
    return 0;
}

static int case_token(void) {
    nats_srv_opts so = {.port = 24045, .token = "t0ken-abc"};
    nats_srv *s = nats_srv_start(&so);
    if (!s) return 1;
    char c[512], err[256];
    coord(c, sizeof c, "\"127.0.0.1:24045\"", "\"credentials\":\"t0ken-abc\"");
    CHECK(pair_delivers(c, 200));
    coord(c, sizeof c, "\"127.0.0.1:24045\"", "\"credentials\":\"nope\"");
    int rc = open_refused(c, err, sizeof err);
    CHECK(rc == AGORA_EAUTH);
    fprintf(stderr, "bad token: %s\n", err);
    CHECK(strcmp(err, "nats 127.0.0.1:24045: authorization violation") == 0);
    nats_srv_free(s);
    return 0;
}

static int case_tls(void) {
    char dir[256], cert[300], key[300];
    if (nats_tls_make_cert(dir, sizeof dir, cert, sizeof cert, key, sizeof key) != 0) return 1;
    nats_srv_opts so = {.port = 24050, .tls_cert = cert, .tls_key = key};
    nats_srv *s = nats_srv_start(&so);
    if (!s) return 1;
    setenv("SSL_CERT_FILE", cert, 1);
    char c[512], err[256];
    coord(c, sizeof c, "\"127.0.0.1:24050\"", "\"useTls\":true");
    CHECK(pair_delivers(c, 500));
    /* A certificate not signed by a trusted CA is refused with a clear error. */
    char dir2[256], cert2[300], key2[300];
    if (nats_tls_make_cert(dir2, sizeof dir2, cert2, sizeof cert2, key2, sizeof key2) != 0) return 1;
    setenv("SSL_CERT_FILE", cert2, 1);
    int rc = open_refused(c, err, sizeof err);
    fprintf(stderr, "untrusted certificate: %s (%d)\n", err, rc);
    CHECK(rc == AGORA_EIO);
    CHECK(strncmp(err, "nats 127.0.0.1:24050: ", 22) == 0);
    setenv("SSL_CERT_FILE", cert, 1);
    nats_tls_remove(dir2);
    /* useTls against a server without TLS: refused, clearly. */
    nats_srv_opts po = {.port = 24055};
    nats_srv *plain = nats_srv_start(&po);
    if (!plain) return 1;
    coord(c, sizeof c, "\"127.0.0.1:24055\"", "\"useTls\":true");
    rc = open_refused(c, err, sizeof err);
    fprintf(stderr, "useTls to a plaintext server: %s (%d)\n", err, rc);
    CHECK(rc == AGORA_EIO);
    CHECK(strncmp(err, "nats 127.0.0.1:24055: ", 22) == 0);
    nats_srv_free(plain);
    unsetenv("SSL_CERT_FILE");
    nats_srv_free(s);
    nats_tls_remove(dir);
    return 0;
}

static bool closed_for_good(tnode *ns, int c) {
    (void)c;
    return strstr(ns[0].fh.last_log, "closed for good") != NULL;
}

static int case_maxrec(void) {
    nats_srv_opts so = {.port = 24060};
    nats_srv *s = nats_srv_start(&so);
    if (!s) return 1;
    tnode ns[1];
    char c[512], err[256];
    coord(c, sizeof c, "\"127.0.0.1:24060\"", "\"maxReconnects\":2");
    CHECK(node_open(&ns[0], 1, c, 0, err, sizeof err) == AGORA_OK);
    CHECK(run_until(ns, 1, all_connected, 5000));
    nats_srv_kill(s);
    /* Two attempts with the capped backoff: well under 5 s. */
    CHECK(run_until(ns, 1, closed_for_good, 5000));
    CHECK(!ns[0].fh.connected);
    node_close(&ns[0]);
    nats_srv_free(s);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s delivery|echo|restart|down|cluster|auth|token|tls|maxrec|evicted|tail|all\n", argv[0]);
        return 2;
    }
    if (!nats_fixture_available()) {
        fprintf(stderr, "nats-server not found: skipped\n");
        return 77;
    }
    if (!ag_backend_lookup("Nats")) {
        fprintf(stderr, "this build has no NATS backend: skipped\n");
        return 77;
    }
    static const ts_scenario cases[] = {
        {"delivery", .fn_rc = case_delivery}, {"echo", .fn_rc = case_echo},
        {"restart", .fn_rc = case_restart},   {"down", .fn_rc = case_down},
        {"cluster", .fn_rc = case_cluster},   {"evicted", .fn_rc = case_evicted},
        {"tail", .fn_rc = case_tail},         {"auth", .fn_rc = case_auth},
        {"token", .fn_rc = case_token},       {"tls", .fn_rc = case_tls},
        {"maxrec", .fn_rc = case_maxrec},
    };
    loop = ag_loop_new();
    int rc = ts_run_scenarios(cases, TS_COUNT(cases), argv[1], &failures);
    ag_loop_free(loop);
    return rc;
}
