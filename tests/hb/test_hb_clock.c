/*
 * Thread slots and clocks: creation, join, detach, slot reuse, the
 * overflow record, fork.
 */
#include "hb_test.h"

Test(hb_clock, unordered_writes_race_until_joined)
{
    struct hb_access m = {0};
    struct hb_conflict c;
    struct hb_thr *main_t = hb_thread_create(NULL, 1);
    struct hb_thr *t1 = hb_thread_create(main_t, 2);
    struct hb_thr *t2 = hb_thread_create(main_t, 3);
    cr_assert_neq(t1->slot, t2->slot);
    assert_none(wr(t1, &m, 0xa1, &c));
    assert_race(wr(t2, &m, 0xa2, &c), HB_RACE_WRITES);
    cr_assert_eq(c.slot, t1->slot);
    cr_assert_eq(c.pc, 0xa1);
    cr_assert_eq(c.op, OP_SET);
    cr_assert(c.write);
    cr_assert_eq(hb_slot_tag(c.slot, c.clock), 2);
    hb_thread_finish(t1);
    hb_thread_finish(t2);
    /* main has not joined yet: t2's write is not ordered before it */
    struct hb_conflict c2;
    assert_race(rd(main_t, &m, 0xa3, &c2), HB_RACE_READ_WRITE);
    cr_assert_eq(c2.slot, t2->slot);
    hb_thread_join(main_t, t1);
    hb_thread_join(main_t, t2);
    assert_none(wr(main_t, &m, 0xa4, &c));
    assert_none(rd(main_t, &m, 0xa5, &c));
}

Test(hb_clock, child_starts_from_creator_and_creator_ticks)
{
    struct hb_access m = {0}, n = {0};
    struct hb_conflict c;
    struct hb_thr *main_t = hb_thread_create(NULL, 1);
    assert_none(wr(main_t, &m, 0xb1, &c));
    struct hb_thr *t1 = hb_thread_create(main_t, 2);
    assert_none(rd(t1, &m, 0xb2, &c)); /* the write before the creation is ordered */
    assert_none(wr(main_t, &n, 0xb3, &c));
    /* the creator's write after the creation is not */
    assert_race(rd(t1, &n, 0xb4, &c), HB_RACE_READ_WRITE);
    cr_assert_eq(c.slot, main_t->slot);
    cr_assert_eq(c.pc, 0xb3);
}

Test(hb_clock, joins_order_transitively)
{
    struct hb_access m = {0};
    struct hb_conflict c;
    struct hb_thr *main_t = hb_thread_create(NULL, 1);
    struct hb_thr *t1 = hb_thread_create(main_t, 2);
    struct hb_thr *t2 = hb_thread_create(t1, 3);
    assert_none(wr(t2, &m, 0xc1, &c));
    hb_thread_finish(t2);
    hb_thread_join(t1, t2);
    hb_thread_finish(t1);
    hb_thread_join(main_t, t1);
    assert_none(rd(main_t, &m, 0xc2, &c));
}

Test(hb_clock, detached_thread_then_main_reads_is_a_race)
{
    struct hb_access m = {0};
    struct hb_conflict c;
    struct hb_thr *main_t = hb_thread_create(NULL, 1);
    struct hb_thr *t1 = hb_thread_create(main_t, 2);
    hb_thread_detach(t1);
    assert_none(wr(t1, &m, 0xd1, &c));
    hb_thread_finish(t1);
    assert_race(rd(main_t, &m, 0xd2, &c), HB_RACE_READ_WRITE);
    cr_assert_eq(c.slot, t1->slot);
    cr_assert_eq(c.pc, 0xd1);
    /* its slot is free, but main never saw its end: a new thread of main's
     * gets another slot, and is not taken for the detached one */
    uint32_t s1 = t1->slot;
    struct hb_thr *t2 = hb_thread_create(main_t, 3);
    cr_assert_neq(t2->slot, s1);
    assert_race(rd(t2, &m, 0xd3, &c), HB_RACE_READ_WRITE);
}

/* A slot reused after a join: the new owner counts on from the previous
 * owner's final clock, so a thread that acquired the previous owner's end
 * is not taken to be ordered after the new owner's calls. */
Test(hb_clock, reused_slot_epochs_are_not_mistaken_as_ordered)
{
    struct hb_access m = {0}, n = {0};
    struct hb_conflict c;
    struct hb_thr *main_t = hb_thread_create(NULL, 1);
    struct hb_thr *t1 = hb_thread_create(main_t, 2);
    struct hb_thr *t3 = hb_thread_create(main_t, 4);
    uint32_t s1 = t1->slot;
    assert_none(wr(t1, &m, 0xe1, &c));
    hb_release(t1, OBJ(1)); /* t1's last act */
    uint64_t final = t1->clk[s1];
    hb_thread_finish(t1);
    hb_thread_join(main_t, t1);
    hb_acquire(t3, OBJ(1));
    cr_assert_eq(t3->clk[s1], final);

    struct hb_thr *t2 = hb_thread_create(main_t, 3);
    cr_assert_eq(t2->slot, s1, "the joined thread's slot is reused");
    cr_assert_gt(t2->start, final);
    assert_none(rd(t2, &m, 0xe2, &c)); /* t1 -> join -> create -> t2 */
    assert_none(wr(t2, &n, 0xe3, &c));
    assert_none(rd(t3, &m, 0xe4, &c)); /* t3 acquired t1's end */
    assert_race(rd(t3, &n, 0xe5, &c), HB_RACE_READ_WRITE); /* but nothing of t2's */
    cr_assert_eq(c.slot, s1);
    cr_assert_eq(c.pc, 0xe3);
    cr_assert_eq(hb_slot_tag(c.slot, c.clock), 3, "the report names the slot's new owner");
    cr_assert_eq(hb_slot_tag(s1, final), 2, "and the old owner for the old epochs");
}

Test(hb_clock, thousands_of_short_lived_threads_reuse_few_slots)
{
    struct hb_access m = {0};
    struct hb_conflict c;
    struct hb_thr *main_t = hb_thread_create(NULL, 1);
    uint64_t last_start = 0;
    for (int i = 0; i < 5000; i++) {
        struct hb_thr *t = hb_thread_create(main_t, (uint64_t)i);
        cr_assert_eq(t->slot, 2, "thread %d got slot %u", i, t->slot);
        cr_assert_gt(t->start, last_start);
        last_start = t->start;
        assert_none(wr(t, &m, 0xf1, &c));
        hb_thread_finish(t);
        hb_thread_join(main_t, t);
        assert_none(wr(main_t, &m, 0xf2, &c));
    }
}

Test(hb_clock, find_by_handle_until_joined)
{
    struct hb_thr *main_t = hb_thread_create(NULL, 1);
    struct hb_thr *t1 = hb_thread_create(main_t, 2);
    struct hb_thr *t2 = hb_thread_create(main_t, 3);
    hb_thread_set_handle(t1, 0x7000);
    hb_thread_set_handle(t2, 0x7100);
    cr_assert_eq(hb_thread_find(0x7000), t1);
    cr_assert_eq(hb_thread_find(0x7100), t2);
    hb_thread_finish(t1);
    cr_assert_eq(hb_thread_find(0x7000), t1, "finished, not joined");
    hb_thread_join(main_t, t1);
    cr_assert_null(hb_thread_find(0x7000));
    /* glibc hands the same pthread_t to the next thread */
    struct hb_thr *t3 = hb_thread_create(main_t, 4);
    hb_thread_set_handle(t3, 0x7000);
    cr_assert_eq(hb_thread_find(0x7000), t3);
    hb_thread_detach(t2);
    cr_assert_null(hb_thread_find(0x7100));
}

/* glibc reuses a pthread_t as soon as the real join returned: the next
 * thread may get it before the joiner's wrapper has taken the old record
 * (hb_thread_join). A join of the new thread must find the new one. */
Test(hb_clock, a_reused_handle_finds_the_new_thread_before_the_old_is_taken)
{
    struct hb_thr *main_t = hb_thread_create(NULL, 1);
    struct hb_thr *old = hb_thread_create(main_t, 2);
    hb_thread_set_handle(old, 0x7000);
    hb_thread_finish(old); /* ended; its joiner's real join has returned */
    struct hb_thr *young = hb_thread_create(main_t, 3);
    hb_thread_set_handle(young, 0x7000);
    cr_assert_eq(hb_thread_find(0x7000), young);
    hb_thread_join(main_t, old); /* the first joiner, with the record it found before */
    cr_assert_eq(hb_thread_find(0x7000), young);
}

/* Past HB_OVERFLOW - 1 live threads, the rest share the overflow record:
 * races among them are missed, races with other threads are still found,
 * and ordered pairs are never reported. */
Test(hb_clock, overflow_is_conservative)
{
    struct hb_access m1 = {0}, m2 = {0}, m3 = {0};
    struct hb_conflict c;
    struct hb_thr *main_t = hb_thread_create(NULL, 1);
    struct hb_thr *live[HB_OVERFLOW];
    for (uint32_t i = 2; i < HB_OVERFLOW; i++) {
        live[i] = hb_thread_create(main_t, i);
        cr_assert_eq(live[i]->slot, i);
    }
    struct hb_thr *o1 = hb_thread_create(main_t, 900);
    struct hb_thr *o2 = hb_thread_create(main_t, 901);
    cr_assert_eq(o1->slot, HB_OVERFLOW);
    cr_assert_eq(o2->slot, HB_OVERFLOW);
    cr_assert_eq(hb_slot_tag(HB_OVERFLOW, 1), 0, "an overflow thread is not named");

    assert_none(wr(o1, &m1, 0x11, &c));
    assert_none(wr(o2, &m1, 0x12, &c)); /* missed: both in the overflow slot */

    struct hb_thr *r = live[7];
    assert_none(wr(r, &m2, 0x13, &c));
    assert_race(wr(o1, &m2, 0x14, &c), HB_RACE_WRITES); /* with an ordinary thread: found */
    cr_assert_eq(c.slot, 7);
    assert_race(rd(r, &m2, 0x15, &c), HB_RACE_READ_WRITE);
    cr_assert_eq(c.slot, HB_OVERFLOW);

    assert_none(wr(o2, &m3, 0x16, &c));
    hb_release(o2, OBJ(3));
    hb_acquire(r, OBJ(3));
    assert_none(wr(r, &m3, 0x17, &c)); /* ordered: never reported */

    /* an overflow thread has no record to find; its join takes the shared clock */
    hb_thread_join(main_t, hb_thread_find(0x1234));
    assert_none(rd(main_t, &m1, 0x18, &c));

    /* a slot freed by a join is handed out again before the overflow */
    hb_thread_finish(live[9]);
    hb_thread_join(main_t, live[9]);
    cr_assert_eq(hb_thread_create(main_t, 902)->slot, 9);
}

/* With no slot free that the creator has seen end, nor a fresh one, the
 * slot freed longest ago is reused: the new thread takes its previous
 * owner's calls for its own (missed, never invented). */
Test(hb_clock, oldest_free_slot_when_no_ordered_one)
{
    struct hb_access m = {0};
    struct hb_conflict c;
    struct hb_thr *main_t = hb_thread_create(NULL, 1);
    struct hb_thr *t[HB_OVERFLOW];
    for (uint32_t i = 2; i < HB_OVERFLOW; i++)
        t[i] = hb_thread_create(main_t, i);
    struct hb_access m2 = {0};
    assert_none(wr(t[7], &m2, 0x24, &c));
    hb_release(t[7], OBJ(2));
    hb_acquire(t[5], OBJ(2));
    assert_none(wr(t[5], &m, 0x21, &c));
    hb_release(t[5], OBJ(1)); /* carries t7's write */
    hb_thread_detach(t[5]);
    hb_thread_finish(t[5]);
    hb_thread_detach(t[6]);
    hb_thread_finish(t[6]);
    struct hb_thr *n = hb_thread_create(main_t, 999);
    cr_assert_eq(n->slot, 5, "the oldest free slot, got %u", n->slot);
    assert_none(rd(n, &m, 0x22, &c));
    assert_race(rd(main_t, &m, 0x23, &c), HB_RACE_READ_WRITE);
    /* OBJ(1)'s clock is the previous owner's copy, not n's: n takes it */
    hb_acquire(n, OBJ(1));
    assert_none(rd(n, &m2, 0x25, &c));
}

/* The fork orders only the forking thread's past before the child: a
 * write by another thread that the forking thread never synchronized with
 * still races with the child, and one it did acquire does not. The gone
 * threads' slots are never handed out again, since their epochs live on in
 * the child's histories. */
Test(hb_clock, fork_child_orders_only_the_forking_threads_past)
{
    struct hb_access m = {0}, n = {0};
    struct hb_conflict c;
    struct hb_thr *main_t = hb_thread_create(NULL, 1);
    struct hb_thr *t1 = hb_thread_create(main_t, 2);
    struct hb_thr *t2 = hb_thread_create(main_t, 3);
    assert_none(wr(t1, &m, 0x31, &c));
    hb_release(t1, OBJ(4));
    hb_acquire(main_t, OBJ(4)); /* main saw t1's write on m */
    assert_none(wr(t2, &n, 0x37, &c)); /* main never saw this one */
    uint32_t s1 = t1->slot, s2 = t2->slot;
    /* the fork: only main goes on, in the child */
    hb_atfork_child(main_t);
    hb_sync_atfork_child();
    assert_none(rd(main_t, &m, 0x32, &c));
    assert_none(wr(main_t, &m, 0x33, &c));
    assert_race(rd(main_t, &n, 0x38, &c), HB_RACE_READ_WRITE);
    struct hb_thr *a = hb_thread_create(main_t, 4);
    struct hb_thr *b = hb_thread_create(main_t, 5);
    cr_assert(a->slot != s1 && a->slot != s2 && b->slot != s1 && b->slot != s2,
              "gone threads' slots stay out of use: %u %u", a->slot, b->slot);
    /* the child's own threads race as before */
    assert_none(wr(a, &m, 0x34, &c));
    assert_race(wr(b, &m, 0x35, &c), HB_RACE_WRITES);
    /* and a sync object held at the fork still works */
    hb_release(a, OBJ(4));
    hb_acquire(b, OBJ(4));
    assert_none(wr(b, &m, 0x36, &c));
}

/* A slot remembers its last HB_OWNERS owners: an epoch of an owner older
 * than those is not put on a later one. */
Test(hb_clock, slot_tag_forgets_old_owners_rather_than_misname_them)
{
    struct hb_thr *main_t = hb_thread_create(NULL, 1);
    uint64_t first_clock = 0;
    uint32_t slot = 0;
    for (uint64_t i = 0; i < HB_OWNERS + 2; i++) {
        struct hb_thr *t = hb_thread_create(main_t, 100 + i);
        if (i == 0) {
            slot = t->slot;
            first_clock = t->start;
        }
        cr_assert_eq(t->slot, slot);
        cr_assert_eq(hb_slot_tag(slot, t->start), 100 + i);
        hb_thread_finish(t);
        hb_thread_join(main_t, t);
    }
    cr_assert_eq(hb_slot_tag(slot, first_clock), 0);
}

/* The map hooks take a thread's epoch from t->cur (hb_thr_now), not from
 * its clock: every step that can move the thread's own entry must keep
 * the copy right, through creation, ticks, lock handoffs, relocks that
 * take a tick back, joins, slot reuse and a fork. */
Test(hb_clock, the_kept_epoch_follows_the_clock_through_every_step)
{
    struct hb_access m = {0};
    struct hb_conflict c;
    struct hb_thr *main_t = hb_thread_create(NULL, 1);
#define SAME(t) cr_assert_eq(hb_thr_now(t), hb_thr_epoch(t), "%s: kept epoch %#llx, clock's %#llx", #t, \
                             (unsigned long long)hb_thr_now(t), (unsigned long long)hb_thr_epoch(t))
    SAME(main_t);
    struct hb_thr *t1 = hb_thread_create(main_t, 2);
    SAME(main_t);
    SAME(t1);
    for (int i = 0; i < 3; i++) {
        hb_acquire_excl(t1, OBJ(1));
        assert_none(wr(t1, &m, 0x41, &c));
        SAME(t1);
        hb_release_excl(t1, OBJ(1));
        hb_acquire_excl(t1, OBJ(1)); /* the same lock again: the tick is taken back */
        assert_none(rd(t1, &m, 0x42, &c));
        SAME(t1);
        hb_release_excl(t1, OBJ(1));
        hb_acquire_excl(main_t, OBJ(1)); /* a handoff */
        assert_none(rd(main_t, &m, 0x43, &c));
        SAME(main_t);
        hb_release_excl(main_t, OBJ(1));
    }
    hb_thread_finish(t1);
    hb_thread_join(main_t, t1);
    assert_none(wr(main_t, &m, 0x44, &c));
    SAME(main_t);
    struct hb_thr *t2 = hb_thread_create(main_t, 3); /* may reuse t1's slot */
    assert_none(wr(t2, &m, 0x45, &c));
    SAME(t2);
    hb_atfork_child(t2);
    hb_sync_atfork_child();
    assert_none(wr(t2, &m, 0x46, &c));
    SAME(t2);
#undef SAME
}

/* A release lost to the recursion guard (a signal handler's, while its
 * thread was inside the engine) is noted on the thread's record: until the
 * thread settles it, an acquire of that object takes the thread's live
 * clock, so what the thread did before the signal is ordered before the
 * acquirer, as the lost release would have ordered it. */
static void settle_release(struct hb_thr *t, uintptr_t addr) { hb_release_merge(t, addr); }
static int settled_all;
static void settle_everything(struct hb_thr *t)
{
    (void)t;
    settled_all++;
}

Test(hb_clock, a_release_lost_to_the_guard_still_orders_its_acquirer)
{
    struct hb_access m = {0};
    struct hb_conflict c;
    struct hb_thr *main_t = hb_thread_create(NULL, 1);
    struct hb_thr *a = hb_thread_create(main_t, 2);
    struct hb_thr *b = hb_thread_create(main_t, 3);
    assert_none(wr(a, &m, 0x51, &c));
    cr_assert_eq(hb_leaks_out, 0);
    hb_leak(a, OBJ(7)); /* the handler's sem_post of OBJ(7), inside the engine */
    hb_leak(a, OBJ(7)); /* noted once */
    cr_assert_eq(hb_leaks_out, 1);
    cr_assert(hb_leaked(a));
    /* the lock wrappers' inline acquire leaves for the full path for the
     * noted object only (and for the noting thread, hb_leaked) */
    cr_assert(hb_leak_noted(OBJ(7)));
    cr_assert_not(hb_leak_noted(OBJ(8)));
    cr_assert_not(hb_leaked(b));
    hb_acquire(b, OBJ(7)); /* the object's own clock knows nothing of it */
    hb_leak_join(b, OBJ(7));
    assert_none(rd(b, &m, 0x52, &c));
    /* another object's acquirer takes nothing from the note */
    struct hb_access n = {0};
    assert_none(wr(a, &n, 0x53, &c));
    hb_leak_join(main_t, OBJ(8));
    assert_race(rd(main_t, &n, 0x54, &c), HB_RACE_READ_WRITE);
    /* settled: the release is done for real, the note gone, and a later
     * acquirer is ordered through the object's clock */
    hb_leak_settle(a, settle_release, settle_everything);
    cr_assert_eq(hb_leaks_out, 0);
    cr_assert_not(hb_leaked(a));
    cr_assert_not(hb_leak_noted(OBJ(7)));
    cr_assert_eq(settled_all, 0);
    struct hb_thr *d = hb_thread_create(main_t, 4);
    hb_acquire(d, OBJ(7));
    assert_none(rd(d, &m, 0x55, &c));
}

/* More notes than a record holds: the thread's clock goes to every
 * acquirer until it settles, and the settling releases to everyone. */
Test(hb_clock, lost_releases_past_the_records_room_order_every_acquirer)
{
    struct hb_access m = {0};
    struct hb_conflict c;
    struct hb_thr *main_t = hb_thread_create(NULL, 1);
    struct hb_thr *a = hb_thread_create(main_t, 2);
    struct hb_thr *b = hb_thread_create(main_t, 3);
    assert_none(wr(a, &m, 0x61, &c));
    hb_leak(a, OBJ(1));
    hb_leak(a, OBJ(2));
    hb_leak(a, OBJ(3));
    hb_leak(a, OBJ(4));
    cr_assert_eq(hb_leaks_out, 3, "two objects and the overflow");
    cr_assert(hb_leak_noted(OBJ(9)), "past the room, every object is noted");
    hb_leak_join(b, OBJ(9));
    assert_none(rd(b, &m, 0x62, &c));
    settled_all = 0;
    hb_leak_settle(a, settle_release, settle_everything);
    cr_assert_eq(settled_all, 1);
    cr_assert_eq(hb_leaks_out, 0);
    cr_assert_not(hb_leaked(a));
}

/* A forked child has only the forking thread: the others' notes of lost
 * releases go, or no one would ever settle them and every lock in the
 * child would take the full path for good; the forking thread's stay. */
Test(hb_clock, a_fork_child_keeps_only_the_forking_threads_notes)
{
    struct hb_thr *main_t = hb_thread_create(NULL, 1);
    struct hb_thr *a = hb_thread_create(main_t, 2);
    hb_leak(a, OBJ(1));
    hb_leak(main_t, OBJ(2));
    cr_assert_eq(hb_leaks_out, 2);
    hb_atfork_child(main_t);
    hb_sync_atfork_child();
    cr_assert_not(hb_leaked(a));
    cr_assert(hb_leaked(main_t));
    cr_assert_eq(hb_leaks_out, 1);
    cr_assert_not(hb_leak_noted(OBJ(1)));
    cr_assert(hb_leak_noted(OBJ(2)));
}
