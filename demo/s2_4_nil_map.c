/*
 * §2.4: writing to a map that was never made.
 *
 *     var m map[string]int
 *     m["answer"] = 42 // panic: assignment to entry in nil map
 *
 * In C the nil map is a NULL gomap *. gomap_set refuses the write and
 * returns GOMAP_ENIL, but this program ignores the return value, so the
 * value silently goes nowhere: the document's "silent failure". mapguard
 * reports nil-map-write at the call.
 */
#include <stdio.h>

#include "gomap.h"

int main(void)
{
    gomap *m = NULL; /* var m map[string]int */
    const char *key = "answer";
    long val = 42;
    gomap_set(m, &key, &val); /* m["answer"] = 42, return value ignored */

    long got = 0;
    gomap_lookup(m, &key, &got);
    printf("m[\"answer\"] = %ld, len(m) = %zu\n", got, gomap_len(m));
    return 0;
}
