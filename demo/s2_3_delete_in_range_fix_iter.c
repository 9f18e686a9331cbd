/*
 * §2.3 fixed with gomap_iter_delete: the iterator deletes the entry it
 * just returned, so it knows about the change and the range goes on safely.
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

    gomap_iter it;
    gomap_iter_init(&it, m);
    void *v;
    while (gomap_iter_next(&it, NULL, &v))
        if (*(long *)v % 2 == 0)
            gomap_iter_delete(&it);

    size_t left = gomap_len(m);
    printf("%zu entries left\n", left);
    gomap_free(m);
    return left == 5 ? 0 : 1;
}
