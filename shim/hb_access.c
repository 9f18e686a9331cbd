/*
 * Happens-before engine: the slow path of the per-map access check
 * (hb_access.h), FastTrack's rules under the record's lock.
 */
#include "hb_access.h"
#include "ghash_ops.h"

#include <sched.h>
#include <time.h>

#define SITE_LOCK (1ull << 63)
/* The lock also holds the fork generation of the process that took it: a
 * forked child cannot list the maps whose records a thread that did not
 * come along held, so a lock taken before the fork is free to take. */
#define SITE_GEN_SHIFT 54
#define SITE_GEN_MASK (0x1ffull << SITE_GEN_SHIFT)
#define SITE_PC_MASK ((1ull << 47) - 1)
#define SITE_OP_SHIFT 48
#define SITE_OP_MASK (0x3full << SITE_OP_SHIFT)
_Static_assert((HB_PC_STACK & (SITE_LOCK | SITE_GEN_MASK | SITE_PC_MASK | SITE_OP_MASK)) == 0,
               "the stack flag has a bit of its own in a site word");
_Static_assert((SITE_OP_MASK & (SITE_LOCK | SITE_GEN_MASK)) == 0, "the op has bits of its own");

/* The op in six bits: gomap's (1..15) as they are, GHashTable's (from
 * MG_GH_OP_BASE, ghash_ops.h) from 16 on, so that the earlier call of a
 * race is named by its own function in either API. */
#define OP_GH_CODE 16u
_Static_assert(MG_GH_OP_BASE >= OP_GH_CODE, "gomap's ops stay below GHashTable's code");
static inline uint64_t op_code(unsigned op)
{
    unsigned code = op >= MG_GH_OP_BASE ? op - MG_GH_OP_BASE + OP_GH_CODE : op;
    return (uint64_t)(code & 0x3f) << SITE_OP_SHIFT;
}
static inline unsigned op_of_code(uint64_t site)
{
    unsigned code = (unsigned)((site & SITE_OP_MASK) >> SITE_OP_SHIFT);
    return code >= OP_GH_CODE ? code - OP_GH_CODE + MG_GH_OP_BASE : code;
}

static uint64_t fork_gen;

static inline uint64_t site_of(uintptr_t pc, unsigned op)
{
    return ((uint64_t)pc & (SITE_PC_MASK | HB_PC_STACK)) | op_code(op);
}

/* h->rsite is written without the lock (record_unlocked), before the CAS
 * that installs its read in h->r; two readers recording at once may leave
 * the loser's site there. So rsite carries a 9-bit tag of the read it
 * belongs to (bits 54-62, unused in a read's site), and a reader of rsite
 * takes it only when the tag matches the read it describes. */
#define RSITE_TAG_SHIFT 54
#define RSITE_TAG_MASK (0x1ffull << RSITE_TAG_SHIFT)
_Static_assert((RSITE_TAG_MASK & (HB_PC_STACK | SITE_PC_MASK | SITE_OP_MASK)) == 0, "the tag has bits of its own");

static inline uint64_t tag_of(uint64_t read) { return (read * 0x9e3779b97f4a7c15ull) >> 55 << RSITE_TAG_SHIFT; }
static inline uint64_t rsite_of(uint64_t site, uint64_t read) { return site | tag_of(read); }

/* The site of the read r from h->rsite; 0 when it is not there (its
 * recorder is between its two stores and did not finish in time, or r
 * was replaced meanwhile). */
static uint64_t rsite_for(const struct hb_access *h, uint64_t r)
{
    for (unsigned i = 0; i < 256; i++) {
        uint64_t v = __atomic_load_n(&h->rsite, __ATOMIC_ACQUIRE);
        if ((v & RSITE_TAG_MASK) == tag_of(r))
            return v & ~RSITE_TAG_MASK;
        if (HB_LD(h->r) != r)
            break;
        if (i > 16)
            sched_yield();
    }
    return 0;
}

/* How long a check or a record waits for the record's lock before it
 * gives up. Its holder may be a thread stopped in a signal handler that
 * waits for a program lock held by the caller's own handler (a handler
 * that takes a program lock and calls the map API on a map other threads
 * use): waiting for ever would hang both, where the program alone goes
 * on. A holder that is merely preempted lets go within a few time slices. */
uint64_t hb_lock_patience_ns = 200ull * 1000 * 1000;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* the vDSO's: async-signal-safe, no lock */
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Takes the record's lock; false when patient and it waited
 * hb_lock_patience_ns in vain. */
static bool lock_for(struct hb_access *h, bool patient)
{
    uint64_t gen = HB_LD(fork_gen) << SITE_GEN_SHIFT & SITE_GEN_MASK;
    unsigned spins = 0;
    uint64_t since = 0;
    for (;;) {
        uint64_t v = HB_LD(h->wsite);
        if ((!(v & SITE_LOCK) || (v & SITE_GEN_MASK) != gen) &&
            __atomic_compare_exchange_n(&h->wsite, &v, (v & ~SITE_GEN_MASK) | SITE_LOCK | gen, true,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return true;
        if (++spins <= 100)
            continue;
        sched_yield();
        if (!patient || spins % 64)
            continue;
        uint64_t t = now_ns();
        if (!since)
            since = t;
        else if (t - since > HB_LD(hb_lock_patience_ns))
            return false;
    }
}

/* The check and the record give up rather than hang (lock_for): a check
 * that cannot confirm its race reports nothing, and a record skipped
 * loses races, never invents one. A later call ordered after the skipped
 * one is ordered after what the record still holds, which came before it
 * (or raced with it: then that pair is a race as well). */
static bool lock(struct hb_access *h) { return lock_for(h, true); }

static void unlock(struct hb_access *h, uint64_t wsite)
{
    __atomic_store_n(&h->wsite, wsite & ~(SITE_LOCK | SITE_GEN_MASK), __ATOMIC_RELEASE);
}

void hb_access_atfork_child(void) { HB_ST(fork_gen, HB_LD(fork_gen) + 1); }

static void describe(struct hb_conflict *c, uint64_t epoch, uint64_t site, bool write)
{
    c->slot = hb_epoch_slot(epoch);
    c->clock = hb_epoch_clock(epoch);
    c->op = op_of_code(site);
    c->pc = (uintptr_t)(site & (SITE_PC_MASK | HB_PC_STACK));
    c->write = write;
    c->iter = !write && (epoch & HB_R_ITER);
}

static inline uint32_t rc_cap(uint64_t r) { return (uint32_t)(r >> 32) & 0xffff; }
static inline uint64_t rc_make(uint32_t off, uint32_t cap) { return HB_R_SHARED | (uint64_t)cap << 32 | off; }

/* A read after unordered reads: the read clock, grown to hold slot. */
static void record_shared_read(struct hb_access *h, uint64_t r, uint32_t slot, uint64_t me, uint64_t site)
{
    uint32_t cap = rc_cap(r), off = (uint32_t)r;
    if (2 * slot + 1 >= cap) {
        uint32_t ncap;
        uint32_t noff = hb_arena_alloc(2 * (slot + 1), &ncap);
        if (!noff) {
            /* no room: this slot's read is not kept, a later write may
             * miss it; every read kept is still checked */
            return;
        }
        uint64_t *from = hb_arena_at(off), *to = hb_arena_at(noff);
        for (uint32_t i = 0; i < cap; i++)
            HB_ST(to[i], HB_LD(from[i]));
        __atomic_store_n(&h->r, rc_make(noff, ncap), __ATOMIC_RELEASE);
        hb_arena_free(off, cap);
        off = noff;
    }
    uint64_t *rc = hb_arena_at(off);
    HB_ST(rc[2 * slot + 1], site);
    HB_ST(rc[2 * slot], me);
}

/* Two unordered reads: the one read epoch becomes a read clock. False
 * when r changed meanwhile (a reader recorded without the lock): the
 * caller starts again. */
static bool inflate(struct hb_access *h, uint64_t r, uint32_t slot, uint64_t me, uint64_t site)
{
    uint32_t other = hb_epoch_slot(r);
    uint32_t top = other > slot ? other : slot;
    uint32_t cap;
    uint32_t off = hb_arena_alloc(2 * (top + 1), &cap);
    if (!off) {
        /* no room: keep the newer read */
        HB_ST(h->rsite, rsite_of(site, me));
        return __atomic_compare_exchange_n(&h->r, &r, me, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
    }
    uint64_t *rc = hb_arena_at(off);
    HB_ST(rc[2 * other], r);
    HB_ST(rc[2 * other + 1], rsite_for(h, r));
    HB_ST(rc[2 * slot], me);
    HB_ST(rc[2 * slot + 1], site);
    if (__atomic_compare_exchange_n(&h->r, &r, rc_make(off, cap), false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
        return true;
    hb_arena_free(off, cap);
    return false;
}

/* The check proper. Without the record's lock the words may be torn by
 * a record running at the same moment, and a read clock may be given back
 * under it (its arena entries stay readable memory): then a race may be
 * missed, never reported wrongly, since a race is confirmed under the
 * lock before it is reported. */
int hb_access_check_unlocked(struct hb_access *h, struct hb_thr *t, unsigned cls, struct hb_conflict *c)
{
    uint64_t w = __atomic_load_n(&h->w, __ATOMIC_ACQUIRE);
    uint64_t r = __atomic_load_n(&h->r, __ATOMIC_ACQUIRE);

    if (w && !hb_ordered(t, w)) {
        describe(c, w, HB_LD(h->wsite), true);
        return cls == HB_WRITE ? HB_RACE_WRITES : cls == HB_ITER ? HB_RACE_ITER_WRITE : HB_RACE_READ_WRITE;
    }
    if (cls != HB_WRITE || !r)
        return HB_RACE_NONE;
    if (r & HB_R_SHARED) {
        uint64_t *rc = hb_arena_at((uint32_t)r);
        for (uint32_t s = 0; 2 * s + 1 < rc_cap(r); s++) {
            uint64_t v = HB_LD(rc[2 * s]);
            if (v && !hb_ordered(t, v & HB_EPOCH_MASK)) {
                describe(c, v, HB_LD(rc[2 * s + 1]), false);
                return v & HB_R_ITER ? HB_RACE_ITER_WRITE : HB_RACE_READ_WRITE;
            }
        }
        return HB_RACE_NONE;
    }
    if (!hb_ordered(t, r & HB_EPOCH_MASK)) {
        describe(c, r, rsite_for(h, r), false);
        return r & HB_R_ITER ? HB_RACE_ITER_WRITE : HB_RACE_READ_WRITE;
    }
    return HB_RACE_NONE;
}

/* A clean check takes no lock, so that calls under a program's lock do
 * not add a locked instruction of their own; a race is checked again
 * under the lock, for a consistent description. */
int hb_access_check_slow(struct hb_access *h, struct hb_thr *t, unsigned cls, struct hb_conflict *c)
{
    if (MG_LIKELY(hb_access_check_unlocked(h, t, cls, c) == HB_RACE_NONE))
        return HB_RACE_NONE;
    if (!lock(h))
        return HB_RACE_NONE;
    uint64_t wsite = HB_LD(h->wsite);
    int race = hb_access_check_unlocked(h, t, cls, c);
    unlock(h, wsite);
    return race;
}

/* Records without the lock, when that cannot lose or mix up another
 * thread's record:
 * - a write: in a program that orders its writes, no other call is in the
 *   map while a write records (a reader recording now overlaps the write,
 *   and the overlap detector reports them); a read clock to give back, or
 *   the lock held, take the locked path;
 * - a read that replaces a read ordered before it (or none): another
 *   reader recording at the same moment changes r, the CAS fails and the
 *   locked path runs; the site goes first, tagged with its read, so that
 *   whoever reads it can tell whether it belongs to the read in r.
 * A call under a program's lock then adds no locked instruction of its
 * own but the read's CAS. */
static bool record_unlocked(struct hb_access *h, struct hb_thr *t, unsigned cls, uint64_t site)
{
    hb_epoch e = hb_thr_now(t);
    uint64_t r = __atomic_load_n(&h->r, __ATOMIC_ACQUIRE);
    if (r & HB_R_SHARED)
        return false;
    if (cls == HB_WRITE) {
        uint64_t wsite = HB_LD(h->wsite);
        if (wsite & SITE_LOCK)
            return false;
        if (r)
            HB_ST(h->r, 0);
        HB_ST(h->wsite, site);
        __atomic_store_n(&h->w, e, __ATOMIC_RELEASE);
        return true;
    }
    if (r && !hb_ordered(t, r & HB_EPOCH_MASK))
        return false; /* a read clock to make: under the lock */
    uint64_t me = e | (cls == HB_ITER ? HB_R_ITER : 0);
    HB_ST(h->rsite, rsite_of(site, me));
    return __atomic_compare_exchange_n(&h->r, &r, me, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

/* Out of line, so that the common record (record_unlocked) saves no more
 * registers than it needs. */
static MG_NOINLINE void record_locked(struct hb_access *h, struct hb_thr *t, unsigned cls, uint64_t site)
{
    if (!lock(h))
        return;
    hb_epoch e = hb_thr_epoch(t);
    uint64_t wsite = HB_LD(h->wsite);
    uint64_t r = HB_LD(h->r);

    if (cls == HB_WRITE) {
        /* every read before this write was checked against it when it
         * entered (or overlapped it): later calls need be ordered after
         * the write only */
        if (r & HB_R_SHARED)
            hb_arena_free((uint32_t)r, rc_cap(r));
        HB_ST(h->r, 0);
        __atomic_store_n(&h->w, e, __ATOMIC_RELEASE);
        unlock(h, site);
        return;
    }

    /* readers recording without the lock may change r under it: every
     * change of a single read is a CAS, and a failed one starts again */
    uint64_t me = e | (cls == HB_ITER ? HB_R_ITER : 0);
    for (;;) {
        if (r & HB_R_SHARED) {
            record_shared_read(h, r, t->slot, me, site);
            break;
        }
        if (r == 0 || hb_ordered(t, r & HB_EPOCH_MASK)) {
            HB_ST(h->rsite, rsite_of(site, me));
            if (__atomic_compare_exchange_n(&h->r, &r, me, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
                break;
        } else if (inflate(h, r, t->slot, me, site)) {
            break;
        }
        r = __atomic_load_n(&h->r, __ATOMIC_ACQUIRE);
    }
    unlock(h, wsite);
}

/* A read (or iteration step) just recorded that the last write is not
 * ordered before: HB_W_RACED on that write (hb_access.h). A CAS, so that a
 * write recorded meanwhile is left alone: it cleared the reads before it. */
static void flag_raced_write(struct hb_access *h, struct hb_thr *t)
{
    uint64_t w = __atomic_load_n(&h->w, __ATOMIC_ACQUIRE);
    if (w && !(w & HB_W_RACED) && !hb_ordered(t, w))
        __atomic_compare_exchange_n(&h->w, &w, w | HB_W_RACED, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}

void hb_access_record_slow(struct hb_access *h, struct hb_thr *t, unsigned cls, unsigned op, uintptr_t pc)
{
    uint64_t site = site_of(pc, op);
    if (!record_unlocked(h, t, cls, site))
        record_locked(h, t, cls, site);
    if (cls != HB_WRITE)
        flag_raced_write(h, t);
}

/* A history that was never written (a map freed without a call the
 * engine recorded) is all zeros, and that is all it can be then: a record
 * writes its site or epoch, a held lock sets SITE_LOCK in wsite, a read
 * clock is a nonzero r. Such a history needs no lock and no store; a
 * short-lived program that makes and frees many maps then dirties none of
 * their records here. The epochs are read first (acquire), the sites
 * after: a recorder stores its site before its epoch, so four zeros mean
 * no record had begun, or one begins after the free, as it could after the
 * locked path too. */
static bool never_written(const struct hb_access *h)
{
    return __atomic_load_n(&h->w, __ATOMIC_ACQUIRE) == 0 && __atomic_load_n(&h->r, __ATOMIC_ACQUIRE) == 0 &&
           HB_LD(h->wsite) == 0 && HB_LD(h->rsite) == 0;
}

void hb_access_free(struct hb_access *h)
{
    if (never_written(h))
        return;
    /* waits for good: a free that left a read clock behind would leak
     * it, and the map's memory may hold the next map's record */
    lock_for(h, false);
    uint64_t r = HB_LD(h->r);
    if (r & HB_R_SHARED)
        hb_arena_free((uint32_t)r, rc_cap(r));
    HB_ST(h->r, 0);
    HB_ST(h->rsite, 0);
    HB_ST(h->w, 0);
    unlock(h, 0);
}
