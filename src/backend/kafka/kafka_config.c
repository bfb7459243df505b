/* kafka_config.c — the fields of a Kafka coordinator and what the core must know. */
#include "backend/kafka/kafka_config.h"

#include <stddef.h>
#include <string.h>

static const char *check_mechanism(const char *s) {
    if (!strcmp(s, "PLAIN") || !strcmp(s, "SCRAM-SHA-256") || !strcmp(s, "SCRAM-SHA-512"))
        return NULL;
    return "not a SASL mechanism agora supports";
}

static const ag_value_syntax sasl_mechanism = {
    .expect = "\"PLAIN\", \"SCRAM-SHA-256\" or \"SCRAM-SHA-512\"", .check = check_mechanism};

#define F(member) offsetof(ag_kafka_config, member)

static const ag_field kafka_fields[] = {
    {.name = "brokers", .kind = AG_FIELD_LIST, .offset = F(brokers),
     .syntax = &ag_syntax_hostport, .min_items = 1, .min_msg = "at least one broker is required"},
    {.name = "groupId", .kind = AG_FIELD_STRING, .offset = F(group_id),
     .required = "required (the Kafka consumer group id, e.g. \"agora\")"},
    {.name = "timeoutSession", .kind = AG_FIELD_DURATION, .offset = F(timeout_session_ms),
     .min = 1, .def = 5000},
    {.name = "timeoutMessage", .kind = AG_FIELD_DURATION, .offset = F(timeout_message_ms),
     .min = 1, .def = 5000},
    {.name = "useTls", .kind = AG_FIELD_BOOL, .offset = F(use_tls)},
    AG_TLS_FILE_FIELDS(ag_kafka_config, tls),
    {.name = "saslMechanism", .kind = AG_FIELD_STRING, .offset = F(sasl_mechanism),
     .syntax = &sasl_mechanism},
    {.name = "authUsername", .kind = AG_FIELD_STRING, .offset = F(auth_username)},
    {.name = "authSecret", .kind = AG_FIELD_SECRET, .offset = F(auth_secret)},
};

static void kafka_validate(ag_section_ctx *x, void *section) {
    const ag_kafka_config *k = section;
    ag_tls_validate(x, &k->tls, k->use_tls);
    if (k->sasl_mechanism) {
        /* agora's rule: SASL only inside TLS, so that neither the password (PLAIN) nor
         * the session after a SCRAM exchange travels in clear. */
        if (!k->use_tls)
            ag_section_error(x, "saslMechanism", "needs \"useTls\": true (SASL over TLS only)");
        if (!k->auth_username)
            ag_section_error(x, "authUsername", "required with saslMechanism");
        if (!k->auth_secret)
            ag_section_error(x, "authSecret", "required with saslMechanism");
    } else if (!ag_section_has(x, "saslMechanism")) {
        if (k->auth_username)
            ag_section_error(x, "authUsername", "not used without saslMechanism");
        if (k->auth_secret)
            ag_section_error(x, "authSecret", "not used without saslMechanism");
    }
}

/* librdkafka may hold an accepted message for up to timeoutMessage before it reports
 * it: close waits that long for it. */
static uint64_t kafka_flush_ms(const void *section) {
    return ((const ag_kafka_config *)section)->timeout_message_ms;
}

const ag_backend_type ag_type_kafka = {
    .name = "Kafka",
    .fields = kafka_fields,
    .nfields = sizeof kafka_fields / sizeof kafka_fields[0],
    .size = sizeof(ag_kafka_config),
    .validate = kafka_validate,
    .codecs = AG_CODEC_BIT(AG_CODEC_AGORA) | AG_CODEC_BIT(AG_CODEC_STALWART),
    .topology = AG_TOPOLOGY_BUS,
    .flush_ms = kafka_flush_ms,
};
