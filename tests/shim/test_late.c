/*
 * libgomap loaded with dlopen after the shim started (mg_late.c): the
 * wrappers find the real functions when the library appears, a correct
 * program runs as it does without the shim, and calls through the PLT of
 * the library that brought libgomap in are checked, as are calls through
 * dlsym(RTLD_DEFAULT, ...). Calls through dlsym(handle, ...) go straight
 * to libgomap, unchecked, as docs/design-detector.md says.
 */
#include "harness.h"

#include <string.h>

#define PROG "mg_late"

static void assert_correct_and_clean(const char *scenario, const char *out)
{
    struct run r;
    run_prog(&r, PROG, scenario, NULL);
    cr_assert_eq(r.status, 0, "%s: status %d\n%s%s", scenario, r.status, r.out, r.err);
    cr_assert_str_eq(r.out, out, "%s: the output differs from the run without the shim", scenario);
    assert_watched_and_clean(&r, scenario);
    run_free(&r);
}

Test(late_dlopen, library_linked_against_libgomap_runs_as_without_the_shim)
{
    assert_correct_and_clean("fill", "map=ok len=100\n");
}

/* While dlopen still holds the loader's lock. */
Test(late_dlopen, constructor_of_the_loaded_library)
{
    assert_correct_and_clean("ctor_self", "map=ok len=100\n");
}

/* The constructor waits for a thread that makes the calls: finding the
 * library must not wait for the loader's lock, or this never ends. */
Test(late_dlopen, thread_joined_by_the_constructor, .timeout = 30)
{
    assert_correct_and_clean("ctor_thread", "map=ok len=100\n");
}

Test(late_dlopen, calls_from_the_loaded_library_are_checked)
{
    struct run r;
    run_prog(&r, PROG, "uaf", NULL);
    cr_assert_eq(r.status, 66, "status %d\n%s%s", r.status, r.out, r.err);
    cr_assert_eq(count_kind(&r, NULL), 1);
    json_t *f = find_kind(&r, "use-after-free", 0);
    cr_assert(f, "no use-after-free:\n%s", r.err);
    assert_frame_at(json_object_get(json_object_get(f, "access"), "stack"), 0, "lib/mg_late", "late_uaf");
    run_free(&r);
}

/* dlsym(handle) hands out libgomap's own functions: correct, and unchecked
 * (a nil-map write through them is not reported). */
Test(late_dlopen, calls_through_dlsym_handle_are_not_checked)
{
    assert_correct_and_clean("handle", "handle map=ok len=100 nil_set=ENIL\n");
}

/* RTLD_DEFAULT finds the wrappers first: libgomap itself dlopen'ed, and
 * the calls checked. */
Test(late_dlopen, calls_through_dlsym_default_are_checked)
{
    struct run r;
    run_prog(&r, PROG, "default", NULL);
    cr_assert_eq(r.status, 66, "status %d\n%s%s", r.status, r.out, r.err);
    cr_assert(strstr(r.out, "default map=ok len=100\n"), "%s", r.out);
    cr_assert_eq(count_kind(&r, NULL), 1);
    json_t *f = find_kind(&r, "use-after-free", 0);
    cr_assert(f, "no use-after-free:\n%s", r.err);
    assert_frame_at(json_object_get(json_object_get(f, "access"), "stack"), 0, PROG, "default_uaf");
    run_free(&r);
}
