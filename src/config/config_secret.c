/* config_secret.c — "secret" of every bus backend (coordinator.secret): one string or
 * a list of strings; the first seals, every one opens (docs/sealing.md). The engine
 * accepts the member for any type of topology BUS, so no backend's table repeats it;
 * PeerToPeer's own "secret" (its TLS PSK) is a field of its table and is not this.
 * The text of a secret is never echoed in an error, printed, or left in freed memory. */
#include "codec/seal.h"
#include "config/config.h"
#include "config/config_parse.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool ag_section_has_bus_secret(const ag_backend_type *t) {
    return t->topology == AG_TOPOLOGY_BUS;
}

void ag_strlist_wipe(ag_strlist *l) {
    for (size_t i = 0; i < l->count; i++)
        if (l->items[i]) OPENSSL_cleanse(l->items[i], strlen(l->items[i]));
    ag_strlist_free(l);
}

/* What the sealer says of secret[i] (length, duplicates), with the field's path. */
static void check_with_sealer(ag_cparse *c, const char *p, const ag_strlist *l, bool listed) {
    char err[256] = "";
    ag_sealer *s = ag_sealer_new((const char *const *)l->items, l->count, err, sizeof err);
    if (s) {
        ag_sealer_free(s);
        return;
    }
    /* err is "secret[i]: why" or "secret: why"; name the field by its full path */
    const char *why = strstr(err, ": ");
    const char *idx = strchr(err, '[');
    char path[AG_CPATH_MAX + 16];
    if (listed && idx && why && idx < why)
        snprintf(path, sizeof path, "%s%.*s", p, (int)(why - idx), idx);
    else
        snprintf(path, sizeof path, "%s", p);
    ag_cerr(c, path, "%s", why ? why + 2 : err);
}

void ag_config_read_secrets(ag_cparse *c, const ag_json *o, const char *path, ag_strlist *out) {
    const ag_json *v = ag_cmember(o, "secret");
    if (!v) return;
    char p[AG_CPATH_MAX];
    ag_cjoin(p, sizeof p, path, "secret");
    const ag_json *const *items = &v;
    size_t n = 1;
    bool listed = v->type == AG_JSON_ARRAY;
    if (listed) {
        items = (const ag_json *const *)v->items;
        n = v->count;
    } else if (v->type != AG_JSON_STRING) {
        ag_cerr(c, p, "expected a string or a list of strings, found %s",
                ag_json_type_name(v->type));
        return;
    }
    if (n == 0 || n > AG_SEAL_MAX_SECRETS) {
        ag_cerr(c, p, "give 1 to %d secrets, found %zu", AG_SEAL_MAX_SECRETS, n);
        return;
    }
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        char ip[AG_CPATH_MAX + 32];
        snprintf(ip, sizeof ip, listed ? "%s[%zu]" : "%s", p, i);
        if (items[i]->type != AG_JSON_STRING) {
            ag_cerr(c, ip, "expected a string, found %s", ag_json_type_name(items[i]->type));
            ok = false;
        } else if (strlen(items[i]->str) != items[i]->str_len) {
            ag_cerr(c, ip, "invalid secret: contains a NUL character");
            ok = false;
        }
    }
    if (!ok) return;
    const char **strs = calloc(n, sizeof *strs);
    if (!strs) {
        c->oom = true;
        return;
    }
    for (size_t i = 0; i < n; i++) strs[i] = items[i]->str;
    ag_strlist l = {0};
    int rc = ag_strlist_set(&l, strs, n);
    free(strs);
    if (rc < 0) {
        c->oom = true;
        return;
    }
    /* "********" is what config show prints for a secret: accepted here so that the
     * printed configuration parses back, and refused by agora_open (too short) */
    bool masked = false;
    for (size_t i = 0; i < n; i++) masked = masked || !strcmp(l.items[i], "********");
    size_t before = c->nerr;
    if (!masked) check_with_sealer(c, p, &l, listed);
    if (c->nerr != before) {
        ag_strlist_wipe(&l);
        return;
    }
    ag_strlist_wipe(out);
    *out = l;
}
