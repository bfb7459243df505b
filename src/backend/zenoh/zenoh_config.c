/* zenoh_config.c — the one field of a Zenoh coordinator and what the core must know.
 *
 * "config" is Zenoh's own configuration (JSON5), passed through untouched. When this
 * build has the shim, Zenoh parses it here already, so that `config check` reports
 * Zenoh's message under coordinator.config rather than agora_open later; without the
 * shim any non-empty text is accepted (agora_open then says AGORA_ENOBACKEND). */
#include "backend/zenoh/zenoh_config.h"

#include <stddef.h>

#ifdef AGORA_HAVE_ZENOH
#include "agz.h"
#endif

#define F(member) offsetof(ag_zenoh_config, member)

static const ag_field zenoh_fields[] = {
    {.name = "config", .kind = AG_FIELD_STRING, .offset = F(config),
     .required = "required: a Zenoh configuration in JSON5, e.g. \"{ mode: \\\"peer\\\" }\""},
};

static void zenoh_validate(ag_section_ctx *x, void *section) {
    const ag_zenoh_config *z = section;
    if (!z->config) return; /* "required" already said so */
    if (!z->config[0]) {
        ag_section_error(x, "config", "empty: expected a Zenoh configuration in JSON5");
        return;
    }
#ifdef AGORA_HAVE_ZENOH
    char err[512];
    if (agz_config_check(z->config, err, sizeof err) != 0)
        ag_section_error(x, "config", "%s", err);
#endif
}

const ag_backend_type ag_type_zenoh = {
    .name = "Zenoh",
    .fields = zenoh_fields,
    .nfields = sizeof zenoh_fields / sizeof zenoh_fields[0],
    .size = sizeof(ag_zenoh_config),
    .validate = zenoh_validate,
    .codecs = AG_CODEC_BIT(AG_CODEC_AGORA) | AG_CODEC_BIT(AG_CODEC_STALWART),
    .topology = AG_TOPOLOGY_BUS,
};
