/*
 * GLib's synchronization under the happens-before engine (shim/glib_sync.c),
 * against mg_glib_sync.c: for each primitive, a map handed over through it
 * stays clean, and the same handoff broken gives one unordered finding
 * with both calls' lines. GRecMutex, GRWLock and GThread are pthread
 * underneath: their scenarios show that GLib's calls into libc reach the
 * pthread wrappers. mg_glib_sync.c sequences its racy threads with an
 * atomic flag the shim cannot see, so every outcome is the same on every
 * run.
 */
#include "harness.h"

#include <string.h>

#define PROG "mg_glib_sync"

static void assert_unordered(const char *scenario, const char *kind, const char *access_op, const char *access_site,
                             const char *conflict_op, const char *conflict_site)
{
    assert_scenario_unordered(PROG, scenario, kind, access_op, access_site, conflict_op, conflict_site);
}

static void assert_clean(const char *scenario)
{
    assert_scenario_clean(PROG, scenario, "(3: GLib's behaviour changed under the shim)");
}

/* GMutex: GLib 2.74's is an inline atomic and a futex, no pthread */
Test(glib_sync, gmutex_lock_trylock_unlock_order) { assert_clean("gmutex_clean"); }
/* released while the process had one thread (skipped), taken by a GThread */
Test(glib_sync, gmutex_once_and_queue_released_alone_then_taken_by_a_gthread) { assert_clean("alone_then_gthread"); }
Test(glib_sync, gmutex_two_mutexes_race)
{
    assert_unordered("gmutex_race", "concurrent-read-write", "get", "gmutex_get", "set", "gmutex_set");
}

/* GCond: the consumer really waits (the producer takes the mutex only once
 * the wait let it go) */
Test(glib_sync, gcond_wait_orders) { assert_clean("cond_clean"); }
Test(glib_sync, gcond_wait_until_orders) { assert_clean("cond_until_clean"); }
Test(glib_sync, gcond_write_after_unlock_races)
{
    assert_unordered("cond_race", "concurrent-read-write", "set", "cond_set", "get", "cond_get");
}

/* GAsyncQueue: every push variant against every pop variant */
Test(glib_sync, async_queue_every_variant_orders) { assert_clean("aq_clean"); }
Test(glib_sync, async_queue_write_after_push_races)
{
    assert_unordered("aq_race", "concurrent-read-write", "set", "aq_set", "get", "aq_get");
}
/* push_sorted's and sort's compare reads queued items between their push
 * and their pop */
Test(glib_sync, async_queue_sorted_compare_orders) { assert_clean("aq_sorted_clean"); }

/* GThreadPool: push before the run, every run before free with wait */
Test(glib_sync, thread_pool_push_and_free_order) { assert_clean("pool_clean"); }
Test(glib_sync, thread_pool_new_full_orders) { assert_clean("pool_full_clean"); }
Test(glib_sync, thread_pool_workers_race)
{
    assert_unordered("pool_race", "concurrent-writes", "set", "pool_set2", "set", "pool_set1");
}

/* GThread, GRecMutex, GRWLock reach the pthread wrappers */
Test(glib_sync, gthread_new_and_join_order) { assert_clean("gthread_clean"); }
Test(glib_sync, gthread_without_join_races)
{
    assert_unordered("gthread_race", "concurrent-read-write", "set", "gthread_set", "get", "gthread_get");
}
Test(glib_sync, grecmutex_orders) { assert_clean("recmutex_clean"); }
Test(glib_sync, grecmutex_two_mutexes_race)
{
    assert_unordered("recmutex_race", "concurrent-read-write", "get", "rec_get", "set", "rec_set");
}
Test(glib_sync, grwlock_orders) { assert_clean("rwlock_clean"); }
Test(glib_sync, grwlock_unlocked_read_races)
{
    assert_unordered("rwlock_race", "concurrent-read-write", "get", "rw_get", "set", "rw_set");
}

/* bit locks: each bit of the word is its own lock; the writer takes it
 * with g_*bit_lock and the reader with g_*bit_trylock, or the other way */
Test(glib_sync, bit_lock_orders) { assert_clean("bit_lock_clean"); }
Test(glib_sync, bit_trylock_orders) { assert_clean("bit_trylock_clean"); }
Test(glib_sync, pointer_bit_lock_orders) { assert_clean("pointer_bit_lock_clean"); }
Test(glib_sync, pointer_bit_trylock_orders) { assert_clean("pointer_bit_trylock_clean"); }
Test(glib_sync, bit_lock_other_bit_races)
{
    assert_unordered("bit_other_race", "concurrent-read-write", "get", "bit_get", "set", "bit_set");
}
Test(glib_sync, pointer_bit_lock_other_bit_races)
{
    assert_unordered("pointer_bit_other_race", "concurrent-read-write", "get", "bit_get", "set", "bit_set");
}

/* The main loop: g_idle_add*, g_timeout_add*, g_timeout_add_seconds*,
 * g_main_context_invoke*, g_source_attach with g_source_set_callback, a
 * repeating source; destroy notifies called once each */
Test(glib_sync, main_loop_every_variant_orders, .timeout = 30) { assert_clean("loop_clean"); }
/* each alone: together, one callback's handoff may order the next */
Test(glib_sync, idle_add_orders) { assert_clean("loop_idle"); }
Test(glib_sync, idle_add_full_orders) { assert_clean("loop_idle_full"); }
Test(glib_sync, idle_add_once_orders) { assert_clean("loop_idle_once"); }
Test(glib_sync, timeout_add_orders) { assert_clean("loop_timeout"); }
Test(glib_sync, timeout_add_full_orders) { assert_clean("loop_timeout_full"); }
Test(glib_sync, timeout_add_once_orders) { assert_clean("loop_timeout_once"); }
Test(glib_sync, timeout_add_seconds_orders, .timeout = 30) { assert_clean("loop_seconds"); }
Test(glib_sync, timeout_add_seconds_full_orders, .timeout = 30) { assert_clean("loop_seconds_full"); }
Test(glib_sync, main_context_invoke_orders) { assert_clean("loop_invoke"); }
Test(glib_sync, main_context_invoke_full_orders) { assert_clean("loop_invoke_full"); }
Test(glib_sync, source_attach_with_callback_orders) { assert_clean("loop_attach"); }
Test(glib_sync, repeating_source_orders_and_repeats) { assert_clean("loop_repeat"); }
/* a source whose callback is not a GSourceFunc (a child watch) */
Test(glib_sync, child_watch_source_orders) { assert_clean("loop_child"); }
/* the user's data stays the source's: GLib's lookups by data find it */
Test(glib_sync, sources_keep_user_data_for_lookups) { assert_clean("loop_by_data"); }
Test(glib_sync, idle_write_after_add_races)
{
    assert_unordered("idle_race", "concurrent-read-write", "set", "idle_set", "get", "idle_get");
}

/* GTask: run_in_thread, run_in_thread_sync, return_pointer and
 * return_new_error, propagate, the completion callback (reading before
 * propagate; its user data unchanged) */
Test(glib_sync, task_orders) { assert_clean("task_clean"); }
Test(glib_sync, task_write_after_return_races)
{
    assert_unordered("task_race", "concurrent-read-write", "set", "task_set", "get", "task_get");
}

/* GCancellable: cancel, then a poll that sees it (is_cancelled,
 * set_error_if_cancelled) */
Test(glib_sync, cancellable_orders_its_poller) { assert_clean("cancel_clean"); }
Test(glib_sync, cancellable_orders_the_poll_by_its_error) { assert_clean("cancel_error_clean"); }
Test(glib_sync, cancellable_write_after_cancel_races)
{
    assert_unordered("cancel_race", "concurrent-read-write", "get", "cancel_get", "set", "cancel_set");
}

/* g_once_init_enter's inline fast path: the second thread makes no call */
Test(glib_sync, once_init_fast_path_orders) { assert_clean("once_clean"); }
Test(glib_sync, once_init_write_after_leave_races)
{
    assert_unordered("once_race", "concurrent-read-write", "get", "once_get", "set", "once_set");
}
Test(glib_sync, g_once_orders) { assert_clean("gonce_clean"); }

/* libglib arriving by dlopen after start (a plugin linked against it): the
 * wrappers find their real functions then, and order as before */
Test(glib_sync, late_glib_gmutex_orders)
{
    struct run r;
    run_prog(&r, "mg_late_glib", "clean", NULL);
    assert_watched_and_clean(&r, "mg_late_glib clean");
    cr_assert_eq(r.status, 0, "exit status %d\n%s", r.status, r.err);
    run_free(&r);
}

Test(glib_sync, late_glib_two_gmutexes_race)
{
    struct run r;
    run_prog(&r, "mg_late_glib", "race", NULL);
    cr_assert_eq(count_kind(&r, NULL), 1, "want one finding, got %zu:\n%s", count_kind(&r, NULL), r.err);
    json_t *f = find_kind(&r, "concurrent-read-write", 0);
    cr_assert(f, "no concurrent-read-write:\n%s", r.err);
    assert_str(f, "evidence", "unordered");
    assert_frame_at(json_object_get(json_object_get(f, "access"), "stack"), 0, "lib/glib_late", "late_get");
    assert_frame_at(json_object_get(json_object_get(f, "conflict"), "stack"), 0, "lib/glib_late", "late_set");
    run_free(&r);
}

/* g_main_loop_quit happens before the return of the g_main_loop_run it
 * ends; a write after the quit is not ordered by it */
Test(glib_sync, main_loop_quit_orders_the_run_return) { assert_clean("loop_quit_clean"); }
Test(glib_sync, main_loop_write_after_quit_races)
{
    assert_unordered("loop_quit_race", "concurrent-read-write", "get", "quit_get", "set", "quit_set");
}

/* a context owned by one thread at a time (g_main_context_acquire and
 * release) is a lock */
Test(glib_sync, main_context_ownership_orders) { assert_clean("context_owner_clean"); }

/* a pool of one thread at a time runs its items in order, on whichever
 * thread: the first item's end happens before the second's start */
Test(glib_sync, serial_pool_items_on_two_threads_order, .timeout = 30) { assert_clean("serial_pool_clean"); }

/* a pool's sort function reads queued items in the pushing thread: each
 * before its run */
Test(glib_sync, pool_sort_function_reads_order_before_the_runs) { assert_clean("pool_sort_clean"); }

/* the last unref's destroy (a GObject's data, an atomic rc box's clear
 * function) is ordered after every earlier holder's calls; a holder's
 * write after its own unref is not */
Test(glib_sync, gobject_last_unref_orders_the_finalize) { assert_clean("gobject_unref_clean"); }
Test(glib_sync, rc_box_last_release_orders_the_clear) { assert_clean("rc_box_release_clean"); }
Test(glib_sync, gobject_write_after_own_unref_races)
{
    assert_unordered("gobject_write_after_unref_race", "concurrent-writes", "free", "unref_free", "set", "unref_set");
}
