/* kafka_config.c — the fields of a Kafka coordinator and what the core must know. */
#include "backend/kafka/kafka_config.h"

#include <stddef.h>

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
};

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
    .codecs = AG_CODEC_BIT(AG_CODEC_AGORA) | AG_CODEC_BIT(AG_CODEC_STALWART),
    .topology = AG_TOPOLOGY_BUS,
    .flush_ms = kafka_flush_ms,
};
