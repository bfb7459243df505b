/* nats_config.c — the fields of a Nats coordinator and what the core must know. */
#include "backend/nats/nats_config.h"
#include "config/config_values.h"

#include <stddef.h>
#include <string.h>

const char *ag_check_nats_address(const char *s) {
    if (!strncmp(s, "nats://", 7)) s += 7;
    else if (strstr(s, "://")) return "expected \"host:port\" or \"nats://host:port\"";
    if (strchr(s, '@'))
        return "credentials in the address are not allowed (use authUsername and authSecret)";
    return ag_check_hostport(s, false);
}

static const ag_value_syntax nats_address = {.expect = "\"host:port\"",
                                             .check = ag_check_nats_address};

#define F(member) offsetof(ag_nats_config, member)
#define COUNT(key, member, def_)                                                            \
    {.name = key, .kind = AG_FIELD_UINT, .offset = F(member), .min = 1, .max = UINT32_MAX,  \
     .def = def_}

static const ag_field nats_fields[] = {
    {.name = "addresses", .kind = AG_FIELD_LIST, .offset = F(addresses), .syntax = &nats_address,
     .def_str = "127.0.0.1:4444", .min_items = 1, .min_msg = "at least one address is required"},
    {.name = "maxReconnects", .kind = AG_FIELD_OPT_UINT, .offset = F(max_reconnects),
     .max = UINT32_MAX, .print_null_unset = true},
    {.name = "timeoutConnection", .kind = AG_FIELD_DURATION, .offset = F(timeout_connection_ms),
     .min = 1, .def = 5000},
    {.name = "timeoutRequest", .kind = AG_FIELD_DURATION, .offset = F(timeout_request_ms),
     .min = 1, .def = 10000},
    {.name = "pingInterval", .kind = AG_FIELD_DURATION, .offset = F(ping_interval_ms), .min = 1,
     .def = 60000},
    COUNT("capacityClient", capacity_client, 2048),
    COUNT("capacityReadBuffer", capacity_read_buffer, 65535),
    COUNT("capacitySubscription", capacity_subscription, 65536),
    {.name = "noEcho", .kind = AG_FIELD_BOOL, .offset = F(no_echo), .def = true},
    {.name = "useTls", .kind = AG_FIELD_BOOL, .offset = F(use_tls)},
    AG_TLS_FILE_FIELDS(ag_nats_config, tls),
    AG_TLS_SERVER_NAME_FIELD(ag_nats_config, tls),
    {.name = "authUsername", .kind = AG_FIELD_STRING, .offset = F(auth_username)},
    {.name = "authSecret", .kind = AG_FIELD_SECRET, .offset = F(auth_secret)},
    {.name = "credentials", .kind = AG_FIELD_SECRET, .offset = F(credentials)},
};

static void nats_validate(ag_section_ctx *x, void *section) {
    const ag_nats_config *n = section;
    ag_tls_validate(x, &n->tls, n->use_tls);
}

const ag_backend_type ag_type_nats = {
    .name = "Nats",
    .fields = nats_fields,
    .nfields = sizeof nats_fields / sizeof nats_fields[0],
    .size = sizeof(ag_nats_config),
    .validate = nats_validate,
    .codecs = AG_CODEC_BIT(AG_CODEC_AGORA) | AG_CODEC_BIT(AG_CODEC_STALWART),
    .topology = AG_TOPOLOGY_BUS,
};
