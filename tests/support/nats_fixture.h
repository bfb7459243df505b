/* nats_fixture.h — real nats-server processes on loopback for the NATS tests.
 *
 * Each server gets its own temporary directory with a generated configuration file;
 * start waits until the client port accepts connections (and, for a cluster member
 * with routes, until its routes are up), stop/kill wait for the process to exit. */
#ifndef NATS_FIXTURE_H
#define NATS_FIXTURE_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct nats_srv_opts {
    int port;              /* client port (127.0.0.1) */
    int cluster_port;      /* 0 = no cluster */
    int monitor_port;      /* 0 = none; needed to wait for routes */
    const int *routes;     /* cluster ports of the other members */
    int nroutes;
    const char *user;      /* user/password authorization */
    const char *pass;
    const char *token;     /* token authorization */
    const char *tls_cert;  /* PEM files: TLS required when set */
    const char *tls_key;
    const char *tls_ca;    /* with tls_cert: clients must show a certificate of this CA */
} nats_srv_opts;

typedef struct nats_srv {
    nats_srv_opts o;
    pid_t pid;
    char dir[256];
    char conf[300];
    char log[300];
} nats_srv;

/* True if a nats-server binary is available (tests skip with 77 otherwise). */
bool nats_fixture_available(void);

/* Start a server; returns NULL (with a message on stderr) on failure. */
nats_srv *nats_srv_start(const nats_srv_opts *o);
/* Start again after stop/kill, with the same configuration. 0 or -1. */
int nats_srv_restart(nats_srv *s);
/* SIGTERM and wait (SIGKILL after a few seconds). */
void nats_srv_stop(nats_srv *s);
/* SIGKILL and wait. */
void nats_srv_kill(nats_srv *s);
/* Wait until the server reports `n` routes (monitor_port required). 0 or -1. */
int nats_srv_wait_routes(nats_srv *s, int n, int timeout_ms);
/* Stop if running and remove its files. NULL allowed. */
void nats_srv_free(nats_srv *s);

/* Create a self-signed certificate for 127.0.0.1/localhost (with the openssl CLI) in
 * a new temporary directory; fills the paths (cert doubles as the CA). 0 or -1. */
int nats_tls_make_cert(char *dir, size_t dirlen, char *cert, size_t certlen, char *key,
                       size_t keylen);
/* Remove a directory made by nats_tls_make_cert. */
void nats_tls_remove(const char *dir);

/* Milliseconds since an arbitrary point (monotonic). */
long long nats_now_ms(void);

#endif
