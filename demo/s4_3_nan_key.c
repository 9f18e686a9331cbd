/*
 * §4.3: a float key that is not equal to itself.
 *
 *     counts := map[float64]int{}
 *     for _, r := range readings { counts[r]++ } // a glitch gives NaN
 *
 * NaN != NaN, so every NaN insert makes a new entry that no lookup or
 * delete can ever find again; the map grows without bound. Go says
 * nothing. mapguard reports irreflexive-key at the insert.
 */
#include <math.h>
#include <stdio.h>

#include "gomap.h"

int main(void)
{
    gomap_type type = {sizeof(double), sizeof(long), gomap_hash_f64, gomap_equal_f64};
    gomap *counts = gomap_new(&type, 0); /* map[float64]int */
    if (!counts)
        return 1;

    double readings[] = {21.5, 22.0, NAN, 21.5, NAN, NAN};
    for (size_t i = 0; i < sizeof readings / sizeof *readings; i++) {
        long *n = gomap_assign(counts, &readings[i]); /* counts[r]++ */
        if (n)
            ++*n;
    }

    double nan = NAN;
    printf("6 readings, 3 distinct values, len(counts) = %zu; counts[NaN] found: %s\n",
           gomap_len(counts), gomap_get(counts, &nan) ? "yes" : "no");
    gomap_free(counts);
    return 0;
}
