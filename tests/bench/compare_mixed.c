/*
 * bench-compare workload: one thread, mixed get/set/delete on one map.
 *
 *   compare_mixed KEYS OPS
 *
 * Prefills KEYS int64 keys (not timed), then times OPS mixed operations
 * (50% get, 25% set, 25% delete over a key space of 2*KEYS, so the map
 * stays near KEYS entries). compare.sh runs it at 1K and at 1M keys.
 */
#include "compare_common.h"

int main(int argc, char **argv)
{
    uint64_t keys = cmp_arg(argc, argv, 1, 1000);
    uint64_t ops = cmp_arg(argc, argv, 2, 1000000);
    gomap *m = cmp_prefilled(keys);
    uint64_t rng = 42, check = 0;

    uint64_t t0 = cmp_now_ns();
    for (uint64_t i = 0; i < ops; i++)
        check += cmp_mixed_op(m, keys, &rng);
    uint64_t t1 = cmp_now_ns();

    check += gomap_len(m);
    gomap_free(m);
    cmp_result("mixed", ops, t1 - t0, check);
    return 0;
}
