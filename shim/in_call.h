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
 * The solo path (detect.h: a process that never had a second thread) does
 * not clear the word: its wrapper jumps to the real function and is not
 * there when it returns, so that a call costs that process a few
 * instructions and no stack frame (the 1M-key mixed loop: about 1.07x
 * through it against 1.16x with a frame and an exit, in one process).
 * Such a word carries MG_IN_CALL_SOLO and the call's return address
 * (mg_self.in_call_ra): the call is in flight only while a run of
 * libgomap frames on the thread's stack returns there, which the few that
 * need to know (a crash record, the second thread's creation) find by
 * unwinding (mg_stack_gomap_exit).
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
/* a solo call's word: left behind when the call returns */
#define MG_IN_CALL_SOLO ((uintptr_t)1 << 55)

/* the word: mg_self.in_call (thread_table.h) */
static inline void mg_in_call_enter(const void *map, unsigned op)
{
    __atomic_store_n(&mg_self.in_call, (uintptr_t)map | (uintptr_t)op << MG_IN_CALL_OP_SHIFT, __ATOMIC_RELAXED);
}
/* A call on the solo path, with its return address: flags, the word that
 * its exit will not clear (MG_IN_CALL_SOLO), or 0 for one that will. */
static inline void mg_in_call_enter_solo(const void *map, unsigned op, uintptr_t ra, uintptr_t flags)
{
    mg_self.in_call_ra = ra;
    __atomic_store_n(&mg_self.in_call, (uintptr_t)map | (uintptr_t)op << MG_IN_CALL_OP_SHIFT | flags,
                     __ATOMIC_RELAXED);
}
static inline unsigned mg_in_call_op(uintptr_t word) { return (unsigned)(word >> MG_IN_CALL_OP_SHIFT); }
static inline uintptr_t mg_in_call_map(uintptr_t word) { return word & (MG_IN_CALL_SOLO - 1); }
static inline void mg_in_call_leave(void) { __atomic_store_n(&mg_self.in_call, 0, __ATOMIC_RELAXED); }
/* leaving a gomap call: its tool words stay as the hint (op 0) */
static inline void mg_in_call_leave_map(const uint64_t *words)
{
    __atomic_store_n(&mg_self.in_call, (uintptr_t)words, __ATOMIC_RELAXED);
}

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
