/* mapguard CLI test of repeat counts: the same nil-map write, at one call
 * site, five times, and another once; exit status 0 without the shim. The
 * command's report must say how often each happened whatever dedup wrote
 * (tests/cli/test_options.c). */
#include "gomap.h"

static void put(gomap *m, int k) { gomap_set(m, &k, &k); } /* @site:repeated_put */

int main(void)
{
    for (int i = 0; i < 5; i++)
        put(NULL, i);
    int k = 9;
    gomap_set(NULL, &k, &k); /* @site:single_put */
    return 0;
}
