/* The README's usage example: count words with a gomap keyed by C strings.
 * Build: cc -Isrc examples/wordcount.c -Lbuild/lib -lgomap */
#include "gomap.h"
#include <stdio.h>

int main(void)
{
    gomap_type t = {sizeof(const char *), sizeof(int), gomap_hash_cstr, gomap_equal_cstr};
    gomap *counts = gomap_new(&t, 0);                 /* make(map[string]int) */
    const char *words[] = {"map", "read", "map", "write", "map"};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        ++*(int *)gomap_assign(counts, &words[i]);    /* counts[w]++ */

    gomap_iter it;                                    /* for w, n := range counts */
    const void *k;
    void *v;
    for (gomap_iter_init(&it, counts); gomap_iter_next(&it, &k, &v);)
        printf("%s %d\n", *(const char *const *)k, *(int *)v);
    gomap_free(counts);
    return 0;
}
