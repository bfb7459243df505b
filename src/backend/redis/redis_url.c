/* redis_url.c — redis://[user[:pass]@]host[:port][/db]. The config parser has already
 * checked the syntax; this splits it and percent-decodes the credentials. */
#include "backend/redis/redis_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static char *decode(const char *s, size_t n) {
    char *o = malloc(n + 1);
    if (!o) return NULL;
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            o[j++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            o[j++] = s[i];
        }
    }
    o[j] = 0;
    return o;
}

void ag_rurl_free(ag_rurl *u) {
    free(u->user);
    free(u->pass);
    u->user = u->pass = NULL;
}

int ag_rurl_parse(const char *url, ag_rurl *out, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    out->port = 6379;
    if (strncmp(url, "redis://", 8) != 0) {
        snprintf(err, errlen, "expected a URL starting with redis://");
        return AGORA_ECONFIG;
    }
    const char *a = url + 8;
    size_t alen = strcspn(a, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (a[i] == '@') at = a + i;
    if (at) {
        /* user:pass, :pass, or a lone word taken as the password (as the masker does) */
        const char *colon = memchr(a, ':', (size_t)(at - a));
        if (colon) {
            if (colon > a) out->user = decode(a, (size_t)(colon - a));
            if (at > colon + 1) out->pass = decode(colon + 1, (size_t)(at - colon - 1));
        } else if (at > a) {
            out->pass = decode(a, (size_t)(at - a));
        }
    }
    const char *hp = at ? at + 1 : a;
    size_t hplen = alen - (size_t)(hp - a);
    const char *portp = NULL;
    size_t hlen;
    if (hplen && hp[0] == '[') {
        const char *rb = memchr(hp, ']', hplen);
        if (!rb) goto bad;
        hlen = (size_t)(rb - hp - 1);
        if (hlen >= sizeof out->host) goto bad;
        memcpy(out->host, hp + 1, hlen);
        if ((size_t)(rb + 1 - hp) < hplen && rb[1] == ':') portp = rb + 2;
    } else {
        const char *c = memchr(hp, ':', hplen);
        hlen = c ? (size_t)(c - hp) : hplen;
        if (hlen == 0 || hlen >= sizeof out->host) goto bad;
        memcpy(out->host, hp, hlen);
        if (c) portp = c + 1;
    }
    out->host[hlen] = 0;
    if (portp) {
        char *end;
        long p = strtol(portp, &end, 10);
        if (end == portp || p <= 0 || p > 65535) goto bad;
        out->port = (int)p;
    }
    const char *rest = a + alen;
    if (*rest == '/' && rest[1]) out->db = atoi(rest + 1);
    return AGORA_OK;
bad:
    ag_rurl_free(out);
    snprintf(err, errlen, "invalid redis URL (expected redis://[user:pass@]host[:port][/db])");
    return AGORA_ECONFIG;
}
