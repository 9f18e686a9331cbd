/*
 * The stack depot (shim/depot.c) on its own: a stack stored twice gets
 * the same id, every id gives its stack back, and that holds across the
 * switch from the one-page bucket array to the big one.
 */
#include "hb_test.h"
#include "stack.h"

#define N 3000 /* past the small array's 1024 stacks */

static int fill(uintptr_t *pcs, int i)
{
    int n = 1 + i % 7;
    for (int j = 0; j < n; j++)
        pcs[j] = 0x400000u + (uintptr_t)i * 64 + (uintptr_t)j;
    return n;
}

Test(depot, stacks_keep_their_ids_across_both_bucket_arrays)
{
    static uint32_t ids[N];
    uintptr_t pcs[8];
    for (int i = 0; i < N; i++) {
        ids[i] = mg_depot_put(pcs, fill(pcs, i));
        cr_assert_neq(ids[i], 0);
        if (i)
            cr_assert_gt(ids[i], ids[i - 1], "ids come in order");
    }
    for (int i = N - 1; i >= 0; i--) {
        int n = fill(pcs, i);
        cr_assert_eq(mg_depot_put(pcs, n), ids[i], "stack %d stored again", i);
        const uintptr_t *got;
        int gn;
        cr_assert(mg_depot_get(ids[i], &got, &gn));
        cr_assert_eq(gn, n);
        cr_assert_arr_eq(got, pcs, (size_t)n * sizeof *pcs);
    }
    cr_assert_eq(mg_depot_put(pcs, 0), 0, "an empty stack has no id");
    cr_assert_not(mg_depot_get(ids[N - 1] + 1, &(const uintptr_t *){0}, &(int){0}));
}
