/* disabled_config.c — the Disabled coordinator has no fields and no transport. */
#include "backend/disabled/disabled.h"

const ag_backend_type ag_type_disabled = {
    .name = "Disabled",
    .codecs = AG_CODEC_BIT(AG_CODEC_AGORA) | AG_CODEC_BIT(AG_CODEC_STALWART),
    .topology = AG_TOPOLOGY_NONE,
};
