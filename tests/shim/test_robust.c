/*
 * The shim inside programs that do awkward things with threads, locks and
 * signals (issue 12, item 10): map and lock calls from a signal handler
 * that interrupted a map call or a held lock (mg_signal_handler_calls.c),
 * fork while another thread holds a lock (mg_fork_lock_held.c), main
 * ending with pthread_exit while other threads still work
 * (mg_main_pthread_exit.c), a thread that ends inside a map write
 * (mg_ended_in_call.c), a cancel pending in a map call
 * (mg_cancel_pending.c). Each must print what it prints without the
 * shim, exit 0, finish (the harness kills a hang and fails the test), and
 * leave a log with no finding in any process.
 */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* processes: how many wrote a summary, forked children included (each was
 * watched to its end). Frees the run. */
static void check_unchanged_and_clean(struct run *r, const char *prog, const char *scenario, const char *want_out,
                                      size_t processes)
{
    assert_watched_and_clean(r, scenario);
    cr_assert_eq(count_summaries(r), processes, "%s %s: %zu summaries, want %zu", prog, scenario,
                 count_summaries(r), processes);
    cr_assert_eq(r->status, 0, "%s %s: exit status %d\nstdout:\n%s\nstderr:\n%s", prog, scenario, r->status, r->out,
                 r->err);
    cr_assert_str_eq(r->out, want_out, "%s %s: stdout", prog, scenario);
    cr_assert_str_empty(r->err, "%s %s: stderr: %s", prog, scenario, r->err);
    run_free(r);
}

static void assert_unchanged_and_clean(const char *prog, const char *scenario, const char *want_out,
                                       size_t processes)
{
    struct run r;
    run_prog(&r, prog, scenario, NULL);
    check_unchanged_and_clean(&r, prog, scenario, want_out, processes);
}

/* ---- a thread that ends inside a map call ----
 * Its write never reaches its exit; a held-out probe saw its writer mark
 * outlive it: six false overlap reports against a thread long joined, and
 * six seconds of waiting for its stack. */

Test(robust, thread_ending_in_a_hash_callback_with_pthread_exit_leaves_no_writer)
{
    assert_unchanged_and_clean("mg_ended_in_call", "exit", "len 200\n", 1);
}

Test(robust, thread_cancelled_in_a_hash_callback_leaves_no_writer)
{
    assert_unchanged_and_clean("mg_ended_in_call", "cancel", "len 200\n", 1);
}

/* ---- a cancel pending in a map call ----
 * The shim's cancellation points (a wait for the racing writer's stack,
 * naming threads from /proc, writing the report) ran with the program's
 * cancel state: a held-out probe's worker was cancelled inside a locked
 * map call, and main hung on the mutex it left held, 1 run in 30. */
Test(robust, a_pending_cancel_acts_after_the_map_call_not_inside_it)
{
    struct run r;
    run_prog(&r, "mg_cancel_pending", "locked_get", "conflict_wait_ms=300");
    cr_assert_str_eq(r.out, "reader cancelled, mutex free\n", "stdout: %s\nstderr:\n%s", r.out, r.err);
    cr_assert_eq(count_kind(&r, NULL), 1, "want the one race:\n%s", r.err);
    json_t *f = find_kind(&r, "concurrent-read-write", 0);
    cr_assert(f, "no concurrent-read-write:\n%s", r.err);
    assert_frame_at(json_object_get(json_object_get(f, "access"), "stack"), 0, "mg_cancel_pending", "pending_get");
    cr_assert_eq(r.status, 66, "exit status %d", r.status);
    run_free(&r);
}

/* ---- signal handlers ---- */

#define SIG "mg_signal_handler_calls"

Test(robust, signal_handler_map_and_lock_calls_inside_a_map_call)
{
    assert_unchanged_and_clean(SIG, "in_map",
                               "map len 100 sum 4950\n"
                               "map len 100 sum 4950\n"
                               "handler runs 40 found 40 busy 0 bad 0\n",
                               1);
}

Test(robust, signal_handler_map_and_lock_calls_while_locks_are_held)
{
    assert_unchanged_and_clean(SIG, "in_lock",
                               "map len 20\n"
                               "handler runs 80 found 80 busy 20 bad 0\n",
                               1);
}

Test(robust, signal_handler_calls_inside_a_pthread_once_init)
{
    assert_unchanged_and_clean(SIG, "in_once",
                               "once map len 2 has 2: 1, handler once ran 1\n"
                               "handler runs 1 found 1 busy 0 bad 0\n",
                               1);
}

/* The handler runs on the new thread before the shim's start routine: its
 * calls, and the thread's own after it, are ordered after everything main
 * did before pthread_create, and the thread is one thread, not two. */
Test(robust, signal_handler_at_thread_start_before_the_shims_start_routine)
{
    assert_unchanged_and_clean(SIG, "at_thread_start",
                               "thread read sum 20160\n"
                               "handler runs 1 found 1 busy 0 bad 0\n",
                               1);
}

Test(robust, signal_storm_on_a_thread_busy_with_maps_and_locks)
{
    assert_unchanged_and_clean(SIG, "storm",
                               "storm signals 2000\n"
                               "handler runs 2000 found 2000 busy 0 bad 0\n",
                               1);
}

/* A handler's sem_post while its thread is inside the engine (main's loop
 * alternates two mutexes, so every lock takes the full path): B, woken by
 * it, must be ordered after main's write before the signal (300 rounds,
 * a SIGALRM every 100 us; mg_signal_release.c). */
Test(robust, signal_handler_release_inside_the_engine_still_orders, .timeout = 120)
{
    assert_unchanged_and_clean("mg_signal_release", "semaphore", "rounds 300\n", 1);
}

/* The same with main's loop in the rwlock wrappers' engine sections. */
Test(robust, signal_handler_release_inside_an_rwlock_wrapper_still_orders, .timeout = 120)
{
    assert_unchanged_and_clean("mg_signal_release", "rwlock", "rounds 300\n", 1);
}

/* A handler taking the program's mutex, then making a map call, while
 * threads come and go: the shim's thread table lock is taken with signals
 * blocked (mg_signal_handler_calls.c says how it hung). */
Test(robust, signal_handlers_taking_a_lock_while_threads_come_and_go, .timeout = 120)
{
    assert_unchanged_and_clean(SIG, "lock_storm", "lock storm threads 3000\nhandler runs 0 found 0 busy 0 bad 0\n", 1);
}

/* ... and the same while every call is a finding (a nil-map write): the
 * report's locks, and the whole of a report, run with the asynchronous
 * signals blocked. Hung every run before. */
Test(robust, signal_handlers_taking_a_lock_while_every_call_reports, .timeout = 120)
{
    struct run r;
    run_prog(&r, SIG, "report_storm", NULL);
    cr_assert_eq(r.status, 66, "exit status %d (9: hung)\n%s", r.status, r.out);
    cr_assert(strstr(r.out, "report storm threads 900\n"), "stdout: %s", r.out);
    cr_assert_eq(count_kind(&r, "nil-map-write"), 2, "the thread's site and the handler's:\n%s", r.err);
    run_free(&r);
}

/* A handler that takes a mutex of its own while its thread waits to
 * relock the mutex it let go last: the wait's end takes the other
 * thread's clock (the handler's hint was once trusted instead, and the
 * other thread's write reported every run). */
Test(robust, a_handler_lock_during_a_blocked_relock_keeps_the_wait_ordered, .timeout = 120)
{
    assert_unchanged_and_clean(SIG, "relock_interrupted", "relock entries 5\nhandler runs 0 found 0 busy 0 bad 0\n", 1);
}

/* ---- a handler at every instruction of a lock, a write and an unlock ----
 * mg_signal_sweep single-steps its traced child into the span and runs the
 * handler there, one instruction further each round, until every
 * instruction has had its turn; the other thread then takes the same lock
 * and writes the same map. Two of these fail every run on the shim of
 * stop 30 (01eeccd), each with a false report from the lock wrappers'
 * one-compare path: mutex.post_and_read, a handler's tick between the
 * tests of mg_hb_own_remember and its read of the count (a held-out probe
 * had hit it 1 run in 800); mutex.own_mutex, a handler's own hint read
 * between the hint's test and its entry's, which no storm had hit. Each
 * round starts where the last one's handler left the thread, so a span
 * decides what states are swept: relock's (a third pair, the relock that
 * succeeds) no longer shows the first of the two. The other locks take
 * the engine's guarded paths; one sweep each keeps them so (all three
 * handlers were clean on each when this was written). */
#define SWEEP "mg_signal_sweep"
#define SWEPT(map) "map " #map "\nswept every point\n"

/* 8 to 16 s alone; two at once beside the rest of the suite took over a
 * minute once */
static void assert_swept_clean(const char *scenario, const char *want_out)
{
    struct run r;
    run_prog_long(&r, SWEEP, scenario, 170000);
    check_unchanged_and_clean(&r, SWEEP, scenario, want_out, 2);
}
/* map: the shared map's size the child prints */
#define SWEEP_TEST(name, scenario, map)                                                                            \
    Test(robust, name, .timeout = 180) { assert_swept_clean(scenario, SWEPT(map)); }

SWEEP_TEST(a_handler_posting_and_reading_at_every_instruction_of_a_mutex_pair, "mutex.post_and_read", 192)
SWEEP_TEST(a_handler_with_a_mutex_of_its_own_at_every_instruction_of_a_mutex_pair, "mutex.own_mutex", 192)
SWEEP_TEST(a_handler_taking_the_same_mutex_at_every_instruction_of_a_mutex_pair, "mutex.their_lock", 208)
SWEEP_TEST(a_handler_at_every_instruction_of_a_mutex_pair_and_its_relock, "relock.post_and_read", 192)
SWEEP_TEST(a_handler_at_every_instruction_of_an_rwlock_pair, "rwlock.post_and_read", 128)
SWEEP_TEST(a_handler_at_every_instruction_of_a_spinlock_pair, "spin.post_and_read", 192)
SWEEP_TEST(a_handler_at_every_instruction_of_a_semaphore_pair, "sem.post_and_read", 192)
SWEEP_TEST(a_handler_at_every_instruction_of_a_c11_mutex_pair, "mtx.post_and_read", 192)

/* Handlers taking mutexes of their own while threads make and destroy
 * mutexes: the engine's insert lock, one for every object, is held with
 * signals blocked (hung 1 run in 10 of this program before; 5 in 10 of
 * the held-out probe's that found it). */
Test(robust, signal_handlers_taking_locks_while_mutexes_come_and_go, .timeout = 120)
{
    assert_unchanged_and_clean(SIG, "insert_storm", "insert storm rounds 40000\nhandler runs 0 found 0 busy 0 bad 0\n", 1);
}

/* ---- fork while a lock is held ---- */

#define FORK "mg_fork_lock_held"

Test(robust, fork_while_another_thread_holds_mutex_rwlock_spinlock)
{
    assert_unchanged_and_clean(FORK, "held", "child status 0\nok\n", 2);
}

Test(robust, fork_while_another_thread_holds_a_mutex_inside_a_map_write)
{
    assert_unchanged_and_clean(FORK, "held_in_map", "child status 0\nparent map len 2\nok\n", 2);
}

Test(robust, forks_while_threads_keep_locking_and_creating_threads)
{
    assert_unchanged_and_clean(FORK, "storm", "forks 200 failed 0\nok\n", 201);
}

/* ---- pthread_exit from main ---- */

#define PEXIT "mg_main_pthread_exit"
#define PEXIT_OUT "last thread: len 20000 sum 599970000\n"

Test(robust, pthread_exit_from_main_while_threads_use_a_map_under_a_mutex)
{
    assert_unchanged_and_clean(PEXIT, "mutex", PEXIT_OUT, 1);
}

Test(robust, pthread_exit_from_main_with_detached_threads)
{
    assert_unchanged_and_clean(PEXIT, "detached", PEXIT_OUT, 1);
}

Test(robust, pthread_exit_from_main_then_a_thread_starts_more)
{
    assert_unchanged_and_clean(PEXIT, "spawner", PEXIT_OUT, 1);
}

Test(robust, thrd_exit_from_main_with_c11_threads_and_mtx)
{
    assert_unchanged_and_clean(PEXIT, "c11", PEXIT_OUT, 1);
}

/* Once main's thread has ended, /proc/PID/maps reads empty: the modules
 * must come from the calling thread's own view, or no frame has a file. */
Test(robust, a_race_after_main_has_ended_is_reported_with_both_lines)
{
    struct run r;
    run_prog(&r, PEXIT, "race", NULL);
    cr_assert_str_eq(r.out, "late read: found\n");
    assert_one_unordered(&r, PEXIT, "race", "concurrent-read-write", "get", "late_read", "set", "main_write");
    run_free(&r);
}

/* ---- threads on the smallest stacks ----
 * A report takes far more stack than PTHREAD_STACK_MIN: it is made on the
 * shim's own (report_stack.c), and the program runs on. */

#define SMALL "mg_small_stack"

/* The scenario ran to its end and made one finding, of kind. */
static json_t *small_stack_finding(struct run *r, const char *scenario, const char *kind)
{
    run_prog(r, SMALL, scenario, NULL);
    cr_assert_str_eq(r->out, "done\n", "stderr:\n%s", r->err);
    cr_assert_eq(count_kind(r, NULL), 1, "%s", r->err);
    json_t *f = find_kind(r, kind, 0);
    cr_assert(f, "%s", r->err);
    return f;
}

Test(robust, nil_write_on_a_minimal_stack_is_reported)
{
    struct run r;
    json_t *f = small_stack_finding(&r, "nil", "nil-map-write");
    assert_frame_at(json_object_get(json_object_get(f, "access"), "stack"), 0, SMALL, "small_nil");
    run_free(&r);
}

Test(robust, many_findings_on_a_minimal_stack_are_all_reported)
{
    struct run r;
    run_prog(&r, SMALL, "many", NULL);
    cr_assert_str_eq(r.out, "done\n", "stderr:\n%s", r.err);
    cr_assert_eq(count_kind(&r, "nil-map-write"), 48, "%s", r.err);
    cr_assert_eq(count_kind(&r, NULL), 48, "%s", r.err);
    run_free(&r);
}

Test(robust, unordered_race_between_minimal_stacks_is_reported_with_both_lines)
{
    struct run r;
    run_prog(&r, SMALL, "race", NULL);
    cr_assert_str_eq(r.out, "done\n", "stderr:\n%s", r.err);
    assert_one_unordered(&r, SMALL, "race", "concurrent-read-write", "get", "small_read", "set", "small_write");
    run_free(&r);
}

Test(robust, overlapping_race_between_minimal_stacks_is_reported_with_both_lines)
{
    struct run r;
    json_t *f = small_stack_finding(&r, "overlap", "concurrent-read-write");
    cr_assert_str_eq(json_string_value(json_object_get(f, "evidence")), "overlap");
    json_t *a = json_object_get(f, "access"), *c = json_object_get(f, "conflict");
    assert_frame_at(json_object_get(a, "stack"), 0, SMALL, "small_overlap_read");
    /* the writer stays parked until the report is out: its call site */
    assert_frame_at(json_object_get(c, "stack"), 0, SMALL, "small_parked_write");
    run_free(&r);
}

/* ---- the alternate signal stack ----
 * The shim gives the thread that starts it one, for the record of a stack
 * overflow; the program must not see it. */

#define ALT "mg_altstack"

Test(robust, alternate_stack_is_invisible_to_the_program)
{
    assert_unchanged_and_clean(ALT, "onstack",
                               "alternate stack: none\n"
                               "handler: 1\n"
                               "before the program's own: none\n",
                               1);
}

Test(robust, stack_overflow_is_recorded_from_the_alternate_stack)
{
    struct run r;
    run_prog(&r, ALT, "overflow", NULL);
    cr_assert_eq(r.status, 128 + SIGSEGV, "status %d\n%s", r.status, r.err);
    cr_assert_eq(count_kind(&r, "deadly-signal"), 1, "%s", r.err);
    json_t *f0 = json_array_get(json_object_get(find_kind(&r, "deadly-signal", 0), "stack"), 0);
    const char *mod = json_string_value(json_object_get(f0, "module"));
    cr_assert(mod && strstr(mod, "/" ALT), "the faulting frame is the program's: %s", mod ? mod : "(null)");
    run_free(&r);
}

/* ---- reports interrupted by a signal handler ---- */

#define SIGREP "mg_signal_reports"

Test(robust, findings_in_a_handler_that_interrupted_a_report)
{
    struct run r;
    run_prog(&r, SIGREP, "nested", NULL);
    cr_assert_str_eq(r.out, "done\n", "stderr:\n%s", r.err);
    cr_assert_eq(r.status, 66, "%d\n%s", r.status, r.err);
    /* the main loop's 32 sites at least; the handler's when they did not
     * land in a report */
    size_t n = count_kind(&r, "nil-map-write");
    cr_assert(n >= 32 && n == count_kind(&r, NULL), "%zu findings:\n%s", n, r.err);
    run_free(&r);
}

Test(robust, exit_from_a_handler_that_interrupted_a_report)
{
    struct run r;
    run_prog(&r, SIGREP, "exit", NULL);
    cr_assert_eq(r.status, 66, "the findings' status, not 5: %d\n%s", r.status, r.err);
    cr_assert(count_kind(&r, "nil-map-write") >= 1, "%s", r.err);
    run_free(&r);
}
