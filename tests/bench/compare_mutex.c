/*
 * bench-compare workload: the map under a mutex of issue 12's cost budget
 * (compare_mutex_map.h): two threads, one map, every get or set between
 * pthread_mutex_lock and pthread_mutex_unlock.
 *
 *   compare_mutex KEYS OPS
 *
 * OPS operations per thread on a map of KEYS keys. Correctly locked: any
 * report from any tool here is a false positive, and compare.sh counts
 * them.
 */
#include "compare_mutex_map.h"

int main(int argc, char **argv)
{
    uint64_t keys = cmp_arg(argc, argv, 1, 1000);
    uint64_t ops = cmp_arg(argc, argv, 2, 1000000);
    uint64_t check = 0;
    uint64_t ns = cmp_mutex_map_run(keys, ops, &check);
    cmp_result("mutex_map", 2 * ops, ns, check);
    return 0;
}
