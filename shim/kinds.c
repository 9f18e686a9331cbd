/*
 * The kinds table and the ops' classes, from the two lists (kinds.inc,
 * gomap_api.inc). Linked into both shim libraries and the CLI, so each
 * reads the same words.
 */
#include "kinds.h"

#include <string.h>

const struct mg_kind_info mg_kinds[MK_COUNT] = {
#define MG_KIND(ID, kind, message, concurrency, heading, fix, ...) \
    [MK_##ID] = {kind, message, heading, fix, concurrency},
#include "kinds.inc"
};

const char *mg_kind_name(int kind) { return kind >= 0 && kind < MK_COUNT ? mg_kinds[kind].name : "?"; }

int mg_kind_by_name(const char *name)
{
    for (int k = 0; name && k < MK_COUNT; k++)
        if (!strcmp(name, mg_kinds[k].name))
            return k;
    return -1;
}

bool mg_kind_is_concurrency(int kind) { return kind >= 0 && kind < MK_COUNT && mg_kinds[kind].concurrency; }

#define CLASS_READ "read"
#define CLASS_WRITE "write"
#define CLASS_ITER "iteration"
#define CLASS_NONE "creation"

const char *mg_op_class(const char *op)
{
    if (!op)
        return "call";
    /* gomap_free writes the map for the detector, but a report says what
     * the program did: it freed it. */
    if (!strcmp(op, "free"))
        return "free";
#define GOMAP_OP(OP, access, ret, name, params, args, nil) \
    if (!strcmp(op, #name))                                \
        return CLASS_##access;
#include "gomap_api.inc"
    /* GLib's names, where they are not gomap's (the same name is the same class) */
    if (!strcmp(op, "destroy") || !strcmp(op, "unref"))
        return "free";
#define CLASS_COPY CLASS_READ
#define CLASS_FREE "free"
#define GH_FN(OP, access, ret, name, params, args, nil) \
    if (!strcmp(op, #name))                             \
        return CLASS_##access;
#include "ghash_api.inc"
    return "call";
}

/* GLib's tools for GLib's table; a kind GHashTable never has keeps gomap's. */
static const char *const ghash_fix[MK_COUNT] = {
    [MK_READ_WRITE] = "guard every call on this GHashTable with one lock: a GRWLock (reader lock for lookups and "
                      "iteration, writer lock for changes) if reads dominate, else a GMutex.",
    [MK_WRITES] = "guard every call on this GHashTable with one lock (a GMutex, or a GRWLock's writer lock).",
    [MK_ITER_WRITE] = "hold a GRWLock's reader lock (or the GMutex) for the whole iteration and the writer lock for "
                      "every change.",
    [MK_MOD_ITER] = "remove the current entry with g_hash_table_iter_remove, or use g_hash_table_foreach_remove; "
                    "never change the table from a foreach or find callback; or collect the keys and change the "
                    "table after the loop.",
    [MK_USE_AFTER_FREE] = "keep a reference (g_hash_table_ref) for every owner and drop it last; clear the pointer "
                          "when releasing: g_clear_pointer (&table, g_hash_table_unref).",
    [MK_DOUBLE_FREE] = "release each reference exactly once: one g_hash_table_unref (or destroy) per ref, with "
                       "g_clear_pointer (&table, g_hash_table_unref).",
    [MK_IRREFLEXIVE] = "use keys whose equal function says k == k: reject or canonicalize NaN before inserting, "
                       "and make a custom GEqualFunc reflexive.",
    [MK_LEAK] = "release the table with g_hash_table_unref when its owner is done (g_autoptr(GHashTable) does it "
                "at the end of the scope).",
};

const char *mg_kind_fix(int kind, const char *api)
{
    if (kind < 0 || kind >= MK_COUNT)
        return "";
    if (api && !strcmp(api, "ghashtable") && ghash_fix[kind])
        return ghash_fix[kind];
    return mg_kinds[kind].fix;
}
