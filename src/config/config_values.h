/* config_values.h — value syntax shared by the config parser and writer (internal). */
#ifndef AG_CONFIG_VALUES_H
#define AG_CONFIG_VALUES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest duration accepted anywhere: 24 days, so every duration fits an int of ms. */
#define AG_DURATION_MAX_MS (24ULL * 86400000ULL)

/* Write ms in the largest exact unit ("5s", "1500ms", "1m", "2d") into buf. */
void ag_format_duration(uint64_t ms, char *buf, size_t buflen);

/* Check "host:port" (host: name, IPv4, or [IPv6]). Returns NULL if valid, otherwise
 * a short reason. allow_port0 accepts port 0 (listen on an ephemeral port). */
const char *ag_check_hostport(const char *s, bool allow_port0);

/* Check host[:port] in s[0..n) (e.g. the authority of a URL). need_port: the port
 * is mandatory. */
const char *ag_check_hostport_n(const char *s, size_t n, bool need_port, bool allow_port0);

/* A copy of a URL with its password (or a lone userinfo) replaced by
 * "********". malloc'ed; NULL on out-of-memory. */
char *ag_mask_url(const char *s);

#endif
