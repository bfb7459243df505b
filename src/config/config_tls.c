/* config_tls.c — rules of the TLS client fields (config_tls.h). */
#include "config/config_tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

bool ag_tls_any(const ag_tls_files *t) {
    return t->ca_file || t->cert_file || t->key_file || t->key_password || t->server_name;
}

/* The file must exist, be a regular file and be readable by this process. Checked
 * when the configuration is read so that `config check` catches it; the client
 * library reads it again when it connects. */
static void check_file(ag_section_ctx *x, const char *key, const char *path) {
    if (!path) return;
    if (!*path) {
        ag_section_error(x, key, "must name a file (empty)");
        return;
    }
    struct stat st;
    FILE *f = NULL;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        ag_section_error(x, key, "cannot read %s: not a regular file", path);
        return;
    }
    if (!(f = fopen(path, "r"))) {
        ag_section_error(x, key, "cannot read %s: %s", path, strerror(errno));
        return;
    }
    fclose(f);
}

void ag_tls_validate(ag_section_ctx *x, const ag_tls_files *t, bool use_tls) {
    static const struct {
        const char *key;
        size_t off;
    } all[] = {
        {"tlsCaFile", offsetof(ag_tls_files, ca_file)},
        {"tlsCertFile", offsetof(ag_tls_files, cert_file)},
        {"tlsKeyFile", offsetof(ag_tls_files, key_file)},
        {"tlsKeyPassword", offsetof(ag_tls_files, key_password)},
        {"tlsServerName", offsetof(ag_tls_files, server_name)},
    };
    if (!use_tls) {
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            if (*(char *const *)((const char *)t + all[i].off))
                ag_section_error(x, all[i].key, "needs \"useTls\": true");
        return;
    }
    if (t->cert_file && !t->key_file)
        ag_section_error(x, "tlsKeyFile", "required with tlsCertFile (the client certificate's key)");
    if (t->key_file && !t->cert_file)
        ag_section_error(x, "tlsCertFile", "required with tlsKeyFile (the client certificate)");
    if (t->key_password && !t->key_file)
        ag_section_error(x, "tlsKeyPassword", "not used without tlsKeyFile");
    if (t->server_name && !*t->server_name)
        ag_section_error(x, "tlsServerName", "must not be empty");
    check_file(x, "tlsCaFile", t->ca_file);
    check_file(x, "tlsCertFile", t->cert_file);
    check_file(x, "tlsKeyFile", t->key_file);
}
