/* disabled.c — the Disabled backend's operations: every message is finished at once
 * and goes nowhere. */
#include "core/backend.h"

#include <stdlib.h>

typedef struct disabled_be {
    ag_host *host;
} disabled_be;

static int disabled_open(ag_host *h, ag_backend **out, char *err, size_t errlen) {
    (void)err;
    (void)errlen;
    disabled_be *b = calloc(1, sizeof *b);
    if (!b) return AGORA_ENOMEM;
    b->host = h;
    *out = (ag_backend *)b;
    return AGORA_OK;
}

typedef struct disabled_post {
    ag_host *host;
    ag_msg *msg;
} disabled_post;

static void disabled_finish(ag_loop *l, void *arg) {
    (void)l;
    disabled_post *p = arg;
    p->host->msg_done(p->host, p->msg, AGORA_OK);
    free(p);
}

static int disabled_publish(ag_backend *be, ag_msg *msg) {
    disabled_be *b = (disabled_be *)be;
    disabled_post *p = malloc(sizeof *p);
    if (!p) return AGORA_ENOMEM;
    p->host = b->host;
    p->msg = msg;
    ag_loop_post(b->host->loop, disabled_finish, p);
    return AGORA_OK;
}

static void disabled_status(ag_backend *be, agora_status *st) {
    (void)be;
    st->connected = false;
}

static void disabled_close(ag_backend *be) {
    disabled_be *b = (disabled_be *)be;
    ag_loop_run_once(b->host->loop, 0);
    free(b);
}

const ag_backend_ops ag_backend_disabled = {
    .name = "Disabled",
    .max_payload = 1 << 20,
    .open = disabled_open,
    .publish = disabled_publish,
    .status = disabled_status,
    .close = disabled_close,
};
