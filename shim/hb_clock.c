/*
 * Happens-before engine: the slot table and thread clock operations
 * (hb_clock.h). Thread creation, finish, join and detach are slow paths
 * (a system call or two each in the program anyway) and take the table's
 * spinlock; acquire, copy and merge of a thread's clock take no lock except
 * on the shared overflow record.
 */
#include "hb_clock.h"
#include "hb_sync.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>

static MG_LARGE_BSS struct hb_thr tab[HB_SLOTS];
static uint32_t tab_lock;

/* The table's lock is held with every signal blocked. A thread holding it
 * (at its end, say) that a program's signal handler interrupted, the
 * handler waiting for a lock of the program's that another thread's
 * handler holds while its map call waits here for the table, would never
 * get it back (a held-out probe hung so). The table's operations run once
 * or twice in a thread's life, and at a report; the mask is the thread's
 * own, kept while it holds the lock (which is not taken twice). */
static __thread sigset_t tab_mask;

static void tab_take(void)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &tab_mask);
    hb_spin_lock(&tab_lock);
}

static void tab_give(void)
{
    hb_spin_unlock(&tab_lock);
    pthread_sigmask(SIG_SETMASK, &tab_mask, NULL);
}
static uint32_t next_fresh = 1;        /* slots [1, next_fresh) have been used */
static uint32_t free_slots[HB_SLOTS];
static uint32_t nfree;
static uint64_t free_seq;
static uint32_t overflowed;            /* a thread ever got the overflow record */

static void lock_thr(struct hb_thr *t)
{
    if (hb_thr_shared(t))
        hb_spin_lock(&t->lock);
}

static void unlock_thr(struct hb_thr *t)
{
    if (hb_thr_shared(t))
        hb_spin_unlock(&t->lock);
}

void hb_released(struct hb_thr *t)
{
    /* The overflow record is shared: a flag would race, so it ticks now. */
    if (hb_thr_shared(t)) {
        __atomic_add_fetch(&t->clk[HB_OVERFLOW], 1, __ATOMIC_RELAXED);
        return;
    }
    hb_thr_changing(t);
    t->nrehold = HB_REHOLD_NONE;
}

void hb_released_lock(struct hb_thr *t, uintptr_t addr)
{
    if (hb_thr_shared(t)) {
        hb_released(t);
        return;
    }
    hb_thr_changing(t);
    if (!t->nrehold) {
        t->rehold[0] = addr;
        t->nrehold = 1;
    } else if (t->nrehold < sizeof t->rehold / sizeof t->rehold[0]) {
        t->rehold[t->nrehold++] = addr;
    } else {
        t->nrehold = HB_REHOLD_NONE;
    }
}

bool hb_relocked(struct hb_thr *t, uintptr_t addr)
{
    uint32_t n = t->nrehold;
    if (!n || n == HB_REHOLD_NONE)
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (t->rehold[i] == addr) {
            hb_thr_changing(t);
            t->rehold[i] = t->rehold[--n];
            t->nrehold = n;
            return n == 0;
        }
    return false;
}

void hb_thr_acquire(struct hb_thr *t, const uint64_t *vc, uint32_t width)
{
    lock_thr(t);
    bool raised = false;
    for (uint32_t i = 0; i < width; i++) {
        uint64_t v = HB_LD(vc[i]);
        if (v > HB_LD(t->clk[i])) {
            if (!raised)
                hb_thr_changing(t);
            HB_ST(t->clk[i], v);
            raised = true;
        }
    }
    if (width > HB_LD(t->width))
        HB_ST(t->width, width);
    if (raised)
        t->vgen++;
    unlock_thr(t);
}

uint32_t hb_thr_copy_to(struct hb_thr *t, uint64_t *vc, uint32_t old_width)
{
    lock_thr(t);
    uint32_t w = HB_LD(t->width);
    for (uint32_t i = 0; i < w; i++)
        HB_ST(vc[i], HB_LD(t->clk[i]));
    for (uint32_t i = w; i < old_width; i++)
        HB_ST(vc[i], 0);
    unlock_thr(t);
    return w;
}

uint32_t hb_thr_merge_to(struct hb_thr *t, uint64_t *vc, uint32_t old_width)
{
    lock_thr(t);
    uint32_t w = HB_LD(t->width);
    for (uint32_t i = 0; i < w; i++) {
        uint64_t v = HB_LD(t->clk[i]);
        if (v > HB_LD(vc[i]))
            HB_ST(vc[i], v);
    }
    unlock_thr(t);
    return w > old_width ? w : old_width;
}

bool hb_thr_fits32(const struct hb_thr *t, uint32_t max)
{
    uint32_t w = HB_LD(t->width);
    if (hb_thr_shared(t) || w > max)
        return false;
    for (uint32_t i = 0; i < w; i++)
        if (HB_LD(t->clk[i]) > UINT32_MAX)
            return false;
    return true;
}

/* The 32-bit forms go through the 64-bit ones on a copy: an inline clock
 * has at most a few entries, and one loop per operation is less to get
 * wrong. */
#define WIDE_MAX HB_SLOTS /* room for any clock: these run off the lock fast path */

void hb_thr_acquire32(struct hb_thr *t, const uint32_t *vc, uint32_t width)
{
    uint64_t wide[WIDE_MAX];
    for (uint32_t i = 0; i < width && i < WIDE_MAX; i++)
        wide[i] = HB_LD(vc[i]);
    hb_thr_acquire(t, wide, width < WIDE_MAX ? width : WIDE_MAX);
}

uint32_t hb_thr_merge_to32(struct hb_thr *t, uint32_t *vc, uint32_t old_width)
{
    uint64_t wide[WIDE_MAX] = {0};
    for (uint32_t i = 0; i < old_width; i++)
        wide[i] = HB_LD(vc[i]);
    uint32_t w = hb_thr_merge_to(t, wide, old_width);
    for (uint32_t i = 0; i < w; i++)
        HB_ST(vc[i], (uint32_t)wide[i]);
    return w;
}

/* ---- the slot table ---- */

static void free_slot(struct hb_thr *t)
{
    t->state = HB_FREE;
    t->detached = 0;
    t->handle = 0;
    t->freed_seq = ++free_seq;
    free_slots[nfree++] = t->slot;
}

/* Under tab_lock. See hb_thread_create for the order. */
static uint32_t choose_slot(struct hb_thr *parent)
{
    int pick = -1;
    if (parent) {
        for (uint32_t i = 0; i < nfree; i++) {
            uint32_t s = free_slots[i];
            if (HB_LD(parent->clk[s]) >= HB_LD(tab[s].clk[s])) {
                pick = (int)i;
                break;
            }
        }
    }
    if (pick < 0 && next_fresh < HB_OVERFLOW)
        return __atomic_fetch_add(&next_fresh, 1, __ATOMIC_RELEASE); /* hb_leak_join reads it unlocked */
    if (pick < 0 && nfree) {
        pick = 0;
        for (uint32_t i = 1; i < nfree; i++)
            if (tab[free_slots[i]].freed_seq < tab[free_slots[pick]].freed_seq)
                pick = (int)i;
    }
    if (pick < 0)
        return HB_OVERFLOW;
    uint32_t s = free_slots[pick];
    free_slots[pick] = free_slots[--nfree];
    return s;
}

struct hb_thr *hb_thread_create(struct hb_thr *parent, uint64_t tag)
{
    tab_take();
    uint32_t s = choose_slot(parent);
    struct hb_thr *t = &tab[s];
    if (s == HB_OVERFLOW) {
        if (!overflowed) {
            /* its width covers its own entry, the last */
            t->slot = HB_OVERFLOW;
            t->cur = ~0ull; /* no lock's clock is ever marked as its copy */
            t->lk = &hb_sync_none;
            t->state = HB_LIVE;
            HB_ST(t->width, HB_SLOTS);
            __atomic_store_n(&overflowed, 1, __ATOMIC_RELEASE);
        }
        tab_give();
        if (parent && parent != t) {
            /* A new member of the shared clock brings its creator's. */
            lock_thr(parent);
            uint32_t w = HB_LD(parent->width);
            hb_thr_acquire(t, parent->clk, w);
            unlock_thr(parent);
        }
        /* a new member's calls come after everything the record knew */
        hb_released(t);
        if (parent)
            hb_released(parent);
        return t;
    }
    /* The new owner counts on from the previous one's final clock: every
     * epoch it makes is later than any of the slot's past epochs that
     * another thread may have acquired. */
    uint64_t own = HB_LD(t->clk[s]) + 1;
    uint32_t old_w = t->width;
    hb_thr_changing(t);
    uint32_t w = 0;
    if (parent) {
        lock_thr(parent);
        w = HB_LD(parent->width);
        for (uint32_t i = 0; i < w; i++)
            HB_ST(t->clk[i], HB_LD(parent->clk[i]));
        unlock_thr(parent);
    }
    for (uint32_t i = w; i < old_w; i++)
        HB_ST(t->clk[i], 0);
    if (w < s + 1)
        w = s + 1;
    HB_ST(t->clk[s], own);
    t->slot = s;
    t->cur = hb_epoch_make(s, own);
    t->lk = &hb_sync_none;
    t->width = w;
    t->nrehold = 0;
    t->vgen = 0;
    t->start = own;
    t->state = HB_LIVE;
    t->detached = 0;
    t->handle = 0;
    t->owners[t->nowners % HB_OWNERS].start = own;
    t->owners[t->nowners % HB_OWNERS].tag = tag;
    t->nowners++;
    tab_give();
    if (parent)
        hb_released(parent);
    return t;
}

void hb_thread_set_handle(struct hb_thr *t, uintptr_t handle)
{
    if (hb_thr_shared(t))
        return;
    tab_take();
    /* glibc hands a pthread_t out again once its thread was joined (or
     * ended detached): a record still bearing it is one whose joiner has
     * not yet taken it (between the real join's return and its wrapper's
     * hb_thread_join, which has the record already). A join of the new
     * thread must not find it: the handle is the new record's alone. */
    for (uint32_t s = 1; handle && s < next_fresh; s++)
        if (&tab[s] != t && tab[s].state != HB_FREE && tab[s].handle == handle)
            tab[s].handle = 0;
    t->handle = handle;
    tab_give();
}

void hb_thread_set_tag(struct hb_thr *t, uint64_t tag)
{
    if (hb_thr_shared(t))
        return;
    tab_take();
    if (t->nowners)
        t->owners[(t->nowners - 1) % HB_OWNERS].tag = tag;
    tab_give();
}

struct hb_thr *hb_thread_find(uintptr_t handle)
{
    struct hb_thr *found = NULL;
    if (!handle) /* no thread's, but the mark of a record that has none */
        return NULL;
    tab_take();
    for (uint32_t s = 1; s < next_fresh && !found; s++)
        if (tab[s].state != HB_FREE && !tab[s].detached && tab[s].handle == handle)
            found = &tab[s];
    tab_give();
    return found;
}

void hb_thread_finish(struct hb_thr *t)
{
    if (hb_thr_shared(t))
        return;
    tab_take();
    if (t->detached)
        free_slot(t);
    else
        t->state = HB_FINISHED;
    tab_give();
}

void hb_thread_join(struct hb_thr *self, struct hb_thr *joined)
{
    if (!joined || hb_thr_shared(joined)) {
        if (!__atomic_load_n(&overflowed, __ATOMIC_ACQUIRE))
            return;
        struct hb_thr *o = &tab[HB_OVERFLOW];
        if (self == o)
            return;
        /* A copy first: acquire cannot hold two records' locks. */
        uint64_t snap[HB_SLOTS];
        hb_spin_lock(&o->lock);
        uint32_t w = HB_LD(o->width);
        for (uint32_t i = 0; i < w; i++)
            snap[i] = HB_LD(o->clk[i]);
        hb_spin_unlock(&o->lock);
        hb_thr_acquire(self, snap, w);
        return;
    }
    /* The joined thread has finished (or, joined while still running, is
     * past its last call): its clock no longer moves. */
    hb_thr_acquire(self, joined->clk, joined->width);
    tab_take();
    if (joined->state == HB_FINISHED)
        free_slot(joined);
    else if (joined->state == HB_LIVE)
        joined->detached = 1; /* freed by its hb_thread_finish */
    tab_give();
}

void hb_thread_detach(struct hb_thr *t)
{
    if (hb_thr_shared(t))
        return;
    tab_take();
    if (t->state == HB_FINISHED)
        free_slot(t);
    else if (t->state == HB_LIVE)
        t->detached = 1;
    tab_give();
}

uint64_t hb_slot_tag(uint32_t slot, uint64_t clock)
{
    if (slot == 0 || slot >= HB_OVERFLOW)
        return 0;
    struct hb_thr *t = &tab[slot];
    uint64_t tag = 0, best = 0;
    tab_take();
    uint32_t n = t->nowners < HB_OWNERS ? t->nowners : HB_OWNERS;
    for (uint32_t i = 0; i < n; i++)
        if (t->owners[i].start <= clock && t->owners[i].start >= best) {
            best = t->owners[i].start;
            tag = t->owners[i].tag;
        }
    tab_give();
    return tag;
}

void hb_atfork_child(struct hb_thr *self)
{
    tab_lock = 0;
    tab[HB_OVERFLOW].lock = 0;
    /* The free list is rebuilt from the records' states: a thread that was
     * inside free_slot at the fork is not here to finish it. */
    nfree = 0;
    for (uint32_t s = 1; s < next_fresh; s++) {
        tab[s].lock = 0;
        if (&tab[s] == self)
            continue;
        if (tab[s].state == HB_FREE)
            free_slots[nfree++] = s;
        /* A thread still running at the fork is not in the child: glibc
         * puts its stack in the cache, and with it its handle goes to one
         * of the child's new threads, whose join must find that thread's
         * record, not this one. A thread that had ended, unjoined, keeps
         * its stack and its handle: the child may join it. */
        if (tab[s].state == HB_LIVE)
            tab[s].handle = 0;
        /* its notes of lost releases (hb_leak) go with it: nobody will
         * settle them, and every lock would take the full path for good */
        tab[s].leak[0] = tab[s].leak[1] = 0;
        tab[s].leak_all = 0;
    }
    hb_leaks_out = self ? (self->leak[0] != 0) + (self->leak[1] != 0) + (self->leak_all != 0) : 0;
    /* The other threads' records stay as they are, out of the free list for
     * good: those threads are gone, and their calls keep their epochs. The
     * child acquires none of them, since the fork orders only the forking
     * thread's past before the child. */
}

/* ---- releases lost to the recursion guard (hb_clock.h) ---- */

uint32_t hb_leaks_out;

/* In a signal handler, on the interrupted thread's own record, which the
 * interrupted code may be writing: only the leak words, by atomic
 * operations. The count goes up before the note is visible, so that an
 * acquirer that finds the note finds the count too. */
void hb_leak(struct hb_thr *t, uintptr_t addr)
{
    for (int i = 0; i < 2; i++) {
        if (__atomic_load_n(&t->leak[i], __ATOMIC_ACQUIRE) == addr)
            return; /* noted already */
    }
    __atomic_add_fetch(&hb_leaks_out, 1, __ATOMIC_SEQ_CST);
    for (int i = 0; i < 2; i++) {
        uintptr_t none = 0;
        if (__atomic_compare_exchange_n(&t->leak[i], &none, addr, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED))
            return;
    }
    if (__atomic_exchange_n(&t->leak_all, 1, __ATOMIC_SEQ_CST))
        __atomic_sub_fetch(&hb_leaks_out, 1, __ATOMIC_SEQ_CST); /* it was set: one note for it */
}

/* Has record o noted addr, or anything? */
static bool noted_by(const struct hb_thr *o, uintptr_t addr)
{
    return __atomic_load_n(&o->leak_all, __ATOMIC_ACQUIRE) || __atomic_load_n(&o->leak[0], __ATOMIC_ACQUIRE) == addr ||
           __atomic_load_n(&o->leak[1], __ATOMIC_ACQUIRE) == addr;
}

/* The records that may hold notes: slots 1 to n - 1, handed out so far,
 * and the shared overflow record, which the loops below visit as slot n. */
static uint32_t noting_slots(void)
{
    uint32_t n = __atomic_load_n(&next_fresh, __ATOMIC_ACQUIRE);
    return n < HB_OVERFLOW ? n : HB_OVERFLOW;
}

/* Every record that noted addr, or anything: its clock as it is now. A
 * record in the table is never freed, and its clock entries only grow, so
 * reading them while their thread runs gives a clock between what the
 * lost release carried and the thread's present one. */
void hb_leak_join(struct hb_thr *t, uintptr_t addr)
{
    uint32_t n = noting_slots();
    for (uint32_t s = 1; s <= n; s++) {
        struct hb_thr *o = &tab[s < n ? s : HB_OVERFLOW];
        if (o != t && noted_by(o, addr))
            hb_thr_acquire(t, o->clk, HB_LD(o->width));
    }
}

bool hb_leak_noted(uintptr_t addr)
{
    uint32_t n = noting_slots();
    for (uint32_t s = 1; s <= n; s++)
        if (noted_by(&tab[s < n ? s : HB_OVERFLOW], addr))
            return true;
    return false;
}

/* The note goes only after the release it stood for is done, so that an
 * acquirer never finds neither. */
void hb_leak_settle(struct hb_thr *t, void (*release)(struct hb_thr *t, uintptr_t addr),
                    void (*release_all)(struct hb_thr *t))
{
    for (int i = 0; i < 2; i++) {
        uintptr_t addr = __atomic_load_n(&t->leak[i], __ATOMIC_ACQUIRE);
        if (!addr)
            continue;
        release(t, addr);
        __atomic_store_n(&t->leak[i], 0, __ATOMIC_RELEASE);
        __atomic_sub_fetch(&hb_leaks_out, 1, __ATOMIC_SEQ_CST);
    }
    if (__atomic_load_n(&t->leak_all, __ATOMIC_ACQUIRE)) {
        release_all(t);
        __atomic_store_n(&t->leak_all, 0, __ATOMIC_RELEASE);
        __atomic_sub_fetch(&hb_leaks_out, 1, __ATOMIC_SEQ_CST);
    }
}
