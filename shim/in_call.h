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
 * On the solo path (detect.h: a process that never had a second thread),
 * a call on a map whose type has no callback of the program's (hash,
 * equal) is "bare": its wrapper jumps to the real function and is not
 * there when it returns, so that such a call costs that process a few
 * instructions and no stack frame (the 1M-key mixed loop: about 1.09x in
 * one process, against 1.16x-1.19x with a frame and an exit). Its word is not
 * cleared: it carries MG_IN_CALL_SOLO, and mg_self.in_call_cfa the
 * wrapper's canonical frame address, the stack pointer of the program's
 * frame once the call returns. The call is in flight only while a run of
 * libgomap frames on the thread's stack returns to a frame with that stack
 * pointer; the two readers that must know (a crash record, the process's
 * second thread made from a signal handler that interrupted the call)
 * find out by unwinding (stack.h, mg_stack_gomap_in_flight). A call made
 * later, from deeper in the stack, that returned, has a lower address; one
 * made from the same frame overwrites the word.
 *
 * The other solo calls (a map with a callback, an iteration step) keep an
 * exit, which clears the word; MG_IN_CALL_SOLO_EXIT marks them, so that a
 * thread made while one is in flight has that exit record the call
 * (interpose.c, SOLO_EXIT).
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
/* a bare solo call's word, left behind when the call returns */
#define MG_IN_CALL_SOLO ((uintptr_t)1 << 55)
/* a solo call with an exit of its own */
#define MG_IN_CALL_SOLO_EXIT ((uintptr_t)1 << 54)

/* the word: mg_self.in_call (thread_table.h) */
static inline void mg_in_call_enter(const void *map, unsigned op)
{
    __atomic_store_n(&mg_self.in_call, (uintptr_t)map | (uintptr_t)op << MG_IN_CALL_OP_SHIFT, __ATOMIC_RELAXED);
}
/* A bare solo call, cfa its wrapper's __builtin_dwarf_cfa(). */
static inline void mg_in_call_enter_bare(const void *map, unsigned op, uintptr_t cfa)
{
    mg_self.in_call_cfa = cfa;
    __atomic_store_n(&mg_self.in_call, (uintptr_t)map | (uintptr_t)op << MG_IN_CALL_OP_SHIFT | MG_IN_CALL_SOLO,
                     __ATOMIC_RELAXED);
}
/* A solo call with an exit. */
static inline void mg_in_call_enter_solo(const void *map, unsigned op)
{
    __atomic_store_n(&mg_self.in_call, (uintptr_t)map | (uintptr_t)op << MG_IN_CALL_OP_SHIFT | MG_IN_CALL_SOLO_EXIT,
                     __ATOMIC_RELAXED);
}
static inline unsigned mg_in_call_op(uintptr_t word) { return (unsigned)(word >> MG_IN_CALL_OP_SHIFT); }
static inline uintptr_t mg_in_call_map(uintptr_t word) { return word & (MG_IN_CALL_SOLO_EXIT - 1); }
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
