/*
 * Correct programs produce no report at all and keep their exit status.
 */
#include "harness.h"

static void assert_silent(const char *scenario, const char *opts)
{
    struct run r;
    run_prog(&r, "mg_clean", scenario, opts);
    cr_assert_eq(json_array_size(r.lines), 0, "%s: unexpected report(s):\n%.4000s", scenario,
                 json_dumps(r.lines, JSON_INDENT(1)));
    cr_assert_eq(r.nfiles, 0, "%s: a log file was written", scenario);
    cr_assert_eq(r.status, 0, "%s: exit status %d\n%s", scenario, r.status, r.err);
    cr_assert_str_empty(r.err, "%s: stderr: %s", scenario, r.err);
    run_free(&r);
}

Test(clean, mutex) { assert_silent("mutex", NULL); }
Test(clean, rwlock_with_overlapping_readers) { assert_silent("rwlock", NULL); }
Test(clean, c11_mtx_and_thrd_create) { assert_silent("c11", NULL); }
Test(clean, fork) { assert_silent("fork", NULL); }
Test(clean, threads64) { assert_silent("threads64", NULL); }
Test(clean, create_join_handoff) { assert_silent("handoff", NULL); }
Test(clean, iter_delete_while_ranging) { assert_silent("iter_delete", NULL); }
Test(clean, value_updates_while_ranging) { assert_silent("value_updates", NULL); }
Test(clean, break_then_modify) { assert_silent("break_then_modify", NULL); }
Test(clean, nil_map_reads) { assert_silent("nil_reads", NULL); }
Test(clean, key_helpers_pass_through) { assert_silent("helpers", NULL); }
Test(clean, map_churn_through_quarantine) { assert_silent("churn", NULL); }
Test(clean, map_churn_without_quarantine) { assert_silent("churn", "quarantine_size=0"); }
Test(clean, leak_check_on_a_program_that_frees) { assert_silent("handoff", "detect_leaks=1"); }
