/*
 * Built with -fsanitize=leak (the _lsan suffix, Makefile): a leaked
 * allocation for LeakSanitizer and a nil-map write for mapguard. Both
 * reports must appear, and the status is mapguard's exitcode: the shim's
 * _exit(exitcode) at exit used to skip LSan's exit-time leak check.
 */
#include <gomap.h>

#include <stdint.h>
#include <stdlib.h>

static void *volatile leaked;

int main(void)
{
    leaked = malloc(1234);
    leaked = NULL;
    int64_t k = 1;
    gomap_set(NULL, &k, &k); /* @site:lsan_nil */
    return 0;
}
