/*
 * bench-compare GLib row: the racy one. Two GThreads insert into one
 * GHashTable with no lock at all, each its own keys, so the table grows
 * (and resizes) under both. Every tool should report it.
 *
 *   compare_gh_race KEYS     (KEYS inserts per thread)
 *
 * Without a detector the table may be corrupted, and the process may
 * crash inside GLib. Prints the bench-compare result line when it
 * survives.
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

static GHashTable *table;
static guint keys;

static gpointer writer(gpointer arg)
{
    guint first = GPOINTER_TO_UINT(arg);
    for (guint i = 0; i < keys; i++) {
        gpointer k = GUINT_TO_POINTER(2 * i + first);
        g_hash_table_insert(table, k, k); /* no lock */
    }
    return NULL;
}

int main(int argc, char **argv)
{
    keys = argc > 1 ? (guint)strtoul(argv[1], NULL, 10) : 100000;
    table = g_hash_table_new(g_direct_hash, g_direct_equal);
    gint64 t0 = g_get_monotonic_time();
    GThread *a = g_thread_new("writer-a", writer, GUINT_TO_POINTER(1));
    GThread *b = g_thread_new("writer-b", writer, GUINT_TO_POINTER(2));
    g_thread_join(a);
    g_thread_join(b);
    gint64 t1 = g_get_monotonic_time();
    printf("workload=gh_race ops=%u ns=%" G_GINT64_FORMAT " check=%u\n", 2 * keys, (t1 - t0) * 1000,
           g_hash_table_size(table));
    g_hash_table_destroy(table);
    return 0;
}
