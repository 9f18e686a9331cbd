/*
 * GLib's GHashTable under the shim, single-threaded: every wrapped
 * function used correctly (scenario "clean"), and each misuse the shim
 * reports. One scenario per run, named by argv[1]; lines the tests look
 * for carry an @site comment.
 */
#include <glib.h>
#include "scenario.h"

#include <math.h>
#include <stdio.h>

#define K(i) GINT_TO_POINTER(i)

static GHashTable *filled(int n)
{
    GHashTable *t = g_hash_table_new(g_direct_hash, g_direct_equal); /* @site:made */
    for (int i = 1; i <= n; i++)
        g_hash_table_insert(t, K(i), K(i));
    return t;
}

static gboolean is_even(gpointer k, gpointer v, gpointer ud)
{
    (void)v, (void)ud;
    return GPOINTER_TO_INT(k) % 2 == 0;
}

static gboolean is_three(gpointer k, gpointer v, gpointer ud)
{
    (void)v, (void)ud;
    return GPOINTER_TO_INT(k) == 3;
}

static void count_one(gpointer k, gpointer v, gpointer ud)
{
    (void)k, (void)v;
    (*(int *)ud)++;
}

/* Every wrapped function GLib 2.74 exports, used as documented. */
static void clean(void)
{
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_insert(t, g_strdup("a"), g_strdup("1"));
    g_hash_table_replace(t, g_strdup("b"), g_strdup("2"));
    g_hash_table_insert(t, g_strdup("a"), g_strdup("1bis")); /* an update, not a new key */
    GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_hash_table_add(set, g_strdup("c"));
    g_hash_table_insert(t, g_strdup("c"), g_strdup("3"));
    gpointer ok, ov;
    int n = 0;
    g_hash_table_foreach(t, count_one, &n);
    printf("size=%u lookup=%s contains=%d extended=%d foreach=%d\n", g_hash_table_size(t),
           (char *)g_hash_table_lookup(t, "a"), g_hash_table_contains(t, "b"),
           g_hash_table_lookup_extended(t, "c", &ok, &ov), n);
    GList *keys = g_hash_table_get_keys(t), *vals = g_hash_table_get_values(t);
    guint len = 0;
    gpointer *arr = g_hash_table_get_keys_as_array(t, &len);
    printf("keys=%u values=%u array=%u\n", g_list_length(keys), g_list_length(vals), len);
    g_list_free(keys);
    g_list_free(vals);
    g_free(arr);
    g_hash_table_remove(t, "c");
    g_hash_table_remove(set, "c");
    g_hash_table_unref(set);
    if (g_hash_table_steal_extended(t, "b", &ok, &ov)) {
        g_free(ok);
        g_free(ov);
    }
    g_hash_table_remove_all(t);
    g_hash_table_destroy(t);

    GHashTable *d = filled(10);
    GHashTable *s = g_hash_table_new_similar(d);
    g_hash_table_insert(s, K(1), K(1));
    printf("find=%d\n", GPOINTER_TO_INT(g_hash_table_find(d, is_three, NULL)));
    printf("foreach_remove=%u foreach_steal=%u\n", g_hash_table_foreach_remove(d, is_even, NULL),
           g_hash_table_foreach_steal(d, is_three, NULL));
    g_hash_table_steal(d, K(1));
    /* an iterator's own removal, replacement and steal are sanctioned */
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, d);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        if (GPOINTER_TO_INT(k) == 5)
            g_hash_table_iter_remove(&it);
        else if (GPOINTER_TO_INT(k) == 7)
            g_hash_table_iter_steal(&it);
        else
            g_hash_table_iter_replace(&it, K(0));
    }
    printf("same=%d left=%u\n", g_hash_table_iter_get_hash_table(&it) == d, g_hash_table_size(d));
    /* a loop left early, then a new one on the same iterator */
    g_hash_table_iter_init(&it, d);
    g_hash_table_iter_next(&it, &k, &v);
    g_hash_table_insert(d, K(100), K(100));
    g_hash_table_iter_init(&it, d);
    while (g_hash_table_iter_next(&it, &k, &v))
        ;
    /* references: the table lives until the last one goes */
    g_hash_table_ref(d);
    g_hash_table_destroy(d); /* empties it and drops one reference */
    g_hash_table_insert(d, K(1), K(1));
    g_hash_table_unref(d);
    g_hash_table_steal_all(s);
    g_hash_table_unref(s);
    GHashTable *dbl = g_hash_table_new(g_double_hash, g_double_equal);
    static double one = 1.0;
    g_hash_table_add(dbl, &one);
    g_hash_table_unref(dbl);
    printf("done\n");
}

static void iter_insert(void)
{
    GHashTable *t = filled(8);
    GHashTableIter it;
    gpointer k;
    int extra = 100;
    g_hash_table_iter_init(&it, t); /* @site:ins_init */
    while (g_hash_table_iter_next(&it, &k, NULL)) { /* @site:ins_next */
        if (extra < 103) {
            g_hash_table_insert(t, K(extra), K(extra)); /* @site:mod_insert */
            extra++;
        }
    }
    g_hash_table_destroy(t);
}

static void iter_remove_other(void)
{
    GHashTable *t = filled(8);
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, t); /* @site:rem_init */
    int removed = 0;
    while (g_hash_table_iter_next(&it, &k, NULL)) { /* @site:rem_next */
        if (!removed) {
            removed = 1;
            int other = GPOINTER_TO_INT(k) == 1 ? 2 : 1;
            g_hash_table_remove(t, K(other)); /* @site:mod_remove */
        }
    }
    g_hash_table_destroy(t);
}

static GHashTable *cb_table;

static void remove_in_foreach(gpointer k, gpointer v, gpointer ud)
{
    (void)v, (void)ud;
    if (GPOINTER_TO_INT(k) == 3)
        g_hash_table_remove(cb_table, k); /* @site:cb_remove */
}

static void foreach_remove_cb(void)
{
    cb_table = filled(8);
    g_hash_table_foreach(cb_table, remove_in_foreach, NULL); /* @site:cb_foreach */
    g_hash_table_destroy(cb_table);
}

static gboolean insert_in_find(gpointer k, gpointer v, gpointer ud)
{
    (void)v, (void)ud;
    if (GPOINTER_TO_INT(k) == 2)
        g_hash_table_insert(cb_table, K(50), K(50)); /* @site:cb_insert */
    return FALSE;
}

static void find_insert_cb(void)
{
    cb_table = filled(4);
    g_hash_table_find(cb_table, insert_in_find, NULL); /* @site:cb_find */
    g_hash_table_destroy(cb_table);
}

static void use_after_destroy(void)
{
    GHashTable *t = filled(4);
    g_hash_table_destroy(t); /* @site:destroyed */
    printf("lookup=%p\n", g_hash_table_lookup(t, K(1))); /* @site:uaf_lookup */
}

static void use_after_unref(void)
{
    GHashTable *t = filled(4);
    g_hash_table_ref(t);
    g_hash_table_unref(t);
    g_hash_table_unref(t); /* @site:last_unref */
    printf("size=%u\n", g_hash_table_size(t)); /* @site:uaf_size */
}

static void iter_after_destroy(void)
{
    GHashTable *t = filled(4);
    g_hash_table_destroy(t);
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, t); /* @site:uaf_iter_init */
    int n = 0;
    while (g_hash_table_iter_next(&it, &k, NULL))
        n++;
    printf("steps=%d\n", n);
}

static void double_destroy(void)
{
    GHashTable *t = filled(4);
    g_hash_table_destroy(t); /* @site:first_destroy */
    g_hash_table_destroy(t); /* @site:second_destroy */
}

static void nan_key(void)
{
    GHashTable *t = g_hash_table_new(g_double_hash, g_double_equal); /* @site:nan_made */
    static double nan_value;
    nan_value = NAN;
    g_hash_table_insert(t, &nan_value, K(1)); /* @site:nan_insert */
    printf("found=%p\n", g_hash_table_lookup(t, &nan_value));
    g_hash_table_destroy(t);
}

static gboolean never_equal(gconstpointer a, gconstpointer b)
{
    (void)a, (void)b;
    return FALSE;
}

static void user_irreflexive(void)
{
    GHashTable *t = g_hash_table_new(g_direct_hash, never_equal);
    g_hash_table_add(t, K(7)); /* @site:irr_add */
    g_hash_table_destroy(t);
}

static GHashTable *kept;

static void leak(void)
{
    kept = g_hash_table_new(g_direct_hash, g_direct_equal); /* @site:leak_made */
    g_hash_table_insert(kept, K(1), K(1));
    g_hash_table_insert(kept, K(2), K(2));
    kept = NULL;
}

/* Every wrapped function that touches a table, on a destroyed one: each is
 * reported (use-after-free, double-free for unref and destroy) and none
 * reaches GLib. */
static void every_op_after_destroy(void)
{
    GHashTable *t = filled(4);
    GHashTableIter it;
    gpointer k, v;
    guint len;
    g_hash_table_iter_init(&it, t);
    g_hash_table_destroy(t);
    int n = 0;
    n += g_hash_table_lookup(t, K(1)) != NULL;
    n += g_hash_table_lookup_extended(t, K(1), &k, &v);
    n += g_hash_table_contains(t, K(1));
    n += (int)g_hash_table_size(t);
    n += g_hash_table_get_keys(t) != NULL;
    n += g_hash_table_get_values(t) != NULL;
    n += g_hash_table_get_keys_as_array(t, &len) != NULL;
    n += g_hash_table_new_similar(t) != NULL;
    n += g_hash_table_insert(t, K(9), K(9));
    n += g_hash_table_replace(t, K(9), K(9));
    n += g_hash_table_add(t, K(9));
    n += g_hash_table_remove(t, K(1));
    n += g_hash_table_steal(t, K(1));
    n += g_hash_table_steal_extended(t, K(1), &k, &v);
    g_hash_table_remove_all(t);
    g_hash_table_steal_all(t);
    g_hash_table_foreach(t, count_one, &n);
    n += g_hash_table_find(t, is_three, NULL) != NULL;
    n += (int)g_hash_table_foreach_remove(t, is_even, NULL);
    n += (int)g_hash_table_foreach_steal(t, is_even, NULL);
    n += g_hash_table_iter_next(&it, &k, &v);
    g_hash_table_iter_remove(&it);
    g_hash_table_iter_replace(&it, K(0));
    g_hash_table_iter_steal(&it);
    n += g_hash_table_iter_get_hash_table(&it) == t; /* does not touch the table */
    GHashTableIter it2;
    g_hash_table_iter_init(&it2, t);
    n += g_hash_table_ref(t) == t;
    g_hash_table_unref(t);
    g_hash_table_destroy(t);
    printf("n=%d\n", n);
}

/* More tables alive at once than the side table tracks (16384), then
 * many short-lived ones: the ones past the bound run unchecked, nothing is
 * reported, and slots are reused once tables leave the quarantine. */
static void many_tables(void)
{
    enum { LIVE = 20000, CYCLES = 100000 };
    static GHashTable *t[LIVE];
    for (int i = 0; i < LIVE; i++) {
        t[i] = g_hash_table_new(g_direct_hash, g_direct_equal);
        g_hash_table_insert(t[i], K(i + 1), K(i));
    }
    unsigned found = 0;
    for (int i = 0; i < LIVE; i++)
        found += g_hash_table_contains(t[i], K(i + 1));
    for (int i = 0; i < LIVE; i++)
        g_hash_table_destroy(t[i]);
    for (int i = 0; i < CYCLES; i++) {
        GHashTable *x = g_hash_table_new(g_direct_hash, g_direct_equal);
        g_hash_table_insert(x, K(1), K(1));
        found += g_hash_table_size(x);
        g_hash_table_unref(x);
    }
    printf("found=%u\n", found);
}

/* The records of all those tables went back to the pool: a table made
 * after them is tracked as the first ones were. */
static void many_tables_then_use_after_destroy(void)
{
    many_tables();
    use_after_destroy();
}

int main(int argc, char **argv)
{
    static const struct scenario scenarios[] = {
        {"clean", clean},
        {"iter_insert", iter_insert},
        {"iter_remove_other", iter_remove_other},
        {"foreach_remove_cb", foreach_remove_cb},
        {"find_insert_cb", find_insert_cb},
        {"use_after_destroy", use_after_destroy},
        {"use_after_unref", use_after_unref},
        {"iter_after_destroy", iter_after_destroy},
        {"double_destroy", double_destroy},
        {"nan_key", nan_key},
        {"user_irreflexive", user_irreflexive},
        {"leak", leak},
        {"many_tables", many_tables},
        {"many_tables_then_use_after_destroy", many_tables_then_use_after_destroy},
        {"every_op_after_destroy", every_op_after_destroy},
    };
    void (*fn)(void) = scenario_find(scenarios, SCENARIO_COUNT(scenarios), argc > 1 ? argv[1] : NULL, argv[0]);
    if (!fn)
        return 2;
    fn();
    return 0;
}
