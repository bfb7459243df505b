/* random.h — one source of non-cryptographic randomness for jitter and tie-breaks
 * (internal). Never for keys or secrets: those come from OpenSSL. */
#ifndef AG_RANDOM_H
#define AG_RANDOM_H

#include <stdint.h>

/* A 64-bit pseudo-random number: xorshift, per thread, seeded once from getrandom
 * (falling back to the clock, the process and the thread), so two nodes started
 * together draw different numbers. Any thread; no locks. */
uint64_t ag_random(void);

/* Uniform enough in [0, n); 0 when n is 0. */
uint64_t ag_random_below(uint64_t n);

#endif
