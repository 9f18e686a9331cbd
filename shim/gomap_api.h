/*
 * What gomap_api.inc generates for every file: the ops, their names and
 * what each does to a map, and the pointers to libgomap's real functions
 * (MG_REAL(gomap_get), ...; defined, with their nil stubs, in interpose.c).
 */
#ifndef MAPGUARD_GOMAP_API_H
#define MAPGUARD_GOMAP_API_H

#include "intercept.h"

/* The map operations, as reports name them. Fits in 4 bits (mapstate.h). */
enum mg_op {
    MG_OP_NONE = 0,
#define GOMAP_OP(OP, access, ret, name, params, args, nil) MG_OP_##OP,
#include "gomap_api.inc"
    MG_OP_END
};
const char *mg_op_name(unsigned op);

/* What an op does to the map (gomap_api.inc's access column). */
enum mg_access { MG_ACCESS_NONE, MG_ACCESS_READ, MG_ACCESS_ITER, MG_ACCESS_WRITE };
MG_ALWAYS_INLINE enum mg_access mg_op_access(unsigned op)
{
    switch (op) {
#define GOMAP_OP(OP, access, ret, name, params, args, nil)                                                               \
    case MG_OP_##OP:                                                                                               \
        return MG_ACCESS_##access;
#include "gomap_api.inc"
    default:
        return MG_ACCESS_NONE;
    }
}

#define GOMAP_OP(OP, access, ret, name, params, args, nil) MG_DECLARE_REAL(ret, gomap_##name, params);
#define GOMAP_HELPER(ret, name, params, args, nil) MG_DECLARE_REAL(ret, gomap_##name, params);
#include "gomap_api.inc"

/* Fills the pointers at start; false when libgomap is not loaded. Until
 * it is, they point at stubs that look for it again (interpose.c). */
bool mg_resolve_real(void);

#endif
