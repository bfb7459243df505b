/* test_seal.c — sealed envelopes (codec/seal.h): round trips, every kind of tampering
 * refused without moving state, rotation, the replay window and incarnations, the
 * per-cause log limiter, and a throughput and memory print (no timing assertion). */
#include "check.h"
#include "codec/seal.h"
#include "codec/wire.h"
#include "util/buf.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const OLD[] = {"old secret 0123456789abcdef"};
static const char *const NEW[] = {"new secret 0123456789abcdef", "old secret 0123456789abcdef"};
static const char *const OTHER[] = {"another cluster's secret 0123"};

static ag_sealer *sealer(const char *const *secrets, size_t n) {
    char err[200] = "";
    ag_sealer *s = ag_sealer_new(secrets, n, err, sizeof err);
    CHECKF(s != NULL, "%s", err);
    if (!s) exit(1);
    return s;
}

/* A real native message (a LEAVE) from (origin, inc). */
static void native(ag_buf *b, uint16_t origin, uint64_t inc, uint64_t seq) {
    ag_buf_reset(b);
    ag_wire_put_leave(b, origin, inc, seq);
}

/* Seal msg with tx into a fresh buffer the caller frees. */
static ag_buf seal(ag_seal_tx *tx, const ag_buf *msg) {
    ag_buf out;
    ag_buf_init(&out);
    CHECK(ag_seal(tx, msg->data, msg->len, &out) == 0);
    CHECK(out.len == msg->len + AG_SEAL_OVERHEAD);
    return out;
}

/* Open a copy of exactly len bytes (so ASan sees any read past the end). */
static ag_seal_result open_exact(ag_seal_rx *rx, const uint8_t *in, size_t len, ag_buf *plain,
                                 ag_seal_info *info) {
    uint8_t *copy = malloc(len ? len : 1);
    if (len) memcpy(copy, in, len);
    ag_seal_result r = ag_unseal(rx, copy, len, plain, info);
    free(copy);
    return r;
}

static ag_seal_result open1(ag_seal_rx *rx, const ag_buf *env) {
    ag_buf plain;
    ag_seal_info info;
    ag_buf_init(&plain);
    ag_seal_result r = open_exact(rx, env->data, env->len, &plain, &info);
    ag_buf_free(&plain);
    return r;
}

static void round_trip(void) {
    ag_sealer *s = sealer(OLD, 1);
    ag_seal_tx *tx = ag_seal_tx_new(s, 3, 1000);
    ag_seal_rx *rx = ag_seal_rx_new(s);
    ag_buf msg, plain;
    ag_buf_init(&msg);
    ag_buf_init(&plain);
    native(&msg, 3, 1000, 42);
    ag_buf env = seal(tx, &msg);
    CHECK(ag_seal_is_sealed(env.data, env.len));
    CHECK(memmem(env.data, env.len, msg.data + 4, msg.len - 4) == NULL); /* not in clear */
    ag_seal_info info;
    CHECK(ag_unseal(rx, env.data, env.len, &plain, &info) == AG_SEAL_OK);
    CHECK(plain.len == msg.len && memcmp(plain.data, msg.data, msg.len) == 0);
    CHECK(info.origin == 3 && info.incarnation == 1000 && info.counter == 1);
    CHECK(info.key_index == 0 && info.key_id == ag_sealer_key_id(s, 0));
    CHECK(ag_seal_check_inner(plain.data, plain.len, &info) == AG_SEAL_OK);

    /* empty and large payloads; counters grow by one */
    ag_buf_reset(&plain);
    ag_buf empty_env;
    ag_buf_init(&empty_env);
    CHECK(ag_seal(tx, NULL, 0, &empty_env) == 0 && empty_env.len == AG_SEAL_OVERHEAD);
    CHECK(ag_unseal(rx, empty_env.data, empty_env.len, &plain, &info) == AG_SEAL_OK);
    CHECK(plain.len == 0 && info.counter == 2);
    ag_buf big;
    ag_buf_init(&big);
    for (size_t i = 0; i < (1u << 20); i++) ag_buf_put_u8(&big, (uint8_t)(i * 7));
    ag_buf big_env = seal(tx, &big);
    CHECK(ag_unseal(rx, big_env.data, big_env.len, &plain, &info) == AG_SEAL_OK);
    CHECK(plain.len == big.len && memcmp(plain.data, big.data, big.len) == 0 && info.counter == 3);
    CHECK(ag_seal_check_inner(plain.data, plain.len, &info) == AG_SEAL_MALFORMED);

    /* a sealed message whose inner header speaks for another node */
    native(&msg, 4, 1000, 1);
    ag_buf liar = seal(tx, &msg);
    ag_buf_reset(&plain);
    CHECK(ag_unseal(rx, liar.data, liar.len, &plain, &info) == AG_SEAL_OK);
    CHECK(ag_seal_check_inner(plain.data, plain.len, &info) == AG_SEAL_MISMATCH);
    native(&msg, 3, 999, 1);
    CHECK(ag_seal_check_inner(msg.data, msg.len, &info) == AG_SEAL_MISMATCH);

    /* two sending states of one (origin, incarnation) still use different nonces */
    ag_seal_tx *twin = ag_seal_tx_new(s, 3, 1000);
    ag_buf twin_env = seal(twin, &msg);
    CHECK(memcmp(twin_env.data + 18, env.data + 18, 4) != 0);

    ag_buf_free(&msg);
    ag_buf_free(&plain);
    ag_buf_free(&env);
    ag_buf_free(&empty_env);
    ag_buf_free(&big);
    ag_buf_free(&big_env);
    ag_buf_free(&liar);
    ag_buf_free(&twin_env);
    ag_seal_tx_free(twin);
    ag_seal_tx_free(tx);
    ag_seal_rx_free(rx);
    ag_sealer_free(s);
}

/* Every byte flipped (two ways) and every truncation is refused, leaves the plaintext
 * buffer untouched and moves no state: the original still opens afterwards. */
static void tampering(void) {
    ag_sealer *s = sealer(OLD, 1);
    ag_seal_tx *tx = ag_seal_tx_new(s, 7, 5000);
    ag_seal_rx *rx = ag_seal_rx_new(s);
    ag_buf msg, plain;
    ag_buf_init(&msg);
    ag_buf_init(&plain);
    native(&msg, 7, 5000, 1);
    ag_buf env = seal(tx, &msg);
    ag_seal_info info;
    for (size_t i = 0; i < env.len; i++)
        for (int m = 0; m < 2; m++) {
            uint8_t mask = m ? 0x80 : 0x01;
            env.data[i] ^= mask;
            ag_seal_result r = open_exact(rx, env.data, env.len, &plain, &info);
            env.data[i] ^= mask;
            CHECKF(r != AG_SEAL_OK && plain.len == 0, "byte %zu mask %02x: %s", i, mask,
                   ag_seal_result_name(r));
            /* the header's fields say why; everything else fails the tag */
            ag_seal_result want = i < 2 ? AG_SEAL_NOT_SEALED
                                  : i < 4 ? AG_SEAL_MALFORMED
                                  : i < 8 ? AG_SEAL_UNKNOWN_KEY
                                  : i == AG_SEAL_HEADER - 1 && m == 0
                                      ? AG_SEAL_MALFORMED /* counter 1 -> 0 */
                                      : AG_SEAL_BAD_TAG;
            CHECKF(r == want, "byte %zu mask %02x: %s", i, mask, ag_seal_result_name(r));
        }
    for (size_t n = 0; n < env.len; n++) {
        ag_seal_result r = open_exact(rx, env.data, n, &plain, &info);
        ag_seal_result want = n < 2 ? AG_SEAL_NOT_SEALED
                              : n < AG_SEAL_OVERHEAD ? AG_SEAL_MALFORMED
                                                     : AG_SEAL_BAD_TAG;
        CHECKF(r == want && plain.len == 0, "truncated to %zu: %s", n, ag_seal_result_name(r));
    }
    /* counter 0 is never sent */
    uint8_t zero[AG_SEAL_OVERHEAD + 4];
    memcpy(zero, env.data, AG_SEAL_HEADER);
    memset(zero + 22, 0, 8);
    CHECK(open_exact(rx, zero, sizeof zero, &plain, &info) == AG_SEAL_MALFORMED);
    CHECK(open_exact(rx, env.data, env.len, &plain, &info) == AG_SEAL_OK);
    CHECK(plain.len == msg.len && memcmp(plain.data, msg.data, msg.len) == 0);

    /* plain agora messages and Stalwart batches are told apart at once */
    CHECK(open1(rx, &msg) == AG_SEAL_NOT_SEALED);
    static const uint8_t stalwart[] = {0x41, 0x00, 0x01, 0x02, 0x03, 0x04};
    CHECK(ag_unseal(rx, stalwart, sizeof stalwart, &plain, &info) == AG_SEAL_NOT_SEALED);
    CHECK(!ag_seal_is_sealed(msg.data, msg.len));

    ag_buf_free(&msg);
    ag_buf_free(&plain);
    ag_buf_free(&env);
    ag_seal_tx_free(tx);
    ag_seal_rx_free(rx);
    ag_sealer_free(s);
}

static void secrets_and_rotation(void) {
    ag_sealer *olds = sealer(OLD, 1), *news = sealer(NEW, 2), *other = sealer(OTHER, 1);
    CHECK(ag_sealer_count(news) == 2);
    CHECK(ag_sealer_key_id(news, 1) == ag_sealer_key_id(olds, 0));
    ag_seal_tx *old_tx = ag_seal_tx_new(olds, 1, 10), *new_tx = ag_seal_tx_new(news, 2, 10);
    ag_seal_rx *old_rx = ag_seal_rx_new(olds), *new_rx = ag_seal_rx_new(news);
    ag_seal_rx *other_rx = ag_seal_rx_new(other);
    ag_buf msg, plain;
    ag_buf_init(&msg);
    ag_buf_init(&plain);
    native(&msg, 1, 10, 1);
    ag_buf from_old = seal(old_tx, &msg);
    native(&msg, 2, 10, 1);
    ag_buf from_new = seal(new_tx, &msg);
    ag_seal_info info;
    CHECK(ag_unseal(new_rx, from_old.data, from_old.len, &plain, &info) == AG_SEAL_OK);
    CHECK(info.key_index == 1);
    CHECK(ag_unseal(new_rx, from_new.data, from_new.len, &plain, &info) == AG_SEAL_OK);
    CHECK(info.key_index == 0);
    CHECK(open1(old_rx, &from_new) == AG_SEAL_UNKNOWN_KEY);
    CHECK(open1(old_rx, &from_old) == AG_SEAL_OK);
    CHECK(open1(other_rx, &from_old) == AG_SEAL_UNKNOWN_KEY);
    /* another secret under our key id (a forger's guess) fails the tag */
    ag_seal_tx *other_tx = ag_seal_tx_new(other, 3, 10);
    ag_buf forged = seal(other_tx, &msg);
    memcpy(forged.data + 4, from_old.data + 4, 4);
    CHECK(open1(old_rx, &forged) == AG_SEAL_BAD_TAG);

    /* refused configurations, without the secret in the message */
    char err[200];
    CHECK(ag_sealer_new(OLD, 0, err, sizeof err) == NULL);
    static const char *const SHORT[] = {"short"};
    CHECK(ag_sealer_new(SHORT, 1, err, sizeof err) == NULL && !strstr(err, "short"));
    static const char *const TWICE[] = {"old secret 0123456789abcdef",
                                        "old secret 0123456789abcdef"};
    CHECK(ag_sealer_new(TWICE, 2, err, sizeof err) == NULL && !strstr(err, "0123"));
    CHECKF(strstr(err, "secret[1]") != NULL, "%s", err);

    ag_buf_free(&msg);
    ag_buf_free(&plain);
    ag_buf_free(&from_old);
    ag_buf_free(&from_new);
    ag_buf_free(&forged);
    ag_seal_tx_free(old_tx);
    ag_seal_tx_free(new_tx);
    ag_seal_tx_free(other_tx);
    ag_seal_rx_free(old_rx);
    ag_seal_rx_free(new_rx);
    ag_seal_rx_free(other_rx);
    ag_sealer_free(olds);
    ag_sealer_free(news);
    ag_sealer_free(other);
}

static void replay_window(void) {
    enum { N = AG_SEAL_WINDOW + 10 };
    ag_sealer *s = sealer(OLD, 1);
    ag_seal_tx *tx = ag_seal_tx_new(s, 9, 77), *tx2 = ag_seal_tx_new(s, 10, 77);
    ag_seal_rx *rx = ag_seal_rx_new(s);
    ag_buf msg;
    ag_buf_init(&msg);
    native(&msg, 9, 77, 1);
    ag_buf *env = calloc(N + 1, sizeof *env);
    for (int c = 1; c <= N; c++) env[c] = seal(tx, &msg);

    CHECK(open1(rx, &env[10]) == AG_SEAL_OK);
    CHECK(open1(rx, &env[10]) == AG_SEAL_REPLAYED);
    int order[] = {5, 1, 7, 2, 9, 3};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        CHECKF(open1(rx, &env[order[i]]) == AG_SEAL_OK, "counter %d late", order[i]);
        CHECKF(open1(rx, &env[order[i]]) == AG_SEAL_REPLAYED, "counter %d again", order[i]);
    }
    /* jump to the end: the window now covers N-WINDOW+1 .. N */
    CHECK(open1(rx, &env[N]) == AG_SEAL_OK);
    CHECK(open1(rx, &env[N - AG_SEAL_WINDOW + 1]) == AG_SEAL_OK);
    CHECK(open1(rx, &env[N - AG_SEAL_WINDOW]) == AG_SEAL_REPLAYED); /* below the window */
    CHECK(open1(rx, &env[4]) == AG_SEAL_REPLAYED);
    CHECK(open1(rx, &env[N - 1]) == AG_SEAL_OK);
    CHECK(open1(rx, &env[N - 1]) == AG_SEAL_REPLAYED);
    /* one step at a time: old bits are cleared as the window slides over them */
    ag_buf more[3];
    for (int i = 0; i < 3; i++) {
        more[i] = seal(tx, &msg);
        CHECK(open1(rx, &more[i]) == AG_SEAL_OK);
    }
    CHECK(open1(rx, &env[N - 1]) == AG_SEAL_REPLAYED);

    /* another origin's stream is separate; its origin field cannot be changed */
    native(&msg, 10, 77, 1);
    ag_buf other = seal(tx2, &msg);
    ag_buf moved = seal(tx, &msg);
    moved.data[9] = 10; /* origin 9 -> 10 */
    CHECK(open1(rx, &moved) == AG_SEAL_BAD_TAG);
    CHECK(open1(rx, &other) == AG_SEAL_OK);
    CHECK(open1(rx, &other) == AG_SEAL_REPLAYED);
    moved.data[9] = 9;
    CHECK(open1(rx, &moved) == AG_SEAL_OK);

    for (int c = 1; c <= N; c++) ag_buf_free(&env[c]);
    for (int i = 0; i < 3; i++) ag_buf_free(&more[i]);
    free(env);
    ag_buf_free(&msg);
    ag_buf_free(&other);
    ag_buf_free(&moved);
    ag_seal_tx_free(tx);
    ag_seal_tx_free(tx2);
    ag_seal_rx_free(rx);
    ag_sealer_free(s);
}

static void incarnations(void) {
    ag_sealer *s = sealer(OLD, 1);
    ag_seal_tx *i100 = ag_seal_tx_new(s, 5, 100), *i200 = ag_seal_tx_new(s, 5, 200),
               *i300 = ag_seal_tx_new(s, 5, 300);
    ag_seal_rx *rx = ag_seal_rx_new(s);
    ag_buf msg;
    ag_buf_init(&msg);
    native(&msg, 5, 100, 1);
    ag_buf a = seal(i100, &msg), b = seal(i200, &msg), b2 = seal(i200, &msg);
    ag_buf c = seal(i300, &msg), c2 = seal(i300, &msg);
    CHECK(open1(rx, &b) == AG_SEAL_OK);
    CHECK(open1(rx, &a) == AG_SEAL_STALE);
    /* a forged newer incarnation is refused and does not move the origin's state */
    ag_buf forged = seal(i300, &msg);
    forged.data[forged.len - 1] ^= 1;
    CHECK(open1(rx, &forged) == AG_SEAL_BAD_TAG);
    CHECK(open1(rx, &b2) == AG_SEAL_OK);
    /* a restart (larger incarnation) starts a new window; the old one is stale now */
    CHECK(open1(rx, &c2) == AG_SEAL_OK);
    CHECK(open1(rx, &c) == AG_SEAL_OK);
    CHECK(open1(rx, &c) == AG_SEAL_REPLAYED);
    ag_buf b3 = seal(i200, &msg);
    CHECK(open1(rx, &b3) == AG_SEAL_STALE);

    ag_buf_free(&msg);
    ag_buf *all[] = {&a, &b, &b2, &b3, &c, &c2, &forged};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) ag_buf_free(all[i]);
    ag_seal_tx_free(i100);
    ag_seal_tx_free(i200);
    ag_seal_tx_free(i300);
    ag_seal_rx_free(rx);
    ag_sealer_free(s);
}

static void rejects(void) {
    ag_seal_rejects r;
    memset(&r, 0, sizeof r);
    uint64_t sup = 99;
    CHECK(ag_seal_reject(&r, AG_SEAL_BAD_TAG, 1000, &sup) && sup == 0);
    CHECK(!ag_seal_reject(&r, AG_SEAL_BAD_TAG, 2000, &sup));
    CHECK(!ag_seal_reject(&r, AG_SEAL_BAD_TAG, 10999, &sup));
    CHECK(ag_seal_reject(&r, AG_SEAL_REPLAYED, 3000, &sup) && sup == 0); /* per cause */
    CHECK(ag_seal_reject(&r, AG_SEAL_BAD_TAG, 11000, &sup) && sup == 2);
    CHECK(r.count[AG_SEAL_BAD_TAG] == 4 && r.count[AG_SEAL_REPLAYED] == 1);
    CHECK(ag_seal_rejected_total(&r) == 5);
    for (int c = 0; c < AG_SEAL_NCAUSES; c++)
        CHECK(strcmp(ag_seal_result_name((ag_seal_result)c), "unknown") != 0);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Throughput of seal + open on one thread, and the receive state per origin. */
static void perf(void) {
    enum { N = 1000000, ORIGINS = 256 };
    ag_sealer *s = sealer(OLD, 1);
    ag_seal_tx *tx = ag_seal_tx_new(s, 1, 1);
    ag_seal_rx *rx = ag_seal_rx_new(s);
    ag_buf msg, env, plain;
    ag_buf_init(&msg);
    ag_buf_init(&env);
    ag_buf_init(&plain);
    for (int i = 0; i < 64; i++) ag_buf_put_u8(&msg, (uint8_t)i);
    ag_seal_info info;
    int bad = 0;
    double t0 = now_s();
    for (int i = 0; i < N; i++) {
        ag_buf_reset(&env);
        ag_buf_reset(&plain);
        if (ag_seal(tx, msg.data, msg.len, &env) ||
            ag_unseal(rx, env.data, env.len, &plain, &info) != AG_SEAL_OK)
            bad++;
    }
    double dt = now_s() - t0;
    CHECK(bad == 0);
    printf("seal+open of %d 64-byte messages: %.2f s, %.0f messages/s\n", N, dt, N / dt);

    /* node ids 1..256: one page of the origin table */
    struct mallinfo2 before = mallinfo2();
    ag_seal_rx *many = ag_seal_rx_new(s);
    for (int o = 0; o < ORIGINS; o++) {
        ag_seal_tx *t = ag_seal_tx_new(s, (uint16_t)(o + 1), 1);
        ag_buf_reset(&env);
        ag_buf_reset(&plain);
        CHECK(ag_seal(t, msg.data, msg.len, &env) == 0);
        CHECK(ag_unseal(many, env.data, env.len, &plain, &info) == AG_SEAL_OK);
        ag_seal_tx_free(t);
    }
    struct mallinfo2 after = mallinfo2();
    printf("receive state: %.0f bytes per origin, the table included (%d origins, %zu bytes)\n",
           (double)(after.uordblks - before.uordblks) / ORIGINS, ORIGINS,
           after.uordblks - before.uordblks);
    ag_seal_rx_free(many);

    ag_buf_free(&msg);
    ag_buf_free(&env);
    ag_buf_free(&plain);
    ag_seal_tx_free(tx);
    ag_seal_rx_free(rx);
    ag_sealer_free(s);
}

int main(void) {
    round_trip();
    tampering();
    secrets_and_rotation();
    replay_window();
    incarnations();
    rejects();
    perf();
    if (failures) fprintf(stderr, "%d failures\n", failures);
    return failures ? 1 : 0;
}
