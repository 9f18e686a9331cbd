/*
 * Which API a finding's op belongs to. gomap's ops are numbered from 1
 * (gomap_api.inc), GHashTable's from MG_GH_OP_BASE (ghash_api.inc), so a
 * party's op alone tells the two apart: the renderers derive a finding's
 * "api" and the function prefix of its text ("gomap_get",
 * "g_hash_table_lookup") from it, and struct mg_finding needs no field.
 * No dependencies: the symbolizer's library includes it too.
 */
#ifndef MAPGUARD_GHASH_OPS_H
#define MAPGUARD_GHASH_OPS_H

#include <stdbool.h>

#define MG_GH_OP_BASE 64u

static inline bool mg_op_is_ghash(unsigned op) { return op >= MG_GH_OP_BASE; }

/* The finding's "api", from its access party's op. */
static inline const char *mg_op_api(unsigned op) { return mg_op_is_ghash(op) ? "ghashtable" : "gomap"; }

/* The exported function's prefix: op "lookup" is g_hash_table_lookup. */
static inline const char *mg_op_prefix(unsigned op) { return mg_op_is_ghash(op) ? "g_hash_table_" : "gomap_"; }

/* The same from a record's "api" (the CLI and the text renderer read JSON). */
static inline const char *mg_api_prefix(const char *api)
{
    return api && api[0] == 'g' && api[1] == 'h' ? "g_hash_table_" : "gomap_";
}

#endif
