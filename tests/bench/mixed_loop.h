/*
 * The mixed loop of issue 3's budget, shared by shim_overhead.c (mixed1k,
 * mixed1m: calls by name, through the PLT, as any program makes them) and
 * wrapper_ab.c (the same loop through a table, once to the shim's wrappers
 * and once to libgomap's own functions): half gets, a quarter sets, a
 * quarter deletes, over twice the keys the map holds, so its size stays
 * near n.
 */
#ifndef MIXED_LOOP_H
#define MIXED_LOOP_H

#include <gomap.h>

#include <stdint.h>
#include <time.h>

static inline double bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* xorshift64: the keys and the choice of op */
static inline uint64_t bench_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* n entries, int64 keys 0, 2, 4, ...: the loop's keys hit half the time */
static inline gomap *mixed_filled(uint64_t n)
{
    static const gomap_type i64 = {.key_size = 8, .val_size = 8};
    gomap *m = gomap_new(&i64, 0);
    for (int64_t i = 0; i < (int64_t)n; i++)
        gomap_set(m, &(int64_t){i * 2}, &i);
    return m;
}

struct mixed_api {
    void *(*get)(const gomap *, const void *);
    int (*set)(gomap *, const void *, const void *);
    bool (*del)(gomap *, const void *);
};

/* Always inlined: given a table of constants (shim_overhead.c), the calls
 * are direct, as in a program that names the functions. *s: the
 * generator's state, carried from one run to the next. */
static inline __attribute__((always_inline)) uint64_t mixed_run(const struct mixed_api *a, gomap *m, uint64_t n,
                                                                uint64_t ops, uint64_t *s)
{
    uint64_t acc = 0;
    for (uint64_t i = 0; i < ops; i++) {
        uint64_t r = bench_next(s);
        int64_t k = (int64_t)(r % (2 * n));
        switch ((r >> 40) & 3) {
        case 0:
        case 1:
            acc += a->get(m, &k) != NULL;
            break;
        case 2:
            a->set(m, &k, &k);
            break;
        default:
            acc += a->del(m, &k);
            break;
        }
    }
    return acc;
}

#endif
