/*
 * A plugin linked against GLib, dlopen'ed by mg_late_glib.c, which does not
 * link GLib: libglib arrives after the shim started, and this library's
 * calls to g_mutex_lock reach the shim's wrappers through its PLT, whose
 * real functions are found then (glib_sync.c's late lookup). Two GThreads
 * hand a map over under a GMutex (two = 0: clean) or under two different
 * ones (two = 1: a race), sequenced by an atomic flag the shim cannot see.
 */
#include <gomap.h>
#include <glib.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

static GMutex A, B;
static gomap *M;
static int TWO;
static atomic_int flag;

static gpointer writer(gpointer p)
{
    int64_t k = 1;
    g_mutex_lock(&A);
    gomap_set(M, &k, &k); /* @site:late_set */
    g_mutex_unlock(&A);
    atomic_store(&flag, 1);
    return p;
}

static gpointer reader(gpointer p)
{
    int64_t k = 1;
    GMutex *m = TWO ? &B : &A;
    while (!atomic_load(&flag))
        sched_yield();
    g_mutex_lock(m);
    gomap_get(M, &k); /* @site:late_get */
    g_mutex_unlock(m);
    return p;
}

__attribute__((visibility("default"))) void glib_late_handoff(gomap *m, int two)
{
    M = m;
    TWO = two;
    GThread *a = g_thread_new("writer", writer, NULL), *b = g_thread_new("reader", reader, NULL);
    g_thread_join(a);
    g_thread_join(b);
}
