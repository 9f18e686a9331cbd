/*
 * fork() while another thread is inside a map write, against
 * mg_fork_write.c: the writer's mark stays on the map in the child, where
 * that writer does not exist, and must not turn the child's calls into
 * races; a race between the child's own threads must still be found.
 */
#include "harness.h"

#include <stdio.h>
#include <string.h>

#define PROG "mg_fork_write"
/* generous: the parked writer is let go only after the reader is inside */
#define OPTS "conflict_wait_ms=10000"

static int child_pid(const struct run *r, int *status)
{
    const char *p = strstr(r->out, "child=");
    int pid = 0;
    cr_assert(p && sscanf(p, "child=%d status=%d", &pid, status) == 2, "stdout: %s", r->out);
    return pid;
}

static void assert_no_findings_after_fork(const char *scenario)
{
    struct run r;
    run_prog(&r, PROG, scenario, OPTS);
    assert_watched_and_clean(&r, scenario);
    int status = -1, pid = child_pid(&r, &status);
    cr_assert_eq(status, 0, "%s: the child's calls went wrong (status %d)", scenario, status);
    json_t *s = find_kind_of_pid(&r, "summary", pid);
    cr_assert(s, "%s: the child wrote no summary", scenario);
    cr_assert_eq(json_integer_value(json_object_get(s, "occurrences")), 0, "%s: the child detected something",
                 scenario);
    cr_assert_eq(r.status, 0, "%s: exit status %d\n%s", scenario, r.status, r.err);
    run_free(&r);
}

Test(fork, writer_parked_at_fork_is_no_race_in_the_child)
{
    assert_no_findings_after_fork("parked");
}

Test(fork, writer_parked_at_fork_is_no_race_in_the_child_full_path)
{
    assert_no_findings_after_fork("parked equal");
}

static void assert_child_race(const char *scenario)
{
    struct run r;
    run_prog(&r, PROG, scenario, OPTS);
    cr_assert_eq(count_kind(&r, NULL), 1, "%s: want one finding, got %zu:\n%.4000s", scenario,
                 count_kind(&r, NULL), json_dumps(r.lines, JSON_INDENT(1)));
    json_t *f = find_kind(&r, "concurrent-read-write", 0);
    cr_assert(f, "%s: no concurrent-read-write", scenario);
    int status = -1, pid = child_pid(&r, &status);
    cr_assert_eq(json_integer_value(json_object_get(f, "pid")), pid, "the finding is the child's");
    cr_assert_eq(status, 66, "the child's exit status shows its finding");
    cr_assert_eq(r.status, 0, "the parent found nothing");
    json_t *a = json_object_get(f, "access"), *c = json_object_get(f, "conflict");
    assert_frame_at(json_object_get(a, "stack"), 0, PROG, "signal_get");
    cr_assert_str_eq(json_string_value(json_object_get(c, "op")), "set");
    assert_frame_at(json_object_get(c, "stack"), 0, PROG, "park_set");
    cr_assert(json_is_true(json_object_get(c, "stack_complete")), "the child's writer handed over its stack");
    assert_frame_at(json_object_get(json_object_get(c, "thread"), "created"), 0, PROG, "create");
    run_free(&r);
}

Test(fork, race_between_the_childs_own_threads_is_found)
{
    assert_child_race("child_race");
}

/* The child's threads' creation stacks are saved from the forking
 * thread's own stack, which is not main's. */
Test(fork, race_in_the_child_of_a_fork_made_by_a_thread_is_found)
{
    assert_child_race("thread_child_race");
}

Test(fork, race_between_the_childs_own_threads_is_found_full_path)
{
    assert_child_race("child_race equal");
}
