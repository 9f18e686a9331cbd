/*
 * Happens-before engine: the sync-object table (hb_sync.h).
 */
#include "hb_sync.h"
#include "hb_arena.h"
#include "dense_index.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

#define KEY_TOMB 1
#define ROUND_CUMULATIVE UINT64_MAX

#define F_SPILL HB_SYNC_SPILL
#define F_BARRIER HB_SYNC_BARRIER
#define F_IN HB_SYNC_IN



/* The index: a dense index (dense_index.h) naming pool entries by id.
 * Entries are handed out from the pool in order (reset ones first), so
 * the objects a process uses sit together on a few pages, and a small
 * process's index is one page: a short-lived process (a GLib tool) faults
 * in a few pages of the table, not one per object. Lookups take no lock;
 * a new entry is entered under an insert lock (below), which also keeps
 * two threads releasing a new object at once from making two entries for
 * it. */
static MG_LARGE_BSS uint32_t dx_mem[MG_DX_WORDS(HB_SYNC_CAP)] __attribute__((aligned(4096)));
static struct mg_dx dx = MG_DX_STATIC(dx_mem, HB_SYNC_CAP);
static MG_LARGE_BSS struct hb_sync_entry pool[HB_SYNC_CAP] __attribute__((aligned(64)));
const struct hb_sync_entry hb_sync_none;
/* An insert takes the lock of its key's shard (insert_of), so that two
 * releases of one new object make one entry; a given-back id waits on the
 * stack of the giving thread's shard (shard_index), so that a thread that
 * makes and destroys objects in a loop takes its own ids again. Each
 * shard is a line of its own: with one insert lock and one free list for
 * every object, two threads that each made, used once and destroyed a
 * mutex a round passed those lines back and forth (`shim_overhead
 * mutexes`: 1,267 ns a round then, 256 now, 30.5 plain;
 * docs/performance-log.md, stop 32). */
#define SHARDS 16u
static struct shard {
    uint32_t insert;
    uint64_t ids;
} __attribute__((aligned(64))) shards[SHARDS];
_Static_assert(sizeof(struct shard) == 64, "a shard is a line");
static struct shard *insert_of(uintptr_t key) { return &shards[mg_dx_hash(key) % SHARDS]; }
static __thread uint32_t my_shard __attribute__((tls_model("initial-exec"))); /* 1 + the thread's, 0 unset */
static uint32_t shards_given;
static uint32_t shard_index(void)
{
    if (MG_UNLIKELY(!my_shard))
        my_shard = 1 + __atomic_fetch_add(&shards_given, 1, __ATOMIC_RELAXED) % SHARDS;
    return my_shard - 1;
}
static struct hb_sync_entry fallback __attribute__((aligned(64)));
static uint32_t spilled;
_Static_assert(HB_SYNC_CAP <= MG_DX_CAP_MAX, "the dense index names every entry");

static uintptr_t key_of(const void *ctx, uint32_t id)
{
    (void)ctx;
    return __atomic_load_n(&pool[id].key, __ATOMIC_ACQUIRE);
}

/* An insert lock is shared by unrelated objects, taken at an object's
 * first release: with a signal handler of the program's running on its
 * holder and waiting for a lock of the program's, while the holder of
 * that lock waited here in a handler of its own, neither would ever get
 * it back (a held-out probe's program, a pool whose handlers take the
 * program's mutexes: hung 5 runs of 10). So once the program has a
 * signal handler it is held with every signal blocked, as the thread
 * table's lock is (hb_clock.c): two system calls at an object's first
 * release, none on the paths that find the object nor at its reset. A
 * program with no handler pays none. */
static uint32_t handlers_seen;

void hb_sync_handlers_seen(void)
{
    if (!HB_LD(handlers_seen))
        __atomic_store_n(&handlers_seen, 1, __ATOMIC_RELEASE);
}

struct insert_mask {
    sigset_t old;
    bool on;
};

static void insert_take(struct insert_mask *m, uint32_t *lock)
{
    m->on = __atomic_load_n(&handlers_seen, __ATOMIC_ACQUIRE);
    if (m->on) {
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &m->old);
    }
    hb_spin_lock(lock);
}

static void insert_give(const struct insert_mask *m, uint32_t *lock)
{
    hb_spin_unlock(lock);
    if (m->on)
        pthread_sigmask(SIG_SETMASK, &m->old, NULL);
}

static inline struct hb_sync_entry *find(uintptr_t key)
{
    long id = mg_dx_find(&dx, key, key_of, NULL);
    return id < 0 ? NULL : &pool[id];
}

static struct hb_sync_entry *spill(void)
{
    if (!HB_LD(spilled))
        __atomic_store_n(&spilled, 1, __ATOMIC_RELEASE);
    return &fallback;
}

/* An id for a new entry: one this thread gave back, else another
 * thread's, else one never used (the pool's footprint grows only when no
 * id is free). The stacks link through the entries (free_link), not the
 * index's free_next: the links of ids handed to different threads shared
 * lines there, which each push and pop then wrote. */
#define LINKS (&pool[0].free_link)
#define LINK_STRIDE (sizeof(struct hb_sync_entry) / sizeof(uint32_t))
_Static_assert(sizeof(struct hb_sync_entry) % sizeof(uint32_t) == 0, "links are a whole number of words apart");
static long alloc_id(void)
{
    uint32_t me = shard_index();
    for (uint32_t i = 0; i < SHARDS; i++) {
        long id = mg_dx_pop_linked(&shards[(me + i) % SHARDS].ids, LINKS, LINK_STRIDE);
        if (id >= 0)
            return id;
    }
    return mg_dx_fresh(&dx);
}
static void give_id(uint32_t id) { mg_dx_push_linked(&shards[shard_index()].ids, LINKS, LINK_STRIDE, id); }

/* The entry for key, claimed if new; the fallback entry when there is no
 * room. */
static struct hb_sync_entry *get(uintptr_t key)
{
    struct hb_sync_entry *e = find(key);
    if (MG_LIKELY(e))
        return e;
    if (key <= KEY_TOMB)
        return spill();
    struct insert_mask mask;
    uint32_t *lock = &insert_of(key)->insert;
    insert_take(&mask, lock);
    e = find(key);
    if (!e) {
        long n = alloc_id();
        if (n >= 0) {
            /* a reset entry's fields were cleared then; the key goes out
             * before the slot that leads to it */
            e = &pool[n];
            __atomic_store_n(&e->key, key, __ATOMIC_RELEASE);
            if (!mg_dx_insert(&dx, key, (uint32_t)n)) {
                __atomic_store_n(&e->key, KEY_TOMB, __ATOMIC_RELEASE);
                give_id((uint32_t)n);
                e = NULL;
            }
        }
    }
    insert_give(&mask, lock);
    return e ? e : spill();
}

/* get, with the entry's lock held; the fallback entry is returned unlocked.
 * The key is checked again under the lock: an entry reset and claimed for
 * another address in between (the program destroyed an object in use) is
 * not written into. */
static struct hb_sync_entry *get_locked(uintptr_t key)
{
    for (;;) {
        struct hb_sync_entry *e = get(key);
        if (e == &fallback)
            return e;
        hb_spin_lock(&e->lock);
        if (MG_LIKELY(HB_LD(e->key) == key))
            return e;
        hb_spin_unlock(&e->lock);
    }
}

/* ---- one clock of an entry, under the entry's lock ---- */

static bool ensure(struct clockref *r, uint32_t width)
{
    if (MG_LIKELY(r->cap >= width))
        return true;
    uint32_t cap;
    uint32_t off = hb_arena_alloc(width, &cap);
    if (!off)
        return false;
    uint64_t *to = hb_arena_at(off), *from = hb_arena_at(r->off);
    for (uint32_t i = 0; i < r->width; i++)
        HB_ST(to[i], HB_LD(from[i]));
    hb_arena_free(r->off, r->cap);
    r->off = off;
    r->cap = (uint16_t)cap;
    return true;
}

static void ref_acquire(struct hb_thr *t, const struct clockref *r)
{
    if (r->width)
        hb_thr_acquire(t, hb_arena_at(r->off), r->width);
}

static void ref_clear(struct clockref *r)
{
    uint64_t *vc = hb_arena_at(r->off);
    for (uint32_t i = 0; i < r->width; i++)
        HB_ST(vc[i], 0);
    r->width = 0;
}

static void ref_free(struct clockref *r)
{
    hb_arena_free(r->off, r->cap);
    *r = (struct clockref){0};
}

static void fallback_merge(struct hb_thr *t)
{
    hb_spin_lock(&fallback.lock);
    if (ensure(&fallback.c[0], HB_SLOTS))
        fallback.c[0].width = (uint16_t)hb_thr_merge_to(t, hb_arena_at(fallback.c[0].off), fallback.c[0].width);
    hb_spin_unlock(&fallback.lock);
}

static void fallback_acquire(struct hb_thr *t)
{
    hb_spin_lock(&fallback.lock);
    ref_acquire(t, &fallback.c[0]);
    hb_spin_unlock(&fallback.lock);
}

/* ---- clock k of an entry: clock 0 inline while it fits (hb_sync.h),
 * else in the arena ---- */

/* May clock k be inline at all? Not a barrier's (its two clocks
 * alternate), not once it moved to the arena, never the shared overflow
 * record's (read without its lock). */
static bool inline_place(const struct hb_sync_entry *e, unsigned k, const struct hb_thr *t)
{
    return k == 0 && !(e->flags & (F_SPILL | F_BARRIER)) && ((e->flags & F_IN) || e->c[0].cap == 0) &&
           !hb_thr_shared(t);
}

/* And does t's clock fit there? */
static bool inline_ok(const struct hb_sync_entry *e, unsigned k, const struct hb_thr *t)
{
    return inline_place(e, k, t) && hb_thr_fits32(t, HB_SYNC_INLINE);
}

/* Clock 0 leaves the inline words for the arena (room for width). */
static bool to_arena(struct hb_sync_entry *e, uint32_t width)
{
    if (!(e->flags & F_IN))
        return true;
    uint32_t iw = e->iw;
    if (!ensure(&e->c[0], width > iw ? width : iw))
        return false;
    uint64_t *vc = hb_arena_at(e->c[0].off);
    for (uint32_t i = 0; i < iw; i++)
        HB_ST(vc[i], (uint64_t)HB_LD(e->iv[i]));
    e->c[0].width = (uint16_t)iw;
    for (uint32_t i = 0; i < HB_SYNC_INLINE; i++)
        HB_ST(e->iv[i], 0);
    HB_ST(e->iw, 0);
    e->flags &= ~F_IN;
    return true;
}

/* Merges t into the entry's clock k; past the arena's end, the entry
 * spills into the fallback clock for good. */
static void merge_into(struct hb_sync_entry *e, unsigned k, struct hb_thr *t)
{
    if (inline_ok(e, k, t)) {
        HB_ST(e->iw, hb_thr_merge_to32(t, e->iv, e->iw));
        e->flags |= F_IN;
        return;
    }
    struct clockref *r = &e->c[k];
    if (!(e->flags & F_SPILL) && (k || to_arena(e, hb_thr_width(t))) && ensure(r, hb_thr_width(t))) {
        r->width = (uint16_t)hb_thr_merge_to(t, hb_arena_at(r->off), r->width);
        return;
    }
    e->flags |= F_SPILL;
    fallback_merge(t);
}

/* The inline clock becomes a copy of t's, when t's fits there (at most
 * HB_SYNC_INLINE entries, each below 2^32); false otherwise. Every inline
 * word is written, in one unrolled pass with no loop of its own to run:
 * t's entries past its width are 0 (hb_clock.h), so the words past it are
 * cleared on the way, whatever the old width was. It runs inside the
 * program's critical section after each lock handoff. */
static bool copy_inline(struct hb_thr *t, struct hb_sync_entry *e)
{
    uint32_t w = HB_LD(t->width);
    if (w > HB_SYNC_INLINE)
        return false;
    uint64_t v[HB_SYNC_INLINE], any = 0;
#pragma GCC unroll 8
    for (uint32_t i = 0; i < HB_SYNC_INLINE; i++)
        any |= v[i] = HB_LD(t->clk[i]);
    if (any > UINT32_MAX)
        return false;
#pragma GCC unroll 8
    for (uint32_t i = 0; i < HB_SYNC_INLINE; i++)
        HB_ST(e->iv[i], (uint32_t)v[i]);
    HB_ST(e->iw, w);
    return true;
}

static void copy_into(struct hb_sync_entry *e, unsigned k, struct hb_thr *t)
{
    if (inline_place(e, k, t) && copy_inline(t, e)) { /* copy_inline checks the fit */
        e->flags |= F_IN;
        return;
    }
    struct clockref *r = &e->c[k];
    if (!(e->flags & F_SPILL) && (k || to_arena(e, hb_thr_width(t))) && ensure(r, hb_thr_width(t))) {
        r->width = (uint16_t)hb_thr_copy_to(t, hb_arena_at(r->off), r->width);
        return;
    }
    e->flags |= F_SPILL;
    fallback_merge(t);
}

static void clock_acquire(struct hb_thr *t, const struct hb_sync_entry *e, unsigned k)
{
    if (k == 0 && (HB_LD(e->flags) & F_IN))
        hb_thr_acquire32(t, e->iv, HB_LD(e->iw));
    else
        ref_acquire(t, &e->c[k]);
}

static void acquire_from(struct hb_sync_entry *e, unsigned k, struct hb_thr *t)
{
    clock_acquire(t, e, k);
    if (e->flags & F_SPILL)
        fallback_acquire(t);
}

/* Is the entry's clock a copy of t's own, taken by this owner of its slot?
 * Then t has all of it already: its clock only grows. */
static inline bool own_copy(const struct hb_thr *t, hb_epoch rel)
{
    return rel && hb_epoch_slot(rel) == t->slot && !hb_thr_shared(t) && hb_epoch_clock(rel) >= t->start;
}

static void set_rel(struct hb_sync_entry *e, hb_epoch rel, uint32_t gen)
{
    HB_ST(e->relgen, gen);
    __atomic_store_n(&e->rel, rel, __ATOMIC_RELEASE);
}

/* ---- handoffs on the inline paths (hb_sync.h) ----
 *
 * They run inside the program's critical section, right after a handoff,
 * and the time they take there is paid twice: a longer critical section
 * after a handoff makes the next handoff likelier (docs/performance-log.md,
 * "mutex_handoff"). */

static bool inline_clock(const struct hb_sync_entry *e, const struct hb_thr *t)
{
    return (HB_LD(e->flags) & (HB_SYNC_IN | HB_SYNC_SPILL | HB_SYNC_BARRIER)) == HB_SYNC_IN && !hb_thr_shared(t);
}

/* t's clock joins the inline clock (hb_thr_acquire's rule: vgen moves when
 * an entry rose). The width is read once and bounded: a program that
 * unlocks a mutex it does not hold gets a wrong clock, never a wild
 * access. */
static void take_inline(struct hb_thr *t, const struct hb_sync_entry *e)
{
    uint32_t iw = HB_LD(e->iw), raised = 0;
    if (iw > HB_SYNC_INLINE)
        iw = HB_SYNC_INLINE;
    for (uint32_t i = 0; i < iw; i++) {
        uint64_t v = HB_LD(e->iv[i]);
        if (v > HB_LD(t->clk[i])) {
            if (!raised)
                hb_thr_changing(t);
            HB_ST(t->clk[i], v);
            raised = 1;
        }
    }
    if (iw > HB_LD(t->width))
        HB_ST(t->width, iw);
    t->vgen += raised;
}

int hb_handoff_take(struct hb_thr *t)
{
    const struct hb_sync_entry *e = t->lk;
    hb_epoch rel = __atomic_load_n(&e->rel, __ATOMIC_ACQUIRE);
    if (!rel || hb_epoch_slot(rel) == t->slot || !inline_clock(e, t))
        return -1;
    take_inline(t, e);
    return 0;
}

/* hb_release_excl's copy, set_rel and hb_released_lock */
bool hb_handoff_give(struct hb_thr *t, uintptr_t addr)
{
    struct hb_sync_entry *e = (struct hb_sync_entry *)(uintptr_t)t->lk; /* pool is not const */
    if (!inline_clock(e, t) || !copy_inline(t, e))
        return false;
    set_rel(e, hb_thr_epoch(t), t->vgen);
    hb_released_lock(t, addr);
    return true;
}

/* ---- the operations ---- */

void hb_acquire(struct hb_thr *t, uintptr_t addr)
{
    struct hb_sync_entry *e = find(addr);
    if (!e) {
        if (__atomic_load_n(&spilled, __ATOMIC_ACQUIRE))
            fallback_acquire(t);
        return;
    }
    if (MG_LIKELY(own_copy(t, __atomic_load_n(&e->rel, __ATOMIC_ACQUIRE))))
        return;
    hb_spin_lock(&e->lock);
    if (HB_LD(e->key) == addr) {
        acquire_from(e, 0, t);
        /* Taken by a thread that did not let it go (an annotation on a
         * lock's address): the clock is still the releaser's copy, but it
         * must not take its tick back when it takes the lock again
         * (hb_relocked), since what it does next is not ordered before
         * this acquire. A clock that is no one thread's copy says so. */
        if (HB_LD(e->rel))
            set_rel(e, 0, 0);
    }
    hb_spin_unlock(&e->lock);
}

/* A release by the thread whose copy the clock already is, that acquired
 * nothing since: only its own entry moved. No entry lock: hb_release is
 * for locks held by one thread at a time, and t holds this one, so no
 * other release or acquire of the object runs now. */
static inline bool release_fast(struct hb_sync_entry *e, struct hb_thr *t)
{
    if (!own_copy(t, __atomic_load_n(&e->rel, __ATOMIC_ACQUIRE)) || HB_LD(e->relgen) != t->vgen)
        return false;
    uint32_t flags = HB_LD(e->flags);
    uint64_t own = HB_LD(t->clk[t->slot]);
    if (flags & F_IN) {
        if (t->slot >= HB_LD(e->iw) || own > UINT32_MAX)
            return false;
        HB_ST(e->iv[t->slot], (uint32_t)own);
    } else {
        if ((flags & F_SPILL) || HB_LD(e->c[0].cap) <= t->slot)
            return false;
        HB_ST(hb_arena_at(HB_LD(e->c[0].off))[t->slot], own);
    }
    __atomic_store_n(&e->rel, hb_thr_epoch(t), __ATOMIC_RELEASE);
    return true;
}

/* The entry hb_sync.h's fast paths look at next time. */
static inline void remember(struct hb_thr *t, const struct hb_sync_entry *e)
{
    t->lk = e;
}

/* find, for a lock one thread holds at a time: the entry t remembered, if
 * it still is addr's (checked as the fast paths do), without hashing into
 * the index. After a handoff the fast paths decline, but the lock is
 * usually the one t took last: the slow paths below take and let go of it
 * once each per handoff (mutex_handoff: about one operation in ten under a
 * contended lock). Points into pool, which is not const. */
static inline struct hb_sync_entry *find_lock(const struct hb_thr *t, uintptr_t addr)
{
    if (HB_LD(t->lk->key) == addr)
        return (struct hb_sync_entry *)(uintptr_t)t->lk;
    return find(addr);
}

/* merge: sem_post's kind; excl: a lock one thread holds at a time, whose
 * release hb_relocked may take back when the clock it left is t's copy. */
static void release(struct hb_thr *t, uintptr_t addr, bool merge, bool excl)
{
    if (!merge) {
        struct hb_sync_entry *f = find(addr);
        if (MG_LIKELY(f && release_fast(f, t))) {
            hb_released(t);
            return;
        }
    }
    struct hb_sync_entry *e = get_locked(addr);
    if (e == &fallback) {
        fallback_merge(t);
        hb_released(t);
        return;
    }
    bool copy = false;
    if (merge || (e->flags & F_SPILL)) {
        merge_into(e, 0, t);
        set_rel(e, 0, 0);
    } else {
        hb_epoch now = hb_thr_epoch(t);
        copy_into(e, 0, t);
        if ((e->flags & F_SPILL) || hb_thr_shared(t)) {
            set_rel(e, 0, 0);
        } else {
            set_rel(e, now, t->vgen);
            copy = true;
        }
    }
    hb_spin_unlock(&e->lock);
    if (excl && copy) {
        remember(t, e);
        hb_released_lock(t, addr);
    } else {
        hb_released(t);
    }
}

void hb_release(struct hb_thr *t, uintptr_t addr) { release(t, addr, false, false); }

/* A lock held by one thread at a time: while t holds it no other thread
 * releases or acquires it, so its clock is read and written without the
 * entry's lock. Only growing the clock (an arena allocation) and a
 * spilled entry take the locked path: a program that unlocks a mutex it
 * does not hold then gets a wrong clock, never a corrupted arena. */
bool hb_acquire_excl(struct hb_thr *t, uintptr_t addr)
{
    struct hb_sync_entry *e = find_lock(t, addr);
    if (e)
        remember(t, e);
    if (!e || (HB_LD(e->flags) & F_SPILL)) {
        hb_acquire(t, addr);
        return false;
    }
    hb_epoch rel = __atomic_load_n(&e->rel, __ATOMIC_ACQUIRE);
    if (MG_LIKELY(own_copy(t, rel)))
        /* still the copy t left at this very epoch: nobody took the lock
         * since t let it go (hb_clock.h, hb_relocked) */
        return rel == hb_thr_epoch(t) && hb_relocked(t, addr);
    clock_acquire(t, e, 0);
    return false;
}

void hb_release_excl(struct hb_thr *t, uintptr_t addr)
{
    struct hb_sync_entry *e = find_lock(t, addr);
    if (MG_LIKELY(e != NULL)) {
        remember(t, e);
        /* The lock's clock is already t's clock as it is now (its own
         * entry unchanged, nothing acquired since): nothing to store. */
        if (MG_LIKELY(__atomic_load_n(&e->rel, __ATOMIC_ACQUIRE) == hb_thr_epoch(t) && !hb_thr_shared(t) &&
                      HB_LD(e->relgen) == t->vgen && !(HB_LD(e->flags) & F_SPILL))) {
            hb_released_lock(t, addr);
            return;
        }
        if (release_fast(e, t)) {
            hb_released_lock(t, addr);
            return;
        }
    }
    /* no entry lock: only a copy that needs no arena memory */
    if (!e || hb_thr_shared(t) || (!inline_ok(e, 0, t) && ((e->flags & (F_SPILL | F_IN)) || e->c[0].cap < hb_thr_width(t)))) {
        release(t, addr, false, true);
        return;
    }
    hb_epoch now = hb_thr_epoch(t);
    copy_into(e, 0, t);
    set_rel(e, now, t->vgen);
    hb_released_lock(t, addr);
}
void hb_release_merge(struct hb_thr *t, uintptr_t addr) { release(t, addr, true, false); }

/* No insert lock, only the entry's. Under it, the key still being addr
 * means no other reset took the entry (a reset gives up the key under
 * that lock, before it gives up the entry's index slot and id), and the
 * slot found before still naming the entry means it is the entry's (an id
 * is in one slot at a time): nobody else removes it or gives its id
 * back. A reset whose find misses an entry another thread is
 * entering at that moment (a release of the object racing with its
 * destroy, a bug of the program's) leaves that entry for the next reset
 * at the address. */
void hb_sync_reset(uintptr_t addr)
{
    uint32_t n;
    uint32_t *slot = mg_dx_find_slot(&dx, addr, key_of, NULL, &n);
    if (!slot)
        return;
    struct hb_sync_entry *e = &pool[n];
    hb_spin_lock(&e->lock);
    if (HB_LD(e->key) != addr || __atomic_load_n(slot, __ATOMIC_ACQUIRE) != mg_dx_slot_of(mg_dx_hash(addr), n)) {
        hb_spin_unlock(&e->lock);
        return;
    }
    for (unsigned k = 0; k < HB_BARRIER_CLOCKS; k++)
        ref_free(&e->c[k]);
    for (uint32_t i = 0; i < HB_SYNC_INLINE; i++)
        HB_ST(e->iv[i], 0);
    HB_ST(e->iw, 0);
    e->flags = 0;
    HB_ST(e->owner, 0);
    e->count = 0;
    e->arrived = 0;
    e->round = 0;
    memset(e->leaving, 0, sizeof e->leaving);
    set_rel(e, 0, 0);
    __atomic_store_n(&e->key, KEY_TOMB, __ATOMIC_RELEASE);
    hb_spin_unlock(&e->lock);
    mg_dx_remove(slot);
    give_id(n);
}

/* ---- rwlock ---- */

void hb_rw_acquire(struct hb_thr *t, uintptr_t addr, bool write)
{
    if (!write) {
        hb_acquire(t, addr);
        return;
    }
    struct hb_sync_entry *e = get(addr);
    if (e == &fallback) {
        fallback_acquire(t);
        return;
    }
    /* One writer at a time holds the lock: the owner needs no entry lock. */
    uint32_t me = t->slot + 1;
    if (MG_LIKELY(own_copy(t, __atomic_load_n(&e->rel, __ATOMIC_ACQUIRE)) && HB_LD(e->c[1].width) == 0)) {
        HB_ST(e->owner, me);
        return;
    }
    e = get_locked(addr);
    if (e == &fallback) {
        fallback_acquire(t);
        return;
    }
    acquire_from(e, 0, t);
    ref_acquire(t, &e->c[1]);
    HB_ST(e->owner, me);
    hb_spin_unlock(&e->lock);
}

void hb_rw_release(struct hb_thr *t, uintptr_t addr, bool writer)
{
    struct hb_sync_entry *e = get_locked(addr);
    if (e == &fallback) {
        fallback_merge(t);
        hb_released(t);
        return;
    }
    if (HB_LD(e->owner) == t->slot + 1) {
        /* the writer: it took the readers' clock, so its copy holds it */
        HB_ST(e->owner, 0);
        copy_into(e, 0, t);
        ref_clear(&e->c[1]);
        if ((e->flags & F_SPILL) || hb_thr_shared(t))
            set_rel(e, 0, 0);
        else
            set_rel(e, hb_thr_epoch(t), t->vgen);
    } else if (writer) {
        /* a writer whose lock the engine did not see taken (it was asleep
         * then): what it did goes to the next readers and writers alike,
         * merged, since it took no readers' clock */
        merge_into(e, 0, t);
        set_rel(e, 0, 0);
    } else {
        merge_into(e, 1, t);
    }
    hb_spin_unlock(&e->lock);
    hb_released(t);
}

/* ---- barriers ---- */

void hb_barrier_init(uintptr_t addr, uint32_t count)
{
    hb_sync_reset(addr);
    struct hb_sync_entry *e = get_locked(addr);
    if (e == &fallback)
        return;
    e->count = count;
    e->flags |= F_BARRIER;
    hb_spin_unlock(&e->lock);
}

uint64_t hb_barrier_arrive(struct hb_thr *t, uintptr_t addr)
{
    struct hb_sync_entry *e = get_locked(addr);
    if (e == &fallback) {
        fallback_merge(t);
        hb_released(t);
        return ROUND_CUMULATIVE;
    }
    uint64_t r = ROUND_CUMULATIVE;
    if (!(e->flags & F_BARRIER) || e->count == 0) {
        merge_into(e, 0, t);
    } else {
        r = e->round;
        merge_into(e, (unsigned)(r % HB_BARRIER_CLOCKS), t);
        e->leaving[r % HB_BARRIER_CLOCKS]++;
        if (++e->arrived >= e->count) {
            e->arrived = 0;
            e->round++;
            /* round r+1 reuses the clock of round r+1-HB_BARRIER_CLOCKS:
             * cleared only when no thread is still to leave that round
             * (hb_sync.h) */
            unsigned next = (unsigned)((r + 1) % HB_BARRIER_CLOCKS);
            if (e->leaving[next] == 0)
                ref_clear(&e->c[next]);
        }
    }
    hb_spin_unlock(&e->lock);
    hb_released(t);
    return r;
}

void hb_barrier_depart(struct hb_thr *t, uintptr_t addr, uint64_t round)
{
    struct hb_sync_entry *e = find(addr);
    if (!e) {
        if (__atomic_load_n(&spilled, __ATOMIC_ACQUIRE))
            fallback_acquire(t);
        return;
    }
    hb_spin_lock(&e->lock);
    if (HB_LD(e->key) == addr) {
        unsigned k = round == ROUND_CUMULATIVE ? 0 : (unsigned)(round % HB_BARRIER_CLOCKS);
        acquire_from(e, k, t);
        if (round != ROUND_CUMULATIVE && e->leaving[k] > 0)
            e->leaving[k]--;
    }
    hb_spin_unlock(&e->lock);
}

/* ---- fork, diagnostics ---- */

void hb_sync_atfork_child(void)
{
    for (uint32_t i = 0; i < SHARDS; i++)
        shards[i].insert = 0;
    fallback.lock = 0;
    /* Only entries ever handed out: the rest of the pool stays untouched
     * (and not resident) in the child. */
    for (uint32_t n = 0, used = mg_dx_used(&dx); n < used; n++)
        if (pool[n].lock)
            pool[n].lock = 0;
}

/* A count for the tests, made when asked: a counter kept by the resets,
 * which take no common lock, would be one more line the threads that make
 * and destroy mutexes pass back and forth. */
uint32_t hb_sync_live(void)
{
    uint32_t n = 0, used = mg_dx_used(&dx);
    for (uint32_t id = 0; id < used; id++)
        n += __atomic_load_n(&pool[id].key, __ATOMIC_ACQUIRE) > KEY_TOMB;
    return n;
}
bool hb_sync_spilled(void) { return __atomic_load_n(&spilled, __ATOMIC_ACQUIRE); }
