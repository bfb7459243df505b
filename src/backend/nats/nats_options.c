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
 *   tlsCaFile            natsOptions_LoadCATrustedCertificates instead of the system's
 *   tlsCertFile/KeyFile  natsOptions_LoadCertificatesChain (the client certificate)
 *   tlsKeyPassword       the key is read (and decrypted) here and handed over in memory
 *                        (natsOptions_SetCertificatesChain): libnats takes no password,
 *                        and OpenSSL would prompt on the terminal for an encrypted key
 *   tlsServerName        natsOptions_SetExpectedHostname
 *   authUsername/Secret  natsOptions_SetUserInfo
 *   credentials          natsOptions_SetToken */
#include "backend/nats/nats_internal.h"
#include "util/backoff.h"

#include <limits.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
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

void ag_nats_tls_hint(const ag_nats_config *cfg, char *text, size_t len) {
    /* A server that wants a client certificate (verify: true) and did not like ours
     * (or got none) closes the connection right after the handshake: libnats sees
     * its PONG missing, or, when the close comes first, its CONNECT write failing. */
    if (!cfg->use_tls || !(strstr(text, "Expected 'PONG'") || strstr(text, "SSL_write error")))
        return;
    size_t n = strlen(text);
    snprintf(text + n, len - n, " (the server closed the TLS connection: %s)",
             cfg->tls.cert_file ? "does it trust the CA of tlsCertFile?"
                                : "does it require a client certificate? set tlsCertFile and "
                                  "tlsKeyFile");
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

/* The libnats (OpenSSL) reason of the last failure, or the status text. */
static const char *nats_reason(natsStatus s) {
    const char *last = nats_GetLastError(NULL);
    return last && *last ? last : natsStatus_GetText(s);
}

/* Read a whole (small) PEM file into a NUL-terminated malloc'ed string. */
static char *read_pem(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 4096) {
            if (cap >= (1u << 20)) break; /* a certificate chain is never this large */
            char *nb = realloc(buf, cap + 8192);
            if (!nb) break;
            buf = nb;
            cap += 8192;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) {
            fclose(f);
            buf[len] = 0;
            return buf;
        }
    }
    fclose(f);
    free(buf);
    return NULL;
}

/* OpenSSL's password callback: tlsKeyPassword, or none (never a terminal prompt). */
static int key_password(char *buf, int size, int rwflag, void *u) {
    (void)rwflag;
    const char *pw = u;
    if (!pw || size <= 0) return 0;
    size_t n = strlen(pw);
    if (n > (size_t)size) return 0;
    memcpy(buf, pw, n);
    return (int)n;
}

/* The client key (decrypted with tlsKeyPassword) as unencrypted PEM in memory (the
 * copy is wiped by the caller). NULL with a message naming the field on failure;
 * the password itself is never part of it. */
static char *read_key(const ag_tls_files *t, char *err, size_t errlen) {
    FILE *f = fopen(t->key_file, "r");
    if (!f) {
        snprintf(err, errlen, "nats: tlsKeyFile: cannot read %s", t->key_file);
        return NULL;
    }
    ERR_clear_error();
    EVP_PKEY *pk = PEM_read_PrivateKey(f, NULL, key_password, t->key_password);
    fclose(f);
    if (!pk) {
        snprintf(err, errlen, "nats: tlsKeyFile: cannot read the private key in %s (%s)",
                 t->key_file,
                 t->key_password ? "wrong tlsKeyPassword, or not a PEM key"
                                 : "not a PEM key, or encrypted: then set tlsKeyPassword");
        ERR_clear_error();
        return NULL;
    }
    BIO *mem = BIO_new(BIO_s_mem());
    char *out = NULL;
    if (mem && PEM_write_bio_PrivateKey(mem, pk, NULL, NULL, 0, NULL, NULL) == 1) {
        char *p;
        long n = BIO_get_mem_data(mem, &p);
        if (n > 0 && (out = malloc((size_t)n + 1))) {
            memcpy(out, p, (size_t)n);
            out[n] = 0;
        }
        OPENSSL_cleanse(p, (size_t)n);
    }
    BIO_free(mem);
    EVP_PKEY_free(pk);
    if (!out) snprintf(err, errlen, "nats: tlsKeyFile: out of memory");
    return out;
}

/* The client certificate and key (tlsCertFile, tlsKeyFile, tlsKeyPassword). */
static int client_cert(natsOptions *o, const ag_tls_files *t, char *err, size_t errlen) {
    if (!t->cert_file) return AGORA_OK;
    natsStatus s;
    char *cert = read_pem(t->cert_file);
    if (!cert) {
        snprintf(err, errlen, "nats: tlsCertFile: cannot read %s", t->cert_file);
        return AGORA_ECONFIG;
    }
    char *key = read_key(t, err, errlen);
    if (!key) {
        free(cert);
        return AGORA_ECONFIG;
    }
    s = natsOptions_SetCertificatesChain(o, cert, key);
    OPENSSL_cleanse(key, strlen(key));
    free(key);
    free(cert);
    if (s == NATS_OK) return AGORA_OK;
    snprintf(err, errlen, "nats: tlsCertFile/tlsKeyFile: cannot use %s with %s: %s",
             t->cert_file, t->key_file, nats_reason(s));
    return s == NATS_NO_MEMORY ? AGORA_ENOMEM : AGORA_ECONFIG;
}

/* TLS: the trust store (tlsCaFile, else the system's), the client certificate and
 * the expected server name. */
static int tls_options(natsOptions *o, const ag_nats_config *cfg, char *err, size_t errlen) {
    natsStatus s = natsOptions_SetSecure(o, true);
    if (s != NATS_OK) {
        snprintf(err, errlen, "nats: useTls: %s", natsStatus_GetText(s));
        return s == NATS_NO_MEMORY ? AGORA_ENOMEM : AGORA_ECONFIG;
    }
    const ag_tls_files *t = &cfg->tls;
    const char *ca = t->ca_file ? t->ca_file : ca_file();
    if (ca && (s = natsOptions_LoadCATrustedCertificates(o, ca)) != NATS_OK) {
        snprintf(err, errlen, "nats: %s: cannot load the CA certificates from %s: %s",
                 t->ca_file ? "tlsCaFile" : "useTls", ca, nats_reason(s));
        return AGORA_ECONFIG;
    }
    int rc = client_cert(o, t, err, errlen);
    if (rc != AGORA_OK) return rc;
    if (t->server_name && (s = natsOptions_SetExpectedHostname(o, t->server_name)) != NATS_OK) {
        snprintf(err, errlen, "nats: tlsServerName: %s", natsStatus_GetText(s));
        return s == NATS_NO_MEMORY ? AGORA_ENOMEM : AGORA_ECONFIG;
    }
    return AGORA_OK;
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
    if (cfg->use_tls && (rc = tls_options(o, cfg, err, errlen)) != AGORA_OK) goto fail;
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
