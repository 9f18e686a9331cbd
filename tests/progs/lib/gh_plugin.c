/*
 * A plugin linked against GLib, dlopen'ed by late_glib.c (which is not):
 * libglib-2.0 arrives after the shim started, and this library's calls
 * reach the shim's wrappers through its PLT.
 */
#include <glib.h>

#include <stdio.h>

int gh_plugin_run(int misuse);

int gh_plugin_run(int misuse)
{
    GHashTable *t = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_insert(t, "a", "1");
    g_hash_table_insert(t, "b", "2");
    int n = (int)g_hash_table_size(t);
    g_hash_table_destroy(t); /* @site:plugin_destroy */
    if (misuse)
        n += g_hash_table_contains(t, "a"); /* @site:plugin_uaf */
    return n;
}
