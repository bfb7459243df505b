/* header_strict.c — agora.h under -Wwrite-strings -pedantic: events built from string
 * literals need no casts (the members the library only reads are const). Compiled by
 * tests/api.cmake; run as a test. */
#include "agora.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    static const char *const domains[] = {"mail.example.org", "example.org"};
    static const uint8_t payload[] = {1, 2, 3};
    agora_event evs[4];
    memset(evs, 0, sizeof evs);
    evs[0].type = AGORA_EV_BLOCK_IP;
    agora_ip_prefix_parse("203.0.113.7", &evs[0].u.block_ip.address);
    evs[0].u.block_ip.reason = "too many failed logins";
    evs[1].type = AGORA_EV_CALENDAR_ALERT;
    evs[1].u.calendar_alert.uid = "event@example.org";
    evs[1].u.calendar_alert.alert_id = "a1";
    evs[2].type = AGORA_EV_CERTIFICATE_UPDATE;
    evs[2].u.certificate_update.domains = domains;
    evs[2].u.certificate_update.domain_count = 2;
    evs[2].u.certificate_update.chain_pem = "-----BEGIN CERTIFICATE-----\n";
    evs[3].type = AGORA_EV_CUSTOM;
    evs[3].u.custom.name = "ping";
    evs[3].u.custom.data = payload;
    evs[3].u.custom.len = sizeof payload;
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        char *json = agora_event_to_json(&evs[i]);
        agora_event back;
        char err[128];
        if (!json || agora_event_from_json(json, strlen(json), &back, err, sizeof err) != AGORA_OK) {
            fprintf(stderr, "event %d does not round-trip through JSON\n", i);
            bad = 1;
        } else {
            agora_event_clear(&back);
        }
        free(json);
    }
    if (agora_version_number() != AGORA_VERSION_NUMBER) {
        fprintf(stderr, "agora_version_number %u, header %d\n", agora_version_number(),
                AGORA_VERSION_NUMBER);
        bad = 1;
    }
    return bad;
}
