/*
 * Ordering of GHashTable calls when libglib-2.0 arrives by dlopen after
 * start: this program does not link GLib. It dlopens libglib-2.0.so.0
 * and finds GLib's functions with dlsym(RTLD_DEFAULT), which, as a PLT
 * would, yields the preloaded shim's wrappers first.
 *
 * The worker thread is created before GLib is loaded (the engine is off
 * then, so its record is made lazily). It inserts into the table; then the
 * main thread looks the key up. The two calls are sequenced with C11
 * atomics the shim cannot see, so they never overlap in time:
 *
 *   late_glib_hb race    no synchronization the shim sees: one
 *                        concurrent-read-write, evidence "unordered"
 *   late_glib_hb mutex   both calls under one GMutex: no finding
 */
#include "scenario.h"

#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef void *(*new_fn)(unsigned (*)(const void *), int (*)(const void *, const void *));
typedef int (*insert_fn)(void *, void *, void *);
typedef void *(*lookup_fn)(void *, const void *);
typedef void (*unref_fn)(void *);
typedef void (*mutex_fn)(void *);

static struct {
    new_fn new_;
    insert_fn insert;
    lookup_fn lookup;
    unref_fn unref;
    mutex_fn lock, unlock;
    unsigned (*direct_hash)(const void *);
} G;

/* GLib's GMutex: a union of a pointer and two unsigned ints, zero is unlocked */
static union {
    void *p;
    unsigned i[2];
} mu;

static int use_mutex;
static void *_Atomic table;
static atomic_int inserted;

static void *resolve(const char *name)
{
    void *f = dlsym(RTLD_DEFAULT, name);
    if (!f) {
        printf("dlsym %s: %s\n", name, dlerror());
        exit(3);
    }
    return f;
}

static void *worker(void *arg)
{
    (void)arg;
    void *t;
    while (!(t = atomic_load(&table)))
        sched_yield();
    if (use_mutex)
        G.lock(&mu);
    G.insert(t, (void *)(uintptr_t)7, (void *)(uintptr_t)42); /* @site:insert */
    if (use_mutex)
        G.unlock(&mu);
    atomic_store(&inserted, 1);
    return NULL;
}

static void run(int with_mutex)
{
    use_mutex = with_mutex;
    pthread_t th;
    pthread_create(&th, NULL, worker, NULL); /* before GLib is there */
    if (!dlopen("libglib-2.0.so.0", RTLD_NOW | RTLD_GLOBAL)) {
        printf("dlopen: %s\n", dlerror());
        exit(3);
    }
    G.new_ = (new_fn)resolve("g_hash_table_new");
    G.insert = (insert_fn)resolve("g_hash_table_insert");
    G.lookup = (lookup_fn)resolve("g_hash_table_lookup");
    G.unref = (unref_fn)resolve("g_hash_table_unref");
    G.lock = (mutex_fn)resolve("g_mutex_lock");
    G.unlock = (mutex_fn)resolve("g_mutex_unlock");
    G.direct_hash = (unsigned (*)(const void *))resolve("g_direct_hash");
    void *t = G.new_(G.direct_hash, NULL); /* @site:made */
    atomic_store(&table, t);
    while (!atomic_load(&inserted))
        sched_yield();
    if (use_mutex)
        G.lock(&mu);
    void *v = G.lookup(t, (void *)(uintptr_t)7); /* @site:lookup */
    if (use_mutex)
        G.unlock(&mu);
    atomic_store(&inserted, 2);
    pthread_join(th, NULL);
    G.unref(t);
    printf("found=%d\n", (int)(uintptr_t)v);
}

static void race(void) { run(0); }
static void mutex(void) { run(1); }

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {{"race", race}, {"mutex", mutex}};
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
