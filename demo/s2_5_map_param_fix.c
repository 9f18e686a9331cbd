/*
 * §2.5 fixed, two ways: pass a gomap ** so the function can replace the
 * caller's map, or return the new map and let the caller assign it. Either
 * way the old map is freed in the same place it is replaced.
 * (gomap_clear(m), Go's clear(m), empties a map without replacing it.)
 */
#include <stdio.h>

#include "gomap.h"

static const gomap_type type = {sizeof(long), sizeof(long), NULL, NULL};

static int reset(gomap **m)
{
    gomap *fresh = gomap_new(&type, 0);
    if (!fresh)
        return -1;
    gomap_free(*m);
    *m = fresh;
    return 0;
}

static gomap *renewed(gomap *old)
{
    gomap_free(old);
    return gomap_new(&type, 0);
}

int main(void)
{
    gomap *m = gomap_new(&type, 0);
    if (!m)
        return 1;
    for (long i = 1; i <= 3; i++)
        gomap_set(m, &i, &i);

    if (reset(&m) != 0)
        return 1;
    printf("after reset(&m): len(m) = %zu\n", gomap_len(m));

    gomap_set(m, &(long){7}, &(long){7});
    m = renewed(m);
    if (!m)
        return 1;
    printf("after m = renewed(m): len(m) = %zu\n", gomap_len(m));

    size_t left = gomap_len(m);
    gomap_free(m);
    return left == 0 ? 0 : 1;
}
