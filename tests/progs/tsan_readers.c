/*
 * Concurrent readers: gomap.h promises that any number of threads may read
 * one map (get, lookup, len, iteration) while no thread writes it, because
 * reads never write the map's memory. `make test-tsan` builds this program
 * and the library with -fsanitize=thread; it must report nothing.
 *
 * The maps are built before the threads start (pthread_create orders those
 * writes before the reads). One of them is caught in the middle of an
 * evacuation, so readers walk old and new bucket arrays together; one has
 * 200-byte keys and values stored indirectly; one has f64 keys including
 * NaNs (whose hash is random) and -0. Every result is checked; the program
 * exits 0 only if all are right.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gomap.h"
#include "gomap_debug.h"

enum {
    THREADS = 8,
    N_PLAIN = 20000, /* u64 -> u64, settled */
    N_GROW = 421,    /* u64 -> u64, mid-evacuation (B 6 -> 7) */
    N_BIG = 418,     /* 200-byte keys -> 160-byte values, mid-evacuation */
    N_F64 = 500,     /* f64 keys, plus NaNs and -0 */
    N_NAN = 20,
    BIG_KEY = 200,
    BIG_VAL = 160,
};

static gomap *plain, *grow, *big, *f64m;
static pthread_barrier_t start;
static int failures;
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char *what, long a, long b)
{
    pthread_mutex_lock(&fail_lock);
    if (failures++ < 20)
        fprintf(stderr, "tsan_readers: FAIL %s (%ld, %ld)\n", what, a, b);
    pthread_mutex_unlock(&fail_lock);
}

#define CHECK(cond, what, a, b)                                                                \
    do {                                                                                       \
        if (!(cond))                                                                           \
            fail(what, (long)(a), (long)(b));                                                  \
    } while (0)

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void big_key(unsigned char *k, uint64_t id)
{
    for (int i = 0; i < BIG_KEY; i++)
        k[i] = (unsigned char)(mix(id + (uint64_t)(i / 8)) >> (8 * (i % 8)));
    memcpy(k, &id, 8);
}

static void big_val(unsigned char *v, uint64_t id)
{
    memset(v, (int)(id & 0xff), BIG_VAL);
    memcpy(v, &id, 8);
}

static gomap *new_map(size_t ks, size_t vs, size_t hint, gomap_hash_fn h, gomap_equal_fn eq)
{
    gomap_type t = {.key_size = ks, .val_size = vs, .hash = h, .equal = eq};
    gomap *m = gomap_new(&t, hint);
    if (!m) {
        perror("gomap_new");
        exit(2);
    }
    return m;
}

static void build(void)
{
    plain = new_map(8, 8, 0, NULL, NULL);
    for (uint64_t k = 0; k < N_PLAIN; k++) {
        uint64_t v = k * 7 + 1;
        gomap_set(plain, &k, &v);
    }

    /* B=6 holds 416; the 417th key starts a doubling, and the few writes
     * after it leave the evacuation half done. */
    grow = new_map(8, 8, 416, NULL, NULL);
    for (uint64_t k = 0; k < N_GROW; k++) {
        uint64_t v = k * 3;
        gomap_set(grow, &k, &v);
    }

    /* Likewise: the 417th key starts the doubling, the 418th moves it on. */
    big = new_map(BIG_KEY, BIG_VAL, 416, NULL, NULL);
    unsigned char k[BIG_KEY], v[BIG_VAL];
    for (uint64_t id = 0; id < N_BIG; id++) {
        big_key(k, id);
        big_val(v, id);
        gomap_set(big, k, v);
    }

    f64m = new_map(8, 8, 0, gomap_hash_f64, gomap_equal_f64);
    for (uint64_t i = 1; i <= N_F64; i++) {
        double d = (double)i * 0.5;
        uint64_t val = i;
        gomap_set(f64m, &d, &val);
    }
    double nz = -0.0, nan = NAN;
    uint64_t zero = 0;
    gomap_set(f64m, &nz, &zero);
    for (uint64_t i = 0; i < N_NAN; i++) {
        uint64_t val = 100000 + i;
        gomap_set(f64m, &nan, &val);
    }
}

static void iterate_u64(gomap *m, size_t n, uint64_t mul, uint64_t add, const char *what)
{
    gomap_iter it;
    gomap_iter_init(&it, m);
    const void *kp;
    void *vp;
    size_t cnt = 0;
    uint64_t ksum = 0;
    while (gomap_iter_next(&it, &kp, &vp)) {
        uint64_t k, v;
        memcpy(&k, kp, 8);
        memcpy(&v, vp, 8);
        CHECK(k < n && v == k * mul + add, what, k, v);
        ksum += k;
        cnt++;
    }
    CHECK(cnt == n, what, cnt, n);
    CHECK(ksum == (uint64_t)n * (n - 1) / 2, what, ksum, n);
}

static void *reader(void *arg)
{
    uint64_t tid = (uint64_t)(uintptr_t)arg;
    pthread_barrier_wait(&start);

    for (int round = 0; round < 2; round++) {
        /* Point reads on the settled map, hits and misses, in a
         * thread-specific order. */
        for (uint64_t i = 0; i < N_PLAIN; i++) {
            uint64_t k = (i * 7919 + tid * 104729) % N_PLAIN, v = 0;
            CHECK(gomap_lookup(plain, &k, &v) && v == k * 7 + 1, "plain lookup", k, v);
            uint64_t *p = gomap_get(plain, &k);
            CHECK(p && *p == k * 7 + 1, "plain get", k, p ? *p : 0);
            uint64_t miss = N_PLAIN + k;
            v = 99;
            CHECK(!gomap_lookup(plain, &miss, &v) && v == 0, "plain miss", miss, v);
        }
        CHECK(gomap_len(plain) == N_PLAIN, "plain len", gomap_len(plain), N_PLAIN);
        iterate_u64(plain, N_PLAIN, 7, 1, "plain iteration");

        /* The map caught mid-evacuation. */
        for (int rep = 0; rep < 4; rep++) {
            for (uint64_t k = 0; k < N_GROW + 50; k++) {
                uint64_t v = 1;
                bool ok = gomap_lookup(grow, &k, &v);
                CHECK(ok == (k < N_GROW) && v == (ok ? k * 3 : 0), "grow lookup", k, v);
            }
            iterate_u64(grow, N_GROW, 3, 0, "grow iteration");
            /* An abandoned iteration. */
            gomap_iter it;
            gomap_iter_init(&it, grow);
            gomap_iter_next(&it, NULL, NULL);
        }

        /* Indirect keys and values, mid-evacuation. */
        unsigned char k[BIG_KEY], want[BIG_VAL];
        for (uint64_t id = 0; id < N_BIG + 10; id++) {
            big_key(k, id);
            const unsigned char *p = gomap_get(big, k);
            if (id < N_BIG) {
                big_val(want, id);
                CHECK(p && memcmp(p, want, BIG_VAL) == 0, "big get", id, 0);
            } else {
                CHECK(p == NULL, "big miss", id, 0);
            }
        }
        gomap_iter it;
        gomap_iter_init(&it, big);
        const void *kp;
        void *vp;
        size_t cnt = 0;
        while (gomap_iter_next(&it, &kp, &vp)) {
            uint64_t id;
            memcpy(&id, kp, 8);
            big_key(k, id);
            big_val(want, id);
            CHECK(id < N_BIG && memcmp(k, kp, BIG_KEY) == 0 &&
                      memcmp(want, vp, BIG_VAL) == 0,
                  "big iteration", id, cnt);
            cnt++;
        }
        CHECK(cnt == N_BIG, "big iteration count", cnt, N_BIG);

        /* f64: NaN lookups hash randomly; -0 finds +0. */
        for (uint64_t i = 1; i <= N_F64; i++) {
            double d = (double)i * 0.5;
            uint64_t v = 0;
            CHECK(gomap_lookup(f64m, &d, &v) && v == i, "f64 lookup", i, v);
        }
        double pz = 0.0, nan = NAN;
        uint64_t v = 5;
        CHECK(gomap_lookup(f64m, &pz, &v) && v == 0, "f64 +0", v, 0);
        for (int i = 0; i < 50; i++)
            CHECK(!gomap_lookup(f64m, &nan, NULL), "f64 NaN found", i, 0);
        gomap_iter_init(&it, f64m);
        size_t nans = 0;
        cnt = 0;
        while (gomap_iter_next(&it, &kp, NULL)) {
            double d;
            memcpy(&d, kp, 8);
            nans += isnan(d) != 0;
            cnt++;
        }
        CHECK(nans == N_NAN && cnt == N_F64 + 1 + N_NAN, "f64 iteration", nans, cnt);

        /* The nil map. */
        uint64_t key = 1, out = 77;
        CHECK(!gomap_lookup(NULL, &key, &out) && out == 77, "nil lookup", out, 0);
        CHECK(gomap_len(NULL) == 0 && gomap_get(NULL, &key) == NULL, "nil reads", 0, 0);
        gomap_iter_init(&it, NULL);
        CHECK(!gomap_iter_next(&it, NULL, NULL), "nil iteration", 0, 0);
    }
    return NULL;
}

static bool same_state(const gomapdebug_stats *a, const gomapdebug_stats *b)
{
    return a->count == b->count && a->B == b->B && a->growing == b->growing &&
           a->nevacuate == b->nevacuate && a->noverflow == b->noverflow &&
           a->array_bytes == b->array_bytes;
}

int main(void)
{
    build();
    gomapdebug_stats g0, b0;
    if (!gomapdebug_stats_get(grow, &g0) || !gomapdebug_stats_get(big, &b0)) {
        fprintf(stderr, "tsan_readers: gomapdebug_stats_get failed\n");
        return 2;
    }
    if (!g0.growing || !b0.growing) {
        fprintf(stderr, "tsan_readers: setup: maps not mid-evacuation (growing %d, %d)\n",
                g0.growing, b0.growing);
        return 2;
    }

    pthread_t th[THREADS];
    pthread_barrier_init(&start, NULL, THREADS);
    for (uintptr_t i = 0; i < THREADS; i++) {
        if (pthread_create(&th[i], NULL, reader, (void *)i) != 0) {
            perror("pthread_create");
            return 2;
        }
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);

    /* Reads changed nothing: the evacuations are exactly where they were. */
    gomapdebug_stats g1, b1;
    gomapdebug_stats_get(grow, &g1);
    gomapdebug_stats_get(big, &b1);
    CHECK(same_state(&g0, &g1), "reads moved the evacuation (u64 map)", g0.nevacuate,
          g1.nevacuate);
    CHECK(same_state(&b0, &b1), "reads moved the evacuation (big map)", b0.nevacuate,
          b1.nevacuate);

    gomap_free(plain);
    gomap_free(grow);
    gomap_free(big);
    gomap_free(f64m);
    if (failures) {
        fprintf(stderr, "tsan_readers: %d failures\n", failures);
        return 1;
    }
    printf("tsan_readers: ok: %d threads read 4 maps (2 mid-evacuation) concurrently\n", THREADS);
    return 0;
}
