/*
 * Happens-before (happens_before=1, the default): races whose calls never overlap in
 * time, against mg_hb.c and mg_hb_more.c, and the synchronized programs
 * that must stay clean. Both programs sequence their racy threads with
 * atomics the shim cannot see, so every outcome here is the same on every
 * run.
 */
#include "harness.h"

#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "mg_hb"
#define HB "happens_before=1"

/* Exactly one finding of kind, in prog (its @site names are in
 * tests/progs/<prog>.c) run with opts: the later call at access_site (full
 * stack), the earlier at conflict_site (call site only), unordered. The
 * run is left in *rp for more checks (run_free it). */
static void check_unordered(struct run *rp, const char *prog, const char *scenario, const char *opts,
                            const char *kind, const char *access_op, const char *access_site,
                            const char *conflict_op, const char *conflict_site)
{
    struct run r;
    run_prog(&r, prog, scenario, opts);
    *rp = r;
    json_t *f = assert_one_unordered(&r, prog, scenario, kind, access_op, access_site, conflict_op, conflict_site);
    cr_assert(json_array_size(json_object_get(json_object_get(f, "access"), "stack")) > 1, "the access has its full stack");
}

/* ... and the program exits with the finding's status. */
static void assert_unordered_in(const char *prog, const char *scenario, const char *opts, const char *kind,
                                const char *access_op, const char *access_site, const char *conflict_op,
                                const char *conflict_site)
{
    struct run r;
    check_unordered(&r, prog, scenario, opts, kind, access_op, access_site, conflict_op, conflict_site);
    cr_assert_eq(r.status, 66, "%s: exit status %d", scenario, r.status);
    run_free(&r);
}

static void assert_unordered(const char *scenario, const char *kind, const char *access_op, const char *access_site,
                             const char *conflict_op, const char *conflict_site)
{
    assert_unordered_in(PROG, scenario, HB, kind, access_op, access_site, conflict_op, conflict_site);
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

/* A thread's first map call takes the engine's full path, its later ones
 * the inline check: the racing call here is the second thread's second. */
Test(hb, known_thread_write_after_reads)
{
    assert_unordered("known_read_write", "concurrent-read-write", "set", "known_set", "get", "known_get");
}

Test(hb, known_thread_read_after_writes)
{
    assert_unordered("known_write_read", "concurrent-read-write", "get", "known_get", "set", "known_set");
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

/* A thread taking a lock again, with nobody in between, keeps its epoch
 * (hb_relocked): not when it let go of another lock meanwhile. */
Test(hb, lock_taken_again_after_another_release)
{
    assert_unordered("relock_other_released", "concurrent-read-write", "get", "relock_read", "delete",
                     "relock_write");
}

Test(hb, lock_taken_again_by_its_holder_is_clean) { assert_clean("rehold_clean"); }

/* The one-compare paths for a thread's own mutex (hb_lockpath.h): another
 * thread's turn in between, and a clock that grew while the lock was held
 * or between two holds, must each reach the next holder. */
Test(hb, own_mutex_taken_by_another_between_two_rounds_is_clean) { assert_clean("own_between_clean"); }
Test(hb, own_mutex_carries_an_acquire_made_while_held) { assert_clean("own_acquire_held_clean"); }
Test(hb, own_mutex_carries_an_acquire_made_between_holds) { assert_clean("own_acquire_released_clean"); }
Test(hb, own_mutex_taken_again_after_a_post_is_a_new_epoch)
{
    assert_unordered("own_post_race", "concurrent-read-write", "get", "own_post_get", "set", "own_post_set");
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

/* ---- mg_hb_more.c: every op pair in both orders, and the patterns of
 * issue 12 item 9 ---- */

#define MORE "mg_hb_more"

static void assert_clean_in(const char *prog, const char *scenario, const char *opts, struct run *rp)
{
    struct run r;
    run_prog(&r, prog, scenario, opts);
    *rp = r;
    assert_watched_and_clean(&r, scenario);
    cr_assert_eq(r.status, 0, "%s: exit status %d\n%s", scenario, r.status, r.err);
}

static void assert_clean_more(const char *scenario)
{
    struct run r;
    assert_clean_in(MORE, scenario, HB, &r);
    run_free(&r);
}

/* More synchronization objects in use at once than the engine has room
 * for: the rest share one clock (more ordering, never less), and the
 * shim says so at exit, once, even with nothing found. */
Test(hb, more_objects_than_the_table_holds_is_said_at_exit)
{
    struct run r;
    run_prog(&r, MORE, "many_mutexes", HB);
    cr_assert_eq(r.status, 0, "exit status %d\n%s", r.status, r.err);
    const char *say = "synchronization objects were in use at once";
    const char *at = strstr(r.err, say);
    cr_assert(at, "no note at exit:\n%s", r.err);
    cr_assert(!strstr(at + 1, say), "said twice:\n%s", r.err);
    run_free(&r);
}

/* An int the program printed as "name=<n>" on stdout. */
static int printed(const struct run *r, const char *name)
{
    char key[64];
    snprintf(key, sizeof key, "%s=", name);
    const char *p = strstr(r->out, key);
    cr_assert(p, "stdout has no %s: %s", key, r->out);
    return atoi(p + strlen(key));
}

/* One thread makes call first, then another makes call second, ordered
 * by nothing the shim sees: every pair of gomap calls that conflict (at
 * least one writes), in both orders. Fixed-size names: Criterion copies
 * the parameters into the test's process. */
struct op_pair {
    char first[16], second[16];
};

static bool is_iter(const char *op) { return !strcmp(op, "iter_init") || !strcmp(op, "iter_next"); }
static bool is_read(const char *op) { return !strcmp(op, "get") || !strcmp(op, "lookup") || !strcmp(op, "len"); }

/* Left out: a write before iter_delete or iter_delete before iter_next.
 * The second thread's iteration must start (gomap_iter_init) or step
 * before it can delete, so the race is found at that call, and iter_delete
 * changes the map under the iteration in progress (also
 * modified-during-iteration): both are other pairs in this table. And
 * clear before iter_next: on a map with entries the clear is also a
 * modification during the iteration (two findings); on an empty one the
 * iteration ended at its init and never reads the map again, as in Go
 * (mapiternext reads nothing once mapiterinit found no entries). */
static bool pair_wanted(const char *first, const char *second)
{
    if (is_read(first) && is_read(second))
        return false;
    if (is_iter(first) && (is_iter(second) || is_read(second)))
        return false;
    if (is_read(first) && is_iter(second))
        return false;
    if (!strcmp(second, "iter_delete") && !is_read(first) && !is_iter(first))
        return false;
    if (!strcmp(first, "iter_delete") && !strcmp(second, "iter_next"))
        return false;
    if (!strcmp(first, "clear") && !strcmp(second, "iter_next"))
        return false;
    return true;
}

ParameterizedTestParameters(hb, every_op_pair_unordered)
{
    /* free only second: nothing can follow it */
    static const char *const firsts[] = {"get",    "lookup",      "len",       "set",      "assign", "delete",
                                         "clear",  "iter_delete", "iter_init", "iter_next"};
    static const char *const seconds[] = {"get",   "lookup",      "len",  "set",       "assign",   "delete",
                                          "clear", "iter_delete", "free", "iter_init", "iter_next"};
    static struct op_pair pairs[sizeof firsts / sizeof *firsts * (sizeof seconds / sizeof *seconds)];
    size_t n = 0;
    for (size_t f = 0; f < sizeof firsts / sizeof *firsts; f++)
        for (size_t g = 0; g < sizeof seconds / sizeof *seconds; g++)
            if (pair_wanted(firsts[f], seconds[g])) {
                snprintf(pairs[n].first, sizeof pairs[n].first, "%s", firsts[f]);
                snprintf(pairs[n].second, sizeof pairs[n].second, "%s", seconds[g]);
                n++;
            }
    return cr_make_param_array(struct op_pair, pairs, n);
}

ParameterizedTest(struct op_pair *p, hb, every_op_pair_unordered)
{
    const char *kind = is_iter(p->first) || is_iter(p->second)   ? "concurrent-iteration-write"
                       : !is_read(p->first) && !is_read(p->second) ? "concurrent-writes"
                                                                   : "concurrent-read-write";
    char scenario[64], access_site[32], conflict_site[32];
    snprintf(scenario, sizeof scenario, "pair %s,%s", p->first, p->second);
    snprintf(access_site, sizeof access_site, "second_%s", p->second);
    snprintf(conflict_site, sizeof conflict_site, "first_%s", p->first);
    assert_unordered_in(MORE, scenario, HB, kind, p->second, access_site, p->first, conflict_site);
}

/* Two races on one map at two pairs of lines, the second write in the
 * writer's same epoch: both reported, each with its own lines (a held-out
 * probe found the second missed). */
static void assert_two_races(const char *scenario, const char *kind, const char *read_op, const char *read_site)
{
    struct run r;
    run_prog(&r, MORE, scenario, HB);
    cr_assert_eq(count_kind(&r, NULL), 2, "%s: want two findings, got %zu:\n%s", scenario, count_kind(&r, NULL),
                 r.err);
    const char *want[2][4] = {{read_op, read_site, "set", "twice_set1"}, {"set", "twice_set2", read_op, read_site}};
    for (int i = 0; i < 2; i++) {
        json_t *f = find_kind(&r, kind, (size_t)i);
        cr_assert(f, "%s: finding %d is no %s:\n%s", scenario, i, kind, r.err);
        assert_str(f, "evidence", "unordered");
        json_t *a = json_object_get(f, "access"), *c = json_object_get(f, "conflict");
        assert_str(a, "op", want[i][0]);
        assert_frame_at(json_object_get(a, "stack"), 0, MORE, want[i][1]);
        assert_str(c, "op", want[i][2]);
        assert_frame_at(json_object_get(c, "stack"), 0, MORE, want[i][3]);
    }
    cr_assert_eq(r.status, 66, "%s: exit status %d", scenario, r.status);
    run_free(&r);
}

Test(hb, a_second_write_in_the_same_epoch_races_with_the_read_between)
{
    assert_two_races("second_race", "concurrent-read-write", "get", "twice_get");
}

Test(hb, a_second_write_in_the_same_epoch_races_with_the_iteration_between)
{
    assert_two_races("second_race_iter", "concurrent-iteration-write", "iter_init", "twice_iter");
}

/* A SIGEV_THREAD timer's callback runs on a thread libc makes: main's
 * write after the arming is not ordered before it, and timer_create ends
 * the single-threaded path (detect.h), so that write is on record when
 * the callback reads. */
Test(hb, timer_thread_read_races_with_main)
{
    assert_unordered_in(MORE, "timer_race", HB, "concurrent-read-write", "get", "told_get", "set", "timer_set");
}

/* The timer made before any map: ending the solo path there must not cost
 * the timer's thread its join of the first thread's epoch at its first
 * acquire (a probe found this clean program reported). */
Test(hb, timer_made_first_then_a_locked_read_is_clean) { assert_clean_more("timer_first_clean"); }

/* Arming a notification happens before its function runs
 * (shim/sigev_notify.c): a held-out probe found the first reported as
 * concurrent writes. */
Test(hb, timer_armed_after_the_writes_orders_its_function) { assert_clean_more("timer_arming_clean"); }
Test(hb, timer_settime_after_the_writes_orders_its_function) { assert_clean_more("timer_settime_clean"); }
Test(hb, mq_notify_after_the_writes_orders_its_function) { assert_clean_more("mq_notify_clean"); }
Test(hb, a_timer_past_the_shims_records_is_ordered_after_its_arming) { assert_clean_more("timers_past_records_clean"); }
/* libc reads an aio request's notification when it fires: no trampoline,
 * but the request orders every thread the engine meets unseen after it */
Test(hb, aio_write_after_the_writes_orders_its_function) { assert_clean_more("aio_write_clean"); }
Test(hb, lio_listio_after_the_writes_orders_its_function) { assert_clean_more("lio_listio_clean"); }
Test(hb, getaddrinfo_a_after_the_writes_orders_its_function) { assert_clean_more("getaddrinfo_a_clean"); }
/* a thread's end comes after its cleanup handlers and TSD destructors:
 * their map calls are checked, and a join orders them */
Test(hb, a_tsd_destructors_write_is_ordered_by_the_join) { assert_clean_more("tsd_destructor_joined_clean"); }
Test(hb, a_cleanup_handlers_write_is_ordered_by_the_join) { assert_clean_more("cleanup_handler_joined_clean"); }
Test(hb, a_tsd_destructors_write_races_with_an_unordered_read)
{
    assert_unordered_in(MORE, "tsd_destructor_race", HB, "concurrent-read-write", "get", "after_tsd_get", "set",
                        "tsd_set");
}
Test(hb, a_cleanup_handlers_write_races_with_an_unordered_read)
{
    assert_unordered_in(MORE, "cleanup_handler_race", HB, "concurrent-read-write", "get", "after_cleanup_get", "set",
                        "cleanup_set");
}
Test(hb, aio_function_read_races_with_a_write_after_the_request)
{
    assert_unordered_in(MORE, "aio_race", HB, "concurrent-read-write", "get", "told_get", "set", "aio_set");
}

/* condition variables */
Test(hb, cond_queue_with_spurious_wakeups_timed_and_clock_waits_is_clean) { assert_clean_more("cond_queue"); }
Test(hb, consumer_reads_without_waiting)
{
    assert_unordered_in(MORE, "cond_nowait_race", HB, "concurrent-read-write", "get", "cv_nowait_get", "set",
                        "cv_nowait_set");
}
Test(hb, timed_out_waits_order_nothing_with_a_writer_off_the_mutex)
{
    assert_unordered_in(MORE, "cond_timeout_race", HB, "concurrent-read-write", "get", "cv_timeout_get", "set",
                        "cv_timeout_set");
}

/* semaphores */
Test(hb, sem_trywait_success_is_clean) { assert_clean_more("sem_trywait_clean"); }
Test(hb, several_posts_before_one_wait_timed_and_clock_are_clean) { assert_clean_more("sem_many_posts"); }
Test(hb, write_after_the_post_waited_for)
{
    assert_unordered_in(MORE, "sem_post_before_write_race", HB, "concurrent-read-write", "get", "sem_late_get",
                        "set", "sem_late_set");
}

/* barriers */
Test(hb, barrier_rounds_with_a_new_writer_each_round_are_clean) { assert_clean_more("barrier_rounds_clean"); }
Test(hb, write_within_a_barrier_round)
{
    assert_unordered_in(MORE, "barrier_round_race", HB, "concurrent-read-write", "get", "bar_late_get", "set",
                        "bar_late_set");
}

/* read-write locks */
Test(hb, rwlock_try_timed_clock_variants_are_clean) { assert_clean_more("rwlock_variants_clean"); }
Test(hb, failed_trywrlock_orders_nothing)
{
    assert_unordered_in(MORE, "rwlock_tryfail_race", HB, "concurrent-read-write", "set", "rw_tryfail_set", "get",
                        "rw_tryfail_get");
}

/* recursive mutexes */
Test(hb, recursive_mutex_locked_twice_is_clean) { assert_clean_more("recursive_clean"); }
Test(hb, recursive_mutex_held_by_one_side_only)
{
    assert_unordered_in(MORE, "recursive_one_side_race", HB, "concurrent-read-write", "get", "rec_get", "set",
                        "rec_set");
}

/* mutexes whose owner glibc checks */
Test(hb, unlock_refused_with_eperm_orders_nothing_errorcheck)
{
    assert_unordered_in(MORE, "eperm_errorcheck_race", HB, "concurrent-writes", "set", "eperm_set_after", "set",
                        "eperm_set");
}
Test(hb, unlock_refused_with_eperm_orders_nothing_recursive)
{
    assert_unordered_in(MORE, "eperm_recursive_race", HB, "concurrent-writes", "set", "eperm_set_after", "set",
                        "eperm_set");
}
Test(hb, unlock_refused_with_eperm_orders_nothing_c11_recursive)
{
    assert_unordered_in(MORE, "eperm_c11_race", HB, "concurrent-writes", "set", "eperm_set_after", "set",
                        "eperm_set");
}
Test(hb, condition_wait_cancelled_takes_the_mutex_back_for_the_cleanup) { assert_clean_more("cond_cancel_clean"); }
Test(hb, condition_wait_refused_with_eperm_orders_nothing)
{
    assert_unordered_in(MORE, "eperm_cond_wait_race", HB, "concurrent-writes", "set", "eperm_set_after", "set",
                        "eperm_set");
}
Test(hb, condition_wait_refused_orders_nothing_c11)
{
    assert_unordered_in(MORE, "eperm_cnd_wait_race", HB, "concurrent-writes", "set", "eperm_set_after", "set",
                        "eperm_set");
}
Test(hb, condition_wait_after_its_mutexs_owner_died_is_ordered_after_it)
{
    assert_clean_more("cond_owner_died_clean");
}
Test(hb, condition_wait_after_its_mutexs_owner_died_orders_no_other_thread)
{
    assert_unordered_in(MORE, "cond_owner_died_race", HB, "concurrent-writes", "set", "after_dead_wait_set", "set",
                        "unlocked_set");
}
Test(hb, errorcheck_recursive_robust_and_priority_mutexes_order) { assert_clean_more("owned_kinds_clean"); }
Test(hb, robust_mutex_after_its_owner_died_is_ordered_after_it) { assert_clean_more("robust_owner_died_clean"); }
Test(hb, robust_mutex_after_its_owner_died_orders_no_other_thread)
{
    assert_unordered_in(MORE, "robust_owner_died_race", HB, "concurrent-writes", "set", "after_dead_set", "set",
                        "unlocked_set");
}

/* its last holder takes it back with EOWNERDEAD: the dead one in between
 * saw the epoch, which must end there */
Test(hb, robust_mutex_taken_back_after_a_holder_died_starts_a_new_epoch)
{
    assert_unordered_in(MORE, "robust_relock_race", HB, "concurrent-read-write", "get", "dead_holder_joined_get",
                        "set", "relock_set");
}
Test(hb, condition_wait_taken_back_after_a_holder_died_starts_a_new_epoch)
{
    assert_unordered_in(MORE, "robust_rewait_race", HB, "concurrent-read-write", "get", "dead_holder_joined_get",
                        "set", "relock_wait_set");
}

/* a thread pool */
Test(hb, thread_pool_with_a_work_queue_is_clean) { assert_clean_more("pool_clean"); }
Test(hb, main_reads_before_the_pool_is_done)
{
    assert_unordered_in(MORE, "pool_race", HB, "concurrent-read-write", "get", "pool_early_get", "set", "pool_set");
}

/* joins */
Test(hb, joins_that_order_only_transitively_are_clean) { assert_clean_more("transitive_join_clean"); }
Test(hb, grandchild_detached_is_not_ordered_by_the_childs_join)
{
    assert_unordered_in(MORE, "transitive_join_race", HB, "concurrent-read-write", "get", "trans_get", "set",
                        "trans_set");
}

/* reuse of thread ids and of map addresses */
Test(hb, reused_thread_ids_each_joined_are_clean)
{
    struct run r;
    assert_clean_in(MORE, "thread_id_reuse_clean", HB, &r);
    cr_assert_gt(printed(&r, "repeats"), 0, "the pthread_t values repeated");
    run_free(&r);
}
Test(hb, reused_thread_id_of_an_unjoined_thread)
{
    struct run r;
    check_unordered(&r, MORE, "thread_id_reuse_race", HB, "concurrent-writes", "set", "reuse_second_set", "set",
                    "reuse_first_set");
    cr_assert_eq(printed(&r, "same_id"), 1, "the second thread got the first one's pthread_t");
    cr_assert_eq(r.status, 66);
    run_free(&r);
}
Test(hb, map_at_a_reused_address_starts_without_history)
{
    struct run r;
    assert_clean_in(MORE, "map_addr_reuse_clean", HB ":quarantine_size=0", &r);
    cr_assert_eq(printed(&r, "reused"), 1, "the new map is at the freed one's address");
    run_free(&r);
}

/* a forked child racing with its own thread */
Test(hb, race_between_a_forked_child_and_its_thread)
{
    struct run r;
    check_unordered(&r, MORE, "fork_child_race", HB, "concurrent-read-write", "get", "child_get", "set",
                    "child_set");
    json_t *f = find_kind(&r, "concurrent-read-write", 0);
    int child = printed(&r, "child");
    cr_assert_eq(json_integer_value(json_object_get(f, "pid")), child, "the finding is the child's");
    cr_assert_eq(printed(&r, "status"), 66, "the child's exit status shows its finding");
    cr_assert_eq(r.status, 0, "the parent found nothing");
    run_free(&r);
}

/* A scenario whose forked child joins a thread and writes after it: both
 * processes clean, and the child printed key=want, what makes the case the
 * one under test. */
static void assert_child_join_clean(const char *scenario, const char *key, int want, const char *why)
{
    struct run r;
    assert_clean_in(MORE, scenario, HB, &r);
    cr_assert_eq(printed(&r, "status"), 0, "the child found nothing");
    cr_assert_eq(printed(&r, key), want, "%s", why);
    run_free(&r);
}

/* a join in a forked child, of a thread with the handle of a parent's
 * thread that the fork left behind */
Test(hb, join_in_a_forked_child_of_a_reused_handle_is_clean)
{
    assert_child_join_clean("fork_join_clean", "same_handle", 1,
                            "glibc reused the vanished thread's handle: the case under test");
}

/* a join in a forked child of a thread that ended, unjoined, before the
 * fork */
Test(hb, join_in_a_forked_child_of_a_thread_ended_before_the_fork_is_clean)
{
    assert_child_join_clean("fork_join_ended_clean", "child_join", 0, "the child joined the thread");
}

/* a parent's thread whose write no synchronization orders before the
 * fork: the child's read races with it */
Test(hb, race_between_a_forked_child_and_a_parent_thread)
{
    struct run r;
    check_unordered(&r, MORE, "fork_parent_thread_race", HB, "concurrent-read-write", "get", "forked_get", "set",
                    "parent_thread_set");
    json_t *f = find_kind(&r, "concurrent-read-write", 0);
    cr_assert_eq(json_integer_value(json_object_get(f, "pid")), printed(&r, "child"), "the finding is the child's");
    cr_assert_eq(printed(&r, "status"), 66, "the child's exit status shows its finding");
    cr_assert_eq(r.status, 0, "the parent found nothing");
    run_free(&r);
}

/* C11 threads */
Test(hb, c11_threads_mtx_cnd_call_once_recursive_are_clean) { assert_clean_more("c11_throughout_clean"); }
Test(hb, thrd_detach_then_main_reads)
{
    assert_unordered_in(MORE, "c11_detach_race", HB, "concurrent-read-write", "get", "thrd_det_get", "set",
                        "thrd_det_set");
}

/* More threads alive at once than the engine has slots (HB_SLOTS): the
 * threads past the table share one clock; under one mutex that stays
 * clean, and nothing crashes. */
Test(hb, six_hundred_threads_alive_under_one_mutex_are_clean)
{
    struct run r;
    assert_clean_in(MORE, "many_threads_clean", HB, &r);
    cr_assert_eq(printed(&r, "threads"), 600);
    run_free(&r);
}

/* ... and a race between a thread past the table and main, which never
 * synchronized with it after its write, is still found. The earlier call's
 * thread is not named: the threads past the table share one record
 * (docs/design-detector.md). */
Test(hb, race_with_a_thread_past_the_slot_table)
{
    struct run r;
    run_prog(&r, MORE, "many_threads_race", HB);
    cr_assert_eq(count_kind(&r, NULL), 1, "want one finding, got %zu:\n%s", count_kind(&r, NULL), r.err);
    json_t *f = find_kind(&r, "concurrent-read-write", 0);
    cr_assert(f, "no concurrent-read-write");
    assert_str(f, "evidence", "unordered");
    json_t *a = json_object_get(f, "access"), *c = json_object_get(f, "conflict");
    assert_str(a, "op", "get");
    assert_frame_at(json_object_get(a, "stack"), 0, MORE, "crowd_get");
    assert_str(c, "op", "set");
    assert_frame_at(json_object_get(c, "stack"), 0, MORE, "crowd_set");
    cr_assert(json_is_null(json_object_get(json_object_get(c, "thread"), "tid")), "a shared record names no thread");
    cr_assert_eq(r.status, 66, "exit status %d", r.status);
    run_free(&r);
}

/* The earlier call's thread ended, and its index went to another thread
 * once 65,534 had registered: the report must not name that other thread
 * (its tid, name and creation stack) as the writer. It names none. */
Test(hb, a_reused_thread_index_names_no_other_thread, .timeout = 240)
{
    struct run r;
    run_prog(&r, MORE, "index_reused_race", HB);
    cr_assert_eq(count_kind(&r, NULL), 1, "want one finding, got %zu:\n%s", count_kind(&r, NULL), r.err);
    json_t *f = find_kind(&r, "concurrent-read-write", 0);
    cr_assert(f, "no concurrent-read-write");
    json_t *a = json_object_get(f, "access"), *c = json_object_get(f, "conflict");
    assert_frame_at(json_object_get(a, "stack"), 0, MORE, "reused_get");
    assert_frame_at(json_object_get(c, "stack"), 0, MORE, "reused_set");
    json_t *th = json_object_get(c, "thread");
    cr_assert(json_is_null(json_object_get(th, "tid")), "the writer's index now names another thread:\n%s", r.err);
    cr_assert_null(json_object_get(th, "created"), "no creation stack of another thread");
    cr_assert_eq(r.status, 66, "exit status %d", r.status);
    run_free(&r);
}

/* A wait that began before the first map (the engine asleep) and returned
 * after main made the map, filled it and let the waiter go: the waiter
 * takes what main released (sync_intercept.c, TAKE; the barrier from the
 * second thread on). Each was reported before, every run. */
Test(hb, a_mutex_wait_from_before_the_first_map_is_ordered) { assert_clean_more("early_mutex_clean"); }
Test(hb, a_semaphore_wait_from_before_the_first_map_is_ordered) { assert_clean_more("early_sem_clean"); }
Test(hb, a_read_lock_wait_from_before_the_first_map_is_ordered) { assert_clean_more("early_rwlock_clean"); }
Test(hb, a_barrier_wait_from_before_the_first_map_is_ordered) { assert_clean_more("early_barrier_clean"); }

/* ---- synchronization made while the process had one thread ----
 * The engine skips it (happens_before.h, mg_hb_sync_live); threads that
 * come later must still be ordered after it (mg_hb_solo.c). */

#define SOLO "mg_hb_solo"

static void assert_solo_clean(const char *scenario)
{
    struct run r;
    assert_clean_in(SOLO, scenario, HB, &r);
    run_free(&r);
}

Test(hb, lock_sem_once_annotation_released_alone_then_taken_by_a_new_thread_are_clean)
{
    assert_solo_clean("alone_then_created");
}
Test(hb, released_alone_then_taken_by_a_c11_thread_is_clean) { assert_solo_clean("alone_then_c11"); }
Test(hb, lock_taken_alone_and_let_go_after_a_creation_is_clean) { assert_solo_clean("lock_across_creation"); }
Test(hb, unseen_thread_taking_a_lock_let_go_while_alone_is_clean) { assert_solo_clean("unseen_after_lock"); }
Test(hb, forked_child_of_a_single_threaded_parent_then_a_thread_is_clean) { assert_solo_clean("fork_alone"); }

Test(hb, write_after_the_creation_still_races_with_the_new_thread)
{
    assert_unordered_in(SOLO, "race_after_creation", HB, "concurrent-writes", "set", "solo_racer_set", "set",
                        "solo_main_again");
}

Test(hb, unseen_thread_unordered_with_the_first_thread_still_races)
{
    assert_unordered_in(SOLO, "unseen_race", HB, "concurrent-writes", "set", "solo_unseen_set", "set",
                        "solo_main_set");
}
