/* hostport.c — split and check "host:port", "[v6]:port" and a bare host. */
#include "util/hostport.h"

#include "agora.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

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

/* The host part: an IPv6 literal (inside the brackets), dotted IPv4, or a name. */
static const char *check_host(const char *h, size_t n, bool v6) {
    char buf[AG_HOST_MAX];
    if (v6) {
        struct in6_addr a6;
        if (n == 0 || n >= INET6_ADDRSTRLEN + 8) return "invalid IPv6 address";
        memcpy(buf, h, n);
        buf[n] = 0;
        return inet_pton(AF_INET6, buf, &a6) == 1 ? NULL : "invalid IPv6 address";
    }
    bool dotted = true;
    for (size_t i = 0; i < n; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || h[i] == '.')) dotted = false;
    if (!dotted) return is_hostname(h, n) ? NULL : "invalid host name";
    struct in_addr a4;
    if (n >= INET_ADDRSTRLEN + 8) return "invalid IPv4 address";
    memcpy(buf, h, n);
    buf[n] = 0;
    return inet_pton(AF_INET, buf, &a4) == 1 ? NULL : "invalid IPv4 address";
}

/* The digits after ':' in p[0..n). */
static const char *check_port(const char *p, size_t n, bool allow0, uint16_t *port) {
    if (n == 0) return "missing port number after ':'";
    if (n > 5) return "port must be a number from 1 to 65535";
    unsigned long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return "port must be a number from 1 to 65535";
        v = v * 10 + (unsigned long)(p[i] - '0');
    }
    if (v > 65535 || (v == 0 && !allow0)) return "port must be a number from 1 to 65535";
    *port = (uint16_t)v;
    return NULL;
}

const char *ag_hostport_parse(const char *s, size_t n, unsigned flags, ag_hostport *out) {
    const char *host, *port = NULL;
    size_t hlen;
    bool v6 = false;
    if (n == 0) return "empty address";
    if (s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (!close) return "missing ']' after the IPv6 address";
        host = s + 1;
        hlen = (size_t)(close - host);
        v6 = true;
        const char *why = check_host(host, hlen, true); /* before the port, as always */
        if (why) return why;
        if (close + 1 < s + n) {
            if (close[1] != ':') return "expected ':' and a port after ']'";
            port = close + 2;
        }
    } else {
        const char *colon = NULL;
        for (size_t i = 0; i < n; i++)
            if (s[i] == ':') {
                if (colon) return "IPv6 addresses must be written in brackets, as [::1]:port";
                colon = s + i;
            }
        host = s;
        hlen = colon ? (size_t)(colon - s) : n;
        if (colon) port = colon + 1;
        if (hlen == 0) return "missing host";
    }
    const char *why = v6 ? NULL : check_host(host, hlen, false);
    if (why) return why;
    uint16_t pv = 0;
    if (!port) {
        if (flags & AG_HOSTPORT_NEED_PORT) return "missing ':port'";
    } else if ((why = check_port(port, n - (size_t)(port - s), flags & AG_HOSTPORT_PORT0, &pv))) {
        return why;
    }
    if (out) {
        memcpy(out->host, host, hlen); /* hlen <= 253 or a checked address: fits */
        out->host[hlen] = 0;
        out->ipv6 = v6;
        out->has_port = port != NULL;
        out->port = pv;
    }
    return NULL;
}

void ag_hostport_format(const ag_hostport *hp, char *buf, size_t buflen) {
    const char *open = hp->ipv6 ? "[" : "", *close = hp->ipv6 ? "]" : "";
    if (hp->has_port)
        snprintf(buf, buflen, "%s%s%s:%u", open, hp->host, close, (unsigned)hp->port);
    else
        snprintf(buf, buflen, "%s%s%s", open, hp->host, close);
}

int agora_parse_address(const char *text, bool allow_port0, char *host, size_t hostlen,
                        uint16_t *port, char *err, size_t errlen) {
    if (err && errlen) err[0] = 0;
    if (!text || !host || hostlen == 0 || !port) {
        if (err && errlen) snprintf(err, errlen, "invalid argument");
        return AGORA_EINVAL;
    }
    ag_hostport hp;
    unsigned flags = AG_HOSTPORT_NEED_PORT | (allow_port0 ? AG_HOSTPORT_PORT0 : 0u);
    const char *why = ag_hostport_parse(text, strlen(text), flags, &hp);
    if (!why && strlen(hp.host) + (hp.ipv6 ? 2 : 0) >= hostlen) why = "host name too long";
    if (why) {
        if (err && errlen) snprintf(err, errlen, "%s", why);
        return AGORA_EINVAL;
    }
    snprintf(host, hostlen, hp.ipv6 ? "[%s]" : "%s", hp.host);
    *port = hp.port;
    return AGORA_OK;
}
