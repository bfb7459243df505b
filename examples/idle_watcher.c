/*
 * idle_watcher.c — how an IMAP server's IDLE support uses agora.
 *
 * An IMAP client in IDLE waits for its server to say "something changed in your
 * mailbox". In a cluster the change may happen on another node (the message was
 * delivered there), so every node publishes a StateChange for the account and the
 * node holding the IDLE session wakes it up. This program is that second half: it
 * joins the cluster and, in its own poll() loop, turns StateChange events into
 * "wake the IDLE sessions of account N". It shows the integration pattern for an
 * event loop: agora_fd() + poll + agora_dispatch(), callbacks on our own thread.
 *
 * Usage: idle_watcher CONFIG [NODE_ID]       (runs until SIGINT or SIGTERM)
 *
 * Each line starts with the time of reception, [unix seconds.microseconds]:
 *   [1732364400.123456] IDLE account 42: Email, Mailbox changed (changeId 7, node 2)
 *   [1732364400.523456] node 3 joined (127.0.0.1:7913)
 *   [1732364401.000000] Gap: 5 events from node 2 missed -> every IDLE session re-checks
 *   [1732364401.100000] node 2 sent BlockIp: {"node":2,"type":"BlockIp",...}
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* ppoll, sigaction, nanosleep with -std=c11 */
#endif
#include <agora.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void stamp(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    printf("[%lld.%06ld] ", (long long)ts.tv_sec, ts.tv_nsec / 1000);
}

/* Runs inside agora_dispatch(), on our thread: safe to touch our own state. */
static void on_event(agora_t *a, const agora_event *ev, void *user) {
    (void)a;
    (void)user;
    stamp();
    switch (ev->type) {
    case AGORA_EV_STATE_CHANGE: {
        /* A real server would look up the account's IDLE sessions and send each
         * "* N EXISTS" / "* N EXPUNGE" after re-reading the mailbox. */
        printf("IDLE account %u:", ev->u.state_change.account_id);
        const char *sep = " ";
        for (int t = 0; t < AGORA_DT_COUNT; t++)
            if (ev->u.state_change.types & (1ull << t)) {
                printf("%s%s", sep, agora_data_type_name(t));
                sep = ", ";
            }
        printf(" changed (changeId %llu, node %u) -> waking its IDLE sessions\n",
               (unsigned long long)ev->u.state_change.change_id, ev->node);
        break;
    }
    case AGORA_EV_GAP:
        /* Events were lost: we cannot know which accounts changed. */
        printf("Gap: %llu events from node %u missed -> every IDLE session re-checks\n",
               (unsigned long long)ev->u.gap.missed, ev->node);
        break;
    case AGORA_EV_MEMBER_JOINED:
    case AGORA_EV_MEMBER_LEFT:
    case AGORA_EV_MEMBER_FAILED:
        printf("node %u %s (%s)\n", ev->node,
               ev->type == AGORA_EV_MEMBER_JOINED ? "joined"
               : ev->type == AGORA_EV_MEMBER_LEFT ? "left"
                                                  : "failed",
               ev->u.member.address ? ev->u.member.address : "address unknown");
        break;
    default: {
        char *json = agora_event_to_json(ev);
        printf("node %u sent %s: %s\n", ev->node, agora_event_type_name(ev->type),
               json ? json : "(out of memory)");
        free(json);
    }
    }
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s CONFIG [NODE_ID]\n", argv[0]);
        return 2;
    }
    char err[1024];
    agora_config *cfg = agora_config_load(argv[1], err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    if (argc == 3) agora_config_set_node_id(cfg, (uint16_t)atoi(argv[2]));

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* Block the signals while we run: agora's I/O thread inherits the mask (so it
     * never takes them) and we let them in only while waiting in ppoll(). */
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old);

    agora_options opts = {.on_event = on_event, .log_level = AGORA_LOG_WARN};
    agora_t *a = NULL;
    int rc = agora_open(cfg, &opts, &a, err, sizeof err);
    agora_config_free(cfg);
    if (rc != AGORA_OK) {
        fprintf(stderr, "agora_open: %s\n", err);
        return 1;
    }

    /* The server's event loop: here only agora's descriptor; a real server would
     * also poll its listening socket and client connections. */
    struct pollfd p = {.fd = agora_fd(a), .events = POLLIN};
    while (!stop) {
        int n = ppoll(&p, 1, NULL, &old); /* a signal interrupts it (EINTR) */
        if (n < 0 && errno != EINTR) {
            perror("ppoll");
            break;
        }
        if (n > 0) agora_dispatch(a, 0); /* runs on_event for each waiting event */
    }
    agora_close(a); /* flush, say goodbye (others see MemberLeft), free */
    return 0;
}
