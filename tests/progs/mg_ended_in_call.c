/*
 * A thread that ends inside a map write: its hash callback calls
 * pthread_exit ("exit"), or parks at a cancellation point until main
 * cancels the thread ("cancel"). The write never returns, and the map is
 * left as the library left it (the callback runs before the write changes
 * anything). After the join, main and a second thread use the map under
 * one mutex: a clean program, which must print what it prints without the
 * shim and report nothing, quickly (a writer mark left behind made every
 * later call look like it overlapped that write, each report waiting for
 * the ended thread's stack). A thread that leaves the write with
 * longjmp and lives on is not covered (docs/design-detector.md).
 */
#include <gomap.h>
#include "scenario.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DOOMED_KEY = 13 };

static gomap *M;
static pthread_mutex_t L = PTHREAD_MUTEX_INITIALIZER;
static atomic_int inside;
static sem_t never;
static int how; /* 0: pthread_exit, 1: park for a cancel */
static _Thread_local int doomed; /* the writer that ends; the others hash normally */

static uint64_t hash_cb(const void *k, size_t n, uint64_t seed)
{
    int64_t key;
    memcpy(&key, k, sizeof key);
    if (doomed && key == DOOMED_KEY) {
        atomic_store(&inside, 1);
        if (how == 0)
            pthread_exit(NULL);
        for (;;)
            sem_wait(&never); /* a cancellation point */
    }
    return gomap_hash_bytes(k, n, seed);
}

static void *doomed_writer(void *p)
{
    int64_t k = DOOMED_KEY;
    doomed = 1;
    gomap_set(M, &k, &k);
    return p;
}

static void *locked_worker(void *p)
{
    for (int64_t i = 0; i < 200; i++) {
        pthread_mutex_lock(&L);
        gomap_set(M, &i, &i);
        pthread_mutex_unlock(&L);
    }
    return p;
}

static void run(int h)
{
    how = h;
    sem_init(&never, 0, 0);
    static const gomap_type t = {.key_size = 8, .val_size = 8, .hash = hash_cb};
    M = gomap_new(&t, 0);
    pthread_t d;
    pthread_create(&d, NULL, doomed_writer, NULL);
    while (!atomic_load(&inside))
        sched_yield();
    if (h == 1)
        pthread_cancel(d);
    pthread_join(d, NULL);
    pthread_t w;
    pthread_create(&w, NULL, locked_worker, NULL);
    for (int64_t i = 0; i < 200; i++) {
        pthread_mutex_lock(&L);
        (void)gomap_get(M, &i);
        pthread_mutex_unlock(&L);
    }
    pthread_join(w, NULL);
    printf("len %zu\n", gomap_len(M));
    gomap_free(M);
}

static void exit_(void) { run(0); }
static void cancel(void) { run(1); }

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {{"exit", exit_}, {"cancel", cancel}};
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
