/* zenoh_config.h — the Zenoh coordinator section, as Stalwart stores it (no shim
 * needed to read it). */
#ifndef AG_ZENOH_CONFIG_H
#define AG_ZENOH_CONFIG_H

#include "config/config_section.h"

typedef struct ag_zenoh_config {
    char *config; /* a Zenoh configuration in JSON5, handed to Zenoh as it is (required) */
} ag_zenoh_config;

extern const ag_backend_type ag_type_zenoh;

#endif
