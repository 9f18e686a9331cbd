/*
 * The per-map access history: kinds, the earlier call's description, read
 * clocks for concurrent readers, and giving memory back.
 */
#include "hb_test.h"

#include <sys/mman.h>
#include <unistd.h>

static struct hb_thr *main_t, *t[4];

static void start(void)
{
    main_t = hb_thread_create(NULL, 1);
    for (int i = 0; i < 4; i++)
        t[i] = hb_thread_create(main_t, (uint64_t)i + 2);
}

Test(hb_access, kinds_in_both_orders)
{
    start();
    struct hb_conflict c;
    struct { int (*first)(struct hb_thr *, struct hb_access *, uintptr_t, struct hb_conflict *);
             int (*second)(struct hb_thr *, struct hb_access *, uintptr_t, struct hb_conflict *);
             int kind; bool first_write, first_iter; } cases[] = {
        {wr, wr, HB_RACE_WRITES, true, false},
        {wr, rd, HB_RACE_READ_WRITE, true, false},
        {rd, wr, HB_RACE_READ_WRITE, false, false},
        {wr, it, HB_RACE_ITER_WRITE, true, false},
        {it, wr, HB_RACE_ITER_WRITE, false, true},
        {rd, rd, HB_RACE_NONE, false, false},
        {it, rd, HB_RACE_NONE, false, false},
        {it, it, HB_RACE_NONE, false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct hb_access m = {0};
        assert_none(cases[i].first(t[0], &m, 0x100 + i, &c));
        cr_assert_eq(cases[i].second(t[1], &m, 0x200 + i, &c), cases[i].kind, "case %zu", i);
        if (cases[i].kind == HB_RACE_NONE)
            continue;
        cr_assert_eq(c.slot, t[0]->slot, "case %zu", i);
        cr_assert_eq(c.pc, 0x100 + i, "case %zu", i);
        cr_assert_eq(c.write, cases[i].first_write, "case %zu", i);
        cr_assert_eq(c.iter, cases[i].first_iter, "case %zu", i);
        cr_assert_eq(c.op, cases[i].first_write ? OP_SET : cases[i].first_iter ? OP_NEXT : OP_GET, "case %zu", i);
        cr_assert_eq(hb_slot_tag(c.slot, c.clock), 2, "case %zu", i);
    }
}

Test(hb_access, one_thread_never_races_with_itself)
{
    start();
    struct hb_access m = {0};
    struct hb_conflict c;
    for (int i = 0; i < 3; i++) {
        assert_none(rd(t[0], &m, 0x11, &c));
        assert_none(wr(t[0], &m, 0x12, &c));
        assert_none(it(t[0], &m, 0x13, &c));
        hb_release(t[0], OBJ(1)); /* a new epoch each round */
    }
}

/* Two readers that are not ordered with each other: both reads are kept
 * (a read clock), and a writer ordered after only one of them races with
 * the other. */
Test(hb_access, concurrent_readers_inflate_to_a_read_clock)
{
    start();
    struct hb_access m = {0};
    struct hb_conflict c;
    assert_none(rd(t[0], &m, 0x21, &c));
    cr_assert_eq(m.r & HB_R_SHARED, 0);
    assert_none(rd(t[1], &m, 0x22, &c));
    cr_assert_neq(m.r & HB_R_SHARED, 0, "two unordered reads: a read clock");
    assert_none(it(t[2], &m, 0x23, &c)); /* a third reader, the clock grows if needed */
    assert_none(rd(t[1], &m, 0x24, &c)); /* same epoch: already there */
    hb_release(t[0], OBJ(1));
    hb_acquire(t[3], OBJ(1));
    /* the read clock is walked by slot: t1's read is the one found */
    assert_race(wr(t[3], &m, 0x25, &c), HB_RACE_READ_WRITE);
    cr_assert_eq(c.slot, t[1]->slot);
    cr_assert_eq(c.pc, 0x22);
    cr_assert(!c.write && !c.iter);
    cr_assert_eq(m.r, 0, "the write gave the read clock back");
}

Test(hb_access, writer_after_every_reader_is_clean)
{
    start();
    struct hb_access m = {0};
    struct hb_conflict c;
    assert_none(wr(main_t, &m, 0x30, &c));
    hb_release(main_t, OBJ(9));
    for (int i = 0; i < 3; i++) {
        hb_acquire(t[i], OBJ(9));
        assert_none(rd(t[i], &m, 0x31 + (uintptr_t)i, &c));
        hb_release_merge(t[i], OBJ(2));
    }
    cr_assert_neq(m.r & HB_R_SHARED, 0);
    hb_acquire(t[3], OBJ(2));
    assert_none(wr(t[3], &m, 0x35, &c));
    cr_assert_eq(m.r, 0);
    cr_assert_eq(m.w, hb_thr_epoch(t[3]));
}

/* A reader ordered after the last read replaces it: no read clock. */
Test(hb_access, ordered_reads_stay_one_epoch)
{
    start();
    struct hb_access m = {0};
    struct hb_conflict c;
    assert_none(rd(t[0], &m, 0x41, &c));
    hb_release(t[0], OBJ(1));
    hb_acquire(t[1], OBJ(1));
    assert_none(rd(t[1], &m, 0x42, &c));
    cr_assert_eq(m.r, hb_thr_epoch(t[1]));
    cr_assert_eq(m.r & HB_R_SHARED, 0);
}

/* A read that races with the last write flags it (HB_W_RACED): the
 * writer's next write in the same epoch is checked in full, and races
 * with that read; its record clears the flag, and a third write in the
 * epoch is decided by the same-epoch rule again. A read ordered after the
 * write leaves it unflagged. */
Test(hb_access, a_read_racing_with_a_write_flags_it_for_the_writers_next_write)
{
    start();
    struct hb_access m = {0};
    struct hb_conflict c;
    assert_none(wr(t[0], &m, 0x61, &c));
    cr_assert_eq(m.w, hb_thr_epoch(t[0]));
    assert_race(rd(t[1], &m, 0x62, &c), HB_RACE_READ_WRITE);
    cr_assert_eq(c.pc, 0x61);
    cr_assert_eq(m.w, hb_thr_epoch(t[0]) | HB_W_RACED);
    cr_assert(!hb_same_epoch(&m, t[0], HB_WRITE), "a flagged write is no epoch");
    assert_race(wr(t[0], &m, 0x63, &c), HB_RACE_READ_WRITE);
    cr_assert_eq(c.pc, 0x62);
    cr_assert_eq(c.slot, t[1]->slot);
    cr_assert_eq(m.w, hb_thr_epoch(t[0]));
    cr_assert(hb_same_epoch(&m, t[0], HB_WRITE));

    struct hb_access n = {0};
    assert_none(wr(t[0], &n, 0x64, &c));
    hb_release(t[0], OBJ(1));
    hb_acquire(t[1], OBJ(1));
    assert_none(rd(t[1], &n, 0x65, &c));
    cr_assert_eq(n.w & HB_W_RACED, 0, "an ordered read flags nothing");
}

/* The write unordered with both the last write and a read: the write is
 * the one reported. */
Test(hb_access, write_conflict_is_reported_before_read_conflict)
{
    start();
    struct hb_access m = {0};
    struct hb_conflict c;
    assert_none(wr(t[0], &m, 0x51, &c));
    hb_release(t[0], OBJ(1));
    hb_acquire(t[1], OBJ(1));
    assert_none(rd(t[1], &m, 0x52, &c));
    assert_race(rd(t[2], &m, 0x53, &c), HB_RACE_READ_WRITE);
    assert_race(wr(t[3], &m, 0x54, &c), HB_RACE_WRITES);
    cr_assert_eq(c.pc, 0x51);
}

/* An iteration step unordered with a later write, kept in a read clock. */
Test(hb_access, iteration_step_in_a_read_clock)
{
    start();
    struct hb_access m = {0};
    struct hb_conflict c;
    assert_none(rd(t[0], &m, 0x71, &c));
    assert_none(it(t[1], &m, 0x72, &c));
    cr_assert_neq(m.r & HB_R_SHARED, 0);
    hb_release(t[0], OBJ(1));
    hb_acquire(t[2], OBJ(1));
    assert_race(wr(t[2], &m, 0x73, &c), HB_RACE_ITER_WRITE);
    cr_assert_eq(c.slot, t[1]->slot);
    cr_assert_eq(c.op, OP_NEXT);
    cr_assert(c.iter);
}

Test(hb_access, free_gives_the_read_clock_back)
{
    start();
    struct hb_conflict c;
    struct hb_access m = {0};
    assert_none(rd(t[0], &m, 0x61, &c));
    assert_none(rd(t[1], &m, 0x62, &c));
    uint32_t used = hb_arena_used();
    hb_access_free(&m);
    cr_assert_eq(m.r, 0);
    cr_assert_eq(m.w, 0);
    for (int i = 0; i < 100; i++) {
        struct hb_access n = {0};
        assert_none(rd(t[0], &n, 0x63, &c));
        assert_none(rd(t[1], &n, 0x64, &c));
        cr_assert_neq(n.r & HB_R_SHARED, 0);
        hb_access_free(&n);
    }
    cr_assert_eq(hb_arena_used(), used);
}

/* A history nothing was recorded in is freed without a store (no lock
 * taken, its page not dirtied): freeing one on a read-only page would
 * fault otherwise. One that was written is still cleared. */
Test(hb_access, free_of_a_never_written_history_stores_nothing)
{
    start();
    long pg = sysconf(_SC_PAGESIZE);
    struct hb_access *h = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(h, MAP_FAILED);
    cr_assert_eq(mprotect(h, (size_t)pg, PROT_READ), 0);
    hb_access_free(h);
    cr_assert_eq(mprotect(h, (size_t)pg, PROT_READ | PROT_WRITE), 0);
    struct hb_conflict c;
    assert_none(wr(t[0], h, 0x81, &c));
    hb_access_free(h);
    cr_assert(h->w == 0 && h->wsite == 0 && h->r == 0 && h->rsite == 0);
    assert_none(rd(t[1], h, 0x82, &c));
    hb_access_free(h);
    cr_assert(h->w == 0 && h->wsite == 0 && h->r == 0 && h->rsite == 0);
    munmap(h, (size_t)pg);
}

/* A thread that held a map's record at the fork does not exist in the
 * child: the child's next call on that map takes the record over instead
 * of waiting forever. */
Test(hb_access, record_held_at_fork_is_taken_over_in_the_child, .timeout = 10)
{
    start();
    struct hb_access m = {0};
    struct hb_conflict c;
    assert_none(wr(t[0], &m, 0x81, &c));
    hb_release(t[0], OBJ(9));
    hb_acquire(main_t, OBJ(9)); /* main is ordered after t0's write */
    m.wsite |= 1ull << 63; /* as if t0 were inside hb_access_slow at the fork */
    hb_atfork_child(main_t);
    hb_sync_atfork_child();
    hb_access_atfork_child();
    assert_none(rd(main_t, &m, 0x82, &c));
    assert_none(wr(main_t, &m, 0x83, &c));
    cr_assert_eq(m.wsite >> 63, 0, "unlocked after the call");
}

/* A record whose lock is never let go, as when its holder is stopped in a
 * signal handler that waits for a lock the caller's own handler holds:
 * the check and the record give up after a while instead of hanging, and
 * leave the record as it was (a race missed, none invented). */
Test(hb_access, a_record_lock_never_let_go_is_given_up_on)
{
    /* a wait that never gives up fails here rather than hang the suite
     * (alarm, not Criterion's .timeout, whose record LeakSanitizer finds
     * unfreed in make test-asan) */
    alarm(20);
    start();
    struct hb_access m = {0};
    struct hb_conflict c;
    assert_none(wr(t[0], &m, 0x31, &c));
    uint64_t w = m.w;
    uint64_t held = m.wsite | 1ull << 63; /* hb_access.c's SITE_LOCK, this process's generation */
    __atomic_store_n(&m.wsite, held, __ATOMIC_RELEASE);
    /* unordered with t[0]'s write: the race cannot be confirmed under the
     * lock, so none is reported, and the write is not recorded */
    assert_none(wr(t[1], &m, 0x32, &c));
    cr_assert_eq(m.w, w);
    cr_assert_eq(m.wsite, held);
    /* the holder lets go: the same call is reported */
    __atomic_store_n(&m.wsite, held & ~(1ull << 63), __ATOMIC_RELEASE);
    cr_assert_eq(wr(t[1], &m, 0x32, &c), HB_RACE_WRITES);
    cr_assert_eq(c.pc, 0x31);
    alarm(0);
}
