/* zenoh_config.c — the one field of a Zenoh coordinator and what the core must know.
 *
 * "config" is Zenoh's own configuration (JSON5), passed through untouched. When this
 * build has the shim, Zenoh parses it here already, so that `config check` reports
 * Zenoh's message under coordinator.config rather than agora_open later; without the
 * shim any non-empty text is accepted (agora_open then says AGORA_ENOBACKEND). */
#include "backend/zenoh/zenoh_config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#ifdef AGORA_HAVE_ZENOH
#include "agz.h"
#endif

#define F(member) offsetof(ag_zenoh_config, member)

#define MASK "********"

/* Whether the key ending just before `end` (len characters) holds a secret in Zenoh's
 * configuration: "password" (transport.auth.usrpwd) or "..._base64" (TLS keys and
 * certificates given inline). */
static bool secret_key(const char *end, size_t len) {
    return (len == 8 && !memcmp(end - 8, "password", 8)) ||
           (len > 7 && !memcmp(end - 7, "_base64", 7));
}

/* The configuration with the string value of every secret key replaced by MASK, for
 * printing (malloc'ed; NULL on out-of-memory). A scan of JSON5's surface, not a
 * parse: good enough to keep passwords off screens and out of logs. */
static char *mask_zenoh_secrets(const char *s) {
    size_t n = strlen(s);
    /* Each masked value grows by at most strlen(MASK) and takes more than that many
     * characters of input (its key, a colon, two quotes). */
    char *out = malloc(2 * n + strlen(MASK) + 1);
    if (!out) return NULL;
    size_t o = 0, i = 0;
    while (i < n) {
        size_t k = i;
        while (k < n && (s[k] == '_' || (s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') ||
                         (s[k] >= '0' && s[k] <= '9')))
            k++;
        if (k == i) {
            out[o++] = s[i++];
            continue;
        }
        bool secret = secret_key(s + k, k - i);
        memcpy(out + o, s + i, k - i);
        o += k - i;
        i = k;
        if (!secret) continue;
        size_t v = i;
        if (v < n && (s[v] == '"' || s[v] == '\'')) v++; /* a quoted key's closing quote */
        while (v < n && (s[v] == ' ' || s[v] == '\t' || s[v] == '\n' || s[v] == '\r')) v++;
        if (v >= n || s[v] != ':') continue;
        v++;
        while (v < n && (s[v] == ' ' || s[v] == '\t' || s[v] == '\n' || s[v] == '\r')) v++;
        if (v >= n || (s[v] != '"' && s[v] != '\'')) continue; /* null, or not a string */
        char q = s[v];
        size_t e = v + 1;
        while (e < n && s[e] != q) e += s[e] == '\\' && e + 1 < n ? 2 : 1;
        if (e >= n) continue;
        memcpy(out + o, s + i, v + 1 - i);
        o += v + 1 - i;
        memcpy(out + o, MASK, strlen(MASK));
        o += strlen(MASK);
        out[o++] = q;
        i = e + 1;
    }
    out[o] = 0;
    return out;
}

static const char *check_json5(const char *s) { return *s ? NULL : "empty"; }

static const ag_value_syntax zenoh_json5 = {.expect = "a Zenoh configuration in JSON5",
                                            .check = check_json5,
                                            .hidden_noun = "Zenoh configuration",
                                            .mask = mask_zenoh_secrets};

static const ag_field zenoh_fields[] = {
    {.name = "config", .kind = AG_FIELD_STRING, .offset = F(config),
     .syntax = &zenoh_json5,
     .required = "required: a Zenoh configuration in JSON5, e.g. \"{ mode: \\\"peer\\\" }\""},
};

static void zenoh_validate(ag_section_ctx *x, void *section) {
    const ag_zenoh_config *z = section;
    if (!z->config || !z->config[0]) return; /* already reported */
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
