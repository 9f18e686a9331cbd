/*
 * Happens-before across a synchronization made inside a map call: the
 * map's hash function takes and lets go of a mutex, so the thread releases
 * in the middle of its get. The get enters in an epoch its thread already
 * read the map in (the engine is skipped at entry, detect.h), and leaves in
 * a later one: its record must be made on the way out, at the new epoch,
 * or a thread that takes the mutex afterwards would look ordered after the
 * whole get when only the part before the release is.
 *
 * As in mg_hb.c, the racy threads are sequenced with C11 atomics, which
 * the shim cannot see: the calls never overlap, every run. Lines the tests
 * look for carry an @site comment.
 */
#include <gomap.h>
#include "scenario.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>

static gomap *M;
static atomic_int flag;
static pthread_mutex_t L = PTHREAD_MUTEX_INITIALIZER;
static int release_after_get; /* the clean variant: the reader releases L once more after its gets */

static uint64_t locking_hash(const void *key, size_t key_size, uint64_t seed)
{
    pthread_mutex_lock(&L);
    pthread_mutex_unlock(&L);
    return gomap_hash_bytes(key, key_size, seed);
}

static void *reader(void *p)
{
    int64_t k = 1;
    gomap_get(M, &k); /* the thread's first read of M in its epoch */
    gomap_get(M, &k); /* @site:cb_get */
    if (release_after_get) {
        pthread_mutex_lock(&L);
        pthread_mutex_unlock(&L);
    }
    atomic_store_explicit(&flag, 1, memory_order_release);
    return p;
}

static void *writer(void *p)
{
    int64_t k = 2;
    while (!atomic_load_explicit(&flag, memory_order_acquire))
        sched_yield();
    /* takes what the reader released inside its second get: the get's
     * start, not its end */
    pthread_mutex_lock(&L);
    pthread_mutex_unlock(&L);
    gomap_set(M, &k, &k); /* @site:cb_set */
    return p;
}

static gomap *make(const gomap_type *t)
{
    return gomap_new(t, 0); /* @site:made */
}

static void run(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8, .hash = locking_hash};
    M = make(&t);
    int64_t k = 1;
    gomap_set(M, &k, &k);
    pthread_t a, b;
    pthread_create(&a, NULL, reader, NULL);
    pthread_create(&b, NULL, writer, NULL);
    pthread_join(a, NULL);
    pthread_join(b, NULL);
}

static void callback_release_race(void) { run(); }
static void callback_release_clean(void)
{
    release_after_get = 1;
    run();
}

/* ---- a thread made inside a map call ----
 * Main's set calls the map's hash function, which creates a thread: the
 * process had one thread when the set began (the solo path, detect.h,
 * which records nothing), and two before it ended. The child reads the
 * map after the set returned, ordered after it only by a flag the engine
 * cannot see: the part of the set after the creation is not ordered
 * before the read. The clean variant orders them with a mutex. */
static atomic_int spawn_armed, set_done;
static int child_locks;
static pthread_t child;

static void *child_reader(void *p)
{
    if (child_locks) {
        int done = 0;
        while (!done) {
            pthread_mutex_lock(&L);
            done = atomic_load_explicit(&set_done, memory_order_relaxed);
            pthread_mutex_unlock(&L);
            if (!done)
                sched_yield();
        }
    } else {
        while (!atomic_load_explicit(&set_done, memory_order_acquire))
            sched_yield();
    }
    int64_t k = 1;
    gomap_get(M, &k); /* @site:spawned_get */
    return p;
}

static int spawn_from_handler; /* the handler of a signal raised in the call makes the thread */

/* ---- the same, after a call on another map inside the callback ----
 * The hash function gets from M2 (on the solo path too, returned by the
 * time the thread is made), then makes the thread, which writes M2: the
 * get on M2 happened before the creation, so the child's set on M2 is
 * ordered after it. The set on M is still in flight, but the child never
 * touches M. Nothing to report: the solo call recorded at the creation
 * must be the one in flight, not the last one the thread made. */
static gomap *M2;
static int spawn_nested;

static void *child_writer2(void *p)
{
    int64_t k = 7;
    gomap_set(M2, &k, &k);
    return p;
}

static void spawn_child(void)
{
    if (spawn_nested) {
        int64_t k = 7;
        gomap_get(M2, &k);
    }
    if (pthread_create(&child, NULL, spawn_nested ? child_writer2 : child_reader, NULL))
        abort();
}

static void on_usr1(int sig)
{
    (void)sig;
    spawn_child(); /* not async-signal-safe; glibc's works, and programs do it */
}

static uint64_t spawning_hash(const void *key, size_t key_size, uint64_t seed)
{
    if (atomic_exchange(&spawn_armed, 0)) {
        if (spawn_from_handler)
            raise(SIGUSR1);
        else
            spawn_child();
    }
    return gomap_hash_bytes(key, key_size, seed);
}

static void spawn(int locks)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8, .hash = spawning_hash};
    child_locks = locks;
    M = make(&t);
    int64_t k = 1;
    gomap_set(M, &k, &k); /* first call: the solo path from the next one */
    k = 2;
    atomic_store(&spawn_armed, 1);
    gomap_set(M, &k, &k); /* @site:spawning_set */
    pthread_mutex_lock(&L);
    atomic_store_explicit(&set_done, 1, memory_order_release);
    pthread_mutex_unlock(&L);
    pthread_join(child, NULL);
}

static void spawn_in_call_race(void) { spawn(0); }
static void spawn_in_handler_race(void)
{
    spawn_from_handler = 1;
    signal(SIGUSR1, on_usr1);
    spawn(0);
}
static void spawn_in_call_clean(void) { spawn(1); }

/* A map with no callback: its calls take the bare solo path (interpose.c,
 * SOLO_BARE), whose wrapper is gone by the time the call returns. The
 * thread is made by the handler of a fault inside the set (its key is on
 * a page it may not read; the handler makes the page readable, and the
 * set goes on): the creation finds the set on the stack and records it. */
static void *bare_key_page;

static void on_segv(int sig)
{
    (void)sig;
    spawn_child();
    mprotect(bare_key_page, 4096, PROT_READ);
}

static void spawn_in_bare_call_race(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8};
    M = make(&t);
    int64_t k = 1;
    gomap_set(M, &k, &k); /* first call: the solo path from the next one */
    gomap_set(M, &k, &k);
    bare_key_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (bare_key_page == MAP_FAILED)
        abort();
    signal(SIGSEGV, on_segv);
    gomap_set(M, bare_key_page, &k); /* @site:bare_set */
    atomic_store_explicit(&set_done, 1, memory_order_release);
    pthread_join(child, NULL);
}
static void spawn_after_nested_call_clean(void)
{
    static const gomap_type t = {.key_size = 8, .val_size = 8};
    M2 = gomap_new(&t, 0);
    spawn_nested = 1;
    spawn(0);
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {
        {"callback_release_race", callback_release_race},
        {"callback_release_clean", callback_release_clean},
        {"spawn_in_call_race", spawn_in_call_race},
        {"spawn_in_call_clean", spawn_in_call_clean},
        {"spawn_in_handler_race", spawn_in_handler_race},
        {"spawn_after_nested_call_clean", spawn_after_nested_call_clean},
        {"spawn_in_bare_call_race", spawn_in_bare_call_race},
    };
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
