/*
 * The map call the calling thread is inside (deadly.c reads it): a race or
 * a use after free that crashes inside libgomap or GLib faults before any
 * check can report, and the deadly-signal record then names the call in
 * flight on the crashing thread ("in_call": api, op, map).
 *
 * One thread-local word, stored once when a checked call enters the
 * library and once when it leaves: the map's address with the op in its
 * top byte (user-space addresses fit in 47 bits; ops are 1 to 255). A
 * signal handler reads it with one load, no lock. A call made from inside
 * another (a hash or equal callback calling into a map, a table changed
 * from its foreach callback) replaces the word and clears the op on
 * leaving: the outer call is not named after that; saving and restoring it
 * would cost a load and a register on every call.
 *
 * Op 0 is "in no call". A gomap call leaves the address of the map's tool
 * words behind with it (a GHashTable call leaves 0): where the thread's
 * next map call will most likely read. An acquire that takes another
 * thread's clock (a lock handed over) prefetches those lines
 * (mg_in_call_prefetch_last): the other thread wrote them last (its calls
 * record their epochs there), and the misses then overlap with the
 * acquire's own on the lock's clock instead of following it. In strict
 * alternation on one map under one mutex, the map call after a handoff
 * went from about 320 to 130 cycles (docs/performance-log.md). The address is
 * only a hint: the map may be freed since, and a prefetch never faults.
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
/* leaving a gomap call: its tool words stay as the hint (op 0) */
static inline void mg_in_call_leave_map(const uint64_t *words)
{
    __atomic_store_n(&mg_self.in_call, (uintptr_t)words, __ATOMIC_RELAXED);
}
static inline bool mg_in_call_busy(void) { return (mg_self.in_call >> MG_IN_CALL_OP_SHIFT) != 0; }

/* The tool words and the header fields gomap reads next to them: the
 * first 128 bytes of the map (gomap_internal.h), on two or three lines. */
static inline void mg_in_call_prefetch_last(void)
{
    uintptr_t w = __atomic_load_n(&mg_self.in_call, __ATOMIC_RELAXED);
    if (w >> MG_IN_CALL_OP_SHIFT || !w)
        return; /* inside a call (its callback's lock), or no gomap call yet */
    __builtin_prefetch((const char *)w);
    __builtin_prefetch((const char *)w + 64);
    __builtin_prefetch((const char *)w + 127);
}

#endif
