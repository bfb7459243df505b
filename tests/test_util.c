/* test_util.c — the small shared helpers of src/util: the reconnect backoff (bounds,
 * cap, jitter), the random source, the "host:port" parser and the big-endian
 * integers. */
#include "agora.h"
#include "check.h"
#include "util/backoff.h"
#include "util/be.h"
#include "util/hostport.h"
#include "util/random.h"
#include "util/ratelimit.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define DRAWS 2000

static void test_backoff_bounds(void) {
    ag_backoff bo = {.min_ms = 100, .max_ms = 5000, .jitter_pct = 25};
    for (unsigned f = 0; f < 40; f++) {
        uint64_t d = 100;
        for (unsigned i = 0; i < f && d < 5000; i++) d *= 2;
        if (d > 5000) d = 5000;
        uint64_t lo = UINT64_MAX, hi = 0;
        for (int k = 0; k < DRAWS; k++) {
            uint64_t v = ag_backoff_delay(&bo, f);
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        CHECKF(lo >= d - d / 4 && hi <= d, "failures %u: [%llu, %llu] outside [%llu, %llu]", f,
               (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)(d - d / 4),
               (unsigned long long)d);
        /* the jitter really varies the delay and uses most of its range */
        CHECKF(hi - lo >= d / 8, "failures %u: spread %llu too small", f,
               (unsigned long long)(hi - lo));
    }
}

static void test_backoff_cap(void) {
    ag_backoff bo = {.min_ms = 50, .max_ms = 1000, .jitter_pct = 0};
    CHECK(ag_backoff_delay(&bo, 0) == 50);
    CHECK(ag_backoff_delay(&bo, 1) == 100);
    CHECK(ag_backoff_delay(&bo, 4) == 800);
    CHECK(ag_backoff_delay(&bo, 5) == 1000); /* 1600 capped */
    CHECK(ag_backoff_delay(&bo, 1000) == 1000); /* no overflow however many failures */
    CHECK(ag_backoff_delay(&bo, UINT32_MAX) == 1000);
    /* degenerate settings stay sane: min 0 counts as 1, a max below min is min */
    ag_backoff zero = {0};
    CHECK(ag_backoff_delay(&zero, 0) == 1 && ag_backoff_delay(&zero, 9) == 1);
    ag_backoff inverted = {.min_ms = 300, .max_ms = 10, .jitter_pct = 0};
    CHECK(ag_backoff_delay(&inverted, 3) == 300);
    /* jitter over 100 % is 100 %: never 0, never above the cap */
    ag_backoff wild = {.min_ms = 10, .max_ms = 10, .jitter_pct = 250};
    for (int k = 0; k < DRAWS; k++) {
        uint64_t v = ag_backoff_delay(&wild, 2);
        CHECKF(v >= 1 && v <= 10, "%llu", (unsigned long long)v);
    }
    /* a huge cap: d * pct / 100 must not overflow */
    ag_backoff big = {.min_ms = UINT64_MAX / 2 - 7, .max_ms = UINT64_MAX - 3, .jitter_pct = 0};
    CHECK(ag_backoff_delay(&big, 1) == UINT64_MAX - 15);
    CHECK(ag_backoff_delay(&big, 2) == UINT64_MAX - 3); /* doubling again would wrap */
    big.jitter_pct = 20;
    for (int k = 0; k < 100; k++) CHECK(ag_backoff_delay(&big, 5) >= (UINT64_MAX - 3) / 5 * 4);
}

static void *draw_one(void *arg) {
    *(uint64_t *)arg = ag_random();
    return NULL;
}

static void test_random(void) {
    CHECK(ag_random_below(0) == 0);
    CHECK(ag_random_below(1) == 0);
    int seen[10] = {0};
    for (int k = 0; k < DRAWS; k++) {
        uint64_t v = ag_random_below(10);
        CHECK(v < 10);
        if (v < 10) seen[v]++;
    }
    for (int i = 0; i < 10; i++) CHECKF(seen[i] > DRAWS / 40, "value %d drawn %d times", i, seen[i]);
    /* each thread has its own stream, seeded apart */
    uint64_t a = 0, b = 0;
    pthread_t t1, t2;
    pthread_create(&t1, NULL, draw_one, &a);
    pthread_join(t1, NULL);
    pthread_create(&t2, NULL, draw_one, &b);
    pthread_join(t2, NULL);
    CHECK(a != 0 && b != 0 && a != b);
}

static const char *parse(const char *s, unsigned flags, ag_hostport *hp) {
    memset(hp, 0x5a, sizeof *hp);
    return ag_hostport_parse(s, strlen(s), flags, hp);
}

static void test_hostport_split(void) {
    ag_hostport hp;
    CHECK(parse("127.0.0.1:7911", AG_HOSTPORT_NEED_PORT, &hp) == NULL);
    CHECK(!strcmp(hp.host, "127.0.0.1") && hp.port == 7911 && hp.has_port && !hp.ipv6);
    CHECK(parse("[::1]:6379", AG_HOSTPORT_NEED_PORT, &hp) == NULL);
    CHECK(!strcmp(hp.host, "::1") && hp.port == 6379 && hp.has_port && hp.ipv6);
    CHECK(parse("[fe80::1:2]", 0, &hp) == NULL);
    CHECK(!strcmp(hp.host, "fe80::1:2") && !hp.has_port && hp.port == 0 && hp.ipv6);
    CHECK(parse("mail-1.example.com:65535", 0, &hp) == NULL);
    CHECK(!strcmp(hp.host, "mail-1.example.com") && hp.port == 65535);
    CHECK(parse("redis", 0, &hp) == NULL);
    CHECK(!strcmp(hp.host, "redis") && !hp.has_port);
    /* port 0 only when allowed */
    CHECK(parse("0.0.0.0:0", AG_HOSTPORT_NEED_PORT | AG_HOSTPORT_PORT0, &hp) == NULL);
    CHECK(hp.has_port && hp.port == 0);
    CHECK(parse("[::]:0", AG_HOSTPORT_NEED_PORT | AG_HOSTPORT_PORT0, &hp) == NULL);
    CHECK(hp.ipv6 && !strcmp(hp.host, "::"));
    /* a length, not a terminator: the rest of the string is not read */
    CHECK(ag_hostport_parse("a:1/db", 3, AG_HOSTPORT_NEED_PORT, &hp) == NULL && hp.port == 1);
    /* out may be NULL: a check only */
    CHECK(ag_hostport_parse("h:2", 3, AG_HOSTPORT_NEED_PORT, NULL) == NULL);
}

static void test_hostport_errors(void) {
    static const struct {
        const char *in;
        unsigned flags;
        const char *why;
    } cases[] = {
        {"", 0, "empty address"},
        {"host", AG_HOSTPORT_NEED_PORT, "missing ':port'"},
        {":80", 0, "missing host"},
        {"host:", 0, "missing port number after ':'"},
        {"host:0", 0, "port must be a number from 1 to 65535"},
        {"host:65536", 0, "port must be a number from 1 to 65535"},
        {"host:123456", 0, "port must be a number from 1 to 65535"},
        {"host:8x", 0, "port must be a number from 1 to 65535"},
        {"host:-1", 0, "port must be a number from 1 to 65535"},
        {"::1:80", 0, "IPv6 addresses must be written in brackets, as [::1]:port"},
        {"[::1", 0, "missing ']' after the IPv6 address"},
        {"[::1]80", 0, "expected ':' and a port after ']'"},
        {"[]:80", 0, "invalid IPv6 address"},
        {"[zz]x", 0, "invalid IPv6 address"}, /* the address is judged first */
        {"[1.2.3.4]:80", 0, "invalid IPv6 address"},
        {"256.1.1.1:80", 0, "invalid IPv4 address"},
        {"1.2.3:80", 0, "invalid IPv4 address"},
        {"bad host:80", 0, "invalid host name"},
        {"-bad:80", 0, "invalid host name"},
        {"a..b:80", 0, "invalid host name"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ag_hostport hp;
        const char *why = parse(cases[i].in, cases[i].flags, &hp);
        CHECKF(why && !strcmp(why, cases[i].why), "\"%s\": got \"%s\", want \"%s\"", cases[i].in,
               why ? why : "(valid)", cases[i].why);
    }
    char longname[300];
    memset(longname, 'a', sizeof longname);
    for (size_t i = 60; i < 280; i += 61) longname[i] = '.';
    strcpy(longname + 280, ":1");
    ag_hostport hp;
    CHECK(parse(longname, 0, &hp) != NULL); /* over 253 characters */
}

static void test_hostport_format(void) {
    static const char *round[] = {"127.0.0.1:7911", "[::1]:6379", "host", "[::]", "h.example:1"};
    for (size_t i = 0; i < sizeof round / sizeof round[0]; i++) {
        ag_hostport hp;
        char buf[AG_HOST_MAX + 16];
        CHECK(parse(round[i], 0, &hp) == NULL);
        ag_hostport_format(&hp, buf, sizeof buf);
        CHECKF(!strcmp(buf, round[i]), "\"%s\" came back as \"%s\"", round[i], buf);
    }
}

static void test_be(void) {
    uint8_t b[8];
    ag_put_be16(b, 0x0102);
    CHECK(b[0] == 1 && b[1] == 2 && ag_get_be16(b) == 0x0102);
    ag_put_be32(b, 0x01020304u);
    CHECK(b[0] == 1 && b[3] == 4 && ag_get_be32(b) == 0x01020304u);
    ag_put_be64(b, 0x0102030405060708ull);
    CHECK(b[0] == 1 && b[7] == 8 && ag_get_be64(b) == 0x0102030405060708ull);
    uint8_t odd[9] = {0}; /* unaligned */
    ag_put_be64(odd + 1, UINT64_MAX - 1);
    CHECK(odd[8] == 0xfe && ag_get_be64(odd + 1) == UINT64_MAX - 1);
}

/* The public form of the same parser (the CLI and the bench use it). */
static void test_parse_address(void) {
    char host[64], err[128];
    uint16_t port = 0;
    CHECK(agora_parse_address("mx1.example:7911", false, host, sizeof host, &port, err,
                              sizeof err) == AGORA_OK);
    CHECK(!strcmp(host, "mx1.example") && port == 7911);
    CHECK(agora_parse_address("[::1]:25", false, host, sizeof host, &port, err, sizeof err) ==
          AGORA_OK);
    CHECK(!strcmp(host, "[::1]") && port == 25);
    CHECK(agora_parse_address("0.0.0.0:0", true, host, sizeof host, &port, err, sizeof err) ==
          AGORA_OK);
    CHECK(!strcmp(host, "0.0.0.0") && port == 0);
    CHECK(agora_parse_address("0.0.0.0:0", false, host, sizeof host, &port, err, sizeof err) ==
          AGORA_EINVAL);
    CHECKF(!strcmp(err, "port must be a number from 1 to 65535"), "%s", err);
    CHECK(agora_parse_address("::1:25", false, host, sizeof host, &port, err, sizeof err) ==
          AGORA_EINVAL);
    CHECKF(strstr(err, "brackets") != NULL, "%s", err);
    CHECK(agora_parse_address("host", false, host, sizeof host, &port, err, sizeof err) ==
          AGORA_EINVAL);
    char tiny[4];
    CHECK(agora_parse_address("mx1.example:1", false, tiny, sizeof tiny, &port, err,
                              sizeof err) == AGORA_EINVAL);
    CHECK(agora_parse_address(NULL, false, host, sizeof host, &port, NULL, 0) == AGORA_EINVAL);
}

/* One line per period; the held-back count goes into the next line, or into a
 * "due" summary once the period is over. */
static void test_ratelimit(void) {
    ag_ratelimit r;
    memset(&r, 0, sizeof r);
    uint64_t n = 99;
    char note[64];
    CHECK(ag_ratelimit_pass(&r, 5000, &n) && n == 0);
    CHECK(!strcmp(ag_ratelimit_note(note, sizeof note, n), ""));
    for (int i = 0; i < 999; i++) CHECK(!ag_ratelimit_pass(&r, 5001 + (uint64_t)i, &n));
    CHECK(!ag_ratelimit_due(&r, 14999, &n));
    CHECK(ag_ratelimit_pass(&r, 15000, &n) && n == 999);
    CHECK(!strcmp(ag_ratelimit_note(note, sizeof note, n), " (999 more suppressed)"));
    CHECK(!ag_ratelimit_pass(&r, 15001, &n));
    CHECK(!ag_ratelimit_due(&r, 24999, &n));
    CHECK(ag_ratelimit_due(&r, 25000, &n) && n == 1);
    CHECK(!ag_ratelimit_due(&r, 40000, &n)); /* nothing held back since */
    CHECK(ag_ratelimit_pass(&r, 40000, &n) && n == 0);
}

int main(void) {
    test_ratelimit();
    test_backoff_bounds();
    test_backoff_cap();
    test_random();
    test_hostport_split();
    test_hostport_errors();
    test_hostport_format();
    test_be();
    test_parse_address();
    if (failures) fprintf(stderr, "test_util: %d failure(s)\n", failures);
    return failures ? 1 : 0;
}
