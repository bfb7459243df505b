/* base_nats.c — the baseline beside the NATS backend: libnats alone. Per node one
 * connection (no echo, as agora's default noEcho), natsConnection_Publish of each
 * payload on "stwt.agora" (libnats buffers and its flusher thread writes), and an
 * asynchronous subscription whose callback runs on the library's delivery thread. */
#include "base_driver.h"

#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char url[512] = "nats://127.0.0.1:4222";
static int pending_msgs = 65536; /* agora's capacitySubscription default */

typedef struct nnode {
    natsConnection *nc;
    natsSubscription *sub;
    natsOptions *opts;
} nnode;

static int opt(const char *o, const char *v) {
    if (!strcmp(o, "--pending")) {
        pending_msgs = atoi(v);
        return pending_msgs > 0 ? 1 : -1;
    }
    if (strcmp(o, "--url")) return 0;
    if (strstr(v, "://"))
        snprintf(url, sizeof url, "%s", v);
    else
        snprintf(url, sizeof url, "nats://%s", v);
    return 1;
}

static void on_msg(natsConnection *nc, natsSubscription *sub, natsMsg *msg, void *closure) {
    (void)nc;
    (void)sub;
    bb_deliver(closure, (const uint8_t *)natsMsg_GetData(msg), (size_t)natsMsg_GetDataLength(msg));
    natsMsg_Destroy(msg);
}

static int n_open(bb_node *n, char *err, size_t errlen) {
    nnode *x = calloc(1, sizeof *x);
    if (!x) return -1;
    n->impl = x;
    natsStatus s = natsOptions_Create(&x->opts);
    if (s == NATS_OK) s = natsOptions_SetURL(x->opts, url);
    if (s == NATS_OK) s = natsOptions_SetNoEcho(x->opts, true);
    if (s == NATS_OK) s = natsConnection_Connect(&x->nc, x->opts);
    if (s == NATS_OK) s = natsConnection_Subscribe(&x->sub, x->nc, "stwt.agora", on_msg, n);
    if (s == NATS_OK) s = natsSubscription_SetPendingLimits(x->sub, pending_msgs, 64 * 1024 * 1024);
    if (s == NATS_OK) s = natsConnection_Flush(x->nc); /* the subscription is registered */
    if (s != NATS_OK) {
        snprintf(err, errlen, "nats %s: %s", url, natsStatus_GetText(s));
        if (x->sub) natsSubscription_Destroy(x->sub);
        if (x->nc) natsConnection_Destroy(x->nc);
        if (x->opts) natsOptions_Destroy(x->opts);
        free(x);
        n->impl = NULL;
        return -1;
    }
    return 0;
}

static int n_publish(bb_node *n, const uint8_t *data, size_t len) {
    nnode *x = n->impl;
    return natsConnection_Publish(x->nc, "stwt.agora", data, (int)len) == NATS_OK ? 0 : -1;
}

static void n_close(bb_node *n) {
    nnode *x = n->impl;
    if (!x) return;
    natsConnection_FlushTimeout(x->nc, 5000);
    natsSubscription_Unsubscribe(x->sub);
    natsSubscription_Destroy(x->sub);
    natsConnection_Destroy(x->nc);
    natsOptions_Destroy(x->opts);
    free(x);
    n->impl = NULL;
}

static const bb_transport nats = {
    .name = "nats",
    .backend = "Nats",
    .options_help = "  --url URL         nats://host:port (default nats://127.0.0.1:4222)\n"
                    "  --pending K       subscription pending limit in messages (65536)\n",
    .option = opt,
    .open = n_open,
    .publish = n_publish,
    .close = n_close,
};

int main(int argc, char **argv) {
    int rc = bb_main(&nats, argc, argv);
    nats_Close();
    return rc;
}
