/* hostport.h — the one "host:port" parser (internal): configuration checks, the
 * PeerToPeer listen/peer/advertise addresses and the addresses membership reports. */
#ifndef AG_HOSTPORT_H
#define AG_HOSTPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AG_HOST_MAX 256 /* a host name is at most 253 characters */

typedef struct ag_hostport {
    char host[AG_HOST_MAX]; /* a name, an IPv4 address, or an IPv6 address without [] */
    bool ipv6;              /* host was written in brackets */
    bool has_port;
    uint16_t port;          /* 0 when !has_port (or port 0 was allowed and given) */
} ag_hostport;

enum {
    AG_HOSTPORT_NEED_PORT = 1 << 0, /* ":port" is mandatory */
    AG_HOSTPORT_PORT0 = 1 << 1,     /* accept port 0 ("any": listen on an ephemeral port) */
};

/* Parse host[:port] in s[0..n): host a name, dotted IPv4 or [IPv6] (an IPv6 address
 * must be in brackets). Returns NULL when valid, filling *out if out is not NULL;
 * otherwise a short reason, worded for an operator ("missing ':port'", "port must be
 * a number from 1 to 65535", ...). */
const char *ag_hostport_parse(const char *s, size_t n, unsigned flags, ag_hostport *out);

/* Write hp back as text: "host:port", "[v6]:port", or the host alone without a port. */
void ag_hostport_format(const ag_hostport *hp, char *buf, size_t buflen);

#endif
