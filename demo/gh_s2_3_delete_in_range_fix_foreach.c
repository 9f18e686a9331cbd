/*
 * §2.3 with GLib, fixed with g_hash_table_foreach_remove: GLib walks the
 * table and removes each entry the callback says TRUE for, the sanctioned
 * way to delete during a traversal.
 */
#include <glib.h>
#include <stdio.h>

static gboolean is_b(gpointer k, gpointer v, gpointer arg)
{
    (void)arg;
    printf("%s %d\n", (const char *)k, GPOINTER_TO_INT(v));
    return g_str_equal(k, "b"); /* TRUE: remove this entry */
}

int main(void)
{
    GHashTable *m = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_insert(m, "a", GINT_TO_POINTER(1));
    g_hash_table_insert(m, "b", GINT_TO_POINTER(2));
    g_hash_table_insert(m, "c", GINT_TO_POINTER(3));

    guint removed = g_hash_table_foreach_remove(m, is_b, NULL);
    guint left = g_hash_table_size(m);
    printf("%u removed, %u entries left\n", removed, left);
    g_hash_table_destroy(m);
    return removed == 1 && left == 2 ? 0 : 1;
}
