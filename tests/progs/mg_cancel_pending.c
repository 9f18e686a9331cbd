/*
 * A thread with a cancel pending makes a map call under the program's
 * mutex, with no cancellation point of the program's between its lock and
 * its unlock: the cancel must act after the unlock (at the thread's
 * pthread_testcancel), never inside the map call. Under the shim that
 * call races with a write parked in its hash callback, so the shim waits
 * for the writer's stack (a sleep, a cancellation point, before
 * no_cancel.h) and then reports. Prints whether the mutex was left free;
 * exit status 3 if a thread that is gone still holds it (a held-out
 * probe: such a program then hung in its next lock, 1 run in 30).
 */
#include <gomap.h>
#include "scenario.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static gomap *M;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_int parked, let_go, cancel_sent;
static _Thread_local int parks; /* the writer parks; the reader hashes normally */

static uint64_t hash_cb(const void *k, size_t n, uint64_t seed)
{
    if (parks) {
        atomic_store(&parked, 1);
        while (!atomic_load(&let_go))
            sched_yield(); /* not a cancellation point */
    }
    return gomap_hash_bytes(k, n, seed);
}

static void *writer(void *p)
{
    parks = 1;
    int64_t k = 1;
    gomap_set(M, &k, &k);
    return p;
}

static void *reader(void *p)
{
    while (!atomic_load(&cancel_sent))
        sched_yield();
    pthread_mutex_lock(&mu);
    int64_t k = 1;
    (void)gomap_get(M, &k); /* @site:pending_get */
    pthread_mutex_unlock(&mu);
    pthread_testcancel(); /* the cancel acts here */
    return p;
}

static void locked_get(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8, .hash = hash_cb};
    M = gomap_new(&t, 0);
    pthread_t w, r;
    pthread_create(&w, NULL, writer, NULL);
    while (!atomic_load(&parked))
        sched_yield();
    pthread_create(&r, NULL, reader, NULL);
    pthread_cancel(r);
    atomic_store(&cancel_sent, 1);
    void *how;
    pthread_join(r, &how);
    atomic_store(&let_go, 1);
    pthread_join(w, NULL);
    int free_ = pthread_mutex_trylock(&mu) == 0;
    printf("reader %s, mutex %s\n", how == PTHREAD_CANCELED ? "cancelled" : "returned",
           free_ ? "free" : "held by a thread that is gone");
    if (!free_)
        exit(3);
    pthread_mutex_unlock(&mu);
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {{"locked_get", locked_get}};
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
