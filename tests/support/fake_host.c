/* fake_host.c — a recording ag_host for backend tests. */
#include "fake_host.h"

#include "proc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_MAX (8u << 20)

static fake_host *of(ag_host *h) { return (fake_host *)h; }

static void oom(void) {
    fprintf(stderr, "fake_host: out of memory\n");
    abort();
}

static void h_deliver(ag_host *h, const uint8_t *data, size_t len) {
    fake_host *f = of(h);
    if (f->keep_payloads) {
        if (f->npayloads == f->cap_payloads) {
            f->cap_payloads = f->cap_payloads ? f->cap_payloads * 2 : 256;
            f->payloads = realloc(f->payloads, f->cap_payloads * sizeof *f->payloads);
            f->payload_lens = realloc(f->payload_lens, f->cap_payloads * sizeof *f->payload_lens);
            if (!f->payloads || !f->payload_lens) oom();
        }
        char *copy = malloc(len + 1);
        if (!copy) oom();
        memcpy(copy, data, len);
        copy[len] = 0;
        f->payloads[f->npayloads] = copy;
        f->payload_lens[f->npayloads] = len;
    }
    f->npayloads++;
    if (f->on_deliver) f->on_deliver(f, data, len);
}

typedef struct posted {
    ag_host *h;
    size_t len;
    uint8_t data[];
} posted;

static void run_posted(ag_loop *l, void *arg) {
    (void)l;
    posted *p = arg;
    h_deliver(p->h, p->data, p->len);
    free(p);
}

static void h_deliver_from_thread(ag_host *h, const uint8_t *data, size_t len) {
    posted *p = malloc(sizeof *p + len);
    if (!p) oom();
    p->h = h;
    p->len = len;
    memcpy(p->data, data, len);
    ag_loop_post(h->loop, run_posted, p);
}

static void h_msg_done(ag_host *h, ag_msg *msg, int status) {
    fake_host *f = of(h);
    if (status == AGORA_OK) f->done_ok++;
    else if (status == AGORA_ETIMEDOUT) f->done_timeout++;
    else f->done_other++;
    if (f->on_msg_done) f->on_msg_done(f, msg, status);
}

static void h_resume(ag_host *h) {
    fake_host *f = of(h);
    f->resumes++;
    f->blocked = false;
    if (f->on_resume) f->on_resume(f);
}

static void h_set_connected(ag_host *h, bool up, const char *server) {
    fake_host *f = of(h);
    if (up && !f->connected) f->ups++;
    if (!up && f->connected) f->downs++;
    f->connected = up;
    if (server) snprintf(f->server, sizeof f->server, "%s", server);
}

static const char *level_name(agora_log_level level) {
    return level <= AGORA_LOG_ERROR ? "error" : level == AGORA_LOG_WARN ? "warn"
           : level == AGORA_LOG_INFO ? "info" : "debug";
}

__attribute__((format(printf, 3, 4))) static void h_log(ag_host *h, agora_log_level level,
                                                        const char *fmt, ...) {
    fake_host *f = of(h);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->last_log, sizeof f->last_log, fmt, ap);
    va_end(ap);
    if (level <= AGORA_LOG_WARN) f->warn_lines++;
    if ((f->verbose_env && getenv(f->verbose_env)) || level <= AGORA_LOG_WARN)
        fprintf(stderr, "  [%s %s] %s\n", f->name, level_name(level), f->last_log);
    size_t l = strlen(f->last_log);
    if (f->loglen + l + 2 > f->logcap && f->logcap < LOG_MAX) {
        size_t cap = f->logcap ? f->logcap * 2 : 65536;
        while (cap < f->loglen + l + 2) cap *= 2;
        f->log = realloc(f->log, cap);
        if (!f->log) oom();
        f->logcap = cap;
    }
    if (f->loglen + l + 2 <= f->logcap) {
        memcpy(f->log + f->loglen, f->last_log, l);
        f->loglen += l;
        f->log[f->loglen++] = '\n';
        f->log[f->loglen] = 0;
    }
    if (f->on_log) f->on_log(f, level, f->last_log);
}

__attribute__((format(printf, 4, 5))) static void h_log_limited(ag_host *h, ag_ratelimit *rl,
                                                               agora_log_level level,
                                                               const char *fmt, ...) {
    uint64_t suppressed = 0;
    if (!ag_ratelimit_pass(rl, ag_now_ms(), &suppressed)) return;
    char msg[900], note[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    h_log(h, level, "%s%s", msg, ag_ratelimit_note(note, sizeof note, suppressed));
}

static void h_fatal(ag_host *h, int code) {
    fake_host *f = of(h);
    if (!f->fatal) f->fatal = code;
}

static void h_recv_position(ag_host *h, uint16_t node, uint64_t *inc, uint64_t *next) {
    fake_host *f = of(h);
    *inc = 0;
    *next = 0;
    if (f->on_recv_position) f->on_recv_position(f, node, inc, next);
}

static void h_peer_link(ag_host *h, uint16_t node, const char *address, uint64_t inc, bool up) {
    fake_host *f = of(h);
    if (f->on_peer_link) f->on_peer_link(f, node, address, inc, up);
}

void fake_host_init(fake_host *f, ag_loop *loop, const agora_config *cfg, uint16_t node_id,
                    const char *name) {
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name ? name : "node");
    f->host.loop = loop;
    f->host.cfg = cfg;
    f->host.node_id = node_id;
    f->host.incarnation = 1;
    f->host.deliver = h_deliver;
    f->host.deliver_from_thread = h_deliver_from_thread;
    f->host.msg_done = h_msg_done;
    f->host.resume = h_resume;
    f->host.set_connected = h_set_connected;
    f->host.log = h_log;
    f->host.log_limited = h_log_limited;
    f->host.fatal = h_fatal;
    f->host.recv_position = h_recv_position;
    f->host.peer_link = h_peer_link;
}

void fake_host_clear_payloads(fake_host *f) {
    for (size_t i = 0; i < f->npayloads && f->payloads; i++) free(f->payloads[i]);
    free(f->payloads);
    free(f->payload_lens);
    f->payloads = NULL;
    f->payload_lens = NULL;
    f->npayloads = f->cap_payloads = 0;
}

void fake_host_free(fake_host *f) {
    fake_host_clear_payloads(f);
    free(f->log);
    f->log = NULL;
    f->loglen = f->logcap = 0;
}

bool fake_logged(const fake_host *f, const char *needle) {
    return f->log && strstr(f->log, needle) != NULL;
}

int fake_log_count(const fake_host *f, const char *needle) {
    int n = 0;
    size_t nl = strlen(needle);
    for (const char *p = f->log; p && nl && (p = strstr(p, needle)); p += nl) n++;
    return n;
}

bool fake_wait(ag_loop *loop, fake_cond cond, void *arg, unsigned timeout_ms) {
    uint64_t deadline = ts_now_ms() + timeout_ms;
    while (!cond(arg)) {
        if (ts_now_ms() >= deadline) return false;
        ag_loop_run_once(loop, 10);
    }
    return true;
}

void fake_run_for(ag_loop *loop, unsigned ms) {
    uint64_t deadline = ts_now_ms() + ms;
    for (uint64_t now = ts_now_ms(); now < deadline; now = ts_now_ms()) {
        uint64_t left = deadline - now;
        ag_loop_run_once(loop, (int)(left < 10 ? left : 10));
    }
}

typedef struct count_want {
    fake_host *f;
    size_t n;
} count_want;

static bool has_payloads(void *arg) {
    count_want *w = arg;
    return w->f->npayloads >= w->n;
}

bool fake_wait_payloads(fake_host *f, size_t n, unsigned timeout_ms) {
    count_want w = {f, n};
    return fake_wait(f->host.loop, has_payloads, &w, timeout_ms);
}

static bool is_up(void *arg) { return ((fake_host *)arg)->connected; }
static bool is_down(void *arg) { return !((fake_host *)arg)->connected; }

bool fake_wait_connected(fake_host *f, bool up, unsigned timeout_ms) {
    return fake_wait(f->host.loop, up ? is_up : is_down, f, timeout_ms);
}
