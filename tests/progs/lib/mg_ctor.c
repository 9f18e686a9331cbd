/*
 * Loaded by tests/progs/mg_ctor.c with dlopen, whose lock stays held while
 * this constructor runs. MG_CTOR_MODE picks who makes the first report,
 * the first that needs the symbolizer loaded:
 *   self    the constructor itself, on the thread that holds the lock;
 *   thread  a thread the constructor starts and joins, so a dlopen made by
 *           that thread could only finish after the join: never.
 */
#include <gomap.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *worker(void *arg)
{
    int64_t k = 1;
    gomap_set(NULL, &k, &k); /* @site:ctor_thread */
    return arg;
}

__attribute__((constructor)) static void init(void)
{
    const char *mode = getenv("MG_CTOR_MODE");
    int64_t k = 1;
    pthread_t t;
    if (mode && !strcmp(mode, "self"))
        gomap_set(NULL, &k, &k); /* @site:ctor_self */
    else if (mode && !strcmp(mode, "thread") && pthread_create(&t, NULL, worker, NULL) == 0)
        pthread_join(t, NULL);
}
