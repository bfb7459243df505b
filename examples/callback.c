/*
 * callback.c — the simplest agora program: a function called for every event.
 *
 * With callbacks_on_io_thread, agora calls on_event from its own I/O thread as
 * events arrive; no event loop is needed in the program. (The callback must be
 * quick and must not call agora_close; see idle_watcher.c for callbacks on your own
 * thread.) The main thread just waits for Ctrl-C.
 *
 * Usage: callback CONFIG [NODE_ID]      (runs until SIGINT or SIGTERM)
 * Prints each event as the JSON line 'agora watch' prints.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* ppoll, sigaction, nanosleep with -std=c11 */
#endif
#include <agora.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static void on_event(agora_t *a, const agora_event *ev, void *user) {
    (void)a;
    (void)user;
    char *json = agora_event_to_json(ev);
    if (json) {
        printf("%s\n", json);
        fflush(stdout);
        free(json);
    }
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

    /* Block SIGINT/SIGTERM before agora starts its thread (which inherits the mask),
     * then wait for one of them here with sigwait. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigprocmask(SIG_BLOCK, &sigs, NULL);

    agora_options opts = {
        .on_event = on_event,
        .callbacks_on_io_thread = true,
        .log_level = AGORA_LOG_WARN,
    };
    agora_t *a = NULL;
    int rc = agora_open(cfg, &opts, &a, err, sizeof err);
    agora_config_free(cfg);
    if (rc != AGORA_OK) {
        fprintf(stderr, "agora_open: %s\n", err);
        return 1;
    }
    int sig;
    sigwait(&sigs, &sig);
    agora_close(a);
    return 0;
}
