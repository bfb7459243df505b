/* bench_servers.c — start the Redis and NATS servers for `make bench` with the test
 * fixtures (tests/support/), so the benchmark runs them exactly as the tests do.
 *
 *   bench_servers redis PORT | nats PORT
 *
 * Prints "ready PORT" once the server answers, then waits for SIGTERM or SIGINT and
 * stops it (the fixtures also kill it if this process dies). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__has_include)
#if __has_include("redis_fixture.h") && __has_include("nats_fixture.h")
#include "nats_fixture.h"
#include "redis_fixture.h"
#define HAVE_FIXTURES 1
#endif
#endif

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: bench_servers redis|nats PORT\n");
        return 2;
    }
    int port = atoi(argv[2]);
#if defined(HAVE_FIXTURES) && defined(REDIS_FX_ENABLED)
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int sig;
    if (!strcmp(argv[1], "redis")) {
        if (!redis_fx_available()) return 77;
        redis_fx_server s;
        memset(&s, 0, sizeof s);
        if (redis_fx_start(&s, port, "save \"\"\nappendonly no\n") != 0) return 1;
        printf("ready %d\n", port);
        fflush(stdout);
        sigwait(&set, &sig);
        redis_fx_stop(&s);
        return 0;
    }
    if (!strcmp(argv[1], "nats")) {
        if (!nats_fixture_available()) return 77;
        nats_srv_opts o;
        memset(&o, 0, sizeof o);
        o.port = port;
        nats_srv *s = nats_srv_start(&o);
        if (!s) return 1;
        printf("ready %d\n", port);
        fflush(stdout);
        sigwait(&set, &sig);
        nats_srv_free(s);
        return 0;
    }
    fprintf(stderr, "bench_servers: unknown server '%s'\n", argv[1]);
    return 2;
#else
    (void)port;
    fprintf(stderr, "bench_servers: built without the test fixtures\n");
    return 77;
#endif
}
