/*
 * Happens-before engine: the access history of one map (FastTrack).
 *
 * Four words per map, zero for "no history":
 *   w      epoch of the last write
 *   wsite  its call site: pc:47 | stack flag:1 | op:6 (gomap's ops and
 *          GHashTable's, hb_access.c); bit 63, the record's lock, with the
 *          fork generation of its holder in bits 54-62
 *   r      epoch of the last read (| HB_R_ITER for an iteration step), or,
 *          once reads from threads that are not ordered with each other
 *          have been seen, HB_R_SHARED | capacity:16 << 32 | arena offset:
 *          a read clock, two words per slot (epoch | HB_R_ITER, site)
 *   rsite  the last read's call site, as wsite
 *
 * The read clock comes from the arena (hb_arena.h), only for maps actually
 * read by unordered threads, and is given back by the next write (which
 * orders every read before it, or reports one that is not) and by
 * hb_access_free. If the arena is full, the history keeps the newer read
 * only: a race between the older read and a later write may be missed.
 *
 * Cost: a call whose thread already made the same kind of access to the
 * map in its current epoch (no release since) is decided by one load and
 * one compare (two more loads for a read clock); anything else takes the
 * record's lock for a few loads and stores, and a write after unordered
 * reads walks the read clock.
 */
#ifndef MAPGUARD_HB_ACCESS_H
#define MAPGUARD_HB_ACCESS_H

#include "hb_arena.h"
#include "hb_clock.h"

struct hb_access {
    uint64_t w, wsite, r, rsite;
};

#define HB_R_SHARED (1ull << 63)
#define HB_R_ITER (1ull << 62)
/* In w: a read not ordered after this write has been recorded since
 * (hb_access.c, flag_raced_write). FastTrack's same-epoch rule lets the
 * writer's next write in the same epoch skip every check, and that read,
 * reported against this write, would never be checked against the next
 * one: a second race, at another pair of lines, missed (a held-out probe:
 * t1 sets at line 8, t2 reads at 15, t1 sets at 10; only 15 against 8 was
 * reported, where ThreadSanitizer reports both). The flag makes w equal
 * no epoch, so that write takes the full check, and the write's record
 * clears it. Above the epoch's 56 bits: hb_ordered and the report's
 * description never see it. */
#define HB_W_RACED (1ull << 61)

/* A "pc" given to hb_access_record with this bit set is a stack depot id
 * in its low 32 bits (user-space code addresses stay below 2^47, so the
 * bit is never a code address's); it comes back so in hb_conflict.pc. */
#define HB_PC_STACK (1ull << 47)

/* The op classes of a map call. */
enum hb_class { HB_READ, HB_ITER, HB_WRITE };

/* What a call that is not ordered after the last conflicting one races
 * with, named as the report kinds are. */
enum hb_race {
    HB_RACE_NONE,
    HB_RACE_READ_WRITE,     /* concurrent-read-write */
    HB_RACE_WRITES,         /* concurrent-writes */
    HB_RACE_ITER_WRITE,     /* concurrent-iteration-write: an iteration step and a write */
};

/* The earlier call of a race. */
struct hb_conflict {
    uint32_t slot;   /* its thread's slot: hb_slot_tag(slot, clock) names the thread */
    uint64_t clock;
    unsigned op;     /* the op given to hb_access for it */
    uintptr_t pc;    /* its call site, or its stack (HB_PC_STACK) */
    bool write;      /* it was a write */
    bool iter;       /* it was an iteration step */
};

/* The check without the record's lock (hb_access.c says what that may
 * miss): a clean result needs no more; a race is confirmed by
 * hb_access_check_slow before it is reported. */
int hb_access_check_unlocked(struct hb_access *h, struct hb_thr *t, unsigned cls, struct hb_conflict *c);
/* Its usual answer, inline: true when the call is ordered after the last
 * write and, for a write, after a last read that is one epoch; false
 * when hb_access_check_unlocked must look (a race, or a read clock). */
static inline bool hb_access_clean(const struct hb_access *h, const struct hb_thr *t, unsigned cls)
{
    uint64_t w = __atomic_load_n(&h->w, __ATOMIC_ACQUIRE);
    if (w && !hb_ordered(t, w))
        return false;
    if (cls != HB_WRITE)
        return true;
    uint64_t r = __atomic_load_n(&h->r, __ATOMIC_ACQUIRE);
    return !r || (!(r & HB_R_SHARED) && hb_ordered(t, r & HB_EPOCH_MASK));
}
int hb_access_check_slow(struct hb_access *h, struct hb_thr *t, unsigned cls, struct hb_conflict *c);
void hb_access_record_slow(struct hb_access *h, struct hb_thr *t, unsigned cls, unsigned op, uintptr_t pc);

/* Does the read clock in r already hold this read (me) of slot? */
static inline bool hb_read_seen(const struct hb_access *h, uint64_t r, uint32_t slot, uint64_t me)
{
    uint32_t cap = (uint32_t)(r >> 32) & 0xffff;
    if (2 * slot + 1 >= cap)
        return false;
    /* acquire: the entry is read before r is checked again, and r
     * unchanged means the clock was still this map's */
    uint64_t v = __atomic_load_n(&hb_arena_at((uint32_t)r)[2 * slot], __ATOMIC_ACQUIRE);
    return v == me && HB_LD(h->r) == r;
}

/* Has thread t already made this class of access to the map in its
 * current epoch e (no release since)? Then nothing can have changed for
 * it: FastTrack's same-epoch rule, one load and a compare. */
static inline bool hb_same_epoch_at(const struct hb_access *h, struct hb_thr *t, unsigned cls, hb_epoch e)
{
    if (cls == HB_WRITE)
        return __atomic_load_n(&h->w, __ATOMIC_ACQUIRE) == e;
    uint64_t me = e | (cls == HB_ITER ? HB_R_ITER : 0);
    uint64_t r = __atomic_load_n(&h->r, __ATOMIC_ACQUIRE);
    return r == me || ((r & HB_R_SHARED) && hb_read_seen(h, r, t->slot, me));
}

static inline bool hb_same_epoch(const struct hb_access *h, struct hb_thr *t, unsigned cls)
{
    return hb_same_epoch_at(h, t, cls, hb_thr_now(t));
}

/* A map call is split in two, so that two calls that overlap in time are
 * left to the overlap detector and reported once:
 *
 * hb_access_check, when the call enters the map: is it ordered after the
 * last conflicting call that had already left the map? Returns the race it
 * makes with that call and describes the call in *c, or HB_RACE_NONE. One
 * race per call: a write unordered with both the last write and a read
 * reports the write. Changes nothing but t's tick.
 *
 * hb_access_record, when the call leaves the map: it becomes the history
 * later calls are checked against. op and pc describe it for their
 * reports.
 *
 * A call that overlapped another in time saw neither it at its check (the
 * other had not left yet) nor is seen by it (it had not left when the other
 * entered). */
static inline int hb_access_check(struct hb_access *h, struct hb_thr *t, unsigned cls, struct hb_conflict *c)
{
    hb_tick(t);
    if (MG_LIKELY(hb_same_epoch(h, t, cls)))
        return HB_RACE_NONE;
    return hb_access_check_slow(h, t, cls, c);
}

static inline void hb_access_record(struct hb_access *h, struct hb_thr *t, unsigned cls, unsigned op, uintptr_t pc)
{
    hb_tick(t);
    if (MG_LIKELY(hb_same_epoch(h, t, cls)))
        return;
    hb_access_record_slow(h, t, cls, op, pc);
}

/* A call with no duration (the engine's unit tests): checked, then
 * recorded. */
static inline int hb_access(struct hb_access *h, struct hb_thr *t, unsigned cls, unsigned op, uintptr_t pc,
                            struct hb_conflict *c)
{
    int race = hb_access_check(h, t, cls, c);
    hb_access_record(h, t, cls, op, pc);
    return race;
}

/* The map is really freed (or its memory reused): gives back the read
 * clock and clears the history. */
void hb_access_free(struct hb_access *h);

/* How long a check or a record waits for a record's lock before it gives
 * up (hb_access.c, lock_for): 200 ms. A test that counts the races of
 * threads it runs on a loaded machine sets it to UINT64_MAX, so that a
 * preempted holder cannot make a race go uncounted. */
extern uint64_t hb_lock_patience_ns;

/* In a forked child: a record locked by a thread that did not come along
 * is taken over by the next call on its map instead of waited for. */
void hb_access_atfork_child(void);

#endif
