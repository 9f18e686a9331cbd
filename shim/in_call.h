/*
 * The map call the calling thread is inside (deadly.c reads it): a race or
 * a use after free that crashes inside libgomap or GLib faults before any
 * check can report, and the deadly-signal record then names the call in
 * flight on the crashing thread ("in_call": api, op, map).
 *
 * One thread-local word, stored once when a checked call enters the
 * library and once (zero) when it leaves: the map's address with the op in
 * its top byte (user-space addresses fit in 47 bits; ops are < 256). A
 * signal handler reads it with one load, no lock. A call made from inside
 * another (a hash or equal callback calling into a map, a table changed
 * from its foreach callback) replaces the word and clears it on leaving:
 * the outer call is not named after that; saving and restoring it would
 * cost a load and a register on every call.
 */
#ifndef MAPGUARD_IN_CALL_H
#define MAPGUARD_IN_CALL_H

#include "thread_table.h"

#define MG_IN_CALL_OP_SHIFT 56

/* the word: mg_self.in_call (thread_table.h) */
static inline void mg_in_call_enter(const void *map, unsigned op)
{
    __atomic_store_n(&mg_self.in_call, (uintptr_t)map | (uintptr_t)op << MG_IN_CALL_OP_SHIFT, __ATOMIC_RELAXED);
}
static inline void mg_in_call_leave(void) { __atomic_store_n(&mg_self.in_call, 0, __ATOMIC_RELAXED); }

#endif
