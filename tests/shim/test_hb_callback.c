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
