/*
 * bench-compare GLib row: GHashTables handed from one GThread to another
 * through a GAsyncQueue. The producer fills a small table and pushes it;
 * the consumer pops it, reads every key and destroys it. Each table is
 * touched by one thread at a time, and the queue orders the two.
 *
 *   compare_gh_queue ITEMS [KEYS]    (KEYS entries per table, default 8)
 *
 * Correctly synchronized: any report from any tool is a false positive.
 * GAsyncQueue is built on GMutex and GCond (inline atomics and a raw
 * futex), which Helgrind and DRD do not model. Prints the bench-compare
 * result line.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

static guint64 items;
static guint keys = 8;

static gpointer producer(gpointer arg)
{
    GAsyncQueue *q = arg;
    for (guint64 i = 0; i < items; i++) {
        GHashTable *t = g_hash_table_new(g_direct_hash, g_direct_equal);
        for (guint k = 1; k <= keys; k++)
            g_hash_table_insert(t, GUINT_TO_POINTER(k), GUINT_TO_POINTER(k + (guint)i));
        g_async_queue_push(q, t);
    }
    return NULL;
}

static gpointer consumer(gpointer arg)
{
    GAsyncQueue *q = arg;
    guint64 sum = 0;
    for (guint64 i = 0; i < items; i++) {
        GHashTable *t = g_async_queue_pop(q);
        for (guint k = 1; k <= keys; k++)
            sum += GPOINTER_TO_UINT(g_hash_table_lookup(t, GUINT_TO_POINTER(k)));
        g_hash_table_destroy(t);
    }
    return GSIZE_TO_POINTER((gsize)sum);
}

int main(int argc, char **argv)
{
    items = argc > 1 ? strtoull(argv[1], NULL, 10) : 100000;
    if (argc > 2)
        keys = (guint)strtoul(argv[2], NULL, 10);
    GAsyncQueue *q = g_async_queue_new();
    gint64 t0 = g_get_monotonic_time();
    GThread *c = g_thread_new("consumer", consumer, q);
    GThread *p = g_thread_new("producer", producer, q);
    g_thread_join(p);
    gsize sum = GPOINTER_TO_SIZE(g_thread_join(c));
    gint64 t1 = g_get_monotonic_time();
    printf("workload=gh_queue ops=%" G_GUINT64_FORMAT " ns=%" G_GINT64_FORMAT " check=%" G_GSIZE_FORMAT "\n",
           items * (2 * (guint64)keys + 2), (t1 - t0) * 1000, sum);
    g_async_queue_unref(q);
    return 0;
}
