/*
 * bench-compare workload: two threads, each with its own map.
 *
 *   compare_own KEYS OPS
 *
 * Each thread makes its own map, prefills KEYS keys and runs OPS mixed
 * operations on it; no map is shared, so no tool should report anything.
 * The timed phase is from before the first pthread_create to after the
 * last pthread_join (prefill included, since it runs on the threads).
 */
#include "compare_common.h"

#include <pthread.h>

struct job {
    uint64_t keys, ops, seed, check;
};

static void *worker(void *arg)
{
    struct job *j = arg;
    gomap *m = cmp_prefilled(j->keys);
    uint64_t rng = j->seed, check = 0;
    for (uint64_t i = 0; i < j->ops; i++)
        check += cmp_mixed_op(m, j->keys, &rng);
    j->check = check + gomap_len(m);
    gomap_free(m);
    return NULL;
}

int main(int argc, char **argv)
{
    uint64_t keys = cmp_arg(argc, argv, 1, 10000);
    uint64_t ops = cmp_arg(argc, argv, 2, 1000000);
    struct job jobs[2] = {{keys, ops, 1, 0}, {keys, ops, 2, 0}};
    pthread_t th[2];

    uint64_t t0 = cmp_now_ns();
    for (int i = 0; i < 2; i++)
        if (pthread_create(&th[i], NULL, worker, &jobs[i]))
            cmp_die("pthread_create failed");
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    uint64_t t1 = cmp_now_ns();

    cmp_result("two_own", 2 * (keys + ops), t1 - t0, jobs[0].check + jobs[1].check);
    return 0;
}
