/*
 * §2.2: 1000 reads race 1000 writes on one map; the document's
 * sync.WaitGroup becomes pthread_join.
 *
 *     go func() { defer wg.Done(); for i := 0; i < 1000; i++ { _ = m[i] } }()
 *     go func() { defer wg.Done(); for i := 0; i < 1000; i++ { m[i] = i } }()
 *
 * Go reports "fatal error: concurrent map read and map write" when the two
 * goroutines happen to overlap. So does mapguard: it catches calls that
 * overlap in time. Threads start slower than goroutines, and a sleeping
 * thread may wake after the other has finished, so both spin at a start
 * line until the other is running too, and the program body runs up to 1000
 * times: on a busy machine some round still overlaps, and the first report
 * ends the program (halt_on_error).
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>

#include "gomap.h"

static gomap *m; /* map[int]int */
static atomic_int running;

static void start_line(void)
{
    atomic_fetch_add(&running, 1);
    while (atomic_load(&running) < 2)
        sched_yield(); /* until both threads are running, as goroutines would be */
}

static void *reader(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "reader"); /* the name reports show */
    start_line();
    for (long i = 0; i < 1000; i++)
        (void)gomap_get(m, &i); /* _ = m[i] */
    return NULL;
}

static void *writer(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "writer"); /* the name reports show */
    start_line();
    for (long i = 0; i < 1000; i++)
        gomap_set(m, &i, &i); /* m[i] = i */
    return NULL;
}

int main(void)
{
    gomap_type type = {sizeof(long), sizeof(long), NULL, NULL};
    for (int round = 0; round < 1000; round++) {
        m = gomap_new(&type, 0);
        atomic_store(&running, 0);
        pthread_t r, w;
        pthread_create(&r, NULL, reader, NULL);
        pthread_create(&w, NULL, writer, NULL);
        pthread_join(r, NULL); /* wg.Wait() */
        pthread_join(w, NULL);
        gomap_free(m);
    }
    printf("1000 rounds of 1000 reads racing 1000 writes, and no one noticed\n");
    return 0;
}
