/*
 * OpenMP (GCC's libgomp) under the happens-before engine (shim/omp_sync.c),
 * against mg_omp.c: a map shared through each construct stays clean, and
 * the same sharing with the construct left out, or through the wrong one,
 * gives one unordered finding with both calls' lines. Before omp_sync.c,
 * libgomp's futex-based teams, barriers and locks were invisible and the
 * clean programs were reported.
 */
#include "harness.h"

#define PROG "mg_omp"

static void assert_unordered(const char *scenario, const char *kind, const char *access_op, const char *access_site,
                             const char *conflict_op, const char *conflict_site)
{
    assert_scenario_unordered(PROG, scenario, kind, access_op, access_site, conflict_op, conflict_site);
}

static void assert_clean(const char *scenario) { assert_scenario_clean(PROG, scenario, NULL); }

/* a region's start and end, and critical, across three regions */
Test(omp, parallel_regions_and_critical_order_the_team_and_the_master) { assert_clean("critical_regions_clean"); }
Test(omp, named_critical_and_ordered_order) { assert_clean("named_critical_clean"); }
Test(omp, explicit_and_implicit_barriers_order) { assert_clean("barriers_clean"); }
Test(omp, omp_locks_and_nest_locks_order) { assert_clean("locks_clean"); }
Test(omp, sections_runtime_loops_and_copyprivate_order) { assert_clean("combined_clean"); }
Test(omp, tasks_taskwait_taskgroup_taskloop_and_dependences_order) { assert_clean("tasks_clean"); }

Test(omp, team_writes_outside_critical_race)
{
    assert_unordered("unlocked_race", "concurrent-writes", "set", "omp_second_set", "set", "omp_first_set");
}
Test(omp, a_read_before_the_barrier_races)
{
    assert_unordered("no_barrier_race", "concurrent-read-write", "get", "omp_nobarrier_get", "set", "omp_before_set");
}
Test(omp, two_different_omp_locks_race)
{
    assert_unordered("two_locks_race", "concurrent-writes", "set", "omp_lock_b_set", "set", "omp_lock_a_set");
}
Test(omp, two_threads_after_the_same_barrier_round_race)
{
    assert_unordered("same_round_race", "concurrent-read-write", "set", "omp_round_set", "get", "omp_round_get");
}
Test(omp, two_tasks_running_at_once_race)
{
    assert_unordered("tasks_race", "concurrent-read-write", "set", "omp_task_set", "get", "omp_task_get");
}
