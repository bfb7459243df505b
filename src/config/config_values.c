/* config_values.c — durations, "host:port" addresses and URL masking. */
#include "config/config.h"
#include "config/config_values.h"

#include <arpa/inet.h>
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

static bool is_hostname(const char *h, size_t n) {
    if (n == 0 || n > 253) return false;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (c == '.') {
            if (label == 0) return false; /* empty label: leading dot or ".." */
            label = 0;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok || ++label > 63) return false;
        if (label == 1 && c == '-') return false;
    }
    return true;
}

const char *ag_check_hostport_n(const char *s, size_t n, bool need_port, bool allow_port0) {
    const char *host = s, *port = NULL;
    size_t hlen;
    if (n == 0) return "empty address";
    if (s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close) return "missing ']' after the IPv6 address";
        char buf[INET6_ADDRSTRLEN + 8];
        size_t alen = (size_t)(close - s - 1);
        struct in6_addr a6;
        if (alen == 0 || alen >= sizeof buf) return "invalid IPv6 address";
        memcpy(buf, s + 1, alen);
        buf[alen] = 0;
        if (inet_pton(AF_INET6, buf, &a6) != 1) return "invalid IPv6 address";
        size_t rest = n - (size_t)(close - s) - 1;
        if (rest > 0) {
            if (close[1] != ':') return "expected ':' and a port after ']'";
            port = close + 2;
        }
        host = NULL;
        hlen = 0;
    } else {
        const char *colon = NULL;
        for (size_t i = 0; i < n; i++)
            if (s[i] == ':') {
                if (colon) return "IPv6 addresses must be written in brackets, as [::1]:port";
                colon = s + i;
            }
        hlen = colon ? (size_t)(colon - s) : n;
        if (colon) port = colon + 1;
        if (hlen == 0) return "missing host";
    }
    if (host) {
        bool dotted = true;
        for (size_t i = 0; i < hlen; i++)
            if (!((host[i] >= '0' && host[i] <= '9') || host[i] == '.')) dotted = false;
        if (dotted) {
            char buf[INET_ADDRSTRLEN + 8];
            struct in_addr a4;
            if (hlen >= sizeof buf) return "invalid IPv4 address";
            memcpy(buf, host, hlen);
            buf[hlen] = 0;
            if (inet_pton(AF_INET, buf, &a4) != 1) return "invalid IPv4 address";
        } else if (!is_hostname(host, hlen)) {
            return "invalid host name";
        }
    }
    if (!port) return need_port ? "missing ':port'" : NULL;
    size_t plen = n - (size_t)(port - s);
    if (plen == 0) return "missing port number after ':'";
    if (plen > 5) return "port must be a number from 1 to 65535";
    unsigned long pv = 0;
    for (size_t i = 0; i < plen; i++) {
        if (port[i] < '0' || port[i] > '9') return "port must be a number from 1 to 65535";
        pv = pv * 10 + (unsigned long)(port[i] - '0');
    }
    if (pv > 65535 || (pv == 0 && !allow_port0)) return "port must be a number from 1 to 65535";
    return NULL;
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
