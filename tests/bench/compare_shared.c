/*
 * bench-compare workload: two threads sharing one map under a mutex.
 *
 *   compare_shared KEYS OPS
 *
 * The main thread prefills one map with KEYS keys (not timed); two threads
 * then each run OPS mixed operations on it, each operation under one
 * pthread_mutex. Correctly locked, so no tool should report anything.
 */
#include "compare_common.h"

#include <pthread.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static gomap *shared;
static uint64_t nkeys;

struct job {
    uint64_t ops, seed, check;
};

static void *worker(void *arg)
{
    struct job *j = arg;
    uint64_t rng = j->seed, check = 0;
    for (uint64_t i = 0; i < j->ops; i++) {
        pthread_mutex_lock(&lock);
        check += cmp_mixed_op(shared, nkeys, &rng);
        pthread_mutex_unlock(&lock);
    }
    j->check = check;
    return NULL;
}

int main(int argc, char **argv)
{
    nkeys = cmp_arg(argc, argv, 1, 10000);
    uint64_t ops = cmp_arg(argc, argv, 2, 1000000);
    shared = cmp_prefilled(nkeys);
    struct job jobs[2] = {{ops, 1, 0}, {ops, 2, 0}};
    pthread_t th[2];

    uint64_t t0 = cmp_now_ns();
    for (int i = 0; i < 2; i++)
        if (pthread_create(&th[i], NULL, worker, &jobs[i]))
            cmp_die("pthread_create failed");
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    uint64_t t1 = cmp_now_ns();

    uint64_t check = jobs[0].check + jobs[1].check + gomap_len(shared);
    gomap_free(shared);
    cmp_result("two_shared", 2 * ops, t1 - t0, check);
    return 0;
}
