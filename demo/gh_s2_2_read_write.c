/*
 * §2.2 with GLib: 1000 reads race 1000 writes on one GHashTable, the
 * document's program with GThreads; its sync.WaitGroup becomes
 * g_thread_join.
 *
 *     go func() { defer wg.Done(); for i := 0; i < 1000; i++ { _ = m[i] } }()
 *     go func() { defer wg.Done(); for i := 0; i < 1000; i++ { m[i] = i } }()
 *     wg.Wait()
 *
 * GLib's documentation says a GHashTable is not thread-safe, and nothing
 * enforces it: a lookup that meets an insert's resize follows freed
 * memory. mapguard reports the race as concurrent-read-write with
 * "api": "ghashtable" (see README.md for when it is caught).
 *
 * usage: gh_s2_2_read_write [N]   N reads and N writes (default 1000, the
 *                                 document's count)
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

static GHashTable *m; /* map[int]int */
static int n = 1000;

static gpointer reader(gpointer arg)
{
    (void)arg;
    for (int i = 0; i < n; i++)
        (void)g_hash_table_lookup(m, GINT_TO_POINTER(i)); /* _ = m[i] */
    return NULL;
}

static gpointer writer(gpointer arg)
{
    (void)arg;
    for (int i = 0; i < n; i++)
        g_hash_table_insert(m, GINT_TO_POINTER(i), GINT_TO_POINTER(i)); /* m[i] = i */
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        n = atoi(argv[1]);
    m = g_hash_table_new(g_direct_hash, g_direct_equal); /* m := make(map[int]int) */
    GThread *r = g_thread_new("reader", reader, NULL); /* the names reports show */
    GThread *w = g_thread_new("writer", writer, NULL);
    g_thread_join(r); /* wg.Wait() */
    g_thread_join(w);
    g_hash_table_destroy(m);
    printf("%d reads racing %d writes, and no one noticed\n", n, n);
    return 0;
}
