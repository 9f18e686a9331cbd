/*
 * bench-compare GLib row: a GHashTable under a GMutex. Two GThreads share
 * one table of KEYS keys; every g_hash_table_lookup (3 in 4) or
 * g_hash_table_insert (1 in 4, an overwrite) is between g_mutex_lock and
 * g_mutex_unlock.
 *
 *   compare_gh_mutex KEYS OPS     (OPS calls per thread)
 *
 * Correctly locked: any report from any tool is a false positive.
 * GLib 2.74's GMutex is an inline atomic and a raw futex, which Helgrind
 * and DRD do not model. Prints the bench-compare result line.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

static GHashTable *table;
static GMutex mu;
static guint keys;
static guint64 ops;

static gpointer worker(gpointer arg)
{
    guint32 x = GPOINTER_TO_UINT(arg) * 2654435761u + 1; /* xorshift32 */
    guint64 found = 0;
    for (guint64 i = 0; i < ops; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        gpointer k = GUINT_TO_POINTER(x % keys + 1);
        g_mutex_lock(&mu);
        if (x & 3)
            found += g_hash_table_lookup(table, k) != NULL;
        else
            g_hash_table_insert(table, k, k);
        g_mutex_unlock(&mu);
    }
    return GSIZE_TO_POINTER(found);
}

int main(int argc, char **argv)
{
    keys = argc > 1 ? (guint)strtoul(argv[1], NULL, 10) : 1000;
    ops = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
    if (keys == 0)
        return 2;
    table = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (guint i = 1; i <= keys; i++)
        g_hash_table_insert(table, GUINT_TO_POINTER(i), GUINT_TO_POINTER(i));
    gint64 t0 = g_get_monotonic_time();
    GThread *a = g_thread_new("worker-a", worker, GUINT_TO_POINTER(1));
    GThread *b = g_thread_new("worker-b", worker, GUINT_TO_POINTER(2));
    gsize found = GPOINTER_TO_SIZE(g_thread_join(a)) + GPOINTER_TO_SIZE(g_thread_join(b));
    gint64 t1 = g_get_monotonic_time();
    printf("workload=gh_mutex ops=%" G_GUINT64_FORMAT " ns=%" G_GINT64_FORMAT " check=%" G_GSIZE_FORMAT "\n",
           2 * ops, (t1 - t0) * 1000, found + g_hash_table_size(table));
    g_hash_table_destroy(table);
    return 0;
}
