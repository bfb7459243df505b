/* tls_pki.c — see tls_pki.h. */
#include "tls_pki.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tls_pki_make(tls_pki *p) {
    snprintf(p->dir, sizeof p->dir, "/tmp/agora-pki-XXXXXX");
    if (!mkdtemp(p->dir)) {
        perror("mkdtemp");
        return -1;
    }
    char cmd[4096];
    /* EC P-256 everywhere: fast to make. One shell script, so that a failure shows. */
    snprintf(cmd, sizeof cmd,
             "set -e; cd '%s'\n"
             "ca() { openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout $1.key -out $1.pem -days 2 -subj /CN=$1 "
             "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign; }\n"
             "leaf() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout $1.key -out $1.csr -subj /CN=$3\n"
             "  openssl x509 -req -in $1.csr -CA $2.pem -CAkey $2.key -CAcreateserial "
             "-out $1.pem -days 2 -extfile $1.ext; }\n"
             "ca ca; ca other-ca\n"
             "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\n' "
             "> server.ext\n"
             "printf 'extendedKeyUsage=clientAuth\\n' > client.ext; cp client.ext other-client.ext\n"
             "leaf server ca localhost; leaf client ca agora-client; "
             "leaf other-client other-ca agora-client\n"
             "openssl pkcs12 -export -in server.pem -inkey server.key -certfile ca.pem "
             "-name broker -out server.p12 -passout pass:%s\n"
             "openssl pkey -in client.key -aes256 -passout pass:%s -out client-enc.key\n"
             "chmod 600 *.key\n",
             p->dir, TLS_PKI_STOREPASS, TLS_PKI_KEYPASS);
    char full[4300];
    snprintf(full, sizeof full, "bash -c \"$(cat <<'PKI'\n%s\nPKI\n)\" >'%s/openssl.log' 2>&1",
             cmd, p->dir);
    if (system(full) != 0) {
        fprintf(stderr, "tls_pki: openssl failed (log: %s/openssl.log)\n", p->dir);
        return -1;
    }
    return 0;
}

const char *tls_pki_path(const tls_pki *p, const char *name) {
    static char slots[8][256];
    static unsigned next;
    char *b = slots[next++ % 8];
    snprintf(b, sizeof slots[0], "%s/%s", p->dir, name);
    return b;
}

void tls_pki_remove(tls_pki *p) {
    if (strncmp(p->dir, "/tmp/agora-pki-", 15) != 0) return;
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", p->dir);
    if (system(cmd) != 0) fprintf(stderr, "tls_pki: cannot remove %s\n", p->dir);
    p->dir[0] = 0;
}
