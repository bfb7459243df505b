/* config_values.c — durations, "host:port" addresses and Redis URLs. */
#include "config/config.h"
#include "config/config_values.h"
#include "util/hostport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ag_parse_duration(const char *text, uint64_t *ms) {
    if (!text || !ms) return -1;
    const char *p = text;
    if (*p < '0' || *p > '9') return -1;
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
        p++;
    }
    uint64_t mult;
    if (!strcmp(p, "ms"))
        mult = 1;
    else if (!strcmp(p, "s"))
        mult = 1000;
    else if (!strcmp(p, "m"))
        mult = 60000;
    else if (!strcmp(p, "h"))
        mult = 3600000;
    else if (!strcmp(p, "d"))
        mult = 86400000;
    else
        return -1;
    if (v > UINT64_MAX / mult) return -1;
    *ms = v * mult;
    return 0;
}

void ag_format_duration(uint64_t ms, char *buf, size_t buflen) {
    static const struct {
        uint64_t mult;
        const char *unit;
    } units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    if (ms) {
        for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
            if (ms % units[i].mult == 0) {
                snprintf(buf, buflen, "%llu%s", (unsigned long long)(ms / units[i].mult),
                         units[i].unit);
                return;
            }
        }
    }
    snprintf(buf, buflen, "%llums", (unsigned long long)ms);
}

const char *ag_check_hostport(const char *s, bool allow_port0) {
    return ag_hostport_parse(s, strlen(s), AG_HOSTPORT_NEED_PORT | (allow_port0 ? AG_HOSTPORT_PORT0 : 0),
                             NULL);
}

const char *ag_check_nats_address(const char *s) {
    if (!strncmp(s, "nats://", 7)) s += 7;
    else if (strstr(s, "://")) return "expected \"host:port\" or \"nats://host:port\"";
    if (strchr(s, '@'))
        return "credentials in the address are not allowed (use authUsername and authSecret)";
    return ag_check_hostport(s, false);
}

const char *ag_check_redis_url(const char *s) {
    if (!strncmp(s, "rediss://", 9))
        return "TLS (rediss://) is not supported by this build; use redis://";
    if (!strncmp(s, "unix://", 7) || !strncmp(s, "redis+unix://", 13))
        return "unix sockets are not supported; use redis://host:port";
    if (strncmp(s, "redis://", 8) != 0) return "expected a URL starting with redis://";
    const char *a = s + 8;
    size_t alen = strcspn(a, "/?#");
    const char *rest = a + alen;
    /* userinfo: up to the last '@' of the authority */
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (a[i] == '@') at = a + i;
    const char *hp = at ? at + 1 : a;
    size_t hplen = alen - (size_t)(hp - a);
    if (hplen == 0) return "missing host after redis://";
    const char *why = ag_hostport_parse(hp, hplen, 0, NULL);
    if (why) return why;
    if (*rest == '?' || *rest == '#') return "query parameters are not supported";
    if (*rest == '/') {
        rest++;
        size_t d = strspn(rest, "0123456789");
        if (rest[d] == '?' || rest[d] == '#') return "query parameters are not supported";
        if (rest[d] != 0) return "the path must be a database number, as redis://host:6379/0";
        if (d > 5) return "database number too large";
    }
    return NULL;
}

char *ag_mask_url(const char *s) {
    const char *scheme = strstr(s, "://");
    const char *a = scheme ? scheme + 3 : s;
    size_t alen = strcspn(a, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < alen; i++)
        if (a[i] == '@') at = a + i;
    if (!at) return strdup(s);
    /* user:password@ -> user:********@ ; a lone userinfo may be a password: mask it */
    const char *colon = memchr(a, ':', (size_t)(at - a));
    size_t keep = colon ? (size_t)(colon - s) + 1 : (size_t)(a - s);
    size_t tail = strlen(at);
    char *out = malloc(keep + 8 + tail + 1);
    if (!out) return NULL;
    memcpy(out, s, keep);
    memcpy(out + keep, "********", 8);
    memcpy(out + keep + 8, at, tail + 1);
    return out;
}
