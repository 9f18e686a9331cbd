/*
 * §2.3 with GLib, fixed with g_hash_table_iter_remove: the iterator
 * removes the entry it just returned, so it knows about the change and the
 * loop goes on safely.
 */
#include <glib.h>
#include <stdio.h>

int main(void)
{
    GHashTable *m = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_insert(m, "a", GINT_TO_POINTER(1));
    g_hash_table_insert(m, "b", GINT_TO_POINTER(2));
    g_hash_table_insert(m, "c", GINT_TO_POINTER(3));

    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, m);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        if (g_str_equal(k, "b"))
            g_hash_table_iter_remove(&it); /* delete through the iterator */
        printf("%s %d\n", (const char *)k, GPOINTER_TO_INT(v));
    }
    guint left = g_hash_table_size(m);
    printf("%u entries left\n", left);
    g_hash_table_destroy(m);
    return left == 2 ? 0 : 1;
}
