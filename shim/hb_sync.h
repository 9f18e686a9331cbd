/*
 * Happens-before engine: the clocks of synchronization objects, in a side
 * table keyed by the object's address (a mutex, the mutex of a condition
 * wait, a semaphore, a barrier, a once control, a rwlock, an annotation's
 * address). The objects are the program's; nothing is stored in them.
 *
 * Table: HB_SYNC_CAP entries of one cache line each, open addressing with
 * at most HB_SYNC_PROBE probes. Lookup is lock-free (atomic loads of the
 * keys); a new entry is claimed under one spinlock, taken only the first
 * time an address is released into (not on later locks of the same
 * object); each entry has its own spinlock around its clocks. Destroy
 * (and init, which starts an address clean) frees the entry's clocks and
 * leaves a tombstone that a later insert reuses.
 *
 * Full table, no free slot within the probe window, or no arena memory
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
#define HB_SYNC_PROBE 32u

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
void hb_acquire_excl(struct hb_thr *t, uintptr_t addr);
void hb_release_excl(struct hb_thr *t, uintptr_t addr);
/* sem_post, the end of a once's init function, MAPGUARD_HAPPENS_BEFORE:
 * t's clock merges into the object's, so that several posts before one
 * wait all order before it. */
void hb_release_merge(struct hb_thr *t, uintptr_t addr);
/* init and destroy of any object: the address starts clean and its
 * entry's memory is reclaimed. */
void hb_sync_reset(uintptr_t addr);

/* rwlock. A reader takes the clock the last writer left; a writer takes
 * that and the merge of every reader's release since. Unlock decides
 * which one t was: the writer's slot is remembered. */
void hb_rw_acquire(struct hb_thr *t, uintptr_t addr, bool write);
void hb_rw_release(struct hb_thr *t, uintptr_t addr);

/* Barriers, round by round. Each wait merges the thread's clock into the
 * clock of the current round before the real wait (hb_barrier_arrive,
 * which returns the round) and takes that round's clock after it
 * (hb_barrier_depart). Two clocks alternate: when the last of count
 * threads arrives, the round is complete, and the clock of the round
 * before it, which every thread has taken by now (each arrived here after
 * leaving it), is cleared for the next. A barrier whose count the engine
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

#endif
