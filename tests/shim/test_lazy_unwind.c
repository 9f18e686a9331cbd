/*
 * libunwind is loaded when the shim first needs a stack, not at start
 * (shim/stack.c), against tests/progs/mg_lazy_unwind.c, a program with no
 * map library: one that never captures never maps libunwind; a thread's
 * creation stack does not (it is saved raw, stack_saved.c) until the
 * saved ones run out, and then loads it; a crash before any capture still gets a
 * deadly-signal record whose first frame is the faulting line. A program
 * with libgomap loads it at start, a GLib program with its first table of
 * its own (tests/progs/gh_lazy_unwind.c), not with GLib's: every
 * deadly_in_call test crashes inside a map call before any capture and
 * needs the whole stack.
 */
#include "harness.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "mg_lazy_unwind"

/* A clean run of scenario whose stdout holds want (what it saw mapped). */
static void assert_clean_and_printed(const char *scenario, const char *want)
{
    struct run r;
    run_prog(&r, PROG, scenario, NULL);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, want), "%s: stdout: %s", scenario, r.out);
    assert_watched_and_clean(&r, scenario);
    run_free(&r);
}

Test(lazy_unwind, a_process_that_never_captures_does_not_load_libunwind)
{
    assert_clean_and_printed("idle", "unwind=0\n");
}

Test(lazy_unwind, the_first_capture_loads_libunwind)
{
    assert_clean_and_printed("thread", "before=0\nsaved=0\nafter=1\n");
}

Test(lazy_unwind, a_crash_before_any_capture_names_the_faulting_line)
{
    struct run r;
    run_prog(&r, PROG, "crash", NULL);
    cr_assert_eq(r.status, 128 + SIGSEGV, "status %d\n%s", r.status, r.err);
    cr_assert(strstr(r.out, "unwind=0\n"), "stdout: %s", r.out);
    cr_assert_eq(count_kind(&r, "deadly-signal"), 1, "%s", r.err);
    json_t *f0 = json_array_get(json_object_get(find_kind(&r, "deadly-signal", 0), "stack"), 0);
    cr_assert(f0, "no frame");
    const char *module = json_string_value(json_object_get(f0, "module"));
    const char *offset = json_string_value(json_object_get(f0, "offset"));
    cr_assert(module && strstr(module, "/" PROG) && offset, "%s", json_dumps(f0, JSON_COMPACT));
    char cmd[1024], out[1024] = "";
    snprintf(cmd, sizeof cmd, "addr2line -e '%s' %s", module, offset);
    FILE *p = popen(cmd, "r");
    cr_assert(p && fgets(out, sizeof out, p), "%s", cmd);
    pclose(p);
    char *colon = strrchr(out, ':');
    cr_assert(colon && strstr(out, PROG ".c:"), "%s: %s", cmd, out);
    cr_assert_eq(atoi(colon + 1), site_line(PROG, "fault"), "%s", out);
    run_free(&r);
}

Test(lazy_unwind, glibs_own_tables_neither_load_libunwind_nor_wake_the_engine_the_programs_do)
{
    struct run r;
    run_prog(&r, "gh_lazy_unwind", NULL, "verbosity=1");
    cr_assert_eq(r.status, 0, "%s", r.err);
    const char *glib = strstr(r.err, "start=0\nglib_table=0\n");
    const char *awake = strstr(r.err, "happens-before: awake");
    const char *own = strstr(r.err, "own_table=1\n");
    cr_assert(glib && own, "stderr: %s", r.err);
    /* and the engine woke with the program's table, not GLib's */
    cr_assert(awake && glib < awake && awake < own, "stderr: %s", r.err);
    cr_assert(!strstr(awake + 1, "happens-before: awake"), "woke twice: %s", r.err);
    cr_assert_eq(count_kind(&r, NULL), 0, "%s", r.err);
    run_free(&r);
}
