/* fake_host.h — one test ag_host (src/core/backend.h) for driving a backend through
 * its operations table without the coordinator core: it records what the backend
 * reports (payloads delivered, msg_done statuses, connection state, log lines) and
 * offers waits with a deadline that run the loop meanwhile (never sleeps).
 *
 * A test embeds it first in its own node struct, so that (fake_host *)h and its own
 * struct are the same pointer, and adds what it checks through the hooks:
 *
 *   typedef struct tnode { fake_host fh; ...the test's own... } tnode;
 *   fake_host_init(&n->fh, loop, cfg, node_id, "a");
 *   n->fh.on_deliver = my_check;               // optional hooks, see below
 *   ops->open(&n->fh.host, &be, err, sizeof err);
 *   fake_wait_connected(&n->fh, true, 5000);
 *
 * Every callback runs on the loop's thread (deliver_from_thread posts to the loop). */
#ifndef AG_TEST_FAKE_HOST_H
#define AG_TEST_FAKE_HOST_H

#include "core/backend.h"
#include "core/loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fake_host fake_host;

struct fake_host {
    ag_host host; /* first: the backend's ag_host is the fake_host */
    char name[32];           /* "[name level] line" on stderr */
    const char *verbose_env; /* if this variable is set, every log line is printed;
                              * else warnings and errors only */

    /* Optional hooks, each called after the recording below. */
    void (*on_deliver)(fake_host *f, const uint8_t *data, size_t len);
    void (*on_msg_done)(fake_host *f, ag_msg *msg, int status);
    void (*on_resume)(fake_host *f);
    void (*on_log)(fake_host *f, agora_log_level level, const char *line);
    /* recv_position: both 0 (never heard) unless set */
    void (*on_recv_position)(fake_host *f, uint16_t node, uint64_t *inc, uint64_t *next);
    void (*on_peer_link)(fake_host *f, uint16_t node, const char *address, uint64_t inc,
                         bool up);

    /* Payloads, kept when keep_payloads is set (set it before open): each a
     * NUL-terminated copy. npayloads counts every delivery either way. */
    bool keep_payloads;
    char **payloads;
    size_t *payload_lens;
    size_t npayloads, cap_payloads;

    /* msg_done, by status */
    size_t done_ok, done_timeout, done_other;
    /* resume */
    bool blocked; /* a test's own flag: resume clears it */
    int resumes;

    /* connection state */
    bool connected;
    int ups, downs; /* edges of connected */
    char server[256];

    /* log lines: all of them (the first 8 MiB), each ending in '\n'; NULL before the
     * first line. Search it with fake_logged / fake_log_count. */
    char *log;
    size_t loglen, logcap;
    char last_log[1024];
    int warn_lines; /* warnings and errors */
    int fatal;      /* host->fatal's code: the backend gave up (0: it did not) */
};

/* A host for `node_id` on `loop`, with incarnation 1, every op of ag_host set. */
void fake_host_init(fake_host *f, ag_loop *loop, const agora_config *cfg, uint16_t node_id,
                    const char *name);
/* Free what it recorded (not cfg, not the loop). */
void fake_host_free(fake_host *f);
/* Forget the recorded payloads (the count included). */
void fake_host_clear_payloads(fake_host *f);

/* Some log line so far contains needle. */
bool fake_logged(const fake_host *f, const char *needle);
/* How many times needle occurs in the log. */
int fake_log_count(const fake_host *f, const char *needle);

/* ---- waiting: run the loop until a condition holds or the deadline passes ---- */

typedef bool (*fake_cond)(void *arg);

/* Run loop until cond(arg) is true (true) or timeout_ms passed (false). */
bool fake_wait(ag_loop *loop, fake_cond cond, void *arg, unsigned timeout_ms);
/* Run loop for ms milliseconds: for waiting out something that must NOT happen. */
void fake_run_for(ag_loop *loop, unsigned ms);
/* Until at least n payloads arrived. */
bool fake_wait_payloads(fake_host *f, size_t n, unsigned timeout_ms);
/* Until f->connected == up. */
bool fake_wait_connected(fake_host *f, bool up, unsigned timeout_ms);

#endif
