/* nats_options.c — translate the "Nats" configuration into libnats options.
 *
 * Mapping of Stalwart's fields (see docs/nats.md):
 *   addresses            natsOptions_SetServers ("nats://" added when missing)
 *   maxReconnects        natsOptions_SetMaxReconnect (null = -1, unlimited)
 *   timeoutConnection    natsOptions_SetTimeout
 *   timeoutRequest       used by the backend for flush round trips (acknowledgements)
 *   pingInterval         natsOptions_SetPingInterval
 *   capacityClient       the backend's limit of published-but-unacknowledged messages
 *                        (libnats' reconnect buffer is not used: see below)
 *   capacityReadBuffer   natsOptions_SetIOBufSize (socket read/write buffer, bytes)
 *   capacitySubscription natsSubscription_SetPendingLimits (messages; bytes = 1 KiB each)
 *   noEcho               natsOptions_SetNoEcho
 *   useTls               natsOptions_SetSecure + the system CA file (or SSL_CERT_FILE)
 *   authUsername/Secret  natsOptions_SetUserInfo
 *   credentials          natsOptions_SetToken */
#include "backend/nats/nats_internal.h"
#include "util/backoff.h"

#include <limits.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int clamp_int(uint64_t v) { return v > INT_MAX ? INT_MAX : (int)v; }

/* Capped exponential backoff with jitter; libnats calls it after a failed pass over
 * every server. Never unbounded: at most RECONNECT_MAX_MS milliseconds. */
static int64_t reconnect_delay(natsConnection *nc, int attempts, void *closure) {
    (void)nc;
    (void)closure;
    ag_backoff bo = {.min_ms = AG_NATS_RECONNECT_MIN_MS, .max_ms = AG_NATS_RECONNECT_MAX_MS,
                     .jitter_pct = AG_NATS_RECONNECT_JITTER_PCT};
    return (int64_t)ag_backoff_delay(&bo, attempts > 1 ? (unsigned)attempts - 1 : 0);
}

/* The CA bundle used to verify the server: SSL_CERT_FILE if set (OpenSSL's own
 * convention), else OpenSSL's default file, else Debian's bundle. libnats loads no
 * trust store by itself. */
static const char *ca_file(void) {
    const char *env = getenv(X509_get_default_cert_file_env());
    if (env && *env) return env;
    const char *def = X509_get_default_cert_file();
    if (def && access(def, R_OK) == 0) return def;
    if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0)
        return "/etc/ssl/certs/ca-certificates.crt";
    return NULL;
}

static char *make_url(const char *addr, bool tls) {
    const char *p = addr;
    if (!strncmp(p, "nats://", 7)) p += 7;
    else if (!strncmp(p, "tls://", 6)) p += 6;
    size_t n = strlen(p) + 8;
    char *u = malloc(n);
    if (u) snprintf(u, n, "%s%s", tls ? "tls://" : "nats://", p);
    return u;
}

void ag_nats_display_url(const char *url, char *buf, size_t len) {
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    const char *at = strrchr(p, '@');
    if (at) p = at + 1;
    snprintf(buf, len, "%s", p);
    size_t l = strlen(buf);
    if (l && buf[l - 1] == '/') buf[l - 1] = 0;
}

void ag_nats_servers_text(const ag_nats_config *cfg, char *buf, size_t len) {
    size_t off = 0;
    buf[0] = 0;
    for (size_t i = 0; i < cfg->addresses.count && off + 1 < len; i++) {
        char one[300];
        ag_nats_display_url(cfg->addresses.items[i], one, sizeof one);
        int n = snprintf(buf + off, len - off, "%s%s", i ? "," : "", one);
        if (n < 0) break;
        off += (size_t)n;
    }
}

#define TRY(call, what)                                                                 \
    do {                                                                                \
        natsStatus s_ = (call);                                                         \
        if (s_ != NATS_OK) {                                                            \
            snprintf(err, errlen, "nats: %s: %s", what, natsStatus_GetText(s_));        \
            rc = s_ == NATS_NO_MEMORY ? AGORA_ENOMEM : AGORA_ECONFIG;                   \
            goto fail;                                                                  \
        }                                                                               \
    } while (0)

int ag_nats_options(const ag_nats_config *cfg, uint16_t node_id, natsOptions **out,
                    char *err, size_t errlen) {
    natsOptions *o = NULL;
    char **urls = NULL;
    int rc = AGORA_OK;
    *out = NULL;
    if (cfg->addresses.count == 0 || cfg->addresses.count > INT_MAX) {
        snprintf(err, errlen, "nats: at least one address is required");
        return AGORA_ECONFIG;
    }
    TRY(natsOptions_Create(&o), "cannot create options");
    urls = calloc(cfg->addresses.count, sizeof *urls);
    if (!urls) {
        rc = AGORA_ENOMEM;
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < cfg->addresses.count; i++) {
        /* TLS is negotiated after the server's INFO (natsOptions_SetSecure), so
         * plain nats:// URLs are right for both cases. */
        urls[i] = make_url(cfg->addresses.items[i], false);
        if (!urls[i]) {
            rc = AGORA_ENOMEM;
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    TRY(natsOptions_SetServers(o, (const char **)urls, (int)cfg->addresses.count), "addresses");
    char name[64];
    snprintf(name, sizeof name, "agora-node-%u", node_id);
    TRY(natsOptions_SetName(o, name), "name");
    TRY(natsOptions_SetMaxReconnect(
            o, cfg->max_reconnects.set ? clamp_int(cfg->max_reconnects.value) : -1),
        "maxReconnects");
    TRY(natsOptions_SetCustomReconnectDelay(o, reconnect_delay, NULL), "reconnect delay");
    TRY(natsOptions_SetTimeout(o, (int64_t)cfg->timeout_connection_ms), "timeoutConnection");
    TRY(natsOptions_SetPingInterval(o, (int64_t)cfg->ping_interval_ms), "pingInterval");
    TRY(natsOptions_SetIOBufSize(o, clamp_int(cfg->capacity_read_buffer)), "capacityReadBuffer");
    TRY(natsOptions_SetMaxPendingMsgs(o, clamp_int(cfg->capacity_subscription)),
        "capacitySubscription");
    TRY(natsOptions_SetNoEcho(o, cfg->no_echo), "noEcho");
    /* Publish nothing through libnats' reconnect buffer: what it holds is sent right
     * after a reconnection, before the other nodes may have resubscribed, and a flush
     * would then acknowledge messages nobody received. A minimal buffer makes publish
     * fail while disconnected, so the events wait in the core's outbox instead. */
    TRY(natsOptions_SetReconnectBufSize(o, 1), "reconnect buffer");
    if (cfg->use_tls) {
        TRY(natsOptions_SetSecure(o, true), "useTls");
        const char *ca = ca_file();
        if (ca) {
            natsStatus s = natsOptions_LoadCATrustedCertificates(o, ca);
            if (s != NATS_OK) {
                snprintf(err, errlen, "nats: useTls: cannot load the CA certificates from %s: %s",
                         ca, nats_GetLastError(NULL) ? nats_GetLastError(NULL) : natsStatus_GetText(s));
                rc = AGORA_ECONFIG;
                goto fail;
            }
        }
    }
    if (cfg->auth_username || cfg->auth_secret)
        TRY(natsOptions_SetUserInfo(o, cfg->auth_username ? cfg->auth_username : "",
                                    cfg->auth_secret ? cfg->auth_secret : ""),
            "authUsername/authSecret");
    if (cfg->credentials) TRY(natsOptions_SetToken(o, cfg->credentials), "credentials");
    for (size_t i = 0; i < cfg->addresses.count; i++) free(urls[i]);
    free(urls);
    *out = o;
    return AGORA_OK;
fail:
    if (urls)
        for (size_t i = 0; i < cfg->addresses.count; i++) free(urls[i]);
    free(urls);
    if (o) natsOptions_Destroy(o);
    return rc;
}
