/*
 * bench-compare workload: an iteration-heavy loop.
 *
 *   compare_iter KEYS PASSES
 *
 * Prefills KEYS keys (not timed), then PASSES times ranges over the whole
 * map summing the values, and after each pass updates one value (a
 * non-structural write, as a real loop would between passes). ops counts
 * the entries visited.
 */
#include "compare_common.h"

int main(int argc, char **argv)
{
    uint64_t keys = cmp_arg(argc, argv, 1, 10000);
    uint64_t passes = cmp_arg(argc, argv, 2, 100);
    gomap *m = cmp_prefilled(keys);
    uint64_t check = 0, visited = 0;

    uint64_t t0 = cmp_now_ns();
    for (uint64_t p = 0; p < passes; p++) {
        gomap_iter it;
        const void *k;
        void *v;
        gomap_iter_init(&it, m);
        while (gomap_iter_next(&it, &k, &v)) {
            check += *(const uint64_t *)v;
            visited++;
        }
        int64_t key = cmp_key(2 * (p % keys)), val = (int64_t)p;
        if (gomap_set(m, &key, &val) != GOMAP_OK)
            cmp_die("gomap_set failed");
    }
    uint64_t t1 = cmp_now_ns();

    if (visited != keys * passes)
        cmp_die("iteration visited the wrong number of entries");
    gomap_free(m);
    cmp_result("iter", visited, t1 - t0, check);
    return 0;
}
