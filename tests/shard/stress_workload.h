/*
 * The many-thread gomap_shard workload, shared by the in-process Criterion
 * test and by tests/progs/demo_shard_stress (the same run under the shim).
 *
 * Each thread mixes every operation. Exact totals stay checkable because:
 *   - each thread owns a key range (tid << 32 | i) that only it writes, and
 *     keeps a private model of it; other threads only read those keys;
 *   - a shared key range is written only with load-or-store, so exactly one
 *     thread stores each key and every thread must load that same value;
 *   - every value encodes its key (high 32 bits), so any read, from any
 *     thread, can tell a torn or misplaced value.
 * At the end the map must equal the union of the models plus the shared
 * keys, and the threads' "stored" counts must add up to the shared keys.
 */
#ifndef SHARD_STRESS_WORKLOAD_H
#define SHARD_STRESS_WORKLOAD_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomap_shard.h"

#define SW_MAX_THREADS 64
#define SW_OWN_KEYS 256    /* per thread */
#define SW_SHARED_KEYS 1024

typedef struct sw_config {
    int threads;
    long iters;           /* operations per thread */
    size_t nshards;       /* 0: default */
} sw_config;

typedef struct sw_run {
    gomap_shard *m;
    const sw_config *cfg;
    pthread_barrier_t start;
    atomic_int failed;
    char why[256];        /* the first failure */
    pthread_mutex_t why_lock;
} sw_run;

typedef struct sw_thread {
    sw_run *run;
    int tid;
    uint64_t rng;
    uint64_t own_val[SW_OWN_KEYS];     /* 0: absent */
    uint64_t shared_seen[SW_SHARED_KEYS];
    long stored;                       /* load-or-store calls that stored */
} sw_thread;

static inline uint64_t sw_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t sw_next(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ULL;
    return sw_mix(*s);
}

static inline uint64_t sw_own_key(int tid, uint64_t i)
{
    return (uint64_t)(tid + 1) << 32 | i;
}

/* Shared keys live above every thread's range. */
static inline uint64_t sw_shared_key(uint64_t i)
{
    return (uint64_t)(SW_MAX_THREADS + 1) << 32 | i;
}

/* A value for key k; the low bits (never 0) say who wrote which version. */
static inline uint64_t sw_value(uint64_t k, uint32_t tag)
{
    return (sw_mix(k) & 0xffffffff00000000ULL) | (tag ? tag : 1);
}

static inline bool sw_value_fits(uint64_t k, uint64_t v)
{
    return (v & 0xffffffff00000000ULL) == (sw_mix(k) & 0xffffffff00000000ULL) &&
           (v & 0xffffffffULL) != 0;
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void sw_fail(sw_run *r, const char *fmt, ...)
{
    pthread_mutex_lock(&r->why_lock);
    if (!atomic_load(&r->failed)) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->why, sizeof r->why, fmt, ap);
        va_end(ap);
        atomic_store(&r->failed, 1);
    }
    pthread_mutex_unlock(&r->why_lock);
}

typedef struct sw_range_ctx {
    sw_run *run;
    long visited, limit;
} sw_range_ctx;

static bool sw_range_check(const void *key, const void *val, void *ctx)
{
    sw_range_ctx *c = ctx;
    uint64_t k, v;
    memcpy(&k, key, sizeof k);
    memcpy(&v, val, sizeof v);
    if (!sw_value_fits(k, v))
        sw_fail(c->run, "range saw key %#llx with a value %#llx that is not its own",
                (unsigned long long)k, (unsigned long long)v);
    return ++c->visited < c->limit;
}

static void sw_op(sw_thread *t)
{
    sw_run *r = t->run;
    gomap_shard *m = r->m;
    uint64_t x = sw_next(&t->rng);
    unsigned pick = (unsigned)(x % 1000);
    uint64_t i = (x >> 16) % SW_OWN_KEYS;

    if (pick < 400) { /* read anyone's key */
        int owner = (int)((x >> 40) % (uint64_t)r->cfg->threads);
        uint64_t k = sw_own_key(owner, i), v = 0;
        int got = gomap_shard_get(m, &k, &v);
        if (got < 0)
            sw_fail(r, "get: %d", got);
        else if (got && !sw_value_fits(k, v))
            sw_fail(r, "get(%#llx) returned %#llx, not a value of that key",
                    (unsigned long long)k, (unsigned long long)v);
        else if (owner == t->tid && (got ? v : 0) != t->own_val[i])
            sw_fail(r, "get of own key %#llx: %s %#llx, expected %#llx", (unsigned long long)k,
                    got ? "found" : "absent", (unsigned long long)v,
                    (unsigned long long)t->own_val[i]);
    } else if (pick < 650) { /* set own key */
        uint64_t k = sw_own_key(t->tid, i);
        uint64_t v = sw_value(k, (uint32_t)(x >> 32));
        int rc = gomap_shard_set(m, &k, &v);
        if (rc != GOMAP_OK)
            sw_fail(r, "set: %d", rc);
        t->own_val[i] = v;
    } else if (pick < 800) { /* delete own key */
        uint64_t k = sw_own_key(t->tid, i);
        int rc = gomap_shard_delete(m, &k);
        if (rc != (t->own_val[i] != 0))
            sw_fail(r, "delete(%#llx) = %d, expected %d", (unsigned long long)k, rc,
                    t->own_val[i] != 0);
        t->own_val[i] = 0;
    } else if (pick < 990) { /* load-or-store a shared key */
        uint64_t j = (x >> 16) % SW_SHARED_KEYS, k = sw_shared_key(j);
        uint64_t v = sw_value(k, (uint32_t)t->tid + 1), actual = 0;
        int rc = gomap_shard_load_or_store(m, &k, &v, &actual);
        if (rc < 0)
            sw_fail(r, "load_or_store: %d", rc);
        if (rc == 0)
            t->stored++;
        if (!sw_value_fits(k, actual) || (rc == 0 && actual != v))
            sw_fail(r, "load_or_store(%#llx) = %d gave %#llx", (unsigned long long)k, rc,
                    (unsigned long long)actual);
        if (t->shared_seen[j] && t->shared_seen[j] != actual)
            sw_fail(r, "shared key %#llx changed from %#llx to %#llx: two stores won",
                    (unsigned long long)k, (unsigned long long)t->shared_seen[j],
                    (unsigned long long)actual);
        t->shared_seen[j] = actual;
    } else if (pick < 997) {
        size_t n = gomap_shard_len(m);
        if (n > (size_t)r->cfg->threads * SW_OWN_KEYS + SW_SHARED_KEYS)
            sw_fail(r, "len %zu is more than every key there could be", n);
    } else {
        sw_range_ctx c = {r, 0, (long)(x >> 20) % 2000 + 1};
        int rc = gomap_shard_range(m, sw_range_check, &c);
        if (rc < 0 || (rc == 1) != (c.visited == c.limit))
            sw_fail(r, "range returned %d after %ld of at most %ld entries", rc, c.visited,
                    c.limit);
    }
}

static void *sw_thread_main(void *arg)
{
    sw_thread *t = arg;
    pthread_barrier_wait(&t->run->start);
    for (long n = 0; n < t->run->cfg->iters && !atomic_load(&t->run->failed); n++)
        sw_op(t);
    return NULL;
}

/* After the threads: the map must be exactly the models plus the shared
 * keys every thread saw with one value. */
static void sw_verify(sw_run *r, sw_thread *ts)
{
    const sw_config *cfg = r->cfg;
    size_t expect = 0;
    long stored = 0;
    for (int t = 0; t < cfg->threads && !atomic_load(&r->failed); t++) {
        stored += ts[t].stored;
        for (uint64_t i = 0; i < SW_OWN_KEYS; i++) {
            uint64_t k = sw_own_key(t, i), v = 0;
            int got = gomap_shard_get(r->m, &k, &v);
            expect += ts[t].own_val[i] != 0;
            if ((got ? v : 0) != ts[t].own_val[i]) {
                sw_fail(r, "at the end key %#llx is %#llx, thread %d last wrote %#llx",
                        (unsigned long long)k, (unsigned long long)(got ? v : 0), t,
                        (unsigned long long)ts[t].own_val[i]);
                return;
            }
        }
    }
    size_t shared = 0;
    for (uint64_t j = 0; j < SW_SHARED_KEYS; j++) {
        uint64_t k = sw_shared_key(j), v = 0;
        if (gomap_shard_get(r->m, &k, &v) != 1)
            continue;
        shared++;
        for (int t = 0; t < cfg->threads; t++)
            if (ts[t].shared_seen[j] && ts[t].shared_seen[j] != v) {
                sw_fail(r, "thread %d saw shared key %#llx as %#llx; the map holds %#llx", t,
                        (unsigned long long)k, (unsigned long long)ts[t].shared_seen[j],
                        (unsigned long long)v);
                return;
            }
    }
    if ((long)shared != stored)
        sw_fail(r, "%zu shared keys are in the map but %ld load-or-store calls stored", shared,
                stored);
    size_t len = gomap_shard_len(r->m);
    if (len != expect + shared)
        sw_fail(r, "len %zu, expected %zu own + %zu shared", len, expect, shared);
}

/* Runs the workload on a fresh map; true on success, else why says what. */
static bool sw_run_all(const sw_config *cfg, char *why, size_t whylen)
{
    static sw_thread ts[SW_MAX_THREADS];
    pthread_t th[SW_MAX_THREADS];
    sw_run r;
    memset(&r, 0, sizeof r);
    r.cfg = cfg;
    pthread_mutex_init(&r.why_lock, NULL);
    if (cfg->threads < 1 || cfg->threads > SW_MAX_THREADS) {
        snprintf(why, whylen, "threads must be 1..%d", SW_MAX_THREADS);
        return false;
    }
    gomap_type type = {.key_size = sizeof(uint64_t), .val_size = sizeof(uint64_t)};
    r.m = gomap_shard_new(&type, cfg->nshards, 0);
    if (!r.m) {
        snprintf(why, whylen, "gomap_shard_new failed");
        return false;
    }
    pthread_barrier_init(&r.start, NULL, (unsigned)cfg->threads);
    for (int t = 0; t < cfg->threads; t++) {
        memset(&ts[t], 0, sizeof ts[t]);
        ts[t].run = &r;
        ts[t].tid = t;
        ts[t].rng = sw_mix((uint64_t)t + 0x5eed);
        pthread_create(&th[t], NULL, sw_thread_main, &ts[t]);
    }
    for (int t = 0; t < cfg->threads; t++)
        pthread_join(th[t], NULL);
    if (!atomic_load(&r.failed))
        sw_verify(&r, ts);
    pthread_barrier_destroy(&r.start);
    gomap_shard_free(r.m);
    snprintf(why, whylen, "%s", r.why);
    return !atomic_load(&r.failed);
}

#endif
