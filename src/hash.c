/*
 * Hash functions for keys, and the randomness behind per-map seeds,
 * iteration start points and NaN hashes.
 */
#include "gomap_internal.h"

#include <math.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

/* Per-thread generator: iteration and map creation must not share a
 * written variable across threads (concurrent readers write nothing). */
static _Thread_local uint64_t rng_state;

static uint64_t rng_seed(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
        /* Early boot or a seccomp filter: fall back to weaker entropy. */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)&rng_state;
    }
    return s | 1;
}

uint64_t gm_rand64(void)
{
    if (rng_state == 0)
        rng_state = rng_seed();
    /* wyrand-style step: a Weyl sequence fed through the multiply-fold. */
    rng_state += GM_P0;
    return gm_mix(rng_state, rng_state ^ GM_P3);
}

uint64_t gomap_hash_bytes(const void *key, size_t key_size, uint64_t seed)
{
    return gm_hash_premixed(key, key_size, gm_premix(seed));
}

uint64_t gomap_hash_cstr(const void *key, size_t key_size, uint64_t seed)
{
    (void)key_size;
    const char *s;
    memcpy(&s, key, sizeof s);
    if (s == NULL) /* a NULL string is its own key, distinct from "" */
        return gm_mix(seed ^ GM_P3, GM_P2);
    return gm_hash_premixed(s, strlen(s), gm_premix(seed));
}

bool gomap_equal_cstr(const void *a, const void *b, size_t key_size)
{
    (void)key_size;
    const char *x, *y;
    memcpy(&x, a, sizeof x);
    memcpy(&y, b, sizeof y);
    if (x == y)
        return true;
    if (x == NULL || y == NULL)
        return false;
    return strcmp(x, y) == 0;
}

uint64_t gomap_hash_f64(const void *key, size_t key_size, uint64_t seed)
{
    (void)key_size;
    double d;
    memcpy(&d, key, sizeof d);
    if (d == 0)
        d = 0; /* -0 hashes as +0, since they are equal */
    else if (isnan(d))
        /* As in Go: NaN != NaN, so a NaN key can never be found again;
         * a random hash at least spreads repeated NaN inserts over the
         * table instead of building one endless chain. */
        return gm_rand64();
    return gm_hash_premixed(&d, sizeof d, gm_premix(seed));
}

bool gomap_equal_f64(const void *a, const void *b, size_t key_size)
{
    (void)key_size;
    double x, y;
    memcpy(&x, a, sizeof x);
    memcpy(&y, b, sizeof y);
    return x == y;
}
