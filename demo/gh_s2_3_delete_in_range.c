/*
 * §2.3 with GLib: removing from a GHashTable while iterating over it with
 * a GHashTableIter, the document's loop:
 *
 *     m := map[string]int{"a": 1, "b": 2, "c": 3}
 *     for k, v := range m {
 *         if k == "b" { delete(m, "b") }
 *         fmt.Println(k, v)
 *     }
 *
 * GLib's documentation forbids changing a table while an iterator is live
 * other than through that iterator. GLib itself says at most one
 * GLib-CRITICAL line with no stack, and goes on. mapguard reports the
 * iterator's next step as modified-during-iteration, with both stacks:
 * the step, and the remove made behind its back.
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
            g_hash_table_remove(m, "b"); /* delete(m, "b") inside the range */
        printf("%s %d\n", (const char *)k, GPOINTER_TO_INT(v));
    }
    printf("%u entries left\n", g_hash_table_size(m));
    g_hash_table_destroy(m);
    return 0;
}
