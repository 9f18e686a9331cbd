/*
 * The lock wrappers' inline fast path into the happens-before engine
 * (sync_intercept.c, glib_sync.c): a lock one thread holds at a time,
 * taken and let go by the same thread with nobody else in between, is
 * decided here without a call (hb_sync.h's hb_lock_acquired_fast and
 * hb_lock_releasing_fast). Anything else returns false and the wrapper
 * calls mg_hb_lock_acquired_slow / mg_hb_lock_releasing_slow (below).
 *
 * A handoff (the lock's clock another thread's, in the entry's inline
 * words) is decided here too, by one out-of-line loop under the recursion
 * guard (hb_sync.h). The rest takes no guard: nothing here blocks, and a
 * signal handler that runs a lock wrapper in the middle can at worst make
 * a tick be taken back that should not be (a race missed, none invented).
 */
#ifndef MAPGUARD_HB_LOCKPATH_H
#define MAPGUARD_HB_LOCKPATH_H

#include "happens_before.h"
#include "hb_sync.h"
#include "thread_table.h"

/* Out of line (happens_before.c): should this acquire leave the inline
 * path while notes are out? */
MG_COLD bool mg_hb_leak_diverts(struct hb_thr *t, const volatile void *addr);

/* A handoff (hb_sync.h), out of line (happens_before.c): the inline paths
 * then keep nothing live across a call of their own, so a lock wrapper
 * saves no more registers than its real call needs. True when done. */
bool mg_hb_lock_take_handoff(struct hb_thr *t);
bool mg_hb_lock_give_handoff(struct hb_thr *t, const volatile void *addr);

static inline bool mg_hb_lock_acquired_inline(const volatile void *addr)
{
    struct hb_thr *t = mg_self.hb_ready;
    if (MG_UNLIKELY(t == NULL) || MG_UNLIKELY(mg_self.busy))
        return false;
    /* while a signal handler's release is noted (hb_clock.h), an acquire
     * of the noted object goes the full way, which takes the noting
     * thread's clock, and so does any acquire by the noting thread, which
     * settles its notes there */
    if (MG_UNLIKELY(__atomic_load_n(&hb_leaks_out, __ATOMIC_RELAXED)) && mg_hb_leak_diverts(t, addr))
        return false;
    int r = hb_lock_acquired_check(t, (uintptr_t)addr);
    if (MG_LIKELY(r == 0))
        return true;
    if (r == 1) { /* back in its epoch: the map hooks may skip again */
        mg_self.hb_epoch = t->cur;
        return true;
    }
    return r == HB_LOCK_HANDOFF && mg_hb_lock_take_handoff(t);
}

static inline bool mg_hb_lock_releasing_inline(const volatile void *addr)
{
    struct hb_thr *t = mg_self.hb_ready;
    if (MG_UNLIKELY(t == NULL) || MG_UNLIKELY(mg_self.busy))
        return false;
    int r = hb_lock_releasing_check(t, (uintptr_t)addr);
    if (MG_LIKELY(r == 1)) {
        mg_self.hb_epoch = MG_HB_EPOCH_NONE;
        return true;
    }
    return r == HB_LOCK_HANDOFF && mg_hb_lock_give_handoff(t, addr);
}

/* The full paths, when the inline one declines (happens_before.c). */
MG_COLD void mg_hb_lock_acquired_slow(const volatile void *addr);
MG_COLD void mg_hb_lock_releasing_slow(const volatile void *addr);

/* What the wrappers call, once the engine is awake. */
#define MG_HB_LOCK_ACQUIRED(m)                                                                                     \
    do {                                                                                                           \
        if (!mg_hb_lock_acquired_inline(m))                                                                        \
            mg_hb_lock_acquired_slow(m);                                                                           \
    } while (0)
#define MG_HB_LOCK_RELEASING(m)                                                                                    \
    do {                                                                                                           \
        if (!mg_hb_lock_releasing_inline(m))                                                                       \
            mg_hb_lock_releasing_slow(m);                                                                          \
    } while (0)

#endif
