/*
 * A read/write overlap that happens on every run, for the mapguard CLI tests:
 * a writer thread parks inside gomap_set (its hash callback blocks until
 * released) while the main thread reads the same map. The detector must
 * report it whichever call it catches first; the test only needs it to be
 * there, every time, with no sleeps to tune.
 */
#ifndef CLI_RACE_H
#define CLI_RACE_H

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gomap.h"

static sem_t cli_inside, cli_go;
static int cli_park_key = -1;

/* Bounded waits: a broken detector must fail the test, not hang it. */
static void cli_sem_wait(sem_t *s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 5;
    while (sem_timedwait(s, &ts) != 0 && errno == EINTR)
        ;
}

static uint64_t cli_hash(const void *key, size_t size, uint64_t seed)
{
    int k;
    (void)size;
    memcpy(&k, key, sizeof k);
    if (k == __atomic_load_n(&cli_park_key, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&cli_park_key, -1, __ATOMIC_RELEASE);
        sem_post(&cli_inside); /* the writer is now inside gomap_set */
        cli_sem_wait(&cli_go);
    }
    return ((uint64_t)(unsigned)k * 0x9E3779B97F4A7C15ull) ^ seed;
}

static bool cli_equal(const void *a, const void *b, size_t n)
{
    return memcmp(a, b, n) == 0;
}

static void *cli_writer(void *arg)
{
    gomap *m = arg;
    int k = 1, v = 10;
    pthread_setname_np(pthread_self(), "writer");
    gomap_set(m, &k, &v); /* parks in cli_hash */
    return NULL;
}

__attribute__((noinline)) static int cli_reader_step(gomap *m)
{
    int k = 2;
    return gomap_get(m, &k) != NULL; /* overlaps the parked gomap_set */
}

/* Runs one overlap; returns what the read saw (always 1). */
static int cli_race(void)
{
    gomap_type t = {sizeof(int), sizeof(int), cli_hash, cli_equal};
    gomap *m = gomap_new(&t, 0);
    int k = 2, v = 20;
    gomap_set(m, &k, &v);
    sem_init(&cli_inside, 0, 0);
    sem_init(&cli_go, 0, 0);
    __atomic_store_n(&cli_park_key, 1, __ATOMIC_RELEASE);
    pthread_t th;
    pthread_create(&th, NULL, cli_writer, m);
    cli_sem_wait(&cli_inside);
    int seen = cli_reader_step(m);
    sem_post(&cli_go);
    pthread_join(th, NULL);
    gomap_free(m);
    return seen;
}

#endif
