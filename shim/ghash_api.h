/*
 * What ghash_api.inc generates for the files that need it: GLib's types as
 * far as the wrappers use them (opaque: libmapguard.so is built without
 * GLib's headers and never links GLib), the ops' numbers and names, and
 * the pointers to GLib's real functions (defined with their nil stubs in
 * ghash_intercept.c).
 */
#ifndef MAPGUARD_GHASH_API_H
#define MAPGUARD_GHASH_API_H

#include "ghash_ops.h"
#include "intercept.h"

typedef struct _GHashTable GHashTable;
typedef struct _GHashTableIter GHashTableIter; /* caller-owned, 40 bytes: never read */
typedef struct _GList GList;
typedef struct _GPtrArray GPtrArray;
typedef unsigned (*GHashFunc)(const void *key);
typedef int (*GEqualFunc)(const void *a, const void *b);
typedef void (*GDestroyNotify)(void *data);
typedef void (*GHFunc)(void *key, void *value, void *user_data);
typedef int (*GHRFunc)(void *key, void *value, void *user_data);

enum mg_gh_op {
    MG_GH_OP_FIRST_ = MG_GH_OP_BASE - 1,
#define GH_FN(OP, access, ret, name, params, args, nil) MG_GH_OP_##OP,
#include "ghash_api.inc"
    MG_GH_OP_END_
};

/* What a call does to the table (ghash_api.inc's access column). */
enum mg_gh_access { MG_GH_NONE, MG_GH_READ, MG_GH_COPY, MG_GH_ITER, MG_GH_WRITE, MG_GH_FREE };
static inline enum mg_gh_access mg_gh_op_access(unsigned op)
{
    switch (op) {
#define GH_FN(OP, access, ret, name, params, args, nil)                                                                \
    case MG_GH_OP_##OP:                                                                                            \
        return MG_GH_##access;
#include "ghash_api.inc"
    default:
        return MG_GH_NONE;
    }
}

/* "insert" for MG_GH_OP_INSERT; NULL for a number that is no op. */
const char *mg_gh_op_name(unsigned op);

#define GH_FN(OP, access, ret, name, params, args, nil) MG_DECLARE_REAL(ret, g_hash_table_##name, params);
#include "ghash_api.inc"

/* The equal functions known to be reflexive, found with the real ones
 * (late: without the loader's lock, intercept.h). */
void mg_gh_resolve_known(bool late);

#endif
