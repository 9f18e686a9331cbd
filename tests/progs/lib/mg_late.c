/*
 * Linked against libgomap, and loaded with dlopen by tests/progs/mg_late.c,
 * which is not: libgomap arrives after the shim has started. Its map calls
 * go through its own PLT, where the preloaded wrappers come first.
 * MG_LATE_CTOR picks work for the constructor, run while dlopen holds the
 * loader's lock:
 *   self    the constructor fills a map itself;
 *   thread  a thread the constructor starts and joins fills it, so a thread
 *           that waited for the loader's lock would never finish.
 */
#include <gomap.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const gomap_type I64 = {.key_size = 8, .val_size = 8};

/* Prints what a correct program prints: map=ok len=N. */
void mg_late_fill(int n)
{
    gomap *m = gomap_new(&I64, 0); /* @site:late_new */
    int failures = 0;
    for (int64_t i = 0; i < n; i++)
        if (gomap_set(m, &i, &i) != 0)
            failures++;
    if (!m || failures)
        printf("map=%s set_failures=%d\n", m ? "ok" : "NULL", failures);
    else
        printf("map=ok len=%zu\n", gomap_len(m));
    fflush(stdout);
    gomap_free(m);
}

/* A use after free: only found if the map was made through the wrapper. */
void mg_late_use_after_free(void)
{
    gomap *m = gomap_new(&I64, 0);
    int64_t k = 1;
    gomap_set(m, &k, &k);
    gomap_free(m); /* @site:late_free */
    printf("len after free=%zu\n", gomap_len(m)); /* @site:late_uaf */
}

static void *worker(void *arg)
{
    mg_late_fill(100);
    return arg;
}

__attribute__((constructor)) static void init(void)
{
    const char *mode = getenv("MG_LATE_CTOR");
    pthread_t t;
    if (mode && !strcmp(mode, "self"))
        mg_late_fill(100);
    else if (mode && !strcmp(mode, "thread") && pthread_create(&t, NULL, worker, NULL) == 0)
        pthread_join(t, NULL);
}
