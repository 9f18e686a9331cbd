/*
 * The map under a mutex of issue 12's cost budget: two threads share one
 * map, and every operation is pthread_mutex_lock, one gomap_get (3 in 4)
 * or gomap_set (1 in 4, an overwrite of a present key, so the map keeps
 * its size), pthread_mutex_unlock. A correctly synchronized program: a
 * detector that orders calls by their locks must find nothing here, and
 * pays its lock and map bookkeeping on every operation.
 *
 * One source for both harnesses that run it: shim_overhead's "shared1k"
 * workload and bench-compare's compare_mutex, so their numbers are about
 * the same loop.
 */
#ifndef COMPARE_MUTEX_MAP_H
#define COMPARE_MUTEX_MAP_H

#include <pthread.h>

#include "compare_common.h"

struct cmp_mutex_job {
    gomap *m;
    pthread_mutex_t *mu;
    uint64_t keys, ops, seed, check;
};

static inline void *cmp_mutex_worker(void *arg)
{
    struct cmp_mutex_job *j = arg;
    uint64_t rng = j->seed, check = 0;
    for (uint64_t i = 0; i < j->ops; i++) {
        uint64_t r = cmp_rand(&rng);
        /* cmp_prefilled holds the even key numbers 0 .. 2*(keys-1) */
        int64_t k = cmp_key(2 * ((r >> 2) % j->keys));
        pthread_mutex_lock(j->mu);
        if (r & 3) {
            const int64_t *v = gomap_get(j->m, &k);
            check += v ? (uint64_t)*v : 1;
        } else {
            int64_t v = (int64_t)r;
            if (gomap_set(j->m, &k, &v) != GOMAP_OK)
                cmp_die("gomap_set failed");
            check += 2;
        }
        pthread_mutex_unlock(j->mu);
    }
    j->check = check;
    return NULL;
}

/*
 * Makes a map of `keys` keys (not timed), runs two threads of `ops`
 * operations each on it, and returns the wall time from before the first
 * pthread_create to after the last pthread_join; *check gets a value that
 * depends on every result, so nothing is optimized away.
 */
static inline uint64_t cmp_mutex_map_run(uint64_t keys, uint64_t ops, uint64_t *check)
{
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    gomap *m = cmp_prefilled(keys);
    struct cmp_mutex_job jobs[2] = {{m, &mu, keys, ops, 1, 0}, {m, &mu, keys, ops, 2, 0}};
    pthread_t th[2];

    uint64_t t0 = cmp_now_ns();
    for (int i = 0; i < 2; i++)
        if (pthread_create(&th[i], NULL, cmp_mutex_worker, &jobs[i]))
            cmp_die("pthread_create failed");
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    uint64_t t = cmp_now_ns() - t0;

    *check = jobs[0].check + jobs[1].check + gomap_len(m);
    gomap_free(m);
    pthread_mutex_destroy(&mu);
    return t;
}

#endif /* COMPARE_MUTEX_MAP_H */
