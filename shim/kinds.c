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
