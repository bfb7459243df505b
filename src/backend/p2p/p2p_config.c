/* p2p_config.c — the fields of a PeerToPeer coordinator, its cross-field rules, and
 * what the core must know of it. */
#include "backend/p2p/p2p_config.h"
#include "config/config_section.h"
#include "util/hostport.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define F(member) offsetof(ag_p2p_config, member)

static const char *const encryptions[] = {"psk", "none", NULL};

static const ag_field p2p_fields[] = {
    /* port 0 is allowed in listen and advertise: "the port actually bound" */
    {.name = "listen", .kind = AG_FIELD_LIST, .offset = F(listen), .syntax = &ag_syntax_listen,
     .single_ok = true, .def_str = "127.0.0.1:7911", .min_items = 1,
     .min_msg = "at least one listen address is required"},
    {.name = "peers", .kind = AG_FIELD_LIST, .offset = F(peers), .syntax = &ag_syntax_hostport,
     .single_ok = true, .min_msg = ""},
    {.name = "secret", .kind = AG_FIELD_SECRET, .offset = F(secret)},
    {.name = "encryption", .kind = AG_FIELD_ENUM, .offset = F(encryption), .values = encryptions,
     .def = AG_P2P_PSK},
    {.name = "advertise", .kind = AG_FIELD_STRING, .offset = F(advertise),
     .syntax = &ag_syntax_listen},
    {.name = "reconnectMin", .kind = AG_FIELD_DURATION, .offset = F(reconnect_min_ms), .min = 1,
     .def = 100},
    {.name = "reconnectMax", .kind = AG_FIELD_DURATION, .offset = F(reconnect_max_ms), .min = 1,
     .def = 5000},
    {.name = "resendBuffer", .kind = AG_FIELD_UINT, .offset = F(resend_buffer), .max = UINT32_MAX,
     .def = 100000},
    {.name = "maxFrameSize", .kind = AG_FIELD_UINT, .offset = F(max_frame), .min = 1024,
     .max = 1073741824, .def = 4194304},
    {.name = "connectTimeout", .kind = AG_FIELD_DURATION, .offset = F(connect_timeout_ms),
     .min = 1, .def = 2000},
};

static void p2p_validate(ag_section_ctx *x, void *section) {
    ag_p2p_config *p = section;
    p->plaintext = p->encryption == AG_P2P_NONE;
    if (!ag_section_has(x, "secret") && !p->plaintext)
        ag_section_error(x, "secret",
                         "required: the cluster secret shared by every node (or set "
                         "\"encryption\": \"none\" to run without authentication and encryption)");
    if (p->secret && p->plaintext)
        ag_section_error(x, "secret",
                         "not used when \"encryption\" is \"none\"; remove one of them");
    /* A wildcard may be listened on, but an advertised one sends every peer nowhere. */
    ag_hostport adv;
    if (p->advertise && ag_section_has(x, "advertise") &&
        !ag_hostport_parse(p->advertise, strlen(p->advertise), AG_HOSTPORT_PORT0, &adv) &&
        (!strcmp(adv.host, "0.0.0.0") || !strcmp(adv.host, "::")))
        ag_section_error(x, "advertise",
                         "%s is a wildcard address other nodes cannot dial: give this node's "
                         "reachable address", adv.host);
    if (!p->advertise && p->listen.count && !(p->advertise = strdup(p->listen.items[0])))
        ag_section_oom(x);
    if (p->reconnect_max_ms < p->reconnect_min_ms)
        ag_section_error(x, "reconnectMax", "out of range: must not be less than reconnectMin");
}

/* A message must fit one frame with room for the frame's own header. */
static size_t p2p_max_message(const void *section) {
    uint64_t max_frame = ((const ag_p2p_config *)section)->max_frame;
    return max_frame > 64 && max_frame - 64 < SIZE_MAX ? (size_t)(max_frame - 64) : SIZE_MAX;
}

const ag_backend_type ag_type_p2p = {
    .name = "PeerToPeer",
    .fields = p2p_fields,
    .nfields = sizeof p2p_fields / sizeof p2p_fields[0],
    .size = sizeof(ag_p2p_config),
    .validate = p2p_validate,
    /* membership, sequence numbers and agora's own kinds carry the mesh */
    .codecs = AG_CODEC_BIT(AG_CODEC_AGORA),
    .topology = AG_TOPOLOGY_MESH,
    .max_message = p2p_max_message,
};
