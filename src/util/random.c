/* random.c — per-thread xorshift64, seeded once per thread. */
#include "util/random.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static _Thread_local uint64_t state;

static uint64_t seed(void) {
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = (uint64_t)ts.tv_nsec ^ (uint64_t)ts.tv_sec << 32 ^ (uint64_t)getpid() << 16 ^
            (uint64_t)(uintptr_t)&state;
    }
    return s ? s : 0x9E3779B97F4A7C15ull; /* xorshift never leaves 0 */
}

uint64_t ag_random(void) {
    uint64_t x = state;
    if (!x) x = seed();
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    state = x;
    return x;
}

uint64_t ag_random_below(uint64_t n) { return n ? ag_random() % n : 0; }
