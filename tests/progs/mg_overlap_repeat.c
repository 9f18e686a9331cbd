/*
 * One pair of call sites found overlapping twice: two reads at the same
 * line while a write is parked in its hash callback. Between the two, a
 * second writer comes in and leaves its own site in the map's last-write
 * word, so the second read knows the parked write's thread but not its
 * site until the writer hands over its stack. Both reads are the same
 * finding (the same kind at the same two call sites): one record, and a
 * repeat in the summary. Before mg_report_rekey, the log had it twice.
 * Each step waits for the previous one's thread to be inside the library
 * (its hash callback), so the interleaving never depends on timing.
 */
#include <gomap.h>
#include "scenario.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

static gomap *M;
static atomic_int stage;         /* how many threads have reached their callback */
static atomic_int let_go;        /* the parked writer may leave */
static _Thread_local int parker; /* the first writer parks in its callback */

static void wait_stage(int n)
{
    while (atomic_load(&stage) < n)
        sched_yield();
}

static uint64_t hash_cb(const void *k, size_t n, uint64_t seed)
{
    int64_t key;
    memcpy(&key, k, sizeof key);
    if (key >= 100) { /* a key of the scenario's, not one of the prefill */
        atomic_fetch_add(&stage, 1);
        if (parker)
            while (!atomic_load(&let_go))
                sched_yield();
    }
    return gomap_hash_bytes(k, n, seed);
}

static void *parked_writer(void *p)
{
    parker = 1;
    int64_t k = 100;
    gomap_set(M, &k, &k); /* @site:parked_set */
    return p;
}

static void *reader(void *p)
{
    int64_t k = 101;
    (void)gomap_get(M, &k); /* @site:reader_get */
    return p;
}

static void *second_writer(void *p)
{
    int64_t k = 102;
    gomap_set(M, &k, &k); /* @site:second_set */
    return p;
}

static void two_reads_one_finding(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8, .hash = hash_cb};
    M = gomap_new(&t, 0);
    for (int64_t k = 0; k < 10; k++) /* a read of an empty map hashes nothing */
        gomap_set(M, &k, &k);
    pthread_t w, r1, w2, r2;
    pthread_create(&w, NULL, parked_writer, NULL);
    wait_stage(1);
    pthread_create(&r1, NULL, reader, NULL);
    wait_stage(2);
    pthread_create(&w2, NULL, second_writer, NULL);
    wait_stage(3);
    pthread_create(&r2, NULL, reader, NULL);
    wait_stage(4);
    atomic_store(&let_go, 1);
    pthread_join(w, NULL);
    pthread_join(r1, NULL);
    pthread_join(w2, NULL);
    pthread_join(r2, NULL);
    printf("len %zu\n", gomap_len(M));
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {{"two_reads_one_finding", two_reads_one_finding}};
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
