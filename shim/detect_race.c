/*
 * Concurrent calls on one map: concurrent-read-write, concurrent-writes,
 * concurrent-iteration-write. The fast paths are in detect.h; this file
 * runs only when the sync word shows another thread.
 *
 * The other thread's full stack. The detecting thread knows the other
 * thread only from the sync word (its index and op) and the map's last
 * write call site. When the other thread is still inside its call, the
 * detector sets the REQ bit in the sync word; the other thread, on its way
 * out (it finds the word changed), captures its own
 * stack, stores the depot id in the map's pub word, then clears its mark.
 * The detector waits for that, at most conflict_wait_ms, and only after
 * its own call into the library is done, so that a writer parked until the
 * detector's call returns cannot deadlock anyone. When the other call has
 * already left, or does not leave in time, the report carries its call
 * site only, with stack_complete false.
 */
#include "no_cancel.h"
#include "detect.h"
#include "dedup.h"
#include "ghash_ops.h"
#include "inflight.h"
#include "options.h"
#include "report.h"
#include "stack.h"

#include <sched.h>
#include <time.h>

static int kind_of(const struct mg_call *c)
{
    switch (mg_op_access(c->op)) {
    case MG_ACCESS_READ:
        return MK_READ_WRITE;
    case MG_ACCESS_ITER:
        return MK_ITER_WRITE;
    default:
        return MK_WRITES;
    }
}

/* Asks writer wr, if still inside, to hand over its stack on exit. */
static void request_stack(struct mg_call *c, uint32_t wr)
{
    __atomic_store_n(&c->w[MW_PUB], 0, __ATOMIC_RELAXED);
    uint64_t s = MG_RD(c->w[MW_SYNC]);
    while (sy_writer(s) == wr && !(s & SY_REQ))
        if (__atomic_compare_exchange_n(&c->w[MW_SYNC], &s, s | SY_REQ, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
            break;
}

static uint32_t published(struct mg_call *c, uint32_t wr)
{
    uint64_t p = __atomic_load_n(&c->w[MW_PUB], __ATOMIC_ACQUIRE);
    return (p & PUB_VALID) && pub_thread(p) == wr ? (uint32_t)p : 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The stack writer wr published, or 0 if it left without one or took
 * longer than conflict_wait_ms. */
static uint32_t await_stack(struct mg_call *c, uint32_t wr)
{
    uint64_t deadline = now_ms() + (uint64_t)mg_opt.conflict_wait_ms;
    for (unsigned spins = 0;; spins++) {
        uint32_t id = published(c, wr);
        if (id)
            return id;
        uint64_t s = MG_RD(c->w[MW_SYNC]);
        if (sy_writer(s) != wr || !(s & SY_REQ))
            return published(c, wr); /* it left: published by now, or never asked */
        if (now_ms() >= deadline)
            return 0;
        if (spins < 64) {
            sched_yield();
        } else {
            struct timespec ts = {0, 100 * 1000};
            int cancel = mg_cancel_off(); /* no_cancel.h */
            nanosleep(&ts, NULL);
            mg_cancel_restore(cancel);
        }
    }
}

/* The conflict found at entry or exit, reported once the call is done. */
static MG_COLD void finish(struct mg_call *c)
{
    uint32_t inside = sy_writer(c->seen);
    uint32_t wr = inside ? inside : site_thread(c->other);
    struct mg_finding f = {.kind = kind_of(c), .map = c->m};
    mg_busy_enter();
    uint32_t stack = inside ? await_stack(c, wr) : 0;
    const uintptr_t *pcs;
    int n;
    if (stack && c->inflight && mg_depot_get(stack, &pcs, &n) && n > 0 && pcs[0] != site_pc(c->other)) {
        int slot = mg_report_rekey(c->slot, f.kind, c->pc, pcs[0]);
        if (slot < 0) { /* that pair's finding is out already: a repeat */
            mg_inflight_drop(c->inflight);
            mg_busy_leave();
            return;
        }
        c->slot = slot;
        mg_inflight_slot(c->inflight, slot);
    }
    f.access = (struct mg_party){
        .present = true, .op = c->op, .thread = c->self, .stack = mg_stack_capture_id(), .pc = c->pc,
        .complete = true,
    };
    f.other = (struct mg_party){
        .present = true,
        .op = inside ? sy_op(c->seen) : sy_lastop(c->seen),
        .thread = wr,
        .stack = stack,
        .pc = site_thread(c->other) == wr ? site_pc(c->other) : 0,
        .complete = stack != 0,
    };
    mg_party_made(&f.made, c->m);
    mg_busy_leave();
    mg_report_inflight(&f, c->slot, c->inflight);
}

/* Claims a dedup slot for the conflict with writer wr; asks for its stack
 * if it is inside. False for a repeat. */
static bool note(struct mg_call *c, int kind, uint64_t s, uint32_t wr)
{
    uint64_t lw = MG_RD(c->w[MW_LASTW]);
    c->other = site_thread(lw) == wr ? lw : 0;
    c->seen = s;
    c->slot = mg_report_claim(kind, c->pc, site_pc(c->other));
    c->flagged = true;
    c->inflight = 0;
    if (c->slot < 0)
        return false;
    /* On record now: finish() may wait conflict_wait_ms for the other
     * thread's stack, and the other thread's call may crash the program
     * meanwhile. */
    struct mg_finding f = {.kind = kind, .map = c->m};
    f.access = (struct mg_party){.present = true, .op = c->op, .thread = c->self, .pc = c->pc};
    f.other = (struct mg_party){
        .present = true,
        .op = sy_writer(s) == wr ? sy_op(s) : sy_lastop(s),
        .thread = wr,
        .pc = site_pc(c->other),
    };
    mg_busy_enter();
    c->inflight = mg_inflight_begin(&f, c->slot);
    mg_busy_leave();
    /* Off the record (every entry of inflight.c's table busy), waiting for
     * the other stack would let an exit take the finding: reported at
     * once, with the other call's call site only. */
    if (sy_writer(s) == wr && c->inflight)
        request_stack(c, wr);
    return true;
}

/* In a forked child, a mark left by a thread that did not come along is
 * no writer: nobody is left to finish that write. Clears it (keeping the
 * generation) and returns the word as it now is. Runs only when a sync word
 * shows another thread, so the fast paths pay nothing for it. */
static uint64_t drop_gone_writer(struct mg_call *c, uint64_t s)
{
    while (sy_writer(s) != 0 && mg_thread_gone(sy_writer(s)))
        if (__atomic_compare_exchange_n(&c->w[MW_SYNC], &s, sy_leave(s), false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return sy_leave(s);
    return s;
}

/* A thread that ends inside a map call never reaches the call's exit:
 * cancelled at a cancellation point in a hash or equal callback, or
 * pthread_exit called from one. Its writer mark would stay in the map's
 * sync word, and every later call on the map, however well locked, would
 * be reported as overlapping a write of a thread long joined, each report
 * waiting conflict_wait_ms for that thread's stack (a held-out probe: a
 * cancelled thread's set, then six false reports and six seconds). The
 * in-call word names the call the thread was inside; its mark, if still
 * there, goes, the generation kept, as at a write's exit. The call itself
 * is not recorded by the happens-before engine (it records at the exit),
 * so nothing is checked against it later. The map is live: freeing it
 * while the call was inside would itself be a race, and a freed map
 * waits in the quarantine with its header saying so. A thread that leaves
 * a call with longjmp stays alive and keeps the mark: design-detector.md,
 * "What mapguard sees and what it does not". */
void mg_race_thread_ends(uint32_t self)
{
    uintptr_t word = __atomic_load_n(&mg_self.in_call, __ATOMIC_RELAXED);
    unsigned op = mg_in_call_op(word);
    /* a bare solo call sets no mark, and its word may outlive it (in_call.h) */
    if (op == MG_OP_NONE || mg_op_is_ghash(op) || self == 0 || (word & MG_IN_CALL_SOLO))
        return;
    uint64_t *w = mg_words((const gomap *)mg_in_call_map(word));
    mg_in_call_leave();
    if (hdr_state(MG_RD(w[MW_HDR])) != MS_LIVE)
        return;
    uint64_t s = MG_RD(w[MW_SYNC]);
    while (sy_writer(s) == self)
        if (__atomic_compare_exchange_n(&w[MW_SYNC], &s, sy_leave(s), false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            break;
}

/* A reader came in while another thread was writing. */
void mg_read_enter_slow(struct mg_call *c, uint64_t s)
{
    s = drop_gone_writer(c, s);
    c->s0 = s;
    uint32_t wr = sy_writer(s);
    if (wr == 0 || wr == c->self)
        return;
    note(c, kind_of(c), s, wr);
}

/* A reader leaves: flagged at entry, or the word moved while it was in. */
void mg_read_exit_slow(struct mg_call *c, uint64_t s)
{
    if (c->flagged) {
        if (c->slot >= 0)
            finish(c);
        return;
    }
    uint32_t wr = sy_writer(s);
    if (wr == 0) {
        /* The writer came and went while we were inside. */
        wr = site_thread(MG_RD(c->w[MW_LASTW]));
        s &= ~(SY_WIDX_MASK | SY_REQ);
    }
    /* Our own callback writing the map is nesting, not concurrency; a
     * thread gone at a fork only had its mark cleared (drop_gone_writer). */
    if (wr == 0 || wr == c->self || mg_thread_gone(wr))
        return;
    if (note(c, kind_of(c), s, wr))
        finish(c);
}

void mg_write_enter_slow(struct mg_call *c, uint64_t s)
{
    for (;;) {
        uint32_t wr = sy_writer(s);
        /* sy_enter replaces a gone thread's mark with ours */
        if (wr == 0 || mg_thread_gone(wr)) {
            uint64_t n = sy_enter(s, c->self, c->op);
            if (__atomic_compare_exchange_n(&c->w[MW_SYNC], &s, n, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
                c->s0 = n;
                c->owned = true;
                MG_WR(c->w[MW_LASTW], site_make(c->pc, c->self));
                return;
            }
            continue;
        }
        if (wr == c->self) {
            /* A callback of this thread's own write: nesting, and the
             * outer call keeps the mark. */
            MG_WR(c->w[MW_LASTW], site_make(c->pc, c->self));
            return;
        }
        /* Another thread is inside a write. Bump the generation so readers
         * that overlap only this call still see a write went by. */
        note(c, MK_WRITES, s, wr);
        __atomic_fetch_add(&c->w[MW_SYNC], SY_GEN1, __ATOMIC_RELAXED);
        MG_WR(c->w[MW_LASTW], site_make(c->pc, c->self));
        return;
    }
}

void mg_write_exit_slow(struct mg_call *c)
{
    if (c->owned) {
        bool published_once = false;
        uint64_t s = MG_RD(c->w[MW_SYNC]);
        for (;;) {
            uint32_t wr = sy_writer(s);
            if (wr != c->self) {
                /* Another writer came in at the same instant as we did and
                 * overwrote our mark: it never saw us, so we report. */
                if (!c->flagged) {
                    if (wr == 0) {
                        wr = site_thread(MG_RD(c->w[MW_LASTW]));
                        s &= ~(SY_WIDX_MASK | SY_REQ);
                    }
                    if (wr != 0 && wr != c->self && !mg_thread_gone(wr))
                        note(c, MK_WRITES, s, wr);
                }
                break;
            }
            if ((s & SY_REQ) && !published_once) {
                /* Someone found us overlapping their call: hand over the
                 * stack before leaving. */
                mg_busy_enter();
                mg_thread_remember_name();
                uint32_t id = mg_stack_capture_id();
                mg_busy_leave();
                __atomic_store_n(&c->w[MW_PUB], pub_make(c->self, id), __ATOMIC_RELEASE);
                published_once = true;
            }
            if (__atomic_compare_exchange_n(&c->w[MW_SYNC], &s, sy_leave(s), false, __ATOMIC_RELEASE,
                                            __ATOMIC_RELAXED))
                break;
        }
    }
    if (c->flagged && c->slot >= 0)
        finish(c);
}

/* A fast-path read whose exit mg_fast_read_done declined: the rest of
 * the hook (the happens-before record), then the race check at exit, as
 * mg_read_exit does them. */
void mg_fast_read_slow(const gomap *m, unsigned op, uintptr_t pc, uint64_t s0)
{
    uint64_t *w = mg_words(m);
    if (!mg_hb_same_epoch(w, op) && mg_hb_is_awake())
        mg_hb_leave(w, op, pc);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    uint64_t now = MG_RD(w[MW_SYNC]);
    if ((now ^ s0) & ~SY_REQ) {
        struct mg_call c = {
            .m = (gomap *)m, .w = w, .pc = pc, .self = mg_self.idx, .op = op, .s0 = s0,
        };
        mg_read_exit_slow(&c, now);
    }
}

/* A fast-path write whose exit mg_fast_write_done declined: the rest of
 * the hook, then the writer's exit as mg_write_exit does it; a word that
 * changed is a request for its stack, or another writer. */
void mg_fast_write_slow(gomap *m, unsigned op, uintptr_t pc, uint64_t n)
{
    uint64_t *w = mg_words(m);
    if (!mg_hb_same_epoch(w, op) && mg_hb_is_awake())
        mg_hb_leave(w, op, pc);
    uint64_t s = MG_RD(w[MW_SYNC]);
    if (MG_LIKELY(s == n)) {
        __atomic_store_n(&w[MW_SYNC], sy_leave(s), __ATOMIC_RELEASE);
        return;
    }
    struct mg_call c = {
        .m = m, .w = w, .pc = pc, .self = mg_self.idx, .op = op, .s0 = n, .owned = true,
    };
    mg_write_exit_slow(&c);
}
