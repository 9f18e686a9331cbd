/*
 * The detectors for GHashTable calls (ghash_detect.c), called by the
 * wrappers in ghash_intercept.c around the real GLib call. The same kinds
 * and report format as gomap's (detect.h), on the state of ghash_state.h.
 *
 * Overlap races: a writer marks itself in the table's sync word and bumps
 * its generation, with plain stores as gomap's writers do; a reader writes
 * nothing shared and reports if another thread's mark was there when it
 * came in, or if the word moved while it was inside. When the other
 * writer is still inside, it is asked (the table's req word) to capture
 * its own stack on its way out and hand it over (pub), as gomap's writers
 * do; the detector waits for it at most conflict_wait_ms, after its own
 * call into GLib is done. Otherwise the other call is reported with its
 * call site (stack_complete false).
 */
#ifndef MAPGUARD_GHASH_DETECT_H
#define MAPGUARD_GHASH_DETECT_H

#include "ghash_state.h"
#include "happens_before.h"
#include "in_call.h"
#include "mapstate.h"
#include "thread_table.h"

/* One intercepted call on a table, from entry to exit. */
struct mg_gh_call {
    GHashTable *t;
    struct mg_gh_table *e;
    uintptr_t pc;  /* the caller's return address */
    uint32_t self; /* this thread's index */
    unsigned op;
    uint64_t s0;   /* sync word: seen at entry (reader), installed (writer) */
    bool owned;    /* this writer holds the mark */
    bool flagged;  /* a conflict found at entry, reported at exit */
    int kind, slot;
    bool inside;   /* the other writer was still inside: its stack was asked for */
    uint32_t other_thread;
    unsigned other_op;
    uintptr_t other_pc;
};

enum { GH_PASS, GH_CHECK, GH_GONE };

/* ---- the per-call path ----
 *
 * Inline, as gomap's fast paths (detect.h): a call on a LIVE table this
 * thread called lately costs one thread-local word, its cache entry and
 * slot (ghash_state.h), the table's sync word, and the happens-before
 * engine's same-epoch test; anything else goes out of line. */

/* the sync word: gen:32 | last write op:8 | writer op:8 | writer:16 */
#define GS_GEN1 (1ull << 32)
static inline uint32_t gs_writer(uint64_t s) { return (uint32_t)(s & 0xffff); }
static inline uint64_t gs_enter(uint64_t s, uint32_t self, unsigned op)
{
    return ((s & ~0xffffffffull) + GS_GEN1) | (self & 0xffff) | (uint64_t)(op & 0xff) << 16 |
           (uint64_t)(op & 0xff) << 24;
}
static inline uint64_t gs_leave(uint64_t s) { return s & ~0xffffffull; }

int mg_gh_begin_slow(struct mg_gh_call *c, const GHashTable *t, unsigned op, uintptr_t pc);

/* How a call on t is handled: GH_PASS straight to GLib (NULL, the shim
 * busy, a table the shim does not track), GH_GONE (freed: reported by the
 * caller, GLib not called), GH_CHECK. */
static inline __attribute__((always_inline)) int mg_gh_begin(struct mg_gh_call *c, const GHashTable *t, unsigned op,
                                                             uintptr_t pc)
{
    /* fast is set only once the shim started and while this thread is
     * registered and not busy */
    uint32_t self = mg_self.fast;
    struct mg_gh_table *e;
    if (MG_LIKELY(self != 0) && MG_LIKELY((e = mg_gh_table_cached(t)) != NULL)) {
        c->t = (GHashTable *)t;
        c->e = e;
        c->pc = pc;
        c->self = self;
        c->op = op;
        c->owned = false;
        c->flagged = false;
        c->slot = -1;
        return GH_CHECK;
    }
    return mg_gh_begin_slow(c, t, op, pc);
}

/* Happens-before (happens_before.h): the call is checked against the
 * table's history on entry and recorded on exit, both skipped inline when
 * the history already holds this thread's access of this class in its
 * current epoch, as gomap's hooks do. */
enum { GH_READ, GH_ITER, GH_WRITE }; /* the class each entry point below stands for */

#define GH_INLINE static inline __attribute__((always_inline))

GH_INLINE bool mg_gh_same_epoch(const struct hb_access *h, int cls)
{
    uint64_t e = mg_self.hb_epoch;
    uint64_t have = __atomic_load_n(cls == GH_WRITE ? &h->w : &h->r, __ATOMIC_RELAXED);
    uint64_t want = cls == GH_ITER ? e | MG_HB_ITER_FLAG : e;
    return have == want; /* never for MG_HB_EPOCH_NONE */
}

void mg_gh_hb_enter_slow(struct mg_gh_call *c);
void mg_gh_hb_leave_slow(struct mg_gh_call *c);

GH_INLINE void mg_gh_hb_enter(struct mg_gh_call *c, int cls)
{
    mg_in_call_enter(c->t, c->op);
    if (MG_UNLIKELY(!mg_gh_same_epoch(&c->e->hb, cls)) && mg_hb_is_awake())
        mg_gh_hb_enter_slow(c);
}

GH_INLINE void mg_gh_hb_leave(struct mg_gh_call *c, int cls)
{
    mg_in_call_leave();
    if (MG_UNLIKELY(!mg_gh_same_epoch(&c->e->hb, cls)) && mg_hb_is_awake())
        mg_gh_hb_leave_slow(c);
}

void mg_gh_read_conflict(struct mg_gh_call *c, uint64_t s);
void mg_gh_read_exit_slow(struct mg_gh_call *c, uint64_t s);
void mg_gh_write_enter_slow(struct mg_gh_call *c, uint64_t s);
void mg_gh_write_exit_slow(struct mg_gh_call *c);

/* A read (iter: an iteration step: foreach, find, an iterator's init or
 * step), from entry to exit. */
GH_INLINE void mg_gh_reading(struct mg_gh_call *c, int cls)
{
    uint64_t s = __atomic_load_n(&c->e->sync, __ATOMIC_ACQUIRE);
    c->s0 = s;
    uint32_t wr = gs_writer(s);
    if (MG_UNLIKELY(wr != 0 && wr != c->self))
        mg_gh_read_conflict(c, s);
    mg_gh_hb_enter(c, cls);
}

GH_INLINE void mg_gh_read_done(struct mg_gh_call *c, int cls)
{
    mg_gh_hb_leave(c, cls);
    /* the table reads must be done before the word is looked at again */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    uint64_t s = MG_RD(c->e->sync);
    if (MG_UNLIKELY(c->flagged || s != c->s0))
        mg_gh_read_exit_slow(c, s);
}

GH_INLINE void mg_gh_read_enter(struct mg_gh_call *c) { mg_gh_reading(c, GH_READ); }
GH_INLINE void mg_gh_read_exit(struct mg_gh_call *c) { mg_gh_read_done(c, GH_READ); }
GH_INLINE void mg_gh_iter_enter(struct mg_gh_call *c) { mg_gh_reading(c, GH_ITER); }
GH_INLINE void mg_gh_iter_exit(struct mg_gh_call *c) { mg_gh_read_done(c, GH_ITER); }

/* Writers mark themselves with plain stores, as gomap's do (detect.h): a
 * locked instruction is a full barrier, two per write. Two writers that
 * come in at the same instant may both store; the one whose mark was
 * overwritten finds a word it did not leave on its way out, and reports. */
GH_INLINE void mg_gh_write_enter(struct mg_gh_call *c)
{
    uint64_t s = __atomic_load_n(&c->e->sync, __ATOMIC_ACQUIRE);
    if (MG_LIKELY(gs_writer(s) == 0)) {
        uint64_t n = gs_enter(s, c->self, c->op);
        MG_WR(c->e->sync, n);
        /* the mark goes out before any of the call's writes to the table */
        __atomic_thread_fence(__ATOMIC_RELEASE);
        c->s0 = n;
        c->owned = true;
        MG_WR(c->e->lastw, site_make(c->pc, c->self));
    } else {
        mg_gh_write_enter_slow(c, s);
    }
    mg_gh_hb_enter(c, GH_WRITE);
}

GH_INLINE void mg_gh_write_exit(struct mg_gh_call *c)
{
    mg_gh_hb_leave(c, GH_WRITE);
    if (MG_LIKELY(c->owned && !c->flagged) && MG_LIKELY(__atomic_load_n(&c->e->req, __ATOMIC_RELAXED) != c->self)) {
        uint64_t s = MG_RD(c->e->sync);
        if (MG_LIKELY(s == c->s0)) {
            __atomic_store_n(&c->e->sync, gs_leave(s), __ATOMIC_RELEASE);
            return;
        }
    }
    mg_gh_write_exit_slow(c);
}

void mg_gh_structural_slow(struct mg_gh_call *c);
void mg_gh_check_key(struct mg_gh_call *c, const void *key, GEqualFunc eq);

/* The call changed the table's set of keys: iterators see it; from inside
 * a foreach/find callback on the table, it is reported. Only tables an
 * iterator or a callback ever watched need the bookkeeping. */
GH_INLINE void mg_gh_structural(struct mg_gh_call *c)
{
    if (MG_UNLIKELY(MG_RD(c->e->watched)))
        mg_gh_structural_slow(c);
}

/* A new key went in: is it equal to itself? Only tables whose equal
 * function may say no pay for the call. */
GH_INLINE void mg_gh_inserted(struct mg_gh_call *c, const void *key)
{
    mg_gh_structural(c);
    GEqualFunc eq = MG_RD(c->e->equal);
    if (MG_UNLIKELY(eq != NULL))
        mg_gh_check_key(c, key, eq);
}

/* An iterator or a callback watches the table from now on: once per table. */
static inline void mg_gh_watch(struct mg_gh_call *c)
{
    if (MG_UNLIKELY(!MG_RD(c->e->watched)))
        MG_WR(c->e->watched, 1);
}

/* A foreach/find runs its callbacks: marks the table until it returns.
 * Returns whether this call holds the mark (a nested or concurrent one
 * does not). */
bool mg_gh_callbacks_begin(struct mg_gh_call *c);
void mg_gh_callbacks_end(struct mg_gh_call *c, bool held);

void mg_gh_made(GHashTable *t, GEqualFunc eq, unsigned op, uintptr_t pc);
void mg_gh_use_after_free(struct mg_gh_call *c);
void mg_gh_double_free(struct mg_gh_call *c);
/* The table's last reference went: marks it freed (within the write
 * section) and records the free for later reports. */
void mg_gh_free_mark(struct mg_gh_call *c);
/* An iterator step found the table changed since its last step. */
void mg_gh_iter_modified(struct mg_gh_call *c, const struct mg_gh_iter *is);

/* The made party of table t's reports (happens_before.c). */
struct mg_party;
void mg_gh_party_made(struct mg_party *p, const void *t);

/* The equal functions that always say k == k, once GLib is found. */
bool mg_gh_reflexive(GEqualFunc eq);

/* leaked-map for tables (detect_leaks=1), from mg_leak_report. */
void mg_gh_leak_report(void);

#endif
