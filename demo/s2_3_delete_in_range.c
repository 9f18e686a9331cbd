/*
 * §2.3: deleting from a map while ranging over it.
 *
 *     for k, v := range m {
 *         if v%2 == 0 { delete(m, k) }
 *     }
 *
 * The document calls the result undefined: entries may be skipped or come
 * twice depending on bucket layout. (Go's spec in fact allows it, and says
 * an entry deleted before it is reached is not produced, so Go prints
 * nothing.) mapguard takes the document's advice: the iterator's next step
 * after a delete made behind its back is reported as
 * modified-during-iteration.
 */
#include <stdio.h>

#include "gomap.h"

int main(void)
{
    gomap_type type = {sizeof(long), sizeof(long), NULL, NULL};
    gomap *m = gomap_new(&type, 0); /* map[int]int{0: 0, 1: 1, ..., 9: 9} */
    if (!m)
        return 1;
    for (long i = 0; i < 10; i++)
        gomap_set(m, &i, &i);

    gomap_iter it;
    gomap_iter_init(&it, m);
    const void *k;
    void *v;
    while (gomap_iter_next(&it, &k, &v)) {
        if (*(long *)v % 2 == 0) {
            long key = *(const long *)k;
            gomap_delete(m, &key); /* delete(m, k) inside the range */
        }
    }
    printf("%zu entries left\n", gomap_len(m));
    gomap_free(m);
    return 0;
}
