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

/* ---- a thread's own default mutex, by one compare ----
 *
 * The commonest lock of all is a default mutex one thread takes and lets
 * go over and over with nobody in between: a worker with its own mutex
 * and map, each operation a lock, a map call and an unlock (mutex2 in
 * docs/performance.md). The paths above find the lock's entry through the
 * thread's last one (t->lk), test the thread's state, and the wrapper
 * reads the mutex's kind. For this case the mutex wrappers remember the
 * mutex, its entry and the thread's state count (hb_thr.sgen) across the
 * pair (mg_self.own_*, thread_table.h): made only for a default mutex,
 * only outside the shim, and only when the state passes the tests that
 * hb_lock_acquired_check and hb_lock_releasing_check make. While the count
 * is unchanged that state is too, since every change of the thread's
 * epoch, clock or releases since its tick counts first (hb_clock.h,
 * hb_thr_changing). What else may change is the lock's clock, by another
 * thread that took the lock after this one let it go: the relock tests
 * it. While the thread holds it, nobody else can release into it. A stale
 * hint fails a test and the wrapper takes the general path.
 *
 * Unlike the general path these do not test the guard: a hint is never
 * made for a lock the shim takes inside itself, and a signal handler that
 * interrupts the engine halfway through a change finds the count moved.
 * They do test the record: a hint can outlive it, made by a wrapper that
 * a handler interrupted while the thread's end took the record away (a
 * handler's lock in that window crashed on a null record, 5 runs of 40
 * of mg_signal_handler_calls' lock_storm). */

/* After the general path took (held) or let go of the default mutex m:
 * what the next one-compare path will trust. Taken: the state of
 * hb_lock_releasing_check's "nothing to store" (no release since the
 * tick). Let go: that of hb_lock_acquired_check's "back in its epoch"
 * (m the one release since the tick), less the lock's clock, which the
 * relock tests. */
static inline void mg_hb_own_remember(const void *m, bool held)
{
    struct hb_thr *t = mg_self.hb_ready;
    mg_self.own_mutex = 0;
    if (t == NULL || mg_self.busy)
        return;
    /* The count is read before the state it vouches for: a signal handler
     * that moves the state after the tests below moves the count past it.
     * Read after them, it vouched for the handler's state too (a held-out
     * probe's handler posted a semaphore and read a map, a tick, between
     * the tests and the read: the unlock then stored nothing, the lock's
     * clock missed the writes made in the new epoch, and the next holder's
     * write was reported, about 1 run in 800). */
    uint32_t sgen = HB_LD(t->sgen);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    const struct hb_sync_entry *e = t->lk;
    bool since_tick = held ? !t->nrehold : t->nrehold == 1 && t->rehold[0] == (uintptr_t)m;
    if (HB_LD(e->key) == (uintptr_t)m && since_tick && __atomic_load_n(&e->rel, __ATOMIC_ACQUIRE) == t->cur &&
        HB_LD(e->relgen) == t->vgen) {
        mg_self.own_entry = e;
        mg_self.own_sgen = sgen;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        mg_self.own_mutex = held ? MG_OWN_HELD(m) : MG_OWN_RELEASED(m);
        /* a handler's own mutex between the stores left its entry and
         * count in place of these: the hint would pair m with them */
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        if (MG_UNLIKELY(mg_self.own_entry != e || mg_self.own_sgen != sgen))
            mg_self.own_mutex = 0;
    }
}

/* Both paths below read the hint's entry and count before the hint
 * itself. A signal handler whose own mutex makes a hint in between leaves
 * the hint naming its mutex, and the test fails; one that runs after the
 * hint passed moves the thread's count past the one read, or leaves the
 * state the count vouches for as it found it. Read the other way round,
 * a handler that ran after the hint's test left its own mutex's entry and
 * count to be trusted for m: with the handler taking and letting go a
 * mutex of its own at every instruction of a lock, a map write and an
 * unlock (mg_signal_sweep own_mutex), a relock in 16 places skipped the
 * other thread's clock and its write was reported. */

/* Whether the real lock of m, the mutex this thread let go last
 * (MG_OWN_RELEASED), put it back in its epoch: true when no other thread
 * took the mutex since (its clock is still this thread's at this epoch).
 * The hint is read after the real lock: a handler that ran while the lock
 * blocked may have left a hint of its own (a held-out probe's program was
 * reported 20 runs of 20 when the one before the lock was trusted). The
 * entry's key is tested too: a handler that ran between the stores of an
 * unlock's hint may have left its mutex's entry beside m. */
static inline bool mg_hb_own_relocked(const void *m)
{
    struct hb_thr *t = mg_self.hb_ready;
    const struct hb_sync_entry *e = mg_self.own_entry;
    uint32_t sgen = mg_self.own_sgen;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (MG_UNLIKELY(t == NULL) || mg_self.own_mutex != MG_OWN_RELEASED(m) || HB_LD(t->sgen) != sgen ||
        HB_LD(e->key) != (uintptr_t)m || __atomic_load_n(&e->rel, __ATOMIC_ACQUIRE) != t->cur ||
        MG_UNLIKELY(__atomic_load_n(&hb_leaks_out, __ATOMIC_RELAXED)))
        return false;
    t->nrehold = 0;
    mg_self.hb_epoch = t->cur;
    mg_self.own_mutex = MG_OWN_HELD(m);
    return true;
}

/* Before the real unlock of m: true when this thread holds it by the hint
 * (MG_OWN_HELD) and nothing is to be stored. */
static inline bool mg_hb_own_unlocking(const void *m)
{
    struct hb_thr *t = mg_self.hb_ready;
    uint32_t sgen = mg_self.own_sgen;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (MG_UNLIKELY(mg_self.own_mutex != MG_OWN_HELD(m)) || MG_UNLIKELY(t == NULL) || HB_LD(t->sgen) != sgen)
        return false;
    t->rehold[0] = (uintptr_t)m;
    t->nrehold = 1;
    mg_self.hb_epoch = MG_HB_EPOCH_NONE;
    mg_self.own_mutex = MG_OWN_RELEASED(m);
    return true;
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
