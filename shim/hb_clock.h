/*
 * Happens-before engine: thread slots and their vector clocks (FastTrack).
 *
 * happens_before.c keeps a struct hb_thr pointer per thread and calls
 * hb_thread_create / finish / join / detach from the thread wrappers
 * (thread_table.c), the sync operations of hb_sync.h from the lock wrappers
 * (sync_intercept.c) and the access check of hb_access.h from the map
 * hooks (detect.h).
 *
 * Slots, not pthread_t. glibc hands the same pthread_t to the next thread
 * after a join, so threads are named by a slot this file assigns. A slot
 * is reused only once its thread has finished and been joined or detached,
 * and its clock keeps counting from where the previous owner stopped: an
 * epoch of the new owner is never mistaken for one of the old owner that
 * some thread already acquired.
 *
 * There are HB_SLOTS - 2 ordinary slots (slot 0 means "no epoch"). A
 * thread created while every ordinary slot belongs to a live or unjoined
 * thread gets the shared overflow slot HB_OVERFLOW; the threads there share
 * one clock that is the join of everything any of them knows, so they look
 * ordered after each other and after whatever any of them synchronized
 * with. That only ever hides races (involving at least one overflow
 * thread); it never invents one. See docs/design-detector.md.
 *
 * Each ordinary thread's clock is written only by its own thread (and read
 * by the joiner once it finished, or by a forked child), so thread clock
 * operations take no lock; the overflow record is shared and takes its own
 * spinlock. Clock entries are accessed with relaxed atomics: plain moves
 * on x86-64, and data-race-free for the overflow record.
 */
#ifndef MAPGUARD_HB_CLOCK_H
#define MAPGUARD_HB_CLOCK_H

#include "common.h"

#include <sched.h>

struct hb_sync_entry;

#define HB_SLOTS 256u                /* fits the 8-bit slot of an epoch */
#define HB_OVERFLOW (HB_SLOTS - 1u)  /* shared by threads past the table */
#define HB_CLOCK_BITS 48
#define HB_CLOCK_MASK ((1ull << HB_CLOCK_BITS) - 1)
#define HB_OWNERS 4u                 /* owners a slot remembers, for reports */

#define HB_LD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define HB_ST(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* An epoch: clock:48 | slot:8, in the low 56 bits; 0 is "none". The top
 * byte is free for the users' flags (hb_access.h). 2^48 ticks: a clock
 * ticks at most once per map call that follows a release, so a slot would
 * need years of a million such calls a second to run out. */
typedef uint64_t hb_epoch;
#define HB_EPOCH_MASK ((1ull << 56) - 1)

static inline hb_epoch hb_epoch_make(uint32_t slot, uint64_t clock) { return (clock & HB_CLOCK_MASK) << 8 | (slot & 0xff); }
static inline uint32_t hb_epoch_slot(hb_epoch e) { return (uint32_t)(e & 0xff); }
static inline uint64_t hb_epoch_clock(hb_epoch e) { return (e >> 8) & HB_CLOCK_MASK; }

/* A small test-and-test-and-set lock for the engine's own short critical
 * sections. Not a pthread mutex: the wrappers will intercept those, and
 * a forked child can reset this one by storing 0. */
static inline void hb_spin_lock(uint32_t *l)
{
    unsigned spins = 0;
    while (__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE)) {
        while (HB_LD(*l))
            if (++spins > 100)
                sched_yield();
    }
}
static inline void hb_spin_unlock(uint32_t *l) { __atomic_store_n(l, 0, __ATOMIC_RELEASE); }

enum hb_thr_state { HB_FREE, HB_LIVE, HB_FINISHED };

/* One slot: the vector clock of the thread that owns it, or the final
 * clock of a finished thread waiting to be joined. */
struct hb_thr {
    uint64_t clk[HB_SLOTS]; /* clk[s]: the latest clock of slot s this thread knows;
                               clk[slot] is its own */
    uint32_t slot;
    uint32_t width;         /* clk[width..] are 0 */
    uint32_t vgen;          /* bumped when an entry other than its own rises */
    uint32_t nrehold;       /* nonzero when t released since the last tick, so it
                               ticks before its next access: the locks released, if
                               each was a lock held by one thread at a time
                               (rehold[0..nrehold)), HB_REHOLD_NONE when some release
                               was not */
    uintptr_t rehold[4];
    hb_epoch cur;           /* hb_thr_epoch(t), kept by its thread for the fast paths
                               (stale in the shared overflow record: never used there) */
    const struct hb_sync_entry *lk; /* the entry of the last lock t took or let go
                               (hb_sync.h's fast paths): always an entry, its key
                               tells whose; hb_sync_none (no key) at first */
    uint64_t start;         /* this owner's first clock value in its slot */
    uint32_t sgen;          /* counts changes of cur, vgen and nrehold/rehold, made
                               before them (hb_thr_changing): the shim's one-compare
                               lock paths (hb_lockpath.h) trust a state they saw
                               only while it is unchanged. Its thread's alone. */
    uint32_t lock;          /* the overflow record only */
    /* the slot table's bookkeeping, under its lock */
    uint32_t state;
    uint32_t detached;      /* free the slot when the thread finishes */
    uintptr_t handle;       /* pthread_t, for hb_thread_find */
    uint64_t freed_seq;     /* when the slot was freed: the oldest free slot is reused first */
    struct {
        uint64_t start, tag;
    } owners[HB_OWNERS];    /* the latest owners, by first clock, for reports */
    uint32_t nowners;
    /* releases its signal handlers made while it was inside the engine
     * (hb_leak): the objects, or leak_all when more came than fit */
    uintptr_t leak[2];
    uint32_t leak_all;
} __attribute__((aligned(64))); /* records are per thread: none shares a cache line with another */

/* ---- threads ---- */

/* A slot for a new thread, its clock a copy of its creator's (parent; NULL
 * for a thread the engine meets without having seen its creation: the
 * first thread, or one created before the engine woke up). The creator
 * ticks before its next access, so what it does after the creation is not
 * ordered before the child. tag is opaque to the engine (the wrappers keep
 * a thread index or tid there); hb_slot_tag gives it back for a report.
 *
 * A slot is chosen, in this order: a free slot whose last owner's final
 * clock the creator has acquired (joined it, or synchronized with its end;
 * reusing it loses nothing), a slot never used, the free slot freed the
 * longest ago (its last owner's calls then look like the new thread's own
 * earlier calls: a race between those two is missed), the overflow
 * record. */
struct hb_thr *hb_thread_create(struct hb_thr *parent, uint64_t tag);
/* Records the pthread_t (or thrd_t) of a live thread for hb_thread_find. */
void hb_thread_set_handle(struct hb_thr *t, uintptr_t handle);
/* Replaces the tag given at creation (a thread's index is known only once
 * the thread runs). */
void hb_thread_set_tag(struct hb_thr *t, uint64_t tag);
/* The record of the live or finished, not yet joined or detached thread
 * with this handle; NULL if none (an overflow thread, or one the engine
 * never met). */
struct hb_thr *hb_thread_find(uintptr_t handle);
/* The thread ends: its clock is final. Its slot is freed now if it was
 * detached, otherwise by the join. */
void hb_thread_finish(struct hb_thr *t);
/* self takes the joined thread's final clock (pthread_join and the other
 * joins, when they succeed) and the slot is freed. joined NULL (a thread
 * without a record of its own) takes the overflow record's clock if any
 * thread ever overflowed: more ordering than may be true, never less. */
void hb_thread_join(struct hb_thr *self, struct hb_thr *joined);
/* pthread_detach / thrd_detach: the slot is freed when the thread finishes
 * (now, if it has). */
void hb_thread_detach(struct hb_thr *t);

/* The tag of the owner of slot at clock (the thread behind an epoch), or 0
 * when the slot has had more than HB_OWNERS owners since. */
uint64_t hb_slot_tag(uint32_t slot, uint64_t clock);

/* In a forked child, with self the forking thread's record: the other
 * threads are gone. Their slots are never handed out again, and their
 * calls stay unordered with the child's unless something the shim saw
 * ordered them before the fork (a join, a lock): a thread that may still
 * have been writing a map when the program forked left the child a copy
 * it may have caught halfway. Resets the table's locks. */
void hb_atfork_child(struct hb_thr *self);

/* ---- clock operations ---- */

static inline hb_epoch hb_thr_epoch(const struct hb_thr *t);
/* Before anything moves t's epoch, its clock's other entries (vgen) or its
 * releases since the last tick: the fence keeps a signal handler that
 * interrupts the change from trusting the state it interrupted. */
static inline void hb_thr_changing(struct hb_thr *t)
{
    HB_ST(t->sgen, HB_LD(t->sgen) + 1);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
}
/* Called by every access before it takes its epoch: a release since the
 * last tick must separate what came before it from what comes after. The
 * first access after a lock handoff ticks, inside the program's critical
 * section: a few stores, inline. */
static inline void hb_tick(struct hb_thr *t)
{
    if (MG_UNLIKELY(t->nrehold)) {
        hb_thr_changing(t);
        t->nrehold = 0;
        HB_ST(t->clk[t->slot], HB_LD(t->clk[t->slot]) + 1);
        t->cur = hb_thr_epoch(t);
    }
}
/* After t released its clock somewhere: its next access gets a new epoch.
 * Lazy, so that clocks only grow with accesses, not with every unlock. */
void hb_released(struct hb_thr *t);

/* The same after t released a lock one thread holds at a time (addr), with
 * the hope of taking the tick back: see hb_relocked. */
#define HB_REHOLD_NONE UINT32_MAX
void hb_released_lock(struct hb_thr *t, uintptr_t addr);
/* t holds addr again, and the lock's clock is still the copy t left there
 * at its current epoch (no other thread took the lock in between). Once
 * every lock released since the last tick is held again, the tick is taken
 * back and t stays in its epoch (returns true): whoever takes one of those
 * locks next takes it from t's next release, so the calls t makes now
 * cannot be mistaken for calls before a release another thread acquired.
 * This is what keeps a thread that takes its own lock over and over (a
 * worker with its own mutex and map, or the one winning a contended lock
 * several times in a row) in one epoch, so its map calls take the
 * same-epoch skip instead of the engine. */
bool hb_relocked(struct hb_thr *t, uintptr_t addr);

/* The thread's current epoch (after hb_tick). */
static inline hb_epoch hb_thr_epoch(const struct hb_thr *t)
{
    return hb_epoch_make(t->slot, HB_LD(t->clk[t->slot]));
}

/* Is the access at epoch e ordered before everything t does now? */
static inline bool hb_ordered(const struct hb_thr *t, hb_epoch e)
{
    return hb_epoch_clock(e) <= HB_LD(t->clk[hb_epoch_slot(e)]);
}

/* t's clock joins vc (width entries): t acquires it. */
void hb_thr_acquire(struct hb_thr *t, const uint64_t *vc, uint32_t width);
/* Copies t's clock into vc (width of t; at least cap entries there),
 * zeroing what was beyond; returns the width written. */
uint32_t hb_thr_copy_to(struct hb_thr *t, uint64_t *vc, uint32_t old_width);
/* Merges t's clock into vc; returns the new width. */
uint32_t hb_thr_merge_to(struct hb_thr *t, uint64_t *vc, uint32_t old_width);
/* Acquire and merge on a clock of 32-bit entries (a sync entry's inline
 * clock, hb_sync.h), for a clock hb_thr_fits32 said fits: at most max
 * entries, each below 2^32. Never the shared overflow record's. */
bool hb_thr_fits32(const struct hb_thr *t, uint32_t max);
void hb_thr_acquire32(struct hb_thr *t, const uint32_t *vc, uint32_t width);
uint32_t hb_thr_merge_to32(struct hb_thr *t, uint32_t *vc, uint32_t old_width);
/* The width a copy or merge of t's clock needs. */
static inline uint32_t hb_thr_width(struct hb_thr *t) { return HB_LD(t->width); }
static inline bool hb_thr_shared(const struct hb_thr *t) { return t->slot == HB_OVERFLOW; }

/* ---- releases lost to the recursion guard ----
 *
 * A signal handler whose thread is inside the engine (its guard up) cannot
 * run the engine: the interrupted code may hold the very spinlock it would
 * need, or be halfway through the thread's clock. Its releases (a
 * sem_post, an unlock) would then order nothing, and a thread that waits
 * for them would be reported as unordered with what the interrupted thread
 * did before the signal: a false report. So the handler notes the object
 * on its thread's record (hb_leak: atomic operations only, no lock), and
 * until the thread settles it (hb_leak_settle, once it is out of the
 * engine: the release done for real), every acquire of that object also
 * takes the noting thread's live clock (hb_leak_join). That clock is at
 * least what the lost release would have carried, so this orders more
 * than the truth (it may hide a race with what the thread did after the
 * signal), never less. hb_leaks_out counts the notes, so that the lock
 * wrappers' inline paths need one load to know there are none. */
extern uint32_t hb_leaks_out;
void hb_leak(struct hb_thr *t, uintptr_t addr);
void hb_leak_join(struct hb_thr *t, uintptr_t addr);
/* Has any thread noted addr, or anything (leak_all)? While notes are out,
 * the lock wrappers' inline acquire asks this, and leaves for the full
 * path (which joins the noting threads' clocks) only for a noted object:
 * before, every acquire of every lock did, for as long as the noting
 * thread did not synchronize again (a held-out probe measured a lock loop
 * 5-7x slower for good). */
bool hb_leak_noted(uintptr_t addr);
/* The objects t noted, each released for real by release(t, addr), then
 * forgotten; when t noted more than fit (leak_all), release_all(t) once. */
void hb_leak_settle(struct hb_thr *t, void (*release)(struct hb_thr *t, uintptr_t addr),
                    void (*release_all)(struct hb_thr *t));
static inline bool hb_leaked(const struct hb_thr *t)
{
    return __atomic_load_n(&t->leak[0], __ATOMIC_ACQUIRE) || __atomic_load_n(&t->leak[1], __ATOMIC_ACQUIRE) ||
           __atomic_load_n(&t->leak_all, __ATOMIC_ACQUIRE);
}

/* hb_thr_epoch(t), from the copy its thread keeps in t->cur (set wherever
 * the thread's own entry moves: its creation and hb_tick): one load for
 * the map hooks after a lock handoff, which want it several times. The
 * shared overflow record keeps none. */
static inline hb_epoch hb_thr_now(const struct hb_thr *t)
{
    return MG_LIKELY(!hb_thr_shared(t)) ? t->cur : hb_thr_epoch(t);
}

#endif
