/* mapguard CLI test: linked statically by the test (cc -static), so the
 * dynamic loader never runs and the detector cannot be preloaded; `mapguard
 * run` must refuse it with exit status 2 instead of passing it as clean. It
 * uses no gomap, so it links without libgomap.a. */
#include <stdio.h>

int main(void)
{
    puts("static program ran");
    return 0;
}
