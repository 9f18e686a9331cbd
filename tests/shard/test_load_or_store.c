/*
 * gomap_shard_load_or_store: sync.Map.LoadOrStore's contract, alone and
 * with many threads racing for the same keys (exactly one store wins and
 * everyone loads the winner's value).
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "gomap_shard.h"

static const gomap_type u64_type = {.key_size = sizeof(uint64_t), .val_size = sizeof(uint64_t)};

Test(load_or_store, stores_when_absent_then_loads)
{
    gomap_shard *m = gomap_shard_new(&u64_type, 0, 0);
    cr_assert_not_null(m);
    uint64_t k = 1, v = 10, actual = 0;
    cr_assert_eq(gomap_shard_load_or_store(m, &k, &v, &actual), 0, "absent: stored");
    cr_assert_eq(actual, 10, "after a store, actual is the stored value");
    v = 20;
    cr_assert_eq(gomap_shard_load_or_store(m, &k, &v, &actual), 1, "present: loaded");
    cr_assert_eq(actual, 10, "a load returns the existing value, not the new one");
    uint64_t now = 0;
    gomap_shard_get(m, &k, &now);
    cr_assert_eq(now, 10, "a load never overwrites");
    cr_assert_eq(gomap_shard_len(m), 1);
    gomap_shard_free(m);
}

Test(load_or_store, actual_may_be_null_or_alias_val)
{
    gomap_shard *m = gomap_shard_new(&u64_type, 0, 0);
    uint64_t k = 2, v = 5;
    cr_assert_eq(gomap_shard_load_or_store(m, &k, &v, NULL), 0);
    cr_assert_eq(gomap_shard_load_or_store(m, &k, &v, NULL), 1);
    uint64_t buf = 7;
    k = 3;
    cr_assert_eq(gomap_shard_load_or_store(m, &k, &buf, &buf), 0);
    cr_assert_eq(buf, 7);
    uint64_t buf2 = 8;
    cr_assert_eq(gomap_shard_load_or_store(m, &k, &buf2, &buf2), 1);
    cr_assert_eq(buf2, 7, "loaded into the aliased buffer");
    gomap_shard_free(m);
}

Test(load_or_store, argument_errors)
{
    gomap_shard *m = gomap_shard_new(&u64_type, 0, 0);
    uint64_t k = 1, v = 1;
    cr_assert_eq(gomap_shard_load_or_store(m, NULL, &v, NULL), GOMAP_EINVAL);
    cr_assert_eq(gomap_shard_load_or_store(m, &k, NULL, NULL), GOMAP_EINVAL);
    cr_assert_eq(gomap_shard_load_or_store(NULL, &k, &v, NULL), GOMAP_ENIL);
    cr_assert_eq(gomap_shard_len(m), 0);
    gomap_shard_free(m);
}

Test(load_or_store, after_delete_stores_again)
{
    gomap_shard *m = gomap_shard_new(&u64_type, 0, 0);
    uint64_t k = 9, v = 1, actual;
    cr_assert_eq(gomap_shard_load_or_store(m, &k, &v, &actual), 0);
    cr_assert_eq(gomap_shard_delete(m, &k), 1);
    v = 2;
    cr_assert_eq(gomap_shard_load_or_store(m, &k, &v, &actual), 0);
    cr_assert_eq(actual, 2);
    gomap_shard_free(m);
}

enum { RACERS = 8, RACE_KEYS = 2000 };

typedef struct racer {
    gomap_shard *m;
    pthread_barrier_t *start;
    uint64_t id;
    uint64_t got[RACE_KEYS];
    long stored;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    pthread_barrier_wait(r->start);
    for (uint64_t k = 0; k < RACE_KEYS; k++) {
        uint64_t v = r->id << 32 | k;
        int rc = gomap_shard_load_or_store(r->m, &k, &v, &r->got[k]);
        if (rc == 0)
            r->stored++;
        else if (rc != 1)
            r->got[k] = UINT64_MAX;
    }
    return NULL;
}

/* Every thread asks for every key at once: per key exactly one thread
 * stores, and every thread sees that thread's value. A check-then-set under
 * separate locks would let two stores win. */
Test(load_or_store, exactly_one_store_wins_per_key)
{
    static racer rs[RACERS];
    for (int round = 0; round < 20; round++) {
        gomap_shard *m = gomap_shard_new(&u64_type, round % 2 ? 1 : 0, 0);
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, RACERS);
        pthread_t th[RACERS];
        for (int i = 0; i < RACERS; i++) {
            memset(&rs[i], 0, sizeof rs[i]);
            rs[i].m = m;
            rs[i].start = &start;
            rs[i].id = (uint64_t)i + 1;
            pthread_create(&th[i], NULL, race, &rs[i]);
        }
        long stored = 0;
        for (int i = 0; i < RACERS; i++) {
            pthread_join(th[i], NULL);
            stored += rs[i].stored;
        }
        cr_assert_eq(stored, RACE_KEYS, "round %d: %ld stores for %d keys", round, stored,
                     RACE_KEYS);
        for (uint64_t k = 0; k < RACE_KEYS; k++) {
            uint64_t v = 0;
            cr_assert_eq(gomap_shard_get(m, &k, &v), 1);
            cr_assert_eq(v & 0xffffffff, k);
            for (int i = 0; i < RACERS; i++)
                cr_assert_eq(rs[i].got[k], v, "round %d key %llu: thread %d saw %#llx, map has %#llx",
                             round, (unsigned long long)k, i, (unsigned long long)rs[i].got[k],
                             (unsigned long long)v);
        }
        pthread_barrier_destroy(&start);
        gomap_shard_free(m);
    }
}
