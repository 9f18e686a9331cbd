/*
 * Sync-object clocks: mutexes, semaphores, rwlocks, barriers, reset and
 * reclaim, the fallback clock.
 */
#include "hb_arena.h"
#include "hb_test.h"

#include <string.h>

struct world {
    struct hb_thr *main_t, *t[8];
};

static void start(struct world *w, int n)
{
    w->main_t = hb_thread_create(NULL, 1);
    for (int i = 0; i < n; i++)
        w->t[i] = hb_thread_create(w->main_t, (uint64_t)i + 2);
}

Test(hb_sync, mutex_release_then_acquire_orders)
{
    struct world w;
    start(&w, 3);
    struct hb_access m = {0};
    struct hb_conflict c;
    assert_none(wr(w.t[0], &m, 0x41, &c));
    hb_release(w.t[0], OBJ(1));
    hb_acquire(w.t[1], OBJ(1));
    assert_none(wr(w.t[1], &m, 0x42, &c));
    /* a thread that took no lock races with both */
    assert_race(rd(w.t[2], &m, 0x43, &c), HB_RACE_READ_WRITE);
    cr_assert_eq(c.slot, w.t[1]->slot);
}

Test(hb_sync, two_different_locks_do_not_order)
{
    struct world w;
    start(&w, 2);
    struct hb_access m = {0};
    struct hb_conflict c;
    hb_acquire(w.t[0], OBJ(1));
    assert_none(wr(w.t[0], &m, 0x51, &c));
    hb_release(w.t[0], OBJ(1));
    hb_acquire(w.t[1], OBJ(2));
    assert_race(wr(w.t[1], &m, 0x52, &c), HB_RACE_WRITES);
    cr_assert_eq(c.pc, 0x51);
    hb_release(w.t[1], OBJ(2));
}

Test(hb_sync, access_after_the_unlock_is_not_covered)
{
    struct world w;
    start(&w, 2);
    struct hb_access m = {0};
    struct hb_conflict c;
    hb_acquire(w.t[0], OBJ(1));
    assert_none(wr(w.t[0], &m, 0x61, &c));
    hb_release(w.t[0], OBJ(1));
    assert_none(wr(w.t[0], &m, 0x62, &c)); /* just after the unlock */
    hb_acquire(w.t[1], OBJ(1));
    assert_race(rd(w.t[1], &m, 0x63, &c), HB_RACE_READ_WRITE);
    cr_assert_eq(c.pc, 0x62);
    cr_assert_eq(c.slot, w.t[0]->slot);
}

/* The same thread locking over and over takes the fast paths; what it
 * acquired elsewhere in between must still reach the next holder. */
Test(hb_sync, repeated_lock_by_one_thread_keeps_what_it_acquired)
{
    struct world w;
    start(&w, 3);
    struct hb_access m = {0}, n = {0};
    struct hb_conflict c;
    for (int i = 0; i < 3; i++) {
        hb_acquire(w.t[0], OBJ(1));
        assert_none(wr(w.t[0], &m, 0x71, &c));
        hb_release(w.t[0], OBJ(1));
    }
    uint32_t gen = w.t[0]->vgen;
    hb_acquire(w.t[0], OBJ(1)); /* its own copy: nothing to take */
    cr_assert_eq(w.t[0]->vgen, gen);
    assert_none(wr(w.t[2], &n, 0x72, &c));
    hb_release(w.t[2], OBJ(2));
    hb_acquire(w.t[0], OBJ(2)); /* t0 now knows t2's write */
    cr_assert_neq(w.t[0]->vgen, gen);
    hb_release(w.t[0], OBJ(1));
    hb_acquire(w.t[1], OBJ(1));
    assert_none(wr(w.t[1], &m, 0x73, &c));
    assert_none(wr(w.t[1], &n, 0x74, &c)); /* t2 -> OBJ(2) -> t0 -> OBJ(1) -> t1 */
}

/* The recursion guard the inline paths raise around a handoff; here,
 * where no signal handler runs, it must only come back to 0. */
static uint32_t guard;
#define acquired_fast(t, addr) hb_lock_acquired_fast((t), (addr), &guard)
#define releasing_fast(t, addr) hb_lock_releasing_fast((t), (addr), &guard)

/* A mutex as the wrappers drive it (happens_before.c): the inline fast
 * path first, the full one when it declines. */
static bool lock(struct hb_thr *t, uintptr_t addr)
{
    int r = acquired_fast(t, addr);
    cr_assert_eq(guard, 0);
    return r >= 0 ? r > 0 : hb_acquire_excl(t, addr);
}

static void unlock(struct hb_thr *t, uintptr_t addr)
{
    if (!releasing_fast(t, addr))
        hb_release_excl(t, addr);
    cr_assert_eq(guard, 0);
}

/* Taking its own lock again, with nobody in between, leaves a thread in
 * its epoch: its calls there are the ones it already recorded, and the
 * next holder is ordered after all of them. */
Test(hb_sync, lock_taken_again_keeps_the_epoch)
{
    struct world w;
    start(&w, 3);
    struct hb_access m = {0};
    struct hb_conflict c;
    lock(w.t[0], OBJ(1));
    assert_none(wr(w.t[0], &m, 0x81, &c));
    hb_epoch e = hb_thr_epoch(w.t[0]);
    unlock(w.t[0], OBJ(1));
    for (int i = 0; i < 3; i++) {
        cr_assert(lock(w.t[0], OBJ(1)), "hold %d: the tick is taken back", i);
        cr_assert_eq(hb_thr_epoch(w.t[0]), e);
        assert_none(wr(w.t[0], &m, 0x82, &c));
        unlock(w.t[0], OBJ(1));
    }
    cr_assert_eq(HB_LD(w.t[0]->lk->key), OBJ(1), "the fast paths took these");
    lock(w.t[1], OBJ(1));
    assert_none(rd(w.t[1], &m, 0x83, &c));
    unlock(w.t[1], OBJ(1));
    /* unordered with all of them; the epoch's first write names them */
    assert_race(rd(w.t[2], &m, 0x84, &c), HB_RACE_READ_WRITE);
    cr_assert_eq(c.slot, w.t[0]->slot);
    cr_assert_eq(c.pc, 0x81);
}

/* Another lock let go in between: its next holder takes the epoch the
 * thread had, so what the thread does after taking the first lock again
 * must be a new epoch. */
Test(hb_sync, lock_taken_again_keeps_another_release)
{
    struct world w;
    start(&w, 2);
    struct hb_access m = {0};
    struct hb_conflict c;
    lock(w.t[0], OBJ(1));
    assert_none(wr(w.t[0], &m, 0x91, &c));
    unlock(w.t[0], OBJ(1));
    lock(w.t[0], OBJ(2));
    unlock(w.t[0], OBJ(2));
    cr_assert_not(lock(w.t[0], OBJ(1)), "OBJ(2)'s release still needs the tick");
    assert_none(wr(w.t[0], &m, 0x92, &c));
    unlock(w.t[0], OBJ(1));
    lock(w.t[1], OBJ(2));
    assert_race(rd(w.t[1], &m, 0x93, &c), HB_RACE_READ_WRITE);
    cr_assert_eq(c.pc, 0x92);
    /* both let go, both taken again: nothing is left to tick for */
    struct hb_access n = {0};
    lock(w.t[0], OBJ(3));
    assert_none(wr(w.t[0], &n, 0x94, &c));
    unlock(w.t[0], OBJ(3));
    lock(w.t[0], OBJ(4));
    unlock(w.t[0], OBJ(4));
    hb_epoch e = hb_thr_epoch(w.t[0]);
    cr_assert_not(lock(w.t[0], OBJ(3)));
    cr_assert(lock(w.t[0], OBJ(4)));
    cr_assert_eq(hb_thr_epoch(w.t[0]), e);
}

/* Another thread took the lock in between: its clock is the other
 * thread's now, and the first thread's next calls are a new epoch. */
Test(hb_sync, lock_taken_between_gives_a_new_epoch)
{
    struct world w;
    start(&w, 2);
    struct hb_access m = {0};
    struct hb_conflict c;
    lock(w.t[0], OBJ(1));
    assert_none(wr(w.t[0], &m, 0xa1, &c));
    unlock(w.t[0], OBJ(1));
    lock(w.t[1], OBJ(1));
    unlock(w.t[1], OBJ(1));
    cr_assert_not(lock(w.t[0], OBJ(1)));
    assert_none(wr(w.t[0], &m, 0xa2, &c));
    unlock(w.t[0], OBJ(1));
    /* t1 knows t0 only up to its first hold */
    assert_race(rd(w.t[1], &m, 0xa3, &c), HB_RACE_READ_WRITE);
    cr_assert_eq(c.pc, 0xa2);
}

/* Another thread took the lock's clock without taking the lock (an
 * annotation on its address, MAPGUARD_HAPPENS_AFTER): the lock's holder
 * taking it again must start a new epoch all the same, or its next calls
 * would look ordered before that acquire (a held-out probe: the read
 * after the second write was missed). */
Test(hb_sync, acquire_without_the_lock_between_gives_a_new_epoch)
{
    struct world w;
    start(&w, 2);
    struct hb_access m = {0};
    struct hb_conflict c;
    lock(w.t[0], OBJ(1));
    assert_none(wr(w.t[0], &m, 0xb1, &c));
    unlock(w.t[0], OBJ(1));
    hb_acquire(w.t[1], OBJ(1));
    cr_assert_not(lock(w.t[0], OBJ(1)), "another thread acquired the lock's clock");
    assert_none(wr(w.t[0], &m, 0xb3, &c));
    unlock(w.t[0], OBJ(1));
    assert_race(rd(w.t[1], &m, 0xb4, &c), HB_RACE_READ_WRITE);
    cr_assert_eq(c.pc, 0xb3);
    cr_assert_eq(c.slot, w.t[0]->slot);
}

/* A lock passed back and forth between two threads (a map under a
 * contended mutex): once each thread has been through the full paths,
 * every handoff is taken and let go by the inline ones (hb_sync.h,
 * hb_handoff_take and hb_handoff_give), and they order as the full ones do:
 * directly, and transitively through what the holder acquired elsewhere. */
Test(hb_sync, handoffs_take_the_inline_paths_and_order)
{
    struct world w;
    start(&w, 3);
    struct hb_access m = {0}, n = {0};
    struct hb_conflict c;
    lock(w.t[0], OBJ(1));
    unlock(w.t[0], OBJ(1));
    lock(w.t[1], OBJ(1));
    unlock(w.t[1], OBJ(1));
    for (int i = 0; i < 4; i++) {
        struct hb_thr *a = w.t[0], *b = w.t[1];
        cr_assert_eq(acquired_fast(a, OBJ(1)), 0, "round %d: the handoff is taken inline", i);
        assert_none(wr(a, &m, 0xd1, &c));
        cr_assert(releasing_fast(a, OBJ(1)), "round %d: and let go inline", i);
        cr_assert_eq(HB_LD(w.t[0]->lk->rel), hb_thr_epoch(a), "the lock's clock is a's copy");
        cr_assert_eq(acquired_fast(b, OBJ(1)), 0);
        assert_none(rd(b, &m, 0xd2, &c));
        cr_assert(releasing_fast(b, OBJ(1)));
    }
    /* t2's write reaches t0 through OBJ(2), t1's hold of it and OBJ(1) */
    assert_none(wr(w.t[2], &n, 0xd3, &c));
    unlock(w.t[2], OBJ(2));
    lock(w.t[1], OBJ(2));
    unlock(w.t[1], OBJ(2));
    cr_assert_eq(acquired_fast(w.t[1], OBJ(1)), -1, "t1 went through OBJ(2) last");
    cr_assert_not(hb_acquire_excl(w.t[1], OBJ(1)));
    assert_none(wr(w.t[1], &m, 0xd4, &c));
    cr_assert(releasing_fast(w.t[1], OBJ(1)));
    cr_assert_eq(acquired_fast(w.t[0], OBJ(1)), 0);
    assert_none(rd(w.t[0], &m, 0xd5, &c));
    assert_none(rd(w.t[0], &n, 0xd6, &c));
    /* a thread that took no lock races with the last writer */
    assert_race(rd(w.t[2], &m, 0xd7, &c), HB_RACE_READ_WRITE);
    cr_assert_eq(c.slot, w.t[1]->slot);
    cr_assert_eq(c.pc, 0xd4);
}

/* Too wide a clock for the inline words: the inline paths decline, and
 * the full paths move the lock's clock to the arena. */
Test(hb_sync, handoff_of_a_wide_clock_leaves_the_inline_paths)
{
    struct world w;
    start(&w, 8);
    struct hb_access m = {0};
    struct hb_conflict c;
    lock(w.t[0], OBJ(1));
    assert_none(wr(w.t[0], &m, 0xe1, &c));
    unlock(w.t[0], OBJ(1));
    lock(w.t[7], OBJ(1)); /* slot 9: a 10-entry clock */
    assert_none(wr(w.t[7], &m, 0xe2, &c));
    cr_assert_not(releasing_fast(w.t[7], OBJ(1)), "10 entries do not fit inline");
    hb_release_excl(w.t[7], OBJ(1));
    cr_assert_eq(acquired_fast(w.t[0], OBJ(1)), -1, "the clock is in the arena now");
    cr_assert_not(hb_acquire_excl(w.t[0], OBJ(1)));
    assert_none(wr(w.t[0], &m, 0xe3, &c));
    unlock(w.t[0], OBJ(1));
    assert_race(rd(w.t[1], &m, 0xe4, &c), HB_RACE_READ_WRITE);
}

/* A clock value past 32 bits does not fit the inline words: the inline
 * release declines, and nothing of the lock's clock is changed by it. */
Test(hb_sync, handoff_of_a_clock_past_32_bits_leaves_the_inline_paths)
{
    struct world w;
    start(&w, 2);
    struct hb_access m = {0};
    struct hb_conflict c;
    lock(w.t[0], OBJ(1));
    unlock(w.t[0], OBJ(1));
    lock(w.t[1], OBJ(1));
    const struct hb_sync_entry *e = w.t[1]->lk;
    uint32_t before[HB_SYNC_INLINE];
    memcpy(before, e->iv, sizeof before);
    HB_ST(w.t[1]->clk[w.t[1]->slot], (1ull << 32) + 7);
    w.t[1]->cur = hb_thr_epoch(w.t[1]);
    assert_none(wr(w.t[1], &m, 0xf1, &c));
    uint64_t own = HB_LD(w.t[1]->clk[w.t[1]->slot]);
    cr_assert_not(releasing_fast(w.t[1], OBJ(1)), "a value past 2^32 does not fit 32 bits");
    cr_assert_arr_eq(e->iv, before, sizeof before, "the declined release wrote nothing");
    hb_release_excl(w.t[1], OBJ(1));
    lock(w.t[0], OBJ(1));
    cr_assert_eq(HB_LD(w.t[0]->clk[w.t[1]->slot]), own, "no bit lost");
    assert_none(rd(w.t[0], &m, 0xf2, &c));
}

/* Several posts before one wait: every poster is ordered before the
 * waiter, which a copy would lose. */
Test(hb_sync, semaphore_posts_merge)
{
    struct world w;
    start(&w, 3);
    struct hb_access a = {0}, b = {0};
    struct hb_conflict c;
    assert_none(wr(w.t[0], &a, 0x81, &c));
    hb_release_merge(w.t[0], OBJ(5));
    assert_none(wr(w.t[1], &b, 0x82, &c));
    hb_release_merge(w.t[1], OBJ(5));
    hb_acquire(w.t[2], OBJ(5));
    assert_none(rd(w.t[2], &a, 0x83, &c));
    assert_none(rd(w.t[2], &b, 0x84, &c));
}

Test(hb_sync, mutex_release_is_a_copy)
{
    struct world w;
    start(&w, 3);
    struct hb_access a = {0};
    struct hb_conflict c;
    assert_none(wr(w.t[0], &a, 0x85, &c));
    hb_release(w.t[0], OBJ(6));
    hb_release(w.t[1], OBJ(6)); /* never acquired it: a copy drops t0's release */
    hb_acquire(w.t[2], OBJ(6));
    assert_race(rd(w.t[2], &a, 0x86, &c), HB_RACE_READ_WRITE);
}

Test(hb_sync, rwlock_readers_release_into_the_next_writer)
{
    struct world w;
    start(&w, 5);
    struct hb_thr *w0 = w.t[0], *r1 = w.t[1], *r2 = w.t[2], *w1 = w.t[3], *r3 = w.t[4];
    struct hb_access m = {0};
    struct hb_conflict c;
    uintptr_t rw = OBJ(7);
    hb_rw_acquire(w0, rw, true);
    assert_none(wr(w0, &m, 0x91, &c));
    hb_rw_release(w0, rw, true);
    hb_rw_acquire(r1, rw, false);
    hb_rw_acquire(r2, rw, false);
    assert_none(rd(r1, &m, 0x92, &c)); /* after the writer */
    assert_none(rd(r2, &m, 0x93, &c)); /* readers do not race with readers */
    hb_rw_release(r1, rw, false);
    hb_rw_release(r2, rw, false);
    hb_rw_acquire(w1, rw, true);
    assert_none(wr(w1, &m, 0x94, &c)); /* after both readers */
    hb_rw_release(w1, rw, true);
    hb_rw_acquire(r3, rw, false);
    assert_none(rd(r3, &m, 0x95, &c));
    hb_rw_release(r3, rw, false);
}

/* A writer whose wrlock the engine did not see (taken before the first
 * map) releases as a writer (glibc's __cur_writer says so): the next
 * reader is ordered after what it wrote. */
Test(hb_sync, rwlock_writer_unseen_at_its_lock_still_releases_to_readers)
{
    struct world w;
    start(&w, 2);
    struct hb_thr *w0 = w.t[0], *r1 = w.t[1];
    struct hb_access m = {0};
    struct hb_conflict c;
    uintptr_t rw = OBJ(9);
    assert_none(wr(w0, &m, 0x96, &c));
    hb_rw_release(w0, rw, true);
    hb_rw_acquire(r1, rw, false);
    assert_none(rd(r1, &m, 0x97, &c));
}

Test(hb_sync, rwlock_writer_before_a_readers_release_races_with_it)
{
    struct world w;
    start(&w, 3);
    struct hb_thr *r1 = w.t[0], *r2 = w.t[1], *w1 = w.t[2];
    struct hb_access m = {0};
    struct hb_conflict c;
    uintptr_t rw = OBJ(8);
    hb_rw_acquire(r1, rw, false);
    hb_rw_acquire(r2, rw, false);
    assert_none(rd(r1, &m, 0xa1, &c));
    assert_none(rd(r2, &m, 0xa2, &c));
    hb_rw_release(r1, rw, false);
    /* r2 reads outside its lock's hold, as it were: its release never came */
    hb_rw_acquire(w1, rw, true);
    assert_race(wr(w1, &m, 0xa3, &c), HB_RACE_READ_WRITE);
    cr_assert_eq(c.slot, r2->slot);
    cr_assert_eq(c.pc, 0xa2);
    cr_assert(!c.write);
}

/* Round by round: a thread that leaves a round early and works is not
 * ordered before a slow thread's work after the same round. */
Test(hb_sync, barrier_rounds)
{
    struct world w;
    start(&w, 3);
    struct hb_thr *a = w.t[0], *b = w.t[1], *cc = w.t[2];
    struct hb_access ma = {0}, mb = {0}, mc = {0}, y = {0};
    struct hb_conflict c;
    uintptr_t bar = OBJ(9);
    hb_barrier_init(bar, 3);
    assert_none(wr(a, &ma, 0xb1, &c));
    assert_none(wr(b, &mb, 0xb2, &c));
    assert_none(wr(cc, &mc, 0xb3, &c));
    uint64_t ra = hb_barrier_arrive(a, bar);
    uint64_t rb = hb_barrier_arrive(b, bar);
    uint64_t rc = hb_barrier_arrive(cc, bar);
    cr_assert(ra == 0 && rb == 0 && rc == 0);
    hb_barrier_depart(a, bar, ra);
    assert_none(rd(a, &mb, 0xb4, &c));
    assert_none(rd(a, &mc, 0xb5, &c));
    assert_none(wr(a, &y, 0xb6, &c)); /* a's work in round 1 */
    uint64_t ra1 = hb_barrier_arrive(a, bar);
    cr_assert_eq(ra1, 1);
    hb_barrier_depart(b, bar, rb); /* b leaves round 0 late */
    assert_none(rd(b, &ma, 0xb7, &c));
    assert_race(rd(b, &y, 0xb8, &c), HB_RACE_READ_WRITE); /* same round as a's write */
    cr_assert_eq(c.pc, 0xb6);
    hb_barrier_depart(cc, bar, rc);
    assert_none(rd(cc, &ma, 0xb9, &c));
    uint64_t rb1 = hb_barrier_arrive(b, bar);
    uint64_t rc1 = hb_barrier_arrive(cc, bar);
    hb_barrier_depart(a, bar, ra1);
    hb_barrier_depart(b, bar, rb1);
    hb_barrier_depart(cc, bar, rc1);
    assert_none(rd(cc, &y, 0xba, &c)); /* after round 1 */
    assert_none(wr(cc, &y, 0xbb, &c)); /* b's read was in round 1 too */
    /* round 2 reuses round 0's clock, cleared when round 1 completed */
    assert_none(wr(b, &mb, 0xbc, &c));
    uint64_t r2[3] = {hb_barrier_arrive(a, bar), hb_barrier_arrive(b, bar), hb_barrier_arrive(cc, bar)};
    cr_assert(r2[0] == 2 && r2[1] == 2 && r2[2] == 2);
    hb_barrier_depart(a, bar, r2[0]);
    assert_none(rd(a, &mb, 0xbd, &c));
}

/* More threads than the count (legal): x waits in round 0, y completes
 * it, and z and w complete round 1 before x has left round 0. x must
 * still take round 0's clock (y's write), not a cleared one. */
Test(hb_sync, barrier_with_more_threads_than_its_count)
{
    struct world w;
    start(&w, 4);
    struct hb_thr *x = w.t[0], *y = w.t[1], *z = w.t[2], *ww = w.t[3];
    struct hb_access m = {0}, zm = {0};
    struct hb_conflict c;
    uintptr_t bar = OBJ(12);
    hb_barrier_init(bar, 2);
    uint64_t rx = hb_barrier_arrive(x, bar);
    assert_none(wr(y, &m, 0xe1, &c));
    uint64_t ry = hb_barrier_arrive(y, bar);
    cr_assert(rx == 0 && ry == 0);
    hb_barrier_depart(y, bar, ry);
    assert_none(wr(z, &zm, 0xe2, &c));
    uint64_t rz = hb_barrier_arrive(z, bar), rw = hb_barrier_arrive(ww, bar);
    cr_assert(rz == 1 && rw == 1);
    hb_barrier_depart(z, bar, rz);
    hb_barrier_depart(ww, bar, rw);
    hb_barrier_depart(x, bar, rx); /* x leaves round 0 only now */
    assert_none(rd(x, &m, 0xe3, &c));
    /* round 2 has a clock of its own (round 0's is reused at round 4) */
    uint64_t r2a = hb_barrier_arrive(y, bar), r2b = hb_barrier_arrive(ww, bar);
    cr_assert(r2a == 2 && r2b == 2);
    hb_barrier_depart(y, bar, r2a);
    hb_barrier_depart(ww, bar, r2b);
    assert_none(rd(ww, &m, 0xe4, &c));
}

/* A leaver two rounds late (probe: x held in the wait by a signal
 * handler while c and d complete rounds 1 and 2): round 2's clock is not
 * round 0's, still kept for x, so c's read after round 2 is not ordered
 * after x's write before round 0 (with two clocks it was: hidden). */
Test(hb_sync, barrier_leaver_two_rounds_late_orders_nothing_later)
{
    struct world w;
    start(&w, 4);
    struct hb_thr *x = w.t[0], *p = w.t[1], *c = w.t[2], *d = w.t[3];
    struct hb_access m = {0};
    struct hb_conflict cf;
    uintptr_t bar = OBJ(13);
    hb_barrier_init(bar, 2);
    assert_none(wr(x, &m, 0xf1, &cf));
    uint64_t rx = hb_barrier_arrive(x, bar), rp = hb_barrier_arrive(p, bar);
    hb_barrier_depart(p, bar, rp);
    uint64_t rc = hb_barrier_arrive(c, bar), rd1 = hb_barrier_arrive(d, bar);
    hb_barrier_depart(c, bar, rc);
    hb_barrier_depart(d, bar, rd1);
    rc = hb_barrier_arrive(c, bar);
    uint64_t rd2 = hb_barrier_arrive(d, bar);
    cr_assert(rc == 2 && rd2 == 2);
    hb_barrier_depart(c, bar, rc);
    assert_race(rd(c, &m, 0xf2, &cf), HB_RACE_READ_WRITE);
    cr_assert_eq(cf.pc, 0xf1);
    hb_barrier_depart(x, bar, rx);
    hb_barrier_depart(d, bar, rd2);
}

/* A barrier whose count the engine never saw: one cumulative clock, which
 * hides the early leaver's race (documented: missed, never invented). */
Test(hb_sync, barrier_without_count_is_cumulative)
{
    struct world w;
    start(&w, 2);
    struct hb_thr *a = w.t[0], *b = w.t[1];
    struct hb_access ma = {0}, y = {0};
    struct hb_conflict c;
    uintptr_t bar = OBJ(10);
    assert_none(wr(a, &ma, 0xc1, &c));
    uint64_t ra = hb_barrier_arrive(a, bar);
    uint64_t rb = hb_barrier_arrive(b, bar);
    hb_barrier_depart(a, bar, ra);
    assert_none(wr(a, &y, 0xc2, &c));
    hb_barrier_arrive(a, bar);
    hb_barrier_depart(b, bar, rb);
    assert_none(rd(b, &ma, 0xc3, &c));
    assert_none(rd(b, &y, 0xc4, &c));
}

Test(hb_sync, init_starts_an_address_clean)
{
    struct world w;
    start(&w, 2);
    struct hb_access m = {0};
    struct hb_conflict c;
    assert_none(wr(w.t[0], &m, 0xd1, &c));
    hb_release(w.t[0], OBJ(11));
    hb_sync_reset(OBJ(11)); /* pthread_mutex_destroy + init at the same address */
    hb_acquire(w.t[1], OBJ(11));
    assert_race(wr(w.t[1], &m, 0xd2, &c), HB_RACE_WRITES);
}

Test(hb_sync, destroy_reclaims_entries_and_clocks)
{
    struct world w;
    start(&w, 8);
    struct hb_thr *wide = w.t[7]; /* slot 9: a clock of 10 entries, past the inline words */
    cr_assert_gt(hb_thr_width(wide), HB_SYNC_INLINE);
    cr_assert_eq(hb_sync_live(), 0);
    for (int i = 0; i < 1000; i++)
        hb_release(wide, OBJ(100 + i));
    cr_assert_eq(hb_sync_live(), 1000);
    uint32_t used = hb_arena_used();
    cr_assert_gt(used, 0);
    for (int i = 0; i < 1000; i++)
        hb_sync_reset(OBJ(100 + i));
    cr_assert_eq(hb_sync_live(), 0);
    for (int i = 0; i < 1000; i++)
        hb_release(wide, OBJ(5000 + i)); /* other addresses: tombstones and free blocks reused */
    cr_assert_eq(hb_sync_live(), 1000);
    cr_assert_eq(hb_arena_used(), used, "the arena grew from %u to %u words", used, hb_arena_used());
    cr_assert(!hb_sync_spilled());
}

/* A narrow clock stays in the entry (no arena memory); once the object
 * sees a clock too wide for it, it moves to the arena, and what it held
 * inline still orders. */
Test(hb_sync, narrow_clocks_stay_inline_and_move_out_when_wide)
{
    struct world w;
    start(&w, 8);
    struct hb_access m = {0}, n = {0};
    struct hb_conflict c;
    uint32_t used = hb_arena_used();
    assert_none(wr(w.t[0], &m, 0xb1, &c));
    hb_release(w.t[0], OBJ(1));
    cr_assert_eq(hb_arena_used(), used, "a 3-entry clock needs no arena memory");
    hb_acquire(w.t[7], OBJ(1)); /* wide: slot 9 */
    assert_none(wr(w.t[7], &m, 0xb2, &c));
    assert_none(wr(w.t[7], &n, 0xb3, &c));
    hb_release_merge(w.t[7], OBJ(1));
    cr_assert_gt(hb_arena_used(), used, "a 10-entry clock does");
    hb_acquire(w.t[1], OBJ(1));
    assert_none(wr(w.t[1], &m, 0xb4, &c)); /* ordered after t0 and t7 */
    assert_none(wr(w.t[1], &n, 0xb5, &c));
    assert_race(wr(w.t[2], &n, 0xb6, &c), HB_RACE_WRITES);
}

/* A clock value past 32 bits does not fit the inline words either. */
Test(hb_sync, clock_values_past_32_bits_go_to_the_arena)
{
    struct world w;
    start(&w, 2);
    struct hb_access m = {0};
    struct hb_conflict c;
    HB_ST(w.t[0]->clk[w.t[0]->slot], (1ull << 33) + 5);
    w.t[0]->cur = hb_thr_epoch(w.t[0]);
    uint32_t used = hb_arena_used();
    assert_none(wr(w.t[0], &m, 0xc1, &c));
    hb_release(w.t[0], OBJ(1));
    cr_assert_gt(hb_arena_used(), used);
    hb_acquire(w.t[1], OBJ(1));
    cr_assert_eq(HB_LD(w.t[1]->clk[w.t[0]->slot]), (1ull << 33) + 5, "no bit lost");
    assert_none(rd(w.t[1], &m, 0xc2, &c));
}

/* More objects than the table holds: those without an entry share the
 * fallback clock; every release still orders before its acquire. */
Test(hb_sync, full_table_falls_back_without_false_reports)
{
    struct world w;
    start(&w, 1);
    struct hb_access m = {0};
    struct hb_conflict c;
    const int n = (int)HB_SYNC_CAP + 500;
    assert_none(wr(w.t[0], &m, 0xe1, &c));
    for (int i = 0; i < n; i++)
        hb_release(w.t[0], OBJ(i));
    cr_assert(hb_sync_spilled());
    cr_assert_leq(hb_sync_live(), HB_SYNC_CAP);
    for (int i = 0; i < n; i++) {
        struct hb_thr *t = hb_thread_create(w.main_t, 7);
        hb_thread_detach(t); /* main stays unordered with t0's write */
        hb_acquire(t, OBJ(i));
        cr_assert_eq(rd(t, &m, 0xe2, &c), HB_RACE_NONE, "object %d lost its release", i);
        hb_thread_finish(t);
    }
    assert_race(rd(w.main_t, &m, 0xe3, &c), HB_RACE_READ_WRITE);
}

/* A condition wait as the wrappers model it: a release of the mutex
 * before the real wait and an acquire after it, timeout or not. */
Test(hb_sync, condition_wait_orders_through_its_mutex)
{
    struct world w;
    start(&w, 2);
    struct hb_thr *consumer = w.t[0], *producer = w.t[1];
    struct hb_access q = {0};
    struct hb_conflict c;
    uintptr_t mu = OBJ(20);
    hb_acquire(consumer, mu);
    assert_none(rd(consumer, &q, 0xf1, &c)); /* empty: wait */
    hb_release(consumer, mu);                /* pthread_cond_wait gives up the mutex */
    hb_acquire(producer, mu);
    assert_none(wr(producer, &q, 0xf2, &c));
    hb_release(producer, mu);
    hb_acquire(consumer, mu);                /* ... and takes it back */
    assert_none(rd(consumer, &q, 0xf3, &c));
    assert_none(wr(consumer, &q, 0xf4, &c));
    hb_release(consumer, mu);
}

/* once: the init function's writes happen before every return. */
Test(hb_sync, once_init_happens_before_every_return)
{
    struct world w;
    start(&w, 3);
    struct hb_access table = {0};
    struct hb_conflict c;
    uintptr_t once = OBJ(21);
    assert_none(wr(w.t[0], &table, 0xf5, &c)); /* the init function, run by t0 */
    hb_release_merge(w.t[0], once);
    hb_acquire(w.t[0], once);
    for (int i = 1; i < 3; i++) {
        hb_acquire(w.t[i], once);               /* pthread_once returns */
        assert_none(rd(w.t[i], &table, 0xf6, &c));
    }
}

/* A recursive mutex: every unlock is a release, and the last one is what
 * the next owner takes. */
Test(hb_sync, recursive_mutex)
{
    struct world w;
    start(&w, 2);
    struct hb_access m = {0};
    struct hb_conflict c;
    uintptr_t mu = OBJ(22);
    hb_acquire(w.t[0], mu);
    hb_acquire(w.t[0], mu);
    assert_none(wr(w.t[0], &m, 0xf7, &c));
    hb_release(w.t[0], mu);
    assert_none(wr(w.t[0], &m, 0xf8, &c)); /* still held once */
    hb_release(w.t[0], mu);
    hb_acquire(w.t[1], mu);
    assert_none(wr(w.t[1], &m, 0xf9, &c));
}
