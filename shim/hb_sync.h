/*
 * Happens-before engine: the clocks of synchronization objects, in a side
 * table keyed by the object's address (a mutex, the mutex of a condition
 * wait, a semaphore, a barrier, a once control, a rwlock, an annotation's
 * address). The objects are the program's; nothing is stored in them.
 *
 * Table: a pool of HB_SYNC_CAP entries of two cache lines each, handed
 * out in order, behind a dense index (dense_index.h: a one-page first
 * level, then 2 * HB_SYNC_CAP slots), so a process's objects sit together
 * on a few pages. Lookup is lock-free (atomic loads of slots and keys); a
 * new entry is claimed under one spinlock, taken only the first time an
 * address is released into (not on later locks of the same object); each
 * entry has its own spinlock around its clocks. Destroy (and init, which
 * starts an address clean) frees the entry's clocks, returns the entry to
 * the pool and leaves a tombstone slot that a later insert reuses.
 *
 * Full table, no free slot within the index's probe windows, or no arena memory
 * for a clock: the object shares one fallback clock with every other such
 * object, and releases into it merge. An acquire then takes more ordering
 * than the program made: races may be missed, none is invented.
 *
 * Fast paths, for a lock taken and released by the same thread over and
 * over: the acquire is a hash, a probe or two and one compare (the entry
 * remembers whose copy its clock is, and a thread never needs its own
 * clock back); the release is the same lookup, three compares and two
 * stores, without the entry's lock (only the releasing thread's own entry
 * changed since it last released there, and no other thread can release
 * or acquire a lock this one holds).
 */
#ifndef MAPGUARD_HB_SYNC_H
#define MAPGUARD_HB_SYNC_H

#include "hb_clock.h"

#define HB_SYNC_CAP (1u << 14)

/* One object's entry. Its fields are hb_sync.c's; the header has it for
 * the inline lock fast paths below. */
enum { HB_SYNC_SPILL = 1, HB_SYNC_BARRIER = 2, HB_SYNC_IN = 4 };

/* A clock in the arena: offset, capacity and entries in use. */
struct clockref {
    uint32_t off;
    uint16_t cap;
    uint16_t width;
};

/* Clock 0 of an entry (a lock's, a semaphore's: the one every handoff
 * reads) sits in the entry's first cache line, next to the key and the
 * release epoch, while it has at most HB_SYNC_INLINE entries of 32 bits:
 * a thread taking a lock from another then pulls one line, not two. */
#define HB_SYNC_INLINE 8u

/* A barrier's clocks, one per round in turn: a round's is reused
 * HB_BARRIER_CLOCKS rounds later (hb_barrier_arrive). */
#define HB_BARRIER_CLOCKS 4u

struct hb_sync_entry {
    /* first line: what a lock's handoff reads and writes */
    uintptr_t key;     /* 0 empty, 1 tombstone */
    uint32_t lock;
    uint32_t flags;
    hb_epoch rel;      /* clock 0 is a copy of the clock of this epoch's thread,
                          taken at that epoch; 0 when it is not one thread's copy */
    uint32_t relgen;   /* and that thread's vgen then */
    uint32_t iw;       /* HB_SYNC_IN: clock 0 is iv[0..iw) */
    uint32_t iv[HB_SYNC_INLINE];
    /* second line */
    uint32_t owner;    /* rwlock: the writer's slot + 1 */
    uint32_t count;    /* barrier: threads per round, 0 unknown */
    uint32_t arrived;  /* barrier: arrivals in the current round */
    uint32_t free_link; /* while free: the id below it on its stack of free ids (hb_sync.c) */
    uint64_t round;    /* barrier: rounds completed */
    struct clockref c[HB_BARRIER_CLOCKS]; /* rwlock: c[0] writers', c[1] readers' merge; barrier: by
                             round (mod HB_BARRIER_CLOCKS); c[0] unused while clock 0 is inline */
    uint16_t leaving[HB_BARRIER_CLOCKS]; /* barrier: arrivals not yet departed, by round */
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct hb_sync_entry) == 128, "two cache lines per entry");

/* The entry a thread's t->lk names before it took any lock: no key, so no
 * fast path ever takes it for a lock's, and none writes it. */
extern const struct hb_sync_entry hb_sync_none;

/* Mutex lock (every variant, when it succeeds), sem_wait (when it
 * succeeds), a condition wait's return (re-acquires its mutex), once's
 * return, MAPGUARD_HAPPENS_AFTER. */
void hb_acquire(struct hb_thr *t, uintptr_t addr);
/* Mutex unlock, a condition wait's start (releases its mutex): the
 * object's clock becomes a copy of t's. */
void hb_release(struct hb_thr *t, uintptr_t addr);
/* The same two for a lock only one thread holds at a time (mutexes, C11
 * mutexes, spinlocks, a condition wait's mutex): no entry lock on their
 * path (hb_sync.c says what a misused mutex costs). */
/* hb_acquire_excl returns true when t re-took a lock no other thread took
 * since t released it, and that was the last release since t's tick: t is
 * back in its epoch (hb_relocked). */
bool hb_acquire_excl(struct hb_thr *t, uintptr_t addr);
void hb_release_excl(struct hb_thr *t, uintptr_t addr);
/* sem_post, the end of a once's init function, MAPGUARD_HAPPENS_BEFORE:
 * t's clock merges into the object's, so that several posts before one
 * wait all order before it. */
void hb_release_merge(struct hb_thr *t, uintptr_t addr);
/* init and destroy of any object: the address starts clean and its
 * entry's memory is reclaimed. */
void hb_sync_reset(uintptr_t addr);
/* The program installed a signal handler: from now on the table's insert
 * lock is held with signals blocked (hb_sync.c, insert_take). */
void hb_sync_handlers_seen(void);

/* rwlock. A reader takes the clock the last writer left; a writer takes
 * that and the merge of every reader's release since. Unlock decides
 * which one t was: the writer's slot is remembered. */
void hb_rw_acquire(struct hb_thr *t, uintptr_t addr, bool write);
/* writer: the caller knows t holds the lock for writing (glibc's
 * __cur_writer), whether or not the engine saw it taken. */
void hb_rw_release(struct hb_thr *t, uintptr_t addr, bool writer);

/* Barriers, round by round. Each wait merges the thread's clock into the
 * clock of the current round before the real wait (hb_barrier_arrive,
 * which returns the round) and takes that round's clock after it
 * (hb_barrier_depart). HB_BARRIER_CLOCKS clocks take turns: when the last
 * of count threads arrives, the round is complete, and the clock the next
 * round will use, that of HB_BARRIER_CLOCKS - 1 rounds before, is cleared,
 * once every thread released from that round has taken it. When more
 * threads than count use the barrier, one may not have (it is that many
 * rounds late leaving the real wait): the next round then starts from that
 * clock, not cleared, which only hides races (the late leaver takes the
 * new round's arrivals too); clearing it would have lost its own round's.
 * A barrier whose count the engine
 * did not see at init (hb_barrier_init) uses one cumulative clock: later
 * rounds then order before earlier ones' departures too, which only hides
 * races. */
void hb_barrier_init(uintptr_t addr, uint32_t count);
uint64_t hb_barrier_arrive(struct hb_thr *t, uintptr_t addr);
void hb_barrier_depart(struct hb_thr *t, uintptr_t addr, uint64_t round);

/* In a forked child: locks held by threads that are gone are let go. */
void hb_sync_atfork_child(void);

/* For tests and diagnostics: entries in use, and whether the fallback
 * clock was ever used. */
uint32_t hb_sync_live(void);
bool hb_sync_spilled(void);


/* ---- the lock fast paths ----
 *
 * A thread that takes and lets go of the same lock with nobody else taking
 * it in between (its own mutex, or a contended one it wins several times
 * in a row) needs neither a clock copy nor a tick: the lock's clock is
 * already its own as it is now. Each thread remembers the entry of the
 * last lock it went through (hb_thr.lk, checked against the entry's key,
 * since entries are reused), and these two inline tests decide that case
 * with a few loads and compares; anything else goes to hb_acquire_excl /
 * hb_release_excl. */

/* The handoff, the other case these paths decide: t takes a lock that
 * another thread let go last, or lets go of a lock whose clock is not its
 * own copy. When the lock's clock sits in the entry's inline words (a
 * process of at most HB_SYNC_INLINE slots, clocks below 2^32), hb_sync.c
 * does what hb_acquire_excl and hb_release_excl would, as one loop each;
 * otherwise they decline (-1, false). Out of line, so that the inline
 * paths stay small where they are inlined: in every lock wrapper. Unlike
 * those, they rewrite t's clock entry by entry, so they run under the
 * caller's guard (below). t->lk is the lock's entry. */
int hb_handoff_take(struct hb_thr *t);
bool hb_handoff_give(struct hb_thr *t, uintptr_t addr);

#define HB_LOCK_HANDOFF 2

/* After t took the lock at addr: 1 when t is back in its epoch (the
 * lock's clock is the copy t left at this epoch, and it was the only
 * release since t's tick: hb_relocked), 0 when nothing is to be done (the
 * lock's clock is t's own), HB_LOCK_HANDOFF for hb_handoff_take, -1 when
 * hb_acquire_excl must decide. */
static inline int hb_lock_acquired_check(struct hb_thr *t, uintptr_t addr)
{
    const struct hb_sync_entry *e = t->lk;
    if (HB_LD(e->key) != addr)
        return -1;
    if (__atomic_load_n(&e->rel, __ATOMIC_ACQUIRE) != t->cur) /* another thread's copy, or an older one of t's */
        return HB_LOCK_HANDOFF;
    uint32_t n = t->nrehold;
    if (!n)
        return 0;
    if (n != 1 || t->rehold[0] != addr)
        return -1;
    hb_thr_changing(t);
    t->nrehold = 0;
    return 1;
}

/* Before t lets go of the lock at addr: 1 when the lock's clock is
 * already t's clock as it is now (the same epoch, nothing acquired since)
 * and t had not released anything since its tick, so nothing is stored;
 * HB_LOCK_HANDOFF when the lock's clock is another thread's or an older
 * one of t's (hb_handoff_give); 0 when hb_release_excl must do it. An
 * entry never holds an epoch of the shared overflow record, nor one of a
 * spilled object, so neither passes. */
static inline int hb_lock_releasing_check(struct hb_thr *t, uintptr_t addr)
{
    const struct hb_sync_entry *e = t->lk;
    if (HB_LD(e->key) != addr || t->nrehold)
        return 0;
    if (__atomic_load_n(&e->rel, __ATOMIC_ACQUIRE) != t->cur || HB_LD(e->relgen) != t->vgen)
        return HB_LOCK_HANDOFF;
    hb_thr_changing(t);
    t->rehold[0] = addr;
    t->nrehold = 1;
    return 1;
}

/* A handoff runs with *guard raised (the wrappers pass the thread's
 * recursion guard): a signal handler that takes or lets go of a lock in
 * the middle then passes straight through, instead of rewriting the clock
 * entries the loop is between reading and storing. The lock wrappers
 * (hb_lockpath.h) call the checks inline and these out of line
 * (mg_hb_lock_take_handoff, mg_hb_lock_give_handoff), so that the inline
 * part keeps nothing across a call; hb_lock_acquired_fast and
 * hb_lock_releasing_fast are the same steps in one piece, with the same
 * answers as hb_lock_acquired_check without HB_LOCK_HANDOFF (true when
 * the release is done), for the engine's tests. */
static inline int hb_handoff_take_guarded(struct hb_thr *t, uint32_t *guard)
{
    ++*guard;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    int r = hb_handoff_take(t);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    --*guard;
    return r;
}

static inline bool hb_handoff_give_guarded(struct hb_thr *t, uintptr_t addr, uint32_t *guard)
{
    ++*guard;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    bool r = hb_handoff_give(t, addr);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    --*guard;
    return r;
}

static inline int hb_lock_acquired_fast(struct hb_thr *t, uintptr_t addr, uint32_t *guard)
{
    int r = hb_lock_acquired_check(t, addr);
    if (MG_UNLIKELY(r == HB_LOCK_HANDOFF))
        r = hb_handoff_take_guarded(t, guard);
    return r;
}

static inline bool hb_lock_releasing_fast(struct hb_thr *t, uintptr_t addr, uint32_t *guard)
{
    int r = hb_lock_releasing_check(t, addr);
    if (MG_UNLIKELY(r == HB_LOCK_HANDOFF))
        return hb_handoff_give_guarded(t, addr, guard);
    return r != 0;
}

#endif
