/*
 * The many-thread workload (stress_workload.h) in this process: 16 threads
 * mixing get, set, delete, load-or-store, len and range, checked against
 * each thread's model at the end.
 */
#include <criterion/criterion.h>

#include "stress_workload.h"

static void run(int threads, long iters, size_t nshards)
{
    sw_config cfg = {.threads = threads, .iters = iters, .nshards = nshards};
    char why[256];
    cr_assert(sw_run_all(&cfg, why, sizeof why), "%d threads, %zu shards: %s", threads, nshards,
              why);
}

Test(stress, sixteen_threads_default_shards, .timeout = 120)
{
    run(16, 100000, 0);
}

/* One shard: every operation contends on one lock. */
Test(stress, sixteen_threads_one_shard, .timeout = 120)
{
    run(16, 30000, 1);
}

Test(stress, sixty_four_threads, .timeout = 120)
{
    run(64, 5000, 0);
}
