/*
 * Overlapping calls for the mapguard tests, made deterministic: a thread
 * parks inside a map call, in the map's hash callback (every keyed call
 * hashes) or its equal callback, until the main thread lets it go. An
 * iterator that started while the map was growing calls equal on the keys
 * of old buckets not yet evacuated, which is how a thread parks inside
 * iter_next. One scenario per run, named by argv[1].
 * Lines the tests look for carry an @site comment.
 */
#include <gomap.h>
#include "scenario.h"
#include <gomap_debug.h>

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>
#include <ucontext.h>
#include <unistd.h>

enum { PARK1 = 1000001, PARK2 = 1000002, SIGNAL = 1000003 };

static sem_t parked1, release1, parked2, release2, inside, ready, go;
static atomic_int arm_p1, arm_p2, arm_sig, arm_eq_park, was_parked;
static gomap *M;

static uint64_t hash_cb(const void *k, size_t n, uint64_t seed)
{
    int64_t v;
    memcpy(&v, k, sizeof v);
    if (v == PARK1 && atomic_exchange(&arm_p1, 0)) {
        sem_post(&parked1);
        sem_wait(&release1);
    }
    if (v == PARK2 && atomic_exchange(&arm_p2, 0)) {
        sem_post(&parked2);
        sem_wait(&release2);
    }
    if (v == SIGNAL && atomic_exchange(&arm_sig, 0))
        sem_post(&inside);
    return gomap_hash_bytes(k, n, seed);
}

static bool equal_cb(const void *a, const void *b, size_t n)
{
    if (atomic_exchange(&arm_eq_park, 0)) {
        sem_post(&parked1);
        sem_wait(&release1);
        atomic_store(&was_parked, 1);
    }
    return memcmp(a, b, n) == 0;
}

/* with_equal: the equal callback too (a map the shim checks more closely:
 * it may hold irreflexive keys, so its writes take the full path). */
static gomap *make_map(bool with_equal)
{
    static const gomap_type plain = {.key_size = 8, .val_size = 8, .hash = hash_cb};
    static const gomap_type eq = {.key_size = 8, .val_size = 8, .hash = hash_cb, .equal = equal_cb};
    gomap *m = gomap_new(with_equal ? &eq : &plain, 0); /* @site:made */
    for (int64_t i = 0; i < 10; i++)
        gomap_set(m, &i, &i);
    return m;
}

/* A map caught in the middle of a doubling growth. */
static gomap *make_growing_map(void)
{
    gomap *m = make_map(true);
    gomapdebug_stats st;
    for (int64_t i = 10; i < 100000; i++) {
        gomap_set(m, &i, &i);
        if (gomapdebug_stats_get(m, &st) && st.growing && !st.same_size_grow && st.B >= 4)
            break;
    }
    return m;
}

static pthread_t start(void *(*fn)(void *), const char *name)
{
    pthread_t t;
    pthread_create(&t, NULL, fn, (void *)name); /* @site:create */
    return t;
}

static void name_self(void *arg) { pthread_setname_np(pthread_self(), arg); }

/* ---- the parties ---- */

static void *set_park1(void *a)
{
    name_self(a);
    int64_t k = PARK1, v = 1;
    gomap_set(M, &k, &v); /* @site:set_park1 */
    return NULL;
}

static void *set_park2(void *a)
{
    name_self(a);
    int64_t k = PARK2, v = 2;
    gomap_set(M, &k, &v); /* @site:set_park2 */
    return NULL;
}

static void *delete_park1(void *a)
{
    name_self(a);
    int64_t k = PARK1;
    gomap_delete(M, &k); /* @site:delete_park1 */
    return NULL;
}

static void *get_park1(void *a)
{
    name_self(a);
    int64_t k = PARK1;
    void *p = gomap_get(M, &k); /* @site:get_park1 */
    return p;
}

static void *get_signal(void *a)
{
    name_self(a);
    int64_t k = SIGNAL;
    void *p = gomap_get(M, &k); /* @site:get_signal */
    return p;
}

static void *lookup_signal(void *a)
{
    name_self(a);
    int64_t k = SIGNAL, v;
    gomap_lookup(M, &k, &v); /* @site:lookup_signal */
    return NULL;
}

static void *set_signal(void *a)
{
    name_self(a);
    int64_t k = SIGNAL, v = 3;
    gomap_set(M, &k, &v); /* @site:set_signal */
    return NULL;
}

static void *assign_signal(void *a)
{
    name_self(a);
    int64_t k = SIGNAL;
    gomap_assign(M, &k); /* @site:assign_signal */
    return NULL;
}

/* Initializes an iterator, then takes one step when told to. */
static void *iterate_once(void *a)
{
    name_self(a);
    gomap_iter it;
    gomap_iter_init(&it, M); /* @site:iter_init */
    sem_post(&ready);
    sem_wait(&go);
    gomap_iter_next(&it, NULL, NULL); /* @site:iter_next */
    return NULL;
}

/* Steps until one step has parked in the equal callback. */
static void *iterate_until_parked(void *a)
{
    name_self(a);
    gomap_iter it;
    gomap_iter_init(&it, M); /* @site:iter_init_grow */
    atomic_store(&arm_eq_park, 1);
    while (!atomic_load(&was_parked))
        if (!gomap_iter_next(&it, NULL, NULL)) /* @site:iter_next_grow */
            break;
    return NULL;
}

static void join(pthread_t t) { pthread_join(t, NULL); }

/* Waits until mapguard has asked the writer inside M for its stack: the
 * REQ bit of the map's sync word (tool word 1, bit 24; see shim/mapstate.h).
 * Releasing the writer only then makes "stack_complete": true certain
 * rather than a matter of timing. Gives up after 10 s. */
static void wait_for_stack_request(void)
{
    const volatile uint64_t *sync = &GOMAP_MAP_TOOL_WORDS(M)[1];
    for (int i = 0; i < 10000 && !(*sync & (1ull << 24)); i++)
        usleep(1000);
}

/* ---- scenarios ---- */

/* A writer is inside; a reader comes in. */
static void rw_writer_first(void)
{
    atomic_store(&arm_p1, 1);
    pthread_t w = start(set_park1, "writer");
    sem_wait(&parked1);
    atomic_store(&arm_sig, 1);
    pthread_t r = start(get_signal, "reader");
    sem_wait(&inside);
    sem_post(&release1);
    join(w);
    join(r);
}

/* Same with lookup as the reader. */
static void rw_lookup(void)
{
    atomic_store(&arm_p1, 1);
    pthread_t w = start(set_park1, "writer");
    sem_wait(&parked1);
    atomic_store(&arm_sig, 1);
    pthread_t r = start(lookup_signal, "reader");
    sem_wait(&inside);
    sem_post(&release1);
    join(w);
    join(r);
}

/* A reader is inside; a writer comes in and is still inside when the
 * reader leaves. */
static void rw_reader_first(void)
{
    atomic_store(&arm_p1, 1);
    pthread_t r = start(get_park1, "reader");
    sem_wait(&parked1);
    atomic_store(&arm_p2, 1);
    pthread_t w = start(set_park2, "writer");
    sem_wait(&parked2);
    sem_post(&release1);
    wait_for_stack_request(); /* the reader found the writer inside */
    sem_post(&release2);
    join(r);
    join(w);
}

/* A reader is inside; a writer comes and goes before the reader leaves. */
static void rw_reader_first_gone(void)
{
    atomic_store(&arm_p1, 1);
    pthread_t r = start(get_park1, "reader");
    sem_wait(&parked1);
    int64_t k = 5, v = 50;
    gomap_set(M, &k, &v); /* @site:main_set */
    sem_post(&release1);
    join(r);
}

/* A writer is inside; another writer comes in. */
static void ww(void)
{
    atomic_store(&arm_p1, 1);
    pthread_t w1 = start(set_park1, "writer1");
    sem_wait(&parked1);
    atomic_store(&arm_sig, 1);
    pthread_t w2 = start(set_signal, "writer2");
    sem_wait(&inside);
    sem_post(&release1);
    join(w1);
    join(w2);
}

/* ww after 16 other threads: the shim keeps the first 16 creation stacks
 * of a process raw, to unwind if a report needs them (stack_saved.c);
 * these two writers' are captured at creation, the other way. */
static void *idle_thread(void *a) { return a; }

static void ww_after_16(void)
{
    for (int i = 0; i < 16; i++)
        join(start(idle_thread, "idle"));
    ww();
}

/* ww from 48 KiB down the main stack: a saved stack keeps the innermost
 * 32 KiB, so the writers' creation stacks lose main but not the calls
 * that created them. */
static void __attribute__((noinline)) deep(int n)
{
    volatile char pad[4096];
    pad[0] = (char)n;
    if (n > 0)
        deep(n - 1);
    else
        ww();
    pad[1] = pad[0];
}

static void ww_deep(void) { deep(12); }

/* ww on a stack of the program's own (makecontext): not one the shim can
 * bound, so the creation stacks are captured at creation instead. */
static ucontext_t uc_main, uc_ww;

static void ww_ucontext(void)
{
    static char stack[256 * 1024];
    getcontext(&uc_ww);
    uc_ww.uc_stack.ss_sp = stack;
    uc_ww.uc_stack.ss_size = sizeof stack;
    uc_ww.uc_link = &uc_main;
    makecontext(&uc_ww, ww, 0);
    swapcontext(&uc_main, &uc_ww);
}

/* The same with other write ops. */
static void ww_ops(void)
{
    atomic_store(&arm_p1, 1);
    pthread_t w1 = start(delete_park1, "deleter");
    sem_wait(&parked1);
    atomic_store(&arm_sig, 1);
    pthread_t w2 = start(assign_signal, "assigner");
    sem_wait(&inside);
    sem_post(&release1);
    join(w1);
    join(w2);
}

/* A writer is inside; an iterator steps. iter_next has no callback here
 * to say it is in, so the writer is let go once the stack was asked for. */
static void iter_writer_first(void)
{
    pthread_t it = start(iterate_once, "ranger");
    sem_wait(&ready);
    atomic_store(&arm_p1, 1);
    pthread_t w = start(set_park1, "writer");
    sem_wait(&parked1);
    sem_post(&go);
    wait_for_stack_request();
    sem_post(&release1);
    join(w);
    join(it);
}

/* An iterator step is inside; a writer comes in and is still inside when
 * the step ends. */
static void iter_first(void)
{
    gomap_free(M);
    M = make_growing_map();
    pthread_t it = start(iterate_until_parked, "ranger");
    sem_wait(&parked1);
    atomic_store(&arm_p2, 1);
    pthread_t w = start(set_park2, "writer");
    sem_wait(&parked2);
    sem_post(&release1);
    wait_for_stack_request();
    sem_post(&release2);
    join(it);
    join(w);
}

/* A reader is inside when the map is freed. */
static void free_during_read(void)
{
    atomic_store(&arm_p1, 1);
    pthread_t r = start(get_park1, "reader");
    sem_wait(&parked1);
    gomap_free(M); /* @site:main_free */
    sem_post(&release1);
    join(r);
    M = NULL;
}

/* The same race between C11 threads. */
static int set_park1_c11(void *a)
{
    set_park1(a);
    return 0;
}

static int set_signal_c11(void *a)
{
    set_signal(a);
    return 0;
}

static void ww_c11(void)
{
    thrd_t w1, w2;
    atomic_store(&arm_p1, 1);
    thrd_create(&w1, set_park1_c11, "c11writer1"); /* @site:thrd_create1 */
    sem_wait(&parked1);
    atomic_store(&arm_sig, 1);
    thrd_create(&w2, set_signal_c11, "c11writer2"); /* @site:thrd_create2 */
    sem_wait(&inside);
    sem_post(&release1);
    thrd_join(w1, NULL);
    thrd_join(w2, NULL);
}

/* Overlapping readers only: nothing to report. */
static void readers_overlap(void)
{
    atomic_store(&arm_p1, 1);
    pthread_t r1 = start(get_park1, "reader1");
    sem_wait(&parked1);
    atomic_store(&arm_sig, 1);
    pthread_t r2 = start(get_signal, "reader2");
    sem_wait(&inside);
    sem_post(&release1);
    join(r1);
    join(r2);
}

/* Many racing rounds at one pair of call sites: one report, the rest
 * folded into the summary's count. */
static void ww_repeat(void)
{
    for (int i = 0; i < 4; i++) {
        atomic_store(&arm_p1, 1);
        pthread_t w1 = start(set_park1, "writer1");
        sem_wait(&parked1);
        atomic_store(&arm_sig, 1);
        pthread_t w2 = start(set_signal, "writer2");
        sem_wait(&inside);
        sem_post(&release1);
        join(w1);
        join(w2);
        int64_t k = PARK1, s = SIGNAL;
        gomap_delete(M, &k);
        gomap_delete(M, &s);
    }
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {
        {"rw_writer_first", rw_writer_first}, {"rw_lookup", rw_lookup},
        {"rw_reader_first", rw_reader_first}, {"rw_reader_first_gone", rw_reader_first_gone},
        {"ww", ww},                           {"ww_ops", ww_ops},
        {"iter_writer_first", iter_writer_first}, {"iter_first", iter_first},
        {"free_during_read", free_during_read}, {"readers_overlap", readers_overlap},
        {"ww_repeat", ww_repeat},             {"ww_c11", ww_c11},
        {"ww_after_16", ww_after_16},         {"ww_deep", ww_deep},
        {"ww_ucontext", ww_ucontext},
    };
    sem_t *sems[] = {&parked1, &release1, &parked2, &release2, &inside, &ready, &go};
    for (size_t i = 0; i < sizeof sems / sizeof sems[0]; i++)
        sem_init(sems[i], 0, 0);
    M = make_map(argc > 2 && !strcmp(argv[2], "equal"));
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    if (M)
        gomap_free(M);
    return 0;
}
