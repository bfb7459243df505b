/*
 * block_ip.c — tell every node of the cluster to block an IP address, then exit.
 *
 * A node that sees a brute-force attack blocks the attacker locally and publishes
 * a BlockIp so that every other node blocks it too. This program does only the
 * publishing part, as a one-shot tool: join, wait until another member is
 * connected, publish, agora_flush() (every event handed over), leave.
 *
 * Usage: block_ip CONFIG NODE_ID ADDRESS [REASON [TTL_SECONDS]]
 *   block_ip examples/cluster/node3.json 3 203.0.113.7 "brute force" 3600
 * ADDRESS is an IPv4 or IPv6 address or a CIDR prefix ("198.51.100.0/24").
 * Exit status: 0 handed over, 1 failure, 2 bad arguments or configuration.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* ppoll, sigaction, nanosleep with -std=c11 */
#endif
#include <agora.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Is another member alive in our view? (A fresh node needs a moment to connect.) */
static int others_alive(agora_t *a) {
    agora_member m[64];
    int n = agora_members(a, m, 64), alive = 0;
    for (int i = 0; i < n && i < 64; i++)
        if (!m[i].self && m[i].state == AGORA_MEMBER_ALIVE) alive++;
    return alive;
}

int main(int argc, char **argv) {
    if (argc < 4 || argc > 6) {
        fprintf(stderr, "usage: %s CONFIG NODE_ID ADDRESS [REASON [TTL_SECONDS]]\n", argv[0]);
        return 2;
    }
    agora_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = AGORA_EV_BLOCK_IP;
    if (agora_ip_prefix_parse(argv[3], &ev.u.block_ip.address) != AGORA_OK) {
        fprintf(stderr, "block_ip: \"%s\" is not an IP address or CIDR prefix\n", argv[3]);
        return 2;
    }
    ev.u.block_ip.reason = argc > 4 ? argv[4] : NULL; /* agora_publish copies it */
    if (argc > 5) ev.u.block_ip.expires = (int64_t)time(NULL) + atoll(argv[5]);

    char err[1024];
    agora_config *cfg = agora_config_load(argv[1], err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    agora_config_set_node_id(cfg, (uint16_t)atoi(argv[2]));
    agora_t *a = NULL;
    agora_options opts = {.log_level = AGORA_LOG_WARN}; /* no callback: we only publish */
    int rc = agora_open(cfg, &opts, &a, err, sizeof err);
    agora_config_free(cfg);
    if (rc != AGORA_OK) {
        fprintf(stderr, "agora_open: %s\n", err);
        return 1;
    }

    /* Up to 5 s for the cluster to let us in, and for the view to stop growing
     * (gossip tells us about the members our seed knows; we connect to each). */
    int last = others_alive(a), quiet = 0;
    for (int i = 0; i < 250 && (last == 0 || quiet < 25); i++) {
        sleep_ms(20);
        int n = others_alive(a);
        quiet = n == last ? quiet + 1 : 0;
        last = n;
    }
    if (last == 0) fprintf(stderr, "block_ip: warning: no other member is alive\n");

    rc = agora_publish(a, &ev);
    if (rc == AGORA_OK) rc = agora_flush(a, 10000);
    char addr[64];
    agora_ip_prefix_format(&ev.u.block_ip.address, addr, sizeof addr);
    if (rc == AGORA_OK)
        printf("block_ip: %s blocked on %d other node(s)\n", addr, others_alive(a));
    else
        fprintf(stderr, "block_ip: %s was not handed over: %s\n", addr, agora_strerror(rc));
    agora_close(a);
    return rc == AGORA_OK ? 0 : 1;
}
