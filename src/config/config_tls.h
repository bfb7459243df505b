/* config_tls.h — the TLS client fields shared by the broker coordinators (Nats, Kafka):
 * CA file, client certificate and key, the key's password, the expected server name.
 * Neither Stalwart's Nats nor its Kafka coordinator has such fields: these names are
 * agora's own (docs/configuration.md). */
#ifndef AG_CONFIG_TLS_H
#define AG_CONFIG_TLS_H

#include "config/config_section.h"

typedef struct ag_tls_files {
    char *ca_file;      /* PEM bundle the server's certificate must chain to; NULL = system's */
    char *cert_file;    /* PEM client certificate (chain), with key_file */
    char *key_file;     /* PEM private key of cert_file */
    char *key_password; /* secret: decrypts key_file */
    char *server_name;  /* name the server's certificate must carry; NULL = the address */
} ag_tls_files;

/* Field descriptors of an ag_tls_files member `m` of section struct `T` (all but
 * tlsServerName, which only some backends can honour). */
#define AG_TLS_FILE_FIELDS(T, m)                                                           \
    {.name = "tlsCaFile", .kind = AG_FIELD_STRING, .offset = offsetof(T, m.ca_file)},      \
    {.name = "tlsCertFile", .kind = AG_FIELD_STRING, .offset = offsetof(T, m.cert_file)},  \
    {.name = "tlsKeyFile", .kind = AG_FIELD_STRING, .offset = offsetof(T, m.key_file)},    \
    {.name = "tlsKeyPassword", .kind = AG_FIELD_SECRET, .offset = offsetof(T, m.key_password)}
#define AG_TLS_SERVER_NAME_FIELD(T, m)                                                     \
    {.name = "tlsServerName", .kind = AG_FIELD_STRING, .offset = offsetof(T, m.server_name)}

/* Cross-field rules: every tls* field needs useTls; certificate and key go together;
 * a password needs a key; every file named must be readable now (the error names the
 * field and the file, with the system's reason). */
void ag_tls_validate(ag_section_ctx *x, const ag_tls_files *t, bool use_tls);

/* True if any of the fields is set. */
bool ag_tls_any(const ag_tls_files *t);

#endif
