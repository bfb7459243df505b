/* config_values.c — durations, "host:port" addresses and URL masking. */
#include "config/config.h"
#include "config/config_values.h"
#include "util/hostport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one duration syntax of agora: digits, then "ms", "s", "m", "h" or "d"; with
 * bare_ms, digits alone are milliseconds. A configuration's duration strings need
 * their unit (its bare integers are JSON numbers); command-line options do not. */
static int parse_duration(const char *text, bool bare_ms, uint64_t *ms) {
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
    if (bare_ms && !*p)
        mult = 1;
    else if (!strcmp(p, "ms"))
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

int ag_parse_duration(const char *text, uint64_t *ms) { return parse_duration(text, false, ms); }

int agora_parse_duration(const char *text, uint64_t *ms) {
    return parse_duration(text, true, ms) == 0 ? AGORA_OK : AGORA_EINVAL;
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

const char *ag_check_hostport_n(const char *s, size_t n, bool need_port, bool allow_port0) {
    unsigned flags = (need_port ? AG_HOSTPORT_NEED_PORT : 0u) | (allow_port0 ? AG_HOSTPORT_PORT0 : 0u);
    return ag_hostport_parse(s, n, flags, NULL);
}

const char *ag_check_hostport(const char *s, bool allow_port0) {
    return ag_check_hostport_n(s, strlen(s), true, allow_port0);
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
