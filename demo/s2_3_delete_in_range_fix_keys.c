/*
 * §2.3 fixed the document's way: collect the keys first, then delete them
 * after the range has finished.
 */
#include <stdio.h>

#include "gomap.h"

int main(void)
{
    gomap_type type = {sizeof(long), sizeof(long), NULL, NULL};
    gomap *m = gomap_new(&type, 0);
    if (!m)
        return 1;
    for (long i = 0; i < 10; i++)
        gomap_set(m, &i, &i);

    long doomed[10];
    size_t n = 0;
    gomap_iter it;
    gomap_iter_init(&it, m);
    const void *k;
    void *v;
    while (gomap_iter_next(&it, &k, &v))
        if (*(long *)v % 2 == 0)
            doomed[n++] = *(const long *)k;

    for (size_t i = 0; i < n; i++)
        gomap_delete(m, &doomed[i]);
    printf("%zu entries left\n", gomap_len(m));
    gomap_free(m);
    return n == 5 ? 0 : 1;
}
