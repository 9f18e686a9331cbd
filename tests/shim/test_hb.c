/*
 * Happens-before (happens_before=1, the default): races whose calls never overlap in
 * time, against mg_hb.c, and the synchronized programs that must stay
 * clean. mg_hb.c sequences its racy threads with an atomic flag the shim
 * cannot see, so every outcome here is the same on every run.
 */
#include "harness.h"

#include <string.h>

#define PROG "mg_hb"
#define HB "happens_before=1"

static void assert_str(json_t *o, const char *key, const char *want)
{
    const char *got = json_string_value(json_object_get(o, key));
    cr_assert(got && !strcmp(got, want), "%s is %s, want %s", key, got ? got : "(none)", want);
}

/* Exactly one finding of kind: the later call at access_site (full
 * stack), the earlier at conflict_site (call site only), unordered. */
static void assert_unordered(const char *scenario, const char *kind, const char *access_op, const char *access_site,
                             const char *conflict_op, const char *conflict_site)
{
    struct run r;
    run_prog(&r, PROG, scenario, HB);
    cr_assert_eq(count_kind(&r, NULL), 1, "%s: want one finding, got %zu:\n%s", scenario, count_kind(&r, NULL), r.err);
    json_t *f = find_kind(&r, kind, 0);
    cr_assert(f, "%s: no %s finding", scenario, kind);
    assert_str(f, "evidence", "unordered");
    json_t *a = json_object_get(f, "access"), *c = json_object_get(f, "conflict");
    assert_str(a, "op", access_op);
    assert_frame_at(json_object_get(a, "stack"), 0, PROG, access_site);
    cr_assert(json_array_size(json_object_get(a, "stack")) > 1, "the access has its full stack");
    assert_str(c, "op", conflict_op);
    assert_frame_at(json_object_get(c, "stack"), 0, PROG, conflict_site);
    cr_assert(json_is_false(json_object_get(c, "stack_complete")), "the earlier call has its call site only");
    cr_assert(json_integer_value(json_object_get(json_object_get(c, "thread"), "tid")) > 0, "the earlier call's thread");
    assert_frame_at(json_object_get(json_object_get(f, "map_created"), "stack"), 0, PROG, "made");
    cr_assert_eq(r.status, 66, "exit status %d", r.status);
    run_free(&r);
}

static void assert_clean(const char *scenario)
{
    struct run r;
    run_prog(&r, PROG, scenario, HB);
    assert_watched_and_clean(&r, scenario);
    cr_assert_eq(r.status, 0, "%s: exit status %d", scenario, r.status);
    run_free(&r);
}

/* The document's §2.2 program: 1000 reads, then 1000 writes, joined. */
Test(hb, reads_then_writes_never_overlapping)
{
    assert_unordered("s22", "concurrent-read-write", "set", "s22_set", "get", "s22_get");
}

/* On by default: the same program with no options is caught. */
Test(hb, on_by_default)
{
    struct run r;
    run_prog(&r, PROG, "s22", NULL);
    json_t *f = find_kind(&r, "concurrent-read-write", 0);
    cr_assert(f, "s22 with default options: no concurrent-read-write:\n%s", r.err);
    assert_str(f, "evidence", "unordered");
    run_free(&r);
}

/* happens_before=0 leaves overlap-only detection: the calls never
 * overlap, so nothing is reported. */
Test(hb, off_leaves_overlap_only)
{
    struct run r;
    run_prog(&r, PROG, "s22", "happens_before=0");
    assert_watched_and_clean(&r, "s22 with happens_before=0");
    run_free(&r);
}

Test(hb, iteration_then_write)
{
    /* the first call of the walk in its epoch is the one remembered */
    assert_unordered("iter_then_write", "concurrent-iteration-write", "set", "iter_set", "iter_init", "iter_init");
}

Test(hb, write_then_iteration)
{
    assert_unordered("write_then_iter", "concurrent-iteration-write", "iter_init", "iter_init", "set", "iter_set");
}

Test(hb, detached_thread_fills_map_main_reads)
{
    assert_unordered("detached", "concurrent-read-write", "get", "det_get", "set", "det_set");
}

Test(hb, two_different_locks)
{
    assert_unordered("two_locks", "concurrent-writes", "set", "two_b", "set", "two_a");
}

Test(hb, write_just_after_unlock)
{
    assert_unordered("after_unlock", "concurrent-read-write", "get", "after_get", "delete", "after_unlock");
}

Test(hb, c11_two_different_mutexes)
{
    assert_unordered("c11_two_locks", "concurrent-read-write", "get", "c11_b", "set", "c11_a");
}

Test(hb, one_mutex_with_try_and_timed_locks_is_clean) { assert_clean("one_mutex"); }
Test(hb, joins_of_every_kind_are_clean) { assert_clean("joined"); }
Test(hb, c11_threads_and_mutexes_are_clean) { assert_clean("c11_clean"); }
Test(hb, annotations_order_an_atomic_flag) { assert_clean("annotated"); }
Test(hb, thread_created_before_the_first_map_then_pthread_exit) { assert_clean("early_thread_exit"); }
Test(hb, forked_child_starts_from_parent_clock) { assert_clean("forked"); }

/* ---- every other primitive: one race it must not hide, one program it
 * must keep clean ---- */

Test(hb, write_under_a_read_lock)
{
    assert_unordered("rwlock_race", "concurrent-read-write", "get", "rw_bad_get", "set", "rw_bad_set");
}
Test(hb, rwlock_every_variant_is_clean) { assert_clean("rwlock_clean"); }

Test(hb, write_after_the_signal)
{
    assert_unordered("cond_race", "concurrent-read-write", "get", "cond_late_get", "set", "cond_late_set");
}
Test(hb, cond_wait_timedwait_clockwait_are_clean) { assert_clean("cond_clean"); }
Test(hb, cnd_wait_and_timedwait_are_clean) { assert_clean("cnd_clean"); }

Test(hb, wait_on_another_semaphore)
{
    assert_unordered("sem_race", "concurrent-read-write", "get", "sem_get", "set", "sem_set");
}
Test(hb, two_posts_before_one_wait_are_clean) { assert_clean("sem_clean"); }

Test(hb, two_different_spinlocks)
{
    assert_unordered("spin_race", "concurrent-read-write", "get", "spin_get", "set", "spin_set");
}
Test(hb, one_spinlock_is_clean) { assert_clean("spin_clean"); }

Test(hb, work_after_the_same_barrier_round)
{
    assert_unordered("barrier_race", "concurrent-read-write", "get", "bar_get", "set", "bar_set");
}
Test(hb, barrier_rounds_taken_in_turns_are_clean) { assert_clean("barrier_clean"); }

Test(hb, write_after_once_returned)
{
    assert_unordered("once_race", "concurrent-read-write", "get", "once_get", "set", "once_set");
}
Test(hb, once_and_call_once_init_are_clean) { assert_clean("once_clean"); }

/* conflict_stack=1: the earlier call's whole stack, not its call site only. */
Test(hb, conflict_stack_gives_the_earlier_call_whole_stack)
{
    struct run r;
    run_prog(&r, PROG, "s22", "conflict_stack=1");
    json_t *f = find_kind(&r, "concurrent-read-write", 0);
    cr_assert(f, "no concurrent-read-write:\n%s", r.err);
    assert_str(f, "evidence", "unordered");
    json_t *c = json_object_get(f, "conflict");
    assert_str(c, "op", "get");
    assert_frame_at(json_object_get(c, "stack"), 0, PROG, "s22_get");
    cr_assert(json_array_size(json_object_get(c, "stack")) > 1, "the earlier call has more than its call site");
    cr_assert(!json_is_false(json_object_get(c, "stack_complete")), "stack_complete is not false");
    run_free(&r);
}
