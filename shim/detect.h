/*
 * The detectors' hooks, called by the wrappers in interpose.c around the
 * real gomap call. The fast paths are inline here; everything that only
 * runs when something is wrong lives out of line in detect_*.c.
 *
 *   detect_race.c   overlapping calls from different threads
 *   detect_iter.c   structural changes seen by iterators, irreflexive keys
 *   detect_free.c   use after free, double free, the quarantine, nil writes
 *   detect_leak.c   maps alive at exit (detect_leaks=1)
 *
 * Races are found by comparing what a call sees of the map's sync word at
 * entry and at exit (a seqlock): a writer marks itself in the word and
 * bumps its generation, with plain stores; a reader writes nothing shared,
 * and reports if a
 * writer was there when it came in, or if the generation moved while it
 * was inside. Both orders of overlap are caught: the writer first (the
 * reader sees the mark) and the reader first (the reader sees the
 * generation move, or the writer still there, on its way out).
 */
#ifndef MAPGUARD_DETECT_H
#define MAPGUARD_DETECT_H

#include "gomap_api.h"
#include "happens_before.h"
#include "in_call.h"
#include "mapstate.h"
#include "thread_table.h"

/* One intercepted call on a map, from entry to exit. */
struct mg_call {
    gomap *m;
    uint64_t *w;    /* the map's tool words */
    uintptr_t pc;   /* the application's call site (return address) */
    uint32_t self;  /* this thread's index */
    unsigned op;
    uint64_t s0;    /* sync word: seen at entry (reader), installed (writer) */
    bool owned;     /* this writer holds the writer mark */
    bool flagged;   /* a conflict found at entry, reported at exit */
    int slot;       /* its dedup slot */
    uint64_t seen;  /* the sync word that showed the conflict */
    uint64_t other; /* the other writer's call site word */
    int inflight;   /* the finding's entry in flight (inflight.c), 0: none */
};

enum { MG_PASS, MG_CHECK, MG_FREED };

/* Decides how a call on m is handled: MG_PASS straight to the library
 * (nil map, shim busy, a map the shim never saw made), MG_FREED (the map
 * is in quarantine), MG_CHECK (checked). */
static inline int mg_begin(struct mg_call *c, const gomap *m, unsigned op, uintptr_t pc)
{
    mg_init();
    if (MG_UNLIKELY(mg_self.busy) || !m)
        return MG_PASS;
    c->m = (gomap *)m;
    c->w = mg_words(m);
    c->pc = pc;
    c->op = op;
    c->self = mg_self_idx();
    mg_self.fast = c->self; /* started, registered, not busy: fast paths may run */
    c->flagged = false;
    c->owned = false;
    unsigned st = hdr_state(MG_RD(c->w[MW_HDR]));
    if (MG_LIKELY(st == MS_LIVE))
        return MG_CHECK;
    return st == MS_FREED ? MG_FREED : MG_PASS;
}

/* ---- the per-call hooks ----
 *
 * Every checked call on a live map, whichever path takes it (the fast
 * paths below or the full path through struct mg_call), passes through
 * this pair exactly once: mg_hook_enter once the call is admitted (the
 * race check at entry done, a writer's mark set) and before the real
 * function runs; mg_hook_leave after it returned, before the race check at
 * exit (a writer still holds its mark). A detector that must see every
 * call (happens-before, issue 12) adds its work here and nowhere else;
 * mg_op_access(op) tells a read from an iteration step from a write.
 * Calls that are not checked (the nil map, the shim busy, a map the shim
 * never saw made, a freed map) do not come here, nor do calls on the solo
 * path (below: a process that never had a second thread), nor gomap_new
 * (mg_map_created sets a new map's words up). The fast paths below run
 * the same pair inlined piece by piece, in the same places and the same
 * order (mg_fast_read or mg_fast_write, the same-epoch test in the
 * wrapper, whose failure sends the rest of the call to the wrapper's
 * *_fast_rest, which calls mg_fast_hb_enter; then mg_fast_*_done and,
 * when that declines, mg_fast_*_slow), so they too pass through it
 * exactly once.
 *
 * The happens-before engine (happens_before.h) checks a call on entry and
 * records it on exit. Both are skipped inline when the map's history
 * already holds this thread's access of this class in its current epoch
 * (mg_hb_same_epoch): a TLS load, a load from the map's second line (which
 * gomap reads anyway) and a compare. Otherwise, while the engine is off or
 * dormant, one more load and a predictable branch. */
MG_ALWAYS_INLINE bool mg_hb_same_epoch(const uint64_t *w, unsigned op)
{
    uint64_t e = mg_self.hb_epoch;
    enum mg_access a = mg_op_access(op);
    uint64_t have = __atomic_load_n(&w[a == MG_ACCESS_WRITE ? MW_HB : MW_HB + 2], __ATOMIC_RELAXED);
    uint64_t want = a == MG_ACCESS_ITER ? e | MG_HB_ITER_FLAG : e;
    return have == want; /* never for MG_HB_EPOCH_NONE */
}

static inline void mg_hook_enter(const gomap *m, uint64_t *w, unsigned op, uint32_t self, uintptr_t pc)
{
    (void)self;
    mg_in_call_enter(m, op);
    if (MG_UNLIKELY(!mg_hb_same_epoch(w, op)) && mg_hb_is_awake())
        mg_hb_enter(w, op, pc);
}

static inline void mg_hook_leave(const gomap *m, uint64_t *w, unsigned op, uint32_t self, uintptr_t pc)
{
    (void)m, (void)self;
    mg_in_call_leave_map(w);
    if (MG_UNLIKELY(!mg_hb_same_epoch(w, op)) && mg_hb_is_awake())
        mg_hb_leave(w, op, pc);
}

/* ---- the fast paths ----
 *
 * get, lookup, len, set, assign, delete and iter_next first try a path that keeps
 * everything in registers: one thread-local word, the map's header and its
 * sync word. Anything unusual (shim not started or busy, nil or freed map,
 * any writer's mark, this thread's own included, a map that iterators or an
 * irreflexive key check watch) falls back to the full path through struct
 * mg_call, which decides the call exactly as before. On a large map the
 * difference shows: every instruction the wrapper adds is one less slot for
 * the CPU to overlap this call's cache misses with the next one's
 * (docs/performance-log.md counts them). So the fast path is inlined whole
 * into each wrapper, keeps no state in memory (struct mg_fast stays in
 * registers: every out-of-line helper takes scalars), and every exit
 * check that fails, the happens-before hook's included, leaves through
 * one cold call that redoes the exit in full, in the same order as the
 * full path (mg_fast_read_slow, mg_fast_write_slow). The wrapper's own
 * call site (CALLER()) is passed only to those cold calls: read from the
 * stack there, it costs the hot path nothing. */

#define HDR_LIVE_TAG ((uint64_t)MG_MAGIC << 8 | MS_LIVE)

struct mg_fast {
    uint64_t *w;
    uint64_t s;    /* reader: sync word at entry; writer: the word it stored */
};

/* The tool words of m if the fast path may take this call (shim started,
 * this thread registered and not busy, a live map), with the thread's
 * index in *self; NULL otherwise. */
MG_ALWAYS_INLINE uint64_t *mg_fast_words(const gomap *m, uint32_t *self)
{
    uint32_t me = mg_self.fast;
    if (MG_UNLIKELY(!me) || !m)
        return NULL;
    uint64_t *w = mg_words(m);
    if (MG_UNLIKELY(MG_RD(w[MW_HDR]) >> 32 != HDR_LIVE_TAG))
        return NULL;
    *self = me;
    return w;
}

/* ---- the solo path ----
 *
 * A process that has never had a second thread cannot race: no overlap, no
 * unordered pair. While that holds (mg_solo_over is 0: no thread creation
 * was seen, pthread_create, thrd_create or a libc call that starts
 * SIGEV_THREAD callbacks, and no second thread registered) a
 * map call checks only what one thread can get wrong: a freed or foreign
 * map (the header), and for writes a map that iterators or an irreflexive
 * key check watch; anything else goes the way it always did. It sets no
 * writer mark and records nothing in the access history: the only thread's
 * calls all happen before any thread it creates later, but for the call it
 * is inside when it creates one (from a callback or a signal handler),
 * which its exit records (interpose.c, SOLO_EXIT). On a map with no
 * callback of the program's, the call is bare: the wrapper jumps to the
 * real function, with no frame of its own and nothing to do on return
 * (interpose.c, SOLO_BARE; in_call.h), and only a signal handler can
 * make a thread inside it, which the creation records (happens_before.h,
 * mg_solo_record). What that
 * costs in detection (a thread libc or a raw clone starts, unseen, whose
 * first map call races with one of the solo thread's made after its
 * creation) is in docs/design-detector.md. The mixed loop on a 1M-key
 * map, in one process (wrapper_ab): about 1.08x through the bare path
 * against 1.23x through the fast path (docs/performance.md). */
MG_ALWAYS_INLINE bool mg_solo(const gomap *m)
{
    /* the end flag first: a threaded process then leaves at once for the
     * fast path, which makes the other tests itself */
    if (__atomic_load_n(&mg_solo_over, __ATOMIC_RELAXED))
        return false;
    if (MG_UNLIKELY(!mg_self.fast) || !m)
        return false;
    return MG_LIKELY(MG_RD(mg_words(m)[MW_HDR]) >> 32 == HDR_LIVE_TAG);
}

MG_ALWAYS_INLINE bool mg_solo_write(const gomap *m)
{
    if (!mg_solo(m))
        return false;
    const uint64_t *w = mg_words(m);
    return MG_LIKELY(!(MG_RD(w[MW_SHAPE]) & SH_ITERATED) && !MG_RD(w[MW_EQUAL]));
}

/* The bare solo path (interpose.c, SOLO_BARE): a map with no callback of
 * the program's (mapstate.h, SH_FRAMED). For writes, also one that no
 * iterator watches (a framed map is one whose equal can say no, too). */
MG_ALWAYS_INLINE bool mg_solo_bare(const gomap *m)
{
    return mg_solo(m) && MG_LIKELY(!(MG_RD(mg_words(m)[MW_SHAPE]) & SH_FRAMED));
}

MG_ALWAYS_INLINE bool mg_solo_bare_write(const gomap *m)
{
    return mg_solo(m) && MG_LIKELY(!(MG_RD(mg_words(m)[MW_SHAPE]) & (SH_ITERATED | SH_FRAMED)));
}

/* an iteration step, while the map has the shape the iterator last saw */
MG_ALWAYS_INLINE bool mg_solo_iter(const gomap *m, const gomap_iter *it)
{
    return mg_solo(m) && shape_gen(MG_RD(mg_words(m)[MW_SHAPE])) == it_gen(it->tool_[IW_GEN]);
}

/* The entry hook's happens-before part (mg_hook_enter's), when the
 * same-epoch test failed: pc is only read here. */
MG_ALWAYS_INLINE void mg_fast_hb_enter(uint64_t *w, unsigned op, uintptr_t pc)
{
    if (mg_hb_is_awake())
        mg_hb_enter(w, op, pc);
}

/* A read's entry: the race check and the entry hook (mg_hook_enter, its
 * happens-before test done by the wrapper, interpose.c).
 * it: the iterator of an iteration step, which may take the fast path only
 * while the map has the shape the iterator last saw; NULL otherwise. */
MG_ALWAYS_INLINE bool mg_fast_read(const gomap *m, const gomap_iter *it, unsigned op, struct mg_fast *f)
{
    uint32_t self;
    uint64_t *w = mg_fast_words(m, &self);
    if (!w)
        return false;
    uint64_t s = __atomic_load_n(&w[MW_SYNC], __ATOMIC_ACQUIRE);
    /* a writer inside, even this thread (a callback reading the map its
     * own write is in): the full path sorts it out */
    if (MG_UNLIKELY(sy_writer(s) != 0))
        return false;
    if (it && shape_gen(MG_RD(w[MW_SHAPE])) != it_gen(it->tool_[IW_GEN]))
        return false;
    f->w = w;
    f->s = s;
    mg_in_call_enter(m, op);
    return true;
}

/* A read's exit, all of it when it returns true: the hook (mg_hook_leave)
 * found the same epoch, and the sync word did not move. Otherwise the
 * caller runs mg_fast_read_slow, which redoes the exit in full. */
MG_ALWAYS_INLINE bool mg_fast_read_done(const struct mg_fast *f, unsigned op)
{
    mg_in_call_leave_map(f->w);
    bool same = mg_hb_same_epoch(f->w, op);
    /* the map reads above must be done before the word is looked at again */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    uint64_t s = MG_RD(f->w[MW_SYNC]);
    return MG_LIKELY(same) && MG_LIKELY(!((s ^ f->s) & ~SY_REQ));
}

/* The exit of a fast-path read that mg_fast_read_done declined: the hook's
 * happens-before part, then the race check at exit (detect_race.c). */
MG_COLD void mg_fast_read_slow(const gomap *m, unsigned op, uintptr_t pc, uint64_t s0);

/* A write's entry: the race check, the writer's mark, and the entry hook
 * (its happens-before test by the wrapper, interpose.c). */
MG_ALWAYS_INLINE bool mg_fast_write(gomap *m, unsigned op, uintptr_t pc, struct mg_fast *f)
{
    uint32_t self;
    uint64_t *w = mg_fast_words(m, &self);
    if (!w)
        return false;
    uint64_t s = MG_RD(w[MW_SYNC]);
    if (MG_UNLIKELY(sy_writer(s) != 0 || (MG_RD(w[MW_SHAPE]) & SH_ITERATED) || MG_RD(w[MW_EQUAL])))
        return false;
    uint64_t n = sy_enter(s, self, op);
    MG_WR(w[MW_SYNC], n);
    /* the mark goes out before any of the call's writes to the map */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    MG_WR(w[MW_LASTW], site_make(pc, self));
    f->w = w;
    f->s = n;
    mg_in_call_enter(m, op);
    return true;
}

/* A write's exit, all of it when it returns true: the hook found the same
 * epoch, and the word still holds this writer's mark, which is cleared.
 * Otherwise the caller runs mg_fast_write_slow, which redoes it in full. */
MG_ALWAYS_INLINE bool mg_fast_write_done(const struct mg_fast *f, unsigned op)
{
    mg_in_call_leave_map(f->w);
    bool same = mg_hb_same_epoch(f->w, op);
    uint64_t s = MG_RD(f->w[MW_SYNC]);
    if (MG_LIKELY(same) && MG_LIKELY(s == f->s)) {
        __atomic_store_n(&f->w[MW_SYNC], sy_leave(s), __ATOMIC_RELEASE);
        return true;
    }
    return false;
}

MG_COLD void mg_fast_write_slow(gomap *m, unsigned op, uintptr_t pc, uint64_t n);

/* ---- races (detect_race.c) ---- */

void mg_read_enter_slow(struct mg_call *c, uint64_t s);
void mg_read_exit_slow(struct mg_call *c, uint64_t s);
void mg_write_enter_slow(struct mg_call *c, uint64_t s);
void mg_write_exit_slow(struct mg_call *c);
/* The calling thread ends (thread_table.c, its key's destructor): a map
 * call it never left loses its writer mark. */
void mg_race_thread_ends(uint32_t self);

static inline void mg_read_enter(struct mg_call *c)
{
    uint64_t s = __atomic_load_n(&c->w[MW_SYNC], __ATOMIC_ACQUIRE);
    c->s0 = s;
    uint32_t wr = sy_writer(s);
    if (MG_UNLIKELY(wr != 0 && wr != c->self))
        mg_read_enter_slow(c, s);
    mg_hook_enter(c->m, c->w, c->op, c->self, c->pc);
}

static inline void mg_read_exit(struct mg_call *c)
{
    mg_hook_leave(c->m, c->w, c->op, c->self, c->pc);
    /* the map reads above must be done before the word is looked at again */
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    uint64_t s = MG_RD(c->w[MW_SYNC]);
    if (MG_UNLIKELY(c->flagged || ((s ^ c->s0) & ~SY_REQ)))
        mg_read_exit_slow(c, s);
}

/* Writers mark themselves with plain stores, not compare-and-swap: a
 * locked instruction is a full barrier, and on a large map it stops the
 * CPU from overlapping one call's cache misses with the next one's. Two
 * writers that come in at the same instant may both store; the one whose
 * mark was overwritten sees a different word on its way out and reports
 * then (mg_write_exit_slow). */
static inline void mg_write_enter(struct mg_call *c)
{
    uint64_t s = MG_RD(c->w[MW_SYNC]);
    if (MG_LIKELY(sy_writer(s) == 0)) {
        uint64_t n = sy_enter(s, c->self, c->op);
        MG_WR(c->w[MW_SYNC], n);
        /* the mark goes out before any of the call's writes to the map */
        __atomic_thread_fence(__ATOMIC_RELEASE);
        c->s0 = n;
        c->owned = true;
        MG_WR(c->w[MW_LASTW], site_make(c->pc, c->self));
    } else {
        mg_write_enter_slow(c, s);
    }
    mg_hook_enter(c->m, c->w, c->op, c->self, c->pc);
}

static inline void mg_write_exit(struct mg_call *c)
{
    mg_hook_leave(c->m, c->w, c->op, c->self, c->pc);
    if (MG_LIKELY(c->owned && !c->flagged)) {
        uint64_t s = MG_RD(c->w[MW_SYNC]);
        if (MG_LIKELY(s == c->s0)) {
            __atomic_store_n(&c->w[MW_SYNC], sy_leave(s), __ATOMIC_RELEASE);
            return;
        }
    }
    mg_write_exit_slow(c);
}

/* ---- iteration and keys (detect_iter.c) ---- */

_Static_assert(MG_OP_END <= 0x40, "an op fits the shape word's six bits (mapstate.h)");

/* A structural change (new key, deleted key, clear) by this call. Only
 * iterators look at it, so a map never iterated skips the bookkeeping; the
 * first gomap_iter_init takes the generation as it finds it. */
static inline void mg_structural(struct mg_call *c)
{
    uint64_t sh = MG_RD(c->w[MW_SHAPE]);
    if (!(sh & SH_ITERATED))
        return;
    MG_WR(c->w[MW_SHAPE], shape_make(shape_gen(sh) + 1, c->op, shape_ksize(sh)) | (sh & (SH_ITERATED | SH_FRAMED)));
    MG_WR(c->w[MW_LASTMOD], site_make(c->pc, c->self));
}

/* Does a set or assign need to learn whether it inserted? Only when an
 * iterator may be watching (the map was ever iterated) or the key may be
 * irreflexive; other maps skip the two gomap_len calls. */
static inline bool mg_wants_inserts(const struct mg_call *c)
{
    return (MG_RD(c->w[MW_SHAPE]) & SH_ITERATED) || MG_RD(c->w[MW_EQUAL]);
}

/* The first iterator marks the map: a single write, once per map. */
static inline void mg_mark_iterated(struct mg_call *c)
{
    if (MG_UNLIKELY(!(MG_RD(c->w[MW_SHAPE]) & SH_ITERATED)))
        __atomic_fetch_or(&c->w[MW_SHAPE], SH_ITERATED, __ATOMIC_RELAXED);
}

void mg_check_key_slow(struct mg_call *c, const void *key, gomap_equal_fn eq);
/* After a new key went in: is it equal to itself? Only maps whose equal
 * function can say no (set up at gomap_new) pay for the call. */
static inline void mg_inserted(struct mg_call *c, const void *key)
{
    mg_structural(c);
    gomap_equal_fn eq = (gomap_equal_fn)(uintptr_t)MG_RD(c->w[MW_EQUAL]);
    if (MG_UNLIKELY(eq != NULL))
        mg_check_key_slow(c, key, eq);
}

void mg_iter_modified(struct mg_call *c, gomap_iter *it, uint32_t now);
void mg_map_created(gomap *m, const gomap_type *type, uintptr_t pc);

/* ---- free, use after free, nil writes (detect_free.c) ---- */

void mg_nil_write(unsigned op, uintptr_t pc);
void mg_use_after_free(struct mg_call *c);
void mg_double_free(struct mg_call *c);
/* Marks the map freed (inside the write section of gomap_free). */
void mg_free_mark(struct mg_call *c);
/* Puts the map in quarantine; the real free happens when it falls out. */
void mg_quarantine(gomap *m);

/* ---- leaks (detect_leak.c) ---- */

void mg_leak_track(gomap *m);
void mg_leak_untrack(gomap *m);
void mg_leak_report(void);
void mg_leak_lock(void);
void mg_leak_unlock(void);
void mg_leak_atfork_child(void);

#endif
