/*
 * bench-compare workload: creation-heavy work, many small maps.
 *
 *   compare_create MAPS
 *
 * Makes MAPS small maps (4 int64 entries each) and keeps them all alive,
 * reads one entry back from each, then frees them all. The whole of it is
 * timed; ops counts the maps. Peak RSS is dominated by the live maps, so
 * this is the row for per-map memory overhead.
 */
#include "compare_common.h"

int main(int argc, char **argv)
{
    uint64_t n = cmp_arg(argc, argv, 1, 1000000);
    gomap **maps = malloc(n * sizeof *maps);
    if (!maps)
        cmp_die("out of memory");
    uint64_t check = 0;

    uint64_t t0 = cmp_now_ns();
    for (uint64_t i = 0; i < n; i++) {
        gomap *m = gomap_new(&cmp_i64_type, 0);
        if (!m)
            cmp_die("gomap_new failed");
        for (uint64_t j = 0; j < 4; j++) {
            int64_t k = cmp_key(4 * i + j), v = (int64_t)j;
            if (gomap_set(m, &k, &v) != GOMAP_OK)
                cmp_die("gomap_set failed");
        }
        maps[i] = m;
    }
    for (uint64_t i = 0; i < n; i++) {
        int64_t k = cmp_key(4 * i + (i & 3));
        const int64_t *v = gomap_get(maps[i], &k);
        if (!v)
            cmp_die("entry missing");
        check += (uint64_t)*v + gomap_len(maps[i]);
    }
    for (uint64_t i = 0; i < n; i++)
        gomap_free(maps[i]);
    uint64_t t1 = cmp_now_ns();

    free(maps);
    cmp_result("create", n, t1 - t0, check);
    return 0;
}
