/* p2p_net.c — addresses, listening sockets, and the dial targets (seeds and the
 * addresses membership reports) with capped, jittered exponential backoff. */
#include "backend/p2p/p2p.h"
#include "util/backoff.h"
#include "util/random.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void format_addr(const struct sockaddr *sa, char *buf, size_t len) {
    char host[64] = "?";
    char serv[16] = "?";
    getnameinfo(sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in),
                host, sizeof host, serv, sizeof serv, NI_NUMERICHOST | NI_NUMERICSERV);
    if (sa->sa_family == AF_INET6)
        snprintf(buf, len, "[%s]:%s", host, serv);
    else
        snprintf(buf, len, "%s:%s", host, serv);
}

static void set_nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void on_accept(ag_loop *l, int lfd, unsigned ev, void *arg) {
    (void)l;
    (void)ev;
    p2p *b = arg;
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                p2p_log_limited(b, P2P_LOG_ACCEPT, AGORA_LOG_WARN, "accept failed: %s",
                                strerror(errno));
            return;
        }
        char remote[P2P_ADDR_MAX];
        format_addr((struct sockaddr *)&ss, remote, sizeof remote);
        if (b->nconns >= P2P_MAX_CONNS) {
            p2p_log_limited(b, P2P_LOG_ACCEPT, AGORA_LOG_WARN,
                            "peer %s: refused, already %d connections", remote, P2P_MAX_CONNS);
            close(fd);
            continue;
        }
        set_nodelay(fd);
        p2p_conn *c = p2p_conn_new(b, fd, false, remote);
        if (!c) {
            close(fd);
            continue;
        }
        p2p_conn_start_tls_or_hello(c);
    }
}

int p2p_listen_all(p2p *b, char *err, size_t errlen) {
    const ag_strlist *ls = &b->cfg->listen;
    b->lfds = calloc(ls->count ? ls->count : 1, sizeof *b->lfds);
    if (!b->lfds) return AGORA_ENOMEM;
    for (size_t i = 0; i < ls->count; i++) {
        ag_hostport hp;
        if (ag_hostport_parse(ls->items[i], strlen(ls->items[i]), P2P_HOSTPORT, &hp)) {
            snprintf(err, errlen, "PeerToPeer: listen address \"%s\" is not host:port", ls->items[i]);
            return AGORA_ECONFIG;
        }
        char port[8];
        snprintf(port, sizeof port, "%u", (unsigned)hp.port);
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
        struct addrinfo *res = NULL;
        int gai = getaddrinfo(hp.host, port, &hints, &res);
        if (gai != 0) {
            snprintf(err, errlen, "PeerToPeer: cannot resolve listen address %s: %s", ls->items[i],
                     gai_strerror(gai));
            return AGORA_ECONFIG;
        }
        int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 128) != 0) {
            int e = errno;
            snprintf(err, errlen, "PeerToPeer: cannot listen on %s: %s", ls->items[i], strerror(e));
            if (fd >= 0) close(fd);
            freeaddrinfo(res);
            return AGORA_EIO;
        }
        freeaddrinfo(res);
        b->lfds[b->nlfds++] = fd;
        if (ag_loop_add_fd(b->host->loop, fd, AG_READ, on_accept, b) != 0) {
            snprintf(err, errlen, "PeerToPeer: cannot watch the listening socket");
            return AGORA_EIO;
        }
        size_t al = strlen(b->advertise);
        bool adv_any = !al || (al >= 2 && strcmp(b->advertise + al - 2, ":0") == 0);
        if (i == 0 && adv_any) {
            /* Port 0 means "any": advertise the port the kernel picked. */
            struct sockaddr_storage ss;
            socklen_t sl = sizeof ss;
            if (hp.port == 0 && getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
                /* the advertised host if one was given, else the listen host */
                ag_hostport adv = hp;
                if (al) ag_hostport_parse(b->advertise, al, P2P_HOSTPORT, &adv);
                adv.has_port = true;
                adv.port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                          : ((struct sockaddr_in *)&ss)->sin_port);
                ag_hostport_format(&adv, b->advertise, sizeof b->advertise);
            } else if (!al) {
                snprintf(b->advertise, sizeof b->advertise, "%s", ls->items[i]);
            }
        }
    }
    return AGORA_OK;
}

/* ---- targets -------------------------------------------------------------- */

p2p_target *p2p_target_add(p2p *b, const char *addr, int node, bool seed) {
    for (p2p_target *t = b->targets; t; t = t->next) {
        if (strcmp(t->addr, addr) != 0) continue;
        if (node >= 0) t->node = node;
        if (seed) t->seed = true;
        t->left = false;
        if (!seed && !t->conn && t->failures) {
            /* Membership says it is (back) there: stop waiting out the backoff. */
            t->backoff_step = 0;
            t->next_ms = ag_now_ms();
        }
        return t;
    }
    p2p_target *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    snprintf(t->addr, sizeof t->addr, "%s", addr);
    t->node = node;
    t->seed = seed;
    uint64_t now = ag_now_ms();
    /* For an address learned from membership, the lower node id dials first; the
     * other waits a moment so that both do not dial at once (either works). */
    t->next_ms = (!seed && node >= 0 && node < b->host->node_id) ? now + 150 + ag_random_below(100) : now;
    t->next = b->targets;
    b->targets = t;
    return t;
}

void p2p_target_failed(p2p *b, p2p_target *t) {
    /* up to 25 % off so that a cluster restarted at once does not dial in lockstep */
    ag_backoff bo = {.min_ms = b->cfg->reconnect_min_ms ? b->cfg->reconnect_min_ms : 100,
                     .max_ms = b->cfg->reconnect_max_ms ? b->cfg->reconnect_max_ms : 5000,
                     .jitter_pct = 25};
    t->next_ms = ag_now_ms() + ag_backoff_delay(&bo, t->backoff_step);
    if (t->backoff_step < 64) t->backoff_step++;
    t->failures++;
}

bool p2p_node_linked(p2p *b, int node, const p2p_conn *except) {
    if (node < 0) return false;
    for (p2p_conn *c = b->conns; c; c = c->next)
        if (c != except && c->node == node && !c->doomed &&
            (c->state == P2P_RESUME || c->state == P2P_ESTABLISHED))
            return true;
    return false;
}

static void dial(p2p *b, p2p_target *t) {
    ag_hostport hp;
    if (ag_hostport_parse(t->addr, strlen(t->addr), P2P_HOSTPORT, &hp)) {
        p2p_log(b, AGORA_LOG_WARN, "peer address \"%s\" is not host:port; not dialing it", t->addr);
        t->left = true;
        return;
    }
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)hp.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(hp.host, port, &hints, &res);
    if (gai != 0) {
        if (t->failures == 0 || t->failures % 20 == 0)
            p2p_log(b, AGORA_LOG_WARN, "peer %s: cannot resolve: %s", t->addr, gai_strerror(gai));
        p2p_target_failed(b, t);
        return;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(res);
        p2p_target_failed(b, t);
        return;
    }
    set_nodelay(fd);
    int rc = connect(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (rc != 0 && errno != EINPROGRESS) {
        if (t->failures == 0)
            p2p_log(b, AGORA_LOG_DEBUG, "peer %s: connect failed: %s", t->addr, strerror(errno));
        close(fd);
        p2p_target_failed(b, t);
        return;
    }
    p2p_conn *c = p2p_conn_new(b, fd, true, t->addr);
    if (!c) {
        close(fd);
        p2p_target_failed(b, t);
        return;
    }
    c->target = t;
    t->conn = c;
    if (t->node >= 0) c->node = -1; /* learned from HELLO, never assumed */
}

void p2p_net_tick(p2p *b, uint64_t now) {
    if (b->gave_up) return;
    for (p2p_target *t = b->targets; t; t = t->next) {
        if (t->self || t->conn || (t->left && !t->seed) || now < t->next_ms) continue;
        if (t->node >= 0 && p2p_node_linked(b, t->node, NULL)) continue;
        if (b->nconns >= P2P_MAX_CONNS) return;
        dial(b, t);
    }
}
