/*
 * Happens-before when the thread synchronizes inside a map call (a hash
 * callback that takes a lock), against mg_hb_callback.c: the hooks skip
 * the engine at entry when the history already holds the thread's access
 * in its epoch, and must still record the call on the way out once the
 * callback moved the thread to a new epoch (detect.h, mg_hook_leave).
 */
#include "harness.h"

#define PROG "mg_hb_callback"
#define HB "happens_before=1"

Test(hb_callback, release_inside_the_get_does_not_order_the_rest_of_it)
{
    struct run r;
    run_prog(&r, PROG, "callback_release_race", HB);
    json_t *f = assert_one_unordered(&r, PROG, "callback_release_race", "concurrent-read-write", "set", "cb_set", "get",
                                     "cb_get");
    cr_assert(f);
    cr_assert_eq(r.status, 66, "exit status %d", r.status);
    run_free(&r);
}

Test(hb_callback, release_after_the_get_orders_it)
{
    struct run r;
    run_prog(&r, PROG, "callback_release_clean", HB);
    assert_watched_and_clean(&r, "callback_release_clean");
    cr_assert_eq(r.status, 0, "exit status %d", r.status);
    run_free(&r);
}

/* A thread made inside a map call, while the process had one thread: the
 * call ran on the solo path, unrecorded, and is recorded at its exit
 * (interpose.c, SOLO_EXIT). The child's later read, ordered after the
 * call by nothing the engine sees, races with it. */
Test(hb_callback, a_thread_made_inside_a_solo_call_races_with_it)
{
    struct run r;
    run_prog(&r, PROG, "spawn_in_call_race", HB);
    json_t *f = assert_one_unordered(&r, PROG, "spawn_in_call_race", "concurrent-read-write", "get", "spawned_get",
                                     "set", "spawning_set");
    cr_assert(f);
    cr_assert_eq(r.status, 66, "exit status %d", r.status);
    run_free(&r);
}

Test(hb_callback, a_thread_made_inside_a_solo_call_then_ordered_is_clean)
{
    struct run r;
    run_prog(&r, PROG, "spawn_in_call_clean", HB);
    assert_watched_and_clean(&r, "spawn_in_call_clean");
    cr_assert_eq(r.status, 0, "exit status %d", r.status);
    run_free(&r);
}

/* The same with the thread made by a signal handler that interrupted the
 * call (a signal raised from inside it, so that the interruption is
 * certain). */
Test(hb_callback, a_thread_made_by_a_handler_inside_a_solo_call_races_with_it)
{
    struct run r;
    run_prog(&r, PROG, "spawn_in_handler_race", HB);
    json_t *f = assert_one_unordered(&r, PROG, "spawn_in_handler_race", "concurrent-read-write", "get", "spawned_get",
                                     "set", "spawning_set");
    cr_assert(f);
    cr_assert_eq(r.status, 66, "exit status %d", r.status);
    run_free(&r);
}
