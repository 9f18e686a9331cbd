/*
 * Shared helpers for the bench-compare workloads (issue 6): a clock, a
 * key generator, argument parsing and the one result line each workload
 * prints. The workloads are ordinary gomap programs: no tool-specific code,
 * so the same source runs plain, preloaded with libmapguard.so, rebuilt
 * with -fsanitize=thread, and under helgrind or drd.
 *
 * Result line (stdout, parsed by compare.sh):
 *   workload=NAME ops=N ns=T check=C
 * ns is the wall time of the measured phase only (not process start-up,
 * not the prefill); ops is the number of map operations in that phase.
 */
#ifndef COMPARE_COMMON_H
#define COMPARE_COMMON_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gomap.h"

static inline uint64_t cmp_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* splitmix64: the generator for operation choices. */
static inline uint64_t cmp_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* Key number i as a 64-bit key: a bijection, so distinct i give distinct
 * keys, spread over the whole 64-bit range. */
static inline int64_t cmp_key(uint64_t i)
{
    uint64_t z = i + 0x9e3779b97f4a7c15u;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return (int64_t)(z ^ (z >> 31));
}

static inline void cmp_die(const char *what)
{
    fprintf(stderr, "compare: %s\n", what);
    exit(1);
}

/* argv[i] as a positive integer, or def when absent. */
static inline uint64_t cmp_arg(int argc, char **argv, int i, uint64_t def)
{
    if (i >= argc)
        return def;
    char *end = NULL;
    unsigned long long v = strtoull(argv[i], &end, 10);
    if (!end || *end || v == 0) {
        fprintf(stderr, "%s: argument %d must be a positive integer, got '%s'\n", argv[0], i, argv[i]);
        exit(2);
    }
    return (uint64_t)v;
}

static inline void cmp_result(const char *name, uint64_t ops, uint64_t ns, uint64_t check)
{
    printf("workload=%s ops=%" PRIu64 " ns=%" PRIu64 " check=%" PRIu64 "\n", name, ops, ns, check);
    fflush(stdout);
}

static const gomap_type cmp_i64_type = {sizeof(int64_t), sizeof(int64_t), NULL, NULL};

/*
 * The mixed operation used by the mixed and two-thread workloads: the key
 * space is 2*keys key numbers, half of them present after the prefill;
 * 50% get, 25% set, 25% delete keeps the map near `keys` entries (a set
 * inserts as often as a delete removes). Returns a value folded into the
 * checksum, so nothing is optimized away.
 */
static inline uint64_t cmp_mixed_op(gomap *m, uint64_t keys, uint64_t *rng)
{
    uint64_t r = cmp_rand(rng);
    int64_t k = cmp_key((r >> 2) % (2 * keys));
    switch (r & 3) {
    case 0:
    case 1: {
        const int64_t *v = gomap_get(m, &k);
        return v ? (uint64_t)*v : 1;
    }
    case 2: {
        int64_t v = (int64_t)r;
        if (gomap_set(m, &k, &v) != GOMAP_OK)
            cmp_die("gomap_set failed");
        return 2;
    }
    default:
        return gomap_delete(m, &k) ? 3 : 4;
    }
}

/* A map holding key numbers 0, 2, 4, ... (keys of them), value = key. */
static inline gomap *cmp_prefilled(uint64_t keys)
{
    gomap *m = gomap_new(&cmp_i64_type, 0);
    if (!m)
        cmp_die("gomap_new failed");
    for (uint64_t i = 0; i < keys; i++) {
        int64_t k = cmp_key(2 * i);
        if (gomap_set(m, &k, &k) != GOMAP_OK)
            cmp_die("gomap_set failed");
    }
    return m;
}

#endif /* COMPARE_COMMON_H */
