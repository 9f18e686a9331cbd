/*
 * A map handed over through a library annotated for other detectors
 * (tests/progs/lib/mg_annotate_weak.c: weak AnnotateHappensBefore/After),
 * linked against it and not against libmapguard, for
 * tests/shim/test_annotate.c:
 *
 *   annotated  through the library's channel: ordered by its annotations
 *   plain      through a flag of the program's own, with no annotation
 *
 * The writer has left the map before the flag is set: no overlap, the same
 * outcome every run, and the same output with or without the shim.
 */
#include <gomap.h>

#include "scenario.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

void chan_send(atomic_int *flag);
void chan_recv(atomic_int *flag);

#define KEYS 100

static gomap *M;
static atomic_int ready;
static int through_lib;
static int64_t found;

static void *writer(void *p)
{
    for (int64_t i = 0; i < KEYS; i++)
        gomap_set(M, &i, &i); /* @site:write */
    if (through_lib)
        chan_send(&ready);
    else
        atomic_store_explicit(&ready, 1, memory_order_release);
    return p;
}

static void *reader(void *p)
{
    if (through_lib)
        chan_recv(&ready);
    else
        while (!atomic_load_explicit(&ready, memory_order_acquire))
            sched_yield();
    for (int64_t i = 0; i < KEYS; i++)
        found += gomap_get(M, &i) != NULL; /* @site:read */
    return p;
}

static void handoff(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8};
    M = gomap_new(&t, 0); /* @site:made */
    pthread_t w, r;
    pthread_create(&r, NULL, reader, NULL);
    pthread_create(&w, NULL, writer, NULL);
    pthread_join(w, NULL);
    pthread_join(r, NULL);
    printf("handed over: %lld of %d keys\n", (long long)found, KEYS);
    gomap_free(M);
}

static void annotated(void)
{
    through_lib = 1;
    handoff();
}

static void plain(void) { handoff(); }

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {{"annotated", annotated}, {"plain", plain}};
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
