/* mapguard CLI test for --detect-leaks: the seed guide's 2.5, a function
 * that "resets" its map parameter to a new map the caller never sees. The
 * maps it makes are never freed; exit status 0. */
#include "gomap.h"

static void reset(gomap *m)
{
    gomap_type t = {sizeof(int), sizeof(int), NULL, NULL};
    m = gomap_new(&t, 0); /* assigns the parameter: the caller's map is unchanged */
    int k = 1, v = 1;
    gomap_set(m, &k, &v);
}

int main(void)
{
    gomap_type t = {sizeof(int), sizeof(int), NULL, NULL};
    gomap *m = gomap_new(&t, 0);
    reset(m);
    gomap_free(m);
    return 0;
}
