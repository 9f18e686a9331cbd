/*
 * A crash inside a GHashTable call: the table's hash function faults (a
 * NULL dereference) for key 13, as a table corrupted by a concurrent
 * insert, or used after destroy, faults inside GLib. The deadly-signal
 * record must name the call in flight ("in_call": api ghashtable, the op,
 * the table). argv[1]: "insert" or "lookup". The table's address is
 * printed first, so the test can compare it.
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int *volatile nowhere;

static guint hash_cb(gconstpointer k)
{
    if (GPOINTER_TO_UINT(k) == 13)
        return (guint)*nowhere; /* @site:fault */
    return g_direct_hash(k);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    GHashTable *t = g_hash_table_new(hash_cb, NULL);
    g_hash_table_insert(t, GUINT_TO_POINTER(1), GUINT_TO_POINTER(2));
    printf("map=%p\n", (void *)t);
    fflush(stdout);
    if (!strcmp(argv[1], "insert"))
        g_hash_table_insert(t, GUINT_TO_POINTER(13), GUINT_TO_POINTER(2)); /* @site:insert */
    else
        printf("%p\n", g_hash_table_lookup(t, GUINT_TO_POINTER(13))); /* @site:lookup */
    g_hash_table_unref(t);
    return 0;
}
