/*
 * §2.5: a map passed to a function, which reassigns its parameter.
 *
 *     func reset(m map[string]int) {
 *         m = make(map[string]int) // only the local copy changes
 *     }
 *
 * The caller's map is untouched, and in Go the new map is garbage. In C the
 * gomap * parameter is a copy just the same: the caller keeps its old
 * entries, and the map made inside reset() is never freed. Run with
 * detect_leaks=1, mapguard lists it at exit as leaked-map.
 */
#include <stdio.h>

#include "gomap.h"

static const gomap_type type = {sizeof(long), sizeof(long), NULL, NULL};

/* Meant to give the caller an empty map. */
static void reset(gomap *m)
{
    m = gomap_new(&type, 0); /* m = make(map[int]int) */
    long k = 0, v = 0;
    gomap_set(m, &k, &v);
}

int main(void)
{
    gomap *m = gomap_new(&type, 0);
    if (!m)
        return 1;
    for (long i = 1; i <= 3; i++)
        gomap_set(m, &i, &i);

    reset(m);
    printf("after reset(m): len(m) = %zu (still the old entries)\n", gomap_len(m));
    gomap_free(m);
    return 0;
}
