/*
 * Built -O2 -g: the call into the map API sits in a function inlined into
 * its caller. mapguard must show the inlined function as a frame of its
 * own, at the call, followed by its caller at the line where it was
 * inlined.
 */
#include <gomap.h>

#include <stdint.h>
#include <stdio.h>

static volatile int sink;

static inline __attribute__((always_inline)) void store(gomap *m, int64_t k)
{
    sink += gomap_set(m, &k, &k); /* @site:inlined_set */
}

__attribute__((noinline)) static void work(gomap *m)
{
    store(m, 1); /* @site:inline_call */
    sink++;
}

int main(void)
{
    gomap *volatile m = NULL;
    work(m); /* @site:work_call */
    printf("sink=%d\n", sink);
    return 0;
}
