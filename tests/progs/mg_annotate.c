/*
 * A map handed from one thread to another through a C11 atomic flag, which
 * compiles inline and which no preloaded library can see, marked with
 * mapguard_annotate.h and nothing else from mapguard: built as a user
 * would (no link to libmapguard), as a PIE (mg_annotate) and as a non-PIE
 * executable (mg_annotate_nopie), for tests/shim/test_annotate.c.
 *
 *   annotated  the handoff marked with MAPGUARD_HAPPENS_BEFORE/AFTER
 *   plain      the same handoff unmarked: the reader's calls are not
 *              ordered after the writer's by anything mapguard saw
 *
 * The writer has left the map before the flag is set, so the calls never
 * overlap and the outcome is the same on every run. Either way the program
 * prints the same line and exits 0, with or without the shim.
 */
#include <gomap.h>
#include <mapguard_annotate.h>

#include "scenario.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#define KEYS 100

static gomap *M;
static atomic_int ready;
static int annotate;
static int64_t found;

static void *writer(void *p)
{
    for (int64_t i = 0; i < KEYS; i++)
        gomap_set(M, &i, &i); /* @site:write */
    if (annotate)
        MAPGUARD_HAPPENS_BEFORE(&ready);
    atomic_store_explicit(&ready, 1, memory_order_release);
    return p;
}

static void *reader(void *p)
{
    while (!atomic_load_explicit(&ready, memory_order_acquire))
        sched_yield();
    if (annotate)
        MAPGUARD_HAPPENS_AFTER(&ready);
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
    annotate = 1;
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
