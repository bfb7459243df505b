/* tls_pki.h — a throwaway public key infrastructure for the transport-security tests,
 * made with the openssl command in a new temporary directory:
 *   ca.pem / ca.key           the test CA
 *   server.pem / server.key   signed by it, for 127.0.0.1 and localhost
 *   server.p12                the same as PKCS#12 (password TLS_PKI_STOREPASS), for Kafka
 *   client.pem / client.key   a client certificate signed by the CA
 *   client-enc.key            the client key encrypted with TLS_PKI_KEYPASS
 *   other-ca.pem              an unrelated CA (the "wrong CA" cases)
 *   other-client.pem / .key   a client certificate of the unrelated CA */
#ifndef TLS_PKI_H
#define TLS_PKI_H

#include <stddef.h>

#define TLS_PKI_STOREPASS "store-pass-7c1e"
#define TLS_PKI_KEYPASS "key-pass-PLANTED-9d2f"

typedef struct tls_pki {
    char dir[128];
} tls_pki;

/* Make every file. 0, or -1 with the reason on stderr. */
int tls_pki_make(tls_pki *p);
/* The path of `name` in the directory (a static buffer per call slot 0..7). */
const char *tls_pki_path(const tls_pki *p, const char *name);
/* Remove the directory. */
void tls_pki_remove(tls_pki *p);

#endif
