/*
 * §4.3 fixed: check for NaN before it becomes a key (Go: math.IsNaN) and
 * count it apart.
 */
#include <math.h>
#include <stdio.h>

#include "gomap.h"

int main(void)
{
    gomap_type type = {sizeof(double), sizeof(long), gomap_hash_f64, gomap_equal_f64};
    gomap *counts = gomap_new(&type, 0);
    if (!counts)
        return 1;

    double readings[] = {21.5, 22.0, NAN, 21.5, NAN, NAN};
    long nans = 0;
    for (size_t i = 0; i < sizeof readings / sizeof *readings; i++) {
        if (isnan(readings[i])) {
            nans++;
            continue;
        }
        long *n = gomap_assign(counts, &readings[i]);
        if (n)
            ++*n;
    }

    size_t len = gomap_len(counts);
    printf("6 readings: len(counts) = %zu, plus %ld NaN readings counted apart\n", len, nans);
    gomap_free(counts);
    return len == 2 && nans == 3 ? 0 : 1;
}
