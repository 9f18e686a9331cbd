/*
 * Happens-before when the thread synchronizes inside a map call (a hash
 * callback that takes a lock), against mg_hb_callback.c: the hooks skip
 * the engine at entry when the history already holds the thread's access
 * in its epoch, and must still record the call on the way out once the
 * callback moved the thread to a new epoch (detect.h, mg_hook_leave).
 * And a thread made inside a map call while the process had one thread.
 */
#include "harness.h"

#define PROG "mg_hb_callback"
#define HB "happens_before=1"

/* one concurrent-read-write, unordered, with both calls' sites */
static void assert_race(const char *scenario, const char *access_op, const char *access_site,
                        const char *conflict_op, const char *conflict_site)
{
    struct run r;
    run_prog(&r, PROG, scenario, HB);
    cr_assert(assert_one_unordered(&r, PROG, scenario, "concurrent-read-write", access_op, access_site, conflict_op,
                                   conflict_site));
    cr_assert_eq(r.status, 66, "%s: exit status %d", scenario, r.status);
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

Test(hb_callback, release_inside_the_get_does_not_order_the_rest_of_it)
{
    assert_race("callback_release_race", "set", "cb_set", "get", "cb_get");
}

Test(hb_callback, release_after_the_get_orders_it) { assert_clean("callback_release_clean"); }

/* A thread made inside a map call, while the process had one thread: the
 * call ran on the solo path, unrecorded, and is recorded at its exit
 * (interpose.c, SOLO_EXIT). The child's later read, ordered after the
 * call by nothing the engine sees, races with it. */
Test(hb_callback, a_thread_made_inside_a_solo_call_races_with_it)
{
    assert_race("spawn_in_call_race", "get", "spawned_get", "set", "spawning_set");
}

Test(hb_callback, a_thread_made_inside_a_solo_call_then_ordered_is_clean) { assert_clean("spawn_in_call_clean"); }

/* The same in a call on a map with no callback, which leaves no exit to
 * record it (interpose.c, SOLO_BARE): the thread is made by the handler
 * of a fault inside the set, and the creation records the set. */
Test(hb_callback, a_thread_made_by_a_handler_inside_a_bare_solo_call_races_with_it)
{
    assert_race("spawn_in_bare_call_race", "get", "spawned_get", "set", "bare_set");
}

/* The solo path leaves a call's in-call word behind it (in_call.h): made
 * from the callback after a get on another map returned, the thread is
 * ordered after that get, and writes that other map cleanly. */
Test(hb_callback, a_thread_made_after_a_nested_solo_call_returned_is_clean)
{
    assert_clean("spawn_after_nested_call_clean");
}

/* The same with the thread made by a signal handler that interrupted the
 * call (a signal raised from inside it, so that the interruption is
 * certain). */
Test(hb_callback, a_thread_made_by_a_handler_inside_a_solo_call_races_with_it)
{
    assert_race("spawn_in_handler_race", "get", "spawned_get", "set", "spawning_set");
}
