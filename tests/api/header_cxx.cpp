// header_cxx.cpp — agora.h compiles as C++ (-Wall -Wextra -Werror -pedantic): events
// built from string literals, options, status and members, and a coordinator on the
// Disabled backend opened and closed. Compiled by tests/api.cmake; run as a test.
#include "agora.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

static int failures = 0;
#define EXPECT(c)                                                                      \
    do {                                                                               \
        if (!(c)) {                                                                    \
            std::fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #c);               \
            failures++;                                                                \
        }                                                                              \
    } while (0)

static int delivered = 0;
static void on_event(agora_t *, const agora_event *, void *) { delivered++; }

int main() {
    static const char *const domains[] = {"mail.example.org"};
    agora_event ev;
    std::memset(&ev, 0, sizeof ev);
    ev.type = AGORA_EV_CERTIFICATE_UPDATE;
    ev.u.certificate_update.domains = domains;
    ev.u.certificate_update.domain_count = 1;
    ev.u.certificate_update.chain_pem = "-----BEGIN CERTIFICATE-----\n";
    agora_event copy;
    EXPECT(agora_event_copy(&copy, &ev) == AGORA_OK);
    EXPECT(std::strcmp(copy.u.certificate_update.domains[0], "mail.example.org") == 0);
    agora_event_clear(&copy);

    agora_event block;
    std::memset(&block, 0, sizeof block);
    block.type = AGORA_EV_BLOCK_IP;
    EXPECT(agora_ip_prefix_parse("2001:db8::/48", &block.u.block_ip.address) == AGORA_OK);
    block.u.block_ip.reason = "abuse";
    char *json = agora_event_to_json(&block);
    EXPECT(json && std::strstr(json, "\"reason\":\"abuse\""));
    std::free(json);

    char err[256];
    const char *cfg_json = "{\"nodeId\":9,\"coordinator\":{\"@type\":\"Disabled\"}}";
    agora_config *cfg = agora_config_parse(cfg_json, std::strlen(cfg_json), err, sizeof err);
    EXPECT(cfg != nullptr);
    agora_options opts = {};
    opts.on_event = on_event;
    opts.log_level = AGORA_LOG_WARN;
    agora_t *a = nullptr;
    EXPECT(cfg && agora_open(cfg, &opts, &a, err, sizeof err) == AGORA_OK);
    agora_config_free(cfg);
    if (a) {
        agora_event custom;
        std::memset(&custom, 0, sizeof custom);
        custom.type = AGORA_EV_CUSTOM;
        custom.u.custom.name = "ping";
        EXPECT(agora_publish(a, &custom) == AGORA_OK);
        EXPECT(agora_flush(a, 5000) == AGORA_OK);
        agora_status st;
        EXPECT(agora_get_status(a, &st) == AGORA_OK && st.events_out == 1);
        agora_member m[4];
        EXPECT(agora_members(a, m, 4) == 1 && m[0].self && m[0].node == 9);
        EXPECT(agora_dispatch(a, 0) >= 0);
        agora_close(a);
    }
    EXPECT(agora_version_number() == AGORA_VERSION_NUMBER);
    if (failures) std::fprintf(stderr, "header_cxx: %d checks failed\n", failures);
    return failures ? 1 : 0;
}
