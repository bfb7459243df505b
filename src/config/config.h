/* config.h — the typed configuration (internal; the public handle is agora_config). */
#ifndef AG_CONFIG_H
#define AG_CONFIG_H

#include "agora.h"
#include "config/config_section.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agora_config {
    int node_id;                    /* -1 = unset */
    ag_codec_kind codec;
    const ag_backend_type *type;    /* from the registry; never NULL */
    void *backend;                  /* the type's own section struct (type->size bytes) */
    /* node-file level settings (apply to every backend) */
    uint64_t heartbeat_interval_ms; /* 250 */
    uint64_t failure_timeout_ms;    /* 1500 */
    uint64_t outbox_limit;          /* events; 100000 */
    /* "secret" of a bus backend (coordinator.secret, one string or a list): every
     * message is sealed with the first and opened with any (docs/sealing.md). Empty
     * when not set. Wiped on free. */
    ag_strlist seal_secrets;
    uint64_t outbox_bytes;          /* encoded bytes; 64 MiB */
    /* "httpToken": the bearer token of an admin HTTP endpoint the application serves
     * (a secret: never printed). NULL when not set. Wiped on free. */
    char *http_token;
    uint64_t member_retention_ms;   /* failed/left members listed and gossiped; 10 min */
    /* the JSON text this configuration was parsed from (config_edit.c changes a field
     * by parsing it again with that field replaced); NULL if none */
    char *source;
    size_t source_len;
};

/* Deep copy (used by agora_open so the caller may free its config). */
agora_config *ag_config_clone(const agora_config *cfg);

/* Exchange the contents of two configurations (a successful edit moves the new
 * parse into the caller's handle). */
void ag_config_swap(agora_config *a, agora_config *b);

/* Parse a duration ("250ms","5s","1m","1h","1d") into ms. 0 on success, -1 on error. */
int ag_parse_duration(const char *text, uint64_t *ms);

#endif
