/* base_zenoh.c — the baseline beside the Zenoh backend: the Zenoh crate alone, through
 * the same shim agora uses (src/backend/zenoh/shim/agz.h). Per node one session opened
 * from --config (JSON5, the same text as the agora configuration's "config"), a
 * subscription on "stwt.agora" whose callback runs on Zenoh's threads, and a publisher
 * (congestion control Block, other sessions only, as agora's) that puts each payload
 * at once. */
#include "base_driver.h"

#include "agz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *config =
    "{ mode: \"client\", connect: { endpoints: [\"tcp/127.0.0.1:7447\"] },"
    " scouting: { multicast: { enabled: false } } }";

typedef struct znode {
    agz_session *s;
    agz_publisher *pub;
} znode;

static int opt(const char *o, const char *v) {
    if (strcmp(o, "--config")) return 0;
    config = v;
    return 1;
}

static void on_payload(void *user, const uint8_t *data, size_t len) { bb_deliver(user, data, len); }

static int z_open(bb_node *n, char *err, size_t errlen) {
    znode *x = calloc(1, sizeof *x);
    if (!x) return -1;
    n->impl = x;
    x->s = agz_open(config, err, errlen);
    if (x->s && agz_subscribe(x->s, "stwt.agora", on_payload, n, err, errlen) == 0)
        x->pub = agz_publisher_new(x->s, "stwt.agora", AGZ_PUB_BLOCK | AGZ_PUB_REMOTE, err, errlen);
    if (!x->pub) {
        agz_close(x->s);
        free(x);
        n->impl = NULL;
        return -1;
    }
    return 0;
}

static int z_publish(bb_node *n, const uint8_t *data, size_t len) {
    znode *x = n->impl;
    return agz_put(x->pub, data, len, NULL, 0);
}

static void z_close(bb_node *n) {
    znode *x = n->impl;
    if (!x) return;
    agz_close(x->s);
    agz_publisher_free(x->pub);
    free(x);
    n->impl = NULL;
}

static const bb_transport zenoh = {
    .name = "zenoh",
    .backend = "Zenoh",
    .options_help = "  --config JSON5    the Zenoh configuration of every node (default: client\n"
                    "                    of a router at tcp/127.0.0.1:7447)\n",
    .option = opt,
    .open = z_open,
    .publish = z_publish,
    .close = z_close,
};

int main(int argc, char **argv) { return bb_main(&zenoh, argc, argv); }
